/* fuzz_cval.c: whatever Redis hands back, and whatever a user writes as
 * the redis URL. The first byte picks the decoder; the rest is the value.
 * A decoded value stays inside the input and encodes back to the same
 * bytes; a refusal says why and leaves no password behind. */
#include <errno.h>
#include <stdint.h>

#include "aifs/cval.h"
#include "aifs/secret.h"
#include "fuzz.h"

const char fuzz_target_name[] = "cval";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *v = (const char *)data + 1;
	size_t n = size - 1, len, elen;
	char *again;

	switch (data[0] % 4) {
	case 0: {
		long st;
		int64_t ttl;
		const char *body;
		if (cval_answer_decode(v, n, &st, &ttl, &body, &len))
			return 0;
		FUZZ_CHECK(st >= 100 && st <= 999 && ttl >= 0, "status %ld ttl %lld", st, (long long)ttl);
		FUZZ_CHECK(body >= v && body + len == v + n, "the body is not the tail");
		again = cval_answer_encode(st, ttl, body, len, &elen);
		FUZZ_CHECK(again && elen == n && !memcmp(again, v, n), "no round trip");
		free(again);
		break;
	}
	case 1: {
		enum cval_label st;
		const char *t;
		if (cval_label_decode(v, n, &st, &t, &len))
			return 0;
		char *text = strndup(t, len);
		FUZZ_CHECK(text && strlen(text) == len, "a NUL in a label's text");
		again = cval_label_encode(st, text, &elen);
		FUZZ_CHECK(again && elen == n && !memcmp(again, v, n), "no round trip");
		free(again);
		free(text);
		break;
	}
	case 2: {
		char *tok;
		int64_t exp;
		if (cval_token_decode(v, n, &tok, &exp))
			return 0;
		FUZZ_CHECK(tok[0] && exp >= 0, "an empty token");
		for (const char *p = tok; *p; p++)
			FUZZ_CHECK(*p > ' ' && *p < 0x7f, "a token byte 0x%02x", (unsigned char)*p);
		secret_free(tok);
		break;
	}
	default: {
		struct redis_url u;
		char why[128], *s = strndup(v, n);
		if (!s)
			return 0;
		if (cval_url_parse(s, &u, why, sizeof why) == 0) {
			FUZZ_CHECK(u.host[0] && u.port > 0 && u.port < 65536 && u.db >= 0, "a bad URL taken");
			cval_url_clear(&u);
		} else {
			FUZZ_CHECK(why[0] && !u.password, "refused without a reason");
		}
		free(s);
	}
	}
	return 0;
}

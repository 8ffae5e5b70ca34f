/* test_provider.c: provider_request_check(), the test a create request
 * passes before it is sent: one complete JSON object, and a short reason
 * when it is not. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/provider.h"
#include "t.h"

/* The check of the first n bytes of s (n < 0: all of it); why in out. */
static int check(const char *s, long n, char *out, size_t size)
{
	return provider_request_check(s, n < 0 ? strlen(s) : (size_t)n, out, size);
}

TEST(objects_pass)
{
	static const char *const ok[] = {
		"{}",
		" \r\n\t{}\n",
		"{\"model\":\"doubao-seedance-1-0-pro-250528\",\"content\":[{\"type\":\"text\","
		"\"text\":\"a cat on a skateboard\"}],\"ratio\":\"16:9\",\"duration\":5,"
		"\"return_last_frame\":true}\n",
		"{\"creation_type\":3,\"model_code\":\"doubao-seedream-4.5\",\"ref_prompt\":"
		"\"白底产品图\",\"aspect_ratio\":\"3:4\",\"clarity\":2048,\"number_of_images\":2}",
		"{\"a\":\"\\u0000\"}",                         /* an escaped NUL is JSON */
		"{\"seed\":123456789012345678901234567890}", /* past int64 */
		"{\"a\":1,\"a\":2}",                           /* the API's to judge */
		"{\"x\":[[[[{\"y\":null}]]]],\"z\":-1.5e3}",
	};
	char why[64] = "untouched";

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (check(ok[i], -1, why, sizeof why) != 0)
			fprintf(stderr, "  case %zu: %s\n", i, why);
		CHECK_INT(check(ok[i], -1, why, sizeof why), 0);
		CHECK_STR(why, "");
	}
}

struct bad {
	const char *text;
	long len; /* < 0: strlen */
	const char *why;
};

TEST(others_refused_with_why)
{
	static const struct bad bad[] = {
		{ "", -1, "empty" },
		{ " \n\t\r ", -1, "empty" },
		{ "[{\"model\":\"m\"}]", -1, "a JSON array, not an object" },
		{ "\"{}\"", -1, "not a JSON object" },
		{ "42", -1, "not a JSON object" },
		{ "null", -1, "not a JSON object" },
		{ "model=m", -1, "not a JSON object" },
		{ "\xEF\xBB\xBF{}", -1, "a byte-order mark before the object" },
		{ "{\"model\":\"m\"", -1, "JSON ends early at byte 12" },
		{ "{\"model\":", -1, "JSON ends early at byte 9" },
		{ "{\"model\":\"doubao", -1, "JSON ends early at byte 16" },
		{ "{\"a\":tru", -1, "JSON ends early at byte 8" },
		{ "{\"a\":1e", -1, "JSON ends early at byte 7" },
		{ "{\"a\":\"\xE7\x8C", -1, "JSON ends early at byte 8" }, /* cut inside a character */
		{ "{} {}", -1, "more after the object at byte 3" },
		{ "{\"a\":1}\n{\"b\":2}\n", -1, "more after the object at byte 8" },
		{ "{}x", -1, "more after the object at byte 2" },
		{ "{}]", -1, "more after the object at byte 2" },
		{ "{\"a\":1}\0", 8, "a NUL byte at byte 7" },
		{ "{\"a\":\0}", 7, "a NUL byte at byte 5" },
		{ "{\"a\" 1}", -1, "invalid JSON at byte 6: ':' expected" },
		{ "{\"a\":'b'}", -1, "invalid JSON at byte 6: invalid token" },
		{ "{\"a\":\"\xFF\"}", -1, "invalid UTF-8 at byte 6" },
		{ "{a:1}", -1, "invalid JSON at byte 2: string or '}' expected" },
	};
	char why[64];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = check(bad[i].text, bad[i].len, why, sizeof why);

		if (rc != -EINVAL || strcmp(why, bad[i].why) != 0)
			fprintf(stderr, "  case %zu: %d \"%s\"\n", i, rc, why);
		CHECK_INT(rc, -EINVAL);
		CHECK_STR(why, bad[i].why);
	}
}

TEST(deep_nesting_and_small_buffers)
{
	size_t depth = 5000, n = 0;
	char *deep = malloc(2 * depth + 16), why[64], tiny[8];

	CHECK(deep != NULL);
	n += (size_t)sprintf(deep, "{\"a\":");
	memset(deep + n, '[', depth);
	n += depth;
	memset(deep + n, ']', depth);
	n += depth;
	deep[n++] = '}';
	CHECK_INT(provider_request_check(deep, n, why, sizeof why), -EINVAL);
	CHECK(strncmp(why, "nested too deep at byte ", 24) == 0);
	free(deep);

	/* why is cut to its size, and may be left out */
	CHECK_INT(check("{\"a\":", -1, tiny, sizeof tiny), -EINVAL);
	CHECK_STR(tiny, "JSON en");
	CHECK_INT(check("[]", -1, why, 0), -EINVAL);
	CHECK_INT(check("{}", -1, why, 0), 0);
	CHECK_INT(provider_request_check(NULL, 0, why, sizeof why), -EINVAL);
	CHECK_STR(why, "empty");
}

T_MAIN(T_CASE(objects_pass), T_CASE(others_refused_with_why), T_CASE(deep_nesting_and_small_buffers))

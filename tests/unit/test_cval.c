/* test_cval.c: what cluster mode keeps in Redis: SHA-256 against FIPS
 * 180-4's vectors, the redis:// URL, account digests, and every value's
 * encoding, round trip and refusals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/cval.h"
#include "aifs/sha256.h"
#include "aifs/secret.h"
#include "t.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

TEST(sha256_vectors)
{
	struct sha256 s;
	unsigned char d[32];
	char h[65];
	char *million = malloc(1000000);

	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_final(&s, d);
	hex(d, 32, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_init(&s);
	sha256_final(&s, d);
	hex(d, 32, h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_init(&s);
	sha256_update(&s, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	sha256_final(&s, d);
	hex(d, 32, h);
	CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK(million);
	memset(million, 'a', 1000000);
	sha256_init(&s);
	for (size_t i = 0; i < 1000000; i += 999) /* odd pieces cross the blocks */
		sha256_update(&s, million + i, i + 999 > 1000000 ? 1000000 - i : 999);
	sha256_final(&s, d);
	free(million);
	hex(d, 32, h);
	CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(url_forms)
{
	struct redis_url u;
	char why[128], shown[300];

	CHECK_INT(cval_url_parse("redis://127.0.0.1", &u, why, sizeof why), 0);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_INT(u.port, 6379);
	CHECK_INT(u.db, 0);
	CHECK(!u.password);
	cval_url_clear(&u);

	CHECK_INT(cval_url_parse("redis://:p%40ss@redis.lan:6380/3", &u, why, sizeof why), 0);
	CHECK_STR(u.host, "redis.lan");
	CHECK_INT(u.port, 6380);
	CHECK_INT(u.db, 3);
	CHECK_STR(u.password, "p@ss");
	CHECK_STR(u.user, "");
	cval_url_shown(&u, shown, sizeof shown);
	CHECK_STR(shown, "redis://***@redis.lan:6380/3");
	cval_url_clear(&u);

	CHECK_INT(cval_url_parse("redis://aifs:pw@[::1]:7000", &u, why, sizeof why), 0);
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.user, "aifs");
	CHECK_STR(u.password, "pw");
	CHECK_INT(u.port, 7000);
	cval_url_clear(&u);
}

TEST(url_refusals_never_show_the_password)
{
	static const char *bad[] = {
		"", "http://h", "redis://", "redis://:secretpw@", "redis://:secretpw@h:0",
		"redis://:secretpw@h:65536", "redis://h:12x", "redis://h/x", "redis://h/-1",
		"redis://secretpw@h", "redis://h h", "redis://h\n", "redis://[::1", "redis://h:/0",
		"redis://:%zzsecretpw@h", "redis://:a%00b@h", "redis://h/1/2",
	};
	struct redis_url u;
	char why[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		CHECK_INT(cval_url_parse(bad[i], &u, why, sizeof why), -EINVAL);
		CHECK(why[0] && !strstr(why, "secretpw"));
		CHECK(!u.password);
	}
}

TEST(accounts)
{
	char a[CVAL_ACCT_HEX + 1], b[CVAL_ACCT_HEX + 1], c[CVAL_ACCT_HEX + 1];
	const char *k1[] = { "key-1", NULL, NULL }, *k2[] = { "key-2", NULL, NULL };

	cval_account("ark", "https://x/api/v3", k1, 3, a);
	cval_account("ARK", "https://x/api/v3", k1, 3, b);
	CHECK_STR(a, b); /* the type in any case */
	CHECK_INT(strlen(a), CVAL_ACCT_HEX);
	cval_account("ark", "https://x/api/v3", k2, 3, c);
	CHECK(strcmp(a, c) != 0);
	cval_account("ark", "https://y/api/v3", k1, 3, c);
	CHECK(strcmp(a, c) != 0);
	CHECK(!strstr(a, "key"));
}

TEST(answers)
{
	size_t n, blen;
	long st;
	int64_t ttl;
	const char *body;
	char *v = cval_answer_encode(200, 10000, "{\"a\":1}\0x", 9, &n);

	CHECK(v);
	CHECK_INT(cval_answer_decode(v, n, &st, &ttl, &body, &blen), 0);
	CHECK_INT(st, 200);
	CHECK_INT(ttl, 10000);
	CHECK_INT(blen, 9);
	CHECK(!memcmp(body, "{\"a\":1}\0x", 9));
	free(v);
	static const char *bad[] = { "", "A1", "A1 200", "A1 200 5", "A2 200 5\n", "A1 99 5\n",
				     "A1 1000 5\n", "A1 -200 5\n", "A1 200 -5\n", "A1 200 5 \n",
				     "A1 200 99999999999999999999\n", "A1  200 5\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(cval_answer_decode(bad[i], strlen(bad[i]), &st, &ttl, &body, &blen), -EINVAL);
}

TEST(labels_and_tokens)
{
	enum cval_label st;
	const char *t;
	size_t n, tl;
	char *v = cval_label_encode(CVAL_LABEL_CREATED, "cgt-1", &n), *tok;
	int64_t exp;

	CHECK_INT(cval_label_decode(v, n, &st, &t, &tl), 0);
	CHECK_INT(st, CVAL_LABEL_CREATED);
	CHECK(tl == 5 && !memcmp(t, "cgt-1", 5));
	free(v);
	CHECK_INT(cval_label_decode("L1 C ", 5, &st, &t, &tl), -EINVAL);
	CHECK_INT(cval_label_decode("L1 X id", 7, &st, &t, &tl), -EINVAL);
	CHECK_INT(cval_label_decode("L1 U a\nb", 8, &st, &t, &tl), -EINVAL);

	v = cval_token_encode("tok-abc", 1900000000, &n);
	CHECK_INT(cval_token_decode(v, n, &tok, &exp), 0);
	CHECK_STR(tok, "tok-abc");
	CHECK_INT(exp, 1900000000);
	secret_free(tok);
	free(v);
	CHECK_INT(cval_token_decode("T1 5\n", 5, &tok, &exp), -EINVAL);
	CHECK_INT(cval_token_decode("T1 5\na b", 8, &tok, &exp), -EINVAL);
	CHECK_INT(cval_token_decode("T1 x\nab", 7, &tok, &exp), -EINVAL);
	CHECK(!tok);
}

T_MAIN(T_CASE(sha256_vectors), T_CASE(url_forms), T_CASE(url_refusals_never_show_the_password),
       T_CASE(accounts), T_CASE(answers), T_CASE(labels_and_tokens))

/* test_journal: label records round-trip, and every torn or foreign record
 * is refused whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/journal.h"
#include "t.h"

static struct label_rec sample(void)
{
	struct label_rec r = { .state = LABEL_CREATED, .time = 1765000000 };
	r.id = strdup("cgt-20261206093015-7xk2p");
	r.id_len = strlen(r.id);
	r.body = strdup("{\"model\":\"m\",\n\"content\":[]}\n");
	r.body_len = strlen(r.body);
	return r;
}

TEST(round_trip)
{
	struct label_rec r = sample(), back;
	char *enc, why[128];
	size_t len;
	r.error = strdup("unknown: the answer was cut\nsecond line\n");
	r.error_len = strlen(r.error);
	CHECK_INT(journal_encode(&r, &enc, &len), 0);
	CHECK_INT(journal_decode(enc, len, &back, why, sizeof why), 0);
	CHECK_INT(back.state, LABEL_CREATED);
	CHECK_INT(back.time, 1765000000);
	CHECK_STR(back.id, r.id);
	CHECK_STR(back.error, r.error);
	CHECK_INT(back.body_len, r.body_len);
	CHECK(!memcmp(back.body, r.body, r.body_len));
	free(enc);
	label_rec_clear(&back);
	label_rec_clear(&r);
}

TEST(binary_body_and_empty_body)
{
	struct label_rec r = { .state = LABEL_DRAFT, .time = 1 }, back;
	char *enc, why[128];
	size_t len;
	CHECK_INT(journal_encode(&r, &enc, &len), 0);
	CHECK_INT(journal_decode(enc, len, &back, why, sizeof why), 0);
	CHECK_INT(back.body_len, 0);
	free(enc);
	label_rec_clear(&back);
	r.body = malloc(3);
	memcpy(r.body, "\0\n\0", 3);
	r.body_len = 3;
	CHECK_INT(journal_encode(&r, &enc, &len), 0);
	CHECK_INT(journal_decode(enc, len, &back, why, sizeof why), 0);
	CHECK_INT(back.body_len, 3);
	CHECK(!memcmp(back.body, "\0\n\0", 3));
	free(enc);
	label_rec_clear(&back);
	label_rec_clear(&r);
}

TEST(every_truncation_is_refused)
{
	struct label_rec r = sample(), back;
	char *enc, why[128];
	size_t len;
	CHECK_INT(journal_encode(&r, &enc, &len), 0);
	for (size_t n = 0; n < len; n++) {
		int rc = journal_decode(enc, n, &back, why, sizeof why);
		if (rc != -EINVAL)
			fprintf(stderr, "  length %zu: %d\n", n, rc);
		CHECK_INT(rc, -EINVAL);
		CHECK(why[0]);
		CHECK(!back.body && !back.id);
	}
	free(enc);
	label_rec_clear(&r);
}

TEST(every_single_byte_change_is_noticed_or_harmless)
{
	struct label_rec r = sample(), back;
	char *enc, why[128];
	size_t len;
	CHECK_INT(journal_encode(&r, &enc, &len), 0);
	/* a flipped byte either is refused or decodes to a record of the same
	 * shape (a byte inside the body or the id); never a crash, never a
	 * record longer than what is there */
	for (size_t i = 0; i < len; i++) {
		char *c = malloc(len);
		memcpy(c, enc, len);
		c[i] ^= 0x41;
		int rc = journal_decode(c, len, &back, why, sizeof why);
		CHECK(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			CHECK(back.body_len <= len && back.id_len <= len);
		label_rec_clear(&back);
		free(c);
	}
	free(enc);
	label_rec_clear(&r);
}

TEST(foreign_records_are_refused)
{
	static const char *const bad[] = {
		"",
		"aifs-label 2\nstate draft\ntime 1\nbody 0\n\n",
		"aifs-label 1\nstate drafty\ntime 1\nbody 0\n\n",
		"aifs-label 1\nstate draft\ntime -1\nbody 0\n\n",
		"aifs-label 1\nstate draft\ntime 01\nbody 0\n\n",
		"aifs-label 1\nstate draft\ntime 1\nbody 5\nabc\n",
		"aifs-label 1\nstate draft\ntime 1\nbody 0\n\nextra",
		"aifs-label 1\nstate draft\ntime 1\nbody 99999999999999999999\n",
		"aifs-label 1\nstate draft\ntime 1\nbody 2000000\n",
		"aifs-label 1\nstate created\ntime 1\nbody 0\n\n",
		"aifs-label 1\nstate created\ntime 1\nid 3\na\0b\nbody 0\n\n",
		"aifs-label 1\ntime 1\nstate draft\nbody 0\n\n",
		"aifs-label 1\nstate draft\ntime 1\nerror 1\nxbody 0\n\n",
	};
	static const size_t lens[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 47, 0, 0 };
	struct label_rec back;
	char why[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = lens[i] ? lens[i] : strlen(bad[i]);
		int rc = journal_decode(bad[i], n, &back, why, sizeof why);
		if (rc != -EINVAL)
			fprintf(stderr, "  case %zu accepted\n", i);
		CHECK_INT(rc, -EINVAL);
	}
}

TEST(caps_are_kept)
{
	struct label_rec r = { .state = LABEL_DRAFT };
	char *enc;
	size_t len;
	r.body_len = JOURNAL_BODY_MAX + 1;
	r.body = calloc(1, r.body_len);
	CHECK_INT(journal_encode(&r, &enc, &len), -EINVAL);
	label_rec_clear(&r);
}

T_MAIN(T_CASE(round_trip), T_CASE(binary_body_and_empty_body), T_CASE(every_truncation_is_refused),
       T_CASE(every_single_byte_change_is_noticed_or_harmless), T_CASE(foreign_records_are_refused),
       T_CASE(caps_are_kept))

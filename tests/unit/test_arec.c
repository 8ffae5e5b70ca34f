/* test_arec: archive records round-trip, byte for byte; every torn,
 * foreign or out-of-cap record is refused whole, with a reason. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/arec.h"
#include "t.h"

static char *bytes(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static struct arec sample(void)
{
	static const char meta[] = "{\"id\":\"cgt-1\",\n \"x\":\"\0\xff\"}\n";
	struct arec r = {.mtime = 1765000000};
	r.provider = strdup("ark");
	r.id = strdup("cgt-20261206093015-7xk2p");
	r.id_len = strlen(r.id);
	r.status = strdup("succeeded");
	r.meta_len = sizeof meta - 1;
	r.meta = bytes(meta, r.meta_len);
	r.n_outputs = 2;
	r.outputs = calloc(2, sizeof *r.outputs);
	r.outputs[0].name = strdup("0.png");
	r.outputs[0].size = 1048576;
	r.outputs[1].name = strdup("video clip.mp4");
	r.outputs[1].size = 0;
	return r;
}

static bool same(const struct arec *a, const struct arec *b)
{
	if (strcmp(a->provider, b->provider) || a->id_len != b->id_len ||
	    memcmp(a->id, b->id, a->id_len) || strcmp(a->status, b->status) ||
	    a->mtime != b->mtime || a->meta_len != b->meta_len ||
	    (a->meta_len && memcmp(a->meta, b->meta, a->meta_len)) ||
	    a->error_len != b->error_len ||
	    (a->error_len && memcmp(a->error, b->error, a->error_len)) ||
	    a->n_outputs != b->n_outputs)
		return false;
	for (size_t i = 0; i < a->n_outputs; i++)
		if (strcmp(a->outputs[i].name, b->outputs[i].name) ||
		    a->outputs[i].size != b->outputs[i].size)
			return false;
	return true;
}

/* Encodes r, decodes the bytes, and wants the same record back and the
 * same bytes from encoding that. */
static bool round_trips(const struct arec *r)
{
	struct arec back;
	char *enc, *again, why[128];
	size_t len, alen;
	bool ok = false;

	if (arec_encode(r, &enc, &len))
		return false;
	if (arec_decode(enc, len, &back, why, sizeof why) == 0) {
		if (same(r, &back) && arec_encode(&back, &again, &alen) == 0) {
			ok = alen == len && !memcmp(again, enc, len);
			free(again);
		}
		arec_clear(&back);
	} else {
		fprintf(stderr, "  refused: %s\n", why);
	}
	free(enc);
	return ok;
}

static int decode_str(const char *s, size_t n, char *why, size_t size)
{
	struct arec r;
	int rc = arec_decode(s, n, &r, why, size);
	arec_clear(&r);
	return rc;
}

/* enc with the del bytes at the first match of at replaced by ins. */
static char *splice(const char *enc, size_t len, const char *at, size_t del, const char *ins,
		    size_t *nlen)
{
	const char *p = memmem(enc, len, at, strlen(at));
	size_t off, ilen = strlen(ins);
	char *s;
	if (!p)
		return NULL;
	off = (size_t)(p - enc);
	*nlen = len - del + ilen;
	s = malloc(*nlen);
	memcpy(s, enc, off);
	memcpy(s + off, ins, ilen);
	memcpy(s + off + ilen, enc + off + del, len - off - del);
	return s;
}

TEST(round_trip_with_binary_meta)
{
	struct arec r = sample();
	r.error = strdup("failed: content policy\nsecond line\n");
	r.error_len = strlen(r.error);
	CHECK(round_trips(&r));
	arec_clear(&r);
}

TEST(the_exact_bytes)
{
	static const char want[] = "aifs-archive 1\n"
				   "provider ark\n"
				   "id 3\ncgt\n"
				   "status succeeded\n"
				   "mtime 1765000000\n"
				   "meta 3\n{}\n\n"
				   "error 2\nx\n\n"
				   "outputs 1\n"
				   "output 42 0.png\n";
	struct arec r = {.mtime = 1765000000};
	struct arec_output o = {.name = (char *)"0.png", .size = 42};
	char *enc;
	size_t len;
	r.provider = (char *)"ark";
	r.id = (char *)"cgt";
	r.id_len = 3;
	r.status = (char *)"succeeded";
	r.meta = (char *)"{}\n";
	r.meta_len = 3;
	r.error = (char *)"x\n";
	r.error_len = 2;
	r.n_outputs = 1;
	r.outputs = &o;
	CHECK_INT(arec_encode(&r, &enc, &len), 0);
	CHECK_INT(len, sizeof want - 1);
	CHECK(!memcmp(enc, want, len));
	free(enc);
}

TEST(empty_meta_no_error_no_outputs)
{
	struct arec r = sample(), back;
	char *enc, why[128];
	size_t len;
	free(r.meta);
	r.meta = NULL;
	r.meta_len = 0;
	for (size_t i = 0; i < r.n_outputs; i++)
		free(r.outputs[i].name);
	free(r.outputs);
	r.outputs = NULL;
	r.n_outputs = 0;
	r.error = strdup(""); /* none: no error line */
	CHECK(round_trips(&r));
	CHECK_INT(arec_encode(&r, &enc, &len), 0);
	CHECK(!memmem(enc, len, "error", 5));
	CHECK_INT(arec_decode(enc, len, &back, why, sizeof why), 0);
	CHECK(!back.error && !back.meta && !back.outputs);
	free(enc);
	arec_clear(&back);
	arec_clear(&r);
}

TEST(every_truncation_is_refused)
{
	struct arec r = sample(), back;
	char *enc, why[128];
	size_t len;
	r.error = strdup("e\n");
	r.error_len = 2;
	CHECK_INT(arec_encode(&r, &enc, &len), 0);
	for (size_t n = 0; n < len; n++) {
		int rc = arec_decode(enc, n, &back, why, sizeof why);
		if (rc != -EINVAL)
			fprintf(stderr, "  length %zu: %d\n", n, rc);
		CHECK_INT(rc, -EINVAL);
		CHECK(why[0]);
		CHECK(!back.provider && !back.id && !back.status && !back.meta && !back.error &&
		      !back.outputs && !back.n_outputs);
	}
	free(enc);
	arec_clear(&r);
}

TEST(every_single_byte_change_is_refused_or_harmless)
{
	struct arec r = sample(), back;
	char *enc, *again, why[128];
	size_t len, alen;
	r.error = strdup("e\n");
	r.error_len = 2;
	CHECK_INT(arec_encode(&r, &enc, &len), 0);
	/* every other value of every byte: refused with a reason, or a record
	 * that is what those bytes say (it encodes back to them exactly) */
	for (size_t i = 0; i < len; i++) {
		char *c = malloc(len);
		for (int x = 1; x < 256; x++) {
			memcpy(c, enc, len);
			c[i] ^= (char)x;
			int rc = arec_decode(c, len, &back, why, sizeof why);
			CHECK(rc == 0 || (rc == -EINVAL && why[0]));
			if (rc)
				continue;
			CHECK_INT(arec_encode(&back, &again, &alen), 0);
			CHECK(alen == len && !memcmp(again, c, len));
			free(again);
			arec_clear(&back);
		}
		free(c);
	}
	free(enc);
	arec_clear(&r);
}

TEST(foreign_and_older_records_are_refused)
{
#define OK_HEAD "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1\n"
	static const char *const bad[] = {
	    "",
	    "aifs-archive 0\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 2\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-label 1\nstate draft\ntime 1\nbody 0\n\n",
	    "AIFS-ARCHIVE 1\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\r\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    OK_HEAD "meta 0\n\noutputs 0\nextra",
	    OK_HEAD "meta 0\n\noutputs 0\n\n",
	    OK_HEAD "meta 0\n\noutputs 0",
	    OK_HEAD "meta 0\n\noutputs 1\n",
	    OK_HEAD "meta 0\n\noutputs 01\noutput 1 a\n",
	    OK_HEAD "meta 0\n\noutputs 61\n",
	    OK_HEAD "meta 0\n\noutputs 2\noutput 1 a\noutput 2 a\n",
	    OK_HEAD "meta 0\n\noutputs 1\noutput 1\n",
	    OK_HEAD "meta 0\n\noutputs 1\noutput -1 a\n",
	    OK_HEAD "meta 0\n\noutputs 1\noutput 01 a\n",
	    OK_HEAD "meta 0\n\noutputs 1\noutput 9223372036854775808 a\n",
	    OK_HEAD "meta 0\n\noutputs 1\noutput  a\n",
	    OK_HEAD "meta 0\n\nerror 0\n\noutputs 0\n",
	    OK_HEAD "meta 0\n\nerror 3\nab\noutputs 0\n",
	    OK_HEAD "meta 5\nabc\noutputs 0\n",
	    OK_HEAD "meta 00\n\noutputs 0\n",
	    OK_HEAD "meta 4194305\n",
	    OK_HEAD "meta 99999999999999999999\n",
	    OK_HEAD "outputs 0\nmeta 0\n\n",
	    OK_HEAD "meta 0\n\noutputs 0\nerror 1\nx\n",
	    "aifs-archive 1\nprovider ark\nid 0\n\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nstatus succeeded\nid 1\nx\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nid 1\nx\nprovider ark\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1\nmeta "
	    "0\n\noutputs 0\n",
	    "aifs-archive 1\nprovider \nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs 0\n",
	    "aifs-archive 1\nprovider .ark\nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider a/b\nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark \nid 1\nx\nstatus succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus  succeeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succ\teeded\nmtime 1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus \nmtime 1\nmeta 0\n\noutputs 0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\nmtime -1\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\nmtime "
	    "9223372036854775808\nmeta 0\n\noutputs 0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\nmtime 1.5\nmeta 0\n\noutputs "
	    "0\n",
	    "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\nmeta 0\n\noutputs 0\n",
	};
#undef OK_HEAD
	struct arec back;
	char why[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = arec_decode(bad[i], strlen(bad[i]), &back, why, sizeof why);
		if (rc != -EINVAL)
			fprintf(stderr, "  case %zu accepted\n", i);
		CHECK_INT(rc, -EINVAL);
		CHECK(why[0]);
		CHECK(!back.provider && !back.n_outputs);
	}
	/* NULs where only text may be */
	static const char nul_id[] = "aifs-archive 1\nprovider ark\nid 3\na\0b\nstatus "
				     "succeeded\nmtime 1\nmeta 0\n\noutputs 0\n";
	static const char nul_name[] = "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\n"
				       "mtime 1\nmeta 0\n\noutputs 1\noutput 1 a\0b\n";
	static const char nul_status[] = "aifs-archive 1\nprovider ark\nid 1\nx\nstatus ok\0\n"
					 "mtime 1\nmeta 0\n\noutputs 0\n";
	CHECK_INT(decode_str(nul_id, sizeof nul_id - 1, why, sizeof why), -EINVAL);
	CHECK_INT(decode_str(nul_name, sizeof nul_name - 1, why, sizeof why), -EINVAL);
	CHECK_INT(decode_str(nul_status, sizeof nul_status - 1, why, sizeof why), -EINVAL);
	/* and the same head with a good tail is taken */
	static const char good[] = "aifs-archive 1\nprovider ark\nid 1\nx\nstatus succeeded\n"
				   "mtime 0\nmeta 0\n\noutputs 1\noutput 1 a b\n";
	CHECK_INT(decode_str(good, sizeof good - 1, why, sizeof why), 0);
}

/* r at a cap round-trips; one byte more is refused by encode, and the
 * at-cap bytes spliced to say one more are refused by decode. */
static bool edge(struct arec *r, const char *at, size_t del, const char *ins)
{
	char *enc, *over, why[128];
	size_t len, olen;
	bool ok;

	if (!round_trips(r) || arec_encode(r, &enc, &len))
		return false;
	over = splice(enc, len, at, del, ins, &olen);
	ok = over && decode_str(over, olen, why, sizeof why) == -EINVAL && why[0];
	if (!ok)
		fprintf(stderr, "  one over at \"%s\" was not refused\n", at);
	free(over);
	free(enc);
	return ok;
}

static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

TEST(caps_at_their_edges)
{
	struct arec r = sample();
	char *enc;
	size_t len;

	free(r.provider);
	r.provider = filled(AREC_PROVIDER_MAX, 'p');
	CHECK(edge(&r, "provider p", 10, "provider pp"));
	free(r.provider);
	r.provider = filled(AREC_PROVIDER_MAX + 1, 'p');
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	free(r.provider);
	r.provider = strdup("ark");

	free(r.id);
	r.id = filled(AREC_ID_MAX, 'i');
	r.id_len = AREC_ID_MAX;
	CHECK(edge(&r, "id 4096\n", 8, "id 4097\ni"));
	r.id_len = AREC_ID_MAX + 1;
	free(r.id);
	r.id = filled(r.id_len, 'i');
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.id_len = 0;
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.id_len = 3;

	free(r.status);
	r.status = filled(AREC_STATUS_MAX, 's');
	CHECK(edge(&r, "status s", 8, "status ss"));
	free(r.status);
	r.status = filled(AREC_STATUS_MAX + 1, 's');
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	free(r.status);
	r.status = strdup("succeeded");

	free(r.meta);
	r.meta = filled(AREC_META_MAX, 'm');
	r.meta_len = AREC_META_MAX;
	CHECK(edge(&r, "meta 4194304\n", 13, "meta 4194305\nm"));
	free(r.meta);
	r.meta_len = AREC_META_MAX + 1;
	r.meta = filled(r.meta_len, 'm');
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	free(r.meta);
	r.meta = strdup("{}\n");
	r.meta_len = 3;

	r.error = filled(AREC_ERROR_MAX, 'e');
	r.error_len = AREC_ERROR_MAX;
	CHECK(edge(&r, "error 4096\n", 11, "error 4097\ne"));
	free(r.error);
	r.error_len = AREC_ERROR_MAX + 1;
	r.error = filled(r.error_len, 'e');
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	free(r.error);
	r.error = NULL;
	r.error_len = 0;

	r.mtime = INT64_MAX;
	CHECK(edge(&r, "mtime 9223372036854775807", 25, "mtime 9223372036854775808"));
	r.mtime = -1;
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.mtime = 0;

	r.outputs[0].size = INT64_MAX;
	CHECK(edge(&r, "output 9223372036854775807", 26, "output 9223372036854775808"));
	r.outputs[0].size = (uint64_t)INT64_MAX + 1;
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.outputs[0].size = 1;

	free(r.outputs[0].name);
	r.outputs[0].name = filled(AREC_NAME_MAX, 'n');
	CHECK(edge(&r, "output 1 n", 10, "output 1 nn"));
	free(r.outputs[0].name);
	r.outputs[0].name = filled(AREC_NAME_MAX + 1, 'n');
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);

	for (size_t i = 0; i < r.n_outputs; i++)
		free(r.outputs[i].name);
	free(r.outputs);
	r.n_outputs = AREC_OUTPUTS_MAX;
	r.outputs = calloc(AREC_OUTPUTS_MAX + 1, sizeof *r.outputs);
	for (size_t i = 0; i <= AREC_OUTPUTS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof name, "%zu.png", i);
		r.outputs[i].name = strdup(name);
		r.outputs[i].size = i;
	}
	CHECK(edge(&r, "outputs 59\n", 11, "outputs 60\noutput 1 x\n"));
	r.n_outputs = AREC_OUTPUTS_MAX + 1;
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	arec_clear(&r);
}

TEST(bad_output_names_are_refused)
{
	static const char *const names[] = {"", ".", "..", "a/b", "/", "a\nb", "a\x01", "\x7f"};
	struct arec r = sample();
	char *enc, *c, why[128];
	size_t len, clen;
	char *keep = r.outputs[1].name;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		r.outputs[1].name = (char *)names[i];
		if (arec_encode(&r, &enc, &len) != -EINVAL)
			fprintf(stderr, "  name %zu encoded\n", i);
		CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	}
	r.outputs[1].name = (char *)"0.png"; /* the same name twice */
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.outputs[1].name = keep;

	/* and as bytes on disk */
	CHECK_INT(arec_encode(&r, &enc, &len), 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strchr(names[i], '\n'))
			continue; /* a new line there is a torn record, refused above */
		c = splice(enc, len, "video clip.mp4", 14, names[i], &clen);
		CHECK(c);
		CHECK_INT(decode_str(c, clen, why, sizeof why), -EINVAL);
		CHECK(why[0]);
		free(c);
	}
	c = splice(enc, len, "video clip.mp4", 14, "0.png", &clen);
	CHECK_INT(decode_str(c, clen, why, sizeof why), -EINVAL);
	CHECK(strstr(why, "twice"));
	free(c);
	free(enc);
	/* names that look odd but are one component are kept */
	r.outputs[1].name = (char *)" .. ";
	CHECK(round_trips(&r));
	r.outputs[1].name = (char *)"...";
	CHECK(round_trips(&r));
	r.outputs[1].name = keep;
	arec_clear(&r);
}

TEST(bad_fields_are_refused_by_encode)
{
	struct arec r = sample();
	char *enc;
	size_t len;
	char *keep = r.provider;
	static const char *const providers[] = {"", ".ark", "a/b", " ark", "ark ", "a\tb"};
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		r.provider = (char *)providers[i];
		CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	}
	r.provider = NULL;
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.provider = keep;
	keep = r.status;
	r.status = (char *)"succeeded\n";
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.status = (char *)"";
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	r.status = keep;
	r.id[3] = '\0';
	CHECK_INT(arec_encode(&r, &enc, &len), -EINVAL);
	arec_clear(&r);
}

T_MAIN(T_CASE(round_trip_with_binary_meta), T_CASE(the_exact_bytes),
       T_CASE(empty_meta_no_error_no_outputs), T_CASE(every_truncation_is_refused),
       T_CASE(every_single_byte_change_is_refused_or_harmless),
       T_CASE(foreign_and_older_records_are_refused), T_CASE(caps_at_their_edges),
       T_CASE(bad_output_names_are_refused), T_CASE(bad_fields_are_refused_by_encode))

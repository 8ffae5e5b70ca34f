/* test_idenc.c: task id <-> file name encoding. */
#include <stdlib.h>
#include <string.h>

#include "aifs/idenc.h"
#include "t.h"

/* encode(id) == name and decode(name) == id, NULs included */
static int roundtrip(const char *id, size_t len, const char *name)
{
	char *n = idenc_encode(id, len), *back = NULL;
	size_t blen = 0;
	int ok = n && !strcmp(n, name);

	if (ok)
		back = idenc_decode(n, &blen);
	ok = ok && back && blen == len && !memcmp(back, id, len) && back[len] == '\0';
	if (!ok)
		fprintf(stderr, "  roundtrip of \"%s\": got \"%s\"\n", name, n ? n : "(null)");
	free(n);
	free(back);
	return ok;
}

static int rejected(const char *name)
{
	size_t len = 12345;
	char *id = idenc_decode(name, &len);

	if (id)
		fprintf(stderr, "  \"%s\" decoded, should be refused\n", name);
	free(id);
	return !id && len == 12345;
}

TEST(plain_ids_pass_through)
{
	CHECK(roundtrip("cgt-20250331175019-68d9t", 24, "cgt-20250331175019-68d9t"));
	CHECK(roundtrip("58b1c892-6e40-48f9-b06f-50bdd800d3d0", 36,
			"58b1c892-6e40-48f9-b06f-50bdd800d3d0"));
	CHECK(roundtrip("a.b.", 4, "a.b."));
	CHECK(roundtrip("x", 1, "x"));
	CHECK(roundtrip(" sp ace~!", 9, " sp ace~!"));
}

TEST(spec_examples)
{
	CHECK(roundtrip("a/b", 3, "a%2Fb"));
	CHECK(roundtrip("..", 2, "%2E."));
	CHECK(roundtrip(".", 1, "%2E"));
	CHECK(roundtrip("50%", 3, "50%25"));
	CHECK(roundtrip(".git", 4, "%2Egit"));
	CHECK(roundtrip("%", 1, "%25"));
	CHECK(roundtrip("/", 1, "%2F"));
	CHECK(roundtrip("%2F", 3, "%252F"));
}

TEST(control_bytes_nul_and_del)
{
	CHECK(roundtrip("a\0b", 3, "a%00b"));
	CHECK(roundtrip("\0", 1, "%00"));
	CHECK(roundtrip("\n\t\r\x1f", 4, "%0A%09%0D%1F"));
	CHECK(roundtrip("x\x7f", 2, "x%7F"));
	CHECK(roundtrip("\x7f", 1, "%7F"));
}

TEST(utf8_and_high_bytes_pass)
{
	CHECK(roundtrip("任务-ü", 9, "任务-ü"));
	CHECK(roundtrip("\xff\x80", 2, "\xff\x80"));
}

TEST(name_limit_is_255_bytes)
{
	char id[300], expect[300], *n;

	memset(id, 'a', sizeof id);
	n = idenc_encode(id, 255);
	CHECK(n && strlen(n) == 255);
	free(n);
	CHECK(idenc_encode(id, 256) == NULL);
	/* escapes count three bytes each */
	id[0] = '/';
	n = idenc_encode(id, 253);
	CHECK(n && strlen(n) == 255);
	free(n);
	CHECK(idenc_encode(id, 254) == NULL);
	memset(expect, 'a', 256);
	expect[256] = '\0';
	CHECK(rejected(expect));
	expect[255] = '\0';
	n = idenc_decode(expect, NULL);
	CHECK(n != NULL);
	free(n);
}

TEST(empty_is_refused)
{
	CHECK(idenc_encode("", 0) == NULL);
	CHECK(idenc_encode(NULL, 0) == NULL);
	CHECK(rejected(""));
}

TEST(decode_refuses_what_encode_cannot_make)
{
	CHECK(rejected("%"));       /* truncated escapes */
	CHECK(rejected("%2"));
	CHECK(rejected("a%"));
	CHECK(rejected("a%2"));
	CHECK(rejected("%2f"));     /* lower-case hex */
	CHECK(rejected("%0a"));
	CHECK(rejected("%G0"));     /* not hex */
	CHECK(rejected("%-1"));
	CHECK(rejected("% 1"));
	CHECK(rejected("%41"));     /* 'A' needs no escape */
	CHECK(rejected("a%2E"));    /* '.' needs one only in front */
	CHECK(rejected("%80"));     /* high bytes pass as they are */
	CHECK(rejected("%20"));     /* so does space */
	CHECK(rejected("."));       /* a leading raw '.' */
	CHECK(rejected(".."));
	CHECK(rejected(".git"));
	CHECK(rejected("a\tb"));    /* raw control bytes */
	CHECK(rejected("\x7f"));
	CHECK(rejected("a\x01"));
}

TEST(every_single_byte_id_roundtrips)
{
	for (int c = 0; c < 256; c++) {
		char id[2] = { (char)c, 'z' }, *n, *back;
		size_t len;

		for (size_t l = 1; l <= 2; l++) {
			n = idenc_encode(id, l);
			CHECK(n);
			back = idenc_decode(n, &len);
			CHECK(back && len == l && !memcmp(back, id, l));
			free(back);
			free(n);
		}
	}
}

/* Every two-byte name decodes to an id that encodes back to it, or is
 * refused: so no two names share an id. */
TEST(decode_is_one_to_one)
{
	for (int a = 1; a < 256; a++) {
		for (int b = 0; b < 256; b++) {
			char name[3] = { (char)a, (char)b, 0 }, *id, *n;
			size_t len;

			id = idenc_decode(name, &len);
			if (!id)
				continue;
			n = idenc_encode(id, len);
			CHECK(n && !strcmp(n, name));
			free(n);
			free(id);
		}
	}
	for (int x = 0; x < 256; x++) {
		char name[4], *id, *n;
		size_t len;

		snprintf(name, sizeof name, "%%%02X", x);
		id = idenc_decode(name, &len);
		CHECK(!!id == (x < 0x20 || x == '%' || x == '/' || x == '.' || x == 0x7f));
		if (id) {
			n = idenc_encode(id, len);
			CHECK(n && !strcmp(n, name));
			free(n);
		}
		free(id);
	}
}

T_MAIN(T_CASE(plain_ids_pass_through), T_CASE(spec_examples), T_CASE(control_bytes_nul_and_del),
       T_CASE(utf8_and_high_bytes_pass), T_CASE(name_limit_is_255_bytes), T_CASE(empty_is_refused),
       T_CASE(decode_refuses_what_encode_cannot_make), T_CASE(every_single_byte_id_roundtrips),
       T_CASE(decode_is_one_to_one))

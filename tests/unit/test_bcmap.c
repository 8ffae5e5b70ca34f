/* test_bcmap.c: the blob cache's map format. Maps the cache wrote
 * (tests/fixtures/maps/ok-*.map) decode and encode back byte for byte;
 * each bad-*.map there is refused with the reason its bad-*.err gives;
 * every truncation, extension and flipped bit of a good map is refused;
 * the limits hold at their edges; maps round-trip. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/bcmap.h"
#include "aifs/err.h"
#include "t.h"
#include "tfix.h"

#define MIB ((uint64_t)BCMAP_CHUNK)

/* What each map in the fixtures holds; hash is the name it had on disk. */
struct golden {
	const char *file;
	const char *key;
	size_t key_len;
	uint64_t hash, size;
	const char *validator;
	uint64_t chunks; /* bit i: chunk i present */
};

static const struct golden goldens[] = {
    {"ok-empty.map", "", 0, 0xcbf29ce484222325ull, 0, "", 0},
    {"ok-partial.map", "volc\0cgt-2024\0video.mp4", 23, 0x052e0070c0358456ull, 3 * MIB - 1,
     "\"etag-1\"", 0x5},
    {"ok-complete.map", "ark\0t-9\0image-1.png", 19, 0xd692b9169e2b1c97ull, 9 * MIB - 7,
     "Wed, 21 Oct 2015 07:28:00 GMT", 0x1ff},
    {"ok-none.map", "k", 1, 0xaf63e64c8601fd8aull, 5 * MIB, "", 0},
};
#define N_GOLDEN (sizeof goldens / sizeof goldens[0])

static uint8_t *read_map(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof path, FIXTURE("maps/%s"), name);
	return (uint8_t *)tfix_read(path, len);
}

/* 0 when buf is refused as a bad message and m is left empty. */
static int refused(const uint8_t *buf, size_t len, struct aifs_err *err)
{
	struct bcmap m;
	int rc = bcmap_decode(buf, len, &m, err);

	if (rc != -EBADMSG || m.key || m.validator || m.bits || m.size || m.key_len) {
		if (!rc)
			bcmap_clear(&m);
		return -1;
	}
	return 0;
}

static int is_zero(const struct bcmap *m)
{
	return !m->key && !m->validator && !m->bits && !m->size && !m->key_len;
}

/* Writes the last 8 bytes as the checksum of the rest. */
static void reseal(uint8_t *buf, size_t len)
{
	uint64_t h = bcmap_hash(buf, len - 8);

	for (int i = 0; i < 8; i++)
		buf[len - 8 + i] = (uint8_t)(h >> 8 * i);
}

static void put32(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* A map with a consistent length and checksum whatever its fields, which
 * bcmap_encode would refuse to write: klen bytes 'k', vlen bytes 'v', no
 * chunk present. Returns a new buffer; free with free(). */
static uint8_t *raw_map(uint64_t size, size_t klen, size_t vlen, size_t *len)
{
	uint8_t *buf, *enc;
	size_t elen;

	if (bcmap_encode("", 0, "", 0, NULL, &enc, &elen))
		return NULL;
	*len = bcmap_len(klen, vlen, size);
	if (!(buf = calloc(1, *len))) {
		free(enc);
		return NULL;
	}
	memcpy(buf, enc, 16); /* magic, version, chunk size */
	free(enc);
	for (int i = 0; i < 8; i++)
		buf[16 + i] = (uint8_t)(size >> 8 * i);
	put32(buf + 24, klen);
	put32(buf + 28, vlen);
	memset(buf + BCMAP_HDR, 'k', klen);
	memset(buf + BCMAP_HDR + klen, 'v', vlen);
	reseal(buf, *len);
	return buf;
}

/* ---- tests ---- */

TEST(golden_maps_decode_and_encode_back)
{
	for (size_t i = 0; i < N_GOLDEN; i++) {
		const struct golden *g = &goldens[i];
		uint64_t n = bcmap_nchunks(g->size);
		struct aifs_err err;
		struct bcmap m;
		uint8_t *buf, *again;
		size_t len, alen;

		CHECK((buf = read_map(g->file, &len)));
		CHECK_INT(bcmap_decode(buf, len, &m, &err), 0);
		CHECK_INT(m.size, g->size);
		CHECK_INT(m.key_len, g->key_len);
		CHECK(!memcmp(m.key, g->key, g->key_len) && m.key[g->key_len] == '\0');
		CHECK_STR(m.validator, g->validator);
		CHECK(bcmap_hash(m.key, m.key_len) == g->hash);
		for (uint64_t ch = 0; ch < n; ch++)
			CHECK_INT(bcmap_bit(m.bits, ch), g->chunks >> ch & 1);
		CHECK_INT(bcmap_count(m.bits, n), __builtin_popcountll(g->chunks));
		CHECK_INT(len, bcmap_len(m.key_len, strlen(m.validator), m.size));

		CHECK_INT(
		    bcmap_encode(m.key, m.key_len, m.validator, m.size, m.bits, &again, &alen), 0);
		CHECK_INT(alen, len);
		CHECK(!memcmp(again, buf, len));
		free(again);
		bcmap_clear(&m);
		CHECK(is_zero(&m));
		free(buf);
	}
}

/* Data-driven, as jansson's invalid inputs: each bad-NAME.map with the
 * reason, one line, in bad-NAME.err; each ok-NAME.map one of goldens. */
TEST(fixture_maps_are_judged_as_labelled)
{
	DIR *d = opendir(FIXTURE("maps"));
	struct dirent *de;
	int bad = 0, ok = 0;

	CHECK(d);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name), len, elen;
		struct aifs_err err;
		struct bcmap m;
		char errname[300];
		char *want;
		uint8_t *buf;

		if (n < 4 || strcmp(de->d_name + n - 4, ".map"))
			continue;
		CHECK((buf = read_map(de->d_name, &len)));
		if (!strncmp(de->d_name, "ok-", 3)) {
			size_t i = 0;
			while (i < N_GOLDEN && strcmp(goldens[i].file, de->d_name))
				i++;
			if (i == N_GOLDEN)
				fprintf(stderr, "  %s: not among the goldens\n", de->d_name);
			CHECK(i < N_GOLDEN);
			CHECK_INT(bcmap_decode(buf, len, &m, &err), 0);
			bcmap_clear(&m);
			ok++;
		} else {
			CHECK(!strncmp(de->d_name, "bad-", 4));
			snprintf(errname, sizeof errname, "%.*s.err", (int)(n - 4), de->d_name);
			CHECK((want = (char *)read_map(errname, &elen)));
			CHECK(elen > 1 && want[elen - 1] == '\n');
			want[elen - 1] = '\0';
			aifs_err_clear(&err);
			if (refused(buf, len, &err))
				fprintf(stderr, "  %s: not refused\n", de->d_name);
			CHECK(refused(buf, len, &err) == 0);
			CHECK_INT(err.code, -EBADMSG);
			if (strcmp(err.msg, want))
				fprintf(stderr, "  %s\n", de->d_name);
			CHECK_STR(err.msg, want);
			free(want);
			bad++;
		}
		free(buf);
	}
	closedir(d);
	CHECK_INT(ok, N_GOLDEN);
	CHECK(bad >= 12);
}

TEST(every_truncation_and_extension_is_refused)
{
	for (size_t i = 0; i < N_GOLDEN; i++) {
		struct aifs_err err;
		uint8_t *buf, *cut, *longer;
		size_t len;

		CHECK((buf = read_map(goldens[i].file, &len)));
		for (size_t n = 0; n < len; n++) {
			/* an exact-size copy, so reading past the end is caught */
			CHECK((cut = malloc(n ? n : 1)));
			memcpy(cut, buf, n);
			if (refused(cut, n, &err))
				fprintf(stderr, "  %s cut at %zu\n", goldens[i].file, n);
			CHECK(refused(cut, n, &err) == 0);
			free(cut);
		}
		CHECK((longer = calloc(1, len + 8)));
		memcpy(longer, buf, len);
		CHECK(refused(longer, len + 1, &err) == 0); /* one byte more */
		reseal(longer, len + 8);
		CHECK(refused(longer, len + 8, &err) == 0); /* 8 more, checksum right */
		free(longer);
		free(buf);
	}
}

TEST(every_flipped_bit_is_refused)
{
	for (size_t i = 0; i < N_GOLDEN; i++) {
		struct aifs_err err;
		uint8_t *buf;
		size_t len;

		CHECK((buf = read_map(goldens[i].file, &len)));
		for (size_t bit = 0; bit < 8 * len; bit++) {
			buf[bit / 8] ^= (uint8_t)(1u << bit % 8);
			if (refused(buf, len, &err))
				fprintf(stderr, "  %s bit %zu\n", goldens[i].file, bit);
			CHECK(refused(buf, len, &err) == 0);
			buf[bit / 8] ^= (uint8_t)(1u << bit % 8);
		}
		free(buf);
	}
}

TEST(limits_hold_at_their_edges)
{
	struct aifs_err err;
	struct bcmap m;
	uint8_t *buf;
	char *big;
	size_t len;

	/* accepted at the cap, refused one past it, with the length right */
	CHECK((buf = raw_map(BCMAP_SIZE_MAX, 0, 0, &len)));
	CHECK_INT(len, BCMAP_LEN_MIN + (BCMAP_SIZE_MAX / MIB) / 8);
	CHECK_INT(bcmap_decode(buf, len, &m, &err), 0);
	CHECK_INT(bcmap_count(m.bits, bcmap_nchunks(m.size)), 0);
	bcmap_clear(&m);
	free(buf);
	CHECK((buf = raw_map(BCMAP_SIZE_MAX + 1, 0, 0, &len)));
	CHECK(refused(buf, len, &err) == 0);
	CHECK_STR(err.msg, "file size 1099511627777 over the cap");
	free(buf);

	CHECK((buf = raw_map(MIB, BCMAP_KEY_MAX, 0, &len)));
	CHECK_INT(bcmap_decode(buf, len, &m, &err), 0);
	CHECK_INT(m.key_len, BCMAP_KEY_MAX);
	bcmap_clear(&m);
	free(buf);
	CHECK((buf = raw_map(MIB, BCMAP_KEY_MAX + 1, 0, &len)));
	CHECK(refused(buf, len, &err) == 0);
	CHECK_STR(err.msg, "key length 4097 over the cap");
	free(buf);

	CHECK((buf = raw_map(MIB, 1, BCMAP_VAL_MAX, &len)));
	CHECK_INT(bcmap_decode(buf, len, &m, &err), 0);
	CHECK_INT(strlen(m.validator), BCMAP_VAL_MAX);
	bcmap_clear(&m);
	free(buf);
	CHECK((buf = raw_map(MIB, 1, BCMAP_VAL_MAX + 1, &len)));
	CHECK(refused(buf, len, &err) == 0);
	CHECK_STR(err.msg, "validator length 1025 over the cap");
	free(buf);

	/* what the decoder refuses, the encoder will not write */
	CHECK((big = malloc(BCMAP_KEY_MAX + 2)));
	memset(big, 'x', BCMAP_KEY_MAX + 1);
	big[BCMAP_KEY_MAX + 1] = '\0';
	CHECK_INT(bcmap_encode(big, BCMAP_KEY_MAX + 1, "", 0, NULL, &buf, &len), -ENAMETOOLONG);
	CHECK(!buf && !len);
	big[BCMAP_VAL_MAX + 1] = '\0';
	CHECK_INT(bcmap_encode("k", 1, big, 0, NULL, &buf, &len), -EINVAL);
	big[BCMAP_VAL_MAX] = '\0';
	CHECK_INT(bcmap_encode("k", 1, big, 0, NULL, &buf, &len), 0);
	free(buf);
	free(big);
	CHECK_INT(bcmap_encode("k", 1, "", BCMAP_SIZE_MAX + 1, NULL, &buf, &len), -EFBIG);
	CHECK_INT(bcmap_encode(NULL, 1, "", 0, NULL, &buf, &len), -EINVAL);
	CHECK_INT(bcmap_check(NULL, 0, 0, ""), 0);
}

TEST(maps_round_trip)
{
	static const uint64_t sizes[] = {0,	  1,	       MIB - 1,	     MIB,     MIB + 1,
					 8 * MIB, 8 * MIB + 1, 17 * MIB - 3, 64 * MIB};
	static const char key[] = "prov\0id\0out/../../etc\0";

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		uint64_t n = bcmap_nchunks(sizes[i]), want = 0;
		uint8_t bits[16] = {0}, *buf;
		struct aifs_err err;
		struct bcmap m;
		size_t len;

		for (uint64_t ch = 0; ch < n; ch++)
			if (ch % 3 != 1) {
				bcmap_set(bits, ch);
				want++;
			}
		CHECK_INT(bcmap_count(bits, n), want);
		CHECK_INT(bcmap_encode(key, sizeof key, "W/\"x\"", sizes[i], bits, &buf, &len), 0);
		CHECK_INT(len, bcmap_len(sizeof key, 5, sizes[i]));
		CHECK_INT(bcmap_decode(buf, len, &m, &err), 0);
		CHECK_INT(m.size, sizes[i]);
		CHECK(m.key_len == sizeof key && !memcmp(m.key, key, sizeof key));
		CHECK_STR(m.validator, "W/\"x\"");
		CHECK(!memcmp(m.bits, bits, bcmap_bitmap_len(n)));
		bcmap_clear(&m);
		free(buf);
	}
}

T_MAIN(T_CASE(golden_maps_decode_and_encode_back), T_CASE(fixture_maps_are_judged_as_labelled),
       T_CASE(every_truncation_and_extension_is_refused), T_CASE(every_flipped_bit_is_refused),
       T_CASE(limits_hold_at_their_edges), T_CASE(maps_round_trip))

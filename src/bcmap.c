/* bcmap.c: the blob cache's map, encoded and decoded (the layout is in
 * bcmap.h).
 *
 * The decoder trusts nothing it reads: every length is bounded before it is
 * used, the whole map must be exactly as long as its header says, and the
 * checksum must match; a validator may hold no NUL (it comes back as a C
 * string) and no bit may be set past the last chunk. Knows no files, no
 * locks and no index. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/bcmap.h"
#include "aifs/err.h"

#define BCMAP_MAGIC	"aifsmap\n"
#define BCMAP_FNV_BASIS 0xcbf29ce484222325ull

uint64_t bcmap_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = BCMAP_FNV_BASIS;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t bcmap_nchunks(uint64_t size)
{
	return (size + BCMAP_CHUNK - 1) / BCMAP_CHUNK;
}

size_t bcmap_bitmap_len(uint64_t nchunks)
{
	return (size_t)((nchunks + 7) / 8);
}

size_t bcmap_len(size_t key_len, size_t val_len, uint64_t size)
{
	return BCMAP_HDR + key_len + val_len + bcmap_bitmap_len(bcmap_nchunks(size)) + 8;
}

bool bcmap_bit(const uint8_t *bits, uint64_t chunk)
{
	return bits[chunk / 8] >> (chunk % 8) & 1;
}

void bcmap_set(uint8_t *bits, uint64_t chunk)
{
	bits[chunk / 8] |= (uint8_t)(1u << chunk % 8);
}

uint64_t bcmap_count(const uint8_t *bits, uint64_t nchunks)
{
	uint64_t n = 0;

	for (size_t i = 0; i < bcmap_bitmap_len(nchunks); i++)
		n += (uint64_t)__builtin_popcount(bits[i]);
	return n;
}

static void bcmap_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static uint64_t bcmap_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

int bcmap_check(const char *key, size_t key_len, uint64_t size, const char *validator)
{
	if (!key && key_len)
		return -EINVAL;
	if (key_len > BCMAP_KEY_MAX)
		return -ENAMETOOLONG;
	if (size > BCMAP_SIZE_MAX)
		return -EFBIG;
	return strlen(validator) > BCMAP_VAL_MAX ? -EINVAL : 0;
}

int bcmap_encode(const char *key, size_t key_len, const char *validator, uint64_t size,
		 const uint8_t *bits, uint8_t **out, size_t *len)
{
	size_t vlen, blen, n;
	uint8_t *buf, *p;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = bcmap_check(key, key_len, size, validator)))
		return rc;
	vlen = strlen(validator);
	blen = bcmap_bitmap_len(bcmap_nchunks(size));
	n = bcmap_len(key_len, vlen, size);
	if (!(buf = malloc(n)))
		return -ENOMEM;
	memcpy(buf, BCMAP_MAGIC, 8);
	bcmap_put(buf + 8, BCMAP_VERSION, 4);
	bcmap_put(buf + 12, BCMAP_CHUNK, 4);
	bcmap_put(buf + 16, size, 8);
	bcmap_put(buf + 24, key_len, 4);
	bcmap_put(buf + 28, vlen, 4);
	p = buf + BCMAP_HDR;
	if (key_len)
		memcpy(p, key, key_len);
	p += key_len;
	memcpy(p, validator, vlen);
	p += vlen;
	if (blen)
		memcpy(p, bits, blen);
	p += blen;
	bcmap_put(p, bcmap_hash(buf, n - 8), 8);
	*out = buf;
	*len = n;
	return 0;
}

/* Header fields first, each bounded before the length they imply is
 * computed; the first that is wrong is the reason given. */
static int bcmap_verify(const uint8_t *buf, size_t len, struct aifs_err *err)
{
	uint64_t version, chunk, size, klen, vlen, nchunks;
	const uint8_t *val, *bits;
	size_t want, blen;

	if (len < BCMAP_LEN_MIN)
		return aifs_err_set(err, -EBADMSG, "map of %zu bytes: shorter than a header", len);
	if (memcmp(buf, BCMAP_MAGIC, 8))
		return aifs_err_set(err, -EBADMSG, "not a map: bad magic");
	version = bcmap_get(buf + 8, 4);
	chunk = bcmap_get(buf + 12, 4);
	size = bcmap_get(buf + 16, 8);
	klen = bcmap_get(buf + 24, 4);
	vlen = bcmap_get(buf + 28, 4);
	if (version != BCMAP_VERSION)
		return aifs_err_set(err, -EBADMSG, "map version %" PRIu64 ", expected %u", version,
				    BCMAP_VERSION);
	if (chunk != BCMAP_CHUNK)
		return aifs_err_set(err, -EBADMSG, "chunk size %" PRIu64 ", expected %u", chunk,
				    BCMAP_CHUNK);
	if (size > BCMAP_SIZE_MAX)
		return aifs_err_set(err, -EBADMSG, "file size %" PRIu64 " over the cap", size);
	if (klen > BCMAP_KEY_MAX)
		return aifs_err_set(err, -EBADMSG, "key length %" PRIu64 " over the cap", klen);
	if (vlen > BCMAP_VAL_MAX)
		return aifs_err_set(err, -EBADMSG, "validator length %" PRIu64 " over the cap",
				    vlen);
	want = bcmap_len((size_t)klen, (size_t)vlen, size);
	if (len != want)
		return aifs_err_set(err, -EBADMSG, "map of %zu bytes, its header says %zu", len,
				    want);
	if (bcmap_get(buf + len - 8, 8) != bcmap_hash(buf, len - 8))
		return aifs_err_set(err, -EBADMSG, "checksum mismatch");
	val = buf + BCMAP_HDR + klen;
	if (memchr(val, 0, (size_t)vlen))
		return aifs_err_set(err, -EBADMSG, "validator holds a NUL");
	bits = val + vlen;
	nchunks = bcmap_nchunks(size);
	blen = bcmap_bitmap_len(nchunks);
	if (nchunks % 8 && bits[blen - 1] >> (nchunks % 8))
		return aifs_err_set(err, -EBADMSG, "bits set past the last chunk");
	return 0;
}

int bcmap_decode(const uint8_t *buf, size_t len, struct bcmap *m, struct aifs_err *err)
{
	const uint8_t *key, *val;
	size_t klen, vlen, blen;
	int rc;

	memset(m, 0, sizeof *m);
	if ((rc = bcmap_verify(buf, len, err)))
		return rc;
	m->size = bcmap_get(buf + 16, 8);
	klen = (size_t)bcmap_get(buf + 24, 4);
	vlen = (size_t)bcmap_get(buf + 28, 4);
	blen = bcmap_bitmap_len(bcmap_nchunks(m->size));
	key = buf + BCMAP_HDR;
	val = key + klen;
	m->key = malloc(klen + 1);
	m->validator = malloc(vlen + 1);
	m->bits = malloc(blen + 1);
	if (!m->key || !m->validator || !m->bits) {
		bcmap_clear(m);
		return aifs_err_set(err, -ENOMEM, "no memory for a map of %zu bytes", len);
	}
	memcpy(m->key, key, klen);
	m->key[klen] = '\0';
	m->key_len = klen;
	memcpy(m->validator, val, vlen);
	m->validator[vlen] = '\0';
	memcpy(m->bits, val + vlen, blen);
	return 0;
}

void bcmap_clear(struct bcmap *m)
{
	free(m->key);
	free(m->validator);
	free(m->bits);
	memset(m, 0, sizeof *m);
}

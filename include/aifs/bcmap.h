/* bcmap.h: the blob cache's map format: which chunks of a cached file are
 * present, for which key, size and server validator.
 *
 * A map is, all integers little-endian:
 *
 *     magic "aifsmap\n" 8 | version 4 | chunk size 4 | file size 8 |
 *     key length 4 | validator length 4 | key | validator |
 *     bitmap, one bit a chunk, (chunks + 7) / 8 bytes | checksum 8
 *
 * The checksum is the 64-bit FNV-1a of every byte before it. A map either
 * checks out in full or names nothing. Pure: bytes in, bytes out; knows no
 * files, no locks, no index. */
#ifndef AIFS_BCMAP_H
#define AIFS_BCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aifs_err;

#define BCMAP_VERSION  1u
#define BCMAP_CHUNK    (1u << 20)	   /* the unit of presence */
#define BCMAP_KEY_MAX  4096u		   /* bytes of key */
#define BCMAP_VAL_MAX  1024u		   /* bytes of validator */
#define BCMAP_SIZE_MAX ((uint64_t)1 << 40) /* 1 TiB: a 128 KiB bitmap */
#define BCMAP_HDR      32u		   /* the fixed fields */
#define BCMAP_LEN_MIN  (BCMAP_HDR + 8u)	   /* empty key, validator and file */

/* A map decoded. key is NUL-terminated past key_len (it may hold NULs);
 * bits holds bcmap_bitmap_len(bcmap_nchunks(size)) bytes. */
struct bcmap {
	uint64_t size;
	char *key;
	size_t key_len;
	char *validator;
	uint8_t *bits;
};

/* The 64-bit FNV-1a of n bytes: the checksum, and the name of a key's files. */
uint64_t bcmap_hash(const void *p, size_t n);

uint64_t bcmap_nchunks(uint64_t size);
size_t bcmap_bitmap_len(uint64_t nchunks);
/* A map's length in bytes; bcmap_len(BCMAP_KEY_MAX, BCMAP_VAL_MAX,
 * BCMAP_SIZE_MAX) is the longest. */
size_t bcmap_len(size_t key_len, size_t val_len, uint64_t size);

bool bcmap_bit(const uint8_t *bits, uint64_t chunk);
void bcmap_set(uint8_t *bits, uint64_t chunk);
/* How many of the first nchunks bits are set. */
uint64_t bcmap_count(const uint8_t *bits, uint64_t nchunks);

/* Whether a map can hold these: 0, -EINVAL (key NULL with a length, or a
 * validator too long), -ENAMETOOLONG (key) or -EFBIG (size). */
int bcmap_check(const char *key, size_t key_len, uint64_t size, const char *validator);

/* Encodes a map: *out is a new buffer of *len bytes; free with free(). bits
 * holds the bitmap of size. 0, -ENOMEM, or bcmap_check()'s refusals. */
int bcmap_encode(const char *key, size_t key_len, const char *validator, uint64_t size,
		 const uint8_t *bits, uint8_t **out, size_t *len);

/* Decodes and checks len bytes of buf: 0 with m filled (its fields new;
 * free with bcmap_clear()), -EBADMSG with the reason in err (may be NULL),
 * or -ENOMEM. On failure m is all zeros. */
int bcmap_decode(const uint8_t *buf, size_t len, struct bcmap *m, struct aifs_err *err);

/* Frees m's fields and zeroes it. */
void bcmap_clear(struct bcmap *m);

#endif

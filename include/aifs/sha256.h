/* sha256.h: SHA-256 (FIPS 180-4), for digests of credentials that are
 * safe to share. */
#ifndef AIFS_SHA256_H
#define AIFS_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t n;       /* bytes so far */
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* The 32-byte digest; s is wiped. */
void sha256_final(struct sha256 *s, unsigned char out[32]);

#endif

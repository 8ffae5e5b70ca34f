/* fuzz_bcmap.c: the blob cache's map decoder takes any bytes.
 *
 * The input is decoded twice: as it is, and with its last 8 bytes replaced
 * by the right checksum, so that the checks behind the checksum are reached
 * too. A refusal is -EBADMSG with a reason; a map that decodes keeps within
 * the caps and encodes back to the same bytes (one spelling per map). */
#include <errno.h>
#include <stdint.h>

#include "aifs/bcmap.h"
#include "aifs/err.h"
#include "fuzz.h"

const char fuzz_target_name[] = "bcmap";

static void fb_decode(const uint8_t *data, size_t size)
{
	struct aifs_err err;
	struct bcmap m;
	uint8_t *again;
	size_t alen;
	uint64_t n;
	int rc;

	aifs_err_clear(&err);
	rc = bcmap_decode(data, size, &m, &err);
	if (rc) {
		FUZZ_CHECK(rc == -EBADMSG && err.code == rc && err.msg[0],
			   "refused with %d, \"%s\"", rc, err.msg);
		FUZZ_CHECK(!m.key && !m.validator && !m.bits && !m.size && !m.key_len,
			   "a refused map left fields set");
		return;
	}
	n = bcmap_nchunks(m.size);
	FUZZ_CHECK(m.size <= BCMAP_SIZE_MAX, "size %llu", (unsigned long long)m.size);
	FUZZ_CHECK(m.key_len <= BCMAP_KEY_MAX && m.key[m.key_len] == '\0', "key of %zu bytes",
		   m.key_len);
	FUZZ_CHECK(strlen(m.validator) <= BCMAP_VAL_MAX, "validator of %zu bytes",
		   strlen(m.validator));
	FUZZ_CHECK(size == bcmap_len(m.key_len, strlen(m.validator), m.size),
		   "%zu bytes decoded as a map of another length", size);
	FUZZ_CHECK(bcmap_count(m.bits, n) <= n, "more chunks present than the file has");
	FUZZ_CHECK(bcmap_encode(m.key, m.key_len, m.validator, m.size, m.bits, &again, &alen) == 0,
		   "a decoded map does not encode");
	FUZZ_CHECK(alen == size && memcmp(again, data, size) == 0,
		   "a decoded map encodes to other bytes");
	free(again);
	bcmap_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *sealed;
	uint64_t h;

	fb_decode(data, size);
	if (size < 8)
		return 0;
	if (!(sealed = malloc(size)))
		abort();
	memcpy(sealed, data, size);
	h = bcmap_hash(sealed, size - 8);
	for (int i = 0; i < 8; i++)
		sealed[size - 8 + i] = (uint8_t)(h >> 8 * i);
	fb_decode(sealed, size);
	free(sealed);
	return 0;
}

/* fuzz_journal.c: a label's record on disk takes any bytes.
 *
 * A refusal is -EINVAL with a reason and leaves nothing set; a record that
 * decodes stays within the caps, holds no more than the input did, and
 * encodes back to the same bytes (one spelling per record). */
#include <errno.h>
#include <stdint.h>

#include "aifs/journal.h"
#include "fuzz.h"

const char fuzz_target_name[] = "journal";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct label_rec r;
	char why[128];
	char *again;
	size_t alen;

	int rc = journal_decode((const char *)data, size, &r, why, sizeof why);
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && why[0], "refused with %d, \"%s\"", rc, why);
		FUZZ_CHECK(!r.body && !r.id && !r.error && !r.body_len, "a refused record left fields set");
		return 0;
	}
	FUZZ_CHECK(r.body_len <= JOURNAL_BODY_MAX && r.body_len <= size, "body of %zu bytes",
		   r.body_len);
	FUZZ_CHECK(r.id_len <= JOURNAL_TEXT_MAX && r.error_len <= JOURNAL_TEXT_MAX,
		   "id of %zu, error of %zu bytes", r.id_len, r.error_len);
	FUZZ_CHECK(r.state != LABEL_CREATED || r.id_len, "created without an id");
	FUZZ_CHECK(journal_encode(&r, &again, &alen) == 0, "a decoded record does not encode");
	FUZZ_CHECK(alen == size && memcmp(again, data, size) == 0,
		   "a decoded record encodes to other bytes");
	free(again);
	label_rec_clear(&r);
	return 0;
}

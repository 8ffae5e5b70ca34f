/* fuzz_arec.c: the archive's record of a task takes any bytes.
 *
 * A refusal is -EINVAL with a reason and leaves nothing set; a record that
 * decodes stays within the caps, holds no more than the input did, names
 * its outputs with distinct safe path components, and encodes back to the
 * same bytes (one spelling per record). */
#include <errno.h>
#include <stdint.h>

#include "aifs/arec.h"
#include "fuzz.h"

const char fuzz_target_name[] = "arec";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arec r;
	char why[128];
	char *again;
	size_t alen;

	int rc = arec_decode((const char *)data, size, &r, why, sizeof why);
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && why[0], "refused with %d, \"%s\"", rc, why);
		FUZZ_CHECK(!r.provider && !r.id && !r.status && !r.meta && !r.error && !r.outputs &&
			       !r.n_outputs && !r.id_len && !r.meta_len && !r.error_len,
			   "a refused record left fields set");
		return 0;
	}
	FUZZ_CHECK(r.provider && *r.provider && strlen(r.provider) <= AREC_PROVIDER_MAX &&
		       !fuzz_has_ctrl(r.provider, strlen(r.provider)) && !strchr(r.provider, '/') &&
		       r.provider[0] != '.',
		   "provider \"%s\"", r.provider ? r.provider : "(null)");
	FUZZ_CHECK(r.id && r.id_len && r.id_len <= AREC_ID_MAX && strlen(r.id) == r.id_len,
		   "id of %zu bytes", r.id_len);
	FUZZ_CHECK(r.status && *r.status && strlen(r.status) <= AREC_STATUS_MAX &&
		       !fuzz_has_ctrl(r.status, strlen(r.status)),
		   "status \"%s\"", r.status ? r.status : "(null)");
	FUZZ_CHECK(r.mtime >= 0, "mtime %lld", (long long)r.mtime);
	FUZZ_CHECK(r.meta_len <= AREC_META_MAX && r.meta_len <= size && !r.meta == !r.meta_len,
		   "meta of %zu bytes", r.meta_len);
	FUZZ_CHECK(r.error_len <= AREC_ERROR_MAX && r.error_len <= size && !r.error == !r.error_len,
		   "error of %zu bytes", r.error_len);
	FUZZ_CHECK(r.n_outputs <= AREC_OUTPUTS_MAX && !r.outputs == !r.n_outputs, "%zu outputs",
		   r.n_outputs);
	for (size_t i = 0; i < r.n_outputs; i++) {
		FUZZ_CHECK(fuzz_name_safe(r.outputs[i].name), "output name \"%s\"",
			   r.outputs[i].name ? r.outputs[i].name : "(null)");
		FUZZ_CHECK(r.outputs[i].size <= (uint64_t)INT64_MAX, "output size %llu",
			   (unsigned long long)r.outputs[i].size);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(r.outputs[i].name, r.outputs[j].name) != 0,
				   "output name \"%s\" twice", r.outputs[i].name);
	}
	FUZZ_CHECK(arec_encode(&r, &again, &alen) == 0, "a decoded record does not encode");
	FUZZ_CHECK(alen == size && memcmp(again, data, size) == 0,
		   "a decoded record encodes to other bytes");
	free(again);
	arec_clear(&r);
	return 0;
}

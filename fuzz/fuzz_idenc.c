/* fuzz_idenc.c: the id <-> file name mapping is one-to-one.
 *
 * The input is used twice: as the bytes of an id (encode, then decode must
 * give them back) and, up to its first NUL, as a file name (decode, then
 * encode must give the name back, or decode refuses it). */
#include "aifs/idenc.h"
#include "fuzz.h"

const char fuzz_target_name[] = "idenc";

static bool fi_must_escape(unsigned char c, size_t pos)
{
	return c == '%' || c == '/' || c < 0x20 || c == 0x7f || (pos == 0 && c == '.');
}

/* Names the kernel takes as one directory entry that is not . or .. */
static void fi_check_name(const char *name)
{
	size_t n = strlen(name);

	FUZZ_CHECK(n >= 1 && n <= IDENC_NAME_MAX, "name of %zu bytes", n);
	FUZZ_CHECK(!strchr(name, '/'), "name \"%s\" holds '/'", name);
	FUZZ_CHECK(name[0] != '.', "name \"%s\" starts with '.'", name);
	FUZZ_CHECK(!fuzz_has_ctrl(name, n), "name \"%s\" holds a control byte", name);
}

static void fi_id(const uint8_t *id, size_t len)
{
	size_t want = 0, back_len = (size_t)-1;
	char *name = idenc_encode((const char *)id, len), *back;

	for (size_t i = 0; i < len; i++)
		want += fi_must_escape(id[i], i) ? 3 : 1;
	if (!name) {
		FUZZ_CHECK(len == 0 || want > IDENC_NAME_MAX,
			   "encode refused an id of %zu bytes (name of %zu)", len, want);
		return;
	}
	FUZZ_CHECK(len > 0 && want <= IDENC_NAME_MAX, "encode took an id it should refuse");
	FUZZ_CHECK(strlen(name) == want, "name of %zu bytes, expected %zu", strlen(name), want);
	fi_check_name(name);
	back = idenc_decode(name, &back_len);
	FUZZ_CHECK(back != NULL, "decode refused encode's name \"%s\"", name);
	FUZZ_CHECK(back_len == len && memcmp(back, id, len) == 0 && back[len] == '\0',
		   "decode(encode(id)) is not id (name \"%s\")", name);
	free(back);
	free(name);
}

static void fi_name(const char *name)
{
	size_t len = (size_t)-1;
	char *id = idenc_decode(name, &len), *again;

	if (!id)
		return;
	FUZZ_CHECK(len >= 1 && len <= strlen(name) && id[len] == '\0',
		   "decoded %zu bytes from \"%s\"", len, name);
	fi_check_name(name);
	again = idenc_encode(id, len);
	FUZZ_CHECK(again && strcmp(again, name) == 0, "encode(decode(\"%s\")) is \"%s\"", name,
		   again ? again : "(refused)");
	free(again);
	free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_dup(data, size);

	fi_id(data, size);
	fi_name(name);
	free(name);
	return 0;
}

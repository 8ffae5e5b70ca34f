/* idenc.c: provider task ids <-> file names, one-to-one.
 *
 * A byte is escaped as %XX exactly when it must be ('%', '/', control bytes,
 * 0x7F, a leading '.'), and decoding refuses any name that encoding could
 * not have produced, so two names never reach the same id. Knows nothing of
 * providers or of what an id looks like. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/idenc.h"

static bool idenc_must_escape(unsigned char c, size_t pos)
{
	return c == '%' || c == '/' || c < 0x20 || c == 0x7f || (pos == 0 && c == '.');
}

static int idenc_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is refused: "%2f" and "%2F" must not both work */
}

char *idenc_encode(const char *id, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t out_len = 0, j = 0;
	char *name;

	if (!id || len == 0)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out_len += idenc_must_escape((unsigned char)id[i], i) ? 3 : 1;
		if (out_len > IDENC_NAME_MAX)
			return NULL;
	}
	name = malloc(out_len + 1);
	if (!name)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (idenc_must_escape(c, i)) {
			name[j++] = '%';
			name[j++] = hex[c >> 4];
			name[j++] = hex[c & 15];
		} else {
			name[j++] = (char)c;
		}
	}
	name[j] = '\0';
	return name;
}

char *idenc_decode(const char *name, size_t *len)
{
	size_t n, j = 0;
	char *id, *ret = NULL;

	if (!name)
		return NULL;
	n = strlen(name);
	if (n == 0 || n > IDENC_NAME_MAX)
		return NULL;
	id = malloc(n + 1);
	if (!id)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto out;
			hi = idenc_hexval(name[i + 1]);
			lo = idenc_hexval(name[i + 2]);
			if (hi < 0 || lo < 0)
				goto out;
			c = (unsigned char)(hi << 4 | lo);
			if (!idenc_must_escape(c, j))
				goto out; /* an escape that was not needed */
			i += 2;
		} else if (idenc_must_escape(c, j)) {
			goto out; /* a byte that should have been escaped */
		}
		id[j++] = (char)c;
	}
	id[j] = '\0';
	if (len)
		*len = j;
	ret = id;
	id = NULL;
out:
	free(id);
	return ret;
}

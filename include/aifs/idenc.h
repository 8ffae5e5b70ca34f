/* idenc.h: the one-to-one mapping between provider task ids and file names.
 *
 * '%', '/', bytes below 0x20, 0x7F and a leading '.' become %XX (upper-case
 * hex); everything else, UTF-8 included, stays as it is. */
#ifndef AIFS_IDENC_H
#define AIFS_IDENC_H

#include <stddef.h>

#define IDENC_NAME_MAX 255

/* Returns a new name for id (free with free()), or NULL when the id is empty,
 * its name would exceed IDENC_NAME_MAX bytes, or memory ran out. */
char *idenc_encode(const char *id, size_t len);

/* Returns a new id for name (free with free()), or NULL when name is not the
 * encoding of any id: bad or lower-case escapes, an escape that was not
 * needed, a raw character that should have been escaped, an empty name. So
 * decode(encode(x)) == x and encode(decode(n)) == n for every accepted n. */
char *idenc_decode(const char *name, size_t *len);

#endif

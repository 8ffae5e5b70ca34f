/* strmap.h: a hash map from byte strings to pointers.
 *
 * Keys are borrowed: the caller keeps each key alive while it is in the map
 * (usually it lives inside the value). Not thread-safe. */
#ifndef AIFS_STRMAP_H
#define AIFS_STRMAP_H

#include <stddef.h>

struct strmap_ent {
	const char *key;
	size_t len;
	void *val;
	struct strmap_ent *next;
};

struct strmap {
	struct strmap_ent **slots;
	size_t n_slots; /* a power of two, or 0 */
	size_t count;
};

void strmap_init(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key, size_t len);
/* Adds or replaces; 0 or -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, size_t len, void *val);
/* Returns the value removed, or NULL. */
void *strmap_del(struct strmap *m, const char *key, size_t len);
/* Calls fn for every entry, in no order; fn must not change the map. */
void strmap_each(const struct strmap *m, void (*fn)(void *val, void *ctx), void *ctx);
void strmap_free(struct strmap *m);

#endif

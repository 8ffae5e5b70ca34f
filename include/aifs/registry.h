/* registry.h: the known-ids file of one provider, kept under the cache
 * directory so that ids looked up once are listed across remounts.
 *
 * One encoded id (idenc) per line. Not thread-safe: the caller serializes. */
#ifndef AIFS_REGISTRY_H
#define AIFS_REGISTRY_H

#include <stddef.h>

struct registry;

/* Returns a new registry for CACHE_DIR/known/PROVIDER, creating the folder
 * (0700); free with registry_free(). NULL when memory ran out. */
struct registry *registry_new(const char *cache_dir, const char *provider);
void registry_free(struct registry *r);

/* Calls fn for every id in the file; lines that are not an encoded id are
 * skipped and logged. A missing file is an empty registry. 0 or -errno. */
int registry_load(struct registry *r, int (*fn)(void *ctx, const char *id, size_t len),
		  void *ctx);

/* Appends one id. 0 or -errno. */
int registry_add(struct registry *r, const char *id, size_t len);

/* Replaces the file, atomically, with the n ids given. 0 or -errno. */
int registry_rewrite(struct registry *r, const char *const *ids, const size_t *lens, size_t n);

#endif

/* blobcache.h: output files on disk: sparse data plus a map of the chunks
 * present, under CACHE_DIR/blobs.
 *
 * The map on disk never claims a chunk whose bytes are not durably in the
 * data file: data is synced before the map that names it is renamed into
 * place. So after a crash a file may have lost chunks, never gained wrong
 * ones. Entries are found by key (any bytes, e.g. "volc\0ID\0video.mp4");
 * file names are derived from a hash of the key and the key is stored and
 * checked, so no key can name a path outside the cache. Whole files are
 * evicted, least recently used first, to keep the total under the cap;
 * open and pinned entries are never evicted. Thread-safe. Knows no HTTP and
 * no FUSE. */
#ifndef AIFS_BLOBCACHE_H
#define AIFS_BLOBCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aifs/bcmap.h"

#define BLOB_CHUNK BCMAP_CHUNK /* the unit of presence: 1 MiB */

struct blobcache;
struct blob;

/* Returns a new cache over dir (created 0700 when missing), scanning what is
 * there for sizes and recency; free with blobcache_free(). NULL on failure,
 * with *err set to -errno: -EBUSY when another process still holds dir after
 * a few seconds' wait. */
struct blobcache *blobcache_new(const char *dir, uint64_t max_bytes, int *err);
/* The pid of the process holding dir's cache, or 0 when none is known. */
long blobcache_holder(const char *dir);
/* Persists every open entry's map, then frees. Accepts NULL. */
void blobcache_free(struct blobcache *c);

/* Opens the entry for key, creating it when missing. size is the file's
 * total length; validator the server's ETag or Last-Modified ("" when none).
 * When the stored entry has another size or a different non-empty validator,
 * its chunks are dropped first. Each open is matched by blob_close().
 * 0 or -errno. */
int blobcache_open(struct blobcache *c, const char *key, size_t key_len, uint64_t size,
		   const char *validator, struct blob **out);

/* Looks the entry up without creating it: 0 with *size and *complete, or
 * -ENOENT. Lets a complete file be served with no network at all. */
int blobcache_peek(struct blobcache *c, const char *key, size_t key_len, uint64_t *size,
		   bool *complete);

/* Removes key's entry and its files (the task was deleted), pinned or not,
 * its pin's marker with them. 0, -ENOENT, or -EBUSY while it is open. */
int blobcache_remove(struct blobcache *c, const char *key, size_t key_len);

/* Pins key's entry for the archive: it leaves the LRU, its bytes count in
 * blobcache_archived() and not against the cap, and it is never evicted;
 * only blobcache_remove() drops it. An open entry may be pinned. On disk the
 * pin is an empty file <hash>.pin beside the entry's map, created O_EXCL
 * and the directory fsync'd before this returns, so a pin reported survives
 * a crash; blobcache_new() pins every map that has one and unlinks markers
 * left without a map. The marker goes with the entry's other files, so no
 * later file of the same hash inherits it, and another key of the same hash
 * gets -EBUSY from blobcache_open() rather than take a pinned entry's slot.
 * Pinning a pinned entry does nothing. 0, -ENOENT when key has no entry, or
 * -errno. */
int blobcache_pin(struct blobcache *c, const char *key, size_t key_len);
/* 1 when key's entry is pinned, 0 when not, -ENOENT when there is none. */
int blobcache_is_pinned(struct blobcache *c, const char *key, size_t key_len);

/* Persists the map (as blob_sync) and drops this reference. Accepts NULL. */
void blob_close(struct blob *b);

uint64_t blob_size(const struct blob *b);
bool blob_complete(const struct blob *b);

/* The first chunk in [first, last] that is not present, or -1 when all are. */
int64_t blob_first_missing(struct blob *b, uint64_t first, uint64_t last);
bool blob_has(struct blob *b, uint64_t chunk);

/* The data file's descriptor, for splicing bytes that are present; valid
 * while the blob is open. */
int blob_fd(const struct blob *b);

/* Reads bytes that are present (the caller checked); like pread(2). */
ssize_t blob_pread(struct blob *b, void *buf, size_t len, uint64_t off);
/* Writes bytes into the data file; marks nothing. 0 or -errno. */
int blob_pwrite(struct blob *b, const void *buf, size_t len, uint64_t off);
/* Marks chunk present: its bytes (the whole chunk, or up to the end of the
 * file for the last one) were written with blob_pwrite. The map on disk
 * follows at the next blob_sync(), which runs by itself every 64 MiB marked
 * and when the file becomes complete. 0 or -errno. */
int blob_mark(struct blob *b, uint64_t chunk);
/* fdatasync the data, then write the map atomically. 0 or -errno. */
int blob_sync(struct blob *b);

/* Drops every chunk (the server's validator changed); the size may change. */
int blob_reset(struct blob *b, uint64_t size, const char *validator);

/* Bytes the cache holds on disk now for entries the cap governs: pinned
 * entries are not counted. */
uint64_t blobcache_used(struct blobcache *c);
/* Bytes pinned entries hold on disk now. */
uint64_t blobcache_archived(struct blobcache *c);

#endif

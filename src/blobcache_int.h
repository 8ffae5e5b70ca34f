/* blobcache_int.h: PRIVATE to src/blob.c and src/blobcache.c; nothing else
 * includes it (make lint checks). What the two share: a blob's fields, the
 * names of its files, and the few calls each makes into the other.
 *
 * blob.c owns one entry's files and, while it is open, its bitmap, marks
 * and syncs; blobcache.c owns the index of entries, eviction and the
 * directory. A blob reaches its cache only through blobcache_account(). */
#ifndef AIFS_BLOBCACHE_INT_H
#define AIFS_BLOBCACHE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bc_entry;
struct blobcache;

/* A blob's files in the cache's directory: <16 hex digits><suffix>, the
 * digits being its hash; BLOB_PIN's is an empty marker, present while the
 * entry is pinned; BLOB_GONE's are an evicted file's, to be unlinked, and
 * its digits a number the cache hands out once. */
enum blob_file { BLOB_MAP, BLOB_DATA, BLOB_TMP, BLOB_PIN, BLOB_GONE };
#define BLOB_NAME 32 /* bytes for any of them, NUL included */

struct blob {
	/* blobcache.c's: c is constant; e and refs are under c->mu */
	struct blobcache *c;
	struct bc_entry *e;
	int refs;

	/* constant while the blob lives */
	int dirfd; /* the cache's directory, borrowed: one number for the cache's life */
	int fd;    /* the data file */
	uint64_t hash;
	char *key;
	size_t key_len;

	/* blob.c's */
	atomic_bool broken;      /* poisoned: writes refused */
	pthread_mutex_t sync_mu; /* one map writer; taken before mu */
	bool map_durable;        /* the map's name is known to survive a crash */
	pthread_mutex_t mu;      /* the rest; size, validator also need sync_mu to change */
	_Atomic uint64_t size;
	atomic_bool complete;
	char *validator;
	uint8_t *bits;
	uint64_t nchunks, nmarked;
	uint64_t unsynced; /* bytes marked since the last map snapshot */
	bool dirty;
};

/* ---- blob.c, for blobcache.c ---- */

/* Writes the name of hash's file of this kind into buf (BLOB_NAME bytes). */
void blob_name(char *buf, uint64_t hash, enum blob_file kind);
/* Which of our files name is, with its hash; -1 when it is not ours. */
int blob_parse_name(const char *name, uint64_t *hash);

/* What hash's files in dirfd hold for key, read without making a blob: 0
 * with the file's size and whether all its chunks are present, -ENOENT when
 * nothing usable is there, or -ENOMEM. Caller holds c->mu. */
int blob_peek(int dirfd, uint64_t hash, const char *key, size_t key_len, uint64_t *size,
	      bool *complete);

/* Whether hash's map in dirfd checks out but is another key's: the slot
 * holds that key's file. Caller holds c->mu. */
bool blob_foreign(int dirfd, uint64_t hash, const char *key, size_t key_len);

/* Returns in *out a new blob over hash's files in dirfd, with no reference
 * counted yet; free with blob_free(). Caller holds c->mu. 0 or -errno;
 * -ENOENT may mean the directory is gone. */
int blob_load(struct blobcache *c, int dirfd, uint64_t hash, const char *key, size_t key_len,
	      uint64_t size, const char *validator, struct blob **out);
/* Frees b: the last reference is gone. Accepts NULL. */
void blob_free(struct blob *b);

/* Whether b is key's (a hash may be two keys'). */
bool blob_is(const struct blob *b, const char *key, size_t key_len);
/* Drops b's chunks when size or a non-empty validator differ from its own:
 * another opener's view of the file. 0 or -errno. */
int blob_revalidate(struct blob *b, uint64_t size, const char *validator);
/* Bytes b holds on disk: the data file's blocks plus its map. Takes b->mu. */
uint64_t blob_disk_bytes(struct blob *b);

/* ---- blobcache.c, for blob.c ---- */

/* b's bytes on disk changed: counts them again and, with evict, evicts
 * closed entries until the total fits. Takes c->mu; the caller holds none
 * of b's locks. */
void blobcache_account(struct blobcache *c, struct blob *b, bool evict);

#endif

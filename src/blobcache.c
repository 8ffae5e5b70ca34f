/* blobcache.c: the blob cache's index of entries, DIR/blobs/<hash>.data
 * and <hash>.map (see blob.c for one entry's files), its eviction and its
 * directory.
 *
 * <hash> is the 64-bit FNV-1a of the key, in hex. The key is stored in the
 * map: a key that finds another key's map in its slot takes the slot over
 * (the other file is dropped; it is only a cache), or gets -EBUSY while that
 * other entry is open. Eviction works from memory: one record per map with
 * its bytes on disk and last use, scanned at start (the map's mtime) and
 * stamped at open and close. An open entry is never evicted, so reads need
 * not touch the index. Records are found by hash in a hash map (strmap over
 * the hash's 8 bytes). The closed ones also sit on a ring, least recently
 * used first, so eviction takes the first at once, with no scan: stamps
 * only grow and a record joins the ring's end when it closes, so the ring
 * stays in order; at start the scanned records are sorted once.
 *
 * A pinned entry (the archive's) is on no LRU ring and its bytes count in
 * c->archived, not in c->used, so the cap neither sees nor evicts it; closed,
 * it sits on a second ring, c->kept, only so that a removed directory can
 * forget it. The pin persists as an empty marker, <hash>.pin, made with
 * O_EXCL and the directory fsync'd before the pin is reported; the scan
 * pins every map with a marker and unlinks markers without a map (a crash
 * between a discard's renames). A discard renames the marker away with the
 * entry's other files, so no marker outlives its entry to pin the next
 * file of that hash, and a pinned entry's slot is never taken over by
 * another key of its hash (the open gets -EBUSY).
 *
 * One process per directory (flock); a new one waits a few seconds for the
 * lock, so that a remount right after an unmount finds the old daemon gone.
 * A directory removed under a running mount is made anew at the next open
 * (what was closed is gone with it).
 *
 * Locks: c->mu guards the index, the ring, the byte count, the BLOB_GONE
 * numbers and each blob's e and refs. Under it a blob's b->mu may be taken
 * (to measure it), b->mu being always the last; b->sync_mu (blob.c) is
 * never held with c->mu, in either order. No lock is held while evicted
 * files are unlinked (bc_evict says why that is safe).
 *
 * Knows no map format (bcmap.c gives it the key's hash and the caps), no
 * blob's insides beyond blobcache_int.h, no HTTP and no FUSE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aifs/bcmap.h"
#include "aifs/blobcache.h"
#include "aifs/log.h"
#include "aifs/strmap.h"
#include "blobcache_int.h"

#define BC_LOCK_WAIT 5.0 /* seconds a new mount waits for the old one to go */

struct bc_entry {
	uint64_t hash;     /* its 8 bytes are the entry's key in the index */
	uint64_t bytes;    /* on disk: the data file's blocks plus the map */
	int64_t used_at;   /* ns since the epoch: the LRU order */
	struct blob *open; /* NULL when closed: only then evictable */
	bool pinned;       /* the archive's: never evicted, its bytes in c->archived */
	struct bc_entry *prev, *next; /* on c->lru, or c->kept when pinned; NULL when not */
};

struct blobcache {
	pthread_mutex_t mu; /* everything below but dirfd, path and max_bytes */
	int dirfd;          /* DIR/blobs, flock'ed; replaced in place (dup3) if removed */
	char *path;         /* DIR */
	uint64_t max_bytes, used;
	uint64_t archived;   /* pinned entries' bytes, outside the cap */
	int64_t clock;       /* the last stamp handed out */
	uint64_t gone;       /* the next BLOB_GONE name's number */
	struct strmap index; /* every entry, by hash */
	struct bc_entry lru; /* a ring of the closed unpinned entries, oldest first */
	struct bc_entry kept; /* a ring of the closed pinned entries */
};

/* ---- the index; all under c->mu ---- */

static int64_t bc_stamp(struct blobcache *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	c->clock = t > c->clock ? t : c->clock + 1; /* strictly increasing */
	return c->clock;
}

static struct bc_entry *bc_find(struct blobcache *c, uint64_t hash)
{
	return strmap_get(&c->index, (const char *)&hash, sizeof hash);
}

/* A new entry for hash, in the index but not yet on the LRU ring. */
static int bc_add(struct blobcache *c, uint64_t hash, struct bc_entry **out)
{
	struct bc_entry *e = calloc(1, sizeof *e);

	if (!e)
		return -ENOMEM;
	e->hash = hash;
	if (strmap_put(&c->index, (const char *)&e->hash, sizeof e->hash, e)) {
		free(e);
		return -ENOMEM;
	}
	*out = e;
	return 0;
}

/* Puts closed e last on its ring (c->lru or, pinned, c->kept): the most
 * recently used. */
static void bc_lru_push(struct blobcache *c, struct bc_entry *e)
{
	struct bc_entry *ring = e->pinned ? &c->kept : &c->lru;

	e->prev = ring->prev;
	e->next = ring;
	e->prev->next = e;
	ring->prev = e;
}

/* The count e's bytes are in: the cap's, or the archive's. */
static uint64_t *bc_tally(struct blobcache *c, const struct bc_entry *e)
{
	return e->pinned ? &c->archived : &c->used;
}

static void bc_lru_take(struct bc_entry *e)
{
	if (!e->next)
		return;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void bc_remove(struct blobcache *c, struct bc_entry *e)
{
	bc_lru_take(e);
	strmap_del(&c->index, (const char *)&e->hash, sizeof e->hash);
	*bc_tally(c, e) -= e->bytes;
	free(e);
}

/* Brings b's entry's bytes up to date: the data file's blocks plus its map. */
static void bc_measure(struct blobcache *c, struct blob *b)
{
	uint64_t bytes = blob_disk_bytes(b);
	uint64_t *tally = bc_tally(c, b->e);

	*tally = *tally - b->e->bytes + bytes;
	b->e->bytes = bytes;
}

/* Evicted files, renamed to BLOB_GONE names numbered first to end - 1:
 * unlinked by bc_trash_empty() once c->mu is released. */
struct bc_trash {
	uint64_t first, end;
};

/* Least recently used closed entries go until the total fits (with only
 * open or pinned entries left, the overshoot is allowed); the map first: a
 * data file or marker without a map is garbage the next scan removes. Caller holds c->mu, then
 * releases it and calls bc_trash_empty(c, t).
 *
 * Unlinking frees a file's blocks, which for a large file is slow, so it
 * waits until c->mu is released. That is safe because the names a record
 * owns are given up here, under c->mu, by renaming: by the time an open
 * can look for this key again, its record is gone from the index and its
 * files from their names, so the open starts a fresh record over fresh
 * files, and the unlinks that follow touch only BLOB_GONE names, each used
 * once and never a record's. A file that cannot be renamed is unlinked at
 * once, so no name outlives its record. */
static void bc_discard(struct blobcache *c, struct bc_entry *v)
{
	char name[BLOB_NAME], gone[BLOB_NAME];

	for (enum blob_file k = BLOB_MAP; k <= BLOB_PIN; k++) {
		blob_name(name, v->hash, k);
		blob_name(gone, c->gone, BLOB_GONE);
		if (renameat(c->dirfd, name, c->dirfd, gone) == 0)
			c->gone++;
		else if (errno != ENOENT)
			unlinkat(c->dirfd, name, 0);
	}
	bc_remove(c, v);
}

static void bc_evict(struct blobcache *c, struct bc_trash *t)
{
	t->first = t->end = c->gone;
	while (c->used > c->max_bytes && c->lru.next != &c->lru)
		bc_discard(c, c->lru.next);
	t->end = c->gone;
}

/* Unlinks what bc_evict() renamed; c->mu not held. */
static void bc_trash_empty(struct blobcache *c, const struct bc_trash *t)
{
	char gone[BLOB_NAME];

	for (uint64_t n = t->first; n != t->end; n++) {
		blob_name(gone, n, BLOB_GONE);
		unlinkat(c->dirfd, gone, 0);
	}
}

struct bc_all {
	struct bc_entry **ents;
	size_t n;
};

static void bc_all_add(void *val, void *ctx)
{
	struct bc_all *all = ctx;

	all->ents[all->n++] = val;
}

static int bc_by_use(const void *a, const void *b)
{
	const struct bc_entry *x = *(struct bc_entry *const *)a, *y = *(struct bc_entry *const *)b;

	return (x->used_at > y->used_at) - (x->used_at < y->used_at);
}

/* Puts the scanned entries on their rings, oldest first, and sums their
 * bytes. */
static int bc_order(struct blobcache *c)
{
	struct bc_all all = { NULL, 0 };

	if (!c->index.count)
		return 0;
	if (!(all.ents = malloc(c->index.count * sizeof *all.ents)))
		return -ENOMEM;
	strmap_each(&c->index, bc_all_add, &all);
	qsort(all.ents, all.n, sizeof *all.ents, bc_by_use);
	for (size_t i = 0; i < all.n; i++) {
		bc_lru_push(c, all.ents[i]);
		*bc_tally(c, all.ents[i]) += all.ents[i]->bytes;
	}
	free(all.ents);
	return 0;
}

/* One entry per map; data files add their blocks, markers pin. Data files
 * and markers without a map, temporary maps and evicted files are what a
 * crash left: they go. Others' files stay. */
static int bc_scan(struct blobcache *c)
{
	int fd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 0), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct bc_entry *e;
	struct dirent *de;
	struct stat st;
	uint64_t hash;

	if (!d) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((de = readdir(d)))
		if (blob_parse_name(de->d_name, &hash) == BLOB_MAP &&
		    fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode)) {
			if ((rc = bc_add(c, hash, &e)))
				goto out;
			e->bytes = (uint64_t)st.st_size;
			e->used_at = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
			if (e->used_at > c->clock)
				c->clock = e->used_at;
		}
	rewinddir(d);
	while ((de = readdir(d))) {
		int kind = blob_parse_name(de->d_name, &hash);
		e = kind == BLOB_DATA || kind == BLOB_PIN ? bc_find(c, hash) : NULL;
		if (e && fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (kind == BLOB_DATA)
				e->bytes += (uint64_t)st.st_blocks * 512;
			else
				e->pinned = true;
		} else if (kind == BLOB_DATA || kind == BLOB_TMP || kind == BLOB_PIN ||
			   kind == BLOB_GONE) {
			unlinkat(c->dirfd, de->d_name, 0);
		}
	}
	rc = bc_order(c);
out:
	closedir(d);
	return rc;
}

/* Takes the directory's lock, waiting up to wait seconds for a holder that
 * is on its way out. 0, -EBUSY or -errno. */
static int bc_lock(int fd, double wait)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	for (double waited = 0;; waited += 0.05) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (waited >= wait)
			return -EBUSY;
		nanosleep(&pause, NULL);
	}
}

/* The directory was removed under us (a user cleaning up): makes it anew,
 * locked, in place of the old descriptor, and forgets the closed entries
 * whose files went with it. 0 when it did, -ENOENT when it was not removed,
 * or -errno. Caller holds c->mu. */
static int bc_revive(struct blobcache *c)
{
	struct stat st;
	char *blobs = NULL;
	int fd = -1, rc = 0;

	if (fstat(c->dirfd, &st) < 0)
		return -errno;
	if (st.st_nlink > 0)
		return -ENOENT;
	if (asprintf(&blobs, "%s/blobs", c->path) < 0)
		return -ENOMEM;
	for (char *p = blobs + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(blobs, 0700);
		*p = '/';
	}
	if ((mkdir(blobs, 0700) < 0 && errno != EEXIST) ||
	    (fd = open(blobs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = bc_lock(fd, 0)) || dup3(fd, c->dirfd, O_CLOEXEC) < 0) {
		rc = rc ? rc : -errno;
		goto out;
	}
	while (c->lru.next != &c->lru)
		bc_remove(c, c->lru.next);
	while (c->kept.next != &c->kept)
		bc_remove(c, c->kept.next);
	log_msg(LOGL_WARN, "the cache directory %s was removed; made anew", c->path);
out:
	if (rc)
		log_msg(LOGL_ERROR, "the cache directory %s was removed and cannot be made anew: %s",
			c->path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(blobs);
	return rc;
}

/* ---- the interface ---- */

struct blobcache *blobcache_new(const char *dir, uint64_t max_bytes, int *err)
{
	struct bc_trash trash = { 0, 0 };
	struct blobcache *c = NULL;
	int dfd = -1, rc = 0;

	if (!dir || !*dir) {
		rc = -EINVAL;
		goto out;
	}
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (mkdirat(dfd, "blobs", 0700) < 0 && errno != EEXIST)) {
		rc = -errno;
		goto out;
	}
	if (!(c = calloc(1, sizeof *c))) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_mutex_init(&c->mu, NULL);
	strmap_init(&c->index);
	c->lru.prev = c->lru.next = &c->lru;
	c->kept.prev = c->kept.next = &c->kept;
	c->dirfd = -1;
	c->max_bytes = max_bytes;
	if (!(c->path = strdup(dir))) {
		rc = -ENOMEM;
		goto out;
	}
	c->dirfd = openat(dfd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->dirfd < 0 || (rc = bc_lock(c->dirfd, BC_LOCK_WAIT))) {
		rc = c->dirfd < 0 ? -errno : rc;
		goto out;
	}
	if ((rc = bc_scan(c)))
		goto out;
	bc_evict(c, &trash); /* the cap may have shrunk */
	bc_trash_empty(c, &trash);
out:
	if (dfd >= 0)
		close(dfd);
	if (rc) {
		blobcache_free(c);
		c = NULL;
	}
	if (err)
		*err = rc;
	return c;
}

/* Frees an entry and its blob, if open; the index goes next, so its keys
 * (inside the entries) are not read again. */
static void bc_free_entry(void *val, void *ctx)
{
	struct bc_entry *e = val;

	(void)ctx;
	if (e->open) {
		blob_sync(e->open);
		blob_free(e->open);
	}
	free(e);
}

void blobcache_free(struct blobcache *c)
{
	if (!c)
		return;
	strmap_each(&c->index, bc_free_entry, NULL);
	strmap_free(&c->index);
	if (c->dirfd >= 0)
		close(c->dirfd);
	pthread_mutex_destroy(&c->mu);
	free(c->path);
	free(c);
}

long blobcache_holder(const char *dir)
{
	char *blobs = NULL, *want = NULL, path[64], link[PATH_MAX];
	long pid = 0;
	DIR *procs;

	if (asprintf(&blobs, "%s/blobs", dir) < 0)
		return 0;
	want = realpath(blobs, NULL);
	free(blobs);
	if (!want || !(procs = opendir("/proc"))) {
		free(want);
		return 0;
	}
	/* the lock belongs to whoever holds the directory open; /proc/locks
	 * would name the process that took it, which forked the daemon */
	for (struct dirent *de; !pid && (de = readdir(procs));) {
		char *end;
		long p = strtol(de->d_name, &end, 10);
		if (*end || p <= 0 || p == (long)getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd", p);
		DIR *fds = opendir(path);
		for (struct dirent *fe; fds && !pid && (fe = readdir(fds));) {
			snprintf(path, sizeof path, "/proc/%ld/fd/%.20s", p, fe->d_name);
			ssize_t n = readlink(path, link, sizeof link - 1);
			if (n > 0) {
				link[n] = '\0';
				if (!strcmp(link, want))
					pid = p;
			}
		}
		if (fds)
			closedir(fds);
	}
	closedir(procs);
	free(want);
	return pid;
}

int blobcache_open(struct blobcache *c, const char *key, size_t key_len, uint64_t size,
		   const char *validator, struct blob **out)
{
	struct blob *b = NULL;
	struct bc_entry *e;
	bool added = false;
	uint64_t hash;
	int rc;

	*out = NULL;
	if (!validator)
		validator = "";
	if ((rc = bcmap_check(key, key_len, size, validator)))
		return rc;
	hash = bcmap_hash(key, key_len);
	pthread_mutex_lock(&c->mu);
	e = bc_find(c, hash);
	if (e && e->open) {
		b = e->open;
		if (!blob_is(b, key, key_len)) {
			pthread_mutex_unlock(&c->mu);
			return -EBUSY; /* a hash collision with an open entry */
		}
		b->refs++;
		e->used_at = bc_stamp(c);
		pthread_mutex_unlock(&c->mu);
		if ((rc = blob_revalidate(b, size, validator))) {
			blob_close(b);
			return rc;
		}
		*out = b;
		return 0;
	}
	if (e && e->pinned && blob_foreign(c->dirfd, hash, key, key_len)) {
		pthread_mutex_unlock(&c->mu);
		return -EBUSY; /* a hash collision with an archived entry: it stays */
	}
	if (!e) {
		if ((rc = bc_add(c, hash, &e)))
			goto out;
		added = true;
	}
	rc = blob_load(c, c->dirfd, hash, key, key_len, size, validator, &b);
	if (rc == -ENOENT && bc_revive(c) == 0) {
		if (!(e = bc_find(c, hash))) { /* the revival dropped it: it was closed */
			if ((rc = bc_add(c, hash, &e)))
				goto out;
			added = true;
		}
		rc = blob_load(c, c->dirfd, hash, key, key_len, size, validator, &b);
	}
	if (rc)
		goto out;
	bc_lru_take(e);
	b->e = e;
	b->refs = 1;
	e->open = b;
	e->used_at = bc_stamp(c);
	bc_measure(c, b);
	*out = b;
out:
	if (rc && added)
		bc_remove(c, e);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int blobcache_remove(struct blobcache *c, const char *key, size_t key_len)
{
	struct bc_trash t;
	int rc = 0;

	if (!key && key_len)
		return -EINVAL;
	uint64_t hash = bcmap_hash(key, key_len);
	pthread_mutex_lock(&c->mu);
	t.first = t.end = c->gone;
	struct bc_entry *e = bc_find(c, hash);
	if (!e)
		rc = -ENOENT;
	else if (e->open)
		rc = -EBUSY; /* a reader has it: it goes with the LRU later */
	else
		bc_discard(c, e); /* as an eviction, marker too: renamed now, unlinked below */
	t.end = c->gone;
	pthread_mutex_unlock(&c->mu);
	bc_trash_empty(c, &t);
	return rc;
}

/* Whether closed or open e holds key's file: 0, -ENOENT or -ENOMEM. */
static int bc_holds(struct blobcache *c, struct bc_entry *e, const char *key, size_t key_len)
{
	uint64_t size;
	bool complete;

	if (!e)
		return -ENOENT;
	if (e->open)
		return blob_is(e->open, key, key_len) ? 0 : -ENOENT;
	return blob_peek(c->dirfd, e->hash, key, key_len, &size, &complete);
}

/* The marker is made and its name made durable under c->mu: a pin is rare
 * (once per archived file), and so no discard can run between the marker
 * and the record agreeing. */
int blobcache_pin(struct blobcache *c, const char *key, size_t key_len)
{
	char name[BLOB_NAME];
	struct bc_entry *e;
	int fd, rc;

	if (!key && key_len)
		return -EINVAL;
	uint64_t hash = bcmap_hash(key, key_len);
	pthread_mutex_lock(&c->mu);
	e = bc_find(c, hash);
	if ((rc = bc_holds(c, e, key, key_len)) || e->pinned)
		goto out;
	blob_name(name, hash, BLOB_PIN);
	/* whatever lies at the name goes: the marker is ours, a regular file */
	if (unlinkat(c->dirfd, name, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	close(fd);
	if (fsync(c->dirfd) < 0) {
		rc = -errno;
		unlinkat(c->dirfd, name, 0);
		goto out;
	}
	c->used -= e->bytes;
	c->archived += e->bytes;
	e->pinned = true;
	if (!e->open) {
		bc_lru_take(e);
		bc_lru_push(c, e);
	}
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int blobcache_is_pinned(struct blobcache *c, const char *key, size_t key_len)
{
	struct bc_entry *e;
	int rc;

	if (!key && key_len)
		return -EINVAL;
	uint64_t hash = bcmap_hash(key, key_len);
	pthread_mutex_lock(&c->mu);
	e = bc_find(c, hash);
	if (!(rc = bc_holds(c, e, key, key_len)))
		rc = e->pinned;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int blobcache_peek(struct blobcache *c, const char *key, size_t key_len, uint64_t *size,
		   bool *complete)
{
	struct bc_entry *e;
	uint64_t hash;
	int rc = -ENOENT;

	if (!key && key_len)
		return -EINVAL;
	hash = bcmap_hash(key, key_len);
	pthread_mutex_lock(&c->mu);
	e = bc_find(c, hash);
	if (e && e->open) {
		struct blob *b = e->open;
		if (blob_is(b, key, key_len)) {
			*size = blob_size(b);
			*complete = blob_complete(b);
			rc = 0;
		}
	} else if (e) {
		rc = blob_peek(c->dirfd, hash, key, key_len, size, complete);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void blob_close(struct blob *b)
{
	struct bc_trash trash = { 0, 0 };
	struct blobcache *c;

	if (!b)
		return;
	c = b->c;
	blob_sync(b); /* each closer syncs what it marked: the last finds all synced */
	pthread_mutex_lock(&c->mu);
	if (--b->refs > 0) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	bc_measure(c, b);
	b->e->open = NULL;
	b->e->used_at = bc_stamp(c);
	bc_lru_push(c, b->e);
	bc_evict(c, &trash);
	pthread_mutex_unlock(&c->mu);
	bc_trash_empty(c, &trash);
	blob_free(b);
}

void blobcache_account(struct blobcache *c, struct blob *b, bool evict)
{
	struct bc_trash trash = { 0, 0 };

	pthread_mutex_lock(&c->mu);
	bc_measure(c, b);
	if (evict)
		bc_evict(c, &trash);
	pthread_mutex_unlock(&c->mu);
	bc_trash_empty(c, &trash);
}

uint64_t blobcache_used(struct blobcache *c)
{
	uint64_t used;

	pthread_mutex_lock(&c->mu);
	used = c->used;
	pthread_mutex_unlock(&c->mu);
	return used;
}

uint64_t blobcache_archived(struct blobcache *c)
{
	uint64_t archived;

	pthread_mutex_lock(&c->mu);
	archived = c->archived;
	pthread_mutex_unlock(&c->mu);
	return archived;
}

/* blobcache.c: output files on disk, as DIR/blobs/<hash>.data (sparse, the
 * file's bytes) and <hash>.map (which chunks of it are present).
 *
 * Crash safety is one order: bytes are written, then marked in memory
 * (readers here may use them at once: they are in the page cache), and a
 * sync fdatasyncs the data before it renames a new map over the old one. A
 * map that does not check out (magic, version, length, checksum, key, size)
 * names nothing. Whenever chunks are dropped, the emptied map is made
 * durable before a new byte can land. A failed fdatasync poisons the blob:
 * pages may be lost while the page cache still shows them, so its chunks
 * are forgotten and writes refused until it is reset or reopened.
 *
 * <hash> is the 64-bit FNV-1a of the key, in hex. The key is stored in the
 * map: a key that finds another key's map in its slot takes the slot over
 * (the other file is dropped; it is only a cache), or gets -EBUSY while that
 * other entry is open. Eviction works from memory: one record per map with
 * its bytes on disk and last use, scanned at start (the map's mtime) and
 * stamped at open and close. An open entry is never evicted, so reads need
 * not touch the index. One process per directory (flock); a new one waits a
 * few seconds for the lock, so that a remount right after an unmount finds
 * the old daemon gone. A directory removed under a running mount is made
 * anew at the next open (what was closed is gone with it).
 *
 * Locks: c->mu guards the index and each blob's refs; b->sync_mu admits one
 * map writer at a time; b->mu guards the bitmap and is always taken last.
 * Knows no HTTP and no FUSE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
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

#define BC_SYNC_EVERY ((uint64_t)64 << 20)
#define BC_NAME 32
#define BC_LOCK_WAIT 5.0 /* seconds a new mount waits for the old one to go */

enum { BC_MAP, BC_DATA, BC_TMP };
static const char *const bc_suffix[] = { ".map", ".data", ".map.tmp" };

struct bc_entry {
	uint64_t hash;
	uint64_t bytes;    /* on disk: the data file's blocks plus the map */
	int64_t used_at;   /* ns since the epoch: the LRU order */
	struct blob *open; /* NULL when closed: only then evictable */
};

struct blobcache {
	pthread_mutex_t mu; /* everything below but dirfd, path and max_bytes */
	int dirfd;          /* DIR/blobs, flock'ed; replaced in place (dup3) if removed */
	char *path;         /* DIR */
	uint64_t max_bytes, used;
	int64_t clock; /* the last stamp handed out */
	struct bc_entry **ents;
	size_t n, cap;
};

struct blob {
	struct blobcache *c;
	struct bc_entry *e; /* e and refs: under c->mu */
	int refs;
	int fd;
	uint64_t hash;
	char *key;
	size_t key_len;
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

static void bc_name(char *buf, uint64_t hash, int kind)
{
	snprintf(buf, BC_NAME, "%016" PRIx64 "%s", hash, bc_suffix[kind]);
}

/* Which of our files name is (BC_MAP...), with its hash; -1 when not ours. */
static int bc_parse_name(const char *name, uint64_t *hash)
{
	uint64_t h = 0;

	for (int i = 0; i < 16; i++) {
		char ch = name[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		h = h << 4 | (uint64_t)d;
	}
	for (int k = BC_MAP; k <= BC_TMP; k++)
		if (!strcmp(name + 16, bc_suffix[k])) {
			*hash = h;
			return k;
		}
	return -1;
}

/* Like pread(2), but short only at the end of the file. */
static ssize_t bc_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return done ? (ssize_t)done : -errno;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static int bc_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t r = pwrite(fd, buf, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		buf = (const char *)buf + r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* ---- maps ---- */

/* Reads hash's map for key: 0, -ENOMEM, or another -errno that means
 * "nothing usable" (missing, short, corrupt, another key's). */
static int bc_map_read(int dirfd, uint64_t hash, const char *key, size_t key_len, struct bcmap *m)
{
	char name[BC_NAME];
	uint8_t *buf = NULL;
	struct stat st;
	int fd, rc = -EBADMSG;

	memset(m, 0, sizeof *m);
	bc_name(name, hash, BC_MAP);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)BCMAP_LEN_MIN ||
	    (uint64_t)st.st_size > bcmap_len(BCMAP_KEY_MAX, BCMAP_VAL_MAX, BCMAP_SIZE_MAX))
		goto out;
	size_t len = (size_t)st.st_size;
	if (!(buf = malloc(len))) {
		rc = -ENOMEM;
		goto out;
	}
	if (bc_pread_full(fd, buf, len, 0) != (ssize_t)len)
		goto out;
	if ((rc = bcmap_decode(buf, len, m, NULL)))
		goto out;
	if (m->key_len != key_len || (key_len && memcmp(m->key, key, key_len))) {
		bcmap_clear(m);
		rc = -EBADMSG;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

/* Writes b's map for (validator, size, bits): a temporary file, fsync'd,
 * renamed over the map; the directory is fsync'd too with dir_sync or the
 * first time. Caller holds b->sync_mu (or b is not yet shared). */
static int bc_map_write(struct blob *b, const char *validator, uint64_t size, const uint8_t *bits,
			bool dir_sync)
{
	char tmp[BC_NAME], name[BC_NAME];
	int dirfd = b->c->dirfd, fd = -1, rc;
	uint8_t *buf;
	size_t len;

	if ((rc = bcmap_encode(b->key, b->key_len, validator, size, bits, &buf, &len)))
		return rc;
	bc_name(tmp, b->hash, BC_TMP);
	bc_name(name, b->hash, BC_MAP);
	/* whatever lies at the temporary name goes: never write through it */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = bc_pwrite_full(fd, buf, len, 0)))
		goto out;
	if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		rc = -errno;
		goto out;
	}
	if (dir_sync || !b->map_durable) {
		if (fsync(dirfd) < 0) {
			rc = -errno;
			goto out;
		}
		b->map_durable = true;
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlinkat(dirfd, tmp, 0);
	free(buf);
	return rc;
}

/* Forgets every chunk on disk: an empty map, durable, before the data file
 * is emptied. Caller holds b->sync_mu (or b is not yet shared). */
static int bc_drop(struct blob *b, const char *validator, uint64_t size)
{
	uint8_t *zero = calloc(bcmap_bitmap_len(bcmap_nchunks(size)) + 1, 1);
	int rc;

	if (!zero)
		return -ENOMEM;
	rc = bc_map_write(b, validator, size, zero, true);
	free(zero);
	if (rc)
		return rc;
	if (ftruncate(b->fd, 0) < 0 || ftruncate(b->fd, (off_t)size) < 0)
		return -errno;
	return 0;
}

/* After a failed fdatasync, written pages may be gone while the page cache
 * still shows them (the error is reported once): forget every chunk and
 * let no map name any. Caller holds b->sync_mu. */
static void bc_poison(struct blob *b)
{
	char name[BC_NAME];

	pthread_mutex_lock(&b->mu);
	atomic_store(&b->broken, true);
	memset(b->bits, 0, bcmap_bitmap_len(b->nchunks));
	b->nmarked = 0;
	b->dirty = false;
	atomic_store(&b->complete, b->nchunks == 0);
	pthread_mutex_unlock(&b->mu);
	bc_name(name, b->hash, BC_MAP);
	if (unlinkat(b->c->dirfd, name, 0) == 0)
		fsync(b->c->dirfd);
}

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
	for (size_t i = 0; i < c->n; i++)
		if (c->ents[i]->hash == hash)
			return c->ents[i];
	return NULL;
}

static int bc_add(struct blobcache *c, uint64_t hash, struct bc_entry **out)
{
	struct bc_entry *e;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct bc_entry **p = realloc(c->ents, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		c->ents = p;
		c->cap = cap;
	}
	if (!(e = calloc(1, sizeof *e)))
		return -ENOMEM;
	e->hash = hash;
	c->ents[c->n++] = e;
	*out = e;
	return 0;
}

static void bc_remove(struct blobcache *c, size_t i)
{
	c->used -= c->ents[i]->bytes;
	free(c->ents[i]);
	c->ents[i] = c->ents[--c->n];
}

/* Brings b's entry's bytes up to date: the data file's blocks plus its map. */
static void bc_measure(struct blobcache *c, struct blob *b)
{
	struct stat st;
	uint64_t bytes;

	pthread_mutex_lock(&b->mu);
	bytes = bcmap_len(b->key_len, strlen(b->validator), atomic_load(&b->size));
	pthread_mutex_unlock(&b->mu);
	if (fstat(b->fd, &st) == 0)
		bytes += (uint64_t)st.st_blocks * 512;
	c->used = c->used - b->e->bytes + bytes;
	b->e->bytes = bytes;
}

/* Least recently used closed entries go until the total fits; the map
 * first: a data file without a map is garbage the next scan removes. */
static void bc_evict(struct blobcache *c)
{
	char name[BC_NAME];

	while (c->used > c->max_bytes) {
		size_t v = c->n;
		for (size_t i = 0; i < c->n; i++)
			if (!c->ents[i]->open && (v == c->n || c->ents[i]->used_at < c->ents[v]->used_at))
				v = i;
		if (v == c->n)
			return; /* only open entries: the overshoot is allowed */
		for (int k = BC_MAP; k <= BC_TMP; k++) {
			bc_name(name, c->ents[v]->hash, k);
			unlinkat(c->dirfd, name, 0);
		}
		bc_remove(c, v);
	}
}

/* One entry per map; data files add their blocks. Data files without a map
 * and temporary maps are what a crash left: they go. Others' files stay. */
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
		if (bc_parse_name(de->d_name, &hash) == BC_MAP &&
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
		int kind = bc_parse_name(de->d_name, &hash);
		e = kind == BC_DATA ? bc_find(c, hash) : NULL;
		if (e && fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			e->bytes += (uint64_t)st.st_blocks * 512;
		else if (kind == BC_DATA || kind == BC_TMP)
			unlinkat(c->dirfd, de->d_name, 0);
	}
	for (size_t i = 0; i < c->n; i++)
		c->used += c->ents[i]->bytes;
out:
	closedir(d);
	return rc;
}

/* ---- blobs ---- */

static void bc_blob_free(struct blob *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	pthread_mutex_destroy(&b->sync_mu);
	pthread_mutex_destroy(&b->mu);
	free(b->key);
	free(b->validator);
	free(b->bits);
	free(b);
}

static struct blob *bc_blob_new(struct blobcache *c, uint64_t hash, const char *key,
				size_t key_len, uint64_t size, const char *validator)
{
	struct blob *b = calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->c = c;
	b->fd = -1;
	b->hash = hash;
	pthread_mutex_init(&b->sync_mu, NULL);
	pthread_mutex_init(&b->mu, NULL);
	b->nchunks = bcmap_nchunks(size);
	atomic_init(&b->size, size);
	atomic_init(&b->complete, b->nchunks == 0);
	atomic_init(&b->broken, false);
	b->key = malloc(key_len + 1);
	b->validator = strdup(validator);
	b->bits = calloc(bcmap_bitmap_len(b->nchunks) + 1, 1);
	if (!b->key || !b->validator || !b->bits) {
		bc_blob_free(b);
		return NULL;
	}
	if (key_len)
		memcpy(b->key, key, key_len);
	b->key_len = key_len;
	return b;
}

/* A new blob over hash's files: the stored chunks when the map is key's,
 * with this size and validator, and its data file is there; otherwise none,
 * with an empty map made durable first when an old one could name chunks.
 * Caller holds c->mu. */
static int bc_load(struct blobcache *c, uint64_t hash, const char *key, size_t key_len,
		   uint64_t size, const char *validator, struct blob **out)
{
	struct bcmap m = { 0 };
	char name[BC_NAME];
	struct blob *b;
	struct stat st;
	bool fresh = false;
	int rc = 0, mrc;

	if (!(b = bc_blob_new(c, hash, key, key_len, size, validator)))
		return -ENOMEM;
	bc_name(name, hash, BC_DATA);
	b->fd = openat(c->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (b->fd < 0 && errno == ENOENT) {
		fresh = true;
		b->fd = openat(c->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (b->fd < 0 || fstat(b->fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	mrc = bc_map_read(c->dirfd, hash, key, key_len, &m);
	if (mrc == -ENOMEM) {
		rc = mrc;
	} else if (!mrc && !fresh && (uint64_t)st.st_size == size && m.size == size &&
		   (!*validator || !strcmp(validator, m.validator))) {
		free(b->bits);
		b->bits = m.bits;
		m.bits = NULL;
		if (!*validator) { /* keep what the stored bytes are versions of */
			free(b->validator);
			b->validator = m.validator;
			m.validator = NULL;
		}
		b->nmarked = bcmap_count(b->bits, b->nchunks);
		atomic_store(&b->complete, b->nmarked == b->nchunks);
		b->map_durable = true;
	} else if (mrc == -ENOENT) { /* no map names anything: no hurry */
		b->dirty = true;
		if ((!fresh && ftruncate(b->fd, 0) < 0) || ftruncate(b->fd, (off_t)size) < 0)
			rc = -errno;
	} else {
		rc = bc_drop(b, b->validator, size);
	}
out:
	bcmap_clear(&m);
	if (rc) {
		bc_blob_free(b);
		b = NULL;
	}
	*out = b;
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
	for (size_t i = c->n; i-- > 0;)
		if (!c->ents[i]->open)
			bc_remove(c, i);
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
	bc_evict(c); /* the cap may have shrunk */
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

void blobcache_free(struct blobcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->ents[i]->open) {
			blob_sync(c->ents[i]->open);
			bc_blob_free(c->ents[i]->open);
		}
		free(c->ents[i]);
	}
	free(c->ents);
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
	bool added = false, stale;
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
		if (b->key_len != key_len || (key_len && memcmp(b->key, key, key_len))) {
			pthread_mutex_unlock(&c->mu);
			return -EBUSY; /* a hash collision with an open entry */
		}
		b->refs++;
		e->used_at = bc_stamp(c);
		pthread_mutex_unlock(&c->mu);
		pthread_mutex_lock(&b->mu);
		stale = atomic_load(&b->size) != size || (*validator && strcmp(validator, b->validator));
		pthread_mutex_unlock(&b->mu);
		if (stale && (rc = blob_reset(b, size, validator))) {
			blob_close(b);
			return rc;
		}
		*out = b;
		return 0;
	}
	if (!e) {
		if ((rc = bc_add(c, hash, &e)))
			goto out;
		added = true;
	}
	rc = bc_load(c, hash, key, key_len, size, validator, &b);
	if (rc == -ENOENT && bc_revive(c) == 0) {
		if (!(e = bc_find(c, hash))) { /* the revival dropped it */
			added = false;
			if ((rc = bc_add(c, hash, &e)))
				goto out;
			added = true;
		}
		rc = bc_load(c, hash, key, key_len, size, validator, &b);
	}
	if (rc)
		goto out;
	b->e = e;
	b->refs = 1;
	e->open = b;
	e->used_at = bc_stamp(c);
	bc_measure(c, b);
	*out = b;
out:
	if (rc && added)
		bc_remove(c, c->n - 1);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int blobcache_peek(struct blobcache *c, const char *key, size_t key_len, uint64_t *size,
		   bool *complete)
{
	char name[BC_NAME];
	struct bc_entry *e;
	struct bcmap m;
	struct stat st;
	uint64_t hash;
	int rc = -ENOENT;

	if (!key && key_len)
		return -EINVAL;
	hash = bcmap_hash(key, key_len);
	pthread_mutex_lock(&c->mu);
	e = bc_find(c, hash);
	if (e && e->open) {
		struct blob *b = e->open;
		if (b->key_len == key_len && (!key_len || !memcmp(b->key, key, key_len))) {
			*size = blob_size(b);
			*complete = blob_complete(b);
			rc = 0;
		}
	} else if (e) {
		rc = bc_map_read(c->dirfd, hash, key, key_len, &m);
		bc_name(name, hash, BC_DATA);
		if (!rc && (fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != m.size))
			rc = -ENOENT;
		if (!rc) {
			*size = m.size;
			*complete = bcmap_count(m.bits, bcmap_nchunks(m.size)) == bcmap_nchunks(m.size);
		} else if (rc != -ENOMEM) {
			rc = -ENOENT;
		}
		bcmap_clear(&m);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void blob_close(struct blob *b)
{
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
	bc_evict(c);
	pthread_mutex_unlock(&c->mu);
	bc_blob_free(b);
}

uint64_t blob_size(const struct blob *b)
{
	return atomic_load(&b->size);
}

bool blob_complete(const struct blob *b)
{
	return atomic_load(&b->complete);
}

int64_t blob_first_missing(struct blob *b, uint64_t first, uint64_t last)
{
	int64_t miss = -1;

	pthread_mutex_lock(&b->mu);
	if (b->nchunks && last >= b->nchunks)
		last = b->nchunks - 1;
	for (uint64_t i = first; b->nchunks && i <= last; i++)
		if (!bcmap_bit(b->bits, i)) {
			miss = (int64_t)i;
			break;
		}
	pthread_mutex_unlock(&b->mu);
	return miss;
}

bool blob_has(struct blob *b, uint64_t chunk)
{
	bool has;

	pthread_mutex_lock(&b->mu);
	has = chunk < b->nchunks && bcmap_bit(b->bits, chunk);
	pthread_mutex_unlock(&b->mu);
	return has;
}

int blob_fd(const struct blob *b)
{
	return b->fd;
}

ssize_t blob_pread(struct blob *b, void *buf, size_t len, uint64_t off)
{
	uint64_t size = atomic_load(&b->size);

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	return bc_pread_full(b->fd, buf, len, off);
}

int blob_pwrite(struct blob *b, const void *buf, size_t len, uint64_t off)
{
	uint64_t size = atomic_load(&b->size);

	if (atomic_load(&b->broken))
		return -EIO;
	if (off > size || len > size - off)
		return -EINVAL;
	return bc_pwrite_full(b->fd, buf, len, off);
}

int blob_mark(struct blob *b, uint64_t chunk)
{
	struct blobcache *c = b->c;
	bool fresh = false, sync = false;
	int rc = 0;

	pthread_mutex_lock(&b->mu);
	if (atomic_load(&b->broken)) {
		rc = -EIO;
	} else if (chunk >= b->nchunks) {
		rc = -EINVAL;
	} else if (!bcmap_bit(b->bits, chunk)) {
		uint64_t size = atomic_load(&b->size), start = chunk * BLOB_CHUNK;
		fresh = true;
		bcmap_set(b->bits, chunk);
		b->unsynced += size - start < BLOB_CHUNK ? size - start : BLOB_CHUNK;
		b->dirty = true;
		if (++b->nmarked == b->nchunks)
			atomic_store(&b->complete, true);
		sync = b->unsynced >= BC_SYNC_EVERY || b->nmarked == b->nchunks;
	}
	pthread_mutex_unlock(&b->mu);
	if (!fresh)
		return rc;
	pthread_mutex_lock(&c->mu);
	bc_measure(c, b);
	bc_evict(c);
	pthread_mutex_unlock(&c->mu);
	return sync ? blob_sync(b) : 0;
}

int blob_sync(struct blob *b)
{
	uint8_t *bits = NULL;
	char *val = NULL;
	uint64_t size = 0;
	int rc = 0;

	pthread_mutex_lock(&b->sync_mu);
	pthread_mutex_lock(&b->mu);
	if (atomic_load(&b->broken)) {
		rc = -EIO;
	} else if (b->dirty) {
		size_t blen = bcmap_bitmap_len(b->nchunks);
		bits = malloc(blen + 1);
		val = strdup(b->validator);
		if (bits && val) {
			memcpy(bits, b->bits, blen);
			size = atomic_load(&b->size);
			b->dirty = false;
			b->unsynced = 0;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&b->mu);
	if (rc || !bits)
		goto out;
	/* the snapshot names chunks written before now: make those durable */
	if (fdatasync(b->fd) < 0) {
		rc = -errno;
		bc_poison(b);
		goto out;
	}
	if ((rc = bc_map_write(b, val, size, bits, false))) {
		pthread_mutex_lock(&b->mu);
		b->dirty = true;
		pthread_mutex_unlock(&b->mu);
	}
out:
	pthread_mutex_unlock(&b->sync_mu);
	free(bits);
	free(val);
	return rc;
}

int blob_reset(struct blob *b, uint64_t size, const char *validator)
{
	uint8_t *bits, *old_bits;
	char *val, *old_val;
	int rc;

	if (!validator)
		validator = "";
	if ((rc = bcmap_check(NULL, 0, size, validator)))
		return rc;
	bits = calloc(bcmap_bitmap_len(bcmap_nchunks(size)) + 1, 1);
	val = strdup(validator);
	if (!bits || !val) {
		free(bits);
		free(val);
		return -ENOMEM;
	}
	pthread_mutex_lock(&b->sync_mu);
	pthread_mutex_lock(&b->mu);
	old_bits = b->bits;
	old_val = b->validator;
	b->bits = bits;
	b->validator = val;
	atomic_store(&b->size, size);
	b->nchunks = bcmap_nchunks(size);
	b->nmarked = b->unsynced = 0;
	b->dirty = false;
	atomic_store(&b->complete, b->nchunks == 0);
	pthread_mutex_unlock(&b->mu);
	/* validator is ours to read: changing it takes sync_mu */
	rc = bc_drop(b, b->validator, size);
	/* on failure the old map may still name chunks: no new byte may land */
	atomic_store(&b->broken, rc != 0);
	pthread_mutex_unlock(&b->sync_mu);
	free(old_bits);
	free(old_val);
	pthread_mutex_lock(&b->c->mu);
	bc_measure(b->c, b);
	pthread_mutex_unlock(&b->c->mu);
	return rc;
}

uint64_t blobcache_used(struct blobcache *c)
{
	uint64_t used;

	pthread_mutex_lock(&c->mu);
	used = c->used;
	pthread_mutex_unlock(&c->mu);
	return used;
}

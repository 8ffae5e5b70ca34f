/* blob.c: one entry of the blob cache: its data file (DIR/blobs/<hash>.data,
 * sparse) and map (<hash>.map, which chunks are present); while it is open,
 * its bitmap in memory, marking, syncs and resets.
 *
 * Crash safety is one order: bytes are written, then marked in memory
 * (readers here may use them at once: they are in the page cache), and a
 * sync fdatasyncs the data before it renames a new map over the old one. A
 * map that does not check out (bcmap_decode, and the key) names nothing.
 * Whenever chunks are dropped, the emptied map is made durable before a new
 * byte can land. A failed fdatasync poisons the blob: pages may be lost
 * while the page cache still shows them, so its chunks are forgotten and
 * writes refused until it is reset or reopened.
 *
 * Locks: b->sync_mu admits one map writer at a time and is taken before
 * b->mu, which guards the bitmap and is always taken last. Neither is held
 * while blobcache_account() takes the cache's lock.
 *
 * Knows no index, no eviction and no other blob: what it tells the cache
 * goes through blobcache_account(). Knows no HTTP and no FUSE. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/bcmap.h"
#include "aifs/blobcache.h"
#include "blobcache_int.h"

#define BLOB_SYNC_EVERY ((uint64_t)64 << 20)

static const char *const blob_suffix[] = { ".map", ".data", ".map.tmp", ".pin", ".gone" };

void blob_name(char *buf, uint64_t hash, enum blob_file kind)
{
	snprintf(buf, BLOB_NAME, "%016" PRIx64 "%s", hash, blob_suffix[kind]);
}

int blob_parse_name(const char *name, uint64_t *hash)
{
	uint64_t h = 0;

	for (int i = 0; i < 16; i++) {
		char ch = name[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		h = h << 4 | (uint64_t)d;
	}
	for (int k = BLOB_MAP; k <= BLOB_GONE; k++)
		if (!strcmp(name + 16, blob_suffix[k])) {
			*hash = h;
			return k;
		}
	return -1;
}

/* Like pread(2), but short only at the end of the file. */
static ssize_t blob_pread_full(int fd, void *buf, size_t len, uint64_t off)
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

static int blob_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
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
 * "nothing usable" (missing, short, corrupt; -EEXIST: another key's). */
static int blob_map_read(int dirfd, uint64_t hash, const char *key, size_t key_len,
			 struct bcmap *m)
{
	char name[BLOB_NAME];
	uint8_t *buf = NULL;
	struct stat st;
	int fd, rc = -EBADMSG;

	memset(m, 0, sizeof *m);
	blob_name(name, hash, BLOB_MAP);
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
	if (blob_pread_full(fd, buf, len, 0) != (ssize_t)len)
		goto out;
	if ((rc = bcmap_decode(buf, len, m, NULL)))
		goto out;
	if (m->key_len != key_len || (key_len && memcmp(m->key, key, key_len))) {
		bcmap_clear(m);
		rc = -EEXIST;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

int blob_peek(int dirfd, uint64_t hash, const char *key, size_t key_len, uint64_t *size,
	      bool *complete)
{
	char name[BLOB_NAME];
	struct bcmap m;
	struct stat st;
	int rc = blob_map_read(dirfd, hash, key, key_len, &m);

	blob_name(name, hash, BLOB_DATA);
	if (!rc && (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size != m.size))
		rc = -ENOENT;
	if (!rc) {
		*size = m.size;
		*complete = bcmap_count(m.bits, bcmap_nchunks(m.size)) == bcmap_nchunks(m.size);
	} else if (rc != -ENOMEM) {
		rc = -ENOENT;
	}
	bcmap_clear(&m);
	return rc;
}

bool blob_foreign(int dirfd, uint64_t hash, const char *key, size_t key_len)
{
	struct bcmap m;
	int rc = blob_map_read(dirfd, hash, key, key_len, &m);

	bcmap_clear(&m);
	return rc == -EEXIST;
}

/* Writes b's map for (validator, size, bits): a temporary file, fsync'd,
 * renamed over the map; the directory is fsync'd too with dir_sync or the
 * first time. Caller holds b->sync_mu (or b is not yet shared). */
static int blob_map_write(struct blob *b, const char *validator, uint64_t size, const uint8_t *bits,
			  bool dir_sync)
{
	char tmp[BLOB_NAME], name[BLOB_NAME];
	int dirfd = b->dirfd, fd = -1, rc;
	uint8_t *buf;
	size_t len;

	if ((rc = bcmap_encode(b->key, b->key_len, validator, size, bits, &buf, &len)))
		return rc;
	blob_name(tmp, b->hash, BLOB_TMP);
	blob_name(name, b->hash, BLOB_MAP);
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
	if ((rc = blob_pwrite_full(fd, buf, len, 0)))
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
static int blob_drop(struct blob *b, const char *validator, uint64_t size)
{
	uint8_t *zero = calloc(bcmap_bitmap_len(bcmap_nchunks(size)) + 1, 1);
	int rc;

	if (!zero)
		return -ENOMEM;
	rc = blob_map_write(b, validator, size, zero, true);
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
static void blob_poison(struct blob *b)
{
	char name[BLOB_NAME];

	pthread_mutex_lock(&b->mu);
	atomic_store(&b->broken, true);
	memset(b->bits, 0, bcmap_bitmap_len(b->nchunks));
	b->nmarked = 0;
	b->dirty = false;
	atomic_store(&b->complete, b->nchunks == 0);
	pthread_mutex_unlock(&b->mu);
	blob_name(name, b->hash, BLOB_MAP);
	if (unlinkat(b->dirfd, name, 0) == 0)
		fsync(b->dirfd);
}

/* ---- blobs ---- */

void blob_free(struct blob *b)
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

static struct blob *blob_new(struct blobcache *c, int dirfd, uint64_t hash, const char *key,
			     size_t key_len, uint64_t size, const char *validator)
{
	struct blob *b = calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->c = c;
	b->dirfd = dirfd;
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
		blob_free(b);
		return NULL;
	}
	if (key_len)
		memcpy(b->key, key, key_len);
	b->key_len = key_len;
	return b;
}

/* Whether a file of have_size whose bytes are versions of have_val is what
 * an opener of size and validator wants: "" takes any version. */
static bool blob_same(uint64_t have_size, const char *have_val, uint64_t size,
		      const char *validator)
{
	return have_size == size && (!*validator || !strcmp(validator, have_val));
}

/* The stored chunks when the map is key's, with this size and validator,
 * and its data file is there; otherwise none, with an empty map made
 * durable first when an old one could name chunks. */
int blob_load(struct blobcache *c, int dirfd, uint64_t hash, const char *key, size_t key_len,
	      uint64_t size, const char *validator, struct blob **out)
{
	struct bcmap m = { 0 };
	char name[BLOB_NAME];
	struct blob *b;
	struct stat st;
	bool fresh = false;
	int rc = 0, mrc;

	if (!(b = blob_new(c, dirfd, hash, key, key_len, size, validator)))
		return -ENOMEM;
	blob_name(name, hash, BLOB_DATA);
	b->fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (b->fd < 0 && errno == ENOENT) {
		fresh = true;
		b->fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (b->fd < 0 || fstat(b->fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	mrc = blob_map_read(dirfd, hash, key, key_len, &m);
	if (mrc == -ENOMEM) {
		rc = mrc;
	} else if (!mrc && !fresh && (uint64_t)st.st_size == size &&
		   blob_same(m.size, m.validator, size, validator)) {
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
		rc = blob_drop(b, b->validator, size);
	}
out:
	bcmap_clear(&m);
	if (rc) {
		blob_free(b);
		b = NULL;
	}
	*out = b;
	return rc;
}

bool blob_is(const struct blob *b, const char *key, size_t key_len)
{
	return b->key_len == key_len && (!key_len || !memcmp(b->key, key, key_len));
}

int blob_revalidate(struct blob *b, uint64_t size, const char *validator)
{
	bool stale;

	pthread_mutex_lock(&b->mu);
	stale = !blob_same(atomic_load(&b->size), b->validator, size, validator);
	pthread_mutex_unlock(&b->mu);
	return stale ? blob_reset(b, size, validator) : 0;
}

uint64_t blob_disk_bytes(struct blob *b)
{
	struct stat st;
	uint64_t bytes;

	pthread_mutex_lock(&b->mu);
	bytes = bcmap_len(b->key_len, strlen(b->validator), atomic_load(&b->size));
	pthread_mutex_unlock(&b->mu);
	if (fstat(b->fd, &st) == 0)
		bytes += (uint64_t)st.st_blocks * 512;
	return bytes;
}

/* ---- the interface ---- */

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
	return blob_pread_full(b->fd, buf, len, off);
}

int blob_pwrite(struct blob *b, const void *buf, size_t len, uint64_t off)
{
	uint64_t size = atomic_load(&b->size);

	if (atomic_load(&b->broken))
		return -EIO;
	if (off > size || len > size - off)
		return -EINVAL;
	return blob_pwrite_full(b->fd, buf, len, off);
}

int blob_mark(struct blob *b, uint64_t chunk)
{
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
		sync = b->unsynced >= BLOB_SYNC_EVERY || b->nmarked == b->nchunks;
	}
	pthread_mutex_unlock(&b->mu);
	if (!fresh)
		return rc;
	blobcache_account(b->c, b, true);
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
		blob_poison(b);
		goto out;
	}
	if ((rc = blob_map_write(b, val, size, bits, false))) {
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
	rc = blob_drop(b, b->validator, size);
	/* on failure the old map may still name chunks: no new byte may land */
	atomic_store(&b->broken, rc != 0);
	pthread_mutex_unlock(&b->sync_mu);
	free(old_bits);
	free(old_val);
	blobcache_account(b->c, b, false);
	return rc;
}

/* test_blobcache.c: the on-disk cache of output files: chunks and maps,
 * persistence, corrupt and foreign maps, crashes (a child that _exits),
 * eviction, threads, hostile keys and planted symlinks; pinned entries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aifs/blobcache.h"
#include "t.h"

#define MIB ((uint64_t)BLOB_CHUNK)
#define GIB ((uint64_t)1 << 30)

/* ---- helpers ---- */

static char *tmp_root(void)
{
	char tmpl[] = "/tmp/aifs-bc-XXXXXX";
	return mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void rm_root(char *root)
{
	if (root)
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

static void path_of(char *out, size_t n, const char *root, const char *name)
{
	snprintf(out, n, "%s/blobs/%s", root, name);
}

/* The bytes of chunk ch of a file seeded seed: distinct per file and chunk. */
static void fill(uint8_t *buf, size_t len, uint64_t ch, unsigned seed)
{
	memset(buf, (int)(seed * 31 + ch * 7 + 1) & 0xff, len);
	for (size_t i = 0; i + 8 <= len && i < 4096; i += 8)
		memcpy(buf + i, &(uint64_t){ ch << 32 | seed << 16 | i }, 8);
}

static size_t chunk_len(struct blob *b, uint64_t ch)
{
	uint64_t left = blob_size(b) - ch * MIB;
	return (size_t)(left < MIB ? left : MIB);
}

static int put_chunk(struct blob *b, uint64_t ch, unsigned seed, int mark)
{
	size_t len = chunk_len(b, ch);
	uint8_t *buf = malloc(MIB);
	int rc = -ENOMEM;

	if (buf) {
		fill(buf, len, ch, seed);
		rc = blob_pwrite(b, buf, len, ch * MIB);
		if (!rc && mark)
			rc = blob_mark(b, ch);
	}
	free(buf);
	return rc;
}

/* 0 when chunk ch reads back as put_chunk wrote it. */
static int chunk_ok(struct blob *b, uint64_t ch, unsigned seed)
{
	size_t len = chunk_len(b, ch);
	uint8_t *want = malloc(MIB), *got = malloc(MIB);
	int rc = -ENOMEM;

	if (want && got) {
		fill(want, len, ch, seed);
		rc = blob_pread(b, got, MIB, ch * MIB) == (ssize_t)len && !memcmp(want, got, len)
			     ? 0
			     : -EIO;
	}
	free(want);
	free(got);
	return rc;
}

static int put_all(struct blob *b, unsigned seed)
{
	int rc = 0;
	for (uint64_t ch = 0; !rc && ch * MIB < blob_size(b); ch++)
		rc = put_chunk(b, ch, seed, 1);
	return rc;
}

/* Creates key as a complete file of size bytes, and closes it. */
static int make_file(struct blobcache *c, const char *key, uint64_t size, const char *v,
		     unsigned seed)
{
	struct blob *b;
	int rc = blobcache_open(c, key, strlen(key), size, v, &b);
	if (!rc)
		rc = put_all(b, seed);
	blob_close(b);
	return rc;
}

static int peek(struct blobcache *c, const char *key, uint64_t *size, bool *complete)
{
	return blobcache_peek(c, key, strlen(key), size, complete);
}

/* How many names in root/blobs end in suffix; the last one in name. */
static int names(const char *root, const char *suffix, char *name, size_t n)
{
	char dir[512];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/blobs", root);
	if (!(d = opendir(dir)))
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		if (l > sl && !strcmp(de->d_name + l - sl, suffix)) {
			count++;
			if (name)
				snprintf(name, n, "%s", de->d_name);
		}
	}
	closedir(d);
	return count;
}

/* What the cache should count: data blocks plus map lengths. */
static uint64_t disk_usage(const char *root)
{
	char dir[512], p[1024];
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/blobs", root);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || stat(p, &st) < 0)
			continue;
		sum += strstr(de->d_name, ".data") ? (uint64_t)st.st_blocks * 512
						     : (uint64_t)st.st_size;
	}
	closedir(d);
	return sum;
}

static ssize_t slurp(const char *path, uint8_t *buf, size_t max)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, max);
	if (fd >= 0)
		close(fd);
	return n;
}

static int spit(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, buf, len);
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* ---- tests ---- */

TEST(write_mark_read)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b, *b2;
	uint64_t size = 2 * MIB + 12345; /* 3 chunks, the last short */
	uint8_t buf[64];
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)) && err == 0);
	CHECK_INT(blobcache_open(c, "k", 1, size, "v1", &b), 0);
	CHECK_INT(blob_size(b), size);
	CHECK(!blob_complete(b));
	CHECK_INT(blob_first_missing(b, 0, 2), 0);

	CHECK_INT(put_chunk(b, 2, 1, 1), 0); /* the short last chunk */
	CHECK(blob_has(b, 2) && !blob_has(b, 1) && !blob_has(b, 3));
	CHECK_INT(blob_first_missing(b, 2, 2), -1);
	CHECK_INT(blob_first_missing(b, 2, 1000), -1);
	CHECK_INT(blob_first_missing(b, 1, 1000), 1);
	CHECK_INT(chunk_ok(b, 2, 1), 0);

	uint8_t *chunk = malloc(MIB);
	CHECK(chunk);
	fill(chunk, MIB, 0, 1);
	CHECK_INT(blob_pwrite(b, chunk, MIB / 2, 0), 0); /* half a chunk: absent */
	CHECK(!blob_has(b, 0));
	CHECK_INT(blob_first_missing(b, 0, 2), 0);
	CHECK_INT(blob_pwrite(b, chunk + MIB / 2, MIB / 2, MIB / 2), 0);
	free(chunk);
	CHECK_INT(blob_mark(b, 0), 0);
	CHECK_INT(blob_mark(b, 0), 0); /* twice is harmless */
	CHECK(blob_has(b, 0));
	CHECK_INT(blob_first_missing(b, 0, 2), 1);

	CHECK_INT(blobcache_open(c, "k", 1, size, "", &b2), 0); /* refcounted */
	CHECK(b2 == b);
	blob_close(b2);

	CHECK_INT(put_chunk(b, 1, 1, 1), 0);
	CHECK(blob_complete(b));
	CHECK_INT(blob_first_missing(b, 0, UINT64_MAX), -1);
	for (uint64_t ch = 0; ch < 3; ch++)
		CHECK_INT(chunk_ok(b, ch, 1), 0);
	CHECK_INT(blob_pread(b, buf, sizeof buf, size), 0);
	CHECK_INT(blob_pread(b, buf, sizeof buf, size - 10), 10);
	CHECK_INT(blob_pwrite(b, buf, 11, size - 10), -EINVAL);
	CHECK_INT(blob_pwrite(b, buf, 1, size + 1), -EINVAL);
	CHECK_INT(blob_mark(b, 3), -EINVAL);
	CHECK(blobcache_used(c) >= size);
	blob_close(b);
	blob_close(NULL);
	CHECK_INT(blobcache_used(c), disk_usage(root));

	/* an empty file is complete at once; limits are errors, not crashes */
	CHECK_INT(blobcache_open(c, "empty", 5, 0, "", &b), 0);
	CHECK(blob_complete(b));
	CHECK_INT(blob_first_missing(b, 0, 10), -1);
	CHECK_INT(blob_mark(b, 0), -EINVAL);
	blob_close(b);
	CHECK_INT(blobcache_open(c, "big", 3, (uint64_t)1 << 41, "", &b), -EFBIG);
	CHECK(b == NULL);
	blobcache_free(c);
	blobcache_free(NULL);
	rm_root(root);
}

TEST(persists_across_restart)
{
	static const char key[] = "volc\0cgt-2024\0video.mp4";
	char *root = tmp_root();
	struct blobcache *c, *c2;
	struct blob *b;
	uint64_t size = 0;
	bool complete = false;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK(!blobcache_new(root, GIB, &err) && err == -EBUSY); /* one owner */
	CHECK_INT(blobcache_open(c, key, sizeof key, 3 * MIB + 7, "\"etag1\"", &b), 0);
	CHECK_INT(put_all(b, 2), 0);
	blob_close(b);
	CHECK_INT(blobcache_open(c, "partial", 7, 3 * MIB, "", &b), 0);
	CHECK_INT(put_chunk(b, 1, 3, 1), 0);
	blob_close(b);
	uint64_t used = blobcache_used(c);
	blobcache_free(c);

	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_used(c), used);
	CHECK_INT(blobcache_used(c), disk_usage(root));
	CHECK_INT(blobcache_peek(c, key, sizeof key, &size, &complete), 0);
	CHECK(size == 3 * MIB + 7 && complete);
	CHECK_INT(blobcache_peek(c, key, sizeof key - 1, &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "partial", &size, &complete), 0);
	CHECK(size == 3 * MIB && !complete);
	CHECK_INT(peek(c, "nope", &size, &complete), -ENOENT);

	CHECK_INT(blobcache_open(c, key, sizeof key, 3 * MIB + 7, "", &b), 0);
	CHECK(blob_complete(b));
	for (uint64_t ch = 0; ch < 4; ch++)
		CHECK_INT(chunk_ok(b, ch, 2), 0);
	blob_close(b);
	CHECK_INT(blobcache_open(c, key, sizeof key, 3 * MIB + 7, "\"etag1\"", &b), 0);
	CHECK(blob_complete(b)); /* "" kept the stored validator */
	blob_close(b);
	CHECK_INT(blobcache_open(c, "partial", 7, 3 * MIB, "", &b), 0);
	CHECK(blob_has(b, 1) && !blob_has(b, 0) && !blob_has(b, 2));
	CHECK_INT(chunk_ok(b, 1, 3), 0);
	CHECK_INT(blob_first_missing(b, 1, 2), 2);
	/* peek sees an open entry as it is in memory */
	CHECK_INT(put_chunk(b, 0, 3, 1), 0);
	CHECK_INT(put_chunk(b, 2, 3, 1), 0);
	CHECK_INT(peek(c, "partial", &size, &complete), 0);
	CHECK(complete);
	/* free persists open entries */
	blobcache_free(c);
	CHECK((c2 = blobcache_new(root, GIB, &err)));
	CHECK_INT(peek(c2, "partial", &size, &complete), 0);
	CHECK(complete);
	blobcache_free(c2);
	rm_root(root);
}

TEST(size_or_validator_change_drops)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	uint64_t size = 2 * MIB;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "k", size, "a", 4), 0);
	CHECK_INT(blobcache_open(c, "k", 1, size, "b", &b), 0);
	CHECK(!blob_complete(b) && !blob_has(b, 0) && !blob_has(b, 1));
	CHECK_INT(put_chunk(b, 0, 5, 1), 0);
	blob_close(b);
	blobcache_free(c);

	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "k", 1, size, "b", &b), 0);
	CHECK(blob_has(b, 0) && !blob_has(b, 1));
	CHECK_INT(chunk_ok(b, 0, 5), 0);
	blob_close(b);
	CHECK_INT(blobcache_open(c, "k", 1, size + 1, "b", &b), 0);
	CHECK(!blob_has(b, 0));
	CHECK_INT(blob_size(b), size + 1);
	blob_close(b);
	CHECK_INT(peek(c, "k", &size, &complete), 0);
	CHECK(size == 2 * MIB + 1 && !complete);

	/* a stored validator, then a server that sends none: chunks stay */
	CHECK_INT(make_file(c, "k", size, "c", 6), 0);
	CHECK_INT(blobcache_open(c, "k", 1, size, "", &b), 0);
	CHECK(blob_complete(b));
	blob_close(b);
	/* an open entry that another opener sees with a new validator */
	struct blob *b2;
	CHECK_INT(blobcache_open(c, "k", 1, size, "c", &b), 0);
	CHECK(blob_complete(b));
	CHECK_INT(blobcache_open(c, "k", 1, size, "d", &b2), 0);
	CHECK(b2 == b && !blob_complete(b) && !blob_has(b, 0));
	blob_close(b2);
	blob_close(b);
	blobcache_free(c);
	rm_root(root);
}

TEST(reset_drops_and_resizes)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "k", 1, 3 * MIB, "v1", &b), 0);
	CHECK_INT(put_all(b, 7), 0);
	CHECK(blob_complete(b));
	CHECK_INT(blob_reset(b, 2 * MIB + 5, "v2"), 0);
	CHECK(!blob_complete(b) && !blob_has(b, 0));
	CHECK_INT(blob_size(b), 2 * MIB + 5);
	CHECK_INT(blob_first_missing(b, 0, 10), 0);
	CHECK_INT(put_chunk(b, 0, 8, 1), 0);
	blob_close(b);
	blobcache_free(c);

	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "k", 1, 2 * MIB + 5, "v2", &b), 0);
	CHECK(blob_has(b, 0) && !blob_has(b, 1) && !blob_has(b, 2));
	CHECK_INT(chunk_ok(b, 0, 8), 0);
	CHECK_INT(blob_reset(b, 0, ""), 0);
	CHECK(blob_complete(b));
	blob_close(b);
	blobcache_free(c);
	rm_root(root);
}

/* A child process that dies without closing anything stands for a crash:
 * only what blob_sync() wrote may be named after it. */
TEST(crash_keeps_only_synced_chunks)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	uint64_t size;
	bool complete;
	int err, status;
	pid_t pid;

	CHECK(root);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		c = blobcache_new(root, GIB, &err);
		if (!c || blobcache_open(c, "k", 1, 4 * MIB, "v", &b) || put_chunk(b, 0, 9, 1) ||
		    put_chunk(b, 1, 9, 1) || blob_sync(b) || put_chunk(b, 2, 9, 1))
			_exit(1);
		_exit(0); /* chunk 2 marked, never synced */
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "k", 1, 4 * MIB, "v", &b), 0);
	CHECK(blob_has(b, 0) && blob_has(b, 1) && !blob_has(b, 2) && !blob_has(b, 3));
	CHECK_INT(chunk_ok(b, 1, 9), 0);
	blob_close(b);
	blobcache_free(c);

	/* a reset is on disk before any byte of the new version */
	if ((pid = fork()) == 0) {
		c = blobcache_new(root, GIB, &err);
		if (!c || blobcache_open(c, "k", 1, 4 * MIB, "v", &b) || put_all(b, 10) ||
		    !blob_complete(b) || blob_reset(b, 3 * MIB, "") || put_chunk(b, 0, 11, 0))
			_exit(1);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(peek(c, "k", &size, &complete), 0);
	CHECK(size == 3 * MIB && !complete);
	CHECK_INT(blobcache_open(c, "k", 1, 3 * MIB, "", &b), 0);
	CHECK_INT(blob_first_missing(b, 0, 2), 0);
	CHECK_INT(blob_first_missing(b, 1, 2), 1);
	blob_close(b);
	blobcache_free(c);
	rm_root(root);
}

TEST(corrupt_or_truncated_map_names_nothing)
{
	char *root = tmp_root();
	char name[256], map[1024], tmp[1100];
	uint8_t orig[512], bad[512];
	struct blobcache *c;
	struct blob *b;
	uint64_t size;
	bool complete;
	ssize_t len;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "key", 3 * MIB - 1, "v", 12), 0);
	blobcache_free(c);
	CHECK_INT(names(root, ".map", name, sizeof name), 1);
	path_of(map, sizeof map, root, name);
	len = slurp(map, orig, sizeof orig);
	CHECK(len > 40 && len < 100);

	/* every single flipped byte, every truncation: nothing present */
	for (ssize_t i = 0; i < 2 * len; i++) {
		memcpy(bad, orig, (size_t)len);
		bad[i % len] ^= i < len ? 0x01 : 0x80;
		CHECK_INT(spit(map, bad, (size_t)(i < len ? len : i - len)), 0);
		CHECK((c = blobcache_new(root, GIB, &err)));
		CHECK_INT(peek(c, "key", &size, &complete), -ENOENT);
		blobcache_free(c);
	}
	/* opening one drops what was there for good */
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "key", 3, 3 * MIB - 1, "v", &b), 0);
	CHECK_INT(blob_first_missing(b, 0, 2), 0);
	blob_close(b);
	CHECK_INT(peek(c, "key", &size, &complete), 0);
	CHECK(size == 3 * MIB - 1 && !complete);
	blobcache_free(c);
	/* a leftover temporary map is not read: it claims a complete file
	 * where the real map names none */
	snprintf(tmp, sizeof tmp, "%s.tmp", map);
	CHECK_INT(spit(tmp, orig, (size_t)len), 0);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(peek(c, "key", &size, &complete), 0);
	CHECK(!complete);
	CHECK_INT(blobcache_open(c, "key", 3, 3 * MIB - 1, "", &b), 0);
	CHECK_INT(blob_first_missing(b, 0, 2), 0);
	blob_close(b);
	CHECK(access(tmp, F_OK) < 0);
	blobcache_free(c);
	rm_root(root);
}

/* The one name in root/blobs ending in suffix that is not except. */
static int other_name(const char *root, const char *suffix, const char *except, char *name,
		      size_t n)
{
	char dir[512];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/blobs", root);
	if (!(d = opendir(dir)))
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		if (l > sl && !strcmp(de->d_name + l - sl, suffix) && strcmp(de->d_name, except)) {
			count++;
			snprintf(name, n, "%s", de->d_name);
		}
	}
	closedir(d);
	return count;
}

static int move(const char *root, const char *from, const char *to, const char *suffix)
{
	char a[600], b[600];

	snprintf(a, sizeof a, "%s/blobs/%.16s%s", root, from, suffix);
	snprintf(b, sizeof b, "%s/blobs/%.16s%s", root, to, suffix);
	return rename(a, b);
}

/* Two keys with one hash: staged by moving alpha's files to bravo's names. */
TEST(another_keys_map_in_the_slot)
{
	char *root = tmp_root();
	char an[256], bn[256];
	struct blobcache *c;
	struct blob *b;
	uint64_t size;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "alpha", 2 * MIB, "", 13), 0);
	CHECK_INT(names(root, ".map", an, sizeof an), 1);
	CHECK_INT(blobcache_open(c, "bravo", 5, 2 * MIB, "", &b), 0);
	blob_close(b);
	blobcache_free(c);
	CHECK_INT(other_name(root, ".map", an, bn, sizeof bn), 1);
	CHECK_INT(move(root, an, bn, ".map"), 0);
	CHECK_INT(move(root, an, bn, ".data"), 0);

	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(peek(c, "bravo", &size, &complete), -ENOENT); /* alpha's map */
	CHECK_INT(peek(c, "alpha", &size, &complete), -ENOENT);
	CHECK_INT(blobcache_open(c, "bravo", 5, 2 * MIB, "", &b), 0);
	CHECK(!blob_has(b, 0) && !blob_has(b, 1)); /* bravo took the slot over */
	CHECK_INT(put_chunk(b, 1, 14, 1), 0);
	blob_close(b);
	CHECK_INT(peek(c, "bravo", &size, &complete), 0);
	CHECK(!complete);
	CHECK_INT(peek(c, "alpha", &size, &complete), -ENOENT);
	blobcache_free(c);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "bravo", 5, 2 * MIB, "", &b), 0);
	CHECK(!blob_has(b, 0) && blob_has(b, 1));
	CHECK_INT(chunk_ok(b, 1, 14), 0);
	blob_close(b);
	CHECK_INT(blobcache_open(c, "alpha", 5, 2 * MIB, "", &b), 0);
	CHECK(!blob_has(b, 0)); /* alpha starts over in its own slot */
	blob_close(b);
	blobcache_free(c);
	rm_root(root);
}

/* The map that holds key (stored as it is), as a path. */
static int map_of(const char *root, const char *key, char *path, size_t n)
{
	char dir[512];
	uint8_t buf[512];
	struct dirent *de;
	ssize_t len;
	int found = -1;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/blobs", root);
	if (!(d = opendir(dir)))
		return -1;
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".map"))
			continue;
		snprintf(path, n, "%s/%s", dir, de->d_name);
		len = slurp(path, buf, sizeof buf);
		if (len > 0 && memmem(buf, (size_t)len, key, strlen(key))) {
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

TEST(eviction_is_lru_and_spares_open)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *d, *e, *x, *y;
	uint64_t size;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, 3 * MIB + MIB / 4, &err)));
	CHECK_INT(make_file(c, "evict:A", MIB, "", 1), 0);
	CHECK_INT(make_file(c, "evict:B", MIB, "", 2), 0);
	CHECK_INT(make_file(c, "evict:C", MIB, "", 3), 0);
	CHECK_INT(blobcache_used(c), disk_usage(root));
	CHECK_INT(blobcache_open(c, "evict:A", 7, MIB, "", &d), 0); /* A is now the newest */
	blob_close(d);
	CHECK_INT(blobcache_open(c, "evict:D", 7, MIB, "", &d), 0);
	CHECK_INT(put_all(d, 4), 0); /* over the cap: B goes */
	CHECK_INT(peek(c, "evict:B", &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "evict:A", &size, &complete), 0);
	CHECK_INT(peek(c, "evict:C", &size, &complete), 0);
	CHECK(blobcache_used(c) <= 3 * MIB + MIB / 4);
	CHECK_INT(blobcache_open(c, "evict:E", 7, MIB, "", &e), 0);
	CHECK_INT(put_all(e, 5), 0); /* C is the oldest closed one */
	CHECK_INT(peek(c, "evict:C", &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "evict:A", &size, &complete), 0);
	CHECK_INT(chunk_ok(d, 0, 4), 0);
	blob_close(d);
	blob_close(e);
	CHECK_INT(names(root, ".map", NULL, 0), 3);
	CHECK_INT(blobcache_used(c), disk_usage(root));
	blobcache_free(c);

	/* across a restart, the maps' times give the order; a smaller cap
	 * evicts at once */
	const char *order[] = { "evict:E", "evict:A", "evict:D" }; /* oldest first */
	for (int i = 0; i < 3; i++) {
		char p[1024];
		CHECK_INT(map_of(root, order[i], p, sizeof p), 0);
		struct timespec ts[2] = { { 1000000 + i, 0 }, { 1000000 + i, 0 } };
		CHECK_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
	CHECK((c = blobcache_new(root, 2 * MIB + MIB / 4, &err)));
	CHECK_INT(peek(c, "evict:E", &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "evict:A", &size, &complete), 0);
	CHECK_INT(peek(c, "evict:D", &size, &complete), 0);
	CHECK_INT(blobcache_used(c), disk_usage(root));
	blobcache_free(c);

	/* a cap of 0 keeps only what is open */
	CHECK((c = blobcache_new(root, 0, &err)));
	CHECK_INT(blobcache_used(c), 0);
	CHECK_INT(names(root, ".data", NULL, 0), 0);
	CHECK_INT(blobcache_open(c, "X", 1, 2 * MIB, "", &x), 0);
	CHECK_INT(put_all(x, 30), 0);
	CHECK_INT(blobcache_open(c, "Y", 1, MIB, "", &y), 0);
	CHECK_INT(put_all(y, 31), 0);
	CHECK(blob_complete(x) && blob_complete(y));
	CHECK_INT(peek(c, "X", &size, &complete), 0); /* open: kept over the cap */
	CHECK_INT(names(root, ".data", NULL, 0), 2);
	CHECK(blobcache_used(c) >= 3 * MIB);
	blob_close(x);
	CHECK_INT(peek(c, "X", &size, &complete), -ENOENT);
	CHECK_INT(chunk_ok(y, 0, 31), 0);
	blob_close(y);
	CHECK_INT(blobcache_used(c), 0);
	CHECK_INT(names(root, "", NULL, 0), 2); /* . and .. */
	blobcache_free(c);
	rm_root(root);
}

/* Many entries: each new file evicts exactly the least recently used closed
 * one, whether it was last used by a write or only by an open. */
TEST(many_entries_evict_oldest_first)
{
	char *root = tmp_root(), key[16];
	struct blobcache *c;
	struct blob *b;
	uint64_t per, size;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "k000", 1, "", 0), 0);
	per = blobcache_used(c); /* one 1-byte file and its map */
	CHECK(per > 0);
	blobcache_free(c);
	rm_root(root);

	CHECK((root = tmp_root()));
	CHECK((c = blobcache_new(root, 100 * per, &err)));
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		CHECK_INT(make_file(c, key, 1, "", (unsigned)i), 0);
	}
	CHECK_INT(blobcache_used(c), 100 * per);
	for (int i = 0; i < 100; i += 2) { /* the even ones are used again */
		snprintf(key, sizeof key, "k%03d", i);
		CHECK_INT(blobcache_open(c, key, 4, 1, "", &b), 0);
		CHECK(blob_complete(b));
		blob_close(b);
	}
	for (int i = 100; i < 150; i++) { /* each evicts the oldest odd one */
		snprintf(key, sizeof key, "k%03d", i);
		CHECK_INT(make_file(c, key, 1, "", (unsigned)i), 0);
		snprintf(key, sizeof key, "k%03d", 2 * (i - 100) + 1);
		CHECK_INT(peek(c, key, &size, &complete), -ENOENT);
		if (i < 149) {
			snprintf(key, sizeof key, "k%03d", 2 * (i - 100) + 3);
			CHECK_INT(peek(c, key, &size, &complete), 0);
		}
	}
	for (int i = 0; i < 150; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		CHECK_INT(peek(c, key, &size, &complete), i < 100 && i % 2 ? -ENOENT : 0);
	}
	CHECK_INT(blobcache_used(c), 100 * per);
	CHECK_INT(blobcache_used(c), disk_usage(root));
	CHECK_INT(names(root, ".map", NULL, 0), 100);
	blobcache_free(c);
	rm_root(root);
}

TEST(sync_every_64_mib)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "big", 3, 100 * MIB, "", &b), 0);
	for (uint64_t ch = 0; ch < 63; ch++)
		CHECK_INT(put_chunk(b, ch, 40, 1), 0);
	CHECK_INT(names(root, ".map", NULL, 0), 0); /* a new file: no map yet */
	CHECK_INT(put_chunk(b, 63, 40, 1), 0);
	CHECK_INT(names(root, ".map", NULL, 0), 1);
	blob_close(b);
	blobcache_free(c);
	rm_root(root);
}

struct worker {
	struct blobcache *c;
	struct blob *shared;
	unsigned t;
	int rc;
};

#define N_THREADS 4
#define T_SIZE (24 * MIB + 100)

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct blob *b;

	if ((w->rc = blobcache_open(w->c, "shared", 6, T_SIZE, "v", &b)))
		return NULL;
	if (b != w->shared)
		w->rc = -EINVAL;
	for (uint64_t ch = w->t; !w->rc && ch < 25; ch += N_THREADS) {
		w->rc = put_chunk(b, ch, 50, 1);
		if (!w->rc && (!blob_has(b, ch) || chunk_ok(b, ch, 50)))
			w->rc = -EIO;
		(void)blob_first_missing(b, 0, 24);
		(void)blob_complete(b);
		(void)blobcache_used(w->c);
	}
	blob_close(b);
	return NULL;
}

TEST(threads_share_one_blob)
{
	char *root = tmp_root();
	struct worker w[N_THREADS];
	pthread_t th[N_THREADS];
	struct blobcache *c;
	struct blob *b;
	uint64_t size;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(blobcache_open(c, "shared", 6, T_SIZE, "v", &b), 0);
	for (unsigned i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){ .c = c, .shared = b, .t = i };
		CHECK_INT(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < N_THREADS; i++)
		CHECK_INT(w[i].rc, 0);
	CHECK(blob_complete(b));
	CHECK_INT(blob_first_missing(b, 0, 24), -1);
	for (uint64_t ch = 0; ch < 25; ch++)
		CHECK_INT(chunk_ok(b, ch, 50), 0);
	blob_close(b);
	blobcache_free(c);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(peek(c, "shared", &size, &complete), 0);
	CHECK(size == T_SIZE && complete);
	blobcache_free(c);
	rm_root(root);
}

/* Everything under parent must be parent/cache, its blobs directory and
 * our own names in it, all private. */
static int walk_bad;
static int walk_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	const char *base = p + f->base;
	size_t l = strlen(base);
	bool ours = l == 21 && !strcmp(base + 16, ".data");
	ours = ours || (l == 20 && !strcmp(base + 16, ".map"));
	for (size_t i = 0; ours && i < 16; i++)
		ours = strchr("0123456789abcdef", base[i]) != NULL;
	if (f->level == 0)
		return 0;
	if (flag == FTW_D && ((f->level == 1 && !strcmp(base, "cache")) ||
			      (f->level == 2 && !strcmp(base, "blobs"))) &&
	    !(st->st_mode & 077))
		return 0;
	if (flag == FTW_F && f->level == 3 && ours && strstr(p, "/cache/blobs/") &&
	    !(st->st_mode & 077))
		return 0;
	fprintf(stderr, "  unexpected: %s\n", p);
	walk_bad++;
	return 0;
}

#define CHURN_KEYS 6
#define CHURN_ROUNDS 150
#define CHURN_SIZE 5000

/* Opens, fills or checks, and closes small files under a cap that holds
 * about three of the six, so evictions run beside opens of what they evict. */
static void *churn_run(void *arg)
{
	struct worker *w = arg;
	struct blob *b;
	char key[16];

	for (unsigned i = 0; !w->rc && i < CHURN_ROUNDS; i++) {
		unsigned k = (i * 7 + w->t * 3) % CHURN_KEYS;
		snprintf(key, sizeof key, "churn%u", k);
		if ((w->rc = blobcache_open(w->c, key, strlen(key), CHURN_SIZE, "", &b)))
			break;
		if (blob_has(b, 0))
			w->rc = chunk_ok(b, 0, 60 + k); /* a marked chunk reads back */
		else
			w->rc = put_chunk(b, 0, 60 + k, 1);
		blob_close(b);
	}
	return NULL;
}

TEST(evictions_beside_opens_lose_nothing)
{
	char *root = tmp_root(), p[1024];
	struct worker w[N_THREADS];
	pthread_t th[N_THREADS];
	struct blobcache *c;
	int err;

	CHECK(root);
	/* what an eviction cut short by a crash left goes at start; a name
	 * that is not the cache's stays */
	snprintf(p, sizeof p, "%s/blobs", root);
	CHECK_INT(mkdir(p, 0700), 0);
	path_of(p, sizeof p, root, "00000000000000ff.gone");
	CHECK_INT(spit(p, (const uint8_t *)"x", 1), 0);
	path_of(p, sizeof p, root, "notours.gone");
	CHECK_INT(spit(p, (const uint8_t *)"x", 1), 0);
	CHECK((c = blobcache_new(root, 3 * (8192 + 64), &err)));
	CHECK_INT(names(root, ".gone", NULL, 0), 1);
	CHECK(access(p, F_OK) == 0);
	CHECK_INT(unlink(p), 0);

	for (unsigned i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){ .c = c, .t = i };
		CHECK_INT(pthread_create(&th[i], NULL, churn_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < N_THREADS; i++)
		CHECK_INT(w[i].rc, 0);
	CHECK(names(root, ".map", NULL, 0) < CHURN_KEYS);
	CHECK_INT(names(root, ".gone", NULL, 0), 0);
	CHECK_INT(blobcache_used(c), disk_usage(root));
	blobcache_free(c);
	rm_root(root);
}

TEST(keys_never_name_paths)
{
	static const char nul_key[] = "\0../\0/";
	const char *keys[] = { "../../x", "/etc/passwd", "a/b/c", "..", ".", "" };
	char *parent = tmp_root(), root[600], *huge;
	struct blobcache *c;
	struct blob *b;
	uint64_t size;
	bool complete;
	int err;

	CHECK(parent);
	snprintf(root, sizeof root, "%s/cache", parent);
	CHECK((c = blobcache_new(root, GIB, &err)));
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		CHECK_INT(make_file(c, keys[i], 10, "../v", 60 + (unsigned)i), 0);
	CHECK_INT(blobcache_open(c, nul_key, sizeof nul_key, 10, "", &b), 0);
	CHECK_INT(put_all(b, 70), 0);
	blob_close(b);
	CHECK((huge = malloc(4097)));
	memset(huge, '/', 4097);
	CHECK_INT(blobcache_open(c, huge, 4096, 10, "", &b), 0);
	CHECK_INT(put_all(b, 71), 0);
	blob_close(b);
	CHECK_INT(blobcache_open(c, huge, 4097, 10, "", &b), -ENAMETOOLONG);
	free(huge);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		CHECK_INT(peek(c, keys[i], &size, &complete), 0);
		CHECK(complete && size == 10);
	}
	CHECK_INT(blobcache_peek(c, nul_key, sizeof nul_key, &size, &complete), 0);
	CHECK_INT(blobcache_peek(c, nul_key, 1, &size, &complete), -ENOENT);
	blobcache_free(c);
	walk_bad = 0;
	CHECK_INT(nftw(parent, walk_one, 16, FTW_PHYS), 0);
	CHECK_INT(walk_bad, 0);
	CHECK_INT(names(root, ".data", NULL, 0), 8);
	rm_root(parent);
}

TEST(planted_symlinks_are_not_followed)
{
	char *root = tmp_root();
	char name[256], victim[1024], p[1024];
	uint8_t buf[64];
	struct blobcache *c;
	struct blob *b;
	uint64_t size;
	bool complete;
	int err;

	CHECK(root);
	snprintf(victim, sizeof victim, "%s/victim", root);
	CHECK_INT(spit(victim, (const uint8_t *)"precious", 8), 0);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "k", 100, "", 80), 0);
	blobcache_free(c);
	CHECK_INT(names(root, ".data", name, sizeof name), 1);
	path_of(p, sizeof p, root, name);

	/* before start: a data file that is a symlink goes at the scan */
	CHECK_INT(unlink(p), 0);
	CHECK_INT(symlink(victim, p), 0);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(peek(c, "k", &size, &complete), -ENOENT);
	CHECK_INT(blobcache_open(c, "k", 1, 100, "", &b), 0);
	CHECK(!blob_has(b, 0));
	CHECK_INT(put_all(b, 81), 0);
	blob_close(b);

	/* while running: at the data file, then at the temporary map */
	CHECK_INT(unlink(p), 0);
	CHECK_INT(symlink(victim, p), 0);
	CHECK(blobcache_open(c, "k", 1, 100, "", &b) < 0);
	CHECK_INT(unlink(p), 0);
	strcpy(name + 16, ".map.tmp");
	path_of(p, sizeof p, root, name);
	CHECK_INT(symlink(victim, p), 0);
	CHECK_INT(blobcache_open(c, "k", 1, 100, "", &b), 0);
	CHECK_INT(put_all(b, 82), 0); /* complete: the map is written */
	blob_close(b);
	CHECK_INT(peek(c, "k", &size, &complete), 0);
	CHECK(complete);
	blobcache_free(c);
	CHECK_INT(slurp(victim, buf, sizeof buf), 8);
	CHECK(!memcmp(buf, "precious", 8));
	rm_root(root);
}

/* ---- pins: the archive's entries ---- */

static int pin(struct blobcache *c, const char *key)
{
	return blobcache_pin(c, key, strlen(key));
}

static int pinned(struct blobcache *c, const char *key)
{
	return blobcache_is_pinned(c, key, strlen(key));
}

/* A small cap evicts unpinned entries, least recently used first, and
 * never a pinned one, whose bytes count apart. */
TEST(pinned_entries_are_never_evicted)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	uint64_t size, one;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, 2 * MIB + MIB / 4, &err)));
	CHECK_INT(pin(c, "pin:A"), -ENOENT);
	CHECK_INT(pinned(c, "pin:A"), -ENOENT);
	CHECK_INT(make_file(c, "pin:A", MIB, "", 1), 0);
	one = blobcache_used(c);
	CHECK(one >= MIB);
	CHECK_INT(blobcache_archived(c), 0);
	CHECK_INT(pinned(c, "pin:A"), 0);
	CHECK_INT(pin(c, "pin:A"), 0);
	CHECK_INT(pin(c, "pin:A"), 0); /* again: nothing changes */
	CHECK_INT(pinned(c, "pin:A"), 1);
	CHECK_INT(pinned(c, "pin:a"), -ENOENT);
	CHECK_INT(blobcache_used(c), 0);
	CHECK_INT(blobcache_archived(c), one);
	CHECK_INT(names(root, ".pin", NULL, 0), 1);

	/* an open entry may be pinned; it never returns to the LRU */
	CHECK_INT(blobcache_open(c, "pin:E", 5, MIB, "", &b), 0);
	CHECK_INT(pin(c, "pin:E"), 0);
	CHECK_INT(put_all(b, 5), 0);
	blob_close(b);
	CHECK_INT(pinned(c, "pin:E"), 1);
	CHECK_INT(blobcache_used(c), 0);
	CHECK_INT(blobcache_archived(c), 2 * one);

	CHECK_INT(make_file(c, "pin:B", MIB, "", 2), 0);
	CHECK_INT(make_file(c, "pin:C", MIB, "", 3), 0);
	CHECK_INT(blobcache_used(c), 2 * one); /* the pinned two do not count */
	CHECK_INT(make_file(c, "pin:D", MIB, "", 4), 0); /* over the cap: B goes */
	CHECK_INT(peek(c, "pin:B", &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "pin:C", &size, &complete), 0);
	CHECK_INT(make_file(c, "pin:F", MIB, "", 6), 0); /* then C */
	CHECK_INT(peek(c, "pin:C", &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "pin:D", &size, &complete), 0);
	CHECK_INT(peek(c, "pin:A", &size, &complete), 0);
	CHECK(complete);
	CHECK_INT(peek(c, "pin:E", &size, &complete), 0);
	CHECK(complete);
	CHECK_INT(blobcache_used(c), 2 * one);
	CHECK_INT(blobcache_archived(c), 2 * one);
	CHECK_INT(blobcache_used(c) + blobcache_archived(c), disk_usage(root));
	CHECK_INT(names(root, ".pin", NULL, 0), 2);
	CHECK_INT(blobcache_open(c, "pin:A", 5, MIB, "", &b), 0);
	CHECK_INT(chunk_ok(b, 0, 1), 0);
	blob_close(b);
	CHECK_INT(blobcache_used(c), 2 * one);
	blobcache_free(c);
	rm_root(root);
}

/* Pins survive a restart; a cap of 0 then keeps only them. */
TEST(pins_survive_restart)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	uint64_t size, archived;
	bool complete;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "keep", 2 * MIB + 7, "v", 21), 0);
	CHECK_INT(make_file(c, "lose", MIB, "", 22), 0);
	CHECK_INT(pin(c, "keep"), 0);
	archived = blobcache_archived(c);
	CHECK(archived > 2 * MIB);
	blobcache_free(c);

	CHECK((c = blobcache_new(root, GIB, &err)) && err == 0);
	CHECK_INT(pinned(c, "keep"), 1);
	CHECK_INT(pinned(c, "lose"), 0);
	CHECK_INT(blobcache_archived(c), archived);
	CHECK_INT(blobcache_used(c) + archived, disk_usage(root));
	blobcache_free(c);

	CHECK((c = blobcache_new(root, 0, &err)) && err == 0);
	CHECK_INT(peek(c, "lose", &size, &complete), -ENOENT);
	CHECK_INT(peek(c, "keep", &size, &complete), 0);
	CHECK(complete && size == 2 * MIB + 7);
	CHECK_INT(pinned(c, "keep"), 1);
	CHECK_INT(blobcache_used(c), 0);
	CHECK_INT(blobcache_archived(c), archived);
	CHECK_INT(blobcache_open(c, "keep", 4, 2 * MIB + 7, "v", &b), 0);
	CHECK_INT(chunk_ok(b, 2, 21), 0);
	blob_close(b);
	CHECK_INT(peek(c, "keep", &size, &complete), 0); /* closed over a cap of 0 */
	CHECK_INT(names(root, ".map", NULL, 0), 1);
	CHECK_INT(names(root, ".pin", NULL, 0), 1);
	blobcache_free(c);
	rm_root(root);
}

/* Removing a pinned entry takes its marker too: the next file of that key
 * is not pinned, now or after a restart. An open one is -EBUSY. */
TEST(remove_drops_pinned_entries)
{
	char *root = tmp_root();
	struct blobcache *c;
	struct blob *b;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "gone", MIB, "", 31), 0);
	CHECK_INT(make_file(c, "stays", MIB, "", 32), 0);
	CHECK_INT(pin(c, "gone"), 0);
	CHECK_INT(pin(c, "stays"), 0);
	CHECK_INT(blobcache_open(c, "stays", 5, MIB, "", &b), 0);
	CHECK_INT(blobcache_remove(c, "stays", 5), -EBUSY);
	blob_close(b);
	CHECK_INT(names(root, ".pin", NULL, 0), 2);
	CHECK_INT(blobcache_remove(c, "gone", 4), 0);
	CHECK_INT(pinned(c, "gone"), -ENOENT);
	CHECK_INT(names(root, ".pin", NULL, 0), 1);
	CHECK_INT(names(root, ".map", NULL, 0), 1);
	CHECK_INT(names(root, ".gone", NULL, 0), 0);
	CHECK_INT(blobcache_archived(c) + blobcache_used(c), disk_usage(root));
	CHECK_INT(make_file(c, "gone", MIB, "", 33), 0);
	CHECK_INT(pinned(c, "gone"), 0);
	blobcache_free(c);

	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(pinned(c, "gone"), 0);
	CHECK_INT(pinned(c, "stays"), 1);
	CHECK_INT(blobcache_remove(c, "stays", 5), 0);
	CHECK_INT(blobcache_archived(c), 0);
	CHECK_INT(names(root, ".pin", NULL, 0), 0);
	blobcache_free(c);
	rm_root(root);
}

/* A crash between a discard's renames may leave a marker without its map;
 * the scan unlinks it, so it pins nothing later. */
TEST(markers_without_a_map_are_cleaned)
{
	char *root = tmp_root();
	char mn[256], p[1024];
	struct blobcache *c;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "crashed", MIB, "", 41), 0);
	CHECK_INT(pin(c, "crashed"), 0);
	blobcache_free(c);
	CHECK_INT(names(root, ".map", mn, sizeof mn), 1);
	path_of(p, sizeof p, root, mn);
	CHECK_INT(unlink(p), 0); /* the map went first, the marker did not */
	path_of(p, sizeof p, root, "0123456789abcdef.pin"); /* never had a map */
	CHECK_INT(spit(p, (const uint8_t *)"", 0), 0);
	CHECK_INT(names(root, ".pin", NULL, 0), 2);

	CHECK((c = blobcache_new(root, GIB, &err)) && err == 0);
	CHECK_INT(names(root, ".pin", NULL, 0), 0);
	CHECK_INT(names(root, ".data", NULL, 0), 0);
	CHECK_INT(blobcache_archived(c), 0);
	CHECK_INT(pinned(c, "crashed"), -ENOENT);
	CHECK_INT(make_file(c, "crashed", MIB, "", 42), 0);
	CHECK_INT(pinned(c, "crashed"), 0);
	blobcache_free(c);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(pinned(c, "crashed"), 0);
	blobcache_free(c);
	rm_root(root);
}

/* Two keys with one hash (staged as above): a pinned entry's slot is not
 * taken over by the other key. */
TEST(pinned_slot_is_not_taken_over)
{
	char *root = tmp_root();
	char an[256], bn[256];
	struct blobcache *c;
	struct blob *b;
	int err;

	CHECK(root);
	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(make_file(c, "alpha", 2 * MIB, "", 51), 0);
	CHECK_INT(pin(c, "alpha"), 0);
	CHECK_INT(names(root, ".map", an, sizeof an), 1);
	CHECK_INT(blobcache_open(c, "bravo", 5, 2 * MIB, "", &b), 0);
	blob_close(b);
	blobcache_free(c);
	CHECK_INT(other_name(root, ".map", an, bn, sizeof bn), 1);
	CHECK_INT(move(root, an, bn, ".map"), 0);
	CHECK_INT(move(root, an, bn, ".data"), 0);
	CHECK_INT(move(root, an, bn, ".pin"), 0);

	CHECK((c = blobcache_new(root, GIB, &err)));
	CHECK_INT(pinned(c, "bravo"), -ENOENT); /* alpha's map */
	CHECK_INT(pin(c, "bravo"), -ENOENT);
	CHECK_INT(blobcache_open(c, "bravo", 5, 2 * MIB, "", &b), -EBUSY);
	CHECK_INT(names(root, ".pin", NULL, 0), 1);
	CHECK_INT(blobcache_archived(c) + blobcache_used(c), disk_usage(root));
	CHECK(blobcache_archived(c) > 2 * MIB);
	blobcache_free(c);
	rm_root(root);
}

T_MAIN(T_CASE(write_mark_read), T_CASE(persists_across_restart),
       T_CASE(size_or_validator_change_drops), T_CASE(reset_drops_and_resizes),
       T_CASE(crash_keeps_only_synced_chunks), T_CASE(corrupt_or_truncated_map_names_nothing),
       T_CASE(another_keys_map_in_the_slot), T_CASE(eviction_is_lru_and_spares_open),
       T_CASE(many_entries_evict_oldest_first),
       T_CASE(sync_every_64_mib), T_CASE(threads_share_one_blob),
       T_CASE(evictions_beside_opens_lose_nothing), T_CASE(keys_never_name_paths),
       T_CASE(planted_symlinks_are_not_followed), T_CASE(pinned_entries_are_never_evicted),
       T_CASE(pins_survive_restart), T_CASE(remove_drops_pinned_entries),
       T_CASE(markers_without_a_map_are_cleaned), T_CASE(pinned_slot_is_not_taken_over))

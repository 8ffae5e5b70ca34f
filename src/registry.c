/* registry.c: the known-ids files. Plain lines, appended with O_APPEND and
 * replaced by rename, so a crash leaves either the old or the new file. A
 * cache directory removed under the mount is made anew at the next write.
 * Knows nothing of tasks beyond their ids. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/idenc.h"
#include "aifs/log.h"
#include "aifs/registry.h"

struct registry {
	char *dir;  /* CACHE_DIR/known */
	char *path; /* dir/PROVIDER */
};

struct registry *registry_new(const char *cache_dir, const char *provider)
{
	struct registry *r = calloc(1, sizeof *r);
	char *dir = NULL;
	if (!r || asprintf(&dir, "%s/known", cache_dir) < 0)
		goto fail;
	/* the cache directory itself exists: main() made it before the tree */
	if (mkdir(dir, 0700) && errno != EEXIST)
		log_msg(LOGL_WARN, "%s: cannot create %s: %s", provider, dir, strerror(errno));
	if (asprintf(&r->path, "%s/%s", dir, provider) < 0)
		goto fail;
	r->dir = dir;
	return r;
fail:
	free(dir);
	free(r);
	return NULL;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->dir);
	free(r);
}

/* open(2) of a file in r->dir, making the directory (and its parents) anew
 * when someone removed it. */
static int reg_open(const struct registry *r, const char *path, int flags)
{
	int fd = open(path, flags, 0600);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	for (char *p = r->dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(r->dir, 0700);
		*p = '/';
	}
	mkdir(r->dir, 0700);
	return open(path, flags, 0600);
}

int registry_load(struct registry *r, int (*fn)(void *ctx, const char *id, size_t len), void *ctx)
{
	FILE *f = fopen(r->path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0, lineno = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		size_t len;
		char *id = idenc_decode(line, &len);
		if (!id) {
			log_msg(LOGL_WARN, "%s:%d: not a task id, skipped", r->path, lineno);
			continue;
		}
		rc = fn(ctx, id, len);
		free(id);
		if (rc)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_line(int fd, const char *id, size_t len)
{
	char *name = idenc_encode(id, len);
	if (!name)
		return -EINVAL;
	size_t n = strlen(name);
	name[n] = '\n'; /* the NUL is not written; the buffer is n + 1 long */
	int rc = write_all(fd, name, n + 1);
	free(name);
	return rc;
}

int registry_add(struct registry *r, const char *id, size_t len)
{
	int fd = reg_open(r, r->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = write_line(fd, id, len);
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int registry_rewrite(struct registry *r, const char *const *ids, const size_t *lens, size_t n)
{
	char *tmp = NULL;
	int rc = 0, fd;

	if (asprintf(&tmp, "%s.tmp", r->path) < 0)
		return -ENOMEM;
	fd = reg_open(r, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = write_line(fd, ids[i], lens[i]);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, r->path))
		rc = -errno;
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

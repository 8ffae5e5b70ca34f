/* fsdir.c: directory listings for the kernel. Each opendir answers with a
 * snapshot of the directory; readdirplus gives each entry's attributes where
 * the tree has them without waiting, so `ls -l` costs no lookup per entry;
 * and the kernel may cache a listing (cache_readdir), kept across opens
 * only while the directory holds what it held at the last open, so a
 * listing that changed is read anew within the TTL. Knows no curl, no JSON
 * and no provider by name. */
#include "fs_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/tree.h"

static uint64_t dir_hash(const struct tree_dir *d)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < d->n; i++) {
		const struct tree_dirent *e = &d->ents[i];
		for (const unsigned char *c = (const unsigned char *)e->name; *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		uint64_t v[2] = { e->ino, e->mode };
		for (size_t k = 0; k < sizeof v; k++)
			h = (h ^ ((const unsigned char *)v)[k]) * 1099511628211ULL;
	}
	return h;
}

/* Whether directory ino holds what it held when last opened; remembers what
 * it holds now. The kernel's cached listing is kept only then, so a listing
 * that changed is read anew at the next opendir: within the TTL. */
static bool dir_unchanged(struct fs *fs, fuse_ino_t ino, const struct tree_dir *d)
{
	uint64_t h = dir_hash(d), key = ino;
	bool same = false;

	pthread_mutex_lock(&fs->dirs_mu);
	struct dirseen *ds = strmap_get(&fs->dirs, (const char *)&key, sizeof key);
	if (ds) {
		same = ds->hash == h;
		ds->hash = h;
	} else if ((ds = malloc(sizeof *ds))) {
		*ds = (struct dirseen){ .ino = key, .hash = h };
		if (strmap_put(&fs->dirs, (const char *)&ds->ino, sizeof ds->ino, ds))
			free(ds);
	}
	pthread_mutex_unlock(&fs->dirs_mu);
	return same;
}

void fsdir_reply_open(fuse_req_t req, int rc, fuse_ino_t ino, struct tree_dir *d,
			  struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	fi->fh = (uintptr_t)d;
	fi->cache_readdir = 1;
	fi->keep_cache = dir_unchanged(fs, ino, d);
	if (fuse_reply_open(req, fi))
		tree_dir_free(d); /* the opener went away */
}

/* readdir and readdirplus: the entries from off on, as many as fit. With
 * plus, each entry's attributes where the tree has them without waiting,
 * so that `ls -l` needs no lookup per entry; an entry without them (ino 0)
 * is looked up by the kernel as usual. */
static void fill(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_dir *d = (struct tree_dir *)(uintptr_t)fi->fh;
	char *buf = malloc(size), *p = buf;
	size_t left = size, n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < d->n + 2; i++) {
		struct fuse_entry_param e;
		struct tree_attr a;
		const char *name = i == 0 ? "." : i == 1 ? ".." : d->ents[i - 2].name;

		memset(&e, 0, sizeof e);
		if (plus && i >= 2 && tree_getattr(fs->tree, d->ents[i - 2].ino, TREE_NOWAIT, &a) == 0) {
			e.ino = a.ino;
			e.generation = 1;
			e.attr_timeout = e.entry_timeout = a.timeout;
			fs_fill_stat(fs, &a, &e.attr);
		} else {
			e.attr.st_ino = i < 2 ? ino : d->ents[i - 2].ino; /* 0 would hide "." and ".." */
			e.attr.st_mode = i < 2 ? S_IFDIR : d->ents[i - 2].mode;
		}
		if (plus)
			n = fuse_add_direntry_plus(req, p, left, name, &e, (off_t)(i + 1));
		else
			n = fuse_add_direntry(req, p, left, name, &e.attr, (off_t)(i + 1));
		if (n > left)
			break;
		p += n;
		left -= n;
	}
	fuse_reply_buf(req, buf, size - left);
	free(buf);
}

void fsdir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	fill(req, ino, size, off, fi, false);
}

void fsdir_readplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	fill(req, ino, size, off, fi, true);
}

void fsdir_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	tree_dir_free((struct tree_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void free_val(void *val, void *ctx)
{
	(void)ctx;
	free(val);
}

void fsdir_free(struct fs *fs)
{
	strmap_each(&fs->dirs, free_val, NULL);
	strmap_free(&fs->dirs);
	pthread_mutex_destroy(&fs->dirs_mu);
}

/* tree.h: the directory model. Providers, their tasks, each task's files;
 * the metadata cache with its TTL and single-flight calls.
 *
 *   ino 1               the mount's root
 *   ino 2 + p           provider p's directory
 *   (p + 1) << 48 | (t + 1) << 6 | k
 *                       task t of provider p: k = 0 its directory, 1 status,
 *                       2 meta.json, 3 error, 4.. its output files
 *
 * Every call that may need the network takes TREE_NOWAIT: then it answers
 * -EWOULDBLOCK instead of waiting, so the caller can hand the work to a
 * thread that may wait. Without it, a call waits at most about
 * timeout x (retries + 1) plus backoff. Knows no FUSE and no curl. */
#ifndef AIFS_TREE_H
#define AIFS_TREE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct aifs_conf;
struct aifs_err;
struct api;
struct media;
struct provider_conf;
struct registry;

#define TREE_ROOT_INO 1
#define TREE_NOWAIT 1

struct tree_attr {
	uint64_t ino;
	unsigned mode;    /* S_IFDIR | 0555, S_IFREG | 0444, ... */
	unsigned nlink;
	uint64_t size;
	int64_t mtime;    /* Unix seconds */
	double timeout;   /* how long the kernel may keep this, seconds */
};

struct tree_dirent {
	const char *name; /* borrowed from the tree: valid while it lives */
	uint64_t ino;
	unsigned mode;
};

struct tree_dir {
	struct tree_dirent *ents;
	size_t n;
};

struct tree;
struct tree_file;

/* What the tree is given of one provider; every field borrowed. */
struct tree_provider {
	const struct provider_conf *pc;
	struct api *api;
	struct registry *reg;
};

/* Returns a new tree over n providers and the download engine media (all
 * borrowed, must outlive it), loading every provider's known ids; *hup
 * (borrowed) is a counter that a signal handler bumps to drop cached state
 * (SIGHUP). Starts no thread. NULL with err filled on failure. */
struct tree *tree_new(const struct aifs_conf *conf, const struct tree_provider *provs, size_t n,
		      struct media *media, atomic_uint *hup, struct aifs_err *err);
/* changed(ctx, ino) is told when a file's content or size changed under
 * the kernel's caches (an output replaced on the server). It may be called
 * from any thread, never while a tree lock is held. Set before mounting. */
void tree_set_notify(struct tree *t, void (*changed)(void *ctx, uint64_t ino), void *ctx);
void tree_free(struct tree *t);

/* Which provider an inode belongs to (its queue of work), -1 for the root. */
int tree_provider_of(const struct tree *t, uint64_t ino);
size_t tree_n_providers(const struct tree *t);

int tree_lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		struct tree_attr *out);
int tree_getattr(struct tree *t, uint64_t ino, int flags, struct tree_attr *out);

/* Registers an existing task id (SPEC: mkdir PROVIDER/ID). */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out);

/* A snapshot of a directory; *out is new, free with tree_dir_free(). */
int tree_opendir(struct tree *t, uint64_t ino, int flags, struct tree_dir **out);
void tree_dir_free(struct tree_dir *d);

/* Opens a file for reading. *out is new, free with tree_release().
 * *keep_cache: the content never changes, the kernel may keep it across
 * opens; *direct: the size may change while open, bypass the page cache. */
int tree_open(struct tree *t, uint64_t ino, int flags, struct tree_file **out,
	      bool *keep_cache, bool *direct);
/* True when a read of this file may wait on the network. */
bool tree_file_is_remote(const struct tree_file *f);
/* Reads like pread(2): a byte count (0 at the end) or -errno. */
ssize_t tree_read(struct tree *t, struct tree_file *f, char *buf, size_t size, off_t off);
/* For an output file's bytes already on disk: 0 with a descriptor to send
 * len bytes from at off; then, once they are sent, tree_read_fd_done(),
 * which the descriptor and f outlive even when the file is released
 * meanwhile. -EWOULDBLOCK when a read must wait (use tree_read from a
 * thread that may). Never waits on the network. */
int tree_read_fd(struct tree_file *f, size_t size, off_t off, int *fd, size_t *len);
void tree_read_fd_done(struct tree_file *f);
void tree_release(struct tree_file *f);

#endif

/* tree.h: the directory model. Providers, their tasks, each task's files;
 * the metadata cache with its TTL and single-flight calls.
 *
 *   ino 1               the mount's root
 *   ino 2 + p           provider p's directory
 *   (p + 1) << 48 | (t + 1) << 6 | k
 *                       task t of provider p: k = 0 its directory, 1 status,
 *                       2 meta.json, 3 error, 4 .wait, 5.. its output files
 *   (p + 1) << 48 | 1 << 47 | l << 6 | k
 *                       provider p's .new (l = 0, k = 0) and the files of
 *                       its label l - 1: k = 1 LABEL.json, 2 LABEL, 3 LABEL.error
 *   1 << 47 | 1, | 2    the control directory .aifs and its file stats
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
	char **owned;     /* names this listing copied */
	size_t n_owned;
};

struct tree;
struct tree_file;

/* What the tree is given of one provider; every field borrowed. */
struct tree_provider {
	const struct provider_conf *pc;
	struct api *api;
	struct registry *reg;
	struct cluster_acct *acct; /* cluster mode: the account's share; else NULL */
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
/* What .aifs/stats says of cluster mode: state(ctx) returns "off", "on" or
 * "degraded" (a static string), from any thread, without waiting. Without
 * it, "off". Set before mounting. */
void tree_set_cluster(struct tree *t, const char *(*state)(void *ctx), void *ctx);

/* True for a directory whose names come and go under the kernel (.new):
 * it must not remember that a name is missing. */
bool tree_names_change(struct tree *t, uint64_t dir);

/* Which provider an inode belongs to (its queue of work), -1 for the root. */
int tree_provider_of(const struct tree *t, uint64_t ino);
size_t tree_n_providers(const struct tree *t);

int tree_lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		struct tree_attr *out);
int tree_getattr(struct tree *t, uint64_t ino, int flags, struct tree_attr *out);

/* Registers an existing task id (SPEC: mkdir PROVIDER/ID). */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out);

/* Cancels or deletes a task (SPEC: rmdir PROVIDER/ID): waits on the API. */
int tree_rmdir(struct tree *t, uint64_t parent, const char *name);
/* rm of a label in .new forgets it; elsewhere -EPERM. */
int tree_unlink(struct tree *t, uint64_t parent, const char *name);
/* The target of a symbolic link (.new/LABEL -> ../ID), NUL-terminated. */
int tree_readlink(struct tree *t, uint64_t ino, char *buf, size_t size);

/* A snapshot of a directory; *out is new, free with tree_dir_free(). */
int tree_opendir(struct tree *t, uint64_t ino, int flags, struct tree_dir **out);
void tree_dir_free(struct tree_dir *d);

/* Opens a file; oflags are open(2)'s (O_ACCMODE, O_TRUNC): only a draft
 * in .new opens for writing (-EACCES elsewhere, -EEXIST once submitted).
 * *out is new, free with tree_release(). *keep_cache: the content never
 * changes, the kernel may keep it across opens; *direct: the size may
 * change while open, bypass the page cache. */
int tree_open(struct tree *t, uint64_t ino, int flags, int oflags, struct tree_file **out,
	      bool *keep_cache, bool *direct);
/* Creates LABEL.json in a provider's .new and opens it for writing: -EINVAL
 * for any other name, -EPERM outside .new. */
int tree_create(struct tree *t, uint64_t parent, const char *name, int oflags,
		struct tree_attr *out, struct tree_file **f);
/* Writes into a draft's buffer: a byte count, -EFBIG past 1 MiB. */
ssize_t tree_write(struct tree *t, struct tree_file *f, const char *buf, size_t size, off_t off);
/* At each close: a draft written since is checked and submitted, and the
 * answer returned (SPEC: 0, -EINVAL, -EACCES, -EAGAIN, -EIO). May wait on
 * the API: under TREE_NOWAIT -EWOULDBLOCK when it would. */
int tree_flush(struct tree *t, struct tree_file *f, int flags);
/* Truncates a draft (by its handle f, or by path when f is NULL); -EPERM
 * for any other file. */
int tree_truncate(struct tree *t, uint64_t ino, struct tree_file *f, uint64_t size,
		  struct tree_attr *out);
/* True when a read of this file may wait on the network. */
bool tree_file_is_remote(const struct tree_file *f);
/* True for a .wait file: read it with tree_wait(). */
bool tree_file_is_wait(const struct tree_file *f);

/* A reader of .wait. done() is called once, from any thread and holding
 * no tree lock, with the status line (0) or -errno, unless
 * tree_wait_cancel() took the waiter back first. The rest is the tree's. */
struct tree_waiter {
	void (*done)(struct tree_waiter *w, int rc, const char *text, size_t len);
	struct tree_waiter *next, *prev;
	void *task;
	bool listed, cancelled;
};
/* Makes w a waiter for the task of .wait file f (no lock, no wait). */
void tree_wait_init(struct tree_file *f, struct tree_waiter *w);
/* Waits for w's task to finish: done() at once when it has, else when the
 * provider's wait thread sees it (SPEC: Waiting). */
void tree_wait(struct tree *t, struct tree_waiter *w);
/* True when w was waiting: done() will not be called. Else done() was or
 * will be called (with -EINTR when tree_wait() has not run yet). */
bool tree_wait_cancel(struct tree *t, struct tree_waiter *w);
/* The wait threads: tree_start() from FUSE init; tree_stop() at unmount
 * ends every waiter with -ESHUTDOWN. */
int tree_start(struct tree *t);
void tree_stop(struct tree *t);
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

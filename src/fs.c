/* fs.c: with fsdir.c (directories), the only code that speaks FUSE. Each request is first answered from
 * the tree without waiting (TREE_NOWAIT); when that would need the network,
 * the request is handed to its provider's pool and answered from there, so
 * the session's own threads never wait on a provider. A deferred request
 * can be interrupted (its program got a signal): it is answered EINTR at
 * once, and the work behind it goes on and fills the cache. Maps -errno to
 * replies; chooses attribute timeouts, keep_cache, noflush and direct_io. Knows no
 * curl, no JSON and no provider by name. */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/fs.h"
#include "aifs/log.h"
#include "aifs/pool.h"
#include "aifs/strmap.h"
#include "aifs/tree.h"
#include "fs_int.h"

#define PROVIDER_THREADS 8
#define READ_THREADS 16
#define NEG_TIMEOUT 1.0
#define FS_READAHEAD (1u << 20)

enum op { OP_LOOKUP, OP_GETATTR, OP_OPENDIR, OP_OPEN, OP_READ, OP_MKDIR, OP_FLUSH, OP_RMDIR };

/* A request answered later: by its job or the tree, or by its interrupt,
 * whichever takes it out of fs->pending first (pend_claim). */
struct pend {
	fuse_req_t req;
	bool watched;    /* in fs->pending: its interrupt may answer it */
	bool waiter;     /* a reader of .wait: its interrupt takes it back too */
};

struct job {
	struct pend pd;  /* first: fs->pending holds it */
	struct pool_job pj;
	struct fs *fs;
	enum op op;
	fuse_ino_t ino;
	struct fuse_file_info fi;
	size_t size;
	off_t off;
	char name[]; /* lookup, mkdir, rmdir */
};

/* A reader of .wait: no thread waits for it. refs: its reply, and its place
 * in the tree's list; the last one out frees it. */
struct waiter {
	struct pend pd;  /* first: fs->pending holds it */
	struct tree_waiter tw;
	struct fs *fs;
	size_t size;
	atomic_int refs;
};

/* What reaches the program: the SPEC's errnos, never an internal one. */
int fs_errno(int rc)
{
	switch (-rc) {
	case ENOENT: case EACCES: case EAGAIN: case ETIMEDOUT: case EHOSTUNREACH:
	case ENOMEM: case EEXIST: case EINVAL: case EISDIR: case ENOTDIR: case EPERM:
	case ENAMETOOLONG: case EROFS: case EFBIG: case EBUSY: case EINTR: case EBADF:
		return -rc;
	default:
		return EIO;
	}
}

void fs_fill_stat(const struct fs *fs, const struct tree_attr *a, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = (time_t)a->mtime;
}

/* How long the kernel may remember that a name in dir does not exist: not
 * at all in .new, where names come and go with every close. */
static double neg_timeout(struct fs *fs, fuse_ino_t dir)
{
	return tree_names_change(fs->tree, dir) ? 0 : NEG_TIMEOUT;
}

static void reply_entry(fuse_req_t req, int rc, const struct tree_attr *a, double neg)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e;

	memset(&e, 0, sizeof e);
	if (rc == -ENOENT) {
		e.entry_timeout = neg; /* ino 0: the kernel remembers "no such name" */
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	e.ino = a->ino;
	e.generation = 1;
	e.attr_timeout = e.entry_timeout = a->timeout;
	fs_fill_stat(fs, a, &e.attr);
	fuse_reply_entry(req, &e);
}

static void reply_attr(fuse_req_t req, int rc, const struct tree_attr *a)
{
	struct fs *fs = fuse_req_userdata(req);
	struct stat st;
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	fs_fill_stat(fs, a, &st);
	fuse_reply_attr(req, &st, a->timeout);
}

static void reply_open(fuse_req_t req, int rc, struct tree_file *f, bool keep, bool direct,
		       struct fuse_file_info *fi)
{
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	fi->fh = (uintptr_t)f;
	fi->keep_cache = keep;
	fi->direct_io = direct;
	/* a close after reading only has nothing to say: the kernel skips
	 * the flush round trip */
	fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY;
	if (fuse_reply_open(req, fi))
		tree_release(f);
}

/* Reads into *buf (new, free()): a byte count or -errno. */
static ssize_t read_into(struct tree *t, struct tree_file *f, size_t size, off_t off, char **buf)
{
	*buf = malloc(size ? size : 1);
	return *buf ? tree_read(t, f, *buf, size, off) : -ENOMEM;
}

static void reply_buf(fuse_req_t req, ssize_t n, const char *buf)
{
	if (n < 0)
		fuse_reply_err(req, fs_errno((int)n));
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void wait_read(fuse_req_t req, struct tree_file *f, size_t size, off_t off);

/* ---- deferred work ---- */

/* True when the caller is to answer pd->req: its interrupt did not. */
static bool pend_claim(struct fs *fs, struct pend *pd)
{
	if (!pd->watched)
		return true;
	pthread_mutex_lock(&fs->pending_mu);
	bool mine = strmap_del(&fs->pending, (const char *)&pd->req, sizeof pd->req) != NULL;
	pthread_mutex_unlock(&fs->pending_mu);
	return mine;
}

static bool job_claim(struct job *j)
{
	return pend_claim(j->fs, &j->pd);
}

static void job_run(struct pool_job *pj)
{
	struct job *j = (struct job *)((char *)pj - offsetof(struct job, pj));
	struct tree *t = j->fs->tree;
	struct tree_attr a;
	int rc;

	switch (j->op) {
	case OP_LOOKUP:
		rc = tree_lookup(t, j->ino, j->name, 0, &a);
		if (job_claim(j))
			reply_entry(j->pd.req, rc, &a, neg_timeout(j->fs, j->ino));
		break;
	case OP_MKDIR:
		rc = tree_mkdir(t, j->ino, j->name, &a);
		if (!job_claim(j))
			break;
		if (rc == -ENOENT)
			fuse_reply_err(j->pd.req, ENOENT); /* no negative entry for mkdir */
		else
			reply_entry(j->pd.req, rc, &a, 0);
		break;
	case OP_GETATTR:
		rc = tree_getattr(t, j->ino, 0, &a);
		if (job_claim(j))
			reply_attr(j->pd.req, rc, &a);
		break;
	case OP_OPENDIR: {
		struct tree_dir *d = NULL;
		rc = tree_opendir(t, j->ino, 0, &d);
		if (job_claim(j))
			fsdir_reply_open(j->pd.req, rc, j->ino, d, &j->fi);
		else
			tree_dir_free(d);
		break;
	}
	case OP_OPEN: {
		struct tree_file *f = NULL;
		bool keep = false, direct = false;
		rc = tree_open(t, j->ino, 0, j->fi.flags, &f, &keep, &direct);
		if (job_claim(j))
			reply_open(j->pd.req, rc, f, keep, direct, &j->fi);
		else
			tree_release(f);
		break;
	}
	case OP_READ: {
		char *buf;
		ssize_t n = read_into(t, (struct tree_file *)(uintptr_t)j->fi.fh, j->size, j->off, &buf);
		if (job_claim(j))
			reply_buf(j->pd.req, n, buf);
		free(buf);
		break;
	}
	case OP_FLUSH:
		rc = tree_flush(t, (struct tree_file *)(uintptr_t)j->fi.fh, 0);
		if (job_claim(j))
			fuse_reply_err(j->pd.req, rc ? fs_errno(rc) : 0);
		break;
	case OP_RMDIR:
		rc = tree_rmdir(t, j->ino, j->name);
		if (job_claim(j))
			fuse_reply_err(j->pd.req, rc ? fs_errno(rc) : 0);
		break;
	}
	free(j);
}

static void waiter_unref(struct waiter *w)
{
	if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
		free(w);
}

/* The tree's answer to a reader of .wait: it left the tree's list. */
static void waiter_done(struct tree_waiter *tw, int rc, const char *text, size_t len)
{
	struct waiter *w = (struct waiter *)((char *)tw - offsetof(struct waiter, tw));
	if (pend_claim(w->fs, &w->pd)) {
		if (rc)
			fuse_reply_err(w->pd.req, fs_errno(rc));
		else
			fuse_reply_buf(w->pd.req, text, len < w->size ? len : w->size);
		waiter_unref(w); /* the reply's */
	}
	waiter_unref(w); /* the list's */
}

/* Set on a thread while it registers a request's interrupt callback: libfuse
 * calls the callback right there when the interrupt came first, and a reply
 * from inside that call would free the request under libfuse's feet. */
static __thread bool registering, interrupted_early;

/* The program waiting on req got a signal: answer EINTR now, unless its job
 * already answered. libfuse keeps req alive during this call. */
static void on_interrupt(fuse_req_t req, void *data)
{
	struct fs *fs = data;
	if (registering) {
		interrupted_early = true;
		return;
	}
	pthread_mutex_lock(&fs->pending_mu);
	struct pend *pd = strmap_del(&fs->pending, (const char *)&req, sizeof req);
	pthread_mutex_unlock(&fs->pending_mu);
	if (!pd)
		return;
	fuse_reply_err(req, EINTR);
	if (pd->waiter) { /* SPEC: the daemon keeps nothing for it */
		struct waiter *w = (struct waiter *)pd;
		if (tree_wait_cancel(fs->tree, &w->tw))
			waiter_unref(w); /* the list's */
		waiter_unref(w);         /* the reply's */
	}
}

/* Makes pd's request answerable by its interrupt: 0, or -EINTR when it was
 * interrupted already (then it has been answered and its work is not to
 * run), or -ENOMEM (not answered). */
static int pend_watch(struct fs *fs, struct pend *pd)
{
	pthread_mutex_lock(&fs->pending_mu);
	int rc = strmap_put(&fs->pending, (const char *)&pd->req, sizeof pd->req, pd);
	pthread_mutex_unlock(&fs->pending_mu);
	if (rc)
		return rc;
	pd->watched = true;
	registering = true;
	interrupted_early = false;
	fuse_req_interrupt_func(pd->req, on_interrupt, fs);
	registering = false;
	if (interrupted_early && pend_claim(fs, pd)) {
		fuse_reply_err(pd->req, EINTR);
		return -EINTR;
	}
	return 0;
}

/* True for work on the root itself, which never needs the network. */
static bool p_root_or_missing(const struct fs *fs, enum op op, fuse_ino_t ino)
{
	return op != OP_READ && tree_provider_of(fs->tree, ino) < 0;
}

/* Hands a request to the pool that may wait for it. */
static void defer(fuse_req_t req, enum op op, fuse_ino_t ino, const char *name,
		  const struct fuse_file_info *fi, size_t size, off_t off)
{
	struct fs *fs = fuse_req_userdata(req);
	size_t nlen = name ? strlen(name) + 1 : 0;
	struct job *j = calloc(1, sizeof *j + nlen);
	struct pool *pool;

	if (!j) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	*j = (struct job){ .pj.run = job_run, .fs = fs, .op = op, .pd.req = req, .ino = ino,
			   .size = size, .off = off };
	if (fi)
		j->fi = *fi;
	if (name)
		memcpy(j->name, name, nlen);
	if (op == OP_READ) {
		pool = fs->reads;
	} else {
		int p = tree_provider_of(fs->tree, ino);
		pool = p >= 0 && (size_t)p < fs->n_pools ? fs->pools[p] : NULL;
	}
	if (p_root_or_missing(fs, op, ino)) {
		job_run(&j->pj); /* the root's answers never wait */
		return;
	}
	int rc = pool ? pend_watch(fs, &j->pd) : -EIO;
	if (rc) {
		if (rc != -EINTR)
			fuse_reply_err(req, -rc);
		free(j);
		return;
	}
	pool_submit(pool, &j->pj);
}

/* ---- telling the kernel ---- */

struct note {
	struct pool_job pj;
	struct fs *fs;
	fuse_ino_t ino;
};

static void note_run(struct pool_job *pj)
{
	struct note *n = (struct note *)pj;
	/* attributes and pages; -ENOENT: the kernel holds nothing of it */
	fuse_lowlevel_notify_inval_inode(n->fs->se, n->ino, 0, 0);
	free(n);
}

/* The tree's word that ino changed. From its own thread, never from inside
 * a request: the kernel may wait on a reply for pages it must drop. */
static void on_changed(void *ctx, uint64_t ino)
{
	struct fs *fs = ctx;
	struct note *n = calloc(1, sizeof *n);
	if (!n || !fs->notes || !fs->se) {
		free(n);
		return;
	}
	*n = (struct note){ .pj.run = note_run, .fs = fs, .ino = ino };
	pool_submit(fs->notes, &n->pj);
}

/* ---- the operations ---- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;
	/* large sequential reads reach us as large requests */
	if (conn->max_readahead < FS_READAHEAD)
		conn->max_readahead = FS_READAHEAD;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	/* every listing with attributes: `ls -l` of a provider costs no
	 * lookup per task (they are in memory once listed) */
	if (conn->capable & FUSE_CAP_READDIRPLUS) {
		conn->want |= FUSE_CAP_READDIRPLUS;
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	}
	fs->n_pools = tree_n_providers(fs->tree);
	fs->pools = calloc(fs->n_pools, sizeof *fs->pools);
	fs->reads = pool_new(READ_THREADS);
	fs->notes = pool_new(1);
	for (size_t i = 0; fs->pools && i < fs->n_pools; i++)
		fs->pools[i] = pool_new(PROVIDER_THREADS);
	if (!fs->pools || !fs->reads || !fs->notes || (fs->start && fs->start(fs->start_ctx)))
		log_msg(LOGL_ERROR, "cannot start worker threads; requests will fail with EIO");
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_attr a;
	int rc = tree_lookup(fs->tree, parent, name, TREE_NOWAIT, &a);
	if (rc == -EWOULDBLOCK)
		defer(req, OP_LOOKUP, parent, name, NULL, 0, 0);
	else
		reply_entry(req, rc, &a, neg_timeout(fs, parent));
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_attr a;
	(void)fi;
	int rc = tree_getattr(fs->tree, ino, TREE_NOWAIT, &a);
	if (rc == -EWOULDBLOCK)
		defer(req, OP_GETATTR, ino, NULL, NULL, 0, 0);
	else
		reply_attr(req, rc, &a);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)mode;
	defer(req, OP_MKDIR, parent, name, NULL, 0, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_dir *d = NULL;
	int rc = tree_opendir(fs->tree, ino, TREE_NOWAIT, &d);
	if (rc == -EWOULDBLOCK)
		defer(req, OP_OPENDIR, ino, NULL, fi, 0, 0);
	else
		fsdir_reply_open(req, rc, ino, d, fi);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_file *f = NULL;
	bool keep = false, direct = false;

	int rc = tree_open(fs->tree, ino, TREE_NOWAIT, fi->flags, &f, &keep, &direct);
	if (rc == -EWOULDBLOCK)
		defer(req, OP_OPEN, ino, NULL, fi, 0, 0);
	else
		reply_open(req, rc, f, keep, direct, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_file *f = (struct tree_file *)(uintptr_t)fi->fh;
	int fd;
	size_t len;

	if (tree_file_is_wait(f)) {
		wait_read(req, f, size, off);
	} else if (!tree_file_is_remote(f)) {
		char *buf;
		ssize_t n = read_into(fs->tree, f, size, off, &buf);
		reply_buf(req, n, buf);
		free(buf);
	} else if (tree_read_fd(f, size, off, &fd, &len) == 0) {
		/* on disk already: hand the kernel the cache file's bytes, by
		 * splice where it can, without a thread hop or a copy of ours */
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		tree_read_fd_done(f);
	} else {
		defer(req, OP_READ, ino, NULL, fi, size, off);
	}
}

/* A read of .wait: answered when the task has finished, by the tree's
 * wait thread; no thread of ours waits for it (SPEC: Waiting). */
static void wait_read(fuse_req_t req, struct tree_file *f, size_t size, off_t off)
{
	struct fs *fs = fuse_req_userdata(req);
	if (off > 0) {
		fuse_reply_buf(req, NULL, 0); /* the one line was read: the end */
		return;
	}
	struct waiter *w = calloc(1, sizeof *w);
	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	w->pd = (struct pend){ .req = req, .waiter = true };
	w->tw.done = waiter_done;
	w->fs = fs;
	w->size = size;
	atomic_init(&w->refs, 2);
	tree_wait_init(f, &w->tw);
	int rc = pend_watch(fs, &w->pd);
	if (rc) {
		if (rc != -EINTR)
			fuse_reply_err(req, -rc);
		free(w);
		return;
	}
	tree_wait(fs->tree, &w->tw);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_file *f = NULL;
	struct tree_attr a;
	(void)mode;
	int rc = tree_create(fs->tree, parent, name, fi->flags, &a, &f);
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	e.ino = a.ino;
	e.generation = 1;
	fs_fill_stat(fs, &a, &e.attr);
	fi->fh = (uintptr_t)f;
	fi->direct_io = 1;
	if (fuse_reply_create(req, &e, fi))
		tree_release(f);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	(void)ino;
	ssize_t n = tree_write(fs->tree, (struct tree_file *)(uintptr_t)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, fs_errno((int)n));
	else
		fuse_reply_write(req, (size_t)n);
}

/* Each close(2): a draft in .new is submitted here, and close returns the
 * API's answer. */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	int rc = tree_flush(fs->tree, (struct tree_file *)(uintptr_t)fi->fh, TREE_NOWAIT);
	if (rc == -EWOULDBLOCK)
		defer(req, OP_FLUSH, ino, NULL, fi, 0, 0);
	else
		fuse_reply_err(req, rc ? fs_errno(rc) : 0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct tree_attr a;
	int rc;

	if (to_set & FUSE_SET_ATTR_SIZE) {
		struct tree_file *f = fi ? (struct tree_file *)(uintptr_t)fi->fh : NULL;
		rc = tree_truncate(fs->tree, ino, f, (uint64_t)attr->st_size, &a);
	} else {
		/* times and modes: kept as they are where anything may change
		 * (a draft), refused elsewhere */
		rc = tree_getattr(fs->tree, ino, TREE_NOWAIT, &a);
		if (rc == -EWOULDBLOCK || (rc == 0 && !(a.mode & 0200)))
			rc = -EPERM;
	}
	reply_attr(req, rc, &a);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	int rc = tree_unlink(fs->tree, parent, name);
	fuse_reply_err(req, rc ? fs_errno(rc) : 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	defer(req, OP_RMDIR, parent, name, NULL, 0, 0);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	char target[512];
	int rc = tree_readlink(fs->tree, ino, target, sizeof target);
	if (rc)
		fuse_reply_err(req, fs_errno(rc));
	else
		fuse_reply_readlink(req, target);
}

/* SPEC: outside what .new and rmdir allow, the tree is read-only: EPERM,
 * never ENOSYS. */
static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs *fs = fuse_req_userdata(req);
	(void)mode, (void)rdev, (void)name;
	fuse_reply_err(req, tree_names_change(fs->tree, parent) ? EINVAL : EPERM);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	tree_release((struct tree_file *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { 0 };
	(void)ino;
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.mkdir = op_mkdir,
	.opendir = op_opendir,
	.readdir = fsdir_read,
	.readdirplus = fsdir_readplus,
	.releasedir = fsdir_release,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.create = op_create,
	.write = op_write,
	.flush = op_flush,
	.setattr = op_setattr,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.readlink = op_readlink,
	.rename = op_rename,
	.symlink = op_symlink,
	.link = op_link,
	.mknod = op_mknod,
	.statfs = op_statfs,
};

const struct fuse_lowlevel_ops *fs_ops(size_t *size)
{
	*size = sizeof ops;
	return &ops;
}

struct fs *fs_new(struct tree *tree, int (*start)(void *ctx), void *ctx)
{
	struct fs *fs = calloc(1, sizeof *fs);
	if (!fs)
		return NULL;
	fs->tree = tree;
	fs->start = start;
	fs->start_ctx = ctx;
	fs->uid = getuid();
	fs->gid = getgid();
	pthread_mutex_init(&fs->pending_mu, NULL);
	strmap_init(&fs->pending);
	pthread_mutex_init(&fs->dirs_mu, NULL);
	strmap_init(&fs->dirs);
	tree_set_notify(tree, on_changed, fs);
	return fs;
}

void fs_set_session(struct fs *fs, struct fuse_session *se)
{
	fs->se = se;
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; fs->pools && i < fs->n_pools; i++)
		pool_free(fs->pools[i]);
	pool_free(fs->reads);
	pool_free(fs->notes);
	free(fs->pools);
	strmap_free(&fs->pending);
	pthread_mutex_destroy(&fs->pending_mu);
	fsdir_free(fs);
	free(fs);
}

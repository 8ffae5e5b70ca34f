/* fs_int.h: the FUSE adapter's own state and the calls its two files
 * share: fs.c (requests, deferred work, files) and fsdir.c (directory
 * listings and the kernel's cache of them). Private to those two files. */
#ifndef AIFS_FS_INT_H
#define AIFS_FS_INT_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "aifs/strmap.h"

struct pool;
struct tree;
struct tree_attr;
struct tree_dir;

struct fs {
	struct tree *tree;
	struct pool **pools; /* one per provider */
	size_t n_pools;
	struct pool *reads;  /* output file reads */
	struct pool *notes;  /* telling the kernel what changed, off any request */
	struct fuse_session *se;
	int (*start)(void *ctx);
	void *start_ctx;
	uid_t uid;
	gid_t gid;
	/* Deferred requests not yet answered, keyed by request: whoever takes
	 * one out of here (its job, or its interrupt) answers it. */
	pthread_mutex_t pending_mu;
	struct strmap pending;
	/* What each directory held when it was last opened (struct dirseen by
	 * inode): the kernel keeps its cached listing only while it is the
	 * same. */
	pthread_mutex_t dirs_mu;
	struct strmap dirs;
};

struct dirseen {
	uint64_t ino;  /* the key */
	uint64_t hash; /* of the names, inodes and modes it held */
};

/* What reaches the program for -errno rc: the SPEC's errnos, never an
 * internal one. */
int fs_errno(int rc);
void fs_fill_stat(const struct fs *fs, const struct tree_attr *a, struct stat *st);

/* fsdir.c */
/* Answers an opendir of ino with the snapshot d (taken: freed when the
 * opener went away), or the error rc. */
void fsdir_reply_open(fuse_req_t req, int rc, fuse_ino_t ino, struct tree_dir *d,
		      struct fuse_file_info *fi);
void fsdir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void fsdir_readplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void fsdir_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* Frees what fsdir keeps of the directories (fs_free). */
void fsdir_free(struct fs *fs);

#endif

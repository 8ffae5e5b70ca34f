/* fs.h: the FUSE low-level adapter. */
#ifndef AIFS_FS_H
#define AIFS_FS_H

#include <stddef.h>

struct fuse_lowlevel_ops;
struct fuse_session;
struct tree;

struct fs;

/* Returns a new adapter over tree (borrowed); free with fs_free(). Its
 * threads start in the session's init callback, after daemonizing, and so
 * does start(ctx) (may be NULL): the rest of the system's. */
struct fs *fs_new(struct tree *tree, int (*start)(void *ctx), void *ctx);
/* The session the adapter serves: for telling the kernel what changed. */
void fs_set_session(struct fs *fs, struct fuse_session *se);
/* Finishes queued work, stops the threads, frees. Accepts NULL. */
void fs_free(struct fs *fs);

/* The operations table; pass fs as the session's userdata. */
const struct fuse_lowlevel_ops *fs_ops(size_t *size);

#endif

/* aifs.h: the whole system in one struct. It owns every long-lived object
 * (the config, the HTTP client, one API and one known-ids registry per
 * provider, the blob cache, the download engine, the tree) and is the one
 * place that builds, starts, stops and frees them.
 *
 * Life: aifs_new() builds everything before the daemon forks and starts no
 * thread (threads started before the fork are lost); aifs_start() runs in
 * FUSE's init, in the process that serves; aifs_stop() at unmount makes
 * whatever waits on the network return; aifs_free() frees in the reverse
 * order of building.
 *
 * Lock order across modules (a lock may be taken while holding only those
 * above it in its column; nothing else nests):
 *
 *   fs        pending_mu, dirs_mu              (leaves)
 *   tree      reg_mu -> provider mu -> lru_mu (no disk I/O, no network,
 *             provider mu -> arch_mu            no call into media under mu)
 *   media     gen_lock -> file mu -> out mu    (media.c; probe.c takes
 *             file mu -> media mu -> cache mu   media mu alone)
 *               -> blob sync_mu -> blob mu
 *   api       api mu (the token, the jitter seed), the rate limiter's lock
 *             (leaves)
 *   backoff   none of its own: a pause waits on http's stop_mu, and no
 *             retry loop holds a lock across it
 *   http      curl share locks, stop_mu       (leaves)
 *   log       reopen mu                       (leaf)
 *
 * Calls that cross modules hold none of their own locks across the call,
 * except media, which holds a file's mu while it asks the cache whether
 * chunks are present. */
#ifndef AIFS_AIFS_H
#define AIFS_AIFS_H

#include <stdatomic.h>

struct aifs_conf;
struct aifs_err;
struct tree;

struct aifs;

/* Builds everything over conf (takes ownership of its contents, even on
 * failure: the caller keeps only the zeroed struct). *hup (borrowed) is the
 * SIGHUP counter. Starts no thread. Returns a new aifs (aifs_free()), or
 * NULL with err filled. */
struct aifs *aifs_new(struct aifs_conf *conf, atomic_uint *hup, struct aifs_err *err);

/* The tree the filesystem serves; borrowed, valid until aifs_free(). */
struct tree *aifs_tree(struct aifs *a);

/* Starts the threads (downloads): from FUSE init, after the fork. 0 or
 * -errno. Suits fs_new()'s start hook. */
int aifs_start(void *a);

/* Unmounting: transfers and waits on the network end at once. */
void aifs_stop(struct aifs *a);

/* Frees everything in the reverse order of building. Accepts NULL. */
void aifs_free(struct aifs *a);

#endif

/* cluster.h: cluster mode (SPEC: "Many mounts, one account"). The mounts
 * that use one Redis database share, per provider account, the rate limit,
 * the API's answers, the known ids, the .new labels and the access token.
 *
 * Every call here is bounded in time (a connect and a command timeout) and
 * none is needed: when Redis is unreachable or answers nonsense, the mount
 * logs it once and every call returns -EAGAIN ("carry on alone") without
 * touching the network, until a probe finds Redis again. Safe from any
 * thread. Holds no lock across a Redis command except the pool's own. */
#ifndef AIFS_CLUSTER_H
#define AIFS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aifs/cval.h"

struct aifs_err;
struct buf;
struct provider_conf;

struct cluster;
struct cluster_acct;

enum cluster_state { CLUSTER_OFF, CLUSTER_ON, CLUSTER_DEGRADED };

/* Returns a new cluster over the Redis at url (not yet contacted; free with
 * cluster_free()), or NULL with err saying why (-EINVAL: a bad URL). */
struct cluster *cluster_new(const char *url, struct aifs_err *err);
/* Starts the heartbeat (this mount alive, the mounts counted, Redis probed
 * when it was lost): from FUSE init. 0 or -errno. */
int cluster_start(struct cluster *c);
/* Ends the heartbeat and every wait on Redis. */
void cluster_stop(struct cluster *c);
void cluster_free(struct cluster *c); /* accepts NULL */

/* "off" (c NULL), "on" or "degraded". */
enum cluster_state cluster_state(const struct cluster *c);
const char *cluster_state_name(enum cluster_state st);
/* The state of the cluster a belongs to. */
enum cluster_state cluster_acct_state(const struct cluster_acct *a);

/* The account of provider section pc (borrowed; the cluster owns the
 * result, freed with it). NULL when memory ran out. */
struct cluster_acct *cluster_acct(struct cluster *c, const struct provider_conf *pc);
/* The account's mounts seen alive in the last minute (at least 1): when
 * alone, this mount takes qps / M. */
unsigned cluster_mounts(const struct cluster_acct *a);

/* One slot of the account's rate limit (GCRA in Redis, on Redis's clock):
 * 0 with *wait the seconds to wait for it, or -1 there when none comes
 * within max_wait (nothing reserved); -EAGAIN when Redis is unavailable. */
int cluster_reserve(struct cluster_acct *a, double qps, double burst, double max_wait,
		    double *wait);

/* ---- shared answers, made once ---- */

/* A stored answer of key: 1 and *status, body (new in b) and *age (seconds
 * since it was stored; 0 when stored for good), 0 when none, -EAGAIN. */
int cluster_answer_get(struct cluster_acct *a, const char *key, long *status, struct buf *b,
		       double *age);
/* Stores an answer for ttl seconds (0: for good). 0 or -EAGAIN. */
int cluster_answer_put(struct cluster_acct *a, const char *key, long status, const char *body,
		       size_t len, double ttl);

/* Takes the lease on key for secs: 1 taken (lease holds the proof, 17
 * bytes), 0 another mount holds it, -EAGAIN. */
int cluster_lease(struct cluster_acct *a, const char *key, double secs, char *lease);
/* Gives a lease back, if it is still ours. */
void cluster_unlease(struct cluster_acct *a, const char *key, const char *lease);
/* Waits, at most secs, for the answer of a key whose lease another mount
 * holds: 1 with the answer as cluster_answer_get() gives it, 0 when the
 * lease ended without one or the time ran out, -EAGAIN. */
int cluster_answer_wait(struct cluster_acct *a, const char *key, double secs, long *status,
			struct buf *b, double *age);

/* ---- the known ids ---- */

/* The n ids join, or leave, the account's set: one command. 0 or -EAGAIN. */
int cluster_known_add(struct cluster_acct *a, const char *const *ids, const size_t *lens,
		      size_t n);
int cluster_known_del(struct cluster_acct *a, const char *const *ids, const size_t *lens,
		      size_t n);
/* Calls fn for every id of the set. 0, fn's -errno, or -EAGAIN. */
int cluster_known_all(struct cluster_acct *a, int (*fn)(void *ctx, const char *id, size_t len),
		      void *ctx);

/* ---- labels ---- */

/* Claims label name for this mount, as being sent: 1 claimed; 0 already
 * claimed, *st and *text (new, free()) say by whom or with what outcome;
 * -EAGAIN. */
int cluster_label_claim(struct cluster_acct *a, const char *name, enum cval_label *st,
			char **text);
/* The label's outcome: created (text: the id) or unknown (text: why). */
int cluster_label_set(struct cluster_acct *a, const char *name, enum cval_label st,
		      const char *text);
/* Frees a claim whose request was surely not taken, so it may be sent again. */
void cluster_label_release(struct cluster_acct *a, const char *name);
/* Waits, at most secs, while the label is being sent by another mount: 1
 * with its outcome (*st, *text new), 0 when the time ran out, -EAGAIN. */
int cluster_label_wait(struct cluster_acct *a, const char *name, double secs, enum cval_label *st,
		       char **text);

/* ---- the access token ---- */

/* The account's token: 1 and *token (new, secret_free()), *expires; 0 when
 * none; -EAGAIN. */
int cluster_token_get(struct cluster_acct *a, char **token, int64_t *expires);
int cluster_token_put(struct cluster_acct *a, const char *token, int64_t expires);
/* Waits, at most secs, while another mount holds the lease "token" (see
 * cluster_lease()): 1 with a token other than refused (NULL: any), 0 when
 * the lease ended without one or the time ran out, -EAGAIN. */
int cluster_token_wait(struct cluster_acct *a, const char *refused, double secs, char **token,
		       int64_t *expires);
/* Drops the account's token if it is still the one refused. */
void cluster_token_drop(struct cluster_acct *a, const char *refused);

#endif

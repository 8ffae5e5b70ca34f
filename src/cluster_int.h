/* cluster_int.h: what cluster.c (connections, health, the rate limit, the
 * heartbeat) lends cshare.c (the shared answers, ids, labels and token).
 * Private to those two. */
#ifndef AIFS_CLUSTER_INT_H
#define AIFS_CLUSTER_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "aifs/cluster.h"
#include "aifs/config.h"

#define POOL_MAX 8

struct cluster_acct {
	struct cluster *c;
	char prefix[sizeof CVAL_PREFIX + CVAL_ACCT_HEX + 4]; /* "aifs:1:{HEX}:" */
	atomic_uint mounts;
	char name[64]; /* the section, for messages */
};

struct cluster {
	struct redis_url u;
	char shown[320];
	char mount_id[17];
	atomic_int state;
	atomic_bool stopping;

	pthread_mutex_t pool_mu;
	redisContext *idle[POOL_MAX];
	int n_idle;

	struct cluster_acct *accts[CONFIG_MAX_PROVIDERS];
	size_t n_accts;

	pthread_t beat;
	bool beat_started;
	pthread_mutex_t beat_mu;
	pthread_cond_t beat_cv;
};

struct key {
	char *s;
	size_t n;
};

/* One command: NULL (and the cluster degraded) on any failure; while
 * degraded, NULL at once unless probe. The reply is the caller's. */
redisReply *cluster_cmd(struct cluster *c, bool probe, int argc, const char **argv,
			const size_t *lens);
/* A script with nkeys keys and nargs arguments (alens NULL: strings). */
redisReply *cluster_eval(struct cluster *c, const char *script, int nkeys, const struct key *keys,
			 int nargs, const char **args, const size_t *alens);
/* Frees a reply of the wrong shape and marks the cluster degraded. NULL. */
void *cluster_nonsense(struct cluster *c, redisReply *r, const char *what);
/* The account's key for kind and rest (rlen bytes): k->s new. 0 or -ENOMEM. */
int cluster_key(const struct cluster_acct *a, const char *kind, const char *rest, size_t rlen,
		struct key *k);

#endif

/* api_int.h: what api.c (calls, retries, the token, creating, deleting)
 * shares with apiread.c (listing and getting, shared in cluster mode).
 * Private to those two. */
#ifndef AIFS_API_INT_H
#define AIFS_API_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "aifs/api.h"
#include "aifs/cluster.h"
#include "aifs/http.h"
#include "aifs/ratelimit.h"

struct buf;

#define API_MAX_BODY (64u << 20)
#define TOKEN_MARGIN 60 /* renew a token this many seconds before it expires */

struct api {
	const struct provider_conf *pc;
	const struct provider_ops *ops;
	struct http *http;
	struct http_opts hopts;
	struct ratelimit rl;    /* alone: qps, or qps / M while Redis is lost */
	struct cluster_acct *acct; /* cluster mode: the account's share; else NULL */
	atomic_uint alone_m;    /* the M rl is set for */

	pthread_mutex_t mu; /* guards the token fields */
	pthread_cond_t cv;
	char *token;
	int64_t token_expires; /* Unix time, 0 unknown */
	unsigned token_gen;    /* bumped at every new token */
	bool token_busy;       /* a token request is under way */
	char *refused;         /* the last token the API refused (cluster mode) */
	unsigned rand_state;
	/* .aifs/stats: what was sent, and how it went */
	_Atomic uint64_t sent[API_EP_N];
	_Atomic uint64_t throttled, failed;
};

/* What one kind of call needs: build the request, parse the answer. */
struct call {
	const char *what; /* for logs */
	enum api_endpoint ep;
	int (*build)(struct api *a, const struct call *c, const char *cred, struct http_req *r);
	int (*parse)(struct api *a, const struct call *c, const struct http_resp *resp,
		     struct aifs_err *err);
	bool uses_token;
	int listing, page;
	const char *id;
	struct provider_page *page_out;
	struct task_info **task_out;
	char **token_out;
	int64_t *expires_out;
	void *ctx; /* the call's own state, shared by build and parse */
	struct buf *keep; /* cluster mode: the answer's bytes, to share */
	long *keep_status;
};

/* The retry loop around one call: attempts, backoff, a new token when the
 * old one is refused. 0 or -errno, err filled. */
int api_run(struct api *a, const struct call *c, struct aifs_err *err);
/* rc, counted as a failure for .aifs/stats when it is one. */
int api_counted(struct api *a, int rc);
/* The state of a's cluster: CLUSTER_OFF when it has none. */
enum cluster_state api_cluster_state(const struct api *a);

#endif

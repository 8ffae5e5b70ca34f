/* api.h: a provider's API as blocking calls: rate-limited, retried with
 * backoff, with the access token obtained and refreshed as needed.
 *
 * Every call is bounded: at most retries + 1 attempts of at most timeout
 * seconds each, plus the backoff between them. Safe from any thread. */
#ifndef AIFS_API_H
#define AIFS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aifs_err;
struct cluster_acct;
struct http;
struct provider_conf;
struct provider_ops;
struct provider_page;
struct task_info;

struct api;

/* Returns a new api for pc (borrowed, must outlive it) over http (borrowed);
 * free with api_free(). NULL when memory ran out. */
struct api *api_new(const struct provider_conf *pc, const struct provider_ops *ops,
		    struct http *http);
void api_free(struct api *a);

/* Cluster mode: a's calls share acct's rate limit, answers and token with
 * the account's other mounts (borrowed; must outlive a). */
void api_share(struct api *a, struct cluster_acct *acct);

const struct provider_ops *api_ops(const struct api *a);

#define API_FRESH 1u /* from the API itself, never another mount's answer */

/* One page of one listing; fills out (see provider.h; out->age: how old
 * the answer is, seconds, when another mount of the account had it). 0 or
 * -errno. */
int api_list_page(struct api *a, int listing, int page, unsigned flags, struct provider_page *out,
		  struct aifs_err *err);


/* One task; *out is new (task_info_unref()); *age (may be NULL) how old
 * the answer is, seconds (another mount's, in cluster mode). 0 or -errno
 * (-ENOENT: unknown). */
int api_get(struct api *a, const char *id, unsigned flags, struct task_info **out, double *age,
	    struct aifs_err *err);

/* Creates one task from body (len bytes, the provider's own create request,
 * sent byte for byte), exactly once: the request is sent again only where
 * the API surely did not take it (HTTP 429 and chanjing 40001, HTTP 503, a
 * failure before any byte of it left, a token refused by chanjing: 10400,
 * 10401), with the backoff of every call. On success 0 and *id new (free()).
 * Else -errno, and *unknown says whether the task may exist all the same:
 *   false  refused or never taken: -EINVAL (HTTP 400, chanjing 400/40000),
 *          -EACCES, -EOPNOTSUPP (the API cannot create), -EAGAIN (still
 *          throttled), -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT (nothing
 *          sent), -ECANCELED (unmounting), -EIO (another refusal)
 *   true   -EIO: sent, and then no answer that says (a timeout or a reset
 *          after it left, a 5xx other than 503, chanjing 50000, a success
 *          without a readable id); err->msg starts with "unknown: ". Never
 *          send that request again: it may have made a task already.
 * err->pcode and err->msg carry the provider's code and message. */
int api_create(struct api *a, const char *body, size_t len, char **id, bool *unknown,
	       struct aifs_err *err);

/* Cancels a queued task, or deletes a finished one's record, retried like
 * every call (it is idempotent). 0; -ENOENT no such task (unless an earlier
 * attempt went unanswered: then it is taken as done); -EBUSY the task's
 * state forbids it (running, cancelled already); -EPERM the type has no
 * delete (nothing sent); -EOPNOTSUPP the API refused the method; or -errno. */
int api_delete(struct api *a, const char *id, struct aifs_err *err);

/* What a provider's API has been asked since the mount: requests sent
 * (each attempt, retries and the token's included) by endpoint, answers
 * that said "throttled" (HTTP 429, chanjing 40001), and calls that failed
 * in the end (an unknown id is an answer, not a failure). */
enum api_endpoint { API_EP_LIST, API_EP_GET, API_EP_TOKEN, API_EP_CREATE, API_EP_DELETE, API_EP_N };

struct api_counts {
	uint64_t requests;
	uint64_t by_endpoint[API_EP_N];
	uint64_t throttled;
	uint64_t errors;
};

/* The counts now; never waits. */
void api_counts(const struct api *a, struct api_counts *out);

/* The longest a call can take, seconds: for bounding waits on shared calls. */
double api_deadline(const struct api *a);

#endif

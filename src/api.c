/* api.c: drives a provider's pure request builders and parsers over http.
 *
 * Here live the rate limit (the mount's own bucket, or in cluster mode the
 * account's, kept in Redis), the retry loop (paced by backoff.c:
 * exponential, with jitter, Retry-After honoured up to a minute) and the
 * access token (fetched once, single-flight, renewed before it expires and
 * once when the provider refuses it; one said to be expired already is used
 * until refused; in cluster mode one for the account's mounts). A create
 * has a loop of its own: it is sent again only where the API surely did not
 * take it. Listing and getting are in apiread.c. Knows no FUSE, no cache and
 * no JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aifs/api.h"
#include "aifs/backoff.h"
#include "aifs/buf.h"
#include "aifs/cluster.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/log.h"
#include "aifs/provider.h"
#include "aifs/ratelimit.h"
#include "aifs/secret.h"
#include "aifs/task.h"

#include "api_int.h"

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* A public call's outcome, counted once (a token's failure is its caller's). */
int api_counted(struct api *a, int rc)
{
	if (rc && rc != -ENOENT && rc != -ECANCELED)
		count(&a->failed);
	return rc;
}

void api_counts(const struct api *a, struct api_counts *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < API_EP_N; i++) {
		out->by_endpoint[i] = atomic_load_explicit(&a->sent[i], memory_order_relaxed);
		out->requests += out->by_endpoint[i];
	}
	out->throttled = atomic_load_explicit(&a->throttled, memory_order_relaxed);
	out->errors = atomic_load_explicit(&a->failed, memory_order_relaxed);
}

static bool uses_token_exchange(const struct api *a)
{
	return a->ops->token_request && !a->ops->static_cred(a->pc);
}

struct api *api_new(const struct provider_conf *pc, const struct provider_ops *ops,
		    struct http *http)
{
	struct api *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->pc = pc;
	a->ops = ops;
	a->http = http;
	a->hopts.timeout = pc->tun.timeout;
	a->hopts.max_body = API_MAX_BODY;
	a->hopts.allow_http = pc->insecure_http;
	a->hopts.max_redirs = 0;
	ratelimit_init(&a->rl, pc->tun.qps, pc->tun.burst, ratelimit_now());
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	atomic_init(&a->alone_m, 1);
	a->rand_state = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)a;
	return a;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	secret_free(a->refused);
	ratelimit_destroy(&a->rl);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}

void api_share(struct api *a, struct cluster_acct *acct)
{
	a->acct = acct;
}

const struct provider_ops *api_ops(const struct api *a)
{
	return a->ops;
}

double api_deadline(const struct api *a)
{
	const struct tunables *t = &a->pc->tun;
	/* attempts, their backoff, and a token request of the same shape */
	double one = t->timeout * (t->retries + 1) + backoff_pauses_max(t->retries) + t->timeout;
	return 2 * one + 5;
}

/* A seed for one call's backoff: calls in parallel pause apart. */
static unsigned jitter_seed(struct api *a)
{
	pthread_mutex_lock(&a->mu);
	unsigned seed = (unsigned)rand_r(&a->rand_state);
	pthread_mutex_unlock(&a->mu);
	return seed;
}

/* Replaces every copy of secret in s with "***": providers echo keys back. */
static void redact(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;
	if (n < 4)
		return;
	while ((p = strstr(s, secret))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

static void redact_err(const struct api *a, struct aifs_err *err, const char *cred)
{
	const char *secrets[] = { cred, a->pc->api_key, a->pc->secret_key, a->pc->access_token };
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
		redact(err->msg, secrets[i]);
		redact(err->pcode, secrets[i]);
	}
}

static void log_failure(const struct api *a, const char *what, const struct aifs_err *err,
			enum log_level lvl, const char *tail)
{
	char status[32] = "no answer";
	if (err->http_status)
		snprintf(status, sizeof status, "HTTP %ld", err->http_status);
	log_msg(lvl, "%s: %s: %s%s%s: %s (%s)%s", a->pc->name, what, status,
		err->pcode[0] ? ", code " : "", err->pcode, err->msg, aifs_errno_name(err->code),
		tail);
}

static int perform(struct api *a, const struct call *c, const char *cred, struct aifs_err *err);
static int fetch_token(struct api *a, unsigned *gen, char **cred, struct aifs_err *err);
static void token_forget(struct api *a, unsigned gen);

enum cluster_state api_cluster_state(const struct api *a)
{
	return a->acct ? cluster_acct_state(a->acct) : CLUSTER_OFF;
}

/* The retry loop around one call. */
int api_run(struct api *a, const struct call *c, struct aifs_err *err)
{
	struct backoff bo;
	bool reauthed = false;
	int rc;

	backoff_init(&bo, a->http, a->pc->tun.retries, jitter_seed(a));
	for (;;) {
		char *cred = NULL;
		unsigned gen = 0;

		aifs_err_clear(err);
		if (c->uses_token && uses_token_exchange(a)) {
			rc = fetch_token(a, &gen, &cred, err);
			if (rc)
				return rc;
		}
		rc = perform(a, c, cred ? cred : a->ops->static_cred(a->pc), err);
		redact_err(a, err, cred);
		if (cred) {
			explicit_bzero(cred, strlen(cred));
			free(cred);
		}
		if (rc == 0)
			return 0;

		if (err->retry == AIFS_RETRY_REAUTH && gen && !reauthed) {
			token_forget(a, gen);
			reauthed = true;
			log_failure(a, c->what, err, LOGL_INFO, "; getting a new token");
			continue; /* not a retry */
		}
		if (err->retry == AIFS_RETRY_REAUTH)
			err->retry = AIFS_RETRY_NO; /* a fresh token did not help: EACCES */

		bool again = err->retry == AIFS_RETRY_TRANSIENT || err->retry == AIFS_RETRY_THROTTLED;
		if (!again || backoff_spent(&bo)) {
			/* an unknown id is an answer, not a fault: shells probe names */
			log_failure(a, c->what, err, rc == -ENOENT ? LOGL_DEBUG : LOGL_WARN,
				    bo.attempt ? " after retries" : "");
			return rc;
		}
		if (backoff_next(&bo, err->retry_after)) {
			log_failure(a, c->what, err, LOGL_WARN, "; Retry-After too long");
			return aifs_err_set(err, -EAGAIN, "throttled: retry after %.0f s",
					    err->retry_after);
		}
		log_failure(a, c->what, err, LOGL_DEBUG, "; retrying");
		if (backoff_wait(&bo))
			return aifs_err_set(err, -ECANCELED, "unmounting");
	}
}

/* A slot of the rate limit: the account's, shared in Redis; or, alone,
 * the local bucket at qps, or qps / M while Redis is lost (SPEC). The
 * seconds to wait for it, or -1 when none comes within the timeout. */
static double slot(struct api *a)
{
	const struct tunables *t = &a->pc->tun;
	double wait;

	if (a->acct) {
		if (cluster_reserve(a->acct, t->qps, t->burst, t->timeout, &wait) == 0)
			return wait;
		unsigned m = cluster_mounts(a->acct);
		if (atomic_exchange(&a->alone_m, m) != m)
			ratelimit_set(&a->rl, t->qps / m, t->burst / m, ratelimit_now());
	}
	return ratelimit_reserve(&a->rl, ratelimit_now(), t->timeout);
}

/* One attempt: a slot from the rate limiter, the request, the parse. */
static int perform(struct api *a, const struct call *c, const char *cred, struct aifs_err *err)
{
	struct http_req req = { 0 };
	struct http_resp resp = { 0 };
	int rc;

	http_resp_clear(&resp);
	rc = c->build(a, c, cred, &req);
	if (rc) {
		aifs_err_set(err, rc, "cannot build the request");
		goto out;
	}
	double wait = slot(a);
	if (wait < 0) {
		rc = aifs_err_set(err, -EAGAIN, "rate limit: no slot within %.0f s",
				  a->pc->tun.timeout);
		err->retry = AIFS_RETRY_NO;
		goto out;
	}
	if ((rc = http_pause(a->http, wait))) {
		aifs_err_set(err, rc, "unmounting");
		goto out;
	}
	count(&a->sent[c->ep]);
	rc = http_perform(a->http, &a->hopts, &req, &resp, err);
	if (rc) {
		err->retry = rc == -EPROTO || rc == -ENOMEM || rc == -ECANCELED ? AIFS_RETRY_NO
										 : AIFS_RETRY_TRANSIENT;
		if (rc == -E2BIG)
			err->retry = AIFS_RETRY_NO;
		goto out;
	}
	rc = c->parse(a, c, &resp, err);
	if (rc && err->http_status == 0)
		err->http_status = resp.status;
	if (rc && err->retry == AIFS_RETRY_THROTTLED)
		count(&a->throttled);
	if (c->keep) {
		c->keep->len = 0;
		*c->keep_status = buf_append(c->keep, resp.body, resp.len) ? 0 : resp.status;
	}
out:
	http_req_clear(&req);
	http_resp_clear(&resp);
	return rc;
}

/* ---- the token ---- */

static int token_build(struct api *a, const struct call *c, const char *cred, struct http_req *r)
{
	(void)c;
	(void)cred;
	return a->ops->token_request(a->pc, r);
}

static int token_parse(struct api *a, const struct call *c, const struct http_resp *resp,
		       struct aifs_err *err)
{
	return a->ops->token_parse(a->pc, resp, c->token_out, c->expires_out, err);
}

static bool token_fresh(const struct api *a)
{
	return a->token && (a->token_expires == 0 || a->token_expires - TOKEN_MARGIN > time(NULL));
}

/* Whether a token had from Redis will do: not the one refused here, not
 * about to expire. */
static bool token_usable(const char *token, int64_t expires, const char *refused)
{
	return token && (!refused || strcmp(token, refused) != 0) &&
	       (expires == 0 || expires - TOKEN_MARGIN > time(NULL));
}

/* A new token. In cluster mode the account's, when another mount got one
 * this mount was not refused; else asked of the API by one mount of the
 * account at a time (SPEC: one token for all mounts), the others waiting. */
static int token_obtain(struct api *a, const char *refused, char **token, int64_t *expires,
			struct aifs_err *err)
{
	struct call c = { .what = "POST /open/v1/access_token", .ep = API_EP_TOKEN,
			  .build = token_build, .parse = token_parse, .token_out = token,
			  .expires_out = expires };
	double secs = api_deadline(a) / 2;
	char lease[17];
	int held = -EAGAIN, rc;

	if (api_cluster_state(a) == CLUSTER_ON) {
		if (cluster_token_get(a->acct, token, expires) == 1 &&
		    token_usable(*token, *expires, refused))
			return 0;
		secret_free(*token);
		*token = NULL;
		held = cluster_lease(a->acct, "token", secs, lease);
		if (held == 0 && cluster_token_wait(a->acct, refused, secs, token, expires) == 1 &&
		    token_usable(*token, *expires, refused))
			return 0;
		secret_free(*token);
		*token = NULL;
	}
	rc = api_run(a, &c, err);
	if (rc == 0 && held == 1)
		cluster_token_put(a->acct, *token, *expires);
	if (held == 1)
		cluster_unlease(a->acct, "token", lease);
	return rc;
}

/* Hands out a copy of a valid token and its generation; asks for one when
 * there is none, one request at a time. */
static int fetch_token(struct api *a, unsigned *gen, char **cred, struct aifs_err *err)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)api_deadline(a);

	pthread_mutex_lock(&a->mu);
	while (!token_fresh(a) && a->token_busy) {
		if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&a->mu);
			return aifs_err_set(err, -ETIMEDOUT, "waiting for the access token");
		}
	}
	if (!token_fresh(a)) {
		char *token = NULL, *refused = a->refused ? strdup(a->refused) : NULL;
		int64_t expires = 0;
		a->token_busy = true;
		pthread_mutex_unlock(&a->mu);
		int rc = token_obtain(a, refused, &token, &expires, err);
		secret_free(refused);
		pthread_mutex_lock(&a->mu);
		a->token_busy = false;
		pthread_cond_broadcast(&a->cv);
		if (rc) {
			pthread_mutex_unlock(&a->mu);
			return rc; /* -EACCES when refused; transient errnos stay what they are */
		}
		if (a->token) {
			explicit_bzero(a->token, strlen(a->token));
			free(a->token);
		}
		a->token = token;
		/* Said to expire already (a clock apart, or a server's mistake): use it
		 * until the API refuses it, rather than ask again before every call. */
		if (expires && expires - TOKEN_MARGIN <= time(NULL)) {
			log_msg(LOGL_INFO,
				"%s: the access token's expire_in is past; using it until the API "
				"refuses it",
				a->pc->name);
			expires = 0;
		}
		a->token_expires = expires;
		a->token_gen++;
	}
	*cred = strdup(a->token);
	*gen = a->token_gen;
	pthread_mutex_unlock(&a->mu);
	return *cred ? 0 : aifs_err_set(err, -ENOMEM, "out of memory");
}

/* ---- creating: exactly once ---- */

/* What one create attempt leaves known of the task. */
enum create_fate {
	CREATE_FINAL,   /* refused, or never sent and not worth sending again */
	CREATE_AGAIN,   /* surely not taken: may be sent again */
	CREATE_REAUTH,  /* the token was refused: not taken */
	CREATE_UNKNOWN, /* sent, and no answer says: the task may exist */
};

/* Forgets a token the API refused, unless another thread already has; in
 * cluster mode, the account's too, if it is still that one. */
static void token_forget(struct api *a, unsigned gen)
{
	char *refused = NULL;

	pthread_mutex_lock(&a->mu);
	if (a->token_gen == gen && a->token) {
		if (a->acct) {
			secret_free(a->refused);
			a->refused = strdup(a->token);
			refused = strdup(a->token);
		}
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
		a->token = NULL;
	}
	pthread_mutex_unlock(&a->mu);
	if (refused && api_cluster_state(a) == CLUSTER_ON)
		cluster_token_drop(a->acct, refused);
	secret_free(refused);
}

/* One attempt: a slot from the rate limiter, the request on a connection of
 * its own (http never sends it twice), the answer; and what is known. */
static int create_once(struct api *a, const char *body, size_t len, const char *cred, char **id,
		       enum create_fate *fate, struct aifs_err *err)
{
	struct http_req req = { 0 };
	struct http_resp resp = { 0 };
	int rc;

	*fate = CREATE_FINAL;
	http_resp_clear(&resp);
	rc = a->ops->create_request(a->pc, body, len, cred, &req);
	if (rc) {
		aifs_err_set(err, rc, "cannot build the request");
		goto out;
	}
	req.no_reuse = true;
	double wait = slot(a);
	if (wait < 0) {
		rc = aifs_err_set(err, -EAGAIN, "rate limit: no slot within %.0f s",
				  a->pc->tun.timeout);
		goto out;
	}
	if ((rc = http_pause(a->http, wait))) {
		aifs_err_set(err, rc, "unmounting");
		goto out;
	}
	count(&a->sent[API_EP_CREATE]);
	rc = http_perform(a->http, &a->hopts, &req, &resp, err);
	if (rc) {
		err->retry = AIFS_RETRY_NO;
		if (resp.sent)
			*fate = CREATE_UNKNOWN;
		else if (rc != -EPROTO && rc != -ENOMEM && rc != -ECANCELED)
			*fate = CREATE_AGAIN; /* refused, unresolved, no connection in time */
		goto out;
	}
	rc = a->ops->create_parse(a->pc, &resp, id, err);
	if (rc && err->http_status == 0)
		err->http_status = resp.status;
	if (rc && err->retry == AIFS_RETRY_THROTTLED)
		count(&a->throttled);
	if (rc == 0 || err->retry == AIFS_RETRY_NO)
		*fate = CREATE_FINAL;
	else if (err->retry == AIFS_RETRY_REAUTH)
		*fate = CREATE_REAUTH;
	else if (err->retry == AIFS_RETRY_THROTTLED || resp.status == 503)
		*fate = CREATE_AGAIN;
	else
		*fate = CREATE_UNKNOWN;
out:
	http_req_clear(&req);
	http_resp_clear(&resp);
	return rc;
}

/* The outcome is unknown: -EIO, and err->msg says so first, whole in
 * itself (status and provider code in it), as a label's error file shows it:
 * "unknown: HTTP 500 InternalServiceError: ...". */
static int create_unknown(struct api *a, struct aifs_err *err, bool *unknown)
{
	char why[sizeof err->msg + sizeof err->pcode + 48], status[24] = "";
	long st = err->http_status;
	bool show_code = err->pcode[0] && !strstr(err->msg, err->pcode);

	if (st && (st < 200 || st > 299) && strncmp(err->msg, "HTTP ", 5) != 0)
		snprintf(status, sizeof status, "HTTP %ld", st);
	snprintf(why, sizeof why, "unknown: %s%s%s%s%s", status, status[0] && show_code ? " " : "",
		 show_code ? err->pcode : "", status[0] || show_code ? ": " : "", err->msg);
	aifs_text_cut(err->msg, sizeof err->msg, why);
	err->code = -EIO;
	err->retry = AIFS_RETRY_NO;
	*unknown = true;
	log_failure(a, "create", err, LOGL_WARN, "; the task may exist, so it is not sent again");
	return -EIO;
}

static int create(struct api *a, const char *body, size_t len, char **id, bool *unknown,
		  struct aifs_err *err)
{
	const struct tunables *t = &a->pc->tun;
	bool reauthed = false;
	int rc;

	*id = NULL;
	*unknown = false;
	aifs_err_clear(err);
	if (!a->ops->create_request || !a->ops->create_parse)
		return aifs_err_set(err, -EOPNOTSUPP, "%s cannot create tasks", a->ops->type);

	struct backoff bo;
	backoff_init(&bo, a->http, t->retries, jitter_seed(a));
	for (;;) {
		enum create_fate fate;
		char *cred = NULL;
		unsigned gen = 0;

		aifs_err_clear(err);
		if (uses_token_exchange(a)) {
			/* a call of its own: this create is not sent if it fails */
			rc = fetch_token(a, &gen, &cred, err);
			if (rc)
				return rc;
		}
		rc = create_once(a, body, len, cred ? cred : a->ops->static_cred(a->pc), id, &fate,
				 err);
		redact_err(a, err, cred);
		if (cred) {
			explicit_bzero(cred, strlen(cred));
			free(cred);
		}
		if (rc == 0) {
			log_msg(LOGL_INFO, "%s: create: %s", a->pc->name, *id);
			return 0;
		}
		if (fate == CREATE_UNKNOWN)
			return create_unknown(a, err, unknown);
		if (fate == CREATE_REAUTH && gen && !reauthed) {
			token_forget(a, gen);
			reauthed = true;
			log_failure(a, "create", err, LOGL_INFO, "; getting a new token");
			continue; /* not a retry */
		}
		if (fate != CREATE_AGAIN || backoff_spent(&bo)) {
			if (fate == CREATE_REAUTH)
				err->retry = AIFS_RETRY_NO; /* a fresh token did not help: EACCES */
			log_failure(a, "create", err, LOGL_WARN, bo.attempt ? " after retries" : "");
			return rc;
		}
		if (backoff_next(&bo, err->retry_after)) {
			log_failure(a, "create", err, LOGL_WARN, "; Retry-After too long");
			return aifs_err_set(err, -EAGAIN, "throttled: retry after %.0f s",
					    err->retry_after);
		}
		log_failure(a, "create", err, LOGL_DEBUG, "; not taken, sending again");
		if (backoff_wait(&bo))
			return aifs_err_set(err, -ECANCELED, "unmounting");
	}
}

int api_create(struct api *a, const char *body, size_t len, char **id, bool *unknown,
	       struct aifs_err *err)
{
	return api_counted(a, create(a, body, len, id, unknown, err));
}

/* ---- deleting ---- */

/* A delete across the attempts of run(): whether one of them may have done
 * it (sent, and no answer came that says it was not). */
struct delete_state {
	int attempts;
	bool last_said; /* the last attempt's answer said it was not done */
	bool maybe_done;
};

static int delete_build(struct api *a, const struct call *c, const char *cred, struct http_req *r)
{
	struct delete_state *st = c->ctx;

	if (st->attempts++ > 0 && !st->last_said)
		st->maybe_done = true;
	st->last_said = false;
	return a->ops->delete_request(a->pc, c->id, cred, r);
}

static int delete_parse(struct api *a, const struct call *c, const struct http_resp *resp,
			struct aifs_err *err)
{
	struct delete_state *st = c->ctx;
	int rc = a->ops->delete_parse(a->pc, resp, err);

	st->last_said = err->retry == AIFS_RETRY_THROTTLED || err->retry == AIFS_RETRY_REAUTH ||
			resp->status == 503;
	if (rc == -ENOENT && st->maybe_done) {
		/* gone: most likely by the attempt whose answer was lost */
		log_msg(LOGL_INFO, "%s: %s: HTTP %ld after an unanswered attempt: taken as done",
			a->pc->name, c->what, resp->status);
		aifs_err_clear(err);
		return 0;
	}
	return rc;
}

int api_delete(struct api *a, const char *id, struct aifs_err *err)
{
	char what[96], shown[68];
	struct delete_state st = { 0 };

	aifs_err_clear(err);
	if (!a->ops->delete_request || !a->ops->delete_parse)
		return aifs_err_set(err, -EPERM, "%s has no cancel or delete", a->ops->type);
	aifs_text_cut(shown, sizeof shown, id);
	snprintf(what, sizeof what, "delete %s", shown);
	struct call c = { .what = what, .ep = API_EP_DELETE, .build = delete_build,
			  .parse = delete_parse, .uses_token = true, .id = id, .ctx = &st };
	return api_counted(a, api_run(a, &c, err));
}

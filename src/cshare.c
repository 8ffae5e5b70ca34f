/* cshare.c: what the mounts of one account share through Redis: the API's
 * answers (made once: a lease, the others wait for the answer), the known
 * ids, the .new labels' claims and the access token. Every value read is
 * decoded by cval.c, as defensively as a provider's answer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "aifs/buf.h"
#include "aifs/cval.h"
#include "aifs/log.h"
#include "aifs/ratelimit.h"
#include "aifs/secret.h"
#include "cluster_int.h"

#define POLL_MS 20 /* waiting on another mount's answer */

static const char TOKEN_DROP[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if not v then return 0 end\n"
	"local i = string.find(v, '\\n', 1, true)\n"
	"if i and string.sub(v, i + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
	"return 0\n";

static const char UNLEASE[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
	"return 0\n";

/* KEYS: the answer, its lease. {1, value, pttl} or {0, lease exists}. */
static const char ANSWER[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if v then return {1, v, redis.call('PTTL', KEYS[1])} end\n"
	"return {0, redis.call('EXISTS', KEYS[2])}\n";

/* SETs the account's key KIND REST to v (vlen bytes), expiring after px_ms
 * milliseconds (0: never). 0 or -EAGAIN. */
static int put(struct cluster_acct *a, const char *kind, const char *rest, size_t rlen,
	       const char *v, size_t vlen, long long px_ms)
{
	struct key k;
	char px[32];

	if (cluster_key(a, kind, rest, rlen, &k))
		return -EAGAIN;
	snprintf(px, sizeof px, "%lld", px_ms);
	const char *argv[] = { "SET", k.s, v, "PX", px };
	size_t lens[] = { 3, k.n, vlen, 2, strlen(px) };
	redisReply *r = cluster_cmd(a->c, false, px_ms > 0 ? 5 : 3, argv, lens);
	free(k.s);
	if (!r)
		return -EAGAIN;
	freeReplyObject(r);
	return 0;
}

/* ---- shared answers ---- */

static void nap(struct cluster *c, int ms)
{
	struct timespec until;
	pthread_mutex_lock(&c->beat_mu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)ms * 1000000L;
	if (until.tv_nsec >= 1000000000L)
		until.tv_sec++, until.tv_nsec -= 1000000000L;
	if (!atomic_load(&c->stopping))
		pthread_cond_timedwait(&c->beat_cv, &c->beat_mu, &until);
	pthread_mutex_unlock(&c->beat_mu);
}

/* One look at an answer and its lease: 1 found (filled), 0 none (*leased
 * says whether a lease stands), -EAGAIN. */
static int answer_look(struct cluster_acct *a, const char *key, long *status, struct buf *b,
		       double *age, bool *leased)
{
	struct key k[2];
	int rc = -EAGAIN;

	if (cluster_key(a, "ans:", key, strlen(key), &k[0]))
		return -EAGAIN;
	if (cluster_key(a, "lease:", key, strlen(key), &k[1])) {
		free(k[0].s);
		return -EAGAIN;
	}
	redisReply *r = cluster_eval(a->c, ANSWER, 2, k, 0, NULL, NULL);
	free(k[0].s);
	free(k[1].s);
	if (!r)
		return -EAGAIN;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER)
		goto nonsense;
	if (r->element[0]->integer == 0) {
		if (r->element[1]->type != REDIS_REPLY_INTEGER)
			goto nonsense;
		*leased = r->element[1]->integer != 0;
		freeReplyObject(r);
		return 0;
	}
	if (r->elements != 3 || r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_INTEGER)
		goto nonsense;
	const char *body;
	size_t len;
	int64_t ttl_ms;
	if (cval_answer_decode(r->element[1]->str, r->element[1]->len, status, &ttl_ms, &body,
			       &len)) {
		/* a stored value aifs cannot read is no answer: ask the API */
		log_msg(LOGL_DEBUG, "cluster: an unreadable shared answer for %s; ignored", key);
		freeReplyObject(r);
		*leased = false;
		return 0;
	}
	long long pttl = r->element[2]->integer;
	*age = ttl_ms > 0 && pttl >= 0 && pttl <= ttl_ms ? (double)(ttl_ms - pttl) / 1000 : 0;
	b->len = 0;
	rc = buf_append(b, body, len) ? -EAGAIN : 1;
	freeReplyObject(r);
	return rc;
nonsense:
	cluster_nonsense(a->c, r, "a shared answer");
	return -EAGAIN;
}

int cluster_answer_get(struct cluster_acct *a, const char *key, long *status, struct buf *b,
		       double *age)
{
	bool leased;
	return answer_look(a, key, status, b, age, &leased);
}

int cluster_answer_put(struct cluster_acct *a, const char *key, long status, const char *body,
		       size_t len, double ttl)
{
	size_t vlen;
	int64_t ttl_ms = ttl > 0 ? (int64_t)llround(ttl * 1000) : 0;
	char *v = cval_answer_encode(status, ttl_ms, body, len, &vlen);

	if (!v)
		return -EAGAIN;
	/* "for good" is a week: finished tasks do not change, and Redis's
	 * memory is not infinite */
	int rc = put(a, "ans:", key, strlen(key), v, vlen, ttl_ms > 0 ? ttl_ms : 7LL * 86400 * 1000);
	free(v);
	return rc;
}

int cluster_lease(struct cluster_acct *a, const char *key, double secs, char *lease)
{
	struct key k;
	char px[32];
	unsigned char rnd[8] = { 0 };

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		memcpy(rnd, &(uint64_t){ (uint64_t)(ratelimit_now() * 1e9) }, sizeof rnd);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(lease + 2 * i, 3, "%02x", rnd[i]);
	snprintf(px, sizeof px, "%lld", (long long)llround(secs * 1000) + 1);
	if (cluster_key(a, "lease:", key, strlen(key), &k))
		return -EAGAIN;
	const char *argv[] = { "SET", k.s, lease, "NX", "PX", px };
	size_t lens[] = { 3, k.n, 16, 2, 2, strlen(px) };
	redisReply *r = cluster_cmd(a->c, false, 6, argv, lens);
	free(k.s);
	if (!r)
		return -EAGAIN;
	int rc = r->type == REDIS_REPLY_STATUS ? 1 : r->type == REDIS_REPLY_NIL ? 0 : -1;
	if (rc < 0) {
		cluster_nonsense(a->c, r, "a lease");
		return -EAGAIN;
	}
	freeReplyObject(r);
	return rc;
}

void cluster_unlease(struct cluster_acct *a, const char *key, const char *lease)
{
	struct key k;
	if (cluster_key(a, "lease:", key, strlen(key), &k))
		return;
	const char *args[] = { lease };
	redisReply *r = cluster_eval(a->c, UNLEASE, 1, &k, 1, args, NULL);
	free(k.s);
	if (r)
		freeReplyObject(r);
}

int cluster_answer_wait(struct cluster_acct *a, const char *key, double secs, long *status,
			struct buf *b, double *age)
{
	double until = ratelimit_now() + secs;
	for (;;) {
		bool leased = false;
		int rc = answer_look(a, key, status, b, age, &leased);
		if (rc != 0 || !leased)
			return rc;
		if (ratelimit_now() >= until || atomic_load(&a->c->stopping))
			return 0;
		nap(a->c, POLL_MS);
	}
}

/* ---- the known ids ---- */

static int set_change(struct cluster_acct *a, const char *verb, const char *const *ids,
		      const size_t *lens, size_t n)
{
	struct key k;
	if (n == 0)
		return 0;
	if (cluster_key(a, "known", NULL, 0, &k))
		return -EAGAIN;
	const char **argv = calloc(n + 2, sizeof *argv);
	size_t *alen = calloc(n + 2, sizeof *alen);
	redisReply *r = NULL;
	if (argv && alen) {
		argv[0] = verb, alen[0] = strlen(verb);
		argv[1] = k.s, alen[1] = k.n;
		for (size_t i = 0; i < n; i++)
			argv[i + 2] = ids[i], alen[i + 2] = lens[i];
		r = cluster_cmd(a->c, false, (int)n + 2, argv, alen);
	}
	free(argv);
	free(alen);
	free(k.s);
	if (!r)
		return -EAGAIN;
	freeReplyObject(r);
	return 0;
}

int cluster_known_add(struct cluster_acct *a, const char *const *ids, const size_t *lens, size_t n)
{
	return set_change(a, "SADD", ids, lens, n);
}

int cluster_known_del(struct cluster_acct *a, const char *const *ids, const size_t *lens, size_t n)
{
	return set_change(a, "SREM", ids, lens, n);
}

int cluster_known_all(struct cluster_acct *a, int (*fn)(void *ctx, const char *id, size_t len),
		      void *ctx)
{
	struct key k;
	int rc = 0;
	if (cluster_key(a, "known", NULL, 0, &k))
		return -EAGAIN;
	const char *argv[] = { "SMEMBERS", k.s };
	size_t lens[] = { 8, k.n };
	redisReply *r = cluster_cmd(a->c, false, 2, argv, lens);
	free(k.s);
	if (!r)
		return -EAGAIN;
	if (r->type != REDIS_REPLY_ARRAY) {
		cluster_nonsense(a->c, r, "the known ids");
		return -EAGAIN;
	}
	for (size_t i = 0; i < r->elements && rc == 0; i++) {
		redisReply *e = r->element[i];
		/* an id is what a provider may name a task: 1..1024 bytes, no NUL */
		if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > 1024 ||
		    memchr(e->str, '\0', e->len))
			continue;
		rc = fn(ctx, e->str, e->len);
	}
	freeReplyObject(r);
	return rc;
}

/* ---- labels ---- */

static int label_read(struct cluster_acct *a, const struct key *k, enum cval_label *st,
		      char **text)
{
	const char *argv[] = { "GET", k->s };
	size_t lens[] = { 3, k->n };
	const char *t;
	size_t tl;
	redisReply *r = cluster_cmd(a->c, false, 2, argv, lens);
	if (!r)
		return -EAGAIN;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING || cval_label_decode(r->str, r->len, st, &t, &tl)) {
		cluster_nonsense(a->c, r, "a label");
		return -EAGAIN;
	}
	*text = strndup(t, tl);
	freeReplyObject(r);
	return *text ? 1 : -EAGAIN;
}

int cluster_label_claim(struct cluster_acct *a, const char *name, enum cval_label *st,
			char **text)
{
	struct key k;
	size_t vlen;
	int rc = -EAGAIN;
	char *v = cval_label_encode(CVAL_LABEL_SENDING, a->c->mount_id, &vlen);

	*text = NULL;
	if (!v || cluster_key(a, "label:", name, strlen(name), &k)) {
		free(v);
		return -EAGAIN;
	}
	for (int tries = 0; tries < 3 && rc == -EAGAIN; tries++) {
		const char *argv[] = { "SET", k.s, v, "NX" };
		size_t lens[] = { 3, k.n, vlen, 2 };
		redisReply *r = cluster_cmd(a->c, false, 4, argv, lens);
		if (!r)
			break;
		if (r->type == REDIS_REPLY_STATUS) {
			rc = 1;
		} else if (r->type == REDIS_REPLY_NIL) {
			rc = label_read(a, &k, st, text);
			if (rc == 0)
				rc = -EAGAIN; /* released meanwhile: claim again */
			else if (rc == 1)
				rc = 0;
			else
				break;
		} else {
			cluster_nonsense(a->c, r, "a label claim");
			r = NULL;
			break;
		}
		if (r)
			freeReplyObject(r);
	}
	free(k.s);
	free(v);
	return rc;
}

int cluster_label_set(struct cluster_acct *a, const char *name, enum cval_label st,
		      const char *text)
{
	size_t vlen;
	char *v = cval_label_encode(st, text, &vlen);
	if (!v)
		return -EAGAIN;
	int rc = put(a, "label:", name, strlen(name), v, vlen, 0); /* for good */
	free(v);
	return rc;
}

void cluster_label_release(struct cluster_acct *a, const char *name)
{
	struct key k;
	size_t vlen;
	char *v = cval_label_encode(CVAL_LABEL_SENDING, a->c->mount_id, &vlen);
	if (!v || cluster_key(a, "label:", name, strlen(name), &k)) {
		free(v);
		return;
	}
	const char *args[] = { v };
	size_t alens[] = { vlen };
	redisReply *r = cluster_eval(a->c, UNLEASE, 1, &k, 1, args, alens);
	free(k.s);
	free(v);
	if (r)
		freeReplyObject(r);
}

int cluster_label_wait(struct cluster_acct *a, const char *name, double secs, enum cval_label *st,
		       char **text)
{
	struct key k;
	double until = ratelimit_now() + secs;
	int rc;

	if (cluster_key(a, "label:", name, strlen(name), &k))
		return -EAGAIN;
	for (;;) {
		*text = NULL;
		rc = label_read(a, &k, st, text);
		if (rc == 1 && *st != CVAL_LABEL_SENDING)
			break;
		free(*text);
		*text = NULL;
		if (rc < 0)
			break;
		if (rc == 0 || ratelimit_now() >= until || atomic_load(&a->c->stopping)) {
			rc = 0; /* released (not taken), or still unanswered */
			break;
		}
		nap(a->c, 4 * POLL_MS);
	}
	free(k.s);
	return rc;
}

/* ---- the access token ---- */

int cluster_token_get(struct cluster_acct *a, char **token, int64_t *expires)
{
	struct key k;
	*token = NULL;
	if (cluster_key(a, "token", NULL, 0, &k))
		return -EAGAIN;
	const char *argv[] = { "GET", k.s };
	size_t lens[] = { 3, k.n };
	redisReply *r = cluster_cmd(a->c, false, 2, argv, lens);
	free(k.s);
	if (!r)
		return -EAGAIN;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING) {
		cluster_nonsense(a->c, r, "the access token");
		return -EAGAIN;
	}
	int rc = cval_token_decode(r->str, r->len, token, expires);
	explicit_bzero(r->str, r->len);
	freeReplyObject(r);
	if (rc == -EINVAL)
		log_msg(LOGL_WARN, "cluster: the shared access token is unreadable; getting another");
	return rc ? 0 : 1;
}

int cluster_token_put(struct cluster_acct *a, const char *token, int64_t expires)
{
	size_t vlen;
	char *v = cval_token_encode(token, expires, &vlen);
	int64_t left = expires ? expires - (int64_t)time(NULL) : 0;

	if (!v)
		return -EAGAIN;
	/* kept until it expires, or a day when the API did not say */
	int rc = put(a, "token", NULL, 0, v, vlen, left > 0 ? left * 1000 : 86400000LL);
	secret_wipe_free(v, vlen);
	return rc;
}

void cluster_token_drop(struct cluster_acct *a, const char *refused)
{
	struct key k;
	if (cluster_key(a, "token", NULL, 0, &k))
		return;
	const char *args[] = { refused };
	redisReply *r = cluster_eval(a->c, TOKEN_DROP, 1, &k, 1, args, NULL);
	free(k.s);
	if (r)
		freeReplyObject(r);
}

static int lease_held(struct cluster_acct *a, const char *key)
{
	struct key k;
	if (cluster_key(a, "lease:", key, strlen(key), &k))
		return -EAGAIN;
	const char *argv[] = { "EXISTS", k.s };
	size_t lens[] = { 6, k.n };
	redisReply *r = cluster_cmd(a->c, false, 2, argv, lens);
	free(k.s);
	if (!r)
		return -EAGAIN;
	if (r->type != REDIS_REPLY_INTEGER) {
		cluster_nonsense(a->c, r, "EXISTS");
		return -EAGAIN;
	}
	int held = r->integer != 0;
	freeReplyObject(r);
	return held;
}

int cluster_token_wait(struct cluster_acct *a, const char *refused, double secs, char **token,
		       int64_t *expires)
{
	double until = ratelimit_now() + secs;
	for (;;) {
		int rc = cluster_token_get(a, token, expires);
		if (rc < 0)
			return rc;
		if (rc == 1 && (!refused || strcmp(*token, refused) != 0))
			return 1;
		secret_free(*token);
		*token = NULL;
		if ((rc = lease_held(a, "token")) <= 0 || ratelimit_now() >= until ||
		    atomic_load(&a->c->stopping))
			return rc < 0 ? rc : 0;
		nap(a->c, 2 * POLL_MS);
	}
}

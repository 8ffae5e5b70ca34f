/* cluster.c: the Redis side of cluster mode, over hiredis.
 *
 * A small pool of blocking connections, each with a connect and a command
 * timeout. The first failure of any kind (refused, timed out, a protocol
 * error, a reply of the wrong shape) marks the cluster degraded and logs
 * once; from then on every call returns -EAGAIN at once, and only the
 * heartbeat thread talks to Redis, every PROBE_EVERY seconds, until Redis
 * answers again. The heartbeat also registers this mount under each
 * account and counts the account's mounts alive in the last minute.
 *
 * Scripts run by Redis read its own clock (TIME), so the hosts' clocks do
 * not matter. Keys: CVAL_PREFIX "{ACCOUNT}:" and the kind. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "aifs/buf.h"
#include "aifs/cluster.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/log.h"
#include "aifs/provider.h"
#include "aifs/secret.h"
#include "cluster_int.h"

#define CONNECT_TIMEOUT_MS 1000
#define COMMAND_TIMEOUT_MS 1000
#define BEAT_EVERY 5.0  /* seconds between heartbeats */
#define PROBE_EVERY 2.0 /* seconds between probes while Redis is lost */
#define ALIVE_SECS 60   /* SPEC: mounts seen alive in the last minute */

static const char GCRA[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"local T, tau, maxw = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
	"local tat = tonumber(redis.call('GET', KEYS[1])) or 0\n"
	"if tat < now then tat = now end\n"
	"local ntat = tat + T\n"
	"local wait = ntat - tau - now\n"
	"if wait < 0 then wait = 0 end\n"
	"if wait > maxw then return -1 end\n"
	"redis.call('SET', KEYS[1], string.format('%d', ntat), 'PX', math.floor((ntat - now) / 1000) + 1000)\n"
	"return wait\n";

static const char BEAT[] =
	"local t = tonumber(redis.call('TIME')[1])\n"
	"redis.call('ZADD', KEYS[1], t, ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - tonumber(ARGV[2]))\n"
	"redis.call('EXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))\n"
	"return redis.call('ZCARD', KEYS[1])\n";




/* ---- health ---- */

static void lost(struct cluster *c, const char *why)
{
	int on = CLUSTER_ON;
	if (atomic_compare_exchange_strong(&c->state, &on, CLUSTER_DEGRADED))
		log_msg(LOGL_WARN,
			"cluster: %s: %s; carrying on alone (a local rate limit of each account's "
			"qps / its mounts) until Redis is back",
			c->shown, why);
}

enum cluster_state cluster_state(const struct cluster *c)
{
	return c ? (enum cluster_state)atomic_load(&c->state) : CLUSTER_OFF;
}

enum cluster_state cluster_acct_state(const struct cluster_acct *a)
{
	return cluster_state(a->c);
}

const char *cluster_state_name(enum cluster_state st)
{
	return st == CLUSTER_ON ? "on" : st == CLUSTER_DEGRADED ? "degraded" : "off";
}

/* ---- connections ---- */

static redisContext *dial(struct cluster *c, char *why, size_t size)
{
	struct timeval ct = { CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000 };
	struct timeval rt = { COMMAND_TIMEOUT_MS / 1000, (COMMAND_TIMEOUT_MS % 1000) * 1000 };
	redisContext *x = redisConnectWithTimeout(c->u.host, c->u.port, ct);
	redisReply *r = NULL;

	if (!x || x->err) {
		snprintf(why, size, "cannot connect: %s", x ? x->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(x, rt) != REDIS_OK) {
		snprintf(why, size, "cannot set a timeout");
		goto fail;
	}
	if (c->u.password) {
		if (c->u.user[0])
			r = redisCommand(x, "AUTH %s %s", c->u.user, c->u.password);
		else
			r = redisCommand(x, "AUTH %s", c->u.password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			/* Redis's own words; they never repeat the password */
			snprintf(why, size, "AUTH refused: %s", r ? r->str : x->errstr);
			goto fail;
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (c->u.db) {
		r = redisCommand(x, "SELECT %d", c->u.db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, size, "SELECT %d refused: %s", c->u.db, r ? r->str : x->errstr);
			goto fail;
		}
		freeReplyObject(r);
	}
	return x;
fail:
	if (r)
		freeReplyObject(r);
	if (x)
		redisFree(x);
	return NULL;
}

static void pool_drain(struct cluster *c)
{
	pthread_mutex_lock(&c->pool_mu);
	while (c->n_idle)
		redisFree(c->idle[--c->n_idle]);
	pthread_mutex_unlock(&c->pool_mu);
}

/* One command. NULL (and the cluster degraded) on any failure; while
 * degraded, NULL at once unless probe. The reply is the caller's. */
redisReply *cluster_cmd(struct cluster *c, bool probe, int argc, const char **argv,
		       const size_t *lens)
{
	char why[256];
	redisContext *x = NULL;
	redisReply *r;

	if (!probe && atomic_load(&c->state) != CLUSTER_ON)
		return NULL;
	pthread_mutex_lock(&c->pool_mu);
	if (c->n_idle)
		x = c->idle[--c->n_idle];
	pthread_mutex_unlock(&c->pool_mu);
	if (!x && !(x = dial(c, why, sizeof why))) {
		if (!probe)
			lost(c, why);
		return NULL;
	}
	r = redisCommandArgv(x, argc, argv, lens);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof why, "%s", r ? r->str : x->err ? x->errstr : "no answer");
		if (r)
			freeReplyObject(r);
		redisFree(x);
		if (!probe)
			lost(c, why);
		return NULL;
	}
	pthread_mutex_lock(&c->pool_mu);
	if (c->n_idle < POOL_MAX)
		c->idle[c->n_idle++] = x, x = NULL;
	pthread_mutex_unlock(&c->pool_mu);
	if (x)
		redisFree(x);
	return r;
}

/* A reply of the wrong shape: Redis, or whatever answers there, talks nonsense. */
void *cluster_nonsense(struct cluster *c, redisReply *r, const char *what)
{
	char why[96];
	snprintf(why, sizeof why, "an unexpected answer to %s", what);
	freeReplyObject(r);
	lost(c, why);
	return NULL;
}

/* ---- keys ---- */


int cluster_key(const struct cluster_acct *a, const char *kind, const char *rest, size_t rlen,
		    struct key *k)
{
	size_t p = strlen(a->prefix), kl = strlen(kind);
	k->n = p + kl + rlen;
	if (!(k->s = malloc(k->n + 1)))
		return -ENOMEM;
	memcpy(k->s, a->prefix, p);
	memcpy(k->s + p, kind, kl);
	if (rlen)
		memcpy(k->s + p + kl, rest, rlen);
	k->s[k->n] = '\0';
	return 0;
}

redisReply *cluster_eval(struct cluster *c, const char *script, int nkeys, const struct key *keys,
			int nargs, const char **args, const size_t *alens)
{
	const char *argv[8];
	size_t lens[8];
	char nk[8];
	int n = 0;

	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[n] = "EVAL", lens[n++] = 4;
	argv[n] = script, lens[n++] = strlen(script);
	argv[n] = nk, lens[n++] = strlen(nk);
	for (int i = 0; i < nkeys; i++)
		argv[n] = keys[i].s, lens[n++] = keys[i].n;
	for (int i = 0; i < nargs; i++)
		argv[n] = args[i], lens[n++] = alens ? alens[i] : strlen(args[i]);
	return cluster_cmd(c, false, n, argv, lens);
}

/* ---- life ---- */

struct cluster *cluster_new(const char *url, struct aifs_err *err)
{
	struct cluster *c = calloc(1, sizeof *c);
	unsigned char rnd[8];
	char why[128];

	if (!c) {
		aifs_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (cval_url_parse(url, &c->u, why, sizeof why)) {
		aifs_err_set(err, -EINVAL, "redis: %s", why);
		free(c);
		return NULL;
	}
	cval_url_shown(&c->u, c->shown, sizeof c->shown);
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
		memcpy(rnd, &t, sizeof rnd);
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(c->mount_id + 2 * i, 3, "%02x", rnd[i]);
	atomic_init(&c->state, CLUSTER_ON);
	pthread_mutex_init(&c->pool_mu, NULL);
	pthread_mutex_init(&c->beat_mu, NULL);
	pthread_cond_init(&c->beat_cv, NULL);
	return c;
}

struct cluster_acct *cluster_acct(struct cluster *c, const struct provider_conf *pc)
{
	const char *cred[3] = { pc->api_key, pc->app_id, pc->secret_key };
	char hex[CVAL_ACCT_HEX + 1];
	struct cluster_acct *a;

	if (pc->access_token && !pc->secret_key)
		cred[1] = NULL, cred[2] = pc->access_token;
	if (c->n_accts == CONFIG_MAX_PROVIDERS || !(a = calloc(1, sizeof *a)))
		return NULL;
	cval_account(pc->type, pc->base_url, cred, 3, hex);
	snprintf(a->prefix, sizeof a->prefix, "%s{%s}:", CVAL_PREFIX, hex);
	a->c = c;
	snprintf(a->name, sizeof a->name, "%s", pc->name);
	atomic_init(&a->mounts, 0);
	c->accts[c->n_accts++] = a;
	return a;
}

unsigned cluster_mounts(const struct cluster_acct *a) /* 0 until the first heartbeat */
{
	unsigned m = atomic_load(&a->mounts);
	return m ? m : 1;
}

/* Registers this mount under every account; counts their mounts. */
static bool beat_once(struct cluster *c, bool probe)
{
	char alive[16];
	snprintf(alive, sizeof alive, "%d", ALIVE_SECS);
	for (size_t i = 0; i < c->n_accts; i++) {
		struct cluster_acct *a = c->accts[i];
		struct key k;
		if (cluster_key(a, "mounts", NULL, 0, &k))
			return false;
		const char *argv[] = { "EVAL", BEAT, "1", k.s, c->mount_id, alive };
		size_t lens[] = { 4, strlen(BEAT), 1, k.n, strlen(c->mount_id), strlen(alive) };
		redisReply *r = cluster_cmd(c, probe, 6, argv, lens);
		free(k.s);
		if (!r)
			return false;
		if (r->type != REDIS_REPLY_INTEGER) {
			cluster_nonsense(c, r, "the heartbeat");
			return false;
		}
		unsigned m = r->integer > 0 && r->integer < 100000 ? (unsigned)r->integer : 1;
		if (atomic_exchange(&a->mounts, m) != m)
			log_msg(LOGL_INFO, "cluster: %s: %u mount(s) of this account alive", a->name, m);
		freeReplyObject(r);
	}
	return true;
}

static void *beat_main(void *arg)
{
	struct cluster *c = arg;

	pthread_mutex_lock(&c->beat_mu);
	while (!atomic_load(&c->stopping)) {
		bool degraded = atomic_load(&c->state) == CLUSTER_DEGRADED;
		pthread_mutex_unlock(&c->beat_mu);
		if (degraded) {
			pool_drain(c);
			if (beat_once(c, true)) {
				atomic_store(&c->state, CLUSTER_ON);
				log_msg(LOGL_WARN, "cluster: %s: back; sharing again", c->shown);
			}
		} else {
			beat_once(c, false);
		}
		pthread_mutex_lock(&c->beat_mu);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		double secs = atomic_load(&c->state) == CLUSTER_ON ? BEAT_EVERY : PROBE_EVERY;
		until.tv_sec += (time_t)secs;
		while (!atomic_load(&c->stopping) &&
		       pthread_cond_timedwait(&c->beat_cv, &c->beat_mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->beat_mu);
	return NULL;
}

int cluster_start(struct cluster *c)
{
	int rc = pthread_create(&c->beat, NULL, beat_main, c);
	if (rc)
		return -rc;
	c->beat_started = true;
	return 0;
}

void cluster_stop(struct cluster *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->beat_mu);
	atomic_store(&c->stopping, true);
	pthread_cond_broadcast(&c->beat_cv);
	pthread_mutex_unlock(&c->beat_mu);
	if (c->beat_started)
		pthread_join(c->beat, NULL);
	c->beat_started = false;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	cluster_stop(c);
	pool_drain(c);
	for (size_t i = 0; i < c->n_accts; i++)
		free(c->accts[i]);
	cval_url_clear(&c->u);
	pthread_mutex_destroy(&c->pool_mu);
	pthread_mutex_destroy(&c->beat_mu);
	pthread_cond_destroy(&c->beat_cv);
	free(c);
}

/* ---- the rate limit ---- */

int cluster_reserve(struct cluster_acct *a, double qps, double burst, double max_wait,
		    double *wait)
{
	char t[32], tau[32], mw[32];
	struct key k;
	long long T = llround(1e6 / (qps > 1e-6 ? qps : 1e-6));

	if (T < 1)
		T = 1;
	snprintf(t, sizeof t, "%lld", T);
	/* One token of the burst stays unused, when there is more than one: a
	 * slot granted on time may still reach the API a little early. */
	burst = burst >= 2 ? burst - 1 : 1;
	snprintf(tau, sizeof tau, "%lld", (long long)llround(burst * (double)T));
	snprintf(mw, sizeof mw, "%lld", (long long)llround(max_wait * 1e6));
	if (cluster_key(a, "rate", NULL, 0, &k))
		return -EAGAIN;
	const char *args[] = { t, tau, mw };
	redisReply *r = cluster_eval(a->c, GCRA, 1, &k, 3, args, NULL);
	free(k.s);
	if (!r)
		return -EAGAIN;
	if (r->type != REDIS_REPLY_INTEGER || r->integer < -1) {
		cluster_nonsense(a->c, r, "the rate limit");
		return -EAGAIN;
	}
	*wait = r->integer < 0 ? -1 : (double)r->integer / 1e6;
	freeReplyObject(r);
	return 0;
}


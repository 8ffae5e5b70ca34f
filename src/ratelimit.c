/* ratelimit.c: a token bucket that hands out reservations.
 *
 * A caller that finds no token still takes one, driving the count below
 * zero: the debt is the queue of slots already promised, and the wait it is
 * told is when its own slot comes. So concurrent callers are spread out
 * instead of all retrying at the same instant. Knows nothing of HTTP; the
 * clock is the caller's. */
#include <time.h>

#include "aifs/ratelimit.h"

void ratelimit_init(struct ratelimit *rl, double qps, double burst, double now)
{
	pthread_mutex_init(&rl->mu, NULL);
	rl->qps = qps > 1e-9 ? qps : 1e-9;
	rl->burst = burst >= 1 ? burst : 1;
	rl->tokens = rl->burst;
	rl->last = now;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	pthread_mutex_destroy(&rl->mu);
}

void ratelimit_set(struct ratelimit *rl, double qps, double burst, double now)
{
	pthread_mutex_lock(&rl->mu);
	if (now > rl->last) {
		rl->tokens += (now - rl->last) * rl->qps;
		rl->last = now;
	}
	rl->qps = qps > 1e-9 ? qps : 1e-9;
	rl->burst = burst >= 1 ? burst : 1;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	pthread_mutex_unlock(&rl->mu);
}

double ratelimit_reserve(struct ratelimit *rl, double now, double max_wait)
{
	double wait = 0, tokens;

	pthread_mutex_lock(&rl->mu);
	/* A thread may read the clock just before another one that got the
	 * lock first: time never runs backwards in the bucket. */
	if (now > rl->last) {
		rl->tokens += (now - rl->last) * rl->qps;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last = now;
	}
	tokens = rl->tokens - 1;
	if (tokens < 0)
		wait = -tokens / rl->qps + (rl->last - now);
	if (wait > max_wait) {
		wait = -1;
	} else {
		rl->tokens = tokens;
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

double ratelimit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

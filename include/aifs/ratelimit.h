/* ratelimit.h: a token bucket that hands out reservations.
 *
 * A caller reserves the next free slot and learns how long to wait for it;
 * so in any window of t seconds at most qps * t + burst slots are granted,
 * however many threads ask at once. The clock is passed in, which keeps the
 * bucket deterministic under test. */
#ifndef AIFS_RATELIMIT_H
#define AIFS_RATELIMIT_H

#include <pthread.h>

struct ratelimit {
	pthread_mutex_t mu;
	double qps;
	double burst;
	double tokens; /* may go negative: slots already promised */
	double last;   /* clock of the last refill */
};

/* qps > 0, burst >= 1. */
void ratelimit_init(struct ratelimit *rl, double qps, double burst, double now);
void ratelimit_destroy(struct ratelimit *rl);
/* Changes the rate (qps > 0; burst below 1 is 1), keeping what is owed. */
void ratelimit_set(struct ratelimit *rl, double qps, double burst, double now);

/* Reserves one slot; returns the seconds to wait before using it (0 when a
 * token was free). When the wait would exceed max_wait, nothing is reserved
 * and -1 is returned. */
double ratelimit_reserve(struct ratelimit *rl, double now, double max_wait);

/* Monotonic clock in seconds. */
double ratelimit_now(void);

#endif

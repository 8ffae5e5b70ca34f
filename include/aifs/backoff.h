/* backoff.h: when to try again after a failure, and the wait till then.
 *
 * One policy for every retry loop (API calls, size probes, downloads): the
 * pause before retry n + 1 is 0.5 s x 2^n, at most 8 s, its upper half
 * chosen at random; a server's Retry-After is honoured up to a minute and a
 * longer one is refused at once. The wait is http_pause(), so unmounting
 * ends it. Renewals that a loop does not count as retries (a new token, a
 * fresh URL) are the loop's own business. */
#ifndef AIFS_BACKOFF_H
#define AIFS_BACKOFF_H

#include <stdbool.h>

struct http;

#define BACKOFF_BASE            0.5  /* seconds: the first pause, before jitter */
#define BACKOFF_CAP             8.0  /* seconds: no pause of the policy's own is longer */
#define BACKOFF_RETRY_AFTER_MAX 60.0 /* seconds: a server asking for more is not waited for */

/* One retry loop, on the caller's stack; backoff_init() sets it up. */
struct backoff {
	struct http *http; /* borrowed: http_stop() ends a wait */
	int retries;       /* retries allowed after the first attempt */
	int attempt;       /* the attempt under way, counting from 0 */
	unsigned seed;     /* the jitter's rand_r() state */
	double delay;      /* seconds: the pause backoff_next() chose */
};

/* A loop over http (borrowed, outlives b) allowing retries retries; seed
 * picks the jitter, so concurrent loops should be seeded apart. */
void backoff_init(struct backoff *b, struct http *http, int retries, unsigned seed);

/* True when the attempt under way is the last one allowed. */
bool backoff_spent(const struct backoff *b);

/* The attempt under way failed and another is allowed: chooses the pause
 * before it (backoff_delay()) and counts the attempt. 0, or -EAGAIN when
 * retry_after (seconds the server asked for, < 0 when it named none)
 * exceeds BACKOFF_RETRY_AFTER_MAX: the caller gives up at once. */
int backoff_next(struct backoff *b, double retry_after);

/* Waits the pause backoff_next() chose: 0 once it is over, -ECANCELED at
 * once when http_stop() is or was called. */
int backoff_wait(const struct backoff *b);

/* The pause before retry number attempt + 1 (attempt counts from 0):
 * BACKOFF_BASE x 2^attempt, at most BACKOFF_CAP, the upper half of it
 * chosen by jitter (0..1); at least retry_after when the server gave one
 * (>= 0). -1 when retry_after exceeds BACKOFF_RETRY_AFTER_MAX. */
double backoff_delay(int attempt, double retry_after, double jitter);

/* The most that the pauses of retries retries add up to when no server
 * names their length: for the deadline of whoever waits on a retry loop. */
double backoff_pauses_max(int retries);

#endif

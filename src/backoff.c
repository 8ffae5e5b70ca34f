/* backoff.c: how long a retry loop pauses, and the pause.
 *
 * Exponential backoff with jitter, as every client of a shared service
 * should (retrying at once, or all in step, is what keeps a throttled
 * server throttled), and a server's Retry-After obeyed unless it asks for
 * more than a reader will wait. Knows nothing of what failed or why: the
 * caller decides whether a failure is worth another try. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "aifs/backoff.h"
#include "aifs/http.h"

void backoff_init(struct backoff *b, struct http *http, int retries, unsigned seed)
{
	b->http = http;
	b->retries = retries;
	b->attempt = 0;
	b->seed = seed;
	b->delay = 0;
}

bool backoff_spent(const struct backoff *b)
{
	return b->attempt >= b->retries;
}

int backoff_next(struct backoff *b, double retry_after)
{
	double jitter = rand_r(&b->seed) / (double)RAND_MAX;
	double delay = backoff_delay(b->attempt, retry_after, jitter);

	if (delay < 0)
		return -EAGAIN;
	b->delay = delay;
	b->attempt++;
	return 0;
}

int backoff_wait(const struct backoff *b)
{
	return http_pause(b->http, b->delay);
}

double backoff_delay(int attempt, double retry_after, double jitter)
{
	double d = fmin(BACKOFF_CAP, BACKOFF_BASE * ldexp(1.0, attempt < 30 ? attempt : 30));
	d = d / 2 + d / 2 * jitter;
	if (retry_after > BACKOFF_RETRY_AFTER_MAX)
		return -1;
	return retry_after > d ? retry_after : d;
}

double backoff_pauses_max(int retries)
{
	return BACKOFF_CAP * retries;
}

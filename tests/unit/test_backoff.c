/* test_backoff.c: the retry pauses (doubling, cap, jitter, Retry-After),
 * the counting of retries, and a wait that unmounting ends. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "aifs/backoff.h"
#include "aifs/http.h"
#include "t.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(delay_doubles_up_to_the_cap)
{
	static const double full[] = { 0.5, 1, 2, 4, 8, 8, 8 };

	for (int n = 0; n < 7; n++) {
		CHECK(NEAR(backoff_delay(n, -1, 1), full[n]));
		CHECK(NEAR(backoff_delay(n, -1, 0), full[n] / 2));
		CHECK(NEAR(backoff_delay(n, -1, 0.5), full[n] * 0.75));
	}
	/* however many attempts: no overflow, still the cap */
	CHECK(NEAR(backoff_delay(1000, -1, 1), BACKOFF_CAP));
	CHECK(NEAR(backoff_delay(2147483647, -1, 1), BACKOFF_CAP));
	CHECK(NEAR(backoff_pauses_max(4), 4 * BACKOFF_CAP));
	CHECK(NEAR(backoff_pauses_max(0), 0));
}

TEST(delay_honours_retry_after_up_to_a_minute)
{
	CHECK(NEAR(backoff_delay(0, 3, 1), 3));     /* longer than the backoff: obeyed */
	CHECK(NEAR(backoff_delay(3, 1, 1), 4));     /* shorter: the backoff stands */
	CHECK(NEAR(backoff_delay(0, 0, 0), 0.25));  /* "Retry-After: 0" */
	CHECK(NEAR(backoff_delay(0, 60, 0), 60));
	CHECK(NEAR(backoff_delay(0, 60.5, 0), -1)); /* longer than a minute: give up */
	CHECK(NEAR(backoff_delay(5, 3600, 1), -1));
}

TEST(next_counts_retries_and_refuses_a_long_retry_after)
{
	struct backoff b;

	backoff_init(&b, NULL, 2, 1);
	CHECK(!backoff_spent(&b));
	CHECK_INT(b.attempt, 0);
	CHECK_INT(backoff_next(&b, -1), 0);
	CHECK(b.delay >= 0.25 && b.delay <= 0.5);
	CHECK_INT(b.attempt, 1);
	CHECK(!backoff_spent(&b));
	/* refused: nothing counted, give up */
	CHECK_INT(backoff_next(&b, 61), -EAGAIN);
	CHECK_INT(b.attempt, 1);
	CHECK_INT(backoff_next(&b, 5), 0);
	CHECK(NEAR(b.delay, 5));
	CHECK_INT(b.attempt, 2);
	CHECK(backoff_spent(&b));

	backoff_init(&b, NULL, 0, 1); /* no retries at all */
	CHECK(backoff_spent(&b));
}

TEST(jitter_spreads_within_the_upper_half)
{
	double lo = 1e9, hi = 0;

	for (unsigned seed = 0; seed < 200; seed++) {
		struct backoff b;
		backoff_init(&b, NULL, 4, seed);
		for (int n = 0; n < 4; n++) {
			double full = fmin(BACKOFF_CAP, 0.5 * (1 << n));
			CHECK_INT(backoff_next(&b, -1), 0);
			CHECK(b.delay >= full / 2 && b.delay <= full);
			if (n == 3) {
				lo = fmin(lo, b.delay);
				hi = fmax(hi, b.delay);
			}
		}
	}
	/* 200 loops do not pause in step */
	CHECK(hi - lo > 1.0);
}

TEST(wait_pauses_and_unmounting_ends_it)
{
	struct http *h = http_new();
	struct backoff b;
	double t0;

	CHECK(h != NULL);
	backoff_init(&b, h, 1, 7);
	b.delay = 0.05;
	t0 = now();
	CHECK_INT(backoff_wait(&b), 0);
	CHECK(now() - t0 >= 0.045);
	http_stop(h);
	b.delay = 30;
	t0 = now();
	CHECK_INT(backoff_wait(&b), -ECANCELED);
	CHECK(now() - t0 < 1);
	http_free(h);
}

T_MAIN(T_CASE(delay_doubles_up_to_the_cap), T_CASE(delay_honours_retry_after_up_to_a_minute),
       T_CASE(next_counts_retries_and_refuses_a_long_retry_after),
       T_CASE(jitter_spreads_within_the_upper_half), T_CASE(wait_pauses_and_unmounting_ends_it))

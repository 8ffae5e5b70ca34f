/* test_ratelimit.c: the token bucket, on a clock the test drives. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "aifs/ratelimit.h"
#include "t.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

TEST(burst_then_qps)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 2, 3, 100);
	for (int i = 0; i < 3; i++)
		CHECK(NEAR(ratelimit_reserve(&rl, 100, 60), 0));
	CHECK(NEAR(ratelimit_reserve(&rl, 100, 60), 0.5));
	CHECK(NEAR(ratelimit_reserve(&rl, 100, 60), 1.0));
	CHECK(NEAR(ratelimit_reserve(&rl, 100.25, 60), 1.25)); /* slot at 101.5 */
	/* long idle: the bucket refills to burst, no further */
	for (int i = 0; i < 3; i++)
		CHECK(NEAR(ratelimit_reserve(&rl, 1000, 60), 0));
	CHECK(NEAR(ratelimit_reserve(&rl, 1000, 60), 0.5));
	ratelimit_destroy(&rl);
}

TEST(refill_is_proportional)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 1, 1, 0);
	CHECK(NEAR(ratelimit_reserve(&rl, 0, 10), 0));
	CHECK(NEAR(ratelimit_reserve(&rl, 0.4, 10), 0.6));
	CHECK(NEAR(ratelimit_reserve(&rl, 3, 10), 0)); /* debt paid at 2, one token by 3 */
	CHECK(NEAR(ratelimit_reserve(&rl, 3, 10), 1));
	ratelimit_destroy(&rl);
}

TEST(refusal_reserves_nothing)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 1, 1, 0);
	CHECK(NEAR(ratelimit_reserve(&rl, 0, 0), 0));
	for (int i = 0; i < 10; i++)
		CHECK(ratelimit_reserve(&rl, 0, 0.5) < 0);
	CHECK(ratelimit_reserve(&rl, 0, 0) < 0);
	CHECK(NEAR(ratelimit_reserve(&rl, 0, 1), 1)); /* as if no refusal happened */
	CHECK(ratelimit_reserve(&rl, 0, 1.5) < 0);
	CHECK(NEAR(ratelimit_reserve(&rl, 0, 2), 2));
	ratelimit_destroy(&rl);
}

TEST(a_late_clock_reading_gets_no_extra_token)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 1, 1, 10);
	CHECK(NEAR(ratelimit_reserve(&rl, 10, 10), 0));
	/* a thread that read the clock at 9 before the first one got the lock */
	CHECK(NEAR(ratelimit_reserve(&rl, 9, 10), 2)); /* slot at 11 */
	CHECK(NEAR(ratelimit_reserve(&rl, 10, 10), 2)); /* slot at 12 */
	ratelimit_destroy(&rl);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* However requests arrive, any window of t seconds holds at most
 * qps * t + burst granted slots. */
TEST(window_bound_with_random_arrivals)
{
	enum { N = 1500 };
	static double slot[N];
	unsigned seed = 12345;

	for (int trial = 0; trial < 40; trial++) {
		double qps = 0.2 + (rand_r(&seed) % 1000) / 100.0;
		double burst = 1 + rand_r(&seed) % 8;
		double now = 50, max_wait = (trial % 3 == 0) ? 1e9 : (rand_r(&seed) % 50) / 10.0;
		struct ratelimit rl;
		int n = 0, refused = 0;

		ratelimit_init(&rl, qps, burst, now);
		for (int i = 0; i < N; i++) {
			double w, seen;

			/* bursts of simultaneous arrivals, idle gaps, and clock
			 * readings a little older than the last one */
			switch (rand_r(&seed) % 4) {
			case 0: break;
			case 1: now += (rand_r(&seed) % 1000) / 1000.0 / qps; break;
			case 2: now += (rand_r(&seed) % 100) / 10.0; break;
			default: break;
			}
			seen = now - (rand_r(&seed) % 5 == 0 ? (rand_r(&seed) % 100) / 1000.0 : 0);
			w = ratelimit_reserve(&rl, seen, max_wait);
			if (w < 0) {
				refused++;
				continue;
			}
			CHECK(w <= max_wait);
			slot[n++] = seen + w;
		}
		ratelimit_destroy(&rl);
		CHECK(n > 0);
		qsort(slot, (size_t)n, sizeof slot[0], cmp_double);
		for (int i = 0; i < n; i++)
			for (int j = i; j < n; j++)
				if (j - i + 1 > qps * (slot[j] - slot[i]) + burst + 1e-6) {
					fprintf(stderr,
						"  trial %d: %d slots in %.6f s (qps %g burst "
						"%g)\n",
						trial, j - i + 1, slot[j] - slot[i], qps, burst);
					CHECK(0);
				}
		(void)refused;
	}
}

struct race {
	struct ratelimit *rl;
	double slots[200];
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 200; i++)
		r->slots[i] = ratelimit_reserve(r->rl, 0, 1e9);
	return NULL;
}

/* Threads asking at the same instant get distinct slots, 1/qps apart. */
TEST(concurrent_reservations_are_spread)
{
	enum { T = 8 };
	static struct race r[T];
	static double all[T * 200];
	pthread_t th[T];
	struct ratelimit rl;

	ratelimit_init(&rl, 10, 5, 0);
	for (int i = 0; i < T; i++) {
		r[i].rl = &rl;
		CHECK_INT(pthread_create(&th[i], NULL, race_thread, &r[i]), 0);
	}
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	ratelimit_destroy(&rl);
	for (int i = 0; i < T; i++)
		for (int j = 0; j < 200; j++)
			all[i * 200 + j] = r[i].slots[j];
	qsort(all, T * 200, sizeof all[0], cmp_double);
	for (int k = 0; k < T * 200; k++)
		CHECK(fabs(all[k] - (k < 5 ? 0 : (k - 4) * 0.1)) < 1e-6);
}

TEST(monotonic_clock)
{
	double a = ratelimit_now(), b = ratelimit_now();

	CHECK(a > 0);
	CHECK(b >= a);
}

T_MAIN(T_CASE(burst_then_qps), T_CASE(refill_is_proportional), T_CASE(refusal_reserves_nothing),
       T_CASE(a_late_clock_reading_gets_no_extra_token), T_CASE(window_bound_with_random_arrivals),
       T_CASE(concurrent_reservations_are_spread), T_CASE(monotonic_clock))

/* pool.h: a fixed set of threads running queued jobs in order.
 *
 * One pool per provider keeps a slow or throttled provider's work from
 * delaying another's. Jobs are embedded in the caller's own structs. */
#ifndef AIFS_POOL_H
#define AIFS_POOL_H

struct pool_job {
	struct pool_job *next;
	void (*run)(struct pool_job *job); /* owns the job from here on */
};

struct pool;

/* Returns a new pool running n threads; free with pool_free(). NULL on failure. */
struct pool *pool_new(int n);

/* Queues job (ownership passes to the pool's thread). */
void pool_submit(struct pool *p, struct pool_job *job);

/* Runs what is queued, then stops the threads and frees the pool. */
void pool_free(struct pool *p);

#endif

/* pool.c: threads draining a FIFO of jobs. Knows nothing of what jobs do. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "aifs/pool.h"

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_job *head, *tail;
	bool stopping;
	int n;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		struct pool_job *job = p->head;
		if (job) {
			p->head = job->next;
			if (!p->head)
				p->tail = NULL;
		}
		pthread_mutex_unlock(&p->mu);
		if (!job)
			return NULL; /* stopping, and nothing left */
		job->next = NULL;
		job->run(job);
	}
}

struct pool *pool_new(int n)
{
	struct pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->threads = calloc((size_t)n, sizeof *p->threads);
	if (!p->threads) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (; p->n < n; p->n++)
		if (pthread_create(&p->threads[p->n], NULL, worker, p))
			break;
	if (p->n == 0) {
		pool_free(p);
		return NULL;
	}
	return p;
}

void pool_submit(struct pool *p, struct pool_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}

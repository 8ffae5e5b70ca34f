/* wait.c: readers of .wait (SPEC: "Waiting for a task"). A reader costs a
 * list node, not a thread: its request is answered when the task has
 * finished. While anybody waits, one thread per provider refreshes the
 * waited-on tasks once per ttl, shared by all their waiters: by one listing
 * where that costs fewer requests than a get per waited task, else by one
 * get each. A listing or get made for any other reason that shows a waited
 * task finished wakes the thread at once. Knows no FUSE, no curl, no JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/log.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "tree_int.h"

#define WAIT_SPACING 0.2 /* seconds between two rounds at least */

static void unlink_waiter(struct tprov *p, struct tree_waiter *w)
{
	struct task *tk = w->task;
	if (w->prev)
		w->prev->next = w->next;
	else
		tk->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->listed = false;
	p->n_waiters--;
}

/* The outcome for tk's waiters now: 1 still waiting, else 0 (finished: its
 * status line) or -errno. Caller holds p->mu. */
static int outcome(const struct task *tk, int rc)
{
	if (rc == -EACCES || rc == -ENOMEM)
		return rc; /* SPEC: credentials refused */
	if (rc == -ENOENT || (!tk->info && tk->neg_until > tree_now()))
		return -ENOENT; /* SPEC: forgotten meanwhile */
	if (tk->info && task_status_finished(tk->info->status))
		return 0;
	return 1; /* transient failures were logged: the wait goes on */
}

/* Answers the waiters on list (holding no lock): the status line when the
 * task finished, else rc. */
static void answer(struct tprov *p, struct tree_waiter *list, int rc)
{
	while (list) {
		struct tree_waiter *w = list;
		struct task *tk = w->task;
		char text[64];
		size_t len = 0;
		list = w->next;
		w->next = NULL;
		if (rc == 0) {
			pthread_mutex_lock(&p->mu);
			len = tk->info ? tk->info->status_len : 0;
			if (len > sizeof text)
				len = sizeof text;
			if (len)
				memcpy(text, tk->info->status_text, len);
			pthread_mutex_unlock(&p->mu);
		}
		w->done(w, rc, text, len);
	}
}

/* Answers every waiter of tk that the state now decides. Caller holds
 * p->mu; it is released while they are answered. */
static void settle_task(struct tprov *p, struct task *tk, int rc)
{
	struct tree_waiter *done = NULL;
	int oc = outcome(tk, rc);
	if (oc == 1)
		return;
	while (tk->waiters) {
		struct tree_waiter *w = tk->waiters;
		unlink_waiter(p, w);
		w->next = done;
		done = w;
	}
	pthread_mutex_unlock(&p->mu);
	answer(p, done, oc);
	pthread_mutex_lock(&p->mu);
}

/* The tasks waited on now (a new array; free()). Caller holds p->mu. */
static struct task **waited(struct tprov *p, size_t *n)
{
	struct task **a = calloc(p->n_waiters ? p->n_waiters : 1, sizeof *a);
	*n = 0;
	for (size_t i = 0; a && i < p->n_tasks && *n < p->n_waiters; i++)
		if (p->tasks[i]->waiters)
			a[(*n)++] = p->tasks[i];
	return a;
}

/* One round: refresh what is stale (or only look, when kicked), then
 * answer whoever is done. Caller holds p->mu. */
static void round_(struct tprov *p, bool refresh)
{
	size_t n;
	struct task **tasks = waited(p, &n);
	if (!tasks)
		return;
	int *rcs = calloc(n ? n : 1, sizeof *rcs);
	if (!rcs) {
		free(tasks);
		return;
	}
	if (refresh) {
		/* SPEC: one listing where that costs fewer requests than a get
		 * per waited task; a task the listing leaves out gets a get */
		bool by_list = p->can_list && p->list_pages > 0 && p->list_pages < n;
		if (by_list)
			fresh_listing(p, 0);
		for (size_t i = 0; i < n && !p->wait_stop; i++)
			if (!by_list || !tasks[i]->in_listing)
				rcs[i] = fresh_task(tasks[i], 0);
	}
	for (size_t i = 0; i < n; i++)
		settle_task(p, tasks[i], rcs[i]);
	free(rcs);
	free(tasks);
}

/* When the next round is due: when the oldest state of a waited task gets
 * ttl old (SPEC: no older than ttl; a listing or get made meanwhile for
 * any other reason counts), but never sooner than WAIT_SPACING after the
 * last round. Caller holds p->mu. */
static double next_due(struct tprov *p)
{
	double oldest = -1;
	size_t seen = 0;
	for (size_t i = 0; i < p->n_tasks && seen < p->n_waiters; i++) {
		const struct task *tk = p->tasks[i];
		if (!tk->waiters)
			continue;
		for (const struct tree_waiter *w = tk->waiters; w; w = w->next)
			seen++;
		if (oldest < 0 || tk->fetched_at < oldest)
			oldest = tk->fetched_at;
	}
	double due = oldest < 0 ? tree_now() : oldest + p->pc->tun.ttl;
	return due > p->wait_last + WAIT_SPACING ? due : p->wait_last + WAIT_SPACING;
}

static void *waitd(void *arg)
{
	struct tprov *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->mu);
	while (!p->wait_stop) {
		if (!p->n_waiters && !p->wait_kick) {
			pthread_cond_wait(&p->wait_cv, &p->mu);
			continue;
		}
		double now = tree_now(), due = next_due(p);
		if (p->wait_kick) {
			p->wait_kick = false;
			round_(p, false);
			continue;
		}
		if (now < due) {
			tree_deadline(&until, 0);
			double left = due - now;
			until.tv_sec += (time_t)left;
			until.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->wait_cv, &p->mu, &until);
			continue;
		}
		p->wait_last = now;
		round_(p, true);
		pthread_mutex_unlock(&p->mu);
		tree_settle(p->t);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int wait_start(struct tprov *p)
{
	if (p->waitd_running)
		return 0;
	int rc = pthread_create(&p->waitd, NULL, waitd, p);
	if (rc)
		return -rc;
	p->waitd_running = true;
	return 0;
}

void wait_stop(struct tprov *p)
{
	pthread_mutex_lock(&p->mu);
	p->wait_stop = true;
	pthread_cond_broadcast(&p->wait_cv);
	pthread_mutex_unlock(&p->mu);
	if (p->waitd_running)
		pthread_join(p->waitd, NULL);
	p->waitd_running = false;
	/* whoever still waits is answered: the mount is going */
	pthread_mutex_lock(&p->mu);
	struct tree_waiter *all = NULL;
	for (size_t i = 0; i < p->n_tasks; i++)
		while (p->tasks[i]->waiters) {
			struct tree_waiter *w = p->tasks[i]->waiters;
			unlink_waiter(p, w);
			w->task = p->tasks[i];
			w->next = all;
			all = w;
		}
	pthread_mutex_unlock(&p->mu);
	answer(p, all, -ESHUTDOWN);
}

void wait_kick(struct task *tk)
{
	if (!tk->waiters)
		return;
	tk->p->wait_kick = true;
	pthread_cond_broadcast(&tk->p->wait_cv);
}

/* ---- the tree's calls ---- */

void tree_wait_init(struct tree_file *f, struct tree_waiter *w)
{
	w->task = f->wait;
	w->next = w->prev = NULL;
	w->listed = w->cancelled = false;
}

void tree_wait(struct tree *t, struct tree_waiter *w)
{
	struct task *tk = w->task;
	struct tprov *p = tk->p;
	(void)t;
	pthread_mutex_lock(&p->mu);
	int rc = fresh_task(tk, TREE_NOWAIT); /* what is known now, without asking */
	int oc = w->cancelled ? -EINTR : p->wait_stop ? -ESHUTDOWN
				       : outcome(tk, rc == -EWOULDBLOCK ? 0 : rc);
	if (oc != 1) {
		pthread_mutex_unlock(&p->mu);
		answer(p, w, oc);
		return;
	}
	w->prev = NULL;
	w->next = tk->waiters;
	if (tk->waiters)
		tk->waiters->prev = w;
	tk->waiters = w;
	w->listed = true;
	p->n_waiters++;
	/* the wait thread works out when this task's state is due */
	pthread_cond_broadcast(&p->wait_cv);
	pthread_mutex_unlock(&p->mu);
}

bool tree_wait_cancel(struct tree *t, struct tree_waiter *w)
{
	struct tprov *p = ((struct task *)w->task)->p;
	(void)t;
	pthread_mutex_lock(&p->mu);
	bool was = w->listed;
	if (was)
		unlink_waiter(p, w);
	else
		w->cancelled = true; /* not listed yet: tree_wait() answers it at once */
	pthread_mutex_unlock(&p->mu);
	return was;
}

int tree_start(struct tree *t)
{
	for (size_t i = 0; i < t->n_provs; i++) {
		int rc = wait_start(&t->provs[i]);
		if (rc)
			return rc;
	}
	return archive_start(t);
}

void tree_stop(struct tree *t)
{
	if (!t)
		return;
	archive_stop(t);
	for (size_t i = 0; i < t->n_provs; i++)
		wait_stop(&t->provs[i]);
}

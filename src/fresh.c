/* fresh.c: when the tree asks the API. A listing and each task's state
 * are fresh for ttl (finished tasks for good); "not found" and a malformed
 * answer are remembered for a second; SIGHUP makes everything unfinished
 * stale. A stale task is refreshed by listing again when that costs fewer
 * requests than a get each. Calls are single-flight: one per task and one
 * listing per provider at a time, later callers wait for its outcome,
 * bounded by the API's own deadline. Knows no FUSE, no curl, no JSON. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/log.h"
#include "aifs/provider.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "tree_int.h"

/* SIGHUP: forget listings and unfinished states. Caller holds p->mu. */
void fresh_hup(struct tprov *p)
{
	unsigned h = atomic_load_explicit(p->t->hup, memory_order_relaxed);
	if (h == p->hup_seen)
		return;
	p->hup_seen = h;
	p->list_stale = true;
	for (size_t i = 0; i < p->n_tasks; i++) {
		struct task *tk = p->tasks[i];
		if (!tk->info || !task_status_finished(tk->info->status))
			tk->fetched_at = 0;
		tk->neg_until = 0;
	}
}

bool fresh_task_ok(const struct task *tk, double now)
{
	if (!tk->info)
		return false;
	if (task_status_finished(tk->info->status))
		return true;
	return tk->fetched_at > 0 && now - tk->fetched_at < tk->p->pc->tun.ttl;
}

bool fresh_transient(int rc)
{
	return rc != -EACCES && rc != -ENOENT && rc != -ENOMEM;
}

bool fresh_join(struct tprov *p, struct flight *fl, double secs, int *rc)
{
	struct timespec until;
	if (!fl->busy) {
		fl->busy = true;
		return false;
	}
	unsigned seq = fl->seq;
	tree_deadline(&until, secs);
	while (fl->busy && fl->seq == seq)
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
			*rc = -ETIMEDOUT;
			return true;
		}
	*rc = fl->rc;
	return true;
}

void fresh_land(struct tprov *p, struct flight *fl, int rc)
{
	fl->busy = false;
	fl->rc = rc;
	fl->seq++;
	pthread_cond_broadcast(&p->cv);
}

/* Makes tk's state fresh, asking the API when it is not. Caller holds p->mu;
 * it is released during the call. 0 (possibly with a stale state, logged),
 * -ENOENT, -EWOULDBLOCK under TREE_NOWAIT, or the API's -errno. */
int fresh_task(struct task *tk, int flags)
{
	struct tprov *p = tk->p;
	struct aifs_err err;
	struct task_info *ti = NULL;
	int rc;

	fresh_hup(p);
	double now = tree_now();
	if (!(flags & RENEW) && tk->neg_until > now)
		return -ENOENT;
	if (!(flags & RENEW) && !tk->info && tk->bad_until > now)
		return tk->bad_rc; /* SPEC: remembered like "not found" */
	if (!(flags & RENEW) && fresh_task_ok(tk, now))
		return 0;
	/* When the unfinished tasks a listing returned outnumber its pages,
	 * listing again refreshes them all for less than a get each. */
	if (!(flags & RENEW) && tk->in_listing && p->can_list &&
	    p->list_unfinished > p->list_pages) {
		rc = fresh_listing(p, flags);
		if (rc == -EWOULDBLOCK || fresh_task_ok(tk, tree_now()))
			return rc;
		if (rc && tk->info && fresh_transient(rc))
			return 0;
		if (tk->neg_until > tree_now())
			return -ENOENT;
	}
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	if (fresh_join(p, &tk->get, api_deadline(p->api), &rc))
		return rc && tk->info && fresh_transient(rc) ? 0 : rc;

	pthread_mutex_unlock(&p->mu);
	rc = api_get(p->api, tk->id, &ti, &err);
	pthread_mutex_lock(&p->mu);
	now = tree_now();
	if (rc && rc != -ENOENT && err.retry == AIFS_RETRY_NO) {
		tk->bad_until = now + NEG_TTL; /* an answer that asking again repeats */
		tk->bad_rc = rc;
	}
	if (rc == 0) {
		tree_task_take(tk, ti, true, now);
		if (!tk->in_listing && !tk->known)
			tree_task_known(tk, true);
	} else if (rc == -ENOENT && tk->archived && tk->info) {
		/* SPEC: an archived task the API forgot stays, served from disk */
		tk->fetched_at = now;
		rc = 0;
	} else if (rc == -ENOENT) {
		tk->neg_until = now + NEG_TTL;
		tk->in_listing = false;
		wait_kick(tk);
		slim_forget(tk);
		task_info_unref(tk->info);
		tk->info = NULL;
		tree_task_known(tk, false);
	}
	if (rc && tk->info && fresh_transient(rc))
		tk->fetched_at = now; /* serve the stale copy a TTL before asking again */
	fresh_land(p, &tk->get, rc);
	return rc && tk->info && fresh_transient(rc) ? 0 : rc;
}

/* ---- listings ---- */

struct list_run {
	struct tprov *p;
	unsigned stamp;
	size_t pages;
};

static int take_page(struct list_run *lr, struct provider_page *pg, double now)
{
	struct tprov *p = lr->p;
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < pg->n_tasks; i++) {
		struct task_info *ti = pg->tasks[i];
		struct task *tk = tree_task_get(p, ti->id, strlen(ti->id));
		if (!tk) {
			rc = -ENOMEM;
			break;
		}
		pg->tasks[i] = NULL;
		if (tk->list_stamp == lr->stamp) { /* a page repeated an item */
			task_info_unref(ti);
			continue;
		}
		tk->list_stamp = lr->stamp;
		tree_task_take(tk, ti, false, now);
	}
	pthread_mutex_unlock(&p->mu);
	provider_page_clear(pg);
	return rc;
}

/* Pages through every listing of p. 0 or -errno. Called without p->mu. */
static int list_all(struct list_run *lr)
{
	struct tprov *p = lr->p;
	const struct provider_ops *ops = api_ops(p->api);
	struct aifs_err err;
	int rc = 0;

	for (int l = 0; l < ops->n_listings && !rc; l++) {
		for (int page = 1; !rc; page++) {
			struct provider_page pg;
			if (page > MAX_PAGES)
				return -EIO;
			rc = api_list_page(p->api, l, page, &pg, &err);
			lr->pages++;
			if (rc) {
				provider_page_clear(&pg);
				break;
			}
			bool last = pg.last || pg.n_tasks == 0;
			rc = take_page(lr, &pg, tree_now());
			slim_trim(p->t);
			if (last)
				break;
		}
	}
	return rc;
}

/* Makes p's listing fresh. Caller holds p->mu, released during the calls.
 * 0 (possibly stale, logged), -EWOULDBLOCK under TREE_NOWAIT, or -errno. */
int fresh_listing(struct tprov *p, int flags)
{
	int rc;

	fresh_hup(p);
	if (!p->can_list)
		return 0; /* the known ids are the listing */
	if (p->listed_at > 0 && !p->list_stale && tree_now() - p->listed_at < p->pc->tun.ttl)
		return 0;
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	if (fresh_join(p, &p->list, api_deadline(p->api) * 4, &rc))
		return rc && p->listed_at > 0 && fresh_transient(rc) ? 0 : rc;

	struct list_run lr = { .p = p, .stamp = ++p->list_seq };
	pthread_mutex_unlock(&p->mu);
	rc = list_all(&lr);
	/* a listing frees as much as it makes (pages parsed, descriptions
	 * replaced), and the holes stay resident unless handed back */
	malloc_trim(0);
	pthread_mutex_lock(&p->mu);

	if (rc == 0) {
		double now = tree_now();
		p->listed_at = now;
		p->list_stale = false;
		p->list_pages = lr.pages;
		p->list_unfinished = 0;
		for (size_t i = 0; i < p->n_tasks; i++) {
			struct task *tk = p->tasks[i];
			tk->in_listing = tk->list_stamp == lr.stamp;
			if (tk->in_listing && !tk->get.busy)
				tk->fetched_at = now; /* SPEC: counted from the last page */
			if (tk->in_listing && tk->info && !task_status_finished(tk->info->status))
				p->list_unfinished++;
		}
	} else if (rc == -EOPNOTSUPP && p->pc->list == LIST_AUTO) {
		log_msg(LOGL_INFO, "%s: the API cannot list tasks; listing the known ids",
			p->pc->name);
		p->can_list = false;
		rc = 0;
	} else if (rc == -EOPNOTSUPP) {
		rc = -EIO;
	} else if (p->listed_at > 0 && fresh_transient(rc)) {
		p->listed_at = tree_now(); /* the stale listing serves a TTL more */
		p->list_stale = false;
	}
	fresh_land(p, &p->list, rc);
	return rc && p->listed_at > 0 && fresh_transient(rc) ? 0 : rc;
}

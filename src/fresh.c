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
#include <stdatomic.h>
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
	p->hup_fresh = true;
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

	double age = 0;
	pthread_mutex_unlock(&p->mu);
	rc = api_get(p->api, tk->id, flags & FROM_API ? API_FRESH : 0, &ti, &age, &err);
	pthread_mutex_lock(&p->mu);
	now = tree_now() - age; /* another mount's answer is as old as it is */
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

#define LIST_WORKERS 4 /* requests of one listing in flight at once, at most */

struct list_run {
	struct tprov *p;
	unsigned flags; /* API_FRESH after SIGHUP: no other mount's pages */
	unsigned stamp;
	atomic_size_t pages;      /* requests made */
	atomic_llong age_ms;      /* of the oldest page: another mount's answers are */
	struct aifs_err err;      /* the first page's failure */
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

/* One page asked for: its tasks go into the tree; *pages and *total are
 * what its answer says of the whole listing (0 and -1 when it does not). */
static int fetch_page(struct list_run *lr, int listing, long page, long *pages, int64_t *total,
		      bool *last)
{
	struct tprov *p = lr->p;
	struct provider_page pg;
	struct aifs_err err;

	int rc = api_list_page(p->api, listing, (int)page, lr->flags, &pg, &err);
	atomic_fetch_add_explicit(&lr->pages, 1, memory_order_relaxed);
	if (rc) {
		if (page == 1) /* asked alone: no other thread writes it */
			lr->err = err;
		provider_page_clear(&pg);
		return rc;
	}
	long long age = (long long)(pg.age * 1000), old = atomic_load(&lr->age_ms);
	while (age > old && !atomic_compare_exchange_weak(&lr->age_ms, &old, age))
		;
	*pages = pg.pages;
	*total = pg.pages > 0 ? pg.total : -1;
	*last = pg.last || pg.n_tasks == 0;
	rc = take_page(lr, &pg, tree_now());
	slim_trim(p->t);
	return rc;
}

/* The pages after the first of one listing, asked for by a few threads at
 * once: the rate limiter paces them, each parses its page while the others'
 * download. What each answer said of the whole listing is kept by page. */
struct page_run {
	struct list_run *lr;
	int listing;
	pthread_mutex_t mu;
	long next, n;             /* the next page to ask for; the last one */
	long *pages;              /* by page - 1: as its answer said; 0 not asked */
	int64_t *totals;          /* by page - 1: as its answer said; -1 unknown */
	int rc;                   /* the first failure: the others stop */
};

static void *page_worker(void *arg)
{
	struct page_run *pr = arg;

	for (;;) {
		pthread_mutex_lock(&pr->mu);
		long page = pr->rc ? 0 : pr->next <= pr->n ? pr->next++ : 0;
		pthread_mutex_unlock(&pr->mu);
		if (!page)
			return NULL;
		long pages = 0;
		int64_t total = -1;
		bool last;
		int rc = fetch_page(pr->lr, pr->listing, page, &pages, &total, &last);
		pthread_mutex_lock(&pr->mu);
		if (rc && !pr->rc)
			pr->rc = rc;
		pr->pages[page - 1] = pages > 0 ? pages : 1;
		pr->totals[page - 1] = total;
		pthread_mutex_unlock(&pr->mu);
	}
}

/* Pages 2..n of listing l at once, then, one by one, whatever the listing's
 * changes meanwhile call for: a page whose answer counted fewer tasks than
 * the page before it was asked for before tasks came in at the head (or
 * after some left), so items may have slipped between the two: it is asked
 * again; and pages past n when the listing grew. Ids seen twice are taken
 * once (take_page). */
static int list_rest(struct list_run *lr, int l, long n, int64_t total1)
{
	struct page_run pr = { .lr = lr, .listing = l, .next = 2, .n = n };
	pthread_t th[LIST_WORKERS - 1];
	int started = 0, rc;

	if (n > MAX_PAGES)
		return -EIO;
	pr.pages = calloc((size_t)n, sizeof *pr.pages);
	pr.totals = calloc((size_t)n, sizeof *pr.totals);
	if (!pr.pages || !pr.totals) {
		free(pr.pages);
		free(pr.totals);
		return -ENOMEM;
	}
	pthread_mutex_init(&pr.mu, NULL);
	pr.pages[0] = n;
	pr.totals[0] = total1;
	for (long i = 1; i < n && started < LIST_WORKERS - 1; i++, started++)
		if (pthread_create(&th[started], NULL, page_worker, &pr) != 0)
			break; /* fewer threads: this one works too */
	page_worker(&pr);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&pr.mu);
	rc = pr.rc;

	long need = n;
	for (long j = 1; j <= n; j++)
		need = pr.pages[j - 1] > need ? pr.pages[j - 1] : need;
	int64_t prev = total1;
	for (long j = 2; !rc && j <= need; j++) {
		bool asked = j <= n && pr.pages[j - 1];
		int64_t total = asked ? pr.totals[j - 1] : -1;
		bool slipped = asked && prev >= 0 && total >= 0 && total < prev;
		if (!asked || slipped) {
			long pages = 0;
			bool last;
			if (j > MAX_PAGES)
				rc = -EIO;
			else
				rc = fetch_page(lr, l, j, &pages, &total, &last);
			if (!rc && pages > need)
				need = pages;
			if (!rc && j > n && pages == 0 && last)
				break;
		}
		prev = total;
	}
	free(pr.pages);
	free(pr.totals);
	return rc;
}

/* Pages through every listing of p. 0 or -errno. Called without p->mu.
 * When the first page says how many there are, the rest are asked for at
 * once (list_rest); else one after another until the last. */
static int list_all(struct list_run *lr)
{
	const struct provider_ops *ops = api_ops(lr->p->api);
	int rc = 0;

	for (int l = 0; l < ops->n_listings && !rc; l++) {
		for (long page = 1; !rc; page++) {
			long pages = 0;
			int64_t total = -1;
			bool last = false;
			if (page > MAX_PAGES)
				return -EIO;
			rc = fetch_page(lr, l, page, &pages, &total, &last);
			if (rc || last)
				break;
			if (page == 1 && pages > 1) {
				rc = list_rest(lr, l, pages, total);
				break;
			}
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
	if (!p->can_list && p->acct && !(flags & TREE_NOWAIT) &&
	    (p->list_stale || tree_now() - p->merged_at >= p->pc->tun.ttl)) {
		p->merged_at = tree_now(); /* the account's known ids, once a TTL */
		p->list_stale = false;
		pthread_mutex_unlock(&p->mu);
		known_merge(p);
		pthread_mutex_lock(&p->mu);
	}
	if (!p->can_list)
		return 0; /* the known ids are the listing */
	if (p->listed_at > 0 && !p->list_stale && tree_now() - p->listed_at < p->pc->tun.ttl)
		return 0;
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	if (fresh_join(p, &p->list, api_deadline(p->api) * 4, &rc))
		return rc && p->listed_at > 0 && fresh_transient(rc) ? 0 : rc;

	struct list_run lr = { .p = p, .stamp = ++p->list_seq,
			       .flags = p->hup_fresh ? API_FRESH : 0 };
	p->hup_fresh = false;
	atomic_init(&lr.pages, 0);
	atomic_init(&lr.age_ms, 0);
	pthread_mutex_unlock(&p->mu);
	rc = list_all(&lr);
	known_merge(p); /* cluster mode: the ids the account's mounts looked up */
	/* a listing frees as much as it makes (pages parsed, descriptions
	 * replaced), and the holes stay resident unless handed back */
	malloc_trim(0);
	pthread_mutex_lock(&p->mu);

	if (rc == 0) {
		double now = tree_now() - (double)atomic_load(&lr.age_ms) / 1000;
		p->listed_at = now;
		p->list_stale = false;
		p->list_pages = atomic_load(&lr.pages);
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
		/* SPEC list = auto; also the first sign of a wrong base_url */
		log_msg(LOGL_WARN, "%s: the API cannot list tasks (%s); listing the known ids",
			p->pc->name, lr.err.msg);
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

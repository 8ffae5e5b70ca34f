/* tree.c: providers, tasks and their files, and the metadata cache.
 *
 * Each provider has one mutex guarding its tasks and its listing. Network
 * calls are made with it released, one per task or listing at a time
 * (single-flight): later callers wait for that call's outcome, bounded by
 * the API's own deadline. Task structs live as long as the mount, so their
 * inode numbers and names stay valid; their task_info is swapped whole.
 * Knows no FUSE, no curl and no JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/idenc.h"
#include "aifs/log.h"
#include "aifs/media.h"
#include "aifs/provider.h"
#include "aifs/ratelimit.h"
#include "aifs/registry.h"
#include "aifs/strmap.h"
#include "aifs/task.h"
#include "aifs/tree.h"

#define INO_TASK_SHIFT 6
#define INO_PROV_SHIFT 48
#define K_DIR 0
#define K_STATUS 1
#define K_META 2
#define K_ERROR 3
#define K_OUTPUT 4
#define NEG_TTL 1.0           /* SPEC: "not found" is cached at most 1 s */
#define FINISHED_TIMEOUT 60.0 /* kernel cache for what cannot change */
#define MAX_PAGES 100000      /* a listing that never ends is an error */
#define RENEW 2               /* task_refresh: ask even a finished task again */
#define TREE_META_MAX 50000   /* tasks whose metadata is kept whole by default */

struct tprov;
struct task;

/* One output file of a task, by name: its inode's k is K_OUTPUT + index. */
struct tslot {
	struct task *tk;
	unsigned index;
	char *name;
	bool probing;
	struct media_out *out;    /* size and validator; NULL until known */
};

struct task {
	struct tprov *p;
	uint64_t idx;
	char *id;
	size_t id_len;
	char *name;               /* encoded; NULL when the id cannot be a name */
	struct task_info *info;   /* NULL until the API described it */
	bool info_from_get;
	bool in_listing;          /* in the last complete listing */
	bool known;               /* in the known-ids registry */
	bool busy;                /* a get is under way */
	double fetched_at;        /* when info was last confirmed (monotonic) */
	double neg_until;         /* the API said unknown: ENOENT until then */
	double bad_until;         /* its answer was malformed: bad_rc until then */
	int bad_rc;
	int64_t first_seen;       /* Unix time: the mtime of a task without one */
	unsigned flight_seq;      /* bumped when a get ends */
	int flight_rc;            /* how it ended */
	unsigned list_stamp;      /* the listing that last returned it */
	struct tslot **slots;     /* never reordered: inode numbers name them */
	unsigned n_slots;
	struct task *lru_prev, *lru_next; /* in the tree's LRU while info is full */
	bool in_lru;
};

struct tprov {
	struct tree *t;
	int idx;
	const struct provider_conf *pc;
	struct api *api;
	struct registry *reg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct strmap byid;
	struct task **tasks;      /* by index: the inode's middle bits */
	size_t n_tasks, cap;
	bool can_list;
	bool list_busy;
	double listed_at;         /* monotonic; 0: never */
	unsigned list_seq;        /* listings started */
	unsigned list_done;       /* bumped when a listing ends */
	int list_rc;              /* how it ended */
	unsigned hup_seen;
	bool list_stale;          /* SIGHUP: ask again, but keep it for failures */
	size_t list_pages;        /* requests the last complete listing took */
	size_t list_unfinished;   /* unfinished tasks it returned */
};

struct tree {
	const struct aifs_conf *conf;
	struct media *media;
	atomic_uint *hup;
	int64_t mount_time;
	struct tprov *provs;
	size_t n_provs;
	void (*notify)(void *ctx, uint64_t ino); /* set before the first request */
	void *notify_ctx;
	/* Tasks whose metadata is held whole, most recently used first; past
	 * meta_max the oldest are slimmed. Lock order: a provider's mu, then lru_mu. */
	pthread_mutex_t lru_mu;
	struct task *lru_head, *lru_tail;
	size_t n_full, meta_max;
};

struct tree_file {
	struct task_info *info; /* a reference: the content as it was at open */
	const char *data;
	size_t len;
	bool remote;
	struct media_file *media;
	struct media_cursor cur;
};

static const char *const fixed_names[] = { NULL, "status", "meta.json", "error" };

/* ---- inode numbers ---- */

static uint64_t task_ino(const struct task *tk, unsigned k)
{
	return ((uint64_t)(tk->p->idx + 1) << INO_PROV_SHIFT) |
	       ((tk->idx + 1) << INO_TASK_SHIFT) | k;
}

int tree_provider_of(const struct tree *t, uint64_t ino)
{
	if (ino >= 2 && ino < 2 + t->n_provs)
		return (int)(ino - 2);
	uint64_t p = ino >> INO_PROV_SHIFT;
	return p >= 1 && p <= t->n_provs ? (int)(p - 1) : -1;
}

size_t tree_n_providers(const struct tree *t)
{
	return t->n_provs;
}

/* The provider of a provider-directory inode, or NULL. */
static struct tprov *prov_dir(struct tree *t, uint64_t ino)
{
	return ino >= 2 && ino < 2 + t->n_provs ? &t->provs[ino - 2] : NULL;
}

/* The task of a task inode and its k, or NULL. Takes no lock: the task
 * array only grows, and is read under the provider's lock by callers. */
static struct task *ino_task(struct tree *t, uint64_t ino, unsigned *k)
{
	uint64_t pi = ino >> INO_PROV_SHIFT;
	uint64_t ti = (ino & ((1ULL << INO_PROV_SHIFT) - 1)) >> INO_TASK_SHIFT;
	if (pi < 1 || pi > t->n_provs || ti < 1)
		return NULL;
	struct tprov *p = &t->provs[pi - 1];
	struct task *tk = NULL;
	pthread_mutex_lock(&p->mu);
	if (ti <= p->n_tasks)
		tk = p->tasks[ti - 1];
	pthread_mutex_unlock(&p->mu);
	*k = (unsigned)(ino & ((1u << INO_TASK_SHIFT) - 1));
	return tk;
}

/* ---- time and invalidation ---- */

static double now_mono(void)
{
	return ratelimit_now();
}

static void deadline_in(struct timespec *ts, double s)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)s;
}

/* SIGHUP: forget listings and unfinished states. Caller holds p->mu. */
static void prov_check_hup(struct tprov *p)
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

/* ---- the metadata cap ---- */

static void lru_unlink(struct tree *t, struct task *tk)
{
	if (!tk->in_lru)
		return;
	if (tk->lru_prev)
		tk->lru_prev->lru_next = tk->lru_next;
	else
		t->lru_head = tk->lru_next;
	if (tk->lru_next)
		tk->lru_next->lru_prev = tk->lru_prev;
	else
		t->lru_tail = tk->lru_prev;
	tk->lru_prev = tk->lru_next = NULL;
	tk->in_lru = false;
	t->n_full--;
}

/* Marks tk's full metadata as just used. Caller holds tk->p->mu. */
static void lru_touch(struct task *tk)
{
	struct tree *t = tk->p->t;
	if (!tk->info || tk->info->slim)
		return;
	pthread_mutex_lock(&t->lru_mu);
	lru_unlink(t, tk);
	tk->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = tk;
	t->lru_head = tk;
	if (!t->lru_tail)
		t->lru_tail = tk;
	tk->in_lru = true;
	t->n_full++;
	pthread_mutex_unlock(&t->lru_mu);
}

/* Forgets tk's place when its info goes. Caller holds tk->p->mu. */
static void lru_forget(struct task *tk)
{
	struct tree *t = tk->p->t;
	pthread_mutex_lock(&t->lru_mu);
	lru_unlink(t, tk);
	pthread_mutex_unlock(&t->lru_mu);
}

/* Slims the least recently used tasks until at most meta_max hold their
 * metadata whole. Called holding no provider lock. */
static void tree_trim(struct tree *t)
{
	for (;;) {
		pthread_mutex_lock(&t->lru_mu);
		struct task *tk = t->n_full > t->meta_max ? t->lru_tail : NULL;
		if (tk)
			lru_unlink(t, tk);
		pthread_mutex_unlock(&t->lru_mu);
		if (!tk)
			return;
		pthread_mutex_lock(&tk->p->mu);
		if (tk->info && !tk->info->slim && !tk->in_lru) {
			struct task_info *slim = task_info_slim(tk->info);
			if (slim) {
				task_info_unref(tk->info);
				tk->info = slim;
			}
		}
		pthread_mutex_unlock(&tk->p->mu);
	}
}

/* ---- tasks ---- */

/* Finds or makes the task for id. Caller holds p->mu. NULL on ENOMEM. */
static struct task *task_get_or_new(struct tprov *p, const char *id, size_t len)
{
	struct task *tk = strmap_get(&p->byid, id, len);
	if (tk)
		return tk;
	if (p->n_tasks == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct task **a = realloc(p->tasks, cap * sizeof *a);
		if (!a)
			return NULL;
		p->tasks = a;
		p->cap = cap;
	}
	tk = calloc(1, sizeof *tk);
	if (!tk || !(tk->id = malloc(len + 1)))
		goto fail;
	memcpy(tk->id, id, len);
	tk->id[len] = '\0';
	tk->id_len = len;
	tk->name = idenc_encode(id, len);
	if (!tk->name)
		log_msg(LOGL_WARN, "%s: task id of %zu bytes cannot be a file name; left out",
			p->pc->name, len);
	tk->p = p;
	tk->idx = p->n_tasks;
	tk->first_seen = time(NULL);
	if (strmap_put(&p->byid, tk->id, len, tk))
		goto fail;
	p->tasks[p->n_tasks++] = tk;
	return tk;
fail:
	if (tk) {
		free(tk->id);
		free(tk->name);
	}
	free(tk);
	return NULL;
}

static void task_free(struct task *tk)
{
	task_info_unref(tk->info);
	for (unsigned i = 0; i < tk->n_slots; i++) {
		free(tk->slots[i]->name);
		media_out_free(tk->slots[i]->out);
		free(tk->slots[i]);
	}
	free(tk->slots);
	free(tk->id);
	free(tk->name);
	free(tk);
}

/* The slot of an output name, making one when new. NULL when full or out
 * of memory: that output is then not shown. */
static struct tslot *out_slot(struct task *tk, const char *name)
{
	for (unsigned i = 0; i < tk->n_slots; i++)
		if (!strcmp(tk->slots[i]->name, name))
			return tk->slots[i];
	if (tk->n_slots == TASK_MAX_OUTPUTS)
		return NULL;
	struct tslot **a = realloc(tk->slots, (tk->n_slots + 1) * sizeof *a);
	if (!a)
		return NULL;
	tk->slots = a;
	struct tslot *sl = calloc(1, sizeof *sl);
	if (!sl || !(sl->name = strdup(name))) {
		free(sl);
		return NULL;
	}
	sl->tk = tk;
	sl->index = tk->n_slots;
	tk->slots[tk->n_slots++] = sl;
	return sl;
}

/* Takes ti (one reference) into tk when it is the newer description.
 * Caller holds p->mu. */
static void task_take(struct task *tk, struct task_info *ti, bool from_get, double now)
{
	struct task_info *old = tk->info;
	bool keep = false;

	if (!ti->mtime)
		ti->mtime = tk->first_seen; /* SPEC: never 1970 */
	if (old && !from_get && !old->slim) {
		/* a list item never undoes a finished state, nor replaces the
		 * richer single-task answer when nothing has changed */
		if (task_status_finished(old->status) && ti->mtime <= old->mtime)
			keep = true;
		else if (tk->info_from_get && ti->status == old->status && ti->mtime <= old->mtime)
			keep = true;
	}
	tk->fetched_at = now;
	tk->neg_until = tk->bad_until = 0;
	if (keep) {
		task_info_unref(ti);
		return;
	}
	for (size_t i = 0; i < ti->n_outputs; i++)
		out_slot(tk, ti->outputs[i].name);
	tk->info = ti;
	tk->info_from_get = from_get;
	task_info_unref(old);
	lru_touch(tk);
}

static bool task_fresh(const struct task *tk, double now)
{
	if (!tk->info)
		return false;
	if (task_status_finished(tk->info->status))
		return true;
	return tk->fetched_at > 0 && now - tk->fetched_at < tk->p->pc->tun.ttl;
}

static void registry_sync(struct tprov *p)
{
	size_t n = 0;
	const char **ids = calloc(p->n_tasks + 1, sizeof *ids);
	size_t *lens = calloc(p->n_tasks + 1, sizeof *lens);
	if (ids && lens) {
		for (size_t i = 0; i < p->n_tasks; i++) {
			if (p->tasks[i]->known) {
				ids[n] = p->tasks[i]->id;
				lens[n++] = p->tasks[i]->id_len;
			}
		}
		int rc = registry_rewrite(p->reg, ids, lens, n);
		if (rc)
			log_msg(LOGL_WARN, "%s: cannot rewrite the known ids: %s", p->pc->name,
				strerror(-rc));
	}
	free(ids);
	free(lens);
}

static void task_set_known(struct task *tk, bool known)
{
	if (tk->known == known || !tk->name)
		return;
	tk->known = known;
	if (known) {
		int rc = registry_add(tk->p->reg, tk->id, tk->id_len);
		if (rc)
			log_msg(LOGL_WARN, "%s: cannot record a known id: %s", tk->p->pc->name,
				strerror(-rc));
	} else {
		registry_sync(tk->p);
	}
}

static bool transient(int rc)
{
	return rc != -EACCES && rc != -ENOENT && rc != -ENOMEM;
}

static int prov_refresh(struct tprov *p, int flags);

/* Makes tk's state fresh, asking the API when it is not. Caller holds p->mu;
 * it is released during the call. 0 (possibly with a stale state, logged),
 * -ENOENT, -EWOULDBLOCK under TREE_NOWAIT, or the API's -errno. */
static int task_refresh(struct task *tk, int flags)
{
	struct tprov *p = tk->p;
	struct timespec until;
	struct aifs_err err;
	struct task_info *ti = NULL;
	int rc;

	prov_check_hup(p);
	double now = now_mono();
	if (!(flags & RENEW) && tk->neg_until > now)
		return -ENOENT;
	if (!(flags & RENEW) && !tk->info && tk->bad_until > now)
		return tk->bad_rc; /* SPEC: remembered like "not found" */
	if (!(flags & RENEW) && task_fresh(tk, now))
		return 0;
	/* When the unfinished tasks a listing returned outnumber its pages,
	 * listing again refreshes them all for less than a get each. */
	if (!(flags & RENEW) && tk->in_listing && p->can_list &&
	    p->list_unfinished > p->list_pages) {
		rc = prov_refresh(p, flags);
		if (rc == -EWOULDBLOCK || task_fresh(tk, now_mono()))
			return rc;
		if (rc && tk->info && transient(rc))
			return 0;
		if (tk->neg_until > now_mono())
			return -ENOENT;
	}
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	if (tk->busy) {
		unsigned seq = tk->flight_seq;
		deadline_in(&until, api_deadline(p->api));
		while (tk->busy && tk->flight_seq == seq)
			if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
				return tk->info ? 0 : -ETIMEDOUT;
		rc = tk->flight_rc;
		return rc && tk->info && transient(rc) ? 0 : rc;
	}

	tk->busy = true;
	pthread_mutex_unlock(&p->mu);
	rc = api_get(p->api, tk->id, &ti, &err);
	pthread_mutex_lock(&p->mu);
	tk->busy = false;
	now = now_mono();
	if (rc && rc != -ENOENT && err.retry == AIFS_RETRY_NO) {
		tk->bad_until = now + NEG_TTL; /* an answer that asking again repeats */
		tk->bad_rc = rc;
	}
	if (rc == 0) {
		task_take(tk, ti, true, now);
		if (!tk->in_listing && !tk->known)
			task_set_known(tk, true);
	} else if (rc == -ENOENT) {
		tk->neg_until = now + NEG_TTL;
		tk->in_listing = false;
		lru_forget(tk);
		task_info_unref(tk->info);
		tk->info = NULL;
		task_set_known(tk, false);
	}
	if (rc && tk->info && transient(rc))
		tk->fetched_at = now; /* serve the stale copy a TTL before asking again */
	tk->flight_rc = rc;
	tk->flight_seq++;
	pthread_cond_broadcast(&p->cv);
	return rc && tk->info && transient(rc) ? 0 : rc;
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
	if (pg->skipped)
		log_msg(LOGL_WARN, "%s: %zu listed item(s) without an id or a status left out",
			p->pc->name, pg->skipped);
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < pg->n_tasks; i++) {
		struct task_info *ti = pg->tasks[i];
		struct task *tk = task_get_or_new(p, ti->id, strlen(ti->id));
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
		task_take(tk, ti, false, now);
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
			rc = take_page(lr, &pg, now_mono());
			tree_trim(p->t);
			if (last)
				break;
		}
	}
	return rc;
}

/* Makes p's listing fresh. Caller holds p->mu, released during the calls.
 * 0 (possibly stale, logged), -EWOULDBLOCK under TREE_NOWAIT, or -errno. */
static int prov_refresh(struct tprov *p, int flags)
{
	struct timespec until;
	int rc;

	prov_check_hup(p);
	if (!p->can_list)
		return 0; /* the known ids are the listing */
	if (p->listed_at > 0 && !p->list_stale && now_mono() - p->listed_at < p->pc->tun.ttl)
		return 0;
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	if (p->list_busy) {
		unsigned done = p->list_done;
		deadline_in(&until, api_deadline(p->api) * 4);
		while (p->list_busy && p->list_done == done)
			if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
				return p->listed_at > 0 ? 0 : -ETIMEDOUT;
		rc = p->list_rc;
		return rc && p->listed_at > 0 && transient(rc) ? 0 : rc;
	}

	struct list_run lr = { .p = p, .stamp = ++p->list_seq };
	p->list_busy = true;
	pthread_mutex_unlock(&p->mu);
	rc = list_all(&lr);
	pthread_mutex_lock(&p->mu);
	p->list_busy = false;

	if (rc == 0) {
		double now = now_mono();
		p->listed_at = now;
		p->list_stale = false;
		p->list_pages = lr.pages;
		p->list_unfinished = 0;
		for (size_t i = 0; i < p->n_tasks; i++) {
			struct task *tk = p->tasks[i];
			tk->in_listing = tk->list_stamp == lr.stamp;
			if (tk->in_listing && !tk->busy)
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
	} else if (p->listed_at > 0 && transient(rc)) {
		p->listed_at = now_mono(); /* the stale listing serves a TTL more */
		p->list_stale = false;
	}
	p->list_rc = rc;
	p->list_done++;
	pthread_cond_broadcast(&p->cv);
	return rc && p->listed_at > 0 && transient(rc) ? 0 : rc;
}

/* ---- attributes ---- */

static void dir_attr(struct tree_attr *a, uint64_t ino, unsigned perm, int64_t mtime, double to)
{
	*a = (struct tree_attr){ .ino = ino, .mode = S_IFDIR | perm, .nlink = 2,
				 .mtime = mtime, .timeout = to };
}

static double task_timeout(const struct task *tk)
{
	if (tk->info && task_status_finished(tk->info->status))
		return FINISHED_TIMEOUT;
	return tk->p->pc->tun.ttl < 1.0 ? tk->p->pc->tun.ttl : 1.0;
}

/* The output of tk in slot k - K_OUTPUT, or NULL when the task has none now. */
static const struct task_output *task_output_at(const struct task *tk, unsigned k)
{
	if (k < K_OUTPUT || k - K_OUTPUT >= tk->n_slots || !tk->info)
		return NULL;
	for (size_t i = 0; i < tk->info->n_outputs; i++)
		if (!strcmp(tk->info->outputs[i].name, tk->slots[k - K_OUTPUT]->name))
			return &tk->info->outputs[i];
	return NULL;
}

/* Attributes of file k of a fresh task. Caller holds p->mu. */
static int file_attr(const struct task *tk, unsigned k, struct tree_attr *a)
{
	const struct task_info *ti = tk->info;
	uint64_t size;

	switch (k) {
	case K_DIR:
		dir_attr(a, task_ino(tk, K_DIR), 0555, ti->mtime, task_timeout(tk));
		return 0;
	case K_STATUS:
		size = ti->status_len;
		break;
	case K_META:
		size = ti->meta_len;
		break;
	case K_ERROR:
		if (!ti->error_len)
			return -ENOENT;
		size = ti->error_len;
		break;
	default:
		if (!task_output_at(tk, k) || !tk->slots[k - K_OUTPUT]->out)
			return -ENOENT;
		size = media_out_size(tk->slots[k - K_OUTPUT]->out);
		break;
	}
	*a = (struct tree_attr){ .ino = task_ino(tk, k), .mode = S_IFREG | 0444, .nlink = 1,
				 .size = size, .mtime = ti->mtime, .timeout = task_timeout(tk) };
	return 0;
}

static int task_file_index(const struct task *tk, const char *name)
{
	for (unsigned k = K_STATUS; k <= K_ERROR; k++)
		if (!strcmp(name, fixed_names[k]))
			return (int)k;
	for (unsigned i = 0; i < tk->n_slots; i++)
		if (!strcmp(name, tk->slots[i]->name))
			return (int)(K_OUTPUT + i);
	return -1;
}

/* ---- output files ---- */

/* The blob cache's key of an output: provider, id and name, NUL-separated. */
static char *slot_key(const struct tslot *sl, size_t *len)
{
	const struct task *tk = sl->tk;
	size_t pn = strlen(tk->p->pc->name), nn = strlen(sl->name);
	char *k = malloc(pn + tk->id_len + nn + 2);
	if (!k)
		return NULL;
	memcpy(k, tk->p->pc->name, pn + 1);
	memcpy(k + pn + 1, tk->id, tk->id_len);
	k[pn + 1 + tk->id_len] = '\0';
	memcpy(k + pn + 2 + tk->id_len, sl->name, nn);
	*len = pn + tk->id_len + nn + 2;
	return k;
}

/* media's source: the output's current URL, renewed through the API (one
 * get, shared by every reader of the task) when asked or about to expire. */
static int slot_url(void *ctx, bool renew, char **url)
{
	struct tslot *sl = ctx;
	struct task *tk = sl->tk;
	const struct task_output *out;
	int rc = 0;

	pthread_mutex_lock(&tk->p->mu);
	out = task_output_at(tk, K_OUTPUT + sl->index);
	if (renew || !out || !out->url || media_url_expires_soon(out->url, time(NULL))) {
		rc = task_refresh(tk, RENEW);
		out = task_output_at(tk, K_OUTPUT + sl->index);
	}
	if (rc == 0 && !out)
		rc = -ENOENT;
	if (rc == 0 && !(*url = strdup(out->url)))
		rc = -ENOMEM;
	pthread_mutex_unlock(&tk->p->mu);
	return rc;
}

/* media's word that the server's copy of an output changed: its size is
 * new, and the kernel's cached attributes and pages of it must go. */
static void slot_changed(void *ctx)
{
	struct tslot *sl = ctx;
	struct tree *t = sl->tk->p->t;
	if (t->notify)
		t->notify(t->notify_ctx, task_ino(sl->tk, K_OUTPUT + sl->index));
}

/* Makes the size of output k known. Caller holds p->mu; it is released while
 * the download server is asked, one probe per output at a time. */
static int output_size(struct task *tk, unsigned k, int flags)
{
	struct tprov *p = tk->p;
	struct timespec until;
	struct aifs_err err;
	struct media_out *mo = NULL;
	size_t klen;

	if (k < K_OUTPUT || !task_output_at(tk, k))
		return 0;
	struct tslot *sl = tk->slots[k - K_OUTPUT];
	if (sl->out)
		return 0;
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	if (sl->probing) {
		deadline_in(&until, api_deadline(p->api) * 2);
		while (sl->probing)
			if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
				return -ETIMEDOUT;
		return sl->out ? 0 : -EIO;
	}
	char *key = slot_key(sl, &klen);
	if (!key)
		return -ENOMEM;
	struct media_src src = { slot_url, slot_changed, sl };
	sl->probing = true;
	pthread_mutex_unlock(&p->mu);
	int rc = media_probe(p->t->media, key, klen, &src, &mo, &err);
	pthread_mutex_lock(&p->mu);
	sl->probing = false;
	if (rc == 0) {
		sl->out = mo;
	} else {
		log_msg(LOGL_WARN, "%s: size of %s: %s (%s)", p->pc->name, sl->name, err.msg,
			aifs_errno_name(rc));
	}
	pthread_cond_broadcast(&p->cv);
	free(key);
	return rc;
}

/* ---- the public calls ---- */

static int lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		  struct tree_attr *out);

int tree_lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		struct tree_attr *out)
{
	int rc = lookup(t, parent, name, flags, out);
	tree_trim(t);
	return rc;
}

static int lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		  struct tree_attr *out)
{
	struct tprov *p;
	struct task *tk;
	unsigned k;
	int rc;

	if (parent == TREE_ROOT_INO) {
		for (size_t i = 0; i < t->n_provs; i++)
			if (!strcmp(name, t->provs[i].pc->name)) {
				dir_attr(out, 2 + i, 0755, t->mount_time, FINISHED_TIMEOUT);
				return 0;
			}
		return -ENOENT;
	}
	if ((p = prov_dir(t, parent))) {
		size_t len;
		char *id = idenc_decode(name, &len);
		if (!id)
			return -ENOENT; /* ".git", ".Trash": never a task, never an API call */
		pthread_mutex_lock(&p->mu);
		prov_check_hup(p);
		tk = strmap_get(&p->byid, id, len);
		if (!tk && (flags & TREE_NOWAIT)) {
			rc = -EWOULDBLOCK;
		} else if (!tk && !(tk = task_get_or_new(p, id, len))) {
			rc = -ENOMEM;
		} else {
			rc = task_refresh(tk, flags);
			if (rc == 0)
				rc = file_attr(tk, K_DIR, out);
		}
		pthread_mutex_unlock(&p->mu);
		free(id);
		return rc;
	}
	if (!(tk = ino_task(t, parent, &k)) || k != K_DIR)
		return -ENOTDIR;
	p = tk->p;
	pthread_mutex_lock(&p->mu);
	rc = task_refresh(tk, flags);
	if (rc == 0) {
		int fk = task_file_index(tk, name);
		rc = fk < 0 ? -ENOENT : output_size(tk, (unsigned)fk, flags);
		if (rc == 0)
			rc = file_attr(tk, (unsigned)fk, out);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int tree_getattr(struct tree *t, uint64_t ino, int flags, struct tree_attr *out)
{
	struct task *tk;
	unsigned k;
	int rc;

	if (ino == TREE_ROOT_INO) {
		dir_attr(out, ino, 0555, t->mount_time, FINISHED_TIMEOUT);
		return 0;
	}
	if (prov_dir(t, ino)) {
		dir_attr(out, ino, 0755, t->mount_time, FINISHED_TIMEOUT);
		return 0;
	}
	if (!(tk = ino_task(t, ino, &k)))
		return -ENOENT;
	pthread_mutex_lock(&tk->p->mu);
	rc = task_refresh(tk, flags);
	if (rc == 0)
		rc = output_size(tk, k, flags);
	if (rc == 0)
		rc = file_attr(tk, k, out);
	pthread_mutex_unlock(&tk->p->mu);
	return rc;
}

int tree_mkdir(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	struct tprov *p = prov_dir(t, parent);
	struct task *tk;
	size_t len;
	int rc;

	if (!p)
		return parent == TREE_ROOT_INO ? -EPERM : -EACCES;
	char *id = idenc_decode(name, &len);
	if (!id)
		return -EINVAL;
	pthread_mutex_lock(&p->mu);
	tk = strmap_get(&p->byid, id, len);
	if (tk && tk->info && (tk->known || tk->in_listing)) {
		rc = -EEXIST;
	} else if (!tk && !(tk = task_get_or_new(p, id, len))) {
		rc = -ENOMEM;
	} else {
		tk->fetched_at = 0; /* ask the API: the id must exist now */
		tk->neg_until = 0;
		rc = task_refresh(tk, 0);
		if (rc == 0 && !tk->name)
			rc = -ENAMETOOLONG;
		if (rc == 0) {
			task_set_known(tk, true);
			rc = file_attr(tk, K_DIR, out);
		}
	}
	pthread_mutex_unlock(&p->mu);
	free(id);
	return rc;
}

static int dir_add(struct tree_dir *d, size_t *cap, const char *name, uint64_t ino, unsigned mode)
{
	if (d->n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct tree_dirent *e = realloc(d->ents, c * sizeof *e);
		if (!e)
			return -ENOMEM;
		d->ents = e;
		*cap = c;
	}
	d->ents[d->n++] = (struct tree_dirent){ name, ino, mode };
	return 0;
}

int tree_opendir(struct tree *t, uint64_t ino, int flags, struct tree_dir **out)
{
	struct tree_dir *d = calloc(1, sizeof *d);
	struct tprov *p;
	struct task *tk;
	size_t cap = 0;
	unsigned k;
	int rc = 0;

	if (!d)
		return -ENOMEM;
	if (ino == TREE_ROOT_INO) {
		for (size_t i = 0; i < t->n_provs && !rc; i++)
			rc = dir_add(d, &cap, t->provs[i].pc->name, 2 + i, S_IFDIR);
	} else if ((p = prov_dir(t, ino))) {
		pthread_mutex_lock(&p->mu);
		rc = prov_refresh(p, flags);
		for (size_t i = 0; i < p->n_tasks && !rc; i++) {
			tk = p->tasks[i];
			if (tk->name && (tk->in_listing || tk->known) && tk->neg_until <= now_mono())
				rc = dir_add(d, &cap, tk->name, task_ino(tk, K_DIR), S_IFDIR);
		}
		pthread_mutex_unlock(&p->mu);
	} else if ((tk = ino_task(t, ino, &k)) && k == K_DIR) {
		pthread_mutex_lock(&tk->p->mu);
		rc = task_refresh(tk, flags);
		for (unsigned f = K_STATUS; f < K_OUTPUT + TASK_MAX_OUTPUTS && !rc; f++) {
			if (f >= K_OUTPUT && f - K_OUTPUT >= tk->n_slots)
				break;
			const char *name = f < K_OUTPUT ? fixed_names[f] : tk->slots[f - K_OUTPUT]->name;
			if (f == K_ERROR && !tk->info->error_len)
				continue;
			if (f >= K_OUTPUT && !task_output_at(tk, f))
				continue;
			rc = dir_add(d, &cap, name, task_ino(tk, f), S_IFREG);
		}
		pthread_mutex_unlock(&tk->p->mu);
	} else {
		rc = tk ? -ENOTDIR : -ENOENT;
	}
	if (rc) {
		tree_dir_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void tree_dir_free(struct tree_dir *d)
{
	if (!d)
		return;
	free(d->ents);
	free(d);
}

/* Opens output sl for reading into f. Caller holds p->mu. */
static int open_output(struct tslot *sl, struct tree_file *f)
{
	size_t klen;
	char *key = slot_key(sl, &klen);
	if (!key)
		return -ENOMEM;
	struct media_src src = { slot_url, slot_changed, sl };
	int rc = media_open(sl->tk->p->t->media, key, klen, sl->out, &src, &f->media);
	free(key);
	f->remote = rc == 0;
	if (rc && rc != -ENOMEM) {
		/* a listed file is never a silent ENOENT: the cache failed us */
		log_msg(LOGL_ERROR, "%s: cannot open %s in the cache: %s", sl->tk->p->pc->name,
			sl->name, strerror(-rc));
		rc = -EIO;
	}
	return rc;
}

int tree_open(struct tree *t, uint64_t ino, int flags, struct tree_file **out,
	      bool *keep_cache, bool *direct)
{
	struct task *tk;
	unsigned k;
	int rc;

	if (ino == TREE_ROOT_INO || prov_dir(t, ino))
		return -EISDIR;
	if (!(tk = ino_task(t, ino, &k)))
		return -ENOENT;
	if (k == K_DIR)
		return -EISDIR;
	struct tree_file *f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&tk->p->mu);
	rc = task_refresh(tk, flags);
	if (rc == 0 && tk->info->slim && (k == K_META || k == K_ERROR))
		rc = task_refresh(tk, flags | RENEW); /* the text was dropped: ask again */
	if (rc == 0) {
		struct task_info *ti = tk->info;
		lru_touch(tk);
		switch (k) {
		case K_STATUS:
			f->data = ti->status_text;
			f->len = ti->status_len;
			break;
		case K_META:
			f->data = ti->meta;
			f->len = ti->meta_len;
			break;
		case K_ERROR:
			f->data = ti->error;
			f->len = ti->error_len;
			if (!ti->error_len)
				rc = -ENOENT;
			break;
		default:
			rc = output_size(tk, k, flags);
			if (rc == 0 && !task_output_at(tk, k))
				rc = -ENOENT;
			if (rc == 0)
				rc = open_output(tk->slots[k - K_OUTPUT], f);
			break;
		}
		if (rc == 0) {
			f->info = task_info_ref(tk->info);
			/* outputs never change; the rest only once finished */
			*keep_cache = f->remote || task_status_finished(tk->info->status);
			*direct = !*keep_cache;
		}
	}
	pthread_mutex_unlock(&tk->p->mu);
	if (rc) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

bool tree_file_is_remote(const struct tree_file *f)
{
	return f->remote;
}

ssize_t tree_read(struct tree *t, struct tree_file *f, char *buf, size_t size, off_t off)
{
	(void)t;
	if (f->remote)
		return media_read(f->media, &f->cur, buf, size, off);
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= f->len)
		return 0;
	if (size > f->len - (size_t)off)
		size = f->len - (size_t)off;
	memcpy(buf, f->data + off, size);
	return (ssize_t)size;
}

int tree_read_fd(struct tree_file *f, size_t size, off_t off, int *fd, size_t *len)
{
	if (!f->remote)
		return -EWOULDBLOCK;
	return media_read_fd(f->media, &f->cur, size, off, fd, len);
}

void tree_read_fd_done(struct tree_file *f)
{
	media_read_fd_done(f->media);
}

void tree_release(struct tree_file *f)
{
	if (!f)
		return;
	task_info_unref(f->info);
	media_close(f->media);
	free(f);
}

/* ---- setup ---- */

static int load_known(void *ctx, const char *id, size_t len)
{
	struct tprov *p = ctx;
	struct task *tk = task_get_or_new(p, id, len);
	if (!tk)
		return -ENOMEM;
	tk->known = true;
	return 0;
}

struct tree *tree_new(const struct aifs_conf *conf, const struct tree_provider *provs, size_t n,
		      struct media *media, atomic_uint *hup, struct aifs_err *err)
{
	struct tree *t = calloc(1, sizeof *t);
	if (!t)
		goto nomem;
	t->conf = conf;
	t->media = media;
	t->hup = hup;
	t->mount_time = time(NULL);
	t->meta_max = conf->meta_max ? conf->meta_max : TREE_META_MAX;
	pthread_mutex_init(&t->lru_mu, NULL);
	t->provs = calloc(n, sizeof *t->provs);
	if (!t->provs)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		struct tprov *p = &t->provs[i];
		const struct provider_conf *pc = provs[i].pc;
		p->t = t;
		p->idx = (int)i;
		p->pc = pc;
		p->api = provs[i].api;
		p->reg = provs[i].reg;
		p->can_list = pc->list != LIST_NO;
		p->hup_seen = atomic_load(hup);
		pthread_mutex_init(&p->mu, NULL);
		pthread_cond_init(&p->cv, NULL);
		strmap_init(&p->byid);
		t->n_provs++;
		int rc = registry_load(p->reg, load_known, p);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc)
			log_msg(LOGL_WARN, "%s: cannot read the known ids: %s", pc->name,
				strerror(-rc));
	}
	return t;
nomem:
	aifs_err_set(err, -ENOMEM, "out of memory");
	tree_free(t);
	return NULL;
}

void tree_set_notify(struct tree *t, void (*changed)(void *ctx, uint64_t ino), void *ctx)
{
	t->notify = changed;
	t->notify_ctx = ctx;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_provs; i++) {
		struct tprov *p = &t->provs[i];
		for (size_t j = 0; j < p->n_tasks; j++)
			task_free(p->tasks[j]);
		free(p->tasks);
		strmap_free(&p->byid);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	free(t->provs);
	pthread_mutex_destroy(&t->lru_mu);
	free(t);
}

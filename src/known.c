/* known.c: the known-ids registry as the tree keeps it (SPEC: ids looked
 * up, registered with mkdir or created in .new are listed across remounts).
 * Changes are noted under the provider's lock and written to the registry
 * file by tree_settle() once no tree lock is held. Knows no FUSE, no curl,
 * no JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/cluster.h"
#include "aifs/config.h"
#include "aifs/log.h"
#include "aifs/registry.h"
#include "aifs/tree.h"
#include "tree_int.h"

/* Notes that tk joined or left the registry; the file follows at the next
 * tree_settle(), outside the provider's lock. Caller holds p->mu. */
/* Cluster mode: notes tk for the account's set (joined or left). */
static void cl_note(struct tprov *p, struct task *tk, bool known)
{
	struct task ***a = &p->cl_ids[known];
	size_t *n = &p->n_cl_ids[known], *cap = &p->cap_cl_ids[known];

	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct task **b = realloc(*a, c * sizeof *b);
		if (!b)
			return; /* the set misses one id; each mount's file still has it */
		*a = b;
		*cap = c;
	}
	(*a)[(*n)++] = tk;
}

void tree_task_known(struct task *tk, bool known)
{
	struct tprov *p = tk->p;
	if (tk->known == known || !tk->name)
		return;
	tk->known = known;
	if (p->acct)
		cl_note(p, tk, known);
	if (!known) {
		p->reg_rewrite = true;
	} else if (!p->reg_rewrite) {
		if (p->n_reg_adds == p->cap_reg_adds) {
			size_t cap = p->cap_reg_adds ? 2 * p->cap_reg_adds : 16;
			struct task **a = realloc(p->reg_adds, cap * sizeof *a);
			if (!a) {
				p->reg_rewrite = true; /* the whole file then, later */
				goto pending;
			}
			p->reg_adds = a;
			p->cap_reg_adds = cap;
		}
		p->reg_adds[p->n_reg_adds++] = tk;
	}
pending:
	atomic_store_explicit(&p->reg_pending, true, memory_order_release);
}

/* The ids to write: what was added since, or all that are known when one
 * left. Caller holds p->mu. New arrays, free(); *rewrite says which. */
static int reg_take(struct tprov *p, const char ***ids, size_t **lens, size_t *n, bool *rewrite)
{
	size_t m = p->reg_rewrite ? p->n_tasks : p->n_reg_adds;
	*ids = calloc(m + 1, sizeof **ids);
	*lens = calloc(m + 1, sizeof **lens);
	if (!*ids || !*lens)
		return -ENOMEM;
	*n = 0;
	*rewrite = p->reg_rewrite;
	for (size_t i = 0; i < m; i++) {
		struct task *tk = *rewrite ? p->tasks[i] : p->reg_adds[i];
		if (*rewrite && !tk->known)
			continue;
		(*ids)[*n] = tk->id; /* tasks and their ids live as long as the tree */
		(*lens)[(*n)++] = tk->id_len;
	}
	p->n_reg_adds = 0;
	p->reg_rewrite = false;
	atomic_store_explicit(&p->reg_pending, false, memory_order_relaxed);
	return 0;
}

/* Cluster mode: the account's set follows what joined and left. Caller
 * holds reg_mu, not mu; tasks and ids live as long as the tree. */
static void cl_settle(struct tprov *p)
{
	for (int known = 1; known >= 0; known--) {
		pthread_mutex_lock(&p->mu);
		struct task **a = p->cl_ids[known];
		size_t n = p->n_cl_ids[known];
		p->cl_ids[known] = NULL;
		p->n_cl_ids[known] = p->cap_cl_ids[known] = 0;
		const char **ids = calloc(n + 1, sizeof *ids);
		size_t *lens = calloc(n + 1, sizeof *lens);
		for (size_t i = 0; ids && lens && i < n; i++)
			ids[i] = a[i]->id, lens[i] = a[i]->id_len;
		pthread_mutex_unlock(&p->mu);
		if (ids && lens) /* one command each way */
			(known ? cluster_known_add : cluster_known_del)(p->acct, ids, lens, n);
		free(ids);
		free(lens);
		free(a);
	}
}

/* Writes p's registry changes to disk. Holds no provider lock while it
 * does: reg_mu orders the writers, so the last snapshot taken is the last
 * written. */
static void reg_settle(struct tprov *p)
{
	const char **ids = NULL;
	size_t *lens = NULL, n = 0;
	bool rewrite = false;
	int rc;

	pthread_mutex_lock(&p->reg_mu);
	if (p->acct)
		cl_settle(p);
	pthread_mutex_lock(&p->mu);
	rc = reg_take(p, &ids, &lens, &n, &rewrite);
	pthread_mutex_unlock(&p->mu);
	if (rc == 0 && rewrite)
		rc = registry_rewrite(p->reg, ids, lens, n);
	for (size_t i = 0; rc == 0 && !rewrite && i < n; i++)
		rc = registry_add(p->reg, ids[i], lens[i]);
	pthread_mutex_unlock(&p->reg_mu);
	if (rc)
		log_msg(LOGL_WARN, "%s: cannot record the known ids: %s", p->pc->name,
			strerror(-rc));
	free(ids);
	free(lens);
}

void tree_settle(struct tree *t)
{
	for (size_t i = 0; i < t->n_provs; i++)
		if (atomic_load_explicit(&t->provs[i].reg_pending, memory_order_acquire))
			reg_settle(&t->provs[i]);
}


/* registry_load()'s callback: the id is known from the start. */
int known_load(void *ctx, const char *id, size_t len)
{
	struct tprov *p = ctx;
	struct task *tk = tree_task_get(p, id, len);
	if (!tk)
		return -ENOMEM;
	tk->known = true;
	return 0;
}

/* ---- cluster mode ---- */

struct merge {
	char **ids;
	size_t *lens, n, cap;
};

static int merge_one(void *ctx, const char *id, size_t len)
{
	struct merge *m = ctx;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		char **a = realloc(m->ids, cap * sizeof *a);
		size_t *l = a ? realloc(m->lens, cap * sizeof *l) : NULL;
		if (a)
			m->ids = a;
		if (!l)
			return -ENOMEM;
		m->lens = l;
		m->cap = cap;
	}
	if (!(m->ids[m->n] = malloc(len + 1)))
		return -ENOMEM;
	memcpy(m->ids[m->n], id, len);
	m->ids[m->n][len] = '\0';
	m->lens[m->n++] = len;
	return 0;
}

void known_merge(struct tprov *p)
{
	struct merge m = { 0 };

	if (!p->acct || cluster_known_all(p->acct, merge_one, &m) != 0)
		goto out;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < m.n; i++) {
		struct task *tk = tree_task_get(p, m.ids[i], m.lens[i]);
		if (tk && !tk->known && tk->neg_until == 0)
			tk->known = true; /* the account's: no need to write it here */
	}
	pthread_mutex_unlock(&p->mu);
out:
	for (size_t i = 0; i < m.n; i++)
		free(m.ids[i]);
	free(m.ids);
	free(m.lens);
}

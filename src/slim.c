/* slim.c: the metadata cap. Tasks whose metadata is held whole sit in one
 * LRU list; past meta_max the least recently used keep only what stat and
 * status need (task_info_slim), and their meta.json or error costs a get
 * again. Knows no FUSE, no curl, no JSON. */
#include <pthread.h>
#include <stddef.h>

#include "aifs/task.h"
#include "tree_int.h"

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
void slim_touch(struct task *tk)
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
void slim_forget(struct task *tk)
{
	struct tree *t = tk->p->t;
	pthread_mutex_lock(&t->lru_mu);
	lru_unlink(t, tk);
	pthread_mutex_unlock(&t->lru_mu);
}

/* Slims the least recently used tasks until at most meta_max hold their
 * metadata whole. Called holding no provider lock. */
void slim_trim(struct tree *t)
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

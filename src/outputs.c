/* outputs.c: the bridge from tasks to media: output slots (their inode
 * numbers never move), sizes learnt once, files opened through the download
 * engine, URLs renewed through the API when a download is refused. Knows no
 * FUSE, no curl, no JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/log.h"
#include "aifs/media.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "aifs/urlexp.h"
#include "tree_int.h"

/* The slot of an output name, making one when new. NULL when full or out
 * of memory: that output is then not shown. */
struct tslot *outputs_slot(struct task *tk, const char *name)
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
	size_t n = strlen(name) + 1;
	struct tslot *sl = calloc(1, sizeof *sl + n);
	if (!sl)
		return NULL;
	memcpy(sl->name, name, n);
	sl->tk = tk;
	sl->index = tk->n_slots;
	tk->slots[tk->n_slots++] = sl;
	return sl;
}

/* The output of tk in slot k - K_OUTPUT, or NULL when the task has none now. */
const struct task_output *outputs_at(const struct task *tk, unsigned k)
{
	if (k < K_OUTPUT || k - K_OUTPUT >= tk->n_slots || !tk->info)
		return NULL;
	for (size_t i = 0; i < tk->info->n_outputs; i++)
		if (!strcmp(tk->info->outputs[i].name, tk->slots[k - K_OUTPUT]->name))
			return &tk->info->outputs[i];
	return NULL;
}

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
	out = outputs_at(tk, K_OUTPUT + sl->index);
	if (renew || !out || !out->url || urlexp_expires_soon(out->url, time(NULL))) {
		rc = fresh_task(tk, RENEW | FROM_API); /* URLs expire */
		out = outputs_at(tk, K_OUTPUT + sl->index);
	}
	if (rc == 0 && !out)
		rc = -ENOENT;
	if (rc == 0 && !(*url = strdup(out->url)))
		rc = -ENOMEM;
	pthread_mutex_unlock(&tk->p->mu);
	tree_settle(tk->p->t); /* a task gone (404) leaves the registry */
	return rc;
}

/* media's word that the server's copy of an output changed: its size is
 * new, and the kernel's cached attributes and pages of it must go. */
static void slot_changed(void *ctx)
{
	struct tslot *sl = ctx;
	struct tree *t = sl->tk->p->t;
	if (t->notify)
		t->notify(t->notify_ctx, tree_task_ino(sl->tk, K_OUTPUT + sl->index));
}

/* Makes the size of output k known. Caller holds p->mu; it is released while
 * the download server is asked, one probe per output at a time. */
int outputs_size(struct task *tk, unsigned k, int flags)
{
	struct tprov *p = tk->p;
	struct aifs_err err;
	struct media_out *mo = NULL;
	size_t klen;

	if (k < K_OUTPUT || !outputs_at(tk, k))
		return 0;
	struct tslot *sl = tk->slots[k - K_OUTPUT];
	if (sl->out)
		return 0;
	if (flags & TREE_NOWAIT)
		return -EWOULDBLOCK;
	int rc;
	if (fresh_join(p, &sl->probe, api_deadline(p->api) * 2, &rc))
		return rc ? rc : sl->out ? 0 : -EIO;
	char *key = slot_key(sl, &klen);
	if (!key) {
		fresh_land(p, &sl->probe, -ENOMEM);
		return -ENOMEM;
	}
	struct media_src src = { slot_url, slot_changed, sl };
	pthread_mutex_unlock(&p->mu);
	rc = media_probe(p->t->media, key, klen, &src, &mo, &err);
	pthread_mutex_lock(&p->mu);
	if (rc == 0) {
		sl->out = mo;
	} else {
		log_msg(LOGL_WARN, "%s: size of %s: %s (%s)", p->pc->name, sl->name, err.msg,
			aifs_errno_name(rc));
	}
	fresh_land(p, &sl->probe, rc);
	free(key);
	return rc;
}

/* Opens output sl (its size known) for reading into f. Caller holds no
 * tree lock: this is the cache's disk work. */
int outputs_open(struct tslot *sl, struct tree_file *f)
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

void outputs_forget(struct task *tk)
{
	for (unsigned i = 0; i < tk->n_slots; i++) {
		size_t klen;
		char *key = slot_key(tk->slots[i], &klen);
		if (key)
			media_forget(tk->p->t->media, key, klen);
		free(key);
	}
}

int outputs_keep(struct tslot *sl)
{
	struct media *m = sl->tk->p->t->media;
	struct media_file *mf = NULL;
	size_t klen;
	char *key = slot_key(sl, &klen);
	if (!key)
		return -ENOMEM;
	struct media_src src = { slot_url, slot_changed, sl };
	int rc = media_open(m, key, klen, sl->out, &src, &mf);
	if (rc == 0)
		rc = media_fetch_all(mf);
	if (rc == 0) /* while open: a closed entry may be evicted before it is pinned */
		rc = media_pin(m, key, klen);
	media_close(mf);
	free(key);
	return rc;
}

/* tree.c: the directory model: providers, their tasks and each task's
 * files, as inode numbers, attributes and directory listings; the public
 * tree_* calls. When the API is asked is fresh.c's to decide, how much
 * metadata stays whole slim.c's, and output files are outputs.c's.
 *
 * Each provider has one mutex guarding its tasks and its listing; network
 * calls are made with it released. Task structs live as long as the mount,
 * so their inode numbers and names stay valid; their task_info is swapped
 * whole. Knows no FUSE, no curl and no JSON. */
#include <errno.h>
#include <fcntl.h>
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
#include "aifs/registry.h"
#include "aifs/strmap.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "tree_int.h"

static const char *const fixed_names[] = { NULL, "status", "meta.json", "error" };

/* ---- inode numbers ---- */

uint64_t tree_task_ino(const struct task *tk, unsigned k)
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

struct tprov *tree_prov_dir(struct tree *t, uint64_t ino)
{
	return ino >= 2 && ino < 2 + t->n_provs ? &t->provs[ino - 2] : NULL;
}

static struct tprov *prov_dir(struct tree *t, uint64_t ino)
{
	return tree_prov_dir(t, ino);
}

struct tprov *tree_label_prov(struct tree *t, uint64_t ino)
{
	uint64_t p = ino >> INO_PROV_SHIFT;
	if (p < 1 || p > t->n_provs || !(ino & INO_LABEL_BIT))
		return NULL;
	return &t->provs[p - 1];
}

/* The provider whose .new this is, or NULL. */
static struct tprov *new_dir(struct tree *t, uint64_t ino)
{
	struct tprov *p = tree_label_prov(t, ino);
	return p && (ino & ((INO_LABEL_BIT << 1) - 1)) == INO_LABEL_BIT ? p : NULL;
}

bool tree_names_change(struct tree *t, uint64_t dir)
{
	return new_dir(t, dir) != NULL;
}

static uint64_t new_ino(const struct tprov *p)
{
	return ((uint64_t)(p->idx + 1) << INO_PROV_SHIFT) | INO_LABEL_BIT;
}

/* The task of a task inode and its k, or NULL. Takes no lock: the task
 * array only grows, and is read under the provider's lock by callers. */
static struct task *ino_task(struct tree *t, uint64_t ino, unsigned *k)
{
	uint64_t pi = ino >> INO_PROV_SHIFT;
	uint64_t ti = (ino & ((1ULL << INO_PROV_SHIFT) - 1)) >> INO_TASK_SHIFT;
	if (pi < 1 || pi > t->n_provs || ti < 1 || (ino & INO_LABEL_BIT))
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

/* ---- tasks ---- */

/* Finds or makes the task for id. Caller holds p->mu. NULL on ENOMEM. */
struct task *tree_task_get(struct tprov *p, const char *id, size_t len)
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
	if (tk->name && strcmp(tk->name, tk->id) == 0) {
		free(tk->name); /* most ids need no escape: one copy fewer a task */
		tk->name = tk->id;
	}
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
		if (tk->name != tk->id)
			free(tk->name);
		free(tk->id);
	}
	free(tk);
	return NULL;
}

static void task_free(struct task *tk)
{
	task_info_unref(tk->info);
	for (unsigned i = 0; i < tk->n_slots; i++) {
		media_out_free(tk->slots[i]->out);
		free(tk->slots[i]);
	}
	free(tk->slots);
	if (tk->name != tk->id)
		free(tk->name);
	free(tk->id);
	free(tk);
}


/* Takes ti (one reference) into tk when it is the newer description.
 * Caller holds p->mu. */
void tree_task_take(struct task *tk, struct task_info *ti, bool from_get, double now)
{
	struct task_info *old = tk->info;
	bool keep = false;

	if (!ti->mtime)
		ti->mtime = tk->first_seen; /* SPEC: never 1970 */
	if (ti->status == TASK_SUCCEEDED)
		archive_note(tk);
	if (old && !from_get && !old->slim) {
		/* a list item never undoes a finished state, nor replaces the
		 * richer single-task answer when nothing has changed */
		if (task_status_finished(old->status) && ti->mtime <= old->mtime)
			keep = true;
		else if (tk->info_from_get && ti->status == old->status && ti->mtime <= old->mtime)
			keep = true;
	} else if (old && !from_get && task_status_finished(old->status) &&
		   ti->status == old->status && ti->mtime <= old->mtime) {
		/* slimmed and unchanged: taking the item whole would push another
		 * task out past meta_max, so every relisting would churn them all */
		keep = true;
	}
	tk->fetched_at = now;
	tk->neg_until = tk->bad_until = 0;
	if (keep) {
		task_info_unref(ti);
		return;
	}
	for (size_t i = 0; i < ti->n_outputs; i++)
		outputs_slot(tk, ti->outputs[i].name);
	tk->info = ti;
	tk->info_from_get = from_get;
	task_info_unref(old);
	slim_touch(tk);
	if (task_status_finished(ti->status))
		wait_kick(tk); /* its readers of .wait need not wait for their round */
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


/* Attributes of file k of a fresh task. Caller holds p->mu. */
static int file_attr(const struct task *tk, unsigned k, struct tree_attr *a)
{
	const struct task_info *ti = tk->info;
	uint64_t size;

	switch (k) {
	case K_DIR:
		dir_attr(a, tree_task_ino(tk, K_DIR), 0555, ti->mtime, task_timeout(tk));
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
	case K_WAIT:
		*a = (struct tree_attr){ .ino = tree_task_ino(tk, k), .mode = S_IFREG | 0444,
					 .nlink = 1, .mtime = ti->mtime };
		return 0; /* no size: reading it waits, then says the status */
	default:
		if (!outputs_at(tk, k) || !tk->slots[k - K_OUTPUT]->out)
			return -ENOENT;
		size = media_out_size(tk->slots[k - K_OUTPUT]->out);
		break;
	}
	*a = (struct tree_attr){ .ino = tree_task_ino(tk, k), .mode = S_IFREG | 0444, .nlink = 1,
				 .size = size, .mtime = ti->mtime, .timeout = task_timeout(tk) };
	return 0;
}

static int task_file_index(const struct task *tk, const char *name)
{
	for (unsigned k = K_STATUS; k <= K_ERROR; k++)
		if (!strcmp(name, fixed_names[k]))
			return (int)k;
	if (!strcmp(name, ".wait"))
		return K_WAIT; /* SPEC: answers to the name, never listed */
	for (unsigned i = 0; i < tk->n_slots; i++)
		if (!strcmp(name, tk->slots[i]->name))
			return (int)(K_OUTPUT + i);
	return -1;
}

/* ---- the public calls ---- */

static int lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		  struct tree_attr *out);

int tree_lookup(struct tree *t, uint64_t parent, const char *name, int flags,
		struct tree_attr *out)
{
	int rc = lookup(t, parent, name, flags, out);
	tree_settle(t);
	slim_trim(t);
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
		return stats_lookup(t, parent, name, out); /* .aifs, or none */
	}
	if (stats_ino(parent))
		return stats_lookup(t, parent, name, out);
	if ((p = prov_dir(t, parent)) && !strcmp(name, ".new")) {
		pthread_mutex_lock(&p->mu);
		rc = labels_attr(p, new_ino(p), out);
		pthread_mutex_unlock(&p->mu);
		return rc;
	}
	if ((p = new_dir(t, parent))) {
		pthread_mutex_lock(&p->mu);
		rc = labels_lookup(p, name, out);
		pthread_mutex_unlock(&p->mu);
		return rc;
	}
	if ((p = prov_dir(t, parent))) {
		size_t len;
		char *id = idenc_decode(name, &len);
		if (!id)
			return -ENOENT; /* ".git", ".Trash": never a task, never an API call */
		pthread_mutex_lock(&p->mu);
		fresh_hup(p);
		tk = strmap_get(&p->byid, id, len);
		if (!tk && (flags & TREE_NOWAIT)) {
			rc = -EWOULDBLOCK;
		} else if (!tk && !(tk = tree_task_get(p, id, len))) {
			rc = -ENOMEM;
		} else {
			rc = fresh_task(tk, flags);
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
	rc = fresh_task(tk, flags);
	if (rc == 0) {
		int fk = task_file_index(tk, name);
		rc = fk < 0 ? -ENOENT : outputs_size(tk, (unsigned)fk, flags);
		if (rc == 0)
			rc = file_attr(tk, (unsigned)fk, out);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int getattr_(struct tree *t, uint64_t ino, int flags, struct tree_attr *out)
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
	if (stats_ino(ino))
		return stats_getattr(t, ino, out);
	struct tprov *lp = tree_label_prov(t, ino);
	if (lp) {
		pthread_mutex_lock(&lp->mu);
		rc = labels_attr(lp, ino, out);
		pthread_mutex_unlock(&lp->mu);
		return rc;
	}
	if (!(tk = ino_task(t, ino, &k)))
		return -ENOENT;
	pthread_mutex_lock(&tk->p->mu);
	rc = fresh_task(tk, flags);
	if (rc == 0)
		rc = outputs_size(tk, k, flags);
	if (rc == 0)
		rc = file_attr(tk, k, out);
	pthread_mutex_unlock(&tk->p->mu);
	return rc;
}

int tree_getattr(struct tree *t, uint64_t ino, int flags, struct tree_attr *out)
{
	int rc = getattr_(t, ino, flags, out);
	tree_settle(t);
	return rc;
}

static int mkdir_(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	struct tprov *p = prov_dir(t, parent);
	struct task *tk;
	size_t len;
	int rc;

	if (!p)
		return new_dir(t, parent) ? -EINVAL : -EPERM; /* SPEC: only LABEL.json in .new */
	char *id = idenc_decode(name, &len);
	if (!id)
		return -EINVAL;
	pthread_mutex_lock(&p->mu);
	tk = strmap_get(&p->byid, id, len);
	if (tk && tk->info && (tk->known || tk->in_listing)) {
		rc = -EEXIST;
	} else if (!tk && !(tk = tree_task_get(p, id, len))) {
		rc = -ENOMEM;
	} else {
		tk->fetched_at = 0; /* ask the API: the id must exist now */
		tk->neg_until = 0;
		rc = fresh_task(tk, 0);
		if (rc == 0 && !tk->name)
			rc = -ENAMETOOLONG;
		if (rc == 0) {
			tree_task_known(tk, true);
			rc = file_attr(tk, K_DIR, out);
		}
	}
	pthread_mutex_unlock(&p->mu);
	free(id);
	return rc;
}

int tree_mkdir(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	int rc = mkdir_(t, parent, name, out);
	tree_settle(t);
	return rc;
}


int tree_dir_add(struct tree_dir *d, size_t *cap, const char *name, uint64_t ino, unsigned mode)
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

int tree_dir_add_copy(struct tree_dir *d, size_t *cap, const char *name, uint64_t ino,
		      unsigned mode)
{
	char **o = realloc(d->owned, (d->n_owned + 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	d->owned = o;
	if (!(o[d->n_owned] = strdup(name)))
		return -ENOMEM;
	return tree_dir_add(d, cap, o[d->n_owned++], ino, mode);
}

static int opendir_(struct tree *t, uint64_t ino, int flags, struct tree_dir **out)
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
			rc = tree_dir_add(d, &cap, t->provs[i].pc->name, 2 + i, S_IFDIR);
		if (!rc)
			rc = stats_readdir(ino, d, &cap);
	} else if (stats_ino(ino)) {
		rc = stats_readdir(ino, d, &cap);
	} else if ((p = new_dir(t, ino))) {
		pthread_mutex_lock(&p->mu);
		rc = labels_readdir(p, d, &cap);
		pthread_mutex_unlock(&p->mu);
	} else if ((p = prov_dir(t, ino))) {
		pthread_mutex_lock(&p->mu);
		rc = fresh_listing(p, flags);
		if (!rc)
			rc = tree_dir_add(d, &cap, ".new", new_ino(p), S_IFDIR);
		for (size_t i = 0; i < p->n_tasks && !rc; i++) {
			tk = p->tasks[i];
			if (tk->name && (tk->in_listing || tk->known) && tk->neg_until <= tree_now())
				rc = tree_dir_add(d, &cap, tk->name, tree_task_ino(tk, K_DIR), S_IFDIR);
		}
		pthread_mutex_unlock(&p->mu);
	} else if ((tk = ino_task(t, ino, &k)) && k == K_DIR) {
		pthread_mutex_lock(&tk->p->mu);
		rc = fresh_task(tk, flags);
		for (unsigned f = K_STATUS; f < K_OUTPUT + TASK_MAX_OUTPUTS && !rc; f++) {
			if (f >= K_OUTPUT && f - K_OUTPUT >= tk->n_slots)
				break;
			if (f == K_WAIT)
				continue; /* SPEC: .wait answers to its name, and is never listed */
			const char *name = f < K_OUTPUT ? fixed_names[f] : tk->slots[f - K_OUTPUT]->name;
			if (f == K_ERROR && !tk->info->error_len)
				continue;
			if (f >= K_OUTPUT && !outputs_at(tk, f))
				continue;
			rc = tree_dir_add(d, &cap, name, tree_task_ino(tk, f), S_IFREG);
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

int tree_opendir(struct tree *t, uint64_t ino, int flags, struct tree_dir **out)
{
	int rc = opendir_(t, ino, flags, out);
	tree_settle(t);
	return rc;
}

void tree_dir_free(struct tree_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_owned; i++)
		free(d->owned[i]);
	free(d->owned);
	free(d->ents);
	free(d);
}

int tree_open(struct tree *t, uint64_t ino, int flags, int oflags, struct tree_file **out,
	      bool *keep_cache, bool *direct)
{
	struct tslot *output = NULL;
	struct task *tk;
	struct tprov *lp;
	unsigned k;
	int rc;

	if (ino == TREE_ROOT_INO || prov_dir(t, ino) || new_dir(t, ino))
		return -EISDIR;
	struct tree_file *f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	atomic_init(&f->refs, 1);
	if (stats_ino(ino)) {
		*keep_cache = false;
		*direct = true; /* rendered at each open: the size changes */
		rc = stats_open(t, ino, oflags, f);
		goto done;
	}
	if ((lp = tree_label_prov(t, ino))) {
		*keep_cache = false;
		pthread_mutex_lock(&lp->mu);
		rc = labels_open(lp, ino, oflags, f, direct);
		pthread_mutex_unlock(&lp->mu);
		goto done;
	}
	if (!(tk = ino_task(t, ino, &k)) || k == K_DIR) {
		free(f);
		return tk ? -EISDIR : -ENOENT;
	}
	if ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC)) {
		free(f);
		return -EACCES; /* SPEC: a 0444 file opened for writing */
	}
	pthread_mutex_lock(&tk->p->mu);
	rc = fresh_task(tk, flags);
	if (rc == 0 && tk->info->slim && (k == K_META || k == K_ERROR))
		rc = fresh_task(tk, flags | RENEW); /* the text was dropped: ask again */
	if (rc == 0) {
		struct task_info *ti = tk->info;
		slim_touch(tk);
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
		case K_WAIT:
			f->wait = tk;
			break;
		default:
			rc = outputs_size(tk, k, flags);
			if (rc == 0 && !outputs_at(tk, k))
				rc = -ENOENT;
			if (rc == 0)
				output = tk->slots[k - K_OUTPUT]; /* slots live as long as the tree */
			break;
		}
		if (rc == 0) {
			f->info = task_info_ref(tk->info);
			/* outputs never change (a replaced one is told); the rest only once finished */
			*keep_cache = output || (task_status_finished(tk->info->status) && !f->wait);
			*direct = !*keep_cache;
		}
	}
	pthread_mutex_unlock(&tk->p->mu);
	if (rc == 0 && output)
		rc = outputs_open(output, f); /* the cache's disk work, without the lock */
done:
	tree_settle(t);
	if (rc) {
		task_info_unref(f->info);
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

bool tree_file_is_wait(const struct tree_file *f)
{
	return f->wait != NULL;
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
	int rc = media_read_fd(f->media, &f->cur, size, off, fd, len);
	if (rc == 0) /* the file may be released before the bytes are sent */
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return rc;
}

static void file_unref(struct tree_file *f)
{
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	task_info_unref(f->info);
	media_close(f->media);
	free(f->w);
	free(f->own);
	free(f);
}

void tree_read_fd_done(struct tree_file *f)
{
	media_read_fd_done(f->media);
	file_unref(f);
}

void tree_release(struct tree_file *f)
{
	if (f)
		file_unref(f);
}

/* ---- setup ---- */


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
	pthread_mutex_init(&t->arch_mu, NULL);
	pthread_cond_init(&t->arch_cv, NULL);
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
		p->acct = provs[i].acct;
		p->can_list = pc->list != LIST_NO;
		p->hup_seen = atomic_load(hup);
		pthread_mutex_init(&p->mu, NULL);
		pthread_mutex_init(&p->reg_mu, NULL);
		pthread_cond_init(&p->cv, NULL);
		strmap_init(&p->byid);
		t->n_provs++;
		pthread_cond_init(&p->wait_cv, NULL);
		int rc = registry_load(p->reg, known_load, p);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc)
			log_msg(LOGL_WARN, "%s: cannot read the known ids: %s", pc->name,
				strerror(-rc));
		rc = archive_load(p, conf->cache_dir);
		if (rc == -ENOMEM)
			goto nomem;
		rc = labels_load(p, conf->cache_dir);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc)
			log_msg(LOGL_WARN, "%s: cannot read the labels of .new: %s", pc->name,
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
		free(p->reg_adds);
		free(p->cl_ids[0]);
		free(p->cl_ids[1]);
		labels_free(p);
		free(p->arch_dir);
		pthread_cond_destroy(&p->wait_cv);
		strmap_free(&p->byid);
		pthread_mutex_destroy(&p->mu);
		pthread_mutex_destroy(&p->reg_mu);
		pthread_cond_destroy(&p->cv);
	}
	free(t->provs);
	pthread_mutex_destroy(&t->lru_mu);
	pthread_mutex_destroy(&t->arch_mu);
	pthread_cond_destroy(&t->arch_cv);
	free(t->arch_q);
	free(t);
}

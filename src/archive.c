/* archive.c: keeping what was paid for (SPEC: "Keeping outputs: the
 * archive"). With archive = yes, every succeeded task the tree learns of is
 * queued; two threads per mount download its outputs into the cache (a job
 * at a time, so readers come first), pin them out of the cache's cap, and
 * write the task's record (status, meta.json, error, outputs) under
 * CACHE_DIR/archive/PROVIDER crash-safely. At start the records make their
 * tasks again, listed and readable without the API; a task the API forgets
 * stays. Archiving pauses while the cache's file system has less than
 * archive_min_free free. Knows no FUSE, no curl and no JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "aifs/arec.h"
#include "aifs/bcmap.h"
#include "aifs/config.h"
#include "aifs/log.h"
#include "aifs/media.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "tree_int.h"

#define ARCHIVERS 2          /* SPEC: at most 2 downloads at a time per mount */
#define PAUSE_LOOK 2.0       /* seconds between looks at the free space */
#define RETRY_AFTER 30.0     /* seconds before a failed task is tried again */

/* The record's file name: the id's hash, so that any id makes a name. */
static char *rec_path(const struct tprov *p, const char *id, size_t len, bool tmp)
{
	char *path = NULL;
	uint64_t h = bcmap_hash(id, len);
	if (asprintf(&path, "%s/%s%016" PRIx64 "%s", p->arch_dir, tmp ? "." : "", h,
		     tmp ? ".tmp" : ".rec") < 0)
		return NULL;
	return path;
}

static int mkdirs(char *path)
{
	for (char *q = path + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		mkdir(path, 0700);
		*q = '/';
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/* Writes buf as path: a temporary file, fsync, rename, directory fsync. */
static int write_safely(const struct tprov *p, const char *path, const char *tmp, const char *buf,
			size_t len)
{
	int fd, rc = 0;
	char *dir = strdup(p->arch_dir);
	if (!dir || (rc = mkdirs(dir))) {
		free(dir);
		return rc ? rc : -ENOMEM;
	}
	free(dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && !rc;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno != EINTR)
			rc = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	int dfd = open(p->arch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---- the queue ---- */

/* Queues tk to be archived from at on. Caller holds tk's provider's mu. */
static void enqueue(struct task *tk, double at)
{
	struct tree *t = tk->p->t;
	pthread_mutex_lock(&t->arch_mu);
	if (t->arch_n == t->arch_cap) {
		size_t cap = t->arch_cap ? 2 * t->arch_cap : 64;
		struct arch_item *q = realloc(t->arch_q, cap * sizeof *q);
		if (!q) {
			pthread_mutex_unlock(&t->arch_mu);
			return; /* the next listing or get notes it again */
		}
		t->arch_q = q;
		t->arch_cap = cap;
	}
	t->arch_q[t->arch_n++] = (struct arch_item){ tk, at };
	tk->arch_queued = true;
	pthread_cond_signal(&t->arch_cv);
	pthread_mutex_unlock(&t->arch_mu);
}

void archive_note(struct task *tk)
{
	struct tprov *p = tk->p;
	if (!p->pc->archive || tk->archived || tk->arch_queued || !p->t->arch_running)
		return;
	enqueue(tk, 0);
}

/* Waits secs, or less when the mount is stopping: false then. */
static bool arch_nap(struct tree *t, double secs)
{
	struct timespec until;
	tree_deadline(&until, secs);
	pthread_mutex_lock(&t->arch_mu);
	if (!t->arch_stop)
		pthread_cond_timedwait(&t->arch_cv, &t->arch_mu, &until);
	bool go_on = !t->arch_stop;
	pthread_mutex_unlock(&t->arch_mu);
	return go_on;
}

/* SPEC: archiving pauses while the cache's file system has less than
 * archive_min_free free, and says so once. */
static bool room(struct tprov *p)
{
	struct tree *t = p->t;
	struct statvfs sv;
	if (statvfs(t->conf->cache_dir, &sv) < 0)
		return true;
	uint64_t free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	bool ok = free_bytes >= p->pc->archive_min_free;
	pthread_mutex_lock(&t->arch_mu);
	bool was_paused = t->arch_paused;
	t->arch_paused = !ok;
	pthread_mutex_unlock(&t->arch_mu);
	if (!ok && !was_paused)
		log_msg(LOGL_WARN,
			"archiving paused: %" PRIu64 " MiB free in %s, archive_min_free is %" PRIu64
			" MiB",
			free_bytes >> 20, t->conf->cache_dir, p->pc->archive_min_free >> 20);
	else if (ok && was_paused)
		log_msg(LOGL_INFO, "archiving resumed: %" PRIu64 " MiB free", free_bytes >> 20);
	return ok;
}

/* ---- one task ---- */

/* The record of tk as it is now. Caller holds p->mu. */
static int snapshot(struct task *tk, struct arec *r)
{
	const struct task_info *ti = tk->info;
	memset(r, 0, sizeof *r);
	size_t stl = ti->status_len && ti->status_text[ti->status_len - 1] == '\n'
			     ? ti->status_len - 1
			     : ti->status_len;
	if (!(r->provider = strdup(tk->p->pc->name)) || !(r->id = malloc(tk->id_len + 1)) ||
	    !(r->status = strndup(ti->status_text, stl)))
		return -ENOMEM;
	memcpy(r->id, tk->id, tk->id_len + 1);
	r->id_len = tk->id_len;
	r->mtime = ti->mtime;
	if (ti->meta_len && !(r->meta = malloc(ti->meta_len)))
		return -ENOMEM;
	if (ti->meta_len)
		memcpy(r->meta, ti->meta, ti->meta_len);
	r->meta_len = ti->meta_len;
	if (ti->error_len && !(r->error = malloc(ti->error_len)))
		return -ENOMEM;
	if (ti->error_len)
		memcpy(r->error, ti->error, ti->error_len);
	r->error_len = ti->error_len;
	r->outputs = calloc(tk->n_slots ? tk->n_slots : 1, sizeof *r->outputs);
	if (!r->outputs)
		return -ENOMEM;
	for (unsigned i = 0; i < tk->n_slots; i++) {
		const struct tslot *sl = tk->slots[i];
		if (!outputs_at(tk, K_OUTPUT + i) || !sl->out)
			continue;
		if (!(r->outputs[r->n_outputs].name = strdup(sl->name)))
			return -ENOMEM;
		r->outputs[r->n_outputs++].size = media_out_size(sl->out);
	}
	return 0;
}

static int archive_task(struct task *tk)
{
	struct tprov *p = tk->p;
	struct tslot *slots[TASK_MAX_OUTPUTS];
	unsigned n = 0;
	struct arec r;
	int rc;

	pthread_mutex_lock(&p->mu);
	rc = fresh_task(tk, 0); /* a finished task is not asked again */
	if (rc == 0 && (!tk->info || tk->info->status != TASK_SUCCEEDED))
		rc = -EINVAL;
	for (unsigned i = 0; rc == 0 && i < tk->n_slots; i++) {
		if (!outputs_at(tk, K_OUTPUT + i))
			continue;
		rc = outputs_size(tk, K_OUTPUT + i, 0);
		slots[n++] = tk->slots[i];
	}
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		while (!room(p))
			if (!arch_nap(p->t, PAUSE_LOOK))
				return -ECANCELED;
		rc = outputs_keep(slots[i]);
	}
	if (rc)
		return rc;
	pthread_mutex_lock(&p->mu);
	rc = snapshot(tk, &r);
	pthread_mutex_unlock(&p->mu);
	char *buf = NULL, *path = rec_path(p, tk->id, tk->id_len, false),
	     *tmp = rec_path(p, tk->id, tk->id_len, true);
	size_t len;
	if (rc == 0 && (!path || !tmp))
		rc = -ENOMEM;
	if (rc == 0)
		rc = arec_encode(&r, &buf, &len);
	if (rc == 0)
		rc = write_safely(p, path, tmp, buf, len);
	arec_clear(&r);
	free(buf);
	free(path);
	free(tmp);
	if (rc)
		return rc;
	pthread_mutex_lock(&p->mu);
	tk->archived = true;
	tree_task_known(tk, true); /* listed across remounts, whatever the API says */
	pthread_mutex_unlock(&p->mu);
	tree_settle(p->t);
	log_msg(LOGL_INFO, "%s: archived %s (%u output(s))", p->pc->name, tk->id, n);
	return 0;
}

/* The first item due now, taken off the queue; NULL with *wait the
 * seconds until one is (0: none queued). Caller holds t->arch_mu. */
static struct task *take_due(struct tree *t, double *wait)
{
	double now = tree_now();
	*wait = 0;
	for (size_t i = 0; i < t->arch_n; i++) {
		if (t->arch_q[i].at <= now) {
			struct task *tk = t->arch_q[i].tk;
			memmove(t->arch_q + i, t->arch_q + i + 1, (t->arch_n - i - 1) * sizeof *t->arch_q);
			t->arch_n--;
			return tk;
		}
		if (*wait == 0 || t->arch_q[i].at - now < *wait)
			*wait = t->arch_q[i].at - now;
	}
	return NULL;
}

static void *archiver(void *arg)
{
	struct tree *t = arg;
	struct timespec until;
	double wait;

	pthread_mutex_lock(&t->arch_mu);
	while (!t->arch_stop) {
		struct task *tk = take_due(t, &wait);
		if (!tk) {
			if (wait > 0) {
				tree_deadline(&until, wait + 1);
				pthread_cond_timedwait(&t->arch_cv, &t->arch_mu, &until);
			} else {
				pthread_cond_wait(&t->arch_cv, &t->arch_mu);
			}
			continue;
		}
		pthread_mutex_unlock(&t->arch_mu);
		int rc = archive_task(tk);
		pthread_mutex_lock(&t->arch_mu);
		bool stopping = t->arch_stop;
		pthread_mutex_unlock(&t->arch_mu);
		pthread_mutex_lock(&tk->p->mu);
		tk->arch_queued = false;
		if (rc && rc != -ECANCELED && rc != -EINVAL && !stopping) {
			log_msg(LOGL_WARN, "%s: cannot archive %s yet: %s; trying again in %.0f s",
				tk->p->pc->name, tk->id, strerror(-rc), RETRY_AFTER);
			enqueue(tk, tree_now() + RETRY_AFTER);
		}
		pthread_mutex_unlock(&tk->p->mu);
		pthread_mutex_lock(&t->arch_mu);
	}
	pthread_mutex_unlock(&t->arch_mu);
	return NULL;
}

int archive_start(struct tree *t)
{
	bool any = false;
	for (size_t i = 0; i < t->n_provs; i++)
		any |= t->provs[i].pc->archive;
	if (!any || t->arch_running)
		return 0;
	for (int i = 0; i < ARCHIVERS; i++) {
		int rc = pthread_create(&t->arch_threads[i], NULL, archiver, t);
		if (rc)
			return -rc;
		t->n_arch_threads++;
	}
	t->arch_running = true;
	/* what is known already (records, a listing) is queued now */
	for (size_t i = 0; i < t->n_provs; i++) {
		struct tprov *p = &t->provs[i];
		pthread_mutex_lock(&p->mu);
		for (size_t j = 0; j < p->n_tasks; j++)
			if (p->tasks[j]->info && p->tasks[j]->info->status == TASK_SUCCEEDED)
				archive_note(p->tasks[j]);
		pthread_mutex_unlock(&p->mu);
	}
	return 0;
}

void archive_stop(struct tree *t)
{
	pthread_mutex_lock(&t->arch_mu);
	t->arch_stop = true;
	pthread_cond_broadcast(&t->arch_cv);
	pthread_mutex_unlock(&t->arch_mu);
	for (int i = 0; i < t->n_arch_threads; i++)
		pthread_join(t->arch_threads[i], NULL);
	t->n_arch_threads = 0;
	t->arch_running = false;
}

/* ---- at start, and deleting ---- */

/* A task made again from its record: listed, finished, never asked about. */
static int revive(struct tprov *p, struct arec *r)
{
	struct task *tk = tree_task_get(p, r->id, r->id_len);
	struct task_info *ti = task_info_new(r->id);
	int rc = tk && ti ? 0 : -ENOMEM;
	if (rc == 0)
		rc = task_info_set_status(ti, task_status_parse(r->status), r->status);
	if (rc == 0 && ti->status != TASK_SUCCEEDED)
		rc = -EINVAL;
	if (rc == 0) {
		ti->mtime = r->mtime;
		ti->meta = r->meta;
		ti->meta_len = r->meta_len;
		r->meta = NULL;
		ti->error = r->error;
		ti->error_len = r->error_len;
		r->error = NULL;
	}
	for (size_t i = 0; rc == 0 && i < r->n_outputs; i++)
		rc = task_info_add_kept(ti, r->outputs[i].name);
	if (rc) {
		task_info_unref(ti);
		return rc;
	}
	tk->archived = true;
	tk->known = true;
	tree_task_take(tk, ti, true, tree_now());
	return 0;
}

int archive_load(struct tprov *p, const char *cache_dir)
{
	if (asprintf(&p->arch_dir, "%s/archive/%s", cache_dir, p->pc->name) < 0) {
		p->arch_dir = NULL;
		return -ENOMEM;
	}
	DIR *d = opendir(p->arch_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int rc = 0;
	for (struct dirent *de; rc != -ENOMEM && (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".rec") || de->d_name[0] == '.')
			continue;
		char *path = NULL, *buf = NULL, why[128] = "cannot read it";
		struct arec r;
		struct stat st;
		int fd = -1, ok = 0;
		if (asprintf(&path, "%s/%s", p->arch_dir, de->d_name) >= 0 &&
		    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0 && fstat(fd, &st) == 0 &&
		    S_ISREG(st.st_mode) && st.st_size < (off_t)(16u << 20) &&
		    (buf = malloc((size_t)st.st_size + 1)) &&
		    pread(fd, buf, (size_t)st.st_size, 0) == st.st_size &&
		    arec_decode(buf, (size_t)st.st_size, &r, why, sizeof why) == 0) {
			ok = 1;
			if (!r.provider || strcmp(r.provider, p->pc->name) || (rc = revive(p, &r))) {
				snprintf(why, sizeof why, "%s",
					 rc == -ENOMEM ? "out of memory" : "not a record of this provider");
				ok = 0;
			}
			arec_clear(&r);
		}
		if (!ok) /* SPEC: a torn or corrupt entry is ignored with one log line */
			log_msg(LOGL_WARN, "%s: archive record %s: %s; skipped", p->pc->name,
				de->d_name, why);
		if (fd >= 0)
			close(fd);
		free(buf);
		free(path);
	}
	closedir(d);
	return rc == -ENOMEM ? rc : 0;
}

void archive_forget(struct task *tk)
{
	char *path = rec_path(tk->p, tk->id, tk->id_len, false);
	if (path && unlink(path) == 0)
		log_msg(LOGL_INFO, "%s: %s left the archive", tk->p->pc->name, tk->id);
	free(path);
}

/* test_tree: the tree's core (freshness, single flight, negative and
 * malformed-answer memos, list-or-get, the metadata cap, the known-ids
 * file) over fakes of the API and of media. The fakes replace api.o and
 * media.o at link time: this file defines every api_* and media_* the tree
 * calls, so the linker takes them from here, not from libaifs.a. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/media.h"
#include "aifs/provider.h"
#include "aifs/registry.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "t.h"

/* ---- the fake API: a table of tasks, counted calls, a delay ---- */

#define FAKE_MAX 64

struct api {
	pthread_mutex_t mu;
	struct { char id[32]; enum task_status st; int64_t mtime; } tasks[FAKE_MAX];
	int n;
	int get_rc;            /* answer every get with this when not 0 */
	enum aifs_retry get_retry;
	int gets, pages;       /* calls made */
	unsigned delay_ms;     /* each call takes this long */
	/* paged listings: newest (last added) first, page_size a page (0: one
	 * page of everything); insert_n tasks join at the head when page
	 * insert_at is answered; page 2 waits (at most 5 s) until page 3 has
	 * been answered when hold is set, and overlapped says it was */
	int page_size, insert_at, insert_n, inserted;
	bool hold, overlapped, page3_asked;
	pthread_cond_t cv;
};

static const struct provider_ops fake_ops = { .type = "fake", .n_listings = 1 };

const struct provider_ops *api_ops(const struct api *a)
{
	(void)a;
	return &fake_ops;
}

double api_deadline(const struct api *a)
{
	(void)a;
	return 5.0;
}

static void nap(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static struct task_info *fake_task(const char *id, enum task_status st, int64_t mtime)
{
	struct task_info *ti = task_info_new(id);
	task_info_set_status(ti, st, NULL);
	ti->mtime = mtime;
	ti->meta = strdup("{}\n");
	ti->meta_len = 3;
	return ti;
}

int api_get(struct api *a, const char *id, unsigned flags, struct task_info **out, double *age,
	    struct aifs_err *err)
{
	(void)flags;
	if (age)
		*age = 0;
	aifs_err_clear(err);
	pthread_mutex_lock(&a->mu);
	a->gets++;
	unsigned delay = a->delay_ms;
	int rc = a->get_rc;
	err->retry = a->get_retry;
	int found = -1;
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->tasks[i].id, id))
			found = i;
	if (!rc && found < 0)
		rc = -ENOENT;
	if (!rc)
		*out = fake_task(id, a->tasks[found].st, a->tasks[found].mtime);
	pthread_mutex_unlock(&a->mu);
	nap(delay);
	return rc ? aifs_err_set(err, rc, "fake") : 0;
}

int api_list_page(struct api *a, int listing, int page, unsigned flags, struct provider_page *out,
		  struct aifs_err *err)
{
	(void)flags;
	(void)listing;
	(void)err;
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&a->mu);
	a->pages++;
	if (page == 3) {
		a->page3_asked = true;
		pthread_cond_broadcast(&a->cv);
	}
	if (page == 2 && a->hold) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		while (!a->page3_asked)
			if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT)
				break;
		a->overlapped = a->page3_asked;
	}
	if (page == a->insert_at)
		for (int i = 0; i < a->insert_n && a->n < FAKE_MAX; i++) {
			snprintf(a->tasks[a->n].id, sizeof a->tasks[a->n].id, "new%d", a->inserted++);
			a->tasks[a->n].st = TASK_QUEUED;
			a->tasks[a->n].mtime = 2000;
			a->n++;
		}
	out->tasks = calloc(FAKE_MAX, sizeof *out->tasks);
	if (a->page_size <= 0) {
		for (int i = 0; page == 1 && i < a->n; i++)
			out->tasks[out->n_tasks++] =
				fake_task(a->tasks[i].id, a->tasks[i].st, a->tasks[i].mtime);
		out->last = true;
	} else {
		int ps = a->page_size;
		for (int r = (page - 1) * ps; r < page * ps && r < a->n; r++) {
			int i = a->n - 1 - r; /* the newest first */
			out->tasks[out->n_tasks++] =
				fake_task(a->tasks[i].id, a->tasks[i].st, a->tasks[i].mtime);
		}
		out->pages = (a->n + ps - 1) / ps;
		out->total = a->n;
		out->last = page >= out->pages;
	}
	pthread_mutex_unlock(&a->mu);
	return 0;
}

int api_create(struct api *a, const char *body, size_t len, char **id, bool *unknown,
	       struct aifs_err *err)
{
	(void)a, (void)body, (void)len, (void)id;
	*unknown = false;
	return aifs_err_set(err, -EOPNOTSUPP, "no creating here");
}

int api_delete(struct api *a, const char *id, struct aifs_err *err)
{
	(void)a, (void)id;
	return aifs_err_set(err, -EOPNOTSUPP, "no deleting here");
}

static void fake_add(struct api *a, const char *id, enum task_status st, int64_t mtime)
{
	pthread_mutex_lock(&a->mu);
	snprintf(a->tasks[a->n].id, sizeof a->tasks[a->n].id, "%s", id);
	a->tasks[a->n].st = st;
	a->tasks[a->n].mtime = mtime;
	a->n++;
	pthread_mutex_unlock(&a->mu);
}

/* ---- the fake media: outputs are not exercised here ---- */

struct media_out {
	uint64_t size;
};

int media_probe(struct media *m, const char *key, size_t key_len, const struct media_src *src,
		struct media_out **out, struct aifs_err *err)
{
	(void)m, (void)key, (void)key_len, (void)src;
	*out = NULL;
	return aifs_err_set(err, -EIO, "no media here");
}

void media_counts(struct media *m, struct media_counts *out)
{
	(void)m;
	memset(out, 0, sizeof *out);
}

void api_counts(const struct api *a, struct api_counts *out)
{
	(void)a;
	memset(out, 0, sizeof *out);
}

uint64_t media_out_size(const struct media_out *o)
{
	return o->size;
}

void media_out_free(struct media_out *o)
{
	free(o);
}

int media_open(struct media *m, const char *key, size_t key_len, struct media_out *o,
	       const struct media_src *src, struct media_file **out)
{
	(void)m, (void)key, (void)key_len, (void)o, (void)src, (void)out;
	return -EIO;
}

void media_close(struct media_file *f)
{
	(void)f;
}

void media_forget(struct media *m, const char *key, size_t key_len)
{
	(void)m, (void)key, (void)key_len;
}

int media_fetch_all(struct media_file *f)
{
	(void)f;
	return -EIO;
}

int media_pin(struct media *m, const char *key, size_t key_len)
{
	(void)m, (void)key, (void)key_len;
	return -EIO;
}

int media_read_fd(struct media_file *f, struct media_cursor *cur, size_t size, off_t off, int *fd,
		  size_t *len)
{
	(void)f, (void)cur, (void)size, (void)off, (void)fd, (void)len;
	return -EIO;
}

void media_read_fd_done(struct media_file *f)
{
	(void)f;
}

ssize_t media_read(struct media_file *f, struct media_cursor *cur, char *buf, size_t size,
		   off_t off)
{
	(void)f, (void)cur, (void)buf, (void)size, (void)off;
	return -EIO;
}

/* ---- a tree over one fake provider ---- */

struct fixture {
	struct aifs_conf conf;
	struct provider_conf pc;
	struct api api;
	struct registry *reg;
	struct tree *tree;
	atomic_uint hup;
	char dir[64];
};

static struct tree *fixture_new(struct fixture *fx, double ttl, size_t meta_max)
{
	memset(fx, 0, sizeof *fx);
	pthread_mutex_init(&fx->api.mu, NULL);
	pthread_cond_init(&fx->api.cv, NULL);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/aifs-test-tree-XXXXXX");
	if (!mkdtemp(fx->dir))
		return NULL;
	fx->pc.name = "p";
	fx->pc.type = "fake";
	fx->pc.list = LIST_YES;
	fx->pc.tun = (struct tunables){ .ttl = ttl, .qps = 100, .burst = 100, .retries = 0,
					.timeout = 5 };
	fx->conf.providers = &fx->pc;
	fx->conf.n_providers = 1;
	fx->conf.meta_max = meta_max;
	fx->reg = registry_new(fx->dir, "p");
	struct tree_provider tp = { &fx->pc, &fx->api, fx->reg, NULL };
	struct aifs_err err;
	fx->tree = tree_new(&fx->conf, &tp, 1, NULL, &fx->hup, &err);
	return fx->tree;
}

static void fixture_free(struct fixture *fx)
{
	char cmd[128];
	tree_free(fx->tree);
	registry_free(fx->reg);
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  cannot remove %s\n", fx->dir);
}

#define PROV_INO 2 /* the first provider's directory */

struct lookup_arg {
	struct tree *t;
	const char *name;
	int rc;
};

static void *lookup_thread(void *p)
{
	struct lookup_arg *la = p;
	struct tree_attr a;
	la->rc = tree_lookup(la->t, PROV_INO, la->name, 0, &a);
	return NULL;
}

TEST(concurrent_lookups_of_one_id_cost_one_get)
{
	struct fixture fx;
	CHECK(fixture_new(&fx, 10, 0));
	fake_add(&fx.api, "t1", TASK_RUNNING, 1000);
	fx.api.delay_ms = 100;
	pthread_t th[8];
	struct lookup_arg la[8];
	for (int i = 0; i < 8; i++) {
		la[i] = (struct lookup_arg){ fx.tree, "t1", -1 };
		pthread_create(&th[i], NULL, lookup_thread, &la[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	int gets = fx.api.gets;
	for (int i = 0; i < 8; i++)
		CHECK_INT(la[i].rc, 0);
	fixture_free(&fx);
	CHECK_INT(gets, 1);
}

TEST(a_fresh_task_costs_nothing_and_a_stale_one_a_get)
{
	struct fixture fx;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 0.2, 0));
	fake_add(&fx.api, "t1", TASK_RUNNING, 1000);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t1", 0, &a), 0);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t1", TREE_NOWAIT, &a), 0);
	CHECK_INT(fx.api.gets, 1);
	nap(250); /* past the TTL */
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t1", TREE_NOWAIT, &a), -EWOULDBLOCK);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t1", 0, &a), 0);
	CHECK_INT(fx.api.gets, 2);
	fixture_free(&fx);
}

TEST(a_finished_task_is_never_asked_again)
{
	struct fixture fx;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 0.01, 0));
	fake_add(&fx.api, "t1", TASK_SUCCEEDED, 1000);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t1", 0, &a), 0);
	nap(30);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t1", TREE_NOWAIT, &a), 0);
	CHECK_INT(tree_getattr(fx.tree, a.ino, TREE_NOWAIT, &a), 0);
	CHECK_INT(fx.api.gets, 1);
	fixture_free(&fx);
}

TEST(not_found_is_remembered_for_a_second)
{
	struct fixture fx;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 10, 0));
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "nope", 0, &a), -ENOENT);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "nope", TREE_NOWAIT, &a), -ENOENT);
	CHECK_INT(fx.api.gets, 1);
	fake_add(&fx.api, "nope", TASK_QUEUED, 1000);
	nap(1100);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "nope", 0, &a), 0);
	CHECK_INT(fx.api.gets, 2);
	fixture_free(&fx);
}

TEST(a_malformed_answer_is_remembered_for_a_second)
{
	struct fixture fx;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 10, 0));
	fake_add(&fx.api, "bad", TASK_RUNNING, 1000);
	fx.api.get_rc = -EIO;
	fx.api.get_retry = AIFS_RETRY_NO;
	for (int i = 0; i < 5; i++)
		CHECK_INT(tree_lookup(fx.tree, PROV_INO, "bad", 0, &a), -EIO);
	CHECK_INT(fx.api.gets, 1);
	fx.api.get_rc = 0;
	nap(1100);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "bad", 0, &a), 0);
	CHECK_INT(fx.api.gets, 2);
	fixture_free(&fx);
}

TEST(a_transient_failure_is_asked_again_at_once)
{
	struct fixture fx;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 10, 0));
	fake_add(&fx.api, "t", TASK_RUNNING, 1000);
	fx.api.get_rc = -EIO;
	fx.api.get_retry = AIFS_RETRY_TRANSIENT;
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t", 0, &a), -EIO);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t", 0, &a), -EIO);
	CHECK_INT(fx.api.gets, 2);
	fixture_free(&fx);
}

TEST(a_task_without_a_time_gets_the_time_it_was_first_seen)
{
	struct fixture fx;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 10, 0));
	fake_add(&fx.api, "t", TASK_RUNNING, 0);
	int64_t before = time(NULL);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "t", 0, &a), 0);
	CHECK(a.mtime >= before && a.mtime <= time(NULL));
	fixture_free(&fx);
}

TEST(a_listing_fills_every_task_and_refreshes_the_unfinished)
{
	struct fixture fx;
	struct tree_dir *d = NULL;
	struct tree_attr a;
	CHECK(fixture_new(&fx, 0.2, 0));
	for (int i = 0; i < 5; i++) {
		char id[8];
		snprintf(id, sizeof id, "r%d", i);
		fake_add(&fx.api, id, TASK_RUNNING, 1000);
	}
	CHECK_INT(tree_opendir(fx.tree, PROV_INO, 0, &d), 0);
	CHECK_INT(d->n, 6); /* and .new */
	tree_dir_free(d);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "r3", TREE_NOWAIT, &a), 0);
	CHECK_INT(fx.api.gets, 0);
	nap(250);
	/* 5 unfinished tasks from 1 page: one listing refreshes them all */
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "r3", 0, &a), 0);
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "r4", 0, &a), 0);
	CHECK_INT(fx.api.gets, 0);
	CHECK_INT(fx.api.pages, 2);
	fixture_free(&fx);
}

/* Each of the n_ids ids appears in d exactly once; returns how many did. */
static int count_once(const struct tree_dir *d, const struct api *a, int n_ids)
{
	int found = 0;
	for (int i = 0; i < n_ids; i++) {
		int seen = 0;
		for (size_t k = 0; k < d->n; k++)
			seen += strcmp(d->ents[k].name, a->tasks[i].id) == 0;
		if (seen != 1)
			fprintf(stderr, "  %s listed %d times\n", a->tasks[i].id, seen);
		found += seen == 1;
	}
	return found;
}

TEST(the_pages_after_the_first_are_asked_for_at_once)
{
	struct fixture fx;
	struct tree_dir *d = NULL;
	CHECK(fixture_new(&fx, 10, 0));
	for (int i = 0; i < 20; i++) {
		char id[8];
		snprintf(id, sizeof id, "t%02d", i);
		fake_add(&fx.api, id, TASK_SUCCEEDED, 1000);
	}
	fx.api.page_size = 3; /* 7 pages */
	fx.api.hold = true;
	CHECK_INT(tree_opendir(fx.tree, PROV_INO, 0, &d), 0);
	int once = count_once(d, &fx.api, 20);
	size_t n = d->n;
	tree_dir_free(d);
	int pages = fx.api.pages;
	bool overlapped = fx.api.overlapped;
	fixture_free(&fx);
	CHECK_INT(once, 20);
	CHECK_INT(n, 21); /* and .new */
	CHECK_INT(pages, 7); /* exactly ceil(20 / 3) */
	CHECK(overlapped);   /* page 3 was asked for while page 2 was in flight */
}

TEST(tasks_coming_in_at_the_head_meanwhile_lose_or_double_nothing)
{
	for (int at = 2; at <= 7; at++) {
		struct fixture fx;
		struct tree_dir *d = NULL;
		CHECK(fixture_new(&fx, 10, 0));
		for (int i = 0; i < 20; i++) {
			char id[8];
			snprintf(id, sizeof id, "t%02d", i);
			fake_add(&fx.api, id, TASK_SUCCEEDED, 1000);
		}
		fx.api.page_size = 3;
		fx.api.insert_at = at; /* two new tasks push every item down by two */
		fx.api.insert_n = 2;
		/* at 2: page 3 is answered before tasks come in, page 2 after */
		fx.api.hold = at == 2;
		CHECK_INT(tree_opendir(fx.tree, PROV_INO, 0, &d), 0);
		int once = count_once(d, &fx.api, 20);
		int extra = 0;
		for (size_t k = 0; k < d->n; k++)
			extra += strncmp(d->ents[k].name, "new", 3) == 0;
		tree_dir_free(d);
		int pages = fx.api.pages;
		fixture_free(&fx);
		if (once != 20)
			fprintf(stderr, "  insertion at page %d\n", at);
		CHECK_INT(once, 20);
		CHECK(extra <= 2);
		CHECK(pages >= 8 && pages <= 14); /* 22 tasks: 8 pages, and some asked again */
	}
}

TEST(the_metadata_cap_slims_the_least_recently_used)
{
	struct fixture fx;
	struct tree_dir *d = NULL;
	struct tree_file *f = NULL;
	struct tree_attr a;
	bool keep, direct;
	char buf[64];
	CHECK(fixture_new(&fx, 10, 2));
	for (int i = 0; i < 6; i++) {
		char id[8];
		snprintf(id, sizeof id, "s%d", i);
		fake_add(&fx.api, id, TASK_SUCCEEDED, 1000 + i);
	}
	CHECK_INT(tree_opendir(fx.tree, PROV_INO, 0, &d), 0);
	tree_dir_free(d);
	/* status and sizes stay for every task; meta.json of a slimmed one costs a get */
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "s0", 0, &a), 0);
	uint64_t meta_ino = a.ino + 2;
	CHECK_INT(tree_getattr(fx.tree, meta_ino, TREE_NOWAIT, &a), 0);
	CHECK_INT(a.size, 3);
	CHECK_INT(fx.api.gets, 0);
	CHECK_INT(tree_open(fx.tree, meta_ino, 0, O_RDONLY, &f, &keep, &direct), 0);
	CHECK_INT(tree_read(fx.tree, f, buf, sizeof buf, 0), 3);
	tree_release(f);
	CHECK_INT(fx.api.gets, 1);
	fixture_free(&fx);
}

/* Reads meta.json of id through the tree: 0 or -errno. */
static int read_meta(struct fixture *fx, const char *id)
{
	struct tree_file *f = NULL;
	struct tree_attr a;
	bool keep, direct;
	char buf[64];
	int rc = tree_lookup(fx->tree, PROV_INO, id, 0, &a);
	if (rc == 0)
		rc = tree_open(fx->tree, a.ino + 2, 0, O_RDONLY, &f, &keep, &direct);
	if (rc == 0 && tree_read(fx->tree, f, buf, sizeof buf, 0) != 3)
		rc = -EIO;
	tree_release(f);
	return rc;
}

TEST(a_relisting_leaves_slimmed_unchanged_tasks_slim)
{
	struct fixture fx;
	struct tree_dir *d = NULL;
	CHECK(fixture_new(&fx, 10, 2));
	for (int i = 0; i < 6; i++) {
		char id[8];
		snprintf(id, sizeof id, "s%d", i);
		fake_add(&fx.api, id, TASK_SUCCEEDED, 1000 + i);
	}
	CHECK_INT(tree_opendir(fx.tree, PROV_INO, 0, &d), 0);
	tree_dir_free(d);
	CHECK_INT(read_meta(&fx, "s0"), 0); /* slimmed by the listing: a get */
	CHECK_INT(fx.api.gets, 1);
	fx.api.tasks[3].mtime = 2000; /* s3 changed */
	atomic_fetch_add(&fx.hup, 1);
	CHECK_INT(tree_opendir(fx.tree, PROV_INO, 0, &d), 0);
	tree_dir_free(d);
	CHECK_INT(fx.api.pages, 2);
	/* the unchanged slim ones did not push s0 out; the changed one came whole */
	CHECK_INT(read_meta(&fx, "s0"), 0);
	CHECK_INT(read_meta(&fx, "s3"), 0);
	CHECK_INT(fx.api.gets, 1);
	struct tree_attr a;
	CHECK_INT(tree_lookup(fx.tree, PROV_INO, "s3", 0, &a), 0);
	CHECK_INT(a.mtime, 2000);
	fixture_free(&fx);
}

TEST(mkdir_registers_the_id_on_disk_before_it_returns)
{
	struct fixture fx;
	struct tree_attr a;
	char path[128], line[64] = "";
	CHECK(fixture_new(&fx, 10, 0));
	fx.pc.list = LIST_NO;
	fake_add(&fx.api, "k1", TASK_SUCCEEDED, 1000);
	CHECK_INT(tree_mkdir(fx.tree, PROV_INO, "k1", &a), 0);
	snprintf(path, sizeof path, "%s/known/p", fx.dir);
	FILE *fp = fopen(path, "r");
	CHECK(fp);
	CHECK(fgets(line, sizeof line, fp));
	fclose(fp);
	CHECK_STR(line, "k1\n");
	CHECK_INT(tree_mkdir(fx.tree, PROV_INO, "k1", &a), -EEXIST);
	fixture_free(&fx);
}

T_MAIN(T_CASE(concurrent_lookups_of_one_id_cost_one_get),
       T_CASE(a_fresh_task_costs_nothing_and_a_stale_one_a_get),
       T_CASE(a_finished_task_is_never_asked_again), T_CASE(not_found_is_remembered_for_a_second),
       T_CASE(a_malformed_answer_is_remembered_for_a_second),
       T_CASE(a_transient_failure_is_asked_again_at_once),
       T_CASE(a_task_without_a_time_gets_the_time_it_was_first_seen),
       T_CASE(a_listing_fills_every_task_and_refreshes_the_unfinished),
       T_CASE(the_pages_after_the_first_are_asked_for_at_once),
       T_CASE(tasks_coming_in_at_the_head_meanwhile_lose_or_double_nothing),
       T_CASE(the_metadata_cap_slims_the_least_recently_used),
       T_CASE(a_relisting_leaves_slimmed_unchanged_tasks_slim),
       T_CASE(mkdir_registers_the_id_on_disk_before_it_returns))

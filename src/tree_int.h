/* tree_int.h: the tree's own structs and the calls its files share:
 * tree.c (inodes, tasks, attributes, the public calls), fresh.c (TTL,
 * negative cache, single flight, listings), slim.c (the metadata cap) and
 * outputs.c (output files: slots, sizes, opening them through media).
 * Private to those four files; nothing else includes it. */
#ifndef AIFS_TREE_INT_H
#define AIFS_TREE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aifs/media.h"
#include "aifs/ratelimit.h"
#include "aifs/strmap.h"

struct aifs_conf;
struct api;
struct provider_conf;
struct registry;
struct task_info;
struct task_output;
struct tree_attr;

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
#define RENEW 2               /* fresh_task: ask even a finished task again */
#define TREE_META_MAX 50000   /* tasks whose metadata is kept whole by default */

struct tprov;
struct task;

/* One call at a time for one thing (a task's get, a listing, a size probe):
 * the first caller makes it, later ones wait for its outcome. Guarded by the
 * provider's mu; waiters sleep on its cv. */
struct flight {
	bool busy;
	unsigned seq;             /* bumped when a call lands */
	int rc;                   /* how the last one ended */
};

/* One output file of a task, by name: its inode's k is K_OUTPUT + index. */
struct tslot {
	struct task *tk;
	unsigned index;
	char *name;
	struct flight probe;
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
	struct flight get;
	double fetched_at;        /* when info was last confirmed (monotonic) */
	double neg_until;         /* the API said unknown: ENOENT until then */
	double bad_until;         /* its answer was malformed: bad_rc until then */
	int bad_rc;
	int64_t first_seen;       /* Unix time: the mtime of a task without one */
	unsigned list_stamp;      /* the listing that last returned it */
	struct tslot **slots;     /* never reordered: inode numbers name them */
	unsigned n_slots;
	struct task *lru_prev, *lru_next; /* in the tree's LRU while info is full */
	bool in_lru;
};

/* A provider's directory. mu guards everything below it that is not
 * marked otherwise, and the fields of its tasks and their slots; no disk
 * I/O, network call or call into media happens while it is held. */
struct tprov {
	struct tree *t;           /* set at start, read-only */
	int idx;                  /* read-only */
	const struct provider_conf *pc; /* read-only */
	struct api *api;          /* read-only; its calls are made without mu */
	struct registry *reg;     /* its file: under reg_mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* flights landing */
	struct strmap byid;
	struct task **tasks;      /* by index: the inode's middle bits; only grows */
	size_t n_tasks, cap;
	bool can_list;
	struct flight list;
	double listed_at;         /* monotonic; 0: never */
	unsigned list_seq;        /* listings started */
	unsigned hup_seen;
	bool list_stale;          /* SIGHUP: ask again, but keep it for failures */
	size_t list_pages;        /* requests the last complete listing took */
	size_t list_unfinished;   /* unfinished tasks it returned */
	/* the known-ids file's pending changes, written by tree_settle() */
	struct task **reg_adds;   /* joined since */
	size_t n_reg_adds, cap_reg_adds;
	bool reg_rewrite;         /* one left: write the whole file */
	atomic_bool reg_pending;  /* lock-free hint that the above is not empty */
	pthread_mutex_t reg_mu;   /* taken before mu, never while holding it */
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
	atomic_int refs;        /* the open file, and each tree_read_fd() not yet done */
	struct task_info *info; /* a reference: the content as it was at open */
	const char *data;
	size_t len;
	bool remote;
	struct media_file *media;
	struct media_cursor cur;
};

static inline double tree_now(void)
{
	return ratelimit_now();
}

static inline void tree_deadline(struct timespec *ts, double s)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)s;
}

/* tree.c */
uint64_t tree_task_ino(const struct task *tk, unsigned k);
/* Finds or makes the task for id. Caller holds p->mu. NULL on ENOMEM. */
struct task *tree_task_get(struct tprov *p, const char *id, size_t len);
/* Takes ti (one reference) into tk when it is the newer description.
 * Caller holds p->mu. */
void tree_task_take(struct task *tk, struct task_info *ti, bool from_get, double now);
void tree_task_known(struct task *tk, bool known);
/* Does the disk work that calls under a provider's lock left for later
 * (the known-ids file). Caller holds no tree lock. */
void tree_settle(struct tree *t);

/* fresh.c */
/* Joins the call under way on fl, if any, waiting for it at most secs
 * (p->mu released meanwhile): true with *rc its outcome, or -ETIMEDOUT.
 * Else marks fl busy and returns false: the caller makes the call with
 * p->mu released, then fresh_land(). Caller holds p->mu. */
bool fresh_join(struct tprov *p, struct flight *fl, double secs, int *rc);
void fresh_land(struct tprov *p, struct flight *fl, int rc);
void fresh_hup(struct tprov *p);
bool fresh_task_ok(const struct task *tk, double now);
bool fresh_transient(int rc);
/* Makes tk's state fresh, asking the API when it is not. Caller holds p->mu;
 * it is released during the call. 0 (possibly with a stale state, logged),
 * -ENOENT, -EWOULDBLOCK under TREE_NOWAIT, or the API's -errno. */
int fresh_task(struct task *tk, int flags);
/* Makes p's listing fresh. Caller holds p->mu, released during the calls.
 * 0 (possibly stale, logged), -EWOULDBLOCK under TREE_NOWAIT, or -errno. */
int fresh_listing(struct tprov *p, int flags);

/* slim.c */
/* Marks tk's full metadata as just used. Caller holds tk->p->mu. */
void slim_touch(struct task *tk);
/* Forgets tk's place when its info goes. Caller holds tk->p->mu. */
void slim_forget(struct task *tk);
/* Slims the least recently used tasks until at most meta_max hold their
 * metadata whole. Called holding no provider lock. */
void slim_trim(struct tree *t);

/* outputs.c */
/* The slot of an output name, making one when new. NULL when full or out
 * of memory: that output is then not shown. */
struct tslot *outputs_slot(struct task *tk, const char *name);
/* The output of tk in slot k - K_OUTPUT, or NULL when the task has none now. */
const struct task_output *outputs_at(const struct task *tk, unsigned k);
/* Makes the size of output k known. Caller holds p->mu; it is released while
 * the download server is asked, one probe per output at a time. */
int outputs_size(struct task *tk, unsigned k, int flags);
/* Opens output sl (its size known) for reading into f. Caller holds no
 * tree lock: this is the cache's disk work. */
int outputs_open(struct tslot *sl, struct tree_file *f);

#endif

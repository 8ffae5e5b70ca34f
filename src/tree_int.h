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

#include "aifs/journal.h"
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
struct tree_dir;
struct tree_file;

#define INO_TASK_SHIFT 6
#define INO_PROV_SHIFT 48
#define K_DIR 0
#define K_STATUS 1
#define K_META 2
#define K_ERROR 3
#define K_WAIT 4              /* .wait: unlisted, reading it waits for the end */
#define K_OUTPUT 5
/* A provider's .new directory and its labels: the task index's top bit set.
 * .new is label index 0, k 0; label l's files are l + 1 with these k. */
#define INO_LABEL_BIT (1ULL << 47)
#define LK_JSON 1                /* LABEL.json */
#define LK_LINK 2                /* LABEL -> ../ID */
#define LK_ERROR 3               /* LABEL.error */
#define LABEL_NAME_MAX 100
/* The control directory .aifs and its stats: the label bit of provider 0,
 * which names no provider. */
#define INO_CTL_DIR (INO_LABEL_BIT | 1)
#define INO_CTL_STATS (INO_LABEL_BIT | 2)
#define NEG_TTL 1.0           /* SPEC: "not found" is cached at most 1 s */
#define FINISHED_TIMEOUT 60.0 /* kernel cache for what cannot change */
#define MAX_PAGES 100000      /* a listing that never ends is an error */
#define RENEW 2               /* fresh_task: ask even a finished task again */
#define FROM_API 4            /* fresh_task: the API's answer, not another mount's */
#define TREE_META_MAX 20000   /* tasks whose metadata is kept whole by default:
                               * 100,000 tasks then fit in 100 MiB (bench_memory.py) */

struct tprov;
struct task;
struct tree_waiter;

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
	struct flight probe;
	struct media_out *out;    /* size and validator; NULL until known */
	char name[];              /* in the slot's own allocation */
};

struct task {
	struct tprov *p;
	uint64_t idx;
	char *id;
	size_t id_len;
	char *name;               /* encoded; NULL when the id cannot be a name;
	                           * the id itself when encoding changed nothing */
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
	struct tree_waiter *waiters; /* reading its .wait */
	bool archived;            /* its outputs and record are in the archive */
	bool arch_queued;         /* waiting for an archiver */
};

/* A label in .new (SPEC: Creating tasks). The record on disk follows each
 * change of state; state SENDING is written before the request leaves. */
struct label {
	struct tprov *p;
	uint64_t idx;             /* its inode's middle bits; never reused */
	char name[LABEL_NAME_MAX + 1];
	enum label_state state;
	bool busy;                /* a submission is under way: no other change */
	bool gone;                /* forgotten (rm): its inodes answer ENOENT */
	int64_t mtime;
	char *body;               /* the request as last closed; NULL when empty */
	size_t body_len;
	char *id;                 /* created: the task */
	size_t id_len;
	char *error;              /* LABEL.error; NULL when none */
	size_t error_len;
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
	struct cluster_acct *acct; /* cluster mode, read-only; else NULL */
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
	struct task **cl_ids[2];  /* cluster mode: joined [1] and left [0] since, for */
	size_t n_cl_ids[2], cap_cl_ids[2]; /* the account's set */
	double merged_at;         /* cluster mode: the account's known ids last read */
	bool hup_fresh;           /* SIGHUP: the next listing asks the API itself */
	atomic_bool reg_pending;  /* lock-free hint that the above is not empty */
	pthread_mutex_t reg_mu;   /* taken before mu, never while holding it */
	/* .new */
	struct label **labels;    /* by index */
	size_t n_labels, cap_labels;
	struct strmap label_byname;
	char *label_dir;          /* CACHE_DIR/labels/PROVIDER; read-only */
	/* .wait: waited tasks are refreshed by the provider's wait thread */
	size_t n_waiters;
	pthread_cond_t wait_cv;   /* a waiter came, a waited task finished, stop */
	bool wait_kick;           /* a waited task may have finished: look now */
	bool wait_stop;
	double wait_last;         /* monotonic: the last refresh for waiters */
	pthread_t waitd;
	bool waitd_running;
	char *arch_dir;           /* CACHE_DIR/archive/PROVIDER; read-only */
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
	/* the archive's queue and threads; arch_mu is taken after a provider's
	 * mu, never before it */
	pthread_mutex_t arch_mu;
	pthread_cond_t arch_cv;
	struct arch_item { struct task *tk; double at; } *arch_q; /* at: not before (monotonic) */
	size_t arch_n, arch_cap;
	pthread_t arch_threads[2];
	int n_arch_threads;
	bool arch_stop, arch_paused;  /* under arch_mu */
	atomic_bool arch_running;     /* archivers started: tasks may be queued */
	struct task *lru_head, *lru_tail;
	size_t n_full, meta_max;
	const char *(*cluster_state)(void *ctx); /* .aifs/stats; NULL: "off" */
	void *cluster_ctx;
};

struct tree_file {
	atomic_int refs;        /* the open file, and each tree_read_fd() not yet done */
	struct task *wait;      /* .wait of this task */
	struct label *label;    /* LABEL.json or LABEL.error */
	bool writable;          /* LABEL.json opened for writing: w holds the draft */
	bool dirty;             /* written since the last flush */
	char *w;                /* the draft as this handle has it */
	size_t w_len, w_cap;
	char *own;              /* data when the file owns a copy (a label's) */
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
/* The provider of an inode in a .new directory (.new itself included), or
 * NULL. */
struct tprov *tree_label_prov(struct tree *t, uint64_t ino);
/* The provider of a provider-directory inode, or NULL. */
struct tprov *tree_prov_dir(struct tree *t, uint64_t ino);
/* Cluster mode: a .new label's claim (lclaim.c). lclaim_take(), before the
 * label's request may leave, called without p->mu: LCLAIM_SEND (no cluster,
 * or Redis lost: send alone), LCLAIM_CLAIMED (send; then lclaim_settle()
 * with the outcome), LCLAIM_SETTLED (another mount sent it: *id new, or
 * -EIO unknown in err with *unknown), or -EBUSY (another mount is sending
 * it and no answer came in time; err says so). */
enum { LCLAIM_SEND = 1, LCLAIM_CLAIMED, LCLAIM_SETTLED };
int lclaim_take(struct tprov *p, const char *name, char **id, bool *unknown, struct aifs_err *err);
void lclaim_settle(struct tprov *p, const char *name, int claim, int rc, bool unknown,
		   const char *id, const struct aifs_err *err);
/* Cluster mode: the ids the account's other mounts know join p, at most
 * once a TTL. Called without p->mu. */
void known_merge(struct tprov *p);
/* Finds or makes the task for id. Caller holds p->mu. NULL on ENOMEM. */
struct task *tree_task_get(struct tprov *p, const char *id, size_t len);
/* Takes ti (one reference) into tk when it is the newer description.
 * Caller holds p->mu. */
void tree_task_take(struct task *tk, struct task_info *ti, bool from_get, double now);

/* known.c */
void tree_task_known(struct task *tk, bool known);
/* registry_load()'s callback over a struct tprov. */
int known_load(void *ctx, const char *id, size_t len);
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

/* labels.c */
int labels_load(struct tprov *p, const char *cache_dir);
void labels_free(struct tprov *p);
/* Attributes of .new (k 0 of label index 0) or of a label's file. Caller
 * holds p->mu. */
int labels_attr(struct tprov *p, uint64_t ino, struct tree_attr *a);
int labels_lookup(struct tprov *p, const char *name, struct tree_attr *a);
int labels_readdir(struct tprov *p, struct tree_dir *d, size_t *cap);
int labels_create(struct tprov *p, const char *name, int oflags, struct tree_attr *a,
		  struct tree_file *f);
int labels_open(struct tprov *p, uint64_t ino, int oflags, struct tree_file *f, bool *direct);
int labels_truncate(struct tprov *p, uint64_t ino, struct tree_file *f, uint64_t size,
		    struct tree_attr *a);
int labels_readlink(struct tprov *p, uint64_t ino, char *buf, size_t size);
/* Caller holds no lock (a record is removed from disk). */
int labels_unlink(struct tprov *p, const char *name);
/* Caller holds no lock: submission waits on the API. */
int labels_flush(struct tprov *p, struct tree_file *f, int flags);
/* tree.c's directory entries: name borrowed (it lives as long as the
 * tree), or copied into the listing. */
int tree_dir_add(struct tree_dir *d, size_t *cap, const char *name, uint64_t ino, unsigned mode);
int tree_dir_add_copy(struct tree_dir *d, size_t *cap, const char *name, uint64_t ino,
		      unsigned mode);

/* wait.c */
int wait_start(struct tprov *p);
/* Stops the thread and ends every waiter with -ESHUTDOWN. */
void wait_stop(struct tprov *p);
/* A waited task may have finished (a listing or a get said so). Caller
 * holds p->mu. */
void wait_kick(struct task *tk);

/* archive.c */
/* tk succeeded: queued for the archive when its provider keeps outputs.
 * Caller holds p->mu. */
void archive_note(struct task *tk);
int archive_start(struct tree *t);
void archive_stop(struct tree *t);
/* Makes the archived tasks of p again from their records (before threads). */
int archive_load(struct tprov *p, const char *cache_dir);
/* Removes tk's record (deleted). Caller holds no lock. */
void archive_forget(struct task *tk);

/* stats.c: the control directory (SPEC: .aifs/stats). Never waits. */
bool stats_ino(uint64_t ino);
/* name in parent, where parent is the root (.aifs) or .aifs itself. */
int stats_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out);
int stats_getattr(struct tree *t, uint64_t ino, struct tree_attr *out);
/* The root's entry .aifs (ino 1), or the entries of .aifs. */
int stats_readdir(uint64_t ino, struct tree_dir *d, size_t *cap);
int stats_open(struct tree *t, uint64_t ino, int oflags, struct tree_file *f);

/* outputs.c */
/* Downloads output sl whole and pins it in the cache (the archive). Caller
 * holds no tree lock. */
int outputs_keep(struct tslot *sl);
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
/* Drops tk's outputs from the cache (the task was deleted). */
void outputs_forget(struct task *tk);

#endif

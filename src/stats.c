/* stats.c: the control directory, MOUNTPOINT/.aifs, and its one file,
 * stats: what this mount has asked of each provider's API, how many tasks
 * it knows, how big its cache is and what the downloads moved (SPEC: The
 * control directory). Rendered at each open from counters kept by api,
 * media and the cache: reading it costs no API call and never waits.
 * Part of the tree; knows no FUSE, no curl and no JSON library (the
 * object is small and its shape fixed). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aifs/api.h"
#include "aifs/buf.h"
#include "aifs/config.h"
#include "aifs/media.h"
#include "aifs/tree.h"
#include "tree_int.h"

#define STATS_MAX (1u << 20)
#define STATS_DIR ".aifs"
#define STATS_NAME "stats"

static const char *const endpoint_names[API_EP_N] = {
	[API_EP_LIST] = "list", [API_EP_GET] = "get", [API_EP_TOKEN] = "token",
	[API_EP_CREATE] = "create", [API_EP_DELETE] = "delete",
};

bool stats_ino(uint64_t ino)
{
	return ino == INO_CTL_DIR || ino == INO_CTL_STATS;
}

void tree_set_cluster(struct tree *t, const char *(*state)(void *ctx), void *ctx)
{
	t->cluster_state = state;
	t->cluster_ctx = ctx;
}

/* A JSON string: provider names are section names, any bytes but ']'. */
static int put_string(struct buf *b, const char *s)
{
	int rc = buf_append(b, "\"", 1);
	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "\\u%04x", c);
		else
			rc = buf_append(b, s, 1);
	}
	return rc ? rc : buf_append(b, "\"", 1);
}

/* The tasks p's directory shows now, as opendir lists them. */
static uint64_t tasks_known(struct tprov *p)
{
	uint64_t n = 0;
	pthread_mutex_lock(&p->mu);
	double now = tree_now();
	for (size_t i = 0; i < p->n_tasks; i++) {
		const struct task *tk = p->tasks[i];
		if (tk->name && (tk->in_listing || tk->known) && tk->neg_until <= now)
			n++;
	}
	pthread_mutex_unlock(&p->mu);
	return n;
}

static int put_provider(struct buf *b, struct tprov *p, bool last)
{
	struct api_counts c;
	int rc;

	api_counts(p->api, &c);
	if ((rc = buf_append(b, "    ", 4)) || (rc = put_string(b, p->pc->name)) ||
	    (rc = buf_printf(b, ": {\n      \"requests\": %" PRIu64 ",\n      \"by_endpoint\": {",
			     c.requests)))
		return rc;
	for (int i = 0; i < API_EP_N && !rc; i++)
		rc = buf_printf(b, "%s\"%s\": %" PRIu64, i ? ", " : "", endpoint_names[i],
				c.by_endpoint[i]);
	if (rc)
		return rc;
	return buf_printf(b,
			  "},\n      \"throttled\": %" PRIu64 ",\n      \"errors\": %" PRIu64
			  ",\n      \"tasks\": %" PRIu64 "\n    }%s\n",
			  c.throttled, c.errors, tasks_known(p), last ? "" : ",");
}

/* The stats object as it is now: *out new (free()), *len its size. */
static int render(struct tree *t, char **out, size_t *len)
{
	struct media_counts mc;
	struct buf b;
	int64_t up = (int64_t)time(NULL) - t->mount_time;
	const char *cluster = t->cluster_state ? t->cluster_state(t->cluster_ctx) : "off";
	int rc;

	buf_init(&b, STATS_MAX);
	media_counts(t->media, &mc);
	rc = buf_printf(&b, "{\n  \"version\": \"%s\",\n  \"uptime_s\": %" PRId64 ",\n"
			"  \"cluster\": \"%s\",\n  \"providers\": {\n",
			AIFS_VERSION, up > 0 ? up : 0, cluster ? cluster : "off");
	for (size_t i = 0; i < t->n_provs && !rc; i++)
		rc = put_provider(&b, &t->provs[i], i + 1 == t->n_provs);
	if (!rc)
		rc = buf_printf(&b,
				"  },\n  \"cache\": {\"bytes\": %" PRIu64 ", \"max\": %" PRIu64
				", \"archived_bytes\": %" PRIu64 "},\n"
				"  \"downloads\": {\"bytes\": %" PRIu64 ", \"served_bytes\": %" PRIu64
				"}\n}\n",
				mc.cache_bytes, t->conf->cache_max, mc.archived_bytes, mc.downloaded,
				mc.served);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_steal(&b, len);
	return *out ? 0 : -ENOMEM;
}

static void ctl_dir_attr(struct tree *t, struct tree_attr *a)
{
	*a = (struct tree_attr){ .ino = INO_CTL_DIR, .mode = S_IFDIR | 0555, .nlink = 2,
				 .mtime = t->mount_time, .timeout = FINISHED_TIMEOUT };
}

/* The size is that of a rendering now: the kernel keeps none of it. */
static int stats_attr(struct tree *t, struct tree_attr *a)
{
	char *text;
	size_t len;
	int rc = render(t, &text, &len);
	if (rc)
		return rc;
	free(text);
	*a = (struct tree_attr){ .ino = INO_CTL_STATS, .mode = S_IFREG | 0444, .nlink = 1,
				 .size = len, .mtime = time(NULL), .timeout = 0 };
	return 0;
}

int stats_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	if (parent == TREE_ROOT_INO) {
		if (strcmp(name, STATS_DIR))
			return -ENOENT;
		ctl_dir_attr(t, out);
		return 0;
	}
	if (parent != INO_CTL_DIR)
		return -ENOTDIR;
	return strcmp(name, STATS_NAME) ? -ENOENT : stats_attr(t, out);
}

int stats_getattr(struct tree *t, uint64_t ino, struct tree_attr *out)
{
	if (ino == INO_CTL_DIR) {
		ctl_dir_attr(t, out);
		return 0;
	}
	return stats_attr(t, out);
}

int stats_readdir(uint64_t ino, struct tree_dir *d, size_t *cap)
{
	if (ino == TREE_ROOT_INO)
		return tree_dir_add(d, cap, STATS_DIR, INO_CTL_DIR, S_IFDIR);
	if (ino != INO_CTL_DIR)
		return -ENOTDIR;
	return tree_dir_add(d, cap, STATS_NAME, INO_CTL_STATS, S_IFREG);
}

int stats_open(struct tree *t, uint64_t ino, int oflags, struct tree_file *f)
{
	char *text;
	size_t len;
	int rc;

	if (ino == INO_CTL_DIR)
		return -EISDIR;
	if ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC))
		return -EACCES;
	if ((rc = render(t, &text, &len)))
		return rc;
	f->own = text;
	f->data = text;
	f->len = len;
	return 0;
}

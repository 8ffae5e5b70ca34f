/* aifs.c: builds the system, starts and stops its threads, frees it. The
 * one place that knows every module; what each does is theirs to know.
 * Knows no FUSE, no curl and no JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/aifs.h"
#include "aifs/api.h"
#include "aifs/blobcache.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/log.h"
#include "aifs/cluster.h"
#include "aifs/media.h"
#include "aifs/provider.h"
#include "aifs/registry.h"
#include "aifs/tree.h"

#define MEDIA_PROBES 4    /* size probes at once */
#define MEDIA_DOWNLOADS 6 /* download threads */

struct aifs {
	struct aifs_conf conf;
	struct http *http;
	struct tree_provider *provs; /* one API and one registry per provider */
	size_t n_provs;
	struct blobcache *cache;
	struct media *media;
	struct tree *tree;
	struct cluster *cluster; /* cluster mode; else NULL */
};

/* Downloads are shared by every provider: the most patient settings win. */
static struct media_opts media_opts(const struct aifs_conf *conf)
{
	struct media_opts mo = { .probes = MEDIA_PROBES, .downloads = MEDIA_DOWNLOADS };
	for (size_t i = 0; i < conf->n_providers; i++) {
		const struct provider_conf *pc = &conf->providers[i];
		mo.allow_http |= pc->insecure_http;
		if (pc->tun.timeout > mo.timeout)
			mo.timeout = pc->tun.timeout;
		if (pc->tun.retries > mo.retries)
			mo.retries = pc->tun.retries;
	}
	return mo;
}

static int open_cache(struct aifs *a, struct aifs_err *err)
{
	const char *dir = a->conf.cache_dir;
	int rc = 0;

	a->cache = blobcache_new(dir, a->conf.cache_max, &rc);
	if (a->cache)
		return 0;
	long holder = rc == -EBUSY ? blobcache_holder(dir) : 0;
	if (holder > 0)
		return aifs_err_set(err, rc, "the cache %s is in use by another aifs (pid %ld)", dir,
				    holder);
	rc = rc ? rc : -ENOMEM;
	return aifs_err_set(err, rc, "cannot open the cache in %s: %s", dir, strerror(-rc));
}

static const char *cluster_state_text(void *cluster)
{
	return cluster_state_name(cluster_state(cluster));
}

struct aifs *aifs_new(struct aifs_conf *conf, atomic_uint *hup, struct aifs_err *err)
{
	struct aifs *a = calloc(1, sizeof *a);
	if (!a) {
		config_free(conf);
		aifs_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	a->conf = *conf;
	memset(conf, 0, sizeof *conf);

	if (!(a->http = http_new())) {
		aifs_err_set(err, -ENOMEM, "cannot start libcurl");
		goto fail;
	}
	if (!(a->provs = calloc(a->conf.n_providers, sizeof *a->provs)))
		goto nomem;
	if (a->conf.redis && !(a->cluster = cluster_new(a->conf.redis, err)))
		goto fail;
	for (size_t i = 0; i < a->conf.n_providers; i++) {
		const struct provider_conf *pc = &a->conf.providers[i];
		const struct provider_ops *ops = provider_find(pc->type);
		struct tree_provider *tp = &a->provs[i];
		tp->pc = pc;
		a->n_provs++;
		if (!ops) {
			aifs_err_set(err, -EINVAL, "%s: unknown provider type %s", pc->name, pc->type);
			goto fail;
		}
		if (!(tp->api = api_new(pc, ops, a->http)) ||
		    !(tp->reg = registry_new(a->conf.cache_dir, pc->name)))
			goto nomem;
		if (a->cluster) {
			if (!(tp->acct = cluster_acct(a->cluster, pc)))
				goto nomem;
			api_share(tp->api, tp->acct);
		}
	}
	if (open_cache(a, err))
		goto fail;
	struct media_opts mo = media_opts(&a->conf);
	if (!(a->media = media_new(a->http, a->cache, &mo)))
		goto nomem;
	if (!(a->tree = tree_new(&a->conf, a->provs, a->n_provs, a->media, hup, err)))
		goto fail;
	if (a->cluster) /* .aifs/stats: "on" or "degraded" */
		tree_set_cluster(a->tree, cluster_state_text, a->cluster);
	return a;
nomem:
	aifs_err_set(err, -ENOMEM, "out of memory");
fail:
	aifs_free(a);
	return NULL;
}

struct tree *aifs_tree(struct aifs *a)
{
	return a->tree;
}

int aifs_start(void *ctx)
{
	struct aifs *a = ctx;
	int rc = media_start(a->media);
	if (rc)
		log_msg(LOGL_ERROR, "cannot start the download threads: %s", strerror(-rc));
	int trc = tree_start(a->tree);
	if (trc)
		log_msg(LOGL_ERROR, "cannot start the threads of .wait: %s", strerror(-trc));
	int crc = a->cluster ? cluster_start(a->cluster) : 0;
	if (crc)
		log_msg(LOGL_ERROR, "cannot start the cluster's heartbeat: %s", strerror(-crc));
	return rc ? rc : trc ? trc : crc;
}

void aifs_stop(struct aifs *a)
{
	if (!a)
		return;
	if (a->http)
		http_stop(a->http);
	cluster_stop(a->cluster); /* and every wait on another mount */
	tree_stop(a->tree); /* readers of .wait are answered while FUSE still listens */
}

void aifs_free(struct aifs *a)
{
	if (!a)
		return;
	media_stop(a->media); /* downloads call back into the tree: they end first */
	tree_free(a->tree);
	media_free(a->media);
	blobcache_free(a->cache);
	for (size_t i = 0; i < a->n_provs; i++) {
		registry_free(a->provs[i].reg);
		api_free(a->provs[i].api);
	}
	free(a->provs);
	cluster_free(a->cluster);
	http_free(a->http);
	config_free(&a->conf);
	free(a);
}

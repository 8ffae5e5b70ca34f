/* probe.c: an output's size and validator, learnt before its first byte.
 *
 * From the cache when the file is complete there; else by HEAD, else, since
 * a URL signed for GET answers HEAD with 403, by a one-byte range. Probes
 * are bounded in number at once and retried like downloads, with one
 * renewal of a refused URL. Knows no FUSE, no JSON, no tasks, and nothing of
 * the downloads but the struct they share. */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/backoff.h"
#include "aifs/blobcache.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/media.h"
#include "media_int.h"

/* What a probe's answer said: its headers, and how much body came. */
struct probe_sink {
	struct http_head head;
	size_t body;
};

static int probe_head(void *ctx, const struct http_head *h)
{
	struct probe_sink *ps = ctx;
	ps->head = *h;
	return 0;
}

static int probe_data(void *ctx, const char *p, size_t n)
{
	struct probe_sink *ps = ctx;
	(void)p;
	ps->body += n;
	/* a server ignoring Range sends the whole file: its length is enough */
	if (ps->head.status == 200 || ps->body > 65536)
		return -E2BIG;
	return 0;
}

struct media_out *media_out_new(uint64_t size, const char *validator)
{
	struct media_out *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	atomic_store(&o->size, size);
	pthread_mutex_init(&o->mu, NULL);
	snprintf(o->validator, sizeof o->validator, "%s", validator);
	return o;
}

uint64_t media_out_size(const struct media_out *o)
{
	return atomic_load(&o->size);
}

void media_out_free(struct media_out *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->mu);
	free(o);
}

/* One probe of url: HEAD, and when that answers unhelpfully (a URL signed
 * for GET answers HEAD with 403), a one-byte range. 0 or -errno with
 * err->retry set; -EKEYEXPIRED when the URL was refused. */
static int probe_once(struct media *m, const char *url, struct media_meta *out,
		      struct aifs_err *err)
{
	struct http_req req = { 0 };
	struct probe_sink ps = { 0 };
	struct http_sink sink = { probe_head, probe_data, &ps };
	struct http_head h;
	int rc;

	if ((rc = http_req_init(&req, "HEAD", "%s", url)))
		return rc;
	req.what = strdup("HEAD output");
	rc = http_stream(m->http, &m->hopts, &req, &sink, &h, err);
	if (rc) {
		err->retry = AIFS_RETRY_TRANSIENT; /* no answer: try again, not another way */
		goto out;
	}
	if (h.status / 100 == 2 && h.content_length >= 0) {
		out->size = (uint64_t)h.content_length;
		media_take_validator(out->validator, &h);
		goto out;
	}
	if (h.status == 429 || h.status == 408 || h.status >= 500) {
		rc = media_answer_error(&h, "HEAD output", err);
		goto out;
	}
	http_req_clear(&req);
	memset(&ps, 0, sizeof ps);
	if ((rc = http_req_init(&req, "GET", "%s", url)) ||
	    (rc = http_req_header(&req, "Range: bytes=0-0")))
		goto out;
	req.what = strdup("GET output bytes=0-0");
	rc = http_stream(m->http, &m->hopts, &req, &sink, &h, err);
	if (rc == -E2BIG && ps.head.status == 200 && ps.head.content_length >= 0) {
		out->size = (uint64_t)ps.head.content_length;
		media_take_validator(out->validator, &ps.head);
		rc = 0;
		goto out;
	}
	if (rc) {
		err->retry = AIFS_RETRY_TRANSIENT;
		goto out;
	}
	if (h.status == 206 && h.range_total >= 0)
		out->size = (uint64_t)h.range_total;
	else if (h.status == 416 && h.range_total == 0)
		out->size = 0;
	else if (h.status == 200 && h.content_length >= 0)
		out->size = (uint64_t)h.content_length;
	else
		rc = media_answer_error(&h, "output size", err);
	if (rc == 0)
		media_take_validator(out->validator, &h);
out:
	http_req_clear(&req);
	return rc;
}

int media_probe(struct media *m, const char *key, size_t key_len, const struct media_src *src,
		struct media_out **outp, struct aifs_err *err)
{
	struct media_meta meta = { 0 }, *out = &meta;
	bool complete = false;
	int rc;

	*outp = NULL;
	if (blobcache_peek(m->cache, key, key_len, &out->size, &complete) == 0 && complete) {
		*outp = media_out_new(out->size, ""); /* served from disk: no network at all */
		return *outp ? 0 : aifs_err_set(err, -ENOMEM, "out of memory");
	}

	pthread_mutex_lock(&m->mu);
	while (m->probing >= m->o.probes)
		pthread_cond_wait(&m->probe_cv, &m->mu);
	m->probing++;
	pthread_mutex_unlock(&m->mu);

	struct backoff bo;
	bool renewed = false;
	backoff_init(&bo, m->http, m->o.retries, (unsigned)rand());
	for (;;) {
		char *url = NULL;
		aifs_err_clear(err);
		rc = src->url(src->ctx, renewed, &url);
		if (rc) {
			aifs_err_set(err, rc, "no URL for the output");
			break;
		}
		rc = probe_once(m, url, out, err);
		free(url);
		if (rc == -ECANCELED)
			err->retry = AIFS_RETRY_NO;
		if (rc == -EKEYEXPIRED && !renewed) {
			renewed = true; /* a fresh URL, once: not a retry */
			continue;
		}
		if (!rc || err->retry == AIFS_RETRY_NO || backoff_spent(&bo) ||
		    backoff_next(&bo, err->retry_after) || backoff_wait(&bo))
			break;
	}
	if (rc == -EKEYEXPIRED)
		rc = -EACCES;

	pthread_mutex_lock(&m->mu);
	m->probing--;
	pthread_cond_signal(&m->probe_cv);
	pthread_mutex_unlock(&m->mu);
	if (rc == 0 && !(*outp = media_out_new(meta.size, meta.validator)))
		rc = aifs_err_set(err, -ENOMEM, "out of memory");
	return rc;
}

/* Here rather than in media.c, which is full: the counts are atomics that
 * media.c bumps, and the cache's own totals. */
void media_counts(struct media *m, struct media_counts *out)
{
	out->downloaded = atomic_load_explicit(&m->downloaded, memory_order_relaxed);
	out->served = atomic_load_explicit(&m->served, memory_order_relaxed);
	out->cache_bytes = blobcache_used(m->cache);
	out->archived_bytes = blobcache_archived(m->cache);
}

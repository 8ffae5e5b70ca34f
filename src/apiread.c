/* apiread.c: listing and getting; in cluster mode, an answer another
 * mount of the account had within its TTL is parsed instead of asking, and
 * identical requests in flight on several mounts are made once. Knows no
 * FUSE, no cache and no JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/buf.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/log.h"
#include "aifs/provider.h"
#include "aifs/task.h"
#include "api_int.h"

/* ---- cluster mode: answers made once for the account's mounts ---- */

/* Whether an answer may serve the other mounts: a success, or one that
 * says so of what was asked (no such task; no listing here). */
static bool shareable(int rc, const struct aifs_err *err)
{
	return rc == 0 || ((rc == -ENOENT || rc == -EOPNOTSUPP) && err->retry == AIFS_RETRY_NO &&
			   err->http_status >= 400);
}

/* A stored answer, parsed as if it had just come. */
static int replay(struct api *a, const struct call *c, long status, const struct buf *b,
		  struct aifs_err *err)
{
	struct http_resp resp = { .status = status, .body = b->data, .len = b->len,
				  .retry_after = -1, .sent = true };
	aifs_err_clear(err);
	int rc = c->parse(a, c, &resp, err);
	if (rc && err->http_status == 0)
		err->http_status = status;
	return rc;
}

/* Whether what a look for a stored answer found (got, as the cluster_answer
 * calls return it) serves: a stored answer that parses into one worth
 * sharing. Then *rc is its outcome. */
static bool stored(struct api *a, const struct call *c, int got, long status,
		   const struct buf *b, struct aifs_err *err, int *rc)
{
	return got == 1 && shareable(*rc = replay(a, c, status, b, err), err);
}

/* run(), or in cluster mode: an answer another mount had within its TTL;
 * else one mount of the account asks (a lease) while the others wait for
 * its answer, bounded, then ask themselves if none came. *age: how old the
 * answer is, seconds. API_FRESH skips the stored answers (not one being
 * made now). */
static int run_shared(struct api *a, struct call *c, const char *key, unsigned flags,
		      double *age, struct aifs_err *err)
{
	struct buf b;
	long status = 0;
	char lease[17];
	int held = -EAGAIN, got, rc;

	*age = 0;
	if (api_cluster_state(a) != CLUSTER_ON)
		return api_run(a, c, err);
	buf_init(&b, API_MAX_BODY);
	if (!(flags & API_FRESH)) {
		got = cluster_answer_get(a->acct, key, &status, &b, age);
		if (stored(a, c, got, status, &b, err, &rc))
			goto out;
	}
	held = cluster_lease(a->acct, key, api_deadline(a) / 2, lease);
	if (held == 1 && !(flags & API_FRESH)) {
		/* the last holder may have stored its answer just before */
		got = cluster_answer_get(a->acct, key, &status, &b, age);
		if (stored(a, c, got, status, &b, err, &rc))
			goto out;
	}
	if (held == 0) { /* being asked now: as fresh as an answer gets */
		got = cluster_answer_wait(a->acct, key, api_deadline(a) / 2, &status, &b, age);
		if (stored(a, c, got, status, &b, err, &rc))
			goto out;
	}
	*age = 0;
	c->keep = &b;
	c->keep_status = &status;
	status = 0;
	rc = api_run(a, c, err);
	if (held == 1 && shareable(rc, err) && status) {
		bool fin = rc == 0 && c->task_out && *c->task_out &&
			   task_status_finished((*c->task_out)->status);
		cluster_answer_put(a->acct, key, status, b.data, b.len, fin ? 0 : a->pc->tun.ttl);
	}
out:
	if (held == 1)
		cluster_unlease(a->acct, key, lease);
	buf_free(&b);
	return rc;
}

/* ---- listing and getting ---- */

static int list_build(struct api *a, const struct call *c, const char *cred, struct http_req *r)
{
	return a->ops->list_request(a->pc, c->listing, c->page, cred, r);
}

static int list_parse(struct api *a, const struct call *c, const struct http_resp *resp,
		      struct aifs_err *err)
{
	provider_page_clear(c->page_out);
	return a->ops->list_parse(a->pc, c->listing, c->page, resp, c->page_out, err);
}

int api_list_page(struct api *a, int listing, int page, unsigned flags, struct provider_page *out,
		  struct aifs_err *err)
{
	char what[64];
	snprintf(what, sizeof what, "list %d page %d", listing, page);
	struct call c = { .what = what, .ep = API_EP_LIST, .build = list_build, .parse = list_parse,
			  .uses_token = true, .listing = listing, .page = page, .page_out = out };
	char key[48];
	double age;
	memset(out, 0, sizeof *out);
	snprintf(key, sizeof key, "list:%d:%d", listing, page);
	int rc = api_counted(a, run_shared(a, &c, key, flags, &age, err));
	out->age = age;
	if (rc == 0 && out->skipped)
		log_msg(LOGL_WARN, "%s: %s: %zu item(s) left out; %s", a->pc->name, what,
			out->skipped, out->skip_why);
	return rc;
}

static int get_build(struct api *a, const struct call *c, const char *cred, struct http_req *r)
{
	return a->ops->get_request(a->pc, c->id, cred, r);
}

static int get_parse(struct api *a, const struct call *c, const struct http_resp *resp,
		     struct aifs_err *err)
{
	task_info_unref(*c->task_out);
	*c->task_out = NULL;
	return a->ops->get_parse(a->pc, c->id, resp, c->task_out, err);
}

int api_get(struct api *a, const char *id, unsigned flags, struct task_info **out, double *age,
	    struct aifs_err *err)
{
	char what[96], shown[68], *key;
	double dummy;
	aifs_text_cut(shown, sizeof shown, id); /* 64 bytes at most, and "..." */
	snprintf(what, sizeof what, "get %s", shown);
	struct call c = { .what = what, .ep = API_EP_GET, .build = get_build, .parse = get_parse,
			  .uses_token = true, .id = id, .task_out = out };
	*out = NULL;
	if (asprintf(&key, "get:%s", id) < 0)
		return aifs_err_set(err, -ENOMEM, "out of memory");
	int rc = api_counted(a, run_shared(a, &c, key, flags, age ? age : &dummy, err));
	free(key);
	return rc;
}


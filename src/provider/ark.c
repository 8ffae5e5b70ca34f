/* ark.c: the Ark API family: Volcengine Ark, /volc/v1 relays, RongCloud.
 *
 * Builds list, get, create and delete requests and turns their answers into
 * task_info or ids, also from inside the envelopes some relays wrap answers
 * in. It refuses to know about retries, rate limits, caching or the tree:
 * whether a 404 on the list means "switch to the known-ids registry" is the
 * caller's decision, here it is only -EOPNOTSUPP. */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/pjson.h"
#include "aifs/provider.h"
#include "aifs/task.h"

#define ARK_PAGE_SIZE 500
#define ARK_TASKS_PATH "/contents/generations/tasks"

/* A credential goes into a header line: nothing that could end it. */
static bool ark_cred_ok(const char *cred)
{
	if (!cred || !*cred)
		return false;
	for (const unsigned char *s = (const unsigned char *)cred; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* req->what, for logs: a path without the base_url and never the key. */
/* req->what for another method: "POST /contents/generations/tasks". */
static int ark_what(struct http_req *req, const char *method, const char *path_rest)
{
	char *w;

	if (asprintf(&w, "%s " ARK_TASKS_PATH "%s", method, path_rest) < 0)
		return -ENOMEM;
	free(req->what);
	req->what = w;
	return 0;
}

static int ark_list_request(const struct provider_conf *pc, int listing, int page, const char *cred,
			    struct http_req *req)
{
	char what[64];
	int rc;

	if (listing != 0 || page < 1)
		return -EINVAL;
	if (!ark_cred_ok(cred))
		return -EACCES;
	rc = http_req_init(req, "GET", "%s" ARK_TASKS_PATH "?page_num=%d&page_size=%d",
			   pc->base_url, page, ARK_PAGE_SIZE);
	if (rc == 0)
		rc = http_req_header(req, "Authorization: Bearer %s", cred);
	snprintf(what, sizeof what, "?page_num=%d", page);
	if (rc == 0)
		rc = ark_what(req, "GET", what);
	return rc;
}

/* A request about one task: METHOD {base}/contents/generations/tasks/{id}. */
static int ark_task_request(const struct provider_conf *pc, const char *method, const char *id,
			    const char *cred, struct http_req *req)
{
	char *eid = NULL, *rest = NULL;
	int rc = -ENOMEM;

	if (!id || !*id)
		return -EINVAL;
	if (!ark_cred_ok(cred))
		return -EACCES;
	eid = http_escape(id);
	if (!eid || asprintf(&rest, "/%s", eid) < 0) {
		rest = NULL;
		goto out;
	}
	rc = http_req_init(req, method, "%s" ARK_TASKS_PATH "%s", pc->base_url, rest);
	if (rc == 0)
		rc = http_req_header(req, "Authorization: Bearer %s", cred);
	if (rc == 0)
		rc = ark_what(req, method, rest);
out:
	free(eid);
	free(rest);
	return rc;
}

static int ark_get_request(const struct provider_conf *pc, const char *id, const char *cred,
			   struct http_req *req)
{
	return ark_task_request(pc, "GET", id, cred, req);
}

/* "CODE: MESSAGE" from error{code,message}, or from failure_reason, which
 * older answers carry as a string or as an object. */
static int ark_set_error(struct task_info *ti, const json_t *obj)
{
	const json_t *e = json_object_get(obj, "error");
	char cbuf[128];

	if (!json_is_object(e))
		e = json_object_get(obj, "failure_reason");
	if (json_is_object(e))
		return task_info_set_error(ti, pjson_code(e, "code", cbuf, sizeof cbuf),
					   pjson_str(e, "message"));
	if (json_is_string(e))
		return task_info_set_error(ti, NULL, json_string_value(e));
	return task_info_set_error(ti, NULL, NULL);
}

/* Adds an output unless the URL is unusable (empty, a placeholder such as
 * "<SIGNED_VIDEO_URL>", not http(s)); only running out of memory is an
 * error, a bad URL just shows no file. name NULL: "file.EXT". */
static int ark_output(struct task_info *ti, const json_t *content, const char *key,
		      const char *name)
{
	const char *url = pjson_str(content, key);
	char ext[16], file[32];
	int rc;

	if (!task_url_usable(url))
		return 0;
	if (!name) {
		snprintf(file, sizeof file, "file.%s", task_url_ext(url, "bin", ext, sizeof ext));
		name = file;
	}
	rc = task_info_add_output(ti, name, url);
	return rc == -ENOMEM ? rc : 0;
}

/* One task from its object and the object's text: 0, -ENOMEM, -EBADMSG with
 * why filled when a field aifs reads has the wrong type, or -EIO when the
 * text cannot be re-indented (jansson accepted it, so it should). */
static int ark_task(const char *id, const json_t *obj, struct pjson_span raw,
		    struct task_info **out, char *why, size_t size);

/* What aifs reads of a task, and the types it accepts there. */
static const struct pjson_field ark_fields[] = {
	{ "id", PJ_STR | PJ_NULL, false }, /* a get answer without one is the task asked for */
	{ "status", PJ_STR, true },
	{ "created_at", PJ_NUM | PJ_NULL, false },
	{ "updated_at", PJ_NUM | PJ_NULL, false },
	{ "content", PJ_OBJ | PJ_NULL, false },
	{ "content.video_url", PJ_STR | PJ_NULL, false },
	{ "content.last_frame_url", PJ_STR | PJ_NULL, false },
	{ "content.file_url", PJ_STR | PJ_NULL, false },
	{ "error", PJ_OBJ | PJ_NULL, false },
	{ "error.code", PJ_STR | PJ_NUM | PJ_NULL, false },
	{ "error.message", PJ_STR | PJ_NULL, false },
	{ "failure_reason", PJ_STR | PJ_OBJ | PJ_NULL, false },
};

/* What aifs reads of a listing. */
static const struct pjson_field ark_list_fields[] = {
	{ "items", PJ_ARR, true },
	{ "total", PJ_NUM | PJ_NULL, false },
};

static int ark_item(const char *id, const json_t *item, struct pjson_span raw, int hint,
		    struct task_info **out, char *why, size_t size)
{
	(void)hint;
	return ark_task(id, item, raw, out, why, size);
}

static int ark_task(const char *id, const json_t *obj, struct pjson_span raw,
		    struct task_info **out, char *why, size_t size)
{
	struct task_info *ti;
	const char *status = pjson_str(obj, "status");
	const json_t *content = json_object_get(obj, "content");
	int64_t t;
	int rc;

	*out = NULL;
	if (!pjson_shape(obj, ark_fields, sizeof ark_fields / sizeof ark_fields[0], why, size))
		return -EBADMSG;
	ti = task_info_new(id);
	if (!ti)
		return -ENOMEM;
	rc = task_info_set_status(ti, task_status_parse(status), status);
	if (rc == 0 && (pjson_int(obj, "updated_at", &t) || pjson_int(obj, "created_at", &t)))
		ti->mtime = t;
	if (rc == 0)
		rc = pjson_pretty(raw, &ti->meta, &ti->meta_len);
	if (rc == 0)
		rc = ark_set_error(ti, obj);
	if (rc == 0)
		rc = ark_output(ti, content, "video_url", "video.mp4");
	if (rc == 0)
		rc = ark_output(ti, content, "last_frame_url", "last_frame.png");
	if (rc == 0)
		rc = ark_output(ti, content, "file_url", NULL);
	if (rc == 0) {
		*out = ti;
		ti = NULL;
	}
	if (rc == -EIO)
		snprintf(why, size, "unreadable object");
	task_info_unref(ti);
	return rc;
}

/* A task: an object with a status, and with an id unless a data object
 * beside it may be the task instead (an envelope that has a status). */
static bool ark_is_task(const json_t *o)
{
	return json_is_object(o) && json_object_get(o, "status") &&
	       (json_object_get(o, "id") || !json_is_object(json_object_get(o, "data")));
}

static bool ark_is_listing(const json_t *o)
{
	return json_is_object(o) && json_object_get(o, "items");
}

/* What an answer is about, and its text (*span): root when is() says so, else
 * a data member once or twice down that is, as relays wrap answers:
 * {"code":0,"msg":..,"data":X}, {"code":"success","data":{"data":X}}. NULL
 * when none is. */
static const json_t *ark_unwrap(const json_t *root, struct pjson_span body,
				bool (*is)(const json_t *), struct pjson_span *span)
{
	const json_t *o = root;

	*span = body;
	for (int depth = 0;; depth++) {
		if (is(o))
			return o;
		o = json_object_get(o, "data");
		if (depth == 2 || !json_is_object(o) || pjson_member(*span, "data", span) < 0)
			return NULL;
	}
}

/* An envelope whose code is neither 0 nor "success": -EIO carrying its
 * message and code. 0 for any other answer. */
static int ark_envelope_error(const struct provider_conf *pc, const json_t *root,
			      struct aifs_err *err)
{
	const char *msg = pjson_str(root, "msg");
	char cbuf[64];
	const char *code = pjson_code(root, "code", cbuf, sizeof cbuf);

	if (!msg)
		msg = pjson_str(root, "message");
	if (code && strcmp(code, "0") != 0 && strcasecmp(code, "success") != 0)
		return pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, code, "%s",
				  msg && *msg ? msg : "an error without a message");
	return 0;
}

/* An answer without what was asked for: an envelope whose code is neither 0
 * nor "success" is an error carrying its message and code; else it is a
 * malformed answer, "missing". -EIO either way. */
static int ark_no_answer(const struct provider_conf *pc, const json_t *root, const char *missing,
			 struct aifs_err *err)
{
	int rc = ark_envelope_error(pc, root, err);

	if (rc < 0)
		return rc;
	return pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s", missing);
}

/* The listing's 404 or 405: the API cannot list, or base_url is wrong.
 * Says which path was tried; an answer without the API's own error (an
 * HTML page from a web server or a proxy) means the path is not the API's. */
static void ark_no_listing(const struct provider_conf *pc, long status, struct aifs_err *err)
{
	char msg[sizeof err->msg];
	bool api_said = err->pcode[0] != '\0';
	/* the path only: the host part may hold a user name and password */
	const char *path = strstr(pc->base_url, "://");
	path = path ? strchr(path + 3, '/') : NULL;

	snprintf(msg, sizeof msg, "GET %s%s answers HTTP %ld%s", path ? path : "", ARK_TASKS_PATH,
		 status, api_said ? "" : ", not with the API's own error: base_url is probably wrong");
	aifs_text_cut(err->msg, sizeof err->msg, msg);
}

static int ark_list_parse(const struct provider_conf *pc, int listing, int page,
			  const struct http_resp *resp, struct provider_page *out,
			  struct aifs_err *err)
{
	struct pjson_span body = { resp->body, resp->len }, span, items_raw, *elems = NULL;
	json_t *root = NULL;
	const json_t *listing_obj, *items;
	size_t n_elems = 0;
	int64_t total;
	char why[128];
	int rc;

	(void)listing;
	*out = (struct provider_page){ 0 };
	if (resp->status != 200) {
		rc = pjson_http_error(pc, resp, true, err);
		if (rc == -EOPNOTSUPP)
			ark_no_listing(pc, resp->status, err);
		goto out;
	}
	rc = pjson_load(resp->body, resp->len, &root, err);
	if (rc < 0)
		goto out;
	if ((rc = pjson_need_object(pc, root, err)) < 0)
		goto out;
	listing_obj = ark_unwrap(root, body, ark_is_listing, &span);
	if (!listing_obj) {
		rc = ark_no_answer(pc, root, "no items", err);
		goto out;
	}
	if (!pjson_shape(listing_obj, ark_list_fields,
			 sizeof ark_list_fields / sizeof ark_list_fields[0], why, sizeof why)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s", why);
		goto out;
	}
	items = json_object_get(listing_obj, "items");
	if (pjson_member(span, "items", &items_raw) < 0 ||
	    pjson_elements(items_raw, &elems, &n_elems) < 0 || n_elems != json_array_size(items)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL,
				"malformed answer: items cannot be read");
		goto out;
	}
	rc = pjson_page(pc, items, elems, n_elems, "id", "status", ark_item, 0, out, err);
	if (rc < 0)
		goto out;
	out->last = n_elems < ARK_PAGE_SIZE;
	if (pjson_int(listing_obj, "total", &total) && total >= 0 && total < INT64_MAX / 2) {
		int64_t pages = (total + ARK_PAGE_SIZE - 1) / ARK_PAGE_SIZE;
		out->last = out->last || (int64_t)page >= pages;
		out->pages = pages > LONG_MAX ? LONG_MAX : (long)pages;
		out->total = total;
	}
out:
	if (rc < 0)
		provider_page_clear(out);
	free(elems);
	json_decref(root);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

static int ark_get_parse(const struct provider_conf *pc, const char *id,
			 const struct http_resp *resp, struct task_info **out, struct aifs_err *err)
{
	struct pjson_span body = { resp->body, resp->len }, span;
	json_t *root = NULL;
	const json_t *task;
	const char *got;
	char why[128];
	int rc;

	*out = NULL;
	if (resp->status != 200) {
		rc = pjson_http_error(pc, resp, false, err);
		goto out;
	}
	rc = pjson_load(resp->body, resp->len, &root, err);
	if (rc < 0)
		goto out;
	if ((rc = pjson_need_object(pc, root, err)) < 0)
		goto out;
	task = ark_unwrap(root, body, ark_is_task, &span);
	if (!task) {
		rc = ark_no_answer(pc, root, "not a task object", err);
		goto out;
	}
	got = pjson_str(task, "id");
	if (got && *got && strcmp(got, id) != 0) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "answer is for another task");
		goto out;
	}
	rc = ark_task(id, task, span, out, why, sizeof why);
	if (rc < 0)
		rc = pjson_task_fail(pc, err, rc, why);
out:
	json_decref(root);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

/* ---- creating and deleting ---- */

static int ark_create_request(const struct provider_conf *pc, const char *body, size_t len,
			      const char *cred, struct http_req *req)
{
	int rc;

	if (!body || len == 0)
		return -EINVAL;
	if (!ark_cred_ok(cred))
		return -EACCES;
	rc = http_req_init(req, "POST", "%s" ARK_TASKS_PATH, pc->base_url);
	if (rc == 0)
		rc = http_req_header(req, "Authorization: Bearer %s", cred);
	if (rc == 0)
		rc = http_req_header(req, "Content-Type: application/json");
	if (rc == 0)
		rc = http_req_body(req, body, len);
	if (rc == 0)
		rc = ark_what(req, "POST", "");
	return rc;
}

/* A create's answer: an object with an id, unless a data member beside it
 * holds one (then the top level is an envelope that has an id of its own). */
static bool ark_is_created(const json_t *o)
{
	return json_is_object(o) && json_object_get(o, "id") &&
	       !json_object_get(json_object_get(o, "data"), "id");
}

/* A 2xx answer that says it failed: an error object with a code or a
 * message, as some relays send with HTTP 200. -EIO with err filled, or 0. */
static int ark_stated_error(const struct provider_conf *pc, const json_t *root,
			    struct aifs_err *err)
{
	const json_t *e = json_object_get(root, "error");
	const char *msg = pjson_str(e, "message");
	char cbuf[64];
	const char *code = pjson_code(e, "code", cbuf, sizeof cbuf);

	if (!json_is_object(e) || (!code && !msg))
		return 0;
	return pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, code ? code : "error", "%s",
			  msg && *msg ? msg : "an error without a message");
}

static int ark_create_parse(const struct provider_conf *pc, const struct http_resp *resp,
			    char **id, struct aifs_err *err)
{
	struct pjson_span body = { resp->body, resp->len }, span;
	json_t *root = NULL;
	const json_t *created;
	const char *got;
	int rc;

	*id = NULL;
	if (resp->status < 200 || resp->status > 299) {
		rc = pjson_create_error(pc, resp, err);
		goto out;
	}
	rc = pjson_load(resp->body, resp->len, &root, err);
	if (rc == 0)
		rc = pjson_need_object(pc, root, err);
	if (rc < 0)
		goto unread;
	created = ark_unwrap(root, body, ark_is_created, &span);
	if (!created) {
		rc = ark_stated_error(pc, root, err);
		if (rc == 0)
			rc = ark_no_answer(pc, root, "no id", err);
		goto unread;
	}
	got = pjson_str(created, "id");
	if (!got || !*got) {
		const json_t *v = json_object_get(created, "id");
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: id is %s",
				got ? "empty"
				    : json_is_string(v) ? "a string holding a NUL byte"
							: pjson_type_name(v));
		goto unread;
	}
	*id = strdup(got);
	if (!*id)
		rc = pjson_fail(pc, err, -ENOMEM, AIFS_RETRY_NO, NULL, "out of memory");
unread:
	pjson_create_unread(err, rc);
out:
	json_decref(root);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

static int ark_delete_request(const struct provider_conf *pc, const char *id, const char *cred,
			      struct http_req *req)
{
	return ark_task_request(pc, "DELETE", id, cred, req);
}

/* Whether a 400 to a DELETE says the task's state forbids it (running, or
 * cancelled already) rather than that the request is wrong: Ark gives no
 * code of its own for it, so its code and message are read for the word. */
static bool ark_state_refusal(const char *pcode, const char *msg)
{
	static const char *const words[] = { "status", "state", "running", "cancelled",
					     "canceled" };

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasestr(pcode, words[i]) || strcasestr(msg, words[i]))
			return true;
	return false;
}

static int ark_delete_parse(const struct provider_conf *pc, const struct http_resp *resp,
			    struct aifs_err *err)
{
	json_t *root = NULL;
	long st = resp->status;
	int rc = 0;

	if (st >= 200 && st <= 299) {
		/* the answer has no fields ({} or nothing): only a stated error counts */
		root = json_loadb(resp->body ? resp->body : "", resp->body ? resp->len : 0,
				  JSON_DECODE_ANY, NULL);
		rc = ark_stated_error(pc, root, err);
		if (rc == 0)
			rc = ark_envelope_error(pc, root, err);
	} else {
		rc = pjson_http_error(pc, resp, false, err);
		if (st == 405)
			err->code = rc = -EOPNOTSUPP;
		else if (st == 409 || (st == 400 && ark_state_refusal(err->pcode, err->msg)))
			err->code = rc = -EBUSY;
		else if (st == 400)
			err->code = rc = -EINVAL;
	}
	json_decref(root);
	if (rc == 0)
		aifs_err_clear(err);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

static const char *ark_static_cred(const struct provider_conf *pc)
{
	return pc->api_key;
}

static const struct provider_key ark_keys[] = {
	{ "api_key", PROVIDER_KEY_SECRET, offsetof(struct provider_conf, api_key) },
	{ "list", PROVIDER_KEY_LIST, offsetof(struct provider_conf, list) },
	{ NULL, 0, 0 },
};

static int ark_conf_check(const struct provider_conf *pc, struct aifs_err *err)
{
	if (!pc->api_key)
		return aifs_err_set(err, -EINVAL, "no api_key (or api_key_env, api_key_file)");
	return 0;
}

const struct provider_ops provider_ark = {
	.type = "ark",
	.n_listings = 1,
	.keys = ark_keys,
	.default_qps = 3.0,
	.conf_check = ark_conf_check,
	.list_request = ark_list_request,
	.list_parse = ark_list_parse,
	.get_request = ark_get_request,
	.get_parse = ark_get_parse,
	.token_request = NULL,
	.token_parse = NULL,
	.static_cred = ark_static_cred,
	.create_request = ark_create_request,
	.create_parse = ark_create_parse,
	.delete_request = ark_delete_request,
	.delete_parse = ark_delete_parse,
};

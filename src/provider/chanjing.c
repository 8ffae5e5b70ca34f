/* chanjing.c: the Chanjing (蝉镜) AI creation API.
 *
 * Builds list, get, create and token requests and reads their answers,
 * which come as HTTP 200 with the outcome in {"code","msg","data"}. Images
 * (type 3) and videos (type 4) are two listings. There is no cancel and no
 * delete. It refuses to know when a token expires or how often to refresh
 * it: it reports REAUTH and the caller decides. */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/pjson.h"
#include "aifs/provider.h"
#include "aifs/task.h"

#define CHANJING_PAGE_SIZE 50
#define CHANJING_TYPE_IMAGE 3
#define CHANJING_TYPE_VIDEO 4
#define CHANJING_LIST_PATH "/open/v1/ai_creation/task/page"
#define CHANJING_GET_PATH "/open/v1/ai_creation/task"
#define CHANJING_TOKEN_PATH "/open/v1/access_token"
#define CHANJING_CREATE_PATH "/open/v1/ai_creation/task/submit"

enum chanjing_op { CHANJING_LIST, CHANJING_GET, CHANJING_TOKEN, CHANJING_CREATE };

static bool chanjing_cred_ok(const char *cred)
{
	if (!cred || !*cred)
		return false;
	for (const unsigned char *s = (const unsigned char *)cred; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int chanjing_what(struct http_req *req, const char *what)
{
	char *w = strdup(what);

	if (!w)
		return -ENOMEM;
	free(req->what);
	req->what = w;
	return 0;
}

static int chanjing_list_request(const struct provider_conf *pc, int listing, int page,
				 const char *cred, struct http_req *req)
{
	int type = listing == 0 ? CHANJING_TYPE_IMAGE : CHANJING_TYPE_VIDEO;
	char body[160], what[96];
	int rc;

	if (listing < 0 || listing > 1 || page < 1)
		return -EINVAL;
	if (!chanjing_cred_ok(cred))
		return -EACCES;
	snprintf(
		body, sizeof body,
		"{\"unique_ids\":[],\"type\":%d,\"page\":%d,\"page_size\":%d,\"is_success\":false}",
		type, page, CHANJING_PAGE_SIZE);
	snprintf(what, sizeof what, "POST " CHANJING_LIST_PATH " type=%d page=%d", type, page);
	rc = http_req_init(req, "POST", "%s" CHANJING_LIST_PATH, pc->base_url);
	if (rc == 0)
		rc = http_req_header(req, "access_token: %s", cred);
	if (rc == 0)
		rc = http_req_header(req, "Content-Type: application/json");
	if (rc == 0)
		rc = http_req_body(req, body, strlen(body));
	if (rc == 0)
		rc = chanjing_what(req, what);
	return rc;
}

static int chanjing_get_request(const struct provider_conf *pc, const char *id, const char *cred,
				struct http_req *req)
{
	char *eid = NULL, *what = NULL;
	int rc;

	if (!id || !*id)
		return -EINVAL;
	if (!chanjing_cred_ok(cred))
		return -EACCES;
	rc = -ENOMEM;
	eid = http_escape(id);
	if (!eid || asprintf(&what, "GET " CHANJING_GET_PATH "?unique_id=%s", eid) < 0) {
		what = NULL;
		goto out;
	}
	rc = http_req_init(req, "GET", "%s" CHANJING_GET_PATH, pc->base_url);
	if (rc == 0)
		rc = http_req_query(req, "unique_id", id);
	if (rc == 0)
		rc = http_req_header(req, "access_token: %s", cred);
	if (rc == 0)
		rc = chanjing_what(req, what);
out:
	free(eid);
	free(what);
	return rc;
}

/* Applies only when app_id and secret_key are configured; -EACCES otherwise
 * (a static access_token alone cannot be renewed). */
static int chanjing_token_request(const struct provider_conf *pc, struct http_req *req)
{
	json_t *o = NULL;
	char *body = NULL;
	int rc = -EACCES;

	if (!pc->app_id || !*pc->app_id || !pc->secret_key || !*pc->secret_key)
		return rc;
	rc = -ENOMEM;
	o = json_pack("{s:s, s:s}", "app_id", pc->app_id, "secret_key", pc->secret_key);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!body)
		goto out;
	rc = http_req_init(req, "POST", "%s" CHANJING_TOKEN_PATH, pc->base_url);
	if (rc == 0)
		rc = http_req_header(req, "Content-Type: application/json");
	if (rc == 0)
		rc = http_req_body(req, body, strlen(body));
	if (rc == 0)
		rc = chanjing_what(req, "POST " CHANJING_TOKEN_PATH);
out:
	if (body) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	json_decref(o);
	return rc;
}

/* Reads the {"code","msg","data"} envelope. 0 with *root (new) when code is 0;
 * *data is borrowed from it and may be NULL or a JSON null. */
static int chanjing_envelope(const struct provider_conf *pc, const struct http_resp *resp,
			     enum chanjing_op op, json_t **root, json_t **data,
			     struct aifs_err *err)
{
	const char *msg;
	char pcode[32];
	int64_t code;
	int rc;
	enum aifs_retry retry = AIFS_RETRY_NO;

	*root = *data = NULL;
	if (op == CHANJING_CREATE && (resp->status < 200 || resp->status > 299))
		return pjson_create_error(pc, resp, err);
	if (resp->status != 200 && op != CHANJING_CREATE) {
		rc = pjson_http_error(pc, resp, op == CHANJING_LIST, err);
		/* The list always exists: a 404 there is a wrong base_url. */
		if (rc == -EOPNOTSUPP)
			err->code = rc = -EIO;
		if (op == CHANJING_TOKEN && rc == -ENOENT)
			err->code = rc = -EIO;
		return rc;
	}
	rc = pjson_load(resp->body, resp->len, root, err);
	if (rc < 0)
		return rc;
	if (!json_is_object(*root) || !json_is_integer(json_object_get(*root, "code")) ||
	    !pjson_int(*root, "code", &code)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: no code");
		goto fail;
	}
	if (code == 0) {
		*data = json_object_get(*root, "data");
		return 0;
	}
	rc = -EIO;
	if (code == 10400 || code == 10401) {
		rc = -EACCES;
		retry = op == CHANJING_TOKEN ? AIFS_RETRY_NO : AIFS_RETRY_REAUTH;
	} else if (code == 40001) {
		rc = -EAGAIN;
		retry = AIFS_RETRY_THROTTLED;
	} else if (code == 50000) {
		retry = AIFS_RETRY_TRANSIENT;
	} else if (op == CHANJING_TOKEN) {
		rc = -EACCES; /* the token request refused the app_id/secret_key */
	} else if (code == 40000 && op == CHANJING_GET) {
		rc = -ENOENT;
	} else if ((code == 400 || code == 40000) && op == CHANJING_CREATE) {
		rc = -EINVAL;
	}
	msg = pjson_str(*root, "msg");
	snprintf(pcode, sizeof pcode, "%lld", (long long)code);
	pjson_fail(pc, err, rc, retry, pcode, "code %s%s%s", pcode, msg && *msg ? ": " : "",
		   msg && *msg ? msg : "");
fail:
	json_decref(*root);
	*root = NULL;
	return rc;
}

static enum task_status chanjing_status(const char *desc)
{
	static const struct {
		const char *word;
		enum task_status st;
	} map[] = {
		{ "Queued", TASK_QUEUED },	{ "Ready", TASK_QUEUED },
		{ "Generating", TASK_RUNNING }, { "Success", TASK_SUCCEEDED },
		{ "Error", TASK_FAILED },	{ "Fail", TASK_FAILED },
	};

	for (size_t i = 0; desc && i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(desc, map[i].word) == 0)
			return map[i].st;
	return TASK_OTHER;
}

static bool chanjing_is_video_ext(const char *ext)
{
	static const char *const v[] = { "mp4", "mov", "webm", "mkv", "m4v", "avi" };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (strcasecmp(ext, v[i]) == 0)
			return true;
	return false;
}

/* output_url[i] when it can be an output file's (an http(s) URL with a
 * host, not a placeholder), else NULL. */
static const char *chanjing_url(const json_t *urls, size_t i)
{
	const json_t *v = json_array_get(urls, i);
	const char *u = json_string_value(v);

	return u && strlen(u) == json_string_length(v) && task_url_usable(u) ? u : NULL;
}

/* The task's type: its own "type" when 3 or 4, else the listing's; a get
 * (hint 0) guesses from the first output URL with an extension, then from a video
 * duration in motion_info, and says image otherwise. */
static int chanjing_type(const json_t *obj, int hint)
{
	const json_t *urls = json_object_get(obj, "output_url");
	int64_t t;
	char ext[16];

	if (pjson_int(obj, "type", &t) && (t == CHANJING_TYPE_IMAGE || t == CHANJING_TYPE_VIDEO))
		return (int)t;
	if (hint)
		return hint;
	for (size_t i = 0; i < json_array_size(urls); i++) {
		const char *u = chanjing_url(urls, i);
		const char *e = u ? task_url_ext(u, "", ext, sizeof ext) : "";

		if (*e)
			return chanjing_is_video_ext(e) ? CHANJING_TYPE_VIDEO : CHANJING_TYPE_IMAGE;
	}
	if (pjson_int(json_object_get(obj, "motion_info"), "video_duration", &t) && t > 0)
		return CHANJING_TYPE_VIDEO;
	return CHANJING_TYPE_IMAGE;
}

/* image.EXT, or image-1.EXT, image-2.EXT ... when several; each URL gives
 * its own EXT. Unusable URLs show no file and take no number; only -ENOMEM
 * fails. */
static int chanjing_outputs(struct task_info *ti, const json_t *obj, int type)
{
	const json_t *urls = json_object_get(obj, "output_url");
	const char *base = type == CHANJING_TYPE_VIDEO ? "video" : "image";
	const char *def = type == CHANJING_TYPE_VIDEO ? "mp4" : "png";
	size_t n = 0, k = 0;

	for (size_t i = 0; i < json_array_size(urls); i++)
		n += chanjing_url(urls, i) != NULL;
	for (size_t i = 0; i < json_array_size(urls); i++) {
		const char *u = chanjing_url(urls, i);
		char ext[16], name[64];
		int rc;

		if (!u)
			continue;
		k++;
		if (n == 1)
			snprintf(name, sizeof name, "%s.%s", base,
				 task_url_ext(u, def, ext, sizeof ext));
		else
			snprintf(name, sizeof name, "%s-%zu.%s", base, k,
				 task_url_ext(u, def, ext, sizeof ext));
		rc = task_info_add_output(ti, name, u);
		if (rc == -ENOMEM)
			return rc;
		if (rc == -E2BIG)
			break;
	}
	return 0;
}

/* What aifs reads of a task, and the types it accepts there. */
static const struct pjson_field chanjing_fields[] = {
	{ "unique_id", PJ_STR | PJ_NULL, false }, /* a get answer without one is the task asked for */
	{ "progress_desc", PJ_STR | PJ_NULL, true },
	{ "create_time", PJ_NUM | PJ_NULL, false },
	{ "type", PJ_NUM | PJ_NULL, false },
	{ "output_url", PJ_ARR | PJ_NULL, false },
	{ "err_msg", PJ_STR | PJ_NULL, false },
};

/* What aifs reads of a listing's answer. */
static const struct pjson_field chanjing_list_fields[] = {
	{ "data", PJ_OBJ, true },
	{ "data.list", PJ_ARR | PJ_NULL, true },
	{ "data.total", PJ_NUM | PJ_NULL, false },
	{ "data.page_info", PJ_OBJ | PJ_NULL, false },
	{ "data.page_info.page", PJ_NUM | PJ_NULL, false },
	{ "data.page_info.size", PJ_NUM | PJ_NULL, false },
	{ "data.page_info.total_count", PJ_NUM | PJ_NULL, false },
	{ "data.page_info.total_page", PJ_NUM | PJ_NULL, false },
};

/* What aifs reads of a token's answer. */
static const struct pjson_field chanjing_token_fields[] = {
	{ "data", PJ_OBJ, true },
	{ "data.access_token", PJ_STR, true },
	{ "data.expire_in", PJ_NUM | PJ_NULL, false },
};

#define CHANJING_N(fields) (sizeof fields / sizeof fields[0])

/* One task from its object and the object's text: 0, -ENOMEM, -EBADMSG
 * with why filled when a field aifs reads has the wrong type, or -EIO. */
static int chanjing_task(const char *id, const json_t *obj, struct pjson_span raw, int type_hint,
			 struct task_info **out, char *why, size_t size)
{
	struct task_info *ti;
	const char *desc = pjson_str(obj, "progress_desc");
	int64_t t;
	int rc;

	*out = NULL;
	if (!pjson_shape(obj, chanjing_fields, CHANJING_N(chanjing_fields), why, size))
		return -EBADMSG;
	ti = task_info_new(id);
	if (!ti)
		return -ENOMEM;
	rc = task_info_set_status(ti, chanjing_status(desc), desc);
	if (rc == 0 && pjson_int(obj, "create_time", &t))
		ti->mtime = t;
	if (rc == 0)
		rc = pjson_pretty(raw, &ti->meta, &ti->meta_len);
	if (rc == 0)
		rc = task_info_set_error(ti, NULL, pjson_str(obj, "err_msg"));
	if (rc == 0)
		rc = chanjing_outputs(ti, obj, chanjing_type(obj, type_hint));
	if (rc == 0) {
		*out = ti;
		ti = NULL;
	}
	if (rc == -EIO)
		snprintf(why, size, "unreadable object");
	task_info_unref(ti);
	return rc;
}

static int chanjing_list_parse(const struct provider_conf *pc, int listing, int page,
			       const struct http_resp *resp, struct provider_page *out,
			       struct aifs_err *err)
{
	struct pjson_span body = { resp->body, resp->len }, span, *elems = NULL;
	json_t *root = NULL, *data;
	const json_t *list;
	size_t n_elems = 0;
	int64_t total_page;
	char why[128];
	int rc;

	*out = (struct provider_page){ 0 };
	rc = chanjing_envelope(pc, resp, CHANJING_LIST, &root, &data, err);
	if (rc < 0)
		goto out;
	if (!pjson_shape(root, chanjing_list_fields, CHANJING_N(chanjing_list_fields), why,
			 sizeof why)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s", why);
		goto out;
	}
	list = json_object_get(data, "list");
	/* A Go server sends an empty list as null; a null that claims tasks is wrong. */
	if (json_is_object(data) && json_is_null(list)) {
		int64_t total = 0, count = 0;
		pjson_int(data, "total", &total);
		pjson_int(json_object_get(data, "page_info"), "total_count", &count);
		if (total > 0 || count > 0)
			rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL,
					"malformed answer: data.list is null but %lld tasks are said",
					(long long)(total > count ? total : count));
		out->last = true;
		goto out;
	}
	if (pjson_member(body, "data", &span) < 0 || pjson_member(span, "list", &span) < 0 ||
	    pjson_elements(span, &elems, &n_elems) < 0 || n_elems != json_array_size(list)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL,
				"malformed answer: data.list cannot be read");
		goto out;
	}
	rc = pjson_page(pc, list, elems, n_elems, "unique_id", "progress_desc", chanjing_task,
			listing == 0 ? CHANJING_TYPE_IMAGE : CHANJING_TYPE_VIDEO, out, err);
	if (rc < 0)
		goto out;
	out->last = n_elems < CHANJING_PAGE_SIZE;
	if (pjson_int(json_object_get(data, "page_info"), "total_page", &total_page) &&
	    total_page >= 0) {
		int64_t count = -1, total = -1;
		out->last = out->last || page >= total_page;
		out->pages = total_page > LONG_MAX ? LONG_MAX : (long)total_page;
		pjson_int(json_object_get(data, "page_info"), "total_count", &count);
		pjson_int(data, "total", &total);
		out->total = count >= 0 ? count : total >= 0 ? total : -1;
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

static int chanjing_get_parse(const struct provider_conf *pc, const char *id,
			      const struct http_resp *resp, struct task_info **out,
			      struct aifs_err *err)
{
	struct pjson_span body = { resp->body, resp->len }, span;
	json_t *root = NULL, *data;
	const char *got;
	char why[128];
	int rc;

	*out = NULL;
	rc = chanjing_envelope(pc, resp, CHANJING_GET, &root, &data, err);
	if (rc < 0)
		goto out;
	if (json_is_null(data)) {
		rc = pjson_fail(pc, err, -ENOENT, AIFS_RETRY_NO, NULL, "no such task");
		goto out;
	}
	if (!json_is_object(data) || !json_object_get(data, "progress_desc") ||
	    pjson_member(body, "data", &span) < 0) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: data is %s",
				!json_is_object(data) ? pjson_type_name(data)
						      : "an object without progress_desc");
		goto out;
	}
	got = pjson_str(data, "unique_id");
	if (got && *got && strcmp(got, id) != 0) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "answer is for another task");
		goto out;
	}
	rc = chanjing_task(id, data, span, 0, out, why, sizeof why);
	if (rc < 0)
		rc = pjson_task_fail(pc, err, rc, why);
out:
	json_decref(root);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

static int chanjing_token_parse(const struct provider_conf *pc, const struct http_resp *resp,
				char **token, int64_t *expires_at, struct aifs_err *err)
{
	json_t *root = NULL, *data;
	const char *tok;
	int64_t exp;
	char why[128];
	int rc;

	*token = NULL;
	*expires_at = 0;
	rc = chanjing_envelope(pc, resp, CHANJING_TOKEN, &root, &data, err);
	if (rc < 0)
		goto out;
	if (!pjson_shape(root, chanjing_token_fields, CHANJING_N(chanjing_token_fields), why,
			 sizeof why)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s", why);
		goto out;
	}
	tok = pjson_str(data, "access_token");
	if (!chanjing_cred_ok(tok)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL,
				"malformed answer: data.access_token is empty or holds a control "
				"character");
		goto out;
	}
	*token = strdup(tok);
	if (!*token) {
		rc = pjson_fail(pc, err, -ENOMEM, AIFS_RETRY_NO, NULL, "out of memory");
		goto out;
	}
	/* The vendor says a Unix time; some clients read seconds from now. */
	if (pjson_int(data, "expire_in", &exp) && exp > 0)
		*expires_at = exp > 1000000000 ? exp : (int64_t)time(NULL) + exp;
out:
	json_decref(root);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

static int chanjing_create_request(const struct provider_conf *pc, const char *body, size_t len,
				   const char *cred, struct http_req *req)
{
	int rc;

	if (!body || len == 0)
		return -EINVAL;
	if (!chanjing_cred_ok(cred))
		return -EACCES;
	rc = http_req_init(req, "POST", "%s" CHANJING_CREATE_PATH, pc->base_url);
	if (rc == 0)
		rc = http_req_header(req, "access_token: %s", cred);
	if (rc == 0)
		rc = http_req_header(req, "Content-Type: application/json");
	if (rc == 0)
		rc = http_req_body(req, body, len);
	if (rc == 0)
		rc = chanjing_what(req, "POST " CHANJING_CREATE_PATH);
	return rc;
}

/* {"code":0,"data":"<unique_id>"}; a data object with a unique_id is read
 * too. Any failure to read a 2xx answer that did not state one leaves the
 * task unknown (provider.h). */
static int chanjing_create_parse(const struct provider_conf *pc, const struct http_resp *resp,
				 char **id, struct aifs_err *err)
{
	json_t *root = NULL, *data;
	const json_t *idv;
	const char *got;
	int rc;

	*id = NULL;
	rc = chanjing_envelope(pc, resp, CHANJING_CREATE, &root, &data, err);
	if (rc < 0)
		goto out;
	idv = json_is_object(data) ? json_object_get(data, "unique_id") : data;
	got = json_string_value(idv);
	if (!got || !*got || strlen(got) != json_string_length(idv)) {
		rc = pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s is %s",
				json_is_object(data) ? "data.unique_id" : "data",
				!got ? pjson_type_name(idv)
				     : !*got ? "empty" : "a string holding a NUL byte");
		goto out;
	}
	*id = strdup(got);
	if (!*id)
		rc = pjson_fail(pc, err, -ENOMEM, AIFS_RETRY_NO, NULL, "out of memory");
out:
	if (resp->status >= 200 && resp->status <= 299)
		pjson_create_unread(err, rc);
	json_decref(root);
	err->http_status = resp->status;
	err->retry_after = resp->retry_after;
	return rc;
}

/* A configured access_token; NULL when only app_id and secret_key are, and
 * then the caller exchanges them with token_request. */
static const char *chanjing_static_cred(const struct provider_conf *pc)
{
	return pc->access_token && *pc->access_token ? pc->access_token : NULL;
}

static const struct provider_key chanjing_keys[] = {
	{ "app_id", PROVIDER_KEY_TEXT, offsetof(struct provider_conf, app_id) },
	{ "secret_key", PROVIDER_KEY_SECRET, offsetof(struct provider_conf, secret_key) },
	{ "access_token", PROVIDER_KEY_SECRET, offsetof(struct provider_conf, access_token) },
	{ NULL, 0, 0 },
};

/* A static token, or what to obtain one with: one of the two. */
static int chanjing_conf_check(const struct provider_conf *pc, struct aifs_err *err)
{
	if (pc->access_token && (pc->app_id || pc->secret_key))
		return aifs_err_set(err, -EINVAL,
				    "give access_token, or app_id and secret_key, not both");
	if (!pc->access_token && (!pc->app_id || !pc->secret_key))
		return aifs_err_set(err, -EINVAL, "needs access_token, or app_id and secret_key");
	return 0;
}

const struct provider_ops provider_chanjing = {
	.type = "chanjing",
	.n_listings = 2,
	.keys = chanjing_keys,
	.default_qps = 1.0,
	.conf_check = chanjing_conf_check,
	.list_request = chanjing_list_request,
	.list_parse = chanjing_list_parse,
	.get_request = chanjing_get_request,
	.get_parse = chanjing_get_parse,
	.token_request = chanjing_token_request,
	.token_parse = chanjing_token_parse,
	.static_cred = chanjing_static_cred,
	.create_request = chanjing_create_request,
	.create_parse = chanjing_create_parse,
	.delete_request = NULL, /* no cancel, no delete */
	.delete_parse = NULL,
};

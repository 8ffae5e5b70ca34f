/* fuzz_ark.c: the Ark parsers (list, get, create, delete) on any HTTP
 * answer, and provider_request_check() on the same bytes as a request.
 *
 * Input: one control byte, then the answer's body. The control byte's low
 * three bits pick the status (0-3: 200, 4: 404, 5: 429, 6: 500, 7: 401, so
 * "0{...}" is a 200 answer and most inputs reach the JSON); bit 0x40 asks
 * get_parse for another task's id than the answer's own. Answers may come
 * in relays' envelopes ({"code":0,"data":TASK}, twice nested at most).
 *
 * Whatever the answer, the results keep provider.h's promises, and a 200
 * answer that is JSON gives the same results when jansson spells it anew:
 * the text scanner (pjson_member, pjson_elements, pjson_pretty) and jansson
 * must agree on what the answer says. */
#include <errno.h>
#include <jansson.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/provider.h"
#include "aifs/task.h"
#include "fjson.h"
#include "fuzz.h"

const char fuzz_target_name[] = "ark";

#define FA_ARK_PAGE 500 /* ark.c's page size: fewer items means the last page */

static const long fa_status[8] = {200, 200, 200, 200, 404, 429, 500, 401};

static const struct provider_conf fa_pc = {
    .name = "volc",
    .type = "ark",
    .base_url = "https://ark.example.com/api/v3",
    .api_key = "FZSECRET-ark-0123",
};

/* One spelling of an answer: its body, as JSON, and without blanks. */
struct fa_answer {
	struct http_resp resp;
	json_t *root;
	size_t flags;
	char *min;
	size_t min_len;
};

static void fa_answer_init(struct fa_answer *a, long status, char *body, size_t len)
{
	a->resp = (struct http_resp){.status = status, .body = body, .len = len, .retry_after = -1};
	a->root = fjson_load(body, len, &a->flags);
	a->min = fjson_minify(body, len, &a->min_len);
}

static void fa_answer_free(struct fa_answer *a)
{
	json_decref(a->root);
	free(a->min);
	free(a->resp.body);
}

static void fa_check_status(const char *what, const struct http_resp *resp, int rc,
			    const struct aifs_err *err, int on_404)
{
	if (resp->status == 404)
		FUZZ_CHECK(rc == on_404, "%s: HTTP 404 gave %d", what, rc);
	if (resp->status == 401)
		FUZZ_CHECK(rc == -EACCES, "%s: HTTP 401 gave %d", what, rc);
	if (resp->status == 429)
		FUZZ_CHECK(rc == -EAGAIN, "%s: HTTP 429 gave %d", what, rc);
	if (resp->status == 500)
		FUZZ_CHECK(rc == -EIO && err->retry == AIFS_RETRY_TRANSIENT,
			   "%s: HTTP 500 gave %d retry %d", what, rc, (int)err->retry);
}

/* SPEC's reading of relays' envelopes: what an answer is about is the top
 * level, its data, or its data's data, the first that is a task (or a
 * listing); a task has a status, and an id unless a data object is beside. */
static bool fa_is_task(const json_t *o)
{
	return json_is_object(o) && json_object_get(o, "status") &&
	       (json_object_get(o, "id") || !json_is_object(json_object_get(o, "data")));
}

static bool fa_is_listing(const json_t *o)
{
	return json_is_object(o) && json_object_get(o, "items");
}

static const json_t *fa_inner(const json_t *root, bool (*is)(const json_t *))
{
	const json_t *o = root;

	for (int depth = 0; depth < 3 && json_is_object(o); depth++, o = json_object_get(o, "data"))
		if (is(o))
			return o;
	return NULL;
}

/* list_parse of a into *pg (cleared by the caller); returns its errno. */
static int fa_list(const struct fa_answer *a, struct provider_page *pg)
{
	const json_t *items = json_object_get(fa_inner(a->root, fa_is_listing), "items");
	struct aifs_err err;
	size_t k = 0;
	int rc;

	*pg = (struct provider_page){.tasks = (void *)pg, .n_tasks = 77}; /* overwritten */
	aifs_err_clear(&err);
	rc = provider_ark.list_parse(&fa_pc, 0, 1, &a->resp, pg, &err);
	fjson_check_err(&fa_pc, FJSON_LIST, rc, &a->resp, &err);
	fa_check_status("list", &a->resp, rc, &err, -EOPNOTSUPP);
	if (rc < 0) {
		FUZZ_CHECK(pg->tasks == NULL && pg->n_tasks == 0, "list failed (%d) but left tasks",
			   rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status == 200 && json_is_object(a->root) && json_is_array(items),
		   "list accepted HTTP %ld without an items list (at most twice in data)",
		   a->resp.status);
	FUZZ_CHECK(pg->tasks != NULL, "list: no task array");
	FUZZ_CHECK(pg->n_tasks + pg->skipped == json_array_size(items),
		   "list: %zu tasks and %zu skipped of %zu items", pg->n_tasks, pg->skipped,
		   json_array_size(items));
	if (json_array_size(items) < FA_ARK_PAGE)
		FUZZ_CHECK(pg->last, "list: %zu items, but not the last page",
			   json_array_size(items));
	/* The tasks are items with ids, in order, each its own item's text. */
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *item = json_array_get(items, i);
		const char *id = fjson_str(item, "id");
		const struct task_info *ti = k < pg->n_tasks ? pg->tasks[k] : NULL;

		if (!ti || !json_is_object(item) || !id || strcmp(ti->id, id) != 0 ||
		    !fjson_meta_is(ti, item, a->flags))
			continue; /* skipped, or another item with this id is the task */
		k++;
		fuzz_check_task(ti);
		fjson_check_meta(ti, item, a->flags, a->min, a->min_len);
	}
	FUZZ_CHECK(k == pg->n_tasks, "list: %zu tasks, only %zu of them items of the answer",
		   pg->n_tasks, k);
	return 0;
}

/* get_parse of a for id into *ti; returns its errno. */
static int fa_get(const struct fa_answer *a, const char *id, struct task_info **ti)
{
	const json_t *task = fa_inner(a->root, fa_is_task);
	const char *own = fjson_str(task, "id");
	struct aifs_err err;
	int rc;

	*ti = (void *)ti; /* overwritten */
	aifs_err_clear(&err);
	rc = provider_ark.get_parse(&fa_pc, id, &a->resp, ti, &err);
	fjson_check_err(&fa_pc, FJSON_GET, rc, &a->resp, &err);
	fa_check_status("get", &a->resp, rc, &err, -ENOENT);
	if (rc < 0) {
		FUZZ_CHECK(*ti == NULL, "get failed (%d) but gave a task", rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status == 200 && task, "get accepted HTTP %ld, %s", a->resp.status,
		   task ? "a task" : "no task (at most twice in data)");
	FUZZ_CHECK(!own || !*own || strcmp(own, id) == 0,
		   "get: asked for %s, accepted the answer for %s", id, own);
	fuzz_check_task(*ti);
	FUZZ_CHECK(strcmp((*ti)->id, id) == 0, "get: task id \"%s\", asked for \"%s\"", (*ti)->id,
		   id);
	fjson_check_meta(*ti, task, a->flags, a->min, a->min_len);
	return 0;
}

/* A create's answer: the top level, its data or its data's data that has
 * an id (unless its own data has one). */
static bool fa_is_created(const json_t *o)
{
	return json_is_object(o) && json_object_get(o, "id") &&
	       !json_object_get(json_object_get(o, "data"), "id");
}

/* create_parse of a; returns its errno, *id new or NULL. */
static int fa_create(const struct fa_answer *a, char **id)
{
	const json_t *created = fa_inner(a->root, fa_is_created);
	struct aifs_err err;
	int rc;

	*id = (char *)"not overwritten";
	aifs_err_clear(&err);
	rc = provider_ark.create_parse(&fa_pc, &a->resp, id, &err);
	fjson_check_err(&fa_pc, FJSON_CREATE, rc, &a->resp, &err);
	fa_check_status("create", &a->resp, rc, &err, -EOPNOTSUPP);
	if (rc < 0) {
		FUZZ_CHECK(*id == NULL, "create failed (%d) but gave an id", rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status >= 200 && a->resp.status <= 299 && created,
		   "create accepted HTTP %ld without an id (at most twice in data)", a->resp.status);
	fjson_check_id(*id, fjson_str(created, "id"));
	return 0;
}

/* delete_parse of a; returns its errno. */
static int fa_delete(const struct fa_answer *a)
{
	struct aifs_err err;
	int rc;

	aifs_err_clear(&err);
	rc = provider_ark.delete_parse(&fa_pc, &a->resp, &err);
	fjson_check_err(&fa_pc, FJSON_DELETE, rc, &a->resp, &err);
	fa_check_status("delete", &a->resp, rc, &err, -ENOENT);
	if (a->resp.status == 200)
		FUZZ_CHECK(rc == 0 || (rc == -EIO && err.retry == AIFS_RETRY_NO && err.pcode[0]),
			   "delete: HTTP 200 gave %d without an error it states", rc);
	else
		FUZZ_CHECK(rc < 0, "delete: HTTP %ld taken as done", a->resp.status);
	if (rc == 0)
		FUZZ_CHECK(err.msg[0] == '\0', "delete: done, with a message \"%s\"", err.msg);
	return rc;
}

/* provider_request_check agrees with jansson: one object, nothing else. */
static void fa_request_check(const uint8_t *p, size_t n)
{
	char why[96];
	json_error_t je;
	json_t *v = NULL;
	int rc = provider_request_check((const char *)p, n, why, sizeof why);

	if (!memchr(p, '\0', n)) {
		v = json_loadb((const char *)p, n, JSON_ALLOW_NUL, &je);
		if (!v && json_error_code(&je) == json_error_numeric_overflow)
			v = json_loadb((const char *)p, n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
				       &je);
	}
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "request check gave %d", rc);
	if (rc != -ENOMEM)
		FUZZ_CHECK((rc == 0) == json_is_object(v),
			   "request check gave %d (\"%s\"), jansson reads %s", rc, why,
			   v ? (json_is_object(v) ? "an object" : "an array") : "no JSON");
	FUZZ_CHECK(rc == 0 ? why[0] == '\0' : why[0] != '\0', "request check: why \"%s\" for %d",
		   why, rc);
	FUZZ_CHECK(!fuzz_has_ctrl(why, strlen(why)), "request check: why is not one line");
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fa_answer a, b;
	struct provider_page pa, pb;
	struct task_info *ta, *tb;
	const char *own, *id;
	size_t len;
	int ra, rb;

	char *ia, *ib;

	if (size < 1)
		return 0;
	fa_request_check(data + 1, size - 1);
	fa_answer_init(&a, fa_status[data[0] & 7], fuzz_dup(data + 1, size - 1), size - 1);
	own = fjson_str(fa_inner(a.root, fa_is_task), "id");
	id = (data[0] & 0x40) ? "cgt-fuzz-other" : own && *own ? own : "cgt-fuzz";

	ra = fa_list(&a, &pa);
	if (a.resp.status == 200 && a.root) {
		char *body = fjson_respell(a.root, &len);

		fa_answer_init(&b, 200, body, len);
		rb = fa_list(&b, &pb);
		FUZZ_CHECK(ra == rb, "respelt: list gave %d, then %d", ra, rb);
		fjson_same_page(&pa, a.flags, &pb, b.flags);
		provider_page_clear(&pb);

		ra = fa_get(&a, id, &ta);
		rb = fa_get(&b, id, &tb);
		FUZZ_CHECK(ra == rb, "respelt: get gave %d, then %d", ra, rb);
		if (ra == 0)
			fjson_same_task(ta, a.flags, tb, b.flags);
		task_info_unref(tb);

		ra = fa_create(&a, &ia);
		rb = fa_create(&b, &ib);
		FUZZ_CHECK(ra == rb && (ra || strcmp(ia, ib) == 0), "respelt: create gave %d, then %d",
			   ra, rb);
		free(ia);
		free(ib);
		ra = fa_delete(&a);
		rb = fa_delete(&b);
		FUZZ_CHECK(ra == rb, "respelt: delete gave %d, then %d", ra, rb);
		fa_answer_free(&b);
	} else {
		ra = fa_get(&a, id, &ta);
		fa_create(&a, &ia);
		free(ia);
		fa_delete(&a);
	}
	task_info_unref(ta);
	provider_page_clear(&pa);
	fa_answer_free(&a);
	return 0;
}

/* fuzz_chanjing.c: the Chanjing parsers (list, get, token, create) on any
 * HTTP answer.
 *
 * Input: one control byte, then the answer's body. The control byte's low
 * three bits pick the status (0-3: 200, 4: 404, 5: 429, 6: 500, 7: 401, so
 * "0{...}" is a 200 answer); bit 0x08 picks the video listing instead of
 * the images; bit 0x40 asks get_parse for another task's id than the
 * answer's own.
 *
 * Whatever the answer, the results keep provider.h's promises, and a 200
 * answer that is JSON gives the same results when jansson spells it anew. */
#include <errno.h>
#include <jansson.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/pjson.h"
#include "aifs/provider.h"
#include "aifs/task.h"
#include "fjson.h"
#include "fuzz.h"

const char fuzz_target_name[] = "chanjing";

#define FC_PAGE 50 /* chanjing.c's page size */

static const long fc_status[8] = {200, 200, 200, 200, 404, 429, 500, 401};

static const struct provider_conf fc_pc = {
    .name = "chanjing",
    .type = "chanjing",
    .base_url = "https://open-api.chanjing.cc",
    .app_id = "cj-app-42",
    .secret_key = "FUZZSECRET-cj-0099",
    .access_token = "FUZZTOKEN-cj-4242",
};

struct fc_answer {
	struct http_resp resp;
	json_t *root;
	const json_t *data; /* borrowed from root */
	bool ok;	    /* {"code": 0} */
	size_t flags;
	char *min;
	size_t min_len;
};

static void fc_answer_init(struct fc_answer *a, long status, char *body, size_t len)
{
	int64_t code;

	a->resp = (struct http_resp){.status = status, .body = body, .len = len, .retry_after = -1};
	a->root = fjson_load(body, len, &a->flags);
	a->min = fjson_minify(body, len, &a->min_len);
	a->data = json_object_get(a->root, "data");
	a->ok = json_is_object(a->root) && pjson_int(a->root, "code", &code) && code == 0;
}

static void fc_answer_free(struct fc_answer *a)
{
	json_decref(a->root);
	free(a->min);
	free(a->resp.body);
}

static void fc_check_status(const char *what, const struct http_resp *resp, int rc,
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

static int fc_list(const struct fc_answer *a, int listing, struct provider_page *pg)
{
	const json_t *list = json_object_get(a->data, "list");
	struct aifs_err err;
	size_t k = 0;
	int rc;

	*pg = (struct provider_page){.tasks = (void *)pg, .n_tasks = 77}; /* overwritten */
	aifs_err_clear(&err);
	rc = provider_chanjing.list_parse(&fc_pc, listing, 1, &a->resp, pg, &err);
	fjson_check_err(&fc_pc, FJSON_LIST, rc, &a->resp, &err);
	fc_check_status("list", &a->resp, rc, &err, -EIO);
	if (rc < 0) {
		FUZZ_CHECK(pg->tasks == NULL && pg->n_tasks == 0, "list failed (%d) but left tasks",
			   rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status == 200 && a->ok, "list accepted HTTP %ld, code not 0",
		   a->resp.status);
	FUZZ_CHECK(json_is_array(list) || (json_is_object(a->data) && json_is_null(list)),
		   "list accepted an answer without data.list");
	FUZZ_CHECK(pg->n_tasks + pg->skipped == json_array_size(list),
		   "list: %zu tasks and %zu skipped of %zu items", pg->n_tasks, pg->skipped,
		   json_array_size(list));
	if (json_array_size(list) < FC_PAGE)
		FUZZ_CHECK(pg->last, "list: %zu items, but not the last page",
			   json_array_size(list));
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *item = json_array_get(list, i);
		const char *id = fjson_str(item, "unique_id");
		const struct task_info *ti = k < pg->n_tasks ? pg->tasks[k] : NULL;

		if (!ti || !json_is_object(item) || !id || strcmp(ti->id, id) != 0 ||
		    !fjson_meta_is(ti, item, a->flags))
			continue; /* skipped, or another item with this id is the task */
		k++;
		fuzz_check_task(ti);
		FUZZ_CHECK(ti->status != TASK_EXPIRED && ti->status != TASK_CANCELLED,
			   "chanjing has no word for status %d", (int)ti->status);
		fjson_check_meta(ti, item, a->flags, a->min, a->min_len);
	}
	FUZZ_CHECK(k == pg->n_tasks, "list: %zu tasks, only %zu of them items of the answer",
		   pg->n_tasks, k);
	return 0;
}

static int fc_get(const struct fc_answer *a, const char *id, struct task_info **ti)
{
	const char *own = fjson_str(a->data, "unique_id");
	struct aifs_err err;
	int rc;

	*ti = (void *)ti; /* overwritten */
	aifs_err_clear(&err);
	rc = provider_chanjing.get_parse(&fc_pc, id, &a->resp, ti, &err);
	fjson_check_err(&fc_pc, FJSON_GET, rc, &a->resp, &err);
	fc_check_status("get", &a->resp, rc, &err, -ENOENT);
	if (rc < 0) {
		FUZZ_CHECK(*ti == NULL, "get failed (%d) but gave a task", rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status == 200 && a->ok && json_is_object(a->data),
		   "get accepted HTTP %ld without code 0 and a data object", a->resp.status);
	FUZZ_CHECK(!own || !*own || strcmp(own, id) == 0,
		   "get: asked for %s, accepted the answer for %s", id, own);
	fuzz_check_task(*ti);
	FUZZ_CHECK(strcmp((*ti)->id, id) == 0, "get: task id \"%s\", asked for \"%s\"", (*ti)->id,
		   id);
	fjson_check_meta(*ti, a->data, a->flags, a->min, a->min_len);
	return 0;
}

static int fc_token(const struct fc_answer *a, char **token, int64_t *expires_at)
{
	struct aifs_err err;
	int rc;

	*token = (char *)"not overwritten";
	*expires_at = -77;
	aifs_err_clear(&err);
	rc = provider_chanjing.token_parse(&fc_pc, &a->resp, token, expires_at, &err);
	fjson_check_err(&fc_pc, FJSON_TOKEN, rc, &a->resp, &err);
	fc_check_status("token", &a->resp, rc, &err, -EIO);
	if (rc < 0) {
		FUZZ_CHECK(*token == NULL, "token failed (%d) but gave a token", rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status == 200 && a->ok, "token accepted HTTP %ld, code not 0",
		   a->resp.status);
	FUZZ_CHECK(*token && **token && !fuzz_has_ctrl(*token, strlen(*token)),
		   "token unusable in a header line");
	FUZZ_CHECK(fjson_str(a->data, "access_token") &&
		       strcmp(*token, fjson_str(a->data, "access_token")) == 0,
		   "token is not the answer's");
	FUZZ_CHECK(*expires_at >= 0, "expires_at %lld", (long long)*expires_at);
	return 0;
}

/* create_parse of a; returns its errno, *id new or NULL. */
static int fc_create(const struct fc_answer *a, char **id)
{
	const json_t *idv = json_is_object(a->data) ? json_object_get(a->data, "unique_id") : a->data;
	struct aifs_err err;
	int rc;

	*id = (char *)"not overwritten";
	aifs_err_clear(&err);
	rc = provider_chanjing.create_parse(&fc_pc, &a->resp, id, &err);
	fjson_check_err(&fc_pc, FJSON_CREATE, rc, &a->resp, &err);
	fc_check_status("create", &a->resp, rc, &err, -EOPNOTSUPP);
	if (rc < 0) {
		FUZZ_CHECK(*id == NULL, "create failed (%d) but gave an id", rc);
		return rc;
	}
	FUZZ_CHECK(a->resp.status == 200 && a->ok, "create accepted HTTP %ld, code not 0",
		   a->resp.status);
	fjson_check_id(*id, json_is_string(idv) &&
				    strlen(json_string_value(idv)) == json_string_length(idv)
			       ? json_string_value(idv)
			       : NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_answer a, b;
	struct provider_page pa, pb;
	struct task_info *ta, *tb;
	char *ka, *kb, *ia, *ib;
	int64_t ea, eb;
	const char *own, *id;
	int listing, ra, rb;
	size_t len;

	if (size < 1)
		return 0;
	fc_answer_init(&a, fc_status[data[0] & 7], fuzz_dup(data + 1, size - 1), size - 1);
	listing = (data[0] & 0x08) ? 1 : 0;
	own = fjson_str(a.data, "unique_id");
	id = (data[0] & 0x40) ? "fuzz-other-id" : own && *own ? own : "fuzz-id";

	ra = fc_list(&a, listing, &pa);
	fc_get(&a, id, &ta);
	fc_token(&a, &ka, &ea);
	fc_create(&a, &ia);
	if (a.resp.status == 200 && a.root) {
		char *body = fjson_respell(a.root, &len);

		fc_answer_init(&b, 200, body, len);
		rb = fc_list(&b, listing, &pb);
		FUZZ_CHECK(ra == rb, "respelt: list gave %d, then %d", ra, rb);
		fjson_same_page(&pa, a.flags, &pb, b.flags);
		provider_page_clear(&pb);

		rb = fc_get(&b, id, &tb);
		FUZZ_CHECK(!ta == !tb, "respelt: get gave %s, then %d", ta ? "a task" : "none", rb);
		if (ta)
			fjson_same_task(ta, a.flags, tb, b.flags);
		task_info_unref(tb);

		rb = fc_token(&b, &kb, &eb);
		FUZZ_CHECK(!ka == !kb && (!ka || strcmp(ka, kb) == 0), "respelt: token %s, then %d",
			   ka ? ka : "refused", rb);
		FUZZ_CHECK(ea == eb || (ea > 0 && eb > 0 && (ea - eb < 3 && eb - ea < 3)),
			   "respelt: expires_at %lld, then %lld", (long long)ea, (long long)eb);
		free(kb);

		rb = fc_create(&b, &ib);
		FUZZ_CHECK(!ia == !ib && (!ia || strcmp(ia, ib) == 0), "respelt: create %s, then %d",
			   ia ? ia : "refused", rb);
		free(ib);
		fc_answer_free(&b);
	}
	free(ia);
	free(ka);
	task_info_unref(ta);
	provider_page_clear(&pa);
	fc_answer_free(&a);
	return 0;
}

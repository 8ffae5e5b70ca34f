/* test_ark.c: the Ark family provider, fed the answers in tests/fixtures/. */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <stdlib.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/provider.h"
#include "aifs/task.h"
#include "t.h"
#include "tfix.h"

static struct provider_conf ark_pc = {
	.name = "volc",
	.type = "ark",
	.base_url = "https://ark.cn-beijing.volces.com/api/v3",
	.api_key = "ark-0123456789abcdef-secret",
};

/* list_parse of a fixture into pg; returns the errno. */
static int list_fixture(long status, const char *path, int page, struct provider_page *pg,
			struct aifs_err *err)
{
	struct http_resp r;

	tfix_resp(&r, status, path);
	return tfix_list(&provider_ark, &ark_pc, 0, page, &r, pg, err);
}

static int get_fixture(long status, const char *path, const char *id, struct task_info **ti,
		       struct aifs_err *err)
{
	struct http_resp r;

	tfix_resp(&r, status, path);
	return tfix_get(&provider_ark, &ark_pc, id, &r, ti, err);
}

static int list_text(const char *text, int page, struct provider_page *pg, struct aifs_err *err)
{
	struct http_resp r;

	tfix_text(&r, 200, text);
	return tfix_list(&provider_ark, &ark_pc, 0, page, &r, pg, err);
}

static int get_text(const char *text, const char *id, struct task_info **ti, struct aifs_err *err)
{
	struct http_resp r;

	tfix_text(&r, 200, text);
	return tfix_get(&provider_ark, &ark_pc, id, &r, ti, err);
}

/* The fixture's own item i, as jansson reads it. */
static json_t *fixture_item(const char *path, size_t i)
{
	size_t len;
	char *text = tfix_read(path, &len);
	json_t *root = text ? tfix_json(text, len) : NULL;
	json_t *item = json_incref(json_array_get(json_object_get(root, "items"), i));

	json_decref(root);
	free(text);
	return item;
}

TEST(conf_keys)
{
	struct provider_conf pc = ark_pc;
	struct aifs_err e;
	char want[128];

	snprintf(want, sizeof want, "api_key:secret@%zu list:list@%zu",
		 offsetof(struct provider_conf, api_key), offsetof(struct provider_conf, list));
	CHECK_STR(tfix_keys(provider_ark.keys), want);
	CHECK_INT(provider_ark.conf_check(&pc, &e), 0);
	pc.api_key = NULL;
	CHECK_INT(provider_ark.conf_check(&pc, &e), -EINVAL);
	CHECK_STR(e.msg, "no api_key (or api_key_env, api_key_file)");
}

TEST(ops_table)
{
	CHECK(provider_find("ark") == &provider_ark);
	CHECK(provider_find("chanjing") == &provider_chanjing);
	CHECK(provider_find("Ark") == &provider_ark);
	CHECK(provider_find("CHANJING") == &provider_chanjing);
	CHECK(provider_find("ark ") == NULL);
	CHECK(provider_find("openai") == NULL);
	CHECK(provider_find(NULL) == NULL);
	CHECK(provider_at(0) == &provider_ark && provider_at(1) == &provider_chanjing &&
	      provider_at(2) == NULL);
	/* every family says what its config sections take */
	for (size_t i = 0; provider_at(i); i++) {
		const struct provider_ops *ops = provider_at(i);
		size_t n = 0;

		CHECK(ops->keys && ops->conf_check && ops->default_qps > 0);
		while (ops->keys[n].name)
			n++;
		CHECK(n > 0 && n < 16);
	}
	CHECK_STR(provider_ark.type, "ark");
	CHECK_INT(provider_ark.n_listings, 1);
	CHECK(provider_ark.default_qps == 3.0);
	CHECK(provider_ark.token_request == NULL && provider_ark.token_parse == NULL);
	CHECK_STR(provider_ark.static_cred(&ark_pc), "ark-0123456789abcdef-secret");

	struct provider_page pg = { 0 };
	provider_page_clear(&pg);
	provider_page_clear(NULL);
	CHECK(pg.tasks == NULL && pg.n_tasks == 0 && !pg.last);
}

TEST(list_request)
{
	struct http_req req = { 0 };

	CHECK_INT(provider_ark.list_request(&ark_pc, 0, 2, "KEY-1", &req), 0);
	CHECK_STR(req.method, "GET");
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks?page_num=2&page_size=500");
	CHECK_INT(req.n_headers, 1);
	CHECK_STR(req.headers[0], "Authorization: Bearer KEY-1");
	CHECK(req.body == NULL && req.body_len == 0);
	CHECK_STR(req.what, "GET /contents/generations/tasks?page_num=2");
	http_req_clear(&req);

	CHECK_INT(provider_ark.list_request(&ark_pc, 1, 1, "KEY-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_ark.list_request(&ark_pc, 0, 0, "KEY-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_ark.list_request(&ark_pc, 0, 1, NULL, &req), -EACCES);
	http_req_clear(&req);
	CHECK_INT(provider_ark.list_request(&ark_pc, 0, 1, "KEY\r\nX-Evil: 1", &req), -EACCES);
	http_req_clear(&req);
}

TEST(get_request)
{
	struct http_req req = { 0 };

	CHECK_INT(provider_ark.get_request(&ark_pc, "cgt-20250331175019-68d9t", "KEY-1", &req), 0);
	CHECK_STR(req.method, "GET");
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks/cgt-20250331175019-68d9t");
	CHECK_INT(req.n_headers, 1);
	CHECK_STR(req.headers[0], "Authorization: Bearer KEY-1");
	CHECK(req.body == NULL);
	CHECK_STR(req.what, "GET /contents/generations/tasks/cgt-20250331175019-68d9t");
	http_req_clear(&req);

	/* The id is one path segment whatever it holds. */
	CHECK_INT(provider_ark.get_request(&ark_pc, "a/../b c?d#", "KEY-1", &req), 0);
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks/a%2F..%2Fb%20c%3Fd%23");
	CHECK_STR(req.what, "GET /contents/generations/tasks/a%2F..%2Fb%20c%3Fd%23");
	http_req_clear(&req);

	CHECK_INT(provider_ark.get_request(&ark_pc, "", "KEY-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_ark.get_request(&ark_pc, "x", "", &req), -EACCES);
	http_req_clear(&req);
}

TEST(list_mixed_statuses)
{
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;

	CHECK_INT(list_fixture(200, FIXTURE("ark_list_mixed.json"), 1, &pg, &err), 0);
	CHECK_INT(err.http_status, 200);
	/* 15 items: a number, a string, no id, a numeric id and an empty id are skipped */
	CHECK_INT(pg.n_tasks, 10);
	CHECK(pg.last);

	CHECK((t = tfix_find(&pg, "cgt-20250701100000-aaaaa")));
	CHECK_STR(t->status_text, "queued\n");
	CHECK_INT(t->status, TASK_QUEUED);
	CHECK_INT(t->mtime, 1751335200);
	CHECK(t->error == NULL && t->n_outputs == 0);

	CHECK((t = tfix_find(&pg, "cgt-20250701100100-bbbbb")));
	CHECK_STR(t->status_text, "running\n");
	CHECK_INT(t->mtime, 1751335290);

	CHECK((t = tfix_find(&pg, "cgt-20250701100200-ccccc")));
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->mtime, 1751335400);
	CHECK(t->error == NULL);
	CHECK_INT(t->n_outputs, 2);
	CHECK_STR(t->outputs[0].name, "video.mp4");
	CHECK_STR(t->outputs[0].url, "https://ark-content-generation-cn-beijing.tos-cn-beijing."
				     "volces.com/a/c.mp4?X-Tos-Expires=86400&X-Tos-Signature=aa");
	CHECK_STR(t->outputs[1].name, "last_frame.png");
	CHECK_STR(t->outputs[1].url, "https://ark-content-generation-cn-beijing.tos-cn-beijing."
				     "volces.com/a/c_last.png?X-Tos-Signature=bb");

	CHECK((t = tfix_find(&pg, "cgt-20250701100300-ddddd")));
	CHECK_STR(t->status_text, "failed\n");
	CHECK_STR(t->error, "OutputVideoSensitiveContentDetected: The request failed because the "
			    "output video may contain sensitive information.\n");
	CHECK_INT(t->error_len, strlen(t->error));

	CHECK((t = tfix_find(&pg, "cgt-20250701100400-eeeee")));
	CHECK_STR(t->error, "InputTextSensitiveContentDetected\n");

	CHECK((t = tfix_find(&pg, "cgt-20250701100500-fffff")));
	CHECK_STR(t->error,
		  "InternalServiceError: The service encountered an unexpected internal error.\n");

	CHECK((t = tfix_find(&pg, "cgt-20250701100600-ggggg")));
	CHECK_STR(t->status_text, "cancelled\n");
	CHECK(t->error == NULL);

	CHECK((t = tfix_find(&pg, "cgt-20250701100700-hhhhh")));
	CHECK_STR(t->status_text, "expired\n");
	CHECK_STR(t->error, "task expired\n");
	CHECK_INT(t->mtime, 1751335620); /* no updated_at: created_at */

	CHECK((t = tfix_find(&pg, "cgt-20250701100800-iiiii")));
	CHECK_STR(t->status_text, "succeeded\n"); /* "Succeeded" */
	CHECK_INT(t->n_outputs, 1);		  /* video_url "" shows nothing */
	CHECK_STR(t->outputs[0].name, "file.GLB");

	CHECK((t = tfix_find(&pg, "cgt-20250701100900-jjjjj")));
	CHECK_STR(t->status_text, "paused\n");
	CHECK_INT(t->status, TASK_OTHER);
	CHECK(!task_status_finished(t->status));
	CHECK_INT(t->mtime, 1751335755);
	CHECK_INT(t->n_outputs, 1);	 /* file:// is no output */
	CHECK_STR(t->outputs[0].name, "file.bin");
	CHECK_STR(t->outputs[0].url, "https://x.example/dl/");
	provider_page_clear(&pg);
	CHECK(pg.tasks == NULL && pg.n_tasks == 0);
}

TEST(list_meta_is_the_item)
{
	static const size_t idx[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct provider_page pg;
	struct aifs_err err;

	CHECK_INT(list_fixture(200, FIXTURE("ark_list_mixed.json"), 1, &pg, &err), 0);
	CHECK(pg.n_tasks >= 8);
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
		json_t *want = fixture_item(FIXTURE("ark_list_mixed.json"), idx[i]);
		bool ok = want && tfix_meta_is(pg.tasks[i], want) &&
			  tfix_meta_is_dump(pg.tasks[i], want);
		json_decref(want);
		if (!ok)
			fprintf(stderr, "  item %zu:\n%s", idx[i], pg.tasks[i]->meta);
		CHECK(ok);
	}
	provider_page_clear(&pg);
}

/* Values that a jansson round trip would change come out as the provider wrote them. */
TEST(list_meta_keeps_exact_values)
{
	static const char *const keys[] = { "id",	  "model",	"status", "content",
					    "created_at", "updated_at", "score",  "scale",
					    "neg",	  "big",	"path",	  "nested" };
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;
	json_t *m, *want;
	size_t k = 0;
	void *it;

	CHECK_INT(list_fixture(200, FIXTURE("ark_list_mixed.json"), 1, &pg, &err), 0);
	CHECK((t = tfix_find(&pg, "cgt-20250701100800-iiiii")));
	CHECK(strstr(t->meta, "\n  \"score\": 0.1,\n"));
	CHECK(strstr(t->meta, "\n  \"scale\": 1e2,\n"));
	CHECK(strstr(t->meta, "\n  \"neg\": -0.0,\n"));
	CHECK(strstr(t->meta, "\n  \"big\": 9007199254740993,\n"));
	CHECK(strstr(t->meta, "\n  \"path\": \"a\\/b \\u00e9 \\\"q\\\"\",\n"));
	CHECK(strstr(t->meta, "\n  \"nested\": {\n    \"k\": [\n      1,\n      [],\n      {}\n"
			      "    ],\n    \"e\": {}\n  }\n}\n"));
	CHECK(t->meta[0] == '{' && t->meta[t->meta_len - 1] == '\n');
	m = tfix_json(t->meta, t->meta_len);
	want = fixture_item(FIXTURE("ark_list_mixed.json"), 8);
	CHECK(m && want);
	CHECK(json_equal(m, want));
	for (it = json_object_iter(m); it; it = json_object_iter_next(m, it), k++)
		CHECK_STR(json_object_iter_key(it), keys[k]);
	CHECK_INT(k, sizeof keys / sizeof keys[0]);
	json_decref(m);
	json_decref(want);
	provider_page_clear(&pg);
}

TEST(list_relay_seed)
{
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;

	CHECK_INT(list_fixture(200, FIXTURE("ark_relay_list.json"), 1, &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 3);
	CHECK(pg.last);
	CHECK_STR(pg.tasks[0]->id, "cgt-20250612153012-x7k2p");
	CHECK_STR(pg.tasks[0]->status_text, "succeeded\n");
	CHECK_INT(pg.tasks[0]->n_outputs, 1);
	CHECK_STR(pg.tasks[0]->outputs[0].name, "video.mp4");
	CHECK_INT(pg.tasks[0]->mtime, 1749713485);
	CHECK((t = tfix_find(&pg, "cgt-20250612152801-m3q9z")));
	CHECK_STR(t->status_text, "submitted\n");
	CHECK_INT(t->status, TASK_OTHER);
	CHECK_INT(t->n_outputs, 0);
	CHECK(t->error == NULL);
	CHECK((t = tfix_find(&pg, "cgt-20250612150944-b8d4w")));
	CHECK_STR(t->status_text, "running\n");
	for (size_t i = 0; i < 3; i++) {
		json_t *want = fixture_item(FIXTURE("ark_relay_list.json"), i);
		bool ok = tfix_meta_is(pg.tasks[i], want) && tfix_meta_is_dump(pg.tasks[i], want);
		json_decref(want);
		CHECK(ok);
	}
	provider_page_clear(&pg);
}

TEST(list_wrong_types_refused)
{
	struct provider_page pg;
	struct aifs_err err;

	/* every item has a field aifs reads of the wrong type: the page is malformed */
	CHECK_INT(list_fixture(200, FIXTURE("ark_list_strings.json"), 1, &pg, &err), -EIO);
	CHECK_INT(pg.n_tasks, 0);
	CHECK(strstr(err.msg, "malformed") != NULL);
	provider_page_clear(&pg);
}

/* A synthetic page of n minimal items, with total when >= 0. */
static char *page_body(size_t n, long total)
{
	size_t cap = 64 + n * 64;
	char *s = malloc(cap), *p = s;

	if (!s)
		return NULL;
	p += total >= 0 ? sprintf(p, "{\"total\":%ld,\"items\":[", total)
			: sprintf(p, "{\"items\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{\"id\":\"cgt-%zu\",\"status\":\"queued\"}", i ? "," : "", i);
	strcpy(p, "]}");
	return s;
}

static int page_last(size_t n, long total, int page, bool *last, size_t *n_tasks)
{
	return tfix_page_last(&provider_ark, &ark_pc, page_body(n, total), page, last, n_tasks);
}

TEST(list_pagination)
{
	bool last;
	size_t n;

	CHECK_INT(page_last(500, 1200, 1, &last, &n), 0);
	CHECK(!last);
	CHECK_INT(n, 500);
	CHECK_INT(page_last(500, 1200, 2, &last, &n), 0);
	CHECK(!last);
	CHECK_INT(page_last(500, 1200, 3, &last, &n), 0); /* 3 * 500 >= 1200 */
	CHECK(last);
	CHECK_INT(page_last(500, 1000, 2, &last, &n), 0);
	CHECK(last);
	CHECK_INT(page_last(500, -1, 7, &last, &n), 0); /* no total: a full page is not last */
	CHECK(!last);
	CHECK_INT(page_last(499, 5000, 1, &last, &n), 0);
	CHECK(last);
	CHECK_INT(n, 499);
	CHECK_INT(page_last(0, 5000, 1, &last, &n), 0);
	CHECK(last);
	CHECK_INT(n, 0);
}

/* The first page says how many follow: the rest can be asked for at once. */
static int page_count(long total, long *pages, int64_t *n_total)
{
	struct provider_page pg;
	struct aifs_err err;
	struct http_resp r = { .status = 200, .retry_after = -1 };
	char *body = page_body(500, total);

	r.body = body;
	r.len = body ? strlen(body) : 0;
	int rc = tfix_list(&provider_ark, &ark_pc, 0, 1, &r, &pg, &err);
	*pages = pg.pages;
	*n_total = pg.total;
	provider_page_clear(&pg);
	return rc;
}

TEST(list_says_how_many_pages)
{
	long pages;
	int64_t total;

	CHECK_INT(page_count(1200, &pages, &total), 0);
	CHECK_INT(pages, 3);
	CHECK_INT(total, 1200);
	CHECK_INT(page_count(1000, &pages, &total), 0);
	CHECK_INT(pages, 2);
	CHECK_INT(page_count(-1, &pages, &total), 0); /* no total: unknown */
	CHECK_INT(pages, 0);
}

TEST(list_empty)
{
	struct provider_page pg;
	struct aifs_err err;

	CHECK_INT(list_fixture(200, FIXTURE("ark_list_empty.json"), 1, &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 0);
	CHECK(pg.last);
	provider_page_clear(&pg);
}

TEST(list_malformed)
{
	static const char *const bad[] = {
		FIXTURE("malformed.json"),	    FIXTURE("ark_not_object.json"),
		FIXTURE("ark_items_not_list.json"), FIXTURE("ark_items_null.json"),
		FIXTURE("ark_no_items.json"),
	};
	struct provider_page pg;
	struct aifs_err err;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(list_fixture(200, bad[i], 1, &pg, &err), -EIO);
		CHECK_INT(err.code, -EIO);
		CHECK_INT(err.retry, AIFS_RETRY_NO);
		CHECK_INT(err.http_status, 200);
		CHECK(strstr(err.msg, "malformed"));
		CHECK(pg.tasks == NULL && pg.n_tasks == 0);
	}
	struct http_resp r;
	tfix_text(&r, 200, "");
	CHECK_INT(provider_ark.list_parse(&ark_pc, 0, 1, &r, &pg, &err), -EIO);
	http_resp_clear(&r);
}

TEST(get_rongcloud_seed)
{
	struct task_info *t = NULL;
	struct aifs_err err;
	size_t len;
	char *text;
	json_t *want;

	CHECK_INT(get_fixture(200, FIXTURE("rong_get.json"), "cgt-20250331175019-68d9t", &t, &err),
		  0);
	CHECK(t);
	CHECK_STR(t->id, "cgt-20250331175019-68d9t");
	CHECK_INT(t->refs, 1);
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->mtime, 1743414672);
	CHECK(t->error == NULL);
	CHECK_INT(t->n_outputs, 2);
	CHECK_STR(tfix_output(t, "video.mp4"),
		  "https://ark-content-generation-cn-beijing.tos-cn-beijing.volces.com/"
		  "doubao-seedance-1-0-pro/02174341221938600000000000000000000ffffac182c17b9e4d1"
		  ".mp4?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Expires=86400&X-Tos-Signature=9a7c");
	CHECK(tfix_output(t, "last_frame.png"));
	text = tfix_read(FIXTURE("rong_get.json"), &len);
	want = text ? tfix_json(text, len) : NULL;
	free(text);
	CHECK(want);
	bool ok = tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	task_info_unref(t);
	CHECK(ok);
}

/* Integers past int64 do not make the answer malformed, and stay exact. */
TEST(get_exact_numbers)
{
	static const char want[] = "{\n"
				   "  \"id\": \"cgt-20250703120000-exact\",\n"
				   "  \"model\": \"doubao-seedance-1-0-pro-250528\",\n"
				   "  \"status\": \"succeeded\",\n"
				   "  \"seed\": 18446744073709551616,\n"
				   "  \"neg_seed\": -99999999999999999999,\n"
				   "  \"duration\": 5.0,\n"
				   "  \"ratio\": 0.5625,\n"
				   "  \"fps\": 2.4e1,\n"
				   "  \"tiny\": 1E-7,\n"
				   "  \"content\": {\n"
				   "    \"video_url\": \"https://h.example/v.mp4\"\n"
				   "  },\n"
				   "  \"created_at\": 1751544000,\n"
				   "  \"updated_at\": 1751544090,\n"
				   "  \"empty_string\": \"\",\n"
				   "  \"unicode\": \"\\u4efb\\u52a1 done\",\n"
				   "  \"nul\": \"a\\u0000b\"\n"
				   "}\n";
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(200, FIXTURE("ark_get_exact.json"), "cgt-20250703120000-exact", &t,
			      &err),
		  0);
	CHECK(t);
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->mtime, 1751544090); /* read through the reals fallback */
	CHECK_STR(tfix_output(t, "video.mp4"), "https://h.example/v.mp4");
	bool same = strcmp(t->meta, want) == 0 && t->meta_len == strlen(want);
	if (!same)
		fprintf(stderr, "%s", t->meta);
	task_info_unref(t);
	CHECK(same);
}

TEST(get_wrong_answers)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(200, FIXTURE("rong_get.json"), "cgt-other", &t, &err), -EIO);
	CHECK(t == NULL);
	CHECK_INT(err.retry, AIFS_RETRY_NO);
	CHECK_INT(get_fixture(200, FIXTURE("ark_get_200_error.json"), "x", &t, &err), -EIO);
	CHECK(t == NULL);
	CHECK_INT(get_fixture(200, FIXTURE("ark_list_mixed.json"), "x", &t, &err), -EIO);
	CHECK_INT(get_fixture(200, FIXTURE("ark_not_object.json"), "x", &t, &err), -EIO);
	CHECK_INT(get_fixture(200, FIXTURE("malformed.json"), "x", &t, &err), -EIO);
	CHECK(strstr(err.msg, "malformed"));
	CHECK_INT(err.http_status, 200);
	CHECK(t == NULL);
}

struct http_case {
	long status;
	const char *fixture; /* NULL: a non-JSON body */
	bool list;
	int rc;
	enum aifs_retry retry;
	const char *pcode;
};

TEST(http_errors)
{
	static const struct http_case cases[] = {
		{ 404, FIXTURE("ark_get_404.json"), false, -ENOENT, AIFS_RETRY_NO,
		  "ResourceNotFound" },
		{ 404, FIXTURE("ark_get_404.json"), true, -EOPNOTSUPP, AIFS_RETRY_NO,
		  "ResourceNotFound" },
		{ 404, NULL, true, -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ 405, NULL, true, -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ 405, NULL, false, -EIO, AIFS_RETRY_NO, "" },
		{ 401, FIXTURE("ark_401.json"), false, -EACCES, AIFS_RETRY_NO,
		  "AuthenticationError" },
		{ 403, FIXTURE("ark_401.json"), true, -EACCES, AIFS_RETRY_NO,
		  "AuthenticationError" },
		{ 429, FIXTURE("ark_429.json"), true, -EAGAIN, AIFS_RETRY_THROTTLED,
		  "ModelAccountRpmRateLimitExceeded" },
		{ 429, FIXTURE("ark_429.json"), false, -EAGAIN, AIFS_RETRY_THROTTLED,
		  "ModelAccountRpmRateLimitExceeded" },
		{ 408, NULL, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 500, FIXTURE("ark_500.json"), true, -EIO, AIFS_RETRY_TRANSIENT,
		  "InternalServiceError" },
		{ 502, NULL, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 503, NULL, true, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 400, FIXTURE("ark_get_200_error.json"), false, -EIO, AIFS_RETRY_NO,
		  "InvalidParameter" },
		{ 409, NULL, false, -EIO, AIFS_RETRY_NO, "" },
		{ 302, NULL, true, -EIO, AIFS_RETRY_NO, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct http_case *c = &cases[i];
		struct http_resp r;
		struct aifs_err err;
		struct provider_page pg;
		struct task_info *t = NULL;
		int rc;

		if (c->fixture)
			tfix_resp(&r, c->status, c->fixture);
		else
			tfix_text(&r, c->status, "<html><body>Bad Gateway</body></html>");
		r.retry_after = 2.5;
		aifs_err_clear(&err);
		rc = c->list ? provider_ark.list_parse(&ark_pc, 0, 1, &r, &pg, &err)
			     : provider_ark.get_parse(&ark_pc, "cgt-x", &r, &t, &err);
		http_resp_clear(&r);
		if (rc != c->rc || err.code != c->rc || err.retry != c->retry ||
		    strcmp(err.pcode, c->pcode) != 0 || err.http_status != c->status ||
		    err.retry_after != 2.5 || t || (c->list && pg.n_tasks) || !strchr(err.msg, ' '))
			fprintf(stderr, "  case %zu: rc %d retry %d pcode \"%s\" msg \"%s\"\n", i,
				rc, err.retry, err.pcode, err.msg);
		CHECK_INT(rc, c->rc);
		CHECK_INT(err.code, c->rc);
		CHECK_INT(err.retry, c->retry);
		CHECK_STR(err.pcode, c->pcode);
		CHECK_INT(err.http_status, c->status);
		CHECK(err.retry_after == 2.5);
		CHECK(t == NULL);
		CHECK(strchr(err.msg, '\n') == NULL);
	}
}

TEST(http_error_messages)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(404, FIXTURE("ark_get_404.json"), "cgt-x", &t, &err), -ENOENT);
	CHECK_STR(err.msg, "The specified task cgt-20250101000000-zzzzz "
			   "is not found. Request id: 021751335800000abcdef");
	CHECK_STR(err.pcode, "ResourceNotFound");
	CHECK_INT(err.http_status, 404);
	CHECK_INT(get_fixture(500, FIXTURE("ark_500.json"), "cgt-x", &t, &err), -EIO);
	CHECK_STR(err.msg, "The service encountered an unexpected "
			   "internal error. Request id: 0217513361");
	CHECK_STR(err.pcode, "InternalServiceError");
}

TEST(secrets_never_in_messages)
{
	struct http_resp r;
	struct aifs_err err;
	struct task_info *t = NULL;

	tfix_text(&r, 401,
		  "{\"error\":{\"code\":\"AuthenticationError\",\"message\":\"Incorrect API key "
		  "provided: ark-0123456789abcdef-secret.\"}}");
	CHECK_INT(provider_ark.get_parse(&ark_pc, "cgt-x", &r, &t, &err), -EACCES);
	http_resp_clear(&r);
	CHECK(strstr(err.msg, "ark-0123456789abcdef-secret") == NULL);
	CHECK_STR(err.msg, "Incorrect API key provided: ***.");
}

/* Numbers aifs reads may come as strings of digits; other strings are wrong. */
TEST(list_digit_strings)
{
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;

	CHECK_INT(list_fixture(200, FIXTURE("ark_list_digit_strings.json"), 1, &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 2);
	CHECK_INT(pg.skipped, 2);
	CHECK(pg.last);
	CHECK_STR(pg.skip_why, "item 3 of 4: updated_at is a string that is not all digits");
	CHECK((t = tfix_find(&pg, "cgt-20250612153012-dg001")));
	CHECK_INT(t->mtime, 1749713485);
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_STR(tfix_output(t, "video.mp4"), "https://relay.example/v/dg001.mp4?sig=1");
	json_t *want = fixture_item(FIXTURE("ark_list_digit_strings.json"), 0);
	bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	CHECK(ok); /* the strings stay strings in meta.json */
	CHECK((t = tfix_find(&pg, "cgt-20250612152801-dg002")));
	CHECK_INT(t->mtime, 1749713290);
	provider_page_clear(&pg);

	/* a sign is no digit */
	CHECK_INT(list_text("{\"items\":[{\"id\":\"a\",\"status\":\"queued\",\"created_at\":"
			    "\"-5\"},{\"id\":\"b\",\"status\":\"queued\"}]}",
			    1, &pg, &err),
		  0);
	CHECK_STR(pg.skip_why, "item 1 of 2: created_at is a string that is not all digits");
	provider_page_clear(&pg);
}

TEST(list_total_digit_string_or_wrong)
{
	struct provider_page pg;
	struct aifs_err err;
	char *body;
	bool last;
	size_t n;

	/* "total" as digits decides the last page as a number does */
	char *num = page_body(500, 1000);
	CHECK(num && strncmp(num, "{\"total\":1000,", 14) == 0);
	if (asprintf(&body, "{\"total\":\"1000\"%s", num + 13) < 0)
		body = NULL;
	free(num);
	CHECK_INT(tfix_page_last(&provider_ark, &ark_pc, body, 2, &last, &n), 0);
	CHECK(last);
	CHECK_INT(n, 500);

	CHECK_INT(list_text("{\"total\":\"many\",\"items\":[]}", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: total is a string that is not all digits");
	CHECK_INT(list_text("{\"total\":2.5,\"items\":[]}", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: total is a number with a fraction");
	CHECK_INT(list_text("{\"total\":true,\"items\":[]}", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: total is a boolean");
	CHECK_INT(list_text("{\"total\":1,\"items\":{}}", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: items is an object");
	CHECK_INT(list_text("{\"total\":1}", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: no items");
	CHECK_INT(list_text("[{\"total\":1}]", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: an array, not an object");
	CHECK(pg.tasks == NULL);
}

/* The log says which field of the first item left out was wrong, and how. */
TEST(list_skip_reasons)
{
	static const struct {
		const char *item, *why;
	} cases[] = {
		{ "5", "a number, not an object" },
		{ "{\"status\":\"queued\"}", "no id" },
		{ "{\"id\":7,\"status\":\"queued\"}", "id is a number" },
		{ "{\"id\":\"\",\"status\":\"queued\"}", "id is empty" },
		{ "{\"id\":\"a\\u0000b\",\"status\":\"queued\"}", "id is a string holding a NUL byte" },
		{ "{\"id\":\"a\"}", "no status" },
		{ "{\"id\":\"a\",\"status\":5}", "status is a number" },
		{ "{\"id\":\"a\",\"status\":\"queued\",\"content\":{\"video_url\":7}}",
		  "content.video_url is a number" },
		{ "{\"id\":\"a\",\"status\":\"queued\",\"created_at\":1.5}",
		  "created_at is a number with a fraction" },
		{ "{\"id\":\"a\",\"status\":\"queued\",\"updated_at\":\"99999999999999999999\"}",
		  "updated_at is a string of digits out of range" },
		{ "{\"id\":\"a\",\"status\":\"queued\",\"error\":\"boom\"}", "error is a string" },
		{ "{\"id\":\"a\",\"status\":\"queued\",\"content\":[]}", "content is an array" },
	};
	struct provider_page pg;
	struct aifs_err err;
	char text[512], want[160];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text,
			 "{\"items\":[%s,{\"id\":\"ok\",\"status\":\"queued\"}]}",
			 cases[i].item);
		CHECK_INT(list_text(text, 1, &pg, &err), 0);
		CHECK_INT(pg.n_tasks, 1);
		CHECK_INT(pg.skipped, 1);
		snprintf(want, sizeof want, "item 1 of 2: %s", cases[i].why);
		CHECK_STR(pg.skip_why, want);
		provider_page_clear(&pg);
		CHECK_STR(pg.skip_why, "");
	}
	/* a page of nothing but such items is malformed, and says why */
	CHECK_INT(list_text("{\"items\":[{\"id\":\"a\",\"status\":5},{\"id\":\"b\"}]}", 1, &pg,
			    &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: no item is a task (item 1 of 2: status is a number)");
}

/* A single task with a field of the wrong type: the error names the field and
 * its type, never its value (which may be a secret). */
TEST(get_wrong_type_named)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_text("{\"id\":\"x\",\"status\":\"queued\",\"created_at\":\"yesterday\"}",
			   "x", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: created_at is a string that is not all digits");
	CHECK(t == NULL);
	CHECK_INT(get_text("{\"id\":\"x\",\"status\":{\"k\":\"ark-0123456789abcdef-secret\"}}",
			   "x", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: status is an object");
	CHECK_INT(get_text("{\"id\":\"x\",\"status\":\"queued\",\"error\":{\"code\":[\"tok-"
			   "abcdef\"]}}",
			   "x", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: error.code is an array");
	CHECK_INT(get_text("\"cgt-x\"", "x", &t, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: a string, not an object");

	CHECK_INT(get_text("{\"id\":\"x\",\"status\":\"running\",\"created_at\":\"1743414619\","
			   "\"updated_at\":\"1743414672\"}",
			   "x", &t, &err),
		  0);
	CHECK_INT(t->mtime, 1743414672);
	task_info_unref(t);
}

/* A single-task answer without an id is the task that was asked for. */
TEST(get_without_id)
{
	struct task_info *t = NULL;
	struct aifs_err err;
	size_t len;
	char *text;
	json_t *want;

	CHECK_INT(get_fixture(200, FIXTURE("ark_get_no_id.json"), "cgt-20250331175019-68d9t", &t,
			      &err),
		  0);
	CHECK(t);
	CHECK_STR(t->id, "cgt-20250331175019-68d9t");
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->mtime, 1743414672);
	CHECK_INT(t->n_outputs, 2);
	text = tfix_read(FIXTURE("ark_get_no_id.json"), &len);
	want = text ? tfix_json(text, len) : NULL;
	free(text);
	bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	task_info_unref(t);
	CHECK(ok);

	/* null and "" say no more than a missing id */
	CHECK_INT(get_text("{\"id\":null,\"status\":\"queued\"}", "cgt-a", &t, &err), 0);
	CHECK_STR(t->id, "cgt-a");
	task_info_unref(t);
	CHECK_INT(get_text("{\"id\":\"\",\"status\":\"queued\"}", "cgt-a", &t, &err), 0);
	CHECK_STR(t->id, "cgt-a");
	task_info_unref(t);
	/* an id of another type is a wrong answer, as another task's id is */
	CHECK_INT(get_text("{\"id\":42,\"status\":\"queued\"}", "cgt-a", &t, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: id is a number");
	CHECK_INT(get_text("{\"id\":\"cgt-b\",\"status\":\"queued\"}", "cgt-a", &t, &err), -EIO);
	CHECK(t == NULL);
	/* in a listing, an item needs its id */
	struct provider_page pg;
	CHECK_INT(list_text("{\"items\":[{\"status\":\"queued\"},{\"id\":\"a\",\"status\":\"queued\"}]}",
			    1, &pg, &err),
		  0);
	CHECK_INT(pg.n_tasks, 1);
	CHECK_STR(pg.skip_why, "item 1 of 2: no id");
	provider_page_clear(&pg);
}

/* The fixture's object at path ("data", "data.data"; "" for the whole). */
static json_t *fixture_at(const char *fixture, const char *path)
{
	size_t len;
	char *text = tfix_read(fixture, &len);
	json_t *root = text ? tfix_json(text, len) : NULL, *v = root;
	char keys[64], *save = NULL;

	free(text);
	snprintf(keys, sizeof keys, "%s", path);
	for (char *k = strtok_r(keys, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	json_incref(v);
	json_decref(root);
	return v;
}

/* Relays' envelopes: the task inside is the answer, and meta.json shows it. */
TEST(get_envelopes)
{
	static const struct {
		const char *fixture, *inner;
	} cases[] = {
		{ FIXTURE("ark_get_envelope_code0.json"), "data" },
		{ FIXTURE("ark_get_envelope_success_nested.json"), "data.data" },
	};
	struct task_info *t = NULL;
	struct aifs_err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_INT(get_fixture(200, cases[i].fixture, "cgt-20250331175019-68d9t", &t, &err),
			  0);
		CHECK_STR(t->id, "cgt-20250331175019-68d9t");
		CHECK_STR(t->status_text, "succeeded\n");
		CHECK_INT(t->mtime, 1743414672);
		CHECK_INT(t->n_outputs, 2);
		json_t *want = fixture_at(cases[i].fixture, cases[i].inner);
		bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
		json_decref(want);
		task_info_unref(t);
		CHECK(ok);
	}
	/* an envelope with a status of its own, around a task without an id */
	CHECK_INT(get_text("{\"code\":0,\"status\":\"ok\",\"data\":{\"status\":\"running\","
			   "\"updated_at\":\"1751335290\"}}",
			   "cgt-a", &t, &err),
		  0);
	CHECK_STR(t->id, "cgt-a");
	CHECK_STR(t->status_text, "running\n");
	CHECK_STR(t->meta, "{\n  \"status\": \"running\",\n  \"updated_at\": \"1751335290\"\n}\n");
	task_info_unref(t);
	/* another task inside is still another task */
	CHECK_INT(get_text("{\"code\":0,\"data\":{\"id\":\"cgt-b\",\"status\":\"queued\"}}",
			   "cgt-a", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "answer is for another task");
	/* three levels down is no envelope aifs knows */
	CHECK_INT(get_text("{\"data\":{\"data\":{\"data\":{\"status\":\"queued\"}}}}", "cgt-a",
			   &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: not a task object");
	CHECK_INT(get_text("{\"code\":0,\"msg\":\"ok\",\"data\":null}", "cgt-a", &t, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: not a task object");
	CHECK_STR(err.pcode, "");
	CHECK(t == NULL);
}

TEST(list_envelope)
{
	struct provider_page pg;
	struct aifs_err err;

	CHECK_INT(list_fixture(200, FIXTURE("ark_list_envelope.json"), 1, &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 3);
	CHECK(pg.last);
	CHECK_STR(pg.tasks[0]->id, "cgt-20250612153012-x7k2p");
	CHECK_STR(pg.tasks[0]->outputs[0].name, "video.mp4");
	json_t *items = fixture_at(FIXTURE("ark_list_envelope.json"), "data.items");
	for (size_t i = 0; i < 3; i++) {
		json_t *want = json_array_get(items, i);
		CHECK(want && tfix_meta_is(pg.tasks[i], want) && tfix_meta_is_dump(pg.tasks[i], want));
	}
	json_decref(items);
	provider_page_clear(&pg);

	/* twice nested, and "total" as digits: a full page before the last */
	char *inner = page_body(500, 1500), *body = NULL;
	CHECK(inner && strncmp(inner, "{\"total\":1500,", 14) == 0);
	if (asprintf(&body, "{\"code\":\"success\",\"data\":{\"data\":{\"total\":\"1500\"%s}}",
		     inner + 13) < 0)
		body = NULL;
	free(inner);
	bool last;
	size_t n;
	CHECK_INT(tfix_page_last(&provider_ark, &ark_pc, body, 2, &last, &n), 0);
	CHECK_INT(n, 500);
	CHECK(!last);
	CHECK_INT(list_text("{\"code\":0,\"data\":{\"total\":1,\"items\":\"x\"}}", 1, &pg, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: items is a string");
}

/* An envelope that says it failed, with nothing inside, carries its message. */
TEST(envelope_errors)
{
	struct provider_page pg;
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(200, FIXTURE("envelope_error.json"), "cgt-a", &t, &err), -EIO);
	CHECK_STR(err.msg, "upstream busy, please retry later");
	CHECK_STR(err.pcode, "1001");
	CHECK_INT(err.retry, AIFS_RETRY_NO);
	CHECK_INT(err.http_status, 200);
	CHECK(t == NULL);
	CHECK_INT(list_fixture(200, FIXTURE("envelope_error.json"), 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "upstream busy, please retry later");
	CHECK_STR(err.pcode, "1001");
	CHECK(pg.tasks == NULL);
	CHECK_INT(get_text("{\"code\":\"failed\",\"message\":\"key ark-0123456789abcdef-secret "
			   "is not allowed\"}",
			   "cgt-a", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "key *** is not allowed");
	CHECK_STR(err.pcode, "failed");
	CHECK_INT(get_text("{\"code\":500}", "cgt-a", &t, &err), -EIO);
	CHECK_STR(err.msg, "an error without a message");
	CHECK_STR(err.pcode, "500");
	/* a code of success with nothing inside is malformed, not an error */
	CHECK_INT(list_text("{\"code\":\"Success\",\"data\":{}}", 1, &pg, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: no items");
	CHECK_STR(err.pcode, "");
}

/* No timestamp is no error: mtime 0 says "unknown", and the tree decides. */
TEST(no_timestamps)
{
	struct task_info *t = NULL;
	struct provider_page pg;
	struct aifs_err err;

	CHECK_INT(get_fixture(200, FIXTURE("ark_get_no_timestamps.json"), "cgt-20250331175019-68d9t",
			      &t, &err),
		  0);
	CHECK_INT(t->mtime, 0);
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->n_outputs, 2);
	task_info_unref(t);
	CHECK_INT(get_text("{\"id\":\"x\",\"status\":\"queued\",\"created_at\":null,"
			   "\"updated_at\":null}",
			   "x", &t, &err),
		  0);
	CHECK_INT(t->mtime, 0);
	task_info_unref(t);
	CHECK_INT(list_text("{\"items\":[{\"id\":\"a\",\"status\":\"queued\"},{\"id\":\"b\","
			    "\"status\":\"failed\",\"updated_at\":null}]}",
			    1, &pg, &err),
		  0);
	CHECK_INT(pg.n_tasks, 2);
	CHECK_INT(pg.skipped, 0);
	CHECK_INT(pg.tasks[0]->mtime, 0);
	CHECK_INT(pg.tasks[1]->mtime, 0);
	provider_page_clear(&pg);
}

/* Output files only for http(s) URLs with a host: no file for a placeholder. */
TEST(placeholder_urls)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(200, FIXTURE("ark_get_placeholder_url.json"),
			      "cgt-20250331175019-68d9t", &t, &err),
		  0);
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->n_outputs, 0);
	task_info_unref(t);
	CHECK_INT(get_text("{\"id\":\"x\",\"status\":\"succeeded\",\"content\":{\"video_url\":"
			   "\"https://\",\"last_frame_url\":\"HTTPS://h.example/l.png\"}}",
			   "x", &t, &err),
		  0);
	CHECK_INT(t->n_outputs, 1);
	CHECK_STR(tfix_output(t, "last_frame.png"), "HTTPS://h.example/l.png");
	task_info_unref(t);
}

TEST(create_request)
{
	static const char body[] = " {\"model\":\"doubao-seedance-1-0-pro-250528\",\n"
				   "  \"content\":[{\"type\":\"text\",\"text\":\"a cat \\u00e9\"}]}\n";
	struct http_req req = { 0 };

	CHECK(provider_ark.create_request && provider_ark.create_parse);
	CHECK_INT(provider_ark.create_request(&ark_pc, body, sizeof body - 1, "KEY-1", &req), 0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url,
		  "https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks");
	CHECK_INT(req.n_headers, 2);
	CHECK_STR(req.headers[0], "Authorization: Bearer KEY-1");
	CHECK_STR(req.headers[1], "Content-Type: application/json");
	/* byte for byte: blanks, escapes and the final newline stay */
	CHECK_INT(req.body_len, sizeof body - 1);
	CHECK(memcmp(req.body, body, sizeof body - 1) == 0);
	CHECK_STR(req.what, "POST /contents/generations/tasks");
	CHECK(!req.no_reuse); /* the caller's to set */
	http_req_clear(&req);

	CHECK_INT(provider_ark.create_request(&ark_pc, body, 0, "KEY-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_ark.create_request(&ark_pc, NULL, 3, "KEY-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_ark.create_request(&ark_pc, body, 3, NULL, &req), -EACCES);
	http_req_clear(&req);
	CHECK_INT(provider_ark.create_request(&ark_pc, body, 3, "K\r\nX: 1", &req), -EACCES);
	http_req_clear(&req);
}

static int create_resp(long status, const char *fixture, const char *text, char **id,
		       struct aifs_err *err)
{
	struct http_resp r;
	int rc;

	if (fixture)
		tfix_resp(&r, status, fixture);
	else
		tfix_text(&r, status, text);
	r.retry_after = 3;
	aifs_err_clear(err);
	*id = (char *)"not overwritten";
	rc = provider_ark.create_parse(&ark_pc, &r, id, err);
	http_resp_clear(&r);
	return rc;
}

TEST(create_answers)
{
	static const char *const ok[] = {
		FIXTURE("ark_create_ok.json"),
		FIXTURE("ark_create_relay.json"),
		FIXTURE("ark_create_envelope.json"),
	};
	struct aifs_err err;
	char *id;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		CHECK_INT(create_resp(200, ok[i], NULL, &id, &err), 0);
		CHECK_STR(id, "cgt-20261206093015-7xk2p");
		CHECK_INT(err.code, 0);
		CHECK_INT(err.http_status, 200);
		free(id);
	}
	/* twice nested, a 201, an envelope with an id of its own */
	CHECK_INT(create_resp(200, NULL, "{\"code\":\"success\",\"data\":{\"data\":{\"id\":\"cgt-n\"}}}",
			      &id, &err),
		  0);
	CHECK_STR(id, "cgt-n");
	free(id);
	CHECK_INT(create_resp(201, NULL, "{\"id\":\"cgt-201\"}", &id, &err), 0);
	CHECK_STR(id, "cgt-201");
	free(id);
	CHECK_INT(create_resp(200, NULL, "{\"id\":\"req-7\",\"code\":0,\"data\":{\"id\":\"cgt-in\"}}",
			      &id, &err),
		  0);
	CHECK_STR(id, "cgt-in");
	free(id);
}

struct create_case {
	long status;
	const char *fixture; /* NULL: text */
	const char *text;
	int rc;
	enum aifs_retry retry;
	const char *pcode;
};

TEST(create_refusals_and_unknowns)
{
	static const struct create_case cases[] = {
		/* refused: the task was not made */
		{ 400, FIXTURE("ark_create_400.json"), NULL, -EINVAL, AIFS_RETRY_NO,
		  "InvalidParameter" },
		{ 401, FIXTURE("ark_401.json"), NULL, -EACCES, AIFS_RETRY_NO, "AuthenticationError" },
		{ 403, NULL, "forbidden", -EACCES, AIFS_RETRY_NO, "" },
		{ 404, NULL, "<html>no route</html>", -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ 405, NULL, "", -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ 409, NULL, "", -EIO, AIFS_RETRY_NO, "" },
		{ 302, NULL, "", -EIO, AIFS_RETRY_NO, "" },
		{ 200, FIXTURE("envelope_error.json"), NULL, -EIO, AIFS_RETRY_NO, "1001" },
		{ 200, FIXTURE("ark_get_200_error.json"), NULL, -EIO, AIFS_RETRY_NO,
		  "InvalidParameter" },
		/* not taken: may be sent again */
		{ 429, FIXTURE("ark_429.json"), NULL, -EAGAIN, AIFS_RETRY_THROTTLED,
		  "ModelAccountRpmRateLimitExceeded" },
		{ 503, NULL, "", -EIO, AIFS_RETRY_TRANSIENT, "" },
		/* unknown: the task may exist */
		{ 500, FIXTURE("ark_500.json"), NULL, -EIO, AIFS_RETRY_TRANSIENT,
		  "InternalServiceError" },
		{ 502, NULL, "<html>Bad Gateway</html>", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 504, NULL, "", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 408, NULL, "", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 303, NULL, "", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, FIXTURE("malformed.json"), NULL, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "[{\"id\":\"cgt-a\"}]", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "{\"status\":\"submitted\"}", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "{\"id\":42}", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "{\"id\":\"\"}", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "{\"id\":\"a\\u0000b\"}", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "{\"code\":0,\"data\":{\"task_id\":\"cgt-a\"}}", -EIO,
		  AIFS_RETRY_TRANSIENT, "" },
		{ 200, NULL, "{\"code\":\"success\",\"data\":null}", -EIO, AIFS_RETRY_TRANSIENT,
		  "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct create_case *c = &cases[i];
		struct aifs_err err;
		char *id;
		int rc = create_resp(c->status, c->fixture, c->text, &id, &err);

		if (rc != c->rc || err.retry != c->retry || strcmp(err.pcode, c->pcode) != 0)
			fprintf(stderr, "  case %zu: rc %d retry %d pcode \"%s\" msg \"%s\"\n", i,
				rc, err.retry, err.pcode, err.msg);
		CHECK_INT(rc, c->rc);
		CHECK_INT(err.code, c->rc);
		CHECK_INT(err.retry, c->retry);
		CHECK_STR(err.pcode, c->pcode);
		CHECK_INT(err.http_status, c->status);
		CHECK(err.retry_after == 3);
		CHECK(id == NULL);
		CHECK(err.msg[0] && !strchr(err.msg, '\n'));
	}
}

TEST(create_messages)
{
	struct aifs_err err;
	char *id;

	CHECK_INT(create_resp(400, FIXTURE("ark_create_400.json"), NULL, &id, &err), -EINVAL);
	CHECK_STR(err.msg, "The parameter `content` specified in the request is not valid: a "
			   "text item is required. Request id: 021765012345000abcdef");
	CHECK_INT(create_resp(200, NULL, "{\"id\":42}", &id, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: id is a number");
	CHECK_INT(create_resp(200, NULL, "{\"status\":\"submitted\"}", &id, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: no id");
	CHECK_INT(create_resp(200, NULL, "{\"id\":\"a\\u0000b\"}", &id, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: id is a string holding a NUL byte");
	CHECK_INT(create_resp(401, NULL,
			      "{\"error\":{\"code\":\"AuthenticationError\",\"message\":\"key "
			      "ark-0123456789abcdef-secret is wrong\"}}",
			      &id, &err),
		  -EACCES);
	CHECK_STR(err.msg, "key *** is wrong");
}

TEST(delete_request)
{
	struct http_req req = { 0 };

	CHECK(provider_ark.delete_request && provider_ark.delete_parse);
	CHECK_INT(provider_ark.delete_request(&ark_pc, "cgt-20250331175019-68d9t", "KEY-1", &req),
		  0);
	CHECK_STR(req.method, "DELETE");
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks/cgt-20250331175019-68d9t");
	CHECK_INT(req.n_headers, 1);
	CHECK_STR(req.headers[0], "Authorization: Bearer KEY-1");
	CHECK(req.body == NULL && req.body_len == 0);
	CHECK_STR(req.what, "DELETE /contents/generations/tasks/cgt-20250331175019-68d9t");
	http_req_clear(&req);

	/* one path segment, whatever the id: never the collection, never its parent */
	CHECK_INT(provider_ark.delete_request(&ark_pc, "..", "KEY-1", &req), 0);
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks/%2E%2E");
	http_req_clear(&req);
	CHECK_INT(provider_ark.delete_request(&ark_pc, ".", "KEY-1", &req), 0);
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks/%2E");
	http_req_clear(&req);
	CHECK_INT(provider_ark.delete_request(&ark_pc, "a/b?c", "KEY-1", &req), 0);
	CHECK_STR(req.url, "https://ark.cn-beijing.volces.com/api/v3/contents/generations/"
			   "tasks/a%2Fb%3Fc");
	CHECK_STR(req.what, "DELETE /contents/generations/tasks/a%2Fb%3Fc");
	http_req_clear(&req);

	CHECK_INT(provider_ark.delete_request(&ark_pc, "", "KEY-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_ark.delete_request(&ark_pc, "x", "", &req), -EACCES);
	http_req_clear(&req);
}

TEST(delete_answers)
{
	static const struct create_case cases[] = {
		{ 200, NULL, "{}", 0, AIFS_RETRY_NO, "" },
		{ 200, NULL, "", 0, AIFS_RETRY_NO, "" },
		{ 204, NULL, "", 0, AIFS_RETRY_NO, "" },
		{ 200, NULL, "not json at all", 0, AIFS_RETRY_NO, "" },
		{ 200, NULL, "{\"code\":0,\"msg\":\"ok\",\"data\":null}", 0, AIFS_RETRY_NO, "" },
		{ 200, FIXTURE("ark_get_envelope_code0.json"), NULL, 0, AIFS_RETRY_NO, "" },
		/* an answer of 200 that says it failed */
		{ 200, FIXTURE("envelope_error.json"), NULL, -EIO, AIFS_RETRY_NO, "1001" },
		{ 200, FIXTURE("ark_get_200_error.json"), NULL, -EIO, AIFS_RETRY_NO,
		  "InvalidParameter" },
		{ 404, FIXTURE("ark_get_404.json"), NULL, -ENOENT, AIFS_RETRY_NO, "ResourceNotFound" },
		{ 404, NULL, "", -ENOENT, AIFS_RETRY_NO, "" },
		{ 405, NULL, "", -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ 409, NULL, "", -EBUSY, AIFS_RETRY_NO, "" },
		{ 400, FIXTURE("ark_delete_running.json"), NULL, -EBUSY, AIFS_RETRY_NO,
		  "InvalidParameter" },
		{ 400, NULL, "{\"error\":{\"code\":\"InvalidTaskStatus\"}}", -EBUSY,
		  AIFS_RETRY_NO, "InvalidTaskStatus" },
		{ 400, FIXTURE("ark_create_400.json"), NULL, -EINVAL, AIFS_RETRY_NO,
		  "InvalidParameter" },
		{ 401, FIXTURE("ark_401.json"), NULL, -EACCES, AIFS_RETRY_NO, "AuthenticationError" },
		{ 403, NULL, "", -EACCES, AIFS_RETRY_NO, "" },
		{ 429, FIXTURE("ark_429.json"), NULL, -EAGAIN, AIFS_RETRY_THROTTLED,
		  "ModelAccountRpmRateLimitExceeded" },
		{ 500, FIXTURE("ark_500.json"), NULL, -EIO, AIFS_RETRY_TRANSIENT,
		  "InternalServiceError" },
		{ 503, NULL, "", -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ 302, NULL, "", -EIO, AIFS_RETRY_NO, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct create_case *c = &cases[i];
		struct http_resp r;
		struct aifs_err err;
		int rc;

		if (c->fixture)
			tfix_resp(&r, c->status, c->fixture);
		else
			tfix_text(&r, c->status, c->text);
		r.retry_after = 4;
		aifs_err_clear(&err);
		rc = provider_ark.delete_parse(&ark_pc, &r, &err);
		http_resp_clear(&r);
		if (rc != c->rc || err.retry != c->retry || strcmp(err.pcode, c->pcode) != 0)
			fprintf(stderr, "  case %zu: rc %d retry %d pcode \"%s\" msg \"%s\"\n", i,
				rc, err.retry, err.pcode, err.msg);
		CHECK_INT(rc, c->rc);
		CHECK_INT(err.code, c->rc);
		CHECK_INT(err.retry, c->retry);
		CHECK_STR(err.pcode, c->pcode);
		CHECK_INT(err.http_status, c->status);
		CHECK(err.retry_after == 4);
		CHECK(rc == 0 ? err.msg[0] == '\0' : err.msg[0] && !strchr(err.msg, '\n'));
	}
}

T_MAIN(T_CASE(ops_table), T_CASE(conf_keys), T_CASE(list_request), T_CASE(get_request), T_CASE(list_mixed_statuses),
       T_CASE(list_meta_is_the_item), T_CASE(list_meta_keeps_exact_values), T_CASE(list_relay_seed),
       T_CASE(list_wrong_types_refused), T_CASE(list_pagination), T_CASE(list_says_how_many_pages),
       T_CASE(list_empty),
       T_CASE(list_malformed), T_CASE(get_rongcloud_seed), T_CASE(get_exact_numbers),
       T_CASE(get_wrong_answers), T_CASE(http_errors), T_CASE(http_error_messages),
       T_CASE(secrets_never_in_messages), T_CASE(list_digit_strings),
       T_CASE(list_total_digit_string_or_wrong), T_CASE(list_skip_reasons),
       T_CASE(get_wrong_type_named), T_CASE(get_without_id), T_CASE(get_envelopes),
       T_CASE(list_envelope), T_CASE(envelope_errors), T_CASE(no_timestamps),
       T_CASE(placeholder_urls), T_CASE(create_request), T_CASE(create_answers),
       T_CASE(create_refusals_and_unknowns), T_CASE(create_messages), T_CASE(delete_request),
       T_CASE(delete_answers))

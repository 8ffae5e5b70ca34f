/* test_chanjing.c: the Chanjing provider, fed the answers in tests/fixtures/. */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/provider.h"
#include "aifs/task.h"
#include "t.h"
#include "tfix.h"

#define BASE "https://open-api.chanjing.cc"

static struct provider_conf cj_pc = {
	.name = "chanjing",
	.type = "chanjing",
	.base_url = BASE,
	.app_id = "cj-app-42",
	.secret_key = "s3cr\"et\\key-0099",
};

static int list_fixture(int listing, int page, const char *path, struct provider_page *pg,
			struct aifs_err *err)
{
	struct http_resp r;

	tfix_resp(&r, 200, path);
	return tfix_list(&provider_chanjing, &cj_pc, listing, page, &r, pg, err);
}

static int get_text(long status, const char *text, const char *id, struct task_info **ti,
		    struct aifs_err *err)
{
	struct http_resp r;

	tfix_text(&r, status, text);
	return tfix_get(&provider_chanjing, &cj_pc, id, &r, ti, err);
}

static int get_fixture(const char *path, const char *id, struct task_info **ti,
		       struct aifs_err *err)
{
	struct http_resp r;

	tfix_resp(&r, 200, path);
	return tfix_get(&provider_chanjing, &cj_pc, id, &r, ti, err);
}

/* The fixture's data (or data.list[i] when i >= 0), as jansson reads it. */
static json_t *fixture_data(const char *path, long i)
{
	size_t len;
	char *text = tfix_read(path, &len);
	json_t *root = text ? tfix_json(text, len) : NULL;
	json_t *data = json_object_get(root, "data");
	json_t *v = json_incref(i < 0 ? data
				      : json_array_get(json_object_get(data, "list"), (size_t)i));

	json_decref(root);
	free(text);
	return v;
}

TEST(ops_table)
{
	struct provider_conf pc = cj_pc;

	CHECK_STR(provider_chanjing.type, "chanjing");
	CHECK_INT(provider_chanjing.n_listings, 2);
	CHECK(provider_chanjing.default_qps == 1.0);
	CHECK(provider_chanjing.token_request && provider_chanjing.token_parse);
	/* only app_id + secret_key: no static credential, the token exchange applies */
	CHECK(provider_chanjing.static_cred(&pc) == NULL);
	pc.access_token = "";
	CHECK(provider_chanjing.static_cred(&pc) == NULL);
	pc.access_token = "tok-static";
	CHECK_STR(provider_chanjing.static_cred(&pc), "tok-static");
}

TEST(conf_keys)
{
	struct provider_conf pc = cj_pc;
	struct aifs_err e;
	char want[128];

	snprintf(want, sizeof want, "app_id:text@%zu secret_key:secret@%zu access_token:secret@%zu",
		 offsetof(struct provider_conf, app_id), offsetof(struct provider_conf, secret_key),
		 offsetof(struct provider_conf, access_token));
	CHECK_STR(tfix_keys(provider_chanjing.keys), want);
	CHECK_INT(provider_chanjing.conf_check(&pc, &e), 0);
	pc.access_token = "tok";
	CHECK_INT(provider_chanjing.conf_check(&pc, &e), -EINVAL);
	CHECK_STR(e.msg, "give access_token, or app_id and secret_key, not both");
	pc.app_id = pc.secret_key = NULL;
	CHECK_INT(provider_chanjing.conf_check(&pc, &e), 0);
	pc.access_token = NULL;
	pc.app_id = "a";
	CHECK_INT(provider_chanjing.conf_check(&pc, &e), -EINVAL);
	CHECK_STR(e.msg, "needs access_token, or app_id and secret_key");
}

TEST(list_request)
{
	struct http_req req = { 0 };

	CHECK_INT(provider_chanjing.list_request(&cj_pc, 0, 1, "TOK-1", &req), 0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, BASE "/open/v1/ai_creation/task/page");
	CHECK_INT(req.n_headers, 2);
	CHECK_STR(req.headers[0], "access_token: TOK-1");
	CHECK_STR(req.headers[1], "Content-Type: application/json");
	CHECK_STR(
		req.body,
		"{\"unique_ids\":[],\"type\":3,\"page\":1,\"page_size\":50,\"is_success\":false}");
	CHECK_INT(req.body_len, strlen(req.body));
	CHECK(req.what && !strstr(req.what, "TOK-1"));
	http_req_clear(&req);

	CHECK_INT(provider_chanjing.list_request(&cj_pc, 1, 7, "TOK-1", &req), 0);
	CHECK_STR(
		req.body,
		"{\"unique_ids\":[],\"type\":4,\"page\":7,\"page_size\":50,\"is_success\":false}");
	http_req_clear(&req);

	CHECK_INT(provider_chanjing.list_request(&cj_pc, 2, 1, "TOK-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_chanjing.list_request(&cj_pc, 0, 0, "TOK-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_chanjing.list_request(&cj_pc, 0, 1, NULL, &req), -EACCES);
	http_req_clear(&req);
	CHECK_INT(provider_chanjing.list_request(&cj_pc, 0, 1, "T\nX: y", &req), -EACCES);
	http_req_clear(&req);
}

TEST(get_request)
{
	struct http_req req = { 0 };

	CHECK_INT(provider_chanjing.get_request(&cj_pc, "58b1c892-6e40-48f9-b06f-50bdd800d3d0",
						"TOK-1", &req),
		  0);
	CHECK_STR(req.method, "GET");
	CHECK_STR(req.url, BASE "/open/v1/ai_creation/task?unique_id=58b1c892-6e40-48f9-b06f-"
				"50bdd800d3d0");
	CHECK_INT(req.n_headers, 1);
	CHECK_STR(req.headers[0], "access_token: TOK-1");
	CHECK(req.body == NULL);
	CHECK_STR(req.what, "GET /open/v1/ai_creation/task?unique_id=58b1c892-6e40-48f9-b06f-"
			    "50bdd800d3d0");
	http_req_clear(&req);

	CHECK_INT(provider_chanjing.get_request(&cj_pc, "a b&c=d/é", "TOK-1", &req), 0);
	CHECK_STR(req.url, BASE "/open/v1/ai_creation/task?unique_id=a%20b%26c%3Dd%2F%C3%A9");
	http_req_clear(&req);
	CHECK_INT(provider_chanjing.get_request(&cj_pc, "", "TOK-1", &req), -EINVAL);
	http_req_clear(&req);
}

TEST(token_request)
{
	struct http_req req = { 0 };
	struct provider_conf pc = cj_pc;
	json_t *body, *want;

	CHECK_INT(provider_chanjing.token_request(&cj_pc, &req), 0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, BASE "/open/v1/access_token");
	CHECK_INT(req.n_headers, 1);
	CHECK_STR(req.headers[0], "Content-Type: application/json");
	CHECK_STR(req.what, "POST /open/v1/access_token");
	body = json_loadb(req.body, req.body_len, 0, NULL);
	want = json_pack("{s:s, s:s}", "app_id", "cj-app-42", "secret_key", "s3cr\"et\\key-0099");
	bool same = body && want && json_equal(body, want);
	json_decref(body);
	json_decref(want);
	http_req_clear(&req);
	CHECK(same);

	/* Nothing to exchange: a static token alone, or half a pair. */
	pc.app_id = NULL;
	pc.access_token = "tok-static";
	CHECK_INT(provider_chanjing.token_request(&pc, &req), -EACCES);
	http_req_clear(&req);
	pc = cj_pc;
	pc.secret_key = "";
	CHECK_INT(provider_chanjing.token_request(&pc, &req), -EACCES);
	http_req_clear(&req);
}

TEST(token_parse)
{
	struct http_resp r;
	struct aifs_err err;
	char *tok = NULL;
	int64_t exp = -1;
	time_t now;

	tfix_resp(&r, 200, FIXTURE("chanjing_token.json"));
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), 0);
	http_resp_clear(&r);
	CHECK_STR(tok, "1ef0c5a2b3d44e6f8a9b0c1d2e3f4a5b");
	CHECK_INT(exp, 1721289220);
	free(tok);

	tfix_resp(&r, 200, FIXTURE("chanjing_token_seconds.json"));
	now = time(NULL);
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), 0);
	http_resp_clear(&r);
	CHECK_STR(tok, "2ab1c5a2b3d44e6f8a9b0c1d2e3f4a5c");
	CHECK(exp >= now + 86400 && exp <= now + 86400 + 5);
	free(tok);

	tfix_text(&r, 200, "{\"code\":0,\"msg\":\"success\",\"data\":{\"access_token\":\"t\"}}");
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), 0);
	http_resp_clear(&r);
	CHECK_STR(tok, "t");
	CHECK_INT(exp, 0); /* unknown */
	free(tok);
}

struct code_case {
	const char *fixture;
	long status;
	int rc;
	enum aifs_retry retry;
	const char *pcode;
};

static int token_case(const struct code_case *c, struct aifs_err *err)
{
	struct http_resp r;
	char *tok = (char *)"untouched";
	int64_t exp = 5;
	int rc;

	if (c->fixture)
		tfix_resp(&r, c->status, c->fixture);
	else
		tfix_text(&r, c->status, "upstream down");
	aifs_err_clear(err);
	rc = provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, err);
	http_resp_clear(&r);
	if (tok || exp != 0)
		return 1;
	return rc;
}

TEST(token_parse_errors)
{
	static const struct code_case cases[] = {
		{ FIXTURE("chanjing_token_refused.json"), 200, -EACCES, AIFS_RETRY_NO, "40000" },
		{ FIXTURE("chanjing_token_invalid.json"), 200, -EACCES, AIFS_RETRY_NO, "10400" },
		{ FIXTURE("chanjing_bad_format.json"), 200, -EACCES, AIFS_RETRY_NO, "400" },
		{ FIXTURE("chanjing_qps.json"), 200, -EAGAIN, AIFS_RETRY_THROTTLED, "40001" },
		{ FIXTURE("chanjing_internal.json"), 200, -EIO, AIFS_RETRY_TRANSIENT, "50000" },
		{ FIXTURE("chanjing_get_null.json"), 200, -EIO, AIFS_RETRY_NO, "" },
		{ FIXTURE("malformed.json"), 200, -EIO, AIFS_RETRY_NO, "" },
		{ NULL, 500, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ NULL, 404, -EIO, AIFS_RETRY_NO, "" },
		{ NULL, 403, -EACCES, AIFS_RETRY_NO, "" },
		{ NULL, 429, -EAGAIN, AIFS_RETRY_THROTTLED, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct aifs_err err;
		int rc = token_case(&cases[i], &err);

		if (rc != cases[i].rc)
			fprintf(stderr, "  case %zu: rc %d msg \"%s\"\n", i, rc, err.msg);
		CHECK_INT(rc, cases[i].rc);
		CHECK_INT(err.code, cases[i].rc);
		CHECK_INT(err.retry, cases[i].retry);
		CHECK_STR(err.pcode, cases[i].pcode);
		CHECK_INT(err.http_status, cases[i].status);
	}
}

TEST(token_refusal_hides_secrets)
{
	struct http_resp r;
	struct aifs_err err;
	char *tok;
	int64_t exp;

	tfix_text(&r, 200,
		  "{\"code\":40000,\"msg\":\"bad secret_key s3cr\\\"et\\\\key-0099 for app\"}");
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), -EACCES);
	http_resp_clear(&r);
	CHECK(strstr(err.msg, "s3cr") == NULL);
	CHECK_STR(err.msg, "code 40000: bad secret_key *** for app");
}

TEST(list_seed)
{
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;
	json_t *want;

	CHECK_INT(list_fixture(0, 1, FIXTURE("chanjing_list_seed.json"), &pg, &err), 0);
	CHECK_INT(err.http_status, 200);
	CHECK_INT(pg.n_tasks, 1);
	CHECK(pg.last);
	t = pg.tasks[0];
	CHECK_STR(t->id, "58b1c892-6e40-48f9-b06f-50bdd800d3d0");
	CHECK_STR(t->status_text, "failed\n");
	CHECK_INT(t->status, TASK_FAILED);
	CHECK_STR(t->error, "任务失败,本次生成不消耗蝉豆\n");
	CHECK_INT(t->error_len, strlen(t->error));
	CHECK_INT(t->mtime, 1772510584);
	CHECK_INT(t->n_outputs, 0);
	want = fixture_data(FIXTURE("chanjing_list_seed.json"), 0);
	bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	provider_page_clear(&pg);
	CHECK(ok);
}

TEST(list_videos)
{
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;

	CHECK_INT(list_fixture(1, 2, FIXTURE("chanjing_list_video.json"), &pg, &err), 0);
	CHECK(pg.last);
	CHECK_INT(pg.n_tasks, 6); /* no unique_id, "junk" and wrong types are left out */
	CHECK_INT(pg.skipped, 3);
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000021")));
	CHECK_STR(t->status_text, "queued\n");
	CHECK_INT(t->mtime, 1772800021);
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000022")));
	CHECK_STR(t->status_text, "queued\n"); /* Ready */
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000023")));
	CHECK_STR(t->status_text, "running\n");
	CHECK(t->error == NULL);
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000024")));
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->n_outputs, 1);
	CHECK_STR(t->outputs[0].name, "video.mov");
	CHECK_STR(
		t->outputs[0].url,
		"https://www.chanjing.cc/chanjing/res/aigc_creation/open/video/2026-03-06/v24.mov");
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000025")));
	CHECK_STR(t->status_text, "failed\n"); /* Fail */
	CHECK_STR(t->error, "task failed\n");  /* err_msg "" */
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000026")));
	CHECK_STR(t->status_text, "auditing\n");
	CHECK_INT(t->status, TASK_OTHER);
	CHECK_INT(t->n_outputs, 1); /* no type: the listing's, video; no extension: mp4 */
	CHECK_STR(t->outputs[0].name, "video.mp4");
	/* create_time "1772800028" and output_url a string: a malformed item */
	CHECK(tfix_find(&pg, "a0000000-0000-4000-8000-000000000028") == NULL);
	for (long i = 0; i < 6; i++) {
		json_t *want = fixture_data(FIXTURE("chanjing_list_video.json"), i);
		bool ok = tfix_meta_is(pg.tasks[i], want) && tfix_meta_is_dump(pg.tasks[i], want);
		json_decref(want);
		CHECK(ok);
	}
	provider_page_clear(&pg);

	/* The same untyped task in the image listing is an image. */
	CHECK_INT(list_fixture(0, 2, FIXTURE("chanjing_list_video.json"), &pg, &err), 0);
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000026")));
	CHECK_STR(t->outputs[0].name, "image.png");
	/* A typed one keeps its own type. */
	CHECK((t = tfix_find(&pg, "a0000000-0000-4000-8000-000000000024")));
	CHECK_STR(t->outputs[0].name, "video.mov");
	provider_page_clear(&pg);
}

static char *page_body(size_t n, long total_page)
{
	char *s = malloc(128 + n * 80), *p = s;

	if (!s)
		return NULL;
	p += sprintf(p, "{\"code\":0,\"msg\":\"success\",\"data\":{\"list\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{\"unique_id\":\"u-%zu\",\"progress_desc\":\"Queued\"}",
			     i ? "," : "", i);
	p += sprintf(p, "]");
	if (total_page >= 0)
		p += sprintf(p, ",\"page_info\":{\"page\":1,\"size\":50,\"total_page\":%ld}",
			     total_page);
	strcpy(p, "}}");
	return s;
}

static int page_last(size_t n, long total_page, int page, bool *last, size_t *n_tasks)
{
	return tfix_page_last(&provider_chanjing, &cj_pc, page_body(n, total_page), page, last, n_tasks);
}

TEST(list_pagination)
{
	bool last;
	size_t n;

	CHECK_INT(page_last(50, 3, 1, &last, &n), 0);
	CHECK(!last);
	CHECK_INT(n, 50);
	CHECK_INT(page_last(50, 3, 2, &last, &n), 0);
	CHECK(!last);
	CHECK_INT(page_last(50, 3, 3, &last, &n), 0);
	CHECK(last);
	CHECK_INT(page_last(50, -1, 9, &last, &n), 0); /* no page_info: a full page goes on */
	CHECK(!last);
	CHECK_INT(page_last(49, 3, 1, &last, &n), 0);
	CHECK(last);
	CHECK_INT(page_last(0, 3, 1, &last, &n), 0);
	CHECK(last);
	CHECK_INT(n, 0);
}

TEST(list_says_how_many_pages)
{
	struct provider_page pg;
	struct aifs_err err;
	struct http_resp r = { .status = 200, .retry_after = -1 };
	char *body = page_body(50, 7);

	r.body = body;
	r.len = body ? strlen(body) : 0;
	CHECK_INT(tfix_list(&provider_chanjing, &cj_pc, 0, 1, &r, &pg, &err), 0);
	CHECK_INT(pg.pages, 7);
	CHECK_INT(pg.total, -1); /* page_info without total_count, no total */
	provider_page_clear(&pg);
	body = page_body(50, -1);
	r.status = 200;
	r.body = body;
	r.len = body ? strlen(body) : 0;
	CHECK_INT(tfix_list(&provider_chanjing, &cj_pc, 0, 1, &r, &pg, &err), 0);
	CHECK_INT(pg.pages, 0);
	provider_page_clear(&pg);
}

TEST(list_null_list_and_string_code)
{
	struct provider_page pg;
	struct aifs_err err;

	CHECK_INT(list_fixture(0, 1, FIXTURE("chanjing_list_null.json"), &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 0);
	CHECK(pg.last);
	provider_page_clear(&pg);
	/* a code that is not a number is no answer aifs can read */
	CHECK_INT(list_fixture(1, 1, FIXTURE("chanjing_code_string.json"), &pg, &err), -EIO);
	provider_page_clear(&pg);
}

TEST(list_malformed)
{
	static const char *const bad[] = {
		FIXTURE("malformed.json"),
		FIXTURE("chanjing_list_not_list.json"),
		FIXTURE("chanjing_list_no_data.json"),
		FIXTURE("chanjing_no_code.json"),
		FIXTURE("ark_not_object.json"),
		FIXTURE("chanjing_get_null.json"),
	};
	struct provider_page pg;
	struct aifs_err err;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = list_fixture(0, 1, bad[i], &pg, &err);
		if (rc != -EIO)
			fprintf(stderr, "  %s: %d\n", bad[i], rc);
		CHECK_INT(rc, -EIO);
		CHECK_INT(err.retry, AIFS_RETRY_NO);
		CHECK(strstr(err.msg, "malformed"));
		CHECK(pg.n_tasks == 0 && pg.tasks == NULL);
	}
}

TEST(get_video)
{
	struct task_info *t = NULL;
	struct aifs_err err;
	json_t *want;

	CHECK_INT(get_fixture(FIXTURE("chanjing_get_video.json"),
			      "0c4d7e2a-91b3-4f6a-8d2e-5b7c9a1e3f60", &t, &err),
		  0);
	CHECK(t);
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK(t->error == NULL);
	CHECK_INT(t->mtime, 1772600000);
	CHECK_INT(t->n_outputs, 1);
	CHECK_STR(t->outputs[0].name, "video.mp4");
	CHECK_STR(t->outputs[0].url, "https://www.chanjing.cc/chanjing/res/aigc_creation/open/"
				     "video/2026-03-04/9b2f1c7d.mp4");
	want = fixture_data(FIXTURE("chanjing_get_video.json"), -1);
	bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	task_info_unref(t);
	CHECK(ok);
}

TEST(get_multi_image)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(FIXTURE("chanjing_multi_image.json"),
			      "e3f1a9c4-2b6d-4c8e-9f1a-3b5d7e9f1a2c", &t, &err),
		  0);
	CHECK(t);
	CHECK_INT(t->n_outputs, 4); /* "" and null are no outputs */
	CHECK_STR(t->outputs[0].name, "image-1.jpg");
	CHECK_STR(t->outputs[0].url, "https://www.chanjing.cc/chanjing/res/aigc_creation/open/"
				     "photo/2026-03-05/out1.jpg");
	CHECK_STR(t->outputs[1].name, "image-2.PNG");
	CHECK_STR(t->outputs[1].url,
		  "https://www.chanjing.cc/chanjing/res/aigc_creation/open/photo/"
		  "2026-03-05/out2.PNG?x-oss-process=image/resize,w_100");
	CHECK_STR(t->outputs[2].name, "image-3.png");
	CHECK_STR(t->outputs[3].name, "image-4.webp");
	task_info_unref(t);
}

TEST(get_type_guessed)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(
		get_text(200,
			 "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			 "\"output_url\":[\"https://h/a/v.mp4\"]}}",
			 "u1", &t, &err),
		0);
	CHECK_STR(t->outputs[0].name, "video.mp4");
	task_info_unref(t);
	CHECK_INT(
		get_text(200,
			 "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			 "\"output_url\":[\"https://h/a/"
			 "v\"],\"motion_info\":{\"video_duration\":10}}}",
			 "u1", &t, &err),
		0);
	CHECK_STR(t->outputs[0].name, "video.mp4");
	task_info_unref(t);
	CHECK_INT(
		get_text(200,
			 "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			 "\"output_url\":[\"https://h/a/"
			 "v\"],\"motion_info\":{\"video_duration\":0}}}",
			 "u1", &t, &err),
		0);
	CHECK_STR(t->outputs[0].name, "image.png");
	task_info_unref(t);
	CHECK_INT(
		get_text(200,
			 "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"type\":9,\"progress_desc\":"
			 "\"Success\",\"output_url\":[\"https://h/a/x.jpeg\"]}}",
			 "u1", &t, &err),
		0);
	CHECK_STR(t->outputs[0].name, "image.jpeg");
	task_info_unref(t);

	CHECK_INT(get_fixture(FIXTURE("chanjing_get_untyped.json"),
			      "7d1e2f3a-0000-4000-8000-000000000001", &t, &err),
		  0);
	CHECK_STR(t->status_text, "running\n");
	CHECK_INT(t->mtime, 1772600100);
	CHECK_INT(t->n_outputs, 0);
	task_info_unref(t);
}

TEST(get_not_found)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(FIXTURE("chanjing_get_null.json"), "u-x", &t, &err), -ENOENT);
	CHECK(t == NULL);
	CHECK_INT(err.retry, AIFS_RETRY_NO);
	CHECK_INT(err.http_status, 200);
	CHECK_INT(get_fixture(FIXTURE("chanjing_bad_param.json"), "u-x", &t, &err), -ENOENT);
	CHECK_STR(err.pcode, "40000");
	CHECK(t == NULL);
	/* An answer about some other task is not this one. */
	CHECK_INT(get_fixture(FIXTURE("chanjing_get_other.json"), "u-x", &t, &err), -EIO);
	CHECK(t == NULL);
	/* Missing data, or data not an object, is malformed. */
	CHECK_INT(get_text(200, "{\"code\":0,\"msg\":\"success\"}", "u-x", &t, &err), -EIO);
	CHECK_INT(get_text(200, "{\"code\":0,\"data\":[1]}", "u-x", &t, &err), -EIO);
	CHECK_INT(get_text(200, "{\"code\":0,\"data\":\"u-x\"}", "u-x", &t, &err), -EIO);
	CHECK(t == NULL);
}

struct body_case {
	const char *fixture; /* NULL: a non-JSON body */
	long status;
	bool list;
	int rc;
	enum aifs_retry retry;
	const char *pcode;
};

TEST(error_codes)
{
	static const struct body_case cases[] = {
		{ FIXTURE("chanjing_token_invalid.json"), 200, true, -EACCES, AIFS_RETRY_REAUTH,
		  "10400" },
		{ FIXTURE("chanjing_token_invalid.json"), 200, false, -EACCES, AIFS_RETRY_REAUTH,
		  "10400" },
		{ FIXTURE("chanjing_token_expired.json"), 200, true, -EACCES, AIFS_RETRY_REAUTH,
		  "10401" },
		{ FIXTURE("chanjing_token_expired.json"), 200, false, -EACCES, AIFS_RETRY_REAUTH,
		  "10401" },
		{ FIXTURE("chanjing_qps.json"), 200, true, -EAGAIN, AIFS_RETRY_THROTTLED, "40001" },
		{ FIXTURE("chanjing_qps.json"), 200, false, -EAGAIN, AIFS_RETRY_THROTTLED,
		  "40001" },
		{ FIXTURE("chanjing_internal.json"), 200, true, -EIO, AIFS_RETRY_TRANSIENT,
		  "50000" },
		{ FIXTURE("chanjing_internal.json"), 200, false, -EIO, AIFS_RETRY_TRANSIENT,
		  "50000" },
		{ FIXTURE("chanjing_bad_param.json"), 200, false, -ENOENT, AIFS_RETRY_NO, "40000" },
		{ FIXTURE("chanjing_bad_param.json"), 200, true, -EIO, AIFS_RETRY_NO, "40000" },
		{ FIXTURE("chanjing_bad_format.json"), 200, true, -EIO, AIFS_RETRY_NO, "400" },
		{ FIXTURE("chanjing_bad_format.json"), 200, false, -EIO, AIFS_RETRY_NO, "400" },
		{ FIXTURE("chanjing_qps.json"), 429, true, -EAGAIN, AIFS_RETRY_THROTTLED, "40001" },
		{ NULL, 429, false, -EAGAIN, AIFS_RETRY_THROTTLED, "" },
		{ NULL, 502, true, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ NULL, 504, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ NULL, 408, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ NULL, 401, true, -EACCES, AIFS_RETRY_NO, "" },
		{ NULL, 403, false, -EACCES, AIFS_RETRY_NO, "" },
		{ NULL, 404, true, -EIO, AIFS_RETRY_NO, "" }, /* the list exists: wrong base_url */
		{ NULL, 404, false, -ENOENT, AIFS_RETRY_NO, "" },
		{ NULL, 400, true, -EIO, AIFS_RETRY_NO, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct body_case *c = &cases[i];
		struct http_resp r;
		struct aifs_err err;
		struct provider_page pg;
		struct task_info *t = NULL;
		int rc;

		if (c->fixture)
			tfix_resp(&r, c->status, c->fixture);
		else
			tfix_text(&r, c->status, "<html>gateway</html>");
		r.retry_after = 7;
		aifs_err_clear(&err);
		rc = c->list ? provider_chanjing.list_parse(&cj_pc, 0, 1, &r, &pg, &err)
			     : provider_chanjing.get_parse(&cj_pc, "u-x", &r, &t, &err);
		http_resp_clear(&r);
		if (rc != c->rc || err.retry != c->retry || strcmp(err.pcode, c->pcode) != 0)
			fprintf(stderr, "  case %zu: rc %d retry %d pcode \"%s\" msg \"%s\"\n", i,
				rc, err.retry, err.pcode, err.msg);
		CHECK_INT(rc, c->rc);
		CHECK_INT(err.code, c->rc);
		CHECK_INT(err.retry, c->retry);
		CHECK_STR(err.pcode, c->pcode);
		CHECK_INT(err.http_status, c->status);
		CHECK(err.retry_after == 7);
		CHECK(t == NULL);
		CHECK(!c->list || (pg.n_tasks == 0 && pg.tasks == NULL));
	}
}

TEST(error_messages)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(FIXTURE("chanjing_token_invalid.json"), "u-x", &t, &err), -EACCES);
	CHECK_STR(err.msg, "code 10400: AccessToken 验证失败");
	CHECK_INT(get_text(200, "{\"code\":40001}", "u-x", &t, &err), -EAGAIN);
	CHECK_STR(err.msg, "code 40001");
}

/* Numbers aifs reads may come as strings of digits; other strings are wrong. */
TEST(list_digit_strings)
{
	struct provider_page pg;
	struct aifs_err err;
	struct task_info *t;

	CHECK_INT(list_fixture(0, 1, FIXTURE("chanjing_list_digit_strings.json"), &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 2);
	CHECK_INT(pg.skipped, 1);
	CHECK(pg.last);
	CHECK_STR(pg.skip_why, "item 3 of 3: create_time is a string that is not all digits");
	CHECK((t = tfix_find(&pg, "58b1c892-6e40-48f9-b06f-50bdd800d3d0")));
	CHECK_INT(t->mtime, 1772510584);
	CHECK_STR(t->status_text, "failed\n");
	CHECK((t = tfix_find(&pg, "58b1c892-6e40-48f9-b06f-50bdd800d3d1")));
	CHECK_INT(t->mtime, 1772510599);
	CHECK_STR(tfix_output(t, "image.jpg"), "https://www.chanjing.cc/chanjing/res/aigc_creation/"
					       "open/photo/2026-03-02/out8.jpg");
	json_t *want = fixture_data(FIXTURE("chanjing_list_digit_strings.json"), 1);
	bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	provider_page_clear(&pg);
	CHECK(ok);
}

TEST(list_page_fields_strict)
{
	static const struct {
		const char *data, *msg;
	} cases[] = {
		{ "\"total\":\"3 tasks\"", "data.total is a string that is not all digits" },
		{ "\"page_info\":{\"total_page\":\"x\"}",
		  "data.page_info.total_page is a string that is not all digits" },
		{ "\"page_info\":{\"page\":[1]}", "data.page_info.page is an array" },
		{ "\"page_info\":{\"size\":50.5}", "data.page_info.size is a number with a fraction" },
		{ "\"page_info\":{\"total_count\":{}}", "data.page_info.total_count is an object" },
		{ "\"page_info\":7", "data.page_info is a number" },
	};
	struct provider_page pg;
	struct aifs_err err;
	char text[256], want[160];
	struct http_resp r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "{\"code\":0,\"data\":{\"list\":[],%s}}", cases[i].data);
		tfix_text(&r, 200, text);
		CHECK_INT(provider_chanjing.list_parse(&cj_pc, 0, 1, &r, &pg, &err), -EIO);
		http_resp_clear(&r);
		snprintf(want, sizeof want, "malformed answer: %s", cases[i].msg);
		CHECK_STR(err.msg, want);
	}
	/* digits: total_page "3" on page 3 is the last */
	char *body = strdup("{\"code\":0,\"data\":{\"list\":[],\"page_info\":{\"total_page\":\"3\"}}}");
	bool last;
	size_t n;
	CHECK_INT(tfix_page_last(&provider_chanjing, &cj_pc, body, 3, &last, &n), 0);
	CHECK(last);
	tfix_text(&r, 200, "{\"code\":0,\"data\":{\"list\":null,\"total\":\"2\"}}");
	CHECK_INT(provider_chanjing.list_parse(&cj_pc, 0, 1, &r, &pg, &err), -EIO);
	http_resp_clear(&r);
	CHECK(strstr(err.msg, "data.list is null but 2 tasks are said"));
}

TEST(token_expire_in_digits)
{
	struct http_resp r;
	struct aifs_err err;
	char *tok = NULL;
	int64_t exp = -1;

	tfix_text(&r, 200,
		  "{\"code\":0,\"data\":{\"access_token\":\"tk\",\"expire_in\":\"1721289220\"}}");
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), 0);
	http_resp_clear(&r);
	CHECK_STR(tok, "tk");
	CHECK_INT(exp, 1721289220);
	free(tok);

	tfix_text(&r, 200,
		  "{\"code\":0,\"data\":{\"access_token\":\"tk-secret-0042\",\"expire_in\":"
		  "\"tomorrow\"}}");
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), -EIO);
	http_resp_clear(&r);
	CHECK(tok == NULL);
	CHECK_STR(err.msg, "malformed answer: data.expire_in is a string that is not all digits");

	tfix_text(&r, 200, "{\"code\":0,\"data\":{\"access_token\":[\"tk-secret-0042\"]}}");
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), -EIO);
	http_resp_clear(&r);
	CHECK_STR(err.msg, "malformed answer: data.access_token is an array");
	tfix_text(&r, 200, "{\"code\":0,\"data\":{\"access_token\":\"tk\\nx\"}}");
	CHECK_INT(provider_chanjing.token_parse(&cj_pc, &r, &tok, &exp, &err), -EIO);
	http_resp_clear(&r);
	CHECK(strstr(err.msg, "tk") == NULL);
}

TEST(get_wrong_type_named)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_text(200,
			   "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			   "\"output_url\":\"https://h/a.png\"}}",
			   "u1", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: output_url is a string");
	CHECK_INT(get_text(200,
			   "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			   "\"type\":\"video\"}}",
			   "u1", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: type is a string that is not all digits");
	CHECK_INT(get_text(200, "{\"code\":0,\"data\":[1]}", "u1", &t, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: data is an array");
	CHECK_INT(get_text(200, "{\"code\":0,\"data\":{\"unique_id\":\"u1\"}}", "u1", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: data is an object without progress_desc");
	CHECK_INT(get_text(200,
			   "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			   "\"type\":\"4\",\"create_time\":\"1772600000\","
			   "\"output_url\":[\"https://h/a/v\"]}}",
			   "u1", &t, &err),
		  0);
	CHECK_INT(t->mtime, 1772600000);
	CHECK_STR(t->outputs[0].name, "video.mp4"); /* type "4" is a video */
	task_info_unref(t);
	CHECK(t);
}

/* A single-task answer without unique_id is the task that was asked for. */
TEST(get_without_id)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(FIXTURE("chanjing_get_no_id.json"),
			      "0c4d7e2a-91b3-4f6a-8d2e-5b7c9a1e3f60", &t, &err),
		  0);
	CHECK(t);
	CHECK_STR(t->id, "0c4d7e2a-91b3-4f6a-8d2e-5b7c9a1e3f60");
	CHECK_STR(t->status_text, "succeeded\n");
	CHECK_INT(t->mtime, 1772600000);
	CHECK_STR(t->outputs[0].name, "video.mp4");
	json_t *want = fixture_data(FIXTURE("chanjing_get_no_id.json"), -1);
	bool ok = want && tfix_meta_is(t, want) && tfix_meta_is_dump(t, want);
	json_decref(want);
	task_info_unref(t);
	CHECK(ok);
	CHECK_INT(get_text(200, "{\"code\":0,\"data\":{\"unique_id\":null,\"progress_desc\":\"Queued\"}}",
			   "u1", &t, &err),
		  0);
	CHECK_STR(t->id, "u1");
	task_info_unref(t);
	CHECK_INT(get_text(200, "{\"code\":0,\"data\":{\"unique_id\":7,\"progress_desc\":\"Queued\"}}",
			   "u1", &t, &err),
		  -EIO);
	CHECK_STR(err.msg, "malformed answer: unique_id is a number");
}

/* No create_time is no error: mtime 0 says "unknown", and the tree decides. */
TEST(no_timestamps)
{
	struct task_info *t = NULL;
	struct provider_page pg;
	struct aifs_err err;
	struct http_resp r;

	CHECK_INT(get_fixture(FIXTURE("chanjing_get_no_timestamps.json"),
			      "0c4d7e2a-91b3-4f6a-8d2e-5b7c9a1e3f60", &t, &err),
		  0);
	CHECK_INT(t->mtime, 0);
	CHECK_INT(t->n_outputs, 1);
	task_info_unref(t);
	tfix_text(&r, 200,
		  "{\"code\":0,\"data\":{\"list\":[{\"unique_id\":\"u1\",\"progress_desc\":"
		  "\"Queued\",\"create_time\":null}]}}");
	CHECK_INT(tfix_list(&provider_chanjing, &cj_pc, 0, 1, &r, &pg, &err), 0);
	CHECK_INT(pg.n_tasks, 1);
	CHECK_INT(pg.tasks[0]->mtime, 0);
	provider_page_clear(&pg);
}

/* Output files only for http(s) URLs with a host; the others take no number. */
TEST(placeholder_urls)
{
	struct task_info *t = NULL;
	struct aifs_err err;

	CHECK_INT(get_fixture(FIXTURE("chanjing_placeholder_url.json"),
			      "e3f1a9c4-2b6d-4c8e-9f1a-3b5d7e9f1a2c", &t, &err),
		  0);
	CHECK_INT(t->n_outputs, 1);
	CHECK_STR(t->outputs[0].name, "image.jpg");
	task_info_unref(t);
	/* a video guessed from a usable URL, not from a placeholder before it */
	CHECK_INT(get_text(200,
			   "{\"code\":0,\"data\":{\"unique_id\":\"u1\",\"progress_desc\":\"Success\","
			   "\"output_url\":[\"<SIGNED_URL>.png\",\"https://h/a/v.mp4\"]}}",
			   "u1", &t, &err),
		  0);
	CHECK_INT(t->n_outputs, 1);
	CHECK_STR(t->outputs[0].name, "video.mp4");
	task_info_unref(t);
}

TEST(create_request)
{
	static const char body[] = "{\"creation_type\":3, \"model_code\":\"doubao-seedream-4.5\","
				   "\"ref_prompt\":\"白底产品图\",\"number_of_images\":2}\r\n";
	struct http_req req = { 0 };

	CHECK(provider_chanjing.create_request && provider_chanjing.create_parse);
	/* no cancel, no delete */
	CHECK(provider_chanjing.delete_request == NULL && provider_chanjing.delete_parse == NULL);
	CHECK_INT(provider_chanjing.create_request(&cj_pc, body, sizeof body - 1, "TOK-1", &req),
		  0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, BASE "/open/v1/ai_creation/task/submit");
	CHECK_INT(req.n_headers, 2);
	CHECK_STR(req.headers[0], "access_token: TOK-1");
	CHECK_STR(req.headers[1], "Content-Type: application/json");
	CHECK_INT(req.body_len, sizeof body - 1);
	CHECK(memcmp(req.body, body, sizeof body - 1) == 0);
	CHECK_STR(req.what, "POST /open/v1/ai_creation/task/submit");
	http_req_clear(&req);

	CHECK_INT(provider_chanjing.create_request(&cj_pc, body, 0, "TOK-1", &req), -EINVAL);
	http_req_clear(&req);
	CHECK_INT(provider_chanjing.create_request(&cj_pc, body, 4, NULL, &req), -EACCES);
	http_req_clear(&req);
	CHECK_INT(provider_chanjing.create_request(&cj_pc, body, 4, "T\nX: y", &req), -EACCES);
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
	r.retry_after = 5;
	aifs_err_clear(err);
	*id = (char *)"not overwritten";
	rc = provider_chanjing.create_parse(&cj_pc, &r, id, err);
	http_resp_clear(&r);
	return rc;
}

TEST(create_answers)
{
	struct aifs_err err;
	char *id;

	CHECK_INT(create_resp(200, FIXTURE("chanjing_create_ok.json"), NULL, &id, &err), 0);
	CHECK_STR(id, "8f2b1c6e-3d4a-4e5f-9a7b-1c2d3e4f5a6b");
	CHECK_INT(err.code, 0);
	CHECK_INT(err.http_status, 200);
	free(id);
	CHECK_INT(create_resp(200, NULL, "{\"code\":0,\"data\":{\"unique_id\":\"u-1\"}}", &id,
			      &err),
		  0);
	CHECK_STR(id, "u-1");
	free(id);

	CHECK_INT(create_resp(200, FIXTURE("chanjing_create_40000.json"), NULL, &id, &err),
		  -EINVAL);
	CHECK_STR(err.msg, "code 40000: 参数错误: model_code 不存在");
	CHECK_STR(err.pcode, "40000");
	CHECK(id == NULL);
	CHECK_INT(create_resp(200, NULL, "{\"code\":0,\"data\":null}", &id, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: data is null");
	CHECK_INT(create_resp(200, NULL, "{\"code\":0,\"data\":{\"id\":7}}", &id, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: data.unique_id is missing");
	CHECK_INT(create_resp(200, NULL, "{\"code\":0,\"data\":\"\"}", &id, &err), -EIO);
	CHECK_STR(err.msg, "malformed answer: data is empty");
}

TEST(create_codes)
{
	static const struct body_case cases[] = {
		/* refused: not made */
		{ FIXTURE("chanjing_create_40000.json"), 200, false, -EINVAL, AIFS_RETRY_NO, "40000" },
		{ FIXTURE("chanjing_bad_param.json"), 200, false, -EINVAL, AIFS_RETRY_NO, "40000" },
		{ FIXTURE("chanjing_bad_format.json"), 200, false, -EINVAL, AIFS_RETRY_NO, "400" },
		{ NULL, 400, false, -EINVAL, AIFS_RETRY_NO, "" },
		{ NULL, 401, false, -EACCES, AIFS_RETRY_NO, "" },
		{ NULL, 403, false, -EACCES, AIFS_RETRY_NO, "" },
		{ NULL, 404, false, -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ NULL, 405, false, -EOPNOTSUPP, AIFS_RETRY_NO, "" },
		{ NULL, 200, true, -EIO, AIFS_RETRY_NO, "1234" }, /* another code */
		/* not taken */
		{ FIXTURE("chanjing_token_invalid.json"), 200, false, -EACCES, AIFS_RETRY_REAUTH,
		  "10400" },
		{ FIXTURE("chanjing_token_expired.json"), 200, false, -EACCES, AIFS_RETRY_REAUTH,
		  "10401" },
		{ FIXTURE("chanjing_qps.json"), 200, false, -EAGAIN, AIFS_RETRY_THROTTLED, "40001" },
		{ NULL, 429, false, -EAGAIN, AIFS_RETRY_THROTTLED, "" },
		{ NULL, 503, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		/* unknown */
		{ FIXTURE("chanjing_internal.json"), 200, false, -EIO, AIFS_RETRY_TRANSIENT,
		  "50000" },
		{ NULL, 500, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ NULL, 502, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ NULL, 200, false, -EIO, AIFS_RETRY_TRANSIENT, "" }, /* not JSON */
		{ FIXTURE("chanjing_no_code.json"), 200, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
		{ FIXTURE("chanjing_code_string.json"), 200, false, -EIO, AIFS_RETRY_TRANSIENT, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct body_case *c = &cases[i];
		struct aifs_err err;
		char *id;
		/* .list marks the case of another code */
		int rc = create_resp(c->status, c->fixture,
				     c->list ? "{\"code\":1234,\"msg\":\"余额不足\"}" : "<html>gateway</html>",
				     &id, &err);

		if (rc != c->rc || err.retry != c->retry || strcmp(err.pcode, c->pcode) != 0)
			fprintf(stderr, "  case %zu: rc %d retry %d pcode \"%s\" msg \"%s\"\n", i,
				rc, err.retry, err.pcode, err.msg);
		CHECK_INT(rc, c->rc);
		CHECK_INT(err.code, c->rc);
		CHECK_INT(err.retry, c->retry);
		CHECK_STR(err.pcode, c->pcode);
		CHECK_INT(err.http_status, c->status);
		CHECK(err.retry_after == 5);
		CHECK(id == NULL);
		CHECK(err.msg[0] && !strchr(err.msg, '\n'));
	}
}

T_MAIN(T_CASE(ops_table), T_CASE(conf_keys), T_CASE(list_request), T_CASE(get_request), T_CASE(token_request),
       T_CASE(token_parse), T_CASE(token_parse_errors), T_CASE(token_refusal_hides_secrets),
       T_CASE(list_seed), T_CASE(list_videos), T_CASE(list_pagination), T_CASE(list_says_how_many_pages),
       T_CASE(list_null_list_and_string_code), T_CASE(list_malformed), T_CASE(get_video),
       T_CASE(get_multi_image), T_CASE(get_type_guessed), T_CASE(get_not_found),
       T_CASE(error_codes), T_CASE(error_messages), T_CASE(list_digit_strings),
       T_CASE(list_page_fields_strict), T_CASE(token_expire_in_digits),
       T_CASE(get_wrong_type_named), T_CASE(get_without_id), T_CASE(no_timestamps),
       T_CASE(placeholder_urls), T_CASE(create_request), T_CASE(create_answers),
       T_CASE(create_codes))

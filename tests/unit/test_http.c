/* test_http.c: what http_perform() says about a request that failed: whether
 * any of it was sent, and that a no_reuse request is never sent twice. Runs
 * against hstub, a scripted server on 127.0.0.1. */
#include <errno.h>
#include <stdlib.h>

#include "aifs/err.h"
#include "aifs/http.h"
#include "hstub.h"
#include "t.h"

static const struct http_opts opts = { .timeout = 1, .max_body = 1 << 20 };

static const char create_body[] = "{\"model\":\"m\",\n \"content\":[{\"type\":\"text\"}]}\n";

/* A POST of create_body to port, sent once when once is set. */
static int post(struct http *h, int port, bool once, struct http_resp *resp,
		struct aifs_err *err)
{
	struct http_req req = { 0 };
	int rc = http_req_init(&req, "POST", "http://127.0.0.1:%d/tasks", port);

	if (rc == 0)
		rc = http_req_header(&req, "Authorization: Bearer KEY-secret");
	if (rc == 0)
		rc = http_req_body(&req, create_body, sizeof create_body - 1);
	req.no_reuse = once;
	aifs_err_clear(err);
	if (rc == 0)
		rc = http_perform(h, &opts, &req, resp, err);
	http_req_clear(&req);
	return rc;
}

static int get(struct http *h, int port, struct http_resp *resp, struct aifs_err *err)
{
	struct http_req req = { 0 };
	int rc = http_req_init(&req, "GET", "http://127.0.0.1:%d/tasks/a", port);

	aifs_err_clear(err);
	if (rc == 0)
		rc = http_perform(h, &opts, &req, resp, err);
	http_req_clear(&req);
	return rc;
}

TEST(refused_is_not_sent)
{
	struct http *h;
	struct http_resp resp = { 0 };
	struct aifs_err err;
	int port = hstub_dead_port();

	CHECK(http_global_init() == 0 && (h = http_new()) != NULL);
	CHECK(port > 0);
	CHECK_INT(post(h, port, true, &resp, &err), -ECONNREFUSED);
	CHECK(!resp.sent);
	CHECK_INT(err.http_status, 0);
	/* not measured without no_reuse: the safe answer */
	CHECK_INT(post(h, port, false, &resp, &err), -ECONNREFUSED);
	CHECK(resp.sent);
	http_resp_clear(&resp);
	http_free(h);
	http_global_cleanup();
}

TEST(closed_after_the_request_was_sent)
{
	static const struct hstub_step steps[] = { { .act = HS_CLOSE } };
	struct hstub s;
	struct http *h;
	struct http_resp resp = { 0 };
	struct aifs_err err;

	CHECK(http_global_init() == 0 && (h = http_new()) != NULL);
	CHECK_INT(hstub_start(&s, steps, 1), 0);
	CHECK_INT(post(h, s.port, true, &resp, &err), -ECONNRESET);
	CHECK(resp.sent);
	hstub_stop(&s);
	CHECK_INT(s.n_req, 1);
	CHECK_STR(s.req[0].method, "POST");
	CHECK_INT(s.req[0].body_len, sizeof create_body - 1);
	CHECK(memcmp(s.req[0].body, create_body, sizeof create_body - 1) == 0);
	CHECK(strcasestr(s.req[0].head, "\r\nExpect:") == NULL);
	http_resp_clear(&resp);
	http_free(h);
	http_global_cleanup();
}

TEST(silence_after_the_request_was_sent)
{
	static const struct hstub_step steps[] = { { .act = HS_SILENT } };
	struct hstub s;
	struct http *h;
	struct http_resp resp = { 0 };
	struct aifs_err err;

	CHECK(http_global_init() == 0 && (h = http_new()) != NULL);
	CHECK_INT(hstub_start(&s, steps, 1), 0);
	CHECK_INT(post(h, s.port, true, &resp, &err), -ETIMEDOUT);
	CHECK(resp.sent);
	hstub_stop(&s);
	CHECK_INT(s.n_req, 1);
	http_resp_clear(&resp);
	http_free(h);
	http_global_cleanup();
}

TEST(answered_is_sent)
{
	static const struct hstub_step steps[] = { { HS_ANSWER, 200, NULL, "{\"id\":\"x\"}", false } };
	struct hstub s;
	struct http *h;
	struct http_resp resp = { 0 };
	struct aifs_err err;

	CHECK(http_global_init() == 0 && (h = http_new()) != NULL);
	CHECK_INT(hstub_start(&s, steps, 1), 0);
	CHECK_INT(post(h, s.port, true, &resp, &err), 0);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.body, "{\"id\":\"x\"}");
	CHECK(resp.sent);
	hstub_stop(&s);
	http_resp_clear(&resp);
	http_free(h);
	http_global_cleanup();
}

/* The reason for no_reuse. A kept-alive connection that the server closes
 * after reading a POST, without answering, looks to libcurl like a stale
 * connection, and it sends the POST again on a new one: the server got it
 * twice. A no_reuse POST goes on a connection of its own, and the failure
 * comes back instead. */
TEST(no_reuse_is_never_sent_twice)
{
	static const struct hstub_step steps[] = {
		{ HS_ANSWER, 200, NULL, "{}", true }, /* GET, kept alive */
		{ .act = HS_CLOSE },                   /* the POST, taken, unanswered */
		{ HS_ANSWER, 200, NULL, "{}", false }, /* anything after */
	};
	struct hstub s;
	struct http *h;
	struct http_resp resp = { 0 };
	struct aifs_err err;

	CHECK(http_global_init() == 0 && (h = http_new()) != NULL);

	/* without: libcurl resends on its own */
	CHECK_INT(hstub_start(&s, steps, 3), 0);
	CHECK_INT(get(h, s.port, &resp, &err), 0);
	CHECK_INT(post(h, s.port, false, &resp, &err), 0);
	CHECK_INT(hstub_requests(&s), 3);
	CHECK_STR(s.req[1].method, "POST");
	CHECK_STR(s.req[2].method, "POST");
	CHECK_INT(s.req[1].conn, 1);
	hstub_stop(&s);
	http_free(h);

	/* with: once, on a new connection, and the failure is the caller's */
	CHECK((h = http_new()) != NULL);
	CHECK_INT(hstub_start(&s, steps, 3), 0);
	CHECK_INT(get(h, s.port, &resp, &err), 0);
	CHECK_INT(post(h, s.port, true, &resp, &err), -ECONNRESET);
	CHECK(resp.sent);
	CHECK_INT(hstub_requests(&s), 2);
	CHECK_STR(s.req[1].method, "POST");
	CHECK_INT(s.req[1].conn, 2);
	/* and its connection is not kept for another request */
	CHECK_INT(get(h, s.port, &resp, &err), 0);
	CHECK_INT(hstub_requests(&s), 3);
	CHECK(s.req[2].conn != 2);
	hstub_stop(&s);
	http_resp_clear(&resp);
	http_free(h);
	http_global_cleanup();
}

T_MAIN(T_CASE(refused_is_not_sent), T_CASE(closed_after_the_request_was_sent),
       T_CASE(silence_after_the_request_was_sent), T_CASE(answered_is_sent),
       T_CASE(no_reuse_is_never_sent_twice))

/* test_api.c: api_create() sends a request again only where the API surely
 * did not take it, and api_delete() is retried like every call; both over
 * real HTTP to hstub, a scripted server on 127.0.0.1, whose count of the
 * requests it read is the proof. */
#include <errno.h>
#include <stdlib.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/provider.h"
#include "hstub.h"
#include "t.h"

#define ARK_PATH "/api/v3/contents/generations/tasks"
#define CJ_TOKEN_PATH "/open/v1/access_token"
#define CJ_SUBMIT_PATH "/open/v1/ai_creation/task/submit"

static const char ark_body[] = "{\"model\":\"doubao-seedance-1-0-pro-250528\",\n"
			       "  \"content\":[{\"type\":\"text\",\"text\":\"a cat\"}]}\n";
static const char cj_body[] = "{\"creation_type\":3,\"model_code\":\"doubao-seedream-4.5\"}";

#define TOKEN(t) "{\"code\":0,\"msg\":\"success\",\"data\":{\"access_token\":\"" t "\"}}"

/* A provider on port, with a second's timeout and two retries. */
struct env {
	char base[64];
	struct provider_conf pc;
	struct http *http;
	struct api *api;
	struct hstub stub;
	bool stub_up;
};

static int env_up(struct env *e, const char *type, const struct hstub_step *steps, size_t n)
{
	int rc = http_global_init();

	memset(e, 0, sizeof *e);
	if (rc)
		return rc;
	if (steps) {
		if ((rc = hstub_start(&e->stub, steps, n)))
			return rc;
		e->stub_up = true;
	}
	snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d%s",
		 steps ? e->stub.port : hstub_dead_port(), strcmp(type, "ark") ? "" : "/api/v3");
	e->pc.name = (char *)"p";
	e->pc.type = (char *)type;
	e->pc.base_url = e->base;
	if (!strcmp(type, "ark")) {
		e->pc.api_key = (char *)"ark-KEY-0123456789";
	} else {
		e->pc.app_id = (char *)"app-1";
		e->pc.secret_key = (char *)"secret-0123456789";
	}
	e->pc.tun = (struct tunables){ .ttl = 10, .qps = 100, .burst = 100, .retries = 2,
				       .timeout = 1 };
	e->http = http_new();
	e->api = e->http ? api_new(&e->pc, provider_find(type), e->http) : NULL;
	return e->api ? 0 : -ENOMEM;
}

/* Stops the server: its records stay readable. */
static void env_down(struct env *e)
{
	if (e->stub_up)
		hstub_stop(&e->stub);
	e->stub_up = false;
	api_free(e->api);
	http_free(e->http);
	http_global_cleanup();
}

static int create(struct env *e, const char *body, char **id, bool *unknown, struct aifs_err *err)
{
	return api_create(e->api, body, strlen(body), id, unknown, err);
}

TEST(create_sends_the_body_once)
{
	static const struct hstub_step steps[] = {
		{ HS_ANSWER, 200, NULL, "{\"id\":\"cgt-20261206093015-7xk2p\"}", false },
	};
	struct env e;
	struct aifs_err err;
	char *id = NULL;
	bool unknown = true;

	CHECK_INT(env_up(&e, "ark", steps, 1), 0);
	CHECK_INT(create(&e, ark_body, &id, &unknown, &err), 0);
	env_down(&e);
	CHECK_STR(id, "cgt-20261206093015-7xk2p");
	free(id);
	CHECK(!unknown);
	CHECK_INT(e.stub.n_req, 1);
	CHECK_STR(e.stub.req[0].method, "POST");
	CHECK_STR(e.stub.req[0].path, ARK_PATH);
	CHECK_INT(e.stub.req[0].body_len, sizeof ark_body - 1);
	CHECK(memcmp(e.stub.req[0].body, ark_body, sizeof ark_body - 1) == 0);
	CHECK(strstr(e.stub.req[0].head, "\r\nAuthorization: Bearer ark-KEY-0123456789\r\n"));
	CHECK(strstr(e.stub.req[0].head, "\r\nContent-Type: application/json\r\n"));
}

TEST(create_sent_again_only_when_not_taken)
{
	static const struct hstub_step steps[] = {
		{ HS_ANSWER, 429, "Retry-After: 0\r\n", "{\"error\":{\"code\":\"RateLimitExceeded\"}}",
		  false },
		{ HS_ANSWER, 503, NULL, "<html>unavailable</html>", false },
		{ HS_ANSWER, 200, NULL, "{\"id\":\"cgt-3\",\"status\":\"submitted\"}", false },
	};
	struct env e;
	struct aifs_err err;
	char *id = NULL;
	bool unknown = true;

	CHECK_INT(env_up(&e, "ark", steps, 3), 0);
	CHECK_INT(create(&e, ark_body, &id, &unknown, &err), 0);
	env_down(&e);
	CHECK_STR(id, "cgt-3");
	free(id);
	CHECK(!unknown);
	CHECK_INT(e.stub.n_req, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(e.stub.req[i].conn, i + 1); /* each on a connection of its own */
		CHECK(memcmp(e.stub.req[i].body, ark_body, sizeof ark_body - 1) == 0);
	}
}

/* After any of these the task may exist: -EIO, unknown, and never again. */
TEST(create_unknown_is_never_sent_again)
{
	static const struct hstub_step cases[] = {
		{ HS_ANSWER, 500, NULL,
		  "{\"error\":{\"code\":\"InternalServiceError\",\"message\":\"try later\"}}", false },
		{ HS_ANSWER, 502, NULL, "<html>Bad Gateway</html>", false },
		{ HS_ANSWER, 504, NULL, "", false },
		{ HS_ANSWER, 200, NULL, "<html>ok</html>", false },
		{ HS_ANSWER, 200, NULL, "{\"status\":\"submitted\"}", false },
		{ HS_ANSWER, 200, NULL, "{\"code\":0,\"data\":{\"task_id\":\"x\"}}", false },
		{ .act = HS_CLOSE },  /* a reset after the request left */
		{ .act = HS_SILENT }, /* a timeout after it left */
	};
	static const char *const start[] = {
		"unknown: HTTP 500 InternalServiceError: try later",
		"unknown: HTTP 502",
		"unknown: HTTP 504",
		"unknown: malformed answer: ",
		"unknown: malformed answer: no id",
		"unknown: malformed answer: no id",
		"unknown: POST /contents/generations/tasks: ",
		"unknown: POST /contents/generations/tasks: ",
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct hstub_step steps[] = {
			cases[i],
			{ HS_ANSWER, 200, NULL, "{\"id\":\"cgt-twice\"}", false },
		};
		struct env e;
		struct aifs_err err;
		char *id = NULL;
		bool unknown = false;
		int rc;

		CHECK_INT(env_up(&e, "ark", steps, 2), 0);
		rc = create(&e, ark_body, &id, &unknown, &err);
		env_down(&e);
		if (rc != -EIO || !unknown || strncmp(err.msg, start[i], strlen(start[i])))
			fprintf(stderr, "  case %zu: rc %d unknown %d msg \"%s\"\n", i, rc, unknown,
				err.msg);
		CHECK_INT(rc, -EIO);
		CHECK_INT(err.code, -EIO);
		CHECK(unknown);
		CHECK(id == NULL);
		CHECK_INT(e.stub.n_req, 1);
		CHECK(strncmp(err.msg, start[i], strlen(start[i])) == 0);
	}
}

TEST(create_refusals_are_final)
{
	static const struct {
		struct hstub_step step;
		int rc;
		const char *pcode;
	} cases[] = {
		{ { HS_ANSWER, 400, NULL,
		    "{\"error\":{\"code\":\"InvalidParameter\",\"message\":\"content is required\"}}",
		    false },
		  -EINVAL, "InvalidParameter" },
		{ { HS_ANSWER, 401, NULL, "{\"error\":{\"code\":\"AuthenticationError\"}}", false },
		  -EACCES, "AuthenticationError" },
		{ { HS_ANSWER, 404, NULL, "", false }, -EOPNOTSUPP, "" },
		{ { HS_ANSWER, 405, NULL, "", false }, -EOPNOTSUPP, "" },
		{ { HS_ANSWER, 200, NULL, "{\"code\":1001,\"msg\":\"balance too low\"}", false },
		  -EIO, "1001" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct hstub_step steps[] = {
			cases[i].step,
			{ HS_ANSWER, 200, NULL, "{\"id\":\"cgt-twice\"}", false },
		};
		struct env e;
		struct aifs_err err;
		char *id = NULL;
		bool unknown = true;
		int rc;

		CHECK_INT(env_up(&e, "ark", steps, 2), 0);
		rc = create(&e, ark_body, &id, &unknown, &err);
		env_down(&e);
		CHECK_INT(rc, cases[i].rc);
		CHECK(!unknown);
		CHECK(id == NULL);
		CHECK_STR(err.pcode, cases[i].pcode);
		CHECK(strncmp(err.msg, "unknown", 7) != 0);
		CHECK_INT(e.stub.n_req, 1);
	}
}

TEST(create_gives_up_without_a_doubt)
{
	static const struct hstub_step throttled[] = {
		{ HS_ANSWER, 429, "Retry-After: 0\r\n", "", false },
	};
	static const struct hstub_step too_long[] = {
		{ HS_ANSWER, 429, "Retry-After: 120\r\n", "", false },
	};
	struct env e;
	struct aifs_err err;
	char *id = NULL;
	bool unknown = true;

	/* still throttled after retries + 1 attempts */
	CHECK_INT(env_up(&e, "ark", throttled, 1), 0);
	CHECK_INT(create(&e, ark_body, &id, &unknown, &err), -EAGAIN);
	env_down(&e);
	CHECK(!unknown);
	CHECK_INT(e.stub.n_req, 3);

	/* asked to wait past a minute: at once */
	unknown = true;
	CHECK_INT(env_up(&e, "ark", too_long, 1), 0);
	CHECK_INT(create(&e, ark_body, &id, &unknown, &err), -EAGAIN);
	env_down(&e);
	CHECK(!unknown);
	CHECK_INT(e.stub.n_req, 1);

	/* nobody listening: nothing was ever sent */
	unknown = true;
	CHECK_INT(env_up(&e, "ark", NULL, 0), 0);
	CHECK_INT(create(&e, ark_body, &id, &unknown, &err), -ECONNREFUSED);
	env_down(&e);
	CHECK(!unknown);
	CHECK(id == NULL);
}

TEST(create_chanjing_token_refused_then_renewed)
{
	static const struct hstub_step renewed[] = {
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-1"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":10401,\"msg\":\"AccessToken expired\"}", false },
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-2"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":0,\"msg\":\"success\",\"data\":\"u-1\"}", false },
	};
	static const struct hstub_step refused[] = {
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-1"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":10400,\"msg\":\"bad token\"}", false },
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-2"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":10400,\"msg\":\"bad token\"}", false },
		{ HS_ANSWER, 200, NULL, "{\"code\":0,\"data\":\"u-never\"}", false },
	};
	struct env e;
	struct aifs_err err;
	char *id = NULL;
	bool unknown = true;

	CHECK_INT(env_up(&e, "chanjing", renewed, 4), 0);
	CHECK_INT(create(&e, cj_body, &id, &unknown, &err), 0);
	env_down(&e);
	CHECK_STR(id, "u-1");
	free(id);
	CHECK(!unknown);
	CHECK_INT(e.stub.n_req, 4);
	CHECK_STR(e.stub.req[0].path, CJ_TOKEN_PATH);
	CHECK_STR(e.stub.req[1].path, CJ_SUBMIT_PATH);
	CHECK_STR(e.stub.req[2].path, CJ_TOKEN_PATH);
	CHECK_STR(e.stub.req[3].path, CJ_SUBMIT_PATH);
	CHECK(strstr(e.stub.req[1].head, "\r\naccess_token: TOK-1\r\n"));
	CHECK(strstr(e.stub.req[3].head, "\r\naccess_token: TOK-2\r\n"));
	CHECK_STR(e.stub.req[3].body, cj_body);

	/* refused again with a new token: EACCES, and no third try */
	CHECK_INT(env_up(&e, "chanjing", refused, 5), 0);
	CHECK_INT(create(&e, cj_body, &id, &unknown, &err), -EACCES);
	env_down(&e);
	CHECK(!unknown);
	CHECK_STR(err.pcode, "10400");
	CHECK_INT(e.stub.n_req, 4);
}

TEST(create_chanjing_codes)
{
	static const struct hstub_step qps[] = {
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-1"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":40001,\"msg\":\"QPS\"}", false },
		{ HS_ANSWER, 200, NULL, "{\"code\":0,\"data\":\"u-2\"}", false },
	};
	static const struct hstub_step internal[] = {
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-1"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":50000,\"msg\":\"internal error\"}", false },
		{ HS_ANSWER, 200, NULL, "{\"code\":0,\"data\":\"u-twice\"}", false },
	};
	static const struct hstub_step bad[] = {
		{ HS_ANSWER, 200, NULL, TOKEN("TOK-1"), false },
		{ HS_ANSWER, 200, NULL, "{\"code\":40000,\"msg\":\"model_code\"}", false },
		{ HS_ANSWER, 200, NULL, "{\"code\":0,\"data\":\"u-twice\"}", false },
	};
	struct env e;
	struct aifs_err err;
	char *id = NULL;
	bool unknown = true;

	CHECK_INT(env_up(&e, "chanjing", qps, 3), 0);
	CHECK_INT(create(&e, cj_body, &id, &unknown, &err), 0);
	env_down(&e);
	CHECK_STR(id, "u-2");
	free(id);
	CHECK_INT(e.stub.n_req, 3);

	CHECK_INT(env_up(&e, "chanjing", internal, 3), 0);
	CHECK_INT(create(&e, cj_body, &id, &unknown, &err), -EIO);
	env_down(&e);
	CHECK(unknown);
	CHECK_STR(err.msg, "unknown: code 50000: internal error");
	CHECK_STR(err.pcode, "50000");
	CHECK_INT(e.stub.n_req, 2);

	CHECK_INT(env_up(&e, "chanjing", bad, 3), 0);
	CHECK_INT(create(&e, cj_body, &id, &unknown, &err), -EINVAL);
	env_down(&e);
	CHECK(!unknown);
	CHECK_INT(e.stub.n_req, 2);
}

TEST(delete_retried_and_read)
{
	static const struct {
		struct hstub_step steps[2];
		int rc;
		size_t n_req;
	} cases[] = {
		{ { { HS_ANSWER, 200, NULL, "{}", false } }, 0, 1 },
		{ { { HS_ANSWER, 404, NULL, "", false } }, -ENOENT, 1 },
		{ { { HS_ANSWER, 409, NULL, "", false } }, -EBUSY, 1 },
		{ { { HS_ANSWER, 500, NULL, "", false }, { HS_ANSWER, 200, NULL, "", false } }, 0, 2 },
		/* the first may have done it: a 404 after it is success */
		{ { { .act = HS_CLOSE }, { HS_ANSWER, 404, NULL, "", false } }, 0, 2 },
		{ { { HS_ANSWER, 502, NULL, "", false }, { HS_ANSWER, 404, NULL, "", false } }, 0, 2 },
		/* a 429 says it was not done: a 404 after it is a 404 */
		{ { { HS_ANSWER, 429, "Retry-After: 0\r\n", "", false },
		    { HS_ANSWER, 404, NULL, "", false } },
		  -ENOENT, 2 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct env e;
		struct aifs_err err;
		int rc;

		CHECK_INT(env_up(&e, "ark", cases[i].steps, cases[i].steps[1].status ? 2 : 1), 0);
		rc = api_delete(e.api, "cgt-1", &err);
		env_down(&e);
		if (rc != cases[i].rc)
			fprintf(stderr, "  case %zu: rc %d msg \"%s\"\n", i, rc, err.msg);
		CHECK_INT(rc, cases[i].rc);
		CHECK_INT(e.stub.n_req, cases[i].n_req);
		CHECK_STR(e.stub.req[0].method, "DELETE");
		CHECK_STR(e.stub.req[0].path, ARK_PATH "/cgt-1");
	}
}

TEST(delete_chanjing_has_none)
{
	static const struct hstub_step steps[] = { { HS_ANSWER, 200, NULL, TOKEN("T"), false } };
	struct env e;
	struct aifs_err err;

	CHECK_INT(env_up(&e, "chanjing", steps, 1), 0);
	CHECK_INT(api_delete(e.api, "u-1", &err), -EPERM);
	env_down(&e);
	CHECK_INT(e.stub.n_req, 0);
}

T_MAIN(T_CASE(create_sends_the_body_once), T_CASE(create_sent_again_only_when_not_taken),
       T_CASE(create_unknown_is_never_sent_again), T_CASE(create_refusals_are_final),
       T_CASE(create_gives_up_without_a_doubt), T_CASE(create_chanjing_token_refused_then_renewed),
       T_CASE(create_chanjing_codes), T_CASE(delete_retried_and_read),
       T_CASE(delete_chanjing_has_none))

/* http.h: HTTP requests over libcurl, bounded in time and size.
 *
 * Knows no JSON and no tasks. Callers build a request, perform it, read the
 * answer. Transport failures come back as -errno; any HTTP answer, 500
 * included, is a success of this layer. */
#ifndef AIFS_HTTP_H
#define AIFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct aifs_err;

#define HTTP_MAX_HEADERS 8

struct http_req {
	const char *method;  /* "GET", "POST", "HEAD"; borrowed static string */
	char *url;           /* owned */
	char *body;          /* owned, may be NULL */
	size_t body_len;
	char *headers[HTTP_MAX_HEADERS]; /* owned, "Name: value" */
	int n_headers;
	char *what;          /* owned: "GET /contents/generations/tasks/ID", for logs; never a secret */
	/* Send at most once (a create, which no API lets us repeat safely): a
	 * new connection, closed after the answer, HTTP/1.1, no Expect. libcurl
	 * sends a request again on its own when a reused connection turns out
	 * dead before any answer; on a connection of its own it never does. With
	 * it, resp->sent is measured. */
	bool no_reuse;
};

struct http_resp {
	long status;
	char *body;          /* owned, NUL-terminated, may hold NULs */
	size_t len;
	double retry_after;  /* seconds from Retry-After, < 0 when absent */
	/* Whether a byte of the request may have left: set by http_perform() on
	 * failure too. False only when none did (no_reuse requests: measured;
	 * others: nothing was attempted). A false lets the caller send the
	 * request again knowing the server never saw it. */
	bool sent;
};

/* Clears and frees what the request owns; the struct may be reused. */
void http_req_clear(struct http_req *r);
void http_resp_clear(struct http_resp *r);

/* Sets method and a new url from a printf format. */
int http_req_init(struct http_req *r, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int http_req_header(struct http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes a copy of body. */
int http_req_body(struct http_req *r, const char *body, size_t len);
/* Appends "?k=v" or "&k=v", escaping v. */
int http_req_query(struct http_req *r, const char *key, const char *value);

/* Returns a new string: s percent-escaped for a URL path or query (free()). */
char *http_escape(const char *s);

/* Once per process, before any thread. */
int http_global_init(void);
void http_global_cleanup(void);

struct http;

struct http_opts {
	double timeout;       /* API: the whole request's deadline; stream: the
	                       * connect deadline and the longest silence, seconds */
	size_t max_body;      /* http_perform: larger answers fail with -E2BIG */
	bool allow_http;      /* plain http to non-loopback hosts */
	int max_redirs;       /* redirects followed (http/https only); 0: none */
};

/* What the final answer's headers said. */
struct http_head {
	long status;
	int64_t content_length;  /* -1 when absent */
	int64_t range_start;     /* Content-Range "bytes a-b/total"; -1 when absent */
	int64_t range_end;
	int64_t range_total;     /* also set by an unsatisfied range */
	double retry_after;      /* seconds, < 0 when absent */
	char etag[128];
	char last_modified[64];
};

/* Where a streamed body goes. head() is called once, before the first data()
 * (or at the end when the body is empty); a non-zero return aborts the
 * transfer with that -errno. data() returns 0 or -errno to abort. */
struct http_sink {
	int (*head)(void *ctx, const struct http_head *h);
	int (*data)(void *ctx, const char *p, size_t n);
	void *ctx;
};

/* Returns a new client (connection cache, DNS cache); free with http_free(). */
struct http *http_new(void);
void http_free(struct http *h);
/* Unmounting: every transfer under way ends soon with -ECANCELED, and so do
 * the pauses of http_pause(). Safe from any thread. */
void http_stop(struct http *h);
/* Sleeps secs seconds (a backoff, a rate-limit slot): 0, or -ECANCELED at
 * once when http_stop() is or was called. */
int http_pause(struct http *h, double secs);

/* Performs one request. 0 with resp filled when an HTTP answer came;
 * -ETIMEDOUT, -EHOSTUNREACH, -ECONNREFUSED, -ECONNRESET, -EIO, -E2BIG,
 * -EPROTO (bad scheme or redirect) otherwise, with err->msg saying why and
 * resp->sent telling whether the request may have reached the server. */
int http_perform(struct http *h, const struct http_opts *o, const struct http_req *req,
		 struct http_resp *resp, struct aifs_err *err);

/* Streams one request's answer into sink (downloads): no whole-request
 * deadline, but o->timeout for connecting and for each silence. Returns 0
 * when the body arrived in full, the sink's -errno when it aborted, or a
 * transport -errno as http_perform(); *head (may be NULL) gets the headers. */
int http_stream(struct http *h, const struct http_opts *o, const struct http_req *req,
		const struct http_sink *sink, struct http_head *head, struct aifs_err *err);

/* True when url's scheme is https, or http to a loopback host. */
bool http_url_allowed(const char *url, bool allow_http);

#endif

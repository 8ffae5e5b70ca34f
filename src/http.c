/* http.c: HTTP over libcurl, bounded in time and size.
 *
 * One share handle keeps connections, DNS answers and TLS sessions across
 * requests and threads; each request gets its own easy handle, so a request
 * is a plain blocking call on whatever thread makes it. This file is the
 * only one that includes curl. It knows no JSON, no tasks and no secrets:
 * headers are sent as given and never logged. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "aifs/buf.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/url.h"

struct http {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	atomic_bool stopping;    /* unmounting: transfers and pauses end */
	pthread_mutex_t stop_mu; /* stop_cv */
	pthread_cond_t stop_cv;  /* on CLOCK_MONOTONIC */
};

/* ---- requests ---- */

void http_req_clear(struct http_req *r)
{
	free(r->url);
	free(r->body);
	free(r->what);
	for (int i = 0; i < r->n_headers; i++) {
		/* A header may hold a credential: wipe it before giving it back. */
		explicit_bzero(r->headers[i], strlen(r->headers[i]));
		free(r->headers[i]);
	}
	memset(r, 0, sizeof *r);
}

void http_resp_clear(struct http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
	r->retry_after = -1;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int http_req_init(struct http_req *r, const char *method, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *url = vformat(fmt, ap);
	va_end(ap);
	if (!url)
		return -ENOMEM;
	free(r->url);
	r->url = url;
	r->method = method;
	return 0;
}

int http_req_header(struct http_req *r, const char *fmt, ...)
{
	if (r->n_headers >= HTTP_MAX_HEADERS)
		return -E2BIG;
	va_list ap;
	va_start(ap, fmt);
	char *h = vformat(fmt, ap);
	va_end(ap);
	if (!h)
		return -ENOMEM;
	r->headers[r->n_headers++] = h;
	return 0;
}

int http_req_body(struct http_req *r, const char *body, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, body, len);
	copy[len] = '\0';
	free(r->body);
	r->body = copy;
	r->body_len = len;
	return 0;
}

char *http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;
	if (!out)
		return NULL;
	/* "." and ".." would be dot segments that the path loses (RFC 3986
	 * 5.2.4, as curl does): escaped, they reach the server as the id */
	bool dots = !strcmp(s, ".") || !strcmp(s, "..");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || (!dots && strchr("-._~", *p))) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

int http_req_query(struct http_req *r, const char *key, const char *value)
{
	char *v = http_escape(value), *url = NULL;
	if (!v)
		return -ENOMEM;
	int n = asprintf(&url, "%s%c%s=%s", r->url, strchr(r->url, '?') ? '&' : '?', key, v);
	free(v);
	if (n < 0)
		return -ENOMEM;
	free(r->url);
	r->url = url;
	return 0;
}

/* ---- the client ---- */

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *u)
{
	struct http *h = u;
	(void)c;
	(void)access;
	pthread_mutex_lock(&h->locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *u)
{
	struct http *h = u;
	(void)c;
	pthread_mutex_unlock(&h->locks[data]);
}

struct http *http_new(void)
{
	struct http *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->locks[i], NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&h->stop_mu, NULL);
	h->share = curl_share_init();
	if (!h->share) {
		http_free(h);
		return NULL;
	}
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return h;
}

void http_stop(struct http *h)
{
	pthread_mutex_lock(&h->stop_mu);
	atomic_store(&h->stopping, true);
	pthread_cond_broadcast(&h->stop_cv);
	pthread_mutex_unlock(&h->stop_mu);
}

int http_pause(struct http *h, double secs)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	if (secs > 0) {
		until.tv_sec += (time_t)secs;
		until.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&h->stop_mu);
	while (!atomic_load(&h->stopping) && secs > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&h->stop_cv, &h->stop_mu, &until);
	rc = atomic_load(&h->stopping) ? -ECANCELED : 0;
	pthread_mutex_unlock(&h->stop_mu);
	return rc;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->locks[i]);
	pthread_mutex_destroy(&h->stop_mu);
	pthread_cond_destroy(&h->stop_cv);
	free(h);
}

bool http_url_allowed(const char *url, bool allow_http)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (!strcasecmp(scheme, "https"))
		ok = true;
	else if (!strcasecmp(scheme, "http"))
		ok = allow_http || url_host_is_loopback(host, strlen(host));
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* ---- one transfer ---- */

struct xfer {
	struct http *h;
	const struct http_sink *sink;
	struct http_head head;
	bool head_done;
	int abort_rc;            /* the sink's -errno when it stopped us */
	double silence;          /* stream: the longest wait for a byte, seconds */
	curl_off_t seen;         /* stream: bytes had at the last look */
	struct timespec last;    /* stream: when the count last moved */
	bool silent_too_long;
	bool stopped;            /* http_stop() ended it */
	bool sent;               /* a byte of the request may have left */
};

static double since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Streams end when no byte came for x->silence seconds: curl's own
 * low-speed limit averages, so a trickle would keep a stalled read alive. */
static int on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = u;
	(void)dltotal;
	(void)ultotal;
	if (atomic_load_explicit(&x->h->stopping, memory_order_relaxed)) {
		x->stopped = true;
		return 1;
	}
	if (x->silence <= 0)
		return 0; /* an API call: its whole deadline is curl's */
	if (dlnow + ulnow != x->seen) {
		x->seen = dlnow + ulnow;
		clock_gettime(CLOCK_MONOTONIC, &x->last);
		return 0;
	}
	if (since(&x->last) > x->silence) {
		x->silent_too_long = true;
		return 1;
	}
	return 0;
}

static void head_reset(struct http_head *h)
{
	memset(h, 0, sizeof *h);
	h->content_length = h->range_start = h->range_end = h->range_total = -1;
	h->retry_after = -1;
}

static void copy_value(char *dst, size_t dstsz, const char *v, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static double parse_retry_after(const char *v)
{
	char *end;
	errno = 0;
	double s = strtod(v, &end);
	if (end != v && errno == 0 && s >= 0)
		return s;
	time_t t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	double d = difftime(t, time(NULL));
	return d > 0 ? d : 0;
}

static void parse_content_range(struct http_head *h, const char *v)
{
	long long a, b, total;
	if (sscanf(v, "bytes %lld-%lld/%lld", &a, &b, &total) == 3 && a >= 0 && b >= a &&
	    total > b) {
		h->range_start = a;
		h->range_end = b;
		h->range_total = total;
	} else if (sscanf(v, "bytes */%lld", &total) == 1 && total >= 0) {
		h->range_total = total;
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t len = size * n, name_len;
	char value[256];
	const char *colon;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new answer: after a redirect, only the last one counts */
		head_reset(&x->head);
		const char *sp = memchr(p, ' ', len);
		if (sp)
			x->head.status = strtol(sp + 1, NULL, 10);
		return len;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return len;
	name_len = (size_t)(colon - p);
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	copy_value(value, sizeof value, v, (size_t)(end - v));

#define IS(name) (name_len == sizeof(name) - 1 && !strncasecmp(p, name, name_len))
	if (IS("Content-Length"))
		x->head.content_length = strtoll(value, NULL, 10);
	else if (IS("Content-Range"))
		parse_content_range(&x->head, value);
	else if (IS("Retry-After"))
		x->head.retry_after = parse_retry_after(value);
	else if (IS("ETag"))
		copy_value(x->head.etag, sizeof x->head.etag, value, strlen(value));
	else if (IS("Last-Modified"))
		copy_value(x->head.last_modified, sizeof x->head.last_modified, value,
			   strlen(value));
#undef IS
	return len;
}

/* Whether a request was sent. libcurl passes every write of the request to
 * the connection here, once the write succeeded, with the count written:
 * HEADER_OUT (request line, headers) and DATA_OUT (body), in the first send
 * and in each later one of a request that did not leave in one piece (7.88:
 * Curl_buffer_send, readwrite_upload; 8.x: xfer_send). So no byte of the
 * request reaches the socket unseen; a CONNECT to a proxy counts too, which
 * errs on the safe side. TLS records (SSL_DATA_OUT) do not count: a
 * handshake holds nothing of the request, and a TLS write that failed part
 * way leaves the server at most a prefix of the request, whose body is
 * short, which no server acts on. CURLINFO_REQUEST_SIZE alone would miss a
 * request whose first write took nothing (a full socket buffer) and whose
 * later writes did. Only the fact is kept, never the bytes: they hold the
 * credential. */
static int on_debug(CURL *c, curl_infotype type, char *p, size_t n, void *u)
{
	struct xfer *x = u;
	(void)c;
	(void)p;
	if ((type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) && n > 0)
		x->sent = true;
	return 0;
}

static int deliver_head(struct xfer *x)
{
	if (x->head_done)
		return 0;
	x->head_done = true;
	if (x->sink->head)
		return x->sink->head(x->sink->ctx, &x->head);
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t len = size * n;
	int rc = deliver_head(x);
	if (rc == 0 && len)
		rc = x->sink->data(x->sink->ctx, p, len);
	if (rc) {
		x->abort_rc = rc;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return len;
}

static int map_curl_error(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return -ECONNRESET;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTO;
	case CURLE_TOO_MANY_REDIRECTS:
		return -ELOOP;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO; /* truncated bodies (PARTIAL_FILE), TLS failures, ... */
	}
}

static int transfer(struct http *h, const struct http_opts *o, const struct http_req *req,
		    bool stream, struct xfer *x, struct aifs_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	bool http_ok = o->allow_http || http_url_allowed(req->url, false);
	long ms = (long)(o->timeout * 1000);
	int rc = 0;

	if (!http_url_allowed(req->url, o->allow_http))
		return aifs_err_set(err, -EPROTO, "%s: only https, or http to loopback, is allowed",
				    req->what ? req->what : "request");
	CURL *c = curl_easy_init();
	if (!c)
		return aifs_err_set(err, -ENOMEM, "out of memory");
	head_reset(&x->head);

	/* A no_reuse body goes at once ("Expect:" sends no Expect header), not
	 * after a 100 Continue that an answer of 417 would turn into a resend. */
	for (int i = 0; i < req->n_headers + (req->no_reuse ? 1 : 0); i++) {
		const char *line = i < req->n_headers ? req->headers[i] : "Expect:";
		struct curl_slist *n = curl_slist_append(hdrs, line);
		if (!n) {
			rc = aifs_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		hdrs = n;
	}
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "aifs/" AIFS_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, http_ok ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, o->allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o->max_redirs > 0 ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)o->max_redirs);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
	/* every transfer ends soon after http_stop(); a stream also when no
	 * byte came for a whole timeout */
	x->h = h;
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	if (stream) {
		/* downloads may take long, but never a whole timeout without a byte */
		x->silence = o->timeout;
		clock_gettime(CLOCK_MONOTONIC, &x->last);
		curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	} else {
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
		curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	} else if (strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}

	if (req->no_reuse) {
		/* Never twice: libcurl sends a request again, unasked, when a
		 * reused connection turns out dead before any answer came
		 * (Curl_retry_request), and an HTTP/2 stream refused by the server.
		 * A connection of its own, closed after, in HTTP/1.1, leaves it
		 * neither case. */
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, x);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L); /* to on_debug only */
	} else {
		x->sent = true; /* not measured: say what is safe */
	}

	CURLcode cc = curl_easy_perform(c);
	if (req->no_reuse && !x->sent) {
		/* a second witness; both only ever count bytes written */
		long reqsize = 0;
		curl_off_t up = 0;
		if ((curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize) == CURLE_OK &&
		     reqsize > 0) ||
		    (curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up > 0))
			x->sent = true;
	}
	if (cc == CURLE_OK) {
		rc = deliver_head(x);
		if (rc)
			aifs_err_set(err, rc, "%s: answer refused", req->what ? req->what : "request");
	} else if (cc == CURLE_WRITE_ERROR && x->abort_rc) {
		rc = x->abort_rc; /* the sink said why in err already, or will */
	} else if (cc == CURLE_ABORTED_BY_CALLBACK && x->stopped) {
		rc = aifs_err_set(err, -ECANCELED, "%s: unmounting", req->what ? req->what : "request");
	} else if (cc == CURLE_ABORTED_BY_CALLBACK && x->silent_too_long) {
		rc = aifs_err_set(err, -ETIMEDOUT, "%s: no byte for %.0f s",
				  req->what ? req->what : "request", x->silence);
	} else {
		rc = map_curl_error(cc);
		aifs_err_set(err, rc, "%s: %s", req->what ? req->what : "request",
			     errbuf[0] ? errbuf : curl_easy_strerror(cc));
	}
	if (x->head.status)
		err->http_status = x->head.status;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

struct collect {
	struct buf body;
	struct aifs_err *err;
};

static int collect_data(void *ctx, const char *p, size_t n)
{
	struct collect *cl = ctx;
	int rc = buf_append(&cl->body, p, n);
	if (rc == -E2BIG)
		aifs_err_set(cl->err, rc, "answer larger than %zu bytes", cl->body.max);
	return rc;
}

int http_perform(struct http *h, const struct http_opts *o, const struct http_req *req,
		 struct http_resp *resp, struct aifs_err *err)
{
	struct collect cl = { .err = err };
	struct http_sink sink = { .data = collect_data, .ctx = &cl };
	struct xfer x = { .sink = &sink };

	http_resp_clear(resp);
	buf_init(&cl.body, o->max_body);
	int rc = transfer(h, o, req, false, &x, err);
	resp->sent = x.sent;
	if (rc) {
		buf_free(&cl.body);
		return rc;
	}
	resp->status = x.head.status;
	resp->retry_after = x.head.retry_after;
	resp->body = buf_steal(&cl.body, &resp->len);
	if (!resp->body) {
		resp->body = strdup("");
		if (!resp->body)
			return aifs_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int http_stream(struct http *h, const struct http_opts *o, const struct http_req *req,
		const struct http_sink *sink, struct http_head *head, struct aifs_err *err)
{
	struct xfer x = { .sink = sink };
	int rc = transfer(h, o, req, true, &x, err);
	if (head)
		*head = x.head;
	return rc;
}

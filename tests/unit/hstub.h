/* hstub.h: a scripted HTTP/1.1 server on 127.0.0.1 for the tests of http
 * and api: each request it reads takes the next step of a script (the last
 * step repeats), which answers, closes without answering, or keeps silent.
 * It records what it was sent, so tests can count requests and connections
 * and check the bytes that arrived. A thread per connection. */
#ifndef AIFS_HSTUB_H
#define AIFS_HSTUB_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum hstub_act {
	HS_ANSWER, /* status, headers, body; then close unless keep */
	HS_CLOSE,  /* read the request, close without a byte of answer */
	HS_SILENT, /* read the request, answer nothing until the client leaves */
};

struct hstub_step {
	enum hstub_act act;
	int status;
	const char *headers; /* extra lines, each ending in "\r\n"; may be NULL */
	const char *body;    /* NULL: "" */
	bool keep;           /* keep the connection open for another request */
};

#define HSTUB_MAX_REQ 16

struct hstub_req {
	char method[16];
	char path[256];
	char head[2048]; /* the header lines as sent */
	char body[4096]; /* NUL-terminated */
	size_t body_len;
	int conn;        /* number of the connection it came on, from 1 */
};

struct hstub {
	int fd;
	int port;
	pthread_t th;
	atomic_bool stop;
	const struct hstub_step *steps;
	size_t n_steps;
	pthread_mutex_t mu;
	size_t n_req; /* requests read */
	int n_conn;   /* connections accepted */
	int n_active; /* connections still served */
	struct hstub_req req[HSTUB_MAX_REQ];
};

/* Waits up to ms for fd to be readable: 1, 0 on timeout or stop, -1 on error. */
static inline int hstub_wait(struct hstub *s, int fd, int ms)
{
	for (int waited = 0; waited < ms && !atomic_load(&s->stop); waited += 50) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, 50);
		if (rc != 0)
			return rc > 0 ? 1 : -1;
	}
	return 0;
}

/* Reads one request; 0, or -1 when the client closed or said nothing. */
static inline int hstub_read(struct hstub *s, int fd, struct hstub_req *r)
{
	char buf[8192];
	size_t n = 0, need = 0;
	char *end = NULL;

	memset(r, 0, sizeof *r);
	while (!end || n < need) {
		if (n == sizeof buf - 1 || hstub_wait(s, fd, 5000) != 1)
			return -1;
		ssize_t k = recv(fd, buf + n, sizeof buf - 1 - n, 0);
		if (k <= 0)
			return -1;
		n += (size_t)k;
		buf[n] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			size_t hl = (size_t)(end - buf) + 4;
			need = hl + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
			if (need >= sizeof buf)
				return -1;
		}
	}
	size_t hl = (size_t)(end - buf) + 4;
	sscanf(buf, "%15s %255s", r->method, r->path);
	snprintf(r->head, sizeof r->head, "%.*s", (int)hl, buf);
	r->body_len = n - hl;
	if (r->body_len >= sizeof r->body)
		return -1;
	memcpy(r->body, buf + hl, r->body_len);
	return 0;
}

static inline void hstub_send(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

struct hstub_conn {
	struct hstub *s;
	int fd, num;
};

/* One connection, on a thread of its own: requests until the client leaves
 * or a step ends it. */
static inline void *hstub_conn_main(void *u)
{
	struct hstub_conn *hc = u;
	struct hstub *s = hc->s;
	int c = hc->fd;

	for (;;) {
		struct hstub_req r;
		if (hstub_read(s, c, &r) < 0)
			break;
		r.conn = hc->num;
		pthread_mutex_lock(&s->mu);
		size_t i = s->n_req++;
		const struct hstub_step *st = &s->steps[i < s->n_steps ? i : s->n_steps - 1];
		if (i < HSTUB_MAX_REQ)
			s->req[i] = r;
		pthread_mutex_unlock(&s->mu);
		if (st->act == HS_CLOSE)
			break;
		if (st->act == HS_SILENT) {
			char sink[512];
			while (hstub_wait(s, c, 10000) == 1 && recv(c, sink, sizeof sink, 0) > 0)
				;
			break;
		}
		const char *body = st->body ? st->body : "";
		char head[1024];
		int hn = snprintf(head, sizeof head,
				  "HTTP/1.1 %d Stub\r\nContent-Length: %zu\r\n%s%s\r\n", st->status,
				  strlen(body), st->headers ? st->headers : "",
				  st->keep ? "" : "Connection: close\r\n");
		hstub_send(c, head, (size_t)hn);
		hstub_send(c, body, strlen(body));
		if (!st->keep)
			break;
	}
	close(c);
	free(hc);
	pthread_mutex_lock(&s->mu);
	s->n_active--;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static inline void *hstub_main(void *u)
{
	struct hstub *s = u;

	while (!atomic_load(&s->stop)) {
		if (hstub_wait(s, s->fd, 100) != 1)
			continue;
		int c = accept(s->fd, NULL, NULL);
		struct hstub_conn *hc = c >= 0 ? malloc(sizeof *hc) : NULL;
		pthread_t th;
		pthread_attr_t at;
		if (!hc) {
			if (c >= 0)
				close(c);
			continue;
		}
		pthread_mutex_lock(&s->mu);
		*hc = (struct hstub_conn){ .s = s, .fd = c, .num = ++s->n_conn };
		s->n_active++;
		pthread_mutex_unlock(&s->mu);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, hstub_conn_main, hc) != 0) {
			close(c);
			free(hc);
			pthread_mutex_lock(&s->mu);
			s->n_active--;
			pthread_mutex_unlock(&s->mu);
		}
		pthread_attr_destroy(&at);
	}
	return NULL;
}

/* Listens on a free port of 127.0.0.1 and serves steps (n >= 1; borrowed). */
static inline int hstub_start(struct hstub *s, const struct hstub_step *steps, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;

	memset(s, 0, sizeof *s);
	s->steps = steps;
	s->n_steps = n;
	pthread_mutex_init(&s->mu, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(s->fd, 8) < 0 || getsockname(s->fd, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	s->port = ntohs(a.sin_port);
	return -pthread_create(&s->th, NULL, hstub_main, s);
}

static inline void hstub_stop(struct hstub *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	for (;;) {
		pthread_mutex_lock(&s->mu);
		int active = s->n_active;
		pthread_mutex_unlock(&s->mu);
		if (!active)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	close(s->fd);
	pthread_mutex_destroy(&s->mu);
}

static inline size_t hstub_requests(struct hstub *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->n_req;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* A port nobody listens on (just closed): connecting there is refused. */
static inline int hstub_dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

#endif

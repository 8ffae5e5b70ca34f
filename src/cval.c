/* cval.c: the redis:// URL, account digests, and the values cluster mode
 * keeps in Redis, encoded and decoded. Every decoder takes a length and
 * trusts nothing in the bytes. Knows no sockets. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/cval.h"
#include "aifs/secret.h"
#include "aifs/sha256.h"

static int fail(char *why, size_t size, const char *msg)
{
	snprintf(why, size, "%s", msg);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes n bytes of s (percent escapes) into out (size bytes). */
static int unescape(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -EINVAL;
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (c == 0 || o + 1 >= size)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
	long v = 0;
	if (n == 0 || n > 9)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int cval_url_parse(const char *url, struct redis_url *u, char *why, size_t why_size)
{
	static const char scheme[] = "redis://";
	const char *p, *at, *end, *slash;
	long v;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0)
		return fail(why, why_size, "not a redis:// URL");
	p = url + sizeof scheme - 1;
	end = p + strlen(p);
	for (const char *q = p; q < end; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return fail(why, why_size, "a space or control character in the URL");
	slash = strchr(p, '/');
	at = memrchr(p, '@', (size_t)((slash ? slash : end) - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		char pw[512];
		if (!colon)
			return fail(why, why_size, "credentials without ':' before '@' (redis://:PASSWORD@HOST)");
		if (unescape(p, (size_t)(colon - p), u->user, sizeof u->user) ||
		    unescape(colon + 1, (size_t)(at - colon - 1), pw, sizeof pw)) {
			explicit_bzero(pw, sizeof pw);
			return fail(why, why_size, "a bad user or password in the URL");
		}
		if (pw[0] && !(u->password = strdup(pw))) {
			explicit_bzero(pw, sizeof pw);
			return -ENOMEM;
		}
		explicit_bzero(pw, sizeof pw);
		p = at + 1;
	}
	const char *hend = slash ? slash : end, *portp = NULL;
	if (*p == '[') { /* [v6] */
		const char *rb = memchr(p, ']', (size_t)(hend - p));
		if (!rb || rb == p + 1 || (size_t)(rb - p - 1) >= sizeof u->host)
			goto bad_host;
		memcpy(u->host, p + 1, (size_t)(rb - p - 1));
		if (rb + 1 < hend && rb[1] != ':')
			goto bad_host;
		portp = rb + 1 < hend ? rb + 2 : NULL;
	} else {
		const char *colon = memchr(p, ':', (size_t)(hend - p));
		const char *h_end = colon ? colon : hend;
		if (h_end == p || (size_t)(h_end - p) >= sizeof u->host)
			goto bad_host;
		memcpy(u->host, p, (size_t)(h_end - p));
		for (const char *q = u->host; *q; q++)
			if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != '_')
				goto bad_host;
		portp = colon ? colon + 1 : NULL;
	}
	if (portp) {
		if (parse_int(portp, (size_t)(hend - portp), 1, 65535, &v)) {
			cval_url_clear(u);
			return fail(why, why_size, "the port is not a number from 1 to 65535");
		}
		u->port = (int)v;
	}
	if (slash && slash[1]) {
		if (parse_int(slash + 1, strlen(slash + 1), 0, 1000000, &v)) {
			cval_url_clear(u);
			return fail(why, why_size, "the database is not a number (redis://HOST/0)");
		}
		u->db = (int)v;
	}
	return 0;
bad_host:
	cval_url_clear(u);
	return fail(why, why_size, "no host, or a bad one, in the URL");
}

void cval_url_clear(struct redis_url *u)
{
	secret_free(u->password);
	explicit_bzero(u, sizeof *u);
}

void cval_url_shown(const struct redis_url *u, char *out, size_t size)
{
	bool v6 = strchr(u->host, ':') != NULL;
	snprintf(out, size, "redis://%s%s%s%s:%d/%d", u->password || u->user[0] ? "***@" : "",
		 v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db);
}

void cval_account(const char *type, const char *base_url, const char *const *cred, size_t n_cred,
		  char *out)
{
	struct sha256 s;
	unsigned char d[32];
	char t[32];
	size_t i;

	for (i = 0; type[i] && i + 1 < sizeof t; i++)
		t[i] = (char)tolower((unsigned char)type[i]);
	t[i] = '\0';
	sha256_init(&s);
	sha256_update(&s, "aifs account", 13);
	sha256_update(&s, t, strlen(t) + 1);
	sha256_update(&s, base_url, strlen(base_url) + 1);
	for (i = 0; i < n_cred; i++)
		if (cred[i])
			sha256_update(&s, cred[i], strlen(cred[i]) + 1);
		else
			sha256_update(&s, "\xff", 1);
	sha256_final(&s, d);
	for (i = 0; i < CVAL_ACCT_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	explicit_bzero(d, sizeof d);
}

/* ---- values ---- */

/* Splits "HEAD\nREST" at the first newline (within 64 bytes). */
static int head_split(const char *v, size_t n, char *head, size_t hsize, const char **rest,
		      size_t *rlen)
{
	const char *nl = memchr(v, '\n', n < hsize ? n : hsize);
	if (!nl || memchr(v, '\0', (size_t)(nl - v)))
		return -EINVAL;
	memcpy(head, v, (size_t)(nl - v));
	head[nl - v] = '\0';
	*rest = nl + 1;
	*rlen = n - (size_t)(nl - v) - 1;
	return 0;
}

/* Reads "WORD" (digits only) from *s, moving past it and one space. */
static int take_num(const char **s, int64_t max, int64_t *out)
{
	const char *p = *s;
	int64_t v = 0;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -EINVAL; /* one spelling: no leading zeros */
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (*p == ' ' && p[1] >= '0' && p[1] <= '9')
		p++; /* one space, then the next number */
	else if (*p)
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}

char *cval_answer_encode(long status, int64_t ttl_ms, const char *body, size_t len,
			 size_t *out_len)
{
	char head[64];
	int h = snprintf(head, sizeof head, "A1 %ld %" PRId64 "\n", status, ttl_ms);
	char *v = malloc((size_t)h + len + 1);
	if (!v)
		return NULL;
	memcpy(v, head, (size_t)h);
	if (len)
		memcpy(v + h, body, len);
	v[(size_t)h + len] = '\0';
	*out_len = (size_t)h + len;
	return v;
}

int cval_answer_decode(const char *v, size_t n, long *status, int64_t *ttl_ms, const char **body,
		       size_t *len)
{
	char head[64];
	const char *p = head;
	int64_t st, ttl;

	if (n > CVAL_MAX_VALUE || n < 4 || memcmp(v, "A1 ", 3) != 0 ||
	    head_split(v, n, head, sizeof head, body, len))
		return -EINVAL;
	p = head + 3;
	if (take_num(&p, 999, &st) || st < 100 || take_num(&p, INT64_C(1) << 40, &ttl) || *p)
		return -EINVAL;
	*status = (long)st;
	*ttl_ms = ttl;
	return 0;
}

char *cval_label_encode(enum cval_label st, const char *text, size_t *out_len)
{
	char *v;
	int n = asprintf(&v, "L1 %c %s", (char)st, text ? text : "");
	if (n < 0)
		return NULL;
	*out_len = (size_t)n;
	return v;
}

int cval_label_decode(const char *v, size_t n, enum cval_label *st, const char **text, size_t *len)
{
	if (n < 5 || n > 4096 || memcmp(v, "L1 ", 3) != 0 || v[4] != ' ')
		return -EINVAL;
	if (v[3] != CVAL_LABEL_SENDING && v[3] != CVAL_LABEL_CREATED && v[3] != CVAL_LABEL_UNKNOWN)
		return -EINVAL;
	for (size_t i = 5; i < n; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
			return -EINVAL;
	if (v[3] == CVAL_LABEL_CREATED && n == 5)
		return -EINVAL; /* created without an id */
	*st = (enum cval_label)v[3];
	*text = v + 5;
	*len = n - 5;
	return 0;
}

char *cval_token_encode(const char *token, int64_t expires, size_t *out_len)
{
	char *v;
	int n = asprintf(&v, "T1 %" PRId64 "\n%s", expires, token);
	if (n < 0)
		return NULL;
	*out_len = (size_t)n;
	return v;
}

int cval_token_decode(const char *v, size_t n, char **token, int64_t *expires)
{
	char head[64];
	const char *p, *t;
	size_t tlen;
	int64_t e;

	*token = NULL;
	if (n < 5 || n > 8192 || memcmp(v, "T1 ", 3) != 0 ||
	    head_split(v, n, head, sizeof head, &t, &tlen))
		return -EINVAL;
	p = head + 3;
	if (take_num(&p, INT64_C(1) << 40, &e) || *p || tlen == 0)
		return -EINVAL;
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f)
			return -EINVAL;
	if (!(*token = strndup(t, tlen)))
		return -ENOMEM;
	*expires = e;
	return 0;
}

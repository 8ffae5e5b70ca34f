/* journal.c: a label's record, to and from bytes. Strict on the way in: a
 * torn or foreign file is refused whole, never half read. Knows no files,
 * no tree and no provider. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/buf.h"
#include "aifs/journal.h"

#define MAGIC "aifs-label 1\n"

static const char *const state_names[] = { "draft", "sending", "created", "failed", "unknown" };

const char *journal_state_name(enum label_state st)
{
	return (unsigned)st < sizeof state_names / sizeof state_names[0] ? state_names[st] : "?";
}

void label_rec_clear(struct label_rec *r)
{
	free(r->id);
	free(r->error);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static int put_blob(struct buf *b, const char *key, const char *p, size_t n)
{
	char head[64];
	int len = snprintf(head, sizeof head, "%s %zu\n", key, n);
	int rc = buf_append(b, head, (size_t)len);
	if (rc == 0 && n)
		rc = buf_append(b, p, n);
	if (rc == 0)
		rc = buf_append(b, "\n", 1);
	return rc;
}

int journal_encode(const struct label_rec *r, char **out, size_t *len)
{
	struct buf b;
	char line[96];
	int rc;

	if ((unsigned)r->state >= sizeof state_names / sizeof state_names[0] ||
	    r->body_len > JOURNAL_BODY_MAX || r->id_len > JOURNAL_TEXT_MAX ||
	    r->error_len > JOURNAL_TEXT_MAX)
		return -EINVAL;
	buf_init(&b, JOURNAL_BODY_MAX + 3 * JOURNAL_TEXT_MAX);
	int n = snprintf(line, sizeof line, MAGIC "state %s\ntime %" PRId64 "\n",
			 state_names[r->state], r->time);
	rc = buf_append(&b, line, (size_t)n);
	if (rc == 0 && r->id_len)
		rc = put_blob(&b, "id", r->id, r->id_len);
	if (rc == 0 && r->error_len)
		rc = put_blob(&b, "error", r->error, r->error_len);
	if (rc == 0)
		rc = put_blob(&b, "body", r->body, r->body_len);
	if (rc) {
		buf_free(&b);
		return rc == -E2BIG ? -EINVAL : rc;
	}
	*out = buf_steal(&b, len);
	return *out ? 0 : -ENOMEM;
}

struct reader {
	const char *p, *end;
	char *why;
	size_t size;
};

static int bad(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rd->why, rd->size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The next line (without its '\n') must start with "key ": its value. */
static int field(struct reader *rd, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
	if (!nl)
		return bad(rd, "%s: no end of line", key);
	if ((size_t)(nl - rd->p) <= klen || memcmp(rd->p, key, klen) || rd->p[klen] != ' ')
		return bad(rd, "expected %s", key);
	*val = rd->p + klen + 1;
	*vlen = (size_t)(nl - *val);
	rd->p = nl + 1;
	return 0;
}

static bool next_is(const struct reader *rd, const char *key)
{
	size_t klen = strlen(key);
	return (size_t)(rd->end - rd->p) > klen && !memcmp(rd->p, key, klen) && rd->p[klen] == ' ';
}

/* A decimal without sign or leading zeros (but "0"), at most max. */
static int number(struct reader *rd, const char *key, const char *v, size_t n, uint64_t max,
		  uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 20 || (n > 1 && v[0] == '0'))
		return bad(rd, "%s: not a number", key);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (max - (uint64_t)(v[i] - '0')) / 10)
			return bad(rd, "%s: not a number up to %" PRIu64, key, max);
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

static int blob(struct reader *rd, const char *key, size_t max, char **out, size_t *len)
{
	const char *v;
	size_t vlen;
	uint64_t n;
	int rc;

	if ((rc = field(rd, key, &v, &vlen)) || (rc = number(rd, key, v, vlen, max, &n)))
		return rc;
	if ((uint64_t)(rd->end - rd->p) < n + 1 || rd->p[n] != '\n')
		return bad(rd, "%s: %" PRIu64 " bytes are not all there", key, n);
	*out = malloc(n + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, rd->p, n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	rd->p += n + 1;
	return 0;
}

int journal_decode(const char *buf, size_t len, struct label_rec *r, char *why, size_t size)
{
	struct reader rd = { buf, buf + len, why, size };
	const char *v;
	size_t vlen;
	uint64_t t;
	int rc;

	memset(r, 0, sizeof *r);
	if (size)
		why[0] = '\0';
	if (len < sizeof MAGIC - 1 || memcmp(buf, MAGIC, sizeof MAGIC - 1)) {
		rc = bad(&rd, "not a label record of version 1");
		goto out;
	}
	rd.p += sizeof MAGIC - 1;
	if ((rc = field(&rd, "state", &v, &vlen)))
		goto out;
	rc = -EINVAL;
	for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
		if (vlen == strlen(state_names[i]) && !memcmp(v, state_names[i], vlen)) {
			r->state = (enum label_state)i;
			rc = 0;
		}
	if (rc) {
		bad(&rd, "state: unknown");
		goto out;
	}
	if ((rc = field(&rd, "time", &v, &vlen)) ||
	    (rc = number(&rd, "time", v, vlen, (uint64_t)INT64_MAX, &t)))
		goto out;
	r->time = (int64_t)t;
	if (next_is(&rd, "id") && (rc = blob(&rd, "id", JOURNAL_TEXT_MAX, &r->id, &r->id_len)))
		goto out;
	if (r->id && !r->id_len) { /* written only when not empty: one spelling per record */
		rc = bad(&rd, "id: empty");
		goto out;
	}
	if (next_is(&rd, "error") &&
	    (rc = blob(&rd, "error", JOURNAL_TEXT_MAX, &r->error, &r->error_len)))
		goto out;
	if (r->error && !r->error_len) {
		rc = bad(&rd, "error: empty");
		goto out;
	}
	if ((rc = blob(&rd, "body", JOURNAL_BODY_MAX, &r->body, &r->body_len)))
		goto out;
	if (rd.p != rd.end)
		rc = bad(&rd, "%zu bytes after the body", (size_t)(rd.end - rd.p));
	else if (r->state == LABEL_CREATED && !r->id_len)
		rc = bad(&rd, "created without an id");
	else if (r->id_len && memchr(r->id, '\0', r->id_len))
		rc = bad(&rd, "id: a NUL byte");
out:
	if (rc)
		label_rec_clear(r);
	return rc;
}

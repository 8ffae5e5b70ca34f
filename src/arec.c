/* arec.c: the archive's record of one task, to and from bytes. Strict on
 * the way in: a torn, foreign or older file is refused whole, never half
 * read, and what decodes encodes back to the same bytes. One set of checks
 * serves both ways, so encode never writes what decode would refuse. Knows
 * no files, no tree, no provider and no JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/arec.h"
#include "aifs/buf.h"

#define MAGIC		"aifs-archive 1\n"
#define OUTPUT_SIZE_MAX ((uint64_t)INT64_MAX) /* an output's size fits an off_t */

void arec_clear(struct arec *r)
{
	free(r->provider);
	free(r->id);
	free(r->status);
	free(r->meta);
	free(r->error);
	for (size_t i = 0; i < r->n_outputs && r->outputs; i++)
		free(r->outputs[i].name);
	free(r->outputs);
	memset(r, 0, sizeof *r);
}

/* Where a refusal's reason goes. */
struct why {
	char *s;
	size_t size;
};

static int bad(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct why *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (w->size)
		vsnprintf(w->s, w->size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool has_ctrl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* A one-line word: 1 to max bytes, no control bytes, no blanks around. */
static int word_ok(struct why *w, const char *key, const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return bad(w, "%s: %zu bytes, not 1 to %zu", key, n, max);
	if (has_ctrl(s, n) || s[0] == ' ' || s[n - 1] == ' ')
		return bad(w, "%s: blanks around or control bytes in it", key);
	return 0;
}

/* A section's name, as config.c takes it. */
static int provider_ok(struct why *w, const char *s, size_t n)
{
	int rc = word_ok(w, "provider", s, n, AREC_PROVIDER_MAX);
	if (rc == 0 && (memchr(s, '/', n) || s[0] == '.'))
		rc = bad(w, "provider: a '/' in it or a '.' first");
	return rc;
}

/* An output's file name: one harmless path component. */
static int name_ok(struct why *w, const char *s, size_t n)
{
	if (n == 0 || n > AREC_NAME_MAX)
		return bad(w, "output: a name of %zu bytes, not 1 to %u", n, AREC_NAME_MAX);
	if (has_ctrl(s, n) || memchr(s, '/', n) || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return bad(w, "output: a name that is not one safe path component");
	return 0;
}

static int id_ok(struct why *w, const char *s, size_t n)
{
	if (n == 0 || n > AREC_ID_MAX)
		return bad(w, "id: %zu bytes, not 1 to %u", n, AREC_ID_MAX);
	if (memchr(s, '\0', n))
		return bad(w, "id: a NUL byte");
	return 0;
}

/* Everything a record must be, field by field; what decode reads is held
 * to the same as it goes. */
static int check(struct why *w, const struct arec *r)
{
	int rc;

	if (!r->provider || !r->status || !r->id)
		return bad(w, "provider, id or status missing");
	if ((rc = provider_ok(w, r->provider, strlen(r->provider))) ||
	    (rc = id_ok(w, r->id, r->id_len)) ||
	    (rc = word_ok(w, "status", r->status, strlen(r->status), AREC_STATUS_MAX)))
		return rc;
	if (r->mtime < 0)
		return bad(w, "mtime: negative");
	if (r->meta_len > AREC_META_MAX || (r->meta_len && !r->meta))
		return bad(w, "meta: %zu bytes, over %u", r->meta_len, AREC_META_MAX);
	if (r->error_len > AREC_ERROR_MAX || (r->error_len && !r->error))
		return bad(w, "error: %zu bytes, over %u", r->error_len, AREC_ERROR_MAX);
	if (r->n_outputs > AREC_OUTPUTS_MAX || (r->n_outputs && !r->outputs))
		return bad(w, "outputs: %zu, over %u", r->n_outputs, AREC_OUTPUTS_MAX);
	for (size_t i = 0; i < r->n_outputs; i++) {
		const struct arec_output *o = &r->outputs[i];
		if (!o->name)
			return bad(w, "output %zu: no name", i);
		if ((rc = name_ok(w, o->name, strlen(o->name))))
			return rc;
		if (o->size > OUTPUT_SIZE_MAX)
			return bad(w, "output %s: size over %" PRIu64, o->name, OUTPUT_SIZE_MAX);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(o->name, r->outputs[j].name))
				return bad(w, "output %s: twice", o->name);
	}
	return 0;
}

static int put_blob(struct buf *b, const char *key, const char *p, size_t n)
{
	int rc = buf_printf(b, "%s %zu\n", key, n);
	if (rc == 0 && n)
		rc = buf_append(b, p, n);
	if (rc == 0)
		rc = buf_append(b, "\n", 1);
	return rc;
}

int arec_encode(const struct arec *r, char **out, size_t *len)
{
	struct why w = {NULL, 0};
	struct buf b;
	int rc;

	if (check(&w, r))
		return -EINVAL;
	/* the caps bound the record; check() keeps every field within them */
	buf_init(&b, AREC_META_MAX + AREC_ID_MAX + AREC_ERROR_MAX + (64u << 10));
	rc = buf_printf(&b, MAGIC "provider %s\n", r->provider);
	if (rc == 0)
		rc = put_blob(&b, "id", r->id, r->id_len);
	if (rc == 0)
		rc = buf_printf(&b, "status %s\nmtime %" PRId64 "\n", r->status, r->mtime);
	if (rc == 0)
		rc = put_blob(&b, "meta", r->meta, r->meta_len);
	if (rc == 0 && r->error_len)
		rc = put_blob(&b, "error", r->error, r->error_len);
	if (rc == 0)
		rc = buf_printf(&b, "outputs %zu\n", r->n_outputs);
	for (size_t i = 0; rc == 0 && i < r->n_outputs; i++)
		rc = buf_printf(&b, "output %" PRIu64 " %s\n", r->outputs[i].size,
				r->outputs[i].name);
	if (rc) {
		buf_free(&b);
		return rc == -E2BIG ? -EINVAL : rc;
	}
	*out = buf_steal(&b, len);
	return *out ? 0 : -ENOMEM;
}

struct reader {
	const char *p, *end;
	struct why w;
};

/* The next line (without its '\n') must start with "key ": its value. */
static int field(struct reader *rd, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
	if (!nl)
		return bad(&rd->w, "%s: no end of line", key);
	if ((size_t)(nl - rd->p) <= klen || memcmp(rd->p, key, klen) || rd->p[klen] != ' ')
		return bad(&rd->w, "expected %s", key);
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
		return bad(&rd->w, "%s: not a number", key);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (max - (uint64_t)(v[i] - '0')) / 10)
			return bad(&rd->w, "%s: not a number up to %" PRIu64, key, max);
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* n bytes, NUL-terminated. */
static char *copy(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
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
		return bad(&rd->w, "%s: %" PRIu64 " bytes are not all there", key, n);
	if (n && !(*out = copy(rd->p, (size_t)n)))
		return -ENOMEM;
	*len = (size_t)n;
	rd->p += n + 1;
	return 0;
}

/* A one-line text field, held to ok() before it is copied. */
static int text(struct reader *rd, const char *key, char **out,
		int (*ok)(struct why *, const char *, size_t))
{
	const char *v;
	size_t vlen;
	int rc;

	if ((rc = field(rd, key, &v, &vlen)) || (rc = ok(&rd->w, v, vlen)))
		return rc;
	return (*out = copy(v, vlen)) ? 0 : -ENOMEM;
}

static int status_ok(struct why *w, const char *s, size_t n)
{
	return word_ok(w, "status", s, n, AREC_STATUS_MAX);
}

/* "output SIZE NAME": the name is the rest of the line. */
static int output(struct reader *rd, struct arec *r)
{
	struct arec_output *o = &r->outputs[r->n_outputs];
	const char *v, *sp;
	size_t vlen;
	int rc;

	if ((rc = field(rd, "output", &v, &vlen)))
		return rc;
	if (!(sp = memchr(v, ' ', vlen)))
		return bad(&rd->w, "output: no name after the size");
	if ((rc = number(rd, "output", v, (size_t)(sp - v), OUTPUT_SIZE_MAX, &o->size)) ||
	    (rc = name_ok(&rd->w, sp + 1, vlen - (size_t)(sp - v) - 1)))
		return rc;
	if (!(o->name = copy(sp + 1, vlen - (size_t)(sp - v) - 1)))
		return -ENOMEM;
	r->n_outputs++; /* counted now, so arec_clear() frees it */
	for (size_t j = 0; j + 1 < r->n_outputs; j++)
		if (!strcmp(o->name, r->outputs[j].name))
			return bad(&rd->w, "output %s: twice", o->name);
	return 0;
}

int arec_decode(const char *buf, size_t len, struct arec *r, char *why, size_t size)
{
	struct reader rd = {buf, buf + len, {why, size}};
	const char *v;
	size_t vlen;
	uint64_t n, count;
	int rc;

	memset(r, 0, sizeof *r);
	if (size)
		why[0] = '\0';
	if (len < sizeof MAGIC - 1 || memcmp(buf, MAGIC, sizeof MAGIC - 1)) {
		rc = bad(&rd.w, "not an archive record of version 1");
		goto out;
	}
	rd.p += sizeof MAGIC - 1;
	if ((rc = text(&rd, "provider", &r->provider, provider_ok)) ||
	    (rc = blob(&rd, "id", AREC_ID_MAX, &r->id, &r->id_len)) ||
	    (rc = id_ok(&rd.w, r->id, r->id_len)) ||
	    (rc = text(&rd, "status", &r->status, status_ok)) ||
	    (rc = field(&rd, "mtime", &v, &vlen)) ||
	    (rc = number(&rd, "mtime", v, vlen, (uint64_t)INT64_MAX, &n)))
		goto out;
	r->mtime = (int64_t)n;
	if ((rc = blob(&rd, "meta", AREC_META_MAX, &r->meta, &r->meta_len)))
		goto out;
	if (next_is(&rd, "error")) {
		if ((rc = blob(&rd, "error", AREC_ERROR_MAX, &r->error, &r->error_len)))
			goto out;
		if (!r->error_len) {
			rc = bad(&rd.w, "error: empty (none is written as no error line)");
			goto out;
		}
	}
	if ((rc = field(&rd, "outputs", &v, &vlen)) ||
	    (rc = number(&rd, "outputs", v, vlen, AREC_OUTPUTS_MAX, &count)))
		goto out;
	if (count && !(r->outputs = calloc((size_t)count, sizeof *r->outputs))) {
		rc = -ENOMEM;
		goto out;
	}
	while (r->n_outputs < count)
		if ((rc = output(&rd, r)))
			goto out;
	if (rd.p != rd.end)
		rc = bad(&rd.w, "%zu bytes after the outputs", (size_t)(rd.end - rd.p));
out:
	if (rc)
		arec_clear(r);
	return rc;
}

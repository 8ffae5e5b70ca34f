/* ini.c: INI text read line by line through libinih, handed to callbacks
 * with line numbers.
 *
 * libinih (Debian's build: 200-byte lines, inline " ;" comments, indented
 * lines as continuations, section names cut at 49 bytes, no line numbers in
 * the handler) is fed through a reader that keeps SPEC's syntax: the reader
 * takes the text line by line, handles comments and [sections] itself,
 * strips leading blanks (so no line is ever a continuation) and hands inih
 * only a key line's "name =" part. inih then checks the line's shape and
 * splits the name; the value, ';' included, comes from the line itself. So
 * nothing is cut, nothing is silently joined, and a line inih cannot hold
 * is an error.
 *
 * This is the only file that includes <ini.h>. It knows no key, no section
 * and no secret: what a line means, and whether it may appear twice, is the
 * caller's. Its own messages quote nothing from the text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "aifs/err.h"
#include "aifs/ini.h"

struct ini_state {
	const char *text;
	size_t len, pos;
	int line;                /* the line last handed to inih */
	const char *val;         /* that line's value, kept away from inih */
	size_t val_len;
	const struct ini_ops *ops;
	void *ctx;
	struct aifs_err *err;
	int rc, err_line;        /* the first error */
};

static int ini_fail(struct ini_state *st, int line, int code, const char *msg)
{
	if (st->rc)
		return st->rc;
	aifs_err_set(st->err, code, "%s", msg);
	st->rc = code;
	st->err_line = line;
	return code;
}

/* A callback said no: its message stands. */
static int ini_refused(struct ini_state *st, int rc)
{
	if (!st->rc) {
		st->rc = rc;
		st->err_line = st->line;
	}
	return rc;
}

static int ini_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *ini_feed(char *str, int num, const char *s, size_t n)
{
	if (n > (size_t)num - 2)
		n = (size_t)num - 2;
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int ini_section(struct ini_state *st, const char *s, size_t n)
{
	int rc;

	if (n < 2 || s[n - 1] != ']')
		return ini_fail(st, st->line, -EINVAL, "a [section] line must end with ']'");
	rc = st->ops->section(st->ctx, s + 1, n - 2, st->line, st->err);
	return rc < 0 ? ini_refused(st, rc) : 0;
}

static char *ini_reader_cb(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	const char *s, *e, *sep;
	size_t n;
	char msg[64];

	if (st->rc || st->pos >= st->len || num < 3)
		return NULL;
	s = st->text + st->pos;
	e = memchr(s, '\n', st->len - st->pos);
	n = e ? (size_t)(e - s) : st->len - st->pos;
	st->pos += n + (e != NULL);
	st->line++;
	st->val = NULL;
	if (memchr(s, '\0', n)) {
		ini_fail(st, st->line, -EINVAL, "a NUL byte");
		return NULL;
	}
	if (st->line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
		s += 3;
		n -= 3;
	}
	while (n && ini_blank(s[n - 1]))
		n--;
	while (n && ini_blank(*s)) {
		s++;
		n--;
	}
	if (n == 0 || *s == '#' || *s == ';')
		return ini_feed(str, num, "", 0);
	if (*s == '[')
		return ini_section(st, s, n) < 0 ? NULL : ini_feed(str, num, "", 0);
	sep = s;
	while (sep < s + n && *sep != '=' && *sep != ':')
		sep++;
	if (sep == s + n) /* no separator: inih reports the line, even cut short */
		return ini_feed(str, num, s, n);
	if ((size_t)(sep - s) + 3 > (size_t)num) {
		snprintf(msg, sizeof msg, "line too long (a key of more than %d bytes)", num - 3);
		ini_fail(st, st->line, -EINVAL, msg);
		return NULL;
	}
	st->val = sep + 1;
	st->val_len = n - (size_t)(sep + 1 - s);
	while (st->val_len && ini_blank(*st->val)) {
		st->val++;
		st->val_len--;
	}
	return ini_feed(str, num, s, (size_t)(sep + 1 - s));
}

static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	int rc;

	(void)section; /* inih's copy is cut at 49 bytes: the callback had it whole */
	(void)value;   /* and inih's value would lose " ;..." */
	if (!st->val || !*name)
		return !ini_fail(st, st->line, -EINVAL, "expected 'key = value'");
	rc = st->ops->key(st->ctx, name, st->val, st->val_len, st->line, st->err);
	return rc < 0 ? !ini_refused(st, rc) : 1;
}

int ini_read(const char *text, size_t len, const struct ini_ops *ops, void *ctx, int *line,
	     struct aifs_err *err)
{
	struct ini_state st = { .text = text, .len = len, .ops = ops, .ctx = ctx, .err = err };
	char msg[64];
	int rc;

	rc = ini_parse_stream(ini_reader_cb, &st, ini_handler_cb, &st);
	if (rc > 0 && (!st.rc || rc < st.err_line)) {
		/* inih found an earlier line it cannot read */
		st.rc = 0;
		ini_fail(&st, rc, -EINVAL, "expected 'key = value', '[section]' or a comment");
	} else if (!st.rc && rc < 0) {
		snprintf(msg, sizeof msg, "cannot parse (%d)", rc);
		ini_fail(&st, 0, -ENOMEM, msg);
	}
	*line = st.err_line;
	return st.rc;
}

/* test_ini.c: INI text into callbacks, with line numbers; what aifs makes
 * of the keys is in test_config. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/err.h"
#include "aifs/ini.h"
#include "t.h"

/* The calls seen, one per line of log: "3 [name]" or "4 key=value". */
struct seen {
	char log[8192];
	int refuse_line; /* a callback says no on this line */
};

static int on_section(void *ctx, const char *name, size_t len, int line, struct aifs_err *err)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof s->log - n, "%d [%.*s]\n", line, (int)len, name);
	if (line == s->refuse_line)
		return aifs_err_set(err, -EINVAL, "section refused");
	return 0;
}

static int on_key(void *ctx, const char *key, const char *value, size_t len, int line,
		  struct aifs_err *err)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof s->log - n, "%d %s=%.*s\n", line, key, (int)len, value);
	if (line == s->refuse_line)
		return aifs_err_set(err, -EPERM, "key refused");
	return 0;
}

static const struct ini_ops ops = { .section = on_section, .key = on_key };

/* Reads text; returns what ini_read() returned, the calls in s->log. */
static int rd(const char *text, size_t len, struct seen *s, int *line, struct aifs_err *e)
{
	int refuse = s->refuse_line;

	memset(s, 0, sizeof *s);
	s->refuse_line = refuse;
	aifs_err_clear(e);
	*line = -1;
	return ini_read(text, len, &ops, s, line, e);
}

#define RD(text, s, line, e) rd(text, strlen(text), s, line, e)

TEST(sections_and_keys)
{
	struct seen s = { .refuse_line = 0 };
	struct aifs_err e;
	int line;
	const char *text = "\xEF\xBB\xBF# comment\r\n"
			   "top = 1\n"
			   "\n"
			   "  ; indented comment\n"
			   "[a b]\r\n"
			   "\tkey = value ;not a comment #nor this\r\n"
			   "  other: x=y:z\n"
			   "empty =\n"
			   "[]\n"
			   "last=  v  ";

	CHECK_INT(RD(text, &s, &line, &e), 0);
	CHECK_INT(line, 0);
	CHECK_STR(s.log, "2 top=1\n"
			 "5 [a b]\n"
			 "6 key=value ;not a comment #nor this\n"
			 "7 other=x=y:z\n"
			 "8 empty=\n"
			 "9 []\n"
			 "10 last=v\n");
	CHECK_INT(RD("", &s, &line, &e), 0);
	CHECK_STR(s.log, "");
}

TEST(long_lines)
{
	struct seen s = { .refuse_line = 0 };
	struct aifs_err e;
	char *text = malloc(8192), *want = malloc(8192);
	int line, rc_value, rc_key, rc_noeq;

	CHECK(text && want);
	/* a value far past libinih's 200 bytes comes whole */
	memset(want, 'v', 5000);
	want[5000] = '\0';
	snprintf(text, 8192, "[s]\nk = %s\n", want);
	rc_value = RD(text, &s, &line, &e);
	snprintf(text, 8192, "1 [s]\n2 k=%s\n", want);
	int same = !strcmp(s.log, text);
	/* a key too long for libinih is an error, not a cut */
	memset(want, 'k', 300);
	want[300] = '\0';
	snprintf(text, 8192, "[s]\n%s = 1\n", want);
	rc_key = RD(text, &s, &line, &e);
	int key_line = line;
	int key_msg = !strcmp(e.msg, "line too long (a key of more than 197 bytes)");
	/* so is a long line without '=' */
	snprintf(text, 8192, "[s]\n%s\nk = 1\n", want);
	rc_noeq = RD(text, &s, &line, &e);
	free(text);
	free(want);
	CHECK_INT(rc_value, 0);
	CHECK(same);
	CHECK_INT(rc_key, -EINVAL);
	CHECK_INT(key_line, 2);
	CHECK(key_msg);
	CHECK_INT(rc_noeq, -EINVAL);
	CHECK_INT(line, 2);
	CHECK_STR(e.msg, "expected 'key = value', '[section]' or a comment");
}

/* Reading len bytes of text, with a callback saying no on refuse_line, fails
 * with rc on line, saying msg, after the calls in log (NULL: any). */
static int fails(const char *text, size_t len, int refuse_line, int rc, int line, const char *msg,
		 const char *log)
{
	struct seen s = { .refuse_line = refuse_line };
	struct aifs_err e;
	int got_line, got = rd(text, len, &s, &got_line, &e);

	if (got == rc && got_line == line && !strcmp(e.msg, msg) && (!log || !strcmp(s.log, log)))
		return 1;
	fprintf(stderr, "  rc %d, line %d, \"%s\", calls \"%s\"\n", got, got_line, e.msg, s.log);
	return 0;
}

#define FAILS(text, refuse, rc, line, msg, log) \
	fails(text, strlen(text), refuse, rc, line, msg, log)

TEST(errors_and_lines)
{
	const char *not_a_line = "expected 'key = value', '[section]' or a comment";

	CHECK(FAILS("[a]\nk = 1\n[b\n", 0, -EINVAL, 3, "a [section] line must end with ']'", NULL));
	CHECK(FAILS("[a] ; c\n", 0, -EINVAL, 1, "a [section] line must end with ']'", NULL));
	CHECK(FAILS("k = 1\n= v\n", 0, -EINVAL, 2, "expected 'key = value'", NULL));
	CHECK(FAILS("k = 1\nnoeq\n", 0, -EINVAL, 2, not_a_line, NULL));
	CHECK(fails("k = 1\nj = \0\n", 11, 0, -EINVAL, 2, "a NUL byte", "1 k=1\n"));
	/* a callback's no stops the reading, with its message and line */
	CHECK(FAILS("[a]\nk = 1\n[b]\nj = 2\n", 3, -EINVAL, 3, "section refused",
		    "1 [a]\n2 k=1\n3 [b]\n"));
	CHECK(FAILS("[a]\nk = 1\nj = 2\n", 2, -EPERM, 2, "key refused", "1 [a]\n2 k=1\n"));
	/* but a line libinih could not read before it comes first */
	CHECK(FAILS("a ;b = c\nk = 1\nj = 2\n", 3, -EINVAL, 1, not_a_line, NULL));
}

T_MAIN(T_CASE(sections_and_keys), T_CASE(long_lines), T_CASE(errors_and_lines))

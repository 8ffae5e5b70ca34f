/* err.c: errors that carry a line of text beside the errno.
 *
 * Knows nothing of where an error came from; it only keeps the message to
 * one printable line, since it ends up in a log line and in a task's
 * `error` file, and cuts what does not fit where a reader expects a cut:
 * between words, never inside a UTF-8 character. */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aifs/err.h"

void aifs_err_clear(struct aifs_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->retry = AIFS_RETRY_NO;
	e->retry_after = -1;
	e->http_status = 0;
	e->pcode[0] = '\0';
	e->msg[0] = '\0';
}

static bool err_blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t aifs_text_cut_len(const char *s, size_t len, size_t max)
{
	size_t n = max, w;

	if (len <= max)
		return len;
	/* s[n] is the first byte left out: not the middle of a character */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	if (!err_blank(s[n])) {
		for (w = n; w > 0 && !err_blank(s[w - 1]); w--)
			;
		if (w > max / 2)
			n = w;
	}
	while (n > 0 && err_blank(s[n - 1]))
		n--;
	return n;
}

size_t aifs_text_cut(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src), n;

	if (size == 0)
		return 0;
	if (len < size) {
		memcpy(dst, src, len + 1);
		return len;
	}
	if (size < 4) {
		n = aifs_text_cut_len(src, len, size - 1);
		memcpy(dst, src, n);
		dst[n] = '\0';
		return n;
	}
	n = aifs_text_cut_len(src, len, size - 4);
	memcpy(dst, src, n);
	memcpy(dst + n, "...", 4);
	return n + 3;
}

int aifs_err_set(struct aifs_err *e, int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (code > 0)
		code = -code;
	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* One line: a newline or a control byte would split or garble the log. */
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	aifs_text_cut(e->msg, sizeof e->msg, text);
	return code;
}

const char *aifs_errno_name(int code)
{
	const char *name;

	if (code < 0)
		code = -code;
	if (code == 0)
		return "OK";
	name = strerrorname_np(code);
	return name ? name : "EUNKNOWN";
}


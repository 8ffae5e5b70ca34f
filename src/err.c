/* err.c: errors that carry a line of text beside the errno.
 *
 * Knows nothing of where an error came from; it only keeps the message to
 * one printable line, since it ends up in a log line and in a task's
 * `error` file. */
#include <errno.h>
#include <math.h>
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

int aifs_err_set(struct aifs_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (code > 0)
		code = -code;
	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	/* One line: a newline or a control byte would split or garble the log. */
	for (unsigned char *p = (unsigned char *)e->msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
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

double aifs_retry_delay(int attempt, double retry_after, double jitter)
{
	double d = fmin(8.0, 0.5 * ldexp(1.0, attempt < 30 ? attempt : 30));
	d = d / 2 + d / 2 * jitter;
	if (retry_after > 60.0)
		return -1;
	return retry_after > d ? retry_after : d;
}


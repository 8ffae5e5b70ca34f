/* buf.c: a growable byte buffer with a hard cap.
 *
 * Every append is checked against the cap before anything is allocated, and
 * a failed append leaves the buffer as it was. Out of memory is -ENOMEM,
 * never an abort. Knows nothing of what the bytes mean. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/buf.h"

#define BUF_MIN_ALLOC 64

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	/* One byte stays free for the terminating NUL. */
	b->max = max < SIZE_MAX ? max : SIZE_MAX - 1;
}

/* Makes room for n more bytes plus a NUL; the caller checked the cap. */
static int buf_reserve(struct buf *b, size_t n)
{
	size_t need = b->len + n + 1;
	size_t alloc = b->alloc ? b->alloc : BUF_MIN_ALLOC;
	char *p;

	if (need <= b->alloc)
		return 0;
	while (alloc < need && alloc <= SIZE_MAX / 2)
		alloc *= 2;
	if (alloc < need)
		alloc = need;
	if (alloc > b->max + 1)
		alloc = b->max + 1;
	p = realloc(b->data, alloc);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->alloc = alloc;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int rc;

	if (n > b->max - b->len)
		return -E2BIG;
	rc = buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n > b->max - b->len)
		return -E2BIG;
	rc = buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

/* buf.h: a growable byte buffer with a hard cap (curl's dynbuf idea). */
#ifndef AIFS_BUF_H
#define AIFS_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* NUL-terminated while len < cap; owned */
	size_t len;
	size_t alloc;
	size_t max;   /* appends past this fail with -E2BIG */
};

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *p, size_t n); /* 0, -ENOMEM, -E2BIG */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes over: returns them (NUL-terminated, maybe NULL when empty) and empties b. */
char *buf_steal(struct buf *b, size_t *len);
void buf_free(struct buf *b);

#endif

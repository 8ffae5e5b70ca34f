/* err.h: errors that carry text as well as an errno. */
#ifndef AIFS_ERR_H
#define AIFS_ERR_H

#include <stddef.h>

/* How a failed call may be retried; set by whoever read the answer. */
enum aifs_retry {
	AIFS_RETRY_NO = 0,    /* final: retrying gives the same answer */
	AIFS_RETRY_TRANSIENT, /* timeouts, 408, 5xx, chanjing 50000 */
	AIFS_RETRY_THROTTLED, /* 429, chanjing 40001 */
	AIFS_RETRY_REAUTH,    /* the token was refused: get a new one, once */
};

struct aifs_err {
	int code;              /* -errno, 0 when nothing failed */
	enum aifs_retry retry;
	double retry_after;    /* seconds the server asked for, < 0 when none */
	long http_status;      /* 0 when no HTTP answer was had */
	char pcode[64];        /* the provider's own code, "" when none */
	char msg[256];         /* one line, never a secret */
};

void aifs_err_clear(struct aifs_err *e);

/* Sets code and message; returns code, so `return aifs_err_set(...)` reads. */
int aifs_err_set(struct aifs_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The length of the longest start of s (len bytes) that fits in max bytes:
 * len when all of it fits; else it ends at a UTF-8 character boundary, and
 * at a word boundary (before a blank) where one lies in the second half, with
 * trailing blanks dropped. So a provider's message is never cut mid-word
 * where it has words, nor ever mid-character. */
size_t aifs_text_cut_len(const char *s, size_t len, size_t max);

/* Copies src into dst (size bytes, the NUL included): whole when it fits,
 * else cut as aifs_text_cut_len() says and ended with "...". Returns the
 * length written. */
size_t aifs_text_cut(char *dst, size_t size, const char *src);

/* "ENOENT", "EACCES", ...: the symbolic name of a positive or negative errno. */
const char *aifs_errno_name(int code);

#endif

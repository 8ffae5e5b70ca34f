/* ini.h: INI text, read line by line through libinih, handed to callbacks. */
#ifndef AIFS_INI_H
#define AIFS_INI_H

#include <stddef.h>

struct aifs_err;

/* What the caller does with the lines that say something; line counts from
 * 1. Each returns 0, or -errno with err->msg saying what is wrong (without
 * the line: ini_read() hands it back), and reading stops there. */
struct ini_ops {
	/* "[name]": the len bytes between the brackets, as written: maybe none,
	 * maybe with blanks. */
	int (*section)(void *ctx, const char *name, size_t len, int line, struct aifs_err *err);
	/* "key = value" or "key: value": key trimmed and never empty; the value
	 * is len bytes, blanks around it dropped, ';' and '#' kept. Both
	 * borrowed until the call returns. */
	int (*key)(void *ctx, const char *key, const char *value, size_t len, int line,
		   struct aifs_err *err);
};

/* Reads len bytes of text: lines end with "\n" or "\r\n"; blank lines and
 * whole lines starting with '#' or ';' are skipped; a UTF-8 BOM may open
 * the text; blanks around a line drop; an indented line is a line of its
 * own, never a continuation. Returns 0, or -errno with err->msg saying
 * what and *line where (0 when no line is to blame): a NUL byte, a key too
 * long for libinih, a line that is no key, section or comment, or what a
 * callback said. */
int ini_read(const char *text, size_t len, const struct ini_ops *ops, void *ctx, int *line,
	     struct aifs_err *err);

#endif

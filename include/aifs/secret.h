/* secret.h: credentials as the config file gives them, and the rule that a
 * message never shows one. */
#ifndef AIFS_SECRET_H
#define AIFS_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct aifs_err;

/* How a config line gives the secret NAME. */
enum secret_form {
	SECRET_INLINE, /* NAME = the secret itself */
	SECRET_ENV,    /* NAME_env = the name of an environment variable */
	SECRET_FILE,   /* NAME_file = a file whose first line is the secret */
};

/* The form in which key gives the secret name: key is name, name_env or
 * name_file. -1 when it is none of them. */
int secret_form(const char *key, const char *name);

/* One config line that gives a secret; every pointer borrowed. */
struct secret_line {
	const char *section;   /* the [section], for messages */
	const char *key;       /* as written: "api_key_file" */
	const char *name;      /* the secret's name: "api_key" */
	enum secret_form form;
	const char *value;     /* the secret, a variable's name, or the file's path, resolved */
	mode_t conf_mode;      /* the config file's mode: an inline secret wants it private */
};

/* Fetches the secret a line gives. An inline secret in a config file that
 * group or others may read is refused (-EPERM), as is a key file they may
 * read; a file's secret is its first line, blanks at its end dropped.
 * On success *out is new (free with secret_free()): not empty, no control
 * character. On failure *out is NULL and err->msg, without the file and
 * line, says what, never showing the secret, the value of a *_file line
 * (a key pasted in place of the path) nor, unless it looks like a
 * variable's name, that of a *_env line; returns -errno. */
int secret_get(const struct secret_line *l, char **out, struct aifs_err *err);

/* Reads path whole, at most max bytes, into a new NUL-terminated *text of
 * *len bytes (free with secret_wipe_free(*text, *len)): a file that may hold
 * secrets. *mode is that of the file read; *more is true when it has more
 * than max bytes. Returns 0 or -errno, and leaves nothing allocated then. */
int secret_slurp(const char *path, size_t max, char **text, size_t *len, mode_t *mode,
		 bool *more);

/* "others" or "group" when they may read a file of that mode; NULL when
 * neither may. */
const char *secret_loose(mode_t mode);

/* Overwrites n bytes at p, then frees p. Accepts NULL. */
void secret_wipe_free(void *p, size_t n);

/* secret_wipe_free() of a NUL-terminated string. */
void secret_free(char *s);

/* key when it looks like a key's name, else "(not shown)": the text before
 * a line's '=' may be a secret typed where a key belongs. */
const char *secret_shown_key(const char *key);

#endif

/* secret.c: credentials as the config file gives them: inline, from an
 * environment variable (NAME_env) or from the first line of a file
 * (NAME_file); ssh's refusal of a loose file, for a config holding an
 * inline secret and for a key file alike; wiping before freeing.
 *
 * No message shows a secret: nor the value of a *_file line, which may be
 * a key pasted in place of a path, nor a *_env value that does not look
 * like a variable's name. Knows no key names, no providers and no INI: the
 * caller says which line gives which secret, and resolves paths. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aifs/err.h"
#include "aifs/secret.h"

#define SECRET_FILE_MAX (64 << 10)

static bool secret_has_ctrl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

int secret_form(const char *key, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(key, name, n))
		return -1;
	if (!key[n])
		return SECRET_INLINE;
	if (!strcmp(key + n, "_env"))
		return SECRET_ENV;
	if (!strcmp(key + n, "_file"))
		return SECRET_FILE;
	return -1;
}

void secret_wipe_free(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}

void secret_free(char *s)
{
	if (s)
		secret_wipe_free(s, strlen(s));
}

const char *secret_loose(mode_t mode)
{
	return (mode & 004) ? "others" : (mode & 040) ? "group" : NULL;
}

const char *secret_shown_key(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 32 ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
		return "(not shown)";
	return key;
}

int secret_slurp(const char *path, size_t max, char **text, size_t *len, mode_t *mode,
		 bool *more)
{
	struct stat st;
	size_t n = 0;
	char *buf = NULL, extra;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!(buf = malloc(max + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	*mode = st.st_mode;
	while (n < max) {
		ssize_t r = read(fd, buf + n, max - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*more = n == max && read(fd, &extra, 1) == 1;
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
out:
	secret_wipe_free(buf, max + 1);
	close(fd);
	return rc;
}

/* The variable's name is shown only when it looks like one: a key pasted
 * here by mistake must not be echoed back. */
static int secret_env(const struct secret_line *l, char **out, struct aifs_err *err)
{
	const char *v = l->value, *e = getenv(v);
	bool name_like;

	if (!*v)
		return aifs_err_set(err, -EINVAL, "%s is empty", l->key);
	name_like = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789_") == strlen(v) &&
		    !(v[0] >= '0' && v[0] <= '9');
	if (!e || !*e)
		return aifs_err_set(err, -EINVAL, "%s: environment variable %s%.64s%s is %s",
				    l->key, name_like ? "'" : "",
				    name_like ? v : "(not a variable name)", name_like ? "'" : "",
				    e ? "empty" : "not set");
	*out = strdup(e);
	return 0;
}

/* Messages name the section and the key, never the path: it is made of
 * the line's value. */
static int secret_file(const struct secret_line *l, char **out, struct aifs_err *err)
{
	char *text = NULL;
	size_t len = 0, n;
	mode_t mode = 0;
	bool more = false;
	int rc;

	rc = secret_slurp(l->value, SECRET_FILE_MAX, &text, &len, &mode, &more);
	if (rc < 0)
		return aifs_err_set(err, rc, "[%s] %s: cannot read the file it names: %s",
				    l->section, l->key, strerror(-rc));
	if (secret_loose(mode)) {
		rc = aifs_err_set(err, -EPERM,
				  "[%s] %s: the file it names is readable by %s (mode %04o); "
				  "chmod 600 it",
				  l->section, l->key, secret_loose(mode),
				  (unsigned)(mode & 07777));
		goto out;
	}
	n = memchr(text, '\n', len) ? (size_t)((char *)memchr(text, '\n', len) - text) : len;
	if (n == len && more) {
		rc = aifs_err_set(err, -EINVAL,
				  "[%s] %s: the file it names has a first line too long",
				  l->section, l->key);
		goto out;
	}
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (n == 0 || memchr(text, '\0', n)) {
		rc = aifs_err_set(err, -EINVAL,
				  "[%s] %s: the file it names has an empty first line, or a NUL "
				  "byte",
				  l->section, l->key);
		goto out;
	}
	*out = strndup(text, n);
out:
	secret_wipe_free(text, len);
	return rc;
}

int secret_get(const struct secret_line *l, char **out, struct aifs_err *err)
{
	char *s = NULL;
	int rc = 0;

	*out = NULL;
	switch (l->form) {
	case SECRET_INLINE:
		if (secret_loose(l->conf_mode))
			return aifs_err_set(err, -EPERM,
					    "holds %s but is readable by %s (mode %04o); "
					    "chmod 600 it",
					    l->name, secret_loose(l->conf_mode),
					    (unsigned)(l->conf_mode & 07777));
		s = strdup(l->value);
		break;
	case SECRET_ENV: rc = secret_env(l, &s, err); break;
	case SECRET_FILE: rc = secret_file(l, &s, err); break;
	default: return aifs_err_set(err, -EINVAL, "%s: not a secret", l->key);
	}
	if (rc < 0)
		return rc;
	if (!s)
		return aifs_err_set(err, -ENOMEM, "out of memory");
	if (!*s || secret_has_ctrl(s, strlen(s))) {
		secret_free(s);
		return aifs_err_set(err, -EINVAL, "%s: empty, or holds a control character",
				    l->key);
	}
	*out = s;
	return 0;
}

/* task.c: the provider-neutral task record: reference counting, status
 * words, the error text, output files and their names.
 *
 * It refuses to know JSON, HTTP or any provider's field names: providers
 * hand it plain strings and it turns them into what the files show. */
#include "aifs/task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aifs/err.h"

/* A provider's unknown status word is shown, but never at any length. */
#define TASK_STATUS_WORD_MAX 63

static const char *const task_words[] = {
	[TASK_QUEUED] = "queued", [TASK_RUNNING] = "running",	  [TASK_SUCCEEDED] = "succeeded",
	[TASK_FAILED] = "failed", [TASK_CANCELLED] = "cancelled", [TASK_EXPIRED] = "expired",
};

/* What the status file shows for each known word: shared, never freed. */
static const char *const task_texts[] = {
	[TASK_QUEUED] = "queued\n",	   [TASK_RUNNING] = "running\n",
	[TASK_SUCCEEDED] = "succeeded\n", [TASK_FAILED] = "failed\n",
	[TASK_CANCELLED] = "cancelled\n", [TASK_EXPIRED] = "expired\n",
};

/* A hundred thousand tasks are held at once: the id lives in the record's
 * own allocation, and a known status word is the shared text above. */
struct task_info *task_info_new(const char *id)
{
	struct task_info *ti;
	size_t n;

	if (!id)
		return NULL;
	n = strlen(id);
	ti = calloc(1, sizeof *ti + n + 1);
	if (!ti)
		return NULL;
	ti->refs = 1;
	ti->id = memcpy(ti + 1, id, n + 1);
	if (task_info_set_status(ti, TASK_OTHER, NULL) < 0) {
		free(ti);
		return NULL;
	}
	return ti;
}

static void task_status_text_free(struct task_info *ti)
{
	if (ti->status == TASK_OTHER)
		free((char *)ti->status_text);
	ti->status_text = NULL;
}

struct task_info *task_info_ref(struct task_info *ti)
{
	if (ti)
		__atomic_add_fetch(&ti->refs, 1, __ATOMIC_RELAXED);
	return ti;
}

void task_info_unref(struct task_info *ti)
{
	if (!ti || __atomic_sub_fetch(&ti->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < ti->n_outputs; i++)
		free(ti->outputs[i].name); /* the URL shares its allocation */
	free(ti->outputs);
	task_status_text_free(ti);
	free(ti->meta);
	free(ti->error);
	free(ti);
}

struct task_info *task_info_slim(const struct task_info *ti)
{
	struct task_info *s = task_info_new(ti->id);
	if (!s)
		return NULL;
	task_status_text_free(s); /* task_info_new() gave it "unknown\n" */
	s->status = ti->status;
	s->status_text = ti->status == TASK_OTHER ? strdup(ti->status_text) : ti->status_text;
	s->status_len = ti->status_len;
	s->mtime = ti->mtime;
	s->meta_len = ti->meta_len;
	s->error_len = ti->error_len;
	s->slim = true;
	s->outputs = calloc(ti->n_outputs ? ti->n_outputs : 1, sizeof *s->outputs);
	if (!s->status_text || !s->outputs)
		goto fail;
	for (; s->n_outputs < ti->n_outputs; s->n_outputs++)
		if (!(s->outputs[s->n_outputs].name = strdup(ti->outputs[s->n_outputs].name)))
			goto fail;
	return s;
fail:
	task_info_unref(s);
	return NULL;
}

bool task_status_finished(enum task_status st)
{
	return st == TASK_SUCCEEDED || st == TASK_FAILED || st == TASK_CANCELLED ||
	       st == TASK_EXPIRED;
}

enum task_status task_status_parse(const char *word)
{
	if (!word)
		return TASK_OTHER;
	for (int st = TASK_QUEUED; st < TASK_OTHER; st++)
		if (strcasecmp(word, task_words[st]) == 0)
			return (enum task_status)st;
	return TASK_OTHER;
}

static bool task_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* An unknown word as shown: ASCII lowercased, control bytes dropped, spaces
 * trimmed, cut as aifs_text_cut_len() cuts; "unknown" when empty. */
static void task_clean_word(const char *raw, char *out, size_t outsz)
{
	char word[TASK_STATUS_WORD_MAX + 2]; /* a byte more than is kept: where the cut falls */
	size_t n = 0;

	for (const unsigned char *s = (const unsigned char *)(raw ? raw : ""); *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f || (n == 0 && c == ' '))
			continue;
		if (n + 1 >= sizeof word || n + 1 > outsz)
			break;
		word[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	n = aifs_text_cut_len(word, n, outsz - 1);
	while (n > 0 && word[n - 1] == ' ')
		n--;
	memcpy(out, word, n);
	out[n] = '\0';
	if (n == 0)
		snprintf(out, outsz, "unknown");
}

int task_info_set_status(struct task_info *ti, enum task_status st, const char *raw)
{
	char word[TASK_STATUS_WORD_MAX + 1];
	char *text = NULL;

	if (!ti || st < TASK_QUEUED || st > TASK_OTHER)
		return -EINVAL;
	if (st == TASK_OTHER) {
		task_clean_word(raw, word, sizeof word);
		if (asprintf(&text, "%s\n", word) < 0)
			return -ENOMEM;
	}
	task_status_text_free(ti);
	ti->status_text = text ? text : task_texts[st];
	ti->status_len = strlen(ti->status_text);
	ti->status = st;
	return 0;
}

/* The [*start, *len) of s without surrounding white space; false when nothing is left. */
static bool task_trim(const char *s, const char **start, size_t *len)
{
	size_t n;

	if (!s)
		return false;
	while (task_is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && task_is_space(s[n - 1]))
		n--;
	*start = s;
	*len = n;
	return n > 0;
}

int task_info_set_error(struct task_info *ti, const char *code, const char *message)
{
	const char *c = NULL, *m = NULL;
	size_t cn = 0, mn = 0;
	char *text;
	int n;

	if (!ti)
		return -EINVAL;
	if (ti->status != TASK_FAILED && ti->status != TASK_EXPIRED)
		return 0;
	bool has_code = task_trim(code, &c, &cn);
	bool has_msg = task_trim(message, &m, &mn);
	if (has_code && has_msg)
		n = asprintf(&text, "%.*s: %.*s\n", (int)cn, c, (int)mn, m);
	else if (has_msg)
		n = asprintf(&text, "%.*s\n", (int)mn, m);
	else
		n = asprintf(&text, "task %s\n", task_words[ti->status]);
	if (n < 0)
		return -ENOMEM;
	free(ti->error);
	ti->error = text;
	ti->error_len = (size_t)n;
	return 0;
}

/* A name that is one harmless path component. */
static bool task_name_ok(const char *name)
{
	if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strlen(name) > 255)
		return false;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		if (*s == '/' || *s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A host as a URL names one: [IPv6], or a name or address (RFC 3986's
 * unreserved, sub-delims and %XX, and non-ASCII for IDNs). */
static bool task_host_ok(const char *h, size_t n)
{
	if (n > 0 && h[0] == '[')
		return n > 2 && h[n - 1] == ']' &&
		       strspn(h + 1, "0123456789abcdefABCDEF:.%") == n - 2;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h[i] < 0x80 &&
		    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "-._~%!$&'()*+,;=",
			    h[i]))
			return false;
	return true;
}

bool task_url_usable(const char *url)
{
	const char *auth, *host, *p;
	size_t n;

	if (!url)
		return false;
	if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return false; /* "", "<SIGNED_VIDEO_URL>", ftp://, file://, data: */
	for (const unsigned char *s = (const unsigned char *)url; *s; s++)
		if (*s <= 0x20 || *s == 0x7f)
			return false;
	n = strcspn(auth, "/?#"); /* [userinfo@]host[:port] */
	p = memrchr(auth, '@', n);
	host = p ? p + 1 : auth;
	n -= (size_t)(host - auth);
	if (n > 0 && host[0] == '[')
		n = (p = memchr(host, ']', n)) ? (size_t)(p - host) + 1 : 0;
	else if ((p = memchr(host, ':', n)))
		n = (size_t)(p - host);
	return task_host_ok(host, n);
}

int task_info_add_kept(struct task_info *ti, const char *name)
{
	if (!ti || !task_name_ok(name))
		return -EINVAL;
	for (size_t i = 0; i < ti->n_outputs; i++)
		if (strcmp(ti->outputs[i].name, name) == 0)
			return -EEXIST;
	if (ti->n_outputs >= TASK_MAX_OUTPUTS)
		return -E2BIG;
	struct task_output *o = realloc(ti->outputs, (ti->n_outputs + 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	ti->outputs = o;
	o = &ti->outputs[ti->n_outputs];
	o->url = NULL;
	if (!(o->name = strdup(name)))
		return -ENOMEM;
	ti->n_outputs++;
	return 0;
}

int task_info_add_output(struct task_info *ti, const char *name, const char *url)
{
	struct task_output *o;

	if (!ti || !task_name_ok(name) || !task_url_usable(url))
		return -EINVAL;
	for (size_t i = 0; i < ti->n_outputs; i++)
		if (strcmp(ti->outputs[i].name, name) == 0)
			return -EEXIST;
	if (ti->n_outputs >= TASK_MAX_OUTPUTS)
		return -E2BIG;
	o = realloc(ti->outputs, (ti->n_outputs + 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	ti->outputs = o;
	o = &ti->outputs[ti->n_outputs];
	size_t nn = strlen(name) + 1, un = strlen(url) + 1;
	if (!(o->name = malloc(nn + un))) /* name and URL in one allocation */
		return -ENOMEM;
	memcpy(o->name, name, nn);
	o->url = memcpy(o->name + nn, url, un);
	ti->n_outputs++;
	return 0;
}

static bool task_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *task_url_ext(const char *url, const char *def, char *out, size_t outsz)
{
	const char *path, *end, *seg, *dot;
	size_t n;

	if (!url)
		goto fallback;
	/* The path starts after "scheme://authority"; a bare path is taken as is. */
	path = strstr(url, "://");
	if (path) {
		path += 3;
		path += strcspn(path, "/?#");
	} else {
		path = url;
	}
	end = path + strcspn(path, "?#");
	seg = path;
	for (const char *s = path; s < end; s++)
		if (*s == '/')
			seg = s + 1;
	dot = NULL;
	for (const char *s = seg; s < end; s++)
		if (*s == '.')
			dot = s;
	if (!dot)
		goto fallback;
	n = (size_t)(end - dot - 1);
	if (n < 1 || n > 8 || n >= outsz)
		goto fallback;
	for (size_t i = 0; i < n; i++)
		if (!task_is_alnum(dot[1 + i]))
			goto fallback;
	memcpy(out, dot + 1, n);
	out[n] = '\0';
	return out;
fallback:
	if (def && out && strlen(def) < outsz) {
		memcpy(out, def, strlen(def) + 1);
		return out;
	}
	return def;
}

/* fjson.h: what the provider fuzz targets share: the answer read as
 * pjson_load() reads it, and the checks that a parse result tells the
 * truth about that answer (meta.json is the provider's own object, byte for
 * byte; errors are one line, never a secret, and the documented errno). */
#ifndef AIFS_FJSON_H
#define AIFS_FJSON_H

#include <errno.h>
#include <jansson.h>

#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/provider.h"
#include "fuzz.h"

#define FJSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* The answer as JSON, or NULL; *flags says how it was read, so that a part
 * of it (meta) can be read the same way. JSON text never holds a raw NUL
 * byte, though jansson skips one after a number or a literal. */
static inline json_t *fjson_load(const char *text, size_t len, size_t *flags)
{
	json_error_t je;
	json_t *v;

	*flags = FJSON_FLAGS;
	if (memchr(text, '\0', len))
		return NULL;
	v = json_loadb(text, len, *flags, &je);
	if (!v && json_error_code(&je) == json_error_numeric_overflow) {
		*flags |= JSON_DECODE_INT_AS_REAL;
		v = json_loadb(text, len, *flags, &je);
	}
	return v;
}

/* key's value when a string without NUL bytes (pjson_str's rule), else NULL. */
static inline const char *fjson_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* Same keys in the same order, all the way down. */
static inline bool fjson_same_order(const json_t *a, const json_t *b)
{
	if (json_is_object(a) && json_is_object(b)) {
		void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);

		for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
				 ib = json_object_iter_next((json_t *)b, ib)) {
			size_t na = json_object_iter_key_len(ia), nb = json_object_iter_key_len(ib);

			if (na != nb ||
			    memcmp(json_object_iter_key(ia), json_object_iter_key(ib), na) ||
			    !fjson_same_order(json_object_iter_value(ia),
					      json_object_iter_value(ib)))
				return false;
		}
		return !ia && !ib;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!fjson_same_order(json_array_get(a, i), json_array_get(b, i)))
				return false;
	}
	return true;
}

/* JSON text without the white space between tokens: a new string, *n long. */
static inline char *fjson_minify(const char *p, size_t len, size_t *n)
{
	char *out = malloc(len + 1);
	size_t k = 0;
	bool in_str = false;

	if (!out)
		abort();
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (in_str) {
			out[k++] = c;
			if (c == '\\' && i + 1 < len)
				out[k++] = p[++i];
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
			out[k++] = c;
		} else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			out[k++] = c;
		}
	}
	out[k] = '\0';
	*n = k;
	return out;
}

/* Whether ti->meta reads as expect (for telling apart items with one id). */
static inline bool fjson_meta_is(const struct task_info *ti, const json_t *expect, size_t flags)
{
	json_t *m = ti->meta ? json_loadb(ti->meta, ti->meta_len, flags, NULL) : NULL;
	bool same = m && json_equal(m, (json_t *)expect);

	json_decref(m);
	return same;
}

/* ti->meta is expect: equal as JSON, keys in the same order, and its tokens
 * are the answer's own text (a stretch of the minified answer). */
static inline void fjson_check_meta(const struct task_info *ti, const json_t *expect, size_t flags,
				    const char *body_min, size_t body_min_len)
{
	json_error_t je;
	json_t *m = json_loadb(ti->meta, ti->meta_len, flags, &je);
	size_t mn;
	char *mm;

	FUZZ_CHECK(m != NULL, "task %s: meta is not JSON: %s (line %d col %d)\n%s", ti->id, je.text,
		   je.line, je.column, ti->meta);
	FUZZ_CHECK(json_is_object(m), "task %s: meta is not an object", ti->id);
	FUZZ_CHECK(json_equal(m, (json_t *)expect), "task %s: meta is not the answer's object\n%s",
		   ti->id, ti->meta);
	FUZZ_CHECK(fjson_same_order(m, expect), "task %s: meta reorders keys", ti->id);
	json_decref(m);
	mm = fjson_minify(ti->meta, ti->meta_len, &mn);
	FUZZ_CHECK(memmem(body_min, body_min_len, mm, mn) != NULL,
		   "task %s: meta's tokens are not the answer's text\n%s", ti->id, ti->meta);
	free(mm);
}

/* The secrets of pc never reach an error message. */
static inline void fjson_check_secrets(const struct provider_conf *pc, const struct aifs_err *err)
{
	const char *s[] = {pc->api_key, pc->secret_key, pc->access_token};

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		FUZZ_CHECK(!s[i] || !strstr(err->msg, s[i]), "a secret in err->msg: \"%s\"",
			   err->msg);
}

/* The same answer in jansson's own words: compact, keys in order, one
 * spelling per number and string. A parser that reads text and values
 * correctly gives the same result for both (a new string, free()). */
static inline char *fjson_respell(const json_t *root, size_t *len)
{
	char *t = json_dumps(root, JSON_ENCODE_ANY | JSON_COMPACT);

	if (!t)
		abort();
	*len = strlen(t);
	return t;
}

/* a and b are the same task, read from two spellings of one answer. */
static inline void fjson_same_task(const struct task_info *a, size_t fa, const struct task_info *b,
				   size_t fb)
{
	json_t *ma, *mb;

	FUZZ_CHECK(strcmp(a->id, b->id) == 0, "respelt: task \"%s\" became \"%s\"", a->id, b->id);
	FUZZ_CHECK(a->status == b->status && strcmp(a->status_text, b->status_text) == 0,
		   "respelt: task %s status %s became %s", a->id, a->status_text, b->status_text);
	FUZZ_CHECK(a->mtime == b->mtime, "respelt: task %s mtime %lld became %lld", a->id,
		   (long long)a->mtime, (long long)b->mtime);
	FUZZ_CHECK(!a->error == !b->error && (!a->error || strcmp(a->error, b->error) == 0),
		   "respelt: task %s error \"%s\" became \"%s\"", a->id, a->error ? a->error : "",
		   b->error ? b->error : "");
	FUZZ_CHECK(a->n_outputs == b->n_outputs, "respelt: task %s has %zu outputs, then %zu",
		   a->id, a->n_outputs, b->n_outputs);
	for (size_t i = 0; i < a->n_outputs; i++)
		FUZZ_CHECK(strcmp(a->outputs[i].name, b->outputs[i].name) == 0 &&
			       strcmp(a->outputs[i].url, b->outputs[i].url) == 0,
			   "respelt: task %s output %s became %s", a->id, a->outputs[i].name,
			   b->outputs[i].name);
	ma = json_loadb(a->meta, a->meta_len, fa, NULL);
	mb = json_loadb(b->meta, b->meta_len, fb, NULL);
	FUZZ_CHECK(ma && mb && json_equal(ma, mb), "respelt: task %s meta differs", a->id);
	json_decref(ma);
	json_decref(mb);
}

static inline void fjson_same_page(const struct provider_page *a, size_t fa,
				   const struct provider_page *b, size_t fb)
{
	FUZZ_CHECK(a->n_tasks == b->n_tasks && a->skipped == b->skipped && a->last == b->last,
		   "respelt: %zu tasks (%zu skipped, last %d) became %zu (%zu, %d)", a->n_tasks,
		   a->skipped, a->last, b->n_tasks, b->skipped, b->last);
	for (size_t i = 0; i < a->n_tasks; i++)
		fjson_same_task(a->tasks[i], fa, b->tasks[i], fb);
}

enum fjson_op { FJSON_LIST, FJSON_GET, FJSON_TOKEN, FJSON_CREATE, FJSON_DELETE };

/* What every parse result says about errors, whatever the answer. */
static inline void fjson_check_err(const struct provider_conf *pc, enum fjson_op op, int rc,
				   const struct http_resp *resp, const struct aifs_err *err)
{
	FUZZ_CHECK(err->http_status == resp->status, "err->http_status %ld for HTTP %ld",
		   err->http_status, resp->status);
	fjson_check_secrets(pc, err);
	FUZZ_CHECK(!fuzz_has_ctrl(err->msg, strlen(err->msg)), "err->msg is not one line: \"%s\"",
		   err->msg);
	if (rc == 0)
		return;
	FUZZ_CHECK(rc == -EACCES || rc == -EAGAIN || rc == -EIO || rc == -ENOMEM ||
		       (rc == -ENOENT && (op == FJSON_GET || op == FJSON_DELETE)) ||
		       (rc == -EOPNOTSUPP &&
			(op == FJSON_LIST || op == FJSON_CREATE || op == FJSON_DELETE)) ||
		       (rc == -EINVAL && (op == FJSON_CREATE || op == FJSON_DELETE)) ||
		       (rc == -EBUSY && op == FJSON_DELETE),
		   "undocumented errno %d (%s) for op %d", rc, aifs_errno_name(rc), (int)op);
	FUZZ_CHECK(err->code == rc, "err->code %d, returned %d", err->code, rc);
	FUZZ_CHECK(err->msg[0] != '\0', "no message for %d", rc);
	if (rc == -EAGAIN)
		FUZZ_CHECK(err->retry == AIFS_RETRY_THROTTLED, "-EAGAIN with retry %d",
			   (int)err->retry);
	/* a create's 2xx answer read for nothing it states leaves the task
	 * unknown: never a refusal, which would let the label be sent again */
	if (op == FJSON_CREATE && resp->status >= 200 && resp->status <= 299 && !err->pcode[0])
		FUZZ_CHECK(err->retry == AIFS_RETRY_TRANSIENT,
			   "create: HTTP %ld unread (%d) with retry %d", resp->status, rc,
			   (int)err->retry);
}

/* The id of a create's answer: non-empty, one C string, never a control
 * character's worry (the tree encodes names), and what the answer says. */
static inline void fjson_check_id(const char *id, const char *expect)
{
	FUZZ_CHECK(id && *id, "create: an empty id");
	FUZZ_CHECK(expect && strcmp(id, expect) == 0, "create: id \"%s\", the answer says \"%s\"",
		   id, expect ? expect : "(none)");
}

#endif

/* pjson.c: JSON helpers shared by the providers.
 *
 * Fields are read through jansson, leniently: a wrong type is an absent
 * field. meta.json is made from the answer's own text, re-indented token by
 * token, because a jansson round trip changes values (1e2 becomes 100.0,
 * 0.1 becomes 0.10000000000000001, integers past int64 are refused).
 * The text scanner trusts that jansson accepted the same text first, but
 * never reads outside its span. It refuses to know any provider's fields. */
#include "aifs/pjson.h"
#include "aifs/provider.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/buf.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/http.h"

#define PJSON_PRETTY_MAX (64u << 20)

static const char *pjson_what(const json_t *v, int types);

int pjson_load(const char *text, size_t len, struct json_t **out, struct aifs_err *err)
{
	json_error_t je;
	json_t *v;
	char *near;

	*out = NULL;
	/* jansson skips a raw NUL after a number or a literal; the scanner would not */
	if (text && memchr(text, '\0', len))
		return pjson_fail(NULL, err, -EIO, AIFS_RETRY_NO, NULL,
				  "malformed answer: a NUL byte at offset %zu",
				  (size_t)((const char *)memchr(text, '\0', len) - text));
	v = json_loadb(text ? text : "", text ? len : 0, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!v && json_error_code(&je) == json_error_numeric_overflow)
		v = json_loadb(text, len,
			       JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
	if (!v && (near = strstr(je.text, " near ")))
		*near = '\0'; /* jansson quotes up to 20 bytes of the answer: maybe a token */
	if (!v)
		return pjson_fail(NULL, err, -EIO, AIFS_RETRY_NO, NULL,
				  "malformed answer: %s (line %d, column %d)", je.text, je.line,
				  je.column);
	*out = v;
	return 0;
}

const char *pjson_str(const struct json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* A whole number as aifs reads one: an integer, a real with no fraction, or
 * a string of decimal digits ("1743414619"), each within int64. */
static bool pjson_whole(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		/* in range first: converting a larger double to int64_t is undefined */
		if (!(d >= -9.2e18 && d <= 9.2e18) || (double)(int64_t)d != d)
			return false;
		*out = (int64_t)d;
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		char *end;
		long long k;

		if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
			return false;
		errno = 0;
		k = strtoll(s, &end, 10);
		if (errno || *end)
			return false;
		*out = k;
		return true;
	}
	return false;
}

bool pjson_int(const struct json_t *obj, const char *key, int64_t *out)
{
	return pjson_whole(json_is_object(obj) ? json_object_get(obj, key) : NULL, out);
}

const char *pjson_code(const struct json_t *obj, const char *key, char *buf, size_t size)
{
	const char *s = pjson_str(obj, key);
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (s && *s)
		snprintf(buf, size, "%s", s);
	else if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		return NULL;
	return buf;
}

static const char *pjson_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Past the string starting at p (a '"'); NULL when it does not end. */
static const char *pjson_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

static bool pjson_scalar_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '+' || c == '.';
}

/* Past the value starting at p; NULL when there is none. Iterative, so
 * deep nesting costs no stack. */
static const char *pjson_skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return pjson_skip_string(p, end);
	if (*p != '{' && *p != '[') {
		const char *q = p;
		while (q < end && pjson_scalar_char(*q))
			q++;
		return q > p ? q : NULL;
	}
	while (p < end) {
		if (*p == '"') {
			p = pjson_skip_string(p, end);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

/* Whether the quoted key text [p, q) names key; escapes are decoded by jansson. */
static bool pjson_key_is(const char *p, const char *q, const char *key)
{
	size_t n = (size_t)(q - p) - 2;
	json_t *k;
	bool same;

	if (!memchr(p + 1, '\\', n))
		return n == strlen(key) && memcmp(p + 1, key, n) == 0;
	k = json_loadb(p, (size_t)(q - p), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	same = json_is_string(k) && json_string_length(k) == strlen(key) &&
	       memcmp(json_string_value(k), key, strlen(key)) == 0;
	json_decref(k);
	return same;
}

int pjson_member(struct pjson_span obj, const char *key, struct pjson_span *out)
{
	const char *end = obj.p + obj.len, *p = pjson_skip_ws(obj.p, end);
	bool found = false;

	if (p >= end || *p != '{')
		return -EIO;
	p = pjson_skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return -ENOENT;
	while (p < end) {
		const char *k = p, *kend, *v, *vend;

		if (*k != '"' || !(kend = pjson_skip_string(k, end)))
			return -EIO;
		p = pjson_skip_ws(kend, end);
		if (p >= end || *p != ':')
			return -EIO;
		v = pjson_skip_ws(p + 1, end);
		vend = pjson_skip_value(v, end);
		if (!vend)
			return -EIO;
		if (pjson_key_is(k, kend, key)) {
			out->p = v;
			out->len = (size_t)(vend - v);
			found = true;
		}
		p = pjson_skip_ws(vend, end);
		if (p < end && *p == '}')
			return found ? 0 : -ENOENT;
		if (p >= end || *p != ',')
			return -EIO;
		p = pjson_skip_ws(p + 1, end);
	}
	return -EIO;
}

int pjson_elements(struct pjson_span arr, struct pjson_span **out, size_t *n)
{
	const char *end = arr.p + arr.len, *p = pjson_skip_ws(arr.p, end);
	struct pjson_span *v = NULL;
	size_t count = 0, alloc = 0;
	int rc = -EIO;

	*out = NULL;
	*n = 0;
	if (p >= end || *p != '[')
		return -EIO;
	p = pjson_skip_ws(p + 1, end);
	if (p < end && *p == ']')
		return 0;
	while (p < end) {
		const char *vend = pjson_skip_value(p, end);

		if (!vend)
			goto out;
		if (count == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			struct pjson_span *nv = realloc(v, na * sizeof *nv);
			if (!nv) {
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
			alloc = na;
		}
		v[count].p = p;
		v[count].len = (size_t)(vend - p);
		count++;
		p = pjson_skip_ws(vend, end);
		if (p < end && *p == ']') {
			*out = v;
			*n = count;
			return 0;
		}
		if (p >= end || *p != ',')
			goto out;
		p = pjson_skip_ws(p + 1, end);
	}
out:
	free(v);
	return rc;
}

static int pjson_newline(struct buf *b, int level)
{
	int rc = buf_append(b, "\n", 1);

	for (int i = 0; rc == 0 && i < level; i++)
		rc = buf_append(b, "  ", 2);
	return rc;
}

int pjson_pretty(struct pjson_span v, char **out, size_t *len)
{
	const char *p = v.p, *end = v.p + v.len;
	struct buf b;
	int level = 0, rc = 0;

	*out = NULL;
	*len = 0;
	buf_init(&b, PJSON_PRETTY_MAX);
	while (rc == 0 && (p = pjson_skip_ws(p, end)) < end) {
		const char *q;

		switch (*p) {
		case '{':
		case '[':
			q = pjson_skip_ws(p + 1, end);
			if (q < end && *q == (*p == '{' ? '}' : ']')) {
				rc = buf_append(&b, *p == '{' ? "{}" : "[]", 2);
				p = q + 1;
			} else {
				rc = buf_append(&b, p++, 1);
				if (rc == 0)
					rc = pjson_newline(&b, ++level);
			}
			break;
		case '}':
		case ']':
			if (--level < 0) {
				rc = -EIO;
				break;
			}
			rc = pjson_newline(&b, level);
			if (rc == 0)
				rc = buf_append(&b, p++, 1);
			break;
		case ',':
			rc = buf_append(&b, p++, 1);
			if (rc == 0)
				rc = pjson_newline(&b, level);
			break;
		case ':':
			rc = buf_append(&b, ": ", 2);
			p++;
			break;
		default:
			q = pjson_skip_value(p, end);
			if (!q || *p == '{' || *p == '[') {
				rc = -EIO;
				break;
			}
			rc = buf_append(&b, p, (size_t)(q - p));
			p = q;
			break;
		}
	}
	if (rc == 0 && (level != 0 || b.len == 0))
		rc = -EIO;
	if (rc == 0)
		rc = buf_append(&b, "\n", 1);
	if (rc == 0)
		*out = buf_steal(&b, len);
	buf_free(&b);
	return rc == -E2BIG ? -EIO : rc;
}

/* Replaces each occurrence of secret in s with "***", in place. */
static void pjson_mask(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *hit;

	if (n < 4)
		return;
	while ((hit = strstr(s, secret)) != NULL) {
		memcpy(hit, "***", 3);
		memmove(hit + 3, hit + n, strlen(hit + n) + 1);
	}
}

int pjson_fail(const struct provider_conf *pc, struct aifs_err *err, int code,
	       enum aifs_retry retry, const char *pcode, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	for (char *s = text; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
	if (pc) {
		pjson_mask(text, pc->api_key);
		pjson_mask(text, pc->secret_key);
		pjson_mask(text, pc->access_token);
	}
	aifs_err_set(err, code, "%s", text);
	err->retry = retry;
	aifs_text_cut(err->pcode, sizeof err->pcode, pcode ? pcode : "");
	for (char *s = err->pcode; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
	return code;
}

int pjson_need_object(const struct provider_conf *pc, const json_t *root, struct aifs_err *err)
{
	if (json_is_object(root))
		return 0;
	return pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s, not an object",
			  pjson_what(root, 0));
}

int pjson_task_fail(const struct provider_conf *pc, struct aifs_err *err, int code, const char *why)
{
	if (code == -ENOMEM)
		return pjson_fail(pc, err, code, AIFS_RETRY_NO, NULL, "out of memory");
	return pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL, "malformed answer: %s",
			  why && *why ? why : "unreadable object");
}

int pjson_http_error(const struct provider_conf *pc, const struct http_resp *resp, bool list,
		     struct aifs_err *err)
{
	json_t *body = json_loadb(resp->body ? resp->body : "", resp->body ? resp->len : 0,
				  JSON_DECODE_ANY, NULL);
	const json_t *src = body;
	const char *code, *msg;
	char cbuf[64];
	int rc = -EIO;
	enum aifs_retry retry = AIFS_RETRY_NO;
	long st = resp->status;

	if (json_is_object(json_object_get(body, "error")))
		src = json_object_get(body, "error");
	code = pjson_code(src, "code", cbuf, sizeof cbuf);
	msg = pjson_str(src, "message");
	if (!msg)
		msg = pjson_str(src, "msg");
	if (!msg && json_is_object(body))
		msg = pjson_str(body, "error");

	if (st == 404 || (list && st == 405))
		rc = list ? -EOPNOTSUPP : -ENOENT;
	else if (st == 401 || st == 403)
		rc = -EACCES;
	else if (st == 429)
		rc = -EAGAIN, retry = AIFS_RETRY_THROTTLED;
	else if (st == 408 || (st >= 500 && st <= 599))
		retry = AIFS_RETRY_TRANSIENT;

	/* the log line names status and code already: the message is the provider's */
	if (msg && *msg)
		pjson_fail(pc, err, rc, retry, code, "%s", msg);
	else
		pjson_fail(pc, err, rc, retry, code, "HTTP %ld", st);
	err->http_status = st;
	err->retry_after = resp->retry_after;
	json_decref(body);
	return rc;
}

int pjson_create_error(const struct provider_conf *pc, const struct http_resp *resp,
		       struct aifs_err *err)
{
	/* a list's reading of 404 and 405: the API has no such call */
	int rc = pjson_http_error(pc, resp, true, err);

	if (resp->status == 400)
		err->code = rc = -EINVAL;
	else if (resp->status == 303)
		err->retry = AIFS_RETRY_TRANSIENT; /* made, and shown elsewhere: maybe */
	return rc;
}

int pjson_create_unread(struct aifs_err *err, int code)
{
	if (code < 0 && err->pcode[0] == '\0' && err->retry == AIFS_RETRY_NO)
		err->retry = AIFS_RETRY_TRANSIENT;
	return code;
}

int pjson_page(const struct provider_conf *pc, const json_t *list, const struct pjson_span *raw,
	       size_t n, const char *id_key, const char *status_key, pjson_task_fn make, int hint,
	       struct provider_page *out, struct aifs_err *err)
{
	out->tasks = calloc(n ? n : 1, sizeof *out->tasks);
	if (!out->tasks)
		return pjson_fail(pc, err, -ENOMEM, AIFS_RETRY_NO, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_array_get(list, i);
		const json_t *idv = json_object_get(item, id_key);
		const char *id = pjson_str(item, id_key);
		char why[128] = "";
		int rc = -EBADMSG;

		/* One bad item costs itself, not the page; the first says why in the log. */
		if (!json_is_object(item))
			snprintf(why, sizeof why, "%s, not an object", pjson_what(item, 0));
		else if (!idv)
			snprintf(why, sizeof why, "no %s", id_key);
		else if (!json_is_string(idv))
			snprintf(why, sizeof why, "%s is %s", id_key, pjson_what(idv, PJ_STR));
		else if (!id || !*id)
			snprintf(why, sizeof why, "%s is %s", id_key,
				 id ? "empty" : "a string holding a NUL byte");
		else if (!json_object_get(item, status_key))
			snprintf(why, sizeof why, "no %s", status_key);
		else
			rc = make(id, item, raw[i], hint, &out->tasks[out->n_tasks], why,
				  sizeof why);
		if (rc == -ENOMEM)
			return pjson_fail(pc, err, rc, AIFS_RETRY_NO, NULL, "out of memory");
		if (rc == 0) {
			out->n_tasks++;
			continue;
		}
		if (out->skipped++ == 0)
			snprintf(out->skip_why, sizeof out->skip_why, "item %zu of %zu: %s", i + 1,
				 n, why[0] ? why : "unreadable");
	}
	if (n > 0 && out->n_tasks == 0)
		return pjson_fail(pc, err, -EIO, AIFS_RETRY_NO, NULL,
				  "malformed answer: no item is a task (%s)", out->skip_why);
	return 0;
}

static bool pjson_type_ok(const json_t *v, int types)
{
	int64_t n;

	if (json_is_string(v))
		return (types & PJ_STR) || ((types & PJ_NUM) && pjson_whole(v, &n));
	if (json_is_number(v))
		return (types & PJ_NUM) && pjson_whole(v, &n);
	if (json_is_object(v))
		return types & PJ_OBJ;
	if (json_is_array(v))
		return types & PJ_ARR;
	if (json_is_null(v))
		return types & PJ_NULL;
	return types & PJ_BOOL;
}

/* What v is, for a message about a field that may not be it; never its
 * value, which may be a secret. */
static const char *pjson_what(const json_t *v, int types)
{
	if (!v)
		return "missing";
	if (json_is_string(v) && (types & PJ_NUM)) {
		size_t n = json_string_length(v);
		if (n > 0 && strspn(json_string_value(v), "0123456789") == n)
			return "a string of digits out of range";
		return "a string that is not all digits";
	}
	if (json_is_number(v) && (types & PJ_NUM)) /* an integer would be whole */
		return fabs(json_real_value(v)) <= 9.2e18 ? "a number with a fraction"
							  : "a number out of range";
	if (json_is_string(v))
		return "a string";
	if (json_is_number(v))
		return "a number";
	if (json_is_object(v))
		return "an object";
	if (json_is_array(v))
		return "an array";
	if (json_is_null(v))
		return "null";
	return "a boolean";
}

const char *pjson_type_name(const struct json_t *v)
{
	return pjson_what(v, 0);
}

bool pjson_shape(const struct json_t *obj, const struct pjson_field *fields, size_t n, char *why,
		 size_t size)
{
	for (size_t i = 0; i < n; i++) {
		const char *path = fields[i].path, *dot;
		const json_t *v = obj;

		/* "a.b.c": each step down an object; a missing step is a missing field */
		while ((dot = strchr(path, '.')) != NULL) {
			char key[64];
			snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
			v = json_object_get(v, key);
			path = dot + 1;
		}
		v = json_object_get(v, path);
		if (!v && fields[i].required) {
			snprintf(why, size, "no %s", fields[i].path);
			return false;
		}
		if (v && !pjson_type_ok(v, fields[i].types)) {
			snprintf(why, size, "%s is %s", fields[i].path,
				 pjson_what(v, fields[i].types));
			return false;
		}
	}
	return true;
}

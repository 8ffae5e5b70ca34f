/* pjson.h: what the providers share for reading answers: lenient field
 * access, the exact text of a JSON value, pretty-printing that keeps that
 * text, and the reading of HTTP error answers. Used by src/provider/ only.
 *
 * jansson stays out of this header (make lint): json_t is its struct json_t. */
#ifndef AIFS_PJSON_H
#define AIFS_PJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aifs/err.h"

struct http_resp;
struct json_t;
struct provider_conf;
struct provider_page;
struct task_info;

/* A stretch of JSON text; borrowed from the answer it lies in. */
struct pjson_span {
	const char *p;
	size_t len;
};

/* Parses a whole answer into a new value (json_decref()). Integers too big
 * for int64 are read as reals rather than refused (their exact text lives on
 * in the span). -EIO "malformed answer: ..." with err filled otherwise. */
int pjson_load(const char *text, size_t len, struct json_t **out, struct aifs_err *err);

/* Fields that tolerate a wrong type by being absent. obj may be NULL or not
 * an object. pjson_str: borrowed, NULL unless a string without NUL bytes.
 * pjson_int: a whole number: an integer, a real with no fraction, or a
 * string of decimal digits ("1743414619"), within int64. */
const char *pjson_str(const struct json_t *obj, const char *key);
bool pjson_int(const struct json_t *obj, const char *key, int64_t *out);
/* A code given as a string or an integer, as text in buf; NULL otherwise. */
const char *pjson_code(const struct json_t *obj, const char *key, char *buf, size_t size);

/* The text of obj's member key (the last one, as jansson keeps); -ENOENT
 * when absent, -EIO when obj is not an object. The input must be JSON that
 * pjson_load() accepted. */
int pjson_member(struct pjson_span obj, const char *key, struct pjson_span *out);
/* The texts of arr's elements into a new array (free()); -EIO when not an array. */
int pjson_elements(struct pjson_span arr, struct pjson_span **out, size_t *n);

/* The JSON types a field may have (a mask). */
enum {
	PJ_STR = 1,
	PJ_NUM = 2, /* a whole number as pjson_int() reads one, digit strings too */
	PJ_OBJ = 4,
	PJ_ARR = 8,
	PJ_NULL = 16,
	PJ_BOOL = 32,
};

/* "a string", "a number", "an object", "an array", "null", "a boolean", or
 * "missing" for NULL: what a value is, for messages that must not quote it. */
const char *pjson_type_name(const struct json_t *v);

/* One field aifs reads: "key", or a path down objects ("key.sub.leaf"). */
struct pjson_field {
	const char *path;
	int types;
	bool required;
};

/* True when every field listed is present where required and of one of its
 * types; else false with why (size bytes) naming the first field that is
 * not, and what it is: "no status", "status is a number", "created_at is a
 * string that is not all digits". Never a value: it may be a secret. */
bool pjson_shape(const struct json_t *obj, const struct pjson_field *fields, size_t n, char *why,
		 size_t size);

/* Builds one task from a list item with id and its text; 0, -ENOMEM, or
 * another -errno to leave the item out, with why (size bytes) saying what
 * is wrong with it. */
typedef int (*pjson_task_fn)(const char *id, const struct json_t *item, struct pjson_span raw,
			     int hint, struct task_info **out, char *why, size_t size);

/* Fills out with a task for every item of the array list (raw: its
 * elements' texts, n of them) that has a string id_key and a status_key;
 * the others are counted in out->skipped, and out->skip_why says why the
 * first was left out ("item 3 of 15: no id"). A page of items none of
 * which is a task is malformed: -EIO. 0 or -errno with err filled. */
int pjson_page(const struct provider_conf *pc, const struct json_t *list, const struct pjson_span *raw,
	       size_t n, const char *id_key, const char *status_key, pjson_task_fn make, int hint,
	       struct provider_page *out, struct aifs_err *err);
/* v re-indented as JSON_INDENT(2) would, each token kept byte for byte, and
 * "\n": a new string (free()). */
int pjson_pretty(struct pjson_span v, char **out, size_t *len);

/* Fills err: code, retry, pcode (NULL: ""), and the formatted message made
 * one line, with pc's secrets masked. Returns code. */
int pjson_fail(const struct provider_conf *pc, struct aifs_err *err, int code,
	       enum aifs_retry retry, const char *pcode, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* 0 when root is an object, else -EIO "malformed answer: an array, not an
 * object" with err filled. */
int pjson_need_object(const struct provider_conf *pc, const struct json_t *root,
		      struct aifs_err *err);

/* Fills err for a task that could not be built (code from a pjson_task_fn,
 * why its text): -ENOMEM stays, anything else is a malformed answer, -EIO.
 * Returns the errno. */
int pjson_task_fail(const struct provider_conf *pc, struct aifs_err *err, int code,
		    const char *why);

/* Maps a non-200 answer to -errno and fills err, taking the provider's code
 * and message from {"error":{"code","message"}} or {"code","msg"} bodies:
 * 404 -> -ENOENT (get) / -EOPNOTSUPP (list, 405 too), 401/403 -> -EACCES,
 * 429 -> -EAGAIN THROTTLED, 408/5xx -> -EIO TRANSIENT, else -EIO. */
int pjson_http_error(const struct provider_conf *pc, const struct http_resp *resp, bool list,
		     struct aifs_err *err);

/* pjson_http_error() for a create's non-2xx answer, as provider.h's
 * create_parse says: 400 -> -EINVAL, 404/405 -> -EOPNOTSUPP, 303 (done,
 * see there) -> -EIO TRANSIENT, the rest as pjson_http_error(). */
int pjson_create_error(const struct provider_conf *pc, const struct http_resp *resp,
		       struct aifs_err *err);

/* After a create_parse of a 2xx answer failed: a failure the answer did not
 * state (no provider code: unreadable, no id, out of memory) leaves the task
 * unknown, so its retry becomes TRANSIENT. Returns code. */
int pjson_create_unread(struct aifs_err *err, int code);

#endif

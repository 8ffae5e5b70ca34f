/* tfix.h: fixtures for the provider tests: canned HTTP answers read from
 * tests/fixtures/, checks that meta.json is the provider's own object, and
 * a provider's config keys in one line. */
#ifndef AIFS_TFIX_H
#define AIFS_TFIX_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/provider.h"
#include "aifs/task.h"

/* The whole file, NUL-terminated; NULL when unreadable. */
static inline char *tfix_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

static inline void tfix_text(struct http_resp *r, long status, const char *text)
{
	memset(r, 0, sizeof *r);
	r->status = status;
	r->retry_after = -1;
	r->len = strlen(text);
	r->body = strdup(text);
}

/* A canned answer; an unreadable fixture gives status 0, which every test fails. */
static inline void tfix_resp(struct http_resp *r, long status, const char *path)
{
	memset(r, 0, sizeof *r);
	r->retry_after = -1;
	r->body = tfix_read(path, &r->len);
	r->status = r->body ? status : 0;
	if (!r->body)
		fprintf(stderr, "  cannot read %s\n", path);
}

/* list_parse of the canned answer r (cleared here) as page of listing. */
static inline int tfix_list(const struct provider_ops *ops, const struct provider_conf *pc,
			    int listing, int page, struct http_resp *r, struct provider_page *pg,
			    struct aifs_err *err)
{
	int rc;

	aifs_err_clear(err);
	rc = ops->list_parse(pc, listing, page, r, pg, err);
	http_resp_clear(r);
	return rc;
}

/* get_parse of the canned answer r (cleared here) for id. */
static inline int tfix_get(const struct provider_ops *ops, const struct provider_conf *pc,
			   const char *id, struct http_resp *r, struct task_info **ti,
			   struct aifs_err *err)
{
	int rc;

	aifs_err_clear(err);
	rc = ops->get_parse(pc, id, r, ti, err);
	http_resp_clear(r);
	return rc;
}

/* Parses a synthetic list page (body: taken, freed here) with ops and pc as
 * page of listing 0; tells whether it was the last and how many tasks it
 * held. Returns what list_parse returned, or -ENOMEM. */
static inline int tfix_page_last(const struct provider_ops *ops, const struct provider_conf *pc,
				 char *body, int page, bool *last, size_t *n_tasks)
{
	struct provider_page pg;
	struct aifs_err err;
	struct http_resp r = { .status = 200, .retry_after = -1 };
	int rc;

	if (!body)
		return -ENOMEM;
	r.body = body;
	r.len = strlen(body);
	rc = tfix_list(ops, pc, 0, page, &r, &pg, &err);
	*last = pg.last;
	*n_tasks = pg.n_tasks;
	provider_page_clear(&pg);
	return rc;
}

static inline struct task_info *tfix_find(const struct provider_page *pg, const char *id)
{
	for (size_t i = 0; i < pg->n_tasks; i++)
		if (strcmp(pg->tasks[i]->id, id) == 0)
			return pg->tasks[i];
	return NULL;
}

static inline const char *tfix_output(const struct task_info *ti, const char *name)
{
	for (size_t i = 0; i < ti->n_outputs; i++)
		if (strcmp(ti->outputs[i].name, name) == 0)
			return ti->outputs[i].url;
	return NULL;
}

static inline json_t *tfix_json(const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	return v ? v
		 : json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
			      NULL);
}

/* Same keys in the same order, all the way down. */
static inline bool tfix_same_order(const json_t *a, const json_t *b)
{
	if (json_is_object(a) && json_is_object(b)) {
		void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
		for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
				 ib = json_object_iter_next((json_t *)b, ib))
			if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
			    !tfix_same_order(json_object_iter_value(ia),
					     json_object_iter_value(ib)))
				return false;
		return !ia && !ib;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!tfix_same_order(json_array_get(a, i), json_array_get(b, i)))
				return false;
	}
	return true;
}

/* meta is expect: equal as JSON, keys in the same order, one final newline. */
static inline bool tfix_meta_is(const struct task_info *ti, const json_t *expect)
{
	json_t *m;
	bool ok;

	if (!ti->meta || ti->meta_len < 2 || strlen(ti->meta) != ti->meta_len ||
	    ti->meta[ti->meta_len - 1] != '\n' || ti->meta[ti->meta_len - 2] == '\n')
		return false;
	m = tfix_json(ti->meta, ti->meta_len);
	ok = m && json_equal(m, (json_t *)expect) && tfix_same_order(m, expect);
	json_decref(m);
	return ok;
}

/* meta is also, byte for byte, what jansson's JSON_INDENT(2) writes. */
static inline bool tfix_meta_is_dump(const struct task_info *ti, const json_t *expect)
{
	char *d = json_dumps(expect, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	bool ok = d && ti->meta && strlen(d) + 1 == ti->meta_len &&
		  strncmp(d, ti->meta, strlen(d)) == 0 && ti->meta[strlen(d)] == '\n';
	free(d);
	return ok;
}

/* A provider's config keys as "name:kind@offset ...", for one CHECK_STR. */
static inline const char *tfix_keys(const struct provider_key *k)
{
	static const char *const kinds[] = { "text", "secret", "list" };
	static char out[256];
	size_t n = 0;

	out[0] = '\0';
	for (; k->name && n < sizeof out; k++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s:%s@%zu", n ? " " : "",
				      k->name, kinds[k->kind], k->field);
	return out;
}

#endif

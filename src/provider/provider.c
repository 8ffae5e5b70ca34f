/* provider.c: the table of API families, the page that every list parser
 * fills, and the check that a create request is one JSON object.
 *
 * It refuses to know any family's requests, answers or config keys: adding
 * a family is its file and one line in provider_table. */
#include "aifs/provider.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aifs/task.h"

static const struct provider_ops *const provider_table[] = {
	&provider_ark,
	&provider_chanjing,
};

const struct provider_ops *provider_find(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof provider_table / sizeof provider_table[0]; i++)
		if (strcasecmp(provider_table[i]->type, type) == 0)
			return provider_table[i];
	return NULL;
}

const struct provider_ops *provider_at(size_t i)
{
	return i < sizeof provider_table / sizeof provider_table[0] ? provider_table[i] : NULL;
}

void provider_page_clear(struct provider_page *pg)
{
	if (!pg)
		return;
	for (size_t i = 0; i < pg->n_tasks; i++)
		task_info_unref(pg->tasks[i]);
	free(pg->tasks);
	*pg = (struct provider_page){ 0 };
}

static bool provider_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether p (len bytes) ends inside a UTF-8 character: a lead byte that
 * wants more continuation bytes than follow it. */
static bool provider_utf8_cut(const char *p, size_t len)
{
	for (size_t back = 1; back <= 4 && back <= len; back++) {
		unsigned char c = (unsigned char)p[len - back];
		size_t want;

		if ((c & 0xC0) == 0x80)
			continue; /* a continuation byte: look further back */
		want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
		return want > back;
	}
	return false;
}

int provider_request_check(const char *buf, size_t len, char *why, size_t size)
{
	json_error_t je;
	json_t *v;
	size_t i = 0, end;
	const char *nul = len ? memchr(buf, '\0', len) : NULL;
	char *near;

	if (size)
		why[0] = '\0';
	while (i < len && provider_json_ws(buf[i]))
		i++;
	if (i == len) {
		snprintf(why, size, "empty");
		return -EINVAL;
	}
	if (nul) {
		snprintf(why, size, "a NUL byte at byte %zu", (size_t)(nul - buf));
		return -EINVAL;
	}
	if (len - i >= 3 && !memcmp(buf + i, "\xEF\xBB\xBF", 3)) {
		snprintf(why, size, "a byte-order mark before the object");
		return -EINVAL;
	}
	if (buf[i] != '{') {
		snprintf(why, size, buf[i] == '[' ? "a JSON array, not an object" : "not a JSON object");
		return -EINVAL;
	}
	/* The first value only, so that what follows it can be named. \u0000 is
	 * valid JSON; integers past int64 are too. */
	v = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &je);
	if (!v && json_error_code(&je) == json_error_numeric_overflow)
		v = json_loadb(buf, len,
			       JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
	if (v) {
		json_decref(v);
		end = (size_t)je.position; /* the bytes the object took */
		while (end < len && provider_json_ws(buf[end]))
			end++;
		if (end == len)
			return 0;
		snprintf(why, size, "more after the object at byte %zu", end);
		return -EINVAL;
	}
	switch (json_error_code(&je)) {
	case json_error_out_of_memory:
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	case json_error_premature_end_of_input:
		snprintf(why, size, "JSON ends early at byte %zu", len);
		return -EINVAL;
	case json_error_invalid_utf8:
		if (provider_utf8_cut(buf, len))
			snprintf(why, size, "JSON ends early at byte %zu", len);
		else
			snprintf(why, size, "invalid UTF-8 at byte %d", je.position);
		return -EINVAL;
	case json_error_stack_overflow:
		snprintf(why, size, "nested too deep at byte %d", je.position);
		return -EINVAL;
	default:
		break;
	}
	/* a token cut by the end ("tru", "1e", "\\") is an early end too */
	if ((size_t)je.position >= len) {
		snprintf(why, size, "JSON ends early at byte %zu", len);
		return -EINVAL;
	}
	if ((near = strstr(je.text, " near ")))
		*near = '\0'; /* jansson would quote the request */
	snprintf(why, size, "invalid JSON at byte %d: %s", je.position, je.text);
	return -EINVAL;
}

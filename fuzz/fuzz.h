/* fuzz.h: what the fuzz targets share: the libFuzzer entry point, the
 * check that turns a broken invariant into a crash libFuzzer keeps, and the
 * invariants every parsed task_info must hold.
 *
 * Each fuzz_*.c defines LLVMFuzzerTestOneInput and fuzz_target_name; the
 * same file links either with libFuzzer (make fuzz, clang) or with
 * replay.c (make fuzz-replay, any compiler). */
#ifndef AIFS_FUZZ_H
#define AIFS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aifs/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "ark", "config", ...: replay.c finds fuzz/corpus/NAME and fuzz/regressions/NAME-*. */
extern const char fuzz_target_name[];

/* A broken invariant: say which and abort, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "\nINVARIANT FAILED %s:%d: %s\n  ", __FILE__, __LINE__,    \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A NUL-terminated copy of n bytes (which may hold NULs themselves). */
static inline char *fuzz_dup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static inline bool fuzz_has_ctrl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* An output file name: one harmless path component. */
static inline bool fuzz_name_safe(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n <= 255 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       !strchr(name, '/') && !fuzz_has_ctrl(name, n);
}

/* What every task_info a parser hands out must hold, whatever the answer. */
static inline void fuzz_check_task(const struct task_info *ti)
{
	static const char *const words[] = {"queued\n", "running\n",   "succeeded\n",
					    "failed\n", "cancelled\n", "expired\n"};
	bool failed;

	FUZZ_CHECK(ti != NULL, "a parser succeeded without a task");
	FUZZ_CHECK(ti->refs == 1, "a new task holds %d references", ti->refs);
	FUZZ_CHECK(ti->id && *ti->id, "empty id");
	FUZZ_CHECK(ti->status >= TASK_QUEUED && ti->status <= TASK_OTHER, "status %d",
		   (int)ti->status);

	FUZZ_CHECK(ti->status_text && ti->status_len >= 2 &&
		       strlen(ti->status_text) == ti->status_len,
		   "status_text length %zu", ti->status_len);
	FUZZ_CHECK(ti->status_text[ti->status_len - 1] == '\n' &&
		       !fuzz_has_ctrl(ti->status_text, ti->status_len - 1),
		   "status_text \"%s\" is not one line ending in \\n", ti->status_text);
	FUZZ_CHECK(ti->status_text[0] != ' ' && ti->status_text[ti->status_len - 2] != ' ',
		   "status_text \"%s\" has blanks around it", ti->status_text);
	if (ti->status != TASK_OTHER)
		FUZZ_CHECK(strcmp(ti->status_text, words[ti->status]) == 0,
			   "status %d shown as \"%s\"", (int)ti->status, ti->status_text);

	FUZZ_CHECK(ti->meta && ti->meta_len >= 3 && strlen(ti->meta) == ti->meta_len,
		   "meta length %zu", ti->meta_len);
	FUZZ_CHECK(ti->meta[ti->meta_len - 1] == '\n' && ti->meta[ti->meta_len - 2] != '\n',
		   "meta does not end in exactly one \\n");

	failed = ti->status == TASK_FAILED || ti->status == TASK_EXPIRED;
	FUZZ_CHECK(!ti->error == !failed, "error %s for status %s", ti->error ? "set" : "unset",
		   ti->status_text);
	if (ti->error)
		FUZZ_CHECK(ti->error_len >= 2 && strlen(ti->error) == ti->error_len &&
			       ti->error[ti->error_len - 1] == '\n',
			   "error text of %zu bytes does not end in \\n", ti->error_len);

	FUZZ_CHECK(ti->n_outputs <= TASK_MAX_OUTPUTS, "%zu outputs", ti->n_outputs);
	for (size_t i = 0; i < ti->n_outputs; i++) {
		const struct task_output *o = &ti->outputs[i];

		FUZZ_CHECK(fuzz_name_safe(o->name), "output name \"%s\" is not one safe component",
			   o->name ? o->name : "(null)");
		FUZZ_CHECK(o->url && (strncasecmp(o->url, "https://", 8) == 0 ||
				      strncasecmp(o->url, "http://", 7) == 0),
			   "output url \"%s\"", o->url ? o->url : "(null)");
		FUZZ_CHECK(!fuzz_has_ctrl(o->url, strlen(o->url)) && !strchr(o->url, ' '),
			   "output url with a blank or control byte");
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(o->name, ti->outputs[j].name) != 0,
				   "output name \"%s\" twice", o->name);
	}
}

#endif

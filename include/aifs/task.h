/* task.h: one generation task as aifs shows it, whatever the provider.
 *
 * A task_info is immutable once built and shared by reference count: the
 * tree swaps in a newer one while open files keep reading the old. */
#ifndef AIFS_TASK_H
#define AIFS_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum task_status {
	TASK_QUEUED,
	TASK_RUNNING,
	TASK_SUCCEEDED,
	TASK_FAILED,
	TASK_CANCELLED,
	TASK_EXPIRED,
	TASK_OTHER, /* a word aifs does not know: shown lowercased, not finished */
};

#define TASK_MAX_OUTPUTS 59 /* with status, meta.json, error, .wait: 6 bits of inode */

struct task_output {
	char *name; /* "video.mp4", "image-2.jpg": a safe single path component */
	char *url;  /* in name's allocation, right after it; NULL for a kept output */
};

struct task_info {
	int refs;
	char *id;            /* in the record's own allocation */
	enum task_status status;
	const char *status_text; /* "succeeded\n"; shared unless TASK_OTHER */
	size_t status_len;
	int64_t mtime;       /* ark updated_at, chanjing create_time; 0 unknown */
	char *meta;          /* the provider's object, pretty JSON and "\n" */
	size_t meta_len;
	char *error;         /* "CODE: MESSAGE\n"; NULL unless failed or expired */
	size_t error_len;    /* 0: the task has no error file */
	bool slim;           /* meta, error and URLs dropped to save memory; the
	                      * lengths, status and output names remain */
	struct task_output *outputs; /* n_outputs of them, owned */
	size_t n_outputs;
};

/* Returns a new, empty task_info with one reference; free with task_info_unref(). */
struct task_info *task_info_new(const char *id);
struct task_info *task_info_ref(struct task_info *ti);
void task_info_unref(struct task_info *ti); /* accepts NULL */

bool task_status_finished(enum task_status st);

/* Ark's words and their lowercase forms; anything else is TASK_OTHER. */
enum task_status task_status_parse(const char *word);

/* Sets status and status_text; for TASK_OTHER, raw is shown lowercased
 * (control characters and newlines dropped; "unknown" when nothing is left). */
int task_info_set_status(struct task_info *ti, enum task_status st, const char *raw);

/* Sets the error text for a failed or expired task: "CODE: MESSAGE\n",
 * "MESSAGE\n", or "task failed\n" / "task expired\n". Either may be NULL or "".
 * Does nothing for other statuses; call after task_info_set_status(). */
int task_info_set_error(struct task_info *ti, const char *code, const char *message);

/* Returns a new slim copy of ti (see task_info.slim), or NULL on ENOMEM. */
struct task_info *task_info_slim(const struct task_info *ti);

/* Whether url can be an output file's: http:// or https:// (any case) and
 * a host, with nothing that could split a request line. Placeholders such
 * as "<SIGNED_VIDEO_URL>", "", ftp:// or "https:///x" are not. */
bool task_url_usable(const char *url);

/* Takes a copy of name and url; -EINVAL when the name is no single safe
 * component or the URL not usable, -E2BIG past TASK_MAX_OUTPUTS. */
int task_info_add_output(struct task_info *ti, const char *name, const char *url);

/* An output kept on disk (the archive), with no URL: name only. 0, -EINVAL,
 * -EEXIST, -E2BIG or -ENOMEM. */
int task_info_add_kept(struct task_info *ti, const char *name);

/* The extension of the URL's path ("mp4" for ".../x.MP4?sig=1" is "MP4"):
 * letters and digits only, 1..8 of them, else def. Writes into out (>= 9 bytes). */
const char *task_url_ext(const char *url, const char *def, char *out, size_t outsz);

#endif

/* journal.h: a label's record on disk (SPEC: "Creating tasks"), encoded and
 * decoded. Pure: no files, no locks.
 *
 *     aifs-label 1\n
 *     state created\n         draft | sending | created | failed | unknown
 *     time 1765000000\n       Unix seconds of the last change
 *     id 26\n<26 bytes>\n     the task made (created)
 *     error 40\n<40 bytes>\n  what LABEL.error shows (failed, unknown)
 *     body 123\n<123 bytes>\n the request, byte for byte
 *
 * Fields come in this order; id and error only when not empty. A record
 * that is not exactly this is refused whole. */
#ifndef AIFS_JOURNAL_H
#define AIFS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_BODY_MAX (1u << 20) /* SPEC: writes are buffered up to 1 MiB */
#define JOURNAL_TEXT_MAX 4096u      /* id, error */

enum label_state { LABEL_DRAFT, LABEL_SENDING, LABEL_CREATED, LABEL_FAILED, LABEL_UNKNOWN };

struct label_rec {
	enum label_state state;
	int64_t time;
	char *id;      /* NUL-terminated; NULL when none */
	size_t id_len;
	char *error;   /* NUL-terminated; NULL when none */
	size_t error_len;
	char *body;    /* NUL-terminated copy of body_len bytes; NULL when empty */
	size_t body_len;
};

/* Encodes r into *out (new, free()); 0, -EINVAL (a field over its cap) or
 * -ENOMEM. */
int journal_encode(const struct label_rec *r, char **out, size_t *len);

/* Decodes buf into r (its fields new; label_rec_clear()). 0, or -EINVAL
 * with why saying what is wrong (r is then empty), or -ENOMEM. */
int journal_decode(const char *buf, size_t len, struct label_rec *r, char *why, size_t size);

void label_rec_clear(struct label_rec *r);

const char *journal_state_name(enum label_state st);

#endif

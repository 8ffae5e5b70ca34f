/* arec.h: the archive's record of one task (SPEC: "Keeping outputs: the
 * archive"), encoded and decoded. Pure: no files, no locks.
 *
 *     aifs-archive 1\n
 *     provider ark\n             the section's name, as in the config
 *     id 24\n<24 bytes>\n        the task's id
 *     status succeeded\n         the status word as shown, without its \n
 *     mtime 1765000000\n         Unix seconds
 *     meta 123\n<123 bytes>\n    meta.json, byte for byte
 *     error 40\n<40 bytes>\n     the error file, byte for byte
 *     outputs 2\n                how many output lines follow
 *     output 1048576 0.png\n     an output's size and its file name
 *     output 2097152 1.png\n
 *
 * Fields come in this order, each exactly once; error only when not empty.
 * Numbers are decimal, without sign or leading zeros. A record that is not
 * exactly this is refused whole: there is one spelling per record. */
#ifndef AIFS_AREC_H
#define AIFS_AREC_H

#include <stddef.h>
#include <stdint.h>

#define AREC_PROVIDER_MAX 255u /* as config.c takes a section's name */
#define AREC_ID_MAX	  4096u
#define AREC_STATUS_MAX	  64u
#define AREC_META_MAX	  (4u << 20)
#define AREC_ERROR_MAX	  4096u
#define AREC_OUTPUTS_MAX  59u
#define AREC_NAME_MAX	  255u

struct arec_output {
	char *name;    /* NUL-terminated; one safe path component */
	uint64_t size; /* at most INT64_MAX */
};

struct arec {
	char *provider; /* NUL-terminated; 1 to 255 bytes, no '/', no leading '.' */
	char *id;	/* NUL-terminated copy of id_len bytes (no NUL among them) */
	size_t id_len;	/* 1 to AREC_ID_MAX */
	char *status;	/* NUL-terminated; "succeeded", no \n, no blanks around */
	int64_t mtime;	/* not negative */
	char *meta;	/* NUL-terminated copy of meta_len bytes; NULL when empty */
	size_t meta_len;
	char *error;	  /* NUL-terminated copy of error_len bytes; NULL when none */
	size_t error_len; /* 0: none */
	size_t n_outputs;
	struct arec_output *outputs; /* n_outputs of them, names distinct */
};

/* Encodes r into *out (new, free()); 0, -EINVAL (a field over its cap or
 * not what the record can hold, as decoding would refuse it) or -ENOMEM. */
int arec_encode(const struct arec *r, char **out, size_t *len);

/* Decodes buf into r (its fields new; arec_clear()). 0, or -EINVAL with
 * why saying what is wrong, or -ENOMEM; on failure r is empty. */
int arec_decode(const char *buf, size_t len, struct arec *r, char *why, size_t size);

/* Frees r's fields and empties it; r itself is the caller's. */
void arec_clear(struct arec *r);

#endif

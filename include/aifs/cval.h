/* cval.h: what cluster mode writes into Redis and reads back, as pure
 * functions: the redis:// URL, account digests, and the encoded values
 * (a shared answer, a label's claim, an access token). A value read from
 * Redis is parsed as defensively as a provider's answer: another mount, an
 * older aifs or anybody with access to that Redis may have written it.
 * Knows no sockets, no threads. */
#ifndef AIFS_CVAL_H
#define AIFS_CVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CVAL_PREFIX "aifs:1:" /* every key: a name and a format version */
#define CVAL_ACCT_HEX 32      /* an account: 128 bits of SHA-256, in hex */
#define CVAL_MAX_VALUE (64u << 20)

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] */
struct redis_url {
	char host[256];
	int port;         /* 6379 unless given */
	int db;           /* 0 unless given */
	char user[128];   /* "" unless given */
	char *password;   /* new (secret_free()), NULL unless given */
};

/* Parses url into *u (its password new). 0, or -EINVAL with why (never
 * showing the password) or -ENOMEM. Percent escapes in user and password
 * are decoded. */
int cval_url_parse(const char *url, struct redis_url *u, char *why, size_t why_size);
void cval_url_clear(struct redis_url *u);
/* "redis://HOST:PORT/DB", for messages: never the password. */
void cval_url_shown(const struct redis_url *u, char *out, size_t size);

/* The account of a provider section: hex of SHA-256 over its type (lower
 * case), base_url and credential parts, NUL-separated; out holds
 * CVAL_ACCT_HEX + 1 bytes. The credential never leaves this digest. */
void cval_account(const char *type, const char *base_url, const char *const *cred, size_t n_cred,
		  char *out);

/* A shared API answer: the HTTP status, the TTL it was stored with
 * (milliseconds; 0 for "for good") and the provider's bytes, unchanged.
 * Encoded as "A1 STATUS TTL_MS\n" and the body. */
char *cval_answer_encode(long status, int64_t ttl_ms, const char *body, size_t len,
			 size_t *out_len);
/* 0 and the parts (body borrowed from v), or -EINVAL. */
int cval_answer_decode(const char *v, size_t n, long *status, int64_t *ttl_ms, const char **body,
		       size_t *len);

/* A label's claim across mounts: S (being sent by the mount named), C (made:
 * the task id), U (sent, outcome unknown: the message). "L1 S text". */
enum cval_label { CVAL_LABEL_SENDING = 'S', CVAL_LABEL_CREATED = 'C', CVAL_LABEL_UNKNOWN = 'U' };
char *cval_label_encode(enum cval_label st, const char *text, size_t *out_len);
/* 0 with *st and the text (borrowed, not NUL-terminated: *len), or -EINVAL. */
int cval_label_decode(const char *v, size_t n, enum cval_label *st, const char **text, size_t *len);

/* An access token and its expiry (Unix seconds, 0 unknown): "T1 EXP\nTOKEN". */
char *cval_token_encode(const char *token, int64_t expires, size_t *out_len);
/* 0 and a new *token (secret_free()), or -EINVAL / -ENOMEM. A token holds
 * printable ASCII only. */
int cval_token_decode(const char *v, size_t n, char **token, int64_t *expires);

#endif

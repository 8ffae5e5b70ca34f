/* provider.h: one interface for every API family.
 *
 * A provider is pure: it builds requests and parses answers into task_info.
 * It knows no threads, no cache and no FUSE; the caller (api.c) performs the
 * requests, rate-limits, retries and refreshes tokens. */
#ifndef AIFS_PROVIDER_H
#define AIFS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aifs_err;
struct http_req;
struct http_resp;
struct provider_conf;
struct task_info;

struct provider_page {
	struct task_info **tasks; /* owned: each holds one reference */
	size_t n_tasks;
	bool last;                /* no page follows this one */
	/* What the answer says of the whole listing, so that the remaining
	 * pages can be asked for at once: its pages (0: it does not say) and
	 * its tasks (-1: it does not say; read only when pages > 0). */
	long pages;
	int64_t total;
	size_t skipped;           /* items left out: no id, no status, a field of a wrong type */
	char skip_why[160];       /* why the first of them was: "item 3 of 15: no id"; "" */
	double age;               /* set by api_list_page(): seconds since the answer came */
};

void provider_page_clear(struct provider_page *pg);

/* A key that a type adds to its config sections, beside aifs's own (type,
 * base_url, insecure_http, ttl, qps, burst, retries, timeout). */
enum provider_key_kind {
	PROVIDER_KEY_TEXT,   /* char *: not empty, no control character */
	PROVIDER_KEY_SECRET, /* char *: as TEXT, also given as NAME_env or NAME_file
			      * (secret.h); wiped when freed */
	PROVIDER_KEY_LIST,   /* enum list_mode: yes, no or auto; auto when not given */
};

struct provider_key {
	const char *name;
	enum provider_key_kind kind;
	size_t field; /* offsetof(struct provider_conf, ...), of the kind's type */
};

/* Every parse function returns 0, or -errno with err filled: code, message,
 * the provider's code, and err->retry for answers worth retrying. The errnos:
 *   -ENOENT      the task does not exist (get only)
 *   -EOPNOTSUPP  the API cannot list (list only: HTTP 404 or 405)
 *   -EACCES      credentials refused (with retry REAUTH when a new token may help)
 *   -EAGAIN      throttled (retry THROTTLED)
 *   -EIO         transient (retry TRANSIENT) or malformed (retry NO)
 * Requests are built into a cleared http_req; cred is the API key or token.
 * Parsers overwrite *out without freeing it, and leave it empty on failure.
 * get_parse's id is the task asked for: an answer without an id is that
 * task, an answer with another id is -EIO. Numbers may come as strings of
 * digits; a field aifs reads of another type is -EIO naming it. */
struct provider_ops {
	const char *type; /* lower case; a config's type matches it in any case */
	int n_listings; /* separate listings a full listing pages through */

	/* The config: the keys this type takes, ending with { NULL }; the qps
	 * when neither the section, -o nor the file's top says (above 0;
	 * burst follows it); and whether a section that read well is
	 * complete: 0, or -EINVAL with err->msg saying what is missing ("no
	 * api_key (or api_key_env, api_key_file)"). */
	const struct provider_key *keys;
	double default_qps;
	int (*conf_check)(const struct provider_conf *pc, struct aifs_err *err);

	int (*list_request)(const struct provider_conf *pc, int listing, int page,
			    const char *cred, struct http_req *req);
	int (*list_parse)(const struct provider_conf *pc, int listing, int page,
			  const struct http_resp *resp, struct provider_page *out,
			  struct aifs_err *err);
	int (*get_request)(const struct provider_conf *pc, const char *id, const char *cred,
			   struct http_req *req);
	int (*get_parse)(const struct provider_conf *pc, const char *id,
			 const struct http_resp *resp, struct task_info **out, struct aifs_err *err);

	/* Token exchange; NULL when the configured credential is used as it is.
	 * Used only when static_cred() gives NULL; -EACCES when pc holds nothing
	 * to exchange (chanjing: app_id and secret_key). */
	int (*token_request)(const struct provider_conf *pc, struct http_req *req);
	/* On success *token is new (free()), *expires_at a Unix time (0: unknown). */
	int (*token_parse)(const struct provider_conf *pc, const struct http_resp *resp,
			   char **token, int64_t *expires_at, struct aifs_err *err);

	/* The credential to send when no token exchange applies; NULL if missing. */
	const char *(*static_cred)(const struct provider_conf *pc);

	/* Creating a task; NULL where the type cannot. body (len bytes, the
	 * provider's own create request) is sent byte for byte. */
	int (*create_request)(const struct provider_conf *pc, const char *body, size_t len,
			      const char *cred, struct http_req *req);
	/* 0 with *id new (free()) when the API made the task; else -errno, and
	 * err->retry says what is known of the task:
	 *   AIFS_RETRY_NO         refused, not made: -EINVAL (HTTP 400, chanjing
	 *                         400/40000), -EACCES (401/403), -EOPNOTSUPP (404
	 *                         or 405: this API cannot create), -EIO (another
	 *                         refusal, its code and message in err)
	 *   AIFS_RETRY_THROTTLED  -EAGAIN: 429, chanjing 40001; not made
	 *   AIFS_RETRY_REAUTH     -EACCES: chanjing 10400/10401; not made
	 *   AIFS_RETRY_TRANSIENT  -EIO: the answer does not say (408, 5xx, 303,
	 *                         chanjing 50000, a success without a readable id,
	 *                         -ENOMEM reading one): the task may exist; only
	 *                         HTTP 503 says it was not taken
	 * Whether to send again is the caller's call: see api_create(). */
	int (*create_parse)(const struct provider_conf *pc, const struct http_resp *resp, char **id,
			    struct aifs_err *err);
	/* Cancelling a queued task or deleting a finished one's record; NULL
	 * where the type cannot. */
	int (*delete_request)(const struct provider_conf *pc, const char *id, const char *cred,
			      struct http_req *req);
	/* 0 done; -ENOENT no such task; -EBUSY the task's state forbids it
	 * (running, cancelled already); -EOPNOTSUPP (405) the API cannot delete;
	 * the rest as every parse. */
	int (*delete_parse)(const struct provider_conf *pc, const struct http_resp *resp,
			    struct aifs_err *err);
};

extern const struct provider_ops provider_ark;
extern const struct provider_ops provider_chanjing;

/* The ops for a type name in any case, NULL when unknown. */
const struct provider_ops *provider_find(const char *type);

/* Whether buf (len bytes) can be a create request: exactly one complete
 * JSON object, white space around it allowed. 0, or -EINVAL with why (size
 * bytes) saying what is wrong in a few words, never quoting buf: "empty",
 * "a JSON array, not an object", "JSON ends early at byte 17", "more after
 * the object at byte 40", "a NUL byte at byte 3". */
int provider_request_check(const char *buf, size_t len, char *why, size_t size);

/* The families in the table's order, for naming them all: NULL past the
 * last. */
const struct provider_ops *provider_at(size_t i);

#endif

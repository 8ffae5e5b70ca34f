/* api.h: a provider's API as blocking calls: rate-limited, retried with
 * backoff, with the access token obtained and refreshed as needed.
 *
 * Every call is bounded: at most retries + 1 attempts of at most timeout
 * seconds each, plus the backoff between them. Safe from any thread. */
#ifndef AIFS_API_H
#define AIFS_API_H

struct aifs_err;
struct http;
struct provider_conf;
struct provider_ops;
struct provider_page;
struct task_info;

struct api;

/* Returns a new api for pc (borrowed, must outlive it) over http (borrowed);
 * free with api_free(). NULL when memory ran out. */
struct api *api_new(const struct provider_conf *pc, const struct provider_ops *ops,
		    struct http *http);
void api_free(struct api *a);

const struct provider_ops *api_ops(const struct api *a);

/* One page of one listing; fills out (see provider.h). 0 or -errno. */
int api_list_page(struct api *a, int listing, int page, struct provider_page *out,
		  struct aifs_err *err);

/* One task; *out is new (task_info_unref()). 0 or -errno (-ENOENT: unknown). */
int api_get(struct api *a, const char *id, struct task_info **out, struct aifs_err *err);

/* The longest a call can take, seconds: for bounding waits on shared calls. */
double api_deadline(const struct api *a);

#endif

/* media_int.h: what the download engine (media.c) and the size probe
 * (probe.c) share: the engine's struct, making an output's size and
 * validator, and reading an answer that is not the one wanted. Private to
 * those two files; nothing else includes it (make lint). */
#ifndef AIFS_MEDIA_INT_H
#define AIFS_MEDIA_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "aifs/http.h"
#include "aifs/media.h"
#include "aifs/strmap.h"

struct aifs_err;
struct blobcache;
struct pool;

/* The engine, one per mount: media_new() builds it. */
struct media {
	struct http *http;        /* borrowed */
	struct blobcache *cache;  /* borrowed */
	struct media_opts o;
	struct http_opts hopts;
	struct pool *dl;          /* the download threads, from media_start() */
	pthread_mutex_t mu;       /* files map, probe count */
	pthread_cond_t probe_cv;  /* a probe ended */
	int probing;              /* probes under way, at most o.probes */
	struct strmap files;      /* key -> struct media_file, open or downloading */
	atomic_bool stopping;     /* unmounting: queued downloads are dropped */
	_Atomic uint64_t downloaded; /* bytes written into the cache by downloads */
	_Atomic uint64_t served;     /* bytes handed to readers from the cache */
};

/* Returns a new media_out holding size and validator (free with
 * media_out_free()); NULL when out of memory. */
/* An output's size and validator: their one owner. The tree holds it for
 * stat, open files read it, and a download that finds the server's copy
 * changed updates it. probe.c makes it. */
struct media_out {
	_Atomic uint64_t size;
	pthread_mutex_t mu;       /* validator */
	char validator[MEDIA_VALIDATOR_MAX];
};

struct media_out *media_out_new(uint64_t size, const char *validator);

/* The validator h carries, into dst (MEDIA_VALIDATOR_MAX bytes): its ETag,
 * else its Last-Modified, else "". */
void media_take_validator(char *dst, const struct http_head *h);

/* Sorts an HTTP answer that is not the one wanted into -errno and retry
 * kind, in err, whose text names what: -EKEYEXPIRED when the URL was
 * refused (403, 410), -EAGAIN when throttled (429, its Retry-After kept),
 * else -EIO, transient for 408 and 5xx. Returns the -errno. */
int media_answer_error(const struct http_head *h, const char *what, struct aifs_err *err);

#endif

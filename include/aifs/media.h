/* media.h: output files: their sizes, and ranged, read-ahead downloads into
 * the blob cache.
 *
 * Downloads are not API calls: they are not rate-limited, but size probes
 * have their own concurrency bound, and every transfer is bounded by the
 * timeout (connect, and the longest silence). Knows no FUSE, no JSON and no
 * tasks: a source hands it a URL and, on request, a renewed one. */
#ifndef AIFS_MEDIA_H
#define AIFS_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aifs/readahead.h"

struct aifs_err;
struct blobcache;
struct http;

#define MEDIA_VALIDATOR_MAX 128

struct media_opts {
	double timeout;   /* seconds */
	int retries;      /* extra attempts for a failed range */
	bool allow_http;  /* plain http to non-loopback hosts */
	int probes;       /* size probes at once */
	int downloads;    /* download threads */
};

/* Where an output's bytes come from. url() returns a new URL (free());
 * renew asks for a fresh one because the last was refused or expired.
 * changed() (may be NULL) is told that the server's copy changed: its size
 * and validator are new, the cached bytes gone. */
struct media_src {
	int (*url)(void *ctx, bool renew, char **url);
	void (*changed)(void *ctx);
	void *ctx;
};

/* What a size probe learnt. */
struct media_meta {
	uint64_t size;
	char validator[MEDIA_VALIDATOR_MAX]; /* ETag, else Last-Modified, else "" */
};

struct media;
struct media_file;
/* An output's size and validator, kept up to date by the downloads. */
struct media_out;

/* Per open file handle: how it has read so far, and so how far ahead to
 * read for it. All zero before its first read. */
struct media_cursor {
	struct readahead ra;
};

/* Returns a new engine over http and cache (borrowed); free with media_free().
 * Starts no thread (a daemon forks after this). NULL when out of memory. */
struct media *media_new(struct http *http, struct blobcache *cache, const struct media_opts *o);
/* Starts the download threads: after the fork, before the first read.
 * 0 or -errno. */
int media_start(struct media *m);
/* Drops queued downloads, ends running ones at their next bytes and stops
 * the threads: after it, media calls back into no source. Accepts NULL. */
void media_stop(struct media *m);
/* Stops (media_stop()) and frees. Accepts NULL. */
void media_free(struct media *m);

/* Learns size and validator: from the cache when the file is complete there,
 * else by HEAD, else by a one-byte range request. *out is new (free with
 * media_out_free(), after the last media_close() of files opened over it).
 * 0 or -errno. */
int media_probe(struct media *m, const char *key, size_t key_len, const struct media_src *src,
		struct media_out **out, struct aifs_err *err);
/* The size now (a download may have found a new one). Never waits. */
uint64_t media_out_size(const struct media_out *o);
void media_out_free(struct media_out *o);

/* Opens the output named by key (shared by every reader of it), whose size
 * and validator o owns (borrowed). *out is new; free with media_close(). src
 * is copied; its ctx must stay valid until the last media_close() of this key. */
int media_open(struct media *m, const char *key, size_t key_len, struct media_out *o,
	       const struct media_src *src, struct media_file **out);
void media_close(struct media_file *f);
/* Downloads whatever f lacks, one job at a time; 0 once it is complete on
 * disk, or -errno (-ESTALE: the server's copy changed meanwhile). */
int media_fetch_all(struct media_file *f);
/* Keeps key's file for good: out of the cache's cap and its eviction (the
 * archive). 0 or -errno. */
int media_pin(struct media *m, const char *key, size_t key_len);
/* Bytes since the start: downloaded into the cache, and read from it by
 * the filesystem's readers; and what the cache holds now (pinned bytes
 * apart). Never waits on the network. */
struct media_counts {
	uint64_t downloaded, served;
	uint64_t cache_bytes, archived_bytes;
};
void media_counts(struct media *m, struct media_counts *out);

/* Drops key's bytes from the cache (its task was deleted). */
void media_forget(struct media *m, const char *key, size_t key_len);

/* For bytes already on disk: 0 with the cache file's descriptor (valid
 * until media_close()) and the length to send from off (short only at the
 * end of the file), after starting any read-ahead due; then the caller sends
 * them and calls media_read_fd_done() (until then no change of the server's
 * copy can reset them). -EWOULDBLOCK when a byte is missing (then
 * media_read() waits for it). Never waits on the network. */
int media_read_fd(struct media_file *f, struct media_cursor *cur, size_t size, off_t off,
		  int *fd, size_t *len);
void media_read_fd_done(struct media_file *f);

/* Reads like pread(2), downloading what is missing: a byte count (short only
 * at the end of the file) or -errno (-EIO when a download failed part-way:
 * what arrived whole stays cached). */
ssize_t media_read(struct media_file *f, struct media_cursor *cur, char *buf, size_t size,
		   off_t off);

#endif

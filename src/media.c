/* media.c: output files, downloaded in ranges into the blob cache.
 *
 * A read names the chunks it touches; those missing are claimed and handed
 * to the download threads in runs, together with the read-ahead window
 * readahead.c chooses for the reader's handle. Readers wait on the file's
 * condition variable until their chunks are marked present. Each range
 * answer is checked against Content-Range, the known size and the validator
 * before a byte is written; a chunk is marked only when all of it arrived.
 * Here too is the one owner of an output's size and validator, which
 * probe.c learns first. Knows no FUSE, no JSON, no tasks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aifs/backoff.h"
#include "aifs/blobcache.h"
#include "aifs/err.h"
#include "aifs/http.h"
#include "aifs/log.h"
#include "aifs/media.h"
#include "aifs/pool.h"
#include "aifs/ratelimit.h"
#include "aifs/readahead.h"
#include "aifs/strmap.h"
#include "media_int.h"

#define FAIL_MEMORY 1.0       /* seconds a failed range answers at once */
#define ESTOP 100000          /* sink: the range we wanted is in; not an error */

struct media_file {
	struct media *m;
	char *key;
	size_t key_len;
	int refs;                 /* under m->mu: opens and running downloads */
	struct blob *blob;
	struct media_out *out;    /* borrowed from the opener: outlives the file */
	struct media_src src;
	/* A download writes a chunk holding gen_lock shared, after checking that
	 * the file is still the version it asked for; a change takes it
	 * exclusively, so no byte of the old version lands after it. */
	pthread_rwlock_t gen_lock;

	pthread_mutex_t mu;       /* below */
	pthread_cond_t cv;
	unsigned gen;             /* bumped when the server's copy changed */
	uint64_t size, n_chunks;  /* of version gen */
	unsigned char *fetching;  /* per chunk: claimed by a download */
	unsigned fail_seq;        /* bumped when a download gives up */
	int fail_rc;
	double fail_at;           /* when, monotonic: a re-read right after fails too */
	uint64_t fail_first, fail_last;
	char *url;                /* the last URL the source gave */
	unsigned url_gen;
	bool renewing;
};

struct dl_job {
	struct pool_job pj;
	struct media_file *f;
	uint64_t first, last;     /* chunks, inclusive */
	unsigned gen;             /* of the file's version when claimed */
};

static double deadline_of(const struct media *m)
{
	return m->o.timeout * (m->o.retries + 2) + backoff_pauses_max(m->o.retries) + 5;
}

/* ---- URLs ---- */

/* A copy of the current URL and its generation; renews it once when asked
 * and nobody has since the caller's generation. */
static int file_url(struct media_file *f, bool renew, unsigned seen, char **url, unsigned *gen)
{
	pthread_mutex_lock(&f->mu);
	while (f->renewing)
		pthread_cond_wait(&f->cv, &f->mu);
	if (!f->url || (renew && f->url_gen == seen)) {
		char *fresh = NULL;
		f->renewing = true;
		pthread_mutex_unlock(&f->mu);
		int rc = f->src.url(f->src.ctx, renew, &fresh);
		pthread_mutex_lock(&f->mu);
		f->renewing = false;
		pthread_cond_broadcast(&f->cv);
		if (rc) {
			pthread_mutex_unlock(&f->mu);
			return rc;
		}
		free(f->url);
		f->url = fresh;
		f->url_gen++;
	}
	*url = strdup(f->url);
	*gen = f->url_gen;
	pthread_mutex_unlock(&f->mu);
	return *url ? 0 : -ENOMEM;
}

/* ---- sizes, validators, answers ---- */

void media_take_validator(char *dst, const struct http_head *h)
{
	snprintf(dst, MEDIA_VALIDATOR_MAX, "%s", h->etag[0] ? h->etag : h->last_modified);
}

static void out_validator(struct media_out *o, char *dst)
{
	pthread_mutex_lock(&o->mu);
	memcpy(dst, o->validator, MEDIA_VALIDATOR_MAX);
	pthread_mutex_unlock(&o->mu);
}

int media_answer_error(const struct http_head *h, const char *what, struct aifs_err *err)
{
	int rc;
	if (h->status == 403 || h->status == 410)
		return aifs_err_set(err, -EKEYEXPIRED, "%s: URL refused (HTTP %ld)", what, h->status);
	if (h->status == 429) {
		rc = aifs_err_set(err, -EAGAIN, "%s: throttled (HTTP 429)", what);
		err->retry = AIFS_RETRY_THROTTLED;
		err->retry_after = h->retry_after;
		return rc;
	}
	rc = aifs_err_set(err, -EIO, "%s: HTTP %ld", what, h->status);
	if (h->status == 408 || h->status >= 500)
		err->retry = AIFS_RETRY_TRANSIENT;
	return rc;
}

/* ---- files ---- */

static void file_unref(struct media_file *f)
{
	struct media *m = f->m;
	pthread_mutex_lock(&m->mu);
	bool last = --f->refs == 0;
	if (last)
		strmap_del(&m->files, f->key, f->key_len);
	pthread_mutex_unlock(&m->mu);
	if (!last)
		return;
	blob_close(f->blob);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	pthread_rwlock_destroy(&f->gen_lock);
	free(f->fetching);
	free(f->url);
	free(f->key);
	free(f);
}

int media_open(struct media *m, const char *key, size_t key_len, struct media_out *o,
	       const struct media_src *src, struct media_file **out)
{
	char validator[MEDIA_VALIDATOR_MAX];
	uint64_t size = media_out_size(o);
	struct media_file *f;
	int rc = 0;

	out_validator(o, validator);
	pthread_mutex_lock(&m->mu);
	f = strmap_get(&m->files, key, key_len);
	if (f) {
		f->refs++;
		goto done;
	}
	f = calloc(1, sizeof *f);
	if (!f || !(f->key = malloc(key_len))) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(f->key, key, key_len);
	f->key_len = key_len;
	f->m = m;
	f->refs = 1;
	f->out = o;
	f->size = size;
	f->n_chunks = (size + BLOB_CHUNK - 1) / BLOB_CHUNK;
	f->src = *src;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	pthread_rwlock_init(&f->gen_lock, NULL);
	f->fetching = calloc(f->n_chunks ? f->n_chunks : 1, 1);
	if (!f->fetching) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = blobcache_open(m->cache, key, key_len, size, validator, &f->blob);
	if (rc)
		goto fail;
	if ((rc = strmap_put(&m->files, f->key, key_len, f)))
		goto fail;
done:
	pthread_mutex_unlock(&m->mu);
	*out = f;
	return 0;
fail:
	pthread_mutex_unlock(&m->mu);
	if (f) {
		blob_close(f->blob);
		if (f->fetching) {
			pthread_mutex_destroy(&f->mu);
			pthread_cond_destroy(&f->cv);
			pthread_rwlock_destroy(&f->gen_lock);
		}
		free(f->fetching);
		free(f->key);
		free(f);
	}
	return rc;
}

void media_forget(struct media *m, const char *key, size_t key_len)
{
	int rc = blobcache_remove(m->cache, key, key_len);
	if (rc && rc != -ENOENT)
		log_msg(LOGL_INFO, "a deleted task's output stays cached while it is open: %s",
			strerror(-rc));
}

void media_close(struct media_file *f)
{
	if (f)
		file_unref(f);
}

/* ---- downloads ---- */

struct dl_sink {
	struct media_file *f;
	uint64_t pos, end;        /* next byte expected, last byte wanted */
	uint64_t written;         /* bytes before this are in the data file */
	uint64_t chunk_done;      /* chunks before this one are marked */
	char *buf;                /* one chunk, written whole: few, large writes */
	size_t buf_len;
	bool refused;             /* the answer's headers were not acceptable */
	unsigned gen;             /* the version this download is of */
	uint64_t new_size;        /* -ESTALE: the server's copy now */
	char new_validator[MEDIA_VALIDATOR_MAX];
	struct aifs_err *err;
};

static int dl_check(struct dl_sink *s, const struct http_head *h);

static int dl_head(void *ctx, const struct http_head *h)
{
	struct dl_sink *s = ctx;
	int rc = dl_check(s, h);
	s->refused = rc != 0;
	return rc;
}

/* Accepts only the range asked for, of the file known, unchanged: a new
 * validator is -ESTALE, with the new size and validator noted; without
 * validators to tell a new version from a wrong answer, a wrong size is
 * only wrong (-EIO). */
static int dl_check(struct dl_sink *s, const struct http_head *h)
{
	struct media_file *f = s->f;
	char v[MEDIA_VALIDATOR_MAX], known[MEDIA_VALIDATOR_MAX];
	int64_t total = h->status == 206 ? h->range_total : h->status == 200 ? h->content_length : -1;

	media_take_validator(v, h);
	out_validator(f->out, known);
	if (total >= 0 && known[0] && v[0] && strcmp(v, known)) {
		s->new_size = (uint64_t)total;
		memcpy(s->new_validator, v, sizeof v);
		return aifs_err_set(s->err, -ESTALE, "output changed on the server");
	}
	if (h->status == 206) {
		if (h->range_start != (int64_t)s->pos || h->range_end < (int64_t)s->end ||
		    h->range_total != (int64_t)f->size)
			return aifs_err_set(s->err, -EIO,
					    "download: Content-Range %lld-%lld/%lld, wanted %llu-%llu/%llu",
					    (long long)h->range_start, (long long)h->range_end,
					    (long long)h->range_total, (unsigned long long)s->pos,
					    (unsigned long long)s->end, (unsigned long long)f->size);
	} else if (h->status == 200) {
		/* the whole file: usable only when we wanted its start */
		if (s->pos != 0 || h->content_length != (int64_t)f->size)
			return aifs_err_set(s->err, -EIO, "download: no range support, length %lld",
					    (long long)h->content_length);
	} else {
		return media_answer_error(h, "download", s->err);
	}
	return 0;
}

/* Marks every chunk that [chunk_done, written) completed, and wakes readers. */
static int dl_mark(struct dl_sink *s)
{
	struct media_file *f = s->f;
	uint64_t upto = s->written >= f->size ? f->n_chunks : s->written / BLOB_CHUNK;
	int rc = 0;
	if (upto <= s->chunk_done)
		return 0;
	for (uint64_t c = s->chunk_done; c < upto && !rc; c++)
		rc = blob_mark(f->blob, c);
	pthread_mutex_lock(&f->mu);
	for (uint64_t c = s->chunk_done; c < upto && f->gen == s->gen; c++)
		f->fetching[c] = 0;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	s->chunk_done = upto;
	return rc;
}

/* Writes the buffered chunk and marks it, unless the file changed since
 * this download began. */
static int dl_flush(struct dl_sink *s)
{
	struct media_file *f = s->f;
	int rc;

	pthread_rwlock_rdlock(&f->gen_lock);
	pthread_mutex_lock(&f->mu);
	bool current = f->gen == s->gen;
	pthread_mutex_unlock(&f->mu);
	if (!current) {
		rc = aifs_err_set(s->err, -ECANCELED, "the output changed meanwhile");
	} else if ((rc = blob_pwrite(f->blob, s->buf, s->buf_len, s->written))) {
		aifs_err_set(s->err, rc, "cache write: %s", strerror(-rc));
	} else {
		atomic_fetch_add_explicit(&f->m->downloaded, s->buf_len, memory_order_relaxed);
		s->written += s->buf_len;
		s->buf_len = 0;
		if ((rc = dl_mark(s)))
			aifs_err_set(s->err, rc, "cache map: %s", strerror(-rc));
	}
	pthread_rwlock_unlock(&f->gen_lock);
	return rc;
}

static int dl_data(void *ctx, const char *p, size_t n)
{
	struct dl_sink *s = ctx;
	if (atomic_load_explicit(&s->f->m->stopping, memory_order_relaxed))
		return aifs_err_set(s->err, -ECANCELED, "unmounting");
	if (s->pos > s->end)
		return -ESTOP; /* a whole file where a range was asked: enough */
	if (n > s->end + 1 - s->pos)
		n = (size_t)(s->end + 1 - s->pos);
	while (n) {
		uint64_t chunk_end = (s->pos / BLOB_CHUNK + 1) * BLOB_CHUNK;
		if (chunk_end > s->end + 1)
			chunk_end = s->end + 1;
		size_t take = n < chunk_end - s->pos ? n : (size_t)(chunk_end - s->pos);
		memcpy(s->buf + s->buf_len, p, take);
		s->buf_len += take;
		s->pos += take;
		p += take;
		n -= take;
		if (s->pos == chunk_end) {
			int rc = dl_flush(s);
			if (rc)
				return rc;
		}
	}
	/* the last byte is in: let the answer end by itself, so the connection
	 * stays open for the next range */
	return 0;
}

/* Gives up on the chunks not yet marked: readers waiting on them fail. */
static void dl_fail(struct dl_sink *s, uint64_t last, int rc)
{
	struct media_file *f = s->f;
	pthread_mutex_lock(&f->mu);
	if (f->gen != s->gen) { /* a change already failed its readers */
		pthread_mutex_unlock(&f->mu);
		return;
	}
	for (uint64_t c = s->chunk_done; c <= last; c++)
		f->fetching[c] = 0;
	f->fail_rc = rc;
	f->fail_seq++;
	f->fail_at = ratelimit_now();
	f->fail_first = s->chunk_done;
	f->fail_last = last;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* The server's copy of f changed (a download saw a new validator or size):
 * the one owner learns the new ones, the cached chunks go, readers waiting
 * on this version fail once (EIO), and the tree is told, so that stat shows
 * the new size and the kernel drops its pages. Later reads fetch the new
 * bytes. Only the first download to notice a version's change acts. */
static void file_changed(struct media_file *f, unsigned gen, uint64_t size, const char *validator)
{
	uint64_t n_chunks = (size + BLOB_CHUNK - 1) / BLOB_CHUNK;
	unsigned char *fetching = calloc(n_chunks ? n_chunks : 1, 1);
	bool acted = false;

	pthread_rwlock_wrlock(&f->gen_lock);
	pthread_mutex_lock(&f->mu);
	if (f->gen == gen && fetching) {
		f->gen++;
		f->size = size;
		f->n_chunks = n_chunks;
		free(f->fetching);
		f->fetching = fetching;
		fetching = NULL;
		pthread_mutex_lock(&f->out->mu);
		snprintf(f->out->validator, sizeof f->out->validator, "%s", validator);
		atomic_store(&f->out->size, size);
		pthread_mutex_unlock(&f->out->mu);
		f->fail_rc = -EIO;
		f->fail_seq++;
		f->fail_at = 0; /* the next read is not answered with this failure */
		acted = true;
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (acted) {
		int rc = blob_reset(f->blob, size, validator);
		if (rc)
			log_msg(LOGL_WARN, "output changed on the server; cache reset: %s",
				strerror(-rc));
		else
			log_msg(LOGL_INFO, "output changed on the server (now %llu bytes); fetching it anew",
				(unsigned long long)size);
	}
	pthread_rwlock_unlock(&f->gen_lock);
	free(fetching);
	if (acted && f->src.changed)
		f->src.changed(f->src.ctx);
}

static void dl_run(struct pool_job *pj)
{
	struct dl_job *j = (struct dl_job *)pj;
	struct media_file *f = j->f;
	struct media *m = f->m;
	struct aifs_err err;
	struct dl_sink s = { .f = f, .pos = j->first * BLOB_CHUNK, .chunk_done = j->first,
			     .gen = j->gen, .err = &err };
	uint64_t last_byte = (j->last + 1) * BLOB_CHUNK;
	struct backoff bo;
	bool renewed = false;
	unsigned gen = 0;
	int rc = 0;

	pthread_mutex_lock(&f->mu);
	s.end = (last_byte < f->size ? last_byte : f->size) - 1;
	pthread_mutex_unlock(&f->mu);
	s.buf = malloc(BLOB_CHUNK);
	if (!s.buf)
		rc = aifs_err_set(&err, -ENOMEM, "out of memory");
	if (atomic_load(&m->stopping)) {
		free(s.buf);
		s.buf = NULL;
		rc = aifs_err_set(&err, -ECANCELED, "unmounting");
	}
	backoff_init(&bo, m->http, m->o.retries, (unsigned)rand());
	while (s.buf) {
		struct http_req req = { 0 };
		struct http_sink sink = { dl_head, dl_data, &s };
		char *url = NULL;

		aifs_err_clear(&err);
		s.refused = false;
		s.pos = s.written = s.chunk_done * BLOB_CHUNK; /* resume at the first incomplete chunk */
		s.buf_len = 0;
		rc = file_url(f, renewed, gen, &url, &gen);
		if (rc == 0 && !(rc = http_req_init(&req, "GET", "%s", url)) &&
		    !(rc = http_req_header(&req, "Range: bytes=%llu-%llu", (unsigned long long)s.pos,
					   (unsigned long long)s.end))) {
			req.what = strdup("GET output range");
			rc = http_stream(m->http, &m->hopts, &req, &sink, NULL, &err);
		}
		free(url);
		http_req_clear(&req);
		if (rc == -ESTOP || (rc == 0 && s.pos > s.end)) {
			rc = 0;
			break;
		}
		if (rc == 0)
			rc = aifs_err_set(&err, -EIO, "download ended at byte %llu of %llu",
					  (unsigned long long)s.pos, (unsigned long long)s.end + 1);
		if (rc == -EKEYEXPIRED && !renewed) {
			renewed = true; /* ask the API for a fresh URL, once: not a retry */
			continue;
		}
		if (rc == -ESTALE) {
			file_changed(f, s.gen, s.new_size, s.new_validator);
			break;
		}
		/* no answer or a cut one is worth another try; a refused one if it says so */
		bool again = s.refused ? err.retry != AIFS_RETRY_NO
				       : rc != -ENOMEM && rc != -EPROTO && rc != -ECANCELED;
		if (!again || backoff_spent(&bo) || backoff_next(&bo, err.retry_after))
			break;
		log_msg(LOGL_DEBUG, "download: %s; retrying", err.msg);
		if (backoff_wait(&bo))
			break;
	}
	if (rc) {
		if (rc != -ECANCELED && rc != -ESTALE)
			log_msg(LOGL_WARN, "download: %s (%s)", err.msg, aifs_errno_name(rc));
		dl_fail(&s, j->last,
			rc == -ETIMEDOUT || rc == -EAGAIN ? rc : rc == -EKEYEXPIRED ? -EACCES : -EIO);
	}
	free(s.buf);
	free(j);
	file_unref(f);
}

/* Claims and queues the missing, unclaimed chunks in [first, last].
 * Caller holds f->mu. */
static void schedule(struct media_file *f, uint64_t first, uint64_t last)
{
	struct media *m = f->m;
	uint64_t c = first;

	while (m->dl && c <= last) {
		if (f->fetching[c] || blob_has(f->blob, c)) {
			c++;
			continue;
		}
		uint64_t end = c;
		while (end + 1 <= last && end + 1 - c < READAHEAD_JOB_CHUNKS && !f->fetching[end + 1] &&
		       !blob_has(f->blob, end + 1))
			end++;
		struct dl_job *j = calloc(1, sizeof *j);
		if (!j)
			return; /* readers time out on what was not claimed */
		for (uint64_t k = c; k <= end; k++)
			f->fetching[k] = 1;
		j->pj.run = dl_run;
		j->f = f;
		j->first = c;
		j->last = end;
		j->gen = f->gen;
		pthread_mutex_lock(&m->mu);
		f->refs++;
		pthread_mutex_unlock(&m->mu);
		pool_submit(m->dl, &j->pj);
		c = end + 1;
	}
}

/* A reader going forward through bytes on disk: have the kernel read the
 * cache file ahead of it, a window at a time, as it would for the reader's
 * own file. Caller holds f->mu. */
static void advise(struct media_file *f, struct media_cursor *cur)
{
	uint64_t from, len;

	if (readahead_advise(&cur->ra, f->size, &from, &len))
		posix_fadvise(blob_fd(f->blob), (off_t)from, (off_t)len, POSIX_FADV_WILLNEED);
}

/* Clamps [off, off + *size) to the file as it is now. False at or past
 * the end. Caller holds f->mu. */
static bool clamp(const struct media_file *f, size_t *size, off_t off)
{
	if ((uint64_t)off >= f->size || *size == 0)
		return false;
	if (*size > f->size - (uint64_t)off)
		*size = (size_t)(f->size - (uint64_t)off);
	return true;
}

int media_read_fd(struct media_file *f, struct media_cursor *cur, size_t size, off_t off,
		  int *fd, size_t *len)
{
	int rc = 0;
	if (off < 0)
		return -EINVAL;
	*fd = blob_fd(f->blob);
	/* held until media_read_fd_done(): no change resets the bytes sent */
	pthread_rwlock_rdlock(&f->gen_lock);
	pthread_mutex_lock(&f->mu);
	if (!clamp(f, &size, off)) {
		pthread_mutex_unlock(&f->mu);
		*len = 0;
		return 0;
	}
	uint64_t first = (uint64_t)off / BLOB_CHUNK;
	uint64_t last = ((uint64_t)off + size - 1) / BLOB_CHUNK;
	if (blob_complete(f->blob)) {
		/* no advise(): the kernel's own read-ahead of the cache file
		 * keeps up, and a WILLNEED of megabytes holds this thread while
		 * the next request waits (a re-read with the page cache dropped:
		 * 0.68 -> 0.52 s a GiB) */
		readahead_advance(&cur->ra, (uint64_t)off, size);
	} else if (blob_first_missing(f->blob, first, last) >= 0) {
		rc = -EWOULDBLOCK; /* media_read() moves the cursor and waits */
	} else {
		readahead_advance(&cur->ra, (uint64_t)off, size);
		schedule(f, last + 1 < f->n_chunks ? last + 1 : last,
			 readahead_end(&cur->ra, last, f->n_chunks));
		advise(f, cur);
	}
	pthread_mutex_unlock(&f->mu);
	if (rc)
		pthread_rwlock_unlock(&f->gen_lock);
	else
		atomic_fetch_add_explicit(&f->m->served, size, memory_order_relaxed);
	*len = size;
	return rc;
}

void media_read_fd_done(struct media_file *f)
{
	pthread_rwlock_unlock(&f->gen_lock);
}

ssize_t media_read(struct media_file *f, struct media_cursor *cur, char *buf, size_t size,
		   off_t off)
{
	struct timespec until;
	int rc = 0;

	if (off < 0)
		return -EINVAL;
	if (!f->m->dl && !blob_complete(f->blob))
		return -EIO; /* no download threads: media_start() failed */

	pthread_mutex_lock(&f->mu);
	if (!clamp(f, &size, off)) {
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	uint64_t first = (uint64_t)off / BLOB_CHUNK;
	uint64_t last = ((uint64_t)off + size - 1) / BLOB_CHUNK;
	unsigned gen = f->gen;
	readahead_advance(&cur->ra, (uint64_t)off, size);
	/* The kernel reads again at once when a read fails: give it the same
	 * answer instead of a second round of retries. */
	if (!blob_complete(f->blob) && f->fail_at > 0 && ratelimit_now() - f->fail_at < FAIL_MEMORY &&
	    first <= f->fail_last && last >= f->fail_first &&
	    blob_first_missing(f->blob, first, last) >= 0) {
		rc = f->fail_rc;
	} else if (!blob_complete(f->blob)) {
		uint64_t ahead = readahead_end(&cur->ra, last, f->n_chunks);

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)deadline_of(f->m);
		unsigned seen = f->fail_seq;
		schedule(f, first, ahead);
		for (;;) {
			if (f->gen != gen) { /* the server's copy changed under this read */
				rc = -EIO;
				break;
			}
			int64_t miss = blob_first_missing(f->blob, first, last);
			if (miss < 0)
				break;
			if (!f->fetching[miss]) {
				if (f->fail_seq != seen) {
					rc = f->fail_rc;
					break;
				}
				schedule(f, (uint64_t)miss, last);
			}
			if (pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT) {
				rc = -ETIMEDOUT;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->mu);
	if (rc)
		return rc;
	/* the bytes of version gen, or none: a change resets them exclusively */
	pthread_rwlock_rdlock(&f->gen_lock);
	pthread_mutex_lock(&f->mu);
	if (f->gen != gen)
		rc = -EIO;
	pthread_mutex_unlock(&f->mu);
	ssize_t n = rc ? rc : blob_pread(f->blob, buf, size, (uint64_t)off);
	pthread_rwlock_unlock(&f->gen_lock);
	if (n > 0)
		atomic_fetch_add_explicit(&f->m->served, (uint64_t)n, memory_order_relaxed);
	return n;
}

/* Has every chunk of f on disk, a job at a time: one download in flight
 * per caller, so that readers' own downloads are not queued behind a
 * whole file (the archive). 0 when complete, or -errno. */
int media_fetch_all(struct media_file *f)
{
	struct timespec until;
	int rc = 0;

	if (!f->m->dl)
		return blob_complete(f->blob) ? 0 : -EIO;
	pthread_mutex_lock(&f->mu);
	unsigned gen = f->gen;
	while (!rc && !blob_complete(f->blob)) {
		int64_t miss = blob_first_missing(f->blob, 0, f->n_chunks ? f->n_chunks - 1 : 0);
		if (miss < 0)
			break;
		uint64_t last = (uint64_t)miss + READAHEAD_JOB_CHUNKS - 1;
		if (last >= f->n_chunks)
			last = f->n_chunks - 1;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)deadline_of(f->m);
		unsigned seen = f->fail_seq;
		schedule(f, (uint64_t)miss, last);
		while (blob_first_missing(f->blob, (uint64_t)miss, last) >= 0) {
			if (f->gen != gen || atomic_load(&f->m->stopping)) {
				rc = f->gen != gen ? -ESTALE : -ECANCELED;
				break;
			}
			if (f->fail_seq != seen) {
				rc = f->fail_rc ? f->fail_rc : -EIO;
				break;
			}
			if (pthread_cond_timedwait(&f->cv, &f->mu, &until) == ETIMEDOUT) {
				rc = -ETIMEDOUT;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int media_pin(struct media *m, const char *key, size_t key_len)
{
	return blobcache_pin(m->cache, key, key_len);
}

/* ---- setup ---- */

struct media *media_new(struct http *http, struct blobcache *cache, const struct media_opts *o)
{
	struct media *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->http = http;
	m->cache = cache;
	m->o = *o;
	if (m->o.probes < 1)
		m->o.probes = 1;
	m->hopts.timeout = o->timeout;
	m->hopts.allow_http = o->allow_http;
	m->hopts.max_redirs = 5;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->probe_cv, NULL);
	strmap_init(&m->files);
	return m;
}

int media_start(struct media *m)
{
	if (m->dl)
		return 0;
	m->dl = pool_new(m->o.downloads > 0 ? m->o.downloads : 4);
	return m->dl ? 0 : -ENOMEM;
}

void media_stop(struct media *m)
{
	if (!m)
		return;
	atomic_store(&m->stopping, true);
	pool_free(m->dl); /* what is queued ends at once, what runs at its next bytes */
	m->dl = NULL;
}

void media_free(struct media *m)
{
	if (!m)
		return;
	media_stop(m);
	strmap_free(&m->files);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->probe_cv);
	free(m);
}

/* readahead.c: the read-ahead policy, as pure arithmetic.
 *
 * Like the kernel's own read-ahead, and as rclone and mountpoint-s3 keep
 * their prefetch windows: sequential reads double the window up to a cap,
 * a jump falls back to nothing, so a probe that reads a header and seeks
 * costs little. Knows the cache's chunk size and nothing else of it: no
 * files, no downloads, no locks. */
#include "aifs/blobcache.h"
#include "aifs/readahead.h"

void readahead_advance(struct readahead *ra, uint64_t off, size_t size)
{
	bool forward =
	    off == 0 ? ra->next == 0 : off + BLOB_CHUNK >= ra->next && off <= ra->next + BLOB_CHUNK;

	ra->run = forward ? ra->run + size : size;
	ra->window = ra->run >= BLOB_CHUNK ? 2 * ra->run : 0;
	if (ra->window > READAHEAD_WINDOW_MAX)
		ra->window = READAHEAD_WINDOW_MAX;
	if (!forward || off + size > ra->next)
		ra->next = off + size;
}

uint64_t readahead_end(const struct readahead *ra, uint64_t last, uint64_t n_chunks)
{
	uint64_t ahead = last + ra->window / BLOB_CHUNK;

	if (ra->window >= READAHEAD_JOB_CHUNKS * BLOB_CHUNK)
		ahead = (ahead / READAHEAD_JOB_CHUNKS + 1) * READAHEAD_JOB_CHUNKS - 1;
	return ahead < n_chunks ? ahead : n_chunks - 1;
}

bool readahead_advise(struct readahead *ra, uint64_t size, uint64_t *from, uint64_t *len)
{
	uint64_t want = ra->next + ra->window;
	uint64_t start = ra->advised > ra->next ? ra->advised : ra->next;

	if (!ra->window || want <= ra->advised + ra->window / 2)
		return false;
	if (want > size)
		want = size;
	ra->advised = want;
	if (want <= start)
		return false;
	*from = start;
	*len = want - start;
	return true;
}

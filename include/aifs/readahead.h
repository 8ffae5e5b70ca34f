/* readahead.h: how far ahead of a reader to fetch and to have the kernel
 * read: arithmetic over one handle's offsets, in the cache's chunks.
 *
 * A reader going on from where it was widens the window to twice what it
 * read in order, up to READAHEAD_WINDOW_MAX; a jump resets it. Nothing here
 * waits, locks, or touches a file: the caller turns the answers into
 * downloads and posix_fadvise(). */
#ifndef AIFS_READAHEAD_H
#define AIFS_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define READAHEAD_WINDOW_MAX (64ull << 20) /* bytes */
#define READAHEAD_JOB_CHUNKS 8             /* chunks one range request covers at most */

/* One handle's reading so far; all zero before its first read. */
struct readahead {
	uint64_t next;    /* where the last read ended */
	uint64_t run;     /* bytes read in order since the last jump */
	uint64_t window;  /* how far past a read to fetch: twice the run, capped */
	uint64_t advised; /* the cache file is being read ahead up to here */
};

/* Counts a read of size bytes at off. In order are: a read starting within
 * a chunk of where the last ended (the kernel sends a handle's reads a
 * little out of order), and a read at 0 before any other. The window is 0
 * until a chunk has been read in order. */
void readahead_advance(struct readahead *ra, uint64_t off, size_t size);

/* The last chunk to have on disk or on its way after a read ending in chunk
 * last, of a file of n_chunks (>= 1): the window past it, rounded up to a
 * whole job of READAHEAD_JOB_CHUNKS once the window spans one, so that
 * requests stay large while a reader moves on a chunk at a time. */
uint64_t readahead_end(const struct readahead *ra, uint64_t last, uint64_t n_chunks);

/* Whether to have the kernel read the cache file ahead, for a file of size
 * bytes: true with [*from, *from + *len) when the window reaches more than
 * half a window past what was advised before, which it then counts as
 * advised. False while there is no window. */
bool readahead_advise(struct readahead *ra, uint64_t size, uint64_t *from, uint64_t *len);

#endif

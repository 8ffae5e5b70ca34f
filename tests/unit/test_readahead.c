/* test_readahead.c: the read-ahead policy on its own: the window a
 * handle's reads earn, where a read's fetching stops, and what the kernel
 * is asked to read of the cache file. */
#include <stdint.h>

#include "aifs/blobcache.h"
#include "aifs/readahead.h"
#include "t.h"

#define C ((uint64_t)BLOB_CHUNK)
#define K 1024u

TEST(sequential_reads_double_the_window_up_to_the_cap)
{
	struct readahead ra = { 0 };

	for (uint64_t k = 1; k <= 40; k++) {
		readahead_advance(&ra, (k - 1) * C, C);
		CHECK_INT(ra.next, k * C);
		CHECK_INT(ra.run, k * C);
		CHECK_INT(ra.window, 2 * k * C < READAHEAD_WINDOW_MAX ? 2 * k * C
								 : READAHEAD_WINDOW_MAX);
	}
	CHECK_INT(ra.window, 64 * C);
}

TEST(no_window_before_a_chunk_in_order)
{
	struct readahead ra = { 0 };

	for (unsigned i = 0; i < 7; i++) {
		readahead_advance(&ra, i * 128 * K, 128 * K);
		CHECK_INT(ra.window, 0);
	}
	readahead_advance(&ra, 7 * 128 * K, 128 * K);
	CHECK_INT(ra.run, C);
	CHECK_INT(ra.window, 2 * C);
}

TEST(a_jump_resets_the_window)
{
	struct readahead ra = { 0 };

	for (uint64_t k = 0; k < 10; k++)
		readahead_advance(&ra, k * C, C);
	CHECK_INT(ra.window, 20 * C);
	/* forward, more than a chunk past where the last read ended */
	readahead_advance(&ra, 50 * C, 128 * K);
	CHECK_INT(ra.run, 128 * K);
	CHECK_INT(ra.window, 0);
	CHECK_INT(ra.next, 50 * C + 128 * K);
	/* reading on from there counts again */
	readahead_advance(&ra, 50 * C + 128 * K, C);
	CHECK_INT(ra.run, C + 128 * K);
	CHECK_INT(ra.window, 2 * (C + 128 * K));
	/* backward, more than a chunk */
	readahead_advance(&ra, 2 * C, C);
	CHECK_INT(ra.run, C);
	CHECK_INT(ra.window, 2 * C);
	CHECK_INT(ra.next, 3 * C);
}

TEST(slightly_reordered_reads_still_count_as_sequential)
{
	struct readahead ra = { 0 };

	for (uint64_t k = 0; k < 4; k++)
		readahead_advance(&ra, k * C, C);
	/* the kernel sends 4M+128K before 4M */
	readahead_advance(&ra, 4 * C + 128 * K, 128 * K);
	CHECK_INT(ra.run, 4 * C + 128 * K);
	CHECK_INT(ra.next, 4 * C + 256 * K);
	readahead_advance(&ra, 4 * C, 128 * K);
	CHECK_INT(ra.run, 4 * C + 256 * K);
	CHECK_INT(ra.window, 8 * C + 512 * K);
	CHECK_INT(ra.next, 4 * C + 256 * K); /* the late read does not move it back */
	/* up to a chunk ahead of where the last read ended is in order too */
	readahead_advance(&ra, 5 * C + 256 * K, 128 * K);
	CHECK_INT(ra.run, 4 * C + 384 * K);
	CHECK_INT(ra.next, 5 * C + 384 * K);
}

TEST(a_read_at_zero_is_sequential_only_after_nothing)
{
	struct readahead ra = { 0 };

	readahead_advance(&ra, 0, C);
	CHECK_INT(ra.run, C);
	CHECK_INT(ra.window, 2 * C);
	readahead_advance(&ra, C, C);
	CHECK_INT(ra.run, 2 * C);
	/* back at the start: a new reading, though within a chunk of nothing */
	readahead_advance(&ra, 0, 512 * K);
	CHECK_INT(ra.run, 512 * K);
	CHECK_INT(ra.window, 0);
	CHECK_INT(ra.next, 512 * K);
	readahead_advance(&ra, 0, 512 * K);
	CHECK_INT(ra.run, 512 * K);
}

TEST(end_is_the_window_past_the_read)
{
	struct readahead ra = { 0 };

	CHECK_INT(readahead_end(&ra, 3, 100), 3);
	ra.window = 2 * C;
	CHECK_INT(readahead_end(&ra, 3, 100), 5);
	ra.window = 7 * C + 512 * K; /* whole chunks only */
	CHECK_INT(readahead_end(&ra, 3, 100), 10);
}

TEST(end_rounds_up_to_a_whole_job)
{
	struct readahead ra = { .window = READAHEAD_JOB_CHUNKS * C };

	CHECK_INT(readahead_end(&ra, 3, 100), 15);  /* 11, up to the job 8..15 */
	CHECK_INT(readahead_end(&ra, 0, 100), 15);  /* 8: a job boundary goes a job on */
	ra.window = 16 * C;
	CHECK_INT(readahead_end(&ra, 0, 100), 23);
	ra.window = READAHEAD_WINDOW_MAX;
	CHECK_INT(readahead_end(&ra, 3, 1000), 71);
	/* moving on a chunk at a time asks for nothing new until a job is due */
	ra.window = 8 * C;
	CHECK_INT(readahead_end(&ra, 4, 100), 15);
	CHECK_INT(readahead_end(&ra, 7, 100), 15);
	CHECK_INT(readahead_end(&ra, 8, 100), 23);
}

TEST(end_stops_at_the_last_chunk)
{
	struct readahead ra = { .window = READAHEAD_WINDOW_MAX };

	CHECK_INT(readahead_end(&ra, 3, 10), 9);
	CHECK_INT(readahead_end(&ra, 0, 1), 0);
	ra.window = 0;
	CHECK_INT(readahead_end(&ra, 0, 1), 0);
}

TEST(advise_a_window_ahead_half_a_window_at_a_time)
{
	struct readahead ra = { 0 };
	uint64_t from = 0, len = 0;

	readahead_advance(&ra, 0, 512 * K);
	CHECK(!readahead_advise(&ra, 100 * C, &from, &len)); /* no window yet */
	CHECK_INT(ra.advised, 0);
	readahead_advance(&ra, 512 * K, 512 * K);
	readahead_advance(&ra, C, C);
	CHECK_INT(ra.window, 4 * C);
	CHECK(readahead_advise(&ra, 100 * C, &from, &len));
	CHECK_INT(from, 2 * C);
	CHECK_INT(len, 4 * C);
	CHECK_INT(ra.advised, 6 * C);
	CHECK(!readahead_advise(&ra, 100 * C, &from, &len));
	readahead_advance(&ra, 2 * C, C); /* wants 9M: not past 6M + 3M */
	CHECK(!readahead_advise(&ra, 100 * C, &from, &len));
	readahead_advance(&ra, 3 * C, C); /* wants 12M: from what was advised on */
	CHECK(readahead_advise(&ra, 100 * C, &from, &len));
	CHECK_INT(from, 6 * C);
	CHECK_INT(len, 6 * C);
	CHECK_INT(ra.advised, 12 * C);
}

TEST(advise_stops_at_the_end_of_the_file)
{
	struct readahead ra = { 0 };
	uint64_t from = 0, len = 0;

	readahead_advance(&ra, 0, 2 * C);
	CHECK(readahead_advise(&ra, 3 * C + 5, &from, &len));
	CHECK_INT(from, 2 * C);
	CHECK_INT(len, C + 5);
	CHECK_INT(ra.advised, 3 * C + 5);
	/* all of the file read: nothing left to advise */
	readahead_advance(&ra, 2 * C, C + 5);
	CHECK(!readahead_advise(&ra, 3 * C + 5, &from, &len));
}

T_MAIN(T_CASE(sequential_reads_double_the_window_up_to_the_cap),
       T_CASE(no_window_before_a_chunk_in_order), T_CASE(a_jump_resets_the_window),
       T_CASE(slightly_reordered_reads_still_count_as_sequential),
       T_CASE(a_read_at_zero_is_sequential_only_after_nothing),
       T_CASE(end_is_the_window_past_the_read), T_CASE(end_rounds_up_to_a_whole_job),
       T_CASE(end_stops_at_the_last_chunk), T_CASE(advise_a_window_ahead_half_a_window_at_a_time),
       T_CASE(advise_stops_at_the_end_of_the_file))

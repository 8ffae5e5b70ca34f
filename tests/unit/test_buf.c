/* test_buf.c: the capped byte buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/buf.h"
#include "t.h"

TEST(append_and_terminate)
{
	struct buf b;
	char *p;
	size_t len;

	buf_init(&b, 100);
	CHECK_INT(buf_append(&b, "abc", 3), 0);
	CHECK_INT(buf_append(&b, "\0d", 2), 0);
	CHECK_INT(b.len, 5);
	CHECK(!memcmp(b.data, "abc\0d", 6)); /* NUL-terminated after the bytes */
	CHECK_INT(buf_append(&b, NULL, 0), 0);
	p = buf_steal(&b, &len);
	CHECK_INT(len, 5);
	CHECK(p && !memcmp(p, "abc\0d", 6));
	free(p);
	CHECK(b.data == NULL && b.len == 0 && b.max == 100);
	buf_free(&b);
}

TEST(cap_is_hard)
{
	struct buf b;
	char big[64];

	memset(big, 'x', sizeof big);
	buf_init(&b, 10);
	CHECK_INT(buf_append(&b, big, 11), -E2BIG);
	CHECK_INT(b.len, 0);
	CHECK_INT(buf_append(&b, big, 7), 0);
	CHECK_INT(buf_append(&b, big, 4), -E2BIG);
	CHECK_INT(b.len, 7); /* a refused append changes nothing */
	CHECK_INT(buf_append(&b, big, 3), 0);
	CHECK_INT(b.len, 10);
	CHECK_INT(buf_append(&b, big, 1), -E2BIG);
	CHECK_INT(buf_printf(&b, "%s", ""), 0);
	CHECK_INT(buf_printf(&b, "y"), -E2BIG);
	CHECK(b.alloc <= 11);
	CHECK_STR(b.data, "xxxxxxxxxx");
	buf_free(&b);
	buf_free(&b); /* twice is harmless */
}

TEST(printf_grows_and_caps)
{
	struct buf b;

	buf_init(&b, 1000);
	for (int i = 0; i < 100; i++)
		CHECK_INT(buf_printf(&b, "%d,", i % 10), 0);
	CHECK_INT(b.len, 200);
	CHECK(!strncmp(b.data, "0,1,2,", 6));
	CHECK_INT(buf_printf(&b, "%800s", "z"), 0);
	CHECK_INT(b.len, 1000);
	CHECK_INT(buf_printf(&b, "%s", "q"), -E2BIG);
	CHECK_INT(strlen(b.data), 1000);
	buf_free(&b);
}

TEST(empty_steal_and_huge_cap)
{
	struct buf b;
	size_t len = 99;

	buf_init(&b, (size_t)-1);
	CHECK(buf_steal(&b, &len) == NULL);
	CHECK_INT(len, 0);
	CHECK_INT(buf_append(&b, "a", (size_t)-1), -E2BIG); /* no overflow on the size sum */
	CHECK_INT(buf_append(&b, "ab", 2), 0);
	CHECK_STR(b.data, "ab");
	buf_free(&b);
	buf_free(NULL);
}

T_MAIN(T_CASE(append_and_terminate), T_CASE(cap_is_hard), T_CASE(printf_grows_and_caps),
       T_CASE(empty_steal_and_huge_cap))

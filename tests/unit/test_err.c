/* test_err.c: errors with text, and where a message too long is cut. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "aifs/err.h"
#include "t.h"

/* Whether s is whole UTF-8: no sequence cut short, no stray continuation byte. */
static bool utf8_whole(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t want = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 0;
		if (want == 0)
			return false;
		for (size_t i = 1; i < want; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		p += want;
	}
	return true;
}

TEST(cut_len_fits)
{
	CHECK_INT(aifs_text_cut_len("", 0, 0), 0);
	CHECK_INT(aifs_text_cut_len("abc", 3, 3), 3);
	CHECK_INT(aifs_text_cut_len("abc", 3, 10), 3);
}

TEST(cut_len_between_words)
{
	const char *s = "The request failed because the output video may contain sensitive "
			"information.";

	/* "The request failed because the out|put": back to before "output" */
	CHECK_INT(aifs_text_cut_len(s, strlen(s), 34), 30);
	/* a cut that falls on a blank keeps the words before it, not the blank */
	CHECK_INT(aifs_text_cut_len(s, strlen(s), 31), 30);
	CHECK_INT(aifs_text_cut_len(s, strlen(s), 30), 30);
	CHECK_INT(aifs_text_cut_len("ab  cd", 6, 4), 2);
}

TEST(cut_len_one_long_word)
{
	/* no blank in the second half: the cut falls inside the word, at a character */
	CHECK_INT(aifs_text_cut_len("a bcdefghijkl", 13, 10), 10);
	CHECK_INT(aifs_text_cut_len("abcdefghijkl", 12, 5), 5);
}

TEST(cut_len_utf8)
{
	/* three bytes each: 10 bytes hold three characters */
	const char *cj = "任务失败,本次生成不消耗蝉豆";

	CHECK_INT(aifs_text_cut_len(cj, strlen(cj), 10), 9);
	CHECK_INT(aifs_text_cut_len(cj, strlen(cj), 11), 9);
	CHECK_INT(aifs_text_cut_len(cj, strlen(cj), 12), 12);
	CHECK_INT(aifs_text_cut_len(cj, strlen(cj), 2), 0);
	/* "é" is two bytes; "bbbé" cut at 4 leaves "bbb" */
	CHECK_INT(aifs_text_cut_len("bbb\xc3\xa9", 5, 4), 3);
	/* a four-byte character */
	CHECK_INT(aifs_text_cut_len("x\xf0\x9f\x98\x80y", 6, 4), 1);
	CHECK_INT(aifs_text_cut_len("x\xf0\x9f\x98\x80y", 6, 5), 5);
}

TEST(cut_marks_the_cut)
{
	char buf[16];

	CHECK_INT(aifs_text_cut(buf, sizeof buf, "short"), 5);
	CHECK_STR(buf, "short");
	CHECK_INT(aifs_text_cut(buf, sizeof buf, "exactly fifteen"), 15);
	CHECK_STR(buf, "exactly fifteen");
	CHECK_INT(aifs_text_cut(buf, sizeof buf, "one two three four five"), 10);
	CHECK_STR(buf, "one two...");
	CHECK_INT(aifs_text_cut(buf, sizeof buf, "任务失败,本次生成不消耗蝉豆"), 15);
	CHECK_STR(buf, "任务失败...");
	CHECK_INT(aifs_text_cut(buf, 3, "abcdef"), 2);
	CHECK_STR(buf, "ab");
	CHECK_INT(aifs_text_cut(buf, 0, "abc"), 0);
}

TEST(err_set_cuts_long_messages)
{
	struct aifs_err e;
	char msg[600];
	size_t n = 0;

	aifs_err_clear(&e);
	/* words of 7 bytes: "word12 " ... past the 256-byte message */
	for (int i = 0; n + 8 < sizeof msg; i++)
		n += (size_t)snprintf(msg + n, sizeof msg - n, "word%02d ", i % 100);
	CHECK_INT(aifs_err_set(&e, EIO, "%s", msg), -EIO);
	CHECK_INT(e.code, -EIO);
	n = strlen(e.msg);
	CHECK(n < sizeof e.msg);
	CHECK(n > sizeof e.msg / 2);
	CHECK_STR(e.msg + n - 3, "...");
	/* the last word before "..." is whole: "wordNN" */
	CHECK(e.msg[n - 4] >= '0' && e.msg[n - 4] <= '9');
	CHECK(e.msg[n - 10] == ' ');

	/* Chinese, with no blanks at all: cut between characters */
	n = 0;
	while (n + 3 < sizeof msg) {
		memcpy(msg + n, "蝉", 3);
		n += 3;
	}
	msg[n] = '\0';
	aifs_err_set(&e, -EIO, "code 40000: %s", msg);
	CHECK(utf8_whole(e.msg));
	n = strlen(e.msg);
	CHECK_STR(e.msg + n - 3, "...");
	CHECK(n >= sizeof e.msg - 6);

	/* control bytes become blanks */
	aifs_err_set(&e, EIO, "a\nb\tc\x7f");
	CHECK_STR(e.msg, "a b c ");
}

TEST(errno_names)
{
	CHECK_STR(aifs_errno_name(0), "OK");
	CHECK_STR(aifs_errno_name(-ENOENT), "ENOENT");
	CHECK_STR(aifs_errno_name(EACCES), "EACCES");
}

T_MAIN(T_CASE(cut_len_fits), T_CASE(cut_len_between_words), T_CASE(cut_len_one_long_word),
       T_CASE(cut_len_utf8), T_CASE(cut_marks_the_cut), T_CASE(err_set_cuts_long_messages),
       T_CASE(errno_names))

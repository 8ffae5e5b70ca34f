/* test_task.c: the provider-neutral task record. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "aifs/task.h"
#include "t.h"

TEST(new_ref_unref)
{
	struct task_info *ti = task_info_new("cgt-1");

	CHECK(ti);
	CHECK_STR(ti->id, "cgt-1");
	CHECK_INT(ti->refs, 1);
	CHECK_INT(ti->status, TASK_OTHER);
	CHECK_STR(ti->status_text, "unknown\n");
	CHECK_INT(ti->status_len, 8);
	CHECK(ti->meta == NULL && ti->error == NULL && ti->n_outputs == 0 && ti->mtime == 0);
	CHECK(task_info_ref(ti) == ti);
	CHECK_INT(ti->refs, 2);
	task_info_unref(ti);
	CHECK_INT(ti->refs, 1);
	task_info_unref(ti);
	task_info_unref(NULL);
	CHECK(task_info_new(NULL) == NULL);
	CHECK(task_info_ref(NULL) == NULL);
}

static void *hammer(void *arg)
{
	struct task_info *ti = arg;

	for (int i = 0; i < 200000; i++) {
		task_info_ref(ti);
		task_info_unref(ti);
	}
	return NULL;
}

TEST(refs_are_atomic)
{
	struct task_info *ti = task_info_new("x");
	pthread_t th[4];

	CHECK(ti);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, hammer, ti) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_INT(ti->refs, 1);
	task_info_unref(ti);
}

TEST(status_parse)
{
	CHECK_INT(task_status_parse("queued"), TASK_QUEUED);
	CHECK_INT(task_status_parse("running"), TASK_RUNNING);
	CHECK_INT(task_status_parse("succeeded"), TASK_SUCCEEDED);
	CHECK_INT(task_status_parse("failed"), TASK_FAILED);
	CHECK_INT(task_status_parse("cancelled"), TASK_CANCELLED);
	CHECK_INT(task_status_parse("expired"), TASK_EXPIRED);
	CHECK_INT(task_status_parse("SUCCEEDED"), TASK_SUCCEEDED);
	CHECK_INT(task_status_parse("Failed"), TASK_FAILED);
	CHECK_INT(task_status_parse("submitted"), TASK_OTHER);
	CHECK_INT(task_status_parse("canceled"), TASK_OTHER);
	CHECK_INT(task_status_parse("succeeded "), TASK_OTHER);
	CHECK_INT(task_status_parse(""), TASK_OTHER);
	CHECK_INT(task_status_parse(NULL), TASK_OTHER);
}

TEST(status_finished)
{
	CHECK(!task_status_finished(TASK_QUEUED));
	CHECK(!task_status_finished(TASK_RUNNING));
	CHECK(!task_status_finished(TASK_OTHER));
	CHECK(task_status_finished(TASK_SUCCEEDED));
	CHECK(task_status_finished(TASK_FAILED));
	CHECK(task_status_finished(TASK_CANCELLED));
	CHECK(task_status_finished(TASK_EXPIRED));
}

TEST(status_text)
{
	static const char *const words[] = { "queued\n", "running\n",	"succeeded\n",
					     "failed\n", "cancelled\n", "expired\n" };
	struct task_info *ti = task_info_new("x");

	CHECK(ti);
	for (int st = TASK_QUEUED; st < TASK_OTHER; st++) {
		/* The raw word does not matter for a known status. */
		CHECK_INT(task_info_set_status(ti, (enum task_status)st, "WHATEVER"), 0);
		CHECK_INT(ti->status, st);
		CHECK_STR(ti->status_text, words[st]);
		CHECK_INT(ti->status_len, strlen(words[st]));
	}
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, "submitted"), 0);
	CHECK_STR(ti->status_text, "submitted\n");
	CHECK_INT(ti->status_len, 10);
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, "Sub\tMit\nTED\x7f"), 0);
	CHECK_STR(ti->status_text, "submitted\n");
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, "  In Review  "), 0);
	CHECK_STR(ti->status_text, "in review\n");
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, "ÄRGER"), 0);
	CHECK_STR(ti->status_text, "Ärger\n");
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, "\n\t"), 0);
	CHECK_STR(ti->status_text, "unknown\n");
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, ""), 0);
	CHECK_STR(ti->status_text, "unknown\n");
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, NULL), 0);
	CHECK_STR(ti->status_text, "unknown\n");
	CHECK_INT(ti->status, TASK_OTHER);
	CHECK_INT(task_info_set_status(ti, (enum task_status)99, "x"), -EINVAL);
	task_info_unref(ti);
}

TEST(status_text_capped)
{
	struct task_info *ti = task_info_new("x");
	char word[200], want[80];

	CHECK(ti);
	memset(word, 'A', 150);
	word[150] = '\0';
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, word), 0);
	memset(want, 'a', 63);
	strcpy(want + 63, "\n");
	CHECK_STR(ti->status_text, want);
	/* A two-byte character that would straddle the cap is left out whole. */
	memset(word, 'b', 62);
	strcpy(word + 62, "éé");
	CHECK_INT(task_info_set_status(ti, TASK_OTHER, word), 0);
	memset(want, 'b', 62);
	strcpy(want + 62, "\n");
	CHECK_STR(ti->status_text, want);
	task_info_unref(ti);
}

TEST(error_text)
{
	struct task_info *ti = task_info_new("x");

	CHECK(ti);
	CHECK_INT(task_info_set_status(ti, TASK_FAILED, NULL), 0);
	CHECK_INT(task_info_set_error(ti, "InvalidParameter", "bad prompt"), 0);
	CHECK_STR(ti->error, "InvalidParameter: bad prompt\n");
	CHECK_INT(ti->error_len, strlen("InvalidParameter: bad prompt\n"));
	CHECK_INT(task_info_set_error(ti, NULL, "任务失败"), 0);
	CHECK_STR(ti->error, "任务失败\n");
	CHECK_INT(task_info_set_error(ti, "", " spaced out \n"), 0);
	CHECK_STR(ti->error, "spaced out\n");
	CHECK_INT(task_info_set_error(ti, "OnlyCode", ""), 0);
	CHECK_STR(ti->error, "task failed\n");
	CHECK_INT(task_info_set_error(ti, NULL, NULL), 0);
	CHECK_STR(ti->error, "task failed\n");
	CHECK_INT(ti->error_len, 12);
	CHECK_INT(task_info_set_status(ti, TASK_EXPIRED, NULL), 0);
	CHECK_INT(task_info_set_error(ti, " ", "\n"), 0);
	CHECK_STR(ti->error, "task expired\n");
	task_info_unref(ti);
}

TEST(error_only_when_failed_or_expired)
{
	for (int st = TASK_QUEUED; st <= TASK_OTHER; st++) {
		struct task_info *ti = task_info_new("x");
		CHECK(ti);
		CHECK_INT(task_info_set_status(ti, (enum task_status)st, "w"), 0);
		CHECK_INT(task_info_set_error(ti, "C", "M"), 0);
		bool want = st == TASK_FAILED || st == TASK_EXPIRED;
		bool has = ti->error != NULL;
		task_info_unref(ti);
		CHECK_INT(has, want);
	}
}

TEST(outputs)
{
	struct task_info *ti = task_info_new("x");
	char name[32];

	CHECK(ti);
	CHECK_INT(task_info_add_output(ti, "video.mp4", "https://h/v.mp4?sig=1"), 0);
	CHECK_INT(ti->n_outputs, 1);
	CHECK_STR(ti->outputs[0].name, "video.mp4");
	CHECK_STR(ti->outputs[0].url, "https://h/v.mp4?sig=1");
	CHECK_INT(task_info_add_output(ti, "video.mp4", "https://h/other.mp4"), -EEXIST);
	CHECK_INT(task_info_add_output(ti, "a/b", "https://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "..", "https://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, ".", "https://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "", "https://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "a\nb", "https://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, NULL, "https://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", NULL), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", ""), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", "file:///etc/passwd"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", "ftp://h/x"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", "https://h/a b"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", "https://h/a\r\nX: y"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "f", "HTTP://LOCALHOST/x"), 0);
	CHECK_INT(ti->n_outputs, 2);
	for (int i = 2; i < TASK_MAX_OUTPUTS; i++) {
		snprintf(name, sizeof name, "image-%d.png", i);
		CHECK_INT(task_info_add_output(ti, name, "https://h/i.png"), 0);
	}
	CHECK_INT(ti->n_outputs, TASK_MAX_OUTPUTS);
	CHECK_INT(task_info_add_output(ti, "one-more.png", "https://h/i.png"), -E2BIG);
	task_info_unref(ti);
}

/* Only an http(s) URL with a host makes an output file. */
TEST(url_usable)
{
	static const char *const bad[] = {
		NULL,
		"",
		"<SIGNED_VIDEO_URL>",
		"{{video_url}}",
		"ftp://files.example/out.mp4",
		"file:///tmp/x.mp4",
		"data:video/mp4;base64,AAAA",
		"//cdn.example/v.mp4",
		"http://",
		"https://",
		"https:///v.mp4",
		"https://?sig=1",
		"https://#x",
		"https://:443/v.mp4",
		"https://user:pw@/v.mp4",
		"https://<SIGNED_VIDEO_URL>",
		"https://h{x}/v.mp4",
		"https://[]/v.mp4",
		"https://[::1/v.mp4",
		"https://h/a b",
		"https://h/a\tb",
		"http ://h/x",
	};
	static const char *const good[] = {
		"https://ark-content-generation-cn-beijing.tos-cn-beijing.volces.com/a/v.mp4?X-Tos-"
		"Signature=9a7c",
		"HTTP://LOCALHOST/x",
		"HtTpS://Host.Example",
		"http://127.0.0.1:8080/media/k/v.mp4?expires=1&sig=2",
		"http://[::1]:8080/v.mp4",
		"https://h?sig=1",
		"https://h#frag",
		"https://user:pw@h.example:443/v.mp4",
		"https://xn--fiq228c.example/v.mp4",
		"https://任务.example/v.mp4",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (task_url_usable(bad[i]))
			fprintf(stderr, "  taken: %s\n", bad[i]);
		CHECK(!task_url_usable(bad[i]));
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!task_url_usable(good[i]))
			fprintf(stderr, "  refused: %s\n", good[i]);
		CHECK(task_url_usable(good[i]));
	}
	struct task_info *ti = task_info_new("x");
	CHECK(ti);
	CHECK_INT(task_info_add_output(ti, "video.mp4", "https://<SIGNED_VIDEO_URL>"), -EINVAL);
	CHECK_INT(task_info_add_output(ti, "video.mp4", "http://"), -EINVAL);
	CHECK_INT(ti->n_outputs, 0);
	task_info_unref(ti);
}

TEST(url_ext)
{
	char out[9];

	CHECK_STR(task_url_ext("https://h/x.mp4", "bin", out, sizeof out), "mp4");
	CHECK_STR(task_url_ext("https://h/a/b/x.MP4?sig=1.2", "bin", out, sizeof out), "MP4");
	CHECK_STR(task_url_ext("https://h/x.tar.gz#frag.zip", "bin", out, sizeof out), "gz");
	CHECK_STR(task_url_ext("https://h/x", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("https://h/x.", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("https://h/x.d/", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("https://h.example.com", "png", out, sizeof out), "png");
	CHECK_STR(task_url_ext("https://h.example.com?f=a.jpg", "png", out, sizeof out), "png");
	CHECK_STR(task_url_ext("https://h/dir.v2/file", "png", out, sizeof out), "png");
	CHECK_STR(task_url_ext("https://h/x.abcdefgh", "bin", out, sizeof out), "abcdefgh");
	CHECK_STR(task_url_ext("https://h/x.abcdefghi", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("https://h/x.m-p", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("https://h/x.%2F", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("https://h/x.jpé", "bin", out, sizeof out), "bin");
	CHECK_STR(task_url_ext("/plain/path.webp", "bin", out, sizeof out), "webp");
	CHECK_STR(task_url_ext(NULL, "bin", out, sizeof out), "bin");
	CHECK(task_url_ext("https://h/x", NULL, out, sizeof out) == NULL);
	/* out too small for the extension: the default */
	CHECK_STR(task_url_ext("https://h/x.jpeg", "j", out, 3), "j");
}

TEST(slim_keeps_what_stat_needs)
{
	struct task_info *ti = task_info_new("cgt-1"), *s;
	CHECK(ti);
	CHECK_INT(task_info_set_status(ti, TASK_FAILED, NULL), 0);
	CHECK_INT(task_info_set_error(ti, "E1", "boom"), 0);
	CHECK_INT(task_info_add_output(ti, "video.mp4", "https://x.example/v.mp4"), 0);
	ti->meta = strdup("{}\n");
	ti->meta_len = 3;
	ti->mtime = 42;
	s = task_info_slim(ti);
	task_info_unref(ti);
	CHECK(s);
	CHECK(s->slim);
	CHECK_STR(s->status_text, "failed\n");
	CHECK_INT(s->meta_len, 3);
	CHECK(s->meta == NULL);
	CHECK_INT(s->error_len, strlen("E1: boom\n"));
	CHECK(s->error == NULL);
	CHECK_INT(s->n_outputs, 1);
	CHECK_STR(s->outputs[0].name, "video.mp4");
	CHECK(s->outputs[0].url == NULL);
	CHECK_INT(s->mtime, 42);
	task_info_unref(s); /* LeakSanitizer checks the rest */
}

T_MAIN(T_CASE(slim_keeps_what_stat_needs), T_CASE(new_ref_unref), T_CASE(refs_are_atomic), T_CASE(status_parse),
       T_CASE(status_finished), T_CASE(status_text), T_CASE(status_text_capped), T_CASE(error_text),
       T_CASE(error_only_when_failed_or_expired), T_CASE(outputs), T_CASE(url_usable),
       T_CASE(url_ext))

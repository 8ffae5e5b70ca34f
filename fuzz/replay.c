/* replay.c: runs saved inputs through a fuzz target without libFuzzer, so
 * the regressions and the seed corpus are checked by an ordinary build
 * (make fuzz-replay, SANITIZE= as for the unit tests).
 *
 * With no arguments: every file in fuzz/corpus/NAME/ and every
 * fuzz/regressions/NAME-*, NAME being the target's. Otherwise the files and
 * directories given. Each input runs in its own process, so one that
 * crashes, leaks or breaks an invariant is named and the rest still run. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX (4u << 20)

struct replay_count {
	size_t run, failed;
};

/* In a child: the input in a buffer of its exact size, so reading past it
 * is caught; exit() lets LeakSanitizer look. */
static void replay_child(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(REPLAY_MAX), *in;
	size_t n;

	if (!f || !buf) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, REPLAY_MAX, f);
	fclose(f);
	in = malloc(n ? n : 1);
	if (!in)
		exit(2);
	memcpy(in, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	exit(0);
}

static void replay_file(const char *path, struct replay_count *c)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0)
		replay_child(path);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	c->run++;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	c->failed++;
	if (WIFSIGNALED(st))
		fprintf(stderr, "replay %s: FAILED %s (signal %d)\n", fuzz_target_name, path,
			WTERMSIG(st));
	else
		fprintf(stderr, "replay %s: FAILED %s (exit %d)\n", fuzz_target_name, path,
			WEXITSTATUS(st));
}

static int replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir whose name starts with prefix, in name order. */
static int replay_dir(const char *dir, const char *prefix, struct replay_count *c)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (!d) {
		if (errno == ENOENT && prefix)
			return 0;
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		char **nn;

		if (e->d_name[0] == '.' || (prefix && strncmp(e->d_name, prefix, strlen(prefix))))
			continue;
		nn = realloc(names, (n + 1) * sizeof *names);
		if (!nn)
			abort();
		names = nn;
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
			abort();
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, replay_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			replay_file(names[i], c);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int replay_path(const char *path, struct replay_count *c)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path, NULL, c);
	replay_file(path, c);
	return 0;
}

int main(int argc, char **argv)
{
	struct replay_count c = {0, 0};
	char corpus[256], prefix[64];
	int bad = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bad |= replay_path(argv[i], &c) < 0;
	} else {
		snprintf(corpus, sizeof corpus, "fuzz/corpus/%s", fuzz_target_name);
		snprintf(prefix, sizeof prefix, "%s-", fuzz_target_name);
		bad |= replay_path(corpus, &c) < 0;
		bad |= replay_dir("fuzz/regressions", prefix, &c) < 0;
	}
	printf("replay %s: %zu inputs, %zu failed%s\n", fuzz_target_name, c.run, c.failed,
	       bad ? ", some unreadable" : "");
	return bad || c.failed ? 1 : 0;
}

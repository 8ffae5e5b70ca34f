/* t.h: the unit tests' harness. Each TEST is a function; main() runs the
 * list and prints TAP lines ("ok 3 name" / "not ok 3 name"), which
 * tests/run.py counts. A failed CHECK ends that test, not the binary. */
#ifndef AIFS_T_H
#define AIFS_T_H

#include <stdio.h>
#include <string.h>

struct t_case {
	const char *name;
	void (*fn)(int *failed);
};

#define TEST(name) static void name(int *t_failed_)

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,   \
				__LINE__, #cond);                                   \
			*t_failed_ = 1;                                            \
			return;                                                    \
		}                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                            \
	do {                                                                       \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);            \
		if (t_a_ != t_b_) {                                                \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", \
				__FILE__, __LINE__, #a, t_a_, #b, t_b_);           \
			*t_failed_ = 1;                                            \
			return;                                                    \
		}                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                            \
	do {                                                                       \
		const char *t_a_ = (a), *t_b_ = (b);                               \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                   \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, t_a_ ? t_a_ : "(null)",     \
				t_b_ ? t_b_ : "(null)");                            \
			*t_failed_ = 1;                                            \
			return;                                                    \
		}                                                                  \
	} while (0)

#define T_CASE(fn) { #fn, fn }

static inline int t_run(const struct t_case *cases, size_t n)
{
	int bad = 0;
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		int failed = 0;
		cases[i].fn(&failed);
		printf("%sok %zu %s\n", failed ? "not " : "", i + 1, cases[i].name);
		fflush(stdout);
		bad += failed;
	}
	return bad ? 1 : 0;
}

#define T_MAIN(...)                                                                \
	int main(void)                                                             \
	{                                                                          \
		static const struct t_case t_cases_[] = { __VA_ARGS__ };           \
		return t_run(t_cases_, sizeof t_cases_ / sizeof t_cases_[0]);      \
	}

/* Fixture path: tests run from the repository root. */
#define FIXTURE(name) "tests/fixtures/" name

#endif

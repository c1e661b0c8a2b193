/* Minimal assertions for the unit tests: each test is one executable that exits non-zero on failure. */
#ifndef STACKPROF_CHECK_H
#define STACKPROF_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			check_failures++;                                                \
		}                                                                        \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                  \
	do {                                                                                \
		uint64_t _a = (a), _b = (b);                                                \
		if (_a != _b) {                                                             \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%" PRIu64 " != %" PRIu64 \
					")\n",                                              \
				__FILE__, __LINE__, #a, #b, _a, _b);                        \
			check_failures++;                                                   \
		}                                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                                     \
	do {                                                                                \
		const char *_a = (a), *_b = (b);                                            \
		if (!_a || !_b || strcmp(_a, _b)) {                                         \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
				__FILE__, __LINE__, #a, #b, _a ? _a : "(null)",             \
				_b ? _b : "(null)");                                        \
			check_failures++;                                                   \
		}                                                                           \
	} while (0)

/*
 * Says why @part of a test did not run. Under CI=true a skip is a failure:
 * CI must not pass on a machine where the kernel tests never ran.
 */
static inline void check_skip(const char *part, const char *why)
{
	const char *ci = getenv("CI");

	printf("SKIP %s: %s\n", part, why);
	if (ci && !strcmp(ci, "true")) {
		fprintf(stderr, "CI=true: a skipped kernel test is a failure\n");
		check_failures++;
	}
}

/* Ends main(): prints a one-line verdict and returns the exit status. */
#define CHECK_DONE()                                                                     \
	do {                                                                             \
		if (check_failures) {                                                    \
			fprintf(stderr, "%d check(s) failed\n", check_failures);         \
			return 1;                                                        \
		}                                                                        \
		printf("ok\n");                                                          \
		return 0;                                                                \
	} while (0)

#endif

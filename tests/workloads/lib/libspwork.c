/*
 * The library the dlopener workload maps after it starts: one function that
 * burns CPU, so a profile can show a symbol from code mapped mid-run.
 */
#include "../workload.h"

const char *wl_name = "libspwork";

static volatile unsigned long lib_sink;

/* Burns @ns of the calling thread's CPU time in this library's text. */
NOINLINE void lib_work(long long ns)
{
	long long end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
	unsigned long acc = 0;

	do {
		for (long i = 0; i < 20000; i++) {
			acc += (unsigned long)i ^ (acc >> 3);
			barrier();
		}
	} while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
	lib_sink += acc;
}

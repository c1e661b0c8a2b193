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
	lib_sink += wl_spin_cpu(ns);
}

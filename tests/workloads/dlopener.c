/*
 * Workload that maps code after it starts, with CPU shares known by
 * construction: after DELAY seconds it dlopens libspwork.so (built next to
 * it), then burns CPU 1:1 in main_work (this program) and lib_work (the
 * library), until it has had SECONDS of CPU time.
 *
 *   dlopener [SECONDS [DELAY]]     defaults 2 and 0.5
 *
 * A profiler that attached before the dlopen must learn of the new mapping
 * (an MMAP2 record, or /proc/PID/maps read again) to name lib_work.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>

#include "workload.h"

const char *wl_name = "dlopener";

/* One round: 10 ms of CPU in each. */
#define UNIT_NS (10 * 1000 * 1000LL)

static volatile unsigned long sink;

static NOINLINE void main_work(long long ns)
{
	sink += wl_spin_cpu(ns);
}

static void usage(void)
{
	fprintf(stderr, "usage: dlopener [SECONDS [DELAY]]\n");
	exit(2);
}

/* libspwork.so from the directory this program runs from. */
static void *open_library(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;
	void *h;

	if (n <= 0)
		wl_die("readlink /proc/self/exe", errno);
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "libspwork.so");
	h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopener: %s\n", dlerror());
		exit(1);
	}
	return h;
}

int main(int argc, char **argv)
{
	double seconds = 2.0, delay = 0.5;
	void (*lib_work)(long long);
	long long cpu_end, wall_end;
	void *h;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-'))
		usage();
	if (argc > 1)
		seconds = wl_parse_seconds(argv[1], usage);
	if (argc > 2)
		delay = wl_parse_seconds(argv[2], usage);
	startup_delay((long long)(delay * NSEC_PER_SEC));
	h = open_library();
	*(void **)&lib_work = dlsym(h, "lib_work");
	if (!lib_work) {
		fprintf(stderr, "dlopener: no lib_work in libspwork.so\n");
		return 1;
	}
	cpu_end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + (long long)(seconds * NSEC_PER_SEC);
	wall_end = wl_clock_ns(CLOCK_MONOTONIC) + (long long)(10 * seconds * NSEC_PER_SEC);
	do {
		main_work(UNIT_NS);
		lib_work(UNIT_NS);
	} while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < cpu_end &&
		 wl_clock_ns(CLOCK_MONOTONIC) < wall_end);
	dlclose(h);
	return 0;
}

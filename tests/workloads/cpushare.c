/*
 * Workload with CPU shares known by construction: work_a, work_b and work_c
 * burn CPU time in the ratio 1:2:3, or two named threads burn one CPU each.
 *
 *   cpushare [SECONDS]            main -> run -> work_{a,b,c} -> spin, 1:2:3,
 *                                 for SECONDS of CPU time (default 3)
 *   cpushare --threads SECONDS [DELAY]
 *                                 "cs-a": thread_a_loop -> work_a -> spin,
 *                                 "cs-b": thread_b_loop -> work_b -> spin,
 *                                 both 100% busy; main only joins them.
 *                                 With DELAY, main first sleeps DELAY
 *                                 seconds, so a profiler can attach before
 *                                 the threads exist.
 *   cpushare --iterations N       N rounds of a fixed amount of work (a fixed
 *                                 instruction count, not a time), for
 *                                 measuring a profiler's overhead; prints
 *                                 its own run time on stderr
 *
 * Budgets are thread CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time, so
 * the 1:2:3 ratio holds however loaded the machine is. Every function of
 * interest is noinline and the tests build this file with frame pointers, so
 * each keeps its own frame in a frame-pointer callchain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

const char *wl_name = "cpushare";

/* Keeps the compiler from merging, hoisting or deleting the busy loops. */


/* One round is 60 ms of CPU: 10 ms in work_a, 20 ms in work_b, 30 ms in work_c. */
#define UNIT_NS (10 * 1000 * 1000LL)
/*
 * Loop iterations between two reads of the CPU clock. Reading
 * CLOCK_THREAD_CPUTIME_ID is a real system call (the vDSO cannot answer it):
 * read it rarely enough that its kernel time stays a few percent of the
 * samples, which the --kernel-only tests rely on being there but small.
 */
#define CHUNK_ITERS 20000L
/* In --iterations mode one unit of work is this many loop iterations. */
#define UNIT_ITERS (2 * 1000 * 1000L)

/* Set once before any work starts: budgets count loop iterations, not ns. */
static int by_iterations;
/* Wall-clock deadline for the --threads loops. */
static long long deadline_ns;
/* Sink for the busy loops, so their result is observable. */
static volatile unsigned long sink;

/*
 * Burns @amount of work in the calling thread: that many nanoseconds of its
 * own CPU time, or in --iterations mode that many units of loop iterations.
 * The loop body is inline here so that the samples land in spin itself.
 */
static NOINLINE void spin(long long amount)
{
	unsigned long acc = 0;
	long long end;
	long i;

	if (by_iterations) {
		long long n = amount * UNIT_ITERS / UNIT_NS;

		for (; n > 0; n--) {
			acc += (unsigned long)n ^ (acc >> 3);
			barrier();
		}
		sink += acc;
		return;
	}

	end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + amount;
	do {
		for (i = 0; i < CHUNK_ITERS; i++) {
			acc += (unsigned long)i ^ (acc >> 3);
			barrier();
		}
	} while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
	sink += acc;
}

static NOINLINE void work_a(long long amount)
{
	spin(amount);
	barrier();
}

static NOINLINE void work_b(long long amount)
{
	spin(amount);
	barrier();
}

static NOINLINE void work_c(long long amount)
{
	spin(amount);
	barrier();
}

/* One round: 1, 2 and 3 units of CPU. */
static NOINLINE void run(void)
{
	work_a(1 * UNIT_NS);
	work_b(2 * UNIT_NS);
	work_c(3 * UNIT_NS);
	barrier();
}

static NOINLINE void *thread_a_loop(void *arg)
{
	(void)arg;
	while (wl_clock_ns(CLOCK_MONOTONIC) < deadline_ns)
		work_a(UNIT_NS);
	barrier();
	return NULL;
}

static NOINLINE void *thread_b_loop(void *arg)
{
	(void)arg;
	while (wl_clock_ns(CLOCK_MONOTONIC) < deadline_ns)
		work_b(UNIT_NS);
	barrier();
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: cpushare [SECONDS]\n"
			"       cpushare --threads SECONDS [DELAY]\n"
			"       cpushare --iterations N\n");
	exit(2);
}

static int run_threads(double seconds, double delay)
{
	void *(*const loops[2])(void *) = {thread_a_loop, thread_b_loop};
	const char *const names[2] = {"cs-a", "cs-b"};
	pthread_t th[2];
	struct timespec ts = {.tv_sec = (time_t)delay,
			      .tv_nsec = (long)((delay - (time_t)delay) * NSEC_PER_SEC)};
	int i, err;

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	deadline_ns = wl_clock_ns(CLOCK_MONOTONIC) + (long long)(seconds * NSEC_PER_SEC);
	for (i = 0; i < 2; i++) {
		err = pthread_create(&th[i], NULL, loops[i], NULL);
		if (err) {
			fprintf(stderr, "cpushare: pthread_create: %s\n", strerror(err));
			return 1;
		}
		pthread_setname_np(th[i], names[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = 3.0;
	long long cpu_end, wall_end;

	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--threads"))
		return run_threads(wl_parse_seconds(argv[2], usage),
				   argc == 4 ? wl_parse_seconds(argv[3], usage) : 0);

	if (argc == 3 && !strcmp(argv[1], "--iterations")) {
		long long start;
		char *end;
		long n, i;

		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || n < 0)
			usage();
		by_iterations = 1;
		start = wl_clock_ns(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++)
			run();
		/* The workload's own run time, without a profiler's start and finish. */
		fprintf(stderr, "cpushare: %ld rounds in %.3f s\n", n,
			(wl_clock_ns(CLOCK_MONOTONIC) - start) / 1e9);
		return 0;
	}

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		usage();
	if (argc == 2)
		seconds = wl_parse_seconds(argv[1], usage);

	/*
	 * Whole rounds until the main thread has had SECONDS of CPU time, so a
	 * profile of it holds SECONDS x HZ samples however loaded the machine
	 * is; at least one round, so a short run still shows all three
	 * functions. Ten times SECONDS of wall time bounds a starved run.
	 */
	cpu_end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + (long long)(seconds * NSEC_PER_SEC);
	wall_end = wl_clock_ns(CLOCK_MONOTONIC) + (long long)(10 * seconds * NSEC_PER_SEC);
	do
		run();
	while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < cpu_end && wl_clock_ns(CLOCK_MONOTONIC) < wall_end);
	return 0;
}

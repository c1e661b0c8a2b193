/*
 * Workload with off-CPU time known by construction: the main thread blocks in
 * named functions for known durations, measures each blocking call itself and
 * reports what it measured, so a test compares a profile with the truth of
 * the same run.
 *
 *   blocker [--delay SEC] [--truth FILE]
 *
 * In order, on the main thread (comm "blocker"):
 *   sleep_wait  -> do_nanosleep -> nanosleep     5 x 100 ms   (state S)
 *   pipe_wait   -> do_read -> read               3 x ~200 ms  (state S): a
 *                  helper thread writes the byte 200 ms after being told to
 *   mutex_wait  -> do_lock -> pthread_mutex_lock 3 x ~150 ms  (state S, futex):
 *                  a helper thread holds the mutex for 150 ms
 *   cpu_burn    -> spin                          300 ms of CPU time, no blocking
 *
 * libc's syscall wrappers are frameless, so a frame-pointer chain taken in the
 * kernel skips the wrapper's direct caller (do_read); each function of
 * interest therefore reaches libc through a helper of its own and keeps its
 * own frame in the chain.
 *
 * The helper threads ("blk-pipe", "blk-mutex") are created before the delay
 * and block only in functions named helper_*, never in the functions above.
 * With --delay the main thread first sleeps SEC seconds in startup_delay, so
 * a profiler can attach with -p before the measured part starts.
 *
 * At the end the truth goes to stderr (and to FILE with --truth), one line per
 * function, times in microseconds of CLOCK_MONOTONIC around each blocking call:
 *   blocker: truth FUNC TOTAL_US CALLS EACH_US,EACH_US,...
 * and one line for the main thread as a whole (wall time since main() and the
 * thread's CPU time, so wall - cpu bounds its total off-CPU time):
 *   blocker: thread PID TID WALL_US CPU_US
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

const char *wl_name = "blocker";


#define NSEC_PER_MSEC 1000000LL

#define SLEEP_CALLS 5
#define SLEEP_NS (100 * NSEC_PER_MSEC)
#define PIPE_CALLS 3
#define PIPE_NS (200 * NSEC_PER_MSEC)
#define MUTEX_CALLS 3
#define MUTEX_NS (150 * NSEC_PER_MSEC)
#define BURN_NS (300 * NSEC_PER_MSEC)
#define MAX_CALLS 8

enum { F_SLEEP, F_PIPE, F_MUTEX, F_BURN, NR_FUNCS };

static const char *const func_names[NR_FUNCS] = {
    "sleep_wait",
    "pipe_wait",
    "mutex_wait",
    "cpu_burn",
};

/* Measured nanoseconds of each call of each function. */
static struct {
	long long ns[MAX_CALLS];
	int calls;
} truth[NR_FUNCS];

/* main -> pipe helper: "write the data byte in 200 ms"; helper -> main: the data. */
static int pipe_go[2], pipe_data[2];
/* main -> mutex helper: "take the mutex"; helper -> main: "taken". */
static int mutex_go[2], mutex_held[2];
static pthread_mutex_t the_mutex = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long sink;

static void record(int func, long long ns)
{
	if (truth[func].calls < MAX_CALLS)
		truth[func].ns[truth[func].calls++] = ns;
}

/* ---------------------------------------------------------- libc helpers */

static NOINLINE void do_lock(pthread_mutex_t *m)
{
	int err = pthread_mutex_lock(m);

	if (err)
		wl_die("pthread_mutex_lock", err);
	barrier();
}

static NOINLINE void do_unlock(pthread_mutex_t *m)
{
	int err = pthread_mutex_unlock(m);

	if (err)
		wl_die("pthread_mutex_unlock", err);
	barrier();
}

/* ---------------------------------------------------------- helper threads */

static NOINLINE void helper_wait_go(int fd)
{
	wl_read_byte(fd);
	barrier();
}

static NOINLINE void helper_pause(long long ns)
{
	do_nanosleep(ns);
	barrier();
}

static NOINLINE void *helper_pipe_loop(void *arg)
{
	int i;

	(void)arg;
	pthread_setname_np(pthread_self(), "blk-pipe");
	for (i = 0; i < PIPE_CALLS; i++) {
		helper_wait_go(pipe_go[0]);
		helper_pause(PIPE_NS);
		wl_write_byte(pipe_data[1], 'x');
	}
	return NULL;
}

static NOINLINE void *helper_mutex_loop(void *arg)
{
	int i;

	(void)arg;
	pthread_setname_np(pthread_self(), "blk-mutex");
	for (i = 0; i < MUTEX_CALLS; i++) {
		helper_wait_go(mutex_go[0]);
		do_lock(&the_mutex);
		wl_write_byte(mutex_held[1], 'x');
		helper_pause(MUTEX_NS);
		do_unlock(&the_mutex);
	}
	return NULL;
}

/* ---------------------------------------------------------- the main thread */

static NOINLINE void sleep_wait(void)
{
	do_nanosleep(SLEEP_NS);
	barrier();
}

static NOINLINE void pipe_wait(void)
{
	wl_read_byte(pipe_data[0]);
	barrier();
}

static NOINLINE void mutex_wait(void)
{
	do_lock(&the_mutex);
	barrier();
}

static NOINLINE void spin(long long cpu_ns)
{
	long long end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + cpu_ns;
	unsigned long acc = 0;
	long i;

	do {
		for (i = 0; i < 20000; i++) {
			acc += (unsigned long)i ^ (acc >> 3);
			barrier();
		}
	} while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
	sink += acc;
}

static NOINLINE void cpu_burn(void)
{
	spin(BURN_NS);
	barrier();
}

static NOINLINE void run_sleeps(void)
{
	long long t0;
	int i;

	for (i = 0; i < SLEEP_CALLS; i++) {
		t0 = wl_clock_ns(CLOCK_MONOTONIC);
		sleep_wait();
		record(F_SLEEP, wl_clock_ns(CLOCK_MONOTONIC) - t0);
	}
}

static NOINLINE void run_pipes(void)
{
	long long t0;
	int i;

	for (i = 0; i < PIPE_CALLS; i++) {
		/* The helper starts its 200 ms when it sees the go byte. */
		wl_write_byte(pipe_go[1], 'x');
		t0 = wl_clock_ns(CLOCK_MONOTONIC);
		pipe_wait();
		record(F_PIPE, wl_clock_ns(CLOCK_MONOTONIC) - t0);
	}
}

static NOINLINE void run_mutexes(void)
{
	long long t0;
	int i;

	for (i = 0; i < MUTEX_CALLS; i++) {
		wl_write_byte(mutex_go[1], 'x');
		/* Wait (outside mutex_wait) until the helper holds the mutex. */
		helper_wait_go(mutex_held[0]);
		t0 = wl_clock_ns(CLOCK_MONOTONIC);
		mutex_wait();
		record(F_MUTEX, wl_clock_ns(CLOCK_MONOTONIC) - t0);
		do_unlock(&the_mutex);
	}
}

static NOINLINE void run_burn(void)
{
	long long t0 = wl_clock_ns(CLOCK_MONOTONIC);

	cpu_burn();
	/* Wall time of the burn: CPU plus any preemption, never a blocking. */
	record(F_BURN, wl_clock_ns(CLOCK_MONOTONIC) - t0);
}

static void usage(void)
{
	fprintf(stderr, "usage: blocker [--delay SEC] [--truth FILE]\n");
	exit(2);
}

static void print_truth(FILE *f, long long wall_ns, long long cpu_ns)
{
	int i, j;

	for (i = 0; i < NR_FUNCS; i++) {
		long long sum = 0;

		for (j = 0; j < truth[i].calls; j++)
			sum += truth[i].ns[j];
		fprintf(f, "blocker: truth %s %lld %d ", func_names[i], sum / 1000, truth[i].calls);
		for (j = 0; j < truth[i].calls; j++)
			fprintf(f, "%s%lld", j ? "," : "", truth[i].ns[j] / 1000);
		fputc('\n', f);
	}
	fprintf(f, "blocker: thread %d %d %lld %lld\n", (int)getpid(), (int)gettid(),
		wall_ns / 1000, cpu_ns / 1000);
}

int main(int argc, char **argv)
{
	long long start = wl_clock_ns(CLOCK_MONOTONIC), wall, cpu;
	const char *truth_path = NULL;
	double delay = 0;
	pthread_t th[2];
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--delay") && i + 1 < argc) {
			char *end;

			delay = strtod(argv[++i], &end);
			if (end == argv[i] || *end || !(delay >= 0) || delay > 3600)
				usage();
		} else if (!strcmp(argv[i], "--truth") && i + 1 < argc) {
			truth_path = argv[++i];
		} else {
			usage();
		}
	}

	if (pipe(pipe_go) || pipe(pipe_data) || pipe(mutex_go) || pipe(mutex_held))
		wl_die("pipe", errno);
	err = pthread_create(&th[0], NULL, helper_pipe_loop, NULL);
	if (!err)
		err = pthread_create(&th[1], NULL, helper_mutex_loop, NULL);
	if (err)
		wl_die("pthread_create", err);

	if (delay > 0)
		startup_delay((long long)(delay * NSEC_PER_SEC));

	run_sleeps();
	run_pipes();
	run_mutexes();
	run_burn();

	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	wall = wl_clock_ns(CLOCK_MONOTONIC) - start;
	cpu = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID);

	print_truth(stderr, wall, cpu);
	if (truth_path) {
		FILE *f = fopen(truth_path, "w");

		if (!f)
			wl_die(truth_path, errno);
		print_truth(f, wall, cpu);
		if (fclose(f))
			wl_die(truth_path, errno);
	}
	return 0;
}

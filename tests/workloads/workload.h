/*
 * What the ground-truth workloads share: errors, clocks, argument parsing
 * and one-byte pipe I/O. Each workload is one program including this; the
 * I/O helpers are its own noinline functions, so frame-pointer stacks show
 * their callers even though libc's wrappers have no frame.
 */
#ifndef STACKPROF_WORKLOAD_H
#define STACKPROF_WORKLOAD_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
/* Keeps the compiler from merging or dropping the work around it. */
#define barrier() __asm__ __volatile__("" ::: "memory")

#define NSEC_PER_SEC 1000000000LL

/* The program's name in messages, set by each workload. */
extern const char *wl_name;

static inline void wl_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", wl_name, what, strerror(err));
	exit(1);
}

static inline long long wl_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * Burns @ns of the calling thread's CPU time in a busy loop, inlined into
 * the caller so that its samples land in the caller's own frame. Returns a
 * value derived from the work, for the caller to keep observable.
 */
static inline __attribute__((always_inline)) unsigned long wl_spin_cpu(long long ns)
{
	long long end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
	unsigned long acc = 0;

	do {
		for (long i = 0; i < 20000; i++) {
			acc += (unsigned long)i ^ (acc >> 3);
			barrier();
		}
	} while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
	return acc;
}

/* Seconds in [0, 86400]; anything else calls @usage. */
static inline double wl_parse_seconds(const char *s, void (*usage)(void))
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 86400)
		usage();
	return v;
}

/* Sleeps @ns nanoseconds, all of them whatever signals come, in a frame of its own. */
static NOINLINE __attribute__((unused)) void do_nanosleep(long long ns)
{
	struct timespec ts = {.tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	barrier();
}

/* Where a workload sleeps its --delay, so a profiler can attach with -p first. */
static NOINLINE __attribute__((unused)) void startup_delay(long long ns)
{
	do_nanosleep(ns);
	barrier();
}

/* Where a workload sleeps its --hold after the measured part. */
static NOINLINE __attribute__((unused)) void hold(long long ns)
{
	do_nanosleep(ns);
	barrier();
}

static NOINLINE __attribute__((unused)) void wl_write_byte(int fd, char c)
{
	ssize_t n;

	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		wl_die("write", n < 0 ? errno : EPIPE);
	barrier();
}

static NOINLINE __attribute__((unused)) char wl_read_byte(int fd)
{
	ssize_t n;
	char c;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		wl_die("read", n < 0 ? errno : EPIPE);
	barrier();
	return c;
}

#endif

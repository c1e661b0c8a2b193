/*
 * Workload with heavy context switching and a ground truth from the kernel:
 * two threads pass a byte back and forth over two pipes as fast as they can.
 *
 *   pingpong [--delay SEC] [--truth FILE] [--cpu N] [--tag TAG] [--pairs N]
 *            [--rate R] [SECONDS]                       (default 3 s)
 *
 * Thread "pp-ping" runs ping_loop -> ping_once -> do_write/do_read and thread
 * "pp-pong" runs pong_loop -> pong_once -> do_read/do_write; each blocks in
 * read (state S) while the other runs. The main thread ("pingpong") only
 * creates and joins them. With --cpu N both threads run on CPU N only, so each
 * wake-up may preempt the waker and the threads also wait on a run queue.
 * With --tag TAG the threads are named "ping-TAG" and "pong-TAG" instead, so
 * a system-wide profile can tell this run from any other pingpong.
 * With --pairs N there are N such pairs, each with its own two pipes, for a
 * heavier context-switch storm (the threads of every pair have the same
 * names). With --rate R each ping thread paces itself to at most R round
 * trips per second (sleeping until its next turn: one more switch-out per
 * round), for a lighter one.
 *
 * Each of the two threads reads, at its start and at its end, its wall clock
 * (CLOCK_MONOTONIC), its CPU time (CLOCK_THREAD_CPUTIME_ID, exact up to now)
 * and the run-queue wait the scheduler has charged it (/proc/thread-self/
 * schedstat, field 2), and prints the differences to stderr (and FILE):
 *   pingpong: thread ROLE COMM TID WALL_NS CPU_NS RUN_DELAY_NS TIMESLICES STEAL_NS
 * with ROLE "ping" or "pong", one such pair of lines per thread pair. STEAL_NS
 * is the time the hypervisor took from all CPUs together meanwhile (/proc/stat,
 * 10 ms ticks): a thread's CPU time leaves out time stolen while it ran, so
 * WALL - CPU overstates its off-CPU time by at most that much.
 * Between the two readings the thread is on CPU, blocked, or runnable and
 * waiting, so WALL - CPU is its whole off-CPU time and RUN_DELAY the part of
 * it spent runnable on a run queue (after a wake-up or a preemption).
 * Nothing blocks before the first or after the last reading.
 *
 * At the end: "pingpong: ROUNDS round trips in SECS s (RATE/s)", all pairs'
 * round trips together.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

const char *wl_name = "pingpong";



enum { BYTE_PING = 'p', BYTE_STOP = 's' };

struct times {
	long long wall, cpu, run_delay, slices, steal;
};

struct thread_truth {
	const char *role;
	char comm[16];
	int tid;
	struct times start, end;
};

/* Two threads and their pipes. */
struct pair {
	int to_pong[2], to_ping[2];
	unsigned long rounds;
	struct thread_truth ping, pong;
	pthread_t th[2];
};

static long long deadline_ns;
/* Nanoseconds between two round trips of one pair with --rate, else 0. */
static long long period_ns;
static char ping_comm[16] = "pp-ping", pong_comm[16] = "pp-pong";

/*
 * Nanoseconds the hypervisor has stolen from all CPUs together (the steal
 * column of /proc/stat's "cpu" line, in USER_HZ ticks), or -1.
 */
static long long read_steal(void)
{
	unsigned long long v[8];
	char buf[256];
	ssize_t n;
	long hz = sysconf(_SC_CLK_TCK);
	int fd;

	fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) != 8)
		return -1;
	return (long long)(v[7] * (NSEC_PER_SEC / hz));
}

/* Reads the calling thread's times without allocating or taking any lock. */
static void read_times(struct times *t)
{
	char buf[128];
	ssize_t n;
	int fd;

	t->run_delay = t->slices = -1;
	t->steal = read_steal();
	fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			unsigned long long on, delay, slices;

			buf[n] = 0;
			if (sscanf(buf, "%llu %llu %llu", &on, &delay, &slices) == 3) {
				t->run_delay = (long long)delay;
				t->slices = (long long)slices;
			}
		}
	}
	t->cpu = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	t->wall = wl_clock_ns(CLOCK_MONOTONIC);
}

static NOINLINE void ping_once(struct pair *p)
{
	wl_write_byte(p->to_pong[1], BYTE_PING);
	wl_read_byte(p->to_ping[0]);
	barrier();
}

/* With --rate: sleeps until @when (CLOCK_MONOTONIC ns) unless it has passed. */
static NOINLINE void pace(long long when)
{
	struct timespec ts = {.tv_sec = when / NSEC_PER_SEC, .tv_nsec = when % NSEC_PER_SEC};

	if (wl_clock_ns(CLOCK_MONOTONIC) < when)
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	barrier();
}

static NOINLINE void *ping_loop(void *arg)
{
	struct pair *p = arg;
	unsigned long n = 0;
	long long next;

	/* Named by the thread itself, before it can first be switched out. */
	pthread_setname_np(pthread_self(), p->ping.comm);
	p->ping.tid = gettid();
	read_times(&p->ping.start);
	next = p->ping.start.wall;
	do {
		ping_once(p);
		n++;
		if (period_ns) {
			next += period_ns;
			pace(next);
		}
	} while (wl_clock_ns(CLOCK_MONOTONIC) < deadline_ns);
	wl_write_byte(p->to_pong[1], BYTE_STOP);
	read_times(&p->ping.end);
	p->rounds = n;
	return NULL;
}

/* Returns 0 when told to stop. */
static NOINLINE int pong_once(struct pair *p)
{
	if (wl_read_byte(p->to_pong[0]) == BYTE_STOP)
		return 0;
	wl_write_byte(p->to_ping[1], BYTE_PING);
	barrier();
	return 1;
}

static NOINLINE void *pong_loop(void *arg)
{
	struct pair *p = arg;

	pthread_setname_np(pthread_self(), p->pong.comm);
	p->pong.tid = gettid();
	read_times(&p->pong.start);
	while (pong_once(p))
		;
	read_times(&p->pong.end);
	return NULL;
}

static void print_truth(FILE *f, const struct pair *pairs, int nr_pairs, double secs)
{
	unsigned long rounds = 0;
	int i;

	for (i = 0; i < 2 * nr_pairs; i++) {
		const struct pair *p = &pairs[i / 2];
		const struct thread_truth *t = i % 2 ? &p->pong : &p->ping;

		fprintf(f, "pingpong: thread %s %s %d %lld %lld %lld %lld %lld\n", t->role, t->comm,
			t->tid, t->end.wall - t->start.wall, t->end.cpu - t->start.cpu,
			t->end.run_delay - t->start.run_delay, t->end.slices - t->start.slices,
			t->start.steal < 0 || t->end.steal < 0 ? -1
							       : t->end.steal - t->start.steal);
		if (i % 2)
			rounds += p->rounds;
	}
	fprintf(f, "pingpong: %lu round trips in %.3f s (%.0f/s)\n", rounds, secs,
		secs > 0 ? rounds / secs : 0.0);
}

static void usage(void)
{
	fprintf(stderr, "usage: pingpong [--delay SEC] [--truth FILE] [--cpu N] [--tag TAG] "
			"[--pairs N] [--rate R] [SECONDS]\n");
	exit(2);
}

/* A thread name holds 15 characters: "ping-" and up to 10 of TAG. */
static void set_tag(const char *tag)
{
	if (!*tag || strlen(tag) > 10 || strchr(tag, ' '))
		usage();
	snprintf(ping_comm, sizeof(ping_comm), "ping-%s", tag);
	snprintf(pong_comm, sizeof(pong_comm), "pong-%s", tag);
}

/* An integer in [@lo, @hi]; anything else calls usage(). */
static long parse_long(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *truth_path = NULL;
	double seconds = 3, delay = 0, secs;
	long long t0;
	struct pair *pairs;
	int i, err = 0, have_secs = 0, cpu = -1, nr_pairs = 1;
	long rate = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--delay") && i + 1 < argc)
			delay = wl_parse_seconds(argv[++i], usage);
		else if (!strcmp(argv[i], "--truth") && i + 1 < argc)
			truth_path = argv[++i];
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = (int)parse_long(argv[++i], 0, CPU_SETSIZE - 1);
		else if (!strcmp(argv[i], "--tag") && i + 1 < argc)
			set_tag(argv[++i]);
		else if (!strcmp(argv[i], "--pairs") && i + 1 < argc)
			nr_pairs = (int)parse_long(argv[++i], 1, 1000);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = parse_long(argv[++i], 1, 100000000);
		else if (argv[i][0] != '-' && !have_secs++)
			seconds = wl_parse_seconds(argv[i], usage);
		else
			usage();
	}

	if (delay > 0) {
		struct timespec ts = {.tv_sec = (time_t)delay,
				      .tv_nsec = (long)((delay - (time_t)delay) * NSEC_PER_SEC)};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		/* Inherited by the threads created below. */
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			wl_die("sched_setaffinity", errno);
	}
	period_ns = rate ? NSEC_PER_SEC / rate : 0;
	pairs = calloc(nr_pairs, sizeof(*pairs));
	if (!pairs)
		wl_die("calloc", ENOMEM);
	for (i = 0; i < nr_pairs; i++) {
		struct pair *p = &pairs[i];

		if (pipe(p->to_pong) || pipe(p->to_ping))
			wl_die("pipe", errno);
		p->ping.role = "ping";
		p->pong.role = "pong";
		memcpy(p->ping.comm, ping_comm, sizeof(ping_comm));
		memcpy(p->pong.comm, pong_comm, sizeof(pong_comm));
	}

	t0 = wl_clock_ns(CLOCK_MONOTONIC);
	deadline_ns = t0 + (long long)(seconds * NSEC_PER_SEC);
	for (i = 0; i < nr_pairs && !err; i++) {
		err = pthread_create(&pairs[i].th[1], NULL, pong_loop, &pairs[i]);
		if (!err)
			err = pthread_create(&pairs[i].th[0], NULL, ping_loop, &pairs[i]);
	}
	if (err)
		wl_die("pthread_create", err);
	for (i = 0; i < 2 * nr_pairs; i++)
		pthread_join(pairs[i / 2].th[i % 2], NULL);
	secs = (wl_clock_ns(CLOCK_MONOTONIC) - t0) / (double)NSEC_PER_SEC;

	print_truth(stderr, pairs, nr_pairs, secs);
	if (truth_path) {
		FILE *f = fopen(truth_path, "w");

		if (!f)
			wl_die(truth_path, errno);
		print_truth(f, pairs, nr_pairs, secs);
		if (fclose(f))
			wl_die(truth_path, errno);
	}
	free(pairs);
	return 0;
}

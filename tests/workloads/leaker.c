/*
 * Workload with leaks known exactly: named functions leave a known number of
 * blocks of known sizes allocated, through every allocator entry point
 * memleak probes, while other functions allocate and free much more, so a
 * test compares what memleak reports outstanding per stack with the truth.
 *
 *   leaker [--delay SEC] [--hold SEC] [--truth FILE] [--threads N]
 *   leaker --bench M
 *
 * After --delay SEC (slept in startup_delay, so a profiler can attach with
 * -p first), the main thread runs, each function calling the allocator
 * itself (the allocation stack is taken at the return probe, so the function
 * that called malloc is the leaf user frame):
 *   leak_malloc    10 x malloc(1000)                           10000 bytes, 10 blocks
 *   leak_calloc     5 x calloc(20, 100)                        10000 bytes,  5 blocks
 *   leak_realloc    3 x malloc(100) -> realloc(500) -> realloc(2000)
 *                                                               6000 bytes,  3 blocks
 *   leak_memalign   4 x posix_memalign(&p, 64, 4096), p local  16384 bytes,  4 blocks
 *   leak_aligned    2 x aligned_alloc(256, 1024)                2048 bytes,  2 blocks
 *   churn          10000 blocks of varying sizes through malloc, calloc,
 *                  realloc (growing, realloc(NULL, n), realloc(p, 0)),
 *                  reallocarray, posix_memalign, aligned_alloc, memalign,
 *                  valloc and pvalloc, all freed again: 0 bytes outstanding
 * With --threads N, N threads (started after the delay, released together
 * with the main thread's work) each run thread_leak: 100 x malloc(64), each
 * followed by a little churn (thread_churn, all freed), so thread_leak
 * leaves exactly N x 6400 bytes in N x 100 blocks.
 *
 * Then the truth goes to stderr (and to FILE with --truth), one line per
 * function, in bytes and blocks still allocated:
 *   leaker: truth FUNC BYTES COUNT
 * and one line with every allocator call of the measured part, counted the
 * way memleak counts (a realloc that moves or resizes a block is a free of
 * the old block and an allocation of the new one; realloc(p, 0) is a free):
 *   leaker: calls ALLOCATIONS FREES BYTES_ALLOCATED BYTES_FREED
 *   leaker: pid PID
 * Then it sleeps --hold SEC and exits 0. The leaks are never freed.
 *
 * --bench M times M malloc/free pairs in bench_loop (nothing else runs) and
 * prints on stdout:
 *   leaker: bench M pairs in NS ns: NS_PER_PAIR ns per pair
 *
 * Nothing uses stdio before or during the measured part: stdio allocates
 * its buffers under its own frames, never under the functions above, but
 * keeping it out keeps the totals line exact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

const char *wl_name = "leaker";

#define MALLOC_CALLS 10
#define MALLOC_SIZE 1000
#define CALLOC_CALLS 5
#define CALLOC_N 20
#define CALLOC_SIZE 100
#define REALLOC_CHAINS 3
#define REALLOC_SIZE0 100
#define REALLOC_SIZE1 500
#define REALLOC_SIZE2 2000
#define MEMALIGN_CALLS 4
#define MEMALIGN_ALIGN 64
#define MEMALIGN_SIZE 4096
#define ALIGNED_CALLS 2
#define ALIGNED_ALIGN 256
#define ALIGNED_SIZE 1024
#define CHURN_BLOCKS 10000
#define THREAD_CALLS 100
#define THREAD_SIZE 64
#define THREAD_CHURN 20 /* blocks churned after each thread_leak allocation */
#define MAX_THREADS 64
#define CHURN_WINDOW 32 /* blocks churn keeps alive at once */

enum { F_MALLOC, F_CALLOC, F_REALLOC, F_MEMALIGN, F_ALIGNED, F_CHURN, F_THREAD, NR_FUNCS };

static const char *const func_names[NR_FUNCS] = {
    "leak_malloc",  "leak_calloc", "leak_realloc", "leak_memalign",
    "leak_aligned", "churn",	   "thread_leak",
};

/* Per function: bytes and blocks left allocated (under truth_lock from threads). */
static struct {
	unsigned long long bytes, count;
} truth[NR_FUNCS];

/* Every allocator call of the measured part, counted as memleak counts them. */
static struct {
	unsigned long long allocs, frees, bytes_allocated, bytes_freed;
} calls;

static pthread_mutex_t truth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_line;

/* The leaked blocks stay reachable from here, so nothing can drop them. */
static void *kept[MALLOC_CALLS + CALLOC_CALLS + REALLOC_CHAINS + MEMALIGN_CALLS + ALIGNED_CALLS];
static unsigned int nr_kept;
static void *thread_kept[MAX_THREADS][THREAD_CALLS];
static volatile unsigned long sink;

/* ---------------------------------------------------------- bookkeeping */

/* Per-thread tallies, added to the shared ones once at the end of each thread. */
struct tally {
	unsigned long long allocs, frees, bytes_allocated, bytes_freed;
	unsigned long long leak_bytes, leak_count;
};

static void *must(void *p, const char *what)
{
	if (!p)
		wl_die(what, ENOMEM);
	/* Touch it, as a program would. */
	*(volatile char *)p = 1;
	return p;
}

static void count_alloc(struct tally *t, size_t size)
{
	t->allocs++;
	t->bytes_allocated += size;
}

static void count_free(struct tally *t, size_t size)
{
	t->frees++;
	t->bytes_freed += size;
}

static void add_tally(int func, const struct tally *t)
{
	pthread_mutex_lock(&truth_lock);
	truth[func].bytes += t->leak_bytes;
	truth[func].count += t->leak_count;
	calls.allocs += t->allocs;
	calls.frees += t->frees;
	calls.bytes_allocated += t->bytes_allocated;
	calls.bytes_freed += t->bytes_freed;
	pthread_mutex_unlock(&truth_lock);
}

static void keep(struct tally *t, void *p, size_t size)
{
	kept[nr_kept++] = p;
	t->leak_bytes += size;
	t->leak_count++;
}

/* ---------------------------------------------------------- the leaks */

static NOINLINE void leak_malloc(void)
{
	struct tally t = {0};
	int i;

	for (i = 0; i < MALLOC_CALLS; i++) {
		void *p = must(malloc(MALLOC_SIZE), "malloc");

		count_alloc(&t, MALLOC_SIZE);
		keep(&t, p, MALLOC_SIZE);
	}
	add_tally(F_MALLOC, &t);
	barrier();
}

static NOINLINE void leak_calloc(void)
{
	struct tally t = {0};
	int i;

	for (i = 0; i < CALLOC_CALLS; i++) {
		void *p = must(calloc(CALLOC_N, CALLOC_SIZE), "calloc");

		count_alloc(&t, CALLOC_N * CALLOC_SIZE);
		keep(&t, p, CALLOC_N * CALLOC_SIZE);
	}
	add_tally(F_CALLOC, &t);
	barrier();
}

static NOINLINE void leak_realloc(void)
{
	struct tally t = {0};
	int i;

	for (i = 0; i < REALLOC_CHAINS; i++) {
		void *p = must(malloc(REALLOC_SIZE0), "malloc");

		count_alloc(&t, REALLOC_SIZE0);
		/* Each realloc frees the block it is given and allocates its result. */
		p = must(realloc(p, REALLOC_SIZE1), "realloc");
		count_free(&t, REALLOC_SIZE0);
		count_alloc(&t, REALLOC_SIZE1);
		p = must(realloc(p, REALLOC_SIZE2), "realloc");
		count_free(&t, REALLOC_SIZE1);
		count_alloc(&t, REALLOC_SIZE2);
		keep(&t, p, REALLOC_SIZE2);
	}
	add_tally(F_REALLOC, &t);
	barrier();
}

static NOINLINE void leak_memalign(void)
{
	struct tally t = {0};
	int i, err;

	for (i = 0; i < MEMALIGN_CALLS; i++) {
		void *p = NULL; /* posix_memalign writes the result here, in this frame */

		err = posix_memalign(&p, MEMALIGN_ALIGN, MEMALIGN_SIZE);
		if (err)
			wl_die("posix_memalign", err);
		must(p, "posix_memalign");
		count_alloc(&t, MEMALIGN_SIZE);
		keep(&t, p, MEMALIGN_SIZE);
	}
	add_tally(F_MEMALIGN, &t);
	barrier();
}

static NOINLINE void leak_aligned(void)
{
	struct tally t = {0};
	int i;

	for (i = 0; i < ALIGNED_CALLS; i++) {
		void *p = must(aligned_alloc(ALIGNED_ALIGN, ALIGNED_SIZE), "aligned_alloc");

		count_alloc(&t, ALIGNED_SIZE);
		keep(&t, p, ALIGNED_SIZE);
	}
	add_tally(F_ALIGNED, &t);
	barrier();
}

/* ---------------------------------------------------------- churn */

/* One block of churn: the block in slot @i of @win is freed and replaced. */
struct churn_state {
	void *win[CHURN_WINDOW];
	size_t size[CHURN_WINDOW];
	unsigned long n;
	struct tally t;
};

/* Frees the block in slot @i, if any. */
static void churn_free(struct churn_state *c, int i)
{
	if (!c->win[i])
		return;
	free(c->win[i]);
	count_free(&c->t, c->size[i]);
	c->win[i] = NULL;
}

/* Allocates one block through the next allocator function in turn, into slot @i. */
static void churn_one(struct churn_state *c, int i)
{
	unsigned long n = c->n++;
	size_t size = 24 + (n * 37) % 3000;
	void *p = NULL, *q;
	int err;

	switch (n % 12) {
	case 0:
	case 1:
	case 2:
		p = must(malloc(size), "malloc");
		break;
	case 3:
		p = must(calloc(size / 8 + 1, 8), "calloc");
		size = (size / 8 + 1) * 8;
		break;
	case 4: /* grows a block: frees the small one, allocates the result */
		q = must(malloc(size / 2 + 1), "malloc");
		count_alloc(&c->t, size / 2 + 1);
		p = must(realloc(q, size), "realloc");
		count_free(&c->t, size / 2 + 1);
		break;
	case 5: /* realloc(NULL, n) is malloc(n) */
		p = must(realloc(NULL, size), "realloc");
		break;
	case 6: /* realloc(p, 0) frees p (glibc) and returns NULL, or a minimal block */
		q = must(malloc(size), "malloc");
		count_alloc(&c->t, size);
		p = realloc(q, 0);
		count_free(&c->t, size);
		if (p) {
			size = 0;
			break;
		}
		p = must(malloc(size), "malloc");
		break;
	case 7:
		p = must(reallocarray(NULL, size / 4 + 1, 4), "reallocarray");
		size = (size / 4 + 1) * 4;
		break;
	case 8:
		err = posix_memalign(&p, 32, size);
		if (err)
			wl_die("posix_memalign", err);
		must(p, "posix_memalign");
		break;
	case 9:
		size = (size + 127) & ~(size_t)127;
		p = must(aligned_alloc(128, size), "aligned_alloc");
		break;
	case 10:
		p = must(memalign(64, size), "memalign");
		break;
	case 11:
		p = must(n % 24 == 11 ? valloc(size) : pvalloc(size), "valloc");
		break;
	}
	count_alloc(&c->t, size);
	c->win[i] = p;
	c->size[i] = size;
}

/* @blocks allocations, each freeing the block allocated CHURN_WINDOW steps earlier. */
static NOINLINE void churn_steps(struct churn_state *c, int blocks)
{
	int k;

	for (k = 0; k < blocks; k++) {
		int i = (int)(c->n % CHURN_WINDOW);

		churn_free(c, i);
		churn_one(c, i);
	}
	barrier();
}

static NOINLINE void churn_drain(struct churn_state *c)
{
	int i;

	for (i = 0; i < CHURN_WINDOW; i++)
		churn_free(c, i);
	barrier();
}

static NOINLINE void churn(void)
{
	struct churn_state c;

	memset(&c, 0, sizeof(c));
	churn_steps(&c, CHURN_BLOCKS);
	churn_drain(&c);
	add_tally(F_CHURN, &c.t);
	barrier();
}

/* ---------------------------------------------------------- threads */

static NOINLINE void thread_churn(struct churn_state *c)
{
	churn_steps(c, THREAD_CHURN);
	barrier();
}

static NOINLINE void thread_leak(int idx)
{
	struct churn_state c;
	struct tally t = {0};
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < THREAD_CALLS; i++) {
		thread_kept[idx][i] = must(malloc(THREAD_SIZE), "malloc");
		count_alloc(&t, THREAD_SIZE);
		t.leak_bytes += THREAD_SIZE;
		t.leak_count++;
		thread_churn(&c);
	}
	churn_drain(&c);
	add_tally(F_THREAD, &t);
	/* The churn is freed: it goes to the totals, not to thread_leak's leak. */
	c.t.leak_bytes = c.t.leak_count = 0;
	add_tally(F_THREAD, &c.t);
	barrier();
}

static NOINLINE void *thread_main(void *arg)
{
	pthread_barrier_wait(&start_line);
	thread_leak((int)(intptr_t)arg);
	return NULL;
}

static NOINLINE void start_threads(pthread_t *th, int n)
{
	int i, err;

	for (i = 0; i < n; i++) {
		err = pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)i);
		if (err)
			wl_die("pthread_create", err);
	}
	barrier();
}

static NOINLINE void join_threads(pthread_t *th, int n)
{
	int i;

	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	barrier();
}

/* ---------------------------------------------------------- main */

static NOINLINE void bench_loop(long m)
{
	long i;

	for (i = 0; i < m; i++) {
		void *p = malloc(16 + (size_t)(i & 255));

		if (!p)
			wl_die("malloc", ENOMEM);
		barrier();
		free(p);
	}
	barrier();
}

static NOINLINE void bench(long m)
{
	long long t0, ns;

	bench_loop(m / 100 + 1); /* warm the allocator's caches */
	t0 = wl_clock_ns(CLOCK_MONOTONIC);
	bench_loop(m);
	ns = wl_clock_ns(CLOCK_MONOTONIC) - t0;
	printf("leaker: bench %ld pairs in %lld ns: %.1f ns per pair\n", m, ns,
	       (double)ns / (double)m);
}

static void usage(void)
{
	fprintf(stderr, "usage: leaker [--delay SEC] [--hold SEC] [--truth FILE] [--threads N]\n"
			"       leaker --bench M\n");
	exit(2);
}

static void print_truth(FILE *f)
{
	int i;

	for (i = 0; i < NR_FUNCS; i++)
		fprintf(f, "leaker: truth %s %llu %llu\n", func_names[i], truth[i].bytes,
			truth[i].count);
	fprintf(f, "leaker: calls %llu %llu %llu %llu\n", calls.allocs, calls.frees,
		calls.bytes_allocated, calls.bytes_freed);
	fprintf(f, "leaker: pid %d\n", (int)getpid());
}

static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *truth_path = NULL;
	double delay = 0, hold_s = 0;
	long nthreads = 0, bench_pairs = -1;
	pthread_t th[MAX_THREADS];
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--delay") && i + 1 < argc)
			delay = wl_parse_seconds(argv[++i], usage);
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold_s = wl_parse_seconds(argv[++i], usage);
		else if (!strcmp(argv[i], "--truth") && i + 1 < argc)
			truth_path = argv[++i];
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = parse_count(argv[++i], MAX_THREADS);
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench_pairs = parse_count(argv[++i], 1000000000L);
		else
			usage();
	}
	if (bench_pairs > 0) {
		bench(bench_pairs);
		return 0;
	}

	err = pthread_barrier_init(&start_line, NULL, (unsigned int)nthreads + 1);
	if (err)
		wl_die("pthread_barrier_init", err);
	if (delay > 0)
		startup_delay((long long)(delay * NSEC_PER_SEC));

	/* The measured part. */
	start_threads(th, (int)nthreads);
	pthread_barrier_wait(&start_line);
	leak_malloc();
	leak_calloc();
	leak_realloc();
	leak_memalign();
	leak_aligned();
	churn();
	join_threads(th, (int)nthreads);
	sink += (unsigned long)kept[0] + nr_kept;

	print_truth(stderr);
	if (truth_path) {
		FILE *f = fopen(truth_path, "w");

		if (!f)
			wl_die(truth_path, errno);
		print_truth(f);
		if (fclose(f))
			wl_die(truth_path, errno);
	}
	if (hold_s > 0)
		hold((long long)(hold_s * NSEC_PER_SEC));
	return 0;
}

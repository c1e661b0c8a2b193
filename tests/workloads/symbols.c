/*
 * Workload whose frames need more than .symtab to be named, with CPU shares
 * known by construction (thread CPU time, 1:1:2):
 *
 *   symbols [SECONDS]    main -> run -> cpp_hot  (a C++-mangled symbol)  1/4
 *                                    -> rust_hot (a Rust v0 symbol)      1/4
 *                                    -> call_jit -> jit_spin             2/4
 *
 * cpp_hot and rust_hot are C functions given mangled assembler names, so a
 * profiler must demangle them to "stackprof::demo::cpp_hot" and
 * "demo::rust_hot". jit_spin is machine code copied into anonymous
 * executable memory at run time, as a JIT compiler makes it; its name is in
 * /tmp/perf-PID.map, written the way JITs write it for profilers. The map
 * is left behind for the profiler to read after the run (the caller removes
 * it); its path is printed on stderr.
 *
 *   symbols --inline [SECONDS]
 *                        main -> run_inline -> outer_inl -> [inl_hot] -> burn,
 *                        all the time; inl_hot is always inlined into
 *                        outer_inl (the workloads are built -fno-inline, which
 *                        always_inline overrides), so only DWARF knows it is
 *                        there. Its call to burn is on the line marked
 *                        "CALL-BURN" below, its own call site in outer_inl on
 *                        the line marked "CALL-INL".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

const char *wl_name = "symbols";

/* One round: 10 ms of CPU in each mangled function, 20 ms in the JIT code. */
#define UNIT_NS (10 * 1000 * 1000LL)

/*
 * x86-64 for "count %rdi down to zero":
 *   mov %rdi,%rax; 1: dec %rax; jnz 1b; ret
 */
static const unsigned char jit_code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };
#define JIT_ITERS 200000L

static void (*jit_spin)(long);
static volatile unsigned long sink;

static void burn(long long ns)
{
	sink += wl_spin_cpu(ns);
}

void cpp_hot(long long ns) __asm__("_ZN9stackprof4demo7cpp_hotEx");
NOINLINE void cpp_hot(long long ns)
{
	burn(ns);
	barrier();
}

void rust_hot(long long ns) __asm__("_RNvCs1234_4demo8rust_hot");
NOINLINE void rust_hot(long long ns)
{
	burn(ns);
	barrier();
}

static NOINLINE void call_jit(long long ns)
{
	long long end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;

	do
		jit_spin(JIT_ITERS);
	while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
	barrier();
}

static inline __attribute__((always_inline)) void inl_hot(long long ns)
{
	burn(ns); /* CALL-BURN */
	barrier();
}

static NOINLINE void outer_inl(long long ns)
{
	inl_hot(ns); /* CALL-INL */
	barrier();
}

static NOINLINE void run_inline(void)
{
	outer_inl(UNIT_NS);
	barrier();
}

static NOINLINE void run(void)
{
	cpp_hot(UNIT_NS);
	rust_hot(UNIT_NS);
	call_jit(2 * UNIT_NS);
	barrier();
}

/* Generates the JIT code and lists it in the perf map. */
static void jit_setup(void)
{
	char path[64];
	void *mem;
	FILE *f;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		wl_die("mmap", errno);
	memcpy(mem, jit_code, sizeof(jit_code));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC))
		wl_die("mprotect", errno);
	jit_spin = (void (*)(long))mem;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		wl_die(path, errno);
	fprintf(f, "%lx %zx jit_spin\n", (unsigned long)(uintptr_t)mem, sizeof(jit_code));
	if (fclose(f))
		wl_die(path, errno);
	fprintf(stderr, "symbols: perf map %s\n", path);
}

static void usage(void)
{
	fprintf(stderr, "usage: symbols [--inline] [SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	void (*round)(void) = run;
	double seconds = 2;
	long long end;

	if (argc > 1 && !strcmp(argv[1], "--inline")) {
		round = run_inline;
		argc--;
		argv++;
	}
	if (argc > 2)
		usage();
	if (argc == 2)
		seconds = wl_parse_seconds(argv[1], usage);
	if (round == run)
		jit_setup();
	end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + (long long)(seconds * NSEC_PER_SEC);
	while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		round();
	return 0;
}

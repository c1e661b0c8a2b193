/*
 * The symbolization facade: the mapping model (mmap, replace, fork, exec,
 * exit, and freeing a second after an exit), location encoding, names for leaf and return addresses, the
 * "[unknown]" and "[dso+0xoff]" fallbacks, thread names, kernel names from a
 * fixture, and this very process symbolized through /proc/self/maps.
 */
#define _GNU_SOURCE /* gettid, pthread_setname_np */
#include "symbols/syms.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* Above the largest pid_max (2^22): never a live process, so /proc never answers. */
#define FAKE_PID 0x7ffff000u
#define FAKE_CHILD 0x7ffff001u

static char dir[512];

#define LOC(id, off) (((uint64_t)(id) << SYMS_LOC_DSO_SHIFT) | (off))

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static void test_model(void)
{
	char a[1024], b[1024];
	struct syms *s = syms__new("/nonexistent");
	uint64_t loc;
	uint32_t ida, idb;

	CHECK(s != NULL);
	if (!s)
		return;
	snprintf(a, sizeof(a), "%s/a.bin", dir);
	snprintf(b, sizeof(b), "%s/b.bin", dir);

	CHECK(!syms__knows(s, FAKE_PID));
	/* No such process: ENOENT, remembered, and addresses stay raw. */
	CHECK(syms__proc_load(s, FAKE_PID) == -ENOENT);
	CHECK(!syms__knows(s, FAKE_PID));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x1234), 0x1234);

	syms__mmap(s, FAKE_PID, 0x10000, 0x3000, 0x4000, a);
	CHECK(syms__knows(s, FAKE_PID));
	loc = syms__encode_user(s, FAKE_PID, 0x10800);
	ida = SYMS_LOC_DSO(loc);
	CHECK(ida >= 1);
	CHECK_EQ_U64(SYMS_LOC_OFF(loc), 0x4800);
	CHECK_STR(syms__dso_path(s, ida), a);
	CHECK(syms__dso_path(s, 0) == NULL);
	CHECK(syms__dso_path(s, ida + 100) == NULL);
	/* Just below, at the last byte, just past the end. */
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0xffff), 0xffff);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x12fff), LOC(ida, 0x6fff));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x13000), 0x13000);

	/* A new mapping in the middle splits the old one; the tail keeps its file offsets. */
	syms__mmap(s, FAKE_PID, 0x11000, 0x1000, 0x100000, b);
	loc = syms__encode_user(s, FAKE_PID, 0x11010);
	idb = SYMS_LOC_DSO(loc);
	CHECK(idb != ida && idb >= 1);
	CHECK_EQ_U64(SYMS_LOC_OFF(loc), 0x100010);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x10ff0), LOC(ida, 0x4ff0));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x12010), LOC(ida, 0x6010));
	/* The same path again gets the same id. */
	syms__mmap(s, FAKE_PID, 0x20000, 0x1000, 0, a);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x20001), LOC(ida, 1));

	/* Anonymous memory over the tail unmaps it; one over the head trims it. */
	syms__mmap(s, FAKE_PID, 0x12000, 0x1000, 0, "//anon");
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x12010), 0x12010);
	syms__mmap(s, FAKE_PID, 0xf000, 0x1800, 0, NULL);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x107ff), 0x107ff);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x10800), LOC(ida, 0x4800));
	/* One mapping covering several replaces them all. */
	syms__mmap(s, FAKE_PID, 0x8000, 0x10000, 0, b);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x10800), LOC(idb, 0x8800));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x11010), LOC(idb, 0x9010));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x20001), LOC(ida, 1)); /* untouched */
	/* Garbage: empty and wrapping ranges change nothing. */
	syms__mmap(s, FAKE_PID, 0x10000, 0, 0, a);
	syms__mmap(s, FAKE_PID, UINT64_MAX - 10, 100, 0, a);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x10800), LOC(idb, 0x8800));

	/* fork copies, and the copies are independent. */
	syms__fork(s, FAKE_PID, FAKE_CHILD);
	CHECK(syms__knows(s, FAKE_CHILD));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_CHILD, 0x10800), LOC(idb, 0x8800));
	syms__mmap(s, FAKE_CHILD, 0x10000, 0x1000, 0, a);
	CHECK_EQ_U64(syms__encode_user(s, FAKE_CHILD, 0x10800), LOC(ida, 0x800));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x10800), LOC(idb, 0x8800));
	/* exec drops the mappings but the process stays known (no /proc retry). */
	syms__exec(s, FAKE_CHILD);
	CHECK(syms__knows(s, FAKE_CHILD));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_CHILD, 0x10800), 0x10800);
	/* exit keeps them a second: late samples are still encoded. */
	syms__exit(s, FAKE_PID, FAKE_PID, 1000);
	syms__reap(s, 1000 + 999999999ULL);
	CHECK(syms__knows(s, FAKE_PID));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_PID, 0x10800), LOC(idb, 0x8800));
	/* A fork from a parent we know nothing of leaves the child unknown. */
	syms__fork(s, FAKE_PID + 5, FAKE_CHILD);
	CHECK(!syms__knows(s, FAKE_CHILD));
	CHECK_EQ_U64(syms__encode_user(s, FAKE_CHILD, 0x10800), 0x10800);

	CHECK(syms__bytes(s) > 0);
	syms__delete(s);
}

/*
 * Exited tasks are freed a second (of record time) after their exit, unless
 * a fork or a new name brought the id back; locations encoded before stay
 * nameable, and freed thread-name slots are reused.
 */
static void test_exit_reaping(void)
{
	const uint64_t sec = 1000000000ULL;
	struct syms *s = syms__new("/nonexistent");
	struct syms_stats st;
	char a[1024];
	uint64_t loc;

	CHECK(s != NULL);
	if (!s)
		return;
	snprintf(a, sizeof(a), "%s/a.bin", dir);
	syms__mmap(s, FAKE_PID, 0x10000, 0x3000, 0x4000, a);
	syms__set_comm(s, FAKE_PID, "main");
	syms__set_comm(s, FAKE_PID + 10, "worker");
	loc = syms__encode_user(s, FAKE_PID, 0x10800);
	CHECK_EQ_U64(loc >> SYMS_LOC_DSO_SHIFT != 0, 1);

	/* The thread first, then the process. */
	syms__exit(s, FAKE_PID, FAKE_PID + 10, 10 * sec);
	syms__exit(s, FAKE_PID, FAKE_PID, 12 * sec);
	syms__reap(s, 11 * sec - 1);
	syms__stats(s, &st);
	CHECK_EQ_U64(st.freed_comms, 0);
	CHECK_EQ_U64(st.dead_procs, 1);
	CHECK_EQ_U64(st.dead_comms, 2);
	CHECK_EQ_U64(st.procs, 0);
	CHECK_EQ_U64(st.comms, 0);
	CHECK(!strcmp(syms__comm(s, FAKE_PID, FAKE_PID + 10), "worker"));
	syms__reap(s, 11 * sec);
	syms__stats(s, &st);
	CHECK_EQ_U64(st.freed_comms, 1);
	CHECK_EQ_U64(st.freed_procs, 0);
	CHECK(syms__knows(s, FAKE_PID));
	syms__reap(s, 13 * sec);
	syms__stats(s, &st);
	CHECK_EQ_U64(st.freed_procs, 1);
	CHECK_EQ_U64(st.freed_comms, 2);
	CHECK_EQ_U64(st.procs, 0);
	CHECK_EQ_U64(st.dead_procs, 0);
	CHECK_EQ_U64(st.dead_comms, 0);
	CHECK(!syms__knows(s, FAKE_PID));
	/* The location stored before needs no model: its file is still known. */
	CHECK(syms__dso_path(s, SYMS_LOC_DSO(loc)) && !strcmp(syms__dso_path(s, SYMS_LOC_DSO(loc)), a));

	/* A pid reused by a new process before the second is over keeps its new model. */
	syms__mmap(s, FAKE_PID, 0x10000, 0x3000, 0x4000, a);
	syms__exit(s, FAKE_CHILD, FAKE_CHILD, 20 * sec);
	syms__fork(s, FAKE_PID, FAKE_CHILD);
	syms__reap(s, 30 * sec);
	CHECK(syms__knows(s, FAKE_CHILD));
	/* A tid named anew (a new thread) keeps its new name; the freed slot is reused. */
	syms__set_comm(s, FAKE_PID + 20, "old");
	syms__exit(s, FAKE_PID, FAKE_PID + 20, 31 * sec);
	syms__set_comm(s, FAKE_PID + 20, "new");
	syms__reap(s, 40 * sec);
	CHECK(!strcmp(syms__comm(s, FAKE_PID, FAKE_PID + 20), "new"));
	syms__stats(s, &st);
	CHECK_EQ_U64(st.freed_comms, 2);
	CHECK_EQ_U64(st.freed_procs, 1);
	syms__delete(s);
}

static void test_maps_text(void)
{
	struct syms *s = syms__new(NULL);
	uint64_t loc;
	FILE *f = tmpfile();

	CHECK(s && f);
	if (!s || !f)
		return;
	fputs("00400000-00452000 r-xp 00001000 08:02 173521      /usr/bin/dbus-daemon\n"
	      "00651000-00652000 r--p 00051000 08:02 173521      /usr/bin/dbus-daemon\n"
	      "7f0000000000-7f0000001000 r-xp 00000000 00:00 0 \n"
	      "7f0000001000-7f0000002000 r-xp 00000000 00:00 0\n"
	      "7f0000002000-7f0000003000 r-xp 00002000 08:02 1 /tmp/with space (deleted)\n"
	      "garbage\n"
	      "7f0000004000-\n"
	      "7f0000004000-7f0000005000 r-x\n"
	      "7f0000005000-7f0000004000 r-xp 00000000 08:02 1 /backwards\n"
	      "7f0000006000-7f0000007000 r-xp 00000000 08:02\n"
	      "zzzz-7f0000008000 r-xp 00000000 08:02 1 /bad/start\n"
	      "7ffd0000a000-7ffd0000c000 r-xp 00000000 00:00 0                          [vdso]\n"
	      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
	      f);
	rewind(f);
	CHECK(syms__maps_read(s, 42, f) == 0);
	fclose(f);
	loc = syms__encode_user(s, 42, 0x400010);
	CHECK_EQ_U64(SYMS_LOC_OFF(loc), 0x1010);
	CHECK_STR(syms__dso_path(s, SYMS_LOC_DSO(loc)), "/usr/bin/dbus-daemon");
	/* read-only mapping: not ours */
	CHECK_EQ_U64(SYMS_LOC_DSO(syms__encode_user(s, 42, 0x651000)), 0);
	CHECK_EQ_U64(SYMS_LOC_DSO(syms__encode_user(s, 42, 0x7f0000000010ULL)), 0);
	CHECK_EQ_U64(SYMS_LOC_DSO(syms__encode_user(s, 42, 0x7f0000001010ULL)), 0);
	loc = syms__encode_user(s, 42, 0x7f0000002010ULL);
	CHECK_STR(syms__dso_path(s, SYMS_LOC_DSO(loc)), "/tmp/with space (deleted)");
	CHECK_STR(syms__user_name(s, loc, true), "[with space+0x2010]");
	CHECK_EQ_U64(SYMS_LOC_DSO(syms__encode_user(s, 42, 0x7f0000004800ULL)), 0);
	CHECK_EQ_U64(SYMS_LOC_DSO(syms__encode_user(s, 42, 0x7f0000006800ULL)), 0);
	CHECK_EQ_U64(SYMS_LOC_DSO(syms__encode_user(s, 42, 0x7f0000007800ULL)), 0);
	/* The vDSO's ELF header holds no function: named by the mapping. */
	loc = syms__encode_user(s, 42, 0x7ffd0000a010ULL);
	CHECK_STR(syms__user_name(s, loc, true), "[vdso+0x10]");
	CHECK_STR(syms__user_name(s, loc, false), "[vdso+0x10]");
	syms__delete(s);
}

static void test_fallback_names(void)
{
	char text[1024], gone[1024], odd[1024];
	struct syms *s = syms__new(NULL);
	const char *n1, *n2;
	uint64_t loc;

	CHECK(s != NULL);
	if (!s)
		return;
	snprintf(text, sizeof(text), "%s/notes.txt", dir);
	snprintf(gone, sizeof(gone), "%s/gone.so", dir);
	snprintf(odd, sizeof(odd), "%s/odd\x01name", dir);
	CHECK(write_file(text, "not an ELF file at all\n") == 0);

	CHECK_STR(syms__user_name(s, 0x401000, true), "[unknown]");
	CHECK_STR(syms__user_name(s, 0x401000, false), "[unknown]");
	CHECK_STR(syms__user_name(s, LOC(0x7fff, 0x10), true), "[unknown]");
	CHECK_STR(syms__user_name(s, LOC(5, 0x10), false), "[unknown]");

	syms__mmap(s, FAKE_PID, 0x1000, 0x10000, 0, text);
	syms__mmap(s, FAKE_PID, 0x20000, 0x10000, 0x2000, gone);
	syms__mmap(s, FAKE_PID, 0x40000, 0x1000, 0, odd);
	syms__mmap(s, FAKE_PID, 0x50000, 0x2000, 0, "[vdso]");
	loc = syms__encode_user(s, FAKE_PID, 0x1800);
	n1 = syms__user_name(s, loc, true);
	CHECK_STR(n1, "[notes.txt+0x800]");
	/* A return address prints as is; only the lookup moves back a byte. */
	CHECK_STR(syms__user_name(s, loc, false), "[notes.txt+0x800]");
	/* Cached: the very same string. */
	n2 = syms__user_name(s, loc, true);
	CHECK(n1 == n2);
	CHECK_STR(syms__user_name(s, syms__encode_user(s, FAKE_PID, 0x20010), true),
		  "[gone.so+0x2010]");
	CHECK_STR(syms__user_name(s, syms__encode_user(s, FAKE_PID, 0x40010), true),
		  "[odd?name+0x10]");
	CHECK_STR(syms__user_name(s, syms__encode_user(s, FAKE_PID, 0x50010), true),
		  "[vdso+0x10]");
	CHECK_STR(syms__user_name(s, syms__encode_user(s, FAKE_PID, 0x90000), true), "[unknown]");
	syms__delete(s);
}

/* Ids are 15 bits: past the last one, addresses stay raw instead of wrapping. */
static void test_dso_exhaustion(void)
{
	struct syms *s = syms__new(NULL);
	char path[64];
	uint64_t loc;
	uint32_t i;

	CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < 0x7fff + 10; i++) {
		snprintf(path, sizeof(path), "/nonexistent/lib%u.so", i);
		syms__mmap(s, FAKE_PID, 0x100000ULL + i * 0x1000ULL, 0x1000, 0, path);
	}
	loc = syms__encode_user(s, FAKE_PID, 0x100010);
	CHECK_EQ_U64(SYMS_LOC_DSO(loc), 1);
	loc = syms__encode_user(s, FAKE_PID, 0x100010 + 0x7ffdULL * 0x1000);
	CHECK_EQ_U64(SYMS_LOC_DSO(loc), 0x7ffe);
	CHECK_STR(syms__user_name(s, loc, true), "[lib32765.so+0x10]");
	/* 0x7fff is the labels' id, never a file's. */
	loc = syms__encode_user(s, FAKE_PID, 0x100010 + 0x7ffeULL * 0x1000);
	CHECK_EQ_U64(loc, 0x100010 + 0x7ffeULL * 0x1000);
	syms__delete(s);
}

/* Labels: interned texts that name themselves, apart from every file's locations. */
static void test_labels(void)
{
	struct syms *s = syms__new("/nonexistent/kallsyms");
	uint64_t a, b, a2;
	char text[32];

	CHECK(s != NULL);
	if (!s)
		return;
	a = syms__label(s, "/var/log/app.log");
	b = syms__label(s, "pipe:[1234]");
	a2 = syms__label(s, "/var/log/app.log");
	CHECK(a != 0 && b != 0);
	CHECK(a != b);
	CHECK_EQ_U64(a, a2);
	CHECK(SYMS_LOC_IS_LABEL(a) && SYMS_LOC_IS_LABEL(b));
	CHECK(!SYMS_LOC_IS_LABEL(syms__encode_user(s, FAKE_PID, 0x100010)));
	/* Kernel addresses are never labels (both name either side). */
	CHECK(!SYMS_LOC_IS_LABEL(0xffffffff81000000ULL));
	CHECK(!SYMS_LOC_IS_LABEL(0xffff7fff00000000ULL));
	CHECK_STR(syms__kernel_name(s, a, true), "/var/log/app.log");
	CHECK_STR(syms__user_name(s, a, true), "/var/log/app.log");
	CHECK_STR(syms__user_name(s, b, false), "pipe:[1234]");
	CHECK_STR(syms__user_name(s, (SYMS_LOC_OFF(b) + 5) | (uint64_t)SYMS_LOC_LABEL_DSO << 48, true),
		  "[unknown]");
	/* Many labels: each keeps its own text as the table grows. */
	for (int i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "file-%d", i);
		a = syms__label(s, text);
		CHECK_STR(syms__user_name(s, a, true), text);
	}
	CHECK_STR(syms__user_name(s, b, true), "pipe:[1234]");
	syms__delete(s);
}

static const char kallsyms_fixture[] = "ffffffff81000000 T _stext\n"
				       "ffffffff81000100 T kfn_a\n"
				       "ffffffff81000200 t kfn_b\n"
				       "ffffffffc0000000 t modfn\t[mod]\n";

static void test_kernel_names(void)
{
	char path[1024];
	struct syms *s;
	const char *n;

	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	CHECK(write_file(path, kallsyms_fixture) == 0);
	s = syms__new(path);
	CHECK(s != NULL);
	if (!s)
		return;
	n = syms__kernel_name(s, 0xffffffff81000150ULL, true);
	CHECK_STR(n, "kfn_a");
	CHECK(syms__kernel_name(s, 0xffffffff81000150ULL, true) == n);
	CHECK_STR(syms__kernel_name(s, 0xffffffff81000200ULL, true), "kfn_b");
	/* A return address at the start of kfn_b belongs to a call at the end of kfn_a. */
	CHECK_STR(syms__kernel_name(s, 0xffffffff81000200ULL, false), "kfn_a");
	CHECK_STR(syms__kernel_name(s, 0xffffffff81000201ULL, false), "kfn_b");
	CHECK_STR(syms__kernel_name(s, 0xffffffffc0000010ULL, false), "modfn");
	CHECK_STR(syms__kernel_name(s, 0xffffffff80000000ULL, true), "[unknown]");
	CHECK_STR(syms__kernel_name(s, 0, false), "[unknown]");
	syms__delete(s);

	/* No kernel symbols at all: every kernel frame is "[unknown]", no crash. */
	s = syms__new("/nonexistent/kallsyms");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_STR(syms__kernel_name(s, 0xffffffff81000150ULL, true), "[unknown]");
	CHECK_STR(syms__kernel_name(s, 0xffffffff81000150ULL, false), "[unknown]");
	syms__delete(s);
}

/* Functions of this test, looked up through /proc/self/maps and the test's own ELF file. */
static uint64_t ret_addr;
static jmp_buf back;

__attribute__((noinline)) int probe_fn(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 5 + 3;
}

__attribute__((noinline)) static void record_return(void)
{
	ret_addr = (uint64_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) int calls_in_middle(void)
{
	record_return();
	return probe_fn(1);
}

__attribute__((noinline, noreturn)) static void jump_back(void)
{
	ret_addr = (uint64_t)__builtin_return_address(0);
	longjmp(back, 1);
}

/* The call is the last instruction: its return address is past the end of the function. */
__attribute__((noinline, optimize("no-optimize-sibling-calls"))) void ends_with_call(void)
{
	jump_back();
}

static uint32_t worker_tid;

static void *named_thread(void *arg)
{
	pthread_barrier_t *bar = arg;

	worker_tid = gettid();
	pthread_setname_np(pthread_self(), "symtest-worker");
	pthread_barrier_wait(bar); /* named */
	pthread_barrier_wait(bar); /* test done reading */
	return NULL;
}

static void test_self(void)
{
	uint32_t pid = getpid(), tid;
	char self[1024], deleted[1100];
	pthread_barrier_t bar;
	pthread_t thread;
	struct syms *s;
	uint64_t loc, loc2, vdso;
	ssize_t len;

	prctl(PR_SET_NAME, "symtest-main");
	pthread_barrier_init(&bar, NULL, 2);
	CHECK(pthread_create(&thread, NULL, named_thread, &bar) == 0);
	pthread_barrier_wait(&bar);

	s = syms__new(NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(syms__proc_load(s, pid) == 0);
	CHECK(syms__knows(s, pid));
	CHECK(syms__proc_load(s, pid) == 0);

	loc = syms__encode_user(s, pid, (uint64_t)(uintptr_t)probe_fn);
	CHECK(SYMS_LOC_DSO(loc) != 0);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(len > 0);
	self[len > 0 ? len : 0] = '\0';
	CHECK_STR(syms__dso_path(s, SYMS_LOC_DSO(loc)), self);
	CHECK_STR(syms__user_name(s, loc, true), "probe_fn");
	CHECK_STR(syms__user_name(s, loc + 1, true), "probe_fn");
	CHECK_STR(syms__user_name(s, loc + 1, false), "probe_fn");
	/* A return address at a function's first byte is not that function. */
	CHECK(strcmp(syms__user_name(s, loc, false), "probe_fn") != 0);

	calls_in_middle();
	loc = syms__encode_user(s, pid, ret_addr);
	CHECK_STR(syms__user_name(s, loc, false), "calls_in_middle");

	if (!setjmp(back))
		ends_with_call();
	loc = syms__encode_user(s, pid, ret_addr);
	CHECK_STR(syms__user_name(s, loc, false), "ends_with_call");
	/* Looked up as is, that address is past the function's end (padding or the next one). */
	CHECK(strcmp(syms__user_name(s, loc, true), "ends_with_call") != 0);

	/*
	 * A shared library: libc's .dynsym has labs (global) and imaxabs (weak)
	 * at one address; the global name wins.
	 */
	loc = syms__encode_user(s, pid, (uint64_t)(uintptr_t)labs);
	CHECK(SYMS_LOC_DSO(loc) != 0);
	CHECK(strstr(syms__dso_path(s, SYMS_LOC_DSO(loc)) ?: "", "libc") != NULL);
	CHECK_STR(syms__user_name(s, loc, true), "labs");

	/*
	 * The vdso has no file: its functions are named from its image, what
	 * lies outside them by the mapping.
	 */
	vdso = getauxval(AT_SYSINFO_EHDR);
	if (vdso) {
		void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
		void *fn = h ? dlsym(h, "__vdso_clock_gettime") : NULL;

		loc = syms__encode_user(s, pid, vdso + 0x10);
		CHECK_STR(syms__user_name(s, loc, true), "[vdso+0x10]");
		CHECK(fn != NULL);
		if (fn) {
			loc = syms__encode_user(s, pid, (uint64_t)fn + 4);
			CHECK_STR(syms__user_name(s, loc, true), "__vdso_clock_gettime");
		}
		if (h)
			dlclose(h);
	}

	/* Thread names from /proc/PID/task, then set by hand, then the fallbacks. */
	CHECK_STR(syms__comm(s, pid, pid), "symtest-main");
	tid = worker_tid;
	CHECK(tid != 0);
	if (tid)
		CHECK_STR(syms__comm(s, pid, tid), "symtest-worker");
	syms__set_comm(s, pid, "renamed-by-comm-record-long");
	CHECK_STR(syms__comm(s, pid, pid), "renamed-by-comm");
	CHECK_STR(syms__comm(s, FAKE_PID, FAKE_PID), "[unknown]");
	syms__set_comm(s, FAKE_PID, "late\x02name");
	CHECK_STR(syms__comm(s, FAKE_PID, FAKE_PID), "late?name");

	/* A mapping of this binary marked deleted still reads the file at the plain path. */
	snprintf(deleted, sizeof(deleted), "%s (deleted)", self);
	syms__mmap(s, FAKE_PID, 0x400000, 0x100000, 0, deleted);
	loc = syms__encode_user(s, pid, (uint64_t)(uintptr_t)probe_fn);
	loc2 = syms__encode_user(s, FAKE_PID, 0x400000 + SYMS_LOC_OFF(loc));
	CHECK(SYMS_LOC_DSO(loc2) != SYMS_LOC_DSO(loc));
	CHECK_STR(syms__user_name(s, loc2, true), "probe_fn");

	CHECK(syms__bytes(s) > 4096);
	syms__delete(s);

	pthread_barrier_wait(&bar);
	pthread_join(thread, NULL);
	pthread_barrier_destroy(&bar);
}

static bool make_dir(void)
{
	const char *base = getenv("STACKPROF_TEST_TMP");

	snprintf(dir, sizeof(dir), "%s/syms.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(dir) != NULL;
}

int main(void)
{
	char cmd[1024];

	CHECK(make_dir());
	test_model();
	test_exit_reaping();
	test_maps_text();
	test_fallback_names();
	test_dso_exhaustion();
	test_labels();
	test_kernel_names();
	test_self();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}

/*
 * Uprobes: function offsets checked against nm and readelf's program
 * headers on programs the test builds, and against where the running libc
 * put malloc; then, as root, entry and return probes through the uprobe PMU
 * and through tracefs, counted on a child that calls a function a known
 * number of times, and the removal of our own and of stale tracefs events
 * (dead, zombie and reused pids).
 */
#define _GNU_SOURCE
#include "trace/uprobe.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "symbols/elfsyms.h"
#include "trace/tp.h"
#include "trace/tracefs.h"

/* Calls per run: every probe on target() must count exactly this many. */
#define NR_CALLS 2000

static char dir[PATH_MAX];
static char prog[PATH_MAX + 64], prog_nopie[PATH_MAX + 64], lib[PATH_MAX + 64];
static char lib_stripped[PATH_MAX + 64], text_file[PATH_MAX + 64];

/* The string the probed program passes to named(), for a fetch argument to read. */
#define FETCHED "/fetched/by-uprobe"

/* The probed program: main waits for the go-ahead on stdin, so probes attach first. */
static const char prog_src[] = "#include <stdlib.h>\n"
			       "#include <unistd.h>\n"
			       "#define NOINLINE __attribute__((noinline, used))\n"
			       "volatile int sink;\n"
			       "NOINLINE int target(int x) { sink += x; return x * 3 + 1; }\n"
			       "NOINLINE int other(int x) { sink -= x; return x ^ 5; }\n"
			       /* a static and a global function of one name: the global one wins */
			       "NOINLINE static int twin(int x) { sink ^= x; return x + 7; }\n"
			       "int twin_caller(int x) { return twin(x); }\n"
			       "NOINLINE int named(const char *s) { sink += s[0]; return 0; }\n"
			       "int main(int argc, char **argv) {\n"
			       "  int n = argc > 1 ? atoi(argv[1]) : 0; char c;\n"
			       "  if (write(1, \"r\", 1) != 1 || read(0, &c, 1) != 1) return 2;\n"
			       "  usleep(1000);\n"
			       "  for (int i = 0; i < n; i++) sink += target(i);\n"
			       "  named(\"" FETCHED "\");\n"
			       "  return (other(1) + twin_caller(2)) & 0;\n"
			       "}\n";

static const char prog2_src[] = "#define NOINLINE __attribute__((noinline, used))\n"
				"extern volatile int sink;\n"
				"NOINLINE int twin(int x) { sink += x; return x - 7; }\n";

/* Two versions of foo (the default is VER_2), a plain function and an IFUNC. */
static const char lib_src[] = "#define NOINLINE __attribute__((noinline, used))\n"
			      "NOINLINE int foo_v1(int x) { return x + 1; }\n"
			      "NOINLINE int foo_v2(int x) { return x + 2; }\n"
			      "__asm__(\".symver foo_v1, foo@VER_1\");\n"
			      "__asm__(\".symver foo_v2, foo@@VER_2\");\n"
			      "NOINLINE int bar(int x) { return x + 3; }\n"
			      "static int impl(int x) { return x; }\n"
			      "static void *resolve(void) { return (void *)impl; }\n"
			      "int ifn(int) __attribute__((ifunc(\"resolve\")));\n";

static const char lib_map[] = "VER_1 { global: foo; bar; ifn; local: *; };\n"
			      "VER_2 { global: foo; } VER_1;\n";

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool build(void)
{
	char path[PATH_MAX + 32];
	const char *base = getenv("STACKPROF_TEST_TMP");

	snprintf(dir, sizeof(dir), "%s/uprobe.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
		return false;
	}
	snprintf(path, sizeof(path), "%s/prog.c", dir);
	CHECK(write_file(path, prog_src) == 0);
	snprintf(path, sizeof(path), "%s/prog2.c", dir);
	CHECK(write_file(path, prog2_src) == 0);
	snprintf(path, sizeof(path), "%s/lib.c", dir);
	CHECK(write_file(path, lib_src) == 0);
	snprintf(path, sizeof(path), "%s/lib.map", dir);
	CHECK(write_file(path, lib_map) == 0);
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	snprintf(prog_nopie, sizeof(prog_nopie), "%s/prog_nopie", dir);
	snprintf(lib, sizeof(lib), "%s/libver.so", dir);
	snprintf(lib_stripped, sizeof(lib_stripped), "%s/libver-stripped.so", dir);
	snprintf(text_file, sizeof(text_file), "%s/prog.c", dir);
	if (sh("cd '%s' && gcc -O1 -fno-inline -pie -fPIE -o prog prog.c prog2.c && "
	       "gcc -O1 -fno-inline -no-pie -fno-PIE -o prog_nopie prog.c prog2.c && "
	       "gcc -O1 -shared -fPIC -Wl,--version-script=lib.map -o libver.so lib.c && "
	       "strip -o libver-stripped.so libver.so",
	       dir)) {
		fprintf(stderr, "building the test programs in %s failed\n", dir);
		return false;
	}
	return true;
}

/* nm's address of @name; @type ('T', 't', ...) picks among same-named symbols, 0 for any. */
static bool nm_vaddr(const char *file, const char *name, char type, uint64_t *vaddr)
{
	char cmd[PATH_MAX + 64], line[512], sym[256], t;
	unsigned long long v;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s' 2>/dev/null", file);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%llx %c %255s", &v, &t, sym) == 3 && !strcmp(sym, name) &&
		    (!type || t == type) && !found) {
			*vaddr = v;
			found = true;
		}
	}
	pclose(p);
	return found;
}

/* File offset of @vaddr from readelf's PT_LOAD lines: the reference for the library's math. */
static bool readelf_offset(const char *file, uint64_t vaddr, uint64_t *off)
{
	char cmd[PATH_MAX + 64], line[512];
	unsigned long long o, v, pa, fsz;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>/dev/null", file);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, " LOAD %llx %llx %llx %llx", &o, &v, &pa, &fsz) == 4 &&
		    vaddr >= v && vaddr < v + fsz && !found) {
			*off = vaddr - v + o;
			found = true;
		}
	}
	pclose(p);
	return found;
}

/* uprobe__func_offset(@file, @func) must equal nm's @sym (of @type) through the headers. */
static void check_offset(const char *file, const char *func, const char *sym, char type)
{
	uint64_t vaddr = 0, want = 0, got = 1;
	int err;

	if (!nm_vaddr(file, sym, type, &vaddr) || !readelf_offset(file, vaddr, &want)) {
		fprintf(stderr, "nm/readelf do not place %s in %s\n", sym, file);
		CHECK(0);
		return;
	}
	err = uprobe__func_offset(file, func, &got);
	if (err || got != want)
		fprintf(stderr, "%s in %s: err %d, offset %#" PRIx64 ", want %#" PRIx64 "\n", func,
			file, err, got, want);
	CHECK(err == 0);
	CHECK_EQ_U64(got, want);
}

static void test_offsets_built(void)
{
	uint64_t off, off_pie, vaddr;

	check_offset(prog, "target", "target", 'T');
	check_offset(prog, "other", "other", 'T');
	check_offset(prog, "main", "main", 'T');
	check_offset(prog, "twin", "twin", 'T');
	check_offset(prog_nopie, "target", "target", 'T');
	check_offset(prog_nopie, "twin", "twin", 'T');
	/* Non-PIE: the offset is not the address, so the header math is exercised. */
	CHECK(uprobe__func_offset(prog_nopie, "target", &off) == 0);
	CHECK(nm_vaddr(prog_nopie, "target", 'T', &vaddr) && vaddr != off);
	CHECK(uprobe__func_offset(prog, "target", &off_pie) == 0);

	/* The default version of foo, from .symtab and from .dynsym alone. */
	check_offset(lib, "foo", "foo_v2", 't');
	check_offset(lib, "foo_v1", "foo_v1", 't');
	check_offset(lib, "bar", "bar", 'T');
	/* Stripped: .dynsym alone, its hidden bit decides; strip keeps the addresses. */
	CHECK(nm_vaddr(lib, "foo_v2", 't', &vaddr) && readelf_offset(lib_stripped, vaddr, &off));
	CHECK(uprobe__func_offset(lib_stripped, "foo", &off_pie) == 0);
	CHECK_EQ_U64(off_pie, off);
	CHECK(uprobe__func_offset(lib_stripped, "foo_v1", &off) == -ENOENT);
	CHECK(uprobe__func_offset(lib_stripped, "fo", &off) == -ENOENT);
	CHECK(uprobe__func_offset(lib_stripped, "foo_", &off) == -ENOENT);
	/* An IFUNC's symbol is its resolver: refused rather than probed uselessly. */
	CHECK(uprobe__func_offset(lib, "ifn", &off) == -EOPNOTSUPP);
	CHECK(uprobe__func_offset(lib_stripped, "ifn", &off) == -EOPNOTSUPP);

	CHECK(uprobe__func_offset(prog, "no_such_function", &off) == -ENOENT);
	CHECK(uprobe__func_offset(text_file, "main", &off) == -ENOEXEC);
	CHECK(uprobe__func_offset(dir, "main", &off) == -ENOEXEC);
	CHECK(uprobe__func_offset("/dev/null", "main", &off) == -ENOEXEC);
	CHECK(uprobe__func_offset("/nonexistent/uprobe/file", "main", &off) == -ENOENT);
}

/* The C library this test runs on, from /proc/self/maps, and where @addr lies in it. */
static bool libc_of(uintptr_t addr, char *path, size_t len, uint64_t *off)
{
	unsigned long long start, end, pgoff;
	char line[PATH_MAX + 128], file[PATH_MAX];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095s", &start, &end, &pgoff, file) !=
		    4)
			continue;
		if (addr >= start && addr < end && !found) {
			snprintf(path, len, "%s", file);
			*off = addr - start + pgoff;
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void test_offsets_libc(void)
{
	/*
	 * libc's own malloc, asked of libc itself: not a PLT stub, and not the
	 * malloc a sanitizer's runtime puts in front of it.
	 */
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *m = h ? dlsym(h, "malloc") : NULL;
	char libc[PATH_MAX];
	uint64_t want = 0, got = 0, symoff = 1;
	struct elfsyms *e;
	struct stat st;

	if (h)
		dlclose(h);
	if (!m || !libc_of((uintptr_t)m, libc, sizeof(libc), &want) || !strstr(libc, "libc")) {
		fprintf(stderr, "cannot find malloc's C library in /proc/self/maps\n");
		CHECK(0);
		return;
	}
	CHECK(uprobe__func_offset(libc, "malloc", &got) == 0);
	CHECK_EQ_U64(got, want);
	CHECK(stat(libc, &st) == 0 && got < (uint64_t)st.st_size);
	e = elfsyms__open(libc);
	CHECK(e != NULL);
	if (e) {
		CHECK(elfsyms__find_offset(e, got, &symoff) != NULL);
		CHECK_EQ_U64(symoff, 0);
		elfsyms__delete(e);
	}
	CHECK(uprobe__func_offset(libc, "free", &got) == 0);
	CHECK(uprobe__func_offset(libc, "malloc_but_not_really", &got) == -ENOENT);
	CHECK(uprobe__func_offset(libc, "", &got) == -EINVAL);
	printf("libc: %s malloc at %#" PRIx64 "\n", libc, want);
}

/* What attrs look like, whichever way they are made, and the checks before either. */
static void test_attr_pure(void)
{
	struct perf_event_attr attr;
	char spaced[PATH_MAX + 32], buf[64];
	uint64_t off;
	int type = -1, bit = -1;
	FILE *f;

	CHECK(uprobe__func_offset(prog, "target", &off) == 0);
	/* Refused before any mode is chosen, so without tracefs or root. */
	CHECK(uprobe__attr("/nonexistent/uprobe/file", off, false, "t", &attr) == -ENOENT);
	CHECK(uprobe__attr(dir, 0, false, "t", &attr) == -EINVAL);
	CHECK(uprobe__attr(prog, 1ULL << 40, false, "t", &attr) == -EINVAL);
	CHECK(uprobe__attr("", off, false, "t", &attr) == -EINVAL);

	/* tracefs cannot express a path with a space: refused before touching tracefs. */
	snprintf(spaced, sizeof(spaced), "%s/with space", dir);
	CHECK(sh("mkdir '%s' && cp '%s' '%s/prog'", spaced, prog, spaced) == 0);
	strcat(spaced, "/prog");
	uprobe__force_tracefs(true);
	CHECK(!uprobe__use_pmu());
	CHECK(uprobe__attr(spaced, off, false, "target", &attr) == -EINVAL);
	uprobe__force_tracefs(false);

	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	if (f) {
		CHECK(fscanf(f, "%d", &type) == 1);
		fclose(f);
	}
	f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "r");
	if (f) {
		CHECK(fgets(buf, sizeof(buf), f) && sscanf(buf, "config:%d", &bit) == 1);
		fclose(f);
	}
	if (type < 0 || bit < 0) {
		printf("no uprobe PMU: its attr is not checked\n");
		CHECK(!uprobe__use_pmu());
		return;
	}
	CHECK(uprobe__use_pmu());
	setenv("STACKPROF_UPROBE_TRACEFS", "1", 1);
	CHECK(!uprobe__use_pmu());
	unsetenv("STACKPROF_UPROBE_TRACEFS");
	CHECK(uprobe__use_pmu());

	CHECK(uprobe__attr(prog, off, true, "target", &attr) == 0);
	CHECK_EQ_U64(attr.type, type);
	CHECK_EQ_U64(attr.config, 1ULL << bit);
	CHECK_EQ_U64(attr.config1, (uintptr_t)prog);
	CHECK_EQ_U64(attr.config2, off);
	CHECK_EQ_U64(attr.sample_period, 1);
	CHECK_EQ_U64(attr.size, sizeof(attr));
	CHECK_EQ_U64(attr.sample_type, 0);
	CHECK(uprobe__attr(prog, off, false, "target", &attr) == 0);
	CHECK_EQ_U64(attr.config, 0);
	/* The spaced path is fine for the PMU, which takes the path as a string. */
	CHECK(uprobe__attr(spaced, off, false, "target", &attr) == 0);
}

/* ---- kernel part ---- */

static int write_events(const char *cmd)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (tracefs__kernel_file("uprobe_events", path, sizeof(path)))
		return -ENOENT;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* How many lines of uprobe_events contain @needle. */
static int count_events(const char *needle)
{
	char *buf = tracefs__kernel_read("uprobe_events", NULL), *p;
	int n = 0;

	if (!buf)
		return -1;
	for (p = buf; (p = strstr(p, needle)); p++)
		n++;
	free(buf);
	return n;
}

static void close_fds(int *fds, int nr)
{
	for (int i = 0; i < nr; i++)
		close(fds[i]);
}

/* A ring buffer: its control page and 8 data pages. */
#define RING_BYTES (9 * 4096)

/*
 * Runs the probed program with @n calls, the events of @attrs opened on it
 * (per task, counting) between its start and its go-ahead. Fills @counts
 * and, on success only, leaves the open fds in @fds for the caller to close.
 */
static int run_counted(struct perf_event_attr *attrs, int nr, int n, uint64_t *counts, int *fds,
		       void **rings)
{
	int to_child[2], from_child[2], status, i, err = 0;
	char arg[16], c;
	pid_t pid;

	if (pipe2(to_child, O_CLOEXEC) || pipe2(from_child, O_CLOEXEC))
		return -errno;
	snprintf(arg, sizeof(arg), "%d", n);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		execl(prog, prog, arg, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	/* The child says "r" from main(): exec is done and the program is mapped. */
	if (read(from_child[0], &c, 1) != 1) {
		err = -EIO;
		goto out_kill;
	}
	for (i = 0; i < nr; i++) {
		attrs[i].disabled = 0;
		fds[i] = syscall(SYS_perf_event_open, &attrs[i], pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fds[i] < 0) {
			err = -errno;
			fprintf(stderr, "perf_event_open of probe %d on pid %d: %s\n", i, (int)pid,
				strerror(errno));
			while (i-- > 0)
				close(fds[i]);
			goto out_kill;
		}
		if (rings) {
			rings[i] = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
			if (rings[i] == MAP_FAILED) {
				err = -errno;
				close(fds[i]);
				while (i-- > 0) {
					munmap(rings[i], RING_BYTES);
					close(fds[i]);
				}
				goto out_kill;
			}
		}
	}
	if (write(to_child[1], "g", 1) != 1)
		err = -EIO;
	waitpid(pid, &status, 0);
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		fprintf(stderr, "probed program failed: status %#x\n", status);
		err = -ECHILD;
	}
	for (i = 0; i < nr; i++) {
		if (read(fds[i], &counts[i], sizeof(counts[i])) != sizeof(counts[i])) {
			err = err ? err : -EIO;
			counts[i] = UINT64_MAX;
		}
	}
	if (err) {
		for (i = 0; rings && i < nr; i++)
			munmap(rings[i], RING_BYTES);
		close_fds(fds, nr);
	}
	goto out_close;

out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
out_close:
	close(to_child[1]);
	close(from_child[0]);
	return err;
}

static void test_pmu(uint64_t target, uint64_t other)
{
	struct perf_event_attr attrs[3];
	uint64_t counts[3];
	int fds[3];

	if (!uprobe__use_pmu()) {
		check_skip("kernel part", "the kernel has no uprobe PMU");
		return;
	}
	CHECK(uprobe__attr(prog, target, false, "target", &attrs[0]) == 0);
	CHECK(uprobe__attr(prog, target, true, "target", &attrs[1]) == 0);
	CHECK(uprobe__attr(prog, other, false, "other", &attrs[2]) == 0);
	if (run_counted(attrs, 3, NR_CALLS, counts, fds, NULL)) {
		CHECK(0);
		return;
	}
	close_fds(fds, 3);
	printf("pmu: entry %" PRIu64 ", return %" PRIu64 ", other %" PRIu64 "\n", counts[0],
	       counts[1], counts[2]);
	CHECK_EQ_U64(counts[0], NR_CALLS);
	CHECK_EQ_U64(counts[1], NR_CALLS);
	CHECK_EQ_U64(counts[2], 1);
	/* The PMU path creates nothing in tracefs. */
	uprobe__cleanup();
}

static void test_tracefs(uint64_t target, uint64_t other, const char *group)
{
	struct perf_event_attr attrs[3];
	char cmd[PATH_MAX + 128], needle[96];
	uint64_t counts[3];
	int fds[3], n;

	uprobe__force_tracefs(true);
	/* The same function twice: the names differ by their counter. */
	CHECK(uprobe__attr(prog, target, false, "target", &attrs[0]) == 0);
	CHECK(uprobe__attr(prog, target, true, "target", &attrs[1]) == 0);
	CHECK(uprobe__attr(prog, target, false, "target", &attrs[2]) == 0);
	CHECK_EQ_U64(attrs[0].type, PERF_TYPE_TRACEPOINT);
	CHECK(attrs[0].config != attrs[1].config && attrs[1].config != attrs[2].config);
	snprintf(needle, sizeof(needle), "%s/target_", group);
	CHECK(count_events(needle) == 3);
	if (run_counted(attrs, 3, NR_CALLS, counts, fds, NULL)) {
		CHECK(0);
		goto out;
	}
	printf("tracefs: entry %" PRIu64 ", return %" PRIu64 ", entry again %" PRIu64 "\n",
	       counts[0], counts[1], counts[2]);
	CHECK_EQ_U64(counts[0], NR_CALLS);
	CHECK_EQ_U64(counts[1], NR_CALLS);
	CHECK_EQ_U64(counts[2], NR_CALLS);

	/* In use by our fds: removal fails (EBUSY), the events are kept for a second try. */
	printf("expect %d warnings about events still in use:\n", 3);
	fflush(stdout);
	uprobe__cleanup();
	CHECK(count_events(needle) == 3);
	close_fds(fds, 3);

	/*
	 * A dead process that had our pid left an event in our group: stale,
	 * while the events we made stay. A dead pid's group goes; other groups
	 * stay.
	 */
	snprintf(cmd, sizeof(cmd), "p:%s/leftover %s:0x%" PRIx64 "\n", group, prog, other);
	CHECK(write_events(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "p:stackprof_999999/x %s:0x%" PRIx64 "\n", prog, other);
	CHECK(write_events(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "p:sptest_other_%d/y %s:0x%" PRIx64 "\n", (int)getpid(), prog,
		 other);
	CHECK(write_events(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "%s/leftover", group);
	CHECK(count_events(cmd) == 1);
	n = uprobe__cleanup_stale();
	CHECK(n >= 2);
	CHECK(count_events(cmd) == 0);
	CHECK(count_events("stackprof_999999/") == 0);
	snprintf(cmd, sizeof(cmd), "sptest_other_%d/y ", (int)getpid());
	CHECK(count_events(cmd) == 1);
	CHECK(count_events(needle) == 3);
	snprintf(cmd, sizeof(cmd), "-:sptest_other_%d/y\n", (int)getpid());
	CHECK(write_events(cmd) == 0);

	/* Closed now: cleanup removes them all; a second call has nothing left to do. */
	uprobe__cleanup();
	snprintf(cmd, sizeof(cmd), "%s/", group);
	CHECK(count_events(cmd) == 0);
	uprobe__cleanup();
out:
	uprobe__cleanup();
	uprobe__force_tracefs(false);
	/* After a failed check some of ours may remain: they go, whatever happened. */
	snprintf(cmd, sizeof(cmd), "-:%s/leftover\n", group);
	write_events(cmd);
	write_events("-:stackprof_999999/x\n");
	snprintf(cmd, sizeof(cmd), "-:sptest_other_%d/y\n", (int)getpid());
	write_events(cmd);
}

/*
 * Fetch arguments: a uprobe on named(const char *s) records the string
 * itself, read from the process when the probe hits.
 */
static void test_fetch_args(void)
{
	char group[UPROBE_NAME_MAX], event[UPROBE_NAME_MAX], text[64];
	const struct tp_field *f;
	struct perf_event_attr attr;
	struct tp *tp = NULL;
	uint64_t off, count;
	void *ring = NULL;
	int fd = -1, found = 0;

	CHECK(uprobe__func_offset(prog, "named", &off) == 0);
	CHECK(uprobe__create_args(prog, off, false, "s=+0(%di):string", "named", group, event) == 0);
	CHECK(strncmp(group, "stackprof_", 10) == 0 && strncmp(event, "named_", 6) == 0);
	tp = tp__load(group, event);
	CHECK(tp != NULL);
	f = tp ? tp__field(tp, "s") : NULL;
	CHECK(f != NULL);
	if (!f)
		goto out;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (uint64_t)tp__id(tp);
	attr.sample_period = 1;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.disabled = 1;
	if (run_counted(&attr, 1, 0, &count, &fd, &ring)) {
		CHECK(0);
		goto out;
	}
	CHECK_EQ_U64(count, 1);
	{
		struct perf_event_mmap_page *pg = ring;
		const unsigned char *data = (const unsigned char *)ring + 4096;
		uint64_t head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE), pos = 0;

		/* Few records: they never wrap in 8 pages. */
		while (pos + sizeof(struct perf_event_header) <= head) {
			const struct perf_event_header *h = (const void *)(data + pos);

			if (h->type == PERF_RECORD_SAMPLE) {
				uint32_t size;

				memcpy(&size, h + 1, sizeof(size));
				if (tp_field__str(f, (const char *)(h + 1) + 4, size, text, sizeof(text)) &&
				    !strcmp(text, FETCHED))
					found++;
			}
			if (!h->size)
				break;
			pos += h->size;
		}
	}
	printf("fetch args: %d sample(s) with s = \"%s\"\n", found, FETCHED);
	CHECK_EQ_U64(found, 1);
	munmap(ring, RING_BYTES);
	close(fd);
out:
	tp__delete(tp);
	/* Whatever happened, the event goes with the others. */
	uprobe__cleanup();
	{
		char needle[2 * UPROBE_NAME_MAX + 2];

		snprintf(needle, sizeof(needle), "%s/%s", group, event);
		CHECK(!event[0] || count_events(needle) == 0);
	}
}

/* A child named @name that waits until @wake_fd closes (@live) or exits at once (a zombie). */
static pid_t spawn_named(const char *name, bool live, int *wake_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		prctl(PR_SET_NAME, name);
		if (live && read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	*wake_fd = p[1];
	return pid;
}

/* Waits until /proc/@pid/stat shows @name and, unless 0, @state. */
static bool wait_stat(pid_t pid, const char *name, char state)
{
	char path[64], buf[256], want[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	snprintf(want, sizeof(want), "(%s) ", name);
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(path, "r");
		char *p = NULL;

		if (f) {
			if (fgets(buf, sizeof(buf), f))
				p = strstr(buf, want);
			fclose(f);
		}
		if (p && (!state || p[strlen(want)] == state))
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * Whose group is stale: a live process named stackprof keeps its group; a
 * live process of another name (its pid was reused) and a zombie stackprof
 * (its fds are closed) do not.
 */
static void test_stale_processes(uint64_t off)
{
	const char *names[3] = {"stackprof", "sptest_child", "stackprof"};
	const bool live[3] = {true, true, false}, kept[3] = {true, false, false};
	char cmd[PATH_MAX + 128];
	int wake[3] = {-1, -1, -1}, i, status;
	pid_t pids[3];

	for (i = 0; i < 3; i++) {
		pids[i] = spawn_named(names[i], live[i], &wake[i]);
		CHECK(pids[i] > 0);
		if (pids[i] <= 0)
			goto out;
		CHECK(wait_stat(pids[i], names[i], live[i] ? 0 : 'Z'));
		snprintf(cmd, sizeof(cmd), "p:stackprof_%d/ev%d %s:0x%" PRIx64 "\n", (int)pids[i],
			 i, prog, off);
		CHECK(write_events(cmd) == 0);
	}
	CHECK(uprobe__cleanup_stale() >= 2);
	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "stackprof_%d/ev%d ", (int)pids[i], i);
		if (count_events(cmd) != (kept[i] ? 1 : 0)) {
			fprintf(stderr, "stale: %s (%s, %s) wrongly %s\n", cmd, names[i],
				live[i] ? "live" : "zombie", kept[i] ? "removed" : "kept");
			CHECK(0);
		}
	}
out:
	/* Every wake fd first: each child holds copies of its elder siblings' ones. */
	for (i = 0; i < 3; i++) {
		if (wake[i] < 0)
			continue;
		snprintf(cmd, sizeof(cmd), "-:stackprof_%d/ev%d\n", (int)pids[i], i);
		write_events(cmd);
		close(wake[i]);
	}
	for (i = 0; i < 3; i++)
		if (wake[i] >= 0)
			waitpid(pids[i], &status, 0);
}

/* Every line of @before outside stackprof_* groups (live runs come and go) is in @after. */
static void check_untouched(const char *before, const char *after)
{
	char *copy = strdup(before), *line, *save = NULL;

	CHECK(copy != NULL);
	if (!copy)
		return;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line + 1, ":stackprof_", 11))
			continue;
		if (!strstr(after, line)) {
			fprintf(stderr, "uprobe_events lost: %s\n", line);
			CHECK(0);
		}
	}
	free(copy);
}

static void test_kernel(void)
{
	char group[64], *before, *after;
	uint64_t target, other;
	bool mounted;

	if (geteuid() != 0) {
		check_skip("kernel part",
			   "not root (uprobes need CAP_SYS_ADMIN or CAP_PERFMON, tracefs root)");
		return;
	}
	/*
	 * Other stackprof runs treat a stackprof_<pid> group whose process is
	 * not named stackprof as stale: take the name while our group exists.
	 */
	prctl(PR_SET_NAME, "stackprof");
	CHECK(uprobe__func_offset(prog, "target", &target) == 0);
	CHECK(uprobe__func_offset(prog, "other", &other) == 0);
	test_pmu(target, other);

	if (!tracefs__path()) {
		check_skip("kernel part", "no tracefs");
		return;
	}
	mounted = tracefs__mounted_here();
	before = tracefs__kernel_read("uprobe_events", NULL);
	if (!before) {
		check_skip("kernel part", "no uprobe_events in tracefs (CONFIG_UPROBE_EVENTS off)");
		goto out_unmount;
	}
	snprintf(group, sizeof(group), "stackprof_%d", (int)getpid());
	test_tracefs(target, other, group);
	test_fetch_args();
	test_stale_processes(other);
	strcat(group, "/");
	after = tracefs__kernel_read("uprobe_events", NULL);
	CHECK(after != NULL);
	if (after) {
		check_untouched(before, after);
		CHECK(!strstr(after, group));
		free(after);
	}
	free(before);
out_unmount:
	if (mounted)
		tracefs__cleanup();
}

int main(void)
{
	if (!build()) {
		CHECK(0);
		CHECK_DONE();
	}
	test_offsets_built();
	test_offsets_libc();
	test_attr_pure();
	test_kernel();
	if (!check_failures)
		sh("rm -rf '%s'", dir);
	else
		fprintf(stderr, "test files kept in %s\n", dir);
	CHECK_DONE();
}

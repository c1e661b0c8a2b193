/*
 * Tracepoint formats: fixture format files (copied from a 6.18 kernel) are
 * parsed, raw records are built by hand at the offsets the files state, and
 * every kind of field is read back, also from formats whose fields moved;
 * STACKPROF_TRACEFS roots are read instead of tracefs. As root, in a
 * private mount namespace: tracefs found or mounted (and unmounted again)
 * from each starting state, each step forced with STACKPROF_TRACEFS_VIA,
 * the live sched_switch loaded and its id checked against the id file.
 */
#define _GNU_SOURCE /* unshare() */
#include "trace/tp.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <mntent.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "trace/tracefs.h"

/* CTest runs us from the build tree: find the fixtures next to this source file. */
static const char *fixture_path(const char *name, char *buf, size_t len)
{
#ifdef STACKPROF_SOURCE_DIR
	snprintf(buf, len, "%s/tests/data/formats/%s", STACKPROF_SOURCE_DIR, name);
#else
	const char *slash = strrchr(__FILE__, '/');
	int dir_len = slash ? (int)(slash - __FILE__) : 1;

	snprintf(buf, len, "%.*s/../data/formats/%s", dir_len, slash ? __FILE__ : ".", name);
#endif
	return buf;
}

static struct tp *load_fixture(const char *sys, const char *name)
{
	char path[PATH_MAX], text[16384];
	struct tp *tp;
	size_t n;
	FILE *f;

	f = fopen(fixture_path(name, path, sizeof(path)), "r");
	if (!f) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		return NULL;
	}
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	tp = tp__parse(sys, text, n);
	if (!tp)
		fprintf(stderr, "cannot parse fixture %s\n", path);
	return tp;
}

/* Little-endian stores at offsets taken from the format text, not from the code under test. */
static void put(unsigned char *raw, unsigned int off, uint64_t v, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		raw[off + i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const struct tp *tp, const char *name, const void *raw, uint32_t size)
{
	const struct tp_field *f = tp__field(tp, name);
	uint64_t v = 0xdeadbeef;

	CHECK(f != NULL);
	if (f)
		CHECK_EQ_U64(tp_field__u64(f, raw, size, &v), 0);
	return v;
}

static void test_sched_switch(void)
{
	struct tp *tp = load_fixture("sched", "sched_switch-6.18.format");
	const struct tp_field *f;
	unsigned char raw[64] = {0};
	char buf[256];
	uint64_t v;

	CHECK(tp != NULL);
	if (!tp)
		return;
	CHECK_STR(tp__name(tp), "sched:sched_switch");
	CHECK_EQ_U64(tp__id(tp), 372);
	CHECK_EQ_U64(tp__size(tp), 64);

	/* Offsets from the fixture: prev_comm 8, prev_pid 24, prev_prio 28, prev_state 32, ... */
	put(raw, 0, 372, 2);
	put(raw, 2, 0x1, 1);
	put(raw, 4, 4321, 4);
	memcpy(raw + 8, "bash", 4);
	put(raw, 24, 4321, 4);
	put(raw, 28, (uint64_t)-5, 4);
	put(raw, 32, 1, 8);
	memcpy(raw + 40, "kworker/u16:12ab", 16); /* fills the array: no NUL */
	put(raw, 56, 77, 4);
	put(raw, 60, 120, 4);

	CHECK_EQ_U64(get(tp, "common_type", raw, sizeof(raw)), 372);
	CHECK_EQ_U64(get(tp, "common_flags", raw, sizeof(raw)), 1);
	CHECK_EQ_U64(get(tp, "common_pid", raw, sizeof(raw)), 4321);
	CHECK_EQ_U64(get(tp, "prev_pid", raw, sizeof(raw)), 4321);
	CHECK_EQ_U64(get(tp, "prev_prio", raw, sizeof(raw)), (uint64_t)-5); /* signed: extended */
	CHECK_EQ_U64(get(tp, "prev_state", raw, sizeof(raw)), 1);
	CHECK_EQ_U64(get(tp, "next_pid", raw, sizeof(raw)), 77);
	CHECK_EQ_U64(get(tp, "next_prio", raw, sizeof(raw)), 120);
	CHECK_EQ_U64(tp_field__size(tp__field(tp, "prev_state")), 8);

	/* Signed -1 reads as all ones; an unsigned u16 with its top bit set is not extended. */
	put(raw, 32, (uint64_t)-1, 8);
	CHECK_EQ_U64(get(tp, "prev_state", raw, sizeof(raw)), UINT64_MAX);
	put(raw, 32, 1, 8);
	put(raw, 0, 0x8001, 2);
	CHECK_EQ_U64(get(tp, "common_type", raw, sizeof(raw)), 0x8001);
	put(raw, 0, 372, 2);

	CHECK_STR(tp_field__str(tp__field(tp, "prev_comm"), raw, sizeof(raw), buf, sizeof(buf)),
		  "bash");
	CHECK_STR(tp_field__str(tp__field(tp, "next_comm"), raw, sizeof(raw), buf, sizeof(buf)),
		  "kworker/u16:12ab");
	CHECK_STR(tp_field__str(tp__field(tp, "next_comm"), raw, sizeof(raw), buf, 5), "kwor");
	/* Numbers are not strings, and strings are not numbers. */
	CHECK(tp_field__str(tp__field(tp, "prev_pid"), raw, sizeof(raw), buf, sizeof(buf)) == NULL);
	CHECK_EQ_U64(tp_field__u64(tp__field(tp, "prev_comm"), raw, sizeof(raw), &v),
		     (uint64_t)-EINVAL);

	CHECK(tp__field(tp, "no_such_field") == NULL);
	CHECK(tp__field(tp, "prev_comm") != NULL);

	/* Short data: prev_state ends at 40, next_comm at 56. */
	f = tp__field(tp, "prev_state");
	CHECK_EQ_U64(tp_field__u64(f, raw, 39, &v), (uint64_t)-EINVAL);
	CHECK_EQ_U64(tp_field__u64(f, raw, 40, &v), 0);
	CHECK_EQ_U64(tp_field__u64(f, NULL, 64, &v), (uint64_t)-EINVAL);
	CHECK(tp_field__str(tp__field(tp, "next_comm"), raw, 55, buf, sizeof(buf)) == NULL);
	CHECK(tp_field__str(tp__field(tp, "prev_comm"), raw, 24, buf, sizeof(buf)) != NULL);

	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "prev_comm=bash prev_pid=4321 prev_prio=-5 prev_state=S ==> "
		       "next_comm=kworker/u16:12ab next_pid=77 next_prio=120");
	CHECK_EQ_U64(tp__render(tp, raw, 63, buf, sizeof(buf)), (uint64_t)-EINVAL);
	CHECK_EQ_U64(tp__render(tp, raw, sizeof(raw), buf, 10), 9);
	CHECK_STR(buf, "prev_comm");
	/* Preempted while running: the 6.x marker is TASK_REPORT_MAX, 0x100. */
	put(raw, 32, 0x100, 8);
	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, " prev_state=R+ ") != NULL);
	/* Rendered as this tracepoint even when common_type says otherwise (hand-built records). */
	put(raw, 0, 9999, 2);
	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "prev_comm=bash ") == buf);
	CHECK_EQ_U64(get(tp, "common_type", raw, sizeof(raw)),
		     9999); /* the caller's data is untouched */
	tp__delete(tp);
}

static void test_sched_wakeup(void)
{
	struct tp *tp = load_fixture("sched", "sched_wakeup-6.18.format");
	unsigned char raw[40] = {0};
	char buf[256];

	CHECK(tp != NULL);
	if (!tp)
		return;
	CHECK_STR(tp__name(tp), "sched:sched_wakeup");
	CHECK_EQ_U64(tp__size(tp), 36);
	put(raw, 0, 374, 2);
	memcpy(raw + 8, "sleeper", 8);
	put(raw, 24, 999, 4);
	put(raw, 28, 120, 4);
	put(raw, 32, 1, 4);
	CHECK_STR(tp_field__str(tp__field(tp, "comm"), raw, sizeof(raw), buf, sizeof(buf)),
		  "sleeper");
	CHECK_EQ_U64(get(tp, "pid", raw, sizeof(raw)), 999);
	CHECK_EQ_U64(get(tp, "target_cpu", raw, sizeof(raw)), 1);
	CHECK(tp__field(tp, "prev_state") == NULL);
	/* perf pads PERF_SAMPLE_RAW to 8 bytes: a longer record is fine. */
	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "comm=sleeper pid=999 prio=120 target_cpu=001");
	tp__delete(tp);
}

static void test_sys_enter_write(void)
{
	struct tp *tp = load_fixture("syscalls", "sys_enter_write-6.18.format");
	unsigned char raw[40] = {0};
	char buf[256];

	CHECK(tp != NULL);
	if (!tp)
		return;
	CHECK_STR(tp__name(tp), "syscalls:sys_enter_write");
	CHECK_EQ_U64(tp__id(tp), 840);
	put(raw, 0, 840, 2);
	put(raw, 8, 1, 4);
	/* "unsigned int fd" in an 8-byte slot: the size in the format is what counts. */
	put(raw, 16, 0x100000003ull, 8);
	put(raw, 24, 0x7ffd12345678ull, 8);
	put(raw, 32, 4096, 8);
	CHECK_EQ_U64(tp_field__size(tp__field(tp, "fd")), 8);
	CHECK_EQ_U64(get(tp, "fd", raw, sizeof(raw)), 0x100000003ull);
	CHECK_EQ_U64(get(tp, "__syscall_nr", raw, sizeof(raw)), 1);
	CHECK_EQ_U64(get(tp, "buf", raw, sizeof(raw)), 0x7ffd12345678ull);
	CHECK_EQ_U64(get(tp, "count", raw, sizeof(raw)), 4096);
	/* A user pointer is not text in the record. */
	CHECK(tp_field__str(tp__field(tp, "buf"), raw, sizeof(raw), buf, sizeof(buf)) == NULL);
	put(raw, 16, 3, 8);
	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "fd: 0x00000003, buf: 0x7ffd12345678, count: 0x00001000");
	tp__delete(tp);
}

static void test_data_loc(void)
{
	static const char filename[] = "/usr/bin/true";
	struct tp *tp = load_fixture("sched", "sched_process_exec-6.18.format");
	const struct tp_field *f;
	unsigned char raw[48] = {0};
	uint32_t len = sizeof(filename); /* the kernel counts the NUL */
	char buf[256];
	uint64_t v;

	CHECK(tp != NULL);
	if (!tp)
		return;
	CHECK_EQ_U64(tp__size(tp), 20);
	f = tp__field(tp, "filename");
	CHECK(f != NULL);
	if (!f)
		goto out;
	/* __data_loc: u32 at offset 8 = length << 16 | offset; the bytes follow the fixed part. */
	put(raw, 0, 365, 2);
	put(raw, 8, len << 16 | 20, 4);
	put(raw, 12, 2001, 4);
	put(raw, 16, 2000, 4);
	memcpy(raw + 20, filename, len);
	CHECK_STR(tp_field__str(f, raw, sizeof(raw), buf, sizeof(buf)), filename);
	CHECK_STR(tp_field__str(f, raw, 20 + len, buf, sizeof(buf)), filename);
	CHECK_STR(tp_field__str(f, raw, sizeof(raw), buf, 5), "/usr");
	CHECK_EQ_U64(get(tp, "pid", raw, sizeof(raw)), 2001);
	CHECK_EQ_U64(get(tp, "old_pid", raw, sizeof(raw)), 2000);
	CHECK_EQ_U64(tp_field__u64(f, raw, sizeof(raw), &v), (uint64_t)-EINVAL);
	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "filename=/usr/bin/true pid=2001 old_pid=2000");

	/* The string runs past the record: neither reading nor rendering may follow it. */
	CHECK(tp_field__str(f, raw, 20 + len - 1, buf, sizeof(buf)) == NULL);
	CHECK_EQ_U64(tp__render(tp, raw, 20 + len - 1, buf, sizeof(buf)), (uint64_t)-EINVAL);
	put(raw, 8, 4u << 16 | 0xfff0, 4);
	CHECK(tp_field__str(f, raw, sizeof(raw), buf, sizeof(buf)) == NULL);
	CHECK_EQ_U64(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)), (uint64_t)-EINVAL);
	/* An empty string is legal. */
	put(raw, 8, 0u << 16 | 20, 4);
	CHECK_STR(tp_field__str(f, raw, sizeof(raw), buf, sizeof(buf)), "");
	/* The u32 itself cut off. */
	CHECK(tp_field__str(f, raw, 10, buf, sizeof(buf)) == NULL);
out:
	tp__delete(tp);
}

static void test_bad_formats(void)
{
	static const char garbage[] = "this is not a tracepoint format\n";
	unsigned char raw[64] = {0};
	char buf[128];
	struct tp *tp;

	/* An unknown print helper: fields still work, rendering is refused. */
	tp = load_fixture("sched", "sched_switch-unknown-helper.format");
	CHECK(tp != NULL);
	if (tp) {
		put(raw, 32, 2, 8);
		CHECK_EQ_U64(get(tp, "prev_state", raw, sizeof(raw)), 2);
		CHECK_EQ_U64(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)),
			     (uint64_t)-EOPNOTSUPP);
		tp__delete(tp);
	}
	errno = 0;
	tp = tp__parse("sched", garbage, sizeof(garbage) - 1);
	CHECK(tp == NULL);
	CHECK(errno == EINVAL);
	tp__delete(tp);
	tp__delete(NULL);
}

/*
 * A sched_switch whose file lists the fields in another order, at other
 * offsets and widths than any kernel, with a field no kernel has: every
 * value must come from where this text says it is.
 */
static const char moved_format[] =
	"name: sched_switch\n"
	"ID: 9\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char next_comm[16];\toffset:44;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:u64 stackprof_unknown;\toffset:60;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned int prev_state;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:char prev_comm[16];\toffset:28;\tsize:16;\tsigned:0;\n"
	"\tfield:int next_prio;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:pid_t prev_pid;\toffset:16;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:20;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"prev_pid=%d prev_state=0x%x ==> next_pid=%d\", REC->prev_pid, "
	"REC->prev_state, REC->next_pid\n";

static void test_moved_offsets(void)
{
	struct tp *tp = tp__parse("sched", moved_format, sizeof(moved_format) - 1);
	struct tp *real = load_fixture("sched", "sched_switch-6.18.format");
	unsigned char raw[72] = {0};
	char buf[256];

	CHECK(tp != NULL && real != NULL);
	if (!tp || !real)
		goto out;
	CHECK_EQ_U64(tp__size(tp), 68);
	CHECK_EQ_U64(tp_field__size(tp__field(tp, "prev_state")), 4);
	put(raw, 0, 9, 2);
	put(raw, 8, 222, 4);		/* next_pid */
	put(raw, 12, 0x101, 4);		/* prev_state */
	put(raw, 16, 111, 4);		/* prev_pid */
	put(raw, 20, (uint64_t)-3, 4);	/* prev_prio */
	put(raw, 24, 120, 4);		/* next_prio */
	memcpy(raw + 28, "prev", 4);
	memcpy(raw + 44, "next", 4);
	put(raw, 60, 0x1122334455667788ull, 8);
	CHECK_EQ_U64(get(tp, "next_pid", raw, sizeof(raw)), 222);
	CHECK_EQ_U64(get(tp, "prev_pid", raw, sizeof(raw)), 111);
	CHECK_EQ_U64(get(tp, "prev_state", raw, sizeof(raw)), 0x101);
	CHECK_EQ_U64(get(tp, "prev_prio", raw, sizeof(raw)), (uint64_t)-3);
	CHECK_EQ_U64(get(tp, "next_prio", raw, sizeof(raw)), 120);
	CHECK_EQ_U64(get(tp, "stackprof_unknown", raw, sizeof(raw)), 0x1122334455667788ull);
	CHECK_STR(tp_field__str(tp__field(tp, "prev_comm"), raw, sizeof(raw), buf, sizeof(buf)),
		  "prev");
	CHECK_STR(tp_field__str(tp__field(tp, "next_comm"), raw, sizeof(raw), buf, sizeof(buf)),
		  "next");
	CHECK(tp__render(tp, raw, sizeof(raw), buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "prev_pid=111 prev_state=0x101 ==> next_pid=222");
	/* The record ends with the unknown field: one byte less is too short. */
	CHECK_EQ_U64(tp__render(tp, raw, 67, buf, sizeof(buf)), (uint64_t)-EINVAL);
	/* The same bytes read through the 6.18 layout are other values. */
	CHECK(get(real, "next_pid", raw, sizeof(raw)) != 222);
	CHECK(get(real, "prev_pid", raw, sizeof(raw)) != 111);
out:
	tp__delete(tp);
	tp__delete(real);
}

/* sys_enter_write with count declared where fd is: count reads fd's bytes. */
static void test_moved_onto_other_field(void)
{
	char path[PATH_MAX], text[4096], *p;
	unsigned char raw[40] = {0};
	struct tp *tp;
	size_t n;
	FILE *f;

	f = fopen(fixture_path("sys_enter_write-6.18.format", path, sizeof(path)), "r");
	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, "size_t count;\toffset:32;");
	CHECK(p != NULL);
	if (!p)
		return;
	memcpy(p + strlen("size_t count;\toffset:"), "16", 2);
	tp = tp__parse("syscalls", text, n);
	CHECK(tp != NULL);
	if (!tp)
		return;
	put(raw, 16, 7, 8);
	put(raw, 32, 4096, 8);
	CHECK_EQ_U64(get(tp, "fd", raw, sizeof(raw)), 7);
	CHECK_EQ_U64(get(tp, "count", raw, sizeof(raw)), 7);
	tp__delete(tp);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Writes @text to @dir/@rel, making the directories on the way. */
static int write_file(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/*
 * STACKPROF_TRACEFS: formats and ids come from a directory laid out as
 * tracefs, and the kernel's tracefs is not even looked for. Needs no root.
 */
static void test_override_root(void)
{
	const char *tmp = getenv("STACKPROF_TEST_TMP");
	char dir[PATH_MAX - 64], path[PATH_MAX], text[16384];
	struct tp *tp;
	size_t n;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/test_tp_root.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	mkdir(dir, 0755);
	f = fopen(fixture_path("sched_switch-6.18.format", path, sizeof(path)), "r");
	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	CHECK(write_file(dir, "events/sched/sched_switch/format", text) == 0);
	CHECK(write_file(dir, "events/sched/sched_switch/id", "4242\n") == 0);
	CHECK(write_file(dir, "events/sched/sched_wakeup/id", "4243\n") == 0);
	CHECK(write_file(dir, "events/syscalls/sys_enter_write/format", moved_format) == 0);

	tracefs__cleanup();
	setenv("STACKPROF_TRACEFS", dir, 1);
	CHECK_STR(tracefs__override(), dir);
	CHECK_STR(tracefs__root(), dir);
	tp = tp__load("sched", "sched_switch");
	CHECK(tp != NULL);
	if (tp) {
		CHECK_EQ_U64(tp__id(tp), 4242); /* the id file wins over the format's ID */
		CHECK_EQ_U64(tp__size(tp), 64);
		tp__delete(tp);
	}
	/* Without an id file, the format's ID; the layout is the file's, whatever it says. */
	tp = tp__load("syscalls", "sys_enter_write");
	CHECK(tp != NULL);
	if (tp) {
		CHECK_EQ_U64(tp__id(tp), 9);
		CHECK(tp__field(tp, "stackprof_unknown") != NULL);
		tp__delete(tp);
	}
	CHECK(tp__exists("sched", "sched_switch"));
	CHECK(!tp__exists("sched", "sched_process_exec"));
	/* A directory without its format file. */
	errno = 0;
	CHECK(tp__load("sched", "sched_wakeup") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	errno = 0;
	CHECK(tp__load("sched", "sched_process_exec") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	/* None of that needed the kernel's tracefs. */
	CHECK(tracefs__via() == NULL);
	tracefs__cleanup();

	/* A root that is missing, or not a directory: an error, never a fallback. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	setenv("STACKPROF_TRACEFS", path, 1);
	errno = 0;
	CHECK(tracefs__root() == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	errno = 0;
	CHECK(tp__load("sched", "sched_switch") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	CHECK(!tp__exists("sched", "sched_switch"));
	tracefs__cleanup();
	snprintf(path, sizeof(path), "%s/events/sched/sched_switch/format", dir);
	setenv("STACKPROF_TRACEFS", path, 1);
	errno = 0;
	CHECK(tracefs__root() == NULL);
	CHECK_EQ_U64(errno, ENOTDIR);
	CHECK(tracefs__via() == NULL);
	tracefs__cleanup();

	/* Empty means unset. */
	setenv("STACKPROF_TRACEFS", "", 1);
	CHECK(tracefs__override() == NULL);
	unsetenv("STACKPROF_TRACEFS");
	tracefs__cleanup();
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int read_id_file(const char *sys, const char *name)
{
	char rel[256], path[PATH_MAX];
	int id = -1;
	FILE *f;

	snprintf(rel, sizeof(rel), "events/%s/%s/id", sys, name);
	if (tracefs__file(rel, path, sizeof(path)))
		return -1;
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &id) != 1)
		id = -1;
	fclose(f);
	return id;
}

/* Mounts of @type in our namespace: at @dir, or anywhere when @dir is NULL. */
static int count_mounts(const char *type, const char *dir)
{
	struct mntent *m;
	int n = 0;
	FILE *f;

	f = setmntent("/proc/self/mounts", "r");
	if (!f)
		return -1;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_type, type) && (!dir || !strcmp(m->mnt_dir, dir)))
			n++;
	endmntent(f);
	return n;
}

static int count_tracefs(const char *dir)
{
	return count_mounts("tracefs", dir);
}

/*
 * The live checks run in a mount namespace of their own: tests running in
 * parallel (and the host) neither see the mounts made here nor can unmount
 * tracefs from under us, and every starting state can be set up.
 */
static bool enter_private_mounts(void)
{
	if (unshare(CLONE_NEWNS)) {
		printf("skip live tracefs checks: unshare(CLONE_NEWNS): %s\n", strerror(errno));
		return false;
	}
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("skip live tracefs checks: making mounts private: %s\n", strerror(errno));
		return false;
	}
	return true;
}

/* Unmounts every tracefs and debugfs (both count as "tracefs is mounted") in our namespace. */
static void unmount_tracing(void)
{
	struct mntent *m;
	bool again = true;
	int rounds;
	FILE *f;

	for (rounds = 0; again && rounds < 16; rounds++) {
		again = false;
		f = setmntent("/proc/self/mounts", "r");
		if (!f)
			return;
		while ((m = getmntent(f)))
			if (!strcmp(m->mnt_type, "tracefs") || !strcmp(m->mnt_type, "debugfs"))
				again |= umount2(m->mnt_dir, MNT_DETACH) == 0;
		endmntent(f);
	}
}

static void test_live_tracepoints(void)
{
	struct tp *tp;

	tp = tp__load("sched", "sched_switch");
	CHECK(tp != NULL);
	if (tp) {
		CHECK_STR(tp__name(tp), "sched:sched_switch");
		CHECK(tp__id(tp) > 0);
		CHECK_EQ_U64(tp__id(tp), read_id_file("sched", "sched_switch"));
		CHECK(tp__field(tp, "prev_state") != NULL);
		CHECK(tp__field(tp, "next_pid") != NULL);
		tp__delete(tp);
	}
	errno = 0;
	CHECK(tp__load("sched", "stackprof_no_such_tracepoint") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	errno = 0;
	CHECK(tp__load("stackprof_no_such_group", "foo") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	errno = 0;
	CHECK(tp__load("..", "sched") == NULL);
	CHECK_EQ_U64(errno, EINVAL);
}

#define VIA_ENV "STACKPROF_TRACEFS_VIA"

/* Resolves tracefs with STACKPROF_TRACEFS_VIA=@via; NULL on failure with errno kept. */
static const char *forced(const char *via)
{
	tracefs__cleanup();
	setenv(VIA_ENV, via, 1);
	errno = 0;
	return tracefs__path();
}

/* Each step of the chain forced, from each starting state; runs in our private namespace. */
static void test_live_forced(void)
{
	const char *path;

	unmount_tracing();
	/* Nothing mounted: only "mount" can work. */
	CHECK(forced("tracing") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	CHECK(tracefs__via() == NULL);
	CHECK(forced("debugfs") == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	CHECK(forced("no-such-step") == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	CHECK_EQ_U64(count_tracefs(NULL), 0);
	path = forced("mount");
	CHECK_STR(path, "/sys/kernel/tracing");
	CHECK_STR(tracefs__via(), "mount");
	CHECK(tracefs__mounted_here());
	CHECK_EQ_U64(count_tracefs("/sys/kernel/tracing"), 1);
	CHECK_EQ_U64(read_id_file("sched", "sched_switch") > 0, 1);
	tracefs__cleanup();
	CHECK_EQ_U64(count_tracefs(NULL), 0);

	/* tracefs mounted: "tracing" takes it and leaves it; "mount" cannot mount it twice. */
	CHECK(mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0);
	CHECK_STR(forced("tracing"), "/sys/kernel/tracing");
	CHECK_STR(tracefs__via(), "tracing");
	CHECK(!tracefs__mounted_here());
	CHECK(forced("mount") == NULL);
	CHECK_EQ_U64(errno, EBUSY);
	CHECK(forced("debugfs") == NULL);
	tracefs__cleanup();
	CHECK_EQ_U64(count_tracefs("/sys/kernel/tracing"), 1);

	/* Both: "debugfs" takes debugfs' tracing/, the chain prefers the tracefs mount. */
	if (mount("nodev", "/sys/kernel/debug", "debugfs", 0, NULL) == 0) {
		CHECK_STR(forced("debugfs"), "/sys/kernel/debug/tracing");
		CHECK_STR(tracefs__via(), "debugfs");
		CHECK(!tracefs__mounted_here());
		CHECK_EQ_U64(read_id_file("sched", "sched_switch") > 0, 1);
		tracefs__cleanup();
		unsetenv(VIA_ENV);
		CHECK_STR(tracefs__path(), "/sys/kernel/tracing");
		CHECK_STR(tracefs__via(), "tracing");
		tracefs__cleanup();
		CHECK_EQ_U64(count_mounts("debugfs", "/sys/kernel/debug"), 1);
	} else {
		printf("skip the forced debugfs case: mounting debugfs: %s\n", strerror(errno));
	}
	unmount_tracing();

	/* Someone mounts over our tracefs meanwhile: theirs stays, and so does ours below it. */
	CHECK_STR(forced("mount"), "/sys/kernel/tracing");
	CHECK(mount("none", "/sys/kernel/tracing", "tmpfs", 0, NULL) == 0);
	tracefs__cleanup();
	CHECK_EQ_U64(count_mounts("tmpfs", "/sys/kernel/tracing"), 1);
	CHECK_EQ_U64(count_tracefs("/sys/kernel/tracing"), 1);
	umount2("/sys/kernel/tracing", MNT_DETACH);
	unmount_tracing();
	CHECK_EQ_U64(count_tracefs(NULL), 0);
	unsetenv(VIA_ENV);
	tracefs__cleanup();
}

static void test_live(void)
{
	const char *path;

	if (geteuid() != 0) {
		printf("skip live tracefs checks: mounting tracefs needs root\n");
		return;
	}
	if (!enter_private_mounts())
		return;

	/* Not mounted (as at boot here): tracefs__path() mounts it, cleanup unmounts it. */
	unmount_tracing();
	CHECK_EQ_U64(count_tracefs(NULL), 0);
	path = tracefs__path();
	CHECK_STR(path, "/sys/kernel/tracing");
	CHECK(tracefs__mounted_here());
	CHECK_EQ_U64(count_tracefs("/sys/kernel/tracing"), 1);
	test_live_tracepoints();
	tracefs__cleanup();
	CHECK(!tracefs__mounted_here());
	CHECK_EQ_U64(count_tracefs(NULL), 0);
	tracefs__cleanup(); /* nothing mounted: harmless */
	CHECK_EQ_U64(count_tracefs(NULL), 0);

	/* Already mounted: used as is, and left mounted. */
	CHECK(mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0);
	CHECK_STR(tracefs__path(), "/sys/kernel/tracing");
	CHECK(!tracefs__mounted_here());
	CHECK_EQ_U64(read_id_file("sched", "sched_switch") > 0, 1);
	tracefs__cleanup();
	CHECK_EQ_U64(count_tracefs("/sys/kernel/tracing"), 1);
	unmount_tracing();

	/* Only debugfs mounted: its tracing/ directory is accepted. */
	if (mount("nodev", "/sys/kernel/debug", "debugfs", 0, NULL) == 0) {
		CHECK_STR(tracefs__path(), "/sys/kernel/debug/tracing");
		CHECK(!tracefs__mounted_here());
		CHECK_EQ_U64(read_id_file("sched", "sched_switch") > 0, 1);
		tracefs__cleanup();
		unmount_tracing();
	} else {
		printf("skip the debugfs case: mounting debugfs: %s\n", strerror(errno));
	}
	test_live_forced();
}

int main(void)
{
	test_sched_switch();
	test_sched_wakeup();
	test_sys_enter_write();
	test_data_loc();
	test_bad_formats();
	test_moved_offsets();
	test_moved_onto_other_field();
	test_override_root();
	test_live();
	CHECK_DONE();
}

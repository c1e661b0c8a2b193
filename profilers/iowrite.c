/*
 * iowrite: bytes written, by the stack that wrote them and, with --by-file,
 * by the file they went to.
 *
 * Syscall tracepoints: the entry of write, pwrite64, writev, pwritev and
 * pwritev2 carries the fd, the requested length and the stack; the exit
 * carries the result. Entry and exit are paired per thread in time order.
 *
 * File names come from /proc/PID/fd (symbols/fdnames.c). /proc only tells
 * the present, so names are taken as records leave the ring, not once they
 * are ordered (the process may be gone by then), and the model follows the
 * process: the entries of close, close_range, dup2 and dup3 forget fds; the
 * exits of open, openat, openat2 and creat name the new fd at once (those
 * events wake stackprof on every hit, so the file is read while it is
 * still open); forks copy the names, execs read them again.
 */
#include "core/emit.h"
#include "core/log.h"
#include "core/profiler.h"
#include "core/record.h"
#include "core/session.h"
#include "core/stack_table.h"
#include "core/tid_table.h"
#include "symbols/fdnames.h"
#include "symbols/syms.h"
#include "symbols/u64map.h"
#include "trace/tp.h"

#include <asm/perf_regs.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_BY_FILE = 4000,
	OPT_PATH,
};

/* Counters of every table: what the folded file and the columns show. */
enum { VAL_WRITTEN, VAL_REQUESTED, VAL_CALLS, VAL_FAILED, NR_VALS };

enum sys { SYS_WRITE, SYS_PWRITE64, SYS_WRITEV, SYS_PWRITEV, SYS_PWRITEV2, NR_SYS };

static const struct {
	const char *name;
	bool vec; /* (fd, vec, vlen): the requested length is summed from the iovecs */
	bool required;
} sys_info[NR_SYS] = {
	{ "write", false, true },  { "pwrite64", false, true }, { "writev", true, true },
	{ "pwritev", true, false }, { "pwritev2", true, false },
};

/* What an event is for. */
enum role {
	ROLE_NONE,
	ROLE_ENTER,	/* a write's entry: fd, length or iovecs, stack */
	ROLE_EXIT,	/* a write's exit: the result */
	ROLE_CLOSE,	/* close(fd), close_range(fd, max_fd): forget */
	ROLE_DUP2,	/* dup2/dup3(oldfd, newfd): newfd becomes oldfd's file */
	ROLE_DUP_ENTER, /* dup(fildes), fcntl(fd, F_DUPFD...): the fd copied */
	ROLE_DUP_EXIT,	/* ... and the new fd */
	ROLE_OPEN,	/* the exit of an open: the new fd, named now */
};
struct event {
	uint8_t role;
	uint8_t sys;
	const struct tp_field *f_fd, *f_count, *f_vec, *f_vlen, *f_ret, *f_last;
};

/* User stack bytes copied with vectored writes: where a local iovec array lives. */
#define VEC_STACK_BYTES 4096
#define MAX_PATHS 16

/* A write in progress on one thread, between its entry and exit. */
struct call {
	bool active;
	bool skip; /* --path did not match */
	bool req_known;
	uint8_t sys;
	uint64_t requested;
	uint64_t label; /* the file, 0 = unknown */
	struct stack_entry *e;
};

/* An fd copy in progress on one thread, seen as records leave the ring. */
struct dup_call {
	bool active;
	int32_t oldfd;
};

/* Totals of one file, for --by-file. */
struct file_row {
	uint64_t label;
	uint64_t vals[NR_VALS];
};

static struct {
	bool by_file;
	const char *paths[MAX_PATHS];
	unsigned int nr_paths;

	struct event events[64]; /* by event index */
	struct stack_table *io, *io_iv;
	struct tid_table *calls; /* struct call per thread */
	struct tid_table *dups;	 /* struct dup_call per thread */
	struct fdnames *fds;
	uint64_t std_labels[3]; /* stackprof's own stdin, stdout, stderr: a launched command's */
	uint32_t child_seen;

	struct u64map *file_idx; /* label -> index + 1 in files */
	struct file_row *files;
	size_t nr_files, cap_files;
	uint64_t sys_vals[NR_SYS][NR_VALS];

	uint64_t unknown_req, unpaired, filtered, names_missing;
	unsigned int ticks;
} io;

static const struct profiler_option iowrite_options[] = {
	{ "by-file", OPT_BY_FILE, NULL, "group by the file written to as well as by stack" },
	{ "path", OPT_PATH, "GLOB",
	  "count only writes to files whose name matches GLOB ('*' spans '/'; repeatable)" },
	{ 0 },
};

static int iowrite_parse_option(int key, const char *arg)
{
	switch (key) {
	case OPT_BY_FILE:
		io.by_file = true;
		return 0;
	case OPT_PATH:
		if (!arg[0]) {
			pr_warn("iowrite: empty --path: give a file name or a glob, e.g. "
				"'/var/log/*'");
			return -EINVAL;
		}
		if (io.nr_paths == MAX_PATHS) {
			pr_warn("iowrite: at most %d --path patterns", MAX_PATHS);
			return -EINVAL;
		}
		io.paths[io.nr_paths++] = arg;
		return 0;
	}
	return -EINVAL;
}

/*
 * Adds tracepoint syscalls:NAME for @role. Optional ones the kernel lacks
 * are skipped (-v says so). Returns the event index, -ENOENT when skipped,
 * or -errno.
 */
static int add_tp(struct session *s, const char *name, enum role role, enum sys sys,
		  bool required)
{
	const struct sp_opts *o = session__opts(s);
	struct perf_event_attr attr;
	const struct tp *tp;
	struct event *ev;
	int idx, err;

	if (!required && !tp__exists("syscalls", name)) {
		pr_info("iowrite: this kernel has no syscalls:%s; skipped", name);
		return -ENOENT;
	}
	err = session__tracepoint(s, "syscalls", name, &attr, &tp);
	if (err)
		return err;
	if (role == ROLE_ENTER) {
		if (o->callchain)
			attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
		if (sys_info[sys].vec) {
			attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
			attr.sample_regs_user = 1ULL << PERF_REG_X86_SP;
			attr.sample_stack_user = VEC_STACK_BYTES;
		}
	}
	/* A new fd is named while it is still open: wake up for each. */
	if (role == ROLE_OPEN)
		attr.wakeup_events = 1;
	idx = session__add_event(s, &attr, tp__name(tp));
	if (idx < 0)
		return idx;
	if ((size_t)idx >= sizeof(io.events) / sizeof(io.events[0]))
		return -E2BIG;
	ev = &io.events[idx];
	ev->role = (uint8_t)role;
	ev->sys = (uint8_t)sys;
	switch (role) {
	case ROLE_ENTER:
		ev->f_fd = tp__field(tp, "fd");
		ev->f_count = tp__field(tp, "count");
		ev->f_vec = tp__field(tp, "vec");
		ev->f_vlen = tp__field(tp, "vlen");
		if (!ev->f_fd || (sys_info[sys].vec ? !ev->f_vec || !ev->f_vlen : !ev->f_count))
			goto out_fields;
		break;
	case ROLE_EXIT:
	case ROLE_OPEN:
	case ROLE_DUP_EXIT:
		ev->f_ret = tp__field(tp, "ret");
		if (!ev->f_ret)
			goto out_fields;
		break;
	case ROLE_CLOSE:
		ev->f_fd = tp__field(tp, "fd");
		ev->f_last = tp__field(tp, "max_fd"); /* close_range only */
		if (!ev->f_fd)
			goto out_fields;
		break;
	case ROLE_DUP2:
		ev->f_fd = tp__field(tp, "oldfd");
		ev->f_last = tp__field(tp, "newfd");
		if (!ev->f_fd || !ev->f_last)
			goto out_fields;
		break;
	case ROLE_DUP_ENTER:
		ev->f_fd = tp__field(tp, "fildes"); /* dup */
		if (!ev->f_fd)
			ev->f_fd = tp__field(tp, "fd"); /* fcntl */
		if (!ev->f_fd)
			goto out_fields;
		break;
	default:
		break;
	}
	/* System-wide, this process's own writes (reports, live tables) would only measure it. */
	if (o->target.system_wide) {
		char filter[64];

		snprintf(filter, sizeof(filter), "common_pid != %d", (int)getpid());
		err = session__set_filter(s, idx, filter);
		if (err)
			return err;
	}
	return idx;
out_fields:
	pr_warn("iowrite: syscalls:%s lacks the fields it should have on this kernel", name);
	return -ENOTSUP;
}

/* Adds each of @names for @role, skipping those this kernel lacks. Returns 0 or -errno. */
static int add_optional(struct session *s, const char *const *names, size_t nr, enum role role)
{
	for (size_t i = 0; i < nr; i++) {
		int err = add_tp(s, names[i], role, 0, false);

		if (err < 0 && err != -ENOENT)
			return err;
	}
	return 0;
}

#define ADD_OPTIONAL(s, names, role) add_optional(s, names, sizeof(names) / sizeof(names[0]), role)

/* fcntl's commands that return a copy of the fd (F_DUPFD, F_DUPFD_CLOEXEC). */
#define FCNTL_DUP_FILTER "cmd == 0 || cmd == 1030"

static int add_events(struct session *s)
{
	static const char *const closers[] = { "sys_enter_close", "sys_enter_close_range" };
	static const char *const dup2s[] = { "sys_enter_dup2", "sys_enter_dup3" };
	static const char *const dup_exits[] = { "sys_exit_dup", "sys_exit_fcntl" };
	static const char *const openers[] = { "sys_exit_open", "sys_exit_openat",
					       "sys_exit_openat2", "sys_exit_creat" };
	char name[64];
	int err;

	for (int sys = 0; sys < NR_SYS; sys++) {
		snprintf(name, sizeof(name), "sys_enter_%s", sys_info[sys].name);
		err = add_tp(s, name, ROLE_ENTER, sys, sys_info[sys].required);
		if (err == -ENOENT && !sys_info[sys].required)
			continue;
		if (err < 0)
			return err;
		snprintf(name, sizeof(name), "sys_exit_%s", sys_info[sys].name);
		err = add_tp(s, name, ROLE_EXIT, sys, true);
		if (err < 0)
			return err;
	}
	err = ADD_OPTIONAL(s, closers, ROLE_CLOSE);
	if (!err)
		err = ADD_OPTIONAL(s, dup2s, ROLE_DUP2);
	if (!err)
		err = add_tp(s, "sys_enter_dup", ROLE_DUP_ENTER, 0, false);
	if (err >= 0 || err == -ENOENT) {
		err = add_tp(s, "sys_enter_fcntl", ROLE_DUP_ENTER, 0, false);
		/* Only the copies: fcntl is also the busy F_GETFL/F_SETFL of event loops. */
		if (err >= 0)
			err = session__set_filter(s, err, FCNTL_DUP_FILTER);
	}
	if (err >= 0 || err == -ENOENT)
		err = ADD_OPTIONAL(s, dup_exits, ROLE_DUP_EXIT);
	if (!err)
		err = ADD_OPTIONAL(s, openers, ROLE_OPEN);
	return err;
}

static int iowrite_setup(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	int err;

	if (o->kernel_only) {
		pr_warn("iowrite: syscall stacks are user-space only (the kernel side of a syscall "
			"entry is the entry path): drop --kernel-only");
		return -EINVAL;
	}
	io.io = stack_table__new(NR_VALS, 0);
	io.calls = tid_table__new(sizeof(struct call));
	io.dups = tid_table__new(sizeof(struct dup_call));
	io.fds = fdnames__new(session__syms(s));
	io.file_idx = u64map__new();
	if (!io.io || !io.calls || !io.dups || !io.fds || !io.file_idx)
		return -ENOMEM;
	if (o->interval > 0) {
		io.io_iv = stack_table__new(NR_VALS, 0);
		if (!io.io_iv)
			return -ENOMEM;
	}
	/* A launched command starts with stackprof's own stdin, stdout and stderr. */
	for (int fd = 0; fd < 3; fd++)
		io.std_labels[fd] = fdnames__read(io.fds, (uint32_t)getpid(), fd);
	err = add_events(s);
	if (err)
		return err;
	/* Writes come in bursts, and vectored ones carry a stack copy. */
	session__default_mmap_pages(s, 512);
	return 0;
}

static const struct event *event_of(const struct sp_record *rec)
{
	if (rec->evidx < 0 || (size_t)rec->evidx >= sizeof(io.events) / sizeof(io.events[0]))
		return NULL;
	return &io.events[rec->evidx];
}

static bool field(const struct tp_field *f, const struct sp_record *rec, uint64_t *val)
{
	return f && !tp_field__u64(f, rec->raw, rec->raw_size, val);
}

/* The first record of a launched command: it inherited stackprof's standard fds. */
static void adopt_child(struct session *s, uint32_t pid)
{
	pid_t child = session__opts(s)->target.child;

	if (child <= 0 || pid != (uint32_t)child || io.child_seen == pid)
		return;
	io.child_seen = pid;
	fdnames__fork(io.fds, (uint32_t)getpid(), pid);
	for (int fd = 0; fd < 3; fd++)
		fdnames__set(io.fds, pid, fd, io.std_labels[fd]);
	/* What it has now, if it is still there, is better still. */
	fdnames__scan(io.fds, pid);
}

/* Names and model updates, as records leave the ring (see the top of the file). */
static void iowrite_peek(struct session *s, struct sp_record *rec)
{
	const struct event *ev;
	struct dup_call *dup;
	uint64_t fd, last;

	if (rec->type == PERF_RECORD_FORK) {
		if (rec->pid != rec->ppid)
			fdnames__fork(io.fds, rec->ppid, rec->pid);
		return;
	}
	if (rec->type == PERF_RECORD_COMM && (rec->misc & PERF_RECORD_MISC_COMM_EXEC)) {
		adopt_child(s, rec->pid);
		fdnames__scan(io.fds, rec->pid);
		return;
	}
	if (rec->type != PERF_RECORD_SAMPLE || !(ev = event_of(rec)))
		return;
	adopt_child(s, rec->pid);
	switch (ev->role) {
	case ROLE_ENTER:
		if (field(ev->f_fd, rec, &fd))
			rec->note = fdnames__get(io.fds, rec->pid, (int)(int32_t)fd);
		break;
	case ROLE_CLOSE:
		if (!field(ev->f_fd, rec, &fd))
			break;
		if (!field(ev->f_last, rec, &last))
			last = fd;
		fdnames__forget(io.fds, rec->pid, (uint32_t)fd, (uint32_t)last);
		break;
	case ROLE_DUP2:
		if (field(ev->f_fd, rec, &fd) && field(ev->f_last, rec, &last))
			fdnames__set(io.fds, rec->pid, (int)(int32_t)last,
				     fdnames__get(io.fds, rec->pid, (int)(int32_t)fd));
		break;
	case ROLE_DUP_ENTER:
		if (field(ev->f_fd, rec, &fd) && (dup = tid_table__get(io.dups, rec->tid, true))) {
			dup->active = true;
			dup->oldfd = (int32_t)fd;
		}
		break;
	case ROLE_DUP_EXIT:
		dup = tid_table__get(io.dups, rec->tid, false);
		if (!dup || !dup->active)
			break;
		dup->active = false;
		if (field(ev->f_ret, rec, &fd) && (int64_t)fd >= 0)
			fdnames__set(io.fds, rec->pid, (int)fd,
				     fdnames__get(io.fds, rec->pid, dup->oldfd));
		break;
	case ROLE_OPEN:
		if (field(ev->f_ret, rec, &fd) && (int64_t)fd >= 0)
			fdnames__read(io.fds, rec->pid, (int)fd);
		break;
	default:
		break;
	}
}

/*
 * The bytes a vectored write asks for: the iovec array, when it lies in the
 * user stack copied with the sample (a local array, the usual case).
 */
static bool vec_requested(const struct event *ev, const struct sp_record *rec, uint64_t *out)
{
	uint64_t vec, vlen, sp, sum = 0;
	const unsigned char *base = rec->user_stack;

	if (!field(ev->f_vec, rec, &vec) || !field(ev->f_vlen, rec, &vlen))
		return false;
	if (!rec->user_abi || rec->nr_user_regs < 1 || !base)
		return false;
	sp = rec->user_regs[0];
	if (vlen > VEC_STACK_BYTES / 16 || vec < sp || vec - sp > rec->user_stack_size ||
	    vlen * 16 > rec->user_stack_size - (vec - sp))
		return false;
	for (uint64_t i = 0; i < vlen; i++) {
		uint64_t len;

		memcpy(&len, base + (vec - sp) + i * 16 + 8, sizeof(len));
		sum += len;
	}
	*out = sum;
	return true;
}

/* The label naming a file that /proc could not name. */
static uint64_t unnamed_fd(struct session *s, int64_t fd)
{
	char text[48];

	snprintf(text, sizeof(text), "[fd %lld]", (long long)fd);
	return syms__label(session__syms(s), text);
}

static bool path_matches(struct session *s, uint64_t label)
{
	const char *name;

	if (!io.nr_paths)
		return true;
	if (!label)
		return false;
	name = syms__user_name(session__syms(s), label, true);
	for (unsigned int i = 0; i < io.nr_paths; i++)
		if (!fnmatch(io.paths[i], name, 0))
			return true;
	return false;
}

static void call_enter(struct session *s, const struct event *ev, const struct sp_record *rec)
{
	uint64_t kernel[STACK_TABLE_MAX_DEPTH], user[STACK_TABLE_MAX_DEPTH + 1], fd, label;
	struct call *c = tid_table__get(io.calls, rec->tid, true);
	uint32_t nk = 0, nu = 0;

	if (!c || !field(ev->f_fd, rec, &fd))
		return;
	if (c->active)
		io.unpaired++; /* its exit was lost */
	memset(c, 0, sizeof(*c));
	c->sys = ev->sys;
	label = rec->note;
	if (!label) {
		io.names_missing++;
		label = unnamed_fd(s, (int64_t)(int32_t)fd);
	}
	if (!path_matches(s, rec->note)) {
		c->active = true;
		c->skip = true;
		return;
	}
	c->label = label;
	if (sys_info[ev->sys].vec)
		c->req_known = vec_requested(ev, rec, &c->requested);
	else
		c->req_known = field(ev->f_count, rec, &c->requested);
	if (!c->req_known)
		io.unknown_req++;

	/* The file is the leaf frame: each stack's bytes split by where they went. */
	if (io.by_file)
		user[nu++] = label;
	if (session__opts(s)->callchain) {
		uint32_t n;

		session__split_chain(s, rec, kernel, &nk, user + nu, &n);
		nu += n;
	} else {
		char text[32];

		snprintf(text, sizeof(text), "[%s]", sys_info[ev->sys].name);
		user[nu++] = syms__label(session__syms(s), text);
	}
	c->e = stack_table__get(io.io, rec->pid, syms__comm(session__syms(s), rec->pid, rec->tid),
				kernel, nk, user, nu);
	c->active = true;
}

static void add_vals(uint64_t *dst, const uint64_t *vals)
{
	for (int i = 0; i < NR_VALS; i++)
		dst[i] += vals[i];
}

static void add_file(uint64_t label, const uint64_t *vals)
{
	uint64_t idx;

	if (!u64map__get(io.file_idx, label, &idx)) {
		if (io.nr_files == io.cap_files) {
			size_t cap = io.cap_files ? 2 * io.cap_files : 32;
			struct file_row *p = realloc(io.files, cap * sizeof(*p));

			if (!p)
				return;
			io.files = p;
			io.cap_files = cap;
		}
		idx = ++io.nr_files;
		memset(&io.files[idx - 1], 0, sizeof(io.files[0]));
		io.files[idx - 1].label = label;
		if (u64map__put(io.file_idx, label, idx)) {
			io.nr_files--;
			return;
		}
	}
	add_vals(io.files[idx - 1].vals, vals);
}

static void call_exit(const struct event *ev, const struct sp_record *rec)
{
	struct call *c = tid_table__get(io.calls, rec->tid, false);
	uint64_t ret, vals[NR_VALS] = { 0 };

	/* A call that began before the run, or whose entry was lost. */
	if (!c || !c->active || c->sys != ev->sys || !field(ev->f_ret, rec, &ret)) {
		if (c)
			c->active = false;
		return;
	}
	c->active = false;
	if (c->skip) {
		io.filtered++;
		return;
	}
	if ((int64_t)ret >= 0)
		vals[VAL_WRITTEN] = ret;
	else
		vals[VAL_FAILED] = 1;
	vals[VAL_REQUESTED] = c->req_known ? c->requested : 0;
	vals[VAL_CALLS] = 1;
	add_vals(io.sys_vals[c->sys], vals);
	add_file(c->label, vals);
	if (c->e) {
		uint32_t nk, nu;
		const uint64_t *k = stack_entry__kernel(c->e, &nk);
		const uint64_t *u = stack_entry__user(c->e, &nu);

		add_vals(stack_entry__vals_mut(c->e), vals);
		if (io.io_iv)
			stack_table__add(io.io_iv, stack_entry__pid(c->e), stack_entry__comm(c->e), k,
					 nk, u, nu, vals);
	}
	c->e = NULL;
}

static void iowrite_sample(struct session *s, const struct sp_record *rec)
{
	const struct event *ev = event_of(rec);

	if (!ev)
		return;
	if (ev->role == ROLE_ENTER)
		call_enter(s, ev, rec);
	else if (ev->role == ROLE_EXIT)
		call_exit(ev, rec);
}

static void print_stacks(struct session *s, struct stack_table *t, FILE *f)
{
	const struct sp_opts *o = session__opts(s);
	struct emit_opts eo = {
		.val_idx = VAL_WRITTEN,
		.top = o->top,
		.width = isatty(fileno(f)) ? 160 : 0,
		.unit = "WRITTEN(B)",
		.extra = { { VAL_REQUESTED, "REQUESTED(B)" },
			   { VAL_CALLS, "CALLS" },
			   { VAL_FAILED, "FAILED" } },
	};

	emit__table(f, t, session__syms(s), &eo);
}

static void print_totals(const char *what, const uint64_t *v, double secs)
{
	printf("# %s: %llu bytes written of %llu requested in %llu calls (%llu failed) over %.2f s "
	       "(values in bytes)\n",
	       what, (unsigned long long)v[VAL_WRITTEN], (unsigned long long)v[VAL_REQUESTED],
	       (unsigned long long)v[VAL_CALLS], (unsigned long long)v[VAL_FAILED], secs);
}

static void table_totals(const struct stack_table *t, uint64_t *v)
{
	for (int i = 0; i < NR_VALS; i++)
		v[i] = stack_table__total(t, (unsigned int)i);
}

static void iowrite_tick(struct session *s)
{
	uint64_t v[NR_VALS];
	char what[48];

	io.ticks++;
	table_totals(io.io_iv, v);
	snprintf(what, sizeof(what), "iowrite live %u", io.ticks);
	print_totals(what, v, session__opts(s)->interval);
	session__print_losses(s, stdout, false);
	print_stacks(s, io.io_iv, stdout);
	putchar('\n');
	fflush(stdout);
	stack_table__reset(io.io_iv);
}

static int cmp_file(const void *a, const void *b)
{
	const struct file_row *x = a, *y = b;

	if (x->vals[VAL_WRITTEN] != y->vals[VAL_WRITTEN])
		return x->vals[VAL_WRITTEN] < y->vals[VAL_WRITTEN] ? 1 : -1;
	if (x->vals[VAL_CALLS] != y->vals[VAL_CALLS])
		return x->vals[VAL_CALLS] < y->vals[VAL_CALLS] ? 1 : -1;
	return x->label < y->label ? -1 : x->label > y->label;
}

static void print_files(struct session *s)
{
	unsigned int top = session__opts(s)->top;
	size_t n = io.nr_files;

	qsort(io.files, n, sizeof(io.files[0]), cmp_file);
	printf("# by file: %zu file%s\n", n, n == 1 ? "" : "s");
	printf("%12s %12s %10s %10s %s\n", "WRITTEN(B)", "REQUESTED(B)", "CALLS", "FAILED", "FILE");
	for (size_t i = 0; i < n && (!top || i < top); i++) {
		const uint64_t *v = io.files[i].vals;

		printf("%12llu %12llu %10llu %10llu %s\n", (unsigned long long)v[VAL_WRITTEN],
		       (unsigned long long)v[VAL_REQUESTED], (unsigned long long)v[VAL_CALLS],
		       (unsigned long long)v[VAL_FAILED],
		       syms__user_name(session__syms(s), io.files[i].label, true));
	}
	if (top && n > top)
		printf("... %zu more files\n", n - top);
}

static void print_syscalls(void)
{
	printf("# by syscall\n%12s %12s %10s %10s %s\n", "WRITTEN(B)", "REQUESTED(B)", "CALLS",
	       "FAILED", "SYSCALL");
	for (int i = 0; i < NR_SYS; i++) {
		const uint64_t *v = io.sys_vals[i];

		if (v[VAL_CALLS])
			printf("%12llu %12llu %10llu %10llu %s\n",
			       (unsigned long long)v[VAL_WRITTEN],
			       (unsigned long long)v[VAL_REQUESTED],
			       (unsigned long long)v[VAL_CALLS], (unsigned long long)v[VAL_FAILED],
			       sys_info[i].name);
	}
}

/* Calls still inside the kernel when the run ended: not counted, but said. */
static uint64_t in_progress(void)
{
	uint64_t n = 0;

	for (size_t i = 0; i < tid_table__nr(io.calls); i++) {
		const struct call *c = tid_table__at(io.calls, i);

		n += c->active && !c->skip;
	}
	return n;
}

static int iowrite_report(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	double secs = (double)(session__end_time(s) - session__start_time(s)) / 1e9;
	uint64_t v[NR_VALS], pending = in_progress();
	int err = 0;

	table_totals(io.io, v);
	print_totals("iowrite", v, secs);
	session__print_losses(s, stdout, false);
	if (session__lost(s))
		pr_warn("iowrite: %llu events were lost: byte counts are incomplete; raise -m or "
			"narrow the targets",
			(unsigned long long)session__lost(s));
	print_stacks(s, io.io, stdout);
	print_syscalls();
	if (io.by_file)
		print_files(s);
	if (io.filtered)
		printf("# %llu calls to files --path does not match were left out\n",
		       (unsigned long long)io.filtered);
	if (pending)
		printf("# %llu calls were still in progress at the end (not counted)\n",
		       (unsigned long long)pending);
	if (io.unknown_req)
		printf("# %llu vectored calls had their iovec array outside the copied stack: their "
		       "requested bytes count as 0\n",
		       (unsigned long long)io.unknown_req);
	if (io.names_missing)
		printf("# %llu calls went to fds that /proc could no longer name (shown as [fd N])\n",
		       (unsigned long long)io.names_missing);
	if (io.unpaired)
		printf("# %llu calls lost their exit event (not counted)\n",
		       (unsigned long long)io.unpaired);
	fflush(stdout);
	pr_debug("iowrite: %llu fd names known", (unsigned long long)fdnames__nr(io.fds));
	if (o->output) {
		struct emit_opts eo = { .val_idx = VAL_WRITTEN, .annotate = o->annotate };

		err = emit__folded_path(o->output, io.io, session__syms(s), &eo);
		if (!err)
			fprintf(stderr, "stackprof: folded stacks (bytes written) written to %s\n",
				o->output);
	}
	return err;
}

static void iowrite_teardown(struct session *s)
{
	(void)s;
	stack_table__delete(io.io);
	stack_table__delete(io.io_iv);
	tid_table__delete(io.calls);
	tid_table__delete(io.dups);
	fdnames__delete(io.fds);
	u64map__delete(io.file_idx);
	free(io.files);
	io.io = io.io_iv = NULL;
	io.calls = io.dups = NULL;
	io.fds = NULL;
	io.file_idx = NULL;
	io.files = NULL;
	io.nr_files = io.cap_files = 0;
}

const struct profiler iowrite_profiler = {
	.name = "iowrite",
	.summary = "bytes written per stack (and per file): write, pwrite64, writev, pwritev",
	.examples = "  stackprof iowrite -g -- ./myprog            # bytes written per stack\n"
		    "  stackprof iowrite -g -p 1234 -d 30 -o io.folded\n"
		    "  stackprof iowrite -g --by-file              # by target file as well as stack\n"
		    "  stackprof iowrite -g --path '/var/log/*'    # only writes to matching files\n"
		    "  stackprof iowrite -g -i 5                   # live table every 5 seconds\n",
	.options = iowrite_options,
	.parse_option = iowrite_parse_option,
	.setup = iowrite_setup,
	.peek = iowrite_peek,
	.sample = iowrite_sample,
	.tick = iowrite_tick,
	.report = iowrite_report,
	.teardown = iowrite_teardown,
};

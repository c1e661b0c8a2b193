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
#include "core/output.h"
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
#include "trace/uprobe.h"

#include <asm/perf_regs.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
	ROLE_OPEN,	/* the exit of an open: the new fd */
	ROLE_OPEN_PATH, /* a uprobe on the C library's open: the path asked for */
	ROLE_SOCKET,	/* the exit of socket, accept, accept4: a new socket fd */
	ROLE_PAIR_ENTER, /* pipe, pipe2, socketpair: where the two new fds will go */
	ROLE_PAIR_EXIT,	/* ... and their exit, with the stack holding them */
};
struct event {
	uint8_t role;
	uint8_t sys;
	uint64_t label; /* ROLE_SOCKET, ROLE_PAIR_*: the kind the new fds get */
	const struct tp_field *f_fd, *f_count, *f_vec, *f_vlen, *f_ret, *f_last, *f_path;
};

/* User stack bytes copied with vectored writes: where a local iovec array lives. */
#define VEC_STACK_BYTES 4096
/* ... and with the exits of pipe and socketpair: where their int[2] lives. */
#define PAIR_STACK_BYTES 1024
#define MAX_PATHS 16

/* A write in progress on one thread, between its entry and exit. */
struct call {
	bool active;
	bool skip; /* --path did not match */
	bool req_known;
	bool unnamed; /* its fd had no name: said in the report unless it was a bad fd */
	uint8_t sys;
	uint64_t requested;
	uint64_t label; /* the file, 0 = unknown */
	struct stack_entry *e;
};

/* fd-creating calls in progress on one thread, seen as records leave the ring. */
struct fd_call {
	bool dup_active;
	bool open_active;
	int32_t oldfd;	    /* dup, fcntl: the fd copied */
	uint64_t open_label; /* open: the path asked for */
	uint64_t open_time;
	uint64_t last_open_exit; /* a path stamped before this belongs to an open already seen */
	bool pair_active;
	uint64_t pair_ptr; /* pipe, socketpair: the int[2] the fds are written to */
	uint64_t pair_label;
};

/* A write whose fd had no name when peeked: named at the end of the pass. */
struct lazy {
	struct sp_record *rec;
	uint32_t pid;
	int32_t fd;
	bool dead; /* the fd was closed or replaced later in the pass: /proc would lie */
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
	struct tid_table *fdcalls; /* struct fd_call per thread */
	struct lazy *lazy;
	size_t nr_lazy, cap_lazy;
	char *libc; /* where the open probes are */
	struct fdnames *fds;
	uint64_t std_labels[3]; /* stackprof's own stdin, stdout, stderr: a launched command's */
	bool child_seen;

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
 * Adds tracepoint GROUP:NAME for @role. Optional ones the kernel lacks are
 * skipped (-v says so). Returns the event index, -ENOENT when skipped, or
 * -errno.
 */
static int add_tp(struct session *s, const char *group, const char *name, enum role role,
		  enum sys sys, bool required)
{
	const struct sp_opts *o = session__opts(s);
	struct perf_event_attr attr;
	const struct tp *tp;
	struct event *ev;
	int idx, err;

	if (!required && !tp__exists(group, name)) {
		pr_info("iowrite: this kernel has no %s:%s; skipped", group, name);
		return -ENOENT;
	}
	err = session__tracepoint(s, group, name, &attr, &tp);
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
	/* The int[2] pipe and socketpair fill is usually a local: in the stack copy. */
	if (role == ROLE_PAIR_EXIT) {
		attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		attr.sample_regs_user = 1ULL << PERF_REG_X86_SP;
		attr.sample_stack_user = PAIR_STACK_BYTES;
	}
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
	case ROLE_SOCKET:
	case ROLE_PAIR_EXIT:
		ev->f_ret = tp__field(tp, "ret");
		if (!ev->f_ret)
			goto out_fields;
		break;
	case ROLE_PAIR_ENTER:
		ev->f_fd = tp__field(tp, "fildes"); /* pipe, pipe2 */
		if (!ev->f_fd)
			ev->f_fd = tp__field(tp, "usockvec"); /* socketpair */
		if (!ev->f_fd)
			goto out_fields;
		break;
	case ROLE_OPEN_PATH:
		ev->f_fd = tp__field(tp, "dfd"); /* openat only */
		ev->f_path = tp__field(tp, "path");
		if (!ev->f_path)
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
	pr_warn("iowrite: %s lacks the fields it should have on this kernel", tp__name(tp));
	return -ENOTSUP;
}

/* Adds each of @names for @role, skipping those this kernel lacks. Returns 0 or -errno. */
static int add_optional(struct session *s, const char *const *names, size_t nr, enum role role)
{
	for (size_t i = 0; i < nr; i++) {
		int err = add_tp(s, "syscalls", names[i], role, 0, false);

		if (err < 0 && err != -ENOENT)
			return err;
	}
	return 0;
}

#define ADD_OPTIONAL(s, names, role) add_optional(s, names, sizeof(names) / sizeof(names[0]), role)

/*
 * Pipes and sockets get the kind the kernel names them by ("pipe:",
 * "socket:") from the call that made them, since they are often written to
 * and closed before /proc could be asked.
 */
static int add_kinds(struct session *s)
{
	static const char *const sockets[] = { "sys_exit_socket", "sys_exit_accept",
					       "sys_exit_accept4" };
	static const struct {
		const char *enter, *exit, *kind;
	} pairs[] = {
		{ "sys_enter_pipe", "sys_exit_pipe", "pipe:" },
		{ "sys_enter_pipe2", "sys_exit_pipe2", "pipe:" },
		{ "sys_enter_socketpair", "sys_exit_socketpair", "socket:" },
	};
	uint64_t sock = syms__label(session__syms(s), "socket:");
	int idx;

	for (size_t i = 0; i < sizeof(sockets) / sizeof(sockets[0]); i++) {
		idx = add_tp(s, "syscalls", sockets[i], ROLE_SOCKET, 0, false);
		if (idx >= 0)
			io.events[idx].label = sock;
		else if (idx != -ENOENT)
			return idx;
	}
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint64_t kind = syms__label(session__syms(s), pairs[i].kind);

		if (!tp__exists("syscalls", pairs[i].enter) || !tp__exists("syscalls", pairs[i].exit))
			continue;
		idx = add_tp(s, "syscalls", pairs[i].enter, ROLE_PAIR_ENTER, 0, true);
		if (idx < 0)
			return idx;
		io.events[idx].label = kind;
		idx = add_tp(s, "syscalls", pairs[i].exit, ROLE_PAIR_EXIT, 0, true);
		if (idx < 0)
			return idx;
	}
	return 0;
}

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
		err = add_tp(s, "syscalls", name, ROLE_ENTER, sys, sys_info[sys].required);
		if (err == -ENOENT && !sys_info[sys].required)
			continue;
		if (err < 0)
			return err;
		snprintf(name, sizeof(name), "sys_exit_%s", sys_info[sys].name);
		err = add_tp(s, "syscalls", name, ROLE_EXIT, sys, true);
		if (err < 0)
			return err;
	}
	err = ADD_OPTIONAL(s, closers, ROLE_CLOSE);
	if (!err)
		err = ADD_OPTIONAL(s, dup2s, ROLE_DUP2);
	if (!err)
		err = add_tp(s, "syscalls", "sys_enter_dup", ROLE_DUP_ENTER, 0, false);
	if (err >= 0 || err == -ENOENT) {
		err = add_tp(s, "syscalls", "sys_enter_fcntl", ROLE_DUP_ENTER, 0, false);
		/* Only the copies: fcntl is also the busy F_GETFL/F_SETFL of event loops. */
		if (err >= 0)
			err = session__set_filter(s, err, FCNTL_DUP_FILTER);
	}
	if (err >= 0 || err == -ENOENT)
		err = ADD_OPTIONAL(s, dup_exits, ROLE_DUP_EXIT);
	if (!err)
		err = ADD_OPTIONAL(s, openers, ROLE_OPEN);
	if (!err)
		err = add_kinds(s);
	return err;
}

/* The C library's open functions, and where their path argument is. */
static const struct {
	const char *funcs[2]; /* the first the library has */
	const char *args;
} open_probes[] = {
	{ { "open64", "open" }, "path=+0(%di):string" },
	{ { "openat64", "openat" }, "dfd=%di:s32 path=+0(%si):string" },
};

/*
 * Uprobes on the C library's open and openat that record the path the
 * program asked for, read from its memory as the call begins: a new fd is
 * named at its open even when the file is closed, or the process gone,
 * before stackprof reads the records. Without them (no C library, no
 * uprobe_events), new fds are read from /proc as soon as the open's exit
 * wakes stackprof. Returns 0 or -errno for errors other than "cannot".
 */
static int add_open_probes(struct session *s)
{
	const struct target *t = &session__opts(s)->target;
	char group[UPROBE_NAME_MAX], event[UPROBE_NAME_MAX];
	uint64_t off;
	int err;

	io.libc = uprobe__libc_path(t->nr_pids ? t->pids[0] : 0);
	if (!io.libc) {
		pr_info("iowrite: no C library to probe opens in: new files are named from /proc");
		return 0;
	}
	uprobe__cleanup_stale();
	for (size_t i = 0; i < sizeof(open_probes) / sizeof(open_probes[0]); i++) {
		const char *func = open_probes[i].funcs[0];

		if (uprobe__func_offset(io.libc, func, &off)) {
			func = open_probes[i].funcs[1];
			if (uprobe__func_offset(io.libc, func, &off)) {
				pr_info("iowrite: %s has no %s", io.libc, func);
				continue;
			}
		}
		err = uprobe__create_args(io.libc, off, false, open_probes[i].args, func, group,
					  event);
		if (err) {
			pr_info("iowrite: opens are named from /proc instead");
			return 0;
		}
		err = add_tp(s, group, event, ROLE_OPEN_PATH, 0, true);
		if (err < 0)
			return err;
	}
	return 0;
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
	io.io = session__stack_table(s, NR_VALS);
	io.calls = tid_table__new(sizeof(struct call));
	io.fdcalls = tid_table__new(sizeof(struct fd_call));
	io.fds = fdnames__new(session__syms(s));
	io.file_idx = u64map__new();
	if (!io.io || !io.calls || !io.fdcalls || !io.fds || !io.file_idx)
		return -ENOMEM;
	if (o->interval > 0) {
		io.io_iv = session__stack_table(s, NR_VALS);
		if (!io.io_iv)
			return -ENOMEM;
	}
	/* A launched command starts with stackprof's own stdin, stdout and stderr. */
	for (int fd = 0; fd < 3; fd++)
		io.std_labels[fd] = fdnames__read(io.fds, (uint32_t)getpid(), fd);
	/* Processes attached to: what their fds are now, before any is closed. */
	for (size_t i = 0; i < o->target.nr_pids; i++)
		fdnames__scan(io.fds, (uint32_t)o->target.pids[i]);
	err = add_events(s);
	if (!err)
		err = add_open_probes(s);
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

/*
 * The first record of a launched command: it inherited stackprof's standard
 * fds. (It may be gone and reaped already: the pid is kept for this.)
 */
static void adopt_child(struct session *s, uint32_t pid)
{
	pid_t child = session__opts(s)->target.launched;

	if (io.child_seen || child <= 0 || pid != (uint32_t)child)
		return;
	io.child_seen = true;
	fdnames__fork(io.fds, (uint32_t)getpid(), pid);
	for (int fd = 0; fd < 3; fd++)
		fdnames__set(io.fds, pid, fd, io.std_labels[fd]);
	/* What it has now, if it is still there, is better still. */
	fdnames__scan(io.fds, pid);
}

/* The fd @fd of @pid gets another file (or none): a pending lazy name would lie. */
static void lazy_kill(uint32_t pid, uint32_t first, uint32_t last)
{
	for (size_t i = 0; i < io.nr_lazy; i++) {
		struct lazy *l = &io.lazy[i];

		if (l->pid == pid && (uint32_t)l->fd >= first && (uint32_t)l->fd <= last)
			l->dead = true;
	}
}

static void lazy_add(struct sp_record *rec, int32_t fd)
{
	if (io.nr_lazy == io.cap_lazy) {
		size_t cap = io.cap_lazy ? 2 * io.cap_lazy : 64;
		struct lazy *p = realloc(io.lazy, cap * sizeof(*p));

		if (!p)
			return;
		io.lazy = p;
		io.cap_lazy = cap;
	}
	io.lazy[io.nr_lazy++] = (struct lazy){ .rec = rec, .pid = rec->pid, .fd = fd };
}

/*
 * The path an open asked for, made absolute with the directory it is
 * relative to (the working directory, or the directory fd of openat) when
 * that can still be read; else as given.
 */
static uint64_t open_path_label(struct session *s, const struct event *ev,
				const struct sp_record *rec)
{
	char path[PATH_MAX], base[PATH_MAX], full[2 * PATH_MAX + 2];
	const char *rel;
	uint64_t dfd = (uint64_t)AT_FDCWD;
	ssize_t n = -1;

	if (!tp_field__str(ev->f_path, rec->raw, rec->raw_size, path, sizeof(path)) || !path[0])
		return 0;
	if (path[0] == '/')
		return syms__label(session__syms(s), path);
	field(ev->f_fd, rec, &dfd);
	if ((int32_t)dfd == AT_FDCWD) {
		char link[48];

		snprintf(link, sizeof(link), "/proc/%u/cwd", rec->pid);
		n = readlink(link, base, sizeof(base) - 1);
		if (n >= 0)
			base[n] = '\0';
	} else {
		uint64_t dir = fdnames__get(io.fds, rec->pid, (int)(int32_t)dfd);

		if (dir)
			n = snprintf(base, sizeof(base), "%s",
				     syms__user_name(session__syms(s), dir, true));
	}
	if (n < 0 || base[0] != '/')
		return syms__label(session__syms(s), path);
	rel = path;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	snprintf(full, sizeof(full), "%s%s%s", base, n > 1 ? "/" : "", rel);
	return syms__label(session__syms(s), full);
}

/*
 * The bytes at user address @addr, when they lie in the stack copied with
 * the sample. Returns a pointer into the copy, or NULL.
 */
static const unsigned char *stack_bytes(const struct sp_record *rec, uint64_t addr, uint64_t len)
{
	uint64_t sp;

	if (!rec->user_stack || !record__user_reg(rec, PERF_REG_X86_SP, &sp))
		return NULL;
	if (addr < sp || addr - sp > rec->user_stack_size ||
	    len > rec->user_stack_size - (addr - sp))
		return NULL;
	return (const unsigned char *)rec->user_stack + (addr - sp);
}

/* A pipe or socketpair made two fds: both get the kind. */
static void pair_exit(const struct sp_record *rec, const struct fd_call *fc)
{
	const unsigned char *p = stack_bytes(rec, fc->pair_ptr, 2 * sizeof(int32_t));
	int32_t fds[2];

	if (!p)
		return;
	memcpy(fds, p, sizeof(fds));
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		fdnames__set(io.fds, rec->pid, fds[i], fc->pair_label);
		lazy_kill(rec->pid, (uint32_t)fds[i], (uint32_t)fds[i]);
	}
}

/* Names and model updates, as records leave the ring (see the top of the file). */
static void iowrite_peek(struct session *s, struct sp_record *rec)
{
	const struct event *ev;
	struct fd_call *fc;
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
		if (!field(ev->f_fd, rec, &fd))
			break;
		rec->note = fdnames__known(io.fds, rec->pid, (int)(int32_t)fd);
		/* Not known: read /proc at the end of the pass, unless the fd changes first. */
		if (!rec->note)
			lazy_add(rec, (int32_t)fd);
		break;
	case ROLE_CLOSE:
		if (!field(ev->f_fd, rec, &fd))
			break;
		if (!field(ev->f_last, rec, &last))
			last = fd;
		fdnames__forget(io.fds, rec->pid, (uint32_t)fd, (uint32_t)last);
		lazy_kill(rec->pid, (uint32_t)fd, (uint32_t)last);
		break;
	case ROLE_DUP2:
		if (!field(ev->f_fd, rec, &fd) || !field(ev->f_last, rec, &last))
			break;
		fdnames__set(io.fds, rec->pid, (int)(int32_t)last,
			     fdnames__get(io.fds, rec->pid, (int)(int32_t)fd));
		lazy_kill(rec->pid, (uint32_t)last, (uint32_t)last);
		break;
	case ROLE_DUP_ENTER:
		if (field(ev->f_fd, rec, &fd) && (fc = tid_table__get(io.fdcalls, rec->tid, true))) {
			fc->dup_active = true;
			fc->oldfd = (int32_t)fd;
		}
		break;
	case ROLE_DUP_EXIT:
		fc = tid_table__get(io.fdcalls, rec->tid, false);
		if (!fc || !fc->dup_active)
			break;
		fc->dup_active = false;
		if (!field(ev->f_ret, rec, &fd) || (int64_t)fd < 0)
			break;
		fdnames__set(io.fds, rec->pid, (int)fd, fdnames__get(io.fds, rec->pid, fc->oldfd));
		lazy_kill(rec->pid, (uint32_t)fd, (uint32_t)fd);
		break;
	case ROLE_SOCKET:
		if (field(ev->f_ret, rec, &fd) && (int64_t)fd >= 0) {
			fdnames__set(io.fds, rec->pid, (int)fd, ev->label);
			lazy_kill(rec->pid, (uint32_t)fd, (uint32_t)fd);
		}
		break;
	case ROLE_PAIR_ENTER:
		if (field(ev->f_fd, rec, &fd) && (fc = tid_table__get(io.fdcalls, rec->tid, true))) {
			fc->pair_active = true;
			fc->pair_ptr = fd;
			fc->pair_label = ev->label;
		}
		break;
	case ROLE_PAIR_EXIT:
		fc = tid_table__get(io.fdcalls, rec->tid, false);
		if (!fc || !fc->pair_active)
			break;
		fc->pair_active = false;
		if (field(ev->f_ret, rec, &fd) && fd == 0)
			pair_exit(rec, fc);
		break;
	case ROLE_OPEN_PATH:
		fc = tid_table__get(io.fdcalls, rec->tid, true);
		/* Stamped before an open exit already seen: that open's, too late to use. */
		if (!fc || rec->time < fc->last_open_exit)
			break;
		fc->open_active = true;
		fc->open_label = open_path_label(s, ev, rec);
		fc->open_time = rec->time;
		break;
	case ROLE_OPEN:
		fc = tid_table__get(io.fdcalls, rec->tid, true);
		if (fc)
			fc->last_open_exit = rec->time;
		if (!field(ev->f_ret, rec, &fd) || (int64_t)fd < 0) {
			if (fc)
				fc->open_active = false;
			break;
		}
		lazy_kill(rec->pid, (uint32_t)fd, (uint32_t)fd);
		if (fc && fc->open_active && fc->open_label && fc->open_time <= rec->time)
			fdnames__set(io.fds, rec->pid, (int)fd, fc->open_label);
		else
			fdnames__read(io.fds, rec->pid, (int)fd);
		if (fc)
			fc->open_active = false;
		break;
	default:
		break;
	}
}

/* The end of a pass: writes to fds nothing named yet get what /proc says now. */
static void iowrite_peek_end(struct session *s)
{
	(void)s;
	for (size_t i = 0; i < io.nr_lazy; i++) {
		struct lazy *l = &io.lazy[i];

		if (!l->dead)
			l->rec->note = fdnames__get(io.fds, l->pid, l->fd);
	}
	io.nr_lazy = 0;
}

/*
 * The bytes a vectored write asks for: the iovec array, when it lies in the
 * user stack copied with the sample (a local array, the usual case).
 */
static bool vec_requested(const struct event *ev, const struct sp_record *rec, uint64_t *out)
{
	const unsigned char *iov;
	uint64_t vec, vlen, sum = 0;

	if (!field(ev->f_vec, rec, &vec) || !field(ev->f_vlen, rec, &vlen) ||
	    vlen > VEC_STACK_BYTES / 16 || !(iov = stack_bytes(rec, vec, vlen * 16)))
		return false;
	for (uint64_t i = 0; i < vlen; i++) {
		uint64_t len;

		/* struct iovec { void *iov_base; size_t iov_len; } */
		memcpy(&len, iov + i * 16 + 8, sizeof(len));
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
		c->unnamed = true;
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
	c->e = stack_table__get(io.io, rec->pid, rec->tid, syms__comm(session__syms(s), rec->pid, rec->tid),
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
	if (c->unnamed && (int64_t)ret != -EBADF)
		io.names_missing++;
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
			stack_table__add(io.io_iv, stack_entry__pid(c->e), stack_entry__tid(c->e),
					 stack_entry__comm(c->e), k,
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

static void print_totals(const char *what, const uint64_t *v, double secs, const char *mark)
{
	printf("# %s: %llu bytes written of %llu requested in %llu calls (%llu failed) over %.2f s "
	       "(values in bytes)%s\n",
	       what, (unsigned long long)v[VAL_WRITTEN], (unsigned long long)v[VAL_REQUESTED],
	       (unsigned long long)v[VAL_CALLS], (unsigned long long)v[VAL_FAILED], secs, mark);
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
	print_totals(what, v, session__opts(s)->interval, "");
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
	char mark[128];
	int err = 0;

	table_totals(io.io, v);
	print_totals("iowrite", v, secs,
		     session__approx_mark(s, stack_table__dropped(io.io), mark, sizeof(mark)));
	session__print_losses(s, stdout, false);
	session__print_dropped(s, stdout, io.io, "calls");
	session__warn_losses(s, "byte counts", "or narrow the targets");
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
	if (o->nr_outputs) {
		static const struct report_value values[] = {
			{ "written", "bytes", VAL_WRITTEN, 0 },
			{ "requested", "bytes", VAL_REQUESTED, 0 },
			{ "calls", "count", VAL_CALLS, 0 },
			{ "failed", "count", VAL_FAILED, 0 },
		};
		struct emit_part part = { io.io, { .val_idx = VAL_WRITTEN, .annotate = o->annotate } };
		struct output_job job = {
			.who = "iowrite", .parts = &part, .nr_parts = 1,
			.values = values, .nr_values = 4,
			.meta = { .profiler = "iowrite", .events = "syscalls:sys_{enter,exit}_write*",
				  .samples = stack_table__total(io.io, VAL_CALLS) },
		};

		err = output__write_all(s, &job);
	}
	return err;
}

static void iowrite_teardown(struct session *s)
{
	(void)s;
	stack_table__delete(io.io);
	stack_table__delete(io.io_iv);
	tid_table__delete(io.calls);
	tid_table__delete(io.fdcalls);
	free(io.lazy);
	free(io.libc);
	fdnames__delete(io.fds);
	u64map__delete(io.file_idx);
	free(io.files);
	io.io = io.io_iv = NULL;
	io.calls = io.fdcalls = NULL;
	io.lazy = NULL;
	io.nr_lazy = io.cap_lazy = 0;
	io.libc = NULL;
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
	.peek_end = iowrite_peek_end,
	.sample = iowrite_sample,
	.tick = iowrite_tick,
	.report = iowrite_report,
	.teardown = iowrite_teardown,
};

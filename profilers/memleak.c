/*
 * memleak: memory still allocated, by the stack that allocated it. Uprobes
 * on the target's allocator library: entry probes read the arguments from
 * the user registers, return probes the result and the call chain (at a
 * function's first instruction the frame-pointer walk misses the caller; at
 * the return it does not).
 */
#include "core/emit.h"
#include "core/output.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/profiler.h"
#include "core/record.h"
#include "core/session.h"
#include "core/stack_table.h"
#include "core/tid_table.h"
#include "symbols/syms.h"
#include "symbols/u64map.h"
#include "trace/uprobe.h"

#include <asm/perf_regs.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_OLDER_THAN = 3000,
	OPT_LIB,
	OPT_UPROBE_TRACEFS,
};

enum { VAL_BYTES, VAL_COUNT, NR_VALS };

/* The allocator's functions, and where their arguments are. */
enum alloc_fn {
	FN_MALLOC, /* (size) */
	FN_CALLOC, /* (n, size) */
	FN_REALLOC, /* (ptr, size) */
	FN_REALLOCARRAY, /* (ptr, n, size) */
	FN_FREE, /* (ptr) */
	FN_POSIX_MEMALIGN, /* (&ptr, align, size) -> 0 */
	FN_ALIGNED_ALLOC, /* (align, size) */
	FN_MEMALIGN, /* (align, size) */
	FN_VALLOC, /* (size) */
	FN_PVALLOC, /* (size) */
	NR_FNS,
};

static const char *const fn_names[NR_FNS] = {
	"malloc",	  "calloc",	   "realloc", "reallocarray", "free",
	"posix_memalign", "aligned_alloc", "memalign", "valloc",      "pvalloc",
};

/* User registers sampled at every probe: arguments, result, and sp for posix_memalign. */
#define REGS_MASK                                                                          \
	((1ULL << PERF_REG_X86_AX) | (1ULL << PERF_REG_X86_DX) | (1ULL << PERF_REG_X86_SI) | \
	 (1ULL << PERF_REG_X86_DI) | (1ULL << PERF_REG_X86_SP) | (1ULL << PERF_REG_X86_IP))
/* posix_memalign's result is in the caller's frame, just above sp at the return probe. */
#define MEMALIGN_STACK_BYTES 512
#define MAX_NESTING 16

struct probe {
	enum alloc_fn fn;
	bool ret;
};

/* A call in progress on one thread, between its entry and return probes. */
struct call {
	enum alloc_fn fn;
	uint64_t sp; /* at the entry: the address of the return address */
	uint64_t args[3];
};

struct thread {
	struct call calls[MAX_NESTING];
	unsigned int depth; /* calls open, outermost first (highest sp first) */
};

/* One outstanding allocation. */
struct alloc {
	uint64_t ptr;
	uint64_t size;
	uint64_t time;
	uint32_t pid;
	struct stack_entry *e; /* its stack (keys only) in mem.stacks */
};

static struct {
	uint64_t older_than_ns;
	const char *lib_opt;
	char *lib; /* the probed file; the uprobe attrs point at this string */

	struct probe probes[64]; /* by event index */
	int nr_probes;

	struct stack_table *stacks; /* stack keys of allocations */
	struct u64map *outstanding; /* ptr key -> index + 1 in allocs */
	struct alloc *allocs;
	size_t nr_allocs, cap_allocs;
	size_t *free_slots;
	size_t nr_free_slots, cap_free_slots;
	struct tid_table *threads; /* struct thread per thread */

	uint64_t allocations, frees, bytes_allocated, bytes_freed, unknown_frees;
	uint64_t nested, unpaired, unread_memalign, replaced;
	unsigned int ticks;
} mem;

static const struct profiler_option memleak_options[] = {
	{ "older-than", OPT_OLDER_THAN, "DUR", "report only allocations older than DUR (10s)" },
	{ "lib", OPT_LIB, "PATH", "allocator library to probe (default: the target's libc)" },
	{ "uprobe-tracefs", OPT_UPROBE_TRACEFS, NULL,
	  "create uprobes through tracefs, not the uprobe PMU (testing)" },
	{ 0 },
};

static int memleak_parse_option(int key, const char *arg)
{
	switch (key) {
	case OPT_OLDER_THAN:
		if (parse__duration_ns(arg, 1000000000ULL, &mem.older_than_ns)) {
			pr_warn("memleak: bad duration '%s' for --older-than: expected e.g. 500ms, "
				"10s, 2m",
				arg);
			return -EINVAL;
		}
		return 0;
	case OPT_LIB:
		mem.lib_opt = arg;
		return 0;
	case OPT_UPROBE_TRACEFS:
		uprobe__force_tracefs(true);
		return 0;
	}
	return -EINVAL;
}

static int choose_library(const struct sp_opts *o)
{
	const struct target *t = &o->target;

	if (mem.lib_opt) {
		if (access(mem.lib_opt, R_OK)) {
			int err = -errno;

			pr_warn("memleak: cannot read --lib %s: %s (give the allocator's shared "
				"library, e.g. /usr/lib/x86_64-linux-gnu/libjemalloc.so.2)",
				mem.lib_opt, strerror(-err));
			return err;
		}
		mem.lib = strdup(mem.lib_opt);
		return mem.lib ? 0 : -ENOMEM;
	}
	mem.lib = uprobe__libc_path(t->nr_pids ? t->pids[0] : 0);
	if (!mem.lib) {
		if (t->nr_pids)
			pr_warn("memleak: pid %d maps no C library (a static binary, or another "
				"allocator?): name the allocator with --lib",
				(int)t->pids[0]);
		else
			pr_warn("memleak: cannot find the C library: name the allocator with --lib");
		return -ENOENT;
	}
	return 0;
}

static int add_probe(struct session *s, enum alloc_fn fn, uint64_t offset, bool ret)
{
	struct perf_event_attr attr;
	char name[64];
	int err, idx;

	err = uprobe__attr(mem.lib, offset, ret, fn_names[fn], &attr);
	if (err)
		return err;
	attr.sample_type |= PERF_SAMPLE_REGS_USER;
	attr.sample_regs_user = REGS_MASK;
	/* The kernel part of a probe's chain is the uprobe handler: noise. */
	attr.exclude_callchain_kernel = 1;
	if (ret) {
		attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
		if (fn == FN_POSIX_MEMALIGN) {
			attr.sample_type |= PERF_SAMPLE_STACK_USER;
			attr.sample_stack_user = MEMALIGN_STACK_BYTES;
		}
	}
	snprintf(name, sizeof(name), "uprobe %s %s", fn_names[fn], ret ? "return" : "entry");
	idx = session__add_event(s, &attr, name);
	if (idx < 0)
		return idx;
	if (idx >= (int)(sizeof(mem.probes) / sizeof(mem.probes[0])))
		return -E2BIG;
	mem.probes[idx].fn = fn;
	mem.probes[idx].ret = ret;
	return 0;
}

/*
 * Where to probe free. A uprobe on an instruction the kernel cannot emulate
 * costs a second trap to single-step it out of line; glibc's free starts
 * with one (test %rdi,%rdi; je ...), followed by a push, which is emulated
 * and several times cheaper. At the push %rdi still holds the argument, and
 * the calls skipped are free(NULL), which free nothing. Only that exact byte
 * pattern moves the probe; anything else is probed at the entry.
 */
static uint64_t free_probe_offset(const char *lib, uint64_t off)
{
	unsigned char b[16];
	size_t i;
	int fd = open(lib, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return off;
	n = pread(fd, b, sizeof(b), (off_t)off);
	close(fd);
	if (n != (ssize_t)sizeof(b) || b[0] != 0x48 || b[1] != 0x85 || b[2] != 0xff)
		return off;
	if (b[3] == 0x74) /* je rel8 */
		i = 5;
	else if (b[3] == 0x0f && b[4] == 0x84) /* je rel32 */
		i = 9;
	else
		return off;
	if ((b[i] >= 0x50 && b[i] <= 0x57) || (b[i] == 0x41 && b[i + 1] >= 0x50 && b[i + 1] <= 0x57))
		return off + i;
	return off;
}

static int memleak_setup(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	uint64_t offsets[NR_FNS];
	bool have[NR_FNS] = { false };
	int err;

	if (o->target.system_wide) {
		pr_warn("memleak: give a target: -p PID, -t TID or -- command (every process's "
			"allocations would be too many)");
		return -EINVAL;
	}
	err = choose_library(o);
	if (err)
		return err;
	for (int fn = 0; fn < NR_FNS; fn++) {
		err = uprobe__func_offset(mem.lib, fn_names[fn], &offsets[fn]);
		if (err == -ENOEXEC) {
			pr_warn("memleak: %s is not an ELF file: --lib wants the allocator's shared "
				"library",
				mem.lib);
			return err;
		}
		if (err && err != -ENOENT) {
			pr_warn("memleak: cannot read %s: %s", mem.lib, strerror(-err));
			return err;
		}
		if (err)
			continue;
		/* Aliases share an address (e.g. memalign and aligned_alloc): probe it once. */
		have[fn] = true;
		for (int k = 0; k < fn; k++)
			if (have[k] && offsets[k] == offsets[fn])
				have[fn] = false;
	}
	if (!have[FN_MALLOC] || !have[FN_FREE]) {
		pr_warn("memleak: %s has no malloc or free symbol: not an allocator library", mem.lib);
		return -ENOENT;
	}
	offsets[FN_FREE] = free_probe_offset(mem.lib, offsets[FN_FREE]);
	/*
	 * -p and a launched command follow new threads and children through
	 * inherited events. A uprobe-PMU event cannot be inherited: the kernel
	 * sets up the child's copy by reading the probe's path from the user
	 * memory of the forking task, at the address the path had in
	 * stackprof, and the target's clone() then fails with EFAULT. tracefs
	 * uprobe events are plain tracepoints and inherit safely, so those
	 * targets use them (removed at exit, or at the next start after a kill).
	 */
	if (!o->target.tid_list && uprobe__use_pmu()) {
		pr_info("memleak: following new threads needs inherited events: using tracefs "
			"uprobes, not the uprobe PMU");
		uprobe__force_tracefs(true);
	}
	/* Probes left by an earlier run that was killed go first. */
	if (!uprobe__use_pmu())
		uprobe__cleanup_stale();
	for (int fn = 0; fn < NR_FNS; fn++) {
		if (!have[fn])
			continue;
		err = add_probe(s, fn, offsets[fn], false);
		if (!err && fn != FN_FREE)
			err = add_probe(s, fn, offsets[fn], true);
		if (err)
			return err;
	}
	/* Allocation-heavy code hits the probes in bursts of hundreds of thousands per second. */
	session__default_mmap_pages(s, 1024);
	pr_info("memleak: probing %s (%s)", mem.lib,
		uprobe__use_pmu() ? "uprobe PMU" : "tracefs uprobe_events");
	mem.stacks = session__stack_table(s, 1);
	mem.outstanding = u64map__new();
	mem.threads = tid_table__new(sizeof(struct thread));
	if (!mem.stacks || !mem.outstanding || !mem.threads)
		return -ENOMEM;
	return 0;
}

/* Register @regno of a sample (the mask may hold more, e.g. for --call-graph dwarf). */
static bool reg(const struct sp_record *rec, int regno, uint64_t *out)
{
	return record__user_reg(rec, (unsigned int)regno, out);
}

/* Pointers are per process: the key folds the pid into bits user addresses never use. */
static uint64_t ptr_key(uint32_t pid, uint64_t ptr)
{
	return ptr ^ ((uint64_t)pid << 47);
}

/* Forgets outstanding allocation @slot (freed, or replaced at a reused address). */
static void release(size_t slot)
{
	struct alloc *a = &mem.allocs[slot];

	u64map__del(mem.outstanding, ptr_key(a->pid, a->ptr));
	a->ptr = 0;
	a->e = NULL;
	if (mem.nr_free_slots == mem.cap_free_slots) {
		size_t cap = mem.cap_free_slots ? mem.cap_free_slots * 2 : 1024;
		size_t *f = realloc(mem.free_slots, cap * sizeof(*f));

		if (!f)
			return; /* the slot is not reused, nothing else */
		mem.free_slots = f;
		mem.cap_free_slots = cap;
	}
	mem.free_slots[mem.nr_free_slots++] = slot;
}

static void do_free(uint32_t pid, uint64_t ptr)
{
	uint64_t idx;

	if (!ptr)
		return;
	mem.frees++;
	if (!u64map__get(mem.outstanding, ptr_key(pid, ptr), &idx)) {
		/* Allocated before tracing began, or by an allocator not probed: counted, not charged. */
		mem.unknown_frees++;
		return;
	}
	mem.bytes_freed += mem.allocs[idx - 1].size;
	release(idx - 1);
}

static void do_alloc(struct session *s, const struct sp_record *rec, uint64_t ptr, uint64_t size)
{
	uint64_t kernel[STACK_TABLE_MAX_DEPTH], user[STACK_TABLE_MAX_DEPTH], idx;
	uint32_t nk, nu;
	struct alloc *a;
	size_t slot;

	if (!ptr)
		return; /* failed allocation */
	mem.allocations++;
	mem.bytes_allocated += size;
	/* Still outstanding at this address: its free was not seen (lost). The new one wins. */
	if (u64map__get(mem.outstanding, ptr_key(rec->pid, ptr), &idx)) {
		mem.replaced++;
		release(idx - 1);
	}
	if (mem.nr_free_slots) {
		slot = mem.free_slots[--mem.nr_free_slots];
	} else {
		if (mem.nr_allocs == mem.cap_allocs) {
			size_t cap = mem.cap_allocs ? mem.cap_allocs * 2 : 4096;
			struct alloc *v = realloc(mem.allocs, cap * sizeof(*v));

			if (!v)
				return;
			mem.allocs = v;
			mem.cap_allocs = cap;
		}
		slot = mem.nr_allocs++;
	}
	a = &mem.allocs[slot];
	a->ptr = ptr;
	a->size = size;
	a->time = rec->time;
	a->pid = rec->pid;
	session__split_chain(s, rec, kernel, &nk, user, &nu);
	a->e = stack_table__get(mem.stacks, rec->pid, rec->tid,
				syms__comm(session__syms(s), rec->pid, rec->tid), NULL, 0, user, nu);
	if (u64map__put(mem.outstanding, ptr_key(rec->pid, ptr), slot + 1))
		a->ptr = 0;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* posix_memalign stored the pointer at *memptr: read it from the sampled user stack. */
static bool memalign_result(const struct sp_record *rec, uint64_t memptr, uint64_t *ptr)
{
	uint64_t sp;

	if (!reg(rec, PERF_REG_X86_SP, &sp) || !rec->user_stack || memptr < sp ||
	    memptr - sp + 8 > rec->user_stack_size)
		return false;
	memcpy(ptr, (const char *)rec->user_stack + (memptr - sp), 8);
	return true;
}

static void on_return(struct session *s, const struct sp_record *rec, const struct call *c)
{
	uint64_t ret = 0, ptr;

	reg(rec, PERF_REG_X86_AX, &ret);
	switch (c->fn) {
	case FN_MALLOC:
	case FN_VALLOC:
	case FN_PVALLOC:
		do_alloc(s, rec, ret, c->args[0]);
		break;
	case FN_CALLOC:
		do_alloc(s, rec, ret, mul_sat(c->args[0], c->args[1]));
		break;
	case FN_ALIGNED_ALLOC:
	case FN_MEMALIGN:
		do_alloc(s, rec, ret, c->args[1]);
		break;
	case FN_REALLOC:
	case FN_REALLOCARRAY: {
		uint64_t size = c->fn == FN_REALLOC ? c->args[1] : mul_sat(c->args[1], c->args[2]);

		/*
		 * A new block frees the old one; NULL with size 0 freed it too
		 * (glibc's realloc(p, 0)); NULL otherwise failed and p lives on.
		 */
		if (ret) {
			do_free(rec->pid, c->args[0]);
			do_alloc(s, rec, ret, size);
		} else if (!size) {
			do_free(rec->pid, c->args[0]);
		}
		break;
	}
	case FN_POSIX_MEMALIGN:
		if (ret) /* an error code: nothing allocated */
			break;
		if (memalign_result(rec, c->args[0], &ptr))
			do_alloc(s, rec, ptr, c->args[2]);
		else
			mem.unread_memalign++;
		break;
	default:
		break;
	}
}

/*
 * Drops open calls at or below stack level @sp: a thread's stack is LIFO, so
 * a probe hit at that level means those calls have returned (their return
 * records were lost, or never written). This keeps one missing or extra
 * record from making every later call look nested.
 */
static void unwind_to(struct thread *t, uint64_t sp)
{
	while (t->depth && t->calls[t->depth - 1].sp <= sp) {
		t->depth--;
		mem.unpaired++;
	}
}

static void memleak_sample(struct session *s, const struct sp_record *rec)
{
	uint64_t sp, a0 = 0, a1 = 0, a2 = 0;
	const struct probe *p;
	struct thread *t;

	if (rec->evidx < 0 || rec->evidx >= (int)(sizeof(mem.probes) / sizeof(mem.probes[0])))
		return;
	p = &mem.probes[rec->evidx];
	t = tid_table__get(mem.threads, rec->tid, true);
	if (!t || !reg(rec, PERF_REG_X86_SP, &sp))
		return;
	if (!p->ret) {
		/* At the entry (and at free's probe, before its first push) sp holds the return address. */
		unwind_to(t, sp);
		reg(rec, PERF_REG_X86_DI, &a0);
		reg(rec, PERF_REG_X86_SI, &a1);
		reg(rec, PERF_REG_X86_DX, &a2);
		if (p->fn == FN_FREE) {
			/* free has no return probe; inside another allocator call it is that call's. */
			if (!t->depth)
				do_free(rec->pid, a0);
			else
				mem.nested++;
			return;
		}
		if (t->depth == MAX_NESTING) {
			mem.unpaired++;
			return;
		}
		t->calls[t->depth].fn = p->fn;
		t->calls[t->depth].sp = sp;
		t->calls[t->depth].args[0] = a0;
		t->calls[t->depth].args[1] = a1;
		t->calls[t->depth].args[2] = a2;
		t->depth++;
		return;
	}
	/*
	 * After the return, sp is one slot above the entry's: the matching
	 * call is the one opened at sp - 8. Deeper calls still open lost their
	 * returns.
	 */
	unwind_to(t, sp - 9);
	if (!t->depth || t->calls[t->depth - 1].sp != sp - 8 || t->calls[t->depth - 1].fn != p->fn) {
		mem.unpaired++;
		return;
	}
	t->depth--;
	/* Nested in another allocator call (realloc(NULL, n) calls malloc): the outer one counts. */
	if (t->depth) {
		mem.nested++;
		return;
	}
	on_return(s, rec, &t->calls[t->depth]);
}

/* The outstanding allocations as a table of stacks, those older than --older-than at @now. */
static struct stack_table *outstanding_table(uint64_t now)
{
	struct stack_table *t = stack_table__new(NR_VALS, 0);

	if (!t)
		return NULL;
	for (size_t i = 0; i < mem.nr_allocs; i++) {
		const struct alloc *a = &mem.allocs[i];
		uint64_t vals[NR_VALS] = { a->size, 1 };
		uint32_t nk, nu;
		const uint64_t *k, *u;

		if (!a->ptr || !a->e)
			continue;
		if (mem.older_than_ns && (now < a->time || now - a->time < mem.older_than_ns))
			continue;
		k = stack_entry__kernel(a->e, &nk);
		u = stack_entry__user(a->e, &nu);
		stack_table__add(t, stack_entry__pid(a->e), stack_entry__tid(a->e),
				 stack_entry__comm(a->e), k, nk, u, nu,
				 vals);
	}
	return t;
}

static void print_table(struct session *s, struct stack_table *t)
{
	const struct sp_opts *o = session__opts(s);
	struct emit_opts eo = {
		.val_idx = VAL_BYTES,
		.top = o->top,
		.width = isatty(STDOUT_FILENO) ? 160 : 0,
		.unit = "BYTES",
		.extra = { { VAL_COUNT, "COUNT" } },
	};

	emit__table(stdout, t, session__syms(s), &eo);
}

static void older_text(char *buf, size_t len)
{
	buf[0] = 0;
	if (mem.older_than_ns)
		snprintf(buf, len, " older than %.3g s", (double)mem.older_than_ns / 1e9);
}

static void memleak_tick(struct session *s)
{
	struct stack_table *t = outstanding_table(session__now());
	char older[64];

	if (!t)
		return;
	older_text(older, sizeof(older));
	mem.ticks++;
	printf("# memleak live %u: %llu bytes outstanding in %llu allocations%s\n", mem.ticks,
	       (unsigned long long)stack_table__total(t, VAL_BYTES),
	       (unsigned long long)stack_table__total(t, VAL_COUNT), older);
	session__print_losses(s, stdout, false);
	print_table(s, t);
	putchar('\n');
	fflush(stdout);
	stack_table__delete(t);
}

static int memleak_report(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	double secs = (double)(session__end_time(s) - session__start_time(s)) / 1e9;
	struct stack_table *t = outstanding_table(session__end_time(s));
	char older[64], mark[128];
	int err = 0;

	if (!t)
		return -ENOMEM;
	older_text(older, sizeof(older));
	printf("# memleak: %llu bytes outstanding in %llu allocations over %.2f s (values in "
	       "bytes)%s%s\n",
	       (unsigned long long)stack_table__total(t, VAL_BYTES),
	       (unsigned long long)stack_table__total(t, VAL_COUNT), secs, older,
	       session__approx_mark(s, stack_table__dropped(mem.stacks) + stack_table__dropped(t),
				    mark, sizeof(mark)));
	session__print_losses(s, stdout, false);
	session__print_dropped(s, stdout, mem.stacks, "allocations");
	session__warn_losses(s, "outstanding bytes", NULL);
	if (log_verbosity >= LOG_INFO)
		printf("# memleak totals: %llu allocations, %llu frees, %llu bytes allocated, %llu "
		       "bytes freed, %llu frees of unknown pointers\n",
		       (unsigned long long)mem.allocations, (unsigned long long)mem.frees,
		       (unsigned long long)mem.bytes_allocated, (unsigned long long)mem.bytes_freed,
		       (unsigned long long)mem.unknown_frees);
	pr_debug("memleak: %llu nested calls, %llu unpaired returns, %llu unread posix_memalign "
		 "results, %llu addresses reused without a free",
		 (unsigned long long)mem.nested, (unsigned long long)mem.unpaired,
		 (unsigned long long)mem.unread_memalign, (unsigned long long)mem.replaced);
	if (mem.unread_memalign)
		pr_warn("memleak: %llu posix_memalign results could not be read (pointer not on the "
			"caller's stack): not counted",
			(unsigned long long)mem.unread_memalign);
	print_table(s, t);
	fflush(stdout);
	if (o->nr_outputs) {
		static const struct report_value values[] = {
			{ "inuse_space", "bytes", VAL_BYTES, 0 },
			{ "inuse_objects", "count", VAL_COUNT, 0 },
		};
		struct emit_part part = { t, { .val_idx = VAL_BYTES, .annotate = o->annotate } };
		struct output_job job = {
			.who = "memleak", .parts = &part, .nr_parts = 1,
			.values = values, .nr_values = 2,
			.meta = { .profiler = "memleak", .events = "uprobes on the allocator",
				  .samples = stack_table__total(t, VAL_COUNT) },
		};

		err = output__write_all(s, &job);
	}
	stack_table__delete(t);
	return err;
}

static void memleak_teardown(struct session *s)
{
	(void)s;
	stack_table__delete(mem.stacks);
	u64map__delete(mem.outstanding);
	tid_table__delete(mem.threads);
	free(mem.allocs);
	free(mem.free_slots);
	free(mem.lib);
	memset(&mem, 0, sizeof(mem));
}

const struct profiler memleak_profiler = {
	.name = "memleak",
	.summary = "outstanding allocations per stack, through uprobes on the allocator",
	.examples = "  stackprof memleak -p 1234                  # until Ctrl-C, then what is held\n"
		    "  stackprof memleak -p 1234 -i 5             # top outstanding stacks every 5 s\n"
		    "  stackprof memleak -p 1234 --older-than 10s # allocations alive over 10 s\n"
		    "  stackprof memleak -- ./myprog args         # launch, trace from the start\n"
		    "  stackprof memleak -p 1234 --lib /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n",
	.options = memleak_options,
	.parse_option = memleak_parse_option,
	.setup = memleak_setup,
	.sample = memleak_sample,
	.tick = memleak_tick,
	.report = memleak_report,
	.teardown = memleak_teardown,
};

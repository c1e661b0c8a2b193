/*
 * offcpu: where threads wait, and for how long. A thread's off-CPU time runs
 * from its switch-out in a counted state to the moment it runs again, and is
 * charged to the stack it had when it was switched out.
 *
 * Switch-outs come from the sched:sched_switch tracepoint with call chains.
 * A switch-in is the earliest of: sched_switch's next_pid on any CPU (the
 * scheduler's own moment; per-task targets get a CPU-wide copy of the
 * tracepoint without call chains, filtered in the kernel to their threads),
 * and the context-switch record the kernel writes once the switch is done
 * (which also covers what the tracepoint misses; kernels before 4.3 have
 * none, and the tracepoint alone serves). docs/offcpu.md says why.
 * Pairing an out on one CPU with an in on another relies on the core's time
 * ordering.
 */
#include "core/emit.h"
#include "core/output.h"
#include "core/features.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/profiler.h"
#include "core/record.h"
#include "core/session.h"
#include "core/stack_table.h"
#include "core/tid_table.h"
#include "symbols/syms.h"
#include "trace/sched_state.h"
#include "trace/tp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_STATE = 2000,
	OPT_MIN_BLOCK,
	OPT_MAX_BLOCK,
};

/* Counters of both tables: nanoseconds off CPU, and how many times. */
enum { VAL_NS, VAL_COUNT, NR_VALS };

enum wait_kind { WAIT_NONE, WAIT_BLOCKED, WAIT_RUNQ };

/* A thread that was switched out and has not run since. */
struct pending {
	uint64_t t0;
	struct stack_entry *e;
	uint32_t pid, tid;
	uint8_t kind;
};

static struct {
	bool state_s, state_d, state_r;
	uint64_t min_ns, max_ns; /* max 0 = none */

	const struct tp *tp, *tp_in;
	const struct tp_field *f_prev_pid, *f_prev_state, *f_next_pid, *f_in_next_pid;
	struct sched_state *states;
	int evidx;
	int in_evidx; /* per-task targets: CPU-wide sched_switch for switch-in times, or -1 */
	bool system_wide;
	char *in_filter; /* set once: the kernel will not replace it */
	bool context_switch; /* context-switch records are there (4.3+) */

	struct stack_table *blocked, *runq;
	struct stack_table *blocked_iv, *runq_iv; /* -i: since the last tick */
	struct tid_table *pend; /* struct pending per thread */
	uint64_t unknown_state; /* switch-outs whose prev_state did not decode */
	uint64_t unmatched; /* blockings whose switch-in was never seen (not counted) */
	unsigned int ticks;
} off = {
	.state_s = true,
	.state_d = true,
};

static const struct profiler_option offcpu_options[] = {
	{ "state", OPT_STATE, "LIST", "states counted: S, D, R (run-queue wait); default S,D" },
	{ "min-block", OPT_MIN_BLOCK, "DUR", "ignore blockings shorter than DUR (1ms, 500us; bare = us)" },
	{ "max-block", OPT_MAX_BLOCK, "DUR", "ignore blockings longer than DUR" },
	{ 0 },
};

static int parse_states(const char *arg)
{
	bool s = false, d = false, r = false;

	for (const char *p = arg; *p; p++) {
		if (*p == 'S')
			s = true;
		else if (*p == 'D')
			d = true;
		else if (*p == 'R')
			r = true;
		else if (*p != ',')
			goto out_bad;
	}
	if (!s && !d && !r)
		goto out_bad;
	off.state_s = s;
	off.state_d = d;
	off.state_r = r;
	return 0;
out_bad:
	pr_warn("offcpu: bad --state '%s': expected letters S, D and R, e.g. 'D' or 'S,D,R'", arg);
	return -EINVAL;
}

static int offcpu_parse_option(int key, const char *arg)
{
	uint64_t *dst = key == OPT_MIN_BLOCK ? &off.min_ns : &off.max_ns;

	switch (key) {
	case OPT_STATE:
		return parse_states(arg);
	case OPT_MIN_BLOCK:
	case OPT_MAX_BLOCK:
		if (parse__duration_ns(arg, 1000, dst)) {
			pr_warn("offcpu: bad duration '%s' for --%s: expected e.g. 500us, 1ms, 5s",
				arg, key == OPT_MIN_BLOCK ? "min-block" : "max-block");
			return -EINVAL;
		}
		if (off.max_ns && off.min_ns > off.max_ns) {
			pr_warn("offcpu: --min-block is above --max-block: nothing would be counted");
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static const char *states_text(void)
{
	static char buf[8];
	size_t n = 0;

	if (off.state_s)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sS", n ? "," : "");
	if (off.state_d)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sD", n ? "," : "");
	if (off.state_r)
		snprintf(buf + n, sizeof(buf) - n, "%sR", n ? "," : "");
	return buf;
}

/* Longest tracepoint filter the kernel takes (it copies at most a page). */
#define IN_FILTER_MAX 4000

/*
 * The switch-in filter: "next_pid == a || next_pid == b ...", for @child
 * and the threads in @tids. Returns false when they do not all fit; @buf
 * then names those that do.
 */
static bool in_filter_build(char *buf, const pid_t *tids, size_t nr, pid_t child)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i <= nr; i++) {
		pid_t tid = i ? tids[i - 1] : child;
		int n;

		if (tid <= 0)
			continue;
		n = snprintf(buf + len, IN_FILTER_MAX - len, "%snext_pid == %d", len ? " || " : "",
			     (int)tid);
		if (n < 0 || len + (size_t)n >= IN_FILTER_MAX) {
			buf[len] = 0;
			return false;
		}
		len += (size_t)n;
	}
	return true;
}

/*
 * Per-task targets: a per-task event fires only while its own task runs,
 * so it cannot see the moment the scheduler picks that task again; the
 * context-switch record comes only after the switch (and after the
 * previous task's sample) is done, a few microseconds late. A CPU-wide
 * sched_switch without call chains, filtered in the kernel to next_pid of
 * the target threads, gives the scheduler's own moment at a small cost.
 *
 * The kernel takes a tracepoint filter once and refuses to replace it
 * (EEXIST), so the filter names the threads known when the events open:
 * -t's, -p's threads at that moment, a launched command's main thread
 * (forked, not yet started). Threads created later, or past what a filter
 * holds, end their blockings with the context-switch record. Without
 * context-switch records (before 4.3) such a thread is seen coming back
 * only when a target thread hands it the CPU; its other blockings are not
 * counted, and the report says how many. (Keeping every switch-in of the
 * machine instead was tried: next to a busy neighbour it fills the rings
 * and loses more than it saves.)
 */
static int add_switch_in_event(struct session *s)
{
	const struct target *t = &session__opts(s)->target;
	struct perf_event_attr attr;
	bool fits;
	int err;

	err = session__tracepoint(s, "sched", "sched_switch", &attr, &off.tp_in);
	if (err)
		return err;
	off.f_in_next_pid = tp__field(off.tp_in, "next_pid");
	off.in_filter = calloc(1, IN_FILTER_MAX);
	if (!off.f_in_next_pid || !off.in_filter)
		return -ENOMEM;
	off.in_evidx = session__add_event_cpu_wide(s, &attr, "sched:sched_switch (switch-in)");
	if (off.in_evidx < 0)
		return off.in_evidx;
	fits = in_filter_build(off.in_filter, t->tids, t->nr_tids, t->child);
	if (!fits)
		pr_info("offcpu: switch-in filter full: other threads end their blockings with %s",
			off.context_switch ? "context-switch records" : "no record, uncounted");
	else if (!off.context_switch && !t->tid_list)
		pr_info("offcpu: without context-switch records, threads created from now on are "
			"seen switching in only when a target thread hands them the CPU");
	if (!off.in_filter[0]) {
		/* No thread named: context-switch records serve every one. */
		snprintf(off.in_filter, IN_FILTER_MAX, "next_pid == -1");
	}
	return session__set_filter(s, off.in_evidx, off.in_filter);
}

static int offcpu_setup(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	struct perf_event_attr attr;
	char filter[256];
	int err;

	err = session__tracepoint(s, "sched", "sched_switch", &attr, &off.tp);
	if (err)
		return err;
	off.f_prev_pid = tp__field(off.tp, "prev_pid");
	off.f_prev_state = tp__field(off.tp, "prev_state");
	off.f_next_pid = tp__field(off.tp, "next_pid");
	if (!off.f_prev_pid || !off.f_prev_state || !off.f_next_pid) {
		pr_warn("offcpu: sched:sched_switch lacks prev_pid, prev_state or next_pid on this "
			"kernel");
		return -ENOTSUP;
	}
	off.states = sched_state__new(off.tp);
	if (!off.states)
		return -errno;
	off.system_wide = o->target.system_wide;
	off.in_evidx = -1;
	if (o->callchain)
		attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
	/*
	 * Context-switch records end a blocking when nothing earlier did: the
	 * only switch-in a per-task event can see, and system-wide a safety
	 * net, since some kernels drop sched_switch when a CPU leaves idle.
	 * Without them (before 4.3), the tracepoint's next_pid is all there is.
	 */
	off.context_switch = features__has(FEAT_CONTEXT_SWITCH);
	attr.context_switch = off.context_switch;

	off.blocked = session__stack_table(s, NR_VALS);
	off.runq = session__stack_table(s, NR_VALS);
	off.pend = tid_table__new(sizeof(struct pending));
	if (!off.blocked || !off.runq || !off.pend)
		return -ENOMEM;
	if (o->interval > 0) {
		off.blocked_iv = session__stack_table(s, NR_VALS);
		off.runq_iv = session__stack_table(s, NR_VALS);
		if (!off.blocked_iv || !off.runq_iv)
			return -ENOMEM;
	}
	off.evidx = session__add_event(s, &attr, "sched:sched_switch");
	if (off.evidx < 0)
		return off.evidx;
	if (!off.system_wide) {
		err = add_switch_in_event(s);
		if (err)
			return err;
	}

	/*
	 * Kernel-side filters, where they cut volume without hiding a
	 * switch-in we need. Per task: only switch-outs in counted states (S
	 * and D are bits 1 and 2 in every prev_state encoding; run-queue waits
	 * need everything). System-wide: drop this process's own switch-outs,
	 * the poll loop's waits, which would only measure stackprof.
	 */
	filter[0] = 0;
	if (!off.system_wide && !off.state_r)
		snprintf(filter, sizeof(filter), "prev_state & %d",
			 (off.state_s ? 1 : 0) | (off.state_d ? 2 : 0));
	else if (off.system_wide)
		snprintf(filter, sizeof(filter), "prev_pid != %d", (int)getpid());
	if (filter[0])
		return session__set_filter(s, off.evidx, filter);
	return 0;
}

static struct pending *pending_of(uint32_t tid, bool create)
{
	struct pending *p = tid_table__get(off.pend, tid, create);

	if (p)
		p->tid = tid;
	return p;
}

static struct stack_table *interval_table(enum wait_kind kind)
{
	return kind == WAIT_RUNQ ? off.runq_iv : off.blocked_iv;
}

/* The thread runs again at @t1: charge the wait to its switch-out stack. */
static void charge(struct pending *p, uint64_t t1)
{
	uint64_t delta, vals[NR_VALS];
	struct stack_table *iv = interval_table(p->kind);

	if (p->kind == WAIT_NONE || t1 < p->t0)
		goto out_clear;
	delta = t1 - p->t0;
	if (delta < off.min_ns || (off.max_ns && delta > off.max_ns))
		goto out_clear;
	vals[VAL_NS] = delta;
	vals[VAL_COUNT] = 1;
	if (p->e) {
		uint64_t *v = stack_entry__vals_mut(p->e);
		uint32_t nk, nu;
		const uint64_t *k = stack_entry__kernel(p->e, &nk);
		const uint64_t *u = stack_entry__user(p->e, &nu);

		v[VAL_NS] += delta;
		v[VAL_COUNT] += 1;
		if (iv)
			stack_table__add(iv, stack_entry__pid(p->e), stack_entry__tid(p->e),
					 stack_entry__comm(p->e), k, nk, u,
					 nu, vals);
	}
out_clear:
	p->kind = WAIT_NONE;
	p->e = NULL;
}

static void switch_in(uint32_t tid, uint64_t time)
{
	struct pending *p = pending_of(tid, false);

	if (p && p->kind != WAIT_NONE)
		charge(p, time);
}

static void switch_out(struct session *s, const struct sp_record *rec, uint32_t tid)
{
	uint64_t kernel[STACK_TABLE_MAX_DEPTH], user[STACK_TABLE_MAX_DEPTH], raw_state;
	struct sched_state_info st;
	enum wait_kind kind = WAIT_NONE;
	struct stack_table *t;
	struct pending *p;
	uint32_t nk, nu;

	if (tp_field__u64(off.f_prev_state, rec->raw, rec->raw_size, &raw_state))
		return;
	st = sched_state__decode(off.states, raw_state);
	if (st.preempted || st.state == 'R')
		kind = off.state_r ? WAIT_RUNQ : WAIT_NONE;
	else if ((st.state == 'S' && off.state_s) || (st.state == 'D' && off.state_d))
		kind = WAIT_BLOCKED;
	else if (st.state == '?')
		off.unknown_state++;

	p = pending_of(tid, kind != WAIT_NONE);
	if (!p)
		return;
	/* Switched out again with no switch-in seen since: that blocking cannot be timed. */
	if (p->kind != WAIT_NONE)
		off.unmatched++;
	p->kind = WAIT_NONE;
	p->e = NULL;
	/* The idle task is "preempted" every time work arrives: not a wait. */
	if (kind == WAIT_NONE || tid == 0)
		return;
	t = kind == WAIT_RUNQ ? off.runq : off.blocked;
	session__split_chain(s, rec, kernel, &nk, user, &nu);
	p->e = stack_table__get(t, rec->pid, tid, syms__comm(session__syms(s), rec->pid, tid), kernel,
				nk, user, nu);
	p->kind = (uint8_t)kind;
	p->t0 = rec->time;
	p->pid = rec->pid;
}

static void offcpu_sample(struct session *s, const struct sp_record *rec)
{
	uint64_t prev_pid, next_pid;

	if (rec->evidx == off.in_evidx) {
		if (!tp_field__u64(off.f_in_next_pid, rec->raw, rec->raw_size, &next_pid))
			switch_in((uint32_t)next_pid, rec->time);
		return;
	}
	if (rec->evidx != off.evidx)
		return;
	if (tp_field__u64(off.f_prev_pid, rec->raw, rec->raw_size, &prev_pid) ||
	    tp_field__u64(off.f_next_pid, rec->raw, rec->raw_size, &next_pid))
		return;
	switch_out(s, rec, (uint32_t)prev_pid);
	/*
	 * The same tracepoint hit is the next task's switch-in. Per task this
	 * matters most: this sample's time is taken before its call chain is
	 * walked, while the CPU-wide copy of the hit is stamped after it.
	 */
	switch_in((uint32_t)next_pid, rec->time);
}

static void offcpu_sideband(struct session *s, const struct sp_record *rec)
{
	(void)s;
	if (rec->type != PERF_RECORD_SWITCH && rec->type != PERF_RECORD_SWITCH_CPU_WIDE)
		return;
	/* Without the OUT flag, the record's thread is the one now running. */
	if (!(rec->misc & PERF_RECORD_MISC_SWITCH_OUT))
		switch_in(rec->tid, rec->time);
}

static void print_section(struct session *s, struct stack_table *t, FILE *f)
{
	const struct sp_opts *o = session__opts(s);
	struct emit_opts eo = {
		.val_idx = VAL_NS,
		.top = o->top,
		.width = isatty(fileno(f)) ? 160 : 0,
		.unit = "TIME(us)",
		.extra = { { VAL_COUNT, "COUNT" } },
		.divisor = 1000,
	};

	emit__table(f, t, session__syms(s), &eo);
}

static void offcpu_tick(struct session *s)
{
	const struct sp_opts *o = session__opts(s);

	off.ticks++;
	printf("# offcpu live %u: %llu us off-CPU in %llu blockings in the last %.3g s (states %s)\n",
	       off.ticks, (unsigned long long)(stack_table__total(off.blocked_iv, VAL_NS) / 1000),
	       (unsigned long long)stack_table__total(off.blocked_iv, VAL_COUNT), o->interval,
	       states_text());
	session__print_losses(s, stdout, false);
	print_section(s, off.blocked_iv, stdout);
	if (off.state_r) {
		printf("# offcpu live %u run-queue wait: %llu us in %llu preemptions\n", off.ticks,
		       (unsigned long long)(stack_table__total(off.runq_iv, VAL_NS) / 1000),
		       (unsigned long long)stack_table__total(off.runq_iv, VAL_COUNT));
		print_section(s, off.runq_iv, stdout);
	}
	putchar('\n');
	fflush(stdout);
	stack_table__reset(off.blocked_iv);
	stack_table__reset(off.runq_iv);
}

/* A thread still blocked when the run ended, for the report's last section. */
struct still_row {
	uint64_t ns;
	uint32_t tid;
	char comm[STACK_COMM_LEN];
	char where[128];
};

/*
 * Charges threads still blocked at the end up to the end time, and returns
 * them (malloc'd) so the report can list them apart.
 */
static struct still_row *charge_still_blocked(struct session *s, size_t *nr)
{
	uint64_t end = session__end_time(s);
	struct still_row *rows;
	size_t n = 0;

	*nr = 0;
	rows = calloc(tid_table__nr(off.pend) ? tid_table__nr(off.pend) : 1, sizeof(*rows));
	if (!rows)
		return NULL;
	for (size_t i = 0; i < tid_table__nr(off.pend); i++) {
		struct pending *p = tid_table__at(off.pend, i);
		struct still_row *r = &rows[n];
		uint32_t nk, nu;
		const uint64_t *k, *u;

		if (p->kind != WAIT_BLOCKED || !p->e || end <= p->t0)
			continue;
		k = stack_entry__kernel(p->e, &nk);
		u = stack_entry__user(p->e, &nu);
		r->ns = end - p->t0;
		r->tid = p->tid;
		snprintf(r->comm, sizeof(r->comm), "%s", stack_entry__comm(p->e));
		/* The innermost user frame says what the thread waits in; else the kernel leaf. */
		if (nu)
			emit__frame_name(session__syms(s), false, u[0], nk == 0, false, r->where,
					 sizeof(r->where));
		else if (nk)
			emit__frame_name(session__syms(s), true, k[0], true, false, r->where,
					 sizeof(r->where));
		else
			snprintf(r->where, sizeof(r->where), "[no stack]");
		charge(p, end);
		n++;
	}
	*nr = n;
	return rows;
}

static void print_still_blocked(const struct still_row *rows, size_t n)
{
	if (!n)
		return;
	printf("# still blocked at the end: %zu thread%s, charged up to the end time\n", n,
	       n == 1 ? "" : "s");
	printf("%10s %8s %-15s %s\n", "TIME(us)", "TID", "COMM", "BLOCKED IN");
	for (size_t i = 0; i < n; i++)
		printf("%10llu %8u %-15s %s\n", (unsigned long long)(rows[i].ns / 1000), rows[i].tid,
		       rows[i].comm, rows[i].where);
}

static int offcpu_report(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	double secs = (double)(session__end_time(s) - session__start_time(s)) / 1e9;
	struct still_row *still;
	size_t nr_still;
	char mark[128];
	int err = 0;

	/* Charged first, so the totals and the folded file include them. */
	still = charge_still_blocked(s, &nr_still);
	printf("# offcpu: %llu us off-CPU in %llu blockings over %.2f s (states %s; values in "
	       "microseconds)%s\n",
	       (unsigned long long)(stack_table__total(off.blocked, VAL_NS) / 1000),
	       (unsigned long long)stack_table__total(off.blocked, VAL_COUNT), secs, states_text(),
	       session__approx_mark(s, stack_table__dropped(off.blocked) +
				       (off.runq ? stack_table__dropped(off.runq) : 0),
				    mark, sizeof(mark)));
	session__print_losses(s, stdout, false);
	session__print_dropped(s, stdout, off.blocked, "blockings");
	session__print_dropped(s, stdout, off.runq, "run-queue waits");
	session__warn_losses(s, "blocked times", "or narrow the targets");
	if (off.unknown_state)
		pr_warn("offcpu: %llu switch-outs had a prev_state this kernel's format did not "
			"explain",
			(unsigned long long)off.unknown_state);
	if (off.unmatched && !off.context_switch && !session__lost(s))
		pr_warn("offcpu: %llu blockings were not counted: their thread was not seen "
			"switching in (this kernel gives no context-switch records; threads created "
			"during the run are affected)",
			(unsigned long long)off.unmatched);
	else if (off.unmatched)
		pr_info("offcpu: %llu blockings without a switch-in seen, not counted",
			(unsigned long long)off.unmatched);
	print_section(s, off.blocked, stdout);
	if (off.state_r) {
		printf("# offcpu run-queue wait: %llu us in %llu preemptions\n",
		       (unsigned long long)(stack_table__total(off.runq, VAL_NS) / 1000),
		       (unsigned long long)stack_table__total(off.runq, VAL_COUNT));
		print_section(s, off.runq, stdout);
	}
	print_still_blocked(still, nr_still);
	free(still);
	fflush(stdout);
	if (o->nr_outputs) {
		/*
		 * Folded output counts microseconds, as the report does; the
		 * other formats say nanoseconds, exact, not rounded stack by stack.
		 */
		static const struct report_value values[] = {
			{ "off_cpu", "nanoseconds", VAL_NS, 0 },
			{ "blockings", "count", VAL_COUNT, 0 },
		};
		struct emit_part parts[2] = {
			{ .table = off.blocked,
			  .opts = { .val_idx = VAL_NS, .annotate = o->annotate, .divisor = 1000 } },
			{ .table = off.runq,
			  .opts = { .val_idx = VAL_NS,
				    .annotate = o->annotate,
				    .divisor = 1000,
				    .root_frame = "[runqueue]" } },
		};
		struct output_job job = {
			.who = "offcpu", .parts = parts, .nr_parts = off.state_r ? 2 : 1,
			.values = values, .nr_values = 2,
			.meta = { .profiler = "offcpu", .events = "sched:sched_switch",
				  .samples = stack_table__total(off.blocked, VAL_COUNT) },
		};

		err = output__write_all(s, &job);
	}
	return err;
}

static void offcpu_teardown(struct session *s)
{
	(void)s;
	stack_table__delete(off.blocked);
	stack_table__delete(off.runq);
	stack_table__delete(off.blocked_iv);
	stack_table__delete(off.runq_iv);
	free(off.in_filter);
	off.in_filter = NULL;
	sched_state__delete(off.states);
	tid_table__delete(off.pend);
	off.blocked = off.runq = off.blocked_iv = off.runq_iv = NULL;
	off.states = NULL;
	off.pend = NULL;
}

const struct profiler offcpu_profiler = {
	.name = "offcpu",
	.summary = "blocked time per stack: from switch-out to running again (sched_switch)",
	.examples = "  stackprof offcpu -g -- ./server            # a command's threads\n"
		    "  stackprof offcpu -g -p 1234 -d 10 -o off.folded\n"
		    "  stackprof offcpu -g --state D              # uninterruptible waits, system-wide\n"
		    "  stackprof offcpu -g --min-block 1ms --max-block 5s\n"
		    "  stackprof offcpu -g -i 1                   # live table every second\n",
	.options = offcpu_options,
	.parse_option = offcpu_parse_option,
	.setup = offcpu_setup,
	.sample = offcpu_sample,
	.sideband = offcpu_sideband,
	.tick = offcpu_tick,
	.report = offcpu_report,
	.teardown = offcpu_teardown,
};

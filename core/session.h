/*
 * The session: opens the events a profiler declares for the chosen targets,
 * maps their ring buffers with libperf, and runs the one poll loop that
 * drains them, orders records by time, and serves signals and timers.
 */
#ifndef STACKPROF_SESSION_H
#define STACKPROF_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/perf_event.h>

#include "callgraph.h"
#include "report.h"
#include "target.h"

struct session;
struct syms;
struct profiler;
struct sp_record;
struct stack_table;

/* Options every profiler shares, parsed by the core. */
struct sp_opts {
	struct target target;
	bool callchain; /* -g or --call-graph: record call chains */
	enum callgraph_mode call_graph; /* how their user side is walked */
	uint32_t stack_size; /* --call-graph dwarf,SIZE: user stack bytes copied per sample */
	bool user_only; /* --user-only */
	bool kernel_only; /* --kernel-only */
	bool annotate; /* --annotate */
	double duration; /* -d seconds, 0 = until Ctrl-C or the command exits */
	double interval; /* -i seconds, 0 = no live table */
	const char *output; /* the first -o file, NULL = none */
#define SP_MAX_OUTPUTS 8
	const char *outputs[SP_MAX_OUTPUTS]; /* every -o file */
	unsigned int nr_outputs;
	const char *format; /* --format, NULL = by each file's extension */
	int format_id;	    /* its enum output_format */
	const char *cmdline; /* the command line, for reports */
	struct svg_opts svg; /* --title, --width, --reverse, --min-width of -o FILE.svg */
	unsigned int mmap_pages; /* -m, per ring, power of two; 0 = the profiler's default */
	unsigned int top; /* --top rows in tables */
	uint64_t max_stacks; /* --max-stacks: stacks per table, beyond which samples are dropped */
	const char *kallsyms; /* --kallsyms file, NULL = /proc/kallsyms */
	bool no_demangle;     /* --no-demangle */
	bool inline_frames;   /* --inline */
	bool srcline;	      /* --srcline */
};

/* Creates a session for @prof with @opts (both must outlive it). NULL + errno on failure. */
struct session *session__new(const struct profiler *prof, struct sp_opts *opts);
void session__delete(struct session *s);

/*
 * Declares an event. The core adds what it needs to @attr (sample id, time,
 * tid, cpu, clock, disabled/enable_on_exec, inherit, callchain side) and
 * opens it on every target when the session opens. @name is used in
 * messages. Returns the event's index (>= 0), which records carry in
 * evidx, or -errno.
 */
int session__add_event(struct session *s, const struct perf_event_attr *attr, const char *name);

struct tp;

/*
 * Fills @attr for tracepoint SYS:NAME (type, id, a sample on every hit, raw
 * data), reading its format from tracefs (mounted if needed). The parsed
 * format is returned in @tp, owned by the session. The caller adds its own
 * sample_type bits and flags, then calls session__add_event(). Returns 0 or
 * -errno after printing why (-ENOENT: no such tracepoint).
 */
int session__tracepoint(struct session *s, const char *sys, const char *name,
			struct perf_event_attr *attr, const struct tp **tp);

/*
 * Like session__add_event(), but the event watches every online CPU with no
 * thread even when the targets are tasks (e.g. to see a target thread being
 * switched in by whichever task ran before it). Not inherited.
 */
int session__add_event_cpu_wide(struct session *s, const struct perf_event_attr *attr,
				const char *name);

/*
 * Sets a tracepoint filter on event @evidx (PERF_EVENT_IOC_SET_FILTER),
 * applied when the event is opened. Set it before: the kernel refuses to
 * replace the filter of an open event (EEXIST), so an event's filter
 * cannot grow while it runs. Returns 0 or -errno.
 */
int session__set_filter(struct session *s, int evidx, const char *filter);

/*
 * Opens and maps the events, forks the command if any, enables, and runs
 * until the duration ends, a signal arrives or the command exits. Every
 * record is then drained and delivered before it returns. Returns 0 or
 * -errno after printing one error line.
 */
int session__run(struct session *s);

const struct sp_opts *session__opts(const struct session *s);
struct syms *session__syms(struct session *s);
/* CLOCK_MONOTONIC time in ns (the clock records are stamped with). */
uint64_t session__now(void);
/* When events were enabled, and when the run ended (0 while running). */
uint64_t session__start_time(const struct session *s);
uint64_t session__end_time(const struct session *s);

/*
 * Splits a sample's callchain into kernel and user frames, leaf first, with
 * user frames encoded as locations; with --call-graph dwarf the user frames
 * are unwound from the sample's stack copy. Without a callchain only the
 * sampled ip is kept. --user-only/--kernel-only drop the other side.
 * @kernel and @user must hold STACK_TABLE_MAX_DEPTH entries.
 */
void session__split_chain(struct session *s, const struct sp_record *rec, uint64_t *kernel,
			  uint32_t *nr_kernel, uint64_t *user, uint32_t *nr_user);

/*
 * Sets the ring size (pages per CPU) used when the user gave no -m; call
 * from setup. A profiler whose events come in bursts asks for more than
 * the default.
 */
void session__default_mmap_pages(struct session *s, unsigned int pages);

/*
 * A stack table with @nr_vals counters for a profiler, bounded by
 * --max-stacks (and the table's byte bound): the first sample it refuses
 * gets one warning for the whole session, and each refusal is counted
 * (stack_table__dropped()). NULL with errno on failure.
 */
struct stack_table *session__stack_table(struct session *s, unsigned int nr_vals);

/*
 * Writes "# N WHAT not counted: the stack table was full (M stacks,
 * --max-stacks L)" to @f when @t refused any addition; nothing otherwise.
 * (Its header's approximate mark comes from session__approx_mark().)
 */
void session__print_dropped(const struct session *s, FILE *f, const struct stack_table *t,
			    const char *what);

/* Adds a sample's stack to @t with @vals, naming the thread through the model. */
int session__account(struct session *s, struct stack_table *t, const struct sp_record *rec,
		     const uint64_t *vals);

/*
 * Writes the loss summary (lost records, lost samples, throttles) to @f,
 * then, when records or samples were lost, which CPUs' rings lost them:
 *   # lost 1234 records, 0 samples; throttled 0 times; 0 out of order; 0 undecodable
 *   # lost 1200 records on CPU 0, 34 on CPU 1
 * Prints nothing when everything is zero unless @always. Frames lost count
 * too: a line says how many user stacks were cut short, when there were any
 * user stacks.
 */
void session__print_losses(const struct session *s, FILE *f, bool always);
/* Records and samples the kernel lost, in all, and on the ring of @cpu. */
uint64_t session__lost(const struct session *s);
uint64_t session__lost_on_cpu(const struct session *s, int cpu);

/*
 * The mark a report header ends with when its numbers undercount: records
 * were lost, or @dropped additions were refused by a full stack table:
 * " [approximate: 1234 records lost, 56 not counted, stack table full]".
 * "" when neither. Written into @buf (of @len bytes), which is returned.
 */
const char *session__approx_mark(const struct session *s, uint64_t dropped, char *buf,
				 size_t len);

/*
 * When records were lost, one warning: how many, on which CPUs, that @what
 * (e.g. "sample counts") are approximate, and the -m to try; @hint (NULL
 * for none) adds the profiler's own advice, e.g. "or lower -F".
 */
void session__warn_losses(const struct session *s, const char *what, const char *hint);

#endif

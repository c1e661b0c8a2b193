/*
 * Call graphs: how a sample's user stack is walked (-g: the kernel follows
 * frame pointers; --call-graph dwarf: the sample carries registers and a
 * copy of the stack, unwound here with DWARF CFI), the event bits each
 * needs, and how many user stacks came out cut short.
 */
#ifndef STACKPROF_CALLGRAPH_H
#define STACKPROF_CALLGRAPH_H

#include <stdint.h>
#include <stdio.h>
#include <linux/perf_event.h>

struct callgraph;
struct sp_record;
struct syms;

enum callgraph_mode {
	CALLGRAPH_NONE, /* none asked for (memleak takes frame-pointer chains anyway) */
	CALLGRAPH_FP, /* -g, --call-graph fp */
	CALLGRAPH_DWARF, /* --call-graph dwarf[,SIZE] */
};

#define CALLGRAPH_DEFAULT_STACK 8192
/* The kernel's limit: a multiple of 8 below 64 KiB (a record's size is 16 bits). */
#define CALLGRAPH_MAX_STACK 65528

/*
 * Parses the argument of --call-graph: "fp", "dwarf" or "dwarf,SIZE", SIZE
 * in bytes, rounded up to a multiple of 8. Returns 0 or -EINVAL; the caller
 * says why.
 */
int callgraph__parse(const char *arg, enum callgraph_mode *mode, uint32_t *stack_size);

/*
 * Adds what @mode needs to an event that samples call chains (others are
 * left alone). For dwarf: the user registers unwinding reads and
 * @stack_size bytes of user stack, united with what the profiler asked for
 * itself (both masks, the larger size), and the kernel no longer walks the
 * user side of the chain. Nothing when the event excludes the user side.
 */
void callgraph__apply(struct perf_event_attr *attr, enum callgraph_mode mode,
		      uint32_t stack_size);

/*
 * Ring pages per CPU @mode wants without -m (stack copies make big
 * samples); 0 = no opinion. The session takes the larger of this and the
 * profiler's own default.
 */
unsigned int callgraph__mmap_pages(enum callgraph_mode mode, uint32_t stack_size);

/* Creates the per-session state. NULL and errno on failure. @syms must outlive it. */
struct callgraph *callgraph__new(struct syms *syms, enum callgraph_mode mode, uint32_t stack_size);
void callgraph__delete(struct callgraph *cg);

/*
 * The user frames of sample @rec, leaf first, as locations in @user (room
 * for @max). In dwarf mode they are unwound from the sample's registers and
 * stack copy; otherwise the @nr frames already there (from the kernel's
 * chain) stay. A sample that asked for a call chain counts as a user stack,
 * cut short unless its outermost frame is a process's or thread's entry.
 * The same sample asked again right away (a profiler that accounts it in
 * two tables) is neither unwound nor counted twice. Returns the number of
 * frames.
 */
uint32_t callgraph__user(struct callgraph *cg, const struct sp_record *rec, uint64_t *user,
			 uint32_t nr, uint32_t max);

/* Writes "# N of M user stacks were cut short ..." to @f, if any user stack was counted. */
void callgraph__print(const struct callgraph *cg, FILE *f);

/* Logs (-v) the user stacks seen and what unwinding them cost. */
void callgraph__log_stats(const struct callgraph *cg);

#endif

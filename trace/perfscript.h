/*
 * The `perf script` text reader: samples with their call chains, folded into
 * a stack table by the rules of the folded format's reference collapser
 * (stackcollapse-perf.pl), so that its output and ours agree line for line:
 *
 *  - a sample starts at a line "COMM PID[/TID] ..." (COMM may hold spaces)
 *    and ends at a blank line; its frames are the lines between, leaf first,
 *    "ADDR NAME (MODULE)";
 *  - its weight is the period printed before the event name when the line
 *    ends with "PERIOD EVENT:", else 1;
 *  - only the first event type seen is kept (or the one asked for);
 *  - "+0x..." offsets are dropped, ';' becomes ':', quotes go, a C++
 *    argument list "(...)" is cut (not "(anonymous namespace)", not Go's
 *    "pkg.(*T).m"), Java "Lpkg/Class;::m" frames of a process whose name
 *    starts with "java" lose the 'L' ("pkg/Class:::m");
 *  - "[unknown]" becomes "[MODULE]" (its base name) when the module is known,
 *    "[unknown]" otherwise, with "<ADDR>" inside the brackets on request;
 *  - "a->b->c" (inlined functions) gives three frames, the inner ones marked
 *    "_[i]"; kernel frames (module "[...]" or ".../vmlinux") can be marked
 *    "_[k]", JIT frames (module /tmp/perf-PID.map) "_[j]";
 *  - with the srcline option, the source line perf prints under a frame
 *    (-F+srcline) is appended, "NAME:FILE:LINE"; without it, skipped;
 *  - the stack's root is the process name, "COMM", "COMM-PID" or
 *    "COMM-PID/TID", spaces made '_' (PID is "?" when perf printed only the
 *    thread id, as by default).
 *
 * Beyond that collapser: a sample without a call chain (its frame on the
 * header line, as `perf script` prints samples recorded without -g) counts
 * as a one-frame stack, and a last sample missing its blank line is kept.
 *
 * Input is fed in chunks of any size; memory grows with the number of
 * unique stacks, not with the input. Lines that fit no rule are counted.
 */
#ifndef STACKPROF_PERFSCRIPT_H
#define STACKPROF_PERFSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct syms;
struct stack_table;
struct perfscript;

struct perfscript_opts {
	bool pid;	       /* root "COMM-PID" */
	bool tid;	       /* root "COMM-PID/TID" */
	bool kernel;	       /* "_[k]" on kernel frames */
	bool jit;	       /* "_[j]" on JIT frames */
	bool addrs;	       /* "[MODULE <ADDR>]" for unknown frames */
	const char *event;     /* keep only this event; NULL = the first one seen */
	bool srcline;	       /* source lines under frames (-F+srcline) join their names */
	bool folded;	       /* the input is folded stacks ("root;...;leaf count") instead */
	/*
	 * Folded: when the first line carries two counts, "root;...;leaf A B"
	 * (as `stackprof compare --diff` writes), every line must, and they go
	 * to counters 0 and 1 of the table (which must have two). Otherwise
	 * lines have one count and counter 1, if any, stays 0.
	 */
	bool two_counts;
};

/* Longest line read whole; longer ones are counted as malformed and skipped. */
#define PERFSCRIPT_MAX_LINE (1U << 20)

struct perfscript_stats {
	uint64_t lines;
	uint64_t samples;	  /* folded into the table */
	uint64_t filtered;	  /* samples of another event */
	uint64_t malformed;	  /* lines that fit no rule */
	uint64_t first_malformed; /* its line number, 0 = none */
	char why[64];		  /* what was wrong with it */
	uint64_t truncated;	  /* stacks deeper than the table takes, cut at the root */
	bool unterminated;	  /* the input ended inside a sample */
	char event[128];	  /* the event kept, "" = none seen */
	bool other_events;	  /* samples of other events were left out */
	char other[128];	  /* the first of those other events */
	bool periods;		  /* some weights were periods printed by perf script */
	bool two_counts;	  /* folded lines carried two counts (opts two_counts) */
};

/*
 * A reader that adds each sample to @t (one counter: the weight), frames as
 * labels made in @syms, the process name as the outermost frame and an
 * empty comm. NULL + errno on failure.
 */
struct perfscript *perfscript__new(const struct perfscript_opts *o, struct syms *syms,
				   struct stack_table *t);
void perfscript__delete(struct perfscript *p);

/* Reads @len bytes of text, split anywhere. Returns 0 or -ENOMEM. */
int perfscript__feed(struct perfscript *p, const char *buf, size_t len);

/* The input ended. Returns 0 or -ENOMEM. */
int perfscript__finish(struct perfscript *p);

const struct perfscript_stats *perfscript__stats(const struct perfscript *p);

/*
 * Whether @text (the start of an input) looks like `perf script` output
 * rather than folded stacks.
 */
bool perfscript__sniff(const char *text, size_t len);

#endif

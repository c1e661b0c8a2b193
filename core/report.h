/*
 * The report model: what a run measured, built once from the profiler's
 * stack tables and named through syms, then handed to every output format
 * but folded (JSON, SVG, pprof, speedscope; folded text is written straight
 * from the tables). Frames are deduplicated, stacks
 * reference them root first, and each stack belongs to a thread.
 */
#ifndef STACKPROF_REPORT_H
#define STACKPROF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"

struct syms;

#define REPORT_MAX_VALUES 4

/* One measured quantity: a stack table counter, with its name and unit. */
struct report_value {
	const char *type; /* e.g. "samples", "off_cpu", "inuse_space", "written" */
	const char *unit; /* "count", "nanoseconds", "microseconds", "bytes" */
	unsigned int idx; /* the counter in the stack tables */
	uint64_t divisor; /* the counter is divided by this (0 or 1: as is) */
};

enum report_frame_kind {
	REPORT_FRAME_USER,
	REPORT_FRAME_KERNEL,
	REPORT_FRAME_INLINE, /* a user function inlined into the frame before it */
	REPORT_FRAME_LABEL,  /* names no code: a file written to, a syscall, "[runqueue]" */
	REPORT_FRAME_UNKNOWN,
};

struct report_frame {
	const char *name;     /* the function, "[dso+0x...]" or "[unknown]"; never NULL */
	const char *module;   /* file path, "[kernel.kallsyms]", "[vdso]"; NULL if none */
	uint64_t address;     /* kernel: the address; user: the offset in module */
	const char *file;     /* source file (--srcline), NULL if unknown */
	int line;	      /* its line, 0 if unknown */
	enum report_frame_kind kind;
};

struct report_thread {
	uint32_t pid, tid; /* 0 when unknown (stacks read from text) */
	const char *comm;  /* the thread's name */
};

struct report_stack {
	uint32_t thread;	 /* index in threads */
	uint32_t nr_frames;	 /* root first, leaf last */
	const uint32_t *frames;	 /* indices in frames */
	uint64_t vals[REPORT_MAX_VALUES]; /* per report value, divided */
};

/* What the run was, for the formats that carry it (JSON, pprof). */
struct report_meta {
	const char *profiler;	/* "oncpu", "fold", ... */
	const char *version;	/* stackprof's */
	const char *cmdline;	/* the command line, one string */
	const char *targets;	/* "all CPUs", "pid 1234", "command ./prog" */
	const char *kernel;	/* uname -r */
	const char *events;	/* e.g. "cpu-clock", "sched:sched_switch" */
	uint64_t frequency;	/* sampling Hz, 0 when not sampling by frequency */
	uint64_t start_ns;	/* CLOCK_REALTIME at the start, ns since the epoch; 0 unknown */
	uint64_t duration_ns;
	uint64_t samples, lost, throttled;
};

struct report {
	struct report_meta meta;
	unsigned int nr_values;
	struct report_value values[REPORT_MAX_VALUES];
	struct report_frame *frames;
	size_t nr_frames;
	struct report_thread *threads;
	size_t nr_threads;
	struct report_stack *stacks;
	size_t nr_stacks;
	uint64_t totals[REPORT_MAX_VALUES];
	struct report_priv *priv;
};

/*
 * Builds the model of @nr_parts tables (every entry with a non-zero value;
 * a part's root_frame becomes a label frame right after the thread),
 * naming frames through @syms with each part's options (user or kernel
 * side, --inline and --srcline as set on @syms). @meta is copied (its
 * strings must outlive the report). NULL and errno on failure.
 */
struct report *report__new(const struct emit_part *parts, size_t nr_parts,
			   const struct report_value *values, unsigned int nr_values,
			   struct syms *syms, const struct report_meta *meta);
void report__delete(struct report *r);

/*
 * The threads in the order reports list them: by pid, tid, then name. A
 * malloc'd array of r->nr_threads indices; NULL when out of memory.
 */
uint32_t *report__thread_order(const struct report *r);

struct json_t;
/*
 * A jansson string of @s for the JSON formats; when @s is not valid UTF-8
 * (names come from binaries), every byte above 0x7f becomes '?'. NULL when
 * out of memory.
 */
struct json_t *report__json_text(const char *s);

/* The writers, each to @f; 0 or -errno. */
int report__write_json(FILE *f, const struct report *r);

#define SVG_DEFAULT_WIDTH 1200
#define SVG_DEFAULT_MIN_WIDTH 0.1

struct svg_opts {
	const char *title;   /* NULL: "Flame graph" (or "Differential flame graph") */
	unsigned int width;  /* of the image in px; 0 = SVG_DEFAULT_WIDTH */
	bool reverse;	     /* icicle graph: the root at the top, stacks growing down */
	/*
	 * Frames narrower than this many px are left out, with everything
	 * above them: their value stays in the parent's remainder (its self
	 * part). 0 keeps every frame with a value.
	 */
	double min_width;
	unsigned int value;  /* which of the report's values gives the widths */
	/*
	 * NULL, or the "before" profile of a differential graph: widths come
	 * from @r ("after"), colours from how each frame's share of the total
	 * changed between the two (red grew, blue shrank), frames matched by
	 * their path of names. Its value @value is compared.
	 */
	const struct report *diff_base;
};

/*
 * Writes a self-contained interactive SVG flame graph of value @o->value:
 * stacks merged by name into a tree whose first level is the thread name
 * (comm), widths proportional to the value, with a script for tooltips,
 * zoom and search (docs/formats.md). Returns 0 or -errno (-EINVAL for a
 * value the report does not have).
 */
int report__write_svg(FILE *f, const struct report *r, const struct svg_opts *o);

/*
 * One SVG option, @name without dashes ("title", "width", "reverse",
 * "min-width"), its value @arg (NULL for reverse) into @o. Returns 0, or
 * -EINVAL after one pr_warn line starting with @who.
 */
int svg__parse_option(const char *who, const char *name, const char *arg, struct svg_opts *o);

/*
 * pprof: a gzip-compressed perftools.profiles.Profile (proto/profile.proto).
 * One sample per stack, labelled with its pid and tid (when known) and comm; a
 * mapping per module, at 0 so that addresses are file offsets, and the
 * kernel's at the addresses sampled; inlined functions as extra lines of
 * their caller's location. @f must be binary-safe (not a terminal).
 */
int report__write_pprof(FILE *f, const struct report *r);

/*
 * speedscope's file format (JSON): one "sampled" profile per thread, named
 * "comm (pid)", weighed by the first value in its unit ("none" for counts);
 * samples are indices in shared.frames, root first.
 */
int report__write_speedscope(FILE *f, const struct report *r);

#endif

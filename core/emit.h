/*
 * Emitters: walk the stack table once, name frames through syms (lazily,
 * cached there), and write a report. Every profiler uses these.
 */
#ifndef STACKPROF_EMIT_H
#define STACKPROF_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct stack_table;
struct syms;

#define EMIT_MAX_EXTRA 3

struct emit_opts {
	unsigned int val_idx; /* which counter to report */
	bool annotate; /* folded and table: kernel frames get a "_[k]" suffix */
	unsigned int top; /* table: rows to print, 0 = all */
	unsigned int width; /* table: cut stacks to this many columns, 0 = no limit */
	const char *unit; /* table: column title for the counter, e.g. "SAMPLES", "TIME(us)" */
	/*
	 * Table: up to EMIT_MAX_EXTRA more counter columns after the first, e.g.
	 * a count of events next to a time; the list ends at the first NULL
	 * unit. A row is shown when any of its columns is non-zero.
	 */
	struct emit_column {
		unsigned int idx;
		const char *unit;
	} extra[EMIT_MAX_EXTRA];
	/* Folded and table: divide the counter by this before printing (0 or 1 = as is). */
	uint64_t divisor;
	/* Folded: a pseudo-frame put right after comm, e.g. "[runqueue]"; NULL = none. */
	const char *root_frame;
};

/* One table and how to print it, for files made of several tables. */
struct emit_part {
	const struct stack_table *table;
	struct emit_opts opts;
};

/*
 * Writes the folded format, one line per unique stack with a non-zero
 * counter: "comm;root;...;leaf count", user frames then kernel frames, root
 * first. Lines are sorted by count, largest first. Returns 0 or -errno.
 */
int emit__folded(FILE *f, const struct stack_table *t, struct syms *syms,
		 const struct emit_opts *o);

/*
 * Writes the folded format to @path atomically: a temporary file next to it
 * is renamed over @path only once complete. A @path that is not a regular
 * file (a FIFO, /dev/stdout) is written in place instead. Returns 0 or
 * -errno (and logs).
 */
int emit__folded_path(const char *path, const struct stack_table *t, struct syms *syms,
		      const struct emit_opts *o);

/*
 * Writes the folded lines of every part, in order, to @path atomically (as
 * emit__folded_path). Returns 0 or -errno (and logs).
 */
int emit__folded_parts_path(const char *path, const struct emit_part *parts, size_t nr,
			    struct syms *syms);

/*
 * Writes @path atomically with @write(f, @ctx) (returns 0 or -errno): into a
 * temporary file next to it, renamed over @path only once complete; a @path
 * that is not a regular file (a FIFO, /dev/stdout) is written in place.
 * Returns 0 or -errno, after one pr_warn line starting with @what.
 */
int emit__write_path(const char *what, const char *path, int (*write)(FILE *f, void *ctx),
		     void *ctx);

/*
 * Writes a top-N table: counter, percent of the total, comm, and the stack
 * leaf first ("leaf <- caller <- ..."), then a line for the stacks beyond
 * @top and one for additions the table refused. Entries whose counter is 0
 * are left out. Returns 0 or -errno.
 */
int emit__table(FILE *f, const struct stack_table *t, struct syms *syms,
		const struct emit_opts *o);

/*
 * Name of frame @i (0 = leaf) of a chain, kernel or user side, as the
 * emitters print it (with "_[k]" for kernel frames when @annotate, and ';'
 * and control characters replaced by '_'). @syms may be NULL: the address
 * is printed in hex. Writes into @buf of @len bytes and returns @buf.
 */
const char *emit__frame_name(struct syms *syms, bool kernel, uint64_t addr, bool is_leaf,
			     bool annotate, char *buf, size_t len);

/* Replaces ';', newlines and other control characters in @s with '_' (folded-format safe). */
void emit__sanitize(char *s);

#endif

/*
 * Profiles read from text: `perf script` output or folded stacks, plain or
 * gzip-compressed, from a file or stdin, into a stack table (one counter).
 * Used by `stackprof fold` and `stackprof compare`.
 */
#ifndef STACKPROF_TEXTIN_H
#define STACKPROF_TEXTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/perfscript.h"

struct syms;
struct stack_table;

enum textin_kind { TEXTIN_AUTO, TEXTIN_PERF_SCRIPT, TEXTIN_FOLDED };

struct textin_result {
	enum textin_kind kind; /* what the input was */
	struct perfscript_stats st;
};

/*
 * Reads @path ("-" = stdin) into @t, frames as labels made in @syms, the
 * process name as the outermost frame. @kind TEXTIN_AUTO looks at the
 * start of the input. @progress prints a progress line on stderr (only
 * when stderr is a terminal and the input a file). Returns 0, or -errno
 * after one pr_warn line naming @what (e.g. "fold").
 */
int textin__read(const char *what, const char *path, enum textin_kind kind,
		 const struct perfscript_opts *o, bool progress, struct syms *syms,
		 struct stack_table *t, struct textin_result *res);

/*
 * What the reading commands say of an input's unparsable lines (@who:
 * "compare", "flamegraph"), in one warning line: when @st has samples,
 * that the lines were skipped; when it has none, that @path holds no
 * samples and why, or, without unparsable lines, that there is nothing
 * to @verb ("compare", "draw"). Returns whether @st holds samples.
 */
bool textin__warn_malformed(const char *who, const char *path,
			    const struct perfscript_stats *st, bool has_samples, const char *verb);

/*
 * The event as perf script names it, without perf's modifiers:
 * "cpu-clock:pppH" is cpu-clock; "sched:sched_switch", a tracepoint, stays
 * whole. Written to @out (@len bytes).
 */
void textin__event_name(char *out, size_t len, const char *event);

#endif

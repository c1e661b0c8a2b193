/*
 * Output files: the format chosen by a file's extension (or --format), and
 * every -o file of a run written from one report model, atomically.
 */
#ifndef STACKPROF_OUTPUT_H
#define STACKPROF_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "emit.h"
#include "report.h"

struct session;

enum output_format {
	OUTPUT_FOLDED,
	OUTPUT_JSON,
	OUTPUT_SVG,
	OUTPUT_PPROF,
	OUTPUT_SPEEDSCOPE,
	OUTPUT_NR_FORMATS,
};

/* The format named @name ("folded", "json", "svg", "pprof", "speedscope"); -EINVAL if none. */
int output__parse_format(const char *name, enum output_format *fmt);
const char *output__format_name(enum output_format fmt);
/* The format @path's extension asks for: .svg, .json, .speedscope.json, .pb.gz/.pb/.pprof, else folded. */
enum output_format output__format_of(const char *path);

/*
 * Writes @r in @fmt (not folded) to @f; @svg sets a flame graph's options
 * (NULL: the defaults, titled after the profiler). Returns 0 or -errno.
 */
int output__write_model(FILE *f, enum output_format fmt, const struct report *r,
			const struct svg_opts *svg);
/* Whether @fmt is binary (not for a terminal). */
bool output__binary(enum output_format fmt);

/* What one run writes: its tables, what their counters mean, and the metadata around them. */
struct output_job {
	const char *who; /* for messages, e.g. "oncpu" */
	const struct emit_part *parts;
	size_t nr_parts;
	const struct report_value *values;
	unsigned int nr_values;
	struct syms *syms;
	struct report_meta meta;
	const struct svg_opts *svg; /* NULL: defaults */
};

/*
 * Writes @path in @fmt (folded straight from the tables, the others from
 * the report model, built once and kept in *@model for the next file).
 * The file is replaced only once complete. Returns 0 or -errno after one
 * pr_warn line.
 */
int output__write(const struct output_job *job, const char *path, enum output_format fmt,
		  struct report **model);

/*
 * Every -o file of the session's run (format from --format or the
 * extension), with the metadata the session knows added to @job's (the
 * profiler's events and frequency). Says on stderr what went where.
 * Returns 0 or the first -errno.
 */
int output__write_all(struct session *s, struct output_job *job);

#endif

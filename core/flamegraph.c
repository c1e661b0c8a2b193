/*
 * stackprof flamegraph: an interactive SVG flame graph (core/report_svg.c)
 * of a profile read from text, folded stacks or perf script output, or a
 * differential one of two profiles.
 */
#include "tools.h"
#include "emit.h"
#include "log.h"
#include "parse.h"
#include "report.h"
#include "stack_table.h"
#include "textin.h"
#include "symbols/syms.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_TITLE = 1000,
	OPT_WIDTH,
	OPT_REVERSE,
	OPT_MIN_WIDTH,
	OPT_DIFF,
};

static const struct option flamegraph_long[] = {
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "reverse", no_argument, NULL, OPT_REVERSE },
	{ "min-width", required_argument, NULL, OPT_MIN_WIDTH },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void flamegraph_usage(FILE *f)
{
	fprintf(f,
		"usage: stackprof flamegraph [options] [FILE]\n"
		"       stackprof flamegraph --diff [options] A B\n"
		"       stackprof flamegraph --diff [options] DIFF\n\n"
		"Draws an interactive SVG flame graph of a profile: folded stacks or perf script\n"
		"output (FILE, plain or gzip; stdin when absent or '-'). Hover a frame for its\n"
		"value, click to zoom, Ctrl-F to search.\n\n"
		"With --diff, a differential graph: widths from B (after), colours from how\n"
		"each frame's share of the total changed since A (before): red grew, blue\n"
		"shrank. DIFF is one file of \"stack count_a count_b\" lines, as\n"
		"'stackprof compare --diff' writes; such a file is drawn so without --diff too.\n\n"
		"  --title TEXT          the title (default \"Flame graph\")\n"
		"  --width PX            image width (default %d)\n"
		"  --reverse             icicle graph: the root at the top\n"
		"  --min-width PX        leave out frames narrower than PX, their value staying\n"
		"                        in their parent (default %g; 0 keeps every frame)\n"
		"  --diff                a differential graph of A and B (or of DIFF)\n"
		"  -o, --output FILE     write to FILE (replaced when complete) instead of stdout\n"
		"  -v, --verbose         counts on stderr\n\n"
		"Examples:\n"
		"  stackprof oncpu -F 997 -g -d 10 -o cpu.folded && stackprof flamegraph cpu.folded "
		"-o cpu.svg\n"
		"  perf script | stackprof flamegraph --title 'perf record' > perf.svg\n"
		"  stackprof flamegraph --diff before.folded after.folded -o diff.svg\n",
		SVG_DEFAULT_WIDTH, SVG_DEFAULT_MIN_WIDTH);
}

/* One profile read from text, and what was made of it. */
struct input {
	const char *path;
	struct syms *syms;
	struct stack_table *t;
	struct textin_result res;
	char event[128]; /* the event without its modifiers ("cpu-clock") */
	struct report *r, *r_base; /* r_base: a two-count file's first count */
};

struct names {
	char **v;
	size_t nr, cap;
};

static const char *keep(struct names *n, const char *s, size_t len)
{
	char *copy;

	if (n->nr == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 64;
		char **v = realloc(n->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		n->v = v;
		n->cap = cap;
	}
	copy = strndup(s, len);
	if (copy)
		n->v[n->nr++] = copy;
	return copy;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/*
 * Frames read from text are all labels to the report; the folded format's
 * marks tell what they were: "_[k]" kernel, "_[i]" inlined, "_[j]" JIT
 * code (user code); "[unknown]", "[vdso]" and a module's name in brackets
 * ("[libc.so.6]") are unknown code. The marks are dropped from the names;
 * a name without one is user code, a bracketed one a label ("[runqueue]").
 */
static int classify(struct report *r, struct names *names)
{
	for (size_t i = 0; i < r->nr_frames; i++) {
		struct report_frame *f = &r->frames[i];
		size_t len = strlen(f->name);
		enum report_frame_kind kind = REPORT_FRAME_USER;

		if (f->kind != REPORT_FRAME_LABEL)
			continue;
		if (ends_with(f->name, len, "_[k]"))
			kind = REPORT_FRAME_KERNEL;
		else if (ends_with(f->name, len, "_[i]"))
			kind = REPORT_FRAME_INLINE;
		if (kind != REPORT_FRAME_USER || ends_with(f->name, len, "_[j]")) {
			len -= 4;
			f->name = keep(names, f->name, len);
			if (!f->name)
				return -ENOMEM;
		}
		if (len > 1 && f->name[0] == '[' && f->name[len - 1] == ']') {
			if (!strcmp(f->name, "[unknown]") || !strcmp(f->name, "[vdso]") ||
			    memchr(f->name, '.', len) || memchr(f->name, '/', len))
				kind = REPORT_FRAME_UNKNOWN;
			else if (kind == REPORT_FRAME_USER)
				kind = REPORT_FRAME_LABEL;
		}
		f->kind = kind;
	}
	return 0;
}

static int load(struct input *in, bool two_counts)
{
	struct perfscript_opts o = { .kernel = true, .jit = true, .two_counts = two_counts };
	const struct perfscript_stats *st = &in->res.st;
	int err;

	in->syms = syms__new(NULL);
	in->t = stack_table__new(2, 0);
	if (!in->syms || !in->t) {
		pr_warn("flamegraph: out of memory");
		return -ENOMEM;
	}
	err = textin__read("flamegraph", in->path, TEXTIN_AUTO, &o, true, in->syms, in->t, &in->res);
	if (err)
		return err;
	textin__event_name(in->event, sizeof(in->event), st->event);
	if (!textin__warn_malformed("flamegraph", in->path, st,
				    stack_table__total(in->t, 0) || stack_table__total(in->t, 1),
				    "draw"))
		return -ENODATA;
	if (st->other_events)
		pr_warn("flamegraph: %s: drew only event %s, the first one seen (stackprof fold "
			"--event-filter keeps another)",
			in->path, st->event);
	if (stack_table__dropped(in->t))
		pr_warn("flamegraph: %s: %llu stacks were left out: the stack table is full",
			in->path, (unsigned long long)stack_table__dropped(in->t));
	pr_info("flamegraph: %s: %llu lines, %llu samples", in->path,
		(unsigned long long)st->lines, (unsigned long long)st->samples);
	return 0;
}

/*
 * The report of counter @idx of @in's table. Weights that perf script
 * printed as periods of a clock event are nanoseconds of CPU time; of a
 * counter, counts of its event; anything else counts samples.
 */
static struct report *make_report(struct input *in, unsigned int idx, struct names *names)
{
	struct report_value v = { .type = "samples", .unit = "count", .idx = idx };
	struct report_meta meta = { .profiler = "flamegraph",
				    .targets = strcmp(in->path, "-") ? in->path : "stdin" };
	struct emit_part part = { .table = in->t, .opts = { .val_idx = idx } };
	struct report *r;

	if (in->res.kind == TEXTIN_PERF_SCRIPT && in->event[0]) {
		meta.events = in->event;
		if (in->res.st.periods && (!strcmp(in->event, "cpu-clock") ||
					   !strcmp(in->event, "task-clock"))) {
			v.type = "cpu time";
			v.unit = "nanoseconds";
		} else if (in->res.st.periods && !strchr(in->event, ':')) {
			/* Periods of a counter ("cycles"); a tracepoint's are 1 a sample. */
			v.type = in->event;
		}
	}
	r = report__new(&part, 1, &v, 1, in->syms, &meta);
	if (!r || classify(r, names)) {
		pr_warn("flamegraph: out of memory");
		report__delete(r);
		return NULL;
	}
	return r;
}

struct draw_ctx {
	const struct report *r;
	struct svg_opts o;
};

static int write_svg(FILE *f, void *ctx)
{
	const struct draw_ctx *c = ctx;
	int err = report__write_svg(f, c->r, &c->o);

	if (!err && fflush(f))
		err = -errno;
	return err;
}

/* Parses the options into @o; returns 0, 1 (exit 0: help), 2 (bad usage, said). */
static int parse_args(int argc, char **argv, struct svg_opts *o, bool *diff, const char **output)
{
	int c, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:vh", flamegraph_long, NULL)) != -1) {
		switch (c) {
		case OPT_TITLE:
		case OPT_WIDTH:
		case OPT_REVERSE:
		case OPT_MIN_WIDTH:
			if (svg__parse_option("flamegraph",
					      c == OPT_TITLE   ? "title"
					      : c == OPT_WIDTH ? "width"
					      : c == OPT_REVERSE ? "reverse"
								 : "min-width",
					      optarg, o))
				return 2;
			break;
		case OPT_DIFF:
			*diff = true;
			break;
		default:
			err = tools__common_option("flamegraph", c, argv, output, flamegraph_usage);
			if (err)
				return err == 1 ? 1 : 2;
			break;
		}
	}
	return 0;
}

int flamegraph__main(int argc, char **argv)
{
	struct draw_ctx ctx = { .o = { .width = SVG_DEFAULT_WIDTH,
				       .min_width = SVG_DEFAULT_MIN_WIDTH } };
	struct input in[2] = { { .path = "-" }, { .path = NULL } };
	struct names names = { 0 };
	const char *output = NULL;
	bool diff = false;
	int nr_in, rc = 1, err;

	err = parse_args(argc, argv, &ctx.o, &diff, &output);
	if (err)
		return err == 1 ? 0 : 2;
	nr_in = argc - optind;
	if (nr_in > (diff ? 2 : 1)) {
		pr_warn("flamegraph: %s ('%s' is extra; see 'stackprof flamegraph --help')",
			diff ? "--diff takes two profiles, or one file of two counts"
			     : "one profile at a time (--diff draws two)",
			argv[optind + (diff ? 2 : 1)]);
		return 2;
	}
	if (diff && nr_in == 0) {
		pr_warn("flamegraph: --diff takes two profiles, A and B, or one file of 'stack "
			"count_a count_b' lines (see 'stackprof flamegraph --help')");
		return 2;
	}
	if (nr_in > 0)
		in[0].path = argv[optind];
	if (nr_in > 1)
		in[1].path = argv[optind + 1];
	if (output && tools__check_output("flamegraph", output))
		return 2;

	/* A single input may be a differential file of two counts per line. */
	if (load(&in[0], nr_in < 2))
		goto out;
	if (nr_in == 2 && load(&in[1], false))
		goto out;
	if (in[0].res.st.two_counts) {
		in[0].r_base = make_report(&in[0], 0, &names);
		in[0].r = make_report(&in[0], 1, &names);
		if (!in[0].r_base || !in[0].r)
			goto out;
		ctx.r = in[0].r;
		ctx.o.diff_base = in[0].r_base;
	} else if (diff && nr_in == 1) {
		pr_warn("flamegraph: %s has one count per line: --diff takes two profiles, or one "
			"file of 'stack count_a count_b' lines (stackprof compare --diff)",
			in[0].path);
		goto out;
	} else {
		for (int i = 0; i < nr_in || i == 0; i++) {
			in[i].r = make_report(&in[i], 0, &names);
			if (!in[i].r)
				goto out;
		}
		ctx.r = nr_in == 2 ? in[1].r : in[0].r;
		ctx.o.diff_base = nr_in == 2 ? in[0].r : NULL;
	}
	/* One column of a two-count file may be all zeros: no shares to compare. */
	if (ctx.o.diff_base && (!ctx.r->totals[0] || !ctx.o.diff_base->totals[0])) {
		pr_warn("flamegraph: %s holds no samples in its %s count: nothing to compare",
			in[0].path, ctx.r->totals[0] ? "first" : "second");
		goto out;
	}
	if (output) {
		rc = emit__write_path("flamegraph", output, write_svg, &ctx) ? 1 : 0;
	} else if ((err = write_svg(stdout, &ctx))) {
		pr_warn("flamegraph: cannot write the output: %s", strerror(-err));
	} else {
		rc = 0;
	}
out:
	for (int i = 0; i < 2; i++) {
		report__delete(in[i].r);
		report__delete(in[i].r_base);
		stack_table__delete(in[i].t);
		syms__delete(in[i].syms);
	}
	for (size_t i = 0; i < names.nr; i++)
		free(names.v[i]);
	free(names.v);
	return rc;
}

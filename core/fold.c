/*
 * stackprof fold: `perf script` text to folded stacks, by the rules of the
 * folded format's reference collapser (trace/perfscript.h), through the
 * same stack table and emitters as the profilers; or to the report formats
 * (JSON, pprof, speedscope) through the report model.
 */
#define _GNU_SOURCE /* asprintf */
#include "tools.h"
#include "cli.h"
#include "emit.h"
#include "output.h"
#include "log.h"
#include "report.h"
#include "stack_table.h"
#include "textin.h"
#include "symbols/syms.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_PID = 1000,
	OPT_TID,
	OPT_KERNEL,
	OPT_JIT,
	OPT_ALL,
	OPT_ADDRS,
	OPT_EVENT,
	OPT_STRICT,
	OPT_SRCLINE,
	OPT_FORMAT,
};

static const struct option fold_long[] = {
	{ "pid", no_argument, NULL, OPT_PID },
	{ "tid", no_argument, NULL, OPT_TID },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "jit", no_argument, NULL, OPT_JIT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "addrs", no_argument, NULL, OPT_ADDRS },
	{ "event-filter", required_argument, NULL, OPT_EVENT },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "srcline", no_argument, NULL, OPT_SRCLINE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void fold_usage(FILE *f)
{
	fprintf(f,
		"usage: stackprof fold [options] [FILE]\n\n"
		"Folds `perf script` output (FILE, plain or gzip; stdin when absent or '-') into\n"
		"folded stacks, \"comm;root;...;leaf count\", as stackcollapse-perf.pl does.\n\n"
		"  --pid                 process name with its pid: comm-PID\n"
		"  --tid                 ... and thread id: comm-PID/TID\n"
		"  --kernel              mark kernel frames with _[k]\n"
		"  --jit                 mark JIT frames (/tmp/perf-PID.map) with _[j]\n"
		"  --all                 all marks (--kernel --jit)\n"
		"  --addrs               show the address of unknown frames: [module <addr>]\n"
		"  --event-filter EVENT  keep samples of EVENT (default: the first event seen)\n"
		"  --srcline             append the source lines of `perf script -F+srcline`:\n"
		"                        name:file:line (without it they are skipped)\n"
		"  --strict              fail on lines that cannot be parsed\n"
		"  --format FMT          folded, json, svg, pprof (gzip'd protobuf) or speedscope\n"
		"                        (docs/formats.md); default: -o FILE's extension, else folded\n"
		"  -o, --output FILE     write to FILE (replaced when complete) instead of stdout\n"
		"  -v, --verbose         counts on stderr\n\n"
		"Examples:\n"
		"  perf script -i perf.data | stackprof fold > perf.folded\n"
		"  stackprof fold --pid --kernel perf.txt.gz -o perf.folded\n"
		"  stackprof fold --format pprof -o perf.pb.gz perf.txt  # go tool pprof -http=: perf.pb.gz\n"
		"  stackprof fold --format speedscope -o perf.speedscope.json perf.txt\n");
}

/* Reports what the reader saw; returns non-zero when --strict makes it an error. */
static int report(const char *path, const struct textin_result *res, bool strict, bool had_event)
{
	const struct perfscript_stats *st = &res->st;

	if (st->malformed && strict) {
		pr_warn("fold: %s line %llu: %s (%llu line%s could not be parsed; without --strict "
			"they are skipped)",
			path, (unsigned long long)st->first_malformed, st->why,
			(unsigned long long)st->malformed, st->malformed == 1 ? "" : "s");
		return 1;
	}
	if (st->malformed)
		pr_warn("fold: %llu line%s could not be parsed and %s skipped (first: line %llu: "
			"%s)",
			(unsigned long long)st->malformed, st->malformed == 1 ? "" : "s",
			st->malformed == 1 ? "was" : "were", (unsigned long long)st->first_malformed,
			st->why);
	if (had_event && !st->samples && st->other_events)
		pr_warn("fold: no sample is of event %s (the input has %s, for one; perf script "
			"prints the names --event-filter takes)",
			st->event, st->other);
	else if (st->other_events && !had_event)
		pr_warn("fold: kept only event %s, the first one seen (--event-filter chooses another)",
			st->event);
	if (st->unterminated)
		pr_info("fold: the input ended inside a sample; it was kept");
	if (st->truncated)
		pr_warn("fold: %llu stacks deeper than %d frames were cut at the root",
			(unsigned long long)st->truncated, 2 * STACK_TABLE_MAX_DEPTH);
	pr_info("fold: %llu lines, %llu samples%s%s, %llu of other events", 
		(unsigned long long)st->lines, (unsigned long long)st->samples,
		st->event[0] ? " of " : "", st->event, (unsigned long long)st->filtered);
	return 0;
}

/*
 * What a weight measures. perf script prints each sample's period: for
 * cpu-clock and task-clock that is nanoseconds of CPU time, for any other
 * event a count of it (1 per sample for tracepoints). @type holds the
 * event's name without perf's modifiers ("cycles:ppp" -> "cycles").
 */
static struct report_value fold_value(const char *event, char *type, size_t len)
{
	struct report_value v = { .type = type, .unit = "count" };

	textin__event_name(type, len, event);
	if (!type[0])
		snprintf(type, len, "samples");
	if (!strcmp(type, "cpu-clock") || !strcmp(type, "task-clock")) {
		v.type = "cpu";
		v.unit = "nanoseconds";
	}
	return v;
}

/* What write_report() writes: the model, in one format. */
struct fold_out {
	enum output_format fmt;
	const struct report *r;
};

static int write_report(FILE *f, void *ctx)
{
	const struct fold_out *o = ctx;

	return output__write_model(f, o->fmt, o->r, NULL);
}

/* The table as a report in format @fmt, to @output (atomically) or stdout. Returns 0 or -errno. */
static int fold_write_report(enum output_format fmt, const char *output,
			     const char *path, const char *cmdline, const struct textin_result *res,
			     struct stack_table *t, struct syms *syms)
{
	struct emit_part part = { .table = t, .opts = { .val_idx = 0 } };
	struct report_meta meta = {
		.profiler = "fold",
		.version = STACKPROF_VERSION,
		.cmdline = cmdline,
		.events = res->st.event[0] ? res->st.event : NULL,
		.samples = res->st.samples,
	};
	struct report_value v;
	struct fold_out out = { .fmt = fmt };
	struct report *r;
	char type[sizeof(res->st.event)], *targets = NULL;
	int err;

	if (asprintf(&targets, "perf script %s", strcmp(path, "-") ? path : "from stdin") < 0)
		targets = NULL;
	meta.targets = targets;
	v = fold_value(res->st.event, type, sizeof(type));
	r = report__new(&part, 1, &v, 1, syms, &meta);
	if (!r) {
		err = -errno;
		pr_warn("fold: cannot build the %s report: %s", output__format_name(fmt),
			strerror(errno));
		goto out;
	}
	out.r = r;
	if (output) {
		err = emit__write_path("fold", output, write_report, &out);
	} else {
		err = output__write_model(stdout, fmt, r, NULL);
		if (!err && fflush(stdout))
			err = -errno;
		if (err)
			pr_warn("fold: cannot write the output: %s", strerror(-err));
	}
	report__delete(r);
out:
	free(targets);
	return err;
}

int fold__main(int argc, char **argv)
{
	struct perfscript_opts o = { 0 };
	struct emit_opts eo = { .val_idx = 0 };
	struct textin_result res;
	const char *output = NULL, *path = "-";
	enum output_format fmt = OUTPUT_FOLDED;
	bool fmt_given = false;
	struct stack_table *t = NULL;
	struct syms *syms = NULL;
	char *cmdline = NULL;
	bool strict = false;
	int c, err, rc = 1;

	cmdline = tools__cmdline(argc, argv);
	if (!cmdline) {
		pr_warn("fold: out of memory");
		return 1;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:vh", fold_long, NULL)) != -1) {
		switch (c) {
		case OPT_PID:
			o.pid = true;
			break;
		case OPT_TID:
			o.tid = true;
			break;
		case OPT_KERNEL:
			o.kernel = true;
			break;
		case OPT_JIT:
			o.jit = true;
			break;
		case OPT_ALL:
			o.kernel = o.jit = true;
			break;
		case OPT_ADDRS:
			o.addrs = true;
			break;
		case OPT_EVENT:
			if (!optarg[0]) {
				pr_warn("fold: empty --event-filter: give an event name as perf script "
					"prints it, e.g. cpu-clock");
				rc = 2;
				goto out;
			}
			o.event = optarg;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_SRCLINE:
			o.srcline = true;
			break;
		case OPT_FORMAT:
			if (output__parse_format(optarg, &fmt)) {
				pr_warn("fold: unknown --format '%s': give folded, json, svg, pprof or "
					"speedscope",
					optarg);
				rc = 2;
				goto out;
			}
			fmt_given = true;
			break;
		default:
			err = tools__common_option("fold", c, argv, &output, fold_usage);
			if (err) {
				rc = err == 1 ? 0 : 2;
				goto out;
			}
			break;
		}
	}
	rc = 2;
	if (argc - optind > 1) {
		pr_warn("fold: one input at a time ('%s' is extra; see 'stackprof fold --help')",
			argv[optind + 1]);
		goto out;
	}
	if (optind < argc)
		path = argv[optind];
	if (output && tools__check_output("fold", output))
		goto out;
	/* As for the profilers' -o: the file's extension, unless --format says. */
	if (output && !fmt_given)
		fmt = output__format_of(output);
	if (!output && output__binary(fmt) && isatty(STDOUT_FILENO)) {
		pr_warn("fold: %s output is binary: give -o FILE or redirect stdout",
			output__format_name(fmt));
		goto out;
	}
	rc = 1;

	syms = syms__new(NULL);
	t = stack_table__new(1, 0);
	if (!syms || !t) {
		pr_warn("fold: out of memory");
		goto out;
	}
	err = textin__read("fold", path, TEXTIN_PERF_SCRIPT, &o, true, syms, t, &res);
	if (err)
		goto out;
	if (report(strcmp(path, "-") ? path : "stdin", &res, strict, o.event != NULL))
		goto out;
	if (stack_table__dropped(t))
		pr_warn("fold: %llu samples were not counted: the stack table is full",
			(unsigned long long)stack_table__dropped(t));
	if (fmt != OUTPUT_FOLDED)
		err = fold_write_report(fmt, output, path, cmdline, &res, t, syms);
	else if (output)
		err = emit__folded_path(output, t, syms, &eo);
	else if ((err = emit__folded(stdout, t, syms, &eo)) || fflush(stdout))
		pr_warn("fold: cannot write the output: %s", strerror(err ? -err : errno));
	rc = err ? 1 : 0;
out:
	stack_table__delete(t);
	syms__delete(syms);
	free(cmdline);
	return rc;
}

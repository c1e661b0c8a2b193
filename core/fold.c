/*
 * stackprof fold: `perf script` text to folded stacks, by the rules of the
 * folded format's reference collapser (trace/perfscript.h), through the
 * same stack table and emitters as the profilers.
 */
#include "tools.h"
#include "emit.h"
#include "log.h"
#include "stack_table.h"
#include "textin.h"
#include "symbols/syms.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		"  -o, --output FILE     write to FILE (replaced when complete) instead of stdout\n"
		"  -v, --verbose         counts on stderr\n\n"
		"Examples:\n"
		"  perf script -i perf.data | stackprof fold > perf.folded\n"
		"  stackprof fold --pid --kernel perf.txt.gz -o perf.folded\n");
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

int fold__main(int argc, char **argv)
{
	struct perfscript_opts o = { 0 };
	struct emit_opts eo = { .val_idx = 0 };
	struct textin_result res;
	const char *output = NULL, *path = "-";
	struct stack_table *t = NULL;
	struct syms *syms = NULL;
	bool strict = false;
	int c, err, rc = 1;

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
				return 2;
			}
			o.event = optarg;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_SRCLINE:
			o.srcline = true;
			break;
		default:
			err = tools__common_option("fold", c, argv, &output, fold_usage);
			if (err)
				return err == 1 ? 0 : 2;
			break;
		}
	}
	if (argc - optind > 1) {
		pr_warn("fold: one input at a time ('%s' is extra; see 'stackprof fold --help')",
			argv[optind + 1]);
		return 2;
	}
	if (optind < argc)
		path = argv[optind];
	if (output && tools__check_output("fold", output))
		return 2;

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
	if (output)
		err = emit__folded_path(output, t, syms, &eo);
	else if ((err = emit__folded(stdout, t, syms, &eo)) || fflush(stdout))
		pr_warn("fold: cannot write the output: %s", strerror(err ? -err : errno));
	rc = err ? 1 : 0;
out:
	stack_table__delete(t);
	syms__delete(syms);
	return rc;
}

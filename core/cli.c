/*
 * The command line: "stackprof [-v] PROFILER [options] [-- command args]".
 * Common options are parsed here, profiler options through the profiler's
 * own table; bad input ends with one line on stderr and a non-zero exit
 * before anything is opened or written.
 */
#include "cli.h"
#include "output.h"
#include "version.h"
#include "log.h"
#include "parse.h"
#include "profiler.h"
#include "session.h"
#include "tools.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TOP 20
/* Stacks per table: with the 256 MiB byte bound, the memory a long run may take. */
#define DEFAULT_MAX_STACKS 1000000

enum {
	OPT_USER_ONLY = 1000,
	OPT_KERNEL_ONLY,
	OPT_ANNOTATE,
	OPT_TOP,
	OPT_KALLSYMS,
	OPT_NO_DEMANGLE,
	OPT_INLINE,
	OPT_SRCLINE,
	OPT_FORMAT,
	OPT_CALL_GRAPH,
	OPT_TITLE,
	OPT_WIDTH,
	OPT_REVERSE,
	OPT_MIN_WIDTH,
	OPT_MAX_STACKS,
};

struct common_option {
	const char *name; /* NULL: a short option only */
	int has_arg;
	int key;
	const char *arg;
	const char *help;
};

static const struct common_option common_options[] = {
	{ "pid", 1, 'p', "PID[,PID..]", "existing processes: all their threads, and new ones" },
	{ "tid", 1, 't', "TID[,TID..]", "existing threads only" },
	{ "cpu", 1, 'C', "LIST", "CPUs to watch, e.g. 0-1,3 (default: all online)" },
	{ "duration", 1, 'd', "SECONDS", "stop after SECONDS (default: Ctrl-C or command exit)" },
	{ "interval", 1, 'i', "SECONDS", "print a live top-N table every SECONDS" },
	{ "output", 1, 'o', "FILE", "write FILE, format by extension: .folded .json .svg .pb.gz\n"
	  "                                 .speedscope.json (repeatable; replaced when complete)" },
	{ "format", 1, OPT_FORMAT, "FMT", "format of every -o file: folded json svg pprof speedscope" },
	{ "title", 1, OPT_TITLE, "TEXT", "flame graph (.svg): the title" },
	{ "width", 1, OPT_WIDTH, "PX", "flame graph: image width (1200)" },
	{ "reverse", 0, OPT_REVERSE, NULL, "flame graph: icicle, the root at the top" },
	{ "min-width", 1, OPT_MIN_WIDTH, "PX", "flame graph: leave out frames narrower (0.1)" },
	{ "mmap-pages", 1, 'm', "PAGES",
	  "ring pages per CPU, a power of two (128; memleak 1024; dwarf 2048)" },
	{ NULL, 0, 'g', NULL, "record kernel and user call chains (frame pointers)" },
	{ "call-graph", 1, OPT_CALL_GRAPH, "fp|dwarf[,SIZE]",
	  "call chains; user stacks by frame pointers (fp, = -g) or by DWARF unwinding of SIZE "
	  "bytes of stack copied per sample (8192)" },
	{ "user-only", 0, OPT_USER_ONLY, NULL, "keep only user-space frames" },
	{ "kernel-only", 0, OPT_KERNEL_ONLY, NULL, "keep only kernel frames (kernel-mode samples)" },
	{ "annotate", 0, OPT_ANNOTATE, NULL, "suffix kernel frames with _[k] in folded output" },
	{ "top", 1, OPT_TOP, "N", "rows in the report and live tables (20, 0 = all)" },
	{ "max-stacks", 1, OPT_MAX_STACKS, "N",
	  "count at most N distinct stacks (1000000); later new ones are dropped and counted" },
	{ "kallsyms", 1, OPT_KALLSYMS, "FILE", "kernel symbols (default /proc/kallsyms)" },
	{ "no-demangle", 0, OPT_NO_DEMANGLE, NULL, "keep C++ and Rust names mangled" },
	{ "inline", 0, OPT_INLINE, NULL, "inlined functions as frames of their own (DWARF)" },
	{ "srcline", 0, OPT_SRCLINE, NULL, "file:line in each user frame's name (DWARF)" },
	{ "verbose", 0, 'v', NULL, "more messages; repeat for debug output" },
	{ "help", 0, 'h', NULL, "this help" },
};
#define NR_COMMON (sizeof(common_options) / sizeof(common_options[0]))

static void print_option(FILE *f, int key, const char *name, const char *arg, const char *help)
{
	char left[64];

	if (!name)
		snprintf(left, sizeof(left), "-%c", key);
	else if (key > 0 && key < 256)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", key, name, arg ? " " : "",
			 arg ? arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", name, arg ? " " : "", arg ? arg : "");
	fprintf(f, "  %-30s %s\n", left, help);
}

static void usage_main(FILE *f)
{
	fprintf(f, "usage: stackprof [-v] PROFILER [options] [-- command [args...]]\n\n"
		   "Stack profiles from perf_event ring buffers, without BPF.\n\nProfilers:\n");
	for (size_t i = 0; profilers[i]; i++)
		fprintf(f, "  %-10s %s\n", profilers[i]->name, profilers[i]->summary);
	fprintf(f, "\nReading profiles:\n"
		   "  %-10s %s\n  %-10s %s\n  %-10s %s\n", "fold", "perf script output to folded stacks",
		   "compare", "how similar two profiles are, and where they differ",
		   "flamegraph", "an interactive SVG flame graph of a profile, or of two");
	fprintf(f, "\nRun 'stackprof PROFILER --help' for its options and examples.\n"
		   "Example: stackprof oncpu -F 997 -g -d 10 -o cpu.folded\n");
}

static void usage_profiler(FILE *f, const struct profiler *p)
{
	fprintf(f, "usage: stackprof %s [options] [-- command [args...]]\n\n%s\n\n", p->name,
		p->summary);
	if (p->options && p->options[0].name) {
		fprintf(f, "%s options:\n", p->name);
		for (const struct profiler_option *o = p->options; o->name; o++)
			print_option(f, o->key, o->name, o->arg, o->help);
		fputc('\n', f);
	}
	fprintf(f, "Common options:\n");
	for (size_t i = 0; i < NR_COMMON; i++)
		print_option(f, common_options[i].key, common_options[i].name,
			     common_options[i].arg, common_options[i].help);
	if (p->examples)
		fprintf(f, "\nExamples:\n%s", p->examples);
	fprintf(f, "\nEnding a run:\n"
		   "  Ctrl-C (SIGINT), SIGTERM or SIGHUP end it: the report and the -o file are\n"
		   "  complete, a launched command is ended, the exit status is 0. Killed with\n"
		   "  kill -9, stackprof leaves nothing behind in the kernel: its perf events go\n"
		   "  with it and its helper process (stackprof-reap) removes its tracefs probes;\n"
		   "  the target runs on unaffected.\n"
		   "\nWhen the results are approximate:\n"
		   "  Records the kernel dropped from a full ring buffer are counted by CPU\n"
		   "  (\"# lost N records on CPU 0, ...\"), the report's first line ends with\n"
		   "  [approximate: ...], and a warning suggests a bigger -m. Past --max-stacks\n"
		   "  distinct stacks, samples of stacks not seen before are dropped and counted\n"
		   "  in the report, with one warning. A CPU that is offline is skipped (-v).\n");
}

/* The output file is checked up front so a long run does not end in an unwritable path. */
int tools__check_output(const char *who, const char *path)
{
	char *copy = strdup(path);
	struct stat st;
	const char *dir;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		pr_warn("%s: cannot write '%s': it is a directory (give a file name)", who, path);
		err = -EISDIR;
	} else if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		pr_warn("%s: cannot write '%s': directory '%s' does not exist", who, path, dir);
		err = -ENOENT;
	} else if (access(dir, W_OK)) {
		pr_warn("%s: cannot write '%s': no write permission in '%s'", who, path, dir);
		err = -EACCES;
	}
	free(copy);
	return err;
}

static int bad_value(const char *prof, const char *opt, const char *val, const char *expect)
{
	pr_warn("%s: bad value '%s' for %s: expected %s", prof, val, opt, expect);
	return -EINVAL;
}

static int parse_common(const struct profiler *p, struct sp_opts *o, int key, const char *arg)
{
	enum output_format fmt;
	uint64_t v;

	switch (key) {
	case 'p':
		o->target.pid_list = arg;
		return 0;
	case 't':
		o->target.tid_list = arg;
		return 0;
	case 'C':
		o->target.cpu_list = arg;
		return 0;
	case 'd':
		if (parse__seconds(arg, &o->duration))
			return bad_value(p->name, "-d", arg, "a positive number of seconds");
		return 0;
	case 'i':
		if (parse__seconds(arg, &o->interval))
			return bad_value(p->name, "-i", arg, "a positive number of seconds");
		return 0;
	case 'o':
		if (o->nr_outputs == SP_MAX_OUTPUTS) {
			pr_warn("%s: at most %d -o files", p->name, SP_MAX_OUTPUTS);
			return -EINVAL;
		}
		o->outputs[o->nr_outputs++] = arg;
		if (!o->output)
			o->output = arg;
		return 0;
	case 'm':
		if (parse__u64(arg, 1, 1 << 20, &v) || (v & (v - 1)))
			return bad_value(p->name, "-m", arg, "a power of two such as 64 or 256");
		o->mmap_pages = (unsigned int)v;
		return 0;
	case 'g':
		o->callchain = true;
		o->call_graph = CALLGRAPH_FP;
		return 0;
	case OPT_CALL_GRAPH:
		if (callgraph__parse(arg, &o->call_graph, &o->stack_size))
			return bad_value(p->name, "--call-graph", arg,
					 "fp, dwarf or dwarf,SIZE with SIZE in bytes, 8 to 65528");
		o->callchain = true;
		return 0;
	case OPT_USER_ONLY:
		o->user_only = true;
		return 0;
	case OPT_KERNEL_ONLY:
		o->kernel_only = true;
		return 0;
	case OPT_ANNOTATE:
		o->annotate = true;
		return 0;
	case OPT_TOP:
		if (parse__u64(arg, 0, 1000000, &v))
			return bad_value(p->name, "--top", arg, "a number of rows");
		o->top = (unsigned int)v;
		return 0;
	case OPT_NO_DEMANGLE:
		o->no_demangle = true;
		return 0;
	case OPT_FORMAT:
		if (output__parse_format(arg, &fmt))
			return bad_value(p->name, "--format", arg,
					 "folded, json, svg, pprof or speedscope");
		o->format = arg;
		o->format_id = (int)fmt;
		return 0;
	case OPT_TITLE:
	case OPT_WIDTH:
	case OPT_REVERSE:
	case OPT_MIN_WIDTH:
		return svg__parse_option(p->name,
					 key == OPT_TITLE   ? "title"
					 : key == OPT_WIDTH ? "width"
					 : key == OPT_REVERSE ? "reverse"
							      : "min-width",
					 arg, &o->svg);
	case OPT_INLINE:
		o->inline_frames = true;
		return 0;
	case OPT_SRCLINE:
		o->srcline = true;
		return 0;
	case OPT_KALLSYMS:
		o->kallsyms = arg;
		return 0;
	case OPT_MAX_STACKS:
		if (parse__u64(arg, 1, 1000000000, &v))
			return bad_value(p->name, "--max-stacks", arg, "a number of stacks, at least 1");
		o->max_stacks = v;
		return 0;
	case 'v':
		log_verbosity++;
		return 0;
	}
	return -ENOENT;
}

/* Builds getopt_long's tables from the common options plus the profiler's. */
static int build_getopt(const struct profiler *p, struct option **longs, char **shorts)
{
	size_t n = NR_COMMON, k = 0, s = 0;
	struct option *lo;
	char *so;

	if (p->options)
		for (const struct profiler_option *po = p->options; po->name; po++)
			n++;
	lo = calloc(n + 1, sizeof(*lo));
	so = calloc(3 * n + 3, 1);
	if (!lo || !so) {
		free(lo);
		free(so);
		return -ENOMEM;
	}
	/* '+': stop at the first non-option (the command); ':': report missing arguments. */
	so[s++] = '+';
	so[s++] = ':';
	for (size_t i = 0; i < NR_COMMON; i++) {
		const struct common_option *c = &common_options[i];

		if (c->name)
			lo[k++] = (struct option){ c->name, c->has_arg, NULL, c->key };
		if (c->key < 256) {
			so[s++] = (char)c->key;
			if (c->has_arg)
				so[s++] = ':';
		}
	}
	if (p->options)
		for (const struct profiler_option *po = p->options; po->name; po++) {
			lo[k++] = (struct option){ po->name, po->arg ? 1 : 0, NULL, po->key };
			if (po->key > 0 && po->key < 256) {
				so[s++] = (char)po->key;
				if (po->arg)
					so[s++] = ':';
			}
		}
	*longs = lo;
	*shorts = so;
	return 0;
}

static const char *option_name(char **argv, int idx, int optopt_val)
{
	static char buf[8];

	if (idx > 0 && argv[idx - 1] && argv[idx - 1][0] == '-' && argv[idx - 1][1] == '-')
		return argv[idx - 1];
	snprintf(buf, sizeof(buf), "-%c", optopt_val ? optopt_val : '?');
	return buf;
}

void tools__bad_option(const char *who, char **argv, int c)
{
	if (c == ':')
		pr_warn("%s: option '%s' needs a value (see 'stackprof %s --help')", who,
			option_name(argv, optind, optopt), who);
	else
		pr_warn("%s: unknown option '%s' (see 'stackprof %s --help')", who,
			option_name(argv, optind, optopt), who);
}

int tools__common_option(const char *who, int c, char **argv, const char **output,
			 void (*usage)(FILE *f))
{
	switch (c) {
	case 'o':
		*output = optarg;
		return 0;
	case 'v':
		log_verbosity++;
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	case '?':
	case ':':
		tools__bad_option(who, argv, c);
		return 2;
	}
	return -1;
}

static int parse_profiler_args(const struct profiler *p, struct sp_opts *o, int argc,
			       char **argv, bool *help)
{
	struct option *longs;
	char *shorts;
	int key, err = 0;

	if (build_getopt(p, &longs, &shorts))
		return -ENOMEM;
	opterr = 0;
	optind = 1;
	while (!err && (key = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (key == '?' || key == ':') {
			tools__bad_option(p->name, argv, key);
			err = -EINVAL;
		} else if (key == 'h') {
			*help = true;
		} else {
			err = parse_common(p, o, key, optarg);
			if (err == -ENOENT)
				err = p->parse_option ? p->parse_option(key, optarg) : -EINVAL;
		}
	}
	if (!err && optind < argc)
		o->target.argv = &argv[optind];
	free(longs);
	free(shorts);
	return err;
}

static int validate(const struct profiler *p, struct sp_opts *o)
{
	if (o->user_only && o->kernel_only) {
		pr_warn("%s: --user-only and --kernel-only exclude each other: give one", p->name);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < o->nr_outputs; i++) {
		if (tools__check_output(p->name, o->outputs[i]))
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(o->outputs[i], o->outputs[j])) {
				pr_warn("%s: -o %s is given twice", p->name, o->outputs[i]);
				return -EINVAL;
			}
		}
	}
	return target__resolve(&o->target);
}

char *tools__cmdline(int argc, char **argv)
{
	size_t len = sizeof("stackprof");
	char *s, *p;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	p = stpcpy(s, "stackprof");
	for (int i = 0; i < argc; i++) {
		*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	return s;
}

int cli__main(int argc, char **argv)
{
	const struct profiler *p;
	struct sp_opts opts = {
		.top = DEFAULT_TOP,
		.svg = { .min_width = SVG_DEFAULT_MIN_WIDTH },
		.max_stacks = DEFAULT_MAX_STACKS,
	};
	struct session *s;
	char *cmdline = NULL;
	bool help = false;
	int i = 1, err;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage_main(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("stackprof %s\n", STACKPROF_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			log_verbosity++;
		} else {
			pr_warn("unknown option '%s' (see 'stackprof --help')", argv[i]);
			return 2;
		}
	}
	if (i == argc) {
		pr_warn("no profiler given (see 'stackprof --help')");
		return 2;
	}
	if (!strcmp(argv[i], "fold"))
		return fold__main(argc - i, argv + i);
	if (!strcmp(argv[i], "compare"))
		return compare__main(argc - i, argv + i);
	if (!strcmp(argv[i], "flamegraph"))
		return flamegraph__main(argc - i, argv + i);
	p = profiler__find(argv[i]);
	if (!p) {
		char names[256] = "";

		for (size_t k = 0; profilers[k]; k++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 k ? ", " : "", profilers[k]->name);
		pr_warn("unknown profiler '%s' (available: %s)", argv[i], names);
		return 2;
	}
	err = parse_profiler_args(p, &opts, argc - i, argv + i, &help);
	if (help) {
		usage_profiler(stdout, p);
		return 0;
	}
	if (err || validate(p, &opts)) {
		target__free(&opts.target);
		return 2;
	}
	opts.cmdline = cmdline = tools__cmdline(argc - i, argv + i);

	s = session__new(p, &opts);
	if (!s) {
		pr_warn("%s: cannot start a session: %s", p->name, strerror(errno));
		target__free(&opts.target);
		free(cmdline);
		return 1;
	}
	err = session__run(s);
	if (!err)
		err = p->report(s);
	if (p->teardown)
		p->teardown(s);
	session__delete(s);
	target__free(&opts.target);
	free(cmdline);
	return err ? 1 : 0;
}

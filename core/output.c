/* Output files by format: folded from the tables, the rest from one report model. */
#include "output.h"
#include "log.h"
#include "session.h"
#include "symbols/syms.h"
#include "version.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

static const char *const names[OUTPUT_NR_FORMATS] = {
	[OUTPUT_FOLDED] = "folded", [OUTPUT_JSON] = "json",   [OUTPUT_SVG] = "svg",
	[OUTPUT_PPROF] = "pprof",   [OUTPUT_SPEEDSCOPE] = "speedscope",
};

/* What each format says in the "written to" line. */
static const char *const what[OUTPUT_NR_FORMATS] = {
	[OUTPUT_FOLDED] = "folded stacks", [OUTPUT_JSON] = "JSON report",
	[OUTPUT_SVG] = "flame graph", [OUTPUT_PPROF] = "pprof profile",
	[OUTPUT_SPEEDSCOPE] = "speedscope profile",
};

int output__parse_format(const char *name, enum output_format *fmt)
{
	for (int i = 0; i < OUTPUT_NR_FORMATS; i++) {
		if (!strcmp(name, names[i])) {
			*fmt = (enum output_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *output__format_name(enum output_format fmt)
{
	return fmt < OUTPUT_NR_FORMATS ? names[fmt] : "?";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

enum output_format output__format_of(const char *path)
{
	if (ends_with(path, ".svg"))
		return OUTPUT_SVG;
	if (ends_with(path, ".speedscope.json") || ends_with(path, ".speedscope"))
		return OUTPUT_SPEEDSCOPE;
	if (ends_with(path, ".json"))
		return OUTPUT_JSON;
	if (ends_with(path, ".pb.gz") || ends_with(path, ".pb") || ends_with(path, ".pprof"))
		return OUTPUT_PPROF;
	return OUTPUT_FOLDED;
}

int output__write_model(FILE *f, enum output_format fmt, const struct report *r,
			const struct svg_opts *svg)
{
	switch (fmt) {
	case OUTPUT_JSON:
		return report__write_json(f, r);
	case OUTPUT_SVG: {
		struct svg_opts so = { .min_width = SVG_DEFAULT_MIN_WIDTH };
		char title[64];

		if (svg)
			so = *svg;
		if (!so.title) {
			snprintf(title, sizeof(title), "stackprof %s", r->meta.profiler ?: "");
			so.title = title;
		}
		return report__write_svg(f, r, &so);
	}
	case OUTPUT_PPROF:
		return report__write_pprof(f, r);
	case OUTPUT_SPEEDSCOPE:
		return report__write_speedscope(f, r);
	default:
		return -EINVAL;
	}
}

bool output__binary(enum output_format fmt)
{
	return fmt == OUTPUT_PPROF;
}

struct write_ctx {
	const struct report *model;
	enum output_format fmt;
	const struct svg_opts *svg;
};

static int write_model(FILE *f, void *arg)
{
	const struct write_ctx *c = arg;

	return output__write_model(f, c->fmt, c->model, c->svg);
}

int output__write(const struct output_job *job, const char *path, enum output_format fmt,
		  struct report **model)
{
	struct write_ctx c = { .fmt = fmt, .svg = job->svg };

	if (fmt == OUTPUT_FOLDED)
		return emit__folded_parts_path(path, job->parts, job->nr_parts, job->syms);
	if (!*model) {
		*model = report__new(job->parts, job->nr_parts, job->values, job->nr_values,
				     job->syms, &job->meta);
		if (!*model) {
			int err = -errno;

			pr_warn("%s: cannot build the report for %s: %s", job->who, path,
				strerror(-err));
			return err;
		}
	}
	c.model = *model;
	return emit__write_path(job->who, path, write_model, &c);
}

/* "pid 1234,1240", "command ./prog", "CPUs 0-1", "all CPUs". */
static void describe_targets(const struct target *t, char *buf, size_t len)
{
	if (t->argv)
		snprintf(buf, len, "command %s", t->argv[0]);
	else if (t->pid_list)
		snprintf(buf, len, "pid %s", t->pid_list);
	else if (t->tid_list)
		snprintf(buf, len, "tid %s", t->tid_list);
	else if (t->cpu_list)
		snprintf(buf, len, "CPUs %s", t->cpu_list);
	else
		snprintf(buf, len, "all CPUs");
}

int output__write_all(struct session *s, struct output_job *job)
{
	const struct sp_opts *o = session__opts(s);
	struct report *model = NULL;
	struct utsname u;
	struct timespec real;
	char targets[256];
	int err = 0;

	if (!o->nr_outputs)
		return 0;
	uname(&u);
	clock_gettime(CLOCK_REALTIME, &real);
	describe_targets(&o->target, targets, sizeof(targets));
	job->meta.version = STACKPROF_VERSION;
	job->meta.cmdline = o->cmdline;
	job->meta.targets = targets;
	job->meta.kernel = u.release;
	job->meta.duration_ns = session__end_time(s) - session__start_time(s);
	/* The start in wall-clock time: now, less how long ago the run started. */
	job->meta.start_ns = (uint64_t)real.tv_sec * 1000000000ULL + (uint64_t)real.tv_nsec -
			     (session__now() - session__start_time(s));
	job->meta.lost = session__lost(s);
	if (!job->syms)
		job->syms = session__syms(s);
	if (!job->svg)
		job->svg = &o->svg;
	for (unsigned int i = 0; i < o->nr_outputs; i++) {
		enum output_format fmt = o->format ? (enum output_format)o->format_id
						   : output__format_of(o->outputs[i]);
		int e = output__write(job, o->outputs[i], fmt, &model);

		if (!e)
			fprintf(stderr, "stackprof: %s written to %s\n", what[fmt], o->outputs[i]);
		else if (!err)
			err = e;
	}
	report__delete(model);
	return err;
}

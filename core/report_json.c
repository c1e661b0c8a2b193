/* The JSON report (jansson): metadata, then processes -> threads -> stacks, and a frame table. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bumped when a field changes meaning or goes away; new fields do not bump it. */
#define REPORT_JSON_FORMAT 1

static const char *kind_name(enum report_frame_kind k)
{
	switch (k) {
	case REPORT_FRAME_USER:
		return "user";
	case REPORT_FRAME_KERNEL:
		return "kernel";
	case REPORT_FRAME_INLINE:
		return "inline";
	case REPORT_FRAME_LABEL:
		return "label";
	default:
		return "unknown";
	}
}

/* "0x..." strings: JSON numbers lose precision past 2^53, kernel addresses are above it. */
static json_t *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

json_t *report__json_text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s ? report__json_text(s) : json_null();
}

static json_t *metadata(const struct report *r)
{
	const struct report_meta *m = &r->meta;
	json_t *o = json_object(), *vals = json_array();
	char when[32] = "";

	if (m->start_ns) {
		time_t t = (time_t)(m->start_ns / 1000000000ULL);
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	json_object_set_new(o, "stackprof_version", str_or_null(m->version));
	json_object_set_new(o, "profiler", str_or_null(m->profiler));
	json_object_set_new(o, "command_line", str_or_null(m->cmdline));
	json_object_set_new(o, "targets", str_or_null(m->targets));
	json_object_set_new(o, "start_time", when[0] ? json_string(when) : json_null());
	json_object_set_new(o, "duration_seconds", json_real((double)m->duration_ns / 1e9));
	json_object_set_new(o, "kernel_release", str_or_null(m->kernel));
	json_object_set_new(o, "events", str_or_null(m->events));
	json_object_set_new(o, "frequency_hz", m->frequency ? json_integer((json_int_t)m->frequency)
							     : json_null());
	json_object_set_new(o, "samples", json_integer((json_int_t)m->samples));
	json_object_set_new(o, "lost", json_integer((json_int_t)m->lost));
	json_object_set_new(o, "throttled", json_integer((json_int_t)m->throttled));
	for (unsigned int i = 0; i < r->nr_values; i++) {
		json_t *v = json_object();

		json_object_set_new(v, "type", json_string(r->values[i].type));
		json_object_set_new(v, "unit", json_string(r->values[i].unit));
		json_object_set_new(v, "total", json_integer((json_int_t)r->totals[i]));
		json_array_append_new(vals, v);
	}
	json_object_set_new(o, "values", vals);
	return o;
}

static json_t *frame(const struct report_frame *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", report__json_text(f->name));
	json_object_set_new(o, "kind", json_string(kind_name(f->kind)));
	json_object_set_new(o, "module", str_or_null(f->module));
	json_object_set_new(o, "address", f->kind == REPORT_FRAME_LABEL ? json_null() : hex(f->address));
	json_object_set_new(o, "file", str_or_null(f->file));
	json_object_set_new(o, "line", f->line ? json_integer(f->line) : json_null());
	return o;
}

static const struct report *sort_r;

/* Largest first value first, so a reader sees the heaviest stacks at the top. */
static int cmp_stack(const void *a, const void *b)
{
	const struct report_stack *x = &sort_r->stacks[*(const uint32_t *)a];
	const struct report_stack *y = &sort_r->stacks[*(const uint32_t *)b];

	if (x->vals[0] != y->vals[0])
		return x->vals[0] > y->vals[0] ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Processes in pid order, their threads by tid, each thread's stacks heaviest first. */
static json_t *processes(const struct report *r)
{
	size_t nt = r->nr_threads, ns = r->nr_stacks;
	uint32_t *tord = report__thread_order(r);
	uint32_t *sord = calloc(ns ? ns : 1, sizeof(*sord));
	json_t **thread_stacks = calloc(nt ? nt : 1, sizeof(*thread_stacks));
	json_t *procs = json_array(), *proc = NULL;
	int err = -ENOMEM;

	if (!tord || !sord || !thread_stacks || !procs)
		goto out;
	for (size_t i = 0; i < ns; i++)
		sord[i] = (uint32_t)i;
	sort_r = r;
	if (ns > 1)
		qsort(sord, ns, sizeof(*sord), cmp_stack);
	err = 0;
	for (size_t i = 0; i < nt && !err; i++) {
		const struct report_thread *t = &r->threads[tord[i]];
		json_t *thread = json_object();

		if (!proc || json_integer_value(json_object_get(proc, "pid")) != t->pid) {
			proc = json_object();
			json_object_set_new(proc, "pid", json_integer(t->pid));
			json_object_set_new(proc, "threads", json_array());
			json_array_append_new(procs, proc);
		}
		json_object_set_new(thread, "tid", t->tid ? json_integer(t->tid) : json_null());
		json_object_set_new(thread, "comm", report__json_text(t->comm));
		thread_stacks[tord[i]] = json_array();
		json_object_set_new(thread, "stacks", thread_stacks[tord[i]]);
		err = json_array_append_new(json_object_get(proc, "threads"), thread);
	}
	for (size_t i = 0; i < ns && !err; i++) {
		const struct report_stack *s = &r->stacks[sord[i]];
		json_t *st = json_object(), *vals = json_array(), *frames = json_array();

		for (unsigned int v = 0; v < r->nr_values; v++)
			json_array_append_new(vals, json_integer((json_int_t)s->vals[v]));
		for (uint32_t f = 0; f < s->nr_frames; f++)
			json_array_append_new(frames, json_integer(s->frames[f]));
		json_object_set_new(st, "values", vals);
		json_object_set_new(st, "frames", frames);
		err = json_array_append_new(thread_stacks[s->thread], st);
	}
out:
	free(tord);
	free(sord);
	free(thread_stacks);
	if (err) {
		json_decref(procs);
		return NULL;
	}
	return procs;
}

int report__write_json(FILE *f, const struct report *r)
{
	json_t *doc = json_object(), *frames = json_array(), *procs = processes(r);
	int err = 0;

	if (!doc || !frames || !procs) {
		err = -ENOMEM;
		goto out;
	}
	json_object_set_new(doc, "format", json_integer(REPORT_JSON_FORMAT));
	json_object_set_new(doc, "metadata", metadata(r));
	json_object_set_new(doc, "processes", procs);
	procs = NULL;
	for (size_t i = 0; i < r->nr_frames; i++)
		json_array_append_new(frames, frame(&r->frames[i]));
	json_object_set_new(doc, "frames", frames);
	frames = NULL;
	if (json_dumpf(doc, f, JSON_COMPACT | JSON_ENSURE_ASCII) || fputc('\n', f) == EOF)
		err = -EIO;
out:
	json_decref(procs);
	json_decref(frames);
	json_decref(doc);
	return err;
}

/* The speedscope writer (jansson): speedscope's file format, one sampled profile per thread. */
#define _GNU_SOURCE /* asprintf */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "symbols/u64map.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/* speedscope's units are a closed set; a count is "none". */
static const char *unit_of(const char *unit)
{
	static const char *const known[] = { "nanoseconds", "microseconds", "milliseconds",
					     "seconds", "bytes" };

	for (size_t i = 0; unit && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(unit, known[i]))
			return known[i];
	return "none";
}

/* What speedscope shows of a frame: the source file when known, else the module. */
static const char *shown_file(const struct report_frame *f)
{
	if (f->file)
		return f->file;
	return f->kind == REPORT_FRAME_LABEL ? NULL : f->module;
}

static bool same_frame(const struct report_frame *a, const struct report_frame *b)
{
	const char *fa = shown_file(a), *fb = shown_file(b);

	return !strcmp(a->name, b->name) && a->line == b->line &&
	       (fa == fb || (fa && fb && !strcmp(fa, fb)));
}

/*
 * shared.frames, and each report frame's index there. The model has a
 * frame per address; speedscope merges stacks by frame, so frames that
 * look the same (name, file, line) become one, or a function would show
 * once per call site.
 */
static json_t *shared_frames(const struct report *r, uint32_t *index)
{
	json_t *arr = json_array();
	struct u64map *seen = u64map__new();
	uint32_t *first = calloc(r->nr_frames ? r->nr_frames : 1, sizeof(*first));
	uint32_t nr = 0;
	int err = -ENOMEM;

	if (!arr || !seen || !first)
		goto out;
	err = 0;
	for (size_t i = 0; i < r->nr_frames && !err; i++) {
		const struct report_frame *f = &r->frames[i];
		const char *file = shown_file(f);
		uint64_t key = hash__mix64(hash__str(f->name, strlen(f->name)) ^
					   (file ? hash__str(file, strlen(file)) : 0) ^
					   (uint64_t)f->line << 40),
			 val;
		json_t *o;

		for (;; key++) {
			if (!u64map__get(seen, key, &val) ||
			    same_frame(&r->frames[first[val]], f))
				break;
		}
		if (u64map__get(seen, key, &val)) {
			index[i] = (uint32_t)val;
			continue;
		}
		o = json_object();
		if (!o || json_object_set_new(o, "name", report__json_text(f->name)) ||
		    (file && json_object_set_new(o, "file", report__json_text(file))) ||
		    (f->line && json_object_set_new(o, "line", json_integer(f->line))) ||
		    json_array_append_new(arr, o)) {
			err = -ENOMEM;
			break;
		}
		first[nr] = (uint32_t)i;
		index[i] = nr;
		err = u64map__put(seen, key, nr++);
	}
out:
	u64map__delete(seen);
	free(first);
	if (err) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* An empty sampled profile for thread @t, in @unit. */
static json_t *new_profile(const struct report_thread *t, const char *unit)
{
	json_t *p = json_object();
	char *name;

	if (!p)
		return NULL;
	/* pid 0 is what text input (fold) has for an unknown process. */
	if (t->tid && t->tid != t->pid ? asprintf(&name, "%s (%u/%u)", t->comm, t->pid, t->tid) < 0
	    : t->pid		       ? asprintf(&name, "%s (%u)", t->comm, t->pid) < 0
				       : !(name = strdup(t->comm))) {
		json_decref(p);
		return NULL;
	}
	json_object_set_new(p, "type", json_string("sampled"));
	json_object_set_new(p, "name", report__json_text(name));
	json_object_set_new(p, "unit", json_string(unit));
	json_object_set_new(p, "startValue", json_integer(0));
	json_object_set_new(p, "endValue", json_integer(0));
	json_object_set_new(p, "samples", json_array());
	json_object_set_new(p, "weights", json_array());
	free(name);
	return p;
}

/*
 * The profiles, threads in pid and name order; a sample per stack, root
 * first, weighed by the first value (speedscope has one weight per sample).
 * *@active is the heaviest profile, the one speedscope opens first.
 */
static json_t *profiles(const struct report *r, const uint32_t *index, size_t *active)
{
	size_t nt = r->nr_threads;
	uint32_t *order = report__thread_order(r);
	uint32_t *slot = calloc(nt ? nt : 1, sizeof(*slot)); /* thread -> profile */
	uint64_t *total = calloc(nt ? nt : 1, sizeof(*total));
	json_t *arr = json_array();
	const char *unit = unit_of(r->values[0].unit);
	int err = -ENOMEM;

	if (!order || !slot || !total || !arr)
		goto out;
	for (size_t i = 0; i < nt; i++) {
		slot[order[i]] = (uint32_t)i;
		if (json_array_append_new(arr, new_profile(&r->threads[order[i]], unit)))
			goto out;
	}
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct report_stack *s = &r->stacks[i];
		json_t *p = json_array_get(arr, slot[s->thread]), *stack = json_array();

		if (!s->vals[0]) {
			json_decref(stack);
			continue;
		}
		for (uint32_t k = 0; stack && k < s->nr_frames; k++) {
			if (json_array_append_new(stack, json_integer(index[s->frames[k]]))) {
				json_decref(stack);
				goto out;
			}
		}
		if (!stack || json_array_append_new(json_object_get(p, "samples"), stack) ||
		    json_array_append_new(json_object_get(p, "weights"),
					  json_integer((json_int_t)s->vals[0])))
			goto out;
		total[slot[s->thread]] += s->vals[0];
	}
	*active = 0;
	for (size_t i = 0; i < nt; i++) {
		json_object_set_new(json_array_get(arr, i), "endValue",
				    json_integer((json_int_t)total[i]));
		if (total[i] > total[*active])
			*active = i;
	}
	err = 0;
out:
	free(order);
	free(slot);
	free(total);
	if (err) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int report__write_speedscope(FILE *f, const struct report *r)
{
	const struct report_meta *m = &r->meta;
	uint32_t *index = calloc(r->nr_frames ? r->nr_frames : 1, sizeof(*index));
	json_t *doc = json_object(), *shared = json_object(), *frames = NULL, *profs = NULL;
	char *exporter = NULL, *name = NULL;
	size_t active = 0;
	int err = -ENOMEM;

	if (!index || !doc || !shared)
		goto out;
	frames = shared_frames(r, index);
	if (!frames)
		goto out;
	profs = profiles(r, index, &active);
	if (!profs)
		goto out;
	if (asprintf(&exporter, "stackprof %s", m->version ? m->version : "") < 0) {
		exporter = NULL;
		goto out;
	}
	if (m->cmdline && *m->cmdline)
		name = strdup(m->cmdline);
	else if (asprintf(&name, "stackprof %s", m->profiler ? m->profiler : "") < 0)
		name = NULL;
	if (!name)
		goto out;
	json_object_set_new(doc, "$schema", json_string(SPEEDSCOPE_SCHEMA));
	json_object_set_new(shared, "frames", frames);
	frames = NULL;
	json_object_set_new(doc, "shared", shared);
	shared = NULL;
	json_object_set_new(doc, "profiles", profs);
	profs = NULL;
	json_object_set_new(doc, "name", report__json_text(name));
	json_object_set_new(doc, "activeProfileIndex", json_integer((json_int_t)active));
	json_object_set_new(doc, "exporter", report__json_text(exporter));
	err = 0;
	if (json_dumpf(doc, f, JSON_COMPACT | JSON_ENSURE_ASCII) || fputc('\n', f) == EOF)
		err = -EIO;
out:
	free(index);
	free(exporter);
	free(name);
	json_decref(frames);
	json_decref(profs);
	json_decref(shared);
	json_decref(doc);
	return err;
}

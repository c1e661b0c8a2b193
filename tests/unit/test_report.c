/* The report model and its JSON: frames shared between stacks, threads by pid and name, totals. */
#include "core/report.h"
#include "core/stack_table.h"
#include "symbols/syms.h"

#include <jansson.h>
#include <stdlib.h>

#include "check.h"

int main(void)
{
	struct syms *syms = syms__new("/nonexistent/kallsyms");
	struct stack_table *t = stack_table__new(2, 0);
	struct report_value vals[] = { { "written", "bytes", 0, 0 }, { "calls", "count", 1, 0 } };
	struct report_meta meta = { .profiler = "test", .version = "0", .samples = 3 };
	uint64_t a, b, c, user[3], v[2];
	struct emit_part part;
	struct report *r;
	json_t *doc, *procs, *frames;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(syms && t);
	if (!syms || !t)
		return 1;
	a = syms__label(syms, "main");
	b = syms__label(syms, "write_all");
	c = syms__label(syms, "flush");
	/* Leaf first: main -> write_all, and main -> flush, in two threads of pid 7. */
	user[0] = b;
	user[1] = a;
	v[0] = 100;
	v[1] = 2;
	CHECK(stack_table__add(t, 7, 0, "worker", NULL, 0, user, 2, v) == 0);
	user[0] = c;
	v[0] = 50;
	v[1] = 1;
	CHECK(stack_table__add(t, 7, 0, "main", NULL, 0, user, 2, v) == 0);
	/* A zero entry is left out; another process with the same thread name is its own. */
	v[0] = v[1] = 0;
	CHECK(stack_table__add(t, 8, 0, "main", NULL, 0, user, 2, v) == 0);
	v[0] = 5;
	v[1] = 1;
	CHECK(stack_table__add(t, 9, 0, "main", NULL, 0, user, 2, v) == 0);

	part = (struct emit_part){ .table = t, .opts = { .val_idx = 0, .root_frame = "[io]" } };
	r = report__new(&part, 1, vals, 2, syms, &meta);
	CHECK(r != NULL);
	if (!r)
		return 1;
	CHECK_EQ_U64(r->nr_stacks, 3);
	CHECK_EQ_U64(r->nr_threads, 3);
	/* "[io]", main, write_all, flush: each once. */
	CHECK_EQ_U64(r->nr_frames, 4);
	CHECK_EQ_U64(r->totals[0], 155);
	CHECK_EQ_U64(r->totals[1], 4);
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct report_stack *s = &r->stacks[i];

		CHECK_EQ_U64(s->nr_frames, 3);
		CHECK_STR(r->frames[s->frames[0]].name, "[io]");
		CHECK(r->frames[s->frames[0]].kind == REPORT_FRAME_LABEL);
		CHECK_STR(r->frames[s->frames[1]].name, "main");
	}

	f = open_memstream(&text, &len);
	CHECK(f && report__write_json(f, r) == 0);
	if (f)
		fclose(f);
	doc = json_loads(text ? text : "", 0, &jerr);
	CHECK(doc != NULL);
	procs = json_object_get(doc, "processes");
	frames = json_object_get(doc, "frames");
	CHECK(json_array_size(procs) == 2);
	CHECK(json_array_size(frames) == 4);
	CHECK(json_integer_value(json_object_get(json_array_get(procs, 0), "pid")) == 7);
	CHECK(json_array_size(json_object_get(json_array_get(procs, 0), "threads")) == 2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "metadata"), "profiler")),
		  "test");
	CHECK(json_integer_value(json_object_get(
		      json_array_get(json_object_get(json_object_get(doc, "metadata"), "values"), 0),
		      "total")) == 155);
	json_decref(doc);
	free(text);
	report__delete(r);
	stack_table__delete(t);
	syms__delete(syms);
	CHECK_DONE();
}

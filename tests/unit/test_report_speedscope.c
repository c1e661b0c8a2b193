/* The speedscope writer on a hand-built report: frames merged by name, a profile per thread. */
#include "core/report.h"

#include <jansson.h>
#include <stdlib.h>

#include "check.h"

static const char *frame_name(json_t *frames, json_t *idx)
{
	return json_string_value(json_object_get(json_array_get(frames, json_integer_value(idx)),
						 "name"));
}

int main(void)
{
	struct report_frame frames[] = {
		/* 0 */ { "main", "/bin/prog", 0x1100, NULL, 0, REPORT_FRAME_USER },
		/* 1 */ { "run", "/bin/prog", 0x1200, NULL, 0, REPORT_FRAME_USER },
		/* 2: main at another call site: the same speedscope frame */
		{ "main", "/bin/prog", 0x1150, NULL, 0, REPORT_FRAME_USER },
		/* 3 */ { "sys_write", "[kernel.kallsyms]", 0xffffffff81000100ULL, NULL, 0,
			  REPORT_FRAME_KERNEL },
		/* 4 */ { "[runqueue]", NULL, 0, NULL, 0, REPORT_FRAME_LABEL },
		/* 5: source lines make call sites frames of their own */
		{ "run", "/bin/prog", 0x1210, "prog.c", 7, REPORT_FRAME_USER },
	};
	struct report_thread threads[] = { { 42, 42, "worker" }, { 0, 0, "swapper/0" }, { 7, 7, "idle" } };
	static const uint32_t fa[] = { 0, 1, 3 }, fb[] = { 2, 1 }, fc[] = { 4 }, fd[] = { 0, 5 };
	struct report_stack stacks[] = {
		{ 0, 3, fa, { 300, 3 } },
		{ 0, 2, fb, { 100, 1 } },
		{ 1, 1, fc, { 5, 1 } },
		{ 0, 2, fd, { 1, 1 } },
		/* No first value: no sample (its thread still has a profile). */
		{ 2, 1, fc, { 0, 4 } },
	};
	struct report r = {
		.meta = { .profiler = "offcpu", .version = "9.9", .cmdline = "stackprof offcpu" },
		.nr_values = 2,
		.values = { { "off_cpu", "microseconds", 0, 0 }, { "switches", "count", 1, 0 } },
		.frames = frames, .nr_frames = 6,
		.threads = threads, .nr_threads = 3,
		.stacks = stacks, .nr_stacks = 5,
	};
	json_t *doc, *shared, *profs, *p, *samples, *weights;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	CHECK(f && report__write_speedscope(f, &r) == 0);
	if (f)
		fclose(f);
	doc = json_loads(text ? text : "", 0, &jerr);
	CHECK(doc != NULL);
	if (!doc)
		CHECK_DONE();
	CHECK_STR(json_string_value(json_object_get(doc, "$schema")),
		  "https://www.speedscope.app/file-format-schema.json");
	CHECK_STR(json_string_value(json_object_get(doc, "exporter")), "stackprof 9.9");
	CHECK_STR(json_string_value(json_object_get(doc, "name")), "stackprof offcpu");
	shared = json_object_get(json_object_get(doc, "shared"), "frames");
	/* main, run, sys_write, [runqueue], run at prog.c:7. */
	CHECK_EQ_U64(json_array_size(shared), 5);
	CHECK_STR(json_string_value(json_object_get(json_array_get(shared, 0), "file")),
		  "/bin/prog");
	CHECK(json_object_get(json_array_get(shared, 3), "file") == NULL);
	CHECK_EQ_U64(json_integer_value(json_object_get(json_array_get(shared, 4), "line")), 7);
	CHECK_STR(json_string_value(json_object_get(json_array_get(shared, 4), "file")), "prog.c");

	/* Threads in pid order: swapper/0 (pid 0, unnamed pid), idle (7), worker (42). */
	profs = json_object_get(doc, "profiles");
	CHECK_EQ_U64(json_array_size(profs), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(profs, 0), "name")), "swapper/0");
	CHECK_STR(json_string_value(json_object_get(json_array_get(profs, 1), "name")), "idle (7)");
	p = json_array_get(profs, 2);
	CHECK_STR(json_string_value(json_object_get(p, "name")), "worker (42)");
	CHECK_STR(json_string_value(json_object_get(p, "type")), "sampled");
	CHECK_STR(json_string_value(json_object_get(p, "unit")), "microseconds");
	CHECK_EQ_U64(json_integer_value(json_object_get(p, "startValue")), 0);
	CHECK_EQ_U64(json_integer_value(json_object_get(p, "endValue")), 401);
	CHECK_EQ_U64(json_integer_value(json_object_get(doc, "activeProfileIndex")), 2);
	samples = json_object_get(p, "samples");
	weights = json_object_get(p, "weights");
	CHECK_EQ_U64(json_array_size(samples), 3);
	CHECK_EQ_U64(json_array_size(weights), 3);
	/* Root first; main's two call sites are one frame. */
	CHECK_STR(frame_name(shared, json_array_get(json_array_get(samples, 0), 0)), "main");
	CHECK_STR(frame_name(shared, json_array_get(json_array_get(samples, 0), 2)), "sys_write");
	CHECK_EQ_U64(json_integer_value(json_array_get(json_array_get(samples, 0), 0)),
		     json_integer_value(json_array_get(json_array_get(samples, 1), 0)));
	CHECK_EQ_U64(json_integer_value(json_array_get(weights, 0)), 300);
	CHECK_EQ_U64(json_array_size(json_object_get(json_array_get(profs, 1), "samples")), 0);
	CHECK_EQ_U64(json_integer_value(json_object_get(json_array_get(profs, 1), "endValue")), 0);
	json_decref(doc);
	free(text);

	/* A count is unit "none". */
	r.values[0] = (struct report_value){ "samples", "count", 0, 0 };
	text = NULL;
	f = open_memstream(&text, &len);
	CHECK(f && report__write_speedscope(f, &r) == 0);
	if (f)
		fclose(f);
	doc = json_loads(text ? text : "", 0, &jerr);
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(doc, "profiles"), 0), "unit")),
		  "none");
	json_decref(doc);
	free(text);
	CHECK_DONE();
}

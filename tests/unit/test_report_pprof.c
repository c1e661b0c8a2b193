/* The pprof writer on a hand-built report, read back with protobuf-c: tables, inlining, labels. */
#include "core/report.h"
#include "proto/profile.pb-c.h"

#include <stdlib.h>
#include <zlib.h>

#include "check.h"

#define K0 0xffffffff81000000ULL

static const Perftools__Profiles__Profile *prof;

static const char *str(int64_t i)
{
	return i >= 0 && (size_t)i < prof->n_string_table ? prof->string_table[i] : "(bad index)";
}

static const Perftools__Profiles__Location *location(uint64_t id)
{
	/* Ids are dense from 1 in this writer; check that too. */
	if (!id || id > prof->n_location || prof->location[id - 1]->id != id)
		return NULL;
	return prof->location[id - 1];
}

static const char *function_name(uint64_t id)
{
	if (!id || id > prof->n_function || prof->function[id - 1]->id != id)
		return "(bad function id)";
	return str(prof->function[id - 1]->name);
}

/* The name of @loc's line @i, or of its only line. */
static const char *line_name(const Perftools__Profiles__Location *loc, size_t i)
{
	return loc && i < loc->n_line ? function_name(loc->line[i]->function_id) : "(no line)";
}

static const Perftools__Profiles__Mapping *mapping(uint64_t id)
{
	if (!id || id > prof->n_mapping || prof->mapping[id - 1]->id != id)
		return NULL;
	return prof->mapping[id - 1];
}

static const char *label_str(const Perftools__Profiles__Sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (!strcmp(str(s->label[i]->key), key))
			return str(s->label[i]->str);
	return NULL;
}

static bool has_label(const Perftools__Profiles__Sample *s, const char *key, int64_t *num)
{
	for (size_t i = 0; i < s->n_label; i++) {
		if (!strcmp(str(s->label[i]->key), key)) {
			*num = s->label[i]->num;
			return true;
		}
	}
	return false;
}

static unsigned char *gunzip(const char *in, size_t len, size_t *out_len)
{
	size_t cap = 1 << 16;
	unsigned char *out = malloc(cap);
	z_stream z = { 0 };
	int rc;

	/* 15 + 32: insists on nothing, but the bytes must start with gzip's magic anyway. */
	if (!out || len < 2 || (unsigned char)in[0] != 0x1f || (unsigned char)in[1] != 0x8b ||
	    inflateInit2(&z, 15 + 32) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out == cap) {
			unsigned char *p = realloc(out, cap * 2);

			if (!p)
				break;
			out = p;
			cap *= 2;
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	} while (rc == Z_OK);
	*out_len = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

int main(void)
{
	struct report_frame frames[] = {
		/* 0 */ { "main", "/bin/prog", 0x1100, "prog.c", 10, REPORT_FRAME_USER },
		/* 1 */ { "run", "/bin/prog", 0x1200, "prog.c", 20, REPORT_FRAME_USER },
		/* 2: inlined into run, at its address */
		{ "helper", "/bin/prog", 0x1200, "util.h", 5, REPORT_FRAME_INLINE },
		/* 3 */ { "memcpy", "/lib/libc.so.6", 0x9000, NULL, 0, REPORT_FRAME_USER },
		/* 4 */ { "sys_write", "[kernel.kallsyms]", K0 + 0x100, NULL, 0, REPORT_FRAME_KERNEL },
		/* 5 */ { "entry_SYSCALL", "[kernel.kallsyms]", K0, NULL, 0, REPORT_FRAME_KERNEL },
		/* 6 */ { "[runqueue]", NULL, 0, NULL, 0, REPORT_FRAME_LABEL },
		/* 7 */ { "[unknown]", NULL, 0, NULL, 0, REPORT_FRAME_UNKNOWN },
		/* 8: main again, elsewhere: the same function, another location */
		{ "main", "/bin/prog", 0x1150, "prog.c", 12, REPORT_FRAME_USER },
	};
	struct report_thread threads[] = { { 42, 43, "worker" }, { 0, 0, "swapper/0" } };
	static const uint32_t fa[] = { 0, 1, 2, 3, 5, 4 }, fb[] = { 0, 1, 2 }, fc[] = { 6, 7 },
			      fd[] = { 8 };
	struct report_stack stacks[] = {
		{ 0, 6, fa, { 300, 3 } },
		{ 0, 3, fb, { 100, 1 } },
		{ 1, 2, fc, { 5, 1 } },
		{ 1, 1, fd, { 7, 1 } },
	};
	struct report r = {
		.meta = { .profiler = "oncpu", .version = "9.9", .cmdline = "stackprof oncpu -F 99",
			  .frequency = 99, .start_ns = 1700000000123456789ULL,
			  .duration_ns = 2500000000ULL, .events = "cpu-clock" },
		.nr_values = 2,
		.values = { { "written", "bytes", 0, 0 }, { "calls", "count", 1, 0 } },
		.frames = frames, .nr_frames = 9,
		.threads = threads, .nr_threads = 2,
		.stacks = stacks, .nr_stacks = 4,
		.totals = { 412, 6 },
	};
	const Perftools__Profiles__Location *l;
	const Perftools__Profiles__Mapping *m;
	const Perftools__Profiles__Sample *s;
	unsigned char *raw = NULL;
	size_t len = 0, raw_len = 0;
	char *bytes = NULL;
	int64_t num;
	FILE *f;

	f = open_memstream(&bytes, &len);
	CHECK(f && report__write_pprof(f, &r) == 0);
	if (f)
		fclose(f);
	raw = gunzip(bytes, len, &raw_len);
	CHECK(raw != NULL);
	prof = raw ? perftools__profiles__profile__unpack(NULL, raw_len, raw) : NULL;
	CHECK(prof != NULL);
	if (!prof)
		CHECK_DONE();

	CHECK(prof->n_string_table > 0 && !strcmp(prof->string_table[0], ""));
	CHECK_EQ_U64(prof->n_sample_type, 2);
	CHECK_STR(str(prof->sample_type[0]->type), "written");
	CHECK_STR(str(prof->sample_type[0]->unit), "bytes");
	CHECK_STR(str(prof->sample_type[1]->type), "calls");
	CHECK_STR(str(prof->sample_type[1]->unit), "count");
	CHECK_STR(str(prof->default_sample_type), "written");
	CHECK(prof->period_type && !strcmp(str(prof->period_type->type), "cpu") &&
	      !strcmp(str(prof->period_type->unit), "nanoseconds"));
	CHECK_EQ_U64(prof->period, 1000000000 / 99);
	CHECK_EQ_U64(prof->time_nanos, 1700000000123456789ULL);
	CHECK_EQ_U64(prof->duration_nanos, 2500000000ULL);
	CHECK(prof->n_comment >= 1 && !strcmp(str(prof->comment[0]), "stackprof oncpu -F 99"));

	/* main, run, helper, memcpy, sys_write, entry_SYSCALL, [runqueue], [unknown]: main once. */
	CHECK_EQ_U64(prof->n_function, 8);
	for (size_t i = 0; i < prof->n_function; i++)
		CHECK(prof->function[i]->system_name == prof->function[i]->name);
	/* main twice, run+helper, memcpy, two kernel, the label, [unknown]. */
	CHECK_EQ_U64(prof->n_location, 8);
	CHECK_EQ_U64(prof->n_sample, 4);

	/* Leaf first; the inlined helper is the first line of run's location. */
	s = prof->sample[0];
	CHECK_EQ_U64(s->n_location_id, 5);
	CHECK_EQ_U64(s->n_value, 2);
	if (s->n_location_id == 5 && s->n_value == 2) {
		CHECK_EQ_U64(s->value[0], 300);
		CHECK_EQ_U64(s->value[1], 3);
		CHECK_STR(line_name(location(s->location_id[0]), 0), "sys_write");
		CHECK_STR(line_name(location(s->location_id[1]), 0), "entry_SYSCALL");
		CHECK_STR(line_name(location(s->location_id[2]), 0), "memcpy");
		l = location(s->location_id[3]);
		CHECK(l && l->n_line == 2);
		CHECK_STR(line_name(l, 0), "helper");
		CHECK_STR(line_name(l, 1), "run");
		CHECK(l && l->n_line == 2 && l->line[0]->line == 5 && l->line[1]->line == 20);
		CHECK(l && l->address == 0x1200);
		m = l ? mapping(l->mapping_id) : NULL;
		CHECK(m && !strcmp(str(m->filename), "/bin/prog"));
		CHECK(m && m->memory_start == 0 && m->memory_limit == 0x1201 && m->file_offset == 0);
		CHECK(m && m->has_functions && m->has_line_numbers && m->has_inline_frames);
		CHECK_STR(line_name(location(s->location_id[4]), 0), "main");

		l = location(s->location_id[0]);
		m = l ? mapping(l->mapping_id) : NULL;
		CHECK(l && l->address == K0 + 0x100);
		CHECK(m && !strcmp(str(m->filename), "[kernel.kallsyms]"));
		CHECK(m && m->memory_start == K0 && m->memory_limit == K0 + 0x101);
		l = location(s->location_id[2]);
		m = l ? mapping(l->mapping_id) : NULL;
		CHECK(m && !strcmp(str(m->filename), "/lib/libc.so.6") && m->memory_limit == 0x9001);
		CHECK(m && !m->has_line_numbers && !m->has_inline_frames);
	}
	CHECK_STR(label_str(s, "comm"), "worker");
	CHECK(has_label(s, "pid", &num) && num == 42);

	/* The same (mapping, address, lines) is the same location in every sample. */
	CHECK_EQ_U64(prof->sample[1]->n_location_id, 2);
	if (prof->sample[1]->n_location_id == 2 && s->n_location_id == 5) {
		CHECK_EQ_U64(prof->sample[1]->location_id[0], s->location_id[3]);
		CHECK_EQ_U64(prof->sample[1]->location_id[1], s->location_id[4]);
	}

	/* Labels and unknown code have no mapping and no address; pid 0 is left out. */
	s = prof->sample[2];
	CHECK_EQ_U64(s->n_location_id, 2);
	if (s->n_location_id == 2) {
		l = location(s->location_id[0]);
		CHECK_STR(line_name(l, 0), "[unknown]");
		CHECK(l && l->mapping_id == 0 && l->address == 0);
		l = location(s->location_id[1]);
		CHECK_STR(line_name(l, 0), "[runqueue]");
		CHECK(l && l->mapping_id == 0 && l->address == 0);
	}
	CHECK_STR(label_str(s, "comm"), "swapper/0");
	CHECK(!has_label(s, "pid", &num));

	/* main at another address: another location, the same function. */
	s = prof->sample[3];
	CHECK_EQ_U64(s->n_location_id, 1);
	if (s->n_location_id == 1 && prof->sample[0]->n_location_id == 5) {
		const Perftools__Profiles__Location *a = location(s->location_id[0]);
		const Perftools__Profiles__Location *b = location(prof->sample[0]->location_id[4]);

		CHECK(a && b && a != b && a->address == 0x1150 && b->address == 0x1100);
		CHECK(a && b && a->line[0]->function_id == b->line[0]->function_id);
		CHECK(a && a->line[0]->line == 12);
	}
	CHECK_EQ_U64(prof->n_mapping, 3);

	perftools__profiles__profile__free_unpacked((Perftools__Profiles__Profile *)prof, NULL);
	free(raw);
	free(bytes);
	CHECK_DONE();
}

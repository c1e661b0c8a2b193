/* The SVG flame graph writer on hand-built reports: widths, merging, min_width, escaping, diffs. */
#include "core/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define AVAIL 1180.0 /* the default width less 10 px on each side */

enum { MAIN, WORK_A, WORK_B, WORK_C, WORK_C2, TINY, ODD, BAD_UTF8, SYS };

static struct report_frame frames[] = {
	[MAIN] = { .name = "main", .kind = REPORT_FRAME_USER },
	[WORK_A] = { .name = "work_a", .kind = REPORT_FRAME_USER },
	[WORK_B] = { .name = "work_b", .kind = REPORT_FRAME_USER },
	[WORK_C] = { .name = "work_c", .kind = REPORT_FRAME_USER, .address = 0x10 },
	/* The same function at another address: one frame of the graph. */
	[WORK_C2] = { .name = "work_c", .kind = REPORT_FRAME_USER, .address = 0x20 },
	[TINY] = { .name = "tiny", .kind = REPORT_FRAME_USER },
	[ODD] = { .name = "a<b>&\"c'", .kind = REPORT_FRAME_LABEL },
	[BAD_UTF8] = { .name = "bad\xff\xfe\x01name\xc3\xa9", .kind = REPORT_FRAME_UNKNOWN },
	[SYS] = { .name = "sys_x", .kind = REPORT_FRAME_KERNEL },
};

static struct report_thread threads[] = { { 1, 1, "prog" }, { 2, 2, "prog" } };

static const uint32_t st_a[] = { MAIN, WORK_A }, st_b[] = { MAIN, WORK_B },
		      st_c[] = { MAIN, WORK_C }, st_c2[] = { MAIN, WORK_C2 },
		      st_tiny[] = { MAIN, TINY }, st_odd[] = { MAIN, ODD, BAD_UTF8, SYS };

/* work_a : work_b : work_c = 1000 : 2000 : 3000, spread over two threads of the same name. */
static struct report_stack stacks[] = {
	{ 0, 2, st_a, { 1000, 300 } },	{ 0, 2, st_b, { 1000, 100 } },
	{ 1, 2, st_b, { 1000, 100 } },	{ 0, 2, st_c, { 1500, 50 } },
	{ 1, 2, st_c2, { 1500, 50 } },	{ 0, 2, st_tiny, { 1, 0 } },
	{ 1, 4, st_odd, { 40, 0 } },
};

#define TOTAL 6041

static void init(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->nr_values = 2;
	r->values[0] = (struct report_value){ "samples", "count", 0, 0 };
	r->values[1] = (struct report_value){ "before", "count", 1, 0 };
	r->frames = frames;
	r->nr_frames = sizeof(frames) / sizeof(frames[0]);
	r->threads = threads;
	r->nr_threads = 2;
	r->stacks = stacks;
	r->nr_stacks = sizeof(stacks) / sizeof(stacks[0]);
	r->totals[0] = TOTAL;
	r->totals[1] = 600;
}

static char *render(const struct report *r, const struct svg_opts *o, int *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	*err = report__write_svg(f, r, o);
	fclose(f);
	return text;
}

struct frame_attrs {
	const char *g; /* the frame's <g ...> */
	double x, y, w;
	uint64_t v;
	char fill[8];
};

static double attr(const char *from, const char *name)
{
	const char *p = strstr(from, name);

	return p ? strtod(p + strlen(name), NULL) : NAN;
}

/* Finds the frame titled @title (escaped as written); returns how many there are. */
static int find_frame(const char *svg, const char *title, struct frame_attrs *fa)
{
	char key[128];
	int n = 0;

	snprintf(key, sizeof(key), "><title>%s</title><rect ", title);
	for (const char *p = strstr(svg, key); p; p = strstr(p + 1, key)) {
		const char *g = p;

		while (g > svg && strncmp(g, "<g ", 3))
			g--;
		if (!n++) {
			const char *rect = p + strlen(key) - 6, *fill;

			fa->g = g;
			fa->v = (uint64_t)attr(g, "data-v=\"");
			fa->x = attr(rect, " x=\"");
			fa->y = attr(rect, " y=\"");
			fa->w = attr(rect, " width=\"");
			fill = strstr(rect, "fill=\"");
			snprintf(fa->fill, sizeof(fa->fill), "%.7s", fill ? fill + 6 : "");
		}
	}
	return n;
}

static bool near(double a, double b)
{
	return fabs(a - b) <= 0.01;
}

static void test_widths(const struct report *r)
{
	struct svg_opts o = { .min_width = SVG_DEFAULT_MIN_WIDTH };
	struct frame_attrs a, b, c, m, all, prog;
	double px = AVAIL / TOTAL;
	char *svg;
	int err;

	svg = render(r, &o, &err);
	CHECK(svg && err == 0);
	if (!svg)
		return;
	CHECK(!strncmp(svg, "<?xml", 5) && strstr(svg, "</svg>\n"));
	CHECK(find_frame(svg, "all", &all) == 1);
	/* Merged by name: one process frame for both threads, one frame per function. */
	CHECK(find_frame(svg, "prog", &prog) == 1);
	CHECK(find_frame(svg, "main", &m) == 1);
	CHECK(find_frame(svg, "work_a", &a) == 1);
	CHECK(find_frame(svg, "work_b", &b) == 1);
	CHECK(find_frame(svg, "work_c", &c) == 1);
	CHECK_EQ_U64(all.v, TOTAL);
	CHECK_EQ_U64(prog.v, TOTAL);
	CHECK_EQ_U64(b.v, 2000);
	CHECK_EQ_U64(c.v, 3000);
	CHECK(strstr(prog.g, "class=\"process\"") == prog.g + 3);
	/* Widths exactly proportional to the value: 1:2:3, to 0.01 px. */
	CHECK(near(all.w, AVAIL) && near(all.x, 10));
	CHECK(near(a.w, 1000 * px));
	CHECK(near(b.w, 2000 * px));
	CHECK(near(c.w, 3000 * px));
	CHECK(fabs(b.w / a.w - 2) < 0.0001 && fabs(c.w / a.w - 3) < 0.0001);
	/* Children in name order ("a<b>..." 40, tiny 1, work_a...), side by side from the left. */
	CHECK(near(a.x, m.x + 41 * px) && near(b.x, a.x + a.w) && near(c.x, b.x + b.w));
	CHECK(a.w + b.w + c.w <= m.w + 0.01);
	/* Root at the bottom: each level one row (16 px) above its parent. */
	CHECK(all.y > prog.y && near(prog.y - m.y, 16) && near(m.y - a.y, 16));
	CHECK(find_frame(svg, "tiny", &a) == 1 && near(a.w, px));
	CHECK(find_frame(svg, "sys_x", &a) == 1 && strstr(a.g, "class=\"kernel\"") == a.g + 3);
	/* A function's colour is the same wherever it shows: both work_c frames merged. */
	CHECK(strstr(svg, "<text x=\"") && strstr(svg, ">work_b</text>"));
	CHECK(strstr(svg, "var spConfig = {total: 6041,") != NULL);
	CHECK(strstr(svg, "<script") && strstr(svg, "<![CDATA[") && strstr(svg, "]]></script>"));
	free(svg);
}

static void test_min_width(const struct report *r)
{
	struct svg_opts o = { .min_width = 0.5 };
	struct frame_attrs m, t;
	char *svg;
	int err;

	svg = render(r, &o, &err);
	CHECK(svg && err == 0);
	if (!svg)
		return;
	/* tiny is 0.195 px: left out, its value still in main's width. */
	CHECK(find_frame(svg, "tiny", &t) == 0);
	CHECK(find_frame(svg, "main", &m) == 1);
	CHECK_EQ_U64(m.v, TOTAL);
	CHECK(near(m.w, AVAIL));
	free(svg);

	/* 0 keeps every frame with a value. */
	o.min_width = 0;
	svg = render(r, &o, &err);
	CHECK(svg && err == 0 && find_frame(svg, "tiny", &t) == 1);
	free(svg);

	/* Only frames as wide as the whole graph: the chain down to main, nothing above. */
	o.min_width = 1179;
	svg = render(r, &o, &err);
	CHECK(svg && err == 0 && find_frame(svg, "all", &t) == 1 && find_frame(svg, "prog", &m) == 1);
	CHECK(find_frame(svg, "main", &m) == 1 && find_frame(svg, "work_c", &t) == 0);
	free(svg);
}

static void test_escaping(const struct report *r)
{
	struct svg_opts o = { .title = "<T&\"itle\">" };
	struct frame_attrs f;
	char *svg;
	int err;

	svg = render(r, &o, &err);
	CHECK(svg && err == 0);
	if (!svg)
		return;
	CHECK(find_frame(svg, "a&lt;b&gt;&amp;&quot;c&#39;", &f) == 1);
	CHECK(strstr(f.g, "class=\"label\"") == f.g + 3);
	/* Bytes that are not UTF-8, and control characters, become U+FFFD; valid UTF-8 stays. */
	CHECK(find_frame(svg, "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdname\xc3\xa9", &f) == 1);
	CHECK(strstr(f.g, "class=\"unknown\"") == f.g + 3);
	CHECK(strstr(svg, ">&lt;T&amp;&quot;itle&quot;&gt;</text>") != NULL);
	CHECK(strstr(svg, "\xff") == NULL && strstr(svg, "\x01") == NULL);
	CHECK(strstr(svg, "a<b") == NULL && strstr(svg, "<T&") == NULL);
	free(svg);
}

static void test_reverse(const struct report *r)
{
	struct svg_opts o = { .reverse = true };
	struct frame_attrs all, prog, a;
	char *svg;
	int err;

	svg = render(r, &o, &err);
	CHECK(svg && err == 0);
	if (!svg)
		return;
	CHECK(find_frame(svg, "all", &all) == 1 && find_frame(svg, "prog", &prog) == 1);
	CHECK(find_frame(svg, "work_a", &a) == 1);
	/* Icicle: the root on the top row, each level one row below its parent. */
	CHECK(near(prog.y - all.y, 16) && near(a.y - all.y, 48));
	CHECK(strstr(svg, "reverse: true") != NULL);
	free(svg);
}

/* "#rrggbb" -> components */
static void rgb(const char *fill, int *r, int *g, int *b)
{
	unsigned int x = (unsigned int)strtoul(fill + 1, NULL, 16);

	*r = (int)(x >> 16);
	*g = (int)(x >> 8 & 0xff);
	*b = (int)(x & 0xff);
}

static void test_diff(const struct report *after)
{
	struct report before = *after;
	struct svg_opts o = { .value = 0, .diff_base = &before };
	struct frame_attrs a, c, m;
	int rr, gg, bb;
	char *svg;
	int err;

	/* Before: value 1 of the same stacks, moved into value 0 of a report of its own. */
	before.values[0] = after->values[1];
	before.nr_values = 1;
	before.stacks = malloc(sizeof(stacks));
	if (!before.stacks)
		return;
	memcpy(before.stacks, stacks, sizeof(stacks));
	for (size_t i = 0; i < before.nr_stacks; i++)
		before.stacks[i].vals[0] = before.stacks[i].vals[1];
	svg = render(after, &o, &err);
	CHECK(svg && err == 0);
	if (!svg)
		goto out;
	/* work_a: 300/600 before, 1000/6041 after: shrank (blue). */
	/* work_c: 100/600 before, 3000/6041 after: grew (red). */
	CHECK(find_frame(svg, "work_a", &a) == 1 && find_frame(svg, "work_c", &c) == 1);
	CHECK(strstr(a.g, "data-b=\"300\"") && strstr(c.g, "data-b=\"100\""));
	rgb(a.fill, &rr, &gg, &bb);
	CHECK(bb == 255 && rr < 200);
	rgb(c.fill, &rr, &gg, &bb);
	CHECK(rr == 255 && gg < 200 && bb < 200);
	/* main and prog hold everything on both sides: unchanged, white. */
	CHECK(find_frame(svg, "main", &m) == 1 && !strcmp(m.fill, "#ffffff"));
	/* Widths from the "after" profile. */
	CHECK(near(c.w, 3000 * AVAIL / TOTAL));
	CHECK(strstr(svg, "diff: true") != NULL);
	free(svg);
out:
	free(before.stacks);
}

static void test_errors(const struct report *r)
{
	struct report empty;
	struct svg_opts o = { .value = 2 };
	char *svg;
	int err;

	svg = render(r, &o, &err);
	CHECK(err == -EINVAL);
	free(svg);
	o.value = 0;
	o.width = 15;
	svg = render(r, &o, &err);
	CHECK(err == -EINVAL);
	free(svg);
	/* No stacks: still a whole document, saying so. */
	memset(&empty, 0, sizeof(empty));
	empty.nr_values = 1;
	empty.values[0] = r->values[0];
	o.width = 0;
	svg = render(&empty, &o, &err);
	CHECK(svg && err == 0 && strstr(svg, "no samples") && strstr(svg, "</svg>"));
	free(svg);
}

int main(void)
{
	struct report r;

	init(&r);
	test_widths(&r);
	test_min_width(&r);
	test_escaping(&r);
	test_reverse(&r);
	test_diff(&r);
	test_errors(&r);
	CHECK_DONE();
}

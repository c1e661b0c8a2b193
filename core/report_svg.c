/* The SVG flame graph: stacks merged by name into a tree of rectangles, with a script. */
#include "report.h"
#include "vec.h"
#include "hash.h"
#include "log.h"
#include "parse.h"
#include "symbols/u64map.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Geometry in px. The script gets the same numbers in its configuration,
 * so the labels it writes after a zoom fit the way these do.
 */
#define PAD 10	      /* left and right of the frames */
#define ROW 16	      /* a row: a 15 px rectangle and a 1 px gap */
#define TOP 66	      /* title, subtitle and the controls the script adds */
#define BOTTOM 36     /* the legend */
#define CHAR_W 7.3    /* 12 px monospace is 7.2; a little more so labels never spill */
#define LABEL_MIN 3   /* characters a label needs to be drawn at all */
#define NO_NODE UINT32_MAX
/* A change of share this large (of the total) or larger is drawn fully saturated. */
#define DIFF_FULL_MIN 0.01

/* core/report_svg.js, embedded at build time (scripts/embed_text.cmake). */
extern const unsigned char report_svg_script[];

enum node_kind { K_USER, K_KERNEL, K_INLINE, K_LABEL, K_UNKNOWN, K_PROCESS, K_ROOT };

static const char *const kind_names[] = { "user",    "kernel",  "inline", "label",
					  "unknown", "process", "root" };

struct node {
	uint64_t val;  /* the graph's value: the width */
	uint64_t base; /* differential: the "before" value at the same path */
	uint32_t name; /* index in tree.names */
	uint32_t child, next; /* first child, next sibling; NO_NODE ends */
	uint8_t kind;
	bool shown; /* wide enough to draw */
};

struct tree {
	struct node *nodes;
	size_t nr, cap;
	struct u64map *children; /* parent << 32 | name -> node */
	const char **names;	 /* interned; the strings belong to the reports */
	size_t nr_names, cap_names;
	struct u64map *name_ids; /* hash of the text, probed upward -> name index */
	uint32_t *scratch;	 /* one node's children while they are sorted */
	size_t cap_scratch;
	/* Found by the layout pass */
	uint32_t max_depth;
	double max_change; /* differential: the largest change of share drawn */
};

/* What the writing pass needs besides the tree. */
struct draw {
	FILE *f;
	const struct svg_opts *o;
	double scale;	     /* px per unit of value */
	double min_w;
	uint64_t total, total_base;
	bool diff;
};

/* The index of name @s, added if new; NO_NODE when out of memory. */
static uint32_t intern(struct tree *t, const char *s)
{
	uint64_t key = hash__mix64(hash__str(s, strlen(s))), val;

	/* Keys of different names that hash alike take the next free key. */
	for (;; key++) {
		if (!u64map__get(t->name_ids, key, &val))
			break;
		if (!strcmp(t->names[val], s))
			return (uint32_t)val;
	}
	if (vec__grow((void **)&t->names, &t->cap_names, t->nr_names, sizeof(*t->names), 256) ||
	    u64map__put(t->name_ids, key, t->nr_names))
		return NO_NODE;
	t->names[t->nr_names] = s;
	return (uint32_t)t->nr_names++;
}

static uint32_t new_node(struct tree *t, uint32_t name, enum node_kind kind)
{
	struct node *n;

	if (vec__grow((void **)&t->nodes, &t->cap, t->nr, sizeof(*t->nodes), 256))
		return NO_NODE;
	n = &t->nodes[t->nr];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->kind = (uint8_t)kind;
	n->child = n->next = NO_NODE;
	return (uint32_t)t->nr++;
}

/* The child of @parent named @name, made (with @kind) if absent; NO_NODE when out of memory. */
static uint32_t child_of(struct tree *t, uint32_t parent, uint32_t name, enum node_kind kind)
{
	uint64_t key = (uint64_t)parent << 32 | name, val;
	uint32_t c;

	if (u64map__get(t->children, key, &val))
		return (uint32_t)val;
	c = new_node(t, name, kind);
	if (c == NO_NODE || u64map__put(t->children, key, c))
		return NO_NODE;
	t->nodes[c].next = t->nodes[parent].child;
	t->nodes[parent].child = c;
	return c;
}

static enum node_kind kind_of(enum report_frame_kind k)
{
	switch (k) {
	case REPORT_FRAME_USER:
		return K_USER;
	case REPORT_FRAME_KERNEL:
		return K_KERNEL;
	case REPORT_FRAME_INLINE:
		return K_INLINE;
	case REPORT_FRAME_LABEL:
		return K_LABEL;
	default:
		return K_UNKNOWN;
	}
}

/* Adds every stack of @r (value @value) to the tree: into val, or into base when @base. */
static int tree_add(struct tree *t, const struct report *r, unsigned int value, bool base)
{
	uint32_t *frame_names = malloc((r->nr_frames ? r->nr_frames : 1) * sizeof(*frame_names));
	uint32_t *thread_names =
		malloc((r->nr_threads ? r->nr_threads : 1) * sizeof(*thread_names));
	int err = -ENOMEM;

	if (!frame_names || !thread_names)
		goto out;
	/* Frames are unique by address, not by name: merge them by name here. */
	for (size_t i = 0; i < r->nr_frames; i++)
		if ((frame_names[i] = intern(t, r->frames[i].name)) == NO_NODE)
			goto out;
	for (size_t i = 0; i < r->nr_threads; i++)
		if ((thread_names[i] = intern(t, r->threads[i].comm)) == NO_NODE)
			goto out;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct report_stack *s = &r->stacks[i];
		uint64_t v = s->vals[value];
		uint32_t n = 0;

		if (!v)
			continue;
		*(base ? &t->nodes[0].base : &t->nodes[0].val) += v;
		n = child_of(t, 0, thread_names[s->thread], K_PROCESS);
		for (uint32_t j = 0; n != NO_NODE; j++) {
			*(base ? &t->nodes[n].base : &t->nodes[n].val) += v;
			if (j == s->nr_frames)
				break;
			n = child_of(t, n, frame_names[s->frames[j]],
				     kind_of(r->frames[s->frames[j]].kind));
		}
		if (n == NO_NODE)
			goto out;
	}
	err = 0;
out:
	free(frame_names);
	free(thread_names);
	return err;
}

static const struct tree *sort_tree;

static int cmp_name(const void *a, const void *b)
{
	const struct node *x = &sort_tree->nodes[*(const uint32_t *)a];
	const struct node *y = &sort_tree->nodes[*(const uint32_t *)b];

	return strcmp(sort_tree->names[x->name], sort_tree->names[y->name]);
}

static double change(const struct draw *d, const struct node *n)
{
	double after = d->total ? (double)n->val / (double)d->total : 0;
	double before = d->total_base ? (double)n->base / (double)d->total_base : 0;

	return after - before;
}

/*
 * Marks the nodes wide enough to draw, from @n up, and puts every drawn
 * node's children in name order (the order frames are drawn left to right,
 * the same in any two graphs of the same code).
 */
static int layout(struct tree *t, const struct draw *d, uint32_t n, uint32_t depth)
{
	struct node *node = &t->nodes[n];
	size_t nr = 0;

	if (!node->val || (double)node->val * d->scale < d->min_w)
		return 0;
	node->shown = true;
	if (depth > t->max_depth)
		t->max_depth = depth;
	if (d->diff && n)
		t->max_change = fmax(t->max_change, fabs(change(d, node)));
	for (uint32_t c = node->child; c != NO_NODE; c = t->nodes[c].next) {
		if (vec__grow((void **)&t->scratch, &t->cap_scratch, nr, sizeof(*t->scratch), 256))
			return -ENOMEM;
		t->scratch[nr++] = c;
	}
	if (nr > 1) {
		sort_tree = t;
		qsort(t->scratch, nr, sizeof(*t->scratch), cmp_name);
	}
	/* Relinked before going up: the scratch array is free again for the children. */
	t->nodes[n].child = nr ? t->scratch[0] : NO_NODE;
	for (size_t i = 0; i < nr; i++)
		t->nodes[t->scratch[i]].next = i + 1 < nr ? t->scratch[i + 1] : NO_NODE;
	for (uint32_t c = t->nodes[n].child; c != NO_NODE; c = t->nodes[c].next) {
		int err = layout(t, d, c, depth + 1);

		if (err)
			return err;
	}
	return 0;
}

/*
 * The character at @s: returns its length in bytes (at least 1) and sets
 * *@cp to its code point, or to -1 for a byte that starts no valid UTF-8
 * sequence and for characters XML 1.0 forbids (control characters, surrogates,
 * U+FFFE/U+FFFF). @s is NUL-terminated, so reading ahead stops there.
 */
static size_t utf8_next(const unsigned char *s, int32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	int32_t v, min;

	*cp = -1;
	if (c < 0x80) {
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = v << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past Unicode are not UTF-8. */
	if (v < min || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff || v == 0xfffe || v == 0xffff)
		return 1;
	*cp = v;
	return len;
}

/* Characters in @s, each invalid byte counting as one (it is drawn as one U+FFFD). */
static size_t text_chars(const char *s)
{
	size_t n = 0;
	int32_t cp;

	for (const unsigned char *c = (const unsigned char *)s; *c; c += utf8_next(c, &cp))
		n++;
	return n;
}

/*
 * Writes at most @max characters of @s as XML character data: markup
 * characters as entities, anything not valid in XML as U+FFFD.
 */
static void put_text(FILE *f, const char *s, size_t max)
{
	const unsigned char *c = (const unsigned char *)s;

	for (size_t i = 0; *c && i < max; i++) {
		int32_t cp;
		size_t len = utf8_next(c, &cp);

		if (cp < 0)
			fputs("\xef\xbf\xbd", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else
			fwrite(c, 1, len, f);
		c += len;
	}
}

/* A JavaScript string literal of ASCII @s; anything else as \u escapes (no "</" or "]]>"). */
static void put_js_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == ' ' || *c == '-' || *c == '.')
			fputc(*c, f);
		else
			fprintf(f, "\\u%04x", *c);
	}
	fputc('"', f);
}

/* A coordinate with at most two decimals and no trailing zeros. */
static void put_px(FILE *f, double v)
{
	char b[40];
	int n = snprintf(b, sizeof(b), "%.2f", v);

	while (n > 0 && b[n - 1] == '0')
		n--;
	if (n > 0 && b[n - 1] == '.')
		n--;
	fwrite(b, 1, (size_t)n, f);
}

/*
 * A frame's label in @width px, as the script writes it after a zoom: the
 * whole name if it fits, else its start and "..", nothing when fewer than
 * LABEL_MIN characters fit.
 */
static void put_label(FILE *f, const char *name, double width)
{
	double room = (width - 6) / CHAR_W;
	size_t fit = room > 0 ? (size_t)room : 0, n;

	if (fit < LABEL_MIN)
		return;
	n = text_chars(name);
	if (n <= fit) {
		put_text(f, name, n);
		return;
	}
	put_text(f, name, fit - 2);
	fputs("..", f);
}

static void hsl(char out[8], double h, double s, double l)
{
	double c = (1 - fabs(2 * l - 1)) * s, hp = fmod(h, 360) / 60;
	double x = c * (1 - fabs(fmod(hp, 2) - 1)), m = l - c / 2, r = 0, g = 0, b = 0;

	if (hp < 1)
		r = c, g = x;
	else if (hp < 2)
		r = x, g = c;
	else if (hp < 3)
		g = c, b = x;
	else if (hp < 4)
		g = x, b = c;
	else if (hp < 5)
		r = x, b = c;
	else
		r = c, b = x;
	snprintf(out, 8, "#%02x%02x%02x", (unsigned int)lround((r + m) * 255),
		 (unsigned int)lround((g + m) * 255), (unsigned int)lround((b + m) * 255));
}

/*
 * A frame's colour: a family of hues per kind of frame (warm for user code,
 * blue-green for the kernel, green for inlined code, violet for labels,
 * grey for unknown frames) and a shade within it from a hash of the name,
 * so a function has the same colour wherever it appears and in every graph.
 */
static void kind_colour(char out[8], enum node_kind k, const char *name)
{
	uint64_t h = hash__mix64(hash__str(name, strlen(name)));
	double a = (double)(h & 0xffff) / 0xffff, b = (double)(h >> 16 & 0xffff) / 0xffff;

	switch (k) {
	case K_USER:
		hsl(out, 8 + 42 * a, 0.78, 0.56 + 0.1 * b);
		break;
	case K_KERNEL:
		hsl(out, 180 + 35 * a, 0.55, 0.58 + 0.1 * b);
		break;
	case K_INLINE:
		hsl(out, 75 + 40 * a, 0.5, 0.55 + 0.1 * b);
		break;
	case K_LABEL:
		hsl(out, 255 + 30 * a, 0.45, 0.68 + 0.08 * b);
		break;
	case K_UNKNOWN:
		hsl(out, 0, 0, 0.68 + 0.1 * b);
		break;
	case K_PROCESS:
		hsl(out, 40, 0.3, 0.72);
		break;
	default:
		hsl(out, 0, 0, 0.8);
		break;
	}
}

/* Differential: white when the share did not change, red as it grew, blue as it shrank. */
static void change_colour(char out[8], double delta, double full)
{
	double s = fmin(1, fabs(delta) / full);
	unsigned int fade = (unsigned int)lround(190 * s);

	if (delta > 0)
		snprintf(out, 8, "#ff%02x%02x", 255 - fade, 255 - fade);
	else
		snprintf(out, 8, "#%02x%02xff", 255 - fade, (unsigned int)lround(255 - 150 * s));
}

static double row_y(const struct tree *t, const struct draw *d, uint32_t depth)
{
	return TOP + (double)(d->o->reverse ? depth : t->max_depth - depth) * ROW;
}

static void draw_node(const struct tree *t, const struct draw *d, uint32_t n, uint32_t depth,
		      uint64_t offset)
{
	const struct node *node = &t->nodes[n];
	const char *name = t->names[node->name];
	double x = PAD + (double)offset * d->scale, w = (double)node->val * d->scale;
	double y = row_y(t, d, depth);
	uint64_t o = offset;
	char fill[8];

	if (d->diff)
		change_colour(fill, change(d, node), fmax(t->max_change, DIFF_FULL_MIN));
	else
		kind_colour(fill, (enum node_kind)node->kind, name);
	fprintf(d->f, "<g class=\"%s\" data-v=\"%" PRIu64 "\" data-o=\"%" PRIu64 "\"",
		kind_names[node->kind], node->val, offset);
	if (d->diff)
		fprintf(d->f, " data-b=\"%" PRIu64 "\"", node->base);
	fputs("><title>", d->f);
	put_text(d->f, name, SIZE_MAX);
	fputs("</title><rect x=\"", d->f);
	put_px(d->f, x);
	fprintf(d->f, "\" y=\"%g\" width=\"", y);
	put_px(d->f, w);
	fprintf(d->f, "\" height=\"%d\" fill=\"%s\"/>", ROW - 1, fill);
	if ((w - 6) / CHAR_W >= LABEL_MIN) {
		fputs("<text x=\"", d->f);
		put_px(d->f, x + 3);
		fprintf(d->f, "\" y=\"%g\">", y + 11.5);
		put_label(d->f, name, w);
		fputs("</text>", d->f);
	}
	fputs("</g>\n", d->f);
	/* Drawn children side by side from the left; what is left over is the node's own. */
	for (uint32_t c = node->child; c != NO_NODE; c = t->nodes[c].next) {
		if (!t->nodes[c].shown)
			continue;
		draw_node(t, d, c, depth + 1, o);
		o += t->nodes[c].val;
	}
}

/* A value as a person reads it, by its unit: "1,234 samples", "2.51 s", "3.0 MiB". */
static void format_value(char *buf, size_t len, uint64_t v, const struct report_value *rv)
{
	static const char *const time_units[] = { "ns", "\xc2\xb5s", "ms", "s" };
	static const char *const byte_units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)v;
	int i = 0;

	if (!strcmp(rv->unit, "nanoseconds") || !strcmp(rv->unit, "microseconds")) {
		if (!strcmp(rv->unit, "microseconds"))
			x *= 1000;
		for (; x >= 1000 && i < 3; i++)
			x /= 1000;
		snprintf(buf, len, i ? "%.3g %s" : "%.0f %s", x, time_units[i]);
	} else if (!strcmp(rv->unit, "bytes")) {
		for (; x >= 1024 && i < 4; i++)
			x /= 1024;
		snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", x, byte_units[i]);
	} else {
		char digits[32], *p = buf;
		int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);

		/* Thousands separated, as the script shows them too. */
		for (int j = 0; j < n && (size_t)(p - buf) + 2 < len; j++) {
			if (j && (n - j) % 3 == 0)
				*p++ = ',';
			*p++ = digits[j];
		}
		snprintf(p, len - (size_t)(p - buf), " %s",
			 strcmp(rv->type, "samples") && rv->type[0] ? rv->type : "samples");
	}
}

static void put_config(FILE *f, const struct tree *t, const struct draw *d,
		       const struct report_value *rv)
{
	fprintf(f, "var spConfig = {total: %" PRIu64 ", totalBase: %" PRIu64 ", diff: %s, "
		   "reverse: %s, pad: %d, row: %d, top: %d, maxDepth: %u, width: %u, "
		   "charW: %g, labelMin: %d, unit: ",
		d->total, d->total_base, d->diff ? "true" : "false",
		d->o->reverse ? "true" : "false", PAD, ROW, TOP, t->max_depth,
		d->o->width ? d->o->width : SVG_DEFAULT_WIDTH, CHAR_W, LABEL_MIN);
	put_js_string(f, rv->unit);
	fputs(", type: ", f);
	put_js_string(f, rv->type);
	fputs("};\n", f);
}

static void put_legend(FILE *f, const struct draw *d, double y)
{
	static const enum node_kind kinds[] = { K_USER, K_KERNEL, K_INLINE, K_LABEL, K_UNKNOWN };
	static const char *const changes[] = { "share grew", "unchanged", "share shrank" };
	double x = PAD;
	char fill[8];

	for (size_t i = 0; i < (d->diff ? 3 : 5); i++) {
		const char *text = d->diff ? changes[i] : kind_names[kinds[i]];

		if (d->diff)
			change_colour(fill, 1.0 - (double)i, 1);
		else
			kind_colour(fill, kinds[i], text);
		fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"12\" fill=\"%s\" "
			   "stroke=\"#999\"/><text class=\"legend\" x=\"%g\" y=\"%g\">%s</text>\n",
			x, y, fill, x + 16, y + 10, text);
		x += 16 + CHAR_W * (double)strlen(text) + 18;
	}
}

static void put_header(FILE *f, const struct report *r, const struct draw *d, unsigned int width,
		       double height)
{
	const struct report_value *rv = &r->values[d->o->value];
	char total[64], before[64];

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
		   "height=\"%g\" viewBox=\"0 0 %u %g\" class=\"%s\">\n",
		width, height, width, height, d->diff ? "flamegraph diff" : "flamegraph");
	/* Shapes only: the script draws its controls in the same font. */
	fputs("<style>\n"
	      "text { font: 12px monospace; fill: #000; }\n"
	      "#frames text { pointer-events: none; }\n"
	      "#frames g { cursor: pointer; }\n"
	      "#frames g:hover rect { stroke: #000; stroke-width: 0.5; }\n"
	      "#frames g.anc rect { opacity: 0.6; }\n"
	      "#frames g.hid { display: none; }\n"
	      ".title { font-size: 17px; text-anchor: middle; }\n"
	      ".sub { fill: #555; text-anchor: middle; }\n"
	      ".legend { fill: #333; }\n"
	      "</style>\n", f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"%s\"/>\n",
		d->diff ? "#f4f4f4" : "#fdf8ee");
	fprintf(f, "<text class=\"title\" x=\"%g\" y=\"24\">", width / 2.0);
	put_text(f, d->o->title ? d->o->title
				: d->diff ? "Differential flame graph" : "Flame graph",
		 SIZE_MAX);
	fprintf(f, "</text>\n<text class=\"sub\" x=\"%g\" y=\"42\">", width / 2.0);
	format_value(total, sizeof(total), d->total, rv);
	if (d->diff) {
		format_value(before, sizeof(before), d->total_base, rv);
		fputs("before: ", f);
		if (d->o->diff_base->meta.targets) {
			put_text(f, d->o->diff_base->meta.targets, SIZE_MAX);
			fputs(", ", f);
		}
		put_text(f, before, SIZE_MAX);
		fputs("; after: ", f);
		if (r->meta.targets) {
			put_text(f, r->meta.targets, SIZE_MAX);
			fputs(", ", f);
		}
		put_text(f, total, SIZE_MAX);
		fputs(". Widths: after; colour: change of share", f);
	} else {
		if (r->meta.targets) {
			put_text(f, r->meta.targets, SIZE_MAX);
			fputs(": ", f);
		}
		fputs("total ", f);
		put_text(f, total, SIZE_MAX);
		/* A count names its type already ("1,234 samples"); a time or a size does not. */
		if (strcmp(rv->unit, "count")) {
			fputs(" of ", f);
			put_text(f, rv->type, SIZE_MAX);
		}
		if (r->meta.events) {
			fputs(", event ", f);
			put_text(f, r->meta.events, SIZE_MAX);
		}
	}
	fputs("</text>\n", f);
}

int report__write_svg(FILE *f, const struct report *r, const struct svg_opts *o)
{
	unsigned int width = o->width ? o->width : SVG_DEFAULT_WIDTH;
	struct draw d = { .f = f, .o = o, .min_w = o->min_width > 0 ? o->min_width : 0 };
	struct tree t = { 0 };
	double height;
	int err = -ENOMEM;

	if (o->value >= r->nr_values || (o->diff_base && o->value >= o->diff_base->nr_values))
		return -EINVAL;
	if (width <= 2 * PAD)
		return -EINVAL;
	t.children = u64map__new();
	t.name_ids = u64map__new();
	if (!t.children || !t.name_ids)
		goto out;
	if (new_node(&t, intern(&t, "all"), K_ROOT) == NO_NODE)
		goto out;
	err = tree_add(&t, r, o->value, false);
	if (!err && o->diff_base)
		err = tree_add(&t, o->diff_base, o->value, true);
	if (err)
		goto out;
	d.diff = o->diff_base != NULL;
	d.total = t.nodes[0].val;
	d.total_base = t.nodes[0].base;
	d.scale = d.total ? (double)(width - 2 * PAD) / (double)d.total : 0;
	err = layout(&t, &d, 0, 0);
	if (err)
		goto out;

	height = TOP + (double)(t.max_depth + 1) * ROW + BOTTOM;
	put_header(f, r, &d, width, height);
	fputs("<g id=\"frames\">\n", f);
	if (d.total)
		draw_node(&t, &d, 0, 0, 0);
	else
		fprintf(f, "<text x=\"%d\" y=\"%d\">no samples</text>\n", PAD, TOP + 12);
	fputs("</g>\n", f);
	put_legend(f, &d, height - BOTTOM + 14);
	fputs("<script type=\"text/ecmascript\"><![CDATA[\n", f);
	put_config(f, &t, &d, &r->values[o->value]);
	fputs((const char *)report_svg_script, f);
	fputs("]]></script>\n</svg>\n", f);
	err = ferror(f) ? -EIO : 0;
out:
	u64map__delete(t.children);
	u64map__delete(t.name_ids);
	free(t.nodes);
	free(t.names);
	free(t.scratch);
	return err;
}

int svg__parse_option(const char *who, const char *name, const char *arg, struct svg_opts *o)
{
	uint64_t v;
	char *end;

	if (!strcmp(name, "title")) {
		o->title = arg;
	} else if (!strcmp(name, "reverse")) {
		o->reverse = true;
	} else if (!strcmp(name, "width")) {
		if (parse__u64(arg, 100, 100000, &v)) {
			pr_warn("%s: bad value '%s' for --width: expected a number of pixels from 100 "
				"to 100000",
				who, arg);
			return -EINVAL;
		}
		o->width = (unsigned int)v;
	} else if (!strcmp(name, "min-width")) {
		errno = 0;
		o->min_width = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(o->min_width) || o->min_width < 0 ||
		    o->min_width > 1000) {
			pr_warn("%s: bad value '%s' for --min-width: expected pixels from 0 to 1000, "
				"e.g. 0.5",
				who, arg);
			return -EINVAL;
		}
	} else {
		return -EINVAL;
	}
	return 0;
}

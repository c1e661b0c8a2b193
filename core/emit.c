/* Emitters: folded stacks (to a stream or atomically to a file) and a top-N table. */
#define _GNU_SOURCE /* asprintf */
#include "emit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "named.h"
#include "stack_table.h"
#include "symbols/syms.h"

/* Long enough for mangled C++ names; longer ones are cut. */
#define EMIT_NAME_LEN 4096

/*
 * ';' separates frames and a newline ends a record in the folded format; other
 * control characters would garble a terminal. None belong in a name, so they
 * all become '_'. Spaces stay: folded readers split on the last space.
 */
void emit__sanitize(char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == ';' || c < 0x20 || c == 0x7f)
			*s = '_';
	}
}

const char *emit__frame_name(struct syms *syms, bool kernel, uint64_t addr, bool is_leaf,
			     bool annotate, char *buf, size_t len)
{
	const char *suffix = kernel && annotate ? "_[k]" : "";
	size_t slen = strlen(suffix), n;
	const char *name;
	char hex[24];

	if (!len)
		return buf;
	if (syms) {
		name = kernel ? syms__kernel_name(syms, addr, is_leaf)
			      : syms__user_name(syms, addr, is_leaf);
	} else {
		/* No symbolizer (e.g. --no-symbols): raw addresses or locations. */
		snprintf(hex, sizeof(hex), "0x%" PRIx64, addr);
		name = hex;
	}
	if (!name)
		name = "[unknown]";
	/* Cut the name, not the suffix, so a long kernel name still reads as kernel. */
	n = strlen(name);
	if (slen >= len)
		slen = 0;
	if (n > len - 1 - slen)
		n = len - 1 - slen;
	memcpy(buf, name, n);
	memcpy(buf + n, suffix, slen);
	buf[n + slen] = '\0';
	emit__sanitize(buf);
	return buf;
}

/* Writes record the first error and then do nothing, so callers check once at the end. */
struct out {
	FILE *f;
	int err;
};

static void out_puts(struct out *o, const char *s)
{
	if (o->err)
		return;
	if (fputs(s, o->f) == EOF)
		o->err = errno ? -errno : -EIO;
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->err)
		return;
	va_start(ap, fmt);
	r = vfprintf(o->f, fmt, ap);
	va_end(ap);
	if (r < 0)
		o->err = errno ? -errno : -EIO;
}

static void out_flush(struct out *o)
{
	if (!o->err && fflush(o->f))
		o->err = errno ? -errno : -EIO;
}

/* Rounds to nearest (halves up) without overflowing near UINT64_MAX. */
static uint64_t scale(uint64_t v, uint64_t divisor)
{
	uint64_t q, r;

	if (divisor <= 1)
		return v;
	q = v / divisor;
	r = v % divisor;
	return r >= divisor - r ? q + 1 : q;
}

int emit__folded(FILE *f, const struct stack_table *t, struct syms *syms, const struct emit_opts *o)
{
	struct out out = {.f = f};
	struct named_stacks *n;
	size_t i;

	if (o->val_idx >= stack_table__nr_vals(t))
		return -EINVAL;
	n = named_stacks__new(t, syms, o->annotate);
	if (!n)
		return -errno;
	named_stacks__sort(n, o->val_idx);
	for (i = 0; i < named_stacks__nr(n) && !out.err; i++) {
		const struct named_stack *ns = named_stacks__get(n, i);
		uint64_t val = scale(ns->vals[o->val_idx], o->divisor);

		/* Sorted descending: once one rounds to 0 the rest do too. */
		if (!val)
			break;
		if (o->root_frame) {
			size_t comm_len = ns->depth ? ns->offs[0] - 1 : ns->key_len;

			out_printf(&out, "%.*s;%s%s", (int)comm_len, ns->key, o->root_frame,
				   ns->key + comm_len);
		} else {
			out_puts(&out, ns->key);
		}
		out_printf(&out, " %" PRIu64 "\n", val);
	}
	named_stacks__delete(n);
	out_flush(&out);
	return out.err;
}

struct parts_ctx {
	const struct emit_part *parts;
	size_t nr;
	struct syms *syms;
};

static int folded_parts(FILE *f, void *ctx)
{
	const struct parts_ctx *c = ctx;
	int err = 0;

	for (size_t i = 0; i < c->nr && !err; i++)
		err = emit__folded(f, c->parts[i].table, c->syms, &c->parts[i].opts);
	return err;
}

/* For targets rename cannot replace (a FIFO, a terminal, /dev/stdout): plain writes. */
static int write_in_place(const char *path, int (*write)(FILE *f, void *ctx), void *ctx)
{
	FILE *f = fopen(path, "we");
	int err;

	if (!f)
		return -errno;
	err = write(f, ctx);
	if (fclose(f) && !err)
		err = errno ? -errno : -EIO;
	return err;
}

static const char *write_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return " (does the directory exist?)";
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return " (is the directory writable?)";
	case -ENOSPC:
	case -EDQUOT:
		return " (disk full?)";
	default:
		return "";
	}
}

int emit__folded_path(const char *path, const struct stack_table *t, struct syms *syms,
		      const struct emit_opts *o)
{
	struct emit_part part = { .table = t, .opts = *o };

	return emit__folded_parts_path(path, &part, 1, syms);
}

int emit__folded_parts_path(const char *path, const struct emit_part *parts, size_t nr,
			    struct syms *syms)
{
	struct parts_ctx c = { .parts = parts, .nr = nr, .syms = syms };

	return emit__write_path("folded", path, folded_parts, &c);
}

int emit__write_path(const char *what, const char *path, int (*write)(FILE *f, void *ctx),
		     void *ctx)
{
	const char *target = path;
	char *real = NULL, *tmp = NULL;
	struct stat st;
	FILE *f;
	int fd, err;

	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		err = write_in_place(path, write, ctx);
		if (err)
			goto out_warn;
		return 0;
	}
	/* Replace what a symlink points to, not the link itself. */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode)) {
		real = realpath(path, NULL);
		if (real)
			target = real;
	}
	/* Next to the target so that rename stays within one filesystem. */
	if (asprintf(&tmp, "%s.tmp.%d", target, (int)getpid()) < 0) {
		tmp = NULL;
		err = -ENOMEM;
		goto out_warn;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		/* Left over by an earlier run that had our pid and crashed. */
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	}
	if (fd < 0) {
		err = -errno;
		goto out_warn;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto out_unlink;
	}
	err = write(f, ctx);
	/*
	 * Data on disk before the rename, so a crash leaves the old file or the
	 * new one: stdio's buffer first, then the file.
	 */
	if (!err && (fflush(f) || fsync(fileno(f))))
		err = -errno;
	if (fclose(f) && !err)
		err = errno ? -errno : -EIO;
	if (err)
		goto out_unlink;
	if (rename(tmp, target)) {
		err = -errno;
		goto out_unlink;
	}
	free(tmp);
	free(real);
	return 0;

out_unlink:
	unlink(tmp);
out_warn:
	pr_warn("%s: cannot write %s: %s%s", what, path, strerror(-err), write_hint(err));
	free(tmp);
	free(real);
	return err;
}

/* A growable line buffer for the table, which must see a whole row to cut it. */
struct line {
	char *s;
	size_t len, cap;
	int err;
};

static void line_add(struct line *l, const char *s, size_t n)
{
	if (l->err)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		char *p;

		while (l->len + n + 1 > cap)
			cap *= 2;
		p = realloc(l->s, cap);
		if (!p) {
			l->err = -ENOMEM;
			return;
		}
		l->s = p;
		l->cap = cap;
	}
	memcpy(l->s + l->len, s, n);
	l->len += n;
	l->s[l->len] = '\0';
}

static void line_printf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_printf(struct line *l, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		l->err = -EINVAL;
	else
		line_add(l, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/*
 * Writes the line, cut to @width columns with "..." at the end. A byte is
 * taken as a column; the cut backs off to a UTF-8 character boundary.
 */
static void line_flush(struct line *l, struct out *o, unsigned int width)
{
	size_t keep;

	if (l->err && !o->err)
		o->err = l->err;
	if (o->err)
		return;
	if (width && l->len > width) {
		if (width <= 3) {
			l->len = 0;
			line_add(l, "...", width);
		} else {
			keep = width - 3;
			while (keep > 0 && ((unsigned char)l->s[keep] & 0xc0) == 0x80)
				keep--;
			l->len = keep;
			line_add(l, "...", 3);
		}
	}
	line_add(l, "\n", 1);
	if (l->err)
		o->err = l->err;
	else if (fwrite(l->s, 1, l->len, o->f) != l->len)
		o->err = errno ? -errno : -EIO;
	l->len = 0;
	if (l->s)
		l->s[0] = '\0';
}

static double percent(uint64_t v, uint64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

/* The extra columns @o names that @t has, in order. */
static unsigned int extra_columns(const struct stack_table *t, const struct emit_opts *o)
{
	unsigned int n = 0;

	while (n < EMIT_MAX_EXTRA && o->extra[n].unit && o->extra[n].idx < stack_table__nr_vals(t))
		n++;
	return n;
}

static int column_width(const char *unit)
{
	return strlen(unit) > 10 ? (int)strlen(unit) : 10;
}

/* Whether a row has anything to show in the columns printed. */
static bool row_shown(const struct named_stack *ns, const struct emit_opts *o, unsigned int nx)
{
	if (ns->vals[o->val_idx])
		return true;
	for (unsigned int i = 0; i < nx; i++)
		if (ns->vals[o->extra[i].idx])
			return true;
	return false;
}

int emit__table(FILE *f, const struct stack_table *t, struct syms *syms, const struct emit_opts *o)
{
	const char *unit = o->unit ? o->unit : "VALUE";
	int wv = column_width(unit);
	char name[EMIT_NAME_LEN];
	uint64_t total, rest = 0, dropped = stack_table__dropped(t);
	size_t n, i, shown = 0, nr_rest = 0, nr_rows = 0;
	struct out out = {.f = f};
	struct line line = {0};
	struct named_stacks *named;
	unsigned int nx = extra_columns(t, o);

	if (o->val_idx >= stack_table__nr_vals(t))
		return -EINVAL;
	named = named_stacks__new(t, syms, o->annotate);
	if (!named)
		return -errno;
	named_stacks__sort(named, o->val_idx);
	n = named_stacks__nr(named);
	total = named_stacks__total(named, o->val_idx);
	/* Counters that went back to 0 (e.g. every allocation freed) are no stacks. */
	for (i = 0; i < n; i++)
		nr_rows += row_shown(named_stacks__get(named, i), o, nx);

	if (!nr_rows) {
		line_printf(&line, "no stacks were recorded");
		line_flush(&line, &out, o->width);
		goto out_dropped;
	}

	line_printf(&line, "%*s", wv, unit);
	for (unsigned int x = 0; x < nx; x++)
		line_printf(&line, " %*s", column_width(o->extra[x].unit), o->extra[x].unit);
	line_printf(&line, " %7s %-15s %s", "%", "COMM", "STACK");
	line_flush(&line, &out, o->width);

	for (i = 0; i < n && !out.err; i++) {
		const struct named_stack *ns = named_stacks__get(named, i);
		const uint64_t *vals = ns->vals;
		uint32_t j;

		if (!row_shown(ns, o, nx))
			continue;
		if (o->top && shown == o->top) {
			nr_rest++;
			rest += vals[o->val_idx];
			continue;
		}
		shown++;
		line_printf(&line, "%*" PRIu64, wv, scale(vals[o->val_idx], o->divisor));
		for (unsigned int x = 0; x < nx; x++)
			line_printf(&line, " %*" PRIu64, column_width(o->extra[x].unit),
				    vals[o->extra[x].idx]);
		/* The comm is the key up to the first frame. */
		line_printf(&line, " %6.2f%% %-15.*s ", percent(vals[o->val_idx], total),
			    (int)(ns->depth ? ns->offs[0] - 1 : ns->key_len), ns->key);
		if (!ns->depth)
			line_printf(&line, "[no stack]");
		/* Leaf first, so the hot function leads even when the line is cut. */
		for (j = ns->depth; j-- > 0;) {
			const char *s = named_stack__frame(ns, j, name, sizeof(name));

			if (j + 1 < ns->depth)
				line_add(&line, " <- ", 4);
			line_add(&line, s, strlen(s));
		}
		line_flush(&line, &out, o->width);
	}
	if (nr_rest) {
		line_printf(&line, "... %zu more stack%s (%.2f%% of total)", nr_rest,
			    nr_rest == 1 ? "" : "s", percent(rest, total));
		line_flush(&line, &out, o->width);
	}
out_dropped:
	if (dropped) {
		line_printf(&line, "... %" PRIu64 " event%s not counted: the stack table was full",
			    dropped, dropped == 1 ? "" : "s");
		line_flush(&line, &out, o->width);
	}
	free(line.s);
	named_stacks__delete(named);
	out_flush(&out);
	return out.err;
}

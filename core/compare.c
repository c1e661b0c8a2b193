/*
 * stackprof compare: two profiles side by side. Each is read into a stack
 * table (folded stacks or perf script text), its stacks named and
 * normalized the same way (process name without pid, no "+0x" offsets, no
 * "_[k]"-style marks), and turned into distributions: stacks, functions'
 * self shares, functions' inclusive shares. docs/perf-script.md defines the
 * similarity scores.
 */
#include "tools.h"
#include "emit.h"
#include "hash.h"
#include "log.h"
#include "named.h"
#include "parse.h"
#include "stack_table.h"
#include "textin.h"
#include "symbols/syms.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOP 20

/* A string-keyed table of counters for both profiles. */
struct entry {
	char *key;
	uint64_t a, b;		 /* stacks: samples; functions: self samples */
	uint64_t incl_a, incl_b; /* functions: samples of stacks holding them */
	uint64_t seen;		 /* functions: the last stack counted, not to count twice */
};

struct strmap {
	struct entry *v;
	size_t nr, cap;
	uint32_t *slots; /* index + 1 */
	size_t nr_slots;
};

static int strmap_grow(struct strmap *m)
{
	size_t nr = m->nr_slots ? 2 * m->nr_slots : 1024;
	uint32_t *slots = calloc(nr, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->nr; i++) {
		size_t j = hash__mix64(hash__str(m->v[i].key, strlen(m->v[i].key))) & (nr - 1);

		while (slots[j])
			j = (j + 1) & (nr - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->nr_slots = nr;
	return 0;
}

/* The entry for @key (@len bytes), created zeroed if absent. NULL when out of memory. */
static struct entry *strmap_get(struct strmap *m, const char *key, size_t len)
{
	size_t j;

	if ((m->nr + 1) * 4 > m->nr_slots * 3 && strmap_grow(m))
		return NULL;
	j = hash__mix64(hash__str(key, len)) & (m->nr_slots - 1);
	while (m->slots[j]) {
		struct entry *e = &m->v[m->slots[j] - 1];

		if (!strncmp(e->key, key, len) && !e->key[len])
			return e;
		j = (j + 1) & (m->nr_slots - 1);
	}
	if (m->nr == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct entry *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		m->v = v;
		m->cap = cap;
	}
	memset(&m->v[m->nr], 0, sizeof(m->v[0]));
	m->v[m->nr].key = strndup(key, len);
	if (!m->v[m->nr].key)
		return NULL;
	m->slots[j] = (uint32_t)++m->nr;
	return &m->v[m->nr - 1];
}

static void strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->nr; i++)
		free(m->v[i].key);
	free(m->v);
	free(m->slots);
}

/* Length of @f (@n bytes) without a "+0x..." suffix; @n when there is none. */
static size_t strip_offset(const char *f, size_t n)
{
	for (size_t i = n; i > 3; i--) {
		char c = f[i - 1];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			continue;
		if (i < n && c == 'x' && f[i - 2] == '0' && f[i - 3] == '+')
			return i - 3;
		break;
	}
	return n;
}

/*
 * Frame text as both tools would name it, written to @out (@n bytes at
 * most): no "_[k]"-style mark, no "+0x..." offset (also inside an unknown
 * frame's brackets, "[libc.so.6+0x2724a]" -> "[libc.so.6]"), no symbol
 * version ("clock_gettime@@GLIBC_2.17" -> "clock_gettime"). Returns its length.
 */
static size_t norm_frame(const char *f, size_t n, char *out)
{
	size_t k, at;

	if (n > 4 && f[n - 4] == '_' && f[n - 3] == '[' && f[n - 1] == ']')
		n -= 4;
	if (n > 1 && f[0] == '[' && f[n - 1] == ']') {
		k = strip_offset(f, n - 1);
		memcpy(out, f, k);
		out[k++] = ']';
		return k;
	}
	n = strip_offset(f, n);
	/* A version: '@' or "@@", then an upper-case name of letters, digits, '_' and '.'. */
	for (at = n; at > 1 && f[at - 1] != '@'; at--)
		;
	if (at > 1 && at < n && f[at] >= 'A' && f[at] <= 'Z') {
		size_t i = at;

		while (i < n && ((f[i] >= 'A' && f[i] <= 'Z') || (f[i] >= '0' && f[i] <= '9') ||
				 f[i] == '_' || f[i] == '.'))
			i++;
		if (i == n) {
			n = at - 1;
			if (n > 1 && f[n - 1] == '@')
				n--;
		}
	}
	memcpy(out, f, n);
	return n;
}

/* The process name without a "-PID" or "-PID/TID" (or "-?") suffix. */
static size_t norm_root(const char *f, size_t n)
{
	size_t i = n;

	while (i > 0 && ((f[i - 1] >= '0' && f[i - 1] <= '9') || f[i - 1] == '/' ||
			 f[i - 1] == '?'))
		i--;
	if (i < n && i > 1 && f[i - 1] == '-')
		return i - 1;
	return n;
}

struct profile {
	const char *path;
	struct textin_result res;
	uint64_t total;
	size_t nr_stacks;
};

/* Adds one named stack of profile @which (0 = A) to the stack and function tables. */
static int add_stack(struct strmap *stacks, struct strmap *funcs, int which, const char *key,
		     uint64_t count, uint64_t stack_id)
{
	char norm[16384];
	size_t len = 0, nf = 0;
	const char *s = key;
	struct entry *e;

	/* Normalized key: frames joined by ';'. */
	while (*s) {
		const char *end = strchr(s, ';');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		size_t k;

		if (len + n + 2 > sizeof(norm))
			break;
		if (nf)
			norm[len++] = ';';
		if (nf) {
			k = norm_frame(s, n, norm + len);
		} else {
			k = norm_root(s, n);
			memcpy(norm + len, s, k);
		}
		for (size_t i = len; i < len + k; i++)
			if (norm[i] == ' ')
				norm[i] = '_';
		len += k;
		norm[len] = '\0';
		/* Functions: every frame but the process name, counted once per stack. */
		if (nf) {
			const char *fn = norm + len - k;

			e = strmap_get(funcs, fn, k);
			if (!e)
				return -ENOMEM;
			if (e->seen != stack_id) {
				e->seen = stack_id;
				*(which ? &e->incl_b : &e->incl_a) += count;
			}
			if (!end)
				*(which ? &e->b : &e->a) += count;
		}
		nf++;
		if (!end)
			break;
		s = end + 1;
	}
	e = strmap_get(stacks, norm, len);
	if (!e)
		return -ENOMEM;
	*(which ? &e->b : &e->a) += count;
	return 0;
}

static int load(struct profile *p, int which, struct strmap *stacks, struct strmap *funcs,
		uint64_t *stack_id)
{
	struct perfscript_opts o = { 0 };
	struct stack_table *t = stack_table__new(1, 0);
	struct syms *syms = syms__new(NULL);
	struct named_stacks *n = NULL;
	int err = -ENOMEM;

	if (!t || !syms)
		goto out;
	err = textin__read("compare", p->path, TEXTIN_AUTO, &o, false, syms, t, &p->res);
	if (err)
		goto out;
	/* An empty profile is an error of its own, which says why (compare__main). */
	if (p->res.st.samples)
		textin__warn_malformed("compare", p->path, &p->res.st, true, "compare");
	n = named_stacks__new(t, syms, false);
	if (!n) {
		err = -errno;
		goto out;
	}
	p->nr_stacks = named_stacks__nr(n);
	for (size_t i = 0; i < named_stacks__nr(n) && !err; i++) {
		const struct named_stack *ns = named_stacks__get(n, i);

		p->total += ns->vals[0];
		err = add_stack(stacks, funcs, which, ns->key, ns->vals[0], ++*stack_id);
	}
	if (err == -ENOMEM)
		pr_warn("compare: out of memory reading %s", p->path);
out:
	named_stacks__delete(n);
	stack_table__delete(t);
	syms__delete(syms);
	return err;
}

static double share(uint64_t v, uint64_t total)
{
	return total ? (double)v / (double)total : 0.0;
}

struct diff_ctx {
	struct strmap *stacks;
	struct entry **sorted;
};

static int cmp_key(const void *x, const void *y)
{
	return strcmp((*(struct entry *const *)x)->key, (*(struct entry *const *)y)->key);
}

static int write_diff(FILE *f, void *ctx)
{
	const struct diff_ctx *c = ctx;

	for (size_t i = 0; i < c->stacks->nr; i++)
		if (fprintf(f, "%s %" PRIu64 " %" PRIu64 "\n", c->sorted[i]->key, c->sorted[i]->a,
			    c->sorted[i]->b) < 0)
			return errno ? -errno : -EIO;
	return fflush(f) ? -errno : 0;
}

static const struct profile *sort_a, *sort_b;

/* Largest difference of inclusive share first, then by name. */
static int cmp_func(const void *x, const void *y)
{
	const struct entry *e = *(struct entry *const *)x, *g = *(struct entry *const *)y;
	double de = fabs(share(e->incl_a, sort_a->total) - share(e->incl_b, sort_b->total));
	double dg = fabs(share(g->incl_a, sort_a->total) - share(g->incl_b, sort_b->total));

	if (de != dg)
		return de < dg ? 1 : -1;
	return strcmp(e->key, g->key);
}

static const char *kind_name(enum textin_kind k)
{
	return k == TEXTIN_PERF_SCRIPT ? "perf script" : "folded";
}

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: stackprof compare [options] A B\n\n"
		"Compares two profiles (folded stacks or perf script output, plain or gzip):\n"
		"similarity scores from 0 to 1, and the functions whose share differs most.\n\n"
		"  --diff             write \"stack count_a count_b\" lines (differential flame\n"
		"                     graphs) instead of the report\n"
		"  --top N            functions in the report (20, 0 = all)\n"
		"  -o, --output FILE  write to FILE (replaced when complete) instead of stdout\n\n"
		"Examples:\n"
		"  stackprof compare perf.txt stackprof.folded\n"
		"  stackprof compare --diff a.folded b.folded > diff.folded\n");
}

struct report_ctx {
	const struct profile *a, *b;
	struct strmap *stacks, *funcs;
	unsigned int top;
};

/* A score in [0, 1]: sums of rounded shares may stray past either end (never "-0.000"). */
static double score(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static int report(FILE *f, void *ctx)
{
	const struct report_ctx *c = ctx;
	const struct profile *a = c->a, *b = c->b;
	struct strmap *stacks = c->stacks, *funcs = c->funcs;
	unsigned int top = c->top;
	double tv = 0, tv_self = 0, incl_min = 0, incl_max = 0;
	struct entry **fs;

	for (size_t i = 0; i < stacks->nr; i++)
		tv += fabs(share(stacks->v[i].a, a->total) - share(stacks->v[i].b, b->total));
	for (size_t i = 0; i < funcs->nr; i++) {
		const struct entry *e = &funcs->v[i];
		double ia = share(e->incl_a, a->total), ib = share(e->incl_b, b->total);

		tv_self += fabs(share(e->a, a->total) - share(e->b, b->total));
		incl_min += fmin(ia, ib);
		incl_max += fmax(ia, ib);
	}
	fprintf(f, "# compare: A = %s (%s, weight %" PRIu64 ", %zu stacks); B = %s (%s, weight %" PRIu64
	       ", %zu stacks)\n",
	       a->path, kind_name(a->res.kind), a->total, a->nr_stacks, b->path,
	       kind_name(b->res.kind), b->total, b->nr_stacks);
	fprintf(f, "similarity: stacks %.3f, self %.3f, inclusive %.3f (1 = the same distribution)\n",
	       score(1 - tv / 2), score(1 - tv_self / 2),
	       score(incl_max > 0 ? incl_min / incl_max : 1));
	fs = malloc((funcs->nr ? funcs->nr : 1) * sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	for (size_t i = 0; i < funcs->nr; i++)
		fs[i] = &funcs->v[i];
	sort_a = a;
	sort_b = b;
	qsort(fs, funcs->nr, sizeof(*fs), cmp_func);
	fprintf(f, "# functions whose share differs most (percent of each profile's samples)\n");
	fprintf(f, "%8s %8s %8s %8s %8s  %s\n", "A-INCL%", "B-INCL%", "DIFF", "A-SELF%", "B-SELF%",
	       "FUNCTION");
	for (size_t i = 0; i < funcs->nr && (!top || i < top); i++) {
		const struct entry *e = fs[i];
		double ia = 100 * share(e->incl_a, a->total), ib = 100 * share(e->incl_b, b->total);

		fprintf(f, "%8.2f %8.2f %+8.2f %8.2f %8.2f  %s\n", ia, ib, ib - ia,
		       100 * share(e->a, a->total), 100 * share(e->b, b->total), e->key);
	}
	free(fs);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

int compare__main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "diff", no_argument, NULL, 'D' },
		{ "top", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct strmap stacks = { 0 }, funcs = { 0 };
	struct profile prof[2] = { { 0 } };
	unsigned int top = DEFAULT_TOP;
	const char *output = NULL;
	bool diff = false;
	uint64_t v, stack_id = 0;
	int c, err, rc = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:vh", longs, NULL)) != -1) {
		switch (c) {
		case 'D':
			diff = true;
			break;
		case 'T':
			if (parse__u64(optarg, 0, 1000000, &v)) {
				pr_warn("compare: bad value '%s' for --top: expected a number of rows",
					optarg);
				return 2;
			}
			top = (unsigned int)v;
			break;
		default:
			err = tools__common_option("compare", c, argv, &output, compare_usage);
			if (err)
				return err == 1 ? 0 : 2;
			break;
		}
	}
	if (argc - optind != 2) {
		pr_warn("compare: give two profiles, A and B (see 'stackprof compare --help')");
		return 2;
	}
	if (output && tools__check_output("compare", output))
		return 2;
	prof[0].path = argv[optind];
	prof[1].path = argv[optind + 1];
	for (int i = 0; i < 2; i++)
		if (load(&prof[i], i, &stacks, &funcs, &stack_id))
			goto out;
	for (int i = 0; i < 2; i++)
		if (!prof[i].total) {
			textin__warn_malformed("compare", prof[i].path, &prof[i].res.st, false,
					       "compare");
			goto out;
		}
	if (diff) {
		struct diff_ctx ctx = { .stacks = &stacks };

		ctx.sorted = malloc((stacks.nr ? stacks.nr : 1) * sizeof(*ctx.sorted));
		if (!ctx.sorted) {
			pr_warn("compare: out of memory");
			goto out;
		}
		for (size_t i = 0; i < stacks.nr; i++)
			ctx.sorted[i] = &stacks.v[i];
		qsort(ctx.sorted, stacks.nr, sizeof(*ctx.sorted), cmp_key);
		if (output) {
			rc = emit__write_path("compare", output, write_diff, &ctx) ? 1 : 0;
		} else {
			rc = write_diff(stdout, &ctx) ? 1 : 0;
			if (rc)
				pr_warn("compare: cannot write the output: %s", strerror(errno));
		}
		free(ctx.sorted);
		goto out;
	}
	{
		struct report_ctx ctx = { &prof[0], &prof[1], &stacks, &funcs, top };

		if (output)
			rc = emit__write_path("compare", output, report, &ctx) ? 1 : 0;
		else if ((rc = report(stdout, &ctx) ? 1 : 0))
			pr_warn("compare: cannot write the report: %s", strerror(errno));
	}
out:
	strmap_free(&stacks);
	strmap_free(&funcs);
	return rc;
}

/* The report model: stack tables named once into frames, threads and stacks (report.h). */
#include "report.h"
#include "vec.h"
#include "hash.h"
#include "stack_table.h"
#include "symbols/syms.h"
#include "symbols/u64map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct report_priv {
	struct u64map *user_frames;   /* location << 1 | not leaf -> first frame, count << 32 */
	struct u64map *kernel_frames; /* address -> frame index */
	struct u64map *label_frames;  /* text hash -> frame index (root frames) */
	struct u64map *threads;	      /* hash of pid and comm -> thread index + 1 chain head */
	uint32_t *thread_next;	      /* threads with the same hash */
	uint32_t *frame_pool;	      /* every stack's frame indices */
	size_t pool_len, pool_cap;
	size_t cap_frames, cap_threads, cap_stacks;
	char **strings; /* copies made here */
	size_t nr_strings, cap_strings;
};

static const char *keep_string(struct report *r, const char *s)
{
	struct report_priv *p = r->priv;
	char *copy;

	if (!s)
		return NULL;
	if (vec__grow((void **)&p->strings, &p->cap_strings, p->nr_strings, sizeof(*p->strings), 64))
		return NULL;
	copy = strdup(s);
	if (copy)
		p->strings[p->nr_strings++] = copy;
	return copy;
}

static int new_frame(struct report *r, const struct report_frame *f, uint32_t *idx)
{
	if (vec__grow((void **)&r->frames, &r->priv->cap_frames, r->nr_frames, sizeof(*r->frames), 64))
		return -ENOMEM;
	r->frames[r->nr_frames] = *f;
	*idx = (uint32_t)r->nr_frames++;
	return 0;
}

static int push(struct report *r, uint32_t idx)
{
	struct report_priv *p = r->priv;

	if (vec__grow((void **)&p->frame_pool, &p->pool_cap, p->pool_len, sizeof(*p->frame_pool), 64))
		return -ENOMEM;
	p->frame_pool[p->pool_len++] = idx;
	return 0;
}

/* A label frame (a part's root frame, or a label location's text). */
static int label_frame(struct report *r, const char *text, uint32_t *idx)
{
	uint64_t key = hash__mix64(hash__str(text, strlen(text))), val;
	struct report_frame f = { .kind = REPORT_FRAME_LABEL };

	for (;; key++) {
		if (!u64map__get(r->priv->label_frames, key, &val))
			break;
		if (!strcmp(r->frames[val].name, text)) {
			*idx = (uint32_t)val;
			return 0;
		}
	}
	f.name = keep_string(r, text);
	if (!f.name || new_frame(r, &f, idx))
		return -ENOMEM;
	return u64map__put(r->priv->label_frames, key, *idx);
}

static int kernel_frame(struct report *r, struct syms *syms, uint64_t addr, bool is_leaf,
			uint32_t *idx)
{
	/* A return address is named one byte back; the frame keeps the address as sampled. */
	uint64_t key = addr ^ (is_leaf ? 0 : 1ULL << 63), val;
	struct report_frame f = { .kind = REPORT_FRAME_KERNEL, .module = "[kernel.kallsyms]",
				  .address = addr };

	if (u64map__get(r->priv->kernel_frames, key, &val)) {
		*idx = (uint32_t)val;
		return 0;
	}
	f.name = syms__kernel_name(syms, addr, is_leaf);
	if (!strcmp(f.name, "[unknown]"))
		f.kind = REPORT_FRAME_UNKNOWN;
	if (new_frame(r, &f, idx))
		return -ENOMEM;
	return u64map__put(r->priv->kernel_frames, key, *idx);
}

/* The frames of user location @loc, outermost first (several with --inline). */
static int user_frames(struct report *r, struct syms *syms, uint64_t loc, bool is_leaf)
{
	const struct syms_frame *sf;
	uint32_t n, idx;
	uint64_t val;
	int err;

	if (SYMS_LOC_IS_LABEL(loc)) {
		err = label_frame(r, syms__user_name(syms, loc, is_leaf), &idx);
		return err ? err : push(r, idx);
	}
	if (u64map__get(r->priv->user_frames, loc << 1 | (uint64_t)!is_leaf, &val)) {
		/* The first of a run of frames made together, and how many: val's high half. */
		for (uint32_t j = 0; j < (uint32_t)(val >> 32); j++) {
			err = push(r, (uint32_t)val + j);
			if (err)
				return err;
		}
		return 0;
	}
	n = syms__user_frames(syms, loc, is_leaf, &sf);
	for (uint32_t j = 0; j < n; j++) {
		struct report_frame f = {
			.name = sf[j].func,
			.file = sf[j].file,
			.line = sf[j].line,
			.module = SYMS_LOC_DSO(loc) ? syms__dso_path(syms, SYMS_LOC_DSO(loc)) : NULL,
			.address = SYMS_LOC_OFF(loc),
			.kind = sf[j].inlined ? REPORT_FRAME_INLINE : REPORT_FRAME_USER,
		};

		if (!SYMS_LOC_DSO(loc) || !strcmp(f.name, "[unknown]"))
			f.kind = REPORT_FRAME_UNKNOWN;
		err = new_frame(r, &f, &idx);
		if (!err)
			err = push(r, idx);
		if (err)
			return err;
		if (j == 0)
			val = idx;
	}
	return u64map__put(r->priv->user_frames, loc << 1 | (uint64_t)!is_leaf,
			   (uint64_t)n << 32 | val);
}

static int thread_of(struct report *r, uint32_t pid, uint32_t tid, const char *comm,
		     uint32_t *idx)
{
	struct report_priv *p = r->priv;
	uint64_t key = hash__mix64(hash__str(comm, strlen(comm)) ^ pid ^ (uint64_t)tid << 32);
	uint64_t head = 0;
	uint32_t i;

	if (u64map__get(p->threads, key, &head)) {
		for (i = (uint32_t)head; i; i = p->thread_next[i - 1]) {
			if (r->threads[i - 1].pid == pid && r->threads[i - 1].tid == tid &&
			    !strcmp(r->threads[i - 1].comm, comm)) {
				*idx = i - 1;
				return 0;
			}
		}
	}
	if (r->nr_threads == p->cap_threads) {
		/* thread_next follows threads' capacity: it only grows along with it. */
		uint32_t *next;

		if (vec__grow((void **)&r->threads, &p->cap_threads, r->nr_threads,
			      sizeof(*r->threads), 64))
			return -ENOMEM;
		next = realloc(p->thread_next, p->cap_threads * sizeof(*next));
		if (!next)
			return -ENOMEM;
		p->thread_next = next;
	}
	r->threads[r->nr_threads].pid = pid;
	r->threads[r->nr_threads].tid = tid;
	r->threads[r->nr_threads].comm = keep_string(r, comm);
	if (!r->threads[r->nr_threads].comm)
		return -ENOMEM;
	p->thread_next[r->nr_threads] = (uint32_t)head;
	*idx = (uint32_t)r->nr_threads++;
	return u64map__put(p->threads, key, *idx + 1);
}

static int add_entry(struct report *r, const struct emit_part *part, const struct stack_entry *e,
		     struct syms *syms)
{
	uint32_t nk, nu, thread, root;
	const uint64_t *k = stack_entry__kernel(e, &nk), *u = stack_entry__user(e, &nu);
	const uint64_t *vals = stack_entry__vals(e);
	const char *comm = stack_entry__comm(e);
	size_t start = r->priv->pool_len;
	struct report_stack *st;
	bool any = false;
	int err;

	for (unsigned int i = 0; i < r->nr_values; i++)
		any |= vals[r->values[i].idx] != 0;
	if (!any)
		return 0;
	/* No comm: the stack carries its own root (text read from other tools). */
	if (!*comm && nu > 0)
		comm = syms__user_name(syms, u[--nu], false);
	err = thread_of(r, stack_entry__pid(e), stack_entry__tid(e), *comm ? comm : "[unknown]",
			&thread);
	if (!err && part->opts.root_frame) {
		err = label_frame(r, part->opts.root_frame, &root);
		if (!err)
			err = push(r, root);
	}
	for (uint32_t i = nu; !err && i-- > 0;)
		err = user_frames(r, syms, u[i], nk == 0 && i == 0);
	for (uint32_t i = nk; !err && i-- > 0;) {
		uint32_t idx;

		err = kernel_frame(r, syms, k[i], i == 0, &idx);
		if (!err)
			err = push(r, idx);
	}
	if (err)
		return err;
	if (vec__grow((void **)&r->stacks, &r->priv->cap_stacks, r->nr_stacks, sizeof(*r->stacks), 64))
		return -ENOMEM;
	st = &r->stacks[r->nr_stacks++];
	st->thread = thread;
	st->nr_frames = (uint32_t)(r->priv->pool_len - start);
	/* The pool may still move: offsets now, pointers once it is complete. */
	st->frames = (const uint32_t *)(uintptr_t)start;
	for (unsigned int i = 0; i < r->nr_values; i++) {
		uint64_t d = r->values[i].divisor > 1 ? r->values[i].divisor : 1;

		st->vals[i] = vals[r->values[i].idx] / d;
		r->totals[i] += st->vals[i];
	}
	return 0;
}

struct report *report__new(const struct emit_part *parts, size_t nr_parts,
			   const struct report_value *values, unsigned int nr_values,
			   struct syms *syms, const struct report_meta *meta)
{
	struct report *r = calloc(1, sizeof(*r));
	struct report_priv *p;
	int err = -ENOMEM;

	if (!r)
		return NULL;
	if (nr_values > REPORT_MAX_VALUES || !nr_values) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->priv = p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	p->user_frames = u64map__new();
	p->kernel_frames = u64map__new();
	p->label_frames = u64map__new();
	p->threads = u64map__new();
	if (!p->user_frames || !p->kernel_frames || !p->label_frames || !p->threads)
		goto out;
	if (meta)
		r->meta = *meta;
	r->nr_values = nr_values;
	memcpy(r->values, values, nr_values * sizeof(*values));
	err = 0;
	for (size_t i = 0; i < nr_parts && !err; i++) {
		struct stack_entry *e;

		stack_table__for_each(parts[i].table, e) {
			err = add_entry(r, &parts[i], e, syms);
			if (err)
				break;
		}
	}
	if (err)
		goto out;
	for (size_t i = 0; i < r->nr_stacks; i++)
		r->stacks[i].frames = p->frame_pool + (uintptr_t)r->stacks[i].frames;
	return r;
out:
	report__delete(r);
	errno = -err ? -err : ENOMEM;
	return NULL;
}

static const struct report *order_r;

static int cmp_thread(const void *a, const void *b)
{
	const struct report_thread *x = &order_r->threads[*(const uint32_t *)a];
	const struct report_thread *y = &order_r->threads[*(const uint32_t *)b];

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return strcmp(x->comm, y->comm);
}

uint32_t *report__thread_order(const struct report *r)
{
	uint32_t *order = calloc(r->nr_threads ? r->nr_threads : 1, sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < r->nr_threads; i++)
		order[i] = (uint32_t)i;
	order_r = r;
	if (r->nr_threads > 1)
		qsort(order, r->nr_threads, sizeof(*order), cmp_thread);
	return order;
}

void report__delete(struct report *r)
{
	struct report_priv *p;

	if (!r)
		return;
	p = r->priv;
	if (p) {
		u64map__delete(p->user_frames);
		u64map__delete(p->kernel_frames);
		u64map__delete(p->label_frames);
		u64map__delete(p->threads);
		free(p->thread_next);
		free(p->frame_pool);
		for (size_t i = 0; i < p->nr_strings; i++)
			free(p->strings[i]);
		free(p->strings);
		free(p);
	}
	free(r->frames);
	free(r->threads);
	free(r->stacks);
	free(r);
}

/* Stacks merged by name: one entry per distinct "comm;root;...;leaf" string, counters summed. */
#include "named.h"
#include "symbols/syms.h"
#include "hash.h"
#include "emit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 4096

struct named_stacks {
	struct named_stack *v;
	size_t nr, cap;
	uint32_t *slots; /* open addressing: index + 1, 0 = empty */
	size_t nr_slots;
	unsigned int nr_vals;
	unsigned int sort_idx;
};

/* A growable string with the frame offsets of the key being built. */
struct keybuf {
	char *s;
	size_t len, cap;
	uint32_t *offs;
	uint32_t nr_offs, cap_offs;
};

static int keybuf_add(struct keybuf *k, const char *s, size_t n)
{
	if (k->len + n + 1 > k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 512;
		char *p;

		while (k->len + n + 1 > cap)
			cap *= 2;
		p = realloc(k->s, cap);
		if (!p)
			return -ENOMEM;
		k->s = p;
		k->cap = cap;
	}
	memcpy(k->s + k->len, s, n);
	k->len += n;
	k->s[k->len] = 0;
	return 0;
}

static int keybuf_frame(struct keybuf *k, const char *name)
{
	if (k->nr_offs == k->cap_offs) {
		uint32_t cap = k->cap_offs ? k->cap_offs * 2 : 64;
		uint32_t *p = realloc(k->offs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		k->offs = p;
		k->cap_offs = cap;
	}
	if (keybuf_add(k, ";", 1))
		return -ENOMEM;
	k->offs[k->nr_offs++] = (uint32_t)k->len;
	return keybuf_add(k, name, strlen(name));
}

/* Renders entry @e as "comm;root;...;leaf" with the frame offsets. */
static int render(struct keybuf *k, const struct stack_entry *e, struct syms *syms, bool annotate)
{
	uint32_t nk, nu, i;
	const uint64_t *kernel = stack_entry__kernel(e, &nk);
	const uint64_t *user = stack_entry__user(e, &nu);
	const char *comm = stack_entry__comm(e);
	char name[NAME_LEN];
	int err = 0;

	k->len = 0;
	k->nr_offs = 0;
	if (!*comm && nu > 0) {
		/* No comm: the stack carries its own root, e.g. perf script's "comm-pid". */
		emit__frame_name(syms, false, user[--nu], false, false, name, sizeof(name));
	} else {
		snprintf(name, sizeof(name), "%s", *comm ? comm : "[unknown]");
		emit__sanitize(name);
	}
	err = keybuf_add(k, name, strlen(name));
	/* Root first: user frames from the outermost, then kernel frames down to the leaf. */
	for (i = nu; !err && i-- > 0;) {
		const struct syms_frame *fr;
		uint32_t nf;

		if (!syms || !syms__frames_on(syms)) {
			err = keybuf_frame(k, emit__frame_name(syms, false, user[i], nk == 0 && i == 0,
							       annotate, name, sizeof(name)));
			continue;
		}
		/* --inline, --srcline: one location may be several frames. */
		nf = syms__user_frames(syms, user[i], nk == 0 && i == 0, &fr);
		for (uint32_t j = 0; !err && j < nf; j++) {
			snprintf(name, sizeof(name), "%s%s", fr[j].name,
				 annotate && fr[j].inlined ? "_[i]" : "");
			emit__sanitize(name);
			err = keybuf_frame(k, name);
		}
	}
	for (i = nk; !err && i-- > 0;)
		err = keybuf_frame(k, emit__frame_name(syms, true, kernel[i], i == 0, annotate, name,
						       sizeof(name)));
	return err;
}

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = hash__str(s, n);

	return h ^ (h >> 29);
}

static int grow_slots(struct named_stacks *n)
{
	size_t nr = n->nr_slots ? n->nr_slots * 2 : 1024;
	uint32_t *slots = calloc(nr, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < n->nr; i++) {
		size_t j = hash_str(n->v[i].key, n->v[i].key_len) & (nr - 1);

		while (slots[j])
			j = (j + 1) & (nr - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(n->slots);
	n->slots = slots;
	n->nr_slots = nr;
	return 0;
}

static int add(struct named_stacks *n, const struct keybuf *k, const uint64_t *vals)
{
	size_t j;
	struct named_stack *ns;
	char *key;
	uint32_t *offs;

	if ((n->nr + 1) * 4 > n->nr_slots * 3 && grow_slots(n))
		return -ENOMEM;
	j = hash_str(k->s, k->len) & (n->nr_slots - 1);
	while (n->slots[j]) {
		ns = &n->v[n->slots[j] - 1];
		if (ns->key_len == k->len && !memcmp(ns->key, k->s, k->len)) {
			for (unsigned int i = 0; i < n->nr_vals; i++)
				ns->vals[i] += vals[i];
			return 0;
		}
		j = (j + 1) & (n->nr_slots - 1);
	}
	if (n->nr == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 256;
		struct named_stack *v = realloc(n->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		n->v = v;
		n->cap = cap;
	}
	key = malloc(k->len + 1);
	offs = malloc((k->nr_offs ? k->nr_offs : 1) * sizeof(*offs));
	if (!key || !offs) {
		free(key);
		free(offs);
		return -ENOMEM;
	}
	memcpy(key, k->s, k->len + 1);
	/* A stack of only its root has no offsets, and k->offs may then be NULL. */
	if (k->nr_offs)
		memcpy(offs, k->offs, k->nr_offs * sizeof(*offs));
	ns = &n->v[n->nr];
	memset(ns, 0, sizeof(*ns));
	ns->key = key;
	ns->key_len = k->len;
	ns->depth = k->nr_offs;
	ns->offs = offs;
	for (unsigned int i = 0; i < n->nr_vals; i++)
		ns->vals[i] = vals[i];
	n->slots[j] = (uint32_t)++n->nr;
	return 0;
}

struct named_stacks *named_stacks__new(const struct stack_table *t, struct syms *syms,
				       bool annotate)
{
	struct named_stacks *n = calloc(1, sizeof(*n));
	struct keybuf k = { 0 };
	struct stack_entry *e;
	int err = 0;

	if (!n)
		return NULL;
	n->nr_vals = stack_table__nr_vals(t);
	stack_table__for_each(t, e)
	{
		err = render(&k, e, syms, annotate);
		if (!err)
			err = add(n, &k, stack_entry__vals(e));
		if (err)
			break;
	}
	free(k.s);
	free(k.offs);
	if (err) {
		named_stacks__delete(n);
		errno = -err;
		return NULL;
	}
	return n;
}

void named_stacks__delete(struct named_stacks *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nr; i++) {
		free((char *)n->v[i].key);
		free((uint32_t *)n->v[i].offs);
	}
	free(n->v);
	free(n->slots);
	free(n);
}

static unsigned int cmp_idx;

static int cmp_named(const void *a, const void *b)
{
	const struct named_stack *x = a, *y = b;

	if (x->vals[cmp_idx] != y->vals[cmp_idx])
		return x->vals[cmp_idx] > y->vals[cmp_idx] ? -1 : 1;
	return strcmp(x->key, y->key);
}

void named_stacks__sort(struct named_stacks *n, unsigned int idx)
{
	/* The slot index is no longer needed once sorted. */
	free(n->slots);
	n->slots = NULL;
	n->nr_slots = 0;
	cmp_idx = idx;
	if (n->nr > 1) /* qsort's array may not be NULL, even when empty */
		qsort(n->v, n->nr, sizeof(*n->v), cmp_named);
	n->sort_idx = idx;
}

size_t named_stacks__nr(const struct named_stacks *n)
{
	return n->nr;
}

const struct named_stack *named_stacks__get(const struct named_stacks *n, size_t i)
{
	return i < n->nr ? &n->v[i] : NULL;
}

uint64_t named_stacks__total(const struct named_stacks *n, unsigned int idx)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n->nr; i++)
		sum += n->v[i].vals[idx];
	return sum;
}

const char *named_stack__frame(const struct named_stack *ns, uint32_t i, char *buf, size_t len)
{
	size_t start = ns->offs[i];
	size_t end = i + 1 < ns->depth ? ns->offs[i + 1] - 1 : ns->key_len;
	size_t n = end - start;

	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, ns->key + start, n);
	buf[n] = 0;
	return buf;
}

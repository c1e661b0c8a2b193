/*
 * Stack table: merging and key separation, totals, sorted order, growth
 * checked against a naive reference, the memory bound, the bound on stacks,
 * reset and depth cut.
 */
#include "core/stack_table.h"

#include <errno.h>

#include "check.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t val_of(const struct stack_entry *e, unsigned int i)
{
	return stack_entry__vals(e)[i];
}

static void test_merge_and_keys(void)
{
	struct stack_table *t = stack_table__new(2, 0);
	const uint64_t a[] = {0xa}, b[] = {0xb}, ab[] = {0xa, 0xb}, ba[] = {0xb, 0xa};
	const uint64_t one[] = {1, 10}, two[] = {2, 20};
	struct stack_entry *e;
	uint32_t nr;

	CHECK(t);
	CHECK_EQ_U64(stack_table__nr_vals(t), 2);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "app", a, 1, b, 1, one), 0);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "app", a, 1, b, 1, two), 0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 1);
	e = stack_table__find(t, 1, 0, "app", a, 1, b, 1);
	CHECK(e);
	if (e) {
		CHECK_EQ_U64(val_of(e, 0), 3);
		CHECK_EQ_U64(val_of(e, 1), 30);
		CHECK_EQ_U64(stack_entry__pid(e), 1);
		CHECK_STR(stack_entry__comm(e), "app");
		CHECK_EQ_U64(stack_entry__kernel(e, &nr)[0], 0xa);
		CHECK_EQ_U64(nr, 1);
		CHECK_EQ_U64(stack_entry__user(e, &nr)[0], 0xb);
		CHECK_EQ_U64(nr, 1);
	}

	/* The same frames split differently between kernel and user are other stacks. */
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "app", NULL, 0, ab, 2, one), 0);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "app", ab, 2, NULL, 0, one), 0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 3);
	CHECK(stack_table__find(t, 1, 0, "app", NULL, 0, ab, 2) !=
	      stack_table__find(t, 1, 0, "app", ab, 2, NULL, 0));
	/* Frame order matters. */
	CHECK(!stack_table__find(t, 1, 0, "app", NULL, 0, ba, 2));
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "app", NULL, 0, ba, 2, one), 0);
	/* Other pid, other comm, and a comm that differs past what is kept. */
	CHECK_EQ_U64(stack_table__add(t, 2, 0, "app", a, 1, b, 1, one), 0);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "app2", a, 1, b, 1, one), 0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 6);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "0123456789abcdefXX", a, 1, b, 1, one), 0);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "0123456789abcdeYY", a, 1, b, 1, one), 0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 7);
	e = stack_table__find(t, 1, 0, "0123456789abcde", a, 1, b, 1);
	CHECK(e && val_of(e, 0) == 2);
	if (e)
		CHECK_STR(stack_entry__comm(e), "0123456789abcde");
	/* An empty stack is a valid key; NULL comm is "". */
	CHECK_EQ_U64(stack_table__add(t, 3, 0, NULL, NULL, 0, NULL, 0, two), 0);
	e = stack_table__find(t, 3, 0, "", NULL, 0, NULL, 0);
	CHECK(e && val_of(e, 1) == 20);

	CHECK_EQ_U64(stack_table__total(t, 0), 3 + 1 + 1 + 1 + 1 + 1 + 2 + 2);
	CHECK_EQ_U64(stack_table__total(t, 1), 30 + 10 * 5 + 20 + 20);
	CHECK_EQ_U64(stack_table__total(t, 7), 0);

	/* Counters can be changed in place (memleak subtracts frees). */
	e = stack_table__find(t, 1, 0, "app", a, 1, b, 1);
	if (e)
		stack_entry__vals_mut(e)[0] -= 3;
	CHECK_EQ_U64(stack_table__total(t, 0), 9);
	CHECK_EQ_U64(stack_table__dropped(t), 0);
	stack_table__delete(t);

	errno = 0;
	CHECK(!stack_table__new(0, 0) && errno == EINVAL);
	CHECK(!stack_table__new(STACK_TABLE_MAX_VALS + 1, 0));
}

static void test_sorted(void)
{
	struct stack_table *t = stack_table__new(2, 0);
	const uint64_t f1[] = {1}, f2[] = {2}, f3[] = {3};
	struct stack_entry **v;
	uint32_t nr;
	size_t n = 99;

	v = stack_table__sorted(t, 0, &n);
	CHECK(!v && n == 0);

	/* Counter 0: 5 for three stacks that must be ordered by comm, pid, frames. */
	stack_table__add(t, 7, 0, "b", f1, 1, NULL, 0, (uint64_t[]){5, 1});
	stack_table__add(t, 7, 0, "a", f2, 1, NULL, 0, (uint64_t[]){5, 2});
	stack_table__add(t, 7, 0, "a", f1, 1, NULL, 0, (uint64_t[]){5, 3});
	stack_table__add(t, 6, 0, "a", f3, 1, NULL, 0, (uint64_t[]){5, 4});
	stack_table__add(t, 9, 0, "z", f3, 1, NULL, 0, (uint64_t[]){9, 0});
	stack_table__add(t, 9, 0, "z", NULL, 0, NULL, 0, (uint64_t[]){1, 9});

	v = stack_table__sorted(t, 0, &n);
	CHECK(v);
	CHECK_EQ_U64(n, 6);
	if (v && n == 6) {
		CHECK_STR(stack_entry__comm(v[0]), "z");
		CHECK_EQ_U64(val_of(v[0], 0), 9);
		CHECK_EQ_U64(stack_entry__pid(v[1]), 6);	    /* "a", pid 6 */
		CHECK_EQ_U64(stack_entry__kernel(v[2], &nr)[0], 1); /* "a", pid 7, [1] */
		CHECK_EQ_U64(stack_entry__kernel(v[3], &nr)[0], 2); /* "a", pid 7, [2] */
		CHECK_STR(stack_entry__comm(v[4]), "b");
		CHECK_EQ_U64(val_of(v[5], 0), 1);
	}
	free(v);

	v = stack_table__sorted(t, 1, &n);
	CHECK(v && n == 6);
	for (size_t i = 0; v && i + 1 < n; i++)
		CHECK(val_of(v[i], 1) >= val_of(v[i + 1], 1));
	if (v)
		CHECK_EQ_U64(val_of(v[0], 1), 9);
	free(v);
	stack_table__delete(t);
}

/*
 * Random stacks drawn from a small pool so that many repeat, compared against
 * a reference that stores every distinct stack in a flat array.
 */
#define REF_MAX 20000
struct ref {
	uint32_t pid;
	char comm[16];
	uint32_t nk, nu;
	uint64_t k[6], u[6];
	uint64_t count;
};
static struct ref refs[REF_MAX];

static void test_growth_vs_reference(void)
{
	struct stack_table *t = stack_table__new(1, 0);
	size_t nr_refs = 0, i, seen = 0;
	struct stack_entry *e;
	uint64_t total = 0;

	/* Make distinct stacks: index i gives a unique frame in k[0] or u[0]. */
	for (i = 0; i < REF_MAX; i++) {
		struct ref *r = &refs[nr_refs++];

		r->pid = 100 + rng() % 3;
		snprintf(r->comm, sizeof(r->comm), "c%u", (unsigned)(rng() % 2));
		r->nk = rng() % 7;
		r->nu = rng() % 7;
		if (!r->nk && !r->nu)
			r->nu = 1;
		for (uint32_t j = 0; j < 6; j++) {
			r->k[j] = 0xffffffff81000000ULL + rng() % 64;
			r->u[j] = rng() % 64;
		}
		if (r->nk)
			r->k[0] = 0xffffffff82000000ULL + i;
		else
			r->u[0] = 0x100000 + i;
	}
	for (i = 0; i < 200000; i++) {
		struct ref *r = &refs[rng() % nr_refs];
		uint64_t v = 1 + rng() % 4;

		CHECK_EQ_U64(stack_table__add(t, r->pid, 0, r->comm, r->k, r->nk, r->u, r->nu, &v), 0);
		r->count += v;
		total += v;
	}
	for (i = 0; i < nr_refs; i++) {
		struct ref *r = &refs[i];

		e = stack_table__find(t, r->pid, 0, r->comm, r->k, r->nk, r->u, r->nu);
		if (r->count) {
			seen++;
			CHECK(e);
			if (e)
				CHECK_EQ_U64(val_of(e, 0), r->count);
		} else {
			CHECK(!e);
		}
	}
	CHECK_EQ_U64(stack_table__nr_entries(t), seen);
	CHECK_EQ_U64(stack_table__total(t, 0), total);
	/* Iteration visits each entry exactly once. */
	i = 0;
	stack_table__for_each (t, e)
		i++;
	CHECK_EQ_U64(i, seen);
	CHECK(seen > 15000);
	CHECK(stack_table__bytes(t) <= stack_table__max_bytes(t));
	stack_table__delete(t);
}

static void test_bound(void)
{
	const size_t max = 64 << 10;
	struct stack_table *t = stack_table__new(1, max);
	uint64_t frames[32], v = 1, added = 0, refused = 0;
	struct stack_entry *e;
	size_t nr_full;
	int i, err;

	CHECK(t);
	CHECK_EQ_U64(stack_table__max_bytes(t), max);
	CHECK(stack_table__bytes(t) <= max);
	for (i = 0; i < 32; i++)
		frames[i] = 0x400000 + i;
	for (i = 0; i < 5000; i++) {
		frames[0] = 0x500000 + i;
		err = stack_table__add(t, 1, 0, "x", NULL, 0, frames, 32, &v);
		if (!err)
			added++;
		else if (err == -ENOSPC)
			refused++;
		CHECK(stack_table__bytes(t) <= max);
	}
	CHECK(added > 50);
	CHECK(refused > 0);
	CHECK_EQ_U64(added + refused, 5000);
	CHECK_EQ_U64(stack_table__dropped(t), refused);
	CHECK_EQ_U64(stack_table__nr_entries(t), added);
	/* Used up to (nearly) the bound: less than one entry's worth left. */
	CHECK(stack_table__bytes(t) > max - 1024);

	/* Existing stacks still count when the table is full. */
	nr_full = stack_table__nr_entries(t);
	frames[0] = 0x500000;
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "x", NULL, 0, frames, 32, &v), 0);
	e = stack_table__find(t, 1, 0, "x", NULL, 0, frames, 32);
	CHECK(e && val_of(e, 0) == 2);
	CHECK_EQ_U64(stack_table__nr_entries(t), nr_full);
	/* A small stack that may still fit in leftover room is fine either way. */
	err = stack_table__add(t, 2, 0, "y", NULL, 0, NULL, 0, &v);
	CHECK(err == 0 || err == -ENOSPC);

	/* Reset frees the entries and lets new stacks in again. */
	stack_table__reset(t);
	CHECK_EQ_U64(stack_table__nr_entries(t), 0);
	CHECK_EQ_U64(stack_table__dropped(t), 0);
	CHECK_EQ_U64(stack_table__total(t, 0), 0);
	CHECK(!stack_table__find(t, 1, 0, "x", NULL, 0, frames, 32));
	CHECK(!stack_table__next(t, NULL));
	CHECK(stack_table__bytes(t) <= max);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "x", NULL, 0, frames, 32, &v), 0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 1);
	e = stack_table__find(t, 1, 0, "x", NULL, 0, frames, 32);
	CHECK(e && val_of(e, 0) == 1);
	/* Fill again to make sure the kept chunk and new ones are accounted. */
	refused = 0;
	for (i = 1; i < 5000; i++) {
		frames[0] = 0x500000 + i;
		if (stack_table__add(t, 1, 0, "x", NULL, 0, frames, 32, &v) == -ENOSPC)
			refused++;
	}
	CHECK(refused > 0);
	CHECK(stack_table__bytes(t) <= max);
	stack_table__delete(t);

	/* A tiny bound refuses everything but stays consistent. */
	t = stack_table__new(1, 64);
	CHECK(t);
	if (t) {
		CHECK_EQ_U64(stack_table__add(t, 1, 0, "x", NULL, 0, frames, 1, &v), -ENOSPC);
		CHECK_EQ_U64(stack_table__dropped(t), 1);
		CHECK_EQ_U64(stack_table__nr_entries(t), 0);
		stack_table__delete(t);
	}
}

static void count_full(void *ctx, const struct stack_table *t)
{
	(void)t;
	(*(int *)ctx)++;
}

/* A bound on stacks: known ones still count, new ones are refused and counted, told once. */
static void test_max_entries(void)
{
	struct stack_table *t = stack_table__new(1, 0);
	const uint64_t one = 1;
	int told = 0;

	CHECK(t != NULL);
	if (!t)
		return;
	stack_table__set_limit(t, 2, count_full, &told);
	CHECK_EQ_U64(stack_table__max_entries(t), 2);
	for (uint64_t f = 1; f <= 5; f++) {
		int err = stack_table__add(t, 1, 0, "c", &f, 1, NULL, 0, &one);

		CHECK(f <= 2 ? err == 0 : err == -ENOSPC);
	}
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "c", (const uint64_t[]){ 1 }, 1, NULL, 0, &one), 0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 2);
	CHECK_EQ_U64(stack_table__dropped(t), 3);
	CHECK_EQ_U64(stack_table__total(t, 0), 3);
	CHECK_EQ_U64(told, 1);
	stack_table__delete(t);
}

static void test_depth_cut(void)
{
	struct stack_table *t = stack_table__new(1, 0);
	static uint64_t deep[STACK_TABLE_MAX_DEPTH + 50], deep2[STACK_TABLE_MAX_DEPTH + 50];
	const uint64_t *got;
	struct stack_entry *e;
	uint64_t v = 1;
	uint32_t nr;
	size_t i;

	for (i = 0; i < STACK_TABLE_MAX_DEPTH + 50; i++)
		deep[i] = deep2[i] = 0x1000 + i;
	/* Differ only beyond the cut, at the root end: the same stack once cut. */
	deep2[STACK_TABLE_MAX_DEPTH + 10] = 0xdead;
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "d", deep, STACK_TABLE_MAX_DEPTH + 50, deep,
				      STACK_TABLE_MAX_DEPTH + 1, &v),
		     0);
	CHECK_EQ_U64(stack_table__add(t, 1, 0, "d", deep2, STACK_TABLE_MAX_DEPTH + 20, deep,
				      STACK_TABLE_MAX_DEPTH, &v),
		     0);
	CHECK_EQ_U64(stack_table__nr_entries(t), 1);
	e = stack_table__find(t, 1, 0, "d", deep, STACK_TABLE_MAX_DEPTH, deep, STACK_TABLE_MAX_DEPTH);
	CHECK(e && val_of(e, 0) == 2);
	if (e) {
		got = stack_entry__kernel(e, &nr);
		CHECK_EQ_U64(nr, STACK_TABLE_MAX_DEPTH);
		CHECK_EQ_U64(got[0], 0x1000); /* the leaf is kept */
		CHECK_EQ_U64(got[nr - 1], 0x1000 + STACK_TABLE_MAX_DEPTH - 1);
		got = stack_entry__user(e, &nr);
		CHECK_EQ_U64(nr, STACK_TABLE_MAX_DEPTH);
		CHECK_EQ_U64(got[0], 0x1000);
	}
	stack_table__delete(t);
}

int main(void)
{
	test_merge_and_keys();
	test_sorted();
	test_growth_vs_reference();
	test_bound();
	test_max_entries();
	test_depth_cut();
	CHECK_DONE();
}

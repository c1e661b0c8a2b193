/*
 * libFuzzer target for the `perf script` text reader: any text, any options,
 * fed in chunks, must fold to the same stacks and counts as when fed whole.
 *
 * Input layout (so that seeds stay plain text):
 *
 *   byte 0  options: bit 0 pid, bit 1 tid, bit 2 kernel, bit 3 jit, bit 4
 *           addrs, bit 7 srcline; bits 5 and 6 both set: folded input,
 *           else bit 6 keeps only "cycles". Printable: ' '..'?' perf script,
 *           '@'..'_' perf script of "cycles", '`'..'~' folded.
 *   byte 1  how the text is split: below 0x80, in two at (byte * len / 128);
 *           from 0x80, in chunks of 1 to 2^(byte & 7) bytes.
 *   rest    the text.
 *
 * Built by the nested clang build (STACKPROF_FUZZ); run by `ctest -R fuzz`.
 * To reproduce a crash, run the binary on the file alone:
 *
 *   build/fuzz/tests/fuzz_perfscript build/tests/fuzz-perfscript/artifacts/crash-<sha1>
 *
 * and to fuzz longer than the test does:
 *
 *   build/fuzz/tests/fuzz_perfscript -dict=tests/fuzz/perfscript.dict \
 *	-artifact_prefix=/tmp/ -max_total_time=600 /tmp/corpus tests/fuzz/corpus
 */
#include "core/stack_table.h"
#include "symbols/syms.h"
#include "trace/perfscript.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	struct syms *syms;
	struct stack_table *t;
	struct perfscript *p;
	int err;
};

static void reader__open(struct reader *r, const struct perfscript_opts *o)
{
	r->syms = syms__new(NULL);
	r->t = stack_table__new(1, 0);
	r->p = r->syms && r->t ? perfscript__new(o, r->syms, r->t) : NULL;
	r->err = 0;
	if (!r->p) {
		fprintf(stderr, "fuzz_perfscript: out of memory\n");
		abort();
	}
}

static void reader__close(struct reader *r)
{
	perfscript__delete(r->p);
	stack_table__delete(r->t);
	syms__delete(r->syms);
}

/*
 * Each chunk is copied to a heap block of its own size, so that a read past
 * its end is an ASan report rather than a silent look at the next chunk.
 */
static void feed_chunk(struct reader *r, const char *text, size_t len)
{
	char *copy;

	if (r->err || !len)
		return;
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, text, len);
	r->err = perfscript__feed(r->p, copy, len);
	free(copy);
}

static void feed_split(struct reader *r, const char *text, size_t len, uint8_t how)
{
	uint32_t rnd = 0x9e3779b9u ^ how ^ (uint32_t)len << 8;
	size_t at = 0;

	if (how < 0x80) {
		at = len * how / 128;
		feed_chunk(r, text, at);
		feed_chunk(r, text + at, len - at);
		return;
	}
	while (at < len) {
		size_t n;

		rnd ^= rnd << 13;
		rnd ^= rnd >> 17;
		rnd ^= rnd << 5;
		n = 1 + rnd % (1U << (how & 7));
		if (n > len - at)
			n = len - at;
		feed_chunk(r, text + at, n);
		at += n;
	}
}

static void mismatch(const char *what, uint64_t split, uint64_t whole)
{
	fprintf(stderr,
		"fuzz_perfscript: split and whole input differ: %s %" PRIu64 " vs %" PRIu64 "\n",
		what, split, whole);
	abort();
}

static void dump_entry(struct reader *r, const struct stack_entry *e)
{
	const uint64_t *k, *u;
	uint32_t nk, nu;

	k = stack_entry__kernel(e, &nk);
	u = stack_entry__user(e, &nu);
	fprintf(stderr, "  count %" PRIu64 ":", stack_entry__vals(e)[0]);
	for (uint32_t i = nu; i-- > 0;)
		fprintf(stderr, " %s;", syms__user_name(r->syms, u[i], false));
	for (uint32_t i = nk; i-- > 0;)
		fprintf(stderr, " %s;", syms__user_name(r->syms, k[i], false));
	fprintf(stderr, "\n");
}

/*
 * Both readers make the same label calls in the same order, so equal stacks
 * carry equal locations: every entry of one is looked up in the other.
 */
static void compare(struct reader *a, struct reader *b)
{
	const struct perfscript_stats *x = perfscript__stats(a->p), *y = perfscript__stats(b->p);
	struct stack_entry *e, *f;

#define SAME(field)                                                               \
	do {                                                                      \
		if (x->field != y->field)                                         \
			mismatch(#field, (uint64_t)x->field, (uint64_t)y->field); \
	} while (0)
	SAME(lines);
	SAME(samples);
	SAME(filtered);
	SAME(malformed);
	SAME(first_malformed);
	SAME(truncated);
	SAME(unterminated);
	SAME(other_events);
#undef SAME
	if (strcmp(x->why, y->why) || strcmp(x->event, y->event) || strcmp(x->other, y->other)) {
		fprintf(stderr,
			"fuzz_perfscript: split and whole input differ: why '%s' vs '%s', "
			"event '%s' vs '%s', other '%s' vs '%s'\n",
			x->why, y->why, x->event, y->event, x->other, y->other);
		abort();
	}
	if (stack_table__nr_entries(a->t) != stack_table__nr_entries(b->t))
		mismatch("stacks", stack_table__nr_entries(a->t), stack_table__nr_entries(b->t));
	if (stack_table__total(a->t, 0) != stack_table__total(b->t, 0))
		mismatch("total", stack_table__total(a->t, 0), stack_table__total(b->t, 0));
	stack_table__for_each (a->t, e) {
		const uint64_t *k, *u;
		uint32_t nk, nu;

		k = stack_entry__kernel(e, &nk);
		u = stack_entry__user(e, &nu);
		f = stack_table__find(b->t, stack_entry__pid(e), 0, stack_entry__comm(e), k, nk, u,
				      nu);
		if (!f || stack_entry__vals(f)[0] != stack_entry__vals(e)[0]) {
			fprintf(stderr,
				"fuzz_perfscript: a stack of the split input is %s whole:\n",
				f ? "counted differently" : "missing");
			dump_entry(a, e);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfscript_opts o = {0};
	struct reader split, whole;
	const char *text;
	size_t len;

	if (size < 2)
		return 0;
	o.pid = data[0] & 0x01;
	o.tid = data[0] & 0x02;
	o.kernel = data[0] & 0x04;
	o.jit = data[0] & 0x08;
	o.addrs = data[0] & 0x10;
	o.srcline = data[0] & 0x80;
	o.folded = (data[0] & 0x60) == 0x60;
	if (!o.folded && (data[0] & 0x40))
		o.event = "cycles";
	text = (const char *)data + 2;
	len = size - 2;

	/* Any prefix may be sniffed (the reader looks at the start of a file). */
	perfscript__sniff(text, len);
	perfscript__sniff(text, len * data[1] / 256);

	reader__open(&split, &o);
	reader__open(&whole, &o);
	feed_split(&split, text, len, data[1]);
	if (!split.err)
		split.err = perfscript__finish(split.p);
	whole.err = perfscript__feed(whole.p, text, len);
	if (!whole.err)
		whole.err = perfscript__finish(whole.p);
	/* -ENOMEM is all either can return; only a difference in results matters. */
	if (!split.err && !whole.err)
		compare(&split, &whole);
	reader__close(&split);
	reader__close(&whole);
	return 0;
}

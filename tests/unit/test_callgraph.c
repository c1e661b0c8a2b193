/*
 * --call-graph: the argument parser (modes, sizes rounded and bounded), the
 * event bits dwarf mode adds (united with a profiler's own registers and
 * stack, only on events with call chains), the default ring size, and
 * reading a user register by its bit whatever else the mask holds.
 */
#include "core/callgraph.h"
#include "core/record.h"

#include <asm/perf_regs.h>
#include <errno.h>

#include "check.h"

static void test_parse(void)
{
	static const struct {
		const char *arg;
		int err;
		enum callgraph_mode mode;
		uint32_t size;
	} cases[] = {
		{ "fp", 0, CALLGRAPH_FP, 0 },
		{ "dwarf", 0, CALLGRAPH_DWARF, CALLGRAPH_DEFAULT_STACK },
		{ "dwarf,8192", 0, CALLGRAPH_DWARF, 8192 },
		{ "dwarf,1", 0, CALLGRAPH_DWARF, 8 },
		{ "dwarf,4097", 0, CALLGRAPH_DWARF, 4104 },
		{ "dwarf,65521", 0, CALLGRAPH_DWARF, 65528 },
		{ "dwarf,65528", 0, CALLGRAPH_DWARF, 65528 },
		{ "dwarf,65529", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarf,65536", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarf,0", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarf,-8", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarf,", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarf,8k", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarf8192", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "dwarfs", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "fp,8", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "lbr", -EINVAL, CALLGRAPH_NONE, 0 },
		{ "", -EINVAL, CALLGRAPH_NONE, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum callgraph_mode mode = CALLGRAPH_NONE;
		uint32_t size = 0;
		int err = callgraph__parse(cases[i].arg, &mode, &size);

		if (err != cases[i].err)
			fprintf(stderr, "callgraph__parse(\"%s\") = %d\n", cases[i].arg, err);
		CHECK(err == cases[i].err);
		if (!err && !cases[i].err) {
			CHECK(mode == cases[i].mode);
			CHECK_EQ_U64(size, cases[i].size);
		}
	}
}

#define REG(r) (1ULL << PERF_REG_X86_##r)

static void test_apply(void)
{
	uint64_t dwarf_regs = REG(AX) | REG(BX) | REG(CX) | REG(DX) | REG(SI) | REG(DI) |
			      REG(BP) | REG(SP) | REG(IP) | REG(R8) | REG(R9) | REG(R10) |
			      REG(R11) | REG(R12) | REG(R13) | REG(R14) | REG(R15);
	struct perf_event_attr a = { .sample_type = PERF_SAMPLE_CALLCHAIN }, b;

	/* Frame pointers and no mode: nothing changes. */
	b = a;
	callgraph__apply(&b, CALLGRAPH_FP, 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	callgraph__apply(&b, CALLGRAPH_NONE, 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));

	/* dwarf on a plain sampling event. */
	callgraph__apply(&b, CALLGRAPH_DWARF, 8192);
	CHECK(b.sample_type & PERF_SAMPLE_REGS_USER);
	CHECK(b.sample_type & PERF_SAMPLE_STACK_USER);
	CHECK_EQ_U64(b.sample_regs_user, dwarf_regs);
	CHECK_EQ_U64(b.sample_stack_user, 8192);
	CHECK(b.exclude_callchain_user);
	CHECK(!b.exclude_callchain_kernel);

	/* A profiler's own registers (eflags here) and larger stack stay. */
	b = a;
	b.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	b.sample_regs_user = REG(FLAGS) | REG(SP);
	b.sample_stack_user = 16384;
	callgraph__apply(&b, CALLGRAPH_DWARF, 8192);
	CHECK_EQ_U64(b.sample_regs_user, dwarf_regs | REG(FLAGS));
	CHECK_EQ_U64(b.sample_stack_user, 16384);
	/* A smaller one grows to the dwarf size. */
	b = a;
	b.sample_type |= PERF_SAMPLE_STACK_USER;
	b.sample_stack_user = 512;
	callgraph__apply(&b, CALLGRAPH_DWARF, 8192);
	CHECK_EQ_U64(b.sample_stack_user, 8192);

	/* No call chain, or no user side: left alone. */
	b = (struct perf_event_attr){ .sample_type = PERF_SAMPLE_RAW };
	callgraph__apply(&b, CALLGRAPH_DWARF, 8192);
	CHECK(!(b.sample_type & PERF_SAMPLE_STACK_USER) && !b.exclude_callchain_user);
	b = a;
	b.exclude_callchain_user = 1; /* --kernel-only */
	callgraph__apply(&b, CALLGRAPH_DWARF, 8192);
	CHECK(!(b.sample_type & PERF_SAMPLE_STACK_USER));
	b = a;
	b.exclude_user = 1;
	callgraph__apply(&b, CALLGRAPH_DWARF, 8192);
	CHECK(!(b.sample_type & PERF_SAMPLE_STACK_USER));
}

static void test_mmap_pages(void)
{
	unsigned int p8k = callgraph__mmap_pages(CALLGRAPH_DWARF, 8192);

	CHECK_EQ_U64(callgraph__mmap_pages(CALLGRAPH_FP, 8192), 0);
	CHECK_EQ_U64(callgraph__mmap_pages(CALLGRAPH_NONE, 0), 0);
	/* Powers of two, growing with the size, never past 16 MiB of 4 KiB pages. */
	CHECK(p8k >= 128 && !(p8k & (p8k - 1)));
	CHECK(callgraph__mmap_pages(CALLGRAPH_DWARF, 65528) >= p8k);
	CHECK(callgraph__mmap_pages(CALLGRAPH_DWARF, 65528) <= 4096);
	CHECK_EQ_U64(callgraph__mmap_pages(CALLGRAPH_DWARF, 8), 128);
}

static void test_user_reg(void)
{
	/* Registers come in bit order: of AX (bit 0), SP (7) and IP (8), SP is second. */
	const uint64_t regs[] = { 0xa0, 0x5b, 0x1b };
	struct sp_record rec = {
		.user_abi = PERF_SAMPLE_REGS_ABI_64,
		.nr_user_regs = 3,
		.user_regs = regs,
		.user_regs_mask = REG(IP) | REG(SP) | REG(AX),
	};
	uint64_t v = 0;

	CHECK(record__user_reg(&rec, PERF_REG_X86_AX, &v) && v == 0xa0);
	CHECK(record__user_reg(&rec, PERF_REG_X86_SP, &v) && v == 0x5b);
	CHECK(record__user_reg(&rec, PERF_REG_X86_IP, &v) && v == 0x1b);
	CHECK(!record__user_reg(&rec, PERF_REG_X86_BX, &v));
	CHECK(!record__user_reg(&rec, 64, &v));
	/* A kernel thread's sample: no user registers at all. */
	rec.user_abi = 0;
	CHECK(!record__user_reg(&rec, PERF_REG_X86_SP, &v));
	/* Fewer registers than the mask says (a truncated record): no reading past them. */
	rec.user_abi = PERF_SAMPLE_REGS_ABI_64;
	rec.nr_user_regs = 2;
	CHECK(!record__user_reg(&rec, PERF_REG_X86_IP, &v));
}

int main(void)
{
	test_parse();
	test_apply();
	test_mmap_pages();
	test_user_reg();
	CHECK_DONE();
}

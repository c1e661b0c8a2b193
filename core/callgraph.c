/* Call graphs: --call-graph modes, their event bits, DWARF unwinding, stacks cut short. */
#include "callgraph.h"

#include <asm/perf_regs.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "record.h"
#include "stack_table.h"
#include "symbols/syms.h"
#include "symbols/unwind.h"

/* 16 MiB per CPU: the most a default ring takes, whatever the stack size. */
#define CALLGRAPH_MAX_MMAP_PAGES 4096

/* The perf register behind each DWARF register 0-16 of x86_64 (see unwind.h). */
static const uint8_t perf_reg_of_dwarf[UNWIND_NR_REGS] = {
	PERF_REG_X86_AX, PERF_REG_X86_DX,  PERF_REG_X86_CX,  PERF_REG_X86_BX,
	PERF_REG_X86_SI, PERF_REG_X86_DI,  PERF_REG_X86_BP,  PERF_REG_X86_SP,
	PERF_REG_X86_R8, PERF_REG_X86_R9,  PERF_REG_X86_R10, PERF_REG_X86_R11,
	PERF_REG_X86_R12, PERF_REG_X86_R13, PERF_REG_X86_R14, PERF_REG_X86_R15,
	PERF_REG_X86_IP,
};

/*
 * Where user stacks start: a process's entry and libc's start-up, a
 * thread's entry and the clone that made it. An outermost frame elsewhere
 * means the walk stopped early. libc's debug symbols name some of them by
 * an alias (__GI___clone3, __libc_start_main_impl).
 */
static const char *const entry_names[] = {
	"_start",
	"__libc_start_call_main",
	"__libc_start_main",
	"__libc_start_main_impl",
	"__libc_start_main_alias_1",
	"__libc_start_main_alias_2",
	"start_thread",
	"clone",
	"__clone",
	"clone3",
	"__clone3",
};

struct callgraph {
	struct syms *syms;
	enum callgraph_mode mode;
	uint32_t stack_size;
	struct unwind *unwind; /* dwarf mode only */

	/* The last sample's user frames, for a sample accounted twice in a row. */
	const struct sp_record *last;
	uint64_t last_time;
	uint32_t last_tid, last_nr;
	uint64_t last_user[STACK_TABLE_MAX_DEPTH];

	uint64_t stacks, cut_short, frames;
	uint64_t stack_bytes; /* dwarf: user stack bytes the kernel copied, over all samples */
};

int callgraph__parse(const char *arg, enum callgraph_mode *mode, uint32_t *stack_size)
{
	uint64_t size = CALLGRAPH_DEFAULT_STACK;

	if (!strcmp(arg, "fp")) {
		*mode = CALLGRAPH_FP;
		return 0;
	}
	if (strncmp(arg, "dwarf", 5) || (arg[5] && arg[5] != ','))
		return -EINVAL;
	/* Rounded up as the kernel wants it; the bound applies to the result. */
	if (arg[5] == ',' &&
	    (parse__u64(arg + 6, 1, CALLGRAPH_MAX_STACK, &size) ||
	     ((size + 7) & ~7ULL) > CALLGRAPH_MAX_STACK))
		return -EINVAL;
	*mode = CALLGRAPH_DWARF;
	*stack_size = (uint32_t)((size + 7) & ~7ULL);
	return 0;
}

void callgraph__apply(struct perf_event_attr *attr, enum callgraph_mode mode,
		      uint32_t stack_size)
{
	uint64_t regs = 0;

	if (mode != CALLGRAPH_DWARF || !(attr->sample_type & PERF_SAMPLE_CALLCHAIN) ||
	    attr->exclude_callchain_user || attr->exclude_user)
		return;
	for (int i = 0; i < UNWIND_NR_REGS; i++)
		regs |= 1ULL << perf_reg_of_dwarf[i];
	/* memleak and iowrite read registers and stack of their own: they keep them. */
	attr->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	attr->sample_regs_user |= regs;
	if (attr->sample_stack_user < stack_size)
		attr->sample_stack_user = stack_size;
	/* The kernel part of the chain is still the kernel's; the user part is unwound here. */
	attr->exclude_callchain_user = 1;
}

unsigned int callgraph__mmap_pages(enum callgraph_mode mode, uint32_t stack_size)
{
	uint64_t want, page = (uint64_t)getpagesize();
	unsigned int pages = 128;

	if (mode != CALLGRAPH_DWARF)
		return 0;
	/*
	 * Room for about 1024 samples per CPU: a second at 1 kHz, or a burst
	 * of allocator calls under memleak's probes, between two drains.
	 */
	want = (uint64_t)stack_size * 1024 / page;
	while (pages < want && pages < CALLGRAPH_MAX_MMAP_PAGES)
		pages *= 2;
	return pages;
}

struct callgraph *callgraph__new(struct syms *syms, enum callgraph_mode mode, uint32_t stack_size)
{
	struct callgraph *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	cg->syms = syms;
	cg->mode = mode;
	cg->stack_size = stack_size;
	if (mode == CALLGRAPH_DWARF) {
		cg->unwind = unwind__new(syms);
		if (!cg->unwind) {
			free(cg);
			return NULL;
		}
	}
	return cg;
}

void callgraph__delete(struct callgraph *cg)
{
	if (!cg)
		return;
	unwind__delete(cg->unwind);
	free(cg);
}

/* Unwinds @rec into @user: the frames found, or @nr when the sample carries no registers. */
static uint32_t unwind_sample(struct callgraph *cg, const struct sp_record *rec, uint64_t *user,
			      uint32_t nr, uint32_t max, bool *unwound)
{
	uint64_t regs[UNWIND_NR_REGS];
	uint32_t n;

	*unwound = false;
	for (int i = 0; i < UNWIND_NR_REGS; i++)
		if (!record__user_reg(rec, perf_reg_of_dwarf[i], &regs[i]))
			return nr; /* a kernel thread, or an event without them */
	n = unwind__stack(cg->unwind, rec->pid, rec->tid, regs, rec->user_stack,
			  rec->user_stack_size, user, max);
	/* Addresses become locations in place, as the kernel's chain does. */
	for (uint32_t i = 0; i < n; i++)
		user[i] = syms__encode_user(cg->syms, rec->pid, user[i]);
	cg->stack_bytes += rec->user_stack_size;
	*unwound = true;
	return n;
}

static bool is_entry(const char *name)
{
	char buf[128];
	const char *at = strchr(name, '@');
	size_t len = at ? (size_t)(at - name) : strlen(name);

	/* "__libc_start_main@@GLIBC_2.34", "__GI___clone3": the plain name. */
	if (!strncmp(name, "__GI_", 5)) {
		name += 5;
		len -= 5;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(entry_names) / sizeof(entry_names[0]); i++)
		if (!strcmp(buf, entry_names[i]))
			return true;
	return false;
}

uint32_t callgraph__user(struct callgraph *cg, const struct sp_record *rec, uint64_t *user,
			 uint32_t nr, uint32_t max)
{
	bool unwound = false;

	/* No chain asked for: only the sampled ip, which is no stack to judge. */
	if (!rec->ips)
		return nr;
	if (rec == cg->last && rec->time == cg->last_time && rec->tid == cg->last_tid) {
		uint32_t n = cg->last_nr < max ? cg->last_nr : max;

		memcpy(user, cg->last_user, n * sizeof(*user));
		return n;
	}
	if (cg->mode == CALLGRAPH_DWARF)
		nr = unwind_sample(cg, rec, user, nr, max, &unwound);
	if (nr) {
		cg->stacks++;
		cg->frames += nr;
		if (!is_entry(syms__user_name(cg->syms, user[nr - 1], nr == 1)))
			cg->cut_short++;
	}
	cg->last = rec;
	cg->last_time = rec->time;
	cg->last_tid = rec->tid;
	cg->last_nr = nr < STACK_TABLE_MAX_DEPTH ? nr : STACK_TABLE_MAX_DEPTH;
	memcpy(cg->last_user, user, cg->last_nr * sizeof(*user));
	return nr;
}

void callgraph__print(const struct callgraph *cg, FILE *f)
{
	if (!cg || !cg->stacks)
		return;
	fprintf(f, "# %" PRIu64 " of %" PRIu64 " user stacks were cut short (unwinding stopped "
		   "before the process's entry)",
		cg->cut_short, cg->stacks);
	if (cg->cut_short && cg->mode == CALLGRAPH_DWARF)
		fprintf(f, "; raise the stack size (--call-graph dwarf,SIZE; now %u bytes)",
			cg->stack_size);
	else if (cg->cut_short)
		fprintf(f, "; try --call-graph dwarf");
	fputc('\n', f);
}

void callgraph__log_stats(const struct callgraph *cg)
{
	struct unwind_stats st;
	double n;

	if (!cg || !cg->stacks)
		return;
	pr_info("callgraph: %" PRIu64 " user stacks, %.1f frames each, %" PRIu64 " cut short",
		cg->stacks, (double)cg->frames / (double)cg->stacks, cg->cut_short);
	if (!cg->unwind)
		return;
	unwind__stats(cg->unwind, &st);
	if (!st.samples)
		return;
	n = (double)st.samples;
	pr_info("callgraph: dwarf: %" PRIu64 " stacks unwound in %.3f s: %.1f us and %.1f frames "
		"each, %.0f stack bytes copied each (of %u); %" PRIu64 " complete, %" PRIu64
		" stopped early, %" PRIu64 " at the frame limit; modules reported %" PRIu64
		" times",
		st.samples, (double)st.ns / 1e9, (double)st.ns / 1e3 / n, (double)st.frames / n,
		(double)cg->stack_bytes / n, cg->stack_size, st.complete, st.failed, st.truncated,
		st.reports);
}

/*
 * DWARF unwinding of user stacks with libdw (dwfl), from a sample's user
 * registers and the copy of its user stack (--call-graph dwarf).
 *
 * Each process gets a Dwfl whose modules are the files its address-space
 * model maps executable, reported again only when those mappings change, so
 * a file's call frame information is read once per process. Memory reads go
 * to the stack copy, else to the mapped file's bytes; the registers are
 * x86_64's DWARF registers 0-16:
 *
 *   rax rdx rcx rbx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip
 */
#ifndef STACKPROF_UNWIND_H
#define STACKPROF_UNWIND_H

#include <stdint.h>

struct syms;
struct unwind;

#define UNWIND_NR_REGS 17
#define UNWIND_REG_SP 7
#define UNWIND_REG_IP 16

/* What unwinding has cost and found so far. */
struct unwind_stats {
	uint64_t samples; /* stacks unwound */
	uint64_t frames; /* frames found, over all of them */
	uint64_t ns; /* time spent, model updates included */
	uint64_t complete; /* ended at a frame the call frame information marks outermost */
	uint64_t truncated; /* stopped at the frame limit */
	uint64_t failed; /* stopped by an error: no CFI, or memory outside the copy */
	uint64_t reports; /* times a process's modules were reported to libdw */
};

/*
 * Creates an unwinder over the address spaces of @syms (which must outlive
 * it). Returns NULL and sets errno on failure.
 */
struct unwind *unwind__new(struct syms *syms);
void unwind__delete(struct unwind *u);

/*
 * Unwinds thread @tid of process @pid from @regs (UNWIND_NR_REGS, DWARF
 * numbering) with the @stack_size bytes of its stack that start at the
 * stack pointer in @stack. Writes at most @max program counters to @pcs,
 * leaf first: the sampled instruction, then return addresses (a frame
 * interrupted by a signal is stored one byte on, so that the lookup one
 * byte back that return addresses get finds its instruction). Returns the
 * number written: 0 when the process cannot be unwound at all.
 */
uint32_t unwind__stack(struct unwind *u, uint32_t pid, uint32_t tid, const uint64_t *regs,
		       const void *stack, uint64_t stack_size, uint64_t *pcs, uint32_t max);

void unwind__stats(const struct unwind *u, struct unwind_stats *st);

#endif

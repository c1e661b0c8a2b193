/*
 * The DWARF unwinder on this very process: a chain of functions built
 * without frame pointers captures its registers and a copy of its stack, as
 * a PERF_SAMPLE_REGS_USER/STACK_USER sample would carry them, and the
 * unwinder must find every caller up to _start. Also: a short stack copy
 * stops early, the frame limit holds, the modules are reported once, and an
 * unknown process gives the sampled instruction alone.
 */
#define _GNU_SOURCE /* gettid */
#include "symbols/syms.h"
#include "symbols/unwind.h"

#include <stdbool.h>
#include <unistd.h>

#include "check.h"

#define NOINLINE __attribute__((noinline, noclone))
/* Above the largest pid_max (2^22): never a live process. */
#define FAKE_PID 0x7ffff000u
#define MAX_FRAMES 64

/*
 * Stores the caller's registers as they are once this call has returned,
 * in DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip): rsp above
 * the return address, rip the return address. rax is lost to the copying.
 */
void capture_regs(uint64_t *regs);
__asm__(".pushsection .text\n"
	".globl capture_regs\n"
	".type capture_regs, @function\n"
	"capture_regs:\n"
	".cfi_startproc\n"
	"	movq %rax, 0(%rdi)\n"
	"	movq %rdx, 8(%rdi)\n"
	"	movq %rcx, 16(%rdi)\n"
	"	movq %rbx, 24(%rdi)\n"
	"	movq %rsi, 32(%rdi)\n"
	"	movq %rdi, 40(%rdi)\n"
	"	movq %rbp, 48(%rdi)\n"
	"	leaq 8(%rsp), %rax\n"
	"	movq %rax, 56(%rdi)\n"
	"	movq %r8, 64(%rdi)\n"
	"	movq %r9, 72(%rdi)\n"
	"	movq %r10, 80(%rdi)\n"
	"	movq %r11, 88(%rdi)\n"
	"	movq %r12, 96(%rdi)\n"
	"	movq %r13, 104(%rdi)\n"
	"	movq %r14, 112(%rdi)\n"
	"	movq %r15, 120(%rdi)\n"
	"	movq (%rsp), %rax\n"
	"	movq %rax, 128(%rdi)\n"
	"	ret\n"
	".cfi_endproc\n"
	".size capture_regs, .-capture_regs\n"
	".popsection\n");

/* What the innermost function captured: a sample of this thread. */
struct sample {
	uint64_t regs[UNWIND_NR_REGS];
	unsigned char *stack;
	uint64_t stack_size;
};

/* Where the stack that holds @sp ends, from /proc/self/maps; 0 if not found. */
static uint64_t stack_end(uint64_t sp)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long long lo, hi;
	char line[512];
	uint64_t end = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && lo <= sp && sp < hi)
			end = hi;
	fclose(f);
	return end;
}

/*
 * Copies up to @max bytes of the stack from the captured sp, as the kernel
 * would: across frames and their padding, so byte by byte and unseen by
 * AddressSanitizer, whose stack redzones such a copy crosses.
 */
static NOINLINE __attribute__((no_sanitize_address)) void copy_stack(struct sample *s, uint64_t max)
{
	uint64_t sp = s->regs[UNWIND_REG_SP], end = stack_end(sp);
	const volatile unsigned char *from = (const volatile unsigned char *)(uintptr_t)sp;

	s->stack_size = end > sp && end - sp < max ? end - sp : max;
	s->stack = malloc(s->stack_size);
	for (uint64_t i = 0; s->stack && i < s->stack_size; i++)
		s->stack[i] = from[i];
}

static NOINLINE int level3(struct sample *s)
{
	capture_regs(s->regs);
	/* This frame and its callers stay as captured while the copy is taken. */
	copy_stack(s, 16384);
	__asm__ volatile("" ::: "memory");
	return 3;
}

static NOINLINE int level2(struct sample *s)
{
	int r = level3(s);

	__asm__ volatile("" ::: "memory");
	return r + 2;
}

static NOINLINE int level1(struct sample *s)
{
	int r = level2(s);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

/* Names of the unwound frames, leaf first, as the emitters would look them up. */
static uint32_t unwind_names(struct syms *syms, struct unwind *u, const struct sample *s,
			     uint64_t size, uint32_t max, const char **names)
{
	uint64_t pcs[MAX_FRAMES];
	uint32_t n;

	n = unwind__stack(u, (uint32_t)getpid(), (uint32_t)gettid(), s->regs, s->stack, size, pcs,
			  max);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t loc = syms__encode_user(syms, (uint32_t)getpid(), pcs[i]);

		names[i] = syms__user_name(syms, loc, i == 0);
		printf("  #%u %#llx %s\n", i, (unsigned long long)pcs[i], names[i]);
	}
	return n;
}

static int index_of(const char **names, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

static void test_self(struct sample *s)
{
	struct syms *syms = syms__new("/nonexistent");
	struct unwind *u = syms ? unwind__new(syms) : NULL;
	const char *names[MAX_FRAMES];
	struct unwind_stats st;
	uint32_t n;

	CHECK(u != NULL);
	if (!u)
		goto out;
	CHECK(syms__proc_load(syms, (uint32_t)getpid()) == 0);

	printf("whole stack copy (%llu bytes):\n", (unsigned long long)s->stack_size);
	n = unwind_names(syms, u, s, s->stack_size, MAX_FRAMES, names);
	CHECK(n >= 5);
	if (n >= 5) {
		CHECK_STR(names[0], "level3");
		CHECK_STR(names[1], "level2");
		CHECK_STR(names[2], "level1");
		CHECK_STR(names[3], "main");
		/* libc's start-up between main and _start, named whatever its symbols say. */
		CHECK_STR(names[n - 1], "_start");
	}
	unwind__stats(u, &st);
	CHECK_EQ_U64(st.samples, 1);
	CHECK_EQ_U64(st.complete, 1);
	CHECK_EQ_U64(st.frames, n);
	CHECK_EQ_U64(st.reports, 1);

	/* Again: the modules are not reported anew, and the same frames come back. */
	CHECK_EQ_U64(unwind_names(syms, u, s, s->stack_size, MAX_FRAMES, names), n);
	unwind__stats(u, &st);
	CHECK_EQ_U64(st.reports, 1);

	/* The frame limit: the leaf and its caller, then it stops. */
	printf("at most 2 frames:\n");
	CHECK_EQ_U64(unwind_names(syms, u, s, s->stack_size, 2, names), 2);
	unwind__stats(u, &st);
	CHECK_EQ_U64(st.truncated, 1);

	/*
	 * 16 bytes of stack hold no return address of level3's callers: the
	 * walk stops early, short of main, and says it failed.
	 */
	printf("16 bytes of stack:\n");
	n = unwind_names(syms, u, s, 16, MAX_FRAMES, names);
	CHECK(n >= 1 && n < 4);
	CHECK(index_of(names, n, "main") < 0);
	CHECK_STR(names[0], "level3");
	unwind__stats(u, &st);
	CHECK_EQ_U64(st.failed, 1);

	/* No stack at all still gives the sampled instruction. */
	CHECK(unwind_names(syms, u, s, 0, MAX_FRAMES, names) >= 1);

	/*
	 * A process the model cannot know has no CFI: libdw falls back to
	 * frame pointers, which need the stack. Without one, the sampled
	 * instruction alone.
	 */
	{
		uint64_t pcs[4];

		CHECK_EQ_U64(unwind__stack(u, FAKE_PID, FAKE_PID, s->regs, NULL, 0, pcs, 4), 1);
		CHECK_EQ_U64(pcs[0], s->regs[UNWIND_REG_IP]);
	}
	unwind__stats(u, &st);
	CHECK(st.ns > 0);
out:
	unwind__delete(u);
	syms__delete(syms);
}

int main(void)
{
	struct sample s = { 0 };

	CHECK(level1(&s) == 6);
	CHECK(s.stack != NULL);
	if (s.stack)
		test_self(&s);
	free(s.stack);
	CHECK_DONE();
}

/*
 * A process with no allocator at all, for memleak's error test: static,
 * without libc, it sleeps with raw nanosleep system calls and exits.
 *
 *   nolibc [SECONDS]      (whole seconds, default 5)
 *
 * Built with -nostdlib -static -fno-stack-protector -fno-pie (see
 * tests/CMakeLists.txt): nothing here may call into a library.
 */
#include <asm/unistd.h>

#define DEFAULT_SECONDS 5

struct kernel_timespec {
	long tv_sec;
	long tv_nsec;
};

#if defined(__x86_64__)
static long sys2(long nr, long a, long b)
{
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b)
			     : "rcx", "r11", "memory");
	return ret;
}

/* The kernel enters with argc at (%rsp), argv after it; keep the ABI's 16-byte alignment. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call nolibc_main\n"
	"	hlt\n");
#elif defined(__aarch64__)
static long sys2(long nr, long a, long b)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;

	__asm__ __volatile__("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
	return x0;
}

__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x0, sp\n"
	"	bl nolibc_main\n"
	"	brk #0\n");
#else
#error "nolibc: no raw system calls for this architecture"
#endif

__attribute__((noreturn, used)) void nolibc_main(long *sp);

/* Whole seconds from a decimal string; -1 if it is not one. */
static long parse_seconds(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 86400)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

__attribute__((noreturn, used)) void nolibc_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	struct kernel_timespec ts = {DEFAULT_SECONDS, 0};
	long secs;

	if (argc > 1) {
		secs = parse_seconds(argv[1]);
		if (secs < 0)
			sys2(__NR_exit_group, 2, 0);
		ts.tv_sec = secs;
	}
	/* -EINTR leaves the remaining time in ts: sleep on. */
	while (sys2(__NR_nanosleep, (long)&ts, (long)&ts) == -4)
		;
	sys2(__NR_exit_group, 0, 0);
	for (;;)
		;
}

/*
 * Workload with bytes written known exactly: named functions write known
 * amounts through every write syscall iowrite traces, to regular files, to
 * /dev/null, to a pipe and to a socket, and provoke failed and short writes,
 * so a test compares what iowrite reports per stack and per file with the
 * truth.
 *
 *   writer DIR [--delay SEC] [--hold SEC] [--truth FILE]
 *   writer --bench N
 *
 * After --delay SEC (slept in startup_delay, so a profiler can attach with
 * -p first), the main thread runs these functions, each opening what it
 * writes to (file, pipe, socket) at its start and closing it at its end:
 *   write_plain       DIR/plain.out      37 x write(1000)                   37000 bytes
 *   write_positional  DIR/positional.out 20 x pwrite(2048, offset i * 2048) 40960 bytes
 *   write_vectored    DIR/vectored.out   25 x writev(3 iovecs: 100+200+300) 15000 bytes
 *   write_pvectored   DIR/pvectored.out  10 x pwritev(2 iovecs: 512+512)    10240 bytes
 *   write_devnull     /dev/null          50 x write(512)                    25600 bytes
 *   write_pipe        a pipe             10 x write(100), each read back     1000 bytes
 *   write_socket      a socketpair        5 x write(64), each read back       320 bytes
 *   write_badfd       fd 1000, not open   7 x write(100): EBADF, 0 of 700 bytes, 7 failed
 *   write_short       DIR/short.out       4 x write(4096) under a soft RLIMIT_FSIZE of
 *                     10000 (SIGXFSZ ignored): 4096, 4096, 1808, then EFBIG:
 *                     10000 of 16384 bytes, 1 failed
 * Each makes its calls through a noinline helper, one per libc wrapper
 * (do_write, do_pwrite, do_writev, do_pwritev): libc's wrappers make no
 * frame, so a frame-pointer walk from inside one skips its direct caller and
 * goes on from the caller's caller. With the helper in between, the function
 * above is always in the stack (the helper is the frame that goes missing).
 * The iovec arrays are locals of the functions above, in the user stack the
 * syscall entry's sample copies (where iowrite finds the lengths asked for).
 *
 * Then the truth, measured from the return values, goes to stderr (and to
 * FILE with --truth), one line per function:
 *   writer: truth FUNC FILE WRITTEN REQUESTED CALLS FAILED
 * FILE is the path (DIR resolved to an absolute path, as /proc names it),
 * "pipe", "socket", or "[fd 1000]" for the fd that is not open. Then:
 *   writer: pid PID
 * Then it sleeps --hold SEC and exits 0.
 *
 * Nothing writes anything else during the measured part: no stdio until the
 * truth is printed.
 *
 * --bench N times N write(64) calls to /dev/null in bench_loop and prints on
 * stdout:
 *   writer: bench N writes in NS ns: NS_PER_WRITE ns per write
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

const char *wl_name = "writer";

#define PLAIN_CALLS 37
#define PLAIN_SIZE 1000
#define POSITIONAL_CALLS 20
#define POSITIONAL_SIZE 2048
#define VECTORED_CALLS 25
#define PVECTORED_CALLS 10
#define PVECTORED_SIZE 512
#define DEVNULL_CALLS 50
#define DEVNULL_SIZE 512
#define PIPE_CALLS 10
#define PIPE_SIZE 100
#define SOCKET_CALLS 5
#define SOCKET_SIZE 64
#define BADFD 1000
#define BADFD_CALLS 7
#define BADFD_SIZE 100
#define SHORT_CALLS 4
#define SHORT_SIZE 4096
#define SHORT_LIMIT 10000
#define BENCH_SIZE 64

enum {
	F_PLAIN,
	F_POSITIONAL,
	F_VECTORED,
	F_PVECTORED,
	F_DEVNULL,
	F_PIPE,
	F_SOCKET,
	F_BADFD,
	F_SHORT,
	NR_FUNCS
};

static const char *const func_names[NR_FUNCS] = {
    "write_plain", "write_positional", "write_vectored", "write_pvectored", "write_devnull",
    "write_pipe",  "write_socket",     "write_badfd",	 "write_short",
};

/* Per function: what its calls returned, and the file they went to. */
static struct {
	char file[PATH_MAX + 16];
	unsigned long long written, requested, calls, failed;
} truth[NR_FUNCS];

static char dir[PATH_MAX];
static char buf[SHORT_SIZE];

/* Counts one call of @func that asked for @requested bytes and returned @ret. */
static void count(int func, size_t requested, ssize_t ret)
{
	truth[func].calls++;
	truth[func].requested += requested;
	if (ret < 0)
		truth[func].failed++;
	else
		truth[func].written += (unsigned long long)ret;
}

/* DIR/NAME, opened for writing (truncated); the path becomes @func's file. */
static int open_out(int func, const char *name)
{
	int fd;

	snprintf(truth[func].file, sizeof(truth[func].file), "%s/%s", dir, name);
	fd = open(truth[func].file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		wl_die(truth[func].file, errno);
	return fd;
}

static void must_close(int fd)
{
	if (close(fd))
		wl_die("close", errno);
}

/* Reads back exactly @len bytes that went into the pipe or socket @fd. */
static void drain(int fd, size_t len)
{
	char tmp[PIPE_SIZE > SOCKET_SIZE ? PIPE_SIZE : SOCKET_SIZE];

	while (len) {
		ssize_t n = read(fd, tmp, len < sizeof(tmp) ? len : sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			wl_die("read", n < 0 ? errno : EPIPE);
		len -= (size_t)n;
	}
}

/* ---------------------------------------------------------- the syscalls */

static NOINLINE ssize_t do_write(int fd, const void *p, size_t n)
{
	ssize_t ret = write(fd, p, n);

	barrier();
	return ret;
}

static NOINLINE ssize_t do_pwrite(int fd, const void *p, size_t n, off_t off)
{
	ssize_t ret = pwrite(fd, p, n, off);

	barrier();
	return ret;
}

static NOINLINE ssize_t do_writev(int fd, const struct iovec *iov, int n)
{
	ssize_t ret = writev(fd, iov, n);

	barrier();
	return ret;
}

static NOINLINE ssize_t do_pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	ssize_t ret = pwritev(fd, iov, n, off);

	barrier();
	return ret;
}

/* ---------------------------------------------------------- the writers */

static NOINLINE void write_plain(void)
{
	int fd = open_out(F_PLAIN, "plain.out");
	int i;

	for (i = 0; i < PLAIN_CALLS; i++)
		count(F_PLAIN, PLAIN_SIZE, do_write(fd, buf, PLAIN_SIZE));
	must_close(fd);
	barrier();
}

static NOINLINE void write_positional(void)
{
	int fd = open_out(F_POSITIONAL, "positional.out");
	int i;

	for (i = 0; i < POSITIONAL_CALLS; i++)
		count(F_POSITIONAL, POSITIONAL_SIZE,
		      do_pwrite(fd, buf, POSITIONAL_SIZE, (off_t)i * POSITIONAL_SIZE));
	must_close(fd);
	barrier();
}

static NOINLINE void write_vectored(void)
{
	int fd = open_out(F_VECTORED, "vectored.out");
	struct iovec iov[3]; /* local: in the stack the tracepoint's sample copies */
	int i;

	iov[0].iov_base = buf;
	iov[0].iov_len = 100;
	iov[1].iov_base = buf + 100;
	iov[1].iov_len = 200;
	iov[2].iov_base = buf + 300;
	iov[2].iov_len = 300;
	for (i = 0; i < VECTORED_CALLS; i++)
		count(F_VECTORED, iov[0].iov_len + iov[1].iov_len + iov[2].iov_len,
		      do_writev(fd, iov, 3));
	must_close(fd);
	barrier();
}

static NOINLINE void write_pvectored(void)
{
	int fd = open_out(F_PVECTORED, "pvectored.out");
	struct iovec iov[2];
	int i;

	iov[0].iov_base = buf;
	iov[0].iov_len = PVECTORED_SIZE;
	iov[1].iov_base = buf + PVECTORED_SIZE;
	iov[1].iov_len = PVECTORED_SIZE;
	for (i = 0; i < PVECTORED_CALLS; i++)
		count(F_PVECTORED, 2 * PVECTORED_SIZE,
		      do_pwritev(fd, iov, 2, (off_t)i * 2 * PVECTORED_SIZE));
	must_close(fd);
	barrier();
}

static NOINLINE void write_devnull(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int i;

	if (fd < 0)
		wl_die("/dev/null", errno);
	snprintf(truth[F_DEVNULL].file, sizeof(truth[F_DEVNULL].file), "/dev/null");
	for (i = 0; i < DEVNULL_CALLS; i++)
		count(F_DEVNULL, DEVNULL_SIZE, do_write(fd, buf, DEVNULL_SIZE));
	must_close(fd);
	barrier();
}

/*
 * Writes @calls x @size bytes into fd @w of a connected pair (truth entry
 * @f, kind @kind), reading each write back from @r so the pair never fills.
 */
static void write_through(int f, const char *kind, int w, int r, int calls, size_t size)
{
	snprintf(truth[f].file, sizeof(truth[f].file), "%s", kind);
	for (int i = 0; i < calls; i++) {
		ssize_t n = do_write(w, buf, size);

		count(f, size, n);
		if (n > 0)
			drain(r, (size_t)n);
	}
	must_close(w);
	must_close(r);
}

static NOINLINE void write_pipe(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		wl_die("pipe", errno);
	write_through(F_PIPE, "pipe", p[1], p[0], PIPE_CALLS, PIPE_SIZE);
	barrier();
}

static NOINLINE void write_socket(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		wl_die("socketpair", errno);
	write_through(F_SOCKET, "socket", sv[0], sv[1], SOCKET_CALLS, SOCKET_SIZE);
	barrier();
}

static NOINLINE void write_badfd(void)
{
	int i;

	if (fcntl(BADFD, F_GETFD) >= 0 || errno != EBADF)
		wl_die("fd 1000 is open", EEXIST);
	snprintf(truth[F_BADFD].file, sizeof(truth[F_BADFD].file), "[fd %d]", BADFD);
	for (i = 0; i < BADFD_CALLS; i++)
		count(F_BADFD, BADFD_SIZE, do_write(BADFD, buf, BADFD_SIZE));
	barrier();
}

/*
 * A file size limit makes the third write short and the fourth fail with
 * EFBIG (SIGXFSZ, which would kill the process, is ignored for it).
 */
static NOINLINE void write_short(void)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_sa;
	struct rlimit old, lim;
	int fd, i;

	if (sigaction(SIGXFSZ, &ign, &old_sa))
		wl_die("sigaction", errno);
	if (getrlimit(RLIMIT_FSIZE, &old))
		wl_die("getrlimit", errno);
	lim = old;
	lim.rlim_cur = SHORT_LIMIT;
	if (setrlimit(RLIMIT_FSIZE, &lim))
		wl_die("setrlimit", errno);
	fd = open_out(F_SHORT, "short.out");
	for (i = 0; i < SHORT_CALLS; i++)
		count(F_SHORT, SHORT_SIZE, do_write(fd, buf, SHORT_SIZE));
	must_close(fd);
	if (setrlimit(RLIMIT_FSIZE, &old))
		wl_die("setrlimit", errno);
	if (sigaction(SIGXFSZ, &old_sa, NULL))
		wl_die("sigaction", errno);
	barrier();
}

/* ---------------------------------------------------------- main */

static NOINLINE void bench_loop(int fd, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (do_write(fd, buf, BENCH_SIZE) != BENCH_SIZE)
			wl_die("write /dev/null", errno);
	barrier();
}

static NOINLINE void bench(long n)
{
	long long t0, ns;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		wl_die("/dev/null", errno);
	t0 = wl_clock_ns(CLOCK_MONOTONIC);
	bench_loop(fd, n);
	ns = wl_clock_ns(CLOCK_MONOTONIC) - t0;
	close(fd);
	printf("writer: bench %ld writes in %lld ns: %.1f ns per write\n", n, ns,
	       (double)ns / (double)n);
}

static void usage(void)
{
	fprintf(stderr, "usage: writer DIR [--delay SEC] [--hold SEC] [--truth FILE]\n"
			"       writer --bench N\n");
	exit(2);
}

static void print_truth(FILE *f)
{
	int i;

	for (i = 0; i < NR_FUNCS; i++)
		fprintf(f, "writer: truth %s %s %llu %llu %llu %llu\n", func_names[i],
			truth[i].file, truth[i].written, truth[i].requested, truth[i].calls,
			truth[i].failed);
	fprintf(f, "writer: pid %d\n", (int)getpid());
}

static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *truth_path = NULL, *dir_arg = NULL;
	double delay = 0, hold_s = 0;
	long bench_writes = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--delay") && i + 1 < argc)
			delay = wl_parse_seconds(argv[++i], usage);
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold_s = wl_parse_seconds(argv[++i], usage);
		else if (!strcmp(argv[i], "--truth") && i + 1 < argc)
			truth_path = argv[++i];
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench_writes = parse_count(argv[++i], 1000000000L);
		else if (argv[i][0] != '-' && !dir_arg)
			dir_arg = argv[i];
		else
			usage();
	}
	memset(buf, 'w', sizeof(buf));
	if (bench_writes) {
		if (dir_arg)
			usage();
		bench(bench_writes);
		return 0;
	}
	if (!dir_arg)
		usage();
	/* The name /proc/PID/fd gives: absolute, no symlinks. */
	if (!realpath(dir_arg, dir))
		wl_die(dir_arg, errno);
	if (delay > 0)
		startup_delay((long long)(delay * NSEC_PER_SEC));

	/* The measured part. */
	write_plain();
	write_positional();
	write_vectored();
	write_pvectored();
	write_devnull();
	write_pipe();
	write_socket();
	write_badfd();
	write_short();

	print_truth(stderr);
	if (truth_path) {
		FILE *f = fopen(truth_path, "w");

		if (!f)
			wl_die(truth_path, errno);
		print_truth(f);
		if (fclose(f))
			wl_die(truth_path, errno);
	}
	if (hold_s > 0)
		hold((long long)(hold_s * NSEC_PER_SEC));
	return 0;
}

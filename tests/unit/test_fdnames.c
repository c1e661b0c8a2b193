/* fdnames on real processes: this one and a child it forks, through close, reuse and exit. */
#define _GNU_SOURCE /* pipe2 */
#include "symbols/fdnames.h"
#include "symbols/syms.h"

#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct syms *sy;

static const char *name(uint64_t label)
{
	return label ? syms__user_name(sy, label, true) : "(none)";
}

int main(void)
{
	char dir[] = "/tmp/fdnames.XXXXXX", a[PATH_MAX], b[PATH_MAX], want[64];
	struct fdnames *f;
	uint32_t self = (uint32_t)getpid();
	int fd, fd2, pfd[2], go[2], ready[2];
	pid_t child;

	sy = syms__new("/nonexistent/kallsyms");
	CHECK(sy != NULL);
	CHECK(mkdtemp(dir) != NULL);
	f = fdnames__new(sy);
	CHECK(f != NULL);
	if (!sy || !f)
		return 1;
	snprintf(a, sizeof(a), "%s/a.log", dir);
	snprintf(b, sizeof(b), "%s/b.log", dir);

	/* A path, a pipe and a device, each as the kernel names it. */
	fd = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK_STR(name(fdnames__get(f, self, fd)), a);
	CHECK(!pipe2(pfd, O_CLOEXEC));
	snprintf(want, sizeof(want), "pipe:");
	CHECK_STR(name(fdnames__get(f, self, pfd[1])), want);
	fd2 = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK_STR(name(fdnames__get(f, self, fd2)), "/dev/null");
	CHECK_EQ_U64(fdnames__get(f, self, 1000), 0);

	/* Known names are kept: reusing the number without telling the model keeps the old one. */
	close(fd);
	CHECK(open(b, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) == fd);
	CHECK_STR(name(fdnames__get(f, self, fd)), a);
	/* Forgotten (as on close), the number is read again. */
	fdnames__forget(f, self, (uint32_t)fd, (uint32_t)fd);
	CHECK_STR(name(fdnames__get(f, self, fd)), b);
	/* fdnames__read replaces at once (as when an open is seen). */
	close(fd);
	CHECK(open(a, O_WRONLY | O_CLOEXEC) == fd);
	CHECK_STR(name(fdnames__read(f, self, fd)), a);
	CHECK_STR(name(fdnames__get(f, self, fd)), a);

	/* close_range-style forgetting of a wide range walks what is known. */
	fdnames__forget(f, self, 3, ~0U);
	CHECK_STR(name(fdnames__get(f, self, 1)), name(fdnames__read(f, self, 1)));
	CHECK(fdnames__nr(f) >= 1);

	/* A child: its names survive its exit; unknown fds then give 0 without a retry. */
	CHECK(!pipe(go));
	CHECK(!pipe(ready));
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		char c = 'r';
		int cfd = open(b, O_WRONLY);

		(void)cfd;
		close(go[1]);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	{
		char c;

		/* The child has opened b.log once it says so. */
		CHECK(read(ready[0], &c, 1) == 1);
	}
	CHECK(fdnames__scan(f, (uint32_t)child) >= 4);
	{
		int cfd = -1;

		for (int i = 3; i < 16 && cfd < 0; i++)
			if (!strcmp(name(fdnames__get(f, (uint32_t)child, i)), b))
				cfd = i;
		CHECK(cfd >= 0);
		close(go[1]);
		waitpid(child, NULL, 0);
		CHECK_STR(name(fdnames__get(f, (uint32_t)child, cfd)), b);
		CHECK_EQ_U64(fdnames__get(f, (uint32_t)child, 200), 0);
		/* A scan of a process that is gone keeps what was known. */
		CHECK(fdnames__scan(f, (uint32_t)child) < 0);
		CHECK_STR(name(fdnames__get(f, (uint32_t)child, cfd)), b);

		/* A fork copies the names; the copy lives on its own. */
		fdnames__fork(f, (uint32_t)child, 999999);
		CHECK_STR(name(fdnames__get(f, 999999, cfd)), b);
		fdnames__set(f, 999999, cfd, 0);
		CHECK_EQ_U64(fdnames__get(f, 999999, cfd), 0);
		CHECK_STR(name(fdnames__get(f, (uint32_t)child, cfd)), b);
	}

	fdnames__delete(f);
	syms__delete(sy);
	unlink(a);
	unlink(b);
	rmdir(dir);
	CHECK_DONE();
}

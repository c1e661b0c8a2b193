/* The reaper process: undoes this process's tracefs changes once it is gone, however it went. */
#define _GNU_SOURCE
#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

/* How long the reaper retries a command the kernel answers EBUSY, and how often. */
#define REAPER_BUSY_MS 10000
#define REAPER_RETRY_MS 20
/* The pipe end the reaper reads, once every other fd is closed. */
#define REAPER_IN_FD 3

/*
 * Setup is single-threaded, so the state is plain. It belongs to the process
 * that started the reaper: a forked child inherits a copy of the pipe's
 * write end, which must neither keep the reaper waiting nor stop it.
 */
static struct {
	pid_t owner;
	pid_t pid;
	int fd;	   /* write end, -1 when none */
	bool gone; /* the reaper died before its time: not started again */
} rp = {.fd = -1};

/* A forked child starts without a reaper: it drops its copy of the parent's pipe. */
static void reaper__own(void)
{
	pid_t self = getpid();

	if (rp.owner == self)
		return;
	if (rp.fd >= 0)
		close(rp.fd);
	rp.fd = -1;
	rp.pid = 0;
	rp.owner = self;
}

/* ------------------------------------------------------------ in the reaper */

struct undo {
	char *path;
	char *cmd;
};

static struct undo *undos;
static size_t nr_undos, cap_undos;

static void undo_add(const char *path, const char *cmd)
{
	if (nr_undos == cap_undos) {
		size_t cap = cap_undos ? 2 * cap_undos : 16;
		struct undo *p = realloc(undos, cap * sizeof(*p));

		if (!p)
			return;
		undos = p;
		cap_undos = cap;
	}
	undos[nr_undos].path = strdup(path);
	undos[nr_undos].cmd = strdup(cmd);
	if (undos[nr_undos].path && undos[nr_undos].cmd) {
		nr_undos++;
		return;
	}
	free(undos[nr_undos].path);
	free(undos[nr_undos].cmd);
}

static void undo_forget(const char *path, const char *cmd)
{
	for (size_t i = 0; i < nr_undos; i++) {
		if (strcmp(undos[i].path, path) || strcmp(undos[i].cmd, cmd))
			continue;
		free(undos[i].path);
		free(undos[i].cmd);
		undos[i] = undos[--nr_undos];
		return;
	}
}

/* One message: "+PATH\tCMD" or "-PATH\tCMD" (the newline already cut). */
static void reaper__message(char *line)
{
	char *tab = strchr(line, '\t');

	if (!tab || (line[0] != '+' && line[0] != '-'))
		return;
	*tab = '\0';
	if (line[0] == '+')
		undo_add(line + 1, tab + 1);
	else
		undo_forget(line + 1, tab + 1);
}

/* Appends @cmd and a newline to @path: 0 or -errno (the kernel's answer). */
static int reaper__append(const char *path, const char *cmd)
{
	char buf[REAPER_LINE_MAX + 2];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%s\n", cmd);
	ssize_t n;
	int fd, err;

	/* O_APPEND, never O_TRUNC: truncating uprobe_events removes every uprobe on the system. */
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return err;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Runs every command left. EBUSY means a perf event still uses the probe:
 * the dead process's events are released as it exits, which may end a
 * little after its end of the pipe closed, so those are tried again.
 */
static void reaper__undo_all(void)
{
	long waited = 0;

	while (nr_undos) {
		size_t i = 0;

		while (i < nr_undos) {
			int err = reaper__append(undos[i].path, undos[i].cmd);

			if (err == -EBUSY && waited < REAPER_BUSY_MS) {
				i++;
				continue;
			}
			/* ENOENT: gone already, which is what was wanted. */
			if (!err || err == -ENOENT)
				pr_debug("reaper: %s >> %s", undos[i].cmd, undos[i].path);
			else
				pr_warn(
				    "reaper: cannot undo with '%s' >> %s: %s (run it by hand; the "
				    "next stackprof run also removes what a killed run left)",
				    undos[i].cmd, undos[i].path, strerror(-err));
			undo_forget(undos[i].path, undos[i].cmd);
		}
		if (nr_undos) {
			sleep_ms(REAPER_RETRY_MS);
			waited += REAPER_RETRY_MS;
		}
	}
}

/* Closes every fd from @first up: the reaper must hold no perf event and no pipe but its own. */
static void close_from(int first)
{
	long max;

#ifdef SYS_close_range
	if (!syscall(SYS_close_range, (unsigned int)first, ~0U, 0))
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = first; fd < max; fd++)
		close(fd);
}

static void reaper__detach_fds(int in)
{
	int null;

	/* The pipe goes to its place first: /dev/null may open there otherwise. */
	if (in != REAPER_IN_FD) {
		dup2(in, REAPER_IN_FD);
		close(in);
	}
	/*
	 * stdin and stdout go: whoever reads stackprof's output gets its EOF
	 * when stackprof ends. stderr stays, for the reaper's own warnings.
	 */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0 && null != REAPER_IN_FD) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	close_from(REAPER_IN_FD + 1);
}

static void reaper__main(int in)
{
	static const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
	char buf[2 * REAPER_LINE_MAX + 8];
	size_t used = 0;
	sigset_t none;

	prctl(PR_SET_NAME, REAPER_COMM);
	/*
	 * A terminal sends Ctrl-C, Ctrl-\ and hang-ups to the whole foreground
	 * process group: the reaper must outlive a stackprof they end. Ignored
	 * before unblocking, so that one already pending is dropped.
	 */
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	reaper__detach_fds(in);
	/* Holding no directory: the reaper keeps no file system busy. */
	if (chdir("/"))
		pr_debug("reaper: cannot change to /: %s", strerror(errno));

	for (;;) {
		ssize_t n = read(REAPER_IN_FD, buf + used, sizeof(buf) - 1 - used);
		char *line, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF: stackprof is gone, or done */
		used += (size_t)n;
		buf[used] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			reaper__message(line);
			line = nl + 1;
		}
		used -= (size_t)(line - buf);
		memmove(buf, line, used);
		/* A line longer than any message: drop it rather than stall. */
		if (used == sizeof(buf) - 1)
			used = 0;
	}
	reaper__undo_all();
	_exit(0);
}

/* ------------------------------------------------------------ in stackprof */

static int reaper__start(void)
{
	int p[2], err;
	pid_t pid;

	if (rp.gone)
		return -ESRCH;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	/* Flushed now, or the child's copy of a stdio buffer could be written twice. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		close(p[1]);
		reaper__main(p[0]);
	}
	close(p[0]);
	/* Never block stackprof on a reaper that does not read. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	rp.fd = p[1];
	rp.pid = pid;
	pr_debug("reaper: started as pid %d", (int)pid);
	return 0;
}

/* Writes one message; a reaper that died turns SIGPIPE into EPIPE, not our death. */
static int reaper__send(char op, const char *path, const char *cmd)
{
	char buf[2 * REAPER_LINE_MAX + 8];
	struct timespec zero = {0};
	sigset_t pipe_set, old;
	ssize_t n;
	int len, err = 0;

	if (strlen(path) >= REAPER_LINE_MAX || strlen(cmd) >= REAPER_LINE_MAX ||
	    strpbrk(path, "\t\n") || strchr(cmd, '\n'))
		return -EINVAL;
	len = snprintf(buf, sizeof(buf), "%c%s\t%s\n", op, path, cmd);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	/* Shorter than PIPE_BUF: written whole or not at all. */
	n = write(rp.fd, buf, (size_t)len);
	if (n < 0) {
		err = -errno;
		if (err == -EPIPE)
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err == -EPIPE) {
		pr_warn("reaper: pid %d is gone: if stackprof is killed, the next run removes "
			"what it leaves in tracefs",
			(int)rp.pid);
		close(rp.fd);
		rp.fd = -1;
		waitpid(rp.pid, NULL, WNOHANG);
		rp.pid = 0;
		rp.gone = true;
	}
	return err;
}

int reaper__add(const char *path, const char *cmd)
{
	int err;

	reaper__own();
	if (rp.fd < 0) {
		err = reaper__start();
		if (err)
			return err;
	}
	return reaper__send('+', path, cmd);
}

void reaper__forget(const char *path, const char *cmd)
{
	reaper__own();
	if (rp.fd >= 0)
		reaper__send('-', path, cmd);
}

void reaper__stop(bool wait)
{
	pid_t pid;

	reaper__own();
	if (rp.fd < 0)
		return;
	close(rp.fd);
	rp.fd = -1;
	pid = rp.pid;
	rp.pid = 0;
	if (!wait) {
		pr_debug("reaper: pid %d goes on alone", (int)pid);
		return;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	pr_debug("reaper: pid %d done", (int)pid);
}

void reaper__close_inherited(void)
{
	reaper__own();
}

int reaper__pid(void)
{
	return rp.owner == getpid() ? rp.pid : 0;
}

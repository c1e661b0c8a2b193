/*
 * Workload whose process changes shape while it is profiled: it creates a
 * thread, forks a child that exits, then execs itself, each spinning in a
 * function of its own for a known amount of CPU time.
 *
 *   churn [--scale X]
 *     main thread "churn":        main_spin    400 ms of CPU  (concurrently:)
 *     thread "churn-thread":      thread_spin  600 ms of CPU
 *     child process "churn-child": child_spin  600 ms of CPU, then exits
 *     then, once the thread and the child are done, the main thread execs
 *     this program again with --exec-phase:
 *     process "churn" (same pid):  exec_spin   800 ms of CPU
 *   With --scale X every budget is multiplied by X.
 *
 *   churn --spawn RATE SECONDS
 *     spawn_loop starts /bin/true RATE times a second for SECONDS (and waits
 *     for each), for tests of a profiler's memory while thousands of short
 *     processes come and go; prints how many it started.
 *
 * Budgets are thread CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time, so
 * their ratio 2:3:3:4 holds however loaded the machine is. Each function
 * of interest is noinline and the tests build this file with frame
 * pointers. The truth goes to stderr, one line per function:
 *   churn: truth FUNC CPU_NS PID TID
 * and the child's and the exec'd phase's lines are written by those
 * processes themselves, so a profile can be compared with what ran.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "workload.h"

#define MS (1000 * 1000LL)
#define CHUNK_ITERS 20000L

const char *wl_name = "churn";
extern char **environ;

static volatile unsigned long sink;
static double scale = 1.0;

/* Burns @ns of the calling thread's CPU time; the loop is here, so samples land in spin. */
static NOINLINE void spin(long long ns)
{
	long long end = wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
	unsigned long acc = 0;

	do {
		for (long i = 0; i < CHUNK_ITERS; i++) {
			acc += (unsigned long)i ^ (acc >> 3);
			barrier();
		}
	} while (wl_clock_ns(CLOCK_THREAD_CPUTIME_ID) < end);
	sink += acc;
}

static void truth(const char *func, long long ns)
{
	fprintf(stderr, "churn: truth %s %lld %d %d\n", func, ns, (int)getpid(), (int)gettid());
	fflush(stderr);
}

static long long budget(long long ms)
{
	return (long long)((double)ms * MS * scale);
}

static NOINLINE void main_spin(void)
{
	spin(budget(400));
	barrier();
}

static NOINLINE void thread_spin(void)
{
	spin(budget(600));
	barrier();
}

static NOINLINE void child_spin(void)
{
	spin(budget(600));
	barrier();
}

static NOINLINE void exec_spin(void)
{
	spin(budget(800));
	barrier();
}

static NOINLINE void *thread_main(void *arg)
{
	(void)arg;
	thread_spin();
	truth("thread_spin", budget(600));
	return NULL;
}

static NOINLINE pid_t start_child(void)
{
	pid_t pid = fork();

	if (pid < 0)
		wl_die("fork", errno);
	if (pid == 0) {
		prctl(PR_SET_NAME, "churn-child");
		child_spin();
		truth("child_spin", budget(600));
		_exit(0);
	}
	return pid;
}

/* Execs this program's own file by its real path, so the new image's comm is still "churn". */
static NOINLINE void exec_self(char *argv0)
{
	char sc[32], path[4096];
	char *args[] = {argv0, "--exec-phase", "--scale", sc, NULL};
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n < 0)
		wl_die("readlink /proc/self/exe", errno);
	path[n] = '\0';
	snprintf(sc, sizeof(sc), "%.6g", scale);
	fflush(stderr);
	execv(path, args);
	wl_die("exec", errno);
}

static int first_phase(char *argv0)
{
	pthread_t thread;
	pid_t child;
	int status, err;

	err = pthread_create(&thread, NULL, thread_main, NULL);
	if (err)
		wl_die("pthread_create", err);
	pthread_setname_np(thread, "churn-thread");
	child = start_child();
	main_spin();
	truth("main_spin", budget(400));
	pthread_join(thread, NULL);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		wl_die("the child failed", ECHILD);
	exec_self(argv0);
	return 1;
}

static int exec_phase(void)
{
	exec_spin();
	truth("exec_spin", budget(800));
	return 0;
}

/* Starts /bin/true @rate times a second for @secs, each waited for; returns how many. */
static NOINLINE long spawn_loop(double rate, double secs)
{
	long long start = wl_clock_ns(CLOCK_MONOTONIC), period = (long long)(NSEC_PER_SEC / rate);
	char *args[] = {"true", NULL};
	long n = 0;

	while (wl_clock_ns(CLOCK_MONOTONIC) - start < (long long)(secs * NSEC_PER_SEC)) {
		long long due = start + n * period, now = wl_clock_ns(CLOCK_MONOTONIC);
		pid_t pid;
		int err;

		if (due > now)
			do_nanosleep(due - now);
		err = posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ);
		if (err)
			wl_die("posix_spawn /bin/true", err);
		waitpid(pid, NULL, 0);
		n++;
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: churn [--scale X]\n       churn --spawn RATE SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	bool exec_phase_flag = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--exec-phase")) {
			exec_phase_flag = true;
		} else if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
			scale = wl_parse_seconds(argv[++i], usage);
			if (scale <= 0)
				usage();
		} else if (!strcmp(argv[i], "--spawn") && i + 2 < argc) {
			double rate = wl_parse_seconds(argv[i + 1], usage);
			double secs = wl_parse_seconds(argv[i + 2], usage);

			if (rate < 1)
				usage();
			fprintf(stderr, "churn: spawned %ld\n", spawn_loop(rate, secs));
			return 0;
		} else {
			usage();
		}
	}
	return exec_phase_flag ? exec_phase() : first_phase(argv[0]);
}

/* Target selection: which CPUs, processes, threads or launched command the events watch. */
#ifndef STACKPROF_TARGET_H
#define STACKPROF_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct target {
	const char *cpu_list; /* -C, NULL = all online CPUs */
	const char *pid_list; /* -p, comma-separated pids */
	const char *tid_list; /* -t, comma-separated tids */
	char **argv; /* -- cmd args, NULL if none */

	/* Resolved by target__resolve() */
	int *cpus;
	size_t nr_cpus;
	pid_t *pids; /* processes named by -p (for the address-space model) */
	size_t nr_pids;
	pid_t *tids; /* threads to open per-thread events for (-p expands, -t as given) */
	size_t nr_tids;
	bool system_wide; /* no -p/-t/command: every task on the CPUs */

	/* Launched command */
	char path[4096]; /* argv[0] resolved along PATH */
	pid_t child; /* 0 until target__fork(), and again once the command is reaped */
	pid_t launched; /* the command's pid, kept after it is reaped; 0 = none */
	int go_fd; /* write end: child execs when it is closed with a byte */
	int err_fd; /* read end: child reports an exec failure here */
};

/*
 * Parses a CPU list such as "0-1,3". Fills @out (malloc'd) and @nr. Returns 0
 * or -EINVAL with a message in @err (of @errlen bytes).
 */
int target__parse_cpus(const char *list, int max_cpu, int **out, size_t *nr, char *err,
		       size_t errlen);

/* Parses a comma-separated list of positive ids. Returns 0 or -EINVAL. */
int target__parse_ids(const char *list, pid_t **out, size_t *nr);

/*
 * Validates and expands the target: CPU list against the online CPUs, pids
 * and tids against /proc, the command against PATH. Prints one error line and
 * returns -errno on bad input.
 */
int target__resolve(struct target *t);

/*
 * Forks the command stopped before exec; sets t->child. The child execs when
 * target__start() is called. Returns 0 or -errno.
 */
int target__fork(struct target *t);
/* Lets the child exec. Returns 0, or -errno if exec failed (the error is printed). */
int target__start(struct target *t);
/* Kills and reaps a child that never started (error paths). */
void target__abort(struct target *t);

/*
 * Whether CPU @cpu can take events now: false when it is offline or not
 * present (a CPU-wide event there is refused with ENODEV), or when the
 * environment variable STACKPROF_FORCE_ENODEV_CPU (a CPU list, e.g. "1")
 * names it, so tests can take a CPU "offline" without touching the system.
 * Other refusals (e.g. EACCES for a user who may only watch tasks) count
 * as usable: the real events explain them.
 */
bool target__cpu_usable(int cpu);
/* Whether STACKPROF_FORCE_ENODEV_CPU names @cpu. */
bool target__cpu_forced_offline(int cpu);

void target__free(struct target *t);

#endif

/*
 * Uprobes for perf events: through the kernel's uprobe PMU when it exists
 * (the kernel removes the probe with the last fd, even on kill -9), else
 * through tracefs uprobe_events in a group named after this process,
 * removed on exit and, if a run was killed, at the next start.
 */
#ifndef STACKPROF_UPROBE_H
#define STACKPROF_UPROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/perf_event.h>

/*
 * Fills @attr (type, config, probe path and offset, sample_period 1) for a
 * probe at file offset @offset of @path: at the function's entry, or at its
 * return when @ret. @name (e.g. "malloc") names the tracefs fallback event.
 * The PMU path keeps a pointer to @path in the attr: @path must stay valid
 * until the event is opened. Returns 0 or -errno after one pr_warn line.
 */
int uprobe__attr(const char *path, uint64_t offset, bool ret, const char *name,
		 struct perf_event_attr *attr);

/* Longest fetch-argument text uprobe__create_args() takes, NUL included. */
#define UPROBE_ARGS_MAX 512
/* Room for a group or event name (the kernel's MAX_EVENT_NAME_LEN). */
#define UPROBE_NAME_MAX 64

/*
 * Creates a uprobe through tracefs uprobe_events (the uprobe PMU cannot
 * fetch arguments) at file offset @offset of @path, at the function's entry
 * or, with @ret, its return, recording fetch arguments @args in that file's
 * syntax (e.g. "path=+0(%di):string": the string the first argument points
 * to, read from the process's memory when the probe hits). Writes the
 * group and event names (UPROBE_NAME_MAX bytes each), for tp__load() or
 * session__tracepoint(). Removed with the other dynamic events at exit.
 * Returns 0 or -errno after one pr_warn line.
 */
int uprobe__create_args(const char *path, uint64_t offset, bool ret, const char *args,
			const char *name, char *group, char *event);

/* Whether the uprobe PMU is used (false when absent or when the fallback is forced). */
bool uprobe__use_pmu(void);

/*
 * Forces the tracefs fallback (also forced by the environment variable
 * STACKPROF_FORCE_NO_UPROBE_PMU=1, or the older STACKPROF_UPROBE_TRACEFS=1;
 * see core/features.h), so tests can exercise it on kernels that have the
 * PMU.
 */
void uprobe__force_tracefs(bool on);

/* Removes every tracefs uprobe event this process created. Safe to call twice. */
void uprobe__cleanup(void);

/*
 * Removes tracefs uprobe groups left by stackprof runs that were killed
 * (group "stackprof_<pid>" whose pid no longer runs stackprof). Returns the
 * number of events removed, or -errno. Touches nothing else.
 */
int uprobe__cleanup_stale(void);

/*
 * The C library process @pid maps (through /proc/PID/root, so it opens from
 * here even in another mount namespace), or the one this process maps when
 * @pid is 0 (a command not started yet). malloc'd; NULL when none.
 */
char *uprobe__libc_path(pid_t pid);

/*
 * File offset of function @func in ELF @path (from .symtab or .dynsym,
 * through the PT_LOAD headers): what a uprobe needs. Returns 0, -ENOENT when
 * the file has no such function, -ENOEXEC when it is not ELF, or -errno.
 */
int uprobe__func_offset(const char *path, const char *func, uint64_t *offset);

#endif

/* Locating tracefs, mounting it at /sys/kernel/tracing when it is not mounted. */
#ifndef STACKPROF_TRACEFS_H
#define STACKPROF_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Two views of tracefs:
 *
 * - the kernel's tracefs (tracefs__path(), tracefs__kernel_file(),
 *   tracefs__kernel_read()): where commands are written (uprobe_events) and
 *   where the events this process creates appear;
 * - the description root (tracefs__root(), tracefs__file(), tracefs__read()):
 *   where the layouts of existing tracepoints are read (events/SYS/NAME/format
 *   and id, available_events). It is the kernel's tracefs unless
 *   STACKPROF_TRACEFS names another directory.
 *
 * Environment:
 *
 *   STACKPROF_TRACEFS=DIR
 *	Read tracepoint descriptions from DIR (laid out as tracefs is:
 *	DIR/events/sched/sched_switch/format ...) instead of the kernel's
 *	tracefs, which is then not even looked for unless something must be
 *	written to it. Tests use it to feed edited format files and prove that
 *	field layouts come from the files. A missing or unreadable DIR is an
 *	error, not a fallback.
 *
 *   STACKPROF_TRACEFS_VIA=tracing|debugfs|mount
 *	Use only that step of the chain tracefs__path() walks (see there), so
 *	tests can exercise each on any machine. Any other value is an error.
 *
 * -v says which directory and which step were used.
 */

/*
 * Returns the kernel's tracefs directory, found by the first step that
 * works:
 *   tracing - a mounted tracefs: /sys/kernel/tracing if tracefs is mounted
 *             there, else the first tracefs mount /proc/mounts lists;
 *   debugfs - a mounted debugfs whose tracing/ directory holds events/
 *             (since 4.1 the kernel automounts tracefs there on first
 *             access; before, it is debugfs' own directory);
 *   mount   - tracefs mounted at /sys/kernel/tracing by this call (debugfs
 *             at /sys/kernel/debug on kernels without tracefs), unmounted
 *             again by tracefs__cleanup().
 * NULL with errno set (and one pr_warn line naming the cause) when none
 * works. The result is cached.
 */
const char *tracefs__path(void);

/* Which step tracefs__path() took: "tracing", "debugfs", "mount", or NULL if none yet. */
const char *tracefs__via(void);

/*
 * Unmounts what tracefs__path() mounted, if it still is the mount on top at
 * that place (a mount made over ours by someone else is left alone), and
 * forgets every cached answer. Called once at exit.
 */
void tracefs__cleanup(void);

/* True when tracefs__path() mounted something that tracefs__cleanup() will unmount. */
bool tracefs__mounted_here(void);

/* $STACKPROF_TRACEFS when set and non-empty, else NULL. */
const char *tracefs__override(void);

/*
 * The description root: $STACKPROF_TRACEFS (checked to be a directory) or
 * tracefs__path(). NULL with errno set after one pr_warn line.
 */
const char *tracefs__root(void);

/*
 * Writes "<root>/@rel" into @buf, under tracefs__root(). Returns 0,
 * -ENAMETOOLONG, or the tracefs__root() error.
 */
int tracefs__file(const char *rel, char *buf, size_t len);

/* As tracefs__file(), under the kernel's tracefs (tracefs__path()). */
int tracefs__kernel_file(const char *rel, char *buf, size_t len);

/*
 * Reads the whole file <root>/@rel (under tracefs__root()) into a
 * NUL-terminated malloc'd buffer (length in *@lenp when non-NULL). NULL
 * with errno set on failure; it logs nothing beyond what tracefs__root()
 * says, the caller knows what the file was for.
 */
char *tracefs__read(const char *rel, size_t *lenp);

/* As tracefs__read(), from the kernel's tracefs (tracefs__path()). */
char *tracefs__kernel_read(const char *rel, size_t *lenp);

#endif

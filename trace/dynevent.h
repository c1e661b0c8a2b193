/*
 * tracefs dynamic events (uprobe_events, kprobe_events) in a group named
 * after this process, "stackprof_<pid>": created on demand, removed on exit,
 * when the process is killed by the reaper it starts with the first event
 * (trace/reaper.h), and, should that fail too, by the next run.
 */
#ifndef STACKPROF_DYNEVENT_H
#define STACKPROF_DYNEVENT_H

#include <stdbool.h>
#include <stdint.h>

/* The kernel caps group and event names at MAX_EVENT_NAME_LEN (64, NUL included). */
#define DYNEVENT_NAME_MAX 64

/*
 * Creates "<@type>:stackprof_<pid>/<@name>_<n> <@spec>" in tracefs @file
 * ("uprobe_events" or "kprobe_events"): @type is "p", "r" or "r<maxactive>",
 * @spec what the file's syntax puts after the name ("/bin/sh:0x1234", or
 * "do_sys_openat2 path=+0(%si):ustring"). @name is made a valid event name,
 * and <n> counts past names already taken. Writes the group and event names
 * (DYNEVENT_NAME_MAX bytes each; @event holds the last name tried, or "",
 * on failure). The event is removed by dynevent__cleanup() or
 * dynevent__delete(). Returns 0, -ENAMETOOLONG when the command is too long
 * for the kernel, or -errno (a refusal by the kernel is the write's errno).
 * Logs nothing: the caller knows what @spec means and says what failed.
 */
int dynevent__create(const char *file, const char *type, const char *name, const char *spec,
		     char *group, char *event);

/*
 * Removes event @event that dynevent__create() made in @file, at once.
 * Returns 0 or -errno (-EBUSY while a perf event uses it); logs nothing.
 */
int dynevent__delete(const char *file, const char *event);

/*
 * Whether @group is this process's own group ("stackprof_<pid>"): its
 * events exist only in the kernel's tracefs, never in a STACKPROF_TRACEFS
 * copy.
 */
bool dynevent__owns_group(const char *group);

/* Reads the tracepoint id the kernel gave event @group/@event. Returns 0 or -errno. */
int dynevent__id(const char *group, const char *event, uint64_t *id);

/* The usual cause of @err (a positive errno) from dynevent__create(), for a pr_warn line. */
const char *dynevent__hint(int err);

/*
 * Removes every event this process created, in every file, and stops the
 * reaper (which retries what is still in use for up to 10 s). Safe to
 * call twice: an event that cannot go yet is kept for the next call. A
 * forked child removes none of its parent's events.
 */
void dynevent__cleanup(void);

/* As dynevent__cleanup(), for the events in tracefs @file only. */
void dynevent__cleanup_file(const char *file);

/*
 * Removes the events in tracefs @file of groups "stackprof_<pid>" left by
 * runs that are gone (no such process, a zombie, or a process that is not
 * stackprof), and those of our own group that we did not create (a dead
 * process that had our pid left them). Returns the number of events
 * removed (0 when the kernel has no such file), or -errno. Touches nothing
 * else.
 */
int dynevent__cleanup_stale(const char *file);

/*
 * Parses one line of uprobe_events or kprobe_events in place:
 * "p:group/event ...", "r:group/event ..." or "r<maxactive>:group/event ...".
 * True when the group is "stackprof_<pid>", with @pid, @group and @event
 * pointing into @line.
 */
bool dynevent__parse_line(char *line, long *pid, char **group, char **event);

#endif

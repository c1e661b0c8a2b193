/*
 * The reaper: a small child process that undoes what this process wrote to
 * tracefs (dynamic events) when this process dies without undoing it itself,
 * however it dies (kill -9, a crash).
 *
 * It is forked on the first reaper__add(). It holds the read end of a pipe
 * whose write end only this process holds; every undo command is written
 * down the pipe before the change it undoes is made, and forgotten once this
 * process has undone it. When the pipe reads EOF (this process closed it or
 * died), the reaper appends every command still remembered to its file,
 * retrying for up to 10 s those the kernel answers EBUSY (a perf event of the
 * dead process not released yet), and exits. It is named "stackprof-reap"
 * and ignores the signals a terminal sends to the whole foreground group
 * (Ctrl-C, Ctrl-\, hang-up), so it outlives a stackprof they kill.
 */
#ifndef STACKPROF_REAPER_H
#define STACKPROF_REAPER_H

#include <stdbool.h>

/* The name the reaper gives itself (its comm: 15 bytes at most). */
#define REAPER_COMM "stackprof-reap"
/* The longest file path and command line the reaper takes. */
#define REAPER_LINE_MAX 1024

/*
 * Has @cmd (one line, with its newline) appended to file @path if this
 * process dies before reaper__forget(@path, @cmd). Starts the reaper on
 * first use. Returns 0 or -errno (then nobody will undo the change: the
 * caller says so or goes on without).
 */
int reaper__add(const char *path, const char *cmd);

/* This process undid @cmd itself: the reaper forgets it. */
void reaper__forget(const char *path, const char *cmd);

/*
 * Ends the reaper: closes the pipe, so that it runs what is left and
 * exits. With @wait, waits for it: do so when everything was undone, so
 * it exits at once. Without, it goes on alone (retrying what the kernel
 * still finds busy, for up to 10 s) and init reaps it after we exit. Safe
 * to call when no reaper runs, and in a forked child (which only drops its
 * copy).
 */
void reaper__stop(bool wait);

/*
 * In a child forked by this process (a command about to exec): closes the
 * child's copy of the pipe's write end, so that only this process keeps
 * the reaper waiting. The pipe is close-on-exec too; this covers the time
 * before the exec.
 */
void reaper__close_inherited(void);

/* The reaper's pid, 0 when none runs (for tests and debug output). */
int reaper__pid(void);

#endif

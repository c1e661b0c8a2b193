/* Locating tracefs, mounting it at /sys/kernel/tracing when it is not mounted. */
#ifndef STACKPROF_TRACEFS_H
#define STACKPROF_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Returns the tracefs directory: an existing tracefs mount (from
 * /proc/mounts, or debugfs's tracing/ directory), else tracefs mounted at
 * /sys/kernel/tracing by this call. NULL with errno set (and one pr_warn
 * line naming the cause) when neither works. The result is cached.
 */
const char *tracefs__path(void);

/* Unmounts tracefs if tracefs__path() mounted it. Called once at exit. */
void tracefs__cleanup(void);

/* True when tracefs__path() mounted something that tracefs__cleanup() will unmount. */
bool tracefs__mounted_here(void);

/*
 * Writes "<tracefs>/@rel" into @buf. Returns 0, -ENAMETOOLONG, or the
 * tracefs__path() error.
 */
int tracefs__file(const char *rel, char *buf, size_t len);

/*
 * Reads the whole file <tracefs>/@rel into a NUL-terminated malloc'd
 * buffer (length in *@lenp when non-NULL). NULL with errno set on failure;
 * it logs nothing, the caller knows what the file was for.
 */
char *tracefs__read(const char *rel, size_t *lenp);

#endif

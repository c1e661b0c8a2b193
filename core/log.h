/* One logging path for the whole tool: warnings, info and debug, gated by -v. */
#ifndef STACKPROF_LOG_H
#define STACKPROF_LOG_H

#include <stdio.h>

enum log_level {
	LOG_WARN = 0, /* always printed */
	LOG_INFO = 1, /* -v */
	LOG_DEBUG = 2, /* -vv */
};

/* Current verbosity; messages above it are dropped. */
extern int log_verbosity;

/* Prints "stackprof: <message>\n" to stderr when @level <= log_verbosity. */
void log__printf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(...) log__printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log__printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log__printf(LOG_DEBUG, __VA_ARGS__)

#endif

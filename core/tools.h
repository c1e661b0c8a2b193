/*
 * Commands that read profiles instead of recording them: `stackprof fold`
 * (perf script text to folded stacks), `stackprof compare` (two profiles
 * side by side) and `stackprof flamegraph` (an SVG flame graph). They share
 * the command line's conventions.
 */
#ifndef STACKPROF_TOOLS_H
#define STACKPROF_TOOLS_H

#include <stdio.h>

/* Each returns the process exit status: 0, 1 (failed), 2 (bad usage). */
int fold__main(int argc, char **argv);
int compare__main(int argc, char **argv);
int flamegraph__main(int argc, char **argv);

/*
 * The options every reading command shares, after getopt_long returned @c:
 * -o FILE into *@output, -v, -h (prints @usage). Returns 0 when handled and
 * the parse goes on, 1 when the command should exit 0 (help), 2 for bad
 * usage (said), -1 when @c is not one of them.
 */
int tools__common_option(const char *who, int c, char **argv, const char **output,
			 void (*usage)(FILE *f));

/* One error line for getopt_long's '?' (unknown option) or ':' (missing value), key @c. */
void tools__bad_option(const char *who, char **argv, int c);

/*
 * The command line as reports record it: "stackprof" and @argc words of
 * @argv, joined by spaces. A malloc'd string, NULL when out of memory.
 */
char *tools__cmdline(int argc, char **argv);

/* Checks up front that @path can be written (its directory exists, ...). Returns 0 or -errno. */
int tools__check_output(const char *who, const char *path);

#endif

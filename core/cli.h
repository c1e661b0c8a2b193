/* The command line: global options, profiler selection, common options, and the run. */
#ifndef STACKPROF_CLI_H
#define STACKPROF_CLI_H

/* What --version prints, and what the reports say made them. */
#include "version.h"

/* Parses @argv, runs the chosen profiler and returns the process exit status. */
int cli__main(int argc, char **argv);

#endif

/* stackprof's version, for --version and the reports that carry it. */
#ifndef STACKPROF_VERSION_H
#define STACKPROF_VERSION_H

#define STACKPROF_VERSION "0.1.0"

#endif

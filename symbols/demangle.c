/* Symbol demangling through libiberty, the GNU toolchain's demangler (C++ and Rust). */
#include "demangle.h"

#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

char *demangle__name(const char *sym)
{
	/* Only what libiberty recognizes; anything else is a plain C name. */
	if (sym[0] != '_' || (sym[1] != 'Z' && sym[1] != 'R'))
		return NULL;
	/*
	 * Without DMGL_PARAMS: the argument list is noise in a flame graph and
	 * would make overloads distinct frames that the folded format (and
	 * perf script's folded form) merges.
	 */
	return cplus_demangle(sym, DMGL_ANSI);
}

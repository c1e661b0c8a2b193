/* The single logging sink: every diagnostic goes to stderr through here. */
#include "log.h"

#include <stdarg.h>

int log_verbosity;

void log__printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_verbosity)
		return;
	fputs("stackprof: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

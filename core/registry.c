/* The registry: every profiler stackprof has, in the order --help lists them. */
#include "profiler.h"

#include <stddef.h>
#include <string.h>

extern const struct profiler oncpu_profiler;
extern const struct profiler offcpu_profiler;
extern const struct profiler memleak_profiler;
extern const struct profiler iowrite_profiler;

const struct profiler *const profilers[] = {
	&oncpu_profiler,
	&offcpu_profiler,
	&memleak_profiler,
	&iowrite_profiler,
	NULL,
};

const struct profiler *profiler__find(const char *name)
{
	for (size_t i = 0; profilers[i]; i++)
		if (!strcmp(profilers[i]->name, name))
			return profilers[i];
	return NULL;
}

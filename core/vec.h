/* Growing arrays: the one helper the writers of reports share. */
#ifndef STACKPROF_VEC_H
#define STACKPROF_VEC_H

#include <errno.h>
#include <stdlib.h>

/*
 * Makes room for one more element in *@v (@nr used, *@cap allocated, each
 * @size bytes), doubling from @first. Returns 0 or -ENOMEM (*@v untouched).
 */
static inline int vec__grow(void **v, size_t *cap, size_t nr, size_t size, size_t first)
{
	size_t c;
	void *p;

	if (nr < *cap)
		return 0;
	c = *cap ? *cap * 2 : first;
	p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

#endif

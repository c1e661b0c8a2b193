/* Per-thread slots for profilers: tid -> index in one growable array of zeroed slots. */
#include "tid_table.h"
#include "symbols/u64map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tid_table {
	struct u64map *index; /* tid -> slot index + 1 */
	char *slots;
	size_t elem_size, nr, cap;
};

struct tid_table *tid_table__new(size_t elem_size)
{
	struct tid_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->elem_size = elem_size;
	t->index = u64map__new();
	if (!t->index) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void tid_table__delete(struct tid_table *t)
{
	if (!t)
		return;
	u64map__delete(t->index);
	free(t->slots);
	free(t);
}

void *tid_table__get(struct tid_table *t, uint32_t tid, bool create)
{
	uint64_t idx;

	if (u64map__get(t->index, tid, &idx))
		return t->slots + (idx - 1) * t->elem_size;
	if (!create)
		return NULL;
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char *s = realloc(t->slots, cap * t->elem_size);

		if (!s)
			return NULL;
		t->slots = s;
		t->cap = cap;
	}
	if (u64map__put(t->index, tid, t->nr + 1))
		return NULL;
	memset(t->slots + t->nr * t->elem_size, 0, t->elem_size);
	return t->slots + t->nr++ * t->elem_size;
}

size_t tid_table__nr(const struct tid_table *t)
{
	return t->nr;
}

void *tid_table__at(const struct tid_table *t, size_t i)
{
	return i < t->nr ? t->slots + i * t->elem_size : NULL;
}

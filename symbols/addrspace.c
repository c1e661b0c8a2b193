/* Per-process executable mappings kept sorted, with mmap's replace-what-overlaps semantics. */
#include "addrspace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct addrspace {
	struct addrspace_map *maps;
	size_t nr, cap;
};

struct addrspace *addrspace__new(void)
{
	return calloc(1, sizeof(struct addrspace));
}

void addrspace__delete(struct addrspace *as)
{
	if (!as)
		return;
	free(as->maps);
	free(as);
}

struct addrspace *addrspace__clone(const struct addrspace *as)
{
	struct addrspace *copy = addrspace__new();

	if (!copy)
		return NULL;
	if (!as->nr)
		return copy;
	copy->maps = malloc(as->nr * sizeof(*copy->maps));
	if (!copy->maps) {
		free(copy);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(copy->maps, as->maps, as->nr * sizeof(*copy->maps));
	copy->nr = copy->cap = as->nr;
	return copy;
}

void addrspace__clear(struct addrspace *as)
{
	as->nr = 0;
}

static int reserve(struct addrspace *as, size_t n)
{
	size_t cap = as->cap ? as->cap : 16;
	struct addrspace_map *p;

	if (n <= as->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	p = realloc(as->maps, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	as->maps = p;
	as->cap = cap;
	return 0;
}

/* First mapping whose end is above @addr. Ends are sorted too, since mappings do not overlap. */
static size_t first_ending_after(const struct addrspace *as, uint64_t addr)
{
	size_t lo = 0, hi = as->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (as->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int addrspace__insert(struct addrspace *as, uint64_t start, uint64_t end, uint64_t pgoff,
		      uint32_t dso)
{
	struct addrspace_map left, right, *m;
	size_t i, k, nr_new;
	int has_left = 0, has_right = 0, err;

	if (start >= end)
		return -EINVAL;
	/* Overlapped mappings are [i, k): they end after start and begin before end. */
	i = first_ending_after(as, start);
	for (k = i; k < as->nr && as->maps[k].start < end; k++)
		;
	if (k > i && as->maps[i].start < start) {
		/* The head of the first overlapped mapping survives below the new one. */
		left = as->maps[i];
		left.end = start;
		has_left = 1;
	}
	if (k > i && as->maps[k - 1].end > end) {
		/* The tail of the last survives above it, further into its file. */
		right = as->maps[k - 1];
		right.pgoff += end - right.start;
		right.start = end;
		has_right = 1;
	}
	nr_new = has_left + (dso != 0) + has_right;
	if (!nr_new && k == i)
		return 0; /* an anonymous mapping over nothing we track */
	if (nr_new > k - i) {
		err = reserve(as, as->nr + nr_new - (k - i));
		if (err)
			return err;
	}
	memmove(&as->maps[i + nr_new], &as->maps[k], (as->nr - k) * sizeof(*as->maps));
	as->nr = as->nr - (k - i) + nr_new;
	m = &as->maps[i];
	if (has_left)
		*m++ = left;
	if (dso) {
		m->start = start;
		m->end = end;
		m->pgoff = pgoff;
		m->dso = dso;
		m++;
	}
	if (has_right)
		*m = right;
	return 0;
}

const struct addrspace_map *addrspace__find(const struct addrspace *as, uint64_t addr)
{
	size_t i = first_ending_after(as, addr);

	if (i < as->nr && as->maps[i].start <= addr)
		return &as->maps[i];
	return NULL;
}

size_t addrspace__nr(const struct addrspace *as)
{
	return as->nr;
}

const struct addrspace_map *addrspace__map(const struct addrspace *as, size_t i)
{
	return i < as->nr ? &as->maps[i] : NULL;
}

size_t addrspace__bytes(const struct addrspace *as)
{
	return sizeof(*as) + as->cap * sizeof(*as->maps);
}

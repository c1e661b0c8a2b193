/* The executable mappings of one process: a sorted, non-overlapping list of file ranges. */
#ifndef STACKPROF_ADDRSPACE_H
#define STACKPROF_ADDRSPACE_H

#include <stddef.h>
#include <stdint.h>

/* [start, end) of the process maps file offset pgoff.. of dso @dso (never 0). */
struct addrspace_map {
	uint64_t start, end;
	uint64_t pgoff;
	uint32_t dso;
};

struct addrspace;

/* Creates an empty address space. Returns NULL and sets errno on failure. */
struct addrspace *addrspace__new(void);
void addrspace__delete(struct addrspace *as);

/* A copy of @as (fork). Returns NULL and sets errno on failure. */
struct addrspace *addrspace__clone(const struct addrspace *as);

/* Drops every mapping (exec). */
void addrspace__clear(struct addrspace *as);

/*
 * Maps [start, end) to @dso at file offset @pgoff. Older mappings that overlap
 * are trimmed or split around it, as the kernel does on mmap. With @dso 0 the
 * range only unmaps what was there (an anonymous mapping took its place).
 * Returns 0, -EINVAL for an empty range, or -ENOMEM.
 */
int addrspace__insert(struct addrspace *as, uint64_t start, uint64_t end, uint64_t pgoff,
		      uint32_t dso);

/* The mapping containing @addr, or NULL. Valid until the next change to @as. */
const struct addrspace_map *addrspace__find(const struct addrspace *as, uint64_t addr);

/* Number of mappings, and the @i-th in address order (for tests and dumps). */
size_t addrspace__nr(const struct addrspace *as);
const struct addrspace_map *addrspace__map(const struct addrspace *as, size_t i);

/* Memory held by @as. */
size_t addrspace__bytes(const struct addrspace *as);

#endif

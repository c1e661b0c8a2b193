/* Records and samples the kernel lost, counted by the CPU whose ring buffer lost them. */
#ifndef STACKPROF_LOSSES_H
#define STACKPROF_LOSSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct losses;

/* Counts for CPUs 0..@max_cpu. Returns NULL and sets errno on failure. */
struct losses *losses__new(int max_cpu);
void losses__delete(struct losses *l);

/*
 * @n records (a LOST record's count) or, with @samples, samples (a
 * LOST_SAMPLES record's) lost by the ring of @cpu. A CPU out of range
 * counts in the totals only.
 */
void losses__add(struct losses *l, int cpu, bool samples, uint64_t n);

uint64_t losses__records(const struct losses *l);
uint64_t losses__samples(const struct losses *l);
/* Records and samples lost by the ring of @cpu. */
uint64_t losses__on_cpu(const struct losses *l, int cpu);

/*
 * "# lost N records on CPU a, M on CPU b" (the CPUs that lost any, in
 * order), and the same line for samples; nothing for a kind none lost.
 */
void losses__print_by_cpu(const struct losses *l, FILE *f);

/* "N on CPU a, M on CPU b" of records and samples together into @buf; returns @buf. */
const char *losses__cpus_text(const struct losses *l, char *buf, size_t len);

#endif

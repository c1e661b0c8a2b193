/*
 * Per-thread state for profilers: a zeroed slot of fixed size per thread id,
 * created on first use. Slots live in one array that may move when it
 * grows, so a slot pointer is valid until the next tid_table__get(..., true).
 */
#ifndef STACKPROF_TID_TABLE_H
#define STACKPROF_TID_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tid_table;

/* Slots of @elem_size bytes. NULL and errno on failure. */
struct tid_table *tid_table__new(size_t elem_size);
void tid_table__delete(struct tid_table *t);

/*
 * The slot of thread @tid: when it has none, a new zeroed one if @create,
 * else NULL. NULL also when memory runs out.
 */
void *tid_table__get(struct tid_table *t, uint32_t tid, bool create);

/* Number of slots, and slot @i (0 <= i < nr), in order of creation. */
size_t tid_table__nr(const struct tid_table *t);
void *tid_table__at(const struct tid_table *t, size_t i);

#endif

/*
 * The shared stack table: one entry per (process, thread, thread name, kernel
 * chain, user chain), valued by a few u64 counters whose meaning the profiler names.
 */
#ifndef STACKPROF_STACK_TABLE_H
#define STACKPROF_STACK_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define STACK_TABLE_MAX_VALS 4
#define STACK_TABLE_MAX_DEPTH 255 /* frames per side; deeper chains are cut at the root */
#define STACK_COMM_LEN 16

struct stack_table;
struct stack_entry;

/*
 * Creates a table whose entries carry @nr_vals counters (1..STACK_TABLE_MAX_VALS).
 * @max_bytes bounds the memory of entries plus buckets; 0 means the default
 * (256 MiB); stack_table__set_limit() also bounds the number of stacks.
 * Returns NULL and sets errno on failure.
 */
struct stack_table *stack_table__new(unsigned int nr_vals, size_t max_bytes);
void stack_table__delete(struct stack_table *t);

/*
 * Adds @vals to the entry for this stack, creating it if needed. @pid and
 * @tid are the process and thread (0 when unknown); @kernel and
 * @user are leaf-first; user frames are locations from syms__encode_user()
 * or labels. An empty @comm means the stack carries its own root: the
 * outermost user frame is shown where the comm would be (stacks read from
 * other tools' text, whose first element is "comm-pid" or the like).
 * Returns 0, or -ENOSPC when the table is full (the stack is counted in
 * stack_table__dropped()).
 */
int stack_table__add(struct stack_table *t, uint32_t pid, uint32_t tid, const char *comm,
		     const uint64_t *kernel, uint32_t nr_kernel, const uint64_t *user,
		     uint32_t nr_user, const uint64_t *vals);

/*
 * Returns the entry for this stack, creating it with zero counters if
 * needed; entries stay at their address until reset or delete, so a
 * profiler may keep the pointer (e.g. to charge a duration later). NULL with
 * errno ENOSPC when the table is full (counted in stack_table__dropped()).
 */
struct stack_entry *stack_table__get(struct stack_table *t, uint32_t pid, uint32_t tid,
				     const char *comm,
				     const uint64_t *kernel, uint32_t nr_kernel, const uint64_t *user,
				     uint32_t nr_user);

/*
 * Looks up the entry for a stack without creating it; NULL when absent.
 */
struct stack_entry *stack_table__find(struct stack_table *t, uint32_t pid, uint32_t tid,
				      const char *comm,
				      const uint64_t *kernel, uint32_t nr_kernel,
				      const uint64_t *user, uint32_t nr_user);

/*
 * Bounds the table to @max_entries stacks (0: only the byte bound), and
 * names a function called once, at the first addition the table refuses
 * (either bound), with @ctx. NULL @full: nobody is told.
 */
void stack_table__set_limit(struct stack_table *t, size_t max_entries,
			    void (*full)(void *ctx, const struct stack_table *t), void *ctx);
size_t stack_table__max_entries(const struct stack_table *t);

/* Removes every entry and zeroes the dropped count (keeps the bucket array). */
void stack_table__reset(struct stack_table *t);

unsigned int stack_table__nr_vals(const struct stack_table *t);
size_t stack_table__nr_entries(const struct stack_table *t);
/* Bytes in use: entries plus buckets. */
size_t stack_table__bytes(const struct stack_table *t);
size_t stack_table__max_bytes(const struct stack_table *t);
/* Additions refused because the table was full, since creation or the last reset. */
uint64_t stack_table__dropped(const struct stack_table *t);
/* Sum of counter @idx over all entries. */
uint64_t stack_table__total(const struct stack_table *t, unsigned int idx);

/* Iteration in unspecified order: pass NULL to get the first entry. */
struct stack_entry *stack_table__next(const struct stack_table *t, struct stack_entry *e);
#define stack_table__for_each(t, e) \
	for ((e) = stack_table__next((t), NULL); (e); (e) = stack_table__next((t), (e)))

/*
 * Returns a malloc'd array of all entries sorted by counter @idx, largest
 * first (ties broken by a stable key order), and its length in @nr. NULL with
 * *nr == 0 for an empty table; NULL with errno set on allocation failure.
 */
struct stack_entry **stack_table__sorted(const struct stack_table *t, unsigned int idx, size_t *nr);

uint32_t stack_entry__pid(const struct stack_entry *e);
/* The thread, 0 when the stack came from text (perf script, folded) without one. */
uint32_t stack_entry__tid(const struct stack_entry *e);
const char *stack_entry__comm(const struct stack_entry *e);
const uint64_t *stack_entry__kernel(const struct stack_entry *e, uint32_t *nr);
const uint64_t *stack_entry__user(const struct stack_entry *e, uint32_t *nr);
const uint64_t *stack_entry__vals(const struct stack_entry *e);
/* Mutable counters, for profilers that subtract (e.g. frees). */
uint64_t *stack_entry__vals_mut(struct stack_entry *e);

#endif

/*
 * Stacks merged by name: the stack table keys on addresses, so two samples a
 * few instructions apart in the same function are two entries. Readers want
 * one line per stack of function names; every emitter works from this view.
 */
#ifndef STACKPROF_NAMED_H
#define STACKPROF_NAMED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack_table.h"

struct syms;
struct named_stacks;

struct named_stack {
	const char *key; /* "comm;root;...;leaf", names sanitized for the folded format */
	size_t key_len;
	uint32_t depth; /* frames after comm */
	const uint32_t *offs; /* start of frame i (root first) in key */
	uint64_t vals[STACK_TABLE_MAX_VALS];
};

/*
 * Names every entry of @t (kernel frames with "_[k]" when @annotate) and
 * merges entries whose names are equal, summing their counters. Returns NULL
 * and sets errno on failure.
 */
struct named_stacks *named_stacks__new(const struct stack_table *t, struct syms *syms,
				       bool annotate);
void named_stacks__delete(struct named_stacks *n);

/* Sorts by counter @idx, largest first, ties by key. */
void named_stacks__sort(struct named_stacks *n, unsigned int idx);
size_t named_stacks__nr(const struct named_stacks *n);
const struct named_stack *named_stacks__get(const struct named_stacks *n, size_t i);
uint64_t named_stacks__total(const struct named_stacks *n, unsigned int idx);

/* Frame @i (0 = root) of @ns, copied into @buf of @len bytes. */
const char *named_stack__frame(const struct named_stack *ns, uint32_t i, char *buf, size_t len);

#endif

/*
 * Decoding sched_switch's prev_state. Its encoding changed across kernel
 * versions (bit values, and the marker for "preempted while running"); the
 * decoder learns it from the tracepoint's own print format and caches the
 * answer per raw value.
 */
#ifndef STACKPROF_SCHED_STATE_H
#define STACKPROF_SCHED_STATE_H

#include <stdbool.h>
#include <stdint.h>

struct tp;
struct sched_state;

/*
 * What a task was doing when it was switched out. 'R' = preempted (still
 * runnable), 'S' = interruptible sleep, 'D' = uninterruptible, 'I' = idle
 * kernel thread, 'T'/'t' = stopped/traced, 'X'/'Z' = dead, 'P' = parked,
 * '?' = unknown.
 */
struct sched_state_info {
	char state;
	bool preempted; /* the preempt marker was set */
};

/* A decoder for the sched_switch format @tp. NULL with errno on failure. */
struct sched_state *sched_state__new(const struct tp *sched_switch);
void sched_state__delete(struct sched_state *d);

/*
 * Decodes one raw prev_state value (as tp_field__u64() read it). A value
 * whose rendering holds no state letter known here is '?'. 'R' without
 * the preempt marker is a task switched out while still TASK_RUNNING
 * (it yielded, or was woken before it got to sleep).
 */
struct sched_state_info sched_state__decode(struct sched_state *d, uint64_t prev_state);

/*
 * True when @d decodes through the tracepoint's print format; false when
 * that format did not render 0 as "R" and 1 as "S" and @d fell back to
 * sched_state__decode_report_bits().
 */
bool sched_state__from_format(const struct sched_state *d);

/* Distinct values decoded and cached so far. */
unsigned int sched_state__nr_cached(const struct sched_state *d);

/*
 * The 4.14+ TASK_REPORT table (S=1 D=2 T=4 t=8 X=16 Z=32 P=64 I=128,
 * preempt marker 0x100), the fallback when the print format cannot be used.
 */
struct sched_state_info sched_state__decode_report_bits(uint64_t prev_state);

#endif

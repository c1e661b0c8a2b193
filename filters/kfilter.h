/*
 * Kernel-side filters: what can be cut in the kernel before a record is
 * written (exclude_user/kernel, callchain sides, tracepoint filter strings).
 */
#ifndef STACKPROF_KFILTER_H
#define STACKPROF_KFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/perf_event.h>

/*
 * Applies --user-only / --kernel-only to @attr.
 *
 * With callchains, --user-only drops the kernel part of every chain
 * (exclude_callchain_kernel) and keeps samples taken in the kernel, charged
 * to the user stack that led there; --kernel-only keeps only samples taken in
 * kernel mode (exclude_user) and only their kernel chain. Without callchains
 * the sampled function is all there is, so each keeps only samples taken on
 * its side. Tracepoints fire in the kernel: for them only the chain sides
 * change. @sampling is true for PMU/software sampling events.
 */
void kfilter__apply_sides(struct perf_event_attr *attr, bool user_only, bool kernel_only,
			  bool sampling);

/*
 * Builds a tracepoint filter "field == a || field == b ..." for @ids into
 * @buf. Returns 0, or -ENOSPC when it does not fit (the caller then filters
 * in user space).
 */
int kfilter__pid_filter(char *buf, size_t len, const char *field, const pid_t *ids, size_t nr);

#endif

/*
 * Kernel-side filters: what can be cut in the kernel before a record is
 * written (exclude_user/kernel, callchain sides).
 */
#ifndef STACKPROF_KFILTER_H
#define STACKPROF_KFILTER_H

#include <stdbool.h>
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

#endif

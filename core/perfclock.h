/*
 * perf's local clock against CLOCK_MONOTONIC, for kernels whose events cannot
 * be put on CLOCK_MONOTONIC (no attr.use_clockid before 4.1, or forced off).
 *
 * Records then carry perf's own clock (local_clock(): the scheduler clock,
 * nanoseconds since boot, not adjusted by NTP). The session needs one clock
 * for records and for its own reads (ordering passes, -d, start and end), so
 * it adds an offset measured once at start: a page-fault sample on this
 * thread, stamped by the kernel between two CLOCK_MONOTONIC reads taken
 * around the faulting store; the tightest of a few such brackets wins.
 *
 * Error bound: half the bracket (a page fault, typically 1-3 us here) at the
 * start, plus the drift of the two clocks over the run: NTP slews
 * CLOCK_MONOTONIC by at most 500 ppm, so at most 0.5 ms per second of run
 * and, with a disciplined clock, usually a few us per second. The session
 * measures again at the end and says the drift with -v. Durations between two
 * records are unaffected; only comparisons with the session's own clock
 * reads (start, end, ordering slack of 10 ms) see the error.
 */
#ifndef STACKPROF_PERFCLOCK_H
#define STACKPROF_PERFCLOCK_H

#include <stdint.h>

/*
 * Measures CLOCK_MONOTONIC - perf clock in ns into @offset, and half the width
 * of the bracket it came from into @err. Returns 0, or -errno when no sample
 * could be taken (perf events refused to this thread).
 */
int perfclock__measure(int64_t *offset, uint64_t *err);

#endif

/*
 * Kernel features: what this kernel's perf_event_open() accepts, probed once
 * each on first use, and the fallback taken where something is missing.
 *
 * Every fallback can be forced on a kernel that has the feature, so tests
 * exercise it here: set STACKPROF_FORCE_NO_<NAME>=1 in the environment. With
 * -v each fallback taken says so once ("fallback: ...").
 *
 *  NAME            feature (kernel version)              fallback
 *  CYCLES          hardware cycles event (a PMU)          oncpu samples cpu-clock
 *  MMAP_BUILD_ID   attr.build_id: MMAP2 records carry     MMAP2 records with inode data
 *                  the file's build-id (5.12)             (the file is named, not identified)
 *  MMAP2           attr.mmap2 records (3.16)              no mmap records at all: /proc/PID/maps
 *                                                         is read at exec, at fork, and when a
 *                                                         sample's address is in no known mapping
 *  SAMPLE_ID_ALL   attr.sample_id_all: side-band records  side-band records carry no time: each is
 *                  carry time, tid, cpu, id (2.6.38)      ordered right after the record before it
 *                                                         in its ring (core/session.c)
 *  CLOCKID         attr.use_clockid, CLOCK_MONOTONIC      records carry perf's local clock, moved
 *                  (4.1)                                  to CLOCK_MONOTONIC by an offset measured
 *                                                         at start (core/perfclock.h: error bound)
 *  CONTEXT_SWITCH  attr.context_switch records (4.3)      offcpu takes switch-ins from sched_switch
 *                                                         alone (docs/offcpu.md)
 *  UPROBE_PMU      the uprobe PMU (4.17)                  uprobes through tracefs uprobe_events;
 *                                                         STACKPROF_UPROBE_TRACEFS=1 forces it too
 *
 * A feature that needs another is off with it: MMAP_BUILD_ID with MMAP2, and
 * CONTEXT_SWITCH with SAMPLE_ID_ALL (a context-switch record names its thread
 * only in the sample_id trailer).
 *
 * An attr bit the kernel does not know is refused with EINVAL (the kernel
 * checks that unknown flag bits are zero), so a probe opens a small software
 * event on this thread with the bit and without, and EINVAL with it means
 * absent. A probe that cannot run at all (perf events refused to this user)
 * counts the feature as present: the real open then explains the refusal.
 *
 * Limits and privileges are not features but are probed the same way, each
 * by its own test (docs/design.md): -F above kernel.perf_event_max_sample_rate
 * is clamped, rings too big for kernel.perf_event_mlock_kb and RLIMIT_MEMLOCK
 * are shrunk, and a non-root user under kernel.perf_event_paranoid >= 2 gets
 * user-space-only sampling of its own processes.
 */
#ifndef STACKPROF_FEATURES_H
#define STACKPROF_FEATURES_H

#include <stdbool.h>

enum feature {
	FEAT_CYCLES,
	FEAT_MMAP_BUILD_ID,
	FEAT_MMAP2,
	FEAT_SAMPLE_ID_ALL,
	FEAT_CLOCKID,
	FEAT_CONTEXT_SWITCH,
	FEAT_UPROBE_PMU,
	FEAT__NR,
};

/*
 * Whether the kernel has @f and it is not forced off. Probed on the first
 * call and remembered; a fallback is said once with -v. FEAT_UPROBE_PMU is
 * probed by trace/uprobe.c (uprobe__use_pmu()), which asks only
 * features__forced_off() here.
 */
bool features__has(enum feature f);

/* Whether STACKPROF_FORCE_NO_<NAME> (or a legacy variable for @f) is set and not "0". */
bool features__forced_off(enum feature f);

/* NAME as in the variable, e.g. "MMAP_BUILD_ID". */
const char *features__name(enum feature f);

/*
 * Says with -v, once per feature, that @f is not used and what is done
 * instead; @why is the probe's errno text or NULL (then the variable that
 * forced it, or the feature it needs, is named).
 */
void features__say_fallback(enum feature f, const char *why);

/* Forgets every answer (unit tests). */
void features__reset(void);

#endif

/*
 * The limits and privileges perf_event_open() runs into: locked memory for
 * the rings, open files, kernel.perf_event_paranoid, and one line explaining
 * each refusal with the sysctl, privilege or capability that would lift it.
 */
#ifndef STACKPROF_LIMITS_H
#define STACKPROF_LIMITS_H

#include <stdbool.h>
#include <linux/perf_event.h>

/* Ring pages per CPU a too-large -m is shrunk to before giving up: 32 KiB with 4 KiB pages. */
#define LIMITS_MIN_MMAP_PAGES 8

/* An integer sysctl such as "/proc/sys/kernel/perf_event_paranoid", @dflt if unreadable. */
int limits__sysctl(const char *path, int dflt);

/* kernel.perf_event_paranoid (2 if unreadable). */
int limits__paranoid(void);

/* This program's path, for the setcap hint. */
const char *limits__self_exe(void);

/*
 * Every event is opened once per CPU and per target thread: takes the hard
 * RLIMIT_NOFILE as the soft one, which needs no privilege.
 */
void limits__raise_nofile(void);

/*
 * Probe, then fall back, for @nr rings of *@pages data pages each: maps them
 * on throwaway events as the real rings will be mapped (so the kernel's own
 * locked-memory accounting answers), raising RLIMIT_MEMLOCK to its hard
 * limit first when kernel.perf_event_mlock_kb will not cover them. Rings
 * refused (EPERM) or not allocated (ENOMEM) are halved, with one warning
 * naming @who, down to LIMITS_MIN_MMAP_PAGES (or what was asked, if less);
 * below that one error line, and -EPERM or -ENOMEM. Returns 0 with the size
 * that fits in *@pages (unchanged when the probe cannot run).
 */
int limits__fit_ring_pages(const char *who, int nr, unsigned int *pages);

/*
 * One line on why the kernel refused to open event @name (@attr, on every
 * CPU when @every_cpu) with @err: the errno text and the usual cause; for
 * EACCES/EPERM the paranoia level needed, and root, the sysctl or setcap
 * cap_perfmon as fixes.
 */
void limits__explain_open_error(const char *who, const char *name,
				const struct perf_event_attr *attr, bool every_cpu, int err);

#endif

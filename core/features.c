/* Probes of the perf_event features stackprof can do without, asked once each; see features.h. */
#include "features.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

enum answer { UNASKED, PRESENT, ABSENT };

struct feature_info {
	const char *name; /* STACKPROF_FORCE_NO_<name> */
	const char *legacy_env; /* an older variable that forces the same, or NULL */
	const char *missing; /* what the fallback message says is missing */
	const char *fallback; /* what is done instead */
	int needs; /* a feature this one is useless without, or -1 */
};

static const struct feature_info info[FEAT__NR] = {
	[FEAT_CYCLES] = { "CYCLES", NULL, "no hardware cycles event", "sampling cpu-clock", -1 },
	[FEAT_MMAP_BUILD_ID] = { "MMAP_BUILD_ID", NULL, "no build-ids in MMAP2 records",
				 "mappings carry inode data only", FEAT_MMAP2 },
	[FEAT_MMAP2] = { "MMAP2", NULL, "no MMAP2 records",
			 "mappings are read from /proc/PID/maps at exec, at fork and for "
			 "addresses in no known mapping",
			 -1 },
	[FEAT_SAMPLE_ID_ALL] = { "SAMPLE_ID_ALL", NULL, "no sample_id_all",
				 "side-band records carry no time and are ordered where they "
				 "are read in their ring",
				 -1 },
	[FEAT_CLOCKID] = { "CLOCKID", NULL, "no use_clockid",
			   "timestamps are perf's local clock, moved to CLOCK_MONOTONIC by an "
			   "offset measured at start",
			   -1 },
	[FEAT_CONTEXT_SWITCH] = { "CONTEXT_SWITCH", NULL, "no context-switch records",
				  "offcpu takes switch-ins from sched_switch alone",
				  FEAT_SAMPLE_ID_ALL },
	[FEAT_UPROBE_PMU] = { "UPROBE_PMU", "STACKPROF_UPROBE_TRACEFS", "no uprobe PMU",
			      "uprobes are created through tracefs uprobe_events", -1 },
};

static struct {
	enum answer answer[FEAT__NR];
	bool said[FEAT__NR];
	int base_err; /* 0 = the base probe opens; 1 = not tried yet */
} feat = { .base_err = 1 };

const char *features__name(enum feature f)
{
	return f < FEAT__NR ? info[f].name : "?";
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

bool features__forced_off(enum feature f)
{
	char name[64];

	if (f >= FEAT__NR)
		return false;
	snprintf(name, sizeof(name), "STACKPROF_FORCE_NO_%s", info[f].name);
	return env_set(name) || (info[f].legacy_env && env_set(info[f].legacy_env));
}

void features__say_fallback(enum feature f, const char *why)
{
	char buf[96];

	if (f >= FEAT__NR || feat.said[f])
		return;
	feat.said[f] = true;
	if (!why) {
		snprintf(buf, sizeof(buf), "STACKPROF_FORCE_NO_%s", info[f].name);
		if (env_set(buf))
			snprintf(buf, sizeof(buf), "forced by STACKPROF_FORCE_NO_%s", info[f].name);
		else if (info[f].legacy_env && env_set(info[f].legacy_env))
			snprintf(buf, sizeof(buf), "forced by %s", info[f].legacy_env);
		else if (info[f].needs >= 0)
			snprintf(buf, sizeof(buf), "needs %s", info[info[f].needs].name);
		else
			snprintf(buf, sizeof(buf), "not available");
		why = buf;
	}
	pr_info("fallback: %s (%s): %s", info[f].missing, why, info[f].fallback);
}

void features__reset(void)
{
	memset(&feat, 0, sizeof(feat));
	feat.base_err = 1;
}

/* A counting software event on this thread, user space only: allowed at paranoia 2 and below. */
static void base_attr(struct perf_event_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_CPU_CLOCK;
	a->disabled = 1;
	a->exclude_kernel = 1;
	a->exclude_hv = 1;
}

static int try_open(struct perf_event_attr *a)
{
	int fd = (int)syscall(SYS_perf_event_open, a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Sets the bits of feature @f in @a. */
static void add_feature(struct perf_event_attr *a, enum feature f)
{
	switch (f) {
	case FEAT_CYCLES:
		a->type = PERF_TYPE_HARDWARE;
		a->config = PERF_COUNT_HW_CPU_CYCLES;
		/* Sampling, not counting: some virtual PMUs count but cannot interrupt. */
		a->sample_period = 1000000;
		a->sample_type = PERF_SAMPLE_IP;
		break;
	case FEAT_MMAP_BUILD_ID:
		/* Build-ids come in MMAP2 records. */
		a->build_id = 1;
		a->mmap = 1;
		a->mmap2 = 1;
		break;
	case FEAT_MMAP2:
		a->mmap = 1;
		a->mmap2 = 1;
		break;
	case FEAT_SAMPLE_ID_ALL:
		a->sample_period = 1000000;
		a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
		a->sample_id_all = 1;
		break;
	case FEAT_CLOCKID:
		a->use_clockid = 1;
		a->clockid = CLOCK_MONOTONIC;
		break;
	case FEAT_CONTEXT_SWITCH:
		a->context_switch = 1;
		break;
	default:
		break;
	}
}

/* Opens the base event, then the base with @f's bits: an error only with the bits means absent. */
static enum answer probe(enum feature f, char *why, size_t len)
{
	struct perf_event_attr a;
	int err;

	if (feat.base_err == 1) {
		base_attr(&a);
		feat.base_err = try_open(&a);
		if (feat.base_err)
			pr_debug("features: cannot probe the kernel (%s): assuming every feature",
				 strerror(-feat.base_err));
	}
	if (feat.base_err)
		return PRESENT;
	base_attr(&a);
	add_feature(&a, f);
	err = try_open(&a);
	if (!err)
		return PRESENT;
	/*
	 * An unknown attr bit is EINVAL; a hardware event without a PMU is
	 * ENOENT or EOPNOTSUPP. Anything else (EACCES, EMFILE) is no answer:
	 * the real open will say what it is.
	 */
	if (f != FEAT_CYCLES && err != -EINVAL && err != -E2BIG && err != -EOPNOTSUPP) {
		pr_debug("features: probing %s: %s: assuming it is there", info[f].name,
			 strerror(-err));
		return PRESENT;
	}
	snprintf(why, len, "%s", strerror(-err));
	return ABSENT;
}

bool features__has(enum feature f)
{
	char why[64];

	if (f >= FEAT__NR)
		return false;
	if (feat.answer[f] != UNASKED)
		return feat.answer[f] == PRESENT;
	why[0] = 0;
	if (features__forced_off(f)) {
		feat.answer[f] = ABSENT;
	} else if (info[f].needs >= 0 && !features__has((enum feature)info[f].needs)) {
		feat.answer[f] = ABSENT;
	} else if (f == FEAT_UPROBE_PMU) {
		/* Probed where it is used (trace/uprobe.c). */
		feat.answer[f] = PRESENT;
	} else {
		feat.answer[f] = probe(f, why, sizeof(why));
		if (feat.answer[f] == PRESENT)
			pr_debug("features: %s: present", info[f].name);
	}
	if (feat.answer[f] == ABSENT)
		features__say_fallback(f, why[0] ? why : NULL);
	return feat.answer[f] == PRESENT;
}

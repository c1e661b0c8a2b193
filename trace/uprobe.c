/* Uprobe perf_event_attrs: through the kernel's uprobe PMU, else through tracefs uprobe_events. */
#define _GNU_SOURCE
#include "uprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/features.h"
#include "core/log.h"
#include "symbols/elfsyms.h"
#include "trace/dynevent.h"
#include "trace/tracefs.h"

#define UPROBE_PMU_DIR "/sys/bus/event_source/devices/uprobe"
#define UPROBE_EVENTS "uprobe_events"

_Static_assert(UPROBE_NAME_MAX == DYNEVENT_NAME_MAX, "one name length for both headers");

/* Setup is single-threaded, so the state is plain. */
static struct {
	bool pmu_probed;
	int pmu_type; /* -errno when the PMU cannot be used */
	int ret_bit;
	bool forced;
} up;

/* Reads a short sysfs or procfs text file, without its trailing newline. */
static int uprobe__read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * A PMU format file says which attr bits carry a field: "config:0",
 * "config:0-0" or, for wider fields, "config:32-63". The retprobe flag is
 * one bit of attr.config; anything else is a layout we do not know.
 */
static int uprobe__parse_format_bit(const char *text, int *bit)
{
	unsigned long lo, hi;
	char *end;

	if (strncmp(text, "config:", 7))
		return -EINVAL;
	errno = 0;
	lo = strtoul(text + 7, &end, 10);
	if (errno || end == text + 7 || lo > 63)
		return -EINVAL;
	hi = lo;
	if (*end == '-') {
		const char *p = end + 1;

		hi = strtoul(p, &end, 10);
		if (end == p)
			return -EINVAL;
	}
	if (*end || hi != lo)
		return -EINVAL;
	*bit = lo;
	return 0;
}

static int uprobe__probe_pmu(void)
{
	char buf[64];
	long type;
	char *end;
	int err;

	err = uprobe__read_text(UPROBE_PMU_DIR "/type", buf, sizeof(buf));
	if (err) {
		pr_debug("uprobe: no uprobe PMU (%s: %s): using tracefs uprobe_events",
			 UPROBE_PMU_DIR, strerror(-err));
		return err;
	}
	errno = 0;
	type = strtol(buf, &end, 10);
	if (errno || end == buf || *end || type < 0 || type > INT32_MAX) {
		pr_debug("uprobe: %s/type reads \"%s\": using tracefs uprobe_events",
			 UPROBE_PMU_DIR, buf);
		return -EINVAL;
	}
	err = uprobe__read_text(UPROBE_PMU_DIR "/format/retprobe", buf, sizeof(buf));
	if (!err)
		err = uprobe__parse_format_bit(buf, &up.ret_bit);
	if (err) {
		pr_debug("uprobe: cannot tell the uprobe PMU's retprobe bit (%s): using tracefs "
			 "uprobe_events",
			 strerror(-err));
		return err;
	}
	up.pmu_type = type;
	return 0;
}

/* STACKPROF_FORCE_NO_UPROBE_PMU, or the older STACKPROF_UPROBE_TRACEFS (core/features.h). */
static bool uprobe__forced(void)
{
	return up.forced || features__forced_off(FEAT_UPROBE_PMU);
}

bool uprobe__use_pmu(void)
{
	if (uprobe__forced()) {
		if (!up.forced)
			features__say_fallback(FEAT_UPROBE_PMU, NULL);
		return false;
	}
	if (!up.pmu_probed) {
		int err = uprobe__probe_pmu();

		up.pmu_probed = true;
		if (err) {
			up.pmu_type = err;
			features__say_fallback(FEAT_UPROBE_PMU, strerror(-err));
		}
	}
	return up.pmu_type >= 0;
}

void uprobe__force_tracefs(bool on)
{
	up.forced = on;
}

/* The usual cause of @err from uprobe_events: ours, else that of any dynamic event. */
static const char *uprobe__create_hint(int err)
{
	if (err == ENOENT)
		return "no uprobe_events in tracefs: kernel built without CONFIG_UPROBE_EVENTS?";
	return dynevent__hint(err);
}

/*
 * Creates the tracefs event "p|r:stackprof_<pid>/NAME_<n> PATH:0xOFFSET ARGS"
 * and reads its id. Returns 0 or -errno after one pr_warn line.
 */
static int uprobe__tracefs_create(const char *path, uint64_t offset, bool ret, const char *args,
				  const char *name, char *group, char *event, uint64_t *id)
{
	char spec[PATH_MAX + UPROBE_ARGS_MAX + 32];
	int err, n;

	/*
	 * The kernel splits a uprobe_events line at white space and has no
	 * quoting: such a path cannot be written there at all.
	 */
	if (path[strcspn(path, " \t\n\v\f\r")]) {
		pr_warn("uprobe: cannot probe \"%s\" through tracefs: uprobe_events cannot express "
			"a path with white space (probe it through a symlink without spaces)",
			path);
		return -EINVAL;
	}
	/* tracefs__path() explains its own failure. */
	if (!tracefs__path())
		return -errno;
	n = snprintf(spec, sizeof(spec), "%s:0x%" PRIx64 "%s%s", path, offset, args ? " " : "",
		     args ? args : "");
	if (n < 0 || (size_t)n >= sizeof(spec))
		err = -ENAMETOOLONG;
	else
		err = dynevent__create(UPROBE_EVENTS, ret ? "r" : "p", name, spec, group, event);
	if (err == -ENAMETOOLONG) {
		pr_warn("uprobe: cannot probe %s through tracefs: the path is too long for "
			"uprobe_events (probe it through a shorter symlink)",
			path);
		return err;
	}
	if (err) {
		pr_warn("uprobe: cannot create %s/%s at %s in uprobe_events: %s (%s)", group, event,
			spec, strerror(-err), uprobe__create_hint(-err));
		return err;
	}
	err = dynevent__id(group, event, id);
	if (err) {
		pr_warn("uprobe: cannot read the id of new event %s/%s: %s (is tracefs mounted "
			"read-only or being unmounted?)",
			group, event, strerror(-err));
		dynevent__delete(UPROBE_EVENTS, event);
		return err;
	}
	pr_debug("uprobe: created %s/%s (id %" PRIu64 ") at %s", group, event, *id, spec);
	return 0;
}

static int uprobe__tracefs_attr(const char *path, uint64_t offset, bool ret, const char *name,
				struct perf_event_attr *attr)
{
	char group[DYNEVENT_NAME_MAX], event[DYNEVENT_NAME_MAX];
	uint64_t id = 0;
	int err;

	err = uprobe__tracefs_create(path, offset, ret, NULL, name, group, event, &id);
	if (err)
		return err;
	attr->type = PERF_TYPE_TRACEPOINT;
	attr->config = id;
	attr->sample_period = 1;
	attr->size = sizeof(*attr);
	return 0;
}

/* Checked here so the error names the file; the kernel would only say EINVAL later. */
static int uprobe__check_file(const char *path, uint64_t offset)
{
	struct stat st;
	int err;

	if (!path || !*path) {
		pr_warn("uprobe: no file to probe (give the path of an ELF file)");
		return -EINVAL;
	}
	if (stat(path, &st)) {
		err = -errno;
		pr_warn("uprobe: cannot probe %s: %s (give the path of an existing ELF file)", path,
			strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_warn("uprobe: cannot probe %s: not a regular file (uprobes live in files that "
			"are mapped, e.g. a program or a shared library)",
			path);
		return -EINVAL;
	}
	if (offset >= (uint64_t)st.st_size) {
		pr_warn("uprobe: cannot probe %s at 0x%" PRIx64 ": past its end (%lld bytes; the "
			"offset is a file offset, not an address)",
			path, offset, (long long)st.st_size);
		return -EINVAL;
	}
	return 0;
}

int uprobe__create_args(const char *path, uint64_t offset, bool ret, const char *args,
			const char *name, char *group, char *event)
{
	uint64_t id;
	int err;

	group[0] = event[0] = '\0';
	if (args && strlen(args) >= UPROBE_ARGS_MAX) {
		pr_warn("uprobe: fetch arguments longer than %d bytes", UPROBE_ARGS_MAX - 1);
		return -E2BIG;
	}
	err = uprobe__check_file(path, offset);
	if (!err)
		err = uprobe__tracefs_create(path, offset, ret, args, name, group, event, &id);
	return err;
}

int uprobe__attr(const char *path, uint64_t offset, bool ret, const char *name,
		 struct perf_event_attr *attr)
{
	int err;

	memset(attr, 0, sizeof(*attr));
	err = uprobe__check_file(path, offset);
	if (err)
		return err;
	if (!uprobe__use_pmu())
		return uprobe__tracefs_attr(path, offset, ret, name, attr);

	/*
	 * The uprobe PMU takes the path in config1 (uprobe_path) as a user
	 * pointer that perf_event_open copies, and the file offset in config2
	 * (probe_offset). The kernel removes the probe with the last fd.
	 */
	attr->type = up.pmu_type;
	attr->config = ret ? 1ULL << up.ret_bit : 0;
	attr->uprobe_path = (uint64_t)(uintptr_t)path;
	attr->probe_offset = offset;
	attr->sample_period = 1;
	attr->size = sizeof(*attr);
	return 0;
}

void uprobe__cleanup(void)
{
	dynevent__cleanup_file(UPROBE_EVENTS);
}

int uprobe__cleanup_stale(void)
{
	return dynevent__cleanup_stale(UPROBE_EVENTS);
}

char *uprobe__libc_path(pid_t pid)
{
	char path[64], line[4352], *found = NULL;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/'), *base, *nl;

		if (!file)
			continue;
		nl = strchr(file, '\n');
		if (nl)
			*nl = 0;
		base = strrchr(file, '/') + 1;
		if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-2.", 7)) {
			/* Through /proc/PID/root: right even in another mount namespace. */
			if (pid && asprintf(&found, "/proc/%d/root%s", (int)pid, file) < 0)
				found = NULL;
			else if (!pid)
				found = strdup(file);
		}
	}
	fclose(f);
	return found;
}

int uprobe__func_offset(const char *path, const char *func, uint64_t *offset)
{
	int err = elfsyms__func_offset(path, func, offset);

	if (err)
		pr_debug("uprobe: no offset for %s in %s: %s", func, path, strerror(-err));
	return err;
}

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

#include "core/log.h"
#include "symbols/elfsyms.h"
#include "trace/tracefs.h"

#define UPROBE_PMU_DIR "/sys/bus/event_source/devices/uprobe"
#define UPROBE_GROUP_PREFIX "stackprof_"
#define UPROBE_COMM "stackprof"
/* The kernel caps group and event names at MAX_EVENT_NAME_LEN (64, NUL included). */
#define UPROBE_NAME_MAX 64
/* What is kept of the caller's name, leaving room for "_<counter>". */
#define UPROBE_BASE_MAX 40
/* The kernel parses dynamic_events commands a line at a time, in a 4096-byte buffer. */
#define UPROBE_CMD_MAX 4096
/* Names taken by a dead process that had our pid: how far to count past them. */
#define UPROBE_EEXIST_TRIES 64

/*
 * Setup is single-threaded, so the state is plain. The event list belongs to
 * the process that created it: a forked child inherits a copy but must not
 * remove its parent's events.
 */
static struct {
	bool pmu_probed;
	int pmu_type; /* -errno when the PMU cannot be used */
	int ret_bit;
	bool forced;
	pid_t owner;
	char (*events)[UPROBE_NAME_MAX];
	size_t nr_events, cap_events;
	unsigned int counter;
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

static bool uprobe__forced(void)
{
	const char *env = getenv("STACKPROF_UPROBE_TRACEFS");

	return up.forced || (env && *env && strcmp(env, "0"));
}

bool uprobe__use_pmu(void)
{
	if (uprobe__forced())
		return false;
	if (!up.pmu_probed) {
		int err = uprobe__probe_pmu();

		up.pmu_probed = true;
		if (err)
			up.pmu_type = err;
	}
	return up.pmu_type >= 0;
}

void uprobe__force_tracefs(bool on)
{
	up.forced = on;
}

/* The event list is per process: a forked child starts with none of its own. */
static void uprobe__own(void)
{
	pid_t pid = getpid();

	if (up.owner == pid)
		return;
	free(up.events);
	up.events = NULL;
	up.nr_events = up.cap_events = 0;
	up.owner = pid;
}

static bool uprobe__is_ours(const char *event)
{
	size_t i;

	if (up.owner != getpid())
		return false;
	for (i = 0; i < up.nr_events; i++)
		if (!strcmp(up.events[i], event))
			return true;
	return false;
}

/*
 * Appends one command to uprobe_events. O_APPEND, never O_TRUNC: opening
 * that file with O_TRUNC deletes every uprobe event on the system, other
 * tools' too. The kernel answers a bad command through write()'s errno.
 */
static int uprobe__write_cmd(const char *cmd)
{
	char path[PATH_MAX];
	size_t len = strlen(cmd);
	ssize_t n;
	int fd, err;

	err = tracefs__file("uprobe_events", path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return err;
}

static int uprobe__remove(const char *group, const char *event)
{
	char cmd[2 * UPROBE_NAME_MAX + 8];

	snprintf(cmd, sizeof(cmd), "-:%s/%s\n", group, event);
	return uprobe__write_cmd(cmd);
}

static const char *uprobe__create_hint(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return "run as root";
	case ENOENT:
		return "no uprobe_events in tracefs: kernel built without CONFIG_UPROBE_EVENTS?";
	case EEXIST:
		return "a killed run with our pid left these names: the next run removes them";
	default:
		return "the kernel says why in tracefs' error_log";
	}
}

/*
 * Event names are C identifiers to the kernel (letters, digits, '_', no
 * leading digit): anything else in @name becomes '_'.
 */
static void uprobe__base_name(const char *name, char *base, size_t len)
{
	size_t i = 0;

	if (!name || !*name)
		name = "probe";
	if (name[0] >= '0' && name[0] <= '9')
		base[i++] = '_';
	for (; *name && i + 1 < len; name++) {
		char c = *name;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			c = '_';
		base[i++] = c;
	}
	base[i] = '\0';
}

/* Reads the tracepoint id the kernel gave the new event. */
static int uprobe__event_id(const char *group, const char *event, uint64_t *id)
{
	char rel[2 * UPROBE_NAME_MAX + 16], *buf, *end;
	int err = 0;

	snprintf(rel, sizeof(rel), "events/%s/%s/id", group, event);
	buf = tracefs__read(rel, NULL);
	if (!buf)
		return -errno;
	errno = 0;
	*id = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		err = -EINVAL;
	free(buf);
	return err;
}

static int uprobe__tracefs_attr(const char *path, uint64_t offset, bool ret, const char *name,
				struct perf_event_attr *attr)
{
	char group[UPROBE_NAME_MAX], base[UPROBE_BASE_MAX + 1], event[UPROBE_NAME_MAX];
	char *cmd;
	uint64_t id = 0;
	int err = -EEXIST, tries, n;

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
	uprobe__own();
	if (up.nr_events == up.cap_events) {
		size_t cap = up.cap_events ? 2 * up.cap_events : 8;
		char(*p)[UPROBE_NAME_MAX] = realloc(up.events, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		up.events = p;
		up.cap_events = cap;
	}
	cmd = malloc(UPROBE_CMD_MAX);
	if (!cmd)
		return -ENOMEM;
	snprintf(group, sizeof(group), UPROBE_GROUP_PREFIX "%d", (int)up.owner);
	uprobe__base_name(name, base, sizeof(base));
	/*
	 * A name can be taken only by a dead process that had our pid (its
	 * group is ours now): count past it; uprobe__cleanup_stale() removes it.
	 */
	for (tries = 0; err == -EEXIST && tries < UPROBE_EEXIST_TRIES; tries++) {
		snprintf(event, sizeof(event), "%s_%u", base, up.counter++);
		n = snprintf(cmd, UPROBE_CMD_MAX, "%c:%s/%s %s:0x%" PRIx64 "\n", ret ? 'r' : 'p',
			     group, event, path, offset);
		if (n < 0 || n >= UPROBE_CMD_MAX) {
			pr_warn("uprobe: cannot probe %s through tracefs: the path is too long for "
				"uprobe_events (probe it through a shorter symlink)",
				path);
			err = -ENAMETOOLONG;
			goto out_free;
		}
		err = uprobe__write_cmd(cmd);
	}
	if (err) {
		pr_warn("uprobe: cannot create %s/%s at %s:0x%" PRIx64 " in uprobe_events: %s (%s)",
			group, event, path, offset, strerror(-err), uprobe__create_hint(-err));
		goto out_free;
	}
	err = uprobe__event_id(group, event, &id);
	if (err) {
		pr_warn("uprobe: cannot read the id of new event %s/%s: %s (is tracefs mounted "
			"read-only or being unmounted?)",
			group, event, strerror(-err));
		uprobe__remove(group, event);
		goto out_free;
	}
	snprintf(up.events[up.nr_events++], UPROBE_NAME_MAX, "%s", event);
	pr_debug("uprobe: created %s/%s (id %" PRIu64 ") at %s:0x%" PRIx64, group, event, id, path,
		 offset);

	attr->type = PERF_TYPE_TRACEPOINT;
	attr->config = id;
	attr->sample_period = 1;
	attr->size = sizeof(*attr);
out_free:
	free(cmd);
	return err;
}

int uprobe__attr(const char *path, uint64_t offset, bool ret, const char *name,
		 struct perf_event_attr *attr)
{
	struct stat st;
	int err;

	memset(attr, 0, sizeof(*attr));
	if (!path || !*path) {
		pr_warn("uprobe: no file to probe (give the path of an ELF file)");
		return -EINVAL;
	}
	/* Checked here so the error names the file; the kernel would only say EINVAL later. */
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
	char group[UPROBE_NAME_MAX];
	size_t i, kept = 0;

	if (up.owner != getpid()) {
		uprobe__own();
		return;
	}
	snprintf(group, sizeof(group), UPROBE_GROUP_PREFIX "%d", (int)up.owner);
	for (i = 0; i < up.nr_events; i++) {
		int err = uprobe__remove(group, up.events[i]);

		/* ENOENT: someone removed it already, which is what we wanted. */
		if (!err || err == -ENOENT) {
			pr_debug("uprobe: removed %s/%s", group, up.events[i]);
			continue;
		}
		if (err == -EBUSY)
			pr_warn("uprobe: cannot remove %s/%s: a perf event still uses it (close it "
				"first; a later stackprof run removes it as stale)",
				group, up.events[i]);
		else
			pr_warn("uprobe: cannot remove %s/%s: %s (remove it with: echo '-:%s/%s' "
				">> %s/uprobe_events)",
				group, up.events[i], strerror(-err), group, up.events[i],
				tracefs__path() ? tracefs__path() : "<tracefs>");
		/* Kept, so that a second call can try again. */
		memmove(up.events[kept++], up.events[i], UPROBE_NAME_MAX);
	}
	up.nr_events = kept;
	if (!kept) {
		free(up.events);
		up.events = NULL;
		up.cap_events = 0;
	}
}

/*
 * Whether group stackprof_<@pid> was left by a run that is gone: no such
 * process, a zombie (its fds are closed), or a process that is not
 * stackprof (the pid was reused). Our own group is stale only in the events
 * we did not create: a dead process that had our pid left them. Unknown
 * (e.g. /proc hides the pid) counts as live.
 */
static bool uprobe__stale(long pid, const char *event)
{
	char path[64], buf[256], *lp, *rp;
	int err;

	if (pid == getpid())
		return !uprobe__is_ours(event);
	/* "pid (comm) state ...": comm may hold ')' itself, the last one ends it. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	err = uprobe__read_text(path, buf, sizeof(buf));
	if (err)
		return err == -ENOENT || err == -ESRCH;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp || rp[1] != ' ')
		return false;
	if (rp[2] == 'Z' || rp[2] == 'X')
		return true;
	*rp = '\0';
	return strcmp(lp + 1, UPROBE_COMM) != 0;
}

/*
 * Parses one uprobe_events line, "p:group/event path:0xoffset" ("r:" for a
 * return probe), into its group's pid when the group is stackprof_<pid>.
 */
static bool uprobe__parse_line(char *line, long *pid, char **group, char **event)
{
	char *slash, *end, *digits;

	if ((line[0] != 'p' && line[0] != 'r') || line[1] != ':')
		return false;
	*group = line + 2;
	slash = strchr(*group, '/');
	if (!slash)
		return false;
	*slash = '\0';
	*event = slash + 1;
	(*event)[strcspn(*event, " \t")] = '\0';
	if (!**event || strncmp(*group, UPROBE_GROUP_PREFIX, strlen(UPROBE_GROUP_PREFIX)))
		return false;
	digits = *group + strlen(UPROBE_GROUP_PREFIX);
	if (*digits < '1' || *digits > '9')
		return false;
	errno = 0;
	*pid = strtol(digits, &end, 10);
	return !errno && !*end && *pid > 0 && *pid <= INT32_MAX;
}

int uprobe__cleanup_stale(void)
{
	char *buf, *line, *next;
	int removed = 0, err;

	if (!tracefs__path())
		return -errno;
	buf = tracefs__read("uprobe_events", NULL);
	if (!buf) {
		err = -errno;
		/* No uprobe_events: no uprobe events either, stale or not. */
		if (err == -ENOENT)
			return 0;
		pr_warn("uprobe: cannot read %s/uprobe_events: %s (run as root)", tracefs__path(),
			strerror(-err));
		return err;
	}
	for (line = buf; *line; line = next) {
		char *group, *event;
		long pid;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		if (!uprobe__parse_line(line, &pid, &group, &event) || !uprobe__stale(pid, event))
			continue;
		err = uprobe__remove(group, event);
		if (!err) {
			pr_debug("uprobe: removed stale %s/%s", group, event);
			removed++;
		} else if (err != -ENOENT) {
			pr_warn("uprobe: cannot remove stale %s/%s: %s (%s)", group, event,
				strerror(-err),
				err == -EBUSY ? "a perf event still uses it: another pid namespace?"
					      : "remove it by hand in uprobe_events");
		}
	}
	free(buf);
	return removed;
}

int uprobe__func_offset(const char *path, const char *func, uint64_t *offset)
{
	int err = elfsyms__func_offset(path, func, offset);

	if (err)
		pr_debug("uprobe: no offset for %s in %s: %s", func, path, strerror(-err));
	return err;
}

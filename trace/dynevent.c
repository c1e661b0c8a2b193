/*
 * tracefs dynamic events in our group: created, remembered, removed; stale groups swept.
 *
 * Everything here goes to the kernel's tracefs (tracefs__kernel_*), never to
 * a STACKPROF_TRACEFS description root: a command written to uprobe_events
 * must reach the kernel to create anything, and the events it creates (their
 * ids, the lines of uprobe_events) exist only there.
 */
#define _GNU_SOURCE
#include "dynevent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "trace/reaper.h"
#include "trace/tracefs.h"

#define DYNEVENT_GROUP_PREFIX "stackprof_"
#define DYNEVENT_COMM "stackprof"
/* Room for the names of the tracefs files that define events ("kprobe_events"). */
#define DYNEVENT_FILE_MAX 24
/* What is kept of the caller's name, leaving room for "_<counter>". */
#define DYNEVENT_BASE_MAX 40
/* The kernel parses dynamic_events commands a line at a time, in a 4096-byte buffer. */
#define DYNEVENT_CMD_MAX 4096
/* Names taken by a dead process that had our pid: how far to count past them. */
#define DYNEVENT_EEXIST_TRIES 64
/* The probe kind a file holds, for "%.*s": "uprobe" for uprobe_events. */
#define DYNEVENT_KIND(file) (int)strcspn(file, "_"), file

struct dynevent {
	char file[DYNEVENT_FILE_MAX];
	char name[DYNEVENT_NAME_MAX];
};

/*
 * Setup is single-threaded, so the state is plain. The event list belongs to
 * the process that created it: a forked child inherits a copy but must not
 * remove its parent's events.
 */
static struct {
	pid_t owner;
	struct dynevent *events;
	size_t nr_events, cap_events;
	unsigned int counter;
} dyn;

/* The event list is per process: a forked child starts with none of its own. */
static void dynevent__own(void)
{
	pid_t pid = getpid();

	if (dyn.owner == pid)
		return;
	free(dyn.events);
	dyn.events = NULL;
	dyn.nr_events = dyn.cap_events = 0;
	dyn.owner = pid;
}

static bool dynevent__is_ours(const char *file, const char *event)
{
	size_t i;

	if (dyn.owner != getpid())
		return false;
	for (i = 0; i < dyn.nr_events; i++)
		if (!strcmp(dyn.events[i].name, event) && !strcmp(dyn.events[i].file, file))
			return true;
	return false;
}

/* Forgets event @i of the list (removed, or never usable). */
static void dynevent__forget(size_t i)
{
	memmove(&dyn.events[i], &dyn.events[i + 1], (dyn.nr_events - i - 1) * sizeof(*dyn.events));
	dyn.nr_events--;
}

static void dynevent__group(char *group)
{
	snprintf(group, DYNEVENT_NAME_MAX, DYNEVENT_GROUP_PREFIX "%d", (int)dyn.owner);
}

bool dynevent__owns_group(const char *group)
{
	char own[DYNEVENT_NAME_MAX];

	snprintf(own, sizeof(own), DYNEVENT_GROUP_PREFIX "%d", (int)getpid());
	return group && !strcmp(group, own);
}

/*
 * Appends one command to @file. O_APPEND, never O_TRUNC: opening that file
 * with O_TRUNC deletes every event of its kind on the system, other tools'
 * too. The kernel answers a bad command through write()'s errno.
 */
static int dynevent__write_cmd(const char *file, const char *cmd)
{
	char path[PATH_MAX];
	size_t len = strlen(cmd);
	ssize_t n;
	int fd, err;

	err = tracefs__kernel_file(file, path, sizeof(path));
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

/* The command that removes @group/@event, without its newline. */
static void dynevent__undo_cmd(const char *group, const char *event, char *cmd, size_t len)
{
	snprintf(cmd, len, "-:%s/%s", group, event);
}

static int dynevent__remove(const char *file, const char *group, const char *event)
{
	char cmd[2 * DYNEVENT_NAME_MAX + 8];
	size_t n;

	dynevent__undo_cmd(group, event, cmd, sizeof(cmd) - 1);
	n = strlen(cmd);
	cmd[n] = '\n';
	cmd[n + 1] = '\0';
	return dynevent__write_cmd(file, cmd);
}

/*
 * Tells the reaper (trace/reaper.h) how to remove @group/@event should we
 * die first (@add), or that it is gone (!@add). Without a reaper a killed
 * run's events stay until the next run's dynevent__cleanup_stale().
 */
static int dynevent__tell_reaper(const char *file, const char *group, const char *event, bool add)
{
	static bool warned;
	char path[PATH_MAX], cmd[2 * DYNEVENT_NAME_MAX + 8];
	int err;

	/* The kernel's own file, as for the probe itself: never a description root. */
	err = tracefs__kernel_file(file, path, sizeof(path));
	if (err)
		return err;
	dynevent__undo_cmd(group, event, cmd, sizeof(cmd));
	if (!add) {
		reaper__forget(path, cmd);
		return 0;
	}
	err = reaper__add(path, cmd);
	if (err && !warned) {
		warned = true;
		pr_warn("%.*s: cannot start the process that removes our events if stackprof is "
			"killed: %s (a killed run's events are removed by the next run)",
			DYNEVENT_KIND(file), strerror(-err));
	}
	return err;
}

const char *dynevent__hint(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return "run as root";
	case EEXIST:
		return "a killed run with our pid left these names: the next run removes them";
	case ENOMEM:
		return "out of memory";
	default:
		return "the kernel says why in tracefs' error_log";
	}
}

/*
 * Event names are C identifiers to the kernel (letters, digits, '_', no
 * leading digit): anything else in @name becomes '_'.
 */
static void dynevent__base_name(const char *name, char *base, size_t len)
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

/* Whether tracefs shows event @group/@event, whatever kind of event it is. */
static bool dynevent__exists(const char *group, const char *event)
{
	char rel[2 * DYNEVENT_NAME_MAX + 16], path[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof(rel), "events/%s/%s", group, event);
	return !tracefs__kernel_file(rel, path, sizeof(path)) && !stat(path, &st);
}

int dynevent__create(const char *file, const char *type, const char *name, const char *spec,
		     char *group, char *event)
{
	char base[DYNEVENT_BASE_MAX + 1], *cmd;
	int err = -EEXIST, tries, n;

	dynevent__own();
	dynevent__group(group);
	event[0] = '\0';
	if (strlen(file) >= DYNEVENT_FILE_MAX)
		return -EINVAL;
	if (dyn.nr_events == dyn.cap_events) {
		size_t cap = dyn.cap_events ? 2 * dyn.cap_events : 8;
		struct dynevent *p = realloc(dyn.events, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		dyn.events = p;
		dyn.cap_events = cap;
	}
	cmd = malloc(DYNEVENT_CMD_MAX);
	if (!cmd)
		return -ENOMEM;
	dynevent__base_name(name, base, sizeof(base));
	/*
	 * A name can be taken only by a dead process that had our pid (its
	 * group is ours now): count past it; dynevent__cleanup_stale() removes
	 * it. But the kernel (since 5.4) answers EEXIST only when the old
	 * event probes the same place or has other argument types: otherwise
	 * it appends our probe to that event, which then fires for both.
	 * Hence the look before each write.
	 */
	for (tries = 0; err == -EEXIST && tries < DYNEVENT_EEXIST_TRIES; tries++) {
		snprintf(event, DYNEVENT_NAME_MAX, "%s_%u", base, dyn.counter++);
		if (dynevent__exists(group, event))
			continue;
		n = snprintf(cmd, DYNEVENT_CMD_MAX, "%s:%s/%s %s\n", type, group, event, spec);
		if (n < 0 || n >= DYNEVENT_CMD_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		/* Told first: a kill between the two would otherwise leave the event unknown. */
		dynevent__tell_reaper(file, group, event, true);
		err = dynevent__write_cmd(file, cmd);
		if (err)
			dynevent__tell_reaper(file, group, event, false);
	}
	free(cmd);
	if (err)
		return err;
	snprintf(dyn.events[dyn.nr_events].file, DYNEVENT_FILE_MAX, "%s", file);
	snprintf(dyn.events[dyn.nr_events].name, DYNEVENT_NAME_MAX, "%s", event);
	dyn.nr_events++;
	return 0;
}

int dynevent__delete(const char *file, const char *event)
{
	char group[DYNEVENT_NAME_MAX];
	size_t i;
	int err;

	if (!dynevent__is_ours(file, event))
		return -ENOENT;
	dynevent__group(group);
	err = dynevent__remove(file, group, event);
	if (err && err != -ENOENT)
		return err;
	dynevent__tell_reaper(file, group, event, false);
	for (i = 0; i < dyn.nr_events; i++) {
		if (!strcmp(dyn.events[i].name, event) && !strcmp(dyn.events[i].file, file)) {
			dynevent__forget(i);
			break;
		}
	}
	return 0;
}

int dynevent__id(const char *group, const char *event, uint64_t *id)
{
	char rel[2 * DYNEVENT_NAME_MAX + 16], *buf, *end;
	int err = 0;

	snprintf(rel, sizeof(rel), "events/%s/%s/id", group, event);
	buf = tracefs__kernel_read(rel, NULL);
	if (!buf)
		return -errno;
	errno = 0;
	*id = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		err = -EINVAL;
	free(buf);
	return err;
}

/* Removes our events in @file, or in every file when @file is NULL. */
static void dynevent__remove_own(const char *file)
{
	char group[DYNEVENT_NAME_MAX];
	size_t i = 0;

	if (dyn.owner != getpid()) {
		dynevent__own();
		return;
	}
	dynevent__group(group);
	while (i < dyn.nr_events) {
		const struct dynevent *ev = &dyn.events[i];
		int err;

		if (file && strcmp(ev->file, file)) {
			i++;
			continue;
		}
		err = dynevent__remove(ev->file, group, ev->name);
		/* ENOENT: someone removed it already, which is what we wanted. */
		if (!err || err == -ENOENT) {
			pr_debug("%.*s: removed %s/%s", DYNEVENT_KIND(ev->file), group, ev->name);
			dynevent__tell_reaper(ev->file, group, ev->name, false);
			dynevent__forget(i);
			continue;
		}
		if (err == -EBUSY)
			pr_warn("%.*s: cannot remove %s/%s: a perf event still uses it (close it "
				"first; a later stackprof run removes it as stale)",
				DYNEVENT_KIND(ev->file), group, ev->name);
		else
			pr_warn("%.*s: cannot remove %s/%s: %s (remove it with: echo '-:%s/%s' "
				">> %s/%s)",
				DYNEVENT_KIND(ev->file), group, ev->name, strerror(-err), group,
				ev->name, tracefs__path() ? tracefs__path() : "<tracefs>",
				ev->file);
		/* Kept, so that a second call can try again. */
		i++;
	}
	if (!dyn.nr_events) {
		free(dyn.events);
		dyn.events = NULL;
		dyn.cap_events = 0;
	}
	/*
	 * With nothing left the reaper has nothing to do: it exits at once and
	 * is waited for. At the end (dynevent__cleanup) with events still in
	 * use, it is left to retry them after we are gone.
	 */
	if (!dyn.nr_events)
		reaper__stop(true);
	else if (!file)
		reaper__stop(false);
}

void dynevent__cleanup(void)
{
	dynevent__remove_own(NULL);
}

void dynevent__cleanup_file(const char *file)
{
	dynevent__remove_own(file);
}

/* Reads the first line of /proc/@pid/stat. */
static int dynevent__proc_stat(long pid, char *buf, size_t len)
{
	char path[64];
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		err = ferror(f) && errno ? -errno : -EIO;
	fclose(f);
	return err;
}

/*
 * Whether group stackprof_<@pid> was left by a run that is gone: no such
 * process, a zombie (its fds are closed), or a process that is not
 * stackprof (the pid was reused). Our own group is stale only in the events
 * we did not create: a dead process that had our pid left them. Unknown
 * (e.g. /proc hides the pid) counts as live.
 */
static bool dynevent__stale(long pid, const char *file, const char *event)
{
	char buf[256], *lp, *rp;
	int err;

	if (pid == getpid())
		return !dynevent__is_ours(file, event);
	/* "pid (comm) state ...": comm may hold ')' itself, the last one ends it. */
	err = dynevent__proc_stat(pid, buf, sizeof(buf));
	if (err)
		return err == -ENOENT || err == -ESRCH;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp || rp[1] != ' ')
		return false;
	if (rp[2] == 'Z' || rp[2] == 'X')
		return true;
	*rp = '\0';
	return strcmp(lp + 1, DYNEVENT_COMM) != 0;
}

bool dynevent__parse_line(char *line, long *pid, char **group, char **event)
{
	char *slash, *end, *digits, *p = line + 1;

	if (line[0] != 'p' && line[0] != 'r')
		return false;
	/* kprobe_events writes a return probe's maxactive there: "r16:group/event". */
	if (line[0] == 'r')
		p += strspn(p, "0123456789");
	if (*p != ':')
		return false;
	*group = p + 1;
	slash = strchr(*group, '/');
	if (!slash)
		return false;
	*slash = '\0';
	*event = slash + 1;
	(*event)[strcspn(*event, " \t")] = '\0';
	if (!**event || strncmp(*group, DYNEVENT_GROUP_PREFIX, strlen(DYNEVENT_GROUP_PREFIX)))
		return false;
	digits = *group + strlen(DYNEVENT_GROUP_PREFIX);
	if (*digits < '1' || *digits > '9')
		return false;
	errno = 0;
	*pid = strtol(digits, &end, 10);
	return !errno && !*end && *pid > 0 && *pid <= INT32_MAX;
}

int dynevent__cleanup_stale(const char *file)
{
	char *buf, *line, *next;
	int removed = 0, err;

	if (!tracefs__path())
		return -errno;
	buf = tracefs__kernel_read(file, NULL);
	if (!buf) {
		err = -errno;
		/* No such file: no such events either, stale or not. */
		if (err == -ENOENT)
			return 0;
		pr_warn("%.*s: cannot read %s/%s: %s (run as root)", DYNEVENT_KIND(file),
			tracefs__path(), file, strerror(-err));
		return err;
	}
	for (line = buf; *line; line = next) {
		char *group, *event;
		long pid;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		if (!dynevent__parse_line(line, &pid, &group, &event) ||
		    !dynevent__stale(pid, file, event))
			continue;
		err = dynevent__remove(file, group, event);
		if (!err) {
			pr_debug("%.*s: removed stale %s/%s", DYNEVENT_KIND(file), group, event);
			removed++;
		} else if (err == -EBUSY) {
			pr_warn("%.*s: cannot remove stale %s/%s: %s (a perf event still uses it: "
				"another pid namespace?)",
				DYNEVENT_KIND(file), group, event, strerror(-err));
		} else if (err != -ENOENT) {
			pr_warn("%.*s: cannot remove stale %s/%s: %s (remove it by hand in %s)",
				DYNEVENT_KIND(file), group, event, strerror(-err), file);
		}
	}
	free(buf);
	return removed;
}

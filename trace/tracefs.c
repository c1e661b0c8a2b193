/* Finding tracefs (or debugfs' tracing/ directory), mounting it when absent, reading its files. */
#include "tracefs.h"

#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define TRACEFS_MOUNTPOINT "/sys/kernel/tracing"
#define DEBUGFS_MOUNTPOINT "/sys/kernel/debug"
#define TRACEFS_ENV "STACKPROF_TRACEFS"
#define TRACEFS_VIA_ENV "STACKPROF_TRACEFS_VIA"
#define TRACEFS_READ_CHUNK 4096
/* No tracefs text file we read comes near this; it bounds a runaway read. */
#define TRACEFS_READ_MAX (16 << 20)

/* The steps of tracefs__path(), in the order they are tried. */
enum tracefs_via {
	VIA_ANY,
	VIA_TRACING,
	VIA_DEBUGFS,
	VIA_MOUNT,
};

static const char *const via_names[] = {
	[VIA_TRACING] = "tracing",
	[VIA_DEBUGFS] = "debugfs",
	[VIA_MOUNT] = "mount",
};

/*
 * Resolved once per process (setup is single-threaded). A failure is cached
 * too, so that every later caller gets the same errno without a second
 * warning; tracefs__cleanup() forgets all of it.
 */
static struct {
	bool resolved;
	int err; /* -errno of the failed resolution, 0 on success */
	enum tracefs_via via; /* the step that found path */
	char path[PATH_MAX];
	char mounted[PATH_MAX]; /* what we mounted ourselves, "" if nothing */
	int mount_id;		/* its id in /proc/self/mountinfo, -1 if unknown */

	bool root_resolved;
	int root_err;
	char root[PATH_MAX];
} tfs;

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Finds a mount of filesystem @type in /proc/mounts: the one at @preferred
 * if there is one, else the first listed that @accept (may be NULL) takes.
 * Returns 0 with the mount point in @out, or -ENOENT.
 */
static int tracefs__find_mount(const char *type, const char *preferred,
			       bool (*accept)(const char *dir), char *out, size_t len)
{
	char first[PATH_MAX] = "";
	struct mntent *m;
	FILE *f;

	f = setmntent("/proc/mounts", "r");
	if (!f)
		return -errno;
	/* getmntent decodes the octal escapes (\040 for a space) of mount paths. */
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, type) || (accept && !accept(m->mnt_dir)))
			continue;
		if (!strcmp(m->mnt_dir, preferred)) {
			snprintf(first, sizeof(first), "%s", m->mnt_dir);
			break;
		}
		if (!first[0])
			snprintf(first, sizeof(first), "%s", m->mnt_dir);
	}
	endmntent(f);
	if (!first[0])
		return -ENOENT;
	if ((size_t)snprintf(out, len, "%s", first) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * debugfs counts only when its tracing/ directory is populated: looking
 * inside makes a 4.1+ kernel automount tracefs there, and on older kernels
 * the directory is debugfs' own.
 */
static bool debugfs_has_tracing(const char *dir)
{
	char events[PATH_MAX];

	return (size_t)snprintf(events, sizeof(events), "%s/tracing/events", dir) <
		       sizeof(events) &&
	       is_dir(events);
}

/* Step "tracing": a tracefs mount, /sys/kernel/tracing first. */
static int tracefs__find_tracefs(char *out, size_t len)
{
	return tracefs__find_mount("tracefs", TRACEFS_MOUNTPOINT, NULL, out, len);
}

/* Step "debugfs": debugfs' tracing/ directory, /sys/kernel/debug first. */
static int tracefs__find_debugfs(char *out, size_t len)
{
	char dir[PATH_MAX];
	int err;

	err = tracefs__find_mount("debugfs", DEBUGFS_MOUNTPOINT, debugfs_has_tracing, dir,
				  sizeof(dir));
	if (err)
		return err;
	if ((size_t)snprintf(out, len, "%s/tracing", dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * The id of the mount on top at @dir in /proc/self/mountinfo ("ID PARENT
 * MAJ:MIN ROOT MOUNTPOINT ..."), or -1. Mounts stacked at one place are
 * each the child of the one below, so the top one is the one no other
 * mount at @dir has as its parent. @dir must need no octal escapes.
 */
static int tracefs__top_mount_id(const char *dir)
{
	int ids[64], parents[64], n = 0, top = -1;
	char line[4096], point[PATH_MAX];
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	while (n < (int)(sizeof(ids) / sizeof(ids[0])) && fgets(line, sizeof(line), f)) {
		int id, parent;

		if (sscanf(line, "%d %d %*s %*s %4095s", &id, &parent, point) == 3 &&
		    !strcmp(point, dir)) {
			ids[n] = id;
			parents[n] = parent;
			n++;
		}
	}
	fclose(f);
	for (int i = 0; i < n && top < 0; i++) {
		bool covered = false;

		for (int j = 0; j < n; j++)
			covered |= parents[j] == ids[i];
		if (!covered)
			top = ids[i];
	}
	return top;
}

/* Remembers that we mounted @dir, and which mount it is. */
static void tracefs__note_mounted(const char *dir)
{
	snprintf(tfs.mounted, sizeof(tfs.mounted), "%s", dir);
	tfs.mount_id = tracefs__top_mount_id(dir);
}

static const char *tracefs__hint(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return "run as root";
	case ENODEV:
		return "the kernel is built without CONFIG_TRACING";
	case ENOENT:
		return "no " TRACEFS_MOUNTPOINT " directory: kernel without CONFIG_TRACING, or "
		       "older than 4.1";
	case EROFS:
		return "/sys is read-only here (a container?): mount tracefs from the host";
	case EBUSY:
		return "tracefs is mounted there already: the kernel refuses a second mount of it "
		       "at the same place";
	default:
		return "mount it yourself: mount -t tracefs nodev " TRACEFS_MOUNTPOINT;
	}
}

/*
 * Step "mount": tracefs at its standard place. The kernel refuses a second
 * tracefs mount where one is already (EBUSY: one superblock, same place).
 * Kernels before 4.1 have no tracefs: there the tracing directory lives in
 * debugfs, so ENODEV is retried by mounting debugfs. Returns 0 or the
 * -errno of the tracefs attempt.
 */
static int tracefs__mount_own(void)
{
	char events[PATH_MAX];
	int err;

	if (mount("nodev", TRACEFS_MOUNTPOINT, "tracefs", 0, NULL) == 0) {
		snprintf(tfs.path, sizeof(tfs.path), "%s", TRACEFS_MOUNTPOINT);
		tracefs__note_mounted(TRACEFS_MOUNTPOINT);
		pr_debug("tracefs: mounted tracefs at %s (mount id %d)", TRACEFS_MOUNTPOINT,
			 tfs.mount_id);
		return 0;
	}
	err = -errno;
	if (err != -ENODEV && err != -ENOENT)
		return err;

	if (mount("nodev", DEBUGFS_MOUNTPOINT, "debugfs", 0, NULL) != 0)
		return err;
	snprintf(events, sizeof(events), "%s/tracing/events", DEBUGFS_MOUNTPOINT);
	if (!is_dir(events)) {
		/* debugfs without tracing: no use to us, leave the system as it was. */
		umount2(DEBUGFS_MOUNTPOINT, MNT_DETACH);
		return err;
	}
	snprintf(tfs.path, sizeof(tfs.path), "%s/tracing", DEBUGFS_MOUNTPOINT);
	tracefs__note_mounted(DEBUGFS_MOUNTPOINT);
	pr_debug("tracefs: no tracefs, mounted debugfs at %s", DEBUGFS_MOUNTPOINT);
	return 0;
}

/* The step STACKPROF_TRACEFS_VIA forces: VIA_ANY when unset, -EINVAL (said) when unknown. */
static int tracefs__forced_via(void)
{
	const char *env = getenv(TRACEFS_VIA_ENV);

	if (!env || !*env)
		return VIA_ANY;
	for (int v = VIA_TRACING; v <= VIA_MOUNT; v++)
		if (!strcmp(env, via_names[v]))
			return v;
	pr_warn("tracefs: bad %s='%s': expected tracing, debugfs or mount (or unset it)",
		TRACEFS_VIA_ENV, env);
	return -EINVAL;
}

/* The one line that says why the forced step @via found nothing. */
static void tracefs__explain_forced(enum tracefs_via via, int err)
{
	switch (via) {
	case VIA_TRACING:
		pr_warn("tracefs: %s=tracing, but no tracefs is mounted (mount -t tracefs nodev "
			"%s, or unset %s)",
			TRACEFS_VIA_ENV, TRACEFS_MOUNTPOINT, TRACEFS_VIA_ENV);
		break;
	case VIA_DEBUGFS:
		pr_warn("tracefs: %s=debugfs, but no debugfs with a tracing/ directory is mounted "
			"(mount -t debugfs nodev %s, or unset %s)",
			TRACEFS_VIA_ENV, DEBUGFS_MOUNTPOINT, TRACEFS_VIA_ENV);
		break;
	default:
		pr_warn("tracefs: %s=mount, and mounting tracefs at %s failed: %s (%s)",
			TRACEFS_VIA_ENV, TRACEFS_MOUNTPOINT, strerror(-err), tracefs__hint(-err));
		break;
	}
}

static int tracefs__resolve(void)
{
	int via, err = -ENOENT;

	via = tracefs__forced_via();
	if (via < 0)
		return via;
	if (via == VIA_ANY || via == VIA_TRACING) {
		err = tracefs__find_tracefs(tfs.path, sizeof(tfs.path));
		if (!err) {
			tfs.via = VIA_TRACING;
			pr_info("tracefs: using %s (tracefs mounted there)", tfs.path);
			return 0;
		}
	}
	if (via == VIA_ANY || via == VIA_DEBUGFS) {
		err = tracefs__find_debugfs(tfs.path, sizeof(tfs.path));
		if (!err) {
			tfs.via = VIA_DEBUGFS;
			pr_info("tracefs: using %s (debugfs' tracing directory)", tfs.path);
			return 0;
		}
	}
	if (via == VIA_ANY || via == VIA_MOUNT) {
		err = tracefs__mount_own();
		/* Another process may have mounted it between our scan and our mount. */
		if (err == -EBUSY && via == VIA_ANY &&
		    !tracefs__find_tracefs(tfs.path, sizeof(tfs.path))) {
			tfs.via = VIA_TRACING;
			pr_info("tracefs: using %s (tracefs mounted there meanwhile)", tfs.path);
			return 0;
		}
		if (!err) {
			tfs.via = VIA_MOUNT;
			pr_info("tracefs: using %s (mounted by stackprof, unmounted at exit)",
				tfs.path);
			return 0;
		}
	}
	if (via == VIA_ANY)
		pr_warn("tracefs: not mounted, and mounting it at %s failed: %s (%s)",
			TRACEFS_MOUNTPOINT, strerror(-err), tracefs__hint(-err));
	else
		tracefs__explain_forced((enum tracefs_via)via, err);
	return err;
}

const char *tracefs__path(void)
{
	if (!tfs.resolved) {
		tfs.resolved = true;
		tfs.mounted[0] = '\0';
		tfs.mount_id = -1;
		tfs.via = VIA_ANY;
		tfs.err = tracefs__resolve();
		if (tfs.err)
			tfs.path[0] = '\0';
	}
	if (tfs.err) {
		errno = -tfs.err;
		return NULL;
	}
	return tfs.path;
}

const char *tracefs__via(void)
{
	return tfs.resolved && !tfs.err ? via_names[tfs.via] : NULL;
}

const char *tracefs__override(void)
{
	const char *env = getenv(TRACEFS_ENV);

	return env && *env ? env : NULL;
}

const char *tracefs__root(void)
{
	const char *dir = tracefs__override();
	int err = 0;

	if (!dir)
		return tracefs__path();
	if (!tfs.root_resolved) {
		struct stat st;

		tfs.root_resolved = true;
		if (snprintf(tfs.root, sizeof(tfs.root), "%s", dir) >= (int)sizeof(tfs.root))
			err = -ENAMETOOLONG;
		else if (stat(dir, &st))
			err = -errno;
		else if (!S_ISDIR(st.st_mode))
			err = -ENOTDIR;
		if (err)
			pr_warn("tracefs: %s=%s: %s (point it at a directory laid out as tracefs, "
				"holding events/SYS/NAME/format, or unset it)",
				TRACEFS_ENV, dir, strerror(-err));
		else
			pr_info("tracefs: reading tracepoint formats from %s (%s); probes are still "
				"created in the kernel's tracefs",
				tfs.root, TRACEFS_ENV);
		tfs.root_err = err;
	}
	if (tfs.root_err) {
		errno = -tfs.root_err;
		return NULL;
	}
	return tfs.root;
}

void tracefs__cleanup(void)
{
	/*
	 * MNT_DETACH: perf tracepoint events opened through this tracefs do not
	 * pin the mount, but a lazy unmount also copes with anything else (a
	 * shell cd'ed there) that would make a plain umount fail with EBUSY.
	 * umount2() takes whatever is on top at the path: if someone mounted
	 * over ours meanwhile, that is theirs, and both are left.
	 */
	if (tfs.mounted[0]) {
		int top = tracefs__top_mount_id(tfs.mounted);

		if (tfs.mount_id >= 0 && top != tfs.mount_id)
			pr_debug("tracefs: %s is no longer our mount %d (now %d): left mounted",
				 tfs.mounted, tfs.mount_id, top);
		else if (umount2(tfs.mounted, MNT_DETACH))
			pr_debug("tracefs: cannot unmount %s: %s", tfs.mounted, strerror(errno));
		else
			pr_debug("tracefs: unmounted %s", tfs.mounted);
	}
	memset(&tfs, 0, sizeof(tfs));
}

bool tracefs__mounted_here(void)
{
	return tfs.mounted[0] != '\0';
}

static int tracefs__join(const char *root, const char *rel, char *buf, size_t len)
{
	int n;

	if (!root)
		return -errno;
	n = snprintf(buf, len, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int tracefs__file(const char *rel, char *buf, size_t len)
{
	return tracefs__join(tracefs__root(), rel, buf, len);
}

int tracefs__kernel_file(const char *rel, char *buf, size_t len)
{
	return tracefs__join(tracefs__path(), rel, buf, len);
}

/*
 * tracefs files report st_size 0 and are generated on read, so the only
 * way to know their length is to read until EOF.
 */
static char *tracefs__read_path(const char *path, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *p;
	int err;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < TRACEFS_READ_CHUNK + 1) {
			if (cap >= TRACEFS_READ_MAX) {
				err = -EFBIG;
				goto out_free;
			}
			cap = cap ? cap * 2 : 2 * TRACEFS_READ_CHUNK;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				goto out_free;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				err = -EIO;
				goto out_free;
			}
			break;
		}
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;

out_free:
	free(buf);
	fclose(f);
	errno = -err;
	return NULL;
}

char *tracefs__read(const char *rel, size_t *lenp)
{
	char path[PATH_MAX];
	int err;

	err = tracefs__file(rel, path, sizeof(path));
	if (err) {
		errno = -err;
		return NULL;
	}
	return tracefs__read_path(path, lenp);
}

char *tracefs__kernel_read(const char *rel, size_t *lenp)
{
	char path[PATH_MAX];
	int err;

	err = tracefs__kernel_file(rel, path, sizeof(path));
	if (err) {
		errno = -err;
		return NULL;
	}
	return tracefs__read_path(path, lenp);
}

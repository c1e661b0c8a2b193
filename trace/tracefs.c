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
#define TRACEFS_READ_CHUNK 4096
/* No tracefs text file we read comes near this; it bounds a runaway read. */
#define TRACEFS_READ_MAX (16 << 20)

/*
 * Resolved once per process (setup is single-threaded). A failure is cached
 * too, so that every later caller gets the same errno without a second
 * warning; tracefs__cleanup() forgets both.
 */
static struct {
	bool resolved;
	int err; /* -errno of the failed resolution, 0 on success */
	char path[PATH_MAX];
	char mounted[PATH_MAX]; /* what we mounted ourselves, "" if nothing */
} tfs;

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Scans /proc/mounts. A tracefs mount wins; debugfs counts only when its
 * tracing/ directory is populated: since 4.1 the kernel automounts tracefs
 * there on first access, on older kernels it is debugfs' own directory.
 */
static int tracefs__find_mounted(char *out, size_t len)
{
	char debug_dir[PATH_MAX] = "";
	struct mntent *m;
	FILE *f;

	f = setmntent("/proc/mounts", "r");
	if (!f)
		return -errno;
	/* getmntent decodes the octal escapes (\040 for a space) of mount paths. */
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "tracefs")) {
			snprintf(out, len, "%s", m->mnt_dir);
			endmntent(f);
			return 0;
		}
		if (!strcmp(m->mnt_type, "debugfs") && !debug_dir[0])
			snprintf(debug_dir, sizeof(debug_dir), "%s", m->mnt_dir);
	}
	endmntent(f);
	if (debug_dir[0]) {
		char events[PATH_MAX];
		int n;

		n = snprintf(out, len, "%s/tracing", debug_dir);
		if (n > 0 && (size_t)n < len &&
		    (size_t)snprintf(events, sizeof(events), "%s/events", out) < sizeof(events) &&
		    is_dir(events))
			return 0;
	}
	return -ENOENT;
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
	default:
		return "mount it yourself: mount -t tracefs nodev " TRACEFS_MOUNTPOINT;
	}
}

/*
 * Mounts tracefs at its standard place. Kernels before 4.1 have no tracefs:
 * there the tracing directory lives in debugfs, so ENODEV is retried by
 * mounting debugfs. Returns 0 or the -errno of the tracefs attempt.
 */
static int tracefs__mount_own(void)
{
	char events[PATH_MAX];
	int err;

	if (mount("nodev", TRACEFS_MOUNTPOINT, "tracefs", 0, NULL) == 0) {
		snprintf(tfs.path, sizeof(tfs.path), "%s", TRACEFS_MOUNTPOINT);
		snprintf(tfs.mounted, sizeof(tfs.mounted), "%s", TRACEFS_MOUNTPOINT);
		pr_debug("tracefs: mounted tracefs at %s", TRACEFS_MOUNTPOINT);
		return 0;
	}
	err = -errno;
	/* Another process may have mounted it between our scan and our mount. */
	if (err == -EBUSY && !tracefs__find_mounted(tfs.path, sizeof(tfs.path)))
		return 0;
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
	snprintf(tfs.mounted, sizeof(tfs.mounted), "%s", DEBUGFS_MOUNTPOINT);
	pr_debug("tracefs: no tracefs, mounted debugfs at %s", DEBUGFS_MOUNTPOINT);
	return 0;
}

const char *tracefs__path(void)
{
	int err;

	if (tfs.resolved) {
		if (tfs.err) {
			errno = -tfs.err;
			return NULL;
		}
		return tfs.path;
	}
	tfs.resolved = true;
	tfs.mounted[0] = '\0';

	err = tracefs__find_mounted(tfs.path, sizeof(tfs.path));
	if (!err) {
		pr_debug("tracefs: using %s", tfs.path);
		tfs.err = 0;
		return tfs.path;
	}
	err = tracefs__mount_own();
	if (err) {
		pr_warn("tracefs: not mounted, and mounting it at %s failed: %s (%s)",
			TRACEFS_MOUNTPOINT, strerror(-err), tracefs__hint(-err));
		tfs.err = err;
		tfs.path[0] = '\0';
		errno = -err;
		return NULL;
	}
	tfs.err = 0;
	return tfs.path;
}

void tracefs__cleanup(void)
{
	/*
	 * MNT_DETACH: perf tracepoint events opened through this tracefs do not
	 * pin the mount, but a lazy unmount also copes with anything else (a
	 * shell cd'ed there) that would make a plain umount fail with EBUSY.
	 */
	if (tfs.mounted[0]) {
		if (umount2(tfs.mounted, MNT_DETACH))
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

int tracefs__file(const char *rel, char *buf, size_t len)
{
	const char *root = tracefs__path();
	int n;

	if (!root)
		return -errno;
	n = snprintf(buf, len, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * tracefs files report st_size 0 and are generated on read, so the only
 * way to know their length is to read until EOF.
 */
char *tracefs__read(const char *rel, size_t *lenp)
{
	char path[PATH_MAX];
	size_t len = 0, cap = 0;
	char *buf = NULL, *p;
	int err;
	FILE *f;

	err = tracefs__file(rel, path, sizeof(path));
	if (err) {
		errno = -err;
		return NULL;
	}
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

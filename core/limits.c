/* Locked memory, open files, perf_event_paranoid: probed, worked around where allowed, explained. */
#include "limits.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MLOCK_KB_PATH "/proc/sys/kernel/perf_event_mlock_kb"

int limits__sysctl(const char *path, int dflt)
{
	FILE *f = fopen(path, "re");
	int v = dflt;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

int limits__paranoid(void)
{
	return limits__sysctl("/proc/sys/kernel/perf_event_paranoid", 2);
}

const char *limits__self_exe(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return "stackprof";
	path[n] = 0;
	return path;
}

void limits__raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	pr_debug("raising the open-file limit from %llu to %llu", (unsigned long long)rl.rlim_cur,
		 (unsigned long long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * Maps @nr rings of @pages data pages on throwaway events of this thread,
 * as the real rings will be mapped, and unmaps them: the kernel's locked
 * memory accounting (kernel.perf_event_mlock_kb per CPU for the user, then
 * RLIMIT_MEMLOCK, none with CAP_IPC_LOCK) answers exactly, where a
 * prediction would have to know what the user's other rings hold. Returns
 * 0, -errno from mmap, or 1 when no throwaway event can be opened.
 */
static int try_rings(int nr, unsigned int pages)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.disabled = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	size_t len = ((size_t)pages + 1) * (size_t)getpagesize();
	void **maps = calloc((size_t)nr, sizeof(*maps));
	int *fds = calloc((size_t)nr, sizeof(*fds));
	int i, n = 0, err = 0;

	if (!maps || !fds) {
		err = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < nr; i++) {
		fds[i] = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fds[i] < 0) {
			err = 1;
			break;
		}
		maps[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
		if (maps[i] == MAP_FAILED) {
			err = -errno;
			close(fds[i]);
			break;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		munmap(maps[i], len);
		close(fds[i]);
	}
out_free:
	free(maps);
	free(fds);
	return err;
}

/*
 * Above kernel.perf_event_mlock_kb per CPU, an unprivileged user's rings
 * are charged to RLIMIT_MEMLOCK: take the hard limit when they will need
 * it, which needs no privilege (root has CAP_IPC_LOCK and needs none).
 */
static void raise_memlock(int nr, unsigned int pages)
{
	uint64_t need = (uint64_t)nr * (pages + 1) * (uint64_t)getpagesize();
	uint64_t free_kb = (uint64_t)limits__sysctl(MLOCK_KB_PATH, 516);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct rlimit rl;

	if (geteuid() == 0 || need <= free_kb * 1024 * (uint64_t)(online > 0 ? online : 1))
		return;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	pr_debug("raising the locked-memory limit from %llu to %llu bytes for the rings",
		 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_MEMLOCK, &rl);
}

static const char *ring_hint(int err)
{
	if (err == -ENOMEM)
		return "not enough memory for them";
	return "over kernel.perf_event_mlock_kb per CPU and ulimit -l: raise either, or run as "
	       "root";
}

int limits__fit_ring_pages(const char *who, int nr, unsigned int *pages)
{
	unsigned int want = *pages, n = want;
	int err, first_err = 0;

	raise_memlock(nr, n);
	while ((err = try_rings(nr, n)) == -EPERM || err == -ENOMEM) {
		if (!first_err)
			first_err = err;
		if (n <= LIMITS_MIN_MMAP_PAGES || n == 1) {
			pr_warn("%s: cannot map ring buffers of even %u pages on %d CPUs: %s (%s; "
				"kernel.perf_event_mlock_kb is %d)",
				who, n, nr, strerror(-err), ring_hint(err),
				limits__sysctl(MLOCK_KB_PATH, -1));
			return err;
		}
		n /= 2;
	}
	if (n != want)
		pr_warn("%s: %u-page ring buffers on %d CPUs do not fit (%s: %s; "
			"kernel.perf_event_mlock_kb is %d): using %u pages per CPU, events may be "
			"lost",
			who, want, nr, strerror(-first_err), ring_hint(first_err),
			limits__sysctl(MLOCK_KB_PATH, -1), n);
	*pages = n;
	return 0;
}

/*
 * The highest kernel.perf_event_paranoid at which a user without
 * CAP_PERFMON may open @attr, and what for: every CPU needs 0 (raw
 * tracepoint data on every CPU, -1), kernel samples 1, own tasks 2.
 */
static int paranoid_needed(const struct perf_event_attr *attr, bool every_cpu, const char **what)
{
	if (every_cpu && attr->type == PERF_TYPE_TRACEPOINT &&
	    (attr->sample_type & PERF_SAMPLE_RAW)) {
		*what = "tracing every CPU";
		return -1;
	}
	if (every_cpu) {
		*what = "profiling every CPU";
		return 0;
	}
	if (!attr->exclude_kernel) {
		*what = "sampling the kernel";
		return 1;
	}
	*what = "profiling";
	return 2;
}

/* EACCES/EPERM: one line with the sysctl, root, or the capability that would do. */
static void explain_permission(const char *who, const char *name,
			       const struct perf_event_attr *attr, bool every_cpu, int err)
{
	int paranoid = limits__paranoid(), need;
	const char *what;

	need = paranoid_needed(attr, every_cpu, &what);
	if (geteuid() == 0) {
		pr_warn("%s: cannot open %s: %s, even as root (a security module or kernel "
			"lockdown refuses perf events)",
			who, name, strerror(-err));
	} else if (paranoid > need) {
		pr_warn("%s: cannot open %s: %s (%s needs kernel.perf_event_paranoid <= %d, "
			"now %d, or CAP_PERFMON: run as root, 'sysctl kernel.perf_event_paranoid=%d', "
			"or 'setcap cap_perfmon+ep %s')",
			who, name, strerror(-err), what, need, paranoid, need, limits__self_exe());
	} else {
		pr_warn("%s: cannot open %s: %s (a process of another user can only be profiled "
			"as root, as that user, or with CAP_PERFMON: 'setcap cap_perfmon+ep %s')",
			who, name, strerror(-err), limits__self_exe());
	}
}

void limits__explain_open_error(const char *who, const char *name,
				const struct perf_event_attr *attr, bool every_cpu, int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		explain_permission(who, name, attr, every_cpu, err);
		break;
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
		pr_warn("%s: cannot open %s: %s (this kernel or CPU does not provide it)", who, name,
			strerror(-err));
		break;
	case ESRCH:
		pr_warn("%s: cannot open %s: the target exited before profiling started", who, name);
		break;
	case EMFILE:
	case ENFILE:
		pr_warn("%s: cannot open %s: %s (raise the open-file limit: ulimit -n)", who, name,
			strerror(-err));
		break;
	case EINVAL:
		pr_warn("%s: cannot open %s: %s (the kernel refused its settings; a frequency above "
			"kernel.perf_event_max_sample_rate is a common cause)",
			who, name, strerror(-err));
		break;
	default:
		pr_warn("%s: cannot open %s: %s", who, name, strerror(-err));
	}
}

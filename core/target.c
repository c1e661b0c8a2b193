/* Target selection: parses and validates CPU lists, pids, tids and the command to launch. */
#define _GNU_SOURCE /* pipe2 */
#include "target.h"
#include "log.h"
#include "trace/reaper.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CPUS 4096

int target__parse_cpus(const char *list, int max_cpu, int **out, size_t *nr, char *err,
		       size_t errlen)
{
	unsigned char *seen = calloc(MAX_CPUS, 1);
	const char *p = list;
	int *cpus;
	size_t n = 0;

	*out = NULL;
	*nr = 0;
	if (!seen)
		return -ENOMEM;
	if (!list || !*list) {
		snprintf(err, errlen, "empty CPU list");
		goto out_inval;
	}
	while (*p) {
		char *end;
		long a, b;

		if (!isdigit((unsigned char)*p))
			goto out_syntax;
		a = strtol(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto out_syntax;
			b = strtol(p, &end, 10);
			p = end;
		}
		if (b < a) {
			snprintf(err, errlen, "range %ld-%ld is backwards", a, b);
			goto out_inval;
		}
		if (b > max_cpu || b >= MAX_CPUS) {
			snprintf(err, errlen, "CPU %ld does not exist (highest is %d)", b, max_cpu);
			goto out_inval;
		}
		for (long c = a; c <= b; c++)
			seen[c] = 1;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto out_syntax;
	}
	cpus = malloc(MAX_CPUS * sizeof(*cpus));
	if (!cpus) {
		free(seen);
		return -ENOMEM;
	}
	for (int c = 0; c < MAX_CPUS; c++)
		if (seen[c])
			cpus[n++] = c;
	free(seen);
	*out = cpus;
	*nr = n;
	return 0;

out_syntax:
	snprintf(err, errlen, "expected numbers and ranges such as 0-1,3");
out_inval:
	free(seen);
	return -EINVAL;
}

int target__parse_ids(const char *list, pid_t **out, size_t *nr)
{
	const char *p = list;
	pid_t *ids = NULL;
	size_t n = 0;

	*out = NULL;
	*nr = 0;
	if (!list || !*list)
		return -EINVAL;
	while (*p) {
		char *end;
		long v;
		pid_t *tmp;

		if (!isdigit((unsigned char)*p))
			goto out_inval;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || v <= 0 || v > 0x3fffffff)
			goto out_inval;
		tmp = realloc(ids, (n + 1) * sizeof(*ids));
		if (!tmp) {
			free(ids);
			return -ENOMEM;
		}
		ids = tmp;
		ids[n++] = (pid_t)v;
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto out_inval;
	}
	*out = ids;
	*nr = n;
	return 0;

out_inval:
	free(ids);
	return -EINVAL;
}

/* Highest online CPU number, from sysfs (falls back to the configured count). */
static int online_max_cpu(char *online, size_t len)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int max = (int)sysconf(_SC_NPROCESSORS_CONF) - 1;

	snprintf(online, len, "0-%d", max);
	if (f) {
		if (fgets(online, (int)len, f)) {
			char *nl = strchr(online, '\n');
			const char *last;

			if (nl)
				*nl = 0;
			last = strrchr(online, '-');
			if (!last || strrchr(online, ',') > last)
				last = strrchr(online, ',');
			max = atoi(last ? last + 1 : online);
		}
		fclose(f);
	}
	return max;
}

/* Tgid of task @id from /proc/ID/status, or -errno. */
static pid_t task_tgid(pid_t id)
{
	char path[64], line[256];
	pid_t tgid = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", id);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			tgid = (pid_t)atoi(line + 5);
			break;
		}
	fclose(f);
	return tgid;
}

static int append_id(pid_t **ids, size_t *nr, pid_t id)
{
	pid_t *tmp = realloc(*ids, (*nr + 1) * sizeof(**ids));

	if (!tmp)
		return -ENOMEM;
	tmp[(*nr)++] = id;
	*ids = tmp;
	return 0;
}

/* Appends every thread of process @pid to the tid list. */
static int add_threads(struct target *t, pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && !err)
		if (isdigit((unsigned char)d->d_name[0]))
			err = append_id(&t->tids, &t->nr_tids, (pid_t)atoi(d->d_name));
	closedir(dir);
	return err;
}

/*
 * Finds @cmd along PATH (or as given when it has a '/') and writes the path
 * to @out; 0 if it can be executed, else -errno. The command is later run
 * with execv on that path: unlike execvp, a file that is neither ELF nor a
 * #! script fails with ENOEXEC instead of being fed to /bin/sh.
 */
static int command_executable(const char *cmd, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char buf[4096];
	struct stat st;

	if (strchr(cmd, '/')) {
		if (stat(cmd, &st))
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		snprintf(out, outlen, "%s", cmd);
		return access(cmd, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", cmd);
		if (!stat(buf, &st) && S_ISREG(st.st_mode) && !access(buf, X_OK)) {
			snprintf(out, outlen, "%s", buf);
			return 0;
		}
		path += n + (colon ? 1 : 0);
	}
	return -ENOENT;
}

int target__resolve(struct target *t)
{
	char online[256], err[160];
	int max_cpu = online_max_cpu(online, sizeof(online));
	pid_t *ids;
	size_t nr;
	int ret;

	t->go_fd = t->err_fd = -1;
	ret = target__parse_cpus(t->cpu_list ? t->cpu_list : online, max_cpu, &t->cpus,
				 &t->nr_cpus, err, sizeof(err));
	if (ret) {
		pr_warn("bad CPU list '%s': %s (online CPUs: %s)", t->cpu_list ? t->cpu_list : online,
			err, online);
		return ret;
	}
	if ((t->pid_list || t->tid_list) && t->argv) {
		pr_warn("give either -p/-t or a command to launch, not both");
		return -EINVAL;
	}
	if (t->pid_list) {
		if (target__parse_ids(t->pid_list, &ids, &nr)) {
			pr_warn("bad pid list '%s': expected comma-separated process ids", t->pid_list);
			return -EINVAL;
		}
		for (size_t i = 0; i < nr; i++) {
			pid_t tgid = task_tgid(ids[i]);

			if (tgid < 0) {
				pr_warn("no process with pid %d (check the pid with ps)", ids[i]);
				free(ids);
				return -ESRCH;
			}
			if (tgid != ids[i]) {
				pr_warn("%d is a thread of process %d: use -t %d for the thread or -p %d",
					ids[i], tgid, ids[i], tgid);
				free(ids);
				return -EINVAL;
			}
			if (add_threads(t, ids[i])) {
				pr_warn("cannot list the threads of pid %d: it exited", ids[i]);
				free(ids);
				return -ESRCH;
			}
		}
		t->pids = ids;
		t->nr_pids = nr;
	}
	if (t->tid_list) {
		if (target__parse_ids(t->tid_list, &ids, &nr)) {
			pr_warn("bad thread id list '%s': expected comma-separated thread ids",
				t->tid_list);
			return -EINVAL;
		}
		for (size_t i = 0; i < nr; i++) {
			pid_t tgid = task_tgid(ids[i]);

			if (tgid < 0) {
				pr_warn("no thread with tid %d (list threads with ps -eLf)", ids[i]);
				free(ids);
				return -ESRCH;
			}
			if (append_id(&t->tids, &t->nr_tids, ids[i]) ||
			    append_id(&t->pids, &t->nr_pids, tgid)) {
				free(ids);
				return -ENOMEM;
			}
		}
		free(ids);
	}
	if (t->argv) {
		ret = command_executable(t->argv[0], t->path, sizeof(t->path));
		if (ret) {
			pr_warn("cannot execute '%s': %s (check the path and its execute permission)",
				t->argv[0], strerror(-ret));
			return ret;
		}
	}
	t->system_wide = !t->pid_list && !t->tid_list && !t->argv;
	return 0;
}

int target__fork(struct target *t)
{
	int go[2], errp[2];
	sigset_t all;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		int err = -errno;

		close(go[0]);
		close(go[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(go[0]);
		close(go[1]);
		close(errp[0]);
		close(errp[1]);
		return err;
	}
	if (pid == 0) {
		char c;
		int e;

		/* The parent blocks signals for its signalfd; the command must not inherit that. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(go[1]);
		close(errp[0]);
		/* Only stackprof may keep the reaper waiting: the command must not hold its pipe. */
		reaper__close_inherited();
		/* Wait until the events are open: EOF without a byte means "give up". */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execv(t->path, t->argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(errp[1]);
	t->child = pid;
	t->launched = pid;
	t->go_fd = go[1];
	t->err_fd = errp[0];
	return 0;
}

int target__start(struct target *t)
{
	int e = 0;
	ssize_t n;

	if (write(t->go_fd, "g", 1) != 1)
		return -errno;
	close(t->go_fd);
	t->go_fd = -1;
	/* The error pipe is close-on-exec: EOF means exec succeeded. */
	do {
		n = read(t->err_fd, &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	close(t->err_fd);
	t->err_fd = -1;
	if (n == (ssize_t)sizeof(e)) {
		pr_warn("cannot execute '%s': %s%s", t->argv[0], strerror(e),
			e == ENOEXEC ? " (not an ELF binary or a #! script)" : "");
		waitpid(t->child, NULL, 0);
		t->child = 0;
		return -e;
	}
	return 0;
}

void target__abort(struct target *t)
{
	if (t->go_fd >= 0) {
		/* Closing the go pipe without a byte makes the child exit on its own. */
		close(t->go_fd);
		t->go_fd = -1;
	}
	if (t->err_fd >= 0) {
		close(t->err_fd);
		t->err_fd = -1;
	}
	if (t->child > 0) {
		waitpid(t->child, NULL, 0);
		t->child = 0;
	}
}

bool target__cpu_forced_offline(int cpu)
{
	const char *forced = getenv("STACKPROF_FORCE_ENODEV_CPU");
	bool hit = false;
	char err[64];
	int *cpus;
	size_t nr;

	if (!forced || !*forced || target__parse_cpus(forced, MAX_CPUS - 1, &cpus, &nr, err,
							sizeof(err)))
		return false;
	for (size_t i = 0; i < nr; i++)
		hit |= cpus[i] == cpu;
	free(cpus);
	return hit;
}

/*
 * Asked with a CPU-wide software dummy event, the cheapest there is: the
 * kernel refuses a CPU-wide event with ENODEV on a CPU that is offline or
 * not present.
 */
bool target__cpu_usable(int cpu)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.disabled = 1,
	};
	int fd;

	if (target__cpu_forced_offline(cpu))
		return false;
	fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != ENODEV;
}

void target__free(struct target *t)
{
	free(t->cpus);
	free(t->pids);
	free(t->tids);
	t->cpus = NULL;
	t->pids = t->tids = NULL;
	t->nr_cpus = t->nr_pids = t->nr_tids = 0;
}

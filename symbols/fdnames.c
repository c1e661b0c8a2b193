/* File descriptor names per process: /proc/PID/fd read lazily, kept current by the caller. */
#include "fdnames.h"
#include "syms.h"
#include "u64map.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct proc {
	struct u64map *fds; /* fd -> label */
	bool gone;	    /* /proc no longer has it: known names are all there is */
};

struct fdnames {
	struct syms *syms;
	struct u64map *procs; /* pid -> struct proc * */
};

struct fdnames *fdnames__new(struct syms *syms)
{
	struct fdnames *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->syms = syms;
	f->procs = u64map__new();
	if (!f->procs) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

static void proc_free(struct proc *p)
{
	if (p) {
		u64map__delete(p->fds);
		free(p);
	}
}

static void free_proc(void *ctx, uint64_t pid, uint64_t val)
{
	(void)ctx;
	(void)pid;
	proc_free((struct proc *)(uintptr_t)val);
}

void fdnames__delete(struct fdnames *f)
{
	if (!f)
		return;
	u64map__for_each(f->procs, free_proc, NULL);
	u64map__delete(f->procs);
	free(f);
}

static struct proc *proc_new(void)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (p)
		p->fds = u64map__new();
	if (p && !p->fds) {
		free(p);
		return NULL;
	}
	return p;
}

static struct proc *proc_get(struct fdnames *f, uint32_t pid, bool create)
{
	struct proc *p;
	uint64_t val;

	if (u64map__get(f->procs, pid, &val))
		return (struct proc *)(uintptr_t)val;
	if (!create)
		return NULL;
	p = proc_new();
	if (p && u64map__put(f->procs, pid, (uintptr_t)p)) {
		proc_free(p);
		return NULL;
	}
	return p;
}

/* Replaces @pid's entry by @p (NULL removes it). */
static void proc_replace(struct fdnames *f, uint32_t pid, struct proc *p)
{
	proc_free(proc_get(f, pid, false));
	if (!p || u64map__put(f->procs, pid, (uintptr_t)p)) {
		u64map__del(f->procs, pid);
		proc_free(p);
	}
}

/* readlink of /proc/PID/fd/FD as a label; 0 when it cannot be read. */
static uint64_t read_label(struct fdnames *f, uint32_t pid, int fd, int *err)
{
	char path[64], name[PATH_MAX + 1];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	n = readlink(path, name, sizeof(name) - 1);
	if (n < 0) {
		*err = -errno;
		return 0;
	}
	name[n] = '\0';
	*err = 0;
	/* One pipe or socket is like another to a reader: keep the kind, not the inode. */
	if ((!strncmp(name, "pipe:[", 6) || !strncmp(name, "socket:[", 8)) && name[n - 1] == ']')
		*strchr(name, '[') = '\0';
	return syms__label(f->syms, name);
}

static bool proc_exists(uint32_t pid)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	return !stat(path, &st);
}

uint64_t fdnames__read(struct fdnames *f, uint32_t pid, int fd)
{
	struct proc *p = proc_get(f, pid, true);
	uint64_t label;
	int err;

	if (!p || fd < 0)
		return 0;
	label = read_label(f, pid, fd, &err);
	if (label) {
		p->gone = false;
		u64map__put(p->fds, (uint32_t)fd, label);
		return label;
	}
	u64map__del(p->fds, (uint32_t)fd);
	if (err == -ENOENT && !proc_exists(pid))
		p->gone = true;
	return 0;
}

uint64_t fdnames__known(struct fdnames *f, uint32_t pid, int fd)
{
	struct proc *p = proc_get(f, pid, false);
	uint64_t label;

	if (fd >= 0 && p && u64map__get(p->fds, (uint32_t)fd, &label))
		return label;
	return 0;
}

uint64_t fdnames__get(struct fdnames *f, uint32_t pid, int fd)
{
	struct proc *p = proc_get(f, pid, false);
	uint64_t label = fdnames__known(f, pid, fd);

	if (label || fd < 0 || (p && p->gone))
		return label;
	return fdnames__read(f, pid, fd);
}

void fdnames__set(struct fdnames *f, uint32_t pid, int fd, uint64_t label)
{
	struct proc *p = proc_get(f, pid, true);

	if (!p || fd < 0)
		return;
	if (label)
		u64map__put(p->fds, (uint32_t)fd, label);
	else
		u64map__del(p->fds, (uint32_t)fd);
}

int fdnames__scan(struct fdnames *f, uint32_t pid)
{
	struct proc *p;
	struct dirent *d;
	char path[32];
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	p = proc_new();
	if (!p) {
		closedir(dir);
		return -ENOMEM;
	}
	while ((d = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(d->d_name, &end, 10);
		uint64_t label;
		int err;

		if (d->d_name[0] < '0' || d->d_name[0] > '9' || *end || fd > INT_MAX)
			continue;
		label = read_label(f, pid, (int)fd, &err);
		if (label && !u64map__put(p->fds, (uint64_t)fd, label))
			n++;
	}
	closedir(dir);
	proc_replace(f, pid, p);
	return n;
}

struct forget_ctx {
	uint32_t first, last;
	uint64_t *keys;
	size_t nr, cap;
};

static void collect_range(void *ctx, uint64_t fd, uint64_t label)
{
	struct forget_ctx *c = ctx;

	(void)label;
	if (fd < c->first || fd > c->last)
		return;
	if (c->nr == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		uint64_t *k = realloc(c->keys, cap * sizeof(*k));

		if (!k)
			return;
		c->keys = k;
		c->cap = cap;
	}
	c->keys[c->nr++] = fd;
}

void fdnames__forget(struct fdnames *f, uint32_t pid, uint32_t first, uint32_t last)
{
	struct proc *p = proc_get(f, pid, false);
	struct forget_ctx c = { .first = first, .last = last };

	if (!p || first > last)
		return;
	/* close_range(3, ~0U) is common: walk what is known, not the range. */
	if (last - first < 64) {
		for (uint64_t fd = first; fd <= last; fd++)
			u64map__del(p->fds, fd);
		return;
	}
	u64map__for_each(p->fds, collect_range, &c);
	for (size_t i = 0; i < c.nr; i++)
		u64map__del(p->fds, c.keys[i]);
	free(c.keys);
}

static void copy_name(void *ctx, uint64_t fd, uint64_t label)
{
	u64map__put(ctx, fd, label);
}

void fdnames__fork(struct fdnames *f, uint32_t parent, uint32_t child)
{
	struct proc *pp = proc_get(f, parent, false), *c;

	c = proc_new();
	if (!c) {
		proc_replace(f, child, NULL);
		return;
	}
	if (pp)
		u64map__for_each(pp->fds, copy_name, c->fds);
	proc_replace(f, child, c);
}

static void count_names(void *ctx, uint64_t pid, uint64_t val)
{
	(void)pid;
	*(uint64_t *)ctx += u64map__nr(((struct proc *)(uintptr_t)val)->fds);
}

uint64_t fdnames__nr(const struct fdnames *f)
{
	uint64_t n = 0;

	u64map__for_each(f->procs, count_names, &n);
	return n;
}

/* The symbolization facade: address spaces, thread names, cached user and kernel names. */
#include "syms.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrspace.h"
#include "core/hash.h"
#include "core/log.h"
#include "dso.h"
#include "elfsyms.h"
#include "kallsyms.h"
#include "u64map.h"

#define COMM_LEN 16
#define ARENA_CHUNK (64 * 1024)
/* Cache keys of user names: a return address and a leaf at the same offset differ. */
#define NONLEAF_BIT (1ULL << 63)
/*
 * Values of a pid in the procs map besides an address space. UNREADABLE:
 * /proc could not give it, remembered so a dead process costs one failed
 * open and not one per sample. UNSEEN: as if absent (a reused pid whose old
 * state was dropped), so the next lookup may try /proc again.
 */
#define PROC_UNREADABLE 0
#define PROC_UNSEEN 1
/*
 * How long, in record time, the model of an exited process or thread is
 * kept before it is freed: records stamped before the exit can still be
 * delivered a little after it (late ones, see core/order.c), and a task's
 * last context switch comes after its EXIT record.
 */
#define DEAD_GRACE_NS 1000000000ULL
/* Keys of the dead map: a process's address space, or a thread's name. */
#define DEAD_TID_BIT (1ULL << 32)

static const char unknown[] = "[unknown]";

/* Strings owned by the symbolizer, allocated in chunks and never moved or freed before the end. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

/* One exit, waiting out DEAD_GRACE_NS. */
struct grave {
	uint64_t key; /* pid, or tid | DEAD_TID_BIT */
	uint64_t time;
};

struct syms {
	char *kallsyms_path;
	struct kallsyms *ksyms;
	bool ksyms_tried;
	struct dsos *dsos;
	struct u64map *procs;	     /* pid -> struct addrspace *, or PROC_UNREADABLE */
	struct u64map *comms;	     /* tid -> char[COMM_LEN] in the arena */
	struct u64map *user_names;   /* location (| NONLEAF_BIT) -> const char * */
	struct u64map *kernel_names; /* address looked up -> const char * */
	struct u64map *label_ids;    /* text hash (+ probe) -> index + 1 in labels */
	const char **labels;	     /* texts in the arena */
	size_t nr_labels, cap_labels;
	struct arena_chunk *arena;
	size_t arena_bytes;
	char *free_comms; /* comm slots of reaped threads, chained through their first bytes */

	/*
	 * Exited processes and threads: the dead map says when each died (a
	 * fork or a new name brings it back), the graves queue them in exit
	 * order, so the oldest are freed first once their grace is over.
	 */
	struct u64map *dead;
	struct grave *graves; /* a ring of cap_graves */
	size_t first_grave, nr_graves, cap_graves;
	uint64_t nr_freed_procs, nr_freed_comms;
};

static void *arena_alloc(struct syms *s, size_t n)
{
	struct arena_chunk *c = s->arena;
	void *p;

	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = s->arena;
		c->used = 0;
		c->size = size;
		s->arena = c;
		s->arena_bytes += sizeof(*c) + size;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

struct syms *syms__new(const char *kallsyms)
{
	struct syms *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kallsyms_path = strdup(kallsyms ? kallsyms : "/proc/kallsyms");
	s->dsos = dsos__new();
	s->procs = u64map__new();
	s->comms = u64map__new();
	s->user_names = u64map__new();
	s->kernel_names = u64map__new();
	s->label_ids = u64map__new();
	s->dead = u64map__new();
	if (!s->kallsyms_path || !s->dsos || !s->procs || !s->comms || !s->user_names ||
	    !s->kernel_names || !s->label_ids || !s->dead) {
		syms__delete(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void free_addrspace(void *ctx, uint64_t pid, uint64_t val)
{
	(void)ctx;
	(void)pid;
	if (val != PROC_UNREADABLE && val != PROC_UNSEEN)
		addrspace__delete((struct addrspace *)(uintptr_t)val);
}

void syms__delete(struct syms *s)
{
	struct arena_chunk *c, *next;

	if (!s)
		return;
	if (s->procs)
		u64map__for_each(s->procs, free_addrspace, NULL);
	u64map__delete(s->procs);
	u64map__delete(s->comms);
	u64map__delete(s->user_names);
	u64map__delete(s->kernel_names);
	u64map__delete(s->label_ids);
	u64map__delete(s->dead);
	free(s->graves);
	free(s->labels);
	dsos__delete(s->dsos);
	kallsyms__delete(s->ksyms);
	for (c = s->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	free(s->kallsyms_path);
	free(s);
}

/*
 * The address space of @pid, NULL if it has none; *tried says whether the
 * model has already looked for one (so /proc is not read again).
 */
static struct addrspace *proc_get(struct syms *s, uint32_t pid, bool *tried)
{
	uint64_t val;

	if (!u64map__get(s->procs, pid, &val) || val == PROC_UNSEEN) {
		*tried = false;
		return NULL;
	}
	*tried = true;
	return (struct addrspace *)(uintptr_t)val;
}

/* The address space of @pid, created empty if it has none. NULL only when out of memory. */
static struct addrspace *proc_get_or_new(struct syms *s, uint32_t pid)
{
	struct addrspace *as;
	bool tried;

	as = proc_get(s, pid, &tried);
	if (as)
		return as;
	as = addrspace__new();
	if (!as)
		return NULL;
	if (u64map__put(s->procs, pid, (uintptr_t)as)) {
		addrspace__delete(as);
		return NULL;
	}
	return as;
}

bool syms__knows(struct syms *s, uint32_t pid)
{
	bool tried;

	return proc_get(s, pid, &tried) != NULL;
}

static bool is_anonymous(const char *name)
{
	/* perf's MMAP2 names anonymous executable memory (JIT code) "//anon". */
	return !name || !name[0] || !strcmp(name, "//anon") || !strncmp(name, "[anon", 5);
}

static void map_into(struct syms *s, struct addrspace *as, uint32_t pid, uint64_t start,
		     uint64_t len, uint64_t pgoff, const char *filename)
{
	uint32_t id = 0;

	if (!len || start + len < start)
		return;
	/* A full dso table leaves the range unmapped: its addresses then encode raw. */
	if (!is_anonymous(filename))
		id = dsos__intern(s->dsos, filename, pid);
	if (addrspace__insert(as, start, start + len, pgoff, id))
		pr_debug("syms: pid %u: cannot record mapping of %s", pid,
			 filename ? filename : "(anon)");
}

void syms__mmap(struct syms *s, uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
		const char *filename)
{
	struct addrspace *as;
	bool tried;

	/*
	 * A mapping in a process we have never seen (it predates the session
	 * and no FORK told us about it): its other mappings are only in /proc.
	 */
	proc_get(s, pid, &tried);
	if (!tried)
		syms__proc_load(s, pid);
	as = proc_get_or_new(s, pid);
	if (as)
		map_into(s, as, pid, start, len, pgoff, filename);
}

void syms__exec(struct syms *s, uint32_t pid)
{
	struct addrspace *as = proc_get_or_new(s, pid);

	if (as)
		addrspace__clear(as);
}

void syms__fork(struct syms *s, uint32_t ppid, uint32_t pid)
{
	struct addrspace *parent, *child, *old;
	const char *comm;
	uint64_t val;
	bool tried;

	if (ppid == pid)
		return;
	parent = proc_get(s, ppid, &tried);
	if (!parent && !tried) {
		/* A parent from before the session: /proc has what the child inherits. */
		syms__proc_load(s, ppid);
		parent = proc_get(s, ppid, &tried);
	}
	old = proc_get(s, pid, &tried);
	child = parent ? addrspace__clone(parent) : NULL;
	/* A new process: whatever died under this pid is not its model. */
	u64map__del(s->dead, pid);
	/* Whatever we held for @pid belonged to an earlier process with that pid. */
	if (u64map__put(s->procs, pid, child ? (uintptr_t)child : PROC_UNSEEN)) {
		addrspace__delete(child);
		if (old)
			addrspace__clear(old);
	} else {
		addrspace__delete(old);
	}
	/* The child starts with its parent's name; a later COMM record corrects it. */
	if (u64map__get(s->comms, ppid, &val)) {
		comm = (const char *)(uintptr_t)val;
		if (comm[0])
			syms__set_comm(s, pid, comm);
	}
}

/* Queues @key, dead at @time, for syms__reap(). */
static void bury(struct syms *s, uint64_t key, uint64_t time)
{
	if (s->nr_graves == s->cap_graves) {
		size_t cap = s->cap_graves ? 2 * s->cap_graves : 256;
		struct grave *g = malloc(cap * sizeof(*g));

		/* Without room the model is kept: more memory, never a wrong name. */
		if (!g)
			return;
		for (size_t i = 0; i < s->nr_graves; i++)
			g[i] = s->graves[(s->first_grave + i) % s->cap_graves];
		free(s->graves);
		s->graves = g;
		s->first_grave = 0;
		s->cap_graves = cap;
	}
	if (u64map__put(s->dead, key, time))
		return;
	s->graves[(s->first_grave + s->nr_graves) % s->cap_graves] = (struct grave){key, time};
	s->nr_graves++;
}

void syms__exit(struct syms *s, uint32_t pid, uint32_t tid, uint64_t time)
{
	/*
	 * Not freed yet: samples taken before the exit may still come (see
	 * DEAD_GRACE_NS). Stacks already stored need nothing from the model:
	 * their user frames are locations, their thread names copied.
	 */
	bury(s, tid | DEAD_TID_BIT, time);
	if (pid == tid)
		bury(s, pid, time);
}

/* Frees what @key named, if it is still the thing that died at @time. */
static void free_dead(struct syms *s, uint64_t key, uint64_t time)
{
	uint64_t died, val;

	if (!u64map__get(s->dead, key, &died) || died != time)
		return; /* back to life, or dead again later (its own grave comes) */
	u64map__del(s->dead, key);
	if (key & DEAD_TID_BIT) {
		uint64_t tid = key & ~DEAD_TID_BIT;

		if (u64map__get(s->comms, tid, &val)) {
			char *slot = (char *)(uintptr_t)val;

			u64map__del(s->comms, tid);
			/* Slots live in the arena: a free one is kept for the next thread. */
			memcpy(slot, &s->free_comms, sizeof(s->free_comms));
			s->free_comms = slot;
			s->nr_freed_comms++;
		}
		return;
	}
	if (u64map__get(s->procs, key, &val)) {
		u64map__del(s->procs, key);
		free_addrspace(NULL, key, val);
		if (val != PROC_UNREADABLE && val != PROC_UNSEEN)
			s->nr_freed_procs++;
	}
}

void syms__reap(struct syms *s, uint64_t now)
{
	while (s->nr_graves) {
		struct grave *g = &s->graves[s->first_grave];

		if (g->time + DEAD_GRACE_NS > now)
			break;
		free_dead(s, g->key, g->time);
		s->first_grave = (s->first_grave + 1) % s->cap_graves;
		s->nr_graves--;
	}
}

static void count_addrspace(void *ctx, uint64_t pid, uint64_t val)
{
	size_t *n = ctx;

	(void)pid;
	if (val != PROC_UNREADABLE && val != PROC_UNSEEN)
		(*n)++;
}

struct count_dead {
	const struct syms *s;
	struct syms_stats *st;
};

static void count_dead(void *ctx, uint64_t key, uint64_t time)
{
	struct count_dead *c = ctx;
	uint64_t val;

	(void)time;
	if (key & DEAD_TID_BIT) {
		c->st->dead_comms++;
	} else if (u64map__get(c->s->procs, key, &val) && val != PROC_UNREADABLE &&
		   val != PROC_UNSEEN) {
		c->st->dead_procs++;
	}
}

void syms__stats(const struct syms *s, struct syms_stats *st)
{
	struct count_dead c = {s, st};

	memset(st, 0, sizeof(*st));
	u64map__for_each(s->procs, count_addrspace, &st->procs);
	st->comms = u64map__nr(s->comms);
	u64map__for_each(s->dead, count_dead, &c);
	st->procs -= st->dead_procs;
	st->comms -= st->dead_comms < st->comms ? st->dead_comms : st->comms;
	st->freed_procs = s->nr_freed_procs;
	st->freed_comms = s->nr_freed_comms;
}

/* Copies at most COMM_LEN - 1 bytes of @src into @dst, replacing control bytes. */
static void comm_copy(char *dst, const char *src)
{
	size_t i;

	for (i = 0; i < COMM_LEN - 1 && src[i] && src[i] != '\n'; i++) {
		unsigned char c = src[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : c;
	}
	dst[i] = '\0';
}

static char *comm_slot(struct syms *s, uint32_t tid)
{
	uint64_t val;
	char *slot;

	if (u64map__get(s->comms, tid, &val))
		return (char *)(uintptr_t)val;
	if (s->free_comms) {
		slot = s->free_comms;
		memcpy(&s->free_comms, slot, sizeof(s->free_comms));
	} else {
		slot = arena_alloc(s, COMM_LEN);
	}
	if (!slot)
		return NULL;
	slot[0] = '\0';
	if (u64map__put(s->comms, tid, (uintptr_t)slot))
		return NULL;
	return slot;
}

void syms__set_comm(struct syms *s, uint32_t tid, const char *comm)
{
	char *slot;

	if (!comm)
		return;
	/* Named anew (a new thread, an exec): a live thread, whatever died under its tid. */
	u64map__del(s->dead, tid | DEAD_TID_BIT);
	slot = comm_slot(s, tid);
	if (slot)
		comm_copy(slot, comm);
}

static int read_comm(const char *path, char *buf)
{
	char line[64];
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f) || !line[0] || line[0] == '\n')
		err = -ENODATA;
	else
		comm_copy(buf, line);
	fclose(f);
	return err;
}

const char *syms__comm(struct syms *s, uint32_t pid, uint32_t tid)
{
	char path[64], *slot = comm_slot(s, tid);

	if (!slot)
		return unknown;
	if (slot[0])
		return slot;
	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	if (!read_comm(path, slot))
		return slot;
	snprintf(path, sizeof(path), "/proc/%u/comm", tid);
	if (!read_comm(path, slot))
		return slot;
	/* Stored, so a thread that is gone costs one failed open, not one per call. */
	comm_copy(slot, unknown);
	return slot;
}

static int parse_hex(const char **p, uint64_t *val)
{
	const char *q = *p;
	uint64_t v = 0;
	int n = 0;

	for (;; q++, n++) {
		char c = *q;
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (n == 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (!n)
		return -EINVAL;
	*p = q;
	*val = v;
	return 0;
}

static const char *skip_field(const char *p)
{
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	return p;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * One /proc/PID/maps line:
 *   "55d0c8a00000-55d0c8a22000 r-xp 00002000 fd:01 1234   /usr/bin/cat"
 * The path starts after the inode and may hold spaces (and " (deleted)").
 * Returns false for lines that are not executable or do not parse; @line is
 * modified (its newline dropped).
 */
static bool parse_maps_line(char *line, uint64_t *start, uint64_t *end, uint64_t *pgoff,
			    const char **path)
{
	const char *p = line;
	char *nl;

	if (parse_hex(&p, start) || *p++ != '-' || parse_hex(&p, end) || *p++ != ' ')
		return false;
	/* perms: "r-xp" */
	if (strlen(p) < 5 || p[2] != 'x' || p[4] != ' ')
		return false;
	p += 5;
	if (parse_hex(&p, pgoff) || *p != ' ')
		return false;
	p = skip_field(skip_blanks(p)); /* dev */
	p = skip_field(skip_blanks(p)); /* inode */
	if (*p != ' ' && *p != '\t')
		return false; /* truncated: no inode field, so no path either */
	p = skip_blanks(p);
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	*path = p;
	return *start < *end;
}

static void load_task_comms(struct syms *s, uint32_t pid)
{
	char path[64], comm[COMM_LEN];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir)) != NULL) {
		char *end, *slot;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || tid > UINT32_MAX)
			continue;
		slot = comm_slot(s, tid);
		/* A name set from a COMM record is newer than this snapshot's start: keep it. */
		if (!slot || slot[0])
			continue;
		snprintf(path, sizeof(path), "/proc/%u/task/%lu/comm", pid, tid);
		if (!read_comm(path, comm))
			comm_copy(slot, comm);
	}
	closedir(dir);
}

int syms__maps_read(struct syms *s, uint32_t pid, FILE *maps)
{
	uint64_t start, end, pgoff;
	struct addrspace *as;
	char *line = NULL;
	const char *name;
	size_t cap = 0;

	as = proc_get_or_new(s, pid);
	if (!as)
		return -ENOMEM;
	while (getline(&line, &cap, maps) > 0) {
		if (parse_maps_line(line, &start, &end, &pgoff, &name))
			map_into(s, as, pid, start, end - start, pgoff, name);
	}
	free(line);
	return 0;
}

int syms__proc_load(struct syms *s, uint32_t pid)
{
	char path[64];
	bool tried;
	FILE *f;
	int err;

	if (proc_get(s, pid, &tried))
		return 0;
	/* Unreadable once: not asked again until the pid is seen anew. */
	if (tried)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		u64map__put(s->procs, pid, PROC_UNREADABLE);
		pr_debug("syms: cannot read %s: %s", path, strerror(-err));
		return err;
	}
	err = syms__maps_read(s, pid, f);
	fclose(f);
	if (err)
		return err;
	load_task_comms(s, pid);
	return 0;
}

uint64_t syms__encode_user(struct syms *s, uint32_t pid, uint64_t ip)
{
	const struct addrspace_map *m;
	struct addrspace *as;
	uint64_t off;
	bool tried;

	as = proc_get(s, pid, &tried);
	if (!tried) {
		syms__proc_load(s, pid);
		as = proc_get(s, pid, &tried);
	}
	m = as ? addrspace__find(as, ip) : NULL;
	if (m) {
		off = ip - m->start + m->pgoff;
		/* A pgoff from a corrupt record could push it past 48 bits. */
		if (off <= SYMS_LOC_OFF_MASK && m->dso <= DSOS_MAX_ID)
			return (uint64_t)m->dso << SYMS_LOC_DSO_SHIFT | off;
	}
	return ip & SYMS_LOC_OFF_MASK;
}

/* "[libc.so.6+0x2a3f1]": the file is known, the function is not. */
static const char *fallback_name(struct syms *s, uint32_t id, uint64_t off)
{
	const char *base = dsos__short_name(s->dsos, id);
	char *name;
	int len;

	len = snprintf(NULL, 0, "[%s+0x%" PRIx64 "]", base, off);
	if (len < 0)
		return unknown;
	name = arena_alloc(s, len + 1);
	if (!name)
		return unknown;
	snprintf(name, len + 1, "[%s+0x%" PRIx64 "]", base, off);
	return name;
}

uint64_t syms__label(struct syms *s, const char *text)
{
	size_t len = strlen(text);
	uint64_t key = hash__str(text, len), val;
	char *copy;

	/* Colliding texts take the next key along. */
	for (;; key++) {
		if (!u64map__get(s->label_ids, key, &val))
			break;
		if (!strcmp(s->labels[val - 1], text))
			return (uint64_t)SYMS_LOC_LABEL_DSO << SYMS_LOC_DSO_SHIFT | (val - 1);
	}
	if (s->nr_labels == s->cap_labels) {
		size_t cap = s->cap_labels ? 2 * s->cap_labels : 64;
		const char **p = realloc(s->labels, cap * sizeof(*p));

		if (!p)
			return 0;
		s->labels = p;
		s->cap_labels = cap;
	}
	copy = arena_alloc(s, len + 1);
	if (!copy)
		return 0;
	memcpy(copy, text, len + 1);
	if (u64map__put(s->label_ids, key, s->nr_labels + 1))
		return 0;
	s->labels[s->nr_labels] = copy;
	return (uint64_t)SYMS_LOC_LABEL_DSO << SYMS_LOC_DSO_SHIFT | s->nr_labels++;
}

const char *syms__user_name(struct syms *s, uint64_t loc, bool is_leaf)
{
	uint64_t key, off = SYMS_LOC_OFF(loc), val;
	uint32_t id = SYMS_LOC_DSO(loc);
	const struct elfsyms *e;
	const char *name = NULL;

	if (SYMS_LOC_IS_LABEL(loc))
		return off < s->nr_labels ? s->labels[off] : unknown;
	if (!id || !dsos__path(s->dsos, id))
		return unknown;
	key = (loc & ~NONLEAF_BIT) | (is_leaf ? 0 : NONLEAF_BIT);
	if (u64map__get(s->user_names, key, &val))
		return (const char *)(uintptr_t)val;
	e = dsos__elf(s->dsos, id);
	if (e)
		name = elfsyms__find_offset(e, is_leaf || !off ? off : off - 1, NULL);
	if (!name)
		name = fallback_name(s, id, off);
	/* A failed insert only costs a repeated lookup later. */
	u64map__put(s->user_names, key, (uintptr_t)name);
	return name;
}

static void load_kallsyms(struct syms *s)
{
	s->ksyms_tried = true;
	s->ksyms = kallsyms__load(s->kallsyms_path);
	if (!s->ksyms) {
		int err = errno;

		pr_warn("syms: cannot read kernel symbols from %s: %s%s", s->kallsyms_path,
			strerror(err),
			err == EPERM
			    ? " (addresses hidden: run as root or set kernel.kptr_restrict=0)"
			    : "");
		return;
	}
	pr_debug("syms: %zu kernel symbols from %s", kallsyms__nr(s->ksyms), s->kallsyms_path);
}

const char *syms__kernel_name(struct syms *s, uint64_t ip, bool is_leaf)
{
	uint64_t key = is_leaf || !ip ? ip : ip - 1, val;
	const char *name;

	/* Labels stand in either side (stacks read from text can be deeper than one side). */
	if (SYMS_LOC_IS_LABEL(ip))
		return syms__user_name(s, ip, is_leaf);

	if (u64map__get(s->kernel_names, key, &val))
		return (const char *)(uintptr_t)val;
	if (!s->ksyms_tried)
		load_kallsyms(s);
	name = s->ksyms ? kallsyms__find(s->ksyms, key, NULL) : NULL;
	if (!name)
		name = unknown;
	u64map__put(s->kernel_names, key, (uintptr_t)name);
	return name;
}

const char *syms__dso_path(struct syms *s, uint32_t id)
{
	return dsos__path(s->dsos, id);
}

static void add_addrspace_bytes(void *ctx, uint64_t pid, uint64_t val)
{
	uint64_t *bytes = ctx;

	(void)pid;
	if (val != PROC_UNREADABLE && val != PROC_UNSEEN)
		*bytes += addrspace__bytes((struct addrspace *)(uintptr_t)val);
}

uint64_t syms__bytes(const struct syms *s)
{
	uint64_t bytes = sizeof(*s) + s->arena_bytes;

	bytes += u64map__bytes(s->procs) + u64map__bytes(s->comms);
	bytes += u64map__bytes(s->user_names) + u64map__bytes(s->kernel_names);
	bytes += u64map__bytes(s->label_ids) + s->cap_labels * sizeof(*s->labels);
	bytes += u64map__bytes(s->dead) + s->cap_graves * sizeof(*s->graves);
	u64map__for_each(s->procs, add_addrspace_bytes, &bytes);
	bytes += dsos__bytes(s->dsos);
	bytes += kallsyms__bytes(s->ksyms);
	return bytes;
}

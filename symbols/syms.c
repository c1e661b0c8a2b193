/* The symbolization facade: address spaces, thread names, cached user and kernel names. */
#include "syms.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addrspace.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/log.h"
#include "demangle.h"
#include "dso.h"
#include "dwarfinfo.h"
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
 * Without mmap records, how often one process's maps may be read again for
 * addresses in no known mapping: JIT code is in anonymous memory, which
 * /proc never names, and must not cost a read per sample.
 */
#define REFRESH_INTERVAL_NS (100 * 1000000ULL)

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
	struct u64map *maps_gens;    /* pid -> generation of its mappings, see syms__maps_gen() */
	uint64_t last_gen;
	const char **labels;	     /* texts in the arena */
	size_t nr_labels, cap_labels;
	struct arena_chunk *arena;
	size_t arena_bytes;
	struct u64map *perf_maps; /* pid -> dso id of /tmp/perf-PID.map, or when none was seen */
	bool no_demangle;
	bool inline_frames, srcline; /* syms__user_frames() from DWARF */
	struct u64map *user_frames; /* location (| NONLEAF_BIT) -> struct frames * */
	bool proc_refresh;	     /* no mmap records: /proc is the only source */
	struct u64map *refreshed;    /* pid -> CLOCK_MONOTONIC ns of its last re-read */
	uint64_t nr_refreshes;
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

/* What syms__user_frames() found for one location, kept in the arena. */
struct frames {
	uint32_t nr;
	struct syms_frame f[];
};

static void *arena_alloc(struct syms *s, size_t n)
{
	struct arena_chunk *c = s->arena;
	void *p;

	/* Aligned for any struct kept here (frames), not only for strings. */
	if (c)
		c->used = (c->used + 7) & ~(size_t)7;
	if (!c || c->used > c->size || c->size - c->used < n) {
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
	s->refreshed = u64map__new();
	s->maps_gens = u64map__new();
	s->dead = u64map__new();
	if (!s->kallsyms_path || !s->dsos || !s->procs || !s->comms || !s->user_names ||
	    !s->kernel_names || !s->label_ids || !s->refreshed || !s->maps_gens || !s->dead) {
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
	u64map__delete(s->perf_maps);
	u64map__delete(s->user_frames);
	u64map__delete(s->refreshed);
	u64map__delete(s->maps_gens);
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

/* @pid's mappings changed: a fresh number, never given to any pid before. */
static void maps_changed(struct syms *s, uint32_t pid)
{
	u64map__put(s->maps_gens, pid, ++s->last_gen);
}

uint64_t syms__maps_gen(struct syms *s, uint32_t pid)
{
	uint64_t gen;

	return u64map__get(s->maps_gens, pid, &gen) ? gen : 0;
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
		id = dsos__intern(s->dsos, filename, pid, start, start + len);
	if (addrspace__insert(as, start, start + len, pgoff, id))
		pr_debug("syms: pid %u: cannot record mapping of %s", pid,
			 filename ? filename : "(anon)");
	maps_changed(s, pid);
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
	/* No MMAP2 records will describe the new image: /proc has it, if the process lives. */
	if (as && s->proc_refresh)
		syms__proc_reread(s, pid);
	maps_changed(s, pid);
	/* A new image: a JIT of the old one had its own perf map. */
	if (s->perf_maps)
		u64map__del(s->perf_maps, pid);
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
	if (s->perf_maps)
		u64map__del(s->perf_maps, pid);
	/* Whatever we held for @pid belonged to an earlier process with that pid. */
	if (u64map__put(s->procs, pid, child ? (uintptr_t)child : PROC_UNSEEN)) {
		addrspace__delete(child);
		if (old)
			addrspace__clear(old);
	} else {
		addrspace__delete(old);
	}
	/*
	 * Without mmap records the parent's model may be behind what it
	 * mapped lately, and the child's copy with it: /proc has the child.
	 */
	if (child && s->proc_refresh)
		syms__proc_reread(s, pid);
	maps_changed(s, pid);
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
/*
 * What else is kept per pid goes with its model: a reused pid must not
 * inherit another process's perf map, and churn must not grow these maps.
 */
static void forget_pid(struct syms *s, uint32_t pid)
{
	if (s->perf_maps)
		u64map__del(s->perf_maps, pid);
	u64map__del(s->refreshed, pid);
	u64map__del(s->maps_gens, pid);
}

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
	forget_pid(s, (uint32_t)key);
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

/* A perf map looked for and not found is looked for again after this long. */
#define PERF_MAP_RETRY_NS 1000000000ULL

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The dso of @pid's perf map, 0 when it keeps none. JITs (V8, the JVM with
 * an agent, LuaJIT, ...) write one as they generate code; the answer "none"
 * is kept a while, so that anonymous code costs no stat() per sample.
 */
static uint32_t perf_map_id(struct syms *s, uint32_t pid)
{
	char path[64];
	uint64_t val, now;
	struct stat st;

	if (!s->perf_maps) {
		s->perf_maps = u64map__new();
		if (!s->perf_maps)
			return 0;
	}
	if (u64map__get(s->perf_maps, pid, &val)) {
		if (val <= DSOS_MAX_ID)
			return (uint32_t)val;
		now = mono_ns();
		if (now - (val - DSOS_MAX_ID) < PERF_MAP_RETRY_NS)
			return 0;
	} else {
		now = mono_ns();
	}
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pid);
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		/* "None" is stored as a time, above every dso id. */
		u64map__put(s->perf_maps, pid, now + DSOS_MAX_ID + 1);
		return 0;
	}
	val = dsos__intern(s->dsos, path, pid, 0, 0);
	u64map__put(s->perf_maps, pid, val);
	return (uint32_t)val;
}

void syms__set_proc_refresh(struct syms *s, bool on)
{
	s->proc_refresh = on;
}

int syms__proc_reread(struct syms *s, uint32_t pid)
{
	char path[64];
	FILE *f;
	int err;

	u64map__put(s->refreshed, pid, mono_ns());
	s->nr_refreshes++;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		pr_debug("syms: cannot read %s again: %s", path, strerror(-err));
		return err;
	}
	/* Merged: mappings gone since stay, so samples still queued from before are named. */
	err = syms__maps_read(s, pid, f);
	fclose(f);
	return err;
}

/* An address in no known mapping of @pid, without mmap records: /proc may know it by now. */
static struct addrspace *refresh_for_miss(struct syms *s, uint32_t pid)
{
	uint64_t last, now = mono_ns();
	bool tried;

	if (u64map__get(s->refreshed, pid, &last) && now - last < REFRESH_INTERVAL_NS)
		return NULL;
	if (syms__proc_reread(s, pid))
		return NULL;
	return proc_get(s, pid, &tried);
}

const struct addrspace *syms__addrspace(struct syms *s, uint32_t pid)
{
	struct addrspace *as;
	bool tried;

	as = proc_get(s, pid, &tried);
	if (!tried) {
		syms__proc_load(s, pid);
		as = proc_get(s, pid, &tried);
	}
	return as;
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
	if (!m && s->proc_refresh) {
		as = refresh_for_miss(s, pid);
		m = as ? addrspace__find(as, ip) : NULL;
	}
	if (m && m->dso) {
		off = ip - m->start + m->pgoff;
		/* A pgoff from a corrupt record could push it past 48 bits. */
		if (off <= SYMS_LOC_OFF_MASK && m->dso <= DSOS_MAX_ID)
			return (uint64_t)m->dso << SYMS_LOC_DSO_SHIFT | off;
	} else if (ip <= SYMS_LOC_OFF_MASK) {
		/* Anonymous code: a JIT's, named by its perf map if it keeps one. */
		uint32_t id = perf_map_id(s, pid);

		if (id)
			return (uint64_t)id << SYMS_LOC_DSO_SHIFT | ip;
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

/* @name demangled into the arena, unless demangling is off or it is not mangled. */
static const char *demangled(struct syms *s, const char *name)
{
	char *d, *copy;
	size_t len;

	if (s->no_demangle)
		return name;
	d = demangle__name(name);
	if (!d)
		return name;
	len = strlen(d) + 1;
	copy = arena_alloc(s, len);
	if (copy)
		memcpy(copy, d, len);
	free(d);
	return copy ? copy : name;
}

void syms__set_demangle(struct syms *s, bool on)
{
	s->no_demangle = !on;
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
	if (name)
		name = demangled(s, name);
	else
		name = fallback_name(s, id, off);
	/* A failed insert only costs a repeated lookup later. */
	u64map__put(s->user_names, key, (uintptr_t)name);
	return name;
}

void syms__set_frames(struct syms *s, bool inline_frames, bool srcline)
{
	s->inline_frames = inline_frames;
	s->srcline = srcline;
}

bool syms__frames_on(const struct syms *s)
{
	return s->inline_frames || s->srcline;
}

/* "NAME" or "NAME:FILE:LINE" into the arena; NULL when out of memory. */
static const char *frame_text(struct syms *s, const char *name, const char *file, int line)
{
	char *t;
	int len;

	if (!s->srcline || !file)
		return name;
	len = snprintf(NULL, 0, "%s:%s:%d", name, file, line);
	t = len > 0 ? arena_alloc(s, (size_t)len + 1) : NULL;
	if (!t)
		return name;
	snprintf(t, (size_t)len + 1, "%s:%s:%d", name, file, line);
	return t;
}

uint32_t syms__user_frames(struct syms *s, uint64_t loc, bool is_leaf,
			   const struct syms_frame **out)
{
	struct dwarfinfo_frame df[SYMS_MAX_INLINE];
	uint64_t key, off = SYMS_LOC_OFF(loc), vaddr, val;
	uint32_t id = SYMS_LOC_DSO(loc);
	const struct dwarfinfo *dw;
	const struct elfsyms *e;
	struct frames *fr;
	int n = 0, keep;

	key = (loc & ~NONLEAF_BIT) | (is_leaf ? 0 : NONLEAF_BIT);
	if (!s->user_frames)
		s->user_frames = u64map__new();
	if (s->user_frames && u64map__get(s->user_frames, key, &val)) {
		fr = (struct frames *)(uintptr_t)val;
		*out = fr->f;
		return fr->nr;
	}
	/* DWARF only when asked for: opening it costs a debug file search per file. */
	if (syms__frames_on(s) && !SYMS_LOC_IS_LABEL(loc) && id && (e = dsos__elf(s->dsos, id)) &&
	    (dw = dsos__dwarf(s->dsos, id)) &&
	    !elfsyms__offset_to_vaddr(e, is_leaf || !off ? off : off - 1, &vaddr))
		n = dwarfinfo__frames(dw, vaddr, df, SYMS_MAX_INLINE);
	/* Without --inline, the function itself: the outermost. */
	keep = n && !s->inline_frames ? 1 : n;
	fr = arena_alloc(s, sizeof(*fr) + (size_t)(keep ? keep : 1) * sizeof(fr->f[0]));
	if (!fr) {
		static struct syms_frame none = { .name = "[unknown]", .func = "[unknown]" };

		*out = &none;
		return 1;
	}
	if (!keep) {
		const char *name = syms__user_name(s, loc, is_leaf);

		fr->nr = 1;
		fr->f[0] = (struct syms_frame){ .name = name, .func = name };
	} else {
		const char *elf_name = syms__user_name(s, loc, is_leaf);

		fr->nr = (uint32_t)keep;
		/*
		 * Each frame's line is where control is in that function: in the
		 * outermost alone (no --inline), the call site of what was inlined
		 * into it, so that name and line agree.
		 */
		for (int i = 0; i < keep; i++) {
			const struct dwarfinfo_frame *f = &df[i];
			/* The symbol table names the function; DWARF names what was inlined. */
			const char *name = i == 0 || !f->name ? elf_name : demangled(s, f->name);

			fr->f[i] = (struct syms_frame){
				.name = frame_text(s, name, f->file, f->line),
				.func = name,
				.file = s->srcline ? f->file : NULL,
				.line = s->srcline ? f->line : 0,
				.inlined = f->inlined,
			};
		}
	}
	if (s->user_frames)
		u64map__put(s->user_frames, key, (uintptr_t)fr);
	*out = fr->f;
	return fr->nr;
}

/*
 * /proc/kallsyms lists every address as 0 to a reader kernel.kptr_restrict
 * does not trust: 2 hides them from everyone, root included; 1 shows them
 * with CAP_SYSLOG; 0 also to anyone kernel.perf_event_paranoid <= 1 lets
 * sample the kernel. Says so once, with the fix that applies here.
 */
static void warn_hidden(const char *path)
{
	int kptr = limits__sysctl("/proc/sys/kernel/kptr_restrict", -1);
	const char *fix;

	if (strcmp(path, "/proc/kallsyms")) {
		pr_warn("syms: kernel frames are shown as [unknown]: %s lists every kernel address "
			"as 0 (copy /proc/kallsyms as root while kernel.kptr_restrict is below 2)",
			path);
		return;
	}
	if (kptr >= 2)
		fix = "it hides them even from root: 'sysctl kernel.kptr_restrict=1'";
	else if (geteuid() != 0 && kptr == 1)
		fix = "it shows them only with CAP_SYSLOG: run as root, or 'sysctl "
		      "kernel.kptr_restrict=0' with kernel.perf_event_paranoid <= 1";
	else
		fix = "run as root, or 'sysctl kernel.perf_event_paranoid=1'";
	pr_warn("syms: kernel frames are shown as [unknown]: /proc/kallsyms hides kernel addresses "
		"(kernel.kptr_restrict is %d; %s)",
		kptr, fix);
}

static void load_kallsyms(struct syms *s)
{
	s->ksyms_tried = true;
	s->ksyms = kallsyms__load(s->kallsyms_path);
	if (!s->ksyms) {
		int err = errno;

		if (err == EPERM)
			warn_hidden(s->kallsyms_path);
		else
			pr_warn("syms: cannot read kernel symbols from %s: %s", s->kallsyms_path,
				strerror(err));
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
	/* Rust in the kernel has mangled names too. */
	name = name ? demangled(s, name) : unknown;
	u64map__put(s->kernel_names, key, (uintptr_t)name);
	return name;
}

const char *syms__dso_path(struct syms *s, uint32_t id)
{
	return dsos__path(s->dsos, id);
}

void syms__set_build_id(struct syms *s, uint32_t pid, const char *filename,
			const uint8_t *build_id, size_t size)
{
	char hex[2 * DSOS_BUILD_ID_MAX + 1];
	uint32_t id;

	if (is_anonymous(filename) || !size)
		return;
	/* The mapping itself comes with syms__mmap(), which records its range. */
	id = dsos__intern(s->dsos, filename, pid, 0, 0);
	if (id && dsos__set_build_id(s->dsos, id, build_id, size) == 1 &&
	    dsos__build_id(s->dsos, id, hex, sizeof(hex)))
		pr_debug("syms: %s has build-id %s (from its MMAP2 record)", filename, hex);
}

size_t syms__dso_build_id(struct syms *s, uint32_t id, char *hex, size_t size)
{
	return dsos__build_id(s->dsos, id, hex, size);
}

uint64_t syms__nr_refreshes(const struct syms *s)
{
	return s->nr_refreshes;
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
	bytes += u64map__bytes(s->refreshed);
	bytes += u64map__bytes(s->maps_gens);
	bytes += u64map__bytes(s->dead) + s->cap_graves * sizeof(*s->graves);
	u64map__for_each(s->procs, add_addrspace_bytes, &bytes);
	bytes += dsos__bytes(s->dsos);
	bytes += kallsyms__bytes(s->ksyms);
	return bytes;
}

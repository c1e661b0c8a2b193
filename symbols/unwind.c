/* DWARF unwinding of sampled user stacks through libdw's dwfl, fed from the address-space model. */
#include "unwind.h"

#include <elf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "addrspace.h"
#include "dso.h"
#include "core/log.h"
#include "syms.h"

/*
 * Processes whose Dwfl is kept. A profile usually has a few busy processes;
 * system-wide, the least recently sampled one gives its slot up (and its
 * parsed CFI with it).
 */
#define UNWIND_MAX_PROCS 32
/* Files kept open for memory reads outside the stack copy. */
#define UNWIND_MAX_FILES 16
/* libdw's complaints shown at -vv: enough to see a broken setup, not one per sample. */
#define UNWIND_MAX_MESSAGES 10
#define DELETED_SUFFIX " (deleted)"
#define VDSO_NAME "[vdso]"

/* A file reported to a process's Dwfl. */
struct unwind_mod {
	uint32_t dso;
	uint64_t base; /* map start - pgoff: where the file's offset 0 is mapped */
	Dwarf_Addr low, high; /* the range libdw gave the module */
};

struct unwind_proc {
	struct unwind *u;
	uint32_t pid; /* 0: a free slot */
	uint64_t used; /* LRU stamp */
	Dwfl *dwfl;
	Elf *arch; /* tells libdw the architecture; lives as long as the Dwfl */
	bool attached, reported;
	uint64_t gen; /* syms__maps_gen() when last reported */
	struct unwind_mod *mods;
	size_t nr_mods;

	/* The sample being unwound, for the callbacks. */
	uint32_t tid;
	const uint64_t *regs;
	const unsigned char *stack;
	uint64_t sp, stack_size;
	uint64_t *pcs;
	uint32_t nr_pcs, max_pcs;
	bool truncated;
	/*
	 * libdw ends a walk as if at the outermost frame when a saved return
	 * address cannot be read: this tells that end from the real one.
	 */
	bool read_failed;
};

struct open_file {
	uint32_t dso; /* 0: a free slot */
	int fd;
	uint64_t used;
};

struct unwind {
	struct syms *syms;
	struct unwind_proc procs[UNWIND_MAX_PROCS];
	struct open_file files[UNWIND_MAX_FILES];
	uint64_t clock; /* for the LRU stamps */
	/* This process's copy of the vDSO, the same image every 64-bit process maps. */
	void *vdso;
	size_t vdso_size;
	bool vdso_tried;
	unsigned int messages;
	struct unwind_stats st;
};

static void complain(struct unwind *u, uint32_t pid, const char *what)
{
	if (u->messages >= UNWIND_MAX_MESSAGES)
		return;
	u->messages++;
	pr_debug("unwind: pid %u: %s: %s%s", pid, what, dwfl_errmsg(-1),
		 u->messages == UNWIND_MAX_MESSAGES ? " (no more such messages)" : "");
}

/*
 * A copy of our own vDSO image, for processes' "[vdso]" mappings: it is an
 * ELF file whose section headers come last, so they give its size.
 */
static bool vdso_image(struct unwind *u)
{
	const void *eh;
	size_t size;

	if (u->vdso_tried)
		return u->vdso != NULL;
	u->vdso_tried = true;
	eh = dsos__vdso_image(&size);
	if (!eh)
		return false;
	/* A copy: libelf may want to write to its image, and the vDSO is read-only. */
	u->vdso = malloc(size);
	if (!u->vdso)
		return false;
	memcpy(u->vdso, eh, size);
	u->vdso_size = size;
	return true;
}

/*
 * libdw asks for a module's ELF file when it was reported without one: only
 * the vDSO is, and its module's userdata points back at the unwinder.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct unwind *u = *userdata;

	(void)mod;
	(void)base;
	(void)file_name;
	*elfp = NULL;
	if (u && !strcmp(name, VDSO_NAME) && vdso_image(u))
		*elfp = elf_memory(u->vdso, u->vdso_size);
	return -1;
}

/* NULL: libdw's default places for separate debug files (/usr/lib/debug, by build id). */
static char *debuginfo_path;

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/*
 * Opens a mapped file by the path the model has for it, into @opened: as
 * named, else through the process's root (a process in another mount
 * namespace maps files we cannot see under that path). Returns an fd or -1.
 */
/*
 * Opens @path read-only if it is a regular file: a maps line may name a FIFO
 * (open must not hang the poll loop on it). Returns the fd or -1.
 */
static int open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int open_mapped(const char *path, uint32_t pid, char *opened, size_t len)
{
	size_t n = strlen(path), suffix = sizeof(DELETED_SUFFIX) - 1;
	char clean[PATH_MAX];
	int fd;

	if (path[0] != '/' || n >= sizeof(clean))
		return -1;
	memcpy(clean, path, n + 1);
	/* The kernel marks an unlinked file; a file of that name may be back (a rebuild). */
	if (n > suffix && !strcmp(clean + n - suffix, DELETED_SUFFIX))
		clean[n - suffix] = '\0';
	snprintf(opened, len, "%s", clean);
	fd = open_regular(clean);
	if (fd >= 0 || !pid)
		return fd;
	snprintf(opened, len, "/proc/%u/root%s", pid, clean);
	return open_regular(opened);
}

/*
 * The load bias of the ELF file at @fd when its offset @pgoff is mapped at
 * @start, executable: the segment holding that offset says which address it
 * was linked at. Most files link each segment at its file offset, but not
 * all do; segments may share a page, so an executable one is preferred.
 */
static int load_bias(int fd, uint64_t start, uint64_t pgoff, uint64_t *bias)
{
	/* Read, not mapped: a binary rebuilt while we read it would SIGBUS a mapping. */
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	uint64_t page = (uint64_t)getpagesize() - 1;
	bool exec_found = false;
	size_t n;
	int err = -ENOEXEC;

	if (!elf)
		return -ENOEXEC;
	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n))
		goto out_end;
	*bias = start - pgoff;
	err = 0;
	for (size_t i = 0; i < n && !exec_found; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* The kernel maps a segment from its offset rounded down to a page. */
		if ((ph.p_offset & ~page) > pgoff || pgoff >= ph.p_offset + ph.p_filesz)
			continue;
		*bias = start - pgoff - (ph.p_vaddr - ph.p_offset);
		exec_found = ph.p_flags & PF_X;
	}
out_end:
	elf_end(elf);
	return err;
}

static Dwfl_Module *report_file(struct unwind_proc *p, const struct addrspace_map *m,
				const char *path)
{
	char opened[PATH_MAX + 32];
	Dwfl_Module *mod;
	uint64_t bias;
	int fd = open_mapped(path, p->pid, opened, sizeof(opened));

	if (fd < 0)
		return NULL;
	if (load_bias(fd, m->start, m->pgoff, &bias)) {
		close(fd);
		return NULL;
	}
	/* libdw owns the fd once the module is reported. */
	mod = dwfl_report_elf(p->dwfl, path, opened, fd, bias, true);
	if (!mod)
		close(fd);
	return mod;
}

static Dwfl_Module *report_vdso(struct unwind_proc *p, const struct addrspace_map *m)
{
	Dwfl_Module *mod;
	void **userdata;

	if (!vdso_image(p->u))
		return NULL;
	mod = dwfl_report_module(p->dwfl, VDSO_NAME, m->start, m->end);
	if (mod) {
		dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
		*userdata = p->u;
	}
	return mod;
}

static const struct unwind_mod *find_mod(const struct unwind_mod *mods, size_t nr, uint32_t dso,
					 uint64_t base)
{
	for (size_t i = 0; i < nr; i++)
		if (mods[i].dso == dso && mods[i].base == base)
			return &mods[i];
	return NULL;
}

/*
 * Reports the process's executable mappings to its Dwfl. A file reported
 * before at the same place is reported again by its range alone, which
 * keeps libdw's module (ELF, CFI) as it was; dwfl_report_elf() would open
 * the file anew and refuse the second descriptor as an overlap.
 */
static void report(struct unwind_proc *p, const struct addrspace *as)
{
	struct syms *syms = p->u->syms;
	size_t n = as ? addrspace__nr(as) : 0, nr = 0;
	struct unwind_mod *mods = calloc(n ? n : 1, sizeof(*mods));

	if (!mods)
		return;
	dwfl_report_begin(p->dwfl);
	for (size_t i = 0; i < n; i++) {
		const struct addrspace_map *m = addrspace__map(as, i);
		uint64_t base = m->start - m->pgoff;
		const char *path = syms__dso_path(syms, m->dso);
		const struct unwind_mod *old;
		Dwfl_Module *mod = NULL;

		/* One module per file, however many executable mappings it has. */
		if (!path || find_mod(mods, nr, m->dso, base))
			continue;
		old = find_mod(p->mods, p->nr_mods, m->dso, base);
		if (old)
			mod = dwfl_report_module(p->dwfl, path, old->low, old->high);
		else if (!strcmp(path, VDSO_NAME))
			mod = report_vdso(p, m);
		else if (path[0] == '/')
			mod = report_file(p, m, path);
		else
			continue; /* "[vsyscall]" and the like: no file */
		if (!mod) {
			complain(p->u, p->pid, path);
			continue;
		}
		mods[nr].dso = m->dso;
		mods[nr].base = base;
		dwfl_module_info(mod, NULL, &mods[nr].low, &mods[nr].high, NULL, NULL, NULL, NULL);
		nr++;
	}
	dwfl_report_end(p->dwfl, NULL, NULL);
	free(p->mods);
	p->mods = mods;
	p->nr_mods = nr;
	p->reported = true;
	p->u->st.reports++;
}

/* An open descriptor for dso @id, kept among the last few used. -1 if it cannot be opened. */
static int file_fd(struct unwind *u, uint32_t id, uint32_t pid)
{
	struct open_file *f, *victim = &u->files[0];
	char opened[PATH_MAX + 32];
	const char *path;

	for (size_t i = 0; i < UNWIND_MAX_FILES; i++) {
		f = &u->files[i];
		if (f->dso == id) {
			f->used = ++u->clock;
			return f->fd;
		}
		if (f->used < victim->used)
			victim = f;
	}
	path = syms__dso_path(u->syms, id);
	if (!path)
		return -1;
	if (victim->dso && victim->fd >= 0)
		close(victim->fd);
	/* A file that does not open is remembered too (fd -1), so it is not tried per read. */
	victim->dso = id;
	victim->fd = open_mapped(path, pid, opened, sizeof(opened));
	victim->used = ++u->clock;
	return victim->fd;
}

/* A word outside the stack copy: from the mapped file's bytes, if any file maps it. */
static bool read_mapped(struct unwind_proc *p, uint64_t addr, uint64_t *result)
{
	struct unwind *u = p->u;
	const struct addrspace *as = syms__addrspace(u->syms, p->pid);
	const struct addrspace_map *m = as ? addrspace__find(as, addr) : NULL;
	const char *path;
	uint64_t off;
	int fd;

	if (!m || m->end - addr < sizeof(*result))
		return false;
	off = addr - m->start + m->pgoff;
	path = syms__dso_path(u->syms, m->dso);
	if (path && !strcmp(path, VDSO_NAME)) {
		if (!vdso_image(u) || off > u->vdso_size - sizeof(*result))
			return false;
		memcpy(result, (const char *)u->vdso + off, sizeof(*result));
		return true;
	}
	fd = file_fd(u, m->dso, p->pid);
	return fd >= 0 &&
	       pread(fd, result, sizeof(*result), (off_t)off) == (ssize_t)sizeof(*result);
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwind_proc *p = arg;
	uint64_t off = addr - p->sp;

	(void)dwfl;
	if (addr >= p->sp && p->stack_size >= sizeof(*result) &&
	    off <= p->stack_size - sizeof(*result)) {
		memcpy(result, p->stack + off, sizeof(*result));
		return true;
	}
	if (read_mapped(p, addr, result))
		return true;
	p->read_failed = true;
	return false;
}

/* The process has one thread as far as libdw knows: the sampled one. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct unwind_proc *p = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = p;
	return (pid_t)p->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwind_proc *p = arg;

	(void)dwfl;
	if ((uint32_t)tid != p->tid)
		return false;
	*thread_argp = p;
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwind_proc *p = arg;

	if (!dwfl_thread_state_registers(thread, 0, UNWIND_NR_REGS, p->regs))
		return false;
	dwfl_thread_state_register_pc(thread, p->regs[UNWIND_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind_proc *p = arg;
	bool activation;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return -1;
	/* A zero return address ends a stack too (as in a frame-pointer walk). */
	if (!pc)
		return DWARF_CB_ABORT;
	if (p->nr_pcs == p->max_pcs) {
		p->truncated = true;
		return DWARF_CB_ABORT;
	}
	/*
	 * The stack table keeps no flag for how to look a frame up, and every
	 * frame but the leaf is looked up one byte back, as a return address
	 * is. A frame interrupted by a signal holds the next instruction to
	 * run, not a return address: one byte on makes the lookup find it.
	 */
	if (activation && p->nr_pcs)
		pc++;
	p->pcs[p->nr_pcs++] = pc;
	return DWARF_CB_OK;
}

static void proc_clear(struct unwind_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	if (p->arch)
		elf_end(p->arch);
	free(p->mods);
	memset(p, 0, sizeof(*p));
}

/* The slot of @pid, taking the least recently used one for a new pid. NULL if out of memory. */
static struct unwind_proc *proc_get(struct unwind *u, uint32_t pid)
{
	struct unwind_proc *p, *victim = &u->procs[0];

	for (size_t i = 0; i < UNWIND_MAX_PROCS; i++) {
		p = &u->procs[i];
		if (p->pid == pid)
			return p;
		if (p->used < victim->used)
			victim = p;
	}
	proc_clear(victim);
	victim->dwfl = dwfl_begin(&dwfl_callbacks);
	if (!victim->dwfl)
		return NULL;
	/*
	 * libdw takes the architecture from an ELF handle that must live as
	 * long as the Dwfl; a module's would go when the process execs. The
	 * vDSO copy is the unwinder's own and of this machine's architecture.
	 */
	if (vdso_image(u))
		victim->arch = elf_memory(u->vdso, u->vdso_size);
	victim->u = u;
	victim->pid = pid;
	return victim;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint32_t unwind__stack(struct unwind *u, uint32_t pid, uint32_t tid, const uint64_t *regs,
		       const void *stack, uint64_t stack_size, uint64_t *pcs, uint32_t max)
{
	uint64_t start = now_ns(), gen;
	const struct addrspace *as;
	struct unwind_proc *p;
	uint32_t n = 0;
	int rc;

	if (!max)
		return 0;
	u->st.samples++;
	p = pid ? proc_get(u, pid) : NULL;
	if (!p)
		goto out_failed;
	p->used = ++u->clock;
	as = syms__addrspace(u->syms, pid);
	gen = syms__maps_gen(u->syms, pid);
	if (!p->reported || p->gen != gen) {
		report(p, as);
		p->gen = gen;
	}
	if (!p->attached) {
		if (!dwfl_attach_state(p->dwfl, p->arch, (pid_t)pid, &thread_callbacks, p)) {
			complain(u, pid, "cannot attach");
			goto out_failed;
		}
		p->attached = true;
	}
	p->tid = tid;
	p->regs = regs;
	p->stack = stack;
	p->stack_size = stack ? stack_size : 0;
	p->sp = regs[UNWIND_REG_SP];
	p->pcs = pcs;
	p->nr_pcs = 0;
	p->max_pcs = max;
	p->truncated = false;
	p->read_failed = false;
	rc = dwfl_getthread_frames(p->dwfl, (pid_t)tid, frame_cb, p);
	n = p->nr_pcs;
	p->pcs = NULL;
	p->stack = NULL;
	if ((rc == 0 || (rc == DWARF_CB_ABORT && !p->truncated && n)) && !p->read_failed)
		u->st.complete++;
	else if (p->truncated)
		u->st.truncated++;
	else
		u->st.failed++;
	if (!n)
		goto out_leaf;
	goto out;

out_failed:
	u->st.failed++;
out_leaf:
	/* Not even a first frame: the sampled instruction, as without unwinding. */
	pcs[0] = regs[UNWIND_REG_IP];
	n = 1;
out:
	u->st.frames += n;
	u->st.ns += now_ns() - start;
	return n;
}

struct unwind *unwind__new(struct syms *syms)
{
	struct unwind *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	elf_version(EV_CURRENT);
	u->syms = syms;
	return u;
}

void unwind__delete(struct unwind *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < UNWIND_MAX_PROCS; i++)
		proc_clear(&u->procs[i]);
	for (size_t i = 0; i < UNWIND_MAX_FILES; i++)
		if (u->files[i].dso && u->files[i].fd >= 0)
			close(u->files[i].fd);
	free(u->vdso);
	free(u);
}

void unwind__stats(const struct unwind *u, struct unwind_stats *st)
{
	*st = u->st;
}

/*
 * Symbolization facade: the kernel symbol table, a model of every process's
 * address space kept from /proc and side-band records, and name lookup with a
 * per-(file, address) cache.
 *
 * User frames are stored as "locations" rather than raw addresses so that a
 * stack can be named after its process has exited or exec'd:
 *
 *   bits 48..62  dso id (1-based) of the mapped file, 0 = not file-backed
 *   bits  0..47  offset in that file, or the raw address when dso id is 0
 *
 * (user-space addresses on x86_64 are below 2^47, so both fit.) Dso id
 * 0x7fff marks a label instead: a frame that names something other than
 * code (a file written to, a syscall), its text kept by the symbolizer.
 */
#ifndef STACKPROF_SYMS_H
#define STACKPROF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct syms;

#define SYMS_LOC_DSO_SHIFT 48
#define SYMS_LOC_OFF_MASK ((1ULL << SYMS_LOC_DSO_SHIFT) - 1)
#define SYMS_LOC_DSO(loc) ((uint32_t)(((loc) >> SYMS_LOC_DSO_SHIFT) & 0x7fff))
#define SYMS_LOC_OFF(loc) ((loc) & SYMS_LOC_OFF_MASK)
#define SYMS_LOC_LABEL_DSO 0x7fffU
#define SYMS_LOC_IS_LABEL(loc) (((loc) >> SYMS_LOC_DSO_SHIFT) == SYMS_LOC_LABEL_DSO)

/*
 * Creates the symbolizer. @kallsyms is the kernel symbol file to use, NULL
 * for /proc/kallsyms; it is read lazily on the first kernel lookup. Returns
 * NULL and sets errno on failure.
 */
struct syms *syms__new(const char *kallsyms);
void syms__delete(struct syms *s);

/*
 * Reads /proc/PID/maps and the thread names under /proc/PID/task for a
 * process the model does not know yet. Returns 0 (also when already known),
 * or -errno (-ENOENT: no such process, or /proc could not give it before:
 * it is asked once until the pid is seen anew).
 */
int syms__proc_load(struct syms *s, uint32_t pid);

/*
 * Adds the executable mappings of @maps, text in the /proc/PID/maps format,
 * to @pid's address space (created if needed). Lines that do not parse are
 * skipped. Returns 0 or -ENOMEM.
 */
int syms__maps_read(struct syms *s, uint32_t pid, FILE *maps);

/*
 * For a session without mmap records (kernel without MMAP2, or forced):
 * /proc/PID/maps is then read again at exec, at fork (the child), and when
 * a user address is in no known mapping of its process (at most every
 * 100 ms per process, so anonymous code does not cost a read per sample).
 */
void syms__set_proc_refresh(struct syms *s, bool on);

/*
 * Reads /proc/PID/maps again into @pid's model, merged with what is there
 * (mappings gone since stay, for samples taken before). Returns 0 or -errno.
 */
int syms__proc_reread(struct syms *s, uint32_t pid);

/* How many times /proc/PID/maps was read again (syms__proc_reread), for -v. */
uint64_t syms__nr_refreshes(const struct syms *s);

struct addrspace;

/*
 * The executable mappings of @pid (read from /proc the first time), NULL
 * when the model has none. Valid until the next change to the model.
 */
const struct addrspace *syms__addrspace(struct syms *s, uint32_t pid);

/*
 * A number that changes whenever @pid's mappings do (a mapping added or
 * replaced, an exec, a fork that gave the pid a new process); 0 for a pid
 * never mapped. Lets a cache built from the mappings know when to rebuild.
 */
uint64_t syms__maps_gen(struct syms *s, uint32_t pid);

/* Whether the model has an address space for @pid. */
bool syms__knows(struct syms *s, uint32_t pid);

/*
 * A new file-backed (or named, e.g. "[vdso]") mapping in @pid, from an MMAP2
 * record or a maps line. Only executable mappings matter; the caller filters.
 * Overlapping older mappings are replaced; an anonymous one (NULL, "",
 * "//anon", "[anon:...]") only unmaps them. For a pid the model has never
 * seen, /proc/PID/maps is read first (once), since the process predates
 * the records.
 */
void syms__mmap(struct syms *s, uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
		const char *filename);
/* @pid exec'd: its old mappings are dropped. */
void syms__exec(struct syms *s, uint32_t pid);
/*
 * @pid was forked from @ppid (a new process, not a thread): copy the mappings
 * (@ppid is read from /proc if never seen) and the name of @ppid's main thread.
 */
void syms__fork(struct syms *s, uint32_t ppid, uint32_t pid);
/*
 * Thread @tid of process @pid exited at @time (record time, ns); @pid itself
 * when @tid == @pid. Its name, and a process's address space, are freed by
 * the first syms__reap() a second after: stacks stored before then need
 * neither (user frames are locations, names are copied), and a long run
 * that sees thousands of processes come and go keeps only the live ones.
 * A fork or a new name for the same id in the meantime keeps it.
 */
void syms__exit(struct syms *s, uint32_t pid, uint32_t tid, uint64_t time);

/* Frees the models of the tasks that exited more than a second before @now. */
void syms__reap(struct syms *s, uint64_t now);

/* What the model holds, for -v. */
struct syms_stats {
	size_t procs, comms; /* address spaces and thread names of live tasks */
	size_t dead_procs, dead_comms; /* of tasks that exited, waiting out their second */
	uint64_t freed_procs, freed_comms; /* freed after their exit, so far */
};
void syms__stats(const struct syms *s, struct syms_stats *st);

/* Thread names. */
void syms__set_comm(struct syms *s, uint32_t tid, const char *comm);
/*
 * Name of thread @tid of @pid: the last one set, else read from /proc, else
 * "[unknown]". Never NULL; valid until the next call that changes it.
 */
const char *syms__comm(struct syms *s, uint32_t pid, uint32_t tid);

/* Encodes user address @ip of @pid as a location (see above). */
uint64_t syms__encode_user(struct syms *s, uint32_t pid, uint64_t ip);

/*
 * The location of label @text (interned: equal texts give equal locations),
 * to put in a user chain as a frame of its own. Returns 0 when out of
 * memory. syms__user_name() gives the text back.
 */
uint64_t syms__label(struct syms *s, const char *text);

/*
 * Name of a user location: "function", "[dso+0xoff]" when the file has no
 * symbol for it, "[unknown]" when it is not file-backed, a label's text. @is_leaf is false for
 * return addresses, which are looked up one byte back so a call at the end of
 * a function is charged to that function. The string is owned by @s.
 */
const char *syms__user_name(struct syms *s, uint64_t loc, bool is_leaf);

/* Name of a kernel address: "function" or "[unknown]". Owned by @s. */
const char *syms__kernel_name(struct syms *s, uint64_t ip, bool is_leaf);

/* C++ and Rust names are shown demangled (symbols/demangle.h) unless this turns it off. */
void syms__set_demangle(struct syms *s, bool on);

/*
 * Inline frames and source lines (--inline, --srcline), from the DWARF of
 * each file (symbols/dwarfinfo.h). Off by default: they cost a DWARF read
 * per file.
 */
void syms__set_frames(struct syms *s, bool inline_frames, bool srcline);
bool syms__frames_on(const struct syms *s);

#define SYMS_MAX_INLINE 16

struct syms_frame {
	const char *name; /* "function", or "function:file.c:42" with srcline */
	const char *func; /* "function" alone */
	const char *file; /* with srcline: the source file's base name, else NULL */
	int line;	  /* ... and the line, 0 if unknown */
	bool inlined;	  /* inlined into the frame before it */
};

/*
 * The frames of user location @loc, outermost first: with inline frames
 * the function and each one inlined into it at that address, else the
 * function alone; names carry ":file:line" with srcline. Falls back to
 * syms__user_name() where DWARF says nothing. Returns how many (at least 1)
 * and the array in *@out, owned by @s.
 */
uint32_t syms__user_frames(struct syms *s, uint64_t loc, bool is_leaf,
			   const struct syms_frame **out);

/* Path of dso @id (from a location), NULL if none. */
const char *syms__dso_path(struct syms *s, uint32_t id);

/*
 * The build-id the kernel read from @filename when @pid mapped it (an MMAP2
 * record with PERF_RECORD_MISC_MMAP_BUILD_ID), kept with the file for
 * finding its debug information by build-id (symbols/debuginfo.h).
 */
void syms__set_build_id(struct syms *s, uint32_t pid, const char *filename,
			const uint8_t *build_id, size_t size);

/* Dso @id's build-id as lowercase hex in @hex (@size bytes); its length, 0 if none known. */
size_t syms__dso_build_id(struct syms *s, uint32_t id, char *hex, size_t size);

/* Memory held by the model and caches, for -v. */
uint64_t syms__bytes(const struct syms *s);

#endif

/* Mapped files ("dsos") interned by path, with their ELF symbols opened lazily and cached. */
#ifndef STACKPROF_DSO_H
#define STACKPROF_DSO_H

#include <stddef.h>
#include <stdint.h>

struct elfsyms;
struct dsos;

/* Ids are 1-based and must fit the 15 bits a location gives them. */
#define DSOS_MAX_ID 0x7ffe /* 0x7fff is for labels (syms.h) */

/* Creates an empty table. Returns NULL and sets errno on failure. */
struct dsos *dsos__new(void);
void dsos__delete(struct dsos *d);

/*
 * Id of the file @path (as a maps line or MMAP2 record names it, " (deleted)"
 * and "[vdso]" included, or a JIT's "/tmp/perf-PID.map"), adding it on first
 * sight. @pid is a process that maps it, at [@start, @end), used to reach the
 * file through /proc/PID/root if the path does not open from here, or through
 * /proc/PID/map_files when it was deleted. Returns 0 when the table is full
 * or out of memory.
 */
uint32_t dsos__intern(struct dsos *d, const char *path, uint32_t pid, uint64_t start,
		      uint64_t end);

/* The path as interned, or NULL for an unknown id. */
const char *dsos__path(const struct dsos *d, uint32_t id);

/*
 * What a frame shows when the file has no symbol for it: the base name
 * without " (deleted)", brackets stripped ("libc.so.6", "vdso"), with
 * control bytes replaced. NULL for an unknown id.
 */
const char *dsos__short_name(const struct dsos *d, uint32_t id);

/*
 * The symbols of dso @id, read on the first call. A file that cannot be read
 * (gone, not ELF, a "[vdso]"-style name) gives NULL, once and for all.
 */
const struct elfsyms *dsos__elf(struct dsos *d, uint32_t id);

/*
 * The DWARF of dso @id (its own or its separate debug file's), opened on
 * the first call; NULL when it has none, once and for all.
 */
struct dwarfinfo;
const struct dwarfinfo *dsos__dwarf(struct dsos *d, uint32_t id);

/* Longest build-id kept (SHA-1, what the kernel's MMAP2 record holds). */
#define DSOS_BUILD_ID_MAX 20

/*
 * Records the build-id the kernel read from dso @id's file when it was
 * mapped (MMAP2 with attr.build_id), for finding its debug information. A
 * path mapped again after its file was replaced takes the newer build-id.
 * Returns 1 when it is new or changed, 0 when already known, -EINVAL.
 */
int dsos__set_build_id(struct dsos *d, uint32_t id, const uint8_t *build_id, size_t size);

/* Dso @id's build-id as lowercase hex in @hex (@size bytes); its length, 0 if none known. */
size_t dsos__build_id(const struct dsos *d, uint32_t id, char *hex, size_t size);

/*
 * This process's vDSO image and its size in *@size, NULL if it has none we
 * can read: the kernel maps the same image into every 64-bit process, an
 * ELF file with its section headers at the end, so they give its size.
 */
const void *dsos__vdso_image(size_t *size);

size_t dsos__nr(const struct dsos *d);
/* Memory held by the table and the symbols it opened. */
size_t dsos__bytes(const struct dsos *d);

#endif

/*
 * Function symbols of one ELF file via libelf, by file offset or name: its
 * .symtab, else the one of its separate debug file or MiniDebugInfo, and
 * .dynsym.
 */
#ifndef STACKPROF_ELFSYMS_H
#define STACKPROF_ELFSYMS_H

#include <stddef.h>
#include <stdint.h>

struct elfsyms;

/* Opens and indexes @path. Returns NULL and sets errno on failure (ENOEXEC: not ELF). */
struct elfsyms *elfsyms__open(const char *path);
/*
 * The symbols a JIT wrote to a perf map file (/tmp/perf-PID.map: "START
 * SIZE NAME" lines, hexadecimal), with file offsets standing for the
 * addresses themselves. NULL and errno on failure.
 */
struct elfsyms *elfsyms__open_perfmap(const char *path);

/* The same for an ELF image in memory (@size bytes, copied while indexed). */
struct elfsyms *elfsyms__open_image(const void *image, size_t size);
void elfsyms__delete(struct elfsyms *e);

/*
 * Translates a file offset (what a mapping's pgoff gives) to the ELF virtual
 * address through the PT_LOAD program headers. Returns 0 and sets *vaddr, or
 * -ENOENT if no loadable segment covers @off.
 */
int elfsyms__offset_to_vaddr(const struct elfsyms *e, uint64_t off, uint64_t *vaddr);

/* Function containing ELF virtual address @vaddr; NULL if none. *symoff gets the offset. */
const char *elfsyms__find_vaddr(const struct elfsyms *e, uint64_t vaddr, uint64_t *symoff);

/* Function containing file offset @off (the two calls above); NULL if none. */
const char *elfsyms__find_offset(const struct elfsyms *e, uint64_t off, uint64_t *symoff);

/*
 * File offset of the function named exactly @name in ELF @path, from
 * .symtab and .dynsym, converted through the PT_LOAD program headers: where
 * a uprobe goes. Among several matches the default symbol version wins (a
 * .dynsym entry whose .gnu.version is not hidden, a .symtab name without
 * "@" or with "@@"), then global before weak before local. Returns 0, -ENOENT
 * when no defined function has that name (or no loadable segment holds it),
 * -ENOEXEC when @path is not an ELF file, -EOPNOTSUPP when the best match is
 * an IFUNC (its address is the resolver's, not the implementation's), or
 * -errno. Logs nothing.
 */
int elfsyms__func_offset(const char *path, const char *name, uint64_t *offset);

size_t elfsyms__nr(const struct elfsyms *e);
/* Memory held by the index (the file itself is closed after elfsyms__open). */
size_t elfsyms__bytes(const struct elfsyms *e);

#endif

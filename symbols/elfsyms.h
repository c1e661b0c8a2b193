/* Function symbols of one ELF file (.symtab, else .dynsym) through libelf, looked up by file offset. */
#ifndef STACKPROF_ELFSYMS_H
#define STACKPROF_ELFSYMS_H

#include <stddef.h>
#include <stdint.h>

struct elfsyms;

/* Opens and indexes @path. Returns NULL and sets errno on failure (ENOEXEC: not ELF). */
struct elfsyms *elfsyms__open(const char *path);
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

size_t elfsyms__nr(const struct elfsyms *e);
/* Memory held by the index (the file itself is closed after elfsyms__open). */
size_t elfsyms__bytes(const struct elfsyms *e);

#endif

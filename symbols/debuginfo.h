/* Separate debug information for an ELF file: where its .symtab went when the file was stripped. */
#ifndef STACKPROF_DEBUGINFO_H
#define STACKPROF_DEBUGINFO_H

#include <gelf.h>
#include <stddef.h>

/*
 * The directories searched, colon-separated: $STACKPROF_DEBUG_DIRS, else
 * /usr/lib/debug (where Debian's -dbg and -dbgsym packages install).
 */
const char *debuginfo__dirs(void);

/*
 * Finds the separate debug file of @elf (opened from @path), in this order:
 *  1. by build-id: DIR/.build-id/xx/yyyy.debug for each debug directory;
 *  2. by .gnu_debuglink NAME: the binary's directory /NAME and /.debug/NAME,
 *     then DIR/<the binary's directory>/NAME for each debug directory,
 *     accepted only when its CRC32 matches the link's.
 * Writes the path to @out (@size bytes). Returns 0, or -ENOENT.
 */
int debuginfo__find(Elf *elf, const char *path, char *out, size_t size);

/* The section of @elf named @name (its header in @shdr), NULL if none. */
Elf_Scn *debuginfo__section(Elf *elf, const char *name, GElf_Shdr *shdr);

/* The build-id of @elf as lowercase hex in @out (2 * 20 + 1 bytes suffice). Its length or 0. */
size_t debuginfo__build_id(Elf *elf, char *out, size_t size);

#endif

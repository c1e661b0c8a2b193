/*
 * DWARF debug information of one file through libdw: the functions inlined
 * at an address, and source lines.
 */
#ifndef STACKPROF_DWARFINFO_H
#define STACKPROF_DWARFINFO_H

#include <stdbool.h>
#include <stdint.h>

struct dwarfinfo;

/* One function at an address: the outermost first, then each one inlined into it. */
struct dwarfinfo_frame {
	const char *name; /* owned by the dwarfinfo; NULL when DWARF names none */
	const char *file; /* source file of the line below, base name; NULL if unknown */
	int line;	  /* line in it: of the address for the innermost frame, of the call
			     site of the next inner one for the others; 0 if unknown */
	bool inlined;	  /* inlined into the frame before it */
};

/*
 * Opens @path's DWARF: its own .debug_info, or its separate debug file
 * (symbols/debuginfo.h). Returns NULL and sets errno (ENOENT: no DWARF).
 */
struct dwarfinfo *dwarfinfo__open(const char *path);
void dwarfinfo__delete(struct dwarfinfo *d);

/*
 * The functions at ELF virtual address @vaddr, outermost first, at most
 * @max. Returns how many (0 when the address is in no compile unit).
 */
int dwarfinfo__frames(const struct dwarfinfo *d, uint64_t vaddr, struct dwarfinfo_frame *out, int max);

#endif

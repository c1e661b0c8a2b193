/* Inline frames and source lines from DWARF, through libdw's offline Dwfl. */
#include "dwarfinfo.h"
#include "debuginfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Nesting deeper than this (inlined into inlined into ...) is cut at the outside. */
#define MAX_SCOPES 64

struct dwarfinfo {
	Dwfl *dwfl;
	Dwfl_Module *mod;
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* Whether @elf carries its own .debug_info. */
static bool has_debug_info(Elf *elf)
{
	GElf_Shdr shdr;

	return debuginfo__section(elf, ".debug_info", &shdr) && shdr.sh_type != SHT_NOBITS;
}

/* The file holding @path's DWARF into @out: itself or its separate debug file. */
static int dwarf_file(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = -ENOENT;
	Elf *elf;

	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		if (has_debug_info(elf)) {
			snprintf(out, size, "%s", path);
			err = 0;
		} else {
			err = debuginfo__find(elf, path, out, size);
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

struct dwarfinfo *dwarfinfo__open(const char *path)
{
	struct dwarfinfo *d;
	char file[4096];
	Dwarf_Addr bias;
	int err;

	elf_version(EV_CURRENT);
	err = dwarf_file(path, file, sizeof(file));
	if (err) {
		errno = -err;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->dwfl = dwfl_begin(&offline_callbacks);
	if (!d->dwfl)
		goto out_enoent;
	d->mod = dwfl_report_offline(d->dwfl, "", file, -1);
	dwfl_report_end(d->dwfl, NULL, NULL);
	if (!d->mod || !dwfl_module_getdwarf(d->mod, &bias))
		goto out_enoent;
	return d;

out_enoent:
	dwarfinfo__delete(d);
	errno = ENOENT;
	return NULL;
}

void dwarfinfo__delete(struct dwarfinfo *d)
{
	if (!d)
		return;
	if (d->dwfl)
		dwfl_end(d->dwfl);
	free(d);
}

/* The name of a function DIE, following an inlined instance to its abstract origin. */
static const char *func_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name;

	/* The linkage name (mangled, demangled later) says more than the bare name. */
	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return name;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* The call site of inlined instance @die: file (from the CU's table) and line. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *die, const char **file, int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, ln;
	Dwarf_Files *files;
	size_t nfiles;

	*file = NULL;
	*line = 0;
	if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &a), &ln))
		*line = (int)ln;
	if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &idx) &&
	    !dwarf_getsrcfiles(cudie, &files, &nfiles) && idx < nfiles)
		*file = base_name(dwarf_filesrc(files, idx, NULL, NULL));
}

int dwarfinfo__frames(const struct dwarfinfo *d, uint64_t vaddr, struct dwarfinfo_frame *out, int max)
{
	Dwarf_Die *cudie, *scopes = NULL, *chain = NULL, *funcs[MAX_SCOPES];
	Dwarf_Addr bias, addr;
	Dwfl_Line *l;
	int nscopes, nf = 0, n = 0;
	const char *file = NULL;
	int line = 0;

	if (!d || max <= 0 || !dwfl_module_getdwarf(d->mod, &bias))
		return 0;
	addr = vaddr + bias;
	cudie = dwfl_module_addrdie(d->mod, addr, &bias);
	if (!cudie)
		return 0;
	/*
	 * The innermost scope at the address, then its physical nesting: past
	 * an inlined instance dwarf_getscopes() goes on with the scopes of the
	 * inlined function's abstract definition, not with the function it
	 * was inlined into; dwarf_getscopes_die() follows the DIE tree.
	 */
	nscopes = dwarf_getscopes(cudie, addr - bias, &scopes);
	if (nscopes > 0)
		nscopes = dwarf_getscopes_die(&scopes[0], &chain);
	/* Functions only, innermost first: the inlined instances, then their subprogram. */
	for (int i = 0; i < nscopes && nf < MAX_SCOPES; i++) {
		int tag = dwarf_tag(&chain[i]);

		if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram)
			funcs[nf++] = &chain[i];
		if (tag == DW_TAG_subprogram)
			break;
	}
	l = dwfl_module_getsrc(d->mod, addr);
	if (l)
		file = base_name(dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL));
	/*
	 * Outermost first. Each function's line is where control is in it: the
	 * address's own line for the innermost, the call site of the function
	 * inlined into it for the others.
	 */
	for (int i = nf; i-- > 0 && n < max;) {
		struct dwarfinfo_frame *f = &out[n++];

		f->name = func_name(funcs[i]);
		f->inlined = dwarf_tag(funcs[i]) == DW_TAG_inlined_subroutine;
		if (i > 0) {
			call_site(cudie, funcs[i - 1], &f->file, &f->line);
		} else {
			f->file = file;
			f->line = line;
		}
	}
	/* No function DIE covers it (assembly with line info only): the line alone. */
	if (!n && file) {
		out[0] = (struct dwarfinfo_frame){ .file = file, .line = line };
		n = 1;
	}
	free(scopes);
	free(chain);
	return n;
}

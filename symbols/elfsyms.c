/* Function symbols of one ELF file read with libelf, indexed by vaddr and reachable by offset. */
#include "elfsyms.h"
#include "debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <lzma.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SECTIONS (1 << 20)

struct elfsym {
	uint64_t start, end; /* [start, end) in ELF virtual addresses */
	uint32_t name;	     /* offset in the pool */
};

struct load_seg {
	uint64_t offset, filesz, vaddr;
};

struct elfsyms {
	struct elfsym *syms;
	size_t nr;
	struct load_seg *segs;
	size_t nr_segs;
	char *pool;
	size_t pool_len;
};

/* A symbol as read, before aliases are merged. */
struct rawsym {
	uint64_t addr, size;
	uint64_t sec_end; /* end of its section: bounds a size-0 symbol */
	uint32_t name;
	uint32_t name_len;
	uint8_t bind_rank; /* 0 global, 1 weak, 2 local or other */
};

struct builder {
	struct rawsym *raw;
	size_t nr, cap;
	char *pool;
	size_t pool_len, pool_cap;
	uint64_t *sec_end; /* by section index, 0 when unknown */
	size_t nr_secs;
};

static uint32_t builder_add_name(struct builder *b, const char *s, size_t len)
{
	uint32_t off;

	if (b->pool_len + len + 1 > b->pool_cap) {
		size_t cap = b->pool_cap ? b->pool_cap : 4096;
		char *p;

		while (cap < b->pool_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return UINT32_MAX;
		p = realloc(b->pool, cap);
		if (!p)
			return UINT32_MAX;
		b->pool = p;
		b->pool_cap = cap;
	}
	off = b->pool_len;
	memcpy(b->pool + off, s, len + 1);
	b->pool_len += len + 1;
	return off;
}

/* Names come from the file: refuse control bytes rather than print them. */
static bool name_ok(const char *s, size_t *len)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	*len = i;
	return i > 0;
}

/* Adds a symbol of @len-byte name @name. Returns 0 or -ENOMEM. */
static int builder_add(struct builder *b, const char *name, size_t len, uint64_t addr,
		       uint64_t size, uint64_t sec_end, uint8_t rank)
{
	uint32_t off;

	if (b->nr == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct rawsym *p = realloc(b->raw, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		b->raw = p;
		b->cap = cap;
	}
	off = builder_add_name(b, name, len);
	if (off == UINT32_MAX)
		return -ENOMEM;
	b->raw[b->nr++] = (struct rawsym){ .addr = addr, .size = size, .sec_end = sec_end,
					   .name = off, .name_len = (uint32_t)len,
					   .bind_rank = rank };
	return 0;
}

static int bind_rank(unsigned char bind)
{
	if (bind == STB_GLOBAL)
		return 0;
	if (bind == STB_WEAK)
		return 1;
	return 2;
}

static int read_symtab(struct builder *b, Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n;

	if (!data || !shdr->sh_entsize)
		return 0;
	n = shdr->sh_size / shdr->sh_entsize;
	/* A corrupt sh_size must not make us read past the data libelf gave us. */
	if (n > data->d_size / shdr->sh_entsize)
		n = data->d_size / shdr->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		size_t len;
		int type;

		if (!gelf_getsym(data, i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name || !name_ok(name, &len))
			continue;
		if (builder_add(b, name, len, sym.st_value, sym.st_size,
				sym.st_shndx < b->nr_secs ? b->sec_end[sym.st_shndx] : 0,
				bind_rank(GELF_ST_BIND(sym.st_info))))
			return -ENOMEM;
	}
	return 0;
}

/* Section ends, so that a symbol without a size stops at the end of its section. */
static int read_sections(struct builder *b, Elf *elf, Elf_Scn **symtab, Elf_Scn **dynsym)
{
	Elf_Scn *scn = NULL;
	size_t shnum;

	if (elf_getshdrnum(elf, &shnum))
		return -ENOEXEC;
	/* A corrupt count must not turn into a huge allocation; no real file is near this. */
	if (shnum > MAX_SECTIONS)
		return -ENOEXEC;
	b->sec_end = calloc(shnum ? shnum : 1, sizeof(*b->sec_end));
	if (!b->sec_end)
		return -ENOMEM;
	b->nr_secs = shnum;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		size_t idx = elf_ndxscn(scn);
		GElf_Shdr shdr;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		if (idx < shnum && shdr.sh_addr + shdr.sh_size >= shdr.sh_addr)
			b->sec_end[idx] = shdr.sh_addr + shdr.sh_size;
		if (shdr.sh_type == SHT_SYMTAB && !*symtab)
			*symtab = scn;
		else if (shdr.sh_type == SHT_DYNSYM && !*dynsym)
			*dynsym = scn;
	}
	return 0;
}

static int read_segments(struct elfsyms *e, Elf *elf)
{
	size_t i, phnum;

	if (elf_getphdrnum(elf, &phnum) || !phnum)
		return 0; /* no program headers: offsets cannot be translated, names by vaddr still
			     work */
	e->segs = calloc(phnum, sizeof(*e->segs));
	if (!e->segs)
		return -ENOMEM;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		e->segs[e->nr_segs].offset = ph.p_offset;
		e->segs[e->nr_segs].filesz = ph.p_filesz;
		e->segs[e->nr_segs].vaddr = ph.p_vaddr;
		e->nr_segs++;
	}
	return 0;
}

static int rawsym_cmp(const void *a, const void *b)
{
	const struct rawsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/*
 * Which alias names an address: global before weak before local, then the
 * shorter name, then the alphabetically first. .symtab and .dynsym repeat the
 * same names, so reading both only fills the gaps of a stripped .symtab.
 */
static bool rawsym_better(const struct builder *b, const struct rawsym *x, const struct rawsym *y)
{
	if (x->bind_rank != y->bind_rank)
		return x->bind_rank < y->bind_rank;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len;
	return strcmp(b->pool + x->name, b->pool + y->name) < 0;
}

/* Copies the names that survived alias merging into a pool of their own, dropping the rest. */
static int compact_names(struct elfsyms *e, const struct builder *b)
{
	size_t i, len = 0;
	char *pool;

	for (i = 0; i < e->nr; i++)
		len += strlen(b->pool + e->syms[i].name) + 1;
	pool = malloc(len ? len : 1);
	if (!pool)
		return -ENOMEM;
	e->pool_len = 0;
	for (i = 0; i < e->nr; i++) {
		const char *name = b->pool + e->syms[i].name;
		size_t n = strlen(name) + 1;

		memcpy(pool + e->pool_len, name, n);
		e->syms[i].name = e->pool_len;
		e->pool_len += n;
	}
	e->pool = pool;
	return 0;
}

/* Sorts, merges aliases and gives every symbol an end. */
static int build_index(struct elfsyms *e, struct builder *b)
{
	size_t i, j, out = 0;

	if (b->nr)
		qsort(b->raw, b->nr, sizeof(*b->raw), rawsym_cmp);
	e->syms = calloc(b->nr ? b->nr : 1, sizeof(*e->syms));
	if (!e->syms)
		return -ENOMEM;
	for (i = 0; i < b->nr; i = j) {
		const struct rawsym *best = &b->raw[i];
		uint64_t size = 0, sec_end = 0, end;

		for (j = i; j < b->nr && b->raw[j].addr == b->raw[i].addr; j++) {
			if (rawsym_better(b, &b->raw[j], best))
				best = &b->raw[j];
			/* Aliases may disagree on the size; take the widest claim. */
			if (b->raw[j].size > size)
				size = b->raw[j].size;
			if (b->raw[j].sec_end > sec_end)
				sec_end = b->raw[j].sec_end;
		}
		if (size && best->addr + size > best->addr) {
			end = best->addr + size;
		} else {
			/* Assembly often leaves st_size 0: run to the next symbol, within the
			 * section. */
			end = j < b->nr ? b->raw[j].addr : UINT64_MAX;
			if (sec_end > best->addr && sec_end < end)
				end = sec_end;
			if (end == UINT64_MAX)
				end = best->addr + 1;
		}
		e->syms[out].start = best->addr;
		e->syms[out].end = end;
		e->syms[out].name = best->name;
		out++;
	}
	e->nr = out;
	if (out < b->nr) {
		struct elfsym *syms = realloc(e->syms, (out ? out : 1) * sizeof(*syms));

		if (syms)
			e->syms = syms;
	}
	return compact_names(e, b);
}

static Elf *elf_open_file(const char *path, int *fd, int *err);

/*
 * The .symtab of @other, an ELF that stands in for @elf's stripped one (a
 * separate debug file, or MiniDebugInfo). It keeps the section headers and
 * addresses of the original, so its section ends replace ours.
 */
static int read_other_symtab(struct builder *b, Elf *other)
{
	Elf_Scn *symtab = NULL, *dynsym = NULL;
	GElf_Shdr shdr;
	int err;

	free(b->sec_end);
	b->sec_end = NULL;
	b->nr_secs = 0;
	err = read_sections(b, other, &symtab, &dynsym);
	if (!err && symtab && gelf_getshdr(symtab, &shdr))
		err = read_symtab(b, other, symtab, &shdr);
	return err == -ENOMEM ? err : 0;
}

/* A stripped file's .symtab from its separate debug file (debuginfo.h), if one is found. */
static int read_debug_symtab(struct builder *b, Elf *elf, const char *path, bool *found)
{
	char dpath[4096];
	Elf *delf;
	int fd, err;

	*found = false;
	if (!path[0] || debuginfo__find(elf, path, dpath, sizeof(dpath)))
		return 0;
	delf = elf_open_file(dpath, &fd, &err);
	if (!delf)
		return 0;
	*found = true;
	err = read_other_symtab(b, delf);
	elf_end(delf);
	close(fd);
	return err;
}

/* No MiniDebugInfo decompresses to more than this; it bounds a hostile section. */
#define GNU_DEBUGDATA_MAX (64 << 20)

/*
 * MiniDebugInfo: the .gnu_debugdata section holds an xz-compressed ELF
 * whose .symtab lists the functions .dynsym lacks (Fedora and others ship
 * binaries so, to name local functions without debug packages).
 */
static int read_gnu_debugdata(struct builder *b, Elf *elf)
{
	size_t in_pos = 0, out_pos = 0, cap = 1 << 20;
	uint64_t memlimit = 256 << 20;
	GElf_Shdr shdr;
	Elf_Scn *scn = debuginfo__section(elf, ".gnu_debugdata", &shdr);
	Elf_Data *data = scn && shdr.sh_type == SHT_PROGBITS ? elf_getdata(scn, NULL) : NULL;
	uint8_t *out = NULL;
	lzma_ret ret;
	Elf *mini;
	int err = 0;

	if (!data || !data->d_buf || !data->d_size)
		return 0;
	/* The decompressed size is not stored up front: grow until it fits. */
	for (;;) {
		uint8_t *p = realloc(out, cap);

		if (!p) {
			free(out);
			return -ENOMEM;
		}
		out = p;
		in_pos = out_pos = 0;
		ret = lzma_stream_buffer_decode(&memlimit, 0, NULL, data->d_buf, &in_pos,
						data->d_size, out, &out_pos, cap);
		if (ret != LZMA_BUF_ERROR || cap >= GNU_DEBUGDATA_MAX)
			break;
		cap *= 2;
	}
	if (ret == LZMA_OK) {
		mini = elf_memory((char *)out, out_pos);
		if (mini && elf_kind(mini) == ELF_K_ELF)
			err = read_other_symtab(b, mini);
		if (mini)
			elf_end(mini);
	}
	free(out);
	return err;
}

static int index_elf(struct elfsyms *e, Elf *elf, const char *path)
{
	struct builder b = {0};
	Elf_Scn *symtab = NULL, *dynsym = NULL;
	GElf_Shdr shdr;
	int err;

	err = read_sections(&b, elf, &symtab, &dynsym);
	if (err)
		goto out_free;
	err = read_segments(e, elf);
	if (err)
		goto out_free;
	if (symtab && gelf_getshdr(symtab, &shdr)) {
		err = read_symtab(&b, elf, symtab, &shdr);
		if (err)
			goto out_free;
	} else {
		bool found;

		/* Stripped: a separate debug file, else MiniDebugInfo, for the local functions. */
		err = read_debug_symtab(&b, elf, path, &found);
		if (!err && !found)
			err = read_gnu_debugdata(&b, elf);
		if (err)
			goto out_free;
	}
	if (dynsym && gelf_getshdr(dynsym, &shdr)) {
		err = read_symtab(&b, elf, dynsym, &shdr);
		if (err)
			goto out_free;
	}
	err = build_index(e, &b);
out_free:
	free(b.raw);
	free(b.pool);
	free(b.sec_end);
	return err;
}

/*
 * Opens @path as an ELF file: a regular file (O_NONBLOCK, since a path from
 * a maps line could name a FIFO and open must not hang on it), read rather
 * than mmap'd (a binary rebuilt while we profile it would turn a mapped read
 * past its new end into SIGBUS). Returns the handle and its fd in @fd, or
 * NULL with -errno in @err (-ENOEXEC: not a regular ELF file).
 */
static Elf *elf_open_file(const char *path, int *fd, int *err)
{
	struct stat st;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		*err = -ENOSYS;
		return NULL;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0) {
		*err = -errno;
		return NULL;
	}
	if (fstat(*fd, &st)) {
		*err = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = -ENOEXEC;
		goto out_close;
	}
	elf = elf_begin(*fd, ELF_C_READ, NULL);
	if (!elf) {
		*err = -ENOEXEC;
		goto out_close;
	}
	if (elf_kind(elf) != ELF_K_ELF) {
		*err = -ENOEXEC;
		elf_end(elf);
		goto out_close;
	}
	return elf;

out_close:
	close(*fd);
	*fd = -1;
	return NULL;
}

struct elfsyms *elfsyms__open(const char *path)
{
	struct elfsyms *e;
	Elf *elf;
	int fd, err;

	elf = elf_open_file(path, &fd, &err);
	if (!elf) {
		errno = -err;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out_end;
	}
	err = index_elf(e, elf, path);
	if (err) {
		elfsyms__delete(e);
		goto out_end;
	}
	/* Everything we need is copied: the file and its mapping can go. */
	elf_end(elf);
	close(fd);
	return e;

out_end:
	elf_end(elf);
	close(fd);
	errno = -err;
	return NULL;
}

struct elfsyms *elfsyms__open_image(const void *image, size_t size)
{
	struct elfsyms *e = NULL;
	char *copy;
	Elf *elf;
	int err = -ENOEXEC;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	/* libelf takes a writable image: work on a copy. */
	copy = malloc(size);
	if (!copy)
		return NULL;
	memcpy(copy, image, size);
	elf = elf_memory(copy, size);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		e = calloc(1, sizeof(*e));
		err = e ? index_elf(e, elf, "") : -ENOMEM;
		if (err) {
			elfsyms__delete(e);
			e = NULL;
		}
	}
	if (elf)
		elf_end(elf);
	free(copy);
	if (!e)
		errno = -err;
	return e;
}

struct elfsyms *elfsyms__open_perfmap(const char *path)
{
	struct builder b = {0};
	struct elfsyms *e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e) {
		fclose(f);
		return NULL;
	}
	/* Offsets are the addresses themselves: one segment maps them 1:1. */
	e->segs = calloc(1, sizeof(*e->segs));
	if (!e->segs) {
		err = -ENOMEM;
		goto out;
	}
	e->segs[0].filesz = UINT64_MAX;
	e->nr_segs = 1;
	/* "START SIZE NAME", hexadecimal, one symbol a line; the name may hold spaces. */
	while ((n = getline(&line, &cap, f)) > 0) {
		unsigned long long start, size;
		int name_at = 0;
		size_t len;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (sscanf(line, "%llx %llx %n", &start, &size, &name_at) != 2 || !name_at ||
		    !line[name_at] || !size || start + size < start)
			continue;
		if (!name_ok(line + name_at, &len))
			continue;
		err = builder_add(&b, line + name_at, len, start, size, 0, 0);
		if (err)
			goto out;
	}
	err = build_index(e, &b);
out:
	free(line);
	fclose(f);
	free(b.raw);
	free(b.pool);
	if (err) {
		elfsyms__delete(e);
		errno = -err;
		return NULL;
	}
	return e;
}

void elfsyms__delete(struct elfsyms *e)
{
	if (!e)
		return;
	free(e->syms);
	free(e->segs);
	free(e->pool);
	free(e);
}

int elfsyms__offset_to_vaddr(const struct elfsyms *e, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < e->nr_segs; i++) {
		const struct load_seg *s = &e->segs[i];

		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = off - s->offset + s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const char *elfsyms__find_vaddr(const struct elfsyms *e, uint64_t vaddr, uint64_t *symoff)
{
	size_t lo = 0, hi = e->nr;

	if (!e->nr || vaddr < e->syms[0].start)
		return NULL;
	/* Last symbol starting at or below vaddr: syms[lo].start <= vaddr < syms[hi].start. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].start <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	if (vaddr >= e->syms[lo].end)
		return NULL;
	if (symoff)
		*symoff = vaddr - e->syms[lo].start;
	return e->pool + e->syms[lo].name;
}

const char *elfsyms__find_offset(const struct elfsyms *e, uint64_t off, uint64_t *symoff)
{
	uint64_t vaddr;

	if (elfsyms__offset_to_vaddr(e, off, &vaddr))
		return NULL;
	return elfsyms__find_vaddr(e, vaddr, symoff);
}

#ifndef VERSYM_HIDDEN
#define VERSYM_HIDDEN 0x8000
#endif

/* The best match so far of a lookup by name; a lower rank wins. */
struct name_match {
	uint64_t vaddr;
	int rank; /* INT_MAX: none yet */
	bool ifunc;
};

/*
 * How well symbol @sym named @symname matches @name: -1 for not at all. A
 * linked .symtab spells versions into the name ("memcpy@GLIBC_2.2.5",
 * "memcpy@@GLIBC_2.14"); .dynsym keeps bare names and marks the
 * non-default versions hidden in the parallel .gnu.version table.
 */
static int name_rank(const GElf_Sym *sym, const char *symname, const char *name, size_t len,
		     bool hidden)
{
	int type = GELF_ST_TYPE(sym->st_info);
	bool old_version = hidden;

	if (type != STT_FUNC && type != STT_GNU_IFUNC)
		return -1;
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx == SHN_ABS || !sym->st_value)
		return -1;
	if (strncmp(symname, name, len))
		return -1;
	if (symname[len] == '@')
		old_version |= symname[len + 1] != '@';
	else if (symname[len])
		return -1;
	return (old_version ? 3 : 0) + bind_rank(GELF_ST_BIND(sym->st_info));
}

static void match_name(Elf *elf, Elf_Scn *scn, Elf_Data *versym, const char *name,
		       struct name_match *best)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n, len = strlen(name);
	GElf_Shdr shdr;

	if (!data || !gelf_getshdr(scn, &shdr) || !shdr.sh_entsize)
		return;
	n = shdr.sh_size / shdr.sh_entsize;
	if (n > data->d_size / shdr.sh_entsize)
		n = data->d_size / shdr.sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Versym vs = 0;
		const char *symname;
		GElf_Sym sym;
		int rank;

		if (!gelf_getsym(data, i, &sym))
			continue;
		symname = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (!symname)
			continue;
		if (versym && !gelf_getversym(versym, i, &vs))
			vs = 0;
		rank = name_rank(&sym, symname, name, len, vs & VERSYM_HIDDEN);
		/* Equal ranks (two static functions of the same name): the first one stays. */
		if (rank < 0 || rank >= best->rank)
			continue;
		best->rank = rank;
		best->vaddr = sym.st_value;
		best->ifunc = GELF_ST_TYPE(sym.st_info) == STT_GNU_IFUNC;
	}
}

/* Virtual address to file offset: the inverse of elfsyms__offset_to_vaddr, from the headers. */
static int vaddr_to_offset(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t i, phnum;

	if (elf_getphdrnum(elf, &phnum))
		return -ENOEXEC;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_func(Elf *elf, const char *name, uint64_t *offset)
{
	struct name_match best = {.rank = INT_MAX};
	Elf_Scn *scn = NULL, *dynsym = NULL, *symtab = NULL;
	Elf_Data *versym = NULL;
	size_t dynsym_idx = 0;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr shdr;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		if (shdr.sh_type == SHT_SYMTAB && !symtab) {
			symtab = scn;
		} else if (shdr.sh_type == SHT_DYNSYM && !dynsym) {
			dynsym = scn;
			dynsym_idx = elf_ndxscn(scn);
		}
	}
	/* .gnu.version runs parallel to the .dynsym its sh_link names. */
	scn = NULL;
	while (dynsym && (scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr shdr;

		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_GNU_versym &&
		    shdr.sh_link == dynsym_idx) {
			versym = elf_getdata(scn, NULL);
			break;
		}
	}
	if (symtab)
		match_name(elf, symtab, NULL, name, &best);
	if (dynsym)
		match_name(elf, dynsym, versym, name, &best);
	if (best.rank == INT_MAX)
		return -ENOENT;
	if (best.ifunc)
		return -EOPNOTSUPP;
	return vaddr_to_offset(elf, best.vaddr, offset);
}

int elfsyms__func_offset(const char *path, const char *name, uint64_t *offset)
{
	Elf *elf;
	int fd, err;

	if (!name || !*name)
		return -EINVAL;
	elf = elf_open_file(path, &fd, &err);
	if (!elf)
		return err;
	err = find_func(elf, name, offset);
	elf_end(elf);
	close(fd);
	return err;
}

size_t elfsyms__nr(const struct elfsyms *e)
{
	return e ? e->nr : 0;
}

size_t elfsyms__bytes(const struct elfsyms *e)
{
	if (!e)
		return 0;
	return sizeof(*e) + e->nr * sizeof(*e->syms) + e->nr_segs * sizeof(*e->segs) + e->pool_len;
}

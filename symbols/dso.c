/* The table of mapped files: path interning, display names, and lazily opened ELF symbols. */
#include "dso.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "core/hash.h"
#include "core/log.h"
#include "dwarfinfo.h"
#include "elfsyms.h"
#include "u64map.h"

#define DELETED_SUFFIX " (deleted)"

enum dso_state {
	DSO_UNREAD,
	DSO_READ,
	DSO_UNREADABLE,
};

struct dso {
	char *path;
	char *short_name;
	uint32_t pid;
	uint64_t start, end; /* the first mapping that named it, for /proc/PID/map_files */
	uint32_t next_same_hash; /* chain of ids whose paths hash alike, 0 ends it */
	enum dso_state state;
	struct elfsyms *elf;
	enum dso_state dwarf_state;
	struct dwarfinfo *dwarf;
	uint8_t build_id_size; /* 0: none known */
	uint8_t build_id[DSOS_BUILD_ID_MAX];
};

struct dsos {
	struct dso *dsos; /* dsos[id - 1] */
	size_t nr, cap;
	struct u64map *by_hash; /* path hash -> first id with that hash */
	size_t names_bytes;
};

/* FNV-1a: short, and good enough since collisions are chained. */
static uint64_t path_hash(const char *s)
{
	return hash__str(s, strlen(s));
}

struct dsos *dsos__new(void)
{
	struct dsos *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->by_hash = u64map__new();
	if (!d->by_hash) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void dsos__delete(struct dsos *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nr; i++) {
		free(d->dsos[i].path);
		free(d->dsos[i].short_name);
		elfsyms__delete(d->dsos[i].elf);
		dwarfinfo__delete(d->dsos[i].dwarf);
	}
	free(d->dsos);
	u64map__delete(d->by_hash);
	free(d);
}

static bool has_deleted_suffix(const char *path, size_t len)
{
	size_t n = sizeof(DELETED_SUFFIX) - 1;

	return len > n && !memcmp(path + len - n, DELETED_SUFFIX, n);
}

static char *make_short_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len, i;
	char *name;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (has_deleted_suffix(base, len))
		len -= sizeof(DELETED_SUFFIX) - 1;
	/* "[vdso]" shows as "[vdso+0x9a0]", not "[[vdso]+0x9a0]". */
	if (len >= 2 && base[0] == '[' && base[len - 1] == ']') {
		base++;
		len -= 2;
	}
	if (!len) {
		base = "?";
		len = 1;
	}
	name = strndup(base, len);
	if (!name)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c < 0x20 || c == 0x7f)
			name[i] = '?';
	}
	return name;
}

static struct dso *dso_get(const struct dsos *d, uint32_t id)
{
	if (id == 0 || id > d->nr)
		return NULL;
	return &d->dsos[id - 1];
}

uint32_t dsos__intern(struct dsos *d, const char *path, uint32_t pid, uint64_t start,
		      uint64_t end)
{
	uint64_t h = path_hash(path), first = 0;
	struct dso *dso;
	uint32_t id;

	if (u64map__get(d->by_hash, h, &first)) {
		for (id = first; id; id = dso_get(d, id)->next_same_hash) {
			if (!strcmp(dso_get(d, id)->path, path))
				return id;
		}
	}
	if (d->nr >= DSOS_MAX_ID)
		return 0;
	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dso *p;

		if (cap > DSOS_MAX_ID)
			cap = DSOS_MAX_ID;
		p = realloc(d->dsos, cap * sizeof(*p));
		if (!p)
			return 0;
		d->dsos = p;
		d->cap = cap;
	}
	dso = &d->dsos[d->nr];
	memset(dso, 0, sizeof(*dso));
	dso->path = strdup(path);
	dso->short_name = make_short_name(path);
	if (!dso->path || !dso->short_name) {
		free(dso->path);
		free(dso->short_name);
		return 0;
	}
	id = d->nr + 1;
	/* New ids go at the head of their hash chain. */
	dso->next_same_hash = first;
	if (u64map__put(d->by_hash, h, id)) {
		free(dso->path);
		free(dso->short_name);
		return 0;
	}
	dso->pid = pid;
	dso->start = start;
	dso->end = end;
	dso->state = DSO_UNREAD;
	d->nr++;
	d->names_bytes += strlen(dso->path) + strlen(dso->short_name) + 2;
	return id;
}

const char *dsos__path(const struct dsos *d, uint32_t id)
{
	struct dso *dso = dso_get(d, id);

	return dso ? dso->path : NULL;
}

const char *dsos__short_name(const struct dsos *d, uint32_t id)
{
	struct dso *dso = dso_get(d, id);

	return dso ? dso->short_name : NULL;
}

/*
 * The vDSO's symbols, from this process's own copy: the kernel maps the same
 * image into every 64-bit process, and it is an ELF file with its section
 * headers at the end, so they give its size.
 */
const void *dsos__vdso_image(size_t *size)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    !eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum > 64)
		return NULL;
	*size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	return eh;
}

static struct elfsyms *open_vdso(void)
{
	size_t size;
	const void *image = dsos__vdso_image(&size);
	struct elfsyms *e;

	if (!image)
		return NULL;
	e = elfsyms__open_image(image, size);
	if (!e)
		pr_debug("syms: no symbols from this process's vDSO: %s", strerror(errno));
	return e;
}

/* "/tmp/perf-PID.map", where JIT compilers list the code they generate. */
static bool is_perf_map(const char *path)
{
	unsigned int pid;
	int end = 0;

	return sscanf(path, "/tmp/perf-%u.map%n", &pid, &end) == 1 && end &&
	       path[end] == '\0';
}

static struct elfsyms *open_elf(const struct dso *dso)
{
	char path[PATH_MAX], root_path[PATH_MAX + 32];
	size_t len = strlen(dso->path);
	struct elfsyms *e;
	int err;

	if (!strcmp(dso->path, "[vdso]"))
		return open_vdso();
	/* "[vsyscall]" and the like name no file. */
	if (dso->path[0] != '/' || len >= sizeof(path))
		return NULL;
	if (is_perf_map(dso->path))
		return elfsyms__open_perfmap(dso->path);
	memcpy(path, dso->path, len + 1);
	if (has_deleted_suffix(path, len)) {
		/*
		 * The kernel marks an unlinked file. While the process lives, the
		 * very file it maps is still reachable through map_files (root
		 * only); a file of the old name may be another one (a rebuild),
		 * so it is the second choice.
		 */
		path[len - (sizeof(DELETED_SUFFIX) - 1)] = '\0';
		if (dso->pid && dso->end > dso->start) {
			snprintf(root_path, sizeof(root_path), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64,
				 dso->pid, dso->start, dso->end);
			e = elfsyms__open(root_path);
			if (e)
				return e;
		}
	}
	e = elfsyms__open(path);
	if (e)
		return e;
	err = errno;
	/*
	 * A process in another mount namespace (a container) maps files we
	 * cannot see under that path; its root is reachable through /proc as
	 * long as it lives. Not-ELF is final: the other path is the same file.
	 */
	if (err != ENOEXEC && dso->pid) {
		snprintf(root_path, sizeof(root_path), "/proc/%u/root%s", dso->pid, path);
		e = elfsyms__open(root_path);
		if (e)
			return e;
		if (err == ENOENT)
			err = errno;
	}
	pr_debug("syms: no symbols from %s: %s", dso->path, strerror(err));
	return NULL;
}

const struct elfsyms *dsos__elf(struct dsos *d, uint32_t id)
{
	struct dso *dso = dso_get(d, id);

	if (!dso)
		return NULL;
	if (dso->state == DSO_UNREAD) {
		dso->elf = open_elf(dso);
		dso->state = dso->elf ? DSO_READ : DSO_UNREADABLE;
	}
	return dso->elf;
}

const struct dwarfinfo *dsos__dwarf(struct dsos *d, uint32_t id)
{
	struct dso *dso = dso_get(d, id);
	char path[PATH_MAX];
	size_t len;

	if (!dso)
		return NULL;
	if (dso->dwarf_state != DSO_UNREAD)
		return dso->dwarf;
	dso->dwarf_state = DSO_UNREADABLE;
	len = strlen(dso->path);
	/* Only files; a deleted one is read under its old name, if that is still it. */
	if (dso->path[0] != '/' || is_perf_map(dso->path) || len >= sizeof(path))
		return NULL;
	memcpy(path, dso->path, len + 1);
	if (has_deleted_suffix(path, len))
		path[len - (sizeof(DELETED_SUFFIX) - 1)] = '\0';
	dso->dwarf = dwarfinfo__open(path);
	if (dso->dwarf)
		dso->dwarf_state = DSO_READ;
	else
		pr_debug("syms: no DWARF for %s: %s", dso->path, strerror(errno));
	return dso->dwarf;
}

int dsos__set_build_id(struct dsos *d, uint32_t id, const uint8_t *build_id, size_t size)
{
	struct dso *dso = dso_get(d, id);

	if (!dso || !size || size > DSOS_BUILD_ID_MAX)
		return -EINVAL;
	if (dso->build_id_size == size && !memcmp(dso->build_id, build_id, size))
		return 0;
	memcpy(dso->build_id, build_id, size);
	dso->build_id_size = (uint8_t)size;
	return 1;
}

size_t dsos__build_id(const struct dsos *d, uint32_t id, char *hex, size_t size)
{
	struct dso *dso = dso_get(d, id);
	size_t n;

	if (!dso || !dso->build_id_size || size < 2 * (size_t)dso->build_id_size + 1)
		return 0;
	for (n = 0; n < dso->build_id_size; n++)
		snprintf(hex + 2 * n, 3, "%02x", dso->build_id[n]);
	return 2 * n;
}

size_t dsos__nr(const struct dsos *d)
{
	return d->nr;
}

size_t dsos__bytes(const struct dsos *d)
{
	size_t i, bytes = sizeof(*d) + d->cap * sizeof(*d->dsos) + d->names_bytes;

	bytes += u64map__bytes(d->by_hash);
	for (i = 0; i < d->nr; i++)
		bytes += elfsyms__bytes(d->dsos[i].elf);
	return bytes;
}

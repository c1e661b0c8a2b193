/* Separate debug information: found by build-id or .gnu_debuglink, as distributions ship it. */
#include "debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

const char *debuginfo__dirs(void)
{
	const char *env = getenv("STACKPROF_DEBUG_DIRS");

	return env && *env ? env : "/usr/lib/debug";
}

size_t debuginfo__build_id(Elf *elf, char *out, size_t size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr shdr;
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
			size_t k = 0;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) || !nh.n_descsz ||
			    2 * nh.n_descsz + 1 > size)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				k += (size_t)snprintf(out + k, size - k, "%02x", d[i]);
			return k;
		}
	}
	return 0;
}

Elf_Scn *debuginfo__section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *n;

		if (gelf_getshdr(scn, shdr) && (n = elf_strptr(elf, shstrndx, shdr->sh_name)) &&
		    !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* The .gnu_debuglink section: the debug file's name and its CRC32. */
static const char *debuglink(Elf *elf, uint32_t *crc)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = debuginfo__section(elf, ".gnu_debuglink", &shdr);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	size_t len;

	if (!data || !data->d_buf || data->d_size < 8)
		return NULL;
	len = strnlen(data->d_buf, data->d_size);
	/* The name, NUL, padding to 4 bytes, then the CRC (in the file's byte order). */
	if (!len || (len + 4) / 4 * 4 + 4 > data->d_size)
		return NULL;
	memcpy(crc, (const char *)data->d_buf + (len + 4) / 4 * 4, 4);
	return data->d_buf;
}

static int file_crc(const char *path, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, NULL, 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		c = crc32(c, buf, (uInt)n);
	close(fd);
	if (n < 0)
		return -EIO;
	*crc = (uint32_t)c;
	return 0;
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Calls @try with each debug directory in turn until it returns true. */
static bool each_dir(bool (*try)(const char *dir, size_t len, void *arg), void *arg)
{
	const char *d = debuginfo__dirs();

	while (*d) {
		size_t len = strcspn(d, ":");

		if (len && try(d, len, arg))
			return true;
		d += len;
		if (*d == ':')
			d++;
	}
	return false;
}

struct lookup {
	char *out;
	size_t size;
	const char *id;	  /* build-id hex */
	const char *dir;  /* the binary's directory */
	const char *link; /* debuglink name */
	uint32_t crc;
};

static bool try_build_id(const char *dir, size_t len, void *arg)
{
	struct lookup *l = arg;
	int n = snprintf(l->out, l->size, "%.*s/.build-id/%.2s/%s.debug", (int)len, dir, l->id,
			 l->id + 2);

	return n > 0 && (size_t)n < l->size && readable(l->out);
}

static bool link_ok(struct lookup *l, int n)
{
	uint32_t crc;

	return n > 0 && (size_t)n < l->size && readable(l->out) && !file_crc(l->out, &crc) &&
	       crc == l->crc;
}

static bool try_link(const char *dir, size_t len, void *arg)
{
	struct lookup *l = arg;

	return link_ok(l, snprintf(l->out, l->size, "%.*s%s/%s", (int)len, dir, l->dir, l->link));
}

int debuginfo__find(Elf *elf, const char *path, char *out, size_t size)
{
	char id[128], dir[4096];
	struct lookup l = { .out = out, .size = size, .id = id };
	const char *slash;

	if (debuginfo__build_id(elf, id, sizeof(id)) > 2 && each_dir(try_build_id, &l))
		return 0;
	l.link = debuglink(elf, &l.crc);
	slash = strrchr(path, '/');
	if (!l.link || !slash || (size_t)(slash - path) >= sizeof(dir))
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	l.dir = dir;
	/* Beside the binary, unless the link names the binary itself (then its CRC differs). */
	if (link_ok(&l, snprintf(out, size, "%s/%s", dir, l.link)) && strcmp(out, path))
		return 0;
	if (link_ok(&l, snprintf(out, size, "%s/.debug/%s", dir, l.link)))
		return 0;
	return each_dir(try_link, &l) ? 0 : -ENOENT;
}

/*
 * ELF symbols: builds one small C file with gcc as a PIE, a non-PIE and a
 * shared library, runs each so it prints its own function addresses and
 * /proc/self/maps, and checks that the file offsets the kernel mapped them
 * at resolve to the right names. nm's view of the same files checks the
 * vaddr side independently. Then stripped, truncated, corrupted and non-ELF
 * files must fail cleanly.
 */
#include "symbols/elfsyms.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char dir[512];

static const char funcs_src[] =
    "#include <stdio.h>\n"
    "#define NOINLINE __attribute__((noinline, used))\n"
    "NOINLINE int target_fn(int x) { return x * 3 + 1; }\n"
    /* weak and shorter: the global name must still win */
    "int wk(int) __attribute__((weak, alias(\"target_fn\")));\n"
    "NOINLINE int zeta_fn(int x) { return x * 7 - 2; }\n"
    /* same binding, same length: alphabetical order decides */
    "int beta_fn(int) __attribute__((alias(\"zeta_fn\")));\n"
    "NOINLINE static int local_fn(int x) { return x ^ 0x55; }\n"
    "NOINLINE int big_fn(int x) { volatile int a[64]; int s = 0;\n"
    "  for (int i = 0; i < 64; i++) a[i] = x + i;\n"
    "  for (int i = 0; i < 64; i++) s += a[i];\n"
    "  return s + local_fn(x); }\n"
    /* assembly without .size: must extend to the next symbol */
    "__asm__(\".text\\n.globl asm_nosize\\n.type asm_nosize,@function\\n\"\n"
    "        \"asm_nosize:\\n nop\\n nop\\n nop\\n nop\\n nop\\n nop\\n ret\\n\"\n"
    "        \".globl asm_after\\n.type asm_after,@function\\n\"\n"
    "        \"asm_after:\\n ret\\n.size asm_after, 1\\n\");\n"
    "void asm_nosize(void); void asm_after(void);\n"
    "void report(void) {\n"
    "  printf(\"sym target_fn %p\\n\", (void *)target_fn);\n"
    "  printf(\"sym zeta_fn %p\\n\", (void *)zeta_fn);\n"
    "  printf(\"sym local_fn %p\\n\", (void *)local_fn);\n"
    "  printf(\"sym big_fn %p\\n\", (void *)big_fn);\n"
    "  printf(\"sym asm_nosize %p\\n\", (void *)asm_nosize);\n"
    "  printf(\"sym asm_after %p\\n\", (void *)asm_after);\n"
    "}\n";

static const char main_src[] =
    "#include <stdio.h>\n"
    "void report(void);\n"
    "int main(void) {\n"
    "  char line[4096]; FILE *f = fopen(\"/proc/self/maps\", \"r\");\n"
    "  printf(\"sym main %p\\n\", (void *)main);\n"
    "  report();\n"
    "  while (f && fgets(line, sizeof(line), f)) printf(\"map %s\", line);\n"
    "  return 0;\n"
    "}\n";

/* What a function is called in the symbol table, given what the program printed. */
static const char *expected_name(const char *printed)
{
	if (!strcmp(printed, "zeta_fn"))
		return "beta_fn";
	return printed;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static int run(const char *fmt, const char *a, const char *b)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

struct fn {
	char name[64];
	uint64_t addr; /* as printed by the program */
	uint64_t off;  /* file offset, from the mapping that holds addr */
	bool mapped;
};

#define MAX_FNS 16

/*
 * Runs @prog and turns each printed address into a file offset of @file
 * using the mapping the kernel made (start, pgoff): independent of the
 * program headers the library under test reads.
 */
static size_t collect(const char *prog, const char *file, struct fn *fns)
{
	char line[4096], path[4096], cmd[4096], perms[8];
	unsigned long long start, end, pgoff, addr;
	size_t nr = 0, i;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s", prog);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		char name[64];

		if (nr < MAX_FNS && sscanf(line, "sym %63s %llx", name, &addr) == 2) {
			snprintf(fns[nr].name, sizeof(fns[nr].name), "%s", name);
			fns[nr].addr = addr;
			fns[nr].mapped = false;
			nr++;
			continue;
		}
		if (sscanf(line, "map %llx-%llx %7s %llx %*s %*s %4095s", &start, &end, perms,
			   &pgoff, path) != 5)
			continue;
		if (strcmp(path, file))
			continue;
		for (i = 0; i < nr; i++) {
			if (fns[i].addr >= start && fns[i].addr < end) {
				fns[i].off = fns[i].addr - start + pgoff;
				fns[i].mapped = true;
			}
		}
	}
	pclose(p);
	return nr;
}

/* ELF vaddr of @name according to nm, the second, independent opinion. */
static bool nm_vaddr(const char *file, const char *name, uint64_t *vaddr)
{
	char cmd[4096], line[512], sym[256], type;
	unsigned long long v;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s' 2>/dev/null", file);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%llx %c %255s", &v, &type, sym) == 3 && !strcmp(sym, name)) {
			*vaddr = v;
			found = true;
		}
	}
	pclose(p);
	return found;
}

static void check_binary(const char *what, const char *prog, const char *file, bool has_main)
{
	struct fn fns[MAX_FNS];
	struct elfsyms *e;
	size_t nr, i;
	bool saw_main = false;

	nr = collect(prog, file, fns);
	CHECK(nr >= 6);
	e = elfsyms__open(file);
	CHECK(e != NULL);
	if (!e) {
		fprintf(stderr, "%s: cannot open %s: %s\n", what, file, strerror(errno));
		return;
	}
	CHECK(elfsyms__nr(e) >= 6);
	for (i = 0; i < nr; i++) {
		const char *want = expected_name(fns[i].name);
		uint64_t symoff = 99, vaddr = 0, nm_addr;
		const char *got;

		if (!strcmp(fns[i].name, "main")) {
			saw_main = true;
			if (!has_main)
				continue; /* the driver's main, not in the library */
		}
		if (!fns[i].mapped) {
			fprintf(stderr, "%s: %s at %#" PRIx64 " not in a mapping of %s\n", what,
				fns[i].name, fns[i].addr, file);
			CHECK(fns[i].mapped);
			continue;
		}
		got = elfsyms__find_offset(e, fns[i].off, &symoff);
		if (!got || strcmp(got, want))
			fprintf(stderr, "%s: offset %#" PRIx64 " of %s\n", what, fns[i].off,
				fns[i].name);
		CHECK_STR(got, want);
		CHECK_EQ_U64(symoff, 0);
		/* One byte in: still the same function (asm_after is a single byte). */
		if (strcmp(fns[i].name, "asm_after")) {
			CHECK_STR(elfsyms__find_offset(e, fns[i].off + 1, &symoff), want);
			CHECK_EQ_U64(symoff, 1);
		}

		/* nm gives the vaddr; the program-header math must agree with the kernel's mapping.
		 */
		CHECK(elfsyms__offset_to_vaddr(e, fns[i].off, &vaddr) == 0);
		if (nm_vaddr(file, fns[i].name, &nm_addr)) {
			CHECK_EQ_U64(vaddr, nm_addr);
			CHECK_STR(elfsyms__find_vaddr(e, nm_addr, NULL), want);
		} else {
			fprintf(stderr, "%s: nm does not list %s\n", what, fns[i].name);
			CHECK(0);
		}
		/* The size-0 assembly symbol reaches its last instruction (6 nops, then ret). */
		if (!strcmp(fns[i].name, "asm_nosize"))
			CHECK_STR(elfsyms__find_offset(e, fns[i].off + 6, NULL), "asm_nosize");
		/* asm_after is one byte long: the next byte is not it. */
		if (!strcmp(fns[i].name, "asm_after")) {
			got = elfsyms__find_offset(e, fns[i].off + 1, NULL);
			CHECK(!got || strcmp(got, "asm_after"));
		}
	}
	CHECK(saw_main);
	/* Far outside every segment. */
	CHECK(elfsyms__find_offset(e, 1ULL << 40, NULL) == NULL);
	CHECK(elfsyms__find_vaddr(e, 0, NULL) == NULL);
	CHECK(elfsyms__bytes(e) > 0);
	elfsyms__delete(e);
	printf("%s: %zu functions checked\n", what, nr);
}

/* Only .dynsym survives strip: exported names still resolve, the static one does not. */
static void check_stripped(const char *prog, const char *lib, const char *stripped)
{
	struct fn fns[MAX_FNS];
	struct elfsyms *e;
	size_t nr, i;

	CHECK(run("strip -o '%s' '%s'", stripped, lib) == 0);
	nr = collect(prog, lib, fns);
	e = elfsyms__open(stripped);
	CHECK(e != NULL);
	if (!e)
		return;
	for (i = 0; i < nr; i++) {
		const char *got = elfsyms__find_offset(e, fns[i].off, NULL);

		if (!fns[i].mapped)
			continue;
		if (!strcmp(fns[i].name, "local_fn") || !strncmp(fns[i].name, "asm_", 4))
			continue; /* not exported (asm_* are, but strip may keep them: no claim) */
		CHECK_STR(got, expected_name(fns[i].name));
	}
	for (i = 0; i < nr; i++) {
		const char *got;

		if (strcmp(fns[i].name, "local_fn") || !fns[i].mapped)
			continue;
		got = elfsyms__find_offset(e, fns[i].off, NULL);
		CHECK(!got || strcmp(got, "local_fn"));
	}
	elfsyms__delete(e);
}

/* The names of @lib's functions, local ones included, resolve in @stripped. */
static void check_all_names(const char *prog, const char *lib, const char *stripped, bool want)
{
	struct fn fns[MAX_FNS];
	struct elfsyms *e = elfsyms__open(stripped);
	size_t nr = collect(prog, lib, fns), n = 0;

	CHECK(e != NULL);
	if (!e)
		return;
	for (size_t i = 0; i < nr; i++) {
		const char *got;

		if (strcmp(fns[i].name, "local_fn") || !fns[i].mapped)
			continue;
		got = elfsyms__find_offset(e, fns[i].off, NULL);
		if (want)
			CHECK_STR(got, "local_fn");
		else
			CHECK(!got || strcmp(got, "local_fn"));
		n++;
	}
	CHECK(n == 1);
	elfsyms__delete(e);
}

/*
 * Separate debug information: a stripped library whose .symtab went to a
 * build-id directory, or to a file named by .gnu_debuglink beside it, names
 * its local functions again; a debuglink whose CRC does not match is ignored.
 */
static void check_debuginfo(const char *prog, const char *lib)
{
	char dbg[600], cmd[4096], id[128] = "", path[1024];
	FILE *f;

	snprintf(dbg, sizeof(dbg), "%s/debug", dir);
	snprintf(cmd, sizeof(cmd),
		 "readelf -n '%s' | sed -n 's/.*Build ID: *\\([0-9a-f]*\\).*/\\1/p'", lib);
	f = popen(cmd, "r");
	CHECK(f && fgets(id, sizeof(id), f));
	if (f)
		pclose(f);
	id[strcspn(id, "\n")] = '\0';
	CHECK(strlen(id) > 8);
	setenv("STACKPROF_DEBUG_DIRS", dbg, 1);

	/* By build-id. */
	snprintf(path, sizeof(path), "%s/.build-id/%.2s", dbg, id);
	CHECK(run("mkdir -p '%s'%s", path, "") == 0);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", dbg, id, id + 2);
	CHECK(run("objcopy --only-keep-debug '%s' '%s'", lib, path) == 0);
	snprintf(cmd, sizeof(cmd), "%s/by_id.so", dir);
	CHECK(run("strip -o '%s' '%s'", cmd, lib) == 0);
	check_all_names(prog, lib, cmd, true);
	CHECK(run("rm -rf '%s'%s", dbg, "") == 0);
	check_all_names(prog, lib, cmd, false);

	/* By debuglink, beside the binary and in its .debug directory. */
	snprintf(path, sizeof(path), "%s/libfuncs.so.dbg", dir);
	CHECK(run("objcopy --only-keep-debug '%s' '%s'", lib, path) == 0);
	snprintf(cmd, sizeof(cmd), "%s/by_link.so", dir);
	CHECK(run("strip --remove-section=.note.gnu.build-id -o '%s' '%s'", cmd, lib) == 0);
	CHECK(run("cd '%s' && objcopy --add-gnu-debuglink=libfuncs.so.dbg by_link.so%s", dir,
		  "") == 0);
	check_all_names(prog, lib, cmd, true);
	CHECK(run("mkdir -p '%s/.debug'%s", dir, "") == 0);
	CHECK(run("mv '%s/libfuncs.so.dbg' '%s/.debug/'", dir, dir) == 0);
	check_all_names(prog, lib, cmd, true);
	/* Another file under the link's name: its CRC differs. */
	CHECK(run("cp '%s' '%s/.debug/libfuncs.so.dbg'", lib, dir) == 0);
	check_all_names(prog, lib, cmd, false);
	unsetenv("STACKPROF_DEBUG_DIRS");
}

/* The vDSO, read from memory, names its functions at their own addresses. */
static void check_vdso(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	void *fn = NULL;
	struct elfsyms *e;
	const char *got;
	uint64_t off = 0;
	void *h;

	if (!eh) {
		printf("vdso: none in this process, not checked\n");
		return;
	}
	e = elfsyms__open_image(eh, eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize);
	CHECK(e != NULL);
	h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (h)
		fn = dlsym(h, "__vdso_clock_gettime");
	CHECK(fn != NULL);
	if (e && fn) {
		got = elfsyms__find_vaddr(e, (uint64_t)((char *)fn - (char *)eh) + 1, &off);
		CHECK_STR(got, "__vdso_clock_gettime");
		CHECK(off == 1);
	}
	if (h)
		dlclose(h);
	elfsyms__delete(e);
	CHECK(elfsyms__open_image("not an ELF file", 15) == NULL && errno == ENOEXEC);
}

static void check_bad_files(const char *good)
{
	char path[1024], cmd[4096];
	struct elfsyms *e;
	unsigned int seed = 12345;
	struct stat st;
	int i;

	errno = 0;
	CHECK(elfsyms__open("/nonexistent/file") == NULL);
	CHECK(errno == ENOENT);

	snprintf(path, sizeof(path), "%s/text.txt", dir);
	write_file(path, "just some text, not an ELF file\n");
	errno = 0;
	CHECK(elfsyms__open(path) == NULL);
	CHECK(errno == ENOEXEC);

	errno = 0;
	CHECK(elfsyms__open(dir) == NULL);
	CHECK(errno == ENOEXEC);

	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "");
	CHECK(elfsyms__open(path) == NULL);

	/* Truncated copies: whatever libelf makes of them, no crash and no garbage. */
	if (stat(good, &st))
		return;
	for (i = 1; i <= 8; i++) {
		snprintf(path, sizeof(path), "%s/trunc%d", dir, i);
		snprintf(cmd, sizeof(cmd), "head -c %lld '%s' > '%s'",
			 (long long)st.st_size * i / 9, good, path);
		CHECK(system(cmd) == 0);
		e = elfsyms__open(path);
		if (e) {
			elfsyms__find_offset(e, 0x1000, NULL);
			elfsyms__find_vaddr(e, 0x1100, NULL);
			elfsyms__delete(e);
		}
	}

	/* Random bytes overwritten: still no crash. */
	for (i = 0; i < 40; i++) {
		FILE *f;
		int j;

		snprintf(path, sizeof(path), "%s/corrupt", dir);
		CHECK(run("cp '%s' '%s'", good, path) == 0);
		f = fopen(path, "r+");
		if (!f)
			continue;
		for (j = 0; j < 16; j++) {
			seed = seed * 1103515245 + 12345;
			/* Mostly the headers, where damage matters most. */
			fseek(f, j < 8 ? (seed >> 8) % 256 : (long)((seed >> 4) % st.st_size),
			      SEEK_SET);
			fputc((seed >> 16) & 0xff, f);
		}
		fclose(f);
		e = elfsyms__open(path);
		if (e) {
			size_t k;

			for (k = 0; k < 64; k++) {
				const char *n = elfsyms__find_offset(e, k * 0x100, NULL);

				if (n)
					CHECK(strlen(n) > 0);
			}
			elfsyms__delete(e);
		}
	}
}

static bool make_dir(void)
{
	const char *base = getenv("STACKPROF_TEST_TMP");

	snprintf(dir, sizeof(dir), "%s/elfsyms.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(dir) != NULL;
}

int main(void)
{
	char funcs[1024], mainc[1024], pie[1024], nopie[1024], lib[1024], libprog[1024];
	char stripped[1024];

	CHECK(make_dir());
	snprintf(funcs, sizeof(funcs), "%s/funcs.c", dir);
	snprintf(mainc, sizeof(mainc), "%s/main.c", dir);
	snprintf(pie, sizeof(pie), "%s/prog_pie", dir);
	snprintf(nopie, sizeof(nopie), "%s/prog_nopie", dir);
	snprintf(lib, sizeof(lib), "%s/libfuncs.so", dir);
	snprintf(libprog, sizeof(libprog), "%s/prog_lib", dir);
	snprintf(stripped, sizeof(stripped), "%s/libfuncs_stripped.so", dir);
	CHECK(write_file(funcs, funcs_src) == 0);
	CHECK(write_file(mainc, main_src) == 0);

	{
		char cmd[4096];

		snprintf(cmd, sizeof(cmd), "gcc -O1 -fno-inline -fPIE -pie -o '%s' '%s' '%s'", pie,
			 mainc, funcs);
		CHECK(system(cmd) == 0);
		snprintf(cmd, sizeof(cmd), "gcc -O1 -fno-inline -fno-pie -no-pie -o '%s' '%s' '%s'",
			 nopie, mainc, funcs);
		CHECK(system(cmd) == 0);
		snprintf(cmd, sizeof(cmd), "gcc -O1 -fno-inline -shared -fPIC -o '%s' '%s'", lib,
			 funcs);
		CHECK(system(cmd) == 0);
		snprintf(cmd, sizeof(cmd), "gcc -O1 -o '%s' '%s' -L'%s' -lfuncs -Wl,-rpath,'%s'",
			 libprog, mainc, dir, dir);
		CHECK(system(cmd) == 0);
	}

	check_binary("pie", pie, pie, true);
	check_binary("no-pie", nopie, nopie, true);
	check_binary("shared", libprog, lib, false);
	check_stripped(libprog, lib, stripped);
	check_debuginfo(libprog, lib);
	check_vdso();
	check_bad_files(pie);

	run("rm -rf '%s'%s", dir, "");
	CHECK_DONE();
}

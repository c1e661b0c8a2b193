/*
 * Emitters: exact folded lines and table rows from a known stack table, named
 * through a real symbolizer (a kallsyms fixture and a small ELF built here),
 * plus atomic file writing and its failure paths.
 */
#define _GNU_SOURCE /* open_memstream, mkdtemp */
#include "core/emit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/stack_table.h"
#include "symbols/syms.h"

#define KBASE 0xffffffff81000000ULL
#define FN_A (KBASE + 0x10)
#define FN_B (KBASE + 0x110)
#define BAD (KBASE + 0x308)

/* A pid no process can have: the model learns it only from syms__mmap(). */
#define FAKE_PID 0x7ffffff0u
#define MAP_START 0x7f1234500000ULL

static char dir[4096];

/* Runs an emitter into memory and returns the text (caller frees). */
static char *run(int (*fn)(FILE *, const struct stack_table *, struct syms *,
			   const struct emit_opts *),
		 const struct stack_table *t, struct syms *s, const struct emit_opts *o, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	*err = fn(f, t, s, o);
	fclose(f);
	return buf;
}

static int file_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static int nr_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Without a symbolizer frames print as hex, which pins down order and layout. */
static void test_raw(void)
{
	struct stack_table *t = stack_table__new(2, 0);
	struct emit_opts o = {.val_idx = 0};
	const uint64_t k[] = {0xa1, 0xa2}, u[] = {0xb1, 0xb2, 0xb3};
	char *s;
	int err;

	stack_table__add(t, 1, 0, "p", k, 2, u, 3, (uint64_t[]){3, 1});
	stack_table__add(t, 1, 0, "p", NULL, 0, u, 2, (uint64_t[]){9, 0});
	stack_table__add(t, 1, 0, "p", k, 1, NULL, 0, (uint64_t[]){0, 5});
	s = run(emit__folded, t, NULL, &o, &err);
	CHECK_EQ_U64(err, 0);
	CHECK_STR(s, "p;0xb2;0xb1 9\n"
		     "p;0xb3;0xb2;0xb1;0xa2;0xa1 3\n");
	free(s);

	o.val_idx = 1;
	s = run(emit__folded, t, NULL, &o, &err);
	CHECK_STR(s, "p;0xa1 5\n"
		     "p;0xb3;0xb2;0xb1;0xa2;0xa1 1\n");
	free(s);

	/* A counter the table does not have. */
	o.val_idx = 2;
	s = run(emit__folded, t, NULL, &o, &err);
	CHECK_EQ_U64(err, -EINVAL);
	free(s);
	s = run(emit__table, t, NULL, &o, &err);
	CHECK_EQ_U64(err, -EINVAL);
	free(s);

	/* Empty table: no folded lines, one table line. */
	stack_table__reset(t);
	o.val_idx = 0;
	s = run(emit__folded, t, NULL, &o, &err);
	CHECK_EQ_U64(err, 0);
	CHECK_STR(s, "");
	free(s);
	s = run(emit__table, t, NULL, &o, &err);
	CHECK_EQ_U64(err, 0);
	CHECK_STR(s, "no stacks were recorded\n");
	free(s);
	stack_table__delete(t);
}

static int write_kallsyms(char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/kallsyms", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs("ffffffff81000000 T fn_a\n"
	      "ffffffff81000100 T fn_b\n"
	      "ffffffff81000200 t fn_c\n"
	      "ffffffff81000300 t bad;name\n"
	      "ffffffff81000400 T fn_end\n",
	      f);
	return fclose(f) ? -errno : 0;
}

/* File offsets of fix_leaf/fix_mid/fix_root in a shared object built here. */
struct fixture {
	char path[4200];
	uint64_t leaf, mid, root;
};

static int build_elf(struct fixture *fx)
{
	char src[4200], cmd[9000], line[512];
	FILE *f;

	snprintf(src, sizeof(src), "%s/fix.c", dir);
	snprintf(fx->path, sizeof(fx->path), "%s/libfix.so", dir);
	f = fopen(src, "w");
	if (!f)
		return -1;
	fputs("int fix_leaf(int x) { return x * 3 + 1; }\n"
	      "int fix_mid(int x) { return fix_leaf(x) + 2; }\n"
	      "int fix_root(int x) { return fix_mid(x) + 5; }\n",
	      f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gcc -O0 -shared -fPIC -o '%s' '%s'", fx->path, src);
	if (system(cmd))
		return -1;
	/*
	 * In a shared object built by ld every PT_LOAD has p_offset == p_vaddr,
	 * so symbol values are file offsets as well.
	 */
	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s'", fx->path);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char type, name[256];

		if (sscanf(line, "%llx %c %255s", &v, &type, name) != 3)
			continue;
		if (!strcmp(name, "fix_leaf"))
			fx->leaf = v;
		else if (!strcmp(name, "fix_mid"))
			fx->mid = v;
		else if (!strcmp(name, "fix_root"))
			fx->root = v;
	}
	pclose(f);
	return fx->leaf && fx->mid && fx->root ? 0 : -1;
}

static void test_named(void)
{
	struct emit_opts o = {.val_idx = 0};
	struct stack_table *t = stack_table__new(2, 0);
	char kpath[4200], path[4300], link[4300], buf[4096], name[64], *s;
	uint64_t leaf, mid, root, unk = 0x1234; /* dso 0: not file-backed */
	const char *folded = "app;fix_root;fix_mid 7\n"
			     "app;fix_root;fix_mid;fix_leaf;fn_a;fn_b 5\n"
			     "a;fn_b;fn_a 4\n"
			     "b;bad_name 4\n"
			     "x_y z_w;fn_a 3\n"
			     "idle 2\n"
			     "app;[unknown] 1\n";
	struct fixture fx = {0};
	struct syms *sy;
	struct stat st;
	int err, before;
	FILE *f;

	CHECK_EQ_U64(write_kallsyms(kpath, sizeof(kpath)), 0);
	CHECK_EQ_U64(build_elf(&fx), 0);
	sy = syms__new(kpath);
	CHECK(sy);
	if (!sy || !t)
		return;
	syms__mmap(sy, FAKE_PID, MAP_START, 0x100000, 0, fx.path);
	/* +4: inside the function even after the one-byte step back for callers. */
	leaf = syms__encode_user(sy, FAKE_PID, MAP_START + fx.leaf + 4);
	mid = syms__encode_user(sy, FAKE_PID, MAP_START + fx.mid + 4);
	root = syms__encode_user(sy, FAKE_PID, MAP_START + fx.root + 4);
	CHECK(SYMS_LOC_DSO(leaf) != 0);

	CHECK_STR(emit__frame_name(sy, true, FN_A, true, false, name, sizeof(name)), "fn_a");
	CHECK_STR(emit__frame_name(sy, true, FN_B, false, true, name, sizeof(name)), "fn_b_[k]");
	CHECK_STR(emit__frame_name(sy, true, BAD, true, false, name, sizeof(name)), "bad_name");
	CHECK_STR(emit__frame_name(sy, false, mid, true, false, name, sizeof(name)), "fix_mid");
	CHECK_STR(emit__frame_name(sy, false, root, false, true, name, sizeof(name)), "fix_root");
	CHECK_STR(emit__frame_name(sy, false, unk, true, false, name, sizeof(name)), "[unknown]");
	/* A short buffer cuts the name but keeps the kernel suffix. */
	CHECK_STR(emit__frame_name(sy, true, FN_A, true, true, name, 7), "fn_[k]");

	stack_table__add(t, 10, 0, "app", NULL, 0, (uint64_t[]){mid, root}, 2, (uint64_t[]){7, 70});
	stack_table__add(t, 10, 0, "app", (uint64_t[]){FN_B, FN_A}, 2, (uint64_t[]){leaf, mid, root},
			 3, (uint64_t[]){5, 50});
	stack_table__add(t, 11, 0, "b", (uint64_t[]){BAD}, 1, NULL, 0, (uint64_t[]){4, 2});
	stack_table__add(t, 12, 0, "a", (uint64_t[]){FN_A, FN_B}, 2, NULL, 0, (uint64_t[]){4, 1});
	stack_table__add(t, 13, 0, "x;y z\nw", (uint64_t[]){FN_A}, 1, NULL, 0, (uint64_t[]){3, 3});
	stack_table__add(t, 14, 0, "idle", NULL, 0, NULL, 0, (uint64_t[]){2, 0});
	stack_table__add(t, 10, 0, "app", NULL, 0, &unk, 1, (uint64_t[]){1, 9});
	stack_table__add(t, 10, 0, "app", NULL, 0, &root, 1, (uint64_t[]){0, 100});

	s = run(emit__folded, t, sy, &o, &err);
	CHECK_EQ_U64(err, 0);
	CHECK_STR(s, folded);
	free(s);

	o.annotate = true;
	s = run(emit__folded, t, sy, &o, &err);
	CHECK_STR(s, "app;fix_root;fix_mid 7\n"
		     "app;fix_root;fix_mid;fix_leaf;fn_a_[k];fn_b_[k] 5\n"
		     "a;fn_b_[k];fn_a_[k] 4\n"
		     "b;bad_name_[k] 4\n"
		     "x_y z_w;fn_a_[k] 3\n"
		     "idle 2\n"
		     "app;[unknown] 1\n");
	free(s);
	o.annotate = false;

	/* Rounded to nearest, halves up; lines that become 0 disappear. */
	o.divisor = 4;
	s = run(emit__folded, t, sy, &o, &err);
	CHECK_STR(s, "app;fix_root;fix_mid 2\n"
		     "app;fix_root;fix_mid;fix_leaf;fn_a;fn_b 1\n"
		     "a;fn_b;fn_a 1\n"
		     "b;bad_name 1\n"
		     "x_y z_w;fn_a 1\n"
		     "idle 1\n");
	free(s);
	o.divisor = 1;

	/* The other counter: the entry at 0 for counter 0 shows up, "idle" goes. */
	o.val_idx = 1;
	s = run(emit__folded, t, sy, &o, &err);
	CHECK_STR(s, "app;fix_root 100\n"
		     "app;fix_root;fix_mid 70\n"
		     "app;fix_root;fix_mid;fix_leaf;fn_a;fn_b 50\n"
		     "app;[unknown] 9\n"
		     "x_y z_w;fn_a 3\n"
		     "b;bad_name 2\n"
		     "a;fn_b;fn_a 1\n");
	free(s);
	o.val_idx = 0;

	/* Table: top 3 of 7 stacks, total 26. */
	o.unit = "SAMPLES";
	o.top = 3;
	s = run(emit__table, t, sy, &o, &err);
	CHECK_EQ_U64(err, 0);
	CHECK_STR(
	    s,
	    "   SAMPLES       % COMM            STACK\n"
	    "         7  26.92% app             fix_mid <- fix_root\n"
	    "         5  19.23% app             fn_b <- fn_a <- fix_leaf <- fix_mid <- fix_root\n"
	    "         4  15.38% a               fn_a <- fn_b\n"
	    "... 4 more stacks (38.46% of total)\n");
	free(s);

	/* All rows, an extra column, a divisor, cut to 53 columns. */
	o.top = 0;
	o.unit = "TIME(ms)";
	o.extra[0] = (struct emit_column){ 1, "COUNT" };
	o.divisor = 2;
	o.width = 53;
	s = run(emit__table, t, sy, &o, &err);
	/* A row at 0 in the first column still shows when another column is not. */
	CHECK_STR(s, "  TIME(ms)      COUNT       % COMM            STACK\n"
		     "         4         70  26.92% app             fix_...\n"
		     "         3         50  19.23% app             fn_b...\n"
		     "         2          1  15.38% a               fn_a...\n"
		     "         2          2  15.38% b               bad_...\n"
		     "         2          3  11.54% x_y z_w         fn_a\n"
		     "         1          0   7.69% idle            [no ...\n"
		     "         1          9   3.85% app             [unk...\n"
		     "         0        100   0.00% app             fix_...\n");
	free(s);

	/* Several extra columns, in the order given; one past the table's counters ends the list. */
	o.extra[1] = (struct emit_column){ 0, "RAW" };
	o.extra[2] = (struct emit_column){ 7, "NONE" };
	o.divisor = 1;
	o.width = 0;
	o.top = 1;
	s = run(emit__table, t, sy, &o, &err);
	CHECK_STR(s, "  TIME(ms)      COUNT        RAW       % COMM            STACK\n"
		     "         7         70          7  26.92% app             fix_mid <- fix_root\n"
		     "... 7 more stacks (73.08% of total)\n");
	free(s);
	o = (struct emit_opts){.val_idx = 0};

	/* Atomic file: replaces an older file completely and leaves no temporary. */
	snprintf(path, sizeof(path), "%s/out.folded", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("old content that is longer than nothing\n", f);
		fclose(f);
	}
	before = nr_dir_entries(dir);
	CHECK_EQ_U64(emit__folded_path(path, t, sy, &o), 0);
	CHECK_EQ_U64(file_text(path, buf, sizeof(buf)), 0);
	CHECK_STR(buf, folded);
	CHECK_EQ_U64(nr_dir_entries(dir), before);

	/* Through a symlink: the file it points to is replaced, the link stays. */
	snprintf(link, sizeof(link), "%s/link.folded", dir);
	CHECK(!symlink("out.folded", link));
	o.val_idx = 1;
	CHECK_EQ_U64(emit__folded_path(link, t, sy, &o), 0);
	o.val_idx = 0;
	CHECK(!lstat(link, &st) && S_ISLNK(st.st_mode));
	CHECK_EQ_U64(file_text(path, buf, sizeof(buf)), 0);
	CHECK(!strncmp(buf, "app;fix_root 100\n", 17));
	CHECK(!unlink(link));
	CHECK_EQ_U64(nr_dir_entries(dir), before);

	/* Not a regular file: written in place, never renamed over. */
	CHECK_EQ_U64(emit__folded_path("/dev/null", t, sy, &o), 0);
	CHECK(!stat("/dev/null", &st) && S_ISCHR(st.st_mode));

	/* A missing directory: an error and nothing created. */
	snprintf(path, sizeof(path), "%s/missing/out.folded", dir);
	CHECK_EQ_U64(emit__folded_path(path, t, sy, &o), -ENOENT);
	CHECK(access(path, F_OK) && errno == ENOENT);
	CHECK_EQ_U64(nr_dir_entries(dir), before);

	/* Write errors are reported, through a stream and through a path. */
	f = fopen("/dev/full", "w");
	if (f) {
		CHECK_EQ_U64(emit__folded(f, t, sy, &o), -ENOSPC);
		fclose(f);
	}
	CHECK_EQ_U64(emit__folded_path("/dev/full", t, sy, &o), -ENOSPC);
	CHECK(!stat("/dev/full", &st) && S_ISCHR(st.st_mode));

	stack_table__delete(t);
	syms__delete(sy);
}

/* Entries left out by a full table are mentioned under the table. */
static void test_dropped(void)
{
	struct stack_table *t = stack_table__new(1, 64);
	struct emit_opts o = {.val_idx = 0};
	uint64_t v = 1;
	char *s;
	int err;

	stack_table__add(t, 1, 0, "p", NULL, 0, NULL, 0, &v);
	stack_table__add(t, 2, 0, "p", NULL, 0, NULL, 0, &v);
	s = run(emit__table, t, NULL, &o, &err);
	CHECK_EQ_U64(err, 0);
	CHECK_STR(s, "no stacks were recorded\n"
		     "... 2 events not counted: the stack table was full\n");
	free(s);
	stack_table__delete(t);
}

static void rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", path);
}

int main(void)
{
	const char *base = getenv("STACKPROF_TEST_TMP");

	snprintf(dir, sizeof(dir), "%s/test_emit.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	test_raw();
	test_named();
	test_dropped();
	rm_rf(dir);
	CHECK_DONE();
}

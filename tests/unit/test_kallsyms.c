/*
 * Kernel symbols: a kallsyms fixture written here (unsorted, with modules,
 * data symbols, aliases and garbage lines) and, when readable, the real
 * /proc/kallsyms checked against an independent scan of the same file.
 */
#include "symbols/kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/*
 * Deliberately out of order; "D"/"b" data lines and broken lines must be
 * skipped; two aliases share 0x...1000.
 */
static const char fixture[] = "ffffffff81002000 T second_fn\n"
			      "ffffffff81000000 T _stext\n"
			      "ffffffff81001000 t local_alias\n"
			      "ffffffff81001000 T first_fn\n"
			      "ffffffff81001800 D some_data\n"
			      "ffffffff81003000 W weak_fn\n"
			      "this is not a kallsyms line\n"
			      "ffffffff8100zzzz T broken_addr\n"
			      "ffffffff81004000 T\n"
			      "\n"
			      "ffffffff81005000 b bss_thing\n"
			      "ffffffffc0001000 t mod_fn\t[mymod]\n"
			      "ffffffffc0000000 T mod_init\t[mymod]\n"
			      "ffffffffc0002000 t other_mod_fn\t[othermod]\n"
			      "ffffffff81004000 t after_broken";

static FILE *text_file(const char *text)
{
	FILE *f = tmpfile();

	if (!f)
		return NULL;
	fputs(text, f);
	rewind(f);
	return f;
}

static void test_fixture(void)
{
	struct kallsyms *k;
	uint64_t off = 99;
	FILE *f = text_file(fixture);

	CHECK(f != NULL);
	if (!f)
		return;
	k = kallsyms__parse(f);
	fclose(f);
	CHECK(k != NULL);
	if (!k)
		return;
	/* _stext, first_fn (alias merged), second_fn, weak_fn, after_broken, 3 module symbols */
	CHECK_EQ_U64(kallsyms__nr(k), 8);

	/* below the first symbol */
	CHECK(kallsyms__find(k, 0xffffffff80ffffffULL, &off) == NULL);
	CHECK(kallsyms__find(k, 0, NULL) == NULL);

	/* at the start, in the middle, just before the next symbol */
	CHECK_STR(kallsyms__find(k, 0xffffffff81000000ULL, &off), "_stext");
	CHECK_EQ_U64(off, 0);
	CHECK_STR(kallsyms__find(k, 0xffffffff81000800ULL, &off), "_stext");
	CHECK_EQ_U64(off, 0x800);
	CHECK_STR(kallsyms__find(k, 0xffffffff81000fffULL, &off), "_stext");
	CHECK_EQ_U64(off, 0xfff);

	/* The alias pair: the global name wins over the local one, whatever the order. */
	CHECK_STR(kallsyms__find(k, 0xffffffff81001000ULL, &off), "first_fn");
	/* The data symbol at ..1800 is no boundary: first_fn runs to second_fn. */
	CHECK_STR(kallsyms__find(k, 0xffffffff81001900ULL, &off), "first_fn");
	CHECK_EQ_U64(off, 0x900);
	CHECK_STR(kallsyms__find(k, 0xffffffff81002fffULL, NULL), "second_fn");
	CHECK_STR(kallsyms__find(k, 0xffffffff81003000ULL, NULL), "weak_fn");
	CHECK_STR(kallsyms__find(k, 0xffffffff81004010ULL, NULL), "after_broken");
	CHECK_STR(kallsyms__module(k, 0xffffffff81004010ULL), "");

	/* Module symbols come out sorted although listed high before low. */
	CHECK_STR(kallsyms__find(k, 0xffffffffc0000010ULL, NULL), "mod_init");
	CHECK_STR(kallsyms__module(k, 0xffffffffc0000010ULL), "mymod");
	CHECK_STR(kallsyms__find(k, 0xffffffffc0001fffULL, &off), "mod_fn");
	CHECK_EQ_U64(off, 0xfff);
	CHECK_STR(kallsyms__module(k, 0xffffffffc0001000ULL), "mymod");
	CHECK_STR(kallsyms__find(k, 0xffffffffc0002004ULL, &off), "other_mod_fn");
	CHECK_EQ_U64(off, 4);
	CHECK_STR(kallsyms__module(k, 0xffffffffc0002004ULL), "othermod");
	/* The last symbol has no successor, but it does not run to the end of memory. */
	CHECK(kallsyms__find(k, 0xfffffffffffff000ULL, NULL) == NULL);
	CHECK(kallsyms__module(k, 0xffffffff80000000ULL) == NULL);
	CHECK(kallsyms__bytes(k) > 0);
	kallsyms__delete(k);
}

static void test_hidden_and_empty(void)
{
	struct kallsyms *k;
	FILE *f;

	/* What a non-root reader sees under kptr_restrict. */
	f = text_file("0000000000000000 T _stext\n0000000000000000 t foo\t[mod]\n");
	errno = 0;
	k = kallsyms__parse(f);
	CHECK(k == NULL);
	CHECK(errno == EPERM);
	fclose(f);

	f = text_file("");
	k = kallsyms__parse(f);
	CHECK(k == NULL);
	CHECK(errno != 0);
	fclose(f);

	/* Only garbage: no crash, no table. */
	f = text_file("\x01\x02\xff\n[[[[ ] ]\nffffffffffffffffffffffff T toolong\n  T x\n");
	k = kallsyms__parse(f);
	CHECK(k == NULL);
	fclose(f);

	/* A line longer than the parser's read window, then a good one: only the good one counts.
	 */
	{
		size_t n = 200000;
		char *big = malloc(n + 64);

		memset(big, 'x', n);
		strcpy(big + n, "\nffffffff81000000 T after_long_line\n");
		f = text_file(big);
		free(big);
		k = kallsyms__parse(f);
		fclose(f);
		CHECK(k != NULL);
		CHECK_EQ_U64(kallsyms__nr(k), 1);
		CHECK_STR(kallsyms__find(k, 0xffffffff81000010ULL, NULL), "after_long_line");
		kallsyms__delete(k);
	}

	errno = 0;
	k = kallsyms__load("/nonexistent/kallsyms");
	CHECK(k == NULL);
	CHECK(errno == ENOENT);
}

/* Finds @name's address by a plain sscanf scan, independent of the parser under test. */
static bool scan_for(const char *path, const char *name, uint64_t *addr, bool *hidden)
{
	char line[512], sym[256], type;
	unsigned long long a;
	bool found = false;
	FILE *f = fopen(path, "r");

	*hidden = true;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) != 3)
			continue;
		if (a)
			*hidden = false;
		if (!found && !strcmp(sym, name) && (type == 'T' || type == 't')) {
			*addr = a;
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void test_real(void)
{
	struct timespec t0, t1;
	struct kallsyms *k;
	uint64_t addr = 0, off;
	bool hidden;
	double ms;

	if (!scan_for("/proc/kallsyms", "schedule", &addr, &hidden) || hidden) {
		printf("skip real /proc/kallsyms: %s\n",
		       hidden ? "addresses hidden (not root or kptr_restrict)" : "no schedule");
		/* Hidden addresses are refused, not turned into a table of zeros. */
		if (hidden && !access("/proc/kallsyms", R_OK)) {
			errno = 0;
			CHECK(kallsyms__load("/proc/kallsyms") == NULL);
			CHECK(errno == EPERM);
		}
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	k = kallsyms__load("/proc/kallsyms");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(k != NULL);
	if (!k)
		return;
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("/proc/kallsyms: %zu text symbols in %.1f ms\n", kallsyms__nr(k), ms);
	CHECK(kallsyms__nr(k) > 1000);
	CHECK_STR(kallsyms__find(k, addr, &off), "schedule");
	CHECK_EQ_U64(off, 0);
	CHECK_STR(kallsyms__find(k, addr + 1, &off), "schedule");
	CHECK_EQ_U64(off, 1);
	CHECK_STR(kallsyms__module(k, addr), "");
	kallsyms__delete(k);
}

int main(void)
{
	test_fixture();
	test_hidden_and_empty();
	test_real();
	CHECK_DONE();
}

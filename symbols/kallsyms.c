/* Kernel function symbols parsed from /proc/kallsyms text, kept sorted for binary search. */
#include "kallsyms.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/*
 * The last symbol has no successor to end it. Module and BPF text sits at the
 * top of the address space, so instead of letting it run to 2^64 we give it
 * a generous bound that no single kernel function reaches.
 */
#define KSYM_LAST_MAX_SIZE (1ULL << 20)
#define KSYM_READ_CHUNK (64 * 1024)

struct ksym {
	uint64_t addr;
	uint32_t name;	 /* offset in the pool; the byte before it is the type letter */
	uint32_t module; /* offset in the pool of the module name, 0 = core kernel ("") */
};

struct kallsyms {
	struct ksym *syms;
	size_t nr;
	char *pool;
	size_t pool_len, pool_cap;
};

static int pool_reserve(struct kallsyms *k, size_t more)
{
	size_t cap = k->pool_cap ? k->pool_cap : 1 << 16;
	char *p;

	if (k->pool_len + more <= k->pool_cap)
		return 0;
	while (cap < k->pool_len + more)
		cap *= 2;
	/* Offsets are 32-bit: a kallsyms file a thousand times today's size is not real. */
	if (cap > UINT32_MAX)
		return -E2BIG;
	p = realloc(k->pool, cap);
	if (!p)
		return -ENOMEM;
	k->pool = p;
	k->pool_cap = cap;
	return 0;
}

/* Appends @len bytes of @s plus a NUL; returns the offset or 0 on failure (0 is never valid). */
static uint32_t pool_add(struct kallsyms *k, const char *s, size_t len)
{
	uint32_t off;

	if (pool_reserve(k, len + 1))
		return 0;
	off = k->pool_len;
	memcpy(k->pool + off, s, len);
	k->pool[off + len] = '\0';
	k->pool_len += len + 1;
	return off;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_text_type(char t)
{
	return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* A name we are willing to print: no control bytes (a corrupt file must not leak garbage). */
static bool name_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return len > 0;
}

static int ksym_push(struct kallsyms *k, size_t *cap, uint64_t addr, uint32_t name, uint32_t module)
{
	if (k->nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		struct ksym *p = realloc(k->syms, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		k->syms = p;
		*cap = ncap;
	}
	k->syms[k->nr].addr = addr;
	k->syms[k->nr].name = name;
	k->syms[k->nr].module = module;
	k->nr++;
	return 0;
}

/*
 * One line: "ffffffff81000000 T _stext" or "... t fn\t[module]". Lines that do
 * not parse are skipped, not fatal: the file is text from outside.
 * Returns -ENOMEM only; *any_nonzero records whether kptr_restrict hid addresses.
 */
static int parse_line(struct kallsyms *k, size_t *cap, const char *p, const char *end,
		      uint32_t *last_mod, bool *any_nonzero)
{
	const char *name, *mod;
	uint64_t addr = 0;
	size_t digits = 0, name_len, mod_len;
	uint32_t name_off, mod_off = 0;
	char type;
	int v;

	while (p < end && (v = hexval(*p)) >= 0) {
		addr = addr << 4 | (uint64_t)v;
		p++;
		digits++;
	}
	if (digits == 0 || digits > 16 || p + 3 > end || *p != ' ')
		return 0;
	type = p[1];
	if (p[2] != ' ')
		return 0;
	if (addr)
		*any_nonzero = true;
	if (!is_text_type(type))
		return 0;
	name = p + 3;
	for (p = name; p < end && !is_space(*p); p++)
		;
	name_len = p - name;
	if (!name_ok(name, name_len))
		return 0;
	while (p < end && is_space(*p))
		p++;
	if (p < end && *p == '[') {
		mod = p + 1;
		for (p = mod; p < end && *p != ']'; p++)
			;
		mod_len = p - mod;
		if (p == end || !name_ok(mod, mod_len))
			return 0;
		/* Lines of one module come together: reuse the previous copy of its name. */
		if (*last_mod && !strncmp(k->pool + *last_mod, mod, mod_len) &&
		    k->pool[*last_mod + mod_len] == '\0') {
			mod_off = *last_mod;
		} else {
			mod_off = pool_add(k, mod, mod_len);
			if (!mod_off)
				return -ENOMEM;
			*last_mod = mod_off;
		}
	}
	/* Keep the type letter just before the name: dedup wants it, the entry stays 16 bytes. */
	if (pool_reserve(k, name_len + 2))
		return -ENOMEM;
	k->pool[k->pool_len++] = type;
	name_off = pool_add(k, name, name_len);
	if (!name_off)
		return -ENOMEM;
	return ksym_push(k, cap, addr, name_off, mod_off);
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Pool offsets grow in file order, so ties keep file order. */
	return x->name < y->name ? -1 : x->name > y->name;
}

static size_t leading_underscores(const char *s)
{
	size_t n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* Whether alias @a should name the address rather than @b (earlier in the file). */
static bool ksym_better(const struct kallsyms *k, const struct ksym *a, const struct ksym *b)
{
	const char *na = k->pool + a->name, *nb = k->pool + b->name;
	bool ga = na[-1] == 'T' || na[-1] == 'W', gb = nb[-1] == 'T' || nb[-1] == 'W';

	if (ga != gb)
		return ga;
	/* "schedule" reads better than "__schedule_alias": fewer leading underscores. */
	return leading_underscores(na) < leading_underscores(nb);
}

/* Several names at one address: keep one, chosen the same way on every run. */
static void dedup(struct kallsyms *k)
{
	size_t i, out = 0;

	for (i = 0; i < k->nr; i++) {
		if (out && k->syms[out - 1].addr == k->syms[i].addr) {
			if (ksym_better(k, &k->syms[i], &k->syms[out - 1]))
				k->syms[out - 1] = k->syms[i];
			continue;
		}
		k->syms[out++] = k->syms[i];
	}
	k->nr = out;
}

/* The arrays grew by doubling; give back the slack since the table lives all run. */
static void shrink(struct kallsyms *k)
{
	struct ksym *syms = realloc(k->syms, k->nr * sizeof(*k->syms));
	char *pool = realloc(k->pool, k->pool_len);

	if (syms)
		k->syms = syms;
	if (pool) {
		k->pool = pool;
		k->pool_cap = k->pool_len;
	}
}

struct kallsyms *kallsyms__parse(FILE *f)
{
	struct kallsyms *k;
	bool any_nonzero = false;
	uint32_t last_mod = 0;
	size_t have = 0, cap = 0;
	char *buf;
	int err;

	/*
	 * Parse through a fixed window rather than reading the whole file
	 * (5 MB today): faulting in a buffer that size costs more than the
	 * parsing does.
	 */
	buf = malloc(KSYM_READ_CHUNK);
	k = calloc(1, sizeof(*k));
	if (!buf || !k) {
		err = -ENOMEM;
		goto out_err;
	}
	/* Offset 0 of the pool is reserved so that 0 can mean "none" (core kernel). */
	err = pool_reserve(k, 1);
	if (err)
		goto out_err;
	k->pool[k->pool_len++] = '\0';

	for (;;) {
		size_t got = fread(buf + have, 1, KSYM_READ_CHUNK - have, f);
		const char *p = buf, *end = buf + have + got, *nl;
		bool eof = got == 0;

		if (eof && ferror(f)) {
			err = -EIO;
			goto out_err;
		}
		while (p < end) {
			nl = memchr(p, '\n', end - p);
			if (!nl) {
				/*
				 * A partial line waits for the next read, unless the
				 * file ended or it fills the whole window (no real
				 * kallsyms line is that long: it is cut and parsed).
				 */
				if (!eof && (p > buf || end < buf + KSYM_READ_CHUNK))
					break;
				nl = end;
			}
			err = parse_line(k, &cap, p, nl, &last_mod, &any_nonzero);
			if (err)
				goto out_err;
			p = nl < end ? nl + 1 : end;
		}
		have = end - p;
		memmove(buf, p, have);
		if (eof)
			break;
	}
	free(buf);
	buf = NULL;

	/* kptr_restrict shows every address as 0: the names are useless then. */
	if (!any_nonzero) {
		err = k->nr ? -EPERM : -ENODATA;
		goto out_err;
	}
	if (!k->nr) {
		err = -ENODATA;
		goto out_err;
	}
	qsort(k->syms, k->nr, sizeof(*k->syms), ksym_cmp);
	dedup(k);
	shrink(k);
	return k;

out_err:
	free(buf);
	kallsyms__delete(k);
	errno = -err;
	return NULL;
}

struct kallsyms *kallsyms__load(const char *path)
{
	struct kallsyms *k;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	k = kallsyms__parse(f);
	err = errno;
	fclose(f);
	errno = err;
	return k;
}

void kallsyms__delete(struct kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->pool);
	free(k);
}

/* Index of the symbol containing @addr, or -1. */
static ssize_t ksym_index(const struct kallsyms *k, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!k || !k->nr || addr < k->syms[0].addr)
		return -1;
	/* Invariant: syms[lo].addr <= addr, and every index >= hi is above addr. */
	hi = k->nr;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (lo + 1 == k->nr) {
		if (addr - k->syms[lo].addr >= KSYM_LAST_MAX_SIZE)
			return -1;
	}
	return lo;
}

const char *kallsyms__find(const struct kallsyms *k, uint64_t addr, uint64_t *off)
{
	ssize_t i = ksym_index(k, addr);

	if (i < 0)
		return NULL;
	if (off)
		*off = addr - k->syms[i].addr;
	return k->pool + k->syms[i].name;
}

const char *kallsyms__module(const struct kallsyms *k, uint64_t addr)
{
	ssize_t i = ksym_index(k, addr);

	if (i < 0)
		return NULL;
	return k->pool + k->syms[i].module;
}

size_t kallsyms__nr(const struct kallsyms *k)
{
	return k ? k->nr : 0;
}

size_t kallsyms__bytes(const struct kallsyms *k)
{
	if (!k)
		return 0;
	return sizeof(*k) + k->nr * sizeof(*k->syms) + k->pool_cap;
}

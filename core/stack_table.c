/* The shared stack table: a chained hash table of stacks, packed in chunks, bounded in bytes. */
#define _GNU_SOURCE /* qsort_r */
#include "stack_table.h"
#include "hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STACK_TABLE_DEFAULT_MAX (256UL << 20)
#define STACK_TABLE_MIN_BUCKETS 8
#define STACK_TABLE_INIT_BUCKETS 1024
#define CHUNK_MIN (16UL << 10)
#define CHUNK_MAX (1UL << 20)

/*
 * An entry is one contiguous block: header, then nr_vals counters, the kernel
 * frames and the user frames, all u64, so the size is a multiple of 8 and
 * entries pack back to back in a chunk without padding.
 */
struct stack_entry {
	struct stack_entry *next; /* hash chain */
	uint32_t hash;		  /* 32 bits index more buckets than any bound allows */
	uint32_t pid, tid;
	uint16_t nr_kernel;
	uint16_t nr_user;
	uint8_t nr_vals;	   /* copied from the table so the accessors can find the frames */
	char comm[STACK_COMM_LEN]; /* zero padded: compared as 16 bytes */
	uint64_t data[];
};

_Static_assert(STACK_TABLE_MAX_DEPTH <= UINT16_MAX, "frame counts are kept in 16 bits");
_Static_assert(sizeof(struct stack_entry) == 48, "entry header should stay compact");

/*
 * Entries live in chunks that are only freed all together, so a new stack
 * costs a pointer bump instead of a malloc, and reset is cheap.
 */
struct chunk {
	struct chunk *next;
	size_t size; /* bytes in data[] */
	size_t used;
	uint64_t data[];
};

struct stack_table {
	struct stack_entry **buckets;
	size_t nr_buckets; /* a power of two */
	size_t nr_entries;
	unsigned int nr_vals;
	struct chunk *chunks; /* newest first; entries are only carved from the head */
	size_t chunk_bytes;   /* sum of malloc'd chunk sizes, headers included */
	size_t max_bytes;
	size_t max_entries; /* 0 = no bound but bytes */
	uint64_t dropped;
	/* Told once, at the first refusal (stack_table__set_limit). */
	void (*full)(void *ctx, const struct stack_table *t);
	void *full_ctx;
	bool full_told;
	bool grow_refused; /* the bound forbade a bigger bucket array once */
};

#define HASH_K1 0x9e3779b97f4a7c15ULL
#define HASH_K2 0xc2b2ae3d27d4eb4fULL

static inline uint64_t rotl64(uint64_t x, unsigned int r)
{
	return x << r | x >> (64 - r);
}

/*
 * Folds each frame in with a multiply and rotate, so that a frame's position
 * matters ([a,b] != [b,a]). Even and odd frames go to two independent lanes:
 * the multiplies of one chain then overlap with the other's, which halves the
 * latency on the hot path for deep stacks.
 */
static uint64_t hash_frames(uint64_t h, const uint64_t *w, uint32_t n)
{
	uint64_t h2 = rotl64(h, 32) ^ HASH_K2;
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2) {
		h = rotl64(h ^ w[i], 27) * HASH_K1;
		h2 = rotl64(h2 ^ w[i + 1], 31) * HASH_K2;
	}
	if (i < n)
		h = rotl64(h ^ w[i], 27) * HASH_K1;
	return (h ^ rotl64(h2, 17)) * HASH_K1;
}

/*
 * The side lengths go into the first word, so that kernel [a] + user [b]
 * differs from kernel [] + user [a,b] even before the frames are compared.
 */
static uint32_t key_hash(uint32_t pid, uint32_t tid, const char *comm, const uint64_t *kernel,
			 uint32_t nr_kernel, const uint64_t *user, uint32_t nr_user)
{
	uint64_t h = ((uint64_t)pid << 32 | nr_kernel << 16 | nr_user) * HASH_K1 ^ tid;
	uint64_t w[2];

	memcpy(w, comm, sizeof(w));
	h = hash_frames(h, w, 2);
	h = hash_frames(h, kernel, nr_kernel);
	h = hash_frames(h, user, nr_user);
	return (uint32_t)hash__mix64(h);
}

static inline size_t entry_size(unsigned int nr_vals, uint32_t nr_kernel, uint32_t nr_user)
{
	return sizeof(struct stack_entry) + (nr_vals + nr_kernel + nr_user) * sizeof(uint64_t);
}

static inline uint64_t *entry_kernel(const struct stack_entry *e)
{
	return (uint64_t *)e->data + e->nr_vals;
}

static inline uint64_t *entry_user(const struct stack_entry *e)
{
	return (uint64_t *)e->data + e->nr_vals + e->nr_kernel;
}

/* Copies @comm into a zero padded key field; NULL counts as "". */
static void comm_key(char dst[STACK_COMM_LEN], const char *comm)
{
	size_t n = comm ? strnlen(comm, STACK_COMM_LEN - 1) : 0;

	memset(dst, 0, STACK_COMM_LEN);
	if (n)
		memcpy(dst, comm, n);
}

struct stack_table *stack_table__new(unsigned int nr_vals, size_t max_bytes)
{
	struct stack_table *t;
	size_t nr_buckets = STACK_TABLE_INIT_BUCKETS;

	if (nr_vals == 0 || nr_vals > STACK_TABLE_MAX_VALS) {
		errno = EINVAL;
		return NULL;
	}
	if (!max_bytes)
		max_bytes = STACK_TABLE_DEFAULT_MAX;
	/* A small bound gets a small first bucket array so entries still fit. */
	while (nr_buckets > STACK_TABLE_MIN_BUCKETS &&
	       nr_buckets * sizeof(struct stack_entry *) > max_bytes / 4)
		nr_buckets /= 2;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->buckets = calloc(nr_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->nr_buckets = nr_buckets;
	t->nr_vals = nr_vals;
	t->max_bytes = max_bytes;
	return t;
}

static void chunks_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

void stack_table__delete(struct stack_table *t)
{
	if (!t)
		return;
	chunks_free(t->chunks);
	free(t->buckets);
	free(t);
}

void stack_table__reset(struct stack_table *t)
{
	struct chunk *keep = t->chunks;

	/*
	 * Keep the newest (largest) chunk: a live view resets every interval
	 * and would otherwise malloc it again straight away.
	 */
	if (keep) {
		chunks_free(keep->next);
		keep->next = NULL;
		keep->used = 0;
		t->chunk_bytes = sizeof(*keep) + keep->size;
	}
	memset(t->buckets, 0, t->nr_buckets * sizeof(*t->buckets));
	t->nr_entries = 0;
	/* A reset starts a new interval: its drops are counted afresh. */
	t->dropped = 0;
	t->grow_refused = false;
}

size_t stack_table__bytes(const struct stack_table *t)
{
	return sizeof(*t) + t->nr_buckets * sizeof(*t->buckets) + t->chunk_bytes;
}

/* Returns room for @size bytes of entry, or NULL with -ENOSPC/-ENOMEM in @err. */
static void *chunk_alloc(struct stack_table *t, size_t size, int *err)
{
	struct chunk *c = t->chunks;
	size_t want, budget, used = stack_table__bytes(t);
	void *p;

	if (!c || c->size - c->used < size) {
		/* Chunks double up to CHUNK_MAX so small tables stay small. */
		want = c ? c->size * 2 : CHUNK_MIN;
		if (want > CHUNK_MAX)
			want = CHUNK_MAX;
		budget = used < t->max_bytes ? t->max_bytes - used : 0;
		budget = budget > sizeof(*c) ? budget - sizeof(*c) : 0;
		/* Near the bound take what is left rather than refuse early. */
		if (want > budget)
			want = budget;
		if (want < size) {
			*err = -ENOSPC;
			return NULL;
		}
		c = malloc(sizeof(*c) + want);
		if (!c) {
			*err = -ENOMEM;
			return NULL;
		}
		c->size = want;
		c->used = 0;
		c->next = t->chunks;
		t->chunks = c;
		t->chunk_bytes += sizeof(*c) + want;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

/*
 * Doubles the bucket array when the load passes 3/4. Growth is optional:
 * when the bound or malloc says no, chains just get longer.
 */
static void buckets_grow(struct stack_table *t)
{
	size_t n = t->nr_buckets * 2, i;
	size_t extra = (n - t->nr_buckets) * sizeof(*t->buckets);
	struct stack_entry **b;

	if (t->grow_refused || stack_table__bytes(t) + extra > t->max_bytes) {
		t->grow_refused = true;
		return;
	}
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < t->nr_buckets; i++) {
		struct stack_entry *e = t->buckets[i], *next;

		for (; e; e = next) {
			size_t j = e->hash & (n - 1);

			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nr_buckets = n;
}

static struct stack_entry *lookup(const struct stack_table *t, uint32_t hash, uint32_t pid,
				  uint32_t tid, const char *comm, const uint64_t *kernel, uint32_t nr_kernel,
				  const uint64_t *user, uint32_t nr_user)
{
	struct stack_entry *e = t->buckets[hash & (t->nr_buckets - 1)];

	for (; e; e = e->next) {
		if (e->hash != hash || e->pid != pid || e->tid != tid || e->nr_kernel != nr_kernel ||
		    e->nr_user != nr_user || memcmp(e->comm, comm, STACK_COMM_LEN))
			continue;
		/* memcmp must not see NULL even with a zero length. */
		if ((!nr_kernel || !memcmp(entry_kernel(e), kernel, nr_kernel * sizeof(*kernel))) &&
		    (!nr_user || !memcmp(entry_user(e), user, nr_user * sizeof(*user))))
			return e;
	}
	return NULL;
}

/* Deeper chains keep their leaf-most frames: those are the first ones. */
static inline uint32_t depth_cut(uint32_t nr)
{
	return nr > STACK_TABLE_MAX_DEPTH ? STACK_TABLE_MAX_DEPTH : nr;
}

struct stack_entry *stack_table__find(struct stack_table *t, uint32_t pid, uint32_t tid,
				      const char *comm,
				      const uint64_t *kernel, uint32_t nr_kernel,
				      const uint64_t *user, uint32_t nr_user)
{
	char key[STACK_COMM_LEN];
	uint32_t hash;

	nr_kernel = depth_cut(nr_kernel);
	nr_user = depth_cut(nr_user);
	comm_key(key, comm);
	hash = key_hash(pid, tid, key, kernel, nr_kernel, user, nr_user);
	return lookup(t, hash, pid, tid, key, kernel, nr_kernel, user, nr_user);
}

struct stack_entry *stack_table__get(struct stack_table *t, uint32_t pid, uint32_t tid,
				     const char *comm,
				     const uint64_t *kernel, uint32_t nr_kernel, const uint64_t *user,
				     uint32_t nr_user)
{
	char key[STACK_COMM_LEN];
	struct stack_entry *e;
	uint32_t hash;
	int err = 0;

	nr_kernel = depth_cut(nr_kernel);
	nr_user = depth_cut(nr_user);
	comm_key(key, comm);
	hash = key_hash(pid, tid, key, kernel, nr_kernel, user, nr_user);
	e = lookup(t, hash, pid, tid, key, kernel, nr_kernel, user, nr_user);
	if (!e) {
		if (t->max_entries && t->nr_entries >= t->max_entries)
			err = -ENOSPC;
		else
			e = chunk_alloc(t, entry_size(t->nr_vals, nr_kernel, nr_user), &err);
		if (!e) {
			t->dropped++;
			if (t->full && !t->full_told) {
				t->full_told = true;
				t->full(t->full_ctx, t);
			}
			errno = -err;
			return NULL;
		}
		e->hash = hash;
		e->pid = pid;
		e->tid = tid;
		e->nr_vals = t->nr_vals;
		e->nr_kernel = nr_kernel;
		e->nr_user = nr_user;
		memcpy(e->comm, key, STACK_COMM_LEN);
		memset(e->data, 0, t->nr_vals * sizeof(uint64_t));
		if (nr_kernel)
			memcpy(entry_kernel(e), kernel, nr_kernel * sizeof(*kernel));
		if (nr_user)
			memcpy(entry_user(e), user, nr_user * sizeof(*user));
		if (t->nr_entries + 1 > t->nr_buckets / 4 * 3)
			buckets_grow(t);
		e->next = t->buckets[hash & (t->nr_buckets - 1)];
		t->buckets[hash & (t->nr_buckets - 1)] = e;
		t->nr_entries++;
	}
	return e;
}

int stack_table__add(struct stack_table *t, uint32_t pid, uint32_t tid, const char *comm,
		     const uint64_t *kernel, uint32_t nr_kernel, const uint64_t *user,
		     uint32_t nr_user, const uint64_t *vals)
{
	struct stack_entry *e = stack_table__get(t, pid, tid, comm, kernel, nr_kernel, user, nr_user);
	unsigned int i;

	if (!e)
		return -errno;
	if (vals) {
		for (i = 0; i < t->nr_vals; i++)
			e->data[i] += vals[i];
	}
	return 0;
}

unsigned int stack_table__nr_vals(const struct stack_table *t)
{
	return t->nr_vals;
}

size_t stack_table__nr_entries(const struct stack_table *t)
{
	return t->nr_entries;
}

size_t stack_table__max_bytes(const struct stack_table *t)
{
	return t->max_bytes;
}

size_t stack_table__max_entries(const struct stack_table *t)
{
	return t->max_entries;
}

void stack_table__set_limit(struct stack_table *t, size_t max_entries,
			    void (*full)(void *ctx, const struct stack_table *t), void *ctx)
{
	t->max_entries = max_entries;
	t->full = full;
	t->full_ctx = ctx;
}

uint64_t stack_table__dropped(const struct stack_table *t)
{
	return t->dropped;
}

struct stack_entry *stack_table__next(const struct stack_table *t, struct stack_entry *e)
{
	size_t i;

	if (e) {
		if (e->next)
			return e->next;
		i = (e->hash & (t->nr_buckets - 1)) + 1;
	} else {
		i = 0;
	}
	for (; i < t->nr_buckets; i++) {
		if (t->buckets[i])
			return t->buckets[i];
	}
	return NULL;
}

/*
 * Totals are summed on demand rather than kept on add: profilers may change
 * counters through stack_entry__vals_mut() behind the table's back.
 */
uint64_t stack_table__total(const struct stack_table *t, unsigned int idx)
{
	struct stack_entry *e;
	uint64_t sum = 0;

	if (idx >= t->nr_vals)
		return 0;
	stack_table__for_each (t, e)
		sum += e->data[idx];
	return sum;
}

struct sort_ctx {
	const struct stack_table *t;
	unsigned int idx;
};

static int cmp_frames(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
	uint32_t i, n = na < nb ? na : nb;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return na < nb ? -1 : na > nb;
}

/* Largest counter first; ties go by comm, pid, kernel then user frames so output is stable. */
static int cmp_entries(const void *pa, const void *pb, void *arg)
{
	const struct stack_entry *a = *(struct stack_entry *const *)pa;
	const struct stack_entry *b = *(struct stack_entry *const *)pb;
	const struct sort_ctx *ctx = arg;
	uint64_t va = a->data[ctx->idx], vb = b->data[ctx->idx];
	int r;

	if (va != vb)
		return va > vb ? -1 : 1;
	r = strncmp(a->comm, b->comm, STACK_COMM_LEN);
	if (r)
		return r;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	r = cmp_frames(entry_kernel(a), a->nr_kernel, entry_kernel(b), b->nr_kernel);
	if (r)
		return r;
	return cmp_frames(entry_user(a), a->nr_user, entry_user(b), b->nr_user);
}

struct stack_entry **stack_table__sorted(const struct stack_table *t, unsigned int idx, size_t *nr)
{
	struct sort_ctx ctx = {.t = t, .idx = idx};
	struct stack_entry **v, *e;
	size_t n = 0;

	*nr = 0;
	if (idx >= t->nr_vals) {
		errno = EINVAL;
		return NULL;
	}
	if (!t->nr_entries) {
		errno = 0;
		return NULL;
	}
	v = malloc(t->nr_entries * sizeof(*v));
	if (!v)
		return NULL;
	stack_table__for_each (t, e)
		v[n++] = e;
	qsort_r(v, n, sizeof(*v), cmp_entries, &ctx);
	*nr = n;
	return v;
}

uint32_t stack_entry__pid(const struct stack_entry *e)
{
	return e->pid;
}

uint32_t stack_entry__tid(const struct stack_entry *e)
{
	return e->tid;
}

const char *stack_entry__comm(const struct stack_entry *e)
{
	return e->comm;
}

const uint64_t *stack_entry__kernel(const struct stack_entry *e, uint32_t *nr)
{
	*nr = e->nr_kernel;
	return entry_kernel(e);
}

const uint64_t *stack_entry__user(const struct stack_entry *e, uint32_t *nr)
{
	*nr = e->nr_user;
	return entry_user(e);
}

const uint64_t *stack_entry__vals(const struct stack_entry *e)
{
	return e->data;
}

uint64_t *stack_entry__vals_mut(struct stack_entry *e)
{
	return e->data;
}

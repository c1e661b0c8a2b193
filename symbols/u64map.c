/* A linear-probing hash table of u64 -> u64, grown at 70% load; removal shifts entries back. */
#include "u64map.h"
#include "core/hash.h"

#include <errno.h>
#include <stdlib.h>

/*
 * An empty slot holds this key. Every key is legal, including this one, so
 * the entry with this key lives outside the array (have_empty_key).
 */
#define EMPTY_KEY UINT64_MAX
#define MIN_SLOTS 64

struct slot {
	uint64_t key;
	uint64_t val;
};

struct u64map {
	struct slot *slots;
	size_t mask; /* number of slots - 1, a power of two minus one */
	size_t nr;   /* entries in slots[] */
	bool have_empty_key;
	uint64_t empty_key_val;
};

static struct slot *alloc_slots(size_t n)
{
	struct slot *s = malloc(n * sizeof(*s));
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++)
		s[i].key = EMPTY_KEY;
	return s;
}

struct u64map *u64map__new(void)
{
	struct u64map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->slots = alloc_slots(MIN_SLOTS);
	if (!m->slots) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->mask = MIN_SLOTS - 1;
	return m;
}

void u64map__delete(struct u64map *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static struct slot *find_slot(struct slot *slots, size_t mask, uint64_t key)
{
	size_t i = hash__mix64(key) & mask;

	/* The load limit keeps at least 30% of slots empty, so this ends. */
	while (slots[i].key != EMPTY_KEY && slots[i].key != key)
		i = (i + 1) & mask;
	return &slots[i];
}

bool u64map__get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	const struct slot *s;

	if (key == EMPTY_KEY) {
		if (m->have_empty_key)
			*val = m->empty_key_val;
		return m->have_empty_key;
	}
	s = find_slot(m->slots, m->mask, key);
	if (s->key != key)
		return false;
	*val = s->val;
	return true;
}

static int grow(struct u64map *m)
{
	size_t n = (m->mask + 1) * 2, i;
	struct slot *slots = alloc_slots(n);

	if (!slots)
		return -ENOMEM;
	for (i = 0; i <= m->mask; i++) {
		if (m->slots[i].key != EMPTY_KEY)
			*find_slot(slots, n - 1, m->slots[i].key) = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->mask = n - 1;
	return 0;
}

int u64map__put(struct u64map *m, uint64_t key, uint64_t val)
{
	struct slot *s;

	if (key == EMPTY_KEY) {
		m->have_empty_key = true;
		m->empty_key_val = val;
		return 0;
	}
	s = find_slot(m->slots, m->mask, key);
	if (s->key == key) {
		s->val = val;
		return 0;
	}
	if ((m->nr + 1) * 10 > (m->mask + 1) * 7) {
		int err = grow(m);

		if (err)
			return err;
		s = find_slot(m->slots, m->mask, key);
	}
	s->key = key;
	s->val = val;
	m->nr++;
	return 0;
}

size_t u64map__nr(const struct u64map *m)
{
	return m->nr + m->have_empty_key;
}

size_t u64map__bytes(const struct u64map *m)
{
	return sizeof(*m) + (m->mask + 1) * sizeof(struct slot);
}

void u64map__for_each(const struct u64map *m, void (*fn)(void *ctx, uint64_t key, uint64_t val),
		      void *ctx)
{
	size_t i;

	for (i = 0; i <= m->mask; i++) {
		if (m->slots[i].key != EMPTY_KEY)
			fn(ctx, m->slots[i].key, m->slots[i].val);
	}
	if (m->have_empty_key)
		fn(ctx, EMPTY_KEY, m->empty_key_val);
}

bool u64map__del(struct u64map *m, uint64_t key)
{
	size_t i, j;

	if (key == EMPTY_KEY) {
		bool had = m->have_empty_key;

		m->have_empty_key = false;
		return had;
	}
	i = (size_t)(find_slot(m->slots, m->mask, key) - m->slots);
	if (m->slots[i].key != key)
		return false;
	/*
	 * Backward-shift deletion: later entries of the same probe run move
	 * into the hole when their home slot does not lie (cyclically) after
	 * it, so every remaining key is still found from its home slot
	 * without tombstones.
	 */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & m->mask;
		if (m->slots[j].key == EMPTY_KEY)
			break;
		home = hash__mix64(m->slots[j].key) & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = EMPTY_KEY;
	m->nr--;
	return true;
}

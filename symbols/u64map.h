/* Open-addressing hash table from 64-bit keys to 64-bit values for the symbolizer's caches. */
#ifndef STACKPROF_U64MAP_H
#define STACKPROF_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map;

/* Creates an empty map. Returns NULL and sets errno on failure. */
struct u64map *u64map__new(void);
void u64map__delete(struct u64map *m);

/* Looks up @key; returns true and sets *val when present. Any key is allowed. */
bool u64map__get(const struct u64map *m, uint64_t key, uint64_t *val);

/* Inserts or overwrites @key. Returns 0 or -ENOMEM. */
int u64map__put(struct u64map *m, uint64_t key, uint64_t val);

/* Removes @key. Returns whether it was there. */
bool u64map__del(struct u64map *m, uint64_t key);

size_t u64map__nr(const struct u64map *m);
/* Memory held by the table. */
size_t u64map__bytes(const struct u64map *m);

/* Calls @fn for every entry, in no particular order. */
void u64map__for_each(const struct u64map *m, void (*fn)(void *ctx, uint64_t key, uint64_t val),
		      void *ctx);

#endif

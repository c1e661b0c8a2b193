/* u64map: random puts, gets and deletes against a plain reference array, through growth. */
#include "symbols/u64map.h"

#include "check.h"

#define NKEYS 20000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(void)
{
	static uint64_t keys[NKEYS], vals[NKEYS];
	static int present[NKEYS];
	struct u64map *m = u64map__new();
	size_t nr = 0;
	uint64_t v;

	for (int i = 0; i < NKEYS; i++) {
		/* Clustered keys (like heap addresses) collide in probe runs. */
		keys[i] = (i % 3 == 0) ? UINT64_MAX - 1 - (uint64_t)i : 0x550000000000ULL + 16 * (uint64_t)i;
	}
	keys[1] = UINT64_MAX; /* the key that marks empty slots is a legal key too */
	for (int round = 0; round < 400000; round++) {
		int i = (int)(rng() % NKEYS);

		if (rng() % 3) {
			vals[i] = rng();
			CHECK(u64map__put(m, keys[i], vals[i]) == 0);
			if (!present[i])
				nr++;
			present[i] = 1;
		} else {
			CHECK(u64map__del(m, keys[i]) == (bool)present[i]);
			if (present[i])
				nr--;
			present[i] = 0;
		}
		if (round % 50000 == 0)
			for (int k = 0; k < NKEYS; k++) {
				bool got = u64map__get(m, keys[k], &v);

				CHECK(got == (bool)present[k]);
				if (got && present[k])
					CHECK_EQ_U64(v, vals[k]);
			}
	}
	CHECK_EQ_U64(u64map__nr(m), nr);
	for (int k = 0; k < NKEYS; k++) {
		bool got = u64map__get(m, keys[k], &v);

		CHECK(got == (bool)present[k]);
		if (got && present[k])
			CHECK_EQ_U64(v, vals[k]);
	}
	u64map__delete(m);
	CHECK_DONE();
}

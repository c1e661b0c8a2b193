/* The 64-bit hash finalizer the hash tables share. */
#ifndef STACKPROF_HASH_H
#define STACKPROF_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * A multiply-xorshift finalizer: every input bit reaches every output bit,
 * so keys whose low bits repeat with alignment (addresses, file offsets)
 * still spread over the low bits a table masks with.
 */
static inline uint64_t hash__mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* FNV-1a over @n bytes of @s, for keys that are strings; mix before masking. */
static inline uint64_t hash__str(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * A hash of @n bytes of @s read eight at a time, for keys long enough that
 * FNV's byte at a time shows (whole text lines); mix before masking.
 */
static inline uint64_t hash__bytes(const void *s, size_t n)
{
	const unsigned char *c = s;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; c += 8, n -= 8) {
		__builtin_memcpy(&w, c, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	w = 0;
	__builtin_memcpy(&w, c, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 32);
}

#endif

/* The 64-bit hash finalizer the hash tables share. */
#ifndef STACKPROF_HASH_H
#define STACKPROF_HASH_H

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

#endif

/* Strict parsers for command-line values: numbers, durations with units, sizes. */
#ifndef STACKPROF_PARSE_H
#define STACKPROF_PARSE_H

#include <stdint.h>

/* A whole decimal number in [min, max]. Returns 0 or -EINVAL (also for trailing junk). */
int parse__u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A positive finite decimal number of seconds, e.g. "10", "2.5". Returns 0 or -EINVAL. */
int parse__seconds(const char *s, double *out);

/*
 * A duration with a unit: "250us", "1ms", "5s", "2m", "1.5ms"; a bare
 * number means @default_unit_ns units. Returns 0 or -EINVAL.
 */
int parse__duration_ns(const char *s, uint64_t default_unit_ns, uint64_t *out);

#endif

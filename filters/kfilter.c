/* Kernel-side filters: event attribute bits and tracepoint filter strings. */
#include "kfilter.h"

#include <errno.h>
#include <stdio.h>

void kfilter__apply_sides(struct perf_event_attr *attr, bool user_only, bool kernel_only,
			  bool sampling)
{
	bool chain = attr->sample_type & PERF_SAMPLE_CALLCHAIN;

	if (user_only) {
		attr->exclude_callchain_kernel = 1;
		if (sampling && !chain)
			attr->exclude_kernel = 1;
	}
	if (kernel_only) {
		attr->exclude_callchain_user = 1;
		if (sampling)
			attr->exclude_user = 1;
	}
}

int kfilter__pid_filter(char *buf, size_t len, const char *field, const pid_t *ids, size_t nr)
{
	size_t off = 0;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < nr; i++) {
		int n = snprintf(buf + off, len - off, "%s%s == %d", i ? " || " : "", field,
				 (int)ids[i]);

		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return 0;
}

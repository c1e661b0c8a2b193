/* Kernel-side filters: the event attribute bits that keep one side of a stack. */
#include "kfilter.h"

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

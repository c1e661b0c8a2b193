/* Measures perf's local clock against CLOCK_MONOTONIC with page-fault samples (perfclock.h). */
#include "perfclock.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#define PERFCLOCK_TRIES 8

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The samples written since *@tail, as (time) records: returns how many,
 * and the time of the last in @time. The ring is one data page and only
 * a few 16-byte samples are ever written, so it never wraps.
 */
static int read_samples(struct perf_event_mmap_page *meta, long page, uint64_t *tail,
			uint64_t *time)
{
	/* data_offset and data_size came with 4.1: before, data is the page after this one. */
	uint64_t off = meta->data_offset ? meta->data_offset : (uint64_t)page;
	uint64_t size = meta->data_size ? meta->data_size : (uint64_t)page;
	const unsigned char *data = (const unsigned char *)meta + off;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	int n = 0;

	while (*tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;

		if (*tail + sizeof(h) > size)
			break;
		memcpy(&h, data + *tail, sizeof(h));
		if (h.size < sizeof(h) || *tail + h.size > head || *tail + h.size > size)
			break;
		if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 8) {
			memcpy(time, data + *tail + sizeof(h), 8);
			n++;
		}
		*tail += h.size;
	}
	return n;
}

int perfclock__measure(int64_t *offset, uint64_t *err)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_PAGE_FAULTS,
		.sample_period = 1,
		.sample_type = PERF_SAMPLE_TIME,
		/* A user-mode fault is sampled with user registers: kept with exclude_kernel. */
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	long page = sysconf(_SC_PAGESIZE);
	uint64_t tail = 0, best = UINT64_MAX;
	struct perf_event_mmap_page *meta;
	int fd, ret = -EAGAIN;

	fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	meta = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (meta == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	mono_ns(); /* the vDSO's data pages are touched before the first bracket */
	for (int i = 0; i < PERFCLOCK_TRIES; i++) {
		volatile char *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0, t1, stamp = 0;

		if (p == MAP_FAILED)
			continue;
		read_samples(meta, page, &tail, &stamp); /* whatever faulted before */
		t0 = mono_ns();
		*p = 1; /* a fresh anonymous page: one fault, sampled in the kernel */
		t1 = mono_ns();
		/* Exactly one new sample, or the bracket cannot be trusted. */
		if (read_samples(meta, page, &tail, &stamp) == 1 && t1 - t0 < best) {
			best = t1 - t0;
			*offset = (int64_t)(t0 + (t1 - t0) / 2 - stamp);
			*err = (t1 - t0 + 1) / 2;
			ret = 0;
		}
		munmap((void *)p, page);
	}
	munmap(meta, 2 * page);
out_close:
	close(fd);
	return ret;
}

/*
 * Record decoding of what older kernels and newer attr bits write: MMAP2
 * with a build-id in place of the inode data (attr.build_id), MMAP2 with
 * inode data, and side-band records without the sample_id trailer (no
 * sample_id_all).
 */
#include "core/record.h"

#include <linux/perf_event.h>

#include "check.h"

#define ID 0x1234

static const struct sp_record_format fmt = {
	.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
		       PERF_SAMPLE_CPU,
	.sample_id_all = 1,
};

static const struct sp_record_format *fmt_of(void *ctx, uint64_t id, int *evidx)
{
	(void)ctx;
	*evidx = 3;
	return id == ID ? &fmt : NULL;
}

/* A byte buffer a record is written into, 8-byte aligned. */
struct buf {
	uint64_t words[64];
	size_t len;
};

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy((char *)b->words + b->len, p, n);
	b->len += n;
}

static void put_u32_pair(struct buf *b, uint32_t lo, uint32_t hi)
{
	put(b, &lo, 4);
	put(b, &hi, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put(b, &v, 8);
}

/* An MMAP2 body; @build_id NULL writes maj/min/ino/generation instead. */
static void mmap2_body(struct buf *b, uint16_t misc, const uint8_t *build_id, uint8_t size,
		       const char *name)
{
	struct perf_event_header h = { .type = PERF_RECORD_MMAP2, .misc = misc };
	unsigned char ids[24] = { 0 };
	size_t name_len = strlen(name) + 1, pad = (8 - name_len % 8) % 8;
	static const char zeros[8];

	b->len = 0;
	put(b, &h, sizeof(h));
	put_u32_pair(b, 100, 101);
	put_u64(b, 0x400000);
	put_u64(b, 0x2000);
	put_u64(b, 0x1000);
	if (build_id) {
		ids[0] = size;
		memcpy(ids + 4, build_id, size);
	} else {
		uint32_t maj = 8, min = 1;
		uint64_t ino = 4242, gen = 7;

		memcpy(ids, &maj, 4);
		memcpy(ids + 4, &min, 4);
		memcpy(ids + 8, &ino, 8);
		memcpy(ids + 16, &gen, 8);
	}
	put(b, ids, sizeof(ids));
	put_u32_pair(b, 5 /* PROT_READ | PROT_EXEC */, 2 /* MAP_PRIVATE */);
	put(b, name, name_len);
	put(b, zeros, pad);
}

/* The sample_id trailer: tid, time, cpu, identifier. */
static void trailer(struct buf *b)
{
	put_u32_pair(b, 100, 101);
	put_u64(b, 777);
	put_u32_pair(b, 1, 0);
	put_u64(b, ID);
}

/* Sets the header's size field (bytes 6-7) to @size. */
static void set_size(struct buf *b, size_t size)
{
	uint16_t sz = (uint16_t)size;

	memcpy((char *)b->words + 6, &sz, 2);
}

static void finish(struct buf *b)
{
	set_size(b, b->len);
}

static void test_mmap2_build_id(void)
{
	static const uint8_t bid[20] = {
		0xde, 0x67, 0xd2, 0xb8, 0xf4, 0x1a, 0xd2, 0xe5, 0x68, 0xa1,
		0x02, 0xa5, 0x99, 0x14, 0x9c, 0x9d, 0xf1, 0x5e, 0xf3, 0x62,
	};
	struct sp_record r;
	struct buf b;

	mmap2_body(&b, PERF_RECORD_MISC_MMAP_BUILD_ID, bid, 20, "/usr/bin/x");
	trailer(&b);
	finish(&b);
	CHECK(record__decode(b.words, &r, fmt_of, NULL) == 0);
	CHECK_EQ_U64(r.build_id_size, 20);
	CHECK(r.build_id && !memcmp(r.build_id, bid, 20));
	CHECK_STR(r.filename, "/usr/bin/x");
	CHECK_EQ_U64(r.addr, 0x400000);
	CHECK_EQ_U64(r.pgoff, 0x1000);
	CHECK_EQ_U64(r.prot, 5);
	CHECK_EQ_U64(r.time, 777);
	CHECK_EQ_U64(r.evidx, 3);

	/* Without the misc flag the same bytes are inode data: no build-id. */
	mmap2_body(&b, 0, NULL, 0, "/usr/bin/x");
	trailer(&b);
	finish(&b);
	CHECK(record__decode(b.words, &r, fmt_of, NULL) == 0);
	CHECK_EQ_U64(r.build_id_size, 0);
	CHECK(r.build_id == NULL);
	CHECK_STR(r.filename, "/usr/bin/x");

	/* A size past the 20 bytes the record holds is not trusted. */
	mmap2_body(&b, PERF_RECORD_MISC_MMAP_BUILD_ID, bid, 20, "/usr/bin/x");
	((unsigned char *)b.words)[sizeof(struct perf_event_header) + 32] = 21;
	trailer(&b);
	finish(&b);
	CHECK(record__decode(b.words, &r, fmt_of, NULL) == 0);
	CHECK_EQ_U64(r.build_id_size, 0);
}

static void test_bare_sideband(void)
{
	struct perf_event_header h = {
		.type = PERF_RECORD_COMM,
		.misc = PERF_RECORD_MISC_COMM_EXEC,
	};
	struct sp_record r;
	struct buf b;

	/* MMAP2 without a trailer: the body alone, no time, no event. */
	mmap2_body(&b, 0, NULL, 0, "/lib/libc.so.6");
	finish(&b);
	CHECK(record__decode_bare(b.words, &r) == 0);
	CHECK_STR(r.filename, "/lib/libc.so.6");
	CHECK_EQ_U64(r.pid, 100);
	CHECK_EQ_U64(r.tid, 101);
	CHECK_EQ_U64(r.time, 0);
	CHECK_EQ_U64(r.evidx, (uint64_t)-1);
	/* The same record through the id-based decoder has no id to find. */
	CHECK(record__decode(b.words, &r, fmt_of, NULL) != 0);

	/* COMM with exec. */
	b.len = 0;
	put(&b, &h, sizeof(h));
	put_u32_pair(&b, 200, 200);
	put(&b, "worker\0\0", 8);
	finish(&b);
	CHECK(record__decode_bare(b.words, &r) == 0);
	CHECK_STR(r.comm, "worker");
	CHECK_EQ_U64(r.pid, 200);
	CHECK(r.misc & PERF_RECORD_MISC_COMM_EXEC);

	/* FORK keeps the time its body carries. */
	h.type = PERF_RECORD_FORK;
	h.misc = 0;
	b.len = 0;
	put(&b, &h, sizeof(h));
	put_u32_pair(&b, 300, 200);
	put_u32_pair(&b, 301, 200);
	put_u64(&b, 123456789);
	finish(&b);
	CHECK(record__decode_bare(b.words, &r) == 0);
	CHECK_EQ_U64(r.pid, 300);
	CHECK_EQ_U64(r.ppid, 200);
	CHECK_EQ_U64(r.tid, 301);
	CHECK_EQ_U64(r.time, 123456789);

	/* A truncated FORK, and a SAMPLE, are refused. */
	set_size(&b, b.len - 8);
	CHECK(record__decode_bare(b.words, &r) != 0);
	h.type = PERF_RECORD_SAMPLE;
	b.len = 0;
	put(&b, &h, sizeof(h));
	put_u64(&b, ID);
	finish(&b);
	CHECK(record__decode_bare(b.words, &r) != 0);
}

int main(void)
{
	test_mmap2_build_id();
	test_bare_sideband();
	CHECK_DONE();
}

/* Decodes raw perf ring-buffer records into struct sp_record, bounds-checked against the record size. */
#include "record.h"

#include <errno.h>
#include <string.h>
#include <linux/perf_event.h>

/* A cursor over one record's bytes: every read checks it stays inside. */
struct cursor {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t cur_u64(struct cursor *c)
{
	uint64_t v = 0;

	if (c->end - c->p < 8) {
		c->bad = 1;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, 8);
	c->p += 8;
	return v;
}

static void cur_u32_pair(struct cursor *c, uint32_t *a, uint32_t *b)
{
	uint64_t v = cur_u64(c);

	/* Two u32 packed in one u64 slot, first in the low half (little endian). */
	*a = (uint32_t)v;
	*b = (uint32_t)(v >> 32);
}

static const void *cur_bytes(struct cursor *c, uint64_t n)
{
	const void *at = c->p;

	if ((uint64_t)(c->end - c->p) < n) {
		c->bad = 1;
		c->p = c->end;
		return NULL;
	}
	c->p += n;
	return at;
}

/* Size of the sample_id trailer that side-band records carry with sample_id_all. */
static size_t sample_id_size(uint64_t st)
{
	size_t n = 0;

	n += (st & PERF_SAMPLE_TID) ? 8 : 0;
	n += (st & PERF_SAMPLE_TIME) ? 8 : 0;
	n += (st & PERF_SAMPLE_ID) ? 8 : 0;
	n += (st & PERF_SAMPLE_STREAM_ID) ? 8 : 0;
	n += (st & PERF_SAMPLE_CPU) ? 8 : 0;
	n += (st & PERF_SAMPLE_IDENTIFIER) ? 8 : 0;
	return n;
}

static void parse_sample_id(struct cursor *c, uint64_t st, struct sp_record *rec)
{
	if (st & PERF_SAMPLE_TID)
		cur_u32_pair(c, &rec->pid, &rec->tid);
	if (st & PERF_SAMPLE_TIME)
		rec->time = cur_u64(c);
	if (st & PERF_SAMPLE_ID)
		rec->id = cur_u64(c);
	if (st & PERF_SAMPLE_STREAM_ID)
		cur_u64(c);
	if (st & PERF_SAMPLE_CPU) {
		uint32_t res;

		cur_u32_pair(c, &rec->cpu, &res);
	}
	if (st & PERF_SAMPLE_IDENTIFIER)
		rec->id = cur_u64(c);
}

static int decode_sample(struct cursor *c, const struct sp_record_format *fmt,
			 struct sp_record *rec)
{
	uint64_t st = fmt->sample_type;

	if (st & PERF_SAMPLE_IDENTIFIER)
		rec->id = cur_u64(c);
	if (st & PERF_SAMPLE_IP)
		rec->ip = cur_u64(c);
	if (st & PERF_SAMPLE_TID)
		cur_u32_pair(c, &rec->pid, &rec->tid);
	if (st & PERF_SAMPLE_TIME)
		rec->time = cur_u64(c);
	if (st & PERF_SAMPLE_ADDR)
		rec->sample_addr = cur_u64(c);
	if (st & PERF_SAMPLE_ID)
		rec->id = cur_u64(c);
	if (st & PERF_SAMPLE_STREAM_ID)
		cur_u64(c);
	if (st & PERF_SAMPLE_CPU) {
		uint32_t res;

		cur_u32_pair(c, &rec->cpu, &res);
	}
	if (st & PERF_SAMPLE_PERIOD)
		rec->period = cur_u64(c);
	if (st & PERF_SAMPLE_READ)
		return -EINVAL; /* never requested: its layout depends on read_format */
	if (st & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr = cur_u64(c);

		if (nr > (uint64_t)(c->end - c->p) / 8)
			return -EINVAL;
		rec->nr_ips = (uint32_t)nr;
		rec->ips = cur_bytes(c, nr * 8);
	}
	if (st & PERF_SAMPLE_RAW) {
		uint32_t size, pad;
		const unsigned char *start = c->p;

		/* u32 size, then size bytes; the whole is padded to 8 bytes. */
		if (c->end - c->p < 4)
			return -EINVAL;
		memcpy(&size, c->p, 4);
		c->p += 4;
		rec->raw_size = size;
		rec->raw = cur_bytes(c, size);
		pad = (uint32_t)((c->p - start) & 7);
		if (!c->bad && pad)
			cur_bytes(c, 8 - pad);
	}
	if (st & PERF_SAMPLE_BRANCH_STACK)
		return -EINVAL; /* never requested */
	if (st & PERF_SAMPLE_REGS_USER) {
		rec->user_abi = cur_u64(c);
		if (rec->user_abi) {
			uint32_t n = (uint32_t)__builtin_popcountll(fmt->sample_regs_user);

			rec->nr_user_regs = n;
			rec->user_regs = cur_bytes(c, (uint64_t)n * 8);
			rec->user_regs_mask = fmt->sample_regs_user;
		}
	}
	if (st & PERF_SAMPLE_STACK_USER) {
		uint64_t size = cur_u64(c);

		if (size) {
			const void *data = cur_bytes(c, size);
			uint64_t dyn = cur_u64(c);

			rec->user_stack = data;
			rec->user_stack_size = dyn < size ? dyn : size;
		}
	}
	return c->bad ? -EINVAL : 0;
}

/* Length of a NUL-terminated string that must end before @end. */
static const char *bounded_string(const unsigned char *p, const unsigned char *end)
{
	if (p >= end || !memchr(p, 0, (size_t)(end - p)))
		return NULL;
	return (const char *)p;
}

/* The body of a side-band record, between the header and any sample_id trailer. */
static int decode_body(struct cursor *c, const struct perf_event_header *hdr,
		       struct sp_record *rec)
{
	switch (hdr->type) {
	case PERF_RECORD_MMAP2: {
		const unsigned char *ids;

		cur_u32_pair(c, &rec->pid, &rec->tid);
		rec->addr = cur_u64(c);
		rec->len = cur_u64(c);
		rec->pgoff = cur_u64(c);
		/*
		 * 24 bytes: maj, min, ino, ino_generation; or, with the misc
		 * flag, u8 build_id_size, 3 reserved bytes, build_id[20].
		 */
		ids = cur_bytes(c, 24);
		cur_u32_pair(c, &rec->prot, &rec->flags);
		if (c->bad)
			return -EINVAL;
		if ((hdr->misc & PERF_RECORD_MISC_MMAP_BUILD_ID) && ids[0] && ids[0] <= 20) {
			rec->build_id_size = ids[0];
			rec->build_id = ids + 4;
		}
		rec->filename = bounded_string(c->p, c->end);
		return rec->filename ? 0 : -EINVAL;
	}
	case PERF_RECORD_COMM:
		cur_u32_pair(c, &rec->pid, &rec->tid);
		if (c->bad)
			return -EINVAL;
		rec->comm = bounded_string(c->p, c->end);
		return rec->comm ? 0 : -EINVAL;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		cur_u32_pair(c, &rec->pid, &rec->ppid);
		cur_u32_pair(c, &rec->tid, &rec->ptid);
		rec->time = cur_u64(c);
		break;
	case PERF_RECORD_LOST:
		cur_u64(c); /* id of the event that lost */
		rec->lost = cur_u64(c);
		break;
	case PERF_RECORD_LOST_SAMPLES:
		rec->lost = cur_u64(c);
		break;
	case PERF_RECORD_THROTTLE:
	case PERF_RECORD_UNTHROTTLE:
		rec->time = cur_u64(c);
		break;
	case PERF_RECORD_SWITCH_CPU_WIDE:
		cur_u32_pair(c, &rec->next_prev_pid, &rec->next_prev_tid);
		break;
	default:
		/* Known-size-agnostic: SWITCH and others need only the sample_id. */
		break;
	}
	return c->bad ? -EINVAL : 0;
}

static void cursor_init(struct cursor *c, const void *ev, struct sp_record *rec)
{
	const struct perf_event_header *hdr = ev;

	memset(rec, 0, sizeof(*rec));
	rec->evidx = -1;
	rec->type = hdr->type;
	rec->misc = hdr->misc;
	c->p = (const unsigned char *)ev + sizeof(*hdr);
	c->end = (const unsigned char *)ev + hdr->size;
	c->bad = 0;
}

int record__decode(const void *ev, struct sp_record *rec,
		   const struct sp_record_format *(*fmt_of)(void *ctx, uint64_t id,
							    int *evidx),
		   void *ctx)
{
	const struct perf_event_header *hdr = ev;
	const struct sp_record_format *fmt = NULL;
	struct cursor c;
	const unsigned char *trailer;
	uint64_t id;

	if (hdr->size < sizeof(*hdr)) {
		memset(rec, 0, sizeof(*rec));
		return -EINVAL;
	}
	cursor_init(&c, ev, rec);

	/*
	 * Every event carries PERF_SAMPLE_IDENTIFIER: first word of a sample,
	 * last word of any other record, so the format is known before the
	 * rest is parsed.
	 */
	if (c.end - c.p < 8)
		return -EINVAL;
	if (hdr->type == PERF_RECORD_SAMPLE)
		memcpy(&id, c.p, 8);
	else
		memcpy(&id, c.end - 8, 8);
	fmt = fmt_of(ctx, id, &rec->evidx);
	if (!fmt)
		return -EINVAL;

	if (hdr->type == PERF_RECORD_SAMPLE)
		return decode_sample(&c, fmt, rec);

	if (!fmt->sample_id_all)
		return -EINVAL;
	if ((size_t)(c.end - c.p) < sample_id_size(fmt->sample_type))
		return -EINVAL;
	trailer = c.end - sample_id_size(fmt->sample_type);
	{
		struct cursor t = { .p = trailer, .end = c.end };

		parse_sample_id(&t, fmt->sample_type, rec);
	}
	c.end = trailer;
	return decode_body(&c, hdr, rec);
}

int record__decode_bare(const void *ev, struct sp_record *rec)
{
	const struct perf_event_header *hdr = ev;
	struct cursor c;

	if (hdr->size < sizeof(*hdr) || hdr->type == PERF_RECORD_SAMPLE) {
		memset(rec, 0, sizeof(*rec));
		return -EINVAL;
	}
	cursor_init(&c, ev, rec);
	return decode_body(&c, hdr, rec);
}

bool record__user_reg(const struct sp_record *rec, unsigned int regno, uint64_t *val)
{
	unsigned int idx;

	if (!rec->user_abi || !rec->user_regs || regno >= 64 ||
	    !(rec->user_regs_mask & (1ULL << regno)))
		return false;
	/* The kernel writes the registers in bit order: count the bits below. */
	idx = (unsigned int)__builtin_popcountll(rec->user_regs_mask & ((1ULL << regno) - 1));
	if (idx >= rec->nr_user_regs)
		return false;
	*val = rec->user_regs[idx];
	return true;
}

const char *record__type_name(uint32_t type)
{
	switch (type) {
	case PERF_RECORD_SAMPLE:
		return "SAMPLE";
	case PERF_RECORD_MMAP:
		return "MMAP";
	case PERF_RECORD_MMAP2:
		return "MMAP2";
	case PERF_RECORD_COMM:
		return "COMM";
	case PERF_RECORD_FORK:
		return "FORK";
	case PERF_RECORD_EXIT:
		return "EXIT";
	case PERF_RECORD_LOST:
		return "LOST";
	case PERF_RECORD_LOST_SAMPLES:
		return "LOST_SAMPLES";
	case PERF_RECORD_THROTTLE:
		return "THROTTLE";
	case PERF_RECORD_UNTHROTTLE:
		return "UNTHROTTLE";
	case PERF_RECORD_SWITCH:
		return "SWITCH";
	case PERF_RECORD_SWITCH_CPU_WIDE:
		return "SWITCH_CPU_WIDE";
	default:
		return "OTHER";
	}
}

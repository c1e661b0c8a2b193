/* One decoded perf record: every ring-buffer record is turned into this plain struct once. */
#ifndef STACKPROF_RECORD_H
#define STACKPROF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Which fields are valid depends on @type (a PERF_RECORD_* value). Pointers
 * point into the record's own storage and live as long as the record.
 */
struct sp_record {
	uint32_t type; /* PERF_RECORD_* */
	uint16_t misc; /* PERF_RECORD_MISC_* */
	int evidx; /* index of the event that produced it, -1 if unknown */

	/* sample_id fields: SAMPLE, and side-band records with sample_id_all */
	uint64_t time; /* ns, CLOCK_MONOTONIC */
	uint32_t pid, tid;
	uint32_t cpu;
	uint64_t id;

	/* SAMPLE */
	uint64_t ip;
	uint64_t period;
	uint32_t nr_ips; /* callchain, leaf first, with PERF_CONTEXT_* markers */
	const uint64_t *ips;
	uint32_t raw_size; /* tracepoint payload */
	const void *raw;
	uint64_t sample_addr; /* PERF_SAMPLE_ADDR */
	uint64_t user_abi; /* PERF_SAMPLE_REGS_USER: 0 = no regs */
	uint32_t nr_user_regs;
	const uint64_t *user_regs; /* in sample_regs_user bit order */
	uint64_t user_regs_mask; /* the event's sample_regs_user: which registers those are */
	uint64_t user_stack_size; /* PERF_SAMPLE_STACK_USER: bytes valid in user_stack */
	const void *user_stack;

	/* MMAP2 */
	uint64_t addr, len, pgoff;
	uint32_t prot, flags;
	const char *filename;
	/* With PERF_RECORD_MISC_MMAP_BUILD_ID (attr.build_id, 5.12+), else 0 and NULL. */
	uint32_t build_id_size;
	const uint8_t *build_id;

	/* COMM */
	const char *comm;

	/* FORK, EXIT: pid/tid above are the child, these the parent */
	uint32_t ppid, ptid;

	/* LOST (records), LOST_SAMPLES */
	uint64_t lost;

	/* SWITCH_CPU_WIDE: the task switched to (out) or from (in) */
	uint32_t next_prev_pid, next_prev_tid;

	/* Set by the profiler's peek hook, 0 otherwise; never decoded. */
	uint64_t note;
};

/* What the decoder needs to know about the event a record came from. */
struct sp_record_format {
	uint64_t sample_type;
	uint64_t sample_regs_user;
	int sample_id_all;
};

/*
 * Decodes the perf_event_header-prefixed record at @ev (a copy the caller
 * owns) into @rec. @fmt_of maps a sample id to its event's format and index;
 * every event is opened with PERF_SAMPLE_IDENTIFIER so the id can be found
 * before the format is known. Returns 0, or -EINVAL for a truncated or
 * malformed record.
 */
int record__decode(const void *ev, struct sp_record *rec,
		   const struct sp_record_format *(*fmt_of)(void *ctx, uint64_t id,
							    int *evidx),
		   void *ctx);

/*
 * Decodes a side-band record (any type but SAMPLE) written without the
 * sample_id trailer, as a kernel without sample_id_all writes them: time,
 * cpu and id are 0 unless the record's own body carries them (FORK, EXIT,
 * THROTTLE carry a time), evidx is -1, pid/tid are the body's. Returns 0, or
 * -EINVAL for a truncated or malformed record or a SAMPLE.
 */
int record__decode_bare(const void *ev, struct sp_record *rec);

/*
 * User register @regno (a PERF_REG_* number) of a sample, found by its bit
 * in the event's mask: events that ask for different registers, or for
 * more than one consumer needs, still read each register right. Returns
 * false when the sample does not carry it.
 */
bool record__user_reg(const struct sp_record *rec, unsigned int regno, uint64_t *val);

/* Name of a PERF_RECORD_* type, for debug output. */
const char *record__type_name(uint32_t type);

#endif

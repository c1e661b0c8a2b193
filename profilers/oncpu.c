/*
 * oncpu: where the CPUs spend their time. Samples the cycles hardware event
 * in frequency mode, or cpu-clock where there is no hardware PMU, and counts
 * samples per stack.
 */
#include "core/emit.h"
#include "core/output.h"
#include "core/features.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/profiler.h"
#include "core/record.h"
#include "core/session.h"
#include "core/stack_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ONCPU_DEFAULT_FREQ 99

static struct {
	uint64_t freq;
	const char *forced_event; /* -e: "cycles" or "cpu-clock" */
	const char *event; /* the one in use */
	struct stack_table *total;
	struct stack_table *interval; /* -i: samples since the last tick */
	unsigned int ticks;
} oncpu = {
	.freq = ONCPU_DEFAULT_FREQ,
};

static const struct profiler_option oncpu_options[] = {
	{ "freq", 'F', "HZ", "samples per second per CPU (99)" },
	{ "event", 'e', "EVENT", "cycles or cpu-clock (default: cycles, else cpu-clock)" },
	{ 0 },
};

static uint64_t max_sample_rate(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "r");
	unsigned long long v = 100000;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 100000;
		fclose(f);
	}
	return v;
}

static int oncpu_parse_option(int key, const char *arg)
{
	switch (key) {
	case 'F':
		if (parse__u64(arg, 1, UINT32_MAX, &oncpu.freq)) {
			pr_warn("oncpu: bad frequency '%s': expected a whole number of Hz, at least 1",
				arg);
			return -EINVAL;
		}
		return 0;
	case 'e':
		if (strcmp(arg, "cycles") && strcmp(arg, "cpu-clock")) {
			pr_warn("oncpu: unknown event '%s': expected cycles or cpu-clock", arg);
			return -EINVAL;
		}
		oncpu.forced_event = arg;
		return 0;
	}
	return -EINVAL;
}

static int oncpu_setup(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	uint64_t max = max_sample_rate();
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE,
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.freq = 1,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_PERIOD,
	};
	int idx;

	/*
	 * The kernel refuses a frequency above its limit (and lowers the limit
	 * itself when sampling takes too long): sample at the limit instead.
	 */
	if (oncpu.freq > max) {
		pr_warn("oncpu: -F %llu is above kernel.perf_event_max_sample_rate: sampling at "
			"%llu Hz (raise it with 'sysctl kernel.perf_event_max_sample_rate=%llu')",
			(unsigned long long)oncpu.freq, (unsigned long long)max,
			(unsigned long long)oncpu.freq);
		oncpu.freq = max;
	}
	attr.sample_freq = oncpu.freq;
	if (o->callchain)
		attr.sample_type |= PERF_SAMPLE_CALLCHAIN;

	/* Probe, then fall back: no hardware PMU (VMs) answers ENOENT or EOPNOTSUPP. */
	oncpu.event = "cycles";
	if (oncpu.forced_event && !strcmp(oncpu.forced_event, "cpu-clock")) {
		oncpu.event = "cpu-clock";
	} else if (!features__has(FEAT_CYCLES)) {
		if (oncpu.forced_event) {
			pr_warn("oncpu: cannot use cycles: %s (use -e cpu-clock)",
				features__forced_off(FEAT_CYCLES)
					? "STACKPROF_FORCE_NO_CYCLES is set"
					: "this machine has no hardware PMU");
			return -EOPNOTSUPP;
		}
		oncpu.event = "cpu-clock";
	}
	if (!strcmp(oncpu.event, "cpu-clock")) {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
	}
	pr_info("oncpu: sampling %s at %llu Hz", oncpu.event, (unsigned long long)oncpu.freq);

	oncpu.total = session__stack_table(s, 1);
	if (!oncpu.total)
		return -errno;
	if (o->interval > 0) {
		oncpu.interval = session__stack_table(s, 1);
		if (!oncpu.interval)
			return -errno;
	}
	idx = session__add_event(s, &attr, oncpu.event);
	return idx < 0 ? idx : 0;
}

static void oncpu_sample(struct session *s, const struct sp_record *rec)
{
	static const uint64_t one = 1;

	session__account(s, oncpu.total, rec, &one);
	if (oncpu.interval)
		session__account(s, oncpu.interval, rec, &one);
}

static void print_table(struct session *s, struct stack_table *t, FILE *f)
{
	const struct sp_opts *o = session__opts(s);
	struct emit_opts eo = {
		.val_idx = 0,
		.annotate = false,
		.top = o->top,
		.width = isatty(fileno(f)) ? 160 : 0,
		.unit = "SAMPLES",
	};

	emit__table(f, t, session__syms(s), &eo);
}

static void oncpu_tick(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	double elapsed = (double)(session__now() - session__start_time(s)) / 1e9;

	oncpu.ticks++;
	printf("# oncpu live %u: %llu samples in the last %.3g s (%.1f s elapsed)\n", oncpu.ticks,
	       (unsigned long long)stack_table__total(oncpu.interval, 0), o->interval, elapsed);
	session__print_losses(s, stdout, false);
	print_table(s, oncpu.interval, stdout);
	putchar('\n');
	fflush(stdout);
	stack_table__reset(oncpu.interval);
}

static int oncpu_report(struct session *s)
{
	const struct sp_opts *o = session__opts(s);
	double secs = (double)(session__end_time(s) - session__start_time(s)) / 1e9;
	char mark[128];
	int err = 0;

	printf("# oncpu: %llu samples of %s at %llu Hz over %.2f s%s%s\n",
	       (unsigned long long)stack_table__total(oncpu.total, 0), oncpu.event,
	       (unsigned long long)oncpu.freq, secs, o->callchain ? ", with call chains" : "",
	       session__approx_mark(s, stack_table__dropped(oncpu.total), mark, sizeof(mark)));
	session__print_losses(s, stdout, false);
	session__print_dropped(s, stdout, oncpu.total, "samples");
	session__warn_losses(s, "sample counts", "or lower -F");
	pr_info("oncpu: stack table: %zu stacks, %zu bytes of %zu", stack_table__nr_entries(oncpu.total),
		stack_table__bytes(oncpu.total), stack_table__max_bytes(oncpu.total));
	print_table(s, oncpu.total, stdout);
	fflush(stdout);
	if (o->nr_outputs) {
		static const struct report_value values[] = { { "samples", "count", 0, 0 } };
		struct emit_part part = { oncpu.total, { .val_idx = 0, .annotate = o->annotate } };
		struct output_job job = {
			.who = "oncpu", .parts = &part, .nr_parts = 1,
			.values = values, .nr_values = 1,
			.meta = { .profiler = "oncpu", .events = oncpu.event,
				  .frequency = oncpu.freq,
				  .samples = stack_table__total(oncpu.total, 0) },
		};

		err = output__write_all(s, &job);
	}
	return err;
}

static void oncpu_teardown(struct session *s)
{
	(void)s;
	stack_table__delete(oncpu.total);
	stack_table__delete(oncpu.interval);
	oncpu.total = oncpu.interval = NULL;
}

const struct profiler oncpu_profiler = {
	.name = "oncpu",
	.summary = "CPU time per stack, by sampling (cycles, or cpu-clock without a PMU)",
	.examples = "  stackprof oncpu -F 997 -g                      # all CPUs until Ctrl-C\n"
		    "  stackprof oncpu -F 997 -g -d 10 -o cpu.folded  # 10 s, folded stacks to a file\n"
		    "  stackprof oncpu -F 997 -g -p 1234,1240         # existing processes\n"
		    "  stackprof oncpu -F 997 -g -t 1235              # one thread\n"
		    "  stackprof oncpu -F 997 -g -C 0-1               # some CPUs\n"
		    "  stackprof oncpu -F 997 -g -- ./myprog args     # launch and profile a command\n"
		    "  stackprof oncpu -F 997 -g -i 2                 # live top-N table every 2 s\n"
		    "  stackprof oncpu -F 997 --call-graph dwarf -- ./myprog  # no frame pointers\n"
		    "  stackprof oncpu -F 997 -g -d 3600 --max-stacks 200000 -o day.folded\n",
	.options = oncpu_options,
	.parse_option = oncpu_parse_option,
	.setup = oncpu_setup,
	.sample = oncpu_sample,
	.tick = oncpu_tick,
	.report = oncpu_report,
	.teardown = oncpu_teardown,
};

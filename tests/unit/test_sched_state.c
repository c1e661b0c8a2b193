/*
 * sched_switch prev_state decoding across kernel encodings: the 6.18 format
 * copied from this machine, a hand-written 4.9 one (raw task-state bits,
 * TASK_STATE_MAX 2048 as the preempt marker), a TASK_REPORT one with plain
 * numbers and a 4-byte prev_state, and formats whose print fmt cannot be
 * used, which must fall back to the 4.14+ bit table.
 */
#define _GNU_SOURCE /* unshare() */
#include "trace/sched_state.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <unistd.h>

#include "check.h"
#include "trace/tp.h"
#include "trace/tracefs.h"

static const char *fixture_path(const char *name, char *buf, size_t len)
{
#ifdef STACKPROF_SOURCE_DIR
	snprintf(buf, len, "%s/tests/data/formats/%s", STACKPROF_SOURCE_DIR, name);
#else
	const char *slash = strrchr(__FILE__, '/');
	int dir_len = slash ? (int)(slash - __FILE__) : 1;

	snprintf(buf, len, "%.*s/../data/formats/%s", dir_len, slash ? __FILE__ : ".", name);
#endif
	return buf;
}

static struct tp *load_fixture(const char *name)
{
	char path[PATH_MAX], text[16384];
	struct tp *tp;
	size_t n;
	FILE *f;

	f = fopen(fixture_path(name, path, sizeof(path)), "r");
	if (!f) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		return NULL;
	}
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	tp = tp__parse("sched", text, n);
	if (!tp)
		fprintf(stderr, "cannot parse fixture %s\n", path);
	return tp;
}

static void check_state(struct sched_state *d, uint64_t value, char state, bool preempted,
			const char *what, int line)
{
	struct sched_state_info info = sched_state__decode(d, value);

	if (info.state != state || info.preempted != preempted) {
		fprintf(stderr, "%s:%d: %s: prev_state %#llx gave '%c'%s, want '%c'%s\n", __FILE__,
			line, what, (unsigned long long)value, info.state,
			info.preempted ? "+" : "", state, preempted ? "+" : "");
		check_failures++;
	}
}

#define CHECK_STATE(d, value, state, preempted) \
	check_state(d, value, state, preempted, what, __LINE__)

/* Decodes every value twice: the second answer comes from the cache and must match. */
static void check_cache_stable(struct sched_state *d, const uint64_t *values, unsigned int n)
{
	struct sched_state_info a, b;
	unsigned int i, before;

	for (i = 0; i < n; i++)
		sched_state__decode(d, values[i]);
	before = sched_state__nr_cached(d);
	CHECK(before >= n); /* all distinct: each one cached */
	for (i = 0; i < n; i++) {
		a = sched_state__decode(d, values[i]);
		b = sched_state__decode(d, values[i]);
		CHECK(a.state == b.state && a.preempted == b.preempted);
	}
	CHECK_EQ_U64(sched_state__nr_cached(d), before); /* no value was decoded anew */
}

static struct sched_state *open_fixture(const char *name, struct tp **tpp)
{
	struct sched_state *d;

	*tpp = load_fixture(name);
	CHECK(*tpp != NULL);
	if (!*tpp)
		return NULL;
	d = sched_state__new(*tpp);
	CHECK(d != NULL);
	if (!d) {
		tp__delete(*tpp);
		*tpp = NULL;
	}
	return d;
}

static void test_6x(void)
{
	static const uint64_t values[] = {0, 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100};
	const char *what = "6.18";
	struct sched_state *d;
	struct tp *tp;

	d = open_fixture("sched_switch-6.18.format", &tp);
	if (!d)
		return;
	CHECK(sched_state__from_format(d));
	CHECK_STATE(d, 1, 'S', false);
	CHECK_STATE(d, 2, 'D', false);
	CHECK_STATE(d, 0, 'R', false);
	CHECK_STATE(d, 0x100, 'R', true); /* TASK_REPORT_MAX: preempted */
	CHECK_STATE(d, 0x80, 'I', false);
	CHECK_STATE(d, 4, 'T', false);
	CHECK_STATE(d, 8, 't', false);
	CHECK_STATE(d, 0x10, 'X', false);
	CHECK_STATE(d, 0x20, 'Z', false);
	CHECK_STATE(d, 0x40, 'P', false);
	/* Bits outside the report mask are not printed by this kernel: "R". */
	CHECK_STATE(d, 0x200, 'R', false);
	check_cache_stable(d, values, sizeof(values) / sizeof(values[0]));
	sched_state__delete(d);
	tp__delete(tp);
}

static void test_4_9(void)
{
	static const uint64_t values[] = {0, 1, 2, 0x82, 0x402, 0x800, 0x40, 0x20};
	const char *what = "4.9";
	struct sched_state *d;
	struct tp *tp;

	d = open_fixture("sched_switch-4.9.format", &tp);
	if (!d)
		return;
	CHECK(sched_state__from_format(d));
	CHECK_STATE(d, 1, 'S', false);
	CHECK_STATE(d, 2, 'D', false);
	CHECK_STATE(d, 0, 'R', false);
	CHECK_STATE(d, 2048, 'R', true);      /* TASK_STATE_MAX of 4.9 */
	CHECK_STATE(d, 128 | 2, 'D', false);  /* TASK_KILLABLE: "D|K" */
	CHECK_STATE(d, 1024 | 2, 'I', false); /* TASK_IDLE before 4.14: "D|N" */
	CHECK_STATE(d, 16, 'Z', false);	      /* Z and X swapped places in 4.14 */
	CHECK_STATE(d, 32, 'X', false);
	CHECK_STATE(d, 64, 'X', false); /* TASK_DEAD, printed "x" */
	CHECK_STATE(d, 512, 'P', false);
	CHECK_STATE(d, 4, 'T', false);
	CHECK_STATE(d, 8, 't', false);
	/* Waking alone names no state: unknown, not a guess. */
	CHECK_STATE(d, 256, '?', false);
	/* 0x80 is I on 6.x but K here: the format, not a fixed table, decides. */
	CHECK_STATE(d, 0x80, '?', false);
	check_cache_stable(d, values, sizeof(values) / sizeof(values[0]));
	sched_state__delete(d);
	tp__delete(tp);
}

static void test_report_u32(void)
{
	static const uint64_t values[] = {0, 1, 2, 0x80, 0x100};
	const char *what = "report-u32";
	unsigned char raw[64] = {0};
	struct sched_state *d;
	uint64_t v = 0;
	struct tp *tp;

	d = open_fixture("sched_switch-report-u32.format", &tp);
	if (!d)
		return;
	CHECK(sched_state__from_format(d));
	CHECK_EQ_U64(tp_field__size(tp__field(tp, "prev_state")), 4);
	/* A 4-byte unsigned prev_state at offset 32; the 4 bytes after it belong to next_comm. */
	raw[32] = 0x01;
	raw[33] = 0x01;
	memset(raw + 36, 0xff, 4);
	CHECK_EQ_U64(tp_field__u64(tp__field(tp, "prev_state"), raw, sizeof(raw), &v), 0);
	CHECK_EQ_U64(v, 0x101);
	CHECK_STATE(d, 1, 'S', false);
	CHECK_STATE(d, 2, 'D', false);
	CHECK_STATE(d, 0, 'R', false);
	CHECK_STATE(d, 0x100, 'R', true);
	CHECK_STATE(d, 0x80, 'I', false);
	check_cache_stable(d, values, sizeof(values) / sizeof(values[0]));
	sched_state__delete(d);
	tp__delete(tp);
}

/* Print fmts that cannot decode the state: the 4.14+ table takes over. */
static void test_fallback(void)
{
	static const char *const names[] = {"sched_switch-unknown-helper.format",
					    "sched_switch-numeric-state.format"};
	struct sched_state *d;
	unsigned int i;
	struct tp *tp;

	for (i = 0; i < 2; i++) {
		const char *what = names[i];

		d = open_fixture(names[i], &tp);
		if (!d)
			continue;
		CHECK(!sched_state__from_format(d));
		CHECK_STATE(d, 0, 'R', false);
		CHECK_STATE(d, 1, 'S', false);
		CHECK_STATE(d, 2, 'D', false);
		CHECK_STATE(d, 0x80, 'I', false);
		CHECK_STATE(d, 0x100, 'R', true);
		CHECK_STATE(d, 0x20, 'Z', false);
		sched_state__delete(d);
		tp__delete(tp);
	}
}

static void test_report_bits(void)
{
	struct sched_state_info i;

	i = sched_state__decode_report_bits(0);
	CHECK(i.state == 'R' && !i.preempted);
	i = sched_state__decode_report_bits(0x100);
	CHECK(i.state == 'R' && i.preempted);
	i = sched_state__decode_report_bits(0x10);
	CHECK(i.state == 'X' && !i.preempted);
	i = sched_state__decode_report_bits(0x40);
	CHECK(i.state == 'P');
}

/* More distinct values than the cache holds: answers stay right past it. */
static void test_cache_overflow(void)
{
	const char *what = "overflow";
	struct sched_state *d;
	struct tp *tp;
	uint64_t v;

	d = open_fixture("sched_switch-6.18.format", &tp);
	if (!d)
		return;
	for (v = 0; v < 200; v++)
		sched_state__decode(d, v << 9); /* outside the mask: all "R" */
	CHECK(sched_state__nr_cached(d) <= 64);
	CHECK_STATE(d, 1, 'S', false);
	CHECK_STATE(d, 0x100, 'R', true);
	CHECK_STATE(d, 199 << 9, 'R', false);
	sched_state__delete(d);
	tp__delete(tp);
}

static void test_no_prev_state(void)
{
	struct tp *tp = load_fixture("sched_wakeup-6.18.format");

	CHECK(tp != NULL);
	if (!tp)
		return;
	errno = 0;
	CHECK(sched_state__new(tp) == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	tp__delete(tp);
	errno = 0;
	CHECK(sched_state__new(NULL) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	sched_state__delete(NULL);
}

static void test_live(void)
{
	const char *what = "live";
	struct sched_state *d;
	struct tp *tp;

	if (geteuid() != 0) {
		printf("skip live sched_switch decoding: reading tracefs needs root\n");
		return;
	}
	/* Our own mount namespace: a tracefs we mount, or a parallel test unmounts, stays private.
	 */
	if (unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("skip live sched_switch decoding: private mount namespace: %s\n",
		       strerror(errno));
		return;
	}
	tp = tp__load("sched", "sched_switch");
	CHECK(tp != NULL);
	if (tp) {
		d = sched_state__new(tp);
		CHECK(d != NULL);
		if (d) {
			CHECK(sched_state__from_format(d));
			CHECK_STATE(d, 0, 'R', false);
			CHECK_STATE(d, 1, 'S', false);
			CHECK_STATE(d, 2, 'D', false);
			sched_state__delete(d);
		}
		tp__delete(tp);
	}
	tracefs__cleanup();
}

int main(void)
{
	test_6x();
	test_4_9();
	test_report_u32();
	test_fallback();
	test_report_bits();
	test_cache_overflow();
	test_no_prev_state();
	test_live();
	CHECK_DONE();
}

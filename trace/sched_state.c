/* Decoding sched_switch's prev_state the way this kernel's own print format spells it out. */
#include "sched_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "trace/tp.h"

/*
 * Distinct prev_state values are few (a handful of states, each with or
 * without the preempt marker), so a small open-addressed table holds them
 * all; values past it are decoded again on every call rather than evicting.
 */
#define SCHED_STATE_CACHE_BITS 6
#define SCHED_STATE_CACHE_SIZE (1u << SCHED_STATE_CACHE_BITS)

/* The 4.14+ TASK_REPORT encoding, used when the print format cannot be rendered. */
#define REPORT_MASK 0xffu
#define REPORT_MAX 0x100u
static const char report_letters[] = "SDTtXZPI"; /* bit 0 .. bit 7 */

struct sched_state_slot {
	uint64_t value;
	struct sched_state_info info;
	bool used;
};

struct sched_state {
	const struct tp *tp;
	const struct tp_field *prev_state;
	/* A zeroed record with only prev_state set, rendered by the event's print fmt. */
	unsigned char *rec;
	uint32_t rec_size;
	bool from_format; /* false: the format did not render sanely, use the bit table */
	bool full_logged;
	unsigned int nr_cached;
	struct sched_state_slot cache[SCHED_STATE_CACHE_SIZE];
};

struct sched_state_info sched_state__decode_report_bits(uint64_t prev_state)
{
	struct sched_state_info info = {.state = 'R'};
	unsigned int bits = prev_state & REPORT_MASK;

	info.preempted = prev_state & REPORT_MAX;
	if (bits)
		info.state = report_letters[__builtin_ctz(bits)];
	return info;
}

/*
 * Maps one '|'-separated flag of __print_flags' output to a state letter,
 * or 0 for a modifier that says nothing on its own. The letters of the
 * older raw-task-state tables: 'x' is TASK_DEAD (3.x-4.13), 'K' wakekill
 * (TASK_KILLABLE prints "D|K"), 'W' waking, 'N' noload, 'n' TASK_NEW.
 * Anything else, such as the hex remainder __print_flags prints for bits
 * its table lacks, is unknown.
 */
static char flag_letter(const char *s, size_t len, bool *modifier)
{
	*modifier = false;
	if (len != 1)
		return '?';
	switch (s[0]) {
	case 'R':
	case 'S':
	case 'D':
	case 'T':
	case 't':
	case 'X':
	case 'Z':
	case 'P':
	case 'I':
		return s[0];
	case 'x':
		return 'X';
	case 'K':
	case 'W':
	case 'N':
	case 'n':
		*modifier = true;
		return s[0];
	default:
		return '?';
	}
}

/*
 * Parses the rendered token after "prev_state=": "S", "D|K", "R+", ...
 * The first state letter wins (__print_flags lists flags in table order,
 * lowest bit first); a trailing '+' is the preempt marker. A token that
 * holds no letter we know is '?': the kernel printed it, so guessing from
 * another kernel's bit table would only be wrong with more confidence.
 */
static void parse_token(const char *tok, size_t len, struct sched_state_info *info)
{
	bool noload = false, modifier;
	char state = 0;
	size_t i, start;

	info->state = '?';
	info->preempted = false;
	if (len && tok[len - 1] == '+') {
		info->preempted = true;
		len--;
	}
	if (!len)
		return;
	for (start = 0, i = 0; i <= len; i++) {
		char c;

		if (i < len && tok[i] != '|')
			continue;
		c = flag_letter(tok + start, i - start, &modifier);
		start = i + 1;
		if (modifier) {
			noload |= c == 'N';
			continue;
		}
		if (c == '?')
			return;
		if (!state)
			state = c;
	}
	if (!state)
		return;
	/*
	 * From 4.2 to 4.13 an idle kernel thread waited in TASK_IDLE, which
	 * was TASK_UNINTERRUPTIBLE|TASK_NOLOAD and printed "D|N": not a task
	 * blocked on I/O. 4.14 gave it its own report bit, 'I'.
	 */
	if (state == 'D' && noload)
		state = 'I';
	info->state = state;
}

/* Renders @value through the print format. Returns 0, or -errno when it does not render. */
static int decode_rendered(struct sched_state *d, uint64_t value, struct sched_state_info *info)
{
	static const char key[] = "prev_state=";
	const char *tok, *end;
	char text[512];
	int n;

	n = tp_field__set_u64(d->prev_state, d->rec, d->rec_size, value);
	if (n)
		return n;
	n = tp__render(d->tp, d->rec, d->rec_size, text, sizeof(text));
	if (n < 0)
		return n;
	/* Both comm fields are empty in our record, so nothing before it can look like the key. */
	tok = strstr(text, key);
	if (!tok)
		return -ENOENT;
	tok += sizeof(key) - 1;
	end = strchr(tok, ' ');
	if (!end)
		end = tok + strlen(tok);
	parse_token(tok, (size_t)(end - tok), info);
	return 0;
}

static struct sched_state_info decode_uncached(struct sched_state *d, uint64_t value)
{
	struct sched_state_info info;
	int err;

	if (d->from_format) {
		err = decode_rendered(d, value, &info);
		if (!err) {
			pr_debug("sched_state: prev_state %#llx is '%c'%s by the print format",
				 (unsigned long long)value, info.state,
				 info.preempted ? " (preempted)" : "");
			return info;
		}
		pr_debug("sched_state: prev_state %#llx does not render (%s); using the 4.14+ "
			 "bit table",
			 (unsigned long long)value, strerror(-err));
	}
	return sched_state__decode_report_bits(value);
}

/*
 * Every kernel has TASK_RUNNING = 0 and TASK_INTERRUPTIBLE = 1: if the
 * format does not render those as "R" and "S", it cannot be trusted for
 * the rest (a distro's own print fmt, a libtraceevent that misreads it).
 */
static bool format_is_sane(struct sched_state *d)
{
	struct sched_state_info info;

	if (decode_rendered(d, 0, &info) || info.state != 'R' || info.preempted)
		return false;
	if (decode_rendered(d, 1, &info) || info.state != 'S' || info.preempted)
		return false;
	return true;
}

struct sched_state *sched_state__new(const struct tp *sched_switch)
{
	struct sched_state *d;

	if (!sched_switch) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->tp = sched_switch;
	d->prev_state = tp__field(sched_switch, "prev_state");
	if (!d->prev_state) {
		pr_warn("sched_state: %s has no prev_state field on this kernel",
			tp__name(sched_switch));
		free(d);
		errno = ENOENT;
		return NULL;
	}
	d->rec_size = tp__size(sched_switch);
	d->rec = calloc(1, d->rec_size ? d->rec_size : 1);
	if (!d->rec) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	/* A 1/2/4/8-byte number: the width has changed across kernels, a string never was. */
	if (tp_field__set_u64(d->prev_state, d->rec, d->rec_size, 0)) {
		pr_warn("sched_state: %s: prev_state is not a number field",
			tp__name(sched_switch));
		sched_state__delete(d);
		errno = EINVAL;
		return NULL;
	}
	d->from_format = format_is_sane(d);
	if (d->from_format)
		pr_debug("sched_state: decoding prev_state with %s's print format",
			 tp__name(sched_switch));
	else
		pr_info("sched_state: %s's print format does not decode prev_state; assuming the "
			"4.14+ encoding",
			tp__name(sched_switch));
	return d;
}

void sched_state__delete(struct sched_state *d)
{
	if (!d)
		return;
	free(d->rec);
	free(d);
}

bool sched_state__from_format(const struct sched_state *d)
{
	return d->from_format;
}

static unsigned int slot_of(uint64_t value)
{
	/* Fibonacci hashing: values differ in a few low bits and one high marker bit. */
	return (unsigned int)((value * 0x9e3779b97f4a7c15ull) >> (64 - SCHED_STATE_CACHE_BITS));
}

struct sched_state_info sched_state__decode(struct sched_state *d, uint64_t prev_state)
{
	unsigned int i, slot = slot_of(prev_state);
	struct sched_state_slot *s;
	struct sched_state_info info;

	for (i = 0; i < SCHED_STATE_CACHE_SIZE; i++) {
		s = &d->cache[(slot + i) & (SCHED_STATE_CACHE_SIZE - 1)];
		if (!s->used)
			break;
		if (s->value == prev_state)
			return s->info;
	}
	info = decode_uncached(d, prev_state);
	if (i == SCHED_STATE_CACHE_SIZE) {
		if (!d->full_logged)
			pr_debug("sched_state: more than %u distinct prev_state values; no longer "
				 "caching",
				 SCHED_STATE_CACHE_SIZE);
		d->full_logged = true;
		return info;
	}
	s->used = true;
	s->value = prev_state;
	s->info = info;
	d->nr_cached++;
	return info;
}

unsigned int sched_state__nr_cached(const struct sched_state *d)
{
	return d->nr_cached;
}

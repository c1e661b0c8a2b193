/* The `perf script` text reader; the rules are listed in perfscript.h. */
#include "perfscript.h"
#include "core/hash.h"
#include "core/stack_table.h"
#include "symbols/syms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Frame lines repeat (the outer frames of every sample of a hot path): a
 * direct-mapped cache from a frame line's text to the frames it gave skips
 * parsing, tidying and label lookup for all but the first time.
 */
#define LINE_CACHE_SIZE 8192
#define LINE_CACHE_FRAMES 4

struct line_cache {
	uint64_t hash;
	char *text; /* the line from its address on */
	uint32_t len, cap;
	uint8_t nr;	/* frames it gave, leaf first */
	bool java;	/* read in a Java process */
	uint64_t frames[LINE_CACHE_FRAMES];
};

/* Frames a stack keeps: both sides of a stack table entry. */
#define MAX_FRAMES (2 * STACK_TABLE_MAX_DEPTH)
#define NAME_MAX_LEN 4096
#define PNAME_MAX 256

struct perfscript {
	struct perfscript_opts o;
	struct syms *syms;
	struct stack_table *t;
	struct perfscript_stats st;

	char *line; /* a line split across chunks */
	size_t len, cap;
	bool overlong; /* skipping the rest of a line too long to keep */

	/* The sample being read */
	bool in_sample;	   /* a header was accepted: frames belong to it */
	bool header_frame; /* its frame was on the header line: it ends at the next header */
	uint64_t period;
	uint64_t period_b; /* a folded line's second count (two_counts) */
	int nr_counts;	   /* counts per folded line: 0 until the first line decides */
	uint64_t *frames; /* leaf first; the process name goes last when the sample ends */
	uint32_t nr_frames;
	bool truncated;	  /* frames beyond what a stack keeps were dropped */
	uint64_t pname;	  /* the process name's label */
	char pname_text[PNAME_MAX]; /* ... and its text */
	bool is_java; /* the process name starts with "java": Java frames are tidied */
	bool srcline_ok; /* the last line was a frame: a source line may follow */
	char last[NAME_MAX_LEN + 64]; /* the outermost name of the last frame line */
	struct line_cache *cache; /* LINE_CACHE_SIZE entries; NULL with --srcline */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_word(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

struct perfscript *perfscript__new(const struct perfscript_opts *o, struct syms *syms,
				   struct stack_table *t)
{
	struct perfscript *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	p->syms = syms;
	p->t = t;
	p->frames = calloc(MAX_FRAMES + 1, sizeof(*p->frames));
	if (!p->frames) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	if (!o->srcline) {
		p->cache = calloc(LINE_CACHE_SIZE, sizeof(*p->cache));
		if (!p->cache) {
			free(p->frames);
			free(p);
			errno = ENOMEM;
			return NULL;
		}
	}
	if (o->event)
		snprintf(p->st.event, sizeof(p->st.event), "%s", o->event);
	return p;
}

void perfscript__delete(struct perfscript *p)
{
	if (!p)
		return;
	if (p->cache)
		for (size_t i = 0; i < LINE_CACHE_SIZE; i++)
			free(p->cache[i].text);
	free(p->cache);
	free(p->line);
	free(p->frames);
	free(p);
}

const struct perfscript_stats *perfscript__stats(const struct perfscript *p)
{
	return &p->st;
}

static void malformed(struct perfscript *p, const char *why)
{
	if (!p->st.malformed++) {
		p->st.first_malformed = p->st.lines;
		snprintf(p->st.why, sizeof(p->st.why), "%s", why);
	}
}

/*
 * The sample's header: "COMM PID[/TID] ..." where COMM starts with a
 * non-space, is at least two characters, and ends at the first place where
 * white space, digits, optional "/" and digits, and white space follow.
 * Returns whether it matched, with COMM's length and the two numbers' spans.
 */
static bool match_header(const char *s, size_t n, size_t *comm_len, const char **pid,
			 size_t *pid_len, const char **tid, size_t *tid_len)
{
	if (n < 2 || is_space(s[0]))
		return false;
	for (size_t at = 2; at < n; at++) {
		size_t q = at, d0, t0;

		if (!is_space(s[at]))
			continue;
		while (q < n && is_space(s[q]))
			q++;
		d0 = q;
		while (q < n && is_digit(s[q]))
			q++;
		if (q == d0)
			continue;
		*pid = s + d0;
		*pid_len = q - d0;
		while (q < n && s[q] == '/')
			q++;
		t0 = q;
		while (q < n && is_digit(s[q]))
			q++;
		if (q == n || !is_space(s[q]))
			continue;
		*comm_len = at;
		*tid = s + t0;
		*tid_len = q - t0;
		return true;
	}
	return false;
}

/*
 * The event at the end of a header: "...: [PERIOD] EVENT:" and nothing but
 * white space after. Returns whether it matched, with the period's span
 * (empty when absent) and the event's.
 */
static bool match_event(const char *s, size_t n, const char **per, size_t *per_len,
			const char **ev, size_t *ev_len)
{
	size_t e = n, ts, ws, d;

	while (e > 0 && is_space(s[e - 1]))
		e--;
	if (e < 2 || s[e - 1] != ':')
		return false;
	ts = e - 1;
	while (ts > 0 && !is_space(s[ts - 1]))
		ts--;
	if (ts == e - 1 || ts == 0)
		return false;
	ws = ts;
	while (ws > 0 && is_space(s[ws - 1]))
		ws--;
	*ev = s + ts;
	*ev_len = e - 1 - ts;
	/* With a period: ':', optional white space, digits, white space. */
	d = ws;
	while (d > 0 && is_digit(s[d - 1]))
		d--;
	if (d < ws) {
		size_t c = d;

		while (c > 0 && is_space(s[c - 1]))
			c--;
		if (c > 0 && s[c - 1] == ':') {
			*per = s + d;
			*per_len = ws - d;
			return true;
		}
	}
	/* Without: ':' right before the white space. */
	if (ws > 0 && s[ws - 1] == ':') {
		*per = s + ws;
		*per_len = 0;
		return true;
	}
	return false;
}

struct frame_line {
	const char *pc, *func, *mod;
	size_t pc_len, func_len, mod_len;
};

/*
 * A frame: "[white space] ADDR [white space] NAME (MODULE)". MODULE runs
 * from the rightmost " (" that has a ')' after it to the line's last ')',
 * as the reference collapser reads it: a path may hold spaces
 * ("(/x/a b.so)"), but "f+0x8 (/x/lib.so (deleted))" gives the module
 * "deleted)" and the name "f+0x8 (/x/lib.so", tidied to "f+0x8 " (kept so,
 * for the same output line for line).
 */
static bool match_frame(const char *s, size_t n, struct frame_line *f)
{
	size_t i = 0, pc0, k, close;

	for (close = n; close > 0 && s[close - 1] != ')'; close--)
		;
	if (close < 4)
		return false;
	close--;
	for (k = close - 2;; k--) {
		if (s[k] == ' ' && s[k + 1] == '(')
			break;
		if (k == 0)
			return false;
	}
	while (i < k && is_space(s[i]))
		i++;
	pc0 = i;
	while (i < k && is_word(s[i]))
		i++;
	if (i == pc0)
		return false;
	/* NAME takes at least one character: the address gives some back if it must. */
	if (i == k)
		i--;
	if (i == pc0)
		return false;
	f->pc = s + pc0;
	f->pc_len = i - pc0;
	while (i + 1 < k && is_space(s[i]))
		i++;
	f->func = s + i;
	f->func_len = k - i;
	f->mod = s + k + 2;
	f->mod_len = close - (k + 2);
	return f->func_len > 0;
}

/*
 * A source line under a frame (perf script -F+srcline): indented, one word,
 * "FILE:LINE" ("??:0" when unknown) or "MODULE[OFFSET]" where perf has no
 * line table ("libc.so.6[27b25]", "[vdso][be1]").
 */
static bool is_srcline(const char *s, size_t n)
{
	size_t i = 0, e = n;

	while (i < n && is_space(s[i]))
		i++;
	while (e > i && is_space(s[e - 1]))
		e--;
	if (i == 0 || i == e)
		return false;
	for (size_t j = i; j < e; j++)
		if (is_space(s[j]))
			return false;
	if (s[e - 1] == ']') {
		size_t h = e - 1;

		while (h > i && is_xdigit(s[h - 1]))
			h--;
		return h < e - 1 && h > i + 1 && s[h - 1] == '[';
	}
	while (e > i && (is_digit(s[e - 1]) || s[e - 1] == '?'))
		e--;
	return e > i && s[e - 1] == ':';
}

static bool has(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(s + i, needle, m))
			return true;
	return false;
}

/* Whether a module is a JIT map: "/tmp/perf-DIGITS.map" somewhere in it. */
static bool is_jit_map(const char *s, size_t n)
{
	static const char pre[] = "/tmp/perf-";

	for (size_t i = 0; i + sizeof(pre) - 1 < n; i++) {
		size_t j = i + sizeof(pre) - 1, d;

		if (memcmp(s + i, pre, sizeof(pre) - 1))
			continue;
		d = j;
		while (j < n && is_digit(s[j]))
			j++;
		if (j > d && j + 4 <= n && !memcmp(s + j, ".map", 4))
			return true;
	}
	return false;
}

/*
 * Tidies one function name in @buf (NUL-terminated, room for NAME_MAX_LEN):
 * ';' to ':', argument lists cut, quotes removed, Java names dotted.
 */
static void tidy(char *buf, bool java)
{
	char *w, *r, *open, *last;

	/* Most names need nothing: one pass to find out. */
	for (r = buf; *r; r++)
		if (*r == ';' || *r == '(' || *r == '"' || *r == '\'')
			break;
	if (*r) {
		for (; *r; r++)
			if (*r == ';')
				*r = ':';
		/* Go's "pkg.(*T).m" keeps its parentheses: ".(" then a later ")." */
		open = strstr(buf, ".(");
		last = NULL;
		for (r = buf; (r = strstr(r, ").")); r++)
			last = r;
		if (!(open && last && last > open)) {
			for (r = buf; (r = strchr(r, '(')); r++) {
				if (strncmp(r + 1, "anonymous namespace)", 20)) {
					*r = '\0';
					break;
				}
			}
		}
		for (r = w = buf; *r; r++)
			if (*r != '"' && *r != '\'')
				*w++ = *r;
		*w = '\0';
	}
	/* "Lpkg/Class;::m" (after the rules above "Lpkg/Class:::m") loses its 'L'. */
	if (java && buf[0] == 'L' && strchr(buf, '/'))
		memmove(buf, buf + 1, strlen(buf));
}

static int push_frame(struct perfscript *p, uint64_t label)
{
	if (!label)
		return -ENOMEM;
	/* Past what the table keeps (one place stays for the process name): cut at the root. */
	if (p->nr_frames == MAX_FRAMES - 1) {
		p->truncated = true;
		return 0;
	}
	p->frames[p->nr_frames++] = label;
	return 0;
}

/* One frame line of the current sample. */
static int add_frame_line(struct perfscript *p, const struct frame_line *f)
{
	uint64_t group[64];
	size_t len = f->func_len, nr = 0;
	const char *func = f->func, *piece, *end;
	char buf[NAME_MAX_LEN + 64];
	int err;

	/* "+0x1a" at the end goes (lowercase hex, as perf prints it). */
	for (size_t i = len; i > 3; i--) {
		char c = func[i - 1];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
			continue;
		if (i < len && c == 'x' && func[i - 2] == '0' && func[i - 3] == '+')
			len = i - 3;
		break;
	}
	if (func[0] == '(')
		return 0; /* a process name in parentheses, not a frame */
	end = func + len;
	for (piece = func; piece <= end && nr < sizeof(group) / sizeof(group[0]);) {
		const char *arrow = piece, *stop;
		size_t plen;

		while (arrow + 1 < end && !(arrow[0] == '-' && arrow[1] == '>'))
			arrow++;
		stop = arrow + 1 < end ? arrow : end;
		plen = (size_t)(stop - piece);
		if (plen > NAME_MAX_LEN)
			plen = NAME_MAX_LEN;
		if (plen == 9 && !memcmp(piece, "[unknown]", 9)) {
			const char *base = f->mod;
			size_t blen = f->mod_len;
			char name[NAME_MAX_LEN];

			if (blen == 9 && !memcmp(base, "[unknown]", 9)) {
				snprintf(name, sizeof(name), "unknown");
			} else {
				for (size_t i = 0; i < f->mod_len; i++)
					if (f->mod[i] == '/') {
						base = f->mod + i + 1;
						blen = f->mod_len - i - 1;
					}
				snprintf(name, sizeof(name), "%.*s", (int)blen, base);
			}
			if (p->o.addrs)
				snprintf(buf, sizeof(buf), "[%s <%.*s>]", name, (int)f->pc_len, f->pc);
			else
				snprintf(buf, sizeof(buf), "[%s]", name);
		} else {
			memcpy(buf, piece, plen);
			buf[plen] = '\0';
		}
		tidy(buf, p->is_java);
		if (nr > 0) {
			if (!strstr(buf, "_[i]"))
				strcat(buf, "_[i]");
		} else if (p->o.kernel && f->mod_len &&
			   (f->mod[0] == '[' ||
			    (f->mod_len >= 7 && !memcmp(f->mod + f->mod_len - 7, "vmlinux", 7))) &&
			   !has(f->mod, f->mod_len, "unknown")) {
			strcat(buf, "_[k]");
		} else if (p->o.jit && is_jit_map(f->mod, f->mod_len) && !strstr(buf, "_[j]")) {
			strcat(buf, "_[j]");
		}
		if (!nr && p->o.srcline)
			memcpy(p->last, buf, strlen(buf) + 1);
		group[nr++] = syms__label(p->syms, buf);
		if (stop == end)
			break;
		piece = stop + 2;
	}
	/* The group reads outer to inner; frames are kept leaf first. */
	for (size_t i = nr; i-- > 0;) {
		uint32_t before = p->nr_frames;

		err = push_frame(p, group[i]);
		if (err)
			return err;
		/* Its source line, if one follows, belongs to the outermost name. */
		if (!i)
			p->srcline_ok = p->o.srcline && p->nr_frames > before;
	}
	return 0;
}

/*
 * --srcline: the source line under a frame joins the frame's name,
 * "NAME:FILE:LINE"; "[...]" parts (perf's "MODULE[OFFSET]" when it has no
 * line table) are dropped, and what is left empty adds nothing.
 */
static int add_srcline(struct perfscript *p, const char *s, size_t n)
{
	char buf[sizeof(p->last) + 64];
	size_t k = strlen(p->last), mark;
	uint64_t label;

	memcpy(buf, p->last, k);
	buf[k++] = ':';
	mark = k;
	for (size_t i = 0; i < n && k < sizeof(buf) - 1; i++) {
		const char *close;

		if (s[i] == '[' && (close = memchr(s + i, ']', n - i))) {
			i = (size_t)(close - s);
			continue;
		}
		if (!is_space(s[i]))
			buf[k++] = s[i];
	}
	if (k == mark)
		return 0;
	buf[k] = '\0';
	label = syms__label(p->syms, buf);
	if (!label)
		return -ENOMEM;
	p->frames[p->nr_frames - 1] = label;
	return 0;
}

static int end_sample(struct perfscript *p)
{
	uint32_t n = p->nr_frames, nu, nk;
	uint64_t vals[2] = { p->period, p->period_b };
	int err;

	if (!p->in_sample)
		return 0;
	p->frames[n++] = p->pname; /* the root */
	p->st.truncated += p->truncated;
	p->in_sample = false;
	p->header_frame = false;
	p->truncated = false;
	p->nr_frames = 0;
	if (n > STACK_TABLE_MAX_DEPTH) {
		nk = n - STACK_TABLE_MAX_DEPTH;
		nu = STACK_TABLE_MAX_DEPTH;
	} else {
		nk = 0;
		nu = n;
	}
	err = stack_table__add(p->t, 0, 0, "", p->frames, nk, p->frames + nk, nu, vals);
	p->st.samples++;
	return err == -ENOSPC ? 0 : err;
}

/* The frame on a header line, for samples recorded without call chains: its offset or 0. */
static size_t header_frame_at(const char *s, size_t n, size_t from)
{
	struct frame_line f;

	if (n < 4 || s[n - 1] != ')')
		return 0;
	for (size_t c = n - 1; c > from; c--) {
		size_t a;

		if (s[c] != ':' || !is_space(s[c + 1]))
			continue;
		a = c + 1;
		while (a < n && is_space(s[a]))
			a++;
		if (match_frame(s + a, n - a, &f) && f.pc == s + a)
			return a;
	}
	return 0;
}

/* Appends @len bytes of @src at @at of a PNAME_MAX buffer, as many as fit; the new end. */
static size_t append(char *buf, size_t at, const char *src, size_t len)
{
	if (len > PNAME_MAX - 1 - at)
		len = PNAME_MAX - 1 - at;
	memcpy(buf + at, src, len);
	return at + len;
}

static int header(struct perfscript *p, const char *s, size_t n, size_t comm_len,
		  const char *pid, size_t pid_len, const char *tid, size_t tid_len)
{
	const char *per = NULL, *ev = NULL;
	size_t per_len = 0, ev_len = 0, hf, hn = n, k;
	char name[PNAME_MAX];
	int err;

	/* A pending one-line sample ends here; a sample with frames only at its blank line. */
	if (p->in_sample && p->header_frame) {
		err = end_sample(p);
		if (err)
			return err;
	}
	p->in_sample = false;
	p->nr_frames = 0;
	p->truncated = false;
	hf = header_frame_at(s, n, comm_len);
	if (hf)
		hn = hf;
	if (match_event(s, hn, &per, &per_len, &ev, &ev_len)) {
		if (!p->st.event[0]) {
			snprintf(p->st.event, sizeof(p->st.event), "%.*s", (int)ev_len, ev);
		} else if (strlen(p->st.event) != ev_len || memcmp(p->st.event, ev, ev_len)) {
			p->st.filtered++;
			if (!p->st.other_events)
				snprintf(p->st.other, sizeof(p->st.other), "%.*s", (int)ev_len, ev);
			p->st.other_events = true;
			return 0;
		}
	}
	p->period = 0;
	p->st.periods |= per_len > 0;
	for (size_t i = 0; i < per_len && p->period < UINT64_MAX / 10; i++)
		p->period = p->period * 10 + (uint64_t)(per[i] - '0');
	if (!p->period)
		p->period = 1;

	/* Only the thread id printed (or "0"): the pid is unknown, "?". */
	if (!tid_len || (tid_len == 1 && tid[0] == '0')) {
		tid = pid;
		tid_len = pid_len;
		pid = "?";
		pid_len = 1;
	}
	if (comm_len > 200)
		comm_len = 200;
	k = append(name, 0, s, comm_len);
	if (p->o.tid || p->o.pid) {
		k = append(name, k, "-", 1);
		k = append(name, k, pid, pid_len);
	}
	if (p->o.tid) {
		k = append(name, k, "/", 1);
		k = append(name, k, tid, tid_len);
	}
	name[k] = '\0';
	for (size_t i = 0; i < k; i++)
		if (name[i] == ' ')
			name[i] = '_';
	/* Consecutive samples mostly share their process: its label is kept. */
	if (!p->pname || strcmp(name, p->pname_text)) {
		/* The root as printed, so "java-PID" under --pid is a Java process too. */
		p->is_java = !strncmp(name, "java", 4);
		p->pname = syms__label(p->syms, name);
		if (!p->pname)
			return -ENOMEM;
		memcpy(p->pname_text, name, k + 1);
	}
	p->in_sample = true;
	if (hf) {
		struct frame_line f;

		p->header_frame = true;
		if (match_frame(s + hf, n - hf, &f))
			return add_frame_line(p, &f);
	}
	return 0;
}

/*
 * The count ending @s (@n bytes), after its last space: *@sp points at that
 * space. Returns 0, 1 (no space, or nothing before or after it) or 2 (not a
 * number).
 */
static int last_count(const char *s, size_t n, const char **sp, uint64_t *count)
{
	*sp = NULL;
	*count = 0;
	for (size_t i = n; i-- > 0;)
		if (s[i] == ' ') {
			*sp = s + i;
			break;
		}
	if (!*sp || *sp == s || *sp + 1 == s + n)
		return 1;
	for (const char *c = *sp + 1; c < s + n; c++) {
		if (!is_digit(*c) || *count > UINT64_MAX / 10)
			return 2;
		*count = *count * 10 + (uint64_t)(*c - '0');
	}
	return 0;
}

/* A folded line: "root;...;leaf COUNT" (or "... COUNT_A COUNT_B"); the root is the process name. */
static int folded_line(struct perfscript *p, const char *s, size_t n)
{
	const char *sp = NULL, *sp_a, *f, *end;
	uint64_t count = 0, count_a;
	char buf[NAME_MAX_LEN + 1];
	int err;

	err = last_count(s, n, &sp, &count);
	if (err) {
		malformed(p, err == 1 ? "not 'frames count'" : "the count is not a number");
		return 0;
	}
	p->period_b = 0;
	if (p->o.two_counts && !p->nr_counts) {
		/* The first line decides: a number before the count makes two columns. */
		p->nr_counts = last_count(s, (size_t)(sp - s), &sp_a, &count_a) ? 1 : 2;
		p->st.two_counts = p->nr_counts == 2;
	}
	if (p->nr_counts == 2) {
		if (last_count(s, (size_t)(sp - s), &sp_a, &count_a)) {
			malformed(p, "not 'frames count_a count_b'");
			return 0;
		}
		p->period_b = count;
		count = count_a;
		sp = sp_a;
	}
	p->nr_frames = 0;
	p->truncated = false;
	/* Frames come root first: pushed from the leaf end; the first is the process name. */
	end = sp;
	for (;;) {
		size_t len;
		uint64_t label;

		f = end;
		while (f > s && f[-1] != ';')
			f--;
		len = (size_t)(end - f);
		if (len > NAME_MAX_LEN)
			len = NAME_MAX_LEN;
		memcpy(buf, f, len);
		buf[len] = '\0';
		label = syms__label(p->syms, len ? buf : "[empty]");
		if (f == s) {
			p->pname = label;
			p->pname_text[0] = '\0';
			if (!label)
				return -ENOMEM;
			break;
		}
		err = push_frame(p, label);
		if (err)
			return err;
		end = f - 1;
	}
	p->period = count;
	p->in_sample = true;
	return end_sample(p);
}

/*
 * An indented line inside a sample, through the cache: a line seen before
 * (same text, same kind of process) pushes the frames it gave then.
 * Returns 0, -ENOMEM, or 1 when the line is not a frame.
 */
static int cached_frame_line(struct perfscript *p, const char *s, size_t n)
{
	struct line_cache *c;
	struct frame_line f;
	uint32_t before;
	uint64_t h;
	int err;

	while (n && is_space(*s))
		s++, n--;
	h = hash__bytes(s, n);
	c = &p->cache[h & (LINE_CACHE_SIZE - 1)];
	if (c->text && c->hash == h && c->len == n && c->java == p->is_java &&
	    !memcmp(c->text, s, n)) {
		/* Past what a stack keeps, the slow path cuts it: the same result. */
		if (p->nr_frames + c->nr < MAX_FRAMES - 1) {
			memcpy(p->frames + p->nr_frames, c->frames, c->nr * sizeof(*c->frames));
			p->nr_frames += c->nr;
			return 0;
		}
	}
	if (!match_frame(s, n, &f))
		return 1;
	before = p->nr_frames;
	err = add_frame_line(p, &f);
	if (err || p->nr_frames - before > LINE_CACHE_FRAMES || p->truncated)
		return err;
	if (n > c->cap) {
		char *t = realloc(c->text, n);

		if (!t)
			return 0; /* the cache is only a shortcut */
		c->text = t;
		c->cap = (uint32_t)n;
	}
	memcpy(c->text, s, n);
	c->len = (uint32_t)n;
	c->hash = h;
	c->java = p->is_java;
	c->nr = (uint8_t)(p->nr_frames - before);
	memcpy(c->frames, p->frames + before, c->nr * sizeof(*c->frames));
	return 0;
}

static int line(struct perfscript *p, const char *s, size_t n)
{
	const char *pid, *tid;
	size_t comm_len, pid_len, tid_len;
	struct frame_line f;
	bool srcline_ok = p->srcline_ok;

	p->srcline_ok = false;
	p->st.lines++;
	if (n && s[n - 1] == '\r')
		n--;
	if (!n)
		return p->o.folded ? 0 : end_sample(p);
	if (s[0] == '#')
		return 0;
	if (memchr(s, '\0', n)) {
		malformed(p, "a NUL byte (binary data?)");
		return 0;
	}
	if (p->o.folded)
		return folded_line(p, s, n);
	/* Inside a sample with a call chain, an indented line is a frame (the common case). */
	if (p->in_sample && !p->header_frame && is_space(s[0])) {
		int err = p->cache ? cached_frame_line(p, s, n)
				   : match_frame(s, n, &f) ? add_frame_line(p, &f) : 1;

		if (err <= 0)
			return err;
	}
	if (match_header(s, n, &comm_len, &pid, &pid_len, &tid, &tid_len))
		return header(p, s, n, comm_len, pid, pid_len, tid, tid_len);
	/*
	 * perf script right-aligns the comm of samples without call chains: an
	 * indented header whose frame is on the line is one of those.
	 */
	if (is_space(s[0])) {
		size_t lead = 0;

		while (lead < n && is_space(s[lead]))
			lead++;
		if (match_header(s + lead, n - lead, &comm_len, &pid, &pid_len, &tid, &tid_len) &&
		    header_frame_at(s + lead, n - lead, comm_len))
			return header(p, s + lead, n - lead, comm_len, pid, pid_len, tid, tid_len);
	}
	if (match_frame(s, n, &f)) {
		if (!p->in_sample)
			return 0; /* a sample of another event, or frames before any header */
		return add_frame_line(p, &f);
	}
	if (p->in_sample && is_srcline(s, n))
		return srcline_ok ? add_srcline(p, s, n) : 0;
	malformed(p, is_space(s[0]) ? "not a frame line" : "not a sample header");
	return 0;
}

int perfscript__feed(struct perfscript *p, const char *buf, size_t len)
{
	const char *end = buf + len;
	int err;

	while (buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t n = nl ? (size_t)(nl - buf) : (size_t)(end - buf);

		if (p->overlong) {
			/* Skipping to the end of a line too long to keep. */
			if (nl)
				p->overlong = false;
		} else if (p->len + n > PERFSCRIPT_MAX_LINE) {
			p->st.lines++;
			malformed(p, "a line longer than 1 MiB");
			p->len = 0;
			p->overlong = !nl;
		} else if (nl && !p->len) {
			/* The whole line is in the chunk: no copy. */
			err = line(p, buf, n);
			if (err)
				return err;
		} else {
			if (p->len + n > p->cap) {
				size_t cap = p->cap ? p->cap : 4096;
				char *q;

				while (cap < p->len + n)
					cap *= 2;
				q = realloc(p->line, cap);
				if (!q)
					return -ENOMEM;
				p->line = q;
				p->cap = cap;
			}
			memcpy(p->line + p->len, buf, n);
			p->len += n;
			if (nl) {
				err = line(p, p->line, p->len);
				p->len = 0;
				if (err)
					return err;
			}
		}
		buf += n + (nl ? 1 : 0);
	}
	return 0;
}

int perfscript__finish(struct perfscript *p)
{
	int err = 0;

	if (p->len) {
		err = line(p, p->line, p->len);
		p->len = 0;
	}
	if (!err && p->in_sample) {
		p->st.unterminated = !p->header_frame;
		err = end_sample(p);
	}
	return err;
}

bool perfscript__sniff(const char *text, size_t len)
{
	const char *s = text, *end = text + len;

	/* Folded text is "frames count" lines, none indented; perf script has indented frames
	 * or headers with a "time:" field. */
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		struct frame_line f;

		if (n && s[0] != '#') {
			if (is_space(s[0]) && match_frame(s, n, &f))
				return true;
			if (!is_space(s[0]) && !memchr(s, ';', n) && has(s, n, ": "))
				return true;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	return false;
}

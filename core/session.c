/*
 * The session: events opened through libperf for the chosen targets, their
 * ring buffers drained by one poll loop that also serves signals, the -i
 * interval and the -d deadline, records decoded and ordered by time, the
 * side-band model kept up to date, and samples handed to the profiler.
 */
#include "session.h"
#include "features.h"
#include "limits.h"
#include "log.h"
#include "losses.h"
#include "order.h"
#include "perfclock.h"
#include "profiler.h"
#include "record.h"
#include "stack_table.h"
#include "filters/kfilter.h"
#include "symbols/syms.h"
#include "trace/dynevent.h"
#include "trace/tp.h"
#include "trace/tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>
/*
 * libperf keeps the poll fd array, the per-(cpu, thread) fds, the sample ids
 * and each ring's CPU in its internal structs; the session needs them all
 * (to poll its own signalfd with the rings, set tracepoint filters, map ids
 * to events, and count losses by CPU).
 */
#include <internal/evlist.h>
#include <internal/evsel.h>
#include <internal/mmap.h>
#include <internal/xyarray.h>

#define SESSION_MAX_EVENTS 48
/* Upper bound between two drains, so the ordering queue stays short when rings fill slowly. */
#define SESSION_MAX_POLL_MS 100
/* Ring pages per CPU without -m: 512 KiB with 4 KiB pages. */
#define SESSION_DEFAULT_MMAP_PAGES 128
/* How late a record may be written after its timestamp; see core/order.c. */
#define SESSION_ORDER_SLACK_NS (10 * 1000000ULL)
/* How long a launched command still running at the end has to exit after SIGTERM. */
#define SESSION_CHILD_TERM_MS 5000
/* Records remembered to recognise a duplicate written by the kernel; see duplicate(). */
#define SESSION_RECENT 8

struct sp_event {
	struct perf_event_attr attr;
	char name[64];
	char *filter;
	bool cpu_wide; /* every CPU, no thread: even when the targets are tasks */
	struct perf_evsel *evsel;
	struct sp_record_format fmt;
};

struct id_entry {
	uint64_t id;
	int evidx;
};

/* A record copied out of its ring, decoded in place. */
struct queued {
	struct sp_record rec;
	uint64_t data[]; /* the raw record, 8-byte aligned */
};

struct session {
	const struct profiler *prof;
	struct sp_opts *opts;
	struct sp_event events[SESSION_MAX_EVENTS];
	int nr_events;
	int tracking_idx;

	struct perf_evlist *evlist;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct id_entry *ids;
	size_t nr_ids;
	struct tp *tps[SESSION_MAX_EVENTS];
	int nr_tps;

	struct order_queue *queue;
	struct syms *syms;
	struct callgraph *cg;
	int sigfd;
	sigset_t old_mask;
	bool sig_blocked; /* SIGINT, SIGTERM, SIGHUP, SIGCHLD held for sigfd since the run began */

	uint64_t start_time, end_time;
	bool stop;

	/* Kernel features in use (features.h) and what stands in for missing ones. */
	bool sample_id_all, clockid, mmap2;
	int64_t clock_offset; /* CLOCK_MONOTONIC - perf clock, without clockid */
	uint64_t clock_err;
	uint64_t *ring_time; /* per ring: time of the last record read from it */
	size_t nr_rings;
	bool kernel_dropped; /* kernel.perf_event_paranoid: user space only */

	uint64_t nr_records, nr_samples, nr_bad, nr_dup;
	struct queued *recent[SESSION_RECENT]; /* last records delivered, for duplicate() */
	unsigned int recent_next;
	struct losses *losses; /* records and samples the kernel dropped, by CPU */
	uint64_t throttled;
	bool told_full; /* a stack table refused a sample: warned once */
	bool bench_first_sample; /* STACKPROF_BENCH_FIRST_SAMPLE=1: timestamp the first sample */
};

uint64_t session__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void deliver(void *ctx, uint64_t time, void *item);
static void restore_signals(struct session *s);

/* libperf's messages join ours, at -vv (errors at -v: the session explains failures itself). */
static int libperf_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	if ((level <= LIBPERF_WARN ? LOG_INFO : LOG_DEBUG) > log_verbosity)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	log__printf(log_verbosity >= LOG_DEBUG ? LOG_DEBUG : LOG_INFO, "libperf: %s", buf);
	return 0;
}

struct session *session__new(const struct profiler *prof, struct sp_opts *opts)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/* Also sets libperf's page size, which its ring-buffer mapping depends on. */
	libperf_init(libperf_print);
	s->prof = prof;
	s->opts = opts;
	s->sigfd = -1;
	s->tracking_idx = -1;
	s->sample_id_all = features__has(FEAT_SAMPLE_ID_ALL);
	s->clockid = features__has(FEAT_CLOCKID);
	s->mmap2 = features__has(FEAT_MMAP2);
	s->bench_first_sample = getenv("STACKPROF_BENCH_FIRST_SAMPLE") &&
				!strcmp(getenv("STACKPROF_BENCH_FIRST_SAMPLE"), "1");
	s->syms = syms__new(opts->kallsyms);
	s->queue = order_queue__new(deliver, s);
	if (s->queue)
		order_queue__set_slack(s->queue, SESSION_ORDER_SLACK_NS);
	if (s->syms)
		s->cg = callgraph__new(s->syms, opts->call_graph, opts->stack_size);
	if (!s->syms || !s->queue || !s->cg) {
		session__delete(s);
		errno = ENOMEM;
		return NULL;
	}
	syms__set_demangle(s->syms, !opts->no_demangle);
	syms__set_frames(s->syms, opts->inline_frames, opts->srcline);
	return s;
}

/*
 * What an evsel holds besides itself: libperf 6.1's perf_evsel__delete()
 * frees only the struct, leaving its sample-id table and its references to
 * the CPU and thread maps behind. Closed evsels only.
 */
static void evsel__release(struct perf_evsel *evsel)
{
	perf_evsel__free_id(evsel);
	perf_cpu_map__put(evsel->cpus);
	perf_cpu_map__put(evsel->own_cpus);
	perf_thread_map__put(evsel->threads);
	evsel->cpus = evsel->own_cpus = NULL;
	evsel->threads = NULL;
}

/*
 * Forgets the evlist and its evsels (closed, released), so they can be
 * made anew. Evsels exist only in an evlist: open_evsels() adds each as it
 * makes it.
 */
static void drop_evlist(struct session *s)
{
	perf_evlist__close(s->evlist);
	for (int i = 0; i < s->nr_events; i++)
		if (s->events[i].evsel)
			evsel__release(s->events[i].evsel);
	perf_evlist__delete(s->evlist); /* deletes the evsels too */
	s->evlist = NULL;
	for (int i = 0; i < s->nr_events; i++)
		s->events[i].evsel = NULL;
}

void session__delete(struct session *s)
{
	if (!s)
		return;
	/* Records still queued are freed through deliver(); drop them unseen. */
	s->prof = NULL;
	order_queue__delete(s->queue);
	if (s->evlist) {
		perf_evlist__munmap(s->evlist);
		drop_evlist(s);
	}
	perf_cpu_map__put(s->cpus);
	perf_thread_map__put(s->threads);
	for (int i = 0; i < s->nr_events; i++)
		free(s->events[i].filter);
	free(s->ids);
	free(s->ring_time);
	losses__delete(s->losses);
	for (int i = 0; i < SESSION_RECENT; i++)
		free(s->recent[i]);
	for (int i = 0; i < s->nr_tps; i++)
		tp__delete(s->tps[i]);
	/* tracefs uprobe events can only go once no fd uses them (closed above). */
	dynevent__cleanup();
	/* Events keep their tracepoints after the format files were read: tracefs can go. */
	tracefs__cleanup();
	restore_signals(s);
	callgraph__delete(s->cg); /* before the model it unwinds with */
	syms__delete(s->syms);
	free(s);
}

int session__add_event_cpu_wide(struct session *s, const struct perf_event_attr *attr,
				const char *name)
{
	int idx = session__add_event(s, attr, name);

	if (idx >= 0)
		s->events[idx].cpu_wide = true;
	return idx;
}

int session__add_event(struct session *s, const struct perf_event_attr *attr, const char *name)
{
	struct sp_event *ev;
	struct perf_event_attr *a;

	if (s->nr_events == SESSION_MAX_EVENTS)
		return -E2BIG;
	ev = &s->events[s->nr_events];
	memset(ev, 0, sizeof(*ev));
	ev->attr = *attr;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	a = &ev->attr;
	a->size = sizeof(*a);
	/*
	 * The identifier finds a record's event before it is parsed; the clock
	 * is CLOCK_MONOTONIC so records from every CPU (and the poll loop's
	 * own clock reads, see order.c) compare. Kernels without either bit
	 * get the fallbacks in drain() (features.h).
	 */
	a->sample_type |= PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			  PERF_SAMPLE_CPU;
	a->sample_id_all = s->sample_id_all;
	a->read_format |= PERF_FORMAT_ID;
	if (s->clockid) {
		a->use_clockid = 1;
		a->clockid = CLOCK_MONOTONIC;
	}
	a->disabled = 1;
	kfilter__apply_sides(a, s->opts->user_only, s->opts->kernel_only,
			     a->type != PERF_TYPE_TRACEPOINT);
	callgraph__apply(a, s->opts->call_graph, s->opts->stack_size);
	ev->fmt.sample_type = a->sample_type;
	ev->fmt.sample_regs_user = a->sample_regs_user;
	ev->fmt.sample_id_all = s->sample_id_all;
	return s->nr_events++;
}

static int apply_filter(struct session *s, struct sp_event *ev);

void session__default_mmap_pages(struct session *s, unsigned int pages)
{
	if (!s->opts->mmap_pages)
		s->opts->mmap_pages = pages;
}

int session__tracepoint(struct session *s, const char *sys, const char *name,
			struct perf_event_attr *attr, const struct tp **tp)
{
	struct tp *t;

	if (s->nr_tps == SESSION_MAX_EVENTS)
		return -E2BIG;
	t = tp__load(sys, name); /* says why on failure */
	if (!t)
		return -errno;
	s->tps[s->nr_tps++] = t;
	memset(attr, 0, sizeof(*attr));
	attr->type = PERF_TYPE_TRACEPOINT;
	attr->config = (uint64_t)tp__id(t);
	attr->sample_period = 1;
	attr->sample_type = PERF_SAMPLE_RAW;
	*tp = t;
	return 0;
}

int session__set_filter(struct session *s, int evidx, const char *filter)
{
	char *copy;

	if (evidx < 0 || evidx >= s->nr_events)
		return -EINVAL;
	copy = strdup(filter);
	if (!copy)
		return -ENOMEM;
	free(s->events[evidx].filter);
	s->events[evidx].filter = copy;
	/* Already open: the kernel takes the new filter at once. */
	if (s->events[evidx].evsel && s->events[evidx].evsel->fd)
		return apply_filter(s, &s->events[evidx]);
	return 0;
}

const struct sp_opts *session__opts(const struct session *s)
{
	return s->opts;
}

struct syms *session__syms(struct session *s)
{
	return s->syms;
}

uint64_t session__start_time(const struct session *s)
{
	return s->start_time;
}

uint64_t session__end_time(const struct session *s)
{
	return s->end_time;
}

uint64_t session__lost(const struct session *s)
{
	return s->losses ? losses__records(s->losses) + losses__samples(s->losses) : 0;
}

static int id_cmp(const void *a, const void *b)
{
	const struct id_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct sp_record_format *format_of(void *ctx, uint64_t id, int *evidx)
{
	struct session *s = ctx;
	struct id_entry key = { .id = id }, *e;

	e = bsearch(&key, s->ids, s->nr_ids, sizeof(*e), id_cmp);
	if (!e)
		return NULL;
	*evidx = e->evidx;
	return &s->events[e->evidx].fmt;
}

/* Sample ids are only known once libperf has mapped the rings and read them. */
static int build_id_index(struct session *s)
{
	size_t n = 0;

	for (int i = 0; i < s->nr_events; i++)
		n += s->events[i].evsel->ids;
	s->ids = calloc(n ? n : 1, sizeof(*s->ids));
	if (!s->ids)
		return -ENOMEM;
	for (int i = 0; i < s->nr_events; i++) {
		struct perf_evsel *evsel = s->events[i].evsel;

		for (uint32_t j = 0; j < evsel->ids; j++) {
			s->ids[s->nr_ids].id = evsel->id[j];
			s->ids[s->nr_ids].evidx = i;
			s->nr_ids++;
		}
	}
	qsort(s->ids, s->nr_ids, sizeof(*s->ids), id_cmp);
	return 0;
}

static int apply_filter(struct session *s, struct sp_event *ev)
{
	struct perf_evsel *evsel = ev->evsel;

	for (size_t x = 0; x < evsel->fd->max_x; x++)
		for (size_t y = 0; y < evsel->fd->max_y; y++) {
			int fd = *(int *)xyarray__entry(evsel->fd, (int)x, (int)y);

			if (fd >= 0 && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, ev->filter)) {
				int err = -errno;

				pr_warn("%s: the kernel refused the filter '%s' on %s: %s",
					s->prof->name, ev->filter, ev->name, strerror(-err));
				return err;
			}
		}
	return 0;
}

/* The side-band event: MMAP2/COMM/FORK/EXIT records that keep the process model. */
static int add_tracking_event(struct session *s)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.comm = 1,
		.comm_exec = 1,
		.task = 1,
	};
	bool user_only = s->opts->user_only, kernel_only = s->opts->kernel_only;
	int idx;

	/*
	 * Mappings: MMAP2 with the file's build-id, else with inode data;
	 * without MMAP2 (before 3.16) no mmap records at all, and the model
	 * reads /proc instead: the older plain MMAP records are not used.
	 */
	if (s->mmap2) {
		a.mmap = 1;
		a.mmap2 = 1;
		a.build_id = features__has(FEAT_MMAP_BUILD_ID);
	} else {
		syms__set_proc_refresh(s->syms, true);
		/* Says it, since MMAP_BUILD_ID needs MMAP2. */
		features__has(FEAT_MMAP_BUILD_ID);
	}

	/* Side-band records are never filtered by side. */
	s->opts->user_only = s->opts->kernel_only = false;
	idx = session__add_event(s, &a, "side-band tracking");
	s->opts->user_only = user_only;
	s->opts->kernel_only = kernel_only;
	return idx;
}

/*
 * Opens @evsel on every CPU of the map, or answers -ENODEV without trying
 * when the map holds a CPU forced offline: the same answer the kernel
 * gives for a CPU-wide event on a CPU that is offline or not present, so
 * tests exercise the fallback without taking a CPU offline.
 */
static int evsel_open(struct session *s, struct perf_evsel *evsel)
{
	int idx;
	struct perf_cpu cpu;

	perf_cpu_map__for_each_cpu (cpu, idx, s->cpus)
		if (target__cpu_forced_offline(cpu.cpu))
			return -ENODEV;
	return perf_evsel__open(evsel, perf_evsel__cpus(evsel), perf_evsel__threads(evsel));
}

/*
 * The CPUs of the map that can still take events, as a list for libperf in
 * @list; the others are skipped with a note. Returns how many are left.
 */
static size_t usable_cpus(struct session *s, char *list, size_t len)
{
	size_t off = 0, nr = 0;
	struct perf_cpu cpu;
	int idx;

	list[0] = '\0';
	perf_cpu_map__for_each_cpu (cpu, idx, s->cpus) {
		if (off >= len - 16)
			break;
		if (!target__cpu_usable(cpu.cpu)) {
			pr_info("%s: CPU %d is offline or not present (ENODEV): skipped, the run "
				"goes on without it",
				s->prof->name, cpu.cpu);
			continue;
		}
		off += (size_t)snprintf(list + off, len - off, "%s%d", nr ? "," : "", cpu.cpu);
		nr++;
	}
	return nr;
}

/* The one line for a run left without any CPU. */
static int no_cpu_left(struct session *s)
{
	const struct target *t = &s->opts->target;
	char asked[256];
	size_t off = 0;

	asked[0] = '\0';
	for (size_t i = 0; i < t->nr_cpus && off < sizeof(asked) - 16; i++)
		off += (size_t)snprintf(asked + off, sizeof(asked) - off, "%s%d", i ? "," : "",
					t->cpus[i]);
	pr_warn("%s: no CPU to profile: CPU %s %s offline or not present (see "
		"/sys/devices/system/cpu/online; choose others with -C)",
		s->prof->name, asked, t->nr_cpus == 1 ? "is" : "are");
	return -ENODEV;
}

static int build_maps(struct session *s)
{
	const struct target *t = &s->opts->target;
	char list[8192];
	size_t off = 0;

	for (size_t i = 0; i < t->nr_cpus && off < sizeof(list) - 16; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%d", i ? "," : "",
					t->cpus[i]);
	s->cpus = perf_cpu_map__new(list);
	if (s->cpus) {
		s->losses = losses__new(perf_cpu_map__max(s->cpus).cpu);
		if (!s->losses)
			return -ENOMEM;
	}
	if (t->child > 0) {
		s->threads = perf_thread_map__new_array(1, (pid_t *)&t->child);
	} else if (t->system_wide) {
		s->threads = perf_thread_map__new_dummy();
	} else {
		s->threads = perf_thread_map__new_array((int)t->nr_tids, t->tids);
	}
	return s->cpus && s->threads ? 0 : -ENOMEM;
}

/* Rings libperf maps: one per CPU the events watch (every fd on a CPU writes to its ring). */
static int nr_rings_needed(const struct session *s)
{
	int n = perf_cpu_map__nr(s->cpus);
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	for (int i = 0; i < s->nr_events; i++)
		if (s->events[i].cpu_wide && online > n)
			n = (int)online;
	return n;
}

/*
 * kernel.perf_event_paranoid >= 2 keeps a user without CAP_PERFMON out of
 * the kernel, but lets it profile its own tasks in user space: probe, then
 * fall back to that, with a warning, for task targets. Events already
 * opened are closed to be opened again alike.
 */
static bool drop_kernel(struct session *s, const struct sp_event *failed, int err)
{
	const struct sp_opts *o = s->opts;

	if ((err != -EACCES && err != -EPERM) || s->kernel_dropped || geteuid() == 0 ||
	    o->target.system_wide || o->kernel_only || failed->cpu_wide ||
	    failed->attr.type == PERF_TYPE_TRACEPOINT || failed->attr.exclude_kernel)
		return false;
	for (int i = 0; i < s->nr_events; i++) {
		struct sp_event *ev = &s->events[i];

		perf_evsel__close(ev->evsel);
		/* Tracepoints fire in the kernel: excluding it would silence them. */
		if (ev->attr.type != PERF_TYPE_TRACEPOINT) {
			ev->attr.exclude_kernel = ev->evsel->attr.exclude_kernel = 1;
			ev->attr.exclude_hv = ev->evsel->attr.exclude_hv = 1;
		}
	}
	s->kernel_dropped = true;
	s->opts->user_only = true;
	pr_warn("%s: kernel.perf_event_paranoid is %d: this user may not sample the kernel, "
		"profiling user space only (for kernel frames run as root, 'sysctl "
		"kernel.perf_event_paranoid=1', or 'setcap cap_perfmon+ep %s')",
		s->prof->name, limits__paranoid(), limits__self_exe());
	return true;
}

/*
 * Asks the CPUs of the map again and keeps those still usable. Returns 1
 * when that took CPUs away, 0 when none went (the refusal was not a
 * CPU's), or -errno after one line.
 */
static int drop_offline_cpus(struct session *s)
{
	struct perf_cpu_map *cpus;
	char list[8192];
	size_t nr;

	nr = usable_cpus(s, list, sizeof(list));
	if (!nr)
		return no_cpu_left(s);
	if ((int)nr == perf_cpu_map__nr(s->cpus))
		return 0;
	cpus = perf_cpu_map__new(list);
	if (!cpus) {
		pr_warn("%s: out of memory", s->prof->name);
		return -ENOMEM;
	}
	perf_cpu_map__put(s->cpus);
	s->cpus = cpus;
	return 1;
}

/*
 * Makes the evlist and its evsels and opens them on every CPU and thread of
 * the maps. When the kernel refuses one, its index goes in *@failed, for
 * the caller to explain (other errors are explained here, or need not be).
 */
static int open_evsels(struct session *s, int *failed)
{
	const struct target *t = &s->opts->target;
	int err;

	*failed = -1;
	err = limits__fit_ring_pages(s->prof->name, nr_rings_needed(s), &s->opts->mmap_pages);
	if (err)
		return err;
	s->evlist = perf_evlist__new();
	if (!s->evlist)
		return -ENOMEM;
	for (int i = 0; i < s->nr_events; i++) {
		struct sp_event *ev = &s->events[i];

		/*
		 * -p and a launched command follow threads and children created
		 * later; -t watches just the named threads. A launched command is
		 * enabled by its exec, so the fork-and-wait prelude is not counted.
		 */
		ev->attr.inherit = !t->system_wide && !t->tid_list && !ev->cpu_wide;
		ev->attr.enable_on_exec = t->child > 0 && !ev->cpu_wide;
		/* An event that must be seen at once asks for it with wakeup_events. */
		if (!ev->attr.wakeup_events) {
			ev->attr.watermark = 1;
			ev->attr.wakeup_watermark = s->opts->mmap_pages * (uint32_t)getpagesize() / 4;
		}
		ev->evsel = perf_evsel__new(&ev->attr);
		if (!ev->evsel)
			return -ENOMEM;
		/* libperf then opens it on every online CPU with no thread, and never filters its fds. */
		ev->evsel->system_wide = ev->cpu_wide;
		perf_evlist__add(s->evlist, ev->evsel);
	}
	perf_evlist__set_maps(s->evlist, s->cpus, s->threads);
	for (int i = 0; i < s->nr_events; i++) {
		struct sp_event *ev = &s->events[i];

		err = evsel_open(s, ev->evsel);
		if (err && drop_kernel(s, ev, err)) {
			i = -1; /* every event again, user space only */
			continue;
		}
		if (err) {
			*failed = i;
			return err;
		}
		if (ev->filter) {
			err = apply_filter(s, ev);
			if (err)
				return err;
		}
		pr_debug("opened %s on %d CPU(s) x %d thread(s)", ev->name,
			 perf_cpu_map__nr(s->cpus), perf_thread_map__nr(s->threads));
	}
	return 0;
}

static int open_events(struct session *s)
{
	int err, failed;

	err = open_evsels(s, &failed);
	/*
	 * A CPU-wide event on a CPU that is offline or not present (one that
	 * went since target__resolve(), or a hole in a -C list) is refused
	 * with ENODEV: without such CPUs, start over once, from a new evlist
	 * (libperf keeps the CPUs it was first given).
	 */
	if (err == -ENODEV && failed >= 0) {
		int changed = drop_offline_cpus(s);

		if (changed < 0)
			return changed;
		if (changed) {
			drop_evlist(s);
			err = open_evsels(s, &failed);
		}
	}
	if (err) {
		if (failed >= 0) {
			const struct sp_event *ev = &s->events[failed];

			limits__explain_open_error(s->prof->name, ev->name, &ev->attr,
						   s->opts->target.system_wide || ev->cpu_wide, err);
		}
		return err;
	}
	if (perf_evlist__mmap(s->evlist, (int)s->opts->mmap_pages)) {
		err = errno ? -errno : -ENOMEM;
		pr_warn("%s: cannot map %u-page ring buffers: %s (lower -m, or raise "
			"kernel.perf_event_mlock_kb)",
			s->prof->name, s->opts->mmap_pages, strerror(-err));
		return err;
	}
	s->nr_rings = (size_t)s->evlist->nr_mmaps;
	s->ring_time = calloc(s->nr_rings ? s->nr_rings : 1, sizeof(*s->ring_time));
	if (!s->ring_time)
		return -ENOMEM;
	return build_id_index(s);
}

static void session_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD);
}

/*
 * The signals that end a run are held from the start of the run until the
 * session is deleted, and read through a signalfd: one that comes during
 * setup ends the run as soon as it starts (with a complete, empty report),
 * and one during the final drain or the report waits instead of killing us
 * half way through writing an output file. SIGKILL still ends everything.
 */
static int block_signals(struct session *s)
{
	sigset_t mask;

	session_signals(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, &s->old_mask))
		return -errno;
	s->sig_blocked = true;
	s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return -errno;
	return 0;
}

/* Signals that came after the run ended are dropped, not delivered as we go. */
static void restore_signals(struct session *s)
{
	struct signalfd_siginfo si;

	if (s->sigfd >= 0) {
		while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			pr_debug("signal %u after the run: ignored", si.ssi_signo);
		close(s->sigfd);
		s->sigfd = -1;
	}
	if (s->sig_blocked)
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
	s->sig_blocked = false;
}

static int poll_signals(struct session *s)
{
	if (perf_evlist__add_pollfd(s->evlist, s->sigfd, NULL, POLLIN,
				    fdarray_flag__nonfilterable) < 0)
		return -ENOMEM;
	return 0;
}

static void handle_signals(struct session *s)
{
	struct signalfd_siginfo si;
	pid_t child = s->opts->target.child;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			if (child > 0 && waitpid(child, NULL, WNOHANG) == child) {
				s->opts->target.child = 0;
				pr_debug("the command exited");
				s->stop = true;
			}
		} else {
			pr_debug("signal %u: ending the run", si.ssi_signo);
			s->stop = true;
		}
	}
}

/*
 * Puts record @r, read from ring @ring, on the session's clock.
 *
 * Without use_clockid its time is perf's local clock: the offset measured at
 * start moves it to CLOCK_MONOTONIC (perfclock.h). Without sample_id_all a
 * side-band record carries no time (FORK, EXIT and THROTTLE keep the one
 * in their body). Each ring is written in time order by its CPU, so such a
 * record is ordered where it was read: it takes the time of the record
 * before it in its ring, and sorts right after that record, ahead of
 * anything stamped later on any CPU. Its true time lies between that and
 * the next record of its ring, so against other CPUs it may be early by up
 * to that gap (a mapping known a little early is harmless; a COMM or exec
 * seen early can name a few samples of another CPU after the new image).
 * It is never stamped older than what the ordering already delivered,
 * where it would count as late.
 */
static void stamp(struct session *s, struct sp_record *r, size_t ring)
{
	if (r->time && !s->clockid)
		r->time = (uint64_t)((int64_t)r->time + s->clock_offset);
	if (!r->time) {
		uint64_t floor = order_queue__floor(s->queue);

		r->time = ring < s->nr_rings ? s->ring_time[ring] : 0;
		if (r->time < floor)
			r->time = floor;
	}
	if (ring < s->nr_rings)
		s->ring_time[ring] = r->time;
}

static int decode(struct session *s, struct queued *q)
{
	const struct perf_event_header *h = (const void *)q->data;

	if (!s->sample_id_all && h->type != PERF_RECORD_SAMPLE)
		return record__decode_bare(q->data, &q->rec);
	return record__decode(q->data, &q->rec, format_of, s);
}

/*
 * A LOST record says how many records the kernel dropped because the ring
 * was full; LOST_SAMPLES, samples it could not write. Both are counted by
 * the ring they were read from (its CPU), as soon as they are read.
 */
static void count_loss(struct session *s, int ring_cpu, const struct sp_record *r)
{
	losses__add(s->losses, ring_cpu >= 0 ? ring_cpu : (int)r->cpu,
		    r->type == PERF_RECORD_LOST_SAMPLES, r->lost);
}

/* Reads every ring to the end; see order.c for why a pass ends with ordered delivery. */
static void drain(struct session *s)
{
	struct perf_mmap *map;
	size_t ring = 0;

	order_queue__pass(s->queue, session__now());
	perf_evlist__for_each_mmap(s->evlist, map, false)
	{
		union perf_event *ev;

		if (perf_mmap__read_init(map) < 0)
			continue;
		while ((ev = perf_mmap__read_event(map)) != NULL) {
			size_t size = ev->header.size;
			struct queued *q = malloc(sizeof(*q) + ((size + 7) & ~(size_t)7));

			if (!q) {
				s->nr_bad++;
				perf_mmap__consume(map);
				continue;
			}
			/* The ring slot is reused once consumed: keep a copy. */
			memcpy(q->data, ev, size);
			perf_mmap__consume(map);
			s->nr_records++;
			if (decode(s, q)) {
				s->nr_bad++;
				free(q);
				continue;
			}
			stamp(s, &q->rec, ring);
			if (q->rec.type == PERF_RECORD_LOST ||
			    q->rec.type == PERF_RECORD_LOST_SAMPLES)
				count_loss(s, map->cpu.cpu, &q->rec);
			/*
			 * A process first seen in a sample (system-wide, it may
			 * predate the run) is read from /proc now, while it
			 * probably still exists, rather than once ordered.
			 */
			if (q->rec.type == PERF_RECORD_SAMPLE && q->rec.pid &&
			    !syms__knows(s->syms, q->rec.pid))
				syms__proc_load(s->syms, q->rec.pid);
			if (s->prof && s->prof->peek)
				s->prof->peek(s, &q->rec);
			if (order_queue__push(s->queue, q->rec.time, q)) {
				s->nr_bad++;
				free(q);
			}
		}
		/*
		 * No perf_mmap__read_done(): on a ring read forward it moves the
		 * read position to the head as it is now, past records the
		 * kernel wrote since the last read_event(), which would be lost
		 * without a trace. read_event() has already kept the position.
		 */
		ring++;
	}
	if (s->prof && s->prof->peek_end)
		s->prof->peek_end(s);
}

/* Keeps the process model current; runs before the profiler sees the record. */
static void apply_sideband(struct session *s, const struct sp_record *r)
{
	switch (r->type) {
	case PERF_RECORD_MMAP2:
		if (!(r->prot & PROT_EXEC))
			break;
		/* A process first seen through a mapping gets its full map first. */
		if (!syms__knows(s->syms, r->pid))
			syms__proc_load(s->syms, r->pid);
		syms__mmap(s->syms, r->pid, r->addr, r->len, r->pgoff, r->filename);
		if (r->build_id_size)
			syms__set_build_id(s->syms, r->pid, r->filename, r->build_id,
					   r->build_id_size);
		break;
	case PERF_RECORD_COMM:
		if (r->misc & PERF_RECORD_MISC_COMM_EXEC)
			syms__exec(s->syms, r->pid);
		syms__set_comm(s->syms, r->tid, r->comm);
		break;
	case PERF_RECORD_FORK: {
		char comm[STACK_COMM_LEN];

		if (r->pid != r->ppid)
			syms__fork(s->syms, r->ppid, r->pid);
		snprintf(comm, sizeof(comm), "%s", syms__comm(s->syms, r->ppid, r->ptid));
		syms__set_comm(s->syms, r->tid, comm);
		break;
	}
	case PERF_RECORD_EXIT:
		syms__exit(s->syms, r->pid, r->tid, r->time);
		break;
	case PERF_RECORD_THROTTLE:
		s->throttled++;
		break;
	default:
		break;
	}
}

/*
 * Whether @q repeats, byte for byte, a record delivered just before. This
 * kernel sometimes writes a run of a dozen records into a ring a second time
 * (perf sees the same). No thread hits the same event twice in one
 * nanosecond, so an identical record with the same timestamp is that copy;
 * equal stamps sort next to each other, so the last few delivered suffice.
 * The ring owns what it keeps; @q joins it unless it is a duplicate.
 */
static bool duplicate(struct session *s, struct queued *q)
{
	const struct perf_event_header *h = (const void *)q->data;
	unsigned int slot;

	for (unsigned int i = 0; i < SESSION_RECENT; i++) {
		const struct queued *p = s->recent[i];
		const struct perf_event_header *ph;

		if (!p || p->rec.time != q->rec.time)
			continue;
		ph = (const void *)p->data;
		if (ph->size == h->size && !memcmp(p->data, q->data, h->size))
			return true;
	}
	slot = s->recent_next++ % SESSION_RECENT;
	free(s->recent[slot]);
	s->recent[slot] = q;
	return false;
}

static void deliver(void *ctx, uint64_t time, void *item)
{
	struct session *s = ctx;
	struct queued *q = item;
	const struct sp_record *r = &q->rec;

	if (!s->prof) /* tearing down */
		goto out_free;
	/* Delivered in time order: tasks that exited a while before this record can go. */
	syms__reap(s->syms, time);
	if (duplicate(s, q)) {
		s->nr_dup++;
		goto out_free;
	}
	if (r->type == PERF_RECORD_SAMPLE) {
		if (r->evidx != s->tracking_idx) {
			s->nr_samples++;
			s->prof->sample(s, r);
			/* For tests/bench/startup.sh: when the first sample was processed. */
			if (s->bench_first_sample) {
				s->bench_first_sample = false;
				pr_warn("first sample processed at %" PRIu64
					" ns (CLOCK_MONOTONIC)", session__now());
			}
		}
	} else {
		apply_sideband(s, r);
		if (s->prof->sideband)
			s->prof->sideband(s, r);
	}
	return; /* kept in s->recent */
out_free:
	free(q);
}

static uint64_t seconds_ns(double sec)
{
	return (uint64_t)(sec * 1e9 + 0.5);
}

/* Ends a launched command that is still running (only ever the one this run started). */
static void end_child(struct session *s)
{
	struct target *t = &s->opts->target;
	struct timespec tick = { .tv_nsec = 10 * 1000000L };
	int waited_ms = 0;

	if (t->child <= 0)
		return;
	if (waitpid(t->child, NULL, WNOHANG) == 0) {
		kill(t->child, SIGTERM);
		/* A command that ignores SIGTERM must not keep the report from coming. */
		while (waitpid(t->child, NULL, WNOHANG) == 0) {
			if (waited_ms >= SESSION_CHILD_TERM_MS) {
				pr_warn("%s: '%s' did not end %d s after SIGTERM: killed", s->prof->name,
					t->argv[0], SESSION_CHILD_TERM_MS / 1000);
				kill(t->child, SIGKILL);
				waitpid(t->child, NULL, 0);
				break;
			}
			nanosleep(&tick, NULL);
			waited_ms += 10;
		}
	}
	t->child = 0;
}

/* Without use_clockid: the offset from perf's clock to CLOCK_MONOTONIC (perfclock.h). */
static void measure_clock(struct session *s)
{
	int err = perfclock__measure(&s->clock_offset, &s->clock_err);

	if (err) {
		pr_warn("%s: cannot compare perf's clock with CLOCK_MONOTONIC: %s (record times "
			"are used as they are; ordering and -d may be off)",
			s->prof->name, strerror(-err));
		s->clock_offset = 0;
		return;
	}
	pr_info("perf clock: CLOCK_MONOTONIC is perf's clock %+" PRId64 " ns (+-%" PRIu64 " ns)",
		s->clock_offset, s->clock_err);
}

/* The offset measured again: how far the two clocks drifted apart over the run. */
static void report_clock_drift(struct session *s)
{
	int64_t offset;
	uint64_t err;

	if (perfclock__measure(&offset, &err))
		return;
	pr_info("perf clock: drifted %+" PRId64 " ns from CLOCK_MONOTONIC over the run (+-%" PRIu64
		" ns)",
		offset - s->clock_offset, err + s->clock_err);
}

static int run_loop(struct session *s)
{
	const struct sp_opts *o = s->opts;
	uint64_t deadline = o->duration > 0 ? s->start_time + seconds_ns(o->duration) : 0;
	uint64_t interval = o->interval > 0 ? seconds_ns(o->interval) : 0;
	uint64_t next_tick = interval ? s->start_time + interval : 0;
	bool per_task = !o->target.system_wide;

	while (!s->stop) {
		uint64_t now = session__now(), wake = now + SESSION_MAX_POLL_MS * 1000000ULL;
		int n, timeout;

		if (deadline && deadline < wake)
			wake = deadline;
		if (next_tick && next_tick < wake)
			wake = next_tick;
		timeout = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		n = perf_evlist__poll(s->evlist, timeout);
		if (n < 0 && errno != EINTR) {
			int err = -errno;

			pr_warn("%s: poll failed: %s", s->prof->name, strerror(-err));
			return err;
		}
		handle_signals(s);
		drain(s);
		now = session__now();
		if (next_tick && now >= next_tick) {
			if (s->prof->tick)
				s->prof->tick(s);
			while (next_tick <= now)
				next_tick += interval;
		}
		if (deadline && now >= deadline)
			s->stop = true;
		/*
		 * Per-task events hang up when their task exits; the filter
		 * counts the ring fds still open (not the signalfd), and none
		 * left means every target is gone.
		 */
		if (per_task && n > 0 && perf_evlist__filter_pollfd(s->evlist, POLLERR | POLLHUP) == 0)
			if (o->target.child <= 0) {
				pr_debug("every target exited");
				s->stop = true;
			}
	}
	return 0;
}

static double timeval_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int session__run(struct session *s)
{
	struct target *t = &s->opts->target;
	unsigned int user_pages, cg_pages;
	struct rusage ru_start, ru_end;
	struct syms_stats st;
	int err;

	if (!s->prof->setup || !s->prof->sample || !s->prof->report) {
		pr_warn("%s: profiler lacks setup, sample or report", s->prof->name);
		return -EINVAL;
	}
	err = block_signals(s);
	if (err) {
		pr_warn("%s: cannot take signals through a signalfd: %s", s->prof->name,
			strerror(-err));
		return err;
	}
	/* Forked first, held before exec: setup may then name the command's pid. */
	if (t->argv) {
		err = target__fork(t);
		if (err) {
			pr_warn("cannot start '%s': %s", t->argv[0], strerror(-err));
			return err;
		}
	}
	user_pages = s->opts->mmap_pages;
	err = s->prof->setup(s);
	if (!err) {
		/* Stack copies make samples big: the larger of the two defaults. */
		cg_pages = callgraph__mmap_pages(s->opts->call_graph, s->opts->stack_size);
		if (!user_pages && cg_pages > s->opts->mmap_pages)
			s->opts->mmap_pages = cg_pages;
		session__default_mmap_pages(s, SESSION_DEFAULT_MMAP_PAGES);
		s->tracking_idx = add_tracking_event(s);
		if (s->tracking_idx < 0)
			err = s->tracking_idx;
	}
	if (!err)
		err = build_maps(s);
	limits__raise_nofile();
	if (!err)
		err = open_events(s);
	if (!err)
		err = poll_signals(s);
	if (!err && !s->clockid)
		measure_clock(s);
	if (err) {
		target__abort(t);
		return err;
	}
	for (size_t i = 0; i < t->nr_pids; i++)
		syms__proc_load(s->syms, (uint32_t)t->pids[i]);

	s->start_time = session__now();
	if (t->child > 0) {
		/* enable_on_exec is for task events: CPU-wide ones are enabled now. */
		for (int i = 0; i < s->nr_events; i++)
			if (s->events[i].cpu_wide)
				perf_evsel__enable(s->events[i].evsel);
		err = target__start(t);
		if (err)
			return err;
	} else {
		perf_evlist__enable(s->evlist);
	}
	pr_info("%s: profiling %s", s->prof->name,
		t->system_wide ? "all tasks" : t->argv ? t->argv[0] : "the given tasks");

	getrusage(RUSAGE_SELF, &ru_start);
	err = run_loop(s);
	s->end_time = session__now();
	perf_evlist__disable(s->evlist);
	end_child(s);
	/* Everything written before the disable is in the rings: take it all, in order. */
	drain(s);
	order_queue__flush_all(s->queue);
	pr_info("%" PRIu64 " records, %" PRIu64 " samples, %" PRIu64 " undecodable, %" PRIu64
		" duplicates dropped",
		s->nr_records, s->nr_samples, s->nr_bad, s->nr_dup);
	if (!s->clockid)
		report_clock_drift(s);
	if (!s->mmap2)
		pr_info("without mmap records, /proc/PID/maps was read again %" PRIu64 " times",
			syms__nr_refreshes(s->syms));
	/* What handling the records cost, without start-up and report: for overhead figures. */
	getrusage(RUSAGE_SELF, &ru_end);
	pr_info("CPU while profiling: %.3f s user, %.3f s system",
		timeval_seconds(&ru_end.ru_utime) - timeval_seconds(&ru_start.ru_utime),
		timeval_seconds(&ru_end.ru_stime) - timeval_seconds(&ru_start.ru_stime));
	callgraph__log_stats(s->cg);
	syms__stats(s->syms, &st);
	pr_info("process model: %zu address spaces and %zu thread names live, %zu and %zu of "
		"tasks that exited in the last second; freed after exit: %" PRIu64
		" address spaces, %" PRIu64 " thread names; %" PRIu64 " KiB with the symbol caches",
		st.procs, st.comms, st.dead_procs, st.dead_comms, st.freed_procs, st.freed_comms,
		syms__bytes(s->syms) >> 10);
	return err;
}

void session__split_chain(struct session *s, const struct sp_record *rec, uint64_t *kernel,
			  uint32_t *nr_kernel, uint64_t *user, uint32_t *nr_user)
{
	const struct sp_opts *o = s->opts;
	uint32_t nk = 0, nu = 0;

	if (rec->ips && rec->nr_ips) {
		uint64_t ctx = 0;

		for (uint32_t i = 0; i < rec->nr_ips; i++) {
			uint64_t ip = rec->ips[i];

			if (ip >= (uint64_t)PERF_CONTEXT_MAX) {
				ctx = ip;
				continue;
			}
			if (ctx == (uint64_t)PERF_CONTEXT_KERNEL) {
				if (nk < STACK_TABLE_MAX_DEPTH)
					kernel[nk++] = ip;
			} else if (ctx == (uint64_t)PERF_CONTEXT_USER) {
				/* A zero return address ends a frame-pointer walk. */
				if (ip && nu < STACK_TABLE_MAX_DEPTH)
					user[nu++] = syms__encode_user(s->syms, rec->pid, ip);
			}
		}
	} else {
		uint16_t mode = rec->misc & PERF_RECORD_MISC_CPUMODE_MASK;

		if (mode == PERF_RECORD_MISC_KERNEL)
			kernel[nk++] = rec->ip;
		else if (mode == PERF_RECORD_MISC_USER)
			user[nu++] = syms__encode_user(s->syms, rec->pid, rec->ip);
	}
	if (o->user_only)
		nk = 0;
	if (o->kernel_only)
		nu = 0;
	else
		nu = callgraph__user(s->cg, rec, user, nu, STACK_TABLE_MAX_DEPTH);
	*nr_kernel = nk;
	*nr_user = nu;
}

static void table_full(void *ctx, const struct stack_table *t)
{
	struct session *s = ctx;

	if (s->told_full)
		return;
	s->told_full = true;
	if (stack_table__max_entries(t) && stack_table__nr_entries(t) >= stack_table__max_entries(t))
		pr_warn("%s: the stack table is full (%zu stacks, --max-stacks): samples of stacks not "
			"seen before are not counted from now on, and the report says how many "
			"(raise --max-stacks)",
			s->prof->name, stack_table__nr_entries(t));
	else
		pr_warn("%s: the stack table is full (%zu stacks in %zu bytes): samples of stacks not "
			"seen before are not counted from now on, and the report says how many",
			s->prof->name, stack_table__nr_entries(t), stack_table__bytes(t));
}

struct stack_table *session__stack_table(struct session *s, unsigned int nr_vals)
{
	struct stack_table *t = stack_table__new(nr_vals, 0);

	if (t)
		stack_table__set_limit(t, (size_t)s->opts->max_stacks, table_full, s);
	return t;
}

void session__print_dropped(const struct session *s, FILE *f, const struct stack_table *t,
			    const char *what)
{
	uint64_t dropped = t ? stack_table__dropped(t) : 0;

	(void)s;
	if (!dropped)
		return;
	fprintf(f, "# %" PRIu64 " %s not counted: the stack table was full (%zu stack%s",
		dropped, what, stack_table__nr_entries(t),
		stack_table__nr_entries(t) == 1 ? "" : "s");
	if (stack_table__max_entries(t))
		fprintf(f, ", --max-stacks %zu", stack_table__max_entries(t));
	fprintf(f, ")\n");
}

int session__account(struct session *s, struct stack_table *t, const struct sp_record *rec,
		     const uint64_t *vals)
{
	uint64_t kernel[STACK_TABLE_MAX_DEPTH], user[STACK_TABLE_MAX_DEPTH];
	uint32_t nk, nu;

	session__split_chain(s, rec, kernel, &nk, user, &nu);
	return stack_table__add(t, rec->pid, rec->tid, syms__comm(s->syms, rec->pid, rec->tid), kernel, nk,
				user, nu, vals);
}

void session__print_losses(const struct session *s, FILE *f, bool always)
{
	uint64_t late = order_queue__late(s->queue);
	uint64_t records = s->losses ? losses__records(s->losses) : 0;
	uint64_t samples = s->losses ? losses__samples(s->losses) : 0;

	callgraph__print(s->cg, f);
	if (!always && !records && !samples && !s->throttled && !late && !s->nr_bad)
		return;
	fprintf(f,
		"# lost %" PRIu64 " records, %" PRIu64 " samples; throttled %" PRIu64
		" times; %" PRIu64 " out of order; %" PRIu64 " undecodable\n",
		records, samples, s->throttled, late, s->nr_bad);
	if (s->losses)
		losses__print_by_cpu(s->losses, f);
}

uint64_t session__lost_on_cpu(const struct session *s, int cpu)
{
	return s->losses ? losses__on_cpu(s->losses, cpu) : 0;
}

const char *session__approx_mark(const struct session *s, uint64_t dropped, char *buf,
				 size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (!session__lost(s) && !dropped)
		return buf;
	n += (size_t)snprintf(buf + n, len - n, " [approximate:");
	if (session__lost(s) && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %" PRIu64 " records lost",
				      session__lost(s));
	if (dropped && n < len)
		snprintf(buf + n, len - n, "%s %" PRIu64 " not counted, stack table full%s",
			 session__lost(s) ? "," : "", dropped, "]");
	else if (n < len)
		snprintf(buf + n, len - n, "]");
	return buf;
}

void session__warn_losses(const struct session *s, const char *what, const char *hint)
{
	unsigned int pages = s->opts->mmap_pages;
	char cpus[256];

	if (!session__lost(s))
		return;
	losses__cpus_text(s->losses, cpus, sizeof(cpus));
	pr_warn("%s: %" PRIu64 " records lost (%s): the ring buffers filled up, %s are "
		"approximate; raise -m (now %u page%s per CPU, try -m %u)%s%s",
		s->prof->name, session__lost(s), cpus, what, pages, pages == 1 ? "" : "s",
		pages < (1U << 18) ? pages * 4 : pages, hint ? " " : "", hint ? hint : "");
}

/*
 * The profiler ops struct and the registry. A profiler is one file under
 * profilers/ that fills one of these; the core calls it and knows nothing of
 * its internals.
 */
#ifndef STACKPROF_PROFILER_H
#define STACKPROF_PROFILER_H

struct session;
struct sp_record;

/* One profiler-specific option; arrays end with a zeroed entry. */
struct profiler_option {
	const char *name; /* long name, without "--" */
	int key; /* short option letter, or a value >= 256 for long-only options */
	const char *arg; /* argument name for --help, NULL if the option takes none */
	const char *help;
};

struct profiler {
	const char *name;
	const char *summary; /* one line for "stackprof --help" */
	const char *examples; /* runnable examples for "stackprof NAME --help" */
	const struct profiler_option *options; /* may be NULL */
	/* Handles one of @options. Returns 0, or -EINVAL after printing why. */
	int (*parse_option)(int key, const char *arg);
	/* Declares events with session__add_event(); required. Returns 0 or -errno. */
	int (*setup)(struct session *s);
	/* One sample of one of its events, in time order; required. */
	void (*sample)(struct session *s, const struct sp_record *rec);
	/*
	 * Every record as it leaves its ring buffer, before time ordering and
	 * before the core applies side-band records; optional. Records of one
	 * ring come in time order, rings one after another. For work that
	 * cannot wait for order, such as reading /proc while a process still
	 * exists. It may set rec->note, which sample() gets back.
	 */
	void (*peek)(struct session *s, struct sp_record *rec);
	/*
	 * After each pass of peek() over the rings; optional. Records peeked
	 * in the pass stay in place until it returns (they are delivered in a
	 * later pass), so a decision can wait for what came after them.
	 */
	void (*peek_end)(struct session *s);
	/* Side-band record (COMM, FORK, EXIT, ...) after the core has applied it; optional. */
	void (*sideband)(struct session *s, const struct sp_record *rec);
	/* Every -i seconds; optional. */
	void (*tick)(struct session *s);
	/* End of the run: write the report. Required. Returns 0 or -errno. */
	int (*report)(struct session *s);
	/* Frees what setup allocated; optional. */
	void (*teardown)(struct session *s);
};

/* NULL-terminated registry of every profiler (core/registry.c). */
extern const struct profiler *const profilers[];

/* Finds a profiler by name, NULL if none. */
const struct profiler *profiler__find(const char *name);

#endif

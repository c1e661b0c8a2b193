/*
 * One tracepoint's format, read from tracefs and parsed by libtraceevent;
 * fields are found by name and read from a sample's raw data, never through
 * a hard-coded struct layout.
 */
#ifndef STACKPROF_TP_H
#define STACKPROF_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp;
struct tp_field;

/*
 * Loads SYS:NAME (e.g. "sched", "sched_switch"): its format and id from
 * the description root (tracefs, or the STACKPROF_TRACEFS copy; see
 * trace/tracefs.h), and from the kernel's tracefs when SYS is this
 * process's own uprobe group. Returns NULL with errno set: ENOENT for a
 * tracepoint this kernel (or the copy) does not have (with a pr_warn
 * line), or the tracefs error.
 */
struct tp *tp__load(const char *sys, const char *name);
/*
 * Whether tracepoint SYS:NAME exists where tp__load() would look (tracefs
 * is mounted if needed), for optional tracepoints; says nothing when it
 * does not.
 */
bool tp__exists(const char *sys, const char *name);

/* Parses a format file's text (what tracefs' events/SYS/NAME/format holds). */
struct tp *tp__parse(const char *sys, const char *format_text, size_t len);
void tp__delete(struct tp *tp);

/* The tracepoint id, for perf_event_attr.config. */
int tp__id(const struct tp *tp);
const char *tp__name(const struct tp *tp);

/*
 * Bytes up to the end of the last fixed field: the shortest raw record the
 * format allows (dynamic __data_loc payloads come after it).
 */
uint32_t tp__size(const struct tp *tp);

/* Field @name (the event's own or a common_* one), or NULL if the format has none. */
const struct tp_field *tp__field(const struct tp *tp, const char *name);

/* The field's size in the record, as the format states it (not its C type). */
uint32_t tp_field__size(const struct tp_field *f);

/*
 * Reads a numeric field (1, 2, 4 or 8 bytes, sign-extended when signed).
 * Returns 0, or -EINVAL when the raw data is too short or the field is not
 * a number (a char array, a __data_loc).
 */
int tp_field__u64(const struct tp_field *f, const void *raw, uint32_t raw_size, uint64_t *out);

/*
 * Stores @val (truncated to the field's size) into a numeric field, for
 * building records by hand. Returns 0, or -EINVAL as tp_field__u64().
 */
int tp_field__set_u64(const struct tp_field *f, void *raw, uint32_t raw_size, uint64_t val);

/*
 * Copies a string field (fixed char array such as prev_comm, or __data_loc
 * char[]) into @buf, truncated to fit @len with its NUL. Returns @buf, or
 * NULL when the data is too short, a __data_loc points outside it, or the
 * field holds no text (a number, a pointer).
 */
const char *tp_field__str(const struct tp_field *f, const void *raw, uint32_t raw_size, char *buf,
			  size_t len);

/*
 * Renders the event with its print format, as the kernel's trace output
 * would ("prev_comm=... prev_state=S ==> ..."). The text is truncated to
 * fit @len with its NUL. Returns the length written, or -errno: -EINVAL for
 * a record shorter than tp__size() or with a __data_loc pointing outside
 * it, -EOPNOTSUPP when libtraceevent could not parse the print format.
 * The record is rendered as this tracepoint whatever its common_type says.
 */
int tp__render(const struct tp *tp, const void *raw, uint32_t raw_size, char *buf, size_t len);

#endif

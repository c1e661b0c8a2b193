/* One tracepoint: its format parsed by libtraceevent, its fields read from raw sample data. */
#include "tp.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <traceevent/event-parse.h>

#include "core/log.h"
#include "trace/dynevent.h"
#include "trace/tracefs.h"

struct tp_field {
	const char *name; /* owned by the tep event */
	uint32_t offset;
	uint32_t size;
	unsigned long flags; /* TEP_FIELD_IS_* */
};

struct tp {
	/*
	 * One tep_handle per tracepoint: a handle maps common_type to an
	 * event, and keeping one event per handle lets tp__render() treat any
	 * raw record as this event, and lets tps be freed independently.
	 */
	struct tep_handle *tep;
	struct tep_event *event;
	char *name; /* "sys:name" */
	int id;
	/* End of the last fixed field: the shortest raw record we accept. */
	uint32_t size;
	const struct tp_field *common_type;
	unsigned int nr_fields;
	struct tp_field fields[]; /* common fields first, then the event's own */
};

/* perf hands us raw data in host byte order, and formats carry no endianness. */
static enum tep_endian host_endian(void)
{
	return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN;
}

static unsigned int count_fields(const struct tep_format_field *f)
{
	unsigned int n = 0;

	for (; f; f = f->next)
		n++;
	return n;
}

static int add_fields(struct tp *tp, const struct tep_format_field *f)
{
	for (; f; f = f->next) {
		struct tp_field *out = &tp->fields[tp->nr_fields];

		if (f->offset < 0 || f->size < 0 || (uint64_t)f->offset + f->size > UINT16_MAX)
			return -EINVAL;
		out->name = f->name;
		out->offset = (uint32_t)f->offset;
		out->size = (uint32_t)f->size;
		out->flags = f->flags;
		if (out->offset + out->size > tp->size)
			tp->size = out->offset + out->size;
		tp->nr_fields++;
	}
	return 0;
}

/* Parses @text; @what names the tracepoint in messages (the name is in the text, unparsed yet). */
static struct tp *tp__parse_named(const char *sys, const char *what, const char *text, size_t len)
{
	struct tep_event *event;
	struct tep_handle *tep;
	enum tep_errno ret;
	struct tp *tp;
	unsigned int n;
	size_t name_len;
	char msg[128];
	int err;

	tep = tep_alloc();
	if (!tep) {
		errno = ENOMEM;
		return NULL;
	}
	tep_set_long_size(tep, (int)sizeof(long));
	tep_set_page_size(tep, (int)sysconf(_SC_PAGESIZE));
	tep_set_file_bigendian(tep, host_endian());
	tep_set_local_bigendian(tep, host_endian());

	ret = tep_parse_event(tep, text, len, sys);
	event = tep_get_first_event(tep);
	if (ret || !event) {
		/*
		 * A print fmt libtraceevent cannot follow (a helper it does not
		 * know) still leaves the fields usable: keep the event, and
		 * let tp__render() refuse it.
		 */
		if (ret == TEP_ERRNO__READ_PRINT_FAILED && event) {
			event->flags |= TEP_EVENT_FL_FAILED;
		} else {
			/*
			 * libtraceevent reports a missing "name:" line as
			 * TEP_ERRNO__MEM_ALLOC_FAILED, so its error code
			 * cannot tell bad text from a real ENOMEM: call all
			 * of them malformed.
			 */
			if (tep_strerror(tep, ret, msg, sizeof(msg)))
				snprintf(msg, sizeof(msg), "error %d", (int)ret);
			pr_warn("tp: cannot parse the format of %s (libtraceevent: %s)", what, msg);
			err = -EINVAL;
			goto out_free_tep;
		}
	}

	if (event->flags & TEP_EVENT_FL_FAILED)
		pr_debug("tp: %s: print format not understood; fields only", what);

	n = count_fields(event->format.common_fields) + count_fields(event->format.fields);
	tp = calloc(1, sizeof(*tp) + n * sizeof(tp->fields[0]));
	if (!tp) {
		err = -ENOMEM;
		goto out_free_tep;
	}
	tp->tep = tep;
	tp->event = event;
	tp->id = event->id;
	if (add_fields(tp, event->format.common_fields) || add_fields(tp, event->format.fields)) {
		pr_warn("tp: %s: format has a field outside the 64 KiB a record can hold", what);
		err = -EINVAL;
		goto out_free_tp;
	}
	tp->common_type = tp__field(tp, "common_type");
	name_len = strlen(sys) + strlen(event->name) + 2;
	tp->name = malloc(name_len);
	if (!tp->name) {
		err = -ENOMEM;
		goto out_free_tp;
	}
	snprintf(tp->name, name_len, "%s:%s", sys, event->name);
	return tp;

out_free_tp:
	free(tp);
out_free_tep:
	tep_free(tep);
	errno = -err;
	return NULL;
}

struct tp *tp__parse(const char *sys, const char *format_text, size_t len)
{
	char what[64];

	if (!sys || !format_text) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(what, sizeof(what), "a %s tracepoint", sys);
	return tp__parse_named(sys, what, format_text, len);
}

/*
 * Where events/@sys/... is read from. Tracepoint layouts come from the
 * description root (the kernel's tracefs, or a STACKPROF_TRACEFS copy);
 * the uprobes this process created in its own group exist only in the
 * kernel's tracefs.
 */
static int tp__file(const char *sys, const char *rel, char *buf, size_t len)
{
	if (dynevent__owns_group(sys))
		return tracefs__kernel_file(rel, buf, len);
	return tracefs__file(rel, buf, len);
}

static char *tp__read(const char *sys, const char *rel, size_t *lenp)
{
	if (dynevent__owns_group(sys))
		return tracefs__kernel_read(rel, lenp);
	return tracefs__read(rel, lenp);
}

/* Where a message says the files came from: " in STACKPROF_TRACEFS=DIR", or "". */
static const char *tp__where(const char *sys, char *buf, size_t len)
{
	const char *dir = tracefs__override();

	if (!dir || dynevent__owns_group(sys))
		return "";
	snprintf(buf, len, " in STACKPROF_TRACEFS=%s", dir);
	return buf;
}

/* A name must stay one path component below events/. */
static bool valid_component(const char *s)
{
	return s && s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* Says why events/@sys/@name is missing or unreadable; returns -errno. */
static int tp__check_dir(const char *sys, const char *name)
{
	char rel[PATH_MAX], path[PATH_MAX], where[PATH_MAX + 32];
	struct stat st;
	int err;

	snprintf(rel, sizeof(rel), "events/%s/%s", sys, name);
	err = tp__file(sys, rel, path, sizeof(path));
	if (err)
		return err; /* tracefs__root() has said why */
	if (stat(path, &st) == 0)
		return 0;
	err = -errno;
	if (err != -ENOENT) {
		pr_warn("tp: cannot access %s: %s%s", path, strerror(-err),
			err == -EACCES ? " (run as root)" : "");
		return err;
	}
	if (tracefs__override() && !dynevent__owns_group(sys)) {
		pr_warn("tp: no tracepoint %s:%s%s (%s/format is missing: copy it from the "
			"kernel's tracefs)",
			sys, name, tp__where(sys, where, sizeof(where)), path);
		return -ENOENT;
	}
	snprintf(rel, sizeof(rel), "events/%s", sys);
	if (!tp__file(sys, rel, path, sizeof(path)) && stat(path, &st) != 0)
		/* A config option removes whole groups (syscalls: CONFIG_FTRACE_SYSCALLS). */
		pr_warn("tp: tracepoint %s:%s does not exist on this kernel (it has no '%s' "
			"event group)",
			sys, name, sys);
	else
		pr_warn("tp: tracepoint %s:%s does not exist on this kernel", sys, name);
	return -ENOENT;
}

bool tp__exists(const char *sys, const char *name)
{
	char rel[PATH_MAX], path[PATH_MAX];
	struct stat st;

	if (!valid_component(sys) || !valid_component(name))
		return false;
	snprintf(rel, sizeof(rel), "events/%s/%s", sys, name);
	return !tp__file(sys, rel, path, sizeof(path)) && !stat(path, &st);
}

struct tp *tp__load(const char *sys, const char *name)
{
	char rel[PATH_MAX], what[PATH_MAX], where[PATH_MAX + 32];
	char *text, *id_text, *end;
	size_t len;
	struct tp *tp;
	long id;
	int err;

	if (!valid_component(sys) || !valid_component(name)) {
		errno = EINVAL;
		return NULL;
	}
	err = tp__check_dir(sys, name);
	if (err) {
		errno = -err;
		return NULL;
	}
	snprintf(what, sizeof(what), "%s:%s", sys, name);

	snprintf(rel, sizeof(rel), "events/%s/%s/format", sys, name);
	text = tp__read(sys, rel, &len);
	if (!text) {
		err = -errno;
		pr_warn("tp: cannot read the format of %s%s: %s%s", what,
			tp__where(sys, where, sizeof(where)), strerror(-err),
			err == -EACCES ? " (run as root)" : "");
		errno = -err;
		return NULL;
	}
	tp = tp__parse_named(sys, what, text, len);
	free(text);
	if (!tp)
		return NULL;

	/*
	 * The id file is what perf_event_attr.config wants; the format's
	 * "ID:" line says the same on every kernel we know, but the id file
	 * is the documented interface, so it wins.
	 */
	snprintf(rel, sizeof(rel), "events/%s/%s/id", sys, name);
	id_text = tp__read(sys, rel, NULL);
	if (!id_text) {
		pr_debug("tp: %s: no id file (%s); using the format's ID %d", what, strerror(errno),
			 tp->id);
		return tp;
	}
	errno = 0;
	id = strtol(id_text, &end, 10);
	if (errno || end == id_text || id < 0 || id > INT_MAX) {
		pr_debug("tp: %s: unreadable id file; using the format's ID %d", what, tp->id);
	} else {
		if (id != tp->id)
			pr_debug("tp: %s: id file says %ld, format says %d", what, id, tp->id);
		tp->id = (int)id;
	}
	free(id_text);
	return tp;
}

void tp__delete(struct tp *tp)
{
	if (!tp)
		return;
	tep_free(tp->tep);
	free(tp->name);
	free(tp);
}

int tp__id(const struct tp *tp)
{
	return tp->id;
}

const char *tp__name(const struct tp *tp)
{
	return tp->name;
}

uint32_t tp__size(const struct tp *tp)
{
	return tp->size;
}

const struct tp_field *tp__field(const struct tp *tp, const char *name)
{
	unsigned int i;

	for (i = 0; i < tp->nr_fields; i++)
		if (!strcmp(tp->fields[i].name, name))
			return &tp->fields[i];
	return NULL;
}

uint32_t tp_field__size(const struct tp_field *f)
{
	return f->size;
}

static bool is_number(const struct tp_field *f)
{
	if (f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC))
		return false;
	return f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8;
}

/*
 * The width comes from the format's size, never from the C type it names:
 * prev_state is a 'long' on some kernels and an 'unsigned int' on others,
 * and syscall tracepoints declare 'unsigned int fd' in an 8-byte slot.
 */
int tp_field__u64(const struct tp_field *f, const void *raw, uint32_t raw_size, uint64_t *out)
{
	const unsigned char *p = raw;
	bool sign = f->flags & TEP_FIELD_IS_SIGNED;

	if (!is_number(f) || !raw || (uint64_t)f->offset + f->size > raw_size)
		return -EINVAL;
	p += f->offset;
	/* memcpy: fields after a char array or a __data_loc need not be aligned. */
	switch (f->size) {
	case 1: {
		uint8_t v = *p;

		*out = sign ? (uint64_t)(int64_t)(int8_t)v : v;
		break;
	}
	case 2: {
		uint16_t v;

		memcpy(&v, p, sizeof(v));
		*out = sign ? (uint64_t)(int64_t)(int16_t)v : v;
		break;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		*out = sign ? (uint64_t)(int64_t)(int32_t)v : v;
		break;
	}
	default:
		memcpy(out, p, sizeof(*out));
		break;
	}
	return 0;
}

int tp_field__set_u64(const struct tp_field *f, void *raw, uint32_t raw_size, uint64_t val)
{
	unsigned char *p = raw;

	if (!is_number(f) || !raw || (uint64_t)f->offset + f->size > raw_size)
		return -EINVAL;
	p += f->offset;
	switch (f->size) {
	case 1:
		*p = (uint8_t)val;
		break;
	case 2: {
		uint16_t v = (uint16_t)val;

		memcpy(p, &v, sizeof(v));
		break;
	}
	case 4: {
		uint32_t v = (uint32_t)val;

		memcpy(p, &v, sizeof(v));
		break;
	}
	default:
		memcpy(p, &val, sizeof(val));
		break;
	}
	return 0;
}

/*
 * Where a dynamic field's bytes are. __data_loc is a u32 holding the
 * offset from the start of the record in its low 16 bits and the length
 * in its high 16 bits; __rel_loc (5.18+) has the same layout but counts
 * the offset from the end of the u32 itself.
 */
static int tp_field__loc(const struct tp_field *f, const void *raw, uint32_t raw_size,
			 uint32_t *off, uint32_t *len)
{
	uint32_t loc;

	if (f->size != sizeof(loc) || (uint64_t)f->offset + f->size > raw_size)
		return -EINVAL;
	memcpy(&loc, (const unsigned char *)raw + f->offset, sizeof(loc));
	*off = loc & 0xffff;
	*len = loc >> 16;
	if (f->flags & TEP_FIELD_IS_RELATIVE)
		*off += f->offset + f->size;
	if ((uint64_t)*off + *len > raw_size)
		return -EINVAL;
	return 0;
}

const char *tp_field__str(const struct tp_field *f, const void *raw, uint32_t raw_size, char *buf,
			  size_t len)
{
	const char *src;
	uint32_t off, n;
	const char *nul;

	if (!raw || !len)
		return NULL;
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		if (tp_field__loc(f, raw, raw_size, &off, &n))
			return NULL;
	} else if (f->flags & TEP_FIELD_IS_ARRAY) {
		off = f->offset;
		n = f->size;
		if ((uint64_t)off + n > raw_size)
			return NULL;
	} else {
		return NULL; /* a number or a pointer: no bytes of text in the record */
	}
	src = (const char *)raw + off;
	/* Neither kind is guaranteed NUL-terminated: comm fills all 16 bytes for long names. */
	nul = memchr(src, '\0', n);
	if (nul)
		n = (uint32_t)(nul - src);
	if (n > len - 1)
		n = (uint32_t)(len - 1);
	memcpy(buf, src, n);
	buf[n] = '\0';
	return buf;
}

/*
 * libtraceevent trusts the record: it reads fixed fields and follows
 * __data_loc offsets without checking them against the record size.
 */
static int tp__check_record(const struct tp *tp, const void *raw, uint32_t raw_size)
{
	uint32_t off, n;
	unsigned int i;

	if (!raw || raw_size < tp->size)
		return -EINVAL;
	for (i = 0; i < tp->nr_fields; i++) {
		const struct tp_field *f = &tp->fields[i];

		if ((f->flags & TEP_FIELD_IS_DYNAMIC) && tp_field__loc(f, raw, raw_size, &off, &n))
			return -EINVAL;
	}
	return 0;
}

int tp__render(const struct tp *tp, const void *raw, uint32_t raw_size, char *buf, size_t len)
{
	struct tep_record rec = {0};
	struct trace_seq s;
	void *copy = NULL;
	uint64_t type;
	size_t n;
	int err;

	if (!len)
		return -EINVAL;
	if (tp->event->flags & TEP_EVENT_FL_FAILED)
		return -EOPNOTSUPP;
	if (!tp->common_type)
		return -EOPNOTSUPP; /* libtraceevent finds the event by common_type */
	err = tp__check_record(tp, raw, raw_size);
	if (err)
		return err;
	err = tp_field__u64(tp->common_type, raw, raw_size, &type);
	if (err)
		return err;
	/*
	 * The handle knows one event, found by common_type: a record built by
	 * hand, or parsed with a format whose ID differs, gets this event's id.
	 */
	if (type != (uint64_t)tp->id) {
		copy = malloc(raw_size);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, raw, raw_size);
		tp_field__set_u64(tp->common_type, copy, raw_size, (uint64_t)tp->id);
		raw = copy;
	}

	rec.data = (void *)raw;
	rec.size = (int)raw_size;
	rec.record_size = (int)raw_size;
	rec.ref_count = 1;
	trace_seq_init(&s);
	tep_print_event(tp->tep, &s, &rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&s);
	if (s.state != TRACE_SEQ__GOOD) {
		err = -ENOMEM;
		goto out;
	}
	n = s.len < len - 1 ? s.len : len - 1;
	memcpy(buf, s.buffer, n);
	buf[n] = '\0';
	err = (int)n;
out:
	trace_seq_destroy(&s);
	free(copy);
	return err;
}

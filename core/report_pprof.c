/* The pprof writer: the report as a gzip-compressed perftools.profiles.Profile (protobuf-c). */
#define _GNU_SOURCE /* vasprintf */
#include "report.h"
#include "vec.h"
#include "hash.h"
#include "symbols/u64map.h"
#include "proto/profile.pb-c.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define KERNEL_MODULE "[kernel.kallsyms]"
#define GZ_CHUNK (64U * 1024)

/* The string table: "" first, each string once. Strings are borrowed, or owned when made here. */
struct strtab {
	const char **s;
	size_t nr, cap;
	struct u64map *idx; /* hash (probed upwards on collision) -> index */
	char **owned;
	size_t nr_owned, cap_owned;
};

/* A module seen in frames: one synthetic address range each. */
struct pp_mapping {
	const char *module;
	uint64_t min, max;
	bool unnamed, files, lines, inlines;
};

struct pp_function {
	const char *name, *file;
};

/* One pprof Line: a function and its line number. */
struct pp_line {
	uint64_t function; /* id */
	int64_t line;
};

struct pp_location {
	uint64_t mapping; /* id, 0 = none */
	uint64_t address;
	size_t first_line, nr_lines; /* in lines, innermost first */
};

struct pprof {
	const struct report *r;
	struct strtab st;
	struct pp_mapping *maps;
	size_t nr_maps, cap_maps;
	struct u64map *map_idx; /* hash of the module -> mapping index */
	struct pp_function *funcs;
	size_t nr_funcs, cap_funcs;
	struct u64map *func_idx; /* hash of name and file -> function index */
	struct pp_location *locs;
	size_t nr_locs, cap_locs;
	struct u64map *loc_idx; /* hash of mapping, address (or function) -> location index */
	struct pp_line *lines;
	size_t nr_lines, cap_lines;
	uint32_t *frame_func;  /* report frame -> function id */
	uint32_t *frame_map;   /* report frame -> mapping id, 0 = none */
	uint64_t *sample_locs; /* every sample's location ids, leaf first */
	size_t *sample_first;  /* where each stack's ids start in sample_locs */
	size_t *sample_nr;     /* and how many */
};

static int strtab__add(struct strtab *t, const char *s, int64_t *idx)
{
	uint64_t key, val;

	if (!s || !*s) {
		*idx = 0;
		return 0;
	}
	for (key = hash__mix64(hash__str(s, strlen(s)));; key++) {
		if (!u64map__get(t->idx, key, &val))
			break;
		if (!strcmp(t->s[val], s)) {
			*idx = (int64_t)val;
			return 0;
		}
	}
	if (vec__grow((void **)&t->s, &t->cap, t->nr, sizeof(*t->s), 64))
		return -ENOMEM;
	t->s[t->nr] = s;
	*idx = (int64_t)t->nr++;
	return u64map__put(t->idx, key, (uint64_t)*idx);
}

/* Adds a string made here (printf-style); it lives as long as the table. */
static int strtab__addf(struct strtab *t, int64_t *idx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int strtab__addf(struct strtab *t, int64_t *idx, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	if (vec__grow((void **)&t->owned, &t->cap_owned, t->nr_owned, sizeof(*t->owned), 64))
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	t->owned[t->nr_owned++] = s;
	return strtab__add(t, s, idx);
}

static int mapping_of(struct pprof *pp, const struct report_frame *f, uint32_t *id)
{
	uint64_t key = hash__mix64(hash__str(f->module, strlen(f->module))), val;
	struct pp_mapping *m;

	for (;; key++) {
		if (!u64map__get(pp->map_idx, key, &val))
			break;
		if (!strcmp(pp->maps[val].module, f->module))
			goto found;
	}
	if (vec__grow((void **)&pp->maps, &pp->cap_maps, pp->nr_maps, sizeof(*pp->maps), 64))
		return -ENOMEM;
	val = pp->nr_maps++;
	pp->maps[val] = (struct pp_mapping){ .module = f->module, .min = f->address,
					     .max = f->address };
	if (u64map__put(pp->map_idx, key, val))
		return -ENOMEM;
found:
	m = &pp->maps[val];
	if (f->address < m->min)
		m->min = f->address;
	if (f->address > m->max)
		m->max = f->address;
	m->unnamed |= f->kind == REPORT_FRAME_UNKNOWN;
	m->files |= f->file != NULL;
	m->lines |= f->line != 0;
	m->inlines |= f->kind == REPORT_FRAME_INLINE;
	*id = (uint32_t)val + 1;
	return 0;
}

/* Functions are one per name and source file: the same function seen at many addresses. */
static int function_of(struct pprof *pp, const struct report_frame *f, uint32_t *id)
{
	const char *file = f->file ? f->file : "";
	uint64_t key = hash__mix64(hash__str(f->name, strlen(f->name)) ^
				   hash__mix64(hash__str(file, strlen(file)))),
		 val;

	for (;; key++) {
		if (!u64map__get(pp->func_idx, key, &val))
			break;
		if (!strcmp(pp->funcs[val].name, f->name) && !strcmp(pp->funcs[val].file, file)) {
			*id = (uint32_t)val + 1;
			return 0;
		}
	}
	if (vec__grow((void **)&pp->funcs, &pp->cap_funcs, pp->nr_funcs, sizeof(*pp->funcs), 64))
		return -ENOMEM;
	pp->funcs[pp->nr_funcs] = (struct pp_function){ .name = f->name, .file = file };
	*id = (uint32_t)++pp->nr_funcs;
	return u64map__put(pp->func_idx, key, *id - 1);
}

/* Every frame's function and mapping, found once. */
static int name_frames(struct pprof *pp)
{
	const struct report *r = pp->r;
	int err = 0;

	pp->frame_func = calloc(r->nr_frames ? r->nr_frames : 1, sizeof(*pp->frame_func));
	pp->frame_map = calloc(r->nr_frames ? r->nr_frames : 1, sizeof(*pp->frame_map));
	if (!pp->frame_func || !pp->frame_map)
		return -ENOMEM;
	for (size_t i = 0; i < r->nr_frames && !err; i++) {
		const struct report_frame *f = &r->frames[i];

		err = function_of(pp, f, &pp->frame_func[i]);
		/* A label names no code, so it has no place in any file. */
		if (!err && f->module && f->kind != REPORT_FRAME_LABEL)
			err = mapping_of(pp, f, &pp->frame_map[i]);
	}
	return err;
}

static bool same_lines(const struct pprof *pp, const struct pp_location *l,
		       const struct pp_line *lines, size_t n)
{
	if (l->nr_lines != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pp->lines[l->first_line + i].function != lines[i].function ||
		    pp->lines[l->first_line + i].line != lines[i].line)
			return false;
	return true;
}

/*
 * The location of @n lines (innermost first) at @address in mapping @map.
 * One per (mapping, address) and what is there: the same address named as
 * a leaf and as a return address can differ, and then gets two. Frames in
 * no mapping have no address either: one location per function.
 */
static int location_of(struct pprof *pp, uint64_t map, uint64_t address,
		       const struct pp_line *lines, size_t n, uint64_t *id)
{
	uint64_t key, val;
	struct pp_location *l;

	key = map ? hash__mix64(map * 0x9e3779b97f4a7c15ULL ^ hash__mix64(address))
		  : hash__mix64(lines[0].function ^ 0x5bd1e995ULL << 32);
	for (;; key++) {
		if (!u64map__get(pp->loc_idx, key, &val))
			break;
		l = &pp->locs[val];
		if (l->mapping == map && l->address == address && same_lines(pp, l, lines, n)) {
			*id = val + 1;
			return 0;
		}
	}
	if (vec__grow((void **)&pp->locs, &pp->cap_locs, pp->nr_locs, sizeof(*pp->locs), 64))
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		if (vec__grow((void **)&pp->lines, &pp->cap_lines, pp->nr_lines + k, sizeof(*pp->lines), 64))
			return -ENOMEM;
	l = &pp->locs[pp->nr_locs];
	*l = (struct pp_location){ .mapping = map, .address = address,
				   .first_line = pp->nr_lines, .nr_lines = n };
	memcpy(pp->lines + pp->nr_lines, lines, n * sizeof(*lines));
	pp->nr_lines += n;
	*id = ++pp->nr_locs;
	return u64map__put(pp->loc_idx, key, *id - 1);
}

/*
 * A stack's location ids, leaf first. Its frames are root first, and an
 * inlined function follows the frame it was inlined into at the same
 * address: such a run is one location whose lines go innermost first, the
 * caller last, as pprof represents inlining.
 */
static int stack_locations(struct pprof *pp, const struct report_stack *s, uint64_t *out,
			   size_t *nr)
{
	const struct report *r = pp->r;
	struct pp_line lines[64];
	size_t n = 0;
	int err;

	for (uint32_t i = 0; i < s->nr_frames;) {
		const struct report_frame *f = &r->frames[s->frames[i]];
		uint32_t j = i + 1, k;

		while (j < s->nr_frames && j - i < 64 && pp->frame_map[s->frames[i]] &&
		       r->frames[s->frames[j]].kind == REPORT_FRAME_INLINE &&
		       pp->frame_map[s->frames[j]] == pp->frame_map[s->frames[i]] &&
		       r->frames[s->frames[j]].address == f->address)
			j++;
		for (k = 0; k < j - i; k++) {
			const struct report_frame *g = &r->frames[s->frames[j - 1 - k]];

			lines[k].function = pp->frame_func[s->frames[j - 1 - k]];
			lines[k].line = g->line;
		}
		err = location_of(pp, pp->frame_map[s->frames[i]],
				  pp->frame_map[s->frames[i]] ? f->address : 0, lines, k, &out[n++]);
		if (err)
			return err;
		i = j;
	}
	/* Built root first; pprof wants the leaf at location_id[0]. */
	for (size_t a = 0, b = n; a + 1 < b; a++, b--) {
		uint64_t t = out[a];

		out[a] = out[b - 1];
		out[b - 1] = t;
	}
	*nr = n;
	return 0;
}

static int collect(struct pprof *pp)
{
	const struct report *r = pp->r;
	size_t total = 0;
	int err;

	err = name_frames(pp);
	if (err)
		return err;
	for (size_t i = 0; i < r->nr_stacks; i++)
		total += r->stacks[i].nr_frames;
	pp->sample_locs = calloc(total ? total : 1, sizeof(*pp->sample_locs));
	pp->sample_first = calloc(r->nr_stacks ? r->nr_stacks : 1, sizeof(*pp->sample_first));
	pp->sample_nr = calloc(r->nr_stacks ? r->nr_stacks : 1, sizeof(*pp->sample_nr));
	if (!pp->sample_locs || !pp->sample_first || !pp->sample_nr)
		return -ENOMEM;
	total = 0;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		pp->sample_first[i] = total;
		err = stack_locations(pp, &r->stacks[i], pp->sample_locs + total,
				      &pp->sample_nr[i]);
		if (err)
			return err;
		total += pp->sample_nr[i];
	}
	return 0;
}

/* gzip on the fly: protobuf-c hands over many small pieces, deflated in chunks. */
struct gz_sink {
	ProtobufCBuffer base;
	z_stream z;
	FILE *f;
	int err;
	size_t in_len;
	unsigned char in[GZ_CHUNK], out[GZ_CHUNK];
};

static void gz_deflate(struct gz_sink *g, int flush)
{
	int rc;

	g->z.next_in = g->in;
	g->z.avail_in = (uInt)g->in_len;
	do {
		g->z.next_out = g->out;
		g->z.avail_out = sizeof(g->out);
		rc = deflate(&g->z, flush);
		if (rc == Z_STREAM_ERROR) {
			g->err = -EIO;
			return;
		}
		if (fwrite(g->out, 1, sizeof(g->out) - g->z.avail_out, g->f) !=
		    sizeof(g->out) - g->z.avail_out) {
			g->err = -EIO;
			return;
		}
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	g->in_len = 0;
}

static void gz_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct gz_sink *g = (struct gz_sink *)b;

	while (len && !g->err) {
		size_t n = sizeof(g->in) - g->in_len;

		if (n > len)
			n = len;
		memcpy(g->in + g->in_len, data, n);
		g->in_len += n;
		data += n;
		len -= n;
		if (g->in_len == sizeof(g->in))
			gz_deflate(g, Z_NO_FLUSH);
	}
}

static int write_gz(FILE *f, const ProtobufCMessage *msg)
{
	struct gz_sink *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	g->base.append = gz_append;
	g->f = f;
	/* 15 + 16: a gzip header and trailer around the deflate stream, as pprof expects. */
	if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	protobuf_c_message_pack_to_buffer(msg, &g->base);
	if (!g->err)
		gz_deflate(g, Z_FINISH);
	err = g->err;
	deflateEnd(&g->z);
	free(g);
	return err;
}

/* A numeric label @key = @num at lab[*nr] (none for 0, unknown). Returns 0 or -ENOMEM. */
static int num_label(struct pprof *pp, const char *name, uint32_t num,
		     Perftools__Profiles__Label *lab, size_t *nr)
{
	int64_t key;
	int err;

	if (!num)
		return 0;
	err = strtab__add(&pp->st, name, &key);
	if (err)
		return err;
	perftools__profiles__label__init(&lab[*nr]);
	lab[*nr].key = key;
	lab[(*nr)++].num = num;
	return 0;
}

/* A sample's labels: its pid and tid (0 is what text input has for "unknown") and thread name. */
static int sample_labels(struct pprof *pp, const struct report_thread *t,
			 Perftools__Profiles__Label *lab, size_t *nr)
{
	int64_t key, str;
	int err;

	*nr = 0;
	err = num_label(pp, "pid", t->pid, lab, nr);
	if (!err)
		err = num_label(pp, "tid", t->tid, lab, nr);
	if (err)
		return err;
	err = strtab__add(&pp->st, "comm", &key);
	if (!err)
		err = strtab__add(&pp->st, t->comm, &str);
	if (err)
		return err;
	perftools__profiles__label__init(&lab[*nr]);
	lab[*nr].key = key;
	lab[(*nr)++].str = str;
	return 0;
}

/* The comments: the command line first, then what else the run was. */
static int comments(struct pprof *pp, int64_t *out, size_t *nr)
{
	const struct report_meta *m = &pp->r->meta;
	int err = 0;

	*nr = 0;
	if (m->cmdline && *m->cmdline)
		err = strtab__add(&pp->st, m->cmdline, &out[(*nr)++]);
	if (!err)
		err = strtab__addf(&pp->st, &out[(*nr)++], "stackprof %s %s",
				   m->version ? m->version : "", m->profiler ? m->profiler : "");
	if (!err && m->targets)
		err = strtab__addf(&pp->st, &out[(*nr)++], "targets: %s", m->targets);
	if (!err && m->events)
		err = strtab__addf(&pp->st, &out[(*nr)++], "events: %s", m->events);
	if (!err && m->kernel)
		err = strtab__addf(&pp->st, &out[(*nr)++], "kernel: %s", m->kernel);
	if (!err && (m->samples || m->lost || m->throttled))
		err = strtab__addf(&pp->st, &out[(*nr)++],
				   "samples: %" PRIu64 ", lost: %" PRIu64 ", throttled: %" PRIu64,
				   m->samples, m->lost, m->throttled);
	return err;
}

/* The protobuf-c messages over pp's tables, packed and written. */
static int encode(struct pprof *pp, FILE *f)
{
	const struct report *r = pp->r;
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[REPORT_MAX_VALUES], *vtp[REPORT_MAX_VALUES], period;
	size_t ns = r->nr_stacks, nm = pp->nr_maps, nl = pp->nr_locs, nf = pp->nr_funcs;
	Perftools__Profiles__Sample *smp = calloc(ns ? ns : 1, sizeof(*smp));
	Perftools__Profiles__Sample **smpp = calloc(ns ? ns : 1, sizeof(*smpp));
	Perftools__Profiles__Label *lab = calloc(ns ? 3 * ns : 1, sizeof(*lab));
	Perftools__Profiles__Label **labp = calloc(ns ? 3 * ns : 1, sizeof(*labp));
	int64_t *vals = calloc(ns ? ns * r->nr_values : 1, sizeof(*vals));
	Perftools__Profiles__Mapping *map = calloc(nm ? nm : 1, sizeof(*map));
	Perftools__Profiles__Mapping **mapp = calloc(nm ? nm : 1, sizeof(*mapp));
	Perftools__Profiles__Location *loc = calloc(nl ? nl : 1, sizeof(*loc));
	Perftools__Profiles__Location **locp = calloc(nl ? nl : 1, sizeof(*locp));
	Perftools__Profiles__Line *line = calloc(pp->nr_lines ? pp->nr_lines : 1, sizeof(*line));
	Perftools__Profiles__Line **linep = calloc(pp->nr_lines ? pp->nr_lines : 1, sizeof(*linep));
	Perftools__Profiles__Function *fn = calloc(nf ? nf : 1, sizeof(*fn));
	Perftools__Profiles__Function **fnp = calloc(nf ? nf : 1, sizeof(*fnp));
	int64_t comment[8];
	int err = -ENOMEM;

	if (!smp || !smpp || !lab || !labp || !vals || !map || !mapp || !loc || !locp || !line ||
	    !linep || !fn || !fnp)
		goto out;
	for (unsigned int i = 0; i < r->nr_values; i++) {
		perftools__profiles__value_type__init(&vt[i]);
		err = strtab__add(&pp->st, r->values[i].type, &vt[i].type);
		if (!err)
			err = strtab__add(&pp->st, r->values[i].unit, &vt[i].unit);
		if (err)
			goto out;
		vtp[i] = &vt[i];
	}
	prof.n_sample_type = r->nr_values;
	prof.sample_type = vtp;
	/* The first value is the one the profiler leads with (inuse_space before inuse_objects). */
	if (r->nr_values > 1)
		prof.default_sample_type = vt[0].type;

	for (size_t i = 0; i < ns; i++) {
		const struct report_stack *s = &r->stacks[i];
		size_t nlab;

		perftools__profiles__sample__init(&smp[i]);
		smp[i].n_location_id = pp->sample_nr[i];
		smp[i].location_id = pp->sample_locs + pp->sample_first[i];
		smp[i].n_value = r->nr_values;
		smp[i].value = vals + i * r->nr_values;
		for (unsigned int v = 0; v < r->nr_values; v++)
			smp[i].value[v] = (int64_t)s->vals[v];
		err = sample_labels(pp, &r->threads[s->thread], &lab[3 * i], &nlab);
		if (err)
			goto out;
		for (size_t k = 0; k < nlab; k++)
			labp[3 * i + k] = &lab[3 * i + k];
		smp[i].n_label = nlab;
		smp[i].label = &labp[3 * i];
		smpp[i] = &smp[i];
	}
	prof.n_sample = ns;
	prof.sample = smpp;

	/*
	 * The model has file offsets, not the addresses the modules were loaded
	 * at: each module is "loaded" at 0 so that an address is its offset.
	 * The kernel's addresses are real; its range is the one sampled.
	 */
	for (size_t i = 0; i < nm; i++) {
		const struct pp_mapping *m = &pp->maps[i];

		perftools__profiles__mapping__init(&map[i]);
		map[i].id = i + 1;
		map[i].memory_start = strcmp(m->module, KERNEL_MODULE) ? 0 : m->min;
		map[i].memory_limit = m->max + 1;
		map[i].file_offset = 0;
		err = strtab__add(&pp->st, m->module, &map[i].filename);
		if (err)
			goto out;
		/* A module with an unnamed frame leaves symbolizing to the reader. */
		map[i].has_functions = !m->unnamed;
		map[i].has_filenames = m->files;
		map[i].has_line_numbers = m->lines;
		map[i].has_inline_frames = m->inlines;
		mapp[i] = &map[i];
	}
	prof.n_mapping = nm;
	prof.mapping = mapp;

	for (size_t i = 0; i < pp->nr_lines; i++) {
		perftools__profiles__line__init(&line[i]);
		line[i].function_id = pp->lines[i].function;
		line[i].line = pp->lines[i].line;
		linep[i] = &line[i];
	}
	for (size_t i = 0; i < nl; i++) {
		perftools__profiles__location__init(&loc[i]);
		loc[i].id = i + 1;
		loc[i].mapping_id = pp->locs[i].mapping;
		loc[i].address = pp->locs[i].address;
		loc[i].n_line = pp->locs[i].nr_lines;
		loc[i].line = linep + pp->locs[i].first_line;
		locp[i] = &loc[i];
	}
	prof.n_location = nl;
	prof.location = locp;

	for (size_t i = 0; i < nf; i++) {
		perftools__profiles__function__init(&fn[i]);
		fn[i].id = i + 1;
		err = strtab__add(&pp->st, pp->funcs[i].name, &fn[i].name);
		if (!err)
			err = strtab__add(&pp->st, pp->funcs[i].file, &fn[i].filename);
		if (err)
			goto out;
		/* Names are already demangled; the model keeps no other. */
		fn[i].system_name = fn[i].name;
		fnp[i] = &fn[i];
	}
	prof.n_function = nf;
	prof.function = fnp;

	prof.time_nanos = (int64_t)r->meta.start_ns;
	prof.duration_nanos = (int64_t)r->meta.duration_ns;
	if (r->meta.frequency) {
		perftools__profiles__value_type__init(&period);
		err = strtab__add(&pp->st, "cpu", &period.type);
		if (!err)
			err = strtab__add(&pp->st, "nanoseconds", &period.unit);
		if (err)
			goto out;
		prof.period_type = &period;
		prof.period = (int64_t)(1000000000ULL / r->meta.frequency);
	}
	err = comments(pp, comment, &prof.n_comment);
	if (err)
		goto out;
	prof.comment = comment;
	/* Last: every string is in by now. */
	prof.n_string_table = pp->st.nr;
	prof.string_table = (char **)pp->st.s;
	err = write_gz(f, &prof.base);
out:
	free(smp);
	free(smpp);
	free(lab);
	free(labp);
	free(vals);
	free(map);
	free(mapp);
	free(loc);
	free(locp);
	free(line);
	free(linep);
	free(fn);
	free(fnp);
	return err;
}

int report__write_pprof(FILE *f, const struct report *r)
{
	struct pprof pp = { .r = r };
	int err = -ENOMEM;

	pp.st.idx = u64map__new();
	pp.map_idx = u64map__new();
	pp.func_idx = u64map__new();
	pp.loc_idx = u64map__new();
	if (!pp.st.idx || !pp.map_idx || !pp.func_idx || !pp.loc_idx)
		goto out;
	/* string_table[0] must be "": strtab__add maps "" and NULL to it. */
	pp.st.s = malloc(64 * sizeof(*pp.st.s));
	if (!pp.st.s)
		goto out;
	pp.st.cap = 64;
	pp.st.s[pp.st.nr++] = "";
	err = collect(&pp);
	if (!err)
		err = encode(&pp, f);
	if (!err && fflush(f))
		err = -EIO;
out:
	u64map__delete(pp.st.idx);
	u64map__delete(pp.map_idx);
	u64map__delete(pp.func_idx);
	u64map__delete(pp.loc_idx);
	free(pp.st.s);
	for (size_t i = 0; i < pp.st.nr_owned; i++)
		free(pp.st.owned[i]);
	free(pp.st.owned);
	free(pp.maps);
	free(pp.funcs);
	free(pp.locs);
	free(pp.lines);
	free(pp.frame_func);
	free(pp.frame_map);
	free(pp.sample_locs);
	free(pp.sample_first);
	free(pp.sample_nr);
	return err;
}

/* What the kernel dropped from full ring buffers, kept by CPU so a report can say where. */
#include "losses.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

struct losses {
	uint64_t records, samples;
	int nr_cpus;
	uint64_t *records_cpu, *samples_cpu; /* [nr_cpus] each */
};

struct losses *losses__new(int max_cpu)
{
	struct losses *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->nr_cpus = max_cpu >= 0 ? max_cpu + 1 : 0;
	l->records_cpu = calloc((size_t)l->nr_cpus + 1, sizeof(*l->records_cpu));
	l->samples_cpu = calloc((size_t)l->nr_cpus + 1, sizeof(*l->samples_cpu));
	if (!l->records_cpu || !l->samples_cpu) {
		losses__delete(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

void losses__delete(struct losses *l)
{
	if (!l)
		return;
	free(l->records_cpu);
	free(l->samples_cpu);
	free(l);
}

void losses__add(struct losses *l, int cpu, bool samples, uint64_t n)
{
	bool known = cpu >= 0 && cpu < l->nr_cpus;

	if (samples) {
		l->samples += n;
		if (known)
			l->samples_cpu[cpu] += n;
	} else {
		l->records += n;
		if (known)
			l->records_cpu[cpu] += n;
	}
}

uint64_t losses__records(const struct losses *l)
{
	return l->records;
}

uint64_t losses__samples(const struct losses *l)
{
	return l->samples;
}

uint64_t losses__on_cpu(const struct losses *l, int cpu)
{
	if (cpu < 0 || cpu >= l->nr_cpus)
		return 0;
	return l->records_cpu[cpu] + l->samples_cpu[cpu];
}

static void print_kind(const struct losses *l, FILE *f, const uint64_t *by_cpu, const char *what)
{
	bool first = true;

	for (int cpu = 0; cpu < l->nr_cpus; cpu++) {
		if (!by_cpu[cpu])
			continue;
		if (first)
			fprintf(f, "# lost %" PRIu64 " %s on CPU %d", by_cpu[cpu], what, cpu);
		else
			fprintf(f, ", %" PRIu64 " on CPU %d", by_cpu[cpu], cpu);
		first = false;
	}
	if (!first)
		fputc('\n', f);
}

void losses__print_by_cpu(const struct losses *l, FILE *f)
{
	print_kind(l, f, l->records_cpu, "records");
	print_kind(l, f, l->samples_cpu, "samples");
}

const char *losses__cpus_text(const struct losses *l, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (int cpu = 0; cpu < l->nr_cpus && n < len; cpu++) {
		uint64_t v = losses__on_cpu(l, cpu);

		if (v)
			n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64 " on CPU %d",
					      n ? ", " : "", v, cpu);
	}
	return buf;
}

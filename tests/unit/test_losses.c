/* Loss counts: totals, by CPU, out-of-range CPUs, and the report lines. */
#define _GNU_SOURCE /* open_memstream */
#include "core/losses.h"

#include <stdlib.h>

#include "check.h"

/* What losses__print_by_cpu() writes, malloc'd. */
static char *printed(const struct losses *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	losses__print_by_cpu(l, f);
	fclose(f);
	return buf;
}

int main(void)
{
	struct losses *l = losses__new(3);
	char text[128], *out;

	CHECK(l != NULL);
	if (!l)
		return 1;
	out = printed(l);
	CHECK_STR(out, "");
	free(out);

	losses__add(l, 1, false, 34);
	losses__add(l, 0, false, 1200);
	losses__add(l, 3, true, 5);
	losses__add(l, 1, false, 6);
	/* A CPU the map does not have: in the totals only. */
	losses__add(l, 7, false, 100);
	losses__add(l, -1, true, 2);
	CHECK_EQ_U64(losses__records(l), 1340);
	CHECK_EQ_U64(losses__samples(l), 7);
	CHECK_EQ_U64(losses__on_cpu(l, 0), 1200);
	CHECK_EQ_U64(losses__on_cpu(l, 1), 40);
	CHECK_EQ_U64(losses__on_cpu(l, 2), 0);
	CHECK_EQ_U64(losses__on_cpu(l, 3), 5);
	CHECK_EQ_U64(losses__on_cpu(l, 7), 0);

	out = printed(l);
	CHECK_STR(out, "# lost 1200 records on CPU 0, 40 on CPU 1\n"
		       "# lost 5 samples on CPU 3\n");
	free(out);
	CHECK_STR(losses__cpus_text(l, text, sizeof(text)), "1200 on CPU 0, 40 on CPU 1, 5 on CPU 3");
	losses__delete(l);
	CHECK_DONE();
}

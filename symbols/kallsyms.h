/* Kernel symbols from a /proc/kallsyms-format file (modules included), looked up by binary search. */
#ifndef STACKPROF_KALLSYMS_H
#define STACKPROF_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kallsyms;

/* Loads @path. Returns NULL and sets errno on failure (EPERM when every address reads 0). */
struct kallsyms *kallsyms__load(const char *path);
/* Parses kallsyms text from @f. Same errors as kallsyms__load. */
struct kallsyms *kallsyms__parse(FILE *f);
void kallsyms__delete(struct kallsyms *k);

/*
 * Function containing @addr: the symbol with the greatest address <= @addr,
 * provided @addr is below the next symbol. Returns its name (module symbols
 * without the module) and the offset in @off, or NULL.
 */
const char *kallsyms__find(const struct kallsyms *k, uint64_t addr, uint64_t *off);
/* Module name of the symbol containing @addr ("" for the core kernel), or NULL. */
const char *kallsyms__module(const struct kallsyms *k, uint64_t addr);
size_t kallsyms__nr(const struct kallsyms *k);
/* Memory held by the table. */
size_t kallsyms__bytes(const struct kallsyms *k);

#endif

/* Demangling: C++ and Rust (v0 and legacy) names, and what is left alone. */
#include "symbols/demangle.h"

#include <stdlib.h>

#include "check.h"

static void expect(const char *sym, const char *want)
{
	char *got = demangle__name(sym);

	if (want)
		CHECK_STR(got, want);
	else
		CHECK(got == NULL);
	free(got);
}

int main(void)
{
	/* C++: qualified names and templates, no argument list. */
	expect("_ZN3foo3barEv", "foo::bar");
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back");
	expect("_ZN12_GLOBAL__N_14workEv", "(anonymous namespace)::work");
	/* Rust v0 and legacy (the hash suffix goes). */
	expect("_RNvCs1234_7mycrate3foo", "mycrate::foo");
	expect("_ZN7mycrate3foo17h0123456789abcdefE", "mycrate::foo");
	/* Not mangled, or not valid: NULL, the caller keeps the name. */
	expect("main", NULL);
	expect("_start", NULL);
	expect("_Z", NULL);
	expect("_ZN3foo", NULL);
	expect("", NULL);
	CHECK_DONE();
}

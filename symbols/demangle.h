/* C++ and Rust symbol names, demangled for display. */
#ifndef STACKPROF_DEMANGLE_H
#define STACKPROF_DEMANGLE_H

/*
 * The readable form of @sym when it is a mangled C++ ("_Z...") or Rust
 * ("_R..." v0, or legacy "_ZN...17h<hash>E") name: qualified name and
 * template arguments, without the parameter list (as folded stacks name
 * functions), e.g. "_ZNSt6vectorIiSaIiEE9push_backERKi" ->
 * "std::vector<int, std::allocator<int> >::push_back". A malloc'd string,
 * or NULL when @sym is not mangled (or out of memory).
 */
char *demangle__name(const char *sym);

#endif

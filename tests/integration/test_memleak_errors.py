"""memleak's bad input: every case must exit non-zero by itself (no signal), print
exactly one line on stderr starting with "stackprof:", create no output file,
and leave /sys/kernel/tracing/uprobe_events as it was (no probe left behind,
with the uprobe PMU or the tracefs fallback).

Each case carries -d 1, so an input wrongly accepted still ends quickly (and
then fails the test on its exit code).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import memleak_util as mu  # noqa: E402


def case(name, *args, mentions=None):
    def run(d):
        with mu.Tracefs():
            mu.check_error(d, ["-d", 1] + list(args), mentions=mentions)
    run.__name__ = "test_" + name
    return run


def nolibc_case(name, *extra):
    """-p of a live static process without libc: there is no allocator to probe."""
    def run(d):
        nolibc = sptest.workload("nolibc")
        check(os.access(nolibc, os.X_OK), "nolibc workload not built at %s" % nolibc)
        with mu.Tracefs(), sptest.Proc([nolibc, 30]) as target:
            mu.check_error(d, ["-d", 1] + list(extra) + ["-p", target.pid],
                           mentions=[str(target.pid), "--lib", "libc", "C library",
                                     "allocator"])
            check(target.alive(), "nolibc died while stackprof failed to attach")
    run.__name__ = "test_" + name
    return run


def lib_is(name, path_fn, *extra, mentions=None, mentions_all=()):
    """--lib naming a file that is no allocator library, with a command to launch."""
    def run(d):
        path = path_fn()
        with mu.Tracefs():
            mu.check_error(d, ["-d", 1] + list(extra) + ["--lib", path, "--", "true"],
                           mentions=mentions or [path], mentions_all=mentions_all)
    run.__name__ = "test_" + name
    return run


CASES = [
    case("pid_missing", "-p", 999999999, mentions=["999999999"]),
    nolibc_case("pid_without_allocator"),
    nolibc_case("pid_without_allocator_tracefs", "--uprobe-tracefs"),
    lib_is("lib_not_elf", lambda: "/etc/hostname"),
    lib_is("lib_not_elf_tracefs", lambda: "/etc/hostname", "--uprobe-tracefs"),
    lib_is("lib_missing", lambda: "/nonexistent", mentions_all=["No such file"]),
    # ELF files without a malloc of their own: a static program, and one that only
    # imports malloc and free (undefined symbols in .dynsym are not functions to probe).
    lib_is("lib_elf_without_malloc", lambda: sptest.workload("nolibc")),
    lib_is("lib_imports_malloc_only", lambda: "/usr/bin/true", "--uprobe-tracefs"),
    case("older_than_not_a_duration", "--older-than", "abc", "--", "true",
         mentions=["older-than", "abc"]),
    case("older_than_bad_unit", "--older-than", "5parsecs", "--", "true",
         mentions=["older-than"]),
    case("older_than_negative", "--older-than", "-5s", "--", "true", mentions=["older-than"]),
    case("no_target", mentions=["-p", "target", "command"]),
]


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main(CASES)

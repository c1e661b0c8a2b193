"""Helpers for the report-format tests (test_pprof.py, test_speedscope.py): the committed
perf script captures, their expected folded files as ground truth, and stackprof fold.

A report format holds the same stacks as the folded output of the same input, so each test
rebuilds "comm;root;...;leaf" -> weight from the format and compares it with the expected
folded file exactly, and sums weights per function against the same file.
"""

import os

import sptest
from sptest import check

DATA = os.path.join(sptest.REPO, "tests", "data", "perf-script")

# Every capture with its expected folded file for fold's default options.
CAPTURES = ["cpushare-g", "cpushare-nog", "cpushare-srcline", "rules", "blocker-multi",
            "blocker-fields"]

# cpushare-g: work_a/b/c's weights (cpu-clock periods, ns), read off its expected folded
# file by hand; work_c includes the sample that was inside clock_gettime.
CPUSHARE_G = {"work_a": 55276375, "work_b": 100502500, "work_c": 140703500 + 5025125}
CPUSHARE_G_TOTAL = 301507500


def data(name):
    return os.path.join(DATA, name + ".txt")


def expected_folded(name):
    """{"comm;root;...;leaf": weight} of tests/data/perf-script/expected/NAME.default.folded."""
    d = {}
    with open(os.path.join(DATA, "expected", name + ".default.folded")) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                stack, count = line.rsplit(" ", 1)
                d[stack] = d.get(stack, 0) + int(count)
    check(d, "expected/%s.default.folded is empty" % name)
    return d


def function_sums(folded):
    """{function: weight of the stacks it is in} (inclusive; a recursive function once)."""
    sums = {}
    for stack, w in folded.items():
        for fn in set(stack.split(";")[1:]):
            sums[fn] = sums.get(fn, 0) + w
    return sums


def comm_totals(folded):
    totals = {}
    for stack, w in folded.items():
        comm = stack.split(";")[0]
        totals[comm] = totals.get(comm, 0) + w
    return totals


def fold(args, **kw):
    return sptest.run([sptest.STACKPROF, "fold"] + [str(a) for a in args], **kw)


def fold_to(d, fmt, name, filename, extra=()):
    """Runs `stackprof fold --format FMT -o D/FILENAME` on capture NAME; returns the path."""
    out = os.path.join(d, filename)
    r = fold(["--format", fmt, "-o", out] + list(extra) + [data(name)])
    check(r.rc == 0, "stackprof fold --format %s failed" % fmt, r)
    check(os.path.isfile(out), "%s was not written" % out, r)
    left = sorted(set(os.listdir(d)) - {filename})
    check(not left, "files left next to the output: %s" % left, r)
    return out


def compare_folded(got, want, what):
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted(s for s in set(got) & set(want) if got[s] != want[s])
    check(not missing and not extra and not wrong,
          "%s: %d stacks missing, %d extra, %d with other weights\n  missing: %s\n  extra: %s"
          "\n  wrong: %s" % (what, len(missing), len(extra), len(wrong), missing[:3], extra[:3],
                            [(s, got[s], want[s]) for s in wrong[:3]]))


def require_stackprof(test):
    import sys
    if not os.access(sptest.STACKPROF, os.X_OK):
        sptest.log("FAIL %s: stackprof not found at %s (build it first)" % (test, sptest.STACKPROF))
        sys.exit(1)

"""oncpu under each perf_event fallback of core/features.h, forced on this kernel with
STACKPROF_FORCE_NO_<NAME>=1: the fallback is said once with -v, and the profile is
still right.

- CYCLES: this machine has no PMU, so the fallback to cpu-clock always happens; it is
  said without the variable too, and -e cycles with the variable is one error line.
- SAMPLE_ID_ALL, CLOCKID, and every fallback at once (the oldest kernel stackprof
  knows): cpushare's work_a/b/c shares stay 1:2:3 (within 5 pp), nothing comes out of
  order, and the perf clock's offset and drift are said.
The mmap fallbacks have their own test (test_fallback_mmap.py).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import fallback_util as fu  # noqa: E402

FREQ = 997
EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}
TOLERANCE = 0.05
ALL = ["CYCLES", "MMAP_BUILD_ID", "MMAP2", "SAMPLE_ID_ALL", "CLOCKID", "CONTEXT_SWITCH",
       "UPROBE_PMU"]


def oncpu_cpushare(d, name, seconds, *extra):
    """stackprof -v oncpu -g on a launched `cpushare SECONDS`; (result, header, stacks)."""
    out = sptest.output_path(d, name)
    r = sptest.run([sptest.STACKPROF, "-v", "oncpu", "-F", FREQ, "-g", "-o", out]
                   + list(extra) + ["--", sptest.workload("cpushare"), seconds], timeout=60)
    h, stacks = sptest.check_report_matches(r, out)
    fu.no_late_records(r)
    return r, h, stacks


def test_cycles(d):
    r, h, stacks = oncpu_cpushare(d, "default", 0.5)
    if h.event == "cycles":
        check(not any("no hardware cycles" in l for l in fu.warnings(r)),
              "sampled cycles yet said it fell back", r)
        sptest.log("  this machine has a PMU: cycles sampled")
    else:
        check(h.event == "cpu-clock", "header names event %s" % h.event, r)
        fu.check_said(r, "fallback: no hardware cycles event (", "cpu-clock", count=1)
    with fu.forced("CYCLES"):
        r, h, stacks = oncpu_cpushare(d, "forced", 0.5)
        check(h.event == "cpu-clock", "forced: header names event %s, not cpu-clock" % h.event, r)
        fu.check_said(r, "fallback: no hardware cycles event",
                      "forced by STACKPROF_FORCE_NO_CYCLES", count=1)
        check(sptest.share(stacks, "work_c") > 0.3, "forced: work_c has too few samples:\n%s"
              % sptest.summary(stacks), r)
        err_dir = os.path.join(d, "error")
        os.makedirs(err_dir)
        out = os.path.join(err_dir, "e-cycles.folded")
        r = sptest.run([sptest.STACKPROF, "oncpu", "-e", "cycles", "-d", 1, "-o", out],
                       timeout=30)
        sptest.check_error_contract(r, err_dir, out,
                                    mentions_all=["cycles", "STACKPROF_FORCE_NO_CYCLES"])


def test_no_sample_id_all(d):
    with fu.forced("SAMPLE_ID_ALL"):
        r, _, stacks = oncpu_cpushare(d, "sid", 1.5)
    fu.check_said(r, "fallback: no sample_id_all", "forced by STACKPROF_FORCE_NO_SAMPLE_ID_ALL",
                  "ordered where they are read", count=1)
    fu.check_shares(stacks, EXPECTED, TOLERANCE, "no sample_id_all", r)
    check(sptest.comm_share(stacks, "cpushare") >= 0.9,
          "COMM records without sample_id did not name the command:\n" + sptest.summary(stacks))


def test_no_clockid(d):
    with fu.forced("CLOCKID"):
        r, h, stacks = oncpu_cpushare(d, "clock", 1.5)
    fu.check_said(r, "fallback: no use_clockid", "forced by STACKPROF_FORCE_NO_CLOCKID", count=1)
    fu.check_said(r, "perf clock: CLOCK_MONOTONIC is perf's clock", "ns (+-", count=1)
    fu.check_said(r, "perf clock: drifted", "over the run", count=1)
    fu.check_shares(stacks, EXPECTED, TOLERANCE, "no use_clockid", r)
    # The run's length comes from the session's own clock reads: still about right.
    check(1.4 <= h.seconds <= 15, "the run lasted %.2f s for 1.5 s of CPU" % h.seconds, r)


def test_oldest_kernel(d):
    """Every fallback at once."""
    with fu.forced(*ALL):
        r, h, stacks = oncpu_cpushare(d, "all", 1.5)
    # oncpu asks neither for context-switch records nor for uprobes.
    for name in ("CYCLES", "MMAP_BUILD_ID", "MMAP2", "SAMPLE_ID_ALL", "CLOCKID"):
        check(any("STACKPROF_FORCE_NO_%s" % name in l or "needs " in l
                  for l in fu.warnings(r) if l.startswith("fallback:")),
              "nothing said about %s" % name, r)
    check(h.event == "cpu-clock", "header names event %s" % h.event, r)
    fu.check_shares(stacks, EXPECTED, TOLERANCE, "every fallback", r)
    check(sptest.has_sequence(max(stacks, key=lambda s: s[2])[1], ["main", "run"]),
          "the heaviest stack is not main;run;...:\n" + sptest.summary(stacks))


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_cycles, test_no_sample_id_all, test_no_clockid, test_oldest_kernel])

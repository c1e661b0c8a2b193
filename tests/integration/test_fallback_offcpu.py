"""offcpu under the perf_event fallbacks it depends on (core/features.h), forced on this
kernel: the blocker workload's blocked times must still be within 10% of what it
measured itself (the checks of test_offcpu_blocking.py).

- CONTEXT_SWITCH: no context-switch records; switch-ins come from sched_switch alone.
  Launched and -p. The launched command's helper threads, created after the start,
  cannot be in the switch-in filter: their blockings are not counted, and a warning
  says so.
- SAMPLE_ID_ALL: side-band records without time or id (and so no context-switch records).
- CLOCKID: records on perf's local clock, moved to CLOCK_MONOTONIC by the measured offset.
- Every fallback at once.

Without context-switch records, a wake-up onto an idle CPU 1 is invisible on this VM's
kernel (sched_switch does not fire when CPU 1 leaves its idle task; perf sees the same),
so those cases run next to SCHED_IDLE spinners that keep every CPU out of idle
(fallback_util.spinners): what is tested is the fallback, not that kernel quirk.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import fallback_util as fu  # noqa: E402
import test_offcpu_blocking as tob  # noqa: E402

ALL = ["CYCLES", "MMAP_BUILD_ID", "MMAP2", "SAMPLE_ID_ALL", "CLOCKID", "CONTEXT_SWITCH",
       "UPROBE_PMU"]


def launched(d, name, *vars_, spin=False):
    """blocker under `stackprof -v offcpu -g --` with @vars_ forced; checks its truth."""
    with fu.forced(*vars_):
        if spin:
            with fu.spinners(20):
                r, rep, blocked, _, truth = tob.profile(d, name, "-v")
        else:
            r, rep, blocked, _, truth = tob.profile(d, name, "-v")
    tob.check_blocker(r, rep, blocked, truth, "%s, launched" % name)
    return r


def test_no_context_switch(d):
    r = launched(d, "no-cs", "CONTEXT_SWITCH", spin=True)
    fu.check_said(r, "fallback: no context-switch records",
                  "forced by STACKPROF_FORCE_NO_CONTEXT_SWITCH", count=1)
    fu.check_said(r, "offcpu: without context-switch records, threads created from now on")
    # blocker's helper threads start after the events open: not in the switch-in filter.
    fu.check_said(r, "blockings were not counted", "no context-switch records", count=1)


def test_no_context_switch_attached(d):
    out = sptest.output_path(d, "attach")
    truth_path = os.path.join(d, "attach.truth")
    with fu.forced("CONTEXT_SWITCH"), fu.spinners(20):
        # Every thread exists before the attach (the helpers start before the delay).
        with sptest.Proc(tob.blocker(truth_path, "--delay", 1.0)) as w:
            time.sleep(0.2)
            r = sptest.run(tob.offcpu(out, "-v", "-p", w.pid), timeout=60)
            wr = w.finish(30)
    check(wr.rc == 0, "blocker failed", wr)
    r, rep, blocked, _, truth = tob.finish(r, out, truth_path)
    fu.check_said(r, "fallback: no context-switch records", count=1)
    tob.check_blocker(r, rep, blocked, truth, "no context-switch records, -p")


def test_no_sample_id_all(d):
    r = launched(d, "no-sid", "SAMPLE_ID_ALL", spin=True)
    fu.check_said(r, "fallback: no sample_id_all", count=1)
    fu.check_said(r, "fallback: no context-switch records (needs SAMPLE_ID_ALL)", count=1)


def test_no_clockid(d):
    r = launched(d, "no-clockid", "CLOCKID")
    fu.check_said(r, "fallback: no use_clockid", count=1)
    fu.check_said(r, "perf clock: CLOCK_MONOTONIC is perf's clock", count=1)


def test_oldest_kernel(d):
    r = launched(d, "all", *ALL, spin=True)
    for name in ("MMAP2", "SAMPLE_ID_ALL", "CLOCKID", "CONTEXT_SWITCH"):
        fu.check_said(r, "forced by STACKPROF_FORCE_NO_" + name, count=1)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_no_context_switch, test_no_context_switch_attached, test_no_sample_id_all,
                 test_no_clockid, test_oldest_kernel])

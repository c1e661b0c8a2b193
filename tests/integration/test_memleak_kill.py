"""memleak killed with SIGKILL leaves neither the target nor the kernel worse off.

leaker sleeps 2 s before it allocates; stackprof memleak attaches and is killed
-9 one second later, while the probes are in place. The target must then run
and exit 0 with its normal output (its probes went with stackprof's file
descriptors). With the uprobe PMU (used with -t, where no event is inherited),
/sys/kernel/tracing/uprobe_events is never touched. With tracefs uprobes (-p
and launched commands use them, --uprobe-tracefs forces them) stackprof's
reaper process removes the killed run's group stackprof_<pid>
(test_kill9.py checks that); here the reaper is killed first, so the group
stays, and the next stackprof memleak run removes it at start, the second
line of defence: uprobe_events is back to what it was before.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import memleak_util as mu  # noqa: E402


def kill_during_attach(d, how, extra=(), kill_reaper=False):
    """Runs leaker, attaches `stackprof memleak HOW PID` with @extra, SIGKILLs it after 1 s
    (its reaper first, with @kill_reaper). Returns (leaker result, stackprof pid,
    uprobe_events lines just before the kill)."""
    out = sptest.output_path(d, "killed")
    truth_path = os.path.join(d, "leaker.truth")
    with sptest.Proc(mu.leaker("--delay", 2, "--hold", 2, "--truth", truth_path),
                     capture=True) as target:
        argv = [sptest.STACKPROF, "memleak", how, target.pid, "-o", out] + list(extra)
        with sptest.Proc(argv, capture=True) as sp:
            t0 = time.monotonic()
            n = mu.wait_attached(sp, timeout=10, stable=0.2)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
            if not sp.alive():
                sptest.fail("stackprof exited before it could be killed", sp.finish(5))
            if not target.alive():
                sptest.fail("leaker exited early", target.finish(5))
            during = mu.uprobe_events()
            if kill_reaper:
                reaper = sptest.reaper_of(sp.pid)
                check(reaper, "stackprof %d has no %s child" % (sp.pid, sptest.REAPER_COMM))
                sptest.log("kill -KILL %d (the reaper)" % reaper)
                os.kill(reaper, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while sptest.alive(reaper):
                    check(time.monotonic() < deadline, "the reaper survived SIGKILL")
                    time.sleep(0.02)
            sptest.log("  stackprof (pid %d) holds %d perf events; killing it" % (sp.pid, n))
            sp.signal(signal.SIGKILL)
            r = sp.finish(timeout=10)
            check(r.rc == -signal.SIGKILL, "stackprof was not killed by SIGKILL", r)
        tr = target.finish(timeout=30)
    check(tr.rc == 0, "leaker did not exit 0 after its profiler was killed", tr)
    truth = mu.LeakerTruth(tr.err, "leaker's stderr")
    check(truth.bytes("leak_malloc") == 10000 and truth.count("leak_malloc") == 10,
          "leaker's normal output is not there: %s" % truth.describe(), tr)
    check(os.path.isfile(truth_path), "leaker wrote no truth file", tr)
    check(not os.listdir(os.path.dirname(out)),
          "the killed run left files: %s" % os.listdir(os.path.dirname(out)))
    return tr, sp.pid, during


def test_kill_pmu(d):
    """The uprobe PMU (-t: nothing to inherit, so the PMU is used): the kernel drops the
    probes with the fds; uprobe_events untouched."""
    with mu.Tracefs():
        before = mu.uprobe_events()
        _, pid, during = kill_during_attach(d, "-t")
        check(not mu.stackprof_groups(during, pid),
              "the PMU run created tracefs events:\n%s" % "\n".join(during))
        mu.check_events_unchanged(before, "by a PMU run killed with SIGKILL", gone=[pid])


def test_kill_tracefs(d):
    """The tracefs fallback, its reaper killed too: the killed run's group is removed by
    the next run."""
    with mu.Tracefs():
        before = mu.uprobe_events()
        _, pid, during = kill_during_attach(d, "-p", ["--uprobe-tracefs"], kill_reaper=True)
        try:
            next_run_cleans(before, pid, during)
        finally:
            mu.remove_group(pid)  # whatever happened, leave the kernel as it was


def next_run_cleans(before, pid, during):
    mine = mu.stackprof_groups(during, pid)
    check(mine, "no uprobe_events line in group stackprof_%d while it ran:\n%s"
          % (pid, "\n".join(during)))
    stale = mu.stackprof_groups(mu.uprobe_events(), pid)
    sptest.log("  after the kill: %d of its %d events remain in stackprof_%d"
               % (len(stale), len(mine), pid))
    r = sptest.run([sptest.STACKPROF, "memleak", "-d", 0.5, "--", "true"], timeout=30)
    check(r.rc == 0, "the next stackprof memleak run failed", r)
    mu.check_events_unchanged(before, "after the killed tracefs run and the next run "
                              "(stale group stackprof_%d not cleaned at start)" % pid, r,
                              gone=[pid])


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_kill_pmu, test_kill_tracefs])

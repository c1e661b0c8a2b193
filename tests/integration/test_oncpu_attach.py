"""oncpu attached to running processes and threads (-p, -t) and restricted to CPUs (-C).

`cpushare --threads` runs two named threads, "cs-a" in work_a and "cs-b" in
work_b, each 100% busy, so on a machine with two CPUs each holds about half
of the process's samples, and a thread pinned to one CPU owns that CPU.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, pct  # noqa: E402

FREQ = 997
THREADS = {"cs-a", "cs-b"}


def cpushare_threads(seconds, *extra):
    return [sptest.workload("cpushare"), "--threads", seconds] + list(extra)


def oncpu(out, *args):
    return [sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-o", out] + [str(a) for a in args]


def in_workload(comm, frames):
    return comm in THREADS or "work_a" in frames or "work_b" in frames


def test_pid(d):
    out = os.path.join(d, "pid.folded")
    with sptest.Proc(cpushare_threads(12)) as w:
        sptest.wait_threads(w, THREADS)
        time.sleep(0.5)
        r = sptest.run(oncpu(out, "-p", w.pid, "-d", 2), timeout=60)
        check(w.alive(), "cpushare exited while profiled")
    h, stacks = sptest.check_report_matches(r, out)
    # Two busy threads for 2 s; allow for a loaded 2-CPU machine.
    check(h.n >= FREQ, "only %d samples from two busy threads over 2 s" % h.n, r)
    for func in ("work_a", "work_b"):
        got = sptest.share(stacks, func)
        sptest.log("  %s: %s" % (func, pct(got)))
        check(abs(got - 0.5) <= 0.08, "%s has %s of the samples, expected 50%% +-8 pp:\n%s"
              % (func, pct(got), sptest.summary(stacks)))
    comms = {comm for comm, _, _ in stacks}
    check(THREADS <= comms, "comms %s missing from %s" % (sorted(THREADS - comms), sorted(comms)))
    # Samples are attributed to the right thread.
    for comm, func in (("cs-a", "work_a"), ("cs-b", "work_b")):
        mine = [s for s in stacks if s[0] == comm]
        frac = sptest.share(mine, func)
        check(frac >= 0.95, "only %s of %s's samples contain %s:\n%s"
              % (pct(frac), comm, func, sptest.summary(mine)))


def test_tid(d):
    out = os.path.join(d, "tid.folded")
    with sptest.Proc(cpushare_threads(10)) as w:
        tids = sptest.wait_threads(w, THREADS)
        time.sleep(0.5)
        r = sptest.run(oncpu(out, "-t", tids["cs-a"], "-d", 1.5), timeout=60)
        check(w.alive(), "cpushare exited while profiled")
    h, stacks = sptest.check_report_matches(r, out)
    check(h.n >= FREQ // 2, "only %d samples from one busy thread over 1.5 s" % h.n, r)
    a, b = sptest.share(stacks, "work_a"), sptest.share(stacks, "work_b")
    sptest.log("  -t cs-a: work_a %s, work_b %s" % (pct(a), pct(b)))
    check(a >= 0.95, "-t of cs-a: only %s of samples contain work_a:\n%s"
          % (pct(a), sptest.summary(stacks)))
    check(b == 0, "-t of cs-a: %s of samples contain work_b (other thread):\n%s"
          % (pct(b), sptest.summary(stacks)))


def test_pid_threads_created_later(d):
    """-p follows threads the process creates after stackprof attached."""
    out = os.path.join(d, "later.folded")
    with sptest.Proc(cpushare_threads(2, 1.5)) as w:
        time.sleep(0.1)
        check(len(sptest.thread_ids(w.pid)) == 1, "cpushare started its threads too early")
        r = sptest.run(oncpu(out, "-p", w.pid, "-d", 3), timeout=60)
    h, stacks = sptest.check_report_matches(r, out)
    comms = {comm for comm, _, _ in stacks}
    for comm, func in (("cs-a", "work_a"), ("cs-b", "work_b")):
        check(comm in comms, "no samples from thread %s, created after attaching (comms: %s)"
              % (comm, sorted(comms)), r)
        check(sptest.share(stacks, func) >= 0.2, "%s has only %s of the samples:\n%s"
              % (func, pct(sptest.share(stacks, func)), sptest.summary(stacks)))


def test_cpu_list(d):
    cpus = sptest.online_cpus()
    if 1 not in cpus:
        sptest.skip("needs CPU 1 (this process may run on %s)" % cpus)
    with sptest.Proc(cpushare_threads(12), cpus={1}) as w:
        sptest.wait_threads(w, THREADS)
        time.sleep(0.5)
        out1 = sptest.output_path(d, "cpu1")
        r = sptest.run(oncpu(out1, "-C", 1, "-d", 1.5), timeout=60)
        _, on1 = sptest.check_report_matches(r, out1)
        frac = sptest.share_if(on1, in_workload)
        sptest.log("  -C 1: workload pinned to CPU 1 has %s of the samples" % pct(frac))
        check(frac >= 0.7, "-C 1: the workload pinned to CPU 1 has only %s of the samples:\n%s"
              % (pct(frac), sptest.summary(on1)))
        comms = {comm for comm, _, _ in on1}
        check(THREADS <= comms, "-C 1: comms %s missing from %s"
              % (sorted(THREADS - comms), sorted(comms)))
        if 0 not in cpus:
            return
        out0 = sptest.output_path(d, "cpu0")
        r = sptest.run(oncpu(out0, "-C", 0, "-d", 1.5), timeout=60)
        _, on0 = sptest.check_report_matches(r, out0)
        frac = sptest.share_if(on0, in_workload)
        sptest.log("  -C 0: workload pinned to CPU 1 has %s of %d samples"
                   % (pct(frac), sptest.total(on0)))
        check(frac < 0.02, "-C 0: the workload pinned to CPU 1 has %s of the samples:\n%s"
              % (pct(frac), sptest.summary(on0)))
        check(w.alive(), "cpushare exited while profiled")


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_pid, test_tid, test_pid_threads_created_later, test_cpu_list])

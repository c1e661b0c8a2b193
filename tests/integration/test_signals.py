"""SIGINT, SIGTERM and SIGHUP end every profiler's run cleanly: exit 0, a complete report.

For each of oncpu, offcpu, memleak and iowrite, and each of the three
signals, stackprof launches a workload that runs for 30 s, is signalled
(itself only, not its group) half a second after its events are open, and
must then within a few seconds:
  - exit 0, having stopped the launched command;
  - print the whole report: the profiler's header, its table, a final
    newline; the header's total equals the table's and the folded file's
    (the table is not cut: --top 1000);
  - write a folded file (-o) whose every line parses, with nothing else
    left next to it (no temporary file);
  - leave no tracefs uprobe event of its own behind, and no reaper process.
One more case signals the whole process group, as a terminal's Ctrl-C does:
the launched command and the reaper get it too, and the result is the same.
And a SIGINT that comes while memleak is still creating its probes (right
after its reaper appears) ends the run as soon as it starts: exit 0, a
complete report and file, and no probe left. A launched command that
ignores SIGTERM is killed 5 s after it, and the report comes.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import iowrite_util as iu  # noqa: E402
import memleak_util as mu  # noqa: E402
import offcpu_util as ou  # noqa: E402

RUN = 30  # the workloads' length: far longer than the test waits
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def oncpu_cmd(d):
    return (["oncpu", "-F", 499, "-g"], [sptest.workload("cpushare"), "--threads", RUN])


def oncpu_check(r, out):
    h, stacks = sptest.check_report_matches(r, out)
    rows = sptest.table_rows(r)
    check(h.n > 0 and sum(c for c, _, _, _ in rows) == h.n,
          "the table's rows sum to %d, the header says %d samples"
          % (sum(c for c, _, _, _ in rows), h.n), r)
    return h.n


def offcpu_cmd(d):
    return (["offcpu", "-g"], [sptest.workload("pingpong"), RUN])


def offcpu_check(r, out):
    rep = ou.parse_report(r)
    blocked, runq = ou.parse_folded(out, r)
    ou.check_totals(rep, blocked, runq, r)
    ou.check_lost_warned(rep, r)
    check(rep.blocked.has_columns, "no column header under the offcpu header", r)
    return rep.blocked.total


def memleak_cmd(d):
    return (["memleak"], mu.leaker("--hold", RUN))


def memleak_check(r, out):
    rep = mu.parse_report(r)
    stacks = mu.parse_folded(out, r)
    mu.check_consistent(rep, stacks, out, r)
    return rep.bytes


def iowrite_cmd(d):
    return (["iowrite", "-g"], iu.writer(iu.out_dir(d, "w"), "--hold", RUN))


def iowrite_check(r, out):
    rep = iu.parse_report(r)
    stacks = sptest.parse_folded(out, r)
    iu.check_consistent(rep, stacks, r)
    iu.check_stray(out)
    return rep.totals[0]


PROFILERS = {
    "oncpu": (oncpu_cmd, oncpu_check),
    "offcpu": (offcpu_cmd, offcpu_check),
    "memleak": (memleak_cmd, memleak_check),
    "iowrite": (iowrite_cmd, iowrite_check),
}


def reapers_alive(pids):
    """Those of @pids that still run as a reaper (whoever their parent is now)."""
    return [p for p in pids if sptest.alive(p) and sptest.comm_of(p) == sptest.REAPER_COMM]


def signal_run(d, prof, sig, group=False):
    make, check_report = PROFILERS[prof]
    out = sptest.output_path(d, "%s-%s" % (prof, sig.name))
    opts, cmd = make(d)
    argv = [sptest.STACKPROF] + opts + ["--top", 1000, "-o", out, "--"] + cmd
    with sptest.Proc(argv, capture=True) as sp:
        sptest.wait_attached(sp, timeout=20, stable=0.2)
        time.sleep(0.5)
        if not sp.alive():
            sptest.fail("stackprof exited before the signal", sp.finish(5))
        reapers = [x for x in [sptest.reaper_of(sp.pid)] if x]
        if group:
            sptest.log("kill -%s -%d" % (sig.name, sp.pid))
            os.killpg(sp.pid, sig)
        else:
            sp.signal(sig)
        t0 = time.monotonic()
        r = sp.finish(timeout=30)
        took = time.monotonic() - t0
    check(r.rc == 0, "%s: stackprof did not exit 0 after %s" % (prof, sig.name), r)
    check(took < 10, "%s: %.1f s from %s to exit" % (prof, took, sig.name), r)
    check(r.out.endswith("\n"), "%s: the report does not end with a newline" % prof, r)
    check(("written to %s" % out) in r.err, "%s: no 'written to %s' on stderr" % (prof, out), r)
    total = check_report(r, out)
    left = mu.stackprof_groups(mu.uprobe_events(), sp.pid)
    check(not left, "%s: uprobe events of stackprof (pid %d) left after %s:\n%s"
          % (prof, sp.pid, sig.name, "\n".join(left)), r)
    alive = reapers_alive(reapers)
    check(not alive, "%s: reaper %s still running after stackprof exited" % (prof, alive), r)
    sptest.log("  %s after %s: exit 0 in %.2f s, total %d, %d reaper(s) ended"
               % (prof, sig.name, took, total, len(reapers)))


def make_case(prof, sig):
    def case(d):
        signal_run(d, prof, sig)
    case.__name__ = "test_%s_%s" % (prof, sig.name.lower())
    return case


def test_memleak_sigint_during_setup(d):
    """SIGINT while memleak is still creating its probes (its reaper has just appeared):
    the run ends as soon as it starts, with a complete report and no event left."""
    out = sptest.output_path(d, "setup")
    with sptest.Proc(mu.leaker("--delay", 5, "--hold", RUN), capture=True) as target:
        argv = [sptest.STACKPROF, "memleak", "-p", target.pid, "--top", 1000, "-o", out]
        with sptest.Proc(argv, capture=True) as sp:
            deadline = time.monotonic() + 20
            while not sptest.reaper_of(sp.pid):
                if not sp.alive():
                    sptest.fail("stackprof exited before it started its reaper", sp.finish(5))
                check(time.monotonic() < deadline, "no reaper appeared within 20 s")
                time.sleep(0.002)
            fds = sptest.perf_event_fds(sp.pid)
            sp.signal(signal.SIGINT)
            r = sp.finish(timeout=30)
    sptest.log("  signalled with %d perf events open" % fds)
    check(r.rc == 0, "stackprof did not exit 0 after SIGINT during setup", r)
    check(r.out.endswith("\n"), "the report does not end with a newline", r)
    memleak_check(r, out)
    left = mu.stackprof_groups(mu.uprobe_events(), sp.pid)
    check(not left, "uprobe events left:\n%s" % "\n".join(left), r)


def test_command_ignoring_sigterm(d):
    """A launched command that ignores the SIGTERM stackprof ends it with is killed after
    5 s: the report still comes."""
    out = sptest.output_path(d, "stubborn")
    argv = [sptest.STACKPROF, "oncpu", "-F", 99, "-o", out, "--", "sh", "-c",
            "trap '' TERM; exec sleep 60"]
    with sptest.Proc(argv, capture=True) as sp:
        sptest.wait_attached(sp, timeout=20, stable=0.2)
        sp.signal(signal.SIGINT)
        t0 = time.monotonic()
        r = sp.finish(timeout=30)
        took = time.monotonic() - t0
    check(r.rc == 0, "stackprof did not exit 0", r)
    check(4 <= took <= 10, "%.1f s from SIGINT to exit (5 s expected)" % took, r)
    check("did not end 5 s after SIGTERM: killed" in r.err, "no warning that sleep was killed",
          r)
    sptest.parse_header(r)
    sptest.parse_folded(out, r)
    sptest.log("  exit 0 %.1f s after SIGINT" % took)


def test_memleak_group_sigint(d):
    """Ctrl-C reaches the whole foreground group: stackprof, the command and the reaper."""
    signal_run(d, "memleak", signal.SIGINT, group=True)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([make_case(p, s) for p in PROFILERS for s in SIGNALS]
                + [test_memleak_group_sigint, test_memleak_sigint_during_setup,
                   test_command_ignoring_sigterm])

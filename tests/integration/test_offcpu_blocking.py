"""offcpu against blocking known by construction, checked against the workload's
own measurements of the same run and against perf's sched_switch.

blocker's main thread sleeps 5 x 100 ms in sleep_wait (nanosleep), waits
3 x 200 ms in pipe_wait (read on a pipe a helper writes late), 3 x 150 ms in
mutex_wait (a mutex a helper holds), and burns 300 ms of CPU in cpu_burn; it
measures each blocking call with CLOCK_MONOTONIC and writes the truth to a
file. The off-CPU time stackprof charges to stacks containing each function
must be within 10% of what the workload measured; cpu_burn must stay below
10 ms. Values are microseconds.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import offcpu_util as ou  # noqa: E402
from offcpu_util import rel  # noqa: E402

BLOCKING = ("sleep_wait", "pipe_wait", "mutex_wait")
CALLS = {"sleep_wait": 5, "pipe_wait": 3, "mutex_wait": 3}
TOLERANCE = 0.10  # relative, per function
BURN_MAX_US = 10000  # cpu_burn never blocks
ZERO_MAX_US = 10000  # a function whose blockings are filtered out
# A blocking this close to a --min-block/--max-block threshold may land on
# either side of it: the workload's clock and the kernel's differ by a little.
GUARD_US = 5000


def blocker(truth, *extra):
    return [sptest.workload("blocker"), "--truth", truth] + [str(a) for a in extra]


def offcpu(out, *args):
    return [sptest.STACKPROF, "offcpu", "-g", "-o", out] + [str(a) for a in args]


def profile(d, name, *args, delay=None):
    """Runs blocker under `stackprof offcpu -g ARGS --`.

    Returns (result, report, blocked stacks, run-queue stacks, truth)."""
    out = sptest.output_path(d, name)
    truth_path = os.path.join(d, name + ".truth")
    extra = ["--delay", delay] if delay else []
    r = sptest.run(offcpu(out, *args) + ["--"] + blocker(truth_path, *extra), timeout=90)
    return finish(r, out, truth_path)


def finish(r, out, truth_path):
    check(r.rc == 0, "stackprof failed", r)
    truth = ou.read_blocker_truth(truth_path, r)
    sptest.log("  truth: " + truth.describe())
    rep = ou.parse_report(r)
    blocked, runq = ou.parse_folded(out, r)
    ou.check_totals(rep, blocked, runq, r)
    ou.check_lost_warned(rep, r)
    leftovers = sorted(set(os.listdir(os.path.dirname(out))) - {os.path.basename(out)})
    check(not leftovers, "stray files next to the output (non-atomic write?): %s" % leftovers)
    return r, rep, blocked, runq, truth


def check_function(stacks, func, want, what, result=None, tolerance=TOLERANCE):
    got = ou.time_in(stacks, func)
    sptest.log("  %s: %d us, truth %d us (%s)" % (func, got, want, rel(got, want)))
    if want and got and (0.0005 < got / want < 0.002 or 500 < got / want < 2000):
        sptest.fail("%s: %s has %d us for a truth of %d us: a unit error (ns or ms, not us)?"
                    % (what, func, got, want), result)
    check(ou.within(got, want, tolerance),
          "%s: %s has %d us off-CPU, the workload measured %d us (%s, allowed +-%d%%):\n%s"
          % (what, func, got, want, rel(got, want), 100 * tolerance, ou.summary(stacks)), result)


def check_near_zero(stacks, func, what, limit=ZERO_MAX_US, result=None):
    got = ou.time_in(stacks, func)
    sptest.log("  %s: %d us (expected ~0)" % (func, got))
    check(got < limit, "%s: %s has %d us off-CPU, expected < %d us:\n%s"
          % (what, func, got, limit, ou.summary(stacks)), result)


def check_blocker(r, rep, blocked, truth, what, check_counts=True, tolerance=TOLERANCE):
    """The assertions shared by launch and attach mode, with the default states S,D;
    @tolerance is the relative one of each blocking function."""
    check(ou.states_set(rep.states) == {"S", "D"},
          "%s: header says states '%s', expected S and D by default" % (what, rep.states), r)
    if rep.lost():
        sptest.fail("%s: events lost on an almost idle workload: %s" % (what, rep.lost_lines), r)
    for func in BLOCKING:
        check_function(blocked, func, truth.total(func), what, r, tolerance)
    check_near_zero(blocked, "cpu_burn", what, BURN_MAX_US, r)
    # The main thread's own accounting bounds all its off-CPU time from above:
    # wall - CPU since main(), minus nothing; its blockings after the last
    # measurement (print_truth) fall outside that window.
    main_us = ou.time_in(blocked, "main", exclude="print_truth")
    limit = truth.wall_us - truth.cpu_us + 5000
    sptest.log("  main thread: %d us off-CPU; its wall - CPU is %d us"
               % (main_us, truth.wall_us - truth.cpu_us))
    check(main_us <= limit, "%s: %d us off-CPU under main, more than the thread's wall - CPU "
          "time of %d us:\n%s" % (what, main_us, limit, ou.summary(blocked)), r)
    # The table agrees with the folded file, and counts each blocking once.
    check(rep.blocked.has_columns, "%s: no 'TIME(us) COUNT %% COMM STACK' column header" % what, r)
    for func in BLOCKING:
        us, n = ou.rows_in(rep.blocked.rows, func)
        got = ou.time_in(blocked, func)
        check(abs(us - got) <= max(0.01 * got, 10),
              "%s: the table's rows with %s sum to %d us, the folded file to %d us"
              % (what, func, us, got), r)
        if check_counts:
            want = CALLS[func]
            # A futex wait may be woken and wait again; nothing else may split a blocking.
            ok = n == want if func != "mutex_wait" else want <= n <= 2 * want
            check(ok, "%s: the table counts %d blockings in %s, the workload made %d calls"
                  % (what, n, func, want), r)
    comms = {c for c, f, _ in blocked if ou.has_frame(f, "sleep_wait")}
    check(comms == {"blocker"}, "%s: sleep_wait's stacks belong to comms %s, expected blocker"
          % (what, sorted(comms)), r)


def test_launch(d):
    r, rep, blocked, _, truth = profile(d, "launch")
    check_blocker(r, rep, blocked, truth, "offcpu -- blocker")
    check(rep.runq is None, "a run-queue section without R in --state", r)


def test_attach_pid(d):
    out = sptest.output_path(d, "attach")
    truth_path = os.path.join(d, "attach.truth")
    # blocker sleeps 1 s in startup_delay before the measured part, so the
    # profiler has time to attach; with no -d it ends when blocker exits.
    with sptest.Proc(blocker(truth_path, "--delay", 1.0)) as w:
        time.sleep(0.05)
        check(w.alive(), "blocker exited at once")
        r = sptest.run(offcpu(out, "-p", w.pid), timeout=90)
        wr = w.finish(30)
    check(wr.rc == 0, "blocker failed", wr)
    r, rep, blocked, _, truth = finish(r, out, truth_path)
    check(truth.pid == w.pid, "truth is from pid %s, attached to %d" % (truth.pid, w.pid))
    check(rep.secs < 10, "-p without -d did not end when the process exited (%.1f s)" % rep.secs, r)
    check_blocker(r, rep, blocked, truth, "offcpu -p PID")


def test_attach_pid_duration(d):
    """-p with a -d longer than the process lives: same result, ends at the exit."""
    out = sptest.output_path(d, "attach_d")
    truth_path = os.path.join(d, "attach_d.truth")
    with sptest.Proc(blocker(truth_path, "--delay", 1.0)) as w:
        time.sleep(0.05)
        start = time.monotonic()
        r = sptest.run(offcpu(out, "-p", w.pid, "-d", 30), timeout=90)
        took = time.monotonic() - start
        w.finish(30)
    r, rep, blocked, _, truth = finish(r, out, truth_path)
    check(took < 20, "-p PID -d 30 took %.1f s: it should end when PID exits (~3 s)" % took, r)
    check_blocker(r, rep, blocked, truth, "offcpu -p PID -d 30")


def test_state_d(d):
    r, rep, blocked, _, truth = profile(d, "state_d", "--state", "D")
    check(ou.states_set(rep.states) == {"D"}, "header says states '%s' for --state D"
          % rep.states, r)
    for func in BLOCKING + ("cpu_burn",):
        # These all sleep interruptibly (S): nothing of them is D.
        check_near_zero(blocked, func, "--state D", result=r)


def test_state_list_forms(d):
    """"S,D" and "SD" mean the default; S alone still sees every blocking of blocker."""
    for arg in ("S,D", "SD", "S"):
        r, rep, blocked, _, truth = profile(d, "state_" + arg.replace(",", ""), "--state", arg)
        check(ou.states_set(rep.states) == set(arg.replace(",", "")),
              "header says states '%s' for --state %s" % (rep.states, arg), r)
        for func in BLOCKING:
            check_function(blocked, func, truth.total(func), "--state " + arg, r)


def filtered_truth(truth, func, keep):
    """(low, high) µs of @func's calls that @keep (a predicate on µs) counts, allowing calls
    within GUARD_US of the threshold to go either way."""
    lo = sum(c for c in truth.calls(func) if keep(c) and keep(c - GUARD_US) and keep(c + GUARD_US))
    hi = sum(c for c in truth.calls(func) if keep(c) or keep(c - GUARD_US) or keep(c + GUARD_US))
    return lo, hi


def check_filtered(r, blocked, truth, what, keep):
    for func in BLOCKING:
        lo, hi = filtered_truth(truth, func, keep)
        got = ou.time_in(blocked, func)
        sptest.log("  %s: %d us, truth after the filter %d..%d us" % (func, got, lo, hi))
        if hi == 0:
            check(got < ZERO_MAX_US, "%s: %s has %d us; all of its calls (%s us) are filtered out"
                  % (what, func, got, truth.calls(func)), r)
        else:
            check(lo * (1 - TOLERANCE) <= got <= hi * (1 + TOLERANCE),
                  "%s: %s has %d us, expected %d..%d us +-%d%% (calls %s us):\n%s"
                  % (what, func, got, lo, hi, 100 * TOLERANCE, truth.calls(func),
                     ou.summary(blocked)), r)


def test_min_block(d):
    r, rep, blocked, _, truth = profile(d, "min_block", "--min-block", "120ms")
    check_filtered(r, blocked, truth, "--min-block 120ms", lambda us: us >= 120000)
    # Also a bare number (microseconds) and another unit for the same threshold.
    r, rep, blocked, _, truth = profile(d, "min_block_us", "--min-block", "120000")
    check_filtered(r, blocked, truth, "--min-block 120000", lambda us: us >= 120000)


def test_max_block(d):
    r, rep, blocked, _, truth = profile(d, "max_block", "--max-block", "120ms")
    check_filtered(r, blocked, truth, "--max-block 120ms", lambda us: us <= 120000)


def test_min_max_block(d):
    """A window around the 150 ms mutex waits keeps only mutex_wait."""
    r, rep, blocked, _, truth = profile(d, "window", "--min-block", "120ms", "--max-block",
                                        "0.18s")
    check_filtered(r, blocked, truth, "--min-block 120ms --max-block 0.18s",
                   lambda us: 120000 <= us <= 180000)


def test_live(d):
    """-i prints live tables and the final report is still the whole run."""
    r, rep, blocked, _, truth = profile(d, "live", "-i", 0.5)
    check(rep.live_tables >= 2, "-i 0.5 over a ~2 s run printed %d '# offcpu live' tables"
          % rep.live_tables, r)
    for func in BLOCKING:
        check_function(blocked, func, truth.total(func), "-i 0.5", r)


def test_vs_perf(d):
    """Per function and for the whole main thread, stackprof agrees with perf's sched_switch
    durations of the same run (perf record -a wrapped around stackprof)."""
    ou.require_perf()
    out = sptest.output_path(d, "perf")
    truth_path = os.path.join(d, "perf.truth")
    data = os.path.join(d, "perf.data")
    r = sptest.run(ou.perf_record_cmd(data, offcpu(out, "--", *blocker(truth_path))),
                   timeout=120)
    check(r.rc == 0, "perf record -- stackprof offcpu -- blocker failed", r)
    r, rep, blocked, _, truth = finish(r, out, truth_path)
    lost = ou.perf_lost(data)
    if lost:
        sptest.skip("perf itself lost %d events: no reference" % lost)
    script = ou.perf_script(data)
    blockings = ou.perf_blockings(script.out, {truth.tid})
    check(blockings, "perf saw no blocking of blocker's main thread (tid %d)" % truth.tid, script)

    def perf_in(func=None, exclude=None):
        return sum(ns for _, _, ns, syms in blockings
                   if (func is None or ou.has_frame(syms, func))
                   and (exclude is None or not ou.has_frame(syms, exclude))) // 1000

    for func in BLOCKING:
        want = perf_in(func)
        got = ou.time_in(blocked, func)
        sptest.log("  %s: stackprof %d us, perf %d us (%s), workload %d us"
                   % (func, got, want, rel(got, want), truth.total(func)))
        check(want > 0 and ou.within(got, want, TOLERANCE),
              "%s: stackprof has %d us, perf's sched_switch %d us (%s, allowed +-%d%%)"
              % (func, got, want, rel(got, want), 100 * TOLERANCE), r)
    # The main thread as a whole: the stacks that reach main (its blockings
    # before main, in the dynamic loader or before exec, have no such frame).
    want = perf_in("main")
    got = ou.time_in(blocked, "main", comm="blocker")
    sptest.log("  main thread under main(): stackprof %d us, perf %d us (%s)"
               % (got, want, rel(got, want)))
    check(ou.within(got, want, TOLERANCE), "main thread: stackprof has %d us off-CPU under main, "
          "perf %d us (%s, allowed +-%d%%):\n%s"
          % (got, want, rel(got, want), 100 * TOLERANCE, ou.summary(blocked)), r)


if __name__ == "__main__":
    sptest.require_kernel()
    for name in ("blocker",):
        if not os.access(sptest.workload(name), os.X_OK):
            sptest.log("FAIL %s: workload %s not built" % (sptest.TEST_NAME, name))
            sys.exit(1)
    sptest.main([test_launch, test_attach_pid, test_attach_pid_duration, test_state_d,
                 test_state_list_forms, test_min_block, test_max_block, test_min_max_block,
                 test_live, test_vs_perf])

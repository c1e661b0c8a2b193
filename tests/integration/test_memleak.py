"""memleak against the leaker workload's exact truth.

leaker leaves known blocks allocated under named functions (leak_malloc,
leak_calloc, leak_realloc, leak_memalign, leak_aligned, and with --threads N
thread_leak on N threads) while churn functions allocate and free much more.
For every leaking function, the bytes of the folded stacks and the bytes and
count of the table rows containing it must equal the truth EXACTLY, and no
churn function may show anything outstanding. This holds launched (-- cmd),
attached (-p, attached before the process allocates; also with threads the
target starts after the attach), on one thread with -t (the uprobe PMU), with
4 threads, and with --uprobe-tracefs. --older-than, -v totals and -i
live tables are checked on the same workload, and perf (perf probe on the
same libc functions) confirms the workload's own call counts when it can.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import memleak_util as mu  # noqa: E402

TOP = ["--top", "1000"]


def run_launch(d, extra, leaker_args=(), name="launch", timeout=120):
    """`stackprof memleak EXTRA -o F -- leaker --truth T ARGS`: (result, report, stacks, truth)."""
    out = sptest.output_path(d, name)
    truth_path = os.path.join(d, name + ".truth")
    r = sptest.run([sptest.STACKPROF, "memleak"] + extra + TOP + ["-o", out, "--"]
                   + mu.leaker("--truth", truth_path, *leaker_args), timeout=timeout)
    check(r.rc == 0, "stackprof memleak failed", r)
    rep = mu.parse_report(r)
    mu.check_not_lost(rep, r)
    stacks = mu.parse_folded(out, r)
    truth = mu.read_truth(truth_path, r)
    return r, rep, stacks, truth, out


def test_launch_exact(d):
    """Launched: every leak exact, churn absent, header = folded = table; -v totals consistent."""
    r, rep, stacks, truth, out = run_launch(d, ["-v"])
    mu.check_exact(rep, stacks, truth, r)
    mu.check_consistent(rep, stacks, out, r)
    t = rep.totals
    check(t is not None, "-v: no '# memleak totals: ...' line on stdout", r)
    calls = truth.calls
    sptest.log("  totals %s; leaker's own calls %s" % (t, calls))
    check(t["allocs"] >= t["frees"] - t["unknown"],
          "more frees of known pointers (%d) than allocations (%d)"
          % (t["frees"] - t["unknown"], t["allocs"]), r)
    check(t["bytes_allocated"] - t["bytes_freed"] >= rep.bytes,
          "bytes allocated - bytes freed = %d, less than the %d bytes outstanding"
          % (t["bytes_allocated"] - t["bytes_freed"], rep.bytes), r)
    check(t["allocs"] >= calls["allocs"] and t["frees"] >= calls["frees"],
          "totals count %d allocations and %d frees, fewer than leaker's own %d and %d"
          % (t["allocs"], t["frees"], calls["allocs"], calls["frees"]), r)
    check(t["bytes_allocated"] >= calls["bytes_allocated"]
          and t["bytes_freed"] >= calls["bytes_freed"],
          "totals count %d bytes allocated and %d freed, fewer than leaker's own %d and %d"
          % (t["bytes_allocated"], t["bytes_freed"], calls["bytes_allocated"],
             calls["bytes_freed"]), r)
    # Everything else the process does (start-up, stdio, exit) is small next to the churn.
    check(t["allocs"] <= calls["allocs"] + 200,
          "totals count %d allocations, far more than leaker's %d (double counting of nested "
          "allocator calls?)" % (t["allocs"], calls["allocs"]), r)


def attach_exact(d, threads=0, how="-p"):
    """`stackprof memleak -p` (or -t) attached while leaker sleeps its delay; then it
    allocates. Returns stackprof's uprobe_events lines seen once it had attached."""
    delay = 2.0
    out = sptest.output_path(d, "attach")
    truth_path = os.path.join(d, "attach.truth")
    args = ["--delay", delay, "--truth", truth_path] + (["--threads", threads] if threads else [])
    with sptest.Proc(mu.leaker(*args), capture=True) as target:
        started = time.monotonic()
        with sptest.Proc([sptest.STACKPROF, "memleak", how, target.pid] + TOP + ["-o", out],
                         capture=True) as sp:
            n = mu.wait_attached(sp)
            mine = mu.stackprof_groups(mu.uprobe_events(), sp.pid)
            attached = time.monotonic() - started
            sptest.log("  stackprof holds %d perf events %.2f s after leaker started"
                       % (n, attached))
            check(attached < delay - 0.2,
                  "stackprof took %.2f s to attach, leaker allocates after %.1f s: raise the "
                  "delay or find what is slow" % (attached, delay))
            tr = target.finish(timeout=60)
            check(tr.rc == 0, "leaker failed", tr)
            r = sp.finish(timeout=60)
    check(r.rc == 0, "stackprof memleak -p failed (it should end when its target exits)", r)
    rep = mu.parse_report(r)
    mu.check_not_lost(rep, r)
    stacks = mu.parse_folded(out, r)
    truth = mu.read_truth(truth_path, r)
    mu.check_exact(rep, stacks, truth, r, threads=threads)
    mu.check_consistent(rep, stacks, out, r)
    return mine


def test_attach_exact(d):
    """-p: attached while leaker sleeps its delay, then it allocates: the same exact numbers."""
    attach_exact(d)


def test_attach_threads_exact(d):
    """-p, and the target then starts 2 threads that leak: the new threads are followed."""
    attach_exact(d, threads=2)


def test_tid_pmu_exact(d):
    """-t: no event to inherit, so the uprobe PMU is used (no tracefs group): exact too."""
    with mu.Tracefs():
        mine = attach_exact(d, how="-t")
    if not os.path.isdir("/sys/bus/event_source/devices/uprobe"):
        sptest.log("  (no uprobe PMU on this kernel: tracefs was the only way)")
        return
    check(not mine, "-t created tracefs uprobes instead of using the uprobe PMU:\n%s"
          % "\n".join(mine))


def test_threads_exact(d):
    """--threads 4: four threads leak and churn while the main thread does: still exact."""
    r, rep, stacks, truth, out = run_launch(d, [], ["--threads", 4], name="threads")
    check(truth.bytes(mu.THREAD_FUNC) == 4 * 6400, "leaker's thread truth is not 4 x 6400: %s"
          % truth.describe())
    mu.check_exact(rep, stacks, truth, r, threads=4)
    mu.check_consistent(rep, stacks, out, r)


def test_tracefs_exact(d):
    """--uprobe-tracefs: probes in group stackprof_<pid> while running, gone at exit, exact."""
    with mu.Tracefs():
        before = mu.uprobe_events()
        out = sptest.output_path(d, "tracefs")
        truth_path = os.path.join(d, "tracefs.truth")
        argv = ([sptest.STACKPROF, "memleak", "--uprobe-tracefs"] + TOP + ["-o", out, "--"]
                + mu.leaker("--delay", 1.5, "--truth", truth_path))
        sp = sptest.Proc(argv, capture=True)
        try:
            with sp:
                deadline = time.monotonic() + 10
                mine = []
                while not mine and time.monotonic() < deadline and sp.alive():
                    mine = mu.stackprof_groups(mu.uprobe_events(), sp.pid)
                    time.sleep(0.05)
                r = sp.finish(timeout=60)
            check(mine, "no uprobe_events line in group stackprof_%d while it ran" % sp.pid, r)
            sptest.log("  while running: %d events in stackprof_%d, e.g. %s"
                       % (len(mine), sp.pid, mine[0]))
            check(any(x.startswith("r") for x in mine) and any(x.startswith("p") for x in mine),
                  "expected entry (p:) and return (r:) probes, got:\n%s" % "\n".join(mine), r)
            mu.check_events_unchanged(before, "after a --uprobe-tracefs run that exited normally",
                                      r, gone=[sp.pid])
        finally:
            if sp.p is not None:
                mu.remove_group(sp.pid)  # leave the kernel as it was, whatever happened
    check(r.rc == 0, "stackprof memleak --uprobe-tracefs failed", r)
    rep = mu.parse_report(r)
    mu.check_not_lost(rep, r)
    stacks = mu.parse_folded(out, r)
    truth = mu.read_truth(truth_path, r)
    mu.check_exact(rep, stacks, truth, r)
    mu.check_consistent(rep, stacks, out, r)


def test_older_than(d):
    """--older-than 1s with -d 2 ending during a 3 s hold: the leaks, exact; 60s: nothing."""
    r, rep, stacks, truth, out = run_launch(d, ["--older-than", "1s", "-d", 2], ["--hold", 3],
                                            name="older1")
    check("older than" in rep.rest, "the header does not say 'older than': %s"
          % rep.header_line, r)
    mu.check_exact(rep, stacks, truth, r)
    mu.check_consistent(rep, stacks, out, r)

    r, rep, stacks, truth, out = run_launch(d, ["--older-than", "60s", "-d", 2], ["--hold", 3],
                                            name="older60")
    check("older than" in rep.rest, "the header does not say 'older than': %s"
          % rep.header_line, r)
    check(rep.bytes == 0 and rep.n == 0 and not rep.table.rows and not stacks,
          "nothing is 60 s old after 2 s, but the report has %d bytes in %d allocations:\n%s"
          % (rep.bytes, rep.n, mu.summary(stacks)), r)


def test_interval_live(d):
    """-i 1 during a 3.5 s hold: live tables, the last one already holding the exact leaks."""
    r, rep, stacks, truth, out = run_launch(d, ["-i", 1], ["--hold", 3.5], name="live")
    check(len(rep.live) >= 2, "expected at least 2 '# memleak live' tables in ~3.5 s, got %d"
          % len(rep.live), r)
    for line, table in rep.live:
        check(table.has_columns, "live table '%s' has no column header" % line, r)
    line, last = rep.live[-1]
    for func in mu.LEAK_FUNCS:
        got = last.bytes_count(func)
        want = (truth.bytes(func), truth.count(func))
        check(got == want, "last live table (%s): %s has %s, truth %s" % (line, func, got, want),
              r)
    mu.check_exact(rep, stacks, truth, r)


# ---------------------------------------------------------------- perf as a second witness

PERF_GROUP = "spmemleaktest"
# Allocator functions whose returns perf counts (perf names the events FN__return).
PERF_PROBES = ["malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc"]
# Calls each leak function makes, by the workload's description.
PERF_EXPECT = {
    "leak_malloc": {"malloc": 10},
    "leak_calloc": {"calloc": 5},
    "leak_realloc": {"malloc": 3, "realloc": 6},
    "leak_memalign": {"posix_memalign": 4},
    "leak_aligned": {"aligned_alloc": 2},
}


def libc_path():
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"/libc(\.so|-2\.)", path):
                return path
    sptest.skip("cannot find libc in /proc/self/maps")


def test_perf_agrees_on_calls(d):
    """perf's own return probes (perf probe, perf record --call-graph fp) count, under each
    leak function, the allocator calls the workload says it makes: a check of the
    workload's truth by a second tool, independent of stackprof."""
    if not sptest.have_perf():
        sptest.skip("perf is not installed")
    libc = libc_path()
    with mu.Tracefs():
        before = mu.uprobe_events()
        try:
            specs = []
            for fn in PERF_PROBES:
                specs += ["-a", "%s:%s=%s%%return" % (PERF_GROUP, fn, fn)]
            r = sptest.run(["perf", "probe", "-q", "-x", libc] + specs, timeout=60)
            if r.rc != 0:
                sptest.skip("perf probe cannot add uprobes here:\n%s" % r.describe())
            data = os.path.join(d, "perf.data")
            truth_path = os.path.join(d, "perf.truth")
            events = []
            for fn in PERF_PROBES:
                events += ["-e", "%s:%s__return" % (PERF_GROUP, fn)]
            r = sptest.run(["perf", "record", "-q", "--call-graph", "fp", "-m", "1024", "-o", data]
                           + events + ["--"] + mu.leaker("--truth", truth_path), timeout=120)
            check(r.rc == 0, "perf record failed", r)
            r = sptest.run(["perf", "script", "-i", data, "-F", "event,ip,sym"], timeout=120)
            check(r.rc == 0, "perf script failed", r)
        finally:
            sptest.run(["perf", "probe", "-q", "-d", "%s:*" % PERF_GROUP], timeout=60)
            mu.check_events_unchanged(before, "after perf probe -d")
    counts = {}  # (leak func, probed fn) -> returns
    event, syms = None, []

    def flush():
        if event is None:
            return
        for func in PERF_EXPECT:
            if any(mu.frame_is(s, func) for s in syms):
                counts[(func, event)] = counts.get((func, event), 0) + 1

    for line in r.out.split("\n"):
        m = re.match(r"^\s*%s:(\w+)__return:" % PERF_GROUP, line)
        if m:
            flush()
            event, syms = m.group(1), []
        elif line.startswith("\t") or line.startswith(" " * 8):
            parts = line.split(None, 1)
            if len(parts) == 2:
                syms.append(re.sub(r"\s+\(.*\)$", "", parts[1].strip()).split("+0x")[0])
        elif not line.strip():
            flush()
            event, syms = None, []
    flush()
    sptest.log("  perf: %s" % counts)
    for func, want in PERF_EXPECT.items():
        got = {fn: n for (f, fn), n in counts.items() if f == func}
        check(got == want, "perf counts %s calls under %s, the workload makes %s\n%s"
              % (got, func, want, r.describe()))
    truth = mu.read_truth(truth_path)
    for func in ("leak_malloc", "leak_calloc", "leak_memalign", "leak_aligned"):
        check(sum(PERF_EXPECT[func].values()) == truth.count(func),
              "%s: perf saw %d calls, the truth file says %d blocks"
              % (func, sum(PERF_EXPECT[func].values()), truth.count(func)))


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_launch_exact, test_attach_exact, test_attach_threads_exact,
                 test_tid_pmu_exact, test_threads_exact, test_tracefs_exact, test_older_than,
                 test_interval_live, test_perf_agrees_on_calls])

"""oncpu's output modes: no call graph, --kernel-only/--user-only with --annotate,
the live table (-i), a forced event (-e cpu-clock), --top, the default
frequency and -m.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, pct  # noqa: E402

FREQ = 997
KSUFFIX = "_[k]"


def launch(out, *args, seconds=1.5):
    """stackprof oncpu ARGS -o OUT -- cpushare SECONDS, checked for a consistent report."""
    argv = [sptest.STACKPROF, "oncpu"] + [str(a) for a in args]
    if out:
        argv += ["-o", out]
    r = sptest.run(argv + ["--", sptest.workload("cpushare"), seconds], timeout=60)
    if out:
        h, stacks = sptest.check_report_matches(r, out)
    else:
        check(r.rc == 0, "stackprof failed", r)
        h, stacks = sptest.parse_header(r), None
    return r, h, stacks


def test_no_callgraph(d):
    out = os.path.join(d, "flat.folded")
    r, h, stacks = launch(out, "-F", FREQ)
    check(stacks, "no samples", r)
    bad = [";".join([c] + f) for c, f, _ in stacks if len(f) != 1]
    check(not bad, "without -g a stack is one frame, got: %s" % bad[:5])
    # cpushare spends nearly all its time in spin's own loop.
    got = sptest.share(stacks, "spin")
    check(got >= 0.8, "spin is the sampled function in only %s of samples:\n%s"
          % (pct(got), sptest.summary(stacks)))


def test_kernel_only_annotate(d):
    out = os.path.join(d, "kernel.folded")
    # cpushare reads CLOCK_THREAD_CPUTIME_ID with a real system call, which
    # puts a few percent of its samples in the kernel.
    r, h, stacks = launch(out, "-F", FREQ, "-g", "--kernel-only", "--annotate", seconds=3)
    check(stacks, "--kernel-only: no samples at all (cpushare makes system calls)", r)
    bad = [";".join([c] + f) for c, f, _ in stacks if not all(x.endswith(KSUFFIX) for x in f)]
    check(not bad, "--kernel-only --annotate: frames without %s: %s" % (KSUFFIX, bad[:5]))
    sptest.log("  --kernel-only: %d samples in %d stacks" % (h.n, len(stacks)))


def test_user_only_annotate(d):
    out = os.path.join(d, "user.folded")
    r, h, stacks = launch(out, "-F", FREQ, "-g", "--user-only", "--annotate")
    check(stacks, "no samples", r)
    bad = [";".join([c] + f) for c, f, _ in stacks if any(x.endswith(KSUFFIX) for x in f)]
    check(not bad, "--user-only --annotate: kernel frames: %s" % bad[:5])
    check(sptest.share(stacks, "work_c") > 0.3, "work_c missing:\n" + sptest.summary(stacks))


def test_annotate_both(d):
    """With neither restriction, -g --annotate gives user frames, then kernel frames."""
    out = os.path.join(d, "both.folded")
    r, h, stacks = launch(out, "-F", FREQ, "-g", "--annotate", seconds=3)
    mixed = [f for _, f, _ in stacks if any(x.endswith(KSUFFIX) for x in f)]
    check(mixed, "-g --annotate: no kernel frames at all (cpushare makes system calls):\n"
          + sptest.summary(stacks))
    for f in mixed:
        kernel = [x.endswith(KSUFFIX) for x in f]
        first = kernel.index(True)
        check(all(kernel[first:]), "user frame after a kernel frame: %s" % ";".join(f))


def test_live_table(d):
    with sptest.Proc([sptest.workload("cpushare"), "--threads", 15]) as w:
        sptest.wait_threads(w, {"cs-a", "cs-b"})
        r = sptest.run([sptest.STACKPROF, "oncpu", "-p", w.pid, "-i", 1, "-d", 3.5], timeout=60)
    check(r.rc == 0, "stackprof failed", r)
    lines = r.out.split("\n")
    live = [i for i, line in enumerate(lines) if line.startswith("# oncpu live")]
    check(len(live) >= 2, "-i 1 -d 3.5: %d live tables, expected at least 2" % len(live), r)
    final = [i for i, line in enumerate(lines) if sptest.HEADER_RE.match(line)]
    check(final and final[-1] > live[-1], "no final report after the live tables", r)
    sptest.log("  %d live tables" % len(live))


def test_event_cpu_clock(d):
    out = os.path.join(d, "cpuclock.folded")
    r, h, stacks = launch(out, "-F", FREQ, "-e", "cpu-clock")
    check(h.event == "cpu-clock", "-e cpu-clock: header says event %r" % h.event, r)
    check(h.n > 0, "-e cpu-clock: no samples", r)


def test_top(d):
    r, h, _ = launch(None, "-F", FREQ, "-g", "--top", 3)
    rows = sptest.table_rows(r)
    check(1 <= len(rows) <= 3, "--top 3: %d table rows" % len(rows), r)
    r, h, _ = launch(None, "-F", FREQ, "-g")
    rows = sptest.table_rows(r)
    check(1 <= len(rows) <= 20, "default --top 20: %d table rows" % len(rows), r)


def test_default_freq_and_mmap_pages(d):
    out = os.path.join(d, "default.folded")
    r, h, stacks = launch(out, "-m", 8)
    check(h.hz == 99, "default frequency: header says %d Hz, expected 99" % h.hz, r)
    check(h.n > 0, "no samples at 99 Hz over 1.5 s", r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_no_callgraph, test_kernel_only_annotate, test_user_only_annotate,
                 test_annotate_both, test_live_table, test_event_cpu_clock, test_top,
                 test_default_freq_and_mmap_pages])

"""--call-graph dwarf: user stacks unwound from a copy of the stack, on workloads
built without frame pointers (cpushare_nofp, leaker_nofp: -O2
-fomit-frame-pointer, functions kept whole and named).

- oncpu on cpushare_nofp: nearly every sample (>= 95%) has the chain
  main;run;work_X;spin root-first, the 1:2:3 shares hold within 5 pp (as in
  test_oncpu_launch), and the report says almost no user stack was cut short.
- -g on the same program documents the breakage: main is in far fewer
  samples, and the report says most user stacks were cut short and suggests
  --call-graph dwarf. -g on the frame-pointer build is the control: nothing
  cut short, so the count measures the walk and not the workload.
- memleak on leaker_nofp: the exact bytes and counts per leaking function of
  test_memleak hold, and each leak's stack reaches main.
- -p attach, offcpu and iowrite unwind too; iowrite's exact truth holds with
  its own register and stack reads united with dwarf's.
- Bad SIZE values (and modes) end with one clear error line, non-zero exit;
  the largest SIZE the kernel takes works.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, pct  # noqa: E402
import iowrite_util as iu  # noqa: E402
import memleak_util as mu  # noqa: E402

FREQ = 997
SECONDS = 3
EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}
TOLERANCE = 0.05  # absolute, in fraction of samples (as test_oncpu_launch)
CHAIN_MIN = 0.95  # samples whose whole chain main;run;work_X;spin is recovered
# Cut short with dwarf: the kernel sometimes copies no stack at all (its copy
# from user memory can fail in the timer interrupt); a fraction of a percent.
DWARF_CUT_MAX = 0.02
# -g on cpushare_nofp: spin does not keep a frame pointer, so the walk ends at
# once. Measured: main in 0% of the samples, all of them cut short.
FP_NOFP_MAIN_MAX = 0.50
FP_NOFP_CUT_MIN = 0.50

CUT_RE = re.compile(r"^# (?P<n>\d+) of (?P<m>\d+) user stacks were cut short "
                    r"\(unwinding stopped before the process's entry\)(?P<hint>.*)$")

_runs = {}


def cut_short(result):
    """(N, M, hint) from the report's '# N of M user stacks were cut short' line."""
    found = [CUT_RE.match(line) for line in result.out.split("\n")]
    found = [m for m in found if m]
    check(found, "no '# N of M user stacks were cut short (...)' line on stdout", result)
    m = found[-1]
    n, total = int(m.group("n")), int(m.group("m"))
    sptest.log("  cut short: %d of %d (%s)%s" % (n, total, pct(n / total if total else 0),
                                                  m.group("hint")))
    return n, total, m.group("hint")


def chain_share(stacks):
    """Fraction of samples whose folded stack holds main;run;work_X;spin root-first."""
    return sptest.share_if(stacks, lambda _, frames: any(
        sptest.has_sequence(frames, ["main", "run", w, "spin"]) for w in EXPECTED))


def oncpu(d, name, mode, workload, extra=()):
    """`stackprof oncpu -F 997 MODE -o F -- WORKLOAD 3`, run once per name: (result, stacks)."""
    if name not in _runs:
        out = sptest.output_path(d, name)
        r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ] + list(mode) + list(extra)
                       + ["-o", out, "--", sptest.workload(workload), SECONDS], timeout=120)
        _, stacks = sptest.check_report_matches(r, out)
        _runs[name] = (r, stacks)
    return _runs[name]


def test_dwarf_recovers_chains(d):
    """dwarf on cpushare_nofp: >= 95% full chains root-first, 1:2:3 within 5 pp."""
    r, stacks = oncpu(d, "dwarf", ["--call-graph", "dwarf"], "cpushare_nofp")
    got = chain_share(stacks)
    sptest.log("  main;run;work_X;spin in %s of the samples" % pct(got))
    check(got >= CHAIN_MIN, "only %s of the samples have main;run;work_X;spin root-first, "
          "expected at least %s:\n%s" % (pct(got), pct(CHAIN_MIN), sptest.summary(stacks)), r)
    for func, want in EXPECTED.items():
        share = sptest.share(stacks, func)
        sptest.log("  %s: %s of samples (expected %s)" % (func, pct(share), pct(want)))
        check(abs(share - want) <= TOLERANCE, "%s is in %s of the samples, expected %s +-%d pp"
              ":\n%s" % (func, pct(share), pct(want), 100 * TOLERANCE, sptest.summary(stacks)))
    # Below main, libc's start-up to _start: the walk went all the way.
    check(sptest.share_if(stacks, lambda _, f: f[:1] == ["_start"]) >= CHAIN_MIN,
          "fewer than %s of the stacks start at _start:\n%s"
          % (pct(CHAIN_MIN), sptest.summary(stacks)), r)
    rows = sptest.table_rows(r)
    check(any(sptest.has_sequence(s, ["spin", "work_c", "run", "main"]) for _, _, _, s in rows),
          "no table row reads 'spin <- work_c <- run <- main'", r)


def test_dwarf_cut_short_near_zero(d):
    """dwarf on cpushare_nofp: the report counts every sample's user stack, almost none cut."""
    r, stacks = oncpu(d, "dwarf", ["--call-graph", "dwarf"], "cpushare_nofp")
    n, total, hint = cut_short(r)
    check(total == sptest.total(stacks),
          "%d user stacks counted, but there are %d samples of a user program"
          % (total, sptest.total(stacks)), r)
    check(n <= DWARF_CUT_MAX * total, "%d of %d user stacks cut short with dwarf (more than %s)"
          % (n, total, pct(DWARF_CUT_MAX)), r)
    check(not n or "raise the stack size" in hint,
          "dwarf stacks cut short without the hint to raise the stack size", r)


def test_fp_breaks_without_frame_pointers(d):
    """-g on cpushare_nofp: main in far fewer samples, most stacks cut short, dwarf suggested."""
    r, stacks = oncpu(d, "fp-nofp", ["-g"], "cpushare_nofp")
    main = sptest.share(stacks, "main")
    sptest.log("  -g: main in %s of the samples" % pct(main))
    check(main < FP_NOFP_MAIN_MAX, "-g without frame pointers still finds main in %s of the "
          "samples (expected below %s): is cpushare_nofp built with them?\n%s"
          % (pct(main), pct(FP_NOFP_MAIN_MAX), sptest.summary(stacks)), r)
    n, total, hint = cut_short(r)
    check(total == sptest.total(stacks) and n >= FP_NOFP_CUT_MIN * total,
          "-g without frame pointers: %d of %d user stacks cut short (of %d samples), "
          "expected most" % (n, total, sptest.total(stacks)), r)
    check("try --call-graph dwarf" in hint, "no hint to try --call-graph dwarf", r)


def test_fp_control_with_frame_pointers(d):
    """-g on the frame-pointer build: the walk reaches libc's start-up, nothing cut short."""
    r, stacks = oncpu(d, "fp", ["-g"], "cpushare")
    check(chain_share(stacks) >= CHAIN_MIN, "-g with frame pointers: main;run;work_X;spin in "
          "only %s:\n%s" % (pct(chain_share(stacks)), sptest.summary(stacks)), r)
    n, total, _ = cut_short(r)
    check(n <= DWARF_CUT_MAX * total, "-g with frame pointers: %d of %d user stacks cut short"
          % (n, total), r)


def test_memleak_exact(d):
    """memleak --call-graph dwarf on leaker_nofp: test_memleak's exact truth, stacks to main."""
    out = sptest.output_path(d, "memleak")
    truth_path = os.path.join(d, "memleak.truth")
    # leaker's churn calls the allocator in bursts of thousands, and each
    # return probe now carries 8 KiB of stack: exact counts need every one.
    # A sanitized stackprof drains the rings about half as fast: twice the room.
    pages = "16384" if sptest.sanitized() else "8192"
    r = sptest.run([sptest.STACKPROF, "memleak", "--call-graph", "dwarf", "-m", pages,
                    "--top", "1000", "-o", out, "--",
                    sptest.workload("leaker_nofp"), "--truth", truth_path], timeout=120)
    check(r.rc == 0, "stackprof memleak failed", r)
    rep = mu.parse_report(r)
    mu.check_not_lost(rep, r)
    stacks = mu.parse_folded(out, r)
    truth = mu.read_truth(truth_path, r)
    mu.check_exact(rep, stacks, truth, r)
    mu.check_consistent(rep, stacks, out, r)
    for func in mu.LEAK_FUNCS:
        rows = [f for _, _, _, _, f in rep.table.rows if mu.has_frame(f, func)]
        check(rows and all(sptest.has_sequence(f, [func, "main"]) for f in rows),
              "%s's stacks do not all read '%s <- main':\n%s"
              % (func, func, mu.table_summary(rep.table)), r)
    n, total, _ = cut_short(r)
    check(total and n <= DWARF_CUT_MAX * total, "memleak: %d of %d allocation stacks cut short"
          % (n, total), r)


def test_attach(d):
    """-p on a running cpushare_nofp: the chains are recovered for the attached process."""
    out = sptest.output_path(d, "attach")
    with sptest.Proc([sptest.workload("cpushare_nofp"), 30]) as target:
        time.sleep(0.5)  # past the dynamic loader: its maps come from /proc
        r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "--call-graph", "dwarf",
                        "-p", target.pid, "-d", 2, "-o", out], timeout=60)
        check(target.alive(), "cpushare_nofp did not survive the attach", r)
    _, stacks = sptest.check_report_matches(r, out)
    # The CPU is shared (other runs on this machine): enough samples, not all of them.
    check(sptest.total(stacks) >= 100, "only %d samples in 2 s at %d Hz"
          % (sptest.total(stacks), FREQ), r)
    got = chain_share(stacks)
    sptest.log("  attached: main;run;work_X;spin in %s of the samples" % pct(got))
    check(got >= CHAIN_MIN, "attached: only %s of the samples have main;run;work_X;spin:\n%s"
          % (pct(got), sptest.summary(stacks)), r)
    for func in EXPECTED:
        check(sptest.share(stacks, func) > 0, "attached: no sample in %s" % func, r)


def test_offcpu(d):
    """offcpu --call-graph dwarf on blocker: the blocked main thread's stacks reach main."""
    out = sptest.output_path(d, "offcpu")
    r = sptest.run([sptest.STACKPROF, "offcpu", "--call-graph", "dwarf", "-o", out, "--",
                    sptest.workload("blocker")], timeout=60)
    check(r.rc == 0, "stackprof offcpu failed", r)
    stacks = sptest.parse_folded(out, r)
    for func in ("sleep_wait", "pipe_wait", "mutex_wait"):
        with_func = [f for c, f, _ in stacks if c == "blocker" and func in f]
        check(with_func and all(sptest.has_sequence(f, ["main"]) and f[0] == "_start"
                                for f in with_func),
              "offcpu: %s's stacks do not all run from _start through main:\n%s"
              % (func, sptest.summary(stacks)), r)
    n, total, _ = cut_short(r)
    check(total and n <= DWARF_CUT_MAX * total + 1, "offcpu: %d of %d stacks cut short"
          % (n, total), r)


def test_iowrite(d):
    """iowrite --call-graph dwarf on writer: its exact truth; the stacks reach main."""
    out = sptest.output_path(d, "iowrite")
    truth_path = os.path.join(d, "iowrite.truth")
    files = iu.out_dir(d, "iowrite")
    r = iu.run(["--call-graph", "dwarf", "--top", "1000", "-o", out, "--"]
               + iu.writer(files, "--truth", truth_path))
    check(r.rc == 0, "stackprof iowrite failed", r)
    rep = iu.parse_report(r)
    iu.check_not_lost(rep, r)
    stacks = iu.parse_folded(out, r)
    truth = iu.read_truth(truth_path, r)
    iu.check_design(truth, files)
    # The vectored calls read their iovec arrays from the stack copy by sp.
    iu.check_exact(rep, stacks, truth, r)
    for note in rep.notes:
        check("requested bytes count as 0" not in note,
              "every iovec array of the workload is a local, yet: %s" % note, r)
    for func in iu.FUNCS:
        with_func = [f for _, f, _ in stacks if func in f]
        check(all(sptest.has_sequence(f, ["main", func]) for f in with_func),
              "iowrite: %s's stacks do not all read main;%s:\n%s"
              % (func, func, iu.summary(stacks)), r)
    cut_short(r)


def test_bad_sizes(d):
    """Bad --call-graph values: one 'stackprof:' line naming the option, exit 2, nothing run."""
    out = os.path.join(d, "out.folded")
    for value in ("dwarf,0", "dwarf,65529", "dwarf,70000", "dwarf,-8", "dwarf,abc", "dwarf,",
                  "dwarf,8k", "dwarf8192", "lbr", "fp,8", ""):
        r = sptest.run([sptest.STACKPROF, "oncpu", "--call-graph", value, "-o", out, "--",
                        sptest.workload("cpushare_nofp"), 1], timeout=30)
        line = sptest.check_error_contract(r, d, out, mentions_all=("--call-graph",))
        check("'%s'" % value in line, "the error line does not quote the value %r" % value, r)
        check(r.rc == 2, "exit code %d for a bad value, expected 2" % r.rc, r)
    r = sptest.run([sptest.STACKPROF, "oncpu", "--call-graph"], timeout=30)
    sptest.check_error_contract(r, d, out, mentions_all=("--call-graph", "needs a value"))


def test_largest_size(d):
    """dwarf,65528 (the kernel's limit) works; dwarf,1 is taken as 8 bytes."""
    for size, want_main in ((65528, True), (1, False)):
        out = sptest.output_path(d, "size%d" % size)
        r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "--call-graph",
                        "dwarf,%d" % size, "-o", out, "--",
                        sptest.workload("cpushare_nofp"), 1], timeout=60)
        _, stacks = sptest.check_report_matches(r, out)
        got = chain_share(stacks)
        sptest.log("  dwarf,%d: main;run;work_X;spin in %s" % (size, pct(got)))
        if want_main:
            check(got >= CHAIN_MIN, "dwarf,%d: only %s full chains" % (size, pct(got)), r)
        else:
            # 8 bytes hold no more than spin's own return address.
            check(got == 0, "dwarf,1 (8 bytes) still found %s full chains" % pct(got), r)
            n, total, hint = cut_short(r)
            check(n >= FP_NOFP_CUT_MIN * total and "raise the stack size" in hint,
                  "dwarf,1: %d of %d cut short, hint %r" % (n, total, hint), r)


if __name__ == "__main__":
    sptest.require_kernel()
    for w in ("cpushare_nofp", "leaker_nofp"):
        if not os.access(sptest.workload(w), os.X_OK):
            sptest.log("FAIL test_dwarf: %s not built (cmake --build build)" % w)
            sys.exit(1)
    sptest.main([test_dwarf_recovers_chains, test_dwarf_cut_short_near_zero,
                 test_fp_breaks_without_frame_pointers, test_fp_control_with_frame_pointers,
                 test_memleak_exact, test_attach, test_offcpu, test_iowrite, test_bad_sizes,
                 test_largest_size])

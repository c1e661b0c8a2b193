"""oncpu on a command it launches: CPU shares known by construction, checked
against the workload's 1:2:3 design and against perf record on the same workload.

cpushare's main thread spends its CPU time in work_a, work_b, work_c in the
ratio 1:2:3, so the samples whose stack contains each must be 1/6, 2/6, 3/6 of
the total (within 5 percentage points), and perf must see the same shares.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, pct  # noqa: E402

FREQ = 997
SECONDS = 3
EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}
TOLERANCE = 0.05  # absolute, in fraction of samples
COUNT_TOLERANCE = 0.20  # relative, on the number of samples

_stackprof_stacks = {}


def profile_cpushare(d):
    """stackprof oncpu -g on `cpushare 3` (run once, shared by the cases)."""
    if "stacks" in _stackprof_stacks:
        return _stackprof_stacks["stacks"]
    out = os.path.join(d, "cpushare.folded")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-o", out, "--",
                    sptest.workload("cpushare"), SECONDS], timeout=90)
    h, stacks = sptest.check_report_matches(r, out)
    _stackprof_stacks.update(stacks=stacks, header=h, result=r)
    return stacks


def test_shares_by_construction(d):
    stacks = profile_cpushare(d)
    h = _stackprof_stacks["header"]
    r = _stackprof_stacks["result"]
    expected_n = FREQ * SECONDS
    check(h.hz == FREQ, "header says %d Hz, asked for %d" % (h.hz, FREQ), r)
    check(abs(h.n - expected_n) <= COUNT_TOLERANCE * expected_n,
          "%d samples, expected %d +-%d%% (%d Hz x %d s of CPU)"
          % (h.n, expected_n, 100 * COUNT_TOLERANCE, FREQ, SECONDS), r)
    for func, want in EXPECTED.items():
        got = sptest.share(stacks, func)
        sptest.log("  %s: %s of samples (expected %s)" % (func, pct(got), pct(want)))
        check(abs(got - want) <= TOLERANCE,
              "%s is in %s of the samples, expected %s +-%d pp; top stacks:\n%s"
              % (func, pct(got), pct(want), 100 * TOLERANCE, sptest.summary(stacks)))
    check(any(sptest.has_sequence(frames, ["main", "run", "work_c"]) for _, frames, _ in stacks),
          "no folded stack has the frames main;run;work_c root-first:\n" + sptest.summary(stacks))
    # Root first everywhere: wherever main and spin both appear, main comes before spin.
    bad = [frames for _, frames, _ in stacks
           if "main" in frames and "spin" in frames and frames.index("main") > frames.index("spin")]
    check(not bad, "stacks not root-first: %s" % bad[:3])
    check(sptest.comm_share(stacks, "cpushare") >= 0.9,
          "comm 'cpushare' has only %s of the samples:\n%s"
          % (pct(sptest.comm_share(stacks, "cpushare")), sptest.summary(stacks)))
    # The table lists stacks leaf first.
    rows = sptest.table_rows(r)
    check(rows, "the report's table has no rows", r)
    check(any(sptest.has_sequence(stack, ["spin", "work_c", "run", "main"])
              for _, _, _, stack in rows),
          "no table row reads 'spin <- work_c <- run <- main'", r)


def parse_perf_script(text):
    """perf script's default text: a header line per sample, then one indented
    `addr sym+off (dso)` line per frame, leaf first, and a blank line.
    Returns [(comm, [root, ..., leaf], 1)], the shape of sptest.parse_folded."""
    stacks = []
    comm, frames = None, []

    def flush():
        if comm is not None:
            stacks.append((comm, list(reversed(frames)), 1))

    for line in text.split("\n"):
        if not line.strip():
            flush()
            comm, frames = None, []
        elif line[0] not in " \t":
            flush()
            # The comm may contain spaces; the pid (or pid/tid) follows it.
            m = re.match(r"^(.*?)\s+\d+(?:/\d+)?\s", line)
            comm, frames = (m.group(1) if m else line.split()[0]), []
        else:
            parts = line.split(None, 2)
            if len(parts) >= 2:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1]))
    flush()
    return stacks


def test_agrees_with_perf(d):
    if not sptest.have_perf():
        sptest.skip("perf is not installed (apt-get install linux-perf)")
    data = os.path.join(d, "perf.data")
    r = sptest.run(["perf", "record", "-q", "-F", FREQ, "-g", "-o", data, "--",
                    sptest.workload("cpushare"), SECONDS], timeout=90)
    check(r.rc == 0, "perf record failed", r)
    s = sptest.run(["perf", "script", "-i", data], timeout=120)
    check(s.rc == 0, "perf script failed", s)
    perf_stacks = parse_perf_script(s.out)
    check(sptest.total(perf_stacks) > 0.5 * FREQ * SECONDS,
          "perf script gave only %d samples" % sptest.total(perf_stacks), s)
    if "stacks" not in _stackprof_stacks:
        os.makedirs(os.path.join(d, "stackprof"))
    ours = profile_cpushare(os.path.join(d, "stackprof"))
    for func in EXPECTED:
        theirs, mine = sptest.share(perf_stacks, func), sptest.share(ours, func)
        sptest.log("  %s: stackprof %s, perf %s" % (func, pct(mine), pct(theirs)))
        check(abs(mine - theirs) <= TOLERANCE,
              "%s: stackprof %s vs perf %s, more than %d pp apart"
              % (func, pct(mine), pct(theirs), 100 * TOLERANCE))


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_shares_by_construction, test_agrees_with_perf])

"""stackprof compare: similarity scores and --diff, checked against hand-made
profiles whose scores follow from the definitions in docs/perf-script.md
("compare"), and against perf on the CPU workload profiled by both.

The round trip (root, perf events and perf needed; skipped otherwise, which
CI turns into a failure) profiles `cpushare 3` with perf record and with
stackprof oncpu, then compares perf's text with stackprof's folded stacks.
The other cases need no kernel: they compare small files written here.

Scores are printed with three decimals; the hand-made cases check that text
exactly, the arithmetic is in the comments.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

FREQ = 997
SECONDS = 3
EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}
SHARE_TOLERANCE = 5.0  # percentage points, on the report's inclusive shares
# Over 12 runs of the round trip (perf record then stackprof oncpu, cpushare 3,
# 997 Hz) self was 0.986-0.994: both tools' leaves are spin in ~98% of the
# samples; the rest is clock_gettime's path into the kernel, sampled a little
# differently by the two. 0.85 leaves a wide margin for noise while still
# catching a profile whose leaves are wrong.
SELF_MIN = 0.85
# Inclusive is the weighted Jaccard similarity of the functions' inclusive
# shares. Both tools name libc's frames from its separate debug information
# (libc6-dbg) and the vDSO's from its image, and compare drops symbol
# versions (clock_gettime@@GLIBC_2.17): measured 0.985-0.990. The same margin
# as self. The docs say self and inclusive are the scores to hold a profile
# to; this case holds it to that.
INCLUSIVE_MIN = 0.85

COMPARE_HEADER_RE = re.compile(
    r"^# compare: A = (?P<a>.*) \((?P<akind>perf script|folded), weight (?P<aw>\d+), "
    r"(?P<an>\d+) stacks\); B = (?P<b>.*) \((?P<bkind>perf script|folded), "
    r"weight (?P<bw>\d+), (?P<bn>\d+) stacks\)$")
SCORES_RE = re.compile(
    r"^similarity: stacks (?P<stacks>\S+), self (?P<self>\S+), inclusive (?P<inclusive>\S+) "
    r"\(1 = the same distribution\)$")
FUNC_COLUMNS_RE = re.compile(r"^\s*A-INCL%\s+B-INCL%\s+DIFF\s+A-SELF%\s+B-SELF%\s+FUNCTION$")
FUNC_ROW_RE = re.compile(
    r"^\s*(?P<ai>\d+\.\d\d)\s+(?P<bi>\d+\.\d\d)\s+(?P<diff>[+-]\d+\.\d\d)\s+"
    r"(?P<as>\d+\.\d\d)\s+(?P<bs>\d+\.\d\d)  (?P<func>\S.*)$")


# ---------------------------------------------------------------- helpers

def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Report:
    """A parsed `stackprof compare` report."""

    def __init__(self, result):
        self.result = result
        lines = result.out.rstrip("\n").split("\n")
        check(len(lines) >= 4, "the report has fewer than 4 lines", result)
        self.header = COMPARE_HEADER_RE.match(lines[0])
        check(self.header is not None, "line 1 is not '# compare: A = ... ; B = ...'", result)
        m = SCORES_RE.match(lines[1])
        check(m is not None,
              "line 2 is not 'similarity: stacks S, self S, inclusive S (...)'", result)
        self.text = {k: m.group(k) for k in ("stacks", "self", "inclusive")}
        # "-0.000" is let through here (a rounding bug of its own, test_scores_in_range),
        # so that it cannot hide what the other cases check.
        for k, v in self.text.items():
            check(re.match(r"^-?[01]\.\d{3}$", v) and -0.0005 < float(v) <= 1,
                  "the %s score %r is not a number from 0.000 to 1.000" % (k, v), result)
        self.scores = {k: float(v) for k, v in self.text.items()}
        check(lines[2].startswith("# functions"), "line 3 is not '# functions ...'", result)
        check(FUNC_COLUMNS_RE.match(lines[3]),
              "line 4 is not the column header A-INCL% B-INCL% DIFF A-SELF% B-SELF% FUNCTION",
              result)
        # [(func, a_incl, b_incl, diff, a_self, b_self)] in report order, as text
        self.rows = []
        for line in lines[4:]:
            r = FUNC_ROW_RE.match(line)
            check(r is not None, "not a function row: %r" % line, result)
            self.rows.append((r.group("func"), r.group("ai"), r.group("bi"), r.group("diff"),
                              r.group("as"), r.group("bs")))
        self.funcs = {row[0]: row for row in self.rows}

    def scores_text(self):
        return "stacks %s, self %s, inclusive %s" % (
            self.text["stacks"], self.text["self"], self.text["inclusive"])

    def top(self, n=8):
        return "\n".join("    %8s %8s %8s %8s %8s  %s" % (row[1:] + row[:1])
                         for row in self.rows[:n])

    def incl(self, func):
        """(A's, B's) inclusive share of @func in percent."""
        check(func in self.funcs, "%s is not in the report's functions" % func, self.result)
        row = self.funcs[func]
        return float(row[1]), float(row[2])


def compare(args, timeout=30):
    """`stackprof compare ARGS`: must exit 0 with nothing on stderr. Returns the Result."""
    r = sptest.run([sptest.STACKPROF, "compare"] + [str(a) for a in args], timeout=timeout)
    check(r.rc == 0, "stackprof compare failed", r)
    check(r.err == "", "stackprof compare wrote on stderr", r)
    return r


def report(a, b, *opts):
    return Report(compare(list(opts) + ["--top", 0, a, b]))


def check_scores(rep, stacks, self_, inclusive, why=""):
    want = "stacks %s, self %s, inclusive %s" % (stacks, self_, inclusive)
    check(rep.scores_text() == want,
          "scores: got '%s', expected '%s'%s" % (rep.scores_text(), want, why), rep.result)
    sptest.log("  -> " + want)


def require_kernel_case():
    """sptest.require_kernel() for one case: skips (a failure under CI) instead of exiting,
    so the cases that need no kernel still run; also needs perf itself."""
    if os.geteuid() != 0:
        sptest.skip("needs root for perf events")
    if not os.path.exists("/proc/sys/kernel/perf_event_paranoid"):
        sptest.skip("this kernel has no perf events (/proc/sys/kernel/perf_event_paranoid missing)")
    err = sptest._probe_perf_event()
    if err:
        sptest.skip("perf_event_open(cpu-clock, cpu 0) failed: %s" % os.strerror(err))
    if not sptest.have_perf():
        sptest.skip("perf is not installed (apt-get install linux-perf)")
    check(os.access(sptest.workload("cpushare"), os.X_OK),
          "cpushare workload not found at %s (build it first)" % sptest.workload("cpushare"))


# ---------------------------------------------------------------- round trip

_round_trip = {}


def round_trip(d):
    """perf and stackprof on `cpushare 3`, one after the other; run once, shared by the cases.
    Returns {"perf_txt", "perf_folded", "sp_folded", "report", "report_fold"}."""
    if "error" in _round_trip:  # failed or skipped in an earlier case: the same again
        raise _round_trip["error"]
    if _round_trip:
        return _round_trip
    try:
        return _run_round_trip(d)
    except (sptest.Failure, sptest.Skip) as e:
        _round_trip["error"] = e
        raise


def _run_round_trip(d):
    require_kernel_case()
    cpushare = sptest.workload("cpushare")
    data = os.path.join(d, "perf.data")
    r = sptest.run(["perf", "record", "-q", "-F", FREQ, "-g", "-o", data, "--",
                    cpushare, SECONDS], timeout=60)
    check(r.rc == 0, "perf record failed", r)
    sp_folded = os.path.join(d, "sp.folded")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-o", sp_folded, "--",
                    cpushare, SECONDS], timeout=60)
    check(r.rc == 0, "stackprof oncpu failed", r)
    stacks = sptest.parse_folded(sp_folded, r)
    check(sptest.total(stacks) > 0.5 * FREQ * SECONDS,
          "stackprof wrote only %d samples" % sptest.total(stacks), r)
    s = sptest.run(["perf", "script", "-i", data], timeout=60)
    check(s.rc == 0 and s.out, "perf script failed", s)
    perf_txt = write(d, "perf.txt", s.out)
    perf_folded = os.path.join(d, "perf.folded")
    f = sptest.run([sptest.STACKPROF, "fold", perf_txt, "-o", perf_folded], timeout=60)
    check(f.rc == 0, "stackprof fold failed", f)
    sptest.parse_folded(perf_folded, f)

    rep = report(perf_txt, sp_folded)
    h = rep.header
    check(h.group("akind") == "perf script" and h.group("bkind") == "folded",
          "A should be read as perf script and B as folded", rep.result)
    # perf script weighs each sample by its period (ns of cpu-clock); the folded file by 1.
    check(int(h.group("bw")) == sptest.total(stacks),
          "B's weight %s is not the folded file's %d samples"
          % (h.group("bw"), sptest.total(stacks)), rep.result)
    sptest.log("  perf vs stackprof: " + rep.scores_text())
    rep_fold = report(perf_folded, sp_folded)
    sptest.log("  fold(perf) vs stackprof: " + rep_fold.scores_text())
    _round_trip.update(perf_txt=perf_txt, perf_folded=perf_folded, sp_folded=sp_folded,
                       report=rep, report_fold=rep_fold)
    return _round_trip


def test_round_trip_shares(d):
    """work_a/b/c's inclusive shares agree between perf and stackprof and with the 1:2:3
    design; self is high; perf's text and its fold give the same comparison."""
    rt = round_trip(d)
    rep, rep_fold = rt["report"], rt["report_fold"]
    for func, want in EXPECTED.items():
        a, b = rep.incl(func)
        sptest.log("  %s: perf %.2f%%, stackprof %.2f%% (by design %.2f%%)"
                   % (func, a, b, 100 * want))
        check(abs(a - b) <= SHARE_TOLERANCE,
              "%s: perf %.2f%% vs stackprof %.2f%%, more than %g pp apart"
              % (func, a, b, SHARE_TOLERANCE), rep.result)
        for who, got in (("perf", a), ("stackprof", b)):
            check(abs(got - 100 * want) <= SHARE_TOLERANCE,
                  "%s: %s has %.2f%%, expected %.2f%% +-%g pp"
                  % (func, who, got, 100 * want, SHARE_TOLERANCE), rep.result)
    check(rep.scores["self"] >= SELF_MIN,
          "self similarity %.3f is below %.2f; functions differing most:\n%s"
          % (rep.scores["self"], SELF_MIN, rep.top()), rep.result)
    # fold normalizes perf's text as compare reads it: the same scores and shares.
    check(rep_fold.scores_text() == rep.scores_text(),
          "compare(fold(perf.txt), sp.folded) gives '%s' but compare(perf.txt, sp.folded) '%s'"
          % (rep_fold.scores_text(), rep.scores_text()), rep_fold.result)
    check(sorted(rep_fold.rows) == sorted(rep.rows),
          "compare(fold(perf.txt), sp.folded) lists other function shares than "
          "compare(perf.txt, sp.folded)", rep_fold.result)
    same = report(rt["perf_txt"], rt["perf_folded"])
    check_scores(same, "1.000", "1.000", "1.000", " (perf.txt against its own fold)")


def test_round_trip_inclusive(d):
    rep = round_trip(d)["report"]
    check(rep.scores["inclusive"] >= INCLUSIVE_MIN,
          "inclusive similarity %.3f is below %.2f; functions differing most:\n%s"
          % (rep.scores["inclusive"], INCLUSIVE_MIN, rep.top()), rep.result)


# ---------------------------------------------------------------- hand-made profiles

# A hand-made pair: A = {p;x;y 3, p;x;z 1}, B = {p;x;y 1, p;x;z 1}.
PAIR_A = "p;x;y 3\np;x;z 1\n"
PAIR_B = "p;x;y 1\np;x;z 1\n"
# A second pair where the three scores differ, with a recursive frame:
# A = {p;x;y 2, p;x;x;y 1, p;z 1} (weight 4), B = {p;x;y 5, p;w;y 1, p;z 2} (weight 8).
PAIR2_A = "p;x;y 2\np;x;x;y 1\np;z 1\n"
PAIR2_B = "p;x;y 5\np;w;y 1\np;z 2\n"


def test_identity(d):
    """A profile against itself: 1.000 three times, every function's DIFF +0.00."""
    a = write(d, "a.folded", PAIR2_A + "q-12;main;x;x;y 7\nq;main;w 2\n")
    rep = report(a, a)
    check_scores(rep, "1.000", "1.000", "1.000")
    check(rep.header.group("aw") == rep.header.group("bw") == "13",
          "weights should be 13 and 13", rep.result)
    check({row[0] for row in rep.rows} == {"x", "y", "z", "w", "main"},
          "functions should be x y z w main (process names are no functions)", rep.result)
    for func, ai, bi, diff, as_, bs in rep.rows:
        check(ai == bi and as_ == bs and diff in ("+0.00", "-0.00"),
              "%s differs in a profile compared with itself" % func, rep.result)
    # x: in p;x;y 2, p;x;x;y 1, q;main;x;x;y 7 = 10 of 13 = 76.92%, not 11 or 18 of 13.
    check(rep.funcs["x"][1] == "76.92", "x's inclusive share should be 10/13 = 76.92%",
          rep.result)


def test_disjoint(d):
    """No function in common: stacks 0 and self 0."""
    a = write(d, "a.folded", PAIR_A)
    b = write(d, "b.folded", "q;m;n 2\n")
    # stacks: all of A's weight and all of B's on different stacks: 1 - 1/2 (1 + 1) = 0.
    # self: y 3/4, z 1/4 in A, n 1 in B: 1 - 1/2 (3/4 + 1/4 + 1) = 0.
    # inclusive: no function in common, so every min(a, b) is 0: 0 / (...) = 0.
    check_scores(report(a, b), "0.000", "0.000", "0.000")
    # The same with no function in every sample:
    # A = {p;x 1, p;y 1}, B = {q;m 1, q;n 1}: every function 1/2 on one side, 0 on the
    # other: stacks 1 - 1/2 (4 x 1/2) = 0, self the same, inclusive 0 / 2 = 0.
    a2 = write(d, "a2.folded", "p;x 1\np;y 1\n")
    b2 = write(d, "b2.folded", "q;m 1\nq;n 1\n")
    check_scores(report(a2, b2), "0.000", "0.000", "0.000")


def test_scores_in_range(d):
    """Disjoint profiles whose shares do not add up to exactly 1 in floating point:
    the scores must still read 0.000, never -0.000."""
    # A (weight 51) and B (weight 60) share nothing: stacks and self are
    # 1 - 1/2 (1 + 1) = 0; inclusive: nothing in common, 0.
    a = write(d, "a.folded", "p;f0 9\np;f1 8\np;f2 2\np;f3 3\np;f4 17\np;f5 12\n")
    b = write(d, "b.folded", "q;g0 6\nq;g1 17\nq;g2 7\nq;g3 10\nq;g4 10\nq;g5 10\n")
    r = compare([a, b])
    m = SCORES_RE.match(r.out.split("\n")[1]) if r.out.count("\n") > 1 else None
    check(m is not None, "no similarity line on line 2", r)
    got = "stacks %s, self %s, inclusive %s" % (m.group("stacks"), m.group("self"),
                                                  m.group("inclusive"))
    check(got == "stacks 0.000, self 0.000, inclusive 0.000",
          "scores: got '%s', expected 'stacks 0.000, self 0.000, inclusive 0.000'" % got, r)


def test_hand_pair(d):
    """Scores and shares computed by hand from the definitions."""
    a = write(d, "a.folded", PAIR_A)
    b = write(d, "b.folded", PAIR_B)
    # Shares: A: p;x;y 3/4, p;x;z 1/4. B: p;x;y 1/2, p;x;z 1/2.
    # stacks    = 1 - 1/2 (|3/4 - 1/2| + |1/4 - 1/2|)           = 1 - 1/2 (1/2) = 0.750
    # self      = y: 3/4 vs 1/2, z: 1/4 vs 1/2, x: 0 vs 0      -> the same, 0.750
    # inclusive = sum of min / sum of max over x: 1 vs 1, y: 3/4 vs 1/2, z: 1/4 vs 1/2
    #           = (1 + 1/2 + 1/4) / (1 + 3/4 + 1/2) = 7/9                  = 0.778
    rep = report(a, b)
    check_scores(rep, "0.750", "0.750", "0.778")
    h = rep.header
    check((h.group("a"), h.group("akind"), h.group("aw"), h.group("an"))
          == (a, "folded", "4", "2")
          and (h.group("b"), h.group("bkind"), h.group("bw"), h.group("bn"))
          == (b, "folded", "2", "2"),
          "the header should read A = %s (folded, weight 4, 2 stacks); "
          "B = %s (folded, weight 2, 2 stacks)" % (a, b), rep.result)
    want = {("y", "75.00", "50.00", "-25.00", "75.00", "50.00"),
            ("z", "25.00", "50.00", "+25.00", "25.00", "50.00"),
            ("x", "100.00", "100.00", "+0.00", "0.00", "0.00")}
    check(set(rep.rows) == want and len(rep.rows) == 3,
          "function rows: got %s, expected %s" % (rep.rows, sorted(want)), rep.result)
    diffs = [abs(float(row[3])) for row in rep.rows]
    check(diffs == sorted(diffs, reverse=True),
          "the functions are not listed largest difference first", rep.result)

    a2 = write(d, "a2.folded", PAIR2_A)
    b2 = write(d, "b2.folded", PAIR2_B)
    # A (weight 4): p;x;y 1/2, p;x;x;y 1/4, p;z 1/4.
    # B (weight 8): p;x;y 5/8, p;w;y 1/8, p;z 1/4.
    # stacks    = 1 - 1/2 (|1/2-5/8| + |1/4-0| + |0-1/8| + |1/4-1/4|)
    #           = 1 - 1/2 (1/8 + 1/4 + 1/8)                      = 0.750
    # self      = y: 3/4 vs 6/8, z: 1/4 vs 2/8, x, w: 0           = 1.000
    # inclusive = x: 3/4 (p;x;x;y counts once) vs 5/8; w: 0 vs 1/8;
    #             y: 3/4 vs 3/4; z: 1/4 vs 1/4
    #           = (5/8 + 0 + 3/4 + 1/4) / (3/4 + 1/8 + 3/4 + 1/4) = 13/15 = 0.867
    #             (counting x twice in p;x;x;y would give 13/17 = 0.765)
    rep2 = report(a2, b2)
    check_scores(rep2, "0.750", "1.000", "0.867")
    check(rep2.funcs.get("x") == ("x", "75.00", "62.50", "-12.50", "0.00", "0.00")
          and rep2.funcs.get("w") == ("w", "0.00", "12.50", "+12.50", "0.00", "0.00"),
          "x should read 75.00 62.50 -12.50 0.00 0.00 and w 0.00 12.50 +12.50 0.00 0.00",
          rep2.result)
    # The process name takes part in stacks, not in functions: A under another name
    # has no stack in common with A (stacks 0) but the same functions (1, 1).
    a3 = write(d, "a3.folded", PAIR2_A.replace("p;", "other;"))
    check_scores(report(a2, a3), "0.000", "1.000", "1.000", " (same frames, other process)")
    # --top N: only the N functions differing most.
    top1 = Report(compare(["--top", 1, a, b]))
    check(len(top1.rows) == 1 and top1.rows[0][0] in ("y", "z"),
          "--top 1 should list one function, y or z", top1.result)


def test_diff(d):
    """--diff: the union of both profiles' normalized stacks, with both counts, by stack."""
    a = write(d, "a.folded", PAIR_A)
    b = write(d, "b.folded", PAIR_B)
    r = compare(["--diff", a, b])
    check(r.out == "p;x;y 3 1\np;x;z 1 1\n",
          "expected exactly 'p;x;y 3 1' and 'p;x;z 1 1'", r)
    # Stacks on one side only get a 0 on the other.
    a2 = write(d, "a2.folded", PAIR2_A)
    b2 = write(d, "b2.folded", PAIR2_B)
    r = compare(["--diff", a2, b2])
    want = "p;w;y 0 1\np;x;x;y 1 0\np;x;y 2 5\np;z 1 2\n"
    check(r.out == want, "expected exactly:\n" + want, r)
    # -o writes the same.
    out = os.path.join(d, "diff.folded")
    compare(["--diff", "-o", out, a2, b2])
    with open(out) as f:
        check(f.read() == want, "--diff -o %s does not hold the same lines as stdout" % out)


def _perf_sample(comm, pid, usecs, period, frames):
    """One sample of `perf script` text as perf prints it: header, frames leaf first, blank."""
    lines = ["%s %6d  1.%06d: %10d cpu-clock:pppH: " % (comm, pid, usecs, period)]
    for i, fr in enumerate(frames):
        module = "[kernel.kallsyms]" if fr.startswith("w+") else "/usr/bin/prog"
        lines.append("\t%16x %s (%s)" % (0x401000 + 16 * i, fr, module))
    return "\n".join(lines) + "\n\n"


def test_diff_normalizes(d):
    """`-PID`, `-PID/TID`, `-?/TID` suffixes, `+0x..` offsets, `_[k]`-style marks and
    spaces in the process name are normalized away, in folded and perf script input."""
    a = write(d, "a.folded",
              "prog-4242;main+0x1f;x+0xa0;y_[k] 2\n"    # -> prog;main;x;y 2
              "prog-?/4243;main;x;y 1\n"                # -> prog;main;x;y, merged: 3
              "prog-4242/4244;main_[j];x+0xAB;z 1\n"    # -> prog;main;x;z 1
              "my prog-7;main;w_[i] 1\n")               # -> my_prog;main;w 1
    b = write(d, "b.txt",
              _perf_sample("prog", 4242, 1, 1000, ["y+0x10", "x+0x20", "main+0x30"])
              + _perf_sample("prog", 4243, 2, 1000, ["y+0x11", "x+0x20", "main+0x30"])
              + _perf_sample("prog", 4242, 3, 1000, ["y+0x12", "x+0x21", "main+0x30"])
              + _perf_sample("prog", 4244, 4, 1000, ["z+0x1", "x+0x22", "main+0x30"])
              + _perf_sample("my prog", 7, 5, 1000, ["w+0x5", "main+0x30"]))
    r = compare(["--diff", a, b])
    want = "my_prog;main;w 1 1000\nprog;main;x;y 3 3000\nprog;main;x;z 1 1000\n"
    check(r.out == want, "expected exactly:\n" + want, r)
    # Normalized, the two are one distribution (3:1:1 and 3000:1000:1000).
    rep = report(a, b)
    check(rep.header.group("akind") == "folded" and rep.header.group("bkind") == "perf script",
          "A should be read as folded, B as perf script", rep.result)
    check_scores(rep, "1.000", "1.000", "1.000")
    check({row[0] for row in rep.rows} == {"main", "x", "y", "z", "w"},
          "functions should be main x y z w, without offsets or marks", rep.result)


# ---------------------------------------------------------------- errors

def check_error(d, args, mentions=()):
    """`stackprof compare ARGS`, then with -o OUT: the error contract (sptest), nothing on
    stdout, no OUT."""
    outdir = os.path.join(d, "out")
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, "never.folded")
    for argv in ([sptest.STACKPROF, "compare"] + args,
                 [sptest.STACKPROF, "compare", "-o", out] + args):
        r = sptest.run(argv, timeout=30)
        sptest.check_error_contract(r, outdir, out, mentions=mentions, ignore_case=False)
        check(r.out == "", "something was written on stdout", r)


def test_errors(d):
    inputs = os.path.join(d, "in")
    os.makedirs(inputs)
    a = write(inputs, "a.folded", PAIR_A)
    empty = write(inputs, "empty.folded", "")
    missing = os.path.join(inputs, "no-such-file.folded")
    sptest.log("- missing file")
    check_error(d, [missing, a], mentions=[missing])
    check_error(d, [a, missing], mentions=[missing])
    sptest.log("- a directory")
    check_error(d, [inputs, a], mentions=[inputs])
    check_error(d, [a, inputs], mentions=[inputs])
    sptest.log("- one argument only, none, three")
    check_error(d, [a])
    check_error(d, [])
    check_error(d, [a, a, a])
    sptest.log("- unknown options, bad --top")
    check_error(d, ["--no-such-option", a, a], mentions=["--no-such-option"])
    check_error(d, ["-Q", a, a], mentions=["-Q"])
    check_error(d, ["--top", "many", a, a], mentions=["many"])
    sptest.log("- a profile without samples")
    check_error(d, [empty, a], mentions=[empty])


if __name__ == "__main__":
    if not os.access(sptest.STACKPROF, os.X_OK):
        sptest.log("FAIL %s: stackprof binary not found at %s (build it first)"
                   % (sptest.TEST_NAME, sptest.STACKPROF))
        sys.exit(1)
    sptest.main([test_identity, test_disjoint, test_scores_in_range, test_hand_pair,
                 test_diff, test_diff_normalizes, test_errors,
                 test_round_trip_shares, test_round_trip_inclusive])

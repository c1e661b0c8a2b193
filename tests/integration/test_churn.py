"""oncpu -g follows a launched process through a thread, a fork, a child's exit and an exec.

The churn workload spins, by its own CPU clock, in main_spin (main thread,
400 ms), thread_spin (a thread, 600 ms), child_spin (a forked child that
then exits, 600 ms) and, after execing itself, exec_spin (800 ms): 2:3:3:4;
--scale 2 doubles them all, so that the exec'd phase outlasts by far the
second for which the model of an exited process is kept.
`stackprof oncpu -F 997 -g -v -o F -- churn --scale 2` must:
  - name all four functions (not [unknown] or [file+0x...]), including
    child_spin of the child that exited a second or more before the report
    and whose address-space model was freed by then (-v says so);
  - give each the share of the four's samples it was designed to use,
    within 5 percentage points (by CPU-time budgets, so the ratio holds on
    a loaded machine; measured within 1 point here);
  - charge them to the right threads: churn-child, churn-thread, and churn
    before and after the exec (same pid);
  - have the four make up at least 90% of all samples (the rest is start-up
    and the clock reads in the spin loop).
A share check that fails is run once more before the test fails: other
tests share these two CPUs.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

DESIGN = {"main_spin": 800, "thread_spin": 1200, "child_spin": 1200, "exec_spin": 1600}
COMMS = {"main_spin": "churn", "thread_spin": "churn-thread", "child_spin": "churn-child",
         "exec_spin": "churn"}
TOLERANCE = 0.05
TRUTH_RE = re.compile(r"^churn: truth (\w+) (\d+) (\d+) (\d+)$", re.M)
MODEL_RE = re.compile(r"process model: .* freed after exit: (\d+) address spaces, "
                      r"(\d+) thread names")


def run_churn(d, name):
    out = sptest.output_path(d, name)
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", 997, "-g", "-v", "--top", 50, "-o", out,
                    "--", sptest.workload("churn"), "--scale", 2], timeout=60)
    h, stacks = sptest.check_report_matches(r, out)
    return r, h, stacks


def check_structure(r, stacks):
    truth = {m[0]: (int(m[2]), int(m[3])) for m in TRUTH_RE.findall(r.err)}
    check(set(truth) == set(DESIGN), "churn's truth lines: %s" % sorted(truth), r)
    main_pid = truth["main_spin"][0]
    check(truth["exec_spin"][0] == main_pid and truth["thread_spin"][0] == main_pid
          and truth["child_spin"][0] != main_pid,
          "churn did not run as designed (pids %s)" % truth, r)
    for func, comm in COMMS.items():
        mine = [(c, f, n) for c, f, n in stacks if sptest.has_frame(f, func)]
        check(mine, "%s is not named in any stack:\n%s" % (func, sptest.summary(stacks)), r)
        wrong = {c for c, _, _ in mine if c != comm}
        n = sum(x for _, _, x in mine)
        check(sum(x for c, _, x in mine if c == comm) >= 0.95 * n,
              "%s's samples are charged to %s, not %s" % (func, sorted(wrong), comm), r)
    m = MODEL_RE.search(r.err)
    check(m, "no -v 'process model: ... freed after exit' line", r)
    check(int(m.group(1)) >= 1 and int(m.group(2)) >= 2,
          "the exited child's model was not freed before the report (%s)" % m.group(0), r)
    sptest.log("  %s" % m.group(0))


def shares_ok(stacks):
    """(ok, message): each function's share of the four's samples against the design."""
    got = {f: sptest.folded_sum(stacks, f) for f in DESIGN}
    four = sum(got.values())
    want_total = sum(DESIGN.values())
    lines, ok = [], True
    for f, ms in DESIGN.items():
        share, want = got[f] / four if four else 0.0, ms / want_total
        good = abs(share - want) <= TOLERANCE
        ok &= good
        lines.append("    %-12s %5d samples  %s (designed %s)%s"
                     % (f, got[f], sptest.pct(share), sptest.pct(want), "" if good else "  <--"))
    all_n = sptest.total(stacks)
    ok &= four >= 0.9 * all_n
    lines.append("    the four: %d of %d samples (%s)" % (four, all_n,
                                                          sptest.pct(four / all_n if all_n else 0)))
    return ok, "\n".join(lines)


def test_follow_churn(d):
    r, h, stacks = run_churn(d, "churn")
    check_structure(r, stacks)
    ok, msg = shares_ok(stacks)
    sptest.log(msg)
    if not ok:
        sptest.log("  shares off: once more (the CPUs are shared with other tests)")
        r, h, stacks = run_churn(d, "churn2")
        check_structure(r, stacks)
        ok, msg = shares_ok(stacks)
        sptest.log(msg)
    check(ok, "CPU shares are not those designed (within %s):\n%s\n%s"
          % (sptest.pct(TOLERANCE), msg, sptest.summary(stacks)), r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_follow_churn])

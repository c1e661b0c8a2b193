"""--max-stacks N bounds every stack table: one warning when it fills, the rest counted.

oncpu -g on cpushare (work_a, work_b and work_c, each with its own stack,
plus the kernel paths of its clock reads) with --max-stacks 2: the profile
holds at most 2 stacks, stderr carries exactly one 'stack table is full'
warning, the report says '# N samples not counted: the stack table was full
(2 stacks, --max-stacks 2)' with N > 0, its header ends with the
'[approximate: N not counted, stack table full]' mark, and the counted plus
the dropped samples are all the samples the session delivered (-v). offcpu,
which fills two tables (blocked and run-queue), warns once too. Bad values
are refused with one line.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import offcpu_util as ou  # noqa: E402

WARN_RE = re.compile(r"the stack table is full")
DROPPED_RE = re.compile(r"^# (?P<n>\d+) (?P<what>[\w -]+) not counted: the stack table was full "
                        r"\((?P<stacks>\d+) stacks?, --max-stacks (?P<max>\d+)\)$", re.M)
MARK_RE = re.compile(r"\[approximate: (?:\d+ records lost, )?(?P<n>\d+) not counted, "
                     r"stack table full\]$")
SAMPLES_RE = re.compile(r"(\d+) records, (\d+) samples, ")


def test_oncpu(d):
    out = sptest.output_path(d, "oncpu")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-v", "-F", 997, "-g", "--max-stacks", 2,
                    "-o", out, "--", sptest.workload("cpushare"), 1], timeout=60)
    h, stacks = sptest.check_report_matches(r, out)
    check(len(WARN_RE.findall(r.err)) == 1, "expected one 'stack table is full' warning", r)
    m = DROPPED_RE.search(r.out)
    check(m and m.group("what") == "samples" and int(m.group("max")) == 2
          and int(m.group("stacks")) == 2 and int(m.group("n")) > 0,
          "no '# N samples not counted: the stack table was full (2 stacks, --max-stacks 2)'",
          r)
    dropped = int(m.group("n"))
    header = [x for x in r.out.split("\n") if sptest.HEADER_RE.match(x)][-1]
    mark = MARK_RE.search(header)
    check(mark and int(mark.group("n")) == dropped,
          "the header does not end with '[approximate: %d not counted, stack table full]': %r"
          % (dropped, header), r)
    check(len(stacks) <= 2, "%d folded stacks from a table of 2" % len(stacks), r)
    delivered = SAMPLES_RE.search(r.err)
    check(delivered and int(delivered.group(2)) == h.n + dropped,
          "counted %d + dropped %d != the %s samples delivered"
          % (h.n, dropped, delivered.group(2) if delivered else "?"), r)
    sptest.log("  %d samples counted in 2 stacks, %d dropped" % (h.n, dropped))


def test_offcpu_warns_once(d):
    out = sptest.output_path(d, "offcpu")
    r = sptest.run([sptest.STACKPROF, "offcpu", "-g", "--state", "S,D,R", "--max-stacks", 1,
                    "-o", out, "--", sptest.workload("pingpong"), "--cpu", 0, 1], timeout=60)
    check(r.rc == 0, "offcpu failed", r)
    rep = ou.parse_report(r)
    blocked, runq = ou.parse_folded(out, r)
    ou.check_totals(rep, blocked, runq, r)
    check(len(WARN_RE.findall(r.err)) == 1, "expected one 'stack table is full' warning", r)
    drops = DROPPED_RE.findall(r.out)
    check(drops, "no '# N ... not counted: the stack table was full' line", r)
    check(MARK_RE.search(rep.header_line), "no approximate mark in %r" % rep.header_line, r)
    sptest.log("  dropped: %s" % ", ".join("%s %s" % (n, w) for n, w, _, _ in drops))


def test_bad_values(d):
    for bad in ("0", "-3", "x", "1e12"):
        out = os.path.join(d, "out.folded")
        r = sptest.run([sptest.STACKPROF, "oncpu", "--max-stacks", bad, "-d", 1, "-o", out])
        sptest.check_error_contract(r, d, out, mentions_all=("--max-stacks",))


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_oncpu, test_offcpu_warns_once, test_bad_values])

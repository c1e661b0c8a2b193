"""Ring buffer overflow under a burst: counted per CPU, reported, marked approximate.

stackprof runs with the smallest ring (-m 1: one 4 KiB data page per CPU) on
a workload that fills it in milliseconds, and is stopped (SIGSTOP) for one
second in the middle, so that the kernel must drop records on every CPU the
workload runs on; then it is continued and ended with SIGINT. It must:
  - neither crash nor hang: exit 0 within a few seconds of the SIGINT;
  - print `# lost R records, S samples; ...` with R + S > 0, then
    `# lost N records on CPU a, M on CPU b` whose counts add up to R (and
    the same for samples when S > 0);
  - end the report's header with `[approximate: R+S records lost]`;
  - warn once on stderr with the per-CPU counts and -m advice (the -m in
    use and a bigger one to try);
  - still write a complete report and folded file, which agree.
Checked for offcpu on pingpong (-g; a context switch costs a record) and for
oncpu at 4999 Hz on two busy threads (-g).
"""

import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import offcpu_util as ou  # noqa: E402

TOTAL_RE = re.compile(r"^# lost (?P<records>\d+) records, (?P<samples>\d+) samples; ")
BY_CPU_RE = re.compile(r"^# lost (?P<first>\d+) (?P<what>records|samples) on CPU (?P<cpu>\d+)"
                       r"(?P<rest>(?:, \d+ on CPU \d+)*)$")
REST_RE = re.compile(r", (\d+) on CPU (\d+)")
MARK_RE = re.compile(r" \[approximate: (?P<n>\d+) records lost\]$")
WARN_RE = re.compile(r"^stackprof: \w+: (?P<n>\d+) records lost \((?P<cpus>[^)]*)\): .*"
                     r"raise -m \(now 1 page per CPU, try -m (?P<try>\d+)\)", re.M)


def burst(d, name, opts, cmd):
    """Runs `stackprof OPTS -m 1 -o F -- CMD`, SIGSTOPs it for 1 s, then ends it with
    SIGINT. Returns (result, folded path)."""
    out = sptest.output_path(d, name)
    argv = [sptest.STACKPROF] + opts + ["-m", 1, "--top", 1000, "-o", out, "--"] + cmd
    with sptest.Proc(argv, capture=True) as sp:
        sptest.wait_attached(sp, timeout=20, stable=0.2)
        time.sleep(0.3)
        if not sp.alive():
            sptest.fail("stackprof exited early", sp.finish(5))
        sp.signal(signal.SIGSTOP)
        time.sleep(1.0)
        sp.signal(signal.SIGCONT)
        time.sleep(0.5)
        sp.signal(signal.SIGINT)
        t0 = time.monotonic()
        r = sp.finish(timeout=60)
        took = time.monotonic() - t0
    check(r.rc == 0, "stackprof did not exit 0 after the burst", r)
    check(took < 15, "%.1f s from SIGINT to exit: hung on the backlog?" % took, r)
    return r, out


def check_losses(r, header):
    """The loss lines, the header's mark and the warning agree; returns the total lost."""
    lines = r.out.split("\n")
    totals = [TOTAL_RE.match(x) for x in lines if TOTAL_RE.match(x)]
    check(totals, "no '# lost R records, S samples' line after a burst into a 1-page ring", r)
    m = totals[-1]
    records, samples = int(m.group("records")), int(m.group("samples"))
    check(records + samples > 0, "nothing lost from a 1-page ring stopped for 1 s", r)
    per_cpu = {"records": {}, "samples": {}}
    for x in lines:
        b = BY_CPU_RE.match(x)
        if not b:
            continue
        counts = per_cpu[b.group("what")]
        counts[int(b.group("cpu"))] = int(b.group("first"))
        for n, cpu in REST_RE.findall(b.group("rest")):
            check(int(cpu) not in counts, "CPU %s twice in %r" % (cpu, x), r)
            counts[int(cpu)] = int(n)
    for what, want in (("records", records), ("samples", samples)):
        got = per_cpu[what]
        check(sum(got.values()) == want and all(v > 0 for v in got.values()),
              "per-CPU %s %s do not add up to the %d lost" % (what, got, want), r)
        check(set(got) <= set(sptest.online_cpus()), "losses on CPUs %s that are not online"
              % sorted(got), r)
    mark = MARK_RE.search(header)
    check(mark and int(mark.group("n")) == records + samples,
          "the header does not end with ' [approximate: %d records lost]': %r"
          % (records + samples, header), r)
    warns = WARN_RE.findall(r.err)
    check(len(warns) == 1 and int(warns[0][0]) == records + samples,
          "expected one warning '... %d records lost (N on CPU c, ...): ... raise -m (now 1 "
          "page per CPU, try -m M)' on stderr" % (records + samples), r)
    for cpu, n in per_cpu["records"].items():
        check("%d on CPU %d" % (n + per_cpu["samples"].get(cpu, 0), cpu) in warns[0][1],
              "the warning's CPUs (%s) differ from the report's" % warns[0][1], r)
    sptest.log("  lost %d records, %d samples; by CPU: %s; %s"
               % (records, samples, per_cpu, mark.group(0).strip()))
    return records + samples


def test_offcpu_pingpong(d):
    r, out = burst(d, "offcpu", ["offcpu", "-g"], [sptest.workload("pingpong"), 30])
    rep = ou.parse_report(r)
    check_losses(r, rep.header_line)
    blocked, runq = ou.parse_folded(out, r)
    ou.check_totals(rep, blocked, runq, r)
    check(rep.blocked.total > 0, "nothing off-CPU at all", r)


def test_oncpu_high_freq(d):
    r, out = burst(d, "oncpu", ["oncpu", "-F", 4999, "-g"],
                   [sptest.workload("cpushare"), "--threads", 30])
    header = [x for x in r.out.split("\n") if sptest.HEADER_RE.match(x)]
    check(header, "no oncpu header", r)
    check_losses(r, header[-1])
    h, stacks = sptest.check_report_matches(r, out)
    check(h.n > 0, "no samples at all", r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_offcpu_pingpong, test_oncpu_high_freq])

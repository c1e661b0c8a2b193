"""No BPF and no BTF, shown by what stackprof does and by what its source says.

Each profiler runs on its workload under
  strace -f -qq -e trace=bpf,openat,open,stat,statx,newfstatat,access,faccessat,faccessat2
(stackprof, and the command it launches): the log must hold no bpf() call and
no path under /sys/kernel/btf, and the profile must still be the ground truth
the profiler's own tests check, with the same helpers:
  oncpu -g on cpushare: work_a/b/c at 1/6, 2/6, 3/6 of the samples (+-5 pp) and
      the sample count within 20% of Hz x CPU seconds, as test_oncpu_launch;
      main;run;work_c root-first;
  offcpu -g on blocker: sleep_wait, pipe_wait, mutex_wait within +-20% (not
      test_offcpu_blocking's 10%) of the workload's own measurement, cpu_burn ~0,
      the blocking counts (test_offcpu_blocking.check_blocker). The workload's
      clock includes the stop strace makes at each syscall's exit, after the
      thread was woken: offcpu rightly does not count that (state t), and on a
      busy machine strace can take milliseconds to let the thread go on;
  memleak on leaker: every leak exact, churn absent (memleak_util.check_exact);
  iowrite -g on writer: every function's bytes, requests, calls and failures
      exact (iowrite_util.check_exact), no probe left behind.
A control run makes sure the same strace filter does see a bpf() call and a
/sys/kernel/btf lookup when a process makes them, so "none seen" means none.
The C sources outside tests/ must not name the bpf syscall, libbpf or
/sys/kernel/btf, and the binary must not link libbpf.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, pct  # noqa: E402
import iowrite_util as iu  # noqa: E402
import memleak_util as mu  # noqa: E402
import strace_util as su  # noqa: E402
import test_offcpu_blocking as ob  # noqa: E402
import test_oncpu_launch as ol  # noqa: E402

BTF_DIR = "/sys/kernel/btf"
# What the C sources outside tests/ must not contain.
SOURCE_RE = re.compile(r"__NR_bpf|SYS_bpf|\bbpf\s*\(|/sys/kernel/btf|<linux/bpf\.h>|<bpf/"
                       r"|\blibbpf\b|\bbtf__")
traced = su.traced
# offcpu under strace: see the module's doc.
OFFCPU_TOLERANCE = 0.20


def check_no_bpf(t, what, result=None, must_open=()):
    """No bpf() call, nothing under /sys/kernel/btf; strace did see stackprof's own calls,
    among them opens of @must_open (substrings of paths)."""
    n = len(t.calls)
    mine = t.paths(t.first_pid)
    bpf, btf = t.named("bpf"), t.lines_with(BTF_DIR)
    sptest.log("  strace: %d calls logged, %d by stackprof (pid %s); bpf() calls: %d; "
               "%s paths: %d" % (n, sum(1 for p, _, _ in t.calls if p == t.first_pid),
                                 t.first_pid, len(bpf), BTF_DIR, len(btf)))
    check(n > 0 and mine, "%s: strace logged no call of stackprof itself: is the filter "
          "broken?" % what, result)
    for want in must_open:
        check(any(want in p for p in mine), "%s: strace never saw stackprof open a path with "
              "%r in it (the log is not what it seems?)" % (what, want), result)
    check(not bpf, "%s: %d bpf() calls:\n%s" % (what, len(bpf), "\n".join(bpf[:10])), result)
    check(not btf, "%s: %d calls touched %s:\n%s" % (what, len(btf), BTF_DIR,
                                                      "\n".join(btf[:10])), result)


require_strace = su.require


# ---------------------------------------------------------------- cases

def test_source_has_no_bpf(d):
    """No C file outside tests/ names the bpf syscall, libbpf or /sys/kernel/btf; the
    binary does not link libbpf."""
    hits = []
    for top in sorted(os.listdir(sptest.REPO)):
        if top in ("tests", "build", ".git") or top.startswith("build"):
            continue
        base = os.path.join(sptest.REPO, top)
        if not os.path.isdir(base):
            continue
        for root, dirs, files in os.walk(base):
            dirs[:] = [x for x in dirs if not x.startswith(".")]
            for name in files:
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        if SOURCE_RE.search(line):
                            hits.append("%s:%d: %s" % (os.path.relpath(path, sptest.REPO),
                                                       lineno, line.strip()))
    check(not hits, "BPF or BTF named in the sources:\n" + "\n".join("    " + h for h in hits))
    r = sptest.run(["ldd", sptest.STACKPROF], timeout=30)
    check(r.rc == 0, "ldd failed", r)
    check("libbpf" not in r.out, "stackprof links libbpf", r)


def test_control(d):
    """The strace filter sees a bpf() call and a look under /sys/kernel/btf when they happen."""
    require_strace()
    # bpf(BPF_MAP_CREATE, NULL, 0) fails harmlessly; the open of the BTF file may fail too.
    code = ("import ctypes, os\n"
            "ctypes.CDLL(None, use_errno=True).syscall(321, 0, 0, 0)\n"
            "try:\n    os.stat('/sys/kernel/btf/vmlinux')\nexcept OSError:\n    pass\n")
    if os.uname().machine != "x86_64":
        sptest.skip("the control run uses x86_64's bpf syscall number")
    r, t = traced(d, "control", [sys.executable, "-c", code], timeout=30)
    check(r.rc == 0, "the control program failed", r)
    check(len(t.named("bpf")) == 1, "strace saw %d bpf() calls of a program that makes one:"
          "\n%s" % (len(t.named("bpf")), "\n".join(t.lines[-20:])), r)
    check(t.lines_with(BTF_DIR), "strace did not see a program stat %s/vmlinux" % BTF_DIR, r)


def test_oncpu(d):
    """oncpu -g on cpushare: no BPF, and work_a/b/c at 1:2:3."""
    require_strace()
    out = sptest.output_path(d, "cpushare")
    r, t = traced(d, "oncpu", [sptest.STACKPROF, "oncpu", "-F", ol.FREQ, "-g", "-o", out, "--",
                               sptest.workload("cpushare"), ol.SECONDS])
    check_no_bpf(t, "oncpu", r)
    h, stacks = sptest.check_report_matches(r, out)
    want_n = ol.FREQ * ol.SECONDS
    check(abs(h.n - want_n) <= ol.COUNT_TOLERANCE * want_n,
          "%d samples, expected %d +-%d%% (%d Hz x %d s of CPU)"
          % (h.n, want_n, 100 * ol.COUNT_TOLERANCE, ol.FREQ, ol.SECONDS), r)
    for func, want in ol.EXPECTED.items():
        got = sptest.share(stacks, func)
        sptest.log("  %s: %s of samples (expected %s)" % (func, pct(got), pct(want)))
        check(abs(got - want) <= ol.TOLERANCE,
              "%s is in %s of the samples, expected %s +-%d pp:\n%s"
              % (func, pct(got), pct(want), 100 * ol.TOLERANCE, sptest.summary(stacks)), r)
    check(any(sptest.has_sequence(f, ["main", "run", "work_c"]) for _, f, _ in stacks),
          "no folded stack has main;run;work_c root-first:\n" + sptest.summary(stacks), r)


def test_offcpu(d):
    """offcpu -g on blocker: no BPF, every blocking within 10% of the workload's clock."""
    require_strace()
    out = sptest.output_path(d, "offcpu")
    truth_path = os.path.join(d, "offcpu.truth")
    r, t = traced(d, "offcpu", ob.offcpu(out) + ["--"] + ob.blocker(truth_path))
    check_no_bpf(t, "offcpu", r, must_open=("events/sched/sched_switch/format",))
    r, rep, blocked, _, truth = ob.finish(r, out, truth_path)
    ob.check_blocker(r, rep, blocked, truth, "offcpu under strace", tolerance=OFFCPU_TOLERANCE)


def test_memleak(d):
    """memleak on leaker: no BPF, every leak exact."""
    require_strace()
    out = sptest.output_path(d, "memleak")
    truth_path = os.path.join(d, "memleak.truth")
    r, t = traced(d, "memleak", [sptest.STACKPROF, "memleak", "--top", 1000, "-o", out, "--"]
                  + mu.leaker("--truth", truth_path), timeout=120)
    check_no_bpf(t, "memleak", r)
    check(r.rc == 0, "stackprof memleak failed", r)
    rep = mu.parse_report(r)
    mu.check_not_lost(rep, r)
    stacks = mu.parse_folded(out, r)
    truth = mu.read_truth(truth_path, r)
    mu.check_exact(rep, stacks, truth, r)
    mu.check_consistent(rep, stacks, out, r)


def test_iowrite(d):
    """iowrite -g on writer: no BPF, every function exact, no probe left behind."""
    require_strace()
    out = sptest.output_path(d, "iowrite")
    truth_path = os.path.join(d, "iowrite.truth")
    files = iu.out_dir(d, "iowrite")
    r, t = traced(d, "iowrite", iu.stackprof(["-g", "--top", 1000, "-o", out, "--"])
                  + iu.writer(files, "--truth", truth_path))
    check_no_bpf(t, "iowrite", r, must_open=("events/syscalls/sys_enter_write/format",))
    if t.first_pid:
        iu.check_no_probes_of(t.first_pid, r)
    check(r.rc == 0, "stackprof iowrite failed", r)
    rep = iu.parse_report(r)
    iu.check_not_lost(rep, r)
    stacks = iu.parse_folded(out, r)
    truth = iu.read_truth(truth_path, r)
    iu.check_design(truth, files)
    iu.check_exact(rep, stacks, truth, r)
    iu.check_syscalls_cover(rep, truth, r)
    iu.check_consistent(rep, stacks, r)


if __name__ == "__main__":
    sptest.require_kernel()
    for name in ("cpushare", "blocker", "leaker", "writer"):
        if not os.access(sptest.workload(name), os.X_OK):
            sptest.log("FAIL %s: workload %s not built" % (sptest.TEST_NAME, name))
            sys.exit(1)
    sptest.main([test_source_has_no_bpf, test_control, test_oncpu, test_offcpu, test_memleak,
                 test_iowrite])

"""Kernel limits are probed, then worked around with a warning, or explained in one line
(core/limits.h). Sysctls are changed for one case at a time and restored in a finally.

- kernel.perf_event_max_sample_rate lowered to 400: oncpu -F 997 samples at 400 Hz
  with one warning, and cpushare's 1:2:3 shares still hold.
- Rings too big for kernel.perf_event_mlock_kb and RLIMIT_MEMLOCK (as nobody, who has
  no CAP_IPC_LOCK): -m 4096 is shrunk to what fits, with one warning; with a low soft
  RLIMIT_MEMLOCK under a higher hard one, the soft limit is raised and -m 1024 fits;
  with kernel.perf_event_mlock_kb=0 and RLIMIT_MEMLOCK 0 nothing fits: one error line.
"""

import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import fallback_util as fu  # noqa: E402

EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}


def test_max_sample_rate_clamped(d):
    if fu.read_sysctl("kernel.perf_cpu_time_max_percent") in ("0", "100"):
        sptest.skip("kernel.perf_cpu_time_max_percent is 0 or 100: the kernel refuses to "
                    "change perf_event_max_sample_rate")
    out = sptest.output_path(d, "clamped")
    with fu.sysctl("kernel.perf_event_max_sample_rate", 400):
        r = sptest.run([sptest.STACKPROF, "oncpu", "-F", 997, "-g", "-o", out, "--",
                        sptest.workload("cpushare"), 1.5], timeout=60)
    h, stacks = sptest.check_report_matches(r, out)
    fu.check_said(r, "oncpu: -F 997 is above kernel.perf_event_max_sample_rate",
                  "sampling at 400 Hz", "sysctl kernel.perf_event_max_sample_rate=997", count=1)
    check(h.hz == 400, "the header says %d Hz, expected the limit, 400" % h.hz, r)
    check(abs(h.n - 600) <= 0.25 * 600, "%d samples, expected 600 +-25%% (400 Hz x 1.5 s)" % h.n,
          r)
    fu.check_shares(stacks, EXPECTED, 0.06, "clamped to 400 Hz", r)


def nobody_oncpu(u, name, *args, prefix=()):
    out = os.path.join(u.out, name + ".folded")
    argv = list(prefix) + u.prefix + [u.stackprof] + [str(a) for a in args[:1]] + \
        ["-o", out] + [str(a) for a in args[1:]]
    return sptest.run(argv, timeout=60, cwd="/"), out


def test_rings_shrunk(d):
    with fu.Unprivileged() as u:
        r, out = nobody_oncpu(u, "shrunk", "oncpu", "-F", 997, "-g", "-m", 4096, "--",
                              u.workload("cpushare"), 1)
        _, stacks = sptest.check_report_matches(r, out, sptest.parse_folded(out, r))
    line = fu.check_said(r, "oncpu: 4096-page ring buffers on", "do not fit",
                         "kernel.perf_event_mlock_kb", "ulimit -l", count=1)
    m = re.search(r"using (\d+) pages per CPU", line)
    check(m and 8 <= int(m.group(1)) < 4096, "no smaller size named: " + line, r)
    fu.check_shares(stacks, EXPECTED, 0.05, "shrunk rings", r)


def test_memlock_raised(d):
    prlimit = shutil.which("prlimit")
    if not prlimit:
        sptest.skip("prlimit (util-linux) is not installed")
    # Soft 64 KiB, hard 8 MiB: what 1024-page rings need beyond kernel.perf_event_mlock_kb.
    with fu.Unprivileged() as u:
        r, out = nobody_oncpu(u, "raised", "oncpu", "-v", "-v", "-F", 997, "-g", "-m", 1024,
                              "--", u.workload("cpushare"), 0.5,
                              prefix=[prlimit, "--memlock=65536:8388608"])
        sptest.check_report_matches(r, out, sptest.parse_folded(out, r))
    fu.check_said(r, "raising the locked-memory limit from 65536 to 8388608", count=1)
    check(not any("do not fit" in l for l in fu.warnings(r)),
          "rings were shrunk although the hard limit allowed them", r)


def test_rings_error_at_floor(d):
    prlimit = shutil.which("prlimit")
    if not prlimit:
        sptest.skip("prlimit (util-linux) is not installed")
    with fu.Unprivileged() as u:
        with fu.sysctl("kernel.perf_event_mlock_kb", 0):
            r, out = nobody_oncpu(u, "floor", "oncpu", "-F", 997, "-g", "-m", 64, "--",
                                  u.workload("cpushare"), 0.5,
                                  prefix=[prlimit, "--memlock=0:0"])
        sptest.check_error_contract(r, u.out, out,
                                    mentions_all=["cannot map ring buffers of even 8 pages",
                                                  "kernel.perf_event_mlock_kb", "ulimit -l",
                                                  "root"])


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_max_sample_rate_clamped, test_rings_shrunk, test_memlock_raised,
                 test_rings_error_at_floor])

"""Privileges: what an unprivileged user gets, what it is told, and that the fix it is told
works. Runs as nobody (uid 65534) through setpriv, like test_errors.py.

- kernel.perf_event_paranoid >= 2, nobody profiling its own command: falls back to user
  space only with one warning naming root, the sysctl and setcap cap_perfmon; cpushare's
  shares still hold and no kernel frame is left.
- nobody with CAP_PERFMON (ambient, as 'setcap cap_perfmon+ep' would give): profiling
  every CPU, refused without it (test_errors.test_unprivileged), works; /proc/kallsyms
  still hides addresses from it, and the report says so once, with the fix.
- kernel.kptr_restrict=2 (set for the case, restored in a finally): even root's kernel
  frames are hidden; said once, with 'sysctl kernel.kptr_restrict=1'.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import fallback_util as fu  # noqa: E402

EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}
KERNEL_ENTRY = ("entry_SYSCALL_64_after_hwframe", "do_syscall_64", "asm_sysvec_apic_timer_interrupt")


def paranoid():
    return int(fu.read_sysctl("kernel.perf_event_paranoid"))


def test_user_space_only(d):
    if paranoid() < 2:
        sptest.skip("kernel.perf_event_paranoid is %d: nobody may sample the kernel" % paranoid())
    with fu.Unprivileged() as u:
        out = os.path.join(u.out, "user.folded")
        r = sptest.run(u.prefix + [u.stackprof, "oncpu", "-F", 997, "-g", "-o", out, "--",
                                   u.workload("cpushare"), 1.5], timeout=60, cwd="/")
        _, stacks = sptest.check_report_matches(r, out, sptest.parse_folded(out, r))
    fu.check_said(r, "kernel.perf_event_paranoid is %d" % paranoid(),
                  "profiling user space only", "run as root",
                  "sysctl kernel.perf_event_paranoid=1", "setcap cap_perfmon+ep", count=1)
    check(len(r.err.splitlines()) == 2, "expected the warning and the output line only", r)
    fu.check_shares(stacks, EXPECTED, 0.05, "nobody, user space only", r)
    kernel = [s for s in stacks if any(f in s[1] for f in KERNEL_ENTRY)]
    check(not kernel, "kernel frames in a user-space-only profile:\n" + sptest.summary(kernel))


def test_cap_perfmon(d):
    if paranoid() < 1:
        sptest.skip("kernel.perf_event_paranoid is %d: nobody may profile every CPU anyway"
                    % paranoid())
    with fu.Unprivileged(caps="perfmon") as u:
        out = os.path.join(u.out, "perfmon.folded")
        with sptest.Proc([sptest.workload("cpushare"), 3]):
            r = sptest.run(u.prefix + [u.stackprof, "oncpu", "-F", 997, "-g", "-d", 1,
                                       "-o", out], timeout=60, cwd="/")
        h, stacks = sptest.check_report_matches(r, out, sptest.parse_folded(out, r))
    check(h.n >= 500, "only %d samples of every CPU in 1 s" % h.n, r)
    check(sptest.comm_share(stacks, "cpushare") >= 0.2,
          "the busy cpushare has only %s of every CPU's samples:\n%s"
          % (sptest.pct(sptest.comm_share(stacks, "cpushare")), sptest.summary(stacks)))
    # CAP_PERFMON is not CAP_SYSLOG: /proc/kallsyms shows nobody zeros.
    if fu.read_sysctl("kernel.kptr_restrict") == "0" and paranoid() <= 1:
        return
    fu.check_said(r, "kernel frames are shown as [unknown]", "kernel.kptr_restrict is", count=1)


def test_kptr_restrict_hides_from_root(d):
    out = sptest.output_path(d, "kptr")
    with fu.sysctl("kernel.kptr_restrict", 2):
        r = sptest.run([sptest.STACKPROF, "oncpu", "-F", 997, "-g", "-o", out, "--",
                        sptest.workload("cpushare"), 1], timeout=60)
    _, stacks = sptest.check_report_matches(r, out)
    fu.check_said(r, "kernel frames are shown as [unknown]", "kernel.kptr_restrict is 2",
                  "sysctl kernel.kptr_restrict=1", count=1)
    check(len(r.err.splitlines()) == 2, "expected the kptr_restrict line and the output line", r)
    # Kernel frames are there, unnamed; user frames keep their names.
    unnamed = [s for s in stacks if "[unknown]" in s[1]]
    check(unnamed, "no [unknown] frames although kernel frames were hidden:\n"
          + sptest.summary(stacks))
    fu.check_shares(stacks, EXPECTED, 0.05, "kptr_restrict=2", r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_user_space_only, test_cap_perfmon, test_kptr_restrict_hides_from_root])

"""A CPU that answers ENODEV (offline, not present) is skipped; the run goes on without it.

Nothing here takes a CPU offline: STACKPROF_FORCE_ENODEV_CPU=1 makes
stackprof's opener get ENODEV for CPU 1, as the kernel answers for a
CPU-wide event on a CPU that is offline or not present, and its check of the
CPUs then finds CPU 1 unusable. System-wide oncpu samples every busy CPU at
-F Hz (an idle CPU's clock tick is stopped, and with it cpu-clock), and a
two-thread cpushare keeps both CPUs busy, so the sample count tells how many
CPUs were watched:
  - -C 0,1 with CPU 1 "offline": exit 0, a -v note that CPU 1 was skipped,
    perf event fds for one CPU only, about F x D samples (0.6-1.3 x; the
    same run without the variable has about twice as many), a complete
    report and folded file;
  - no -C (every online CPU), CPU 1 "offline": the same;
  - -C 1 alone, CPU 1 "offline": the error contract (one line on stderr
    naming CPU 1 and saying it is offline or not present, exit 1, no file).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

FREQ = 199
SECS = 1.5
OFFLINE_ENV = dict(os.environ, STACKPROF_FORCE_ENODEV_CPU="1")


def need_two_cpus():
    if not {0, 1} <= set(sptest.online_cpus()):
        sptest.skip("needs CPUs 0 and 1 online (has %s)" % sptest.online_cpus())


def oncpu(d, name, cpus, env):
    """System-wide oncpu for SECS s; returns (result, header, perf fds it held)."""
    out = sptest.output_path(d, name)
    argv = [sptest.STACKPROF, "oncpu", "-v", "-F", FREQ, "-d", SECS, "-o", out]
    if cpus:
        argv += ["-C", cpus]
    with sptest.Proc([sptest.workload("cpushare"), "--threads", SECS + 3]), \
            sptest.Proc(argv, capture=True, env=env) as sp:
        fds = sptest.wait_attached(sp, timeout=10, stable=0.2)
        r = sp.finish(timeout=30)
    h, _ = sptest.check_report_matches(r, out)
    sptest.log("  %s: %d samples with %d perf fds" % (name, h.n, fds))
    return r, h, fds


def check_one_cpu(r, h, fds, control):
    check("CPU 1 is offline or not present" in r.err and "skipped" in r.err,
          "no -v note that CPU 1 was skipped", r)
    want = FREQ * h.seconds
    check(0.6 * want <= h.n <= 1.3 * want,
          "%d samples in %.2f s at %d Hz: not one CPU's worth (%.0f)" % (h.n, h.seconds, FREQ,
                                                                         want), r)
    # oncpu's event and the side-band event, once per watched CPU.
    check(fds * 2 == control, "%d perf fds with CPU 1 offline, %d with both CPUs" % (fds, control),
          r)


def test_cpu_list(d):
    need_two_cpus()
    _, ch, control = oncpu(d, "both", "0,1", None)
    check(ch.n >= 1.5 * FREQ * ch.seconds, "the control run has only %d samples" % ch.n)
    r, h, fds = oncpu(d, "cpu0", "0,1", OFFLINE_ENV)
    check_one_cpu(r, h, fds, control)


def test_all_cpus(d):
    need_two_cpus()
    if len(sptest.online_cpus()) != 2:
        sptest.skip("the fd count assumes two online CPUs")
    r, h, fds = oncpu(d, "all", None, OFFLINE_ENV)
    check_one_cpu(r, h, fds, 4)


def test_only_offline_cpu(d):
    need_two_cpus()
    out = os.path.join(d, "out.folded")
    with sptest.Proc([sptest.STACKPROF, "oncpu", "-d", 1, "-C", 1, "-o", out], capture=True,
                     env=OFFLINE_ENV) as sp:
        r = sp.finish(timeout=30)
    sptest.check_error_contract(r, d, out, mentions_all=("CPU 1", "offline"))
    check(r.rc == 1, "exit %d, not 1 (a kernel refusal)" % r.rc, r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_cpu_list, test_all_cpus, test_only_offline_cpu])

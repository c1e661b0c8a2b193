"""Where tracefs is found, step by step, each step forced with STACKPROF_TRACEFS_VIA.

The chain: tracing (a mounted tracefs, /sys/kernel/tracing first), debugfs (debugfs'
tracing/ directory), mount (tracefs mounted at /sys/kernel/tracing by stackprof and
unmounted at its exit). The test runs in a mount namespace of its own
(tracefs_util.enter_private_mounts), so it can mount and unmount tracefs and debugfs
at their usual places without touching the machine's mounts, which other tests and
people use meanwhile; every mount state it changes it also restores.

Each run is `stackprof offcpu -v -- sleep 0.3` (and for "mount" also iowrite on
writer, whose uprobes go through the mount stackprof made): exit 0, sleep's
0.3 s off-CPU found (0.25..2 s), and -v names the directory and the step:
  tracing  forced, tracefs mounted: "/sys/kernel/tracing (tracefs mounted there)",
           and it stays mounted;
  debugfs  forced, debugfs mounted here if it was not (and unmounted again only
           then): "/sys/kernel/debug/tracing (debugfs' tracing directory)";
  mount    forced, tracefs unmounted first: "mounted by stackprof", and after the
           run no tracefs is mounted there; iowrite exact and no probe left;
  unset    nothing mounted -> mount; only debugfs -> debugfs; both -> tracing.
Forcing a step that cannot work is one error line naming STACKPROF_TRACEFS_VIA,
a non-zero exit, no output file, and the mounts as they were: tracing or debugfs
with nothing mounted, mount over a mounted tracefs (the kernel refuses a second
tracefs mount at the same place), and an unknown step.
"""

import contextlib
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import iowrite_util as iu  # noqa: E402
import offcpu_util as ou  # noqa: E402
import tracefs_util as tu  # noqa: E402

VIA = "STACKPROF_TRACEFS_VIA"
SLEEP = 0.3
USING = {
    "tracing": "tracefs: using %s (tracefs mounted there)" % tu.TRACEFS,
    "debugfs": "tracefs: using %s/tracing (debugfs' tracing directory)" % tu.DEBUGFS,
    "mount": "tracefs: using %s (mounted by stackprof, unmounted at exit)" % tu.TRACEFS,
}


def state():
    """The tracefs and debugfs mounts of our namespace."""
    return sorted(tu.mounts("tracefs") + tu.mounts("debugfs"))


@contextlib.contextmanager
def mount_state(tracefs, debugfs):
    """Sets up /sys/kernel/tracing and /sys/kernel/debug as asked for the with-block
    (True = mounted), and puts back what was there before."""
    had_t, had_d = bool(tu.mounts("tracefs", tu.TRACEFS)), bool(tu.mounts("debugfs", tu.DEBUGFS))
    made_t = made_d = False
    if not tracefs:
        tu.unmount_all("tracefs", tu.TRACEFS)
    elif not had_t:
        made_t = tu.mount("tracefs", tu.TRACEFS)
        check(made_t, "cannot mount tracefs at %s" % tu.TRACEFS)
    if not debugfs:
        tu.unmount_all("tracefs", tu.DEBUGFS + "/tracing")
        tu.unmount_all("debugfs", tu.DEBUGFS)
    elif not had_d:
        made_d = tu.mount("debugfs", tu.DEBUGFS)
        if not made_d:
            sptest.skip("cannot mount debugfs at %s" % tu.DEBUGFS)
    try:
        yield
    finally:
        # Undo only what this changed: what it mounted goes, what it unmounted comes back.
        if made_d:
            tu.unmount_all("tracefs", tu.DEBUGFS + "/tracing")
            tu.unmount_all("debugfs", tu.DEBUGFS)
        elif had_d and not tu.mounts("debugfs", tu.DEBUGFS):
            tu.mount("debugfs", tu.DEBUGFS)
        if made_t:
            tu.unmount_all("tracefs", tu.TRACEFS)
        elif had_t and not tu.mounts("tracefs", tu.TRACEFS):
            tu.mount("tracefs", tu.TRACEFS)


def env_with(via):
    env = dict(os.environ)
    env.pop(VIA, None)
    env.pop("STACKPROF_TRACEFS", None)
    if via:
        env[VIA] = via
    return env


def run_sleep(d, name, via):
    """offcpu -v on `sleep 0.3` with STACKPROF_TRACEFS_VIA=@via (None: unset); checks the
    sleep's off-CPU time. Returns the result."""
    out = sptest.output_path(d, name)
    r = sptest.run([sptest.STACKPROF, "offcpu", "-v", "-o", out, "--", "sleep", SLEEP],
                   timeout=30, env=env_with(via))
    check(r.rc == 0, "offcpu with %s=%s failed" % (VIA, via), r)
    blocked, _ = ou.parse_folded(out, r)
    us = ou.time_in(blocked, comm="sleep")
    sptest.log("  sleep %.1f s: %d us off-CPU" % (SLEEP, us))
    check(0.25e6 <= us <= 2e6, "sleep %.1f s shows %d us off-CPU with %s=%s:\n%s"
          % (SLEEP, us, VIA, via, ou.summary(blocked)), r)
    return r


def check_using(r, step):
    lines = [x for x in r.err.split("\n") if "tracefs: using" in x]
    sptest.log("  -v: %s" % (lines or "nothing about tracefs"))
    check(len(lines) == 1 and lines[0].endswith(USING[step]),
          "-v should say once: stackprof: %s" % USING[step], r)


def test_tracing(d):
    with mount_state(tracefs=True, debugfs=True):
        before = state()
        r = run_sleep(d, "tracing", "tracing")
        check_using(r, "tracing")
        check(state() == before, "the mounts changed: %s -> %s" % (before, state()), r)


def test_debugfs(d):
    with mount_state(tracefs=False, debugfs=True):
        r = run_sleep(d, "debugfs", "debugfs")
        check_using(r, "debugfs")
        check(tu.mounts("debugfs", tu.DEBUGFS), "debugfs is no longer mounted", r)
        check(not tu.mounts("tracefs", tu.TRACEFS), "a tracefs appeared at %s" % tu.TRACEFS, r)


def test_mount(d):
    with mount_state(tracefs=False, debugfs=False):
        r = run_sleep(d, "mount", "mount")
        check_using(r, "mount")
        check(not tu.mounts("tracefs", tu.TRACEFS),
              "stackprof left its tracefs mounted at %s" % tu.TRACEFS, r)
        # iowrite writes its uprobes into uprobe_events through the tracefs it mounted.
        out = sptest.output_path(d, "iowrite")
        truth_path = os.path.join(d, "iowrite.truth")
        files = iu.out_dir(d, "iowrite")
        os.environ[VIA] = "mount"
        try:
            with sptest.Proc(iu.stackprof(["-g", "-v", "--top", 1000, "-o", out, "--"])
                             + iu.writer(files, "--truth", truth_path), capture=True) as sp:
                r = sp.finish(timeout=60)
        finally:
            os.environ.pop(VIA, None)
        check(r.rc == 0, "iowrite with %s=mount failed" % VIA, r)
        check_using(r, "mount")
        check(not tu.mounts("tracefs", tu.TRACEFS),
              "iowrite left its tracefs mounted at %s" % tu.TRACEFS, r)
        rep = iu.parse_report(r)
        stacks = iu.parse_folded(out, r)
        truth = iu.read_truth(truth_path, r)
        iu.check_exact(rep, stacks, truth, r)
        check(tu.mount("tracefs", tu.TRACEFS), "cannot mount tracefs to look for probes")
        try:
            iu.check_no_probes_of(sp.pid, r)
        finally:
            tu.unmount_all("tracefs", tu.TRACEFS)


def test_chain(d):
    """No step forced: each starting state takes the first step that works."""
    with mount_state(tracefs=False, debugfs=False):
        r = run_sleep(d, "chain_none", None)
        check_using(r, "mount")
        check(not state(), "mounts left behind: %s" % state(), r)
    with mount_state(tracefs=False, debugfs=True):
        check_using(run_sleep(d, "chain_debugfs", None), "debugfs")
    with mount_state(tracefs=True, debugfs=True):
        check_using(run_sleep(d, "chain_both", None), "tracing")


def check_forced_error(d, name, via, mentions_all):
    e = os.path.join(d, name)
    os.makedirs(e, exist_ok=True)
    out = os.path.join(e, "out.folded")
    before = state()
    r = sptest.run([sptest.STACKPROF, "offcpu", "-o", out, "--", "sleep", SLEEP], timeout=30,
                   env=env_with(via))
    sptest.check_error_contract(r, e, out, mentions_all=mentions_all)
    check(state() == before, "the mounts changed: %s -> %s" % (before, state()), r)


def test_forced_errors(d):
    with mount_state(tracefs=False, debugfs=False):
        check_forced_error(d, "tracing", "tracing", (VIA + "=tracing", "no tracefs"))
        check_forced_error(d, "debugfs", "debugfs", (VIA + "=debugfs", "debugfs"))
        check_forced_error(d, "bogus", "bogus", (VIA, "bogus", "tracing, debugfs or mount"))
    with mount_state(tracefs=True, debugfs=False):
        check_forced_error(d, "mount_busy", "mount", (VIA + "=mount", "busy"))


if __name__ == "__main__":
    sptest.require_kernel()
    if not os.access(sptest.workload("writer"), os.X_OK):
        sptest.log("FAIL %s: workload writer not built" % sptest.TEST_NAME)
        sys.exit(1)
    try:
        tu.enter_private_mounts()
    except sptest.Skip as e:
        sptest._exit_skip(str(e))
    sptest.log("mounts here at the start: %s" % state())
    sptest.main([test_tracing, test_debugfs, test_mount, test_chain, test_forced_errors])

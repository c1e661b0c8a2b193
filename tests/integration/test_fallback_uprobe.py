"""The uprobe PMU fallback (core/features.h, trace/uprobe.h), forced on this kernel:
with STACKPROF_FORCE_NO_UPROBE_PMU=1, and with the older STACKPROF_UPROBE_TRACEFS=1,
memleak -t (which otherwise uses the PMU) creates its uprobes through tracefs
uprobe_events, says so once with -v naming the variable that forced it, and still
finds the leaker's leaks exactly (the checks of test_memleak.py).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import fallback_util as fu  # noqa: E402
import memleak_util as mu  # noqa: E402
import test_memleak as tm  # noqa: E402


def said_with(env_name, d):
    """-v on a short memleak -t run with @env_name=1: the fallback line names it."""
    out = sptest.output_path(d, "said")
    env = dict(os.environ, **{env_name: "1"})
    with sptest.Proc([sptest.workload("cpushare"), 2]) as w:
        time.sleep(0.1)
        r = sptest.run([sptest.STACKPROF, "-v", "memleak", "-t", w.pid, "-d", 0.5, "-o", out],
                       timeout=60, env=env)
    check(r.rc == 0, "memleak -t failed", r)
    fu.check_said(r, "fallback: no uprobe PMU (forced by %s)" % env_name, "tracefs", count=1)


def exact_through_tracefs(d, env_name):
    saved = os.environ.get(env_name)
    os.environ[env_name] = "1"
    try:
        with mu.Tracefs():
            mine = tm.attach_exact(d, how="-t")
    finally:
        if saved is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = saved
    check(mine, "%s=1: memleak -t used no tracefs uprobe_events" % env_name)
    sptest.log("  %s=1: %d tracefs events, e.g. %s" % (env_name, len(mine), mine[0]))


def test_force_no_uprobe_pmu(d):
    said_with("STACKPROF_FORCE_NO_UPROBE_PMU", d)
    exact_through_tracefs(d, "STACKPROF_FORCE_NO_UPROBE_PMU")


def test_legacy_variable(d):
    said_with("STACKPROF_UPROBE_TRACEFS", d)
    exact_through_tracefs(d, "STACKPROF_UPROBE_TRACEFS")


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_force_no_uprobe_pmu, test_legacy_variable])

"""oncpu without -d runs until SIGINT or SIGTERM, then writes the full report and exits 0.

Attaches to a busy `cpushare --threads`, signals stackprof after 2 s, and
checks the whole output: header, table, a folded file whose every line parses
and whose counts sum to the header's sample count.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

FREQ = 997


def stop_with(d, sig):
    out = os.path.join(d, "out.folded")
    with sptest.Proc([sptest.workload("cpushare"), "--threads", 30]) as w:
        sptest.wait_threads(w, {"cs-a", "cs-b"})
        with sptest.Proc([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-p", w.pid, "-o", out],
                         capture=True) as sp:
            time.sleep(2)
            if not sp.alive():
                sptest.fail("stackprof exited before the signal", sp.finish())
            sp.signal(sig)
            r = sp.finish(timeout=30)
    check(r.rc == 0, "stackprof did not exit 0 after %s" % signal.Signals(sig).name, r)
    h, stacks = sptest.check_report_matches(r, out)
    check(h.n > 0, "no samples in 2 s of two busy threads", r)
    check(1.0 <= h.seconds <= 10.0, "header says %.2f s for a run of ~2 s" % h.seconds, r)
    rows = sptest.table_rows(r)
    check(rows, "the report's table has no rows", r)
    check(sptest.share(stacks, "work_a") > 0.2 and sptest.share(stacks, "work_b") > 0.2,
          "work_a/work_b missing from the profile:\n" + sptest.summary(stacks))
    sptest.log("  %s: %d samples over %.2f s, %d stacks"
               % (signal.Signals(sig).name, h.n, h.seconds, len(stacks)))


def test_sigint(d):
    stop_with(d, signal.SIGINT)


def test_sigterm(d):
    stop_with(d, signal.SIGTERM)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_sigint, test_sigterm])

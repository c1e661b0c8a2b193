"""Memory stays bounded in a long system-wide run while thousands of processes come and go.

`stackprof oncpu -F 997 -g -v -d 40 --max-stacks 2000` watches every CPU
while `churn --spawn 250 37` starts /bin/true 250 times a second (about
9000 processes); stackprof's VmRSS is read every second. Then:
  - the RSS at the end is at most 1 MiB above the RSS at 10 s (measured
    here: 0-0.4 MiB; with the models of exited processes never freed it
    grew by 2.9 MiB over the same 30 s);
  - -v's process model line: at most 300 address spaces of live processes
    at the end (and at most 2 x 250 of processes that exited in the last
    second, kept for records still on their way), and at least 80% as many
    freed after their process exited as churn started processes;
  - the stack table stopped at its bound with one warning, and the report
    counts the samples it could not take.
--max-stacks keeps the stack table from growing: every short process
leaves stacks of its own in it (the pid is part of the key), which is data,
not a leak; tests/bench/churn_memory.sh measures the default bound over
minutes.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

SECS = 40
RATE = 250
MAX_STACKS = 2000
GROWTH_KIB = 1024
MODEL_RE = re.compile(r"process model: (\d+) address spaces and (\d+) thread names live, "
                      r"(\d+) and (\d+) of tasks that exited in the last second; freed after "
                      r"exit: (\d+) address spaces, (\d+) thread names")
SPAWNED_RE = re.compile(r"^churn: spawned (\d+)$", re.M)
DROPPED_RE = re.compile(r"^# (\d+) samples not counted: the stack table was full", re.M)


def vm_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def test_churn_memory(d):
    out = sptest.output_path(d, "churn")
    argv = [sptest.STACKPROF, "oncpu", "-F", 997, "-g", "-v", "-d", SECS,
            "--max-stacks", MAX_STACKS, "--top", 5, "-o", out]
    rss = {}
    # Under AddressSanitizer (scripts/test.sh --sanitize), freed memory waits in a
    # quarantine that would count as growth here: none for this run.
    asan = [os.environ.get("ASAN_OPTIONS", ""),
            "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"]
    env = dict(os.environ, ASAN_OPTIONS=":".join(o for o in asan if o))
    with sptest.Proc(argv, capture=True, env=env) as sp:
        sptest.wait_attached(sp, timeout=10, stable=0.2)
        t0 = time.monotonic()
        with sptest.Proc([sptest.workload("churn"), "--spawn", RATE, SECS - 3],
                         capture=True) as spawner:
            while sp.alive():
                t = time.monotonic() - t0
                v = vm_rss_kib(sp.pid)
                if v is not None:
                    rss[int(round(t))] = v
                time.sleep(1.0)
            sr = spawner.finish(timeout=20)
        r = sp.finish(timeout=60)
    check(r.rc == 0, "stackprof failed", r)
    sptest.check_report_matches(r, out)
    spawned = SPAWNED_RE.search(sr.err)
    check(sr.rc == 0 and spawned, "churn --spawn failed", sr)
    spawned = int(spawned.group(1))
    check(spawned >= 2000, "churn started only %d processes: too few to tell" % spawned, sr)

    times = sorted(rss)
    at10 = rss[min(times, key=lambda t: abs(t - 10))]
    end = rss[max(t for t in times if t <= SECS - 1)]
    sptest.log("  VmRSS (KiB) by second: %s" % " ".join("%d:%d" % (t, rss[t]) for t in times))
    sptest.log("  %d processes started; RSS %d KiB at 10 s, %d KiB at the end (%+d)"
               % (spawned, at10, end, end - at10))
    check(end - at10 <= GROWTH_KIB, "RSS grew by %d KiB after 10 s (bound %d KiB)"
          % (end - at10, GROWTH_KIB), r)

    m = MODEL_RE.search(r.err)
    check(m, "no -v 'process model: ...' line", r)
    live, pending, freed = int(m.group(1)), int(m.group(3)), int(m.group(5))
    sptest.log("  %s" % m.group(0))
    check(live <= 300, "%d address spaces of live processes at the end of a churning run"
          % live, r)
    check(pending <= 2 * RATE, "%d address spaces of processes that exited in the last second"
          % pending, r)
    check(freed >= 0.8 * spawned, "only %d address spaces freed for %d processes started"
          % (freed, spawned), r)
    check(len(re.findall(r"the stack table is full", r.err)) == 1,
          "expected one 'stack table is full' warning", r)
    dropped = DROPPED_RE.search(r.out)
    check(dropped and int(dropped.group(1)) > 0, "the report counts no dropped samples", r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_churn_memory])

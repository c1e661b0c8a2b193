"""iowrite's bad input: every case must exit non-zero by itself (no signal), print
exactly one line on stderr starting with "stackprof:", create no output file, and
leave no probe in the kernel.

Each case carries -d 1, so an input wrongly accepted still ends quickly (and
then fails the test on its exit code). Last, SIGINT in the middle of a run is
no error: it ends the run with the whole report and folded file, exit 0.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import iowrite_util as iu  # noqa: E402


def case(name, *args, mentions=None):
    def run(d):
        iu.check_error(d, ["-d", 1] + list(args), mentions=mentions)
    run.__name__ = "test_" + name
    return run


def test_output_dir_missing(d):
    """-o into a directory that does not exist: refused before the run, no file anywhere."""
    missing = os.path.join(d, "missing")
    out = os.path.join(missing, "out.folded")
    iu.check_error(d, ["-d", 1, "--", "true"], out=out, mentions=[missing])
    check(not os.path.exists(missing), "%s was created" % missing)


def test_sigint(d):
    """SIGINT once writer has written everything (it then holds 5 s): exit 0, the whole
    report and folded file, every function exact."""
    out = sptest.output_path(d, "sigint")
    truth_path = os.path.join(d, "sigint.truth")
    files = iu.out_dir(d, "sigint")
    argv = iu.stackprof(["-g", "--top", 1000, "-o", out, "--"]
                        + iu.writer(files, "--delay", 1, "--hold", 5, "--truth", truth_path))
    with sptest.Proc(argv, capture=True) as sp:
        deadline = time.monotonic() + 15
        # The truth file is complete once it holds the pid line, its last.
        while time.monotonic() < deadline and sp.alive():
            try:
                with open(truth_path) as f:
                    if "writer: pid " in f.read():
                        break
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        if not sp.alive():
            sptest.fail("stackprof exited before the signal", sp.finish())
        check(time.monotonic() < deadline, "writer wrote no complete truth within 15 s")
        time.sleep(0.3)
        check(sp.alive(), "stackprof ended while writer holds")
        sp.signal(signal.SIGINT)
        r = sp.finish(timeout=30)
    iu.check_no_probes_of(sp.pid, r)
    check(r.rc == 0, "stackprof did not exit 0 after SIGINT", r)
    check(r.elapsed < 5.5, "stackprof took %.1f s: it waited for writer's hold to end instead "
          "of stopping at SIGINT" % r.elapsed, r)
    rep = iu.parse_report(r)
    iu.check_not_lost(rep, r)
    stacks = iu.parse_folded(out, r)
    iu.check_stray(out)
    truth = iu.read_truth(truth_path, r)
    iu.check_design(truth, files)
    iu.check_exact(rep, stacks, truth, r)
    iu.check_consistent(rep, stacks, r)


CASES = [
    case("kernel_only", "--kernel-only", "--", "true", mentions=["kernel-only"]),
    case("path_empty", "--path", "", "--", "true", mentions=["path"]),
    case("pid_missing", "-p", 999999999, mentions=["999999999"]),
    case("tid_missing", "-t", 999999999, mentions=["999999999"]),
    case("command_missing", "--", "/nonexistent/writer", mentions=["/nonexistent/writer"]),
    case("unknown_option", "--bogus", "--", "true", mentions=["--bogus"]),
    test_output_dir_missing,
    test_sigint,
]


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main(CASES)

"""Bad input and missing privileges: every case must exit non-zero by itself (no
signal), print exactly one line on stderr starting with "stackprof:", and
create no output file.

Each case carries -d 1 or a command, so an input wrongly accepted still ends
quickly (and then fails the test on its exit code).
"""

import os
import shutil
import stat
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

NOBODY = 65534


def check_error(d, args, out=None, mentions=None, runner=None, cwd=None, mentions_all=()):
    """Runs stackprof ARGS (+ -o OUT unless ARGS has its own -o) and checks the error contract."""
    if out is None:
        out = os.path.join(d, "out.folded")
        args = args[:1] + ["-o", out] + args[1:]
    argv = (runner or []) + [sptest.STACKPROF] + [str(a) for a in args]
    r = sptest.run(argv, timeout=30, cwd=cwd)
    sptest.check_error_contract(r, d, out, mentions=mentions or (), ignore_case=False,
                                mentions_all=mentions_all)


def profiler_case(name, *args):
    """A case `stackprof oncpu ARGS -o OUT`; -o goes right after the profiler name."""
    def case(d):
        check_error(d, ["oncpu"] + [str(a) for a in args])
    case.__name__ = "test_" + name
    return case


def test_unknown_profiler(d):
    out = os.path.join(d, "out.folded")
    check_error(d, ["nosuchprofiler", "-d", 1, "-o", out], out=out)


CASES = [
    profiler_case("unknown_option", "--no-such-option", "-d", 1),
    profiler_case("pid_missing", "-p", 999999999, "-d", 1),
    profiler_case("tid_missing", "-t", 999999999, "-d", 1),
    profiler_case("cpu_out_of_range", "-C", 99, "-d", 1),
    profiler_case("cpu_not_a_number", "-C", "abc", "-d", 1),
    profiler_case("cpu_reversed_range", "-C", "1-0", "-d", 1),
    profiler_case("freq_zero", "-F", 0, "-d", 1),
    profiler_case("negative_duration", "-d", -1),
    profiler_case("mmap_pages_not_power_of_two", "-m", 3, "-d", 1),
    profiler_case("command_missing", "--", "/nonexistent/cmd"),
]


def test_command_not_executable(d):
    target = "/etc/hostname"
    st = os.stat(target) if os.path.isfile(target) else None
    if st is None or st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        target = os.path.join(sptest.scratch("not_executable_file"), "plain.txt")
        with open(target, "w") as f:
            f.write("not a program\n")
        os.chmod(target, 0o644)
    check_error(d, ["oncpu", "--", target])


def test_output_dir_missing(d):
    out = "/nonexistent-dir/x.folded"
    check(not os.path.exists("/nonexistent-dir"), "/nonexistent-dir exists on this machine")
    check_error(d, ["oncpu", "-o", out, "--", "true"], out=out, mentions=["/nonexistent-dir"])


def test_unprivileged(d):
    """As nobody, with kernel.perf_event_paranoid >= 1, system-wide profiling is refused,
    and the one line names every fix: root, the sysctl, and CAP_PERFMON."""
    with open("/proc/sys/kernel/perf_event_paranoid") as f:
        paranoid = int(f.read().strip())
    if paranoid < 1:
        sptest.skip("kernel.perf_event_paranoid is %d: unprivileged users may profile" % paranoid)
    setpriv = shutil.which("setpriv")
    if not setpriv:
        sptest.skip("setpriv (util-linux) is not installed")
    # Run a copy of the binary from a directory nobody can reach, writing to a
    # directory nobody may write to: the only thing missing is the privilege.
    tmp = tempfile.mkdtemp(prefix="stackprof-errors-")
    try:
        os.chmod(tmp, 0o755)
        binary = os.path.join(tmp, "stackprof")
        shutil.copy2(sptest.STACKPROF, binary)
        os.chmod(binary, 0o755)
        outdir = os.path.join(tmp, "out")
        os.mkdir(outdir)
        os.chmod(outdir, 0o777)
        out = os.path.join(outdir, "out.folded")
        runner = [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        saved = sptest.STACKPROF
        sptest.STACKPROF = binary
        try:
            check_error(outdir, ["oncpu", "-d", 1, "-o", out], out=out, runner=runner, cwd="/",
                        mentions_all=["kernel.perf_event_paranoid", "root", "cap_perfmon",
                                      binary])
        finally:
            sptest.STACKPROF = saved
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_unknown_profiler] + CASES
                + [test_command_not_executable, test_output_dir_missing, test_unprivileged])

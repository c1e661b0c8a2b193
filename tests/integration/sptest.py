"""Shared helpers for stackprof's kernel and workload tests (Python 3 stdlib only).

A test file imports this module, writes its cases as functions that take a
fresh scratch directory, and ends with `sptest.main([case, ...])`. A case fails
by raising Failure (through check()/fail()) and skips by raising Skip; every
subprocess runs with a timeout, in its own process group, and is killed on
the way out whatever happens.

Environment (set by CTest): STACKPROF = the stackprof binary, WORKLOADS = the
directory of built workloads, STACKPROF_TEST_TMP = scratch space. CI=true
turns every skip into a failure: on CI a test that cannot run is broken.
"""

import ctypes
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACKPROF = os.environ.get("STACKPROF", os.path.join(REPO, "build", "stackprof"))
WORKLOADS = os.environ.get("WORKLOADS", os.path.join(REPO, "build", "tests", "workloads"))
TMP = os.environ.get("STACKPROF_TEST_TMP") or os.path.join(tempfile.gettempdir(), "stackprof-test")

SKIP_RC = 77
TEST_NAME = os.path.splitext(os.path.basename(sys.argv[0]))[0]

HEADER_RE = re.compile(
    r"^# oncpu: (?P<n>\d+) samples of (?P<event>\S+) at (?P<hz>\d+) Hz over (?P<secs>[0-9.]+) s\b")
COLUMNS_RE = re.compile(r"^\s*SAMPLES\s+%\s+COMM\s+STACK\s*$")
ROW_RE = re.compile(r"^\s*(?P<count>\d+)\s+(?P<pct>[0-9.]+)%\s+(?P<comm>\S+)\s+(?P<stack>.*)$")


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def in_ci():
    return os.environ.get("CI") == "true"


def sanitized():
    """Whether stackprof was built with sanitizers (scripts/test.sh --sanitize says so):
    slower, so a test that needs it to keep up with a burst may give it more room."""
    return os.environ.get("STACKPROF_TEST_SANITIZED") == "1"


def log(msg):
    print(msg, flush=True)


def fail(msg, result=None):
    if result is not None:
        msg += "\n" + result.describe()
    raise Failure(msg)


def check(cond, msg, result=None):
    if not cond:
        fail(msg, result)


def skip(reason):
    raise Skip(reason)


def _tail(text, lines=40):
    parts = text.rstrip("\n").split("\n")
    if len(parts) > lines:
        parts = ["[... %d lines ...]" % (len(parts) - lines)] + parts[-lines:]
    return "\n".join("    " + p for p in parts)


class Result:
    """A finished command: its argv, exit code, output and wall time."""

    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out, self.err, self.elapsed = args, rc, out, err, elapsed

    def describe(self):
        return ("  command: %s\n  exit code: %s after %.2f s\n  stdout:\n%s\n  stderr:\n%s"
                % (shlex.join(self.args), self.rc, self.elapsed, _tail(self.out), _tail(self.err)))


def _kill_group(p):
    """SIGKILLs the process group of @p (started with start_new_session) and reaps @p."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run(args, timeout=60, cwd=None, env=None):
    """Runs @args to completion and returns a Result. A timeout kills its whole group and fails."""
    args = [str(a) for a in args]
    log("$ " + shlex.join(args))
    start = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace",
                         start_new_session=True, cwd=cwd, env=env)
    try:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(p)
            out, err = p.communicate()
            fail("timed out after %d s" % timeout,
                 Result(args, "killed", out, err, time.monotonic() - start))
    finally:
        if p.poll() is None:
            _kill_group(p)
    return Result(args, p.returncode, out, err, time.monotonic() - start)


class Proc:
    """A background process, killed (whole process group) when the with-block ends.

    env replaces the environment (None: inherit ours).

    capture=True pipes stdout/stderr so finish() can return a Result; only do
    that for a process that writes little until it exits (stackprof without -i).
    cpus pins it (and the threads it creates) to that set of CPUs before exec.
    """

    def __init__(self, args, capture=False, cpus=None, env=None):
        self.args = [str(a) for a in args]
        self.capture = capture
        self.cpus = cpus
        self.env = env
        self.p = None
        self.start = None

    def __enter__(self):
        log("$ %s &" % shlex.join(self.args))
        pipe = subprocess.PIPE if self.capture else subprocess.DEVNULL
        cpus = self.cpus
        self.start = time.monotonic()
        self.p = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe, text=True,
            errors="replace", start_new_session=True, env=self.env,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None)
        return self

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        log("kill -%s %d" % (signal.Signals(sig).name, self.p.pid))
        self.p.send_signal(sig)

    def finish(self, timeout=30):
        """Waits for the process to exit by itself; a timeout kills it and fails."""
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(self.p)
            out, err = self.p.communicate()
            fail("did not exit within %d s" % timeout,
                 Result(self.args, "killed", out or "", err or "", time.monotonic() - self.start))
        return Result(self.args, self.p.returncode, out or "", err or "",
                      time.monotonic() - self.start)

    def __exit__(self, *exc):
        if self.p.poll() is None:
            _kill_group(self.p)
        else:
            self.p.wait()
        return False


# ---------------------------------------------------------------- environment

_PERF_SYSCALL = {"x86_64": 298, "aarch64": 241, "i686": 336, "armv7l": 364}


def _probe_perf_event():
    """Opens a system-wide cpu-clock counter on CPU 0: 0 if perf events work, else an errno."""
    nr = _PERF_SYSCALL.get(platform.machine())
    if nr is None:
        return 0  # unknown syscall number: let stackprof itself tell
    attr = (ctypes.c_uint8 * 128)()
    # struct perf_event_attr: u32 type, u32 size, u64 config, ...; the flags
    # word (bit 0 = disabled) is at offset 40. PERF_TYPE_SOFTWARE = 1,
    # PERF_COUNT_SW_CPU_CLOCK = 0; size 64 is PERF_ATTR_SIZE_VER0.
    ctypes.c_uint32.from_buffer(attr, 0).value = 1
    ctypes.c_uint32.from_buffer(attr, 4).value = 64
    ctypes.c_uint64.from_buffer(attr, 40).value = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(ctypes.c_long(nr), ctypes.byref(attr), ctypes.c_long(-1),
                      ctypes.c_long(0), ctypes.c_long(-1), ctypes.c_ulong(0))
    if fd < 0:
        return ctypes.get_errno()
    os.close(fd)
    return 0


def require_kernel():
    """Exits 77 (exit 1 under CI=true) unless we are root and perf events work."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root for system-wide perf events"
    elif not os.path.exists("/proc/sys/kernel/perf_event_paranoid"):
        reason = "this kernel has no perf events (/proc/sys/kernel/perf_event_paranoid missing)"
    else:
        err = _probe_perf_event()
        if err:
            reason = "perf_event_open(cpu-clock, cpu 0) failed: %s" % os.strerror(err)
    if reason:
        _exit_skip(reason)
    for path, what in ((STACKPROF, "stackprof binary"),
                       (workload("cpushare"), "cpushare workload")):
        if not os.access(path, os.X_OK):
            log("FAIL %s: %s not found at %s (build it first)" % (TEST_NAME, what, path))
            sys.exit(1)


def _exit_skip(reason):
    if in_ci():
        log("FAIL %s: cannot run under CI: %s" % (TEST_NAME, reason))
        sys.exit(1)
    log("SKIP %s: %s" % (TEST_NAME, reason))
    sys.exit(SKIP_RC)


def workload(name):
    return os.path.join(WORKLOADS, name)


def online_cpus():
    return sorted(os.sched_getaffinity(0))


def scratch(case):
    """A fresh, empty directory for one case, kept afterwards for inspection."""
    d = os.path.join(TMP, TEST_NAME, case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def output_path(d, name):
    """D/NAME/NAME.folded in a directory of its own, so stray files next to it can be checked."""
    sub = os.path.join(d, name)
    os.makedirs(sub, exist_ok=True)
    return os.path.join(sub, name + ".folded")


def thread_ids(pid):
    """{tid: comm} of a live process."""
    tids = {}
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                    tids[int(t)] = f.read().strip()
            except OSError:
                pass
    except OSError:
        pass
    return tids


def wait_threads(proc, names, timeout=10.0):
    """Waits until @proc has threads called each of @names; returns {name: tid}."""
    deadline = time.monotonic() + timeout
    while True:
        found = {comm: tid for tid, comm in thread_ids(proc.pid).items() if comm in names}
        if set(found) == set(names):
            return found
        if not proc.alive():
            fail("%s exited before its threads %s appeared" % (proc.args, sorted(names)))
        if time.monotonic() > deadline:
            fail("threads %s of pid %d did not appear within %.0f s (have %s)"
                 % (sorted(names), proc.pid, timeout, thread_ids(proc.pid)))
        time.sleep(0.05)


def check_error_contract(r, d, out, mentions=(), mentions_all=(), ignore_case=True):
    """The contract for bad input: exit 1..127 (not a signal), exactly one non-empty
    stderr line starting with 'stackprof:', no output file @out, nothing left in @d.
    The line must contain one of @mentions (if any) and all of @mentions_all.
    Returns the line."""
    def has(line, m):
        return m.lower() in line.lower() if ignore_case else m in line

    check(r.rc >= 0, "killed by signal %d" % -r.rc, r)
    check(0 < r.rc < 128, "expected a non-zero exit code below 128, got %s" % r.rc, r)
    lines = r.err.rstrip("\n").split("\n")
    check(len(lines) == 1 and lines[0].strip(),
          "expected exactly one non-empty line on stderr, got %d" % len(r.err.splitlines()), r)
    check(lines[0].startswith("stackprof:"), "the error line does not start with 'stackprof:'", r)
    if mentions:
        check(any(has(lines[0], m) for m in mentions),
              "the error line mentions none of %s" % (mentions,), r)
    for m in mentions_all:
        check(has(lines[0], m), "the error line does not mention %r" % m, r)
    check(not os.path.exists(out), "the output file %s was created" % out, r)
    if os.path.isdir(d):
        check(not os.listdir(d), "files left in %s: %s" % (d, os.listdir(d)), r)
    log("  -> %s" % lines[0])
    return lines[0]


def perf_event_fds(pid):
    """How many perf_event file descriptors @pid holds (0 if gone)."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]":
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def wait_attached(proc, timeout=15.0, stable=0.4):
    """Waits until @proc (a sptest.Proc) holds perf_event fds and their number has not
    changed for @stable s; returns the number."""
    deadline = time.monotonic() + timeout
    last, since = 0, time.monotonic()
    while True:
        n = perf_event_fds(proc.pid)
        now = time.monotonic()
        if n != last:
            last, since = n, now
        elif n and now - since >= stable:
            return n
        if not proc.alive():
            fail("%s exited before opening its events" % proc.args, proc.finish(5))
        if now > deadline:
            fail("%s did not settle on its perf events within %.0f s (has %d)"
                        % (proc.args, timeout, n))
        time.sleep(0.05)


def children(pid):
    """The pids of @pid's children ([] if it is gone)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def comm_of(pid):
    """The comm of @pid, None if it is gone."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


REAPER_COMM = "stackprof-reap"


def reaper_of(pid):
    """The pid of stackprof @pid's reaper process (tracefs events), None if it has none."""
    for c in children(pid):
        if comm_of(c) == REAPER_COMM:
            return c
    return None


def alive(pid):
    """True while @pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def have_perf():
    return shutil.which("perf") is not None


# ---------------------------------------------------------------- parsers

class Header:
    def __init__(self, m):
        self.n = int(m.group("n"))
        self.event = m.group("event")
        self.hz = int(m.group("hz"))
        self.seconds = float(m.group("secs"))


def parse_header(result):
    """The final report's header line (the last `# oncpu: ...` line on stdout)."""
    found = None
    for line in result.out.split("\n"):
        m = HEADER_RE.match(line)
        if m:
            found = m
    check(found is not None, "no '# oncpu: N samples of EVENT at HZ Hz over S s' line on stdout",
          result)
    return Header(found)


def table_rows(result):
    """Rows of the final report's table: [(count, pct, comm, [leaf, caller, ...])]."""
    lines = result.out.split("\n")
    start = None
    for i, line in enumerate(lines):
        if COLUMNS_RE.match(line):
            start = i + 1
    check(start is not None, "no '  SAMPLES       %  COMM  STACK' column header on stdout", result)
    rows = []
    for line in lines[start:]:
        m = ROW_RE.match(line)
        if m:
            rows.append((int(m.group("count")), float(m.group("pct")), m.group("comm"),
                         m.group("stack").split(" <- ")))
    return rows


def parse_folded(path, result=None):
    """[(comm, [root_frame, ..., leaf_frame], count)]; fails on any malformed line."""
    check(os.path.isfile(path), "folded file %s was not written" % path, result)
    stacks = []
    with open(path, errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            stack, sep, count = line.rpartition(" ")
            parts = stack.split(";")
            check(sep and count.isdigit() and int(count) > 0 and len(parts) >= 2
                  and all(parts),
                  "%s:%d: not 'comm;frame;...;frame count': %r" % (path, lineno, line), result)
            stacks.append((parts[0], parts[1:], int(count)))
    return stacks


def total(stacks):
    return sum(c for _, _, c in stacks)


def share(stacks, func):
    """Fraction of samples whose stack contains the frame @func."""
    n = total(stacks)
    return sum(c for _, frames, c in stacks if func in frames) / n if n else 0.0


def share_if(stacks, pred):
    """Fraction of samples for which pred(comm, frames) holds."""
    n = total(stacks)
    return sum(c for comm, frames, c in stacks if pred(comm, frames)) / n if n else 0.0


def comm_share(stacks, comm):
    return share_if(stacks, lambda c, _: c == comm)


def has_sequence(frames, seq):
    """True if @seq occurs as consecutive frames of @frames."""
    k = len(seq)
    return any(frames[i:i + k] == list(seq) for i in range(len(frames) - k + 1))


def frame_is(frame, func):
    """A frame names @func, with or without an offset or annotation (func+0x1a, func [x])."""
    return frame == func or frame.startswith(func + "+") or frame.startswith(func + " ")


def has_frame(frames, func):
    return any(frame_is(f, func) for f in frames)


def folded_sum(stacks, func):
    """The counts of the folded stacks that contain @func."""
    return sum(c for _, frames, c in stacks if has_frame(frames, func))


def pct(x):
    return "%.1f%%" % (100.0 * x)


def summary(stacks, limit=8):
    """The heaviest stacks, for failure messages."""
    top = sorted(stacks, key=lambda s: -s[2])[:limit]
    n = total(stacks) or 1
    return "\n".join("    %6d %5.1f%% %s" % (c, 100.0 * c / n, ";".join([comm] + frames))
                     for comm, frames, c in top)


def check_report_matches(result, folded_path, stacks=None):
    """Exit 0, a header, and a folded file whose counts sum to the header's N."""
    check(result.rc == 0, "stackprof failed", result)
    h = parse_header(result)
    for line in result.out.split("\n"):
        if line.startswith("# ") and not line.startswith("# oncpu live"):
            log("  " + line)
    if stacks is None:
        stacks = parse_folded(folded_path, result)
    check(total(stacks) == h.n, "folded counts sum to %d but the header says %d samples"
          % (total(stacks), h.n), result)
    leftovers = sorted(set(os.listdir(os.path.dirname(folded_path)))
                       - {os.path.basename(folded_path)})
    check(not leftovers, "stray files next to the output (non-atomic write?): %s" % leftovers)
    return h, stacks


# ---------------------------------------------------------------- runner

def main(cases):
    """Runs every case; exit 1 if any failed, else 77 if any skipped, else 0."""
    failed, skipped = [], []
    for case in cases:
        name = case.__name__
        log("=== %s.%s" % (TEST_NAME, name))
        try:
            case(scratch(name))
        except Failure as e:
            log("FAIL %s.%s: %s" % (TEST_NAME, name, e))
            failed.append(name)
        except Skip as e:
            if in_ci():
                log("FAIL %s.%s: skipped under CI: %s" % (TEST_NAME, name, e))
                failed.append(name)
            else:
                log("SKIP %s.%s: %s" % (TEST_NAME, name, e))
                skipped.append(name)
        except Exception:
            log("FAIL %s.%s: test crashed:\n%s" % (TEST_NAME, name, traceback.format_exc()))
            failed.append(name)
        else:
            log("PASS %s.%s" % (TEST_NAME, name))
    log("--- %s: %d passed, %d failed, %d skipped"
        % (TEST_NAME, len(cases) - len(failed) - len(skipped), len(failed), len(skipped)))
    if failed:
        sys.exit(1)
    sys.exit(SKIP_RC if skipped else 0)

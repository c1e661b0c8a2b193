"""Runs under strace for the tests that prove what stackprof touches: which syscalls it
made (bpf) and which paths it opened, stat'ed or probed for access (tracefs, BTF).

A log line of `strace -f` reads "PID  name(args...) = ret", or, for a call that
another process's line interrupted, "PID  name(args <unfinished ...>" and later
"PID  <... name resumed>...) = ret"; paths are the quoted absolute arguments.
"""

import os
import re
import shutil

import sptest
from sptest import check

# Every call that names a path stackprof might look at, and bpf itself.
SYSCALLS = "bpf,openat,open,stat,statx,newfstatat,access,faccessat,faccessat2"
CALL_RE = re.compile(r"^(?P<pid>\d+)\s+(?:<\.\.\. )?(?P<name>[a-z0-9_]+)(?:\(| resumed>)")
PATH_RE = re.compile(r'"(/[^"]*)"')


class Trace:
    """One strace log: its calls as (pid, name, line), the first process's pid."""

    def __init__(self, path):
        with open(path, errors="replace") as f:
            self.lines = [x.rstrip("\n") for x in f]
        self.calls = []
        for line in self.lines:
            m = CALL_RE.match(line)
            if m:
                self.calls.append((int(m.group("pid")), m.group("name"), line))
        self.first_pid = self.calls[0][0] if self.calls else None

    def named(self, name):
        """The lines of calls of syscall @name."""
        return [line for _, n, line in self.calls if n == name]

    def lines_with(self, text):
        return [line for line in self.lines if text in line]

    def paths(self, pid=None):
        """The quoted absolute paths of the calls (of @pid only, if given), in order."""
        out = []
        for p, _, line in self.calls:
            if pid is None or p == pid:
                out += PATH_RE.findall(line)
        return out


def require():
    if not shutil.which("strace"):
        sptest.skip("strace is not installed (scripts/install-deps.sh installs it)")


def command(log_path, argv):
    # -b execve: a command stackprof launches is followed up to its exec, what is still
    # stackprof's code; after it, the workload runs untraced, so ptrace stops at its
    # syscalls do not change the profile being checked.
    return ["strace", "-f", "-b", "execve", "-qq", "-e", "trace=" + SYSCALLS,
            "-o", log_path] + [str(a) for a in argv]


def untraceable_checks_off(env=None):
    """@env (default: ours) without what cannot run under ptrace: LeakSanitizer, in
    a build made by scripts/test.sh --sanitize, stops a traced process at its exit."""
    env = dict(env if env is not None else os.environ)
    env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS", ""), "detect_leaks=0")
                                   if o)
    return env


def traced(d, name, argv, timeout=90, env=None):
    """Runs @argv under strace (log D/NAME.strace); returns (Result, Trace)."""
    log_path = os.path.join(d, name + ".strace")
    r = sptest.run(command(log_path, argv), timeout=timeout, env=untraceable_checks_off(env))
    check(os.path.isfile(log_path), "strace wrote no log %s" % log_path, r)
    return r, Trace(log_path)

"""Helpers for the tests of kernel features, limits and privileges (core/features.h,
core/limits.h): forcing a fallback through the environment, sysctls changed for one
case and restored whatever happens, runs as the unprivileged user nobody, SCHED_IDLE
spinners that keep CPUs out of idle, CPU shares, and an ELF's build-id.
"""

import contextlib
import os
import shutil
import struct
import tempfile
import time

import sptest
from sptest import check, pct

NOBODY = 65534


@contextlib.contextmanager
def forced(*names):
    """STACKPROF_FORCE_NO_<NAME>=1 for each of @names in this process's environment (which
    every command the block starts inherits), removed afterwards."""
    keys = ["STACKPROF_FORCE_NO_" + n for n in names]
    saved = {k: os.environ.get(k) for k in keys}
    try:
        for k in keys:
            os.environ[k] = "1"
        if keys:
            sptest.log("  env: " + " ".join(k + "=1" for k in keys))
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def read_sysctl(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return f.read().strip()


def write_sysctl(name, value):
    with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
        f.write(str(value))


@contextlib.contextmanager
def sysctl(name, value):
    """Sets sysctl @name (e.g. "kernel.kptr_restrict") to @value for the block, and puts
    the old value back in a finally, whatever the block does. The machine is shared:
    keep the block short."""
    old = read_sysctl(name)
    try:
        try:
            write_sysctl(name, value)
        except OSError as e:
            sptest.skip("cannot set %s=%s: %s" % (name, value, e))
        sptest.log("  sysctl %s=%s (was %s)" % (name, value, old))
        yield old
    finally:
        write_sysctl(name, old)
        check(read_sysctl(name) == old, "could not restore %s to %s" % (name, old))
        sptest.log("  sysctl %s=%s restored" % (name, old))


@contextlib.contextmanager
def spinners(seconds):
    """One SCHED_IDLE busy loop per CPU for at most @seconds: the CPUs never go idle, yet
    any other task preempts them at once. (On this VM's kernel sched_switch is not
    reported when CPU 1 leaves its idle task, so a wake-up onto an idle CPU 1 has no
    tracepoint; with a spinner there, every switch-in is a switch from a running task.)"""
    pids = []
    try:
        for cpu in sptest.online_cpus():
            pid = os.fork()
            if pid == 0:
                try:
                    os.sched_setaffinity(0, {cpu})
                    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
                    end = time.monotonic() + seconds
                    while time.monotonic() < end:
                        pass
                finally:
                    os._exit(0)
            pids.append(pid)
        time.sleep(0.05)
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


class Unprivileged:
    """Copies of stackprof and some workloads in a directory nobody can reach, an output
    directory nobody may write, and the argv prefix that runs a command as nobody with
    no groups (and optionally ambient capabilities). Removed when the block ends."""

    def __init__(self, workloads=("cpushare",), caps=None):
        self.workloads = workloads
        self.caps = caps

    def __enter__(self):
        setpriv = shutil.which("setpriv")
        if not setpriv:
            sptest.skip("setpriv (util-linux) is not installed")
        self.dir = tempfile.mkdtemp(prefix="stackprof-nobody-")
        os.chmod(self.dir, 0o755)
        self.stackprof = os.path.join(self.dir, "stackprof")
        shutil.copy2(sptest.STACKPROF, self.stackprof)
        for w in self.workloads:
            shutil.copy2(sptest.workload(w), os.path.join(self.dir, w))
        self.out = os.path.join(self.dir, "out")
        os.mkdir(self.out)
        os.chmod(self.out, 0o777)
        self.prefix = [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        if self.caps:
            self.prefix += ["--inh-caps=+" + self.caps, "--ambient-caps=+" + self.caps]
        return self

    def workload(self, name):
        return os.path.join(self.dir, name)

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def warnings(result):
    """stderr lines, without the 'stackprof: ' prefix."""
    return [line[len("stackprof: "):] if line.startswith("stackprof: ") else line
            for line in result.err.splitlines()]


def check_said(result, *needles, count=None):
    """stderr has a line containing every one of @needles (exactly @count such lines if
    given); returns the first."""
    lines = [l for l in warnings(result) if all(n in l for n in needles)]
    check(lines, "no line on stderr contains all of %s" % (needles,), result)
    if count is not None:
        check(len(lines) == count, "%d lines on stderr contain %s, expected %d"
              % (len(lines), needles, count), result)
    sptest.log("  said: " + lines[0])
    return lines[0]


def check_shares(stacks, expected, tolerance, what, result=None):
    """Each function of @expected is in its fraction of the samples, +- @tolerance."""
    for func, want in expected.items():
        got = sptest.share(stacks, func)
        sptest.log("  %s: %s: %s of samples (expected %s)" % (what, func, pct(got), pct(want)))
        check(abs(got - want) <= tolerance,
              "%s: %s is in %s of the samples, expected %s +-%d pp:\n%s"
              % (what, func, pct(got), pct(want), 100 * tolerance, sptest.summary(stacks)),
              result)


def no_late_records(result):
    """The loss line, if any, counts nothing out of order or undecodable."""
    for line in result.out.splitlines():
        if line.startswith("# lost"):
            check(" 0 out of order; 0 undecodable" in line,
                  "records out of order or undecodable: %s" % line, result)


def elf_build_id(path):
    """The GNU build-id note of ELF file @path as lowercase hex, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    for i in range(shnum):
        sh = shoff + i * shentsize
        sh_type, = struct.unpack_from("<I", data, sh + 4)
        if sh_type != 7:  # SHT_NOTE
            continue
        off, size = struct.unpack_from("<QQ", data, sh + 0x18)
        p = off
        while p + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from("<III", data, p)
            name = data[p + 12:p + 12 + namesz]
            desc_at = p + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and name.rstrip(b"\0") == b"GNU":  # NT_GNU_BUILD_ID
                return data[desc_at:desc_at + descsz].hex()
            p = desc_at + ((descsz + 3) & ~3)
    return None

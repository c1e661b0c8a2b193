"""Symbol sources beyond .symtab, on real processes with known CPU shares.

- `symbols` (tests/workloads/symbols.c): C++- and Rust-mangled functions
  (1/4 of the CPU each) and JIT code listed in /tmp/perf-PID.map (2/4):
  names demangled (or kept with --no-demangle), the JIT frame named.
- cpushare stripped of its .symtab, its functions then named from a
  build-id debug directory, a .gnu_debuglink file, or MiniDebugInfo
  (.gnu_debugdata), each made here with objcopy/strip/xz; shares 1:2:3.
- cpushare deleted while it runs (named through /proc/PID/map_files).
- a process that exits before the run ends is still fully named.
- `symbols --inline`: a function always inlined into its caller is a
  frame of its own with --inline (and "_[i]" with --annotate), and
  --srcline puts each frame's file:line in its name, checked against the
  lines marked in the workload's source.
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, fail, pct  # noqa: E402

FREQ = 997
TOLERANCE = 0.05  # absolute, fraction of samples
CPUSHARE = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}


def profile(d, name, args, extra=(), env=None, timeout=90):
    out = os.path.join(d, name + ".folded")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-o", out] + list(extra) +
                   ["--"] + [str(a) for a in args], timeout=timeout, env=env)
    check(r.rc == 0, "stackprof failed", r)
    return sptest.parse_folded(out, r), r


def check_shares(stacks, want, what):
    for func, share in want.items():
        got = sptest.share(stacks, func)
        sptest.log("  %s %s: %s (expected %s)" % (what, func, pct(got), pct(share)))
        check(abs(got - share) <= TOLERANCE,
              "%s: %s in %s of samples, expected %s +-%d pp:\n%s"
              % (what, func, pct(got), pct(share), 100 * TOLERANCE, sptest.summary(stacks)))


def remove_perf_map(r):
    m = re.search(r"perf map (/tmp/perf-\d+\.map)", r.err)
    if m and os.path.exists(m.group(1)):
        os.unlink(m.group(1))
    return m


def test_demangle_and_jit(d):
    stacks, r = profile(d, "symbols", [sptest.workload("symbols"), 2])
    check(remove_perf_map(r), "the workload did not say where its perf map is", r)
    check_shares(stacks, {"stackprof::demo::cpp_hot": 1 / 4, "demo::rust_hot": 1 / 4,
                          "jit_spin": 2 / 4}, "symbols")
    leaf_jit = sptest.share_if(stacks, lambda comm, frames: frames[-1] == "jit_spin")
    check(leaf_jit >= 0.4, "jit_spin is the leaf of only %s of samples" % pct(leaf_jit))
    check(not any(f.startswith("_Z") or f.startswith("_R") for _, fr, _ in stacks for f in fr),
          "a mangled name is left:\n" + sptest.summary(stacks))


def test_no_demangle(d):
    stacks, r = profile(d, "raw", [sptest.workload("symbols"), 1], extra=["--no-demangle"])
    remove_perf_map(r)
    check(sptest.share(stacks, "_ZN9stackprof4demo7cpp_hotEx") > 0.15 and
          sptest.share(stacks, "_RNvCs1234_4demo8rust_hot") > 0.15,
          "--no-demangle: mangled names expected:\n" + sptest.summary(stacks))
    check(sptest.share(stacks, "stackprof::demo::cpp_hot") == 0, "demangled anyway")


def stripped_cpushare(d, name):
    """A copy of cpushare without .symtab: its static functions have no name left."""
    path = os.path.join(d, name)
    check(subprocess.run(["strip", "-o", path, sptest.workload("cpushare")]).returncode == 0,
          "strip failed")
    return path


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    check(m, "no build-id in %s" % path)
    return m.group(1)


def test_stripped_without_debuginfo(d):
    """The control: stripped, no debug information anywhere: the functions are unnamed."""
    prog = stripped_cpushare(d, "cpushare")
    env = dict(os.environ, STACKPROF_DEBUG_DIRS=os.path.join(d, "nothing-here"))
    stacks, _ = profile(d, "bare", [prog, 1], env=env)
    check(sptest.share(stacks, "work_c") == 0, "named without any debug information?")


def test_build_id_dir(d):
    prog = stripped_cpushare(d, "cpushare")
    bid = build_id(prog)
    dbg = os.path.join(d, "debug", ".build-id", bid[:2])
    os.makedirs(dbg)
    check(subprocess.run(["objcopy", "--only-keep-debug", sptest.workload("cpushare"),
                          os.path.join(dbg, bid[2:] + ".debug")]).returncode == 0, "objcopy")
    env = dict(os.environ, STACKPROF_DEBUG_DIRS=os.path.join(d, "debug"))
    stacks, _ = profile(d, "by-id", [prog, 2], env=env)
    check_shares(stacks, CPUSHARE, "build-id")


def test_debuglink(d):
    prog = os.path.join(d, "cpushare")
    dbg = os.path.join(d, "cpushare.debug")
    src = os.path.abspath(sptest.workload("cpushare"))
    for argv in (["objcopy", "--only-keep-debug", src, dbg],
                 ["strip", "--remove-section=.note.gnu.build-id", "-o", prog, src],
                 ["objcopy", "--add-gnu-debuglink=" + dbg, prog]):
        check(subprocess.run(argv, cwd=d).returncode == 0, "failed: %s" % argv)
    env = dict(os.environ, STACKPROF_DEBUG_DIRS=os.path.join(d, "nothing-here"))
    stacks, _ = profile(d, "by-link", [prog, 2], env=env)
    check_shares(stacks, CPUSHARE, "debuglink")


def test_minidebuginfo(d):
    """.gnu_debugdata: an xz'd ELF holding .symtab entries for what .dynsym lacks."""
    src = os.path.abspath(sptest.workload("cpushare"))
    prog = os.path.join(d, "cpushare")

    def names(args):
        out = subprocess.run(["nm", "--format=posix", "--defined-only"] + args + [src],
                             capture_output=True, text=True).stdout
        return {l.split()[0] for l in out.splitlines() if len(l.split()) > 1 and
                l.split()[1] in ("T", "t")}

    keep = sorted(names([]) - names(["-D"]))
    check("work_c" in keep, "work_c not among the local functions: %s" % keep)
    with open(os.path.join(d, "keep"), "w") as f:
        f.write("\n".join(keep) + "\n")
    for argv in (["objcopy", "--only-keep-debug", src, "debug"],
                 ["objcopy", "-S", "--remove-section", ".gdb_index", "--remove-section",
                  ".comment", "--keep-symbols=keep", "debug", "mini"],
                 ["xz", "-f", "mini"],
                 ["strip", "--remove-section=.note.gnu.build-id", "-o", prog, src],
                 ["objcopy", "--add-section", ".gnu_debugdata=mini.xz", prog]):
        check(subprocess.run(argv, cwd=d).returncode == 0, "failed: %s" % argv)
    env = dict(os.environ, STACKPROF_DEBUG_DIRS=os.path.join(d, "nothing-here"))
    stacks, _ = profile(d, "mini", [prog, 2], env=env)
    check_shares(stacks, CPUSHARE, "minidebuginfo")


def test_deleted_binary(d):
    """A running binary whose file is deleted (and replaced) is named from the file it maps."""
    prog = os.path.join(d, "cpushare")
    shutil.copy(sptest.workload("cpushare"), prog)
    out = os.path.join(d, "deleted.folded")
    with sptest.Proc([prog, 4]) as target:
        time.sleep(0.3)
        os.unlink(prog)
        # Another file under the old name: it must not be the one read.
        shutil.copy("/bin/true", prog)
        r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-p", target.pid, "-d", 2,
                        "-o", out], timeout=60)
        check(r.rc == 0, "stackprof -p failed", r)
    stacks = sptest.parse_folded(out, r)
    check_shares(stacks, CPUSHARE, "deleted")


def test_exited_process_named(d):
    """System-wide: a process that exits in the middle of the run is still fully named."""
    out = os.path.join(d, "all.folded")
    with sptest.Proc([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-d", 3, "-o", out],
                     capture=True) as sp:
        sptest.wait_attached(sp)
        r0 = sptest.run([sptest.workload("cpushare"), 1], timeout=30)
        check(r0.rc == 0, "cpushare failed", r0)
        r = sp.finish(timeout=30)
    check(r.rc == 0, "stackprof -a failed", r)
    stacks = [s for s in sptest.parse_folded(out, r) if s[0] == "cpushare"]
    total = sum(n for _, _, n in stacks)
    check(total > 0.6 * FREQ, "only %d cpushare samples" % total, r)
    for func, share in CPUSHARE.items():
        got = sum(n for _, frames, n in stacks if func in frames) / total
        check(abs(got - share) <= TOLERANCE,
              "exited: %s in %s of cpushare's samples, expected %s" % (func, pct(got), pct(share)))


def marked_line(marker):
    src = os.path.join(sptest.REPO, "tests", "workloads", "symbols.c")
    with open(src) as f:
        for n, line in enumerate(f, 1):
            if "/* %s */" % marker in line:
                return n
    fail("no line marked %s in %s" % (marker, src))


def test_inline(d):
    plain, _ = profile(d, "plain", [sptest.workload("symbols"), "--inline", 1])
    check(sptest.share(plain, "inl_hot") == 0, "inl_hot without --inline?")
    check(sptest.share_if(plain, lambda c, f: sptest.has_sequence(f, ["outer_inl", "burn"]))
          >= 0.9, "outer_inl;burn expected without --inline:\n" + sptest.summary(plain))
    inl, _ = profile(d, "inline", [sptest.workload("symbols"), "--inline", 1],
                     extra=["--inline", "--annotate"])
    seq = ["run_inline", "outer_inl", "inl_hot_[i]", "burn"]
    got = sptest.share_if(inl, lambda c, f: sptest.has_sequence(f, seq))
    check(got >= 0.9, "%s in only %s of samples with --inline:\n%s"
          % (";".join(seq), pct(got), sptest.summary(inl)))


def test_srcline(d):
    stacks, _ = profile(d, "srcline", [sptest.workload("symbols"), "--inline", 1],
                        extra=["--inline", "--srcline"])
    want = ["outer_inl:symbols.c:%d" % marked_line("CALL-INL"),
            "inl_hot:symbols.c:%d" % marked_line("CALL-BURN")]
    got = sptest.share_if(stacks, lambda c, f: sptest.has_sequence(f, want))
    check(got >= 0.9, "%s in only %s of samples:\n%s"
          % (";".join(want), pct(got), sptest.summary(stacks)))
    check(all(":" in f for _, frames, _ in stacks for f in frames
              if f.startswith(("run_inline", "main"))), "a frame without its line")


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_demangle_and_jit, test_no_demangle, test_stripped_without_debuginfo,
                 test_build_id_dir, test_debuglink, test_minidebuginfo, test_deleted_binary,
                 test_exited_process_named, test_inline, test_srcline])

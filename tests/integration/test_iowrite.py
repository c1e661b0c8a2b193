"""iowrite against the writer workload's exact truth.

writer makes known calls under named functions (write_plain, write_positional,
write_vectored, write_pvectored, write_devnull, write_pipe, write_socket,
write_badfd, write_short): every write syscall iowrite traces, regular files
opened and closed around their writes, /dev/null, a pipe, a socket, a bad fd
and a short write. For every function the stack table rows and the folded
stacks that contain it must equal the truth EXACTLY (bytes written, bytes
requested, calls, failed calls). This holds launched (-- cmd) and attached
(-p); --by-file must name each file (the file is the leaf frame), --path must
keep only the matching files and say how many calls it left out, the stacks
without -g are one syscall frame, -i prints live tables, and perf stat counts
the same syscalls. No run may leave a probe in the kernel.
"""

import fnmatch
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import iowrite_util as iu  # noqa: E402

TOP = ["--top", "1000"]


def run_launch(d, extra, writer_args=(), name="launch", timeout=60):
    """`stackprof iowrite EXTRA --top 1000 -o F -- writer DIR --truth T ARGS`:
    (result, report, stacks, truth, files dir)."""
    out = sptest.output_path(d, name)
    truth_path = os.path.join(d, name + ".truth")
    files = iu.out_dir(d, name)
    r = iu.run(list(extra) + TOP + ["-o", out, "--"]
               + iu.writer(files, "--truth", truth_path, *writer_args), timeout=timeout)
    check(r.rc == 0, "stackprof iowrite failed", r)
    rep = iu.parse_report(r)
    iu.check_not_lost(rep, r)
    stacks = iu.parse_folded(out, r)
    truth = iu.read_truth(truth_path, r)
    iu.check_design(truth, files)
    iu.check_stray(out)
    return r, rep, stacks, truth, files


def test_launch_exact(d):
    """Launched with -g: every function exact in the table and the folded stacks; the
    by-syscall table covers the workload's calls; header = table = by-syscall = folded."""
    r, rep, stacks, truth, _ = run_launch(d, ["-g"])
    iu.check_exact(rep, stacks, truth, r)
    iu.check_syscalls_cover(rep, truth, r)
    iu.check_consistent(rep, stacks, r)
    for note in rep.notes:
        check("requested bytes count as 0" not in note,
              "every iovec array of the workload is a local, yet: %s" % note, r)


def file_matches(name, want):
    """The by-file name @name is the truth's file @want (a path, or a kind like 'pipe')."""
    kind = iu.FILE_KIND.get(want)
    return bool(kind.match(name)) if kind else name == want


def test_by_file(d):
    """--by-file: each file the workload wrote has exactly its function's numbers in the
    by-file table, and is the leaf frame of that function's stacks (table and folded)."""
    r, rep, stacks, truth, files = run_launch(d, ["-g", "--by-file"], name="byfile")
    check(rep.files is not None, "no '# by file: N files' table with --by-file", r)
    iu.check_exact(rep, stacks, truth, r)
    iu.check_consistent(rep, stacks, r)
    problems = []
    for func in iu.FUNCS:
        want_file, want = truth.file(func), truth.vals(func)
        # The file this function's calls were put under: the leaf of its stacks.
        leaves = sorted({frames[0] for _, _, _, _, _, frames in rep.table.rows
                         if iu.has_frame(frames, func)})
        folded_leaves = sorted({frames[-1] for _, frames, _ in stacks
                                if iu.has_frame(frames, func)})
        named = leaves[0] if len(leaves) == 1 else None
        row = rep.files.get(named) if named else None
        sptest.log("  %-16s truth %-24s %-14s | leaves %s | by-file %s"
                   % (func, want, want_file, leaves, row))
        if len(leaves) != 1 or not file_matches(leaves[0], want_file):
            problems.append("%s wrote to %s, but its stacks end in %s"
                            % (func, want_file, leaves))
        elif want_file in iu.FILE_KIND:
            # A kind groups every pipe (or socket) of the process: the workload's own
            # stderr is a pipe too. The function's share is exact in its stacks (checked by
            # check_exact), and the row holds at least that.
            if row is None or any(row[i] < want[i] for i in range(4)):
                problems.append("%s: by-file row of %s is %s, less than the truth %s"
                                % (func, named, row, want))
        elif row != want:
            problems.append("%s: by-file row of %s is %s, truth %s" % (func, named, row, want))
        if want[iu.W] and folded_leaves != leaves:
            problems.append("%s: the folded stacks end in %s, the table's in %s"
                            % (func, folded_leaves, leaves))
    check(not problems, "--by-file:\n  %s\n  truth:\n%s\n  by-file table:\n%s\n  folded:\n%s"
          % ("\n  ".join(problems), truth.describe(),
             "\n".join("    %s %s" % (v, n) for n, v in rep.files.items()),
             iu.summary(stacks, 24)), r)


def attach_exact(d, how, by_file=False):
    """@how (-p or -t) attached while writer sleeps its delay, then it writes: every
    function exact, and stackprof ends by itself when its target exits."""
    delay = 2.0
    out = sptest.output_path(d, "attach")
    truth_path = os.path.join(d, "attach.truth")
    files = iu.out_dir(d, "attach")
    with sptest.Proc(iu.writer(files, "--delay", delay, "--truth", truth_path),
                     capture=True) as target:
        started = time.monotonic()
        args = ["-g", how, target.pid] + (["--by-file"] if by_file else [])
        with sptest.Proc(iu.stackprof(args + TOP + ["-o", out]), capture=True) as sp:
            n = iu.wait_attached(sp)
            attached = time.monotonic() - started
            sptest.log("  stackprof holds %d perf events %.2f s after writer started"
                       % (n, attached))
            check(attached < delay - 0.2,
                  "stackprof took %.2f s to attach, writer writes after %.1f s: raise the "
                  "delay or find what is slow" % (attached, delay))
            tr = target.finish(timeout=30)
            check(tr.rc == 0, "writer failed", tr)
            r = sp.finish(timeout=30)
    iu.check_no_probes_of(sp.pid, r)
    check(r.rc == 0, "stackprof iowrite %s failed (it should end when its target exits)" % how,
          r)
    rep = iu.parse_report(r)
    iu.check_not_lost(rep, r)
    stacks = iu.parse_folded(out, r)
    truth = iu.read_truth(truth_path, r)
    iu.check_design(truth, files)
    iu.check_exact(rep, stacks, truth, r)
    iu.check_syscalls_cover(rep, truth, r)
    iu.check_consistent(rep, stacks, r)
    if by_file:
        for func in iu.FUNCS:
            want = truth.file(func)
            got = rep.files.get(want) if want not in iu.FILE_KIND else None
            if want not in iu.FILE_KIND and want.startswith("/"):
                check(got == truth.vals(func), "%s: by-file row of %s is %s, truth %s"
                      % (how, want, got, truth.vals(func)), r)


def test_attach_exact(d):
    """-p: attached before the writes; exact; the files it opens after the attach named."""
    attach_exact(d, "-p", by_file=True)


def test_thread_exact(d):
    """-t on writer's only thread: no inheritance, the same exact numbers."""
    attach_exact(d, "-t")


def test_path(d):
    """--path 'DIR/p*' --by-file: only plain.out, positional.out and pvectored.out, exact;
    every other call of the process (counted by a run without --path) is left out, and
    the report says how many."""
    r0, rep0, _, _, _ = run_launch(d, ["-g"], name="all")
    all_calls = rep0.totals[iu.C]
    files = os.path.realpath(os.path.join(d, "path.files"))
    glob = files + "/p*"
    r, rep, stacks, truth, _ = run_launch(d, ["-g", "--by-file", "--path", glob], name="path")
    iu.check_consistent(rep, stacks, r)
    kept = [f for f in iu.FUNCS
            if fnmatch.fnmatchcase(truth.file(f), glob)]
    check(kept == ["write_plain", "write_positional", "write_pvectored"],
          "the glob %s should match exactly plain.out, positional.out and pvectored.out; "
          "it matches the files of %s" % (glob, kept))
    want_files = {truth.file(f): truth.vals(f) for f in kept}
    check(rep.files == want_files, "--path %s: by-file table\n    %s\nexpected\n    %s"
          % (glob, rep.files, want_files), r)
    for func in iu.FUNCS:
        want = truth.vals(func) if func in kept else (0, 0, 0, 0)
        got = rep.table.func(func)
        check(got == want and iu.folded_bytes(stacks, func) == want[iu.W],
              "--path %s: %s has %s in the table and %d folded bytes, expected %s\n%s"
              % (glob, func, got, iu.folded_bytes(stacks, func), want,
                 iu.table_summary(rep.table)), r)
    kept_calls = sum(truth.vals(f)[iu.C] for f in kept)
    check(rep.totals[iu.C] == kept_calls, "--path: the header counts %d calls, the matching "
          "files got %d" % (rep.totals[iu.C], kept_calls), r)
    others = all_calls - kept_calls
    sptest.log("  %d calls in all (run without --path), %d to matching files, %d left out "
               "(the report says %d)" % (all_calls, kept_calls, others, rep.left_out))
    check(others >= sum(truth.vals(f)[iu.C] for f in iu.FUNCS if f not in kept),
          "the run without --path counted %d calls, fewer than the workload made" % all_calls,
          r0)
    check(rep.left_out == others,
          "the report should say '# %d calls to files --path does not match were left out' "
          "(the process made %d calls, %d to matching files); it says %s"
          % (others, all_calls, kept_calls,
             [n for n in rep.notes if "--path" in n] or "nothing"), r)


FOLDED_SYS_RE = re.compile(r"^\[(?P<sys>[a-z0-9]+)\]$")


def test_no_callchain(d):
    """Without -g a stack is one syscall frame: `writer;[pwrite64] 40960` and so on."""
    r, rep, stacks, truth, _ = run_launch(d, [], name="nog")
    iu.check_consistent(rep, stacks, r)
    by_sys = {}
    for comm, frames, b in stacks:
        m = FOLDED_SYS_RE.match(frames[0]) if len(frames) == 1 else None
        check(comm == "writer" and m,
              "without -g every folded line should be 'writer;[SYSCALL] N', got %r"
              % ";".join([comm] + frames), r)
        check(m.group("sys") not in by_sys, "[%s] appears twice in the folded file"
              % m.group("sys"), r)
        by_sys[m.group("sys")] = b
    sptest.log("  folded: %s" % by_sys)
    for syscall in ("pwrite64", "writev", "pwritev"):
        want = sum(truth.vals(f)[iu.W] for f in iu.FUNCS if iu.syscall_of(f) == syscall)
        check(by_sys.get(syscall) == want, "folded [%s] is %s, the workload wrote %d with it"
              % (syscall, by_sys.get(syscall), want), r)
    want = sum(truth.vals(f)[iu.W] for f in iu.FUNCS if iu.syscall_of(f) == "write")
    check(by_sys.get("write", 0) >= want, "folded [write] is %s, the workload wrote %d with it"
          % (by_sys.get("write"), want), r)
    for w, _, _, _, _, frames in rep.table.rows:
        check(len(frames) == 1 and FOLDED_SYS_RE.match(frames[0]),
              "without -g a table stack should be one [SYSCALL] frame: %s"
              % " <- ".join(frames), r)


def test_interval_live(d):
    """-i 0.2 while writer waits 0.5 s, writes, and holds 0.5 s: live tables, which together
    hold every function's calls, and a final report still exact."""
    r, rep, stacks, truth, _ = run_launch(d, ["-g", "-i", 0.2], ["--delay", 0.5, "--hold", 0.5],
                                          name="live")
    check(rep.live, "no '# iowrite live' table in a run of ~1 s with -i 0.2", r)
    sptest.log("  %d live tables" % len(rep.live))
    for line, totals, table in rep.live:
        check(table.total() == totals or (not table.rows and totals[iu.C] == 0),
              "live table '%s' sums to %s" % (line, table.total()), r)
    for func in iu.FUNCS:
        got = tuple(sum(t.func(func)[i] for _, _, t in rep.live) for i in range(4))
        check(got == truth.vals(func), "the live tables together give %s %s, truth %s"
              % (func, got, truth.vals(func)), r)
    iu.check_exact(rep, stacks, truth, r)
    iu.check_consistent(rep, stacks, r)


# ---------------------------------------------------------------- perf as a second witness

PERF_SYSCALLS = ["pwrite64", "writev", "pwritev"]


def test_perf_agrees_on_calls(d):
    """perf stat counts the entries of pwrite64, writev and pwritev of the same (deterministic)
    workload: stackprof's by-syscall calls are the same numbers."""
    if not sptest.have_perf():
        sptest.skip("perf is not installed")
    files = iu.out_dir(d, "perf")
    stat = os.path.join(d, "perf.stat")
    events = ",".join("syscalls:sys_enter_%s" % s for s in PERF_SYSCALLS)
    r = sptest.run(["perf", "stat", "-x", ",", "-o", stat, "-e", events, "--"]
                   + iu.writer(files), timeout=60)
    check(r.rc == 0, "perf stat failed", r)
    perf = {}
    with open(stat) as f:
        text = f.read()
    for line in text.split("\n"):
        parts = line.split(",")
        if len(parts) >= 3:
            m = re.match(r"^syscalls:sys_enter_(\w+)$", parts[2])
            if m and m.group(1) in PERF_SYSCALLS:
                check(parts[0].isdigit(), "perf stat could not count %s: %r" % (parts[2], line))
                perf[m.group(1)] = int(parts[0])
    check(set(perf) == set(PERF_SYSCALLS), "perf stat output lacks some of %s:\n%s"
          % (PERF_SYSCALLS, text))
    _, rep, _, truth, _ = run_launch(d, [], name="stackprof")
    mine = {s: rep.syscalls.get(s, (0, 0, 0, 0))[iu.C] for s in PERF_SYSCALLS}
    sptest.log("  perf stat %s | stackprof %s" % (perf, mine))
    check(mine == perf, "calls by syscall: stackprof %s, perf stat %s" % (mine, perf))
    for s in PERF_SYSCALLS:
        check(perf[s] >= truth.syscall_calls(s), "perf counts %d %s calls, the workload made %d"
              % (perf[s], s, truth.syscall_calls(s)))


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_launch_exact, test_by_file, test_attach_exact, test_thread_exact,
                 test_path, test_no_callchain, test_interval_live, test_perf_agrees_on_calls])

"""Helpers for the iowrite tests: report and folded parsers, the writer
workload's truth, runs of stackprof that check they leave no probe behind,
and the exact comparisons.

Report (stdout):
  [# iowrite live N: W bytes written of R requested in C calls (F failed) over S s (values in bytes)
   + its stack table, one per -i interval]
  # iowrite: W bytes written of R requested in C calls (F failed) over S s (values in bytes)
  [# lost ...]
  WRITTEN(B) REQUESTED(B)      CALLS     FAILED       % COMM            STACK
       (rows: written requested calls failed pct% comm leaf <- ... <- root)
  # by syscall
    WRITTEN(B) REQUESTED(B)      CALLS     FAILED SYSCALL
  [# by file: N files
    WRITTEN(B) REQUESTED(B)      CALLS     FAILED FILE]          (--by-file)
  [# notes ...]
Folded (-o): `comm;root;...;leaf WRITTEN`; with --by-file the file is the leaf.
"""

import os
import re
import time

import sptest
from sptest import check
from sptest import frame_is, has_frame, parse_folded  # noqa: F401 (used by the tests)

folded_bytes = sptest.folded_sum

_TOTALS = (r"(?P<written>\d+) bytes written of (?P<requested>\d+) requested in (?P<calls>\d+) "
           r"calls \((?P<failed>\d+) failed\) over (?P<secs>[0-9.]+) s \(values in bytes\)"
           r"(?P<approx>(?: \[approximate: [^\]]*\])?)\s*$")
HEADER_RE = re.compile(r"^# iowrite: " + _TOTALS)
LIVE_RE = re.compile(r"^# iowrite live (?P<n>\d+): " + _TOTALS)
LOST_RE = re.compile(r"^# lost\b")
COLUMNS_RE = re.compile(
    r"^\s*WRITTEN\(B\)\s+REQUESTED\(B\)\s+CALLS\s+FAILED\s+%\s+COMM\s+STACK\s*$")
ROW_RE = re.compile(r"^\s*(?P<w>\d+)\s+(?P<r>\d+)\s+(?P<c>\d+)\s+(?P<f>\d+)\s+(?P<pct>[0-9.]+)%\s+"
                    r"(?P<comm>\S+)\s+(?P<stack>.*)$")
BY_SYSCALL_RE = re.compile(r"^# by syscall\s*$")
BY_FILE_RE = re.compile(r"^# by file: (?P<n>\d+) files?\s*$")
SIDE_COLUMNS_RE = re.compile(
    r"^\s*WRITTEN\(B\)\s+REQUESTED\(B\)\s+CALLS\s+FAILED\s+(?P<what>SYSCALL|FILE)\s*$")
SIDE_ROW_RE = re.compile(r"^\s*(?P<w>\d+)\s+(?P<r>\d+)\s+(?P<c>\d+)\s+(?P<f>\d+) (?P<name>.+)$")
MORE_FILES_RE = re.compile(r"^\.\.\. (?P<n>\d+) more files?\s*$")
LEFT_OUT_RE = re.compile(r"^# (?P<n>\d+) calls to files --path does not match were left out\s*$")

# The writer workload's functions, in the order it runs them, and what each is built to do:
# (written, requested, calls, failed).
FUNCS = ["write_plain", "write_positional", "write_vectored", "write_pvectored", "write_devnull",
         "write_pipe", "write_socket", "write_badfd", "write_short"]
DESIGN = {
    "write_plain": (37000, 37000, 37, 0),
    "write_positional": (40960, 40960, 20, 0),
    "write_vectored": (15000, 15000, 25, 0),
    "write_pvectored": (10240, 10240, 10, 0),
    "write_devnull": (25600, 25600, 50, 0),
    "write_pipe": (1000, 1000, 10, 0),
    "write_socket": (320, 320, 5, 0),
    "write_badfd": (0, 700, 7, 7),
    "write_short": (10000, 16384, 4, 1),
}
# The syscall each function makes.
SYSCALL = {"write_positional": "pwrite64", "write_vectored": "writev",
           "write_pvectored": "pwritev"}
# The file each function writes to, relative to the workload's DIR (the rest: see FILE_KIND).
OUT_FILES = {"write_plain": "plain.out", "write_positional": "positional.out",
             "write_vectored": "vectored.out", "write_pvectored": "pvectored.out",
             "write_short": "short.out"}
# How /proc names the other files: the truth's FILE -> a pattern of the name.
FILE_KIND = {"pipe": re.compile(r"^pipe:$"), "socket": re.compile(r"^socket:$")}

TRACING_DIRS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

W, R, C, F = range(4)


def syscall_of(func):
    return SYSCALL.get(func, "write")


# ---------------------------------------------------------------- report

class Table:
    """Stack table rows [(written, requested, calls, failed, comm, [leaf, ..., root])]."""

    def __init__(self):
        self.rows = []
        self.has_columns = False

    def sums(self, pred):
        """(written, requested, calls, failed) over the rows whose frames satisfy @pred."""
        s = [0, 0, 0, 0]
        for row in self.rows:
            if pred(row[5]):
                for i in range(4):
                    s[i] += row[i]
        return tuple(s)

    def func(self, func):
        return self.sums(lambda frames: has_frame(frames, func))

    def total(self):
        return self.sums(lambda frames: True)


class Report:
    def __init__(self):
        self.header_line = None
        self.totals = None  # (written, requested, calls, failed)
        self.secs = None
        self.lost_lines = []
        self.table = Table()
        self.syscalls = {}  # name -> (written, requested, calls, failed)
        self.files = None  # name -> (...), with --by-file
        self.nr_files = None
        self.more_files = 0
        self.notes = []
        self.left_out = 0
        self.live = []  # [(header line, totals, Table)]


def _totals(m):
    return tuple(int(m.group(k)) for k in ("written", "requested", "calls", "failed"))


def _parse_rows(lines, table):
    for line in lines:
        if COLUMNS_RE.match(line):
            table.has_columns = True
            continue
        m = ROW_RE.match(line)
        if m and table.has_columns:
            table.rows.append((int(m.group("w")), int(m.group("r")), int(m.group("c")),
                               int(m.group("f")), m.group("comm"),
                               m.group("stack").split(" <- ")))


def parse_report(result):
    """The final report and the live tables before it; fails if malformed."""
    lines = result.out.split("\n")
    rep = Report()
    start = None
    live_starts = []
    for i, line in enumerate(lines):
        if LIVE_RE.match(line):
            live_starts.append(i)
        if HEADER_RE.match(line):
            start = i
    check(start is not None,
          "no '# iowrite: W bytes written of R requested in C calls (F failed) over S s "
          "(values in bytes)' line on stdout", result)
    m = HEADER_RE.match(lines[start])
    rep.header_line = lines[start]
    rep.totals = _totals(m)
    rep.secs = float(m.group("secs"))
    section, stack_lines = "stacks", []
    for line in lines[start + 1:]:
        if LOST_RE.match(line):
            rep.lost_lines.append(line)
            continue
        if BY_SYSCALL_RE.match(line):
            section = "syscall"
            continue
        m = BY_FILE_RE.match(line)
        if m:
            section = "file"
            rep.files = {}
            rep.nr_files = int(m.group("n"))
            continue
        if line.startswith("# "):
            rep.notes.append(line)
            m = LEFT_OUT_RE.match(line)
            if m:
                rep.left_out = int(m.group("n"))
            continue
        if section == "stacks":
            stack_lines.append(line)
            continue
        if SIDE_COLUMNS_RE.match(line) or not line.strip():
            continue
        m = MORE_FILES_RE.match(line)
        if m and section == "file":
            rep.more_files = int(m.group("n"))
            continue
        m = SIDE_ROW_RE.match(line)
        check(m is not None, "unexpected line in the by-%s table: %r" % (section, line), result)
        vals = tuple(int(m.group(k)) for k in ("w", "r", "c", "f"))
        name = m.group("name")
        target = rep.syscalls if section == "syscall" else rep.files
        check(name not in target, "%s appears twice in the by-%s table" % (name, section),
              result)
        target[name] = vals
    _parse_rows(stack_lines, rep.table)
    check(rep.table.has_columns or rep.totals[C] == 0,
          "no 'WRITTEN(B) REQUESTED(B) CALLS FAILED %% COMM STACK' column header after the "
          "final report's header", result)
    for k, s in enumerate(live_starts):
        end = live_starts[k + 1] if k + 1 < len(live_starts) else start
        t = Table()
        _parse_rows(lines[s + 1:end], t)
        rep.live.append((lines[s], _totals(LIVE_RE.match(lines[s])), t))
    for line in lines[start:]:
        if line.startswith("# ") and not line.startswith("# by "):
            sptest.log("  " + line)
    return rep


def check_not_lost(rep, result):
    """Exact counts need every event: a `# lost` line, or a call whose entry or exit went
    missing, fails the test."""
    check(not rep.lost_lines,
          "events were lost (%s): the exact checks cannot hold; stackprof must keep up with "
          "this workload at the default buffer size" % (rep.lost_lines or [""])[0], result)
    for note in rep.notes:
        check("lost their exit event" not in note and "still in progress" not in note,
              "the report says '%s': every call of a finished process pairs up" % note, result)


def check_consistent(rep, stacks, result):
    """Header = stack table sum = by-syscall sum (= by-file sum); folded bytes = header bytes
    (the table is not cut with --top 1000)."""
    check(rep.table.total() == rep.totals,
          "the stack table sums to %s but the header says %s" % (rep.table.total(), rep.totals),
          result)
    sys_sum = tuple(sum(v[i] for v in rep.syscalls.values()) for i in range(4))
    check(sys_sum == rep.totals, "the by-syscall table sums to %s but the header says %s"
          % (sys_sum, rep.totals), result)
    if rep.files is not None:
        check(not rep.more_files and len(rep.files) == rep.nr_files,
              "the by-file table says %d files but lists %d (and %d more)"
              % (rep.nr_files, len(rep.files), rep.more_files), result)
        file_sum = tuple(sum(v[i] for v in rep.files.values()) for i in range(4))
        check(file_sum == rep.totals, "the by-file table sums to %s but the header says %s"
              % (file_sum, rep.totals), result)
    if stacks is not None:
        check(sptest.total(stacks) == rep.totals[W],
              "folded bytes sum to %d but the header says %d written"
              % (sptest.total(stacks), rep.totals[W]), result)


# ---------------------------------------------------------------- folded









def summary(stacks, limit=16):
    top = sorted(stacks, key=lambda s: -s[2])[:limit]
    return "\n".join("    %8d %s" % (b, ";".join([c] + f)) for c, f, b in top) or "    (none)"


def table_summary(table, limit=16):
    return "\n".join("    %8d %8d %5d %4d %s" % (w, r, c, f, " <- ".join(fr))
                     for w, r, c, f, _, fr in table.rows[:limit]) or "    (none)"


def check_stray(folded_path):
    """Nothing but the folded file in its directory (the write is atomic)."""
    d = os.path.dirname(folded_path)
    leftovers = sorted(set(os.listdir(d)) - {os.path.basename(folded_path)})
    check(not leftovers, "stray files next to the output (non-atomic write?): %s" % leftovers)


# ---------------------------------------------------------------- truth

class WriterTruth:
    """What each writer function's calls returned: funcs[name] = (file, (w, r, c, f))."""

    def __init__(self, text, where):
        self.funcs = {}
        self.pid = None
        for line in text.split("\n"):
            parts = line.split()
            if parts[:2] == ["writer:", "truth"] and len(parts) >= 8:
                # The file name may hold spaces ("[fd 1000]"): it is what lies between.
                self.funcs[parts[2]] = (" ".join(parts[3:-4]),
                                        tuple(int(x) for x in parts[-4:]))
            elif parts[:2] == ["writer:", "pid"] and len(parts) == 3:
                self.pid = int(parts[2])
        check(set(self.funcs) == set(FUNCS) and self.pid,
              "no complete truth from writer in %s:\n%s" % (where, text))

    def vals(self, func):
        return self.funcs[func][1]

    def file(self, func):
        return self.funcs[func][0]

    def syscall_calls(self, syscall):
        return sum(self.vals(f)[C] for f in FUNCS if syscall_of(f) == syscall)

    def describe(self):
        return "\n".join("    %-16s %s %s" % (f, v, name) for f, (name, v) in self.funcs.items())


def read_truth(path, result=None):
    check(os.path.isfile(path), "writer wrote no truth file %s" % path, result)
    with open(path) as f:
        return WriterTruth(f.read(), path)


def writer(*args):
    return [sptest.workload("writer")] + [str(a) for a in args]


def out_dir(d, name):
    """A fresh directory for the workload's files; absolute and resolved, as /proc names it."""
    path = os.path.realpath(os.path.join(d, name + ".files"))
    os.makedirs(path, exist_ok=True)
    return path


def check_design(truth, files_dir):
    """The workload did what it is built to do (so a workload bug is not taken for a
    stackprof one): the designed numbers, and the files it says it wrote."""
    for func in FUNCS:
        check(truth.vals(func) == DESIGN[func],
              "writer's %s returned %s (written, requested, calls, failed), it is built for %s"
              "\n%s" % (func, truth.vals(func), DESIGN[func], truth.describe()))
    for func, name in OUT_FILES.items():
        path = os.path.join(files_dir, name)
        check(truth.file(func) == path, "writer says %s wrote %s, expected %s"
              % (func, truth.file(func), path))
        size = os.path.getsize(path)
        check(size == DESIGN[func][W], "%s is %d bytes, %s wrote %d" % (path, size, func,
                                                                         DESIGN[func][W]))
    check(truth.file("write_devnull") == "/dev/null" and truth.file("write_badfd") == "[fd 1000]"
          and truth.file("write_pipe") == "pipe" and truth.file("write_socket") == "socket",
          "writer names the wrong files:\n%s" % truth.describe())


def check_exact(rep, stacks, truth, result):
    """Per writer function, the stack table rows that contain it sum to the truth's
    (written, requested, calls, failed), and the folded stacks that contain it to its
    written bytes."""
    for func in FUNCS:
        want = truth.vals(func)
        got = rep.table.func(func)
        got_f = folded_bytes(stacks, func)
        sptest.log("  %-16s truth %-24s table %-24s folded %6d"
                   % (func, want, got, got_f))
        check(got == want and got_f == want[W],
              "%s: truth %s (written, requested, calls, failed); table %s, folded %d bytes\n"
              "  folded:\n%s\n  table:\n%s"
              % (func, want, got, got_f, summary(stacks), table_summary(rep.table)), result)


def check_syscalls_cover(rep, truth, result):
    """The by-syscall table counts at least the truth's calls of each syscall (the process
    also writes its truth lines with write)."""
    for syscall in ("write", "pwrite64", "writev", "pwritev"):
        want = truth.syscall_calls(syscall)
        got = rep.syscalls.get(syscall, (0, 0, 0, 0))[C]
        check(got >= want, "by syscall: %d %s calls, the workload made %d"
              % (got, syscall, want), result)


# ---------------------------------------------------------------- kernel state

def probe_event_lines():
    """The lines of kprobe_events and uprobe_events, wherever tracefs is mounted."""
    lines = []
    for d in TRACING_DIRS:
        for name in ("kprobe_events", "uprobe_events"):
            try:
                with open(os.path.join(d, name)) as f:
                    lines += [x for x in f.read().split("\n") if x.strip()]
            except OSError:
                pass
    return lines


def check_no_probes_of(pid, result=None):
    """No kprobe or uprobe of group stackprof_<pid> is left in the kernel."""
    pat = re.compile(r"\bstackprof_%d/" % pid)
    left = [x for x in probe_event_lines() if pat.search(x)]
    check(not left, "stackprof %d left probes in the kernel:\n%s"
          % (pid, "\n".join("    " + x for x in left)), result)


# ---------------------------------------------------------------- runs

def stackprof(args):
    return [sptest.STACKPROF, "iowrite"] + [str(a) for a in args]


def run(args, timeout=60):
    """Runs `stackprof iowrite ARGS` to its end; checks it left no probe. Returns the Result."""
    with sptest.Proc(stackprof(args), capture=True) as sp:
        r = sp.finish(timeout=timeout)
    check_no_probes_of(sp.pid, r)
    return r


wait_attached = sptest.wait_attached


def check_error(d, args, mentions=None, out=None, timeout=30):
    """`stackprof iowrite -o OUT ARGS`: the error contract (sptest.check_error_contract),
    and no probe left behind. OUT is D/out.folded unless given."""
    out = out or os.path.join(d, "out.folded")
    with sptest.Proc(stackprof(["-o", out] + list(args)), capture=True) as sp:
        r = sp.finish(timeout=timeout)
    sptest.check_error_contract(r, d, out, mentions=mentions or ())
    check_no_probes_of(sp.pid, r)
    return r

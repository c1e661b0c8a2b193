"""Helpers for the memleak tests: report and folded parsers, the leaker
workload's truth, tracefs uprobe_events bookkeeping, attach detection and the
error contract.

Report (stdout):
  [# memleak live N: ...   + its table, one per -i interval]
  # memleak: BYTES bytes outstanding in N allocations over SECS s (values in bytes)[ older than DUR]
  [# lost ...]
  [# memleak totals: A allocations, F frees, AB bytes allocated, FB bytes freed,
                     U frees of unknown pointers]            (with -v; one line)
       BYTES      COUNT       % COMM  STACK      (rows: bytes count pct% comm leaf <- ... <- root)
Folded (-o): `comm;root;...;leaf BYTES`.
"""

import os
import re
import subprocess
import time

import sptest
from sptest import check
from sptest import frame_is, has_frame, parse_folded  # noqa: F401 (used by the tests)

folded_bytes = sptest.folded_sum

HEADER_RE = re.compile(
    r"^# memleak: (?P<bytes>\d+) bytes outstanding in (?P<n>\d+) allocations over "
    r"(?P<secs>[0-9.]+) s \(values in bytes\)(?P<rest>.*)$")
LIVE_RE = re.compile(r"^# memleak live\b")
LOST_RE = re.compile(r"^# lost\b")
TOTALS_RE = re.compile(
    r"^# memleak totals: (?P<allocs>\d+) allocations, (?P<frees>\d+) frees, "
    r"(?P<bytes_allocated>\d+) bytes allocated, (?P<bytes_freed>\d+) bytes freed, "
    r"(?P<unknown>\d+) frees of unknown pointers\s*$")
COLUMNS_RE = re.compile(r"^\s*BYTES\s+COUNT\s+%\s+COMM\s+STACK\s*$")
ROW_RE = re.compile(r"^\s*(?P<bytes>\d+)\s+(?P<count>\d+)\s+(?P<pct>[0-9.]+)%\s+(?P<comm>\S+)"
                    r"\s+(?P<stack>.*)$")

# The leaker workload's functions, in the order it runs them.
LEAK_FUNCS = ["leak_malloc", "leak_calloc", "leak_realloc", "leak_memalign", "leak_aligned"]
CHURN_FUNCS = ["churn", "thread_churn", "churn_steps", "churn_drain"]
THREAD_FUNC = "thread_leak"

UPROBE_EVENTS = "/sys/kernel/tracing/uprobe_events"


class Table:
    """Rows [(bytes, count, pct, comm, [leaf, ..., root])] after one column header."""

    def __init__(self):
        self.rows = []
        self.has_columns = False

    def bytes_count(self, func):
        """(bytes, count) summed over the rows whose stack contains @func."""
        b = n = 0
        for r_b, r_n, _, _, frames in self.rows:
            if has_frame(frames, func):
                b += r_b
                n += r_n
        return b, n

    def total(self):
        return sum(r[0] for r in self.rows), sum(r[1] for r in self.rows)


class Report:
    def __init__(self):
        self.bytes = self.n = self.secs = None
        self.rest = ""
        self.header_line = None
        self.lost_lines = []
        self.totals = None  # dict from the -v line
        self.table = Table()
        self.live = []  # [(header line, Table)]


def _parse_table(lines, table):
    for line in lines:
        if COLUMNS_RE.match(line):
            table.has_columns = True
            continue
        m = ROW_RE.match(line)
        if m and table.has_columns:
            table.rows.append((int(m.group("bytes")), int(m.group("count")),
                               float(m.group("pct")), m.group("comm"),
                               m.group("stack").split(" <- ")))


def parse_report(result):
    """The final report (after any `# memleak live` tables) and the live tables; fails if
    malformed."""
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
          "no '# memleak: BYTES bytes outstanding in N allocations over S s (values in bytes)' "
          "line on stdout", result)
    m = HEADER_RE.match(lines[start])
    rep.header_line = lines[start]
    rep.bytes, rep.n, rep.secs = int(m.group("bytes")), int(m.group("n")), float(m.group("secs"))
    rep.rest = m.group("rest")
    body = []
    for line in lines[start + 1:]:
        if LOST_RE.match(line):
            rep.lost_lines.append(line)
            continue
        m = TOTALS_RE.match(line)
        if m:
            rep.totals = {k: int(v) for k, v in m.groupdict().items()}
            continue
        body.append(line)
    _parse_table(body, rep.table)
    check(rep.table.has_columns or rep.n == 0,
          "no '     BYTES      COUNT       % COMM  STACK' column header after the final "
          "report's header", result)
    for k, s in enumerate(live_starts):
        end = live_starts[k + 1] if k + 1 < len(live_starts) else start
        t = Table()
        _parse_table(lines[s + 1:end], t)
        rep.live.append((lines[s], t))
    for line in lines[start:]:
        if line.startswith("# "):
            sptest.log("  " + line)
    return rep


def check_not_lost(rep, result):
    """Exact counts need every event: a `# lost` line fails the test (and must be warned of)."""
    if not rep.lost_lines:
        return
    check(re.search(r"lost|inexact", result.err, re.I),
          "stdout reports '%s' but stderr carries no warning about it" % rep.lost_lines[0],
          result)
    sptest.fail("events were lost (%s): the exact checks cannot hold; stackprof must keep up "
                "with this workload at the default buffer size" % rep.lost_lines[0], result)


# ---------------------------------------------------------------- folded









def summary(stacks, limit=12):
    top = sorted(stacks, key=lambda s: -s[2])[:limit]
    return "\n".join("    %10d B %s" % (b, ";".join([c] + f)) for c, f, b in top) or "    (none)"


def table_summary(table, limit=12):
    return "\n".join("    %10d B %6d %s" % (b, n, " <- ".join(f))
                     for b, n, _, _, f in table.rows[:limit]) or "    (none)"


def check_stray(folded_path):
    """Nothing but the folded file in its directory (the write is atomic)."""
    d = os.path.dirname(folded_path)
    leftovers = sorted(set(os.listdir(d)) - {os.path.basename(folded_path)})
    check(not leftovers, "stray files next to the output (non-atomic write?): %s" % leftovers)


# ---------------------------------------------------------------- truth

class LeakerTruth:
    """What leaker left allocated: funcs[name] = (bytes, count); its calls and pid."""

    def __init__(self, text, where):
        self.funcs = {}
        self.calls = None
        self.pid = None
        for line in text.split("\n"):
            parts = line.split()
            if parts[:2] == ["leaker:", "truth"] and len(parts) == 5:
                self.funcs[parts[2]] = (int(parts[3]), int(parts[4]))
            elif parts[:2] == ["leaker:", "calls"] and len(parts) == 6:
                self.calls = dict(zip(("allocs", "frees", "bytes_allocated", "bytes_freed"),
                                      (int(x) for x in parts[2:])))
            elif parts[:2] == ["leaker:", "pid"] and len(parts) == 3:
                self.pid = int(parts[2])
        check(set(self.funcs) >= set(LEAK_FUNCS + ["churn", THREAD_FUNC]) and self.calls
              and self.pid, "no complete truth from leaker in %s:\n%s" % (where, text))

    def bytes(self, func):
        return self.funcs[func][0]

    def count(self, func):
        return self.funcs[func][1]

    def leaked(self):
        """(bytes, count) over every leaking function."""
        return (sum(b for b, _ in self.funcs.values()), sum(n for _, n in self.funcs.values()))

    def describe(self):
        return ", ".join("%s %d B in %d" % (f, b, n) for f, (b, n) in self.funcs.items())


def read_truth(path, result=None):
    check(os.path.isfile(path), "leaker wrote no truth file %s" % path, result)
    with open(path) as f:
        return LeakerTruth(f.read(), path)


def leaker(*args):
    return [sptest.workload("leaker")] + [str(a) for a in args]


def check_exact(rep, stacks, truth, result, threads=0):
    """Per leaking function, the bytes of the folded stacks and the bytes and count of the
    table rows that contain it equal the truth exactly; the churn is absent."""
    funcs = LEAK_FUNCS + ([THREAD_FUNC] if threads else [])
    for func in funcs:
        want_b, want_n = truth.bytes(func), truth.count(func)
        check(want_b > 0, "leaker's truth has no leak for %s: %s" % (func, truth.describe()))
        got_f = folded_bytes(stacks, func)
        got_b, got_n = rep.table.bytes_count(func)
        sptest.log("  %-14s truth %6d B in %4d | table %6d B in %4d | folded %6d B"
                   % (func, want_b, want_n, got_b, got_n, got_f))
        check(got_f == want_b and got_b == want_b and got_n == want_n,
              "%s: truth %d bytes in %d allocations; table %d bytes in %d, folded %d bytes\n"
              "  folded:\n%s\n  table:\n%s"
              % (func, want_b, want_n, got_b, got_n, got_f, summary(stacks),
                 table_summary(rep.table)), result)
        for b, n, _, _, frames in rep.table.rows:
            if has_frame(frames, func):
                check(frame_is(frames[0], func),
                      "%s called the allocator itself, so it must be the leaf frame, but a "
                      "row's stack is %s" % (func, " <- ".join(frames)), result)
    if not threads:
        check(not rep.table.bytes_count(THREAD_FUNC)[1] and not folded_bytes(stacks, THREAD_FUNC),
              "thread_leak shows up without --threads", result)
    for func in CHURN_FUNCS:
        check(not folded_bytes(stacks, func) and not rep.table.bytes_count(func)[1],
              "%s frees all it allocates but shows %d bytes outstanding (table %s)\n%s"
              % (func, folded_bytes(stacks, func), rep.table.bytes_count(func), summary(stacks)),
              result)
    want_b, want_n = truth.leaked()
    check(rep.bytes >= want_b and rep.n >= want_n,
          "the header says %d bytes in %d allocations, less than leaker's %d bytes in %d"
          % (rep.bytes, rep.n, want_b, want_n), result)


def check_consistent(rep, stacks, folded_path, result):
    """Header = folded sum = table sum (the table is not cut with --top 1000)."""
    check(sptest.total(stacks) == rep.bytes,
          "folded bytes sum to %d but the header says %d" % (sptest.total(stacks), rep.bytes),
          result)
    tb, tn = rep.table.total()
    check((tb, tn) == (rep.bytes, rep.n),
          "table rows sum to %d bytes in %d allocations but the header says %d in %d"
          % (tb, tn, rep.bytes, rep.n), result)
    check_stray(folded_path)


# ---------------------------------------------------------------- tracefs

class Tracefs:
    """Makes sure tracefs is mounted at /sys/kernel/tracing for the with-block; unmounts
    it afterwards only if this mounted it."""

    def __init__(self):
        self.mounted = False

    def __enter__(self):
        if not os.path.exists(UPROBE_EVENTS):
            if not os.path.isdir("/sys/kernel/tracing"):
                sptest.skip("no /sys/kernel/tracing directory")
            r = subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=30)
            if r.returncode != 0:
                sptest.skip("cannot mount tracefs: %s" % r.stdout.strip())
            self.mounted = True
            sptest.log("mounted tracefs at /sys/kernel/tracing")
        if not os.path.exists(UPROBE_EVENTS):
            sptest.skip("this kernel has no %s (CONFIG_UPROBE_EVENTS)" % UPROBE_EVENTS)
        return self

    def __exit__(self, *exc):
        if self.mounted:
            subprocess.run(["umount", "/sys/kernel/tracing"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            sptest.log("unmounted tracefs")
        return False


def uprobe_events():
    """The lines of uprobe_events ([] if tracefs is not mounted)."""
    try:
        with open(UPROBE_EVENTS) as f:
            return [line for line in f.read().split("\n") if line.strip()]
    except FileNotFoundError:
        return []


def _group_pid(line):
    m = re.match(r"^[pr]:stackprof_(\d+)/", line)
    return int(m.group(1)) if m else None


def stackprof_groups(lines, pid=None):
    """The lines of @lines in a group stackprof_<pid> (any pid if None)."""
    return [line for line in lines
            if _group_pid(line) is not None and (pid is None or _group_pid(line) == pid)]


def _stackprof_running(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip() == "stackprof"
    except OSError:
        return False


def remove_group(pid):
    """Removes what is left of group stackprof_<pid> (a test cleaning up after a failure)."""
    for line in stackprof_groups(uprobe_events(), pid):
        name = line.split()[0].split(":", 1)[1]
        try:
            # One write(2) per command, with O_APPEND (not O_TRUNC, which clears every probe).
            fd = os.open(UPROBE_EVENTS, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, ("-:%s\n" % name).encode())
            finally:
                os.close(fd)
        except OSError as e:
            sptest.log("  cannot remove %s: %s" % (name, e))


def _show(lines):
    return "\n".join("    " + x for x in lines) or "    (empty)"


def check_events_unchanged(before, what, result=None, gone=()):
    """uprobe_events holds what it held in @before, give or take the groups of stackprof
    runs still going (another run on this machine): every other line is as it was, no
    group of a finished stackprof appeared, and the groups of the pids in @gone are gone."""
    after = uprobe_events()
    others_b = [x for x in before if _group_pid(x) is None]
    others_a = [x for x in after if _group_pid(x) is None]
    new = [x for x in stackprof_groups(after)
           if x not in before and not _stackprof_running(_group_pid(x))]
    left = [x for x in after if _group_pid(x) in set(gone)]
    check(others_a == others_b and not new and not left,
          "uprobe_events changed %s:\n  before:\n%s\n  after:\n%s"
          % (what, _show(before), _show(after)), result)
    live = [x for x in stackprof_groups(after) if x not in before]
    if live:
        sptest.log("  (ignored: %d uprobe events of stackprof runs still going: %s)"
                   % (len(live), sorted({_group_pid(x) for x in live})))


# ---------------------------------------------------------------- attach

wait_attached = sptest.wait_attached


# ---------------------------------------------------------------- errors

def check_error(d, args, mentions=None, mentions_all=(), timeout=30):
    """`stackprof memleak -o OUT ARGS`: the error contract (sptest.check_error_contract),
    and uprobe_events as it was."""
    out = os.path.join(d, "out.folded")
    before = uprobe_events()
    argv = [sptest.STACKPROF, "memleak", "-o", out] + [str(a) for a in args]
    r = sptest.run(argv, timeout=timeout)
    sptest.check_error_contract(r, d, out, mentions=mentions or (), mentions_all=mentions_all)
    check_events_unchanged(before, "by a failed run", r)
    return r

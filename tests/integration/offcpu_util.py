"""Helpers for the offcpu tests: report and folded parsers, workload truths, a
perf-script reference for blocked time, and the error contract.

Report (stdout):
  # offcpu: TOTAL us off-CPU in N blockings over SECS s (states LIST; values in microseconds)
  [# lost ...]
    TIME(us)  COUNT  %  COMM  STACK            (rows: us count pct% comm leaf <- ... <- root)
  [# offcpu run-queue wait: TOTAL us in N preemptions   + its table]   (--state with R)
  [# still blocked at the end: ...]
Folded: `comm;root;...;leaf US`, run-queue stacks `comm;[runqueue];root;...;leaf US`.
"""

import os
import re
import shutil

import sptest
from sptest import check
from sptest import frame_is, has_frame  # noqa: F401 (used by the tests)

RUNQ_FRAME = "[runqueue]"

HEADER_RE = re.compile(
    r"^# offcpu: (?P<total>\d+) us off-CPU in (?P<n>\d+) blockings over (?P<secs>[0-9.]+) s"
    r"(?: \(states (?P<states>[^;)]*)(?P<rest>[^)]*)\))?")
RUNQ_RE = re.compile(r"^# offcpu run-queue wait: (?P<total>\d+) us in (?P<n>\d+) preemptions")
STILL_RE = re.compile(r"^# still blocked at the end:")
LIVE_RE = re.compile(r"^# offcpu live\b")
LOST_RE = re.compile(r"^# lost\b")
COLUMNS_RE = re.compile(r"^\s*TIME\(us\)\s+COUNT\s+%\s+COMM\s+STACK\s*$")
ROW_RE = re.compile(r"^\s*(?P<us>\d+)\s+(?P<count>\d+)\s+(?P<pct>[0-9.]+)%\s+(?P<comm>\S+)"
                    r"\s+(?P<stack>.*)$")
LOST_NUMBERS_RE = re.compile(r"lost (?P<records>\d+) records, (?P<samples>\d+) samples")


class Section:
    """One table of the final report: its totals and rows [(us, count, pct, comm, [leaf..root])]."""

    def __init__(self, total, n):
        self.total, self.n = total, n
        self.rows = []
        self.has_columns = False


class Report:
    def __init__(self):
        self.blocked = None
        self.runq = None
        self.secs = None
        self.states = None
        self.header_line = None
        self.lost_lines = []
        self.still_lines = []
        self.live_tables = 0

    def lost(self):
        """True if a `# lost` line was printed (events lost, throttled, late or undecodable)."""
        return bool(self.lost_lines)

    def lost_records(self):
        n = 0
        for line in self.lost_lines:
            m = LOST_NUMBERS_RE.search(line)
            if m:
                n += int(m.group("records")) + int(m.group("samples"))
        return n


def parse_report(result):
    """The final report on stdout (after any `# offcpu live` tables); fails if malformed."""
    lines = result.out.split("\n")
    start = None
    rep = Report()
    for i, line in enumerate(lines):
        if LIVE_RE.match(line):
            rep.live_tables += 1
        if HEADER_RE.match(line):
            start = i
    check(start is not None,
          "no '# offcpu: TOTAL us off-CPU in N blockings over S s (states ...)' line on stdout",
          result)
    m = HEADER_RE.match(lines[start])
    rep.header_line = lines[start]
    rep.blocked = Section(int(m.group("total")), int(m.group("n")))
    rep.secs = float(m.group("secs"))
    rep.states = (m.group("states") or "").strip()
    cur = rep.blocked
    for line in lines[start + 1:]:
        if LOST_RE.match(line):
            rep.lost_lines.append(line)
            continue
        m = RUNQ_RE.match(line)
        if m:
            rep.runq = cur = Section(int(m.group("total")), int(m.group("n")))
            continue
        if STILL_RE.match(line):
            rep.still_lines.append(line)
            cur = None
            continue
        if cur is None:
            if line.strip():
                rep.still_lines.append(line)
            continue
        if COLUMNS_RE.match(line):
            cur.has_columns = True
            continue
        m = ROW_RE.match(line)
        if m:
            cur.rows.append((int(m.group("us")), int(m.group("count")), float(m.group("pct")),
                             m.group("comm"), m.group("stack").split(" <- ")))
    for line in lines:
        if line.startswith("# ") and not LIVE_RE.match(line):
            sptest.log("  " + line)
    return rep


def states_set(text):
    return {c for c in text if c in "SDR"}


# ---------------------------------------------------------------- folded

def parse_folded(path, result=None):
    """(blocked, runq): lists of (comm, [root..leaf], us); runq frames lose their [runqueue]."""
    blocked, runq = [], []
    for comm, frames, us in sptest.parse_folded(path, result):
        if frames and frames[0] == RUNQ_FRAME:
            check(len(frames) >= 1, "%s: empty run-queue stack" % path, result)
            runq.append((comm, frames[1:], us))
        else:
            check(RUNQ_FRAME not in frames,
                  "%s: %s appears other than right after comm: %s"
                  % (path, RUNQ_FRAME, ";".join([comm] + frames)), result)
            blocked.append((comm, frames, us))
    return blocked, runq






def time_in(stacks, func=None, comm=None, exclude=None):
    """Microseconds of the stacks that contain @func (and belong to @comm), minus @exclude."""
    us = 0
    for c, frames, v in stacks:
        if comm is not None and c != comm:
            continue
        if func is not None and not has_frame(frames, func):
            continue
        if exclude is not None and has_frame(frames, exclude):
            continue
        us += v
    return us


def rows_in(rows, func):
    """(us, count) summed over table rows whose stack contains @func."""
    us = n = 0
    for r_us, r_n, _, _, frames in rows:
        if has_frame(frames, func):
            us += r_us
            n += r_n
    return us, n


def summary(stacks, limit=10):
    top = sorted(stacks, key=lambda s: -s[2])[:limit]
    return "\n".join("    %10d us %s" % (v, ";".join([c] + f)) for c, f, v in top) or "    (none)"


def check_totals(rep, blocked, runq, result):
    """The headers' totals agree with the folded sums (1% or 1 us per stack of rounding)."""
    for name, section, stacks in (("off-CPU", rep.blocked, blocked),
                                  ("run-queue", rep.runq, runq)):
        if section is None:
            check(not stacks, "%d [runqueue] stacks in the folded file but no run-queue section"
                  % len(stacks), result)
            continue
        got = sptest.total(stacks)
        slack = max(0.01 * section.total, len(stacks) + 1)
        check(abs(got - section.total) <= slack,
              "%s: folded values sum to %d us but the header says %d us (allowed +-%d)"
              % (name, got, section.total, slack), result)
        check(section.n >= len(stacks) or section.n == 0 and not stacks,
              "%s: header counts %d blockings but the folded file has %d distinct stacks"
              % (name, section.n, len(stacks)), result)


def check_lost_warned(rep, result):
    """A `# lost` line on stdout must come with a warning on stderr."""
    if not rep.lost():
        return
    check(re.search(r"lost|out of order|throttl|undecodable", result.err, re.I),
          "stdout reports '%s' but stderr carries no warning about it" % rep.lost_lines[0],
          result)


# ---------------------------------------------------------------- workload truths

class BlockerTruth:
    """What blocker measured: funcs[name] = (total_us, [each_us]), and its main thread."""

    def __init__(self, text, where):
        self.funcs = {}
        self.pid = self.tid = self.wall_us = self.cpu_us = None
        for line in text.split("\n"):
            parts = line.split()
            if parts[:2] == ["blocker:", "truth"] and len(parts) >= 5:
                each = [int(x) for x in parts[5].split(",")] if len(parts) > 5 else []
                self.funcs[parts[2]] = (int(parts[3]), each)
            elif parts[:2] == ["blocker:", "thread"] and len(parts) == 6:
                self.pid, self.tid, self.wall_us, self.cpu_us = (int(x) for x in parts[2:])
        check(set(self.funcs) >= {"sleep_wait", "pipe_wait", "mutex_wait", "cpu_burn"}
              and self.pid, "no complete truth from blocker in %s:\n%s" % (where, text))

    def total(self, func):
        return self.funcs[func][0]

    def calls(self, func):
        return self.funcs[func][1]

    def describe(self):
        return ", ".join("%s %d us (%s)" % (f, t, "+".join(str(x) for x in e))
                         for f, (t, e) in self.funcs.items())


def read_blocker_truth(path, result=None):
    check(os.path.isfile(path), "blocker wrote no truth file %s" % path, result)
    with open(path) as f:
        return BlockerTruth(f.read(), path)


class ThreadTruth:
    """One pingpong thread's own accounting between its first and last reading.

    Its CPU time (CLOCK_THREAD_CPUTIME_ID) leaves out time the hypervisor
    stole while it ran (with paravirt steal accounting), so its off-CPU time
    lies between off_min_us (all the machine's steal meanwhile counted as
    stolen from this thread) and off_us (none of it).
    """

    def __init__(self, role, comm, tid, wall, cpu, run_delay, slices, steal):
        self.role, self.comm, self.tid = role, comm, tid
        self.wall_us, self.cpu_us = wall / 1000.0, cpu / 1000.0
        self.run_delay_us = run_delay / 1000.0 if run_delay >= 0 else None
        self.slices = slices
        self.steal_us = steal / 1000.0 if steal >= 0 else 0.0

    @property
    def off_us(self):
        """Wall - CPU: the thread's time blocked or runnable and waiting, plus stolen time."""
        return self.wall_us - self.cpu_us

    @property
    def off_min_us(self):
        return max(0.0, self.off_us - self.steal_us)

    def describe(self):
        return ("%s tid %d: wall %.0f us, on CPU %.0f us, run-queue wait %.0f us, %d timeslices, "
                "steal on all CPUs %.0f us" % (self.comm, self.tid, self.wall_us, self.cpu_us,
                                               self.run_delay_us or 0, self.slices,
                                               self.steal_us))


def read_pingpong_truth(path, result=None):
    """({"ping": ThreadTruth, "pong": ThreadTruth}, round_trips) from pingpong's --truth file."""
    check(os.path.isfile(path), "pingpong wrote no truth file %s" % path, result)
    threads, rounds = {}, None
    with open(path) as f:
        text = f.read()
    for line in text.split("\n"):
        parts = line.split()
        if parts[:2] == ["pingpong:", "thread"] and len(parts) == 10:
            threads[parts[2]] = ThreadTruth(parts[2], parts[3], *(int(x) for x in parts[4:]))
        m = re.match(r"^pingpong: (\d+) round trips", line)
        if m:
            rounds = int(m.group(1))
    check(set(threads) == {"ping", "pong"} and rounds is not None,
          "incomplete truth from pingpong in %s:\n%s" % (path, text))
    for t in threads.values():
        check(t.run_delay_us is not None,
              "no /proc/thread-self/schedstat (kernel without CONFIG_SCHED_INFO?)")
    return threads, rounds


# ---------------------------------------------------------------- perf reference

PERF_EVENT_RE = re.compile(
    r"^\s*.*?\s+(?P<tid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?P<time>\d+\.\d+):\s+sched:sched_switch:\s+"
    r"prev_comm=(?P<prev_comm>.*?) prev_pid=(?P<prev_pid>\d+) prev_prio=\S+ "
    r"prev_state=(?P<state>\S+) ==> next_comm=.*? next_pid=(?P<next_pid>\d+) ")
PERF_SWITCH_IN_RE = re.compile(
    r"^\s*.*?\s+(?P<tid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?P<time>\d+\.\d+):\s+"
    r"PERF_RECORD_SWITCH(?:_CPU_WIDE)? IN\b")


def _ns(stamp):
    sec, _, frac = stamp.partition(".")
    return int(sec) * 1000000000 + int((frac + "000000000")[:9])


def perf_blockings(script_text, tids, states="SD"):
    """Blockings of @tids from `perf script --ns --show-switch-events` of
    sched:sched_switch with call chains, recorded with --switch-events.

    A blocking runs from a switch-out whose prev_state starts with one of
    @states ("R+" counts as R: preempted) to the thread's next switch-in on
    any CPU: the first of a sched_switch with next_pid = the thread, or a
    PERF_RECORD_SWITCH_CPU_WIDE IN record of the thread. Both are needed:
    on some kernels (seen on 6.18) the tracepoint does not reach perf when a
    secondary CPU leaves its idle task, so a wake-up onto an idle CPU has no
    sched_switch naming the thread as next; the SWITCH records still come.
    Returns [(tid, prev_comm, duration_ns, [leaf, ..., root symbols])].
    """
    events = []  # (time, kind, prev_tid, comm, state, in_tid, syms)
    cur = None
    for line in script_text.split("\n"):
        m = PERF_EVENT_RE.match(line)
        if m:
            cur = [_ns(m.group("time")), 1, int(m.group("prev_pid")), m.group("prev_comm"),
                   m.group("state"), int(m.group("next_pid")), []]
            events.append(cur)
            continue
        m = PERF_SWITCH_IN_RE.match(line)
        if m:
            events.append([_ns(m.group("time")), 0, None, None, None, int(m.group("tid")), []])
            cur = None
            continue
        if cur is not None and line.startswith("\t"):
            parts = line.split(None, 1)
            if len(parts) == 2:
                sym = re.sub(r"\s+\(.*\)$", "", parts[1].strip())
                cur[6].append(sym.split("+0x")[0])
        elif not line.strip():
            cur = None
    events.sort(key=lambda e: (e[0], e[1]))
    pending, out = {}, []
    for t, _, prev, comm, state, nxt, syms in events:
        if nxt in pending:
            t0, c0, s0 = pending.pop(nxt)
            out.append((nxt, c0, t - t0, s0))
        if prev in tids:
            pending.pop(prev, None)
            preempted = state.endswith("+")
            st = "R" if preempted else state
            if not st or st[0] not in states:
                continue
            pending[prev] = (t, comm, syms)
    return out


def perf_record_cmd(data, inner):
    """perf record of every CPU's sched_switch (with call chains) and switch records
    around @inner."""
    return ["perf", "record", "-q", "-e", "sched:sched_switch", "-g", "--switch-events", "-a",
            "-m", "1024", "-o", data, "--"] + list(inner)


def perf_script(data, timeout=120):
    r = sptest.run(["perf", "script", "-i", data, "--ns", "--show-switch-events", "-F",
                    "comm,tid,cpu,time,event,trace,ip,sym"], timeout=timeout)
    check(r.rc == 0, "perf script failed", r)
    return r


def perf_lost(data, timeout=60):
    """Events perf lost in @data (sum of its PERF_RECORD_LOST counts)."""
    r = sptest.run(["perf", "script", "-i", data, "--show-lost-events", "-F", "time"],
                   timeout=timeout)
    return sum(int(m.group(1)) for m in re.finditer(r"PERF_RECORD_LOST.*?lost (\d+)", r.out))


def perf_switch_record(data, inner):
    """perf record of every CPU's sched_switch and switch records (no call chains) around @inner."""
    return ["perf", "record", "-q", "-e", "sched:sched_switch", "--switch-events", "-a",
            "-m", "2048", "-o", data, "--"] + list(inner)


def perf_thread_times(data, tids):
    """{tid: (blocked_us, runqueue_us)} from a perf_switch_record() file, or a Skip if perf
    lost events (then it is no reference)."""
    lost = perf_lost(data)
    if lost:
        sptest.skip("perf itself lost %d events: no reference" % lost)
    r = sptest.run(["perf", "script", "-i", data, "--ns", "--show-switch-events", "-F",
                    "comm,tid,cpu,time,event,trace"], timeout=120)
    check(r.rc == 0, "perf script failed", r)
    times = {tid: [0, 0] for tid in tids}
    for i, states in enumerate(("SD", "R")):
        for tid, _, ns, _ in perf_blockings(r.out, set(tids), states):
            times[tid][i] += ns // 1000
    return {tid: tuple(v) for tid, v in times.items()}


def require_perf():
    if not shutil.which("perf"):
        sptest.skip("perf is not installed: cannot compare with perf's sched_switch")


# ---------------------------------------------------------------- errors

def check_error(d, args, mentions=None, timeout=30):
    """`stackprof offcpu -o OUT ARGS`: the error contract (sptest.check_error_contract)."""
    out = os.path.join(d, "out.folded")
    argv = [sptest.STACKPROF, "offcpu", "-o", out] + [str(a) for a in args]
    r = sptest.run(argv, timeout=timeout)
    sptest.check_error_contract(r, d, out, mentions=mentions or ())
    return r


# ---------------------------------------------------------------- misc

def wait_perf_events(proc, at_least, timeout=20.0, settle=0.5):
    """Waits until @proc (a sptest.Proc) holds @at_least perf_event fds, then @settle s more."""
    import time
    deadline = time.monotonic() + timeout
    while sptest.perf_event_fds(proc.pid) < at_least:
        if not proc.alive():
            sptest.fail("%s exited before opening its events" % proc.args, proc.finish(5))
        if time.monotonic() > deadline:
            sptest.fail("%s opened only %d of %d perf events within %.0f s"
                        % (proc.args, sptest.perf_event_fds(proc.pid), at_least, timeout))
        time.sleep(0.05)
    time.sleep(settle)


def within(got, want, rel, abs_us=0.0):
    return abs(got - want) <= max(rel * want, abs_us)


def rel(got, want):
    return "%+.1f%%" % (100.0 * (got - want) / want) if want else "n/a"

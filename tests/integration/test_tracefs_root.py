"""Tracepoint layouts come from the format files, and STACKPROF_TRACEFS=DIR decides
which files: proved by feeding edited copies.

The test runs in a mount namespace of its own (tracefs_util), with tracefs mounted
there if it was not. It first finds exactly which event descriptions offcpu and
iowrite read, from strace logs of a run of each (every events/SYS/NAME path they
open or stat), and copies those events' format and id files into DIR. Then:

(a) an EQUIVALENT copy (tracefs_util.equivalent_edit): in every copied format the
    event's own fields are listed in reverse, every gap between fields gets an
    unknown field declared in it, sched_switch's prev_state (long, 8 bytes) and
    every syscall's fd (8 bytes) are declared `unsigned int`, 4 bytes, at the same
    offset. Under strace, offcpu and iowrite open or stat nothing under the kernel's
    tracefs events/ other than iowrite's own uprobe group, they read every copied
    event from DIR, and -v names DIR. offcpu -g on blocker and iowrite -g on writer
    (without strace) still give the ground truth their own tests check
    (test_offcpu_blocking.check_blocker: every blocking within 10% of the workload's
    clock, the counts; iowrite_util.check_exact: every function's bytes, requests,
    calls, failures exact).
(b) a CONTRADICTING copy: sched_switch's next_pid declared at prev_pid's offset
    makes offcpu end every blocking the moment it starts (each blocking function
    gets under 10% of its truth), and sys_enter_write's count declared at fd's
    offset makes iowrite's requested bytes of write_plain the fd number times the
    calls, while the bytes written (from the exit's ret, unchanged) stay exact.
(c) STACKPROF_TRACEFS naming a missing directory, an empty one, or one whose
    sched_switch has an id but no format: one error line on stderr naming
    STACKPROF_TRACEFS, a non-zero exit, no output file, no probe left behind.
"""

import contextlib
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import iowrite_util as iu  # noqa: E402
import strace_util as su  # noqa: E402
import test_offcpu_blocking as ob  # noqa: E402
import tracefs_util as tu  # noqa: E402

ENV = "STACKPROF_TRACEFS"
NARROW = ("prev_state", "fd")
WRONG_MAX = 0.10  # (b): a blocking function keeps less than this share of its truth

_found = {}


@contextlib.contextmanager
def environ(**values):
    """Sets environment variables for the commands started in the with-block."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def kernel_events_paths(t, own_pid=None):
    """Paths under the kernel's tracefs events/ in trace @t, but those of stackprof's own
    uprobe group stackprof_<own_pid>."""
    out = []
    for p in t.paths():
        for root in (tu.TRACEFS, "/sys/kernel/debug/tracing"):
            if p.startswith(root + "/events/") and not (
                    own_pid and p.startswith("%s/events/stackprof_%d/" % (root, own_pid))):
                out.append(p)
    return out


def needed_events(d):
    """{"offcpu": {(sys, name)}, "iowrite": {...}}: the events each reads, found with strace
    on runs against the kernel's tracefs."""
    if _found:
        return _found
    runs = {"offcpu": [sptest.STACKPROF, "offcpu", "-g", "-o", os.path.join(d, "o.folded"),
                       "--", "true"],
            "iowrite": [sptest.STACKPROF, "iowrite", "-g", "-o", os.path.join(d, "i.folded"),
                        "--", "true"]}
    for name, argv in runs.items():
        r, t = su.traced(d, "find_" + name, argv, timeout=60)
        check(r.rc == 0, "%s against the kernel's tracefs failed" % name, r)
        events = tu.events_touched(t.paths())
        sptest.log("  %s reads %d events: %s" % (name, len(events), " ".join(
            "%s:%s" % e for e in sorted(events))))
        _found[name] = events
    check(("sched", "sched_switch") in _found["offcpu"],
          "offcpu was not seen reading sched:sched_switch: %s" % _found["offcpu"])
    check(("syscalls", "sys_enter_write") in _found["iowrite"],
          "iowrite was not seen reading syscalls:sys_enter_write")
    return _found


def make_copy(d, name, edit=None):
    """DIR = D/NAME with every needed event copied, each format passed through
    @edit(sys, name, text) when given. Returns DIR."""
    root = os.path.join(d, name)
    tu.rmtree(root)
    found = needed_events(d)
    events = found["offcpu"] | found["iowrite"]
    copied = tu.copy_events(events, root)
    sptest.log("  %s: %d events copied from %s" % (root, len(copied), tu.TRACEFS))
    if edit:
        for sys_name, ev in sorted(copied):
            text = tu.read_format(root, sys_name, ev)
            new = edit(sys_name, ev, text)
            if new != text:
                tu.write_format(root, sys_name, ev, new)
    return root


def check_reads_from(t, root, events, what, result, own_pid=None):
    """The run read every event of @events under @root and nothing from the kernel's
    tracefs events/ (bar our uprobe group)."""
    stray = kernel_events_paths(t, own_pid)
    check(not stray, "%s with %s=%s still read the kernel's tracefs:\n%s"
          % (what, ENV, root, "\n".join("    " + p for p in stray[:20])), result)
    read = {(s, n) for s, n in events if tu.format_path(root, s, n) in t.paths()}
    missing = sorted(set(events) - read)
    existing = [e for e in missing if os.path.isfile(tu.format_path(root, *e))]
    check(not existing, "%s never opened these formats in %s: %s" % (what, root, existing),
          result)
    check("reading tracepoint formats from %s" % root in result.err,
          "-v does not say the formats come from %s" % root, result)


# ---------------------------------------------------------------- (a) equivalent

def equivalent(sys_name, name, text):
    new, changes = tu.equivalent_edit(text, NARROW)
    if sys_name == "sched" or name == "sys_enter_write":
        sptest.log("    %s:%s: %s" % (sys_name, name, "; ".join(changes)))
    return new


def test_reads_only_the_copy(d):
    """(a) With STACKPROF_TRACEFS=DIR, offcpu and iowrite read every event they use from
    DIR and nothing under the kernel's tracefs events/ (bar iowrite's own uprobe group);
    -v names DIR. (Setup reads the formats whatever the command; `true` keeps it short.)"""
    su.require()
    root = make_copy(d, "equivalent", equivalent)
    env = dict(os.environ, **{ENV: root})
    for name in ("offcpu", "iowrite"):
        out = sptest.output_path(d, name + "_true")
        r, t = su.traced(d, name + "_true", [sptest.STACKPROF, name, "-v", "-o", out, "--",
                                            "true"], timeout=60, env=env)
        check(r.rc == 0, "%s with %s=%s failed" % (name, ENV, root), r)
        check_reads_from(t, root, needed_events(d)[name], name, r, own_pid=t.first_pid)
        if t.first_pid:
            iu.check_no_probes_of(t.first_pid, r)


def test_equivalent_offcpu(d):
    """(a) offcpu -g on blocker with reordered, padded, narrowed formats: the ground truth."""
    root = make_copy(d, "equivalent", equivalent)
    text = tu.read_format(root, "sched", "sched_switch")
    check("unsigned int prev_state;\toffset:32;\tsize:4;" in text,
          "the edit did not narrow prev_state:\n" + text)
    out = sptest.output_path(d, "offcpu")
    truth_path = os.path.join(d, "offcpu.truth")
    r = sptest.run(ob.offcpu(out) + ["--"] + ob.blocker(truth_path), timeout=90,
                   env=dict(os.environ, **{ENV: root}))
    r, rep, blocked, _, truth = ob.finish(r, out, truth_path)
    ob.check_blocker(r, rep, blocked, truth, "offcpu, equivalent formats")


def run_writer(d, name, root):
    """iowrite -g -v on writer with STACKPROF_TRACEFS=@root; checks it left no probe:
    (result, report, stacks, truth)."""
    out = sptest.output_path(d, name)
    truth_path = os.path.join(d, name + ".truth")
    files = iu.out_dir(d, name)
    with environ(**{ENV: root}):
        r = iu.run(["-g", "-v", "--top", 1000, "-o", out, "--"]
                   + iu.writer(files, "--truth", truth_path), timeout=60)
    check(r.rc == 0, "stackprof iowrite failed", r)
    check("reading tracepoint formats from %s" % root in r.err,
          "-v does not say the formats come from %s" % root, r)
    rep = iu.parse_report(r)
    iu.check_not_lost(rep, r)
    stacks = iu.parse_folded(out, r)
    truth = iu.read_truth(truth_path, r)
    iu.check_design(truth, files)
    return r, rep, stacks, truth


def test_equivalent_iowrite(d):
    """(a) iowrite -g on writer with reordered, padded, narrowed formats: exact."""
    root = make_copy(d, "equivalent", equivalent)
    r, rep, stacks, truth = run_writer(d, "iowrite", root)
    check(not [x for x in r.err.split("\n") if "; skipped" in x],
          "the copy lacks events iowrite uses where the kernel has them:\n%s" % r.err, r)
    iu.check_exact(rep, stacks, truth, r)
    iu.check_syscalls_cover(rep, truth, r)
    iu.check_consistent(rep, stacks, r)


# ---------------------------------------------------------------- (b) contradicting

def test_contradicting_offcpu(d):
    """(b) next_pid declared at prev_pid's offset: every blocking ends as it starts."""
    su.require()
    root = make_copy(d, "next_pid_moved", lambda s, n, text: tu.move_field(
        text, "next_pid", "prev_pid") if (s, n) == ("sched", "sched_switch") else text)
    out = sptest.output_path(d, "offcpu")
    truth_path = os.path.join(d, "offcpu.truth")
    with environ(**{ENV: root}):
        r = sptest.run(ob.offcpu(out) + ["--"] + ob.blocker(truth_path), timeout=90)
    r, rep, blocked, _, truth = ob.finish(r, out, truth_path)
    for func in ob.BLOCKING:
        got, want = ob.ou.time_in(blocked, func), truth.total(func)
        sptest.log("  %s: %d us with next_pid moved, truth %d us" % (func, got, want))
        check(got < WRONG_MAX * want, "%s: %d us of a truth of %d us although next_pid was "
              "declared at prev_pid's offset: the layout is not taken from the file"
              % (func, got, want), r)


def test_contradicting_iowrite(d):
    """(b) sys_enter_write's count declared at fd's offset: the requested bytes of
    write_plain are fd x calls; the bytes written stay exact."""
    su.require()
    root = make_copy(d, "count_moved", lambda s, n, text: tu.move_field(
        text, "count", "fd") if (s, n) == ("syscalls", "sys_enter_write") else text)
    r, rep, stacks, truth = run_writer(d, "iowrite", root)
    want = truth.vals("write_plain")
    got = rep.table.func("write_plain")
    sptest.log("  write_plain: truth %s, with count moved %s" % (want, got))
    check(got[iu.R] != want[iu.R], "write_plain requested %d bytes as in the truth, although "
          "count was declared at fd's offset" % got[iu.R], r)
    check(got[iu.R] % want[iu.C] == 0 and 2 < got[iu.R] // want[iu.C] < 1024,
          "write_plain's requested bytes %d are not its %d calls times one fd number"
          % (got[iu.R], want[iu.C]), r)
    check((got[iu.W], got[iu.C], got[iu.F]) == (want[iu.W], want[iu.C], want[iu.F]),
          "the bytes written, calls or failures changed too: %s, truth %s" % (got, want), r)


# ---------------------------------------------------------------- (c) errors

def check_errors(d, profiler, root, argv_tail, mentions_all):
    e = os.path.join(d, "err_" + profiler + "_" + os.path.basename(root))
    os.makedirs(e, exist_ok=True)
    out = os.path.join(e, "out.folded")
    with environ(**{ENV: root}):
        with sptest.Proc([sptest.STACKPROF, profiler, "-o", out] + argv_tail,
                         capture=True) as sp:
            r = sp.finish(timeout=30)
    sptest.check_error_contract(r, e, out, mentions_all=mentions_all)
    iu.check_no_probes_of(sp.pid, r)


def test_errors(d):
    """(c) a missing DIR, an empty one, and one with sched_switch's id but not its format."""
    missing = os.path.join(d, "missing")
    empty = os.path.join(d, "empty")
    no_format = os.path.join(d, "noformat")
    os.makedirs(empty, exist_ok=True)
    os.makedirs(os.path.join(no_format, "events", "sched", "sched_switch"), exist_ok=True)
    with open(os.path.join(tu.TRACEFS, "events/sched/sched_switch/id")) as i, \
            open(os.path.join(no_format, "events/sched/sched_switch/id"), "w") as o:
        o.write(i.read())
    blocker = ["--", sptest.workload("blocker")]
    writer = ["--", sptest.workload("writer"), iu.out_dir(d, "unused")]
    check_errors(d, "offcpu", missing, blocker, (ENV, missing))
    check_errors(d, "iowrite", missing, writer, (ENV, missing))
    check_errors(d, "offcpu", empty, blocker, (ENV, "sched:sched_switch", "format"))
    check_errors(d, "iowrite", empty, writer, (ENV, "syscalls:sys_enter_write", "format"))
    check_errors(d, "offcpu", no_format, blocker, (ENV, "sched:sched_switch", "format"))


if __name__ == "__main__":
    sptest.require_kernel()
    for name in ("blocker", "writer"):
        if not os.access(sptest.workload(name), os.X_OK):
            sptest.log("FAIL %s: workload %s not built" % (sptest.TEST_NAME, name))
            sys.exit(1)
    try:
        tu.enter_private_mounts()
        tu.ensure_tracefs()
    except sptest.Skip as e:
        sptest._exit_skip(str(e))
    sptest.main([test_reads_only_the_copy, test_equivalent_offcpu, test_equivalent_iowrite,
                 test_contradicting_offcpu, test_contradicting_iowrite, test_errors])

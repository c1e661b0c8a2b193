"""How the address-space model learns mappings, in each of its three modes (core/features.h):
MMAP2 records with the file's build-id (the default here), MMAP2 records with inode data
(STACKPROF_FORCE_NO_MMAP_BUILD_ID=1), and no mmap records at all, /proc/PID/maps read at
exec, at fork and for addresses in no known mapping (STACKPROF_FORCE_NO_MMAP2=1).

In every mode, with symbol names as the proof:
- cpushare launched: work_a/b/c hold 1/6, 2/6, 3/6 of the samples (+-5 pp);
- dlopener attached with -p before it dlopens libspwork.so: main_work and lib_work, the
  latter in code mapped after the attach, hold half each (+-8 pp).
And: the build-id each MMAP2 record carried is the one in the file's ELF note.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import fallback_util as fu  # noqa: E402

FREQ = 997
MODES = [(), ("MMAP_BUILD_ID",), ("MMAP2",)]
CPUSHARE = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}
DLOPENER = {"main_work": 0.5, "lib_work": 0.5}
BUILD_ID_RE = re.compile(r"^syms: (?P<path>\S+) has build-id (?P<id>[0-9a-f]+) "
                         r"\(from its MMAP2 record\)$")


def mode_name(mode):
    return "no-" + mode[0].lower() if mode else "build-id"


def check_mode_said(r, mode):
    if not mode:
        check(not any(l.startswith("fallback: no MMAP2") or
                      l.startswith("fallback: no build-ids") for l in fu.warnings(r)),
              "fell back from build-id MMAP2 records unasked", r)
        return
    fu.check_said(r, "forced by STACKPROF_FORCE_NO_" + mode[0], count=1)
    if mode == ("MMAP2",):
        fu.check_said(r, "fallback: no build-ids in MMAP2 records (needs MMAP2)", count=1)


def oncpu(out, *args):
    return [sptest.STACKPROF, "-v", "oncpu", "-F", FREQ, "-g", "-o", out] + [str(a) for a in args]


def test_launched_cpushare(d):
    for mode in MODES:
        name = mode_name(mode)
        out = sptest.output_path(d, name)
        with fu.forced(*mode):
            r = sptest.run(oncpu(out, "--", sptest.workload("cpushare"), 1.5), timeout=60)
        _, stacks = sptest.check_report_matches(r, out)
        check_mode_said(r, mode)
        fu.check_shares(stacks, CPUSHARE, 0.05, name, r)
        check(sptest.share(stacks, "main") >= 0.9, "%s: main is in too few stacks:\n%s"
              % (name, sptest.summary(stacks)), r)


def test_attached_dlopen(d):
    for mode in MODES:
        name = mode_name(mode)
        out = sptest.output_path(d, name)
        with sptest.Proc([sptest.workload("dlopener"), 1.5, 1.0]) as w:
            time.sleep(0.1)
            with fu.forced(*mode):
                r = sptest.run(oncpu(out, "-p", w.pid), timeout=60)
            wr = w.finish(30)
        check(wr.rc == 0, "dlopener failed", wr)
        _, stacks = sptest.check_report_matches(r, out)
        check_mode_said(r, mode)
        fu.check_shares(stacks, DLOPENER, 0.08, name + " -p", r)
        if mode == ("MMAP2",):
            m = re.search(r"/proc/PID/maps was read again (\d+) times", r.err)
            check(m and int(m.group(1)) >= 1,
                  "no-mmap2: lib_work was named without reading /proc again?", r)


def test_build_ids_kept(d):
    out = sptest.output_path(d, "bid")
    r = sptest.run([sptest.STACKPROF, "-v", "-v", "oncpu", "-F", FREQ, "-g", "-o", out, "--",
                    sptest.workload("dlopener"), 0.3, 0.1], timeout=60)
    _, stacks = sptest.check_report_matches(r, out)
    got = {}
    for line in fu.warnings(r):
        m = BUILD_ID_RE.match(line)
        if m:
            got[os.path.realpath(m.group("path"))] = m.group("id")
    sptest.log("  build-ids from MMAP2 records: %s" % got)
    for name in ("dlopener", "libspwork.so"):
        path = os.path.realpath(sptest.workload(name))
        want = fu.elf_build_id(path)
        check(want, "%s has no build-id note (linked without --build-id?)" % path)
        check(path in got, "no build-id from an MMAP2 record for %s" % path, r)
        check(got[path] == want, "%s: MMAP2 carried build-id %s, the file's note says %s"
              % (path, got[path], want), r)
    # Files mapped before the command started (the C library) come with theirs too.
    check(any("libc.so" in p for p in got), "no build-id for the C library", r)
    fu.check_shares(stacks, DLOPENER, 0.15, "with -v -v", r)


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_launched_cpushare, test_attached_dlopen, test_build_ids_kept])

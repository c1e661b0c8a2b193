"""Output files: several -o files from one run, the format from each extension or
--format, the JSON report validated against docs/report.schema.json and checked
against the workload's known shape, and bad output options.

cpushare's main thread spends its CPU time in work_a, work_b and work_c in the
ratio 1:2:3; the JSON report of one oncpu run must say so (within 5 percentage
points) and agree exactly with the folded file written by the same run.
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check, pct  # noqa: E402

try:
    import jsonschema
except ImportError:  # the test says so; CI installs python3-jsonschema
    jsonschema = None

SCHEMA = os.path.join(sptest.REPO, "docs", "report.schema.json")
FREQ = 997
TOLERANCE = 0.05
EXPECTED = {"work_a": 1 / 6, "work_b": 2 / 6, "work_c": 3 / 6}


def load_json(path):
    with open(path) as f:
        doc = json.load(f)
    if jsonschema is None:
        sptest.skip("python3-jsonschema is not installed (scripts/install-deps.sh installs it)")
    with open(SCHEMA) as f:
        jsonschema.validate(doc, json.load(f))
    return doc


def json_stacks(doc):
    """[(comm, [frame names root first], value0)] from a JSON report."""
    frames = doc["frames"]
    out = []
    for proc in doc["processes"]:
        for th in proc["threads"]:
            for st in th["stacks"]:
                out.append((th["comm"], [frames[i]["name"] for i in st["frames"]],
                            st["values"][0]))
    return out


def test_json_and_folded_from_one_run(d):
    folded, rep = os.path.join(d, "cpu.folded"), os.path.join(d, "cpu.json")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-o", folded, "-o", rep, "--",
                    sptest.workload("cpushare"), 2], timeout=90)
    check(r.rc == 0, "oncpu with two outputs failed", r)
    check("folded stacks written to %s" % folded in r.err and
          "JSON report written to %s" % rep in r.err, "each output said where it went", r)
    doc = load_json(rep)
    meta = doc["metadata"]
    check(meta["profiler"] == "oncpu" and meta["frequency_hz"] == FREQ and
          meta["values"][0]["type"] == "samples" and meta["values"][0]["unit"] == "count",
          "metadata: %s" % meta)
    check(meta["targets"].startswith("command ") and "cpushare" in meta["command_line"],
          "targets and command line: %s" % meta)
    stacks = json_stacks(doc)
    total = sum(v for _, _, v in stacks)
    check(total == meta["values"][0]["total"] == meta["samples"],
          "stack values sum to %d, metadata says %s" % (total, meta))
    for func, want in EXPECTED.items():
        got = sum(v for c, fr, v in stacks if c == "cpushare" and func in fr) / total
        check(abs(got - want) <= TOLERANCE, "JSON: %s %s, expected %s" % (func, pct(got), pct(want)))
    # The folded file of the same run: the same stacks by name, the same counts.
    fol = {}
    for comm, frames, n in sptest.parse_folded(folded, r):
        key = ";".join([comm] + frames)
        fol[key] = fol.get(key, 0) + n
    js = {}
    for comm, frames, n in stacks:
        key = ";".join([comm] + frames)
        js[key] = js.get(key, 0) + n
    check(fol == js, "JSON and folded disagree: %d vs %d stacks" % (len(js), len(fol)))
    # cpushare is one thread: its tid is the process's pid.
    threads = [(p["pid"], t["tid"]) for p in doc["processes"] for t in p["threads"]
               if t["comm"] == "cpushare"]
    check(threads and all(pid == tid for pid, tid in threads), "cpushare's threads: %s" % threads)
    kinds = {f["kind"] for f in doc["frames"]}
    check("user" in kinds, "no user frame kinds: %s" % kinds)
    work_c = [f for f in doc["frames"] if f["name"] == "work_c"]
    check(work_c and work_c[0]["module"].endswith("cpushare") and
          work_c[0]["address"].startswith("0x"), "work_c's frame: %s" % work_c)


def test_svg_from_a_profiler(d):
    """-o FILE.svg draws the run: frame widths in the workload's 1:2:3 ratio."""
    import xml.etree.ElementTree as ET
    svg = os.path.join(d, "cpu.svg")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", FREQ, "-g", "-o", svg, "--",
                    sptest.workload("cpushare"), 2], timeout=90)
    check(r.rc == 0 and "flame graph written to %s" % svg in r.err, "oncpu -o x.svg", r)
    ns = "{http://www.w3.org/2000/svg}"
    layer = ET.parse(svg).getroot().find(".//%sg[@id='frames']" % ns)
    check(layer is not None, "no frames layer in %s" % svg, r)
    width = {}
    for g in layer.findall(ns + "g"):
        name = g.find(ns + "title").text or ""
        for func in EXPECTED:
            if name.startswith(func):
                width[func] = width.get(func, 0) + float(g.find(ns + "rect").get("width"))
    total = sum(width.values())
    for func, want in EXPECTED.items():
        got = width.get(func, 0) / total if total else 0
        check(abs(got - want) <= TOLERANCE, "SVG: %s is %s of the work_* width, expected %s"
              % (func, pct(got), pct(want)), r)
    # The flame graph options of the profilers.
    svg2 = os.path.join(d, "icicle.svg")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", 199, "-g", "--title", "A & B", "--width",
                    800, "--reverse", "-o", svg2, "--", sptest.workload("cpushare"), 0.5],
                   timeout=60)
    check(r.rc == 0, "oncpu with --title/--width/--reverse", r)
    root = ET.parse(svg2).getroot()
    check(root.get("width") == "800", "--width 800: width=%s" % root.get("width"), r)
    check(any("A & B" in "".join(t.itertext()) for t in root.iter(ns + "text")), "no title", r)
    frames = [g for g in root.find(".//%sg[@id='frames']" % ns).findall(ns + "g")]
    ys = [float(g.find(ns + "rect").get("y")) for g in frames]
    check(ys[0] == min(ys), "--reverse: the root frame is not at the top", r)


def test_pprof_and_speedscope_from_a_profiler(d):
    """-o x.pb.gz and -o x.speedscope.json of one memleak run: the exact leaked bytes
    of the folded file of the same run, per stack, in both."""
    import test_pprof
    folded = os.path.join(d, "leak.folded")
    pb = os.path.join(d, "leak.pb.gz")
    ss = os.path.join(d, "leak.speedscope.json")
    r = sptest.run([sptest.STACKPROF, "memleak", "-o", folded, "-o", pb, "-o", ss, "--",
                    sptest.workload("leaker")], timeout=90)
    check(r.rc == 0, "memleak with three outputs failed", r)
    want = {}
    for comm, frames, n in sptest.parse_folded(folded, r):
        key = ";".join([comm] + frames)
        want[key] = want.get(key, 0) + n
    prof = test_pprof.Profile(test_pprof.decode(pb))
    check(prof.sample_types == [("inuse_space", "bytes"), ("inuse_objects", "count")],
          "pprof sample types: %s" % prof.sample_types)
    check(prof.folded(0) == want, "pprof's stacks and bytes differ from the folded file:\n"
          "%s\nvs\n%s" % (sorted(prof.folded(0).items())[:3], sorted(want.items())[:3]))
    with open(ss) as f:
        doc = json.load(f)
    frames = doc["shared"]["frames"]
    got = {}
    for prof_ in doc["profiles"]:
        comm = prof_["name"].rsplit(" (", 1)[0]
        for sample, w in zip(prof_["samples"], prof_["weights"]):
            key = ";".join([comm] + [frames[i]["name"] for i in sample])
            got[key] = got.get(key, 0) + w
        check(prof_["unit"] == "bytes", "speedscope unit %s" % prof_["unit"])
    check(got == want, "speedscope's stacks and bytes differ from the folded file")


def test_format_override(d):
    out = os.path.join(d, "report.txt")
    r = sptest.run([sptest.STACKPROF, "oncpu", "-F", 99, "--format", "json", "-o", out, "--",
                    sptest.workload("cpushare"), 0.3], timeout=60)
    check(r.rc == 0, "--format json failed", r)
    load_json(out)


def test_offcpu_microseconds(d):
    rep = os.path.join(d, "off.json")
    folded = os.path.join(d, "off.folded")
    r = sptest.run([sptest.STACKPROF, "offcpu", "-g", "-o", rep, "-o", folded, "--",
                    sptest.workload("blocker")], timeout=90)
    check(r.rc == 0, "offcpu failed", r)
    doc = load_json(rep)
    vals = doc["metadata"]["values"]
    check([v["type"] for v in vals] == ["off_cpu", "blockings"] and
          vals[0]["unit"] == "nanoseconds", "offcpu values: %s" % vals)
    # Folded lines are microseconds, each rounded: at most 1 us apart per line.
    lines = sptest.parse_folded(folded, r)
    folded_total = sum(n for _, _, n in lines)
    check(abs(vals[0]["total"] / 1000 - folded_total) <= len(lines),
          "JSON off-CPU total %d ns, folded %d us in %d lines"
          % (vals[0]["total"], folded_total, len(lines)))
    sleep = sum(v for c, fr, v in json_stacks(doc) if "sleep_wait" in fr)
    # blocker sleeps 5 x 100 ms in sleep_wait.
    check(abs(sleep - 500e6) <= 50e6, "sleep_wait blocked %d ns, expected 500 ms +-10%%" % sleep)


def test_bad_outputs(d):
    out = os.path.join(d, "x.json")
    for args, mention in ((["--format", "png", "-o", out], "--format"),
                          (["-o", out, "-o", out], "twice"),
                          (["--width", "10", "-o", out], "--width"),
                          (["-o", os.path.join(d, "no", "such", "dir", "x.svg")], "does not exist")):
        r = sptest.run([sptest.STACKPROF, "oncpu", "-d", 1] + args, timeout=30)
        sptest.check_error_contract(r, d, out, mentions=(mention,))


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main([test_json_and_folded_from_one_run, test_svg_from_a_profiler,
                 test_pprof_and_speedscope_from_a_profiler, test_format_override,
                 test_offcpu_microseconds, test_bad_outputs])

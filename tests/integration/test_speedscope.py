"""stackprof fold --format speedscope: speedscope's file format, parsed and checked.

The fields speedscope's schema requires (the $schema URL, shared.frames with names,
sampled profiles with unit, startValue, endValue, samples and weights), that every
sample indexes a real frame, that each profile's weights add up to its endValue and to
its thread's total in the capture's expected folded file, and, rebuilt into folded
stacks, that it holds exactly the expected stacks of every committed capture.
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import formats_util as fu  # noqa: E402

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    check(doc.get("$schema") == SCHEMA, "$schema: %r" % doc.get("$schema"))
    frames = doc.get("shared", {}).get("frames")
    check(isinstance(frames, list) and frames, "shared.frames is a non-empty list")
    for fr in frames:
        check(isinstance(fr.get("name"), str) and fr["name"], "a frame without a name: %s" % fr)
        check("line" not in fr or isinstance(fr["line"], int), "line is a number: %s" % fr)
        check("file" not in fr or isinstance(fr["file"], str), "file is a string: %s" % fr)
    profiles = doc.get("profiles")
    check(isinstance(profiles, list) and profiles, "profiles is a non-empty list")
    for p in profiles:
        check(p.get("type") == "sampled", "type: %r" % p.get("type"))
        check(isinstance(p.get("name"), str), "name: %r" % p.get("name"))
        check(p.get("unit") in UNITS, "unit: %r" % p.get("unit"))
        check(p.get("startValue") == 0, "startValue: %r" % p.get("startValue"))
        samples, weights = p.get("samples"), p.get("weights")
        check(isinstance(samples, list) and isinstance(weights, list)
              and len(samples) == len(weights),
              "%s: samples and weights are lists of one length" % p["name"])
        for s in samples:
            check(all(isinstance(i, int) and 0 <= i < len(frames) for i in s),
                  "%s: a sample indexes no frame: %s" % (p["name"], s))
        check(all(isinstance(w, int) and w > 0 for w in weights), "weights are positive")
        check(p.get("endValue") == sum(weights),
              "%s: endValue %r is not the sum of the weights, %d"
              % (p["name"], p.get("endValue"), sum(weights)))
    check(0 <= doc.get("activeProfileIndex", 0) < len(profiles), "activeProfileIndex")
    return doc


def folded(doc):
    """{"comm;root;...;leaf": weight}: the profile's name is the comm (fold knows no pid)."""
    names = [fr["name"] for fr in doc["shared"]["frames"]]
    d = {}
    for p in doc["profiles"]:
        for s, w in zip(p["samples"], p["weights"]):
            key = ";".join([p["name"]] + [names[i] for i in s])
            d[key] = d.get(key, 0) + w
    return d


def test_cpushare(d):
    """cpushare-g: required fields, unit, totals and work_a/b/c weights exactly."""
    out = fu.fold_to(d, "speedscope", "cpushare-g", "cpushare.speedscope.json")
    doc = load(out)
    version = sptest.run([sptest.STACKPROF, "--version"]).out.split()[-1]
    check(doc.get("exporter") == "stackprof " + version,
          "exporter: %r (stackprof --version says %s)" % (doc.get("exporter"), version))
    check(isinstance(doc.get("name"), str) and doc["name"].startswith("stackprof fold"),
          "name is the command line: %r" % doc.get("name"))
    profs = doc["profiles"]
    check([p["name"] for p in profs] == ["cpushare"], "one thread: %s"
          % [p["name"] for p in profs])
    check(profs[0]["unit"] == "nanoseconds", "cpu-clock periods are nanoseconds")
    check(profs[0]["endValue"] == fu.CPUSHARE_G_TOTAL, "endValue %d, the capture's total %d"
          % (profs[0]["endValue"], fu.CPUSHARE_G_TOTAL))
    got = folded(doc)
    fu.compare_folded(got, fu.expected_folded("cpushare-g"), "cpushare-g as speedscope")
    sums = fu.function_sums(got)
    for fn, w in fu.CPUSHARE_G.items():
        check(sums.get(fn) == w, "%s weighs %s in speedscope, %d in the capture"
              % (fn, sums.get(fn), w))
    names = [fr["name"] for fr in doc["shared"]["frames"]]
    check(len(names) == len(set(names)), "a frame is repeated in shared.frames: %s" % names)


def test_every_capture(d):
    """Every committed capture: its stacks, and each thread's total, exactly."""
    for name in fu.CAPTURES:
        out = fu.fold_to(d, "speedscope", name, name + ".json")
        doc = load(out)
        want = fu.expected_folded(name)
        fu.compare_folded(folded(doc), want, "%s as speedscope" % name)
        totals = fu.comm_totals(want)
        got = {p["name"]: p["endValue"] for p in doc["profiles"]}
        check(got == totals, "%s: per-thread totals %s, expected %s" % (name, got, totals))
        heaviest = max(range(len(doc["profiles"])),
                       key=lambda i: (doc["profiles"][i]["endValue"], -i))
        check(doc.get("activeProfileIndex") == heaviest, "the heaviest profile opens first")
        os.unlink(out)
    # Counted events (rules.txt keeps cycles) have no unit speedscope knows: "none".
    doc = load(fu.fold_to(d, "speedscope", "rules", "rules.json"))
    check({p["unit"] for p in doc["profiles"]} == {"none"}, "cycles are unit none")


def test_stdout(d):
    """To stdout: the same document as to a file, but for the -o in the name."""
    out = fu.fold_to(d, "speedscope", "cpushare-g", "file.json")
    r = fu.fold(["--format", "speedscope", fu.data("cpushare-g")])
    check(r.rc == 0, "fold --format speedscope to stdout failed", r)
    a = load(out)
    b = json.loads(r.out)
    a.pop("name")
    b.pop("name")
    check(a == b, "stdout and -o FILE differ")
    check(re.match(r"^\{\"\$schema\"", r.out), "one compact JSON document")


if __name__ == "__main__":
    fu.require_stackprof("test_speedscope")
    sptest.main([test_cpushare, test_every_capture, test_stdout])

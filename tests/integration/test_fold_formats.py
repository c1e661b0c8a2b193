"""stackprof fold --format folded|json: the two text formats pprof and speedscope sit beside.

--format folded is the default output, byte for byte; --format json is the report JSON
(core/report_json.c) of the same stacks: rebuilt into folded stacks it matches each
capture's expected folded file exactly, and its metadata names fold, the event and the
value (cpu-clock periods are cpu/nanoseconds). pprof and speedscope have their own tests.
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import formats_util as fu  # noqa: E402


def test_folded_is_default(d):
    """--format folded writes what fold writes without --format."""
    for name in ("cpushare-g", "rules"):
        a = fu.fold([fu.data(name)])
        b = fu.fold(["--format", "folded", fu.data(name)])
        check(a.rc == 0 and b.rc == 0 and a.out == b.out and a.out,
              "%s: --format folded differs from the default" % name, b)


def test_json(d):
    """The report JSON of every capture holds its expected stacks; metadata for cpushare-g."""
    for name in fu.CAPTURES:
        out = fu.fold_to(d, "json", name, name + ".json")
        with open(out) as f:
            doc = json.load(f)
        frames = [fr["name"] for fr in doc["frames"]]
        got = {}
        for proc in doc["processes"]:
            for t in proc["threads"]:
                for s in t["stacks"]:
                    key = ";".join([t["comm"]] + [frames[i] for i in s["frames"]])
                    got[key] = got.get(key, 0) + s["values"][0]
        fu.compare_folded(got, fu.expected_folded(name), "%s as JSON" % name)
        if name == "cpushare-g":
            m = doc["metadata"]
            check(m["profiler"] == "fold" and m["events"].startswith("cpu-clock"),
                  "metadata: %s" % m)
            check(m["values"] == [{"type": "cpu", "unit": "nanoseconds",
                                   "total": fu.CPUSHARE_G_TOTAL}], "values: %s" % m["values"])
            check(m["samples"] == 60, "60 samples in the capture: %s" % m["samples"])
        os.unlink(out)


if __name__ == "__main__":
    fu.require_stackprof("test_fold_formats")
    sptest.main([test_folded_is_default, test_json])

#!/usr/bin/env python3
"""Gathers the JSON lines the benchmark scripts append to $BENCH_RESULTS into
bench-results.json, and prints the summary section of docs/benchmarks.md.

Used by scripts/bench.sh:
  results.py --lines FILE --ran NAMES [--failed NAMES] [--merge OLD] [--json OUT]
             [--quick] [--seconds S]
prints the summary (markdown) on stdout; with --json writes OUT. With --merge,
the measurements of benchmarks not run this time are kept from OLD (each
measurement carries the commit and date it was taken at).
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

ORDER = ["oncpu", "offcpu", "memleak", "iowrite", "fold", "startup"]


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_kb": mem_kb,
            "arch": platform.machine()}


def commit():
    try:
        c = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return c + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cell(text):
    """Text for a markdown table cell: a | would end the cell."""
    return str(text).replace("|", "\\|")


def benchmark_of(name):
    return name.split(".", 1)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", required=True)
    ap.add_argument("--ran", default="")
    ap.add_argument("--failed", default="")
    ap.add_argument("--merge")
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float)
    a = ap.parse_args()

    ran = [n for n in a.ran.split(",") if n]
    failed = [n for n in a.failed.split(",") if n]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    here = commit()

    measurements, headlines = [], []
    if os.path.exists(a.lines):
        with open(a.lines) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    sys.exit("results.py: %s:%d: bad JSON line: %s" % (a.lines, n, e))
                if "headline" in obj:
                    obj["benchmark"] = benchmark_of(obj["headline"])
                    headlines.append(obj)
                else:
                    obj["benchmark"] = benchmark_of(obj["name"])
                    obj["commit"], obj["date"] = here, now
                    measurements.append(obj)
    for h in headlines:
        h["commit"], h["date"] = here, now

    status = {n: {"status": "failed" if n in failed else "ok", "commit": here, "date": now,
                  "quick": a.quick} for n in ran}
    if a.merge and os.path.exists(a.merge):
        with open(a.merge) as f:
            old = json.load(f)
        for n, st in old.get("benchmarks", {}).items():
            if n not in status:
                status[n] = st
        keep = lambda o: o.get("benchmark") not in ran
        measurements = [m for m in old.get("measurements", []) if keep(m)] + measurements
        headlines = [h for h in old.get("headlines", []) if keep(h)] + headlines

    rank = lambda o: ORDER.index(o["benchmark"]) if o["benchmark"] in ORDER else len(ORDER)
    measurements.sort(key=rank)
    headlines.sort(key=rank)
    doc = {"machine": machine(), "kernel": platform.release(), "commit": here, "date": now,
           "quick": a.quick, "seconds": a.seconds,
           "benchmarks": {n: status[n] for n in sorted(status, key=lambda n: rank({"benchmark": n}))},
           "measurements": measurements, "headlines": headlines}
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(a.json + ".tmp", a.json)

    m = doc["machine"]
    out = []
    took = ""
    if a.seconds:
        took = ", run took %.0f s" % a.seconds
        if set(status) - set(ran):
            took = ", this run (%s) took %.0f s" % (", ".join(ran), a.seconds)
    out.append("Machine: %s CPUs, %s, kernel %s. %s, commit %s%s." % (
        m["cpus"], m["cpu"], doc["kernel"], now[:10], here, took))
    if a.quick:
        out.append("")
        out.append("**Quick run** (`--quick`: tiny sizes, one run each): for checking that")
        out.append("everything runs, not for reading the numbers.")
    out.append("")
    out.append("| benchmark | headline | value | target | met |")
    out.append("|---|---|---|---|---|")
    missed = []
    for n in sorted(status, key=lambda n: rank({"benchmark": n})):
        st = status[n]
        if st["status"] == "failed":
            out.append("| %s | **failed to run** (see the run's output) | - | - | - |" % n)
            continue
        hs = [h for h in headlines if h["benchmark"] == n]
        for h in hs:
            met = {True: "yes", False: "**no**", None: "-"}[h.get("met")]
            if h.get("met") is False:
                missed.append(h["text"])
            when = ""
            if n not in ran:
                when = " (earlier run: commit %s, %s)" % (h.get("commit"), str(h.get("date", ""))[:10])
            out.append("| %s | %s%s | %s | %s | %s |" % (
                n, cell(h["text"]), when, cell(h["display"]), cell(h["target"]), met))
        if not hs:
            out.append("| %s | (no headline) | - | - | - |" % n)
    out.append("")
    if missed:
        out.append("**Targets missed** (each benchmark's section below says so, with a profile of")
        out.append("stackprof taken during that benchmark):")
        out.append("")
        out.extend("- %s" % t for t in missed)
    else:
        out.append("Every target measured here is met.")
    if failed:
        out.append("")
        out.append("Failed to run: %s." % ", ".join(failed))
    print("\n".join(out))


if __name__ == "__main__":
    main()

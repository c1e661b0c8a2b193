"""stackprof fold --format pprof: gzip'd perftools.profiles.Profile, read back with protoc.

The profile is gunzipped and decoded by `protoc --decode perftools.profiles.Profile
proto/profile.proto` (Debian's protobuf-compiler: a decoder that is not ours), then
checked for pprof's rules (string_table[0] is "", ids non-zero and resolvable, one
value per sample type, leaf first) and against ground truth: the stacks and weights of
each committed perf script capture's expected folded file, exactly, and cpushare-g's
work_a/b/c weights per function. No kernel access is needed.
"""

import gzip
import os
import pty
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402
import formats_util as fu  # noqa: E402

PROTO_DIR = os.path.join(sptest.REPO, "proto")

_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", '"': b'"', "'": b"'", "\\": b"\\",
            "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v", "?": b"?"}


def _unquote(s):
    """A protobuf text-format string literal (C escapes, octal bytes) as str."""
    check(len(s) >= 2 and s[0] == '"' and s[-1] == '"', "not a string literal: %r" % s)
    s, out, i = s[1:-1], bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = s[i + 1]
        if e in "01234567":
            j = i + 1
            while j < len(s) and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(int(s[i + 1:j], 8))
            i = j
        elif e == "x":
            j = i + 2
            while j < len(s) and j < i + 4 and s[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(s[i + 2:j], 16))
            i = j
        else:
            out += _ESCAPES[e]
            i += 2
    return out.decode("utf-8", "replace")


def parse_text_format(text):
    """protoc's text output as nested dicts: every field a list of values or messages."""
    root = {}
    stack = [root]
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith("{"):
            child = {}
            stack[-1].setdefault(line[:-1].strip(), []).append(child)
            stack.append(child)
        else:
            key, _, val = line.partition(": ")
            if val.startswith('"'):
                v = _unquote(val)
            elif val in ("true", "false"):
                v = val == "true"
            else:
                v = int(val)
            stack[-1].setdefault(key, []).append(v)
    check(len(stack) == 1, "unbalanced braces in protoc's output")
    return root


def one(msg, field, default=0):
    return msg.get(field, [default])[0]


def decode(path):
    """The Profile in @path (gzip'd protobuf), decoded by protoc."""
    with open(path, "rb") as f:
        raw = f.read()
    check(raw[:2] == b"\x1f\x8b", "%s is not gzip-compressed (starts %r)" % (path, raw[:4]))
    p = subprocess.run(["protoc", "--decode", "perftools.profiles.Profile",
                        "-I", PROTO_DIR, os.path.join(PROTO_DIR, "profile.proto")],
                       input=gzip.decompress(raw), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "protoc --decode failed: %s" % p.stderr.decode(errors="replace"))
    return parse_text_format(p.stdout.decode())


class Profile:
    """A decoded Profile with its tables resolved, checked for pprof's rules on the way."""

    def __init__(self, msg):
        self.msg = msg
        self.strings = msg.get("string_table", [])
        check(self.strings and self.strings[0] == "", "string_table[0] must be \"\"")
        self.sample_types = [(self.s(one(v, "type")), self.s(one(v, "unit")))
                             for v in msg.get("sample_type", [])]
        self.functions = self._by_id("function")
        self.locations = self._by_id("location")
        self.mappings = self._by_id("mapping")
        for loc in self.locations.values():
            check(loc.get("line"), "location %d has no line" % one(loc, "id"))
            for line in loc["line"]:
                check(one(line, "function_id") in self.functions,
                      "location %d names function %d, which is not there"
                      % (one(loc, "id"), one(line, "function_id")))
            m = one(loc, "mapping_id")
            check(m == 0 or m in self.mappings, "location names mapping %d, not there" % m)
        self.samples = msg.get("sample", [])
        for s in self.samples:
            check(len(s.get("value", [])) == len(self.sample_types),
                  "a sample has %d values for %d sample types"
                  % (len(s.get("value", [])), len(self.sample_types)))
            for lid in s.get("location_id", []):
                check(lid in self.locations, "a sample names location %d, not there" % lid)

    def s(self, i):
        check(0 <= i < len(self.strings), "string index %d out of range" % i)
        return self.strings[i]

    def _by_id(self, field):
        table = {}
        for m in self.msg.get(field, []):
            i = one(m, "id")
            check(i != 0 and i not in table, "%s id %d is zero or repeated" % (field, i))
            table[i] = m
        return table

    def names(self, loc_id):
        """The function names of a location, innermost first."""
        return [self.s(one(self.functions[one(l, "function_id")], "name"))
                for l in self.locations[loc_id]["line"]]

    def label(self, sample, key):
        for l in sample.get("label", []):
            if self.s(one(l, "key")) == key:
                return self.s(one(l, "str")) if one(l, "str") else one(l, "num")
        return None

    def folded(self, value=0):
        """{"comm;root;...;leaf": value} rebuilt from the samples (leaf first in pprof)."""
        d = {}
        for s in self.samples:
            frames = []
            for lid in reversed(s.get("location_id", [])):
                # A location's lines go innermost first: the caller is the last.
                frames += list(reversed(self.names(lid)))
            key = ";".join([self.label(s, "comm")] + frames)
            d[key] = d.get(key, 0) + s["value"][value]
        return d


def test_cpushare(d):
    """cpushare-g: sample type, the known stacks and work_a/b/c weights exactly, metadata."""
    out = fu.fold_to(d, "pprof", "cpushare-g", "cpushare.pb.gz")
    p = Profile(decode(out))
    check(p.sample_types == [("cpu", "nanoseconds")],
          "cpu-clock periods are cpu/nanoseconds: %s" % p.sample_types)
    want = fu.expected_folded("cpushare-g")
    got = p.folded()
    fu.compare_folded(got, want, "cpushare-g as pprof")
    sums = fu.function_sums(got)
    for fn, w in fu.CPUSHARE_G.items():
        check(sums.get(fn) == w, "%s weighs %s in the pprof, %d in the capture"
              % (fn, sums.get(fn), w))
    check(sum(s["value"][0] for s in p.samples) == fu.CPUSHARE_G_TOTAL, "total weight")
    names = {p.s(one(f, "name")) for f in p.functions.values()}
    check(names == {"__libc_start_call_main", "main", "run", "work_a", "work_b", "work_c",
                    "spin", "clock_gettime@@GLIBC_2.17", "__vdso_clock_gettime"},
          "functions, each once: %s" % sorted(names))
    check(len(p.functions) == len(names), "a function is repeated")
    # Frames read from text name no code: no mapping, one location per function.
    check(not p.mappings, "text input has no modules, yet mappings: %s" % p.mappings)
    check(len(p.locations) == len(p.functions), "one location per function")
    for s in p.samples:
        check(p.label(s, "comm") == "cpushare", "comm label")
        check(p.label(s, "pid") is None, "fold knows no pid: no pid label")
    comments = [p.s(i) for i in p.msg.get("comment", [])]
    check(comments and comments[0].startswith("stackprof fold --format pprof -o "),
          "the first comment is the command line: %s" % comments)
    check(any("cpu-clock" in c for c in comments), "a comment names the event: %s" % comments)
    check(one(p.msg, "period") == 0 and "period_type" not in p.msg,
          "no sampling period is known from text")


def test_every_capture(d):
    """Every committed capture: the pprof holds exactly its expected folded stacks."""
    for name in fu.CAPTURES:
        out = fu.fold_to(d, "pprof", name, name + ".pb.gz")
        p = Profile(decode(out))
        fu.compare_folded(p.folded(), fu.expected_folded(name), "%s as pprof" % name)
        os.unlink(out)
    # rules.txt's first event is cycles: its periods are a count of cycles.
    out = fu.fold_to(d, "pprof", "rules", "rules.pb.gz")
    check(Profile(decode(out)).sample_types == [("cycles", "count")], "cycles/count")


def test_go_pprof(d):
    """pprof's own reader, when Go is installed (it is no dependency): work_a/b/c as above."""
    if not shutil.which("go"):
        sptest.log("  go is not installed: pprof's own reader not tried "
                   "(apt-get install golang-go to try it)")
        return
    out = fu.fold_to(d, "pprof", "cpushare-g", "cpushare.pb.gz")
    r = sptest.run(["go", "tool", "pprof", "-raw", out], timeout=120)
    check(r.rc == 0, "go tool pprof -raw failed", r)
    names, samples, section = {}, [], None
    for line in r.out.split("\n"):
        if line in ("Samples:", "Locations", "Mappings"):
            section = line
        elif section == "Samples:" and re.match(r"^\s+\d+: [\d ]+$", line):
            value, locs = line.split(":")
            samples.append((int(value), [int(x) for x in locs.split()]))
        elif section == "Locations" and re.match(r"^\s+\d+: ", line):
            lid, rest = line.split(":", 1)
            # "     3: 0x0 M=1 spin :0 s=0"
            names[int(lid)] = rest.split()[2] if rest.split()[1].startswith("M=") \
                else rest.split()[1]
    check(sum(v for v, _ in samples) == fu.CPUSHARE_G_TOTAL, "pprof reads the total", r)
    for fn, w in fu.CPUSHARE_G.items():
        got = sum(v for v, locs in samples if fn in {names.get(l) for l in locs})
        check(got == w, "pprof reads %s as %d, not %d" % (fn, got, w), r)


def test_stdout(d):
    """To a pipe, the same profile as to a file; to a terminal, refused (binary)."""
    out = fu.fold_to(d, "pprof", "cpushare-g", "file.pb.gz")
    with open(os.path.join(d, "pipe.pb.gz"), "wb") as f:
        p = subprocess.run([sptest.STACKPROF, "fold", "--format", "pprof",
                            fu.data("cpushare-g")], stdout=f, stderr=subprocess.PIPE,
                           timeout=60)
    check(p.returncode == 0, "fold to a pipe failed: %s" % p.stderr.decode(errors="replace"))
    a, b = Profile(decode(out)), Profile(decode(os.path.join(d, "pipe.pb.gz")))
    check(a.folded() == b.folded(), "stdout and -o FILE hold other stacks")
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sptest.STACKPROF, "fold", "--format", "pprof",
                            fu.data("cpushare-g")], stdout=slave, stderr=subprocess.PIPE,
                           timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 2 and "binary" in err and "-o" in err,
          "pprof to a terminal is refused with a hint: rc %d, %r" % (p.returncode, err))


def test_errors(d):
    """An unknown format: one error line naming the formats, exit 2, no file."""
    empty = sptest.scratch("errors-out")
    out = os.path.join(empty, "out.pb.gz")
    r = fu.fold(["--format", "protobuf", "-o", out, fu.data("cpushare-g")])
    sptest.check_error_contract(r, empty, out, mentions_all=("--format", "pprof", "speedscope"))
    check(r.rc == 2, "bad usage exits 2", r)
    r = fu.fold(["--format"])
    check(r.rc == 2 and "--format" in r.err, "--format without a value", r)


if __name__ == "__main__":
    fu.require_stackprof("test_pprof")
    if not shutil.which("protoc"):
        # A skip (a failure under CI): scripts/install-deps.sh installs it.
        sptest.log("SKIP test_pprof: protoc not found (apt-get install protobuf-compiler)")
        sys.exit(1 if sptest.in_ci() else sptest.SKIP_RC)
    sptest.main([test_cpushare, test_every_capture, test_go_pprof, test_stdout, test_errors])

"""stackprof flamegraph: SVG flame graphs of committed perf script captures and
hand-made folded files, parsed with xml.etree and held to the numbers of their
input.

- cpushare-g.txt (perf record -g on the cpushare workload, work_a/work_b/work_c
  burning CPU 1:2:3): every frame's width is its value's share of the image,
  to 0.01 px, against the stacks `stackprof fold` reads from the same file,
  and the three functions' shares are near 1/6, 2/6, 3/6;
- the same from stdin, gzip'd, and through -o (atomically: nothing else left);
- --reverse, --title, --width, --min-width;
- differential graphs from two hand-made folded files, and from the
  two-count file `stackprof compare --diff` writes: red where a frame's share
  grew, blue where it shrank, white where it held;
- perf script of two events: the first drawn, the other said; units from
  periods; kinds of frames from the reader's marks;
- names holding markup characters and bytes that are not UTF-8;
- 100,000 unique stacks: the file stays small (frames under --min-width are
  left out) and every frame drawn is at least that wide;
- bad options and files: one line on stderr, non-zero exit, no output file.

No kernel access is needed.
"""

import gzip
import os
import random
import re
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

DATA = os.path.join(sptest.REPO, "tests", "data", "perf-script")
SVG = "{http://www.w3.org/2000/svg}"
WIDTH = 1200
PAD = 10
AVAIL = WIDTH - 2 * PAD
ROW = 16
# Each of x and width is printed to 0.01 px (rounded): a sum of a few of them
# may stray by a little more than one rounding.
PX = 0.011


def data(name):
    return os.path.join(DATA, name + ".txt")


def write(d, name, text, mode="w"):
    path = os.path.join(d, name)
    with open(path, mode) as f:
        f.write(text)
    return path


class Frame:
    def __init__(self, g):
        title = g.find(SVG + "title")
        rect = g.find(SVG + "rect")
        self.name = title.text or ""
        self.kind = g.get("class")
        self.v = int(g.get("data-v"))
        self.o = int(g.get("data-o"))
        self.b = int(g.get("data-b")) if g.get("data-b") is not None else None
        self.x = float(rect.get("x"))
        self.y = float(rect.get("y"))
        self.w = float(rect.get("width"))
        self.fill = rect.get("fill")

    def rgb(self):
        f = self.fill
        return int(f[1:3], 16), int(f[3:5], 16), int(f[5:7], 16)

    def __repr__(self):
        return "%s(v=%d x=%.2f y=%.0f w=%.2f %s)" % (self.name, self.v, self.x, self.y,
                                                     self.w, self.fill)


class Graph:
    """A parsed flame graph: the <svg> root and its frames in document order."""

    def __init__(self, path=None, text=None, result=None):
        try:
            self.root = ET.parse(path).getroot() if path else ET.fromstring(text)
        except ET.ParseError as e:
            sptest.fail("the SVG is not well-formed XML: %s" % e, result)
        check(self.root.tag == SVG + "svg", "the root element is not <svg>", result)
        layer = self.root.find(".//%sg[@id='frames']" % SVG)
        check(layer is not None, "no <g id='frames'>", result)
        self.frames = [Frame(g) for g in layer.findall(SVG + "g")]
        check(self.frames, "no frames drawn", result)
        self.width = float(self.root.get("width"))
        self.result = result

    def named(self, name):
        found = [f for f in self.frames if f.name == name]
        check(len(found) == 1, "expected one frame named %r, found %d: %s"
              % (name, len(found), found[:4]), self.result)
        return found[0]

    def all(self):
        return self.frames[0]

    def script(self):
        s = self.root.find(SVG + "script")
        return s.text if s is not None else ""

    def texts(self):
        return ["".join(t.itertext()) for t in self.root.iter(SVG + "text")]


def flamegraph(args, timeout=60):
    """`stackprof flamegraph ARGS`: must exit 0 with nothing on stderr. Returns the Result."""
    r = sptest.run([sptest.STACKPROF, "flamegraph"] + [str(a) for a in args], timeout=timeout)
    check(r.rc == 0, "stackprof flamegraph failed", r)
    check(r.err == "", "stackprof flamegraph wrote on stderr", r)
    return r


def render(d, args, name="out.svg", timeout=60):
    out = os.path.join(d, name)
    r = flamegraph(["-o", out] + list(args), timeout=timeout)
    check(r.out == "", "something was written on stdout with -o", r)
    return Graph(path=out, result=r), out


def folded_of(d, path):
    """{stack tuple (comm first): count} as `stackprof fold` reads @path."""
    out = os.path.join(d, "fold.folded")
    r = sptest.run([sptest.STACKPROF, "fold", "-o", out, path], timeout=60)
    check(r.rc == 0, "stackprof fold failed", r)
    return {tuple([comm] + frames): c for comm, frames, c in sptest.parse_folded(out, r)}


def inclusive(stacks, prefix):
    """The value of the stacks that start with @prefix (comm first)."""
    k = len(prefix)
    return sum(c for s, c in stacks.items() if s[:k] == tuple(prefix))


def check_tree(g, min_width=0.0):
    """Every frame: width = its share of AVAIL (0.01 px), at least @min_width, inside the
    image; the root spans everything."""
    root = g.all()
    px = AVAIL / root.v
    check(root.name == "all" and abs(root.w - AVAIL) <= PX and abs(root.x - PAD) <= PX,
          "the root 'all' should span the whole width: %s" % root, g.result)
    for f in g.frames:
        check(abs(f.w - f.v * px) <= PX, "frame %s: width is not value x %.6f px" % (f, px),
              g.result)
        check(abs(f.x - (PAD + f.o * px)) <= PX, "frame %s: x is not its offset" % f, g.result)
        check(f.w >= min_width - 0.005, "frame %s is narrower than %s px" % (f, min_width),
              g.result)
        check(f.x + f.w <= PAD + AVAIL + PX, "frame %s passes the right edge" % f, g.result)


# ---------------------------------------------------------------- cases

def test_cpushare_widths(d):
    """work_a : work_b : work_c widths follow the capture's values, exactly, and ~1:2:3."""
    g, _ = render(d, [data("cpushare-g")])
    stacks = folded_of(d, data("cpushare-g"))
    total = sum(stacks.values())
    check(g.all().v == total, "the root's value %d is not the input's total %d"
          % (g.all().v, total), g.result)
    check_tree(g)
    base = ["cpushare", "__libc_start_call_main", "main", "run"]
    widths = {}
    for fn in ("work_a", "work_b", "work_c"):
        f = g.named(fn)
        want = inclusive(stacks, base + [fn])
        check(f.v == want, "%s: value %d, the input says %d" % (fn, f.v, want), g.result)
        check(abs(f.w - AVAIL * want / total) <= PX, "%s: width %.2f, want %.2f"
              % (fn, f.w, AVAIL * want / total), g.result)
        check(f.kind == "user", "%s should be user code, is %s" % (fn, f.kind), g.result)
        widths[fn] = f.w
        sptest.log("  %s: %.2f px (%.1f%%)" % (fn, f.w, 100 * f.w / AVAIL))
    for fn, share in (("work_a", 1 / 6), ("work_b", 2 / 6), ("work_c", 3 / 6)):
        check(abs(widths[fn] / AVAIL - share) < 0.03,
              "%s: %.1f%% of the width, expected about %.1f%% (1:2:3)"
              % (fn, 100 * widths[fn] / AVAIL, 100 * share), g.result)
    # Siblings in name order, side by side; the process frame is the comm.
    a, b, c = g.named("work_a"), g.named("work_b"), g.named("work_c")
    check(a.x < b.x < c.x and abs(b.x - (a.x + a.w)) <= PX, "work_a, work_b, work_c should "
          "sit side by side in name order", g.result)
    check(g.named("cpushare").kind == "process", "the first level is the process name",
          g.result)
    check(a.y == b.y == c.y and g.named("run").y - a.y == ROW,
          "a level is one row above its parent", g.result)
    # Weights are cpu-clock periods: nanoseconds, so the subtitle shows a time.
    check(any(re.search(r"total \d+ ms of cpu time, event cpu-clock$", t) for t in g.texts()),
          "the subtitle should give the total as CPU time: %s" % g.texts()[:3], g.result)
    check("unit: \"nanoseconds\"" in g.script(), "the script should get the unit", g.result)
    # Kernel frames are marked so by the reader: their own colour family and class.
    kernel = [f for f in g.frames if f.kind == "kernel"]
    check(kernel, "no kernel frame in a capture that has some", g.result)


def test_inputs_agree(d):
    """A file, stdin, gzip and stdout give the same frames."""
    want, out = render(d, [data("cpushare-g")])
    with open(out) as f:
        text = f.read()
    r = flamegraph([data("cpushare-g")])
    check(r.out == text, "stdout differs from -o", r)
    gz = write(d, "in.txt.gz", gzip.compress(open(data("cpushare-g"), "rb").read()), "wb")
    g2, _ = render(d, [gz], "gz.svg")
    r = sptest.run(["sh", "-c", '"$0" flamegraph < "$1"', sptest.STACKPROF, data("cpushare-g")],
                   timeout=60)
    check(r.rc == 0, "stdin failed", r)
    g3 = Graph(text=r.out, result=r)
    sig = [(f.name, f.v, f.x, f.w) for f in want.frames]
    check([(f.name, f.v, f.x, f.w) for f in g2.frames] == sig, "gzip input drew other frames")
    check([(f.name, f.v, f.x, f.w) for f in g3.frames] == sig, "stdin drew other frames")
    check(sorted(os.listdir(d)) == ["gz.svg", "in.txt.gz", "out.svg"],
          "stray files next to the outputs (not written atomically?): %s" % os.listdir(d))


def test_options(d):
    """--reverse, --title, --width."""
    normal, _ = render(d, [data("cpushare-g")])
    g, _ = render(d, ["--reverse", data("cpushare-g")], "rev.svg")
    check_tree(g)
    root, proc, run = g.all(), g.named("cpushare"), g.named("run")
    check(root.y == min(f.y for f in g.frames), "--reverse: the root should be on top", g.result)
    check(proc.y - root.y == ROW and run.y > proc.y, "--reverse: stacks grow down", g.result)
    check(normal.all().y == max(f.y for f in normal.frames), "default: the root at the bottom")
    g, _ = render(d, ["--title", "My <profile> & co", "--width", "800", data("cpushare-g")],
                  "opts.svg")
    check(g.width == 800 and abs(g.all().w - 780) <= PX, "--width 800: root 780 px wide",
          g.result)
    check("My <profile> & co" in g.texts(), "the title is not shown as given: %s"
          % g.texts()[:2], g.result)
    a, c = g.named("work_a"), g.named("work_c")
    check(abs(c.w / a.w - c.v / a.v) < 0.001, "--width: widths stay proportional", g.result)


def test_min_width(d):
    """Frames under --min-width are left out; their value stays in the parent."""
    # main's children: hot 100000 and 50 stacks of 1 (0.012 px each at 1200 px).
    lines = ["p;main;hot 100000"] + ["p;main;cold_%02d 1" % i for i in range(50)]
    src = write(d, "cold.folded", "\n".join(lines) + "\n")
    g, _ = render(d, [src])
    check(not [f for f in g.frames if f.name.startswith("cold_")],
          "0.012 px frames drawn under the default --min-width 0.1", g.result)
    main, hot = g.named("main"), g.named("hot")
    check(main.v == 100050 and abs(main.w - AVAIL) <= PX and hot.v == 100000,
          "main keeps the cold frames' value: %s, %s" % (main, hot), g.result)
    check_tree(g, 0.1)
    g, _ = render(d, ["--min-width", "0", src], "all.svg")
    check(len([f for f in g.frames if f.name.startswith("cold_")]) == 50,
          "--min-width 0 should draw every frame", g.result)
    g, _ = render(d, ["--min-width", "200", src], "wide.svg")
    check([f.name for f in g.frames] == ["all", "p", "main", "hot"],
          "--min-width 200 keeps only the wide frames: %s" % g.frames, g.result)


def diff_frames(g):
    return {f.name: f for f in g.frames}


def check_diff_colours(g, what):
    fr = diff_frames(g)
    grow, shrink, same = fr["grow"], fr["shrink"], fr["same"]
    r, gg, b = grow.rgb()
    check(r == 255 and gg < 150 and b < 150, "%s: 'grow' should be red: %s" % (what, grow),
          g.result)
    r, gg, b = shrink.rgb()
    check(b == 255 and r < 150, "%s: 'shrink' should be blue: %s" % (what, shrink), g.result)
    for name in ("same", "main", "p"):
        check(fr[name].fill == "#ffffff", "%s: %r held its share, should be white: %s"
              % (what, name, fr[name]), g.result)
    # Widths from B (after), the before value beside.
    check(abs(grow.w - AVAIL * 50 / 100) <= PX and grow.v == 50 and grow.b == 10,
          "%s: widths come from B: %s" % (what, grow), g.result)
    check(shrink.v == 10 and shrink.b == 50 and same.v == 40 and same.b == 40,
          "%s: values before and after" % what, g.result)
    check("diff: true" in g.script(), "%s: the script should know it is a diff" % what)


def test_diff(d):
    """A before, B after: red grew, blue shrank, white held; the two-count file alike."""
    a = write(d, "a.folded", "p;main;grow 10\np;main;shrink 50\np;main;same 40\n")
    b = write(d, "b.folded", "p;main;grow 50\np;main;shrink 10\np;main;same 40\n")
    g, _ = render(d, ["--diff", a, b], "ab.svg")
    check_diff_colours(g, "--diff A B")
    check_tree(g)
    # The same through compare --diff's "stack count_a count_b" lines, with and without --diff.
    two = os.path.join(d, "two.folded")
    r = sptest.run([sptest.STACKPROF, "compare", "--diff", "-o", two, a, b], timeout=30)
    check(r.rc == 0, "compare --diff failed", r)
    for args, name in ((["--diff", two], "two-diff.svg"), ([two], "two.svg")):
        g2, _ = render(d, args, name)
        check_diff_colours(g2, " ".join(args))
        check([(f.name, f.v, f.b, f.w, f.fill) for f in g2.frames]
              == [(f.name, f.v, f.b, f.w, f.fill) for f in g.frames],
              "%s draws other frames than --diff A B" % args, g2.result)
    # Shares are compared, not values: "same" went from 40% to 80% of its total (the largest
    # change, full red), "new" from nothing to 20% (half as red).
    c = write(d, "c.folded", "p;main;same 400\np;main;new 100\n")
    g3, _ = render(d, ["--diff", a, c], "new.svg")
    fr = diff_frames(g3)
    same, new = fr["same"].rgb(), fr["new"].rgb()
    check(same[0] == 255 and same[1] == same[2] < 100, "'same' grew most: full red: %s"
          % fr["same"], g3.result)
    check(new[0] == 255 and new[1] == new[2] and same[2] < new[2] < 255 and fr["new"].b == 0,
          "a frame new in B should be red, paler for a smaller change: %s" % fr["new"], g3.result)


def test_events(d):
    """perf script: the first event drawn (the rest said), its periods' unit, kinds of frames."""
    out = os.path.join(d, "rules.svg")
    r = sptest.run([sptest.STACKPROF, "flamegraph", "-o", out, data("rules")], timeout=60)
    check(r.rc == 0, "stackprof flamegraph failed", r)
    check(r.err.count("\n") == 1 and "drew only event cycles" in r.err,
          "one warning naming the event drawn", r)
    g = Graph(path=out, result=r)
    check(any(t.endswith("total 2,052 cycles, event cycles") for t in g.texts()),
          "periods of cycles are counts of cycles: %s" % g.texts()[:2], r)
    kinds = {}
    for f in g.frames:
        kinds.setdefault(f.name, set()).add(f.kind)
    # The reader's marks make the kinds, and are not shown: _[k] kernel, _[i] inlined.
    for name, kind in (("native_safe_halt", "kernel"), ("tcp_sendmsg", "kernel"),
                       ("inner", "inline"), ("innermost", "inline"), ("outer", "user"),
                       ("[unknown]", "unknown"), ("[libfoo.so.1]", "unknown"),
                       ("main", "user"), ("prog", "process"), ("all", "root")):
        check(kinds.get(name) == {kind}, "%s should be %s: %s" % (name, kind, kinds.get(name)),
              r)
    check(not [n for n in kinds if n.endswith(("_[k]", "_[i]", "_[j]"))],
          "marks left in names: %s" % sorted(kinds), r)
    # A tracepoint keeps its whole name; its periods (1) are samples.
    tp = write(d, "tp.txt", "prog 4242/4243 [001] 100.000001:          1 sched:sched_switch: \n"
               "\t    7f00000011a0 leaf+0x10 (/usr/bin/prog)\n"
               "\t    7f0000001200 main (/usr/bin/prog)\n\n")
    g, _ = render(d, [tp], "tp.svg")
    check(any(t.endswith("total 1 samples, event sched:sched_switch") for t in g.texts()),
          "a tracepoint is named whole: %s" % g.texts()[:2], g.result)


def test_names_escaped(d):
    """Markup characters, quotes and bytes that are not UTF-8 in names: well-formed XML."""
    text = (b"my <prog>;a&b;\"quoted\" 'single';<script>alert(1)</script> 5\n"
            b"my <prog>;bad\xff\xfe\x01;caf\xc3\xa9 3\n"
            b"my <prog>;]]>;x 2\n")
    src = write(d, "odd.folded", text, "wb")
    g, out = render(d, [src])
    names = {f.name for f in g.frames}
    for want in ("my <prog>", "a&b", "\"quoted\" 'single'", "<script>alert(1)</script>",
                 "bad\ufffd\ufffd\ufffd", "caf\u00e9", "]]>"):
        check(want in names, "no frame named %r: %s" % (want, sorted(names)), g.result)
    raw = open(out, "rb").read()
    check(b"<script>alert" not in raw and b"\xff" not in raw, "a name was written unescaped")
    check(raw.count(b"<script") == 1, "only the graph's own script")


def test_many_stacks(d):
    """100,000 unique stacks: a file of a few hundred KB, drawn in seconds."""
    rnd = random.Random(7)
    funcs = ["fn_%04d" % i for i in range(3000)]
    seen = set()
    src = os.path.join(d, "big.folded")
    with open(src, "w") as f:
        while len(seen) < 100000:
            depth = rnd.randint(3, 30)
            st = ["proc%d" % rnd.randint(0, 3)] + [
                funcs[min(int(rnd.expovariate(1 / (5 + i * 40))), 2999)] for i in range(depth)]
            k = ";".join(st)
            if k not in seen:
                seen.add(k)
                f.write("%s %d\n" % (k, rnd.randint(1, 100)))
    start = time.monotonic()
    g, out = render(d, [src], timeout=120)
    elapsed = time.monotonic() - start
    size = os.path.getsize(out)
    sptest.log("  100,000 stacks (%.1f MB folded): %d frames drawn, %.0f KB of SVG in %.2f s"
               % (os.path.getsize(src) / 1e6, len(g.frames), size / 1e3, elapsed))
    check(size < 4_000_000, "the SVG of 100,000 stacks is %d bytes: frames under --min-width "
          "should not be written" % size)
    check(elapsed < 30, "took %.1f s" % elapsed)
    check_tree(g, 0.1)
    check(g.all().v == sum(int(line.rsplit(" ", 1)[1]) for line in open(src)),
          "the root holds every stack's value", g.result)


def check_error(d, args, mentions=()):
    outdir = os.path.join(d, "out")
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, "never.svg")
    for argv in ([sptest.STACKPROF, "flamegraph"] + args,
                 [sptest.STACKPROF, "flamegraph", "-o", out] + args):
        r = sptest.run(argv, timeout=30)
        sptest.check_error_contract(r, outdir, out, mentions=mentions)
        check(r.out == "", "something was written on stdout", r)


def test_errors(d):
    inputs = os.path.join(d, "in")
    os.makedirs(inputs)
    a = write(inputs, "a.folded", "p;main;f 3\n")
    empty = write(inputs, "empty.folded", "")
    junk = write(inputs, "junk.folded", "this is not a profile\nnor this\n")
    zeros = write(inputs, "zeros.folded", "p;main;f 0 5\n")
    missing = os.path.join(inputs, "no-such-file.folded")
    cases = [
        ([missing], [missing]),
        ([inputs], ["directory"]),
        ([empty], ["no samples"]),
        ([junk], ["no samples", "could not be parsed"]),
        ([a, a], ["one profile at a time"]),
        (["--diff"], ["--diff takes two profiles"]),
        (["--diff", a], ["one count per line"]),
        (["--diff", a, a, a], ["extra"]),
        (["--diff", a, missing], [missing]),
        (["--diff", empty, a], ["no samples"]),
        (["--diff", zeros], ["first count"]),
        (["--width", "wide", a], ["--width"]),
        (["--width", "5", a], ["--width"]),
        (["--min-width", "-1", a], ["--min-width"]),
        (["--min-width", "0.1px", a], ["--min-width"]),
        (["--title"], ["--title"]),
        (["--bogus", a], ["unknown option"]),
    ]
    for args, mentions in cases:
        sptest.log("- %s" % args)
        check_error(d, args, mentions)
    r = sptest.run([sptest.STACKPROF, "flamegraph", "-o", "/nonexistent/dir/x.svg", a],
                   timeout=30)
    check(0 < r.rc < 128 and r.err.count("\n") == 1 and "does not exist" in r.err
          and r.out == "", "an output directory that does not exist", r)


def test_help(d):
    r = flamegraph(["--help"])
    for opt in ("--title", "--width", "--reverse", "--min-width", "--diff", "--output"):
        check(opt in r.out, "--help does not mention %s" % opt, r)
    r = sptest.run([sptest.STACKPROF, "--help"], timeout=30)
    check(r.rc == 0 and "flamegraph" in r.out, "the main --help should list flamegraph", r)


if __name__ == "__main__":
    if not os.access(sptest.STACKPROF, os.X_OK):
        sptest.log("FAIL %s: stackprof binary not found at %s (build it first)"
                   % (sptest.TEST_NAME, sptest.STACKPROF))
        sys.exit(1)
    sptest.main([test_cpushare_widths, test_inputs_agree, test_options, test_min_width,
                 test_diff, test_events, test_names_escaped, test_many_stacks, test_errors, test_help])

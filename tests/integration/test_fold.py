"""stackprof fold: `perf script` text to folded stacks, by the reference collapser's rules.

Golden tests: tests/data/perf-script/ holds `perf script` output captured on
this machine (perf record on the test workloads, several field sets) and a
hand-written input, rules.txt, that exercises one rule per sample. Each
expected file under expected/ was produced by stackprof, compared line for
line with the reference collapser on the same input and options, and read by
hand against the rules (docs/perf-script.md); the rule cases below restate
the important ones as explicit assertions, so a wrong golden file cannot hide
a wrong rule. The outputs are compared as sets of lines (stackprof sorts by
count, the reference by name).

Then: the same input from stdin and gzip'd, weights summed from the input's
own period fields, bad input (binary junk, truncated samples, overlong lines,
--strict), memory that does not grow with the input, the progress line, and
the error contract for bad options and files. No kernel access is needed.
"""

import gzip
import os
import pty
import resource
import select
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

DATA = os.path.join(sptest.REPO, "tests", "data", "perf-script")

# (input, expected-file case, fold options)
GOLDEN = [
    ("rules", "default", []),
    ("rules", "pid", ["--pid"]),
    ("rules", "tid", ["--tid"]),
    ("rules", "kernel", ["--kernel"]),
    ("rules", "jit", ["--jit"]),
    ("rules", "all", ["--all"]),
    ("rules", "addrs", ["--addrs"]),
    ("rules", "event-instructions", ["--event-filter", "instructions"]),
    ("cpushare-g", "default", []),
    ("cpushare-g", "pid", ["--pid"]),
    ("cpushare-g", "tid", ["--tid"]),
    ("cpushare-nog", "default", []),
    ("cpushare-srcline", "default", []),
    ("cpushare-srcline", "srcline", ["--srcline"]),
    ("blocker-multi", "default", []),
    ("blocker-multi", "kernel", ["--kernel"]),
    ("blocker-multi", "event-sched", ["--event-filter", "sched:sched_switch"]),
    ("blocker-fields", "default", []),
    ("blocker-fields", "tid", ["--tid"]),
    ("blocker-fields", "all", ["--all"]),
    ("blocker-fields", "addrs", ["--addrs"]),
]


def data(name):
    return os.path.join(DATA, name + ".txt")


def lines_of(text):
    return sorted(l for l in text.split("\n") if l)


def fold(args, timeout=60, **kw):
    return sptest.run([sptest.STACKPROF, "fold"] + [str(a) for a in args], timeout=timeout, **kw)


def fold_ok(args):
    r = fold(args)
    check(r.rc == 0, "stackprof fold failed", r)
    return r


def folded_dict(text):
    """{stack: count} of folded text."""
    d = {}
    for line in text.split("\n"):
        if line:
            stack, count = line.rsplit(" ", 1)
            d[stack] = d.get(stack, 0) + int(count)
    return d


def test_golden(d):
    """Every input and option set against its expected file, as a set of lines."""
    for name, case, opts in GOLDEN:
        with open(os.path.join(DATA, "expected", "%s.%s.folded" % (name, case))) as f:
            want = lines_of(f.read())
        check(want, "expected/%s.%s.folded is empty" % (name, case))
        r = fold_ok(opts + [data(name)])
        got = lines_of(r.out)
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        check(not missing and not extra and len(got) == len(want),
              "%s %s: %d lines missing, %d extra\n  missing: %s\n  extra: %s"
              % (name, " ".join(opts) or "(no options)", len(missing), len(extra),
                 missing[:3], extra[:3]), r)


def test_rules(d):
    """The rules of docs/perf-script.md, each asserted on rules.txt."""
    plain = folded_dict(fold_ok([data("rules")]).out)
    tid = folded_dict(fold_ok(["--tid", data("rules")]).out)
    allm = folded_dict(fold_ok(["--all", data("rules")]).out)
    addrs = folded_dict(fold_ok(["--addrs", data("rules")]).out)
    instr = folded_dict(fold_ok(["--event-filter", "instructions", data("rules")]).out)

    # Weights are the period field; only the first event (cycles) by default;
    # a period of 0 counts 1; a tracepoint with raw fields is never filtered (1).
    check(plain.get("prog;main;leaf") == 250, "cycles sample weighs its period 250: %s" % plain)
    check(plain.get("swapper;cpu_startup_entry;native_safe_halt") == 1, "period 0 counts 1")
    check(plain.get("prog;main;__schedule") == 1, "tracepoint sample kept with weight 1")
    check(instr == {"prog;main;leaf": 100, "prog;main;__schedule": 1},
          "--event-filter instructions keeps the instructions sample (and the tracepoint): %s"
          % instr)
    # A sample without frames is its process name alone.
    check(plain.get("prog") == 250, "a frameless sample is 'prog 250': %s" % plain)
    # Names: offsets go, ';' -> ':', quotes go, C++ argument lists cut, Go and
    # (anonymous namespace) parentheses kept.
    cpp = [s for s in plain if "push_back" in s]
    check(cpp == ["prog;main;weird:namewithquotes;net/http.(*Client).Do;main.(*Server).Run;"
                  "ns::(anonymous namespace)::helper;"
                  "std::vector<int, std::allocator<int> >::push_back;leaf"],
          "tidied C++/Go names: %s" % cpp)
    # Java: the 'L' goes, slashes stay; JIT and kernel marks with --all.
    java = [s for s in allm if s.startswith("java;")]
    check(java == ["java;JavaCalls::call_helper;java/lang/Thread:::run_[j];"
                   "org/mozilla/javascript/ContextFactory:.call_[j]"], "java stack: %s" % java)
    kern = [s for s in allm if "native_safe_halt_[k]" in s and s.startswith("prog;")]
    check(kern == ["prog;main;__vdso_clock_gettime_[k];[unknown];[libfoo.so.1];tcp_sendmsg_[k];"
                   "ipv4_conntrack_local_[k];native_safe_halt_[k]"], "kernel marks: %s" % kern)
    # Inline chains, unknown frames by module base name (spaces in the path),
    # process names in parentheses skipped, spaces in the command made '_'.
    v8 = [s for s in plain if s.startswith("V8_WorkerThread;")]
    check(v8 == ["V8_WorkerThread;gone+0x8 ;RegExp:[&<>\\\\];Builtin:ArgumentsAdaptorTrampoline;"
                 "[lib x.so];outer;inner_[i];innermost_[i]"], "V8 stack: %s" % v8)
    # --addrs puts the address in unknown frames.
    check(any("[unknown <7fff00001000>];[libfoo.so.1 <7f0000001300>]" in s for s in addrs),
          "--addrs: %s" % list(addrs))
    # --tid: COMM-PID/TID; a lone number is the tid, the pid '?'.
    check("V8_WorkerThread-24636/25607;" in "".join(tid) and
          any(s.startswith("swapper-?/0;") for s in tid), "--tid roots: %s" % list(tid))


def test_weights_from_input(d):
    """The total weight equals the sum of the kept samples' period fields."""
    for name in ("cpushare-g", "blocker-multi"):
        first_event, want = None, 0
        with open(data(name)) as f:
            for line in f:
                if line.startswith("#") or line[:1].isspace() or not line.strip():
                    continue
                head = line.rstrip()
                if head.endswith(":"):
                    period, event = head.split()[-2:]
                    first_event = first_event or event
                    if event == first_event:
                        want += int(period) if period.isdigit() else 1
                else:
                    want += 1  # tracepoint with raw fields
        got = sum(folded_dict(fold_ok([data(name)]).out).values())
        check(got == want, "%s: folded total %d, periods in the input sum to %d"
              % (name, got, want))


def test_stdin_gzip_output_file(d):
    """stdin, a gzip'd file, gzip on stdin and -o FILE all give the same lines."""
    src = data("blocker-fields")
    want = lines_of(fold_ok([src]).out)
    gz = os.path.join(d, "in.txt.gz")
    with open(src, "rb") as f, gzip.open(gz, "wb") as g:
        g.write(f.read())
    check(lines_of(fold_ok([gz]).out) == want, "gzip'd file folds differently")
    for path in (src, gz):
        with open(path, "rb") as f:
            p = subprocess.run([sptest.STACKPROF, "fold"], stdin=f, capture_output=True,
                               timeout=60)
        check(p.returncode == 0 and lines_of(p.stdout.decode()) == want,
              "stdin from %s folds differently: %s" % (path, p.stderr.decode()))
    out = os.path.join(d, "out.folded")
    r = fold_ok(["-o", out, src])
    check(r.out == "", "-o: nothing on stdout", r)
    with open(out) as f:
        check(lines_of(f.read()) == want, "-o file differs")
    check(sorted(os.listdir(d)) == ["in.txt.gz", "out.folded"],
          "stray files: %s" % os.listdir(d))


def test_malformed_input(d):
    """Junk lines are counted and named by their first line number; --strict fails."""
    src = open(data("cpushare-g")).read().split("\n")
    # Line 3 (1-based) becomes junk; line 10 binary; a 2 MiB line after it.
    bad = src[:2] + ["this is not perf script"] + src[2:8] + ["\x00\x01\x02 bin"] + \
        ["x" * (2 << 20)] + src[8:]
    path = os.path.join(d, "bad.txt")
    with open(path, "w") as f:
        f.write("\n".join(bad))
    r = fold([path])
    check(r.rc == 0, "junk lines are skipped without --strict", r)
    err = r.err.strip().split("\n")
    check(len(err) == 1 and "3 lines could not be parsed" in err[0] and "first: line 3" in err[0],
          "one warning naming 3 lines and line 3", r)
    good = folded_dict(fold_ok([data("cpushare-g")]).out)
    got = folded_dict(r.out)
    check(sum(got.values()) == sum(good.values()),
          "the junk lines cost no sample: %d vs %d" % (sum(got.values()), sum(good.values())), r)
    out = os.path.join(sptest.scratch("malformed-strict"), "strict.folded")
    r = fold(["--strict", "-o", out, path])
    sptest.check_error_contract(r, os.path.dirname(out), out, mentions_all=("line 3", "--strict"))
    check(r.out == "", "--strict writes nothing to stdout", r)


def test_truncated_and_unterminated(d):
    """A file cut inside a frame line, and a last sample with no blank line: kept."""
    text = open(data("cpushare-g")).read()
    # Cut inside the third sample's last frame line.
    samples = text.split("\n\n")
    cut = "\n\n".join(samples[:2]) + "\n\n" + samples[2][: samples[2].rfind("(") + 8]
    path = os.path.join(d, "cut.txt")
    with open(path, "w") as f:
        f.write(cut)
    r = fold(["-v", path])
    check(r.rc == 0, "a truncated input still folds", r)
    got = folded_dict(r.out)
    check(len([1 for _ in got]) >= 1 and sum(got.values()) == 3 * 5025125,
          "three samples (the last one cut short) of 5025125: %s" % got, r)
    check("could not be parsed" in r.err and "ended inside a sample" in r.err,
          "the cut line is reported, and the unterminated sample", r)
    # No blank line at the end at all: same as with it.
    path2 = os.path.join(d, "noblank.txt")
    with open(path2, "w") as f:
        f.write(text.rstrip("\n"))
    check(lines_of(fold_ok([path2]).out) == lines_of(fold_ok([data("cpushare-g")]).out),
          "a missing final blank line loses the last sample")


def test_binary_junk(d):
    """Random bytes, empty input, a lone header: no crash, exit 0 or a clear --strict error."""
    path = os.path.join(d, "junk.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(1 << 20))
    r = fold([path])
    check(r.rc == 0 and r.err.count("\n") == 1 and "could not be parsed" in r.err,
          "random bytes: skipped with one warning", r)
    r = fold(["--strict", path])
    check(r.rc == 1 and r.out == "" and r.err.startswith("stackprof: fold:"), "--strict", r)
    empty = os.path.join(d, "empty.txt")
    open(empty, "w").close()
    r = fold([empty])
    check(r.rc == 0 and r.out == "", "empty input: no output", r)
    lone = os.path.join(d, "lone.txt")
    with open(lone, "w") as f:
        f.write("prog 1 [000] 1.0: 7 cycles:")
    r = fold([lone])
    check(r.rc == 0 and lines_of(r.out) == ["prog 7"], "a lone header is one sample", r)


# Runs a command with stdin passed through and prints its peak RSS (KB) on stderr last:
# a fresh process, so the figure is that command's alone.
_MAXRSS = ("import resource, subprocess, sys\n"
           "rc = subprocess.call(sys.argv[1:])\n"
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
           "sys.exit(rc)\n")


def test_memory_bounded(d):
    """Peak RSS does not grow with the input: 16 MB and 160 MB of text, same stacks."""
    one = open(data("blocker-multi"), "rb").read()
    single = sum(folded_dict(fold_ok([data("blocker-multi")]).out).values())
    rss = {}
    for mb in (16, 160):
        copies = (mb << 20) // len(one) + 1
        p = subprocess.Popen([sys.executable, "-c", _MAXRSS, sptest.STACKPROF, "fold"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            # The output is a few KB: it fits the pipe while the input is written.
            for _ in range(copies):
                p.stdin.write(one)
            p.stdin.close()
            out = p.stdout.read()
            err = p.stderr.read().decode()
            p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 0, "fold of %d MB failed: %s" % (mb, err))
        rss[mb] = int(err.strip().split("\n")[-1])
        total = sum(folded_dict(out.decode()).values())
        check(total == copies * single, "%d MB: total %d, want %d copies x %d"
              % (mb, total, copies, single))
    sptest.log("  peak RSS: %s KB" % rss)
    check(rss[160] - rss[16] < 2048, "peak RSS grew from %d KB to %d KB with the input"
          % (rss[16], rss[160]))
    check(rss[160] < 32 * 1024, "peak RSS %d KB for a few dozen unique stacks" % rss[160])


def test_progress_on_terminal(d):
    """A progress line on stderr when it is a terminal and the input a file; else none."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([sptest.STACKPROF, "fold", data("cpushare-g")],
                             stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        slave = None
        p.wait(timeout=60)
        seen = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    check(p.returncode == 0, "fold on a terminal failed")
    check(b"fold: " in seen and b"% of" in seen, "no progress line on a terminal: %r" % seen[:200])
    r = fold_ok([data("cpushare-g")])
    check("% of" not in r.err, "progress printed to a pipe", r)


def test_errors(d):
    """Bad options and files: one line on stderr, non-zero exit, no output file."""
    empty = sptest.scratch("errors-out")
    out = os.path.join(empty, "out.folded")
    cases = [
        (["/nonexistent/perf.txt"], ("cannot open", "No such file")),
        ([d], ("directory",)),
        ([data("rules"), data("rules")], ("one input",)),
        (["--bogus", data("rules")], ("unknown option",)),
        (["--event-filter", "", data("rules")], ("--event-filter",)),
        (["--event-filter"], ("--event-filter",)),
    ]
    for args, mentions in cases:
        r = fold(["-o", out] + args)
        sptest.check_error_contract(r, empty, out, mentions=mentions)
    # An event that is not in the input: a warning naming one that is.
    r = fold_ok(["--event-filter", "nope", data("cpushare-g")])
    check(r.out == "" and "no sample is of event nope" in r.err and "cpu-clock" in r.err,
          "an absent event is explained", r)
    # An output directory that does not exist: an error before reading anything.
    r = fold(["-o", "/nonexistent/dir/out.folded", data("rules")])
    check(0 < r.rc < 128 and r.err.count("\n") == 1 and r.out == "", "bad -o", r)


if __name__ == "__main__":
    for path in (sptest.STACKPROF,):
        if not os.access(path, os.X_OK):
            sptest.log("FAIL test_fold: stackprof not found at %s (build it first)" % path)
            sys.exit(1)
    sptest.main([test_golden, test_rules, test_weights_from_input, test_stdin_gzip_output_file,
                 test_malformed_input, test_truncated_and_unterminated, test_binary_junk,
                 test_memory_bounded, test_progress_on_terminal, test_errors])

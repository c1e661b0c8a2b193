"""The SVG flame graph in a real browser: Debian's chromium, headless, driven by
tests/browser/flamegraph.js through playwright-core (npm, pinned in
package.json, installed into tests/browser/node_modules on first use).

It draws two graphs with `stackprof flamegraph`, a hand-made one of
work_a/work_b/work_c at exactly 1:2:3 and one of the committed perf script
capture of the cpushare workload, then checks in the browser: the drawn width
ratios, the tooltip (value with its unit, percent of the total), click to
zoom and "Reset zoom", Ctrl-F and search with the matched share. Screenshots
are left in the build tree (their paths are printed).

Without chromium, node or npm it skips, saying what to install; under
CI=true that is a failure.
"""

import os
import shutil
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import sptest  # noqa: E402
from sptest import check  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.environ.get("BROWSER_ARTIFACTS") or os.path.join(sptest.TMP, "browser")
CAPTURE = os.path.join(sptest.REPO, "tests", "data", "perf-script", "cpushare-g.txt")
SHAPE = "".join("cpushare;main;run;%s;spin %d\n" % (f, n)
                for f, n in (("work_a", 1000), ("work_b", 2000), ("work_c", 3000)))


def need(cond, what):
    """Skips (fails under CI=true) when a tool is missing; says how to get it."""
    if not cond:
        sptest.skip(what + " (scripts/install-deps.sh installs it)")


def node_modules():
    """playwright-core in tests/browser/node_modules, installed by npm ci if absent."""
    if os.path.isfile(os.path.join(HERE, "node_modules", "playwright-core", "package.json")):
        return
    r = sptest.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                   timeout=240)
    check(r.rc == 0, "npm ci in tests/browser could not install playwright-core "
          "(the npm registry must be reachable the first time)", r)


def test_browser(d):
    need(os.access(CHROMIUM, os.X_OK), "no chromium at %s" % CHROMIUM)
    need(shutil.which("node"), "no node")
    need(shutil.which("npm"), "no npm")
    node_modules()
    shape = os.path.join(d, "shape.folded")
    with open(shape, "w") as f:
        f.write(SHAPE)
    svgs = []
    for src, name in ((shape, "shape.svg"), (CAPTURE, "capture.svg")):
        out = os.path.join(d, name)
        r = sptest.run([sptest.STACKPROF, "flamegraph", "-o", out, src], timeout=30)
        check(r.rc == 0 and os.path.isfile(out), "stackprof flamegraph failed", r)
        svgs.append(out)
    os.makedirs(ARTIFACTS, exist_ok=True)
    r = sptest.run(["node", os.path.join(HERE, "flamegraph.js")] + svgs + [ARTIFACTS],
                   timeout=60)
    for line in r.out.splitlines():
        sptest.log("  " + line)
    check(r.rc == 0, "the browser checks failed", r)
    check("all checks passed" in r.out, "the browser script did not finish", r)


if __name__ == "__main__":
    if not os.access(sptest.STACKPROF, os.X_OK):
        sptest.log("FAIL %s: stackprof binary not found at %s (build it first)"
                   % (sptest.TEST_NAME, sptest.STACKPROF))
        sys.exit(1)
    sptest.main([test_browser])

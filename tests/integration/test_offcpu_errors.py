"""offcpu's bad input: every case must exit non-zero by itself (no signal), print
exactly one line on stderr starting with "stackprof:", and create no output file.

Each case carries -d 1, so an input wrongly accepted still ends quickly (and
then fails the test on its exit code).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sptest  # noqa: E402
import offcpu_util as ou  # noqa: E402


def case(name, *args, mentions=None):
    def run(d):
        ou.check_error(d, list(args) + ["-d", 1], mentions=mentions)
    run.__name__ = "test_" + name
    return run


CASES = [
    case("state_unknown_letter", "--state", "X", mentions=["state", "X"]),
    case("state_empty", "--state", "", mentions=["state"]),
    case("state_lowercase", "--state", "s", mentions=["state"]),
    case("state_junk_after_valid", "--state", "S,Q", mentions=["state"]),
    case("min_block_not_a_duration", "--min-block", "abc", mentions=["min-block", "abc"]),
    case("min_block_bad_unit", "--min-block", "5parsecs", mentions=["min-block"]),
    case("min_block_negative", "--min-block", "-5ms", mentions=["min-block"]),
    case("max_block_not_a_duration", "--max-block", "1x", mentions=["max-block"]),
    case("min_above_max", "--min-block", "5ms", "--max-block", "1ms",
         mentions=["min-block", "max-block"]),
    case("max_below_min_given_first", "--max-block", "1ms", "--min-block", "5ms",
         mentions=["min-block", "max-block"]),
    case("pid_missing", "-p", 999999999, mentions=["999999999"]),
    case("tid_missing", "-t", 999999999, mentions=["999999999"]),
]


if __name__ == "__main__":
    sptest.require_kernel()
    sptest.main(CASES)

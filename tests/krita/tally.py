"""How many tests a Krita suite collected and how many it ran, so that run.sh can tell a suite
that passed from one that ran nothing (a Krita that handed its work to another one already
running and exited 0, a harness that never started pytest).

As a pytest plugin (``-p tests.krita.tally``) it writes ``{"collected": N, "ran": M}`` to the
file named by $KRITA_DEEPCOLOR_TALLY when the session ends; ``python3 tests/krita/tally.py FILE
SUITE`` then exits 1, saying why, unless the file exists and every collected test ran.
"""

from __future__ import annotations

import json
import os
import sys

_ran: set[str] = set()


def pytest_runtest_logreport(report):
    # a test ran when its call phase reported, or it was skipped (a skip is the test's decision)
    if report.when == "call" or report.skipped:
        _ran.add(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("KRITA_DEEPCOLOR_TALLY")
    if path:
        with open(path, "w") as handle:
            json.dump({"collected": session.testscollected, "ran": len(_ran)}, handle)


def check(path: str, suite: str) -> int:
    try:
        with open(path) as handle:
            tally = json.load(handle)
    except (OSError, ValueError):
        print(f"FAIL: the {suite} suite ran no tests (no tally: did Krita start pytest at all?)",
              file=sys.stderr)
        return 1
    if tally["collected"] == 0 or tally["ran"] < tally["collected"]:
        print(f"FAIL: the {suite} suite collected {tally['collected']} tests and ran {tally['ran']}",
              file=sys.stderr)
        return 1
    print(f"== {suite} suite ran all {tally['ran']} tests it collected")
    return 0


if __name__ == "__main__":
    sys.exit(check(*sys.argv[1:3]))

"""kritarunner entry point: ``kritarunner -s tests.krita.runner.entry -f main -- PYTEST_ARGS``.

kritarunner always exits 0, so the pytest result leaves through ``os._exit``.
"""

import os
import sys


def main(args):
    import pytest

    try:
        rc = int(pytest.main(list(args)))
    except BaseException as exc:  # noqa: BLE001 - whatever happens, the exit code must say so
        print(f"pytest could not run: {exc!r}", file=sys.stderr)
        rc = 3
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)

"""Runs pytest inside the full Krita app once its first window exists, then exits with pytest's code.

Active only when KRITA_DEEPCOLOR_GUI_TESTS holds the pytest arguments (tests/krita/run.sh sets it).

* pytest runs in a greenlet: when a test waits (tests/krita/helpers.py), control goes back to
  Krita's own event loop. Krita 5.1 holds back layer-model updates (the layer box, the active
  layer) while a nested event loop runs, so waiting with processEvents would not do.
* Krita's excepthook opens a modal dialog, which would hang a headless run: ours prints the
  traceback and exits with 98. It writes to a copy of the terminal's stderr taken before pytest
  starts: while a test waits, pytest's output capture holds file descriptor 2, and whatever
  goes there is lost when the process exits.
* A watchdog thread exits with 97 if the run takes too long, even when the main thread is stuck.
"""

import faulthandler
import os
import shlex
import sys
import threading
import traceback

from krita import Extension, Krita
from PyQt5.QtCore import QTimer

PYTEST_ARGS = os.environ.get("KRITA_DEEPCOLOR_GUI_TESTS")
WATCHDOG_S = float(os.environ.get("KRITA_DEEPCOLOR_WATCHDOG", "900"))
TERMINAL = os.dup(2) if PYTEST_ARGS else 2  # the terminal's stderr, whoever holds descriptor 2 later
START_DELAY_MS = 1000  # let the window finish building its dockers
RESUME_MS = 5  # a waiting test is resumed after Krita's event loop has had this long


def _flush():
    sys.stdout.flush()
    sys.stderr.flush()


def _fail_on_uncaught(kind, value, tb):
    text = "".join(traceback.format_exception(kind, value, tb))
    os.write(TERMINAL, f"UNCAUGHT EXCEPTION inside Krita (a user would get an error dialog):\n{text}"
             .encode())
    _flush()
    os._exit(98)


def _watchdog():
    _flush()
    os.write(TERMINAL, f"WATCHDOG: the GUI tests did not finish within {WATCHDOG_S:.0f} s\n".encode())
    faulthandler.dump_traceback(TERMINAL)  # where every thread was stuck
    os._exit(97)


def _pytest_session() -> int:
    import pytest

    return int(pytest.main(shlex.split(PYTEST_ARGS)))


def _start_tests():
    from greenlet import greenlet

    sys.excepthook = _fail_on_uncaught  # again: Krita may have put its dialog hook back
    session = greenlet(_pytest_session)

    def resume():
        if sys._getframe().f_back is not None:
            # Called from a nested event loop that Python code started (e.g. Krita waiting for
            # its image inside one of the plugin's slots): resuming the tests here would run them
            # in the middle of that code. Only Krita's top-level loop resumes them.
            QTimer.singleShot(RESUME_MS, resume)
            return
        try:
            rc = session.switch()  # runs tests until they wait (None) or end (the exit code)
        except BaseException:  # noqa: BLE001 - any failure to run must end the process with an error
            traceback.print_exc()
            rc, session.dead_by_error = 3, True
        if session.dead or getattr(session, "dead_by_error", False):
            _flush()
            os._exit(rc)
        QTimer.singleShot(RESUME_MS, resume)

    resume()


class TestHarness(Extension):
    def setup(self):
        if not PYTEST_ARGS:
            return
        sys.excepthook = _fail_on_uncaught
        watchdog = threading.Timer(WATCHDOG_S, _watchdog)
        watchdog.daemon = True
        watchdog.start()
        notifier = Krita.instance().notifier()
        notifier.setActive(True)
        notifier.windowCreated.connect(lambda: QTimer.singleShot(START_DELAY_MS, _start_tests))

    def createActions(self, window):
        pass


Krita.instance().addExtension(TestHarness(Krita.instance()))

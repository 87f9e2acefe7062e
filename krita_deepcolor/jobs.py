"""Running work off the UI thread.

A task runs on a Python thread and reports through a queue; each report also wakes the main
thread (a signal queued across threads), which drains the queue, so callbacks (and with them
every Krita API call) happen on the main thread, as soon as the report is made. One task at a time.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from .engine.errors import Cancelled, EngineError
from .engine.runtime import CancelToken
from .qt import QObject, Qt, Signal


@dataclass
class Outcome:
    value: object = None
    error: str | None = None  # one line for the status line
    cancelled: bool = False
    details: str | None = None  # traceback of an unexpected error, for the log


Task = Callable[[Callable[[float, str], None], CancelToken], object]


class Worker(QObject):
    """Runs one task at a time; ``progress`` and ``finished`` are emitted on the main thread."""

    progress = Signal(float, str)
    finished = Signal(object)  # Outcome
    _reported = Signal()  # emitted on the worker thread, received on the main thread

    def __init__(self, parent=None):
        super().__init__(parent)
        self._events = queue.Queue()
        self._thread = None
        self._token = None
        self._reported.connect(self._drain, Qt.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, task: Task) -> bool:
        """Start ``task(progress, cancel_token)``; False (and nothing started) while busy."""
        if self.busy:
            return False
        self._token = CancelToken()
        self._thread = threading.Thread(target=self._run, args=(task, self._token),
                                        name="krita-deepcolor-worker", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()

    def _run(self, task: Task, token: CancelToken) -> None:
        def report(fraction, message):
            self._events.put(("progress", fraction, message))
            self._reported.emit()
        try:
            outcome = Outcome(value=task(report, token))
        except Cancelled:
            outcome = Outcome(cancelled=True)
        except EngineError as exc:
            outcome = Outcome(error=str(exc))
        except Exception as exc:  # noqa: BLE001 - reported in the docker, never as a modal dialog
            outcome = Outcome(error=f"unexpected error: {type(exc).__name__}: {exc}",
                              details=traceback.format_exc())
        self._events.put(("done", outcome))
        self._reported.emit()

    def _drain(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            if event[0] == "progress":
                self.progress.emit(event[1], event[2])
                continue
            outcome = event[1]
            outcome.cancelled = outcome.cancelled or self._token.cancelled
            self._thread.join()
            self._thread = self._token = None
            self.finished.emit(outcome)
            return

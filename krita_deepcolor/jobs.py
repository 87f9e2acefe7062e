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


WORKER_THREAD = "krita-deepcolor-worker"  # the name of every task's thread

Task = Callable[[Callable[[float, str], None], CancelToken], object]


class Worker(QObject):
    """Runs one task at a time; ``progress`` and ``finished`` are emitted on the main thread.

    A cancelled task is let go at once: ``finished`` reports it cancelled with the next turn of
    the event loop, and the task's own thread, told to stop, ends at its next check (an
    onnxruntime run ends at once) with nothing of it delivered. The next task may start meanwhile.
    """

    progress = Signal(float, str)
    finished = Signal(object)  # Outcome
    _reported = Signal()  # emitted on the worker thread, received on the main thread

    def __init__(self, parent=None):
        super().__init__(parent)
        self._events = queue.Queue()
        self._token = None  # the running task's; None when idle
        self._reported.connect(self._drain, Qt.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._token is not None

    def start(self, task: Task) -> bool:
        """Start ``task(progress, cancel_token)``; False (and nothing started) while busy."""
        if self.busy:
            return False
        token = self._token = CancelToken()
        threading.Thread(target=self._run, args=(task, token), name=WORKER_THREAD,
                         daemon=True).start()
        return True

    def cancel(self) -> None:
        token = self._token
        if token is None or token.cancelled:
            return
        token.cancel()
        self._events.put((token, "done", Outcome(cancelled=True)))
        self._reported.emit()

    def _run(self, task: Task, token: CancelToken) -> None:
        def report(fraction, message):
            self._events.put((token, "progress", fraction, message))
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
        self._events.put((token, "done", outcome))
        self._reported.emit()

    def _drain(self) -> None:
        while True:
            try:
                token, kind, *event = self._events.get_nowait()
            except queue.Empty:
                return
            if token is not self._token:
                continue  # from a task let go: its reports and its result are dropped
            if kind == "progress":
                self.progress.emit(*event)
                continue
            outcome = event[0]
            outcome.cancelled = outcome.cancelled or token.cancelled
            self._token = None
            self.finished.emit(outcome)
            return

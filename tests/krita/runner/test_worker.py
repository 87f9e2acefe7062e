"""The worker thread under Krita's event loop: a cancelled task is let go at once."""

import threading

from krita_deepcolor.jobs import WORKER_THREAD, Worker
from tests.krita.helpers import wait_until


def test_a_cancelled_task_is_let_go_at_once_and_its_late_result_is_dropped():
    worker = Worker()
    outcomes = []
    worker.finished.connect(outcomes.append)
    release, started = threading.Event(), threading.Event()

    def stubborn(progress, cancel):  # a step that checks for cancel only when it is done
        started.set()
        release.wait(30)
        progress(1.0, "late")
        return "late result"

    assert worker.start(stubborn)
    wait_until(started.is_set, 10, "the task to start")
    worker.cancel()
    wait_until(lambda: outcomes, 10, "the cancel to be reported")
    assert outcomes[0].cancelled and outcomes[0].value is None and not worker.busy

    assert worker.start(lambda progress, cancel: "next result")  # the next task need not wait
    wait_until(lambda: len(outcomes) == 2, 10, "the next task")
    assert outcomes[1].value == "next result" and not outcomes[1].cancelled
    release.set()
    wait_until(lambda: not any(thread.name == WORKER_THREAD for thread in threading.enumerate()),
               10, "the stubborn task's thread to end")
    worker.progress.connect(lambda *_: outcomes.append("progress"))
    wait_until(lambda: worker._events.empty(), 5, "its reports to be read")
    assert len(outcomes) == 2, "nothing of the task let go is delivered"
    worker.deleteLater()

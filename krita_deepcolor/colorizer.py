"""What the docker and the actions drive: colour a document, all documents, or a live preview.

Holds the state the docker shows (status line, progress, provider, batch summary) and
announces changes with ``changed``. Pixels are read and written on the main thread through
``document.py``; the network runs on the worker thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from .document import (
    PREVIEW,
    RESULT,
    Inputs,
    LayerChoice,
    active_document,
    add_result,
    auto_pick_names,
    find_node,
    is_open,
    layer_choices,
    layer_signature,
    node_id,
    open_documents,
    pick_layers,
    read_inputs,
    result_name,
    update_preview,
)
from .engine import catalog
from .engine.errors import EngineError
from .engine.pipeline import Options, Result, colorize
from .jobs import Outcome, Worker
from .layers import DocumentError
from .log import log
from .qt import QObject, QTimer, Signal
from .settings import AUTO, Settings

WATCH_MS = 250  # how often a running job's document and the live preview's layers are checked
PREVIEW_QUIET_S = 0.7  # the layers must stay unchanged this long before a preview runs


class ModelCache:
    """Keeps the last loaded model; loading happens on the worker thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._model = None

    def get(self, entry: catalog.ModelEntry, device: str):
        key = (str(entry.path), entry.path.stat().st_mtime if entry.path.exists() else 0, device)
        with self._lock:
            if key != self._key:
                self._model = None  # let the old session go before the next one is loaded
                self._model = catalog.open_model(entry, device)
                self._key = key
            return self._model


@dataclass
class Request:
    doc: object
    doc_name: str
    inputs: Inputs
    entry: catalog.ModelEntry
    device: str
    options: Options
    kind: str = RESULT


@dataclass
class Batch:
    pending: list
    total: int
    coloured: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (document name, reason)

    def summary(self) -> str:
        lines = [f"Coloured {len(self.coloured)} of {self.total} open documents."]
        lines += [f"Skipped '{name}': {reason}" for name, reason in self.skipped]
        return "\n".join(lines)


def _doc_name(doc) -> str:
    return doc.name() or (doc.fileName().rsplit("/", 1)[-1] if doc.fileName() else "untitled")


class Colorizer(QObject):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.settings = Settings.load()
        self.status = "Ready."
        self.progress = 0  # percent
        self.provider = ""  # what the last run really used: "CPU" or "CUDA"
        self.summary = ""  # the last batch's summary
        self.picks = (AUTO, AUTO)  # line-art and hint picks: AUTO, NO_HINTS or a layer id
        self._models = ModelCache()
        self._entries = None
        self._current = None  # the running Request
        self._delivering = False  # writing a result: Krita may run its event loop meanwhile
        self._queued = None  # a Request waiting for a preview to stop
        self._batch = None
        self._closed_while_running = False
        self._preview_seen = None
        self._preview_due = None
        self.worker = Worker(self)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._tick)
        if self.settings.live_preview:
            self._watch.start()

    # ---- state the docker shows

    @property
    def busy(self) -> bool:
        return self.worker.busy or self._delivering

    def _announce(self, status: str | None = None, progress: int | None = None) -> None:
        if status is not None:
            self.status = status
        if progress is not None:
            self.progress = progress
        self.changed.emit()

    # ---- settings and models

    def update_settings(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self.settings, key, value)
        self.settings.save()
        if "device" in changes:
            self.provider = ""
        if "models_dir" in changes:
            self._entries = None
        if "live_preview" in changes:
            self._preview_seen = self._preview_due = None
            if self.settings.live_preview:
                self._watch.start()
            elif not self.busy:
                self._watch.stop()
        self.changed.emit()

    def models(self, refresh: bool = False) -> list[catalog.ModelEntry]:
        """Shipped models and those in the user's folder (scanned once, or on ``refresh``).

        When no model can run, the status line says why as soon as the models are scanned.
        """
        if self._entries is None or refresh:
            self._entries = catalog.find_models([self.settings.user_models_dir()])
            _, problem = self._choose_model(self._entries)
            if problem and not self.busy:
                self._announce(problem)
        return self._entries

    def current_model(self) -> catalog.ModelEntry:
        entry, problem = self._choose_model(self.models())
        if entry is None:
            raise DocumentError(problem)
        return entry

    def _choose_model(self, entries) -> tuple[catalog.ModelEntry | None, str | None]:
        """(the chosen model, else the first usable one; None) or (None, why none can run).

        The reason names an unusable file and what is wrong with it: a chosen model that
        cannot run is never swapped for another one silently.
        """
        chosen = next((entry for entry in entries if entry.name == self.settings.model), None)
        if chosen is not None:
            if chosen.info is None:
                return None, f"the chosen model '{chosen.name}' cannot be used: {chosen.problem}"
            return chosen, None
        usable = [entry for entry in entries if entry.info is not None]
        if usable:
            return usable[0], None
        unusable = [entry for entry in entries if entry.info is None]
        if unusable:
            return None, f"no usable model: {unusable[0].problem}"
        return None, (f"no model installed: put a .onnx model into {self.settings.user_models_dir()} "
                      "(or choose a folder in the docker)")

    # ---- colouring

    def colorize(self, doc=None) -> bool:
        """Colour ``doc`` (default: the active document) with the docker's layer picks."""
        if not self._may_start():
            return False
        doc = doc or active_document()
        if doc is None:
            self._announce("Open a document first.")
            return False
        self.summary = ""
        try:
            request = self._prepare(doc, *self.picks, RESULT)
        except EngineError as exc:
            self._announce(str(exc))
            return False
        return self._start(request)

    def colorize_all(self) -> bool:
        """Colour every open document with its own automatically picked layers."""
        if not self._may_start():
            return False
        docs = open_documents()
        if not docs:
            self._announce("No document is open.")
            return False
        self._batch = Batch(pending=docs, total=len(docs))
        self.summary = ""
        return self._next_in_batch()

    def cancel(self) -> None:
        queued, self._queued = self._queued, None
        batch = self._batch
        if batch is not None:
            waiting = batch.pending + ([queued.doc] if queued is not None else [])
            batch.skipped += [(_doc_name(doc), "cancelled") for doc in waiting if is_open(doc)]
            batch.pending = []
        if self.busy:
            self.worker.cancel()
            self._announce("Cancelling…")
        if batch is not None and (self._current is None or self._current.kind == PREVIEW):
            self._finish_batch()  # no document of the batch is running: nothing else will end it

    def layer_choices(self) -> tuple[list[LayerChoice], tuple[str | None, str | None]]:
        """The active document's pickable layers, and the names AUTO would pick."""
        doc = active_document()
        if doc is None:
            return [], (None, None)
        return layer_choices(doc), auto_pick_names(doc)

    def set_picks(self, line_pick: str, hint_pick: str) -> None:
        self.picks = (line_pick, hint_pick)  # the live preview notices other layers by their ids

    def _may_start(self) -> bool:
        if self.worker.busy and self._current is not None and self._current.kind == PREVIEW:
            self.worker.cancel()  # a preview gives way; the caller's request waits for it to stop
            return True
        if self.busy or self._batch is not None:
            name = self._current.doc_name if self._current else "a document"
            self._announce(f"Still colouring '{name}': wait for it to finish or press Cancel.")
            return False
        return True

    def _prepare(self, doc, line_pick: str, hint_pick: str, kind: str) -> Request:
        line, hint = pick_layers(doc, line_pick, hint_pick)
        entry = self.current_model()
        options = Options(**self.settings.engine_options(preview=kind == PREVIEW))
        return Request(doc=doc, doc_name=_doc_name(doc), inputs=read_inputs(doc, line, hint), entry=entry,
                       device=self.settings.device, options=options, kind=kind)

    def _start(self, request: Request) -> bool:
        if self.busy:  # a preview is stopping
            self._queued = request
            return True
        models = self._models

        def task(progress, cancel) -> Result:
            progress(0.0, f"loading {request.entry.name}")
            model = models.get(request.entry, request.device)
            cancel.check()
            return colorize(model, request.inputs.line_rgba, request.inputs.hint_rgba, request.options,
                            progress, cancel)

        self._current = request
        self._closed_while_running = False
        self.worker.start(task)
        self._watch.start()
        self._announce(self._progress_text("starting"), 0)
        return True

    def _progress_text(self, message: str) -> str:
        request = self._current
        what = "Previewing" if request.kind == PREVIEW else "Colouring"
        where = f" ({len(self._batch.coloured) + len(self._batch.skipped) + 1}/{self._batch.total})" \
            if self._batch else ""
        return f"{what} '{request.doc_name}'{where}: {message}…"

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._current is None:
            return
        overall = fraction
        if self._batch is not None:
            done = len(self._batch.coloured) + len(self._batch.skipped)
            overall = (done + fraction) / self._batch.total
        self._announce(self._progress_text(message), int(round(100 * overall)))

    def _on_finished(self, outcome: Outcome) -> None:
        request = self._current
        if outcome.details:
            log(f"{outcome.error}\n{outcome.details}")
        self._delivering = True  # refuse new work until the result is in the document
        try:
            message, added = self._deliver(request, outcome)
        except Exception as exc:  # noqa: BLE001 - a bug must not become a modal dialog mid-batch
            log(f"writing the result failed:\n{traceback.format_exc()}")
            message, added = f"unexpected error while adding the layer: {type(exc).__name__}: {exc}", False
        finally:
            self._delivering = False
            self._current = None
        if request.kind == PREVIEW:
            if self._queued is None:  # a preview that gave way to a full run stays quiet
                self._announce(message, 0)
        elif self._batch is not None:
            if added:
                self._batch.coloured.append(request.doc_name)
            else:
                self._batch.skipped.append((request.doc_name, message))
            self._next_in_batch()
        else:
            self._announce(message, 0)
        if self._queued is not None:
            queued, self._queued = self._queued, None
            self._start(queued)
        elif not self.busy and not self.settings.live_preview:
            self._watch.stop()

    def _deliver(self, request: Request, outcome: Outcome) -> tuple[str, bool]:
        """Write a finished run into its document; returns (status message, layer added)."""
        if self._closed_while_running or not is_open(request.doc):
            return f"'{request.doc_name}' was closed while colouring: nothing was added.", False
        if outcome.cancelled:
            return "Cancelled: nothing was added.", False
        if outcome.error:
            return outcome.error, False
        result: Result = outcome.value
        self.provider = result.provider
        line = find_node(request.doc, request.inputs.line_id)
        if line is None:
            return (f"The line-art layer '{request.inputs.line_name}' was deleted while colouring: "
                    "nothing was added."), False
        name = result_name(request.entry.name, request.kind)
        try:
            if request.kind == PREVIEW:
                node = update_preview(request.doc, line, result.rgba, name)
            else:
                node = add_result(request.doc, line, result.rgba, name)
        except EngineError as exc:
            return str(exc), False
        seconds = sum(result.seconds.values())
        message = f"Added '{node.name()}' under '{line.name()}' ({result.provider}, {seconds:.1f} s)."
        if request.kind == PREVIEW:
            message = f"Preview updated ({result.provider}, {seconds:.1f} s)."
        if request.doc.colorModel().startswith("GRAY"):
            message += " Grey image: convert it to RGB (Image ▸ Convert Image Color Space) to see colours."
        return message, True

    def _next_in_batch(self) -> bool:
        batch = self._batch
        while batch.pending:
            doc = batch.pending.pop(0)
            if not is_open(doc):
                continue
            try:
                return self._start(self._prepare(doc, AUTO, AUTO, RESULT))
            except EngineError as exc:
                batch.skipped.append((_doc_name(doc), str(exc)))
        self._finish_batch()
        return False

    def _finish_batch(self) -> None:
        batch, self._batch = self._batch, None
        self.summary = batch.summary()
        self._announce(self.summary.splitlines()[0], 0)

    # ---- watching: documents closed mid-run, and the live preview

    def _tick(self) -> None:
        if self._current is not None:
            if not is_open(self._current.doc) and not self._closed_while_running:
                self._closed_while_running = True
                self.worker.cancel()
            return
        if self.settings.live_preview and not self.busy and self._batch is None:
            self._poll_preview()

    def _poll_preview(self) -> None:
        doc = active_document()
        if doc is None:
            return
        try:
            line, hint = pick_layers(doc, *self.picks)
            seen = [node_id(line), layer_signature(line)]
            if hint is not None:
                seen += [node_id(hint), layer_signature(hint)]
        except EngineError:
            return
        now = time.monotonic()
        if seen != self._preview_seen:
            self._preview_seen = seen
            self._preview_due = now + PREVIEW_QUIET_S
            return
        if self._preview_due is None or now < self._preview_due:
            return
        self._preview_due = None
        try:
            self._start(self._prepare(doc, *self.picks, PREVIEW))
        except EngineError as exc:
            self._announce(f"Preview: {exc}")

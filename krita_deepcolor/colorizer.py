"""What the docker and the actions drive: colour a document, all documents, or a live preview.

Holds the state the docker shows (status line, progress, provider, batch summary) and
announces changes with ``changed``. It turns clicks into requests, runs them one at a time
on the worker thread and delivers the results. Every Krita call goes through ``document.py`` and
its siblings (pixels are read and written on the main thread); the live preview's timing is
``preview.py``, a batch's progress and summary ``batch.py``, the model choice ``model_choice.py``.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from . import undo_steps
from .batch import Batch
from .document import (
    DocumentError,
    active_document,
    document_key,
    document_name,
    find_node,
    is_grey,
    is_open,
    layer_name,
    node_id,
    open_documents,
    selection_bounds,
)
from .engine import catalog
from .engine.errors import EngineError
from .engine.flats import apply_selection, faint_note, split_colours
from .engine.pipeline import Options, Result, colorize
from .inputs import Inputs, layers_fingerprint, read_inputs
from .jobs import Outcome, Worker
from .log import log
from .model_choice import ModelCache, choose_model
from .palettes import load_palette, palette_names
from .picking import AUTO, pick_clear, pick_layers, picker_entries
from .preview import PreviewScheduler
from .qt import QObject, QTimer, Signal
from .registry import PREVIEW, RESULT, Registry
from .results import add_result, replaced_result, result_name, set_aside_painted, update_preview
from .settings import Settings
from .stroke_ends import StrokeEnds

WATCH_MS = 250  # how often a running job's document and the live preview's layers are checked
READY = "Ready."
REMEMBERED = 200  # status messages kept for the status line of each document


@dataclass
class Request:
    doc: object
    doc_name: str
    inputs: Inputs
    entry: catalog.ModelEntry
    device: str
    options: Options
    kind: str = RESULT
    split: bool = False  # one layer per colour
    started: float = 0.0  # time.perf_counter() when the request was made
    seconds: dict = field(default_factory=dict)  # the plugin's own steps: see Delivery


@dataclass
class Coloured:
    """What the worker hands back: the engine's result and the layer content made from it."""

    result: Result
    content: object  # RGBA array, or Flats for one layer per colour
    origin: tuple[int, int]  # where ``content`` goes on the canvas
    done_at: float = 0.0  # time.perf_counter() when the worker finished it


@dataclass
class Delivery:
    """What a finished run tells its listeners (``Colorizer.delivered``; the benchmarks time the
    plugin by it): the status message, the engine's Result (None when nothing was coloured) and
    the plugin's own seconds: ``read`` (the layers, on the main thread), ``model load``,
    ``hand-off`` (from the worker's end to the main thread taking the result), ``write`` (the
    layer written into the document) and ``total`` (from the request to the layer in place)."""

    kind: str
    doc_name: str
    message: str
    result: Result | None
    seconds: dict


def colour_request(model, request: Request, progress, cancel) -> Coloured:
    """The worker's job: colour the request's layers, keep the result to the selection (and the
    earlier result outside it), and split it by colour if asked."""
    inputs = request.inputs
    result = colorize(model, inputs.line_rgba, inputs.hint_rgba, request.options, progress, cancel,
                      clear_rgba=inputs.clear_rgba, partial=inputs.area is not None)
    rgba, origin = result.rgba, (0, 0)
    if inputs.area is not None:
        x, y, w, h = inputs.area
        if inputs.previous_rgba is not None:
            rgba = inputs.previous_rgba  # read for this run alone: changed in place
            rgba[y:y + h, x:x + w] = apply_selection(result.rgba, inputs.coverage, rgba[y:y + h, x:x + w])
        else:
            rgba, origin = apply_selection(result.rgba, inputs.coverage), (x, y)
    cancel.check()
    content = split_colours(rgba, request.options.palette) if request.split else rgba
    return Coloured(result, content, origin, done_at=time.perf_counter())


class Colorizer(QObject):
    changed = Signal()
    delivered = Signal(object)  # Delivery, after every run (cancelled and failed ones too)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.settings = Settings.load()
        self.status = READY
        self._said = []  # (message, document key or None, id of the layer it describes or None)
        self.progress = 0  # percent
        self.provider = ""  # what the last run really used: "CPU" or "CUDA"
        self.summary = ""  # the last batch's summary
        self.picks = (AUTO, AUTO, AUTO)  # line art, hints, keep-clear: AUTO, NO_HINTS or a layer id
        self.auto_gap = None  # the gap size Auto chose in the last run, in pixels
        self._models = ModelCache()
        self._entries = None
        self._current = None  # the running Request
        self._delivering = False  # writing a result: Krita may run its event loop meanwhile
        self._queued = None  # a Request waiting for a preview to stop
        self._batch = None
        self._closed_while_running = False
        self._preview = PreviewScheduler()
        self._stroke_waiting = False  # a stroke ended while busy: look at the layers afterwards
        self._presses_seen = undo_steps.presses()  # the artist's Undo/Redo presses at the last look
        self._shown = None  # (layer id, origin, pixels) of the last preview written
        self._stroke_ends = StrokeEnds(self.stroke_ended, self)
        self.worker = Worker(self)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._tick)
        if self.settings.live_preview:
            self._watch.start()
            self._stroke_ends.watch(True)

    # ---- state the docker shows

    @property
    def busy(self) -> bool:
        return self.worker.busy or self._delivering

    def status_line(self) -> str:
        """What the status line says for the active document: the work running, else the newest
        message about this document (or about none in particular), passing over results that are
        gone (undone, deleted) to the newest one still there."""
        doc = active_document()
        key = document_key(doc) if doc is not None else None
        if self.busy or self._batch is not None or key is None:
            return self.status
        newest = True  # among this document's messages
        for position, (message, about, layer) in enumerate(reversed(self._said)):
            if about is None and position == 0:
                return message  # about no document in particular, and nothing happened since
            if about != key:
                continue
            if (layer is None and newest) or (layer is not None and find_node(doc, layer) is not None):
                return message
            newest = False
        return READY

    def _say(self, message: str, doc=None, layer: str | None = None) -> None:
        """Announce a run's (or a refusal's) last word, and remember it for ``status_line``."""
        self._remember(message, doc, layer)
        self._announce(message, 0)

    def _remember(self, message: str, doc=None, layer: str | None = None) -> None:
        self._said.append((message, None if doc is None or not is_open(doc) else document_key(doc), layer))
        del self._said[:-REMEMBERED]

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
            self._preview.reset()
            self._shown = None  # (a canvas-size array: not kept while the preview is off)
            if self.settings.live_preview:
                self._presses_seen = undo_steps.presses()  # turned on: preview what is there
            else:
                undo_steps.previews_settled(None, shown=False)  # undoing them is left alone
            self._stroke_ends.watch(self.settings.live_preview)
            if self.settings.live_preview:
                self._watch.start()
            elif self._current is not None and self._current.kind == PREVIEW:
                self.worker.cancel()
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
                self._say(problem)
        return self._entries

    def current_model(self) -> catalog.ModelEntry:
        entry, problem = self._choose_model(self.models())
        if entry is None:
            raise DocumentError(problem)
        return entry

    def _choose_model(self, entries):
        return choose_model(entries, self.settings.model, self.settings.user_models_dir())

    # ---- colouring

    def colorize(self, doc=None) -> bool:
        """Colour ``doc`` (default: the active document) with the docker's layer picks."""
        if not self._may_start():
            return False
        doc = doc or active_document()
        if doc is None:
            self._say("Open a document first.")
            return False
        self.summary = ""
        try:
            request = self._prepare(doc, *self.picks, RESULT)
        except EngineError as exc:
            self._say(str(exc), doc)
            return False
        return self._start(request)

    def colorize_all(self) -> bool:
        """Colour every open document with its own automatically picked layers."""
        if not self._may_start():
            return False
        docs = open_documents()
        if not docs:
            self._say("No document is open.")
            return False
        self._batch = Batch.of(docs)
        self.summary = ""
        return self._next_in_batch()

    def cancel(self) -> None:
        queued, self._queued = self._queued, None
        batch = self._batch
        if batch is not None:
            waiting = batch.pending + ([queued.doc] if queued is not None else [])
            batch.cancel([document_name(doc) for doc in waiting if is_open(doc)])
        if self.busy:
            self.worker.cancel()
            self._announce("Cancelling…")
        if batch is not None and (self._current is None or self._current.kind == PREVIEW):
            self._finish_batch()  # no document of the batch is running: nothing else will end it

    def picker_entries(self) -> tuple[list[tuple[str, str]], ...]:
        """(label, pick) of the line-art, hint and keep-clear pickers for the active document."""
        return picker_entries(active_document())

    def set_picks(self, line_pick: str, hint_pick: str, clear_pick: str = AUTO) -> None:
        self.picks = (line_pick, hint_pick, clear_pick)  # the live preview notices other layers by id

    def palette_names(self) -> list[str]:
        return palette_names()

    def coverage_text(self) -> str:
        """What Colorize colours in the active document: the whole canvas or only the selection."""
        doc = active_document()
        area = selection_bounds(doc) if doc is not None else None
        if area is None:
            return "Colours the whole canvas (select an area to colour only that)."
        return f"Colours only the selection ({area[2]}×{area[3]} px); an earlier result stays outside it."

    def _may_start(self) -> bool:
        if self.worker.busy and self._current is not None and self._current.kind == PREVIEW:
            self.worker.cancel()  # a preview gives way; the caller's request waits for it to stop
            return True
        if self.busy or self._batch is not None:
            name = self._current.doc_name if self._current else "a document"
            self._announce(f"Still colouring '{name}': wait for it to finish or press Cancel.")
            return False
        return True

    def _prepare(self, doc, line_pick: str, hint_pick: str, clear_pick: str, kind: str) -> Request:
        started = time.perf_counter()
        line, hint = pick_layers(doc, line_pick, hint_pick)
        clear = pick_clear(doc, clear_pick, line, hint)
        entry = self.current_model()
        preview = kind == PREVIEW
        palette = load_palette(self.settings.palette) if self.settings.palette else None
        options = Options(**self.settings.engine_options(preview), palette=palette)
        reading = time.perf_counter()
        inputs = read_inputs(doc, line, hint, clear, None if preview else replaced_result(doc, line))
        return Request(doc=doc, doc_name=document_name(doc), inputs=inputs, entry=entry,
                       device=self.settings.device, options=options, kind=kind,
                       split=self.settings.splits(preview), started=started,
                       seconds={"read": time.perf_counter() - reading})

    def _start(self, request: Request) -> bool:
        if self.busy:  # a preview is stopping
            self._queued = request
            return True
        models = self._models

        def task(progress, cancel) -> Coloured:
            progress(0.0, f"loading {request.entry.name}")
            loading = time.perf_counter()
            model = models.get(request.entry, request.device)
            request.seconds["model load"] = time.perf_counter() - loading
            cancel.check()
            return colour_request(model, request, progress, cancel)

        self._current = request
        self._closed_while_running = False
        self.worker.start(task)
        self._watch.start()
        self._announce(self._progress_text("starting"), 0)
        return True

    def _progress_text(self, message: str) -> str:
        request = self._current
        what = "Previewing" if request.kind == PREVIEW else "Colouring"
        where = f" ({self._batch.position()})" if self._batch else ""
        return f"{what} '{request.doc_name}'{where}: {message}…"

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._current is None:
            return
        overall = self._batch.overall(fraction) if self._batch is not None else fraction
        self._announce(self._progress_text(message), int(round(100 * overall)))

    def _on_finished(self, outcome: Outcome) -> None:
        request = self._current
        if outcome.details:
            log(f"{outcome.error}\n{outcome.details}")
        self._delivering = True  # refuse new work until the result is in the document
        taken = time.perf_counter()
        try:
            message, layer = self._deliver(request, outcome)
        except Exception as exc:  # noqa: BLE001 - a bug must not become a modal dialog mid-batch
            log(f"writing the result failed:\n{traceback.format_exc()}")
            message, layer = f"unexpected error while adding the layer: {type(exc).__name__}: {exc}", None
        finally:
            self._delivering = False
            self._current = None
        coloured = outcome.value if layer is not None else None
        if coloured is not None:
            request.seconds["hand-off"] = taken - coloured.done_at
            request.seconds["total"] = time.perf_counter() - request.started
        result = coloured.result if coloured is not None else None
        if request.kind == PREVIEW:
            if self._queued is None:  # a preview that gave way to a full run stays quiet
                self._say(message, request.doc, layer)
        elif self._batch is None:
            self._say(message, request.doc, layer)
        self.delivered.emit(Delivery(request.kind, request.doc_name, message, result, dict(request.seconds)))
        if request.kind != PREVIEW and self._batch is not None:
            self._batch.finished(request.doc_name, layer is not None, message)
            self._remember(message, request.doc, layer)
            self._next_in_batch()
        if self._queued is not None:
            queued, self._queued = self._queued, None
            self._start(queued)
        elif not self.busy and not self.settings.live_preview:
            self._watch.stop()
        elif self._stroke_waiting and not self.busy:
            self._stroke_waiting = False
            self.stroke_ended()

    def _deliver(self, request: Request, outcome: Outcome) -> tuple[str, str | None]:
        """Write a finished run into its document; returns (status message, id of the layer added
        or None)."""
        if self._closed_while_running or not is_open(request.doc):
            return f"'{request.doc_name}' was closed while colouring: nothing was added.", None
        if request.kind == PREVIEW and not self.settings.live_preview:
            return "Live preview is off.", None  # turned off while this one ran: it never lands
        if outcome.cancelled:
            return "Cancelled: nothing was added.", None
        if outcome.error:
            return outcome.error, None
        coloured: Coloured = outcome.value
        result = coloured.result
        self.provider = result.provider
        line = find_node(request.doc, request.inputs.line_id)
        if line is None:
            return (f"The line-art layer '{request.inputs.line_name}' was deleted while colouring: "
                    "nothing was added."), None
        name = result_name(request.entry.name, request.kind)
        kept = []
        writing = time.perf_counter()
        try:
            if request.kind == PREVIEW:
                node = update_preview(request.doc, line, coloured.content, name, coloured.origin, self._shown,
                                      request.inputs.line_hides)
                self._shown = (node_id(node), coloured.origin, coloured.content)
                undo_steps.previews_settled(request.doc)
            else:
                self._shown = None  # the result replaces the preview layer
                kept = set_aside_painted(request.doc, line)
                node = add_result(request.doc, line, coloured.content, name, origin=coloured.origin,
                                  over_paper=request.inputs.line_hides)
        except EngineError as exc:
            return str(exc), None
        request.seconds["write"] = time.perf_counter() - writing
        seconds = sum(result.seconds.values())
        what = f"'{layer_name(node)}'"
        if request.split:
            count = len(coloured.content.flats)
            what = f"{what} with {count} colour layer{'s' if count != 1 else ''}"
        where = "over" if request.inputs.line_hides else "under"
        message = f"Added {what} {where} '{layer_name(line)}' ({result.provider}, {seconds:.1f} s)."
        if request.inputs.line_hides:
            message += (f" '{layer_name(line)}' is opaque paper, which would hide colours under it: "
                        "the colours lie over it in Multiply mode.")
        if request.kind == PREVIEW:
            message = f"Preview updated ({result.provider}, {seconds:.1f} s)."
        if request.inputs.area is not None:
            message += " Coloured only the selection."
        for name in kept:
            message += f" The earlier result had paint of yours: kept as '{name}'."
        if result.faint_strokes:
            message += " " + faint_note(result.faint_strokes)
        if result.gap_size is not None and request.options.close_gaps is None:
            self.auto_gap = result.gap_size
            message += f" Auto closed gaps up to {result.gap_size} px."
        if is_grey(request.doc):
            message += " Grey image: convert it to RGB (Image ▸ Convert Image Color Space) to see colours."
        return message, node_id(node)

    def _next_in_batch(self) -> bool:
        batch = self._batch
        while (doc := batch.take()) is not None:
            if not is_open(doc):
                continue  # closed while waiting: neither coloured nor skipped
            try:
                return self._start(self._prepare(doc, AUTO, AUTO, AUTO, RESULT))
            except EngineError as exc:
                batch.skip(document_name(doc), str(exc))
        self._finish_batch()
        return False

    def _finish_batch(self) -> None:
        batch, self._batch = self._batch, None
        self.summary = batch.summary()
        self._say(self.summary.splitlines()[0])

    # ---- watching: documents closed mid-run, and the live preview

    def _tick(self) -> None:
        if self._current is not None:
            if not is_open(self._current.doc) and not self._closed_while_running:
                self._closed_while_running = True
                self.worker.cancel()
            return
        if self.settings.live_preview and not self.busy and self._batch is None:
            doc = active_document()
            if doc is not None:
                undo_steps.previews_settled(doc)  # (a preview layer deleted by hand is no longer shown)
            self._poll_preview()

    def stroke_ended(self, doc=None) -> bool:
        """A mouse button or pen was released (``stroke_ends.py``): preview ``doc`` (default: the
        active document) at once if its layers changed since the last preview. Returns whether a
        preview started."""
        if not self.settings.live_preview or self._batch is not None:
            return False
        if self.busy:
            self._stroke_waiting = True
            return False
        return self._poll_preview(stroke_end=True, doc=doc)

    def _poll_preview(self, stroke_end: bool = False, doc=None) -> bool:
        doc = doc or active_document()
        if doc is None:
            return False
        try:
            line, hint = pick_layers(doc, *self.picks[:2])
            seen = layers_fingerprint(doc, line, hint, pick_clear(doc, self.picks[2], line, hint),
                                      settle=stroke_end)
        except EngineError:
            return False
        if stroke_end:
            if not self._preview.stroke_ended(seen):
                return False
        elif not self._preview.due(seen, time.monotonic()):
            return False
        presses, self._presses_seen = self._presses_seen, undo_steps.presses()
        if presses != self._presses_seen and not Registry(doc).layers_for(line, (PREVIEW,)):
            # The change came with an Undo or Redo: adding a layer now would be a new step,
            # and the steps Redo can bring back would be lost
            self._say("Preview: paint a stroke to see it again (Undo took its layer away).", doc)
            return False
        try:
            return self._start(self._prepare(doc, *self.picks, PREVIEW))
        except EngineError as exc:
            self._say(f"Preview: {exc}", doc)
            return False

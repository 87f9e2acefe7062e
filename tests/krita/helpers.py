"""Shared by both Krita suites (runs inside Krita): documents with line art and hints, waiting."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from krita import InfoObject, Krita, Selection
from PyQt5.QtCore import QByteArray, QCoreApplication, QEventLoop
from PyQt5.QtGui import QColor

try:
    import greenlet  # the GUI harness runs pytest in a greenlet
except ImportError:
    greenlet = None

from krita_deepcolor.document import is_idle
from krita_deepcolor.pixels import read_rgba, write_rgba

MODELS_DIR = Path(os.environ.get("KRITA_DEEPCOLOR_TEST_MODELS", "/nonexistent"))

INK = (20, 20, 20, 255)
RED, GREEN, BLUE = (220, 40, 30), (40, 180, 60), (30, 60, 220)


def line_art(width: int, height: int) -> np.ndarray:
    """Two closed boxes in dark ink on a transparent layer, scaled to the canvas."""
    rgba = np.zeros((height, width, 4), np.uint8)
    ink = max(1, min(width, height) // 40)
    for left, right in ((0.1, 0.45), (0.55, 0.9)):
        x0, x1 = int(left * width), int(right * width)
        y0, y1 = int(0.2 * height), int(0.8 * height)
        rgba[y0:y0 + ink, x0:x1] = INK
        rgba[max(y1 - ink, 0):y1, x0:x1] = INK
        rgba[y0:y1, x0:x0 + ink] = INK
        rgba[y0:y1, max(x1 - ink, 0):x1] = INK
    return rgba


def hint_spot(width: int, height: int, colour, where=(0.3, 0.5)) -> np.ndarray:
    """A square blob of ``colour`` on transparency, centred at ``where`` (fractions of the canvas)."""
    rgba = np.zeros((height, width, 4), np.uint8)
    cx, cy = int(where[0] * width), int(where[1] * height)
    radius = max(1, min(width, height) // 12)
    rgba[max(cy - radius, 0):cy + radius, max(cx - radius, 0):cx + radius] = (*colour, 255)
    return rgba


def hint_point(width: int, height: int, where=(0.3, 0.5)) -> tuple[int, int]:
    """(row, column) at the centre of a hint spot."""
    return int(where[1] * height), int(where[0] * width)


def new_document(width=96, height=64, model="RGBA", depth="U8", profile="", name="deepcolor-test"):
    doc = Krita.instance().createDocument(width, height, name, model, depth, profile, 72.0)
    assert doc is not None, f"Krita could not create a {model}/{depth} document"
    doc.setBatchmode(True)
    return doc


def add_layer(doc, name: str, rgba: np.ndarray | None = None, parent=None, above=None, kind="paintlayer"):
    """A layer in the document's colour space holding ``rgba`` (sRGB); on top unless ``above``."""
    node = doc.createGroupLayer(name) if kind == "grouplayer" else doc.createNode(name, kind)
    if rgba is not None:
        write_rgba(node, rgba)
    (parent or doc.rootNode()).addChildNode(node, above)
    return node


def add_fill_layer(doc, name: str, shape: np.ndarray, colour=INK[:3]):
    """A fill layer of ``colour`` over the opaque pixels of ``shape`` (RGBA), on top, once painted."""
    selection = Selection()
    mask = np.where(shape[:, :, 3] > 0, 255, 0).astype(np.uint8)
    selection.setPixelData(QByteArray(mask.tobytes()), 0, 0, doc.width(), doc.height())
    config = InfoObject()
    config.setProperty("color", QColor(*colour))
    node = doc.createFillLayer(name, "color", config, selection)
    doc.rootNode().addChildNode(node, None)
    # Krita generates a fill layer's pixels in the background
    wait_until(lambda: pixels(node, doc)[:, :, 3].any(), 10, f"Krita to fill '{name}'")
    return node


def lines_and_hints(doc, colour=RED):
    """The usual test setup: Background, then "Lines", then "Hints" on top."""
    width, height = doc.width(), doc.height()
    lines = add_layer(doc, "Lines", line_art(width, height))
    hints = add_layer(doc, "Hints", hint_spot(width, height, colour))
    return lines, hints


def paint_band(hints, colour=BLUE) -> None:
    """A new stroke: a band of ``colour`` across the middle of a 96x64 hint layer, over both boxes
    of ``line_art`` (written directly: no undo step)."""
    hints.setPixelData(bytes([colour[2], colour[1], colour[0], 255]) * (96 * 20), 0, 22, 96, 20)


def saved_and_reopened(doc, path: str):
    """``doc`` saved as the .kra ``path`` and opened again (not shown in a view): the new document."""
    assert doc.saveAs(path), f"Krita could not save {path}"
    doc.waitForDone()
    reopened = Krita.instance().openDocument(path)
    assert reopened is not None, f"Krita could not open {path}"
    return reopened


def stack(parent) -> list[str]:
    """Layer names of ``parent``, bottom to top."""
    return [node.name() for node in parent.childNodes()]


def pixels(node, doc) -> np.ndarray:
    if node.type() == "grouplayer":
        doc.waitForDone()  # Krita composites a group's projection in the background
    return read_rgba(node, doc.width(), doc.height())


def raw(node, doc) -> bytes:
    return bytes(node.pixelData(0, 0, doc.width(), doc.height()))


def close(doc) -> None:
    if doc in Krita.instance().documents():
        doc.setModified(False)
        doc.close()


def let_qt_run() -> None:
    """Give Qt's event loop a turn.

    Under the GUI harness the tests run in a greenlet, and this returns to Krita's own event
    loop for a moment (Krita holds back layer updates during nested event loops). In
    kritarunner there is no GUI to hold back: events are processed right here.
    """
    current = greenlet.getcurrent() if greenlet is not None else None
    if current is not None and current.parent is not None:
        current.parent.switch()
    else:
        QCoreApplication.processEvents(QEventLoop.AllEvents, 20)
        time.sleep(0.005)


def wait_until(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Let Qt run until ``predicate()`` is true; fails the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        let_qt_run()


def settle(seconds: float) -> None:
    """Let Qt run for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        let_qt_run()


def wait_until_idle(doc, timeout: float = 30.0) -> None:
    """Let Qt run until Krita has no work queued on ``doc``'s image (strokes, updates, undo)."""
    wait_until(lambda: is_idle(doc), timeout, f"Krita to finish its work on '{doc.name()}'")


def trigger(action_name: str) -> None:
    """Run one of Krita's actions (needs the GUI: kritarunner has no actions).

    Krita ignores some actions (undo, redo) while the image is busy, so the active document
    must be idle first.
    """
    action = Krita.instance().action(action_name)
    assert action is not None, f"no action {action_name}"
    doc = Krita.instance().activeDocument()
    if doc is not None:
        wait_until_idle(doc)
    action.trigger()


def make_active(doc, node, timeout: float = 10.0) -> None:
    """Make ``node`` the active layer of ``doc``, which must be the active document.

    Krita's layer model learns of a new layer a little later, so the request is repeated until
    it takes.
    """
    def active() -> bool:
        current = doc.activeNode()
        if current is not None and current.uniqueId() == node.uniqueId():
            return True
        doc.setActiveNode(node)
        return False
    wait_until(active, timeout, f"'{node.name()}' to become the active layer")


def composite(doc, row: int, column: int) -> tuple[int, ...]:
    """The image's visible colour at one pixel (sRGB RGBA; the document must be 8-bit sRGB)."""
    doc.waitForDone()
    blue, green, red, alpha = bytes(doc.pixelData(column, row, 1, 1))
    return red, green, blue, alpha

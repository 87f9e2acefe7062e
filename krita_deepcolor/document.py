"""Documents and their layer tree: the Krita calls the rest of the plugin goes through.

The other modules that call Krita's document and node API each have one job: ``picking.py``
(which layers to colour), ``inputs.py`` (reading them), ``results.py`` (the layers we add) and
``pixels.py`` (pixel conversion).
"""

from __future__ import annotations

from krita import Krita

from .engine.errors import EngineError

# Every layer whose projection can be read; masks are not layers of their own.
LAYER_TYPES = {"paintlayer", "grouplayer", "vectorlayer", "filelayer", "clonelayer", "filllayer",
               "filterlayer"}


class DocumentError(EngineError):
    """A document or layer the plugin cannot use; the message says what to do."""


def node_id(node) -> str:
    return node.uniqueId().toString()


def document_key(doc) -> str | None:
    """What tells documents apart: each wrapper Krita hands out for one document gives the same.
    None while a document has no image yet (being created or closed)."""
    root = doc.rootNode()
    return node_id(root) if root is not None else None


def is_open(doc) -> bool:
    return doc is not None and doc in Krita.instance().documents()


def is_idle(doc) -> bool:
    """Whether Krita has no work queued on the document's image (strokes, updates, undo)."""
    if not doc.tryBarrierLock():
        return False
    doc.unlock()
    return True


def canvas_size(doc) -> tuple[int, int]:
    return doc.width(), doc.height()


def document_name(doc) -> str:
    """The name the user knows a document by: its title, else its file name."""
    return doc.name() or (doc.fileName().rsplit("/", 1)[-1] if doc.fileName() else "untitled")


def layer_name(node) -> str:
    return node.name()


def selection_bounds(doc) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of the document's active selection on the canvas, or None when nothing is
    selected (or only outside the canvas)."""
    selection = doc.selection()
    if selection is None or selection.width() <= 0 or selection.height() <= 0:
        return None
    x0, y0 = max(selection.x(), 0), max(selection.y(), 0)
    x1 = min(selection.x() + selection.width(), doc.width())
    y1 = min(selection.y() + selection.height(), doc.height())
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def selection_bytes(doc, area) -> bytes:
    """The active selection over ``area`` (x, y, w, h): one byte a pixel, 255 = selected."""
    return bytes(doc.selection().pixelData(*area))


def is_grey(doc) -> bool:
    """Whether the document is greyscale: colours written into it show as grey."""
    return doc.colorModel().startswith("GRAY")


def walk(parent, depth: int = 0):
    """(node, depth) for every layer under ``parent``, top of the stack first (none under None:
    the root of a document that has no image yet)."""
    if parent is None:
        return
    for node in reversed(parent.childNodes()):
        if node.type() in LAYER_TYPES:
            yield node, depth
            if node.type() == "grouplayer":
                yield from walk(node, depth + 1)


def find_node(doc, layer_id: str):
    """The layer with this id if it is (still) in the document, else None."""
    return next((node for node, _ in walk(doc.rootNode()) if node_id(node) == layer_id), None)


def scratch_document(name: str, width: int, height: int, model: str, depth: str, profile: str,
                     resolution: float = 72.0):
    """A document never shown, for work out of the user's sight (close it when done); None if
    Krita cannot make one in that colour space."""
    scratch = Krita.instance().createDocument(width, height, name, model, depth, profile, resolution)
    if scratch is not None:
        scratch.setBatchmode(True)
    return scratch


def open_documents() -> list:
    return list(Krita.instance().documents())


def active_document():
    return Krita.instance().activeDocument()

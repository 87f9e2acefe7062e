"""Documents and layers: which layers to colour, and where results go.

Result layers are recognised by bookkeeping, not by name alone: their ids are recorded in a
document annotation (saved in the .kra), together with the line-art layer they colour. A
recorded layer still counts as ours only while its name starts with ``RESULT_PREFIX``, so
renaming a result keeps it from ever being replaced. Replacing is "add the new layer, then
remove the old ones", both undoable; the new layer goes on the far side of the old one, so a
single undo (which restores the old layer) shows the previous colouring again.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import numpy as np
from krita import Krita

from .layers import DocumentError, content_rect, read_rgba, write_rgba
from .qt import QByteArray
from .settings import AUTO, NO_HINTS

RESULT_PREFIX = "Deepcolor"
ANNOTATION = "krita-deepcolor"
RESULT, PREVIEW = "result", "preview"
BEHIND = "behind"  # Krita's blending mode that paints under what is already below in the group

LINE_WORDS = {"line", "lines", "lineart", "linework", "ink", "inks", "inking", "outline", "outlines"}
HINT_WORDS = {"hint", "hints", "colour", "colours", "color", "colors", "colorhint", "colourhint"}
BACKGROUND_WORDS = {"background", "bg", "paper", "backdrop"}
# Every layer whose projection can be read; masks are not layers of their own.
LAYER_TYPES = {"paintlayer", "grouplayer", "vectorlayer", "filelayer", "clonelayer", "filllayer",
               "filterlayer"}


def node_id(node) -> str:
    return node.uniqueId().toString()


def is_open(doc) -> bool:
    return doc is not None and doc in Krita.instance().documents()


def canvas_size(doc) -> tuple[int, int]:
    return doc.width(), doc.height()


def document_name(doc) -> str:
    """The name the user knows a document by: its title, else its file name."""
    return doc.name() or (doc.fileName().rsplit("/", 1)[-1] if doc.fileName() else "untitled")


def layer_name(node) -> str:
    return node.name()


def is_grey(doc) -> bool:
    """Whether the document is greyscale: colours written into it show as grey."""
    return doc.colorModel().startswith("GRAY")


def walk(parent, depth: int = 0):
    """(node, depth) for every layer under ``parent``, top of the stack first."""
    for node in reversed(parent.childNodes()):
        if node.type() in LAYER_TYPES:
            yield node, depth
            if node.type() == "grouplayer":
                yield from walk(node, depth + 1)


def find_node(doc, layer_id: str):
    """The layer with this id if it is (still) in the document, else None."""
    return next((node for node, _ in walk(doc.rootNode()) if node_id(node) == layer_id), None)


class Registry:
    """The document's record of the layers this plugin added: id -> {line, kind}."""

    def __init__(self, doc):
        self.doc = doc
        raw = bytes(doc.annotation(ANNOTATION)) if ANNOTATION in doc.annotationTypes() else b""
        try:
            self.layers = json.loads(raw.decode("utf-8")).get("layers", {}) if raw else {}
        except (ValueError, AttributeError):
            self.layers = {}  # a damaged record only means old results are not replaced

    def save(self) -> None:
        data = json.dumps({"version": 1, "layers": self.layers}).encode("utf-8")
        self.doc.setAnnotation(ANNOTATION, "krita-deepcolor result layers", QByteArray(data))

    def is_ours(self, node) -> bool:
        return node_id(node) in self.layers and node.name().startswith(RESULT_PREFIX)

    def layers_for(self, line, kinds=(RESULT, PREVIEW)) -> list:
        """Our layers in the document that colour ``line``."""
        line_id = node_id(line)
        return [node for node, _ in walk(self.doc.rootNode())
                if self.is_ours(node) and self.layers[node_id(node)]["line"] == line_id
                and self.layers[node_id(node)]["kind"] in kinds]

    def add(self, node, line, kind: str) -> None:
        self.layers[node_id(node)] = {"line": node_id(line), "kind": kind}


def user_layers(doc) -> list[tuple[object, int]]:
    """(node, depth) of the layers a user may pick, ours left out."""
    registry = Registry(doc)
    return [(node, depth) for node, depth in walk(doc.rootNode()) if not registry.is_ours(node)]


@dataclass(frozen=True)
class LayerChoice:
    """A layer as the docker's pickers show it: plain data, no Krita object."""

    layer_id: str
    name: str
    depth: int


def layer_choices(doc) -> list[LayerChoice]:
    return [LayerChoice(node_id(node), node.name(), depth) for node, depth in user_layers(doc)]


def auto_pick_names(doc) -> tuple[str | None, str | None]:
    """Names of the layers AUTO would pick now, for the pickers' "Automatic" entries."""
    line = auto_line_layer(doc)
    hint = auto_hint_layer(doc, line)
    return (line.name() if line is not None else None, hint.name() if hint is not None else None)


def _named_like(node, words) -> bool:
    return bool(words.intersection(re.findall(r"[a-z]+", node.name().lower())))


def _is_empty(node) -> bool:
    return node.bounds().isEmpty()  # cheap: no pixels are read


def _distrust(node, hint) -> str | None:
    """Why the active layer must not be taken as line art, or None if it may be."""
    if _named_like(node, HINT_WORDS) or (hint is not None and node_id(node) == node_id(hint)):
        return "is the hint layer"
    if _named_like(node, BACKGROUND_WORDS):
        return "is the background"
    if _is_empty(node):
        return "has nothing drawn on it"
    return None


def _active_user_layer(doc):
    active = doc.activeNode()
    if active is None or not any(node_id(active) == node_id(node) for node, _ in user_layers(doc)):
        return None
    return active


def auto_line_layer(doc, hint=None):
    """The layer AUTO takes as line art, or None.

    The topmost layer named like line art that has something drawn on it (else the topmost one
    named so, which is then reported as empty); without such names the active layer, unless
    it is the hint layer (``hint`` or named like hints), a background, or has nothing on it.
    """
    named = [node for node, _ in user_layers(doc) if _named_like(node, LINE_WORDS)]
    if named:
        return next((node for node in named if not _is_empty(node)), named[0])
    active = _active_user_layer(doc)
    if active is not None and _distrust(active, hint) is None:
        return active
    return None


def auto_hint_layer(doc, line):
    """The topmost layer named like hints (never the line art itself); None means no hints."""
    line_id = node_id(line) if line is not None else None
    return next((node for node, _ in user_layers(doc)
                 if _named_like(node, HINT_WORDS) and not _named_like(node, LINE_WORDS)
                 and node_id(node) != line_id), None)


def _no_line_art(doc, hint) -> DocumentError:
    message = (f"'{doc.name() or 'document'}' has no line-art layer: name a layer 'lines' or pick one "
               "in the Deepcolor docker")
    active = _active_user_layer(doc)
    if active is not None:
        message += f" (the active layer '{active.name()}' {_distrust(active, hint)})"
    return DocumentError(message)


def pick_layers(doc, line_pick: str = AUTO, hint_pick: str = AUTO):
    """Resolve the docker's picks (AUTO, NO_HINTS or a layer id) to (line node, hint node|None)."""
    chosen_hint = find_node(doc, hint_pick) if hint_pick not in (AUTO, NO_HINTS) else None
    if hint_pick not in (AUTO, NO_HINTS) and chosen_hint is None:
        raise DocumentError("the chosen hint layer is gone: pick another one, or None")
    line = auto_line_layer(doc, chosen_hint) if line_pick == AUTO else find_node(doc, line_pick)
    if line is None:
        if line_pick == AUTO:
            raise _no_line_art(doc, chosen_hint)
        raise DocumentError("the chosen line-art layer is gone: pick another one")
    if hint_pick == NO_HINTS:
        return line, None
    hint = chosen_hint or auto_hint_layer(doc, line)
    if hint is not None and node_id(hint) == node_id(line):
        raise DocumentError("line art and hints are the same layer: pick two different layers")
    return line, hint


@dataclass
class Inputs:
    """What the worker needs, read on the main thread: pixels plus the ids to find layers again."""

    line_rgba: object  # (H, W, 4) uint8 sRGB
    hint_rgba: object | None
    line_id: str
    line_name: str


def read_inputs(doc, line, hint) -> Inputs:
    """Read the layers over the canvas; an empty hint layer means no hints.

    Only the part of a layer that can hold pixels is read and checked (``content_rect``).
    """
    doc.waitForDone()  # strokes still being applied would be read half-done
    width, height = canvas_size(doc)
    x, y, w, h = content_rect(line, width, height)
    line_rgba = read_rgba(line, width, height, content_only=True)
    used = line_rgba[y:y + h, x:x + w]
    if not w or not used[:, :, 3].any():
        raise DocumentError(f"the line-art layer '{line.name()}' is empty: draw on it or pick another layer")
    # One plain colour over the whole canvas (e.g. a white background taken for line art); a layer
    # with pixels and transparency around them is never that.
    if (w, h) == (width, height) and line_rgba.size > 4:
        packed = line_rgba.view(np.uint32)  # one number a pixel: two passes, no copy of the canvas
        if packed.min() == packed.max():
            raise DocumentError(f"the line-art layer '{line.name()}' is one plain colour, no line art: name "
                                "the line-art layer 'lines' or pick it in the Deepcolor docker")
    hint_rgba = None
    if hint is not None:
        x, y, w, h = content_rect(hint, width, height)
        if w:
            hint_rgba = read_rgba(hint, width, height, content_only=True)
            if not hint_rgba[y:y + h, x:x + w, 3].any():
                hint_rgba = None
    return Inputs(line_rgba, hint_rgba, node_id(line), line.name())


def result_name(model_name: str, kind: str = RESULT) -> str:
    if kind == PREVIEW:
        return f"{RESULT_PREFIX} preview · {model_name}"
    return f"{RESULT_PREFIX} · {model_name} · {time.strftime('%H:%M')}"


def _placement(line, replaced_ids: set[str]):
    """Where a new result goes: (node to add it above, blending mode).

    Right under the line art, beneath any results it replaces, so that undoing their removal
    shows them on top again. When nothing lies below (the line art is the lowest layer of its
    group), the layer goes above the line art with the "behind" mode, which looks the same.
    """
    siblings = line.parentNode().childNodes()  # bottom to top
    ids = [node_id(node) for node in siblings]
    index = ids.index(node_id(line))

    def replaced(position: int, behind: bool) -> bool:
        return ids[position] in replaced_ids and (siblings[position].blendingMode() == BEHIND) == behind

    low = index
    while low > 0 and replaced(low - 1, behind=False):
        low -= 1
    if low > 0:
        return siblings[low - 1], None
    high = index
    while high + 1 < len(siblings) and replaced(high + 1, behind=True):
        high += 1
    return siblings[high], BEHIND


def _closest_first(line, nodes) -> list:
    siblings = [node_id(node) for node in line.parentNode().childNodes()]
    here = siblings.index(node_id(line))

    def distance(node):
        return abs(siblings.index(node_id(node)) - here) if node_id(node) in siblings else len(siblings)
    return sorted(nodes, key=distance)


def add_result(doc, line, rgba, name: str, kind: str = RESULT):
    """Add ``rgba`` as a new layer colouring ``line``, replacing earlier ones; returns the layer.

    A result replaces earlier results and previews of the same line art; a preview replaces
    earlier previews. The pixels are set before the layer is inserted (setting pixels is not
    undoable, inserting is).
    """
    registry = Registry(doc)
    replaced = registry.layers_for(line, (RESULT, PREVIEW) if kind == RESULT else (PREVIEW,))
    node = doc.createNode(name, "paintlayer")
    write_rgba(node, rgba)
    above, mode = _placement(line, {node_id(old) for old in replaced})
    if mode:
        node.setBlendingMode(mode)
    if not line.parentNode().addChildNode(node, above):
        raise DocumentError(f"Krita refused to add the layer '{name}'")
    registry.add(node, line, kind)
    registry.save()
    # Farthest first: the last removal is the one a single undo brings back, the closest one.
    for old in reversed(_closest_first(line, replaced)):
        old.remove()
    return node


def update_preview(doc, line, rgba, name: str):
    """Show a live preview: repaint the existing preview layer in place, or add one.

    Repainting in place keeps previews out of the undo history, so each undo still takes back
    one of the user's own hint strokes.
    """
    existing = Registry(doc).layers_for(line, (PREVIEW,))
    if not existing:
        return add_result(doc, line, rgba, name, PREVIEW)
    node = existing[0]
    write_rgba(node, rgba)
    node.setName(name)
    doc.refreshProjection()
    return node


def layer_signature(node) -> bytes:
    """Cheap fingerprint of a layer's content, for noticing that it changed (live preview)."""
    thumbnail = node.thumbnail(96, 96)
    bits = thumbnail.constBits()
    bits.setsize(thumbnail.sizeInBytes())
    bounds = node.bounds()
    return bytes(bits) + repr((bounds.x(), bounds.y(), bounds.width(), bounds.height())).encode()


def layers_fingerprint(line, hint) -> list:
    """What the live preview compares to notice that the picked layers or their content changed."""
    seen = [node_id(line), layer_signature(line)]
    if hint is not None:
        seen += [node_id(hint), layer_signature(hint)]
    return seen


def open_documents() -> list:
    return list(Krita.instance().documents())


def active_document():
    return Krita.instance().activeDocument()

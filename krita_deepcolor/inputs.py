"""Reading the picked layers for the worker, and noticing that they changed (live preview)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .document import DocumentError, canvas_size, node_id
from .pixels import content_rect, read_rgba


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

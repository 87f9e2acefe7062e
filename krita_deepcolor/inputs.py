"""Reading the picked layers for the worker, and noticing that they changed (live preview)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .document import DocumentError, canvas_size, node_id, selection_bounds, selection_bytes
from .engine.imaging import line_art_problem
from .pixels import content_rect, read_rgba

NORMAL = "normal"  # Krita's id of the normal blending mode
OPAQUE_PAPER_SHARE = 0.9  # line art opaque over this much of the canvas is paper: it hides results


@dataclass
class Inputs:
    """What the worker needs, read on the main thread: pixels plus the ids to find layers again.

    With an active selection, the layers are read over its bounds only (``area``) and
    ``coverage`` says how much each pixel there is selected."""

    line_rgba: object  # (H, W, 4) uint8 sRGB, over ``area``
    hint_rgba: object | None
    line_id: str
    line_name: str
    clear_rgba: object | None = None  # keep-clear strokes
    area: tuple[int, int, int, int] | None = None  # (x, y, w, h) coloured; None: the whole canvas
    coverage: object | None = None  # (h, w) uint8 over ``area``, 255 = selected
    previous_rgba: object | None = None  # the earlier result over the canvas, kept outside the selection
    line_hides: bool = False  # the line art is opaque paper in the normal mode: it hides what is under it


def selected_area(doc):
    """(area, coverage) of the active selection, or (None, None) when the whole canvas is coloured
    (no selection, or all of it selected)."""
    area = selection_bounds(doc)
    if area is None:
        return None, None
    coverage = np.frombuffer(selection_bytes(doc, area), np.uint8).reshape(area[3], area[2])
    if area == (0, 0, *canvas_size(doc)) and coverage.min() == 255:
        return None, None
    return area, coverage


def read_inputs(doc, line, hint, clear=None, previous=None) -> Inputs:
    """Read the layers over the canvas, or over the selection's bounds when there is one; an
    empty hint (or keep-clear) layer means none. ``previous``: the result layer a new result
    replaces, read whole when only a selection is coloured (it stays outside the selection).

    Only the part of a layer that can hold pixels is read and checked (``content_rect``).
    """
    doc.waitForDone()  # strokes still being applied would be read half-done
    width, height = canvas_size(doc)
    area, coverage = selected_area(doc)
    box = area or (0, 0, width, height)
    x, y, w, h = content_rect(line, width, height)
    line_rgba = read_rgba(line, width, height, content_only=True, area=box)
    empty = DocumentError(f"the line-art layer '{line.name()}' is empty: draw on it or pick another layer")
    if not w:
        raise empty
    # A selection may well hold no line at all (a part of one region): the layer is only checked
    # when the whole canvas is coloured.
    problem = line_art_problem(line_rgba) if area is None else None
    if problem == "empty":
        raise empty
    if problem == "one plain colour":
        raise DocumentError(f"the line-art layer '{line.name()}' is one plain colour, no line art: "
                            "name the line-art layer 'lines' or pick it in the Deepcolor docker")
    previous_rgba = None
    if area is not None and previous is not None:
        previous_rgba = read_rgba(previous, width, height, content_only=True)
    return Inputs(line_rgba, _strokes(hint, width, height, box, "hint"), node_id(line), line.name(),
                  clear_rgba=_strokes(clear, width, height, box, "keep-clear"), area=area,
                  coverage=coverage, previous_rgba=previous_rgba,
                  line_hides=hides_what_is_under(line, line_rgba))


def hides_what_is_under(line, line_rgba) -> bool:
    """Whether the line-art layer is paper (as a scan is: opaque nearly everywhere) in Krita's
    normal mode, so that a result placed under it would not show."""
    if line.blendingMode() != NORMAL or line.opacity() < 255:
        return False
    opaque = cv2.countNonZero(cv2.compare(cv2.extractChannel(line_rgba, 3), 250, cv2.CMP_GE))
    return opaque >= OPAQUE_PAPER_SHARE * line_rgba.shape[0] * line_rgba.shape[1]


def _strokes(node, width: int, height: int, box, what: str):
    """A layer of strokes (hints, keep-clear) over ``box``, or None if there is none or it is empty.

    Strokes covering all of a selection are fine, an opaque layer (a background picked as hints)
    is not: the engine can only tell the two apart on the whole canvas, so here it is told.
    """
    if node is None or not content_rect(node, width, height)[2]:
        return None
    rgba = read_rgba(node, width, height, content_only=True, area=box)
    lowest, highest = cv2.minMaxLoc(cv2.extractChannel(rgba, 3))[:2]
    if highest == 0:
        return None
    if lowest == 255 and tuple(box) != (0, 0, width, height):
        if read_rgba(node, width, height, content_only=True)[:, :, 3].min() == 255:
            raise DocumentError(f"the {what} layer '{node.name()}' is fully opaque: paint {what} strokes on "
                                "a transparent layer")
    return rgba


def layer_signature(node) -> bytes:
    """Cheap fingerprint of a layer's content, for noticing that it changed (live preview)."""
    thumbnail = node.thumbnail(96, 96)
    bits = thumbnail.constBits()
    bits.setsize(thumbnail.sizeInBytes())
    bounds = node.bounds()
    return bytes(bits) + repr((bounds.x(), bounds.y(), bounds.width(), bounds.height())).encode()


def layers_fingerprint(doc, *layers, settle: bool = False) -> list:
    """What the live preview compares to notice that the picked layers (None: not picked), their
    content or the selection changed. ``settle``: a stroke just ended; it may still be being
    applied, so wait for it first (never while one is being painted: that would block it)."""
    if settle:
        doc.waitForDone()
    seen = [selection_bounds(doc)]
    for node in layers:
        seen += [node_id(node), layer_signature(node)] if node is not None else [None]
    return seen

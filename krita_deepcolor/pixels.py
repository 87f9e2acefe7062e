"""Pixels between Krita layers and the engine's sRGB RGBA arrays, in any colour space.

A layer is read through a converted copy: its projection's bytes are copied into a throw-away
document in the layer's own colour space, which Krita (LCMS) then converts to 8-bit sRGB. The
user's layer is never converted or written. Results go the same way in reverse, into the
document's own model, depth and profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .document import DocumentError, scratch_document
from .engine.imaging import tile_runs
from .qt import QByteArray

WORK_PROFILES = ("sRGB-elle-V2-srgbtrc.icc", "sRGB built-in")  # 8-bit sRGB: no conversion needed
CONVERT_HOWTO = "convert the image to RGB/Alpha 8-bit (Image ▸ Convert Image Color Space) and try again"


@dataclass(frozen=True)
class ColorSpace:
    model: str  # Krita's ids: RGBA, GRAYA, CMYKA, LABA, ...
    depth: str  # U8, U16, F16, F32
    profile: str

    @classmethod
    def of(cls, item) -> ColorSpace:
        """The colour space of a Krita Document or Node."""
        return cls(item.colorModel(), item.colorDepth(), item.colorProfile())

    @property
    def is_work_space(self) -> bool:
        return self.model == "RGBA" and self.depth == "U8" and self.profile in WORK_PROFILES

    def __str__(self):
        return f"{self.model}/{self.depth} ({self.profile})"


WORK_SPACE = ColorSpace("RGBA", "U8", WORK_PROFILES[0])


def convert(data, width: int, height: int, source: ColorSpace, target: ColorSpace) -> QByteArray:
    """Raw pixel bytes from one colour space to another, converted by Krita itself."""
    scratch = scratch_document("krita-deepcolor conversion", width, height, source.model, source.depth,
                               source.profile)
    if scratch is None:
        raise DocumentError(f"Krita cannot convert {source} pixels: {CONVERT_HOWTO}")
    try:
        layer = scratch.rootNode().childNodes()[0]
        layer.setPixelData(data, 0, 0, width, height)
        if not scratch.setColorSpace(target.model, target.depth, target.profile):
            raise DocumentError(f"Krita cannot convert {source} to {target}: {CONVERT_HOWTO}")
        scratch.waitForDone()
        return layer.pixelData(0, 0, width, height)
    finally:
        scratch.close()


def content_rect(node, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the canvas that can hold ``node``'s projection; w = 0 when nothing can.

    A paint layer without masks shows exactly its pixels, so its bounds are enough; any other
    layer (groups, filters, fill or clone layers, masks that may spread) is read over the canvas.
    """
    if node.type() != "paintlayer" or node.childNodes():
        return 0, 0, width, height
    bounds = node.bounds()
    x0, y0 = max(bounds.x(), 0), max(bounds.y(), 0)
    x1, y1 = min(bounds.x() + bounds.width(), width), min(bounds.y() + bounds.height(), height)
    if bounds.isEmpty() or x1 <= x0 or y1 <= y0:
        return 0, 0, 0, 0
    return x0, y0, x1 - x0, y1 - y0


def _intersect(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else (0, 0, 0, 0)


def read_rgba(node, width: int, height: int, content_only: bool = False, area=None) -> np.ndarray:
    """The node's projection over the canvas (0, 0, width, height) as (H, W, 4) uint8 sRGB RGBA.

    The projection is what the layer shows: a group's composite, a paint layer with its masks,
    also when the layer is hidden. Pixels outside the layer's extent are transparent.
    ``content_only``: only the part that can hold visible pixels is read (``content_rect``) and
    converted straight into its place; the rest of the canvas is left to zero pages, which cost
    nothing until touched. Fully transparent pixels then read as transparent black, whatever
    colour they keep in Krita (the engine never looks at it).
    ``area`` (x, y, w, h): read only that part of the canvas, as an (h, w, 4) array.
    """
    area = area or (0, 0, width, height)
    x, y, w, h = content_rect(node, width, height) if content_only else (0, 0, width, height)
    x, y, w, h = _intersect((x, y, w, h), area)
    if not w:
        return np.zeros((area[3], area[2], 4), np.uint8)
    data = node.projectionPixelData(x, y, w, h)
    space = ColorSpace.of(node)
    if not space.is_work_space:
        data = convert(data, w, h, space, WORK_SPACE)
    # Krita's 8-bit layout is B, G, R, A. The bytes are Krita's fresh copy: swapped in place,
    # and the array keeps them alive.
    bgra = np.frombuffer(memoryview(data), np.uint8).reshape(h, w, 4)
    if (x, y, w, h) == tuple(area):
        return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA, dst=bgra)
    rgba = np.zeros((area[3], area[2], 4), np.uint8)
    left, top = x - area[0], y - area[1]
    cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA, dst=rgba[top:top + h, left:left + w])
    return rgba


def _used_rect(rgba: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) around the pixels that are not all zero (transparent black); w = 0 if none."""
    height, width = rgba.shape[:2]
    if not rgba.flags.c_contiguous:
        return 0, 0, width, height
    used = rgba.view(np.uint32).reshape(height, width) != 0
    return cv2.boundingRect(used.view(np.uint8))


def _union(a, b):
    if not a[2] or not a[3]:
        return b
    if not b[2] or not b[3]:
        return a
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0


def encode_rgba(rgba: np.ndarray, space: ColorSpace):
    """(H, W, 4) uint8 sRGB RGBA -> raw pixel bytes (a QByteArray) for a layer in ``space``.

    The bytes are converted straight into the QByteArray Krita takes: no other copy is made.
    """
    height, width = rgba.shape[:2]
    data = QByteArray()
    data.resize(width * height * 4)  # left unset: every byte is written just below
    if width and height:
        bgra = np.frombuffer(memoryview(data), np.uint8).reshape(height, width, 4)
        cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA, dst=bgra)
    if space.is_work_space:
        return data
    return convert(data, width, height, WORK_SPACE, space)


def write_rgba(node, rgba: np.ndarray, origin: tuple[int, int] = (0, 0),
               shown: np.ndarray | None = None) -> None:
    """Fill ``node`` (a paint layer of ours, never the user's) with ``rgba`` placed at ``origin``
    on the canvas; the layer is transparent everywhere else.

    Only the part that changes is written: the canvas tiles holding pixels of ``rgba`` that are
    not transparent, and whatever the layer held before (cleared where ``rgba`` does not cover it
    or is transparent black). ``shown``: what the layer holds now, all of it, at the same origin
    and size (the last live preview); then only the tiles where ``rgba`` differs are written.
    """
    height, width = rgba.shape[:2]
    left, top = origin
    space = ColorSpace.of(node)
    if shown is not None and shown.shape == rgba.shape and space.is_work_space:
        differs = rgba.view(np.uint32)[:, :, 0] != shown.view(np.uint32)[:, :, 0]
        for x, y, w, h in tile_runs(differs.view(np.uint8), origin):
            node.setPixelData(encode_rgba(rgba[y:y + h, x:x + w], space), left + x, top + y, w, h)
        return
    used = _used_rect(rgba)
    used = (used[0] + left, used[1] + top, used[2], used[3])
    extent = node.bounds()
    held = content_rect(node, extent.x() + extent.width(), extent.y() + extent.height())
    x, y, w, h = _union(used, held)
    if not w or not h:
        return
    inside = _intersect((x, y, w, h), (left, top, width, height))
    if inside == (x, y, w, h):
        pixels = rgba[y - top:y - top + h, x - left:x - left + w]
    else:  # what the layer held outside ``rgba``: cleared
        pixels = np.zeros((h, w, 4), np.uint8)
        if inside[2]:
            ix, iy, iw, ih = inside
            source = rgba[iy - top:iy - top + ih, ix - left:ix - left + iw]
            pixels[iy - y:iy - y + ih, ix - x:ix - x + iw] = source
    if not space.is_work_space:  # one conversion (a scratch document) for all of it
        node.setPixelData(encode_rgba(pixels, space), x, y, w, h)
        return
    # Tile by tile: the transparent parts of a result (often most of it) cost Krita nothing.
    # What the layer held is written over whole, so that it is cleared.
    written = cv2.extractChannel(pixels, 3)
    hx, hy, hw, hh = _intersect(held, (x, y, w, h))
    written[hy - y:hy - y + hh, hx - x:hx - x + hw] = 1
    for run_x, run_y, run_w, run_h in tile_runs(written, (x, y)):
        part = pixels[run_y:run_y + run_h, run_x:run_x + run_w]
        node.setPixelData(encode_rgba(part, space), x + run_x, y + run_y, run_w, run_h)

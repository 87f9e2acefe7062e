"""Pixels between Krita layers and the engine's sRGB RGBA arrays, in any colour space.

A layer is read through a converted copy: its projection's bytes are copied into a throw-away
document in the layer's own colour space, which Krita (LCMS) then converts to 8-bit sRGB. The
user's layer is never converted or written. Results go the same way in reverse, into the
document's own model, depth and profile. Together with ``document.py`` this is the only module
that calls Krita's document and node API.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from krita import Krita

from .engine.errors import EngineError
from .qt import QByteArray

WORK_PROFILES = ("sRGB-elle-V2-srgbtrc.icc", "sRGB built-in")  # 8-bit sRGB: no conversion needed
CONVERT_HOWTO = "convert the image to RGB/Alpha 8-bit (Image ▸ Convert Image Color Space) and try again"


class DocumentError(EngineError):
    """A document or layer the plugin cannot use; the message says what to do."""


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
    app = Krita.instance()
    scratch = app.createDocument(width, height, "krita-deepcolor conversion", source.model, source.depth,
                                 source.profile, 72.0)
    if scratch is None:
        raise DocumentError(f"Krita cannot convert {source} pixels: {CONVERT_HOWTO}")
    try:
        scratch.setBatchmode(True)
        layer = scratch.rootNode().childNodes()[0]
        layer.setPixelData(data, 0, 0, width, height)
        if not scratch.setColorSpace(target.model, target.depth, target.profile):
            raise DocumentError(f"Krita cannot convert {source} to {target}: {CONVERT_HOWTO}")
        scratch.waitForDone()
        return layer.pixelData(0, 0, width, height)
    finally:
        scratch.close()


def read_rgba(node, width: int, height: int) -> np.ndarray:
    """The node's projection over the canvas (0, 0, width, height) as (H, W, 4) uint8 sRGB RGBA.

    The projection is what the layer shows: a group's composite, a paint layer with its masks,
    also when the layer is hidden. Pixels outside the layer's extent are transparent.
    """
    data = node.projectionPixelData(0, 0, width, height)
    space = ColorSpace.of(node)
    if not space.is_work_space:
        data = convert(data, width, height, space, WORK_SPACE)
    bgra = np.frombuffer(memoryview(data), np.uint8).reshape(height, width, 4)
    return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)  # Krita's 8-bit layout is B, G, R, A


def encode_rgba(rgba: np.ndarray, space: ColorSpace):
    """(H, W, 4) uint8 sRGB RGBA -> raw pixel bytes (bytes or QByteArray) for a layer in ``space``."""
    height, width = rgba.shape[:2]
    data = cv2.cvtColor(np.ascontiguousarray(rgba), cv2.COLOR_RGBA2BGRA).tobytes()
    if space.is_work_space:
        return data
    return convert(data, width, height, WORK_SPACE, space)


def write_rgba(node, rgba: np.ndarray) -> None:
    """Fill ``node`` (a paint layer of ours, never the user's) with ``rgba`` at the canvas origin."""
    height, width = rgba.shape[:2]
    data = encode_rgba(rgba, ColorSpace.of(node))
    node.setPixelData(data, 0, 0, width, height)  # PyQt takes bytes where Krita wants a QByteArray

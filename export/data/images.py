"""Pixel helpers for building samples: decoding, cropping, fitting, and the measures that decide
whether an image is the kind of art users colour (flat, colourful, clean outlines)."""

from __future__ import annotations

import cv2
import numpy as np

from krita_deepcolor.engine import imaging


class ImageError(ValueError):
    """Bytes that are not a readable image."""


def decode(data: bytes) -> np.ndarray:
    """Image file bytes (PNG, JPEG, WebP, ...) -> RGBA uint8 (16-bit files are reduced to 8 bits)."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None or image.size == 0:
        raise ImageError("not an image file OpenCV can read")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    rgba = imaging.as_rgba(image)
    if rgba.dtype != np.uint8:
        rgba = imaging.to_uint8(rgba.astype(np.float32) / imaging.full_scale(rgba))
    return rgba


def content_box(alpha: np.ndarray, margin: float = 0.04) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the visible pixels plus a margin; None when nothing is visible."""
    rows = np.flatnonzero(alpha.max(axis=1) > 8)
    cols = np.flatnonzero(alpha.max(axis=0) > 8)
    if rows.size == 0:
        return None
    pad = int(round(margin * max(rows[-1] - rows[0], cols[-1] - cols[0]))) + 2
    height, width = alpha.shape
    return (max(rows[0] - pad, 0), min(rows[-1] + 1 + pad, height),
            max(cols[0] - pad, 0), min(cols[-1] + 1 + pad, width))


def fit(rgba: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (never enlarge) so the longer side is at most ``max_side``; resampled premultiplied so
    transparent pixels do not darken the figure's edge."""
    scale = max_side / max(rgba.shape[:2])
    if scale >= 1.0:
        return rgba
    height, width = (max(1, round(side * scale)) for side in rgba.shape[:2])
    return imaging.straight_rgba8(imaging.premultiplied(rgba, "image"), height, width)


def over_white(rgba: np.ndarray) -> np.ndarray:
    """RGBA uint8 -> RGB float32 [0, 1] composited over white paper."""
    unit = rgba.astype(np.float32) / 255.0
    alpha = unit[:, :, 3:4]
    return unit[:, :, :3] * alpha + (1.0 - alpha)


def colourful_share(rgba: np.ndarray) -> float:
    """Share of the figure's pixels with a clear hue (channel spread above 0.12)."""
    figure = rgba[:, :, 3] > 127
    if not figure.any():
        return 0.0
    rgb = rgba[:, :, :3][figure].astype(np.int16)
    return float(np.mean(rgb.max(axis=1) - rgb.min(axis=1) > 30))


def flat_share(rgba: np.ndarray) -> float:
    """Share of the figure's pixels that equal their right and lower neighbours within 4/255.

    Flat fills and smooth gradients score high; photographs and painted texture score low.
    """
    rgb = over_white(rgba)
    step_right = np.abs(rgb[:-1, 1:] - rgb[:-1, :-1]).max(axis=2)
    step_down = np.abs(rgb[1:, :-1] - rgb[:-1, :-1]).max(axis=2)
    figure = rgba[:-1, :-1, 3] > 127
    if not figure.any():
        return 0.0
    smooth = (step_right <= 4.5 / 255.0) & (step_down <= 4.5 / 255.0)
    return float(smooth[figure].mean())


def distinct_colours(rgba: np.ndarray) -> int:
    """Number of distinct colours (5 bits per channel) among the figure's pixels: thousands in a
    photograph, hundreds in flat art even with gradients."""
    quantised = (rgba[:, :, :3][rgba[:, :, 3] > 127] >> 3).astype(np.int32)
    return int(np.unique(quantised @ np.array([1024, 32, 1], np.int32)).size)


def outline_coverage(colour_rgba: np.ndarray, line: np.ndarray, reach: int = 2) -> float:
    """Share of the colour image's sharp edges that lie within ``reach`` px of ink.

    A true line layer outlines the colour regions; a line layer that misses most edges (outlines in
    colour, or drawn in a way the restyling does not see) is not a faithful pair.
    """
    rgb = over_white(colour_rgba)
    edges = np.zeros(rgb.shape[:2], bool)
    edges[:, :-1] |= np.abs(rgb[:, 1:] - rgb[:, :-1]).max(axis=2) > 0.16
    edges[:-1, :] |= np.abs(rgb[1:, :] - rgb[:-1, :]).max(axis=2) > 0.16
    if np.count_nonzero(edges) < 16:
        return 1.0
    ink = (line < 0.5).astype(np.uint8)
    near_ink = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    return float(near_ink[edges].mean())

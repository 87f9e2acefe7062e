"""How line-art and hint layers become the contract's arrays.

This is the one definition of reading line art and hints: the engine, the CLI, the plugin
and the training toolchain all call these functions. Layers arrive as straight-alpha sRGB
RGBA arrays (H, W, 4) of uint8, uint16 or float; gray, gray+alpha and RGB are accepted too.
Canvas-sized work happens in 8 bits: it keeps a 4096x4096 canvas fast and small, and line
art and hint strokes carry no information in the lower bits.
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import InputError

_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def full_scale(array: np.ndarray) -> float:
    """Value that means 1.0 for this dtype (floats are already in [0, 1])."""
    if array.dtype in _FULL_SCALE:
        return _FULL_SCALE[array.dtype]
    if array.dtype.kind == "f":
        return 1.0
    raise InputError(f"unsupported pixel type {array.dtype}: use 8-bit, 16-bit or float images")


def as_rgba(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Return (H, W, 4) in the same dtype; gray and RGB become opaque RGBA."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"{what}: expected gray, gray+alpha, RGB or RGBA pixels, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"{what} is empty (0 pixels wide or high)")
    full_scale(image)  # validates the dtype
    channels = image.shape[2]
    if channels == 4:
        return image
    opaque = np.full(image.shape[:2] + (1,), full_scale(image), image.dtype)
    if channels == 1:
        return np.concatenate([image, image, image, opaque], axis=2)
    if channels == 2:
        gray, alpha = image[:, :, :1], image[:, :, 1:]
        return np.concatenate([gray, gray, gray, alpha], axis=2)
    return np.concatenate([image, opaque], axis=2)


def to_uint8(unit: np.ndarray) -> np.ndarray:
    """Float in [0, 1] -> uint8 with rounding (saturating above 1)."""
    # np.maximum, not cv2.max: OpenCV mistakes arrays of up to 4 values for a scalar
    return cv2.convertScaleAbs(np.maximum(unit, 0.0), alpha=255.0).reshape(unit.shape)


def to_rgba8(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Any supported layer -> (H, W, 4) uint8 RGBA."""
    return _to_8bit(as_rgba(image, what))


def alpha8(rgba: np.ndarray) -> np.ndarray:
    """(H, W) uint8 alpha of an RGBA layer of any supported depth."""
    if rgba.dtype == np.uint8 and rgba.flags.c_contiguous:
        return cv2.extractChannel(rgba, 3)  # (several times faster than a strided numpy copy)
    return np.ascontiguousarray(_to_8bit(rgba[:, :, 3]))


def _to_8bit(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return (pixels >> 8).astype(np.uint8)
    return to_uint8(pixels.astype(np.float32, copy=False))


def lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB colours in [0, 1], any shape (..., 3) -> CIE Lab float32 of the same shape (OpenCV's
    conversion, D65): the one Lab conversion of the engine, the toolchain and the benchmarks."""
    unit = np.ascontiguousarray(rgb, np.float32)
    return cv2.cvtColor(unit.reshape(1, -1, 3), cv2.COLOR_RGB2Lab).reshape(unit.shape)


INK_THRESHOLD = 0.5  # line levels (0 ink .. 1 paper) below this count as ink


def line_art_problem(rgba: np.ndarray) -> str | None:
    """Why a whole canvas of line art holds no lines ('empty', 'one plain colour'), or None.

    One plain colour over every pixel is a white background or a filled layer taken for line
    art; a layer with transparency around its pixels, or alpha that varies, is never that."""
    rgba = np.ascontiguousarray(as_rgba(rgba, "line art"))
    alpha = cv2.extractChannel(rgba, 3)
    low, high = cv2.minMaxLoc(alpha)[:2]
    if high == 0:
        return "empty"
    if low == high and rgba.size > 4:
        pixels = rgba.reshape(-1, 4)
        if (pixels == pixels[0]).all():
            return "one plain colour"
    return None


def line_levels(rgba: np.ndarray) -> np.ndarray:
    """Line-art layer -> (H, W) uint8, 255 = paper, 0 = ink (below INK_THRESHOLD * 255).

    The layer is composited over white paper, so both transparent layers with dark lines and
    opaque scans work; coloured lines count by their luminance.
    """
    rgba = np.ascontiguousarray(to_rgba8(rgba, "line art"))
    darkness = cv2.bitwise_not(cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY))
    alpha = cv2.extractChannel(rgba, 3)
    # over white: paper - alpha * darkness
    return cv2.bitwise_not(cv2.multiply(darkness, alpha, scale=1.0 / 255.0))


def line_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """Line-art layer -> the contract's ``line``: (H, W) float32, 1.0 = paper, 0.0 = ink."""
    return line_levels(rgba).astype(np.float32) * np.float32(1.0 / 255.0)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-average when shrinking, bilinear when enlarging; keeps dtype."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = height <= image.shape[0] and width <= image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = cv2.resize(image, (width, height), interpolation=interpolation)
    return out.reshape((height, width) + image.shape[2:])


def shrink_lines(line8: np.ndarray, height: int, width: int) -> np.ndarray:
    """Downscale uint8 line levels so that thin lines stay ink instead of fading to gray."""
    factor = max(line8.shape[0] / height, line8.shape[1] / width)
    if factor > 1:
        # widen ink so that each line fully covers at least one output pixel
        size = 2 * int(np.ceil(factor)) - 1
        line8 = cv2.erode(line8, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    return resize(line8, height, width)


TILE = 64  # side of the tiles sparse layers are handled in (Krita's own tile side)


def tile_runs(alpha: np.ndarray, origin: tuple[int, int] = (0, 0)) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) rectangles of ``alpha`` (h, w) covering every non-zero pixel in whole TILE x
    TILE tiles, a row of tiles at a time. The tiles are those of the canvas when ``alpha`` lies at
    ``origin`` (x, y) on it. Hint strokes and results are mostly transparent: what lies outside
    the runs needs no work."""
    left, top = origin
    height, width = alpha.shape
    first_column = left // TILE
    columns = (left + width - 1) // TILE - first_column + 1
    start = left - first_column * TILE
    padded = np.zeros(columns * TILE, np.uint8)
    runs = []
    for band_top in range(-(top % TILE), height, TILE):
        y0, y1 = max(band_top, 0), min(band_top + TILE, height)
        padded[start:start + width] = alpha[y0:y1].max(axis=0)  # (numpy's is 10x cv2.reduce's speed)
        used = padded.reshape(columns, TILE).any(axis=1)
        edges = np.flatnonzero(np.diff(np.concatenate([[False], used, [False]]).astype(np.int8)))
        for begin, end in zip(edges[::2], edges[1::2], strict=True):
            x0, x1 = max(begin * TILE - start, 0), min(end * TILE - start, width)
            runs.append((x0, y0, x1 - x0, y1 - y0))
    return runs


def _alpha_everywhere(rgba8: np.ndarray) -> np.ndarray:
    """(A, A, A, 255) per pixel: multiplying or dividing RGBA by it leaves alpha as it was."""
    return cv2.cvtColor(cv2.extractChannel(rgba8, 3), cv2.COLOR_GRAY2RGBA)


def premultiplied(rgba: np.ndarray, what: str = "hints") -> np.ndarray:
    """RGBA layer -> premultiplied uint8 RGBA (R*A, G*A, B*A, A) at its own size.

    Resampling premultiplied never lets the colour of transparent pixels leak in. Only the tiles
    holding strokes are multiplied; the rest is transparent black.
    """
    rgba8 = np.ascontiguousarray(to_rgba8(rgba, what))
    out = np.zeros(rgba8.shape, np.uint8)  # (not zeros_like, which writes every page at once)
    for x, y, w, h in tile_runs(cv2.extractChannel(rgba8, 3)):
        part = rgba8[y:y + h, x:x + w]
        cv2.multiply(part, _alpha_everywhere(part), dst=out[y:y + h, x:x + w], scale=1.0 / 255.0)
    return out


def straight_rgba8(premultiplied_rgba: np.ndarray, height: int, width: int) -> np.ndarray:
    """Premultiplied RGBA resampled to (height, width) -> straight uint8 RGBA."""
    resized = resize(premultiplied_rgba, height, width)
    return cv2.divide(resized, _alpha_everywhere(resized), scale=255.0)  # x / 0 gives 0


def hint_from_premultiplied(premultiplied_rgba: np.ndarray | None, height: int, width: int) -> np.ndarray:
    """Premultiplied hints -> the contract's ``hint`` at (height, width): float32 straight RGBA.
    ``None`` means no hints: all zero."""
    if premultiplied_rgba is None:
        return np.zeros((height, width, 4), np.float32)
    return straight_rgba8(premultiplied_rgba, height, width).astype(np.float32) * np.float32(1.0 / 255.0)

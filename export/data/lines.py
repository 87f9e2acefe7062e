"""Line art extracted from colour images, for art that has no separate line layer.

Two extractors: the deepcolor seed's adaptive threshold and XDoG (Winnemöller's p-form). Each has
its failure: the threshold speckles painted shading, XDoG turns dark areas into solid blobs; the
build keeps, per image, the one with less of its failure.
"""

from __future__ import annotations

import cv2
import numpy as np

from krita_deepcolor.engine import imaging


def gray_over_white(rgba: np.ndarray) -> np.ndarray:
    """RGBA uint8 -> (H, W) float32 luminance in [0, 1], composited over white paper."""
    return imaging.line_from_rgba(rgba)


def adaptive_threshold(rgba: np.ndarray, block: int = 9, c: float = 2.0) -> np.ndarray:
    """The deepcolor recipe: ink where a pixel is darker than its block mean by more than c (0..255)."""
    gray = imaging.to_uint8(gray_over_white(rgba))
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c)
    return binary.astype(np.float32) / 255.0


def xdog(rgba: np.ndarray, sigma: float = 0.8, k: float = 1.6, p: float = 20.0, eps: float = 0.35,
         phi: float = 10.0) -> np.ndarray:
    """Winnemöller's XDoG, p-form: D = (1+p) G(sigma) - p G(k sigma) on luminance;
    paper where D >= eps, else 1 + tanh(phi (D - eps))."""
    gray = gray_over_white(rgba)
    narrow = cv2.GaussianBlur(gray, (0, 0), sigma)
    wide = cv2.GaussianBlur(gray, (0, 0), sigma * k)
    sharpened = (1.0 + p) * narrow - p * wide
    out = np.where(sharpened >= eps, 1.0, 1.0 + np.tanh(phi * (sharpened - eps)))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def failure_share(line: np.ndarray) -> float:
    """Share of the ink that is speckle (specks of a few pixels) or blob (deeper than 3 px from paper)."""
    ink = (line < 0.5).astype(np.uint8)
    total = int(ink.sum())
    if total == 0:
        return 1.0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    speckle = int(stats[1:, cv2.CC_STAT_AREA][stats[1:, cv2.CC_STAT_AREA] <= 4].sum()) if count > 1 else 0
    depth = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    blob = int(np.count_nonzero(depth > 3.0))
    return (speckle + blob) / total


def extract_lines(rgba: np.ndarray) -> tuple[np.ndarray, str]:
    """(line float32 1 = paper, method name) with the extractor whose output fails least."""
    candidates = {"adaptive-threshold": adaptive_threshold(rgba), "xdog": xdog(rgba)}
    method = min(candidates, key=lambda name: failure_share(candidates[name]))
    return candidates[method], method

"""Bringing the network's colours back to the full canvas, and building the output layer."""

from __future__ import annotations

import cv2
import numpy as np

from .imaging import to_uint8

PAPER_TRUST = 0.9  # a working pixel whose footprint is at least this much paper is trusted
UNTRUSTED_WEIGHT = 1e-3  # keeps the weighted average defined where no trusted sample is near


def fill_from_paper(color: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give every working pixel covered by ink the colour of the nearest paper pixel.

    Network colours on and right beside lines mix both sides; paper pixels away from lines
    carry one side's colour. Returns (filled colour, trust weight), both at working size.
    """
    trusted = line >= PAPER_TRUST
    if trusted.all() or not trusted.any():
        return color, np.ones(line.shape, np.float32)
    untrusted = (~trusted).astype(np.uint8)
    _, labels = cv2.distanceTransformWithLabels(untrusted, cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    # DIST_LABEL_PIXEL numbers the zero (trusted) pixels 1..K in raster order.
    trusted_colors = color[trusted]
    filled = trusted_colors[labels - 1]
    weight = np.where(trusted, np.float32(1.0), np.float32(UNTRUSTED_WEIGHT))
    return filled, weight


def upsample_colors(color: np.ndarray, line_work: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """Edge-aware upsampling: (h, w, 3) float colours -> (H, W, 3) uint8 at canvas size.

    Bilinear interpolation weighted by trust, so a canvas pixel beside a line takes its colour
    from working pixels on its own side, never from the ink or across it.
    """
    height, width = canvas
    if color.shape[:2] == (height, width):
        return to_uint8(color)
    filled, weight = fill_from_paper(color, line_work)
    weighted = np.concatenate([filled * weight[:, :, None], weight[:, :, None]], axis=2)
    up = cv2.resize(weighted, (width, height), interpolation=cv2.INTER_LINEAR)
    rgb = up[:, :, :3]
    rgb /= np.maximum(up[:, :, 3:4], np.float32(1e-6))
    return to_uint8(rgb)


def compose_layer(colors: np.ndarray, alpha: np.ndarray | None = None,
                  line: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 colours -> (H, W, 4) uint8 RGBA layer.

    ``alpha`` (uint8, optional) makes parts transparent; ``line`` (float, optional) is
    multiplied in so the layer carries the line art at full resolution, crisp.
    """
    if line is not None:
        ink = cv2.merge([to_uint8(line)] * 3)
        colors = cv2.multiply(colors, ink, scale=1.0 / 255.0)
    if alpha is None:
        alpha = np.full(colors.shape[:2], 255, np.uint8)
    return cv2.merge([colors[:, :, 0], colors[:, :, 1], colors[:, :, 2], alpha])

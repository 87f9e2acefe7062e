"""Choosing the working resolution the network runs at."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .imaging import INK_THRESHOLD, full_scale

# How far the line-width match may scale: beyond this the estimate is not trusted.
MIN_SCALE, MAX_SCALE = 1.0 / 16.0, 2.0


@dataclass(frozen=True)
class WorkPlan:
    """Canvas size, the size the network sees, and the padding added to reach a valid size."""

    canvas: tuple[int, int]  # (H, W) of the layers
    work: tuple[int, int]  # (h, w) after scaling, before padding
    padded: tuple[int, int]  # (h, w) fed to the network: multiples of size_multiple


def estimate_line_width(line: np.ndarray) -> float | None:
    """Typical ink stroke width in pixels of a line image (float 0..1 or uint8 0..255),
    or None when there is (almost) no ink.

    For a stroke of width w and length L the ink area is w*L and its outline is about 2*L
    long, so w = 2 * area / outline. The toolchain records the same estimate for its
    training images, so any bias of the estimator cancels out when matching.
    """
    if line.size < 16:
        return None
    if line.dtype != np.uint8:
        line = cv2.convertScaleAbs(line, alpha=255.0 / full_scale(line))
    ink = cv2.compare(line, INK_THRESHOLD * 255, cv2.CMP_LT)  # 255 = ink, 0 = paper
    area = cv2.countNonZero(ink)
    if area < 16:
        return None
    border = sum(cv2.countNonZero(edge) for edge in (ink[0], ink[-1], ink[:, 0], ink[:, -1]))
    outline = (cv2.countNonZero(cv2.absdiff(ink[1:, :], ink[:-1, :]))
               + cv2.countNonZero(cv2.absdiff(ink[:, 1:], ink[:, :-1])) + border)
    return 2.0 * area / max(outline, 1)


def plan_work(canvas: tuple[int, int], max_side: int, size_multiple: int,
              line_width: float | None = None, model_line_width: float | None = None) -> WorkPlan:
    """Scale so the longest side fits ``max_side`` and, when both widths are known, so the
    input's lines look as wide as the training lines; then pad to ``size_multiple``."""
    height, width = canvas
    if height < 1 or width < 1:
        raise ValueError("canvas is empty")
    fit = max_side / max(height, width)
    if line_width and model_line_width:
        scale = min(fit, min(max(model_line_width / line_width, MIN_SCALE), MAX_SCALE))
    else:
        scale = min(fit, 1.0)  # without a line-width match, never enlarge
    work = (max(1, round(height * scale)), max(1, round(width * scale)))
    padded = tuple(max(size_multiple, math.ceil(side / size_multiple) * size_multiple) for side in work)
    return WorkPlan(canvas=(height, width), work=work, padded=padded)

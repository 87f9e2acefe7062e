"""Finishing at canvas size: the raw network colours brought back edge-aware (raw), or flats
(hybrid): the Colorize-Mask flood of the hints, departing from it where a learned decision
prefers the hybrid rules' proposal (departures.py); and the output layer."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .departures import flood_first
from .flats import exact_hints, nearest, painted_colours
from .imaging import resize, shrink_lines, straight_rgba8, to_uint8
from .plan import plan_work
from .regions import gap_radius, hybrid_colors

FINISH_MAX_SIDE = 2048  # regions are found at most this large: enough for small details, fast
# Regions need lines a few pixels wide, no more: boundaries between flats lie under the lines.
# Big canvases with thick lines are finished smaller, but never below FINISH_MIN_SIDE: small
# regions must survive.
FINISH_LINE_WIDTH = 4.0
FINISH_MIN_SIDE = 1024
PAPER_TRUST = 0.9  # a working pixel whose footprint is at least this much paper is trusted
# Upsampling weights in 16-bit fixed point: trusted samples count 256 times more than
# untrusted ones, which still decide where no trusted sample is near (on the lines).
TRUSTED_WEIGHT, UNTRUSTED_WEIGHT = 256, 1


def fill_from_paper(color: np.ndarray, trusted: np.ndarray) -> np.ndarray:
    """Give every untrusted working pixel the colour of the nearest trusted (paper) pixel.

    Network colours on and right beside lines mix both sides; paper pixels away from lines
    carry one side's colour.
    """
    if trusted.all() or not trusted.any():
        return color
    _, labels = cv2.distanceTransformWithLabels((~trusted).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    # DIST_LABEL_PIXEL numbers the zero (trusted) pixels 1..K in raster order.
    return color[trusted][labels - 1]


def upsample_colors(color: np.ndarray, line_work: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """(h, w, 3) float colours -> (H, W, 4) uint8 opaque RGBA layer at canvas size.

    The upsampling is edge-aware (``line_work`` is the line at the colours' size): bilinear
    interpolation weighted by trust, so a canvas pixel beside a line takes its colour from
    working pixels on its own side, never from the ink or across it. Works plane by plane in
    16-bit fixed point: at 4096x4096 that is several times faster than float RGB.
    """
    height, width = canvas
    colors8 = to_uint8(color)
    opaque = np.full(canvas, 255, np.uint8)
    if color.shape[:2] == (height, width):
        return cv2.merge([*cv2.split(colors8), opaque])
    trusted = line_work >= PAPER_TRUST
    filled = fill_from_paper(colors8, trusted)
    weight = np.where(trusted, np.uint16(TRUSTED_WEIGHT), np.uint16(UNTRUSTED_WEIGHT))
    up_weight = cv2.resize(weight, (width, height), interpolation=cv2.INTER_LINEAR)
    planes = []
    for channel in range(3):
        weighted = filled[:, :, channel].astype(np.uint16) * weight
        up = cv2.resize(weighted, (width, height), interpolation=cv2.INTER_LINEAR)
        planes.append(cv2.divide(up, up_weight, dtype=cv2.CV_8U))
    return cv2.merge([*planes, opaque])


def closing_radius(gap: int, scale: float) -> int:
    """The wall growth that closes gaps up to ``gap`` canvas pixels wide at ``scale``."""
    return math.ceil(gap * scale / 2 - 1e-9) if gap > 0 else 0


def auto_gap(canvas: tuple[int, int], line_width: float | None) -> tuple[int, float]:
    """(radius at the finishing's size, that size's scale) that Auto closes gaps with: about one
    line width."""
    scale = finish_size(canvas, line_width)[0] / canvas[0]
    return gap_radius(line_width * scale if line_width else None), scale


def auto_gap_size(canvas: tuple[int, int], line_width: float | None) -> int:
    """The widest gap, in canvas pixels, that Auto closes on a canvas of this size."""
    radius, scale = auto_gap(canvas, line_width)
    return round(2 * radius / scale)


def finish_size(canvas: tuple[int, int], line_width: float | None) -> tuple[int, int]:
    """(h, w) the hybrid finishing finds regions at: at most FINISH_MAX_SIDE, lines about
    FINISH_LINE_WIDTH wide, never below FINISH_MIN_SIDE."""
    finish_side = FINISH_MAX_SIDE
    if line_width:
        lines_fit = round(max(canvas) * FINISH_LINE_WIDTH / line_width)
        finish_side = min(finish_side, max(FINISH_MIN_SIDE, lines_fit))
    return plan_work(canvas, finish_side, 1).work


def hybrid_finish(line: np.ndarray, hint8: np.ndarray | None, hint_finish: np.ndarray | None,
                  clear8: np.ndarray | None, color: np.ndarray, line_width: float | None,
                  options) -> tuple[np.ndarray, int]:
    """The hybrid finishing (regions.hybrid_colors) at ``finish_size``, brought to the canvas;
    ``hint_finish`` is the premultiplied hints at that size, ``options`` the pipeline's Options.
    Returns the layer and the widest gap closed, in canvas pixels."""
    canvas = line.shape
    finish = finish_size(canvas, line_width)
    scale = finish[0] / canvas[0]
    if options.close_gaps is None:
        radius = auto_gap(canvas, line_width)[0]
    else:
        radius = closing_radius(options.close_gaps, scale)
    line_finish = shrink_lines(line, *finish)
    swatches = options.palette.colours if options.palette is not None else None
    if hint8 is None:
        hint_finish = np.zeros(finish + (4,), np.uint8)
    else:
        hint_finish = straight_rgba8(hint_finish, *finish)
        # every hint pixel one of the colours painted (or their palette entries), never a blend
        painted = painted_colours(hint8)
        exact_hints(hint_finish, painted)
        if swatches is not None:
            exact_hints(hint_finish, swatches[nearest(painted, swatches)])
        hint_finish[:, :, 3] = cv2.convertScaleAbs(hint_finish[:, :, 3], alpha=options.hint_strength)
    clear_finish = None if clear8 is None else resize(np.ascontiguousarray(clear8[:, :, 3]), *finish)
    layer = hybrid_colors(line_finish, hint_finish, color, None, options.shading, radius=radius,
                          clear=clear_finish, swatches=swatches)
    if options.floods_first:
        # flats start from the flood and leave it only where the learned decision says
        layer = flood_first(line_finish, hint_finish, clear_finish, layer, color, radius,
                            line_width * scale if line_width else None)
    # Flat colours change under the lines, where walls meet: no edge-aware fill needed. Flats are
    # enlarged pixel by pixel, so that no colour appears that was not chosen; shading smoothly.
    if finish != canvas:
        interpolation = cv2.INTER_LINEAR if options.shading > 0 else cv2.INTER_NEAREST
        layer = cv2.resize(layer, canvas[::-1], interpolation=interpolation)
    return layer, round(2 * radius / scale)


def draw_lines(rgba: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Multiply the line art (uint8 levels) into an RGBA layer, so that it carries the lines at
    full resolution, crisp; the lines stay also where the layer is transparent."""
    *planes, alpha = cv2.split(rgba)
    planes = [cv2.multiply(plane, line, scale=1.0 / 255.0) for plane in planes]
    return cv2.merge([*planes, cv2.max(alpha, cv2.bitwise_not(line))])

"""Hybrid finishing: let the deterministic flood carry the hints, the network the rest.

Regions are the areas the line art encloses, with small gaps in the outlines closed. Then:
* a region with hints takes the hint colour (several hint colours: each pixel the nearest);
* regions touching the canvas border are outside the figure: transparent unless hinted, and
  even then only the part nearer to a hint than to the border (so an outline that does not
  close lets the hint colour stop near the gap instead of flooding the whole background);
* regions no hint reaches take the network's colour, flat per region;
* optional shading adds the network's light and dark relative to its own region average.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .plan import INK_THRESHOLD

HINT_ALPHA = 0.5  # hint pixels at least this opaque seed the flood
# Strokes overflow their region: a region takes a stroke's colour only if it holds this share
# of the stroke, or the stroke covers this share of the region (small regions, e.g. petals).
# Outside the figure a stroke must lie mostly there: the user meant to paint the background.
STROKE_SHARE, OUTSIDE_STROKE_SHARE, REGION_SHARE = 0.25, 0.5, 0.2
MIXED_HINTS_VARIANCE = 0.004  # per-channel colour variance above which a region holds several hints


@dataclass(frozen=True)
class Regions:
    labels: np.ndarray  # (h, w) int32: every pixel, ink included, belongs to one region
    count: int
    outside: np.ndarray  # (count,) bool: region touches the canvas border
    paper: np.ndarray  # (h, w) bool: pixels away from the ink, whose colour speaks for the region


def gap_radius(line_width: float | None) -> int:
    """Gaps up to about one line width get closed: bigger ones are meant to be open."""
    return int(np.clip(round((line_width or 2.0) / 2), 1, 8))


def find_regions(line8: np.ndarray, radius: int) -> Regions:
    """Split the canvas into regions enclosed by the ink of ``line8`` (uint8, 255 = paper)."""
    ink = np.where(line8 < INK_THRESHOLD * 255, np.uint8(255), np.uint8(0))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    walls = cv2.dilate(ink, kernel)
    if not walls.any() or walls.all():
        labels = np.zeros(line8.shape, np.int32)
    else:
        # Each connected area of paper becomes a region; wall pixels join the nearest one.
        _, labels = cv2.distanceTransformWithLabels(walls, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_CCOMP)
        labels = labels.astype(np.int32) - 1
    count = int(labels.max()) + 1
    outside = np.zeros(count, bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        outside[np.unique(edge)] = True
    return Regions(labels=labels, count=count, outside=outside, paper=walls == 0)


def _region_means(labels: np.ndarray, count: int, values: np.ndarray, where: np.ndarray | None = None):
    """Per-region pixel count and mean of each channel of ``values`` (h, w, c)."""
    index = labels if where is None else labels[where]
    data = values.reshape(-1, values.shape[-1]) if where is None else values[where]
    index = index.ravel()
    counts = np.bincount(index, minlength=count).astype(np.float64)
    sums = np.stack([np.bincount(index, data[:, c], minlength=count) for c in range(data.shape[1])], 1)
    return counts, sums / np.maximum(counts, 1)[:, None]


def accepted_hints(hinted: np.ndarray, regions: Regions) -> np.ndarray:
    """Hint pixels that count for the region they lie in (see STROKE_SHARE, REGION_SHARE)."""
    labels, count = regions.labels, regions.count
    if not hinted.any():
        return hinted
    strokes, stroke_ids = cv2.connectedComponents(hinted.astype(np.uint8), connectivity=8)
    pair = stroke_ids[hinted].astype(np.int64) * count + labels[hinted]
    in_pair = np.bincount(pair, minlength=strokes * count).reshape(strokes, count)
    stroke_size = in_pair.sum(axis=1, keepdims=True)
    region_size = np.bincount(labels.ravel(), minlength=count)[None, :]
    share = np.where(regions.outside, OUTSIDE_STROKE_SHARE, STROKE_SHARE)[None, :]
    keep = (in_pair >= share * stroke_size) | (in_pair >= REGION_SHARE * region_size)
    accepted = np.zeros_like(hinted)
    accepted[hinted] = keep.ravel()[pair]
    return accepted


def _nearest_hint(seeds: np.ndarray, hint_rgb: np.ndarray, labels: np.ndarray):
    """For every pixel: colour of, and distance to, the nearest seed pixel, and whether that
    seed lies in the pixel's own region."""
    distance, nearest = cv2.distanceTransformWithLabels((~seeds).astype(np.uint8), cv2.DIST_L2, 3,
                                                        labelType=cv2.DIST_LABEL_PIXEL)
    index = nearest - 1
    same_region = labels[seeds][index] == labels
    return hint_rgb[seeds][index], distance, same_region


def _border_distance(shape) -> np.ndarray:
    height, width = shape
    ys = np.minimum(np.arange(height), np.arange(height)[::-1]).astype(np.float32)
    xs = np.minimum(np.arange(width), np.arange(width)[::-1]).astype(np.float32)
    return np.minimum(ys[:, None], xs[None, :])


def hybrid_colors(line8: np.ndarray, hint: np.ndarray, network: np.ndarray, line_width: float | None,
                  shading: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Flats from hints and network, all at one size.

    line8: (h, w) uint8 levels; hint: (h, w, 4) float straight RGBA; network: (h, w, 3) float.
    Returns (colour (h, w, 3) float32, alpha (h, w) float32).
    """
    regions = find_regions(line8, gap_radius(line_width))
    labels, count = regions.labels, regions.count
    hinted = accepted_hints(hint[:, :, 3] >= HINT_ALPHA, regions)
    hint_rgb = np.ascontiguousarray(hint[:, :, :3])

    hint_counts, hint_means = _region_means(labels, count, hint_rgb, hinted)
    _, hint_squares = _region_means(labels, count, hint_rgb ** 2, hinted)
    mixed = (hint_squares - hint_means ** 2).max(axis=1) > MIXED_HINTS_VARIANCE
    has_hint = hint_counts > 0
    _, network_means = _region_means(labels, count, network, regions.paper if regions.paper.any() else None)

    flat = np.where(has_hint[:, None], hint_means, network_means)[labels].astype(np.float32)
    alpha = np.where(regions.outside & ~has_hint, 0.0, 1.0)[labels].astype(np.float32)

    # Where one region holds several hints, or is outside with a hint, the nearest hint decides.
    per_pixel = (has_hint & (mixed | regions.outside))[labels]
    if per_pixel.any():
        nearest_rgb, hint_distance, same_region = _nearest_hint(hinted & per_pixel, hint_rgb, labels)
        own = per_pixel & same_region
        flat[own] = nearest_rgb[own]
        outside_hinted = (has_hint & regions.outside)[labels]
        beyond = outside_hinted & ~(same_region & (hint_distance <= _border_distance(labels.shape)))
        alpha[beyond] = 0.0

    if shading > 0:
        flat += np.float32(shading) * (network - network_means[labels].astype(np.float32))
    return np.clip(flat, 0.0, 1.0), alpha

"""Flood-first finishing: the Colorize-Mask flood is the answer; the learned departures from it.

The starting answer at every pixel is what Krita's Colorize Mask gives with the same strokes: a
flood of every stroke over the line art, a transparent key along the canvas border, no gap
closing. The hybrid finishing (``regions.py``) proposes another answer: gaps closed, the
network's colours where no stroke reaches, the background kept clear. Where the two differ,
the differing paper pixels form *units* (connected, never across a line), each of one kind:

* ``clear``: the flood paints it, the proposal leaves it clear;
* ``recolour``: both paint it, in other colours (a leak through a gap, a boundary elsewhere);
* ``fill``: the flood leaves it clear, the proposal paints it (a region no stroke reaches).

A unit takes the proposal only where a logistic decision, learned from training pairs
(``export/departures.py``) on features of the unit, is confident beyond that kind's threshold
(chosen on the tuning half of the validation pairs). The weights and thresholds are plain arrays
in ``departures.json`` beside this file. Whatever the decision, the network's colours never
reach pixels that the flood leaves clear and the closed-up outlines put in the background.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from .imaging import INK_THRESHOLD, lab
from .regions import find_regions, flood_keys, hint_seeds, open_outline_radius
from .reuse import RECENT

DECISION_FILE = Path(__file__).with_name("departures.json")
KINDS = ("clear", "recolour", "fill")
FEATURES = (
    "log unit area / line width^2",  # tiny slivers along the ink vs whole areas
    "log region area / canvas",
    "unit share of its region",
    "mean depth / line width",  # distance from the ink: strips along the lines vs open areas
    "region holds a stroke",
    "region touches the border",
    "closed-up region holds a stroke",  # gaps closed: a stroke beyond the gap is no reason
    "closed-up region is background",
    "flood colour to proposal colour dE / 100",
    "flood colour to white dE / 100",
    "proposal colour to white dE / 100",
    "proposal colour is a stroke colour",
    "stroke colours in the region (log)",
    "share of the figure's paper in stroked regions",
    "log distance to the nearest stroke / line width",  # a detail far from every stroke is a guess
    # what the network paints there: which of the two answers it agrees with, and whether paper
    "network colour to flood colour dE / 100",
    "network colour to proposal colour dE / 100",
    "network colour to white dE / 100",
)


@dataclass(frozen=True)
class Decision:
    """Per kind: feature mean and scale, logistic weights and bias, and the threshold on the
    probability that the proposal is better, above which a unit departs from the flood."""
    mean: np.ndarray  # (kinds, features)
    scale: np.ndarray  # (kinds, features)
    weights: np.ndarray  # (kinds, features)
    bias: np.ndarray  # (kinds,)
    threshold: np.ndarray  # (kinds,)

    @classmethod
    def from_dict(cls, data: dict) -> Decision:
        if data.get("features") != list(FEATURES) or data.get("kinds") != list(KINDS):
            raise ValueError("departures.json was trained on other features: retrain it with "
                             "`python -m export.departures`")
        return cls(*(np.asarray(data[name], np.float32) for name in ("mean", "scale", "weights", "bias",
                                                                      "threshold")))

    def to_dict(self) -> dict:
        return {"kinds": list(KINDS), "features": list(FEATURES),
                **{name: np.asarray(getattr(self, name)).tolist()
                   for name in ("mean", "scale", "weights", "bias", "threshold")}}

    def probability(self, features: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """(n,) probability that the proposal beats the flood for units of ``kinds`` (n,)."""
        standard = (features - self.mean[kinds]) / self.scale[kinds]
        z = (standard * self.weights[kinds]).sum(axis=1) + self.bias[kinds]
        return 1.0 / (1.0 + np.exp(-z))

    def departs(self, features: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        return self.probability(features, kinds) > self.threshold[kinds]


@cache
def shipped_decision() -> Decision:
    return Decision.from_dict(json.loads(DECISION_FILE.read_text()))


def flood_answer(line8: np.ndarray, hint: np.ndarray, clear: np.ndarray | None) -> np.ndarray:
    """The Colorize-Mask flood: every stroke floods over the line art against a transparent key
    along the border (and the keep-clear strokes' key). (h, w, 4) uint8, alpha 0 or 255."""
    seeds = hint_seeds(hint[:, :, 3])
    clear_seeds = hint_seeds(clear) if clear is not None and clear.any() else None
    rgb, painted, _ = flood_keys(line8, seeds, hint[:, :, :3], True, clear=clear_seeds)
    return np.concatenate([rgb, np.where(painted, np.uint8(255), np.uint8(0))[:, :, None]], axis=2)


@dataclass
class Units:
    """Where the proposal differs from the flood, as units with a kind and features."""
    labels: np.ndarray  # (h, w) int32: 0 = no unit (the answers agree, or ink), else unit + 1
    kinds: np.ndarray  # (n,) int: index into KINDS
    features: np.ndarray  # (n, len(FEATURES)) float32
    forbidden: np.ndarray  # (n,) bool: a fill the background rule forbids


def _lab_over_white(rgba8: np.ndarray) -> np.ndarray:
    """(n, 4) uint8 RGBA over white -> (n, 3) CIE Lab float32."""
    unit = rgba8.astype(np.float32) * np.float32(1 / 255)
    return lab(unit[:, :3] * unit[:, 3:] + (1 - unit[:, 3:]))


WHITE_LAB = np.array([100.0, 0.0, 0.0], np.float32)


def find_units(line8: np.ndarray, hint: np.ndarray, flood: np.ndarray, proposal: np.ndarray,
               network: np.ndarray, radius: int, line_width: float | None) -> Units:
    """The units where ``proposal`` differs from ``flood`` (both (h, w, 4) uint8, alpha 0/255),
    with their features. ``network``: (h', w', 3) float colours in [0, 1], the network's output
    at its own size. ``radius``: the gap radius the proposal closed at."""
    height, width = line8.shape
    paper = line8 >= INK_THRESHOLD * 255
    painted_f, painted_p = flood[:, :, 3] > 0, proposal[:, :, 3] > 0
    # (alpha is 0 or 255: two pixels differ where their RGBA words do, unless both are clear)
    words_f = np.ascontiguousarray(flood).view(np.uint32)[:, :, 0]
    words_p = np.ascontiguousarray(proposal).view(np.uint32)[:, :, 0]
    differ = paper & (words_f != words_p) & (painted_f | painted_p)
    count, labels = cv2.connectedComponents(differ.view(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    n = count - 1
    if n == 0:
        return Units(labels, np.zeros(0, int), np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool))
    inside = labels > 0
    unit_of = labels[inside] - 1
    area = np.bincount(unit_of, minlength=n).astype(np.float64)

    def unit_mean(values: np.ndarray) -> np.ndarray:
        """Per unit mean of (h, w) ``values``, or of values already taken at the unit pixels."""
        taken = values[inside] if values.shape == labels.shape else values
        return np.bincount(unit_of, weights=taken.astype(np.float64), minlength=n) / area

    # a unit's kind by the majority of its pixels (within a unit the flags agree but for rare ties)
    flood_share, proposal_share = unit_mean(painted_f), unit_mean(painted_p)
    kinds = np.where(flood_share >= 0.5, np.where(proposal_share >= 0.5, 1, 0), 2)

    # the paper region (no gap closing) of each unit: any one of its pixels tells
    region_count, regions = RECENT.recall("paper regions", (line8,), (), lambda: cv2.connectedComponents(
        paper.view(np.uint8), connectivity=4, ltype=cv2.CV_32S))
    first = np.full(n, -1, np.int64)
    flat_index = np.flatnonzero(inside)
    first[unit_of[::-1]] = flat_index[::-1]
    unit_region = regions.ravel()[first]
    region_area = np.bincount(regions.ravel(), minlength=region_count).astype(np.float64)
    seeds = hint_seeds(hint[:, :, 3]) & paper
    stroked_regions = np.zeros(region_count, bool)
    stroked_regions[regions[seeds]] = True
    edge = np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]])
    border_regions = np.zeros(region_count, bool)
    border_regions[edge] = True
    colours_in = np.zeros(region_count, np.float64)
    if seeds.any():
        packed = (hint[:, :, 0][seeds].astype(np.int64) << 16 | hint[:, :, 1][seeds].astype(np.int64) << 8
                  | hint[:, :, 2][seeds])
        pairs = np.unique(regions[seeds].astype(np.int64) << 24 | packed)
        np.add.at(colours_in, pairs >> 24, 1)
    stroke_colours = np.unique(packed) if seeds.any() else np.zeros(0, np.int64)

    closed = find_regions(line8, open_outline_radius(radius, line8.shape))
    closed_stroked = np.zeros(closed.count, bool)
    closed_stroked[closed.labels[seeds]] = True
    unit_closed = closed.labels.ravel()[first]

    line_width = max(line_width or 2.0 * radius or 2.0, 1.0)
    depth = RECENT.recall("paper depth", (line8,), (),
                          lambda: cv2.distanceTransform(paper.view(np.uint8), cv2.DIST_L2, 3))
    if seeds.any():
        to_stroke = unit_mean(cv2.distanceTransform((~seeds).view(np.uint8), cv2.DIST_L2, 3))
    else:
        to_stroke = np.full(n, float(np.hypot(height, width)))

    flood_lab, proposal_lab = _lab_over_white(flood[inside]), _lab_over_white(proposal[inside])  # unit pixels
    flood_colour = np.stack([unit_mean(flood_lab[:, c]) for c in range(3)], 1)
    proposal_colour = np.stack([unit_mean(proposal_lab[:, c]) for c in range(3)], 1)
    rows, columns = np.nonzero(inside)  # the network's nearest sample to each unit pixel
    sampled = network[rows * network.shape[0] // height, columns * network.shape[1] // width]
    network_lab = lab(sampled)
    network_colour = np.stack([unit_mean(network_lab[:, c]) for c in range(3)], 1)
    first_rgb = proposal.reshape(-1, 4)[first].astype(np.int64)
    proposal_packed = first_rgb[:, 0] << 16 | first_rgb[:, 1] << 8 | first_rgb[:, 2]
    figure = ~border_regions
    figure[0] = False  # (label 0: the ink)
    stroked_share = region_area[figure & stroked_regions].sum() / max(1.0, region_area[figure].sum())

    features = np.stack([
        np.log(area / line_width ** 2),
        np.log(region_area[unit_region] / (height * width)),
        area / region_area[unit_region],
        unit_mean(depth) / line_width,
        stroked_regions[unit_region],
        border_regions[unit_region],
        closed_stroked[unit_closed],
        closed.outside[unit_closed],
        np.linalg.norm(flood_colour - proposal_colour, axis=1) / 100,
        np.linalg.norm(flood_colour - WHITE_LAB, axis=1) / 100,
        np.linalg.norm(proposal_colour - WHITE_LAB, axis=1) / 100,
        np.isin(proposal_packed, stroke_colours) & (proposal_share >= 0.5),
        np.log1p(colours_in[unit_region]),
        np.full(n, stroked_share),
        np.log1p(to_stroke / line_width),
        np.linalg.norm(network_colour - flood_colour, axis=1) / 100,
        np.linalg.norm(network_colour - proposal_colour, axis=1) / 100,
        np.linalg.norm(network_colour - WHITE_LAB, axis=1) / 100,
    ], axis=1).astype(np.float32)
    # The network's colours never reach what the flood leaves clear and the closed-up outlines
    # put in the background: the open paper outside them (not their walls, which also cover the
    # thin parts of a figure).
    background = closed.outside[closed.labels[inside]] & closed.paper[inside]  # (unit pixels only)
    forbidden = (kinds == 2) & (unit_mean(background) > 0.5)
    return Units(labels, kinds, features, forbidden)


def depart(flood: np.ndarray, proposal: np.ndarray, units: Units, decision: Decision) -> np.ndarray:
    """The flood with the units the decision takes replaced by the proposal."""
    if not len(units.kinds):
        return flood
    take = decision.departs(units.features, units.kinds) & ~units.forbidden
    chosen = np.concatenate([[0], np.where(take, 255, 0)]).astype(np.uint8)[units.labels]
    layer = flood.copy()
    cv2.copyTo(proposal, chosen, layer)
    return layer


def flood_first(line8: np.ndarray, hint: np.ndarray, clear: np.ndarray | None, proposal: np.ndarray,
                network: np.ndarray, radius: int, line_width: float | None,
                decision: Decision | None = None) -> np.ndarray:
    """The finished layer at the finishing size: the flood, departing where the decision says."""
    flood = flood_answer(line8, hint, clear)
    units = find_units(line8, hint, flood, proposal, network, radius, line_width)
    return depart(flood, proposal, units, decision or shipped_decision())

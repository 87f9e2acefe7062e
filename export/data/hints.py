"""Simulated colour hints: what a user would paint on the hint layer, made from the true colours.

All functions take the truth as float32 arrays (colour (H, W, 3) sRGB in [0, 1] composited over
white, mask (H, W) in [0, 1], line (H, W) with 1 = paper) and a ``numpy.random.Generator``, and
return (H, W, 4) float32 straight RGBA: exactly what the ONNX ``hint`` input receives.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from krita_deepcolor.engine.imaging import to_uint8
from krita_deepcolor.engine.plan import estimate_line_width

NO_HINT_SHARE = 0.15  # share of training samples with an empty hint layer
MAX_STROKES = 12
DEEPCOLOR_WHITEOUTS = 30
DEEPCOLOR_PATCH = 10  # px side of each white-out (the seed's 10x10)
DEEPCOLOR_BLUR = 100  # px box blur (the seed's "large 100px blur")
# a stroke stays on pixels whose truth is this close (max channel difference) to its colour,
# as a user keeps a quick scribble inside one colour region
SAME_COLOUR = 0.12
LINE_BREAKS = 8  # gaps cut into line art that should have none
# hintauc's hint-ratio grid (hintauc.DEFAULT_ALPHAS), repeated so that tables need no hintauc
DHT_RATIOS = (0.0, 0.01, 0.03, 0.05, 0.10, 0.25, 0.50, 1.00)
DHT_GRID = 128  # side of the square grid hintauc's scribbles are found on


def _draw_stroke(shape: tuple[int, int], start: np.ndarray, rng: np.random.Generator, length: float,
                 thickness: int) -> np.ndarray:
    """A short scribble (1-3 segments of a random walk) or, for length 0, a dot; uint8 mask."""
    canvas = np.zeros(shape, np.uint8)
    points = [start.astype(np.float64)]
    if length <= 0:
        cv2.circle(canvas, (int(start[1]), int(start[0])), max(1, thickness // 2 + 1), 1, -1, cv2.LINE_8)
        return canvas
    segments = int(rng.integers(1, 4))
    heading = rng.uniform(0, 2 * np.pi)
    for _ in range(segments):
        heading += rng.normal(0, 0.8)
        step = length / segments
        points.append(points[-1] + step * np.array([np.sin(heading), np.cos(heading)]))
    polyline = np.round(np.array(points)[:, ::-1]).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [polyline], False, 1, thickness, cv2.LINE_8)
    return canvas


def _paint(hint: np.ndarray, colour: np.ndarray, stroke: np.ndarray, where: np.ndarray,
           start: np.ndarray) -> bool:
    """Paint one stroke in one flat colour, the truth's at its start, kept to the pixels of that
    colour (and inside ``where``). Returns whether anything was painted."""
    flat = colour[int(start[0]), int(start[1])]
    left, top, width, height = cv2.boundingRect(stroke)  # work inside the stroke's box only
    if width == 0:
        return False
    box = np.s_[top:top + height, left:left + width]
    near = np.abs(colour[box] - flat)
    on = (stroke[box] > 0) & where[box] & (np.maximum(np.maximum(near[:, :, 0], near[:, :, 1]),
                                                         near[:, :, 2]) <= SAME_COLOUR)
    if not on.any():
        return False
    hint[box][on, :3] = flat
    hint[box][on, 3] = 1.0
    return True


def _scribble_size(shape: tuple[int, int], rng: np.random.Generator) -> tuple[float, int]:
    """Length and thickness like a quick scribble: 3-12 % of the image side, 2-8 px at 256 px."""
    side = min(shape)
    is_dot = rng.random() < 0.3
    length = 0.0 if is_dot else rng.uniform(0.03, 0.12) * side
    thickness = int(max(1, round(rng.uniform(2, 8) * side / 256)))
    return length, thickness


def stroke_hints(colour: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
                 max_strokes: int = MAX_STROKES, no_hint_share: float = NO_HINT_SHARE) -> np.ndarray:
    """User-like hints: 0 strokes with probability ``no_hint_share``, else 1..max_strokes short
    strokes and dots, mostly on the figure, each in the truth's colour where it lies."""
    height, width = colour.shape[:2]
    hint = np.zeros((height, width, 4), np.float32)
    if rng.random() < no_hint_share:
        return hint
    figure = np.argwhere(mask > 0.5)
    anywhere = np.ones((height, width), bool)
    for _ in range(int(rng.integers(1, max_strokes + 1))):
        # one in six strokes goes anywhere (background hints happen too)
        if len(figure) and rng.random() > 1 / 6:
            start = figure[rng.integers(len(figure))]
        else:
            start = np.array([rng.integers(height), rng.integers(width)])
        length, thickness = _scribble_size((height, width), rng)
        _paint(hint, colour, _draw_stroke((height, width), start, rng, length, thickness), anywhere, start)
    return hint


def deepcolor_hints(colour: np.ndarray, rng: np.random.Generator, whiteouts: int = DEEPCOLOR_WHITEOUTS,
                    patch: int = DEEPCOLOR_PATCH, blur: int = DEEPCOLOR_BLUR) -> np.ndarray:
    """The deepcolor seed's hint: ``whiteouts`` random patch x patch squares of the truth set to
    white, then a ``blur`` px box blur; alpha 1 everywhere."""
    height, width = colour.shape[:2]
    image = colour.astype(np.float32, copy=True)
    for _ in range(whiteouts):
        top = int(rng.integers(0, max(height - patch, 0) + 1))
        left = int(rng.integers(0, max(width - patch, 0) + 1))
        image[top:top + patch, left:left + patch] = 1.0
    image = cv2.blur(image, (blur, blur), borderType=cv2.BORDER_REFLECT)
    return np.concatenate([image, np.ones((height, width, 1), np.float32)], axis=2)


def label_regions(line: np.ndarray, min_pixels: int = 20) -> tuple[np.ndarray, list[int]]:
    """Label the regions enclosed by the lines (4-connected paper pixels): (labels, region labels
    of at least ``min_pixels``, largest first)."""
    paper = (line >= 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    areas = stats[:, cv2.CC_STAT_AREA]
    kept = [label for label in range(1, count) if areas[label] >= min_pixels]
    kept.sort(key=lambda label: -areas[label])
    return labels, kept


def _hint_targets(line: np.ndarray, mask: np.ndarray, include_outside: bool,
                  min_pixels: int = 20) -> list[np.ndarray]:
    """The areas a user would give a stroke each, largest first: the regions enclosed by the
    lines; without ``include_outside``, a region mostly outside the figure (one whose outline is
    open to the background) counts only by its figure parts, the parts a user would colour."""
    labels, candidates = label_regions(line, min_pixels)
    figure = mask >= 0.5
    targets = []
    for label in candidates:
        region = labels == label
        if include_outside or mask[region].mean() >= 0.5:
            targets.append(region)
            continue
        count, parts, stats, _ = cv2.connectedComponentsWithStats((region & figure).astype(np.uint8),
                                                                  connectivity=4)
        targets += [parts == part for part in range(1, count) if stats[part, cv2.CC_STAT_AREA] >= min_pixels]
    targets.sort(key=lambda target: -np.count_nonzero(target))
    return targets


def region_hints(colour: np.ndarray, line: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
                 regions: str | int = "all", include_outside: bool = True) -> np.ndarray:
    """Benchmark hints: one short stroke in every region enclosed by the lines ("all"), or in the
    N largest regions (an int). The stroke sits inside its region, away from the lines, in the
    truth's colour there. ``include_outside=False`` leaves the background unhinted: regions
    mostly outside the figure get strokes only in their figure parts (see ``_hint_targets``)."""
    height, width = line.shape
    hint = np.zeros((height, width, 4), np.float32)
    targets = _hint_targets(line, mask, include_outside)
    chosen = targets if regions == "all" else targets[:int(regions)]
    for region in chosen:
        # start deep inside the region so the stroke is not cut to nothing by the lines
        depth = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 3)
        # (the 3x3 L2 mask gives 0.955 next to a line, so thin regions can stay below 1)
        deep = np.argwhere(depth >= depth.max() * 0.5)
        start = deep[rng.integers(len(deep))]
        length = min(rng.uniform(0.03, 0.08) * min(height, width), 2.0 * float(depth.max()))
        thickness = int(max(1, min(round(min(height, width) / 64), depth.max())))
        stroke = _draw_stroke((height, width), start, rng, length, thickness)
        if not _paint(hint, colour, stroke, region, start):
            # a region too small or too mixed for a stroke still gets a dot of its colour
            _paint(hint, colour, _draw_stroke((height, width), start, rng, 0, 1), region, start)
    return hint


REGION_HINT_MOST = 8  # "regions" training hints: strokes in the 1..8 largest regions, or
REGION_HINT_ALL_SHARE = 0.25  # in all of them this often


def user_region_hints(colour: np.ndarray, line: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
                      no_hint_share: float = NO_HINT_SHARE) -> np.ndarray:
    """Training hints drawn like the quality benchmark's users (``region_hints``, no strokes on
    the background): none with probability ``no_hint_share``, else a stroke in every region of
    the figure or in its N largest, N uniform in 1..REGION_HINT_MOST. So the regions left
    without a stroke are the smaller ones next to stroked ones, as where a user stops."""
    if rng.random() < no_hint_share:
        return np.zeros(line.shape + (4,), np.float32)
    count = "all" if rng.random() < REGION_HINT_ALL_SHARE else int(rng.integers(1, REGION_HINT_MOST + 1))
    return region_hints(colour, line, mask, rng, regions=count, include_outside=False)


def break_lines(line8: np.ndarray, rng: np.random.Generator, breaks: int = LINE_BREAKS) -> np.ndarray:
    """The line art with ``breaks`` gaps of 1-3 line widths cut into its lines."""
    ink = np.argwhere(line8 < 128)
    if not len(ink):
        return line8
    width = estimate_line_width(line8) or 2.0
    broken = line8.copy()
    for row, column in ink[rng.choice(len(ink), size=min(breaks, len(ink)), replace=False)]:
        # a disc at least a line width plus a pixel across, so the cut goes right through the line
        diameter = max(rng.uniform(1.0, 3.0) * width, width + 2.0)
        cv2.circle(broken, (int(column), int(row)), int(round(diameter / 2)), 255, -1)
    return broken


def _fill_regions_map(colour: np.ndarray, line8: np.ndarray) -> np.ndarray:
    """A region-colour map for hintauc: the truth's flat colours (5 bits a channel) on paper,
    one colour of its own for the ink (its scribbles are dropped: no hint lies on ink)."""
    quantised = (colour[:, :, :3] >> 3).astype(np.uint8) * 8
    quantised[colour[:, :, 3] < 128] = (252, 252, 252)  # background: one region per area
    quantised[line8 < 128] = (1, 2, 3)
    return np.ascontiguousarray(quantised)


def dht_hints(colour: np.ndarray, line8: np.ndarray, ratios=DHT_RATIOS) -> dict[float, np.ndarray]:
    """hintauc's deterministic scribbles at each ratio, as RGBA uint8 hint layers.

    The scribbles are found on a DHT_GRID square grid (hintauc's own protocol uses 64, coarser
    than the small regions of a 384 px picture; the full size costs 10 s a picture) and brought
    back to the canvas, kept to paper pixels whose truth is the scribble's colour."""
    try:
        import hintauc
    except ImportError as error:  # a development dependency only
        raise SystemExit("hintauc's scribbles need hintauc: pip install --no-deps hintauc "
                         "scikit-image") from error
    alpha = colour[:, :, 3:4].astype(np.float32) / 255.0
    over_white = np.round(colour[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    generated = hintauc.generate_hints(cv2.cvtColor(over_white, cv2.COLOR_RGB2BGR), size=DHT_GRID,
                                       path_method="geodesic", region_map=_fill_regions_map(colour, line8))
    layers = {}
    for ratio in ratios:
        bgr, mask = generated.at_ratio(ratio, hint_type="scribble")
        to_canvas = dict(dsize=line8.shape[::-1], interpolation=cv2.INTER_NEAREST)
        rgb = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), **to_canvas)
        mask = cv2.resize(mask, **to_canvas)
        near = np.abs(rgb.astype(np.int16) - over_white).max(axis=2) <= SAME_COLOUR * 255
        on = (mask > 0) & (line8 >= 128) & near
        hint = np.zeros(line8.shape + (4,), np.uint8)
        hint[on, :3] = rgb[on]
        hint[on, 3] = 255
        layers[ratio] = hint
    return layers


def benchmark_hints(sample_id: str, colour: np.ndarray, line8: np.ndarray, curve: bool = True):
    """The quality benchmark's regimes for one picture (colour (H, W, 4) uint8, line8 (H, W)
    uint8): (regime name, line art given to the methods, hint layer RGBA uint8). ``dense``,
    ``sparse``, ``none``, the same strokes on lines with breaks (``gaps-*``) and, with ``curve``,
    hintauc's scribbles at each ratio (``dht-R``). Strokes and breaks are drawn from the
    picture's id: the same in every run, whatever else is scored."""
    seed = int.from_bytes(hashlib.sha256(sample_id.encode()).digest()[:4], "little")
    alpha = colour[:, :, 3:4].astype(np.float32) / 255.0
    truth_unit = colour[:, :, :3].astype(np.float32) / 255.0 * alpha + (1.0 - alpha)
    line_unit = line8.astype(np.float32) / 255.0
    broken = break_lines(line8, np.random.default_rng([seed, 1]))
    for regime, regions in (("dense", "all"), ("sparse", 3), ("none", 0)):
        rng = np.random.default_rng([seed, len(regime)])
        hint8 = np.zeros(colour.shape, np.uint8)
        if regions:
            hint8 = to_uint8(region_hints(truth_unit, line_unit, alpha[:, :, 0], rng, regions=regions,
                                          include_outside=False))
        yield regime, line8, hint8
        if regions:
            yield f"gaps-{regime}", broken, hint8
    if curve:
        for ratio, hint8 in dht_hints(colour, line8, DHT_RATIOS).items():
            yield f"dht-{ratio:.2f}", line8, hint8

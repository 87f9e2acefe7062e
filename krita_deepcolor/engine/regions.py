"""Hybrid finishing: let the deterministic flood carry the hints, the network the rest.

Regions are the areas the line art encloses, with small gaps in the outlines closed. Then:
* a region with hints takes the hint colour (several hint colours flood it along the lines
  inside it, as in Krita's Colorize Mask);
* regions touching the canvas border hold the background and any figure whose outline does
  not close; closing much larger gaps tells them apart. The background is transparent unless
  hinted; the inside of such a figure is coloured like any region (by the hint in its
  closed-up area, or the network). A hint in the background paints it: in the empty
  surround of a figure (the region that owns nearly all of the canvas border, or any border
  region the network paints as paper) a watershed flood from the strokes competes with a
  transparent key along the border (filling it all would be wrong whenever a figure touches
  the canvas edge or leaks through a wide gap). Any other border region is art running into
  the border (hair cut by the canvas edge, a horizon): its strokes flood all of it, unless the
  network sees much paper there (a figure whose broken outline lets the background in: its
  strokes flood against the border key);
* an enclosed region no hint reaches takes what a plain flood from the strokes with a border
  key (Krita's Colorize Mask; the overflowing ends of strokes left out) spills into it: in
  flat-coloured art a neighbour's colour, or the colour passing through a narrow passage the
  gap closing cut, is the better prior. Where that
  flood's border key reaches it instead, it takes the network's colour, flat per region, or
  the user's hint colour where the network's lies close to it;
* with no hint at all, the network also decides which border regions (other than the surround)
  are figure: those it paints other than (nearly) white take its colour, such as a figure cut
  by the canvas edge;
* optional shading adds the network's light and dark relative to its own region average;
* keep-clear strokes (Colorize Mask's transparent key) take part in every flood as a key that
  paints nothing: a region holding only them stays transparent, one holding them and a hint
  colour is split along the lines inside it, and what their flood reaches stays clear.
Hint colours are exact (``flats.py`` maps every hint pixel to a colour the user painted): a
region takes the colour painted most in it, never a mean of several.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .flats import PAINTED_ALPHA, pack, unpack
from .imaging import INK_THRESHOLD, lab, shrink_lines, to_uint8
from .reuse import RECENT

# A hint pixel seeds the flood where it is at least half as opaque as the most opaque pixel of
# its stroke: the antialiased fringe of a stroke (whose colour 8-bit premultiplied resampling
# blurs) does not seed, and a faint stroke (a soft brush, a low-opacity brush) still does.
# Strokes overflow their region: a region takes a stroke's colour only if it holds this share
# of the stroke, or the stroke covers this share of the region (small regions, e.g. petals).
# Outside the figure a stroke must lie mostly there: the user meant to paint the background.
STROKE_SHARE, OUTSIDE_STROKE_SHARE, REGION_SHARE = 0.25, 0.5, 0.2
SURROUND_BORDER_SHARE = 0.9  # a region owning this share of the canvas border surrounds a figure
# A closed-up area of a border region counts as the inside of a figure only if it is this many
# closing radii deep (3: chosen on 40 validation pairs; 1.5 and 2 coloured background strips).
FIGURE_DEPTH = 3
# An unhinted region whose network colour lies this close (CIE76) to a hint colour takes the
# hint colour (30: on 40 validation pairs, 20 helped less, 40 started to hurt).
SNAP_DELTA_E = 30.0
# A border region whose network colour lies this close (CIE76) to white is paper: with no hints
# it stays clear (5: on 40 validation pairs 0-5 scored alike, 10 left fewer figures coloured);
# a hint in it floods it against a border key, as in the surround (5: 15 measured worse).
PAPER_DELTA_E = 5.0
# A hinted border region other than the background is art running into the border (hair cut
# by the canvas edge, a horizon) and its strokes flood all of it, unless the network paints at
# least this share of it as paper: then it is a figure whose broken outline lets the background
# in. (0.2: chosen on the tuning half, 0.1-0.5 all measured; flooding all of it always, or
# never, each lost 1-4 dB on one kind of picture.)
FULL_BLEED_PAPER_SHARE = 0.2
MIXED_HINTS_VARIANCE = 0.004  # per-channel colour variance above which a region holds several hints


@dataclass(frozen=True)
class Regions:
    labels: np.ndarray  # (h, w) int32: every pixel, ink included, belongs to one region
    count: int
    outside: np.ndarray  # (count,) bool: region touches the canvas border
    border_share: np.ndarray  # (count,) float: share of the canvas border pixels in each region
    paper: np.ndarray  # (h, w) bool: pixels away from the ink, whose colour speaks for the region
    radius: int  # gaps up to about twice this were closed
    found: Regions | None = None  # the same regions at the smaller size they were found at

    @property
    def as_found(self) -> Regions:
        """These regions at the size they were found at (work there is cheaper)."""
        return self.found or self

    @property
    def surround(self) -> np.ndarray:
        """(count,) bool: the region owning nearly all of the canvas border, around a figure."""
        return self.border_share >= SURROUND_BORDER_SHARE


def gap_radius(line_width: float | None) -> int:
    """Gaps up to about one line width get closed: bigger ones are meant to be open."""
    return int(np.clip(round((line_width or 2.0) / 2), 1, 8))


def open_outline_radius(radius: int, shape: tuple[int, int]) -> int:
    """Gap radius that closes the outline of a figure drawn with gaps (only to tell such a
    figure from the background, never to split regions): four line widths, at least 3 % of
    the canvas, at most 6 %."""
    side = min(shape)
    return int(np.clip(max(4 * radius, 0.03 * side), 2, max(2, 0.06 * side)))


# Gaps of radius 2 * COARSE_RADIUS and more are closed at 1 / (radius // COARSE_RADIUS) size:
# walls that thick leave nothing fine to resolve, and labelling 2048^2 takes 0.1 s. (8 instead
# of 16 shrank radii of 16-31 px too: the thickened ink closed more, and one of 100 validation
# pairs lost 8.5 dB.)
COARSE_RADIUS = 16


def find_regions(line8: np.ndarray, radius: int) -> Regions:
    """Split the canvas into regions enclosed by the ink of ``line8`` (uint8, 255 = paper).
    Kept for the next run on the same line art (``reuse.py``)."""
    return RECENT.recall("regions", (line8,), (radius,), lambda: _find_regions(line8, radius))


def _find_regions(line8: np.ndarray, radius: int) -> Regions:
    factor = radius // COARSE_RADIUS
    if factor >= 2:
        height, width = line8.shape
        small = find_regions(shrink_lines(line8, -(-height // factor), -(-width // factor)),
                             round(radius / factor))
        return Regions(labels=_on_grid(small.labels, line8.shape), count=small.count,
                       outside=small.outside, border_share=small.border_share,
                       paper=_on_grid(small.paper, line8.shape), radius=radius, found=small)
    ink = np.where(line8 < INK_THRESHOLD * 255, np.uint8(255), np.uint8(0))
    # Walls: the ink grown by ``radius``. Dilating costs radius^2 per pixel: for the wide closing
    # of open outlines a distance threshold is far cheaper.
    if radius <= 8:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        walls = cv2.dilate(ink, disc)
    else:
        walls = np.where(cv2.distanceTransform(~ink, cv2.DIST_L2, 5) <= radius, np.uint8(255), np.uint8(0))
    if not walls.any() or walls.all():
        labels = np.zeros(line8.shape, np.int32)
    else:
        # Each connected area of paper becomes a region; wall pixels join the nearest one.
        _, labels = cv2.distanceTransformWithLabels(walls, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_CCOMP)
        labels -= 1  # (int32 already)
    count = int(labels.max()) + 1
    edges = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    border_share = np.bincount(edges, minlength=count) / edges.size
    outside = border_share > 0
    return Regions(labels=labels, count=count, outside=outside, border_share=border_share,
                   paper=walls == 0, radius=radius)


def _region_means(labels: np.ndarray, count: int, values: np.ndarray, where: np.ndarray | None = None):
    """Per-region pixel count and mean of each channel of ``values`` (h, w, c), over ``where``."""
    if where is not None and np.count_nonzero(where) < where.size // 2:
        index, data = labels[where], values[where]  # few pixels (hints): copy just those
    else:
        # most pixels (paper): an extra label collects the rest, cheaper than copying them out
        index = labels if where is None else np.where(where, labels, np.int32(count))
        index, data = index.ravel(), values.reshape(-1, values.shape[-1])
    index = index.astype(np.intp, copy=False)  # once: bincount would convert it on every call
    counts = np.bincount(index, minlength=count + 1)[:count].astype(np.float64)
    channels = np.ascontiguousarray(data.T)  # one contiguous row per channel: bincount reads it fast
    sums = np.stack([np.bincount(index, channel, minlength=count + 1)[:count] for channel in channels], 1)
    return counts, sums / np.maximum(counts, 1)[:, None]


def _on_grid(plane: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Labels or a mask, each pixel of a (h, w) ``shape`` grid taking its nearest source pixel."""
    if plane.shape[:2] == shape[:2]:
        return plane
    source = plane.view(np.uint8) if plane.dtype == bool else plane
    sampled = cv2.resize(source, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return sampled.view(bool) if plane.dtype == bool else sampled


def _sample_grid(labels_shape: tuple[int, int], network_shape: tuple[int, ...]) -> tuple[int, int]:
    """The grid network means are taken on: the region grid, thinned to about a million samples,
    or the network's own grid where that is at least half as fine (it needs no resampling)."""
    scale = min(1.0, np.sqrt(1_000_000 / (labels_shape[0] * labels_shape[1])))
    thinned = (max(1, round(labels_shape[0] * scale)), max(1, round(labels_shape[1] * scale)))
    if 2 * network_shape[0] * network_shape[1] >= thinned[0] * thinned[1]:
        return network_shape[:2]
    return thinned


def _network_means(regions: Regions, network: np.ndarray, within: np.ndarray | None = None) -> np.ndarray:
    """Mean network colour of each region over its paper pixels (those ``within``, if given),
    sampled on ``_sample_grid``. A region with no such sample there (small, or all wall) reads
    the network at each of its own pixels (``within``) instead."""
    grid = _sample_grid(regions.labels.shape, network.shape)
    colours = network
    if network.shape[:2] != grid:  # a network much coarser than the regions: interpolate it
        colours = cv2.resize(network, grid[::-1], interpolation=cv2.INTER_LINEAR)
    labels, paper = _on_grid(regions.labels, grid), _on_grid(regions.paper, grid)
    if within is not None:
        paper = paper & _on_grid(within, grid)
    counts, means = _region_means(labels, regions.count, colours, paper)
    missing = counts == 0
    if missing.any():
        ys, xs = np.nonzero(missing[regions.labels] if within is None else missing[regions.labels] & within)
        (height, width), (rows, columns) = regions.labels.shape, network.shape[:2]
        colours = network[(2 * ys + 1) * rows // (2 * height), (2 * xs + 1) * columns // (2 * width)]
        own_counts, own_means = _region_means(regions.labels[ys, xs], regions.count, colours)
        means[own_counts > 0] = own_means[own_counts > 0]
    return means.astype(np.float32)


def region_areas(labels: np.ndarray, count: int) -> np.ndarray:
    """(count,) pixels in each region. Counted a block of rows at a time: bincount copies its
    input to 64 bits, and a canvas-sized copy into fresh memory costs more than the counting."""
    areas = np.zeros(count, np.int64)
    for top in range(0, labels.shape[0], 256):
        areas += np.bincount(labels[top:top + 256].ravel(), minlength=count)
    return areas


def hint_seeds(alpha8: np.ndarray) -> np.ndarray:
    """(h, w) bool: the hint pixels that seed the flood, from the hint layer's uint8 alpha."""
    painted = alpha8 >= PAINTED_ALPHA
    if not painted.any():
        return painted
    strokes, stroke_ids = cv2.connectedComponents(painted.view(np.uint8), connectivity=8)
    peak = np.zeros(strokes, np.uint8)
    np.maximum.at(peak, stroke_ids[painted], alpha8[painted])
    seeds = np.zeros_like(painted)
    seeds[painted] = 2 * alpha8[painted].astype(np.int32) >= peak[stroke_ids[painted]]
    return seeds


def accepted_hints(hinted: np.ndarray, regions: Regions) -> np.ndarray:
    """Hint pixels that count for the region they lie in (see STROKE_SHARE, REGION_SHARE)."""
    labels, count = regions.labels, regions.count
    if not hinted.any():
        return hinted
    strokes, stroke_ids = cv2.connectedComponents(hinted.astype(np.uint8), connectivity=8)
    pair = stroke_ids[hinted].astype(np.int64) * count + labels[hinted]
    in_pair = np.bincount(pair, minlength=strokes * count).reshape(strokes, count)
    stroke_size = in_pair.sum(axis=1, keepdims=True)
    region_size = region_areas(labels, count)[None, :]
    share = np.where(regions.outside, OUTSIDE_STROKE_SHARE, STROKE_SHARE)[None, :]
    keep = (in_pair >= share * stroke_size) | (in_pair >= REGION_SHARE * region_size)
    accepted = np.zeros_like(hinted)
    accepted[hinted] = keep.ravel()[pair]
    return accepted


def _unit(colours8: np.ndarray) -> np.ndarray:
    return colours8.astype(np.float32) * np.float32(1.0 / 255.0)


def _rgba_rows(colours: np.ndarray, opaque) -> np.ndarray:
    """(n, 3) float colours and (n,) bool (or one bool) -> (n, 4) uint8 RGBA, alpha 0 or 255."""
    alpha = np.broadcast_to(np.where(opaque, np.uint8(255), np.uint8(0)), (len(colours),))
    return np.concatenate([to_uint8(colours), alpha[:, None]], axis=1)


# Floods run at most this large: cv2.watershed takes 0.24 s at 2048², and the boundaries between
# flooded colours lie under the lines at any size.
FLOOD_MAX_SIDE = 1024


def watershed_flood(line8: np.ndarray, seeds: np.ndarray, hint_rgb: np.ndarray, border_key: bool,
                    within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Flood from hint strokes over the line art, as Krita's Colorize Mask does.

    Each hint colour (``hint_rgb``, uint8, at the ``seeds``) floods from where it is painted; with
    ``border_key`` a transparent key along the canvas border competes. ``within`` confines the
    flood to those pixels (everything else is a wall).
    Returns (rgb (h, w, 3) uint8, painted (h, w)).
    """
    rgb, painted, _ = flood_keys(line8, seeds, hint_rgb, border_key, within)
    return rgb, painted


def flood_keys(line8: np.ndarray, seeds: np.ndarray, hint_rgb: np.ndarray, border_key: bool,
               within: np.ndarray | None = None, clear: np.ndarray | None = None):
    """``watershed_flood`` with a keep-clear key: ``clear`` (h, w) bool seeds a key that paints
    nothing, like Colorize Mask's transparent key. Returns (rgb, painted, cleared)."""
    rgb, painted = np.zeros(seeds.shape + (3,), np.uint8), np.zeros(seeds.shape, bool)
    cleared = np.zeros(seeds.shape, bool)
    box = np.s_[:, :]
    relief = line8
    if within is not None:
        left, top, width, height = cv2.boundingRect(within.view(np.uint8))
        if not width:
            return rgb, painted, cleared
        box = np.s_[top:top + height, left:left + width]
        relief = np.where(within[box], line8[box], np.uint8(0))
        seeds = seeds[box] & within[box]
        clear = clear[box] & within[box] if clear is not None else None
    elif clear is not None:
        clear = clear.copy()
    if clear is not None:
        seeds = seeds & ~clear  # where both were painted, keeping clear wins
    # one key per colour, not per stroke: strokes of two colours may touch, and each keeps its own
    seed_rgb = hint_rgb[box][seeds].astype(np.int32)
    keys, key_ids = np.unique((seed_rgb[:, 0] << 16) | (seed_rgb[:, 1] << 8) | seed_rgb[:, 2],
                              return_inverse=True)
    has_clear = clear is not None and clear.any()
    if not keys.size and not border_key and not has_clear:
        return rgb, painted, cleared
    clear_key = len(keys) + 1  # the keep-clear key's marker
    border = len(keys) + 2  # the border key's marker
    colours = np.zeros((border + 1, 3), np.uint8)
    colours[1:clear_key] = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1)
    markers = np.zeros(seeds.shape, np.int32)
    markers[seeds] = key_ids.ravel() + 1
    if has_clear:
        markers[clear] = clear_key
    full_shape = markers.shape
    factor = -(-max(relief.shape) // FLOOD_MAX_SIDE)
    if factor > 1:
        small = (-(-relief.shape[0] // factor), -(-relief.shape[1] // factor))
        relief = shrink_lines(relief, *small)
        # grown by the factor first, so that every key keeps a pixel at the smaller size
        grown = cv2.dilate(markers.astype(np.float32), np.ones((factor, factor), np.uint8))
        markers = cv2.resize(grown, small[::-1], interpolation=cv2.INTER_NEAREST).astype(np.int32)
    if border_key and min(markers.shape) >= 3:
        # one pixel in, as it has always been measured
        frame = np.zeros(markers.shape, bool)
        frame[1, 1:-1] = frame[-2, 1:-1] = frame[1:-1, 1] = frame[1:-1, -2] = True
        markers[frame & (markers == 0)] = border
    if markers.max() == 0:
        return rgb, painted, cleared
    # cv2.watershed claims the outermost frame for its own boundary marks: pad by a pixel so
    # that a canvas only a few pixels thin keeps its pixels
    padded = np.pad(markers, 1)
    cv2.watershed(cv2.cvtColor(np.pad(relief, 1, mode="edge"), cv2.COLOR_GRAY2BGR), padded)
    markers = padded[1:-1, 1:-1]
    lines = markers == -1  # watershed lines lie on the ink: give them a neighbour's label
    markers[lines] = cv2.dilate(np.where(lines, 0, markers).astype(np.float32), np.ones((3, 3)))[lines]
    # Looked up at the flood's size, then enlarged: the same pixels as enlarging the labels first
    # (nearest neighbours), at a quarter of the work for a shrunk flood.
    markers = np.clip(markers, 0, border)
    flooded = _on_grid((markers > 0) & (markers < clear_key), full_shape)
    kept_clear = _on_grid(markers == clear_key, full_shape)
    if within is not None:
        flooded &= within[box]
        kept_clear &= within[box]
    rgb[box], painted[box], cleared[box] = _on_grid(colours[markers], full_shape), flooded, kept_clear
    return rgb, painted, cleared


def _flood_regions(line8: np.ndarray, labels: np.ndarray, chosen: np.ndarray, seeds: np.ndarray,
                   hint_rgb: np.ndarray, layer: np.ndarray, where: np.ndarray | None = None,
                   painted: np.ndarray | None = None, clear: np.ndarray | None = None) -> None:
    """Flood each ``chosen`` region of ``labels`` ((count,) bool) from its ``seeds``, over the line
    art, in ``layer``'s colour; only its pixels also in ``where``. Marks them in ``painted``.
    What the keep-clear key (``clear`` seeds) reaches becomes transparent (and counts as painted)."""
    within = chosen[labels] if where is None else chosen[labels] & where
    rgb, flooded, cleared = flood_keys(line8, seeds, hint_rgb, False, within, clear)
    layer[:, :, :3][flooded] = rgb[flooded]
    layer[:, :, 3][cleared] = 0
    if painted is not None:
        painted |= flooded | cleared


def snap_to_palette(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Each colour (n, 3) within SNAP_DELTA_E (CIE76) of a palette colour becomes that colour."""
    if not len(palette) or not len(colours):
        return colours
    distance = np.linalg.norm(lab(colours)[:, None] - lab(palette)[None], axis=2)
    nearest = distance.argmin(axis=1)
    close = distance[np.arange(len(colours)), nearest] <= SNAP_DELTA_E
    return np.where(close[:, None], palette[nearest], colours).astype(np.float32)


def _colour_open_figures(closed: Regions, area: np.ndarray, network: np.ndarray, layer,
                         swatches: np.ndarray | None = None) -> np.ndarray:
    """The parts of border regions (``area``) that lie inside a figure whose outline does not
    close take the network's colour, flat per closed-up region. Returns those pixels."""
    found = closed.as_found  # (depths are measured at the size the regions were found at)
    found_pockets = _on_grid(area, found.labels.shape) & ~found.outside[found.labels]
    if not found_pockets.any():
        return np.zeros(area.shape, bool)
    # Closing wide gaps also walls in background between nearby parts of a figure (between two
    # letters, a wing and a body): such strips are narrow; the inside of a figure is wide.
    depth = cv2.distanceTransform(found_pockets.astype(np.uint8), cv2.DIST_L2, 3)
    deepest = np.zeros(closed.count, np.float32)
    np.maximum.at(deepest, found.labels[found_pockets], depth[found_pockets])
    figure = deepest >= FIGURE_DEPTH * found.radius
    found_pockets &= figure[found.labels]
    pockets = area & figure[closed.labels]
    colours = _rgba_rows(_on_swatches(_network_means(found, network, within=found_pockets), swatches), True)
    layer[pockets] = colours[closed.labels[pockets]]
    return pockets


def _holding(regions: Regions, seeds: np.ndarray) -> np.ndarray:
    """(count,) bool: the regions that hold any of ``seeds``."""
    holding = np.zeros(regions.count, bool)
    holding[regions.labels[seeds]] = True
    return holding


def _colour_outside(line8, regions: Regions, closed: Regions, pockets, seeds, hint_rgb, area,
                    layer, background, network, clear=None) -> None:
    """Hinted regions touching the border (``area``). In the background (``background``,
    (count,) bool) strokes inside a figure's closed-up area flood that area, other strokes
    flood against a border key. Any other border region is art running into the border: its
    strokes flood all of it, unless the network sees much paper there (then it is a figure
    open onto the background through gaps, and its strokes flood against a border key). What
    no hint claims stays clear, except ``pockets`` (figure insides, the network's colour).
    ``clear`` (those of ``seeds`` that are the keep-clear key) floods as a key painting nothing."""
    in_figure = ~closed.outside[closed.labels]
    keyed = background[regions.labels]
    # A stroke mostly inside a figure's closed-up area is meant for that figure: the part of it
    # past the closing does not ask for the background to be painted.
    strokes, stroke_ids = cv2.connectedComponents(seeds.astype(np.uint8), connectivity=8)
    seed_strokes = stroke_ids[seeds]
    inside = np.bincount(seed_strokes, weights=in_figure[seeds], minlength=strokes)
    for_figure = inside >= 0.5 * np.bincount(seed_strokes, minlength=strokes)
    figure_seeds = seeds & keyed & in_figure
    key_seeds = seeds & keyed & ~in_figure & ~for_figure[stroke_ids]
    bleed = _holding(regions, seeds & ~keyed)
    if bleed.any():
        open_figure = bleed & (_paper_share(regions, network) >= FULL_BLEED_PAPER_SHARE)
        key_seeds |= seeds & open_figure[regions.labels]
        bleed &= ~open_figure
    def clear_among(chosen):
        return None if clear is None else clear & chosen

    painted = np.zeros(area.shape, bool)
    if figure_seeds.any():
        _flood_regions(line8, closed.labels, _holding(closed, figure_seeds), figure_seeds, hint_rgb,
                       layer, area, painted, clear_among(figure_seeds))
    if key_seeds.any():
        rgb, flooded, cleared = flood_keys(line8, key_seeds, hint_rgb, True, clear=clear_among(key_seeds))
        target = area & ~painted & ~bleed[regions.labels]
        layer[:, :, 3][target & cleared] = 0
        painted |= target & cleared
        target &= flooded
        layer[:, :, :3][target], painted[target] = rgb[target], True
    if bleed.any():
        _flood_regions(line8, regions.labels, bleed, seeds, hint_rgb, layer, area & ~painted, painted,
                       clear_among(seeds))
    layer[:, :, 3][area & ~painted & ~pockets] = 0


def _is_paper(rgb: np.ndarray) -> np.ndarray:
    """(...) bool: colours (..., 3) in [0, 1] within PAPER_DELTA_E (CIE76) of white."""
    distance = np.linalg.norm(lab(rgb.reshape(-1, 3)) - lab(np.ones((1, 3), np.float32)), axis=1)
    return (distance < PAPER_DELTA_E).reshape(rgb.shape[:-1])


def _paper_share(regions: Regions, network: np.ndarray) -> np.ndarray:
    """(count,) float: the share of each region's paper where the network paints paper."""
    paper = _is_paper(network).astype(np.float32)
    # (three equal channels: the network-mean sampler reads colour images)
    return _network_means(regions, np.repeat(paper[:, :, None], 3, axis=2))[:, 0]


def _dominant_colours(labels: np.ndarray, count: int, rgb: np.ndarray) -> np.ndarray:
    """(count, 3) float: each region's most common colour among pixels ``labels`` (n,) with
    colours ``rgb`` (n, 3) uint8; a mean would be a colour nobody painted."""
    dominant = np.zeros((count, 3), np.float32)
    if not len(labels):
        return dominant
    pairs, counts = np.unique(labels.astype(np.int64) << 24 | pack(rgb), return_counts=True)
    order = np.lexsort((counts, pairs >> 24))
    region = pairs[order] >> 24
    last = np.r_[region[1:] != region[:-1], True]  # each region's most common pair sorts last
    dominant[region[last]] = _unit(unpack(pairs[order][last] & 0xFFFFFF))
    return dominant


def _on_swatches(colours: np.ndarray, swatches: np.ndarray | None) -> np.ndarray:
    """(n, 3) float colours, each within SNAP_DELTA_E of one of ``swatches`` ((k, 3) uint8, a
    palette) becoming that one. (A guess far from every entry stays: forcing it onto the
    nearest would give a pale region a loud colour nobody asked for.)"""
    if swatches is None:
        return colours
    return snap_to_palette(colours, _unit(swatches))


def hybrid_colors(line8: np.ndarray, hint: np.ndarray, network: np.ndarray, line_width: float | None,
                  shading: float = 0.0, *, radius: int | None = None, clear: np.ndarray | None = None,
                  swatches: np.ndarray | None = None) -> np.ndarray:
    """Flats from hints and network, all at one size.

    line8: (h, w) uint8 levels; hint: (h, w, 4) uint8 straight RGBA; network: (h', w', 3) float,
    the network's output at its own working size. ``radius``: close gaps up to twice this
    (default: from ``line_width``). ``clear``: (h, w) uint8 alpha of keep-clear strokes, a key
    that paints nothing. ``swatches``: (k, 3) uint8 palette every flat colour snaps to (the
    hint colours are expected on it already).
    Returns the colour layer: (h, w, 4) uint8 straight RGBA, alpha 0 or 255.
    """
    regions = find_regions(line8, gap_radius(line_width) if radius is None else radius)
    labels, count = regions.labels, regions.count
    colour_seeds = hint_seeds(hint[:, :, 3])
    clear_seeds = None
    if clear is not None and clear.any():
        clear_seeds = hint_seeds(clear)
        colour_seeds &= ~clear_seeds  # where both were painted, keeping clear wins
        keys = accepted_hints(colour_seeds | clear_seeds, regions)
        hinted, kept_clear = keys & ~clear_seeds, keys & clear_seeds
    else:
        keys = hinted = accepted_hints(colour_seeds, regions)
        kept_clear = np.zeros_like(hinted)
    hint_rgb = hint[:, :, :3]  # only ever indexed at hint pixels: no copy

    hint_pixels = _unit(hint_rgb[hinted])  # mean and variance of the hint colours in each region
    hint_counts, hint_moments = _region_means(labels[hinted], count,
                                              np.hstack([hint_pixels, hint_pixels ** 2]))
    hint_means = hint_moments[:, :3]
    mixed = (hint_moments[:, 3:] - hint_means ** 2).max(axis=1) > MIXED_HINTS_VARIANCE
    has_hint = hint_counts > 0
    has_clear = _holding(regions, kept_clear)
    hint_colours = _dominant_colours(labels[hinted], count, hint_rgb[hinted])
    network_means = _network_means(regions, network)

    # The user's colours are exact, the network's approximate: where the network's colour for
    # an enclosed region is near one the user used, the region takes the user's. (Not for the
    # open figures' insides: their means blend more, and snapping them measured worse.)
    palette = hint_colours[has_hint & ~mixed]
    unhinted_colours = _on_swatches(snap_to_palette(network_means, palette), swatches)
    region_colours = np.where(has_hint[:, None], hint_colours, unhinted_colours)
    # Border regions stay clear (they are, or may be, the background) unless hinted. Without a
    # single hint, the user has not said what to paint: border regions the network paints in
    # colour are taken as figure, except the surround of the figure (the network's haze there
    # is no reason to cover the paper; with hints, its colours spill around the strokes).
    paper_like = _is_paper(network_means)
    if has_hint.any():
        transparent = regions.outside & ~has_hint
    else:
        transparent = regions.outside & (paper_like | regions.surround)
    transparent |= has_clear & ~has_hint  # a region only the keep-clear key reaches
    # One table lookup builds the whole layer (uint8: a quarter of the memory traffic of floats).
    layer = np.take(_rgba_rows(region_colours, ~transparent), labels, axis=0)
    flat = layer[:, :, :3]

    # Where a region inside the figure holds several hints (or a hint and the keep-clear key),
    # they flood it over the line art: lines inside the region (open outlines, details) guide
    # where one colour ends.
    mixed_inside = has_hint & (mixed | has_clear) & ~regions.outside
    if mixed_inside.any():
        _flood_regions(line8, labels, mixed_inside, keys, hint_rgb, layer, clear=kept_clear)

    # Shading is the network's light and dark about the network colour each pixel's flat had.
    reference = np.take(network_means, labels, axis=0) if shading > 0 else None

    # Enclosed regions no hint reaches take the plain flood's spill, where it paints them; only
    # strokes on the figure spill (a stroke painting the background says nothing of the figure).
    unhinted_inside = ~has_hint & ~has_clear & ~regions.outside
    on_figure = ~(regions.surround | paper_like)[labels]
    figure_hints = hinted & on_figure
    if unhinted_inside.any() and figure_hints.any():
        spill, spilled, spill_cleared = flood_keys(line8, figure_hints, hint_rgb, True,
                                                   clear=kept_clear & on_figure)
        spilled &= unhinted_inside[labels]
        flat[spilled] = spill[spilled]
        layer[:, :, 3][spill_cleared & unhinted_inside[labels]] = 0
        if reference is not None:
            reference[spilled] = _unit(flat[spilled])
    if regions.outside.any():
        # Border regions hold the background, and any figure whose outline has gaps: closing
        # much larger gaps tells them apart. Hints there override the network's colour.
        closed = find_regions(line8, open_outline_radius(regions.radius, line8.shape))
        pockets = _colour_open_figures(closed, regions.outside[labels], network, layer, swatches)
        if reference is not None:
            reference[pockets] = _unit(flat[pockets])
        outside_hinted = ((has_hint | has_clear) & regions.outside)[labels]
        if outside_hinted.any():
            _colour_outside(line8, regions, closed, pockets, keys & outside_hinted, hint_rgb,
                            outside_hinted, layer, regions.surround | paper_like, network,
                            kept_clear & outside_hinted)

    if reference is not None:  # (means of colours in [0, 1] need no clipping; shading does)
        if network.shape[:2] != labels.shape:
            network = cv2.resize(network, labels.shape[::-1], interpolation=cv2.INTER_LINEAR)
        flat[:] = to_uint8(np.clip(_unit(flat) + np.float32(shading) * (network - reference), 0.0, 1.0))
    return layer

"""Exact flat colours: the colours the user painted, an optional palette, and one layer per colour.

A flatter selects regions by colour later, so every pixel of a flats output must be exactly
one colour the user chose: never a blend that antialiased stroke edges, two touching strokes
or resampling make. The colours a user painted are those that fill a small block of a stroke
somewhere (blends between strokes are thin bands); every hint pixel is then mapped to the
nearest of them, and optionally each of them to the nearest entry of a palette.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import cv2
import numpy as np

from .errors import InputError
from .imaging import lab

# A colour counts as painted where it fills a CORE x CORE block of hint pixels at least this
# opaque (of 255): the blended band where two strokes meet is thinner than that.
CORE = 3
PAINTED_ALPHA = 16  # hint pixels fainter than this (of 255) are eraser leftovers, never hints
MAX_SPLIT_COLOURS = 256  # one layer each: more is no longer a set of flats a user can work with


def faint_strokes(alpha8: np.ndarray) -> int:
    """How many hint strokes (8-connected) are fainter than PAINTED_ALPHA everywhere: they count
    for nothing, and the user should hear so."""
    faint = cv2.inRange(alpha8, 1, PAINTED_ALPHA - 1)
    if not cv2.countNonZero(faint):
        return 0
    count, labels = cv2.connectedComponents(cv2.compare(alpha8, 0, cv2.CMP_GT), connectivity=8)
    strong = labels[alpha8 >= PAINTED_ALPHA]
    return count - 1 - len(np.unique(strong))


def faint_note(count: int) -> str:
    """What to tell the user about ``count`` strokes too faint to count; empty when none."""
    if not count:
        return ""
    strokes = "1 hint stroke was" if count == 1 else f"{count} hint strokes were"
    return f"{strokes} too faint to count (under {PAINTED_ALPHA} of 255 opacity): paint them more opaque."


def pack(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours -> (...,) int64 keys 0xRRGGBB."""
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def unpack(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys, np.int64)
    return np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=-1).astype(np.uint8)


def hex_name(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(value) for value in rgb))


def nearest(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(n,) index of the palette colour (k, 3) nearest (CIE76) to each of ``colours`` (n, 3) uint8."""
    if not len(colours):
        return np.zeros(0, np.intp)
    def lab8(rgb8):
        return lab(np.asarray(rgb8, np.float32) * np.float32(1.0 / 255.0))
    distance = np.linalg.norm(lab8(colours)[:, None] - lab8(palette)[None], axis=2)
    return distance.argmin(axis=1)


def painted_colours(hint8: np.ndarray) -> np.ndarray:
    """(k, 3) uint8: the colours painted on a straight uint8 RGBA hint layer, sorted.

    A colour counts where it fills a CORE x CORE block of the strokes; a stroke too thin to
    hold such a block anywhere contributes its most common colour.
    """
    hint8 = np.ascontiguousarray(hint8)
    height, width = hint8.shape[:2]
    painted = _painted(hint8)
    if height < CORE or width < CORE or not painted.any():
        return _colours(_thin_stroke_colours(painted, np.zeros_like(painted), hint8.view(np.uint32)[:, :, 0]))
    # Strokes cover a few per cent of a page: the blocks are checked around painted pixels only,
    # one 32-bit word (R, G, B, A) a pixel, the image's edge never counting as a block's middle.
    inner = painted.copy()
    inner[[0, -1], :] = inner[:, [0, -1]] = False
    middle = np.flatnonzero(inner)
    words = hint8.view(np.uint32).ravel()
    colour = words[middle] & 0xFFFFFF
    core = np.ones(len(middle), bool)
    offsets = [dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    for offset in offsets:
        neighbour = words[middle + offset]
        core &= ((neighbour & 0xFFFFFF) == colour) & ((neighbour >> 24) >= PAINTED_ALPHA)
    keys = np.unique(colour[core])
    # Painted pixels next to no core pixel belong to thin strokes (or wide blends): only then are
    # the strokes told apart, so that each stroke without a core adds its most common colour.
    core_mask = np.zeros(height * width, bool)
    core_mask[middle[core]] = True
    everywhere = np.flatnonzero(painted)  # (on the edge a neighbour may wrap to the next row)
    near_core = core_mask[everywhere]
    for offset in offsets:
        near_core |= core_mask[np.clip(everywhere + offset, 0, height * width - 1)]
    if not near_core.all():
        keys = np.concatenate([keys, _thin_stroke_colours(painted, core_mask.reshape(height, width),
                                                          words.reshape(height, width))])
    return _colours(keys)


def _colours(keys: np.ndarray) -> np.ndarray:
    """24-bit words (R | G << 8 | B << 16) -> (k, 3) uint8 colours, sorted and without repeats."""
    rgba = np.unique(keys).astype("<u4").view(np.uint8).reshape(-1, 4)
    return np.ascontiguousarray(rgba[:, :3])


def _thin_stroke_colours(painted: np.ndarray, core: np.ndarray, words: np.ndarray) -> np.ndarray:
    """The most common colour (as 24-bit words) of each stroke of ``painted`` with no ``core`` pixel."""
    strokes, stroke_ids = cv2.connectedComponents(painted.view(np.uint8), connectivity=8)
    has_core = np.zeros(strokes, bool)
    has_core[stroke_ids[core]] = True
    thin = painted & ~has_core[stroke_ids]
    if not thin.any():
        return np.zeros(0, np.uint32)
    pairs = stroke_ids[thin].astype(np.int64) << 24 | (words[thin] & 0xFFFFFF)
    pairs, counts = np.unique(pairs, return_counts=True)
    order = np.lexsort((counts, pairs >> 24))
    last = np.r_[(pairs[order] >> 24)[1:] != (pairs[order] >> 24)[:-1], True]
    return (pairs[order][last] & 0xFFFFFF).astype(np.uint32)


def _painted(hint8: np.ndarray) -> np.ndarray:
    """(h, w) bool: the pixels of a uint8 RGBA layer opaque enough to count as painted."""
    if min(hint8.shape[:2]) == 1:  # (OpenCV reads a 1 x N x 4 array as N x 4 with one channel)
        return hint8[:, :, 3] >= PAINTED_ALPHA
    alpha = cv2.extractChannel(np.ascontiguousarray(hint8), 3)
    return cv2.compare(alpha, PAINTED_ALPHA, cv2.CMP_GE).view(bool)


def exact_hints(hint8: np.ndarray, colours: np.ndarray) -> None:
    """Give every painted pixel of ``hint8`` (straight uint8 RGBA, in place) the nearest of
    ``colours`` (k, 3): what antialiasing and resampling blended becomes a painted colour again."""
    painted = _painted(hint8)
    if not len(colours) or not painted.any():
        return
    keys, inverse = np.unique(pack(hint8[painted][:, :3]), return_inverse=True)
    hint8[painted, :3] = colours[nearest(unpack(keys), colours)][inverse.ravel()]


@dataclass(frozen=True)
class Palette:
    """Named colours to snap flats to (a Krita palette, a .gpl or .kpl file)."""

    name: str
    entries: tuple[tuple[str, tuple[int, int, int]], ...]  # (entry name, sRGB 0..255)

    @property
    def colours(self) -> np.ndarray:
        return np.array([rgb for _, rgb in self.entries], np.uint8).reshape(-1, 3)

    def names(self) -> dict[tuple[int, int, int], str]:
        """Colour -> the name of the first entry holding it (entries without a name: none)."""
        named = {}
        for name, rgb in self.entries:
            if name.strip():
                named.setdefault(tuple(rgb), name.strip())
        return named


def read_palette(path) -> Palette:
    """A GIMP (.gpl) or Krita (.kpl) palette file; InputError says what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: palette file not found")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                entries = _kpl_entries(archive.read("colorset.xml").decode("utf-8"))
        else:
            entries = _gpl_entries(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, KeyError, ElementTree.ParseError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a palette Deepcolor can read (.gpl or .kpl): {exc}") from None
    if not entries:
        raise InputError(f"{path}: the palette holds no RGB colours")
    return Palette(path.stem, tuple(entries))


def _gpl_entries(text: str):
    lines = text.splitlines()
    if not lines or not lines[0].startswith("GIMP Palette"):
        raise ValueError("a .gpl file starts with 'GIMP Palette'")
    entries = []
    for line in lines[1:]:
        match = re.match(r"\s*(\d+)\s+(\d+)\s+(\d+)\s*(.*)$", line)
        if match and not line.lstrip().startswith("#"):
            rgb = tuple(min(int(value), 255) for value in match.groups()[:3])
            entries.append((match.group(4).strip(), rgb))
    return entries


def _kpl_entries(xml: str):
    entries = []
    for entry in ElementTree.fromstring(xml).iter("ColorSetEntry"):
        rgb = entry.find("RGB")
        if rgb is not None:  # CMYK, Lab or grey entries would need colour management: left out
            values = tuple(int(round(255 * min(max(float(rgb.get(key, 0)), 0.0), 1.0))) for key in "rgb")
            entries.append((entry.get("name", ""), values))
    return entries


def apply_selection(rgba: np.ndarray, coverage: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """The result only where ``coverage`` (uint8, 255 = selected) says, feathered as it is.

    With ``previous`` (what the result layer held there), that shows where nothing is selected
    and the two blend across a feathered edge; a hard-edged selection keeps colours exact.
    """
    if previous is None:
        out = rgba.copy()
        out[:, :, 3] = cv2.multiply(rgba[:, :, 3], coverage, scale=1.0 / 255.0)
        return out
    weight = coverage.astype(np.float32)[:, :, None] * np.float32(1.0 / 255.0)
    new, old = rgba.astype(np.float32), previous.astype(np.float32)
    alpha = old[:, :, 3:] + weight * (new[:, :, 3:] - old[:, :, 3:])
    premultiplied = old[:, :, :3] * old[:, :, 3:] + weight * (new[:, :, :3] * new[:, :, 3:]
                                                              - old[:, :, :3] * old[:, :, 3:])
    rgb = np.divide(premultiplied, alpha, out=np.zeros_like(premultiplied), where=alpha > 0)
    out = np.concatenate([rgb, alpha], axis=2)
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    hard = (coverage == 255) | (coverage == 0)  # exact there, whatever the float rounding did
    out[hard] = np.where((coverage[hard] == 255)[:, None], rgba[hard], previous[hard])
    return out


@dataclass(frozen=True)
class Flat:
    """One colour of a flats layer: its name, colour and the part of the canvas holding it."""

    name: str
    rgb: tuple[int, int, int]
    rect: tuple[int, int, int, int]  # x, y, w, h


@dataclass
class Flats:
    """A flats layer split by colour: ``index`` (H, W) uint16, 0 = transparent, k = flats[k - 1]."""

    rgba: np.ndarray
    index: np.ndarray
    flats: list[Flat]

    def layer(self, number: int) -> np.ndarray:
        """(h, w, 4) uint8 of ``flats[number]`` over its rect: its colour, the layer's alpha."""
        x, y, w, h = self.flats[number].rect
        mine = cv2.compare(self.index[y:y + h, x:x + w], number + 1, cv2.CMP_EQ)
        crop = np.ascontiguousarray(self.rgba[y:y + h, x:x + w])
        return cv2.bitwise_and(crop, crop, mask=mine).reshape(h, w, 4)


def split_colours(rgba: np.ndarray, palette: Palette | None = None) -> Flats:
    """One layer per colour of a flats layer, in a stable order: a palette's colours in its
    order, then the rest by colour value. Each is named after its palette entry, else '#rrggbb'."""
    rgba = np.ascontiguousarray(rgba)
    # A key a pixel: its colour + 1 (one 32-bit word read as R | G << 8 | B << 16), 0 where clear.
    words = rgba.view(np.uint32)[:, :, 0]
    keys = np.bitwise_and(words, np.uint32(0xFFFFFF)) + np.uint32(1)
    keys[cv2.extractChannel(rgba, 3) == 0] = 0
    # a flag per possible colour: one pass, where sorting (or counting) a canvas of keys takes seconds
    seen = np.zeros((1 << 24) + 1, bool)
    seen[keys] = True
    present = np.flatnonzero(seen[1:])
    if len(present) > MAX_SPLIT_COLOURS:
        raise InputError(f"the result holds {len(present)} colours, too many for one layer each (at most "
                         f"{MAX_SPLIT_COLOURS}): paint hints in more regions, or choose a palette")
    found = present.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
    named = palette.names() if palette is not None else {}
    order = {tuple(rgb): position for position, (_, rgb) in enumerate(palette.entries)} if palette else {}
    ranked = np.array(sorted(range(len(present)), key=lambda i: (order.get(tuple(found[i]), len(order)),
                                                                 tuple(found[i]))), int)
    lookup = np.zeros((1 << 24) + 1, np.uint16)  # key -> number in the order, 0 for clear
    lookup[present[ranked] + 1] = np.arange(1, len(ranked) + 1, dtype=np.uint16)
    index = lookup[keys]
    colours = [tuple(int(v) for v in found[i]) for i in ranked]
    names = [named.get(colour) or hex_name(colour) for colour in colours]
    flats = []
    for number, (colour, name) in enumerate(zip(colours, names, strict=True)):
        if names.count(name) > 1:  # two palette entries of one name: the colour tells them apart
            name = f"{name} {hex_name(colour)}"
        rect = cv2.boundingRect(cv2.compare(index, number + 1, cv2.CMP_EQ))
        flats.append(Flat(name, colour, rect))
    return Flats(rgba=rgba, index=index, flats=flats)

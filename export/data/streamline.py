"""Streamline Emojis as validation pairs: outline art like our users' ink, never training data.

The npm package ``@iconify-json/streamline-emojis`` (CC-BY-4.0) holds every icon as SVG path
markup in one JSON file. Each icon is drawn the same way: coloured fills, then the same shapes
stroked in the outline colour ``#45413c``, some shapes (pupils) filled with it, and a ground
shadow filled with it at opacity .15. So each icon gives an exact pair:

* line art: the outline strokes and the outline-coloured fills as they show in the icon, black
  on white;
* colour: the whole icon without the ground shadow.

Icons with fewer than ``MIN_REGIONS`` coloured regions (enclosed paper areas of the figure) are
left out: they test nothing a flood would not get right. Every pair is in the validation split,
and falls in one of the two fixed halves by its id (``halves.half_of``) like every other
validation pair. The tarball is fetched from the npm registry by this script, checked against
its pinned SHA-512, and never committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
import urllib.request
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import cv2
import numpy as np

from krita_deepcolor.engine import imageio, imaging

from . import svg
from .build import write_text_atomic
from .fetch import FetchError
from .sources import DEFAULT_STREAMLINE_DATASET

PACKAGE = "@iconify-json/streamline-emojis"
VERSION = "1.2.4"
TARBALL = f"https://registry.npmjs.org/{PACKAGE}/-/streamline-emojis-{VERSION}.tgz"
# npm's "integrity" of that tarball: the download must match it byte for byte
INTEGRITY = "sha512-iNr9T9XuZVTyQPJO8ZlLxBzPkpi7qMl+z1l0C31vpEMqhPMelth3n7CeWQYtixdetDPdI81yeG4ROqjWpYJE6A=="
LICENSE = "CC-BY-4.0 (Streamline, https://www.streamlinehq.com)"
SOURCE = "streamline-emojis"
OUTLINE = "#45413c"
SHADOW_OPACITY = 0.5  # an outline-coloured fill fainter than this is the ground shadow
SIZE = 512  # stored size, as the outside emoji collection's pairs
MIN_REGIONS = 3
MIN_REGION_PIXELS = 64  # a coloured region smaller than this (at SIZE) is a sliver between strokes


def fetch_icons(cache: Path) -> dict:
    """The package's icons.json as a dict, downloaded once into ``cache`` and verified."""
    cache = Path(cache).expanduser()
    tarball = cache / f"streamline-emojis-{VERSION}.tgz"
    if not tarball.exists() or not _verified(tarball.read_bytes()):
        try:
            with urllib.request.urlopen(TARBALL, timeout=60) as response:
                data = response.read()
        except OSError as error:
            raise FetchError(f"cannot download {TARBALL}: {error}; check the network and try again") from None
        if not _verified(data):
            raise FetchError(f"{TARBALL} does not match its pinned SHA-512: not used")
        cache.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(tarball)
    with tarfile.open(tarball) as archive:
        return json.load(archive.extractfile("package/icons.json"))


def _verified(data: bytes) -> bool:
    algorithm, _, expected = INTEGRITY.partition("-")
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected


def _paint(element: ET.Element, name: str) -> str | None:
    value = element.get(name)
    return value.lower() if value else None


def split_icon(body: str, width: int, height: int) -> tuple[bytes, bytes]:
    """An icon's SVG markup -> (line SVG, colour SVG) as documents of ``width`` x ``height`` units.

    The line SVG keeps every shape in its order, the outline's paint black and any other paint
    white: a fill drawn later hides the part of an earlier outline it covers, as in the icon."""
    root = ET.fromstring(f'<g xmlns="http://www.w3.org/2000/svg">{body}</g>')
    line_parts, colour_parts = [], []
    for element in root:
        fill, stroke = _paint(element, "fill"), _paint(element, "stroke")
        if fill == OUTLINE and float(element.get("opacity", "1")) < SHADOW_OPACITY:
            continue  # the ground shadow: neither line nor colour
        colour_parts.append(ET.tostring(element, encoding="unicode"))
        ink = ET.Element(element.tag, element.attrib)
        for name, paint in (("fill", fill), ("stroke", stroke)):
            if paint not in (None, "none"):
                ink.set(name, "#000" if paint == OUTLINE else "#fff")
        line_parts.append(ET.tostring(ink, encoding="unicode"))

    def document(parts):
        markup = "".join(parts).replace("ns0:", "").replace(' xmlns:ns0="http://www.w3.org/2000/svg"', "")
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
                f'width="{width}" height="{height}">{markup}</svg>').encode()
    return document(line_parts), document(colour_parts)


def coloured_regions(line8: np.ndarray, colour: np.ndarray) -> int:
    """Enclosed paper areas of the figure at least MIN_REGION_PIXELS large."""
    inside = ((line8 >= 128) & (colour[:, :, 3] >= 128)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=4)
    return int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= MIN_REGION_PIXELS))


def sample_id(name: str) -> str:
    """PACKAGE-DIGEST-SIZE, like every dataset id (``halves.source_of`` reads it)."""
    return f"{SOURCE}-{hashlib.sha256(name.encode()).hexdigest()[:12]}-{SIZE}"


def build(out: Path = DEFAULT_STREAMLINE_DATASET, cache: Path | None = None, limit: int | None = None,
          log=print) -> dict:
    """Render every icon into ``out/val`` and write ``out/manifest.json`` (the dataset layout)."""
    out = Path(out).expanduser()
    icons = fetch_icons(cache or out / "download")
    names = sorted(icons["icons"])[:limit]
    samples, skipped = [], Counter()
    for name in names:
        body = icons["icons"][name]["body"]
        if "<use" in body:  # (clones of shapes defined elsewhere: their paint is not on the shape)
            skipped["clones (<use>)"] += 1
            continue
        width = icons["icons"][name].get("width", icons.get("width", 48))
        height = icons["icons"][name].get("height", icons.get("height", 48))
        line_svg, colour_svg = split_icon(body, width, height)
        scale = SIZE / max(width, height)
        side = (round(width * scale), round(height * scale))
        try:
            ink = imaging.line_from_rgba(svg.render(line_svg, *side))
            colour = svg.render(colour_svg, *side)
        except svg.SvgError as error:
            skipped[f"render failed: {error}"] += 1
            continue
        line8 = imaging.to_uint8(ink)
        if coloured_regions(line8, colour) < MIN_REGIONS:
            skipped[f"fewer than {MIN_REGIONS} coloured regions"] += 1
            continue
        identifier = sample_id(name)
        imageio.write_png(out / "val" / f"{identifier}.color.png", colour)
        imageio.write_png(out / "val" / f"{identifier}.line.png", line8)
        samples.append({"id": identifier, "source": SOURCE, "origin": f"{PACKAGE}@{VERSION}#{name}",
                        "split": "val", "lines": "exact", "size": SIZE})
    manifest = {"version": 1, "sources": {SOURCE: {"package": f"{PACKAGE} {VERSION}", "license": LICENSE,
                                                   "files_seen": len(names), "samples": len(samples),
                                                   "skipped": sum(skipped.values()),
                                                   "skip_reasons": dict(skipped.most_common()),
                                                   "use": "validation only, never training"}},
                "samples": samples, "stats": {"train": 0, "val": len(samples)}}
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    log(f"{SOURCE}: {len(names)} icons, {len(samples)} validation pairs in {out}, "
        f"{sum(skipped.values())} skipped {dict(skipped)}")
    return manifest

"""SVG art -> exact line/colour pairs by restyling the XML, and rendering with rsvg-convert.

Ink is whatever is drawn dark and opaque: dark strokes (outlines) and near-black fills (solid black
areas, outlines drawn as filled shapes, a black silhouette under the colour shapes). The line
version paints the ink black and everything else white, so ink hidden under colour stays hidden;
the colour version drops the dark strokes, so the colour under an outline is the fill beneath it.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from .images import ImageError, content_box, decode, fit

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath"}
# brightest channel below this counts as dark enough to be a line (black, dark grey, dark brown);
# luma would call saturated red and blue dark. Fills must be nearer black: a dark brown fill is
# colour (chocolate, hair), a near-black one is ink (outlines drawn as shapes, solid black).
DARK_STROKE = 0.36
DARK_FILL = 0.16
# opacity below this is a shadow or a glaze, not ink
OPAQUE_ENOUGH = 0.6
RENDER_TIMEOUT_S = 30
PROBE_SIDE = 256
MAX_ZOOM = 4  # a figure on a huge empty page is rendered at most this much larger than the page

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


class SvgError(ValueError):
    """The SVG cannot be parsed or rendered."""


def renderer_path() -> str:
    path = shutil.which("rsvg-convert")
    if path is None:
        raise SvgError("rsvg-convert not found: install it with `apt-get install librsvg2-bin`")
    return path


def decompress(data: bytes) -> bytes:
    """SVGZ (gzip) -> SVG bytes; plain SVG is returned as is."""
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 128, 0),
          "blue": (0, 0, 255), "yellow": (255, 255, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
          "navy": (0, 0, 128), "maroon": (128, 0, 0), "purple": (128, 0, 128), "brown": (165, 42, 42),
          "darkgreen": (0, 100, 0), "darkblue": (0, 0, 139), "orange": (255, 165, 0)}


def parse_color(value: str | None) -> tuple[int, int, int] | None:
    """CSS colour -> RGB, or None for none/url()/currentColor/unknown (never counted as ink)."""
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 6 and all(c in "0123456789abcdef" for c in digits):
            return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
        return None
    match = re.fullmatch(r"rgb\(\s*([\d.]+)(%?)\s*,\s*([\d.]+)(%?)\s*,\s*([\d.]+)(%?)\s*\)", value)
    if match:
        parts = match.groups()
        return tuple(int(round(float(parts[i]) * (2.55 if parts[i + 1] else 1.0))) for i in (0, 2, 4))
    return _NAMED.get(value)


def is_dark(rgb: tuple[int, int, int] | None, limit: float) -> bool:
    return rgb is not None and max(rgb) / 255.0 < limit


def _parse_style(text: str | None) -> dict[str, str]:
    style = {}
    for declaration in (text or "").split(";"):
        key, sep, value = declaration.partition(":")
        if sep:
            style[key.strip().lower()] = value.strip()
    return style


def _format_style(style: dict[str, str]) -> str:
    return ";".join(f"{key}:{value}" for key, value in style.items())


def _class_rules(root: ET.Element) -> dict[str, dict[str, str]]:
    """Simple ``.name { ... }`` rules from <style> elements (Illustrator-style exports)."""
    rules: dict[str, dict[str, str]] = {}
    for element in root.iter(f"{{{SVG_NS}}}style"):
        css = re.sub(r"/\*.*?\*/", "", element.text or "", flags=re.S)
        for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
            for selector in selectors.split(","):
                selector = selector.strip()
                if re.fullmatch(r"\.[\w-]+", selector):
                    rules.setdefault(selector[1:], {}).update(_parse_style(body))
    return rules


def _number(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


_INHERITED = ("fill", "stroke", "fill-opacity", "stroke-opacity", "display", "visibility")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def restyle(svg: bytes) -> tuple[bytes, bytes, dict[str, int]]:
    """SVG bytes -> (line-art SVG, colour SVG, counts of ink strokes/fills and shapes)."""
    try:
        root = ET.fromstring(decompress(svg))
    except (ET.ParseError, OSError, EOFError) as error:
        raise SvgError(f"not parseable SVG: {error}") from error
    if _local(root.tag) != "svg":
        raise SvgError("root element is not <svg>")
    rules = _class_rules(root)
    counts = {"shapes": 0, "ink_strokes": 0, "ink_fills": 0}
    line_styles: dict[int, str] = {}
    colour_styles: dict[int, str] = {}
    defs_like = {"defs", "clipPath", "mask", "pattern", "marker", "symbol", "linearGradient",
                 "radialGradient", "filter", "metadata"}

    def visit(element: ET.Element, inherited: dict[str, str], opacity: float, in_defs: bool) -> None:
        name = _local(element.tag)
        specified: dict[str, str] = {}
        for key in _INHERITED + ("opacity", "stroke-width"):
            if element.get(key) is not None:
                specified[key] = element.get(key)
        for cls in (element.get("class") or "").split():
            specified.update(rules.get(cls, {}))
        specified.update(_parse_style(element.get("style")))
        computed = dict(inherited)
        computed.update({k: v for k, v in specified.items() if k in _INHERITED and v != "inherit"})
        opacity *= _number(specified.get("opacity"), 1.0)
        in_defs = in_defs or name in defs_like
        if name in SHAPES and not in_defs:
            counts["shapes"] += 1
            visible = computed.get("display") != "none" and computed.get("visibility") not in ("hidden",
                                                                                                "collapse")
            stroke = parse_color(computed.get("stroke"))
            fill = parse_color(computed.get("fill", "black"))
            stroke_alpha = opacity * _number(computed.get("stroke-opacity"), 1.0)
            fill_alpha = opacity * _number(computed.get("fill-opacity"), 1.0)
            ink_stroke = visible and is_dark(stroke, DARK_STROKE) and stroke_alpha >= OPAQUE_ENOUGH
            ink_fill = visible and is_dark(fill, DARK_FILL) and fill_alpha >= OPAQUE_ENOUGH and name not in (
                "line", "polyline")
            counts["ink_strokes"] += ink_stroke
            counts["ink_fills"] += ink_fill
            own = _parse_style(element.get("style"))
            line = dict(own)
            # everything that is not ink still hides what lies under it, painted white
            line.update({"fill": _line_paint(ink_fill, visible, computed.get("fill", "black"), fill_alpha),
                         "stroke": _line_paint(ink_stroke, visible, computed.get("stroke"), stroke_alpha),
                         "fill-opacity": "1", "stroke-opacity": "1", "opacity": "1", "filter": "none"})
            line_styles[id(element)] = _format_style(line)
            if ink_stroke:
                own["stroke"] = "none"
                colour_styles[id(element)] = _format_style(own)
        elif name in ("g", "svg", "a", "use", "switch") and not in_defs:
            # group opacity and filters (blurred shadows) would grey the ink in the line version
            line = _parse_style(element.get("style"))
            line.update({"opacity": "1", "filter": "none"})
            line_styles[id(element)] = _format_style(line)
        elif name == "image" and not in_defs:
            line_styles[id(element)] = "display:none"
        for child in element:
            visit(child, computed, opacity, in_defs)

    visit(root, {}, 1.0, False)
    line_svg = _serialise(root, line_styles)
    colour_svg = _serialise(root, colour_styles)
    return line_svg, colour_svg, counts


def _line_paint(ink: bool, visible: bool, paint: str | None, alpha: float) -> str:
    if ink:
        return "#000000"
    painted = visible and paint is not None and paint.strip().lower() not in ("none", "transparent")
    return "#ffffff" if painted and alpha >= OPAQUE_ENOUGH else "none"


def _serialise(root: ET.Element, styles: dict[int, str]) -> bytes:
    saved = {}
    for element in root.iter():
        if id(element) in styles:
            saved[id(element)] = (element, element.get("style"), element.get("filter"))
            element.set("style", styles[id(element)])
            if "filter:none" in styles[id(element)]:
                element.attrib.pop("filter", None)
    try:
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)
    finally:
        for element, style, filt in saved.values():
            if style is None:
                element.attrib.pop("style", None)
            else:
                element.set("style", style)
            if filt is not None:
                element.set("filter", filt)


def render(svg: bytes, width: int, height: int, keep_aspect: bool = False) -> np.ndarray:
    """Render to (height, width, 4) uint8 straight RGBA on a transparent background.

    With ``keep_aspect`` the picture fits inside width x height instead of filling it.
    """
    command = [renderer_path(), "-w", str(width), "-h", str(height), "-f", "png"]
    if keep_aspect:
        command.append("--keep-aspect-ratio")
    try:
        result = subprocess.run(command,
                                input=svg, capture_output=True, timeout=RENDER_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise SvgError(f"rendering took longer than {RENDER_TIMEOUT_S} s") from error
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SvgError(f"rsvg-convert failed: {message[-1] if message else 'no output'}")
    try:
        return decode(result.stdout)
    except ImageError as error:
        raise SvgError("rsvg-convert produced no readable image") from error




@dataclass
class Prepared:
    """A parsed and restyled SVG with a small probe render of the original, ready to render."""

    original: bytes
    line: bytes
    colour: bytes
    counts: dict[str, int]
    probe: np.ndarray
    box: tuple[int, int, int, int]


def prepare(data: bytes) -> Prepared:
    """Restyle and probe-render; the probe finds the figure on its page, so clip art drawn small
    on a large page still fills the sample, and lets the build reject an image cheaply."""
    original = decompress(data)
    line_svg, colour_svg, counts = restyle(original)
    probe = render(original, PROBE_SIDE, PROBE_SIDE, keep_aspect=True)
    box = content_box(probe[:, :, 3])
    if box is None:
        raise SvgError("renders as an empty picture")
    return Prepared(original, line_svg, colour_svg, counts, probe, box)


def render_versions(prepared: Prepared, max_side: int, versions=("line", "colour")) -> dict[str, np.ndarray]:
    """Render the named versions ("line", "colour", "original") as RGBA uint8, all cropped to the
    same figure box, the longer side about ``max_side``."""
    top, bottom, left, right = prepared.box
    zoom = min(max_side / max(bottom - top, right - left), MAX_ZOOM * max_side / PROBE_SIDE)
    height, width = (max(1, round(side * zoom)) for side in prepared.probe.shape[:2])
    top, bottom, left, right = (round(edge * zoom) for edge in prepared.box)
    rendered = {}
    for name in versions:
        image = render(getattr(prepared, name), width, height)
        rendered[name] = fit(image[top:bottom, left:right], max_side)
    return rendered

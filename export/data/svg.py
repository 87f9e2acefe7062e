"""SVG art -> exact line/colour pairs by restyling the XML, and rendering with rsvg-convert.

Ink is whatever is drawn dark and opaque: dark strokes (outlines) and near-black fills (solid black
areas, outlines drawn as filled shapes, a black silhouette under the colour shapes). The line
version paints the ink black and everything else white, so ink hidden under colour stays hidden;
the colour version drops the dark strokes, so the colour under an outline is the fill beneath it.

An SVG of many pictures (a card deck) gives one per element: the document is rewritten to draw
that element alone, where it lies on the page, and every version is rendered as the same window
onto the page (``rsvg-convert -i`` would crop each version to its own bounding box, and the
colour version, without its outlines, has another).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from copy import deepcopy
from dataclasses import dataclass

import numpy as np

from .images import ImageError, content_box, decode, fit

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath"}
TEXT = {"text", "tspan", "textPath"}
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
# an element is looked for this many page sizes around its page, in a view this many pixels wide
REACH = 4
WIDE_PROBE_SIDE = 512
MAX_CLONED_NODES = 200_000  # an element whose clones copy more than this is refused
_DEFINITIONS = {"defs", "clipPath", "mask", "pattern", "marker", "symbol", "linearGradient",
                "radialGradient", "filter", "metadata"}
# never drawn where they are, or needed there (CSS): left in place when an element is isolated
_NOT_DRAWN = _DEFINITIONS | {"style", "title", "desc"}

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
    """SVG bytes -> (line-art SVG, colour SVG, counts of shapes, text shapes and ink strokes/fills)."""
    root = _parse(svg)
    rules = _class_rules(root)
    counts = {"shapes": 0, "text": 0, "ink_strokes": 0, "ink_fills": 0}
    line_styles: dict[int, str] = {}
    colour_styles: dict[int, str] = {}

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
        in_defs = in_defs or name in _DEFINITIONS
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
            counts["text"] += name in TEXT
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


def _parse(svg: bytes) -> ET.Element:
    try:
        root = ET.fromstring(decompress(svg))
    except (ET.ParseError, OSError, EOFError) as error:
        raise SvgError(f"not parseable SVG: {error}") from error
    if _local(root.tag) != "svg":
        raise SvgError("root element is not <svg>")
    return root


def element_ids(svg: bytes) -> list[str]:
    """The ids of the document's elements, in document order."""
    return [node.get("id") for node in _parse(svg).iter() if node.get("id")]


def isolate(svg: bytes, element: str) -> bytes:
    """The document with only the element ``element`` (an id) drawn, where it is on the page.

    Its ``<use>`` clones are replaced by copies of what they show, so restyling sees the paint
    each copy inherits there (a card's red pips are one black-filled shape cloned in red);
    everything else moves into ``<defs>``, still there for references but never drawn.
    """
    root = _parse(svg)
    by_id = {node.get("id"): node for node in root.iter() if node.get("id")}
    parents = {child: parent for parent in root.iter() for child in parent}
    target = by_id.get(element)
    if target is None:
        raise SvgError(f"no element with id {element!r}")
    if any(_local(above.tag) in _NOT_DRAWN for above in _ancestors(target, parents)):
        raise SvgError("element is a definition, drawn only through clones")
    budget = [MAX_CLONED_NODES]
    if _local(target.tag) == "use":
        expanded = _expand_use(target, by_id, budget)
        if expanded is not None:
            parent = parents[expanded] = parents[target]
            parent[list(parent).index(target)] = expanded
            target = expanded
    stack = [target]
    while stack:
        node = stack.pop()
        for index, child in enumerate(list(node)):
            if _local(child.tag) == "use":
                expanded = _expand_use(child, by_id, budget)
                if expanded is not None:
                    node[index] = expanded
                    child = expanded
            stack.append(child)
    for node in [target] + _ancestors(target, parents)[:-1]:
        parent = parents[node]
        hidden = [child for child in parent if child is not node and _local(child.tag) not in _NOT_DRAWN]
        if hidden:
            defs = ET.Element(f"{{{SVG_NS}}}defs")
            for child in hidden:
                parent.remove(child)
                defs.append(child)
            parent.insert(0, defs)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


_GEOMETRY = ("d", "points", "x", "y", "width", "height", "cx", "cy", "r", "rx", "ry", "x1", "y1", "x2", "y2")


def geometry(svg: bytes) -> list[str]:
    """Short hashes of the shapes a document draws, from their geometry and text alone: the same
    drawing recoloured, moved, scaled or mirrored by a transform gives the same hashes."""
    hashes = []
    stack = [_parse(svg)]
    while stack:
        node = stack.pop()
        name = _local(node.tag)
        if name in _NOT_DRAWN:
            continue
        if name in SHAPES:
            token = "|".join([name, *(node.get(key, "") for key in _GEOMETRY), (node.text or "").strip()])
            hashes.append(hashlib.blake2b(token.encode(), digest_size=4).hexdigest())
        stack.extend(node)
    return sorted(hashes)


def _ancestors(node: ET.Element, parents: dict) -> list[ET.Element]:
    chain = []
    while node in parents:
        node = parents[node]
        chain.append(node)
    return chain


def _expand_use(use: ET.Element, by_id: dict, budget: list[int]) -> ET.Element | None:
    """A ``<g>`` holding a copy of what ``use`` shows, with its position, transform and style (a
    symbol becomes the nested ``<svg>`` viewport it stands for); None when it shows nothing."""
    href = use.get(f"{{{XLINK_NS}}}href") or use.get("href") or ""
    target = by_id.get(href[1:]) if href.startswith("#") else None
    if target is None or _local(target.tag) == "svg":
        return None
    copy = deepcopy(target)
    for node in copy.iter():
        node.attrib.pop("id", None)  # ids stay unique; references inside still find the originals
        budget[0] -= 1
    if budget[0] < 0:
        raise SvgError("too many clones to expand")
    x, y = _number(use.get("x"), 0.0), _number(use.get("y"), 0.0)
    if _local(target.tag) == "symbol":
        copy.tag = f"{{{SVG_NS}}}svg"
        copy.attrib.update(x=f"{x:g}", y=f"{y:g}", width=use.get("width", "100%"),
                           height=use.get("height", "100%"))
        x = y = 0.0
    skip = {"x", "y", "width", "height", "href", f"{{{XLINK_NS}}}href", "transform"}
    group = ET.Element(f"{{{SVG_NS}}}g", {key: value for key, value in use.attrib.items() if key not in skip})
    transform = use.get("transform", "")
    if x or y:
        transform = f"{transform} translate({x:g},{y:g})".strip()
    if transform:
        group.set("transform", transform)
    group.append(copy)
    return group


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


def render(svg: bytes, width: int, height: int, keep_aspect: bool = False,
           window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Render to (height, width, 4) uint8 straight RGBA on a transparent background.

    With ``keep_aspect`` the picture fits inside width x height instead of filling it. With
    ``window`` (left, top, width, height) only that part of the width x height drawing is rendered.
    """
    command = [renderer_path(), "-w", str(width), "-h", str(height), "-f", "png"]
    if keep_aspect:
        command.append("--keep-aspect-ratio")
    if window is not None:
        left, top, window_width, window_height = window
        command += [f"--left={-left}", f"--top={-top}", f"--page-width={window_width}",
                    f"--page-height={window_height}"]
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
    # the figure (top, bottom, left, right) on the page drawn at ``page`` (height, width)
    box: tuple[int, int, int, int]
    page: tuple[int, int]
    # rendered as windows onto the page: an element is a small part of a page of many
    windowed: bool = False


def prepare(data: bytes, element: str | None = None) -> Prepared:
    """Restyle and probe-render; the probe finds the figure on its page, so clip art drawn small
    on a large page still fills the sample, and lets the build reject an image cheaply.

    With ``element`` (an id) that element alone is the picture, wherever it is drawn.
    """
    original = decompress(data)
    if element is not None:
        original = isolate(original, element)
    line_svg, colour_svg, counts = restyle(original)
    probe = render(original, PROBE_SIDE, PROBE_SIDE, keep_aspect=True)
    box = content_box(probe[:, :, 3])
    if element is not None:
        probe, box, page = _probe_element(original, probe.shape[:2], box)
        return Prepared(original, line_svg, colour_svg, counts, probe, box, page, windowed=True)
    if box is None:
        raise SvgError("renders as an empty picture")
    return Prepared(original, line_svg, colour_svg, counts, probe, box, probe.shape[:2])


def _probe_element(original: bytes, page: tuple[int, int], box) -> tuple[np.ndarray, tuple, tuple]:
    """(probe, box, page) of an element: a card may be a dozen pixels of a probe of its deck's
    page, so the figure's part of the page is probed again at full probe size. A figure beside
    the page or across its edge (a deck's cards may lie around it) is looked for REACH page
    sizes around, at lower resolution."""
    height, width = page
    if box is None or box[0] == 0 or box[2] == 0 or box[1] == height or box[3] == width:
        span = 2 * REACH + 1
        height, width = page = tuple(max(1, round(side * WIDE_PROBE_SIDE / (span * max(page))))
                                     for side in page)
        wide = render(original, width, height,
                      window=(-REACH * width, -REACH * height, span * width, span * height))
        box = content_box(wide[:, :, 3])
        if box is None:
            raise SvgError("renders as an empty picture")
        top, bottom, left, right = box  # onto the page's own frame
        box = (top - REACH * height, bottom - REACH * height, left - REACH * width, right - REACH * width)
    top, bottom, left, right = box
    scale = PROBE_SIDE / max(bottom - top, right - left)
    page = tuple(max(1, round(side * scale)) for side in page)
    top, bottom, left, right = (round(edge * scale) for edge in box)
    closer = render(original, page[1], page[0], window=(left, top, right - left, bottom - top))
    inner = content_box(closer[:, :, 3])
    if inner is None:
        raise SvgError("renders as an empty picture")
    return closer, (top + inner[0], top + inner[1], left + inner[2], left + inner[3]), page


def render_versions(prepared: Prepared, max_side: int, versions=("line", "colour")) -> dict[str, np.ndarray]:
    """Render the named versions ("line", "colour", "original") as RGBA uint8, all cropped to the
    same figure box, the longer side about ``max_side``."""
    top, bottom, left, right = prepared.box
    zoom = max_side / max(bottom - top, right - left)
    if not prepared.windowed:  # the whole page is rendered, so a speck on it is zoomed only so far
        zoom = min(zoom, MAX_ZOOM * max_side / PROBE_SIDE)
    height, width = (max(1, round(side * zoom)) for side in prepared.page)
    top, bottom, left, right = (round(edge * zoom) for edge in prepared.box)
    rendered = {}
    for name in versions:
        if prepared.windowed:
            image = render(getattr(prepared, name), width, height,
                           window=(left, top, right - left, bottom - top))
        else:
            image = render(getattr(prepared, name), width, height)[top:bottom, left:right]
        rendered[name] = fit(image, max_side)
    return rendered

"""The colouring pipeline: layers in, colour layer out.

read layers -> contract arrays -> working size -> network -> finishing at canvas size.
The CLI, the Krita plugin and the benchmarks all call ``colorize``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from .errors import InputError, NoHints
from .finish import auto_gap_size, draw_lines, finish_size, hybrid_finish, upsample_colors
from .flats import Palette, faint_strokes
from .imaging import (
    alpha8,
    as_rgba,
    full_scale,
    hint_from_premultiplied,
    line_art_problem,
    line_levels,
    premultiplied,
    resize,
    shrink_lines,
    straight_rgba8,
    to_rgba8,
)
from .plan import WorkPlan, estimate_line_width, plan_work
from .reuse import RECENT
from .runtime import CancelToken, Model

Progress = Callable[[float, str], None]

DEFAULT_MAX_SIDE = 1024
FINISHINGS = ("hybrid", "raw")
MAX_CLOSE_GAPS = 200  # pixels: wider gaps are openings, and closing them costs time


@dataclass(frozen=True)
class Options:
    max_side: int = DEFAULT_MAX_SIDE  # longest side of the working image
    match_line_width: bool = True  # scale so lines look as wide as in training
    hint_strength: float = 1.0  # multiplies the hint layer's alpha
    with_lines: bool = False  # multiply the line art into the result
    finishing: str = "hybrid"  # hybrid: hint flood + network flats; raw: the network's output
    shading: float = 0.0  # hybrid only: how much of the network's light and dark to add (0..1)
    close_gaps: int | None = None  # hybrid only: close gaps up to this many canvas pixels; None: auto
    # hybrid only: the hybrid rules' proposal as it is, without starting from the flood (what the
    # flood-first decision is trained and measured against)
    proposal_only: bool = False
    palette: Palette | None = None  # hybrid only: hint colours (and guesses close to one) snap to it
    # A live preview: the layers are shrunk so that their longest side is at most this, coloured
    # (regions found at that size), and the result enlarged back to the canvas. None: full size.
    preview_side: int | None = None

    def check(self) -> None:
        """Raises InputError, saying what to use instead, for a value out of range."""
        if self.max_side < 16:
            raise InputError(f"max side {self.max_side} is too small: use at least 16 pixels")
        if not 0.0 <= self.shading <= 1.0:
            raise InputError(f"shading {self.shading} is out of range: use 0 to 1")
        if self.hint_strength < 0:
            raise InputError(f"hint strength {self.hint_strength} is negative: use 0 or more")
        if self.finishing not in FINISHINGS:
            raise InputError(f"unknown finishing {self.finishing!r}: choose {' or '.join(FINISHINGS)}")
        if self.preview_side is not None and self.preview_side < 16:
            raise InputError(f"preview side {self.preview_side} is too small: use at least 16 pixels")
        if self.close_gaps is not None and not 0 <= self.close_gaps <= MAX_CLOSE_GAPS:
            raise InputError(f"close gaps {self.close_gaps} is out of range: use 0 to {MAX_CLOSE_GAPS} "
                             "pixels, or auto")

    @property
    def floods_first(self) -> bool:
        """Whether the flats start from the flood of the hint strokes (``departures.py``)."""
        return self.finishing == "hybrid" and self.shading == 0 and not self.proposal_only


@dataclass
class Result:
    rgba: np.ndarray  # (H, W, 4) uint8 straight sRGB RGBA
    plan: WorkPlan
    provider: str
    line_width: float | None
    seconds: dict[str, float] = field(default_factory=dict)
    gap_size: int | None = None  # hybrid: gaps up to this many canvas pixels were closed
    network: np.ndarray | None = None  # (h, w, 3) float: the network's own output at the working size
    faint_strokes: int = 0  # hint strokes too faint to count (flats.PAINTED_ALPHA)


def check_layers(line_rgba: np.ndarray, hint_rgba: np.ndarray | None,
                 partial: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate shapes and content; returns the layers as RGBA."""
    line_rgba = as_rgba(line_rgba, "line art")
    problem = None if partial else line_art_problem(line_rgba)  # (a part of a canvas may hold no line)
    if problem == "empty":
        raise InputError("the line art is empty (fully transparent): nothing to colour")
    if problem == "one plain colour":
        raise InputError("the line art is one plain colour, with no lines: give the line-art image")
    return line_rgba, _strokes(hint_rgba, line_rgba, "hints", partial)


def _strokes(rgba: np.ndarray | None, line_rgba: np.ndarray, what: str,
             partial: bool = False) -> np.ndarray | None:
    """A layer of strokes on transparency (hints, keep-clear strokes) as RGBA; None if empty.
    ``partial``: the layer is a part of the canvas, which one stroke may cover whole."""
    if rgba is None:
        return None
    rgba = as_rgba(rgba, what)
    if rgba.shape[:2] != line_rgba.shape[:2]:
        raise InputError(f"{what} are {rgba.shape[1]}x{rgba.shape[0]} but line art is "
                         f"{line_rgba.shape[1]}x{line_rgba.shape[0]}: both must be the same size")
    # (one contiguous copy of the alpha plane: cheaper than two strided passes over the layer)
    alpha = cv2.extractChannel(np.ascontiguousarray(rgba), 3)
    if not cv2.countNonZero(alpha):
        return None  # an empty layer: as if there was none
    if not partial and cv2.minMaxLoc(alpha)[0] >= full_scale(rgba):
        raise InputError(f"{what} are fully opaque: paint them as strokes on a transparent layer")
    return rgba


def _pad(array: np.ndarray, padded: tuple[int, int], value: float) -> np.ndarray:
    pad_h, pad_w = padded[0] - array.shape[0], padded[1] - array.shape[1]
    if not pad_h and not pad_w:
        return array
    widths = ((0, pad_h), (0, pad_w)) + ((0, 0),) * (array.ndim - 2)
    return np.pad(array, widths, mode="constant", constant_values=value)


def colorize(model: Model, line_rgba: np.ndarray, hint_rgba: np.ndarray | None = None,
             options: Options = Options(), progress: Progress | None = None,
             cancel: CancelToken | None = None, clear_rgba: np.ndarray | None = None,
             partial: bool = False) -> Result:
    """Colour one canvas. Raises InputError for unusable layers, Cancelled on cancel.

    ``clear_rgba``: keep-clear strokes (any colour on transparency); where they lie the hybrid
    finishing floods a key that paints nothing. ``partial``: the layers are a part of the
    canvas (a selection's bounds), so hints covering all of it are no sign of a wrong layer.
    """
    cancel = cancel or CancelToken()
    report = progress or (lambda fraction, message: None)
    seconds = {}
    clock = time.perf_counter()

    def step(name):
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now
        cancel.check()

    options.check()
    report(0.0, "reading layers")
    line_rgba, hint_rgba = check_layers(line_rgba, hint_rgba, partial)
    if hint_rgba is None and options.floods_first:
        # Without strokes the flood is an empty layer, and the network's guesses cost more
        # pixels that were right (white paper) than they get right: measured in the model card
        raise NoHints()
    clear_rgba = _strokes(clear_rgba, line_rgba, "keep-clear strokes", partial)
    line = line_levels(line_rgba)  # canvas size, uint8
    faint = 0 if hint_rgba is None else faint_strokes(alpha8(hint_rgba))
    step("read")
    if options.preview_side is not None and max(line.shape) > options.preview_side:
        result = _preview(model, line, hint_rgba, clear_rgba, options, seconds, report, cancel, partial)
        return replace(result, faint_strokes=faint)

    info = model.info
    line_width = estimate_line_width(line) if options.match_line_width else None
    plan = plan_work(line.shape, options.max_side, info.size_multiple, line_width, info.line_width)
    line_work = resize(line, *plan.work).astype(np.float32) * np.float32(1.0 / 255.0)
    hint8 = None if hint_rgba is None else np.ascontiguousarray(to_rgba8(hint_rgba, "hints"))
    hint_premultiplied = None if hint8 is None else premultiplied(hint8)
    # The hybrid finishing's hints, premultiplied at its size: the network's are made from them
    # when that is no smaller, a much cheaper resize than one more from the canvas.
    hint_finish = None
    if hint8 is not None and options.finishing == "hybrid":
        hint_finish = resize(hint_premultiplied, *finish_size(line.shape, line_width))
        if min(np.subtract(hint_finish.shape[:2], plan.work)) >= 0:
            hint_premultiplied = hint_finish
    hint_work = hint_from_premultiplied(hint_premultiplied, *plan.work)
    hint_work[:, :, 3] *= np.float32(options.hint_strength)
    np.clip(hint_work[:, :, 3], 0.0, 1.0, out=hint_work[:, :, 3])
    step("prepare")

    report(0.1, f"running {info.name} at {plan.padded[1]}x{plan.padded[0]} on {model.provider}")
    line_in = _pad(line_work, plan.padded, 1.0)[None, None]
    hint_in = _pad(hint_work, plan.padded, 0.0).transpose(2, 0, 1)[None]
    # (the same inputs again, as when only the output kind, palette or gaps changed: kept)
    color = RECENT.recall("network", (line_in, hint_in), (model.serial,),
                          lambda: model.run(line_in, hint_in, cancel))[0].transpose(1, 2, 0)
    color = np.ascontiguousarray(color[:plan.work[0], :plan.work[1]])
    step("network")

    report(0.8, "finishing")
    gap_size = None
    if options.finishing == "raw":
        rgba = upsample_colors(color, line_work, plan.canvas)
    else:
        clear8 = None if clear_rgba is None else to_rgba8(clear_rgba, "keep-clear strokes")
        rgba, gap_size = hybrid_finish(line, hint8, hint_finish, clear8, color, line_width, options)
    if options.with_lines:
        rgba = draw_lines(rgba, line)
    step("finish")
    report(1.0, "done")
    return Result(rgba=rgba, plan=plan, provider=model.provider, line_width=line_width,
                  seconds=seconds, gap_size=gap_size, network=color, faint_strokes=faint)


def _preview(model: Model, line: np.ndarray, hint_rgba: np.ndarray | None, clear_rgba: np.ndarray | None,
             options: Options, seconds: dict, report: Progress, cancel: CancelToken, partial: bool) -> Result:
    """``colorize`` on the layers shrunk to ``options.preview_side``, its result enlarged back to
    the canvas: what a live preview needs, at a small part of the cost. Widths in the result are
    canvas pixels again.

    The shrinking is by a whole factor, over the largest part of the canvas it divides (OpenCV's
    fast path; a general factor costs several times more on a page); the few rows and columns
    left over at the far edges repeat the colours beside them."""
    clock = time.perf_counter()
    canvas = line.shape
    factor = math.ceil(max(canvas) / options.preview_side)
    small = (canvas[0] // factor, canvas[1] // factor)
    covered = (small[0] * factor, small[1] * factor)

    def shrink(strokes):
        if strokes is None:
            return None
        return straight_rgba8(premultiplied(strokes[:covered[0], :covered[1]]), *small)
    small_line = shrink_lines(line[:covered[0], :covered[1]], *small)
    small_hint, small_clear = shrink(hint_rgba), shrink(clear_rgba)
    small_options, gap_size = replace(options, preview_side=None), None
    if options.finishing == "hybrid":
        # Gap sizes are canvas pixels, and Auto chooses as a full run does, on the canvas itself
        gap_size = options.close_gaps
        if gap_size is None:
            gap_size = auto_gap_size(canvas, estimate_line_width(line) if options.match_line_width else None)
        small_options = replace(small_options, close_gaps=round(gap_size / factor))
    seconds["prepare"] = time.perf_counter() - clock
    result = colorize(model, small_line, small_hint, small_options, report, cancel,
                      clear_rgba=small_clear, partial=partial)
    clock = time.perf_counter()
    rgba = np.empty(canvas + (4,), np.uint8)
    cv2.resize(result.rgba, covered[::-1], dst=rgba[:covered[0], :covered[1]],
               interpolation=cv2.INTER_NEAREST)
    rgba[covered[0]:] = rgba[covered[0] - 1]
    rgba[:, covered[1]:] = rgba[:, covered[1] - 1:covered[1]]
    seconds.update({name: seconds.get(name, 0.0) + value for name, value in result.seconds.items()})
    seconds["finish"] += time.perf_counter() - clock
    return Result(rgba=rgba, plan=result.plan, provider=result.provider,
                  line_width=None if result.line_width is None else result.line_width * factor,
                  seconds=seconds, gap_size=gap_size)

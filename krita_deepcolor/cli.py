"""Command line: colour PNG files with the same engine the Krita plugin uses.

    python -m krita_deepcolor colorize LINE.png [--hints HINTS.png] [--clear CLEAR.png]
        (-o OUT.png | --split DIR) [options]
    python -m krita_deepcolor batch FILE_OR_FOLDER... -o OUT_FOLDER [options]
    python -m krita_deepcolor models
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import numpy as np

from .engine import catalog
from .engine.errors import EngineError, InputError, NoHints
from .engine.flats import Flats, faint_note, read_palette, split_colours
from .engine.imageio import MAX_PIXELS, current_umask, read_icc_chunk, read_image, write_png
from .engine.pipeline import DEFAULT_MAX_SIDE, FINISHINGS, MAX_CLOSE_GAPS, Options, colorize
from .engine.runtime import DEVICES, CancelToken

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
HINT_MARKERS = (".hints", "_hints")  # LINE.png -> LINE.hints.png or LINE_hints.png
CLEAR_MARKERS = (".clear", "_clear")  # LINE.png -> LINE.clear.png or LINE_clear.png
HINT_RULE = ("hints for NAME.png are NAME.hints.png or NAME_hints.png in the same folder "
             "(PNG with transparency), keep-clear strokes NAME.clear.png or NAME_clear.png; "
             "files named so are never coloured themselves")
SPLIT_FILE = re.compile(r"^\d{2,3}-[a-z0-9-]+\.png$")  # what --split writes: 01-red.png, ...
INTERRUPT_POLL_S = 0.05  # how often the waiting main thread looks for a Ctrl-C


def _options_parser() -> argparse.ArgumentParser:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--model", help="model name (see 'models') or path to an .onnx file; "
                        "default: the shipped default model")
    shared.add_argument("--models-dir", action="append", default=[], metavar="DIR",
                        help="extra folder of .onnx models (repeatable)")
    shared.add_argument("--device", choices=DEVICES, default="auto",
                        help="auto tries CUDA, then CPU (default: auto)")
    shared.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE, metavar="N",
                        help=f"longest side of the image the network sees (default {DEFAULT_MAX_SIDE})")
    shared.add_argument("--hint-strength", type=float, default=1.0, metavar="S",
                        help="multiplies the hints' opacity (default 1.0)")
    shared.add_argument("--no-line-match", action="store_true",
                        help="do not rescale to match the model's training line width")
    shared.add_argument("--with-lines", action="store_true",
                        help="multiply the line art into the result")
    shared.add_argument("--finishing", choices=FINISHINGS, default="hybrid",
                        help="hybrid: flat colours, the hint strokes flooded over the line art as "
                        "Krita's Colorize Mask does, changed only where a learned decision is sure "
                        "(a leak through a gap, a region no stroke reaches) (default); raw: the "
                        "network's output")
    shared.add_argument("--shading", type=float, default=0.0, metavar="S",
                        help="hybrid only: add the network's light and dark, 0..1 (default 0)")
    shared.add_argument("--close-gaps", type=_gap_size, default=None, metavar="auto|N",
                        help="close gaps in the lines up to N pixels wide before flooding (0: close "
                        "none); auto (default) chooses from the line width and prints its choice")
    shared.add_argument("--palette", type=Path, metavar="FILE",
                        help="snap every flat colour to the nearest colour of this palette (GIMP "
                        ".gpl or Krita .kpl), so that pages coloured apart get the same colours")
    shared.add_argument("--max-pixels", type=_million_pixels, default=MAX_PIXELS, metavar="MILLIONS",
                        help=f"refuse images larger than this many million pixels, before decoding them "
                        f"(default {MAX_PIXELS // 1_000_000})")
    shared.add_argument("--split", type=Path, metavar="DIR",
                        help="also write one PNG per flat colour into DIR, named after its colour "
                        "or palette entry (batch: DIR/NAME/); earlier split PNGs there are replaced")
    return shared


def _million_pixels(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (millions of pixels)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value:g} is out of range: use a positive number of millions")
    return round(value * 1_000_000)


def _gap_size(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not auto or a number of pixels") from None
    if not 0 <= value <= MAX_CLOSE_GAPS:
        raise argparse.ArgumentTypeError(f"{value} is out of range: use 0 to {MAX_CLOSE_GAPS} pixels or auto")
    return value


def build_parser() -> argparse.ArgumentParser:
    shared = _options_parser()
    parser = argparse.ArgumentParser(prog="python -m krita_deepcolor",
                                     description="Colour line art with a deepcolor ONNX model.")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("colorize", parents=[shared], help="colour one line-art image")
    one.add_argument("line", type=Path, help="line art (PNG; transparent or opaque white paper)")
    one.add_argument("--hints", type=Path, help="hint strokes on transparency (PNG with alpha)")
    one.add_argument("--clear", type=Path, metavar="CLEAR.png",
                     help="keep-clear strokes on transparency (any colour): the regions they mark "
                     "stay transparent")
    one.add_argument("-o", "--output", type=Path,
                     help="result PNG (the result has transparency, so only .png is written); "
                     "optional with --split")
    many = commands.add_parser("batch", parents=[shared], help="colour many files or folders",
                               description="Colour every image given or found in the folders "
                               "given. " + HINT_RULE + ".")
    many.add_argument("inputs", nargs="+", type=Path, help="line-art files or folders")
    many.add_argument("-o", "--output", type=Path, required=True, help="folder for the results")
    listing = commands.add_parser("models", help="list the models found, with their metadata")
    listing.add_argument("--models-dir", action="append", default=[], metavar="DIR")
    return parser


def _is_hint_file(path: Path) -> bool:
    return path.stem.endswith(HINT_MARKERS + CLEAR_MARKERS)


def hints_for(line: Path, markers=HINT_MARKERS) -> Path | None:
    """The hint file (or with CLEAR_MARKERS the keep-clear file) that goes with ``line`` by the
    naming rule, if it exists."""
    for marker in markers:
        candidate = line.with_name(line.stem + marker + ".png")
        if candidate.is_file():
            return candidate
    return None


def _collect(inputs: list[Path]) -> list[Path]:
    found = []
    for item in inputs:
        if item.is_dir():
            found += sorted(p for p in item.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and not _is_hint_file(p))
        elif item.is_file():
            found.append(item)
        else:
            raise InputError(f"{item}: no such file or folder")
    return found


def _read_hints(path: Path, what: str = "hints", max_pixels: int = MAX_PIXELS):
    hints = read_image(path, max_pixels)
    if hints.ndim != 3 or hints.shape[2] not in (2, 4):
        raise InputError(f"{path}: {what} need an alpha channel (paint strokes on a transparent layer)")
    return hints


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # (RuntimeError: a symlink loop, before Python 3.13)
        raise InputError(f"{path}: cannot follow this path ({exc}): a symlink loop?") from None


def _refuse_overwrite(output: Path, *inputs: Path | None) -> None:
    for item in inputs:
        if item is not None and _resolved(output) == _resolved(item):
            raise InputError(f"{output}: output would overwrite an input; choose another path")


def _check_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and make sure a file can be written in it, before any work."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file, not a folder: {what} cannot go into it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"{folder}: cannot write {what} here: {exc.strerror or exc}") from None


def _check_output_file(output: Path) -> None:
    if output.is_dir():
        raise InputError(f"{output}: is a folder; name the result file, e.g. {output / 'result.png'}")
    if output.suffix.lower() != ".png":
        raise InputError(f"{output}: results are written as PNG (they have transparency): "
                         "name the output .png")
    _check_folder(output.parent, "the result")


def _options(args) -> Options:
    if args.split and (args.finishing != "hybrid" or args.shading or args.with_lines):
        raise InputError("--split needs flat colours: leave out --finishing raw, --shading and --with-lines")
    return Options(max_side=args.max_side, match_line_width=not args.no_line_match,
                   hint_strength=args.hint_strength, with_lines=args.with_lines,
                   finishing=args.finishing, shading=args.shading, close_gaps=args.close_gaps,
                   palette=read_palette(args.palette) if args.palette else None)


def _open(args):
    entry = catalog.resolve(args.model, args.models_dir)
    return catalog.open_model(entry, args.device)


def _read_layers(pool: ThreadPoolExecutor, line: Path, hints: Path | None, clear: Path | None,
                 max_pixels: int = MAX_PIXELS) -> list:
    """Futures of the line art, hints and keep-clear strokes of one picture (None where not
    given): the files decode at once, beside whatever else the pool runs (OpenCV and
    onnxruntime let go of Python's lock)."""
    return [pool.submit(read_image, line, max_pixels),
            hints and pool.submit(_read_hints, hints, "hints", max_pixels),
            clear and pool.submit(_read_hints, clear, "keep-clear strokes", max_pixels)]


def _colour_file(model, line: Path, hints: Path | None, clear: Path | None, output: Path | None,
                 split: Path | None, options: Options, layers: list, cancel: CancelToken | None = None):
    """Colour one picture whose files ``layers`` (``_read_layers``) are being read."""
    for target in (output, split):
        if target is not None:
            _refuse_overwrite(target, line, hints, clear, model.path)
    line_rgba, hint_rgba, clear_rgba = (layer and layer.result() for layer in layers)
    result = colorize(model, line_rgba, hint_rgba, options, clear_rgba=clear_rgba, cancel=cancel)
    if cancel is not None:
        cancel.check()  # (a Ctrl-C after the colouring: still nothing is written)
    # Colours are used as the files store them, so the result keeps the profile they were painted
    # in: the hints', else the line art's.
    profile = (read_icc_chunk(hints) if hints else None) or read_icc_chunk(line)
    flats = split_colours(result.rgba, options.palette) if split is not None else None
    if output is not None:
        write_png(output, result.rgba, profile)
    if flats is not None:
        write_split(split, flats, profile)
    return result


def split_file_name(number: int, name: str) -> str:
    """'03-skin-light.png' for the third colour, named 'Skin light' (or '#f0c8a0' -> 'f0c8a0')."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "colour"
    return f"{number + 1:02d}-{slug}.png"


def write_split(folder: Path, flats: Flats, profile: bytes | None = None) -> None:
    """One full-size PNG per colour into ``folder``, all or nothing: they are written into a
    fresh folder beside it first; the split PNGs of an earlier run there are replaced."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file, not a folder: the split PNGs cannot go into it")
    height, width = flats.index.shape
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".part", dir=folder.parent))
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the split PNGs here: {exc.strerror or exc}") from None
    try:
        for number, flat in enumerate(flats.flats):
            x, y, w, h = flat.rect
            canvas = np.zeros((height, width, 4), np.uint8)
            canvas[y:y + h, x:x + w] = flats.layer(number)
            write_png(staging / split_file_name(number, flat.name), canvas, profile)
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it private
        if not folder.exists():
            staging.rename(folder)
            return
        for old in folder.iterdir():
            if SPLIT_FILE.match(old.name):
                old.unlink()
        for new in staging.iterdir():
            new.replace(folder / new.name)
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the split PNGs: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _interruptible(pool: ThreadPoolExecutor, work, *args):
    """Run ``work(*args, cancel=token)`` on the pool and wait for it. The main thread only waits,
    so Ctrl-C arrives at once (a network run in the main thread holds it back until it ends);
    it cancels the token, which terminates a running onnxruntime session, and is raised again."""
    token, future = CancelToken(), None
    try:
        future = pool.submit(work, *args, cancel=token)
        while True:  # a wait with a timeout returns to Python, which then sees a Ctrl-C that the
            try:     # system handed to another thread
                return future.result(timeout=INTERRUPT_POLL_S)
            except FutureTimeout:
                continue
    except KeyboardInterrupt:
        token.cancel()
        if future is not None:
            wait([future])
        raise


def _report_gaps(result, options: Options) -> str:
    if result.gap_size is None:
        return ""
    if options.close_gaps is None:
        return f", gaps closed up to {result.gap_size} px (auto; --close-gaps N to change)"
    # (the size asked for: the closing itself works in whole pixels of its own size)
    return f", gaps closed up to {options.close_gaps} px" if options.close_gaps else ", no gaps closed"


def _progress_bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done == total or not sys.stderr.isatty() else "\r"
    sys.stderr.write(f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {label}"[:100] + end)
    sys.stderr.flush()


def cmd_colorize(args) -> int:
    if args.output is None and args.split is None:
        raise InputError("name the result: -o OUT.png, or --split DIR for one PNG per colour")
    if args.line.is_dir():
        raise InputError(f"{args.line}: is a folder; to colour every image in it use "
                         f"`python -m krita_deepcolor batch {args.line} -o OUT_FOLDER`")
    if args.output is not None:
        _check_output_file(args.output)
    options = _options(args)
    with ThreadPoolExecutor(max_workers=3) as pool:  # the model loads while the files decode
        loading = pool.submit(_open, args)
        layers = _read_layers(pool, args.line, args.hints, args.clear, args.max_pixels)
        model = loading.result()
        result = _interruptible(pool, _colour_file, model, args.line, args.hints, args.clear, args.output,
                                args.split, options, layers)
    height, width = result.plan.canvas
    written = " and ".join(str(path) for path in (args.output, args.split) if path is not None)
    print(f"{written}: {width}x{height}, model {model.info.name} on {result.provider}, "
          f"network at {result.plan.padded[1]}x{result.plan.padded[0]}, "
          f"{sum(result.seconds.values()):.2f} s{_report_gaps(result, options)}")
    if result.faint_strokes:
        print(f"note: {faint_note(result.faint_strokes)}", file=sys.stderr)
    return 0


def result_names(lines: list[Path]) -> dict[Path, str]:
    """The result name (without .png) of each input: its stem, or where two inputs share one
    (a.png and a.jpg, or the same name in two folders) stem and suffix, then a number."""
    stems: dict[str, int] = {}
    for line in lines:
        stems[line.stem] = stems.get(line.stem, 0) + 1
    names, taken = {}, set()
    for line in lines:
        name = line.stem if stems[line.stem] == 1 else f"{line.stem}-{line.suffix.lstrip('.').lower()}"
        base, number = name, 2
        while name in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add(name)
        names[line] = name
    return names


def cmd_batch(args) -> int:
    lines = _collect(args.inputs)
    if not lines:
        raise InputError("no images found in the inputs given")
    _check_folder(args.output, "the results")
    options = _options(args)
    model = _open(args)
    failures, notes, names = [], [], result_names(lines)
    with ThreadPoolExecutor(max_workers=3) as pool:
        for index, line in enumerate(lines):
            _progress_bar(index, len(lines), line.name)
            split = args.split / names[line] if args.split is not None else None
            hints, clear = hints_for(line), hints_for(line, CLEAR_MARKERS)
            try:
                layers = _read_layers(pool, line, hints, clear, args.max_pixels)
                result = _interruptible(pool, _colour_file, model, line, hints, clear,
                                        args.output / (names[line] + ".png"), split, options, layers)
            except EngineError as exc:
                failures.append(f"{line}: {_explain(exc)}")
                continue
            if result.faint_strokes:
                notes.append(f"{line}: {faint_note(result.faint_strokes)}")
    _progress_bar(len(lines), len(lines), "done")
    for line, name in names.items():
        if name != line.stem:
            print(f"{line}: written as {name}.png (another input is also named {line.stem})", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for failure in failures:
        print(f"skipped {failure}", file=sys.stderr)
    print(f"coloured {len(lines) - len(failures)} of {len(lines)} into {args.output}")
    return 1 if failures else 0


def cmd_models(args) -> int:
    entries = catalog.find_models(args.models_dir)
    if not entries:
        print("no models found (none is shipped yet; pass --models-dir or set "
              f"{catalog.USER_MODELS_ENV})")
        return 0
    for entry in entries:
        flags = " [default]" if entry.default else ""
        if entry.info is None:
            print(f"{entry.name}{flags}: unusable: {entry.problem}")
            continue
        info = entry.info
        print(f"{entry.name}{flags}  ({info.variant}, trained at {info.train_size}px, "
              f"size multiple {info.size_multiple}, hints {'yes' if info.uses_hints else 'no'})")
        print(f"    {info.description}")
        print(f"    file: {entry.path}")
        print(f"    data: {info.data}; licence: {info.license}")
    return 0


def _explain(exc: EngineError) -> str:
    """An engine error as one line, with the command line's own way out where there is one."""
    if isinstance(exc, NoHints):
        return f"{exc}; here: --hints STROKES.png (batch: NAME.hints.png beside NAME.png), or --finishing raw"
    return str(exc)


COMMANDS = {"colorize": cmd_colorize, "batch": cmd_batch, "models": cmd_models}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except EngineError as exc:
        print(f"error: {_explain(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written for the current image", file=sys.stderr)
        return 130

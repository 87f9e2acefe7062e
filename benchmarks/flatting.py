"""What each flatting option costs at 4096², beside the baseline (every option off). Prints tables.

    python -m benchmarks.flatting [--model NAME|PATH] [--repeats N] [--krita]

* engine (always): ``colorize`` and what the CLI or the plugin does around it, on the bundled
  example drawn at 4096² with lines that grow with the canvas ("thick", 27 px) and with 3 px
  lines ("thin": regions are found at 2048 px). Rows: the baseline (default options), one layer
  per colour (``split_colours`` after colouring), colouring a 1024² selection (the layers cut to
  its bounds, the result kept to it; and over an earlier result, which is read and written whole),
  a keep-clear layer (the strokes of one hint colour moved onto it), Close gaps 0 and 16 px,
  snapping to a palette (Krita's default palette, 48 colours), and all of them together.
* ``--krita``: the same options in real Krita (headless kritarunner, started by this script),
  through the plugin's own path, a Colorize click to the result in the document (reading the
  layers, the engine, writing the result layer or the group of colour layers), thick lines.
Medians of ``--repeats`` runs (3) after a warm-up; the machine's load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIDE = 4096
SELECTION = (1536, 1536, 1024, 1024)  # x, y, w, h: a panel in the middle of the page
KRITA_PALETTE = Path("/usr/share/krita/palettes/default.gpl")
ENGINE_ROWS = ("baseline", "one layer per colour", "selection 1024²", "selection over an earlier result",
               "keep-clear layer", "close gaps 0", "close gaps 16 px", "palette", "all of them")
KRITA_ROWS = ("baseline", "one layer per colour", "selection 1024²", "selection over an earlier result",
              "keep-clear layer", "close gaps 0", "close gaps 16 px", "palette")


def canvas(lines: str):
    """(line art, hints, keep-clear strokes) at 4096²: the example's hints of its first colour
    are the keep-clear strokes of the keep-clear rows."""
    from examples.make_example import SIZE, draw_hints, draw_line_art
    thickness = round(5 * SIDE / SIZE) if lines == "thick" else 3
    hint = cv2.resize(draw_hints(), (SIDE, SIDE), interpolation=cv2.INTER_NEAREST)
    first = hint[:, :, 3] > 0
    first &= (hint[:, :, :3] == hint[first][0, :3]).all(axis=2)
    clear = np.where(first[:, :, None], hint, 0).astype(np.uint8)
    return draw_line_art(SIDE, thickness), hint, clear


def palette():
    from krita_deepcolor.engine.flats import Palette, read_palette
    if KRITA_PALETTE.is_file():
        return read_palette(KRITA_PALETTE)
    colours = np.random.default_rng(0).integers(0, 256, (48, 3))
    return Palette("random", tuple((f"c{index}", tuple(int(v) for v in rgb))
                                   for index, rgb in enumerate(colours)))


# ---- engine

def engine_case(model, name: str, line, hint, clear, previous):
    """One run of ``name``: returns seconds."""
    from krita_deepcolor.engine import Options, colorize
    from krita_deepcolor.engine.flats import apply_selection, split_colours
    everything = name == "all of them"
    gaps = {"close gaps 0": 0, "close gaps 16 px": 16}.get(name, 0 if everything else None)
    options = Options(close_gaps=gaps, palette=palette() if name == "palette" or everything else None)
    keep_clear = name == "keep-clear layer" or everything
    hints = np.where(clear[:, :, 3:] > 0, 0, hint).astype(np.uint8) if keep_clear else hint
    selected = name.startswith("selection") or everything
    start = time.perf_counter()
    if selected:
        x, y, w, h = SELECTION
        part = np.s_[y:y + h, x:x + w]
        coverage = np.full((h, w), 255, np.uint8)
        result = colorize(model, line[part], hints[part], options,
                          clear_rgba=clear[part] if keep_clear else None, partial=True)
        if name == "selection over an earlier result" or everything:
            rgba = previous.copy()  # the plugin reads the earlier result whole, for this run alone
            rgba[part] = apply_selection(result.rgba, coverage, rgba[part])
        else:
            rgba = apply_selection(result.rgba, coverage)
    else:
        rgba = colorize(model, line, hints, options, clear_rgba=clear if keep_clear else None).rgba
    if name == "one layer per colour" or everything:
        flats = split_colours(rgba, options.palette)
        for number in range(len(flats.flats)):  # what writing them needs: each colour's pixels
            flats.layer(number)
    return time.perf_counter() - start


def engine_table(model_name: str | None, repeats: int) -> str:
    from krita_deepcolor.engine import catalog, colorize
    entry = catalog.resolve(model_name, [])
    model = catalog.open_model(entry, "cpu")
    rows = []
    for lines in ("thick", "thin"):
        line, hint, clear = canvas(lines)
        previous = colorize(model, line, hint).rgba
        base = None
        for name in ENGINE_ROWS:
            engine_case(model, name, line, hint, clear, previous)  # warm-up
            seconds = statistics.median(engine_case(model, name, line, hint, clear, previous)
                                        for _ in range(repeats))
            base = seconds if base is None else base
            rows.append((lines, name, seconds, seconds - base))
            print(f"# {lines} {name}: {seconds:.3f} s", file=sys.stderr, flush=True)
    head = (f"Engine at {SIDE}², model {entry.name}, medians of {repeats}, load average "
            f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}\n\n"
            "| lines | option | engine s | vs baseline s |\n|---|---|---|---|\n")
    return head + "\n".join(f"| {lines} | {name} | {seconds:.3f} | {extra:+.3f} |"
                            for lines, name, seconds, extra in rows)


# ---- inside Krita (kritarunner)

def krita_case(colorizer, name: str, line, hint, clear) -> float:
    """One Colorize click on a fresh document set up for ``name``; returns seconds to the result."""
    from krita import Krita, Selection
    from PyQt5.QtCore import QCoreApplication, QEventLoop

    from krita_deepcolor.pixels import write_rgba
    from krita_deepcolor.settings import Settings

    defaults = Settings()
    changes = {"output": "split" if name == "one layer per colour" else "under",
               "close_gaps": {"close gaps 0": 0, "close gaps 16 px": 16}.get(name, defaults.close_gaps),
               "palette": "Default" if name == "palette" else ""}
    colorizer.update_settings(**changes)
    doc = Krita.instance().createDocument(SIDE, SIDE, "flatting", "RGBA", "U8", "", 300.0)
    doc.setBatchmode(True)

    def wait():
        while colorizer.busy:
            QCoreApplication.processEvents(QEventLoop.AllEvents, 5)
            time.sleep(0.001)
    try:
        layers = [("Lines", line), ("Hints", hint)]
        layers += [("Clear", clear)] if name == "keep-clear layer" else []
        for layer_name, rgba in layers:
            node = doc.createNode(layer_name, "paintlayer")
            write_rgba(node, rgba)
            doc.rootNode().addChildNode(node, None)
        if name == "selection over an earlier result":
            colorizer.colorize(doc)
            wait()
        if name.startswith("selection"):
            selection = Selection()
            selection.select(*SELECTION, 255)
            doc.setSelection(selection)
        doc.waitForDone()
        start = time.perf_counter()
        if not colorizer.colorize(doc):
            raise RuntimeError(colorizer.status)
        wait()
        seconds = time.perf_counter() - start
        if not colorizer.status.startswith("Added"):
            raise RuntimeError(colorizer.status)
        return seconds
    finally:
        doc.setModified(False)
        doc.close()


def krita_main(args):
    """kritarunner entry (``-f krita_main -- REPEATS``): prints the Krita table; exits with os._exit."""
    rc = 0
    try:
        from krita import Krita

        from krita_deepcolor.colorizer import Colorizer
        from krita_deepcolor.engine import catalog
        from krita_deepcolor.settings import Settings
        repeats = int(args[0]) if args else 3
        default = next(entry for entry in catalog.find_models() if entry.default)
        Settings(model=default.name).save()
        colorizer = Colorizer()
        line, hint, clear = canvas("thick")
        rows, base = [], None
        for name in KRITA_ROWS:
            krita_case(colorizer, name, line, hint, clear)  # warm-up (and the model's first load)
            seconds = statistics.median(krita_case(colorizer, name, line, hint, clear)
                                        for _ in range(repeats))
            base = seconds if base is None else base
            rows.append((name, seconds, seconds - base))
            print(f"# krita {name}: {seconds:.3f} s", flush=True)
        print(f"\nKrita {Krita.instance().version()} (kritarunner), {SIDE}², thick lines, model "
              f"{default.name}, medians of {repeats}, load average "
              f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
        print("| option | Colorize to result s | vs baseline s |\n|---|---|---|")
        for name, seconds, extra in rows:
            print(f"| {name} | {seconds:.3f} | {extra:+.3f} |")
    except BaseException:  # noqa: BLE001 - the exit code must say so
        import traceback
        traceback.print_exc()
        rc = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def run_in_krita(repeats: int) -> int:
    """Start kritarunner on ``krita_main`` with a throw-away profile (what tests/krita/run.sh sets up)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="krita-deepcolor-flatting.") as profile:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1",
                   XDG_CONFIG_HOME=f"{profile}/config", XDG_DATA_HOME=f"{profile}/data",
                   PYTHONPATH=f"{ROOT / '.kdeps'}:{ROOT}")
        env.pop("KRITA_DEEPCOLOR_MODELS", None)  # the shipped models
        command = ["kritarunner", "-s", "benchmarks.flatting", "-f", "krita_main", "--", str(repeats)]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    print("\n".join(line for line in done.stdout.splitlines() if line.startswith(("|", "Krita", "#"))
                    or not line.strip()))
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr)
    return done.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flatting",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model name or .onnx path (default: the shipped default model)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per case, median shown (default 3)")
    parser.add_argument("--krita", action="store_true", help="also measure inside real Krita (kritarunner)")
    args = parser.parse_args(argv)
    print(engine_table(args.model, args.repeats))
    if args.krita:
        print()
        return run_in_krita(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())

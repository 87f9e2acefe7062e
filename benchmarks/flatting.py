"""What each flatting option costs at 4096², beside the baseline (every option off). Prints tables.

    python -m benchmarks.flatting [--model NAME|PATH] [--repeats N] [--krita]

* engine (always): ``colorize`` and what the CLI or the plugin does around it, on the bundled
  example drawn at 4096² with lines that grow with the canvas ("thick", 27 px) and with 3 px
  lines ("thin": regions are found at 2048 px). Rows: the baseline (default options), one layer
  per colour (``split_colours`` after colouring), colouring a 1024² selection (the layers cut to
  its bounds, the result kept to it; and over an earlier result, which is read and written whole),
  a keep-clear layer (the strokes of one hint colour moved onto it), Close gaps 0 and 16 px,
  snapping to a palette (Krita's default palette, 120 colours), and all of them together.
* ``--krita``: the same options in real Krita (headless kritarunner, started by this script),
  through the plugin's own path, a Colorize click to the result in the document (reading the
  layers, the engine, writing the result layer or the group of colour layers), thick lines.
``--repeats`` rounds (5) over all the options after a warm-up each: the best and the median
run, and the best against the baseline's best (other jobs on the machine only add time); the
load average is printed too.
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
    from benchmarks.drawing import SIZE, draw_hints, draw_line_art
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


def _round_robin(cases, run, repeats: int) -> dict:
    """{case: [seconds, ...]}: a warm-up each, then ``repeats`` rounds over all the cases, so that
    the machine's other jobs weigh on every case alike."""
    for case in cases:
        run(case)
    times = {case: [] for case in cases}
    for number in range(repeats):
        for case in cases:
            times[case].append(run(case))
        print(f"# round {number + 1}/{repeats} done", file=sys.stderr, flush=True)
    return times


def engine_table(model_name: str | None, repeats: int) -> str:
    from krita_deepcolor.engine import catalog, colorize
    entry = catalog.resolve(model_name, [])
    model = catalog.open_model(entry, "cpu")
    rows = []
    for lines in ("thick", "thin"):
        line, hint, clear = canvas(lines)
        previous = colorize(model, line, hint).rgba
        layers = (line, hint, clear, previous)
        times = _round_robin(ENGINE_ROWS, lambda name, layers=layers: engine_case(model, name, *layers),
                             repeats)
        rows += [(f"{lines} | {name}", times[name], times["baseline"]) for name in ENGINE_ROWS]
    return (f"Engine at {SIDE}², model {entry.name}, {repeats} runs, load average {_load()}\n\n"
            + _table(("lines", "option"), "engine s", rows))


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _table(keys, what: str, rows) -> str:
    """Best and median of the runs, and what the option adds to the baseline's best (other jobs on
    the machine only ever add time, so the best run is the closest to the option's own cost)."""
    lines = ["| " + " | ".join(keys) + f" | {what}, best | median | vs baseline, best |",
             "|" + "---|" * (len(keys) + 3)]
    for key, times, base in rows:
        lines.append(f"| {key} | {min(times):.3f} | {statistics.median(times):.3f} | "
                     f"{min(times) - min(base):+.3f} |")
    return "\n".join(lines)


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
    """kritarunner entry (``-f krita_main -- REPEATS``): prints the Krita table."""
    from benchmarks.krita_speed import exit_after
    exit_after(_krita_table, args)


def _krita_table(args):
    from krita import Krita

    from krita_deepcolor.colorizer import Colorizer
    from krita_deepcolor.engine import catalog
    from krita_deepcolor.settings import Settings
    repeats = int(args[0]) if args else 5
    default = next(entry for entry in catalog.find_models() if entry.default)
    Settings(model=default.name).save()
    colorizer = Colorizer()
    line, hint, clear = canvas("thick")
    times = _round_robin(KRITA_ROWS, lambda name: krita_case(colorizer, name, line, hint, clear), repeats)
    print(f"\nKrita {Krita.instance().version()} (kritarunner), {SIDE}², thick lines, model "
          f"{default.name}, {repeats} runs, load average {_load()}\n")
    print(_table(("option",), "Colorize to result s", [(name, times[name], times["baseline"])
                                                         for name in KRITA_ROWS]))


def run_in_krita(repeats: int) -> int:
    """Start kritarunner on ``krita_main`` with a throw-away profile (what tests/krita/run.sh sets up)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="krita-deepcolor-flatting.") as profile:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1",
                   XDG_CONFIG_HOME=f"{profile}/config", XDG_DATA_HOME=f"{profile}/data",
                   PYTHONPATH=f"{ROOT / '.kdeps'}:{ROOT}")
        env.pop("KRITA_DEEPCOLOR_MODELS", None)  # the shipped models
        # Krita's Python finds its home from PATH: a pyenv (or venv) python first would hide PyQt5
        env["PATH"] = ":".join(part for part in env.get("PATH", "").split(":")
                               if "pyenv" not in part and "venv" not in part)
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
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument("--krita", action="store_true", help="also measure inside real Krita (kritarunner)")
    args = parser.parse_args(argv)
    print(engine_table(args.model, args.repeats))
    if args.krita:
        print()
        return run_in_krita(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())

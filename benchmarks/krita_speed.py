"""Colorize inside real Krita, end to end through the plugin's own code path. Prints one table.

    bash benchmarks/krita_speed.sh [--quick] [--sizes 2048² 4096² 7000x10000] [--save-baseline] [--repeats N]
    bash benchmarks/krita_speed.sh --cancel [--sizes 4096²]

(the wrapper runs ``kritarunner -s benchmarks.krita_speed -f main -- ARGS`` with a reused
profile). Each run makes a fresh RGBA/U8 document with the bundled example's line art ("Lines")
and hint strokes ("Hints") drawn at the canvas size, then clicks Colorize the way the docker does
(``Colorizer.colorize``: read the layers on the main thread, the engine on the worker thread,
the hand-off back to the main thread, the result layer written under the line art) and waits
until the result is in the document. Canvases: 2048², 4096² and a 600 dpi comic page 7000x10000
(the 7000² drawing, continued below with its top part), lines that grow with the canvas
("thick": 5 px at 768) or 3 px at every size ("thin", the slow case).

Steps, in seconds, as the plugin reports them (``Colorizer.delivered``):
* read: reading the layers (their projections, checks), main thread
* engine read / prepare / network / finish: the engine's own ``Result.seconds``, worker thread
* hand-off: from the engine's return on the worker to the main thread taking the result
* write: the result layer written, inserted, old results removed
* end to end: from the click to the result layer in the document
Live preview ("live preview", thick lines): with the preview on and a first preview shown, a new
hint stroke is drawn, and the clock runs from the stroke's end (``Colorizer.stroke_ended``, what
releasing the pen calls) to the preview layer repainted and composited; write is the preview
layer repainted. One document, a new stroke each run.
Memory: Krita's peak resident set (VmHWM) during the run, and what the run added over Krita's
resident set just before it (the document with its layers already open); the peak is reset
before every run through /proc/self/clear_refs.
The first colouring after Krita starts is reported apart: it loads the model (with the sha256
check of a shipped model); later runs take the model from the plugin's cache.
``--cancel`` measures Cancel instead, clicked as the network step and as the finishing step
start: the seconds from the click to "Cancelled" in the status line, beside the seconds until
the colouring's thread stopped working (what a Cancel waiting for its work would take).
Medians of ``--repeats`` runs (3; ``--quick``: 2048² only, 1 run). With ``--save-baseline`` the
numbers are stored in ``benchmarks/krita_speed_baseline.json``; otherwise every cell shows
``now (baseline)`` where the baseline has that case.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("krita_speed_baseline.json")
SIZES = {"2048²": (2048, 2048), "4096²": (4096, 4096), "7000x10000": (7000, 10000)}  # width, height
SIZES_NAMES = {size: name for name, size in SIZES.items()}
LINES = ("thick", "thin")
FIRST = "first run"  # the "lines" of the row for the first colouring after Krita starts
PREVIEW = "live preview"  # the "lines" of the live preview's row
STEPS = ("read", "engine read", "prepare", "network", "finish", "hand-off", "write")
COLUMNS = (("end to end s", "total"),) + tuple((f"{step} s", step) for step in STEPS) + (
    ("model load s", "model load"), ("Krita peak MB", "peak_mb"), ("plugin adds MB", "added_mb"))


# ---- canvases

def canvas(width: int, height: int, lines: str) -> tuple[np.ndarray, np.ndarray]:
    """Line art and hints (RGBA uint8) of the bundled example at this canvas size."""
    from benchmarks.drawing import SIZE, draw_hints, draw_line_art
    side = min(width, height)
    thickness = max(1, round(5 * side / SIZE)) if lines == "thick" else 3
    line = draw_line_art(side, thickness)
    hint = cv2.resize(draw_hints(), (side, side), interpolation=cv2.INTER_NEAREST)
    return _extend(line, width, height), _extend(hint, width, height)


def _extend(square: np.ndarray, width: int, height: int) -> np.ndarray:
    """A square drawing continued to the right or below with its own beginning."""
    side = square.shape[0]
    if (width, height) == (side, side):
        return square
    out = np.zeros((height, width, 4), np.uint8)
    for top in range(0, height, side):
        for left in range(0, width, side):
            part = square[:height - top, :width - left]
            out[top:top + part.shape[0], left:left + part.shape[1]] = part
    return out


# ---- memory

def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# ---- one run

def _add_layers(doc, width: int, height: int, lines: str) -> dict:
    """The benchmark's "Lines" and "Hints" layers, on top of ``doc``; {name: layer}."""
    from krita_deepcolor.pixels import write_rgba

    layers = {}
    for name, rgba in zip(("Lines", "Hints"), canvas(width, height, lines), strict=True):
        layers[name] = doc.createNode(name, "paintlayer")
        write_rgba(layers[name], rgba)
        doc.rootNode().addChildNode(layers[name], None)
    return layers


class Deliveries:
    """Collects the Colorizer's ``delivered`` reports (the plugin's own timings)."""

    def __init__(self, colorizer):
        self.colorizer, self.received = colorizer, []
        colorizer.delivered.connect(self.received.append)

    def close(self):
        self.colorizer.delivered.disconnect(self.received.append)


def colour_once(width: int, height: int, lines: str) -> dict:
    """One Colorize click on a fresh document; returns seconds per step and memory."""
    from krita import Krita

    from krita_deepcolor.engine.reuse import RECENT

    doc = Krita.instance().createDocument(width, height, "krita-speed", "RGBA", "U8", "", 300.0)
    doc.setBatchmode(True)
    colorizer = _COLORIZER["instance"]
    deliveries = Deliveries(colorizer)
    try:
        _add_layers(doc, width, height, lines)
        doc.waitForDone()
        RECENT.clear()  # a first colouring: nothing kept from the same layers coloured before
        gc.collect()
        _wait_for_krita_idle()
        rss_before = _status_kb("VmRSS")
        peak_reset = _reset_peak()
        start = time.perf_counter()
        if not colorizer.colorize(doc):
            raise RuntimeError(f"Colorize refused: {colorizer.status}")
        _wait_until(lambda: deliveries.received, 600)
        end = time.perf_counter()
        peak = _status_kb("VmHWM")
        delivery = deliveries.received[0]
        if delivery.result is None or not delivery.message.startswith("Added"):
            raise RuntimeError(f"Colorize failed: {delivery.message}")
        row = _row(delivery, start, end)
        row.update(peak_mb=peak / 1024 if peak_reset else float("nan"),
                   added_mb=(peak - rss_before) / 1024 if peak_reset else float("nan"))
        return row
    finally:
        deliveries.close()
        doc.setModified(False)
        doc.close()
        del doc
        gc.collect()


def _row(delivery, start: float, end: float) -> dict:
    """Seconds per step of one run, from the plugin's report and the engine's Result; the total
    from the click (``start``) to ``end`` (the layer in the document, or on screen)."""
    result, own = delivery.result, delivery.seconds
    return {"total": end - start,
            "read": own["read"],
            "engine read": result.seconds.get("read", 0.0),
            "prepare": result.seconds.get("prepare", 0.0),
            "network": result.seconds.get("network", 0.0),
            "finish": result.seconds.get("finish", 0.0),
            "hand-off": own["hand-off"],
            "write": own["write"],
            "model load": own["model load"],
            "network at": f"{result.plan.padded[1]}x{result.plan.padded[0]}"}


def preview_runs(width: int, height: int, repeats: int, report=print) -> list[dict]:
    """Live previews of one document after ``repeats`` new strokes; seconds and memory of each."""
    from krita import Krita

    doc = Krita.instance().createDocument(width, height, "krita-speed-preview", "RGBA", "U8", "", 300.0)
    doc.setBatchmode(True)
    colorizer = _COLORIZER["instance"]
    deliveries = Deliveries(colorizer)
    quiet = colorizer._preview.quiet_s
    rows = []
    try:
        layers = _add_layers(doc, width, height, "thick")
        doc.waitForDone()
        colorizer._preview.quiet_s = 1e9  # only a stroke's end starts a preview
        colorizer.update_settings(live_preview=True)

        def preview_after(stroke) -> dict:
            deliveries.received.clear()
            if stroke is not None:
                x, y, colour = stroke
                side = max(8, min(width, height) // 40)  # a dab of a brush, 100 px at 4096²
                layers["Hints"].setPixelData(bytes([*colour[::-1], 255]) * (side * side), x, y, side, side)
                doc.waitForDone()
            _wait_for_krita_idle()
            rss_before = _status_kb("VmRSS")
            peak_reset = _reset_peak()
            start = time.perf_counter()
            if not colorizer.stroke_ended(doc):
                raise RuntimeError(f"no preview started: {colorizer.status}")
            _wait_until(lambda: deliveries.received, 600)
            doc.waitForDone()  # the repainted layer composited: on screen
            end = time.perf_counter()
            peak = _status_kb("VmHWM")
            delivery = deliveries.received[0]
            if delivery.result is None or not delivery.message.startswith("Preview updated"):
                raise RuntimeError(f"preview failed: {delivery.message}")
            row = _row(delivery, start, end)
            row.update(peak_mb=peak / 1024 if peak_reset else float("nan"),
                       added_mb=(peak - rss_before) / 1024 if peak_reset else float("nan"))
            return row

        preview_after(None)  # the preview layer is added: later strokes repaint it
        colours = ((230, 60, 50), (60, 110, 220), (250, 200, 40), (90, 180, 80))
        for number in range(repeats):
            where = (width * (3 + number) // 10, height * 6 // 10, colours[number % len(colours)])
            rows.append(preview_after(where))
            report(f"# {SIZES_NAMES[(width, height)]} live preview run {number + 1}/{repeats}: "
                   f"{rows[-1]['total']:.3f} s")
        return rows
    finally:
        colorizer.update_settings(live_preview=False)
        colorizer._preview.quiet_s = quiet
        deliveries.close()
        doc.setModified(False)
        doc.close()
        gc.collect()


QUIET_CPU = 0.05  # Krita counts as idle below this share of one core


CANCEL_STEPS = {"network": "running", "finishing": "finishing"}  # step: the progress text that starts it
CANCELLED = "Cancelled: nothing was added."


def cancel_once(width: int, height: int, step: str) -> dict:
    """Click Colorize, then Cancel as soon as ``step`` starts; seconds from the Cancel click to
    "Cancelled" in the status line, and to the colouring's thread having stopped working (which
    is as long as Cancel took while it waited for the thread)."""
    import threading

    from krita import Krita

    from krita_deepcolor.jobs import WORKER_THREAD

    doc = Krita.instance().createDocument(width, height, "krita-cancel", "RGBA", "U8", "", 300.0)
    doc.setBatchmode(True)
    colorizer = _COLORIZER["instance"]
    try:
        _add_layers(doc, width, height, "thick")
        doc.waitForDone()
        _wait_for_krita_idle()
        if not colorizer.colorize(doc):
            raise RuntimeError(f"Colorize refused: {colorizer.status}")
        _wait_until(lambda: CANCEL_STEPS[step] in colorizer.status, 600)
        clicked = time.perf_counter()
        colorizer.cancel()
        _wait_until(lambda: colorizer.status == CANCELLED, 600)
        shown = time.perf_counter()
        _wait_until(lambda: not any(thread.name == WORKER_THREAD for thread in threading.enumerate()), 600)
        stopped = time.perf_counter()
        if len(doc.rootNode().childNodes()) != 3:
            raise RuntimeError("a cancelled colouring added a layer")
        return {"shown": shown - clicked, "stopped": stopped - clicked}
    finally:
        doc.setModified(False)
        doc.close()
        del doc
        gc.collect()


def measure_cancel(sizes, repeats: int, report=print) -> dict:
    """{"<size> <step>": median seconds} for Cancel clicked in each step of the colouring."""
    from krita_deepcolor.colorizer import Colorizer
    from krita_deepcolor.engine import catalog
    from krita_deepcolor.settings import Settings

    default = next(entry for entry in catalog.find_models() if entry.default)
    Settings(model=default.name).save()
    _COLORIZER["instance"] = colorizer = Colorizer()
    rows = {}
    try:
        colour_once(*SIZES[sizes[0]], "thick")  # the model loaded, as after any first colouring
        for size in sizes:
            for step in CANCEL_STEPS:
                runs = [cancel_once(*SIZES[size], step) for _ in range(repeats)]
                rows[f"{size} {step}"] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                report(f"# cancel in {size} {step}: {rows[f'{size} {step}']}")
    finally:
        colorizer.deleteLater()
        _COLORIZER.clear()
    return {"model": default.name, "rows": rows}


def cancel_table(measured: dict) -> str:
    lines = ["| canvas and step cancelled in | click to 'Cancelled' s | click to the work stopped s "
             "(a Cancel that waits for the work) |", "|---|---|---|"]
    for key, row in measured["rows"].items():
        lines.append(f"| {key} | {row['shown']:.3f} | {row['stopped']:.3f} |")
    return "\n".join(lines)


def _run_qt(until, timeout: float) -> bool:
    """Run Qt's event loop, blocked in Qt between events as Krita's own loop is (no Python spins
    on the main thread beside the worker), until ``until()`` or ``timeout`` s; whether ``until()``."""
    from PyQt5.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    deadline = time.monotonic() + timeout

    def check():
        if until() or time.monotonic() > deadline:
            loop.quit()
    timer = QTimer(interval=2)  # the worker's report also wakes the loop: this only bounds the wait
    timer.timeout.connect(check)
    timer.start()
    if not until():
        loop.exec_()
    timer.stop()
    return until()


def _wait_for_krita_idle(timeout: float = 30.0) -> None:
    """Let Krita's event loop run until Krita itself stops working: a document that changed gets
    work done on it when the event loop is idle (overview and thumbnails), which would otherwise
    run beside the colouring and slow it; after a user's stroke it has long been done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cpu, start = sum(os.times()[:2]), time.monotonic()
        _run_qt(lambda: False, 0.1)
        if sum(os.times()[:2]) - cpu < QUIET_CPU * (time.monotonic() - start):
            return
    raise RuntimeError(f"Krita kept working for {timeout} s")


def _wait_until(predicate, timeout: float) -> None:
    if not _run_qt(predicate, timeout):
        raise RuntimeError(f"no result after {timeout} s")


_COLORIZER = {}


def _median_row(rows: list[dict]) -> dict:
    out = {key: statistics.median(row[key] for row in rows) for key in rows[0] if key != "network at"}
    out["network at"] = rows[0]["network at"]
    out["runs"] = len(rows)
    return out


def measure(sizes, repeats: int, report=print) -> dict:
    """{"first run": row, "<size> <lines>": median row} for every size and kind of lines."""
    from krita_deepcolor.colorizer import Colorizer
    from krita_deepcolor.engine import catalog
    from krita_deepcolor.settings import Settings

    default = next((entry for entry in catalog.find_models() if entry.default), None)
    if default is None or default.info is None:
        raise RuntimeError("no shipped default model: the benchmark runs from the repository")
    Settings(model=default.name).save()
    colorizer = Colorizer()
    _COLORIZER["instance"] = colorizer
    rows = {}
    try:
        first_size = next(iter(sizes))
        report(f"# first run: {first_size} thick, model {default.name}")
        rows[FIRST] = dict(colour_once(*SIZES[first_size], "thick"), runs=1, canvas=first_size)
        for size in sizes:
            for lines in LINES:
                runs = []
                for number in range(repeats):
                    runs.append(colour_once(*SIZES[size], lines))
                    report(f"# {size} {lines} run {number + 1}/{repeats}: {runs[-1]['total']:.3f} s")
                rows[f"{size} {lines}"] = dict(_median_row(runs), canvas=size, lines=lines)
            runs = preview_runs(*SIZES[size], repeats, report)
            rows[f"{size} {PREVIEW}"] = dict(_median_row(runs), canvas=size, lines=PREVIEW)
    finally:
        colorizer.deleteLater()
        _COLORIZER.clear()
    return {"model": default.name, "rows": rows}


# ---- table

def _cell(value, base, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:
        return "n/a"
    text = f"{value:.{digits}f}"
    if base is not None and not (isinstance(base, float) and base != base):
        text += f" ({base:.{digits}f})"
    return text


def table(measured: dict, baseline: dict | None) -> str:
    base_rows = (baseline or {}).get("rows", {})
    head = ["canvas", "lines", "network at"] + [name for name, _ in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, row in measured["rows"].items():
        base = base_rows.get(key)
        canvas_name = row["canvas"]
        kind = row.get("lines", FIRST + " (thick)")
        cells = [canvas_name, kind, row["network at"]]
        cells += [_cell(row.get(field), base.get(field) if base else None, 0 if field.endswith("_mb") else 3)
                  for _, field in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(args: list[str], out=sys.stdout) -> tuple[dict, str]:
    parser = argparse.ArgumentParser(prog="benchmarks/krita_speed.sh", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2048² only, 1 run (a smoke test)")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), help="canvases to measure (default all)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per case, median shown (default 3)")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help="stored numbers to compare with")
    parser.add_argument("--save-baseline", action="store_true", help="store this run as the baseline")
    parser.add_argument("--json", type=Path, help="also write this run's numbers here")
    parser.add_argument("--cancel", action="store_true",
                        help="measure Cancel instead: clicked in the network and in the finishing step "
                        "(default canvas 4096²)")
    options = parser.parse_args(args)
    sizes = ["2048²"] if options.quick else options.sizes or list(SIZES)
    repeats = options.repeats or (1 if options.quick else 3)

    def report(message):
        print(message, file=out, flush=True)

    if options.cancel:
        measured = measure_cancel(options.sizes or ["4096²"], repeats, report)
        text = cancel_table(measured)
        report(f"\nKrita {_krita_version()}, model {measured['model']}, medians of {repeats}, "
               f"load average {load()}\n\n{text}")
        return measured, text

    load_before = load()
    measured = measure(sizes, repeats, report)
    measured.update(load_before=load_before, load_after=load(), repeats=repeats,
                    date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    machine=f"{platform.node()} {os.cpu_count()} CPUs", code=_code_version())
    baseline = None
    if options.baseline.is_file() and not options.save_baseline:
        baseline = json.loads(options.baseline.read_text())
    text = table(measured, baseline)
    report("")
    report(f"Krita {_krita_version()}, model {measured['model']}, medians of {repeats}, "
           f"load average (1, 5, 15 min) before {load_before}, after {measured['load_after']}")
    if baseline:
        report(f"cells: now (baseline of {baseline.get('date', '?')}, load before "
               f"{baseline.get('load_before', '?')})")
    report("")
    report(text)
    if options.save_baseline:
        options.baseline.write_text(json.dumps(measured, indent=1, ensure_ascii=False) + "\n")
        report(f"\nbaseline stored in {options.baseline}")
    if options.json:
        options.json.write_text(json.dumps(measured, indent=1, ensure_ascii=False) + "\n")
    return measured, text


def _code_version() -> str:
    """The commit measured, and the plugin files changed since (uncommitted work is measured too)."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "krita_deepcolor"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def _krita_version() -> str:
    from krita import Krita
    return Krita.instance().version()


def main(args):
    """kritarunner entry: ``-f main -- ARGS``."""
    exit_after(run, args)


def exit_after(job, args):
    """Run ``job(list(args))`` and leave with its outcome as the exit code (0, 1 on an exception,
    a SystemExit's code): kritarunner itself always exits 0."""
    rc = 0
    try:
        job(list(args))
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # noqa: BLE001 - the exit code must say so
        import traceback
        traceback.print_exc()
        rc = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)

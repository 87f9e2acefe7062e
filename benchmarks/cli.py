"""The command line at a canvas size, process start and PNG files included, beside the least any
such tool must do. Prints one table.

    python -m benchmarks.cli [--size 4096] [--repeats 3]

* CLI: ``python -m krita_deepcolor colorize LINE.png --hints HINTS.png -o OUT.png`` with the
  shipped default model and default options, in a fresh process each time.
* floor: a fresh process that only imports numpy, OpenCV and onnxruntime, reads the same two
  PNGs and writes one PNG of the canvas size (the line art): what is left when the colouring
  itself costs nothing.
The two alternate run by run (so that a change of load hits both), after one warm-up each; the
table shows medians and the CLI's ratio to the floor. The PNGs are the bundled example drawn at
the canvas size with lines that grow with it, as in ``benchmarks.speed``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]

FLOOR = """
import sys
import cv2, numpy, onnxruntime
line = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
hints = cv2.imread(sys.argv[2], cv2.IMREAD_UNCHANGED)
cv2.imwrite(sys.argv[3], line)
"""


def _write_example(folder: Path, size: int) -> tuple[Path, Path]:
    from benchmarks.speed import _canvas
    line, hint = _canvas(size, "scaled")
    paths = folder / "line.png", folder / "line.hints.png"
    for path, rgba in zip(paths, (line, hint), strict=True):
        cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    return paths


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - start


def measure(size: int, repeats: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="deepcolor-cli-bench-") as temp:
        folder = Path(temp)
        line, hints = _write_example(folder, size)
        commands = {
            "CLI": [sys.executable, "-m", "krita_deepcolor", "colorize", str(line), "--hints", str(hints),
                    "-o", str(folder / "out.png")],
            "floor": [sys.executable, "-c", FLOOR, str(line), str(hints), str(folder / "floor.png")],
        }
        for command in commands.values():  # warm-up: files in the page cache, .pyc files written
            _timed(command)
        times = {name: [] for name in commands}
        for _ in range(repeats):
            for name, command in commands.items():
                times[name].append(_timed(command))
        return times


def table(size: int, times: dict[str, list[float]]) -> str:
    floor = statistics.median(times["floor"])
    lines = ["| canvas | process | median s | runs s | vs floor |", "|---|---|---|---|---|"]
    for name, runs in times.items():
        median = statistics.median(runs)
        lines.append(f"| {size}² | {name} | {median:.3f} | {', '.join(f'{run:.3f}' for run in runs)} | "
                     f"{median / floor:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=4096, help="canvas side in pixels (default 4096)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, alternating (default 3)")
    args = parser.parse_args(argv)
    times = measure(args.size, args.repeats)
    print(f"{args.repeats} runs each, alternating; load average before and after: see `uptime`")
    print(table(args.size, times))
    return 0


if __name__ == "__main__":
    sys.exit(main())

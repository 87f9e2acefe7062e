"""Writes the bundled example (a cat holding a flower) and its colour hints, drawn by
``benchmarks/drawing.py``.

Run from the repository root: python -m examples.make_example
"""

from pathlib import Path

from benchmarks.drawing import draw_hints, draw_line_art
from krita_deepcolor.engine.imageio import write_png

HERE = Path(__file__).parent


if __name__ == "__main__":
    write_png(HERE / "cat.png", draw_line_art())
    write_png(HERE / "cat.hints.png", draw_hints())
    print("wrote", HERE / "cat.png", HERE / "cat.hints.png")

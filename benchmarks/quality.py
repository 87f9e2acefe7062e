"""Colouring quality on the validation split, side by side with baselines. Prints one table.

    python -m benchmarks.quality --data ~/.cache/krita-deepcolor/dataset [--model NAME|PATH ...]

For every validation pair (true line layer + true colours) and every hint regime (dense: a short
stroke in every region of the figure, and in the figure's part of a region its open outline
shares with the background; sparse: in the 3 largest of those; none), each method colours the
line art:
* ``empty``: a transparent layer (white paper);
* ``flood``: a watershed flood from the hint strokes, cut by the line art (Krita's Colorize Mask);
* ``flood+border``: the same with a transparent key along the canvas border;
* the models given, through the engine exactly as users run them (ONNX, hybrid finishing).
Scores are taken on non-ink pixels of the result composited over white against the truth over
white: PSNR, the share of pixels within Delta-E76 10 of the truth, and that share inside regions
that got a hint and inside coloured regions (in the figure) that got none. Line art is scored
as drawn (thin) and with every line 4 px thicker (thick).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from krita_deepcolor.engine import Options, catalog, colorize
from krita_deepcolor.engine.imageio import read_image
from krita_deepcolor.engine.imaging import to_uint8
from krita_deepcolor.engine.regions import watershed_flood

REGIMES = {"dense": "all", "sparse": 3, "none": 0}
DELTA_E = 10.0


def over_white(rgba: np.ndarray) -> np.ndarray:
    """uint8 or float RGBA -> float32 RGB in [0, 1] composited over white."""
    unit = rgba.astype(np.float32) / (255.0 if rgba.dtype == np.uint8 else 1.0)
    alpha = unit[:, :, 3:4]
    return unit[:, :, :3] * alpha + (1.0 - alpha)


def lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32), cv2.COLOR_RGB2Lab)


def flood(line8: np.ndarray, hint8: np.ndarray, border_key: bool) -> np.ndarray:
    """The baseline: the engine's watershed flood from every stroke, as an RGBA uint8 layer."""
    seeds = hint8[:, :, 3] >= 128
    rgb, painted = watershed_flood(line8, seeds, hint8[:, :, :3], border_key)
    return np.concatenate([rgb, np.where(painted, 255, 0).astype(np.uint8)[:, :, None]], axis=2)


def score(result_rgba, truth_rgba, line8, hint8) -> dict:
    """Metrics on non-ink pixels of result and truth, both over white."""
    paper = line8 >= 128
    result, truth = over_white(result_rgba), over_white(truth_rgba)
    error = float(np.mean((result[paper] - truth[paper]) ** 2))
    psnr = 10 * np.log10(1.0 / max(error, 1e-10))
    close = np.linalg.norm(lab(result) - lab(truth), axis=2) <= DELTA_E
    _, regions = cv2.connectedComponents(paper.astype(np.uint8), connectivity=4)
    hinted_ids = np.unique(regions[(hint8[:, :, 3] >= 128) & paper])
    hinted = np.isin(regions, hinted_ids[hinted_ids > 0]) & paper
    unhinted = paper & ~hinted & (truth_rgba[:, :, 3] >= 128)
    share = lambda mask: float(close[mask].mean()) if mask.any() else float("nan")  # noqa: E731
    return {"psnr": psnr, "close": share(paper), "close_hinted": share(hinted),
            "close_unhinted": share(unhinted), "pixels_hinted": int(hinted.sum()),
            "pixels_unhinted": int(unhinted.sum())}


def thicken(line8: np.ndarray, pixels: int) -> np.ndarray:
    return cv2.erode(line8, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pixels + 1, pixels + 1)))


def load_pairs(root: Path, limit: int | None):
    manifest = json.loads((root / "manifest.json").read_text())
    samples = [s for s in manifest["samples"] if s["split"] == "val"][:limit]
    for sample in samples:
        colour = read_image(root / "val" / f"{sample['id']}.color.png")
        line = read_image(root / "val" / f"{sample['id']}.line.png")
        if colour.shape[2] == 3:
            colour = np.concatenate([colour, np.full(colour.shape[:2] + (1,), 255, np.uint8)], 2)
        yield colour, line if line.ndim == 2 else line[:, :, 0]


def run(args) -> dict:
    from export.data.hints import region_hints  # numpy only: the toolchain's hint simulator

    models = {}
    for name in args.model or [None]:
        entry = catalog.resolve(name, args.models_dir)
        models[f"engine:{entry.name}"] = catalog.open_model(entry, args.device)
    rows: dict[tuple, list] = {}
    started = time.perf_counter()
    count = 0
    for index, (colour, line) in enumerate(load_pairs(Path(args.data).expanduser(), args.limit)):
        count += 1
        mask = colour[:, :, 3].astype(np.float32) / 255.0
        truth_unit = over_white(colour)
        for lines_name, line8 in (("thin", line), ("thick", thicken(line, 4))):
            line_unit = line8.astype(np.float32) / 255.0
            for regime, regions in REGIMES.items():
                rng = np.random.default_rng(index * 7919 + len(regime))
                if regions == 0:
                    hint8 = np.zeros(colour.shape, np.uint8)
                else:
                    hint8 = to_uint8(region_hints(truth_unit, line_unit, mask, rng, regions=regions,
                                                  include_outside=False))
                results = {
                    "empty": np.zeros(colour.shape, np.uint8),
                    "flood": flood(line8, hint8, border_key=False),
                    "flood+border": flood(line8, hint8, border_key=True),
                }
                for label, model in models.items():
                    options = Options(max_side=args.max_side, shading=args.shading)
                    results[label] = colorize(model, line8, hint8, options).rgba
                for method, result in results.items():
                    scores = score(result, colour, line8, hint8)
                    rows.setdefault((regime, lines_name, method), []).append(scores)
        if sys.stderr.isatty():
            print(f"\r{index + 1} samples", end="", file=sys.stderr)
    print(f"\n{count} validation samples in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return rows


def _mean(scores: list[dict], key: str):
    """Mean over samples; region shares are weighted by their pixel counts. None if undefined."""
    values = np.array([entry[key] for entry in scores], float)
    weight_key = {"close_hinted": "pixels_hinted", "close_unhinted": "pixels_unhinted"}.get(key)
    weights = np.array([entry[weight_key] for entry in scores], float) if weight_key else None
    valid = ~np.isnan(values) & (weights > 0 if weights is not None else True)
    if not valid.any():
        return None
    return float(np.average(values[valid], weights=None if weights is None else weights[valid]))


def table(rows: dict) -> str:
    lines = ["| hints | lines | method | PSNR dB | within dE10 | dE10 hinted regions | "
             "dE10 unhinted coloured regions |", "|---|---|---|---|---|---|---|"]
    for (regime, lines_name, method), scores in rows.items():
        cells = [f"{_mean(scores, 'psnr'):.2f}"]
        for key in ("close", "close_hinted", "close_unhinted"):
            value = _mean(scores, key)
            cells.append("n/a" if value is None else f"{100 * value:.1f} %")
        lines.append(f"| {regime} | {lines_name} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="~/.cache/krita-deepcolor/dataset", help="dataset folder")
    parser.add_argument("--model", action="append", help="model name or .onnx path (repeatable; "
                        "default: the shipped default model)")
    parser.add_argument("--models-dir", action="append", default=[])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, help="use only the first N validation pairs (default: all)")
    parser.add_argument("--max-side", type=int, default=1024)
    parser.add_argument("--shading", type=float, default=0.0)
    parser.add_argument("--json", type=Path, help="also write the raw per-sample scores here")
    args = parser.parse_args(argv)
    rows = run(args)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"|".join(k): v for k, v in rows.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

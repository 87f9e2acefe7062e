"""Colouring quality on real line art, side by side with the flood baseline. Prints tables.

    python -m benchmarks.quality [--data ~/.cache/krita-deepcolor/dataset] [--model NAME|PATH ...]

Validation pairs are the dataset's validation split, by default only those whose line layer is
exact (the SVG's own strokes, never lines extracted from colour). They fall into two fixed
halves by a hash of their id: choose rules, thresholds and checkpoints on the *tuning* half;
the *held-out* half decides. Every table reports both.

Hint regimes, each on the same pictures:
* ``dense``: a short stroke in every region of the figure (and in the figure's part of a region
  its open outline shares with the background); ``sparse``: in the 3 largest of those; ``none``;
* ``gaps-dense`` / ``gaps-sparse``: the same strokes on line art with 8 breaks of 1-3 line
  widths cut into its lines (strokes are placed on the unbroken lines, as the user meant them);
* ``dht-R``: hintauc's deterministic region scribbles (DHT, Madono et al., TVCG 2026) in the
  largest R of the regions (R on hintauc's grid, 0 to 100 %), regions being the truth's flat
  colours cut by the line art. The Hint-AUC table integrates PSNR and the share within
  Delta-E76 10 over that grid, with hintauc's own ``hint_auc``.

Methods: ``empty`` (a transparent layer), ``flood+border`` (a watershed flood from the strokes
cut by the line art, with a transparent key along the canvas border: what Krita's Colorize Mask
gives) and the given models through the engine exactly as users run them.
Scores are taken on non-ink pixels (of the unbroken lines) of the result composited over white
against the truth over white: PSNR, the share within Delta-E76 10, that share inside regions
holding a stroke and inside figure regions holding none, and the wrong pixels (Delta-E76 >= 10)
by where they are: stroked regions, unstroked figure regions, background.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from itertools import repeat
from pathlib import Path

import cv2
import numpy as np

from export.data.halves import HALVES, half_of, source_of
from export.data.hints import benchmark_hints
from export.data.sources import DEFAULT_DATASET
from export.data.streamline import DEFAULT_STREAMLINE_DATASET
from krita_deepcolor.engine import Options, catalog, colorize
from krita_deepcolor.engine.departures import flood_answer
from krita_deepcolor.engine.errors import NoHints
from krita_deepcolor.engine.imageio import read_image
from krita_deepcolor.engine.imaging import lab
from krita_deepcolor.engine.regions import hint_seeds

DELTA_E = 10.0
EXACT_LINES = ("svg-strokes", "exact")  # line layers drawn by the artist, not extracted
BASELINE = "flood+border"
# the generators' validation split and Streamline Emojis (validation only)
DEFAULT_DATA = (DEFAULT_DATASET, DEFAULT_STREAMLINE_DATASET)


def over_white(rgba: np.ndarray) -> np.ndarray:
    """uint8 or float RGBA -> float32 RGB in [0, 1] composited over white."""
    unit = rgba.astype(np.float32) / (255.0 if rgba.dtype == np.uint8 else 1.0)
    alpha = unit[:, :, 3:4]
    return unit[:, :, :3] * alpha + (1.0 - alpha)


def flood(line8: np.ndarray, hint8: np.ndarray) -> np.ndarray:
    """The baseline: a watershed flood from every stroke with a border key, RGBA uint8 (the
    answer the engine's flat finishing starts from)."""
    return flood_answer(line8, hint8, None)


@dataclass(frozen=True)
class Truth:
    """One validation picture: its colours and where scores are taken."""
    colour: np.ndarray  # (h, w, 4) uint8
    lab: np.ndarray  # (h, w, 3) float32: the truth over white in CIE Lab
    rgb: np.ndarray  # (h, w, 3) float32: the truth over white
    paper: np.ndarray  # (h, w) bool: non-ink pixels of the unbroken line art
    regions: np.ndarray  # (h, w) int32: 4-connected paper areas of the unbroken line art
    figure: np.ndarray  # (h, w) bool: the truth is opaque there

    @classmethod
    def of(cls, colour: np.ndarray, line8: np.ndarray) -> Truth:
        rgb = over_white(colour)
        paper = line8 >= 128
        _, regions = cv2.connectedComponents(paper.astype(np.uint8), connectivity=4)
        return cls(colour, lab(rgb), rgb, paper, regions, colour[:, :, 3] >= 128)


def score(result_rgba: np.ndarray, truth: Truth, hint8: np.ndarray) -> dict:
    """Metrics on non-ink pixels of result and truth, both over white."""
    paper = truth.paper
    result = over_white(result_rgba)
    error = float(np.mean((result[paper] - truth.rgb[paper]) ** 2))
    wrong = (np.linalg.norm(lab(result) - truth.lab, axis=2) > DELTA_E) & paper
    hinted_ids = np.unique(truth.regions[hint_seeds(hint8[:, :, 3]) & paper])
    stroked = np.isin(truth.regions, hinted_ids[hinted_ids > 0]) & paper
    unstroked = paper & ~stroked & truth.figure

    def share_right(mask):
        return float(1.0 - wrong[mask].mean()) if mask.any() else float("nan")

    return {"psnr": 10 * np.log10(1.0 / max(error, 1e-10)), "close": share_right(paper),
            "close_hinted": share_right(stroked), "close_unhinted": share_right(unstroked),
            "pixels_hinted": int(stroked.sum()), "pixels_unhinted": int(unstroked.sum()),
            "wrong_stroked": int((wrong & stroked).sum()), "wrong_unstroked": int((wrong & unstroked).sum()),
            "wrong_background": int((wrong & ~stroked & ~truth.figure).sum())}


def load_pairs(root: Path, limit: int | None = None, exact_only: bool = True, per_package: int | None = None):
    """(id, half, colour RGBA uint8, line uint8) for the validation pairs: the first ``limit``,
    and of each package at most ``per_package`` in each half."""
    manifest = json.loads((root / "manifest.json").read_text())
    samples = [s for s in manifest["samples"]
               if s["split"] == "val" and (not exact_only or s.get("lines") in EXACT_LINES)][:limit]
    if per_package is not None:
        taken: dict[tuple, int] = {}
        for sample in list(samples):
            key = (source_of(sample["id"]), half_of(sample["id"]))
            taken[key] = taken.get(key, 0) + 1
            if taken[key] > per_package:
                samples.remove(sample)
    for sample in samples:
        colour = read_image(root / "val" / f"{sample['id']}.color.png")
        line = read_image(root / "val" / f"{sample['id']}.line.png")
        if colour.shape[2] == 3:
            colour = np.concatenate([colour, np.full(colour.shape[:2] + (1,), 255, np.uint8)], 2)
        yield sample["id"], half_of(sample["id"]), colour, line if line.ndim == 2 else line[:, :, 0]


_engines: dict = {}  # in each worker process: method label -> (model, options)


def _open_engines(models, models_dir, device, options: Options, proposal: bool) -> None:
    for name in models:
        entry = catalog.resolve(name, list(models_dir))
        model = catalog.open_model(entry, device, threads=1)
        _engines[f"engine:{entry.name}"] = (model, options)
        if proposal:  # the hybrid rules alone, without starting from the flood
            _engines[f"engine:{entry.name} (hybrid proposal)"] = (model, replace(options, proposal_only=True))


def _score_pair(pair, curve: bool) -> list[tuple[tuple, dict]]:
    """((half, regime, method), scores) of every regime and method on one pair."""
    sample_id, half, colour, line8 = pair
    truth = Truth.of(colour, line8)
    scored = []
    for regime, given_lines, hint8 in benchmark_hints(sample_id, colour, line8, curve):
        results = {"empty": np.zeros(colour.shape, np.uint8), BASELINE: flood(given_lines, hint8)}
        for label, (model, options) in _engines.items():
            try:
                results[label] = colorize(model, given_lines, hint8, options).rgba
            except NoHints:  # what the user gets: no layer, the picture as it was
                results[label] = results["empty"]
        for method, result in results.items():
            scored.append(((half, regime, method), score(result, truth, hint8) | {"id": sample_id}))
    return scored


def run(models=(None,), data=DEFAULT_DATA, limit=None, exact_only=True,
        curve=True, max_side=1024, shading=0.0, finishing="hybrid", device="cpu", models_dir=(),
        per_package=None, proposal=False, jobs=1) -> dict:
    """Score every method on every pair of every dataset folder in ``data`` (one folder, or
    several: those not built are left out, with a line saying so), ``jobs`` pictures at a time.
    ``proposal``: also score the hybrid rules alone. Returns {(half, regime, method): [scores]}
    (pictures in the order of the folders and their manifests, whatever ``jobs``)."""
    options = Options(max_side=max_side, shading=shading, finishing=finishing)
    engine_setup = (tuple(models), tuple(models_dir), device, options, proposal)
    roots = [Path(root).expanduser() for root in ([data] if isinstance(data, (str, Path)) else data)]
    for root in roots:
        if not (root / "manifest.json").exists():
            print(f"{root}: not built, left out", file=sys.stderr)
    pairs = (pair for root in roots if (root / "manifest.json").exists()
             for pair in load_pairs(root, limit, exact_only, per_package))
    rows: dict[tuple, list] = {}
    started = time.perf_counter()
    count = 0
    with ExitStack() as stack:
        if jobs > 1:
            pool = stack.enter_context(ProcessPoolExecutor(jobs, initializer=_open_engines,
                                                           initargs=engine_setup))
            results = pool.map(_score_pair, pairs, repeat(curve), chunksize=1)
        else:
            _engines.clear()
            _open_engines(*engine_setup)
            results = (_score_pair(pair, curve) for pair in pairs)
        for scored in results:
            count += 1
            for key, scores in scored:
                rows.setdefault(key, []).append(scores)
            if sys.stderr.isatty():
                print(f"\r{count} pictures", end="", file=sys.stderr)
    if not count:
        raise SystemExit(f"no validation pairs{' with exact line layers' if exact_only else ''} in "
                         + ", ".join(map(str, roots)))
    print(f"\n{count} validation pictures in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return rows


def _mean(scores: list[dict], key: str):
    """Mean over pictures; region shares are weighted by their pixel counts. None if undefined."""
    values = np.array([entry[key] for entry in scores], float)
    weight_key = {"close_hinted": "pixels_hinted", "close_unhinted": "pixels_unhinted"}.get(key)
    weights = np.array([entry[weight_key] for entry in scores], float) if weight_key else None
    valid = ~np.isnan(values) & (weights > 0 if weights is not None else True)
    if not valid.any():
        return None
    return float(np.average(values[valid], weights=None if weights is None else weights[valid]))


def _by_package(scores: list[dict]) -> dict[str, list[dict]]:
    packages: dict[str, list[dict]] = {}
    for entry in scores:
        packages.setdefault(source_of(entry["id"]), []).append(entry)
    return dict(sorted(packages.items()))


def package_mean(scores: list[dict], key: str):
    """The mean over art packages, each package weighing the same whatever its picture count
    (one package, the maps say, must not carry the average). None if undefined everywhere."""
    means = [value for value in (_mean(group, key) for group in _by_package(scores).values())
             if value is not None]
    return float(np.mean(means)) if means else None


def _methods(rows: dict) -> list[str]:
    return list(dict.fromkeys(method for (_, _, method) in rows))


def _below(ours: list[dict], theirs: list[dict]) -> str:
    """Pictures more than 1 dB below the baseline, as 'k of n'."""
    below = sum(a["psnr"] < b["psnr"] - 1.0 for a, b in zip(ours, theirs, strict=True))
    return f"{below} of {len(ours)}"


def table(rows: dict) -> str:
    """The regime table: one row per half, regime and method; every score a mean over packages."""
    lines = ["| half | hints | method | PSNR dB | vs flood dB | pictures > 1 dB below flood | within dE10 | "
             "dE10 stroked regions | dE10 unstroked figure regions | wrong px: stroked / unstroked figure / "
             "background |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (half, regime, method), scores in sorted(rows.items(), key=lambda item: (HALVES.index(item[0][0]),)):
        if regime.startswith("dht-"):
            continue
        baseline = rows[(half, regime, BASELINE)]
        psnr = package_mean(scores, "psnr")
        cells = [f"{psnr:.2f}", f"{psnr - package_mean(baseline, 'psnr'):+.2f}",
                 "-" if method in ("empty", BASELINE) else _below(scores, baseline)]
        for key in ("close", "close_hinted", "close_unhinted"):
            value = package_mean(scores, key)
            cells.append("n/a" if value is None else f"{100 * value:.1f} %")
        wrong = [sum(entry[key] for entry in scores) / 1e3 for key in
                 ("wrong_stroked", "wrong_unstroked", "wrong_background")]
        cells.append(" / ".join(f"{value:.0f}k" for value in wrong))
        lines.append(f"| {half} | {regime} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def source_table(rows: dict) -> str:
    """Every regime by art package, per half and method, beside the flood of the same run: a
    mean can hide a package (one kind of art) on which the engine falls below the flood."""
    regimes = [regime for regime in dict.fromkeys(regime for (_, regime, _) in rows)
               if not regime.startswith("dht-")]
    lines = ["| half | source | pictures | method | "
             + " | ".join(f"{r} dB (vs flood, > 1 dB below)" for r in regimes) + " |",
             "|---|---|---|---|" + "---|" * len(regimes)]
    for half in HALVES:
        if (half, regimes[0], BASELINE) not in rows:
            continue
        for method in _methods(rows):
            if method in ("empty", BASELINE):
                continue
            for source in _by_package(rows[(half, regimes[0], BASELINE)]):
                cells = []
                for regime in regimes:
                    both = zip(rows[(half, regime, method)], rows[(half, regime, BASELINE)], strict=True)
                    pairs = [(ours, theirs) for ours, theirs in both if source_of(theirs["id"]) == source]
                    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
                    psnr = _mean(ours, "psnr")
                    cells.append(f"{psnr:.2f} ({psnr - _mean(theirs, 'psnr'):+.2f}, {_below(ours, theirs)})")
                lines.append(f"| {half} | {source} | {len(pairs)} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _curve(rows: dict, half: str, ratios, method: str, package: str, key: str) -> dict:
    """{ratio: score} along the DHT grid, of one package or (any other name) the mean over packages."""
    scores = {r: rows[(half, f"dht-{r:.2f}", method)] for r in ratios}
    if package in _by_package(scores[ratios[0]]):
        return {r: _mean([s for s in scores[r] if source_of(s["id"]) == package], key) for r in ratios}
    return {r: package_mean(scores[r], key) for r in ratios}


def hint_auc_table(rows: dict) -> str:
    """Hint-AUC of PSNR and of the share within dE10 over the DHT ratios, per half, method and
    package and as a mean over packages, and the smallest lead over the flood at any ratio."""
    ratios = sorted({float(regime[4:]) for (_, regime, _) in rows if regime.startswith("dht-")})
    if not ratios:
        return ""
    from hintauc import hint_auc

    lines = ["| half | source | method | Hint-AUC PSNR dB | vs flood dB | Hint-AUC within dE10 | "
             "smallest lead over flood at a ratio dB | PSNR at "
             + " / ".join(f"{r:g}" for r in ratios) + " |",
             "|---|---|---|---|---|---|---|---|"]
    for half in HALVES:
        if (half, f"dht-{ratios[0]:.2f}", BASELINE) not in rows:
            continue
        for package in ["mean over packages", *_by_package(rows[(half, f"dht-{ratios[0]:.2f}", BASELINE)])]:
            flood = _curve(rows, half, ratios, BASELINE, package, "psnr")
            for method in _methods(rows):
                psnr = _curve(rows, half, ratios, method, package, "psnr")
                lead = min(psnr[r] - flood[r] for r in ratios)
                auc = hint_auc(psnr)
                close = hint_auc(_curve(rows, half, ratios, method, package, "close"))
                lines.append(f"| {half} | {package} | {method} | {auc:.2f} | {auc - hint_auc(flood):+.2f} | "
                             f"{100 * close:.1f} % | {lead:+.2f} | "
                             + " / ".join(f"{psnr[r]:.1f}" for r in ratios) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", type=Path,
                        help="dataset folder (repeatable; default: the generators' dataset and Streamline "
                             "Emojis, built by `python -m export.data build` and "
                             "`python -m export.data streamline`)")
    parser.add_argument("--model", action="append", help="model name or .onnx path (repeatable; "
                        "default: the shipped default model)")
    parser.add_argument("--models-dir", action="append", default=[])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, help="use only the first N validation pairs of each folder "
                        "(default: all)")
    parser.add_argument("--per-package", type=int, help="at most N pairs of each package in each half")
    parser.add_argument("--all-lines", action="store_true",
                        help="also pairs with line art extracted from colour (default: exact lines only)")
    parser.add_argument("--no-curve", action="store_true", help="skip hintauc's hint-ratio curve")
    parser.add_argument("--max-side", type=int, default=1024)
    parser.add_argument("--shading", type=float, default=0.0)
    parser.add_argument("--finishing", default="hybrid", help="the engine's finishing (hybrid or raw)")
    parser.add_argument("--proposal", action="store_true",
                        help="also score each model's hybrid proposal alone (not starting from the flood)")
    parser.add_argument("--jobs", type=int, default=1, help="pictures scored at a time (processes)")
    parser.add_argument("--json", type=Path, help="also write the raw per-picture scores here")
    args = parser.parse_args(argv)
    rows = run(args.model or (None,), args.data or DEFAULT_DATA, args.limit, not args.all_lines,
               not args.no_curve, args.max_side, args.shading, args.finishing, args.device, args.models_dir,
               args.per_package, args.proposal, args.jobs)
    print(table(rows))
    print()
    print(source_table(rows))
    print()
    print(hint_auc_table(rows))
    if args.json:
        args.json.write_text(json.dumps({"|".join(k): v for k, v in rows.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

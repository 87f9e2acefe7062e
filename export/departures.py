"""Learn where the flats leave the flood: the decision of ``krita_deepcolor/engine/departures.py``.

    python -m export.departures collect --split train --per-package 60 -o RUN/train.npz
    python -m export.departures collect --split val --per-package 60 -o RUN/val.npz
    python -m export.departures fit RUN/train.npz --tune RUN/val.npz -o krita_deepcolor/engine/departures.json

``collect`` runs the default generator through the engine on pairs with exact line layers, in
every hint regime of the quality benchmark (dense, sparse, none, lines with breaks, hintauc's
scribbles at every ratio), and records for every unit where the hybrid proposal differs from
the flood its kind, its features, its *gain*: how much less squared error (truth over white,
on the unbroken line art's paper) the proposal has there than the flood, and its *close gain*:
how many more of its pixels the proposal gets within Delta-E76 10 of the truth. Training pairs
come from the packages the generators train on; validation pairs may include Streamline Emojis.

``fit`` trains one logistic model per kind on the training units (a unit weighs its gain as a
share of its picture's flood error: about what it moves the picture's PSNR), then picks one
threshold per kind on the *tuning* half of the validation units: the highest mean lead over the
flood (a mean over packages, then over regimes) with no regime, nor any package in a regime,
below the flood and at most MAX_BELOW of the pictures more than 1 dB below it. It reports both
halves; the held-out half is not looked at when choosing. Given no strokes at all the engine
colours nothing (``NoHints``): the report leaves those pictures out and says what the
proposal's guesses would do there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from krita_deepcolor.engine import Options, catalog, colorize
from krita_deepcolor.engine.departures import FEATURES, KINDS, Decision, find_units, flood_answer
from krita_deepcolor.engine.imageio import read_image
from krita_deepcolor.engine.imaging import as_rgba
from krita_deepcolor.engine.regions import gap_radius

from .data import streamline
from .data.halves import HALVES, half_of, source_of
from .data.hints import benchmark_hints
from .data.sources import DEFAULT_DATASET, DEFAULT_STREAMLINE_DATASET
from .quality import near_truth, over_white

EXACT_LINES = ("svg-strokes", "exact")
VALIDATION_ONLY = (streamline.SOURCE,)
MAX_BELOW = 0.05  # share of pictures (per regime) allowed more than 1 dB below the flood
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)  # 0: always, 1.01: never
L2 = 1e-2  # ridge on the standardised weights


def pairs_of(roots, split: str, per_package: int | None) -> list[tuple[str, Path]]:
    """(id, folder) of the exact-line pairs of ``split``; at most ``per_package`` of each
    package (in each half, for validation), taken in the manifest's order."""
    chosen, taken = [], {}
    for root in roots:
        root = Path(root).expanduser()
        if not (root / "manifest.json").exists():
            print(f"{root}: not built, left out", file=sys.stderr)
            continue
        manifest = json.loads((root / "manifest.json").read_text())
        if split == "train" and set(manifest["sources"]) & set(VALIDATION_ONLY):
            raise ValueError(f"{root}: {', '.join(VALIDATION_ONLY)} is validation only: never train on it")
        for sample in manifest["samples"]:
            if sample["split"] != split or sample.get("lines") not in EXACT_LINES:
                continue
            key = (source_of(sample["id"]), half_of(sample["id"]) if split == "val" else "")
            taken[key] = taken.get(key, 0) + 1
            if per_package is None or taken[key] <= per_package:
                chosen.append((sample["id"], root / split))
    return chosen


_model = None


def _open(model_name):
    global _model
    _model = catalog.open_model(catalog.resolve(model_name), "cpu", threads=1)


def units_of(sample_id: str, folder: Path) -> list[dict]:
    """Every regime's units of one pair, with their gains (see the module's docstring)."""
    colour = as_rgba(read_image(folder / f"{sample_id}.color.png"))
    line8 = read_image(folder / f"{sample_id}.line.png")
    line8 = line8 if line8.ndim == 2 else line8[:, :, 0]
    truth = over_white(colour)
    scored = line8 >= 128

    def error(rgba):
        return ((over_white(rgba) - truth) ** 2).sum(axis=2) * scored

    def close(rgba):
        return near_truth(over_white(rgba), truth) & scored

    records = []
    for regime, given, hint8 in benchmark_hints(sample_id, colour, line8):
        result = colorize(_model, given, hint8, Options(proposal_only=True))
        proposal = result.rgba
        flood = flood_answer(given, hint8, None)
        # (at these sizes the finishing works at the canvas size: the widths are the engine's own)
        units = find_units(given, hint8, flood, proposal, result.network, gap_radius(result.line_width),
                           result.line_width)
        flood_error = error(flood)
        gain = flood_error - error(proposal)
        close_gain = close(proposal).astype(np.float64) - close(flood)
        records.append({"id": sample_id, "regime": regime, "features": units.features, "kinds": units.kinds,
                        "forbidden": units.forbidden, "gains": _per_unit(units, gain),
                        "close_gains": _per_unit(units, close_gain),
                        "flood_sse": float(flood_error.sum()), "pixels": int(scored.sum()),
                        "hinted": bool(hint8[:, :, 3].any())})
    return records


def _per_unit(units, values: np.ndarray) -> np.ndarray:
    """(units,) sums of (h, w) ``values`` over each unit's pixels."""
    n = len(units.kinds)
    return np.bincount(units.labels.ravel(), weights=values.ravel(), minlength=n + 1)[1:].astype(np.float32)


def collect(pairs, model_name: str | None, out: Path, jobs: int) -> None:
    started = time.perf_counter()
    records = []
    with ProcessPoolExecutor(jobs, initializer=_open, initargs=(model_name,)) as pool:
        for index, result in enumerate(pool.map(units_of, *zip(*pairs, strict=True))):
            records.extend(result)
            if (index + 1) % 20 == 0:
                print(f"{index + 1}/{len(pairs)} pictures, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)
    save(records, out)
    print(f"{len(pairs)} pictures, {len(records)} picture-regimes, "
          f"{sum(len(r['kinds']) for r in records)} units in {time.perf_counter() - started:.0f} s -> {out}")


def save(records: list[dict], out: Path) -> None:
    counts = np.array([len(r["kinds"]) for r in records])
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, ids=np.array([r["id"] for r in records]), regimes=np.array([r["regime"] for r in records]),
        counts=counts, flood_sse=np.array([r["flood_sse"] for r in records]),
        pixels=np.array([r["pixels"] for r in records]), hinted=np.array([r["hinted"] for r in records]),
        features=np.concatenate([r["features"] for r in records]).reshape(-1, len(FEATURES)),
        kinds=np.concatenate([r["kinds"] for r in records]).astype(np.int8),
        forbidden=np.concatenate([r["forbidden"] for r in records]),
        gains=np.concatenate([r["gains"] for r in records]),
        close_gains=np.concatenate([r["close_gains"] for r in records]))


def load(paths) -> dict:
    """Collected units of one or more files, as one table."""
    parts = [dict(np.load(path)) for path in ([paths] if isinstance(paths, (str, Path)) else paths)]
    data = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    data["record"] = np.repeat(np.arange(len(data["counts"])), data["counts"])
    return data


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted, ridge-regularised logistic regression on standardised ``x`` by Newton steps."""
    design = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(design.shape[1])
    penalty = L2 * w.sum() * np.eye(design.shape[1])
    penalty[-1, -1] = 0
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (w * (p - y)) + penalty @ beta
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + penalty + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return beta[:-1], float(beta[-1])


def train(data: dict) -> Decision:
    usable = ~data["forbidden"] & (data["gains"] != 0)
    weight = np.abs(data["gains"]) / np.maximum(data["flood_sse"][data["record"]], 1.0)
    shape = (len(KINDS), len(FEATURES))
    mean, scale, weights, bias = np.zeros(shape), np.ones(shape), np.zeros(shape), np.zeros(len(KINDS))
    for kind in range(len(KINDS)):
        chosen = usable & (data["kinds"] == kind)
        x = data["features"][chosen].astype(np.float64)
        if len(x) < 10:
            bias[kind] = -10.0  # nothing to learn from: never depart
            continue
        mean[kind], scale[kind] = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-3)
        w = weight[chosen] / weight[chosen].mean()
        better = data["gains"][chosen] > 0
        weights[kind], bias[kind] = fit_logistic((x - mean[kind]) / scale[kind], better, w)
        print(f"{KINDS[kind]}: {chosen.sum()} units, proposal better in {np.mean(better):.0%} "
              f"(by weight {w[better].sum() / w.sum():.0%})", file=sys.stderr)
    return Decision(mean, scale, weights, bias, np.full(len(KINDS), 0.5))


def _taken(data: dict, decision: Decision | None) -> np.ndarray:
    """(units,) which units depart from the flood: the decision's, or with None every one allowed."""
    allowed = ~data["forbidden"]
    if decision is None:
        return allowed
    return decision.departs(data["features"], data["kinds"].astype(int)) & allowed


def leads(data: dict, decision: Decision | None) -> np.ndarray:
    """(records,) dB each picture-regime gains over the flood with ``decision``."""
    gained = np.bincount(data["record"], weights=np.where(_taken(data, decision), data["gains"], 0.0),
                         minlength=len(data["counts"]))
    flood = np.maximum(data["flood_sse"], 1e-6)
    return 10 * np.log10(flood / np.maximum(flood - gained, 1e-6))


def close_changes(data: dict, decision: Decision | None) -> np.ndarray:
    """(records,) change in the share of pixels within Delta-E76 10 over the flood's."""
    gained = np.bincount(data["record"], weights=np.where(_taken(data, decision), data["close_gains"], 0.0),
                         minlength=len(data["counts"]))
    return gained / np.maximum(data["pixels"], 1)


def _over_packages(data: dict, values: np.ndarray, rows: np.ndarray) -> float:
    packages = np.array([source_of(i) for i in data["ids"][rows]])
    return float(np.mean([values[rows][packages == p].mean() for p in np.unique(packages)]))


def summary(data: dict, lead: np.ndarray, chosen: np.ndarray) -> tuple[float, float, float]:
    """(mean lead over regimes of the mean over packages, worst regime's such mean, share of
    picture-regimes more than 1 dB below the flood) over the ``chosen`` records."""
    by_regime = [_over_packages(data, lead, chosen & (data["regimes"] == regime))
                 for regime in np.unique(data["regimes"][chosen])]
    return float(np.mean(by_regime)), float(np.min(by_regime)), float(np.mean(lead[chosen] < -1.0))


def worst_cell(data: dict, lead: np.ndarray, chosen: np.ndarray) -> float:
    """The lowest mean lead of one package in one regime over the ``chosen`` records."""
    packages = np.array([source_of(i) for i in data["ids"]])
    cells = [lead[rows].mean() for regime in np.unique(data["regimes"][chosen])
             for package in np.unique(packages[chosen])
             if (rows := chosen & (data["regimes"] == regime) & (packages == package)).any()]
    return float(min(cells))


def guesses_without_hints(data: dict, chosen: np.ndarray) -> tuple[float, float]:
    """Over the ``chosen`` records given no strokes (the flood: an empty layer), what taking every
    unit of the proposal would do, as means over packages: (lead in dB, change in the share of
    pixels within Delta-E76 10)."""
    rows = chosen & ~data["hinted"]
    if not rows.any():
        return 0.0, 0.0
    return (_over_packages(data, leads(data, None), rows),
            _over_packages(data, close_changes(data, None), rows))


def choose_thresholds(decision: Decision, data: dict, chosen: np.ndarray) -> Decision:
    """Coordinate ascent over one threshold per kind on the ``chosen`` (tuning) records."""
    thresholds = np.full(len(KINDS), 1.01)

    def objective(candidate):
        # never worse first (no regime, nor any package in a regime, below the flood; few
        # pictures far below it), then better
        lead = leads(data, _with(decision, candidate))
        mean, worst, below = summary(data, lead, chosen)
        cell = worst_cell(data, lead, chosen)
        return mean - 100 * max(0.0, below - MAX_BELOW) - 10 * max(0.0, -worst) - 10 * max(0.0, -cell)
    best = objective(thresholds)
    for _ in range(3):
        for kind in range(len(KINDS)):
            for value in THRESHOLDS:
                candidate = thresholds.copy()
                candidate[kind] = value
                score = objective(candidate)
                if score > best + 1e-6:
                    best, thresholds = score, candidate
    return _with(decision, thresholds)


def _with(decision: Decision, thresholds: np.ndarray) -> Decision:
    return Decision(decision.mean, decision.scale, decision.weights, decision.bias, np.asarray(thresholds))


def report(data: dict, decision: Decision) -> str:
    """Per half: the simulated lead over the flood in each regime (a mean over packages), the
    worst regime, and the picture-regimes more than 1 dB below the flood."""
    lead = leads(data, decision)
    halves = np.array([half_of(i) for i in data["ids"]])
    regimes = list(dict.fromkeys(data["regimes"].tolist()))
    lines = ["| half | pictures | mean lead dB | worst regime dB | > 1 dB below | within dE10 vs flood | "
             + " | ".join(regimes) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(regimes)]
    for half in HALVES:
        chosen = halves == half
        if not chosen.any():
            continue
        mean, worst, below = summary(data, lead, chosen)
        cells = [f"{summary(data, lead, chosen & (data['regimes'] == regime))[0]:+.2f}" for regime in regimes]
        close = _over_packages(data, close_changes(data, decision), chosen)
        lines.append(f"| {half} | {len(np.unique(data['ids'][chosen]))} | {mean:+.2f} | {worst:+.2f} | "
                     f"{100 * below:.1f} % | {100 * close:+.1f} points | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def records_where(data: dict, keep: np.ndarray) -> dict:
    """The table cut to the picture-regimes ``keep`` (records,) marks."""
    units = keep[data["record"]]
    part = {key: data[key][keep] for key in ("ids", "regimes", "counts", "flood_sse", "pixels", "hinted")}
    part |= {key: data[key][units] for key in ("features", "kinds", "forbidden", "gains", "close_gains")}
    part["record"] = np.repeat(np.arange(len(part["counts"])), part["counts"])
    return part


def learning_curve(training: dict, tune: dict, tuning: np.ndarray) -> str:
    """Mean simulated lead on each half when the decision learns from a share of the pictures."""
    pictures = sorted(set(training["ids"].tolist()))
    lines = ["| training pictures | tuning mean lead dB | held-out mean lead dB |", "|---|---|---|"]
    for share in (1 / 8, 1 / 4, 1 / 2, 1):
        some = records_where(training, np.isin(training["ids"], pictures[::round(1 / share)]))
        decision = choose_thresholds(train(some), tune, tuning)
        lead = leads(tune, decision)
        cells = [f"{summary(tune, lead, half)[0]:+.2f}" for half in (tuning, ~tuning)]
        lines.append(f"| {len(pictures[::round(1 / share)])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.departures", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect_cmd = commands.add_parser("collect", help="units, features and gains of dataset pairs")
    collect_cmd.add_argument("--split", choices=("train", "val"), required=True)
    collect_cmd.add_argument("--data", type=Path, action="append",
                             help="dataset folder (repeatable; default: the generators' dataset, and for "
                                  "--split val also Streamline Emojis)")
    collect_cmd.add_argument("--per-package", type=int, help="at most N pairs of each package (per half)")
    collect_cmd.add_argument("--model", help="generator (default: the shipped default)")
    collect_cmd.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    collect_cmd.add_argument("-o", "--out", type=Path, required=True)
    fit_cmd = commands.add_parser("fit", help="train the decision, choose thresholds on the tuning half")
    fit_cmd.add_argument("train", type=Path, nargs="+", help="collected training units")
    fit_cmd.add_argument("--tune", type=Path, action="append", required=True,
                         help="collected validation units (repeatable); thresholds use their tuning half")
    fit_cmd.add_argument("--curve", action="store_true",
                         help="also the learning curve: the same fit on 1/8, 1/4 and 1/2 of the pictures")
    fit_cmd.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "collect":
        roots = args.data or ([DEFAULT_DATASET] if args.split == "train" else [DEFAULT_DATASET,
                                                                            DEFAULT_STREAMLINE_DATASET])
        try:
            pairs = pairs_of(roots, args.split, args.per_package)
        except ValueError as error:
            parser.error(str(error))
        if not pairs:
            parser.error(f"no {args.split} pairs with exact line layers in {', '.join(map(str, roots))}")
        collect(pairs, args.model, args.out, args.jobs)
        return 0
    every = load(args.tune)
    halves = np.array([half_of(i) for i in every["ids"]])
    for half in HALVES:
        lead, close = guesses_without_hints(every, halves == half)
        print(f"no strokes, {half} half: the proposal's guesses would lead the empty layer by {lead:+.2f} dB "
              f"and change the pixels within dE10 by {100 * close:+.1f} points: the engine colours nothing")
    # The decision learns from, and its thresholds are chosen on, every regime, those without
    # strokes too: learning from strokes alone scored level on the tuning half and 0.5 dB lower
    # on the held-out half. Its report covers what the engine colours: pictures with strokes.
    training, tune = load(args.train), every
    tuning = halves == "tuning"
    if args.curve:
        print(learning_curve(training, tune, tuning))
    decision = choose_thresholds(train(training), tune, tuning)
    print(f"thresholds {dict(zip(KINDS, decision.threshold.round(2).tolist(), strict=True))}")
    print(report(records_where(tune, tune["hinted"]), decision))
    args.out.write_text(json.dumps(decision.to_dict(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

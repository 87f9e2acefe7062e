"""Raw-output quality on whole validation pictures: what the network itself paints, before the
engine's finishing.

    python -m export.quality models/pix2pix-flood-v1.onnx [RUN ...] [--data DATASET] [--limit N]
    python -m export.quality --curve RUN      # the learning curve the trainer logged

For each validation pair (true line layer + true colours, stored size): the model colours the
line art once with *dense* hints (a short stroke in every region of the figure: the quality
benchmark's simulator, ``region_hints(..., regions="all", include_outside=False)``, seeded by
the pair's index), once with *sparse* hints and once with *none*. Scores on non-ink pixels,
truth over white, as benchmarks/quality.py:
- ``hinted_de10``: share of the pixels of regions that hold a hint (4-connected paper
  components of the line art) within Delta-E76 10 of the truth, pixel-weighted over pictures;
- ``hinted_psnr``: PSNR with dense hints (mean over pictures);
- ``none_psnr``: PSNR with no hints; ``white_psnr``: a white layer's; ``none_gain`` the difference;
- ``unhinted_de10``: with *sparse* hints (a stroke in the 3 largest regions of the figure, the
  same simulator), the share of the figure's other paper pixels, those no stroke's
  region holds, within Delta-E76 10: where a colour must be guessed or carried from a stroke
  across a line; the flood's *spill* (white where it paints nothing) is scored beside it.
The command reports all pairs and each of the quality benchmark's two fixed halves (a hash of
the pair's id: choose on the tuning half, the held-out half decides). The trainer logs these
on its first ``--quality-images`` pairs at every validation, on the eval-mode contract graph,
which is what the exported file computes; this command measures ONNX files and run folders the
same way, with the plain watershed flood from the same strokes beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from krita_deepcolor.engine import imageio, imaging
from krita_deepcolor.engine.imaging import lab, to_uint8

from .data.halves import HALVES, half_of
from .data.sources import DEFAULT_DATASET

DELTA_E = 10.0
HINT_SEED_STRIDE = 7919  # seeds: index * 7919 + len(regime name), fixed: every run draws the same strokes
SPARSE_REGIONS = 3  # the quality benchmark's sparse regime


def over_white(rgba8: np.ndarray) -> np.ndarray:
    unit = rgba8.astype(np.float32) / 255.0
    alpha = unit[:, :, 3:4]
    return unit[:, :, :3] * alpha + (1.0 - alpha)


def load_samples(root, limit: int | None = None) -> list[dict]:
    """The first ``limit`` validation pairs, with their dense benchmark hints: dicts of ``line``
    (H, W) float32, ``hint`` / ``sparse`` (H, W, 4) float32 (8-bit values, as the benchmark
    feeds them), ``truth`` (H, W, 3) over white, ``paper`` (H, W) bool, ``hinted`` (H, W) bool
    (regions holding a dense stroke), ``unhinted`` (H, W) bool (figure paper outside the regions
    holding a sparse stroke)."""
    root = Path(root).expanduser()
    manifest = json.loads((root / "manifest.json").read_text())
    samples = [s for s in manifest["samples"] if s["split"] == "val"]
    if limit is not None:
        samples = samples[:limit]
    loaded = []
    for index, sample in enumerate(samples):
        colour = imaging.as_rgba(imageio.read_image(root / "val" / f"{sample['id']}.color.png"))
        colour8 = to_uint8(colour.astype(np.float32) / float(imaging.full_scale(colour)))
        line_unit = imaging.line_from_rgba(imageio.read_image(root / "val" / f"{sample['id']}.line.png"))
        line8 = to_uint8(line_unit)
        line = line8.astype(np.float32) / 255.0
        truth = over_white(colour8)
        mask = colour8[:, :, 3].astype(np.float32) / 255.0
        paper = line8 >= 128
        _, regions = cv2.connectedComponents(paper.astype(np.uint8), connectivity=4)
        hint8 = benchmark_strokes(index, "dense", "all", truth, line, mask)
        sparse8 = benchmark_strokes(index, "sparse", SPARSE_REGIONS, truth, line, mask)
        loaded.append({"id": sample["id"], "half": half_of(sample["id"]), "line": line,
                       "hint": hint8.astype(np.float32) / 255.0,
                       "sparse": sparse8.astype(np.float32) / 255.0, "line8": line8, "truth": truth,
                       "paper": paper, "hinted": held_by_strokes(regions, hint8, paper),
                       "unhinted": paper & (mask >= 0.5) & ~held_by_strokes(regions, sparse8, paper)})
    return loaded


def benchmark_strokes(index: int, regime: str, count, truth, line, mask) -> np.ndarray:
    """The quality benchmark's strokes of one regime (its simulator; seeded by the validation
    pair's ``index``), 8-bit RGBA."""
    from export.data.hints import region_hints

    rng = np.random.default_rng(index * HINT_SEED_STRIDE + len(regime))
    return to_uint8(region_hints(truth, line, mask, rng, regions=count, include_outside=False))


def held_by_strokes(regions: np.ndarray, hint8: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Paper pixels of the regions (4-connected paper components) that hold a stroke."""
    ids = np.unique(regions[(hint8[:, :, 3] >= 128) & paper])
    return np.isin(regions, ids[ids > 0]) & paper


def colour_with(run, line: np.ndarray, hint: np.ndarray, multiple: int) -> np.ndarray:
    """run(line [1,1,H,W], hint [1,4,H,W]) -> [1,3,H,W], on the picture padded (paper, no hint)
    to a multiple of ``multiple``; returns (H, W, 3) in [0, 1]."""
    height, width = line.shape
    padded_h, padded_w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    line_in = np.ones((1, 1, padded_h, padded_w), np.float32)
    line_in[0, 0, :height, :width] = line
    hint_in = np.zeros((1, 4, padded_h, padded_w), np.float32)
    hint_in[0, :, :height, :width] = hint.transpose(2, 0, 1)
    colour = np.asarray(run(line_in, hint_in), np.float32)[0, :, :height, :width]
    return np.clip(colour.transpose(1, 2, 0), 0.0, 1.0)


def psnr(result: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    error = float(np.mean((result[where] - truth[where]) ** 2))
    return 10.0 * np.log10(1.0 / max(error, 1e-10))


def score(run, samples: list[dict], multiple: int, flood: bool = False) -> dict[str, float]:
    """The raw metrics of ``run`` over ``samples`` (see the module doc); with ``flood``, the
    watershed flood from the same strokes (the engine's, no border key) is scored beside it."""
    return summarise(tally(run, samples, multiple, flood), flood)


def score_by_half(run, samples: list[dict], multiple: int, flood: bool = False) -> dict[str, dict]:
    """The same for all ``samples`` and for each of the quality benchmark's fixed halves."""
    tallies = [tally(run, [s for s in samples if s["half"] == half], multiple, flood) for half in HALVES]
    merged = {key: [sum(t[key][slot] for t in tallies) for slot in (0, 1)] for key in COUNTS}
    merged.update({key: [value for t in tallies for value in t[key]] for key in PSNRS})
    halves = {half: summarise(t, flood) for half, t in zip(HALVES, tallies, strict=True)}
    return {"all": summarise(merged, flood), **halves}


COUNTS = ("close", "pixels", "flood_close")  # [dense: hinted, sparse: unhinted] pixel counts
PSNRS = ("hinted_psnr", "none_psnr", "white_psnr")  # one per picture


def tally(run, samples: list[dict], multiple: int, flood: bool) -> dict[str, list]:
    """Pixel counts and per-picture PSNRs that ``summarise`` turns into the metrics."""
    counts = {key: [0, 0] for key in COUNTS}
    psnrs = {key: [] for key in PSNRS}
    for sample in samples:
        truth, paper = sample["truth"], sample["paper"]
        empty = colour_with(run, sample["line"], np.zeros_like(sample["hint"]), multiple)
        psnrs["none_psnr"].append(psnr(empty, truth, paper))
        psnrs["white_psnr"].append(psnr(np.ones_like(truth), truth, paper))
        for slot, (hint, where) in enumerate(((sample["hint"], sample["hinted"]),
                                              (sample["sparse"], sample["unhinted"]))):
            coloured = colour_with(run, sample["line"], hint, multiple)
            if slot == 0:
                psnrs["hinted_psnr"].append(psnr(coloured, truth, paper))
            counts["close"][slot] += int(near_truth(coloured, truth)[where].sum())
            counts["pixels"][slot] += int(where.sum())
            if flood:
                counts["flood_close"][slot] += int(near_truth(watershed(sample, hint), truth)[where].sum())
    return {**counts, **psnrs}


def summarise(tallied: dict[str, list], flood: bool) -> dict[str, float]:
    close, pixels, flood_close = (tallied[key] for key in COUNTS)
    result = {"hinted_de10": close[0] / max(pixels[0], 1),
              "hinted_psnr": float(np.mean(tallied["hinted_psnr"])),
              "unhinted_de10": close[1] / max(pixels[1], 1),
              "none_psnr": float(np.mean(tallied["none_psnr"])),
              "white_psnr": float(np.mean(tallied["white_psnr"]))}
    result["none_gain"] = result["none_psnr"] - result["white_psnr"]
    if flood:
        result["flood_hinted_de10"] = flood_close[0] / max(pixels[0], 1)
        result["flood_unhinted_de10"] = flood_close[1] / max(pixels[1], 1)
    return result


def watershed(sample: dict, hint: np.ndarray) -> np.ndarray:
    """The engine's watershed flood from ``hint`` (no border key), over white."""
    from krita_deepcolor.engine.regions import watershed_flood

    hint8 = np.round(hint * 255.0).astype(np.uint8)
    rgb, painted = watershed_flood(sample["line8"], hint8[:, :, 3] >= 128, hint8[:, :, :3], False)
    return np.where(painted[:, :, None], rgb.astype(np.float32) / 255.0, 1.0)


def near_truth(colour: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.linalg.norm(lab(colour) - lab(truth), axis=2) <= DELTA_E


def torch_runner(graph):
    """A run function for an eval-mode torch contract graph."""
    import torch

    def run(line, hint):
        with torch.no_grad():
            return graph(torch.from_numpy(line), torch.from_numpy(hint)).numpy()
    return run


def curve(run) -> str:
    """The learning curve a run logged (RUN/metrics.jsonl) as a Markdown table."""
    lines = (Path(run).expanduser() / "metrics.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    rows = ["| step | images seen | training h | hinted dE10 | hinted PSNR | unhinted dE10 | no-hint PSNR "
            "| vs white |", "|---|---|---|---|---|---|---|---|"]
    for entry in entries:
        if entry["kind"] == "val" and "raw_hinted_de10" in entry:
            hours = entry.get("train_seconds", float("nan")) / 3600
            # (runs logged before the sparse-hint measure existed have no unhinted share)
            unhinted = f"{100 * entry['raw_unhinted_de10']:.1f} %" if "raw_unhinted_de10" in entry else "-"
            rows.append(f"| {entry['step']:,} | {entry['images_seen']:,} | {hours:.2f} | "
                        f"{100 * entry['raw_hinted_de10']:.1f} % | {entry['raw_hinted_psnr']:.2f} | "
                        f"{unhinted} | "
                        f"{entry['raw_none_psnr']:.2f} | {entry['raw_none_gain']:+.2f} dB |")
    rates = [entry["images_per_s"] for entry in entries if entry["kind"] == "train"]
    if rates:
        rows.append(f"\nmedian training speed {np.median(rates):.1f} images/s "
                    f"({len(rates)} progress lines)")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.quality",
                                     description="Raw-output quality of ONNX files or runs.")
    parser.add_argument("models", nargs="*", help="ONNX files or training run folders / checkpoints")
    parser.add_argument("--curve", metavar="RUN", help="print the learning curve RUN logged, and stop")
    parser.add_argument("--data", default=str(DEFAULT_DATASET))
    parser.add_argument("--limit", type=int, help="the first N validation pairs (default all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--flood", action="store_true", help="also score the watershed flood")
    args = parser.parse_args(argv)
    if args.curve:
        print(curve(args.curve))
        return 0
    if not args.models:
        parser.error("name at least one model, or --curve RUN")
    samples = load_samples(args.data, args.limit)
    print(f"{len(samples)} validation pairs of {args.data}", file=sys.stderr)
    for index, name in enumerate(args.models):
        if name.endswith(".onnx"):
            from krita_deepcolor.engine import load_model

            model = load_model(name, device="cpu", threads=args.threads)
            run, multiple, seen = model.run, model.info.size_multiple, model.info.images_seen
        else:
            import torch

            from .checkpoints import load_checkpoint, restore_variant

            torch.set_num_threads(args.threads)
            checkpoint = load_checkpoint(name)
            variant = restore_variant(checkpoint)
            graph = variant.contract_graph().eval()
            run, multiple, seen = torch_runner(graph), variant.config.size_multiple, checkpoint["images_seen"]
        by_half = score_by_half(run, samples, multiple, flood=args.flood and index == 0)
        for half, scores in by_half.items():
            pairs = sum(1 for s in samples if half in ("all", s["half"]))
            print(json.dumps({"model": name, "images_seen": seen, "half": half, "pairs": pairs,
                              **{k: round(v, 4) for k, v in scores.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train every variant on the same data for the same images seen, export each, and score each
through the engine on the same quality benchmark. Prints two tables: the runs (images seen,
training time, file size, network time at 1024^2) and the benchmark with its baselines.

    python -m benchmarks.compare --runs ~/deepcolor-runs/compare --steps 400

The toolchain is driven through its own command lines (``python -m export.train``,
``python -m export.onnx``), each stage in a process of its own, as a user would run them.

Every stage resumes: a run folder that already reached ``--steps`` is not trained again, and
an ONNX file newer than its checkpoint is not exported again.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from export.checkpoints import load_checkpoint
from export.config import TRAINABLE_VARIANTS
from export.data.sources import DEFAULT_DATASET

from . import quality, speed

SPEED_SIDE = 1024  # working image the network is timed at (benchmarks.speed, 2 threads)


def train(variant: str, run: Path, args) -> None:
    command = [sys.executable, "-m", "export.train", "--variant", variant, "--run", str(run),
               "--data", args.data, "--steps", str(args.steps), "--batch", str(args.batch),
               "--crop", str(args.crop), "--seed", str(args.seed), "--workers", "1",
               "--log-every", "25", "--ckpt-every", "100", "--val-every", str(10 * args.steps)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    with open(run.parent / f"{variant}.log", "a") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def export(variant: str, run: Path, args) -> Path:
    model = run / f"compare-{variant}.onnx"
    if model.is_file() and model.stat().st_mtime > (run / "last.pt").stat().st_mtime:
        return model
    subprocess.run([sys.executable, "-m", "export.onnx", str(run), "-o", str(model), "--name",
                    f"compare-{variant}", "--data", args.data, "--description",
                    f"{variant}, trained for the variant comparison"], check=True)
    return model


def run_facts(run: Path) -> dict:
    checkpoint = load_checkpoint(run)
    return {"images_seen": int(checkpoint["images_seen"]),
            "train_seconds": float(checkpoint.get("train_seconds", 0.0))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder for one run folder per variant")
    parser.add_argument("--variants", nargs="+", default=list(TRAINABLE_VARIANTS), choices=TRAINABLE_VARIANTS)
    parser.add_argument("--data", default=str(DEFAULT_DATASET))
    parser.add_argument("--steps", type=int, default=400, help="optimiser steps per variant")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's choice)")
    parser.add_argument("--limit", type=int, default=100, help="validation pairs for the benchmark")
    args = parser.parse_args(argv)

    args.runs.mkdir(parents=True, exist_ok=True)
    models = {}
    for variant in args.variants:
        run = args.runs / variant
        train(variant, run, args)
        models[variant] = export(variant, run, args)

    print("| variant | images seen | training time | file MB | network at 1024² (s) |")
    print("|---|---|---|---|---|")
    for variant, path in models.items():
        facts = run_facts(args.runs / variant)
        seconds = speed.child_onnxruntime(str(path), SPEED_SIDE)["seconds"]
        print(f"| {variant} | {facts['images_seen']:,} | {facts['train_seconds'] / 60:.0f} min | "
              f"{path.stat().st_size / 1e6:.1f} | {seconds:.2f} |")
    print()
    # (without the hint-ratio curve: `python -m benchmarks.quality --model FILE` adds it per model)
    rows = quality.run(models=[str(path) for path in models.values()], data=args.data, limit=args.limit,
                       curve=False)
    print(quality.table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

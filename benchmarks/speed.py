"""Speed and peak memory per canvas size. Prints one table.

    python -m benchmarks.speed [--model PATH.onnx] [--sizes 512 1024 2048 4096]

* engine: ``colorize`` end to end (read layers, plan, network, flat finishing, output layer)
  on the bundled example drawn at the canvas size, default options (max side 1024), once with
  lines that grow with the canvas ("scaled": 5 px at 768) and once with 3 px lines at every size
  ("thin", the slow case: the network runs at the full max side and regions are found at up to
  2048 px); the time the engine adds around the network, the finishing's time beside that of
  the hybrid proposal alone (what the flood-first finishing adds to), and the peak memory.
  A first colouring keeps nothing from earlier runs; then the artist's loop: the same strokes in
  other colours (the line art's work is reused), then only the output kind changed (the
  network's output is reused too), each beside the first colouring.
* model alone: the same ONNX file in onnxruntime at the working size the engine chose, and the
  same network in PyTorch eager (the baseline onnxruntime beats), each in its own process.
Without --model, the default pix2pix-stroke architecture is exported with random weights:
speed does not depend on the weights. Every measurement runs in a fresh child process, so
peak memory (VmHWM) belongs to that measurement alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3  # timed runs after a warm-up (--repeats); the table shows their median
THREADS = 2


def _canvas(size: int, lines: str):
    from benchmarks.drawing import SIZE, draw_hints, draw_line_art
    thickness = max(1, round(5 * size / SIZE)) if lines == "scaled" else 3
    hint = cv2.resize(draw_hints(), (size, size), interpolation=cv2.INTER_NEAREST)
    return draw_line_art(size, thickness), hint


def _peak_mb() -> float:
    """Peak resident memory of this process image. Not ru_maxrss: Linux carries that across
    exec, so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_engine(model_path: str, size_and_lines: str) -> dict:
    from krita_deepcolor.engine import Options, colorize, load_model
    from krita_deepcolor.engine.reuse import RECENT
    model = load_model(model_path, device="cpu", threads=THREADS)
    size, lines = size_and_lines.split(":")
    line, hint = _canvas(int(size), lines)
    recoloured = np.ascontiguousarray(hint[:, :, [1, 2, 0, 3]])  # the same strokes, other colours

    def seconds(result) -> float:
        return sum(result.seconds.values())
    colorize(model, line, hint)  # warm-up: onnxruntime plans its memory on the first run
    totals, networks, finishes, proposals, agains, outputs, padded = [], [], [], [], [], [], None
    for _ in range(REPEATS):
        RECENT.clear()  # a first colouring: nothing kept from earlier runs
        result = colorize(model, line, hint, Options())
        totals.append(seconds(result))
        networks.append(result.seconds["network"])
        finishes.append(result.seconds["finish"])
        # the artist's loop: the hint colours changed (the line art's work is kept), then only
        # the output kind (the network's output is kept too)
        agains.append(seconds(colorize(model, line, recoloured, Options())))
        outputs.append(seconds(colorize(model, line, recoloured, Options(with_lines=True))))
        RECENT.clear()
        # the baseline the flood-first finishing is measured against: the hybrid proposal alone
        proposals.append(colorize(model, line, hint, Options(proposal_only=True)).seconds["finish"])
        padded = result.plan.padded
    return {"total": statistics.median(totals), "network": statistics.median(networks),
            "finish": statistics.median(finishes), "proposal_finish": statistics.median(proposals),
            "again": statistics.median(agains), "output_changed": statistics.median(outputs),
            "padded": padded, "peak_mb": _peak_mb()}


def _time(run) -> float:
    run()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child_onnxruntime(model_path: str, side: int) -> dict:
    from krita_deepcolor.engine import load_model
    model = load_model(model_path, device="cpu", threads=THREADS)
    line = np.ones((1, 1, side, side), np.float32)
    hint = np.zeros((1, 4, side, side), np.float32)
    return {"seconds": _time(lambda: model.run(line, hint)), "peak_mb": _peak_mb()}


# model metadata that fixes the architecture (the rest of a training config does not change it)
ARCHITECTURE_KEYS = ("variant", "width", "depth", "hints", "bins", "temperature", "propagation")


def _graph(variant_name: str, **architecture):
    from export.config import TrainConfig
    from export.variants import build_variant
    variant = build_variant(TrainConfig(variant=variant_name, run=tempfile.mkdtemp(), **architecture))
    return variant, variant.contract_graph().eval()


def _architecture_of(model_path: str) -> dict:
    """The training config fields an ONNX file's metadata records about its network, typed."""
    from krita_deepcolor.engine import load_model
    info = load_model(model_path, device="cpu", threads=1).info
    recorded = {"variant": info.variant, **info.extra}
    kinds = {"width": int, "depth": int, "bins": int, "temperature": float}
    return {key: kinds.get(key, str)(recorded[key]) for key in ARCHITECTURE_KEYS if key in recorded}


def child_torch(target: str, side: int) -> dict:
    """PyTorch eager on the architecture of ``target``: a variant name, or an ONNX file whose
    metadata names it (random weights either way: only the time counts)."""
    import torch
    torch.set_num_threads(THREADS)
    architecture = _architecture_of(target) if target.endswith(".onnx") else {"variant": target}
    _, graph = _graph(architecture.pop("variant"), **architecture)
    line = torch.ones(1, 1, side, side)
    hint = torch.zeros(1, 4, side, side)
    with torch.no_grad():
        seconds = _time(lambda: graph(line, hint))
    return {"seconds": seconds, "peak_mb": _peak_mb()}


def export_random(variant_name: str, path: Path) -> None:
    from export.onnx import export_graph, finish_model
    from krita_deepcolor.engine.contract import ModelInfo
    variant, _ = _graph(variant_name)
    export_graph(variant, path)
    finish_model(path, ModelInfo(
        name="speed-benchmark", variant=variant_name, train_size=variant.config.crop,
        size_multiple=variant.config.size_multiple, uses_hints=True, data="none (random weights)",
        license="GPL-3.0-or-later", description="random weights, for timing only"))


def _child(*args) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--repeats", str(REPEATS), "--child",
                           *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"child {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    global REPEATS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="ONNX file to time (default: default architecture, random weights)")
    parser.add_argument("--variant", default="pix2pix-stroke",
                        help="architecture to time without --model (with it: the model's own)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help=f"timed runs after a warm-up, each measurement (default {REPEATS}); the "
                        "engine's first runs in a process are slower while the allocator warms up")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    REPEATS = max(1, args.repeats)
    if args.child:
        kind, target, size = args.child
        runner = {"engine": child_engine, "onnxruntime": child_onnxruntime, "torch": child_torch}[kind]
        print(json.dumps(runner(target, size if kind == "engine" else int(size))))
        return 0

    workdir = Path(tempfile.mkdtemp())
    model = args.model
    if model is None:
        model = str(workdir / "random.onnx")
        export_random(args.variant, Path(model))
    try:
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False
    print(f"model: {model if args.model else args.variant + ' (random weights)'}; {THREADS} threads; "
          f"median of {REPEATS} runs after a warm-up")
    print("| canvas | lines | network at | engine end to end s | network s | engine adds s | finishing s "
          "(hybrid proposal alone) | again, hint colours changed s | again, output kind changed s "
          "| engine peak MB | onnxruntime alone s (peak MB) | PyTorch eager s (peak MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for lines in ("scaled", "thin"):
            engine = _child("engine", model, f"{size}:{lines}")
            side = engine["padded"][0]
            ort = _child("onnxruntime", model, side)
            eager = _child("torch", args.model or args.variant, side) if has_torch else None
            eager_cell = f"{eager['seconds']:.3f} ({eager['peak_mb']:.0f})" if eager else "n/a (no torch)"
            print(f"| {size}² | {lines} | {engine['padded'][1]}x{side} | {engine['total']:.3f} "
                  f"| {engine['network']:.3f} | {engine['total'] - engine['network']:.3f} "
                  f"| {engine['finish']:.3f} ({engine['proposal_finish']:.3f}) | {engine['again']:.3f} "
                  f"| {engine['output_changed']:.3f} | {engine['peak_mb']:.0f} "
                  f"| {ort['seconds']:.3f} ({ort['peak_mb']:.0f}) | {eager_cell} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

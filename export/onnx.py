"""Checkpoint -> contract ONNX file: ``python -m export.onnx CHECKPOINT -o models/NAME.onnx``.

The exported graph is the variant's ContractGraph (line, hint RGBA -> sRGB colour), with its
own processing inside. The file is checked by onnx.checker, opened with the engine's
load_model, and compared with PyTorch on random and real inputs; it is only moved into place
when the largest difference is below PARITY_TOLERANCE.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from krita_deepcolor.engine.contract import ModelInfo
from krita_deepcolor.engine.errors import EngineError
from krita_deepcolor.engine.runtime import load_model

from .checkpoints import load_checkpoint, restore_variant
from .errors import CheckpointError, ConfigError
from .variants import Variant

OPSET = 17
PARITY_TOLERANCE = 1e-3
LICENSE = ("CC0-1.0 weights, trained on public-domain and GPL art from Debian packages: "
           "see models/MODEL_CARD.md")


class ExportError(RuntimeError):
    """The export or its verification failed; the message says what happened."""


def model_info(variant: Variant, checkpoint: dict, name: str, description: str | None,
               license: str = LICENSE) -> ModelInfo:
    config = variant.config
    data = checkpoint.get("data_info") or {}
    return ModelInfo(
        name=name, variant=config.variant, train_size=config.crop, size_multiple=config.size_multiple,
        uses_hints=variant.uses_hints, data=data.get("summary") or "unknown", license=license,
        description=description or variant.description, line_width=data.get("line_width"),
        steps=int(checkpoint["step"]), images_seen=int(checkpoint["images_seen"]),
        extra=variant.extra_metadata())


def random_inputs(batch: int, height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Line art in [0, 1] with ink and paper, and sparse hints (alpha 0 or 1 in patches)."""
    generator = torch.Generator().manual_seed(seed)
    line = (torch.rand(batch, 1, height, width, generator=generator) > 0.1).float()
    hint = torch.rand(batch, 4, height, width, generator=generator)
    patches = torch.rand(batch, 1, height // 8, width // 8, generator=generator) > 0.8
    hint[:, 3:4] = torch.nn.functional.interpolate(patches.float(), size=(height, width), mode="nearest")
    return line, hint


def real_sample(variant: Variant, data_root: str | None) -> tuple[torch.Tensor, torch.Tensor] | None:
    """One validation item of the dataset, or None when the dataset is not at hand."""
    config = variant.config
    root = Path(data_root or config.data).expanduser()
    if not (root / "manifest.json").is_file():
        return None
    from export.data.dataset import PairDataset

    for split in ("val", "train"):
        dataset = PairDataset(str(root), split=split, crop=config.crop, hints=config.hints, seed=0)
        if len(dataset):
            item = dataset[0]
            return item["line"][None], item["hint"][None]
    return None


def export_graph(variant: Variant, path: Path) -> None:
    graph = variant.contract_graph().eval()
    side = variant.config.size_multiple * 2
    line, hint = random_inputs(1, side, side)
    axes = {0: "N", 2: "H", 3: "W"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(graph, (line, hint), str(path), dynamo=False, opset_version=OPSET,
                          input_names=["line", "hint"], output_names=["color"],
                          dynamic_axes={"line": axes, "hint": axes, "color": axes})


def finish_model(path: Path, info: ModelInfo) -> None:
    """Restore a contract input the exporter pruned, write the metadata, run onnx.checker."""
    model = onnx.load(str(path))
    present = {value.name for value in model.graph.input}
    for name, channels in (("line", 1), ("hint", 4)):
        if name not in present:  # a line-only network never reads the hints, but the contract has them
            model.graph.input.append(onnx.helper.make_tensor_value_info(
                name, onnx.TensorProto.FLOAT, ["N", channels, "H", "W"]))
    del model.metadata_props[:]
    for key, value in info.to_props().items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "krita-deepcolor export"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path), save_as_external_data=False)


def parity(variant: Variant, model, cases: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
    """Max |torch - onnxruntime| per named input case."""
    graph = variant.contract_graph().eval()
    differences = {}
    for name, (line, hint) in cases.items():
        with torch.no_grad():
            expected = graph(line, hint).numpy()
        actual = model.run(line.numpy(), hint.numpy())
        differences[name] = float(np.abs(expected - actual).max())
    return differences


def export_checkpoint(checkpoint_path, output, name: str | None = None, description: str | None = None,
                      data: str | None = None, expect_variant: str | None = None,
                      license: str = LICENSE, log=print) -> dict:
    """Export, verify, and move into place; returns a summary. Raises ExportError/CheckpointError."""
    checkpoint = load_checkpoint(checkpoint_path)
    stored_variant = checkpoint.get("config", {}).get("variant")
    if expect_variant and stored_variant != expect_variant:
        raise CheckpointError(f"{checkpoint['path']} is a {stored_variant} checkpoint, not {expect_variant}")
    variant = restore_variant(checkpoint)
    output = Path(output)
    name = name or output.stem
    info = model_info(variant, checkpoint, name, description, license)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.stem + ".tmp.onnx")
    try:
        export_graph(variant, temporary)
        finish_model(temporary, info)
        try:
            model = load_model(temporary, device="cpu")
        except EngineError as error:
            raise ExportError(f"the exported file breaks the model contract: {error}") from None
        if model.info.variant != info.variant or model.info.size_multiple != info.size_multiple:
            raise ExportError("the exported metadata does not read back as written")
        multiple = variant.config.size_multiple
        cases = {"random": random_inputs(2, 3 * multiple, 2 * multiple, seed=1),
                 "random-no-hints": (random_inputs(1, multiple * 2, multiple * 3, seed=2)[0],
                                     torch.zeros(1, 4, multiple * 2, multiple * 3)),
                 # near-constant feature maps are where per-image normalisation amplifies rounding most
                 "blank-page": (torch.ones(1, 1, multiple * 2, multiple * 2), torch.zeros(1, 4, multiple * 2,
                                                                                          multiple * 2))}
        sample = real_sample(variant, data)
        if sample is not None:
            cases["dataset"] = sample
        else:
            log("parity: no dataset at hand, checked random inputs only (pass --data DATASET)")
        differences = parity(variant, model, cases)
        for case, difference in differences.items():
            log(f"parity {case}: max abs difference {difference:.2e}")
        worst = max(differences.values())
        if not worst < PARITY_TOLERANCE:
            raise ExportError(f"onnxruntime and PyTorch differ by {worst:.2e} (> {PARITY_TOLERANCE}): "
                              "the file was not written")
        os.replace(temporary, output)
    finally:
        if temporary.exists():
            temporary.unlink()
    size = output.stat().st_size
    log(f"wrote {output} ({size / 1e6:.1f} MB): {info.variant}, step {info.steps}, size multiple "
        f"{info.size_multiple}, uses hints {info.uses_hints}")
    return {"path": str(output), "bytes": size, "parity": differences, "info": info}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.onnx",
                                     description="Convert a training checkpoint into a contract ONNX model.")
    parser.add_argument("checkpoint", help="checkpoint file or run folder (uses RUN/last.pt)")
    parser.add_argument("-o", "--output", required=True, help="where to write, e.g. models/NAME.onnx")
    parser.add_argument("--name", help="model name (default: the output file name)")
    parser.add_argument("--description", help="one sentence for the model picker")
    parser.add_argument("--data", help="dataset for the real-sample parity check (default: the training one)")
    parser.add_argument("--variant", help="refuse the checkpoint unless it is this variant")
    parser.add_argument("--license", default=LICENSE, help="licence of the weights")
    args = parser.parse_args(argv)
    try:
        export_checkpoint(args.checkpoint, args.output, args.name, args.description, args.data,
                          args.variant, args.license)
    except (CheckpointError, ConfigError, ExportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

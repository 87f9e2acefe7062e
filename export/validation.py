"""What the trainer measures while it trains: validation losses of the exported graph, the grid
of validation pictures, and the graph as the raw-quality scorer (export/quality.py) runs it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .losses import psnr
from .variants import Variant

VALIDATION_SEED = 1234  # the validation crops and hints never change during a run
GRID_ROWS = 4


def _hint_picture(hint: torch.Tensor) -> torch.Tensor:
    alpha = hint[3:4]
    return hint[:3] * alpha + (1.0 - alpha)


def write_grid(path: Path, batch: dict, outputs: dict[str, torch.Tensor]) -> None:
    """Rows: line | hint over white | each output | truth."""
    import cv2

    rows = []
    for i in range(min(GRID_ROWS, batch["line"].shape[0])):
        tiles = [batch["line"][i].expand(3, -1, -1), _hint_picture(batch["hint"][i])]
        tiles += [output[i] for output in outputs.values()] + [batch["color"][i]]
        rows.append(torch.cat([t.float().cpu().clamp(0, 1) for t in tiles], dim=2))
    grid = (torch.cat(rows, dim=1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.stem + ".tmp.png")
    cv2.imwrite(str(temporary), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    os.replace(temporary, path)


def evaluate(variant: Variant, batch: dict) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """L1 and PSNR of the eval-mode contract graph (what gets exported) on the validation set."""
    modules = [variant.generator] + ([variant.discriminator] if variant.discriminator else [])
    for module in modules:
        module.eval()
    try:
        outputs = variant.validation_outputs(batch)
    finally:
        for module in modules:
            module.train()
    metrics = {}
    for prefix, output in outputs.items():
        metrics[f"{prefix}l1"] = (output - batch["color"]).abs().mean().item()
        metrics[f"{prefix}psnr"] = psnr(output, batch["color"]).mean().item()
    return metrics, outputs


def on_cpu_numpy(graph: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The graph as a numpy-in, numpy-out module on ``device`` (for export/quality.py)."""
    if device.type == "cpu":
        return graph

    class OnDevice(torch.nn.Module):
        def forward(self, line, hint):
            return graph(line.to(device), hint.to(device)).float().cpu()
    return OnDevice()

"""Checkpoints: their format, writing, reading and turning one back into a variant.

A checkpoint is a ``torch.save`` dict marked with ``CHECKPOINT_FORMAT`` / ``CHECKPOINT_VERSION``
that holds the whole training config, the weights, the optimiser and RNG states and where the
run stands, so a run resumes (``export/train.py``) and a checkpoint exports
(``export/onnx.py``) with exactly the settings it was trained with.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .config import TrainConfig
from .errors import CheckpointError, ConfigError
from .variants import Variant, build_variant

CHECKPOINT_FORMAT = "krita-deepcolor-checkpoint"
CHECKPOINT_VERSION = 1
LAST = "last.pt"  # a run folder's checkpoint, rewritten as training goes on


def make_payload(variant: Variant, config: TrainConfig, step: int, images_seen: int, world_size: int,
            train_seconds: float, rng: dict, data_info: dict) -> dict:
    """What a checkpoint holds; ``rng`` is {"torch": state, "cuda": [state]} (no "cuda" on CPU)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "config": config.to_dict(),
        "step": step,
        "images_seen": images_seen,
        "world_size": world_size,
        "train_seconds": train_seconds,
        "generator": variant.generator.state_dict(),
        "discriminator": variant.discriminator.state_dict() if variant.discriminator else None,
        "optimizers": {name: opt.state_dict() for name, opt in variant.optimizers.items()},
        "variant_state": variant.extra_state(),
        "rng": rng,
        "data_info": data_info,
    }


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write to a temporary name first: a kill mid-write never leaves a broken checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path) -> dict:
    """Read and check a checkpoint (RUNDIR or file); raises CheckpointError with the reason."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / LAST
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there (train first, or name the .pt file)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for foreign files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: not a readable krita-deepcolor checkpoint ({first[:200]})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a krita-deepcolor checkpoint (no '{CHECKPOINT_FORMAT}' marker)")
    if payload.get("format_version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {payload.get('format_version')}, this toolchain "
                              f"reads {CHECKPOINT_VERSION}")
    payload["path"] = str(path)
    return payload


def restore_variant(checkpoint: dict, config: TrainConfig | None = None) -> Variant:
    """Build the checkpoint's variant and load its weights (refusing weights that do not fit)."""
    try:
        config = config or TrainConfig.from_dict(checkpoint["config"])
    except (ConfigError, TypeError, KeyError) as error:
        raise CheckpointError(f"{checkpoint['path']}: its config is unusable ({error})") from None
    variant = build_variant(config)
    source = checkpoint["path"]
    load_module_state(variant.generator, checkpoint["generator"], "generator", config, source)
    if variant.discriminator is not None and checkpoint.get("discriminator") is not None:
        load_module_state(variant.discriminator, checkpoint["discriminator"], "discriminator", config, source)
    variant.load_extra_state(checkpoint.get("variant_state") or {})
    return variant


def init_from(variant: Variant, path) -> dict:
    """Start ``variant``'s colour network from the one of the checkpoint at ``path`` (the
    --init-from of a new run); returns that checkpoint. The two must be one variant with one width
    and depth. A convolution the new recipe gives more inputs (--spill's channels) keeps the old
    weights and reads the new inputs with zeros; one it gives more outputs keeps the new outputs
    as the recipe starts them. So the first step paints exactly what the source painted (with a
    new, zero gate: the spill where the flood does not reach)."""
    source = load_checkpoint(path)
    stored = source["config"]
    config = variant.config
    mismatch = [f"{key} {stored.get(key)} (this run: {getattr(config, key)})"
                for key in ("variant", "width", "depth") if stored.get(key) != getattr(config, key)]
    if mismatch:
        raise ConfigError(f"--init-from {source['path']}: another network: {', '.join(mismatch)}")
    state = source["generator"]
    if stored.get("spill_gate"):  # a gated run: its colour network
        state = {key.removeprefix("colour."): value for key, value in state.items()
                 if key.startswith("colour.")}
    network = variant.colour_network()
    copied = set()
    with torch.no_grad():
        for name, module in network.named_modules():
            if not isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                continue
            copied |= {f"{name}.weight", f"{name}.bias"}
            weight, old = module.weight, state.get(f"{name}.weight")
            if old is None or old.dim() != weight.dim() or old.shape[2:] != weight.shape[2:]:
                raise ConfigError(f"--init-from {source['path']}: its layer {name} does not fit this network")
            # Conv2d weights are [out, in, ...], ConvTranspose2d [in, out, ...]
            inputs, outputs = (1, 0) if isinstance(module, nn.Conv2d) else (0, 1)
            if old.shape[inputs] > weight.shape[inputs] or old.shape[outputs] > weight.shape[outputs]:
                raise ConfigError(f"--init-from {source['path']}: its layer {name} is wider than this "
                                  "network's")
            kept = [slice(None)] * weight.dim()
            kept[inputs], kept[outputs] = slice(0, old.shape[inputs]), slice(0, old.shape[outputs])
            added = [slice(None)] * weight.dim()
            added[inputs] = slice(old.shape[inputs], None)
            weight[tuple(added)] = 0.0  # new inputs are read with zeros
            weight[tuple(kept)] = old
            if module.bias is not None:
                module.bias[:old.shape[outputs]] = state[f"{name}.bias"]
        rest = {key: value for key, value in state.items() if key not in copied}
        load_module_state(network, {**network.state_dict(), **rest}, "generator", config, source["path"])
    return source


def load_module_state(module: nn.Module, state: dict, what: str, config: TrainConfig, source: str) -> None:
    """load_state_dict with a one-line refusal when the weights do not fit."""
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        detail = str(error).strip().splitlines()
        first = next((line.strip() for line in detail[1:] if line.strip()), detail[0] if detail else "")
        raise CheckpointError(f"{source}: its {what} weights do not fit a {config.variant} network with "
                              f"width {config.width} and depth {config.depth} ({first}); the file is damaged "
                              "or was edited: export another checkpoint") from None

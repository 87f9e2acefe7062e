"""Every training option and the command line that sets it; what differs between variants
(defaults, hints, adversarial term, flood) comes from the variant classes in export/variants.py.

The whole config is stored in each checkpoint as a plain dict, so a run resumes, and a
checkpoint exports, with exactly the settings it was trained with.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from krita_deepcolor.engine.runtime import DEVICES

from .data.dataset import STROKE_HINT_KINDS
from .data.sources import DEFAULT_DATASET
from .errors import ConfigError
from .variants import VARIANT_CLASSES

TRAINABLE_VARIANTS = tuple(VARIANT_CLASSES)
GAN_VARIANTS = tuple(name for name, variant in VARIANT_CLASSES.items() if variant.gan)
# Variants that can read a line-aware flood of the hints (export/propagation.py) beside them.
PROPAGATION_VARIANTS = tuple(name for name, variant in VARIANT_CLASSES.items() if variant.propagation)
HINT_KINDS = tuple(dict.fromkeys(kind for variant in VARIANT_CLASSES.values() for kind in variant.hints))

# Options a resumed run may change; any other option must match the checkpoint.
RESUME_OVERRIDABLE = {"data", "steps", "val_every", "ckpt_every", "val_minutes", "ckpt_minutes", "device",
                      "log_every", "workers", "threads", "gan_weight", "gan_start", "amp", "val_images",
                      "quality_images", "hit_weight", "hit_sigma",
                      # the same parameters, a new base: a spill run may go on from it
                      "spill_base"}
GATE_TARGETS = ("hit", "closer")
# --propagation flood: the default coarse-to-fine schedule, "block:steps" per level
FLOOD_LEVELS = "16:32,8:16,4:16,2:8"


def parse_levels(text: str) -> tuple[tuple[int, int], ...]:
    """"16:32,8:16,4:16" -> ((16, 32), (8, 16), (4, 16)); raises ConfigError."""
    try:
        levels = tuple(tuple(int(v) for v in part.split(":")) for part in text.split(","))
    except ValueError:
        levels = ()
    if not levels or any(len(level) != 2 or level[0] < 1 or level[1] < 0 for level in levels):
        raise ConfigError(f"--propagation {text!r}: use none, flood, or levels like {FLOOD_LEVELS}")
    scales = [scale for scale, _ in levels]
    pairs = zip(scales, scales[1:], strict=False)
    if scales != sorted(set(scales), reverse=True) or any(a % b for a, b in pairs):
        raise ConfigError(f"--propagation {text!r}: block sides must fall, each dividing the one before")
    return levels


@dataclass
class TrainConfig:
    variant: str
    run: str
    data: str = str(DEFAULT_DATASET)
    steps: int = 20000
    batch: int = 8
    crop: int = 256
    lr: float = 2e-4
    beta1: float | None = None
    width: int | None = None
    depth: int | None = None
    hints: str | None = None
    seed: int = 0
    device: str = "auto"
    amp: bool = False  # bfloat16 autocast on CUDA
    workers: int = 1
    threads: int = 0  # torch intra-op threads, 0 = torch's default
    log_every: int = 10
    val_every: int = 500
    val_minutes: float = 0.0  # when > 0, also validate at least this often
    ckpt_every: int = 500
    ckpt_minutes: float = 0.0  # when > 0, also checkpoint at least this often
    val_images: int = 8
    # validation pictures scored whole with simulated hints (export/quality.py); 0 = none
    quality_images: int = 64
    # pix2pix loss: gan_weight * adversarial + l1_weight * L1; no adversarial term before gan_start.
    gan_weight: float | None = None
    l1_weight: float = 100.0
    gan_start: int = 0
    # + hit_weight * colour_miss (export/losses.py), a mode-seeking pull toward the truth
    hit_weight: float = 0.0
    hit_sigma: float = 10.0
    ndf: int = 64
    d_layers: int = 3
    # Classification: colour bins per channel, soft-encoding width (bins), rebalancing mix
    # (lambda; 1 = no rebalancing), images for the class histogram, annealed-mean temperature.
    bins: int = 8
    sigma: float = 0.5
    rebalance: float = 0.5
    class_images: int = 200
    temperature: float = 0.38
    # deepcolor inference hints: box blur side (px) and fade (the fraction of its distance from
    # white a hint colour keeps; the seed's x0.3). None = derived from the data's hint simulation.
    hint_blur: int | None = None
    hint_fade: float | None = 0.3
    augment: bool = True  # scale/crop/flip/line-weight jitter of the training crops
    # "none", or the level schedule of a line-aware flood of the hints fed to the
    # network beside them, whose output is then a correction of that flood ("flood" = FLOOD_LEVELS)
    propagation: str = "none"
    # with propagation: also the strokes' colours spilled across the lines (a flood that ignores
    # the line art), so the network can carry a colour into regions no stroke is in
    spill: bool = False
    # with spill: where the flood does not reach, the output starts from the spill, not white
    spill_base: bool = False
    # with spill (pix2pix-stroke): a gate network beside the colour network that picks per pixel
    # the spill or the colour network's colour where the flood does not reach, trained on which
    # one is right; gate_width is its first level's channels (same depth)
    spill_gate: bool = False
    gate_width: int = 8
    # what the gate learns: "hit" = the candidate within dE76 10 where only one is; "closer" =
    # the closer candidate everywhere, weighted by how much closer (up to 10 dE76)
    gate_target: str = "hit"
    # with spill_gate and init_from: only the gate learns, the colour network stays as it was
    freeze_colour: bool = False
    # a new run starts from this run's (or checkpoint's) colour network; inputs the new recipe
    # adds are read with zeros (export/checkpoints.py)
    init_from: str | None = None

    def __post_init__(self):
        if self.variant not in TRAINABLE_VARIANTS:
            raise ConfigError(f"unknown variant {self.variant!r}: choose one of "
                              f"{', '.join(TRAINABLE_VARIANTS)}")
        variant = VARIANT_CLASSES[self.variant]
        for key, value in {**variant.defaults, "hints": variant.hints[0]}.items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.validate()

    @property
    def size_multiple(self) -> int:
        return 2 ** self.depth

    @property
    def propagation_levels(self) -> tuple[tuple[int, int], ...] | None:
        return None if self.propagation == "none" else parse_levels(self.propagation)

    @property
    def uses_gan(self) -> bool:
        return self.variant in GAN_VARIANTS and self.gan_weight > 0

    def validate(self) -> None:
        variant = VARIANT_CLASSES[self.variant]
        if self.hints not in variant.hints:
            raise ConfigError(f"--hints {self.hints} does not fit {self.variant}: use "
                              f"{' or '.join(variant.hints)}")
        if self.gan_weight > 0 and self.variant not in GAN_VARIANTS:
            raise ConfigError(f"--gan-weight applies to {', '.join(GAN_VARIANTS)} only, not {self.variant}")
        if self.hit_weight < 0 or self.hit_sigma <= 0:
            raise ConfigError("--hit-weight must be 0 or more and --hit-sigma above 0")
        if self.hit_weight > 0 and self.variant not in GAN_VARIANTS:
            raise ConfigError(f"--hit-weight applies to {', '.join(GAN_VARIANTS)} only, not {self.variant}")
        variant.check(self)
        if self.propagation == "flood":
            self.propagation = FLOOD_LEVELS
        if self.propagation != "none":
            if self.variant not in PROPAGATION_VARIANTS:
                raise ConfigError(f"--propagation applies to {', '.join(PROPAGATION_VARIANTS)} only")
            if self.hints not in STROKE_HINT_KINDS:
                raise ConfigError(f"--propagation floods hint strokes: it needs --hints strokes, "
                                  f"not {self.hints}")
            block = self.propagation_levels[0][0]
            if self.size_multiple % block:
                raise ConfigError(f"--propagation {self.propagation}: blocks of {block} px need "
                                  f"2**depth to be a multiple of {block}: raise --depth")
        if self.spill and self.propagation == "none":
            raise ConfigError("--spill adds to the flood of --propagation: give --propagation flood too")
        if self.spill_base and not self.spill:
            raise ConfigError("--spill-base starts the output from the spill: give --spill too")
        if self.spill_gate and not self.spill:
            raise ConfigError("--spill-gate chooses the spill where it is right: give --spill too")
        if self.spill_gate and self.variant != "pix2pix-stroke":
            raise ConfigError("--spill-gate applies to pix2pix-stroke only")
        if self.gate_target not in GATE_TARGETS:
            raise ConfigError(f"--gate-target {self.gate_target}: use {' or '.join(GATE_TARGETS)}")
        if self.gate_width < 1:
            raise ConfigError(f"--gate-width {self.gate_width}: give at least 1 channel")
        if self.freeze_colour and not (self.spill_gate and self.init_from):
            raise ConfigError("--freeze-colour keeps the colour network of --init-from and trains the "
                              "gate of --spill-gate alone: give both")
        if self.quality_images < 0:
            raise ConfigError("--quality-images must be 0 (off) or more")
        if self.crop % self.size_multiple:
            raise ConfigError(f"--crop {self.crop} must be a multiple of 2**depth = {self.size_multiple}: "
                              "change --crop or --depth")
        if self.device not in DEVICES:
            raise ConfigError(f"--device {self.device} is unknown: use {', '.join(DEVICES)}")
        for name in ("steps", "batch", "width", "log_every", "val_every", "ckpt_every", "val_images"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0.0 <= self.rebalance <= 1.0:
            raise ConfigError("--rebalance must be in [0, 1] (1 = no class rebalancing)")
        if self.hint_fade is not None and not 0.0 < self.hint_fade <= 1.0:
            raise ConfigError("--hint-fade must be in (0, 1]")
        if self.hint_blur is not None and self.hint_blur < 1:
            raise ConfigError("--hint-blur must be at least 1 pixel")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"checkpoint config has unknown settings {unknown}: made by a newer toolchain?")
        return cls(**values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m export.train",
        description="Train a krita-deepcolor generator; rerun the same command to resume from RUN/last.pt.")
    add = parser.add_argument
    add("--variant", required=True, choices=TRAINABLE_VARIANTS)
    add("--run", "--run-dir", dest="run", required=True,
        help="run folder: checkpoints, validation images, metrics (--run-dir: the same, for torchrun, "
             "whose own parser takes --run for an abbreviation of its --run-path)")
    add("--data", help=f"dataset folder (default {DEFAULT_DATASET})")
    add("--steps", type=int, help="train until this many optimiser steps (default 20000)")
    add("--batch", type=int, help="images per step and process (default 8)")
    add("--crop", type=int, help="training crop side in pixels (default 256)")
    add("--lr", type=float, help="Adam learning rate (default 2e-4)")
    add("--beta1", type=float, help="Adam beta1 (default 0.5 for GAN variants, 0.9 otherwise)")
    add("--width", type=int, help="channels of the first level")
    add("--depth", type=int, help="number of stride-2 levels (inputs are multiples of 2**depth)")
    add("--hints", choices=HINT_KINDS,
        help="hint simulation: strokes (random scribbles, some on the background), regions "
             "(pix2pix-stroke: a stroke in each of the N largest regions of the figure, as the quality "
             "benchmark's users), deepcolor, none (poster variants: strokes|none)")
    add("--seed", type=int)
    add("--device", choices=DEVICES)
    add("--amp", action="store_true", default=None, help="bfloat16 autocast on CUDA")
    add("--workers", type=int, help="data loader processes (default 1)")
    add("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    add("--log-every", type=int, help="steps between progress lines")
    add("--val-every", type=int, help="steps between validations")
    add("--val-minutes", type=float, help="also validate at least every this many minutes")
    add("--ckpt-every", type=int, help="steps between checkpoints")
    add("--ckpt-minutes", type=float, help="also checkpoint at least every this many minutes")
    add("--val-images", type=int, help="validation images (default 8)")
    add("--quality-images", type=int,
        help="validation pictures scored whole, raw output with and without simulated hints "
             "(default 64, 0 = off; see export/quality.py)")
    add("--propagation",
        help=f"{', '.join(PROPAGATION_VARIANTS)}: 'flood' (or levels 'block:steps,...') feeds a "
             "line-aware flood of the hint strokes to the network and makes its output start from "
             "it; 'none' (default)")
    add("--spill", action="store_true", default=None,
        help="with --propagation: the network also reads the strokes' colours spilled across the "
             "lines (nearest stroke's colour, up to 512 px), for regions no stroke is in")
    add("--spill-base", action="store_true", default=None,
        help="with --spill: where the flood does not reach, the output starts from the spill "
             "instead of white, so the network only corrects a carried colour (a --spill run may "
             "go on with it)")
    add("--spill-gate", action="store_true", default=None,
        help="with --spill (pix2pix-stroke): a gate network beside the colour network picks, where "
             "the flood does not reach but the spill does, the spill or the colour network's colour, "
             "trained on which of the two is within dE76 10 of the truth where only one is")
    add("--gate-width", type=int, help="channels of the gate network's first level (default 8)")
    add("--gate-target", choices=GATE_TARGETS,
        help="what --spill-gate learns: hit (default) = whichever of spill and own colour is within "
             "dE76 10 of the truth where only one is; closer = whichever is closer, everywhere, "
             "weighted by how much closer (up to 10 dE76), so a choice both get wrong still counts")
    add("--freeze-colour", action="store_true", default=None,
        help="with --spill-gate and --init-from: train the gate alone, the colour network stays "
             "exactly the one of --init-from")
    add("--init-from", metavar="RUN",
        help="start a new run from the colour network of RUN (a run folder or .pt file) of the "
             "same variant, width and depth; inputs this recipe adds (--spill) are read with zeros "
             "and a new --spill-gate starts at the spill, so the first step paints what RUN painted "
             "wherever the flood reaches")
    add("--gan-weight", type=float, help="adversarial loss weight (0 = L1 only)")
    add("--l1-weight", type=float, help="L1 loss weight of the pix2pix loss (default 100)")
    add("--hit-weight", type=float,
        help="weight of a loss that stops pulling a few --hit-sigma off the truth, so the "
             "output commits to one likely colour where L1 takes the median (default 0 = off; "
             "a resumed run may add it)")
    add("--hit-sigma", type=float, help="width of that loss in CIE dE76 (default 10)")
    add("--gan-start", type=int, help="step from which the adversarial loss is used")
    add("--ndf", type=int, help="PatchGAN discriminator width")
    add("--d-layers", type=int, help="PatchGAN layers")
    add("--bins", type=int, help="colour bins per channel (classification)")
    add("--sigma", type=float, help="soft-encoding Gaussian width in bins")
    add("--rebalance", type=float, help="uniform share lambda of the class rebalancing (1 = off)")
    add("--class-images", type=int, help="training images used for the class histogram")
    add("--temperature", type=float, help="annealed-mean temperature of the class decoding")
    add("--hint-blur", type=int, help="deepcolor inference hint blur in px (default: the data's, 100)")
    add("--hint-fade", type=float,
        help="deepcolor inference hint fade: fraction of a colour's distance from white kept (default: "
             "the seed's 0.3; the expected share of pixels the training white-outs leave is 0.955 for "
             "30 of 10x10 px at 256 px)")
    add("--no-augment", dest="augment", action="store_false", default=None,
        help="no scale/crop/flip/line-weight jitter (training crops become a pure function of the seed)")
    return parser


def parse_train_args(argv=None) -> tuple[dict, argparse.ArgumentParser]:
    """Command line -> the options the user actually gave (None-valued ones dropped)."""
    parser = build_parser()
    given = {key: value for key, value in vars(parser.parse_args(argv)).items() if value is not None}
    if "data" in given:
        given["data"] = str(Path(given["data"]).expanduser())
    given["run"] = str(Path(given["run"]).expanduser())
    if "init_from" in given:
        given["init_from"] = str(Path(given["init_from"]).expanduser())
    return given, parser


def merge_for_resume(stored: dict, given: dict) -> TrainConfig:
    """The checkpoint's config with the allowed overrides from the command line applied."""
    if given.get("propagation") == "flood":  # stored expanded
        given = {**given, "propagation": FLOOD_LEVELS}
    if given["variant"] != stored["variant"]:
        raise ConfigError(f"{given['run']} holds a {stored['variant']} run, not {given['variant']}: "
                          "use another --run folder or the same --variant")
    conflicts = [key for key, value in given.items()
                 if key not in RESUME_OVERRIDABLE | {"run", "variant"} and stored.get(key) != value]
    if conflicts:
        described = ", ".join(f"--{k.replace('_', '-')} {given[k]} (was {stored.get(k)})" for k in conflicts)
        raise ConfigError(f"cannot resume {given['run']} with changed settings: {described}; "
                          "drop them or start a new --run folder")
    values = dict(stored)
    values.update({k: v for k, v in given.items() if k in RESUME_OVERRIDABLE})
    values["run"] = given["run"]
    return TrainConfig.from_dict(values)

"""The dataset folder -> training crops with simulated hints, as torch tensors.

Augmentation (train only): scale jitter, random crop, horizontal flip, line-weight jitter
(ink grown or thinned by one pixel). Validation is deterministic: the same index always gives the
same centre crop and the same hints.

Every random draw (crop, flip, line weight, hints) is a pure function of the dataset seed, the
index and, for augmented training, the sample's global position in the run (the trainer's sampler
passes ``(index, position)``; the position also fixes the epoch). Nothing depends on the process,
the DataLoader worker or how many items were read before, so a run resumed from a checkpoint sees
exactly the crops and hints an uninterrupted run would.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from krita_deepcolor.engine import imageio, imaging

from . import hints as hint_simulation

HINT_KINDS = ("strokes", "regions", "deepcolor", "none")
# the kinds that are strokes on an otherwise empty hint layer: what a flood can carry
STROKE_HINT_KINDS = ("strokes", "regions")
SCALE_JITTER = (0.75, 1.33)
FLIP_SHARE = 0.5
THICKER_SHARE = 0.2  # ink grown by one pixel
THINNER_SHARE = 0.15  # ink thinned by one pixel, only where lines are thick enough to survive it
THIN_ENOUGH_WIDTH = 3.0


class DatasetError(RuntimeError):
    """The dataset folder is missing or not what ``python -m export.data build`` writes."""


def load_manifest(root) -> dict:
    path = Path(root).expanduser() / "manifest.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise DatasetError(f"{path} not found: build it with `python -m export.data build`") from error
    except ValueError as error:
        raise DatasetError(f"{path} is not valid JSON: rebuild with `python -m export.data build`") from error


class PairDataset(torch.utils.data.Dataset):
    """Line/colour pairs of one split, as float32 CHW tensors of ``crop`` x ``crop``:
    ``line`` [1] 1 = paper, ``color`` [3] sRGB over white, ``mask`` [1] truth alpha,
    ``hint`` [4] straight RGBA, exactly what the ONNX ``hint`` input would receive."""

    def __init__(self, root, split: str = "train", crop: int = 256, hints: str = "strokes",
                 augment: bool | None = None, seed: int = 0):
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', not {split!r}")
        if hints not in HINT_KINDS:
            raise ValueError(f"hints must be one of {', '.join(HINT_KINDS)}, not {hints!r}")
        self.root = Path(root).expanduser()
        self.manifest = load_manifest(self.root)
        self.samples = [s for s in self.manifest["samples"] if s["split"] == split]
        if not self.samples:
            raise DatasetError(f"{self.root}: no {split} samples; rebuild with more files (--limit)")
        self.split, self.crop, self.hints, self.seed = split, crop, hints, seed
        self.augment = (split == "train") if augment is None else augment

    def __len__(self) -> int:
        return len(self.samples)

    def _rng(self, index: int, position: int | None) -> np.random.Generator:
        """The draws of one item: [seed, index] alone without a position or augmentation, else
        [seed, index, position + 1] (+1: numpy pads short seeds with zeros, so a trailing 0 would
        repeat the position-free draw)."""
        if not self.augment or position is None:
            return np.random.default_rng([self.seed, index])
        return np.random.default_rng([self.seed, index, position + 1])

    def _read(self, sample: dict) -> tuple[np.ndarray, np.ndarray]:
        folder = self.root / sample["split"]
        colour = imageio.read_image(folder / f"{sample['id']}.color.png")
        line = imageio.read_image(folder / f"{sample['id']}.line.png")
        return imaging.as_rgba(colour), imaging.line_from_rgba(line)

    def _crop_box(self, shape, rng: np.random.Generator) -> tuple[float, float, float]:
        """(top, left, side) of the square taken from the stored image, before scaling to ``crop``."""
        height, width = shape
        if self.augment:
            side = self.crop / rng.uniform(*SCALE_JITTER)
        else:
            side = float(self.crop)
        # images smaller than the crop are enlarged to fill it
        side = min(side, float(min(height, width))) if min(height, width) < self.crop else side
        top = rng.uniform(0, max(height - side, 0)) if self.augment else max(height - side, 0) / 2
        left = rng.uniform(0, max(width - side, 0)) if self.augment else max(width - side, 0) / 2
        return top, left, side

    def _cut(self, image: np.ndarray, box, border) -> np.ndarray:
        """Cut the square ``box`` and scale it to crop x crop; outside the image is ``border``."""
        top, left, side = box
        scale = self.crop / side
        matrix = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], np.float32)
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        out = cv2.warpAffine(image, matrix, (self.crop, self.crop), flags=interpolation,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=border)
        return out.reshape((self.crop, self.crop) + image.shape[2:])

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        """``dataset[index]``: one fixed draw per index; ``dataset[index, position]``: the draw
        for the sample at that global position of a training run (fresh crops every epoch)."""
        index, position = (key, None) if isinstance(key, (int, np.integer)) else key
        index = int(index)
        position = None if position is None else int(position)
        sample = self.samples[index]
        rng = self._rng(index, position)
        rgba, line = self._read(sample)
        unit = rgba.astype(np.float32) / np.float32(imaging.full_scale(rgba))
        unit[:, :, :3] *= unit[:, :, 3:4]  # resampled premultiplied: no dark fringe at the figure's edge
        box = self._crop_box(line.shape, rng)
        unit = self._cut(unit, box, (0.0, 0.0, 0.0, 0.0))
        line = self._cut(line, box, 1.0)
        mask = np.clip(unit[:, :, 3], 0.0, 1.0)
        colour = np.clip(unit[:, :, :3] + (1.0 - mask[:, :, None]), 0.0, 1.0)  # over white
        if self.augment:
            if rng.random() < FLIP_SHARE:
                colour, line, mask = colour[:, ::-1], line[:, ::-1], mask[:, ::-1]
            weight = rng.random()
            kernel = np.ones((3, 3), np.uint8)
            if weight < THICKER_SHARE:
                line = cv2.erode(np.ascontiguousarray(line), kernel)  # paper shrinks: ink grows
            elif weight < THICKER_SHARE + THINNER_SHARE and sample["line_width"] >= THIN_ENOUGH_WIDTH:
                line = cv2.dilate(np.ascontiguousarray(line), kernel)
        colour, line, mask = (np.ascontiguousarray(a, dtype=np.float32) for a in (colour, line, mask))
        if self.hints == "strokes":
            hint = hint_simulation.stroke_hints(colour, mask, rng)
        elif self.hints == "regions":
            hint = hint_simulation.user_region_hints(colour, line, mask, rng)
        elif self.hints == "deepcolor":
            hint = hint_simulation.deepcolor_hints(colour, rng)
        else:
            hint = np.zeros(colour.shape[:2] + (4,), np.float32)
        return {"line": torch.from_numpy(line[None].copy()),
                "color": torch.from_numpy(colour.transpose(2, 0, 1).copy()),
                "mask": torch.from_numpy(mask[None].copy()),
                "hint": torch.from_numpy(hint.transpose(2, 0, 1).copy())}

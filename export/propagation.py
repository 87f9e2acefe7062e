"""Line-aware hint propagation: a fixed, parameter-free flood of the hint colours that stops at
the line art, computed inside the graph before the generator.

A U-Net trained for an hour or two on a CPU does not learn to carry a stroke's colour across a
region (measured: 12 % of the pixels of stroked regions right, a plain flood 84 %). This module
does that part without learning, so the network only has to correct it:

1. Walls at 1/``scale`` resolution: a block is paper only when every pixel in it is paper
   (min-pooling), so a line one pixel thin still separates the regions on either side.
2. Seeds: the hint colour and coverage of each block (premultiplied, average-pooled).
3. Steps of a front that moves one block per step through 4-connected paper (a diagonal chain
   of wall blocks stops it): a paper block the front touches takes the mean colour of its
   reached neighbours, its reach grows to 1 within a step, and once reached it keeps its
   colour. Two strokes in one region meet half way; a region no stroke is in is never reached.
   Coarse to fine (``levels``): blocks of 16 px carry a colour far in few steps, then 8, 4
   and 2 px blocks, starting from the coarser result, reach into the narrow parts the coarse walls
   closed (coarse walls cover the fine ones, so no level crosses a line the finest one sees).
4. Colour and reach go back to full resolution (bilinear, then normalised like a step, so the
   paper pixels of a block that holds ink take the colour of the reached blocks beside them),
   with a proximity map (the mean reach over all steps: 1 at a seed, lower the more steps it
   took to arrive).

Outputs (all [N, C, H, W] at the input's H and W): ``colour`` premultiplied by ``reach`` (so
``colour + 1 - reach`` is the flood over white), ``reach`` in [0, 1] and ``proximity`` in [0, 1].
Everything is Conv, pooling, Resize and elementwise operators: the legacy ONNX exporter unrolls
the loop, and onnxruntime runs it on the CPU in a small fraction of the network's time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Reach of a block once the mean weight of its reached neighbours passes this (a soft "touched").
REACH_FLOOR = 0.05
INK_THRESHOLD = 0.5  # line value below which a pixel is ink
# (block side in pixels, steps): 1/16 carries a colour far (32 blocks = 512 px), 1/8, 1/4 and
# 1/2 carry it into the narrower parts and the margins along the lines the coarse walls closed.
DEFAULT_LEVELS = ((16, 32), (8, 16), (4, 16), (2, 8))


class HintPropagation(nn.Module):
    """(line [N,1,H,W], hint [N,4,H,W] straight RGBA) -> (colour*reach [N,3], reach [N,1],
    proximity [N,1]) at H, W. ``levels`` is the coarse-to-fine schedule, (block side, steps)
    each; H and W must be multiples of the largest block side."""

    def __init__(self, levels: tuple[tuple[int, int], ...] = DEFAULT_LEVELS):
        super().__init__()
        self.levels = tuple((int(scale), int(steps)) for scale, steps in levels)
        scales = [scale for scale, _ in self.levels]
        if scales != sorted(scales, reverse=True) or len(set(scales)) != len(scales):
            raise ValueError(f"levels {levels}: block sides must fall from coarse to fine")
        if any(a % b for a, b in zip(scales, scales[1:], strict=False)):
            raise ValueError(f"levels {levels}: each block side must divide the one before")
        self.size_multiple = scales[0]
        self.steps = sum(steps for _, steps in self.levels)
        cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
        # a buffer, not a parameter, and not saved: checkpoints stay the generator's weights only
        self.register_buffer("kernel", cross.expand(4, 1, 3, 3).clone(), persistent=False)

    def small(self, line: torch.Tensor, hint: torch.Tensor):
        """The finest level's state after every step: (colour*reach [N,3] + reach [N,1]), the
        proximity [N,1], and that level's paper blocks [N,1]."""
        ink = (line < INK_THRESHOLD).to(line.dtype)
        alpha = hint[:, 3:4]
        premultiplied = torch.cat([hint[:, :3] * alpha, alpha], 1)
        state = total = paper = None
        previous = None
        for scale, steps in self.levels:
            paper = 1.0 - F.max_pool2d(ink, scale)  # a block is paper only if all of it is
            pooled = F.avg_pool2d(premultiplied, scale)
            coverage = pooled[:, 3:4]
            # a block a stroke covers by a quarter or more is a seed of the stroke's mean colour
            strength = (coverage * 4.0).clamp(0.0, 1.0)
            seed = pooled * (strength / coverage.clamp(min=1e-6)) * paper
            hold = (1.0 - strength) * paper
            if state is None:
                state, total = seed, torch.zeros_like(seed)
            else:
                factor = float(previous // scale)
                state = F.interpolate(state, scale_factor=factor, mode="nearest") * hold + seed
                total = F.interpolate(total, scale_factor=factor, mode="nearest")
            for _ in range(steps):
                spread = F.conv2d(state, self.kernel, padding=1, groups=4)
                # colour = rgb / w and reach = min(w / REACH_FLOOR, 1), both from one division
                arrived = spread / spread[:, 3:4].clamp(min=REACH_FLOOR) * hold + seed
                # a block keeps the colour it was reached with: two strokes meet half way
                # instead of blurring into each other
                state = state + (arrived - state) * (1.0 - state[:, 3:4])
                total = total + state
            previous = scale
        return state, total[:, 3:4] / float(self.steps), paper

    def forward(self, line: torch.Tensor, hint: torch.Tensor):
        state, proximity, _ = self.small(line, hint)
        scale = self.levels[-1][0]
        if scale == 1:
            return state[:, :3], state[:, 3:4], proximity
        full = F.interpolate(torch.cat([state, proximity], 1), scale_factor=float(scale), mode="bilinear",
                             align_corners=False)
        # the same normalisation as a step: pixels next to a reached block (the paper beside the
        # lines, inside blocks that hold ink) take its colour
        state = full[:, :4] / full[:, 3:4].clamp(min=REACH_FLOOR)
        return state[:, :3], state[:, 3:4], full[:, 4:5].clamp(0.0, 1.0)

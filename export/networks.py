"""Every network of the toolchain, one class each.

Normalisation is per image (InstanceNorm, no running statistics), so a network behaves the
same in training and in the exported file; BatchNorm in eval mode was measured ruining an
export. No dropout for the same reason. All generators take an input of any H, W that is a
multiple of ``size_multiple``.
"""

from __future__ import annotations

import torch
from torch import nn


def norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)


def level_widths(width: int, depth: int, cap: int = 8) -> list[int]:
    """Channels per level: width, 2*width, 4*width, 8*width, then 8*width again (pix2pix)."""
    return [width * min(2 ** level, cap) for level in range(depth)]


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """pix2pix initialisation: N(0, 0.02) convolutions, N(1, 0.02) norm scales."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.InstanceNorm2d) and layer.affine:
            nn.init.normal_(layer.weight, 1.0, gain)
            nn.init.zeros_(layer.bias)


class StridedUNet(nn.Module):
    """Encoder of stride-2 convolutions, decoder of stride-2 transposed convolutions, a skip
    connection at every level, tanh output. ``kernel`` 4 is pix2pix's U-Net, 5 is deepcolor's.

    depth = number of stride-2 levels; H and W must be multiples of 2**depth.
    """

    def __init__(self, in_channels: int, out_channels: int = 3, width: int = 32, depth: int = 7,
                 kernel: int = 4):
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth {depth} is too shallow: use at least 2 levels")
        self.size_multiple = 2 ** depth
        widths = level_widths(width, depth)
        padding = (kernel - 1) // 2
        # ConvTranspose2d doubles the size exactly with these paddings for kernels 4 and 5.
        up_padding, output_padding = (1, 0) if kernel % 2 == 0 else (kernel // 2, 1)

        def down(cin, cout, first, innermost):
            layers = [] if first else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(cin, cout, kernel, 2, padding, bias=first or innermost))
            if not (first or innermost):  # the innermost level may be 1x1: no per-image statistics
                layers.append(norm(cout))
            return nn.Sequential(*layers)

        def up(cin, cout, last):
            layers = [nn.ReLU(), nn.ConvTranspose2d(cin, cout, kernel, 2, up_padding, output_padding,
                                                    bias=last)]
            layers.append(nn.Tanh() if last else norm(cout))
            return nn.Sequential(*layers)

        self.downs = nn.ModuleList(
            down(in_channels if i == 0 else widths[i - 1], widths[i], i == 0, i == depth - 1)
            for i in range(depth))
        ups = []
        for i in reversed(range(depth)):
            cin = widths[i] if i == depth - 1 else 2 * widths[i]
            cout = out_channels if i == 0 else widths[i - 1]
            ups.append(up(cin, cout, i == 0))
        self.ups = nn.ModuleList(ups)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.downs:
            x = layer(x)
            skips.append(x)
        skips.pop()  # the innermost output is x itself
        for layer in self.ups:
            x = layer(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        return x


def pix2pix_unet(in_channels: int, width: int = 32, depth: int = 7, out_channels: int = 3) -> StridedUNet:
    """pix2pix's U-Net: 4x4 stride-2 convolutions, width and depth as parameters."""
    return StridedUNet(in_channels, out_channels, width, depth, kernel=4)


def deepcolor_unet(in_channels: int = 4, width: int = 32, depth: int = 6) -> StridedUNet:
    """deepcolor's generator: 5x5 stride-2 convolutions, 6 levels (256 -> 4), skips, tanh."""
    return StridedUNet(in_channels, 3, width, depth, kernel=5)


class PatchDiscriminator(nn.Module):
    """PatchGAN: a real/fake logit per overlapping patch (70x70 with 3 layers)."""

    def __init__(self, in_channels: int, ndf: int = 64, layers: int = 3):
        super().__init__()
        blocks = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        channels = ndf
        for layer in range(1, layers + 1):
            out = ndf * min(2 ** layer, 8)
            stride = 2 if layer < layers else 1
            blocks += [nn.Conv2d(channels, out, 4, stride, 1, bias=False), norm(out), nn.LeakyReLU(0.2)]
            channels = out
        blocks.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.net = nn.Sequential(*blocks)
        init_weights(self)

    def forward(self, condition: torch.Tensor, color: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([condition, color], dim=1))


def _conv_block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """Two 3x3 convolutions (the first may stride), each with per-image norm and ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), norm(cout), nn.ReLU())


class PosterUNet(nn.Module):
    """The sketch-colorization poster's network: a U-Net of 3x3 convolution blocks condensed
    ``depth`` times (256 -> 32 with depth 3) with pass-through (skip) layers.

    The regression model reconstructs to full resolution (``out_scale`` 1) with a tanh
    output; the classification model stops at 1/4 resolution (``out_scale`` 4) and returns
    one logit per colour class.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 32, depth: int = 3,
                 out_scale: int = 1, tanh: bool = True):
        super().__init__()
        stop_level = {1: 0, 4: 2}.get(out_scale)
        if stop_level is None:
            raise ValueError(f"out_scale {out_scale} is not supported: use 1 or 4")
        if depth <= stop_level:
            raise ValueError(f"depth {depth} must exceed the output level {stop_level}")
        self.size_multiple = 2 ** depth
        widths = level_widths(width, depth + 1)
        self.stem = _conv_block(in_channels, widths[0])
        self.downs = nn.ModuleList(_conv_block(widths[i - 1], widths[i], stride=2)
                                   for i in range(1, depth + 1))
        self.upsamplers = nn.ModuleList()
        self.merges = nn.ModuleList()
        for level in range(depth - 1, stop_level - 1, -1):
            self.upsamplers.append(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, 2))
            self.merges.append(_conv_block(2 * widths[level], widths[level]))
        self.head = nn.Conv2d(widths[stop_level], out_channels, 1)
        self.tanh = tanh
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for layer in self.downs:
            skips.append(layer(skips[-1]))
        x = skips.pop()
        for upsample, merge in zip(self.upsamplers, self.merges, strict=True):
            x = merge(torch.cat([upsample(x), skips.pop()], dim=1))
        x = self.head(x)
        return torch.tanh(x) if self.tanh else x


def regression_unet(in_channels: int, width: int = 32, depth: int = 3) -> PosterUNet:
    return PosterUNet(in_channels, 3, width, depth, out_scale=1, tanh=True)


def classification_unet(in_channels: int, classes: int = 512, width: int = 32, depth: int = 3) -> PosterUNet:
    return PosterUNet(in_channels, classes, width, depth, out_scale=4, tanh=False)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

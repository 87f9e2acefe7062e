"""Colour spaces and colour classes for the poster's classification models.

Everything works on torch tensors shaped [N, 3, H, W] and uses only operations the ONNX
exporter handles (1x1 convolutions for matrices, pow, where), so the decoding half runs
inside the exported graph. sRGB is D65; CIE Lab/LCH use the D65 white point.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Linear sRGB <-> XYZ (D65), rows = output channel.
RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                           [0.2126729, 0.7151522, 0.0721750],
                           [0.0193339, 0.1191920, 0.9503041]])
XYZ_TO_RGB = torch.linalg.inv(RGB_TO_XYZ)
WHITE_D65 = torch.tensor([0.95047, 1.0, 1.08883])
_EPSILON = (6.0 / 29.0) ** 3
_KAPPA = 3.0 * (6.0 / 29.0) ** 2

# Ranges the LCH bins cover: L in [0, 100], chroma up to the most saturated sRGB colour
# (pure blue, C* = 133.8), hue in degrees (circular).
LCH_RANGES = (100.0, 134.0, 360.0)


def _channel_matrix(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, matrix.to(x)[:, :, None, None])


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    curve = torch.pow(((rgb + 0.055) / 1.055).clamp(min=1e-8), 2.4)
    return torch.where(rgb <= 0.04045, rgb / 12.92, curve)


def linear_to_srgb(linear: torch.Tensor) -> torch.Tensor:
    curve = 1.055 * torch.pow(linear.clamp(min=1e-8), 1.0 / 2.4) - 0.055
    return torch.where(linear <= 0.0031308, 12.92 * linear, curve)


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    xyz = _channel_matrix(srgb_to_linear(rgb), RGB_TO_XYZ) / WHITE_D65.to(rgb)[None, :, None, None]
    f = torch.where(xyz > _EPSILON, torch.pow(xyz.clamp(min=1e-8), 1.0 / 3.0), xyz / _KAPPA + 4.0 / 29.0)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)


def lab_to_srgb(lab: torch.Tensor) -> torch.Tensor:
    """Lab -> sRGB, clamped to [0, 1] (out-of-gamut Lab colours are clipped)."""
    fy = (lab[:, 0:1] + 16.0) / 116.0
    f = torch.cat([fy + lab[:, 1:2] / 500.0, fy, fy - lab[:, 2:3] / 200.0], dim=1)
    xyz = torch.where(f > 6.0 / 29.0, f * f * f, _KAPPA * (f - 4.0 / 29.0))
    linear = _channel_matrix(xyz * WHITE_D65.to(lab)[None, :, None, None], XYZ_TO_RGB)
    return linear_to_srgb(linear.clamp(0.0, 1.0)).clamp(0.0, 1.0)


def lab_to_lch(lab: torch.Tensor) -> torch.Tensor:
    """Lab -> LCH with hue in degrees [0, 360). Training side only (atan2)."""
    a, b = lab[:, 1:2], lab[:, 2:3]
    hue = torch.rad2deg(torch.atan2(b, a)) % 360.0
    return torch.cat([lab[:, 0:1], torch.sqrt(a * a + b * b), hue], dim=1)


def lch_to_lab(lch: torch.Tensor) -> torch.Tensor:
    hue = torch.deg2rad(lch[:, 2:3])
    return torch.cat([lch[:, 0:1], lch[:, 1:2] * torch.cos(hue), lch[:, 1:2] * torch.sin(hue)], dim=1)


class ColorBins:
    """The poster's colour classes: ``bins`` equal bins per channel, ``bins**3`` classes.

    ``space`` is "rgb" (bins over sRGB [0, 1]) or "lch" (bins over L, C and circular hue).
    Class q = i0 * bins**2 + i1 * bins + i2. Soft encoding: a Gaussian of width ``sigma``
    (in bins) over the two nearest bin centres of each channel; because a Gaussian of a sum
    of squares factorises, the product of the per-channel weights is the 3-D Gaussian over
    the 8 nearest classes.
    """

    def __init__(self, space: str = "rgb", bins: int = 8, sigma: float = 0.5):
        if space not in ("rgb", "lch"):
            raise ValueError(f"colour space must be 'rgb' or 'lch', not {space!r}")
        self.space, self.bins, self.sigma = space, bins, sigma
        self.classes = bins ** 3
        self.circular = (False, False, space == "lch")

    def coordinates(self, rgb: torch.Tensor) -> torch.Tensor:
        """sRGB -> per-channel position in bin units, [N, 3, H, W] in [0, bins)."""
        if self.space == "rgb":
            return rgb.clamp(0.0, 1.0) * self.bins
        lch = lab_to_lch(srgb_to_lab(rgb.clamp(0.0, 1.0)))
        scale = torch.tensor([self.bins / r for r in LCH_RANGES]).to(rgb)[None, :, None, None]
        return (lch * scale).clamp(min=0.0, max=self.bins - 1e-4)

    def encode(self, rgb: torch.Tensor) -> torch.Tensor:
        """sRGB [N, 3, H, W] -> soft class distribution [N, bins**3, H, W] (sums to 1)."""
        position = self.coordinates(rgb)
        centres = torch.arange(self.bins, dtype=rgb.dtype, device=rgb.device)[None, :, None, None] + 0.5
        per_channel = []
        for channel in range(3):
            distance = (position[:, channel:channel + 1] - centres).abs()
            if self.circular[channel]:
                distance = torch.minimum(distance, self.bins - distance)
            weight = torch.exp(-distance ** 2 / (2 * self.sigma ** 2)) * (distance < 1.0)
            per_channel.append(weight / weight.sum(dim=1, keepdim=True).clamp(min=1e-12))
        if self.space == "lch":
            # Hue means nothing for grays: spread it evenly where the chroma is near zero.
            certainty = (position[:, 1:2] * 2.0).clamp(max=1.0)
            per_channel[2] = certainty * per_channel[2] + (1.0 - certainty) / self.bins
        first, second, third = per_channel
        joint = torch.einsum("nihw,njhw,nkhw->nijkhw", first, second, third)
        return joint.reshape(rgb.shape[0], self.classes, *rgb.shape[2:])

    def centres(self) -> torch.Tensor:
        """Colour each class decodes to, [bins**3, 3]: sRGB for "rgb", Lab for "lch".

        For "rgb" the outer classes decode to the ends of the range, not to their bins' centres:
        everything past an outer centre is encoded wholly into that class, paper white above
        all, and decoding it at the centre would paint white paper light grey (239)."""
        steps = torch.arange(self.bins, dtype=torch.float64)
        axis = steps / (self.bins - 1) if self.space == "rgb" else (steps + 0.5) / self.bins
        grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(-1, 3)
        if self.space == "rgb":
            return grid.float()
        lch = grid * torch.tensor(LCH_RANGES, dtype=torch.float64)
        return lch_to_lab(lch[:, :, None, None])[:, :, 0, 0].float()  # a table as N pixels of 1x1


class AnnealedMeanDecoder(torch.nn.Module):
    """Class logits [N, Q, h, w] -> sRGB [N, 3, h, w] by the annealed mean of Zhang et al.

    softmax(logits / T) is the distribution sharpened by temperature T (T=1: the mean,
    T->0: the mode); its expectation over the class centres is the colour. For LCH the
    expectation is taken in Lab, so hue averages on the circle, then converted to sRGB.
    """

    def __init__(self, bins: ColorBins, temperature: float = 0.38):
        super().__init__()
        self.space = bins.space
        self.temperature = temperature
        self.register_buffer("centres", bins.centres().t().contiguous()[:, :, None, None], persistent=False)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        probabilities = torch.softmax(logits.float() / self.temperature, dim=1)
        colour = F.conv2d(probabilities, self.centres)
        if self.space == "lch":
            return lab_to_srgb(colour)
        return colour.clamp(0.0, 1.0)

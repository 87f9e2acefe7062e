"""Every loss of the toolchain, one function each. Colours are sRGB in [0, 1]."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .color import srgb_to_lab


def l1(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (prediction - target).abs().mean()


def l2(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The poster's regression loss, averaged per value instead of summed per image."""
    return 0.5 * ((prediction - target) ** 2).sum(dim=1).mean()


def colour_miss(prediction: torch.Tensor, target: torch.Tensor, sigma: float) -> torch.Tensor:
    """Smooth share of pixels off the truth: 1 - exp(-dE76^2 / 2 sigma^2), averaged.

    L1 settles on the per-channel median of the colours a region could have, often a colour
    none of them is (the sepia of an unhinted shirt). This loss stops pulling once a pixel is
    a few sigma off, so it rewards landing near one likely colour: the measure export/quality.py
    counts (within dE 10). Unclamped predictions keep their gradient.
    """
    distance2 = delta_e(prediction, target) ** 2
    return (1.0 - torch.exp(-distance2 / (2.0 * sigma * sigma))).mean()


def delta_e(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """CIE dE76 between two sRGB images, [N, 1, H, W]."""
    return ((srgb_to_lab(first) - srgb_to_lab(second)) ** 2).sum(dim=1, keepdim=True).clamp(min=1e-12).sqrt()


def adversarial(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """pix2pix's (vanilla GAN) loss on PatchGAN logits."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for colours in [0, 1], shape [N]."""
    mse = ((prediction - target) ** 2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(1.0 / mse.clamp(min=1e-10))


def rebalancing_weights(histogram: torch.Tensor, mix: float) -> torch.Tensor:
    """Class weights w ~ ((1 - mix) * p + mix / Q)^-1 normalised to E_p[w] = 1 (poster, eq. 2).

    ``histogram`` holds class counts (or soft mass) over the training set; ``mix`` = 1
    gives every class weight 1 (no rebalancing).
    """
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"rebalancing mix must be in [0, 1], not {mix}")
    p = histogram.double() / histogram.sum().clamp(min=1e-12)
    weights = 1.0 / ((1.0 - mix) * p + mix / p.numel())
    weights = weights / (p * weights).sum()
    return weights.float()


def rebalanced_soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor,
                                  class_weights: torch.Tensor) -> torch.Tensor:
    """-v(Z) * sum_q Z_q log softmax(logits)_q, averaged over pixels (poster, eq. 1).

    ``target`` is the soft-encoded truth [N, Q, h, w]; v(Z) is the weight of its most
    likely class, as in Zhang et al.
    """
    log_probabilities = torch.log_softmax(logits.float(), dim=1)
    cross_entropy = -(target * log_probabilities).sum(dim=1)
    pixel_weights = class_weights.to(logits.device)[target.argmax(dim=1)]
    return (pixel_weights * cross_entropy).mean()

"""Networks, colour conversions, colour classes and losses of the training toolchain."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from export import losses  # noqa: E402
from export.color import AnnealedMeanDecoder, ColorBins, lab_to_srgb, srgb_to_lab  # noqa: E402
from export.config import TrainConfig  # noqa: E402
from export.errors import ConfigError  # noqa: E402
from export.networks import (  # noqa: E402
    PatchDiscriminator,
    classification_unet,
    deepcolor_unet,
    parameter_count,
    pix2pix_unet,
    regression_unet,
)
from export.variants import DeepColorHintInput, StrokeInput, build_variant  # noqa: E402

torch.set_num_threads(1)


@pytest.mark.parametrize("build, channels, scale", [
    (lambda: pix2pix_unet(5, 8, 5), 3, 1),
    (lambda: deepcolor_unet(4, 8, 4), 3, 1),
    (lambda: regression_unet(1, 8, 3), 3, 1),
    (lambda: classification_unet(5, 512, 8, 3), 512, 4),
])
def test_generators_keep_any_multiple_of_their_size_multiple(build, channels, scale):
    torch.manual_seed(0)
    net = build()
    multiple = net.size_multiple
    x = torch.rand(2, net_input_channels(net), 3 * multiple, 2 * multiple)
    y = net(x)
    assert y.shape == (2, channels, 3 * multiple // scale, 2 * multiple // scale)
    if channels == 3:
        assert y.abs().max() <= 1.0  # tanh output


def net_input_channels(net) -> int:
    first = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    return first.in_channels


@pytest.mark.parametrize("variant", ["pix2pix-stroke", "deepcolor-gan", "regression", "classification"])
def test_train_and_eval_mode_compute_the_same(variant):
    """The BatchNorm trap: per-image normalisation must not change between training and export."""
    torch.manual_seed(0)
    config = TrainConfig(variant=variant, run="unused", crop=64, width=8, depth=4)
    graph = build_variant(config).contract_graph()
    line, hint = torch.rand(2, 1, 64, 96), torch.rand(2, 4, 64, 96)
    with torch.no_grad():
        trained = graph.train()(line, hint)
        evaluated = graph.eval()(line, hint)
    assert torch.equal(trained, evaluated)


def test_default_stroke_generator_is_small_enough_to_ship():
    config = TrainConfig(variant="pix2pix-stroke", run="unused")
    net = build_variant(config).generator
    assert (config.width, config.depth) == (32, 7)
    assert parameter_count(net) * 4 < 50e6  # fp32 file under 50 MB


def test_discriminator_gives_patch_logits():
    disc = PatchDiscriminator(5 + 3, ndf=8, layers=3)
    logits = disc(torch.rand(2, 5, 64, 64), torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 1, 6, 6)


def test_lab_of_known_colours():
    rgb = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]).t()[None, :, :, None]
    lab = srgb_to_lab(rgb)[0, :, :, 0].t()
    assert torch.allclose(lab[0], torch.tensor([100.0, 0.0, 0.0]), atol=0.05)
    assert torch.allclose(lab[1], torch.tensor([53.24, 80.09, 67.20]), atol=0.05)
    assert torch.allclose(lab[2], torch.zeros(3), atol=0.05)


def test_lab_round_trip():
    rgb = torch.rand(1, 3, 16, 16)
    assert (lab_to_srgb(srgb_to_lab(rgb)) - rgb).abs().max() < 1e-4


@pytest.mark.parametrize("space", ["rgb", "lch"])
def test_soft_encoding_sums_to_one_and_decodes_near_the_colour(space):
    bins = ColorBins(space)
    rgb = torch.rand(2, 3, 8, 8)
    rgb[0, :, 0, 0] = 1.0  # white: no hue
    encoded = bins.encode(rgb)
    assert encoded.shape == (2, 512, 8, 8)
    assert torch.allclose(encoded.sum(dim=1), torch.ones(2, 8, 8), atol=1e-5)
    assert (encoded > 1e-6).sum(dim=1).max() <= (8 if space == "rgb" else 2 * 2 * 8)
    # The mean of the soft encoding (T = 1, logits = log Z) lands within a bin of the truth.
    decoded = AnnealedMeanDecoder(bins, temperature=1.0)(torch.log(encoded.clamp(min=1e-12)))
    error = (decoded - rgb).abs().max().item()
    assert error < (0.07 if space == "rgb" else 0.2)


def test_rgb_paper_and_ink_decode_to_white_and_black():
    # Everything past an outer bin centre is encoded wholly into that class: decoded at the
    # centre, white paper came out light grey (239), which the finishing does not take for paper.
    bins = ColorBins("rgb")
    colours = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]).reshape(2, 3, 1, 1)
    logits = torch.log(bins.encode(colours).clamp(min=1e-12))
    decoded = AnnealedMeanDecoder(bins, temperature=0.38)(logits)
    assert torch.allclose(decoded, colours, atol=1e-4)


def test_rgb_classes_are_numbered_channel_major():
    bins = ColorBins("rgb")
    colour = torch.tensor([0.99, 0.5 + 1 / 16, 1 / 16]).reshape(1, 3, 1, 1)  # bin centres 7, 4, 0
    assert bins.encode(colour).argmax(dim=1).item() == 7 * 64 + 4 * 8 + 0


def test_annealed_mean_sharpens_toward_the_mode():
    bins = ColorBins("rgb")
    logits = torch.full((1, 512, 1, 1), -4.0)
    logits[0, 0] = 0.0  # black, most likely
    logits[0, 511] = -0.5  # white, a close second
    mean = AnnealedMeanDecoder(bins, 1.0)(logits).mean().item()
    annealed = AnnealedMeanDecoder(bins, 0.38)(logits).mean().item()
    assert annealed < mean


def test_rebalancing_weights():
    histogram = torch.tensor([90.0, 9.0, 1.0, 0.0])
    weights = losses.rebalancing_weights(histogram, 0.5)
    p = histogram / histogram.sum()
    assert abs((p * weights).sum().item() - 1.0) < 1e-5
    assert weights[0] < weights[1] < weights[2] < weights[3]
    assert torch.allclose(losses.rebalancing_weights(histogram, 1.0), torch.ones(4))
    with pytest.raises(ValueError):
        losses.rebalancing_weights(histogram, 1.5)


def test_colour_miss_prefers_one_likely_colour_to_their_median():
    # Half the pixels are red, half blue, for the same input: L1 rates a blend of the two as
    # well as either one; the miss loss rates the blend far worse and counts dE76 = sigma as
    # 1 - exp(-1/2).
    red, blue = torch.tensor([0.9, 0.1, 0.1]), torch.tensor([0.1, 0.1, 0.9])
    target = torch.stack([red, blue]).T.reshape(1, 3, 1, 2)

    def constant(colour):
        return colour.reshape(1, 3, 1, 1).expand(1, 3, 1, 2)

    blend = (red + blue) / 2
    assert torch.isclose(losses.l1(constant(blend), target), losses.l1(constant(red), target))
    assert losses.colour_miss(constant(red), target, 10.0) < 0.51
    assert losses.colour_miss(constant(blend), target, 10.0) > 0.99
    assert losses.colour_miss(target, target, 10.0) < 1e-6
    grey = torch.full((1, 3, 1, 1), 0.5)
    lab = srgb_to_lab(grey)
    shifted = lab_to_srgb(lab + torch.tensor([10.0, 0.0, 0.0]).reshape(1, 3, 1, 1))
    assert abs(losses.colour_miss(shifted, grey, 10.0).item() - (1 - math.exp(-0.5))) < 1e-3


def test_rebalanced_cross_entropy_weights_pixels_by_their_class():
    logits = torch.randn(1, 4, 1, 2)
    target = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]).reshape(1, 4, 1, 2)
    plain = losses.rebalanced_soft_cross_entropy(logits, target, torch.ones(4))
    log_p = torch.log_softmax(logits, dim=1)
    assert torch.isclose(plain, -(log_p[0, 0, 0, 0] + log_p[0, 2, 0, 1]) / 2)
    weighted = losses.rebalanced_soft_cross_entropy(logits, target, torch.tensor([2.0, 1.0, 0.0, 1.0]))
    assert torch.isclose(weighted, -(2 * log_p[0, 0, 0, 0]) / 2)


def test_stroke_input_masks_the_hint_colour():
    line = torch.ones(1, 1, 4, 4)
    hint = torch.rand(1, 4, 4, 4)
    hint[:, 3] = 0.0
    hint[:, 3, 1, 1] = 1.0
    x = StrokeInput(True)(line, hint)
    assert x.shape == (1, 5, 4, 4)
    assert x[0, 1:4, 0, 0].abs().max() == 0.0  # colour under no paint is dropped
    assert torch.equal(x[0, 1:4, 1, 1], hint[0, :3, 1, 1])
    assert StrokeInput(False)(line, hint).shape == (1, 1, 4, 4)


def test_deepcolor_hint_is_blurred_and_faded_toward_white():
    prepare = DeepColorHintInput(blur=20, fade=0.3)
    line = torch.ones(1, 1, 32, 32)
    assert torch.allclose(prepare(line, torch.zeros(1, 4, 32, 32))[:, 1:], torch.ones(1, 3, 32, 32))
    red = torch.zeros(1, 4, 32, 32)
    red[:, 0] = 1.0
    red[:, 3] = 1.0
    faded = prepare(line, red)[0, 1:, 16, 16]
    assert torch.allclose(faded, torch.tensor([1.0, 0.7, 0.7]), atol=1e-5)
    dot = torch.zeros(1, 4, 32, 32)
    dot[:, :3, 14:18, 14:18] = 0.0
    dot[:, 3, 14:18, 14:18] = 1.0  # a small black dot spreads into a faint gray
    spread = prepare(line, dot)[0, 1, :, :]
    assert 0.9 < spread[16, 16] < 1.0 and spread[16, 4] < 1.0


def test_config_refuses_settings_that_cannot_work():
    with pytest.raises(ConfigError, match="multiple of"):
        TrainConfig(variant="pix2pix-stroke", run="x", crop=100)
    with pytest.raises(ConfigError, match="hints"):
        TrainConfig(variant="pix2pix-stroke", run="x", hints="none")
    with pytest.raises(ConfigError, match="unknown variant"):
        TrainConfig(variant="test", run="x")
    with pytest.raises(ConfigError, match="gan-weight"):
        TrainConfig(variant="regression", run="x", gan_weight=1.0)
    with pytest.raises(ConfigError, match="hit-weight applies"):
        TrainConfig(variant="regression", run="x", hit_weight=1.0)
    with pytest.raises(ConfigError, match="hit-sigma"):
        TrainConfig(variant="pix2pix-stroke", run="x", hit_weight=1.0, hit_sigma=0.0)

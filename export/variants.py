"""The training recipe of each variant: its networks, inputs, losses, optimisation step, and
the contract graph (line, hint RGBA -> sRGB colour) that validation and export both use.

One class per variant, which also says what the command line may ask of it: its defaults,
the hint simulations it trains with, whether an adversarial term can join, whether it reads
the line-aware flood; export/config.py and the ONNX metadata take them from here.
  pix2pix-stroke      pix2pix U-Net on line + hint RGB*A + A; L1 (+ optional PatchGAN)
  deepcolor-gan       deepcolor's 5x5 U-Net on line + blurred colour hint; adversarial + L1
  regression          the poster's U-Net, L2
  classification      the poster's U-Net, 512 colour classes at 1/4 resolution, rebalanced
  classification-lch  the same with classes over CIE LCH
With --propagation (pix2pix-stroke, deepcolor-gan, classification), the network also reads a
line-aware flood of the hint strokes and starts from it: the GANs' output is a correction of
the flood colour, classification adds the flood's colour class to its logits.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from . import losses
from .color import AnnealedMeanDecoder, ColorBins
from .errors import CheckpointError, ConfigError
from .networks import PatchDiscriminator, classification_unet, deepcolor_unet, pix2pix_unet, regression_unet
from .propagation import HintPropagation
from .quality import DELTA_E

if TYPE_CHECKING:  # config.py reads the variant classes: only the type comes back from there
    from .config import TrainConfig


def tanh_to_unit(x: torch.Tensor) -> torch.Tensor:
    return (x + 1.0) * 0.5


def unit_to_signed(x: torch.Tensor) -> torch.Tensor:
    return x * 2.0 - 1.0


class StrokeInput(nn.Module):
    """Contract hint -> the stroke variants' input: line, hint RGB * A, A (or line alone)."""

    def __init__(self, use_hints: bool = True):
        super().__init__()
        self.use_hints = use_hints
        self.channels = 5 if use_hints else 1

    def forward(self, line: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        if not self.use_hints:
            return line
        alpha = hint[:, 3:4]
        return torch.cat([line, hint[:, :3] * alpha, alpha], dim=1)


class FloodInput(nn.Module):
    """A variant's own input (``hints``: line and hint -> C channels) followed by the line-aware
    flood of the hint strokes (export/propagation.py): flood colour over white (the base a
    residual output corrects), reach, proximity; with ``spill``, also the strokes' colours
    spilled across the lines, over white, and with ``spill_base`` that spill is also the base
    where the flood does not reach; with ``spill_reach``, also how far the spill reached (0 with
    no strokes). C + 5 (+ 3 (+ 1)) channels; ``BASE`` are the base colour, ``REACH`` the reach,
    ``SPILL`` the spill, ``SPILL_REACH`` its reach."""

    def __init__(self, hints: nn.Module, levels, spill: bool = False, spill_base: bool = False,
                 spill_reach: bool = False):
        super().__init__()
        if (spill_base or spill_reach) and not spill:
            raise ValueError("spill_base and spill_reach need spill")
        self.hints = hints
        self.propagation = HintPropagation(levels)
        # the same front on its coarsest level with no walls: each stroke's colour spilled over
        # the lines, to the nearest block no other stroke reached first
        self.spill = HintPropagation(levels[:1]) if spill else None
        self.spill_base, self.spill_reach = spill_base, spill_reach
        first = hints.channels
        self.channels = first + 5 + (3 if spill else 0) + (1 if spill_reach else 0)
        self.BASE = slice(first, first + 3)
        self.REACH = slice(first + 3, first + 4)
        self.SPILL = slice(first + 5, first + 8)
        self.SPILL_REACH = slice(first + 8, first + 9)

    def forward(self, line: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # parameter-free: nothing to learn through it
            colour, reach, proximity = self.propagation(line, hint)
            unreached = torch.ones_like(colour)  # white: the output starts from paper
            spill = []
            if self.spill is not None:
                spilled, spill_reach, _ = self.spill(torch.ones_like(line), hint)
                spill = [spilled + (1.0 - spill_reach)] + ([spill_reach] if self.spill_reach else [])
                if self.spill_base:  # starts from the nearest stroke's colour across the lines
                    unreached = spill[0]
            features = [self.hints(line, hint), colour + (1.0 - reach) * unreached, reach, proximity]
        return torch.cat(features + spill, 1)


class SpillGated(nn.Module):
    """--spill-gate's generator: the colour network (a residual correction, 3 channels) and a
    gate network beside it (1 channel), both reading the same features -> [N, 4, H, W]. Two
    networks, so the gate can be small and the colour network another run's, kept as it was."""

    def __init__(self, colour: nn.Module, gate: nn.Module):
        super().__init__()
        self.colour, self.gate = colour, gate
        self.size_multiple = colour.size_multiple

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.colour(features), self.gate(features)], 1)


def residual_colour(prepare: FloodInput, features: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """The colour a residual generator paints (unclamped): base + correction. A gated one (4
    output channels) then takes the spill wherever its gate (4th channel) is >= 0 and the flood
    does not reach but the spill does: a hard choice, since a blend of two candidate colours is
    usually neither (and the measure that counts is whether a pixel is within dE76 10)."""
    colour = own_colour(prepare, features, output)
    if output.shape[1] == 3:
        return colour
    chosen = (output[:, 3:4] >= 0.0).to(colour.dtype) * spill_region(prepare, features)
    return colour + chosen * (features[:, prepare.SPILL] - colour)


def own_colour(prepare: FloodInput, features: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """A residual generator's own colour, before a gate's choice: base + correction."""
    if output.shape[1] == 3:  # no Slice node in the exported graph of a plain residual model
        return features[:, prepare.BASE] + output
    return features[:, prepare.BASE] + output[:, :3]


def spill_region(prepare: FloodInput, features: torch.Tensor) -> torch.Tensor:
    """Where a gate may choose the spill: the flood does not reach and the spill does, [0, 1]."""
    return (1.0 - features[:, prepare.REACH]) * features[:, prepare.SPILL_REACH]


def spill_share(output: torch.Tensor) -> torch.Tensor:
    """A gated generator's belief that the spill is the right one of the two, in [0, 1], from
    its 4th (tanh) channel: >= 0.5 exactly where the graph takes the spill."""
    return 0.5 * (output[:, 3:4] + 1.0)


# Weight of the gate's cross-entropy beside L1 x 100 (about 10 on a trained run).
GATE_WEIGHT = 10.0


def zero_last_layer(generator: nn.Module) -> None:
    """A residual generator's correction starts at zero: the untrained graph paints the flood."""
    last = [m for m in generator.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)


def box_blur(x: torch.Tensor, size: int) -> torch.Tensor:
    """Separable box filter with edge replication (OpenCV's blur, but replicated borders)."""
    before, after = (size - 1) // 2, size // 2
    x = F.avg_pool2d(F.pad(x, (before, after, 0, 0), mode="replicate"), (1, size), stride=1)
    return F.avg_pool2d(F.pad(x, (0, 0, before, after), mode="replicate"), (size, 1), stride=1)


class DeepColorHintInput(nn.Module):
    """Contract hint -> deepcolor's input at inference: line + blurred, faded colour hint.

    The user's hint layer is composited over white, blurred like the training hints (box
    filter of ``blur`` px; computed at 1/4 resolution and upsampled, which for a filter this
    large differs from the full-resolution blur by a fraction of a grey level), then faded:
    hint = 1 - fade * (1 - blurred), i.e. every colour keeps ``fade`` of its distance from
    white. Training hints lose colour to random white-outs before the blur; at inference the
    seed replaces them by their expected value, this fade.
    """

    channels = 4

    def __init__(self, blur: int, fade: float):
        super().__init__()
        self.blur, self.fade = blur, fade

    def forward(self, line: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        alpha = hint[:, 3:4]
        over_white = hint[:, :3] * alpha + (1.0 - alpha)
        small = F.avg_pool2d(over_white, 4)
        blurred = box_blur(small, max(1, round(self.blur / 4)))
        blurred = F.interpolate(blurred, scale_factor=4.0, mode="bilinear", align_corners=False)
        return torch.cat([line, 1.0 - self.fade * (1.0 - blurred)], dim=1)


def whiteout_survival(crop: int, whiteouts: int, patch: int) -> float:
    """Expected share of a crop's pixels that no white-out covers: (1 - patch^2 / crop^2)^n.

    The seed's code whites out 30 squares of 50 px at 256 px: 0.31, its "x0.3"; the data
    module's 30 squares of 10 px (the seed's text) leave 0.955.
    """
    return (1.0 - min(patch * patch / float(crop * crop), 1.0)) ** whiteouts


class TanhColour(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tanh_to_unit(x)


class ClassColour(nn.Module):
    """Class logits at 1/4 resolution -> annealed-mean colour, upsampled x4 (bilinear)."""

    def __init__(self, bins: ColorBins, temperature: float):
        super().__init__()
        self.decode = AnnealedMeanDecoder(bins, temperature)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.decode(logits), scale_factor=4.0, mode="bilinear", align_corners=False)


class ContractGraph(nn.Module):
    """(line [N,1,H,W], hint [N,4,H,W]) -> colour [N,3,H,W] sRGB in [0, 1]: what gets exported."""

    def __init__(self, prepare: nn.Module, generator: nn.Module, finish: nn.Module):
        super().__init__()
        self.prepare, self.generator, self.finish = prepare, generator, finish

    def forward(self, line: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        return self.finish(self.generator(self.prepare(line, hint))).clamp(0.0, 1.0)


class ResidualGraph(ContractGraph):
    """The same, with the network's tanh output added to the flood colour of its input (white
    where no hint reaches): colour = clamp(base + tanh output)."""

    def __init__(self, prepare: FloodInput, generator: nn.Module):
        super().__init__(prepare, generator, nn.Identity())

    def forward(self, line: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        features = self.prepare(line, hint)
        return residual_colour(self.prepare, features, self.generator(features)).clamp(0.0, 1.0)


class FloodPrior(nn.Module):
    """Class logits plus ``weight`` x the soft class of the flood colour where the flood reached
    (at the logits' 1/4 resolution): the untrained classifier already paints the flood, and the
    network learns where to overrule it. ``weight`` is learned."""

    def __init__(self, network: nn.Module, bins: ColorBins, prepare: FloodInput, weight: float = 8.0):
        super().__init__()
        self.network, self.bins = network, bins
        self.base, self.reach = prepare.BASE, prepare.REACH
        self.size_multiple = network.size_multiple
        self.weight = nn.Parameter(torch.tensor(weight))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        small = F.avg_pool2d(torch.cat([features[:, self.base], features[:, self.reach]], 1), 4)
        prior = self.bins.encode(small[:, :3]) * small[:, 3:4]
        return self.network(features) + self.weight * prior


class Variant:
    """Base: owns the generator (and optional discriminator) and their optimisers."""

    name = ""
    description = ""
    # TrainConfig values the variant sets when the command line leaves them out
    defaults = dict(width=32, depth=3, beta1=0.9, gan_weight=0.0)
    hints = ("strokes", "none")  # the --hints it can train with; the first is its default
    gan = False  # pix2pix's objective: an adversarial term (--gan-weight) can join
    propagation = False  # can read a line-aware flood of the hints (--propagation)

    @classmethod
    def check(cls, config: TrainConfig) -> None:
        """Refuse (ConfigError) settings only this variant cannot work with."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self.generator = self.build_generator()
        self.discriminator: nn.Module | None = None
        # Modules used for training; the trainer replaces them by DDP wrappers.
        self.train_generator: nn.Module = self.generator
        self.train_discriminator: nn.Module | None = None
        self.autocast = contextlib.nullcontext

    # -- what each variant defines -------------------------------------------------------
    def build_generator(self) -> nn.Module:
        raise NotImplementedError

    def network_input(self, batch: dict) -> torch.Tensor:
        """The generator's input for a training batch (the dataset's hints)."""
        raise NotImplementedError

    def contract_graph(self) -> ContractGraph:
        raise NotImplementedError

    def generator_loss(self, output: torch.Tensor, batch: dict) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    @property
    def uses_hints(self) -> bool:
        return self.config.hints != "none"

    def with_flood(self, hints: nn.Module) -> nn.Module:
        """The variant's input module, followed by the flood of the hints with --propagation."""
        levels = self.config.propagation_levels
        if levels is None:
            return hints
        config = self.config
        return FloodInput(hints, levels, config.spill, config.spill_base, spill_reach=config.spill_gate)

    @property
    def flood(self) -> bool:
        return isinstance(self.prepare, FloodInput)

    def extra_metadata(self) -> dict:
        """What the ONNX file records beyond the contract's keys: the recipe's settings."""
        config = self.config
        extra = {"width": config.width, "depth": config.depth, "hints": config.hints}
        if config.propagation != "none":
            extra.update(propagation=config.propagation)
        if config.spill:
            extra.update(spill="true")
        if config.spill_base:
            extra.update(spill_base="true")
        if config.spill_gate:
            extra.update(spill_gate="true", gate_width=config.gate_width)
        return extra

    # -- shared machinery ----------------------------------------------------------------
    def to(self, device) -> Variant:
        self.generator.to(device)
        if isinstance(getattr(self, "prepare", None), nn.Module):
            self.prepare.to(device)  # buffers of fixed, parameter-free input processing
        if self.discriminator is not None:
            self.discriminator.to(device)
        return self

    def colour_network(self) -> nn.Module:
        """The network that paints the colour (what --init-from starts from): the generator, or
        its colour network beside a gate."""
        return self.generator.colour if isinstance(self.generator, SpillGated) else self.generator

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.config.beta1, 0.999)
        learning = [parameter for parameter in self.generator.parameters() if parameter.requires_grad]
        self.optimizers = {"generator": torch.optim.Adam(learning, self.config.lr, betas)}
        if self.discriminator is not None:
            self.optimizers["discriminator"] = torch.optim.Adam(self.discriminator.parameters(),
                                                                self.config.lr, betas)
        return self.optimizers

    def fit_data(self, dataset) -> None:
        """Statistics a variant needs from the training set before its first step."""

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {}

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        pass

    def train_step(self, batch: dict, step: int) -> dict[str, float]:
        """One optimisation step; returns the losses for the progress line."""
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            output = self.train_generator(self.network_input(batch))
        loss, report = self.generator_loss(output.float(), batch)
        loss.backward()
        optimizer.step()
        return report

    @torch.no_grad()
    def validation_outputs(self, batch: dict) -> dict[str, torch.Tensor]:
        """Colours to score against the truth, in eval mode: the contract graph on the
        validation hints (exactly what the exported file computes)."""
        return {"": self.contract_graph()(batch["line"], batch["hint"])}


class ConditionalGAN(Variant):
    """pix2pix's objective: gan_weight * adversarial + l1_weight * L1, the adversarial term
    only from step ``gan_start`` (on CPU, L1 alone first is far cheaper)."""

    gan = True

    def __init__(self, config: TrainConfig):
        super().__init__(config)
        if config.uses_gan:
            self.add_discriminator()

    def add_discriminator(self) -> None:
        channels = self.prepare.channels + 3
        self.discriminator = PatchDiscriminator(channels, self.config.ndf, self.config.d_layers)
        self.train_discriminator = self.discriminator

    def colour(self, output: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """The generator's output as a colour (unclamped for the loss): the flood colour plus
        the output with --propagation (a gate's choice aside: L1 trains the network's own colour,
        which is what it paints where no spill reaches), else tanh -> [0, 1]."""
        if self.flood:
            return own_colour(self.prepare, condition, output)
        return tanh_to_unit(output)

    def pull(self, output: torch.Tensor, fake: torch.Tensor, condition: torch.Tensor, batch: dict):
        """The generator's loss toward the truth: generator_loss on its colour ``fake``, and with
        --spill-gate the gate's cross-entropy toward the spill where only the spill is within dE76
        DELTA_E of the truth, and toward the network's own colour where only that one is: the
        choice that gets more pixels right (where both or neither are, the choice does not
        matter). With --gate-target closer, toward whichever is closer, weighted by how much
        closer: a background both paint wrong still learns the lesser error. Averaged over
        where the gate may choose."""
        loss, report = self.generator_loss(fake, batch)
        if self.config.spill_gate:
            truth, region = batch["color"], spill_region(self.prepare, condition)
            spill_error = losses.delta_e(condition[:, self.prepare.SPILL], truth)
            own_error = losses.delta_e(fake.detach(), truth)
            if self.config.gate_target == "closer":
                spill_wins = spill_error < own_error
                weight = region * ((spill_error - own_error).abs() / DELTA_E).clamp(max=1.0)
            else:
                spill_wins = spill_error <= DELTA_E
                weight = region * (spill_wins != (own_error <= DELTA_E)).float()
            chosen = spill_share(output).clamp(1e-4, 1.0 - 1e-4)
            entropy = F.binary_cross_entropy(chosen, spill_wins.float(), reduction="none")
            gate = (entropy * weight).sum() / region.sum().clamp(min=1.0)
            loss = loss + GATE_WEIGHT * gate
            report["gate"] = gate.item()
        return loss, report

    def contract_graph(self):
        if self.flood:
            return ResidualGraph(self.prepare, self.generator)
        return ContractGraph(self.prepare, self.generator, TanhColour())

    def generator_loss(self, output, batch):
        """l1_weight * L1 (+ hit_weight * colour_miss): the generator's pull toward the truth."""
        config, target = self.config, batch["color"]
        l1 = losses.l1(output, target)
        loss, report = config.l1_weight * l1, {"l1": l1.item()}
        if config.hit_weight > 0:
            miss = losses.colour_miss(output, target, config.hit_sigma)
            loss = loss + config.hit_weight * miss
            report["miss"] = miss.item()
        return loss, report

    def train_step(self, batch: dict, step: int) -> dict[str, float]:
        config = self.config
        condition, target = self.network_input(batch), batch["color"]
        if not (config.uses_gan and step >= config.gan_start):
            optimizer = self.optimizers["generator"]
            optimizer.zero_grad(set_to_none=True)
            with self.autocast():
                output = self.train_generator(condition)
            output = output.float()
            loss, report = self.pull(output, self.colour(output, condition), condition, batch)
            loss.backward()
            optimizer.step()
            return report
        with self.autocast():
            output = self.train_generator(condition).float()
        fake = self.colour(output, condition)

        # Discriminator: real and fake in one batch (one DDP forward per step).
        d_optimizer = self.optimizers["discriminator"]
        d_optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            logits = self.train_discriminator(torch.cat([condition, condition]),
                                              unit_to_signed(torch.cat([target, fake.detach().clamp(0, 1)])))
        real_logits, fake_logits = logits.float().chunk(2)
        d_loss = 0.5 * (losses.adversarial(real_logits, True) + losses.adversarial(fake_logits, False))
        d_loss.backward()
        d_optimizer.step()

        # Generator: fool the (frozen, unwrapped) discriminator and stay close to the truth.
        g_optimizer = self.optimizers["generator"]
        g_optimizer.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        with self.autocast():
            fooled = self.discriminator(condition, unit_to_signed(fake.clamp(0.0, 1.0)))
        self.discriminator.requires_grad_(True)
        adversarial = losses.adversarial(fooled.float(), True)
        closeness, report = self.pull(output, fake, condition, batch)
        (config.gan_weight * adversarial + closeness).backward()
        g_optimizer.step()
        return {**report, "g_adv": adversarial.item(), "d": d_loss.item()}


class Pix2PixStroke(ConditionalGAN):
    name = "pix2pix-stroke"
    description = "pix2pix U-Net reading the line art and short hint strokes (colour x mask, mask)"
    defaults = dict(width=32, depth=7, beta1=0.5, gan_weight=0.0)
    hints = ("strokes", "regions")
    propagation = True

    def build_generator(self):
        config = self.config
        self.prepare = self.with_flood(StrokeInput(True))
        generator = pix2pix_unet(self.prepare.channels, config.width, config.depth)
        if self.flood:
            self.description = ("pix2pix U-Net correcting a line-aware flood of the hint strokes "
                                "(reads line art, strokes and the flood)")
            zero_last_layer(generator)
        if not config.spill_gate:
            return generator
        self.description += ", and a gate network choosing where to carry the strokes' colours over the lines"
        gate = pix2pix_unet(self.prepare.channels, config.gate_width, config.depth, 1)
        zero_last_layer(gate)  # a zero gate takes the spill wherever the flood does not reach
        generator.requires_grad_(not config.freeze_colour)
        return SpillGated(generator, gate)

    def network_input(self, batch):
        return self.prepare(batch["line"], batch["hint"])


class DeepColorGAN(ConditionalGAN):
    """deepcolor trains on the whole picture whited out in spots and blurred (``--hints
    deepcolor``); at inference an artist's strokes, blurred like that, are a faint tint. With
    ``--hints strokes`` it trains on the strokes it will be given, blurred in the graph, and
    with ``--propagation`` it also reads their flood and corrects it."""

    name = "deepcolor-gan"
    description = "deepcolor U-Net (5x5 convolutions) reading the line art and a blurred colour hint"
    defaults = dict(width=32, depth=6, beta1=0.5, gan_weight=1.0)
    hints = ("deepcolor", "strokes")
    propagation = True

    def build_generator(self):
        config = self.config
        if config.hint_blur is None or config.hint_fade is None:
            # Match the training hints; stored in the config so the export never drifts from them.
            from export.data import hints as simulation

            if config.hint_blur is None:
                config.hint_blur = simulation.DEEPCOLOR_BLUR
            if config.hint_fade is None and config.hints == "strokes":
                config.hint_fade = 1.0  # strokes lose nothing to white-outs
            elif config.hint_fade is None:
                survival = whiteout_survival(config.crop, simulation.DEEPCOLOR_WHITEOUTS,
                                             simulation.DEEPCOLOR_PATCH)
                config.hint_fade = round(survival, 4)
        self.blurred_hint = DeepColorHintInput(config.hint_blur, config.hint_fade)
        self.prepare = self.with_flood(self.blurred_hint)
        generator = deepcolor_unet(self.prepare.channels, config.width, config.depth)
        if self.flood:
            self.description = ("deepcolor U-Net (5x5 convolutions) correcting a line-aware flood of "
                                "the hint strokes (reads line art, blurred hint and the flood)")
            zero_last_layer(generator)
        return generator

    def network_input(self, batch):
        if self.config.hints == "deepcolor":
            # The dataset's deepcolor hints are already whited out and blurred (A = 1).
            return torch.cat([batch["line"], batch["hint"][:, :3]], dim=1)
        return self.prepare(batch["line"], batch["hint"])

    def extra_metadata(self):
        return {**super().extra_metadata(), "hint_blur": self.blurred_hint.blur,
                "hint_fade": self.config.hint_fade}

    @torch.no_grad()
    def validation_outputs(self, batch):
        """The network on the training-style hints, and, for deepcolor's own hints, the contract
        graph given the true colours as a dense hint (the seed's use: the artist colours
        roughly, it refines)."""
        if self.config.hints != "deepcolor":
            return super().validation_outputs(batch)
        trained = tanh_to_unit(self.generator(self.network_input(batch))).clamp(0.0, 1.0)
        dense_hint = torch.cat([batch["color"], torch.ones_like(batch["line"])], dim=1)
        return {"": trained, "dense_hint_": self.contract_graph()(batch["line"], dense_hint)}


class Regression(Variant):
    name = "regression"
    description = "the poster's regression U-Net (L2 loss)"

    def build_generator(self):
        self.prepare = StrokeInput(self.uses_hints)
        return regression_unet(self.prepare.channels, self.config.width, self.config.depth)

    def network_input(self, batch):
        return self.prepare(batch["line"], batch["hint"])

    def contract_graph(self):
        return ContractGraph(self.prepare, self.generator, TanhColour())

    def generator_loss(self, output, batch):
        loss = losses.l2(tanh_to_unit(output), batch["color"])
        return loss, {"l2": loss.item()}


class Classification(Variant):
    """The poster's classification model: colour classes at 1/4 resolution, soft-encoded
    targets, rebalanced cross-entropy, annealed-mean decoding and x4 upsampling in the graph."""

    name = "classification"
    description = "the poster's classification U-Net: 512 RGB colour classes at 1/4 resolution"
    space = "rgb"
    propagation = True

    @classmethod
    def check(cls, config):
        if config.depth < 3:
            raise ConfigError("classification variants need --depth 3 or more "
                              "(they predict at 1/4 resolution)")

    def __init__(self, config: TrainConfig):
        self.bins = ColorBins(self.space, config.bins, config.sigma)
        super().__init__(config)
        self.class_weights = torch.ones(self.bins.classes)

    def build_generator(self):
        self.prepare = self.with_flood(StrokeInput(self.uses_hints))
        network = classification_unet(self.prepare.channels, self.bins.classes, self.config.width,
                                      self.config.depth)
        if not self.flood:
            return network
        self.description = ("the poster's classification U-Net (512 RGB colour classes at 1/4 "
                            "resolution) starting from a line-aware flood of the hint strokes")
        return FloodPrior(network, self.bins, self.prepare)

    def network_input(self, batch):
        return self.prepare(batch["line"], batch["hint"])

    def contract_graph(self):
        return ContractGraph(self.prepare, self.generator, ClassColour(self.bins, self.config.temperature))

    def extra_metadata(self):
        return {**super().extra_metadata(), "temperature": self.config.temperature, "bins": self.config.bins}

    def targets(self, colour: torch.Tensor) -> torch.Tensor:
        return self.bins.encode(F.avg_pool2d(colour, 4))

    @torch.no_grad()
    def fit_data(self, dataset) -> None:
        """Class histogram of the first ``class_images`` training crops -> rebalancing weights."""
        histogram = torch.zeros(self.bins.classes, dtype=torch.float64)
        for index in range(min(len(dataset), self.config.class_images)):
            colour = dataset[index]["color"][None].float()
            histogram += self.targets(colour).sum(dim=(0, 2, 3)).double()
        self.class_weights = losses.rebalancing_weights(histogram, self.config.rebalance)

    def extra_state(self):
        return {"class_weights": self.class_weights.cpu()}

    def load_extra_state(self, state):
        weights = state.get("class_weights")
        if weights is None or weights.shape != (self.bins.classes,):
            raise CheckpointError(f"checkpoint has no class weights for {self.bins.classes} classes")
        self.class_weights = weights.float()

    def generator_loss(self, output, batch):
        loss = losses.rebalanced_soft_cross_entropy(output, self.targets(batch["color"]), self.class_weights)
        return loss, {"ce": loss.item()}


class ClassificationLCH(Classification):
    name = "classification-lch"
    description = "the poster's classification U-Net: 512 CIE LCH colour classes at 1/4 resolution"
    space = "lch"
    propagation = False  # the flood's LCH class needs atan2, which the graph cannot export


VARIANT_CLASSES = {cls.name: cls for cls in (Pix2PixStroke, DeepColorGAN, Regression, Classification,
                                              ClassificationLCH)}


def build_variant(config: TrainConfig) -> Variant:
    return VARIANT_CLASSES[config.variant](config)

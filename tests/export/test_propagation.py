"""The line-aware hint flood (export/propagation.py) and the generators built on it (pix2pix-stroke,
deepcolor-gan, classification): a stroke's colour fills its closed region and stops at the lines,
each variant trains and validates with the raw-quality metrics, and it exports to ONNX matching
PyTorch, painting the flood before it has learned anything."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from export import checkpoints, losses, train  # noqa: E402
from export.config import FLOOD_LEVELS, TrainConfig, parse_levels  # noqa: E402
from export.errors import ConfigError  # noqa: E402
from export.onnx import PARITY_TOLERANCE, export_checkpoint  # noqa: E402
from export.propagation import HintPropagation  # noqa: E402
from export.quality import colour_with, curve, load_samples, score, score_by_half, torch_runner  # noqa: E402
from export.variants import FloodInput, StrokeInput, build_variant, residual_colour  # noqa: E402
from krita_deepcolor.engine import Options, colorize, load_model  # noqa: E402
from krita_deepcolor.engine.regions import watershed_flood  # noqa: E402

from .test_onnx import canvas  # noqa: E402
from .test_train import metrics, tiny_args  # noqa: E402

torch.set_num_threads(1)
RED, BLUE = (0.9, 0.1, 0.1), (0.1, 0.2, 0.9)


def drawing(size: int = 256):
    """A ring cut in two by a thin diagonal line, a red stroke in its lower-left part, a blue dot
    outside; 1-px lines (the thinnest a user draws)."""
    line = np.full((size, size), 255, np.uint8)
    cv2.circle(line, (128, 128), 80, 0, 1)
    cv2.line(line, (0, 40), (255, 230), 0, 1)  # a diagonal: the 4-connected flood must not slip through
    hint = np.zeros((size, size, 4), np.float32)
    cv2.line(hint, (90, 170), (105, 175), (*RED, 1.0), 3)
    cv2.circle(hint, (30, 230), 3, (*BLUE, 1.0), -1)
    return (torch.from_numpy(line.astype(np.float32) / 255.0)[None, None],
            torch.from_numpy(hint.transpose(2, 0, 1).copy())[None])


def flood_colour(line, hint):
    colour, reach, proximity = HintPropagation()(line, hint)
    return (colour + 1.0 - reach)[0].permute(1, 2, 0).numpy(), reach[0, 0].numpy(), proximity[0, 0].numpy()


def test_a_stroke_fills_its_closed_region_and_stops_at_a_thin_line():
    line, hint = drawing()
    colour, reach, proximity = flood_colour(line, hint)
    # far corners of the stroke's part of the ring (away from the lines by a few pixels)
    for y, x in ((150, 70), (195, 120), (180, 150)):
        assert np.abs(colour[y, x] - RED).max() < 0.02, (y, x, colour[y, x])
        assert reach[y, x] > 0.99
    # the other side of the 1-px diagonal, inside the same ring: untouched white
    for y, x in ((90, 128), (110, 170), (70, 110)):
        assert np.abs(colour[y, x] - 1.0).max() < 1e-6 and reach[y, x] == 0.0
    # outside the ring: the blue dot's region, not red; the part above the diagonal has no hint
    assert np.abs(colour[240, 200] - BLUE).max() < 0.02
    assert np.abs(colour[30, 200] - 1.0).max() < 1e-6
    # proximity falls with the distance from the stroke
    assert proximity[172, 98] > proximity[195, 120] > proximity[30, 200] == 0.0


def test_two_strokes_in_one_region_meet_between_them():
    line = torch.ones(1, 1, 64, 256)
    hint = torch.zeros(1, 4, 64, 256)
    hint[0, :3, 28:36, 4:12] = torch.tensor(RED)[:, None, None]
    hint[0, :3, 28:36, 244:252] = torch.tensor(BLUE)[:, None, None]
    hint[0, 3, 28:36, 4:12] = hint[0, 3, 28:36, 244:252] = 1.0
    colour, reach, _ = flood_colour(line, hint)
    assert np.abs(colour[32, 40] - RED).max() < 0.05 and np.abs(colour[32, 216] - BLUE).max() < 0.05
    assert (reach > 0.95).all()


def test_no_hints_reach_nothing_and_levels_are_checked():
    line, _ = drawing(64)
    colour, reach, proximity = flood_colour(line, torch.zeros(1, 4, 64, 64))
    assert (colour == 1.0).all() and (reach == 0.0).all() and (proximity == 0.0).all()
    with pytest.raises(ValueError, match="fall"):
        HintPropagation(((4, 8), (8, 8)))
    with pytest.raises(ConfigError, match="raise --depth"):
        TrainConfig(variant="pix2pix-stroke", run="x", depth=3, crop=64, propagation="flood")
    with pytest.raises(ConfigError, match="applies to pix2pix-stroke, deepcolor-gan, classification only"):
        TrainConfig(variant="regression", run="x", propagation="flood")
    with pytest.raises(ConfigError, match="needs --hints strokes, not deepcolor"):
        TrainConfig(variant="deepcolor-gan", run="x", propagation="flood")


# The extra options each variant needs to read the flood (blocks of 16 px need depth 4 or more).
FLOOD_VARIANTS = {"pix2pix-stroke": (), "deepcolor-gan": ("--hints", "strokes"),
                  "classification": ("--depth", "4")}


@pytest.mark.parametrize("name", FLOOD_VARIANTS)
def test_a_flood_variant_trains_validates_and_exports(name, tiny_dataset, tmp_path):
    run = tmp_path / "run"
    options = (*FLOOD_VARIANTS[name], "--propagation", "flood")
    assert train.main(tiny_args(name, tiny_dataset, run, 3, *options, "--val-every", "3")) == 0
    checkpoint = checkpoints.load_checkpoint(run)
    assert checkpoint["config"]["propagation"] == FLOOD_LEVELS and checkpoint["images_seen"] == 12
    validation = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()
                  if json.loads(line)["kind"] == "val"][-1]
    for key in ("raw_hinted_de10", "raw_hinted_psnr", "raw_unhinted_de10", "raw_none_psnr", "raw_white_psnr",
                "raw_none_gain"):
        assert np.isfinite(validation[key]), key
    assert 0.0 <= validation["raw_hinted_de10"] <= 1.0 and 0.0 <= validation["raw_unhinted_de10"] <= 1.0
    assert "| 3 | 12 |" in curve(run)  # the learning-curve table for the model card
    # resuming with the short name of the schedule is the same run
    assert train.main(tiny_args(name, tiny_dataset, run, 4, *options)) == 0
    assert checkpoints.load_checkpoint(run)["step"] == 4

    output = tmp_path / "flood.onnx"
    summary = export_checkpoint(run, output, data=str(tiny_dataset), log=lambda _: None)
    assert max(summary["parity"].values()) < PARITY_TOLERANCE
    model = load_model(output, device="cpu", threads=1)
    assert model.info.variant == name and model.info.extra["propagation"] == FLOOD_LEVELS
    layer_line, layer_hint = canvas()  # through the engine as users run it
    assert colorize(model, layer_line, layer_hint, Options(max_side=128)).rgba.shape == (70, 100, 4)

    # the drawing through onnxruntime and torch: the same colours, and the red stroke carried
    # across its part of the ring (the flood's part starts in charge and moved little in 4
    # steps; classification paints the mean of the colour classes next to the stroke's)
    line, hint = drawing()
    variant = checkpoints.restore_variant(checkpoints.load_checkpoint(run))
    graph = variant.contract_graph().eval()
    ours = colour_with(model.run, line[0, 0].numpy(), hint[0].permute(1, 2, 0).numpy(), 32)
    expected = colour_with(torch_runner(graph), line[0, 0].numpy(), hint[0].permute(1, 2, 0).numpy(), 32)
    assert np.abs(ours - expected).max() < PARITY_TOLERANCE
    assert np.abs(ours[195, 120] - RED).max() < 0.15 and np.abs(ours[90, 128] - RED).max() > 0.3


def test_the_spill_carries_a_stroke_across_the_line_the_flood_stops_at():
    line, hint = drawing()
    with_spill = FloodInput(StrokeInput(True), parse_levels(FLOOD_LEVELS), spill=True)
    features = with_spill(line, hint)[0].permute(1, 2, 0).numpy()
    assert features.shape[2] == with_spill.channels == StrokeInput(True).channels + 8
    flood, spill = features[:, :, with_spill.BASE], features[:, :, -3:]
    # across the 1-px diagonal, in the same ring: white in the flood, the red stroke's spill
    assert np.abs(flood[90, 128] - 1.0).max() < 1e-6
    assert np.abs(spill[90, 128] - RED).max() < 0.05
    # near the blue dot the spill is blue; the flood's channels are those of the plain flood
    assert np.abs(spill[230, 40] - BLUE).max() < 0.05
    plain = FloodInput(StrokeInput(True), parse_levels(FLOOD_LEVELS))(line, hint)
    assert torch.equal(plain[0].permute(1, 2, 0), torch.from_numpy(features[:, :, :-3]))

    # --spill-base: the spill becomes the base where the flood does not reach, nothing else moves
    spill_base = FloodInput(StrokeInput(True), parse_levels(FLOOD_LEVELS), spill=True, spill_base=True)
    based = spill_base(line, hint)[0].permute(1, 2, 0).numpy()
    assert np.abs(based[90, 128, spill_base.BASE] - RED).max() < 0.05
    reached = features[:, :, with_spill.REACH][:, :, 0] > 0.999
    assert reached.any() and np.array_equal(based[reached], features[reached])
    outside = np.ones(features.shape[2], bool)
    outside[with_spill.BASE] = False
    assert np.array_equal(based[:, :, outside], features[:, :, outside])


def test_a_spill_run_trains_and_exports(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    options = ("--propagation", "flood", "--spill")
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, run, 2, *options)) == 0
    assert checkpoints.load_checkpoint(run)["config"]["spill"] is True
    output = tmp_path / "spill.onnx"
    summary = export_checkpoint(run, output, data=str(tiny_dataset), log=lambda _: None)
    assert max(summary["parity"].values()) < PARITY_TOLERANCE
    assert load_model(output, device="cpu", threads=1).info.extra["spill"] == "true"
    with pytest.raises(ConfigError, match="give --propagation flood too"):
        TrainConfig(variant="pix2pix-stroke", run="x", spill=True)
    # a spill run may go on with the spill as its base; the export follows
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, run, 3, *options, "--spill-base")) == 0
    assert checkpoints.load_checkpoint(run)["config"]["spill_base"] is True
    summary = export_checkpoint(run, output, data=str(tiny_dataset), log=lambda _: None)
    assert max(summary["parity"].values()) < PARITY_TOLERANCE
    assert load_model(output, device="cpu", threads=1).info.extra["spill_base"] == "true"
    with pytest.raises(ConfigError, match="give --spill too"):
        TrainConfig(variant="pix2pix-stroke", run="x", propagation="flood", spill_base=True)


def test_a_flood_run_trains_on_user_like_region_strokes(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    options = ("--propagation", "flood", "--hints", "regions")
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, run, 2, *options)) == 0
    assert checkpoints.load_checkpoint(run)["config"]["hints"] == "regions"
    with pytest.raises(ConfigError, match="does not fit deepcolor-gan"):
        TrainConfig(variant="deepcolor-gan", run="x", hints="regions", propagation="flood")


def gated_features():
    line, hint = drawing()
    prepare = FloodInput(StrokeInput(True), parse_levels(FLOOD_LEVELS), spill=True, spill_reach=True)
    return prepare, prepare(line, hint)


def test_the_spill_gate_picks_the_spill_only_where_the_flood_does_not_reach():
    prepare, features = gated_features()
    reach = features[:, prepare.REACH]
    assert (reach > 0.999).any() and (reach < 0.001).any()
    assert features[:, prepare.SPILL_REACH].min() > 0.999  # one stroke spills over the whole picture
    correction = torch.full_like(features[:, :3], 0.1)
    own = features[:, prepare.BASE] + 0.1
    # a hard choice: a gate barely above zero takes the spill, barely below it the own colour
    for gate, expected in ((0.01, features[:, prepare.SPILL]), (-0.01, own)):
        output = torch.cat([correction, torch.full_like(reach, gate)], 1)
        colour = residual_colour(prepare, features, output)
        unreached, reached = (reach < 0.001).expand_as(colour), (reach > 0.999).expand_as(colour)
        assert torch.allclose(colour[unreached], expected[unreached], atol=1e-6)
        # where the flood reaches, the gate has no say
        assert torch.allclose(colour[reached], own[reached], atol=1e-6)
    assert torch.equal(residual_colour(prepare, features, correction), own)
    # with no strokes, nothing spills: the gate has no say anywhere
    line, _ = drawing()
    empty = prepare(line, torch.zeros(1, 4, 256, 256))
    output = torch.cat([correction, torch.ones_like(reach)], 1)
    assert torch.allclose(residual_colour(prepare, empty, output), empty[:, prepare.BASE] + 0.1, atol=1e-6)


def test_the_gate_learns_toward_whichever_colour_is_right_where_only_one_is():
    config = TrainConfig(variant="pix2pix-stroke", run="x", propagation="flood", spill=True, spill_gate=True,
                         width=8, depth=4)
    variant = build_variant(config)
    prepare, features = gated_features()
    unreached = (features[:, prepare.REACH] < 0.001).float()
    spill = features[:, prepare.SPILL]
    wrong = (spill + 0.5) % 1.0  # far from the spill in every channel
    gate = torch.zeros_like(unreached, requires_grad=True)
    output = torch.cat([torch.zeros_like(spill), gate], 1)
    # truth = the spill: the own colour (white-based) is wrong there, so the gate must rise;
    # truth far from both: nothing to learn; truth = the own colour: the gate must fall
    own = features[:, prepare.BASE]
    for truth, direction in ((spill, 1.0), (wrong, 0.0), (own, -1.0)):
        gate.grad = None
        loss, report = variant.pull(output, own, features, {"color": truth})
        loss.backward()
        decided = (unreached > 0) & ((own - spill).abs().amax(1, keepdim=True) > 0.2)
        pushed = -gate.grad[decided]  # gradient descent's direction on the gate
        if direction == 0.0:
            assert report["gate"] == 0.0 and torch.count_nonzero(gate.grad) == 0
        else:
            assert decided.sum() > 1000 and (pushed * direction > 0).all()


def test_the_closer_gate_target_learns_the_lesser_error_where_both_are_wrong():
    config = TrainConfig(variant="pix2pix-stroke", run="x", propagation="flood", spill=True, spill_gate=True,
                         gate_target="closer", width=8, depth=4)
    variant = build_variant(config)
    prepare, features = gated_features()
    unreached = features[:, prepare.REACH] < 0.001
    spill, own = features[:, prepare.SPILL], features[:, prepare.BASE]
    gate = torch.zeros_like(unreached, dtype=torch.float32, requires_grad=True)
    output = torch.cat([torch.zeros_like(spill), gate], 1)
    # both candidates well over dE76 10 from the truth, the spill (red) much nearer than the
    # own colour (white): "hit" has nothing to learn there, "closer" pulls toward the spill
    truth = spill * 0.7 + 0.15
    decided = unreached & ((own - spill).abs().amax(1, keepdim=True) > 0.2)
    errors = [losses.delta_e(candidate, truth)[decided] for candidate in (spill, own)]
    assert decided.sum() > 1000 and (errors[0] > 10).all() and (errors[1] > errors[0] + 10).all()
    for target, pulls in (("hit", False), ("closer", True)):
        variant.config.gate_target = target
        gate.grad = None
        loss, _ = variant.pull(output, own, features, {"color": truth})
        loss.backward()
        pushed = -gate.grad[decided]
        assert (pushed > 0).all() if pulls else torch.count_nonzero(pushed) == 0
    with pytest.raises(ConfigError, match="--gate-target"):
        TrainConfig(variant="pix2pix-stroke", run="x", gate_target="nearest")


def test_a_spill_gate_run_learns_its_gate_and_exports(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    options = ("--propagation", "flood", "--spill", "--spill-gate")
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, run, 30, *options)) == 0
    gates = [entry["gate"] for entry in metrics(run, "train")]
    assert len(gates) == 6 and gates[-1] < gates[0]
    output = tmp_path / "gate.onnx"
    summary = export_checkpoint(run, output, data=str(tiny_dataset), log=lambda _: None)
    assert max(summary["parity"].values()) < PARITY_TOLERANCE
    assert load_model(output, device="cpu", threads=1).info.extra["spill_gate"] == "true"
    with pytest.raises(ConfigError, match="give --spill too"):
        TrainConfig(variant="pix2pix-stroke", run="x", propagation="flood", spill_gate=True)
    with pytest.raises(ConfigError, match="give both"):
        TrainConfig(variant="pix2pix-stroke", run="x", propagation="flood", spill=True, spill_gate=True,
                    freeze_colour=True)


def test_a_run_grows_from_another_and_first_paints_what_it_painted(tiny_dataset, tmp_path, capsys):
    source = tmp_path / "source"
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, source, 10, "--propagation", "flood")) == 0
    config = TrainConfig(variant="pix2pix-stroke", run="x", propagation="flood", spill=True, spill_gate=True,
                         width=16, depth=5)
    grown = build_variant(config)
    checkpoints.init_from(grown, source)
    before = checkpoints.restore_variant(checkpoints.load_checkpoint(source)).contract_graph().eval()
    after = grown.contract_graph().eval()
    line, hint = drawing()
    features = after.prepare(line, hint)
    reach = features[:, after.prepare.REACH].expand(-1, 3, -1, -1)
    with torch.no_grad():
        old, new = before(line, hint), after(line, hint)
    flood = features[:, after.prepare.BASE].clamp(0.0, 1.0)
    assert (old - flood).abs().max() > 1e-3  # the source has learned a correction to keep
    assert torch.allclose(new[reach > 0.999], old[reach > 0.999], atol=1e-5)
    spill = features[:, after.prepare.SPILL].clamp(0.0, 1.0)
    assert torch.allclose(new[reach < 0.001], spill[reach < 0.001], atol=1e-5)
    empty = torch.zeros_like(hint)  # no strokes, nothing spills: exactly the source
    with torch.no_grad():
        assert torch.allclose(after(line, empty), before(line, empty), atol=1e-5)
    # the command line: a new run starts there and trains on; with --freeze-colour only the
    # gate learns and the colour stays the source's exactly; another network is refused
    options = ("--propagation", "flood", "--spill", "--spill-gate", "--init-from", str(source))
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, tmp_path / "grown", 5, *options)) == 0
    assert metrics(tmp_path / "grown", "train")[0]["gate"] > 0
    frozen = tmp_path / "frozen"
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, frozen, 10, *options, "--freeze-colour",
                                "--gate-width", "4")) == 0
    trained = checkpoints.restore_variant(checkpoints.load_checkpoint(frozen))
    assert trained.generator.gate.ups[-1][1].weight.abs().max() > 0  # the gate learned (from zero)
    with torch.no_grad():
        colour = trained.generator.colour(features)
        assert torch.allclose(colour, grown.generator.colour(features), atol=1e-6)
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, tmp_path / "narrow", 5, *options,
                                "--width", "8")) == 2
    assert "another network: width 16 (this run: 8)" in capsys.readouterr().err


def test_raw_quality_scores_the_stroked_and_the_unreached_regions(tiny_dataset):
    samples = load_samples(tiny_dataset)
    for sample in samples:
        sparse_strokes = sample["sparse"][:, :, 3] > 0.5
        assert sample["unhinted"].any() and not (sample["unhinted"] & sparse_strokes).any()
        assert not (sample["unhinted"] & ~sample["paper"]).any()

    def white(line, hint):
        return np.ones((1, 3, *line.shape[2:]), np.float32)
    scores = score(white, samples, 16, flood=True)
    assert scores["hinted_de10"] == scores["unhinted_de10"] == 0.0  # the figures are coloured
    assert scores["none_gain"] == pytest.approx(0.0)

    def flood(line, hint):  # the watershed flood as a "network": it must score as the flood does
        line8 = np.round(line[0, 0] * 255).astype(np.uint8)
        hint8 = np.round(hint[0].transpose(1, 2, 0) * 255).astype(np.uint8)
        rgb, painted = watershed_flood(line8, hint8[:, :, 3] >= 128, hint8[:, :, :3], False)
        return np.where(painted[:, :, None], rgb / 255.0, 1.0).transpose(2, 0, 1)[None]
    flooded = score(flood, samples, 16)
    assert flooded["hinted_de10"] == pytest.approx(scores["flood_hinted_de10"])
    assert flooded["unhinted_de10"] == pytest.approx(scores["flood_unhinted_de10"])
    # strokes' regions take their colours; regions no sparse stroke holds stay partly white
    assert scores["flood_hinted_de10"] == 1.0 and 0.2 < scores["flood_unhinted_de10"] < 0.9
    # by half: the halves split the pairs, and together they give the all-pairs scores (the
    # tiny set's few ids all hash to one half: put the first pair in the other)
    assert {s["half"] for s in samples} <= {"tuning", "held-out"} and len(samples) >= 2
    samples[0]["half"] = "held-out" if samples[0]["half"] == "tuning" else "tuning"
    by_half = score_by_half(flood, samples, 16, flood=True)
    assert by_half["all"] == pytest.approx(scores | flooded)
    assert by_half["tuning"] != pytest.approx(by_half["held-out"])

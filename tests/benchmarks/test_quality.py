"""The quality benchmark on real files: fixed halves, the regimes, hintauc's curve, the tables."""

import json

import cv2
import numpy as np
import pytest

from benchmarks import quality
from export.data.hints import DHT_RATIOS, break_lines, dht_hints
from tests import contract_models
from tests.export.conftest import write_tiny_dataset


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    data = write_tiny_dataset(tmp_path_factory.mktemp("quality") / "dataset", size=96, train_count=1,
                              val_count=6)
    model = contract_models.build(tmp_path_factory.mktemp("model") / "passthrough.onnx", strict=False)
    return quality.run(models=[str(model)], data=data)


def test_halves_are_fixed_by_id_and_both_are_reported(scored):
    sample = "openclipart-svg-0123456789ab-384"
    assert quality.half_of(sample) == quality.half_of(sample) in quality.HALVES
    halves = {half for half, _, _ in scored}
    assert halves == set(quality.HALVES)  # 6 pairs: both halves hold some (by their ids)
    printed = quality.table(scored)
    assert "| tuning | dense | flood+border |" in printed and "| held-out | gaps-sparse |" in printed


def test_the_source_table_splits_each_half_by_art_package(scored):
    assert quality.source_of("ktuberling-data-0123456789ab-384") == "ktuberling-data"
    printed = quality.source_table(scored).splitlines()
    rows = [line.split(" | ") for line in printed[2:]]
    # every picture of each half is counted once, under its package, for the one engine method
    for half in quality.HALVES:
        counted = sum(int(row[2]) for row in rows if row[0] == f"| {half}")
        assert counted == len(scored[(half, "dense", quality.BASELINE)])
    assert {row[3] for row in rows} == {"engine:passthrough"}


def test_every_regime_and_hint_ratio_is_scored_for_every_method(scored):
    regimes = {regime for _, regime, _ in scored}
    assert {"dense", "sparse", "none", "gaps-dense", "gaps-sparse"} <= regimes
    assert {f"dht-{ratio:.2f}" for ratio in DHT_RATIOS} <= regimes
    methods = {method for _, _, method in scored}
    assert methods == {"empty", "flood+border", "engine:passthrough"}


def test_more_scribbles_bring_the_flood_closer_to_the_truth(scored):
    """hintauc's scribbles lie in the truth's colours, on paper: with every region scribbled the
    flood of these flat shapes is nearly exact, and without any it is a white layer."""
    psnr = {ratio: np.mean([s["psnr"] for half in quality.HALVES
                            for s in scored.get((half, f"dht-{ratio:.2f}", "flood+border"), [])])
            for ratio in (0.0, 1.0)}
    empty = np.mean([s["psnr"] for half in quality.HALVES for s in scored[(half, "dht-0.00", "empty")]])
    assert psnr[0.0] == pytest.approx(empty)
    assert psnr[1.0] > empty + 10
    auc = quality.hint_auc_table(scored)
    assert auc.count("| mean over packages | flood+border |") == 2 and "Hint-AUC PSNR" in auc


def test_break_lines_cuts_gaps_through_the_lines():
    line = np.full((120, 120), 255, np.uint8)
    cv2.rectangle(line, (20, 20), (100, 100), 0, 3)
    broken = break_lines(line, np.random.default_rng(0), breaks=4)
    assert (broken >= line).all() and (broken > line).any()
    assert cv2.connectedComponents((broken >= 128).astype(np.uint8), connectivity=4)[0] - 1 == 1  # leaks out
    assert cv2.connectedComponents((line >= 128).astype(np.uint8), connectivity=4)[0] - 1 == 2


def test_scribbles_lie_on_paper_in_their_regions_colour():
    colour = np.zeros((96, 96, 4), np.uint8)
    cv2.ellipse(colour, (48, 48), (40, 20), 0, 0, 360, (200, 40, 40, 255), -1)
    line = np.full((96, 96), 255, np.uint8)
    cv2.ellipse(line, (48, 48), (40, 20), 0, 0, 360, 0, 3)
    colour[line < 128] = (0, 0, 0, 255)
    layers = dht_hints(colour, line)
    assert not layers[0.0][:, :, 3].any()
    full = layers[1.0]
    assert not full[line < 128, 3].any()  # no hint on ink
    scribbled = full[:, :, 3] > 0
    red = (np.abs(full[:, :, :3].astype(int) - (200, 40, 40)).max(axis=2) <= 8) & scribbled
    assert red.sum() >= 20 and (colour[red, :3] == (200, 40, 40)).all()  # inside the ellipse
    white = scribbled & ~red
    assert white.any() and (colour[white, 3] == 0).all()  # the background's scribble: white paper


def test_every_package_weighs_the_same_in_the_means():
    scores = [{"id": f"big-package-{n:012x}-384", "psnr": 10.0} for n in range(9)]
    scores.append({"id": "small-package-0123456789ab-512", "psnr": 30.0})
    assert quality.package_mean(scores, "psnr") == pytest.approx(20.0)  # not 12: packages, not pictures
    baseline = [dict(entry, psnr=entry["psnr"] + 0.5) for entry in scores]
    baseline[-1]["psnr"] = 32.0
    assert quality._below(scores, baseline) == "1 of 10"


def test_pictures_scored_in_parallel_score_the_same(scored, tmp_path):
    data = write_tiny_dataset(tmp_path / "dataset", size=96, train_count=1, val_count=6)
    model = contract_models.build(tmp_path / "passthrough.onnx", strict=False)
    parallel = quality.run(models=[str(model)], data=data, curve=False, jobs=2, proposal=True)
    methods = {method for _, _, method in parallel}
    assert methods == {"empty", "flood+border", "engine:passthrough", "engine:passthrough (hybrid proposal)"}
    for key, scores in parallel.items():
        if not key[2].endswith("(hybrid proposal)"):
            # same pictures, same order, same numbers (JSON: NaN, a region share of no pixels, equals NaN)
            assert json.dumps(scores) == json.dumps(scored[key])

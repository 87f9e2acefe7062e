"""The speed benchmark times the architecture of the model it is given."""

from pathlib import Path

import pytest

pytest.importorskip("torch")

from benchmarks import speed  # noqa: E402

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_the_torch_column_builds_the_given_models_architecture():
    flood_model = str(MODELS / "pix2pix-flood-v1.onnx")
    architecture = speed._architecture_of(flood_model)
    assert architecture == {"variant": "pix2pix-stroke", "width": 24, "depth": 6, "hints": "strokes",
                            "propagation": "16:32,8:16,4:16,2:8"}
    variant, _ = speed._graph(architecture.pop("variant"), **architecture)
    assert sum(p.numel() for p in variant.generator.parameters()) == 4_118_859  # as the model card says


def test_a_depth_6_model_is_timed_at_its_own_size_multiple(monkeypatch):
    monkeypatch.setattr(speed, "REPEATS", 1)
    # 64 is a multiple of 2**6 but not of the default architecture's 2**7
    timed = speed.child_torch(str(MODELS / "pix2pix-flood-v1.onnx"), 64)
    assert timed["seconds"] > 0 and timed["peak_mb"] > 0

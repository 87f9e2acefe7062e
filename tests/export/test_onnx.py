"""Export: every variant becomes a contract ONNX file that matches PyTorch, loads in the
engine and colours through the pipeline; bad checkpoints are refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from export import checkpoints, train  # noqa: E402
from export import onnx as export_onnx  # noqa: E402
from export.errors import CheckpointError  # noqa: E402
from export.onnx import ExportError, export_checkpoint  # noqa: E402
from krita_deepcolor.engine import Options, colorize, load_model  # noqa: E402

from .test_train import REPO, VARIANTS, tiny_args  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def runs(tiny_dataset, tmp_path_factory) -> dict[str, Path]:
    """Two real training steps of every variant (and a line-only regression)."""
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for variant in VARIANTS:
        extra = ["--gan-weight", "1"] if variant == "pix2pix-stroke" else []
        assert train.main(tiny_args(variant, tiny_dataset, root / variant, 2, *extra)) == 0
        made[variant] = root / variant
    assert train.main(tiny_args("regression", tiny_dataset, root / "lineonly", 2, "--hints", "none")) == 0
    made["lineonly"] = root / "lineonly"
    return made


def canvas() -> tuple[np.ndarray, np.ndarray]:
    """A 100 x 70 line-art layer (a ring on transparent) and a hint layer with one red stroke."""
    import cv2

    line = np.zeros((70, 100, 4), np.uint8)
    cv2.circle(line, (50, 35), 25, (0, 0, 0, 255), 2)
    hint = np.zeros((70, 100, 4), np.uint8)
    cv2.line(hint, (45, 35), (55, 35), (220, 30, 30, 255), 3)
    return line, hint


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_exports_matches_torch_and_colours(variant, runs, tiny_dataset, tmp_path):
    output = tmp_path / f"{variant}.onnx"
    summary = export_checkpoint(runs[variant], output, data=str(tiny_dataset), log=lambda _: None)
    assert set(summary["parity"]) == {"random", "random-no-hints", "blank-page", "dataset"}
    assert max(summary["parity"].values()) < export_onnx.PARITY_TOLERANCE
    assert sorted(p.name for p in tmp_path.iterdir()) == [output.name]  # one file, no external data

    model = load_model(output, device="cpu", threads=1)
    info = model.info
    checkpoint = checkpoints.load_checkpoint(runs[variant])
    config = checkpoint["config"]
    assert (info.name, info.variant, info.train_size) == (variant, variant, 64)
    assert info.size_multiple == 2 ** config["depth"]
    assert info.uses_hints and info.steps == 2 and info.images_seen == 8
    assert info.line_width == pytest.approx(checkpoint["data_info"]["line_width"])
    assert "shapes" in info.data and info.license.startswith("CC0-1.0")
    if variant == "deepcolor-gan":
        assert float(info.extra["hint_fade"]) == config["hint_fade"] and info.extra["hint_blur"] == "100"

    line, hint = canvas()
    result = colorize(model, line, hint, Options(max_side=128))
    assert result.rgba.shape == (70, 100, 4) and result.rgba.dtype == np.uint8
    assert result.plan.padded[0] % info.size_multiple == 0 and result.plan.padded[1] % info.size_multiple == 0


def test_line_only_model_ignores_hints(runs, tmp_path):
    output = tmp_path / "lineonly.onnx"
    export_checkpoint(runs["lineonly"], output, log=lambda _: None)
    model = load_model(output, device="cpu", threads=1)
    assert not model.info.uses_hints
    line = np.ones((1, 1, 16, 16), np.float32)
    line[..., 4:6, :] = 0.0
    hinted = np.random.default_rng(0).random((1, 4, 16, 16), dtype=np.float32)
    assert np.array_equal(model.run(line, hinted), model.run(line, np.zeros_like(hinted)))


def test_parity_failure_writes_nothing(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(export_onnx, "PARITY_TOLERANCE", 0.0)
    output = tmp_path / "never.onnx"
    with pytest.raises(ExportError, match="differ"):
        export_checkpoint(runs["pix2pix-stroke"], output, log=lambda _: None)
    assert list(tmp_path.iterdir()) == []


def test_wrong_checkpoints_are_refused(runs, tmp_path, capsys):
    output = tmp_path / "x.onnx"
    assert export_onnx.main([str(runs["regression"]), "-o", str(output), "--variant", "classification"]) == 1
    assert "is a regression checkpoint, not classification" in capsys.readouterr().err

    # weights of one shape under a config that asks for another
    payload = checkpoints.load_checkpoint(runs["pix2pix-stroke"])
    payload.pop("path")
    payload["config"]["width"] = 8
    checkpoints.save_checkpoint(tmp_path / "reshaped.pt", payload)
    with pytest.raises(CheckpointError, match="do not fit a pix2pix-stroke network with width 8"):
        export_checkpoint(tmp_path / "reshaped.pt", output)

    # another variant's weights under this variant's name
    payload["config"] = checkpoints.load_checkpoint(runs["regression"])["config"]
    checkpoints.save_checkpoint(tmp_path / "swapped.pt", payload)
    with pytest.raises(CheckpointError, match="generator weights do not fit a regression"):
        export_checkpoint(tmp_path / "swapped.pt", output)

    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable krita-deepcolor checkpoint"):
        export_checkpoint(tmp_path / "junk.pt", output)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a krita-deepcolor checkpoint"):
        export_checkpoint(tmp_path / "foreign.pt", output)
    with pytest.raises(CheckpointError, match="no checkpoint there"):
        export_checkpoint(tmp_path / "missing", output)
    assert not output.exists()


def test_command_line_export(runs, tmp_path):
    output = tmp_path / "models" / "cli.onnx"
    done = subprocess.run([sys.executable, "-m", "export.onnx", str(runs["classification"]),
                           "-o", str(output), "--name", "tiny-classes", "--description", "test model"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "parity dataset: max abs difference" in done.stdout
    info = load_model(output, device="cpu").info
    assert (info.name, info.description) == ("tiny-classes", "test model")

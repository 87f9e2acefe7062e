"""The command line, as other tools call it."""

import subprocess
import sys

import numpy as np
import pytest

from krita_deepcolor.cli import hints_for, main
from krita_deepcolor.engine.imageio import read_image, write_png

from .conftest import hint_layer, line_art


@pytest.fixture
def files(tmp_path):
    line = tmp_path / "page.png"
    hints = tmp_path / "page.hints.png"
    write_png(line, line_art())
    write_png(hints, hint_layer(color=(0, 200, 0)))
    return line, hints


def run_cli(*args):
    """The real entry point in a fresh interpreter; returns (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "krita_deepcolor", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_colorize_writes_the_coloured_png(files, model_path, tmp_path):
    line, hints = files
    out = tmp_path / "out.png"
    code, stdout, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path,
                                   "--device", "cpu")
    assert code == 0, stderr
    assert "on CPU" in stdout
    result = read_image(out)
    assert result.shape == (96, 128, 4)
    assert tuple(result[30, 30]) == (0, 200, 0, 255)
    assert out.stat().st_mode & 0o044  # readable by others, like any file the user writes


def test_with_lines_and_max_side_options(files, model_path, tmp_path):
    line, hints = files
    out = tmp_path / "lines.png"
    assert main(["colorize", str(line), "--hints", str(hints), "-o", str(out), "--model", str(model_path),
                 "--with-lines", "--max-side", "64", "--no-line-match"]) == 0
    result = read_image(out)
    assert result.shape == (96, 128, 4) and tuple(result[8, 64, :3]) == (0, 0, 0)


@pytest.mark.parametrize("case, message", [
    ("missing line", "file not found"),
    ("not an image", "not an image file"),
    ("different sizes", "same size"),
    ("hints without alpha", "need an alpha channel"),
    ("zero-size image", "not an image file"),
    ("unknown model", "unknown model 'nope'"),
    ("missing model file", "model file not found"),
    ("output is input", "would overwrite an input"),
])
def test_bad_input_exits_non_zero_with_one_line(files, model_path, tmp_path, case, message):
    line, hints = files
    out = tmp_path / "out.png"
    model = str(model_path)
    if case == "missing line":
        line = tmp_path / "absent.png"
    elif case == "not an image":
        line = tmp_path / "notes.png"
        line.write_text("hello")
    elif case == "different sizes":
        write_png(hints, hint_layer(10, 10))
    elif case == "hints without alpha":
        write_png(hints, np.zeros((96, 128, 3), np.uint8))
    elif case == "zero-size image":
        line = tmp_path / "empty.png"
        line.write_bytes(b"")
    elif case == "unknown model":
        model = "nope"
    elif case == "missing model file":
        model = str(tmp_path / "gone.onnx")
    elif case == "output is input":
        out = line
    before = line.read_bytes() if line.exists() else None
    code, stdout, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model,
                                   "--models-dir", model_path.parent)
    assert code == 2
    assert stderr.startswith("error: ") and message in stderr
    assert len(stderr.strip().splitlines()) == 1
    if before is not None:
        assert line.read_bytes() == before  # inputs untouched
    if case != "output is input":
        assert not out.exists()  # nothing half-written
    assert not list(tmp_path.glob("*.part"))


def test_hint_naming_rule(tmp_path):
    line = tmp_path / "a.png"
    assert hints_for(line) is None
    (tmp_path / "a_hints.png").write_bytes(b"x")
    assert hints_for(line) == tmp_path / "a_hints.png"
    (tmp_path / "a.hints.png").write_bytes(b"x")
    assert hints_for(line) == tmp_path / "a.hints.png"


def test_batch_colours_folders_pairs_hints_and_reports_failures(files, model_path, tmp_path, capsys):
    line, hints = files
    other = tmp_path / "second.png"
    write_png(other, line_art())
    broken = tmp_path / "broken.png"
    broken.write_text("not a png")
    out_dir = tmp_path / "results"
    code = main(["batch", str(tmp_path), "-o", str(out_dir), "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == 1  # one input failed
    assert sorted(p.name for p in out_dir.iterdir()) == ["page.png", "second.png"]
    assert tuple(read_image(out_dir / "page.png")[30, 30, :3]) == (0, 200, 0)  # its hints were used
    assert read_image(out_dir / "second.png")[30, 30, :3].min() >= 240  # no hints: the model's white
    assert "3/3" in captured.err and "skipped" in captured.err and "broken.png" in captured.err
    assert "coloured 2 of 3" in captured.out


def test_models_lists_user_models_with_metadata(model_path):
    code, stdout, _ = run_cli("models", "--models-dir", model_path.parent)
    assert code == 0
    assert "passthrough" in stdout and "size multiple 8" in stdout and str(model_path) in stdout


def test_help_states_the_hint_naming_rule():
    code, stdout, _ = run_cli("batch", "--help")
    assert code == 0 and "NAME.hints.png" in stdout

"""The command line, as other tools call it."""

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from krita_deepcolor.cli import hints_for, main
from krita_deepcolor.engine.imageio import read_icc_chunk, read_image, write_png

from .conftest import hint_layer, line_art


@pytest.fixture
def files(tmp_path):
    line = tmp_path / "page.png"
    hints = tmp_path / "page.hints.png"
    write_png(line, line_art())
    write_png(hints, hint_layer(color=(0, 200, 0)))
    return line, hints


def png_claiming(width: int, height: int, rows: int = 1) -> bytes:
    """A gray PNG whose header says width x height; ``rows`` rows of zeros follow (a real image
    when rows == height, made row by row so that the test itself needs no such memory)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    body = b"".join(packer.compress(row) for _ in range(rows)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


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
    ("transparent line art", "line art is empty"),
    ("plain white line art", "one plain colour"),
    ("a folder as line art", "is a folder; to colour every image in it use"),
    ("symlink loop", "symlink loop"),
    ("header claims 100000x100000", "more than the limit of 150 million"),
    ("decompression bomb", "more than the limit of 150 million"),
    ("PNG cut short", "a PNG cut short"),  # (libpng's own complaint printed nothing of ours)
    ("broken PNG header", "not a valid PNG"),
    ("hints with no strokes", "no hint strokes"),
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
    elif case == "transparent line art":
        write_png(line, np.zeros((96, 128, 4), np.uint8))
    elif case == "plain white line art":
        write_png(line, np.full((96, 128, 4), 255, np.uint8))
    elif case == "a folder as line art":
        line = tmp_path / "pages"
        line.mkdir()
    elif case == "symlink loop":
        line = tmp_path / "a.png"
        line.symlink_to(tmp_path / "b.png")
        (tmp_path / "b.png").symlink_to(line)
    elif case == "header claims 100000x100000":
        line.write_bytes(png_claiming(100_000, 100_000))
    elif case == "decompression bomb":  # 30000^2 of zeros: under a megabyte on disk, 3.6 GB decoded
        line.write_bytes(png_claiming(30_000, 30_000, rows=30_000))
    elif case == "PNG cut short":
        line.write_bytes(line.read_bytes()[:-40])
    elif case == "broken PNG header":
        line.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    elif case == "hints with no strokes":
        write_png(hints, np.zeros((96, 128, 4), np.uint8))
    before = line.read_bytes() if line.is_file() else None
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


def test_flats_without_hints_are_refused_and_the_raw_output_still_guesses(files, model_path, tmp_path):
    line, _ = files
    out = tmp_path / "out.png"
    code, _, stderr = run_cli("colorize", line, "-o", out, "--model", model_path)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "no hint strokes" in stderr and "--hints" in stderr and "--finishing raw" in stderr
    assert not out.exists()
    code, _, stderr = run_cli("colorize", line, "-o", out, "--model", model_path, "--finishing", "raw")
    assert code == 0, stderr
    assert read_image(out)[:, :, 3].any()


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
    assert code == 1  # two inputs failed
    assert sorted(p.name for p in out_dir.iterdir()) == ["page.png"]
    assert tuple(read_image(out_dir / "page.png")[30, 30, :3]) == (0, 200, 0)  # its hints were used
    assert "3/3" in captured.err and "skipped" in captured.err and "broken.png" in captured.err
    assert f"skipped {other}: no hint strokes" in captured.err and "NAME.hints.png" in captured.err
    assert "coloured 1 of 3" in captured.out
    code = main(["batch", str(other), "-o", str(out_dir), "--model", str(model_path), "--finishing", "raw"])
    assert code == 0 and read_image(out_dir / "second.png")[30, 30, :3].min() >= 240  # the model's white


def test_batch_gives_inputs_of_one_name_a_result_each_and_says_so(files, model_path, tmp_path, capsys):
    line, _ = files
    folder = tmp_path / "pages"
    folder.mkdir()
    write_png(folder / "a.png", line_art())
    (folder / "a.jpg").write_bytes((folder / "a.png").read_bytes())  # (OpenCV reads by content)
    write_png(folder / "b.png", line_art())
    out_dir = tmp_path / "results"
    code = main(["batch", str(folder), "-o", str(out_dir), "--model", str(model_path), "--finishing", "raw"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.name for p in out_dir.iterdir()) == ["a-jpg.png", "a-png.png", "b.png"]
    assert "a.jpg: written as a-jpg.png" in captured.err and "coloured 3 of 3" in captured.out


def test_batch_goes_on_after_a_refused_image(files, model_path, tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    write_png(folder / "good.png", line_art())
    (folder / "huge.png").write_bytes(png_claiming(100_000, 100_000))
    write_png(folder / "good.hints.png", hint_layer())
    write_png(folder / "white.png", np.full((96, 128, 4), 255, np.uint8))
    code = main(["batch", str(folder), "-o", str(tmp_path / "out"), "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == 1 and "coloured 1 of 3" in captured.out
    assert "huge.png: " in captured.err and "million pixels" in captured.err
    assert "white.png: " in captured.err and "one plain colour" in captured.err
    assert "Traceback" not in captured.err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.png"]


def test_models_lists_user_models_with_metadata(model_path):
    code, stdout, _ = run_cli("models", "--models-dir", model_path.parent)
    assert code == 0
    assert "passthrough" in stdout and "size multiple 8" in stdout and str(model_path) in stdout


def test_help_states_the_hint_naming_rule():
    code, stdout, _ = run_cli("batch", "--help")
    assert code == 0 and "NAME.hints.png" in stdout


def assert_one_line_error(code, stderr, message):
    assert code == 2, stderr
    assert stderr.startswith("error: ") and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("case, message", [
    ("existing folder", "is a folder; name the result file"),
    ("jpeg suffix", "results are written as PNG (they have transparency): name the output .png"),
    ("no suffix", "name the output .png"),
    ("inside a file", "is a file, not a folder"),
    ("under /proc", "cannot write the result here"),
])
def test_bad_output_paths_exit_2_with_one_line(files, model_path, tmp_path, case, message):
    line, hints = files
    out = {"existing folder": tmp_path, "jpeg suffix": tmp_path / "out.jpg", "no suffix": tmp_path / "out",
           "inside a file": line / "out.png", "under /proc": Path("/proc/deepcolor.png")}[case]
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path)
    assert_one_line_error(code, stderr, message)
    assert not (tmp_path / "out.jpg").exists() and not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_folder_without_write_permission_exits_2_with_one_line(files, model_path, tmp_path):
    line, hints = files
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "-o", locked / "out.png",
                              "--model", model_path)
    assert_one_line_error(code, stderr, "Permission denied")


@pytest.mark.parametrize("output", ["/proc/deepcolor-results", "page.png"])
def test_batch_into_an_unusable_folder_exits_2_with_one_line(files, model_path, output):
    line, _ = files
    out = line.parent / output if output == "page.png" else output  # an existing file, or /proc
    code, stdout, stderr = run_cli("batch", line, "-o", out, "--model", model_path)
    assert_one_line_error(code, stderr, "cannot" if output.startswith("/proc") else "is a file, not a folder")
    assert stdout == ""


def test_batch_skips_an_unwritable_output_and_goes_on(files, model_path, tmp_path, capsys):
    line, _ = files
    write_png(tmp_path / "second.png", line_art())
    write_png(tmp_path / "second.hints.png", hint_layer())
    out_dir = tmp_path / "results"
    (out_dir / "page.png").mkdir(parents=True)  # the first result's path is taken by a folder
    code = main(["batch", str(line), str(tmp_path / "second.png"), "-o", str(out_dir), "--model",
                 str(model_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"skipped {line}: {out_dir / 'page.png'}: cannot write: Is a directory" in captured.err
    assert read_image(out_dir / "second.png").shape == (96, 128, 4)
    assert "coloured 1 of 2" in captured.out
    assert not list(out_dir.glob(".*.part"))


# ---- ICC profiles: PNGs exported from wide-gamut or linear documents (Krita embeds the profile)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_profile(path, name: bytes, profile: bytes) -> bytes:
    """Embed an iCCP chunk into the PNG at ``path`` right after its header; returns the chunk."""
    chunk = png_chunk(b"iCCP", name + b"\0\0" + zlib.compress(profile))
    data = path.read_bytes()
    path.write_bytes(data[:33] + chunk + data[33:])
    return chunk


def test_the_hints_icc_profile_is_kept_in_the_result(files, model_path, tmp_path):
    line, hints = files
    line_profile = with_profile(line, b"line profile", b"not used: the hints' profile wins")
    hint_profile = with_profile(hints, b"Rec2020-elle-V4-g10", b"stands for a real linear wide-gamut profile")
    out = tmp_path / "out.png"
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path)
    assert code == 0, stderr
    assert read_icc_chunk(out) == hint_profile and read_icc_chunk(line) == line_profile
    assert tuple(read_image(out)[30, 30]) == (0, 200, 0, 255), "the hint's numbers, as painted in its space"
    out.unlink()
    raw = ["--finishing", "raw"]  # (flats need hints)
    assert main(["colorize", str(line), "-o", str(out), "--model", str(model_path), *raw]) == 0
    assert read_icc_chunk(out) == line_profile, "without hints the line art's profile"


def test_files_without_a_profile_give_results_without_one(files, model_path, tmp_path):
    line, hints = files
    out = tmp_path / "out.png"
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path)
    assert code == 0, stderr
    assert read_icc_chunk(out) is None and read_icc_chunk(line) is None


# ---- flatting options: --split, --clear, --close-gaps, --palette


def test_split_writes_one_full_size_png_per_colour_named_after_it(files, model_path, tmp_path):
    line, _ = files
    hints = tmp_path / "two.hints.png"
    two = hint_layer(color=(0, 200, 0))
    two[30:50, 80:100] = (200, 0, 0, 255)  # the right half of the divided box
    write_png(hints, two)
    palette = tmp_path / "comic.gpl"
    palette.write_text("GIMP Palette\nName: comic\n#\n200 0 0 Brick Red\n0 180 0 Leaf\n0 0 255 Blue\n")
    split = tmp_path / "flats"
    code, stdout, stderr = run_cli("colorize", line, "--hints", hints, "--split", split, "--palette", palette,
                                   "--model", model_path)
    assert code == 0, stderr
    assert str(split) in stdout and "gaps closed up to" in stdout and "(auto;" in stdout
    assert sorted(path.name for path in split.iterdir()) == ["01-brick-red.png", "02-leaf.png"]
    red = read_image(split / "01-brick-red.png")
    assert red.shape == (96, 128, 4) and tuple(red[40, 90]) == (200, 0, 0, 255)
    assert red[30, 30, 3] == 0  # only its own colour
    assert not list(tmp_path.glob(".*.part"))

    # a second run replaces the earlier split files and leaves other files alone
    (split / "notes.txt").write_text("mine")
    write_png(hints, hint_layer(color=(0, 0, 250)))
    assert main(["colorize", str(line), "--hints", str(hints), "--split", str(split),
                 "--model", str(model_path), "--palette", str(palette)]) == 0
    # the unhinted right box keeps the network's near-white guess: far from every entry
    assert sorted(path.name for path in split.iterdir()) == ["01-blue.png", "02-f8f8f8.png", "notes.txt"]


def test_split_needs_flat_colours_and_a_usable_folder(files, model_path, tmp_path):
    line, hints = files
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "--split", tmp_path / "s", "--model",
                              model_path, "--shading", "0.5")
    assert_one_line_error(code, stderr, "--split needs flat colours")
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "--split", line, "--model", model_path)
    assert_one_line_error(code, stderr, "would overwrite an input")
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "--model", model_path)
    assert_one_line_error(code, stderr, "-o OUT.png, or --split DIR")
    assert not (tmp_path / "s").exists()


def test_keep_clear_strokes_leave_their_region_transparent(files, model_path, tmp_path):
    line, hints = files
    clear = tmp_path / "page.clear.png"
    strokes = np.zeros((96, 128, 4), np.uint8)
    strokes[30:60, 80:110] = (255, 0, 255, 255)  # any colour: the right half of the box
    write_png(clear, strokes)
    out = tmp_path / "single" / "out.png"
    assert main(["colorize", str(line), "--hints", str(hints), "--clear", str(clear), "-o", str(out),
                 "--model", str(model_path)]) == 0
    result = read_image(out)
    assert tuple(result[30, 30]) == (0, 200, 0, 255) and result[45, 95, 3] == 0
    # batch finds NAME.clear.png beside NAME.png and never colours it as line art
    out_dir = tmp_path / "results"
    assert main(["batch", str(tmp_path), "-o", str(out_dir), "--model", str(model_path)]) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["page.png"]
    assert read_image(out_dir / "page.png")[45, 95, 3] == 0


def test_close_gaps_takes_auto_or_pixels_and_says_what_was_closed(files, model_path, tmp_path):
    line, hints = files
    out = tmp_path / "out.png"
    code, stdout, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path,
                                   "--close-gaps", "12")
    assert code == 0, stderr
    assert "gaps closed up to 12 px" in stdout and "(auto" not in stdout
    code, stdout, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path,
                                   "--close-gaps", "25")
    assert code == 0 and "gaps closed up to 25 px" in stdout, stderr  # the size asked, not 26
    code, stdout, stderr = run_cli("colorize", line, "--hints", hints, "-o", out, "--model", model_path,
                                   "--close-gaps", "0")
    assert code == 0 and stdout.rstrip().endswith(", no gaps closed"), stderr
    for bad in ("-1", "wide", "999"):
        code, _, stderr = run_cli("colorize", line, "-o", out, "--model", model_path, "--close-gaps", bad)
        assert code == 2 and "--close-gaps" in stderr


def test_batch_split_writes_a_folder_per_picture(files, model_path, tmp_path):
    line, _ = files
    out_dir, split = tmp_path / "results", tmp_path / "flats"
    assert main(["batch", str(line), "-o", str(out_dir), "--split", str(split),
                 "--model", str(model_path)]) == 0
    assert [path.name for path in split.iterdir()] == ["page"]
    assert any(path.name.endswith("-00c800.png") for path in (split / "page").iterdir())


def test_a_broken_model_is_named_with_its_defect(files, model_path, tmp_path):
    """By its name next to a good model, or as the only user model: never 'unknown model'."""
    from tests import contract_models

    line, hints = files
    folder = tmp_path / "models"
    folder.mkdir()
    contract_models.build(folder / "wrong-inputs.onnx", input_names=("lines", "hint"))
    code, _, stderr = run_cli("colorize", line, "--hints", hints, "-o", tmp_path / "out.png", "--models-dir",
                              folder, "--models-dir", model_path.parent, "--model", "wrong-inputs")
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "model 'wrong-inputs' cannot be used" in stderr and "wrong-inputs.onnx" in stderr
    assert "inputs are" in stderr and "unknown model" not in stderr


@pytest.mark.parametrize("command", ["colorize", "batch"])
def test_ctrl_c_during_the_network_cancels_it_and_writes_nothing(files, model_path, tmp_path, monkeypatch,
                                                                 capsys, command):
    """Ctrl-C reaches the command line while the network runs (not after it): the run is
    cancelled through its token, the exit code is 130 and no result is written."""
    import signal
    import threading

    from krita_deepcolor.engine.runtime import Model

    line, hints = files
    running, real_run, ended_by_cancel = threading.Event(), Model.run, []

    def run_until_cancelled(self, line_in, hint_in, cancel=None):
        # Like onnxruntime's C call, the pass holds Ctrl-C back from the thread it runs in; it
        # lasts until it is cancelled (or 10 s: then it ends as a finished run would).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            running.set()
            # blocked in C, as onnxruntime is: no Python runs in this thread meanwhile
            ended_by_cancel.append(cancel._event.wait(10))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        cancel.check()
        return real_run(self, line_in, hint_in)

    monkeypatch.setattr(Model, "run", run_until_cancelled)
    # as in a terminal: a shell starts background jobs with Ctrl-C ignored, and Python then never
    # turns it into KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=lambda: running.wait(60) and os.kill(os.getpid(), signal.SIGINT))
    interrupter.start()
    out = tmp_path / ("out.png" if command == "colorize" else "results")
    args = [command, str(line), "-o", str(out), "--model", str(model_path)]
    if command == "colorize":
        args += ["--hints", str(hints)]
    try:
        code = main(args)
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupter.join()
    assert running.is_set() and code == 130
    assert ended_by_cancel == [True]  # the pass was cancelled while it ran, not interrupted after it
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert not list(tmp_path.rglob("*.part"))


def test_hint_strokes_too_faint_to_count_are_reported(files, model_path, tmp_path):
    line, _ = files
    hints = hint_layer(color=(0, 200, 0))
    hints[70:80, 90:100] = (200, 0, 0, 10)  # an eraser leftover: alpha 10 of 255
    faint = tmp_path / "faint.hints.png"
    write_png(faint, hints)
    out = tmp_path / "out.png"
    code, _, stderr = run_cli("colorize", line, "--hints", faint, "-o", out, "--model", model_path)
    assert code == 0, stderr
    assert "note: 1 hint stroke was too faint to count (under 16 of 255 opacity)" in stderr, stderr
    code, _, stderr = run_cli("colorize", line, "--hints", files[1], "-o", out, "--model", model_path)
    assert code == 0 and "too faint" not in stderr

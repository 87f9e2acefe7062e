"""The data pipeline on real files from a fetched Debian package: fetch, restyle and render,
line extraction, hint simulation, dataset build (packages and folders) and PairDataset."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from export.data import build, fetch, hints, images, lines, svg
from export.data.dataset import DatasetError, PairDataset
from export.data.sources import SOURCES, THEME_OBJECTS, Source, unpacked_root
from krita_deepcolor.engine import imageio, imaging, plan

from .conftest import TEST_PACKAGE

REPO = Path(__file__).resolve().parents[2]
# real clip art whose outlines are dark strokes (checked to give exact pairs)
STROKED = ["people/smilies/smiley100.svg", "people/people_juliane_krug_04c.svg",
           "signs_and_symbols/chain_nicu_buculei_01.svg"]

needs_renderer = pytest.mark.skipif(
    shutil.which("rsvg-convert") is None and not os.environ.get("CI"),
    reason="rsvg-convert missing: apt-get install librsvg2-bin")


def clipart(cache: Path, relative: str) -> Path:
    return unpacked_root(cache, TEST_PACKAGE) / "usr/share/openclipart/svg" / relative


def synthetic_svg(body: str, size: int = 100) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}">{body}</svg>').encode()


# ---------------------------------------------------------------- fetch

def test_fetch_is_verified_and_resumes(package_cache, tmp_path):
    info = fetch.package_info(TEST_PACKAGE)
    assert fetch.is_unpacked(package_cache, info)
    assert fetch.read_marker(package_cache, TEST_PACKAGE)["sha256"] == info.sha256
    svgs = list((unpacked_root(package_cache, TEST_PACKAGE) / "usr/share/openclipart/svg").rglob("*.svg"))
    assert len(svgs) > 5000
    said = []
    fetch.fetch([TEST_PACKAGE], package_cache, log=said.append)
    assert said == [f"{info.label}: already fetched and unpacked"]
    deb = next(package_cache.glob(f"{TEST_PACKAGE}_*.deb"))
    assert fetch.sha256_of(deb) == info.sha256
    cut = tmp_path / deb.name
    cut.write_bytes(deb.read_bytes()[: info.size // 2])
    assert not fetch._verified(cut, info)


def test_fetch_refuses_unknown_package(tmp_path):
    with pytest.raises(fetch.FetchError, match="unknown package"):
        fetch.fetch(["no-such-package"], tmp_path)


# ---------------------------------------------------------------- SVG restyling

@needs_renderer
def test_restyle_separates_dark_strokes_from_colour():
    # on white paper: a black square, partly hidden under a red disc with a thick black outline,
    # and a faint blue glaze; the paper fills the page, so the render is not cropped
    drawing = synthetic_svg('<rect width="100" height="100" fill="#ffffff"/>'
                            '<rect x="20" y="20" width="30" height="30" fill="#000"/>'
                            '<circle cx="55" cy="55" r="30" fill="#ff0000" stroke="#000" stroke-width="8"/>'
                            '<rect x="70" y="5" width="20" height="10" fill="#0000ff" opacity="0.3"/>')
    prepared = svg.prepare(drawing)
    assert prepared.counts == {"shapes": 4, "text": 0, "ink_strokes": 1, "ink_fills": 1}
    versions = svg.render_versions(prepared, 100, ("line", "colour"))
    line, colour = imaging.line_from_rgba(versions["line"]), versions["colour"][:, :, :3].astype(int)
    assert line.shape == (100, 100)
    red, white, black = (255, 0, 0), (255, 255, 255), (0, 0, 0)

    def near(pixel, expected):
        return np.abs(pixel - np.array(expected)).max() < 40

    # inner half of the outline: ink over the red fill; outer half: ink over the paper
    assert line[27, 55] < 0.2 and near(colour[27, 55], red)
    assert line[22, 55] < 0.2 and near(colour[22, 55], white)
    assert line[55, 55] > 0.9 and near(colour[55, 55], red)  # inside the disc: paper, red
    assert line[25, 25] < 0.2 and near(colour[25, 25], black)  # the visible part of the square
    assert line[47, 47] > 0.9 and near(colour[47, 47], red)  # the part the disc hides
    assert line[10, 80] > 0.9  # a glaze is not ink
    assert line[5, 5] > 0.9 and near(colour[5, 5], white)


@needs_renderer
def test_real_clipart_gives_exact_pairs(package_cache):
    for relative in STROKED:
        item = build.Item(TEST_PACKAGE, relative, "svg", path=str(clipart(package_cache, relative)))
        line, colour, method = build.make_pair(item, 256)
        assert method == "svg-strokes", relative
        assert line.shape == colour.shape[:2] and max(line.shape) == 256
        ink = line < 0.5
        assert 0.004 < ink.mean() < 0.35
        # ink lies where the original drawing is dark: where its strokes were
        original = svg.render_versions(svg.prepare(item.read()), 256, ("original",))["original"]
        assert np.mean(imaging.line_from_rgba(original)[ink] < 0.5) > 0.85
        # and the colour version has lost most of that darkness
        assert np.mean(imaging.line_from_rgba(colour)[ink] < 0.5) < 0.5


# A deck of pictures in one SVG, as card decks and KTuberling themes ship them: each element with
# an id is a picture of its own. "square" clones a pip defined without paint (black by default)
# and paints the clone blue; "tall" lies beside the page, as a deck's cards do, and paints a
# clone of a symbol magenta; "tall-mirrored" is a mirrored clone of "tall"; "caption" is text.
DECK = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="100" viewBox="0 0 200 100">
  <defs><path id="pip" d="M0,0 H16 V16 H0 Z"/>
    <symbol id="dot" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></symbol></defs>
  <g id="square">
    <rect x="10" y="10" width="60" height="60" fill="#ff0000" stroke="#000000" stroke-width="3"/>
    <circle cx="40" cy="40" r="12" fill="#ffff00" stroke="#000000" stroke-width="3"/>
    <use xlink:href="#pip" x="16" y="48" fill="#0000ff"/>
  </g>
  <g id="tall" transform="translate(300,0)">
    <rect x="10" y="10" width="40" height="80" fill="#00a000" stroke="#000000" stroke-width="3"/>
    <rect x="20" y="20" width="20" height="20" fill="#ffffff" stroke="#000000" stroke-width="3"/>
    <circle cx="30" cy="68" r="8" fill="#ff8000" stroke="#000000" stroke-width="3"/>
    <use xlink:href="#dot" x="22" y="44" width="16" height="16" fill="#ff00ff"/>
  </g>
  <use id="tall-mirrored" xlink:href="#tall" transform="translate(560,0) scale(-1,1)"/>
  <text id="caption" x="10" y="95" font-size="8">a caption</text>
</svg>"""


def deck_pair(element: str, side: int = 160):
    return build.make_pair(build.Item("deck", f"deck.svg#{element}", "svg", data=DECK, element=element), side)


def near(colour: np.ndarray, rgb) -> np.ndarray:
    return np.abs(colour[:, :, :3].astype(int) - np.array(rgb)).max(axis=2) < 40


def inside(mask: np.ndarray, margin: int = 5) -> np.ndarray:
    return cv2.erode(mask.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0


@needs_renderer
def test_each_element_of_a_multi_picture_svg_is_a_pair():
    line, colour, method = deck_pair("square")
    assert method == "svg-strokes"
    assert max(line.shape) == 160 and abs(line.shape[0] - line.shape[1]) <= 4  # the square alone
    assert near(colour, (255, 0, 0)).mean() > 0.3 and near(colour, (255, 255, 0)).mean() > 0.05
    # inside the outlines (the colour runs on under them): paper
    red = inside(near(colour, (255, 0, 0)))
    assert np.mean(line[red] > 0.9) > 0.98
    # the clone is painted blue where it is drawn: colour in the colour version, no ink in the line
    blue = inside(near(colour, (0, 0, 255)))
    assert blue.mean() > 0.02 and np.mean(line[blue] > 0.9) > 0.98
    assert 0.02 < (line < 0.5).mean() < 0.3

    line, colour, method = deck_pair("tall")  # drawn beside the page: found all the same
    assert method == "svg-strokes"
    assert line.shape[0] == 160 and 70 < line.shape[1] < 95
    assert near(colour, (0, 160, 0)).mean() > 0.3 and near(colour, (255, 128, 0)).mean() > 0.02
    assert not near(colour, (255, 0, 0)).any(), "nothing of the other pictures"
    magenta = inside(near(colour, (255, 0, 255)), 3)
    assert magenta.mean() > 0.01 and np.mean(line[magenta] > 0.9) > 0.98
    mirrored, _, _ = deck_pair("tall-mirrored")
    assert mirrored.shape == line.shape and np.abs(mirrored - line[:, ::-1]).mean() < 0.02

    with pytest.raises(build.Skip, match="text only"):
        deck_pair("caption")
    with pytest.raises(build.Skip, match="definition"):
        deck_pair("pip")


def test_ktuberling_theme_lists_the_pieces_of_its_svg(tmp_path):
    (tmp_path / "board.theme").write_text(
        '  <playground gameboard="board.svg" desktop="board.desktop" bgcolor="#fff">\n'
        '    <object name="square" sound="eye" />\n    <object name="tall" scale="2" />\n</playground>\n')
    (tmp_path / "broken.theme").write_text("<playground")
    assert build.theme_objects(tmp_path) == {"board.svg": ["square", "tall"]}


def test_broken_svg_is_reported():
    with pytest.raises(svg.SvgError):
        svg.restyle(b"<svg><g></svg>")
    with pytest.raises(svg.SvgError):
        svg.restyle(b"<html/>")


# ---------------------------------------------------------------- line extraction

def flat_art() -> np.ndarray:
    """White paper, a blue square with a 3 px black outline, a yellow disc without outline."""
    image = np.full((128, 128, 4), 255, np.uint8)
    cv2.rectangle(image, (20, 20), (70, 70), (40, 80, 220, 255), -1)
    cv2.rectangle(image, (20, 20), (70, 70), (0, 0, 0, 255), 3)
    cv2.circle(image, (100, 100), 18, (250, 210, 30, 255), -1)
    return image


def test_extractors_find_outlines_and_keep_flat_areas_paper():
    art = flat_art()
    threshold = lines.adaptive_threshold(art)
    assert set(np.unique(threshold)) <= {0.0, 1.0}
    xdog = lines.xdog(art)
    assert xdog.dtype == np.float32 and 0.0 <= xdog.min() and xdog.max() <= 1.0
    for extracted in (threshold, xdog):
        assert extracted[20, 45] < 0.5 and extracted[45, 20] < 0.5  # the black outline
        assert extracted[45, 45] > 0.5  # inside the square
        assert extracted[5, 5] > 0.5 and extracted[110, 40] > 0.5  # paper
    line, method = lines.extract_lines(art)
    assert method in ("adaptive-threshold", "xdog")
    assert lines.failure_share(line) < 0.5


def test_extractor_choice_avoids_blobs():
    # a large solid dark area: XDoG fills it, the threshold only outlines it
    art = np.full((128, 128, 4), 255, np.uint8)
    cv2.rectangle(art, (16, 16), (112, 112), (30, 30, 60, 255), -1)
    assert lines.failure_share(lines.xdog(art)) > lines.failure_share(lines.adaptive_threshold(art))
    assert lines.extract_lines(art)[1] == "adaptive-threshold"


# ---------------------------------------------------------------- hints

def truth(size=128):
    art = flat_art()
    colour = images.over_white(cv2.resize(art, (size, size), interpolation=cv2.INTER_NEAREST))
    mask = np.zeros((size, size), np.float32)
    mask[20:71, 20:71] = 1.0
    return colour, mask


def test_stroke_hints_take_truth_colours_and_sometimes_none():
    colour, mask = truth()
    rng = np.random.default_rng(3)
    empty = 0
    for _ in range(300):
        hint = hints.stroke_hints(colour, mask, rng)
        assert hint.shape == (128, 128, 4) and hint.dtype == np.float32
        assert set(np.unique(hint[:, :, 3])) <= {0.0, 1.0}
        painted = hint[:, :, 3] > 0
        if not painted.any():
            empty += 1
            continue
        assert (hint[~painted] == 0).all()
        assert np.abs(hint[painted, :3] - colour[painted]).max() <= hints.SAME_COLOUR + 1e-6
        assert painted.mean() < 0.25  # a few short strokes, not a fill
    assert 0.08 < empty / 300 < 0.23  # NO_HINT_SHARE is 0.15


def test_deepcolor_hints_white_out_and_blur():
    colour = np.zeros((128, 128, 3), np.float32)
    rng = np.random.default_rng(0)
    unblurred = hints.deepcolor_hints(colour, rng, blur=1)
    assert (unblurred[:, :, 3] == 1).all()
    whited = (unblurred[:, :, :3] == 1).all(axis=2)
    assert 100 <= whited.sum() <= 30 * 100  # 30 patches of 10x10, some overlapping
    blurred = hints.deepcolor_hints(colour, np.random.default_rng(0))
    assert blurred.shape == (128, 128, 4) and blurred.dtype == np.float32
    assert np.isclose(blurred[:, :, :3].mean(), whited.mean(), atol=0.02)  # a box blur keeps the mean
    assert blurred[:, :, :3].max() < 0.5  # no patch survives the 100 px blur


def four_regions():
    """Line art of four regions (two left, middle, right), red left and green in the middle;
    (line, colour, all-figure mask)."""
    line = np.ones((96, 96), np.float32)
    line[:, 30] = line[:, 60] = 0.0
    line[40, :30] = 0.0
    colour = np.ones((96, 96, 3), np.float32)
    colour[:, :30] = (1.0, 0.0, 0.0)
    colour[:, 31:60] = (0.0, 1.0, 0.0)
    return line, colour, np.ones((96, 96), np.float32)


def test_region_hints_dense_and_sparse():
    line, colour, mask = four_regions()
    labels, regions = hints.label_regions(line)
    assert len(regions) == 4
    dense = hints.region_hints(colour, line, mask, np.random.default_rng(1), regions="all")
    for label in regions:
        assert dense[labels == label, 3].any(), "every region gets a stroke"
    assert (dense[line < 0.5, 3] == 0).all(), "strokes stay off the lines"
    painted = dense[:, :, 3] > 0
    assert np.allclose(dense[painted, :3], colour[painted])
    sparse = hints.region_hints(colour, line, mask, np.random.default_rng(1), regions=2)
    hinted = [label for label in regions if sparse[labels == label, 3].any()]
    assert hinted == regions[:2]


def test_region_hints_colour_the_figure_part_of_an_open_region():
    # a figure (alpha) with no outline of its own: the lines enclose only a small box elsewhere,
    # so the figure lies in the one big region that is mostly background
    line = np.ones((96, 96), np.float32)
    line[10:30, 60] = line[10:30, 80] = line[10, 60:81] = line[30, 60:81] = 0.0
    mask = np.zeros((96, 96), np.float32)
    mask[40:80, 10:40] = 1.0
    mask[11:30, 61:80] = 1.0
    colour = np.ones((96, 96, 3), np.float32)
    colour[40:80, 10:40] = (0.0, 0.0, 1.0)
    colour[11:30, 61:80] = (1.0, 0.0, 0.0)
    dense = hints.region_hints(colour, line, mask, np.random.default_rng(3), regions="all",
                               include_outside=False)
    painted = dense[:, :, 3] > 0
    assert painted[40:80, 10:40].any(), "the figure part of the open region gets a stroke"
    assert painted[11:30, 61:80].any(), "the enclosed box gets its stroke"
    assert not (painted & (mask < 0.5)).any(), "the background stays unhinted"
    assert np.allclose(dense[painted, :3], colour[painted])


def test_user_region_hints_stroke_the_largest_regions_and_sometimes_none():
    line, colour, mask = four_regions()
    mask[:, 61:] = 0.0  # the right region is background
    labels, regions = hints.label_regions(line)
    counts, empty = [], 0
    for seed in range(60):
        hint = hints.user_region_hints(colour, line, mask, np.random.default_rng(seed))
        painted = hint[:, :, 3] > 0
        assert not (painted & (mask < 0.5)).any(), "the background stays unhinted"
        assert np.allclose(hint[painted, :3], colour[painted])
        stroked = [label for label in regions if painted[labels == label].any()]
        # largest first: a stroked region is never smaller than an unstroked figure region
        figure = [label for label in regions if mask[labels == label].mean() >= 0.5]
        assert stroked == figure[:len(stroked)]
        counts.append(len(stroked))
        empty += not painted.any()
    assert 3 <= empty <= 18  # about NO_HINT_SHARE of 60
    assert {1, 2, 3} <= set(counts)


# ---------------------------------------------------------------- build

def check_manifest(root: Path) -> dict:
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["version"] == 1 and manifest["created"]
    for sample in manifest["samples"]:
        assert set(sample) == {"id", "split", "source", "license", "origin", "lines", "size", "line_width"}
        color = imageio.read_image(root / sample["split"] / f"{sample['id']}.color.png")
        line = imageio.read_image(root / sample["split"] / f"{sample['id']}.line.png")
        assert color.dtype == np.uint8 and color.shape[2] == 4
        assert line.dtype == np.uint8 and line.ndim == 2
        assert list(line.shape) == sample["size"] == list(color.shape[:2])
        width = plan.estimate_line_width(imaging.line_from_rgba(line))
        assert sample["line_width"] == pytest.approx(width, abs=1e-3)
    widths = [s["line_width"] for s in manifest["samples"] if s["split"] == "train"]
    assert manifest["stats"]["line_width_median"] == pytest.approx(float(np.median(widths)), abs=1e-3)
    return manifest


@needs_renderer
def test_build_from_package(small_dataset, package_cache):
    manifest = check_manifest(small_dataset)
    source = manifest["sources"][TEST_PACKAGE]
    assert source["package"] == f"{TEST_PACKAGE} {fetch.package_info(TEST_PACKAGE).version}"
    assert "public domain" in source["license"]
    assert source["files_seen"] == 40
    assert source["samples"] + source["skipped"] == 40
    assert source["samples"] == len(manifest["samples"]) >= 8
    assert sum(source["skip_reasons"].values()) == source["skipped"]
    assert {s["split"] for s in manifest["samples"]} == {"train", "val"}
    assert not (small_dataset.parent / "dataset.partial").exists()
    # the split is a fixed function of source and origin
    for sample in manifest["samples"]:
        item = build.Item(sample["source"], sample["origin"], "svg")
        assert item.split(333) == sample["split"]


@needs_renderer
def test_build_from_folder_resumes_and_counts_broken_files(package_cache, tmp_path):
    folder = tmp_path / "art"
    folder.mkdir()
    for index, relative in enumerate(STROKED):
        shutil.copy(clipart(package_cache, relative), folder / f"stroked{index}.svg")
        original = svg.render_versions(svg.prepare(clipart(package_cache, relative).read_bytes()), 200,
                                       ("original",))["original"]
        imageio.write_png(folder / f"rendered{index}.png", original)  # a PNG: lines get extracted
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    (folder / "broken.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'><g></svg>")
    (folder / "notes.txt").write_text("not art")
    out = tmp_path / "dataset"
    command = [sys.executable, "-m", "export.data", "build", "--from-folder", str(folder), "--out", str(out),
               "--sizes", "160", "--jobs", "1"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # kill the first build part-way, then run it again: it resumes from the log
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    progress = out.with_name("dataset.partial") / "progress.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        if progress.exists() and len(progress.read_text().splitlines()) >= 2:
            first.kill()
            break
        time.sleep(0.05)
    first.wait()
    resumed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    if first.returncode != 0:  # killed in time (a very fast machine may finish first)
        assert "already done" in resumed.stdout and "0 of 8 renders" not in resumed.stdout
    manifest = check_manifest(out)
    source = manifest["sources"]["folder"]
    assert source["files_seen"] == 8
    assert source["skip_reasons"].get("broken: unreadable image") == 1
    assert any(reason.startswith("broken") and reason != "broken: unreadable image"
               for reason in source["skip_reasons"])
    methods = {s["origin"]: s["lines"] for s in manifest["samples"]}
    assert all(methods.get(f"stroked{i}.svg") == "svg-strokes" for i in range(len(STROKED)))
    assert {methods[f"rendered{i}.png"] for i in range(len(STROKED)) if f"rendered{i}.png" in methods} <= {
        "adaptive-threshold", "xdog"}
    assert sum(name.startswith("rendered") for name in methods) >= 2
    assert "broken" in resumed.stdout


def fake_package(cache: Path, name: str, files: dict[str, bytes]) -> None:
    root = unpacked_root(cache, name)
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / fetch.MARKER).write_text(json.dumps({"package": name, "version": "1", "sha256": "0" * 64}))


@needs_renderer
def test_build_splits_multi_picture_svgs_and_adds_packages_to_a_finished_dataset(tmp_path, monkeypatch):
    cache, out = tmp_path / "debs", tmp_path / "dataset"
    fake_package(cache, "test-deck", {"usr/share/deck/deck.svgz": gzip.compress(DECK)})
    monkeypatch.setitem(SOURCES, "test-deck", Source(
        "test-deck", "CC0-1.0", include=("usr/share/deck/*.svgz",), elements=r"square|tall.*|caption"))
    build.build(out, cache=cache, packages=["test-deck"], sizes=[128], jobs=1, log=lambda _: None,
                val_per_mille=0)
    first = check_manifest(out)
    deck = first["sources"]["test-deck"]
    assert deck["files_seen"] == 4 and deck["element_files"] == 1
    assert deck["skip_reasons"] == {"text only": 1, "duplicate drawing": 1}  # the mirrored clone
    assert {s["origin"]: s["lines"] for s in first["samples"]} == {
        "usr/share/deck/deck.svgz#square": "svg-strokes", "usr/share/deck/deck.svgz#tall": "svg-strokes"}
    item = build.Item("test-deck", "usr/share/deck/deck.svgz#square", "svg", element="square")
    assert build.sample_id(item, 128) in {s["id"] for s in first["samples"]}

    # a second package joins: the finished pairs stay the same files, and only it is rendered
    speck = b'<g id="speck"><rect x="150" y="50" width="1" height="1" fill="#8af" stroke="#000"/></g>'
    board = DECK.replace(b'<g id="square">', speck + b'<g id="square">')
    theme = (b'<playground gameboard="board.svg"><object name="square"/><object name="caption"/>'
             b'<object name="speck"/></playground>')
    fake_package(cache, "test-pieces", {"pics/board.svg": board, "pics/board.theme": theme})
    monkeypatch.setitem(SOURCES, "test-pieces", Source(
        "test-pieces", "GPL-2+", include=("pics/*.svg",), elements=THEME_OBJECTS))
    inodes = {s["id"]: (out / "train" / f"{s['id']}.line.png").stat().st_ino for s in first["samples"]}
    said = []
    build.build(out, cache=cache, packages=["test-deck", "test-pieces"], sizes=[128], jobs=1, log=said.append,
                val_per_mille=0)
    second = check_manifest(out)
    assert "4 of 7 renders already done" in said[0]
    assert [s for s in second["samples"] if s["source"] == "test-deck"] == first["samples"]
    assert {s["id"]: (out / "train" / f"{s['id']}.line.png").stat().st_ino
            for s in first["samples"]} == inodes
    pieces = second["sources"]["test-pieces"]
    assert pieces["samples"] == 1
    assert pieces["skip_reasons"] == {"text only": 1, "tiny (a speck on its page)": 1}

    # a dataset built before finished datasets kept their log: its samples are kept all the same
    (out / build.LOG_NAME).unlink()
    said.clear()
    build.build(out, cache=cache, packages=["test-deck", "test-pieces"], sizes=[128], jobs=1, log=said.append,
                val_per_mille=0)
    assert "3 of 7 renders already done" in said[0]
    assert check_manifest(out)["samples"] == second["samples"]
    assert not out.with_name("dataset.partial").exists()


def test_build_without_fetched_packages_says_what_to_do(tmp_path):
    result = subprocess.run([sys.executable, "-m", "export.data", "build", "--cache", str(tmp_path / "empty"),
                             "--out", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=60)
    assert result.returncode == 2
    assert "python -m export.data fetch" in result.stderr


# ---------------------------------------------------------------- PairDataset

@needs_renderer
@pytest.mark.parametrize("kind", ["strokes", "regions", "deepcolor", "none"])
def test_pair_dataset_items(small_dataset, kind):
    for split in ("train", "val"):
        data = PairDataset(small_dataset, split, crop=128, hints=kind)
        assert len(data) > 0
        item = data[0]
        shapes = {"line": (1, 128, 128), "color": (3, 128, 128), "mask": (1, 128, 128), "hint": (4, 128, 128)}
        for name, shape in shapes.items():
            assert item[name].shape == shape and item[name].dtype == torch.float32, name
            assert 0.0 <= float(item[name].min()) and float(item[name].max()) <= 1.0, name
        assert float(item["line"].min()) < 0.5 < float(item["line"].max())  # ink and paper
        outside = item["mask"][0] < 1e-3
        assert torch.allclose(item["color"][:, outside], torch.ones(1), atol=2e-3)  # over white
        if kind == "none":
            assert not item["hint"].any()
        if kind == "deepcolor":
            assert bool((item["hint"][3] == 1).all())
        if kind == "regions":  # a user's strokes: never on the background
            assert not (item["hint"][3][outside] > 0).any()


@needs_renderer
def test_pair_dataset_val_is_deterministic_and_train_varies(small_dataset):
    val = PairDataset(small_dataset, "val", crop=96)
    for index in range(len(val)):
        first, again = val[index], val[index]
        assert all(torch.equal(first[k], again[k]) for k in first)
    assert all(torch.equal(val[0][k], PairDataset(small_dataset, "val", crop=96)[0][k]) for k in val[0])
    train = PairDataset(small_dataset, "train", crop=96)
    draws = [train[0, position] for position in range(4)]  # as the trainer's sampler asks
    assert any(not torch.equal(draws[0]["color"], other["color"]) or
               not torch.equal(draws[0]["hint"], other["hint"]) for other in draws[1:])


def test_augmented_items_are_a_pure_function_of_seed_index_and_position(tiny_dataset):
    """What lets a resumed run draw the crops and hints of an uninterrupted one: no state in the
    dataset, the process or the DataLoader worker takes part."""
    def same(a, b):
        return all(torch.equal(a[k], b[k]) for k in a)

    data = PairDataset(tiny_dataset, "train", crop=64, seed=3)
    assert data.augment
    first = data[1, 7]
    for _ in range(3):
        data[1, 8], data[0]  # draws read before do not matter
    assert same(first, data[1, 7]) and same(first, PairDataset(tiny_dataset, "train", crop=64, seed=3)[1, 7])
    draws = [data[1, position] for position in range(8)]
    assert any(not same(draws[0], other) for other in draws[1:])  # fresh crops each epoch
    assert not same(first, PairDataset(tiny_dataset, "train", crop=64, seed=4)[1, 7])
    assert same(data[2], data[2])  # a plain index: one fixed draw


def test_pair_dataset_explains_missing_dataset(tmp_path):
    with pytest.raises(DatasetError, match="python -m export.data build"):
        PairDataset(tmp_path)

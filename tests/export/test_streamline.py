"""Streamline Emojis as validation pairs: the split into lines and colour, rendered for real."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from benchmarks.quality import source_of
from export import departures
from export.data import streamline, svg
from export.data.halves import half_of
from krita_deepcolor.engine import imageio

# one icon drawn the Streamline way: ground shadow, a fill, its outline, a fill drawn later over
# part of that outline, a pupil filled in the outline colour
ICON = ('<path fill="#45413c" d="M4 44h40v2H4z" opacity=".15"/>'
        '<path fill="#ffe500" d="M8 8h24v24H8z"/>'
        '<path fill="none" stroke="#45413c" stroke-width="2" d="M8 8h24v24H8z"/>'
        '<path fill="#ff0000" stroke="#45413c" stroke-width="2" d="M24 24h16v16H24z"/>'
        '<path fill="#45413c" d="M12 12h4v4h-4z"/>')


def test_an_icon_splits_into_its_visible_outline_and_its_colours():
    line_svg, colour_svg = streamline.split_icon(ICON, 48, 48)
    line = svg.render(line_svg, 96, 96)
    colour = svg.render(colour_svg, 96, 96)
    gray = line[:, :, :3].mean(axis=2) * (line[:, :, 3] / 255) + 255 * (1 - line[:, :, 3] / 255)
    assert gray[16, 40] < 64  # the yellow square's top outline is ink
    assert gray[28, 28] < 64  # the pupil is ink
    assert gray[40, 40] > 200  # inside the yellow square: paper
    assert gray[56, 62] > 200  # the yellow outline under the red square is hidden, as in the icon
    assert gray[90, 40] > 200  # the ground shadow is no line
    assert colour[90, 40, 3] == 0  # and no colour
    assert (colour[40, 40, :3] == (255, 229, 0)).all() and (colour[64, 64, :3] == (255, 0, 0)).all()


def test_pairs_are_validation_in_both_halves_named_by_package():
    ids = [streamline.sample_id(f"icon-{n}") for n in range(40)]
    assert {source_of(i) for i in ids} == {"streamline-emojis"}
    assert {half_of(i) for i in ids} == {"tuning", "held-out"}


def test_the_decision_is_never_trained_on_streamline(tmp_path):
    folder = tmp_path / "streamline"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"sources": {"streamline-emojis": {}}, "samples": []}))
    with pytest.raises(ValueError, match="validation only"):
        departures.pairs_of([folder], "train", None)
    assert departures.pairs_of([folder], "val", None) == []


def test_a_real_build_of_the_package(tmp_path):
    """The npm tarball, verified against its pinned SHA-512, and a few icons rendered to pairs."""
    try:
        manifest = streamline.build(tmp_path / "streamline", cache=tmp_path / "download", limit=12,
                                    log=lambda _: None)
    except streamline.FetchError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to fetch the Streamline Emojis tarball: {error}")
        pytest.skip(f"no network: {error}")
    samples = manifest["samples"]
    assert samples and all(s["split"] == "val" and s["lines"] == "exact" for s in samples)
    assert manifest["sources"]["streamline-emojis"]["samples"] + manifest["sources"]["streamline-emojis"][
        "skipped"] == 12
    on_disk = json.loads((tmp_path / "streamline" / "manifest.json").read_text())
    assert on_disk["samples"] == samples
    folder = tmp_path / "streamline" / "val"
    line = imageio.read_image(folder / f"{samples[0]['id']}.line.png")
    assert line.ndim == 2 and line.dtype == np.uint8  # gray, 255 paper, as every dataset's lines
    assert (line < 64).mean() > 0.01 and (line > 200).mean() > 0.5
    colour = imageio.read_image(folder / f"{samples[0]['id']}.color.png")
    assert colour.shape == line.shape + (4,) and streamline.coloured_regions(line, colour) >= 3

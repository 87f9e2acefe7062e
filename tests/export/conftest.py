"""Data fixtures for the export/ tests: the datasets they read, in the layout
``python -m export.data build`` writes (``manifest.json`` and ``train/``, ``val/`` pairs).

- ``tiny_dataset``: synthetic flat-colour shapes with exact line layers, made in a moment without
  network; what the training, export and DDP tests learn from.
- ``small_dataset``: a real build of 40 files of a real Debian package fetched once; what the data
  pipeline tests check. The package cache is ``$KRITA_DEEPCOLOR_TEST_CACHE`` or the toolchain's
  default cache, so a developer who already ran ``python -m export.data fetch`` downloads nothing.
  Without apt or network the tests that need the package skip with the reason; with ``CI`` set
  they fail instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from export.data import build, fetch
from export.data.sources import DEFAULT_CACHE
from krita_deepcolor.engine import plan

TEST_PACKAGE = "openclipart-svg"  # the smallest of the sources: 25 MB


@pytest.fixture(scope="session")
def package_cache() -> Path:
    """A cache holding ``openclipart-svg`` fetched, verified and unpacked."""
    cache = Path(os.environ.get("KRITA_DEEPCOLOR_TEST_CACHE", DEFAULT_CACHE)).expanduser()
    try:
        fetch.fetch([TEST_PACKAGE], cache, log=lambda _: None)
    except fetch.FetchError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to fetch {TEST_PACKAGE}: {error}")
        pytest.skip(f"cannot fetch {TEST_PACKAGE} (needs apt and network): {error}")
    return cache


@pytest.fixture(scope="session")
def small_dataset(package_cache, tmp_path_factory) -> Path:
    """A dataset built from 40 real openclipart files at 192 px, with a val split of about a third."""
    out = tmp_path_factory.mktemp("data") / "dataset"
    build.build(out, cache=package_cache, packages=[TEST_PACKAGE], limit=40, sizes=[192], jobs=2,
                log=lambda _: None, val_per_mille=333)
    return out


def write_tiny_dataset(root: Path, size: int = 64, train_count: int = 4, val_count: int = 2,
                       seed: int = 0) -> Path:
    """Flat-colour shapes with black outlines: colour RGBA (alpha = figure) and the exact line layer."""
    rng = np.random.default_rng(seed)
    samples, widths = [], []
    for split, count in (("train", train_count), ("val", val_count)):
        (root / split).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            colour = np.zeros((size, size, 4), np.uint8)
            line = np.full((size, size), 255, np.uint8)
            for _ in range(3):
                centre = tuple(int(v) for v in rng.integers(size // 5, size - size // 5, 2))
                radius = int(rng.integers(size // 8, size // 3))
                fill = tuple(int(v) for v in rng.integers(0, 256, 3)) + (255,)
                if rng.random() < 0.5:
                    cv2.circle(colour, centre, radius, fill, -1)
                    cv2.circle(colour, centre, radius, (0, 0, 0, 255), 2)
                    cv2.circle(line, centre, radius, 0, 2)
                else:
                    corner = (centre[0] - radius, centre[1] - radius // 2)
                    far = (centre[0] + radius, centre[1] + radius // 2)
                    cv2.rectangle(colour, corner, far, fill, -1)
                    cv2.rectangle(colour, corner, far, (0, 0, 0, 255), 2)
                    cv2.rectangle(line, corner, far, 0, 2)
            sample_id = f"shapes_{split}_{k:02d}"
            cv2.imwrite(str(root / split / f"{sample_id}.color.png"),
                        cv2.cvtColor(colour, cv2.COLOR_RGBA2BGRA))
            cv2.imwrite(str(root / split / f"{sample_id}.line.png"), line)
            width = plan.estimate_line_width(line.astype(np.float32) / 255.0)
            widths.append(width)
            samples.append({"id": sample_id, "split": split, "source": "shapes", "lines": "exact",
                            "line_width": round(width, 3)})
    source = {"package": "none", "license": "CC0-1.0", "samples": len(samples)}
    manifest = {"version": 1, "sources": {"shapes": source}, "samples": samples,
                "stats": {"line_width_median": round(float(np.median(widths[:train_count])), 3),
                          "train": train_count, "val": val_count}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """4 train + 2 val synthetic 64 px pairs (read only: tests write their runs elsewhere)."""
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny") / "dataset")

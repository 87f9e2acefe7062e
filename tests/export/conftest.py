"""Data fixtures for the export/ tests: a real Debian package fetched once, a small real dataset.

The package cache is ``$KRITA_DEEPCOLOR_TEST_CACHE`` or the toolchain's default cache, so a developer
who already ran ``python -m export.data fetch`` downloads nothing. Without apt or network the tests
that need the package skip with the reason; with ``CI`` set they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from export.data import build, fetch
from export.data.sources import DEFAULT_CACHE

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

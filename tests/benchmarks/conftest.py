"""The benchmarks' tests read the datasets the toolchain's tests build (tests/export/conftest.py)."""

from tests.export.conftest import package_cache, small_dataset  # noqa: F401 - fixtures

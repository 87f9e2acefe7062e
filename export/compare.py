"""Moved: the variant comparison is ``python -m benchmarks.compare`` (benchmarks/compare.py).

This alias keeps ``python -m export.compare``, quoted in models/MODEL_CARD.md, working. It runs
the benchmark as a program: nothing in export/ imports the benchmarks.
"""

import runpy

if __name__ == "__main__":
    runpy.run_module("benchmarks.compare", run_name="__main__", alter_sys=True)

"""The two fixed halves of the validation split: choose rules, thresholds and checkpoints on the
*tuning* half, and let the *held-out* half decide. Both quality measures (benchmarks/quality.py
through the engine, export/quality.py on the raw output) split by this one rule."""

from __future__ import annotations

import hashlib

HALVES = ("tuning", "held-out")


def half_of(sample_id: str) -> str:
    """The fixed half a validation pair belongs to: a hash of its id, never its position."""
    return HALVES[hashlib.sha256(sample_id.encode()).digest()[0] % 2]


def source_of(sample_id: str) -> str:
    """The art package a sample came from (ids are PACKAGE-DIGEST-SIZE)."""
    return sample_id.rsplit("-", 2)[0]

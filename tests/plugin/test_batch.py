"""Colorize all, without Krita: the order, the counts shown while it runs, the summary."""

import pytest

from krita_deepcolor.batch import Batch


def test_documents_are_taken_in_order_and_the_progress_spans_the_batch():
    batch = Batch.of(["doc a", "doc b", "doc c", "doc d"])
    assert batch.take() == "doc a"
    assert batch.position() == "1/4"
    assert batch.overall(0.5) == pytest.approx(0.125)
    batch.finished("a", added=True, message="Added ...")
    assert batch.take() == "doc b"
    batch.skip("b", "has no line-art layer")  # refused before it started
    assert batch.take() == "doc c"
    assert batch.position() == "3/4"
    assert batch.overall(0.0) == pytest.approx(0.5)
    batch.finished("c", added=False, message="Cancelled: nothing was added.")
    assert batch.take() == "doc d"
    batch.finished("d", added=True, message="Added ...")
    assert batch.take() is None
    assert batch.summary().splitlines() == [
        "Coloured 2 of 4 open documents.",
        "Skipped 'b': has no line-art layer",
        "Skipped 'c': Cancelled: nothing was added.",
    ]


def test_cancel_lists_the_waiting_documents_and_starts_nothing_more():
    batch = Batch.of(["one", "two", "three"])
    batch.take()
    batch.cancel(["two", "three"])
    assert batch.take() is None
    batch.finished("one", added=False, message="Cancelled: nothing was added.")
    assert batch.summary().splitlines() == [
        "Coloured 0 of 3 open documents.",
        "Skipped 'two': cancelled",
        "Skipped 'three': cancelled",
        "Skipped 'one': Cancelled: nothing was added.",
    ]


def test_a_batch_of_one_says_so():
    batch = Batch.of(iter(["only"]))
    batch.take()
    batch.finished("only", added=True, message="")
    assert batch.summary() == "Coloured 1 of 1 open documents."

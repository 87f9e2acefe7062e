"""Work reused between runs on the same line art: recalled only for equal inputs, never changed,
bounded, and the colouring is the same as without it."""

import numpy as np
import pytest

from krita_deepcolor.engine import Options, colorize, load_model
from krita_deepcolor.engine.reuse import RECENT, Memo
from tests import contract_models

from .conftest import hint_layer, line_art


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(contract_models.build(tmp_path_factory.mktemp("m") / "p.onnx"), device="cpu")


def test_a_step_is_recalled_for_equal_inputs_and_done_again_for_a_changed_pixel():
    memo, calls = Memo(), []

    def step(image):
        calls.append(1)
        return image * 2

    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    first = memo.recall("double", (image,), (), lambda: step(image))
    again = memo.recall("double", (image.copy(),), (), lambda: step(image))  # equal, another array
    assert again is first and len(calls) == 1 and (memo.hits, memo.misses) == (1, 1)
    with pytest.raises(ValueError):
        first[0, 0] = 7  # kept results are shared: read-only
    changed = image.copy()
    changed[2, 3] = 0
    assert memo.recall("double", (changed,), (), lambda: step(changed))[2, 3] == 0 and len(calls) == 2
    image[0, 0] = 99  # the caller changing its array later does not fool the memo
    assert memo.recall("double", (image,), (), lambda: step(image))[0, 0] == 198 and len(calls) == 3
    memo.recall("double", (changed,), ("other params",), lambda: step(changed))
    assert len(calls) == 4


def test_the_memo_forgets_the_oldest_beyond_its_bounds():
    memo = Memo(max_entries=2, max_bytes=10_000)
    arrays = [np.full(100, n, np.uint8) for n in range(3)]
    for array in arrays:
        memo.recall("copy", (array,), (), array.copy)
    memo.recall("copy", (arrays[0],), (), arrays[0].copy)
    assert memo.hits == 0  # the first was forgotten for the third
    big = np.zeros(20_000, np.uint8)
    memo.recall("copy", (big,), (), big.copy)
    memo.recall("copy", (big,), (), big.copy)
    assert memo.hits == 0  # too big to keep at all


def test_colouring_again_with_other_hints_reuses_the_line_art_and_gives_the_same_result(model):
    line = line_art(300, 400, thickness=3)
    red, blue = hint_layer(300, 400, (255, 0, 0)), hint_layer(300, 400, (0, 0, 255), box=(250, 100, 300, 150))
    RECENT.clear()
    colorize(model, line, red)
    hits = RECENT.hits
    reused = colorize(model, line, blue)
    assert RECENT.hits > hits  # the regions and the paper's components and depth
    RECENT.clear()
    fresh = colorize(model, line, blue)
    np.testing.assert_array_equal(reused.rgba, fresh.rgba)
    moved = line.copy()
    moved[150, :200] = (0, 0, 0, 255)  # a new line: every step sees other line art
    RECENT.clear()
    colorize(model, line, blue)
    misses = RECENT.misses
    colorize(model, moved, blue)
    assert RECENT.misses - misses == misses  # nothing recalled


def test_changing_only_the_output_kind_runs_the_network_once(model, monkeypatch):
    runs = []
    real_run = type(model).run
    monkeypatch.setattr(type(model), "run", lambda self, *a, **k: runs.append(1) or real_run(self, *a, **k))
    line, hints = line_art(), hint_layer()
    RECENT.clear()
    flat = colorize(model, line, hints)
    with_lines = colorize(model, line, hints, Options(with_lines=True))
    assert len(runs) == 1 and (flat.network == with_lines.network).all()
    colorize(model, line, hint_layer(color=(0, 255, 0)))  # other hints: the network runs again
    assert len(runs) == 2
    other = load_model(model.path, device="cpu")  # a model loaded anew is another model
    colorize(other, line, hints)
    assert len(runs) == 3

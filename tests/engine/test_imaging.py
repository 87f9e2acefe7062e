import numpy as np
import pytest

from krita_deepcolor.engine import InputError
from krita_deepcolor.engine.imaging import (
    TILE,
    as_rgba,
    hint_from_premultiplied,
    line_from_rgba,
    premultiplied,
    tile_runs,
)
from krita_deepcolor.engine.plan import estimate_line_width, plan_work

from .conftest import line_art


def test_transparent_and_opaque_line_layers_read_the_same():
    transparent = line_from_rgba(line_art(opaque=False))
    opaque = line_from_rgba(line_art(opaque=True))
    np.testing.assert_allclose(transparent, opaque, atol=1e-6)
    assert transparent.dtype == np.float32
    assert transparent[0, 0] == 1.0 and transparent[8, 20] == 0.0  # paper, ink


def test_sixteen_bit_and_float_layers_match_eight_bit():
    eight = line_art()
    sixteen = eight.astype(np.uint16) * 257
    floating = eight.astype(np.float32) / 255
    np.testing.assert_allclose(line_from_rgba(sixteen), line_from_rgba(eight), atol=1e-4)
    np.testing.assert_allclose(line_from_rgba(floating), line_from_rgba(eight), atol=1e-4)


def test_half_transparent_ink_is_half_gray():
    layer = np.zeros((4, 4, 4), np.uint8)
    layer[..., 3] = 128
    assert line_from_rgba(layer)[0, 0] == pytest.approx(1 - 128 / 255, abs=1e-6)


def test_gray_and_rgb_images_are_accepted_as_opaque():
    gray = np.full((5, 6), 200, np.uint8)
    assert as_rgba(gray).shape == (5, 6, 4) and (as_rgba(gray)[..., 3] == 255).all()
    assert as_rgba(np.zeros((5, 6, 3), np.uint16))[..., 3].max() == 65535


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 5, 4), np.uint8), "empty"),
    (np.zeros((5, 5, 7), np.uint8), "expected gray"),
    (np.zeros((5, 5, 4), np.int32), "unsupported pixel type"),
])
def test_bad_arrays_are_refused(bad, message):
    with pytest.raises(InputError, match=message):
        line_from_rgba(bad)


def test_hints_resample_without_leaking_transparent_colour():
    hint = np.zeros((64, 64, 4), np.uint8)
    hint[..., :3] = (0, 255, 0)  # green under full transparency must not show
    hint[16:48, 16:48] = (255, 0, 0, 255)
    small = hint_from_premultiplied(premultiplied(hint), 16, 16)
    painted = small[..., 3] > 0
    assert small[8, 8, 3] == pytest.approx(1.0)
    np.testing.assert_allclose(small[painted][:, :3], [[1.0, 0.0, 0.0]] * painted.sum(), atol=1e-5)
    none = hint_from_premultiplied(None, 4, 5)
    assert none.shape == (4, 5, 4) and not none.any()


@pytest.mark.parametrize("thickness", [1, 2, 4, 8])
def test_line_width_estimate_follows_stroke_width(thickness):
    layer = np.zeros((400, 400, 4), np.uint8)
    for y in range(20, 380, 40):  # horizontal strokes of known width
        layer[y:y + thickness, 20:380] = (0, 0, 0, 255)
    assert estimate_line_width(line_from_rgba(layer)) == pytest.approx(thickness, rel=0.1)


def test_line_width_of_blank_canvas_is_unknown():
    assert estimate_line_width(np.ones((50, 50), np.float32)) is None


def test_plan_fits_max_side_and_pads_to_multiple():
    plan = plan_work((3000, 2000), max_side=1024, size_multiple=32)
    assert plan.work == (1024, 683) and plan.padded == (1024, 704)
    assert plan_work((100, 60), 1024, 32).work == (100, 60)  # never enlarged without a width match


def test_plan_matches_training_line_width_within_max_side():
    thin = plan_work((1000, 1000), max_side=1024, size_multiple=8, line_width=8.0, model_line_width=2.0)
    assert thin.work == (250, 250)  # 8 px lines shrink to the 2 px seen in training
    capped = plan_work((1000, 1000), max_side=1024, size_multiple=8, line_width=1.0, model_line_width=2.0)
    assert capped.work == (1024, 1024)  # enlarging stops at max_side


@pytest.mark.parametrize("origin", [(0, 0), (70, 5), (128, 64)])
def test_tile_runs_cover_every_stroke_in_whole_canvas_tiles_and_nothing_else(origin):
    rng = np.random.default_rng(7)
    alpha = np.zeros((300, 420), np.uint8)
    alpha[10:14, 20:300] = 255  # a long stroke
    alpha[250, 410] = 1  # one faint pixel near a corner
    alpha[140:200, 100:103] = rng.integers(1, 256, (60, 3))
    covered = np.zeros(alpha.shape, int)
    for x, y, w, h in tile_runs(alpha, origin):
        covered[y:y + h, x:x + w] += 1
        # on the canvas's tile grid (or the array's edge), and no tile of it empty
        for edge, low in ((x + origin[0], x), (y + origin[1], y)):
            assert edge % TILE == 0 or low == 0
        assert ((x + w + origin[0]) % TILE == 0 or x + w == alpha.shape[1])
        starts = [x] + [column for column in range(x + 1, x + w) if (column + origin[0]) % TILE == 0]
        for start, end in zip(starts, starts[1:] + [x + w], strict=True):
            assert alpha[y:y + h, start:end].any()
    assert (covered[alpha > 0] == 1).all() and covered.max() == 1
    assert covered.sum() < alpha.size / 4  # most of the array is left out
    assert tile_runs(np.zeros((5, 5), np.uint8)) == []


def test_premultiplying_only_the_stroked_tiles_changes_nothing():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (200, 300, 4), dtype=np.uint8)
    rgba[:, :, 3][rng.random((200, 300)) < 0.97] = 0  # colour under transparency, far apart
    rgba[:130, :, 3] = 0
    expected = (rgba[:, :, :3].astype(np.float64) * rgba[:, :, 3:] / 255.0).round()
    out = premultiplied(rgba)
    assert np.abs(out[:, :, :3] - expected).max() <= 1 and (out[:, :, 3] == rgba[:, :, 3]).all()
    assert not out[:130].any()

import cv2
import numpy as np
import pytest

from krita_deepcolor.engine import Cancelled, CancelToken, InputError, Options, colorize, load_model
from krita_deepcolor.engine.errors import NoHints
from krita_deepcolor.engine.flats import faint_strokes
from krita_deepcolor.engine.imaging import alpha8
from tests import contract_models

from .conftest import hint_layer, line_art


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """Per-pixel passthrough: exact colours, so tests can compare pixel values."""
    path = contract_models.build(tmp_path_factory.mktemp("per_pixel") / "per_pixel.onnx", strict=False)
    return load_model(path, device="cpu")


@pytest.fixture(scope="module")
def strict_model(model_path):
    """Fails inside onnxruntime unless H and W are multiples of 8."""
    return load_model(model_path, device="cpu")


def test_hinted_area_takes_the_hint_colour_at_canvas_size(model):
    line, hints = line_art(), hint_layer(color=(255, 0, 0))
    result = colorize(model, line, hints, Options(match_line_width=False))
    assert result.rgba.shape == (96, 128, 4) and result.rgba.dtype == np.uint8
    assert tuple(result.rgba[30, 30]) == (255, 0, 0, 255)
    assert tuple(result.rgba[70, 100]) == (255, 255, 255, 255)  # unhinted paper: passthrough gives white
    assert result.plan.padded == (96, 128) and result.provider == "CPU"


def test_odd_canvas_is_padded_for_the_model_and_cropped_back(strict_model):
    line, hints = line_art(37, 53), hint_layer(37, 53, box=(0, 0, 10, 10))
    result = colorize(strict_model, line, hints, Options(match_line_width=False))
    assert result.plan.padded == (40, 56)
    assert result.rgba.shape == (37, 53, 4)
    assert tuple(result.rgba[2, 2, :3]) == (255, 0, 0)


def test_tiny_canvas_works(model):
    result = colorize(model, np.full((1, 1, 4), (0, 0, 0, 255), np.uint8), None, Options(finishing="raw"))
    assert result.rgba.shape == (1, 1, 4)


@pytest.mark.parametrize("thin", [3, 4, 8, 10])
def test_thin_strip_takes_its_hint_colour(model, thin):
    """A strip a few pixels thin (hybrid finishing once shrank it to 1 px and gave alpha 0)."""
    line = np.zeros((thin, 7000, 4), np.uint8)
    line[:, 3000:3003] = (0, 0, 0, 255)  # a divider across the strip
    hints = np.zeros((thin, 7000, 4), np.uint8)
    hints[:, 1000:1400] = (200, 30, 30, 255)
    rgba = colorize(model, line, hints).rgba
    assert (rgba[:, 100:2900] == (200, 30, 30, 255)).all()  # the whole hinted part of the strip
    assert (rgba[:, 3100:, 3] == 0).all()  # the part past the divider got no hint: clear


def test_flats_need_hint_strokes_and_an_empty_hint_layer_counts_as_none(model):
    line = line_art()
    empty = np.zeros((96, 128, 4), np.uint8)
    for hints in (None, empty):
        with pytest.raises(NoHints, match="no hint strokes"):
            colorize(model, line, hints)
        with pytest.raises(NoHints):
            colorize(model, line, hints, Options(preview_side=32))
    raw = Options(finishing="raw")  # the network's own guess, and the shaded proposal, still run
    guessed = colorize(model, line, None, raw).rgba
    np.testing.assert_array_equal(guessed, colorize(model, line, empty, raw).rgba)
    assert colorize(model, line, None, Options(shading=0.5)).rgba.shape == (96, 128, 4)


def test_with_lines_multiplies_crisp_full_resolution_lines(model):
    line = line_art(400, 400, thickness=2)
    hints = hint_layer(400, 400, color=(0, 0, 255), box=(0, 0, 400, 400))
    hints[0, 0, 3] = 0  # not fully opaque
    result = colorize(model, line, hints, Options(max_side=100, match_line_width=False, with_lines=True))
    assert result.plan.work == (100, 100)
    assert tuple(result.rgba[200, 200, :3]) == (0, 0, 0)  # on the divider line at full resolution
    assert tuple(result.rgba[200, 204, :3]) == (0, 0, 255)  # 3 px beside it: pure hint colour


def test_colour_does_not_bleed_across_lines_when_upsampled(model):
    """Red left of a thin divider, blue right of it, network at a quarter of the canvas."""
    size = 512
    line = np.zeros((size, size, 4), np.uint8)
    line[:, 258:260] = (0, 0, 0, 255)  # 2 px line, not aligned to the 4 px working grid
    hints = np.zeros((size, size, 4), np.uint8)
    hints[:, :259] = (255, 0, 0, 255)
    hints[:, 259:] = (0, 0, 255, 255)
    hints[0, 0, 3] = 0
    result = colorize(model, line, hints, Options(max_side=128, match_line_width=False, finishing="raw"))
    rgb = result.rgba[100:400, :, :3].astype(int)
    left, right = rgb[:, 250:257], rgb[:, 261:268]  # 2..8 px beside the line
    # within 5 of 255 levels: plain bilinear upsampling is 40 levels off here
    assert (left[..., 0] >= 250).all() and (left[..., 2] <= 5).all()
    assert (right[..., 2] >= 250).all() and (right[..., 0] <= 5).all()


def test_sixteen_bit_input_gives_the_same_colours(model):
    line, hints = line_art(), hint_layer()
    eight = colorize(model, line, hints).rgba
    sixteen = colorize(model, line.astype(np.uint16) * 257, hints.astype(np.uint16) * 257).rgba
    assert np.abs(eight.astype(int) - sixteen.astype(int)).max() <= 1


def test_line_width_matching_scales_to_training_width(model):
    line = line_art(256, 256, thickness=8)  # model was "trained" on 2 px lines
    result = colorize(model, line, hint_layer(256, 256), Options(max_side=1024))
    assert result.line_width == pytest.approx(8, rel=0.15)
    assert result.plan.work[0] == pytest.approx(64, abs=8)


@pytest.mark.parametrize("line, hints, message", [
    (line_art(), hint_layer(50, 50), "same size"),
    (line_art(), np.full((96, 128, 4), 255, np.uint8), "fully opaque"),
    (np.zeros((0, 0, 4), np.uint8), None, "empty"),
])
def test_unusable_layers_are_refused(model, line, hints, message):
    with pytest.raises(InputError, match=message):
        colorize(model, line, hints)


def test_progress_is_reported_in_order(model):
    seen = []
    colorize(model, line_art(), hint_layer(), progress=lambda fraction, text: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_cancelled_run_produces_nothing(model):
    token = CancelToken()
    calls = []

    def cancel_when_network_starts(fraction, text):
        calls.append(text)
        if text.startswith("running"):
            token.cancel()

    with pytest.raises(Cancelled):
        colorize(model, line_art(), hint_layer(), progress=cancel_when_network_starts, cancel=token)
    assert "finishing" not in calls


@pytest.mark.parametrize("options, message", [
    (Options(max_side=8), "too small"),
    (Options(shading=1.5), "shading 1.5 is out of range"),
    (Options(hint_strength=-1), "negative"),
    (Options(finishing="glossy"), "unknown finishing"),
    (Options(preview_side=8), "preview side 8 is too small"),
])
def test_bad_options_are_refused(model, options, message):
    with pytest.raises(InputError, match=message):
        colorize(model, line_art(), None, options)


def test_a_preview_colours_a_shrunk_copy_and_gives_the_canvas_its_colours(model):
    # a 1200x1600 page, its left half hinted red; 3 px lines, which the shrinking keeps as walls
    line, hints = line_art(1200, 1600, thickness=3), hint_layer(1200, 1600, box=(100, 100, 300, 300))
    full = colorize(model, line, hints, Options(match_line_width=False))
    preview = colorize(model, line, hints, Options(match_line_width=False, preview_side=200))
    assert preview.rgba.shape == full.rgba.shape == (1200, 1600, 4)
    assert max(preview.plan.padded) <= 200 < max(full.plan.padded)
    assert tuple(preview.rgba[600, 400]) == tuple(full.rgba[600, 400]) == (255, 0, 0, 255)
    red = (preview.rgba[:, :, :3] == (255, 0, 0)).all(axis=2) & (preview.rgba[:, :, 3] == 255)
    assert red[100:1100, 100:750].mean() > 0.97 and not red[:, 850:].any()  # stops at the divider
    # (the unhinted half is white paper in both; small region rules may keep it clear or opaque)
    assert (preview.rgba[:, 850:, :3] == full.rgba[:, 850:, :3]).all(axis=2).mean() > 0.97
    assert set(preview.seconds) == {"read", "prepare", "network", "finish"}
    # a canvas the shrinking factor does not divide: the last rows and columns repeat their neighbours
    odd = colorize(model, line_art(1203, 1605, thickness=3), hint_layer(1203, 1605, box=(100, 100, 300, 300)),
                   Options(match_line_width=False, preview_side=200))
    assert odd.rgba.shape == (1203, 1605, 4) and tuple(odd.rgba[600, 400]) == (255, 0, 0, 255)
    assert (odd.rgba[1197:] == odd.rgba[1196]).all() and (odd.rgba[:, 1602:] == odd.rgba[:, 1601:1602]).all()
    small = colorize(model, line_art(), hint_layer(), Options(preview_side=200))
    assert small.plan.canvas == (96, 128)  # a canvas within the preview side is coloured as it is


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1)])
def test_a_selection_one_pixel_wide_takes_its_hint(model, shape):
    """A 1-px selection is a part of the canvas: its one stroke colours it (no IndexError)."""
    line = np.zeros(shape + (4,), np.uint8)
    hint = np.zeros(shape + (4,), np.uint8)
    hint[0, 0] = (255, 0, 0, 255)
    assert tuple(colorize(model, line, hint, partial=True).rgba[0, 0]) == (255, 0, 0, 255)


def test_a_preview_closes_gaps_as_wide_as_a_full_run_with_auto_gaps(model):
    """Auto picks the gap size on the canvas for a preview too, not on its shrunk copy."""
    line, hints = line_art(1200, 1600, thickness=5), hint_layer(1200, 1600, box=(100, 100, 300, 300))
    full = colorize(model, line, hints, Options())
    preview = colorize(model, line, hints, Options(preview_side=256))
    assert full.gap_size is not None and preview.gap_size == full.gap_size
    assert colorize(model, line, hints, Options(preview_side=256, close_gaps=12)).gap_size == 12


def test_hint_strokes_too_faint_to_count_are_counted():
    """Strokes fainter than 16 of 255 everywhere are eraser leftovers: they colour nothing, and the
    result says how many there were (a faint fringe of a real stroke is no stroke of its own)."""
    alpha = np.zeros((40, 60), np.uint8)
    alpha[5:10, 5:10] = 8  # faint stroke 1
    alpha[20:25, 5:10] = 15  # faint stroke 2
    alpha[5:15, 30:40] = 200  # a real stroke...
    alpha[15:17, 30:40] = 5  # ...with a faint fringe
    assert faint_strokes(alpha) == 2
    assert faint_strokes(np.zeros((8, 8), np.uint8)) == 0
    wide = np.zeros((40, 60, 4), np.uint16)
    wide[:, :, 3] = alpha.astype(np.uint16) * 257
    assert faint_strokes(alpha8(wide)) == 2


@pytest.mark.parametrize("gap", [None, 0, 8, 10, 12, 15, 20])
def test_closing_gaps_wider_than_the_gutter_between_two_boxes_leaves_it_clear(model, gap):
    """Two boxes 9 px apart, a stroke in each: closing gaps of 10 or 12 px walls the gutter off,
    and it still takes no colour (nothing was painted there)."""
    line = np.zeros((64, 96, 4), np.uint8)
    for x0, x1 in ((9, 43), (52, 86)):
        cv2.rectangle(line, (x0, 12), (x1, 51), (20, 20, 20, 255), 2)
    hints = hint_layer(64, 96, color=(220, 40, 30), box=(20, 26, 32, 38))
    hints[26:38, 64:76] = (30, 60, 220, 255)
    result = colorize(model, line, hints, Options(close_gaps=gap)).rgba
    assert not result[16:48, 45:51, 3].any()
    assert tuple(result[32, 26]) == (220, 40, 30, 255) and tuple(result[32, 70]) == (30, 60, 220, 255)

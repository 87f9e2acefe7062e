"""Colouring end to end with real models on the worker thread: every colour space, sizes,
re-colouring, cancel, documents closed or layers deleted mid-run, refusals, batch."""

import shutil
import time

import numpy as np
import pytest

from krita_deepcolor.document import node_id
from krita_deepcolor.engine import catalog
from krita_deepcolor.engine.pipeline import Options, colorize
from krita_deepcolor.picking import NO_HINTS, layer_choices
from krita_deepcolor.pixels import write_rgba
from krita_deepcolor.registry import Registry
from krita_deepcolor.settings import OUTPUTS
from tests import contract_models
from tests.krita.helpers import (
    BLUE,
    GREEN,
    MODELS_DIR,
    RED,
    add_fill_layer,
    add_layer,
    close,
    hint_point,
    hint_spot,
    line_art,
    lines_and_hints,
    pixels,
    raw,
    stack,
    wait_until,
)


def run(colorizer, doc=None, timeout=60.0):
    """Colour ``doc`` and wait for the result; returns the status line."""
    assert colorizer.colorize(doc), colorizer.status
    wait_until(lambda: not colorizer.busy, timeout, "the colouring to finish")
    return colorizer.status


def result_layer(doc, lines):
    layers = Registry(doc).layers_for(lines)
    assert len(layers) == 1, stack(doc.rootNode())
    return layers[0]


def visible(rgba):
    """Pixels as they show: a transparent pixel's colour (which a group's composite drops) zeroed."""
    return np.where(rgba[:, :, 3:] > 0, rgba, 0).astype(np.uint8)


def expected(passthrough, doc, lines, hints, **options):
    """What the engine makes of the layers as the plugin reads them."""
    return colorize(passthrough, pixels(lines, doc), pixels(hints, doc) if hints else None,
                    Options(**options)).rgba


SPACES = {  # model, depth, profile, tolerance between the engine's sRGB result and the layer read back
    "rgb-u8": ("RGBA", "U8", "", 0),
    "rgb-u16": ("RGBA", "U16", "", 2),
    "rgb-f16": ("RGBA", "F16", "", 2),
    "rgb-f32": ("RGBA", "F32", "", 2),
    "gray-u8": ("GRAYA", "U8", "", None),
    "gray-u16": ("GRAYA", "U16", "", None),
    "cmyk-u8": ("CMYKA", "U8", "", 45),
    "cmyk-u16": ("CMYKA", "U16", "", 45),
    "lab-u8": ("LABA", "U8", "", 6),
    "lab-u16": ("LABA", "U16", "", 3),
}


@pytest.mark.parametrize("space", SPACES, ids=list(SPACES))
def test_every_colour_space_gives_the_engines_colours(make_doc, colorizer, passthrough, space):
    model, depth, profile, tolerance = SPACES[space]
    doc = make_doc(96, 64, model, depth, profile)
    lines, hints = lines_and_hints(doc, colour=(200, 90, 60))
    user_pixels = (raw(lines, doc), raw(hints, doc))

    status = run(colorizer, doc)

    assert status.startswith("Added 'Deepcolor · passthrough · "), status
    node = result_layer(doc, lines)
    assert (node.colorModel(), node.colorDepth(), node.colorProfile()) == (
        doc.colorModel(), doc.colorDepth(), doc.colorProfile())
    got = pixels(node, doc).astype(int)
    want = expected(passthrough, doc, lines, hints).astype(int)
    if tolerance is None:  # grey: the colours' brightness
        assert np.abs(got[:, :, 0] - want[:, :, :3].mean(axis=2)).max() <= 40
        assert "convert it to RGB" in status
    else:
        assert np.abs(got[:, :, :3] - want[:, :, :3]).max() <= tolerance
    assert (got[:, :, 3] == want[:, :, 3]).all()
    assert (raw(lines, doc), raw(hints, doc)) == user_pixels


@pytest.mark.parametrize("size", [(1, 1), (3, 700), (8000, 8000)], ids=["1x1", "3x700", "8000x8000"])
def test_canvas_sizes(make_doc, colorizer, size):
    width, height = size
    doc = make_doc(width, height)
    lines = add_layer(doc, "Lines", line_art(width, height) if min(size) > 1
                      else np.full((1, 1, 4), (0, 0, 0, 255), np.uint8))
    hints = add_layer(doc, "Hints", hint_spot(width, height, RED))
    if size == (1, 1):
        hints.remove()  # (one opaque pixel would be a fully opaque hint layer)
        colorizer.update_settings(output="raw")  # flats need hints: the network's own colours
    status = run(colorizer, doc, timeout=300)
    assert status.startswith("Added"), status
    node = result_layer(doc, lines)
    assert node.bounds().width() <= width and node.bounds().height() <= height
    if min(size) > 1:
        row, column = hint_point(width, height)
        assert tuple(pixels(node, doc)[row, column][:3]) == RED


def test_flats_without_hint_strokes_are_refused_and_nothing_is_added(make_doc, colorizer):
    doc = make_doc()
    lines = add_layer(doc, "Lines", line_art(96, 64))
    add_layer(doc, "Hints")  # a hint layer with nothing painted on it yet
    before = stack(doc.rootNode())
    status = run(colorizer, doc)
    assert status.startswith("no hint strokes") and "hints layer" in status, status
    assert stack(doc.rootNode()) == before and not Registry(doc).layers_for(lines)
    colorizer.update_settings(output="raw")
    assert run(colorizer, doc).startswith("Added"), "the raw network output needs no hints"


def test_a_fill_layer_is_listed_and_coloured_as_line_art(make_doc, colorizer):
    doc = make_doc()
    lines = add_fill_layer(doc, "Lines", line_art(96, 64))
    add_layer(doc, "Hints", hint_spot(96, 64, RED))
    assert [choice.name for choice in layer_choices(doc)] == ["Hints", "Lines", "Background"]
    status = run(colorizer, doc)
    assert status.startswith("Added 'Deepcolor · passthrough · ") and "under 'Lines'" in status, status
    assert tuple(pixels(result_layer(doc, lines), doc)[hint_point(96, 64)][:3]) == RED


def test_recolouring_with_new_hints_replaces_the_result(make_doc, colorizer):
    doc = make_doc()
    lines, hints = lines_and_hints(doc, colour=RED)
    run(colorizer, doc)
    first = result_layer(doc, lines)
    row, column = hint_point(96, 64)
    assert tuple(pixels(first, doc)[row, column][:3]) == RED

    hints.setPixelData(bytes([*BLUE[::-1], 255]) * (96 * 64), 0, 0, 96, 64)
    hints.setPixelData(bytes(4) * (96 * 32), 0, 0, 96, 32)  # transparent top half: still a hint layer
    run(colorizer, doc)

    second = result_layer(doc, lines)
    assert node_id(second) != node_id(first) and first.parentNode() is None
    assert tuple(pixels(second, doc)[40, column][:3]) == BLUE
    assert stack(doc.rootNode()) == ["Background", second.name(), "Lines", "Hints"]


def test_settings_reach_the_engine(make_doc, colorizer, passthrough):
    doc = make_doc()
    lines, hints = lines_and_hints(doc)
    results = {}
    for output, engine_options in OUTPUTS.items():
        colorizer.update_settings(hint_strength=50, output=output, resolution="fast")
        run(colorizer, doc)
        results[output] = got = visible(pixels(result_layer(doc, lines), doc))
        want = expected(passthrough, doc, lines, hints, hint_strength=0.5, max_side=512, **engine_options[1])
        assert (got == visible(want)).all(), output
    assert (results["under"] != results["with_lines"]).any() and (results["under"] != results["raw"]).any()
    colorizer.set_picks(node_id(lines), NO_HINTS)
    run(colorizer, doc)
    want = expected(passthrough, doc, lines, None, max_side=512, **OUTPUTS["raw"][1])
    assert (pixels(result_layer(doc, lines), doc) == want).all()


def test_engine_errors_are_shown_and_add_nothing(make_doc, colorizer):
    doc = make_doc()
    lines = add_layer(doc, "Lines", line_art(96, 64))
    add_layer(doc, "Hints", np.full((64, 96, 4), 255, np.uint8))  # opaque: not a hint layer
    assert colorizer.colorize(doc)
    wait_until(lambda: not colorizer.busy)
    assert "fully opaque" in colorizer.status
    assert not Registry(doc).layers_for(lines)


def test_missing_and_empty_layers_are_refused_before_starting(make_doc, colorizer):
    doc = make_doc()
    assert not colorizer.colorize(doc)
    assert "has no line-art layer" in colorizer.status and not colorizer.busy
    add_layer(doc, "Lines")
    assert not colorizer.colorize(doc)
    assert "'Lines' is empty" in colorizer.status


def test_no_models_installed_says_where_to_put_one(make_doc, colorizer, tmp_path, monkeypatch):
    monkeypatch.delenv("KRITA_DEEPCOLOR_MODELS")
    monkeypatch.setattr(catalog, "SHIPPED_DIRS", ())  # as if the plugin shipped no model
    colorizer.update_settings(models_dir=str(tmp_path), model="")
    doc = make_doc()
    lines_and_hints(doc)
    assert not colorizer.colorize(doc)
    assert f"no model installed: put a .onnx model into {tmp_path}" in colorizer.status


def test_a_model_breaking_the_contract_is_named_with_its_defect(make_doc, colorizer, tmp_path, monkeypatch):
    monkeypatch.delenv("KRITA_DEEPCOLOR_MODELS")
    monkeypatch.setattr(catalog, "SHIPPED_DIRS", ())
    broken = contract_models.build(tmp_path / "renamed-inputs.onnx", input_names=("lines", "hint"))
    colorizer.update_settings(models_dir=str(tmp_path), model="")
    doc = make_doc()
    lines_and_hints(doc)
    assert not colorizer.colorize(doc)
    assert colorizer.status.startswith(f"no usable model: {broken}: inputs are ['hint', 'lines']"), \
        colorizer.status

    shutil.copy(MODELS_DIR / "passthrough.onnx", tmp_path)  # a good model beside it
    colorizer.update_settings(model="renamed-inputs")
    colorizer.models(refresh=True)
    assert not colorizer.colorize(doc), "the chosen model is not swapped for another one"
    assert colorizer.status.startswith(f"the chosen model 'renamed-inputs' cannot be used: {broken}: "
                                       "inputs are"), colorizer.status
    assert stack(doc.rootNode()) == ["Background", "Lines", "Hints"]
    colorizer.update_settings(model="passthrough")
    assert run(colorizer, doc).startswith("Added 'Deepcolor · passthrough")


def test_cancel_mid_run_stops_quickly_and_adds_nothing(make_doc, colorizer):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    colorizer.update_settings(model="slow")
    assert colorizer.colorize(doc)
    wait_until(lambda: "running slow" in colorizer.status, 30, "the network to start")
    cancelled_at = time.monotonic()
    colorizer.cancel()
    wait_until(lambda: not colorizer.busy, 10, "the cancel to take effect")
    assert time.monotonic() - cancelled_at < 5
    assert colorizer.status == "Cancelled: nothing was added."
    assert stack(doc.rootNode()) == ["Background", "Lines", "Hints"]
    assert not Registry(doc).layers_for(lines)


def test_a_second_request_while_running_is_refused_politely(make_doc, colorizer):
    doc = make_doc()
    lines_and_hints(doc)
    colorizer.update_settings(model="slow")
    assert colorizer.colorize(doc)
    assert not colorizer.colorize(doc)
    assert colorizer.status == "Still colouring 'deepcolor-test': wait for it to finish or press Cancel."
    assert not colorizer.colorize_all()
    assert colorizer.busy
    colorizer.cancel()
    wait_until(lambda: not colorizer.busy)


def test_closing_the_document_mid_run_ends_quietly(make_doc, colorizer):
    doc = make_doc(name="closing")
    lines_and_hints(doc)
    colorizer.update_settings(model="slow")
    assert colorizer.colorize(doc)
    wait_until(lambda: "running slow" in colorizer.status, 30, "the network to start")
    closed_at = time.monotonic()
    close(doc)
    wait_until(lambda: not colorizer.busy, 10, "the job to notice the closed document")
    assert time.monotonic() - closed_at < 5, "the run is cancelled, not waited for"
    assert colorizer.status == "'closing' was closed while colouring: nothing was added."


def test_deleting_the_line_art_mid_run_adds_nothing(make_doc, colorizer):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    assert colorizer.colorize(doc)
    lines.remove()  # results are delivered by the event loop, so always after this
    wait_until(lambda: not colorizer.busy)
    assert colorizer.status == "The line-art layer 'Lines' was deleted while colouring: nothing was added."
    assert stack(doc.rootNode()) == ["Background", "Hints"]


def test_batch_colours_every_open_document_and_says_what_was_skipped(make_doc, colorizer):
    good = make_doc(name="good")
    lines_and_hints(good)
    cmyk = make_doc(name="cmyk", model="CMYKA", depth="U8")
    add_layer(cmyk, "Ink", line_art(96, 64))
    add_layer(cmyk, "Hints", hint_spot(96, 64, RED))
    nameless = make_doc(name="nameless")
    add_layer(nameless, "Paint 1", line_art(96, 64))
    empty = make_doc(name="empty")
    add_layer(empty, "lineart")

    assert colorizer.colorize_all()
    wait_until(lambda: colorizer.summary, 60, "the batch summary")

    assert not colorizer.busy
    assert colorizer.summary.splitlines() == [
        "Coloured 2 of 4 open documents.",
        "Skipped 'nameless': 'nameless' has no line-art layer: name a layer 'lines' or pick one in the "
        "Deepcolor docker",
        "Skipped 'empty': the line-art layer 'lineart' is empty: draw on it or pick another layer",
    ]
    assert colorizer.status == "Coloured 2 of 4 open documents."
    assert [name.split(" · ")[0] for name in stack(good.rootNode())] == ["Background", "Deepcolor", "Lines",
                                                                        "Hints"]
    assert stack(cmyk.rootNode())[1].startswith("Deepcolor · ")


def test_cancelling_a_batch_skips_the_rest(make_doc, colorizer):
    docs = [make_doc(name=f"doc {index}") for index in range(3)]
    for doc in docs:
        lines_and_hints(doc, colour=GREEN)
    colorizer.update_settings(model="slow")
    assert colorizer.colorize_all()
    wait_until(lambda: "running slow" in colorizer.status, 30, "the first document to start")
    colorizer.cancel()
    wait_until(lambda: colorizer.summary, 10, "the batch summary")
    assert colorizer.summary.splitlines() == [
        "Coloured 0 of 3 open documents.",
        "Skipped 'doc 1': cancelled",
        "Skipped 'doc 2': cancelled",
        "Skipped 'doc 0': Cancelled: nothing was added.",
    ]
    assert all(len(stack(doc.rootNode())) == 3 for doc in docs)


@pytest.mark.parametrize("space", ["rgb-u8", "rgb-u16", "cmyk-u8"])
def test_a_stroke_end_previews_and_repaints_the_preview_in_any_colour_space(make_doc, colorizer, passthrough,
                                                                            space):
    model, depth, profile, tolerance = SPACES[space]
    doc = make_doc(1200, 800, model, depth, profile)  # larger than a preview: it is shrunk
    lines, hints = lines_and_hints(doc, colour=(200, 90, 60))
    user_lines = raw(lines, doc)
    colorizer.update_settings(live_preview=True)
    try:
        for colour in ((200, 90, 60), (40, 90, 220)):
            write_rgba(hints, hint_spot(1200, 800, colour))  # the user paints over the hints
            doc.waitForDone()
            assert colorizer.stroke_ended(doc), colorizer.status
            wait_until(lambda: not colorizer.busy, 60, "the preview")
            assert colorizer.status.startswith("Preview updated"), colorizer.status
            preview = Registry(doc).layers_for(lines)
            assert len(preview) == 1 and preview[0].name() == "Deepcolor preview · passthrough"
            got = visible(pixels(preview[0], doc)).astype(int)
            shrunk = expected(passthrough, doc, lines, hints, preview_side=512, max_side=256)
            want = visible(shrunk).astype(int)
            assert np.abs(got[:, :, :3] - want[:, :, :3]).max() <= tolerance
            assert (got[:, :, 3] == want[:, :, 3]).all()
        assert not colorizer.stroke_ended(doc), "nothing changed since the last preview"
    finally:
        colorizer.update_settings(live_preview=False)
    assert raw(lines, doc) == user_lines


@pytest.mark.parametrize("space", ["rgb-u8", "rgb-u16", "cmyk-u8"])
def test_a_scan_with_white_paper_shows_its_colours(make_doc, colorizer, space):
    """Opaque paper hides anything under it: the result goes over it in Multiply mode, where the
    colours show and the lines stay dark; the Lines layer itself is left as it was."""
    model, depth, profile, _ = SPACES[space]
    doc = make_doc(96, 64, model, depth, profile)
    scan = line_art(96, 64)
    scan[scan[:, :, 3] == 0] = (255, 255, 255, 255)  # the paper of a scanner
    lines = add_layer(doc, "Lines", scan)
    add_layer(doc, "Hints", hint_spot(96, 64, RED))
    before = raw(lines, doc)
    status = run(colorizer, doc)
    result = result_layer(doc, lines)
    assert stack(doc.rootNode()) == ["Background", "Lines", result.name(), "Hints"]
    assert result.blendingMode() == "multiply" and lines.blendingMode() == "normal"
    assert "over 'Lines'" in status and "Multiply" in status
    assert raw(lines, doc) == before
    doc.waitForDone()
    image = pixels(doc.rootNode(), doc)
    row, column = hint_point(96, 64)
    assert np.abs(image[row, column, :3].astype(int) - RED).max() <= 45, "the colour shows through the paper"
    assert image[int(0.2 * 64), column, :3].max() < 60, "the lines stay dark"
    # line art on transparency still gets its result under it
    clear_lines = add_layer(doc, "Lines 2", line_art(96, 64))
    colorizer.set_picks(node_id(clear_lines), "auto")
    run(colorizer, doc)
    assert result_layer(doc, clear_lines).blendingMode() != "multiply"


def test_the_status_counts_hint_strokes_too_faint_to_count(make_doc, colorizer):
    doc = make_doc()
    lines, hints = lines_and_hints(doc)
    faint = hint_spot(96, 64, BLUE, where=(0.75, 0.5))
    faint[:, :, 3] = np.where(faint[:, :, 3] > 0, 10, 0)  # an eraser leftover, 10 of 255
    write_rgba(hints, np.maximum(pixels(hints, doc), faint))
    status = run(colorizer, doc)
    assert "1 hint stroke was too faint to count" in status, status


def test_every_run_reports_its_timings_to_listeners(make_doc, colorizer):
    doc = make_doc()
    lines_and_hints(doc)
    deliveries = []
    colorizer.delivered.connect(deliveries.append)
    status = run(colorizer, doc)
    (delivery,) = deliveries
    assert delivery.message == status and delivery.kind == "result" and delivery.result is not None
    assert set(delivery.seconds) == {"read", "model load", "hand-off", "write", "total"}
    assert delivery.seconds["total"] >= delivery.seconds["read"] + delivery.seconds["write"] > 0
    colorizer.update_settings(model="slow")
    assert colorizer.colorize(doc)
    wait_until(lambda: "running slow" in colorizer.status, 30, "the slow network to start")
    colorizer.cancel()
    wait_until(lambda: len(deliveries) == 2, 10, "the cancelled run's report")
    assert deliveries[1].result is None and deliveries[1].message == "Cancelled: nothing was added."

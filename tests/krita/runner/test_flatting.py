"""The flatting options in real Krita: colour only the selection, one layer per colour, the
keep-clear layer, Close gaps and Krita's palettes; in 8- and 16-bit RGB and in CMYK."""

import time

import numpy as np
import pytest
from krita import Selection

from krita_deepcolor.document import DocumentError, node_id
from krita_deepcolor.engine.flats import hex_name
from krita_deepcolor.inputs import read_inputs
from krita_deepcolor.palettes import load_palette, palette_names
from krita_deepcolor.picking import NO_HINTS, pick_clear, picker_entries, user_layers
from krita_deepcolor.registry import Registry
from tests.krita.helpers import (
    BLUE,
    RED,
    add_layer,
    hint_point,
    hint_spot,
    line_art,
    lines_and_hints,
    pixels,
    stack,
    wait_until,
)

from .test_colorizer import result_layer, run

LEFT, RIGHT = (0.3, 0.5), (0.7, 0.5)  # the middles of line_art's two boxes


def two_colours(doc, left=RED, right=BLUE):
    """Line art with two boxes, each with a hint of its own colour."""
    width, height = doc.width(), doc.height()
    lines = add_layer(doc, "Lines", line_art(width, height))
    hints = hint_spot(width, height, left, LEFT)
    hints += hint_spot(width, height, right, RIGHT)
    return lines, add_layer(doc, "Hints", hints)


def select(doc, x, y, w, h, value=255):
    selection = Selection()
    selection.select(x, y, w, h, value)
    doc.setSelection(selection)


def layers(doc) -> list[str]:
    """Layer names, bottom to top, without the selection's own node."""
    return [node.name() for node in doc.rootNode().childNodes() if node.type() != "selectionmask"]


def at(rgba, where):
    row, column = hint_point(rgba.shape[1], rgba.shape[0], where)
    return tuple(int(v) for v in rgba[row, column])


# ---- colour only the selection


def test_a_selection_limits_the_result_and_the_work_to_its_bounds(make_doc, colorizer):
    doc = make_doc(200, 120)
    lines, hints = two_colours(doc)
    select(doc, 100, 0, 100, 120)  # the right box only
    inputs = read_inputs(doc, lines, hints)
    assert inputs.area == (100, 0, 100, 120) and inputs.line_rgba.shape == (120, 100, 4)

    status = run(colorizer, doc)
    assert "Coloured only the selection." in status, status
    result = pixels(result_layer(doc, lines), doc)
    assert at(result, RIGHT) == (*BLUE, 255)
    assert not result[:, :100, 3].any(), "nothing outside the selection"
    bounds = result_layer(doc, lines).bounds()
    assert bounds.x() >= 100


def test_a_feathered_selection_fades_the_result_as_it_fades(make_doc, colorizer):
    doc = make_doc(200, 120)
    lines, _ = two_colours(doc)
    selection = Selection()
    selection.select(0, 0, 200, 120, 128)  # everything half selected...
    selection.select(0, 0, 100, 120, 255)  # ...the left half fully
    doc.setSelection(selection)
    run(colorizer, doc)
    result = pixels(result_layer(doc, lines), doc)
    assert at(result, LEFT) == (*RED, 255)
    assert at(result, RIGHT)[:3] == BLUE and abs(at(result, RIGHT)[3] - 128) <= 1


def test_colouring_a_selection_again_keeps_the_earlier_result_outside_it(make_doc, colorizer):
    doc = make_doc(200, 120)
    lines, hints = two_colours(doc)
    run(colorizer, doc)  # the whole canvas first
    hints.setPixelData(bytes(4 * 200 * 120), 0, 0, 200, 120)
    recoloured = hint_spot(200, 120, (40, 180, 60), LEFT) + hint_spot(200, 120, (240, 200, 0), RIGHT)
    hints.setPixelData(bytes(recoloured[:, :, [2, 1, 0, 3]].tobytes()), 0, 0, 200, 120)
    select(doc, 0, 0, 100, 120)  # new hints everywhere, but only the left box is coloured again
    assert run(colorizer, doc).startswith("Added")
    result = pixels(result_layer(doc, lines), doc)
    assert at(result, LEFT) == (40, 180, 60, 255)
    assert at(result, RIGHT) == (*BLUE, 255), "outside the selection the earlier colouring stays"
    assert [name.split(" · ")[0] for name in layers(doc)] == ["Background", "Deepcolor", "Lines", "Hints"]


def test_a_small_selection_on_a_huge_page_reads_and_colours_only_its_part(make_doc, colorizer):
    doc = make_doc(8000, 8000)
    lines = add_layer(doc, "Lines", line_art(8000, 8000))
    add_layer(doc, "Hints", hint_spot(8000, 8000, RED, (0.2, 0.25)))  # covers all of the selection
    select(doc, 1000, 1400, 1000, 1000)  # across the top of the left box
    started = time.monotonic()
    status = run(colorizer, doc, timeout=120)
    assert status.startswith("Added") and "only the selection" in status, status
    bounds = result_layer(doc, lines).bounds()
    assert bounds.x() >= 1000 and bounds.y() >= 1400 and bounds.right() < 2000 and bounds.bottom() < 2400
    assert time.monotonic() - started < 60


# ---- one layer per colour


def colour_layers(group):
    return [(node.name(), node.type()) for node in reversed(group.childNodes())]  # top first


@pytest.mark.parametrize("space", [("RGBA", "U8"), ("RGBA", "U16"), ("RGBA", "F32"), ("CMYKA", "U8"),
                                   ("GRAYA", "U8"), ("LABA", "U16")],
                         ids=["u8", "u16", "f32", "cmyk", "gray", "lab"])
def test_one_layer_per_colour_is_a_group_named_like_a_result(make_doc, colorizer, space):
    doc = make_doc(200, 120, *space)
    lines, hints = two_colours(doc)
    colorizer.update_settings(output="split")
    status = run(colorizer, doc)
    assert "with 2 colour layers" in status, status
    group = result_layer(doc, lines)
    assert group.type() == "grouplayer" and group.name().startswith("Deepcolor · passthrough · ")
    exact = space in (("RGBA", "U8"), ("RGBA", "U16"))  # the hints read back as they were written
    if exact:
        assert colour_layers(group) == [("#1e3cdc", "paintlayer"), ("#dc281e", "paintlayer")]  # by value
    else:  # the hint colours as the document holds them (converted): each still one layer
        assert [kind for _, kind in colour_layers(group)] == ["paintlayer", "paintlayer"]
    first, second = (pixels(node, doc) for node in reversed(group.childNodes()))
    blue, red = (first, second) if at(first, RIGHT)[3] else (second, first)
    if exact:
        assert at(red, LEFT) == (*RED, 255) and at(blue, RIGHT) == (*BLUE, 255)
    assert not red[:, 100:, 3].any() and not blue[:, :100, 3].any()
    for layer in (red, blue):  # one colour each
        assert len(np.unique(layer[layer[:, :, 3] > 0][:, :3], axis=0)) == 1
    assert [choice for choice, _ in user_layers(doc)] and all(
        node.name()[0] != "#" for node, _ in user_layers(doc)), "colour layers are not offered as inputs"
    assert all(label.strip()[0] != "#" for label, _ in picker_entries(doc)[0])

    run(colorizer, doc)  # again: the new group replaces the old one
    assert [name.split(" · ")[0] for name in stack(doc.rootNode())] == ["Background", "Deepcolor", "Lines",
                                                                        "Hints"]


def test_one_layer_per_colour_over_a_selection_keeps_the_earlier_colours(make_doc, colorizer):
    doc = make_doc(200, 120)
    lines, hints = two_colours(doc)
    colorizer.update_settings(output="split")
    run(colorizer, doc)
    select(doc, 0, 0, 100, 120)
    hints.setPixelData(bytes(4 * 200 * 60) + bytes([0, 200, 0, 255]) * (200 * 60), 0, 0, 200, 120)
    run(colorizer, doc)
    group = result_layer(doc, lines)
    assert [name for name, _ in colour_layers(group)] == ["#00c800", "#1e3cdc"]
    assert at(pixels(group.childNodes()[0], doc), RIGHT)[3] == 255  # blue (bottom): still the right box


# ---- the keep-clear layer


def test_a_layer_named_clear_keeps_its_region_transparent(make_doc, colorizer):
    doc = make_doc(200, 120)
    lines, _ = two_colours(doc)
    clear = add_layer(doc, "Keep clear", hint_spot(200, 120, (255, 0, 255), RIGHT))
    assert picker_entries(doc)[2][0][0] == "Automatic (Keep clear)"
    run(colorizer, doc)
    result = pixels(result_layer(doc, lines), doc)
    assert at(result, LEFT) == (*RED, 255) and at(result, RIGHT)[3] == 0
    assert stack(doc.rootNode())[-1] == "Keep clear"

    colorizer.set_picks("auto", "auto", NO_HINTS)  # the picker's "None"
    run(colorizer, doc)
    assert at(pixels(result_layer(doc, lines), doc), RIGHT) == (*BLUE, 255)
    assert pick_clear(doc, node_id(clear), lines, None) is not None
    with pytest.raises(DocumentError, match="must be a layer of its own"):
        pick_clear(doc, node_id(lines), lines, None)


# ---- Close gaps


def test_close_gaps_reaches_the_engine_and_auto_says_what_it_chose(make_doc, colorizer):
    doc = make_doc(200, 120)
    two_colours(doc)
    status = run(colorizer, doc)
    assert f"Auto closed gaps up to {colorizer.auto_gap} px." in status and colorizer.auto_gap >= 1
    colorizer.update_settings(close_gaps=0)
    assert "closed gaps" not in run(colorizer, doc)


# ---- Krita's palettes


def test_krita_palettes_are_listed_and_read_in_srgb():
    names = palette_names()
    assert "Default" in names
    palette = load_palette("Default")
    assert len(palette.entries) > 10 and all(0 <= value <= 255 for _, rgb in palette.entries for value in rgb)
    cmyk = next(name for name in names if "CMYK" in name)
    assert load_palette(cmyk).entries  # converted by Krita
    with pytest.raises(DocumentError, match="the palette 'gone' is gone: choose another one"):
        load_palette("gone")


def test_a_palette_gives_every_page_of_a_batch_the_same_colours(make_doc, colorizer):
    palette = load_palette("Default")
    name, target = palette.entries[3]
    near = tuple(min(255, value + 6) for value in target)  # the same colour, picked by eye
    docs = []
    for index, colour in enumerate((target, near)):
        doc = make_doc(200, 120, name=f"page {index}")
        add_layer(doc, "Lines", line_art(200, 120))
        add_layer(doc, "Hints", hint_spot(200, 120, colour, LEFT))
        docs.append(doc)
    colorizer.update_settings(palette="Default", output="split")
    assert colorizer.colorize_all()
    wait_until(lambda: colorizer.summary, 60, "the batch summary")
    assert colorizer.summary.startswith("Coloured 2 of 2")
    for doc in docs:
        lines = next(node for node in doc.rootNode().childNodes() if node.name() == "Lines")
        group = Registry(doc).layers_for(lines)[0]
        layer = next(node for node in group.childNodes() if node.name() == (name or hex_name(target)))
        assert at(pixels(layer, doc), LEFT) == (*target, 255)


def test_a_palette_that_is_gone_is_refused_before_colouring(make_doc, colorizer):
    doc = make_doc()
    lines_and_hints(doc)
    colorizer.update_settings(palette="gone")
    assert not colorizer.colorize(doc)
    assert colorizer.status.startswith("the palette 'gone' is gone")
    assert stack(doc.rootNode()) == ["Background", "Lines", "Hints"]


def test_a_stroke_covering_the_selection_is_fine_an_opaque_hint_layer_is_not(make_doc, colorizer):
    doc = make_doc(200, 120)
    lines, _ = two_colours(doc)
    select(doc, 40, 40, 20, 20)  # inside the red hint spot, no line in it
    assert run(colorizer, doc).startswith("Added")
    assert tuple(pixels(result_layer(doc, lines), doc)[50, 50]) == (*RED, 255)
    background = doc.rootNode().childNodes()[0]
    colorizer.set_picks("auto", node_id(background))
    assert not colorizer.colorize(doc)
    assert colorizer.status == ("the hint layer 'Background' is fully opaque: paint hint strokes on a "
                                "transparent layer")

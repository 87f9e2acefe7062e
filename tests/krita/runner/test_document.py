"""Which layers are coloured, and where results go: auto picks, reading, placement, replacing."""

import numpy as np
import pytest

from krita_deepcolor.document import DocumentError, node_id
from krita_deepcolor.inputs import read_inputs
from krita_deepcolor.picking import (
    AUTO,
    NO_HINTS,
    auto_hint_layer,
    auto_line_layer,
    auto_pick_names,
    layer_choices,
    pick_layers,
)
from krita_deepcolor.registry import PREVIEW, RESULT_PREFIX, Registry
from krita_deepcolor.results import BEHIND, add_result, result_name, update_preview
from tests.krita.helpers import (
    BLUE,
    GREEN,
    RED,
    add_layer,
    hint_spot,
    line_art,
    lines_and_hints,
    pixels,
    raw,
    saved_and_reopened,
    stack,
)


def solid(doc, colour, alpha=255):
    rgba = np.zeros((doc.height(), doc.width(), 4), np.uint8)
    rgba[:] = (*colour, alpha)
    return rgba


# ---- picking layers


@pytest.mark.parametrize("line_name,hint_name", [
    ("Lines", "Hints"), ("line art", "colour hints"), ("Ink", "Color"), ("LineArt 2", "hint"),
    ("outline", "Colours"),
])
def test_layers_are_picked_by_name(make_doc, line_name, hint_name):
    doc = make_doc()
    line = add_layer(doc, line_name, line_art(96, 64))
    hint = add_layer(doc, hint_name, hint_spot(96, 64, RED))
    add_layer(doc, "Sketch")
    picked_line, picked_hint = pick_layers(doc)
    assert node_id(picked_line) == node_id(line)
    assert node_id(picked_hint) == node_id(hint)


def test_without_names_line_art_is_the_active_layer_and_there_are_no_hints(make_doc):
    doc = make_doc()
    add_layer(doc, "Paint 1", line_art(96, 64))
    # kritarunner has no views, so no layer is active: nothing to colour, and the message says what to do
    with pytest.raises(DocumentError, match="name a layer 'lines'"):
        pick_layers(doc)
    assert auto_hint_layer(doc, None) is None


def test_explicit_picks_and_no_hints(make_doc):
    doc = make_doc()
    lines, hints = lines_and_hints(doc)
    other = add_layer(doc, "Paint 2", hint_spot(96, 64, BLUE))
    line, hint = pick_layers(doc, node_id(hints), node_id(other))
    assert (line.name(), hint.name()) == ("Hints", "Paint 2")
    line, hint = pick_layers(doc, AUTO, NO_HINTS)
    assert node_id(line) == node_id(lines) and hint is None
    with pytest.raises(DocumentError, match="same layer"):
        pick_layers(doc, node_id(lines), node_id(lines))
    lines.remove()
    with pytest.raises(DocumentError, match="gone"):
        pick_layers(doc, node_id(lines), AUTO)


def test_an_empty_layer_named_like_line_art_gives_way_to_the_next_one(make_doc):
    doc = make_doc()
    lines = add_layer(doc, "Lines", line_art(96, 64))
    add_layer(doc, "Lines")  # on top, nothing drawn on it
    assert node_id(pick_layers(doc)[0]) == node_id(lines)
    assert auto_pick_names(doc) == ("Lines", None, None)


def test_results_are_never_picked_and_not_listed(make_doc):
    doc = make_doc()
    lines, hints = lines_and_hints(doc)
    add_result(doc, lines, solid(doc, GREEN), result_name("test-model"))
    names = [choice.name for choice in layer_choices(doc)]
    assert names == ["Hints", "Lines", "Background"]
    assert auto_line_layer(doc).name() == "Lines"


def test_layers_inside_groups_are_found_and_listed_with_depth(make_doc):
    doc = make_doc()
    group = add_layer(doc, "Character", kind="grouplayer")
    add_layer(doc, "Ink", line_art(96, 64), parent=group)
    line, hint = pick_layers(doc)
    assert line.name() == "Ink" and hint is None
    listed = [(choice.name, choice.depth) for choice in layer_choices(doc)]
    assert listed == [("Character", 0), ("Ink", 1), ("Background", 0)]


# ---- reading


def test_empty_or_off_canvas_line_art_is_refused(make_doc):
    doc = make_doc()
    lines = add_layer(doc, "Lines")
    with pytest.raises(DocumentError, match="'Lines' is empty"):
        read_inputs(doc, lines, None)
    lines.setPixelData(bytes([0, 0, 0, 255]) * 4, 500, 500, 2, 2)  # only outside the canvas
    with pytest.raises(DocumentError, match="is empty"):
        read_inputs(doc, lines, None)


def test_a_plain_colour_layer_is_refused_as_line_art(make_doc):
    doc = make_doc()
    background = doc.rootNode().childNodes()[0]  # Krita's white Background, in any language
    with pytest.raises(DocumentError, match="'Background' is one plain colour, no line art: name the "
                       "line-art layer 'lines'"):
        read_inputs(doc, background, None)


def test_an_empty_hint_layer_means_no_hints(make_doc):
    doc = make_doc()
    lines = add_layer(doc, "Lines", line_art(96, 64))
    hints = add_layer(doc, "Hints")
    assert read_inputs(doc, lines, hints).hint_rgba is None


def test_layer_offsets_are_read_in_canvas_coordinates(make_doc):
    doc = make_doc()
    lines = add_layer(doc, "Lines", line_art(96, 64))
    hints = add_layer(doc, "Hints", hint_spot(96, 64, RED, where=(0.3, 0.5)))
    hints.move(20, 10)
    doc.waitForDone()
    inputs = read_inputs(doc, lines, hints)
    assert inputs.hint_rgba.shape == (64, 96, 4)
    assert tuple(inputs.hint_rgba[32 + 10, 28 + 20]) == (*RED, 255)
    assert inputs.hint_rgba[32, 28, 3] == 0


def test_hidden_layers_and_groups_are_read_by_their_projection(make_doc):
    doc = make_doc()
    group = add_layer(doc, "Line group", kind="grouplayer")
    add_layer(doc, "part 1", line_art(96, 64), parent=group)
    add_layer(doc, "part 2", hint_spot(96, 64, BLUE), parent=group)
    hints = add_layer(doc, "Hints", hint_spot(96, 64, RED, where=(0.7, 0.5)))
    hints.setVisible(False)
    doc.refreshProjection()
    doc.waitForDone()
    inputs = read_inputs(doc, group, hints)
    assert tuple(inputs.line_rgba[32, 28]) == (*BLUE, 255), "the group's composite"
    assert tuple(inputs.line_rgba[int(0.2 * 64), 20][:3]) == (20, 20, 20)
    assert tuple(inputs.hint_rgba[32, int(0.7 * 96)]) == (*RED, 255), "hidden hints still count"


# ---- results: placement, replacing, previews


def test_result_goes_right_under_the_line_art_in_the_documents_colour_space(make_doc):
    doc = make_doc(model="RGBA", depth="U16")
    lines, hints = lines_and_hints(doc)
    before = (raw(lines, doc), raw(hints, doc))
    node = add_result(doc, lines, solid(doc, GREEN), result_name("test-model"))
    assert stack(doc.rootNode()) == ["Background", node.name(), "Lines", "Hints"]
    assert node.name().startswith(f"{RESULT_PREFIX} · test-model · ")
    assert (node.colorModel(), node.colorDepth()) == ("RGBA", "U16")
    assert node.blendingMode() == "normal"
    assert np.abs(pixels(node, doc)[:, :, :3].astype(int) - GREEN).max() <= 1
    assert (raw(lines, doc), raw(hints, doc)) == before, "user layers are never written"


def test_recolouring_replaces_the_result_in_place(make_doc):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    first = add_result(doc, lines, solid(doc, GREEN), "Deepcolor · m · 10:00")
    second = add_result(doc, lines, solid(doc, BLUE), "Deepcolor · m · 10:01")
    assert stack(doc.rootNode()) == ["Background", "Deepcolor · m · 10:01", "Lines", "Hints"]
    assert first.parentNode() is None
    assert Registry(doc).layers_for(lines) and node_id(Registry(doc).layers_for(lines)[0]) == node_id(second)


def test_renamed_results_belong_to_the_user_and_stay(make_doc):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    first = add_result(doc, lines, solid(doc, GREEN), result_name("m"))
    first.setName("my favourite colouring")
    add_result(doc, lines, solid(doc, BLUE), result_name("m"))
    assert "my favourite colouring" in stack(doc.rootNode())
    assert len(stack(doc.rootNode())) == 5


def test_results_of_other_line_layers_are_kept(make_doc):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    other = add_layer(doc, "Ink 2", line_art(96, 64))
    mine = add_result(doc, lines, solid(doc, GREEN), "Deepcolor · a")
    add_result(doc, other, solid(doc, BLUE), "Deepcolor · b")
    add_result(doc, other, solid(doc, RED), "Deepcolor · c")
    names = stack(doc.rootNode())
    assert mine.name() in names and "Deepcolor · c" in names and "Deepcolor · b" not in names


def test_lowest_line_art_gets_a_result_behind_it_in_the_same_group(make_doc):
    doc = make_doc()
    group = add_layer(doc, "Character", kind="grouplayer")
    lines = add_layer(doc, "Lines", line_art(96, 64), parent=group)
    add_layer(doc, "Hints", hint_spot(96, 64, RED), parent=group)
    first = add_result(doc, lines, solid(doc, GREEN), "Deepcolor · 1")
    assert stack(group) == ["Lines", "Deepcolor · 1", "Hints"]
    assert first.blendingMode() == BEHIND
    doc.refreshProjection()
    doc.waitForDone()
    composite = pixels(group, doc)
    assert tuple(composite[int(0.2 * 64), 20][:3]) == (20, 20, 20), "line art stays on top"
    assert tuple(composite[2, 2][:3]) == GREEN, "colours show under it"
    second = add_result(doc, lines, solid(doc, BLUE), "Deepcolor · 2")
    assert stack(group) == ["Lines", "Deepcolor · 2", "Hints"] and second.blendingMode() == BEHIND


def test_a_result_left_lowest_is_replaced_from_behind(make_doc):
    doc = make_doc()
    lines = add_layer(doc, "Lines", line_art(96, 64))
    add_result(doc, lines, solid(doc, GREEN), "Deepcolor · 1")
    doc.rootNode().childNodes()[0].remove()  # the Background: the old result is now the lowest layer
    assert stack(doc.rootNode()) == ["Deepcolor · 1", "Lines"]
    second = add_result(doc, lines, solid(doc, BLUE), "Deepcolor · 2")
    assert stack(doc.rootNode()) == ["Lines", "Deepcolor · 2"] and second.blendingMode() == BEHIND


def test_previews_are_repainted_in_place_and_replaced_by_a_result(make_doc):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    first = update_preview(doc, lines, solid(doc, GREEN), result_name("m", PREVIEW))
    again = update_preview(doc, lines, solid(doc, BLUE), result_name("m", PREVIEW))
    assert node_id(first) == node_id(again)
    assert tuple(pixels(again, doc)[5, 5][:3]) == BLUE
    assert stack(doc.rootNode()) == ["Background", "Deepcolor preview · m", "Lines", "Hints"]
    add_result(doc, lines, solid(doc, RED), "Deepcolor · m · 12:00")
    assert stack(doc.rootNode()) == ["Background", "Deepcolor · m · 12:00", "Lines", "Hints"]


def test_a_result_does_not_remove_the_preview_of_another_result(make_doc):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    add_result(doc, lines, solid(doc, RED), "Deepcolor · m · 12:00")
    update_preview(doc, lines, solid(doc, GREEN), result_name("m", PREVIEW))
    assert stack(doc.rootNode()) == ["Background", "Deepcolor · m · 12:00", "Deepcolor preview · m",
                                     "Lines", "Hints"]


def test_result_bookkeeping_survives_saving(make_doc, tmp_path):
    doc = make_doc()
    lines, _ = lines_and_hints(doc)
    add_result(doc, lines, solid(doc, GREEN), "Deepcolor · 1")
    reopened = saved_and_reopened(doc, str(tmp_path / "saved.kra"))
    try:
        reopened.setBatchmode(True)
        line = auto_line_layer(reopened)
        add_result(reopened, line, solid(reopened, BLUE), "Deepcolor · 2")
        assert stack(reopened.rootNode()) == ["Background", "Deepcolor · 2", "Lines", "Hints"]
    finally:
        reopened.close()

"""The plugin as the illustrator meets it: menu actions, shortcuts, Colorize, re-colour, undo."""

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
from krita import Krita, Selection

import krita_deepcolor
from krita_deepcolor.document import node_id
from krita_deepcolor.extension import ACTION_TEXTS, COLORIZE, COLORIZE_ALL, LIVE_PREVIEW
from krita_deepcolor.registry import PREVIEW, RESULT, Registry
from tests.krita.helpers import (
    BLUE,
    RED,
    add_layer,
    close,
    composite,
    hint_point,
    hint_spot,
    line_art,
    lines_and_hints,
    make_active,
    paint_band,
    saved_and_reopened,
    stack,
    trigger,
    wait_until,
    wait_until_idle,
)

ACTION_FILE = Path(krita_deepcolor.__file__).parent / "krita_deepcolor.action"


def active_name(doc) -> str | None:
    node = doc.activeNode()
    return node.name() if node is not None else None


def declared_shortcuts() -> dict[str, str]:
    root = ElementTree.parse(ACTION_FILE).getroot()
    return {action.get("name"): action.findtext("shortcut") for action in root.iter("Action")}


def test_actions_are_in_tools_scripts_with_their_default_shortcuts(window):
    shortcuts = declared_shortcuts()
    assert set(shortcuts) == set(ACTION_TEXTS)
    for name, shortcut in shortcuts.items():
        action = Krita.instance().action(name)
        assert action is not None, name
        assert action.shortcut().toString() == shortcut, name
        others = [other.objectName() for other in Krita.instance().actions()
                  if other.objectName() != name and other.shortcut().toString() == shortcut]
        assert not others, f"{shortcut} is also used by {others}"
    assert Krita.instance().action(LIVE_PREVIEW).isCheckable()
    menu_bar = window.qwindow().menuBar()
    tools = next(action.menu() for action in menu_bar.actions() if action.text().replace("&", "") == "Tools")
    scripts = next(action.menu() for action in tools.actions() if action.text().replace("&", "") == "Scripts")
    texts = {action.text() for action in scripts.actions()}
    assert set(ACTION_TEXTS.values()) <= texts


def test_colorize_recolour_and_one_undo_brings_back_the_previous_colouring(open_doc, colorizer):
    doc = open_doc(96, 64, name="undo")
    lines, hints = lines_and_hints(doc, colour=RED)
    make_active(doc, hints)
    hints.setVisible(False)  # hidden hints still count, and the colouring shows in the composite
    spot = hint_point(96, 64)
    points = [spot, (30, 2), (30, 70)]  # the left box, the paper outside, the right box
    background = doc.rootNode().childNodes()[0]

    def stack_is(*layers) -> bool:  # by id: both results have the same name within a minute
        return [node_id(node) for node in doc.rootNode().childNodes()] == [node_id(node) for node in layers]

    trigger(COLORIZE)
    wait_until(lambda: not colorizer.busy and Registry(doc).layers_for(lines), 30, "the first colouring")
    first = Registry(doc).layers_for(lines)[0]
    assert stack_is(background, first, lines, hints)
    wait_until(lambda: composite(doc, *spot)[:3] == RED, 10, "red in the image")
    before = [composite(doc, *point) for point in points]
    wait_until(lambda: active_name(doc) == "Hints", 5, "the layer the artist paints on to stay active")

    paint_band(hints)
    trigger(COLORIZE)
    wait_until(lambda: not colorizer.busy, 30, "the second colouring")
    second = Registry(doc).layers_for(lines)[0]
    assert stack_is(background, second, lines, hints)
    wait_until(lambda: composite(doc, *spot)[:3] == BLUE, 10, "blue in the image")
    wait_until(lambda: active_name(doc) == "Hints", 5, "the hint layer to stay active")

    trigger("edit_undo")  # one undo: the previous colouring and the previous stack, exactly
    wait_until(lambda: stack_is(background, first, lines, hints), 10, "one undo for the previous stack")
    wait_until_idle(doc)
    assert [composite(doc, *point) for point in points] == before

    trigger("edit_redo")  # one redo: the second colouring again
    wait_until(lambda: stack_is(background, second, lines, hints), 10, "one redo for the second colouring")
    wait_until(lambda: composite(doc, *spot)[:3] == BLUE, 10, "blue again")

    trigger("edit_undo")
    wait_until(lambda: stack_is(background, first, lines, hints), 10, "the undo")
    trigger("edit_undo")  # the first colouring goes too: the stack as the artist made it
    wait_until(lambda: stack_is(background, lines, hints), 10, "two undos")


def ids(doc) -> list[str]:
    """The layers' ids, bottom to top (not the selection mask Krita adds for a selection)."""
    return [node_id(node) for node in doc.rootNode().childNodes() if node.type() != "selectionmask"]


def colour_and_wait(colorizer, what: str) -> None:
    trigger(COLORIZE)
    wait_until(lambda: not colorizer.busy, 30, what)
    assert colorizer.status.startswith("Added"), colorizer.status


def test_one_undo_brings_back_the_preview_a_result_replaced_and_a_selections_previous_colouring(
        open_doc, colorizer):
    doc = open_doc(96, 64, name="preview and selection")
    lines, hints = lines_and_hints(doc, colour=RED)
    make_active(doc, hints)
    colorizer.update_settings(live_preview=True)
    wait_until(lambda: Registry(doc).layers_for(lines, (PREVIEW,)) and not colorizer.busy, 20, "a preview")
    colorizer.update_settings(live_preview=False)
    with_preview = ids(doc)
    colour_and_wait(colorizer, "the colouring that replaces the preview")
    coloured = ids(doc)
    assert len(coloured) == 4 and not Registry(doc).layers_for(lines, (PREVIEW,))
    trigger("edit_undo")
    wait_until(lambda: ids(doc) == with_preview, 10, "one undo for the preview back")
    trigger("edit_redo")
    wait_until(lambda: ids(doc) == coloured, 10, "one redo for the colouring back")

    spot = hint_point(96, 64)
    hints.setVisible(False)  # hidden hints still count, and the colouring shows in the composite
    wait_until(lambda: composite(doc, *spot)[:3] == RED, 10, "red in the image")
    selection = Selection()
    selection.select(0, 0, 48, 64, 255)  # the left box
    doc.setSelection(selection)
    paint_band(hints)
    colour_and_wait(colorizer, "the selection's colouring")
    assert "Coloured only the selection" in colorizer.status, colorizer.status
    assert len(ids(doc)) == 4 and ids(doc) != coloured
    wait_until(lambda: composite(doc, *spot)[:3] == BLUE, 10, "blue in the selection")
    trigger("edit_undo")
    wait_until(lambda: ids(doc) == coloured, 10, "one undo for the colouring before the selection's")
    wait_until_idle(doc)
    assert composite(doc, *spot)[:3] == RED
    doc.setSelection(Selection())


def test_one_undo_after_a_recolour_of_a_reopened_kra(window, open_doc, colorizer, tmp_path):
    made = open_doc(96, 64, name="saved")
    lines_and_hints(made, colour=RED)
    colour_and_wait(colorizer, "the colouring before saving")
    doc = saved_and_reopened(made, str(tmp_path / "saved.kra"))
    try:
        window.addView(doc)
        wait_until(lambda: Krita.instance().activeDocument() == doc, 10, "the reopened document's view")
        lines = next(node for node in doc.rootNode().childNodes() if node.name() == "Lines")
        hints = next(node for node in doc.rootNode().childNodes() if node.name() == "Hints")
        (saved_result,) = Registry(doc).layers_for(lines, (RESULT,))  # the record came back with the file
        before = ids(doc)
        make_active(doc, hints)
        paint_band(hints)
        colour_and_wait(colorizer, "the re-colouring of the reopened file")
        assert len(ids(doc)) == len(before) and node_id(saved_result) not in ids(doc)  # replaced
        trigger("edit_undo")
        wait_until(lambda: ids(doc) == before, 10, "one undo for the saved colouring")
    finally:
        close(doc)


def test_a_result_painted_on_by_hand_is_kept_beside_the_new_one(open_doc, colorizer):
    doc = open_doc(96, 64, name="painted")
    lines, hints = lines_and_hints(doc, colour=RED)
    trigger(COLORIZE)
    wait_until(lambda: not colorizer.busy and Registry(doc).layers_for(lines), 30, "the first colouring")
    first = Registry(doc).layers_for(lines)[0]
    first.setPixelData(bytes([0, 255, 0, 255]) * 16, 2, 2, 4, 4)  # the artist's own touch-up
    kept = f"{first.name()} · painted"
    wait_until_idle(doc)
    trigger(COLORIZE)
    wait_until(lambda: not colorizer.busy, 30, "the second colouring")
    second = Registry(doc).layers_for(lines)[0]
    assert first.parentNode() is not None and first.name() == kept
    assert stack(doc.rootNode()) == ["Background", kept, second.name(), "Lines", "Hints"]
    assert f"kept as '{kept}'" in colorizer.status
    trigger(COLORIZE)  # a result nobody painted on is replaced as before, the painted one stays
    wait_until(lambda: not colorizer.busy, 30, "the third colouring")
    third = Registry(doc).layers_for(lines)[0]
    assert stack(doc.rootNode()) == ["Background", kept, third.name(), "Lines", "Hints"]


def test_colorize_uses_the_active_layer_when_no_layer_is_named_like_line_art(open_doc, colorizer):
    doc = open_doc(96, 64, name="active")
    paint = add_layer(doc, "Paint Layer 2", line_art(96, 64))
    add_layer(doc, "Hints", hint_spot(96, 64, RED))
    make_active(doc, paint)
    trigger(COLORIZE)
    wait_until(lambda: not colorizer.busy, 30)
    assert colorizer.status.startswith("Added 'Deepcolor · passthrough · ") and "under 'Paint Layer 2'" in \
        colorizer.status
    assert stack(doc.rootNode())[1].startswith("Deepcolor")


def test_colorize_all_action_shows_a_summary_in_the_docker(open_doc, colorizer, docker):
    good = open_doc(96, 64, name="first")
    lines_and_hints(good)
    skipped = open_doc(96, 64, name="no lines")
    add_layer(skipped, "lines")  # named right but empty
    other = open_doc(64, 64, name="second", model="RGBA", depth="U16")
    lines_and_hints(other)

    trigger(COLORIZE_ALL)
    wait_until(lambda: colorizer.summary, 60, "the batch summary")

    assert colorizer.status == "Coloured 2 of 3 open documents."
    assert docker.panel.status.text() == "Coloured 2 of 3 open documents."
    assert docker.panel.summary.text() == ("Skipped 'no lines': the line-art layer 'lines' is empty: "
                                           "draw on it or pick another layer")
    assert docker.panel.summary.isVisible()
    assert stack(good.rootNode())[1].startswith("Deepcolor") and stack(other.rootNode())[1].startswith(
        "Deepcolor")


def test_the_active_hint_layer_is_never_taken_as_line_art(open_doc, colorizer):
    doc = open_doc(96, 64, name="hints active")
    add_layer(doc, "Paint Layer 1", line_art(96, 64))
    hints = add_layer(doc, "Hints", hint_spot(96, 64, RED))
    make_active(doc, hints)  # as right after painting the hints
    trigger(COLORIZE)
    assert colorizer.status == ("'hints active' has no line-art layer: name a layer 'lines' or pick one in "
                                "the Deepcolor docker (the active layer 'Hints' is the hint layer)")
    assert not colorizer.busy and stack(doc.rootNode()) == ["Background", "Paint Layer 1", "Hints"]


def test_colorize_all_skips_documents_whose_active_layer_is_no_line_art(open_doc, colorizer):
    def document(name, active_name, *layers):
        doc = open_doc(96, 64, name=name)
        for layer_name, rgba in layers:
            add_layer(doc, layer_name, rgba)
        # Krita's layer model makes the newest layer active once it learns of it, which may be
        # after make_active returned: let that happen first, then choose the active layer.
        newest = layers[-1][0]
        wait_until(lambda: doc.activeNode() is not None and doc.activeNode().name() == newest, 10,
                   f"Krita to activate the new layer '{newest}'")
        make_active(doc, next(node for node in doc.rootNode().childNodes() if node.name() == active_name))
        return doc

    white = np.full((64, 96, 4), 255, np.uint8)
    document("background", "Background", ("Paint 1", line_art(96, 64)))
    document("sketch", "Hints", ("Sketch", line_art(96, 64)), ("Hints", hint_spot(96, 64, RED)))
    document("empty", "Paint 2", ("Sketch", line_art(96, 64)), ("Paint 2", None))
    document("paper", "Papier", ("Sketch", line_art(96, 64)), ("Papier", white))
    good = document("good", "Ink", ("Ink", line_art(96, 64)), ("Hints", hint_spot(96, 64, RED)))

    trigger(COLORIZE_ALL)
    wait_until(lambda: colorizer.summary, 60, "the batch summary")

    advice = "has no line-art layer: name a layer 'lines' or pick one in the Deepcolor docker"
    assert colorizer.summary.splitlines() == [
        "Coloured 1 of 5 open documents.",
        f"Skipped 'background': 'background' {advice} (the active layer 'Background' is the background)",
        f"Skipped 'sketch': 'sketch' {advice} (the active layer 'Hints' is the hint layer)",
        f"Skipped 'empty': 'empty' {advice} (the active layer 'Paint 2' has nothing drawn on it)",
        "Skipped 'paper': the line-art layer 'Papier' is one plain colour, no line art: name the line-art "
        "layer 'lines' or pick it in the Deepcolor docker",
    ]
    assert stack(good.rootNode())[1].startswith("Deepcolor")

"""The flatting options in the docker of the running app: the controls, what the docker says about
the selection, one layer per colour shown at once and replaced in one undo step."""

import numpy as np
from krita import Krita, Selection

from krita_deepcolor.registry import Registry
from krita_deepcolor.settings import GROUP, Settings
from tests.krita.helpers import (
    BLUE,
    GREEN,
    RED,
    add_layer,
    composite,
    hint_point,
    hint_spot,
    line_art,
    make_active,
    stack,
    trigger,
    wait_until,
    wait_until_idle,
)

from .test_docker import choose

RIGHT = (0.7, 0.5)


def test_the_docker_shows_the_flatting_controls_and_remembers_them(open_doc, docker, colorizer):
    panel = docker.panel
    doc = open_doc(96, 64, name="controls")
    add_layer(doc, "Lines", line_art(96, 64))
    add_layer(doc, "Keep clear", hint_spot(96, 64, RED, RIGHT))
    panel.refresh_layers()
    assert [panel.clear_combo.itemText(i) for i in range(2)] == ["Automatic (Keep clear)", "None"]
    assert panel.gaps_spin.text() == "Auto"
    palettes = [panel.palette_combo.itemText(i) for i in range(panel.palette_combo.count())]
    assert palettes[0] == "None" and "Default" in palettes
    assert panel.output_combo.findData("split") >= 0

    panel.gaps_spin.setValue(6)
    choose(panel.palette_combo, "Default")
    choose(panel.output_combo, "split")
    app = Krita.instance()
    assert [app.readSetting(GROUP, key, "") for key in ("close_gaps", "palette")] == ["6", "Default"]
    loaded = Settings.load()
    assert (loaded.close_gaps, loaded.palette, loaded.output) == (6, "Default", "split")
    panel.gaps_spin.setValue(-1)
    assert panel.gaps_spin.text() == "Auto" and Settings.load().close_gaps == -1


def test_the_docker_says_whether_the_selection_or_the_canvas_is_coloured(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="selection")
    add_layer(doc, "Lines", line_art(96, 64))
    panel = docker.panel
    wait_until(lambda: panel.coverage.text().startswith("Colours the whole canvas"), 5, "the canvas text")
    selection = Selection()
    selection.select(10, 12, 30, 20, 255)
    doc.setSelection(selection)
    wait_until(lambda: "only the selection (30×20 px)" in panel.coverage.text(), 5,
               "the docker to notice the selection")
    doc.setSelection(Selection())  # deselect
    wait_until(lambda: panel.coverage.text().startswith("Colours the whole canvas"), 5, "the deselection")


def test_one_layer_per_colour_shows_at_once_and_one_undo_brings_the_previous_colouring_back(
        open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="split undo")
    lines = add_layer(doc, "Lines", line_art(96, 64))
    hints = add_layer(doc, "Hints", hint_spot(96, 64, RED) + hint_spot(96, 64, BLUE, RIGHT))
    panel = docker.panel
    panel.refresh_layers()
    panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 30, "the first colouring")
    left, right = hint_point(96, 64), hint_point(96, 64, RIGHT)
    hints.setVisible(False)
    wait_until(lambda: composite(doc, *left)[:3] == RED, 10, "the single layer to show")

    choose(panel.output_combo, "split")
    hints.setPixelData(bytes([*GREEN[::-1], 255]) * (96 * 64), 0, 0, 96, 64)  # all green now...
    hints.setPixelData(bytes(4 * 96 * 24), 0, 0, 96, 24)  # ...but the top (keeps it a hint layer)
    make_active(doc, lines)
    panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 30, "the split colouring")
    assert "colour layer" in colorizer.status, colorizer.status
    group = Registry(doc).layers_for(lines)[0]
    assert group.type() == "grouplayer" and [layer.name() for layer in group.childNodes()] == ["#28b43c"]
    wait_until(lambda: composite(doc, *left)[:3] == GREEN and composite(doc, *right)[:3] == GREEN, 10,
               "the group to show without any refresh")

    before = stack(doc.rootNode())
    trigger("edit_undo")
    wait_until(lambda: group.parentNode() is None, 10, "one undo to take the group away")
    wait_until_idle(doc)
    results = Registry(doc).layers_for(lines)
    assert len(results) == 1 and results[0].type() == "paintlayer"
    assert stack(doc.rootNode()) == before[:1] + [results[0].name()] + before[2:]
    wait_until(lambda: composite(doc, *right)[:3] == BLUE, 10, "one undo to show the previous colouring")


def test_auto_gaps_shows_its_choice_beside_the_control(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="gaps")
    add_layer(doc, "Lines", line_art(96, 64))
    add_layer(doc, "Hints", hint_spot(96, 64, RED))
    panel = docker.panel
    panel.refresh_layers()
    panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 30, "the colouring")
    assert panel.gaps_label.text() == f"last run: {colorizer.auto_gap} px"
    assert f"Auto closed gaps up to {colorizer.auto_gap} px." in panel.status.text()
    panel.gaps_spin.setValue(3)
    assert panel.gaps_label.text() == ""
    assert np.isscalar(colorizer.auto_gap)

"""The Deepcolor docker: its widgets drive the colouring, settings are remembered, long runs can
be cancelled or outlived by their document, and the live preview follows the hints."""

import sys

from krita import Krita
from PyQt5.QtCore import QEvent, QPointF, Qt
from PyQt5.QtGui import QMouseEvent
from PyQt5.QtWidgets import QApplication

from krita_deepcolor.engine import catalog
from krita_deepcolor.preview import PREVIEW_QUIET_S
from krita_deepcolor.registry import PREVIEW, Registry
from krita_deepcolor.settings import GROUP, Settings
from krita_deepcolor.ui.docker import DeepcolorDocker
from tests.krita.helpers import (
    BLUE,
    GREEN,
    MODELS_DIR,
    RED,
    add_layer,
    close,
    hint_point,
    hint_spot,
    lines_and_hints,
    make_active,
    paint_band,
    pixels,
    settle,
    stack,
    trigger,
    wait_until,
)


def choose(combo, data) -> None:
    """Pick an entry as a user would: select it and emit ``activated``."""
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not among {[combo.itemData(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_docker_shows_every_control(docker, colorizer):
    panel = docker.panel
    assert docker.windowTitle() == "Deepcolor"
    devices = [panel.device_combo.itemText(i) for i in range(panel.device_combo.count())]
    assert devices == ["Auto", "CUDA", "CPU"]
    assert [panel.resolution_combo.itemData(i) for i in range(panel.resolution_combo.count())] == [
        "fast", "balanced", "full"]
    assert panel.output_combo.count() >= 2
    models = [panel.model_combo.itemData(i) for i in range(panel.model_combo.count())]
    assert models == ["passthrough", "slow"]
    assert panel.colorize_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_choices_are_saved_in_kritas_settings(docker, colorizer):
    panel = docker.panel
    choose(panel.device_combo, "cpu")
    choose(panel.resolution_combo, "fast")
    choose(panel.output_combo, "with_lines")
    choose(panel.model_combo, "slow")
    panel.strength_slider.setValue(150)
    app = Krita.instance()
    assert app.readSetting(GROUP, "device", "") == "cpu"
    assert app.readSetting(GROUP, "resolution", "") == "fast"
    assert app.readSetting(GROUP, "output", "") == "with_lines"
    assert app.readSetting(GROUP, "model", "") == "slow"
    assert app.readSetting(GROUP, "hint_strength", "") == "150"
    loaded = Settings.load()
    assert (loaded.device, loaded.resolution, loaded.output, loaded.model, loaded.hint_strength) == (
        "cpu", "fast", "with_lines", "slow", 150)
    assert panel.strength_label.text() == "150 %"


def test_pickers_list_the_layers_and_an_explicit_pick_is_used(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="pickers")
    lines, hints = lines_and_hints(doc, colour=RED)
    other = add_layer(doc, "Paint 3", hint_spot(96, 64, GREEN))
    panel = docker.panel
    panel.refresh_layers()
    listed = [panel.hint_combo.itemText(i) for i in range(panel.hint_combo.count())]
    assert listed == ["Automatic (Hints)", "None", "Paint 3", "Hints", "Lines", "Background"]
    assert panel.line_combo.itemText(0) == "Automatic (Lines)"
    choose(panel.hint_combo, other.uniqueId().toString())

    panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 30)

    assert panel.status.text().startswith("Added 'Deepcolor · passthrough"), panel.status.text()
    result = Registry(doc).layers_for(lines)[0]
    assert tuple(pixels(result, doc)[hint_point(96, 64)][:3]) == GREEN
    assert panel.provider_label.text() == "running on CPU"


def test_cancel_button_stops_a_long_run_and_a_second_click_is_refused(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="long")
    lines_and_hints(doc)
    panel = docker.panel
    choose(panel.model_combo, "slow")

    panel.colorize_button.click()
    wait_until(lambda: "running slow" in colorizer.status, 30, "the slow network to start")
    assert not panel.colorize_button.isEnabled() and panel.cancel_button.isEnabled()
    assert panel.progress.isVisible()
    colorizer.colorize()  # the shortcut still works while the button is disabled: refused politely
    assert panel.status.text() == "Still colouring 'long': wait for it to finish or press Cancel."

    panel.cancel_button.click()
    wait_until(lambda: not colorizer.busy, 10, "the cancel")
    assert panel.status.text() == "Cancelled: nothing was added."
    assert stack(doc.rootNode()) == ["Background", "Lines", "Hints"]
    assert panel.colorize_button.isEnabled() and not panel.progress.isVisible()


def test_closing_the_document_mid_run_leaves_no_error(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="closing")
    lines_and_hints(doc)
    choose(docker.panel.model_combo, "slow")
    docker.panel.colorize_button.click()
    wait_until(lambda: "running slow" in colorizer.status, 30, "the slow network to start")
    close(doc)
    wait_until(lambda: not colorizer.busy, 10, "the job to end")
    assert docker.panel.status.text() == "'closing' was closed while colouring: nothing was added."
    assert all(d.name() != "closing" for d in Krita.instance().documents())


def test_live_preview_follows_the_hints_in_one_preview_layer(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="preview")
    lines, hints = lines_and_hints(doc, colour=RED)
    spot = hint_point(96, 64)
    docker.panel.live_preview.setChecked(True)
    assert Krita.instance().action("krita_deepcolor_live_preview").isChecked()

    wait_until(lambda: Registry(doc).layers_for(lines), 20, "the first preview")
    preview = Registry(doc).layers_for(lines)[0]
    assert preview.name() == "Deepcolor preview · passthrough"
    assert tuple(pixels(preview, doc)[spot][:3]) == RED

    paint_band(hints)
    wait_until(lambda: tuple(pixels(preview, doc)[spot][:3]) == BLUE, 20, "the preview to follow the hints")
    assert stack(doc.rootNode()) == ["Background", preview.name(), "Lines", "Hints"]

    settle(2.0)  # nothing changes any more: no further runs
    assert colorizer.status.startswith("Preview updated") and not colorizer.busy
    docker.panel.live_preview.setChecked(False)
    assert not Krita.instance().action("krita_deepcolor_live_preview").isChecked()
    assert Krita.instance().readSetting("krita_deepcolor", "live_preview", "") == "False"

    docker.panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 30)
    final = Registry(doc).layers_for(lines)
    assert [layer.name().split(" · ")[0] for layer in final] == ["Deepcolor"], "a result replaces the preview"


MIRROR = "mirrorNodeX"  # Layer > Transform > Mirror Layer Horizontally: one undoable step on the hints


def test_one_undo_takes_the_preview_layer_with_the_artists_own_step_and_redo_keeps_all(
        open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="preview undo")
    lines, hints = lines_and_hints(doc, colour=RED)
    make_active(doc, hints)
    left, right = hint_point(96, 64), hint_point(96, 64, (0.7, 0.5))

    def hint_at(spot) -> bool:
        return tuple(pixels(hints, doc)[spot][:3]) == RED

    def previews() -> list:
        return Registry(doc).layers_for(lines, (PREVIEW,))

    def previewed_at(spot) -> bool:
        shown = previews()
        return bool(shown) and not colorizer.busy and tuple(pixels(shown[0], doc)[spot][:3]) == RED

    assert Krita.instance().action(MIRROR) is not None
    trigger(MIRROR)  # the artist's step: the stroke goes to the right box
    wait_until(lambda: hint_at(right), 10, "the first mirror")
    docker.panel.live_preview.setChecked(True)
    wait_until(lambda: previewed_at(right), 20, "the first preview, a layer of its own")
    trigger(MIRROR)  # the next step: back to the left box, the preview repainted in place
    wait_until(lambda: previewed_at(left), 20, "the preview to follow")

    trigger("edit_undo")  # the second mirror only
    wait_until(lambda: hint_at(right) and previewed_at(right), 20, "one undo, the preview kept")
    trigger("edit_undo")  # adding the preview's layer is no step of the artist's: the first mirror goes too
    wait_until(lambda: hint_at(left) and not previews(), 10, "one undo for the first mirror")
    settle(2.0)  # no preview layer comes back on its own: a new step would end what Redo can do
    assert not previews() and "paint a stroke" in colorizer.status, colorizer.status

    trigger("edit_redo")
    wait_until(lambda: hint_at(right), 10, "the first mirror back")
    trigger("edit_redo")
    wait_until(lambda: previews(), 10, "the preview's layer back")
    trigger("edit_redo")
    wait_until(lambda: hint_at(left) and previewed_at(left), 20, "the second mirror back, and its preview")
    docker.panel.live_preview.setChecked(False)


def test_a_released_pen_previews_at_once_without_the_quiet_wait(open_doc, docker, colorizer):
    doc = open_doc(96, 64, name="stroke end")
    lines, hints = lines_and_hints(doc, colour=RED)
    spot = hint_point(96, 64)
    assert not colorizer._stroke_ends.watching, "no filter on Krita's events while the preview is off"
    docker.panel.live_preview.setChecked(True)
    assert colorizer._stroke_ends.watching
    wait_until(lambda: Registry(doc).layers_for(lines), 20, "the first preview")
    preview = Registry(doc).layers_for(lines)[0]
    wait_until(lambda: not colorizer.busy, 20, "the first preview to end")
    colorizer._preview.quiet_s = 3600.0  # from now on only a stroke's end can start a preview
    try:
        paint_band(hints)
        release = QMouseEvent(QEvent.MouseButtonRelease, QPointF(5, 5), Qt.LeftButton, Qt.NoButton,
                              Qt.NoModifier)
        QApplication.sendEvent(docker.panel, release)  # the pen leaves the tablet
        wait_until(lambda: tuple(pixels(preview, doc)[spot][:3]) == BLUE, 20, "the preview after the release")
        assert len(Registry(doc).layers_for(lines)) == 1, "repainted in place"
    finally:
        colorizer._preview.quiet_s = PREVIEW_QUIET_S
        docker.panel.live_preview.setChecked(False)
    assert not colorizer._stroke_ends.watching


def test_without_onnxruntime_the_docker_loads_and_says_what_to_install(open_doc, colorizer, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # "import onnxruntime" now fails
    monkeypatch.setattr(catalog, "SHIPPED_DIRS", ())  # only the user's folder, which holds .onnx files
    colorizer.update_settings(models_dir=str(MODELS_DIR))  # the models are looked for again
    docker = DeepcolorDocker()  # what Krita's docker factory builds when a window opens
    try:
        panel = docker.panel
        assert panel is not None, "the docker shows its controls"
        labels = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
        assert labels == ["passthrough: unusable", "slow: unusable", "No model found"]
        assert panel.status.text().startswith(
            "the chosen model 'passthrough' cannot be used: "), panel.status.text()
        assert "onnxruntime is not installed" in panel.status.text()
        assert "python installer.py" in panel.status.text()
    finally:
        docker.deleteLater()
    doc = open_doc(96, 64, name="no onnxruntime")
    lines_and_hints(doc)
    assert not colorizer.colorize()
    assert "onnxruntime is not installed" in colorizer.status


def test_the_status_line_follows_the_active_document_and_its_undo(window, open_doc, docker, colorizer):
    panel = docker.panel
    first = open_doc(96, 64, name="status one")
    lines_and_hints(first)
    panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 30, "the colouring")
    added = colorizer.status
    assert added.startswith("Added 'Deepcolor"), added
    wait_until(lambda: panel.status.text() == added, 5, "the docker to show the result")

    open_doc(96, 64, name="status two")  # nothing done here yet
    wait_until(lambda: panel.status.text() == "Ready.", 5, "the status of the other document")
    view = next(view for view in window.views() if view.document() == first)
    view.setVisible()
    wait_until(lambda: Krita.instance().activeDocument() == first, 10, "the first document to be active")
    wait_until(lambda: panel.status.text() == added, 5, "the status of the first document again")

    trigger("edit_undo")  # the result is gone: the status line no longer describes it
    wait_until(lambda: not Registry(first).layers_for(first.rootNode().childNodes()[1]), 10, "the undo")
    wait_until(lambda: panel.status.text() == "Ready.", 5, "the status to forget the undone result")

"""The Deepcolor docker: widgets only. It shows the Colorizer's state and passes choices on."""

from __future__ import annotations

from krita import DockWidget

from ..qt import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from ..root import shared_colorizer
from ..settings import AUTO_GAPS, DEVICES, MAX_GAPS, OUTPUTS, RESOLUTIONS
from .setup import SetupPanel

COVERAGE_MS = 500  # how often the docker looks at the active document (selection, undo, switches)


class RefreshingComboBox(QComboBox):
    """A combo box that rebuilds its items right before its list opens."""

    def __init__(self, refresh, parent=None):
        super().__init__(parent)
        self._refresh = refresh

    def showPopup(self):
        self._refresh()
        super().showPopup()


def _select_data(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(index if index >= 0 else 0)


class DeepcolorPanel(QWidget):
    """The docker's controls: built (``_make_widgets``, ``_lay_out``), set from the settings
    (``_show_settings``), then bound to the Colorizer (``_bind``)."""

    def __init__(self, colorizer, parent=None):
        super().__init__(parent)
        self.colorizer = colorizer
        self._make_widgets()
        self._lay_out()
        self._show_settings(colorizer.settings)
        self._bind(colorizer)
        # Krita tells plugins nothing when the selection changes: look now and then, while shown
        self._coverage_timer = QTimer(self, interval=COVERAGE_MS)
        self._coverage_timer.timeout.connect(self.show_coverage)
        self.render()

    def _make_widgets(self) -> None:
        self.line_combo = RefreshingComboBox(self.refresh_layers)
        self.hint_combo = RefreshingComboBox(self.refresh_layers)
        self.clear_combo = RefreshingComboBox(self.refresh_layers)
        self.clear_combo.setToolTip("Strokes on this layer (any colour) mark regions that stay transparent")
        self.model_combo = RefreshingComboBox(self.refresh_models)
        self.model_refresh = QToolButton(text="↻", toolTip="Look for models again")
        self.model_folder = QToolButton(text="…", toolTip="Choose your model folder")
        self.device_combo = QComboBox()
        for key, label in DEVICES.items():
            self.device_combo.addItem(label, key)
        self.provider_label = QLabel()
        self.strength_slider = QSlider(Qt.Horizontal, minimum=0, maximum=200, singleStep=5, pageStep=25)
        self.strength_label = QLabel()
        self.resolution_combo = QComboBox()
        for key, (label, side) in RESOLUTIONS.items():
            self.resolution_combo.addItem(f"{label} ({side} px)", key)
        self.output_combo = QComboBox()
        for key, (label, _options) in OUTPUTS.items():
            self.output_combo.addItem(label, key)
        self.gaps_spin = QSpinBox(minimum=AUTO_GAPS, maximum=MAX_GAPS, suffix=" px", specialValueText="Auto")
        self.gaps_spin.setToolTip("Gaps in the lines up to this wide are closed before flooding; 0 closes "
                                  "none; Auto chooses from the line width")
        self.gaps_label = QLabel()
        self.palette_combo = RefreshingComboBox(self.refresh_palettes)
        self.palette_combo.setToolTip("Hint colours snap to the nearest colour of this Krita palette, so "
                                      "every page gets the same colours")
        self.coverage = QLabel(wordWrap=True)
        self.live_preview = QCheckBox("Live preview while painting hints")
        self.colorize_button = QPushButton("Colorize")
        self.colorize_all_button = QPushButton("Colorize all open documents")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar(minimum=0, maximum=100, textVisible=False)
        self.status = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        self.summary = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Line art", self.line_combo)
        form.addRow("Hints", self.hint_combo)
        form.addRow("Keep clear", self.clear_combo)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.model_refresh)
        model_row.addWidget(self.model_folder)
        form.addRow("Model", model_row)
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_combo)
        device_row.addWidget(self.provider_label, 1)
        form.addRow("Device", device_row)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength_slider, 1)
        strength_row.addWidget(self.strength_label)
        form.addRow("Hint strength", strength_row)
        form.addRow("Resolution", self.resolution_combo)
        form.addRow("Output", self.output_combo)
        gaps_row = QHBoxLayout()
        gaps_row.addWidget(self.gaps_spin)
        gaps_row.addWidget(self.gaps_label, 1)
        form.addRow("Close gaps", gaps_row)
        form.addRow("Palette", self.palette_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.colorize_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.live_preview)
        layout.addWidget(self.coverage)
        layout.addLayout(buttons)
        layout.addWidget(self.colorize_all_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def _show_settings(self, settings) -> None:
        _select_data(self.device_combo, settings.device)
        _select_data(self.resolution_combo, settings.resolution)
        _select_data(self.output_combo, settings.output)
        self.strength_slider.setValue(settings.hint_strength)
        self.gaps_spin.setValue(settings.close_gaps)
        self.live_preview.setChecked(settings.live_preview)
        self.refresh_layers()
        self.refresh_models()
        self.refresh_palettes()

    def _bind(self, colorizer) -> None:
        self.line_combo.activated.connect(self._picks_changed)
        self.hint_combo.activated.connect(self._picks_changed)
        self.clear_combo.activated.connect(self._picks_changed)
        self.gaps_spin.valueChanged.connect(lambda value: colorizer.update_settings(close_gaps=value))
        self.palette_combo.activated.connect(
            lambda: colorizer.update_settings(palette=self.palette_combo.currentData() or ""))
        self.model_combo.activated.connect(
            lambda: colorizer.update_settings(model=self.model_combo.currentData() or ""))
        self.model_refresh.clicked.connect(lambda: self.refresh_models(rescan=True))
        self.model_folder.clicked.connect(self._choose_folder)
        self.device_combo.activated.connect(
            lambda: colorizer.update_settings(device=self.device_combo.currentData()))
        self.strength_slider.valueChanged.connect(self._strength_changed)
        self.resolution_combo.activated.connect(
            lambda: colorizer.update_settings(resolution=self.resolution_combo.currentData()))
        self.output_combo.activated.connect(
            lambda: colorizer.update_settings(output=self.output_combo.currentData()))
        self.live_preview.toggled.connect(lambda checked: colorizer.update_settings(live_preview=checked))
        self.colorize_button.clicked.connect(lambda: colorizer.colorize())
        self.colorize_all_button.clicked.connect(colorizer.colorize_all)
        self.cancel_button.clicked.connect(colorizer.cancel)
        colorizer.changed.connect(self.render)

    def showEvent(self, event):
        self.show_coverage()
        self._coverage_timer.start()
        super().showEvent(event)

    def hideEvent(self, event):
        self._coverage_timer.stop()
        super().hideEvent(event)

    def show_coverage(self):
        """What Colorize will colour, and the status line: both follow the active document, its
        selection and its undo history, which Krita announces to no plugin."""
        self.coverage.setText(self.colorizer.coverage_text())
        self.status.setText(self.colorizer.status_line())

    # ---- from the colorizer to the widgets

    def render(self):
        colorizer = self.colorizer
        busy = colorizer.busy
        self.colorize_button.setEnabled(not busy)
        self.colorize_all_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setValue(colorizer.progress)
        self.progress.setVisible(busy)
        self.status.setText(colorizer.status_line())
        self.summary.setText("\n".join(colorizer.summary.splitlines()[1:]))
        self.summary.setVisible(bool(colorizer.summary.count("\n")))
        self.provider_label.setText(f"running on {colorizer.provider}" if colorizer.provider else "")
        self.strength_label.setText(f"{colorizer.settings.hint_strength} %")
        settings = colorizer.settings  # (changed elsewhere too: the actions, another window's docker)
        shown = ((self.device_combo, settings.device), (self.resolution_combo, settings.resolution),
                 (self.output_combo, settings.output), (self.palette_combo, settings.palette or None))
        for combo, value in shown:
            if combo.currentData() != value:
                _select_data(combo, value)
        if self.gaps_spin.value() != settings.close_gaps:
            self.gaps_spin.blockSignals(True)  # showing the setting is no change of it
            self.gaps_spin.setValue(settings.close_gaps)
            self.gaps_spin.blockSignals(False)
        auto = colorizer.settings.close_gaps == AUTO_GAPS and colorizer.auto_gap is not None
        self.gaps_label.setText(f"last run: {colorizer.auto_gap} px" if auto else "")
        if self.live_preview.isChecked() != colorizer.settings.live_preview:
            self.live_preview.setChecked(colorizer.settings.live_preview)

    def refresh_layers(self):
        combos = (self.line_combo, self.hint_combo, self.clear_combo)
        for combo, entries in zip(combos, self.colorizer.picker_entries(), strict=True):
            keep = combo.currentData()
            combo.clear()
            for label, data in entries:
                combo.addItem(label, data)
            _select_data(combo, keep)
        self._picks_changed()
        self.show_coverage()

    def refresh_palettes(self):
        combo = self.palette_combo
        combo.clear()
        combo.addItem("None", None)
        for name in self.colorizer.palette_names():
            combo.addItem(name, name)
        _select_data(combo, self.colorizer.settings.palette or None)

    def refresh_models(self, rescan: bool = False):
        combo = self.model_combo
        combo.clear()
        entries = self.colorizer.models(refresh=rescan)
        for entry in entries:
            label = entry.name + (" (default)" if entry.default else "")
            if entry.info is None:  # listed, so that a chosen model that broke shows as chosen
                combo.addItem(f"{label}: unusable", entry.name)
                combo.setItemData(combo.count() - 1, entry.problem, Qt.ToolTipRole)
                combo.model().item(combo.count() - 1).setEnabled(False)
                continue
            combo.addItem(label, entry.name)
            combo.setItemData(combo.count() - 1, f"{entry.info.description}\n{entry.path}", Qt.ToolTipRole)
        if not any(entry.info is not None for entry in entries):
            combo.addItem("No model found", None)
        _select_data(combo, self.colorizer.settings.model or None)
        combo.setToolTip(f"Your models folder: {self.colorizer.settings.user_models_dir()}")

    # ---- from the widgets to the colorizer

    def _picks_changed(self):
        self.colorizer.set_picks(self.line_combo.currentData(), self.hint_combo.currentData(),
                                 self.clear_combo.currentData())

    def _strength_changed(self, value: int):
        self.colorizer.update_settings(hint_strength=value)

    def _choose_folder(self):
        folder = QFileDialog.getExistingDirectory(self, "Folder with your Deepcolor models",
                                                  self.colorizer.settings.user_models_dir())
        if folder:
            self.colorizer.update_settings(models_dir=folder)
            self.refresh_models(rescan=True)


class DeepcolorDocker(DockWidget):
    """The Deepcolor panel, or while the plugin's dependencies are missing, the panel that installs
    them (``setup``), replaced by the Deepcolor panel once they import."""

    def __init__(self):
        super().__init__()
        self.setWindowTitle("Deepcolor")
        self.panel = self.setup = None
        self._start()

    def _start(self) -> None:
        colorizer, problem = shared_colorizer()
        if colorizer is None:
            self.setup = SetupPanel(problem)
            self.setup.ready.connect(self._start)
            self.setWidget(self.setup)
            return
        self.setup = None
        self.panel = DeepcolorPanel(colorizer)
        self.setWidget(self.panel)

    def canvasChanged(self, canvas):
        if self.panel is not None:
            self.panel.refresh_layers()

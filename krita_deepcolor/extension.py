"""Registration with Krita: the actions under Tools ▸ Scripts and the Deepcolor docker.

Menu texts and default shortcuts come from ``krita_deepcolor.action``. The Colorizer the
actions drive is the shared one in ``root.py``; nothing in the plugin imports this module.
"""

from __future__ import annotations

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from .log import log
from .root import existing_colorizer, shared_colorizer
from .ui.docker import DeepcolorDocker

DOCKER_ID = "krita_deepcolor_docker"
COLORIZE, COLORIZE_ALL, CANCEL, LIVE_PREVIEW = (
    "krita_deepcolor_colorize", "krita_deepcolor_colorize_all", "krita_deepcolor_cancel",
    "krita_deepcolor_live_preview")
ACTION_TEXTS = {
    COLORIZE: "Deepcolor: Colorize",
    COLORIZE_ALL: "Deepcolor: Colorize All Open Documents",
    CANCEL: "Deepcolor: Cancel",
    LIVE_PREVIEW: "Deepcolor: Live Preview",
}


class DeepcolorExtension(Extension):
    def setup(self):
        Krita.instance().notifier().applicationClosing.connect(self._closing)

    def createActions(self, window):
        handlers = {COLORIZE: self._colorize, COLORIZE_ALL: self._colorize_all, CANCEL: self._cancel}
        for name, handler in handlers.items():
            action = window.createAction(name, ACTION_TEXTS[name], "tools/scripts")
            action.triggered.connect(handler)
        preview = window.createAction(LIVE_PREVIEW, ACTION_TEXTS[LIVE_PREVIEW], "tools/scripts")
        preview.setCheckable(True)
        preview.toggled.connect(self._set_live_preview)
        colorizer, _ = shared_colorizer()
        if colorizer is not None:
            preview.setChecked(colorizer.settings.live_preview)
            colorizer.changed.connect(lambda: _sync_check(preview, colorizer.settings.live_preview))

    def _colorize(self):
        colorizer = _colorizer_or_warning()
        if colorizer is not None:
            colorizer.colorize()

    def _colorize_all(self):
        colorizer = _colorizer_or_warning()
        if colorizer is not None:
            colorizer.colorize_all()

    def _cancel(self):
        colorizer = _colorizer_or_warning()
        if colorizer is not None:
            colorizer.cancel()

    def _set_live_preview(self, checked: bool):
        colorizer, _ = shared_colorizer()
        if colorizer is not None and colorizer.settings.live_preview != checked:
            colorizer.update_settings(live_preview=checked)

    def _closing(self):
        colorizer = existing_colorizer()
        if colorizer is not None:
            colorizer.cancel()


def _colorizer_or_warning():
    """The shared Colorizer, or None after telling the user (on the canvas and in the log) why not."""
    colorizer, problem = shared_colorizer()
    if colorizer is None:
        view = Krita.instance().activeWindow() and Krita.instance().activeWindow().activeView()
        if view is not None:
            view.showFloatingMessage(problem, Krita.instance().icon("dialog-warning"), 8000, 1)
        log(problem)
    return colorizer


def _sync_check(action, checked: bool) -> None:
    try:
        if action.isChecked() != checked:
            action.setChecked(checked)
    except RuntimeError:  # the window and its action are gone
        pass


def register() -> None:
    app = Krita.instance()
    app.addExtension(DeepcolorExtension(app))
    app.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, DeepcolorDocker))

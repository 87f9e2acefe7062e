"""Noticing that a stroke ended, so that the live preview can start at once instead of waiting
for the layers to stay unchanged a while.

Krita's Python API has no "stroke finished" signal. A filter on the application's events sees
every mouse-button and pen release, on the canvas or anywhere else; the callback runs once per
burst of releases, from the event loop, and decides from the layers whether anything changed.
The filter is installed only while the live preview is on: it sees every event Krita handles.
"""

from __future__ import annotations

from .qt import QApplication, QEvent, QObject, QTimer

RELEASES = (QEvent.MouseButtonRelease, QEvent.TabletRelease)


class StrokeEnds(QObject):
    def __init__(self, callback, parent=None):
        super().__init__(parent)
        self._callback = callback
        self._pending = False
        self.watching = False

    def watch(self, on: bool) -> None:
        if on == self.watching:
            return
        application = QApplication.instance()
        if on:
            application.installEventFilter(self)
        else:
            application.removeEventFilter(self)
        self.watching = on

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if not self._pending and event.type() in RELEASES:
            self._pending = True  # the release reaches several widgets: one call for all
            QTimer.singleShot(0, self._fire)
        return False  # Krita still gets every event

    def _fire(self) -> None:
        self._pending = False
        self._callback()

"""One undo, or one redo, per colouring; the live preview's layer is no step of the artist's.

Krita's Python API records adding a result and removing each layer it replaces as history steps
of their own, and offers no way to group them. So after the artist's Undo or Redo (Krita's
actions: the menu, a shortcut or a toolbar button), once Krita has carried it out, the document
is looked at: while it stands between the steps of one replacement (``Registry.between_steps``),
the same action runs again, until the whole replacement is undone or redone. Steps picked in
the Undo History docker are left as picked.

Adding the live preview's layer is a history step too (later previews repaint it, which is
none). An Undo that takes away a preview layer the artist was shown goes on to undo the artist's
own step before it; the colorizer then adds no new preview layer until the artist paints again
(``presses``), which would throw away what Redo can bring back.
"""

from __future__ import annotations

import time

from krita import Krita

from .document import active_document, document_key, is_idle, is_open
from .qt import QObject, QTimer, sip
from .registry import PREVIEW, Registry

UNDO, REDO = UNDO_ACTIONS = ("edit_undo", "edit_redo")
POLL_MS = 10  # how often the document is checked for the undo being carried out
GIVE_UP_S = 10.0  # a document busy this long (a long filter) is left between the steps
MAX_STEPS = 32  # at most this many steps run for one press: never a loop


class WholeReplacements(QObject):
    """Watches Krita's Undo and Redo actions and completes a replacement each one stops inside."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._watched = {}  # address -> the action's wrapper
        self._action = self._doc = None
        self._deadline = 0.0
        self._steps = 0
        self._repeating = False
        self.presses = 0  # the artist's Undo and Redo presses so far (not the repeats)
        self._shown = {}  # document key -> ids of the preview layers the artist was last shown
        self._preview_undone = False  # this press already went past a preview layer
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._check)

    def watch(self, action) -> None:
        """Follow ``action`` (a window's Undo or Redo); each action once."""
        if action is None or sip.unwrapinstance(action) in self._watched:
            return
        self._watched[sip.unwrapinstance(action)] = action  # (and its wrapper kept alive)
        # A method of this object, not a lambda: a lambda's connection to an action Krita
        # created was found dropped now and then (the undo went unfollowed, on a loaded machine)
        action.triggered.connect(self._triggered)
        action.destroyed.connect(self._forget)

    def _triggered(self, *_) -> None:
        action = self.sender()
        if action is not None:
            self._acted(action)

    def _forget(self, gone) -> None:
        # the address may come back as another action, which must be followed anew
        self._watched.pop(sip.unwrapinstance(gone), None)

    def _acted(self, action) -> None:
        doc = active_document()
        if doc is None:
            return
        if not self._repeating:
            self._steps = 0  # the artist pressed it: a new run of steps
            self.presses += 1
            self._preview_undone = False
        self._action, self._doc = action, doc
        self._deadline = time.monotonic() + GIVE_UP_S
        self._timer.start()

    def _check(self) -> None:
        doc = self._doc
        if not is_open(doc) or time.monotonic() > self._deadline:
            self._timer.stop()
            return
        if not is_idle(doc):
            return  # Krita is still carrying the step out (and ignores undo meanwhile)
        self._timer.stop()
        if self._steps >= MAX_STEPS or doc != active_document():
            return
        registry = Registry(doc)
        if not registry.between_steps():
            shown = self._shown.get(document_key(doc), set())
            if (self._action.objectName() != UNDO or self._preview_undone
                    or not shown - registry.present((PREVIEW,))):
                self.previews_settled(doc)
                return
            self._preview_undone = True  # the preview's layer went: the artist meant their own step
        self._steps += 1
        self._repeating = True
        try:
            self._action.trigger()
        finally:
            self._repeating = False

    def previews_settled(self, doc, shown: bool = True) -> None:
        """Note the preview layers in ``doc`` as what the artist sees, unless an undo is under
        way; with ``shown`` False (the live preview is off) forget them all."""
        if not shown:
            self._shown.clear()
        elif not self._timer.isActive() and is_open(doc) and is_idle(doc):
            self._shown[document_key(doc)] = Registry(doc).present((PREVIEW,))


_whole_replacements = None


def _watcher() -> WholeReplacements:
    global _whole_replacements
    if _whole_replacements is None:
        _whole_replacements = WholeReplacements(Krita.instance())
    return _whole_replacements


def presses() -> int:
    """How many times the artist pressed Undo or Redo so far (a change seen after a new press came
    from the history, not from painting)."""
    return _watcher().presses


def previews_settled(doc, shown: bool = True) -> None:
    _watcher().previews_settled(doc, shown)


def watch_active_window() -> None:
    """Follow the Undo and Redo of the active window (each window has its own; they are only
    certain to exist once it shows a document, so this is called as a layer of ours is added)."""
    for name in UNDO_ACTIONS:
        _watcher().watch(Krita.instance().action(name))

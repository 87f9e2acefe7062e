"""When a live preview is due: pure timing, no Krita and no Qt, so plain pytest covers it."""

from __future__ import annotations

PREVIEW_QUIET_S = 0.7  # without a stroke's end, the layers must stay unchanged this long


class PreviewScheduler:
    """Debounces the live preview. Fed what the picked layers look like now and then, it says
    "run" once they changed and then stayed the same for ``quiet_s`` seconds; told that a stroke
    ended, it says "run" at once if the layers differ from what the last preview showed.

    The first look counts as a change, so turning the preview on previews what is there.
    """

    _NOTHING = object()  # what no preview has shown yet

    def __init__(self, quiet_s: float = PREVIEW_QUIET_S):
        self.quiet_s = quiet_s
        self.reset()

    def reset(self) -> None:
        """Forget what was seen and previewed: the next look starts a new quiet period."""
        self._seen = self._due = None
        self._previewed = self._NOTHING

    def due(self, seen, now: float) -> bool:
        """Whether a preview should start now, given ``seen`` (any comparable fingerprint of the
        layers) at time ``now`` (seconds, monotonic). True once per settled change."""
        if seen != self._seen:
            self._seen = seen
            self._due = now + self.quiet_s
            return False
        if self._due is None or now < self._due:
            return False
        self._due = None
        self._previewed = seen
        return True

    def stroke_ended(self, seen) -> bool:
        """A stroke (or a click) just ended with the layers looking like ``seen``: whether to
        preview now, without the quiet wait. True once per change."""
        self._seen, self._due = seen, None
        if seen == self._previewed:
            return False
        self._previewed = seen
        return True

"""When a live preview is due: pure timing, no Krita and no Qt, so plain pytest covers it."""

from __future__ import annotations

PREVIEW_QUIET_S = 0.7  # the layers must stay unchanged this long before a preview runs


class PreviewScheduler:
    """Debounces the live preview: fed what the picked layers look like now and then, it says
    "run" once they changed and then stayed the same for ``quiet_s`` seconds.

    The first look counts as a change, so turning the preview on previews what is there.
    """

    def __init__(self, quiet_s: float = PREVIEW_QUIET_S):
        self.quiet_s = quiet_s
        self._seen = None
        self._due = None  # when to run, None: nothing to run

    def reset(self) -> None:
        """Forget what was seen: the next look starts a new quiet period."""
        self._seen = self._due = None

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
        return True

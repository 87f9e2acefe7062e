"""Which model a run uses, and the loaded one kept for the next run. Krita-free."""

from __future__ import annotations

import threading

from .engine import catalog


def choose_model(entries, wanted: str, user_models_dir: str) -> tuple[catalog.ModelEntry | None, str | None]:
    """(the model named ``wanted``, else the first usable one; None) or (None, why none can run).

    The reason names an unusable file and what is wrong with it: a chosen model that cannot
    run is never swapped for another one silently.
    """
    chosen = next((entry for entry in entries if entry.name == wanted), None)
    if chosen is not None:
        if chosen.info is None:
            return None, f"the chosen model '{chosen.name}' cannot be used: {chosen.problem}"
        return chosen, None
    usable = [entry for entry in entries if entry.info is not None]
    if usable:
        return usable[0], None
    unusable = [entry for entry in entries if entry.info is None]
    if unusable:
        return None, f"no usable model: {unusable[0].problem}"
    return None, (f"no model installed: put a .onnx model into {user_models_dir} "
                  "(or choose a folder in the docker)")


class ModelCache:
    """Keeps the last loaded model; loading happens on the worker thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._model = None

    def get(self, entry: catalog.ModelEntry, device: str):
        """The model of ``entry`` on ``device``, loaded again only when the file or device changed."""
        key = (str(entry.path), entry.path.stat().st_mtime if entry.path.exists() else 0, device)
        with self._lock:
            if key != self._key:
                self._model = None  # let the old session go before the next one is loaded
                self._model = catalog.open_model(entry, device)
                self._key = key
            return self._model

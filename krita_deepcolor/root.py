"""The one Colorizer that the actions and every window's docker share.

Its own module, so that the extension and the docker both reach it and neither imports the
other. The Colorizer (numpy, onnxruntime) is imported on first use, so a missing dependency
shows up as a message instead of breaking Krita's start.
"""

from __future__ import annotations

from krita import Krita

MISSING_DEPENDENCIES = ("Deepcolor cannot run yet: {error}. It needs numpy, onnxruntime and OpenCV for "
                        "Krita's own Python: install them with the button in the Deepcolor docker "
                        "(Settings ▸ Dockers ▸ Deepcolor), or with 'python installer.py' in a terminal.")

_colorizer = None


def shared_colorizer():
    """(the one Colorizer, None), or (None, a message saying what is missing and how to fix it)."""
    global _colorizer
    if _colorizer is None:
        try:
            from .colorizer import Colorizer
        except ImportError as exc:
            return None, MISSING_DEPENDENCIES.format(error=exc)
        _colorizer = Colorizer(Krita.instance())
    return _colorizer, None


def existing_colorizer():
    """The Colorizer if one was made, else None (never imports it)."""
    return _colorizer

"""The docker's choices, remembered in Krita's settings (kritarc, group ``krita_deepcolor``)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields

from krita import Krita

GROUP = "krita_deepcolor"
DEFAULT_MODELS_DIR_NAME = "deepcolor-models"

# The docker's label of each of the engine's devices (engine/runtime.py DEVICES; a test keeps
# them equal): this module loads with the docker, before the engine may be importable.
DEVICES = {"auto": "Auto", "cuda": "CUDA", "cpu": "CPU"}
# Longest side of the image the network sees.
RESOLUTIONS = {"fast": ("Fast", 512), "balanced": ("Balanced", 1024), "full": ("Full", 2048)}
# A live preview colours the layers shrunk to this longest side, the network seeing at most
# PREVIEW_NETWORK_SIDE of it, and enlarges the result: fast enough to follow the strokes.
PREVIEW_SIDE, PREVIEW_NETWORK_SIDE = 512, 256
SHADING = 0.5  # how much of the network's light and dark "shaded" keeps
# What the result layer holds: label and the engine Options fields it sets. One line each; the
# first two match the command line's defaults.
OUTPUTS = {
    "under": ("Flat colours under the line art", {"finishing": "hybrid", "shading": 0.0}),
    "split": ("Flat colours, one layer per colour", {"finishing": "hybrid", "shading": 0.0}),
    "with_lines": ("Flat colours with lines", {"finishing": "hybrid", "shading": 0.0, "with_lines": True}),
    "shaded": ("Shaded colours under the line art", {"finishing": "hybrid", "shading": SHADING}),
    "raw": ("Raw network output", {"finishing": "raw"}),
}
SPLIT = "split"  # the output whose result is a group with one layer per colour
AUTO_GAPS = -1  # close_gaps: chosen from the line width
MAX_GAPS = 100  # the docker's largest gap size in pixels


@dataclass
class Settings:
    model: str = ""  # model name; empty = the default model
    device: str = "auto"
    hint_strength: int = 100  # percent
    resolution: str = "balanced"
    output: str = "under"
    live_preview: bool = False
    models_dir: str = ""  # the user's model folder; empty = the default one
    close_gaps: int = AUTO_GAPS  # pixels, 0 = close none
    palette: str = ""  # a Krita palette the hint colours snap to; empty = none

    @classmethod
    def load(cls) -> Settings:
        app = Krita.instance()
        values = {}
        for field in fields(cls):
            default = getattr(cls, field.name)
            text = app.readSetting(GROUP, field.name, str(default))
            values[field.name] = _parse(text, default)
        settings = cls(**values)
        settings.device = settings.device if settings.device in DEVICES else "auto"
        settings.resolution = settings.resolution if settings.resolution in RESOLUTIONS else "balanced"
        settings.output = settings.output if settings.output in OUTPUTS else "under"
        settings.hint_strength = min(max(settings.hint_strength, 0), 200)
        settings.close_gaps = min(max(settings.close_gaps, AUTO_GAPS), MAX_GAPS)
        return settings

    def save(self) -> None:
        app = Krita.instance()
        for key, value in asdict(self).items():
            app.writeSetting(GROUP, key, str(value))

    def user_models_dir(self) -> str:
        return self.models_dir or default_models_dir()

    def max_side(self, preview: bool = False) -> int:
        return PREVIEW_NETWORK_SIDE if preview else RESOLUTIONS[self.resolution][1]

    def engine_options(self, preview: bool = False) -> dict:
        """Keyword arguments for the engine's ``Options`` (all but the palette)."""
        return dict(max_side=self.max_side(preview), preview_side=PREVIEW_SIDE if preview else None,
                    hint_strength=self.hint_strength / 100.0,
                    close_gaps=None if self.close_gaps == AUTO_GAPS else self.close_gaps,
                    **OUTPUTS[self.output][1])

    def splits(self, preview: bool = False) -> bool:
        """Whether the result is one layer per colour (a live preview is always one layer)."""
        return self.output == SPLIT and not preview


def default_models_dir() -> str:
    return os.path.join(Krita.instance().getAppDataLocation(), DEFAULT_MODELS_DIR_NAME)


def _parse(text: str, default):
    if isinstance(default, bool):
        return text.strip().lower() == "true"
    if isinstance(default, int):
        try:
            return int(float(text))
        except ValueError:
            return default
    return text

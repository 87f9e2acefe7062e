"""Krita's own palettes (its "palette" resources) as the engine's Palette: what the docker lists
and what the colouring snaps hint colours to."""

from __future__ import annotations

from krita import Krita
from krita import Palette as KritaPalette

from .document import DocumentError
from .engine.flats import Palette

SRGB = ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")


def palette_names() -> list[str]:
    """The names of the palettes Krita has, as its palette docker lists them."""
    return sorted(Krita.instance().resources("palette"), key=str.lower)


def load_palette(name: str) -> Palette:
    """The palette called ``name`` with its colours in 8-bit sRGB (converted by Krita when the
    palette holds CMYK, Lab or other colours)."""
    resource = Krita.instance().resources("palette").get(name)
    if resource is None:
        raise DocumentError(f"the palette '{name}' is gone: choose another one in the Deepcolor docker, "
                            "or None")
    palette = KritaPalette(resource)
    entries = []
    for index in range(palette.colorsCountTotal()):
        swatch = palette.colorSetEntryByIndex(index)
        if not swatch.isValid():
            continue  # an empty slot of the grid
        colour = swatch.color()
        colour.setColorSpace(*SRGB)
        blue, green, red = colour.components()[:3]  # 8-bit channels come in Krita's B, G, R order
        entries.append((swatch.name(), tuple(int(round(255 * value)) for value in (red, green, blue))))
    if not entries:
        raise DocumentError(f"the palette '{name}' holds no colours: add some, or choose another palette")
    return Palette(name, tuple(entries))

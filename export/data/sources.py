"""The Debian packages training data may come from, and which files in each are art.

One entry per package: the project's design notes name them; adding one is a decision made in an issue.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path("~/.cache/krita-deepcolor/debs").expanduser()
DEFAULT_DATASET = Path("~/.cache/krita-deepcolor/dataset").expanduser()


@dataclass(frozen=True)
class Source:
    package: str
    license: str
    # glob patterns (fnmatch, relative to the unpacked package root) of the files that are art
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    # painted art has soft shading everywhere: accept it although it is not flat
    painted: bool = False
    fetch_by_default: bool = True
    note: str = ""

    def wants(self, relative: str) -> bool:
        return (any(fnmatch.fnmatch(relative, p) for p in self.include)
                and not any(fnmatch.fnmatch(relative, p) for p in self.exclude))


SOURCES: dict[str, Source] = {
    "openclipart-svg": Source(
        package="openclipart-svg",
        license="public domain (Open Clip Art Library dedication, see the package's copyright file)",
        include=("usr/share/openclipart/svg/*.svg",),
        exclude=("*/duplicates/*",),
        note="~8,100 SVG clip art; 25 MB download",
    ),
    "gcompris-qt-data": Source(
        package="gcompris-qt-data",
        license="GPL-3+ (a few files public domain or CC-BY-SA-4.0, see the package's copyright file)",
        include=("usr/share/gcompris-qt/rcc/*.rcc",),
        note="cartoon SVG/SVGZ/WebP inside Qt .rcc resource bundles; 44 MB download",
    ),
    "tuxpaint-stamps-default": Source(
        package="tuxpaint-stamps-default",
        license="GPL-2",
        include=("usr/share/tuxpaint/stamps/*.svg", "usr/share/tuxpaint/stamps/*.png"),
        # mirrored/flipped variants duplicate their originals
        exclude=("*_mirror.png", "*_flip.png", "*_mirror.svg", "*_flip.svg"),
        note="~250 SVG and ~800 PNG stamps (many photographic); 161 MB download",
    ),
    "wesnoth-1.16-data": Source(
        package="wesnoth-1.16-data",
        license="GPL-2+",
        include=("usr/share/games/wesnoth/1.16/data/core/images/portraits/*.png",),
        painted=True,
        # extracted lines of painted portraits are mostly blobs: 73 of 80 failed the ink check
        fetch_by_default=False,
        note="~240 painted portraits, lines extracted (mostly too blobby to use); 146 MB download",
    ),
    "openclipart-png": Source(
        package="openclipart-png",
        license="public domain (Open Clip Art Library dedication, see the package's copyright file)",
        include=("usr/share/openclipart/png/*.png",),
        exclude=("*/duplicates/*",),
        fetch_by_default=False,
        note="PNG renders of the same clip art as openclipart-svg (no exact line layers); 131 MB download",
    ),
}

DEFAULT_PACKAGES = tuple(name for name, source in SOURCES.items() if source.fetch_by_default)


def unpacked_root(cache: Path, name: str) -> Path:
    return Path(cache) / "unpacked" / name

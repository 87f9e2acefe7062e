"""The Debian packages training data may come from, and which files in each are art.

One entry per package: the project's design notes name them, and adding one is a deliberate decision
(the card decks and KTuberling's pieces were added after the first models). Counts in the notes: the
build at 384 px.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path("~/.cache/krita-deepcolor/debs").expanduser()
DEFAULT_DATASET = Path("~/.cache/krita-deepcolor/dataset").expanduser()
# validation pairs only (export/data/streamline.py): kept apart so no training run can read them
DEFAULT_STREAMLINE_DATASET = Path("~/.cache/krita-deepcolor/streamline-emojis").expanduser()
# the pieces KTuberling's .theme files list for their SVG
THEME_OBJECTS = "ktuberling-theme"


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
    # multi-picture SVGs (card decks, sets of pieces): a regex the ids of the elements that are
    # pictures of their own match in full, or THEME_OBJECTS; empty: each file is one picture
    elements: str = ""

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
    "kdegames-card-data-kf5": Source(
        package="kdegames-card-data-kf5",
        license="GPL-2+ (Penguins deck GPL-3+; see the package's copyright file)",
        include=("usr/share/carddecks/svg-*/*.svgz",),
        # Nicu's decks are openclipart-svg's recreation/games/cards/{white,ornamental}; Konqi
        # Modern and XSkat French cards are embedded bitmaps, Tigullio's court cards external
        # files; Tigullio and XSkat German define their cards and draw them through clones of
        # suits; Future's brushed metal gives lines of scratches
        exclude=("*/svg-nicu-*", "*/svg-konqi-modern/*", "*/svg-xskat-french/*",
                 "*/svg-tigullio-international/*", "*/svg-xskat-german/*", "*/svg-future/*"),
        elements=r"(jack|queen|king)_(club|diamond|heart|spade)|((red|black)_)?joc?ker|(red_)?back",
        note="KDE's card decks, one SVGZ a deck: court cards, jokers and backs, one pair each (9 decks, "
             "120 elements: 68 pairs at 384 px, 10 with exact lines, 5 val); 9 MB download",
    ),
    "ktuberling-data": Source(
        package="ktuberling-data",
        license="GPL-2+ (moon theme CC-BY-3.0-US, KDE; see the package's copyright file)",
        include=("usr/share/ktuberling/pics/*.svg", "usr/share/ktuberling/pics/*.svgz"),
        elements=THEME_OBJECTS,
        note="KTuberling's cartoon pieces (eyes, hats, cars, people...) as its .theme files list them "
             "(10 themes, 493 elements: 228 pairs at 384 px, 87 with exact lines, 12 val); 47 MB download, "
             "mostly sounds",
    ),
    "gnome-cards-data": Source(
        package="gnome-cards-data",
        license="GPL-3+ (see the package's copyright file)",
        include=("usr/share/aisleriot/cards/*.svgz",),
        # *_bitmap: embedded bitmaps; ornamental is openclipart-svg's, dondorf and paris are
        # kdegames-card-data-kf5's decks (the same drawings, saved with other coordinates)
        exclude=("*_bitmap.svgz", "*/ornamental.svgz", "*/dondorf.svgz", "*/paris.svgz"),
        elements=r"(club|diamond|heart|spade)_(jack|queen|king)|joker_(black|red)|back",
        note="AisleRiot's card decks: court cards, jokers and backs (25 decks, 375 elements: 191 pairs at "
             "384 px, 66 with exact lines, 9 val); 11 MB download",
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

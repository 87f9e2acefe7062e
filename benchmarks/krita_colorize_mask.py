"""Krita's own Colorize Mask on the same line art and strokes as benchmarks/krita_speed.py.

Runs inside the full Krita app under Xvfb, through the GUI test harness:

    KRITA_DEEPCOLOR_SUITES=gui KRITA_DEEPCOLOR_GUI_TARGET=benchmarks/krita_colorize_mask.py \\
        bash tests/krita/run.sh -s

Krita 5.1's Python API has no ColorizeMask class (``createNode(..., "colorizemask")`` returns
None), so the mask is written into a .kra by hand: the line art is saved by Krita, then a
colorize mask on the line-art layer is added to ``maindoc.xml`` with one key stroke per hint
colour (Alpha8 paint devices, Krita's tile format, uncompressed tiles). The .kra is opened in a
view, the mask made active, the Colorize Mask tool chosen and its **Update** button clicked;
the time runs from the click until the image is idle again (the filling is one stroke of the
image). KRITA_CM_SIZES (default "2048 4096") and KRITA_CM_REPEATS (default 3) choose the runs.
"""

from __future__ import annotations

import base64
import os
import re
import statistics
import tempfile
import time
import uuid
import zipfile

import cv2
import numpy as np
from krita import Krita
from PyQt5.QtWidgets import QApplication, QPushButton

from benchmarks.krita_speed import canvas
from tests.krita.helpers import (
    add_layer,
    close,
    make_active,
    new_document,
    settle,
    wait_until,
    wait_until_idle,
)

SIZES = [int(side) for side in os.environ.get("KRITA_CM_SIZES", "2048 4096").split()]
REPEATS = int(os.environ.get("KRITA_CM_REPEATS", "3"))
TILE = 64
FILL_S = 60  # an Update that filled nothing in this long filled nothing (4096²: 23 s)
MAX_STROKES = 24


def _device(mask: np.ndarray) -> bytes:
    """An Alpha8 paint device in Krita's .kra tile format (raw tiles: flag byte 0)."""
    height, width = mask.shape
    tiles = []
    for top in range(0, height, TILE):
        for left in range(0, width, TILE):
            tile = np.zeros((TILE, TILE), np.uint8)
            part = mask[top:top + TILE, left:left + TILE]
            if not part.any():
                continue
            tile[:part.shape[0], :part.shape[1]] = part
            tiles.append(f"{left},{top},LZF,{TILE * TILE + 1}\n".encode() + b"\0" + tile.tobytes())
    head = f"VERSION 2\nTILEWIDTH {TILE}\nTILEHEIGHT {TILE}\nPIXELSIZE 1\nDATA {len(tiles)}\n".encode()
    return head + b"".join(tiles)


def _strokes(hint: np.ndarray) -> list[tuple[tuple[int, int, int], np.ndarray]]:
    """(colour, coverage) for the most used opaque hint colours."""
    opaque = hint[:, :, 3] >= 128
    packed = (hint[:, :, 0].astype(np.uint32) << 16) | (hint[:, :, 1].astype(np.uint32) << 8) | hint[:, :, 2]
    values, counts = np.unique(packed[opaque], return_counts=True)
    chosen = values[np.argsort(counts)[::-1][:MAX_STROKES]]
    return [(((int(v) >> 16) & 255, (int(v) >> 8) & 255, int(v) & 255),
             np.where(opaque & (packed == v), 255, 0).astype(np.uint8)) for v in chosen]


def image_name(maindoc: str) -> str:
    """The image's name in a .kra's maindoc.xml: the folder its layers are stored under. Its own
    name="…", never colorspacename="…": Krita writes the attributes in an order that changes
    from one run to the next."""
    return re.search(r'<IMAGE\b[^>]*?\sname="([^"]*)"', maindoc).group(1)


def build_kra(path: str, side: int, lines: str = "thick") -> int:
    """A .kra with 'Lines' and a colorize mask on it holding the hints as key strokes."""
    line, hint = canvas(side, side, lines)
    doc = new_document(side, side, name="colorize-mask")
    add_layer(doc, "Lines", line)
    doc.waitForDone()
    assert doc.saveAs(path), "Krita could not save the .kra"
    doc.waitForDone()
    close(doc)
    strokes = _strokes(hint)
    with zipfile.ZipFile(path) as old:
        files = {name: old.read(name) for name in old.namelist()}
    main = files["maindoc.xml"].decode("utf-8")
    image = image_name(main)
    mask_file = "mask9"
    mask = (f'<masks><mask name="Colorize Mask" visible="1" locked="0" nodetype="colorizemask" '
            f'filename="{mask_file}" x="0" y="0" uuid="{{{uuid.uuid4()}}}" colorspacename="RGBA" '
            'compositeop="behind" edit-keystrokes="1" show-coloring="1" use-edge-detection="0" '
            'edge-detection-size="4" fuzzy-radius="0" cleanup="0" limit-to-device="0"/></masks>')
    main, count = re.subn(r'(<layer [^>]*name="Lines"[^>]*?)/>', r"\1>" + mask + "</layer>", main)
    assert count == 1, main
    files["maindoc.xml"] = main.encode("utf-8")
    folder = f"{image}/layers/{mask_file}.colorizemask/"
    items = "".join(
        f'<item_{i} type="keystroke" filename="keystroke_{i}" is-transparent="0" '
        f'ColorData="{base64.b64encode(bytes((b, g, r, 255))).decode()}"/>'
        for i, ((r, g, b), _) in enumerate(strokes))
    files[folder + "content.xml"] = (f'<!DOCTYPE doc>\n<colorize><keystrokes type="array">{items}'
                                     "</keystrokes></colorize>\n").encode()
    for i, (_, coverage) in enumerate(strokes):
        files[folder + f"keystroke_{i}"] = _device(coverage)
    files[folder + "colorize-coloring"] = b"VERSION 2\nTILEWIDTH 64\nTILEHEIGHT 64\nPIXELSIZE 4\nDATA 0\n"
    with zipfile.ZipFile(path, "w") as new:
        new.writestr(zipfile.ZipInfo("mimetype"), files.pop("mimetype"), zipfile.ZIP_STORED)
        for name, data in files.items():
            new.writestr(name, data, zipfile.ZIP_DEFLATED)
    return len(strokes)


def _update_button():
    buttons = [widget for widget in QApplication.allWidgets()
               if isinstance(widget, QPushButton) and widget.text().replace("&", "") == "Update"
               and widget.isVisible()]
    return buttons[0] if buttons else None


def _find_mask(doc):
    for layer in doc.rootNode().childNodes():
        for child in layer.childNodes():
            if child.type() == "colorizemask":
                return child
    return None


def _filled(before: bytes, now: bytes, area: int) -> bool:
    """Whether the regions were filled: more than a fifth of the image changed (the key strokes
    alone, which the mask may show first, change far less)."""
    return np.count_nonzero(np.frombuffer(before, np.uint32) != np.frombuffer(now, np.uint32)) > 0.2 * area


def _update(doc, before: bytes) -> tuple[float, bytes]:
    """Click Update; (seconds until the image last changed, the image then)."""
    start = time.perf_counter()
    _update_button().click()
    # The filling runs in Krita's background strokes and lands in the image when done, seconds
    # after the click (the mask may show its key strokes before): the time is that of the last
    # change once the regions are filled and the image has been idle and unchanged 3 s. Without
    # a fill in FILL_S, the click filled nothing.
    area = doc.width() * doc.height()
    last, changed_at, filled = before, None, False
    while True:
        settle(0.1)
        now = bytes(doc.pixelData(0, 0, doc.width(), doc.height()))
        if now != last:
            last, changed_at = now, time.perf_counter()
            filled = _filled(before, now, area)
        elif filled and time.perf_counter() - changed_at > 3.0 or time.perf_counter() - start > FILL_S:
            wait_until_idle(doc, 60)
            if bytes(doc.pixelData(0, 0, doc.width(), doc.height())) == last:
                break
        assert time.perf_counter() - start < 900, "no end to the update in 900 s"
    return (changed_at or start) - start, last


def colour_once(window, path: str) -> float:
    """Seconds of one Update of the .kra's colorize mask. An Update that fills nothing leaves the
    button disabled for that mask: the .kra is opened anew for the next try."""
    for attempt in range(1, 4):
        doc = Krita.instance().openDocument(path)
        assert doc is not None, f"Krita could not open {path}"
        try:
            window.addView(doc)
            wait_until(lambda shown=doc: Krita.instance().activeDocument() == shown, 10,
                       "the view to be active")
            mask = _find_mask(doc)
            assert mask is not None, "the colorize mask did not load: " + repr(
                [(n.name(), [c.type() for c in n.childNodes()]) for n in doc.rootNode().childNodes()])
            Krita.instance().action("KritaShape/KisToolLazyBrush").trigger()
            wait_until(lambda: _update_button() is not None, 10, "the Colorize Mask tool's Update button")
            make_active(doc, mask)  # the tool's options follow the current layer
            wait_until(lambda: _update_button() is not None and _update_button().isEnabled(), 10,
                       "the Update button to be enabled")
            wait_until_idle(doc, 60)
            before = bytes(doc.pixelData(0, 0, doc.width(), doc.height()))
            seconds, last = _update(doc, before)
            if _filled(before, last, doc.width() * doc.height()):
                bgra = np.frombuffer(last, np.uint8).reshape(doc.height(), doc.width(), 4)
                cv2.imwrite(path[:-4] + ".png", cv2.resize(bgra, (512, 512), interpolation=cv2.INTER_AREA))
                print(f"# one update: {seconds:.2f} s, result in {path[:-4]}.png", flush=True)
                return seconds
            print(f"# attempt {attempt}: the Update click filled nothing in {FILL_S} s; opening the file "
                  "again", flush=True)
        finally:
            close(doc)
            settle(0.2)
    raise AssertionError("three Update clicks filled nothing")


def test_colorize_mask_update_times():
    wait_until(lambda: Krita.instance().activeWindow() is not None, 30, "Krita's main window")
    window = Krita.instance().activeWindow()
    folder = tempfile.mkdtemp(prefix="colorize-mask-")
    print(f"\n# load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for side in SIZES:
        path = os.path.join(folder, f"mask-{side}.kra")
        count = build_kra(path, side)
        times = [colour_once(window, path) for _ in range(REPEATS)]
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"# colorize mask {side}x{side}: {count} key strokes, update to idle median "
              f"{statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)}), load {load}",
              flush=True)

"""Not part of the suite: takes the README's screenshot of the docker in a real Krita window.

    KRITA_DEEPCOLOR_SUITES=gui KRITA_DEEPCOLOR_GUI_TARGET=tests/krita/gui/screenshot_docker.py \\
        bash tests/krita/run.sh

Colours the bundled example (examples/cat.png with cat.hints.png) once, then grabs the X screen
with ImageMagick's ``import`` and keeps the canvas and the dockers. Writes docs/docker.png, or
the path in KRITA_DEEPCOLOR_SCREENSHOT.
"""

import os
import subprocess
from pathlib import Path

import cv2
from krita import Krita
from PyQt5.QtGui import QCursor
from PyQt5.QtWidgets import QMdiArea

from krita_deepcolor.engine.catalog import read_manifest
from krita_deepcolor.engine.imageio import read_image
from krita_deepcolor.extension import DOCKER_ID
from tests.krita.helpers import add_layer, settle, wait_until

REPO = Path(__file__).resolve().parents[3]
OUTPUT = Path(os.environ.get("KRITA_DEEPCOLOR_SCREENSHOT", REPO / "docs" / "docker.png"))


def _global_rect(widget):
    corner = widget.mapToGlobal(widget.rect().topLeft())
    return corner.x(), corner.y(), widget.width(), widget.height()


def test_screenshot(window, docker, colorizer, open_doc, tmp_path):
    line = read_image(REPO / "examples" / "cat.png")
    hints = read_image(REPO / "examples" / "cat.hints.png")
    height, width = line.shape[:2]
    qwindow = window.qwindow()
    qwindow.setGeometry(0, 0, 1300, 860)  # Xvfb has no window manager; small enough to read in a README
    qwindow.findChild(QMdiArea).setViewMode(QMdiArea.TabbedView)  # the document fills the canvas area
    for other in Krita.instance().dockers():  # only the layers and Deepcolor, so both have room
        other.setVisible(other.objectName() in ("KisLayerBox", DOCKER_ID))
    settle(1.0)
    doc = open_doc(width, height, name="cat")
    doc.setFileName(str(tmp_path / "cat.kra"))  # the tab shows a name instead of "[Not Saved]"
    add_layer(doc, "Lines", line)
    hint_layer = add_layer(doc, "Hints", hints)
    settle(1.0)
    docker.show()
    docker.raise_()
    shipped = REPO / "models"  # the README shows the shipped default model, not a test model
    colorizer.update_settings(models_dir=str(shipped), model=read_manifest(shipped)["default"],
                              output="split")  # the flatting options: one layer per colour
    docker.panel.refresh_models(rescan=True)
    docker.panel.refresh_layers()

    docker.panel.colorize_button.click()
    wait_until(lambda: not colorizer.busy, 120, "the colouring")
    assert colorizer.status.startswith("Added"), colorizer.status
    hint_layer.setVisible(False)  # show the colouring itself, not the rough hint strokes over it
    doc.refreshProjection()
    settle(1.0)
    for _ in range(2):  # to 100 % and back to "fit", which also centres the image
        Krita.instance().action("toggle_zoom_to_fit").trigger()
        settle(1.0)
    QCursor.setPos(docker.mapToGlobal(docker.rect().bottomRight()))  # no brush outline on the canvas
    settle(2.0)  # the OpenGL canvas (llvmpipe) takes a moment to repaint

    shot = tmp_path / "screen.png"
    subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=60)
    image = cv2.imread(str(shot))
    left, top, width, height = _global_rect(qwindow.centralWidget())
    dock_left, _, dock_width, _ = _global_rect(docker)
    crop = image[top:top + height, left:dock_left + dock_width]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(OUTPUT), crop)
    print(f"screenshot: {OUTPUT} ({crop.shape[1]}x{crop.shape[0]})")

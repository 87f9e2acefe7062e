"""Reports, once Krita's first window exists, what the installed krita-deepcolor added, then quits.

Used by tests/krita/install/test_install_then_start.py: active only when KRITA_DEEPCOLOR_PROBE_RESULT
names the JSON file to write. It only looks (dockers, the actions named in
KRITA_DEEPCOLOR_PROBE_ACTIONS, the Tools > Scripts menu, where the plugin and its dependencies were
imported from); the test decides what is right.

With KRITA_DEEPCOLOR_PROBE_WHEELS set (a folder of wheels) and the docker offering to install the
dependencies, it then clicks that install the way the docker's button does, waits for the docker
to become the Deepcolor panel, and colours the bundled example (KRITA_DEEPCOLOR_PROBE_EXAMPLE:
line art and hints PNGs, comma-separated) with the default model.

* Krita's excepthook opens a modal dialog, which would hang a headless run: ours prints the
  traceback and exits with 98.
* A watchdog thread exits with 97 if Krita does not get that far (e.g. the window never comes).
"""

import importlib
import json
import os
import sys
import threading
import traceback

from krita import Extension, Krita
from PyQt5.QtCore import QTimer

RESULT = os.environ.get("KRITA_DEEPCOLOR_PROBE_RESULT")
WATCHDOG_S = float(os.environ.get("KRITA_DEEPCOLOR_WATCHDOG", "90"))
START_DELAY_MS = 1000  # let the window finish building its dockers and menus
ACTIONS = [name for name in os.environ.get("KRITA_DEEPCOLOR_PROBE_ACTIONS", "").split(",") if name]
WHEELS = os.environ.get("KRITA_DEEPCOLOR_PROBE_WHEELS")
EXAMPLE = [path for path in os.environ.get("KRITA_DEEPCOLOR_PROBE_EXAMPLE", "").split(",") if path]
POLL_MS = 100


def _flush():
    sys.stdout.flush()
    sys.stderr.flush()


def _fail_on_uncaught(kind, value, tb):
    print("UNCAUGHT EXCEPTION inside Krita (a user would get an error dialog):", file=sys.stderr)
    traceback.print_exception(kind, value, tb)
    _flush()
    os._exit(98)


def _watchdog():
    print(f"WATCHDOG: Krita did not start and quit within {WATCHDOG_S:.0f} s", file=sys.stderr)
    _flush()
    os._exit(97)


def _menu(menu_bar_or_menu, name):
    """The submenu of ``menu_bar_or_menu`` called ``name`` (object name or text without '&')."""
    for action in menu_bar_or_menu.actions():
        menu = action.menu()
        if menu is not None and name in (menu.objectName(), action.text().replace("&", "").lower()):
            return menu
    return None


def _look() -> dict:
    app = Krita.instance()
    found = {"krita": app.version(), "python": sys.version.split()[0]}
    window = app.activeWindow()
    found["window"] = window is not None
    found["dockers"] = {dock.objectName(): {"title": dock.windowTitle(),
                                            "widget": type(dock.widget()).__name__ if dock.widget() else None}
                        for dock in app.dockers()}
    tools = _menu(window.qwindow().menuBar(), "tools") if window is not None else None
    scripts = _menu(tools, "scripts") if tools is not None else None
    in_menu = {action.objectName() for action in scripts.actions()} if scripts is not None else set()
    found["scripts_menu"] = scripts is not None
    found["actions"] = {}
    for name in ACTIONS:
        action = app.action(name)
        found["actions"][name] = None if action is None else {
            "text": action.text(), "shortcut": action.shortcut().toString(),
            "in_scripts_menu": name in in_menu}
    # where the plugin and its dependencies come from (onnxruntime is imported on first use)
    found["modules"] = {}
    for name in ("krita_deepcolor", "numpy", "onnxruntime", "cv2"):
        try:
            found["modules"][name] = getattr(importlib.import_module(name), "__file__", None)
        except ImportError:
            found["modules"][name] = None  # not installed (yet)
    return found


DOCKER_ID = "krita_deepcolor_docker"


def _docker():
    return next((dock for dock in Krita.instance().dockers() if dock.objectName() == DOCKER_ID), None)


def _after(condition, then):
    """Call ``then()`` once ``condition()`` holds, looking every POLL_MS from Krita's event loop."""
    def look():
        try:
            if condition():
                then()
            else:
                QTimer.singleShot(POLL_MS, look)
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            _write({"error": traceback.format_exc()})
    look()


def _install_then_colour(found):
    """Click the docker's dependency install (from WHEELS), then colour the example."""
    setup = getattr(_docker(), "setup", None)
    if setup is None:
        found["setup_error"] = "the docker offers no dependency install"
        return _write(found)
    found["setup_problem"] = setup.problem.text()
    if not setup.install(WHEELS):
        found["setup_status"] = setup.status.text()
        return _write(found)

    def installed():
        found["setup_status"] = setup.status.text()
        found["after_setup"] = type(_docker().widget()).__name__
        if found["after_setup"] != "DeepcolorPanel":
            return _write(found)
        _colour_example(found)
    _after(lambda: not setup.busy, installed)


def _colour_example(found):
    from PyQt5.QtGui import QImage

    from krita_deepcolor.root import shared_colorizer

    colorizer, problem = shared_colorizer()
    if colorizer is None:
        found["colour_status"] = problem
        return _write(found)
    app = Krita.instance()
    images = [QImage(path).convertToFormat(QImage.Format_ARGB32) for path in EXAMPLE]
    width, height = images[0].width(), images[0].height()
    doc = app.createDocument(width, height, "example", "RGBA", "U8", "", 72.0)
    for name, image in zip(("Lines", "Hints"), images, strict=True):
        layer = doc.createNode(name, "paintlayer")
        bits = image.constBits()
        bits.setsize(image.sizeInBytes())
        layer.setPixelData(bytes(bits), 0, 0, width, height)  # ARGB32 is B, G, R, A in memory: Krita's order
        doc.rootNode().addChildNode(layer, None)
    if not colorizer.colorize(doc):
        found["colour_status"] = colorizer.status
        return _write(found)

    def coloured():
        found["colour_status"] = colorizer.status
        found["example_layers"] = [node.name() for node in doc.rootNode().childNodes()]
        _write(found)
    _after(lambda: not colorizer.busy, coloured)


def _report():
    sys.excepthook = _fail_on_uncaught  # again: Krita may have put its dialog hook back
    try:
        found = _look()
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        found = {"error": traceback.format_exc()}
    if WHEELS and "error" not in found:
        return _install_then_colour(found)
    _write(found)


def _write(found):
    with open(RESULT + ".part", "w", encoding="utf-8") as handle:
        json.dump(found, handle, indent=1, sort_keys=True)
    os.replace(RESULT + ".part", RESULT)
    for doc in Krita.instance().documents():
        doc.setModified(False)
        doc.close()
    Krita.instance().action("file_quit").trigger()


class InstallProbe(Extension):
    def setup(self):
        if not RESULT:
            return
        sys.excepthook = _fail_on_uncaught
        watchdog = threading.Timer(WATCHDOG_S, _watchdog)
        watchdog.daemon = True
        watchdog.start()
        notifier = Krita.instance().notifier()
        notifier.setActive(True)
        notifier.windowCreated.connect(lambda: QTimer.singleShot(START_DELAY_MS, _report))

    def createActions(self, window):
        pass


Krita.instance().addExtension(InstallProbe(Krita.instance()))

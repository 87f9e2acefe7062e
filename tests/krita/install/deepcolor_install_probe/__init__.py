"""Reports, once Krita's first window exists, what the installed krita-deepcolor added, then quits.

Used by tests/krita/install/test_install_then_start.py: active only when KRITA_DEEPCOLOR_PROBE_RESULT
names the JSON file to write. It only looks (dockers, the actions named in
KRITA_DEEPCOLOR_PROBE_ACTIONS, the Tools > Scripts menu, where the plugin and its dependencies were
imported from); the test decides what is right.

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
    found["modules"] = {name: getattr(importlib.import_module(name), "__file__", None)
                        for name in ("krita_deepcolor", "numpy", "onnxruntime", "cv2")}
    return found


def _report():
    sys.excepthook = _fail_on_uncaught  # again: Krita may have put its dialog hook back
    try:
        found = _look()
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        found = {"error": traceback.format_exc()}
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

"""The docker's dependency installer: real pip, run by the panel, on a tiny wheel of our own."""

import base64
import hashlib
import sys
import zipfile

from krita_deepcolor.ui.setup import SetupPanel
from tests.krita.helpers import wait_until

PACKAGE = "kdc_setup_probe"


def make_wheel(folder, value: int) -> None:
    """A pure-Python wheel whose module holds ``VALUE = value``."""
    files = {f"{PACKAGE}/__init__.py": f"VALUE = {value}\n",
             f"{PACKAGE}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 1.0\n",
             f"{PACKAGE}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                               "Tag: py3-none-any\n"}
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append(f"{PACKAGE}-1.0.dist-info/RECORD,,")
    files[f"{PACKAGE}-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"{PACKAGE}-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def test_the_setup_panel_installs_from_wheels_and_a_failure_changes_nothing(tmp_path):
    target = tmp_path / "plugin" / "_deps"
    panel = SetupPanel("Deepcolor cannot run yet: no module named kdc_setup_probe", str(target),
                       reqs=[PACKAGE], modules=[PACKAGE])
    ready = []
    panel.ready.connect(lambda: ready.append(True))
    make_wheel(tmp_path / "wheels", 42)
    try:
        assert panel.install(str(tmp_path / "wheels"))
        assert panel.progress.isVisibleTo(panel) and not panel.install_button.isEnabled()
        wait_until(lambda: not panel.busy, 120, "pip to finish")
        assert panel.status.text() == "Dependencies installed: Deepcolor is ready.", panel.status.text()
        assert ready == [True]
        assert (target / PACKAGE / "__init__.py").read_text() == "VALUE = 42\n"
        assert sys.modules[PACKAGE].VALUE == 42 and not (tmp_path / "plugin" / "_deps.new").exists()

        assert panel.install(str(tmp_path / "empty"))  # no wheels there: pip fails
        wait_until(lambda: not panel.busy, 120, "pip to fail")
        assert "nothing was changed" in panel.status.text(), panel.status.text()
        assert (target / PACKAGE / "__init__.py").read_text() == "VALUE = 42\n", "the installed copy stays"
        assert not (tmp_path / "plugin" / "_deps.new").exists() and ready == [True]
        assert panel.install_button.isEnabled() and not panel.cancel_button.isEnabled()
    finally:
        sys.modules.pop(PACKAGE, None)
        if str(target) in sys.path:
            sys.path.remove(str(target))
        panel.deleteLater()

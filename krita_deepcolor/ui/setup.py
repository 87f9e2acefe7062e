"""The docker while the plugin's dependencies are missing: it says so and installs numpy,
onnxruntime and OpenCV for Krita's own Python into the plugin's folder, from the internet or from
a folder of wheels, showing pip's progress. pip runs as a separate process (the UI never waits),
into a staging folder that replaces the old one only once pip succeeded: a failed or cancelled
install changes nothing. Then the plugin starts without a restart when the modules import.
"""

from __future__ import annotations

import collections
import importlib
import os
import shutil
import sys

from .. import DEPENDENCIES_DIR
from ..dependencies import (
    MODULES,
    PIP_ENV,
    explain_pip_failure,
    pip_command,
    python_with_pip,
    requirements,
    running_version,
)
from ..qt import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProcess,
    QProcessEnvironment,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

OFFLINE = ("connect to the internet and try again, or install from a folder of wheels (made on a "
           "computer with internet by: pip download --only-binary=:all: numpy onnxruntime "
           "opencv-python-headless)")


class SetupPanel(QWidget):
    """``problem``: why the plugin cannot start. ``target``, ``reqs``, ``modules``: where pip
    installs, what, and what must import afterwards (the plugin's own unless a test says)."""

    ready = Signal()  # the dependencies are installed and import: the plugin can start

    def __init__(self, problem: str, target: str = DEPENDENCIES_DIR, reqs=None, modules=MODULES,
                 parent=None):
        super().__init__(parent)
        self.target, self.reqs, self.modules = target, list(reqs or requirements(False)), modules
        self.version = running_version()
        self._process = None
        self._tail = collections.deque(maxlen=60)
        self._cancelled = False

        self.problem = QLabel(problem, wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        self.install_button = QPushButton("Install dependencies")
        self.install_button.setToolTip(f"pip installs {', '.join(self.reqs)} for Krita's Python "
                                       f"{self.version} into {self.target}")
        self.wheels_button = QPushButton("From a folder of wheels…")
        self.wheels_button.setToolTip("Install without internet, from wheels downloaded elsewhere")
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.progress = QProgressBar(minimum=0, maximum=0, textVisible=False, visible=False)  # busy
        self.status = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)

        buttons = QHBoxLayout()
        buttons.addWidget(self.install_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        layout.addWidget(self.wheels_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.install_button.clicked.connect(lambda: self.install())
        self.wheels_button.clicked.connect(self._choose_wheels)
        self.cancel_button.clicked.connect(self.cancel)

    @property
    def staging(self) -> str:
        return self.target + ".new"

    @property
    def busy(self) -> bool:
        return self._process is not None

    def install(self, wheels: str | None = None) -> bool:
        """Start pip (from the folder ``wheels`` only, when given); False if it cannot start."""
        if self.busy:
            return False
        python = python_with_pip(self.version)
        if python is None:
            self._show(f"No Python {self.version} with pip was found on this computer: install it "
                       "(Debian/Ubuntu: sudo apt install python3-pip), or run 'python installer.py' from "
                       "the plugin's source folder in a terminal.")
            return False
        try:
            shutil.rmtree(self.staging, ignore_errors=True)
            os.makedirs(self.staging)
        except OSError as exc:
            self._show(f"Cannot write the dependencies into {os.path.dirname(self.target)} ({exc}): install "
                       "with 'python installer.py' from a terminal instead.")
            return False
        command = pip_command(python, self.staging, self.reqs, wheels)
        environment = QProcessEnvironment.systemEnvironment()
        for key, value in PIP_ENV.items():
            environment.insert(key, value)
        for key in ("PYTHONPATH", "PYTHONHOME"):  # Krita's own would mislead the other interpreter
            environment.remove(key)
        self._process = process = QProcess(self)
        process.setProcessEnvironment(environment)
        process.setProcessChannelMode(QProcess.MergedChannels)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._failed_to_start)
        self._tail.clear()
        self._cancelled = False
        self._busy(True)
        self._show("Installing: starting pip…")
        process.start(command[0], command[1:])
        return True

    def cancel(self) -> None:
        if self._process is not None:
            self._cancelled = True
            self._process.kill()  # finished() follows: the staging folder is removed there

    def _choose_wheels(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of wheels for numpy, onnxruntime and OpenCV")
        if folder:
            self.install(folder)

    def _read(self) -> None:
        text = bytes(self._process.readAllStandardOutput()).decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        self._tail.extend(lines)
        if lines:
            self._show(f"Installing: {lines[-1][:160]}")

    def _failed_to_start(self, error) -> None:
        if error == QProcess.FailedToStart:
            self._finished(-1, QProcess.CrashExit)

    def _finished(self, code: int, _status=None) -> None:
        if self._process is None:
            return
        self._process.deleteLater()
        self._process = None
        self._busy(False)
        if self._cancelled or code != 0:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._show("Cancelled: nothing was installed." if self._cancelled else
                       explain_pip_failure(list(self._tail), self.version, code, offline=OFFLINE))
            return
        try:
            self._swap_in()
        except OSError as exc:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._show(f"Could not put the dependencies in place ({exc}): nothing was changed.")
            return
        problem = self._import_problem()
        if problem:
            self._show(f"Installed into {self.target}, but {problem}: restart Krita.")
            return
        self._show("Dependencies installed: Deepcolor is ready.")
        self.ready.emit()

    def _swap_in(self) -> None:
        """The staging folder becomes the target; an older target goes only once that worked."""
        old = self.target + ".old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.exists(self.target):
            os.rename(self.target, old)
        try:
            os.rename(self.staging, self.target)
        except OSError:
            if os.path.exists(old):
                os.rename(old, self.target)
            raise
        shutil.rmtree(old, ignore_errors=True)

    def _import_problem(self) -> str:
        """Import the modules from the new folder in this Krita; a reason if one does not."""
        if self.target not in sys.path:
            sys.path.insert(0, self.target)
        importlib.invalidate_caches()
        for module in self.modules:
            try:
                importlib.import_module(module)
            except Exception as exc:  # noqa: BLE001 - any failure means: restart and try again
                return f"{module} does not import yet ({type(exc).__name__}: {exc})"
        return ""

    def _busy(self, busy: bool) -> None:
        self.install_button.setEnabled(not busy)
        self.wheels_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)

    def _show(self, text: str) -> None:
        self.status.setText(text)

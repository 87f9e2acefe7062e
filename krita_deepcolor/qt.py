"""The one place that imports the Qt binding, so moving to PyQt6 (Krita 6) touches only this file."""

from PyQt5 import sip
from PyQt5.QtCore import QByteArray, QEvent, QObject, QProcess, QProcessEnvironment, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

Signal = pyqtSignal

__all__ = ["QApplication", "QByteArray", "QEvent", "QObject", "QProcess", "QProcessEnvironment", "Qt",
           "QTimer", "Signal", "QImage",
           "QCheckBox", "QComboBox", "QFileDialog", "QFormLayout", "QHBoxLayout", "QLabel",
           "QProgressBar", "QPushButton", "QSlider", "QSpinBox", "QToolButton", "QVBoxLayout", "QWidget",
           "sip"]

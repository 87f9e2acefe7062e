"""krita-deepcolor: colour line art in Krita with a local ONNX generator.

Inside Krita this package registers the docker and actions; anywhere else (the command
line, tests, the training toolchain) importing it has no side effects.
"""

import os
import sys

try:
    import krita  # only present inside Krita
except ImportError:
    krita = None

# The installer puts numpy, onnxruntime and OpenCV for Krita's own Python here; it must come
# first on the path, before anything imports numpy.
DEPENDENCIES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_deps")

if krita is not None:
    if os.path.isdir(DEPENDENCIES_DIR) and DEPENDENCIES_DIR not in sys.path:
        sys.path.insert(0, DEPENDENCIES_DIR)
    from .extension import register

    register()

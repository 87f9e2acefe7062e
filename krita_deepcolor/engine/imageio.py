"""PNG (and other image) files <-> RGBA arrays, for the command line, tests and benchmarks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from .errors import InputError


def read_image(path) -> np.ndarray:
    """Read a file as RGBA (or gray/RGB) in its own bit depth; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    data = np.fromfile(str(path), np.uint8)  # fromfile + imdecode also handles non-ASCII paths
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise InputError(f"{path}: not an image file OpenCV can read")
    if image.size == 0:
        raise InputError(f"{path}: image is empty")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return image


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_png(path, rgba: np.ndarray) -> None:
    """Write RGBA/RGB/gray to ``path`` atomically: a crash never leaves half a file."""
    path = Path(path)
    if rgba.ndim == 3 and rgba.shape[2] == 4:
        pixels = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)
    elif rgba.ndim == 3 and rgba.shape[2] == 3:
        pixels = cv2.cvtColor(rgba, cv2.COLOR_RGB2BGR)
    else:
        pixels = rgba
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise InputError(f"{path}: could not encode PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(encoded.tobytes())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""PNG (and other image) files <-> RGBA arrays, for the command line, tests and benchmarks."""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

import cv2
import numpy as np

from .errors import InputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # its complaints become our one line
ICC_CHUNK = b"iCCP"  # a PNG's embedded ICC profile


# Images with more pixels than this are refused before they are decoded (a page of 7000 x 10000
# is 70 million): a small file can claim a huge canvas, and decoding it takes memory that size.
MAX_PIXELS = 150_000_000


def png_size(data: np.ndarray) -> tuple[int, int] | None:
    """(width, height) a PNG's header claims, None for other files."""
    head = data[:24].tobytes()
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def png_problem(data: np.ndarray) -> str | None:
    """What is wrong with the structure of a file that starts like a PNG (its chunks walked, not
    decoded), or None: decoders print their own complaints about such files to the terminal."""
    raw = memoryview(data)
    if len(raw) < 8 + 12 or bytes(raw[12:16]) != b"IHDR":
        return "not a valid PNG (its header is broken)"
    position = 8
    while position + 12 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[position:position + 8])
        position += 12 + length
        if kind == b"IEND":
            return None if position <= len(raw) else "a PNG cut short (it ends inside its last chunk)"
    return "a PNG cut short (its end is missing): was it copied or downloaded whole?"


def read_image(path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a file as RGBA (or gray/RGB) in its own bit depth; clear errors for bad files.
    A PNG claiming more than ``max_pixels`` is refused before it is decoded."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        data = np.fromfile(str(path), np.uint8)  # fromfile + imdecode also handles non-ASCII paths
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    problem = png_problem(data) if data[:8].tobytes() == PNG_SIGNATURE else None
    if problem:
        raise InputError(f"{path}: {problem}")
    size = png_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise InputError(f"{path}: {size[0]}x{size[1]} is {size[0] * size[1] / 1e6:.0f} million pixels, more "
                         f"than the limit of {max_pixels / 1e6:.0f} million (--max-pixels raises it)")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error:  # (OpenCV's own size limit, a corrupt stream)
        image = None
    if image is None:
        raise InputError(f"{path}: not an image file OpenCV can read")
    if image.size == 0:
        raise InputError(f"{path}: image is empty")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return image


def read_icc_chunk(path) -> bytes | None:
    """A PNG's embedded ICC profile as its whole iCCP chunk, byte for byte; None if it has none.

    OpenCV decodes the pixels and drops the profile; keeping the chunk lets a result be written
    with the profile its colours were painted in.
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
                return None
            while len(head := handle.read(8)) == 8:
                length, kind = struct.unpack(">I4s", head)
                if kind == ICC_CHUNK:
                    return head + handle.read(length + 4)  # data and CRC
                if kind == b"IDAT":  # the profile must come before the image data
                    return None
                handle.seek(length + 4, os.SEEK_CUR)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return None


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _encode_png(rgba: np.ndarray, icc_chunk: bytes | None) -> bytes:
    if rgba.ndim == 3 and rgba.shape[2] == 4:
        pixels = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)
    elif rgba.ndim == 3 and rgba.shape[2] == 3:
        pixels = cv2.cvtColor(rgba, cv2.COLOR_RGB2BGR)
    else:
        pixels = rgba
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise InputError("could not encode PNG")
    encoded = encoded.tobytes()
    if icc_chunk is None:
        return encoded
    after_header = len(PNG_SIGNATURE) + 12 + 13  # the IHDR chunk comes first and holds 13 bytes
    return encoded[:after_header] + icc_chunk + encoded[after_header:]


def write_png(path, rgba: np.ndarray, icc_chunk: bytes | None = None) -> None:
    """Write RGBA/RGB/gray to ``path`` as PNG atomically: a crash never leaves half a file.

    ``icc_chunk`` (from ``read_icc_chunk``) embeds that ICC profile. Any failure to write is an
    InputError naming the path and the reason.
    """
    path = Path(path)
    encoded = _encode_png(rgba, icc_chunk)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write here: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(encoded)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it private; a result is an ordinary file
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise

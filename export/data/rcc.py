"""Read the files inside a Qt resource bundle (.rcc), as GCompris ships its images.

Format (Qt's rcc, versions 1-3): "qres", version, then offsets of the node tree, the data and the
names. A node is a directory (child count, first child) or a file (data offset); file data may be
zlib-compressed (qCompress: 4-byte length, then zlib).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

COMPRESSED_ZLIB = 1
DIRECTORY = 2
COMPRESSED_ZSTD = 4


class RccError(ValueError):
    """Not a Qt resource bundle this reader understands."""


def files(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (path inside the bundle, uncompressed bytes) for every file; zstd files are skipped."""
    if blob[:4] != b"qres" or len(blob) < 20:
        raise RccError("not a Qt .rcc resource bundle")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    if version not in (1, 2, 3):
        raise RccError(f"unsupported .rcc version {version}")
    node_size = 14 if version == 1 else 22

    def name_at(offset: int) -> str:
        (length,) = struct.unpack_from(">H", blob, names + offset)
        start = names + offset + 6  # length, then a 4-byte hash, then UTF-16BE
        return blob[start:start + 2 * length].decode("utf-16-be")

    def payload(offset: int, flags: int) -> bytes | None:
        (size,) = struct.unpack_from(">I", blob, data + offset)
        raw = blob[data + offset + 4:data + offset + 4 + size]
        if flags & COMPRESSED_ZSTD:
            return None
        return zlib.decompress(raw[4:]) if flags & COMPRESSED_ZLIB else raw

    stack = [(0, "")]
    seen = set()
    while stack:
        index, prefix = stack.pop()
        if index in seen:
            raise RccError("malformed .rcc: node tree has a cycle")
        seen.add(index)
        base = tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", blob, base)
        name = name_at(name_offset) if index else ""
        if flags & DIRECTORY:
            count, first = struct.unpack_from(">II", blob, base + 6)
            stack.extend((child, f"{prefix}{name}/") for child in range(first, first + count))
        else:
            (offset,) = struct.unpack_from(">I", blob, base + 10)
            content = payload(offset, flags)
            if content is not None:
                yield prefix + name, content

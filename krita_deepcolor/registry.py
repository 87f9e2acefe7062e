"""The document's record of the layers this plugin added, saved in the .kra as an annotation.

Result layers are recognised by this record, not by name alone. A recorded layer still counts
as ours only while its name starts with ``RESULT_PREFIX``, so renaming a result keeps it from
ever being replaced. Each record names the line-art layer the result colours, the layers it
replaced (so that undo can take a replacement back whole: ``undo_steps.py``) and a fingerprint
of what it held (so that paint added by hand is noticed). No numpy: the extension loads this
before the plugin's dependencies are known to be there.
"""

from __future__ import annotations

import json
import zlib

from .document import node_id, walk
from .qt import QByteArray

RESULT_PREFIX = "Deepcolor"
ANNOTATION = "krita-deepcolor"
RESULT, PREVIEW = "result", "preview"


class Registry:
    """The document's record of the layers this plugin added: id -> {line, kind, replaces, signature}."""

    def __init__(self, doc):
        self.doc = doc
        raw = bytes(doc.annotation(ANNOTATION)) if ANNOTATION in doc.annotationTypes() else b""
        try:
            self.layers = json.loads(raw.decode("utf-8")).get("layers", {}) if raw else {}
        except (ValueError, AttributeError):
            self.layers = {}  # a damaged record only means old results are not replaced

    def save(self) -> None:
        data = json.dumps({"version": 1, "layers": self.layers}).encode("utf-8")
        self.doc.setAnnotation(ANNOTATION, "krita-deepcolor result layers", QByteArray(data))

    def is_ours(self, node) -> bool:
        return node_id(node) in self.layers and node.name().startswith(RESULT_PREFIX)

    def layers_for(self, line, kinds=(RESULT, PREVIEW)) -> list:
        """Our layers in the document that colour ``line``."""
        line_id = node_id(line)
        return [node for node, _ in walk(self.doc.rootNode())
                if self.is_ours(node) and self.layers[node_id(node)]["line"] == line_id
                and self.layers[node_id(node)]["kind"] in kinds]

    def present(self, kinds=(RESULT, PREVIEW)) -> set[str]:
        """Ids of our layers of ``kinds`` that are in the document now."""
        return {node_id(node) for node, _ in walk(self.doc.rootNode())
                if self.is_ours(node) and self.layers[node_id(node)]["kind"] in kinds}

    def add(self, node, line, kind: str, replaces=(), fingerprint: str = "") -> None:
        """Record ``node``, the layers it replaced (``replaces``, their ids) and what it held when
        it was added (``fingerprint``, its ``signature``: to notice paint added by hand)."""
        self.layers[node_id(node)] = {"line": node_id(line), "kind": kind, "replaces": list(replaces),
                                      "signature": fingerprint}

    def forget(self, node) -> None:
        self.layers.pop(node_id(node), None)

    def painted_by_hand(self, node) -> bool:
        """Whether ``node`` (a result of ours) changed since it was added."""
        recorded = self.layers.get(node_id(node), {}).get("signature")
        return bool(recorded) and recorded != signature(node)

    def between_steps(self) -> bool:
        """Whether the document stands halfway through a replacement's undo steps: a new result is
        in it together with a layer it replaced (Krita's API records adding the new layer and
        removing each old one as steps of their own)."""
        present = {node_id(node) for node, _ in walk(self.doc.rootNode())}
        return any(layer in present and present.intersection(record.get("replaces", ()))
                   for layer, record in self.layers.items())


def signature(node) -> str:
    """A fingerprint of everything ``node`` shows (its bounds and a checksum of its pixels)."""
    bounds = node.bounds()
    area = (bounds.x(), bounds.y(), bounds.width(), bounds.height())
    data = node.projectionPixelData(*area) if area[2] > 0 and area[3] > 0 else b""
    return f"{area}:{zlib.crc32(memoryview(data)):08x}"

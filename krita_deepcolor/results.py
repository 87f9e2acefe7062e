"""The layers the plugin adds: placement, replacing, and the live preview's layer.

Which layers are ours is the document's record (``registry.py``). Replacing is "add the new
layer, then remove the old ones", each an undo step of its own that ``undo_steps.py`` undoes and
redoes as one; the new layer goes on the far side of the old one, so that undoing the removals
shows the previous colouring again. A result split into one layer per colour is a group of
ours; the colour layers inside it are not recorded. Results painted on by hand are set aside
instead of replaced, and the layer the artist had active stays active.
"""

from __future__ import annotations

import time

from .document import DocumentError, find_node, is_open, node_id, scratch_document, walk
from .engine.flats import Flats
from .pixels import write_rgba
from .qt import QTimer
from .registry import PREVIEW, RESULT, RESULT_PREFIX, Registry, signature
from .undo_steps import watch_active_window

BEHIND = "behind"  # Krita's blending mode that paints under what is already below in the group
MULTIPLY = "multiply"
KEEP_ACTIVE_S, KEEP_ACTIVE_POLL_MS = 0.5, 20  # how long, and how often, the active layer is kept


def result_name(model_name: str, kind: str = RESULT) -> str:
    if kind == PREVIEW:
        return f"{RESULT_PREFIX} preview · {model_name}"
    return f"{RESULT_PREFIX} · {model_name} · {time.strftime('%H:%M')}"


def _placement(line, replaced_ids: set[str], over_paper: bool = False):
    """Where a new result goes: (node to add it above, blending mode).

    Right under the line art, beneath any results it replaces, so that undoing their removal
    shows them on top again. When nothing lies below (the line art is the lowest layer of its
    group), the layer goes above the line art with the "behind" mode, which looks the same.
    ``over_paper``: the line art is opaque paper, which would hide anything under it; the layer
    goes right above it in the "multiply" mode, which shows the colours and keeps the lines dark.
    """
    siblings = line.parentNode().childNodes()  # bottom to top
    ids = [node_id(node) for node in siblings]
    index = ids.index(node_id(line))
    if over_paper:
        return line, MULTIPLY

    def replaced(position: int, behind: bool) -> bool:
        return ids[position] in replaced_ids and (siblings[position].blendingMode() == BEHIND) == behind

    low = index
    while low > 0 and replaced(low - 1, behind=False):
        low -= 1
    if low > 0:
        return siblings[low - 1], None
    high = index
    while high + 1 < len(siblings) and replaced(high + 1, behind=True):
        high += 1
    return siblings[high], BEHIND


def _closest_first(line, nodes) -> list:
    siblings = [node_id(node) for node in line.parentNode().childNodes()]
    here = siblings.index(node_id(line))

    def distance(node):
        return abs(siblings.index(node_id(node)) - here) if node_id(node) in siblings else len(siblings)
    return sorted(nodes, key=distance)


def replaced_result(doc, line):
    """The result layer (or group) a new result for ``line`` would replace, nearest first; None."""
    results = _closest_first(line, Registry(doc).layers_for(line, (RESULT,)))
    return results[0] if results else None


def _colour_group(doc, name: str, flats: Flats, origin: tuple[int, int]):
    """A group named ``name`` holding one paint layer per flat colour (the first on top), built in
    a scratch document of the same size and colour space; returns (the group, the scratch document,
    to be closed once the group was copied out of it).

    Built there because adding a layer to a group records a step in the document's undo history
    (one per colour), and a group Krita never composited shows nothing when it is added. In the
    scratch document neither matters: each layer added to the group composites its own part,
    and the finished group goes into the user's document as a single step.
    """
    scratch = scratch_document("krita-deepcolor layers", doc.width(), doc.height(), doc.colorModel(),
                               doc.colorDepth(), doc.colorProfile(), doc.resolution())
    if scratch is None:
        raise DocumentError(f"Krita could not make the layers for '{name}'")
    for layer in scratch.rootNode().childNodes():
        layer.remove()
    group = scratch.createGroupLayer(name)
    scratch.rootNode().addChildNode(group, None)
    for number in reversed(range(len(flats.flats))):
        flat = flats.flats[number]
        layer = scratch.createNode(flat.name, "paintlayer")
        write_rgba(layer, flats.layer(number), (origin[0] + flat.rect[0], origin[1] + flat.rect[1]))
        group.addChildNode(layer, None)
    scratch.waitForDone()
    return group.duplicate(), scratch


def add_result(doc, line, content, name: str, kind: str = RESULT, origin: tuple[int, int] = (0, 0),
               over_paper: bool = False):
    """Add ``content`` as a new layer colouring ``line``, replacing earlier ones; returns the layer.

    ``content``: an RGBA array placed at ``origin`` on the canvas, or ``Flats`` (one colour per
    layer) that become a group of layers, one per colour. A result replaces earlier results and
    previews of the same line art; a preview replaces earlier previews. The pixels are set (and
    a group filled) before the layer is inserted: setting pixels is not undoable, inserting is,
    so that inserting and removing the old layers are all the history holds. ``over_paper``:
    the line art hides what lies under it (``_placement``).
    """
    registry = Registry(doc)
    replaced = registry.layers_for(line, (RESULT, PREVIEW) if kind == RESULT else (PREVIEW,))
    active = doc.activeNode()
    scratch = None
    try:
        if isinstance(content, Flats):
            node, scratch = _colour_group(doc, name, content, origin)
        else:
            node = doc.createNode(name, "paintlayer")
            write_rgba(node, content, origin)
        above, mode = _placement(line, {node_id(old) for old in replaced}, over_paper)
        if mode:
            node.setBlendingMode(mode)
        if not line.parentNode().addChildNode(node, above):
            raise DocumentError(f"Krita refused to add the layer '{name}'")
        if scratch is not None:  # the copy's handle still points at the scratch document
            node = find_node(doc, node_id(node))
    finally:
        if scratch is not None:
            scratch.close()
    doc.waitForDone()  # a group's projection is composited in the background
    fingerprint = signature(node) if kind == RESULT else ""  # previews are repainted: never "painted"
    registry.add(node, line, kind, [node_id(old) for old in replaced], fingerprint)
    registry.save()
    watch_active_window()  # so that one undo takes back the add and the removals below
    # Farthest first: the last removal is the one a single undo brings back, the closest one.
    for old in reversed(_closest_first(line, replaced)):
        old.remove()
    keep_active(doc, active, node)
    return node


def set_aside_painted(doc, line) -> list[str]:
    """Results of ``line`` that were painted on by hand stop being results, so that no new result
    replaces them: each is renamed (its new name returned) and left where it is."""
    registry = Registry(doc)
    kept = []
    for node in registry.layers_for(line, (RESULT,)):
        if registry.painted_by_hand(node):
            node.setName(f"{node.name()} · painted")
            registry.forget(node)
            kept.append(node.name())
    if kept:
        registry.save()
    return kept


def keep_active(doc, node, added) -> None:
    """Keep ``node`` (the layer active before ``added`` was added) the active layer: Krita makes a
    layer active when it is added, a moment later, and the artist's next stroke would land on it.

    For KEEP_ACTIVE_S the active layer is put back whenever it is ``added`` or inside it; a layer
    the artist picks meanwhile stays picked."""
    if node is None:
        return
    keep, ours = node_id(node), {node_id(added)} | {node_id(child) for child, _ in walk(added)}
    deadline = time.monotonic() + KEEP_ACTIVE_S

    def restore(delay_ms: int = KEEP_ACTIVE_POLL_MS):
        if not is_open(doc) or find_node(doc, keep) is None:
            return
        current = doc.activeNode()
        if current is None or node_id(current) in ours:
            doc.setActiveNode(node)
        if time.monotonic() < deadline:
            QTimer.singleShot(delay_ms, restore)
    restore(0)  # Krita's own activation comes with the next turn of the event loop


def update_preview(doc, line, rgba, name: str, origin: tuple[int, int] = (0, 0), shown=None,
                   over_paper: bool = False):
    """Show a live preview: repaint the existing preview layer in place, or add one.

    Repainting in place keeps previews out of the undo history, so each undo still takes back
    one of the user's own hint strokes. ``shown`` (layer id, origin, pixels): what the last
    preview wrote; when it is this layer's, only the tiles that changed are repainted.
    """
    existing = Registry(doc).layers_for(line, (PREVIEW,))
    if not existing:
        return add_result(doc, line, rgba, name, PREVIEW, origin, over_paper)
    node = existing[0]
    same = shown is not None and shown[0] == node_id(node) and tuple(shown[1]) == tuple(origin)
    write_rgba(node, rgba, origin, shown=shown[2] if same else None)
    node.setName(name)
    doc.refreshProjection()
    return node

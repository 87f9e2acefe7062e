"""Which layers to colour: the docker's pickers and the automatic choice of line art and hints."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import DocumentError, find_node, node_id, walk
from .registry import Registry

AUTO, NO_HINTS = "auto", "none"  # the layer pickers' choices besides a layer's id

LINE_WORDS = {"line", "lines", "lineart", "linework", "ink", "inks", "inking", "outline", "outlines"}
HINT_WORDS = {"hint", "hints", "colour", "colours", "color", "colors", "colorhint", "colourhint"}
# The keep-clear layer: strokes on it mark regions that stay transparent.
CLEAR_WORDS = {"clear", "keepclear", "transparent"}
BACKGROUND_WORDS = {"background", "bg", "paper", "backdrop"}


def user_layers(doc) -> list[tuple[object, int]]:
    """(node, depth) of the layers a user may pick: ours (and the colour layers inside a group
    of ours) left out."""
    registry = Registry(doc)
    layers, inside_ours = [], None  # the depth of the group of ours being skipped
    for node, depth in walk(doc.rootNode()):
        if inside_ours is not None and depth > inside_ours:
            continue
        inside_ours = depth if registry.is_ours(node) else None
        if inside_ours is None:
            layers.append((node, depth))
    return layers


@dataclass(frozen=True)
class LayerChoice:
    """A layer as the docker's pickers show it: plain data, no Krita object."""

    layer_id: str
    name: str
    depth: int


def layer_choices(doc) -> list[LayerChoice]:
    return [LayerChoice(node_id(node), node.name(), depth) for node, depth in user_layers(doc)]


def auto_pick_names(doc) -> tuple[str | None, str | None, str | None]:
    """Names of the layers AUTO would pick now (line art, hints, keep-clear), for the pickers'
    "Automatic" entries."""
    line = auto_line_layer(doc)
    hint = auto_hint_layer(doc, line)
    clear = auto_clear_layer(doc, line, hint)
    return tuple(node.name() if node is not None else None for node in (line, hint, clear))


def picker_entries(doc) -> tuple[list[tuple[str, str]], ...]:
    """(label, pick) of the docker's line-art, hint and keep-clear pickers for ``doc`` (None: no
    document).

    "Automatic" first, naming the layer it would take now; the hint and keep-clear pickers also
    offer "None"; then every layer a user may pick, indented by its depth in groups.
    """
    choices = layer_choices(doc) if doc is not None else []
    line_name, hint_name, clear_name = auto_pick_names(doc) if doc is not None else (None, None, None)
    layers = [("    " * choice.depth + choice.name, choice.layer_id) for choice in choices]

    def automatic(name):
        return f"Automatic ({name or 'none found'})", AUTO
    return ([automatic(line_name), *layers], [automatic(hint_name), ("None", NO_HINTS), *layers],
            [automatic(clear_name), ("None", NO_HINTS), *layers])


def _named_like(node, words) -> bool:
    return bool(words.intersection(re.findall(r"[a-z]+", node.name().lower())))


def _is_empty(node) -> bool:
    return node.bounds().isEmpty()  # cheap: no pixels are read


def _distrust(node, hint) -> str | None:
    """Why the active layer must not be taken as line art, or None if it may be."""
    if _named_like(node, HINT_WORDS) or (hint is not None and node_id(node) == node_id(hint)):
        return "is the hint layer"
    if _named_like(node, CLEAR_WORDS):
        return "is the keep-clear layer"
    if _named_like(node, BACKGROUND_WORDS):
        return "is the background"
    if _is_empty(node):
        return "has nothing drawn on it"
    return None


def _active_user_layer(doc):
    active = doc.activeNode()
    if active is None or not any(node_id(active) == node_id(node) for node, _ in user_layers(doc)):
        return None
    return active


def auto_line_layer(doc, hint=None):
    """The layer AUTO takes as line art, or None.

    The topmost layer named like line art that has something drawn on it (else the topmost one
    named so, which is then reported as empty); without such names the active layer, unless
    it is the hint layer (``hint`` or named like hints), a background, or has nothing on it.
    """
    named = [node for node, _ in user_layers(doc)
             if _named_like(node, LINE_WORDS) and not _named_like(node, CLEAR_WORDS)]
    if named:
        return next((node for node in named if not _is_empty(node)), named[0])
    active = _active_user_layer(doc)
    if active is not None and _distrust(active, hint) is None:
        return active
    return None


def auto_hint_layer(doc, line):
    """The topmost layer named like hints (never the line art itself); None means no hints."""
    line_id = node_id(line) if line is not None else None
    return next((node for node, _ in user_layers(doc)
                 if _named_like(node, HINT_WORDS) and not _named_like(node, LINE_WORDS | CLEAR_WORDS)
                 and node_id(node) != line_id), None)


def auto_clear_layer(doc, line, hint):
    """The topmost layer named like "Clear" (never the line art or the hints); None: no key."""
    taken = {node_id(node) for node in (line, hint) if node is not None}
    return next((node for node, _ in user_layers(doc)
                 if _named_like(node, CLEAR_WORDS) and node_id(node) not in taken), None)


def pick_clear(doc, clear_pick: str, line, hint):
    """Resolve the keep-clear picker (AUTO, NO_HINTS or a layer id) to a layer or None."""
    if clear_pick == NO_HINTS:
        return None
    if clear_pick == AUTO:
        return auto_clear_layer(doc, line, hint)
    clear = find_node(doc, clear_pick)
    if clear is None:
        raise DocumentError("the chosen keep-clear layer is gone: pick another one, or None")
    if any(node is not None and node_id(node) == node_id(clear) for node in (line, hint)):
        raise DocumentError("the keep-clear layer must be a layer of its own, not the line art or the "
                            "hints: pick another one, or None")
    return clear


def _no_line_art(doc, hint) -> DocumentError:
    message = (f"'{doc.name() or 'document'}' has no line-art layer: name a layer 'lines' or pick one "
               "in the Deepcolor docker")
    active = _active_user_layer(doc)
    if active is not None:
        message += f" (the active layer '{active.name()}' {_distrust(active, hint)})"
    return DocumentError(message)


def pick_layers(doc, line_pick: str = AUTO, hint_pick: str = AUTO):
    """Resolve the docker's picks (AUTO, NO_HINTS or a layer id) to (line node, hint node|None)."""
    chosen_hint = find_node(doc, hint_pick) if hint_pick not in (AUTO, NO_HINTS) else None
    if hint_pick not in (AUTO, NO_HINTS) and chosen_hint is None:
        raise DocumentError("the chosen hint layer is gone: pick another one, or None")
    line = auto_line_layer(doc, chosen_hint) if line_pick == AUTO else find_node(doc, line_pick)
    if line is None:
        if line_pick == AUTO:
            raise _no_line_art(doc, chosen_hint)
        raise DocumentError("the chosen line-art layer is gone: pick another one")
    if hint_pick == NO_HINTS:
        return line, None
    hint = chosen_hint or auto_hint_layer(doc, line)
    if hint is not None and node_id(hint) == node_id(line):
        raise DocumentError("line art and hints are the same layer: pick two different layers")
    return line, hint

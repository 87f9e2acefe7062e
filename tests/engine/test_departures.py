"""Flood-first finishing: the flood is the answer; the proposal only where the decision is sure."""

import json

import cv2
import numpy as np
import pytest

from krita_deepcolor.engine import Options, colorize, load_model
from krita_deepcolor.engine.departures import (
    DECISION_FILE,
    FEATURES,
    KINDS,
    Decision,
    depart,
    find_units,
    flood_answer,
    shipped_decision,
)

RED, BLUE = (255, 0, 0), (0, 0, 255)
NETWORK = np.full((40, 40, 3), 0.8, np.float32)  # a network output at a smaller working size


def boxes_with_gap(size=160, gap=0):
    """Line levels: a figure of two boxes sharing a wall; ``gap`` px cut into the shared wall."""
    line = np.full((size, size), 255, np.uint8)
    cv2.rectangle(line, (20, 30), (140, 130), 0, 3)
    cv2.line(line, (80, 30), (80, 130), 0, 3)
    if gap:
        line[70:70 + gap, 78:83] = 255
    return line


def stroke(hint, box, rgb):
    x0, y0, x1, y1 = box
    hint[y0:y1, x0:x1] = (*rgb, 255)
    return hint


def always(kind_thresholds):
    """A decision whose probability is 0.5 everywhere, departing for kinds whose threshold < 0.5."""
    shape = (len(KINDS), len(FEATURES))
    return Decision(np.zeros(shape), np.ones(shape), np.zeros(shape), np.zeros(len(KINDS)),
                    np.asarray(kind_thresholds, np.float32))


NEVER, ALWAYS = always([1.0] * 3), always([0.0] * 3)


def test_the_flood_is_colorize_masks_answer():
    line = boxes_with_gap()
    hint = stroke(np.zeros(line.shape + (4,), np.uint8), (40, 60, 60, 70), RED)
    flood = flood_answer(line, hint, None)
    assert (flood[100, 50] == (*RED, 255)).all()  # the stroked box is red
    assert flood[100, 110, 3] == 0 and flood[5, 5, 3] == 0  # the other box and outside: clear


def test_units_have_kinds_and_every_feature():
    line = boxes_with_gap()
    hint = stroke(np.zeros(line.shape + (4,), np.uint8), (40, 60, 60, 70), RED)
    flood = flood_answer(line, hint, None)
    proposal = flood.copy()
    proposal[40:120, 90:130] = (*BLUE, 255)  # fills the unstroked box: a "fill" unit
    proposal[40:120, 30:70, 3] = 0  # clears most of the stroked box: a "clear" unit
    units = find_units(line, hint, flood, proposal, NETWORK, radius=2, line_width=3.0)
    assert units.features.shape == (len(units.kinds), len(FEATURES))
    assert np.isfinite(units.features).all()
    assert set(units.kinds.tolist()) == {KINDS.index("clear"), KINDS.index("fill")}
    assert not units.labels[line < 128].any()  # ink is never part of a unit
    assert not units.forbidden.any()  # the unstroked box is enclosed: a figure region


def test_the_decision_picks_per_unit_and_never_fills_the_background():
    line = boxes_with_gap()
    hint = stroke(np.zeros(line.shape + (4,), np.uint8), (40, 60, 60, 70), RED)
    flood = flood_answer(line, hint, None)
    proposal = flood.copy()
    proposal[40:120, 90:130] = (*BLUE, 255)
    proposal[2:12, 2:150] = (*BLUE, 255)  # colour on the background, which the flood keeps clear
    units = find_units(line, hint, flood, proposal, NETWORK, radius=2, line_width=3.0)
    assert (depart(flood, proposal, units, NEVER) == flood).all()
    taken = depart(flood, proposal, units, ALWAYS)
    assert (taken[100, 110] == (*BLUE, 255)).all()
    assert taken[5, 50, 3] == 0  # forbidden: flood clear and outside every closed-up outline
    only_fill = depart(flood, proposal, units, always([1.0, 1.0, 0.0]))
    assert (only_fill[100, 110] == (*BLUE, 255)).all()


def test_a_leak_through_a_gap_is_a_recolour_unit():
    line = boxes_with_gap(gap=8)
    hint = stroke(np.zeros(line.shape + (4,), np.uint8), (40, 60, 60, 70), RED)
    hint = stroke(hint, (100, 110, 120, 120), BLUE)
    flood = flood_answer(line, hint, None)
    proposal = flood.copy()
    proposal[35:126, 24:78] = (*RED, 255)
    proposal[35:126, 83:137] = (*BLUE, 255)
    units = find_units(line, hint, flood, proposal, NETWORK, radius=2, line_width=3.0)
    if len(units.kinds):  # the watershed may already split at the gap: then nothing to decide
        assert set(units.kinds.tolist()) == {KINDS.index("recolour")}


def test_the_shipped_decision_loads_and_matches_the_features():
    data = json.loads(DECISION_FILE.read_text())
    assert data["features"] == list(FEATURES) and data["kinds"] == list(KINDS)
    decision = shipped_decision()
    assert decision.weights.shape == (len(KINDS), len(FEATURES))
    assert ((decision.threshold >= 0) & (decision.threshold <= 1.01)).all()
    with pytest.raises(ValueError, match="retrain"):
        Decision.from_dict({**data, "features": data["features"][:-1]})


def test_fully_stroked_flat_art_gets_exactly_the_flood(model_path):
    """Every region stroked: the answer is known, and the finishing must not lose it."""
    model = load_model(model_path)
    line8 = boxes_with_gap()
    layer = np.zeros(line8.shape + (4,), np.uint8)
    layer[..., 3] = 255 - line8
    hint = stroke(np.zeros(line8.shape + (4,), np.uint8), (40, 60, 60, 70), RED)
    hint = stroke(hint, (100, 60, 120, 70), BLUE)
    result = colorize(model, layer, hint, Options(match_line_width=False)).rgba
    assert (result[100, 50] == (*RED, 255)).all() and (result[100, 110] == (*BLUE, 255)).all()
    assert result[5, 5, 3] == 0

"""Reading only a layer's content bounds and writing only the pixels in use change no pixel."""

import numpy as np

from krita_deepcolor.pixels import content_rect, read_rgba, write_rgba
from tests.krita.helpers import add_layer, hint_spot, line_art


def test_reading_the_content_bounds_gives_the_visible_pixels(make_doc):
    doc = make_doc(300, 200)
    spot = hint_spot(300, 200, (200, 90, 60), where=(0.7, 0.3))
    spot[60:70, 20:30] = (10, 20, 30, 0)  # colour under full transparency: invisible
    node = add_layer(doc, "Hints", spot)

    x, y, w, h = content_rect(node, 300, 200)
    assert 0 < w < 300 and 0 < h < 200
    full = read_rgba(node, 300, 200)
    bounded = read_rgba(node, 300, 200, content_only=True)
    visible = full[:, :, 3] > 0
    assert (bounded[visible] == full[visible]).all()
    assert not bounded[~visible].any()  # transparent pixels read as transparent black


def test_an_empty_layer_is_not_read(make_doc):
    doc = make_doc(64, 48)
    node = add_layer(doc, "Hints")
    assert content_rect(node, 64, 48)[2] == 0
    assert not read_rgba(node, 64, 48, content_only=True).any()


def test_writing_again_clears_what_the_layer_held(make_doc):
    doc = make_doc(120, 80)
    node = add_layer(doc, "result", line_art(120, 80))
    second = np.zeros((80, 120, 4), np.uint8)
    second[60:70, 100:110] = (1, 2, 3, 255)  # only a corner: the old boxes lie outside it
    write_rgba(node, second)
    assert (read_rgba(node, 120, 80) == second).all()
    write_rgba(node, np.zeros_like(second))
    assert not read_rgba(node, 120, 80).any()


def test_group_layers_are_read_over_the_canvas(make_doc):
    doc = make_doc(64, 48)
    group = add_layer(doc, "Group", kind="grouplayer")
    add_layer(doc, "Lines", line_art(64, 48), parent=group)
    assert content_rect(group, 64, 48) == (0, 0, 64, 48)
    doc.waitForDone()
    assert (read_rgba(group, 64, 48, content_only=True) == read_rgba(group, 64, 48)).all()


def test_a_mostly_transparent_result_written_tile_by_tile_reads_back_exactly(make_doc):
    doc = make_doc(1000, 700)
    node = add_layer(doc, "result")
    rng = np.random.default_rng(5)
    rgba = np.zeros((500, 800, 4), np.uint8)
    rgba[3:9, 10:790] = (200, 30, 40, 255)  # a stroke across many tiles
    rgba[400:480, 700:703] = rng.integers(1, 256, (80, 3, 4))  # a thin patch, alpha of every level
    rgba[499, 0] = (1, 2, 3, 4)  # one faint pixel in a corner
    origin = (130, 70)  # off the 64-px tile grid, as a selection's bounds are
    write_rgba(node, rgba, origin)
    expected = np.zeros((700, 1000, 4), np.uint8)
    expected[70:570, 130:930] = rgba
    assert (read_rgba(node, 1000, 700) == expected).all()
    # written again elsewhere: what it held is cleared, tiles it did not touch included
    moved = np.zeros((64, 64, 4), np.uint8)
    moved[30:34, 30:34] = (9, 8, 7, 255)
    write_rgba(node, moved, (900, 600))
    expected[:] = 0
    expected[600:664, 900:964] = moved
    assert (read_rgba(node, 1000, 700) == expected).all()


def test_a_preview_repaint_writes_only_the_tiles_that_changed(make_doc):
    doc = make_doc(256, 128)
    node = add_layer(doc, "preview")
    first = np.zeros((128, 256, 4), np.uint8)
    first[:, :] = (10, 20, 30, 255)
    write_rgba(node, first)
    second = first.copy()
    second[70:80, 200:210] = (200, 0, 0, 255)  # one stroke, in the tile at (192, 64)
    write_rgba(node, second, shown=first)
    assert (read_rgba(node, 256, 128) == second).all()
    # nothing differs from what it is told the layer shows: nothing is written, not even where
    # the layer really differs (the stroke stays)
    write_rgba(node, first, shown=first)
    assert (read_rgba(node, 256, 128) == second).all()
    write_rgba(node, first, shown=second)  # only the stroke's tile is written back
    assert (read_rgba(node, 256, 128) == first).all()

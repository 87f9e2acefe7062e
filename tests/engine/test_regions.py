"""Hybrid finishing: the flood carries the hints, the network the regions no hint reaches."""

import cv2
import numpy as np
import pytest

from krita_deepcolor.engine import Options, colorize, load_model
from krita_deepcolor.engine.regions import (
    FLOOD_MAX_SIDE,
    Regions,
    _network_means,
    find_regions,
    hybrid_colors,
    watershed_flood,
)
from tests import contract_models

RED, BLUE, GREEN = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0)
NETWORK_RGB = (0.5, 0.6, 0.7)
ROUNDING = 0.5 / 255  # the layer stores colours in 8 bits


def two_boxes(size=200, gap=0):
    """uint8 line levels: two squares side by side; ``gap`` px missing in the left one's top edge."""
    line = np.full((size, size), 255, np.uint8)
    cv2.rectangle(line, (20, 40), (95, 160), 0, 3)
    cv2.rectangle(line, (105, 40), (180, 160), 0, 3)
    if gap:
        line[38:43, 50:50 + gap] = 255
    return line


def hints_with(*strokes, size=200):
    """uint8 straight RGBA hints: a 6 px stroke per ((x0, y0, x1, y1), rgb in [0, 1])."""
    hint = no_hints(size)
    for (x0, y0, x1, y1), rgb in strokes:
        cv2.line(hint, (x0, y0), (x1, y1), (*(255 * np.array(rgb)), 255), 6)
    return hint


def flats(*args, **kwargs):
    """hybrid_colors' uint8 layer as (rgb, alpha) in [0, 1]."""
    layer = hybrid_colors(*args, **kwargs)
    assert layer.dtype == np.uint8 and layer.shape[2] == 4
    return layer[:, :, :3] / 255.0, layer[:, :, 3] / 255.0


def no_hints(size=200):
    return np.zeros((size, size, 4), np.uint8)


def network(size=200, rgb=NETWORK_RGB):
    return np.broadcast_to(np.float32(rgb), (size, size, 3)).copy()


def test_hinted_region_is_flat_hint_colour_and_outside_is_transparent():
    rgb, alpha = flats(two_boxes(), hints_with(((40, 100), (70, 100)) and ((40, 100, 70, 100), RED)),
                       network(), line_width=3)
    inside_left = rgb[50:150, 30:85]
    assert np.allclose(inside_left, RED) and (alpha[50:150, 30:85] == 1).all()
    assert (alpha[5:15, :] == 0).all() and (alpha[:, 190:] == 0).all()  # outside the figure


def test_regions_no_hint_reaches_take_the_networks_colour():
    rgb, alpha = flats(two_boxes(), hints_with(((40, 100, 70, 100), RED)), network(), line_width=3)
    np.testing.assert_allclose(rgb[60:140, 115:170], np.broadcast_to(NETWORK_RGB, (80, 55, 3)), atol=ROUNDING)
    assert (alpha[60:140, 115:170] == 1).all()


def test_a_region_cut_off_by_the_gap_closing_takes_the_colour_flowing_through_the_gap():
    """A box split by a wall with a 3 px gap, which the gap closing shuts: the right half is a
    region of its own with no hint. Colour flows into it through the gap (as Krita's Colorize
    Mask would flood it), not the network's guess."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.rectangle(line, (20, 40), (180, 160), 0, 3)
    cv2.line(line, (100, 40), (100, 160), 0, 3)
    line[98:101, 97:104] = 255  # the 3 px gap in the wall
    rgb, alpha = flats(line, hints_with(((40, 100, 70, 100), RED)), network(), line_width=3)
    assert (alpha[60:140, 115:170] == 1).all() and np.allclose(rgb[60:140, 115:170], RED)


def test_a_network_colour_near_a_hint_colour_becomes_exactly_that_hint_colour():
    near_red = network(rgb=(0.85, 0.1, 0.15))
    rgb, _ = flats(two_boxes(), hints_with(((40, 100, 70, 100), RED)), near_red, line_width=3)
    assert np.allclose(rgb[60:140, 115:170], RED)
    far_from_red = network(rgb=(0.2, 0.7, 0.3))
    rgb, _ = flats(two_boxes(), hints_with(((40, 100, 70, 100), RED)), far_from_red, line_width=3)
    assert np.allclose(rgb[60:140, 115:170], (0.2, 0.7, 0.3), atol=ROUNDING)


def test_a_stroke_overflowing_its_region_does_not_colour_the_neighbour_or_background():
    # mostly in the left box, its end crossing the line into the right box and below the figure
    overflowing = hints_with(((40, 120, 112, 120), RED), ((60, 140, 60, 175), BLUE))
    rgb, alpha = flats(two_boxes(), overflowing, network(), line_width=3)
    assert np.allclose(rgb[60:140, 125:170], NETWORK_RGB, atol=ROUNDING)  # right box keeps the network colour
    assert (alpha[168:200, :] == 0).all()  # background stays transparent


def test_small_gaps_in_an_outline_are_closed():
    rgb, alpha = flats(two_boxes(gap=3), hints_with(((40, 100, 70, 100), RED)), network(), line_width=3)
    assert (alpha[0:30, :] == 0).all()  # the hint did not leak out through the gap
    assert np.allclose(rgb[50:150, 30:85], RED)


def test_an_outline_that_does_not_close_still_holds_its_hint_colour():
    """A 10 px gap is far wider than the lines: the box's paper joins the background, yet the
    hint inside colours the box, not the background."""
    rgb, alpha = flats(two_boxes(gap=10), hints_with(((40, 120, 70, 120), RED)), network(), line_width=3)
    assert (alpha[50:150, 30:85] == 1).all() and np.allclose(rgb[50:150, 30:85], RED)
    assert (alpha[0:30, :] == 0).all() and (alpha[:, 190:] == 0).all()


def test_an_unhinted_figure_whose_outline_does_not_close_takes_the_networks_colour():
    rgb, alpha = flats(two_boxes(gap=10), no_hints(), network(), line_width=3)
    assert (alpha[50:150, 30:85] == 1).all() and np.allclose(rgb[50:150, 30:85], NETWORK_RGB, atol=ROUNDING)
    assert (alpha[0:30, :] == 0).all() and (alpha[:, 190:] == 0).all()


def cut_by_the_canvas_edge(paint=(0.5, 0.6, 0.7)):
    """A figure whose outline runs into the bottom edge (the edge closes it), and a network
    that paints it ``paint`` and everything else white."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.polylines(line, [np.array([(80, 199), (80, 120), (120, 120), (120, 199)])], False, 0, 3)
    painted = np.ones((200, 200, 3), np.float32)
    painted[120:, 80:120] = paint
    return line, painted


def test_without_hints_a_figure_cut_by_the_canvas_edge_takes_the_networks_colour():
    line, painted = cut_by_the_canvas_edge()
    rgb, alpha = flats(line, no_hints(), painted, line_width=3)
    assert (alpha[130:, 90:110] == 1).all() and np.allclose(rgb[130:, 90:110], NETWORK_RGB, atol=0.02)
    assert (alpha[:100] == 0).all()  # the surround stays paper


def test_without_hints_a_border_region_the_network_paints_white_stays_transparent():
    line, painted = cut_by_the_canvas_edge(paint=(0.99, 0.99, 0.98))
    _, alpha = flats(line, no_hints(), painted, line_width=3)
    assert (alpha == 0).all()


def test_with_hints_only_hinted_border_regions_are_painted():
    line, painted = cut_by_the_canvas_edge()
    _, alpha = flats(line, hints_with(((20, 20, 40, 20), BLUE)), painted, line_width=3)
    assert (alpha[130:, 90:110] == 0).all()  # the user painted elsewhere: this region is theirs to hint


def test_a_narrow_strip_walled_in_only_by_closing_wide_gaps_stays_transparent():
    """A 25 px corridor whose end is open by 12 px: closing the gap walls it in, but it is too
    narrow to be taken for the inside of a figure (it is as likely background between parts)."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.rectangle(line, (20, 80), (180, 108), 0, 3)
    line[83:96, 18:24] = 255  # the gap in the left end
    rgb, alpha = flats(line, no_hints(), network(), line_width=3)
    assert (alpha[86:102, 30:170] == 0).all()


def test_wide_gaps_are_closed_at_reduced_size_with_the_same_regions():
    """A 1 px outline on a 1600 px canvas, open by 70 px, with a 1 px wall inside: closing the
    gap (radius 48, labelled at 1/3 size) seals the figure and keeps the wall between its halves."""
    line = np.full((1600, 1600), 255, np.uint8)
    cv2.rectangle(line, (400, 400), (1200, 1200), 0, 1)
    line[395:405, 700:770] = 255  # the gap in the top edge
    line[400:1200, 800] = 0  # the wall
    regions = find_regions(line, 48)
    assert regions.labels.shape == line.shape and regions.radius == 48
    left, right, background = regions.labels[800, 600], regions.labels[800, 1000], regions.labels[50, 50]
    assert len({left, right, background}) == 3
    assert regions.outside[background] and not regions.outside[left] and not regions.outside[right]
    assert not regions.paper[800, 800] and regions.paper[800, 600]


def test_a_region_too_small_for_the_network_grid_reads_the_network_where_it_lies():
    """Means are taken on the network's 6x6 grid; the 1 px region at (3, 3) of the 8x8 regions
    falls between its samples and must read the network there, not an average elsewhere."""
    labels = np.zeros((8, 8), np.int32)
    labels[3, 3] = 1
    regions = Regions(labels=labels, count=2, outside=np.array([True, False]),
                      border_share=np.array([1.0, 0.0]), paper=np.ones((8, 8), bool), radius=1)
    painted = np.broadcast_to(np.float32(BLUE), (6, 6, 3)).copy()
    painted[2, 2] = RED  # the network pixel under the small region
    means = _network_means(regions, painted)
    np.testing.assert_allclose(means[1], RED)
    np.testing.assert_allclose(means[0], BLUE, atol=0.05)  # (its samples include that pixel once)


def test_a_stroke_painting_the_background_colours_it_up_to_where_the_border_is_nearer():
    rgb, alpha = flats(two_boxes(), hints_with(((70, 180, 130, 180), BLUE)), network(), line_width=3)
    assert (alpha[172:188, 70:130] == 1).all() and np.allclose(rgb[172:188, 70:130], BLUE)
    assert (alpha[0:20, :] == 0).all()  # far from the stroke, the border key wins
    assert np.allclose(rgb[60:140, 30:85], NETWORK_RGB, atol=ROUNDING)  # the figure keeps its own colours


def test_several_hint_colours_in_one_region_split_it_by_nearest_hint():
    hint = hints_with(((30, 60, 40, 60), RED), ((30, 140, 40, 140), BLUE))
    rgb, _ = flats(two_boxes(), hint, network(), line_width=3)
    assert np.allclose(rgb[55, 60], RED) and np.allclose(rgb[145, 60], BLUE)


def test_shading_adds_the_networks_light_and_dark():
    shaded_network = network()
    shaded_network[:, :60] -= 0.2  # the network darkens the left part of the left box
    hint = hints_with(((40, 100, 70, 100), (0.6, 0.6, 0.6)))
    flat, _ = flats(two_boxes(), hint, shaded_network, line_width=3, shading=0.0)
    shaded, _ = flats(two_boxes(), hint, shaded_network, line_width=3, shading=1.0)
    assert np.allclose(flat[100, 30], flat[100, 80])
    assert shaded[100, 30, 0] < flat[100, 30, 0] < shaded[100, 80, 0]


def test_blank_canvas_is_one_outside_region():
    regions = find_regions(np.full((10, 12), 255, np.uint8), 1)
    assert regions.count == 1 and regions.outside.all()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = contract_models.build(tmp_path_factory.mktemp("m") / "per_pixel.onnx", strict=False)
    return load_model(path, device="cpu")


def test_thin_lines_on_a_big_canvas_still_separate_regions(model):
    """Regions are found at most 2048 px wide: 1 px lines of a 4096 canvas must survive that."""
    size = 4096
    line = np.zeros((size, size, 4), np.uint8)
    cv2.rectangle(line, (400, 400), (3700, 3700), (0, 0, 0, 255), 1)
    line[400:3700, 2049] = (0, 0, 0, 255)
    hint = np.zeros((size, size, 4), np.uint8)
    hint[1000:1100, 1000:1100] = (255, 0, 0, 255)
    result = colorize(model, line, hint, Options(match_line_width=False))
    assert tuple(result.rgba[2000, 1500]) == (255, 0, 0, 255)  # left of the divider: hinted
    assert tuple(result.rgba[2000, 2600, :3]) != (255, 0, 0)  # right of it: not flooded
    assert result.rgba[100, 100, 3] == 0  # outside: transparent


def test_with_lines_keeps_the_outline_opaque_outside_the_figure(model):
    line = np.zeros((128, 128, 4), np.uint8)
    cv2.rectangle(line, (20, 20), (100, 100), (0, 0, 0, 255), 4)
    hint = np.zeros_like(line)
    hint[50:60, 50:60] = (255, 0, 0, 255)
    result = colorize(model, line, hint, Options(with_lines=True, match_line_width=False))
    assert tuple(result.rgba[20, 60]) == (0, 0, 0, 255)  # the outline
    assert result.rgba[5, 5, 3] == 0


def test_raw_finishing_is_the_network_output_everywhere(model):
    line = np.zeros((64, 64, 4), np.uint8)
    cv2.rectangle(line, (10, 10), (50, 50), (0, 0, 0, 255), 2)
    result = colorize(model, line, None, Options(finishing="raw", match_line_width=False))
    assert (result.rgba[..., 3] == 255).all() and tuple(result.rgba[2, 2, :3]) == (255, 255, 255)


def test_full_bleed_art_takes_its_hint_colour_in_the_whole_region():
    """A horizon running into both canvas edges: sky and ground are art, not empty surround."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.line(line, (0, 120), (199, 100), 0, 3)
    hint = hints_with(((20, 30, 50, 30), BLUE), ((150, 170, 180, 170), GREEN))
    rgb, alpha = flats(line, hint, network(), line_width=3)
    assert (alpha == 1).all()
    assert np.allclose(rgb[5:90, :], BLUE) and np.allclose(rgb[135:, :], GREEN)


def test_a_stroke_mostly_inside_an_open_figure_does_not_paint_full_bleed_background():
    """Below a horizon (two border regions, no surround) stands a box whose top edge has a gap;
    the stroke inside it runs out through the gap. Only the box is meant."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.line(line, (0, 60), (199, 60), 0, 3)
    cv2.rectangle(line, (60, 100), (140, 180), 0, 3)
    line[98:103, 95:106] = 255  # a 10 px gap: wider than the gap closing, narrower than the wide one
    paper_around_the_box = network(rgb=(1.0, 1.0, 1.0))
    paper_around_the_box[100:180, 60:140] = NETWORK_RGB
    rgb, alpha = flats(line, hints_with(((100, 150, 100, 92), RED)), paper_around_the_box, line_width=3)
    assert (alpha[110:170, 70:130] == 1).all() and np.allclose(rgb[110:170, 70:130], RED)
    assert (alpha[120:190, 5:40] == 0).all() and (alpha[185:, :] == 0).all()  # the ground beside it
    assert (alpha[:50] == 0).all()  # the sky


def test_art_running_into_the_border_is_flooded_whole_where_the_network_sees_no_paper():
    """Hair cut by the canvas edge along a short stretch, a strand rising from its lower edge
    almost to the top: the wide closing seals both the stretch and the strand's tip, so the
    closed-up figure falls in two halves; the stroke lies in the right one. A network painting
    the hair in colour: the stroke floods all of it. A network painting it as paper: only the
    closed-up half holding the stroke; the other takes the network's colour."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.polylines(line, [np.array([(94, 0), (20, 150), (180, 150), (106, 0)], np.int32)], False, 0, 3)
    cv2.line(line, (100, 150), (100, 20), 0, 3)  # the strand
    hint = hints_with(((125, 110, 150, 110), RED))
    left_half = np.s_[100:140, 60:90]
    rgb, alpha = flats(line, hint, network(), line_width=3)
    assert (alpha[left_half] == 1).all() and np.allclose(rgb[left_half], RED)
    assert (alpha[160:] == 0).all()
    rgb, _ = flats(line, hint, network(rgb=(1.0, 1.0, 1.0)), line_width=3)
    assert np.allclose(rgb[left_half], 1.0) and np.allclose(rgb[100:140, 115:140], RED)


def test_several_hints_in_one_region_flood_it_along_the_lines_inside():
    """An inner square whose top edge has a gap joins the box it stands in: one region, two
    colours. The inner square's wall, not the straight-line distance, decides where each ends."""
    line = np.full((200, 200), 255, np.uint8)
    cv2.rectangle(line, (20, 20), (180, 180), 0, 3)
    cv2.rectangle(line, (60, 60), (140, 140), 0, 3)
    line[57:64, 94:107] = 255  # a 12 px gap: left open by the gap closing
    hint = hints_with(((160, 80, 160, 120), RED), ((70, 80, 70, 120), BLUE))
    rgb, alpha = flats(line, hint, network(), line_width=3)
    assert np.allclose(rgb[75:125, 70:133], BLUE)  # its right part is nearer the red stroke
    assert np.allclose(rgb[30:170, 148:175], RED)


def test_a_big_flood_runs_smaller_and_keeps_one_pixel_strokes_and_thin_walls():
    size = 2 * FLOOD_MAX_SIDE + 100  # flooded at a third of the size
    line = np.full((size, size), 255, np.uint8)
    line[:, size // 2] = 0  # a 1 px wall
    seeds = np.zeros((size, size), bool)
    seeds[100, 100] = seeds[size - 100, size - 100] = True  # one pixel each
    hint_rgb = np.zeros((size, size, 3), np.uint8)
    hint_rgb[100, 100], hint_rgb[size - 100, size - 100] = (255, 0, 0), (0, 0, 255)
    rgb, painted = watershed_flood(line, seeds, hint_rgb, border_key=False)
    assert painted.all()
    assert (rgb[:, : size // 2 - 3] == (255, 0, 0)).all() and (rgb[:, size // 2 + 3:] == (0, 0, 255)).all()


def test_a_hint_in_background_the_network_paints_as_paper_floods_against_the_border():
    """A band running from the top to the bottom edge splits the background in two, so neither
    side is the surround; the network paints both white: a stroke colours only its surroundings."""
    line = np.full((200, 200), 255, np.uint8)
    line[:, 80:82] = line[:, 118:120] = 0
    hint = hints_with(((50, 100, 60, 100), BLUE))
    white = network(rgb=(1.0, 1.0, 1.0))
    rgb, alpha = flats(line, hint, white, line_width=3)
    assert (alpha[95:106, 50:61] == 1).all() and np.allclose(rgb[95:106, 50:61], BLUE)
    assert (alpha[:5, :5] == 0).all() and (alpha[-5:, :5] == 0).all()  # the corners stay paper
    _, alpha = flats(line, hint, network(), line_width=3)  # painted in colour: full-bleed art
    assert (alpha[:, :78] == 1).all()


def test_touching_strokes_of_two_colours_flood_with_their_own_colours():
    line = np.full((100, 100), 255, np.uint8)
    line[:40, 50] = line[60:, 50] = 0  # a wall with a door in the middle
    seeds = np.zeros((100, 100), bool)
    seeds[50, 10:91] = True  # one connected scribble: red on the left, blue from the door on
    hint_rgb = np.zeros((100, 100, 3), np.uint8)
    hint_rgb[50, 10:50], hint_rgb[50, 50:91] = (255, 0, 0), (0, 0, 255)
    rgb, painted = watershed_flood(line, seeds, hint_rgb, border_key=False)
    assert painted.all()
    assert (rgb[:30, :45] == (255, 0, 0)).all() and (rgb[:30, 55:] == (0, 0, 255)).all()


def test_a_faint_stroke_floods_its_region_and_a_soft_fringe_keeps_colours_exact():
    """A stroke at 30 % opacity seeds as a full one does (it was once dropped below 50 %); the
    faint fringe of a soft stroke, whose colour 8-bit resampling blurs, seeds nothing."""
    hint = no_hints()
    cv2.line(hint, (40, 100), (70, 100), (0, 0, 255, 77), 6)  # faint blue, left box
    cv2.line(hint, (130, 100), (160, 100), (250, 0, 0, 40), 14)  # a soft stroke's fringe...
    cv2.line(hint, (130, 100), (160, 100), (255, 0, 0, 255), 6)  # ...around its opaque core
    rgb, alpha = flats(two_boxes(), hint, network(), line_width=3)
    assert np.allclose(rgb[50:150, 30:85], BLUE) and (alpha[50:150, 30:85] == 1).all()
    assert np.allclose(rgb[50:150, 115:170], RED)  # exactly the core's colour, not the fringe's

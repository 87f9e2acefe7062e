"""The flatting options in the engine: exact flat colours, palettes, one layer per colour, the
keep-clear key, gap control and colouring under a selection."""

import zipfile

import cv2
import numpy as np
import pytest

from krita_deepcolor.engine import InputError, Options, colorize, load_model
from krita_deepcolor.engine.finish import closing_radius
from krita_deepcolor.engine.flats import (
    MAX_SPLIT_COLOURS,
    Palette,
    apply_selection,
    painted_colours,
    read_palette,
    split_colours,
)
from krita_deepcolor.engine.regions import find_regions, hybrid_colors
from tests import contract_models

from .test_regions import BLUE, NETWORK_RGB, RED, hints_with, network, no_hints, two_boxes

RED8, BLUE8, GREEN8 = (255, 0, 0), (0, 0, 255), (0, 160, 0)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """Per-pixel passthrough: hint colour where painted, the line's grey elsewhere."""
    path = contract_models.build(tmp_path_factory.mktemp("flatting") / "per_pixel.onnx", strict=False)
    return load_model(path, device="cpu")


def colours_of(rgba: np.ndarray) -> set[tuple[int, int, int]]:
    shown = rgba[:, :, 3] > 0
    return {tuple(int(v) for v in colour) for colour in np.unique(rgba[shown][:, :3], axis=0)}


def page(size: int, thickness: int):
    """RGBA line art: a frame split into four rooms by a cross (every room closed)."""
    line = np.zeros((size, size, 4), np.uint8)
    ink = (0, 0, 0, 255)
    cv2.rectangle(line, (size // 10, size // 10), (size - size // 10, size - size // 10), ink, thickness)
    cv2.line(line, (size // 2, size // 10), (size // 2, size - size // 10), ink, thickness)
    cv2.line(line, (size // 10, size // 2), (size - size // 10, size // 2), ink, thickness)
    return line


def room(size: int, column: int, row: int) -> tuple[int, int]:
    """(x, y) in the middle of one of the four rooms of ``page``."""
    return int(size * (0.3 + 0.4 * column)), int(size * (0.3 + 0.4 * row))


def scribble(hint, centre, colour, size, antialiased=True):
    x, y = centre
    cv2.line(hint, (x - size // 12, y), (x + size // 12, y), (*colour, 255), max(3, size // 100),
             cv2.LINE_AA if antialiased else cv2.LINE_8)


# ---- exact flat colours


def test_painted_colours_leave_out_the_blends_where_strokes_meet_and_keep_thin_strokes():
    hint = no_hints(120)
    cv2.line(hint, (10, 40), (110, 40), (*RED8, 255), 9, cv2.LINE_AA)
    cv2.line(hint, (10, 46), (110, 46), (*BLUE8, 255), 9, cv2.LINE_AA)  # overlaps the red: purple blends
    cv2.line(hint, (10, 90), (110, 100), (*GREEN8, 255), 1, cv2.LINE_8)  # one pixel wide
    blended = {tuple(c) for c in np.unique(hint[hint[:, :, 3] > 0][:, :3], axis=0)}
    assert len(blended) > 3
    assert {tuple(int(v) for v in c) for c in painted_colours(hint)} == {RED8, BLUE8, GREEN8}


def test_every_pixel_of_the_flats_is_a_painted_colour_even_when_enlarged(model):
    """A canvas larger than the finishing size, antialiased strokes of two colours that touch:
    bilinear enlarging and resampling once made blended colours at every edge."""
    size = 2600
    hint = np.zeros((size, size, 4), np.uint8)
    for column in (0, 1):
        for row in (0, 1):
            scribble(hint, room(size, column, row), RED8 if column == row else BLUE8, size)
    x, y = room(size, 0, 0)
    cv2.line(hint, (x, y), (x, y + 40), (*BLUE8, 255), 30, cv2.LINE_AA)  # touches the red stroke
    result = colorize(model, page(size, 6), hint, Options(match_line_width=False))
    assert colours_of(result.rgba) == {RED8, BLUE8}
    assert set(np.unique(result.rgba[:, :, 3])) == {0, 255}


def test_a_region_with_two_close_colours_takes_the_more_painted_one_never_their_mean():
    hint = hints_with(((30, 80, 80, 80), (1.0, 0.0, 0.0)), ((30, 120, 45, 120), (0.9, 0.05, 0.0)))
    layer = hybrid_colors(two_boxes(), hint, network(), 3)
    assert tuple(layer[100, 60, :3]) == RED8


# ---- palettes


def test_gpl_and_kpl_palettes_are_read(tmp_path):
    gpl = tmp_path / "comic.gpl"
    gpl.write_text("GIMP Palette\nName: comic\nColumns: 4\n#\n255   0   0\tRed\n  0 0 255 Blue\n10 200 10\n")
    palette = read_palette(gpl)
    assert palette.name == "comic"
    assert palette.entries == (("Red", RED8), ("Blue", BLUE8), ("", (10, 200, 10)))
    kpl = tmp_path / "skin.kpl"
    with zipfile.ZipFile(kpl, "w") as archive:
        archive.writestr("colorset.xml", '<Colorset name="skin"><ColorSetEntry name="Light">'
                         '<RGB r="1" g="0.8" b="0.6" space="sRGB"/></ColorSetEntry>'
                         '<ColorSetEntry name="Ink"><CMYK c="0" m="0" y="0" k="1"/></ColorSetEntry>'
                         '</Colorset>')
    assert read_palette(kpl).entries == (("Light", (255, 204, 153)),)


@pytest.mark.parametrize("content, message", [
    (None, "palette file not found"),
    ("not a palette", "not a palette Deepcolor can read"),
    ("GIMP Palette\nName: empty\n", "holds no RGB colours"),
])
def test_bad_palette_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "bad.gpl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_palette(path)


PALETTE = Palette("test", (("Red", RED8), ("Blue", BLUE8), ("Grass", GREEN8), ("Paper", (250, 250, 250))))


def test_with_a_palette_pages_whose_hint_colours_differ_a_little_get_the_same_entries(model):
    """Two pages whose reds differ a little (picked by eye) get the same palette red."""
    size = 400
    results = []
    for red in ((230, 20, 30), (250, 40, 10)):
        hint = np.zeros((size, size, 4), np.uint8)
        scribble(hint, room(size, 0, 0), red, size)
        scribble(hint, room(size, 1, 1), BLUE8, size)
        options = Options(match_line_width=False, palette=PALETTE)
        results.append(colorize(model, page(size, 4), hint, options).rgba)
    for rgba in results:
        x, y = room(size, 0, 0)
        assert tuple(rgba[y, x, :3]) == RED8
        assert colours_of(rgba) <= {rgb for _, rgb in PALETTE.entries}
    np.testing.assert_array_equal(results[0], results[1])


def test_without_a_palette_an_unhinted_region_keeps_the_networks_flat_colour():
    layer = hybrid_colors(two_boxes(), hints_with(((40, 100, 70, 100), RED)), network(), 3)
    expected = tuple(int(round(255 * v)) for v in NETWORK_RGB)
    assert tuple(layer[100, 140, :3]) == expected
    slate = Palette("slate", (("Red", RED8), ("Slate", (120, 150, 180)), ("Grass", GREEN8)))
    swatched = hybrid_colors(two_boxes(), hints_with(((40, 100, 70, 100), RED)), network(), 3,
                             swatches=slate.colours)
    assert tuple(swatched[100, 140, :3]) == (120, 150, 180)  # the entry nearest (128, 153, 179)


# ---- one layer per colour


def test_split_names_orders_and_crops_each_colour():
    rgba = np.zeros((50, 80, 4), np.uint8)
    rgba[5:15, 10:20] = (*BLUE8, 255)
    rgba[30:45, 50:70] = (*RED8, 128)  # a feathered selection's alpha is kept
    rgba[20:25, 0:5] = (1, 2, 3, 255)
    flats = split_colours(rgba, PALETTE)
    assert [(flat.name, flat.rgb) for flat in flats.flats] == [
        ("Red", RED8), ("Blue", BLUE8), ("#010203", (1, 2, 3))]  # palette order, then by value
    assert flats.flats[0].rect == (50, 30, 20, 15)
    red = flats.layer(0)
    assert red.shape == (15, 20, 4) and (red == (*RED8, 128)).all()
    assert [flat.name for flat in split_colours(rgba).flats] == ["#0000ff", "#010203", "#ff0000"]
    assert split_colours(np.zeros((4, 4, 4), np.uint8)).flats == []


def test_two_palette_entries_of_one_name_are_told_apart_by_colour():
    twins = Palette("twins", (("Skin", (250, 200, 160)), ("Skin", (200, 150, 120))))
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[0, 0], rgba[1, 1] = (250, 200, 160, 255), (200, 150, 120, 255)
    assert [flat.name for flat in split_colours(rgba, twins).flats] == ["Skin #fac8a0", "Skin #c89678"]


def test_too_many_colours_for_one_layer_each_is_refused_with_advice():
    rgba = np.zeros((1, MAX_SPLIT_COLOURS + 1, 4), np.uint8)
    rgba[0, :, 0] = np.arange(MAX_SPLIT_COLOURS + 1) % 256
    rgba[0, :, 1] = np.arange(MAX_SPLIT_COLOURS + 1) // 256
    rgba[:, :, 3] = 255
    with pytest.raises(InputError, match="too many for one layer each.*choose a palette"):
        split_colours(rgba)


# ---- the keep-clear key


def clear_with(*strokes, size=200):
    """Keep-clear strokes (their colour does not matter) as uint8 alpha."""
    return hints_with(*((box, (0.5, 0.5, 0.5)) for box in strokes), size=size)[:, :, 3]


def test_a_region_holding_only_the_keep_clear_key_stays_transparent():
    layer = hybrid_colors(two_boxes(), hints_with(((40, 100, 70, 100), RED)), network(), 3,
                          clear=clear_with((130, 100, 160, 100)))
    assert (layer[50:150, 115:170, 3] == 0).all()  # the network's colour would have filled it
    assert (layer[50:150, 30:85] == (*RED8, 255)).all()


def test_the_keep_clear_key_and_a_colour_in_one_region_split_it_along_the_lines_inside():
    line = two_boxes()
    line[100, 20:60] = 0  # an open line across the left box
    hint = hints_with(((40, 70, 70, 70), RED))
    layer = hybrid_colors(line, hint, network(), 3, clear=clear_with((40, 130, 70, 130)))
    assert (layer[50:90, 30:85] == (*RED8, 255)).all()
    assert (layer[110:150, 30:85, 3] == 0).all()


def test_the_keep_clear_key_wins_where_it_is_painted_over_a_hint():
    hint = hints_with(((30, 100, 85, 100), RED))
    layer = hybrid_colors(two_boxes(), hint, network(), 3, clear=clear_with((30, 100, 85, 100)))
    assert (layer[50:150, 30:85, 3] == 0).all()


def test_the_keep_clear_key_spills_into_regions_no_hint_reaches():
    """Three rooms in a row joined by gaps the closing shuts: red, clear, nothing. The last one
    takes what floods into it, which is the keep-clear key."""
    line = np.full((200, 300), 255, np.uint8)
    cv2.rectangle(line, (10, 40), (290, 160), 0, 3)
    for x in (100, 200):
        cv2.line(line, (x, 40), (x, 160), 0, 3)
        line[98:101, x - 3:x + 4] = 255
    hint = hints_with(((30, 100, 70, 100), RED), size=300)[:200]
    clear = clear_with((130, 100, 170, 100), size=300)[:200]
    layer = hybrid_colors(line, hint, network(300)[:200], 3, clear=clear)
    assert (layer[60:140, 20:90] == (*RED8, 255)).all()
    assert (layer[60:140, 110:190, 3] == 0).all() and (layer[60:140, 210:280, 3] == 0).all()


def test_the_keep_clear_key_competes_with_a_stroke_painting_the_background():
    hint = hints_with(((20, 20, 180, 20), BLUE))  # the background, above the boxes
    plain = hybrid_colors(two_boxes(), hint, network(), 3)
    assert (plain[50:100, 99:102] == (*BLUE8, 255)).all()  # the flood runs down between the boxes
    layer = hybrid_colors(two_boxes(), hint, network(), 3, clear=clear_with((100, 60, 100, 90)))
    assert (layer[15:25, 20:180] == (*BLUE8, 255)).all()
    assert (layer[50:100, 99:102, 3] == 0).all()  # the keep-clear stroke between them holds it off


def test_without_hints_the_keep_clear_key_clears_a_figure_the_network_colours():
    line = np.full((200, 200), 255, np.uint8)
    cv2.rectangle(line, (-10, 60), (90, 140), 0, 3)  # a figure cut by the left edge
    plain = hybrid_colors(line, no_hints(), network(), 3)
    assert (plain[80:120, 10:80, 3] == 255).all()
    cleared = hybrid_colors(line, no_hints(), network(), 3, clear=clear_with((20, 100, 60, 100)))
    assert (cleared[80:120, 10:80, 3] == 0).all()


def test_colorize_takes_a_keep_clear_layer_and_checks_it(model):
    line = page(200, 3)
    hint = np.zeros((200, 200, 4), np.uint8)
    scribble(hint, room(200, 0, 0), RED8, 200)
    clear = np.zeros((200, 200, 4), np.uint8)
    scribble(clear, room(200, 1, 0), (0, 255, 0), 200)
    rgba = colorize(model, line, hint, Options(match_line_width=False), clear_rgba=clear).rgba
    x, y = room(200, 1, 0)
    assert rgba[y, x, 3] == 0 and colorize(model, line, hint, Options(match_line_width=False)).rgba[y, x, 3]
    with pytest.raises(InputError, match="keep-clear strokes are fully opaque"):
        colorize(model, line, hint, clear_rgba=np.full((200, 200, 4), 255, np.uint8))
    with pytest.raises(InputError, match="keep-clear strokes are 10x10 but line art is 200x200"):
        colorize(model, line, hint, clear_rgba=np.zeros((10, 10, 4), np.uint8))


# ---- gap control


@pytest.mark.parametrize("gap, closed_by", [(1, 1), (2, 2), (4, 4), (5, 6), (8, 8)])
def test_close_gaps_n_closes_a_gap_of_n_pixels_and_no_wider(gap, closed_by):
    radius = closing_radius(closed_by, 1.0)
    assert find_regions(two_boxes(gap=gap), radius).count == 3  # background and two boxes
    if closed_by < 7:
        assert find_regions(two_boxes(gap=closed_by + 2), radius).count == 2  # the left box leaks


def test_a_stroke_painting_the_background_leaks_through_gaps_left_open():
    hint = hints_with(((20, 20, 180, 20), BLUE))  # the background, above a 3 px gap
    auto = hybrid_colors(two_boxes(gap=3), hint, network(), 3)
    assert tuple(auto[100, 60, :3]) != BLUE8  # auto closes 4 px: the box keeps its own colour
    leaking = hybrid_colors(two_boxes(gap=3), hint, network(), 3, radius=0)
    assert tuple(leaking[100, 60, :3]) == BLUE8  # 0: nothing closed, the flood runs in


def test_the_gap_size_used_is_reported_in_canvas_pixels(model):
    line = page(3000, 6)  # finished at 2048: the closing radius is scaled back
    hint = np.zeros((3000, 3000, 4), np.uint8)
    scribble(hint, room(3000, 0, 0), RED8, 3000)
    auto = colorize(model, line, hint, Options(max_side=256))
    assert 5 <= auto.gap_size <= 8  # a 6 px line: gaps up to about one line width
    assert colorize(model, line, hint, Options(max_side=256, close_gaps=0)).gap_size == 0
    assert colorize(model, line, hint, Options(max_side=256, close_gaps=10)).gap_size in (9, 10, 11)
    assert colorize(model, line, hint, Options(finishing="raw")).gap_size is None
    with pytest.raises(InputError, match="close gaps 999 is out of range"):
        colorize(model, line, hint, Options(close_gaps=999))


# ---- colouring under a selection


def test_a_selection_keeps_the_result_inside_it_feathered_as_it_is():
    rgba = np.full((2, 3, 4), (*RED8, 255), np.uint8)
    coverage = np.array([[255, 128, 0], [255, 255, 0]], np.uint8)
    covered = apply_selection(rgba, coverage)
    assert covered[:, :, 3].tolist() == [[255, 128, 0], [255, 255, 0]]
    assert (covered[:, :, :3] == RED8).all()


def test_a_selection_over_an_earlier_result_replaces_it_only_inside():
    new = np.full((2, 3, 4), (*RED8, 255), np.uint8)
    old = np.full((2, 3, 4), (*BLUE8, 255), np.uint8)
    old[1, 2] = 0
    coverage = np.array([[255, 128, 0], [255, 255, 0]], np.uint8)
    out = apply_selection(new, coverage, old)
    assert tuple(out[0, 0]) == (*RED8, 255) and tuple(out[0, 2]) == (*BLUE8, 255)
    assert tuple(out[1, 2]) == (0, 0, 0, 0)
    assert tuple(out[0, 1]) == (128, 0, 127, 255)  # feathered: the two blend


def test_hints_covering_a_selections_part_whole_are_taken_when_partial(model):
    line = page(200, 3)[40:80, 40:80]  # inside one room: no line at all
    hint = np.full((40, 40, 4), (*RED8, 255), np.uint8)
    with pytest.raises(InputError, match="line art is empty"):
        colorize(model, line, hint)  # as a whole canvas this is no line art
    with pytest.raises(InputError, match="hints are fully opaque"):
        colorize(model, page(200, 3)[20:100, 20:100], np.full((80, 80, 4), (*RED8, 255), np.uint8))
    assert (colorize(model, line, hint, partial=True).rgba[:, :, :3] == RED8).all()

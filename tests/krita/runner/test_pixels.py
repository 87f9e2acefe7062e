"""Reading and writing layers in every colour model and depth, through Krita's own conversion."""

import numpy as np
import pytest
from krita import Krita

from krita_deepcolor.document import DocumentError
from krita_deepcolor.pixels import ColorSpace, convert, encode_rgba, read_rgba, write_rgba
from tests.krita.helpers import add_layer, raw


def srgb_from_linear(value: float) -> float:
    encoded = 12.92 * value if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055
    return 255.0 * encoded


LINEAR = (0.5, 0.214, 0.0)  # R, G, B in linear light
LINEAR_AS_SRGB = tuple(srgb_from_linear(v) for v in LINEAR)  # about (188, 128, 0)


def _u16_bgra(rgb, alpha=1.0):
    return np.array([[[rgb[2], rgb[1], rgb[0], alpha]]]) * 65535 + 0.5


# (model, depth, profile, raw bytes of one pixel, expected sRGB RGB, tolerance)
KNOWN_PIXELS = {
    "rgb-u8": ("RGBA", "U8", "", bytes([10, 20, 30, 255]), (30, 20, 10), 0),
    "rgb-u16-linear": ("RGBA", "U16", "", _u16_bgra(LINEAR).astype("<u2").tobytes(), LINEAR_AS_SRGB, 2),
    "rgb-f16-linear": ("RGBA", "F16", "", np.array([*LINEAR, 1.0], "<f2").tobytes(), LINEAR_AS_SRGB, 2),
    "rgb-f32-linear": ("RGBA", "F32", "", np.array([*LINEAR, 1.0], "<f4").tobytes(), LINEAR_AS_SRGB, 2),
    "gray-u8": ("GRAYA", "U8", "", bytes([128, 255]), (128, 128, 128), 3),
    "gray-u16-linear": ("GRAYA", "U16", "Gray-D50-elle-V2-g10.icc",
                        np.array([0.5 * 65535, 65535], "<u2").tobytes(), (188, 188, 188), 3),
    "cmyk-u8-no-ink": ("CMYKA", "U8", "", bytes([0, 0, 0, 0, 255]), (255, 255, 255), 8),
    "lab-u16-white": ("LABA", "U16", "", np.array([65535, 32768, 32768, 65535], "<u2").tobytes(),
                      (255, 255, 255), 4),
    "lab-u16-black": ("LABA", "U16", "", np.array([0, 32768, 32768, 65535], "<u2").tobytes(), (0, 0, 0), 4),
}


@pytest.mark.parametrize("case", KNOWN_PIXELS, ids=list(KNOWN_PIXELS))
def test_reading_converts_known_values_to_srgb(make_doc, case):
    model, depth, profile, pixel, expected, tolerance = KNOWN_PIXELS[case]
    doc = make_doc(3, 2, model, depth, profile)
    node = add_layer(doc, "layer")
    node.setPixelData(pixel * 6, 0, 0, 3, 2)
    before = raw(node, doc)

    rgba = read_rgba(node, 3, 2)

    assert rgba.shape == (2, 3, 4) and rgba.dtype == np.uint8
    assert np.abs(rgba[:, :, :3].astype(int) - np.array(expected)).max() <= tolerance, rgba[0, 0]
    assert (rgba[:, :, 3] == 255).all()
    assert raw(node, doc) == before, "reading must not change the user's layer"
    assert ColorSpace.of(node) == ColorSpace.of(doc), "reading must not convert the user's layer"


def test_full_ink_in_cmyk_reads_dark(make_doc):
    doc = make_doc(2, 2, "CMYKA", "U8")
    node = add_layer(doc, "ink")
    node.setPixelData(bytes([0, 0, 0, 255, 255]) * 4, 0, 0, 2, 2)
    assert read_rgba(node, 2, 2)[:, :, :3].max() < 70


def test_transparency_is_kept_when_converting(make_doc):
    doc = make_doc(2, 1, "RGBA", "U16")
    node = add_layer(doc, "half")
    node.setPixelData(_u16_bgra((1.0, 1.0, 1.0), alpha=0.0).astype("<u2").tobytes()
                      + _u16_bgra((1.0, 1.0, 1.0), alpha=0.5).astype("<u2").tobytes(), 0, 0, 2, 1)
    alpha = read_rgba(node, 2, 1)[0, :, 3]
    assert alpha[0] == 0 and abs(int(alpha[1]) - 128) <= 1


def test_writing_16_bit_linear_stores_linear_values_in_bgra_order(make_doc):
    doc = make_doc(1, 1, "RGBA", "U16")
    node = doc.createNode("result", "paintlayer")
    write_rgba(node, np.array([[[188, 128, 0, 255]]], np.uint8))  # sRGB
    blue, green, red, alpha = np.frombuffer(raw(node, doc), "<u2") / 65535
    assert abs(red - 0.5) < 0.01 and abs(green - 0.214) < 0.01 and blue < 0.005 and alpha == 1.0


def _test_colours(height=4, width=6):
    """Muted colours (inside every gamut tested), some half transparent."""
    rng = np.random.default_rng(7)
    rgba = rng.integers(60, 200, (height, width, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255
    rgba[0, :, 3] = 128
    return rgba


ROUND_TRIPS = {  # model, depth, profile, tolerance on colour channels
    "rgb-u8": ("RGBA", "U8", "", 0),
    "rgb-u16": ("RGBA", "U16", "", 2),
    "rgb-f16": ("RGBA", "F16", "", 2),
    "rgb-f32": ("RGBA", "F32", "", 2),
    "rgb-u8-rec2020": ("RGBA", "U8", "Rec2020-elle-V4-g10.icc", 12),
    "lab-u16": ("LABA", "U16", "", 3),
    "cmyk-u8": ("CMYKA", "U8", "", 40),
}


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=list(ROUND_TRIPS))
def test_written_colours_read_back_the_same(make_doc, case):
    model, depth, profile, tolerance = ROUND_TRIPS[case]
    doc = make_doc(6, 4, model, depth, profile)
    node = add_layer(doc, "result")
    colours = _test_colours()
    write_rgba(node, colours)
    back = read_rgba(node, 6, 4)
    opaque = colours[:, :, 3] == 255
    assert np.abs(back[opaque][:, :3].astype(int) - colours[opaque][:, :3]).max() <= tolerance
    assert np.abs(back[:, :, 3].astype(int) - colours[:, :, 3]).max() <= 1


def test_grey_documents_store_the_luminance(make_doc):
    doc = make_doc(6, 4, "GRAYA", "U8")
    node = add_layer(doc, "result")
    colours = _test_colours()
    write_rgba(node, colours)
    back = read_rgba(node, 6, 4).astype(int)
    encoded = colours[:, :, :3] / 255.0
    linear = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    luminance = np.vectorize(srgb_from_linear)(linear @ np.array([0.2126, 0.7152, 0.0722]))
    assert np.abs(back[:, :, 0] - luminance).max() <= 6
    assert (back[:, :, 0] == back[:, :, 1]).all() and (back[:, :, 1] == back[:, :, 2]).all()


def test_srgb_8_bit_needs_no_conversion_document(make_doc):
    doc = make_doc(4, 4)
    before = len(Krita.instance().documents())
    data = encode_rgba(_test_colours(4, 4), ColorSpace.of(doc))
    assert len(data) == 4 * 4 * 4
    assert len(Krita.instance().documents()) == before


def test_unknown_colour_space_is_refused_with_advice(make_doc):
    make_doc(1, 1)
    with pytest.raises(DocumentError, match="Convert Image Color Space"):
        convert(bytes(4), 1, 1, ColorSpace("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc"),
                ColorSpace("NOSUCHMODEL", "U8", "nothing.icc"))

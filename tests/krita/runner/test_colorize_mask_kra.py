"""The .kra the Colorize Mask benchmark builds: its mask lies where Krita looks for it."""

import zipfile

from benchmarks import krita_colorize_mask


def test_the_image_name_is_read_whatever_the_order_of_the_attributes():
    # (Krita's order changes from one run to the next: colorspacename="…" once came first and
    # the mask went into a folder Krita never reads, so that Update filled nothing)
    for maindoc in ('<IMAGE colorspacename="RGBA" name="page" mime="x">',
                    '<IMAGE name="page" colorspacename="RGBA">',
                    '<IMAGE mime="x" colorspacename="RGBA" name="page" width="4">'):
        assert krita_colorize_mask.image_name(maindoc) == "page"


def test_the_key_strokes_go_into_the_folder_of_krita_s_own_layers(tmp_path):
    path = str(tmp_path / "mask.kra")
    assert krita_colorize_mask.build_kra(path, 256) >= 1
    with zipfile.ZipFile(path) as kra:
        names = kra.namelist()
    layers = {name.split("/layers/")[0] for name in names if "/layers/layer" in name}
    masks = {name.split("/layers/")[0] for name in names if ".colorizemask/" in name}
    assert len(layers) == 1 and masks == layers, names
    assert any(name.endswith(".colorizemask/content.xml") for name in names)

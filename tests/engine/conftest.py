import cv2
import numpy as np
import pytest

from tests import contract_models


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    """A real contract-conformant ONNX file (hint colour where painted, line gray elsewhere)."""
    return contract_models.build(tmp_path_factory.mktemp("models") / "passthrough.onnx", strict=True)


def line_art(height=96, width=128, thickness=2, opaque=False):
    """A transparent (or opaque white) layer with a black rectangle outline and a vertical divider."""
    layer = np.zeros((height, width, 4), np.uint8)
    if opaque:
        layer[:] = 255
    cv2.rectangle(layer, (8, 8), (width - 9, height - 9), (0, 0, 0, 255), thickness)
    cv2.line(layer, (width // 2, 8), (width // 2, height - 9), (0, 0, 0, 255), thickness)
    return layer


def hint_layer(height=96, width=128, color=(255, 0, 0), box=(20, 20, 40, 40)):
    layer = np.zeros((height, width, 4), np.uint8)
    x0, y0, x1, y1 = box
    layer[y0:y1, x0:x1] = (*color, 255)
    return layer

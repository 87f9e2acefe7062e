import numpy as np
import pytest
from onnx import TensorProto

from krita_deepcolor.engine import ContractError, load_model
from krita_deepcolor.engine.contract import REQUIRED_METADATA, ModelInfo, check_signature
from tests import contract_models


def test_conformant_model_loads_with_its_metadata(model_path):
    model = load_model(model_path, device="cpu")
    assert model.info == contract_models.info()
    assert model.info.size_multiple == 8 and model.info.uses_hints
    assert model.provider == "CPU"


def test_a_model_of_a_recipe_the_engine_never_heard_of_runs(tmp_path):
    """The contract describes tensors and metadata, not recipes: a new recipe needs no new plugin."""
    path = contract_models.build(tmp_path / "new.onnx",
                                 metadata={**contract_models.info().to_props(), "variant": "cyclegan"})
    model = load_model(path, device="cpu")
    assert model.info.variant == "cyclegan"
    line, hint = np.ones((1, 1, 16, 16), np.float32), np.zeros((1, 4, 16, 16), np.float32)
    assert model.run(line, hint).shape == (1, 3, 16, 16)


def test_metadata_round_trips_through_props():
    info = contract_models.info(steps=1200, images_seen=9600, extra={"hint_fade": "0.3"})
    assert ModelInfo.from_props(info.to_props()) == info
    assert ModelInfo.from_props(info.to_props()).extra == {"hint_fade": "0.3"}


@pytest.mark.parametrize("defect, expected", [
    (dict(input_names=("lines", "hint")), "inputs are"),
    (dict(line_rank=3), "rank 3"),
    (dict(hint_dtype=TensorProto.DOUBLE), "must be float32"),
    (dict(drop_metadata=("size_multiple",)), "missing size_multiple"),
    (dict(metadata={**contract_models.info().to_props(), "contract_version": "2"}), "contract 2"),
    (dict(metadata={**contract_models.info().to_props(), "variant": " "}), "variant must name"),
    (dict(metadata={**contract_models.info().to_props(), "size_multiple": "eight"}), "not a number"),
    (dict(metadata={**contract_models.info().to_props(), "uses_hints": "yes"}), "uses_hints"),
])
def test_models_breaking_the_contract_are_refused_naming_file_and_defect(tmp_path, defect, expected):
    path = contract_models.build(tmp_path / "bad.onnx", **defect)
    with pytest.raises(ContractError) as error:
        load_model(path, device="cpu")
    assert expected in str(error.value)
    assert str(path) in str(error.value)


def test_wrong_channel_count_is_refused():
    float_ = "tensor(float)"
    inputs = [("line", float_, ["N", 1, "H", "W"]), ("hint", float_, ["N", 3, "H", "W"])]
    outputs = [("color", float_, ["N", 3, "H", "W"])]
    with pytest.raises(ContractError, match="input 'hint' has 3 channels, must have 4"):
        check_signature(inputs, outputs, source="m.onnx")
    inputs[1] = ("hint", float_, ["N", 4, "H", "W"])
    check_signature(inputs, outputs, source="m.onnx")  # symbolic N, H, W are fine


def test_not_an_onnx_file_is_refused(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"this is not a model")
    with pytest.raises(ContractError, match="not a readable ONNX model"):
        load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(ContractError, match="not found"):
        load_model(tmp_path / "nowhere.onnx")


def test_required_metadata_is_documented_for_every_key():
    assert all(REQUIRED_METADATA.values())
    assert set(REQUIRED_METADATA) <= set(contract_models.info().to_props())


def test_run_requires_sizes_that_are_multiples(model_path):
    model = load_model(model_path, device="cpu")
    line = np.ones((1, 1, 12, 16), np.float32)
    with pytest.raises(ValueError, match="multiple of 8"):
        model.run(line, np.zeros((1, 4, 12, 16), np.float32))

"""Shipping: the manifest the plugin checks at load time."""

import json

import pytest

from export import manifest
from krita_deepcolor.engine import ContractError, catalog
from tests import contract_models


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setattr(catalog, "SHIPPED_DIRS", (folder,))
    return folder


def test_added_models_are_found_verified_and_the_default_comes_first(shipped):
    contract_models.build(shipped / "a.onnx", model_info=contract_models.info(name="alpha"))
    contract_models.build(shipped / "b.onnx", model_info=contract_models.info(name="beta"))
    assert manifest.main(["add", str(shipped / "a.onnx")]) == 0
    assert manifest.main(["add", str(shipped / "b.onnx"), "--default"]) == 0
    entries = catalog.find_models()
    assert [e.name for e in entries] == ["beta", "alpha"] and entries[0].default
    assert catalog.resolve(None).name == "beta"
    assert catalog.open_model(catalog.resolve("alpha"), "cpu").info.name == "alpha"
    recorded = json.loads((shipped / "manifest.json").read_text())
    assert recorded["models"][0]["metadata"]["variant"] == "test"


def test_a_damaged_shipped_model_is_refused(shipped):
    path = contract_models.build(shipped / "a.onnx", model_info=contract_models.info(name="alpha"))
    manifest.add(path)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ContractError, match="damaged or was replaced"):
        catalog.open_model(catalog.resolve("alpha"), "cpu")


def test_a_file_breaking_the_contract_is_not_recorded(shipped):
    path = contract_models.build(shipped / "bad.onnx", drop_metadata=("name",))
    assert manifest.main(["add", str(path)]) == 2
    assert not (shipped / "manifest.json").exists()


def test_removing_the_default_promotes_the_next(shipped):
    for name in ("alpha", "beta"):
        model_info = contract_models.info(name=name)
        manifest.add(contract_models.build(shipped / f"{name}.onnx", model_info=model_info))
    manifest.remove(shipped, "alpha")
    assert manifest.read(shipped)["default"] == "beta"

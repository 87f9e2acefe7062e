"""Which model a run uses, without Krita: a chosen model is never swapped for another silently,
and the loaded model is kept while neither its file nor the device changes."""

import os
from pathlib import Path

from krita_deepcolor.engine import catalog
from krita_deepcolor.engine.contract import ModelInfo
from krita_deepcolor.model_choice import ModelCache, choose_model


def entry(name, usable=True, path=None):
    info = ModelInfo(name=name, variant="deepcolor", train_size=256, size_multiple=32, uses_hints=True,
                     data="test", license="test", description="test") if usable else None
    return catalog.ModelEntry(name=name, path=Path(path or f"/models/{name}.onnx"), info=info,
                              problem=None if usable else f"/models/{name}.onnx: broken")


def test_the_chosen_model_else_the_first_usable_one():
    entries = [entry("broken", usable=False), entry("first"), entry("second")]
    assert choose_model(entries, "second", "/user")[0].name == "second"
    assert choose_model(entries, "", "/user")[0].name == "first"
    assert choose_model(entries, "uninstalled", "/user")[0].name == "first"


def test_a_chosen_model_that_cannot_run_is_named_not_swapped():
    entries = [entry("good"), entry("broken", usable=False)]
    assert choose_model(entries, "broken", "/user") == (
        None, "the chosen model 'broken' cannot be used: /models/broken.onnx: broken")


def test_without_a_usable_model_the_reason_says_what_to_do():
    assert choose_model([entry("broken", usable=False)], "", "/user") == (
        None, "no usable model: /models/broken.onnx: broken")
    entry_none, problem = choose_model([], "", "/home/me/models")
    assert entry_none is None
    assert problem.startswith("no model installed: put a .onnx model into /home/me/models")


def test_the_cache_loads_again_only_when_the_file_or_the_device_changes(tmp_path, monkeypatch):
    loads = []
    monkeypatch.setattr(catalog, "open_model", lambda found, device: loads.append((found.name, device)) or
                        object())
    model_file = tmp_path / "m.onnx"
    model_file.write_bytes(b"1")
    cache = ModelCache()
    first = cache.get(entry("m", path=model_file), "cpu")
    assert cache.get(entry("m", path=model_file), "cpu") is first
    assert loads == [("m", "cpu")]
    cache.get(entry("m", path=model_file), "cuda")
    cache.get(entry("other", path=tmp_path / "other.onnx"), "cuda")
    assert loads == [("m", "cpu"), ("m", "cuda"), ("other", "cuda")]
    os.utime(model_file, (1, 1))  # the file was replaced
    cache.get(entry("m", path=model_file), "cuda")
    assert loads[-1] == ("m", "cuda") and len(loads) == 4

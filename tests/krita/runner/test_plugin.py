"""Loading the plugin: the installer's dependency folder, and missing dependencies."""

import importlib.util
import shutil
import sys
from pathlib import Path

import krita_deepcolor
from krita_deepcolor import root, settings
from krita_deepcolor.engine import runtime
from krita_deepcolor.ui.docker import DeepcolorDocker
from krita_deepcolor.ui.setup import SetupPanel


def test_installed_dependencies_come_first_on_the_path(tmp_path, monkeypatch):
    installed = tmp_path / "pykrita" / "krita_deepcolor"
    shutil.copytree(Path(krita_deepcolor.__file__).parent, installed,
                    ignore=shutil.ignore_patterns("__pycache__", "engine"))
    (installed / "_deps").mkdir()
    (installed / "_deps" / "deepcolor_deps_marker.py").write_text("FOUND = True\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = "krita_deepcolor_installed_copy"
    spec = importlib.util.spec_from_file_location(name, installed / "__init__.py",
                                                  submodule_search_locations=[str(installed)])
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)  # as Krita does at start: registers, imports no numpy
    assert sys.path[0] == str(installed / "_deps")
    import deepcolor_deps_marker

    assert deepcolor_deps_marker.FOUND
    assert not any(key.startswith(f"{name}.engine") for key in sys.modules), "the engine loads on first use"


def test_missing_dependencies_make_the_docker_offer_to_install_them(monkeypatch):
    monkeypatch.setattr(root, "_colorizer", None)
    monkeypatch.setitem(sys.modules, "krita_deepcolor.colorizer", None)  # makes its import fail
    colorizer, problem = root.shared_colorizer()
    assert colorizer is None
    assert problem.startswith("Deepcolor cannot run yet: ") and "python installer.py" in problem
    assert "the button in the Deepcolor docker" in problem
    docker = DeepcolorDocker()
    assert docker.panel is None and isinstance(docker.widget(), SetupPanel)
    assert docker.setup.problem.text() == problem and docker.setup.install_button.isEnabled()
    docker.deleteLater()


def test_the_docker_labels_exactly_the_engines_devices():
    # settings.py holds the labels only: it loads with the docker, before the engine may
    assert tuple(settings.DEVICES) == runtime.DEVICES

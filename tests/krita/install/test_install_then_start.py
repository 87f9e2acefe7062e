"""The installer end to end: `python3 installer.py` on a fresh profile, then starting Krita
shows the Deepcolor docker and the plugin's actions under Tools > Scripts; and the release zip
through Krita's own plugin importer, then the docker installing the dependencies itself.

Runs outside Krita (tests/krita/run.sh, suite "install"): the real installer, then the real Krita GUI
under Xvfb on a throw-away profile (XDG_DATA_HOME / XDG_CONFIG_HOME in a temp folder). The
dependencies are not downloaded (--no-deps): Krita gets numpy, onnxruntime and OpenCV from .kdeps on
PYTHONPATH, as in the other Krita suites. A small probe plugin (deepcolor_install_probe, next to this
file) is installed beside the plugin; once the window exists it writes what it finds to a JSON file
and quits Krita. The plugin itself comes only from the profile's pykrita folder, never from this
checkout.

Without krita or xvfb-run the test is skipped; with CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.krita.enable_plugins import enable

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
KDEPS = Path(os.environ.get("KRITA_DEEPCOLOR_KDEPS") or REPO / ".kdeps")
PLUGIN = "krita_deepcolor"
PROBE = "deepcolor_install_probe"
CI = os.environ.get("CI", "").lower() == "true"
KRITA_TIMEOUT_S = 120  # inside xvfb-run; the probe's watchdog fires before it
# -noreset: without it Krita may connect while the X server resets and abort (see tests/krita/run.sh)
XVFB_SERVER = "-screen 0 1280x800x24 -noreset"
DOCKER_ID = re.search(r'^DOCKER_ID = "([^"]+)"', (REPO / PLUGIN / "extension.py").read_text(), re.M).group(1)


def need(condition, reason):
    """Skip for lack of a tool on a developer machine; fail in CI, where everything must run."""
    if not condition:
        if CI:
            pytest.fail(reason + " (CI=true: this must not be skipped)")
        pytest.skip(reason)


def declared_actions() -> dict[str, dict[str, str]]:
    """name -> {text, shortcut} for every action in krita_deepcolor/krita_deepcolor.action."""
    root = ET.parse(REPO / PLUGIN / f"{PLUGIN}.action").getroot()
    return {action.get("name"): {"text": action.findtext("text", ""),
                                 "shortcut": action.findtext("shortcut", "")}
            for action in root.iter("Action")}


def clean_env(**extra) -> dict[str, str]:
    """This environment without Python and plugin settings that would leak into the children."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "KRITA_DEEPCOLOR_")) and k not in ("VIRTUAL_ENV", "DISPLAY")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def installer(*args, env) -> subprocess.CompletedProcess:
    """`python3 installer.py ARGS` as a user runs it: the python3 on PATH, from the checkout."""
    python = shutil.which("python3", path=env["PATH"]) or sys.executable
    done = subprocess.run([python, str(REPO / "installer.py"), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=300)
    done.output = done.stdout + done.stderr
    return done


def assert_only_dependencies_missing(done) -> None:
    """--check after a --no-deps install: everything is in place except the dependencies."""
    rows = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    missing = [row for row in rows if row.startswith("MISSING")]
    assert done.returncode == 1 and len(missing) == 1 and missing[0].startswith("MISSING  dependencies:"), \
        done.output
    for wanted in ("ok       desktop file:", "ok       plugin files:",
                   f"ok       kritarc: [python] enable_{PLUGIN}=true"):
        assert any(row.startswith(wanted) for row in rows), f"no '{wanted}' in:\n{done.output}"
    assert "1 problem found" in done.stdout, done.output


def fresh_profile(tmp_path: Path):
    """(resource folder, kritarc, pykrita, environment) of a throw-away profile as Krita's first
    start leaves it (README: "Start Krita once before installing": the installer refuses a resource
    folder that does not exist), with a TMPDIR of its own (a Krita already running would otherwise
    be found and handed the work)."""
    data, config = tmp_path / "data", tmp_path / "config"
    resource = data / "krita"
    resource.mkdir(parents=True)
    config.mkdir()
    (tmp_path / "tmp").mkdir()
    env = clean_env(XDG_DATA_HOME=str(data), XDG_CONFIG_HOME=str(config), TMPDIR=str(tmp_path / "tmp"))
    return resource, config / "kritarc", resource / "pykrita", env


def krita_log_excerpt(output: str, lines: int = 60) -> str:
    patterns = (REPO / "tests" / "krita" / "krita-noise.txt").read_text().splitlines()  # grep -E, one a line
    noise = re.compile("|".join(f"(?:{p})" for p in patterns if p.strip()))
    kept = [line for line in output.splitlines() if line.strip() and not noise.search(line)]
    return "\n".join(kept[-lines:])


@pytest.mark.krita
@pytest.mark.slow
def test_installer_then_krita_shows_the_docker(tmp_path):
    need(shutil.which("krita") and shutil.which("xvfb-run"),
         "needs Debian's krita and xvfb (apt-get install krita python3-pyqt5 xvfb)")
    probe_deps = subprocess.run(["/usr/bin/python3", "-s", "-c", "import numpy, onnxruntime, cv2"],
                                env=clean_env(PYTHONPATH=str(KDEPS)), capture_output=True, text=True)
    need(probe_deps.returncode == 0, f"{KDEPS} lacks numpy/onnxruntime/OpenCV for /usr/bin/python3 "
                                     "(tests/krita/run.sh installs them)")
    started = time.perf_counter()
    resource, kritarc, pykrita, env = fresh_profile(tmp_path)
    profile = ["--krita-dir", resource, "--kritarc", kritarc]

    done = installer(*profile, "--no-deps", env=env)
    assert done.returncode == 0, done.output
    assert (pykrita / f"{PLUGIN}.desktop").is_file() and (pykrita / PLUGIN / "__init__.py").is_file()
    assert kritarc.read_text() == f"[python]\nenable_{PLUGIN}=true\n"
    assert_only_dependencies_missing(installer(*profile, "--check", env=env))

    # the probe, enabled the way tests/krita/run.sh enables its harness
    shutil.copy2(HERE / f"{PROBE}.desktop", pykrita)
    shutil.copytree(HERE / PROBE, pykrita / PROBE, ignore=shutil.ignore_patterns("__pycache__"))
    enable(kritarc, [PROBE])
    result = tmp_path / "probe.json"
    actions = declared_actions()
    krita_env = dict(env, PATH="/usr/bin:/bin",  # pyenv's python3 first on PATH breaks Krita's Python
                     PYTHONPATH=str(KDEPS), KRITA_DEEPCOLOR_PROBE_RESULT=str(result),
                     KRITA_DEEPCOLOR_PROBE_ACTIONS=",".join(actions),
                     KRITA_DEEPCOLOR_WATCHDOG=str(KRITA_TIMEOUT_S - 15))
    krita_started = time.perf_counter()
    run = subprocess.run(["xvfb-run", "-a", "-s", XVFB_SERVER, "timeout", str(KRITA_TIMEOUT_S),
                          "krita", "--nosplash"], env=krita_env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=KRITA_TIMEOUT_S + 60)
    krita_s = time.perf_counter() - krita_started
    log = krita_log_excerpt(run.stdout + run.stderr)
    why = {97: " (probe watchdog)", 98: " (uncaught exception in Krita)", 124: " (timeout)"}.get(
        run.returncode, "")
    assert run.returncode == 0 and result.is_file(), f"krita exit {run.returncode}{why}:\n{log}"
    found = json.loads(result.read_text())
    assert "error" not in found, found["error"]
    assert found["window"], found

    # the docker, built with its controls (so the plugin imported its dependencies)
    docker = found["dockers"].get(DOCKER_ID)
    assert docker is not None, f"no {DOCKER_ID} among Krita's dockers {sorted(found['dockers'])}\n{log}"
    assert docker == {"title": "Deepcolor", "widget": "DeepcolorPanel"}, docker
    # the actions, with the texts and shortcuts of the .action file, in Tools > Scripts
    assert found["scripts_menu"], "no Tools > Scripts menu found"
    for name, declared in actions.items():
        action = found["actions"].get(name)
        assert action is not None, f"no action {name}\n{log}"
        assert action == {**declared, "in_scripts_menu": True}, (name, action)
    # imported from the installed copy; the dependencies from .kdeps
    modules = found["modules"]
    assert modules[PLUGIN] == str(pykrita / PLUGIN / "__init__.py"), modules
    for name in ("numpy", "onnxruntime", "cv2"):
        assert modules[name] and modules[name].startswith(str(KDEPS) + os.sep), modules

    # Krita rewrote kritarc on quitting: the plugin is still enabled and its files untouched
    assert_only_dependencies_missing(installer(*profile, "--check", env=env))
    print(f"[install-e2e] krita {found['krita']}, python {found['python']}: Krita start to quit "
          f"{krita_s:.1f} s, whole test {time.perf_counter() - started:.1f} s")


IMPORTER = Path("/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")
IMPORT_WITH_KRITAS_IMPORTER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("krita_plugin_importer", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = module.PluginImporter(sys.argv[2], sys.argv[3], lambda plugin: True).import_all()
print(",".join(plugin["name"] for plugin in imported))
"""
ZIP_KRITA_TIMEOUT_S = 300  # Krita's start, pip unpacking the wheels, a colouring


@pytest.mark.krita
@pytest.mark.slow
def test_release_zip_through_kritas_importer_then_the_docker_installs_the_dependencies(tmp_path):
    """The zip goes in through Krita's own importer (the code behind Tools > Scripts > Import Python
    Plugin from File...); Krita starts without numpy, onnxruntime or OpenCV anywhere; the docker
    offers to install them, installs them from a folder of wheels, becomes the Deepcolor panel
    and colours the bundled example."""
    need(shutil.which("krita") and shutil.which("xvfb-run") and IMPORTER.is_file(),
         "needs Debian's krita (with its plugin importer) and xvfb")
    from krita_deepcolor.dependencies import requirements

    resource, kritarc, pykrita, env = fresh_profile(tmp_path)

    archive = tmp_path / f"{PLUGIN}.zip"
    done = installer("--zip", archive, env=env)
    assert done.returncode == 0 and archive.is_file(), done.output
    importer_run = ["/usr/bin/python3", "-c", IMPORT_WITH_KRITAS_IMPORTER, str(IMPORTER), str(archive),
                    str(resource)]
    imported = subprocess.run(importer_run, env=env, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0 and imported.stdout.strip() == PLUGIN, imported.stdout + imported.stderr
    assert (pykrita / f"{PLUGIN}.desktop").is_file() and (pykrita / PLUGIN / "models").is_dir()
    assert (resource / "actions" / f"{PLUGIN}.action").is_file()  # the importer found the .action file

    wheels = tmp_path / "wheels"  # what a user without internet brings along
    download = subprocess.run(["/usr/bin/python3", "-m", "pip", "download", "--only-binary=:all:", "--dest",
                               str(wheels), "--disable-pip-version-check", *requirements(False)],
                              env=clean_env(), capture_output=True, text=True, timeout=600)
    need(download.returncode == 0, f"pip download failed (no network?): {download.stderr[-400:]}")

    shutil.copy2(HERE / f"{PROBE}.desktop", pykrita)
    shutil.copytree(HERE / PROBE, pykrita / PROBE, ignore=shutil.ignore_patterns("__pycache__"))
    enable(kritarc, [PLUGIN, PROBE])  # what the importer's "Enable plugins now?" writes
    result = tmp_path / "probe.json"
    example = ",".join(str(REPO / "examples" / name) for name in ("cat.png", "cat.hints.png"))
    krita_env = dict(env, PATH="/usr/bin:/bin", KRITA_DEEPCOLOR_PROBE_RESULT=str(result),
                     KRITA_DEEPCOLOR_PROBE_WHEELS=str(wheels), KRITA_DEEPCOLOR_PROBE_EXAMPLE=example,
                     KRITA_DEEPCOLOR_WATCHDOG=str(ZIP_KRITA_TIMEOUT_S - 15))
    run = subprocess.run(["xvfb-run", "-a", "-s", XVFB_SERVER, "timeout", str(ZIP_KRITA_TIMEOUT_S),
                          "krita", "--nosplash"], env=krita_env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=ZIP_KRITA_TIMEOUT_S + 60)
    log = krita_log_excerpt(run.stdout + run.stderr)
    assert run.returncode == 0 and result.is_file(), f"krita exit {run.returncode}:\n{log}"
    found = json.loads(result.read_text())
    assert "error" not in found, found["error"]
    assert found["dockers"].get(DOCKER_ID) == {"title": "Deepcolor", "widget": "SetupPanel"}, found["dockers"]
    assert found["modules"]["numpy"] is None, "Krita must start without the dependencies"
    assert "install them with the button in the Deepcolor docker" in found["setup_problem"], found
    assert found.get("setup_status") == "Dependencies installed: Deepcolor is ready.", f"{found}\n{log}"
    assert found["after_setup"] == "DeepcolorPanel", found
    assert found["colour_status"].startswith("Added 'Deepcolor · pix2pix-flood-v1"), found
    layers = found["example_layers"]
    assert layers[::2] == ["Background", "Lines"] and layers[3] == "Hints", layers
    assert layers[1].startswith("Deepcolor"), layers
    installed = {path.name.split("-")[0].lower() for path in (pykrita / PLUGIN / "_deps").glob("*.dist-info")}
    assert {"numpy", "onnxruntime", "opencv_python_headless"} <= installed, installed

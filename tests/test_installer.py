"""installer.py on throw-away Krita profiles (resource folder + kritarc in temporary folders).

The installer always runs as a real subprocess of the Python running the tests (not Krita's), from
a copy of the repository's plugin source. One install per session downloads the real dependencies
for /usr/bin/python3 (Debian's Krita Python); the other installs use --no-deps, or tiny local wheels
with --wheels, so the whole file stays fast.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import installer
from installer import (
    InstallError,
    default_kritarc,
    default_resource_dir,
    disable_in_kritarc,
    enable_in_kritarc,
    find_krita_python,
    kritarc_enabled,
)
from krita_deepcolor import dependencies

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"
CI = os.environ.get("CI", "").lower() == "true"
PLUGIN = "krita_deepcolor"

# A kritarc as Krita leaves it: other groups, another plugin's switch, non-ASCII bytes, no final newline.
KRITARC = (b"[General]\nLastPreset=Basic_tip_default\nUserName=J\xc3\xb6rg\n\n"
           b"[python]\nenable_other_plugin=true\nenable_comics_project_management_tools=false\n\n"
           b"[MainWindow]\nState=AAAA/wAAAAD9\n")


def need(condition, reason):
    """Skip for lack of a tool on a developer machine; fail in CI, where everything must run."""
    if not condition:
        if CI:
            pytest.fail(reason + " (CI=true: this must not be skipped)")
        pytest.skip(reason)


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------

def snapshot(*roots):
    """Every file, folder and link under ``roots`` with its content hash and permission bits."""
    found = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            found[str(root)] = "absent"
            continue
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = Path(folder) / name
                key = str(path)
                if path.is_symlink():
                    found[key] = ("link", os.readlink(path))
                elif path.is_dir():
                    found[key] = ("dir", oct(path.stat().st_mode))
                else:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    found[key] = ("file", oct(path.stat().st_mode), digest)
    return found


class Profile:
    """A throw-away Krita profile: <root>/krita (resource folder), <root>/config/kritarc, and another
    plugin already installed in it."""

    def __init__(self, root: Path, kritarc=KRITARC, other_plugin=True):
        self.root = root
        self.resource = root / "krita"
        self.config = root / "config"
        self.kritarc = self.config / "kritarc"
        self.pykrita = self.resource / "pykrita"
        self.plugin = self.pykrita / PLUGIN
        self.deps = self.plugin / "_deps"
        self.resource.mkdir(parents=True)
        self.config.mkdir()
        (self.config / "kritadisplayrc").write_text("[General]\nx=1\n")
        if kritarc is not None:
            self.kritarc.write_bytes(kritarc)
        if other_plugin:
            other = self.pykrita / "other_plugin"
            other.mkdir(parents=True)
            (other / "__init__.py").write_text("VALUE = 1\n")
            (self.pykrita / "other_plugin.desktop").write_text("[Desktop Entry]\nX-KDE-Library=other\n")
        (self.resource / "brushes").mkdir()
        (self.resource / "brushes" / "mine.kpp").write_bytes(b"\x89PNG not really")

    @property
    def args(self):
        return ["--krita-dir", str(self.resource), "--kritarc", str(self.kritarc)]

    def state(self):
        return snapshot(self.resource, self.config)


def run_installer(source: Path, *args, env=None, timeout=600):
    """Run ``installer.py`` from ``source`` with the Python running the tests."""
    done = subprocess.run([sys.executable, str(source / "installer.py"), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    done.output = done.stdout + done.stderr
    return done


def ok(done):
    assert done.returncode == 0, done.output
    return done


def copy_source(destination: Path, with_model=True):
    """The installable parts of the repository, copied so tests can change them."""
    destination.mkdir(parents=True)
    shutil.copy2(REPO / "installer.py", destination)
    shutil.copytree(REPO / PLUGIN, destination / PLUGIN,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if (REPO / f"{PLUGIN}.desktop").is_file():  # else the installer says what is missing
        shutil.copy2(REPO / f"{PLUGIN}.desktop", destination)
    # The tiny contract model stands in for the shipped ones (tens of MB each, and tested on their
    # own by test_repository_is_installable).
    if with_model:
        add_contract_model(destination / "models")
    return destination


def add_contract_model(models: Path):
    """A tiny contract model and a manifest listing it, like a shipped model."""
    from tests import contract_models

    models.mkdir(exist_ok=True)
    path = contract_models.build(models / "passthrough.onnx")
    info = contract_models.info()
    entry = {"name": info.name, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
             "metadata": info.to_props()}
    (models / "manifest.json").write_text(json.dumps({"default": info.name, "models": [entry]}, indent=1))


def first_model(plugin: Path) -> Path:
    manifest = json.loads((plugin / "models" / "manifest.json").read_text())
    return plugin / "models" / manifest["models"][0]["file"]


def system_python_version():
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True)
    return done.stdout.strip()


def offline_env():
    """An environment in which pip cannot reach any package index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_RETRIES="0",
               PIP_TIMEOUT="5")
    return env


def fake_wheel(folder: Path, dist: str, version: str, module: str, body="", extras=()):
    """A real, tiny wheel file (pure Python) that stands in for a big binary package."""
    files = {f"{module}/__init__.py": f"__version__ = {version!r}\n{body}"}
    info = f"{dist.replace('-', '_')}-{version}.dist-info"
    files[f"{info}/METADATA"] = ("Metadata-Version: 2.1\n" f"Name: {dist}\nVersion: {version}\n"
                                 + "".join(f"Provides-Extra: {extra}\n" for extra in extras))
    files[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n")
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{dist.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.fixture(scope="session")
def fake_wheels(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheels")
    providers = "def get_available_providers():\n    return {!r}\n"
    fake_wheel(folder, "numpy", "1.99.0", "numpy")
    fake_wheel(folder, "opencv-python-headless", "4.99.0", "cv2")
    fake_wheel(folder, "onnxruntime", "1.99.0", "onnxruntime", providers.format(["CPUExecutionProvider"]))
    fake_wheel(folder, "onnxruntime-gpu", "1.99.0", "onnxruntime",
               providers.format(["CUDAExecutionProvider", "CPUExecutionProvider"]), extras=("cuda", "cudnn"))
    return folder


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    return copy_source(tmp_path_factory.mktemp("src") / "krita-deepcolor")


@pytest.fixture
def profile(tmp_path):
    return Profile(tmp_path / "profile")


# --------------------------------------------------------------------------------------------------
# one real install with real dependencies for Krita's Python, shared by the tests that need it
# --------------------------------------------------------------------------------------------------

class RealInstall:
    def __init__(self, source, profile, args):
        self.source, self.profile, self.args = source, profile, args
        self.before = profile.state()
        self.seconds = None

    def install(self, env=None):
        started = time.perf_counter()
        done = ok(run_installer(self.source, *self.profile.args, *self.args, env=env))
        self.seconds = time.perf_counter() - started
        return done


@pytest.fixture(scope="session")
def real_install_once(tmp_path_factory, source):
    need(os.path.exists(SYSTEM_PYTHON), f"{SYSTEM_PYTHON} (Debian's Python, the one Krita uses) is absent")
    version = system_python_version()
    found = find_krita_python("Linux", os.environ, str(Path.home()))
    args = [] if found.version == version else ["--python-version", version]
    real = RealInstall(source, Profile(tmp_path_factory.mktemp("real") / "profile"), args)
    done = real.install()
    print(f"\n[installer] install with dependencies for Python {version}: {real.seconds:.1f} s")
    real.install_output = done.output
    return real


@pytest.fixture
def real_install(real_install_once):
    """The session's real install, put back if an earlier test uninstalled it."""
    if not (real_install_once.profile.plugin / "_installed.json").is_file():
        real_install_once.install()
    return real_install_once


# --------------------------------------------------------------------------------------------------
# platform defaults: pure functions of platform, environment and home
# --------------------------------------------------------------------------------------------------

def test_linux_defaults_follow_xdg():
    assert default_resource_dir("Linux", {}, "/home/ann") == "/home/ann/.local/share/krita"
    assert default_kritarc("Linux", {}, "/home/ann") == "/home/ann/.config/kritarc"
    env = {"XDG_DATA_HOME": "/data/ann", "XDG_CONFIG_HOME": "/cfg/ann"}
    assert default_resource_dir("Linux", env, "/home/ann") == "/data/ann/krita"
    assert default_kritarc("Linux", env, "/home/ann") == "/cfg/ann/kritarc"
    relative = {"XDG_DATA_HOME": "data", "XDG_CONFIG_HOME": ""}  # the XDG spec ignores relative paths
    assert default_resource_dir("Linux", relative, "/home/ann") == "/home/ann/.local/share/krita"
    assert default_kritarc("Linux", relative, "/home/ann") == "/home/ann/.config/kritarc"


def test_windows_defaults():
    env = {"APPDATA": r"C:\Users\Ann\AppData\Roaming", "LOCALAPPDATA": r"C:\Users\Ann\AppData\Local"}
    assert default_resource_dir("Windows", env, r"C:\Users\Ann") == r"C:\Users\Ann\AppData\Roaming\krita"
    assert default_kritarc("Windows", env, r"C:\Users\Ann") == r"C:\Users\Ann\AppData\Local\kritarc"
    assert default_resource_dir("Windows", {}, r"C:\Users\Bo") == r"C:\Users\Bo\AppData\Roaming\krita"
    assert default_kritarc("Windows", {}, r"C:\Users\Bo") == r"C:\Users\Bo\AppData\Local\kritarc"


def test_macos_defaults():
    assert default_resource_dir("Darwin", {}, "/Users/ann") == "/Users/ann/Library/Application Support/krita"
    assert default_kritarc("Darwin", {}, "/Users/ann") == "/Users/ann/Library/Preferences/kritarc"


def test_unsupported_platform_says_what_to_pass():
    for function in (default_resource_dir, default_kritarc):
        with pytest.raises(InstallError, match="unsupported platform 'FreeBSD'.*--krita-dir"):
            function("FreeBSD", {}, "/home/ann")
    with pytest.raises(InstallError, match="unsupported platform"):
        find_krita_python("Haiku", {}, "/home/ann")


def test_krita_python_read_from_the_linux_plugin_binary(tmp_path):
    lib = tmp_path / "prefix" / "lib" / "x86_64-linux-gnu" / "kritaplugins"
    lib.mkdir(parents=True)
    (lib / "kritapykrita.so").write_bytes(b"\x7fELF\0\0junk\0libpython3.9.so.1.0\0more\0")
    exe = tmp_path / "prefix" / "bin" / "python3.9"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    found = find_krita_python("Linux", {}, "/home/ann", linux_plugin_globs=[str(lib.parent.parent / "*" /
                              "kritaplugins" / "kritapykrita.so")], linux_bin_dirs=[])
    assert (found.version, found.executable) == ("3.9", str(exe))
    assert "links libpython3.9" in found.how
    missing = find_krita_python("Linux", {}, "/home/ann",
                                linux_plugin_globs=[str(tmp_path / "none" / "*.so")])
    assert (missing.version, missing.executable) == (installer.BUNDLED_PYTHON, None)
    assert "AppImage" in missing.how and "--python-version" in missing.how


def test_krita_python_on_this_machine_is_debians():
    need(os.path.exists("/usr/bin/kritarunner"), "Debian's krita package is not installed")
    found = find_krita_python("Linux", os.environ, str(Path.home()))
    assert found.version == system_python_version()
    assert found.executable == f"/usr/bin/python{found.version}"


def test_krita_python_from_windows_and_macos_bundles(tmp_path):
    krita = tmp_path / "Krita (x64)"
    (krita / "python").mkdir(parents=True)
    (krita / "python" / "python310.zip").write_bytes(b"")
    found = find_krita_python("Windows", {}, "C:/Users/ann", windows_dirs=[str(krita)])
    assert (found.version, found.executable) == ("3.10", None)
    old = tmp_path / "Krita-5.1"
    (old / "bin").mkdir(parents=True)
    (old / "bin" / "python38.dll").write_bytes(b"")
    assert find_krita_python("Windows", {}, "C:/Users/ann", windows_dirs=[str(old)]).version == "3.8"
    fallback = find_krita_python("Windows", {}, "C:/Users/ann", windows_dirs=[])
    assert fallback.version == installer.BUNDLED_PYTHON and "--python-version" in fallback.how
    app = tmp_path / "krita.app"
    (app / "Contents" / "Frameworks" / "Python.framework" / "Versions" / "3.10").mkdir(parents=True)
    (app / "Contents" / "Frameworks" / "Python.framework" / "Versions" / "Current").mkdir()
    assert find_krita_python("Darwin", {}, "/Users/ann", mac_apps=[str(app)]).version == "3.10"


# --------------------------------------------------------------------------------------------------
# kritarc: one line in, the same line out, nothing else touched
# --------------------------------------------------------------------------------------------------

KRITARC_CASES = {
    "missing": None,
    "empty": b"",
    "no python group": b"[General]\nx=1\n",
    "no final newline": b"[General]\nx=1",
    "python group in the middle": KRITARC,
    "python group last, no newline": b"[General]\nx=1\n\n[python]\nenable_a=true",
    "empty python group": b"[python]\n\n[Other]\ny=2\n",
    "crlf": b"[General]\r\nx=1\r\n\r\n[python]\r\nenable_a=true\r\n\r\n[Z]\r\nz=1\r\n",
    "switched off": b"[python]\nenable_krita_deepcolor=false\nenable_a=true\n",
    "switched off, odd spacing": b"[python]\r\nenable_krita_deepcolor = false\r\n",
    "a look-alike key elsewhere": b"[General]\nenable_krita_deepcolor=false\n",
    "two python groups": b"[python]\nenable_a=true\n\n[X]\nq=1\n\n[python]\nenable_b=true\n",
}


@pytest.mark.parametrize("name", KRITARC_CASES)
def test_kritarc_enable_then_disable_is_byte_exact(name):
    before = KRITARC_CASES[name]
    after, record = enable_in_kritarc(before)
    assert kritarc_enabled(after)
    assert record["action"] in ("added", "changed")
    if record["action"] == "added" and not record.get("section_added"):
        ours = [b"enable_krita_deepcolor=true"]
        assert sorted(after.splitlines()) == sorted((before or b"").splitlines() + ours)
    if record["action"] == "changed":
        assert len(after.splitlines()) == len(before.splitlines())
    if before:
        if b"\r\n" in before:  # the file's line endings are kept
            assert b"\n" not in after.replace(b"\r\n", b"")
    restored = json.loads(json.dumps(record))  # the record goes through the JSON install record
    assert disable_in_kritarc(after, restored) == before
    assert enable_in_kritarc(after)[0] == after  # already enabled: nothing changes


def test_kritarc_disable_after_krita_rewrote_the_file():
    after, record = enable_in_kritarc(b"[General]\nx=1\n")
    assert record["section_added"]
    # Krita rewrites kritarc on exit: new keys, new groups, our group no longer last.
    rewritten = b"[General]\nx=1\nnew=2\n\n[python]\nenable_krita_deepcolor=true\n\n[Later]\ny=3\n"
    assert disable_in_kritarc(rewritten, record) == b"[General]\nx=1\nnew=2\n\n[Later]\ny=3\n"
    at_end = b"[General]\nx=1\nnew=2\n\n[python]\nenable_krita_deepcolor=true\n"
    assert disable_in_kritarc(at_end, record) == b"[General]\nx=1\nnew=2\n"
    with_other = b"[python]\nenable_x=true\nenable_krita_deepcolor=false\n"
    assert disable_in_kritarc(with_other, record) == b"[python]\nenable_x=true\n"
    created, record = enable_in_kritarc(None)
    assert created == b"[python]\nenable_krita_deepcolor=true\n" and record["created_file"]
    assert disable_in_kritarc(created, record) is None  # we made the file: it goes again
    assert disable_in_kritarc(b"[python]\nenable_krita_deepcolor=true\n[A]\nb=1\n", record) == b"[A]\nb=1\n"


def test_kritarc_enabled_reads_the_effective_value():
    assert not kritarc_enabled(b"")
    assert not kritarc_enabled(b"[General]\nenable_krita_deepcolor=true\n")
    assert kritarc_enabled(b"[python]\nenable_krita_deepcolor=true\n")
    assert not kritarc_enabled(b"[python]\nenable_krita_deepcolor=true\nenable_krita_deepcolor=false\n")
    assert kritarc_enabled(b"[python]\r\nenable_krita_deepcolor = TRUE\r\n")


# --------------------------------------------------------------------------------------------------
# dependencies: what pip is asked for
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, allowed", [
    ("installer.py", {PLUGIN}),  # its dependencies module, itself standard library only
    (f"{PLUGIN}/dependencies.py", set()),
    (f"{PLUGIN}/__init__.py", {"krita"}),  # imported only where it exists
])
def test_installer_runs_on_python_38_with_the_standard_library_only(path, allowed):
    """Users run it with whatever Python they have, before anything is installed."""
    import ast

    tree = ast.parse((REPO / path).read_text(), feature_version=(3, 8))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert modules - {"__future__"} - allowed <= set(sys.stdlib_module_names)
    newer_methods = {"removeprefix", "removesuffix", "is_relative_to", "with_stem"}  # 3.9+
    assert not [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and node.attr in newer_methods]
    builtin_generics = [node for node in ast.walk(tree) if isinstance(node, ast.Subscript)
                        and isinstance(node.value, ast.Name) and node.value.id in ("list", "dict", "tuple",
                                                                                   "set", "type")]
    assert not builtin_generics  # list[str] etc. fail at run time before 3.9


def test_requirements_match_requirements_txt():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    assert sorted(filter(None, lines)) == sorted(dependencies.REQUIREMENTS)


def test_gpu_requirements_replace_onnxruntime():
    cpu, gpu = dependencies.requirements(False), dependencies.requirements(True)
    assert any(r.startswith("onnxruntime>=") for r in cpu) and not any("gpu" in r for r in cpu)
    assert not any(r.startswith("onnxruntime>") for r in gpu)
    assert any(r.startswith("onnxruntime-gpu[cuda,cudnn]") for r in gpu)
    assert [r for r in cpu if "onnxruntime" not in r] == [r for r in gpu if "onnxruntime" not in r]


def test_pip_targets_krita_python_from_any_interpreter(tmp_path):
    """No Krita interpreter to run: the running Python's pip is asked for Krita's version's wheels."""
    python = installer.KritaPython("3.10", None, "test")
    plan = installer.DepsPlan(python, gpu=True, platforms=["macosx_11_0_x86_64"], wheels=str(tmp_path))
    cmd = plan.command("/x/_deps")
    assert cmd[:3] == [sys.executable, "-m", "pip"]
    joined = " ".join(cmd)
    for part in ("install --target /x/_deps", "--only-binary=:all:", "--python-version 3.10",
                 "--implementation cp", "--abi cp310", "--platform macosx_11_0_x86_64",
                 f"--no-index --find-links {tmp_path}", "onnxruntime-gpu[cuda,cudnn]"):
        assert part in joined


@pytest.mark.slow
def test_pip_resolves_wheels_for_another_python_version(tmp_path):
    """Krita 5.2's Python 3.10 from whatever Python runs the installer (a pip dry run, real index)."""
    if sys.version_info[:2] == (3, 10):
        pytest.skip("the Python running the tests is 3.10 itself; cross-version needs another one")
    plan = installer.DepsPlan(installer.KritaPython("3.10", None, "test"), False, [], None)
    cmd = plan.command(str(tmp_path / "deps")) + ["--dry-run"]
    # OpenCV's wheels are abi3 (any CPython 3.7+) and the largest download: leave it out to keep this fast.
    cmd = [part for part in cmd if not part.startswith("opencv")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    would = next(line for line in done.stdout.splitlines() if line.startswith("Would install"))
    numpy = next(part for part in would.split() if part.startswith("numpy-"))
    assert tuple(int(p) for p in numpy.split("-")[1].split(".")[:2]) < (2, 3)  # numpy 2.3 dropped 3.10
    assert "onnxruntime-" in would
    assert not (tmp_path / "deps").exists()


def test_pip_uses_krita_own_python_when_it_has_pip():
    need(os.path.exists(SYSTEM_PYTHON), f"{SYSTEM_PYTHON} is absent")
    version = system_python_version()
    has_pip = subprocess.run([SYSTEM_PYTHON, "-m", "pip", "--version"], capture_output=True).returncode == 0
    need(has_pip, f"{SYSTEM_PYTHON} has no pip (apt install python3-pip)")
    plan = installer.DepsPlan(installer.KritaPython(version, SYSTEM_PYTHON, "test"), False, [], None)
    cmd = plan.command("/x/_deps")
    assert cmd[0] == SYSTEM_PYTHON and "--python-version" not in cmd


def test_pip_failures_become_one_clear_line():
    explain = dependencies.explain_pip_failure
    offline = ["Looking in indexes: https://pypi.org/simple",
               "WARNING: Retrying (Retry(total=0)) after connection broken by 'NewConnectionError(... "
               "Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')'",
               "ERROR: Could not find a version that satisfies the requirement numpy>=1.24 "
               "(from versions: none)",
               "ERROR: No matching distribution found for numpy>=1.24"]
    message = explain(offline, "3.11", 1, offline=installer.OFFLINE)
    assert "no network" in message and "nothing was changed" in message and "--wheels" in message
    assert "\n" not in message
    wrong = ["ERROR: Could not find a version that satisfies the requirement onnxruntime-gpu (from versions: "
             "1.0)", "ERROR: No matching distribution found for onnxruntime-gpu"]
    message = explain(wrong, "3.10", 1, gpu=True, wrong_version="Check --python-version")
    assert "no wheel for Krita's Python 3.10" in message and "onnxruntime-gpu exists for" in message


# --------------------------------------------------------------------------------------------------
# installs without dependencies: fast, on fresh profiles
# --------------------------------------------------------------------------------------------------

def test_repository_is_installable():
    """The real checkout has what the installer copies (the other tests install a copy of it)."""
    assert (REPO / f"{PLUGIN}.desktop").is_file(), f"{PLUGIN}.desktop is missing from the repository root"
    desktop = (REPO / f"{PLUGIN}.desktop").read_text()
    assert f"X-KDE-Library={PLUGIN}" in desktop
    source = installer.Source(str(REPO))  # also verifies models/ against models/manifest.json
    planned = [rel for rel, _ in source.planned_files()]
    assert f"{PLUGIN}/__init__.py" in planned and f"{PLUGIN}/engine/pipeline.py" in planned
    assert not any("__pycache__" in rel or rel.endswith(".pyc") for rel in planned)


def test_install_adds_only_the_plugin_and_one_kritarc_line(profile, source):
    before = profile.state()
    done = ok(run_installer(source, *profile.args, "--no-deps"))
    after = profile.state()
    added = {path for path in after if path not in before}
    ours = (str(profile.pykrita / f"{PLUGIN}.desktop"), str(profile.kritarc) + ".krita-deepcolor.bak")
    assert all(p.startswith(str(profile.pykrita / PLUGIN)) or p in ours for p in added), added
    changed = {path for path in before if after.get(path) != before[path]}
    assert changed == {str(profile.kritarc)}  # other plugins, brushes, other config files: untouched
    kritarc = profile.kritarc.read_bytes()
    assert kritarc.replace(b"enable_krita_deepcolor=true\n", b"", 1) == KRITARC
    assert (profile.config / "kritarc.krita-deepcolor.bak").read_bytes() == KRITARC
    for rel in ("__init__.py", "engine/pipeline.py", "models/manifest.json", "models/passthrough.onnx",
                "_installed.json"):
        assert (profile.plugin / rel).is_file(), rel
    assert not list(profile.plugin.rglob("__pycache__"))
    assert not list(profile.pykrita.glob(".krita_deepcolor-install-*"))  # no staging leftovers
    assert "dependencies: not installed (--no-deps)" in done.output


def test_reinstall_is_idempotent(profile, source):
    ok(run_installer(source, *profile.args, "--no-deps"))
    installed = profile.state()
    done = ok(run_installer(source, *profile.args, "--no-deps"))
    assert "up to date: nothing to do" in done.output
    assert profile.state() == installed
    # Krita switched the plugin off in its plugin manager: a reinstall switches it back on, and
    # uninstall still removes the line (it was ours to begin with).
    profile.kritarc.write_bytes(profile.kritarc.read_bytes().replace(b"deepcolor=true", b"deepcolor=false"))
    ok(run_installer(source, *profile.args, "--no-deps"))
    assert profile.kritarc.read_bytes().replace(b"enable_krita_deepcolor=true\n", b"", 1) == KRITARC
    ok(run_installer(source, *profile.args, "--uninstall"))
    assert profile.kritarc.read_bytes() == KRITARC


def test_update_replaces_changed_files_and_keeps_the_users(profile, tmp_path):
    source = copy_source(tmp_path / "src")
    ok(run_installer(source, *profile.args, "--no-deps"))
    (profile.plugin / "my_notes.txt").write_text("mine")  # the user's own file inside the plugin folder
    (profile.plugin / "__pycache__").mkdir(exist_ok=True)  # what Krita's Python writes on import
    (profile.plugin / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"pyc")
    (source / PLUGIN / "cli.py").unlink()
    (source / PLUGIN / "new_module.py").write_text("NEW = 1\n")
    plan = source / PLUGIN / "engine" / "plan.py"
    plan.write_text(plan.read_text() + "#\n")
    done = ok(run_installer(source, *profile.args, "--no-deps"))
    assert not (profile.plugin / "cli.py").exists()
    assert (profile.plugin / "new_module.py").read_text() == "NEW = 1\n"
    assert (profile.plugin / "engine" / "plan.py").read_text().endswith("#\n")
    assert (profile.plugin / "my_notes.txt").read_text() == "mine"
    assert "kept your file krita_deepcolor/my_notes.txt" in done.output


def test_uninstall_restores_the_profile_exactly(profile, source):
    before = profile.state()
    ok(run_installer(source, *profile.args, "--no-deps"))
    (profile.plugin / "engine" / "__pycache__").mkdir()
    (profile.plugin / "engine" / "__pycache__" / "plan.cpython-311.pyc").write_bytes(b"pyc")
    done = ok(run_installer(source, *profile.args, "--uninstall"))
    assert "removed krita-deepcolor" in done.output
    assert profile.state() == before
    assert "not installed" in ok(run_installer(source, *profile.args, "--uninstall")).output


def test_uninstall_keeps_the_users_files(profile, source):
    ok(run_installer(source, *profile.args, "--no-deps"))
    (profile.plugin / "models" / "my_model.onnx").write_bytes(b"weights")
    done = ok(run_installer(source, *profile.args, "--uninstall"))
    assert (profile.plugin / "models" / "my_model.onnx").read_bytes() == b"weights"
    assert sorted(p.name for p in profile.plugin.rglob("*")) == ["models", "my_model.onnx"]
    assert "kept your file" in done.output and not (profile.pykrita / f"{PLUGIN}.desktop").exists()


def test_fresh_profile_without_pykrita_or_kritarc(tmp_path, source):
    """pykrita/ and kritarc created by the install are removed again by the uninstall."""
    profile = Profile(tmp_path / "p", kritarc=None, other_plugin=False)
    before = profile.state()
    ok(run_installer(source, *profile.args, "--no-deps"))
    assert profile.kritarc.read_bytes() == b"[python]\nenable_krita_deepcolor=true\n"
    assert not (profile.config / "kritarc.krita-deepcolor.bak").exists()  # nothing to back up
    ok(run_installer(source, *profile.args, "--uninstall"))
    assert profile.state() == before


def test_dry_run_on_a_profile_without_kritarc_says_it_would_create_one(tmp_path, source):
    profile = Profile(tmp_path / "p", kritarc=None, other_plugin=False)
    before = profile.state()
    done = ok(run_installer(source, *profile.args, "--no-deps", "--dry-run"))
    assert f"would create {profile.kritarc} with 'enable_krita_deepcolor=true'" in done.output
    assert "Traceback" not in done.output and profile.state() == before


def test_dry_run_changes_nothing(profile, source):
    before = profile.state()
    done = ok(run_installer(source, *profile.args, "--dry-run"))
    assert profile.state() == before
    assert "would copy" in done.output and "would install dependencies" in done.output
    assert "would add 'enable_krita_deepcolor=true'" in done.output
    ok(run_installer(source, *profile.args, "--no-deps"))
    installed = profile.state()
    done = ok(run_installer(source, *profile.args, "--uninstall", "--dry-run"))
    assert profile.state() == installed and "would remove" in done.output


def test_missing_resource_folder_says_start_krita(tmp_path, source):
    done = run_installer(source, "--krita-dir", tmp_path / "nowhere", "--kritarc", tmp_path / "kritarc")
    assert done.returncode == 1
    assert "does not exist: start Krita once" in done.stderr and "--krita-dir" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "empty-data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    done = run_installer(source, "--check", env=env)
    assert done.returncode == 1 and str(tmp_path / "empty-data" / "krita") in done.stderr


def test_a_plugin_installed_by_hand_is_not_overwritten(profile, source):
    (profile.plugin).mkdir(parents=True)
    (profile.plugin / "__init__.py").write_text("# copied by hand\n")
    before = profile.state()
    done = run_installer(source, *profile.args, "--no-deps")
    assert done.returncode == 1 and "not installed by this installer" in done.stderr
    assert profile.state() == before


def test_interrupted_run_is_recovered(profile, source):
    """A run killed half-way (old plugin moved aside, new one not yet in place) is put right."""
    ok(run_installer(source, *profile.args, "--no-deps"))
    stage = profile.pykrita / ".krita_deepcolor-install-killed"
    (stage / "old").mkdir(parents=True)
    profile.plugin.rename(stage / "old" / PLUGIN)
    done = ok(run_installer(source, *profile.args, "--no-deps"))
    assert "interrupted run" in done.output and not stage.exists()
    assert "up to date" in done.output


# --------------------------------------------------------------------------------------------------
# failures half-way leave the profile as it was
# --------------------------------------------------------------------------------------------------

def test_broken_source_file_changes_nothing(profile, tmp_path):
    source = copy_source(tmp_path / "src")
    ok(run_installer(source, *profile.args, "--no-deps"))
    before = profile.state()
    (source / PLUGIN / "engine" / "plan.py").write_text("# new version\n")
    os.symlink(tmp_path / "does-not-exist.py", source / PLUGIN / "broken.py")  # copying it fails
    done = run_installer(source, *profile.args, "--no-deps")
    assert done.returncode == 1 and "nothing was changed" in done.stderr, done.output
    assert profile.state() == before


def test_failure_after_the_swap_rolls_everything_back(profile, tmp_path):
    """The kritarc write comes last; when it fails, the new plugin is taken out and the old put back."""
    source = copy_source(tmp_path / "src")
    ok(run_installer(source, *profile.args, "--no-deps"))
    (profile.plugin / "__pycache__").mkdir()
    (source / PLUGIN / "engine" / "plan.py").write_text("# new version\n")
    blocker = profile.config / "not-a-folder"
    blocker.write_text("a file where kritarc's folder should be")
    before = profile.state()
    done = run_installer(source, "--krita-dir", profile.resource, "--kritarc", blocker / "kritarc",
                         "--no-deps")
    assert done.returncode == 1 and "nothing was changed" in done.stderr, done.output
    assert profile.state() == before
    assert not list(profile.pykrita.glob(".krita_deepcolor-install-*"))


def test_failure_on_a_fresh_profile_removes_the_pykrita_folder_it_made(tmp_path, source):
    profile = Profile(tmp_path / "p", other_plugin=False)
    blocker = profile.config / "not-a-folder"
    blocker.write_text("x")
    before = profile.state()
    done = run_installer(source, "--krita-dir", profile.resource, "--kritarc", blocker / "kritarc",
                         "--no-deps")
    assert done.returncode == 1 and profile.state() == before and not profile.pykrita.exists()


def test_no_network_changes_nothing(profile, source):
    ok(run_installer(source, *profile.args, "--no-deps"))
    before = profile.state()
    started = time.perf_counter()
    done = run_installer(source, *profile.args, env=offline_env(), timeout=120)
    assert done.returncode == 1, done.output
    message = done.stderr.strip().splitlines()[-1]
    assert "could not download the dependencies" in message and "no network" in message
    assert "nothing was changed" in message
    assert profile.state() == before
    assert time.perf_counter() - started < 60


# --------------------------------------------------------------------------------------------------
# onnxruntime vs onnxruntime-gpu: never both (tiny local wheels, installed by real pip, offline)
# --------------------------------------------------------------------------------------------------

def dists(deps: Path):
    return sorted(p.name.split("-")[0] for p in deps.glob("*.dist-info"))


def test_switching_to_gpu_and_back_never_leaves_both(profile, source, fake_wheels):
    wheels = ["--wheels", fake_wheels, "--python-version", "3.11"]
    ok(run_installer(source, *profile.args, *wheels))
    assert dists(profile.deps) == ["numpy", "onnxruntime", "opencv_python_headless"]
    done = ok(run_installer(source, *profile.args, *wheels, "--gpu", "--dry-run"))
    assert "would remove the installed dependencies" in done.output
    assert "onnxruntime-gpu[cuda,cudnn]" in done.output
    done = ok(run_installer(source, *profile.args, *wheels, "--gpu"))
    assert "the installed onnxruntime is removed" in done.output
    assert dists(profile.deps) == ["numpy", "onnxruntime_gpu", "opencv_python_headless"]
    assert "CUDA" in (profile.deps / "onnxruntime" / "__init__.py").read_text()
    record = json.loads((profile.plugin / "_installed.json").read_text())
    assert record["deps"]["gpu"] is True and "onnxruntime-gpu" in record["deps"]["distributions"]
    ok(run_installer(source, *profile.args, *wheels))
    assert dists(profile.deps) == ["numpy", "onnxruntime", "opencv_python_headless"]
    assert "CUDA" not in (profile.deps / "onnxruntime" / "__init__.py").read_text()
    # the same request again reuses what is there, without pip
    done = ok(run_installer(source, *profile.args, "--python-version", "3.11", env=offline_env()))
    assert "up to date" in done.output


def test_check_flags_both_runtimes(profile, source, fake_wheels):
    ok(run_installer(source, *profile.args, "--wheels", fake_wheels, "--python-version", "3.11"))
    gpu = fake_wheels / "onnxruntime_gpu-1.99.0-py3-none-any.whl"
    with zipfile.ZipFile(gpu) as archive:
        archive.extract("onnxruntime_gpu-1.99.0.dist-info/METADATA", profile.deps)
    done = run_installer(source, *profile.args, "--check")
    assert done.returncode == 1 and "both onnxruntime and onnxruntime-gpu" in done.output


# --------------------------------------------------------------------------------------------------
# the real install: real wheels for Krita's Python, checked, imported, run inside Krita
# --------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_check_passes_after_a_real_install(real_install):
    done = ok(run_installer(real_install.source, *real_install.profile.args, "--check"))
    print(done.output)
    for line in ("ok       desktop file", "ok       plugin files", "ok       models:", "verified against",
                 "ok       dependencies: numpy", "ok       kritarc: [python] enable_krita_deepcolor=true",
                 "everything is in place"):
        assert line in done.output
    assert "import in /usr/bin/python3" in done.output
    assert "from outside _deps" not in done.output


@pytest.mark.slow
def test_check_names_what_is_missing(real_install):
    profile, source = real_install.profile, real_install.source
    runtime = profile.plugin / "engine" / "runtime.py"
    model = first_model(profile.plugin)
    saved_runtime, saved_model = runtime.read_bytes(), model.read_bytes()
    runtime.unlink()
    model.write_bytes(saved_model[:-10])
    numpy_init = profile.deps / "numpy" / "__init__.py"
    saved_numpy = numpy_init.read_bytes()
    numpy_init.write_text("raise ImportError('broken on purpose')\n")
    kritarc = profile.kritarc.read_bytes()
    profile.kritarc.write_bytes(kritarc.replace(b"krita_deepcolor=true", b"krita_deepcolor=false"))
    try:
        done = run_installer(source, *profile.args, "--check")
        assert done.returncode == 1
        assert "MISSING  plugin files: 1 of" in done.output and "engine/runtime.py (missing)" in done.output
        assert f"MISSING  models: {model.name} (sha256 does not match the manifest)" in done.output
        assert "MISSING  dependencies:" in done.output and "broken on purpose" in done.output
        assert "MISSING  kritarc: the plugin is not enabled" in done.output
        assert "4 problems found" in done.output
    finally:
        numpy_init.write_bytes(saved_numpy)
        profile.kritarc.write_bytes(kritarc)
    # a reinstall repairs the plugin files without downloading anything again
    done = ok(run_installer(source, *profile.args, *real_install.args, env=offline_env()))
    assert "already installed for this Python, kept" in done.output
    assert runtime.read_bytes() == saved_runtime and model.read_bytes() == saved_model
    ok(run_installer(source, *profile.args, "--check"))


@pytest.fixture(scope="session")
def contract_model(tmp_path_factory):
    from tests import contract_models

    return contract_models.build(tmp_path_factory.mktemp("model") / "passthrough.onnx")


@pytest.mark.slow
def test_deps_import_in_debians_python(real_install, contract_model):
    """What Krita's Python sees: _deps first on the path, numpy + onnxruntime + cv2 working together."""
    deps, model = real_install.profile.deps, contract_model
    code = (
        "import sys, numpy, onnxruntime, cv2\n"
        f"assert all(m.__file__.startswith({str(deps)!r}) for m in (numpy, onnxruntime, cv2)), sys.path\n"
        f"s = onnxruntime.InferenceSession({str(model)!r}, providers=['CPUExecutionProvider'])\n"
        "line = numpy.ones((1, 1, 8, 8), numpy.float32)\n"
        "hint = numpy.zeros((1, 4, 8, 8), numpy.float32); hint[0, :, 2, 2] = (1, 0, 0, 1)\n"
        "(color,) = s.run(['color'], {'line': line, 'hint': hint})\n"
        "assert color.shape == (1, 3, 8, 8) and tuple(color[0, :, 2, 2]) == (1, 0, 0), color[0, :, 2, 2]\n"
        "gray = cv2.cvtColor(numpy.zeros((4, 4, 3), numpy.uint8), cv2.COLOR_BGR2GRAY)\n"
        "print('IMPORTS-OK', numpy.__version__, onnxruntime.__version__, cv2.__version__)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([SYSTEM_PYTHON, "-s", "-c", code], env=dict(env, PYTHONPATH=str(deps)),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "IMPORTS-OK" in done.stdout, done.stdout + done.stderr


RUNNER_SCRIPT = '''
import os, sys, traceback


def main(args):
    rc = 1
    try:
        rc = run(*args)
    except BaseException:
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def run(model_path, deps_dir):
    from krita import Krita
    print("KDC-RUNNER krita", Krita.instance().version(), "python", sys.version.split()[0], flush=True)
    import krita_deepcolor
    print("KDC-RUNNER package", krita_deepcolor.__file__, flush=True)
    import numpy
    import onnxruntime
    import cv2
    for module in (numpy, onnxruntime, cv2):
        if not module.__file__.startswith(deps_dir + os.sep):
            print("KDC-RUNNER not from _deps:", module.__name__, module.__file__, flush=True)
            return 3
    from krita_deepcolor.engine import colorize, load_model
    model = load_model(model_path, device="cpu")
    line = numpy.full((48, 64, 4), 255, numpy.uint8)
    cv2.rectangle(line, (4, 4), (59, 43), (0, 0, 0, 255), 2)
    hint = numpy.zeros((48, 64, 4), numpy.uint8)
    hint[20:28, 24:32] = (255, 0, 0, 255)
    result = colorize(model, line, hint)
    pixel = [int(v) for v in result.rgba[24, 28]]
    print("KDC-RUNNER colorized", result.rgba.shape, result.provider, pixel, flush=True)
    if result.rgba.shape != (48, 64, 4) or pixel[0] < 200 or pixel[1] > 60 or pixel[2] > 60:
        return 4
    print("KDC-RUNNER OK", flush=True)
    return 0
'''


@pytest.mark.krita
@pytest.mark.slow
def test_installed_plugin_runs_the_engine_inside_krita(real_install, contract_model, tmp_path):
    """kritarunner (real Krita, its own Python) imports the installed package and colours with it."""
    need(shutil.which("kritarunner") is not None, "kritarunner is not installed (apt install krita)")
    profile = real_install.profile
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "kdc_installed_probe.py").write_text(RUNNER_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    # Krita's embedded Python derives its prefix from the first python3 on PATH: with pyenv's (or a
    # venv's) in front it loads that installation's standard library and loses Debian's PyQt5.
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin"])
    # kritarunner's own profile (not the plugin's: that comes from PYTHONPATH, as Krita puts pykrita
    # on sys.path). A fresh one costs ~16 s; tests/krita/run.sh's reusable one is shared when set.
    runner = Path(os.environ.get("KRITA_DEEPCOLOR_TEST_PROFILE") or profile.root / "runner")
    env.update(XDG_DATA_HOME=str(runner / "data"), XDG_CONFIG_HOME=str(runner / "config"),
               QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join([str(scripts), str(profile.pykrita)]))
    model = contract_model
    started = time.perf_counter()
    done = subprocess.run(["kritarunner", "-s", "kdc_installed_probe", "-f", "main", "--", str(model),
                           str(profile.deps)], env=env, capture_output=True, text=True, timeout=300)
    print(f"[installer] kritarunner: {time.perf_counter() - started:.1f} s")
    lines = [line for line in (done.stdout + done.stderr).splitlines()
             if "KDC-RUNNER" in line or "Error" in line or "Traceback" in line or line.startswith("  ")]
    assert done.returncode == 0 and "KDC-RUNNER OK" in done.stdout, "\n".join(lines[-40:])


@pytest.mark.slow
def test_real_reinstall_is_idempotent_and_offline(real_install):
    profile = real_install.profile
    installed = profile.state()
    done = ok(run_installer(real_install.source, *profile.args, *real_install.args, env=offline_env()))
    assert "up to date: nothing to do" in done.output
    assert profile.state() == installed


@pytest.mark.slow
def test_real_uninstall_restores_the_profile_exactly(real_install):
    profile = real_install.profile
    assert (profile.deps / "onnxruntime").is_dir() and profile.kritarc.read_bytes() != KRITARC
    done = ok(run_installer(real_install.source, *profile.args, "--uninstall"))
    assert profile.state() == real_install.before, done.output
    done = run_installer(real_install.source, *profile.args, "--check")
    assert done.returncode == 1 and "is not installed" in done.output

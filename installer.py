#!/usr/bin/env python3
"""Install krita-deepcolor into Krita, check an installation, or remove it again.

    python installer.py                  install (or update) for the current user
    python installer.py --gpu            the same, with onnxruntime-gpu and its CUDA libraries
    python installer.py --check          report what is present and what is missing
    python installer.py --uninstall      remove exactly what the installer added
    python installer.py --dry-run ...    only say what would be done
    python installer.py --zip FILE       write the plugin as a zip for Krita's own plugin importer

What an install does:
  * copies krita_deepcolor.desktop and the krita_deepcolor package (with the docker's .action file,
    Manual.html and the shipped models) into <Krita resource folder>/pykrita/;
  * installs numpy, onnxruntime (or onnxruntime-gpu) and opencv-python-headless for *Krita's* Python
    into pykrita/krita_deepcolor/_deps (the Python running this script need not be Krita's: pip is
    asked for wheels of Krita's Python version);
  * adds ``enable_krita_deepcolor=true`` to the [python] section of kritarc, changing nothing else
    (a copy of the previous file is kept beside it as kritarc.krita-deepcolor.bak).

Everything is prepared in a folder next to the target first and then moved into place with renames;
any failure puts the previous state back. The install is recorded in
pykrita/krita_deepcolor/_installed.json, which --check and --uninstall read.

Standard library only (with the plugin's own krita_deepcolor/dependencies.py, also standard library
only), Python 3.8 or newer: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import ntpath
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

from krita_deepcolor.dependencies import (  # the plugin's own module: standard library only
    CPU_DIST,
    GPU_DIST,
    distributions,
    explain_pip_failure,
    pip_command,
    pip_environment,
    pip_version,
    requirements,
)

PLUGIN = "krita_deepcolor"
DESKTOP = PLUGIN + ".desktop"
ACTION = PLUGIN + ".action"
MANUAL = "Manual.html"
DEPS = "_deps"
RECORD = "_installed.json"
MODELS = "models"
MODEL_MANIFEST = "manifest.json"
STAGE_PREFIX = ".krita_deepcolor-install-"
BACKUP_SUFFIX = ".krita-deepcolor.bak"
RECORD_VERSION = 1

SECTION = b"python"
ENABLE_KEY = b"enable_" + PLUGIN.encode()
TRUE_VALUES = (b"true", b"on", b"yes", b"1")

# Keep in step with requirements.txt (a test compares them).
# Krita 5.2.x bundles Python 3.10 in its AppImage, Windows and macOS builds.
BUNDLED_PYTHON = "3.10"

SUPPORTED = ("Linux", "Windows", "Darwin")
OFFLINE = ("connect to the internet and run again, or install offline with --wheels DIR, or skip with "
           "--no-deps")
NO_MODELS = "no model ships with this version: the docker uses models from a folder you choose"
IGNORED_NAMES = ("__pycache__", ".DS_Store", DEPS, RECORD)
IGNORED_SUFFIXES = (".pyc", ".pyo")


class InstallError(Exception):
    """A one-line message for the user; nothing was changed unless it says so."""


def say(message=""):
    print(message, flush=True)


# --------------------------------------------------------------------------------------------------
# Where Krita keeps things (pure functions of platform, environment and home folder)
# --------------------------------------------------------------------------------------------------

def _xdg(env, name, home, fallback):
    value = env.get(name, "")
    return value if posixpath.isabs(value) else posixpath.join(home, fallback)


def _unsupported(system):
    return InstallError(f"unsupported platform {system!r}: Krita's folders are only known for Linux, "
                        "Windows and macOS; pass --krita-dir, --kritarc and --python-version")


def default_resource_dir(system, env, home):
    """Krita's resource folder (the one holding pykrita/) for a platform."""
    if system == "Linux":
        return posixpath.join(_xdg(env, "XDG_DATA_HOME", home, ".local/share"), "krita")
    if system == "Windows":
        appdata = env.get("APPDATA") or ntpath.join(home, "AppData", "Roaming")
        return ntpath.join(appdata, "krita")
    if system == "Darwin":
        return posixpath.join(home, "Library", "Application Support", "krita")
    raise _unsupported(system)


def default_kritarc(system, env, home):
    """Krita's main configuration file for a platform."""
    if system == "Linux":
        return posixpath.join(_xdg(env, "XDG_CONFIG_HOME", home, ".config"), "kritarc")
    if system == "Windows":
        local = env.get("LOCALAPPDATA") or ntpath.join(home, "AppData", "Local")
        return ntpath.join(local, "kritarc")
    if system == "Darwin":
        return posixpath.join(home, "Library", "Preferences", "kritarc")
    raise _unsupported(system)


class KritaPython:
    """Krita's Python: version "X.Y", an interpreter of that version to run (or None), and how we know."""

    def __init__(self, version, executable, how):
        self.version, self.executable, self.how = version, executable, how

    def __repr__(self):
        return f"KritaPython({self.version!r}, {self.executable!r}, {self.how!r})"


LINUX_PLUGIN_GLOBS = tuple(prefix + "/kritaplugins/kritapykrita.so" for prefix in (
    "/usr/lib/*", "/usr/lib64", "/usr/lib", "/usr/local/lib/*", "/usr/local/lib64", "/usr/local/lib"))
LINUX_BIN_DIRS = ("/usr/bin", "/usr/local/bin")
_LIBPYTHON = re.compile(rb"libpython(3\.\d{1,2})")
_PYTHON_DIGITS = re.compile(r"python3(\d{1,2})\.(?:dll|zip)$", re.IGNORECASE)


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def find_krita_python(system, env, home, linux_plugin_globs=LINUX_PLUGIN_GLOBS, linux_bin_dirs=LINUX_BIN_DIRS,
                      windows_dirs=None, mac_apps=None):
    """Which Python Krita runs. The search locations are parameters so tests can point them at folders."""
    if system == "Linux":
        for pattern in linux_plugin_globs:
            for plugin in sorted(glob.glob(pattern)):
                try:
                    with open(plugin, "rb") as handle:
                        found = _LIBPYTHON.search(handle.read())
                except OSError:
                    continue
                if not found:
                    continue
                version = found.group(1).decode()
                prefix = os.path.dirname(os.path.dirname(os.path.dirname(plugin)))
                bins = list(linux_bin_dirs) + [os.path.join(prefix, "bin"),
                                               os.path.join(os.path.dirname(prefix), "bin")]
                exe = next((os.path.join(d, "python" + version) for d in bins
                            if os.access(os.path.join(d, "python" + version), os.X_OK)), None)
                return KritaPython(version, exe, f"{plugin} links libpython{version}")
        return KritaPython(BUNDLED_PYTHON, None,
                           "no packaged Krita found; assuming the AppImage of Krita 5.2 (Python "
                           f"{BUNDLED_PYTHON}): pass --python-version if yours differs")
    if system == "Windows":
        if windows_dirs is None:
            roots = [env.get(name) for name in ("ProgramW6432", "ProgramFiles", "ProgramFiles(x86)")]
            windows_dirs = [ntpath.join(root, sub) for root in roots if root
                            for sub in ("Krita (x64)", "Krita")]
        for folder in windows_dirs:
            for sub in ("python", "bin", ""):
                names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(folder, sub, "python3*")))
                for name in names:
                    found = _PYTHON_DIGITS.match(name)
                    if found:
                        version = "3." + found.group(1)
                        return KritaPython(version, None, f"found {name} in {folder}")
        return KritaPython(BUNDLED_PYTHON, None, f"Krita's folder not found; assuming Krita 5.2 (Python "
                                                 f"{BUNDLED_PYTHON}): pass --python-version if yours differs")
    if system == "Darwin":
        if mac_apps is None:
            mac_apps = ["/Applications/krita.app", posixpath.join(home, "Applications", "krita.app")]
        for app in mac_apps:
            versions = glob.glob(os.path.join(app, "Contents", "Frameworks", "Python.framework", "Versions",
                                              "3.*"))
            versions = [os.path.basename(v) for v in versions if re.match(r"3\.\d+$", os.path.basename(v))]
            if versions:
                version = max(versions, key=_version_key)
                return KritaPython(version, None, f"found Python.framework {version} in {app}")
        return KritaPython(BUNDLED_PYTHON, None, f"krita.app not found; assuming Krita 5.2 (Python "
                                                 f"{BUNDLED_PYTHON}): pass --python-version if yours differs")
    raise _unsupported(system)


# --------------------------------------------------------------------------------------------------
# kritarc: minimal, byte-exact edits of one key in the [python] group
# --------------------------------------------------------------------------------------------------

def _newline(data):
    return b"\r\n" if b"\r\n" in data else b"\n"


def _line_end(line):
    stripped = line.rstrip(b"\r\n")
    return line[len(stripped):]


def _group(line):
    """The group name of a header line ("[python]" -> b"python"), else None."""
    text = line.strip()
    if text.startswith(b"[") and text.endswith(b"]") and not text.startswith(b"[$"):
        return text[1:-1]
    return None


def _key(line):
    text = line.strip()
    if not text or text.startswith(b"#") or b"=" not in text:
        return None
    key = text.split(b"=", 1)[0].strip()
    return re.sub(rb"\[[^\]]*\]$", b"", key).strip()  # drop KConfig's key[$e] / key[de] suffixes


def _value(line):
    return line.split(b"=", 1)[1].strip()


def _sections(lines):
    """(header index, first body index, end index) of every [python] group, in file order."""
    found, current = [], None
    for index, line in enumerate(lines):
        name = _group(line)
        if name is None:
            continue
        if current is not None:
            found.append((current, current + 1, index))
            current = None
        if name == SECTION:
            current = index
    if current is not None:
        found.append((current, current + 1, len(lines)))
    return found


def _key_lines(lines):
    return [i for _, start, end in _sections(lines) for i in range(start, end)
            if _key(lines[i]) == ENABLE_KEY]


def kritarc_enabled(data):
    """True when kritarc (bytes) enables the plugin: the last enable_krita_deepcolor in [python] is true."""
    lines = data.splitlines(keepends=True)
    keys = _key_lines(lines)
    return bool(keys) and _value(lines[keys[-1]]).lower() in TRUE_VALUES


def enable_in_kritarc(data):
    """Return (new bytes, record) with the plugin enabled; ``data`` None means the file does not exist.

    The new file is the old one with exactly one line inserted or changed (or a [python] group
    appended); the record says what was done so that ``disable_in_kritarc`` can undo just that.
    """
    created = data is None
    data = b"" if created else data
    newline = _newline(data)
    lines = data.splitlines(keepends=True)
    keys = _key_lines(lines)
    if keys:
        last = keys[-1]
        if _value(lines[last]).lower() in TRUE_VALUES:
            return data, {"action": "present", "created_file": False}
        previous = lines[last]
        lines[last] = ENABLE_KEY + b"=true" + (_line_end(previous) or newline)
        record = {"action": "changed", "previous": previous.decode("latin-1"), "created_file": False}
        return b"".join(lines), record
    sections = _sections(lines)
    if sections:
        header, start, end = sections[0]
        at = header + 1
        for index in range(start, end):
            if lines[index].strip():
                at = index + 1
        record = {"action": "added", "section_added": False, "created_file": created}
        if not lines[at - 1].endswith((b"\n", b"\r")):  # the file's last line had no newline
            lines[at - 1] += newline
            record["newline_added"] = True
        lines.insert(at, ENABLE_KEY + b"=true" + newline)
        return b"".join(lines), record
    appended = b""
    if data and not data.endswith((b"\n", b"\r")):
        appended += newline
    if data.strip():
        appended += newline
    appended += b"[" + SECTION + b"]" + newline + ENABLE_KEY + b"=true" + newline
    record = {"action": "added", "section_added": True, "appended": appended.decode("latin-1"),
              "created_file": created}
    return data + appended, record


def disable_in_kritarc(data, record):
    """Undo what ``enable_in_kritarc`` did (as told by its record) on the file as it is now.

    Returns the new bytes, or None when the file should be deleted (we created it and only our
    lines are left)."""
    action = record.get("action")
    if action == "present" or data is None:
        return data
    lines = data.splitlines(keepends=True)
    keys = _key_lines(lines)
    if action == "changed":
        if keys:
            lines[keys[-1]] = record["previous"].encode("latin-1")
        return b"".join(lines)
    appended = record.get("appended", "").encode("latin-1")
    if record.get("section_added") and appended and data.endswith(appended):
        result = data[:-len(appended)]
    else:
        for index in reversed(keys):
            del lines[index]
        if record.get("newline_added") and keys and keys[-1] == len(lines) and lines:
            lines[-1] = lines[-1].rstrip(b"\r\n")  # our line was the last one: give back the bare end
        if record.get("section_added"):
            for header, start, end in reversed(_sections(lines)):
                if not any(lines[i].strip() for i in range(start, end)):
                    del lines[header:end]
                    if header == len(lines) and header > 0 and not lines[header - 1].strip():
                        del lines[header - 1]  # it was the last group: drop the blank line before it
                    break
        result = b"".join(lines)
    if record.get("created_file") and not result.strip():
        return None
    return result


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def write_atomically(path, data):
    """Replace ``path`` with ``data`` through a temporary file in the same folder (keeps the mode)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if os.path.exists(path):
            shutil.copymode(path, temp)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------

def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ignored(name):
    return name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def tree_files(root):
    """Relative posix paths of the files under ``root`` (for records and listings)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            found.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return found


def _is_ours_incidental(relpath):
    """Files in the plugin folder that are neither recorded nor the user's: bytecode, deps, the record."""
    parts = relpath.split("/")
    return (parts[0] == PLUGIN and len(parts) > 1 and parts[1] in (DEPS, RECORD)) or \
        "__pycache__" in parts or relpath.endswith(IGNORED_SUFFIXES)


def foreign_files(pykrita, record):
    """Files inside the installed plugin folder that the install did not put there (the user's)."""
    folder = os.path.join(pykrita, PLUGIN)
    recorded = set(record.get("files", {}))
    found = []
    for rel in tree_files(folder):
        rel = PLUGIN + "/" + rel
        if rel not in recorded and not _is_ours_incidental(rel):
            found.append(rel)
    return found


class Source:
    """The plugin as shipped: the folder holding this installer."""

    def __init__(self, root):
        self.root = root
        self.desktop = os.path.join(root, DESKTOP)
        self.package = os.path.join(root, PLUGIN)
        self.models = os.path.join(root, MODELS)
        self.notes = []
        self.model_files = self._check()

    def _check(self):
        required = (self.desktop, os.path.join(self.package, "__init__.py"))
        missing = [path for path in required if not os.path.isfile(path)]
        if missing:
            raise InstallError(f"incomplete plugin source in {self.root}: {', '.join(missing)} missing "
                               "(run the installer from a full checkout or release)")
        for name in (ACTION, MANUAL):
            if not os.path.isfile(os.path.join(self.package, name)):
                self.notes.append(f"{PLUGIN}/{name} is missing from the source: it will be absent in Krita")
        manifest = os.path.join(self.models, MODEL_MANIFEST)
        if not os.path.isfile(manifest):
            self.notes.append("no trained model ships with this version yet (models/manifest.json is "
                              "missing): the docker can use .onnx models from a folder you choose")
            return []
        try:
            with open(manifest, encoding="utf-8") as handle:
                entries = json.load(handle).get("models", [])
            listed = [(str(entry["file"]), str(entry["sha256"]).lower()) for entry in entries]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InstallError(f"{manifest} is not a valid model manifest ({exc}): fix or restore it") \
                from None
        files = [MODEL_MANIFEST]
        for name, expected in listed:
            path = os.path.join(self.models, name)
            if not os.path.isfile(path):
                raise InstallError(f"models/{MODEL_MANIFEST} lists {name} but models/{name} is missing "
                                   "(in a git checkout: git lfs pull)")
            if sha256_of(path) != expected:
                raise InstallError(f"models/{name} does not match its sha256 in models/{MODEL_MANIFEST} "
                                   "(a damaged file or a Git LFS pointer: git lfs pull)")
            files.append(name)
        if not listed:
            self.notes.append("no trained model ships with this version yet (models/manifest.json lists "
                              "none): the docker can use .onnx models from a folder you choose")
        for name in sorted(os.listdir(self.models)):
            if name.lower().endswith((".md", ".txt")) and os.path.isfile(os.path.join(self.models, name)):
                files.append(name)
        return files

    def planned_files(self):
        """Relative paths (under pykrita) and source paths of everything the install copies."""
        plan = [(DESKTOP, self.desktop)]
        for folder, dirs, files in os.walk(self.package):
            dirs[:] = sorted(d for d in dirs if not _ignored(d)
                             and not (folder == self.package and d == MODELS))
            for name in sorted(files):
                if not _ignored(name):
                    full = os.path.join(folder, name)
                    rel = os.path.relpath(full, self.root).replace(os.sep, "/")
                    plan.append((rel, full))
        for name in self.model_files:
            plan.append((f"{PLUGIN}/{MODELS}/{name}", os.path.join(self.models, name)))
        return plan


# --------------------------------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------------------------------

class DepsPlan:
    def __init__(self, python, gpu, platforms, wheels):
        self.python, self.gpu, self.platforms, self.wheels = python, bool(gpu), list(platforms or []), wheels
        self.requirements = requirements(gpu)
        self.key = {"python": python.version, "requirements": self.requirements,
                    "platforms": self.platforms}
        self._pip = None

    def pip(self):
        """(interpreter running pip, cross-target?) chosen once: Krita's own when it has pip."""
        if self._pip is None:
            if self.python.executable and pip_version(self.python.executable) == self.python.version:
                self._pip = (self.python.executable, bool(self.platforms))
            else:
                own = pip_version(sys.executable)
                if own is None:
                    raise InstallError("pip is not available: install it (Debian/Ubuntu: sudo apt install "
                                       "python3-pip) or run the installer with a Python that has pip")
                self._pip = (sys.executable, own != self.python.version or bool(self.platforms))
        return self._pip

    def command(self, target):
        executable, cross = self.pip()
        return pip_command(executable, target, self.requirements, self.wheels,
                           self.python.version if cross else None, self.platforms)

    def install(self, target, echo=True):
        cmd = self.command(target)
        say("  running: " + " ".join(cmd))
        tail = collections.deque(maxlen=60)
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=pip_environment(), text=True, errors="replace")
        except OSError as exc:
            raise InstallError(f"could not run pip ({exc}); nothing was changed") from None
        for line in proc.stdout:
            tail.append(line.rstrip())
            if echo:
                say("    " + line.rstrip())
        rc = proc.wait()
        if rc != 0:
            raise InstallError(explain_pip_failure(list(tail), self.python.version, rc, self.gpu, OFFLINE,
                                                   "Check --python-version"))


def deps_reusable(pykrita, record, key):
    """An installed _deps folder for the same Python and requirements, with every distribution present."""
    deps = (record or {}).get("deps")
    if not deps or deps.get("key") != key:
        return False
    present = distributions(os.path.join(pykrita, PLUGIN, DEPS))
    return all(present.get(name) == version for name, version in deps.get("distributions", {}).items())


IMPORT_PROBE = r"""
import json, sys
result = {"python": "%d.%d.%d" % sys.version_info[:3]}
for module in ("numpy", "onnxruntime", "cv2"):
    try:
        mod = __import__(module)
        entry = {"version": getattr(mod, "__version__", "?"), "file": getattr(mod, "__file__", "") or ""}
        if module == "onnxruntime":
            entry["providers"] = mod.get_available_providers()
        result[module] = entry
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        result[module] = {"error": "%s: %s" % (type(exc).__name__, first)}
print("KDC-PROBE " + json.dumps(result))
"""


def probe_imports(executable, deps_dir):
    """Import numpy, onnxruntime and cv2 in ``executable`` with ``deps_dir`` first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONNOUSERSITE"] = "1"
    if deps_dir and os.path.isdir(deps_dir):
        env["PYTHONPATH"] = deps_dir
    try:
        done = subprocess.run([executable, "-s", "-c", IMPORT_PROBE], capture_output=True, text=True,
                              env=env, timeout=300, cwd=tempfile.gettempdir())
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": str(exc)}
    for line in done.stdout.splitlines():
        if line.startswith("KDC-PROBE "):
            return json.loads(line[len("KDC-PROBE "):])
    return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}


# --------------------------------------------------------------------------------------------------
# Moving things into place, with a way back
# --------------------------------------------------------------------------------------------------

class Journal:
    """Reversible filesystem steps; ``rollback`` undoes the ones done so far, newest first."""

    def __init__(self):
        self.steps = []

    def move(self, src, dst):
        if os.path.lexists(dst):
            raise InstallError(f"cannot move {src} to {dst}: the target exists")
        parent = os.path.dirname(dst)
        if not os.path.isdir(parent):
            self.makedirs(parent)
        os.rename(src, dst)
        self.steps.append(("move", src, dst))

    def makedirs(self, path):
        missing = []
        while path and not os.path.isdir(path):
            missing.append(path)
            path = os.path.dirname(path)
        for folder in reversed(missing):
            os.mkdir(folder)
            self.steps.append(("mkdir", folder, None))

    def rmdir(self, path):
        os.rmdir(path)
        self.steps.append(("rmdir", path, None))

    def write(self, path, data, keep_in):
        """Atomically replace ``path`` (None data deletes it); the old file is kept in ``keep_in``."""
        old = None
        if os.path.lexists(path):
            old = os.path.join(keep_in, "replaced-" + str(len(self.steps)) + "-" + os.path.basename(path))
            shutil.copy2(path, old)
        self.steps.append(("write", path, old))
        if data is None:
            os.unlink(path)
        else:
            write_atomically(path, data)

    def rollback(self):
        problems = []
        for kind, a, b in reversed(self.steps):
            try:
                if kind == "move":
                    os.rename(b, a)
                elif kind == "mkdir":
                    os.rmdir(a)
                elif kind == "rmdir":
                    os.mkdir(a)
                elif kind == "write":
                    if b is None:
                        if os.path.lexists(a):
                            os.unlink(a)
                    else:
                        write_atomically(a, read_bytes(b))
                        shutil.copystat(b, a)
            except OSError as exc:
                problems.append(f"{kind} {a}: {exc}")
        self.steps = []
        return problems


def _remove_tree(path):
    def retry(function, target, _info):
        os.chmod(target, 0o700)  # read-only files (Windows) cannot be deleted otherwise
        function(target)
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def recover_stale_stages(pykrita, announce=True):
    """Finish the clean-up of a run that was killed half-way (power cut, SIGKILL)."""
    for stage in sorted(glob.glob(os.path.join(pykrita, STAGE_PREFIX + "*"))):
        old = os.path.join(stage, "old")
        for name in (PLUGIN, DESKTOP):
            live, kept = os.path.join(pykrita, name), os.path.join(old, name)
            if os.path.lexists(kept) and not os.path.lexists(live):
                os.rename(kept, live)
                if announce:
                    say(f"  restored {live} from an interrupted run")
        _remove_tree(stage)
        if announce:
            say(f"  removed the leftovers of an interrupted run: {stage}")


# --------------------------------------------------------------------------------------------------
# The profile: resource folder, pykrita, kritarc and the install record
# --------------------------------------------------------------------------------------------------

class Profile:
    def __init__(self, args, system=None, env=None, home=None, recover=False):
        system = system or platform.system()
        env = os.environ if env is None else env
        home = home or os.path.expanduser("~")
        if args.krita_dir:
            self.resource = os.path.abspath(os.path.expanduser(args.krita_dir))
        else:
            self.resource = default_resource_dir(system, env, home)
        if not os.path.isdir(self.resource):
            where = "--krita-dir" if args.krita_dir else "the default location"
            raise InstallError(f"Krita's resource folder {self.resource} ({where}) does not exist: start "
                               "Krita once so that it creates it, or pass --krita-dir DIR (Krita: Settings "
                               "> Manage Resources > Open Resource Folder shows it)")
        self.pykrita = os.path.join(self.resource, "pykrita")
        if os.path.lexists(self.pykrita) and not os.path.isdir(self.pykrita):
            raise InstallError(f"{self.pykrita} exists but is not a folder: move it away and run again")
        self.plugin = os.path.join(self.pykrita, PLUGIN)
        self.desktop = os.path.join(self.pykrita, DESKTOP)
        if recover and not args.dry_run and os.path.isdir(self.pykrita):
            recover_stale_stages(self.pykrita)
        self.record = self._read_record()
        if args.kritarc:
            self.kritarc = os.path.abspath(os.path.expanduser(args.kritarc))
        elif self.record and self.record.get("kritarc", {}).get("path"):
            self.kritarc = self.record["kritarc"]["path"]
        else:
            self.kritarc = default_kritarc(system, env, home)
        if os.path.isdir(self.kritarc):
            raise InstallError(f"{self.kritarc} is a folder, not Krita's configuration file: "
                               "pass --kritarc FILE")
        self.system, self.env, self.home = system, env, home

    def _read_record(self):
        path = os.path.join(self.plugin, RECORD)
        if not os.path.isfile(path):
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                record = json.load(handle)
        except ValueError as exc:
            raise InstallError(f"{path} is damaged ({exc}): delete {self.plugin} and "
                               f"{self.desktop} by hand, then install again") from None
        return record

    def managed(self):
        """Raise if a plugin of our name is there but was not installed by this installer."""
        if self.record is None:
            for path in (self.plugin, self.desktop):
                if os.path.lexists(path):
                    raise InstallError(f"{path} exists but was not installed by this installer: remove it "
                                       "(or move it away) and run again")


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------

def _interpreter(version, profile):
    """An interpreter of Krita's Python version to run pip and import checks with, or None.

    Krita's own when it is a system Python (Debian's krita uses /usr/bin/python3.X); on Linux also
    a system pythonX.Y of the same version. Never one found on PATH (pyenv, venvs: not Krita's)."""
    found = find_krita_python(profile.system, profile.env, profile.home) \
        if profile.system in SUPPORTED else None
    if found and found.version == version and found.executable:
        return found.executable
    if profile.system == "Linux":
        return next((os.path.join(d, "python" + version) for d in LINUX_BIN_DIRS
                     if os.access(os.path.join(d, "python" + version), os.X_OK)), None)
    return None


def _python_for(args, profile):
    if args.python_version:
        if not re.match(r"^3\.\d{1,2}$", args.python_version):
            raise InstallError(f"--python-version {args.python_version!r}: give it as 3.X, e.g. 3.10")
        return KritaPython(args.python_version, _interpreter(args.python_version, profile),
                           "given with --python-version")
    return find_krita_python(profile.system, profile.env, profile.home)


class InstallPlan:
    """What an install will do, worked out before anything is touched: the dry run reports it,
    the stage and the commit carry it out."""

    def __init__(self, args, source_root):
        self.args = args
        self.profile = profile = Profile(args, recover=True)
        if args.gpu and profile.system == "Darwin":
            raise InstallError("--gpu: onnxruntime-gpu does not exist for macOS; install without --gpu")
        self.source = source = Source(source_root)
        profile.managed()
        self.old = old = profile.record
        self.python = None if args.no_deps else _python_for(args, profile)
        self.deps = None if args.no_deps else DepsPlan(self.python, args.gpu, args.platform, args.wheels)

        self.kritarc_before = read_bytes(profile.kritarc)
        self.kritarc_after, edit = enable_in_kritarc(self.kritarc_before)
        self.kritarc_action = edit["action"]
        self.kritarc_record = merge_kritarc_record(
            (old or {}).get("kritarc"), edit, profile.kritarc,
            self.kritarc_before is not None and self.kritarc_after != self.kritarc_before)

        self.files = source.planned_files()
        try:
            self.hashes = {rel: sha256_of(path) for rel, path in self.files}
        except OSError as exc:
            raise InstallError(f"cannot read {exc.filename} in the plugin source ({exc.strerror}): repair or "
                               "update the checkout; nothing was changed") from None
        if self.deps is None:
            self.reuse = os.path.isdir(os.path.join(profile.plugin, DEPS)) and old is not None
            self.deps_note = "kept as installed (--no-deps)" if self.reuse else "not installed (--no-deps)"
        else:
            self.reuse = not args.reinstall_deps and deps_reusable(profile.pykrita, old, self.deps.key)
            self.deps_note = "already installed for this Python, kept" if self.reuse else None

    @property
    def kritarc_changes(self):
        return self.kritarc_after != self.kritarc_before

    @property
    def installs_deps(self):
        return self.deps is not None and not self.reuse

    def up_to_date(self):
        old, profile = self.old, self.profile
        return (old is not None and old.get("files") == self.hashes and not self.kritarc_changes
                and not self.installs_deps and all_present(profile.pykrita, self.hashes)
                and old.get("kritarc", {}).get("path") == profile.kritarc)


def install(args, source_root):
    plan = InstallPlan(args, source_root)
    _report_install(plan)
    if plan.up_to_date():
        say("already installed and up to date: nothing to do")
        return 0
    if args.dry_run:
        _report_install_dry_run(plan)
        return 0
    if plan.installs_deps:
        plan.deps.pip()  # fail early, before any copying, when there is no pip at all
    stage, created_pykrita = _make_stage(plan.profile)
    kept_user_files = _stage_and_commit(plan, stage, created_pykrita)
    try:
        _remove_tree(stage)
    except OSError as exc:
        say(f"  warning: could not remove the temporary folder {stage}: {exc}")
    for rel in kept_user_files:
        say(f"  kept your file {rel}")
    say(f"  kritarc: {describe_kritarc(plan.kritarc_record, plan.kritarc_changes)}")
    say(f"installed into {plan.profile.plugin}")
    say("Start (or restart) Krita; the docker is under Settings > Dockers > Deepcolor. "
        "Check the installation with: python installer.py --check")
    return 0


def _report_install(plan):
    profile = plan.profile
    say(f"krita-deepcolor installer: {'dry run, ' if plan.args.dry_run else ''}installing into "
        f"{profile.pykrita}")
    say(f"  kritarc: {profile.kritarc}")
    if plan.python:
        say(f"  Krita's Python: {plan.python.version} ({plan.python.how})")
    for note in plan.source.notes:
        say(f"  note: {note}")


def _report_install_dry_run(plan):
    profile = plan.profile
    verb = "replace" if plan.old else "copy"
    say(f"  would {verb} {len(plan.files)} files: {DESKTOP} and {PLUGIN}/ (package, models)")
    deps_dir = os.path.join(profile.plugin, DEPS)
    if plan.installs_deps:
        if os.path.isdir(deps_dir):
            present = distributions(deps_dir)
            say(f"  would remove the installed dependencies ({', '.join(present) or 'empty'})")
        say("  would install dependencies: " + " ".join(plan.deps.command(deps_dir)))
    else:
        say(f"  dependencies: {plan.deps_note}")
    if plan.kritarc_changes:
        verb = {"added": "add", "changed": "set"}.get(plan.kritarc_action, plan.kritarc_action)
        if plan.kritarc_before is None:  # Krita has not written one yet: nothing to back up
            say(f"  would create {profile.kritarc} with '{ENABLE_KEY.decode()}=true' in [python]")
        else:
            say(f"  would back up kritarc to {plan.kritarc_record['backup']}")
            say(f"  would {verb} '{ENABLE_KEY.decode()}=true' in [python] of {profile.kritarc}")
    else:
        say("  kritarc: the plugin is already enabled")


def _make_stage(profile):
    """(a fresh staging folder inside pykrita, whether pykrita itself was made for it)."""
    created_pykrita = not os.path.isdir(profile.pykrita)
    try:
        os.makedirs(profile.pykrita, exist_ok=True)
        return tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=profile.pykrita), created_pykrita
    except OSError as exc:
        _remove_created(profile.pykrita, created_pykrita)
        raise InstallError(f"cannot write in {profile.pykrita} ({exc}); nothing was changed") from None


def _stage_and_commit(plan, stage, created_pykrita):
    """Prepare the new install in ``stage``, then swap it in (kritarc last); on any failure, put the
    previous state back. Returns the user's files carried over from the old plugin folder."""
    journal = Journal()
    try:
        _stage_install(plan, stage, created_pykrita)
        return _commit_install(plan, journal, stage)
    except BaseException as exc:
        problems = journal.rollback()
        try:
            _remove_tree(stage)
            _remove_created(plan.profile.pykrita, created_pykrita)
        except OSError:
            problems.append(f"could not remove {stage}")
        if problems:
            raise InstallError(f"install failed ({describe(exc)}) and the previous state could not be fully "
                               f"restored: {'; '.join(problems)}") from None
        if isinstance(exc, InstallError):
            raise
        if isinstance(exc, KeyboardInterrupt):
            raise InstallError("interrupted; nothing was changed") from None
        raise InstallError(f"install failed: {describe(exc)}; nothing was changed{locked_hint(exc)}") \
            from None


def _stage_install(plan, stage, created_pykrita):
    """The plugin's files, its dependencies (unless kept) and the install record, in ``stage``."""
    old, args = plan.old or {}, plan.args
    _stage_files(plan.files, plan.hashes, stage)
    deps_record = old.get("deps") if plan.reuse else None
    if plan.installs_deps:
        runtime = "onnxruntime-gpu with CUDA libraries" if args.gpu else "CPU onnxruntime"
        if old.get("deps") and bool(old["deps"].get("gpu")) != bool(args.gpu):
            runtime += f"; the installed {CPU_DIST if args.gpu else GPU_DIST} is removed"
        say(f"  installing dependencies for Python {plan.python.version} ({runtime})")
        deps_record = _stage_deps(plan.deps, os.path.join(stage, PLUGIN, DEPS))
    elif plan.deps_note:
        say(f"  dependencies: {plan.deps_note}")
    created = created_pykrita or "pykrita" in old.get("created_dirs", [])
    record = {"record_version": RECORD_VERSION, "plugin": PLUGIN, "files": plan.hashes,
              "created_dirs": ["pykrita"] if created else [], "deps": deps_record,
              "kritarc": plan.kritarc_record}
    with open(os.path.join(stage, PLUGIN, RECORD), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")


def _commit_install(plan, journal, stage):
    """Everything is ready: swap it in, kritarc last. Every step is in ``journal``."""
    kept_user_files = _swap_in(journal, plan.profile, stage, plan.old, plan.reuse)
    if plan.kritarc_changes:
        if plan.kritarc_before is not None:
            journal.write(plan.kritarc_record["backup"], plan.kritarc_before, stage)
        journal.write(plan.profile.kritarc, plan.kritarc_after, stage)
    return kept_user_files


def _stage_files(files, hashes, stage):
    say(f"  copying {len(files)} files")
    for rel, path in files:
        target = os.path.join(stage, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(path, target)
        if sha256_of(target) != hashes[rel]:
            raise InstallError(f"{path} changed while it was being copied; run again")


def _stage_deps(plan, target):
    plan.install(target)
    present = distributions(target)
    if CPU_DIST in present and GPU_DIST in present:
        raise InstallError("both onnxruntime and onnxruntime-gpu ended up installed; nothing was changed")
    say("  installed: " + ", ".join(f"{n} {v}" for n, v in present.items()))
    return {"key": plan.key, "gpu": plan.gpu, "distributions": present}


def _swap_in(journal, profile, stage, old, reuse_deps):
    """Move the old install aside (into the stage) and the staged one into place; returns the user's
    files carried over from the old plugin folder."""
    kept = os.path.join(stage, "old")
    os.mkdir(kept)
    new_plugin = os.path.join(stage, PLUGIN)
    carried = []
    if os.path.lexists(profile.plugin):
        journal.move(profile.plugin, os.path.join(kept, PLUGIN))
        if reuse_deps:
            journal.move(os.path.join(kept, PLUGIN, DEPS), os.path.join(new_plugin, DEPS))
        for rel in foreign_files(kept, old or {}):
            destination = rel if not os.path.lexists(os.path.join(stage, *rel.split("/"))) else rel + ".local"
            journal.move(os.path.join(kept, *rel.split("/")), os.path.join(stage, *destination.split("/")))
            carried.append(destination)
    if os.path.lexists(profile.desktop):
        journal.move(profile.desktop, os.path.join(kept, DESKTOP))
    journal.move(new_plugin, profile.plugin)
    journal.move(os.path.join(stage, DESKTOP), profile.desktop)
    return carried


def _remove_created(folder, created):
    if created and os.path.isdir(folder) and not os.listdir(folder):
        os.rmdir(folder)


def merge_kritarc_record(old, edit, path, backed_up):
    """What uninstall must undo in kritarc, after this install's ``edit`` (from enable_in_kritarc).

    A reinstall that finds our line still there (or finds it switched off in Krita and switches it
    back on) keeps the first install's record: the line stays ours, and uninstall removes it."""
    old = old or {}
    same_file = old.get("path") == path
    if same_file and old.get("action") in ("added", "changed") and edit["action"] != "added":
        record = {k: v for k, v in old.items() if k != "backup"}
    else:
        record = dict(edit)
    record["path"] = path
    if backed_up:
        record["backup"] = path + BACKUP_SUFFIX
    elif same_file and old.get("backup"):
        record["backup"] = old["backup"]
    return record


def all_present(pykrita, hashes):
    for rel, digest in hashes.items():
        path = os.path.join(pykrita, *rel.split("/"))
        if not os.path.isfile(path) or sha256_of(path) != digest:
            return False
    return True


def describe(exc):
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, InstallError) else f"{type(exc).__name__}: {text}"


def locked_hint(exc):
    if isinstance(exc, PermissionError):
        return " (if Krita is running, close it and run the installer again)"
    return ""


def describe_kritarc(record, wrote):
    if not wrote:
        return "the plugin was already enabled, file left as it was"
    action = {"added": "added", "changed": "set"}[record["action"]]
    backup = f" (previous file kept as {record['backup']})" if record.get("backup") and \
        not record.get("created_file") else ""
    return f"{action} {ENABLE_KEY.decode()}=true in [python]{backup}"


class UninstallPlan:
    """What an uninstall will undo, read from the install record before anything is touched."""

    def __init__(self, profile):
        self.profile = profile
        self.record = record = profile.record
        self.kritarc_record = dict(record.get("kritarc") or {})
        self.kritarc_path = self.kritarc_record.get("path") or profile.kritarc
        self.kritarc_before = read_bytes(self.kritarc_path)
        self.kritarc_after = disable_in_kritarc(self.kritarc_before, self.kritarc_record)
        self.user_files = foreign_files(profile.pykrita, record)
        self.backup = self.kritarc_record.get("backup")
        self.remove_pykrita = "pykrita" in record.get("created_dirs", [])

    @property
    def kritarc_changes(self):
        return self.kritarc_after != self.kritarc_before


def uninstall(args):
    profile = Profile(args, recover=True)
    if profile.record is None:
        if os.path.lexists(profile.plugin) or os.path.lexists(profile.desktop):
            raise InstallError(f"{profile.plugin} was not installed by this installer (no {RECORD}): "
                               "remove it by hand")
        say(f"krita-deepcolor is not installed in {profile.pykrita}: nothing to do")
        return 0
    plan = UninstallPlan(profile)
    say(f"krita-deepcolor installer: {'dry run, ' if args.dry_run else ''}removing from {profile.pykrita}")
    if args.dry_run:
        _report_uninstall_dry_run(plan)
        return 0
    stage = tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=profile.pykrita)
    _commit_uninstall(plan, stage)
    try:
        _remove_tree(stage)
        if plan.remove_pykrita and not os.listdir(profile.pykrita):
            os.rmdir(profile.pykrita)
    except OSError as exc:
        say(f"  warning: could not clean up {stage}: {exc}")
    for rel in plan.user_files:
        say(f"  kept your file {os.path.join(profile.pykrita, rel)}")
    say(f"  kritarc: {'restored ' + plan.kritarc_path if plan.kritarc_changes else 'left as it was'}")
    say(f"removed krita-deepcolor from {profile.pykrita}")
    return 0


def _report_uninstall_dry_run(plan):
    profile, kritarc_record = plan.profile, plan.kritarc_record
    say(f"  would remove {profile.plugin} ({len(plan.record.get('files', {}))} files"
        f"{', dependencies' if os.path.isdir(os.path.join(profile.plugin, DEPS)) else ''})")
    say(f"  would remove {profile.desktop}")
    for rel in plan.user_files:
        say(f"  would keep your file {rel}")
    if plan.kritarc_after is None:
        say(f"  would delete {plan.kritarc_path} (the installer created it)")
    elif plan.kritarc_changes and kritarc_record.get("action") == "changed":
        say(f"  would put back '{kritarc_record['previous'].strip()}' in {plan.kritarc_path}")
    elif plan.kritarc_changes:
        say(f"  would remove '{ENABLE_KEY.decode()}=true' from [python] in {plan.kritarc_path}")
    if plan.backup and os.path.exists(plan.backup):
        say(f"  would remove the kritarc backup {plan.backup}")


def _commit_uninstall(plan, stage):
    """Move our files into ``stage`` (the user's back into pykrita) and restore kritarc; on any
    failure, put everything back."""
    profile, journal = plan.profile, Journal()
    try:
        kept = os.path.join(stage, "old")
        journal.move(profile.plugin, os.path.join(kept, PLUGIN))
        if os.path.lexists(profile.desktop):
            journal.move(profile.desktop, os.path.join(kept, DESKTOP))
        for rel in plan.user_files:
            journal.move(os.path.join(kept, *rel.split("/")), os.path.join(profile.pykrita, *rel.split("/")))
        if plan.kritarc_changes:
            journal.write(plan.kritarc_path, plan.kritarc_after, stage)
        if plan.backup and os.path.lexists(plan.backup):
            journal.move(plan.backup, os.path.join(stage, "kritarc-backup"))
    except BaseException as exc:
        problems = journal.rollback()
        _remove_tree(stage)
        if problems:
            raise InstallError(f"uninstall failed ({describe(exc)}) and could not restore everything: "
                               f"{'; '.join(problems)}") from None
        raise InstallError(f"uninstall failed: {describe(exc)}; nothing was changed{locked_hint(exc)}") \
            from None


def check(args):
    profile = Profile(args)
    rows = []

    def row(ok, label, detail):
        rows.append(("ok" if ok is True else "note" if ok is None else "MISSING", label, detail))

    record = profile.record
    say(f"krita-deepcolor check: {profile.pykrita}")
    say(f"  kritarc: {profile.kritarc}")
    if record is None:
        installed = os.path.lexists(profile.plugin)
        row(False, "plugin", f"{profile.plugin} {'has no ' + RECORD if installed else 'is not installed'}: "
                             "run python installer.py")
    else:
        _check_files(profile, record, row)
        _check_models(profile, row)
    _check_deps(args, profile, record, row)
    _check_kritarc(profile, row)
    if glob.glob(os.path.join(profile.pykrita, STAGE_PREFIX + "*")):
        row(None, "leftovers", "an interrupted run left a temporary folder; the next install removes it")
    for status, label, detail in rows:
        say(f"  {status:<8} {label}: {detail}")
    problems = sum(status == "MISSING" for status, _, _ in rows)
    if problems:
        say(f"{problems} problem{'s' if problems > 1 else ''} found: run python installer.py to repair")
        return 1
    say("everything is in place")
    return 0


def _check_files(profile, record, row):
    """The desktop file and the package against the hashes in the install record."""
    files = record.get("files", {})
    missing, changed = [], []
    for rel, digest in files.items():
        path = os.path.join(profile.pykrita, *rel.split("/"))
        if not os.path.isfile(path):
            missing.append(rel)
        elif sha256_of(path) != digest:
            changed.append(rel)
    desktop_ok = DESKTOP not in missing and DESKTOP not in changed
    row(desktop_ok, "desktop file", profile.desktop + ("" if desktop_ok else " is missing or changed"))
    code = [r for r in files if r != DESKTOP and f"/{MODELS}/" not in r]
    bad = [r for r in missing + changed if r in code]
    if bad:
        row(False, "plugin files", f"{len(bad)} of {len(code)} missing or changed: "
            + ", ".join(f"{r} ({'missing' if r in missing else 'changed'})" for r in bad[:8])
            + (" ..." if len(bad) > 8 else ""))
    else:
        row(True, "plugin files", f"{len(code)} files match the install record")
    for rel in (f"{PLUGIN}/{ACTION}", f"{PLUGIN}/{MANUAL}"):
        if rel not in files:
            row(None, rel.split("/")[-1], "not part of this version of the plugin")


def _check_kritarc(profile, row):
    kritarc = read_bytes(profile.kritarc)
    if kritarc is None:
        row(False, "kritarc", f"{profile.kritarc} does not exist: run python installer.py")
    elif kritarc_enabled(kritarc):
        row(True, "kritarc", f"[python] {ENABLE_KEY.decode()}=true")
    else:
        row(False, "kritarc", f"the plugin is not enabled in {profile.kritarc}: run python installer.py "
                              "(or enable it in Settings > Configure Krita > Python Plugin Manager)")


def _check_models(profile, row):
    folder = os.path.join(profile.plugin, MODELS)
    manifest = os.path.join(folder, MODEL_MANIFEST)
    if not os.path.isfile(manifest):
        row(None, "models", NO_MODELS)
        return
    try:
        with open(manifest, encoding="utf-8") as handle:
            entries = json.load(handle).get("models", [])
    except (ValueError, AttributeError) as exc:
        row(False, "models", f"{manifest} is damaged ({exc}): reinstall")
        return
    if not entries:
        row(None, "models", NO_MODELS)
        return
    good, bad = [], []
    for entry in entries:
        path = os.path.join(folder, str(entry.get("file")))
        if not os.path.isfile(path):
            bad.append(f"{entry.get('file')} (missing)")
        elif sha256_of(path) != str(entry.get("sha256", "")).lower():
            bad.append(f"{entry.get('file')} (sha256 does not match the manifest)")
        else:
            good.append(str(entry.get("name", entry.get("file"))))
    if bad:
        row(False, "models", ", ".join(bad))
    else:
        row(True, "models", f"{len(good)} verified against {MODELS}/{MODEL_MANIFEST} (sha256): "
                            f"{', '.join(good)}")


def _check_deps(args, profile, record, row):
    deps_dir = os.path.join(profile.plugin, DEPS)
    deps = (record or {}).get("deps")
    version = args.python_version or (deps or {}).get("key", {}).get("python")
    if version is None and profile.system in SUPPORTED:
        version = find_krita_python(profile.system, profile.env, profile.home).version
    executable = _interpreter(version, profile) if version else None
    present = distributions(deps_dir) if os.path.isdir(deps_dir) else {}
    if CPU_DIST in present and GPU_DIST in present:
        row(False, "dependencies", "both onnxruntime and onnxruntime-gpu are in _deps (they overwrite each "
                                   "other): run python installer.py --reinstall-deps")
        return
    if executable is None:
        wanted = ("numpy", GPU_DIST if (deps or {}).get("gpu") else CPU_DIST, "opencv-python-headless")
        absent = [name for name in wanted if name not in present]
        if absent:
            row(False, "dependencies", f"{', '.join(absent)} not in {deps_dir}: run python installer.py")
        else:
            row(True, "dependencies", ", ".join(f"{n} {present[n]}" for n in wanted)
                + f" installed (not import-tested: no Python {version} interpreter found here)")
        return
    probe = probe_imports(executable, deps_dir)
    if "error" in probe:
        row(False, "dependencies", f"could not run {executable}: {probe['error']}")
        return
    broken = [f"{m}: {probe[m]['error']}" for m in ("numpy", "onnxruntime", "cv2") if "error" in probe[m]]
    if broken:
        hint = "run python installer.py" if present else "run python installer.py (without --no-deps)"
        row(False, "dependencies", f"Krita's Python {probe['python']} cannot import " + "; ".join(broken)
            + f": {hint}")
        return
    where = [m for m in ("numpy", "onnxruntime", "cv2")
             if not os.path.abspath(probe[m]["file"]).startswith(os.path.abspath(deps_dir) + os.sep)]
    providers = ", ".join(p.replace("ExecutionProvider", "")
                          for p in probe["onnxruntime"].get("providers", []))
    detail = (f"numpy {probe['numpy']['version']}, onnxruntime {probe['onnxruntime']['version']} "
              f"({providers}), cv2 {probe['cv2']['version']} import in {executable} ({probe['python']})")
    if where:
        detail += f"; {', '.join(where)} from outside _deps"
    row(True, "dependencies", detail)


# --------------------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="installer.py", description="Install krita-deepcolor into Krita (for the current user).",
        epilog="Examples: python installer.py | python installer.py --gpu | python installer.py --check | "
               "python installer.py --uninstall")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report what is present and what is missing")
    mode.add_argument("--uninstall", action="store_true", help="remove exactly what the installer added")
    mode.add_argument("--zip", metavar="FILE",
                      help="write the plugin as a zip for Krita's Tools > Scripts > Import Python Plugin "
                      "from File... instead of installing it (the docker offers to install the dependencies)")
    parser.add_argument("--krita-dir", metavar="DIR",
                        help="Krita's resource folder (default: ~/.local/share/krita, %%APPDATA%%\\krita, "
                             "~/Library/Application Support/krita)")
    parser.add_argument("--kritarc", metavar="FILE",
                        help="Krita's configuration file (default: ~/.config/kritarc, "
                             "%%LOCALAPPDATA%%\\kritarc, ~/Library/Preferences/kritarc)")
    parser.add_argument("--python-version", metavar="X.Y",
                        help="Krita's Python version (default: detected; 3.10 for Krita 5.2 AppImage, "
                             "Windows, macOS)")
    parser.add_argument("--platform", action="append", metavar="TAG",
                        help="wheel platform tag for pip (e.g. macosx_11_0_x86_64 when Krita runs "
                             "under Rosetta); repeatable")
    parser.add_argument("--gpu", action="store_true",
                        help="install onnxruntime-gpu with its CUDA and cuDNN libraries instead of "
                             "onnxruntime")
    parser.add_argument("--no-deps", action="store_true",
                        help="do not install numpy/onnxruntime/OpenCV (keeps already installed ones)")
    parser.add_argument("--reinstall-deps", action="store_true",
                        help="download and install the dependencies again even if they are up to date")
    parser.add_argument("--wheels", metavar="DIR",
                        help="install the dependencies offline from the wheel files in DIR "
                             "(made with pip download)")
    parser.add_argument("--dry-run", action="store_true", help="only say what would be done")
    args = parser.parse_args(argv)
    if args.wheels:
        args.wheels = os.path.abspath(args.wheels)
        if not os.path.isdir(args.wheels):
            parser.error(f"--wheels {args.wheels}: no such folder")
    if args.no_deps and (args.gpu or args.reinstall_deps or args.wheels):
        parser.error("--no-deps cannot be combined with --gpu, --reinstall-deps or --wheels")
    return args


def write_zip(path, source_root):
    """The files an install copies, as a zip Krita's plugin importer takes: the .desktop file and
    the package folder at the top (it copies the .action file inside the package to actions/).
    Written beside ``path`` first and renamed: never a half-written zip."""
    files = Source(source_root).planned_files()
    folder = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(prefix=".krita_deepcolor-zip-", dir=folder)
    os.close(handle)
    try:
        folders = sorted({"/".join(rel.split("/")[:depth]) + "/" for rel, _ in files
                          for depth in range(1, rel.count("/") + 1)})
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for folder_entry in folders:  # the importer looks for the package's folder entry
                archive.writestr(folder_entry, b"")
            for rel, full in files:
                archive.write(full, rel)
        os.replace(partial, path)
    except BaseException:
        os.remove(partial)
        raise
    say(f"wrote {path} ({len(files)} files, {os.path.getsize(path) / 1e6:.1f} MB): in Krita, Tools > "
        "Scripts > Import Python Plugin from File..., then restart Krita")
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.check:
            return check(args)
        if args.uninstall:
            return uninstall(args)
        if args.zip:
            return write_zip(args.zip, os.path.dirname(os.path.abspath(__file__)))
        return install(args, os.path.dirname(os.path.abspath(__file__)))
    except InstallError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except OSError as exc:  # raised while looking around, before anything is changed
        print(f"error: {describe(exc)}; nothing was changed", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The plugin's dependencies for Krita's own Python (numpy, onnxruntime, OpenCV): what to ask pip
for, which interpreter runs pip, what to say when pip fails. Shared by ``installer.py`` (a terminal)
and the docker's setup panel (inside Krita). Standard library only, Python 3.8 or newer: it runs
before anything is installed.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

REQUIREMENTS = ("numpy>=1.24", "onnxruntime>=1.17", "opencv-python-headless>=4.8")
GPU_RUNTIME = "onnxruntime-gpu[cuda,cudnn]>=1.19"
CPU_DIST, GPU_DIST = "onnxruntime", "onnxruntime-gpu"
MODULES = ("numpy", "onnxruntime", "cv2")  # what the plugin imports from them
PIP_FLAGS = ("--only-binary=:all:", "--no-input", "--disable-pip-version-check", "--no-warn-script-location",
             "--progress-bar", "off")
# PIP_USER=0: a "user = true" in the user's pip configuration cannot be combined with --target.
PIP_ENV = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_USER": "0", "PYTHONNOUSERSITE": "1"}
UNIX_BIN_DIRS = ("/usr/bin", "/usr/local/bin")

NETWORK_PATTERNS = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
    r"Name or service not known|nodename nor servname|getaddrinfo failed|Network is unreachable|"
    r"ConnectTimeout|ConnectionError|ProxyError|Max retries exceeded|timed out", re.IGNORECASE)


def requirements(gpu: bool) -> list:
    if not gpu:
        return list(REQUIREMENTS)
    return [GPU_RUNTIME if req.startswith(CPU_DIST + ">") else req for req in REQUIREMENTS]


def pip_version(executable: str):
    """"X.Y" of an interpreter that has pip, else None."""
    try:
        done = subprocess.run([executable, "-c", "import sys, pip; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def python_with_pip(version: str, bin_dirs=UNIX_BIN_DIRS):
    """An interpreter of Python ``version`` ("X.Y") that has pip, else None: pythonX.Y in the usual
    folders or on PATH, then python3 and python on PATH."""
    names = ["python" + version, "python3", "python"]
    candidates = [os.path.join(folder, "python" + version) for folder in bin_dirs]
    candidates += [found for found in (shutil.which(name) for name in names) if found]
    for candidate in dict.fromkeys(candidates):
        if os.access(candidate, os.X_OK) and pip_version(candidate) == version:
            return candidate
    return None


def pip_command(executable: str, target: str, reqs, wheels=None, cross_version=None, platforms=()) -> list:
    """pip installing ``reqs`` into the folder ``target``; from the folder ``wheels`` only, when
    given; for another Python (``cross_version`` "X.Y", wheels of ``platforms``) when given."""
    cmd = [executable, "-m", "pip", "install", "--target", target, *PIP_FLAGS]
    if cross_version:
        cmd += ["--python-version", cross_version, "--implementation", "cp",
                "--abi", "cp" + cross_version.replace(".", ""), "--no-compile"]
        for tag in platforms:
            cmd += ["--platform", tag]
    if wheels:
        cmd += ["--no-index", "--find-links", wheels]
    return cmd + list(reqs)


def pip_environment() -> dict:
    """This process's environment with PIP_ENV: what pip runs in."""
    return dict(os.environ, **PIP_ENV)


def explain_pip_failure(lines, version: str, rc: int, gpu: bool = False, offline: str = "",
                        wrong_version: str = "") -> str:
    """One line for a failed pip run; ``offline`` says how to install without a network,
    ``wrong_version`` how to name another Python version."""
    errors = [line for line in lines if line.startswith("ERROR")]
    network = next((line for line in lines if NETWORK_PATTERNS.search(line)), None)
    nothing = "nothing was changed"
    if network or any("(from versions: none)" in line for line in errors):
        said = (network or errors[0]).strip()
        return (f"could not download the dependencies: no network connection to the package index? "
                f"(pip: {said[:160]}); {nothing}" + (f". {offline}" if offline else ""))
    missing = next((line for line in errors if "No matching distribution" in line), None)
    if missing:
        hint = " (onnxruntime-gpu exists for Linux and Windows on x86-64 only)" if gpu else ""
        return (f"no wheel for Krita's Python {version} on this platform{hint}: pip said "
                f"'{missing.strip()}'; {nothing}" + (f". {wrong_version}" if wrong_version else ""))
    last = errors[-1] if errors else next((line for line in reversed(lines) if line.strip()), "")
    return f"pip failed (exit {rc}): {last.strip()[:200]}; {nothing}"


def distributions(deps_dir: str) -> dict:
    """{name: version} of what pip put into a --target folder."""
    found = {}
    for meta in glob.glob(os.path.join(deps_dir, "*.dist-info", "METADATA")):
        name = version = None
        with open(meta, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("Name:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
                if (name and version) or not line.strip():
                    break
        if name:
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return dict(sorted(found.items()))


def running_version() -> str:
    return "{}.{}".format(*sys.version_info[:2])

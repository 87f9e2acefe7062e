"""Download Debian packages with ``apt-get download`` and unpack them with ``dpkg -x``.

Works without root (apt-get download only needs the package lists). Resumable: a package whose
unpacked folder carries a marker for the same version and SHA256 is skipped, and a .deb already on
disk is reused when its SHA256 matches what ``apt-cache show`` says.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from krita_deepcolor.engine.catalog import sha256_of

from .sources import SOURCES, unpacked_root

MARKER = ".krita-deepcolor-unpacked.json"


class FetchError(RuntimeError):
    """A package could not be downloaded, verified or unpacked; the message says what to do."""


@dataclass(frozen=True)
class PackageInfo:
    name: str
    version: str
    sha256: str
    size: int

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@functools.cache
def package_info(name: str) -> PackageInfo:
    """Version, SHA256 and size of the candidate version, from the local package lists (asked once
    per process: apt-cache takes seconds)."""
    try:
        shown = subprocess.run(["apt-cache", "show", "--no-all-versions", name],
                               capture_output=True, text=True, timeout=60)
    except FileNotFoundError as error:
        raise FetchError("apt-cache not found: fetching needs a Debian/Ubuntu system with apt") from error
    fields: dict[str, str] = {}
    for line in shown.stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("Version", "SHA256", "Size") and key not in fields:
            fields[key] = value.strip()
    if shown.returncode != 0 or len(fields) < 3:
        raise FetchError(f"{name}: not in the package lists; run `apt-get update` (as root) and try again")
    return PackageInfo(name, fields["Version"], fields["SHA256"], int(fields["Size"]))


def _deb_path(cache: Path, info: PackageInfo) -> Path:
    return cache / f"{info.name}_{info.version.replace(':', '%3a')}.deb"


def _verified(deb: Path, info: PackageInfo) -> bool:
    if not deb.is_file() or deb.stat().st_size != info.size or sha256_of(deb) != info.sha256:
        return False
    checked = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, timeout=120)
    return checked.returncode == 0


def is_unpacked(cache: Path, info: PackageInfo) -> bool:
    marker = unpacked_root(cache, info.name) / MARKER
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return recorded.get("version") == info.version and recorded.get("sha256") == info.sha256


def read_marker(cache: Path, name: str) -> dict | None:
    """What was unpacked for ``name`` (package, version, sha256), or None if nothing complete is."""
    try:
        return json.loads((unpacked_root(cache, name) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _download(cache: Path, info: PackageInfo) -> Path:
    deb = _deb_path(cache, info)
    if _verified(deb, info):
        return deb
    # download into a scratch folder so a killed download never looks like a finished .deb
    with tempfile.TemporaryDirectory(prefix=".download-", dir=cache) as scratch:
        result = subprocess.run(["apt-get", "download", f"{info.name}={info.version}"], cwd=scratch,
                                capture_output=True, text=True, timeout=3600)
        got = list(Path(scratch).glob("*.deb"))
        if result.returncode != 0 or len(got) != 1:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise FetchError(f"{info.name}: apt-get download failed ({last}); check the network and "
                             "`apt-get update`")
        if not _verified(got[0], info):
            raise FetchError(f"{info.name}: downloaded .deb does not match the SHA256 in the package lists; "
                             "run `apt-get update` and fetch again")
        got[0].replace(deb)
    return deb


def _unpack(cache: Path, info: PackageInfo, deb: Path) -> None:
    root = unpacked_root(cache, info.name)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    result = subprocess.run(["dpkg", "-x", str(deb), str(partial)], capture_output=True, text=True,
                            timeout=3600)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise FetchError(f"{info.name}: dpkg -x failed: {result.stderr.strip()[:200]}")
    (partial / MARKER).write_text(json.dumps({"package": info.name, "version": info.version,
                                              "sha256": info.sha256}))
    shutil.rmtree(root, ignore_errors=True)
    partial.replace(root)


def fetch(names, cache: Path, log=print) -> dict[str, PackageInfo]:
    """Make every named package present, verified and unpacked under ``cache``."""
    unknown = [name for name in names if name not in SOURCES]
    if unknown:
        raise FetchError(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    cache = Path(cache).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    done = {}
    for name in names:
        info = package_info(name)
        if is_unpacked(cache, info):
            log(f"{info.label}: already fetched and unpacked")
        else:
            started = time.monotonic()
            deb = _download(cache, info)
            downloaded = time.monotonic()
            _unpack(cache, info, deb)
            log(f"{info.label}: {info.size / 1e6:.1f} MB, downloaded and verified in "
                f"{downloaded - started:.1f} s, unpacked in {time.monotonic() - downloaded:.1f} s")
        done[name] = info
    return done

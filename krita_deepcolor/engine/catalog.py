"""Finding models: the shipped ones (listed with their sha256 in ``models/manifest.json``)
and any contract-conformant ``.onnx`` files in user folders."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .contract import ModelInfo
from .errors import ContractError, DeviceError, InputError
from .runtime import Model, load_model

MANIFEST = "manifest.json"
USER_MODELS_ENV = "KRITA_DEEPCOLOR_MODELS"  # extra model folders, os.pathsep-separated
_PACKAGE = Path(__file__).resolve().parents[1]
# Installed into Krita the models sit inside the package; in a checkout, beside it.
SHIPPED_DIRS = (_PACKAGE / "models", _PACKAGE.parent / "models")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    info: ModelInfo | None  # None when the file could not be read (see problem)
    sha256: str | None = None  # expected hash, for shipped models
    default: bool = False
    problem: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict:
    with open(folder / MANIFEST, encoding="utf-8") as handle:
        return json.load(handle)


def shipped_dir() -> Path | None:
    return next((d for d in SHIPPED_DIRS if (d / MANIFEST).is_file()), None)


def _shipped_entries() -> list[ModelEntry]:
    folder = shipped_dir()
    if folder is None:
        return []
    manifest = read_manifest(folder)
    entries = []
    for item in manifest.get("models", []):
        entries.append(ModelEntry(
            name=item["name"], path=folder / item["file"], sha256=item["sha256"],
            info=ModelInfo.from_props(item["metadata"], source=f"{MANIFEST}:{item['name']}"),
            default=item["name"] == manifest.get("default")))
    return entries


def _metadata_of(path: Path) -> ModelInfo:
    """Read a file's metadata through a CPU session (also checks the signature)."""
    return load_model(path, device="cpu", threads=1).info


def user_dirs(extra=()) -> list[Path]:
    dirs = [Path(p) for p in os.environ.get(USER_MODELS_ENV, "").split(os.pathsep) if p]
    return dirs + [Path(p) for p in extra]


def find_models(extra_dirs=()) -> list[ModelEntry]:
    """Shipped models first (default first of all), then user models by name."""
    entries = sorted(_shipped_entries(), key=lambda e: not e.default)
    seen = {e.path.resolve() for e in entries}
    for folder in user_dirs(extra_dirs):
        for path in sorted(folder.glob("*.onnx")) if folder.is_dir() else []:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                info = _metadata_of(path)
            except ContractError as exc:  # its message names the file
                entries.append(ModelEntry(name=path.stem, path=path, info=None, problem=str(exc)))
            except DeviceError as exc:  # e.g. onnxruntime missing: the file may be fine
                entries.append(ModelEntry(name=path.stem, path=path, info=None, problem=f"{path}: {exc}"))
            else:
                entries.append(ModelEntry(name=info.name, path=path, info=info))
    return entries


def resolve(name_or_path: str | None, extra_dirs=()) -> ModelEntry:
    """A model by file path, by name, or the default (``None``)."""
    if name_or_path and (name_or_path.endswith(".onnx") or os.sep in name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise InputError(f"{path}: model file not found")
        return ModelEntry(name=path.stem, path=path, info=None)
    found = find_models(extra_dirs)
    entries = [e for e in found if e.info is not None]
    broken = [e for e in found if e.info is None]
    for entry in broken:
        if entry.name == name_or_path:  # (a broken file is known by its file name only)
            raise InputError(f"model {name_or_path!r} cannot be used: {entry.problem}")
    if not entries:
        defects = "".join(f"; {e.problem}" for e in broken)
        raise InputError("no usable model is installed: pass --model PATH.onnx, or put a model in "
                         f"a folder named by ${USER_MODELS_ENV}{defects}")
    if name_or_path is None:
        return entries[0]
    for entry in entries:
        if entry.name == name_or_path:
            return entry
    names = ", ".join(e.name for e in entries)
    raise InputError(f"unknown model {name_or_path!r}: available are {names}")


def open_model(entry: ModelEntry, device: str = "auto", threads: int | None = None) -> Model:
    """Load a catalog entry; a shipped file must match its manifest hash."""
    if entry.sha256 is not None:
        if not entry.path.is_file():
            raise ContractError(f"{entry.path}: shipped model file is missing; reinstall the plugin")
        actual = sha256_of(entry.path)
        if actual != entry.sha256:
            raise ContractError(f"{entry.path}: file is damaged or was replaced (sha256 "
                                f"{actual[:12]}… does not match the manifest); reinstall the plugin")
    return load_model(entry.path, device=device, threads=threads)

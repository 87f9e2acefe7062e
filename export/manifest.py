"""Registers exported models in ``models/manifest.json``, which the plugin checks at load time.

    python -m export.manifest add models/NAME.onnx [--default]
    python -m export.manifest remove NAME
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from krita_deepcolor.engine.catalog import MANIFEST, sha256_of
from krita_deepcolor.engine.errors import EngineError
from krita_deepcolor.engine.runtime import load_model


def read(folder: Path) -> dict:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"default": None, "models": []}


def write(folder: Path, manifest: dict) -> None:
    """Atomic: a crash never leaves a half-written manifest."""
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".part", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, folder / MANIFEST)


def add(model_path: Path, default: bool = False) -> dict:
    """Check the file against the contract and record it (replacing an entry of the same name)."""
    info = load_model(model_path, device="cpu").info
    folder = model_path.parent
    manifest = read(folder)
    entry = {"name": info.name, "file": model_path.name, "sha256": sha256_of(model_path),
             "bytes": model_path.stat().st_size, "metadata": info.to_props()}
    manifest["models"] = [m for m in manifest["models"] if m["name"] != info.name] + [entry]
    if default or not manifest.get("default"):
        manifest["default"] = info.name
    write(folder, manifest)
    return entry


def remove(folder: Path, name: str) -> None:
    manifest = read(folder)
    kept = [m for m in manifest["models"] if m["name"] != name]
    if len(kept) == len(manifest["models"]):
        raise SystemExit(f"error: no model named {name!r} in {folder / MANIFEST}")
    manifest["models"] = kept
    if manifest.get("default") == name:
        manifest["default"] = kept[0]["name"] if kept else None
    write(folder, manifest)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.manifest", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add", help="check a model file and record it in its folder's manifest")
    adding.add_argument("model", type=Path)
    adding.add_argument("--default", action="store_true", help="make it the default model")
    removing = commands.add_parser("remove", help="drop a model from the manifest (the file stays)")
    removing.add_argument("name")
    removing.add_argument("--folder", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    try:
        if args.command == "add":
            entry = add(args.model, args.default)
            print(f"recorded {entry['name']} ({entry['file']}, sha256 {entry['sha256'][:12]}…)")
        else:
            remove(args.folder, args.name)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

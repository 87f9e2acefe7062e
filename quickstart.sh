#!/usr/bin/env bash
# The README's main job on a fresh machine: installs the engine's dependencies, colours the
# bundled example with the shipped default model into out/, and, where Krita is installed,
# installs the plugin into it.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}

echo "== installing the engine's dependencies"
"$PYTHON" -m pip install -q -r requirements.txt

echo "== colouring examples/cat.png with the default model"
mkdir -p out
"$PYTHON" -m krita_deepcolor colorize examples/cat.png --hints examples/cat.hints.png -o out/cat.png
"$PYTHON" -m krita_deepcolor colorize examples/cat.png --hints examples/cat.hints.png --with-lines \
  -o out/cat-with-lines.png

if command -v krita >/dev/null || command -v kritarunner >/dev/null; then
  echo "== Krita found: installing the plugin"
  # Krita creates its resource folder on first start; a Krita never started yet gets it here
  # (the installer itself refuses to guess a folder that does not exist).
  mkdir -p "${XDG_DATA_HOME:-$HOME/.local/share}/krita"
  "$PYTHON" installer.py
else
  echo "== Krita not found: skipped installing the plugin (see README: Install in Krita)"
fi

#!/usr/bin/env bash
# Colorize speed and memory inside real Krita (benchmarks/krita_speed.py), headless in kritarunner.
#   bash benchmarks/krita_speed.sh [--quick] [--sizes 4096² ...] [--repeats N] [--save-baseline] [--json OUT]
# Needs what tests/krita/run.sh installs (Debian's krita, python3-pyqt5, the .kdeps folder).
# KRITA_DEEPCOLOR_BENCH_PROFILE=DIR reuses a Krita profile (default: a temporary one; the first
# start on an empty profile costs ~16 s, outside the measurement).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
if [ -n "${KRITA_DEEPCOLOR_BENCH_PROFILE:-}" ]; then
  PROFILE=$KRITA_DEEPCOLOR_BENCH_PROFILE
  mkdir -p "$PROFILE"
else
  PROFILE=$(mktemp -d /tmp/krita-deepcolor-bench.XXXXXX)
  trap 'rm -rf "$PROFILE"' EXIT
fi
export XDG_CONFIG_HOME=$PROFILE/config XDG_DATA_HOME=$PROFILE/data KRITA_DEEPCOLOR_MODELS=$PROFILE/models
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
NOISE=$(cat tests/krita/krita-noise.txt)
echo "# uptime: $(uptime)"
QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$REPO/.kdeps:$REPO \
  kritarunner -s benchmarks.krita_speed -f main -- "$@" 2>&1 | grep --line-buffered -v -E "$NOISE"
rc=${PIPESTATUS[0]}
echo "# uptime: $(uptime)"
exit "$rc"

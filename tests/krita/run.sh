#!/usr/bin/env bash
# The plugin's tests inside real Krita 5:
#   1. document, layer and job logic in kritarunner (no X server),
#   2. the docker and the actions in the full Krita app under Xvfb,
#   3. installer.py into a fresh profile, then Krita under Xvfb shows the docker and the actions
#      (tests/krita/install, run by /usr/bin/python3's pytest from .kdeps, outside Krita).
# Exit code: 0 only if all suites pass. Without Krita the suites are skipped (exit 0) unless
# CI=true, where a missing Krita is a failure.
#
# Environment:
#   KRITA_DEEPCOLOR_TEST_PROFILE=DIR  reuse a Krita profile across runs (the first start on an
#                                     empty profile costs ~16 s per suite); default: a temp dir
#   KRITA_DEEPCOLOR_TEST_TIMEOUT=S    per-suite time limit in seconds (default 900)
#   KRITA_DEEPCOLOR_SUITES=runner|gui|install  run only these suites (default: all three); the
#                                     install suite always uses a fresh profile of its own
#   KRITA_DEEPCOLOR_GUI_TARGET=PATH    what the GUI suite runs (default tests/krita/gui); e.g.
#                                     tests/krita/gui/screenshot_docker.py makes docs/docker.png
#   extra arguments are passed to pytest in the runner and gui suites (e.g. -k cancel, -x)
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
KDEPS=$REPO/.kdeps
TIMEOUT=${KRITA_DEEPCOLOR_TEST_TIMEOUT:-900}
SUITES=${KRITA_DEEPCOLOR_SUITES:-runner gui install}
NOISE=$(cat tests/krita/krita-noise.txt)

missing=""
for tool in kritarunner krita xvfb-run; do
  command -v "$tool" >/dev/null || missing="$missing $tool"
done
/usr/bin/python3 -c "import PyQt5" 2>/dev/null || missing="$missing python3-pyqt5"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: Krita tests cannot run, missing:$missing (apt-get install krita python3-pyqt5 xvfb)" >&2
    exit 1
  fi
  echo "SKIPPED: Krita plugin tests need Debian's krita, python3-pyqt5 and xvfb (missing:$missing)"
  exit 0
fi

# numpy, onnxruntime, OpenCV (the plugin) plus pytest, onnx and greenlet (the tests) for Krita's
# Python, which is Debian's /usr/bin/python3, not the python3 on PATH.
if ! PYTHONPATH=$KDEPS /usr/bin/python3 -c "import numpy, onnxruntime, cv2, pytest, onnx, greenlet" 2>/dev/null
then
  echo "== installing Krita-side Python packages into .kdeps"
  /usr/bin/python3 -m pip install -q --disable-pip-version-check --target "$KDEPS" \
    numpy onnxruntime opencv-python-headless pytest onnx greenlet || exit 1
fi

if [ -n "${KRITA_DEEPCOLOR_TEST_PROFILE:-}" ]; then
  PROFILE=$KRITA_DEEPCOLOR_TEST_PROFILE
  mkdir -p "$PROFILE"
else
  PROFILE=$(mktemp -d /tmp/krita-deepcolor-profile.XXXXXX)
  trap 'rm -rf "$PROFILE"' EXIT
fi
export XDG_CONFIG_HOME=$PROFILE/config XDG_DATA_HOME=$PROFILE/data
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
export KRITA_DEEPCOLOR_TEST_MODELS=$PROFILE/models
export KRITA_DEEPCOLOR_MODELS=$KRITA_DEEPCOLOR_TEST_MODELS
export PYTHONDONTWRITEBYTECODE=1

echo "== building test models"
PYTHONPATH=$KDEPS:$REPO /usr/bin/python3 -m tests.krita.models "$KRITA_DEEPCOLOR_TEST_MODELS" || exit 1

runner_rc=0
gui_rc=0
install_rc=0

# Each suite writes how many tests it collected and ran (tests/krita/tally.py): a suite that ran
# none, or fewer than it collected, fails even when its Krita exited 0.
tally() {  # tally SUITE RC -> RC, or 1 when the suite ran fewer tests than it collected
  if [ "$2" -eq 0 ] && ! /usr/bin/python3 tests/krita/tally.py "$PROFILE/tally-$1.json" "$1" >&2; then
    echo 1
  else
    echo "$2"
  fi
}

if [[ " $SUITES " == *" runner "* ]]; then
  start=$(date +%s)
  echo "== suite 1/3: kritarunner"
  rm -f "$PROFILE/tally-kritarunner.json"
  KRITA_DEEPCOLOR_TALLY=$PROFILE/tally-kritarunner.json QT_QPA_PLATFORM=offscreen PYTHONPATH=$KDEPS:$REPO \
    timeout "$TIMEOUT" kritarunner -s tests.krita.runner.entry -f main -- \
    -p no:cacheprovider -p tests.krita.tally tests/krita/runner "$@" 2>&1 | grep -v -E "$NOISE"
  runner_rc=$(tally kritarunner "${PIPESTATUS[0]}")
  echo "== kritarunner suite: exit $runner_rc in $(( $(date +%s) - start )) s"
fi

if [[ " $SUITES " == *" gui "* ]]; then
  start=$(date +%s)
  echo "== suite 2/3: Krita under Xvfb"
  # The plugin is installed by copying, as a user's pykrita folder holds it; plus the harness.
  PYKRITA=$XDG_DATA_HOME/krita/pykrita
  rm -rf "$PYKRITA/krita_deepcolor" "$PYKRITA/deepcolor_test_harness"
  mkdir -p "$PYKRITA"
  cp krita_deepcolor.desktop tests/krita/harness/deepcolor_test_harness.desktop "$PYKRITA/"
  cp -r krita_deepcolor tests/krita/harness/deepcolor_test_harness "$PYKRITA/"
  find "$PYKRITA" -name __pycache__ -prune -exec rm -rf {} +
  /usr/bin/python3 tests/krita/enable_plugins.py "$XDG_CONFIG_HOME/kritarc" krita_deepcolor deepcolor_test_harness
  # -noreset: an X server resets when its last client leaves, and a connection Krita opens during
  # the reset fails ("could not connect to display", abort): on a loaded machine, at random.
  # A temporary folder of its own: Krita finds an instance already running (another user session,
  # another suite) through a socket there, and would hand its work over to it and exit 0.
  rm -f "$PROFILE/tally-GUI.json"
  mkdir -p "$PROFILE/tmp"
  KRITA_DEEPCOLOR_GUI_TESTS="-p no:cacheprovider -p tests.krita.tally ${KRITA_DEEPCOLOR_GUI_TARGET:-tests/krita/gui} $*" \
    KRITA_DEEPCOLOR_TALLY=$PROFILE/tally-GUI.json TMPDIR=$PROFILE/tmp \
    KRITA_DEEPCOLOR_WATCHDOG=$TIMEOUT PYTHONPATH=$KDEPS:$REPO \
    xvfb-run -a -s "-screen 0 1600x1000x24 -noreset" timeout "$TIMEOUT" krita --nosplash 2>&1 | grep -v -E "$NOISE"
  gui_rc=$(tally GUI "${PIPESTATUS[0]}")
  echo "== GUI suite: exit $gui_rc in $(( $(date +%s) - start )) s"
fi

if [[ " $SUITES " == *" install "* ]]; then
  start=$(date +%s)
  echo "== suite 3/3: installer.py into a fresh profile, then Krita under Xvfb"
  rm -f "$PROFILE/tally-install.json"
  KRITA_DEEPCOLOR_TALLY=$PROFILE/tally-install.json KRITA_DEEPCOLOR_KDEPS=$KDEPS PYTHONPATH=$KDEPS:$REPO \
    timeout "$TIMEOUT" /usr/bin/python3 -m pytest -p no:cacheprovider -p tests.krita.tally -q tests/krita/install
  install_rc=$(tally install $?)
  echo "== install suite: exit $install_rc in $(( $(date +%s) - start )) s"
fi

if [ "$runner_rc" -ne 0 ] || [ "$gui_rc" -ne 0 ] || [ "$install_rc" -ne 0 ]; then
  echo "FAIL: kritarunner suite exit $runner_rc, GUI suite exit $gui_rc, install suite exit $install_rc" \
       "(97 = watchdog, 98 = uncaught exception in Krita, 124 = timeout)" >&2
  exit 1
fi
echo "== Krita suites passed"

#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian 12 machine, then
# runs every suite (engine, toolchain, installer with pyenv/PATH python; plugin inside real Krita).
# With CI=true nothing may be skipped for lack of Krita.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

need_apt=()
for tool in kritarunner:krita xvfb-run:xvfb rsvg-convert:librsvg2-bin; do
  command -v "${tool%%:*}" >/dev/null || need_apt+=("${tool##*:}")
done
/usr/bin/python3 -c "import PyQt5" 2>/dev/null || need_apt+=(python3-pyqt5)
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
# The data tests fetch real art packages with apt-get download: that needs package lists.
package_lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)
if [ ${#need_apt[@]} -gt 0 ] || [ -z "$package_lists" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== apt-get update; installing: ${need_apt[*]:-nothing}"
    apt-get update -q >/dev/null
    [ ${#need_apt[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
  else
    echo "== not root: cannot install ${need_apt[*]:-anything}; tests needing them skip or fail (CI)"
  fi
fi

echo "== installing Python test dependencies"
"$PYTHON" -m pip install -q -r requirements-dev.txt
# hintauc (the quality benchmark's hint-ratio curve) pins numpy < 2 through dependencies its
# deterministic scribbles never import: install it alone, beside scikit-image
"$PYTHON" -m pip install -q --no-deps hintauc==0.3.3

echo "== lint"
"$PYTHON" -m ruff check .

echo "== engine, toolchain and installer tests"
"$PYTHON" -m pytest -q -p no:cacheprovider --ignore=tests/krita "$@"

echo "== plugin tests inside real Krita"
bash tests/krita/run.sh

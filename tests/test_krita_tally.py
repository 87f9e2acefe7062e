"""tests/krita/run.sh fails a Krita suite that ran fewer tests than it collected, or none."""

import json
import subprocess
import sys
from pathlib import Path

from tests.krita import tally


def test_a_suite_without_a_tally_or_with_tests_left_unrun_fails(tmp_path, capsys):
    path = tmp_path / "tally.json"
    assert tally.check(str(path), "GUI") == 1  # Krita exited 0 without ever starting pytest
    assert "ran no tests" in capsys.readouterr().err
    path.write_text(json.dumps({"collected": 12, "ran": 11}))
    assert tally.check(str(path), "GUI") == 1
    path.write_text(json.dumps({"collected": 0, "ran": 0}))
    assert tally.check(str(path), "GUI") == 1
    path.write_text(json.dumps({"collected": 12, "ran": 12}))
    assert tally.check(str(path), "GUI") == 0


def test_the_plugin_counts_what_pytest_ran(tmp_path):
    (tmp_path / "test_some.py").write_text(
        "import pytest\n"
        "def test_a(): pass\n"
        "def test_b(): pytest.skip('decides to skip')\n"
        "def test_c(): assert False\n")
    result = tmp_path / "tally.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.krita.tally",
                           "-p", "no:cacheprovider", str(tmp_path)], capture_output=True, text=True,
                          env={"KRITA_DEEPCOLOR_TALLY": str(result), "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 1, done.stdout + done.stderr
    assert json.loads(result.read_text()) == {"collected": 3, "ran": 3}

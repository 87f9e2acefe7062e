"""The command-line benchmark runs both processes on real PNG files and prints their ratio."""

import re

from benchmarks import cli


def test_the_cli_and_the_floor_both_run_and_the_table_compares_them(capsys):
    assert cli.main(["--size", "256", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\| 256² \| (CLI|floor) \| (\d+\.\d+) \| [\d., ]+ \| (\d+\.\d+)x \|$", out, re.M)
    assert [row[0] for row in rows] == ["CLI", "floor"]
    assert all(float(seconds) > 0 for _, seconds, _ in rows)
    assert rows[1][2] == "1.00" and float(rows[0][2]) > 1.0  # the CLI does strictly more work

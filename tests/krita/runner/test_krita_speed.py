"""The in-Krita speed benchmark's quick mode runs here and prints a full table."""

import io
import math
import re

from benchmarks import krita_speed

NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(?: \((-?\d+(?:\.\d+)?)\))?$")  # "now" or "now (baseline)"


def test_quick_benchmark_prints_every_column_with_numbers(tmp_path):
    out = io.StringIO()
    saved = tmp_path / "run.json"
    args = ["--quick", "--baseline", str(krita_speed.BASELINE), "--json", str(saved)]
    measured, text = krita_speed.run(args, out)

    assert text in out.getvalue()
    assert "load average" in out.getvalue()
    lines = text.splitlines()
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert head == ["canvas", "lines", "network at"] + [name for name, _ in krita_speed.COLUMNS]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    kinds = ["first run (thick)", "thick", "thin", "live preview"]
    assert [row[:2] for row in rows] == [["2048²", kind] for kind in kinds]
    for row in rows:
        assert re.fullmatch(r"\d+x\d+", row[2]), row
        for name, cell in zip(head[3:], row[3:], strict=True):
            assert NUMBER.match(cell), f"{name}: {cell!r} is not a number in {row}"
    if krita_speed.BASELINE.is_file():  # the stored baseline has the 2048² cases: shown beside
        assert all(NUMBER.match(cell).group(2) is not None for row in rows for cell in row[3:]), rows

    for key, row in measured["rows"].items():
        assert row["total"] >= row["read"] + row["network"] + row["write"] > 0, key
        # (the allocator may serve a run from memory Krita already holds: added can be ~0)
        assert row["peak_mb"] > row["added_mb"] >= 0 and math.isfinite(row["peak_mb"]), key
    loaded = measured["rows"]["first run"]["model load"]  # the first run loads the model
    assert loaded > 0.01 and measured["rows"]["2048² thick"]["model load"] < loaded / 10  # then cached
    # the live preview runs the network on the shrunk canvas
    assert max(map(int, measured["rows"]["2048² live preview"]["network at"].split("x"))) <= 256
    assert saved.is_file()

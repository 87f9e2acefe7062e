"""The variant comparison: real training steps, a real export, the real benchmark, resumable."""


from benchmarks import compare


def test_compare_trains_exports_and_scores_each_variant_and_resumes(small_dataset, tmp_path, capsys):
    argv = ["--runs", str(tmp_path / "runs"), "--variants", "regression", "--data", str(small_dataset),
            "--steps", "2", "--batch", "2", "--crop", "128", "--threads", "1", "--limit", "2"]
    assert compare.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| regression | 4 |" in printed  # 2 steps x 2 images
    model = tmp_path / "runs" / "regression" / "compare-regression.onnx"
    rows = [line for line in printed.splitlines() if "| engine:compare-regression |" in line]
    # 5 hint regimes (dense, sparse and none; dense and sparse on lines with gaps) in each half
    # that holds a pair, scored through the engine
    assert len(rows) in (5, 10)
    assert all(line.count("|") == 11 for line in rows)

    exported_at = model.stat().st_mtime
    assert compare.main(argv) == 0
    assert model.stat().st_mtime == exported_at  # neither trained nor exported again
    log = (tmp_path / "runs" / "regression.log").read_text()
    assert "starting at step 0 of 2" in log and "already at step 2 (--steps 2): nothing to do" in log

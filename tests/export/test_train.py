"""Training: every variant learns a tiny set, runs resume exactly after a kill, and a run
refuses settings it cannot continue with. Real torch training steps on a tiny dataset folder
in the layout ``python -m export.data build`` writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from export import train  # noqa: E402
from export.checkpoints import LAST, load_checkpoint  # noqa: E402
from export.data.sampler import StepBatches  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VARIANTS = ("pix2pix-stroke", "deepcolor-gan", "regression", "classification", "classification-lch")
torch.set_num_threads(1)


def tiny_args(variant: str, data: Path, run: Path, steps: int, *extra: str) -> list[str]:
    depth = "5" if variant == "pix2pix-stroke" else "4" if variant == "deepcolor-gan" else "3"
    return ["--variant", variant, "--data", str(data), "--run", str(run), "--steps", str(steps),
            "--batch", "4", "--crop", "64", "--width", "16", "--depth", depth, "--workers", "0",
            "--threads", "1", "--log-every", "5", "--val-every", "1000", "--ckpt-every", "1000",
            "--class-images", "4", *extra]


def metrics(run: Path, kind: str) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [entry for entry in map(json.loads, lines) if entry["kind"] == kind]


# The loss each variant reports, and the factor by which it must fall in 40 steps on 4 images.
OVERFIT = {  # measured: l1 /3.0, l1 /4.3, l2 /3.9, ce /2.7, ce /2.1
    "pix2pix-stroke": ("l1", 2.5),
    "deepcolor-gan": ("l1", 2.5),  # the adversarial term joins at step 20
    "regression": ("l2", 2.5),
    "classification": ("ce", 2.0),
    "classification-lch": ("ce", 1.5),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_overfits_a_tiny_set(variant, tiny_dataset, tmp_path):
    run = tmp_path / "run"
    extra = ["--lr", "2e-3", "--beta1", "0.5", "--no-augment", "--val-every", "40"]
    if variant == "deepcolor-gan":
        extra += ["--gan-start", "20"]
    assert train.main(tiny_args(variant, tiny_dataset, run, 40, *extra)) == 0
    key, factor = OVERFIT[variant]
    losses = [entry[key] for entry in metrics(run, "train")]
    assert len(losses) == 8
    assert losses[-1] < losses[0] / factor, f"{key} went {losses[0]:.4f} -> {losses[-1]:.4f}"
    if variant == "deepcolor-gan":
        assert "d" in metrics(run, "train")[-1] and "d" not in metrics(run, "train")[0]
    # validation in eval mode through the contract graph: metrics and a picture grid
    (validation,) = metrics(run, "val")
    assert validation["step"] == 40 and np.isfinite(validation["l1"]) and validation["psnr"] > 5
    grid = cv2.imread(str(run / "val" / "step_00000040.png"))
    columns = 5 if variant == "deepcolor-gan" else 4  # line, hint, output(s), truth
    assert grid.shape == (2 * 64, columns * 64, 3)
    checkpoint = load_checkpoint(run)
    assert checkpoint["step"] == 40 and checkpoint["images_seen"] == 160
    assert checkpoint["config"]["variant"] == variant
    if variant.startswith("classification"):
        weights = checkpoint["variant_state"]["class_weights"]
        assert weights.shape == (512,) and torch.isfinite(weights).all() and weights.std() > 0


def test_batches_depend_only_on_seed_step_and_rank():
    whole = StepBatches(10, 3, seed=5, start=0, stop=8)
    later = StepBatches(10, 3, seed=5, start=4, stop=8)
    assert list(whole)[4:] == list(later)
    first_epoch = [i for step in range(3) for i in whole.indices(step)] + whole.indices(3)[:1]
    assert sorted(first_epoch) == list(range(10))  # every image once per epoch
    # each item comes with its global position, from which the dataset seeds its augmentation
    assert [position for batch in whole for _, position in batch] == list(range(24))
    rank0 = StepBatches(10, 2, seed=5, start=0, stop=2, rank=0, world=2)
    rank1 = StepBatches(10, 2, seed=5, start=0, stop=2, rank=1, world=2)
    assert not set(rank0.indices(0)) & set(rank1.indices(0))  # ranks split each global batch
    # two ranks of batch 2 take exactly the keys one process of batch 4 would
    alone = StepBatches(10, 4, seed=5, start=0, stop=2)
    assert [rank0.keys(s) + rank1.keys(s) for s in range(2)] == [alone.keys(s) for s in range(2)]


def wait_for_checkpoint(run: Path, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not (run / LAST).is_file():
        if process.poll() is not None:
            raise AssertionError(f"training ended early:\n{process.stderr.read()}")
        if time.time() > deadline:
            process.kill()
            raise AssertionError("no checkpoint appeared")
        time.sleep(0.1)


def test_resume_after_kill_gives_the_uninterrupted_run(tiny_dataset, tmp_path):
    # With augmentation: random crops, flips, line weights and hints are a pure function of the
    # seed and each sample's position in the run, so the resumed run (here also with a DataLoader
    # worker, which --workers may change on resume) matches one that never stopped weight for weight.
    extra = ["--ckpt-every", "3"]
    killed = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-m", "export.train",
                                *tiny_args("pix2pix-stroke", tiny_dataset, killed, 100000, *extra)],
                               cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_checkpoint(killed, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stopped_at = load_checkpoint(killed)["step"]
    assert stopped_at > 0 and stopped_at % 3 == 0
    final = stopped_at + 4
    resume = tiny_args("pix2pix-stroke", tiny_dataset, killed, final, *extra)
    resume[resume.index("--workers") + 1] = "1"
    assert train.main(resume) == 0
    resumed = load_checkpoint(killed)
    assert resumed["step"] == final and resumed["images_seen"] == final * 4
    adam_steps = {int(s["step"]) for s in resumed["optimizers"]["generator"]["state"].values()}
    assert adam_steps == {final}

    straight = tmp_path / "straight"
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, straight, final, *extra)) == 0
    uninterrupted = load_checkpoint(straight)
    for name, tensor in uninterrupted["generator"].items():
        assert torch.equal(tensor, resumed["generator"][name]), name


def test_a_stop_signal_to_the_process_group_saves_the_step_reached(tiny_dataset, tmp_path):
    """As Ctrl-C or ``pkill -f export.train`` do: the data worker gets the signal too."""
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    args = tiny_args("regression", tiny_dataset, run, 100000, "--ckpt-every", "2")
    args[args.index("--workers") + 1] = "1"
    process = subprocess.Popen([sys.executable, "-m", "export.train", *args], cwd=REPO, env=env,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_checkpoint(run, process)
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    stopped = int(stderr.split("stopped at step ")[1].split(";")[0])
    assert load_checkpoint(run)["step"] == stopped >= 2


def test_a_finished_run_does_nothing_and_a_changed_one_is_refused(tiny_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    assert train.main(tiny_args("regression", tiny_dataset, run, 2)) == 0
    before = (run / LAST).stat().st_mtime_ns
    assert train.main(tiny_args("regression", tiny_dataset, run, 2)) == 0
    assert (run / LAST).stat().st_mtime_ns == before
    assert "nothing to do" in capsys.readouterr().err

    changed = tiny_args("regression", tiny_dataset, run, 4)
    changed[changed.index("--width") + 1] = "8"
    assert train.main(changed) == 2
    assert "cannot resume" in capsys.readouterr().err
    assert train.main(tiny_args("classification", tiny_dataset, run, 4)) == 2
    assert "holds a regression run" in capsys.readouterr().err
    # settings a resumed run may change: more steps
    assert train.main(tiny_args("regression", tiny_dataset, run, 3)) == 0
    assert load_checkpoint(run)["step"] == 3


def test_a_run_resumes_with_the_miss_loss_added(tiny_dataset, tmp_path):
    # Fine-tuning an L1 run toward one likely colour: the resumed steps report and lower the
    # miss loss (export/losses.colour_miss) on the tiny set.
    run = tmp_path / "run"
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, run, 10)) == 0
    assert all("miss" not in entry for entry in metrics(run, "train"))
    assert train.main(tiny_args("pix2pix-stroke", tiny_dataset, run, 50, "--hit-weight", "50",
                                "--hit-sigma", "15")) == 0
    config = load_checkpoint(run)["config"]
    assert (config["hit_weight"], config["hit_sigma"]) == (50.0, 15.0)
    misses = [entry["miss"] for entry in metrics(run, "train") if "miss" in entry]
    assert len(misses) == 8 and misses[-1] < misses[0]


def test_bad_settings_and_missing_data_are_one_line_errors(tiny_dataset, tmp_path, capsys):
    assert train.main(tiny_args("pix2pix-stroke", tmp_path / "nowhere", tmp_path / "a", 2)) == 2
    assert "manifest.json" in capsys.readouterr().err
    args = tiny_args("pix2pix-stroke", tiny_dataset, tmp_path / "b", 2)
    args[args.index("--crop") + 1] = "48"
    assert train.main(args) == 2
    assert "multiple of 2**depth" in capsys.readouterr().err

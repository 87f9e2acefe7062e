"""Several processes through torchrun: 2 CPU processes on gloo train one model together."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from export import checkpoints, train  # noqa: E402
from export.config import TrainConfig  # noqa: E402
from export.variants import build_variant  # noqa: E402

from .test_train import REPO, tiny_args  # noqa: E402

torch.set_num_threads(1)


def update(checkpoint: dict, start: dict) -> torch.Tensor:
    return torch.cat([(checkpoint["generator"][k] - v).flatten() for k, v in start.items()
                      if v.is_floating_point()])


def test_two_gloo_processes_train_like_one_with_their_batches_combined(tiny_dataset, tmp_path):
    # GAN from the first step, so the generator and the discriminator both run under DDP. The
    # augmentation of each item is a function of the seed and its position in the global batch,
    # so the ranks draw the very crops and hints the single process below draws.
    extra = ["--gan-start", "0", "--gan-weight", "1", "--ckpt-every", "2", "--device", "cpu"]
    ddp_run = tmp_path / "ddp"
    args = tiny_args("deepcolor-gan", tiny_dataset, ddp_run, 4, *extra)
    args[args.index("--batch") + 1] = "2"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run([*torchrun, "-m", "export.train", "--", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # rank 0 compares a fingerprint of every rank's weights at each checkpoint and stops if they differ
    assert done.stderr.count("weights identical on 2 ranks") == 2, done.stderr[-3000:]
    together = checkpoints.load_checkpoint(ddp_run)
    assert together["world_size"] == 2 and together["step"] == 4 and together["images_seen"] == 16
    assert together["discriminator"] is not None

    # One process with batch 4 sees, step by step, the two ranks' batches of 2 combined, and
    # DDP averages the ranks' gradients: both runs must take the same optimiser steps.
    single_run = tmp_path / "single"
    assert train.main(tiny_args("deepcolor-gan", tiny_dataset, single_run, 4, *extra)) == 0
    alone = checkpoints.load_checkpoint(single_run)
    torch.manual_seed(alone["config"]["seed"])  # the trainer's initial weights
    start = build_variant(TrainConfig.from_dict(alone["config"])).generator.state_dict()
    step_alone, step_together = update(alone, start), update(together, start)
    difference = (step_alone - step_together).norm() / step_alone.norm()
    assert difference < 0.05, f"DDP update differs from the single-process update by {difference:.3f}"

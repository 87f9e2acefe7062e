"""Train a generator: ``python -m export.train --variant VARIANT --data DATASET --run RUNDIR``.

Rerunning the same command resumes from RUNDIR/last.pt (same step, optimiser state, data
order). Several processes: ``torchrun --nproc_per_node N -m export.train ...`` (gloo on CPU,
NCCL on CUDA). This file is the training loop and its command line; the recipe of each variant
lives in export/variants.py, the options in export/config.py, the checkpoint format in
export/checkpoints.py, the batch order in export/data/sampler.py and what validation measures
in export/validation.py.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist

from .checkpoints import LAST, init_from, load_checkpoint, make_payload, restore_variant, save_checkpoint
from .config import TrainConfig, merge_for_resume, parse_train_args
from .data.sampler import StepBatches
from .errors import CheckpointError, ConfigError
from .validation import VALIDATION_SEED, evaluate, on_cpu_numpy, write_grid
from .variants import build_variant

# -- data --------------------------------------------------------------------------------

def read_data_info(root: Path) -> dict:
    """What the model card and the ONNX metadata say about the data: from manifest.json."""
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"{root}: no manifest.json (build the dataset first: python -m export.data build)")
    manifest = json.loads(manifest_path.read_text())
    stats = manifest.get("stats", {})
    parts = []
    for name, source in sorted(manifest.get("sources", {}).items()):
        if isinstance(source, dict) and source.get("samples", 1):
            licence = f", {source['license'].split(' (')[0]}" if source.get("license") else ""
            count = f": {source['samples']} samples" if "samples" in source else ""
            parts.append(f"{name}{licence}{count}")
    summary = "; ".join(parts) or f"images from {root.name}"
    if "train" in stats:
        summary += f" ({stats['train']} train / {stats.get('val', 0)} val)"
    width = stats.get("line_width_median")
    return {"summary": summary[:500], "line_width": float(width) if width else None}


def open_dataset(config: TrainConfig, split: str, seed: int):
    from export.data.dataset import DatasetError, PairDataset

    try:
        return PairDataset(config.data, split=split, crop=config.crop, hints=config.hints,
                           augment=config.augment and split == "train", seed=seed)
    except DatasetError as error:
        raise ConfigError(str(error)) from None


def to_device(batch: dict, device: torch.device) -> dict:
    return {key: value.to(device, non_blocking=True) if torch.is_tensor(value) else value
            for key, value in batch.items()}


# -- the run -----------------------------------------------------------------------------

@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_kind: str) -> Distributed:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    backend = "nccl" if device_kind == "cuda" else "gloo"
    dist.init_process_group(backend)
    return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(requested: str, local_rank: int) -> torch.device:
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for but torch sees no CUDA GPU: use --device cpu")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def weights_fingerprint(module: torch.nn.Module) -> torch.Tensor:
    """Two numbers that differ if any parameter differs: sum and position-weighted sum."""
    flat = torch.cat([p.detach().double().flatten() for p in module.parameters()])
    position = torch.arange(flat.numel(), dtype=torch.float64, device=flat.device) % 9973 + 1
    return torch.stack([flat.sum(), (flat * position).sum()])


@dataclass
class Window:
    """Losses and throughput since the last progress line."""

    sums: dict = field(default_factory=dict)
    count: int = 0
    images: int = 0
    since: float = field(default_factory=time.perf_counter)

    def add(self, report: dict, images: int) -> None:
        for key, value in report.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1
        self.images += images

    def means(self) -> dict:
        return {key: value / max(self.count, 1) for key, value in self.sums.items()}

    def rate(self) -> float:
        return self.images / max(time.perf_counter() - self.since, 1e-9)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Trainer:
    def __init__(self, config: TrainConfig, checkpoint: dict | None, parallel: Distributed):
        self.config, self.parallel = config, parallel
        self.run_dir = Path(config.run)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device, parallel.local_rank)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        torch.manual_seed(config.seed)  # identical initial weights on every rank
        self.variant = restore_variant(checkpoint, config) if checkpoint else build_variant(config)
        if checkpoint is None and config.init_from:
            init_from(self.variant, config.init_from)
        self.data_info = read_data_info(Path(config.data))
        self.train_set = open_dataset(config, "train", config.seed)
        if len(self.train_set) == 0:
            raise ConfigError(f"{config.data}: the train split is empty")
        self.step, self.images_seen, self.train_seconds = 0, 0, 0.0
        if checkpoint is None:
            self.variant.fit_data(self.train_set)
        else:
            self.step = int(checkpoint["step"])
            self.images_seen = int(checkpoint["images_seen"])
            self.train_seconds = float(checkpoint.get("train_seconds", 0.0))
        self.variant.to(self.device)
        if self.device.type == "cuda" and config.amp:
            self.variant.autocast = lambda: torch.autocast("cuda", torch.bfloat16)
        self._wrap_for_ddp()
        optimizers = self.variant.make_optimizers()
        if checkpoint is not None:
            for name, optimizer in optimizers.items():
                state = checkpoint["optimizers"].get(name)
                if state is not None:  # a discriminator added on resume starts fresh
                    optimizer.load_state_dict(state)
            torch.set_rng_state(checkpoint["rng"]["torch"])
            if self.device.type == "cuda" and checkpoint["rng"].get("cuda"):
                torch.cuda.set_rng_state(checkpoint["rng"]["cuda"][0], self.device)
        self.validation = self._validation_batch() if parallel.main else None
        self.quality_samples = self._quality_samples() if parallel.main else []
        self.stop_requested = False

    def _wrap_for_ddp(self) -> None:
        if self.parallel.world <= 1:
            return
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        variant = self.variant
        for name, tensor in variant.extra_state().items():  # e.g. class weights: rank 0's copy wins
            tensor = tensor.to(self.device)
            dist.broadcast(tensor, 0)
            variant.load_extra_state({**variant.extra_state(), name: tensor.cpu()})
        variant.train_generator = DistributedDataParallel(variant.generator, device_ids=ids)
        if variant.discriminator is not None:
            variant.train_discriminator = DistributedDataParallel(variant.discriminator, device_ids=ids)

    def _validation_batch(self) -> dict | None:
        try:
            val_set = open_dataset(self.config, "val", VALIDATION_SEED)
        except ConfigError as error:
            print(f"no validation: {error}", file=sys.stderr)
            return None
        count = min(self.config.val_images, len(val_set))
        items = [val_set[i] for i in range(count)]
        batch = {key: torch.stack([item[key] for item in items]) for key in ("line", "color", "hint")}
        return to_device(batch, self.device)

    def _quality_samples(self) -> list[dict]:
        """Whole validation pictures with the quality benchmark's dense hints (export/quality.py)."""
        if self.validation is None or not self.config.quality_images:
            return []
        from . import quality

        return quality.load_samples(self.config.data, self.config.quality_images)

    def quality(self) -> dict[str, float]:
        """Raw-output quality of the eval-mode contract graph on the quality pictures."""
        if not self.quality_samples:
            return {}
        from . import quality

        variant = self.variant
        graph = variant.contract_graph().eval()
        try:
            scores = quality.score(quality.torch_runner(on_cpu_numpy(graph, self.device)),
                                   self.quality_samples, self.config.size_multiple)
        finally:
            graph.train()
        return {f"raw_{key}": value for key, value in scores.items()}

    def checkpoint_payload(self) -> dict:
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = [torch.cuda.get_rng_state(self.device)]
        return make_payload(self.variant, self.config, self.step, self.images_seen, self.parallel.world,
                            self.train_seconds, rng, self.data_info)

    def save(self) -> None:
        if self.parallel.world > 1:
            # Gradients are averaged across ranks, so the weights must be identical: check it.
            networks = (self.variant.generator, self.variant.discriminator)
            mine = torch.cat([weights_fingerprint(m) for m in networks if m is not None])
            gathered = [torch.zeros_like(mine) for _ in range(self.parallel.world)]
            dist.all_gather(gathered, mine)
            if any(not torch.allclose(g, gathered[0], rtol=1e-9, atol=0) for g in gathered):
                raise RuntimeError(f"step {self.step}: network weights differ between ranks")
        if self.parallel.main:
            save_checkpoint(self.run_dir / LAST, self.checkpoint_payload())
            agreed = f", weights identical on {self.parallel.world} ranks" if self.parallel.world > 1 else ""
            self.log(f"checkpoint step {self.step} -> {self.run_dir / LAST}{agreed}")

    def validate(self) -> None:
        if not self.parallel.main or self.validation is None:
            return
        started = time.perf_counter()
        metrics, outputs = evaluate(self.variant, self.validation)
        write_grid(self.run_dir / "val" / f"step_{self.step:08d}.png", self.validation, outputs)
        metrics.update(self.quality())
        self.record({"kind": "val", **metrics, "seconds": round(time.perf_counter() - started, 2),
                     "train_seconds": round(self.train_seconds, 1)})
        shown = "  ".join(f"{k} {v:.4f}" if "l1" in k or "de10" in k else f"{k} {v:.2f}"
                          for k, v in metrics.items())
        self.log(f"validation step {self.step}: {shown}")

    def record(self, entry: dict) -> None:
        if not self.parallel.main:
            return
        entry = {"step": self.step, "images_seen": self.images_seen, **entry}
        with open(self.run_dir / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(entry) + "\n")

    def log(self, message: str) -> None:
        if self.parallel.main:
            print(message, file=sys.stderr, flush=True)

    def _due(self, last_time: float, every_steps: int, minutes: float) -> bool:
        return self.step % every_steps == 0 or (minutes > 0 and time.time() - last_time >= minutes * 60)

    def _agree(self, flags: list[bool]) -> list[bool]:
        """Rank 0's decision for time-based events, shared so collectives stay in step."""
        if self.parallel.world <= 1:
            return flags
        tensor = torch.tensor([int(f) for f in flags], device=self.device)
        dist.broadcast(tensor, 0)
        return [bool(v) for v in tensor.tolist()]

    def fit(self) -> int:
        config, parallel = self.config, self.parallel
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.step >= config.steps:
            self.log(f"{self.run_dir} is already at step {self.step} (--steps {config.steps}): nothing to do")
            return 0
        sampler = StepBatches(len(self.train_set), config.batch, config.seed, self.step, config.steps,
                              parallel.rank, parallel.world)
        loader = torch.utils.data.DataLoader(self.train_set, batch_sampler=sampler,
                                             num_workers=config.workers,
                                             worker_init_fn=_leave_stop_signals_to_the_trainer,
                                             pin_memory=self.device.type == "cuda")
        verb = "resuming at" if self.step else "starting at"
        self.log(f"{config.variant}: {verb} step {self.step} of {config.steps}, {len(self.train_set)} "
                 f"training images, batch {config.batch} x {parallel.world} process(es) on {self.device}, "
                 f"{sum(p.numel() for p in self.variant.generator.parameters()) / 1e6:.2f} M parameters")
        if parallel.main:
            (self.run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=1) + "\n")
        interactive = sys.stderr.isatty()
        window, last_val, last_ckpt = Window(), time.time(), time.time()
        step_images = config.batch * parallel.world
        for batch in loader:
            started = time.perf_counter()
            report = self.variant.train_step(to_device(batch, self.device), self.step)
            if any(not math.isfinite(v) for v in report.values()):
                raise RuntimeError(f"step {self.step}: loss is not finite ({report}); lower --lr and resume")
            self.step += 1
            self.images_seen += step_images
            self.train_seconds += time.perf_counter() - started
            window.add(report, step_images)
            last = self.step == config.steps
            if self.step % config.log_every == 0 or last:
                self._progress(window, interactive)
                window = Window()
            do_val, do_ckpt, stop = self._agree([
                last or self._due(last_val, config.val_every, config.val_minutes),
                last or self._due(last_ckpt, config.ckpt_every, config.ckpt_minutes),
                self.stop_requested])
            if do_val:
                self.validate()
                last_val = time.time()
            if do_ckpt or stop:
                self.save()
                last_ckpt = time.time()
            if stop:
                self.log(f"stopped at step {self.step}; rerun the same command to resume")
                return 130
        return 0

    def _progress(self, window: Window, interactive: bool) -> None:
        means = window.means()
        self.record({"kind": "train", **means, "images_per_s": round(window.rate(), 3)})
        losses = "  ".join(f"{k} {v:.4f}" for k, v in means.items())
        rate = window.rate()
        left = (self.config.steps - self.step) * self.config.batch * self.parallel.world
        remaining = left / max(rate, 1e-9)
        line = (f"step {self.step}/{self.config.steps}  {losses}  {rate:.1f} img/s  "
                f"seen {self.images_seen}  eta {_clock(remaining)}")
        if self.parallel.main:
            print(("\r" + line + "   ") if interactive else line, end="" if interactive else "\n",
                  file=sys.stderr, flush=True)


def prepare(argv=None) -> tuple[TrainConfig, dict | None]:
    """Command line (+ RUNDIR/last.pt when resuming) -> config and checkpoint."""
    given, _ = parse_train_args(argv)
    last = Path(given["run"]) / LAST
    if last.is_file():
        checkpoint = load_checkpoint(last)
        return merge_for_resume(checkpoint["config"], given), checkpoint
    return TrainConfig(**given), None


def _leave_stop_signals_to_the_trainer(worker_id: int) -> None:
    """A stop signal sent to the whole process group (Ctrl-C, ``pkill -f``) would kill a data
    worker mid-step and the trainer with it, unsaved: workers ignore it and end with the trainer."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def main(argv=None) -> int:
    try:
        config, checkpoint = prepare(argv)
        parallel = init_distributed(resolve_device(config.device, 0).type)
        trainer = Trainer(config, checkpoint, parallel)
    except (ConfigError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def request_stop(signum, frame):
        trainer.stop_requested = True

    previous = {}
    if parallel.world == 1:  # finish the step and save; under torchrun the launcher handles signals
        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = trainer.fit()
        if parallel.world > 1:
            # every rank done with its last collective before any tears the group down (once,
            # in CI, a rank aborted at exit: "terminate called without an active exception")
            dist.barrier()
        return result
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if parallel.world > 1:
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())

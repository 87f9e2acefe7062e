"""The order training crops are served in, resumable to the step."""

from __future__ import annotations

import numpy as np
import torch


class StepBatches(torch.utils.data.Sampler):
    """Index batches as a pure function of (seed, step, rank): resuming at step s gives the
    same batches an uninterrupted run would. Each epoch is a fresh permutation shared by all
    ranks; rank r takes the r-th slice of each global batch. Batches hold ``(index, position)``
    keys: ``position`` counts samples from the start of the run over all ranks, and the dataset
    seeds each item's augmentation from it, so the crops and hints resume exactly too."""

    def __init__(self, size: int, batch: int, seed: int, start: int, stop: int, rank: int = 0,
                 world: int = 1):
        self.size, self.batch, self.seed = size, batch, seed
        self.start, self.stop, self.rank, self.world = start, stop, rank, world
        self._permutations = {}

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch not in self._permutations:
            self._permutations = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.size)}
        return self._permutations[epoch]

    def keys(self, step: int) -> list[tuple[int, int]]:
        """(dataset index, global sample position) of this rank's share of the step's batch."""
        first = (step * self.world + self.rank) * self.batch
        return [(int(self._permutation(p // self.size)[p % self.size]), p)
                for p in range(first, first + self.batch)]

    def indices(self, step: int) -> list[int]:
        return [index for index, _ in self.keys(step)]

    def __iter__(self):
        for step in range(self.start, self.stop):
            yield self.keys(step)

    def __len__(self):
        return max(0, self.stop - self.start)

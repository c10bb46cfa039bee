"""The app's data loader: mini-batches sliced from in-memory tensors, resumable, DDP-aware.

Imports torch only (and the app's error type).

`TensorBatchLoader` yields each batch as a slice of a few tensors (one gather per epoch when
shuffling, then views: no per-sample `__getitem__`, no collate), optionally on the GPU. Its
order is a pure function of (seed, epoch) (`EpochSampler`), and its position inside the epoch
is part of Lightning's fit-loop checkpoint (`state_dict`/`load_state_dict`), so a run resumed
mid-epoch sees the same batches as an uninterrupted one. Under DDP each rank takes its share
of every global batch.

With `steps_per_execution` k > 1 each item is a chunk: a list of the next k batches (the last
chunk of an epoch may be shorter), which the module trains on with k optimizer steps in one
Lightning step (`lightning_app.models.AppModule.training_step`). The batches and their order
are those of k = 1; only the grouping differs.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from lightning_app.checks import DataError, check_count

__all__ = ["EpochSampler", "TensorBatchLoader"]


class EpochSampler:
    """The sample order of one epoch: a permutation that depends only on (seed, epoch).

    Lightning calls `set_epoch` at the start of every epoch (as it does for a
    DistributedSampler), so the order of epoch e is the same in every process and after a
    restart, without any generator state to carry around.
    """

    def __init__(self, n: int, shuffle: bool, seed: int) -> None:
        self.n = n
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self) -> torch.Tensor | None:
        """The permutation of this epoch, or None for the identity order (no shuffling)."""
        if not self.shuffle:
            return None
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return torch.randperm(self.n, generator=g)


class TensorBatchLoader:
    """Mini-batches sliced straight from in-memory tensors (all with the same first dimension).

    batch_size is per process. With `world_size` W, global batch g holds the samples
    [g*W*B, (g+1)*W*B) of the epoch's order and rank r takes the r-th of W equal parts, so W
    processes with batch B see, together, exactly the batches one process sees with batch
    W*B. A short last global batch is split as evenly as possible (dropped with
    `drop_last`, or when it has fewer samples than ranks).

    Resumable: `state_dict()` records the epoch and how many batches of it were handed out;
    after `load_state_dict` the next iteration of that epoch skips them.

    `steps_per_execution` k groups the batches into chunks of k (lists of batch tuples);
    `len()` then counts chunks. A chunk is handed out whole; `unused(n)` gives the last n
    batches of the current chunk back (training stopped inside it, at `max_steps`), so the
    position saved in a checkpoint is always the batches actually trained on.
    """

    def __init__(
        self,
        tensors: tuple[torch.Tensor, ...],
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        steps_per_execution: int = 1,
    ) -> None:
        if not tensors:
            raise ValueError("tensors must hold at least one tensor, got none")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"tensors must have the same number of rows, got shapes {shapes}")
        batch_size = check_count("batch_size", batch_size)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.steps_per_execution = check_count("steps_per_execution", steps_per_execution)
        self.tensors = tuple(tensors)
        self.n = n
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        # Named `sampler` so Lightning's `_set_sampler_epoch` finds it and calls set_epoch;
        # `batch_sampler` is None as in a DataLoader built without one (Lightning reads both).
        self.sampler = EpochSampler(n, shuffle, seed)
        self.batch_sampler = None
        self._global = batch_size * world_size
        self._epoch_started: int | None = None
        self._batches_done = 0
        self._resume: dict | None = None

    @property
    def n_batches(self) -> int:
        """Batches per epoch (per process)."""
        full, rest = divmod(self.n, self._global)
        keep_rest = rest >= self.world_size and not self.drop_last
        return full + int(keep_rest)

    def __len__(self) -> int:
        """Items per epoch: batches, or chunks of `steps_per_execution` batches."""
        return -(-self.n_batches // self.steps_per_execution)

    def _bounds(self, g: int) -> tuple[int, int]:
        start = g * self._global
        size = min(self._global, self.n - start)
        # This rank's share of global batch g: equal parts, the remainder spread over ranks.
        lo = start + self.rank * size // self.world_size
        hi = start + (self.rank + 1) * size // self.world_size
        return lo, hi

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        # A generator: nothing below runs until the first batch is requested, i.e. after
        # Lightning has called set_epoch (and load_state_dict when resuming).
        epoch = self.sampler.epoch
        skip = 0
        if self._resume is not None:
            if self._resume["epoch"] == epoch:
                skip = self._resume["batches_done"]
            self._resume = None
        order = self.sampler.order()
        # One gather per epoch; every batch after it is a view (no copy, no collate).
        data = self.tensors if order is None else tuple(t[order.to(t.device)] for t in self.tensors)
        self._epoch_started = epoch
        self._batches_done = skip
        n, k = self.n_batches, self.steps_per_execution
        if k == 1:
            for g in range(skip, n):
                lo, hi = self._bounds(g)
                self._batches_done = g + 1
                yield tuple(t[lo:hi] for t in data)
            return
        for first in range(skip, n, k):
            last = min(first + k, n)
            chunk = []
            for g in range(first, last):
                lo, hi = self._bounds(g)
                chunk.append(tuple(t[lo:hi] for t in data))
            self._batches_done = last
            yield chunk

    @property
    def batches_done(self) -> int:
        """Batches of the running epoch handed out so far (the position a checkpoint saves)."""
        return self._batches_done

    def unused(self, n: int) -> None:
        """The last `n` batches handed out were not trained on (the run stopped inside a
        chunk): the saved position excludes them, so a resume trains on them."""
        self._batches_done -= n

    def state_dict(self) -> dict:
        return {
            "epoch": self._epoch_started if self._epoch_started is not None else self.sampler.epoch,
            "batches_done": self._batches_done,
            "n": self.n,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
            "seed": self.sampler.seed,
            "shuffle": self.sampler.shuffle,
            "steps_per_execution": self.steps_per_execution,
        }

    def load_state_dict(self, state: dict) -> None:
        mine = self.state_dict()
        # A checkpoint without the key was written with one batch per step.
        state = {"steps_per_execution": 1, **state}
        for key in ("n", "batch_size", "world_size", "seed", "shuffle", "steps_per_execution"):
            if state.get(key) != mine[key]:
                raise DataError(
                    f"cannot resume the batch order: the checkpoint has {key}={state.get(key)!r} "
                    f"but this run has {key}={mine[key]!r}; resume with the same data and settings"
                )
        self._resume = {"epoch": int(state["epoch"]), "batches_done": int(state["batches_done"])}

"""What makes a checkpoint safe to resume from: atomic files and the random state.

Imports torch, numpy and lightning; never scratch.

- `AtomicCheckpointIO`: a `CheckpointIO` that writes the checkpoint to a temporary file in
  the target directory, fsyncs it and `os.replace`s it over the target, so a crash (even
  SIGKILL) mid-write leaves the previous file intact and never a truncated one.
- `ExactResume`: a callback whose state (saved in every checkpoint) is the global random
  state of torch, CUDA, NumPy and Python, put back right before the first training batch
  after a resume, so dropout masks after a resume are those of an uninterrupted run; it
  also repairs Lightning's epoch counters after a resume (see the class). The batch order
  is resumed by the data loader itself (`lightning_app.data.TensorBatchLoader.state_dict`),
  which Lightning's fit loop saves.

All values are tensors or plain Python types, so checkpoints load with
`torch.load(weights_only=True)` (torch's default).
"""

from __future__ import annotations

import os
import random
import secrets
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

__all__ = ["AtomicCheckpointIO", "ExactResume", "collect_rng_state", "restore_rng_state"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save into a temp file beside the target, fsync, then os.replace (atomic on POSIX)."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(
                f"storage_options is not supported by {type(self).__name__}, "
                f"got {storage_options!r}"
            )
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same directory (so os.replace is a rename on one filesystem), a name no one else
        # uses, and mode 0o666 filtered by the umask like any other file the user writes.
        tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        # Make the rename itself durable (the directory entry), where the OS allows it.
        try:
            dir_fd = os.open(target.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)


def collect_rng_state() -> dict[str, Any]:
    """The global random state of torch (CPU and CUDA), NumPy and Python, as tensors/lists."""
    # The legacy global generator is exactly the state to save: code under training may use it.
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()  # noqa: NPY002
    py_version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": np_name,
            "keys": torch.from_numpy(np_keys.astype(np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "cached_gaussian": float(np_gauss),
        },
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `collect_rng_state`."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(  # noqa: NPY002 (the legacy global generator, see above)
        (n["name"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


class ExactResume(pl.Callback):
    """What Lightning leaves out for a bitwise-exact resume: the random state, and one repair.

    1. Random state. Its `state_dict` (saved in every checkpoint) is the global random state;
       it is put back right before the first training batch after a resume, not at load
       time, so whatever the resumed process draws in between (building the model, sanity
       checks) does not matter: the first batch after a resume sees exactly the state the
       interrupted run saved after its last checkpointed batch.
    2. Epoch counters. A checkpoint written on the last batch of an epoch is resumed by
       Lightning 2.6 as "mid-epoch"; it then runs the next epoch without marking it ready
       and started (`fit_loop.epoch_progress`), so a checkpoint written during that epoch
       looks like "epoch not begun" and a second resume from it ignores the data loader's
       position and repeats the epoch. At the first batch after a resume this callback marks
       the running epoch as ready and started when Lightning did not, which is what an
       uninterrupted run's counters say at that point.

    Single process: under DDP each rank would need its own random state.
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return collect_rng_state()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._pending is None:
            return
        restore_rng_state(self._pending)
        self._pending = None
        epochs = trainer.fit_loop.epoch_progress
        # Inside a batch the running epoch is ready and started but not processed yet.
        if epochs.current.ready == epochs.current.processed:
            epochs.increment_ready()
            epochs.increment_started()

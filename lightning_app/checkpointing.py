"""What makes a checkpoint safe to resume from: atomic files, the random state, and a
`last.ckpt` that always holds the final weights.

Imports torch, numpy and lightning; never scratch.

- `AtomicCheckpointIO`: a `CheckpointIO` that writes the checkpoint to a temporary file in
  the target directory, fsyncs it and `os.replace`s it over the target, so a crash (even
  SIGKILL) mid-write leaves the previous file intact and never a truncated one.
- `RunCheckpoint`: Lightning's `ModelCheckpoint` whose `last.ckpt` holds the weights fit
  ended with: normally, by Ctrl-C (it stops at the end of the running step and saves), or
  by the NaN guard (the last finite weights); nothing under `fast_dev_run`; files are
  replaced in place, never versioned (`last-v1.ckpt`).
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
import signal
import threading
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_info

from lightning_app.callbacks import NonFiniteLossError, all_finite, skip_empty_batch_hooks

__all__ = [
    "AtomicCheckpointIO",
    "ExactResume",
    "RunCheckpoint",
    "collect_rng_state",
    "restore_rng_state",
]


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
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.filename is None:  # a full disk says ENOSPC, not where: name the file
                raise OSError(exc.errno, exc.strerror, str(target)) from exc
            raise
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


@skip_empty_batch_hooks
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


@skip_empty_batch_hooks
class RunCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint` (same arguments; defaults `save_last=True`,
    `enable_version_counter=False`) whose `last.ckpt` always holds the weights fit ended with.

    - Normal end (max_epochs, max_steps, early stopping): `last.ckpt` is written at the end
      unless it already holds the final step, whatever `every_n_epochs` or
      `every_n_train_steps` say (Lightning's own writes it only if no checkpoint was
      written at all).
    - Ctrl-C (single process): the first one lets the running step finish, writes
      `last.ckpt` at that step boundary (a point an exact resume can start from) and stops
      with KeyboardInterrupt; `interrupted_at` is the step. A second Ctrl-C stops at once.
    - The NaN guard (`NonFiniteLossError`, raised before the bad step's update): `last.ckpt`
      gets the weights as they are, the last finite ones; if they are not finite, the last
      checkpoint on disk stays (it is always finite).
    - `fast_dev_run`: nothing is written (Lightning 2.6 writes `./checkpoints/last.ckpt`).
    - A file of the same name is replaced, not versioned: a resumed run rewrites the
      checkpoint of a step it repeats instead of leaving `epoch=9-step=410-v1.ckpt` beside it.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("save_last", True)
        kwargs.setdefault("enable_version_counter", False)
        super().__init__(**kwargs)
        self.last_step: int | None = None  # the global step that last.ckpt holds
        self.resuming = False  # set by the CLI when a fit continues in this run's folder
        self._evaluating = False
        self.interrupted_at: int | None = None
        self._stop_requested = False
        self._previous_sigint = None

    @property
    def state_key(self) -> str:
        # Lightning's own key, so checkpoints of plain ModelCheckpoint runs resume here too.
        key = super().state_key
        return "ModelCheckpoint" + key.removeprefix(type(self).__qualname__)

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._evaluating = getattr(stage, "value", stage) != "fit"
        with warnings.catch_warnings():
            if self.resuming:  # continuing in its own folder: of course it is not empty
                warnings.filterwarnings("ignore", message=r"Checkpoint directory .* not empty")
            super().setup(trainer, pl_module, stage)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self._evaluating:
            # test/validate/predict save nothing: where the checkpoint's run folder was when
            # it was written (moved since, or no logger now) does not matter; no warning.
            state_dict = {**state_dict, "dirpath": self.dirpath}
        super().load_state_dict(state_dict)

    def _save_last_checkpoint(self, trainer, monitor_candidates) -> None:
        super()._save_last_checkpoint(trainer, monitor_candidates)
        if self.save_last:
            self.last_step = trainer.global_step

    def save_final(self, trainer, pl_module) -> bool:
        """Write `last.ckpt` now unless it already holds this step; False if nothing could be
        written (no step trained, no `save_last`, fast_dev_run, non-finite weights)."""
        if (
            not self.save_last
            or trainer.fast_dev_run
            or trainer.sanity_checking
            or trainer.state.fn != TrainerFn.FITTING
            or trainer.global_step == 0
        ):
            return False
        if self.last_step == trainer.global_step:
            return True
        if not all_finite(pl_module):
            return False
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        return True

    # -- Ctrl-C: stop at a step boundary
    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        self._stop_requested = False
        self.interrupted_at = None
        # Only the main thread may set handlers; under DDP every rank would stop at its own
        # step, so multi-process runs keep Lightning's handling.
        # A process started with SIGINT ignored (nohup, a background job) keeps ignoring it.
        if (
            threading.current_thread() is threading.main_thread()
            and trainer.world_size == 1
            and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        ):
            self._previous_sigint = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame) -> None:
        self._stop_requested = True
        self._restore_sigint()  # a second Ctrl-C: KeyboardInterrupt at once
        rank_zero_info("\nCtrl-C: stopping after this step and saving last.ckpt "
                       "(press Ctrl-C again to stop at once)")

    def _restore_sigint(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if self._stop_requested:
            self._stop_requested = False
            self.save_final(trainer, pl_module)
            self.interrupted_at = trainer.global_step
            raise KeyboardInterrupt

    # -- the end of fit
    def on_train_end(self, trainer, pl_module) -> None:
        # Replaces Lightning's on_train_end (which writes under fast_dev_run too).
        self._restore_sigint()
        self.save_final(trainer, pl_module)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self._restore_sigint()
        if isinstance(exception, NonFiniteLossError):
            self.save_final(trainer, pl_module)
        super().on_exception(trainer, pl_module, exception)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        self._restore_sigint()
        super().teardown(trainer, pl_module, stage)

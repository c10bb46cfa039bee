"""The app's console progress: Lightning's tqdm bar showing the numbers that matter, and one
summary line per N epochs instead of bar frames when the output is not a terminal.

Imports lightning (its TQDMProgressBar) and the app's tag names (lightning_app/board.py);
no torch maths.

- In a terminal: Lightning's bar, whose postfix is the running mean training loss of the
  epoch (`loss`) and the last validation loss and metric (`val_loss`, `val_acc` or
  `val_mse`: short console labels of TensorBoard's `Loss/val`, `Accuracy/val`, `MSE/val`),
  instead of `v_num=0`.
- Not a terminal (a log file, a pipe, a notebook's captured stdout, CI): no bar frames at all
  (tqdm rewrites a bar line by line: hundreds of KB per run in a file), but one line every
  `summary_every_n_epochs` epochs and after the last one:
  `epoch 10/40: loss 0.1234, val_loss 0.1012, val_acc 0.9722 (2.1 s)`.

`metric_value` reads a logged metric by split and name under its TensorBoard tag
(`board.loss_tag`, `board.metric_tag`).
"""

from __future__ import annotations

import math
import sys
import time

from lightning.pytorch.callbacks import TQDMProgressBar

from lightning_app import board
from lightning_app.callbacks import skip_empty_batch_hooks
from lightning_app.checks import check_count

__all__ = ["AppProgressBar", "metric_value", "epoch_metrics"]

# The metrics a line shows, in this order (each under whichever name it is logged).
_SHOWN = (("val", "loss"), ("val", "acc"), ("val", "mse"))


def metric_value(metrics: dict, stage: str, name: str) -> float | None:
    """The logged `name` ('loss', 'acc', 'mse') of split `stage` ('train', 'val', 'test')
    as a float (its tag: `Loss/val`, `Accuracy/val`, ...); None if it is not there."""
    tag = board.loss_tag(stage) if name == "loss" else board.metric_tag(name, stage)
    if tag not in metrics:
        return None
    value = metrics[tag]
    return float(value.item() if hasattr(value, "item") else value)


def _running_train_loss(pl_module) -> float | None:
    """The mean training loss of the epoch so far, from the module's in-place sums (one host
    read, at a refresh only); None for a module that does not keep them."""
    acc = getattr(pl_module, "_train_loss", None)
    if not isinstance(acc, dict) or not acc.get("n") or acc.get("sum") is None:
        return None
    return float(acc["sum"]) / acc["n"]


def epoch_metrics(trainer, pl_module) -> dict[str, float]:
    """{'loss': running training loss, 'val_loss': ..., 'val_acc' or 'val_mse': ...}: the
    numbers the bar and the summary lines show (those that exist so far)."""
    out: dict[str, float] = {}
    loss = _running_train_loss(pl_module)
    if loss is None:
        loss = metric_value(trainer.callback_metrics, "train", "loss")
    if loss is not None:
        out["loss"] = loss
    for stage, name in _SHOWN:
        value = metric_value(trainer.callback_metrics, stage, name)
        if value is not None:
            out[f"{stage}_{name}"] = value
    return out


@skip_empty_batch_hooks
class AppProgressBar(TQDMProgressBar):
    """Lightning's TQDMProgressBar with the training loss and the last validation metric, and
    without bar frames when stdout is not a terminal (one summary line per N epochs then).

    refresh_rate            steps between bar refreshes (Lightning's argument)
    summary_every_n_epochs  epochs between summary lines when stdout is not a terminal
                            (default: about ten lines per run; the last epoch always has one)
    """

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False,
                 summary_every_n_epochs: int | None = None) -> None:
        super().__init__(refresh_rate=refresh_rate, process_position=process_position,
                         leave=leave)
        if summary_every_n_epochs is not None:
            check_count("summary_every_n_epochs", summary_every_n_epochs)
        self.summary_every_n_epochs = summary_every_n_epochs
        self._terminal = True
        self._started = 0.0
        self._last_line_epoch = -1

    # -- terminal or not: decided per run, on the stream the bars would write to
    def setup(self, trainer, pl_module, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        isatty = getattr(sys.stdout, "isatty", None)
        self._terminal = bool(isatty and isatty())
        if not self._terminal:
            self.disable()  # every bar of this run is a disabled tqdm: no frames written

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # Off a terminal every bar is disabled: no postfix to compute (Lightning's would read
        # the trainer's progress-bar metrics and the running loss every `refresh_rate` steps).
        if self._terminal:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def get_metrics(self, trainer, pl_module) -> dict:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)  # the run folder is printed once at the start instead
        return {**items, **epoch_metrics(trainer, pl_module)}

    # -- summary lines (not a terminal)
    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        self._started = time.monotonic()
        self._last_line_epoch = -1

    def _every(self, trainer) -> int:
        if self.summary_every_n_epochs is not None:
            return self.summary_every_n_epochs
        max_epochs = trainer.max_epochs
        if max_epochs is None or max_epochs < 1:
            return 1
        return max(1, math.ceil(max_epochs / 10))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._terminal or not trainer.is_global_zero:
            return
        done = trainer.current_epoch + 1
        if done % self._every(trainer) == 0 or done == trainer.max_epochs:
            self._summary_line(trainer, pl_module, done)

    def on_train_end(self, trainer, pl_module) -> None:
        super().on_train_end(trainer, pl_module)
        # Stopped early (early stopping, max_steps, a time limit): the last epoch's line.
        if not self._terminal and trainer.is_global_zero:
            done = trainer.current_epoch  # already counted as finished here
            if done > self._last_line_epoch and done > 0:
                self._summary_line(trainer, pl_module, done)

    def _summary_line(self, trainer, pl_module, done: int) -> None:
        self._last_line_epoch = done
        total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
        shown = ", ".join(f"{k} {v:.4f}" for k, v in epoch_metrics(trainer, pl_module).items())
        of = f"/{total}" if total else ""
        elapsed = time.monotonic() - self._started
        print(f"epoch {done}{of}: {shown} ({elapsed:.1f} s)", flush=True)

"""The shipped configs' logger: Lightning's TensorBoardLogger writing the scalars of one step
as one TensorBoard event.

Imports lightning (its TensorBoardLogger) and the app's tag writer (lightning_app/board.py).

Each event is one hand-off to TensorBoard's writer thread, about 150 us of CPU on the training
process, and the app logs several values per step and per epoch (the epoch means, the step
loss with the gradient norms): one event each instead of one per value.
"""

from __future__ import annotations

from lightning.fabric.utilities.logger import _add_prefix
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from torch import Tensor

from lightning_app import board

__all__ = ["AppTensorBoardLogger"]


class AppTensorBoardLogger(TensorBoardLogger):
    """Lightning's `TensorBoardLogger` (same arguments, same files) that writes the scalars
    logged for one step as ONE event: those of one `log_metrics` call, and those of the next
    calls for the same step (the step loss and the gradient norms, logged by the module and
    a callback at the same step). They are written when a call for another step comes, and
    at `save` (Lightning calls it after each of its own log calls, and at checkpoints) and
    `finalize` (the end of a run, also a failed one)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending: dict[str, float] = {}
        self._pending_step: int | None = None

    @rank_zero_only
    def log_metrics(self, metrics, step: int | None = None) -> None:
        values = {k: v.item() if isinstance(v, Tensor) else v for k, v in
                  _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR).items()}
        scalars = {k: v for k, v in values.items() if isinstance(v, int | float)
                   and not isinstance(v, bool)}
        if step != self._pending_step or len(scalars) < len(values):
            self.write_pending()
        if len(scalars) < len(values):  # a dict of scalars, or something to refuse: Lightning's
            super().log_metrics(metrics, step)
            return
        self._pending.update(scalars)
        self._pending_step = step

    def write_pending(self) -> None:
        """Write the scalars held for the current step (one event)."""
        if self._pending:
            board.write_scalars(self.experiment, self._pending, self._pending_step)
        self._pending = {}

    @rank_zero_only
    def save(self) -> None:
        self.write_pending()
        super().save()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self.write_pending()
        super().finalize(status)

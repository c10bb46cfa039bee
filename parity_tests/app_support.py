"""Test support for the app's tests (not shipped with the app): crash and Ctrl-C at a given
step, a small digits config, and running the command line in this process."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys

import lightning.pytorch as pl
import torch
import yaml

from lightning_app.cli import main


def _step(step: int) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be an integer >= 0, got {step!r}")
    return step


class KillAtStep(pl.Callback):
    """Simulates a crash: SIGKILLs this process right before optimizer step `step` runs.

    No handler, no flush, no checkpoint on the way out: exactly what a power cut or the OOM
    killer does. Used from a config as `parity_tests.app_support.KillAtStep`.
    """

    def __init__(self, step: int) -> None:
        self.step = _step(step)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class CtrlCAtStep(pl.Callback):
    """Sends this process SIGINT (what Ctrl-C in a terminal does) while optimizer step `step`
    runs, i.e. in the middle of a step."""

    def __init__(self, step: int) -> None:
        self.step = _step(step)

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


class RecordTrainedBatches(pl.Callback):
    """The batch of every optimizer step, in order, as (x, y) tensors (NumPy arrays with
    `numpy=True`). A Lightning step may hand over a chunk of several batches (the data
    module's `steps_per_execution`): each is recorded, up to the steps that trained."""

    def __init__(self, numpy: bool = False) -> None:
        self.numpy = numpy
        self.batches: list[tuple] = []
        self._pending: tuple[int, list] | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        chunk = batch if isinstance(batch, list) else [batch]
        copies = [tuple(t.detach().clone() for t in b) for b in chunk]
        if self.numpy:
            copies = [tuple(t.numpy() for t in b) for b in copies]
        self._pending = (trainer.global_step, copies)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        start, copies = self._pending
        self.batches += copies[: trainer.global_step - start]


def digits_config(save_dir, name: str, *, seed: int, model: dict, checkpoint: dict,
                  **trainer) -> str:
    """YAML of a small run on the digits: an MLP with Adam and an exponential schedule (plus
    `model`'s settings), no progress bar, no test after fit, logged to `save_dir`/`name`."""
    config = {
        "seed_everything": seed,
        "num_threads": 1,
        "test_after_fit": False,
        "trainer": {
            "accelerator": "cpu", "devices": 1, "max_epochs": 3, "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {"class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                       "init_args": {"save_dir": str(save_dir), "name": name}},
            **trainer,
        },
        "model": {"class_path": "lightning_app.models.MLPModule",
                  "init_args": {"optimizer": "adam", "lr": 0.01, "scheduler": "exponential",
                                "scheduler_args": {"k": 0.1}, **model}},
        "data": {"class_path": "lightning_app.data.DigitsDataModule",
                 "init_args": {"batch_size": 64}},
        "checkpoint": checkpoint,
    }
    return yaml.safe_dump(config, sort_keys=False)


@contextlib.contextmanager
def restored_process_state():
    """Undo what a CLI run changes process-wide (torch threads, PL_GLOBAL_SEED, SIGINT), and
    hide pytest's own arguments from LightningCLI (which warns when it sees both)."""
    threads = torch.get_num_threads()
    env = dict(os.environ)
    sigint = signal.getsignal(signal.SIGINT)
    argv = sys.argv
    sys.argv = argv[:1]
    try:
        yield
    finally:
        sys.argv = argv
        torch.set_num_threads(threads)
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGINT, sigint)


def run_cli(args: list[str]) -> tuple[str, str]:
    """main(args) in this process with stdout/stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with restored_process_state(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(
        err
    ):
        main(args)
    return out.getvalue(), err.getvalue()


def run_cli_failing(args: list[str]) -> tuple[int, str, str]:
    """main(args) expected to exit: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with restored_process_state(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(
        err
    ):
        try:
            main(args)
        except SystemExit as exc:
            return exc.code, out.getvalue(), err.getvalue()
    raise AssertionError(f"main({args}) did not exit; stdout:\n{out.getvalue()[-2000:]}")

"""Scale-out on CPU: two DDP processes (gloo) with batch B each train the same network as one
process with batch 2B, because each global batch is split between the ranks by the app's
loader and DDP averages the two halves' mean gradients."""

from __future__ import annotations

import copy

import lightning.pytorch as pl
import pytest
import torch

from lightning_app.data import DigitsDataModule
from lightning_app.models import MLPModule
from parity_tests.helpers import F64, assert_close

STEPS = 8
B = 16


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _trainer(**kwargs) -> pl.Trainer:
    return pl.Trainer(
        accelerator="cpu", precision="64-true", max_steps=STEPS, limit_val_batches=0,
        num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, **kwargs,
    )


@pytest.mark.slow
def test_two_ddp_processes_with_batch_b_equal_one_process_with_batch_2b(monkeypatch):
    # One thread per process (the spawned ranks read OMP_NUM_THREADS): two processes share
    # the machine's cores.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.manual_seed(0)
    # SGD with momentum: the update depends on every earlier gradient, so any difference in
    # a single step's batch or averaging would carry to the end. No dropout/batch norm: those
    # are per-process by design (masks and batch statistics of each half).
    one = MLPModule(layer_sizes=(64, 32, 10), optimizer="momentum", lr=0.05).double()
    two = copy.deepcopy(one)
    start = [p.detach().clone() for p in one.parameters()]

    _trainer(devices=1).fit(one, datamodule=DigitsDataModule(batch_size=2 * B, seed=1))
    # ddp_spawn: two fresh processes (gloo on CPU, a free port chosen by Lightning); the
    # trained weights come back into `two` in this process.
    _trainer(devices=2, strategy="ddp_spawn").fit(
        two, datamodule=DigitsDataModule(batch_size=B, seed=1)
    )
    moved = max(float((p - s).abs().max()) for p, s in zip(one.parameters(), start,
                                                              strict=True))
    assert moved > 1e-3
    for a, b in zip(one.parameters(), two.parameters(), strict=True):
        # float64: the two sides only differ in summation order (mean of two half-batch
        # means vs one mean over 2B rows).
        assert_close(b, a, **F64)

"""The app on a CUDA device: data resident on the GPU, the same training as on the CPU, and the
command line with `--trainer.accelerator gpu`. Skipped cleanly where there is no CUDA device."""

from __future__ import annotations

import copy
import re

import lightning.pytorch as pl
import pytest
import torch

from lightning_app.data import DigitsDataModule
from lightning_app.models import MLPModule
from parity_tests.helpers import assert_close
from parity_tests.test_app_cli import run_cli

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


class BatchDevices(pl.Callback):
    def __init__(self) -> None:
        self.devices: set[str] = set()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.devices.update(t.device.type for t in batch)


def _fit(model, accelerator: str, **data_kwargs) -> BatchDevices:
    seen = BatchDevices()
    pl.Trainer(
        accelerator=accelerator, devices=1, precision="64-true", max_steps=10,
        limit_val_batches=0, num_sanity_val_steps=0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[seen],
    ).fit(model, datamodule=DigitsDataModule(batch_size=32, seed=1, **data_kwargs))
    return seen


def test_data_on_device_keeps_every_split_and_batch_on_the_gpu():
    model = MLPModule(layer_sizes=(64, 32, 10))
    dm = DigitsDataModule(batch_size=32, data_on_device=True)
    seen = BatchDevices()
    pl.Trainer(accelerator="gpu", devices=1, max_steps=5, logger=False,
               enable_checkpointing=False, enable_progress_bar=False,
               callbacks=[seen]).fit(model, datamodule=dm)
    assert seen.devices == {"cuda"}
    assert all(t.device.type == "cuda" for name in ("train", "val", "test")
               for t in dm.split(name))
    assert all(p.device.type == "cuda" for p in model.parameters())


def test_gpu_training_equals_cpu_training_in_float64():
    torch.manual_seed(0)
    cpu = MLPModule(layer_sizes=(64, 32, 10), optimizer="momentum", lr=0.05).double()
    gpu = copy.deepcopy(cpu)
    assert _fit(cpu, "cpu").devices == {"cpu"}
    assert _fit(gpu, "gpu", data_on_device=True).devices == {"cuda"}
    for a, b in zip(cpu.parameters(), gpu.parameters(), strict=True):
        # cuBLAS sums in another order than the CPU BLAS: float64 rounding differences of
        # ~1e-16 per operation, amplified a little by 10 steps of momentum.
        assert_close(b.cpu(), a, rtol=1e-9, atol=1e-11)


def test_cli_trains_the_default_config_on_the_gpu(tmp_path):
    out, _ = run_cli(["fit", "--config", "mlp_digits", "--trainer.accelerator", "gpu",
                      "--trainer.max_epochs", "3",
                      "--trainer.logger.init_args.save_dir", str(tmp_path)])
    assert float(re.search(r"final test acc: (\d\.\d+)", out).group(1)) > 0.85

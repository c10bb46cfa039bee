"""Every shipped callback with every head (classification, binary, regression, autoencoder):
a callback that applies draws its figure; one that does not says so once in the log and
training goes on; a figure that fails logs the error and training goes on; last.ckpt holds the
final step either way."""

from __future__ import annotations

import logging

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import LearningRateMonitor, TQDMProgressBar
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_app.callbacks import (
    CodeTableFigure,
    ConfusionMatrixFigure,
    DecisionBoundaryFigure,
    FiniteLossGuard,
    ReconstructionFigure,
    WeightsAndGradients,
)
from lightning_app.checkpointing import ExactResume, RunCheckpoint
from lightning_app.data import NpzDataModule
from lightning_app.models import AutoencoderModule, MLPModule
from parity_tests.app_support import run_cli

N, EPOCHS, BATCH = 60, 2, 16
STEPS = EPOCHS * 3  # 60 rows: 12 test, 5 validation, 43 training rows in 3 batches of 16

FIGURES = {  # callback -> (its TensorBoard tag, the heads it applies to)
    ConfusionMatrixFigure: ("figures/confusion_matrix", {"multiclass", "binary"}),
    DecisionBoundaryFigure: ("figures/decision_boundary", {"multiclass", "binary"}),
    ReconstructionFigure: ("figures/reconstructions", {"autoencoder"}),
    CodeTableFigure: ("figures/hidden_codes", {"autoencoder"}),
}
HEADS = ["multiclass", "binary", "regression", "autoencoder"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(tmp_path, head: str, rng) -> NpzDataModule:
    x = rng.uniform(0, 1, size=(N, 2))  # 2-D inputs: the decision boundary applies
    y = {
        "multiclass": (x[:, 0] * 3).astype(int),
        "binary": (x[:, 0] + x[:, 1] > 1).astype(int),
        "regression": x[:, 0] - 2 * x[:, 1],
        "autoencoder": np.zeros(N, dtype=int),
    }[head]
    np.savez(tmp_path / "data.npz", x=x, y=y)
    return NpzDataModule(str(tmp_path / "data.npz"), batch_size=BATCH)


def _model(head: str) -> pl.LightningModule:
    if head == "autoencoder":
        return AutoencoderModule(sizes=(2, 3, 2), lr=0.01)
    out = {"multiclass": 3, "binary": 1, "regression": 1}[head]
    return MLPModule(layer_sizes=(2, 8, out), head=head, lr=0.01)


def _callbacks() -> list[pl.Callback]:
    return [
        ExactResume(), FiniteLossGuard(), LearningRateMonitor(), TQDMProgressBar(),
        WeightsAndGradients(histogram_every_n_epochs=1, norm_every_n_steps=1),
        ConfusionMatrixFigure(every_n_epochs=1), DecisionBoundaryFigure(1, resolution=20),
        ReconstructionFigure(every_n_epochs=1, n_images=4), CodeTableFigure(every_n_epochs=1),
        RunCheckpoint(every_n_epochs=1),
    ]


def _fit(tmp_path, head: str, rng) -> pl.Trainer:
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=EPOCHS, num_sanity_val_steps=0,
        log_every_n_steps=1, enable_model_summary=False, callbacks=_callbacks(),
        logger=TensorBoardLogger(tmp_path, name="", version="run"),
    )
    trainer.fit(_model(head), datamodule=_data(tmp_path, head, rng))
    return trainer


def _tags(tmp_path) -> dict[str, list[str]]:
    ea = EventAccumulator(str(tmp_path / "run"), size_guidance={"images": 0, "histograms": 0})
    ea.Reload()
    return ea.Tags()


@pytest.mark.slow
@pytest.mark.parametrize("head", HEADS)
def test_every_shipped_callback_serves_every_head(head, tmp_path, rng, caplog):
    caplog.set_level(logging.INFO)
    trainer = _fit(tmp_path, head, rng)
    assert trainer.global_step == STEPS  # trained to the end
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == STEPS
    tags = _tags(tmp_path)
    assert any(t.startswith("weights/") for t in tags["histograms"])
    assert any(t.startswith("gradients/") for t in tags["histograms"])
    assert "diagnostics/grad_norm/total" in tags["scalars"]
    for callback, (tag, heads) in FIGURES.items():
        skipped = [r.getMessage() for r in caplog.records
                   if r.getMessage().startswith(f"{callback.__name__}: not drawn")]
        if head in heads:
            assert tag in tags["images"], callback.__name__
            assert skipped == []
        else:
            assert tag not in tags["images"], callback.__name__
            assert len(skipped) == 1, (callback.__name__, skipped)  # said once, not per epoch


def test_a_figure_that_fails_is_logged_and_training_goes_on(tmp_path, rng, monkeypatch):
    def broken(self, writer, step, pl_module, x, y):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(ConfusionMatrixFigure, "render", broken)
    with pytest.warns(UserWarning, match=r"ConfusionMatrixFigure at step \d+ failed "
                                         r"\(RuntimeError: the renderer broke\); training goes on"):
        trainer = _fit(tmp_path, "multiclass", rng)
    assert trainer.global_step == STEPS
    tags = _tags(tmp_path)
    assert "figures/decision_boundary" in tags["images"]  # the others still drew
    assert "figures/confusion_matrix" not in tags["images"]


def test_regression_data_through_the_digits_config_keeps_its_trained_weights(
    tmp_path, rng, caplog
):
    # The command: mlp_digits (a confusion matrix at the end of fit) on a regression.
    caplog.set_level(logging.INFO)
    x = rng.normal(size=(300, 5))
    np.savez(tmp_path / "reg.npz", x=x, y=x @ np.ones(5))
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--data", "lightning_app.data.NpzDataModule",
        "--data.path", str(tmp_path / "reg.npz"), "--model.init_args.layer_sizes", "[5, 32, 1]",
        "--model.init_args.head", "regression", "--trainer.max_epochs", "2",
        "--trainer.logger.init_args.save_dir", str(tmp_path / "logs"),
    ])
    assert "final test mse: " in out
    # The run is named after the data file, not after the config it borrowed.
    last = tmp_path / "logs" / "reg" / "version_0" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 2 * 7  # 7 batches of 32
    notes = [r.getMessage() for r in caplog.records if "not drawn" in r.getMessage()]
    assert notes == ["ConfusionMatrixFigure: not drawn for MLPModule (a regression has no "
                     "classes)"]

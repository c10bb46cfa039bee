"""The app's LightningModules train what torchref defines: every MLP head (B4), early stopping
on the validation loss (H1), ensembles (H2), and the autoencoders (I1-I3, C9) and the stacked
pipeline (I4) step for step against torchref's own plain-PyTorch training loops."""

from __future__ import annotations

import copy
import inspect

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping

from lightning_app.checks import InputError
from lightning_app.data import DigitsDataModule, NpzDataModule, XORDataModule
from lightning_app.models import (
    AutoencoderModule,
    EnsembleModule,
    MLPModule,
    OptimizerSpec,
    StackedAutoencoderModule,
)
from parity_tests.app_support import RecordTrainedBatches
from parity_tests.helpers import F64, assert_close
from torchref import autoencoders as tae

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _trainer(**kwargs) -> pl.Trainer:
    defaults = dict(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
    )
    defaults.update(kwargs)
    return pl.Trainer(**defaults)


class History(pl.Callback):
    def __init__(self, key: str) -> None:
        self.key, self.values = key, []

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.values.append(float(trainer.callback_metrics[self.key]))


# ---- B4: every head ---------------------------------------------------------------------------


@pytest.mark.catalog("B4")
def test_regression_head_learns_a_linear_target(tmp_path, rng):
    x = rng.normal(size=(400, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.05 * rng.normal(size=400)
    np.savez(tmp_path / "lin.npz", x=x, y=y)
    model = MLPModule(layer_sizes=(3, 16, 1), head="regression", activation="tanh", lr=0.02)
    trainer = _trainer(max_epochs=30)
    dm = NpzDataModule(str(tmp_path / "lin.npz"), batch_size=32)
    trainer.fit(model, datamodule=dm)
    mse = trainer.test(model, datamodule=dm, verbose=False)[0]["MSE/test"]
    # Against predicting the mean (MSE = var(y), about 6.5): at least 50 times better.
    assert mse < float(np.var(y)) / 50


@pytest.mark.catalog("B4")
def test_binary_head_separates_xor_with_one_hidden_layer():
    model = MLPModule(layer_sizes=(2, 4, 1), head="binary", activation="tanh", init="xavier",
                      lr=0.05)
    dm = XORDataModule(copies=25, noise=0.1, batch_size=20, val_fraction=0.2,
                       test_fraction=0.2, seed=0)
    trainer = _trainer(max_epochs=60, check_val_every_n_epoch=20)
    trainer.fit(model, datamodule=dm)
    assert trainer.test(model, datamodule=dm, verbose=False)[0]["Accuracy/test"] == 1.0


# ---- H1: early stopping when the validation loss turns up --------------------------------------


@pytest.mark.catalog("H1")
def test_early_stopping_stops_patience_epochs_after_the_validation_minimum(tmp_path, rng):
    # Random labels: the network can only memorize, so the validation loss turns up early.
    np.savez(tmp_path / "noise.npz", x=rng.normal(size=(240, 20)), y=rng.integers(0, 4, 240))
    model = MLPModule(layer_sizes=(20, 128, 4), lr=0.01)
    history = History("Loss/val")
    patience = 3
    trainer = _trainer(max_epochs=60, callbacks=[
        history, EarlyStopping(monitor="Loss/val", patience=patience, mode="min"),
    ])
    trainer.fit(model, datamodule=NpzDataModule(str(tmp_path / "noise.npz"), batch_size=32,
                                                val_fraction=0.25, test_fraction=0.0))
    losses = history.values
    best = int(np.argmin(losses))
    assert trainer.current_epoch < 60  # stopped early
    assert len(losses) == best + patience + 1  # exactly `patience` epochs without a new best
    assert losses[-1] > losses[best]  # it turned up


# ---- H2: an ensemble trains each member as if alone, and averaging helps -------------------


@pytest.mark.catalog("H2")
def test_ensemble_members_train_exactly_as_alone_and_the_average_beats_them():
    torch.manual_seed(0)
    ens = EnsembleModule(members=[[64, 16, 10], [64, 32, 10]], optimizer="sgd", lr=0.1,
                         init_seeds=[3, 4]).double()
    alone = []
    for member in ens.net.members:
        single = MLPModule(layer_sizes=member.layer_sizes, optimizer="sgd", lr=0.1).double()
        single.net.load_state_dict(member.state_dict())
        alone.append(single)
    history = History("Loss/val_members")
    trainer = _trainer(precision="64-true", max_epochs=2, limit_train_batches=8,
                       callbacks=[history])
    trainer.fit(ens, datamodule=DigitsDataModule(batch_size=32, seed=2))
    ens_val_loss = float(trainer.callback_metrics["Loss/val"])
    for single in alone:
        _trainer(precision="64-true", max_epochs=2, limit_train_batches=8,
                 limit_val_batches=0).fit(
            single, datamodule=DigitsDataModule(batch_size=32, seed=2)
        )
    for member, single in zip(ens.net.members, alone, strict=True):
        for a, b in zip(member.parameters(), single.net.parameters(), strict=True):
            assert_close(a, b, **F64)
    # Cross-entropy of averaged probabilities <= the members' mean cross-entropy (convexity).
    assert ens_val_loss <= history.values[-1]
    assert float(trainer.callback_metrics["Accuracy/val"]) > 0.3  # 16 steps: far above chance (0.1)


# ---- I1-I3, C9: autoencoder runs equal torchref's training loop --------------------------------

AE_VARIANTS = {
    "bottleneck": dict(),
    "sparse_kl": dict(sparsity="kl", rho=0.1, beta=0.5),
    "sparse_l1": dict(sparsity="l1", beta=0.01),
    "dropout_inverted": dict(hidden_dropout=0.25, dropout_kind="inverted"),
    "dropout_classic": dict(hidden_dropout=0.25, dropout_kind="classic"),
}


@pytest.mark.catalog("C9", "H3", "I1", "I2", "I3")
@pytest.mark.parametrize("variant", list(AE_VARIANTS))
def test_lightning_autoencoder_run_equals_torchref_training_loop(variant):
    hp = AE_VARIANTS[variant]
    steps, batch = 12, 32
    torch.manual_seed(5)
    module = AutoencoderModule(sizes=(64, 16, 64), optimizer="sgd", lr=0.5, **hp).double()
    reference = copy.deepcopy(module.net)
    record = RecordTrainedBatches()
    # Dropout masks come from torch's global generator on both sides: the same seed right
    # before each run gives the same draws (nothing else draws in between).
    torch.manual_seed(11)
    _trainer(precision="64-true", max_steps=steps, limit_val_batches=0,
             callbacks=[record]).fit(module, datamodule=DigitsDataModule(batch_size=batch))
    x = torch.cat([b[0] for b in record.batches])  # (steps * batch, 64)
    rows = [list(range(t * batch, (t + 1) * batch)) for t in range(steps)]
    torch.manual_seed(11)
    tae.train_autoencoder(
        reference, x, steps=steps, batches=rows,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.5),
    )
    for a, b in zip(module.net.parameters(), reference.parameters(), strict=True):
        assert_close(a, b, **F64)


def test_autoencoder_training_moves_the_weights_it_is_compared_on():
    # Guard for the test above: 12 SGD steps change every layer (no trivially equal runs).
    torch.manual_seed(5)
    module = AutoencoderModule(sizes=(64, 16, 64), optimizer="sgd", lr=0.5).double()
    before = copy.deepcopy(module.net.state_dict())
    _trainer(precision="64-true", max_steps=12, limit_val_batches=0).fit(
        module, datamodule=DigitsDataModule(batch_size=32)
    )
    for k, v in module.net.state_dict().items():
        assert float((v - before[k]).abs().max()) > 1e-4, k


# ---- I4: the stacked pipeline equals torchref's stage functions --------------------------------


@pytest.mark.catalog("I4")
def test_stacked_pipeline_stages_equal_greedy_pretrain_train_head_and_fine_tune():
    steps, batch, lr = 6, 32, 0.5
    torch.manual_seed(9)
    model = StackedAutoencoderModule(sizes=(64, 24, 12), n_classes=10, optimizer="sgd", lr=lr,
                                     pretrain_epochs=1, head_epochs=1, finetune_epochs=1).double()
    ref_aes = [copy.deepcopy(a) for a in model.autoencoders]
    ref_head = copy.deepcopy(model.net.head)
    dm = DigitsDataModule(batch_size=batch, seed=4)
    recorded = []
    for name, module, epochs in model.stages():  # what `python -m lightning_app fit` runs
        record = RecordTrainedBatches()
        trainer = _trainer(precision="64-true", max_epochs=epochs, limit_train_batches=steps,
                           limit_val_batches=0, callbacks=[record])
        trainer.fit(module, datamodule=dm)
        model.on_stage_end(name, trainer)
        recorded.append(record.batches)
    assert [s for s, _, _ in model.stages()] == ["pretrain_1", "pretrain_2", "head", "finetune"]
    # Every stage saw the same batches (epoch 0 of the same seeded order).
    for other in recorded[1:]:
        assert all(torch.equal(a[0], b[0]) for a, b in zip(recorded[0], other, strict=True))
    x = torch.cat([b[0] for b in recorded[0]])
    y = torch.cat([b[1] for b in recorded[0]])
    rows = [list(range(t * batch, (t + 1) * batch)) for t in range(steps)]
    sgd = lambda p: torch.optim.SGD(p, lr=lr)  # noqa: E731
    encoders = tae.greedy_pretrain(x, ref_aes, steps=steps, batches=rows, optimizer=sgd)
    reference = tae.stack_encoders(encoders, ref_head)
    tae.train_head(reference, x, y, steps=steps, batches=rows, optimizer=sgd)
    tae.fine_tune(reference, x, y, steps=steps, batches=rows, optimizer=sgd)
    got, want = model.net.state_dict(), reference.state_dict()
    assert got.keys() == want.keys()
    for k in want:
        assert_close(got[k], want[k], **F64)
    # The pretrained autoencoders themselves match too (their decoders are not in the net).
    for a, b in zip(model.autoencoders, ref_aes, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            assert_close(p, q, **F64)


# ---- one optimizer spec for every module (issue 12) ---------------------------------------------

MODULES = {
    "mlp": lambda **kw: MLPModule(layer_sizes=(64, 8, 10), **kw),
    "ensemble": lambda **kw: EnsembleModule(members=[[64, 8, 10]], **kw),
    "autoencoder": lambda **kw: AutoencoderModule(sizes=(64, 8, 64), **kw),
    "stacked": lambda **kw: StackedAutoencoderModule(sizes=(64, 8), **kw),
}
SPEC = {"optimizer": "adam", "lr": 1e-3, "optimizer_args": None, "scheduler": None,
        "scheduler_args": None, "scheduler_interval": "epoch"}


@pytest.mark.parametrize("name", list(MODULES))
def test_every_module_takes_the_optimizer_settings_once_as_keywords_and_saves_them(name):
    module = MODULES[name](lr=0.02, scheduler="exponential", scheduler_args={"k": 0.1})
    assert module.optim == OptimizerSpec(lr=0.02, scheduler="exponential",
                                         scheduler_args={"k": 0.1})
    # Saved with the defaults of those not given (checkpoint, TensorBoard's HPARAMS).
    saved = {k: module.hparams[k] for k in SPEC}
    assert saved == {**SPEC, "lr": 0.02, "scheduler": "exponential", "scheduler_args": {"k": 0.1}}
    # Keyword-only, and the six are declared by AppModule alone (the modules pass **optim on).
    cls = type(module)
    params = inspect.signature(cls.__init__).parameters
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for n, p in params.items() if n != "self")
    assert not set(SPEC) & set(params)
    with pytest.raises(TypeError, match="positional"):
        cls((64, 8, 10))


def test_lr_inside_optimizer_args_is_a_clear_error():
    with pytest.raises(ValueError, match=r"optimizer_args must not hold 'lr': the optimizer takes "
                                         r"lr as its own argument \(lr=0\.1\), not inside "
                                         r"optimizer_args"):
        MLPModule(optimizer_args={"lr": 0.1})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(lr=float("inf")), r"lr must be in \[0, inf\), got inf"),
        (dict(lr=-0.1), r"lr must be in \[0, inf\), got -0\.1"),
        (dict(optimizer="adamw"), r"unknown optimizer 'adamw'; valid choices: "),
        (dict(scheduler="cosine"), r"unknown scheduler 'cosine'; valid choices: "),
        (dict(scheduler_interval="batch"), r"unknown scheduler_interval 'batch'; valid choices: "
                                           r"'epoch', 'step'"),
    ],
)
def test_optimizer_settings_are_checked_when_the_module_is_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLPModule(**kwargs)


def test_the_optimizer_is_built_once(monkeypatch):
    import lightning_app.models as models

    built = []
    real = models.make_optimizer
    monkeypatch.setattr(models, "make_optimizer",
                        lambda *a, **k: built.append(a[0]) or real(*a, **k))
    module = MLPModule(layer_sizes=(64, 8, 10), optimizer="momentum", lr=0.1)
    assert built == []  # no probe on a dummy parameter at construction
    _trainer(max_steps=2, limit_val_batches=0).fit(module, datamodule=DigitsDataModule())
    assert built == ["momentum"]


def test_a_bad_value_in_optimizer_args_names_the_argument_when_the_optimizer_is_built():
    module = MLPModule(optimizer="momentum", optimizer_args={"momentum": -1.0})
    with pytest.raises(InputError) as info:
        module.configure_optimizers()
    assert info.value.argument == "optimizer_args"
    assert str(info.value).startswith("optimizer 'momentum': ")
    assert "-1.0" in str(info.value)

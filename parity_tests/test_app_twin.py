"""`--twin scratch`: the NumPy twin (torchref.twin driving scratch) trained beside a Lightning
run stays with it step for step, and TensorBoard gets both runs on one chart.

The comparisons here do not trust the twin's own `Difference`: the Lightning model's weights
and the twin's arrays are compared directly, and the TensorBoard files are read back with
TensorBoard's own reader. Full-run numbers (40 epochs of mlp_digits, every optimizer and
variant) are in docs/app.md; here a few epochs of the real config and a few steps of each
combination keep the suite fast."""

from __future__ import annotations

import copy

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from lightning_app.board import loss_tag, metric_tag
from lightning_app.checks import InputError
from lightning_app.data import DigitsDataModule
from lightning_app.models import MLPModule
from lightning_app.twin import TWIN_FOLDER, ScratchTwinRun, attach_twin, check_twin
from parity_tests.app_support import run_cli, run_cli_failing
from parity_tests.helpers import F64, assert_close
from torchref.dropout import ClassicDropout
from torchref.mlp import MLP, head_output
from torchref.optim import make_optimizer
from torchref.twin import TWIN_OPTIMIZERS, ScratchTwin, TwinError, read_dropout_mask

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# The bounds the twin must hold over a whole mlp_digits run (docs/app.md, "--twin").
BOUND = {"32-true": 1e-5, "64-true": 1e-12}


def _scalars(log_dir, tag: str) -> list[tuple[int, float]]:
    ea = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    ea.Reload()
    return [(e.step, e.value) for e in ea.Scalars(tag)]


# ---- the real config, end to end --------------------------------------------------------------


@pytest.mark.catalog("B4", "F14", "F11")
@pytest.mark.parametrize("precision, epochs", [("32-true", 2), ("64-true", 2)])
def test_mlp_digits_twin_run_stays_within_its_bound_and_shares_the_runs_charts(
    precision, epochs, tmp_path
):
    out, _ = run_cli([
        "fit", "--config", "mlp_digits", "--twin", "scratch", "--trainer.precision", precision,
        "--trainer.max_epochs", str(epochs), "--trainer.enable_progress_bar", "false",
        "--test_after_fit", "false", "--trainer.logger.init_args.save_dir", str(tmp_path),
    ])
    run = tmp_path / "mlp_digits" / "version_0"
    twin = run / TWIN_FOLDER
    differences = _scalars(twin, "twin/max_abs_diff")
    assert len(differences) == epochs
    assert all(0 <= d < BOUND[precision] for _, d in differences), differences
    assert max(d for _, d in _scalars(twin, "twin/max_rel_diff")) < 10 * BOUND[precision]
    assert f"largest parameter difference over {41 * epochs} steps" in out
    # The same tags at the same steps as the run's, so TensorBoard overlays the curves; the
    # values agree to the precision (the twin's loss is its own, computed by scratch).
    rtol = 1e-4 if precision == "32-true" else 1e-10
    for tag in (loss_tag("train"), loss_tag("train_step"), loss_tag("val"),
                metric_tag("acc", "val")):
        mine, theirs = _scalars(twin, tag), _scalars(run, tag)
        assert [s for s, _ in mine] == [s for s, _ in theirs], tag
        assert np.allclose([v for _, v in mine], [v for _, v in theirs], rtol=rtol), tag
    losses = [v for _, v in _scalars(twin, loss_tag("train"))]
    assert losses[-1] < 0.6 * losses[0]  # the twins trained: the comparison is not of two starts


# ---- every optimizer family with dropout and batch norm, a few steps --------------------------

STEPS = 12
SIZES = (64, 24, 16, 10)  # two hidden layers: every kind of layer, and mask, appears twice
VARIANTS = {
    "plain": dict(),
    "inverted_dropout": dict(dropout=0.3, dropout_kind="inverted"),
    "classic_dropout": dict(dropout=0.3, dropout_kind="classic"),
    "batch_norm": dict(batch_norm=True),
    "batch_norm_and_dropout": dict(batch_norm=True, dropout=0.3),
}
LR = {"sgd": 0.1, "momentum": 0.05, "adam": 0.01}


def _biases_before_batch_norm(net: MLP) -> set[int]:
    """Indices in `parameters()` of the Linear biases that a batch norm follows."""
    out, k, modules = set(), 0, list(net.net)
    for i, m in enumerate(modules):
        if isinstance(m, nn.Linear) and i + 1 < len(modules) and isinstance(
            modules[i + 1], nn.BatchNorm1d
        ):
            out.add(k + 1)
        k += sum(1 for _ in m.parameters())
    return out


@pytest.mark.catalog("B4", "G4", "H3", "F1", "F9", "F14", "F11")
@pytest.mark.parametrize(
    "optimizer, variant",
    [("sgd", "plain"), ("sgd", "batch_norm_and_dropout"), ("momentum", "inverted_dropout"),
     ("momentum", "batch_norm"), ("adam", "classic_dropout"), ("adam", "batch_norm_and_dropout")],
)
def test_twin_callback_trains_the_same_network_as_lightning(optimizer, variant, rng):
    torch.manual_seed(int(rng.integers(2**31)))
    model = MLPModule(layer_sizes=SIZES, activation="relu", init="he", optimizer=optimizer,
                      lr=LR[optimizer], scheduler="exponential", scheduler_args={"k": 0.05},
                      scheduler_interval="step", **VARIANTS[variant])
    init = [p.detach().numpy().copy() for p in model.parameters()]
    twin = ScratchTwinRun()
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, precision="64-true", max_steps=STEPS,
        limit_val_batches=0, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[twin],
    )
    dm = DigitsDataModule(batch_size=32, seed=3)
    trainer.fit(model, datamodule=dm)
    assert twin.steps == STEPS

    trained = [p.detach().numpy() for p in model.parameters()]
    moved = max(float(np.abs(t - w0).max()) for t, w0 in zip(trained, init, strict=True))
    assert moved > 1e-3  # two trained networks are compared, not two starts
    noise = _biases_before_batch_norm(model.net)
    for i, (got, want) in enumerate(zip(trained, twin.twin.params, strict=True)):
        if i in noise and optimizer == "adam":
            # Their exact gradient is 0 (batch norm subtracts the batch mean); Adam scales
            # each side's rounding noise up to steps of ~lr * 1e-8: compared in the docs.
            continue
        assert_close(got, want, **F64)
    for m, s in zip([m for m in model.net.modules() if isinstance(m, nn.BatchNorm1d)],
                    twin.twin.stats, strict=True):
        assert int(m.num_batches_tracked) == s.num_batches_tracked == STEPS
        assert_close(m.running_var, s.running_var, **F64)
        if optimizer != "adam":
            assert_close(m.running_mean, s.running_mean, **F64)
    assert twin.run_worst.abs < BOUND["64-true"]

    # Evaluation mode: batch norm with the running statistics, dropout as at test time.
    x, y = dm.split("val")
    model.eval()
    with torch.no_grad():
        want = float(model.loss(model(x), y))
    got, _ = twin.twin.evaluate(x.numpy(), y.numpy())
    assert got == pytest.approx(want, rel=1e-6 if noise and optimizer == "adam" else 1e-10)


# ---- the parts ---------------------------------------------------------------------------------


@pytest.mark.catalog("F1", "F9", "F10", "F12", "F13", "F14")
@pytest.mark.parametrize("name", list(TWIN_OPTIMIZERS))
def test_twin_optimizer_steps_like_the_apps_optimizer_of_that_name(name, rng):
    shapes = [(5, 3), (5,)]
    start = [rng.standard_normal(s) for s in shapes]
    params = [torch.tensor(w, requires_grad=True) for w in start]
    opt = make_optimizer(name, params, lr=0.05)
    twin = ScratchTwin(MLP([3, 5]).double(), optimizer=name, lr=0.05)
    mine = [w.copy() for w in start]
    for i, lr in enumerate([0.05, 0.04, 0.03, 0.02, 0.01]):  # a schedule changes lr mid-run
        grads = [rng.standard_normal(s) * (10.0 ** -i) for s in shapes]
        for p, g in zip(params, grads, strict=True):
            p.grad = torch.tensor(g)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        twin.stepper.step(mine, grads, lr)
    for p, w in zip(params, mine, strict=True):
        assert_close(p.detach().numpy(), w, **F64)


@pytest.mark.catalog("B4")
@pytest.mark.parametrize("head, width", [("multiclass", 3), ("binary", 1), ("regression", 2)])
def test_twin_steps_and_evaluates_like_torch_for_every_head(head, width, rng):
    net = MLP([4, 6, width], activation="tanh", head=head).double()
    opt = make_optimizer("adam", net.parameters(), lr=0.05)
    twin = ScratchTwin(net, optimizer="adam", lr=0.05)
    x = torch.tensor(rng.standard_normal((16, 4)))
    if head == "multiclass":
        y = torch.tensor(rng.integers(0, width, 16))
    elif head == "binary":
        y = torch.tensor(rng.integers(0, 2, 16).astype(np.float64))
    else:
        y = torch.tensor(rng.standard_normal((16, width)))
    for step in range(5):
        opt.zero_grad()
        loss = net.loss(net(x), y)
        loss.backward()
        opt.step()
        mine = twin.train_step(x.numpy(), y.numpy(), [], epoch=0, step=step)
        assert mine == pytest.approx(float(loss), rel=1e-12)
    for p, w in zip(net.parameters(), twin.params, strict=True):
        assert_close(p.detach().numpy(), w, **F64)
    got_loss, got_acc = twin.evaluate(x.numpy(), y.numpy())
    with torch.no_grad():
        logits = net(x)
        assert got_loss == pytest.approx(float(net.loss(logits, y)), rel=1e-12)
    if head == "regression":
        assert got_acc is None
    else:
        scores = head_output(logits, head)
        labels = (scores[:, 0] > 0.5).double() if head == "binary" else scores.argmax(1)
        assert got_acc == pytest.approx(float((labels == y).double().mean()))


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("kind", ["inverted", "classic"])
def test_read_dropout_mask_is_the_mask_torch_drew_even_where_the_input_is_zero(kind):
    layer = nn.Dropout(0.4) if kind == "inverted" else ClassicDropout(0.4)
    x = torch.randn(50, 20, dtype=torch.float64)
    x[:, :5] = 0.0  # ReLU outputs are often exactly 0: the output shows no mask there
    x.requires_grad_(True)
    torch.manual_seed(7)
    out = layer(x)
    torch.manual_seed(7)
    drawn = torch.empty_like(x).bernoulli_(0.6).numpy()  # the draw both layers make on CPU
    mask = read_dropout_mask(x, out)
    np.testing.assert_array_equal(mask, drawn)
    assert 0 < mask[:, :5].sum() < mask[:, :5].size  # the zero columns were masked both ways


def test_difference_keeps_biases_before_batch_norm_apart_and_scales_per_layer():
    net = MLP([4, 3, 2], batch_norm=True).double()
    twin = ScratchTwin(net, optimizer="adam", lr=0.01)
    assert twin.difference(net).abs == 0.0
    moved = copy.deepcopy(net)
    with torch.no_grad():
        moved.net[0].bias += 1e-3  # cancelled by the batch norm that follows
        moved.net[-1].weight[0, 0] += 2e-6
        moved.net[1].running_var[0] += 5e-4
    d = twin.difference(moved)
    assert d.abs == pytest.approx(2e-6)
    assert d.bias_before_batch_norm == pytest.approx(1e-3)
    assert d.running_stats == pytest.approx(5e-4)
    last = twin.params[-2:]  # the output layer's W and b
    scale = max(float(np.abs(p).max()) for p in last)
    assert d.rel == pytest.approx(2e-6 / scale)


# ---- what the twin refuses: one line, exit status 2, nothing written ---------------------------


@pytest.mark.parametrize("args, words", [
    (["--config", "autoencoder_digits"], "mirrors MLPModule only, got AutoencoderModule"),
    (["--config", "mlp_digits", "--trainer.strategy", "ddp", "--trainer.devices", "2",
      "--trainer.accelerator", "cpu"], "trains in one process"),
])
def test_unsupported_twin_runs_are_refused_in_one_line_before_anything_is_written(
    args, words, tmp_path
):
    status, out, err = run_cli_failing([
        "fit", *args, "--twin", "scratch", "--trainer.logger.init_args.save_dir", str(tmp_path),
    ])
    lines = err.strip().splitlines()
    assert status == 2 and lines[-1].startswith("error: --twin: ") and words in lines[-1], err
    assert not [line for line in lines if line.startswith(("error", "Traceback"))][:-1]
    assert list(tmp_path.iterdir()) == []


def _cfg(**overrides) -> dict:
    return {"twin": "scratch", "ckpt_path": None, "optimizer": None, "lr_scheduler": None,
            "trainer": {"precision": "32-true", "devices": 1}, **overrides}


@pytest.mark.parametrize("model_args, cfg, subcommand, words", [
    ({}, _cfg(twin="numpy"), "fit", "unknown twin 'numpy'"),
    ({}, _cfg(), "test", "only fit"),
    ({}, _cfg(ckpt_path="last"), "fit", "cannot resume"),
    ({}, _cfg(optimizer={"class_path": "torch.optim.SGD"}), "fit", "--optimizer"),
    ({"l2": 0.01}, _cfg(), "fit", "l1/l2"),
    ({"optimizer": "adam_then_sgd"}, _cfg(), "fit", "no optimizer 'adam_then_sgd'"),
    ({"optimizer_args": {"weight_decay": 0.1}}, _cfg(), "fit", "optimizer_args weight_decay"),
    ({"activation": "prelu"}, _cfg(), "fit", "no activation 'prelu'"),
    ({}, _cfg(trainer={"accumulate_grad_batches": 2}), "fit", "accumulate_grad_batches"),
    ({}, _cfg(trainer={"gradient_clip_val": 1.0}), "fit", "gradient_clip_val"),
    ({}, _cfg(trainer={"devices": [0, 1]}), "fit", "asks for 2 devices"),
    ({}, _cfg(trainer={"precision": "bf16-mixed"}), "fit", "float32 or float64"),
])
def test_check_twin_names_what_the_twin_cannot_mirror(model_args, cfg, subcommand, words):
    model = MLPModule(**model_args)
    with pytest.raises(InputError) as info:
        check_twin(model, cfg, subcommand)
    assert info.value.argument == "--twin"
    assert words in str(info.value)


def test_attach_twin_refuses_a_trainer_of_several_processes_and_adds_the_callback():
    # devices "auto" hides the number of processes from the config; the Trainer knows it.
    ddp = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False)
    with pytest.raises(InputError, match="trains in one process, this run has 2"):
        attach_twin(ddp, _cfg(trainer={"devices": "auto"}))
    single = pl.Trainer(accelerator="cpu", devices=1, logger=False)
    attach_twin(single, _cfg())
    assert sum(isinstance(c, ScratchTwinRun) for c in single.callbacks) == 1


def test_check_twin_accepts_the_default_run_and_a_run_without_twin():
    check_twin(MLPModule(layer_sizes=[64, 128, 10]), _cfg(), "fit")
    check_twin(MLPModule(optimizer="adam_then_sgd"), _cfg(twin=None), "fit")
    for args in ({"gamma": 0.5}, {"k": -1.0}):
        with pytest.raises(TwinError, match="schedule"):
            ScratchTwin(MLP([4, 2]), optimizer="sgd", lr=0.1, scheduler="exponential",
                        scheduler_args=args)


def test_check_twin_reports_a_bad_optimizer_argument_as_the_apps_own_error():
    model = MLPModule(optimizer="notes_momentum", optimizer_args={"momentum": -1})
    with pytest.raises(InputError, match="Invalid momentum value: -1") as info:
        check_twin(model, _cfg(), "fit")
    assert info.value.argument == "optimizer_args"  # --model.init_args.optimizer_args

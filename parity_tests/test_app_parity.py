"""End to end: the MLP Lightning trains (torchref.MLP, torchref/torch optimizers, the app's
loop and data) equals the MLP the NumPy code trains (scratch layers, scratch optimizers), from
the same initial weights on the same batches, step after step.

Two independent implementations of everything that happens in a step: forward, loss,
backward (autograd vs the scratch `*_backward` functions), batch-norm statistics, dropout
and the optimizer update. Dropout masks come from one shared source: the test replaces each
dropout module of the Lightning model with one that takes its mask from a list, and the
scratch side takes the same masks from the same list in the same order."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch import nn

from lightning_app.data import DigitsDataModule
from lightning_app.models import MLPModule
from parity_tests.app_support import RecordTrainedBatches
from parity_tests.helpers import F64, assert_close
from scratch import optim as sopt
from scratch.dropout import (
    classic_dropout_backward,
    classic_dropout_forward,
    dropout_mask,
    inverted_dropout_backward,
    inverted_dropout_forward,
)
from scratch.mlp import (
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
    head_loss_grad,
)
from scratch.normalization import RunningStats, batchnorm_backward, batchnorm_forward
from torchref.dropout import classic_dropout, inverted_dropout

STEPS = 15
BATCH = 32
SIZES = (64, 24, 16, 10)  # two hidden layers: every kind of layer appears twice
P = 0.3

# name in the app (torchref.optim.OPTIMIZERS) -> the scratch optimizer with the same rule
OPTIMIZERS = {
    "sgd": (dict(lr=0.1), lambda: sopt.SGD(lr=0.1)),
    # torch's momentum buffer is -m/lr of the notes' m: the same iterates at constant lr.
    "momentum": (dict(lr=0.05), lambda: sopt.SGD(lr=0.05, momentum=0.9)),
    # the notes' Adam (eps0 inside the root) on both sides
    "notes_adam": (dict(lr=0.01), lambda: sopt.Adam(lr=0.01)),
}

VARIANTS = {
    "plain": dict(),
    "inverted_dropout": dict(dropout=P, dropout_kind="inverted"),
    "classic_dropout": dict(dropout=P, dropout_kind="classic"),
    "batch_norm": dict(batch_norm=True),
    "batch_norm_and_dropout": dict(batch_norm=True, dropout=P, dropout_kind="inverted"),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class SharedMaskDropout(nn.Module):
    """Dropout whose keep-masks are taken, in order, from a list both sides share."""

    def __init__(self, p: float, kind: str, masks: list[np.ndarray]) -> None:
        super().__init__()
        self.p, self.kind, self.masks = p, kind, masks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fn = inverted_dropout if self.kind == "inverted" else classic_dropout
        if not self.training:
            return fn(x, self.p, training=False)
        mask = torch.from_numpy(self.masks.pop(0)).to(x.dtype)
        return fn(x, self.p, training=True, mask=mask)


def _scratch_step(params, bn, batch, masks, hp, opt) -> None:
    """One training step of the same network in NumPy: forward, backward, update.

    params are in `model.parameters()` order: per hidden layer W, b [, gamma, beta], then
    W_out, b_out; `bn` holds each layer's RunningStats and is updated in place.
    """
    x, y = batch
    a, caches, k = x, [], 0
    for layer in range(len(SIZES) - 2):
        W, b = params[k], params[k + 1]
        k += 2
        z, c_dense = dense_forward(a, W, b)
        c_bn = None
        if hp.get("batch_norm"):
            z, c_bn, bn[layer] = batchnorm_forward(z, params[k], params[k + 1], bn[layer], True)
            k += 2
        a, c_act = activation_forward(z, "relu")
        c_drop = None
        if hp.get("dropout"):
            forward = (inverted_dropout_forward if hp["dropout_kind"] == "inverted"
                       else classic_dropout_forward)
            a, c_drop = forward(a, P, True, mask=masks.pop(0))
        caches.append((c_dense, c_bn, c_act, c_drop))
    logits, c_out = dense_forward(a, params[k], params[k + 1])

    grads: list[np.ndarray] = [None] * len(params)
    dlogits = head_loss_grad(logits, y, "multiclass")  # (N, 10)
    da, grads[k], grads[k + 1] = dense_backward(dlogits, c_out)
    for layer in reversed(range(len(SIZES) - 2)):
        c_dense, c_bn, c_act, c_drop = caches[layer]
        if c_drop is not None:
            backward = (inverted_dropout_backward if hp["dropout_kind"] == "inverted"
                        else classic_dropout_backward)
            da = backward(da, c_drop)
        dz = activation_backward(da, c_act)
        k -= 4 if c_bn is not None else 2
        if c_bn is not None:
            dz, grads[k + 2], grads[k + 3] = batchnorm_backward(dz, c_bn)
        da, grads[k], grads[k + 1] = dense_backward(dz, c_dense, need_dx=layer > 0)
    opt.step(params, grads)


@pytest.mark.catalog("B4", "H3")
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_lightning_trained_mlp_equals_the_scratch_trained_mlp(optimizer, variant, rng):
    hp = VARIANTS[variant]
    lr_args, make_scratch_opt = OPTIMIZERS[optimizer]
    torch.manual_seed(int(rng.integers(2**31)))
    model = MLPModule(layer_sizes=SIZES, activation="relu", init="he", optimizer=optimizer,
                      **lr_args, **hp).double()
    init = [p.detach().numpy().copy() for p in model.parameters()]

    n_layers = len(SIZES) - 2
    masks = [dropout_mask((BATCH, SIZES[1 + i % n_layers]), P, rng)
             for i in range(STEPS * n_layers)] if hp.get("dropout") else []
    torch_masks = list(masks)
    if hp.get("dropout"):
        seq = model.net.net
        for i, m in enumerate(seq):
            if not isinstance(m, nn.Linear | nn.BatchNorm1d | nn.ReLU):
                seq[i] = SharedMaskDropout(P, hp["dropout_kind"], torch_masks)

    record = RecordTrainedBatches(numpy=True)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, precision="64-true", max_steps=STEPS,
        limit_val_batches=0, num_sanity_val_steps=0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[record],
    )
    trainer.fit(model, datamodule=DigitsDataModule(batch_size=BATCH, seed=3))
    assert len(record.batches) == STEPS and not torch_masks  # every mask was used once

    params = [w.copy() for w in init]
    bn = [RunningStats.init(n, 0.1) for n in SIZES[1:-1]]
    opt = make_scratch_opt()
    scratch_masks = list(masks)
    for batch in record.batches:
        _scratch_step(params, bn, batch, scratch_masks, hp, opt)

    trained = [p.detach().numpy() for p in model.parameters()]
    assert len(trained) == len(params)
    moved = max(float(np.abs(t - w0).max()) for t, w0 in zip(trained, init, strict=True))
    assert moved > 1e-3  # the comparison below is between two trained networks
    for got, want in zip(trained, params, strict=True):
        assert_close(got, want, **F64)
    if hp.get("batch_norm"):
        torch_bn = [m for m in model.net.modules() if isinstance(m, nn.BatchNorm1d)]
        for m, s in zip(torch_bn, bn, strict=True):
            assert_close(m.running_mean, s.running_mean, **F64)
            assert_close(m.running_var, s.running_var, **F64)
            assert int(m.num_batches_tracked) == s.num_batches_tracked == STEPS

"""Generalization (H1, H2, H4, H5) in PyTorch: early stopping, an ensemble module, the capacity
sweep with torch.linalg.lstsq, and L1 / L2 penalties with autograd and F.softshrink.

Imports torch, `torchref.mlp` (heads) and `scratch.validation`. The Lightning app uses
Lightning's own `EarlyStopping` callback, which follows the same rule as
`fit_with_early_stopping` (improvement iff loss < best - min_delta; stop after `patience`
epochs without one).

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: H5 -> torch.nn.functional:softshrink
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from scratch.ensemble import PENALTIES
from scratch.validation import NONNEGATIVE, PENALTY, POSITIVE, check_count, check_rows_match
from torchref.checks import real_tensor
from torchref.mlp import HEADS, head_output

__all__ = [
    "fit_with_early_stopping",
    "Ensemble",
    "capacity_sweep",
    "regularized_least_squares",
    "PENALTIES",
]

def fit_with_early_stopping(
    model: nn.Module,
    train_epoch: Callable[[], None],
    val_loss: Callable[[], float],
    max_epochs: int,
    patience: int = 5,
    min_delta: float = 0.0,
) -> dict:
    """Run `train_epoch()` up to `max_epochs` times; stop when `val_loss()` stops improving.

    Improvement iff loss < best - min_delta (Lightning's rule, mode "min"); stops after
    `patience` epochs without one or at a non-finite loss. The model ends with the weights of
    its best epoch (`load_state_dict` of a deep copy taken then). Returns a dict with
    "history" (validation losses), "best", "best_epoch", "stopped_epoch" (None if it ran out).
    Catalog: H1.
    """
    max_epochs = check_count("max_epochs", max_epochs)
    patience = check_count("patience", patience)
    min_delta = NONNEGATIVE.check("min_delta", min_delta)
    best, best_epoch, wait, stopped = math.inf, -1, 0, None
    best_state = copy.deepcopy(model.state_dict())
    history = []
    for epoch in range(max_epochs):
        train_epoch()
        loss = float(val_loss())
        history.append(loss)
        if not math.isfinite(loss):
            stopped = epoch
            break
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            wait += 1
            if wait >= patience:
                stopped = epoch
                break
    model.load_state_dict(best_state)
    return {"history": history, "best": best, "best_epoch": best_epoch, "stopped_epoch": stopped}


class Ensemble(nn.Module):
    """Average the predictions of several models: p(x) = 1/M sum_m head(model_m(x)).

    Members return logits (like `torchref.mlp.MLP`); `head` turns each member's logits into
    predictions (softmax for "multiclass", sigmoid for "binary", identity for "regression")
    before averaging, so probabilities, not logits, are averaged.
    Catalog: H2.
    """

    def __init__(self, members: Sequence[nn.Module], head: str = "multiclass") -> None:
        super().__init__()
        if len(members) == 0:
            raise ValueError("members must hold at least one model, got none")
        self.members = nn.ModuleList(members)
        self.head = HEADS.check("head", head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        preds = torch.stack([head_output(m(x), self.head) for m in self.members])  # (M, N, K)
        return preds.mean(0)


def capacity_sweep(
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    widths: Sequence[int],
    W1: torch.Tensor,
    b1: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """The H4 sweep of `scratch.ensemble.capacity_sweep` for given random first-layer weights.

    For each width h: hidden = relu(F.linear(X, W1[:h], b1[:h])); the output layer is the
    minimum-norm least-squares fit of the one-hot targets (`torch.linalg.lstsq`, driver
    "gelsd"). Returns tensors "width", "train_error", "val_error", "train_mse", "val_mse".
    Catalog: H4.
    """
    K = int(max(int(y_train.max()), int(y_val.max()))) + 1
    Y, Y_val = F.one_hot(y_train, K).to(X_train.dtype), F.one_hot(y_val, K).to(X_val.dtype)
    out = {k: [] for k in ("width", "train_error", "val_error", "train_mse", "val_mse")}
    for h in widths:
        h = check_count("width", h)
        A_tr = F.pad(torch.relu(F.linear(X_train, W1[:h], b1[:h])), (0, 1), value=1.0)  # bias
        A_va = F.pad(torch.relu(F.linear(X_val, W1[:h], b1[:h])), (0, 1), value=1.0)
        W2 = torch.linalg.lstsq(A_tr, Y, driver="gelsd").solution  # (h + 1, K)
        P_tr, P_va = A_tr @ W2, A_va @ W2
        out["width"].append(h)
        out["train_error"].append((P_tr.argmax(1) != y_train).double().mean())
        out["val_error"].append((P_va.argmax(1) != y_val).double().mean())
        out["train_mse"].append(F.mse_loss(P_tr, Y))
        out["val_mse"].append(F.mse_loss(P_va, Y_val))
    return {k: torch.as_tensor(v) if k == "width" else torch.stack(v) for k, v in out.items()}


def regularized_least_squares(
    X: torch.Tensor,
    y: torch.Tensor,
    penalty: str,
    lam: float,
    lr: float,
    steps: int,
    w0: torch.Tensor | None = None,
) -> torch.Tensor:
    """Full-batch GD on 1/(2N) ||X w - y||^2 plus a penalty, gradients by autograd.

    "l2": autograd of + lam/2 ||w||^2 (the same step as `torch.optim.SGD(weight_decay=lam)`);
    "l1_subgradient": autograd of + lam ||w||_1 (torch's d|w|/dw at 0 is 0 = sign(0));
    "l1_proximal": a step on the smooth loss, then `F.softshrink(w, lr * lam)`;
    "none": the smooth loss alone. Returns w (d,).
    Catalog: H5.
    """
    PENALTIES.check("penalty", penalty)  # scratch's checks, in its order and words
    X = real_tensor("X", X, ndim=2)
    y = real_tensor("y", y, ndim=1)
    check_rows_match("y", tuple(y.shape), "X", tuple(X.shape))
    lam, lr = PENALTY.check("lam", lam), POSITIVE.check("lr", lr)
    w = (torch.zeros(X.shape[1], dtype=X.dtype) if w0 is None else w0.clone()).requires_grad_()
    for _ in range(check_count("steps", steps)):
        loss = 0.5 * (X @ w - y).pow(2).mean()
        if penalty == "l2":
            loss = loss + 0.5 * lam * w.pow(2).sum()
        elif penalty == "l1_subgradient":
            loss = loss + lam * w.abs().sum()
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
            if penalty == "l1_proximal":
                w.copy_(F.softshrink(w, lr * lam))
    return w.detach()

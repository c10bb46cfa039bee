"""PyTorch counterparts of `scratch.losses`: each loss as the torch built-in, reduction explicit.

Imports torch and `scratch.validation` (shared error wording) only. Same names and argument
order as `scratch.losses`; every function says which `torch.nn.functional` call and which
`reduction` give the notes' number, so the reduction is never a silent default. Penalties
take an iterable of tensors (e.g. the `weight` of each `nn.Linear`; biases are left out by
not passing them).

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: C1 -> torch.nn.functional:mse_loss
Catalog: C2 -> torch.nn.functional:binary_cross_entropy
Catalog: C2 -> torch.nn.functional:binary_cross_entropy_with_logits
Catalog: C3 -> torch.nn:Linear
Catalog: C5 -> torch.nn.functional:binary_cross_entropy
Catalog: C6 -> torch.nn.functional:nll_loss, torch.nn.functional:cross_entropy
Catalog: C6 -> torch.special:logsumexp
Catalog: C7 -> torch.optim:SGD
Catalog: C10 -> torch.distributions:Bernoulli, torch.distributions:Categorical
Catalog: C10 -> torch.distributions:Normal
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from scratch.validation import Choice, Interval, check_interval

__all__ = [
    "SCALINGS",
    "squared_error",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multilabel_cross_entropy",
    "categorical_cross_entropy",
    "cross_entropy_with_logits",
    "l2_penalty",
    "l1_penalty",
    "regularized_logistic_cost",
    "network_cost",
]

SCALINGS = Choice(("sum", "half_sum", "mean", "half_mean"))
_LAMBDA = Interval(0.0, float("inf"), "left")


def squared_error(y_hat: torch.Tensor, y: torch.Tensor, scaling: str = "mean") -> torch.Tensor:
    """`S = F.mse_loss(y_hat, y, reduction="sum")` scaled: "sum" S, "half_sum" S/2,
    "mean" S/N (mean over the N examples of the sum over outputs; torch's own "mean" divides
    by every element instead), "half_mean" S/(2N). Catalog: C1."""
    SCALINGS.check("scaling", scaling)
    s = F.mse_loss(y_hat, y, reduction="sum")
    if scaling.startswith("half"):
        s = s / 2
    return s / y_hat.shape[0] if scaling.endswith("mean") else s


def binary_cross_entropy(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy(p, t, reduction="mean")`: mean over every element. Catalog: C2."""
    return F.binary_cross_entropy(p, t, reduction="mean")


def binary_cross_entropy_with_logits(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """From logits: `F.binary_cross_entropy_with_logits(z, t, reduction="mean")`. Catalog: C2."""
    return F.binary_cross_entropy_with_logits(z, t, reduction="mean")


def multilabel_cross_entropy(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy(p, t, reduction="sum") / N`: sum over outputs, mean over
    the N examples (torch's "mean" would divide by N*K). Catalog: C5."""
    return F.binary_cross_entropy(p, t, reduction="sum") / p.shape[0]


def categorical_cross_entropy(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """On probabilities: `F.nll_loss(log p, t.argmax(1), reduction="mean")` for one-hot
    rows t: the negative log-probability of the true class, mean over the N examples.
    Catalog: C6."""
    return F.nll_loss(torch.log(p), t.argmax(dim=1), reduction="mean")


def cross_entropy_with_logits(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """On logits: `F.cross_entropy(z, labels, reduction="mean")`; labels int64 (N,) class
    indices or float (N, C) one-hot / class-probability rows. Catalog: C6."""
    return F.cross_entropy(z, labels, reduction="mean")


def l2_penalty(params: Iterable[torch.Tensor], lam: float) -> torch.Tensor:
    """`lam / 2 * sum(||w||^2)` over the given tensors (autograd gives `lam * w`, what
    `torch.optim.SGD(weight_decay=lam)` adds to the gradient). Catalog: C7."""
    lam = check_interval("lam", lam, _LAMBDA)
    return lam / 2 * sum(w.pow(2).sum() for w in params)


def l1_penalty(params: Iterable[torch.Tensor], lam: float) -> torch.Tensor:
    """`lam * sum(|w|)` over the given tensors (autograd's derivative of |w| at 0 is 0).

    Catalog: C8.
    """
    lam = check_interval("lam", lam, _LAMBDA)
    return lam * sum(w.abs().sum() for w in params)


def regularized_logistic_cost(
    linear: nn.Linear, X: torch.Tensor, y: torch.Tensor, lam: float
) -> torch.Tensor:
    """For `linear = nn.Linear(n, 1)`: mean BCE of the logits `linear(X)` plus
    `lam / (2m) ||linear.weight||^2`; `linear.bias` (theta_0) is not penalized. Catalog: C3."""
    lam = check_interval("lam", lam, _LAMBDA)
    m = X.shape[0]
    z = linear(X).squeeze(-1)  # (m, 1) -> (m,)
    return binary_cross_entropy_with_logits(z, y) + l2_penalty([linear.weight], lam / m)


def network_cost(
    h: torch.Tensor, y: torch.Tensor, weights: Iterable[torch.Tensor], lam: float
) -> torch.Tensor:
    """`multilabel_cross_entropy(h, y) + lam / (2m) sum ||W_l||^2` over the `weight` of
    each `nn.Linear` (torch keeps the bias apart, so leaving it out is not passing it).
    Catalog: C4."""
    lam = check_interval("lam", lam, _LAMBDA)
    return multilabel_cross_entropy(h, y) + l2_penalty(weights, lam / h.shape[0])

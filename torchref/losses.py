"""PyTorch counterparts of `scratch.losses`: each loss as the torch built-in, reduction explicit.

Imports torch, `scratch.validation` and `torchref.checks` (the same checks on tensors). Same
names and argument order as `scratch.losses`; every function says which `torch.nn.functional`
call and which `reduction` give the notes' number, so the reduction is never a silent default.
Penalties take an iterable of tensors (e.g. the `weight` of each `nn.Linear`; biases are left
out by not passing them).

Inputs are checked as `scratch.losses` checks them, with its messages: same shapes (torch
would broadcast (3, 1) against (3,)), probabilities in [0, 1], one-hot rows, class labels in
[0, C - 1] (torch's `ignore_index=-100` would silently drop a row), finite values; integer
tensors are promoted to float64 as NumPy promotes them. These are reference functions: the
value checks read the tensors once (a host copy on a GPU).

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

from scratch.validation import (
    PENALTY,
    Choice,
    check_interval,
    check_ndim,
    check_row_sums,
    check_rows_match,
    check_same_shape,
)
from torchref.checks import label_tensor, one_hot_tensor, probability_tensor, real_tensor

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


def _pair(name_a: str, a, name_b: str, b, ndim=(1, 2), probabilities=()):
    """Two same-shaped, non-empty tensors (`scratch.losses._pair`'s checks, in its order),
    then [0, 1] for the names in `probabilities`; b is returned in a's dtype."""
    a = real_tensor(name_a, a, ndim=ndim, allow_empty=False)
    b = real_tensor(name_b, b, ndim=ndim, allow_empty=False)
    check_same_shape(name_a, a, name_b, b)
    for name, x in ((name_a, a), (name_b, b)):
        if name in probabilities:
            probability_tensor(name, x, checked=True)
    return a, b.to(a.dtype)


def squared_error(y_hat: torch.Tensor, y: torch.Tensor, scaling: str = "mean") -> torch.Tensor:
    """`S = F.mse_loss(y_hat, y, reduction="sum")` scaled: "sum" S, "half_sum" S/2,
    "mean" S/N (mean over the N examples of the sum over outputs; torch's own "mean" divides
    by every element instead), "half_mean" S/(2N). Catalog: C1."""
    y_hat, y = _pair("y_hat", y_hat, "y", y)
    SCALINGS.check("scaling", scaling)
    s = F.mse_loss(y_hat, y, reduction="sum")
    if scaling.startswith("half"):
        s = s / 2
    return s / y_hat.shape[0] if scaling.endswith("mean") else s


def binary_cross_entropy(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy(p, t, reduction="mean")`: mean over every element. Catalog: C2."""
    p, t = _pair("p", p, "t", t, probabilities=("p", "t"))
    return F.binary_cross_entropy(p, t, reduction="mean")


def binary_cross_entropy_with_logits(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """From logits: `F.binary_cross_entropy_with_logits(z, t, reduction="mean")`. Catalog: C2."""
    z, t = _pair("z", z, "t", t, probabilities=("t",))
    return F.binary_cross_entropy_with_logits(z, t, reduction="mean")


def multilabel_cross_entropy(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy(p, t, reduction="sum") / N`: sum over outputs, mean over
    the N examples (torch's "mean" would divide by N*K). Catalog: C5."""
    p, t = _pair("p", p, "t", t, ndim=2, probabilities=("p", "t"))
    return F.binary_cross_entropy(p, t, reduction="sum") / p.shape[0]


def categorical_cross_entropy(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """On probabilities: `F.nll_loss(log p, t.argmax(1), reduction="mean")` for one-hot
    rows t: the negative log-probability of the true class, mean over the N examples.
    Rows that are not one-hot are refused (`argmax` would pick a class silently).
    Catalog: C6."""
    p, t = _pair("p", p, "t", t, ndim=2, probabilities=("p",))
    one_hot_tensor("t", t)
    return F.nll_loss(torch.log(p), t.argmax(dim=1), reduction="mean")


def cross_entropy_with_logits(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """On logits: `F.cross_entropy(z, labels, reduction="mean")`; labels int64 (N,) class
    indices or float (N, C) one-hot / class-probability rows. Labels outside [0, C - 1] are
    refused, -100 (torch's `ignore_index`) included: the notes' mean runs over every row.
    Catalog: C6."""
    z = real_tensor("z", z, ndim=2, allow_empty=False)
    check_ndim("labels", tuple(labels.shape), (1, 2))  # class indices (N,) or rows (N, C)
    if labels.ndim == 1:
        check_rows_match("labels", tuple(labels.shape), "z", tuple(z.shape))
        labels = label_tensor("labels", labels, z.shape[1])
    else:
        labels = real_tensor("labels", labels).to(z.dtype)
        check_same_shape("labels", labels, "z", z)
        probability_tensor("labels", labels, checked=True)
        lo, hi = torch.aminmax(labels.detach().sum(dim=1))
        check_row_sums("labels", float(lo), float(hi))
    return F.cross_entropy(z, labels, reduction="mean")


def l2_penalty(params: Iterable[torch.Tensor], lam: float) -> torch.Tensor:
    """`lam / 2 * sum(||w||^2)` over the given tensors (autograd gives `lam * w`, what
    `torch.optim.SGD(weight_decay=lam)` adds to the gradient). Catalog: C7."""
    lam = check_interval("lam", lam, PENALTY)
    return lam / 2 * sum(w.pow(2).sum() for w in params)


def l1_penalty(params: Iterable[torch.Tensor], lam: float) -> torch.Tensor:
    """`lam * sum(|w|)` over the given tensors (autograd's derivative of |w| at 0 is 0).

    Catalog: C8.
    """
    lam = check_interval("lam", lam, PENALTY)
    return lam * sum(w.abs().sum() for w in params)


def regularized_logistic_cost(
    linear: nn.Linear, X: torch.Tensor, y: torch.Tensor, lam: float
) -> torch.Tensor:
    """For `linear = nn.Linear(n, 1)`: mean BCE of the logits `linear(X)` plus
    `lam / (2m) ||linear.weight||^2`; `linear.bias` (theta_0) is not penalized. Catalog: C3."""
    X = real_tensor("X", X, ndim=2, allow_empty=False)
    y = real_tensor("y", y, ndim=1)
    check_rows_match("y", tuple(y.shape), "X", tuple(X.shape))
    probability_tensor("y", y, checked=True)
    lam = check_interval("lam", lam, PENALTY)
    m = X.shape[0]
    z = linear(X.to(linear.weight.dtype)).squeeze(-1)  # (m, 1) -> (m,)
    return binary_cross_entropy_with_logits(z, y) + l2_penalty([linear.weight], lam / m)


def network_cost(
    h: torch.Tensor, y: torch.Tensor, weights: Iterable[torch.Tensor], lam: float
) -> torch.Tensor:
    """`multilabel_cross_entropy(h, y) + lam / (2m) sum ||W_l||^2` over the `weight` of
    each `nn.Linear` (torch keeps the bias apart, so leaving it out is not passing it).
    Catalog: C4."""
    ce = multilabel_cross_entropy(h, y)  # checks h and y first, as scratch does
    lam = check_interval("lam", lam, PENALTY)
    return ce + l2_penalty(weights, lam / h.shape[0])

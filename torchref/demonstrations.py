"""PyTorch counterparts of `scratch.demonstrations` (catalog B3, B7, C11, D11, D12, I5).

Imports torch, `torchref.mlp` (the project's MLP), `torchref.classic` (the perceptron) and
`scratch.validation` (shared error wording) only. Every number is computed the torch way:
`torch.linalg.lstsq` for the B3 fits, `torch.optim.LBFGS` for B7, autograd (first and second
derivatives) for C11/D11/D12, batched `nn.Linear` threshold units for I5. The tests compare
each with its scratch twin, or check the same claim independently where the two cannot agree
bit for bit (two different L-BFGS implementations train different networks).

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: B3 -> torch.linalg:lstsq
Catalog: B7 -> torch.optim:LBFGS
Catalog: C11 -> torch.autograd.functional:hessian
Catalog: D11 -> torch.nn.functional:mse_loss
Catalog: D12 -> torch.nn.functional:binary_cross_entropy_with_logits
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from scratch.validation import Choice
from torchref.mlp import MLP, head_loss, linear_layers

__all__ = [
    "target_function",
    "universal_approximation",
    "circle_dataset",
    "train_lbfgs",
    "CircleResult",
    "circle_demo",
    "mse_sigmoid_loss",
    "ce_sigmoid_loss",
    "loss_hessian",
    "nonconvexity_demo",
    "saturation_gradients",
    "unit_grad",
    "one_hot_separators",
]

_APPROX_ACTIVATIONS = Choice(("relu", "sigmoid"))
_UNITS = Choice(("sigmoid", "relu", "tanh"))
_LOSSES = Choice(("mse", "ce"))
# 003's 1-D data set of C11 (see scratch.demonstrations.C11_X / C11_T).
C11_X = torch.tensor([[1.0], [4.0]], dtype=torch.float64)
C11_T = torch.tensor([0.02, 0.98], dtype=torch.float64)


# ---- B3 --------------------------------------------------------------------------------------


def target_function(x: torch.Tensor) -> torch.Tensor:
    """`0.5 + 0.3 sin(2 pi x) + 0.2 |x - 1/3|`, continuous on [0, 1] with values in [0, 1].

    Catalog: B3.
    """
    return 0.5 + 0.3 * torch.sin(2 * torch.pi * x) + 0.2 * torch.abs(x - 1 / 3)


@dataclass(frozen=True)
class ApproximationResult:
    width: int
    sup_error: float
    model: MLP


def universal_approximation(
    widths: Sequence[int],
    f: Callable[[torch.Tensor], torch.Tensor] = target_function,
    activation: str = "relu",
    n_fit: int = 400,
    n_eval: int = 4001,
) -> list[ApproximationResult]:
    """`MLP([1, width, 1])` with a tiling first layer and a least-squares output layer.

    relu: hinges at k/width; sigmoid: steps of slope 4 width at (k + 1/2)/width (as
    `scratch.demonstrations.hidden_layer_for_width`). The output layer solves
    `torch.linalg.lstsq`; the sup-norm error is the max over `n_eval` grid points. Catalog: B3.
    """
    _APPROX_ACTIVATIONS.check("activation", activation)
    x_fit = torch.linspace(0, 1, n_fit, dtype=torch.float64)[:, None]  # (n_fit, 1)
    x_eval = torch.linspace(0, 1, n_eval, dtype=torch.float64)[:, None]  # (n_eval, 1)
    out = []
    for width in widths:
        model = MLP([1, width, 1], activation=activation, head="regression").double()
        hidden, output = linear_layers(model)
        k = torch.arange(width, dtype=torch.float64)
        with torch.no_grad():
            if activation == "relu":
                hidden.weight.fill_(1.0)
                hidden.bias.copy_(-k / width)
            else:
                hidden.weight.fill_(4.0 * width)
                hidden.bias.copy_(-4.0 * width * (k + 0.5) / width)
            H = model.net[1](hidden(x_fit))  # (n_fit, width)
            A = torch.cat([H, torch.ones(n_fit, 1, dtype=torch.float64)], dim=1)
            coef = torch.linalg.lstsq(A, f(x_fit), driver="gelsd").solution  # (width+1, 1)
            output.weight.copy_(coef[:-1].T)
            output.bias.copy_(coef[-1])
            err = (model(x_eval) - f(x_eval)).abs().max()
        out.append(ApproximationResult(int(width), float(err), model))
    return out


# ---- B7 --------------------------------------------------------------------------------------


def circle_dataset(
    generator: torch.Generator, n: int, half_width: float = 4.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """n points uniform in [-half_width, half_width]^2, y = 1{3 <= x^2 + y^2 <= 8} (002).

    Catalog: B7.
    """
    X = (torch.rand(n, 2, generator=generator, dtype=torch.float64) * 2 - 1) * half_width
    r2 = (X * X).sum(dim=1)
    return X, ((r2 >= 3) & (r2 <= 8)).to(torch.float64)


def train_lbfgs(model: MLP, X: torch.Tensor, y: torch.Tensor, max_iter: int = 500) -> MLP:
    """Full-batch `torch.optim.LBFGS` (strong Wolfe line search) on the model's head loss.

    Catalog: B7.
    """
    opt = torch.optim.LBFGS(
        model.parameters(), lr=1.0, max_iter=max_iter, history_size=20,
        line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-14,
    )

    def closure():
        opt.zero_grad()
        loss = head_loss(model(X), y, model.head)
        loss.backward()
        return loss

    opt.step(closure)
    return model


@dataclass(frozen=True)
class CircleResult:
    majority_rate: float
    label_entropy: float
    logreg_test_accuracy: float
    logreg_train_loss: float
    mlp_train_accuracy: float
    mlp_test_accuracy: float
    hidden: torch.Tensor  # (n_train, width) hidden representation of the training set
    X_train: torch.Tensor
    y_train: torch.Tensor


def _accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model(X)[:, 0] > 0) == (y > 0.5)).to(torch.float64).mean())


def circle_demo(
    seed: int = 0, n_train: int = 2000, n_test: int = 5000, width: int = 64, max_iter: int = 150
) -> CircleResult:
    """B7 in torch: logistic regression `MLP([2, 1], head="binary")` vs `MLP([2, width, 1])`.

    Both trained by `torch.optim.LBFGS`; returns the accuracies and the hidden representation
    `relu(W1 x + b1)` of the training set (the tests check its separability with
    `scratch.classic.linear_separability`). Catalog: B7, B10.
    """
    g = torch.Generator().manual_seed(seed)
    X, y = circle_dataset(g, n_train)
    Xt, yt = circle_dataset(g, n_test)
    torch.manual_seed(seed)
    logreg = train_lbfgs(MLP([2, 1], head="binary").double(), X, y, max_iter)
    mlp = MLP([2, width, 1], activation="relu", head="binary").double()
    mlp = train_lbfgs(mlp, X, y, max_iter)
    p = float(y.mean())
    with torch.no_grad():
        hidden = mlp.net[1](mlp.net[0](X))  # (n_train, width)
        lr_loss = float(head_loss(logreg(X), y, "binary"))
    return CircleResult(
        majority_rate=max(float(yt.mean()), 1 - float(yt.mean())),
        label_entropy=-(p * math.log(p) + (1 - p) * math.log(1 - p)),
        logreg_test_accuracy=_accuracy(logreg, Xt, yt),
        logreg_train_loss=lr_loss,
        mlp_train_accuracy=_accuracy(mlp, X, y),
        mlp_test_accuracy=_accuracy(mlp, Xt, yt),
        hidden=hidden,
        X_train=X,
        y_train=y,
    )


# ---- C11 / D11 / D12 -------------------------------------------------------------------------


def mse_sigmoid_loss(w: torch.Tensor, X: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """`1/(2m) sum (sigma(X w) - t)^2` = `F.mse_loss(...) / 2` (003's MSE). Catalog: C11, D11."""
    return F.mse_loss(torch.sigmoid(X @ w), t) / 2


def ce_sigmoid_loss(w: torch.Tensor, X: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """`F.binary_cross_entropy_with_logits(X w, t)` (mean over m). Catalog: C11, D12."""
    return F.binary_cross_entropy_with_logits(X @ w, t)


def loss_hessian(loss: Callable, w: torch.Tensor, X: torch.Tensor, t: torch.Tensor):
    """d^2 loss / dw^2 by autograd (`torch.autograd.functional.hessian`): (d, d). Catalog: C11."""
    return torch.autograd.functional.hessian(lambda v: loss(v, X, t), w)


def _grid_derivatives(loss: Callable, w: torch.Tensor, X: torch.Tensor, t: torch.Tensor):
    """First and second derivative of a 1-D loss at every grid point, by autograd.

    The grid is evaluated as one batch: loss k depends on w_k only, so the gradient of the
    sum is the vector of the G derivatives (and likewise for the second derivative).
    """
    w = w.detach().clone().requires_grad_(True)
    values = torch.stack([loss(v[None], X, t) for v in w])  # (G,)
    (d1,) = torch.autograd.grad(values.sum(), w, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), w)
    return values.detach(), d1.detach(), d2.detach()


def _bisect_root(loss: Callable, lo: float, hi: float, X, t, iters: int = 60) -> float:
    """A zero of the autograd derivative between lo (negative) and hi (positive)."""
    for _ in range(iters):
        mid = torch.tensor([(lo + hi) / 2], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(loss(mid, X, t), mid)
        m = float(mid.detach())
        lo, hi = (m, hi) if float(g) < 0 else (lo, m)
    return (lo + hi) / 2


def nonconvexity_demo(grid: torch.Tensor | None = None) -> dict:
    """C11 in torch, by autograd: where the derivative crosses 0 from - to + (a minimum).

    On 003-style 1-D data (`C11_X`, `C11_T`), the MSE derivative crosses upward twice (two
    local minima) and the CE derivative once; the second derivative (autograd of autograd)
    is negative somewhere for MSE and never for CE. Returns `mse_minima`, `ce_minima` (lists
    of (w, loss)) and `mse_min_curvature`, `ce_min_curvature` on the grid. Catalog: C11.
    Scratch twin: `scratch.demonstrations.nonconvexity_demo` (grid scan of the values, Brent).
    """
    g = torch.linspace(-10, 10, 401, dtype=torch.float64) if grid is None else grid
    out = {}
    for name, loss in (("mse", mse_sigmoid_loss), ("ce", ce_sigmoid_loss)):
        _, d1, d2 = _grid_derivatives(loss, g, C11_X, C11_T)
        minima = []
        for i in range(g.numel() - 1):
            if d1[i] < 0 <= d1[i + 1]:
                w = _bisect_root(loss, float(g[i]), float(g[i + 1]), C11_X, C11_T)
                with torch.no_grad():
                    value = float(loss(torch.tensor([w], dtype=torch.float64), C11_X, C11_T))
                minima.append((w, value))
        out[f"{name}_minima"] = minima
        out[f"{name}_min_curvature"] = float(d2.min())
    return out


def saturation_gradients(z: torch.Tensor, t: float = 1.0) -> dict:
    """|dL/dw| of one sigmoid unit (x = 1) at each z, by autograd, for MSE and CE.

    Catalog: D11, D12.
    """
    out = {}
    for name, loss in (("mse", mse_sigmoid_loss), ("ce", ce_sigmoid_loss)):
        grads = []
        for v in z.tolist():
            w = torch.tensor([v], dtype=torch.float64, requires_grad=True)
            x1 = torch.ones(1, 1, dtype=torch.float64)
            loss(w, x1, torch.tensor([t], dtype=torch.float64)).backward()
            grads.append(abs(float(w.grad[0])))
        out[name] = torch.tensor(grads, dtype=torch.float64)
    return out


def unit_grad(unit: str, loss: str, w: torch.Tensor, X: torch.Tensor, t: torch.Tensor):
    """dL/dw of one unit `y = g(X w)` by autograd, mean over the m examples. Catalog: D11, D12.

    MSE: `F.mse_loss(y, t) / 2`. CE: sigmoid `F.binary_cross_entropy_with_logits(z, t)`;
    tanh: the same on 2z (`(1 + tanh z)/2 = sigma(2z)`); relu: `F.binary_cross_entropy(relu
    z, t)`, defined for 0 < y < 1 (torch clamps its logs at -100 elsewhere).
    """
    _UNITS.check("unit", unit)
    _LOSSES.check("loss", loss)
    w = w.detach().clone().requires_grad_(True)
    z = X @ w
    y = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}[unit](z)
    if loss == "mse":
        value = F.mse_loss(y, t) / 2
    elif unit == "sigmoid":
        value = F.binary_cross_entropy_with_logits(z, t)
    elif unit == "tanh":
        value = F.binary_cross_entropy_with_logits(2 * z, t)
    else:
        value = F.binary_cross_entropy(y, t)
    value.backward()
    return w.grad


# ---- I5 --------------------------------------------------------------------------------------


def one_hot_separators(n: int, dtype=torch.float64) -> tuple[nn.Linear, torch.Tensor]:
    """One BTU per labeling of n one-hot codes, as one `nn.Linear(n, 2^n)`: row k's weights
    are `2 y_k - 1` and its bias 0, so `Step()(layer(I))` reproduces every labeling. Catalog: I5.

    Returns the layer and the labelings (2^n, n). Applying `Step()(layer(torch.eye(n)))`
    gives (n, 2^n) = labelings.T (`torchref.activations.Step`).
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 12:
        raise ValueError(f"n must be an integer in [1, 12], got {n!r}")
    k = torch.arange(2**n)[:, None]
    labelings = ((k >> torch.arange(n - 1, -1, -1)) & 1).to(dtype)  # (2^n, n)
    layer = nn.Linear(n, 2**n, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(2 * labelings - 1)
        layer.bias.zero_()
    layer.requires_grad_(False)
    return layer, labelings

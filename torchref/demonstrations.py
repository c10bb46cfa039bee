"""PyTorch counterparts of `scratch.demonstrations` (catalog B3, B7, C11, D11, D12, I5, and the
claims of docs/demonstrations.md's second part: F8, F10, F14, F16, F22, H3, I4, E11-E13).

Imports torch, `torchref.mlp` (the project's MLP), `torchref.autoencoders` and
`scratch.validation` (shared error wording) only. Every number is computed the torch way:
`torch.linalg.lstsq` for the B3 fits, `torch.optim.LBFGS` for B7, autograd (first and second
derivatives) for C11/D11/D12, batched `nn.Linear` threshold units for I5, `torch.optim` and
`DataLoader` for the training claims. The tests compare each with its scratch twin, or check
the same claim independently where the two cannot agree bit for bit (two different L-BFGS
implementations train different networks; torch's dropout draws its own masks).

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

from scratch.validation import Choice, check_int
from torchref.autoencoders import Autoencoder, train_autoencoder
from torchref.mlp import MLP, head_loss, linear_layers, load_numpy_params

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
    n = check_int("n", n, 1, 12)  # 2^n labelings: 4096 rows at n = 12
    k = torch.arange(2**n)[:, None]
    labelings = ((k >> torch.arange(n - 1, -1, -1)) & 1).to(dtype)  # (2^n, n)
    layer = nn.Linear(n, 2**n, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(2 * labelings - 1)
        layer.bias.zero_()
    layer.requires_grad_(False)
    return layer, labelings


# ==== The notes' remaining claims in torch (scratch twins in scratch.demonstrations) ==========
#
# Every function takes what its scratch twin drew at random (initial weights, example indices,
# mini-batches, noise) as an argument, so a parity test can compare the two runs step by step;
# the training itself is torch's own (torch.optim, DataLoader, nn.Dropout, autograd).


# ---- F16 -----------------------------------------------------------------------------------


def weight_decay_path(w0: float, target: float, *, lr: float, lam: float, steps: int):
    """`torch.optim.SGD(lr, weight_decay=lam)` on `(w - target)^2 / 2` from w0: path (steps+1,).

    torch adds `lam w` to the gradient, the notes' `(1 - eps lam) w - eps dL/dw`. Catalog: F16.
    """
    w = torch.tensor([float(w0)], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, weight_decay=lam)
    path = [w.item()]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (w - target) ** 2).sum().backward()
        opt.step()
        path.append(w.item())
    return torch.tensor(path, dtype=torch.float64)


# ---- F10 -----------------------------------------------------------------------------------


def quadratic_momentum_path(curvatures: torch.Tensor, *, lr: float, mu: float, nesterov: bool,
                            steps: int) -> torch.Tensor:
    """`torch.optim.SGD(lr, momentum=mu, nesterov=...)` on `1/2 sum a_i w_i^2` from w = 1.

    Returns the parameter path (K+1, d), stopping once f exceeds 1e12 f(w_0). For Nesterov,
    torch's parameter is the notes' look-ahead point `w + mu m` (Sutskever's form), the same
    points at which the notes take the gradient. Catalog: F10.
    """
    a = curvatures.to(torch.float64)
    w = torch.ones_like(a, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=mu, nesterov=nesterov)
    f0 = 0.5 * float(a.sum())
    path = [w.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (a * w * w).sum()).backward()
        opt.step()
        path.append(w.detach().clone())
        if 0.5 * float((a * w * w).sum().detach()) > 1e12 * f0:
            break
    return torch.stack(path)


# ---- F14 -----------------------------------------------------------------------------------


def adam_steps(grads: torch.Tensor, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-16):
    """`torch.optim.Adam` fed the gradients `grads` (steps, runs): the weight path (steps+1, runs).

    torch's betas are (gradient, squared gradient), 002's names reversed. Catalog: F14.
    """
    w = torch.zeros(grads.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr, betas=betas, eps=eps)
    path = [w.detach().clone()]
    for g in grads.to(torch.float64):
        opt.zero_grad()
        w.grad = g.clone()
        opt.step()
        path.append(w.detach().clone())
    return torch.stack(path)


def adaptive_generalization(X, y, X_test, y_test, steps: int = 3000) -> dict:
    """`torch.optim.Adam(lr=0.01)` against `torch.optim.SGD(lr=0.05, momentum=0.9)` from w = 0
    on `1/(2n) ||X w - y||^2` (full batch). Per optimizer: `train_mse`, `train_accuracy`,
    `test_accuracy`, `w123`. Data from `scratch.demonstrations.adaptive_overfit_data`.
    Catalog: F14 (002 §4.3.5).
    """
    X, y, Xt, yt = (torch.as_tensor(v, dtype=torch.float64) for v in (X, y, X_test, y_test))
    out = {}
    for name in ("sgd_momentum", "adam"):
        w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
        opt = (torch.optim.SGD([w], lr=0.05, momentum=0.9) if name == "sgd_momentum"
               else torch.optim.Adam([w], lr=0.01))
        for _ in range(steps):
            opt.zero_grad()
            (0.5 * ((X @ w - y) ** 2).mean()).backward()
            opt.step()
        with torch.no_grad():
            out[name] = {
                "train_mse": float(((X @ w - y) ** 2).mean()),
                "train_accuracy": float((torch.sign(X @ w) == y).double().mean()),
                "test_accuracy": float((torch.sign(Xt @ w) == yt).double().mean()),
                "w123": w[:3].clone(),
            }
    return out


# ---- F8 ------------------------------------------------------------------------------------


def minibatch_sgd(X, t, batches, *, lr: float) -> torch.Tensor:
    """Mini-batch SGD with a `DataLoader` over the given `batches` (index lists), from w = 0.

    The loss of a batch is `1/(2S) sum (x.w - t)^2` (`F.mse_loss / 2`), `torch.optim.SGD(lr)`.
    Returns the weight path (len(batches) + 1, d). Catalog: F8.
    """
    data = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(t))
    loader = torch.utils.data.DataLoader(data, batch_sampler=[list(map(int, b)) for b in batches])
    lin = nn.Linear(data.tensors[0].shape[1], 1, bias=False, dtype=torch.float64)
    nn.init.zeros_(lin.weight)
    opt = torch.optim.SGD(lin.parameters(), lr=lr)
    path = [lin.weight[0].detach().clone()]
    for xb, tb in loader:
        opt.zero_grad()
        (F.mse_loss(lin(xb)[:, 0], tb) / 2).backward()
        opt.step()
        path.append(lin.weight[0].detach().clone())
    return torch.stack(path)


# ---- B3 / H3 -------------------------------------------------------------------------------


def train_full_batch(model: MLP, X, y, *, lr: float, momentum: float, steps: int) -> torch.Tensor:
    """Full-batch `torch.optim.SGD(lr, momentum)` on the model's head loss; the loss before
    each step (steps,). Catalog: B3, H3."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss = head_loss(model(X), y, model.head)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return torch.tensor(history, dtype=torch.float64)


def steps_to_fit(model: MLP, X, y, *, target: float = 0.2, max_steps: int = 5000,
                 lr: float = 0.1, momentum: float = 0.9, seed: int = 0):
    """Steps of full-batch `SGD(lr, momentum)` in train mode (its `nn.Dropout` active, seeded by
    `torch.manual_seed(seed)`) until the head loss in eval mode (no dropout) is <= target;
    None if `max_steps` are not enough. Catalog: H3 (002 §4.4.3)."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    torch.manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    for k in range(max_steps):
        model.train()
        opt.zero_grad()
        head_loss(model(X), y, model.head).backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            if float(head_loss(model(X), y, model.head)) <= target:
                return k + 1
    return None


# ---- F22 -----------------------------------------------------------------------------------


def sgd_escape(w0: float, slopes, indices, *, lr: float, h: float = 1.0, c: float = 0.3):
    """`torch.optim.SGD(lr)` on R runs of the double well at once: run r's loss at step k is
    `h (w_r^2 - 1)^2 + c w_r + s[indices[k, r]] w_r` (example `indices[k, r]`, slope s). The
    runs' losses are summed, so each run gets its own gradient. Returns w (R,). Catalog: F22.
    """
    idx = torch.as_tensor(indices)
    s = torch.as_tensor(slopes, dtype=torch.float64)
    w = torch.full((idx.shape[1],), float(w0), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    for k in range(idx.shape[0]):
        opt.zero_grad()
        (h * (w * w - 1) ** 2 + c * w + s[idx[k]] * w).sum().backward()
        opt.step()
    return w.detach()


# ---- I4 ------------------------------------------------------------------------------------


def train_autoencoder_gd(params, X, sizes, activation: str, *, lr: float, steps: int):
    """`torchref.autoencoders.Autoencoder(sizes, activation, output "identity", loss "mse")`
    loaded with the scratch `params`, trained by `train_autoencoder` (`torch.optim.SGD(lr)`).
    Returns `(model, history)`. Catalog: I4."""
    ae = Autoencoder(sizes, activation=activation, output_activation="identity", loss="mse")
    load_numpy_params(ae, params)
    history = train_autoencoder(ae, torch.as_tensor(X), steps=steps, lr=lr)
    return ae, torch.tensor(history, dtype=torch.float64)


# ---- E11, E12, E13 -------------------------------------------------------------------------


def stdp_window(dt: torch.Tensor, a_plus: float = 1.0, a_minus: float = 1.0,
                tau_plus: float = 20.0, tau_minus: float = 20.0) -> torch.Tensor:
    """Pair-based STDP window (`torch.where` of two exponentials), 0 at dt = 0. Catalog: E11."""
    pos = a_plus * torch.exp(-dt.abs() / tau_plus)
    neg = -a_minus * torch.exp(-dt.abs() / tau_minus)
    return torch.where(dt > 0, pos, torch.where(dt < 0, neg, torch.zeros_like(dt)))


def anti_hebbian_synapse(rate_pre: float, rate_post: float, w0: float = 1.0, lr: float = 0.1,
                         steps: int = 20, rule: str = "anti-hebbian") -> torch.Tensor:
    """`w <- clamp(w -+ lr r_pre r_post, min=0)` (anti-Hebbian: minus): path (steps+1,).

    Catalog: E12 (003).
    """
    sign = -1.0 if rule == "anti-hebbian" else 1.0
    w = torch.tensor(float(w0), dtype=torch.float64)
    path = [w]
    for _ in range(steps):
        w = torch.clamp(w + sign * lr * rate_post * rate_pre, min=0.0)
        path.append(w)
    return torch.stack(path)


def lif_rate(current: torch.Tensor, tau: float = 20.0, v_th: float = 1.0, t_ref: float = 2.0,
             resistance: float = 1.0) -> torch.Tensor:
    """LIF firing rate `1 / (t_ref + tau log(RI / (RI - v_th)))` above threshold, else 0.

    Catalog: E13 (003).
    """
    drive = resistance * current
    above = drive > v_th
    safe = torch.where(above, drive, torch.full_like(drive, 2.0 * v_th))
    rate = 1.0 / (t_ref + tau * torch.log(safe / (safe - v_th)))
    return torch.where(above, rate, torch.zeros_like(drive))


def firing_probability(current: torch.Tensor, theta: float = 1.0, sigma: float = 0.2):
    """`Phi((I - theta) / sigma)` (`torch.special.ndtr`): P(fire) with a noisy threshold.

    Catalog: E13 (003).
    """
    return torch.special.ndtr((current - theta) / sigma)


__all__ += [
    "weight_decay_path",
    "quadratic_momentum_path",
    "adam_steps",
    "adaptive_generalization",
    "minibatch_sgd",
    "train_full_batch",
    "steps_to_fit",
    "sgd_escape",
    "train_autoencoder_gd",
    "stdp_window",
    "anti_hebbian_synapse",
    "lif_rate",
    "firing_probability",
]


# ---- B12, F21 ------------------------------------------------------------------------------


def hidden_layers(model: nn.Module) -> int:
    """002's count: the hidden layers of a layered network, its `nn.Linear` layers but the last.

    A network is deep, by 002 §4 and §4.1.1, when this is more than 1; the scratch side counts
    000's way instead (`scratch.demonstrations.hidden_path_depth` on the module's connection
    graph, `torchref.classic.connection_graph`), and the two agree. Catalog: B12 (000, 002).
    """
    return len(linear_layers(model)) - 1


def global_minimum_vs_convexity(nets, X, ws=(0.0, 1.0, 10.0, 30.0)) -> dict:
    """The F21 numbers by torch: the mean squared error of each 1-2-1 ReLU network of `nets`
    (scratch params, loaded into `MLP([1, 2, 1], "relu", "regression")`) against the first
    one's outputs at X, and `C(w)`, `C''(w)` of logistic regression on the separable pair
    x = -1 (t = 0), x = 1 (t = 1) by `F.binary_cross_entropy_with_logits` and autograd twice.
    Catalog: F21 (002). Returns `losses`, `separable_ce` [(w, C)], `separable_ce_curvature`.
    """
    X = torch.as_tensor(X)
    models = [load_numpy_params(MLP([1, 2, 1], "relu", head="regression"), p) for p in nets]
    with torch.no_grad():
        y = models[0](X)
        losses = [float(head_loss(m(X), y, "regression")) for m in models]
    x = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    ce, curv = [], []
    for w0 in ws:
        w = torch.tensor(float(w0), dtype=torch.float64, requires_grad=True)
        c = F.binary_cross_entropy_with_logits(w * x, t)
        (g,) = torch.autograd.grad(c, w, create_graph=True)
        (h,) = torch.autograd.grad(g, w)
        ce.append((float(w0), c.item()))
        curv.append(h.item())
    return {"losses": losses, "separable_ce": ce, "separable_ce_curvature": min(curv)}


__all__ += ["hidden_layers", "global_minimum_vs_convexity"]

"""The notes' worked-example tables, one number per cell, for any network and any numbers.

NumPy only; imports `scratch.activations`, `scratch.losses`, `scratch.backprop`,
`scratch.optim` and `scratch.validation`. `python -m torchref.trace` prints these tables and
marks a student's hand-computed copy of them; parity_tests/test_trace.py proves them against
torch autograd.

  MLP, one GD step on m examples, in 001's notation (W[l] of shape (n_l, n_{l-1}), examples as
  rows here, each row one example):
    `forward_table`      z[l] = W[l] a[l-1] + b[l], a[l] = g_l(z[l])            (B1, B6)
    `loss_table`         the per-example loss L_i                              (C1, C2, C6)
    `output_delta_table` delta[L] = dL_i/dz[L] per example                      (D6)
    `backward_table`     delta[l] = (W[l+1]^T delta[l+1]) * g'(z[l]), dL_i/dW[l] = delta[l]
                         a[l-1]^T, dL_i/db[l] = delta[l]; 004's accumulation
                         Delta := Delta + delta a^T and D = Delta/m              (D4, D6, D7)
    `mlp_step`           all of it and the update W <- W - lr D                (F1)
  `linear_unit_table`    003's GD table for a linear unit y = w . x: per row y_p, y_p - t_p
                         and (y_p - t_p) x_p, their mean (or sum), the step     (F3, F4)
  `optimizer_table`      SGD, momentum, Nesterov, Adagrad, RMSprop, Adam step by step, each
                         in the notes' form (scratch.optim) or in torch.optim's    (F1-F14)

The g'(z) values enter `backward_table` as an argument: the trace tool passes the derivative
of another activation there to recognise a student's "derivative of the wrong activation".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scratch import losses, optim
from scratch.activations import ACTIVATIONS, get_activation, softmax
from scratch.backprop import output_delta
from scratch.validation import Choice, check_array

__all__ = [
    "LOSSES",
    "OUTPUT_ACTIVATIONS",
    "OPTIMIZERS",
    "VARIANTS",
    "forward_table",
    "loss_table",
    "loss_grad_table",
    "output_delta_table",
    "backward_table",
    "hidden_g_prime",
    "MLPStep",
    "mlp_step",
    "LinearStep",
    "linear_unit_table",
    "OptimizerStep",
    "optimizer_state_keys",
    "torch_momentum_update",
    "torch_nesterov_update",
    "torch_adagrad_update",
    "torch_rmsprop_update",
    "torch_adam_update",
    "optimizer_table",
]

# Per-example losses (sum over the K outputs of one example; the cost is their mean, 001).
LOSSES = Choice(("half_sse", "sse", "mse", "bce", "cce"))
# Element-wise activations, plus softmax for the output of a "cce" network.
OUTPUT_ACTIVATIONS = Choice((*ACTIVATIONS, "softmax"))
OPTIMIZERS = Choice(("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"))
VARIANTS = Choice(("notes", "torch"))


# ---- the MLP's tables ---------------------------------------------------------------------


def _activate(z: np.ndarray, name: str) -> np.ndarray:
    return softmax(z, axis=1) if name == "softmax" else get_activation(name)[0](z)


def forward_table(weights, biases, X, activations: Sequence[str]):
    """Every layer's pre-activation and activation, example by example.

    001 (B1): `Z[l] = W[l] A[l-1] + b[l]`, `A[l] = g[l](Z[l])`, `A[0] = X`; with the bias
    folded in (B5, 004) the same numbers are `z^(l+1) = Theta^(l) a^(l)`, a_0 = 1.
    `activations[l]` names layer l+1's g (softmax allowed for the output layer, over each
    example's K outputs).
    Catalog: B1, B5, B6 (001, 003, 004)
    Shapes: weights[l] (n_{l+1}, n_l); biases[l] (n_{l+1},); X (m, n_0) one example a row.
    Returns (z, a): lists of L arrays (m, n_l); the input is not included.
    """
    a = check_array("x", X, ndim=2)
    z_list, a_list = [], []
    for W, b, name in zip(weights, biases, activations, strict=True):
        z = a @ W.T + b  # (m, n_l): row i is W z_{i-1} + b of example i
        a = _activate(z, name)
        z_list.append(z)
        a_list.append(a)
    return z_list, a_list


def loss_table(z_L, a_L, T, loss: str, activation: str) -> np.ndarray:
    """The loss of each example, L_i, summed over its K outputs.

      half_sse  1/2 sum_k (t_k - a_k)^2     (004's eps(k); the usual hand-worked loss)
      sse       sum_k (t_k - a_k)^2          (002's L_0)
      mse       1/K sum_k (t_k - a_k)^2      (so that the cost is `F.mse_loss`'s mean)
      bce       -sum_k [t_k log a_k + (1 - t_k) log(1 - a_k)]   (C2/C5; from the logits when
                the output is sigmoid, so a saturated unit gives the exact, finite loss)
      cce       -sum_k t_k log a_k, a = softmax(z)              (C6, from the logits)
    The cost is the mean of these over the m examples (001's J = 1/m sum_i L).
    Catalog: C1, C2, C5, C6 (001, 002, 003, 004)
    Shapes: z_L, a_L, T (m, K) -> (m,).
    """
    LOSSES.check("loss", loss)
    m, K = a_L.shape
    rows = []
    for i in range(m):
        zi, ai, ti = z_L[i : i + 1], a_L[i : i + 1], T[i : i + 1]
        if loss in ("half_sse", "sse"):
            rows.append(losses.squared_error(ai, ti, scaling=loss.replace("sse", "sum")))
        elif loss == "mse":
            rows.append(losses.squared_error(ai, ti, scaling="sum") / K)
        elif loss == "bce" and activation == "sigmoid":
            rows.append(K * losses.binary_cross_entropy_with_logits(zi, ti))  # mean -> sum
        elif loss == "bce":
            rows.append(K * losses.binary_cross_entropy(ai, ti))
        else:
            rows.append(losses.cross_entropy_with_logits(zi, ti))
    return np.array(rows, dtype=a_L.dtype)


def loss_grad_table(a_L, T, loss: str) -> np.ndarray:
    """dL_i/da[L] for each example (the loss's own derivative, before g'(z)).

    half_sse `a - t`, sse `2(a - t)`, mse `2(a - t)/K`, bce `(a - t)/(a(1 - a))` (003's
    `dC/dy`), cce `-t/a`.
    Catalog: C1, C2, C6 (002, 003)
    Shapes: a_L, T (m, K) -> (m, K).
    """
    LOSSES.check("loss", loss)
    m, K = a_L.shape
    if loss == "half_sse":
        return losses.squared_error_grad(a_L, T, scaling="half_sum")
    if loss == "sse":
        return losses.squared_error_grad(a_L, T, scaling="sum")
    if loss == "mse":
        return losses.squared_error_grad(a_L, T, scaling="sum") / K
    if loss == "bce":
        return losses.multilabel_cross_entropy_grad(a_L, T) * m  # its 1/m undone: per example
    return losses.categorical_cross_entropy_grad(a_L, T) * m


def output_delta_table(z_L, a_L, T, loss: str, activation: str) -> np.ndarray:
    """The output layer's delta, `delta[L] = dL_i/dz[L] = dL_i/da[L] * g'(z[L])`, per example.

    D6 (004): for a sigmoid output with the cross-entropy the factors cancel to
    `delta = a - t` (derived in `scratch.backprop.output_delta`), and so for softmax with the
    categorical cross-entropy; those two use the cancelled form (exact where a saturates).
    Every other pair multiplies `loss_grad_table` by g'(z[L]) element by element.
    Catalog: D6 (004)
    Shapes: z_L, a_L, T (m, K) -> (m, K).
    """
    if (loss, activation) == ("bce", "sigmoid"):
        return output_delta(a_L, T, "binary")
    if (loss, activation) == ("cce", "softmax"):
        return output_delta(a_L, T, "multiclass")
    return loss_grad_table(a_L, T, loss) * get_activation(activation)[1](z_L)


def backward_table(weights, X, a, delta_L, g_prime):
    """Hidden deltas and every example's gradients, then 004's accumulation.

    D6/D4: `delta[l] = (W[l+1]^T delta[l+1]) * g'(z[l])` for l = L-1 ... 1;
    `dL_i/dW[l] = delta[l] a[l-1]^T` (an outer product per example), `dL_i/db[l] = delta[l]`.
    D7 (004): `Delta[l] := Delta[l] + delta[l] a[l-1]^T` over the examples, `D = Delta / m`
    (lambda = 0) is the gradient of the mean cost.
    `g_prime[l]` holds g'(z) of layer l+1 (m, n_{l+1}) for the hidden layers (the output
    layer's entry is not used: its g' is inside delta_L).
    Catalog: D4, D6, D7 (001, 004)
    Shapes: weights[l] (n_{l+1}, n_l); X (m, n_0); a[l] (m, n_{l+1});
    delta_L (m, n_L). Returns a dict of lists by layer: "delta" (m, n_l), "grad_W_each"
    (m, n_l, n_{l-1}), "grad_b_each" (m, n_l), "Delta_W", "Delta_b" (running sums after
    each example, the same shapes), "grad_W" (n_l, n_{l-1}) and "grad_b" (n_l,) (= D).
    """
    L = len(weights)
    m = X.shape[0]
    inputs = [X, *a[:-1]]  # a[l-1] feeding layer l
    delta: list[np.ndarray] = [np.empty(0)] * L
    delta[L - 1] = delta_L
    for l in range(L - 2, -1, -1):
        delta[l] = (delta[l + 1] @ weights[l + 1]) * g_prime[l]  # (m, n_l): W^T delta per row
    out: dict[str, list[np.ndarray]] = {k: [] for k in (
        "delta", "grad_W_each", "grad_b_each", "Delta_W", "Delta_b", "grad_W", "grad_b")}
    for l in range(L):
        gW = np.einsum("mi,mj->mij", delta[l], inputs[l])  # (m, n_l, n_{l-1}): delta a^T
        Delta_W = np.cumsum(gW, axis=0)  # Delta := Delta + delta a^T, example by example
        Delta_b = np.cumsum(delta[l], axis=0)
        out["delta"].append(delta[l])
        out["grad_W_each"].append(gW)
        out["grad_b_each"].append(delta[l].copy())
        out["Delta_W"].append(Delta_W)
        out["Delta_b"].append(Delta_b)
        out["grad_W"].append(Delta_W[-1] / m)  # D = Delta / m
        out["grad_b"].append(Delta_b[-1] / m)
    return out


@dataclass(frozen=True)
class MLPStep:
    """One GD step of `mlp_step`: every table, by layer (index l is layer l+1; no input layer).

    z, a, delta: (m, n_l); loss_each (m,), loss = their mean; grad_W_each, Delta_W
    (m, n_l, n_{l-1}); grad_b_each, Delta_b (m, n_l); grad_W, grad_b: the mean (D);
    new_W, new_b: after the step (None without a learning rate).
    """

    z: list[np.ndarray]
    a: list[np.ndarray]
    loss_each: np.ndarray
    loss: float
    delta: list[np.ndarray]
    grad_W_each: list[np.ndarray]
    grad_b_each: list[np.ndarray]
    Delta_W: list[np.ndarray]
    Delta_b: list[np.ndarray]
    grad_W: list[np.ndarray]
    grad_b: list[np.ndarray]
    new_W: list[np.ndarray] | None
    new_b: list[np.ndarray] | None


def hidden_g_prime(z, activations: Sequence[str]) -> list[np.ndarray]:
    """g'(z[l]) of every hidden layer by its own activation (the output's entry is unused)."""
    return [get_activation(name)[1](zl) if name != "softmax" else np.ones_like(zl)
            for zl, name in zip(z, activations, strict=True)]


def mlp_step(
    weights, biases, X, T, activations: Sequence[str], loss: str,
    lr: float | None = None, update_biases: bool = True, *,
    g_prime: list[np.ndarray] | None = None, delta_L: np.ndarray | None = None,
) -> MLPStep:
    """One gradient-descent step of an MLP on the m examples of X, with every table.

    Forward (B1), per-example loss (C1/C2/C6), output delta (D6), hidden deltas and
    per-example gradients (D4, D6), 004's accumulation Delta and D = Delta/m (D7), then the
    GD update `W[l] <- W[l] - lr D[l]`, `b[l] <- b[l] - lr dJ/db[l]` (001, F1; biases kept
    when `update_biases` is False).
    Catalog: B1, D4, D6, D7, F1 (001, 004)
    PyTorch: the same numbers from autograd of the mean cost and `torch.optim.SGD(lr)`
    (torchref.trace cross-checks every one on every run).
    Shapes: weights[l] (n_{l+1}, n_l), biases[l] (n_{l+1},), X (m, n_0), T (m, n_L);
    `activations` one name per layer after the input. `g_prime` and `delta_L`, when given,
    replace the hidden layers' g'(z) values and the output delta (the trace tool passes a
    usual slip there, to recognise it in a student's table).
    """
    z, a = forward_table(weights, biases, X, activations)
    loss_each = loss_table(z[-1], a[-1], T, loss, activations[-1])
    if delta_L is None:
        delta_L = output_delta_table(z[-1], a[-1], T, loss, activations[-1])
    if g_prime is None:
        g_prime = hidden_g_prime(z, activations)
    tables = backward_table(weights, X, a, delta_L, g_prime)
    new_W = new_b = None
    if lr is not None:
        # The bare GD rule (gd_update refuses a non-finite gradient): the trace reports an
        # overflow itself, by the path of the first number it spoils (torchref.trace.core).
        new_W = [optim._gd(W, g, lr) for W, g in zip(weights, tables["grad_W"], strict=True)]
        new_b = [optim._gd(b, g, lr) if update_biases else np.array(b, copy=True)
                 for b, g in zip(biases, tables["grad_b"], strict=True)]
    return MLPStep(z=z, a=a, loss_each=loss_each, loss=loss_each.mean(), new_W=new_W,
                   new_b=new_b, **{k: tables[k] for k in (
                       "delta", "grad_W_each", "grad_b_each", "Delta_W", "Delta_b", "grad_W",
                       "grad_b")})


# ---- 003's GD table for a linear unit (F3, F4) ---------------------------------------------


@dataclass(frozen=True)
class LinearStep:
    """One row per example p: y_p, y_p - t_p, (y_p - t_p) x_p; then the step.

    y, error (m,); contribution (m, d); loss; grad (d,) = mean (or sum) of the contributions;
    change = -lr grad (Delta w); new_w = w + change.
    """

    y: np.ndarray
    error: np.ndarray
    contribution: np.ndarray
    loss: float
    grad: np.ndarray
    change: np.ndarray
    new_w: np.ndarray


def linear_unit_table(w, X, t, lr: float, reduction: str = "mean") -> LinearStep:
    """003's one-step GD table for a linear unit `y_p = w . x_p` (bias as x_p0 = 1).

    003 ("Gradient Descent - Single var", "updating the weights and the error"):
        dloss/dw_i = 1/m sum_p (y_p - t_p) x_pi,   Delta w_i = -lambda dloss/dw_i,
        w_i <- w_i + Delta w_i
    for the loss `1/(2m) sum_p (y_p - t_p)^2` (`reduction="mean"`, C1's half mean) or
    `1/2 sum_p (y_p - t_p)^2` (`"sum"`, 003's general rule summed over D; F4 shows which
    one its example uses).
    Catalog: F3, F4, C1 (003)
    PyTorch: autograd of
    `0.5 * ((X @ w - t)**2).mean()` (or `.sum()`) and `torch.optim.SGD(lr)`.
    Shapes: w (d,); X (m, d); t (m,).
    """
    Choice(("mean", "sum")).check("reduction", reduction)
    m = X.shape[0]
    scale = 1 if reduction == "mean" else m
    y = X @ w  # (m,)
    error = y - t
    contribution = error[:, None] * X  # (m, d): row p is (y_p - t_p) x_p
    grad = scale * optim.linear_neuron_loss_grad(w, X, t)  # 1/m sum_p, or sum_p
    loss = y.dtype.type(scale * optim.linear_neuron_loss(w, X, t))  # the input's dtype
    return LinearStep(y=y, error=error, contribution=contribution, loss=loss, grad=grad,
                      change=-lr * grad, new_w=optim.gd_update(w, grad, lr=lr))


# ---- torch.optim's forms of the optimizers (the trace's "torch" variant) -------------------


def torch_momentum_update(w, g, v, *, lr: float, mu: float):
    """torch.optim.SGD(momentum=mu): `v <- mu v + g`, `w <- w - lr v`. Returns (w, v).

    The notes' form (F9, `scratch.optim.momentum_update`) keeps `m = -lr v` instead. On the
    first step torch sets v = g, which is `mu * 0 + g`.
    Catalog: F9 (002 §4.3.5)
    """
    v = mu * v + g
    return w - lr * v, v


def torch_nesterov_update(w, g, v, *, lr: float, mu: float):
    """torch.optim.SGD(momentum=mu, nesterov=True): `v <- mu v + g`, `w <- w - lr (g + mu v)`.

    torch's parameter is the notes' look-ahead point `w + mu m` (Sutskever's form; F10,
    `scratch.optim.nesterov_update`); g is the gradient at torch's parameter. Returns (w, v).
    Catalog: F10 (002 §4.3.5)
    """
    v = mu * v + g
    return w - lr * (g + mu * v), v


def torch_adagrad_update(w, g, s, *, lr: float, eps: float):
    """torch.optim.Adagrad: `s <- s + g^2`, `w <- w - lr g / (sqrt(s) + eps)`. Returns (w, s).

    The notes' form (F12) puts eps0 inside the root: `eps / sqrt(alpha + eps0)`.
    Catalog: F12 (002 §4.3.5)
    """
    s = s + g * g
    return w - lr * g / (np.sqrt(s) + eps), s


def torch_rmsprop_update(w, g, v, *, lr: float, beta: float, eps: float):
    """torch.optim.RMSprop(alpha=beta): `v <- beta v + (1 - beta) g^2`,
    `w <- w - lr g / (sqrt(v) + eps)`; the notes' (F13) put eps0 inside the root. Returns
    (w, v).
    Catalog: F13 (002 §4.3.5)
    """
    v = beta * v + (1.0 - beta) * (g * g)
    return w - lr * g / (np.sqrt(v) + eps), v


def torch_adam_update(w, g, m, v, step: int, *, lr: float, beta1: float, beta2: float,
                      eps: float):
    """torch.optim.Adam(betas=(beta1, beta2)), Kingma & Ba's naming: beta1 decays g, beta2 g^2.

    `m <- beta1 m + (1 - beta1) g`, `v <- beta2 v + (1 - beta2) g^2`,
    `w <- w - lr m_hat / (sqrt(v_hat) + eps)` with `m_hat = m / (1 - beta1^step)`,
    `v_hat = v / (1 - beta2^step)`. The notes (F14) swap the names of the betas and put eps0
    inside the root. Returns (w, m, v).
    Catalog: F14 (002 §4.3.5)
    """
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * (g * g)
    m_hat = m / (1.0 - beta1**step)
    v_hat = v / (1.0 - beta2**step)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@dataclass(frozen=True)
class OptimizerStep:
    """One step: the point w, the gradient g used, the state after the step, the new w."""

    w: np.ndarray
    grad: np.ndarray
    state: dict[str, np.ndarray]
    new_w: np.ndarray


# (state key of the notes' scratch.optim class or torch.optim, in the order printed)
_STATE_KEYS = {"sgd": (), "momentum": ("momentum_buffer",), "nesterov": ("momentum_buffer",),
               "adagrad": ("sum",), "rmsprop": ("square_avg",),
               "adam": ("exp_avg", "exp_avg_sq")}


def optimizer_state_keys(name: str) -> tuple[str, ...]:
    """The state entries the optimizer keeps per parameter (torch's names)."""
    return _STATE_KEYS[OPTIMIZERS.check("optimizer", name)]


def optimizer_table(
    name: str, variant: str, w0, grad_at: Callable[[int, np.ndarray], np.ndarray],
    steps: int, *, lr: float, momentum: float = 0.0, beta: float = 0.99,
    betas: tuple[float, float] | None = None, eps: float = 1e-8,
) -> list[OptimizerStep]:
    """`steps` steps of one optimizer from w0, recording every state.

    `grad_at(i, w)` returns the gradient for step i (0-based) at the point w (for a list of
    given gradients it ignores w). The notes' variant runs `scratch.optim`'s classes (002
    §4.3.5: `m <- mu m - eps g` and the look-ahead gradient for Nesterov, eps0 inside the
    root for Adagrad/RMSprop/Adam, Adam's betas in 002's order (beta1 for g^2, beta2 for g));
    the torch variant runs the `torch_*_update` rules above (torch.optim's formulas, Adam's
    betas in Kingma & Ba's order). `eps` is the notes' eps0 or torch's eps.
    Catalog: F1, F9, F10, F12, F13, F14 (002 §4.3.5)
    Shapes: w0 (d,); every gradient (d,).
    """
    OPTIMIZERS.check("optimizer", name)
    VARIANTS.check("variant", variant)
    w = check_array("w0", w0, ndim=1).copy()  # float32 stays float32
    if variant == "notes":
        return _notes_steps(name, w, grad_at, steps, lr, momentum, beta, betas, eps)
    return _torch_steps(name, w, grad_at, steps, lr, momentum, beta, betas, eps)


def _notes_steps(name, w, grad_at, steps, lr, momentum, beta, betas, eps):
    if name in ("sgd", "momentum", "nesterov"):
        opt = optim.SGD(lr=lr, momentum=momentum if name != "sgd" else 0.0,
                        nesterov=name == "nesterov")
    elif name == "adagrad":
        opt = optim.Adagrad(lr=lr, eps0=eps)
    elif name == "rmsprop":
        opt = optim.RMSprop(lr=lr, beta=beta, eps0=eps)
    else:
        opt = optim.Adam(lr=lr, betas=betas or (0.999, 0.9), eps0=eps)
    rows = []
    params = [w]
    for i in range(steps):
        before = params[0].copy()
        g = np.asarray(grad_at(i, opt.grad_point(params)[0]), dtype=w.dtype)
        opt.step(params, [g])
        state = {k: np.array(opt.state[0][k], copy=True) for k in _STATE_KEYS[name]}
        rows.append(OptimizerStep(before, g, state, params[0].copy()))
    return rows


def _torch_steps(name, w, grad_at, steps, lr, momentum, beta, betas, eps):
    beta1, beta2 = betas or (0.9, 0.999)
    keys = _STATE_KEYS[name]
    state = {k: np.zeros_like(w) for k in keys}
    rows = []
    for i in range(steps):
        g = np.asarray(grad_at(i, w), dtype=w.dtype)
        if name == "sgd":
            new = optim.gd_update(w, g, lr=lr)
        elif name == "momentum":
            new, state["momentum_buffer"] = torch_momentum_update(
                w, g, state["momentum_buffer"], lr=lr, mu=momentum)
        elif name == "nesterov":
            new, state["momentum_buffer"] = torch_nesterov_update(
                w, g, state["momentum_buffer"], lr=lr, mu=momentum)
        elif name == "adagrad":
            new, state["sum"] = torch_adagrad_update(w, g, state["sum"], lr=lr, eps=eps)
        elif name == "rmsprop":
            new, state["square_avg"] = torch_rmsprop_update(
                w, g, state["square_avg"], lr=lr, beta=beta, eps=eps)
        else:
            new, state["exp_avg"], state["exp_avg_sq"] = torch_adam_update(
                w, g, state["exp_avg"], state["exp_avg_sq"], i + 1, lr=lr, beta1=beta1,
                beta2=beta2, eps=eps)
        rows.append(OptimizerStep(w.copy(), g, {k: state[k].copy() for k in keys}, new.copy()))
        w = new
    return rows

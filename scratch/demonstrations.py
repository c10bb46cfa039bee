"""The notes' claims as functions that return numbers (catalog B3, B7, C11, D11, D12, I5, ...),
and the 003 training loops and optimizer claims built from `scratch.optim`'s rules (F2, F5,
F7, F8, F18-F20).

Imports NumPy, SciPy (least squares is NumPy's; L-BFGS-B, bounded scalar minimization and
`ndtr` are SciPy's), `scratch.activations`, `scratch.losses`, `scratch.mlp` (the one MLP of the
project), `scratch.optim` (the update rules), `scratch.dropout`, `scratch.autoencoders` and
`scratch.classic` only.

  F2 ... F20 batch GD, mini-batches, the delta rule (LMS, perceptron, logistic), sub-gradient
      SGD, GD on a quadratic in closed form, the heavy-ball rate, divergence runs (the block
      "moved from scratch.optim" right after the imports).

  B3  universal approximation: one hidden layer of growing width fitted to a continuous f on
      [0, 1]; the sup-norm error on a fine grid falls (`universal_approximation`).
  B7  representation learning on 002's circle set: logistic regression stays at the majority
      rate, a one-hidden-layer MLP exceeds 97 % test accuracy, and its hidden representation
      of the training set is linearly separable while the inputs are not (`circle_demo`).
  C11 squared error through a sigmoid has two separate local minima on a 1-D data set, cross-
      entropy has one and a non-negative second derivative everywhere (`nonconvexity_demo`).
  D11 / D12 the gradient of MSE through a saturated sigmoid vanishes, CE's does not
      (`saturation_gradients`); the gradients of the ReLU unit and the tanh unit that 003
      leaves as exercises (`unit_grad`).
  I5  the one-hot code of n objects is separable under every labeling, the log2(n)-bit code
      is not (`code_separability`).

The second part (from "The notes' remaining claims") measures the sentences of the notes that
were neither tested nor flagged before: A2, A5/A12, B3 (depth), B9/B10, B12, F8, F10, F14,
F16, F21, F22, H3, I4, and 003's biology questions E11-E13 (docs/demonstrations.md, and
docs/errata.md where the sentence is wrong).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import ndtr

from scratch import losses
from scratch.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh
from scratch.autoencoders import (
    AEConfig,
    autoencoder_loss,
    autoencoder_loss_and_grads,
    encode_through,
    init_autoencoder,
    train_autoencoder,
)
from scratch.classic import (
    anti_hebbian_update,
    classify_network,
    hebbian_update,
    linear_separability,
)
from scratch.dropout import inverted_dropout_backward, inverted_dropout_forward
from scratch.mlp import (
    activation_backward,
    activation_forward,
    collapse_affine,
    dense_backward,
    dense_forward,
    head_loss,
    head_loss_grad,
    init_mlp,
    loss_and_grads,
    mlp_forward,
)
from scratch.optim import SGD, Adam, adam_update, gd_update, l2_update, momentum_update
from scratch.validation import (
    FINITE,
    NONNEGATIVE,
    POSITIVE,
    PROBABILITY,
    Choice,
    Interval,
    check_array,
    check_count,
    check_interval,
    check_optimizer_hparam,
    scalar_like,
)

__all__ = [
    "gradient_descent",
    "minibatches",
    "linear_neuron_loss",
    "linear_neuron_loss_grad",
    "sgd_path",
    "delta_rule_online",
    "delta_rule_batch",
    "DELTA_RULE_UNITS",
    "absolute_loss",
    "absolute_loss_subgradient",
    "subgradient_sgd",
    "quadratic_gd_closed_form",
    "gd_converges_on_quadratic",
    "heavy_ball_spectral_radius",
    "momentum_steady_state",
    "quartic_loss_grad",
    "iterate_until_divergence",
    "target_function",
    "hidden_layer_for_width",
    "fit_output_layer",
    "ApproximationResult",
    "universal_approximation",
    "circle_labels",
    "circle_dataset",
    "train_lbfgs",
    "hidden_representation",
    "CircleResult",
    "circle_demo",
    "C11_X",
    "C11_T",
    "mse_sigmoid_loss",
    "mse_sigmoid_grad",
    "mse_sigmoid_hessian",
    "ce_sigmoid_loss",
    "ce_sigmoid_grad",
    "ce_sigmoid_hessian",
    "local_minima_1d",
    "nonconvexity_demo",
    "saturation_gradients",
    "UNITS",
    "unit_output",
    "unit_grad",
    "doc_relu_update",
    "one_hot_codes",
    "binary_codes",
    "code_separability",
]

_APPROX_ACTIVATIONS = Choice(("relu", "sigmoid"))
UNITS = Choice(("sigmoid", "relu", "tanh"))
_LOSSES = Choice(("mse", "ce"))




# ==== BEGIN moved from scratch.optim: the 003 training loops and the notes' claims (F2, F5, F7,
# F8, F18-F20). Built from scratch.optim's update rules; scratch.optim keeps only the rules and
# the optimizer classes. =======================================================================

DELTA_RULE_UNITS = Choice(("linear", "threshold", "sigmoid"))


# ---- training loops of 003 (F2, F5, F8, F18) ----------------------------------------------


def gradient_descent(
    loss_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    w0,
    *,
    lr: float,
    max_epochs: int = 1000,
    tol: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Batch GD: one step per epoch on the whole training set, until a stopping rule holds.

    Notes (003, "Gradient Descent Algorithm"): start from w; every epoch compute the gradient
    of `loss_D` at w and step against it,
    `Delta w_i = -lambda d loss_D / d w_i = -lambda sum_{p in D} dloss/dy_p dh_w(x_p)/dw_i`,
    `w_i <- w_i + Delta w_i`; stop "when the cost stops decreasing, or at a maximum number of
    epochs". Here: stop after the first epoch whose loss decrease is <= `tol` (an epoch
    that increases the loss stops it too, and stays in the path), or after `max_epochs`.
    Catalog: F2, F18 (003). PyTorch: `torch.optim.SGD(lr)` stepped once per epoch on the full
    batch.
    Shapes: w0 (d,) or any shape; `loss_and_grad(w) -> (float, array like w)`.
    Returns `(path, losses)`: path (E+1, *w.shape) with w0 first; losses (E+1,) at each point.
    """
    lr = check_optimizer_hparam("lr", lr)
    tol = check_interval("tol", tol, NONNEGATIVE)
    max_epochs = check_count("max_epochs", max_epochs)
    w = check_array("w0", w0).copy()
    loss, g = loss_and_grad(w)
    path, losses = [w.copy()], [loss]
    for _ in range(max_epochs):
        w = gd_update(w, g, lr=lr)
        new_loss, g = loss_and_grad(w)
        path.append(w.copy())
        losses.append(new_loss)
        if not np.isfinite(new_loss) or losses[-2] - new_loss <= tol:
            break
    return np.stack(path), np.asarray(losses)


def minibatches(
    n: int, batch_size: int, rng: np.random.Generator, *, drop_last: bool = False
) -> list[np.ndarray]:
    """Index arrays of one epoch of shuffled mini-batches.

    Notes (002 §4.3.4): shuffle the data, take mini-batches of size S; "if the data has size N
    and each mini-batch has size S, an epoch is N/S iterations". When S does not divide N the
    epoch has ceil(N/S) batches (the last one smaller) or floor(N/S) with `drop_last`, as
    `torch.utils.data.DataLoader(batch_size=S, shuffle=True, drop_last=...)`.
    Catalog: F8 (002 §4.3.4).
    Returns a list of int arrays; without drop_last their concatenation is a permutation of
    range(n).
    """
    n, batch_size = check_count("n", n), check_count("batch_size", batch_size)
    perm = rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    return [perm[i : i + batch_size] for i in range(0, stop, batch_size)]


def linear_neuron_loss(w, X, t) -> float:
    """Squared error of a linear neuron `y = X w`: `1/(2m) sum_p (y_p - t_p)^2` (mean over p).

    The bowl of 003 ("the error surface of a linear neuron is an n-dimensional bowl with a
    single minimum"). Catalog: F18 (003), F3, F5.
    Shapes: w (d,), X (m, d) (a bias is a column of ones in X), t (m,). Reduction: mean over
    the m examples, with the 1/2 that makes the gradient `1/m sum (y_p - t_p) x_p` (003).
    """
    r = X @ w - t  # (m,)
    return scalar_like(0.5 * np.mean(r * r), r)


def linear_neuron_loss_grad(w, X, t) -> np.ndarray:
    """Gradient of `linear_neuron_loss`: `1/m sum_p (y_p - t_p) x_p` (003, F3). Shape (d,).

    Catalog: F2, F3, F4.
    """
    return X.T @ (X @ w - t) / X.shape[0]


def sgd_path(w0, X, t, *, lr: float, epochs: int, rng: np.random.Generator) -> np.ndarray:
    """Online SGD on a linear neuron: one step per example, examples reshuffled every epoch.

    Notes (003, "Online (SGD) vs Batch (GD)"): `Delta w_i = lambda (t_p - y_p) x_ip` after each
    example; "SGD zig-zags" and, at a constant rate, "keeps circling near the minimum".
    Catalog: F18, F5 (003). PyTorch: `torch.optim.SGD(lr)` with a batch of one example and
    loss `0.5 (y - t)^2`.
    Shapes: w0 (d,), X (m, d), t (m,). Returns the path (epochs*m + 1, d), w0 first.
    """
    lr = check_optimizer_hparam("lr", lr)
    w = check_array("w0", w0, ndim=1).copy()
    path = [w.copy()]
    for _ in range(epochs):
        for p in rng.permutation(X.shape[0]):
            w = delta_rule_online(w, X[p : p + 1], t[p : p + 1], lr=lr)
            path.append(w.copy())
    return np.stack(path)


def delta_rule_online(w, X, t, *, lr: float, unit: str = "linear") -> np.ndarray:
    """One online pass of the delta rule `Delta w_i = lambda (t_p - y_p) x_ip` over X's rows.

    Notes (003): per example p, `Delta w_i = lambda (t_p - y_p) x_ip`; "the only difference is
    how y is computed":
      unit="linear"     `y = w . x`: LMS, SGD on `1/2 (t - y)^2` ("LMS rule of SGD", F5);
      unit="threshold"  `y = 1{w . x > 0}`: the perceptron rule (F5's comparison);
      unit="sigmoid"    `y = g(w . x)`: SGD on the cross-entropy C of a logistic unit, since
                        `dC/dw_i = (y - t) x_i` (003, "one SGD iteration", F6).
    Catalog: F5, F6 (003).
    PyTorch: `SGD(lr)` with one example per step on `0.5 * (x @ w - t)**2` (linear) or
    `F.binary_cross_entropy_with_logits(x @ w, t)` (sigmoid). The threshold unit's derivative
    is 0 almost everywhere, so autograd cannot produce the perceptron rule.
    Shapes: w (d,), X (m, d) (bias folded in as a column of ones), t (m,). Returns a new w.
    """
    DELTA_RULE_UNITS.check("unit", unit)
    w = np.array(w, dtype=np.result_type(w, X, 1.0), copy=True)
    for x_p, t_p in zip(X, t, strict=True):
        z = x_p @ w
        if unit == "linear":
            y = z
        elif unit == "threshold":
            y = float(z > 0)
        else:
            y = sigmoid(z)
        w = w + lr * (t_p - y) * x_p
    return w


def delta_rule_batch(w, X, t, *, lr: float) -> np.ndarray:
    """One GD / mini-batch step of the LMS rule: `Delta w_i = lambda/m sum_p (t_p - y_p) x_ip`.

    Notes (003): this is the batch form; 003's "Mini-Batch SGD" line prints
    `lambda/m sum lambda (t_p - y_p) x_ip` with lambda twice (docs/errata.md, F5): one lambda.
    Catalog: F5 (003). PyTorch: `SGD(lr)` on `F.mse_loss(X @ w, t) / 2` (mean over the batch).
    Shapes: w (d,), X (m, d), t (m,). Returns a new w.
    Erratum: docs/errata.md#f5
    """
    y = X @ w  # (m,)
    return w + lr / X.shape[0] * (X.T @ (t - y))


# ---- sub-gradient SGD (F7) ----------------------------------------------------------------


def absolute_loss(w, x, y) -> float:
    """`l(w, (x, y)) = |w . x - y|`, a loss with a kink, for sub-gradient SGD (F7).

    Shapes: w (d,), x (d,), y scalar.
    """
    return scalar_like(abs(x @ w - y), x, w)


def absolute_loss_subgradient(w, x, y) -> np.ndarray:
    """A sub-gradient `g in dl(w, (x, y))` of `|w . x - y|`: `sign(w . x - y) x`.

    Notes (002, "sub-gradient"): g is a sub-gradient of f at u if `f(v) >= f(u) + <g, v - u>`
    for every v; for |v| at 0 any g in [-1, 1] qualifies. We take sign(0) = 0, the choice
    torch's `abs` backward makes, so scratch and autograd agree at the kink too.
    Catalog: F7 (002). Shapes: w (d,), x (d,), y scalar; returns (d,).
    """
    return np.sign(x @ w - y) * x


def subgradient_sgd(
    w0, X, y, *, lr: Callable[[int], float] | float, subgradient=absolute_loss_subgradient
) -> np.ndarray:
    """Sub-gradient SGD over the examples in order: `w(t+1) = w(t) - eta_{t+1} g(t)`.

    Notes (002, before backpropagation): `w^(t+1) = w^(t) - eta_{n+1} g^(t)`,
    `g^(t) in dl(w^(t), (x_t, y_t))` (the printed `eta_{n+1}` indexes the step t + 1).
    `lr` is a constant or a function of the step t = 0, 1, ... returning eta_{t+1}.
    Catalog: F7 (002). PyTorch: `SGD` + autograd through `torch.abs`, lr from a LambdaLR.
    Shapes: w0 (d,), X (T, d), y (T,). Returns the path (T+1, d), w0 first.
    Erratum: docs/errata.md#f7
    """
    w = check_array("w0", w0, ndim=1).copy()
    path = [w.copy()]
    for step, (x_t, y_t) in enumerate(zip(X, y, strict=True)):
        eta = lr(step) if callable(lr) else lr
        w = gd_update(w, subgradient(w, x_t, y_t), lr=eta)
        path.append(w.copy())
    return np.stack(path)


# ---- the notes' claims as computable facts (F9, F19, F20) ---------------------------------


def quadratic_gd_closed_form(w0, a: float, lr: float, steps: int) -> np.ndarray:
    """GD iterates on `f(w) = a w^2 / 2` in closed form: `w_k = (1 - eps a)^k w0`, k = 0..steps.

    The model problem of the learning-rate claims (001, 002 §4.3.5): too large diverges or
    overshoots, too small stalls. Catalog: F19. Returns shape (steps + 1,).
    """
    k = np.arange(steps + 1)
    return (1.0 - lr * a) ** k * w0


def gd_converges_on_quadratic(a: float, lr: float) -> bool:
    """GD on `a w^2 / 2` (a > 0) converges from any start iff `|1 - eps a| < 1`: 0 < eps < 2/a.

    At eps = 2/a it oscillates between w0 and -w0 forever; for 1/a < eps < 2/a it converges
    while overshooting (the sign alternates). Catalog: F19 (001, 002 §4.3.5).
    """
    return abs(1.0 - lr * a) < 1.0


def heavy_ball_spectral_radius(a: float, lr: float, mu: float) -> float:
    """Asymptotic rate of momentum GD on `a w^2 / 2`: the spectral radius of its iteration.

    With the notes' rule `m <- mu m - eps a w`, `w <- w + m`, the pair (w, m) evolves by
    `[[1 - eps a, mu], [-eps a, mu]]`; |w_k| shrinks like rho^k. rho < 1 iff
    0 < eps a < 2 (1 + mu). Plain GD (mu = 0) has rho = |1 - eps a|.
    Catalog: F20 (002 §4.3.5).
    """
    T = np.array([[1.0 - lr * a, mu], [-lr * a, mu]])
    return float(np.max(np.abs(np.linalg.eigvals(T))))


def momentum_steady_state(lr: float, mu: float, steps: int) -> np.ndarray:
    """The momentum m_k under a constant gradient g = 1, k = 1..steps, from m_0 = 0.

    Notes (002 §4.3.5): `m_{i+1} = -eps g (1 + mu + mu^2 + ...)`, so the step tends to
    `eps/(1 - mu) g`; exactly, `m_k = -eps (1 - mu^k)/(1 - mu)`. Catalog: F9.
    Returns shape (steps,) computed by iterating `momentum_update` (not the closed form).
    """
    w, m, out = np.zeros(1), np.zeros(1), []
    for _ in range(steps):
        w, m = momentum_update(w, np.ones(1), m, lr=lr, mu=mu)
        out.append(m[0])
    return np.asarray(out)


def quartic_loss_grad(w) -> np.ndarray:
    """Gradient of `f(w) = w^4 / 4` (curvature 3 w^2 grows with |w|): `w^3`. Catalog: F20."""
    return w**3


def iterate_until_divergence(
    grad: Callable[[np.ndarray], np.ndarray],
    w0,
    optimizer: SGD,
    *,
    steps: int,
    bound: float = 1e6,
) -> tuple[np.ndarray, bool]:
    """Run `optimizer` from w0 for `steps` steps, stopping early once |w| exceeds `bound`.

    Returns `(path, diverged)`: path (K+1, *w0.shape); diverged is True if the bound was
    crossed. Stopping at the bound keeps a diverging run finite (no overflow). Catalog: F19, F20.
    """
    w = [check_array("w0", w0).copy()]
    path = [w[0].copy()]
    for _ in range(steps):
        optimizer.step(w, [grad(q) for q in optimizer.grad_point(w)])
        path.append(w[0].copy())
        if np.max(np.abs(w[0])) > bound:
            return np.stack(path), True
    return np.stack(path), False


# ==== END moved from scratch.optim ===========================================================


# ---- B3: universal approximation --------------------------------------------------------------


def target_function(x) -> np.ndarray:
    """The default continuous f: [0, 1] -> [0, 1] of the B3 demonstration.

    `f(x) = 0.5 + 0.3 sin(2 pi x) + 0.2 |x - 1/3|`: smooth but for a kink at 1/3, inside
    [0, 1] as 000's theorem asks. Catalog: B3. Shape: any -> same.
    """
    x = check_array("x", x)
    return 0.5 + 0.3 * np.sin(2 * np.pi * x) + 0.2 * np.abs(x - 1 / 3)


def hidden_layer_for_width(width: int, activation: str = "relu") -> tuple[np.ndarray, np.ndarray]:
    """First-layer weights `(W1 (width, 1), b1 (width,))` that tile [0, 1].

    relu: unit k is the hinge `relu(x - k/width)`, so the net is piecewise linear with knots
    on the grid; sigmoid: unit k is a step of slope 4 width centred at (k + 1/2)/width, the
    staircase of the textbook proof. The output layer is then fitted (`fit_output_layer`).
    Catalog: B3.
    """
    width = check_count("width", width, 1)
    _APPROX_ACTIVATIONS.check("activation", activation)
    k = np.arange(width, dtype=np.float64)
    if activation == "relu":
        return np.ones((width, 1)), -k / width
    slope = 4.0 * width
    return np.full((width, 1), slope), -slope * (k + 0.5) / width


def fit_output_layer(hidden, y) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares output layer: `min ||H W2^T + b2 - y||^2` over (W2 (1, H), b2 (1,)).

    The exact minimizer of the squared error once the hidden layer is fixed (NumPy lstsq).
    Catalog: B3. PyTorch: `torch.linalg.lstsq`. Shapes: hidden (N, H); y (N,).
    """
    H = check_array("hidden", hidden, ndim=2)
    y = check_array("y", y, ndim=1)
    if y.shape[0] != H.shape[0]:
        raise ValueError(f"hidden (N, H) and y (N,) must agree on N, got {H.shape} and {y.shape}")
    A = np.hstack([H, np.ones((H.shape[0], 1))])  # (N, H+1): bias column
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef[None, :-1], coef[-1:]


@dataclass(frozen=True)
class ApproximationResult:
    """One width of `universal_approximation`: the params and the sup-norm error. Catalog: B3."""

    width: int
    sup_error: float
    params: list


def universal_approximation(
    widths: Sequence[int],
    f: Callable[[np.ndarray], np.ndarray] = target_function,
    activation: str = "relu",
    n_fit: int = 400,
    n_eval: int = 4001,
) -> list[ApproximationResult]:
    """Fit `f_eps(x) = W2 phi(W1 x + b1) + b2` of growing width to f; report the sup error.

    Notes: for continuous non-polynomial phi and continuous f on the unit cube there is such
    an f_eps with `sup_x ||f(x) - f_eps(x)|| < eps` (000 "universal approximation theorem";
    002). Catalog: B3. Hidden layer from `hidden_layer_for_width`, output layer by least
    squares on `n_fit` points of [0, 1], evaluated with `scratch.mlp.mlp_forward` (params
    `[W1, b1, W2, b2]`); the sup norm is the max over `n_eval` grid points of [0, 1].
    PyTorch: `torchref.demonstrations.universal_approximation`.
    """
    _APPROX_ACTIVATIONS.check("activation", activation)
    n_fit = check_count("n_fit", n_fit, 2)
    n_eval = check_count("n_eval", n_eval, 2)
    x_fit = np.linspace(0.0, 1.0, n_fit)[:, None]  # (n_fit, 1)
    x_eval = np.linspace(0.0, 1.0, n_eval)[:, None]  # (n_eval, 1)
    y_fit = np.asarray(f(x_fit[:, 0]), dtype=np.float64)
    y_eval = np.asarray(f(x_eval[:, 0]), dtype=np.float64)
    out = []
    for width in widths:
        W1, b1 = hidden_layer_for_width(width, activation)
        hidden, _ = mlp_forward([W1, b1], x_fit)  # (n_fit, width) pre-activations
        phi = relu if activation == "relu" else sigmoid
        W2, b2 = fit_output_layer(phi(hidden), y_fit)
        params = [W1, b1, W2, b2]
        approx, _ = mlp_forward(params, x_eval, activation)  # (n_eval, 1)
        out.append(
            ApproximationResult(int(width), float(np.abs(approx[:, 0] - y_eval).max()), params)
        )
    return out


# ---- B7: representation learning on the circle set ----------------------------------------------


def circle_labels(X) -> np.ndarray:
    """002 Fig. 4.3's labels: `y = 1 if 3 <= x^2 + y^2 <= 8 else 0`. Catalog: B7.

    Shapes: X (N, 2) -> (N,).
    """
    X = check_array("X", X, ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (x, y), got shape {X.shape}")
    r2 = (X * X).sum(axis=1)
    return ((r2 >= 3) & (r2 <= 8)).astype(np.float64)


def circle_dataset(rng: np.random.Generator, n: int, half_width: float = 4.0):
    """n points uniform in the square [-half_width, half_width]^2 with `circle_labels`.

    The notes give the labeling, not the sampling; the square (default side 8) holds the
    whole ring (outer radius sqrt(8) ~ 2.83) with room outside it. Catalog: B7.
    Returns X (n, 2), y (n,).
    """
    n = check_count("n", n, 1)
    half_width = check_interval("half_width", half_width, POSITIVE)
    X = rng.uniform(-half_width, half_width, size=(n, 2))
    return X, circle_labels(X)


def train_lbfgs(params, X, y, activations="relu", head="binary", max_iter: int = 500):
    """Minimize `scratch.mlp.loss_and_grads` with SciPy's L-BFGS-B; returns the new params.

    Full-batch, the scratch MLP's own gradients (`jac=True`). PyTorch twin:
    `torch.optim.LBFGS` in `torchref.demonstrations.train_lbfgs`. Catalog: B7.
    """
    max_iter = check_count("max_iter", max_iter, 1)
    shapes = [p.shape for p in params]
    sizes = [p.size for p in params]

    def unflatten(theta):
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, shapes, strict=True)]

    def fun(theta):
        loss, grads = loss_and_grads(unflatten(theta), X, y, activations, head)
        return loss, np.concatenate([g.ravel() for g in grads])

    theta0 = np.concatenate([p.ravel() for p in params]).astype(np.float64)
    res = minimize(
        fun, theta0, jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-9, "ftol": 1e-14},
    )
    return unflatten(res.x)


def hidden_representation(params, X, activation: str = "relu") -> np.ndarray:
    """Hidden-layer outputs `phi(W1 x + b1)` of a one-hidden-layer MLP: (N, d) -> (N, H).

    Catalog: B7.
    """
    z, _ = mlp_forward(params[:2], X)
    return relu(z) if activation == "relu" else tanh(z)


@dataclass(frozen=True)
class CircleResult:
    """Numbers of the B7 demonstration (accuracies in [0, 1]). Catalog: B7."""

    majority_rate: float  # test accuracy of always predicting the larger class
    label_entropy: float  # CE of the best constant predictor on the training set, in nats
    logreg_test_accuracy: float
    logreg_train_loss: float
    mlp_train_accuracy: float
    mlp_test_accuracy: float
    inputs_separable: bool
    hidden_separable: bool
    hidden: np.ndarray  # (n_train, width) hidden representation of the training set
    y_train: np.ndarray


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(((logits[:, 0] > 0) == (y > 0.5)).mean())


def circle_demo(
    seed: int = 0,
    n_train: int = 2000,
    n_test: int = 5000,
    width: int = 64,
    max_iter: int = 200,
) -> CircleResult:
    """002's representation-learning example, measured.

    Notes: "the network's goal is a non-linear map of the input so that it can be separated
    linearly ... the data can then be classified with a simple linear classifier (linear or
    logistic regression)" (002 §4.1.1, Fig. 4.3: `3 <= x^2 + y^2 <= 8`). Catalog: B7, B10.
    Logistic regression (`scratch.mlp` with layer sizes [2, 1], binary head) and a ReLU MLP
    [2, width, 1] are trained by L-BFGS on the same data; `linear_separability` then checks
    the inputs and the hidden representation of the training set. PyTorch:
    `torchref.demonstrations.circle_demo`.
    """
    rng = np.random.default_rng(seed)
    X, y = circle_dataset(rng, n_train)
    Xt, yt = circle_dataset(rng, n_test)
    logreg = train_lbfgs(init_mlp([2, 1], rng), X, y, max_iter=max_iter)
    mlp = train_lbfgs(init_mlp([2, width, 1], rng), X, y, "relu", max_iter=max_iter)
    p = float(y.mean())
    H = hidden_representation(mlp, X)
    return CircleResult(
        majority_rate=float(max(yt.mean(), 1 - yt.mean())),
        label_entropy=float(-(p * np.log(p) + (1 - p) * np.log(1 - p))),
        logreg_test_accuracy=_accuracy(mlp_forward(logreg, Xt)[0], yt),
        logreg_train_loss=loss_and_grads(logreg, X, y, head="binary")[0],
        mlp_train_accuracy=_accuracy(mlp_forward(mlp, X)[0], y),
        mlp_test_accuracy=_accuracy(mlp_forward(mlp, Xt)[0], yt),
        inputs_separable=linear_separability(X, y, certificate=False).separable,
        hidden_separable=linear_separability(H, y, certificate=False).separable,
        hidden=H,
        y_train=y,
    )


# ---- C11 / D11 / D12: one sigmoid unit, squared error vs cross-entropy ---------------------------

# A 1-D data set without bias (z = w x) on which the squared error of a sigmoid unit has two
# separate local minima (in the spirit of Auer, Herbster & Warmuth 1996, "Exponentially many
# local minima for single neurons"): each example's loss is a well around w = logit(t)/x with
# flat walls, and two narrow wells far apart do not merge.
C11_X = np.array([[1.0], [4.0]])
C11_T = np.array([0.02, 0.98])


def _unit_inputs(w, X, t):
    w = check_array("w", w, ndim=1)
    X = check_array("X", X, ndim=2)
    t = check_array("t", t, ndim=1)
    if X.shape[1] != w.shape[0] or t.shape[0] != X.shape[0]:
        raise ValueError(
            f"X (m, d), w (d,) and t (m,) do not agree, got X{X.shape}, w{w.shape}, t{t.shape}"
        )
    return w, X, t


def mse_sigmoid_loss(w, X, t) -> float:
    """`MSE = 1/(2m) sum_p (t^p - y^p)^2` with `y = sigma(w . x)` (003's scaling).

    Catalog: C11, D11. The 1/2 makes D11's gradient come out without a factor 2; PyTorch's
    `F.mse_loss` (mean) is twice this. Shapes: w (d,); X (m, d) (a bias needs a column of
    ones); t (m,). Returns a float.
    """
    w, X, t = _unit_inputs(w, X, t)
    return scalar_like(losses.squared_error(sigmoid(X @ w), t, scaling="half_mean"), X, w)


def mse_sigmoid_grad(w, X, t) -> np.ndarray:
    """003's `dMSE/dw_i = -1/m sum_p y^p (1 - y^p) (t^p - y^p) x_i^p`. Catalog: D11 (003).

    PyTorch: autograd of `F.mse_loss(torch.sigmoid(X @ w), t) / 2`. Shapes: -> (d,).
    """
    w, X, t = _unit_inputs(w, X, t)
    y = sigmoid(X @ w)  # (m,)
    return -(y * (1 - y) * (t - y)) @ X / X.shape[0]


def mse_sigmoid_hessian(w, X, t) -> np.ndarray:
    """Hessian of `mse_sigmoid_loss`: `1/m sum_p [s'^2 + (y - t) s''] x x^T`.

    With `s' = y(1-y)` and `s'' = y(1-y)(1-2y)`; the second term is negative wherever y and
    t are on the same side of 1/2 and y overshoots t, which is what breaks convexity.
    Catalog: C11. PyTorch: `torch.autograd.functional.hessian`. Shapes: -> (d, d).
    """
    w, X, t = _unit_inputs(w, X, t)
    y = sigmoid(X @ w)  # (m,)
    s1 = y * (1 - y)
    c = s1 * s1 + (y - t) * s1 * (1 - 2 * y)  # (m,)
    return (X * c[:, None]).T @ X / X.shape[0]  # (d, d)


def ce_sigmoid_loss(w, X, t) -> float:
    """`C = -1/m sum_p [t ln y + (1 - t) ln(1 - y)]`, y = sigma(w . x), from the logits.

    Catalog: C11, D12 (003 "CEntropy"). PyTorch: `F.binary_cross_entropy_with_logits`.
    """
    w, X, t = _unit_inputs(w, X, t)
    return scalar_like(losses.binary_cross_entropy_with_logits(X @ w, t), X, w)


def ce_sigmoid_grad(w, X, t) -> np.ndarray:
    """003's `dC/dw_i = (y - t) x_i`, averaged over the m examples. Catalog: D12 (003).

    PyTorch: autograd of `F.binary_cross_entropy_with_logits(X @ w, t)`. Shapes: -> (d,).
    """
    w, X, t = _unit_inputs(w, X, t)
    return (sigmoid(X @ w) - t) @ X / X.shape[0]


def ce_sigmoid_hessian(w, X, t) -> np.ndarray:
    """`1/m sum_p y(1 - y) x x^T`: positive semi-definite for every w, so C is convex.

    Catalog: C11. Shapes: -> (d, d).
    """
    w, X, t = _unit_inputs(w, X, t)
    y = sigmoid(X @ w)
    return (X * (y * (1 - y))[:, None]).T @ X / X.shape[0]


def local_minima_1d(loss: Callable[[float], float], grid) -> list[tuple[float, float]]:
    """Local minima `(w, loss(w))` of a 1-D function: grid scan, then bounded refinement.

    Every interior grid point lower than both neighbours brackets a minimum; SciPy's bounded
    Brent search refines it inside the neighbours' interval. Catalog: C11.
    Shapes: grid (G,) increasing.
    """
    g = check_array("grid", grid, ndim=1)
    vals = np.array([loss(float(v)) for v in g])
    found = []
    for i in range(1, g.size - 1):
        if vals[i] < vals[i - 1] and vals[i] <= vals[i + 1]:
            r = minimize_scalar(
                lambda v: loss(float(v)), bounds=(g[i - 1], g[i + 1]), method="bounded",
                options={"xatol": 1e-10},
            )
            found.append((float(r.x), float(r.fun)))
    return found


def nonconvexity_demo(grid=None) -> dict:
    """C11 on the `C11_X`, `C11_T` data set: MSE has two minima, CE one, CE'' >= 0.

    Notes (003): "with MSE [through a sigmoid] one gets a non-convex function (many minima
    possible), vanishing gradients, and no Bayesian justification for classification".
    Catalog: C11. Returns `mse_minima`, `ce_minima` (lists of (w, loss)), the highest point
    between the two MSE minima (`barrier`), and the smallest second derivative of each loss
    on the grid (`mse_min_curvature` < 0, `ce_min_curvature` >= 0).
    """
    g = np.linspace(-10.0, 10.0, 801) if grid is None else check_array("grid", grid, ndim=1)

    def mse(v):
        return mse_sigmoid_loss([v], C11_X, C11_T)

    def ce(v):
        return ce_sigmoid_loss([v], C11_X, C11_T)

    mse_min = local_minima_1d(mse, g)
    ce_min = local_minima_1d(ce, g)
    barrier = None
    if len(mse_min) >= 2:
        r = minimize_scalar(
            lambda v: -mse(float(v)), bounds=(mse_min[0][0], mse_min[1][0]), method="bounded",
            options={"xatol": 1e-10},
        )
        barrier = (float(r.x), -float(r.fun))
    return {
        "mse_minima": mse_min,
        "ce_minima": ce_min,
        "barrier": barrier,
        "mse_min_curvature": min(mse_sigmoid_hessian([v], C11_X, C11_T)[0, 0] for v in g),
        "ce_min_curvature": min(ce_sigmoid_hessian([v], C11_X, C11_T)[0, 0] for v in g),
    }


def saturation_gradients(z, t: float = 1.0) -> dict:
    """|dL/dw| of one sigmoid unit with input x = 1 at pre-activation z, for MSE and CE.

    D11: `|dMSE/dw| = y(1 - y)|t - y|` vanishes when the unit saturates (y near 0 or 1),
    even when it is completely wrong; D12: `|dC/dw| = |y - t|` stays near 1 then (003 "why
    do CE's gradients not vanish?"). Catalog: D11, D12. Shapes: z (K,) -> dict of (K,).
    """
    z = check_array("z", z, ndim=1)
    t = check_interval("t", t, PROBABILITY)
    X = np.ones((1, 1))
    mse = np.array([abs(mse_sigmoid_grad([v], X, [t])[0]) for v in z])
    ce = np.array([abs(ce_sigmoid_grad([v], X, [t])[0]) for v in z])
    return {"z": z, "y": sigmoid(z), "mse": mse, "ce": ce}


def unit_output(unit: str, z) -> np.ndarray:
    """y = sigma(z), relu(z) or tanh(z). Catalog: D12. Shape: any -> same."""
    UNITS.check("unit", unit)
    return {"sigmoid": sigmoid, "relu": relu, "tanh": tanh}[unit](z)


def unit_grad(unit: str, loss: str, w, X, t) -> np.ndarray:
    """dL/dw of one unit `y = g(w . x)` for MSE or CE, averaged over the m examples.

    The update rule is `Delta w = -lambda dL/dw`. Catalog: D11, D12 (003 asks the ReLU and
    tanh cases as exercises). With `MSE = 1/(2m) sum (y - t)^2`:
      sigmoid  (y - t) y (1 - y) x          (D11)
      relu     (y - t) 1{z > 0} x
      tanh     (y - t) (1 - y^2) x
    With cross-entropy:
      sigmoid  (y - t) x                    (D12: y(1 - y) cancels)
      relu     (y - t) / (y (1 - y)) 1{z > 0} x   (003's derivation; needs 0 < y < 1 on every
               active example, else CE of a ReLU output is undefined: ValueError)
      tanh     (y - (2t - 1)) x             (CE of p = (1 + y)/2 = sigma(2z) against t in
               {0, 1}: the sigmoid result with targets -1/+1)
    relu'(0) = 0 (torch's choice). Shapes: w (d,); X (m, d); t (m,) -> (d,).
    Erratum: docs/errata.md#d12
    """
    UNITS.check("unit", unit)
    _LOSSES.check("loss", loss)
    w, X, t = _unit_inputs(w, X, t)
    z = X @ w  # (m,)
    y = unit_output(unit, z)
    if loss == "mse":
        local = {"sigmoid": y * (1 - y), "relu": (z > 0).astype(z.dtype), "tanh": 1 - y * y}
        return ((y - t) * local[unit]) @ X / X.shape[0]
    if unit == "sigmoid":
        return (y - t) @ X / X.shape[0]
    if unit == "tanh":
        return (y - (2 * t - 1)) @ X / X.shape[0]
    active = z > 0
    if np.any(active & ((y <= 0) | (y >= 1))):
        raise ValueError(
            "cross-entropy of a ReLU unit needs 0 < y < 1 wherever z > 0, got y in "
            f"[{y[active].min():g}, {y[active].max():g}]"
        )
    coef = np.zeros_like(z)
    coef[active] = (y[active] - t[active]) / (y[active] * (1 - y[active]))
    return coef @ X / X.shape[0]


def doc_relu_update(w, X, t, lr: float) -> np.ndarray:
    """The update rule 003's ReLU slide ends with: `Delta w_i = lambda/m sum_p (t_p - y_p)
    y_p (1 - y_p) x_pi`, with y = relu(w . x) as that slide's unit.

    Kept to show it is the sigmoid + MSE rule, not the ReLU unit's (erratum D12): compare with
    `-lr * unit_grad("relu", ...)`. Catalog: D12. Shapes: -> (d,).
    """
    w, X, t = _unit_inputs(w, X, t)
    lr = check_interval("lr", lr, POSITIVE)
    y = relu(X @ w)
    return lr * ((t - y) * y * (1 - y)) @ X / X.shape[0]


# ---- I5: one-hot vs compact codes --------------------------------------------------------------


def one_hot_codes(n: int) -> np.ndarray:
    """The n one-hot codes (the "wasteful" representation of 003): (n, n) identity. Catalog: I5."""
    return np.eye(check_count("n", n, 1))


def binary_codes(n: int) -> np.ndarray:
    """The n objects as ceil(log2 n)-bit binary numbers, most significant bit first.

    Catalog: I5 (003: "only log(n) units are needed"). Returns (n, bits).
    """
    n = check_count("n", n, 2)
    bits = int(np.ceil(np.log2(n)))
    return ((np.arange(n)[:, None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.float64)


def code_separability(codes) -> dict:
    """Linear separability of every labeling of n objects given their codes.

    Notes: "instead of a one-hot (0,...,0,1,0,0) needing n units, why not a compact code
    such as (0,0,1,1) with log(n) units? The wasteful representation is certainly linearly
    separable ... a more compact code must assume similarity between some objects" (003).
    Catalog: I5. Every labeling of the n codes (2^n of them, n <= 12) goes through
    `linear_separability`. Returns `labelings` (2^n, n), `separable` (2^n,) bool, and the
    count. For one-hot codes `w = 2y - 1, b = 0` separates every labeling (checked by the
    tests); for the 3-bit code of 8 objects 104 of 256 labelings are separable.
    """
    C = check_array("codes", codes, ndim=2)
    n = C.shape[0]
    if n > 12:
        raise ValueError(f"codes must hold at most 12 objects (2^n labelings), got {n}")
    labelings = ((np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)
    sep = np.array([linear_separability(C, lab, certificate=False).separable for lab in labelings])
    return {"labelings": labelings, "separable": sep, "count": int(sep.sum())}


# ==== The notes' remaining claims, measured (docs/demonstrations.md, docs/errata.md) ==========
#
# Each function below returns the numbers behind one sentence of the notes; the tests in
# parity_tests/test_demonstrations.py and parity_tests/test_errata.py hold them to it.


# ---- A2: the neuron's "weighted average" (001) -------------------------------------------------


def neuron_input_range(x, w, b: float = 0.0) -> dict:
    """`z = w . x + b` beside the interval `[min x, max x]` that a weighted average stays in.

    Notes (001): "each neuron computes the Weighted Average of the values of x, based on w,
    and adds [a bias]". A weighted average `sum w_i x_i / sum w_i` with w_i >= 0 lies in
    [min x, max x]; the neuron's `w . x + b` does so for every x only when w >= 0, sum w = 1
    and b = 0. Catalog: A2 (001). Returns `z`, `low`, `high`, `inside` (bool).
    Erratum: docs/errata.md#a2
    Shapes: x, w (d,).
    """
    x = check_array("x", x, ndim=1)
    w = check_array("w", w, ndim=1)
    if x.shape != w.shape:
        raise ValueError(f"x and w must have the same shape (d,), got x{x.shape} and w{w.shape}")
    b = check_interval("b", b, FINITE)
    z = float(x @ w + b)
    low, high = float(x.min()), float(x.max())
    return {"z": z, "low": low, "high": high, "inside": low <= z <= high}


# ---- B9 / B10: a network without activations (001) ----------------------------------------------


def linear_network_vs_logistic_regression(
    seed: int = 0, n: int = 400, hidden: Sequence[int] = (8, 8), max_iter: int = 500
) -> dict:
    """Train a network with identity hidden activations and logistic regression on one data set.

    Notes (001): "without activation functions the network becomes a combination of linear
    functions, hence a linear function itself ... no more than logistic regression". With the
    output's sigmoid kept, `sigma(W3 W2 W1 x + b)` is logistic regression with the weight row
    `W3 W2 W1` (any row when every width >= 1), so the two reach the same least
    cross-entropy, at the same collapsed (w, b); without the output's sigmoid too, the
    network's outputs are affine and leave [0, 1] (a linear-regression model, not a
    probability). Catalog: B9, B10 (001, 002). Data: n Gaussian points in 2-D with labels
    `1{x1 + x2/2 + noise/2 > 0}`; both trained by `train_lbfgs` (SciPy L-BFGS-B, the scratch
    MLP's gradients). Returns `logreg_loss`, `linear_net_loss` (training CE in nats),
    `logreg` and `collapsed` ((1, 2) weight, (1,) bias) of logistic regression and of the
    linear network (`scratch.mlp.collapse_affine`), and `affine_range` (min, max of the
    network's output before the sigmoid).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((check_count("n", n, 2), 2))
    y = (X @ np.array([1.0, 0.5]) + 0.5 * rng.standard_normal(X.shape[0]) > 0).astype(float)
    sizes = [2, *(check_count("hidden width", h, 1) for h in hidden), 1]
    logreg = train_lbfgs(init_mlp([2, 1], rng), X, y, max_iter=max_iter)
    deep = train_lbfgs(init_mlp(sizes, rng), X, y, "identity", max_iter=max_iter)
    logits = mlp_forward(deep, X, "identity")[0][:, 0]
    return {
        "logreg_loss": loss_and_grads(logreg, X, y, head="binary")[0],
        "linear_net_loss": loss_and_grads(deep, X, y, "identity", head="binary")[0],
        "logreg": (logreg[0], logreg[1]),
        "collapsed": collapse_affine(deep),
        "affine_range": (float(logits.min()), float(logits.max())),
    }


# ---- B12: two definitions of a deep network (000, 002) ---------------------------------------


def hidden_path_depth(edges, inputs, outputs) -> int:
    """The largest number of hidden units on any path from an input to an output.

    000: "deep network: a network that contains paths passing through more than one hidden
    unit", i.e. depth >= 2 here; 002 §4.1.1: "if there is more than one hidden layer, the
    network is called a deep neural network". For a layered network (every unit of layer l
    fed by layer l - 1) the depth is the number of hidden layers, so the two agree; 002
    §4.2.1's "a network with at least one deep layer" would call a one-hidden-layer network
    deep (errata B12). Catalog: B12 (000, 002). `edges` are (source, target) pairs of a DAG
    (`scratch.classic.connection_graph`); `inputs`, `outputs` the names of those units; every
    other unit is hidden. Longest path by dynamic programming over the topological order of
    `scratch.classic.classify_network`.
    Erratum: docs/errata.md#b12
    """
    edges = list(edges)
    inputs, outputs = set(inputs), set(outputs)
    kind = classify_network(edges)  # checks the pairs; a cycle has no longest path
    if kind.kind != "feed-forward":
        raise ValueError(f"edges must form a DAG (feed-forward), got the cycle {kind.cycle}")
    preds: dict = {}
    for u, v in edges:
        preds.setdefault(v, set()).add(u)
    best: dict = {}  # unit -> most hidden units on a path from an input up to and with it
    for u in kind.order:
        reach = [best[p] for p in preds.get(u, ()) if p in best]
        if u in inputs:
            best[u] = 0
        elif reach:
            best[u] = max(reach) + (0 if u in outputs else 1)
    found = [best[o] for o in outputs if o in best]
    if not found:
        raise ValueError("no output is reachable from an input through the edges")
    return max(found)


# ---- F21: non-convex, yet a global minimum; convex, yet none (002 §4.2.2, §4.3) ----------------

# A 1-2-1 ReLU network `f(x) = relu(x) + 2 relu(-x)` and the same network with its two hidden
# units swapped: both fit their own outputs exactly (squared error 0, the least possible).
SYMMETRIC_NET = [
    np.array([[1.0], [-1.0]]), np.zeros(2), np.array([[1.0, 2.0]]), np.zeros(1),
]
SYMMETRIC_X = np.array([[-1.0], [1.0], [2.0]])


def swap_hidden_units(params) -> list[np.ndarray]:
    """The same one-hidden-layer network with its hidden units in reverse order. Catalog: F21.

    Permuting the hidden units (rows of W1, entries of b1, columns of W2) leaves the function
    unchanged, so a loss with one global minimizer has another one at the permuted weights.
    """
    W1, b1, W2, b2 = (check_array(f"params[{i}]", p) for i, p in enumerate(params))
    return [W1[::-1].copy(), b1[::-1].copy(), W2[:, ::-1].copy(), b2.copy()]


def global_minimum_vs_convexity(ws: Sequence[float] = (0.0, 1.0, 10.0, 30.0)) -> dict:
    """Convexity and the existence of a global minimum are separate questions.

    Notes (002 §4.2.2, §4.3): "the optimum of a deep network is not a convex problem, and
    therefore it does not necessarily have a global minimum". Catalog: F21 (002).
    (1) Non-convex with a global minimum: the squared error of `SYMMETRIC_NET` on its own
    outputs at `SYMMETRIC_X` is 0 at the weights and 0 at the swapped weights (the least a
    squared error can be), but at their midpoint the two hidden units cancel to `relu(0 x)`
    and the loss is positive: the loss is not convex, and its global minimum is attained.
    (2) Convex without a minimum: logistic regression on the separable pair x = -1 (t = 0),
    x = +1 (t = 1) has `C(w) = log(1 + e^{-w})`, convex (`C'' > 0`) and strictly falling
    towards 0, which no finite w attains.
    Returns `losses` (at the weights, swapped, midpoint; regression head, mean over the 3
    examples), `separable_ce` [(w, C(w))] for `ws`, and `separable_ce_curvature` (min of C''
    over `ws`).
    Erratum: docs/errata.md#f21
    """
    y = mlp_forward(SYMMETRIC_NET, SYMMETRIC_X, "relu")[0]  # (3, 1) the teacher's outputs
    swapped = swap_hidden_units(SYMMETRIC_NET)
    mid = [(a + b) / 2 for a, b in zip(SYMMETRIC_NET, swapped, strict=True)]
    losses_ = [
        loss_and_grads(p, SYMMETRIC_X, y, "relu", head="regression")[0]
        for p in (SYMMETRIC_NET, swapped, mid)
    ]
    X, t = np.array([[-1.0], [1.0]]), np.array([0.0, 1.0])
    ce = [(float(w), ce_sigmoid_loss([w], X, t)) for w in ws]
    curv = min(float(ce_sigmoid_hessian([w], X, t)[0, 0]) for w in ws)
    return {"losses": losses_, "separable_ce": ce, "separable_ce_curvature": curv}


# ---- F16: weight decay with 0 < eps lambda < 1 (002 §4.4.2) -------------------------------------


def weight_decay_path(w0: float, target: float, *, lr: float, lam: float, steps: int) -> np.ndarray:
    """GD with weight decay on `L(w) = (w - target)^2 / 2`: `w <- (1 - eps lam) w - eps L'(w)`.

    Notes (002 §4.4.2): "if 0 < eps lambda < 1, the weight decreases at every step regardless of
    the gradient". The factor `(1 - eps lambda)` shrinks |w| before the gradient step, but the
    step itself can make w grow: from w0 below the penalized minimizer `target / (1 + lam)` w
    rises every step, and with target = 0 and w0 < 0 the weight rises towards 0 (|w| falls).
    Catalog: F16 (002 §4.4.2). Each step is `scratch.optim.l2_update`. PyTorch:
    `torchref.demonstrations.weight_decay_path` (`torch.optim.SGD(weight_decay=lam)`).
    Returns the path (steps + 1,), w0 first.
    Erratum: docs/errata.md#f16
    """
    steps = check_count("steps", steps, 1)
    w = np.array([float(w0)])
    path = [w[0]]
    for _ in range(steps):
        w = l2_update(w, w - target, lr=lr, lam=lam)
        path.append(w[0])
    return np.asarray(path)


# ---- F10: Nesterov against plain momentum on a convex quadratic (002 §4.3.5) ---------------------

CURVATURES = np.logspace(-2, 0, 20)  # f(w) = 1/2 sum_i a_i w_i^2, condition number 100


def quadratic_momentum_path(
    curvatures, *, lr: float, mu: float, nesterov: bool, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Momentum or Nesterov GD on `f(w) = 1/2 sum_i a_i w_i^2` from w = 1: (w path, m path).

    The notes' rules (`scratch.optim.SGD`, F9/F10). Stops early (shorter path) once f exceeds
    1e12 f(w_0): the run diverges. Catalog: F10 (002 §4.3.5). PyTorch:
    `torchref.demonstrations.quadratic_momentum_path` (`torch.optim.SGD`), whose Nesterov
    iterate is the look-ahead point `w + mu m`. Shapes: curvatures (d,); returns (K+1, d) twice.
    """
    a = check_array("curvatures", curvatures, ndim=1)
    steps = check_count("steps", steps, 1)
    opt = SGD(lr=lr, momentum=mu, nesterov=nesterov)
    w = [np.ones_like(a)]
    f0 = 0.5 * float(a.sum())
    ws, ms = [w[0].copy()], [np.zeros_like(a)]
    for _ in range(steps):
        opt.step(w, [a * q for q in opt.grad_point(w)])
        ws.append(w[0].copy())
        ms.append(opt.state[0]["momentum_buffer"].copy())
        if 0.5 * float(a @ (w[0] * w[0])) > 1e12 * f0:
            break
    return np.stack(ws), np.stack(ms)


def steps_to_tolerance(losses, tol: float = 1e-8, cap: float = 1e12):
    """First k with `losses[k] <= tol losses[0]`; None if the run diverges (or never gets there).

    Catalog: F10, F22. Shapes: losses (K+1,).
    """
    f = check_array("losses", losses, ndim=1)
    if np.any(f > cap * f[0]):
        return None
    hit = np.nonzero(f <= tol * f[0])[0]
    return int(hit[0]) if hit.size else None


def momentum_vs_nesterov(
    curvatures=CURVATURES, lrs=(0.5, 1.0, 1.5), mus=(0.9, 0.99), tol: float = 1e-8,
    max_steps: int = 5000,
) -> list[dict]:
    """Steps to reduce f by `tol` for plain momentum and for Nesterov, per (lr, mu).

    Notes (002 §4.3.5): Nesterov "works better for convex problems, converging better than
    plain momentum, but it is slower". Catalog: F10. Both take one gradient per step; the
    count of steps is the cost. Returns one dict per (lr, mu): `lr`, `mu`, `momentum`,
    `nesterov` (steps, or None when the run diverges or exceeds `max_steps`). With lr = 1/L
    (L = max a = 1) Nesterov needs fewer steps; from lr a > (2 + 2 mu)/(1 + 2 mu) it diverges
    where momentum still converges (momentum's bound is 2 (1 + mu)).
    Erratum: docs/errata.md#f10
    """
    a = check_array("curvatures", curvatures, ndim=1)
    out = []
    for lr in lrs:
        for mu in mus:
            row = {"lr": float(lr), "mu": float(mu)}
            for name, nesterov in (("momentum", False), ("nesterov", True)):
                w, _ = quadratic_momentum_path(a, lr=lr, mu=mu, nesterov=nesterov, steps=max_steps)
                row[name] = steps_to_tolerance(0.5 * (w * w) @ a, tol)
            out.append(row)
    return out


# ---- F14: Adam's two drawbacks (002 §4.3.5) ---------------------------------------------------


def adam_relative_steps(steps: int = 100, runs: int = 2000, seed: int = 0, **adam) -> np.ndarray:
    """Mean |Delta w_k| / eps of the notes' Adam on a coordinate whose gradient is pure noise.

    Notes (002 §4.3.5): Adam's first drawback, "the start of training is unstable, because at
    the start there are few points for the average m_i". With the bias correction,
    `m_hat_1 = g_1` and `alpha_hat_1 = g_1^2`, so the first step is `eps g_1 / |g_1|`: every
    coordinate moves by the full eps whatever the size of its gradient; later the averages
    see more points, the noise in m_hat cancels and the relative step falls (to about
    `sqrt((1 - b)/(1 + b)) sqrt(2/pi)` = 0.18 for 002's b = 0.9 on the gradient). The
    gradients are i.i.d. N(0, 1), `runs` independent coordinates; the result does not depend
    on the noise's scale. Catalog: F14 (002 §4.3.5). `adam` are `scratch.optim.adam_update`'s
    keyword arguments (default lr 1e-3, 002's names beta1 = 0.999 on g^2, beta2 = 0.9 on g,
    eps0 = 1e-16). Returns (steps,), entry k-1 for step k.
    """
    steps = check_count("steps", steps, 1)
    runs = check_count("runs", runs, 1)
    kw = {"lr": 1e-3, "beta1": 0.999, "beta2": 0.9, "eps0": 1e-16} | adam
    rng = np.random.default_rng(seed)
    w, m, alpha = np.zeros(runs), np.zeros(runs), np.zeros(runs)
    out = []
    for i in range(1, steps + 1):
        new, m, alpha = adam_update(w, rng.standard_normal(runs), m, alpha, i, **kw)
        out.append(float(np.mean(np.abs(new - w))) / kw["lr"])
        w = new
    return np.asarray(out)


def adaptive_overfit_data(n: int, p: float, rng: np.random.Generator, n_test: int = 0):
    """Wilson et al. (2017)'s least-squares classification set on which adaptive methods
    generalize worse than SGD.

    Label y = +1 with probability p > 1/2, else -1. Features (3 + 5n of them): x_1 = y,
    x_2 = x_3 = 1, and a block of features owned by example i alone: 1 of them set for
    y = +1, 5 for y = -1. Test points (`n_test`) carry x_1 = y, x_2 = x_3 = 1 and none of the
    training examples' own features. Catalog: F14. Returns X (n, 3 + 5n), y (n,), and with
    n_test > 0 also X_test, y_test.
    """
    n = check_count("n", n, 1)
    p = check_interval("p", p, Interval(0.5, 1.0, "neither"))
    y = np.where(rng.random(n) < p, 1.0, -1.0)
    X = np.zeros((n, 3 + 5 * n))
    X[:, 0], X[:, 1], X[:, 2] = y, 1.0, 1.0
    for i in range(n):
        X[i, 3 + 5 * i : 3 + 5 * i + (1 if y[i] > 0 else 5)] = 1.0
    if not n_test:
        return X, y
    yt = np.where(rng.random(n_test) < p, 1.0, -1.0)
    Xt = np.zeros((n_test, X.shape[1]))
    Xt[:, 0], Xt[:, 1], Xt[:, 2] = yt, 1.0, 1.0
    return X, y, Xt, yt


def adaptive_generalization(n: int = 20, p: float = 0.7, seed: int = 0, steps: int = 3000) -> dict:
    """Adam against SGD with momentum on `adaptive_overfit_data`, both from w = 0.

    Notes (002 §4.3.5): Adam's second drawback, "the model obtained tends to overfit compared
    with SGD with momentum". Full-batch steps on the mean squared error `1/(2n) ||X w - y||^2`
    (`scratch.optim.SGD(lr=0.05, momentum=0.9)`, the notes' `Adam(lr=0.01)`). Both fit the
    training set exactly; SGD's solution stays in the span of the examples (the minimum-norm
    interpolant), which leans on x_1 = y; Adam's sign-like steps weigh x_1, x_2, x_3 alike
    and the test prediction `w_1 y + w_2 + w_3` is positive for every test point.
    Catalog: F14 (002 §4.3.5). Returns, per optimizer ("sgd_momentum", "adam"): `train_mse`,
    `train_accuracy`, `test_accuracy`, `w123` (the first three weights); and
    `positive_rate` (the share of +1 labels in the test set).
    """
    rng = np.random.default_rng(seed)
    X, y, Xt, yt = adaptive_overfit_data(n, p, rng, n_test=2000)
    steps = check_count("steps", steps, 1)
    out = {"positive_rate": float(np.mean(yt > 0))}
    for name, opt in (("sgd_momentum", SGD(lr=0.05, momentum=0.9)), ("adam", Adam(lr=0.01))):
        w = [np.zeros(X.shape[1])]
        for _ in range(steps):
            opt.step(w, [X.T @ (X @ w[0] - y) / n])
        out[name] = {
            "train_mse": float(np.mean((X @ w[0] - y) ** 2)),
            "train_accuracy": float(np.mean(np.sign(X @ w[0]) == y)),
            "test_accuracy": float(np.mean(np.sign(Xt @ w[0]) == yt)),
            "w123": w[0][:3].copy(),
        }
    return out


# ---- F8: mini-batches between SGD and batch GD (002 §4.3.4) -------------------------------------


def regression_data(n: int = 256, d: int = 5, noise: float = 0.5, seed: int = 0):
    """Linear-regression data `t = X w_true + noise`, X with a column of ones: (n, d), (n,).

    Catalog: F8. The least-squares minimizer is `np.linalg.lstsq(X, t)`.
    """
    rng = np.random.default_rng(seed)
    X = np.hstack([np.ones((n, 1)), rng.standard_normal((n, d - 1))])
    return X, X @ rng.standard_normal(d) + noise * rng.standard_normal(n)


def minibatch_gradient_noise(X, t, w, batch_sizes, draws: int, rng: np.random.Generator) -> list:
    """Measured and predicted `E ||g_B - g||^2` of mini-batch gradients of a linear neuron.

    Notes (002 §4.3.4): "choosing a single random point can cause a large variance ... so
    usually mini-batch learning is done: ... there is no high variance". For batches of S
    examples drawn without replacement from N, the mean squared deviation of the batch
    gradient from the full gradient is `T / S (N - S)/(N - 1)`, T the per-example one
    (sampling without replacement); measured over `draws` batches per size. The loss is
    `linear_neuron_loss` (per-example gradient `(x.w - t) x`).
    Catalog: F8 (002 §4.3.4). Returns [(S, measured, predicted)].
    """
    X = check_array("X", X, ndim=2)
    t = check_array("t", t, ndim=1)
    w = check_array("w", w, ndim=1)
    draws = check_count("draws", draws, 1)
    G = (X @ w - t)[:, None] * X  # (N, d) per-example gradients
    g = G.mean(axis=0)
    N = X.shape[0]
    T = float(np.mean(np.sum((G - g) ** 2, axis=1)))
    out = []
    for S in batch_sizes:
        S = check_count("batch size", S, 1)
        dev = [
            float(np.sum((G[rng.choice(N, S, replace=False)].mean(axis=0) - g) ** 2))
            for _ in range(draws)
        ]
        out.append((S, float(np.mean(dev)), T / S * (N - S) / max(N - 1, 1)))
    return out


def minibatch_schedule(n: int, batch_size: int, epochs: int, seed: int) -> list[np.ndarray]:
    """The index arrays of `epochs` shuffled epochs (`minibatches`). Catalog: F8."""
    rng = np.random.default_rng(seed)
    epochs = check_count("epochs", epochs, 1)
    return [b for _ in range(epochs) for b in minibatches(n, batch_size, rng)]


def minibatch_sgd(X, t, batches, *, lr: float) -> np.ndarray:
    """Mini-batch SGD on `linear_neuron_loss` from w = 0, one step per batch.

    Catalog: F8 (002 §4.3.4). PyTorch: `torchref.demonstrations.minibatch_sgd` (a DataLoader
    over the same `batches`, `torch.optim.SGD`). Returns the path (len(batches) + 1, d).
    """
    X = check_array("X", X, ndim=2)
    t = check_array("t", t, ndim=1)
    w, opt = [np.zeros(X.shape[1])], SGD(lr=lr)
    path = [w[0].copy()]
    for b in batches:
        opt.step(w, [linear_neuron_loss_grad(w[0], X[b], t[b])])
        path.append(w[0].copy())
    return np.stack(path)


def minibatch_distance(
    batch_sizes=(1, 4, 16, 64, 256), epochs: int = 30, lr: float = 0.05, seeds: int = 5
) -> list[tuple[int, int, float]]:
    """Distance of the final mini-batch SGD weights to the batch (least-squares) solution.

    Notes (002 §4.3.4): "the weights obtained are very close to those batch learning would
    give". After `epochs` epochs at a constant rate, per batch size S: (S, steps per epoch =
    N/S, mean ||w - w*|| over `seeds` shuffles), w* the exact least-squares minimizer (what
    batch GD converges to). Catalog: F8.
    """
    X, t = regression_data()
    w_star = np.linalg.lstsq(X, t, rcond=None)[0]
    out = []
    for S in batch_sizes:
        d = [
            np.linalg.norm(minibatch_sgd(X, t, minibatch_schedule(len(t), S, epochs, s), lr=lr)[-1]
                           - w_star)
            for s in range(seeds)
        ]
        out.append((int(S), -(-len(t) // S), float(np.mean(d))))
    return out


# ---- B3: "the deeper the network, the better the accuracy" (002 §4.1.1) ----------------------


def train_full_batch(params, X, y, activation: str, *, lr: float, momentum: float, steps: int,
                     head: str = "binary"):
    """Full-batch momentum GD (`scratch.optim.SGD`) on `scratch.mlp.loss_and_grads`.

    Catalog: B3, H3. PyTorch: `torchref.demonstrations.train_full_batch`. Returns
    `(params, losses)`: new arrays and the loss before each step (steps,).
    """
    params = [np.array(p, copy=True) for p in params]
    opt, history = SGD(lr=lr, momentum=momentum), []
    for _ in range(check_count("steps", steps, 1)):
        loss, grads = loss_and_grads(params, X, y, activation, head=head)
        history.append(loss)
        opt.step(params, grads)
    return params, np.asarray(history)


def depth_sweep(
    depths=(1, 2, 3, 4, 6, 8), activations=("sigmoid", "tanh", "relu"), width: int = 16,
    steps: int = 500, seeds: int = 3, n_train: int = 200, n_test: int = 1000,
) -> list[dict]:
    """Training and test accuracy of MLPs of growing depth, everything else fixed.

    Notes (002 §4.1.1): "the deeper the network, the more its ability to reach a better
    accuracy grows". Data: 002's circle set (`circle_dataset`, seed 0); networks
    `[2] + [width] * depth + [1]` with nn.Linear's default initialization (`init_mlp`,
    "uniform", seed 100 + s), full-batch momentum GD (lr 0.5 for sigmoid, 0.1 otherwise,
    mu = 0.9, `steps` steps). Catalog: B3 (002 §4.1.1). Returns one dict per (activation,
    depth, seed): `train_loss`, `train_accuracy`, `test_accuracy`, and `majority_rate`
    (test accuracy of the constant majority prediction).
    Erratum: docs/errata.md#b3
    """
    rng = np.random.default_rng(0)
    X, y = circle_dataset(rng, n_train)
    Xt, yt = circle_dataset(rng, n_test)
    majority = float(max(yt.mean(), 1 - yt.mean()))
    out = []
    for act in activations:
        for depth in depths:
            for s in range(seeds):
                params = init_mlp([2] + [width] * depth + [1], np.random.default_rng(100 + s))
                lr = 0.5 if act == "sigmoid" else 0.1
                params, _ = train_full_batch(params, X, y, act, lr=lr, momentum=0.9,
                                             steps=steps)
                out.append({
                    "activation": act, "depth": depth, "seed": s,
                    "train_loss": loss_and_grads(params, X, y, act, head="binary")[0],
                    "train_accuracy": _accuracy(mlp_forward(params, X, act)[0], y),
                    "test_accuracy": _accuracy(mlp_forward(params, Xt, act)[0], yt),
                    "majority_rate": majority,
                })
    return out


# ---- H3: dropout takes longer to converge (002 §4.4.3) -------------------------------------------


def dropout_step(params, X, y, p: float, rng: np.random.Generator, head: str = "binary"):
    """Loss and gradients of a one-hidden-layer ReLU MLP with inverted dropout (p) on its
    hidden layer, training mode: `scratch.mlp`'s dense/activation pairs and
    `scratch.dropout.inverted_dropout_*`. Catalog: H3. Returns (loss, [dW1, db1, dW2, db2]).
    """
    W1, b1, W2, b2 = params
    z1, c1 = dense_forward(X, W1, b1)
    a1, ca = activation_forward(z1, "relu")
    d1, cd = inverted_dropout_forward(a1, p, True, rng=rng) if p > 0 else (a1, None)
    z2, c2 = dense_forward(d1, W2, b2)
    loss = head_loss(z2, y, head)
    dd1, dW2, db2 = dense_backward(head_loss_grad(z2, y, head), c2)
    if cd is not None:
        dd1 = inverted_dropout_backward(dd1, cd)
    _, dW1, db1 = dense_backward(activation_backward(dd1, ca), c1, need_dx=False)
    return loss, [dW1, db1, dW2, db2]


def steps_to_fit(p: float, seed: int = 0, target: float = 0.2, max_steps: int = 5000,
                 width: int = 64, lr: float = 0.1, n: int = 200):
    """Steps of full-batch momentum GD until the training loss (dropout off) is <= target.

    Notes (002 §4.4.3): "the disadvantage of this method [dropout] is that it takes time to
    converge". Data: 002's circle set (n points, seed 0); network [2, width, 1] ReLU, binary
    head, `init_mlp` seed 100 + seed; dropout masks from `default_rng(seed)`; SGD(lr,
    momentum 0.9). The loss is measured after every step on the whole training set in
    evaluation mode (no dropout). Catalog: H3 (002 §4.4.3). PyTorch:
    `torchref.demonstrations.steps_to_fit` (`MLP(dropout=p)`, `nn.Dropout`).
    Returns the number of steps, or None if `max_steps` were not enough.
    """
    X, y = circle_dataset(np.random.default_rng(0), check_count("n", n, 2))
    rng = np.random.default_rng(seed)
    params = init_mlp([2, width, 1], np.random.default_rng(100 + seed))
    opt = SGD(lr=lr, momentum=0.9)
    for k in range(check_count("max_steps", max_steps, 1)):
        _, grads = dropout_step(params, X, y, p, rng)
        opt.step(params, grads)
        if loss_and_grads(params, X, y, "relu", head="binary")[0] <= target:
            return k + 1
    return None


# ---- A12 / A5: the cost of exp and of ReLU (002 §4.1.2) -----------------------------------------


def activation_costs(n: int = 1_000_000, repeats: int = 15, seed: int = 0) -> dict:
    """Median time of one pass of each activation (and derivative) over n float64 values.

    Notes (002 §4.1.2): sigmoid's third drawback, "both the function and the derivative need
    an exponential, relatively costly to compute"; ReLU "is more efficient to compute: it only
    checks the sign, with no multiplication and no exponential". The timings are interleaved
    (every repeat times every kernel once, in turn) and the median over repeats is kept, so a
    busy machine slows all kernels alike; the ratios are what the docs report. Never used in a
    timed assertion. Kernels: `np.exp`, `np.maximum(z, 0)` (the bare operations) and the
    project's `sigmoid`, `tanh`, `relu`, `sigmoid_grad`, `relu_grad`, plus `s (1 - s)` from a
    cached sigmoid output (what backprop computes: no second exponential).
    Catalog: A12, A5 (002 §4.1.2). Returns `seconds` {name: median} and `vs_relu` {name:
    median / median of np.maximum}.
    """
    n = check_count("n", n, 1)
    repeats = check_count("repeats", repeats, 1)
    z = np.random.default_rng(seed).standard_normal(n)
    s = sigmoid(z)
    kernels = {
        "np.exp": lambda: np.exp(z),
        "np.maximum(z, 0)": lambda: np.maximum(z, 0.0),
        "sigmoid": lambda: sigmoid(z),
        "tanh": lambda: tanh(z),
        "relu": lambda: relu(z),
        "sigmoid_grad(z)": lambda: sigmoid_grad(z),
        "s * (1 - s) (cached s)": lambda: s * (1.0 - s),
        "relu_grad": lambda: relu_grad(z),
    }
    times: dict[str, list[float]] = {k: [] for k in kernels}
    for _ in range(repeats):
        for name, fn in kernels.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    base = med["np.maximum(z, 0)"]
    return {"seconds": med, "vs_relu": {k: v / base for k, v in med.items()}}


# ---- F22: SGD's jitter and local minima (003) ---------------------------------------------------


def double_well(w, h: float = 1.0, c: float = 0.3):
    """`L(w) = h (w^2 - 1)^2 + c w` and `L'(w)`: two wells, the left one deeper for c > 0.

    Catalog: F22. Shapes: w any -> (L, L') of the same shape.
    """
    w = np.asarray(w, dtype=np.float64)
    return h * (w * w - 1) ** 2 + c * w, 4 * h * w * (w * w - 1) + c


def double_well_points(h: float = 1.0, c: float = 0.3) -> dict:
    """The two minima and the barrier between them: `global`, `local`, `barrier` (w, L), and
    `barrier_height` = L(barrier) - L(local), by SciPy's bounded Brent search. Catalog: F22."""

    def f(v):
        return float(double_well(v, h, c)[0])

    g = minimize_scalar(f, bounds=(-2.0, 0.0), method="bounded", options={"xatol": 1e-12}).x
    loc = minimize_scalar(f, bounds=(0.0, 2.0), method="bounded", options={"xatol": 1e-12}).x
    top = minimize_scalar(lambda v: -f(v), bounds=(g, loc), method="bounded",
                          options={"xatol": 1e-12}).x
    return {"global": (float(g), f(g)), "local": (float(loc), f(loc)),
            "barrier": (float(top), f(top)), "barrier_height": f(top) - f(loc)}


def escape_examples(sigma: float, m: int = 10) -> np.ndarray:
    """The m per-example slopes `s_i = +-sigma` (mean 0): example i's loss is `L(w) + s_i w`,
    so the batch loss is the double well itself and one example's gradient is `L'(w) + s_i`.
    Catalog: F22. Returns (m,)."""
    sigma = check_interval("sigma", sigma, NONNEGATIVE)
    m = check_count("m", m, 2)
    return np.where(np.arange(m) % 2 == 0, sigma, -sigma)


def sgd_escape(h: float = 1.0, sigma: float = 4.0, lr: float = 0.05, steps: int = 1000,
               runs: int = 200, seed: int = 0, c: float = 0.3, m: int = 10) -> dict:
    """On-line SGD started in the shallower well of `double_well`, `runs` runs in parallel.

    Notes (003, SGD's pros): "when there are several local minima, the jitter sometimes
    helps to escape a local minimum". Each step picks one of the m examples uniformly (with
    replacement) and steps `w <- w - lr (L'(w) + s_i)`; batch GD steps `w <- w - lr L'(w)`.
    The gradient noise has variance sigma^2, so SGD behaves like a particle at temperature
    about `T = lr sigma^2 / 2`: it crosses a barrier of height dL in about exp(dL / T) steps,
    and afterwards spends more time in the deeper well. With a barrier large against T it
    stays where it started, like GD. Catalog: F22 (003). PyTorch:
    `torchref.demonstrations.sgd_escape` (`torch.optim.SGD`, the same example draws).
    Returns `final` (runs,), `fraction_global` (share of runs ending left of the barrier),
    `gd_final` (GD's end point), `indices` (steps, runs) the examples drawn, `temperature`,
    and the `double_well_points`.
    """
    steps = check_count("steps", steps, 1)
    runs = check_count("runs", runs, 1)
    lr = check_interval("lr", lr, POSITIVE)
    pts = double_well_points(h, c)
    s = escape_examples(sigma, m)
    idx = np.random.default_rng(seed).integers(0, m, size=(steps, runs))
    w = np.full(runs, pts["local"][0])
    w_gd = pts["local"][0]
    for k in range(steps):
        w = w - lr * (double_well(w, h, c)[1] + s[idx[k]])
        w_gd = w_gd - lr * float(double_well(w_gd, h, c)[1])
    return {
        "final": w, "fraction_global": float(np.mean(w < pts["barrier"][0])),
        "gd_final": float(w_gd), "indices": idx, "temperature": lr * float(sigma) ** 2 / 2,
        **pts,
    }


# ---- I4: one hidden layer against many, in an autoencoder (003) ---------------------------------


def autoencoder_data(n: int = 200, seed: int = 0) -> np.ndarray:
    """(n, 6) correlated Gaussian data with standard deviations 3, 2, 1.5, 1, 0.5, 0.3 along
    random orthogonal axes, scaled into [-1, 1]. Catalog: I4."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6)) * np.array([3.0, 2.0, 1.5, 1.0, 0.5, 0.3])
    X = X @ np.linalg.qr(rng.standard_normal((6, 6)))[0]
    return X / np.abs(X).max()


def pca_loss(X, k: int) -> float:
    """The least reconstruction loss of any rank-k affine autoencoder: the sum of the d - k
    smallest eigenvalues of the (biased) covariance of X (mean over examples of the squared
    error summed over features, the autoencoders' "mse"). Catalog: I4."""
    X = check_array("X", X, ndim=2)
    Xc = X - X.mean(axis=0)
    ev = np.sort(np.linalg.eigvalsh(Xc.T @ Xc / X.shape[0]))
    return float(ev[: X.shape[1] - check_count("k", k, 1)].sum())


def _ae(sizes, activation):
    return AEConfig(tuple(sizes), activation=activation, output_activation="identity", loss="mse")


def stacked_init(X, sizes, *, lr: float, steps: int, rng: np.random.Generator,
                 activation: str = "sigmoid") -> list[np.ndarray]:
    """Greedy layer-wise initialization of a deep autoencoder of widths `sizes` (symmetric).

    003: "train each layer separately, get an initialization for the weights, then fine-tune".
    Stage i is a one-hidden-layer autoencoder `(d_i, d_{i+1}, d_i)` trained by
    `scratch.autoencoders.train_autoencoder` on the codes of stage i - 1; the encoders go in
    order and the decoders in reverse order (the unrolled stack of Hinton & Salakhutdinov
    2006). Catalog: I4. Returns the deep autoencoder's params `[W1, b1, ..., WL, bL]`.
    """
    half = len(sizes) // 2
    codes, enc, dec = X, [], []
    for a, b in zip(sizes[:half], sizes[1 : half + 1], strict=True):
        cfg = _ae((a, b, a), activation)
        stage, _ = train_autoencoder(init_autoencoder(cfg, rng), codes, cfg, lr=lr, steps=steps)
        enc += stage[:2]
        dec = stage[2:] + dec
        codes = encode_through([stage[:2]], codes, activation)
    return enc + dec


DEEP_AE = (6, 5, 4, 2, 4, 5, 6)


def autoencoder_depth_demo(
    seed: int = 0, steps: int = 1000, lr: float = 0.2, stacked: tuple[int, int] | None = None
) -> dict:
    """Shallow against deep autoencoders on `autoencoder_data`, all by full-batch GD.

    Notes (003 "Auto-encoders"): "when there are many layers the error surface is very
    convoluted; when there is only one layer, one gets stuck less in a local minimum. The idea:
    train each layer separately, get an initialization of the weights, then fine-tune".
    Catalog: I4 (003). Measured, for code size 2, `steps` GD steps at rate `lr` and
    initializations from `default_rng(seed)`:
      `linear_shallow`  6-2-6 with identity units: its loss has no spurious local minima
                        (Baldi & Hornik 1989) and reaches `pca`, the best rank-2 loss;
      `sigmoid_shallow` 6-2-6 with a sigmoid code layer;
      `deep`            `DEEP_AE` (6-5-4-2-4-5-6, sigmoid) from random weights, end to end:
                        it stays at `plateau`, the loss of predicting the mean (the total
                        variance), where its gradient has all but vanished (`deep_grad_norm`);
    and with `stacked = (stage_steps, finetune_steps)` also `stacked_init` and `stacked`: the
    same deep network from `stacked_init` (`stage_steps` per stage), fine-tuned end to end.
    Losses are final training losses (mean over examples of the squared error summed over the
    6 features). PyTorch: `torchref.demonstrations.train_autoencoder_gd` on the same params.
    """
    X = autoencoder_data()
    out = {"pca": pca_loss(X, 2), "plateau": float(np.sum(X.var(axis=0)))}
    for name, sizes, act in (("linear_shallow", (6, 2, 6), "identity"),
                             ("sigmoid_shallow", (6, 2, 6), "sigmoid"),
                             ("deep", DEEP_AE, "sigmoid")):
        cfg = _ae(sizes, act)
        params, _ = train_autoencoder(init_autoencoder(cfg, np.random.default_rng(seed)), X,
                                      cfg, lr=lr, steps=steps)
        out[name] = _ae_loss(params, X, cfg)
        if name == "deep":
            grads = autoencoder_loss_and_grads(params, X, cfg, training=False)[1]
            out["deep_grad_norm"] = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    if stacked is not None:
        stage_steps, finetune_steps = stacked
        cfg = _ae(DEEP_AE, "sigmoid")
        init = stacked_init(X, DEEP_AE, lr=lr, steps=stage_steps, rng=np.random.default_rng(seed))
        params, _ = train_autoencoder(init, X, cfg, lr=lr, steps=finetune_steps)
        out["stacked_init"] = _ae_loss(init, X, cfg)
        out["stacked"] = _ae_loss(params, X, cfg)
    return out


def _ae_loss(params, X, cfg) -> float:
    return float(autoencoder_loss(params, X, cfg)["loss"])


# ---- E11, E12, E13: 003's biology questions as small models --------------------------------------


def stdp_window(dt, a_plus: float = 1.0, a_minus: float = 1.0, tau_plus: float = 20.0,
                tau_minus: float = 20.0) -> np.ndarray:
    """Pair-based STDP: the weight change of a synapse for `dt = t_post - t_pre` (ms).

    `a_plus e^{-dt/tau_plus}` when the postsynaptic spike follows the presynaptic one
    (dt > 0: potentiation), `-a_minus e^{dt/tau_minus}` when it precedes it (dt < 0:
    depression), 0 at dt = 0 (Bi & Poo 1998; Song, Miller & Abbott 2000). Catalog: E11 (003
    "Spike Time Dependent Plasticity"). PyTorch: `torchref.demonstrations.stdp_window`.
    Shape: any -> same.
    """
    dt = check_array("dt", dt)
    for name, v in (("a_plus", a_plus), ("a_minus", a_minus), ("tau_plus", tau_plus),
                    ("tau_minus", tau_minus)):
        check_interval(name, v, POSITIVE)
    pos = a_plus * np.exp(-np.abs(dt) / tau_plus)
    neg = -a_minus * np.exp(-np.abs(dt) / tau_minus)
    return np.where(dt > 0, pos, np.where(dt < 0, neg, 0.0))


def stdp_two_neurons(spikes_a, spikes_b, **window) -> dict:
    """003's pair: neuron A feeds B through synapse A, B feeds A through synapse B.

    Synapse A has pre = A, post = B; synapse B has pre = B, post = A. Each synapse's change is
    the sum of `stdp_window(t_post - t_pre)` over all spike pairs (all-to-all pairing).
    003 asks what happens "if B fires and A does not" and answers "A weakens, B strengthens":
    that is the outcome when B fires *before* A (e.g. B drives A through synapse B): synapse A
    sees post before pre (depression), synapse B pre before post (potentiation). With no spike
    of A at all the pair rule has nothing to pair and neither synapse changes.
    Catalog: E11 (003). Spike times in ms. Returns `synapse_a`, `synapse_b` (floats).
    """
    ta, tb = (
        check_array(name, np.atleast_1d(np.asarray(v, dtype=np.float64)), ndim=1,
                    allow_empty=True)
        for name, v in (("spikes_a", spikes_a), ("spikes_b", spikes_b))
    )
    if not (ta.size and tb.size):  # a silent neuron: no pair to weigh
        return {"synapse_a": 0.0, "synapse_b": 0.0}
    return {
        "synapse_a": float(stdp_window(tb[None, :] - ta[:, None], **window).sum()),
        "synapse_b": float(stdp_window(ta[None, :] - tb[:, None], **window).sum()),
    }


def anti_hebbian_synapse(rate_pre: float, rate_post: float, w0: float = 1.0, lr: float = 0.1,
                         steps: int = 20, rule: str = "anti-hebbian") -> np.ndarray:
    """Weight of an excitatory synapse under a rate-based (anti-)Hebbian rule, bounded at 0.

    Notes (003): "in the basal ganglia the anti-Hebb rule was found to hold; what happens to
    the synapse between two neurons there that fire together? It weakens." Each step adds
    `scratch.classic.anti_hebbian_update` (`-lr r_post r_pre`; `rule="hebbian"`: `+lr r_post
    r_pre`) and, as a biological excitatory synapse cannot turn inhibitory, clips at 0 (E8).
    Co-firing (both rates > 0) drives the weight down to 0; if either neuron is silent
    nothing changes. Catalog: E12 (003). PyTorch:
    `torchref.demonstrations.anti_hebbian_synapse`. Returns the path (steps + 1,).
    """
    if rule not in ("anti-hebbian", "hebbian"):
        raise ValueError(f"unknown rule {rule!r}; valid choices: 'anti-hebbian', 'hebbian'")
    for name, v in (("rate_pre", rate_pre), ("rate_post", rate_post), ("w0", w0)):
        check_interval(name, v, NONNEGATIVE)
    x, y = np.array([float(rate_pre)]), np.array([float(rate_post)])
    update = anti_hebbian_update if rule == "anti-hebbian" else hebbian_update
    w = [float(w0)]
    for _ in range(check_count("steps", steps, 1)):
        w.append(max(0.0, w[-1] + float(update(x, y, lr)[0, 0])))
    return np.asarray(w)


def lif_rate(current, tau: float = 20.0, v_th: float = 1.0, t_ref: float = 2.0,
             resistance: float = 1.0) -> np.ndarray:
    """Firing rate (spikes per ms) of a leaky integrate-and-fire neuron under a constant current.

    `tau dV/dt = -V + R I`, spike and reset to 0 at `V = v_th`, then `t_ref` ms refractory:
    `rate = 1 / (t_ref + tau ln(R I / (R I - v_th)))` for `R I > v_th`, else 0. 003 asks which
    biological property an activation function expresses; the first answer, "the firing rate
    as a function of the total current into the dendrites", is this curve: 0 up to a
    threshold (like ReLU), increasing, and saturating at `1/t_ref` (like a sigmoid).
    Catalog: E13 (003). PyTorch: `torchref.demonstrations.lif_rate`. Shape: any -> same.
    """
    current = check_array("current", current)
    for name, v in (("tau", tau), ("v_th", v_th), ("t_ref", t_ref), ("resistance", resistance)):
        check_interval(name, v, POSITIVE)
    drive = resistance * current
    above = drive > v_th
    safe = np.where(above, drive, 2.0 * v_th)  # no log of a non-positive number below threshold
    return np.where(above, 1.0 / (t_ref + tau * np.log(safe / (safe - v_th))), 0.0)


def lif_simulated_rate(current: float, tau: float = 20.0, v_th: float = 1.0, t_ref: float = 2.0,
                       resistance: float = 1.0, dt: float = 0.005, t_max: float = 2000.0) -> float:
    """The same neuron simulated (exact exponential step of width dt): spikes / t_max.

    Catalog: E13 (003).
    """
    current = check_interval("current", current, FINITE)
    n = int(round(check_interval("t_max", t_max, POSITIVE) / check_interval("dt", dt, POSITIVE)))
    decay, v_inf = np.exp(-dt / tau), resistance * current
    v, refractory, spikes = 0.0, 0.0, 0
    for _ in range(n):
        if refractory > 0:
            refractory -= dt
            continue
        v = v_inf + (v - v_inf) * decay
        if v >= v_th:
            spikes, v, refractory = spikes + 1, 0.0, t_ref
    return spikes / t_max


def firing_probability(current, theta: float = 1.0, sigma: float = 0.2) -> np.ndarray:
    """P(fire) of a threshold unit whose threshold is noisy: `P(I + noise > theta)`,
    noise ~ N(0, sigma^2), i.e. `Phi((I - theta) / sigma)` (scipy.special.ndtr).

    003's second answer, "the probability of firing as a function of the total current": a
    sigmoid-shaped curve; the logistic `sigmoid(1.702 (I - theta) / sigma)` is within 0.0095
    of it everywhere (`logistic_firing_probability`). Catalog: E13 (003). PyTorch:
    `torchref.demonstrations.firing_probability` (`torch.special.ndtr`). Shape: any -> same.
    """
    current = check_array("current", current)
    check_interval("sigma", sigma, POSITIVE)
    return ndtr((current - theta) / sigma)


def logistic_firing_probability(current, theta: float = 1.0, sigma: float = 0.2) -> np.ndarray:
    """`sigmoid(1.702 (I - theta) / sigma)`: the sigmoid unit read as a firing probability.

    Catalog: E13 (003).
    """
    current = check_array("current", current)
    check_interval("sigma", sigma, POSITIVE)
    return sigmoid(1.702 * (current - theta) / sigma)


def noisy_threshold_trials(current, theta: float, sigma: float, trials: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Share of `trials` draws in which `I + noise > theta` (Monte Carlo of
    `firing_probability`). Catalog: E13. Shapes: current (K,) -> (K,)."""
    current = check_array("current", current, ndim=1)
    noise = sigma * rng.standard_normal((check_count("trials", trials, 1), current.size))
    return np.mean(current[None, :] + noise > theta, axis=0)


__all__ += [
    "neuron_input_range",
    "linear_network_vs_logistic_regression",
    "hidden_path_depth",
    "SYMMETRIC_NET",
    "SYMMETRIC_X",
    "swap_hidden_units",
    "global_minimum_vs_convexity",
    "weight_decay_path",
    "CURVATURES",
    "quadratic_momentum_path",
    "steps_to_tolerance",
    "momentum_vs_nesterov",
    "adam_relative_steps",
    "adaptive_overfit_data",
    "adaptive_generalization",
    "regression_data",
    "minibatch_gradient_noise",
    "minibatch_schedule",
    "minibatch_sgd",
    "minibatch_distance",
    "train_full_batch",
    "depth_sweep",
    "dropout_step",
    "steps_to_fit",
    "activation_costs",
    "double_well",
    "double_well_points",
    "escape_examples",
    "sgd_escape",
    "autoencoder_data",
    "pca_loss",
    "stacked_init",
    "DEEP_AE",
    "autoencoder_depth_demo",
    "stdp_window",
    "stdp_two_neurons",
    "anti_hebbian_synapse",
    "lif_rate",
    "lif_simulated_rate",
    "firing_probability",
    "logistic_firing_probability",
    "noisy_threshold_trials",
]

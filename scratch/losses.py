"""Losses, costs and penalties of the notes (catalog C1-C8, C10) and their gradients, in NumPy.

Imports NumPy, `scipy.special` (xlogy: `0 log 0 = 0` without a warning) and
`scratch.validation`, `scratch.activations` only.

Conventions. Arrays are batch-first: m = N examples on axis 0, outputs/classes on axis 1.
Every loss reduces like the notes' `J = 1/m sum_i L(y_hat_i, y_i)` (sum over the outputs of
one example, mean over the m examples) unless its `scaling` says otherwise; each docstring
states its reduction and the PyTorch reduction that gives the same number. Each loss comes
with `<name>_grad`, the gradient w.r.t. its first argument (same shape); penalties return a
list of gradients, one per weight array.

Logs of 0. A probability of exactly 0 (or 1) on the wrong side gives an infinite loss, which
is the true value; PyTorch's `F.binary_cross_entropy` clamps each log at -100 instead.
`0 log 0` counts as 0, as in the limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import xlogy

from scratch.activations import sigmoid, softmax
from scratch.validation import (
    PENALTY,
    POSITIVE,
    Choice,
    check_array,
    check_count,
    check_interval,
    check_labels,
    check_ndim,
    check_one_hot,
    check_probabilities,
    check_row_sums,
    check_rows_match,
    check_same_shape,
    scalar_like,
)

__all__ = [
    "SCALINGS",
    "squared_error",
    "squared_error_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "multilabel_cross_entropy",
    "multilabel_cross_entropy_grad",
    "categorical_cross_entropy",
    "categorical_cross_entropy_grad",
    "cross_entropy_with_logits",
    "cross_entropy_with_logits_grad",
    "log_sum_exp",
    "l2_penalty",
    "l2_penalty_grad",
    "l1_penalty",
    "l1_penalty_grad",
    "regularized_logistic_cost",
    "regularized_logistic_cost_grad",
    "network_cost",
    "network_cost_grad",
    "bernoulli_log_likelihood",
    "categorical_log_likelihood",
    "gaussian_log_prior",
    "l2_lambda_for_gaussian_prior",
]

SCALINGS = Choice(("sum", "half_sum", "mean", "half_mean"))


def _pair(name_a: str, a, name_b: str, b, ndim=(1, 2)) -> tuple[np.ndarray, np.ndarray]:
    a = check_array(name_a, a, ndim=ndim, allow_empty=False)
    b = check_array(name_b, b, ndim=ndim, allow_empty=False)
    check_same_shape(name_a, a, name_b, b)
    return a, b


# ---- C1: squared error -------------------------------------------------------------------

_SE_FACTOR = {"sum": 1.0, "half_sum": 0.5, "mean": 1.0, "half_mean": 0.5}


def _se_scale(scaling: str, m: int) -> float:
    SCALINGS.check("scaling", scaling)
    return _SE_FACTOR[scaling] / (m if scaling.endswith("mean") else 1)


def squared_error(y_hat, y, scaling: str = "mean") -> np.ndarray:
    """Squared error between predictions and targets, in one of the notes' scalings.

    Notes: `L_0 = (a - y)^2`, per example `sum_j (a_j - y_j)^2` with `dL/da = 2(a - y)`
    (002 §4.2.3); `eps(k) = 1/2 sum_r (h_r - y_r)^2`, `J = sum_k eps(k)` (004); MSE with
    `dMSE/dw = 1/m sum_p (y_p - t_p) x_p`, i.e. `1/(2m) sum_p (y_p - t_p)^2` (003).
    Catalog: C1. With `S = sum_n sum_j (y_hat_nj - y_nj)^2` over the m = N examples and the
    K outputs:
      "sum"       S                (002's L_0 summed over examples)
      "half_sum"  S / 2            (004's J)
      "mean"      S / m            (mean over examples of the per-example sum over outputs)
      "half_mean" S / (2m)         (003's MSE, whose gradient has no factor 2)
    PyTorch: `F.mse_loss(y_hat, y, reduction="sum")` is S; `reduction="mean"` averages over
    all N*K elements, so "mean" here = K * `F.mse_loss(..., reduction="mean")` (equal for one
    output). Shapes: y_hat, y (N,) (one output) or (N, K), the same. Returns a scalar.
    Erratum: docs/errata.md#c1
    """
    y_hat, y = _pair("y_hat", y_hat, "y", y)
    scale = _se_scale(scaling, y_hat.shape[0])
    d = y_hat - y
    return np.asarray(scale * np.sum(d * d), dtype=y_hat.dtype)


def squared_error_grad(y_hat, y, scaling: str = "mean") -> np.ndarray:
    """Gradient of `squared_error` w.r.t. y_hat: `2 (y_hat - y)` times the scaling's factor.

    "sum": `2(y_hat - y)`; "half_sum": `y_hat - y`; "mean": `2(y_hat - y)/m`;
    "half_mean": `(y_hat - y)/m`. Catalog: C1. Shape of y_hat.
    """
    y_hat, y = _pair("y_hat", y_hat, "y", y)
    scale = _se_scale(scaling, y_hat.shape[0])
    return (2 * scale) * (y_hat - y)


# ---- C2: binary cross-entropy ------------------------------------------------------------


def _bce_elements(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    # -(t log p + (1 - t) log(1 - p)); xlogy makes 0 log 0 = 0 and log 0 = -inf silently.
    return -(xlogy(t, p) + xlogy(1 - t, 1 - p))


def _probs_and_targets(p, t, ndim=(1, 2)) -> tuple[np.ndarray, np.ndarray]:
    p, t = _pair("p", p, "t", t, ndim=ndim)
    check_probabilities("p", p)
    check_probabilities("t", t)
    return p, t


def _bce_grad_elements(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    # d/dp of -(t log p + (1-t) log(1-p)) = -t/p + (1-t)/(1-p); each term only where its
    # coefficient is non-zero, so 0 * (1/0) is 0. A non-zero coefficient over a zero
    # probability is a true infinity, returned as inf without a warning.
    with np.errstate(divide="ignore"):
        a = np.divide(t, p, out=np.zeros_like(p), where=t != 0)
        b = np.divide(1 - t, 1 - p, out=np.zeros_like(p), where=t != 1)
    return b - a


def binary_cross_entropy(p, t) -> np.ndarray:
    """Binary cross-entropy of predicted probabilities p against targets t, mean over elements.

    Notes: `L(y_hat, y) = -(y log y_hat + (1 - y) log(1 - y_hat))` (001), `J = 1/m sum L`
    (001, 003 "CEntropy on one example"). Catalog: C2. Reduction: mean over every element
    (for one output per example, the notes' 1/m sum over examples). PyTorch:
    `F.binary_cross_entropy(p, t, reduction="mean")` (which clamps each log at -100).
    Shapes: p, t (N,) or (N, K), the same; p and t in [0, 1]. Returns a scalar.
    """
    p, t = _probs_and_targets(p, t)
    return np.asarray(_bce_elements(p, t).mean(), dtype=p.dtype)


def binary_cross_entropy_grad(p, t) -> np.ndarray:
    """Gradient of `binary_cross_entropy` w.r.t. p: `(p - t) / (p (1 - p)) / n`, n elements.

    Catalog: C2 (003: `dC/dy = (y - t) / (y(1 - y))`). Written as `(-t/p + (1-t)/(1-p)) / n`
    so that 0 * inf terms vanish. PyTorch's backward divides by `max(p(1 - p), 1e-12)`.
    Shape of p.
    Erratum: docs/errata.md#c2
    """
    p, t = _probs_and_targets(p, t)
    return _bce_grad_elements(p, t) / p.size


def _softplus(z: np.ndarray) -> np.ndarray:
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): never overflows.
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def binary_cross_entropy_with_logits(z, t) -> np.ndarray:
    """Binary cross-entropy of `sigmoid(z)` against t, from the logits z, mean over elements.

    Notes: C2's `-(t log y + (1 - t) log(1 - y))` with `y = sigma(z)`, which simplifies to
    `log(1 + e^z) - t z` [computed as `max(z, 0) - t z + log(1 + e^{-|z|})`: no overflow,
    exact at saturated logits where `1 - sigma(z)` rounds to 0]. Catalog: C2.
    Reduction: mean over every element. PyTorch:
    `F.binary_cross_entropy_with_logits(z, t, reduction="mean")`.
    Shapes: z, t (N,) or (N, K), the same; t in [0, 1]. Returns a scalar.
    """
    z, t = _pair("z", z, "t", t)
    check_probabilities("t", t)
    return np.asarray((_softplus(z) - t * z).mean(), dtype=z.dtype)


def binary_cross_entropy_with_logits_grad(z, t) -> np.ndarray:
    """Gradient w.r.t. the logits: `(sigmoid(z) - t) / n` (003's `y - t`, D12). Shape of z.

    Catalog: C2.
    """
    z, t = _pair("z", z, "t", t)
    check_probabilities("t", t)
    return (sigmoid(z) - t) / z.size


# ---- C5: multi-label ("multi-class") cross-entropy ----------------------------------------


def multilabel_cross_entropy(p, t) -> np.ndarray:
    """Cross-entropy over K independent sigmoid outputs: sum over outputs, mean over examples.

    Notes: `MCC(y, t) = -sum_i [t_i log y_i + (1 - t_i) log(1 - y_i)]` for one example,
    `MCCE = -1/m sum_p sum_i [t_pi log y_pi + (1 - t_pi) log(1 - y_pi)]` (003
    "Multi-Class Cross Entropy"; the same sum is 004's J without the penalty). Catalog: C5.
    Reduction: sum over the K outputs, mean over the m = N examples. PyTorch:
    `F.binary_cross_entropy(p, t, reduction="sum") / N` (its "mean" would divide by N*K).
    Shapes: p, t (N, K); values in [0, 1]. Returns a scalar.
    Erratum: docs/errata.md#c5
    """
    p, t = _probs_and_targets(p, t, ndim=2)
    return np.asarray(_bce_elements(p, t).sum() / p.shape[0], dtype=p.dtype)


def multilabel_cross_entropy_grad(p, t) -> np.ndarray:
    """Gradient of `multilabel_cross_entropy` w.r.t. p: `(-t/p + (1-t)/(1-p)) / m`.

    Catalog: C5. Shape (N, K).
    """
    p, t = _probs_and_targets(p, t, ndim=2)
    return _bce_grad_elements(p, t) / p.shape[0]


# ---- C6: categorical cross-entropy -------------------------------------------------------


def _cce_inputs(p, t) -> tuple[np.ndarray, np.ndarray]:
    p, t = _pair("p", p, "t", t, ndim=2)
    check_probabilities("p", p)
    check_one_hot("t", t)
    return p, t


def categorical_cross_entropy(p, t) -> np.ndarray:
    """Categorical cross-entropy of class probabilities p against one-hot targets t.

    Notes: `CCE(y, t) = -sum_i t_i log(y_i)` (003 "Categorical Cross Entropy"); with C = 2
    and `y_2 = 1 - y_1`, `t_2 = 1 - t_1` it is the binary CE (C6, tested). Catalog: C6.
    Reduction: sum over the C classes (one non-zero term), mean over the m = N examples.
    PyTorch: `F.nll_loss(torch.log(p), labels, reduction="mean")` with `labels =
    t.argmax(1)`. p's rows are used as given (normally a softmax output; not renormalised).
    Shapes: p, t (N, C). Returns a scalar; inf if a true class has probability 0.
    """
    p, t = _cce_inputs(p, t)
    return np.asarray(-xlogy(t, p).sum() / p.shape[0], dtype=p.dtype)


def categorical_cross_entropy_grad(p, t) -> np.ndarray:
    """Gradient w.r.t. p: `-t / p / m` (non-zero only at the true class). Shape (N, C).

    Catalog: C6.
    """
    p, t = _cce_inputs(p, t)
    with np.errstate(divide="ignore"):  # 1/0 at a true class of probability 0 is a true inf
        g = -np.divide(t, p, out=np.zeros_like(p), where=t != 0)
    return g / p.shape[0]


def log_sum_exp(z, axis: int = -1) -> np.ndarray:
    """`log sum_j e^{z_j}` along `axis`, as `max z + log sum_j e^{z_j - max z}` (no overflow).

    Catalog: C6, A10. PyTorch: `torch.logsumexp`. Shape: z with `axis` removed.
    """
    z = check_array("z", z)
    zmax = z.max(axis=axis, keepdims=True)
    out = zmax + np.log(np.exp(z - zmax).sum(axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


def _ce_targets(z: np.ndarray, labels) -> np.ndarray:
    """One-hot/probability targets (N, C) from integer labels (N,) or a (N, C) array."""
    lab = np.asarray(labels)
    check_ndim("labels", lab.shape, (1, 2))  # class indices (N,) or one-hot rows (N, C)
    if lab.ndim == 1:
        check_rows_match("labels", lab.shape, "z", z.shape)
        idx = check_labels("labels", lab, z.shape[1])
        t = np.zeros_like(z)
        t[np.arange(z.shape[0]), idx] = 1
        return t
    t = check_array("labels", lab)
    check_same_shape("labels", t, "z", z)
    check_probabilities("labels", t)
    sums = t.sum(axis=1)
    check_row_sums("labels", float(sums.min()), float(sums.max()))
    return t.astype(z.dtype, copy=False)


def cross_entropy_with_logits(z, labels) -> np.ndarray:
    """Categorical cross-entropy of `softmax(z)` against labels, from the logits z.

    Notes: C6's `-sum_i t_i log y_i` with `y = softmax(z)` (A10), which simplifies to
    `log sum_j e^{z_j} - sum_i t_i z_i` [log-sum-exp: no overflow at saturated logits].
    Catalog: C6. Reduction: mean over the m = N examples. PyTorch:
    `F.cross_entropy(z, labels, reduction="mean")`, which also takes class-probability
    targets. Shapes: z (N, C); labels int (N,) in [0, C-1], or one-hot / class-probability
    rows (N, C). Returns a scalar.
    """
    z = check_array("z", z, ndim=2, allow_empty=False)
    t = _ce_targets(z, labels)
    per_example = log_sum_exp(z, axis=1) - (t * z).sum(axis=1)  # (N,)
    return np.asarray(per_example.mean(), dtype=z.dtype)


def cross_entropy_with_logits_grad(z, labels) -> np.ndarray:
    """Gradient w.r.t. the logits: `(softmax(z) - t) / m`. Catalog: C6. Shape (N, C)."""
    z = check_array("z", z, ndim=2, allow_empty=False)
    t = _ce_targets(z, labels)
    return (softmax(z, axis=1) - t) / z.shape[0]


# ---- C7, C8: penalties -------------------------------------------------------------------


def _weights(weights) -> list[np.ndarray]:
    if isinstance(weights, np.ndarray):
        weights = [weights]
    if not isinstance(weights, Sequence) or isinstance(weights, str):
        raise TypeError(
            f"weights must be an array or a list of arrays, got {type(weights).__name__}"
        )
    return [check_array(f"weights[{i}]", w) for i, w in enumerate(weights)]


def l2_penalty(weights, lam: float) -> float:
    """L2 penalty `lambda/2 ||w||^2` summed over a list of weight arrays.

    Notes: `Cost(w; x, y) = L(w; x, y) + lambda/2 ||w||^2` (002 §4.4.2). Catalog: C7.
    The notes' C3/C4 penalty `lambda/(2m) sum theta_j^2` is `l2_penalty(w, lambda / m)`.
    PyTorch: `lam / 2 * sum(p.pow(2).sum() for p in params)`; its gradient `lam * w` is what
    `torch.optim.SGD(weight_decay=lam)` adds (F16). Biases are not passed in by convention.
    Shapes: weights an array or a list of arrays of any shapes; lam >= 0. Returns a float.
    """
    lam = check_interval("lam", lam, PENALTY)
    ws = _weights(weights)
    return scalar_like(lam / 2 * sum(np.sum(w * w) for w in ws), *ws)


def l2_penalty_grad(weights, lam: float) -> list[np.ndarray]:
    """Gradient of `l2_penalty` w.r.t. each weight array: `lambda w`. Catalog: C7."""
    lam = check_interval("lam", lam, PENALTY)
    return [w.dtype.type(lam) * w for w in _weights(weights)]


def l1_penalty(weights, lam: float) -> float:
    """L1 penalty `lambda sum_i |w_i|` summed over a list of weight arrays.

    Notes: `Cost(w; x, y) = L(w; x, y) + lambda sum_i |w_i|` (002 §4.4.2). Catalog: C8.
    PyTorch: `lam * sum(p.abs().sum() for p in params)`. Shapes as `l2_penalty`.
    """
    lam = check_interval("lam", lam, PENALTY)
    ws = _weights(weights)
    return scalar_like(lam * sum(np.sum(np.abs(w)) for w in ws), *ws)


def l1_penalty_grad(weights, lam: float) -> list[np.ndarray]:
    """(Sub-)gradient of `l1_penalty`: `lambda sign(w)`, 0 at w = 0.

    Notes: the update `w - eps (dL/dw + lambda sign(w))` (002 §4.4.2, F17). Catalog: C8.
    At w = 0 the sub-differential is `lambda [-1, 1]` (A11); 0 is torch autograd's choice
    (`d|w|/dw = 0` at 0). Shapes as `l2_penalty`.
    """
    lam = check_interval("lam", lam, PENALTY)
    return [w.dtype.type(lam) * np.sign(w) for w in _weights(weights)]


# ---- C3: regularized logistic regression ---------------------------------------------------


def _logistic_inputs(theta, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    theta = check_array("theta", theta, ndim=1)
    X = check_array("X", X, ndim=2, allow_empty=False)
    y = check_array("y", y, ndim=1)
    if theta.shape[0] != X.shape[1] + 1:
        raise ValueError(
            "theta must hold the bias theta_0 then one weight per column of X, "
            f"got theta{theta.shape} for X{X.shape}"
        )
    check_rows_match("y", y.shape, "X", X.shape)
    check_probabilities("y", y)
    return theta, X, y


def regularized_logistic_cost(theta, X, y, lam: float) -> np.ndarray:
    """Logistic-regression cost with an L2 penalty that leaves the bias theta_0 out.

    Notes: `J(theta) = -1/m sum_i [y_i log h(x_i) + (1 - y_i) log(1 - h(x_i))]
    + lambda/(2m) sum_{j=1}^n theta_j^2` (004; "without theta_0"), `h(x) = sigma(theta^T x)`
    with `x_0 = 1`. Catalog: C3. Computed from the logits (as
    `binary_cross_entropy_with_logits`), so saturated examples cost no accuracy.
    Reduction: mean over the m examples, plus the penalty. PyTorch:
    `F.binary_cross_entropy_with_logits(linear(X), y) + lam / (2m) * linear.weight.pow(2).sum()`
    with `nn.Linear(n, 1)` (bias = theta_0, weight = theta_1..n).
    Shapes: theta (n + 1,), theta[0] the bias; X (m, n) *without* a column of ones;
    y (m,) in [0, 1]; lam >= 0. Returns a scalar.
    Erratum: docs/errata.md#c3
    """
    theta, X, y = _logistic_inputs(theta, X, y)
    lam = check_interval("lam", lam, PENALTY)
    m = X.shape[0]
    z = theta[0] + X @ theta[1:]  # (m,)
    ce = binary_cross_entropy_with_logits(z, y)
    return np.asarray(ce + l2_penalty(theta[1:], lam / m), dtype=theta.dtype)


def regularized_logistic_cost_grad(theta, X, y, lam: float) -> np.ndarray:
    """Gradient of `regularized_logistic_cost` w.r.t. theta (n + 1,).

    `dJ/dtheta_0 = 1/m sum_i (h_i - y_i)`; `dJ/dtheta_j = 1/m sum_i (h_i - y_i) x_ij
    + lambda/m theta_j` for j >= 1 (the bias is not penalized). Catalog: C3.
    """
    theta, X, y = _logistic_inputs(theta, X, y)
    lam = check_interval("lam", lam, PENALTY)
    m = X.shape[0]
    r = (sigmoid(theta[0] + X @ theta[1:]) - y) / m  # (m,)
    grad = np.empty_like(theta)
    grad[0] = r.sum()
    grad[1:] = X.T @ r + (lam / m) * theta[1:]
    return grad


# ---- C4: the neural-network cost ---------------------------------------------------------


def _network_inputs(h, y, thetas) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    h, y = _probs_and_targets(h, y, ndim=2)
    if isinstance(thetas, np.ndarray):
        thetas = [thetas]
    thetas = [check_array(f"thetas[{i}]", th, ndim=2) for i, th in enumerate(thetas)]
    for i, th in enumerate(thetas):
        if th.shape[1] < 2:
            raise ValueError(
                f"thetas[{i}] must be (s_next, s_prev + 1) with the bias in column 0, "
                f"got shape {th.shape}"
            )
    return h, y, thetas


def network_cost(h, y, thetas, lam: float) -> np.ndarray:
    """The notes' neural-network cost: multi-label CE of the outputs plus an L2 penalty
    on every weight except the bias column.

    Notes: `J(Theta) = -1/m sum_i sum_k [y_k log h_k + (1 - y_k) log(1 - h_k)]
    + lambda/(2m) sum_l sum_i sum_j (Theta_ji^(l))^2` (004), the penalty without the bias
    column `Theta_j0`. Catalog: C4. Reduction: sum over the K outputs, mean over the m
    examples (= `multilabel_cross_entropy`), plus `l2_penalty([Theta[:, 1:] ...], lam/m)`.
    PyTorch: `F.binary_cross_entropy(h, y, reduction="sum") / m
    + lam / (2m) * sum(layer.weight.pow(2).sum())` over the `nn.Linear` layers, whose
    separate `bias` is what column 0 of Theta holds here.
    Shapes: h, y (m, K) (the network's sigmoid outputs and the targets, in [0, 1]);
    thetas a list of (s_(l+1), s_l + 1) arrays with the bias in column 0; lam >= 0.
    Erratum: docs/errata.md#c4
    """
    h, y, thetas = _network_inputs(h, y, thetas)
    lam = check_interval("lam", lam, PENALTY)
    m = h.shape[0]
    penalty = l2_penalty([th[:, 1:] for th in thetas], lam / m)  # bias column excluded
    return np.asarray(multilabel_cross_entropy(h, y) + penalty, dtype=h.dtype)


def network_cost_grad(h, y, thetas, lam: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Gradients of `network_cost`: `(dh, dthetas)`.

    `dh` (m, K) is the gradient w.r.t. the outputs h (the CE part only; backprop carries it
    into the weights); `dthetas[l]` is the penalty's direct gradient `lambda/m Theta` with
    column 0 (bias) set to 0. Catalog: C4 (004's `D_ij = Delta_ij/m + lambda/m Theta_ij`
    for j != 0; the document prints `+ lambda Theta_ij`, which belongs to a lambda/2
    penalty, not to its own lambda/(2m)).
    Erratum: docs/errata.md#d7
    """
    h, y, thetas = _network_inputs(h, y, thetas)
    lam = check_interval("lam", lam, PENALTY)
    m = h.shape[0]
    dthetas = []
    for th in thetas:
        g = th.dtype.type(lam / m) * th
        g[:, 0] = 0  # the bias is not penalized
        dthetas.append(g)
    return multilabel_cross_entropy_grad(h, y), dthetas


# ---- C10: likelihood and prior -----------------------------------------------------------


def bernoulli_log_likelihood(p, t) -> float:
    """Log-likelihood `log prod_i p(t_i | x_i)` of binary labels under p = P(t = 1 | x).

    Notes: MLE for the probabilistic discriminative model (000 "finding the parameters":
    "MLE or MAP"). Catalog: C10. Each factor is `p_i` if `t_i = 1` and `1 - p_i` if
    `t_i = 0`, taken by selection, not through the CE formula, so `-loglik / m =
    binary_cross_entropy` is a real check (tested). PyTorch:
    `torch.distributions.Bernoulli(probs=p).log_prob(t).sum()`.
    Shapes: p, t (N,) or (N, K); t in {0, 1}. Returns a float (-inf if a label is impossible).
    """
    p, t = _probs_and_targets(p, t)
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("t must hold binary labels 0/1")
    factors = np.where(t == 1, p, 1 - p)
    with np.errstate(divide="ignore"):  # log 0 = -inf is the true value
        return scalar_like(np.log(factors).sum(), p)


def categorical_log_likelihood(p, labels) -> float:
    """Log-likelihood `sum_i log p(y_i | x_i)` of integer class labels under rows of p.

    Catalog: C10. PyTorch: `torch.distributions.Categorical(probs=p).log_prob(labels).sum()`.
    Shapes: p (N, C) probabilities; labels int (N,) in [0, C-1]. Returns a float.
    """
    p = check_array("p", p, ndim=2, allow_empty=False)
    check_probabilities("p", p)
    lab = np.asarray(labels)
    if lab.shape != (p.shape[0],):
        raise ValueError(
            f"labels must have one entry per row of p, got labels{lab.shape} and p{p.shape}"
        )
    idx = check_labels("labels", lab, p.shape[1])
    with np.errstate(divide="ignore"):
        return scalar_like(np.log(p[np.arange(p.shape[0]), idx]).sum(), p)


def gaussian_log_prior(weights, sigma: float) -> float:
    """Log-density of the weights under an isotropic Gaussian prior `N(0, sigma^2 I)`.

    `log p(w) = -||w||^2 / (2 sigma^2) - k/2 log(2 pi sigma^2)` for k weights. Catalog: C10
    (MAP; 000). Adding `-log p(w)` to the negative log-likelihood gives the L2 penalty
    `||w||^2 / (2 sigma^2)` plus a constant: see `l2_lambda_for_gaussian_prior`.
    PyTorch: `torch.distributions.Normal(0, sigma).log_prob(w).sum()`. Shapes as `l2_penalty`.
    """
    sigma = check_interval("sigma", sigma, POSITIVE)
    ws = _weights(weights)
    k = sum(w.size for w in ws)
    sq = sum(np.sum(w * w) for w in ws)
    return scalar_like(-sq / (2 * sigma**2) - k / 2 * np.log(2 * np.pi * sigma**2), *ws)


_CONVENTIONS = Choice(("lambda_over_2m", "lambda_over_2"))


def l2_lambda_for_gaussian_prior(sigma: float, m: int, convention: str = "lambda_over_2m") -> float:
    """The lambda for which the L2-regularized cost is the MAP objective of a N(0, sigma^2) prior.

    MAP maximizes `log p(y | X, w) + log p(w)`; dividing the negated objective by m,
    `-1/m log p(y | X, w) - 1/m log p(w) = CE(w) + ||w||^2 / (2 m sigma^2) + const`.
    So the two ways the notes write the penalty match it with
      "lambda_over_2m" (C3/C4: `CE + lambda/(2m) ||w||^2`):  lambda = 1 / sigma^2
      "lambda_over_2"  (C7:    `L + lambda/2 ||w||^2`, L the mean loss): lambda = 1/(m sigma^2)
    and both have the same argmin as MAP. (scikit-learn's `LogisticRegression(C=...)`
    minimizes `C * sum CE + ||w||^2 / 2`, so C = sigma^2.) Catalog: C10.
    """
    sigma = check_interval("sigma", sigma, POSITIVE)
    m = check_count("m", m)  # a number of examples
    _CONVENTIONS.check("convention", convention)
    lam = 1 / sigma**2
    return lam if convention == "lambda_over_2m" else lam / m

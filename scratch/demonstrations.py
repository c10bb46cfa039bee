"""The notes' claims as functions that return numbers (catalog B3, B7, C11, D11, D12, I5).

Imports NumPy, SciPy (least squares is NumPy's; L-BFGS-B and bounded scalar minimization are
SciPy's), `scratch.activations`, `scratch.losses`, `scratch.mlp` (the one MLP of the project)
and `scratch.classic` (the separability test) only.

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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from scratch import losses
from scratch.activations import relu, sigmoid, tanh
from scratch.classic import linear_separability
from scratch.mlp import init_mlp, loss_and_grads, mlp_forward
from scratch.validation import Choice, Interval, check_array, check_interval

__all__ = [
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

_POS = Interval(0.0, np.inf, "neither")
_APPROX_ACTIVATIONS = Choice(("relu", "sigmoid"))
UNITS = Choice(("sigmoid", "relu", "tanh"))
_LOSSES = Choice(("mse", "ce"))


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


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
    width = _check_int("width", width, 1)
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
    n_fit = _check_int("n_fit", n_fit, 2)
    n_eval = _check_int("n_eval", n_eval, 2)
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
    n = _check_int("n", n, 1)
    half_width = check_interval("half_width", half_width, _POS)
    X = rng.uniform(-half_width, half_width, size=(n, 2))
    return X, circle_labels(X)


def train_lbfgs(params, X, y, activations="relu", head="binary", max_iter: int = 500):
    """Minimize `scratch.mlp.loss_and_grads` with SciPy's L-BFGS-B; returns the new params.

    Full-batch, the scratch MLP's own gradients (`jac=True`). PyTorch twin:
    `torch.optim.LBFGS` in `torchref.demonstrations.train_lbfgs`. Catalog: B7.
    """
    max_iter = _check_int("max_iter", max_iter, 1)
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
    return float(losses.squared_error(sigmoid(X @ w), t, scaling="half_mean"))


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
    return float(losses.binary_cross_entropy_with_logits(X @ w, t))


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
    t = check_interval("t", t, Interval(0, 1))
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
    lr = check_interval("lr", lr, _POS)
    y = relu(X @ w)
    return lr * ((t - y) * y * (1 - y)) @ X / X.shape[0]


# ---- I5: one-hot vs compact codes --------------------------------------------------------------


def one_hot_codes(n: int) -> np.ndarray:
    """The n one-hot codes (the "wasteful" representation of 003): (n, n) identity. Catalog: I5."""
    return np.eye(_check_int("n", n, 1))


def binary_codes(n: int) -> np.ndarray:
    """The n objects as ceil(log2 n)-bit binary numbers, most significant bit first.

    Catalog: I5 (003: "only log(n) units are needed"). Returns (n, bits).
    """
    n = _check_int("n", n, 2)
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

"""Activation functions of the notes (catalog A1-A13) and their derivatives, in NumPy.

Imports NumPy, SciPy (root finding for the saturation points) and `scratch.validation` only.

Every element-wise function `f(z)` comes with `f_grad(z)`: the derivative df/dz evaluated at
`z` (a function of the *input*, not of the output), with the shape and dtype of `z`. float32
in stays float32 out. Every function is numerically stable for |z| up to 1e4 and beyond
(no overflow warning, no NaN, no inf where the true value is finite).

Kink convention (A11). ReLU-like functions are not differentiable at z = 0; the value each
`*_grad` returns at exactly 0 is the one torch autograd returns, and it is a sub-gradient:
  relu'(0) = 0                 (torch: `x > 0 ? g : 0`)
  leaky_relu'(0) = alpha       (torch: `x > 0 ? g : g * slope`)
  prelu'(0) = alpha            (torch: `x > 0 ? g : g * weight`), d prelu/d alpha at 0 = 0
  elu'(0) = alpha              (torch takes the `x <= 0` branch: alpha * e^0)
  step'(z) = sign_unit'(z) = sign'(z) = 0 everywhere (0 almost everywhere; the jump at 0 has
                               no derivative and torch.sign's autograd returns 0 there too)
`parity_tests/test_activations.py` pins each of these against torch autograd.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch.validation import (
    FINITE,
    LEARNING_RATE,
    OPEN_UNIT,
    Choice,
    check_array,
    check_count,
    check_interval,
)

__all__ = [
    "identity",
    "identity_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "tanh_half",
    "tanh_half_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "prelu_grad_alpha",
    "prelu_backward",
    "elu",
    "elu_grad",
    "swish",
    "swish_grad",
    "step",
    "step_grad",
    "sign_unit",
    "sign_unit_grad",
    "sign",
    "sign_grad",
    "softmax",
    "softmax_diag_grad",
    "softmax_jacobian",
    "softmax_backward",
    "ACTIVATIONS",
    "THRESHOLD_UNITS",
    "ACTIVATION_NAMES",
    "get_activation",
    "neuron",
    "threshold_neuron",
    "subgradient_abs",
    "is_subgradient",
    "saturation_point",
    "dead_relu_units",
    "dying_relu_demo",
]



def _z(z, name: str = "z") -> np.ndarray:
    return check_array(name, z)


# ---- A2 / A1: the neuron ------------------------------------------------------------------


def neuron(x, w, b, activation: str = "sigmoid") -> np.ndarray:
    """Generic neuron: the activation of an affine function of the input.

    Notes: `h(x; w, b) = phi(x^T w + b)` (000), `a = g(w^T x + b)` (001).
    Catalog: A2 (000 "neurons in an artificial network", 001). With `activation="step"` it
    is the threshold unit of A1. PyTorch: `activation_module(nn.Linear(d, 1)(x))`, whose
    weight is stored as a (1, d) row (`linear.weight[0] == w`).

    Shapes: x (d,) or (N, d); w (d,); b scalar. Returns () or (N,).
    """
    x = check_array("x", x, ndim=(1, 2))
    w = check_array("w", w, ndim=1)
    b = check_interval("b", b, FINITE)
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x and w must agree on the input dimension, got x{x.shape} and w{w.shape}"
        )
    fn, _ = get_activation(activation)
    return fn(x @ w + x.dtype.type(b))  # (N,) or ()


def threshold_neuron(x, w, b) -> np.ndarray:
    """Binary threshold unit (BTU): `y = 1{x^T w + b > 0}`, outputs 0.0 or 1.0.

    Catalog: A1 (000, 003 "logic gates from BTU units"). At `x^T w + b = 0` the unit outputs
    0 (strict inequality, as the notes write it). PyTorch: `torchref.activations.Step` after
    `nn.Linear(d, 1)`. Shapes: x (d,) or (N, d); w (d,); b scalar -> () or (N,).
    """
    return neuron(x, w, b, activation="step")


# ---- element-wise activations -------------------------------------------------------------


def identity(z) -> np.ndarray:
    """Identity (linear) activation `phi(z) = z`, used by regression heads (B4).

    Catalog: A2. PyTorch: `nn.Identity`. Shape: any -> same.
    """
    return _z(z).copy()


def identity_grad(z) -> np.ndarray:
    """Derivative of the identity, `1` everywhere. Shape: any -> same. Catalog: A2."""
    return np.ones_like(_z(z))


def sigmoid(z) -> np.ndarray:
    """Logistic sigmoid `sigma(z) = 1 / (1 + e^{-z})`.

    Catalog: A3 (002 §4.1.2 "Sigmoid"; 000; 003; 004). Computed from `e^{-|z|}`, which never
    overflows: `1/(1+e)` for z >= 0 and `e/(1+e)` for z < 0. PyTorch: `torch.sigmoid`,
    `nn.Sigmoid`. Shape: any -> same.
    """
    z = _z(z)
    e = np.exp(-np.abs(z))  # in (0, 1], no overflow
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(z) -> np.ndarray:
    """Derivative of the sigmoid w.r.t. its input: `sigma(z)(1 - sigma(z))`.

    Catalog: A3 (002 §4.1.2), A12. Written as `e / (1 + e)^2` with `e = e^{-|z|}` (the same
    number, since sigma' is even), which stays accurate in both tails where `1 - sigma`
    rounds to 0; torch's autograd uses `y(1 - y)` of the output, so far in the right tail
    (z > ~37 in float64) torch returns 0 where the true value is ~e^{-z}; the two agree to
    within atol. Shape: any -> same.
    """
    z = _z(z)
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


def tanh(z) -> np.ndarray:
    """Hyperbolic tangent `tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`.

    Catalog: A4 (002 §4.1.2 "tanh"). PyTorch: `torch.tanh`, `nn.Tanh`. Shape: any -> same.
    """
    return np.tanh(_z(z))


def tanh_grad(z) -> np.ndarray:
    """Derivative of tanh w.r.t. its input: `1 - tanh(z)^2`.

    Catalog: A4 (002 §4.1.2), A12. Written as `sech^2 z = 4e / (1 + e)^2` with `e = e^{-2|z|}`
    (the same number), accurate where `tanh(z)^2` rounds to 1. Shape: any -> same.
    """
    z = _z(z)
    e = np.exp(-2 * np.abs(z))
    return 4 * e / (1 + e) ** 2


def tanh_half(z) -> np.ndarray:
    """The slides' tanh variant `phi(x) = tanh(x/2)`, which equals `2 sigma(x) - 1`.

    Catalog: A4 (000 "neurons in an artificial network": `phi(x) = tanh(x/2)`). PyTorch has
    no built-in; `torchref.activations.TanhHalf`. Shape: any -> same.
    """
    return np.tanh(_z(z) / 2)


def tanh_half_grad(z) -> np.ndarray:
    """Derivative of `tanh(z/2)`: `(1 - tanh(z/2)^2) / 2`, which equals `2 sigma'(z)`.

    Catalog: A4 (000). Shape: any -> same.
    """
    z = _z(z)
    return tanh_grad(z / 2) / 2


def relu(z) -> np.ndarray:
    """Rectified linear unit `ReLU(z) = max(0, z)`.

    Catalog: A5 (002 §4.1.2 "ReLU"; 000). PyTorch: `torch.relu`, `nn.ReLU`.
    Shape: any -> same.
    """
    z = _z(z)
    # np.maximum: one pass, one output array (np.where with zeros_like allocated three).
    return np.maximum(z, 0)


def relu_grad(z) -> np.ndarray:
    """Derivative of ReLU: `1{z > 0}`, i.e. 1 for z > 0 and 0 for z <= 0.

    Catalog: A5 (002 §4.1.2 writes exactly this, 0 at z = 0), A11, A12. Kink: relu'(0) = 0,
    the value torch autograd returns, and a sub-gradient of ReLU at 0 (any g in [0, 1] is, A11).
    Shape: any -> same.
    """
    z = _z(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, alpha: float = 0.01) -> np.ndarray:
    """Leaky ReLU: `z` for z > 0, `alpha z` otherwise (PReLU with a fixed alpha = 0.01).

    Catalog: A6 (002 §4.1.2: "the special case alpha = 0.01 is called Leaky ReLU").
    PyTorch: `F.leaky_relu(z, negative_slope=alpha)`, `nn.LeakyReLU(alpha)`.
    Shape: any -> same; alpha a finite real number.
    """
    z = _z(z)
    a = z.dtype.type(check_interval("alpha", alpha, FINITE))
    return np.where(z > 0, z, a * z)


def leaky_relu_grad(z, alpha: float = 0.01) -> np.ndarray:
    """Derivative of Leaky ReLU: 1 for z > 0, `alpha` for z <= 0.

    Catalog: A6, A11. Kink: the value at z = 0 is `alpha`, as torch autograd returns it
    (`x > 0 ? 1 : negative_slope`); for 0 <= alpha <= 1 it is a sub-gradient (A11).
    Shape: any -> same.
    """
    z = _z(z)
    a = z.dtype.type(check_interval("alpha", alpha, FINITE))
    return np.where(z > 0, np.ones_like(z), np.full_like(z, a))


def _prelu_alpha(z: np.ndarray, alpha) -> np.ndarray:
    """`alpha` broadcast against z the way nn.PReLU does: one shared value, or one per
    channel on axis 1 (so z needs >= 2 dims for a per-channel alpha)."""
    a = check_array("alpha", alpha, ndim=(0, 1)).astype(z.dtype, copy=False)
    if a.size == 1:
        return a.reshape(())  # shared, like nn.PReLU(num_parameters=1)
    if a.ndim == 1 and z.ndim >= 2 and z.shape[1] == a.shape[0]:
        return a.reshape((-1,) + (1,) * (z.ndim - 2))  # (C, 1, ..., 1) against (N, C, ...)
    raise ValueError(
        "alpha must hold 1 value or one per channel (axis 1 of z, as nn.PReLU), "
        f"got alpha{a.shape} for z{z.shape}"
    )


def prelu(z, alpha) -> np.ndarray:
    """Parametric ReLU with learnable slope: `z` for z > 0, `alpha z` otherwise.

    Notes: `PReLU(x) = max(alpha x, x)` (002 §4.1.2). Catalog: A6. The notes' max form equals
    this one only for alpha <= 1 (for alpha > 1 `max(alpha x, x)` is `alpha x` on x > 0);
    PyTorch's `F.prelu` / `nn.PReLU` compute `max(0, x) + alpha min(0, x)`, as here.
    Shapes: z any; alpha a scalar / shape (1,) (shared) or (C,) with C = z.shape[1]
    (one per channel, like `nn.PReLU(num_parameters=C)`). Returns the shape of z.
    Erratum: docs/errata.md#a6
    """
    z = _z(z)
    a = _prelu_alpha(z, alpha)
    return np.where(z > 0, z, a * z)


def prelu_grad(z, alpha) -> np.ndarray:
    """Derivative of PReLU w.r.t. its input z: 1 for z > 0, `alpha` for z <= 0.

    Catalog: A6, A11. Kink: `alpha` at z = 0, as torch autograd returns it. Shapes as `prelu`;
    returns the shape of z.
    """
    z = _z(z)
    a = _prelu_alpha(z, alpha)
    return np.where(z > 0, np.ones_like(z), np.broadcast_to(a, z.shape))


def prelu_grad_alpha(z, alpha) -> np.ndarray:
    """Derivative of PReLU w.r.t. alpha, element by element: `min(0, z)` (0 at z = 0).

    Catalog: A6. Returns the shape of z, *before* summing over the elements that share an
    alpha. To get the gradient of a loss w.r.t. the parameter, multiply by the upstream
    gradient and sum as `prelu_backward` does: over every element for a shared alpha, over
    every axis but 1 for a per-channel alpha (what nn.PReLU's `weight.grad` holds).
    `alpha` is accepted (and validated) so every PReLU function has the same signature.
    """
    z = _z(z)
    _prelu_alpha(z, alpha)
    return np.where(z > 0, np.zeros_like(z), z)


def prelu_backward(dout, z, alpha) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of a loss through PReLU: `(dz, dalpha)` given the upstream gradient `dout`.

    Catalog: A6. `dz = dout * prelu_grad(z, alpha)` (shape of z);
    `dalpha = sum(dout * prelu_grad_alpha(z, alpha))` reduced to the shape of alpha: a full
    sum for a shared alpha, a sum over every axis except axis 1 for one alpha per channel.
    This is what nn.PReLU's `weight.grad` holds after `backward`.
    """
    z = _z(z)
    dout = _z(dout, "dout")
    if dout.shape != z.shape:
        raise ValueError(
            f"dout and z must have the same shape, got dout{dout.shape} and z{z.shape}"
        )
    a = _prelu_alpha(z, alpha)
    dz = dout * prelu_grad(z, alpha)
    per_element = dout * prelu_grad_alpha(z, alpha)  # shape of z
    if a.ndim == 0:
        dalpha = per_element.sum().reshape(np.shape(alpha))
    else:
        axes = tuple(i for i in range(z.ndim) if i != 1)
        dalpha = per_element.sum(axis=axes)  # (C,)
    return dz, dalpha


def elu(z, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: `z` for z > 0, `alpha (e^z - 1)` for z <= 0.

    Catalog: A7 (002 §4.1.2). The notes call ELU's alpha learned; in PyTorch (and in the
    ELU paper) it is a fixed hyper-parameter: `F.elu(z, alpha)`, `nn.ELU(alpha)`. The learned
    slope is PReLU's (A6). `e^z - 1` is taken as `expm1(min(z, 0))`: exact near 0, no
    overflow for large z. Shape: any -> same; alpha a finite real number.
    Erratum: docs/errata.md#a7
    """
    z = _z(z)
    a = z.dtype.type(check_interval("alpha", alpha, FINITE))
    return np.where(z > 0, z, a * np.expm1(np.minimum(z, 0)))


def elu_grad(z, alpha: float = 1.0) -> np.ndarray:
    """Derivative of ELU: 1 for z > 0, `alpha e^z` for z <= 0.

    Catalog: A7. Kink: `alpha` at z = 0 (torch autograd takes the z <= 0 branch). ELU is
    differentiable at 0 only when alpha = 1. Shape: any -> same.
    """
    z = _z(z)
    a = z.dtype.type(check_interval("alpha", alpha, FINITE))
    return np.where(z > 0, np.ones_like(z), a * np.exp(np.minimum(z, 0)))


def swish(z) -> np.ndarray:
    """Swish (self-gated): `z * sigmoid(z)`.

    Notes: `sigma(z) = z . sigmoid(z)` (003 "Swish Self Gated Activation"; the slide reuses
    the letter sigma for Swish itself). Catalog: A8. PyTorch: `F.silu`, `nn.SiLU` (Swish
    with beta = 1). Shape: any -> same.
    """
    z = _z(z)
    return z * sigmoid(z)


def swish_grad(z) -> np.ndarray:
    """Derivative of Swish: `s + z s (1 - s)` with `s = sigmoid(z)`.

    Catalog: A8. Smooth everywhere; swish'(0) = 1/2. Shape: any -> same.
    """
    z = _z(z)
    s = sigmoid(z)
    return s * (1 + z * (1 - s))


def step(z) -> np.ndarray:
    """Step (Heaviside) function of the threshold unit: `1{z > 0}`, outputs 0.0 or 1.0.

    Notes: `y = 1{x^T w + b > 0}` (000, 003). Catalog: A1, A9. 0 at z = 0 (strict
    inequality). PyTorch: `torch.heaviside(z, 0)` for the values;
    `torchref.activations.Step` for a module. Shape: any -> same.
    """
    z = _z(z)
    return (z > 0).astype(z.dtype)


def step_grad(z) -> np.ndarray:
    """Derivative of the step: 0 everywhere (0 almost everywhere; none exists at z = 0).

    Catalog: A1, A9. Why the notes replace the step by smooth activations: no gradient
    flows through it (000 "the step function is very problematic"). 0 at z = 0 is torch's
    choice for `torch.sign` too. Shape: any -> same.
    """
    return np.zeros_like(_z(z))


def sign_unit(z) -> np.ndarray:
    """The "sign" unit of the logic constructions: 1 if z > 0, 0 if z <= 0.

    Notes: `y = sign(h1 - h2 - 0.5) = 1 if ... > 0, 0 if ... <= 0` (002 §4.1.3 "Xor"): the
    notes' "sign" outputs 0/1, so it is the step of A1. Catalog: A9. For the usual +-1 sign
    see `sign`. PyTorch: `torchref.activations.SignUnit`. Shape: any -> same.
    """
    return step(z)


def sign_unit_grad(z) -> np.ndarray:
    """Derivative of the sign unit: 0 everywhere (0 almost everywhere). Catalog: A9."""
    return step_grad(z)


def sign(z) -> np.ndarray:
    """The mathematical sign: -1 for z < 0, 0 at z = 0, +1 for z > 0.

    Not the notes' logic "sign" unit (that one outputs 0/1: `sign_unit`); this is the
    `sign(w)` of the L1 update (F17). Catalog: A11. PyTorch: `torch.sign`.
    Shape: any -> same.
    """
    return np.sign(_z(z))


def sign_grad(z) -> np.ndarray:
    """Derivative of `sign`: 0 everywhere (torch autograd returns 0 at z = 0 too). Catalog: A11."""
    return np.zeros_like(_z(z))


# ---- A10: softmax ------------------------------------------------------------------------


def softmax(z, axis: int = -1) -> np.ndarray:
    """Softmax `y_i = e^{z_i} / sum_j e^{z_j}` along `axis`.

    Catalog: A10 (003 "Multi class learning with Softmax units"; 000). Computed as
    `e^{z_i - max z} / sum_j e^{z_j - max z}` (the same value; no overflow). PyTorch:
    `F.softmax(z, dim=axis)`, `nn.Softmax(dim)`. Shape: any -> same.
    """
    z = _z(z)
    if -z.ndim <= axis < z.ndim and z.shape[axis] == 0:  # max() has no identity: say so
        raise ValueError(
            f"z must have at least one entry along axis {axis} (the softmax's classes), "
            f"got shape {z.shape}"
        )
    shifted = z - z.max(axis=axis, keepdims=True)  # <= 0 along axis
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_diag_grad(z, axis: int = -1) -> np.ndarray:
    """Diagonal of the softmax Jacobian: `dy_i/dz_i = y_i (1 - y_i)`.

    Catalog: A10 (003: "the derivative is the same as the logistic neuron's"). Only the
    diagonal: `dy_i/dz_j = -y_i y_j` for i != j (see `softmax_jacobian`). Shape of z.
    """
    y = softmax(z, axis=axis)
    return y * (1 - y)


def softmax_jacobian(z) -> np.ndarray:
    """Full softmax Jacobian `dy/dz = diag(y) - y y^T` over the last axis.

    Catalog: A10 [the inventory's addition to 003's diagonal term]. Entry (i, j) is
    `dy_i/dz_j = y_i (delta_ij - y_j)`. Shapes: z (C,) -> (C, C); z (N, C) -> (N, C, C).
    """
    z = check_array("z", z, ndim=(1, 2))
    y = softmax(z, axis=-1)  # (..., C)
    eye = np.eye(y.shape[-1], dtype=y.dtype)  # (C, C)
    return y[..., :, None] * eye - y[..., :, None] * y[..., None, :]  # (..., C, C)


def softmax_backward(dy, z, axis: int = -1) -> np.ndarray:
    """Gradient through softmax given the upstream gradient `dy`: `dz = y * (dy - <dy, y>)`.

    Catalog: A10. The vector-Jacobian product `J^T dy` without forming J (J is symmetric).
    Shapes: dy and z the same, any; returns that shape.
    """
    z = _z(z)
    dy = _z(dy, "dy")
    if dy.shape != z.shape:
        raise ValueError(f"dy and z must have the same shape, got dy{dy.shape} and z{z.shape}")
    y = softmax(z, axis=axis)
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


# ---- the registry ------------------------------------------------------------------------

Activation = tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]

# The differentiable element-wise activations (forward, derivative w.r.t. the input); safe
# to loop over in gradient checks.
ACTIVATIONS: dict[str, Activation] = {
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "tanh_half": (tanh_half, tanh_half_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "swish": (swish, swish_grad),
}

# Threshold units (A1, A9): zero derivative almost everywhere, so kept out of ACTIVATIONS.
THRESHOLD_UNITS: dict[str, Activation] = {
    "step": (step, step_grad),
    "sign_unit": (sign_unit, sign_unit_grad),
    "sign": (sign, sign_grad),
}

ACTIVATION_NAMES = Choice(tuple(ACTIVATIONS) + tuple(THRESHOLD_UNITS))


def get_activation(name: str) -> Activation:
    """`(fn, fn_grad)` for a name of ACTIVATIONS or THRESHOLD_UNITS.

    Raises ValueError `unknown activation 'x'; valid choices: 'identity', ...` otherwise
    (the same words as `torchref.activations.get_activation_module`).
    Catalog: A2.
    """
    ACTIVATION_NAMES.check("activation", name)
    return ACTIVATIONS.get(name) or THRESHOLD_UNITS[name]


# ---- A11: sub-gradients ------------------------------------------------------------------


def subgradient_abs(v) -> tuple[np.ndarray, np.ndarray]:
    """The sub-differential of `|v|` as an interval `[low, high]` per element.

    Notes: `d|v| = {+1}` for v > 0, `{-1}` for v < 0 and `[-1, 1]` at v = 0 (002 §4.2.3).
    Catalog: A11. torch autograd returns 0 for `abs` at 0, one element of `[-1, 1]`.
    Shape: any -> (low, high), each the shape of v.
    Erratum: docs/errata.md#a11
    """
    v = _z(v, "v")
    low = np.where(v > 0, 1.0, -1.0).astype(v.dtype)
    high = np.where(v < 0, -1.0, 1.0).astype(v.dtype)
    return low, high


def is_subgradient(f: Callable[[np.ndarray], np.ndarray], g: float, u: float, v) -> bool:
    """Whether `g` is a sub-gradient of the scalar function `f` at `u`, tested on points `v`.

    Notes: g is a sub-gradient of f at u if `f(v) >= f(u) + <g, v - u>` for every v
    (002 §4.2.3). Catalog: A11. A finite sample `v` can only refute the claim; it proves it
    for a convex f when v covers both sides of u. Shapes: g, u scalars; v any.
    """
    g = check_interval("g", g, FINITE)
    u = check_interval("u", u, FINITE)
    v = _z(v, "v")
    fu = float(np.asarray(f(np.asarray(u, dtype=v.dtype))))
    # A little slack for rounding in f; the property is an inequality between reals.
    slack = 8 * np.finfo(v.dtype).eps * (1 + np.abs(f(v)) + abs(fu))
    return bool(np.all(f(v) >= fu + g * (v - u) - slack))


# ---- A12: saturation ---------------------------------------------------------------------


def saturation_point(grad: Callable[[np.ndarray], np.ndarray], level: float) -> float:
    """The |z| beyond which an even, decreasing-on-z>0 derivative stays below `level`.

    Catalog: A12 (002 §4.1.2: "for large values the derivative tends to 0"). Solves
    `grad(z) = level` for z > 0 by Brent's method (SciPy). Meaningful for `sigmoid_grad`,
    `tanh_grad`, `tanh_half_grad`; a derivative that never falls below `level` (ReLU' = 1 on
    z > 0) raises ValueError. `level` in (0, grad(0)).
    """
    level = check_interval("level", level, OPEN_UNIT)
    g0 = float(grad(np.float64(0.0)))
    if not level < g0:
        raise ValueError(f"level must be in (0, grad(0)) = (0, {g0:g}), got {level!r}")
    hi = 1.0
    while float(grad(np.float64(hi))) >= level:
        hi *= 2
        if hi > 1e4:
            raise ValueError(f"the derivative does not fall below level={level:g} by |z| = 1e4")
    # Imported here: scipy.optimize costs ~0.5 s and every scratch import would pay it.
    from scipy.optimize import brentq

    return float(brentq(lambda t: float(grad(np.float64(t))) - level, 0.0, hi, xtol=1e-14))


# ---- A13: dying ReLU units ---------------------------------------------------------------


def dead_relu_units(x, W, b) -> np.ndarray:
    """Which ReLU units of a layer `h = relu(x W^T + b)` are dead on the inputs x.

    A unit is dead when its pre-activation is <= 0 for every example: it outputs 0 for all
    of them and relu'(.) = 0 blocks every gradient to its weights and bias.
    Catalog: A13 (002 §4.1.2: "with a bad weight initialization most neurons die").
    Shapes: x (N, d); W (H, d) (nn.Linear's layout); b (H,). Returns bool (H,).
    """
    x = check_array("x", x, ndim=2)
    W = check_array("W", W, ndim=2)
    b = check_array("b", b, ndim=1)
    if W.shape[1] != x.shape[1] or b.shape[0] != W.shape[0]:
        raise ValueError(
            f"x (N, d), W (H, d) and b (H,) do not agree, got x{x.shape}, W{W.shape}, b{b.shape}"
        )
    z = x @ W.T + b  # (N, H)
    return np.all(z <= 0, axis=0)


def dying_relu_demo(x, y, W, b, v, c, lr: float = 0.1, steps: int = 5) -> dict:
    """Train `y_hat = relu(x W^T + b) v + c` by full-batch gradient descent and report dead units.

    Catalog: A13. The demonstration of the notes' claim: with a bad initialization (e.g. a
    large negative bias) ReLU units output 0 for every input, receive exactly zero gradient,
    and so never change and never recover. Loss: `1/(2N) sum_n (y_hat_n - y_n)^2`
    (half mean squared error over the N examples).
    Shapes: x (N, d); y (N,); W (H, d); b (H,); v (H,); c scalar.
    Returns a dict: `dead` bool (H,) before training, `dead_after` after, `dW`, `db`, `dv`
    (the gradients at the initial weights), and the trained `W`, `b`, `v`, `c`.
    """
    x = check_array("x", x, ndim=2)
    y = check_array("y", y, ndim=1)
    W = check_array("W", W, ndim=2).copy()
    b = check_array("b", b, ndim=1).copy()
    v = check_array("v", v, ndim=1).copy()
    c = check_interval("c", c, FINITE)
    lr = check_interval("lr", lr, LEARNING_RATE)
    steps = check_count("steps", steps)
    if y.shape[0] != x.shape[0] or v.shape[0] != W.shape[0]:
        raise ValueError(
            f"y (N,) must match x (N, d) and v (H,) must match W (H, d), "
            f"got x{x.shape}, y{y.shape}, W{W.shape}, v{v.shape}"
        )
    dead = dead_relu_units(x, W, b)
    n = x.shape[0]
    first: dict = {}
    for _ in range(steps):
        z = x @ W.T + b  # (N, H)
        h = relu(z)  # (N, H)
        r = (h @ v + c - y) / n  # (N,) = dL/dy_hat
        dv = h.T @ r  # (H,)
        dc = r.sum()
        dz = np.outer(r, v) * relu_grad(z)  # (N, H)
        dW = dz.T @ x  # (H, d)
        db = dz.sum(axis=0)  # (H,)
        if not first:
            first = {"dW": dW, "db": db, "dv": dv}
        W -= lr * dW
        b -= lr * db
        v -= lr * dv
        c -= lr * dc
    return {
        "dead": dead,
        "dead_after": dead_relu_units(x, W, b),
        **first,
        "W": W,
        "b": b,
        "v": v,
        "c": c,
    }

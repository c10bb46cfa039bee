"""Classic units and learning rules of the notes (catalog A1, A9, B8, E1-E10), in NumPy.

Imports NumPy, SciPy (`scipy.optimize.linprog` for the separability test), the standard
library's `graphlib`, `scratch.activations` (the step unit), `scratch.validation` and
`scratch.perceptron_trace` (the trace's records and table, shared with torchref) only.

What is here:
  threshold logic (E4, E6, E7): single binary threshold units (BTUs) as `Unit(w, b)`, two-layer
      BTU networks as `ThresholdNet` (optionally with direct input-to-output connections),
      the gates AND / OR / NOT / "purple AND round", XOR (002 §4.1.3) and IFF three ways;
  linear separability (E5, E10): an LP feasibility test that returns a separating hyperplane
      or a certificate that none exists, Radon partitions, the Boolean functions of n inputs;
  the perceptron (E1, E2, E9): the rule with a full presentation-by-presentation trace;
  Hebbian and anti-Hebbian rules and the case analysis of the perceptron rule (E3);
  feed-forward vs recurrent connection graphs (B8) and a recurrent BTU simulation;
  the inhibitory unit of 003 (E8) as a rate model.

Layouts: examples are rows (`X` is (N, d)); a layer's weights are (n_out, n_in) like
`nn.Linear.weight`; the perceptron folds the bias into the weights as the notes do
(`x_0 = 1`, `w_0` the bias), so its inputs are (N, d + 1).
"""

from __future__ import annotations

import graphlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from scratch.activations import sign_unit, step
from scratch.perceptron_trace import PerceptronResult, PerceptronRow, format_perceptron_trace
from scratch.validation import (
    FINITE,
    NONNEGATIVE,
    POSITIVE,
    PROBABILITY,
    Choice,
    check_array,
    check_count,
    check_interval,
    scalar_like,
)

__all__ = [
    "Unit",
    "btu",
    "btu_layer",
    "AND",
    "OR",
    "NOT",
    "NAND",
    "EDIBLE",
    "edible",
    "invert_unit",
    "ThresholdNet",
    "threshold_net_forward",
    "invert_output",
    "construction_theorem_net",
    "xor_net",
    "xor_net_1_skip",
    "iff_net",
    "truth_table_inputs",
    "truth_table",
    "Separability",
    "linear_separability",
    "is_linearly_separable",
    "radon_partition",
    "boolean_functions",
    "BOOLEAN_FUNCTION_NAMES",
    "separable_boolean_functions",
    "add_bias_input",
    "perceptron_output",
    "perceptron_update",
    "PerceptronRow",
    "PerceptronResult",
    "perceptron_train",
    "format_perceptron_trace",
    "and_exercise",
    "novikoff_bound",
    "hebbian_update",
    "anti_hebbian_update",
    "perceptron_as_hebbian",
    "perceptron_case",
    "PERCEPTRON_CASES",
    "NetworkKind",
    "classify_network",
    "connection_graph",
    "simulate_recurrent_btu",
    "inhibitory_rate",
    "inhibitory_sweep",
    "synapse_depression",
]

_SYNAPSE_KINDS = Choice(("artificial", "biological"))


# ---- A1 / E4: single threshold units ------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One binary threshold unit `y = 1{x^T w + b > 0}`: weights w (d,), bias b. Catalog: A1, E4."""

    w: tuple[float, ...]
    b: float

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self.w, dtype=np.float64)


def btu(x, w, b) -> np.ndarray:
    """Binary threshold unit: `y = 1{x^T w + b > 0}`, outputs 0.0 or 1.0.

    Notes: `y = I{x^T w + b > 0}` (000 "biological neuron"), the BTU of 003's logic gates.
    Catalog: A1 (000, 003). 0 when `x^T w + b = 0` (strict inequality). PyTorch:
    `torchref.classic.BTU` (`nn.Linear` then `torchref.activations.Step`).
    Shapes: x (N, d) or (d,); w (d,); b scalar. Returns (N,) or (); the dtype of x.
    """
    x = check_array("x", x, ndim=(1, 2))
    w = check_array("w", w, ndim=1)
    b = check_interval("b", b, FINITE)
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x and w must agree on the input dimension, got x{x.shape} and w{w.shape}"
        )
    return step(x @ w.astype(x.dtype) + x.dtype.type(b))


def btu_layer(x, W, b) -> np.ndarray:
    """A layer of threshold units: `h = s(W x + b)` for every example (s the 0/1 step).

    Catalog: A1, A9 (002 §4.1.3 "sign" units, 0/1 outputs). PyTorch: `nn.Linear` + `Step`.
    Shapes: x (N, d); W (H, d) (nn.Linear's layout); b (H,). Returns (N, H).
    """
    x = check_array("x", x, ndim=2)
    W = check_array("W", W, ndim=2)
    b = check_array("b", b, ndim=1)
    if W.shape[1] != x.shape[1] or b.shape[0] != W.shape[0]:
        raise ValueError(
            f"x (N, d), W (H, d) and b (H,) do not agree, got x{x.shape}, W{W.shape}, b{b.shape}"
        )
    return step(x @ W.T.astype(x.dtype) + b.astype(x.dtype))  # (N, H)


# The gates of 003 ("logic gates from BTU units, the engineering way"). Any weights with
# the same sign pattern work; these put the threshold half-way between the input sums so
# that no binary input lands on the threshold.
AND = Unit((1.0, 1.0), -1.5)
OR = Unit((1.0, 1.0), -0.5)
NOT = Unit((-1.0,), 0.5)
NAND = Unit((-1.0, -1.0), 1.5)
# 003: a bird has a unit that answers to purple and one that answers to round, and eats
# only things that are purple AND round. Inputs (purple, round).
EDIBLE = AND


def edible(purple, round_) -> np.ndarray:
    """The "edible" unit of 003: fires iff the purple unit AND the round unit fire.

    Catalog: E4 (003). One BTU with `w = (1, 1)`, `b = -1.5` on the outputs of the two
    feature units. Shapes: purple, round_ (N,) of 0/1 -> (N,).
    """
    purple = check_array("purple", purple, ndim=1)
    round_ = check_array("round_", round_, ndim=1)
    if purple.shape != round_.shape:
        raise ValueError(
            f"purple and round_ must have the same shape, got purple{purple.shape} and "
            f"round_{round_.shape}"
        )
    return btu(np.stack([purple, round_], axis=1), EDIBLE.weights, EDIBLE.b)


def invert_unit(unit: Unit) -> Unit:
    """The unit with every weight and the bias negated: it computes the complement.

    Notes: "to invert the output, the output weights are multiplied by -1" (003, the IFF
    exercise). Catalog: E4, E7. `1{-(w.x + b) > 0} = 1 - 1{w.x + b > 0}` except where
    `w.x + b = 0` exactly (both are 0 there), so the inversion is exact on inputs that never
    sit on the threshold, which is why the gates use half-integer biases.
    """
    return Unit(tuple(-v for v in unit.w), -unit.b)


# ---- E6 / E7: two-layer threshold networks ------------------------------------------------


@dataclass(frozen=True)
class ThresholdNet:
    """Two layers of threshold units, optionally with direct input-to-output connections.

    `h = s(W1 x + b1)`, `y = s(W2 h + V x + b2)` with s the 0/1 step. Shapes: W1 (H, d),
    b1 (H,), W2 (1, H), b2 (1,), V (1, d) or None (no direct connections). Catalog: E6, E7.
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    V: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        for attr, ndim in (("W1", 2), ("b1", 1), ("W2", 2), ("b2", 1), ("V", 2)):
            value = getattr(self, attr)
            if value is not None:
                arr = check_array(attr, value, ndim=ndim).astype(np.float64)
                arr.setflags(write=False)
                object.__setattr__(self, attr, arr)
        H, d = self.W1.shape
        if self.b1.shape != (H,) or self.W2.shape != (1, H) or self.b2.shape != (1,):
            raise ValueError(
                f"expected W1 (H, d), b1 (H,), W2 (1, H), b2 (1,), got W1{self.W1.shape}, "
                f"b1{self.b1.shape}, W2{self.W2.shape}, b2{self.b2.shape}"
            )
        if self.V is not None and self.V.shape != (1, d):
            raise ValueError(f"V must have shape (1, {d}), got V{self.V.shape}")

    @property
    def n_hidden(self) -> int:
        return self.W1.shape[0]


def threshold_net_forward(net: ThresholdNet, x) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass of a `ThresholdNet`: returns `(y, h)`.

    Notes: `h1 = sign(x1 + x2 - 0.5)`, `h2 = sign(x1 + x2 - 1.5)`, `y = sign(h1 - h2 - 0.5)`
    with the notes' 0/1 "sign" (002 §4.1.3). Catalog: E6, E7, A9. PyTorch:
    `torchref.classic.ThresholdNet`.
    Shapes: x (N, d) -> y (N,), h (N, H); the dtype of x.
    """
    x = check_array("x", x, ndim=2)
    if x.shape[1] != net.W1.shape[1]:
        raise ValueError(f"x must have {net.W1.shape[1]} columns, got x{x.shape}")
    # 002 calls these units "sign" and defines them as 0/1: sign_unit (A9).
    h = sign_unit(x @ net.W1.T.astype(x.dtype) + net.b1.astype(x.dtype))  # (N, H)
    z = h @ net.W2.T.astype(x.dtype) + net.b2.astype(x.dtype)  # (N, 1)
    if net.V is not None:
        z = z + x @ net.V.T.astype(x.dtype)  # direct input -> output connections
    return sign_unit(z)[:, 0], h


def invert_output(net: ThresholdNet, name: str = "") -> ThresholdNet:
    """The same hidden layer with the output unit's weights (and bias) negated.

    Notes: "the hidden unit need not change its role: to invert the output, the output
    weights are multiplied by -1" (003). Catalog: E7. Exact when the output unit's input
    never equals its threshold on the inputs of interest (see `invert_unit`).
    """
    return ThresholdNet(
        net.W1, net.b1, -net.W2, -net.b2, None if net.V is None else -net.V, name=name
    )


def truth_table_inputs(n: int) -> np.ndarray:
    """All 2^n binary input rows in counting order: (0,..,0), (0,..,1), ..., (1,..,1).

    For n = 2 the rows are 00, 01, 10, 11, the order of the notes' tables. Returns (2^n, n).
    Catalog: E7, E10.
    """
    n = check_count("n", n, 1)
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))  # (2^n, n)


def construction_theorem_net(outputs, name: str = "") -> ThresholdNet:
    """A one-hidden-layer BTU net for any Boolean function: one hidden unit per truth-table row.

    The construction theorem (003 "with 4 hidden units (construction theorem)"): hidden unit r
    fires on input row p_r only (`w = 2 p_r - 1`, `b = 0.5 - |p_r|`, so `w.x + b = 0.5` on
    p_r and <= -0.5 on every other binary row); the output unit is the OR of the units of
    the rows whose output is 1 (weights = the outputs column, bias -0.5). Catalog: E7.
    `outputs` (2^n,) of 0/1 in `truth_table_inputs(n)` row order, or a string such as "1001".
    """
    if isinstance(outputs, str):
        if not outputs or set(outputs) - {"0", "1"}:
            raise ValueError(f"outputs must be a string of 0s and 1s, got {outputs!r}")
        outputs = [float(c) for c in outputs]
    out = check_array("outputs", outputs, ndim=1)
    n = int(round(np.log2(out.size))) if out.size else 0
    if out.size < 2 or 2**n != out.size or not np.all((out == 0) | (out == 1)):
        raise ValueError(
            f"outputs must hold 2^n values in {{0, 1}} with n >= 1, got {out.size} value(s)"
        )
    rows = truth_table_inputs(n)  # (2^n, n)
    W1 = 2 * rows - 1  # (2^n, n): +1 where the row has a 1, -1 where it has a 0
    b1 = 0.5 - rows.sum(axis=1)  # (2^n,)
    return ThresholdNet(W1, b1, out[None, :].astype(np.float64), np.array([-0.5]), name=name)


def xor_net() -> ThresholdNet:
    """002 §4.1.3's XOR: `h1 = s(x1 + x2 - 0.5)`, `h2 = s(x1 + x2 - 1.5)`, `y = s(h1 - h2 - 0.5)`.

    h1 is OR, h2 is AND, y = OR AND NOT AND. Catalog: E6. PyTorch: `torchref.classic.xor_net`.
    """
    return ThresholdNet(
        W1=np.array([[1.0, 1.0], [1.0, 1.0]]),
        b1=np.array([-0.5, -1.5]),
        W2=np.array([[1.0, -1.0]]),
        b2=np.array([-0.5]),
        name="XOR, 2 hidden units (002 §4.1.3)",
    )


def xor_net_1_skip() -> ThresholdNet:
    """XOR with one hidden unit `h = AND(x1, x2)` and direct connections:
    `y = s(x1 + x2 - 2 h - 0.5)`. Catalog: E7 (the IFF exercise's third construction, negated).
    """
    return ThresholdNet(
        W1=np.array([[1.0, 1.0]]),
        b1=np.array([-1.5]),
        W2=np.array([[-2.0]]),
        b2=np.array([-0.5]),
        V=np.array([[1.0, 1.0]]),
        name="XOR, 1 hidden unit + direct connections",
    )


_IFF_HIDDEN = (4, 2, 1)


def iff_net(hidden: int) -> ThresholdNet:
    """IFF (XNOR) three ways (003 "build a network that computes IFF"). Catalog: E7.

    hidden=4: the construction theorem, one unit per truth-table row (`construction_theorem_
    net("1001")`); hidden=2: the XOR net of 002 with its output unit negated; hidden=1: the
    one-unit XOR with direct connections, output negated: `y = s(-x1 - x2 + 2 AND(x1, x2) +
    0.5)`. PyTorch: `torchref.classic.iff_net`.
    """
    if hidden not in _IFF_HIDDEN:
        raise ValueError(f"hidden must be one of {_IFF_HIDDEN}, got {hidden!r}")
    if hidden == 4:
        return construction_theorem_net("1001", name="IFF, 4 hidden units (construction theorem)")
    if hidden == 2:
        return invert_output(xor_net(), name="IFF, 2 hidden units (XOR with output negated)")
    return invert_output(
        xor_net_1_skip(), name="IFF, 1 hidden unit + direct connections (negated XOR)"
    )


def truth_table(net: ThresholdNet) -> dict[tuple[int, ...], int]:
    """`{input row: output}` of a `ThresholdNet` over every binary input row. Catalog: E6, E7."""
    rows = truth_table_inputs(net.W1.shape[1])
    y, _ = threshold_net_forward(net, rows)
    return {tuple(int(v) for v in r): int(o) for r, o in zip(rows, y, strict=True)}


# ---- E5 / E10: linear separability ------------------------------------------------------


@dataclass(frozen=True)
class Separability:
    """Result of `linear_separability`.

    separable: True iff some (w, b) has `s_i (w . x_i + b) >= 1` for every i (s_i = 2 y_i - 1).
    w (d,), b: such a hyperplane when separable, else None.
    certificate (N,): when not separable, multipliers lambda_i >= 0 with sum 1 and
        `sum_i lambda_i s_i (x_i, 1) = 0` (Gordan's alternative; the LP dual's ray). Then for
        any (w, b), `sum_i lambda_i s_i (w . x_i + b) = 0`, so the terms cannot all be > 0:
        no hyperplane separates. Equivalently the positive and negative points' convex hulls
        share `common_point` (d,) = 2 sum_{y_i = 1} lambda_i x_i.
    message: one line saying which, in words. Catalog: E5.
    """

    separable: bool
    w: np.ndarray | None
    b: float | None
    certificate: np.ndarray | None
    common_point: np.ndarray | None
    message: str


def _labels01(name: str, y, n: int) -> np.ndarray:
    y = check_array(name, y, ndim=1)
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per row of X, got {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name} must hold labels in {{0, 1}}, got values {np.unique(y)[:5]}")
    return y


def linear_separability(X, y, certificate: bool = True) -> Separability:
    """Decide by linear programming whether labeled points are linearly separable.

    Feasibility of `s_i (w . x_i + b) >= 1` for all i, `s_i = 2 y_i - 1` (003: "substitute
    the 4 points into the BTU equation, we get 4 contradictory constraints"; the `>= 1`
    normalizes the strict inequality of a BTU, any strict separator can be scaled to it).
    Solved with `scipy.optimize.linprog` (HiGHS) on standardized columns (an affine change
    of coordinates keeps separability and helps conditioning); the answer is re-checked in
    the original coordinates. When infeasible, a second LP finds the certificate
    (`Separability.certificate`). Catalog: E5, E10 (003, 002). No torch counterpart; the
    tests cross-check it with the perceptron (torch) and scikit-learn.
    `certificate=False` skips the second LP (the answer is then not self-checking).
    Shapes: X (N, d); y (N,) of 0/1. One-class sets are separable (w = 0, b = +-1).
    """
    X = check_array("X", X, ndim=2, allow_empty=False).astype(np.float64)
    y = _labels01("y", y, X.shape[0])
    n, d = X.shape
    s = 2.0 * y - 1.0  # (N,) in {-1, +1}
    mu = X.mean(axis=0)  # (d,)
    scale = np.abs(X - mu).max(axis=0)  # (d,)
    scale[scale == 0] = 1.0
    Xs = (X - mu) / scale  # (N, d)
    A = s[:, None] * np.hstack([Xs, np.ones((n, 1))])  # (N, d+1): rows s_i (x_i, 1)
    res = linprog(
        np.zeros(d + 1), A_ub=-A, b_ub=-np.ones(n), bounds=[(None, None)] * (d + 1),
        method="highs",
    )
    if res.status == 0:
        ws, bs = res.x[:d], res.x[d]
        w = ws / scale  # undo the standardization: w.x + b = ws.xs + bs
        b = float(bs - ws @ (mu / scale))
        margins = s * (X @ w + b)  # (N,)
        if margins.min() < 1 - 1e-6:
            raise RuntimeError(
                f"linprog reported a separator that violates a constraint by "
                f"{1 - margins.min():.3g}; the problem is badly conditioned"
            )
        return Separability(True, w, b, None, None, "linearly separable: s_i (w.x_i + b) >= 1")
    if res.status != 2:
        raise RuntimeError(f"linprog failed ({res.status}): {res.message}")
    if not certificate:
        return Separability(False, None, None, None, None, "not linearly separable")
    # Gordan: no (w, b) with A u > 0  <=>  some lambda >= 0, sum 1, with A^T lambda = 0.
    cert = linprog(
        np.zeros(n),
        A_eq=np.vstack([A.T, np.ones((1, n))]),
        b_eq=np.concatenate([np.zeros(d + 1), [1.0]]),
        bounds=[(0, None)] * n,
        method="highs",
    )
    if cert.status != 0:
        raise RuntimeError(
            f"the separating LP is infeasible but no certificate was found ({cert.message})"
        )
    lam = np.clip(cert.x, 0.0, None)
    lam /= lam.sum()
    common = 2.0 * (lam[y == 1] @ X[y == 1])  # (d,): the positive class's weights sum to 1/2
    return Separability(
        False, None, None, lam, common,
        "not linearly separable: the convex hulls of the two classes meet at "
        f"{np.array2string(common, precision=4)}",
    )


def is_linearly_separable(X, y) -> bool:
    """`linear_separability(X, y, certificate=False).separable`. Catalog: E5."""
    return linear_separability(X, y, certificate=False).separable


def radon_partition(points) -> np.ndarray:
    """A labeling of d + 2 points in R^d that no hyperplane separates (Radon's theorem).

    The d + 2 augmented vectors `(x_i, 1)` in R^(d+1) are linearly dependent: some lambda != 0
    has `sum_i lambda_i (x_i, 1) = 0`. Label the points with lambda_i > 0 as 1: then
    `lambda / sum|lambda|` with signs is exactly the certificate of `linear_separability`.
    This is why 4 points suffice in 2-D and why 003's answer "4" is the minimum (any 3 points
    in general position are separable under every labeling). Catalog: E5.
    Shapes: points (d + 2, d) -> labels (d + 2,) of 0/1.
    Erratum: docs/errata.md#e5
    """
    P = check_array("points", points, ndim=2)
    n, d = P.shape
    if n != d + 2:
        raise ValueError(f"points must be d + 2 = {d + 2} points in R^{d}, got {n}")
    M = np.vstack([P.T, np.ones((1, n))])  # (d+1, d+2)
    lam = np.linalg.svd(M)[2][-1]  # (d+2,): a null vector of M
    return (lam > 0).astype(np.float64)


BOOLEAN_FUNCTION_NAMES: dict[str, str] = {
    # outputs for the input rows 00, 01, 10, 11 (x1 x2)
    "0000": "FALSE", "0001": "AND", "0010": "x1 AND NOT x2", "0011": "x1",
    "0100": "NOT x1 AND x2", "0101": "x2", "0110": "XOR", "0111": "OR",
    "1000": "NOR", "1001": "XNOR (IFF)", "1010": "NOT x2", "1011": "x1 OR NOT x2",
    "1100": "NOT x1", "1101": "NOT x1 OR x2", "1110": "NAND", "1111": "TRUE",
}


def boolean_functions(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every Boolean function of n inputs as a truth table.

    Returns `(inputs, outputs)`: inputs (2^n, n) in `truth_table_inputs` order and outputs
    (2^(2^n), 2^n) of 0/1, function k's outputs being the binary digits of k, most
    significant first (so for n = 2, "0001" is AND and "0110" is XOR). Catalog: E10.
    """
    n = check_count("n", n, 1)
    if n > 4:
        raise ValueError(f"n must be at most 4 (2^(2^n) functions), got {n}")
    rows = truth_table_inputs(n)
    m = rows.shape[0]
    outputs = np.array(list(itertools.product((0.0, 1.0), repeat=m)))  # (2^m, m)
    return rows, outputs


def separable_boolean_functions(n: int = 2) -> dict[str, bool]:
    """`{truth table string: linearly separable?}` for every Boolean function of n inputs.

    Notes: "Xor is not linearly separable, unlike the other logical operators" (002 §4.1.3,
    Fig. 4.8). Catalog: E10. For n = 2, 14 of the 16 are separable (all but XOR and XNOR);
    the counts for n = 1, 2, 3 are 4, 14, 104 (the threshold functions, OEIS A000609).
    Erratum: docs/errata.md#e10
    """
    rows, outputs = boolean_functions(n)
    return {
        "".join(str(int(v)) for v in out): is_linearly_separable(rows, out) for out in outputs
    }


# ---- E1 / E2 / E9: the perceptron ----------------------------------------------------------


def add_bias_input(X) -> np.ndarray:
    """Prepend the constant input `x_0 = 1` to every row: (N, d) -> (N, d + 1).

    The notes' perceptron has inputs `x_0, x_1, x_2` with `x_0 = 1` and `w_0` the bias (003).
    Catalog: E1, B5.
    """
    X = check_array("X", X, ndim=2)
    return np.hstack([np.ones((X.shape[0], 1), dtype=X.dtype), X])


def perceptron_output(X, w) -> np.ndarray:
    """Perceptron output `y = 1{w . x > 0}` (bias folded in as `x_0 = 1`).

    Catalog: E1 (003). Shapes: X (N, d + 1) or (d + 1,); w (d + 1,) -> (N,) or ().
    """
    X = check_array("X", X, ndim=(1, 2))
    w = check_array("w", w, ndim=1)
    if X.shape[-1] != w.shape[0]:
        raise ValueError(f"X and w must agree on the input dimension, got X{X.shape}, w{w.shape}")
    return step(X @ w)


def perceptron_update(w, x, t: float, lr: float) -> tuple[float, np.ndarray]:
    """One presentation of the perceptron rule: `dw_j = lambda (t_j - y_j) x_j`.

    Notes: "compute y for x_j, compute the error (t_j - y), push the weight vector the right
    way: dw_j = lambda (t_j - y_j) x_j" (003 "Perceptron learning"). Catalog: E1.
    PyTorch: one `torch.optim.SGD` step on the perceptron criterion
    `-(t - y) w.x` (`torchref.classic.perceptron_criterion`): its gradient is `-(t - y) x`.
    Shapes: w, x (d + 1,); t in {0, 1}; lr > 0. Returns `(y, dw)`; dw is 0 when y == t.
    """
    w = check_array("w", w, ndim=1)
    x = check_array("x", x, ndim=1)
    if x.shape != w.shape:
        raise ValueError(f"x and w must have the same shape, got x{x.shape} and w{w.shape}")
    t = check_interval("t", t, PROBABILITY)
    if t not in (0.0, 1.0):
        raise ValueError(f"t must be 0 or 1, got {t!r}")
    lr = check_interval("lr", lr, POSITIVE)
    y = step(x @ w)[()]  # a scalar in x's dtype
    return y, lr * (t - y) * x


def perceptron_train(
    X, t, w0, lr: float = 1.0, max_epochs: int = 100, max_rows: int | None = None
) -> PerceptronResult:
    """The perceptron learning algorithm with a full trace.

    Notes (003 "Perceptron learning"): go over the training examples again and again until
    there is no change; for each, compute y, the error (t_j - y), and
    `dw_j = lambda (t_j - y_j) x_j`. Examples are presented in the given order every epoch
    (the notes' table does so). Catalog: E1, E2, E9. PyTorch:
    `torchref.classic.perceptron_train` (SGD on the perceptron criterion), the same trace.
    Convergence (Novikoff): on separable data the number of updates from w0 = 0 is at most
    `(R / gamma)^2` (`novikoff_bound`); on non-separable data it never converges, and this
    returns `converged=False` after `max_epochs` (no exception, no warning).
    Shapes: X (N, d + 1) with the bias input x_0 = 1 as column 0 (`add_bias_input`);
    t (N,) of 0/1; w0 (d + 1,); lr > 0; max_epochs >= 1. `max_rows` keeps only the first
    rows of the trace (memory stays flat over a long run; the counts cover every epoch).
    """
    X = check_array("X", X, ndim=2, allow_empty=False)
    t = _labels01("t", t, X.shape[0]).astype(X.dtype)
    w = check_array("w0", w0, ndim=1).astype(X.dtype).copy()
    if w.shape != (X.shape[1],):
        raise ValueError(f"w0 must have shape ({X.shape[1]},), got w0{w.shape}")
    lr = check_interval("lr", lr, POSITIVE)
    max_epochs = check_count("max_epochs", max_epochs, 1)
    max_rows = None if max_rows is None else check_count("max_rows", max_rows, 0)
    trace: list[PerceptronRow] = []
    per_epoch: list[int] = []
    for epoch in range(1, max_epochs + 1):
        updates = 0
        for x, target in zip(X, t, strict=True):
            z = x @ w  # scalars in X's dtype, as every value of the trace
            y, dw = perceptron_update(w, x, target, lr)
            if max_rows is None or len(trace) < max_rows:
                trace.append(PerceptronRow(epoch, x.copy(), w.copy(), z, y, target, dw))
            if y != target:
                w = w + dw
                updates += 1
        per_epoch.append(updates)
        if updates == 0:
            break
    return PerceptronResult(
        w, per_epoch[-1] == 0, len(per_epoch), sum(per_epoch), tuple(per_epoch), tuple(trace),
        len(per_epoch) * X.shape[0],
    )


def and_exercise() -> dict:
    """003's AND exercise as `perceptron_train` keyword arguments (fresh arrays each call).

    Inputs (x0 = 1, x1, x2) in the table's row order 110, 101, 100, 111; target x1 AND x2
    (003 says "AND of the 3 inputs", x0 being the constant 1); w = (-1.2, -0.3, -0.4),
    lambda = 0.9. Catalog: E2. PyTorch: `torchref.classic.and_exercise`.
    """
    return {
        "X": np.array([[1.0, 1, 0], [1, 0, 1], [1, 0, 0], [1, 1, 1]]),
        "t": np.array([0.0, 0, 0, 1]),
        "w0": np.array([-1.2, -0.3, -0.4]),
        "lr": 0.9,
    }


def novikoff_bound(X, t, w_sep) -> float:
    """Novikoff's bound `(R / gamma)^2` on the perceptron's number of updates from w = 0.

    R = max_i ||x_i||, gamma = min_i s_i (w* . x_i) / ||w*|| for a separator w* (s_i = 2 t_i
    - 1), bias folded into x (x_0 = 1). Catalog: E9 (003: "Rosenblatt proved that if there is
    a solution the algorithm finds it"). Any separator gives a valid (possibly loose) bound.
    Shapes: X (N, d + 1); t (N,); w_sep (d + 1,). Raises ValueError if w_sep does not
    separate (gamma <= 0).
    """
    X = check_array("X", X, ndim=2)
    t = _labels01("t", t, X.shape[0])
    w = check_array("w_sep", w_sep, ndim=1)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w_sep must have shape ({X.shape[1]},), got w_sep{w.shape}")
    s = 2 * t - 1
    norm = np.linalg.norm(w)
    gamma = float((s * (X @ w)).min() / norm) if norm > 0 else 0.0
    if gamma <= 0:
        raise ValueError(f"w_sep must separate the data (margin > 0), got margin {gamma:.3g}")
    R = float(np.linalg.norm(X, axis=1).max())
    return scalar_like((R / gamma) ** 2, X)


# ---- E3: Hebbian learning ------------------------------------------------------------------


def hebbian_update(x, y, lr: float = 1.0) -> np.ndarray:
    """Hebbian rule: `dw_ij ~ y_j x_i`, the connection grows when both units fire together.

    Catalog: E3 (003). Returned in the project's (n_out, n_in) layout: entry [j, i] is the
    notes' dw_ij from input i to output j. Shapes: x (n_in,); y (n_out,) -> (n_out, n_in).
    """
    x = check_array("x", x, ndim=1)
    y = check_array("y", y, ndim=1)
    lr = check_interval("lr", lr, POSITIVE)
    return lr * np.outer(y, x)  # (n_out, n_in)


def anti_hebbian_update(x, y, lr: float = 1.0) -> np.ndarray:
    """Anti-Hebbian rule: `dw_ij ~ -y_j x_i`, the connection weakens when both fire together.

    Catalog: E3 (003: the basal-ganglia question "what happens to a synapse between two
    neurons that fire together under anti-Hebb? it weakens"). Shapes as `hebbian_update`.
    """
    return -hebbian_update(x, y, lr)


def perceptron_as_hebbian(x, y: float, t: float, lr: float = 1.0) -> np.ndarray:
    """The perceptron rule written as Hebbian on the target plus anti-Hebbian on the output.

    `lambda (t - y) x = hebbian(x, t) + anti_hebbian(x, y)` (003 "is the perceptron rule
    Hebbian?"): when y = 0 and t = 1 only the Hebbian term acts, when y = 1 and t = 0 only the
    anti-Hebbian one, and when y = t they cancel. Catalog: E3. Shapes: x (n_in,) -> (n_in,).
    """
    x = check_array("x", x, ndim=1)
    return (hebbian_update(x, [t], lr) + anti_hebbian_update(x, [y], lr))[0]


@dataclass(frozen=True)
class PerceptronCase:
    """One case of 003's analysis of the perceptron rule for a single input x_i. Catalog: E3."""

    x_sign: int  # +1 or -1
    y: int
    t: int
    kind: str  # "hebbian" or "anti-hebbian"
    weight_change: int  # sign of dw_i
    contribution_change: int  # sign of the change of w_i x_i (the synapse's effect on z)


def perceptron_case(x_i: float, y: float, t: float) -> PerceptronCase:
    """Classify one presentation of the perceptron rule for input x_i (003's four cases).

    `dw_i = (t - y) x_i` is Hebbian (`+t x_i`) when y = 0, t = 1 and anti-Hebbian (`-y x_i`)
    when y = 1, t = 0; the sign of x_i does not change the kind. It changes the direction
    of the weight *value*: with x_i < 0 a Hebbian step lowers w_i, while the synapse's
    contribution `w_i x_i` to z always moves with (t - y), since it changes by
    `(t - y) x_i^2`. Catalog: E3. Raises ValueError when y == t (no update) or x_i == 0.
    Erratum: docs/errata.md#e3
    """
    x_i = check_interval("x_i", x_i, FINITE)
    if x_i == 0:
        raise ValueError("x_i must be non-zero: with x_i = 0 the rule changes nothing")
    y = check_interval("y", y, PROBABILITY)
    t = check_interval("t", t, PROBABILITY)
    if {y, t} != {0.0, 1.0}:
        raise ValueError(f"y and t must be 0 and 1 in some order (an error), got y={y}, t={t}")
    dw = (t - y) * x_i
    return PerceptronCase(
        x_sign=int(np.sign(x_i)),
        y=int(y),
        t=int(t),
        kind="hebbian" if t == 1 else "anti-hebbian",
        weight_change=int(np.sign(dw)),
        contribution_change=int(np.sign(dw * x_i)),
    )


# The four cases in 003's order: (x_i sign, y), t = 1 - y.
PERCEPTRON_CASES = ((+1, 0), (-1, 1), (+1, 1), (-1, 0))


# ---- B8: feed-forward vs recurrent ---------------------------------------------------------


@dataclass(frozen=True)
class NetworkKind:
    """`kind` is "feed-forward" (a DAG: `order` is a topological order of the neurons) or
    "recurrent" (`cycle` lists neurons of one directed cycle, first == last). Catalog: B8."""

    kind: str
    order: tuple | None
    cycle: tuple | None


def classify_network(edges: Iterable[tuple]) -> NetworkKind:
    """Feed-forward (DAG) or recurrent (has a directed cycle), from the connection list.

    Notes: "feed-forward networks contain no cyclic paths; recurrent networks do" (000);
    "which networks can be described as a DAG? feed-forward" and "2 neurons, the first
    connected to the second and the second to the first: an RNN" (003). Catalog: B8.
    Uses `graphlib.TopologicalSorter` (standard library). `edges` are (source, target)
    pairs; a self-connection (u, u) is a cycle too.
    """
    preds: dict = {}
    for e in edges:
        if len(e) != 2:
            raise ValueError(f"edges must be (source, target) pairs, got {e!r}")
        u, v = e
        preds.setdefault(v, set()).add(u)
        preds.setdefault(u, set())
    try:
        order = tuple(graphlib.TopologicalSorter(preds).static_order())
    except graphlib.CycleError as err:
        # graphlib lists the cycle along predecessor links; reverse it to follow the edges.
        return NetworkKind("recurrent", None, tuple(reversed(err.args[1])))
    return NetworkKind("feed-forward", order, None)


def connection_graph(weights: Sequence, layered: bool = True) -> list[tuple]:
    """The directed connections (source, target) with a non-zero weight.

    layered=True: `weights` is `[W1, W2, ...]` of a layered net (W_l (n_l, n_{l-1})); neuron
    k of layer l is named `(l, k)`, the inputs are layer 0. layered=False: `weights` is one
    square matrix W (n, n) among n neurons (W[j, i] != 0: neuron i feeds neuron j), as in a
    recurrent net; neurons are named 0 .. n-1. Catalog: B8. PyTorch:
    `torchref.classic.connection_graph(module)`.
    """
    if layered:
        edges = []
        for l, W in enumerate(weights, start=1):
            W = check_array(f"weights[{l - 1}]", W, ndim=2)
            edges += [((l - 1, i), (l, j)) for j, i in zip(*np.nonzero(W), strict=True)]
        return edges
    W = check_array("weights", weights, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"weights must be a square (n, n) matrix, got {W.shape}")
    return [(int(i), int(j)) for j, i in zip(*np.nonzero(W), strict=True)]


def simulate_recurrent_btu(W, U, b, inputs, h0) -> np.ndarray:
    """Run a recurrent layer of threshold units: `h(t+1) = s(W h(t) + U x(t) + b)`.

    The two mutually connected neurons of 003 ("can such a network take input? yes, each
    neuron can receive more inputs"): the state depends on the input history, and a pulse of
    input can leave activity circulating after the input is gone. Catalog: B8.
    Shapes: W (n, n); U (n, d); b (n,); inputs (T, d); h0 (n,). Returns states (T + 1, n).
    """
    W = check_array("W", W, ndim=2)
    U = check_array("U", U, ndim=2)
    b = check_array("b", b, ndim=1)
    xs = check_array("inputs", inputs, ndim=2)
    h = check_array("h0", h0, ndim=1)
    n = W.shape[0]
    if W.shape != (n, n) or U.shape != (n, xs.shape[1]) or b.shape != (n,) or h.shape != (n,):
        raise ValueError(
            f"expected W (n, n), U (n, d), b (n,), inputs (T, d), h0 (n,), got W{W.shape}, "
            f"U{U.shape}, b{b.shape}, inputs{xs.shape}, h0{h.shape}"
        )
    states = [h]
    for x in xs:
        h = step(W @ h + U @ x + b)  # (n,)
        states.append(h)
    return np.stack(states)  # (T+1, n)


# ---- E8: the inhibitory unit ---------------------------------------------------------------


def inhibitory_rate(x, w, b: float) -> np.ndarray:
    """Firing rate of 003's cortical unit: positive bias, inhibitory synapses only.

    Rate model `r = max(0, b + sum_k w_k x_k)` with b > 0 (a negative threshold), w_k <= 0
    (synapses that make only negative currents) and presynaptic rates x_k >= 0. With no input
    it fires at its resting rate b; a total current smaller than b in absolute value lowers
    the rate; one at least as large silences it (003's answers). A threshold-linear rate is
    the simplest that can be silent (a sigmoid never reaches 0). Catalog: E8. PyTorch:
    `torchref.classic.InhibitoryUnit` (`F.relu` of an `nn.Linear`).
    Shapes: x (N, K) or (K,); w (K,); b > 0. Returns (N,) or ().
    """
    x = check_array("x", x, ndim=(1, 2))
    w = check_array("w", w, ndim=1)
    b = check_interval("b", b, POSITIVE)
    if np.any(w > 0):
        raise ValueError(f"w must be inhibitory (every weight <= 0), got max {w.max():g}")
    if np.any(x < 0):
        raise ValueError(f"x must be firing rates >= 0, got min {x.min():g}")
    if x.shape[-1] != w.shape[0]:
        raise ValueError(f"x and w must agree on the input dimension, got x{x.shape}, w{w.shape}")
    return np.maximum(0.0, b + x @ w)


def inhibitory_sweep(b: float, currents) -> np.ndarray:
    """Rates of the inhibitory unit as the total inhibitory current grows.

    `currents` are the absolute total currents |sum_k w_k x_k| >= 0 delivered by the dendrites
    (003: "what happens when a current of growing strength arrives?"). Returns
    `max(0, b - currents)`: b at 0, falling linearly, 0 from `currents >= b` on. Catalog: E8.
    Shapes: currents (M,) -> (M,).
    """
    c = check_array("currents", currents, ndim=1)
    if np.any(c < 0):
        raise ValueError(f"currents must be absolute currents >= 0, got min {c.min():g}")
    # One inhibitory synapse of weight -1 carrying the current c.
    return inhibitory_rate(c[:, None], np.array([-1.0], dtype=c.dtype), b)


def synapse_depression(w0: float, dw: float, steps: int, kind: str) -> np.ndarray:
    """Weight of an excitatory synapse that is weakened by dw again and again.

    Notes (003): "what happens in a biological excitatory neuron when post fires before pre?
    what happens to an artificial neuron when a weight is lowered more and more? The
    biological synapse weakens until it reaches 0 (passes no current) but does not turn
    inhibitory; the artificial weight goes down, crosses 0 and becomes ever more negative."
    kind "artificial": `w_k = w0 - k dw`; "biological": `max(0, w0 - k dw)`. Catalog: E8.
    w0 >= 0, dw > 0, steps >= 1. Returns (steps + 1,) starting at w0.
    """
    w0 = check_interval("w0", w0, NONNEGATIVE)
    dw = check_interval("dw", dw, POSITIVE)
    steps = check_count("steps", steps, 1)
    _SYNAPSE_KINDS.check("kind", kind)
    w = w0 - dw * np.arange(steps + 1)
    return w if kind == "artificial" else np.maximum(0.0, w)

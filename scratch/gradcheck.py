"""Finite-difference gradient checking: central differences and the relative error.

NumPy only (never torch). Used by the parity tests and meant for users who derive a gradient
by hand: give it any `f(params) -> float` and your analytic gradients, and it reports the worst
parameter entry.

Example (check a hand-derived gradient of f(w) = sum(w**3), which is 3 w**2):

>>> import numpy as np
>>> from scratch.gradcheck import gradcheck
>>> w = np.array([1.0, -2.0, 0.5])
>>> report = gradcheck(lambda p: float(np.sum(p[0] ** 3)), [w], [3 * w**2])
>>> report.ok
True
>>> bad = gradcheck(lambda p: float(np.sum(p[0] ** 3)), [w], [3 * w])  # forgot the square
>>> bad.ok, bad.worst_param, bad.worst_index
(False, 0, (1,))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch.validation import POSITIVE, check_array, check_interval, check_same_shape

__all__ = [
    "GradCheckResult",
    "numerical_gradient",
    "relative_error",
    "gradcheck",
]

@dataclass(frozen=True)
class GradCheckResult:
    """Outcome of `gradcheck`: the worst entry over all parameters and a verdict.

    `worst_param` indexes the `params` list, `worst_index` the entry inside that array;
    `analytic` and `numeric` are the two derivatives there, `rel_error` their relative error.
    `rel_errors` holds the worst relative error of each parameter array, in `params` order.
    """

    ok: bool
    rel_error: float
    worst_param: int
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    tol: float
    rel_errors: tuple[float, ...] = field(default_factory=tuple)
    numeric_grads: tuple[np.ndarray, ...] = field(default_factory=tuple, repr=False)

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        return (
            f"gradcheck {verdict}: worst relative error {self.rel_error:.3e} (tol {self.tol:g}) "
            f"at params[{self.worst_param}][{', '.join(map(str, self.worst_index))}]: "
            f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g}"
        )


def relative_error(analytic, numeric, floor: float = 1e-12) -> np.ndarray:
    """Element-wise relative error |a - n| / max(|a|, |n|, floor).

    The floor keeps entries where both derivatives are (numerically) zero at error 0 instead of
    0/0; with both below `floor` the measure turns into an absolute error divided by `floor`.
    Shapes: `analytic` and `numeric` the same shape; returns that shape.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    check_same_shape("analytic", a, "numeric", n)
    denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
    return np.abs(a - n) / denom


def _as_param_list(name: str, params) -> list[np.ndarray]:
    if isinstance(params, np.ndarray):
        params = [params]
    if not isinstance(params, Sequence) or isinstance(params, str):
        raise TypeError(
            f"{name} must be a list of arrays (or one array), got {type(params).__name__}"
        )
    return [check_array(f"{name}[{i}]", p) for i, p in enumerate(params)]


def _call_scalar(f: Callable, params: list[np.ndarray]) -> float:
    value = f(params)
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {value.shape}")
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"f must return a finite number, got {value}")
    return value


def numerical_gradient(
    f: Callable[[list[np.ndarray]], float],
    params,
    eps: float = 1e-5,
) -> list[np.ndarray]:
    """Central-difference gradient of `f` at `params`.

    df/dp_k ~ (f(p + eps e_k) - f(p - eps e_k)) / (2 eps), error O(eps^2).

    `f` receives a list of float64 copies of `params` (one array per parameter, shapes as
    given) and returns a real number. float32 parameters are promoted to float64 first: a
    central difference in float32 loses about half of its 7 digits to cancellation.
    Returns a list of float64 arrays, one per parameter, with the parameters' shapes.
    """
    eps = check_interval("eps", eps, POSITIVE)
    work = [p.astype(np.float64, copy=True) for p in _as_param_list("params", params)]
    grads = []
    for p in work:
        g = np.empty_like(p)
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)  # views: perturb in place, then restore
        for k in range(flat_p.size):
            old = flat_p[k]
            flat_p[k] = old + eps
            f_plus = _call_scalar(f, work)
            flat_p[k] = old - eps
            f_minus = _call_scalar(f, work)
            flat_p[k] = old
            flat_g[k] = (f_plus - f_minus) / (2.0 * eps)
        grads.append(g)
    return grads


def gradcheck(
    f: Callable[[list[np.ndarray]], float],
    params,
    grads,
    eps: float = 1e-5,
    tol: float = 1e-6,
    floor: float = 1e-2,
) -> GradCheckResult:
    """Compare analytic `grads` of `f` with central differences; report the worst entry.

    Relative error per entry: |a - n| / max(|a|, |n|, floor * G), with G the largest
    |derivative| over all entries, analytic or numeric (1 if all are 0). A central
    difference carries an absolute error of about 1e-16 |f| / eps + eps^2 |f'''| / 6, which
    is a large *relative* error on a derivative far smaller than the others; the floor
    judges such an entry by its absolute error on the scale of G instead, so the measure
    does not depend on how f is scaled. The check passes when the worst error is at most
    `tol`. With smooth float64 functions and eps = 1e-5 (about the optimal step
    (2^-52)^(1/3)) correct gradients score 1e-10 to 1e-8; a wrong term scores near 1. Kinks
    (ReLU at 0) within eps of a point break the finite difference, not the gradient: move
    the point.

    `params`: list of arrays (or one array); `grads`: the analytic gradients, same count and
    shapes. `f(params) -> float` is called with float64 copies (see `numerical_gradient`).
    """
    param_list = _as_param_list("params", params)
    grad_list = _as_param_list("grads", grads)
    if len(grad_list) != len(param_list):
        raise ValueError(
            f"grads must have one array per parameter: expected {len(param_list)}, "
            f"got {len(grad_list)}"
        )
    for i, (p, g) in enumerate(zip(param_list, grad_list, strict=True)):
        check_same_shape(f"params[{i}]", p, f"grads[{i}]", g)
    tol = check_interval("tol", tol, POSITIVE)
    floor = check_interval("floor", floor, POSITIVE)

    numeric = numerical_gradient(f, param_list, eps=eps)
    scale = max((float(np.max(np.abs(g))) for g in (*grad_list, *numeric) if g.size), default=0.0)
    abs_floor = floor * (scale if scale > 0 else 1.0)
    worst = (-1.0, 0, (), 0.0, 0.0)
    per_param = []
    for i, (a, n) in enumerate(zip(grad_list, numeric, strict=True)):
        if a.size == 0:
            per_param.append(0.0)
            continue
        err = relative_error(a, n, abs_floor).reshape(-1)
        k = int(np.argmax(err))
        idx = tuple(int(j) for j in np.unravel_index(k, a.shape))
        per_param.append(float(err[k]))
        if err[k] > worst[0]:
            worst = (float(err[k]), i, idx, float(a[idx]), float(n[idx]))
    rel, i, idx, a_val, n_val = worst
    rel = max(rel, 0.0)
    return GradCheckResult(
        ok=rel <= tol,
        rel_error=rel,
        worst_param=i,
        worst_index=idx,
        analytic=a_val,
        numeric=n_val,
        tol=tol,
        rel_errors=tuple(per_param),
        numeric_grads=tuple(numeric),
    )

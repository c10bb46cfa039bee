"""The notes' optimizers in NumPy: GD/SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, L2, L1
and the Adam -> SGD switch (catalog F1, F7-F17): the update rules and the optimizer classes.

NumPy only (imports `scratch.validation`); never torch. The 003 training loops (batch GD, the
delta rule, sub-gradient SGD) and the small problems behind the notes' claims (F2, F5, F18-F20)
live in `scratch.demonstrations`, which builds them from these rules. The formulas
are written as the notes write them (002 §4.3.4-4.3.5, §4.4.2; 003's GD/SGD/LMS slides; 001;
004), with the notes' symbols: `eps` is the learning rate (passed as `lr`), `mu` the momentum,
`eps0` the small constant that guards a division, `alpha` the accumulated squared gradient,
`m` the momentum / first moment.

Layout: an optimizer works on a list of parameter arrays `params` and a list `grads` of the
same shapes, in the same order (any shapes; the MLP of `scratch.mlp` passes
`[W1, b1, W2, b2, ...]`). Per-parameter state is a dict whose keys are torch's names where the
quantity is the same (`momentum_buffer`, `sum`, `square_avg`, `exp_avg`, `exp_avg_sq`,
`step`), so a parity test compares states entry by entry; each class says where the *value*
differs from torch's (e.g. the notes' momentum `m` is `-lr` times torch's buffer).

Style after torch/optim/adam.py: a pure update rule per algorithm (`*_update`, returns new
arrays, mutates nothing) and a thin class that holds the state and applies the rule to every
parameter in place (`step(params, grads)`). Hyper-parameters are validated with torch's words
first ("Invalid learning rate: -1.0"), then the valid range, whose declaration lives in
`scratch.validation`: by the classes' constructors and by every public update rule, which also
checks its arrays (same shapes, finite) as `step` does. The classes run the unchecked rules
(`_gd`, `_momentum`, ...) after checking once per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch.validation import (
    BETA,
    EPSILON,
    LEARNING_RATE,
    MOMENTUM,
    NONNEGATIVE_INT,
    PENALTY,
    WEIGHT_DECAY,
    check_array,
    check_count,
    check_hparam,
    check_interval,
    check_nesterov,
    check_param_lists,
    check_same_shape,
)
from scratch.validation import check_optimizer_hparam as _hp

__all__ = [
    "LR",
    "MOMENTUM",
    "BETA",
    "EPS0",
    "WEIGHT_DECAY",
    "L1",
    "check_hparam",
    "gd_update",
    "l2_update",
    "l1_update",
    "momentum_update",
    "nesterov_update",
    "adagrad_update",
    "rmsprop_update",
    "adam_update",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamThenSGD",
]

# ---- valid ranges: declared in scratch.validation; these names are kept for callers ------

LR = LEARNING_RATE
EPS0 = EPSILON
L1 = PENALTY
_MOVED = (  # the 003 loops and claims, now in scratch.demonstrations (see __getattr__)
    "gradient_descent", "minibatches", "linear_neuron_loss", "linear_neuron_loss_grad",
    "sgd_path", "delta_rule_online", "delta_rule_batch", "absolute_loss",
    "absolute_loss_subgradient", "subgradient_sgd", "quadratic_gd_closed_form",
    "gd_converges_on_quadratic", "heavy_ball_spectral_radius", "momentum_steady_state",
    "quartic_loss_grad", "iterate_until_divergence",
)


def __getattr__(name: str):
    # `scratch.optim.gradient_descent` & co. moved to scratch.demonstrations; old references
    # (the catalog's table, older tests) still resolve, without an import at load time.
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module("scratch.demonstrations"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_lists(params, grads) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """params and grads: lists of equal length, entry by entry the same shape (no broadcasting),
    finite gradients; the words are `torchref.optim`'s functional updates' too."""
    check_param_lists(params, grads)
    out_g = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{i}] must be a floating NumPy array (updated in place)")
        out_g.append(check_array(f"grads[{i}]", g))
    return list(params), out_g


def _check_rule(**arrays) -> list[np.ndarray]:
    """The arrays of one update rule (`w`, `dw`, state): floating, finite, all of w's shape."""
    (name0, a0), *rest = arrays.items()
    out = [check_array(name0, a0)]
    for name, a in rest:
        a = check_array(name, a)
        check_same_shape(name0, out[0], name, a)
        out.append(a)
    return out


# ---- update rules: one formula each, pure functions ---------------------------------------
# The public rule checks its arguments, then runs the bare formula (`_gd`, ...), which the
# classes call directly after checking their lists once per step.


def _gd(w, dw, lr, out=None):
    return np.subtract(w, lr * dw, out=out)


def gd_update(w: np.ndarray, dw: np.ndarray, *, lr: float, out=None) -> np.ndarray:
    """One gradient-descent step.

    Notes: `w_{i+1} = w_i - eps dL/dw` (002 §4.3.5); `W[l] = W[l] - alpha dW[l]` (001);
    `Theta <- Theta + Delta Theta`, `Delta Theta = -alpha dJ/dTheta` (004); the same rule with a
    (sub)gradient of one example or mini-batch is SGD, `w(t+1) = w(t) - eta g(t)` (002, F7).
    Catalog: F1 (001, 002 §4.3.5, 004), F3, F4, F7, F8.
    PyTorch: `torch.optim.SGD(lr=eps)` is this rule exactly.
    Shapes: w and dw the same shape (any); returns a new array of that shape, or writes it
    into `out` (which may be `w` itself: the in-place step the optimizer classes take, so a
    training step allocates no parameter-sized arrays).
    """
    w, dw = _check_rule(w=w, dw=dw)
    return _gd(w, dw, _hp("lr", lr), out)


def l2_update(w: np.ndarray, dw: np.ndarray, *, lr: float, lam: float) -> np.ndarray:
    """One GD step on `L + lambda/2 ||w||^2` ("weight decay").

    Notes: `w_{i+1} = w_i - eps (dL/dw + lambda w) = (1 - eps lambda) w - eps dL/dw`
    (002 §4.4.2); with `0 < eps lambda < 1` the factor shrinks w before the gradient step, but
    the step can still make |w| grow (the notes say "whatever the gradient").
    Catalog: F16 (002 §4.4.2).
    PyTorch: `torch.optim.SGD(lr=eps, weight_decay=lambda)` adds `lambda w` to the gradient: the
    same rule (and for Adam it is `Adam(weight_decay=...)`, not the decoupled `AdamW`).
    Shapes: w and dw the same shape; returns a new array.
    Erratum: docs/errata.md#f16
    """
    w, dw = _check_rule(w=w, dw=dw)
    lr = _hp("lr", lr)
    lam = check_hparam("Invalid weight_decay value", "lam", lam, WEIGHT_DECAY)
    return (1.0 - lr * lam) * w - lr * dw


def l1_update(w: np.ndarray, dw: np.ndarray, *, lr: float, lam: float) -> np.ndarray:
    """One GD step on `L + lambda sum_i |w_i|`.

    Notes: `w_{i+1} = w_i - eps (dL/dw + lambda sign(w))` (002 §4.4.2).
    Sub-gradient at w = 0: sign(0) = 0 (torch's `abs` backward uses the same choice).
    Catalog: F17 (002 §4.4.2).
    PyTorch: no optimizer option; add `lambda * p.abs().sum()` to the loss and let autograd
    differentiate it (identical update), or use `torchref.optim.NotesSGD(l1=lambda)`.
    Shapes: w and dw the same shape; returns a new array.
    """
    w, dw = _check_rule(w=w, dw=dw)
    lr = _hp("lr", lr)
    lam = check_hparam("Invalid l1 value", "lam", lam, L1)
    return w - lr * (dw + lam * np.sign(w))


def _momentum(w, dw, m, lr, mu, out=None):
    w_out, m_out = (None, None) if out is None else out
    m = np.subtract(mu * m, lr * dw, out=m_out)
    return np.add(w, m, out=w_out), m


def momentum_update(
    w: np.ndarray, dw: np.ndarray, m: np.ndarray, *, lr: float, mu: float, out=None
) -> tuple[np.ndarray, np.ndarray]:
    """One momentum step; returns `(w_{i+1}, m_{i+1})`.

    Notes: `m_{i+1} = mu m_i - eps dL/dw`, `w_{i+1} = w_i + m_{i+1}`, mu typically in
    [0.9, 0.99]; under a constant gradient the step tends to `eps/(1 - mu) dL/dw` (002 §4.3.5).
    Catalog: F9 (002 §4.3.5).
    PyTorch: `SGD(lr, momentum=mu)` keeps `v <- mu v + g`, `w <- w - lr v`. With a constant lr,
    `m = -lr v` and the two are the same; when lr changes mid-run they differ: the notes' `m`
    carries the old lr in its history, torch rescales the whole history by the new lr.
    Shapes: w, dw, m the same shape; returns new arrays, or writes them into
    `out = (w_out, m_out)` (may be `(w, m)` themselves: an in-place step).
    """
    w, dw, m = _check_rule(w=w, dw=dw, m=m)
    return _momentum(w, dw, m, _hp("lr", lr), _hp("mu", mu), out)


def nesterov_update(
    w: np.ndarray, dw_ahead: np.ndarray, m: np.ndarray, *, lr: float, mu: float, out=None
) -> tuple[np.ndarray, np.ndarray]:
    """One Nesterov step; `dw_ahead` is dL/dw evaluated at `w + mu m`. Returns `(w, m)`.

    Notes: `m_{i+1} = mu m_i - eps dL/dw (w_i + mu m_i)`,
    `w_{i+1} = w_i + m_{i+1} = (w_i + mu m_i) - eps dL/dw (w_i + mu m_i)` (002 §4.3.5).
    Catalog: F10 (002 §4.3.5).
    PyTorch: `SGD(lr, momentum=mu, nesterov=True)` is the Sutskever reformulation: its
    parameter is the look-ahead point `p = w + mu m` and its buffer `v = -m / lr`, so its
    iterates equal `w_i + mu m_i`, not `w_i` (same sequence of look-ahead points, constant lr).
    Shapes: w, dw_ahead, m the same shape; returns new arrays, or writes them into
    `out = (w_out, m_out)` as `momentum_update` does. The formula is `momentum_update`'s with
    the gradient taken at the look-ahead point, so both run `_momentum`.
    """
    w, dw_ahead, m = _check_rule(w=w, dw_ahead=dw_ahead, m=m)
    return _momentum(w, dw_ahead, m, _hp("lr", lr), _hp("mu", mu), out)


def _adagrad(w, dw, alpha, lr, eps0):
    alpha = alpha + dw * dw
    return w - lr / np.sqrt(alpha + eps0) * dw, alpha


def adagrad_update(
    w: np.ndarray, dw: np.ndarray, alpha: np.ndarray, *, lr: float, eps0: float
) -> tuple[np.ndarray, np.ndarray]:
    """One Adagrad step; `alpha` is the sum of squared gradients so far. Returns `(w, alpha)`.

    Notes: `w_{i+1} = w_i - eps_i dL/dw`, `eps_i = eps / sqrt(alpha_i + eps0)`,
    `alpha_i = sum_{j=1}^{i} (dL/dw_j)^2` (002 §4.3.5), element-wise.
    Catalog: F12 (002 §4.3.5).
    PyTorch: `Adagrad(lr, eps)` divides by `sqrt(sum) + eps` (eps outside the root). The notes'
    rule is nevertheless a built-in: `Adagrad(lr=eps, eps=0, initial_accumulator_value=eps0)`
    keeps `sum = eps0 + alpha_i` and divides by `sqrt(sum)` exactly.
    Shapes: w, dw, alpha the same shape; returns new arrays.
    """
    w, dw, alpha = _check_rule(w=w, dw=dw, alpha=alpha)
    return _adagrad(w, dw, alpha, _hp("lr", lr), _hp("eps0", eps0))


def _rmsprop(w, dw, alpha, lr, beta, eps0):
    alpha = beta * alpha + (1.0 - beta) * (dw * dw)
    return w - lr / np.sqrt(alpha + eps0) * dw, alpha


def rmsprop_update(
    w: np.ndarray, dw: np.ndarray, alpha: np.ndarray, *, lr: float, beta: float, eps0: float
) -> tuple[np.ndarray, np.ndarray]:
    """One RMSprop step; `alpha` is the moving average of squared gradients. Returns `(w, alpha)`.

    Notes: `w_{i+1} = w_i - eps_i dL/dw`, `eps_i = eps / sqrt(alpha_i + eps0)`,
    `alpha_i = beta alpha_{i-1} + (1 - beta) (dL/dw)^2` (002 §4.3.5), alpha_0 = 0.
    Catalog: F13 (002 §4.3.5).
    PyTorch: `RMSprop(lr, alpha=beta, eps)` divides by `sqrt(square_avg) + eps`: eps outside
    the root, and no initial value that could move it inside, so no exact mapping exists
    (`torchref.optim.NotesRMSprop` is this rule).
    Shapes: w, dw, alpha the same shape; returns new arrays.
    """
    w, dw, alpha = _check_rule(w=w, dw=dw, alpha=alpha)
    beta = _hp("beta", beta)
    return _rmsprop(w, dw, alpha, _hp("lr", lr), beta, _hp("eps0", eps0))


def _adam(w, dw, m, alpha, i, lr, beta1, beta2, eps0):
    alpha = beta1 * alpha + (1.0 - beta1) * (dw * dw)
    m = beta2 * m + (1.0 - beta2) * dw
    alpha_hat = alpha / (1.0 - beta1**i)
    m_hat = m / (1.0 - beta2**i)
    return w - lr / np.sqrt(alpha_hat + eps0) * m_hat, m, alpha


def adam_update(
    w: np.ndarray,
    dw: np.ndarray,
    m: np.ndarray,
    alpha: np.ndarray,
    i: int,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps0: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step as 002 writes it (step `i` counts from 1). Returns `(w, m, alpha)`.

    Notes (002 §4.3.5, "Adam"), with ITS naming (beta1 decays the squared gradient, beta2 the
    gradient):
      `alpha_i = beta1 alpha_{i-1} + (1 - beta1) (dL/dw)^2`,
      `m_i = beta2 m_{i-1} + (1 - beta2) dL/dw`
      `alpha_hat_i = alpha_i / (1 - beta1^i)`,  `m_hat_i = m_i / (1 - beta2^i)`
      `w_{i+1} = w_i - eps / sqrt(alpha_hat_i + eps0) * m_hat_i`
    Catalog: F14 (002 §4.3.5).
    PyTorch: `Adam(lr=eps, betas=(beta2, beta1), eps)` (torch's betas[0] decays the gradient:
    the names are swapped) divides by `sqrt(v_hat) + eps`: eps outside the root. The two agree
    only when eps0 = eps = 0; `torchref.optim.NotesAdam` is this rule.
    Overflow: a gradient entry above sqrt(float max) (1e154 in float64, 1e19 in float32)
    squares to inf, so alpha = inf and that entry's step is 0, then and at every later step
    (alpha only decays by beta1). `torch.optim.Adam` and `NotesAdam` do the same (measured:
    a 1e200 gradient leaves the parameter where it was in both); keeping alpha finite would
    need a rescaled state that no longer equals torch's `exp_avg_sq`. Scale the loss instead.
    Shapes: w, dw, m, alpha the same shape; returns new arrays.
    """
    w, dw, m, alpha = _check_rule(w=w, dw=dw, m=m, alpha=alpha)
    i = check_count("i", i)
    beta1, beta2 = _hp("beta1", beta1), _hp("beta2", beta2)
    return _adam(w, dw, m, alpha, i, _hp("lr", lr), beta1, beta2, _hp("eps0", eps0))


# ---- optimizers: thin classes over the rules ----------------------------------------------


def _check_fields(opt, *names: str) -> None:
    """Validate (and normalize) the named hyper-parameter fields of a dataclass optimizer."""
    for name in names:
        setattr(opt, name, _hp(name, getattr(opt, name)))


class _Optimizer:
    """Holds per-parameter state (a list of dicts, torch's key names) for one parameter list."""

    state: list[dict]

    def _ensure_state(self, params: list[np.ndarray]) -> None:
        if not self.state:
            self.state = [self._init_state(p) for p in params]
        elif len(self.state) != len(params):
            raise ValueError(
                f"this optimizer holds state for {len(self.state)} parameter(s), "
                f"got {len(params)}"
            )

    def _init_state(self, p: np.ndarray) -> dict:
        return {"step": 0}

    def grad_point(self, params: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Where the caller must evaluate dL/dw before `step`: `w` itself (Nesterov: w + mu m)."""
        return [np.array(p, copy=True) for p in params]


@dataclass
class SGD(_Optimizer):
    """The notes' GD / SGD with optional momentum, Nesterov, L2 weight decay and L1.

    Per step, with `g` the gradient the caller evaluated at `grad_point(params)`:
      regularized gradient  `g <- g + weight_decay * w' + l1 * sign(w')`  (F16, F17; `w'` is
      the point the loss gradient was taken at: `w`, or `w + mu m` for Nesterov)
      momentum = 0:         `w <- w - lr g`                                  (F1, F7, F8)
      momentum = mu:        `m <- mu m - lr g`, `w <- w + m`                 (F9)
      Nesterov:             same, with g taken at `w + mu m`                 (F10)
    Catalog: F1, F7, F8, F9, F10, F16, F17 (002 §4.3.5, §4.4.2).
    State per parameter: `momentum_buffer` = the notes' `m` (torch's buffer is `-m / lr`),
    present only when momentum > 0 (as in torch). PyTorch: `torchref.optim.NotesSGD` is this
    class; `torch.optim.SGD` equals it when lr is constant and l1 = 0 (Nesterov: up to the
    change of variables `p = w + mu m`).
    Usage: `g = grads_at(opt.grad_point(params)); opt.step(params, g)`.
    """

    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    l1: float = 0.0
    state: list[dict] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        _check_fields(self, "lr", "momentum", "weight_decay", "l1")
        self.nesterov = check_nesterov(self.nesterov, self.momentum)

    def _init_state(self, p):
        # as torch.optim.SGD: a buffer only when there is momentum, and no step counter
        return {"momentum_buffer": np.zeros_like(p)} if self.momentum else {}

    def grad_point(self, params):
        params = list(params)
        if not self.nesterov:
            return super().grad_point(params)
        self._ensure_state(params)
        # the notes' look-ahead: the gradient is taken where momentum alone would carry w
        mu = self.momentum
        return [p + mu * s["momentum_buffer"] for p, s in zip(params, self.state, strict=True)]

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same order and shapes)."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        # Without Nesterov the gradient point is w itself, read before w is overwritten: no
        # copy. Updates are written in place (`out=`): copies of every parameter per step
        # cost page faults that made this step 2x slower than torch's (docs/performance.md).
        points = self.grad_point(params) if self.nesterov else params
        for p, g, w_at, s in zip(params, grads, points, self.state, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * w_at
            if self.l1:
                g = g + self.l1 * np.sign(w_at)
            if self.momentum == 0.0:
                _gd(p, g, self.lr, out=p)
            else:  # momentum and Nesterov: one formula, g taken at w or at w + mu m
                m = s["momentum_buffer"]
                _momentum(p, g, m, self.lr, self.momentum, out=(p, m))


@dataclass
class Adagrad(_Optimizer):
    """The notes' Adagrad: `w <- w - eps / sqrt(alpha + eps0) g`, `alpha <- alpha + g^2`.

    Catalog: F12 (002 §4.3.5). State: `sum` = the notes' alpha_i (torch's `sum` under the
    mapping `Adagrad(eps=0, initial_accumulator_value=eps0)` is `alpha_i + eps0`), `step`.
    `weight_decay` adds `lambda w` to g first (L2, as torch does).
    """

    lr: float = 1e-2
    eps0: float = 1e-10
    weight_decay: float = 0.0
    state: list[dict] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        _check_fields(self, "lr", "eps0", "weight_decay")

    def _init_state(self, p):
        return {"step": 0, "sum": np.zeros_like(p)}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same order and shapes)."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        for p, g, s in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p
            p[...], s["sum"] = _adagrad(p, g, s["sum"], self.lr, self.eps0)
            s["step"] += 1


@dataclass
class RMSprop(_Optimizer):
    """The notes' RMSprop: `alpha <- beta alpha + (1-beta) g^2`, `w <- w - eps/sqrt(alpha+eps0) g`.

    Catalog: F13 (002 §4.3.5). State: `square_avg` = the notes' alpha_i (same quantity as
    torch's `square_avg`), `step`. `weight_decay` adds `lambda w` to g first (L2).
    """

    lr: float = 1e-2
    beta: float = 0.99
    eps0: float = 1e-8
    weight_decay: float = 0.0
    state: list[dict] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        _check_fields(self, "lr", "beta", "eps0", "weight_decay")

    def _init_state(self, p):
        return {"step": 0, "square_avg": np.zeros_like(p)}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same order and shapes)."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        for p, g, s in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p
            p[...], s["square_avg"] = _rmsprop(
                p, g, s["square_avg"], self.lr, self.beta, self.eps0
            )
            s["step"] += 1


@dataclass
class Adam(_Optimizer):
    """The notes' Adam (002's naming: `betas = (beta1, beta2)`, beta1 decays g^2, beta2 decays g).

    Catalog: F14 (002 §4.3.5). Defaults equal torch's defaults under the renaming:
    beta1 = 0.999 (torch's betas[1]), beta2 = 0.9 (torch's betas[0]). The "typical numbers" the
    notes print (beta1 = 0.9, beta2 = 0.99) are discussed in docs/errata.md (F14).
    State: `exp_avg` = m_i, `exp_avg_sq` = alpha_i (the same quantities as torch's), `step`.
    `weight_decay` adds `lambda w` to g first (L2, torch's `Adam(weight_decay)`, not AdamW).
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.999, 0.9)
    eps0: float = 1e-8
    weight_decay: float = 0.0
    state: list[dict] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        _check_fields(self, "lr", "eps0", "betas", "weight_decay")

    def _init_state(self, p):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same order and shapes)."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        beta1, beta2 = self.betas
        for p, g, s in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p
            s["step"] += 1
            p[...], s["exp_avg"], s["exp_avg_sq"] = _adam(
                p, g, s["exp_avg"], s["exp_avg_sq"], s["step"],
                self.lr, beta1, beta2, self.eps0,
            )


@dataclass
class AdamThenSGD(_Optimizer):
    """Start with the notes' Adam, switch to the notes' momentum SGD when a criterion holds.

    Notes (002 §4.3.5, end of "Adam"): "one can start with Adam and switch to SGD when certain
    criteria hold", keeping Adam's fast start and SGD-with-momentum's better generalization.
    The criterion here is a step count (`switch_step`: the first `switch_step` steps are Adam
    steps); `switch_to_sgd()` switches at once, for any other criterion the caller evaluates
    (e.g. a plateau of the validation loss). At the switch, the lr becomes `sgd_lr` and the
    momentum buffer is created, at zero; Adam's moments are kept (unused) in the state.
    Catalog: F15 (002 §4.3.5). PyTorch: `torchref.optim.AdamThenSGD`; the built-in way is two
    optimizers (`Adam`, then `SGD(momentum)`) swapped by hand.
    State: `exp_avg`, `exp_avg_sq`, `step` (Adam phase), `momentum_buffer` (SGD phase).
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.999, 0.9)
    eps0: float = 1e-8
    switch_step: int = 1000
    sgd_lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    phase: str = "adam"
    state: list[dict] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._adam = Adam(self.lr, self.betas, self.eps0, self.weight_decay)
        _check_fields(self, "sgd_lr")
        self._sgd = SGD(self.sgd_lr, self.momentum, weight_decay=self.weight_decay)
        self.switch_step = check_interval("switch_step", self.switch_step, NONNEGATIVE_INT)
        if self.phase not in ("adam", "sgd"):
            raise ValueError(f"phase must be 'adam' or 'sgd', got {self.phase!r}")
        self.lr = self._adam.lr

    def _init_state(self, p):
        return self._adam._init_state(p)

    def switch_to_sgd(self) -> None:
        """Make every later step a momentum-SGD step with lr `sgd_lr`."""
        if self.phase == "adam":
            self.phase = "sgd"
            self.lr = self._sgd.lr

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One step of the current phase; switches first if `switch_step` steps are done."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        if self.phase == "adam" and self.state[0]["step"] >= self.switch_step:
            self.switch_to_sgd()
        if self.phase == "adam":
            self._adam.lr = self.lr
            self._adam.state = self.state
            self._adam.step(params, grads)
        else:
            for s in self.state:  # the buffer starts at zero at the switch, as torch's
                s.setdefault("momentum_buffer", np.zeros_like(s["exp_avg"]))
            self._sgd.lr = self.lr
            self._sgd.state = self.state
            self._sgd.step(params, grads)
            for s in self.state:
                s["step"] += 1



"""The notes' optimizers in NumPy: GD/SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, L2, L1,
the Adam -> SGD switch, and the small problems behind the notes' claims (catalog F1-F20).

NumPy only (imports `scratch.validation`, `scratch.activations`); never torch. The formulas
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
parameter in place (`step(params, grads)`). Hyper-parameters are validated in the constructor
with torch's words first ("Invalid learning rate: -1.0"), then the valid range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch.activations import sigmoid
from scratch.validation import Interval, check_array, check_interval, check_same_shape

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
    "gradient_descent",
    "minibatches",
    "linear_neuron_loss",
    "linear_neuron_loss_grad",
    "sgd_path",
    "delta_rule_online",
    "delta_rule_batch",
    "absolute_loss",
    "absolute_loss_subgradient",
    "subgradient_sgd",
    "quadratic_gd_closed_form",
    "gd_converges_on_quadratic",
    "heavy_ball_spectral_radius",
    "momentum_steady_state",
    "quartic_loss_grad",
    "iterate_until_divergence",
]

# ---- valid ranges, declared once (messages and docs read them) ---------------------------

LR = Interval(0.0, math.inf, "left")
MOMENTUM = Interval(0.0, 1.0, "left")  # 002: "mu typically in [0.9, 0.99]"; mu >= 1 never decays
BETA = Interval(0.0, 1.0, "left")
EPS0 = Interval(0.0, math.inf, "neither")  # inside a sqrt that may see alpha = 0: must be > 0
WEIGHT_DECAY = Interval(0.0, math.inf, "left")
L1 = Interval(0.0, math.inf, "left")


def check_hparam(words: str, name: str, value, interval: Interval) -> float:
    """Return `value` as a float in `interval`, or raise with torch's words, then ours.

    `check_hparam("Invalid learning rate", "lr", -1.0, LR)` raises
    `ValueError("Invalid learning rate: -1.0; lr must be in [0, inf)")`, so a test's
    `match="Invalid learning rate: -1.0"` holds for torch.optim and for this module alike.
    Non-finite values (nan, inf) are rejected too (torch accepts lr=inf; we do not).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a real number in {interval}, got {value!r}")
    try:
        return check_interval(name, value, interval)
    except ValueError:
        raise ValueError(f"{words}: {value}; {name} must be in {interval}") from None


def _check_betas(betas) -> tuple[float, float]:
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return tuple(
        check_hparam(f"Invalid beta parameter at index {i}", f"betas[{i}]", b, BETA)
        for i, b in enumerate(betas)
    )


def _check_lists(params, grads) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """params and grads: lists of equal length, entry by entry the same shape (no broadcasting)."""
    for name, seq in (("params", params), ("grads", grads)):
        if isinstance(seq, np.ndarray) or not isinstance(seq, Sequence):
            raise TypeError(f"{name} must be a list of arrays, got {type(seq).__name__}")
    if len(params) != len(grads):
        raise ValueError(
            f"params and grads must have the same length, got {len(params)} and {len(grads)}"
        )
    out_g = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{i}] must be a floating NumPy array (updated in place)")
        g = check_array(f"grads[{i}]", g)
        check_same_shape(f"params[{i}]", p, f"grads[{i}]", g)
        out_g.append(g)
    return list(params), out_g


# ---- update rules: one formula each, pure functions ---------------------------------------


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
    return np.subtract(w, lr * dw, out=out)


def l2_update(w: np.ndarray, dw: np.ndarray, *, lr: float, lam: float) -> np.ndarray:
    """One GD step on `L + lambda/2 ||w||^2` ("weight decay").

    Notes: `w_{i+1} = w_i - eps (dL/dw + lambda w) = (1 - eps lambda) w - eps dL/dw`
    (002 §4.4.2); with `0 < eps lambda < 1` the weight shrinks every step whatever the gradient.
    Catalog: F16 (002 §4.4.2).
    PyTorch: `torch.optim.SGD(lr=eps, weight_decay=lambda)` adds `lambda w` to the gradient: the
    same rule (and for Adam it is `Adam(weight_decay=...)`, not the decoupled `AdamW`).
    Shapes: w and dw the same shape; returns a new array.
    """
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
    return w - lr * (dw + lam * np.sign(w))


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
    w_out, m_out = (None, None) if out is None else out
    m = np.subtract(mu * m, lr * dw, out=m_out)
    return np.add(w, m, out=w_out), m


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
    `out = (w_out, m_out)` as `momentum_update` does.
    """
    w_out, m_out = (None, None) if out is None else out
    m = np.subtract(mu * m, lr * dw_ahead, out=m_out)
    return np.add(w, m, out=w_out), m


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
    alpha = alpha + dw * dw
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
    alpha = beta * alpha + (1.0 - beta) * (dw * dw)
    return w - lr / np.sqrt(alpha + eps0) * dw, alpha


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
    Shapes: w, dw, m, alpha the same shape; returns new arrays.
    """
    alpha = beta1 * alpha + (1.0 - beta1) * (dw * dw)
    m = beta2 * m + (1.0 - beta2) * dw
    alpha_hat = alpha / (1.0 - beta1**i)
    m_hat = m / (1.0 - beta2**i)
    return w - lr / np.sqrt(alpha_hat + eps0) * m_hat, m, alpha


# ---- optimizers: thin classes over the rules ----------------------------------------------


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
        self.lr = check_hparam("Invalid learning rate", "lr", self.lr, LR)
        self.momentum = check_hparam("Invalid momentum value", "momentum", self.momentum, MOMENTUM)
        self.weight_decay = check_hparam(
            "Invalid weight_decay value", "weight_decay", self.weight_decay, WEIGHT_DECAY
        )
        self.l1 = check_hparam("Invalid l1 value", "l1", self.l1, L1)
        if self.nesterov and self.momentum <= 0:
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening; "
                f"nesterov=True needs momentum in (0, 1), got momentum={self.momentum}"
            )

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
                gd_update(p, g, lr=self.lr, out=p)
            else:
                rule = nesterov_update if self.nesterov else momentum_update
                m = s["momentum_buffer"]
                rule(p, g, m, lr=self.lr, mu=self.momentum, out=(p, m))


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
        self.lr = check_hparam("Invalid learning rate", "lr", self.lr, LR)
        self.eps0 = check_hparam("Invalid epsilon value", "eps0", self.eps0, EPS0)
        self.weight_decay = check_hparam(
            "Invalid weight_decay value", "weight_decay", self.weight_decay, WEIGHT_DECAY
        )

    def _init_state(self, p):
        return {"step": 0, "sum": np.zeros_like(p)}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same order and shapes)."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        for p, g, s in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p
            p[...], s["sum"] = adagrad_update(p, g, s["sum"], lr=self.lr, eps0=self.eps0)
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
        self.lr = check_hparam("Invalid learning rate", "lr", self.lr, LR)
        self.beta = check_hparam("Invalid beta value", "beta", self.beta, BETA)
        self.eps0 = check_hparam("Invalid epsilon value", "eps0", self.eps0, EPS0)
        self.weight_decay = check_hparam(
            "Invalid weight_decay value", "weight_decay", self.weight_decay, WEIGHT_DECAY
        )

    def _init_state(self, p):
        return {"step": 0, "square_avg": np.zeros_like(p)}

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same order and shapes)."""
        params, grads = _check_lists(params, grads)
        self._ensure_state(params)
        for p, g, s in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p
            p[...], s["square_avg"] = rmsprop_update(
                p, g, s["square_avg"], lr=self.lr, beta=self.beta, eps0=self.eps0
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
        self.lr = check_hparam("Invalid learning rate", "lr", self.lr, LR)
        self.eps0 = check_hparam("Invalid epsilon value", "eps0", self.eps0, EPS0)
        self.betas = _check_betas(self.betas)
        self.weight_decay = check_hparam(
            "Invalid weight_decay value", "weight_decay", self.weight_decay, WEIGHT_DECAY
        )

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
            p[...], s["exp_avg"], s["exp_avg_sq"] = adam_update(
                p, g, s["exp_avg"], s["exp_avg_sq"], s["step"],
                lr=self.lr, beta1=beta1, beta2=beta2, eps0=self.eps0,
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
        self.sgd_lr = check_hparam("Invalid learning rate", "sgd_lr", self.sgd_lr, LR)
        self._sgd = SGD(self.sgd_lr, self.momentum, weight_decay=self.weight_decay)
        if isinstance(self.switch_step, bool) or not isinstance(self.switch_step, int | np.integer):
            raise TypeError(f"switch_step must be an int >= 0, got {self.switch_step!r}")
        if self.switch_step < 0:
            raise ValueError(f"switch_step must be an int >= 0, got {self.switch_step}")
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
    Catalog: F2, F18 (003). PyTorch: `torch.optim.SGD(lr)` stepped once per epoch on the full batch.
    Shapes: w0 (d,) or any shape; `loss_and_grad(w) -> (float, array like w)`.
    Returns `(path, losses)`: path (E+1, *w.shape) with w0 first; losses (E+1,) at each point.
    """
    lr = check_hparam("Invalid learning rate", "lr", lr, LR)
    tol = check_interval("tol", tol, Interval(0.0, math.inf, "left"))
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs must be an int >= 1, got {max_epochs!r}")
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
    for name, v in (("n", n), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
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
    return float(0.5 * np.mean(r * r))


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
    lr = check_hparam("Invalid learning rate", "lr", lr, LR)
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
    if unit not in ("linear", "threshold", "sigmoid"):
        raise ValueError(
            f"unknown unit {unit!r}; valid choices: 'linear', 'threshold', 'sigmoid'"
        )
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
    """
    y = X @ w  # (m,)
    return w + lr / X.shape[0] * (X.T @ (t - y))


# ---- sub-gradient SGD (F7) ----------------------------------------------------------------


def absolute_loss(w, x, y) -> float:
    """`l(w, (x, y)) = |w . x - y|`, a loss with a kink, for sub-gradient SGD (F7).

    Shapes: w (d,), x (d,), y scalar.
    """
    return float(abs(x @ w - y))


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

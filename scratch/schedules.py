"""Learning-rate schedules of the notes in NumPy: step decay, exponential, 1/t, warm-up (F11, F15).

NumPy only (imports `scratch.validation`); never torch. Each schedule is a pure function of
the step (or epoch) index `t = 0, 1, 2, ...` returning the learning rate for that step, written
in closed form as 002 §4.3.5 ("learning rate decay") writes it; `eps0` here is the INITIAL
learning rate (002's symbol in this paragraph; Adagrad's `eps0` is another quantity).
A float32 `eps0` gives float32 rates (scratch keeps the input dtype in what it returns).
`torchref.schedules` builds the matching `torch.optim.lr_scheduler` objects; after `t` calls of
`scheduler.step()` their lr equals `schedule(t)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from scratch.validation import (
    DECAY_FACTOR,
    NONNEGATIVE,
    NONNEGATIVE_INT,
    check_count,
    check_interval,
    scalar_like,
)

__all__ = [
    "step_decay",
    "halve_every_5",
    "tenth_every_20",
    "exponential_decay",
    "inverse_time_decay",
    "linear_warmup",
    "warmup_then",
    "lr_sequence",
    "SCHEDULES",
]

def _check_t(t) -> int:
    return check_interval("t", t, NONNEGATIVE_INT)  # a step or epoch index


def step_decay(t: int, eps0: float, step_size: int, gamma: float) -> float:
    """Step decay: `eps = eps0 * gamma^(floor(t / step_size))`.

    Notes (002 §4.3.5, "learning rate decay", a.): change the lr every few epochs; "typical
    numbers are halving every 5 epochs or dividing by 10 every 20 epochs" (`halve_every_5`,
    `tenth_every_20`). Catalog: F11 (002 §4.3.5).
    PyTorch: `StepLR(step_size, gamma)`.
    """
    t = _check_t(t)
    eps0, like = check_interval("eps0", eps0, NONNEGATIVE), eps0
    step_size = check_count("step_size", step_size)
    gamma = check_interval("gamma", gamma, DECAY_FACTOR)
    return scalar_like(eps0 * gamma ** (t // step_size), like)


def halve_every_5(t: int, eps0: float) -> float:
    """002's first typical step decay: halve the lr every 5 epochs (`StepLR(5, 0.5)`).

    Catalog: F11.
    """
    return step_decay(t, eps0, 5, 0.5)


def tenth_every_20(t: int, eps0: float) -> float:
    """002's second typical step decay: divide the lr by 10 every 20 epochs (`StepLR(20, 0.1)`).

    Catalog: F11.
    """
    return step_decay(t, eps0, 20, 0.1)


def exponential_decay(t: int, eps0: float, k: float) -> float:
    """Exponential decay: `eps = eps0 * e^{-k t}`, t a step or an epoch.

    Notes (002 §4.3.5, b.). Catalog: F11.
    PyTorch: `ExponentialLR(gamma=e^{-k})`, which multiplies the lr by gamma at every step:
    the same sequence up to rounding (one multiplication per step).
    """
    t = _check_t(t)
    eps0, like = check_interval("eps0", eps0, NONNEGATIVE), eps0
    k = check_interval("k", k, NONNEGATIVE)
    return scalar_like(eps0 * math.exp(-k * t), like)


def inverse_time_decay(t: int, eps0: float, k: float) -> float:
    """1/t decay: `eps = eps0 / (1 + k t)`, t the update step.

    Notes (002 §4.3.5, c.). Catalog: F11.
    PyTorch: no dedicated class; `LambdaLR(lambda t: 1 / (1 + k t))`
    (`torchref.schedules.InverseTimeDecay` is that lambda as a picklable object).
    """
    t = _check_t(t)
    eps0, like = check_interval("eps0", eps0, NONNEGATIVE), eps0
    k = check_interval("k", k, NONNEGATIVE)
    return scalar_like(eps0 / (1.0 + k * t), like)


def linear_warmup(t: int, eps0: float, warmup_steps: int, start_factor: float = 0.1) -> float:
    """Linear warm-up: from `start_factor * eps0` up to `eps0` over `warmup_steps`, then eps0.

    `eps = eps0 * (f + (1 - f) * min(t, T) / T)` with f = start_factor, T = warmup_steps.
    Notes (002 §4.3.5, end of "Adam"): "start training at a low rate and, once the model has
    overcome the initial instability, raise the rate (learning-rate warm-up)". The notes give no
    shape; linear is the common one. Catalog: F15 (002 §4.3.5).
    PyTorch: `LinearLR(start_factor=f, end_factor=1.0, total_iters=T)`.
    """
    t = _check_t(t)
    eps0, like = check_interval("eps0", eps0, NONNEGATIVE), eps0
    T = check_count("warmup_steps", warmup_steps)
    f = check_interval("start_factor", start_factor, DECAY_FACTOR)
    return scalar_like(eps0 * (f + (1.0 - f) * min(t, T) / T), like)


def warmup_then(
    t: int,
    eps0: float,
    warmup_steps: int,
    decay: Callable[..., float],
    start_factor: float = 0.1,
    **decay_hparams,
) -> float:
    """Warm-up for `warmup_steps`, then `decay(t - warmup_steps, eps0, **decay_hparams)`.

    The decay restarts its clock at the end of the warm-up, as `SequentialLR` does.
    Catalog: F11, F15. PyTorch: `SequentialLR([LinearLR(...), <decay>], milestones=[T])`.
    """
    t = _check_t(t)
    T = check_count("warmup_steps", warmup_steps)
    if t < T:
        return linear_warmup(t, eps0, T, start_factor)
    return decay(t - T, eps0, **decay_hparams)


def lr_sequence(schedule: Callable[..., float], n: int, eps0: float, **hparams) -> np.ndarray:
    """The first `n` learning rates `schedule(t, eps0, **hparams)`, t = 0..n-1, shape (n,)."""
    n = check_count("n", n)
    return np.array([schedule(t, eps0, **hparams) for t in range(n)])


# Names shared with torchref.schedules.SCHEDULERS, so a test pairs them by name.
SCHEDULES: dict[str, Callable[..., float]] = {
    "step": step_decay,
    "halve_every_5": halve_every_5,
    "tenth_every_20": tenth_every_20,
    "exponential": exponential_decay,
    "inverse_time": inverse_time_decay,
    "warmup": linear_warmup,
    "warmup_exponential": partial(warmup_then, decay=exponential_decay),
    "warmup_inverse_time": partial(warmup_then, decay=inverse_time_decay),
}

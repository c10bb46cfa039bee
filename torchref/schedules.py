"""The notes' learning-rate schedules as torch.optim.lr_scheduler objects (catalog F11, F15).

Imports torch and `scratch.validation` only. Each name of `SCHEDULERS` matches a closed form of
`scratch.schedules.SCHEDULES`; after `t` calls of `scheduler.step()` the optimizer's lr equals
`scratch.schedules.SCHEDULES[name](t, base_lr, **hparams)` (parity_tests/test_schedules.py,
float64 to rtol 1e-10 over 300 steps). `t` counts whatever the caller steps the scheduler
on: epochs or updates (Lightning: `"interval": "epoch"` or `"step"`).

  name                  torch                                              002 §4.3.5
  step                  StepLR(step_size, gamma)                           a. every few epochs
  halve_every_5         StepLR(5, 0.5)                                     a. "halve every 5"
  tenth_every_20        StepLR(20, 0.1)                                    a. "/10 every 20"
  exponential           ExponentialLR(gamma = e^{-k})                      b. eps0 e^{-kt}
  inverse_time          LambdaLR(InverseTimeDecay(k))                      c. eps0 / (1 + kt)
  warmup                LinearLR(start_factor, 1, total_iters)             warm-up (F15)
  warmup_exponential    SequentialLR([LinearLR, ExponentialLR], [T])       warm-up, then b.
  warmup_inverse_time   SequentialLR([LinearLR, LambdaLR], [T])            warm-up, then c.

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: F11 -> torch.optim.lr_scheduler:StepLR, torch.optim.lr_scheduler:ExponentialLR
Catalog: F11 -> torch.optim.lr_scheduler:LambdaLR
Catalog: F15 -> torch.optim.lr_scheduler:LinearLR, torch.optim.lr_scheduler:SequentialLR
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
    StepLR,
)

from scratch.validation import DECAY_FACTOR, NONNEGATIVE, Choice, check_count, check_interval

__all__ = [
    "InverseTimeDecay",
    "step_lr",
    "exponential_lr",
    "inverse_time_lr",
    "warmup_lr",
    "warmup_then",
    "SCHEDULERS",
    "make_scheduler",
]

@dataclass
class InverseTimeDecay:
    """`t -> 1 / (1 + k t)`, the LambdaLR factor of 002's 1/t decay.

    An object rather than a lambda so `LambdaLR.state_dict()` saves `k` (it skips plain
    functions) and Lightning checkpoints can be pickled.
    Catalog: F11.
    """

    k: float

    def __call__(self, t: int) -> float:
        return 1.0 / (1.0 + self.k * t)


def step_lr(optimizer: Optimizer, step_size: int, gamma: float) -> StepLR:
    """Step decay `eps0 * gamma^(t // step_size)` (002 §4.3.5 a.). Catalog: F11."""
    step_size = check_count("step_size", step_size)
    gamma = check_interval("gamma", gamma, DECAY_FACTOR)
    return StepLR(optimizer, step_size=step_size, gamma=gamma)


def exponential_lr(optimizer: Optimizer, k: float) -> ExponentialLR:
    """Exponential decay `eps0 e^{-k t}` as `ExponentialLR(gamma=e^{-k})` (002 §4.3.5 b.).

    Catalog: F11.
    """
    k = check_interval("k", k, NONNEGATIVE)
    return ExponentialLR(optimizer, gamma=math.exp(-k))


def inverse_time_lr(optimizer: Optimizer, k: float) -> LambdaLR:
    """1/t decay `eps0 / (1 + k t)` as `LambdaLR(InverseTimeDecay(k))` (002 §4.3.5 c.).

    Catalog: F11.
    """
    k = check_interval("k", k, NONNEGATIVE)
    return LambdaLR(optimizer, InverseTimeDecay(k))


def warmup_lr(optimizer: Optimizer, warmup_steps: int, start_factor: float = 0.1) -> LinearLR:
    """Linear warm-up from `start_factor * eps0` to eps0 in `warmup_steps` (002 §4.3.5).

    Catalog: F15.
    """
    warmup_steps = check_count("warmup_steps", warmup_steps)
    start_factor = check_interval("start_factor", start_factor, DECAY_FACTOR)
    return LinearLR(
        optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps
    )


def warmup_then(
    optimizer: Optimizer,
    warmup_steps: int,
    then: Callable[..., LRScheduler],
    start_factor: float = 0.1,
    **then_hparams,
) -> SequentialLR:
    """Warm-up for `warmup_steps`, then `then(optimizer, **then_hparams)` from its own t = 0.

    Catalog: F11, F15.
    """
    warm = warmup_lr(optimizer, warmup_steps, start_factor)
    decay = then(optimizer, **then_hparams)
    return SequentialLR(optimizer, [warm, decay], milestones=[warm.total_iters])


def _fixed_step(step_size: int, gamma: float):
    def build(optimizer: Optimizer) -> StepLR:
        return step_lr(optimizer, step_size, gamma)

    build.__doc__ = f"StepLR({step_size}, {gamma}): 002's typical step decay (F11)."
    return build


SCHEDULERS: dict[str, Callable[..., LRScheduler]] = {
    "step": step_lr,
    "halve_every_5": _fixed_step(5, 0.5),
    "tenth_every_20": _fixed_step(20, 0.1),
    "exponential": exponential_lr,
    "inverse_time": inverse_time_lr,
    "warmup": warmup_lr,
    "warmup_exponential": lambda optimizer, warmup_steps, k, start_factor=0.1: warmup_then(
        optimizer, warmup_steps, exponential_lr, start_factor, k=k
    ),
    "warmup_inverse_time": lambda optimizer, warmup_steps, k, start_factor=0.1: warmup_then(
        optimizer, warmup_steps, inverse_time_lr, start_factor, k=k
    ),
}
_NAMES = Choice(tuple(SCHEDULERS))


def make_scheduler(name: str, optimizer: Optimizer, **hparams) -> LRScheduler:
    """Build `SCHEDULERS[name](optimizer, **hparams)`; an unknown name or hyper-parameter is a
    ValueError listing the valid ones. E.g. `make_scheduler("exponential", opt, k=0.05)`,
    `make_scheduler("warmup_inverse_time", opt, warmup_steps=5, k=0.1)`."""
    _NAMES.check("scheduler", name)
    factory = SCHEDULERS[name]
    valid = [p for p in inspect.signature(factory).parameters if p != "optimizer"]
    unknown = sorted(set(hparams) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown hyper-parameter(s) {', '.join(map(repr, unknown))} for scheduler "
            f"{name!r}; valid: {', '.join(valid)}"
        )
    return factory(optimizer, **hparams)

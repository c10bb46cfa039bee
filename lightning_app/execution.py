"""How many optimizer steps one Lightning step runs (`steps_per_execution`, as in Keras).

Imports Lightning and, of the app, its error type and profiler.

Lightning spends about 0.6-0.8 ms of its own per training step (hooks, closure, progress
tracking; `python -m benchmarks --only lightning`, the 1-parameter row), as much as a whole
step of the digits MLP. With in-memory data the loader can hand the module k batches at once
(`TensorBatchLoader(steps_per_execution=k)`) and the module runs k optimizer steps over them
in one Lightning step (`AppModule.training_step`, manual optimization): the same batches in
the same order, the same forward/backward/step sequence and random stream, so the weights
are bitwise those of k = 1, and Lightning's per-step cost is paid once per k steps.

`resolve` turns the data module's `steps_per_execution` ("auto" or an int) into k for a
Trainer. "auto" is `AUTO_STEPS` where nothing depends on one Lightning step being one
optimizer step, else 1; an explicit k > 1 where something does is refused with one line
naming the setting. What does depend on it: gradient clipping and accumulation (Lightning's
automatic optimization does them), DDP (one forward of the wrapped model per backward), a
fraction or count of training batches (`limit_train_batches`, `val_check_interval`,
`overfit_batches`, `fast_dev_run`: those count Lightning steps), a callback that mirrors
every step (`--twin scratch`: `mirrors_each_step`), and a checkpoint every n steps where k
does not divide n (auto takes the largest k that does).

`DirectSteps` runs each of the k optimizer steps without Lightning's per-call dispatch
(which, even in manual optimization, walks every callback for every hook and wraps the
optimizer twice: about as long as a digits step). It calls exactly the hooks Lightning's
manual optimization calls per step, in its order, with its arguments, but only on the
callbacks and module that define them: `on_before_backward`, the backward,
`on_after_backward`, `on_before_optimizer_step`, the optimizer step, with Lightning's
optimizer-step counter (`global_step`) advanced as `LightningOptimizer.step` does. Used
where that is all Lightning would do: one device, full or double precision (no gradient
scaler), no profiler that times hooks, a module that keeps Lightning's `backward`; elsewhere
the module goes through Lightning's `manual_backward` and `LightningOptimizer.step`.
"""

from __future__ import annotations

import math
from functools import partial

import lightning.pytorch as pl
from lightning.pytorch.plugins.precision import DoublePrecision, Precision
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import SingleDeviceStrategy

from lightning_app.checks import InputError, check_count
from lightning_app.profiler import QuietProfiler

__all__ = ["AUTO", "AUTO_STEPS", "ARGUMENT", "DirectSteps", "check_steps", "resolve"]

AUTO = "auto"
# Chosen from the step times (docs/performance.md, "steps_per_execution"): at 16 the
# remaining Lightning cost per optimizer step is ~0.05 ms, under 5% of the digits MLP's step
# and under 0.5% of the 784-512-256-10 b256 one; a larger k gains nothing measurable and
# makes Ctrl-C and the progress bar coarser.
AUTO_STEPS = 16
ARGUMENT = "--data.init_args.steps_per_execution"


def check_steps(value) -> int | str:
    """`value` as "auto" or an int >= 1 (the data module's argument, checked when made)."""
    if value == AUTO:
        return AUTO
    try:
        return check_count("steps_per_execution", value)
    except ValueError:
        raise ValueError(
            f"steps_per_execution must be 'auto' or an integer >= 1, got {value!r}"
        ) from None


def _conflict(trainer) -> tuple[str, str] | None:
    """(the setting, why) of the first Trainer setting that needs k = 1, or None."""
    if trainer.world_size > 1:
        return "--trainer.devices", f"{trainer.world_size} processes (DDP)"
    clip = trainer.gradient_clip_val
    if clip:
        return "--trainer.gradient_clip_val", f"gradient clipping ({clip})"
    if trainer.accumulate_grad_batches != 1:
        return "--trainer.accumulate_grad_batches", "gradient accumulation"
    if trainer.fast_dev_run:
        return "--trainer.fast_dev_run", "fast_dev_run"
    for name in ("limit_train_batches", "val_check_interval"):
        value = getattr(trainer, name)
        if value is not None and not (isinstance(value, float) and value == 1.0):
            return f"--trainer.{name}", f"{name}={value!r} (counts Lightning steps)"
    if trainer.overfit_batches:
        return "--trainer.overfit_batches", "overfit_batches"
    for cb in trainer.callbacks:
        if getattr(cb, "mirrors_each_step", False):
            return "--twin", f"the twin ({type(cb).__name__}), which mirrors every step,"
    return None


def _checkpoint_every(trainer) -> int:
    """The smallest `every_n_train_steps` of the checkpoint callbacks (0: none)."""
    steps = [getattr(cb, "_every_n_train_steps", 0) or 0 for cb in trainer.callbacks]
    steps = [s for s in steps if s > 0]
    return math.gcd(*steps) if steps else 0


def resolve(requested: int | str, trainer) -> int:
    """k for a fit with `trainer`: "auto" -> `AUTO_STEPS` or 1, an int -> itself or refused."""
    conflict = _conflict(trainer)
    every = _checkpoint_every(trainer)
    if requested == AUTO:
        if conflict is not None:
            return 1
        return math.gcd(AUTO_STEPS, every) if every else AUTO_STEPS
    k = int(requested)
    if k == 1:
        return 1
    if conflict is not None:
        setting, why = conflict
        raise InputError(
            f"steps_per_execution={k} runs {k} optimizer steps per Lightning step; {why} "
            f"needs one per Lightning step ({setting}); use 1 or 'auto'", ARGUMENT)
    if every and every % k:
        raise InputError(
            f"steps_per_execution={k} does not divide the checkpoint's every_n_train_steps="
            f"{every}; use a divisor of it or 'auto'", ARGUMENT)
    return k


_STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")


def _defined(obj, name: str, base: type) -> bool:
    """Whether `obj` implements hook `name` (a hook set to None, as
    `lightning_app.callbacks.skip_empty_batch_hooks` does, is not implemented)."""
    hook = getattr(type(obj), name, None)
    return callable(hook) and hook is not getattr(base, name)


class DirectSteps:
    """One optimizer step as Lightning's manual optimization makes it, minus the dispatch.

    `for_fit(trainer, module)` is None where Lightning would do more than the hooks and the
    step (see the module docstring); `step(loss)` then zero_grad, hooks, backward, hooks,
    step, as `module.manual_backward(loss)` + `optimizers().step()` would.
    """

    def __init__(self, trainer, module, optimizer) -> None:
        self.optimizer = optimizer
        # Lightning's counter behind `global_step` in manual optimization.
        self.progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
        hooks = {}
        for name in _STEP_HOOKS:  # callbacks first, then the module, as Lightning calls them
            fns = [partial(getattr(cb, name), trainer, module) for cb in trainer.callbacks
                   if _defined(cb, name, pl.Callback)]
            if _defined(module, name, pl.LightningModule):
                fns.append(getattr(module, name))
            hooks[name] = tuple(fns)
        self.before_backward = hooks["on_before_backward"]
        self.after_backward = hooks["on_after_backward"]
        self.before_step = hooks["on_before_optimizer_step"]

    @classmethod
    def for_fit(cls, trainer, module) -> DirectSteps | None:
        if (
            type(trainer.strategy) is not SingleDeviceStrategy
            or type(trainer.precision_plugin) not in (Precision, DoublePrecision)
            or type(trainer.profiler) not in (PassThroughProfiler, QuietProfiler)
            or _defined(module, "backward", pl.LightningModule)
            or len(trainer.optimizers) != 1
        ):
            return None
        return cls(trainer, module, trainer.optimizers[0])

    def step(self, loss) -> None:
        opt = self.optimizer
        opt.zero_grad()
        for fn in self.before_backward:
            fn(loss)
        loss.backward()
        for fn in self.after_backward:
            fn()
        self.progress.increment_ready()
        for fn in self.before_step:
            fn(opt)
        opt.step()
        self.progress.increment_completed()

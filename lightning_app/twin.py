"""`python -m lightning_app fit --twin scratch`: the NumPy twin trained beside the run and
logged as a sibling TensorBoard run.

Imports lightning, torch and torchref (`torchref.twin.ScratchTwin`, which drives scratch); of
scratch, nothing (docs/design.md, "Rooms").

`ScratchTwinRun`, a Lightning callback, hands `torchref.twin.ScratchTwin` every training batch
as torch saw it and the dropout masks torch drew (forward hooks), after torch's step; the twin
steps the same network in NumPy. Into `<run>/twin_scratch` (beside the run's own event files,
so `tensorboard --logdir <save_dir>/<name>` draws both runs in one chart per tag) it logs the
twin's `Loss/train`, `Loss/train_step`, `Loss/val` and `Accuracy/val` (classification heads)
under the run's own tags (lightning_app/board.py) and at the run's own steps, so the two
curves overlay; and per epoch, in its own `twin/` group, the largest differences after any
step of the epoch (`torchref.twin.Difference`):
`twin/max_abs_diff`, `twin/max_rel_diff` and, with batch norm,
`twin/max_abs_diff_bias_before_batch_norm` and `twin/max_abs_diff_running_stats`. After fit
one line gives the largest of the whole run.

`check_twin` (before the Trainer is built) and `attach_twin` (the number of processes) refuse,
with one line naming `--twin` and exit status 2 before anything is trained or written, what
the twin cannot mirror: another subcommand than fit, a resumed run, a model other than
`MLPModule` (autoencoders, ensembles, staged pipelines), l1/l2 penalties, LightningCLI's own
--optimizer/--lr_scheduler, an optimizer, argument, activation or schedule `torchref.twin`
does not model, more than one process (DDP), a precision other than 32-true and 64-true,
gradient accumulation or clipping.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from lightning_app import board
from lightning_app.checks import InputError
from lightning_app.models import MLPModule
from torchref.twin import Difference, ScratchTwin, TwinError, read_dropout_mask

__all__ = [
    "TWINS", "TWIN_FOLDER", "ScratchTwinRun", "add_twin_argument", "check_twin", "attach_twin",
]

TWINS = ("scratch",)
TWIN_FOLDER = "twin_scratch"  # the sibling run, inside the run's folder
TWIN_GROUP = "twin"  # the TensorBoard group of the twin's parameter differences
_PRECISIONS = ("32-true", "32", "64-true", "64")


def add_twin_argument(parser) -> None:
    """`--twin scratch` on the CLI's parser (every subcommand's; only fit accepts it)."""
    parser.add_argument(
        "--twin", type=str | None, default=None,
        help="fit: also train the NumPy twin (scratch) of the MLP step for step, logged as "
        f"the sibling run <run>/{TWIN_FOLDER} with the largest parameter difference per epoch",
    )


def check_twin(model, cfg, subcommand: str | None) -> None:
    """Raise `InputError` (argument `--twin`) if the config asks for `--twin` and this run
    cannot have one; called before the Trainer is built (nothing written yet)."""
    kind = cfg.get("twin")
    if kind is None:
        return
    if kind not in TWINS:
        raise InputError(f"unknown twin {kind!r}; valid choices: "
                         f"{', '.join(map(repr, TWINS))}", "--twin")
    reason = _unsupported(model, cfg, subcommand)
    if reason:
        raise InputError(reason, "--twin")


def attach_twin(trainer: pl.Trainer, cfg) -> None:
    """Add a `ScratchTwinRun` to the built `trainer` if the config asks for `--twin`
    (`check_twin` has passed); a run of several processes is refused here, where their
    number is known."""
    if cfg.get("twin") is None:
        return
    if trainer.world_size > 1:
        raise InputError(
            _one_process(f"this run has {trainer.world_size}"), "--twin",
        )
    trainer.callbacks.append(ScratchTwinRun())


def _unsupported(model, cfg, subcommand) -> str | None:
    if subcommand != "fit":
        return f"only fit trains the NumPy twin, this is {subcommand}"
    if cfg.get("ckpt_path") is not None:
        return ("the NumPy twin starts from the run's initial weights, so it cannot resume "
                "(--ckpt_path); start a new run")
    if cfg.get("optimizer") is not None or cfg.get("lr_scheduler") is not None:
        return ("the NumPy twin follows the model's optimizer and scheduler arguments, not "
                "LightningCLI's --optimizer/--lr_scheduler")
    if not isinstance(model, MLPModule):
        return f"the NumPy twin mirrors MLPModule only, got {type(model).__name__}"
    if model.l1 or model.l2:
        return f"the NumPy twin does not model the l1/l2 penalties (l1={model.l1}, l2={model.l2})"
    # A bad optimizer or scheduler argument is bad input whether or not there is a twin: the
    # app's own refusal (naming --model.init_args.optimizer_args), now rather than at fit.
    model.optim.build(model.trainable_parameters())
    try:
        _twin_of(model)
    except TwinError as exc:
        return str(exc)
    trainer = cfg.get("trainer") or {}
    precision = str(trainer.get("precision") or "32-true")
    if precision not in _PRECISIONS:
        return ("the NumPy twin computes in float32 or float64 (--trainer.precision 32-true or "
                f"64-true), got {precision}")
    if (trainer.get("accumulate_grad_batches") or 1) != 1:
        return "the NumPy twin steps after every batch (no --trainer.accumulate_grad_batches)"
    if trainer.get("gradient_clip_val"):
        return "the NumPy twin does not clip gradients (no --trainer.gradient_clip_val)"
    processes = _processes(trainer)
    if processes is not None:
        return _one_process(processes)
    return None


def _one_process(what: str) -> str:
    return f"the NumPy twin trains in one process, {what} (--trainer.devices, --trainer.strategy)"


def _processes(trainer_cfg) -> str | None:
    """What in the Trainer's config asks for more than one process, or None (read from the
    config, so that the refusal comes before the Trainer exists; `attach_twin` checks the
    built Trainer's world size as well)."""
    devices = trainer_cfg.get("devices")
    if isinstance(devices, str) and devices.strip().isdigit():
        devices = int(devices)
    count = len(devices) if isinstance(devices, list | tuple) else devices
    if isinstance(count, int) and count > 1:
        return f"this run asks for {count} devices"
    if (trainer_cfg.get("num_nodes") or 1) > 1:
        return f"this run asks for {trainer_cfg.get('num_nodes')} nodes"
    strategy = trainer_cfg.get("strategy")
    if isinstance(strategy, str) and strategy.startswith(("ddp", "fsdp", "deepspeed")):
        return f"this run asks for the {strategy!r} strategy"
    return None


def _twin_of(model: MLPModule) -> ScratchTwin:
    return ScratchTwin(model.net, **model.optim.as_kwargs())


class ScratchTwinRun(pl.Callback):
    """Trains `torchref.twin.ScratchTwin` beside the run and logs it (see the module's
    docstring). Added by `attach_twin`; rank 0 of a one-process fit only."""

    # One Lightning step must be one optimizer step (lightning_app.execution: "auto" is 1).
    mirrors_each_step = True

    def __init__(self) -> None:
        self.twin: ScratchTwin | None = None
        self.logger: TensorBoardLogger | None = None
        self.run_worst = Difference()
        self.steps = 0
        self._hooks: list = []
        self._masks: list = []
        self._batch = None
        self._at = (0, 0)
        self._epoch = {"sum": 0.0, "n": 0, "worst": Difference()}

    # -- start and end
    def on_train_start(self, trainer, pl_module) -> None:
        self.twin = _twin_of(pl_module)  # the weights as training starts (after any cast)
        self._hooks = [m.register_forward_hook(self._record_mask)
                       for m in ScratchTwin.dropout_modules(pl_module.net)]
        log_dir = next((lg.log_dir for lg in trainer.loggers
                        if isinstance(lg, TensorBoardLogger)), None)
        if log_dir is not None:
            self.logger = TensorBoardLogger(save_dir=log_dir, name="", version=TWIN_FOLDER,
                                            default_hp_metric=False)

    def on_train_end(self, trainer, pl_module) -> None:
        worst = self.run_worst
        stats = (f"; biases before batch norm {worst.bias_before_batch_norm:.3g}, running "
                 f"statistics {worst.running_stats:.3g}"
                 if self.twin is not None and self.twin.stats else "")
        if trainer.is_global_zero:  # beside the CLI's own report, on stdout
            print(f"twin (scratch): largest parameter difference over {self.steps} steps "
                  f"{worst.abs:.3g} (relative {worst.rel:.3g}){stats}", flush=True)
        self._close()

    def teardown(self, trainer, pl_module, stage: str) -> None:
        self._close()  # also after a failed run

    def _close(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        if self.logger is not None:
            self.logger.finalize("success")
            self.logger = None

    # -- every step: the batch and masks torch used, then the twin's step
    def _record_mask(self, module, args, output) -> None:
        if module.training and torch.is_grad_enabled() and args[0].requires_grad:
            self._masks.append(read_dropout_mask(args[0], output))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._masks = []
        self._batch = batch
        self._at = (trainer.current_epoch, trainer.global_step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        x, y = (t.detach().cpu().numpy() for t in self._batch)
        epoch, step = self._at
        loss = self.twin.train_step(x, y, self._masks, epoch=epoch, step=step)
        self.steps += 1
        acc = self._epoch
        acc["sum"] += loss * x.shape[0]
        acc["n"] += x.shape[0]
        acc["worst"] = acc["worst"].worst(self.twin.difference(pl_module.net))
        every = trainer.log_every_n_steps
        if every and step % every == 0:
            self._log({board.loss_tag("train_step"): loss}, step)

    # -- every epoch: the twin's validation, its mean training loss, the differences
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._epoch = {"sum": 0.0, "n": 0, "worst": Difference()}

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        dm = trainer.datamodule
        if trainer.sanity_checking or self.twin is None or not hasattr(dm, "split"):
            return
        x, y = (t.detach().cpu().numpy() for t in dm.split("val"))
        loss, accuracy = self.twin.evaluate(x, y)
        values = {board.loss_tag("val"): loss}
        if accuracy is not None:
            values[board.metric_tag(pl_module.metric_name, "val")] = accuracy
        self._log(values, _epoch_step(trainer))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        acc = self._epoch
        if not acc["n"]:
            return
        worst = acc["worst"]
        self.run_worst = self.run_worst.worst(worst)
        values = {board.loss_tag("train"): acc["sum"] / acc["n"],
                  f"{TWIN_GROUP}/max_abs_diff": worst.abs, f"{TWIN_GROUP}/max_rel_diff": worst.rel}
        if self.twin.stats:
            values[f"{TWIN_GROUP}/max_abs_diff_bias_before_batch_norm"] = (
                worst.bias_before_batch_norm)
            values[f"{TWIN_GROUP}/max_abs_diff_running_stats"] = worst.running_stats
        self._log(values, _epoch_step(trainer))

    def _log(self, values: dict, step: int) -> None:
        if self.logger is not None:
            self.logger.log_metrics(values, step=step)


def _epoch_step(trainer) -> int:
    """The step at which Lightning logs validation and epoch-end metrics, so the twin's points
    sit on the run's: the index of the last optimizer step (global_step - 1; Lightning counts
    the epoch's last batch as stepped only after its validation, and logs epoch-end metrics
    one step back; one optimizer step per batch, as `check_twin` requires)."""
    return max(trainer.global_step - 1, 0)

"""LightningModules of the app: the notes' MLP (every head) and autoencoders (I1-I4).

Imports torch, lightning, torchmetrics, torchref and, of scratch, only scratch.validation
(the valid ranges). The networks, losses, penalties, initializations, optimizers and
schedules are torchref's; this file only wires them into Lightning's loop and logs.

Every module is built with keyword arguments only. Shared by every module (`AppModule`),
held in one typed spec (`OptimizerSpec`), given as flat arguments (`lr: 0.01` in a config,
`--model.init_args.lr 0.01` on the command line):
  optimizer        a name of `torchref.optim.OPTIMIZERS` (built-ins and the notes' variants),
                   built with `lr` and `optimizer_args`
  scheduler        a name of `torchref.schedules.SCHEDULERS` or None, with `scheduler_args`,
                   stepped every epoch or every optimizer step (`scheduler_interval`)
Most modules also take `init`, `init_std`: a scheme of `torchref.init.initialize` for the
Linear layers.

Standardized inputs: a module that trains on standardized data (`data.standardize`, on by
default for the user's files) holds the training split's mean and scale in `input_scaler`
(`torchref.preprocessing.Standardize`, buffers in the state_dict and so in every checkpoint)
and applies them to every input it is given: training, validation, test, predict, figures.
The data stay raw; a model restored from a checkpoint standardizes new data as it did in
training.

Logging (TensorBoard through Lightning's logger; the names are `lightning_app.board`'s):
`Loss/train` (epoch mean), `Loss/train_step` (every `log_every_n_steps` steps), `Loss/val`,
`Loss/test`, the accuracy (`Accuracy/...`) or MSE (`MSE/...`) of each stage computed per
epoch with torchmetrics (updated per batch, no sync per step) and the best validation value
so far (`.../val_best`). Each fit writes the HPARAMS session (the model's and the data's
hyper-parameters; final test metric, best validation metric, final training loss) and the
custom-scalars layout. Histograms and gradient norms name the parameters as the notes'
layers (`logged_parameters`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
import torchmetrics
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from lightning_app import board
from lightning_app.callbacks import draw_stage_summary, never_fatal, tensorboard_writer
from lightning_app.checks import InputError, check_count
from lightning_app.execution import DirectSteps
from scratch.validation import Interval, check_choice, check_interval, check_layer_sizes
from torchref import autoencoders as ae
from torchref.ensemble import Ensemble
from torchref.init import initialize
from torchref.losses import l1_penalty, l2_penalty
from torchref.mlp import MLP, head_output, linear_layers
from torchref.optim import OPTIMIZERS, make_optimizer
from torchref.preprocessing import Standardize
from torchref.schedules import SCHEDULERS, make_scheduler

__all__ = [
    "OptimizerSpec",
    "AppModule",
    "MLPModule",
    "EnsembleModule",
    "AutoencoderModule",
    "StackedAutoencoderModule",
]

_INTERVALS = ("epoch", "step")
# The lead switches these to scratch.validation's named ranges (LEARNING_RATE, PENALTY, ...).
_LR = Interval(0, math.inf, "left")  # lr = 0 is a valid (frozen) run; inf is refused
_NONNEGATIVE = Interval(0, math.inf, "left")
_TRAIN_LOSS, _VAL_LOSS, _TEST_LOSS = (board.loss_tag(s) for s in ("train", "val", "test"))
_TRAIN_STEP = board.loss_tag("train_step")
_BEST_VAL_KEY = "app_best_val_metric"  # in the checkpoint: the best validation value so far


def _args(name: str, value, reserved: tuple[str, ...], owner: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict of keyword arguments, got {value!r}")
    clash = [k for k in reserved if k in value]
    if clash:
        k = clash[0]
        raise ValueError(
            f"{name} must not hold {k!r}: the {owner} takes {k} as its own argument "
            f"({k}={value[k]!r}), not inside {name}"
        )
    return dict(value)


@dataclass(frozen=True, kw_only=True)
class OptimizerSpec:
    """How a module builds its optimizer and learning-rate schedule, checked when made.

    Names come from torchref's registries (`torchref.optim.OPTIMIZERS`,
    `torchref.schedules.SCHEDULERS`); `lr` is its own argument and may not also appear in
    `optimizer_args`. The hyper-parameters in `optimizer_args`/`scheduler_args` are checked
    by torchref when `build` makes the optimizer (once, in `configure_optimizers`).
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_args: dict | None = None
    scheduler: str | None = None
    scheduler_args: dict | None = None
    scheduler_interval: str = "epoch"

    def __post_init__(self) -> None:
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_interval("lr", self.lr, _LR)
        _args("optimizer_args", self.optimizer_args, ("lr", "params"), "optimizer")
        if self.scheduler is not None:
            check_choice("scheduler", self.scheduler, SCHEDULERS)
        _args("scheduler_args", self.scheduler_args, ("optimizer",), "scheduler")
        check_choice("scheduler_interval", self.scheduler_interval, _INTERVALS)

    def build(self, params):
        """The optimizer over `params` and, with a scheduler, Lightning's dict form.

        A bad hyper-parameter in `optimizer_args`/`scheduler_args` is an `InputError` naming
        the argument (the command line prints it as one line)."""
        try:
            opt = make_optimizer(self.optimizer, params, lr=self.lr, **(self.optimizer_args or {}))
        except (TypeError, ValueError) as exc:
            raise InputError(f"optimizer {self.optimizer!r}: {exc}", "optimizer_args") from exc
        if self.scheduler is None:
            return opt
        try:
            sched = make_scheduler(self.scheduler, opt, **(self.scheduler_args or {}))
        except (TypeError, ValueError) as exc:
            raise InputError(f"scheduler {self.scheduler!r}: {exc}", "scheduler_args") from exc
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched,
                                                   "interval": self.scheduler_interval}}

    def as_kwargs(self) -> dict:
        return dataclasses.asdict(self)


def _initialize(net: nn.Module, init: str, init_std: float | None, **kwargs) -> None:
    """`torchref.init.initialize`, its refusals naming the module's argument."""
    try:
        initialize(net, init, std=init_std, **kwargs)
    except ValueError as exc:
        raise InputError(str(exc), "init_std" if "std" in str(exc) else "init") from exc


class AppModule(pl.LightningModule):
    """Base of the app's modules: optimizer/scheduler by name from torchref, shared logging.

    Subclasses take their own keyword-only arguments and `**optim` (the `OptimizerSpec`
    fields, passed on here), set `self.net` (the torchref module), optionally torchmetrics
    objects `self.train_metric`, `self.val_metric`, `self.test_metric` (computed and logged
    once per epoch as `board.metric_tag(metric_name, stage)`), and implement `_step(batch, stage)`
    returning the loss after updating the stage's metric, and `check_data(datamodule)`.

    The hyper-parameters saved (checkpoint, TensorBoard's HPARAMS) are every argument of the
    subclass chain, the six of the spec included, defaults too.
    """

    # The per-epoch metric each stage logs: "acc" or "mse" (`board.metric_tag`).
    metric_name = "acc"
    # True if a larger metric is better (the best validation value so far).
    higher_is_better = True
    # What `embedding` returns, named in the projector.
    embedding_name = "embedding"
    # __init__ arguments that are not hyper-parameters (modules handed to a stage).
    _not_hparams: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        optimizer: str = OptimizerSpec.optimizer,
        lr: float = OptimizerSpec.lr,
        optimizer_args: dict | None = None,
        scheduler: str | None = None,
        scheduler_args: dict | None = None,
        scheduler_interval: str = OptimizerSpec.scheduler_interval,
    ) -> None:
        super().__init__()
        # Collects the arguments of this __init__ and of the subclass's (the calling frame).
        self.save_hyperparameters(ignore=list(self._not_hparams))
        self.optim = OptimizerSpec(
            optimizer=optimizer, lr=lr, optimizer_args=optimizer_args, scheduler=scheduler,
            scheduler_args=scheduler_args, scheduler_interval=scheduler_interval,
        )
        self._train_loss: dict = {"sum": None, "n": 0}
        self._best_val: float | None = None
        self._direct: DirectSteps | None = None  # k > 1 steps without Lightning's dispatch
        self.chunk_batch_idx: int | None = None  # k > 1: the batch being trained on
        # The training split's statistics if the data are standardized, else empty buffers
        # (`fit_to_data`); part of the state_dict, so every checkpoint carries them.
        self.input_scaler = Standardize()
        self._standardizes = False

    # Lightning writes `_current_fx_name` on the module around every hook it calls (about 40
    # times per training step, twice per hook). nn.Module.__setattr__ first checks whether
    # the value is a Parameter, Module or buffer (isinstance through Parameter's metaclass),
    # which costs more than the hook itself; the value is always a plain string or None, so
    # it goes straight into __dict__, where nn.Module.__setattr__ would have put it too.
    # (docs/performance.md: ~5 ms of a ~55 ms Lightning epoch of the digits MLP.)
    def __setattr__(self, name: str, value) -> None:
        if name == "_current_fx_name":
            self.__dict__[name] = value
        else:
            super().__setattr__(name, value)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint[_BEST_VAL_KEY] = self._best_val

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """The checkpoint's standardization (its buffers take the saved shapes; a checkpoint
        written before standardization existed has none). Resuming with other optimizer
        settings (the CLI asks for --allow_model_changes): the weights are the checkpoint's,
        the optimizer and schedule start fresh from the new settings (the saved state of
        another optimizer or learning rate does not apply). The best validation value so far
        continues from the checkpoint's."""
        self._best_val = checkpoint.get(_BEST_VAL_KEY)
        state = checkpoint.get("state_dict")
        if state is not None:
            self._take_saved_statistics(state)
        saved = checkpoint.get("hyper_parameters") or {}
        spec = self.optim.as_kwargs()
        changed = [k for k in spec if k in saved and saved[k] != spec[k]]
        if changed and checkpoint.get("optimizer_states"):
            checkpoint["optimizer_states"] = []
            checkpoint["lr_schedulers"] = []
            rank_zero_info(f"{', '.join(changed)} changed: the optimizer and schedule start "
                           "fresh; the weights are the checkpoint's")

    def trainable_parameters(self):
        """What the optimizer updates (all parameters; a frozen stage narrows it)."""
        return self.parameters()

    # -- standardized inputs
    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """x standardized with the training statistics, if this model standardizes.

        Standardize's formula without its per-call input checks: those copy a finiteness
        flag to the host (a device sync per step on a GPU), and the data were checked when
        they were loaded."""
        if not self._standardizes:
            return x
        return (x - self.input_scaler.mean) / self.input_scaler.scale

    def _standardization_refused(self) -> str | None:
        """Why this model cannot train on standardized inputs (None: it can)."""
        return None

    def set_input_statistics(self, mean, scale, dtype: torch.dtype | None = None) -> None:
        """Standardize every input with (mean, scale) from now on; None, None: not at all."""
        scaler = self.input_scaler
        if mean is None:
            scaler.mean, scaler.scale = torch.empty(0), torch.empty(0)
            self._standardizes = False
            return
        dtype = dtype or self._param_dtype()
        scaler.mean = torch.as_tensor(mean).to(device=self.device, dtype=dtype)
        scaler.scale = torch.as_tensor(scale).to(device=self.device, dtype=dtype)
        self._standardizes = True

    def _param_dtype(self) -> torch.dtype:
        p = next(self.parameters(), None)
        return torch.float32 if p is None else p.dtype

    def _take_saved_statistics(self, state: dict) -> None:
        dtype = self._param_dtype()
        for name in ("mean", "scale"):
            saved = state.setdefault(f"input_scaler.{name}", torch.empty(0))
            setattr(self.input_scaler, name,
                    torch.empty(saved.shape, device=self.device, dtype=dtype))
        self._standardizes = state["input_scaler.mean"].numel() > 0

    def uses_standardization(self, dm) -> bool:
        """Whether a fit on the ArrayDataModule `dm` standardizes (its `standardize`, by
        default on for the user's files); refused with one line where the model cannot."""
        wants = dm.standardizes if hasattr(dm, "standardizes") else False
        reason = self._standardization_refused()
        if wants and reason is not None:
            if dm.standardize:  # asked for explicitly: tell the user
                raise InputError(f"{type(self).__name__} {reason}; set it to false",
                                 "--data.init_args.standardize")
            return False  # the user files' default does not apply to this model
        return wants

    def fit_to_data(self, dm, dtype: torch.dtype | None = None) -> None:
        """Before a fit on the ArrayDataModule `dm`: widths the data decide (MLPModule's
        `hidden_sizes`), the checks of `check_data`, and the training split's statistics
        when the data are standardized (in `dtype`, default the weights')."""
        self._build_for(dm)
        self.check_data(dm)
        if self.uses_standardization(dm):
            self.set_input_statistics(*dm.input_statistics(), dtype=dtype)
        else:
            self.set_input_statistics(None, None)

    def _build_for(self, dm) -> None:
        """Build what waits for the data's widths (nothing, except MLPModule's hidden_sizes)."""

    def check_input_width(self, n_features: int, source: str, argument: str | None = None):
        """Raise unless rows of `n_features` features fit the model's input."""
        if n_features != self.input_size:
            raise InputError(
                f"the model expects {self.input_size} input features but {source} has "
                f"{n_features}", argument or "--data.init_args.predict_path",
            )

    def configure_optimizers(self):
        return self.optim.build(self.trainable_parameters())

    # -- steps. The training step is the hot path: one forward, one loss, one metric update
    # and two in-place additions. `self.log` costs a deep copy of its metadata per call (about
    # as much as the whole step of a small MLP), so the epoch's mean training loss is summed
    # here and logged once per epoch, and the per-step loss goes straight to the logger every
    # `log_every_n_steps` steps (the only host sync, on those steps only).
    def training_step(self, batch, batch_idx):
        if not self.automatic_optimization:
            return self._execute(batch)
        return self._train_on(batch)

    def _train_on(self, batch) -> torch.Tensor:
        """One batch's loss, counted in the epoch's mean and logged every
        `log_every_n_steps` optimizer steps."""
        loss = self._step(batch, "train")
        n = batch[0].shape[0]
        detached = loss.detach()
        acc = self._train_loss  # a plain dict: no nn.Module.__setattr__ on the hot path
        acc["sum"] = detached * n if acc["sum"] is None else acc["sum"].add_(detached * n)
        acc["n"] += n
        every = self.trainer.log_every_n_steps if self._trainer is not None else 0
        if every and self.global_step % every == 0 and self.loggers:
            value = {_TRAIN_STEP: float(detached)}
            for logger in self.loggers:
                logger.log_metrics(value, step=self.global_step)
        return loss

    # -- steps_per_execution k > 1 (`lightning_app.execution`): a chunk of k batches per
    # Lightning step, one optimizer step per batch through Lightning's manual optimization
    # (so `global_step`, the backward and optimizer-step hooks of every callback, the
    # precision plugin and the checkpointed optimizer state are Lightning's, per step).
    # Per batch, in automatic optimization's order: forward and loss, zero_grad, backward,
    # step, then a step-interval schedule.
    def _use_execution_steps(self) -> None:
        """Manual optimization when the fit's data hand out chunks (k > 1)."""
        trainer = self._trainer
        dm = trainer.datamodule if trainer is not None else None
        self.automatic_optimization = getattr(dm, "execution_steps", 1) == 1

    def on_train_start(self) -> None:
        self._direct = (DirectSteps.for_fit(self.trainer, self)
                        if not self.automatic_optimization else None)

    def on_train_end(self) -> None:
        self._direct = None  # it holds the trainer and its callbacks

    def _execute(self, chunk) -> torch.Tensor:
        direct = self._direct
        opt = self.optimizers()
        sched = self.lr_schedulers() if self.optim.scheduler is not None else None
        per_step = sched is not None and self.optim.scheduler_interval == "step"
        max_steps = self.trainer.max_steps
        loader = self.trainer.train_dataloader
        first = loader.batches_done - len(chunk)  # the chunk's first batch in the epoch
        loss, steps = None, 0
        try:
            for batch in chunk:
                if 0 <= max_steps <= self.global_step:  # max_steps counts optimizer steps
                    loader.unused(len(chunk) - steps)
                    break
                self.chunk_batch_idx = first + steps  # named in the NaN guard's message
                loss = self._train_on(batch)
                if direct is not None:
                    direct.step(loss)
                else:
                    opt.zero_grad()
                    self.manual_backward(loss)
                    opt.step()
                if per_step:
                    sched.step()
                steps += 1
        except BaseException:
            # Stopped inside the chunk (the NaN guard, Ctrl-C twice): the saved position is
            # k = 1's, the failing batch handed out and those after it not.
            loader.unused(len(chunk) - steps - 1)
            raise
        epoch_loop = self.trainer.fit_loop.epoch_loop
        # An epoch-interval schedule steps where automatic optimization steps it: right after
        # the epoch's last batch (before on_train_batch_end, so a checkpoint written there
        # holds it), not after a batch where max_steps cut the epoch short.
        if sched is not None and not per_step and steps == len(chunk) and (
                epoch_loop._num_ready_batches_reached()):
            sched.step()
        # Lightning adds one per chunk to the step it logs its own metrics at (the epoch
        # metrics' step in TensorBoard): count every optimizer step, as k = 1 does.
        epoch_loop._batches_that_stepped += steps - 1
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self._step(batch, "val")
        self.log(_VAL_LOSS, loss, on_epoch=True, batch_size=batch[0].shape[0], sync_dist=True)

    def test_step(self, batch, batch_idx):
        loss = self._step(batch, "test")
        self.log(_TEST_LOSS, loss, on_epoch=True, batch_size=batch[0].shape[0], sync_dist=True)

    def _step(self, batch, stage: str) -> torch.Tensor:
        raise NotImplementedError

    # -- per-epoch metrics: computed once per epoch (one sync under DDP), then reset
    def _log_metric(self, stage: str) -> torch.Tensor | None:
        metric = getattr(self, f"{stage}_metric", None)
        if metric is None or not metric.update_called:
            return None
        value = metric.compute()
        metric.reset()
        self.log(board.metric_tag(self.metric_name, stage), value)
        return value

    def on_train_epoch_start(self) -> None:
        self._train_loss = {"sum": None, "n": 0}

    def on_train_epoch_end(self) -> None:
        acc = self._train_loss
        if acc["n"]:
            self.log(_TRAIN_LOSS, acc["sum"] / acc["n"], sync_dist=True)
        self._log_metric("train")

    def on_validation_epoch_end(self) -> None:
        value = self._log_metric("val")
        if value is None or self.trainer.sanity_checking:
            return
        value = float(value)
        best = self._best_val
        if best is None or (value > best if self.higher_is_better else value < best):
            self._best_val = best = value
        self.log(board.metric_tag(self.metric_name, board.BEST), best)

    def on_test_epoch_end(self) -> None:
        self._log_metric("test")

    # -- TensorBoard: the run's HPARAMS session and layout, the parameters' names
    def metric_names(self) -> tuple[str, ...]:
        """The metrics this run logs ("acc", "mse"); the first is the one it is tested on."""
        return (self.metric_name,)

    def tensorboard_hparams(self) -> dict:
        """The HPARAMS columns: the model's and the data's hyper-parameters and class names."""
        params = {"model": type(self).__name__, **self.hparams_initial}
        dm = self.trainer.datamodule if self._trainer is not None else None
        if dm is not None and getattr(dm, "_log_hyperparams", False):
            params = {**params, "data": type(dm).__name__, **dm.hparams_initial}
        return params

    def logged_parameters(self) -> dict[str, nn.Parameter]:
        """What this run trains, under the notes' layer names (`board.notes_parameter_names`
        of `self.net`): histograms and gradient norms show these."""
        trained = {id(p) for p in self.trainable_parameters()}
        return {name: p for name, p in board.notes_parameter_names(self.net).items()
                if id(p) in trained}

    def _no_placeholder_hp_metric(self) -> None:
        # Lightning's TensorBoardLogger logs `hp_metric = -1` when the hyper-parameters are
        # logged without metrics (`default_hp_metric`); the app writes its own HPARAMS
        # session with real metrics (`on_fit_start`), so no placeholder row.
        for logger in self.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger._default_hp_metric = False

    def on_fit_start(self) -> None:
        writer = tensorboard_writer(self.trainer)
        if writer is None:
            return
        with never_fatal("the HPARAMS session and the custom-scalars layout"):
            names = self.metric_names()
            board.write_run_header(writer, self.tensorboard_hparams(),
                                   board.hparams_metrics(names), board.custom_scalars_layout(names))

    # -- does the model fit the data? Called by the CLI before any run and again in setup.
    sizes_argument = "layer_sizes"  # the argument that sets the widths, named in errors

    def check_data(self, dm) -> None:
        """Raise `InputError` (naming the argument to change) unless this model can train on
        the ArrayDataModule `dm`: input width, and targets that suit the head."""
        self._build_for(dm)  # a model restored from a checkpoint is built already
        n_features = dm.n_features
        if n_features != self.input_size:
            raise InputError(
                f"the model expects {self.input_size} input features but the data "
                f"({dm.source}) has {n_features}; set the first size to {n_features}",
                self.sizes_argument,
            )
        self._check_targets(dm)

    def setup(self, stage: str) -> None:
        self._no_placeholder_hp_metric()
        trainer = self._trainer  # None outside a Trainer (`.trainer` would raise)
        dm = trainer.datamodule if trainer is not None else None
        if dm is None or not hasattr(dm, "split"):
            return
        if stage == "fit":
            self._use_execution_steps()
            # The statistics in the dtype the run computes in (64-true: float64, not a
            # float32 rounding of them cast up later).
            precision = getattr(self.trainer, "precision", "32-true")
            dtype = torch.float64 if str(precision).startswith("64") else None
            self.fit_to_data(dm, dtype)
        elif stage == "predict" and getattr(dm, "predicts_file", False):
            self.check_input_width(dm.n_predict_features, dm.predict_source)
        else:
            self.check_data(dm)

    def _check_targets(self, dm) -> None:
        """Subclasses check that the data's targets suit the head."""

    def _check_classes(self, dm, room: int, argument: str, what: str) -> None:
        """Integer labels 0..room-1 for a classifier with `room` classes."""
        labels = dm.label_range
        if labels is None:
            raise InputError(f"{what} needs integer class labels but {dm.source} has real "
                             "targets")
        lo, hi = labels
        if lo < 0:
            raise InputError(
                f"{dm.source} has negative class labels (smallest {lo}); {what} needs labels "
                f"0..{room - 1}; relabel the data"
            )
        if hi >= room:
            raise InputError(
                f"the data ({dm.source}) has labels 0..{hi} but {what} has room for {room} "
                f"classes", argument,
            )

    @property
    def input_size(self) -> int:
        raise NotImplementedError


def _class_prediction(probabilities: torch.Tensor) -> dict[str, torch.Tensor]:
    """What `predict` returns for a classifier: the predicted class and every probability."""
    return {"class": probabilities.argmax(dim=1), "probabilities": probabilities}


class MLPModule(AppModule):
    """The notes' MLP (`torchref.mlp.MLP`) with a regression, binary or multiclass head (B4).

    layer_sizes    widths, input first and output last, e.g. [64, 128, 10]
    hidden_sizes   the hidden widths only, e.g. [128]: input and output widths come from the
                   data (features; classes, 1 for binary, the targets' width for regression),
                   so the net is built when the data are known (`fit_to_data`, or Lightning's
                   setup). Neither given: [64, 128, 10]. Both: they must agree.
    activation     a name of `torchref.activations` for every hidden layer, or one per layer
    head           "multiclass" (softmax + CE), "binary" (sigmoid + BCE), "regression" (MSE)
    batch_norm     BatchNorm1d after each hidden Linear (G4)
    dropout        drop probability after each hidden activation; `dropout_kind` "inverted"
                   (torch's nn.Dropout) or "classic" (the notes': scale at test time) (H3)
    l1, l2         penalties lambda sum|W| (C8) and lambda/2 sum W^2 (C7) on the Linear
                   weights, biases excluded, added to the loss
    init, init_std weight initialization of `torchref.init` (G3)
    """

    def __init__(
        self,
        *,
        layer_sizes: list[int] | None = None,
        hidden_sizes: list[int] | None = None,
        activation: str | list[str] = "relu",
        head: str = "multiclass",
        batch_norm: bool = False,
        dropout: float = 0.0,
        dropout_kind: str = "inverted",
        l1: float = 0.0,
        l2: float = 0.0,
        init: str = "torch_default",
        init_std: float | None = None,
        **optim,
    ) -> None:
        super().__init__(**optim)
        self.l1 = check_interval("l1", l1, _NONNEGATIVE)
        self.l2 = check_interval("l2", l2, _NONNEGATIVE)
        self.head_kind = head
        self._net_args = (activation, head, batch_norm, dropout, dropout_kind)
        self._init = (init, init_std)
        if hidden_sizes is not None:
            hidden = list(check_layer_sizes("hidden_sizes", [1, *hidden_sizes]))[1:]
            if layer_sizes is not None and list(layer_sizes)[1:-1] != hidden:
                raise ValueError(
                    f"layer_sizes {list(layer_sizes)} and hidden_sizes {hidden} disagree; give "
                    "hidden_sizes alone (input and output widths from the data) or layer_sizes"
                )
        if layer_sizes is None and hidden_sizes is None:
            layer_sizes = (64, 128, 10)
        self.hidden_sizes = None if hidden_sizes is None else hidden
        self.net: MLP | None = None
        if layer_sizes is not None:
            self._build(list(check_layer_sizes("layer_sizes", layer_sizes)))
        else:
            # Every argument checked now, on a stand-in of the same depth: a bad activation
            # or dropout is reported while the model is built, not when the data arrive. On
            # the meta device and a forked generator: the real net's initialization draws
            # the same numbers as if it had been built here.
            with torch.random.fork_rng(devices=[]), torch.device("meta"):
                MLP([1, *self.hidden_sizes, 1 if head != "multiclass" else 2], *self._net_args)

    def _build(self, sizes: list[int]) -> None:
        self.net = MLP(sizes, *self._net_args)
        # Linear layers only; batch-norm scale/shift keep their (1, 0) start.
        _initialize(self.net, *self._init)
        # The checkpoint's hyper-parameters hold the widths built, so the model is rebuilt
        # from them (load_from_checkpoint, test/predict) without the data.
        self.hparams["layer_sizes"] = list(sizes)
        head = self.head_kind
        self._weights = [layer.weight for layer in linear_layers(self.net)]
        k = self.net.layer_sizes[-1]
        if head == "regression":
            self.metric_name, self.higher_is_better = "mse", False
            self.n_classes = None
            make = lambda: torchmetrics.MeanSquaredError()  # noqa: E731
        elif head == "binary":
            if k != 1:
                raise ValueError(f"the binary head needs 1 output unit, got {k}")
            self.n_classes = 2
            make = lambda: torchmetrics.classification.BinaryAccuracy(validate_args=False)  # noqa: E731
        else:
            self.n_classes = k
            make = lambda: torchmetrics.classification.MulticlassAccuracy(  # noqa: E731
                num_classes=k, average="micro", validate_args=False
            )
        self.train_metric, self.val_metric, self.test_metric = make(), make(), make()

    def _build_for(self, dm) -> None:
        if self.net is not None:
            return
        if self.head_kind == "regression":
            n_out = dm.target_width
        elif self.head_kind == "binary":
            n_out = 1
        else:
            labels = dm.label_range
            if labels is None:  # refused with the head's own words by _check_targets
                n_out = 2
            else:
                n_out = max(labels[1] + 1, 2)
        self._build([dm.n_features, *self.hidden_sizes, n_out])

    @property
    def input_size(self) -> int | None:
        return None if self.net is None else self.net.layer_sizes[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_out)."""
        return self.net(self._inputs(x))

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The head's loss (torchref.mlp.MLP.loss) plus the L1/L2 penalties."""
        loss = self.net.loss(logits, y)
        if self.l1:
            loss = loss + l1_penalty(self._weights, self.l1)
        if self.l2:
            loss = loss + l2_penalty(self._weights, self.l2)
        return loss

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.net(self._inputs(x))
        if self.head_kind == "regression" and not y.is_floating_point():
            y = y.to(logits.dtype)  # integer-valued real targets (e.g. counts)
        loss = self.loss(logits, y)
        getattr(self, f"{stage}_metric").update(self._metric_input(logits.detach()), y)
        return loss

    def _metric_input(self, logits: torch.Tensor) -> torch.Tensor:
        if self.head_kind == "binary":
            return torch.sigmoid(logits[:, 0])
        if self.head_kind == "regression" and logits.shape[1] == 1:
            return logits[:, 0]
        return logits

    # -- prediction helpers (figures, predict)
    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, C): softmax, or [1 - p, p] for the binary head."""
        p = head_output(self.net(self._inputs(x)), self.head_kind)
        if self.head_kind == "binary":
            return torch.cat([1 - p, p], dim=1)
        return p

    def predict_labels(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted class per row (N,)."""
        return self.class_scores(x).argmax(dim=1)

    embedding_name = "last_hidden_layer"

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's output (N, h_last): the representation the output layer
        separates (B7), shown in TensorBoard's projector."""
        return self.net.net[:-1](self._inputs(x))

    def predict_step(self, batch, batch_idx):
        """{"output": (N, k)} for regression, else {"class": (N,), "probabilities": (N, C)}."""
        x = batch[0]
        if self.head_kind == "regression":
            return {"output": self(x)}
        return _class_prediction(self.class_scores(x))

    def _check_targets(self, dm) -> None:
        k = self.net.layer_sizes[-1]
        if self.head_kind == "regression":
            width = dm.target_width
            if width != k:
                raise InputError(
                    f"the regression head has {k} outputs but the targets of {dm.source} have "
                    f"width {width}; set the last size to {width}", "layer_sizes",
                )
            return
        labels = dm.label_range
        if labels is None:
            raise InputError(
                f"the {self.head_kind} head needs integer class labels but {dm.source} has "
                "real targets; for real targets use the regression head", "head",
            )
        if self.head_kind == "binary":
            self._check_classes(dm, 2, "head", "the binary head (labels 0/1)")
            return
        hint = f"; set the last size to {labels[1] + 1}" if labels and labels[1] >= k else ""
        try:
            self._check_classes(dm, k, "layer_sizes", "the multiclass head")
        except InputError as exc:
            raise InputError(f"{exc}{hint}", exc.argument) from None
        n = labels[1] + 1
        if k > max(n, 2):  # outputs for classes that never occur
            raise InputError(
                f"the data ({dm.source}) has {n} classes (labels 0..{n - 1}) but the multiclass "
                f"head has {k} outputs; set the last size to {n}", "layer_sizes",
            )


class EnsembleModule(AppModule):
    """An ensemble of MLPs (H2, 002): members differ by initialization (`init_seeds`) and/or
    architecture (`members`, one list of layer sizes each); predictions are the average of the
    members' probabilities (`torchref.ensemble.Ensemble`).

    Training minimizes the sum of the members' own losses on the same batches, so each member
    gets exactly the gradient it would get alone (the optimizer's update is per parameter):
    one run trains M independent networks. Logged: `Loss/train` (that sum), `Loss/val` and
    `Loss/test` (cross-entropy of the averaged probabilities), `Loss/val_members` (the
    members' mean loss; never below `Loss/val` for cross-entropy, by convexity), accuracies.
    """

    sizes_argument = "members"

    def __init__(
        self,
        *,
        members: list[list[int]] = ((64, 32, 10), (64, 64, 10), (64, 128, 10)),
        activation: str = "relu",
        head: str = "multiclass",
        init: str = "he",
        init_std: float | None = None,
        init_seeds: list[int] | None = None,
        **optim,
    ) -> None:
        super().__init__(**optim)
        check_choice("head", head, ("multiclass", "binary"))
        if not members:
            raise ValueError("members must list at least one network, got none")
        members = [list(check_layer_sizes("members", m)) for m in members]
        if len({(m[0], m[-1]) for m in members}) != 1:
            raise ValueError(
                f"every member must have the same input and output sizes, got {members}"
            )
        seeds = list(range(len(members))) if init_seeds is None else list(init_seeds)
        if len(seeds) != len(members):
            raise ValueError(
                f"init_seeds must give one seed per member ({len(members)}), got {len(seeds)}"
            )
        nets = [MLP(sizes, activation, head) for sizes in members]
        for net, seed in zip(nets, seeds, strict=True):
            _initialize(net, init, init_std, generator=torch.Generator().manual_seed(seed))
        self.net = Ensemble(nets, head)
        self.head_kind = head
        k = members[0][-1]
        self.n_classes = 2 if head == "binary" else k
        self.metric_name = "acc"
        make = (
            (lambda: torchmetrics.classification.BinaryAccuracy(validate_args=False))
            if head == "binary"
            else (lambda: torchmetrics.classification.MulticlassAccuracy(
                num_classes=k, average="micro", validate_args=False))
        )
        self.val_metric, self.test_metric = make(), make()

    @property
    def input_size(self) -> int:
        return self.net.members[0].layer_sizes[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The ensemble's averaged probabilities (N, K)."""
        return self.net(self._inputs(x))

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        p = self(x)
        return torch.cat([1 - p, p], dim=1) if self.head_kind == "binary" else p

    def predict_labels(self, x: torch.Tensor) -> torch.Tensor:
        return self.class_scores(x).argmax(dim=1)

    def predict_step(self, batch, batch_idx):
        return _class_prediction(self.class_scores(batch[0]))

    def _ensemble_loss(self, p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.head_kind == "binary":
            return F.binary_cross_entropy(p[:, 0], y.to(p.dtype))
        return F.nll_loss(torch.log(p), y)

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        x = self._inputs(x)
        member_losses = [m.loss(m(x), y) for m in self.net.members]
        total = torch.stack(member_losses).sum()
        if stage == "train":
            return total
        p = self.net(x)
        n = x.shape[0]
        self.log(board.loss_tag(f"{stage}_members"), total / len(member_losses), on_epoch=True,
                 batch_size=n, sync_dist=True)
        getattr(self, f"{stage}_metric").update(
            p[:, 0] if self.head_kind == "binary" else p, y
        )
        return self._ensemble_loss(p, y)

    def _check_targets(self, dm) -> None:
        argument = "head" if self.head_kind == "binary" else "members"
        self._check_classes(dm, self.n_classes, argument, f"the ensemble's {self.head_kind} head")


# ---- autoencoders (I1-I4, C9) ---------------------------------------------------------------


class AutoencoderModule(AppModule):
    """An autoencoder of `torchref.autoencoders.Autoencoder`: bottleneck (I1), sparse (C9,
    I2: `sparsity` "kl" or "l1" with `rho`, `beta`), dropout on the code (I3:
    `hidden_dropout`, `dropout_kind`). The target is the input; labels are ignored.

    Logged per epoch: `Loss/{stage}` (reconstruction + sparsity), `MSE/{stage}` (torchmetrics
    MSE of x^ against x), and `Loss/val_sparsity` (the penalty alone). After fit the CLI prints
    `report()`: whether every input is reconstructed, how many rounded codes are distinct
    and, for at most 16 inputs (the 8-3-8 encoder), 003's code table.
    """

    metric_name = "mse"
    higher_is_better = False

    sizes_argument = "sizes"

    def __init__(
        self,
        *,
        sizes: tuple[int, ...] = (64, 32, 64),
        activation: str = "sigmoid",
        output_activation: str = "sigmoid",
        loss: str = "bce",
        code_layer: int | None = None,
        sparsity: str | None = None,
        rho: float = 0.05,
        beta: float = 0.0,
        hidden_dropout: float = 0.0,
        dropout_kind: str = "inverted",
        init: str = "torch_default",
        init_std: float | None = None,
        **optim,
    ) -> None:
        super().__init__(**optim)
        self.net = ae.Autoencoder(
            list(sizes), activation=activation, output_activation=output_activation,
            loss=loss, code_layer=code_layer, sparsity=sparsity, rho=rho, beta=beta,
            hidden_dropout=hidden_dropout, dropout_kind=dropout_kind,
        )
        _initialize(self.net, init, init_std)
        self.output_in_unit_interval = output_activation == "sigmoid"
        self.train_metric = torchmetrics.MeanSquaredError()
        self.val_metric = torchmetrics.MeanSquaredError()
        self.test_metric = torchmetrics.MeanSquaredError()

    @property
    def input_size(self) -> int:
        return self.net.sizes[0]

    def _standardization_refused(self) -> str | None:
        if self.net.loss == "bce":
            return "with loss 'bce' needs inputs in [0, 1], and standardized inputs are not"
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction x^ (N, d) of the (standardized, if the run standardizes) input."""
        return self.net(self._inputs(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code h (N, n_code), without dropout."""
        return self.net.encode(self._inputs(x))

    embedding_name = "code"
    embedding = encode  # the projector shows the code (I1, I5)

    def reconstruction_pair(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(what is reconstructed, its reconstruction), for the figures."""
        x = self._inputs(x)
        return x, self.net(x)

    def _step(self, batch, stage: str) -> torch.Tensor:
        x = self._inputs(batch[0])
        terms = self.net.loss_terms(x)
        getattr(self, f"{stage}_metric").update(terms["x_hat"].detach(), x)
        if stage != "train" and self.net.sparsity is not None:
            self.log(board.loss_tag(f"{stage}_sparsity"), terms["sparsity"], on_epoch=True,
                     batch_size=x.shape[0], sync_dist=True)
        return terms["loss"]

    def predict_step(self, batch, batch_idx):
        """{"code": (N, n_code), "reconstruction": (N, d)}, the reconstruction in the units
        of the data (a standardized run's output mapped back with its mean and scale)."""
        x = self._inputs(batch[0])
        x_hat = self.net(x)
        if self._standardizes:
            x_hat = x_hat * self.input_scaler.scale + self.input_scaler.mean
        return {"code": self.net.encode(x), "reconstruction": x_hat}

    def _check_targets(self, dm) -> None:
        if self.net.loss == "bce":
            x = dm.split("train")[0]
            lo, hi = float(x.min()), float(x.max())
            if lo < 0 or hi > 1:
                raise InputError(
                    f"loss 'bce' needs inputs in [0, 1] but {dm.source} has values in "
                    f"[{lo:g}, {hi:g}]; scale the data or use loss 'mse'", "loss",
                )

    @torch.no_grad()
    def report(self, datamodule) -> str:
        """Reconstruction and code summary of the test split (003's table for <= 16 rows)."""
        if datamodule is None or not hasattr(datamodule, "split"):
            return ""
        was = self.training
        self.eval()
        try:
            x = self._inputs(datamodule.split("test")[0].to(self.device))
            h, x_hat = self.net.encode(x), self.net(x)
        finally:
            self.train(was)
        n = x.shape[0]
        distinct = int(torch.unique(ae.rounded_codes(h), dim=0).shape[0])
        lines = [f"distinct rounded codes: {distinct} of {n}"]
        if bool(((x == 0) | (x == 1)).all()):
            ok = ae.reconstructs_all(x_hat, x)
            lines.insert(0, f"reconstructs every input: {'yes' if ok else 'no'}")
        if n <= 16:
            lines += ["", ae.code_table(x.cpu(), h.cpu(), x_hat.cpu())]
        return "\n".join(lines)


class _Stage(AppModule):
    """One stage of the stacked pipeline: shares modules with its `StackedAutoencoderModule`
    and trains only `trainable`, with `frozen` below it (no gradients, kept in eval mode)."""

    _not_hparams = ("owner", "frozen", "autoencoder")

    def __init__(self, owner: StackedAutoencoderModule, frozen: list[nn.Module]) -> None:
        super().__init__(**owner.optim.as_kwargs())
        self.frozen = nn.ModuleList(frozen)
        self.stage_name = ""  # set by `StackedAutoencoderModule.stages`
        self._owner_class = type(owner).__name__
        self._owner_hparams = dict(owner.hparams_initial)
        self._owner_metrics = owner.metric_names()

    def setup(self, stage: str) -> None:
        """The owner checked the data; a stage's own input is the frozen encoders' code.
        Frozen here, before Lightning's model summary counts them (on_fit_start is after)."""
        self._no_placeholder_hp_metric()
        self.frozen.requires_grad_(False)
        if stage == "fit":
            self._use_execution_steps()

    def metric_names(self) -> tuple[str, ...]:
        return self._owner_metrics  # every stage's HPARAMS session has the same columns

    def tensorboard_hparams(self) -> dict:
        """The pipeline's hyper-parameters and this stage's name (one HPARAMS row each)."""
        return {**super().tensorboard_hparams(), **self._owner_hparams,
                "model": self._owner_class, "stage": self.stage_name}

    def teardown(self, stage: str) -> None:
        self.frozen.requires_grad_(True)  # the owner trains them again in a later stage

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.frozen.eval()  # no dropout below the stage being trained

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return ae.pretrain_inputs(list(self.frozen), x)


class _PretrainStage(_Stage):
    """Greedy layer-wise pretraining of one autoencoder on the codes below it (I4)."""

    metric_name = "mse"
    higher_is_better = False

    def __init__(self, owner, frozen, autoencoder: ae.Autoencoder) -> None:
        super().__init__(owner, frozen)
        self.net = autoencoder
        self.output_in_unit_interval = autoencoder.output_activation == "sigmoid"
        self.train_metric = torchmetrics.MeanSquaredError()
        self.val_metric = torchmetrics.MeanSquaredError()

    def trainable_parameters(self):
        return self.net.parameters()

    def _step(self, batch, stage: str) -> torch.Tensor:
        inputs = self.features(batch[0])
        terms = self.net.loss_terms(inputs)
        getattr(self, f"{stage}_metric").update(terms["x_hat"].detach(), inputs)
        return terms["loss"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.features(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.encode(self.features(x))

    def reconstruction_pair(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = self.features(x)
        return inputs, self.net(inputs)


class _HeadStage(_Stage):
    """The softmax head trained on the top features, every encoder frozen (I4)."""

    def __init__(self, owner) -> None:
        super().__init__(owner, [getattr(owner.net, f"encoder{i + 1}")
                                 for i in range(owner.n_encoders)])
        self.head = owner.net.head
        # The head's parameters under their names in the whole network (`head.layer3.*`).
        self._names = board.notes_parameter_names(owner.net)
        self.n_classes, self.head_kind = owner.n_classes, "multiclass"
        self.train_metric = owner.make_accuracy()
        self.val_metric = owner.make_accuracy()

    def trainable_parameters(self):
        return self.head.parameters()

    def logged_parameters(self) -> dict[str, nn.Parameter]:
        trained = {id(p) for p in self.trainable_parameters()}
        return {name: p for name, p in self._names.items() if id(p) in trained}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self(x), dim=1)

    def predict_labels(self, x: torch.Tensor) -> torch.Tensor:
        return self(x).argmax(dim=1)

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        getattr(self, f"{stage}_metric").update(logits.detach(), y)
        return ae.classifier_loss(logits, y)


class StackedAutoencoderModule(AppModule):
    """Stacked autoencoders (I4, Bengio 2007, 003) as a pipeline of separate runs:

      pretrain_1 ... pretrain_k   greedy layer-wise: autoencoder i (sizes[i-1], sizes[i],
                                  sizes[i-1]) learns to reconstruct the codes of encoders
                                  1..i-1 (frozen), `pretrain_epochs` each
      head                        a softmax layer on the top code, encoders frozen,
                                  `head_epochs`
      finetune                    this module: every weight, supervised, `finetune_epochs`

    `python -m lightning_app fit` runs `stages()` one after the other, each a Trainer run
    logged in its own folder of the run directory (TensorBoard shows them as runs side by
    side); the test after fit evaluates the fine-tuned network. The network is
    `torchref.autoencoders.stack_encoders` of the pretrained encoders and the head.
    """

    sizes_argument = "sizes"

    def __init__(
        self,
        *,
        sizes: tuple[int, ...] = (64, 32, 16),
        n_classes: int = 10,
        activation: str = "sigmoid",
        loss: str = "bce",
        hidden_dropout: float = 0.0,
        dropout_kind: str = "inverted",
        pretrain_epochs: int = 10,
        head_epochs: int = 10,
        finetune_epochs: int = 10,
        init: str = "torch_default",
        init_std: float | None = None,
        **optim,
    ) -> None:
        super().__init__(**optim)
        sizes = check_layer_sizes("sizes", sizes, what="widths (d, h1, ..., hk)")
        n_classes = check_count("n_classes", n_classes, low=2)
        for name, v in (("pretrain_epochs", pretrain_epochs), ("head_epochs", head_epochs),
                        ("finetune_epochs", finetune_epochs)):
            check_count(name, v, low=0)
        # Output sigmoid + BCE for the pixel layer (in [0, 1]); the codes of a sigmoid
        # encoder are in (0, 1) as well, so every autoencoder reconstructs with the same loss.
        self.autoencoders = nn.ModuleList(
            ae.Autoencoder((d_in, d_out, d_in), activation, "sigmoid", loss,
                           hidden_dropout=hidden_dropout, dropout_kind=dropout_kind)
            for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        for a in self.autoencoders:
            _initialize(a, init, init_std)
        self.n_encoders = len(self.autoencoders)
        self.n_classes = n_classes
        self.head_kind = "multiclass"
        self.net = ae.stack_encoders([a.encoder for a in self.autoencoders], n_classes)
        self.epochs = {"pretrain": pretrain_epochs, "head": head_epochs,
                       "finetune": finetune_epochs}
        self.train_metric = self.make_accuracy()
        self.val_metric = self.make_accuracy()
        self.test_metric = self.make_accuracy()
        self.stage_results: dict[str, dict[str, float]] = {}

    def make_accuracy(self):
        return torchmetrics.classification.MulticlassAccuracy(
            num_classes=self.n_classes, average="micro", validate_args=False
        )

    @property
    def input_size(self) -> int:
        return self.autoencoders[0].sizes[0]

    def _standardization_refused(self) -> str | None:
        return ("trains its autoencoders with sigmoid outputs and loss 'bce', which need "
                "inputs in [0, 1], and standardized inputs are not")

    def trainable_parameters(self):
        """The stacked classifier; the pretrained autoencoders were copied into it."""
        return self.net.parameters()

    def setup(self, stage: str) -> None:
        super().setup(stage)
        # Not part of the fine-tuned network (stack_encoders copied their encoders): frozen,
        # so the model summary counts them as such.
        self.autoencoders.requires_grad_(False)

    def teardown(self, stage: str) -> None:
        self.autoencoders.requires_grad_(True)

    def stages(self) -> list[tuple[str, pl.LightningModule, int]]:
        """(name, LightningModule, epochs) of each run, in order; the last is this module."""
        out = []
        for i, a in enumerate(self.autoencoders):
            frozen = [b.encoder for b in self.autoencoders[:i]]
            out.append((f"pretrain_{i + 1}", _PretrainStage(self, frozen, a),
                        self.epochs["pretrain"]))
        out.append(("head", _HeadStage(self), self.epochs["head"]))
        for name, stage, _ in out:
            stage.stage_name = name
        out.append(("finetune", self, self.epochs["finetune"]))
        return out

    def metric_names(self) -> tuple[str, ...]:
        return ("acc", "mse")  # the pipeline is tested on accuracy; pretraining has MSE

    def tensorboard_hparams(self) -> dict:
        return {**super().tensorboard_hparams(), "stage": "finetune"}

    embedding_name = "top_code"

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """The code of the top encoder (N, sizes[-1]) of the fine-tuned network."""
        return self.net[:-1](x)

    def on_stage_end(self, name: str, trainer: pl.Trainer) -> None:
        """Record the stage's final metrics; after the last pretraining stage, copy the
        pretrained encoders into the classifier (stack_encoders made copies of them)."""
        self.stage_results[name] = {
            k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1
        }
        if name == f"pretrain_{self.n_encoders}":
            for i, a in enumerate(self.autoencoders):
                getattr(self.net, f"encoder{i + 1}").load_state_dict(a.encoder.state_dict())
        if name == "finetune":
            writer = tensorboard_writer(trainer)
            if writer is not None:
                with never_fatal("the stage summary figure"):
                    draw_stage_summary(writer, self.stage_results, trainer.global_step)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (N, C) of the stacked classifier."""
        return self.net(x)

    def class_scores(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)

    def predict_labels(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).argmax(dim=1)

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.net(x)
        getattr(self, f"{stage}_metric").update(logits.detach(), y)
        return ae.classifier_loss(logits, y)

    def predict_step(self, batch, batch_idx):
        return _class_prediction(self.class_scores(batch[0]))

    def _check_targets(self, dm) -> None:
        self._check_classes(dm, self.n_classes, "n_classes", f"n_classes={self.n_classes}")

    def report(self, datamodule) -> str:
        rows = []
        for name, metrics in self.stage_results.items():
            shown = ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())
                              if k.endswith(("/val", "/train")))
            rows.append(f"  {name}: {shown}")
        return "stages:\n" + "\n".join(rows) if rows else ""

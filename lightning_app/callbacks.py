"""Callbacks of the app: a guard against NaN/inf losses, TensorBoard diagnostics (learning
rate, gradient norms, weight and gradient histograms), figures and the embedding projector.

Imports torch, lightning, torchmetrics and the app's `board` (tag names) and `figures`
(matplotlib and scikit-learn, imported only when a figure is drawn); never scratch.

Everything here stays off the per-step hot path: histograms and figures are drawn every N
epochs, gradient norms every N optimizer steps (one host sync and one TensorBoard event for
all of them), the learning rate once per epoch; the only per-step work is
`FiniteLossGuard`'s one comparison (on a CPU scalar: no device sync) and a step counter test.

Figures read the validation data through `ArrayDataModule.split("val")` and the module's own
prediction methods (`predict_labels`, `class_scores`, `reconstruction_pair`, `encode`), so
they cost one forward pass over the validation set when they are drawn, at the validation
epochs they are due and once when training ends; with validation off
(`--trainer.limit_val_batches 0`) no validation figure is drawn. The projector is written
when the test split is evaluated (`EmbeddingProjector`).

Every callback serves every model: one that does not apply (a confusion matrix of a
regression, reconstructions of a classifier) says so once in the log and draws nothing. A
figure, histogram or summary that fails logs the error and training goes on (`never_fatal`).
Parameters are named as the notes' layers (`layer1.weight`; `board.notes_parameter_names`).
"""

from __future__ import annotations

import contextlib
import math
import shutil
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from lightning_app import board
from lightning_app.checks import check_count
from lightning_app.logger import AppTensorBoardLogger

__all__ = [
    "NonFiniteLossError",
    "FiniteLossGuard",
    "WeightsAndGradients",
    "ConfusionMatrixFigure",
    "DecisionBoundaryFigure",
    "ReconstructionFigure",
    "CodeTableFigure",
    "EmbeddingProjector",
    "tensorboard_writer",
    "log_scalars",
    "logged_parameters",
    "draw_stage_summary",
    "never_fatal",
]


# The hooks Lightning calls once per batch. For each callback and each of them, Lightning's
# dispatch enters a profiler context and calls the hook even when it is Callback's empty one
# (about 1.3 us each; ~30 us per optimizer step for the app's callbacks, ~3% of a digits step).
# It skips an attribute that is not callable (`lightning.pytorch.trainer.call`).
BATCH_HOOKS = (
    "on_train_batch_start", "on_before_backward", "on_after_backward",
    "on_before_optimizer_step", "on_before_zero_grad", "on_train_batch_end",
    "on_validation_batch_start", "on_validation_batch_end", "on_test_batch_start",
    "on_test_batch_end", "on_predict_batch_start", "on_predict_batch_end",
)


def skip_empty_batch_hooks(cls):
    """Class decorator: each per-batch hook `cls` leaves as `Callback`'s empty method becomes
    None, so Lightning's dispatch skips it; the hooks `cls` (or a parent) implements stay. A
    subclass that implements one of them gets it called as usual."""
    for name in BATCH_HOOKS:
        if getattr(cls, name) is getattr(pl.Callback, name):
            setattr(cls, name, None)
    return cls


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN/inf loss; the message says where and which checkpoint to use."""


def tensorboard_writer(trainer: pl.Trainer):
    """The SummaryWriter of the trainer's TensorBoardLogger on rank 0, else None."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


def log_scalars(trainer: pl.Trainer, values: dict[str, float], step: int) -> None:
    """`values` to every logger of the trainer: one TensorBoard event for all of them (a plain
    TensorBoardLogger; the app's `AppTensorBoardLogger` also joins them with the other values
    of the same step), `log_metrics` for any other logger. Rank 0 only."""
    if not trainer.is_global_zero:
        return
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger) and not isinstance(logger, AppTensorBoardLogger):
            board.write_scalars(logger.experiment, values, step)
        else:
            logger.log_metrics(values, step=step)


def logged_parameters(pl_module) -> dict[str, torch.nn.Parameter]:
    """The parameters the module trains, under the notes' layer names when the module says
    them (the app's modules: `logged_parameters()`), else under their PyTorch names."""
    named = getattr(pl_module, "logged_parameters", None)
    return named() if callable(named) else dict(pl_module.named_parameters())


@contextlib.contextmanager
def never_fatal(what: str):
    """Run a figure, histogram or log line; if it fails, log the error and go on."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 (a drawing must never stop training)
        rank_zero_warn(f"{what} failed ({type(exc).__name__}: {exc}); training goes on")


def all_finite(module: torch.nn.Module) -> bool:
    """True if no parameter of `module` holds NaN or inf (one host sync)."""
    params = [p.detach() for p in module.parameters()]
    if not params:
        return True
    return bool(torch.stack([torch.isfinite(p).all() for p in params]).all())


@skip_empty_batch_hooks
class FiniteLossGuard(pl.Callback):
    """Stops training with `NonFiniteLossError` as soon as the training loss is NaN or inf.

    The loss is checked before its backward pass (`on_before_backward`): no gradient of a
    non-finite loss reaches the optimizer, a histogram or a norm, and the weights are still
    those that produced it. `lightning_app.checkpointing.RunCheckpoint` then writes them to
    `last.ckpt` (if they are finite). The check runs every `check_every_n_steps` steps (1:
    every step; on CUDA each check is a device sync, so a larger value trades detection delay
    for speed). Independently, no checkpoint is ever written from non-finite parameters
    (`on_save_checkpoint` refuses), so a checkpoint on disk always holds finite weights.
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        self.check_every_n_steps = check_count("check_every_n_steps", check_every_n_steps)

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        step = trainer.global_step  # optimizer steps done so far
        if step % self.check_every_n_steps:
            return
        loss = loss.detach()
        # A scalar loss (the usual case): one read instead of two tensor ops, ~0.3 us
        # instead of ~10 us per step (docs/performance.md). Still a device sync on CUDA.
        if loss.numel() == 1 and math.isfinite(loss.item()):
            return
        if loss.numel() != 1 and bool(torch.isfinite(loss).all()):
            return
        # With several optimizer steps per Lightning step the module knows the batch.
        batch = getattr(pl_module, "chunk_batch_idx", None)
        if batch is None:
            batch = trainer.fit_loop.epoch_loop.batch_idx
        raise NonFiniteLossError(
            f"the training loss became {float(loss.float().mean())} at step {step} "
            f"(epoch {trainer.current_epoch}, batch {batch}); training stopped before that "
            "step's update. Lower the learning rate, add gradient clipping "
            "(--trainer.gradient_clip_val) or check the data."
        )

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        for name, p in pl_module.named_parameters():
            if not bool(torch.isfinite(p).all()):
                raise NonFiniteLossError(
                    f"refusing to write a checkpoint at step {trainer.global_step}: parameter "
                    f"{name!r} holds NaN/inf"
                )


def _check_every(name: str, value: int) -> int:
    return check_count(name, value, low=0)  # 0: never


@skip_empty_batch_hooks
class WeightsAndGradients(pl.Callback):
    """The training's diagnostics in TensorBoard, all under the notes' parameter names:

      diagnostics/lr                       the learning rate, at the start of every epoch
                                           (`log_lr`; one tag per parameter group if several)
      diagnostics/grad_norm/<parameter>,   gradient norms (`norm_type`) per parameter and of
      diagnostics/grad_norm/total          all of them, every `norm_every_n_steps` optimizer
                                           steps (default: the trainer's `log_every_n_steps`)
      weights/<parameter>,                 histograms (`histogram_bins` equal bins) every
      gradients/<parameter>                `histogram_every_n_epochs` epochs: the weights at
                                           the epoch's end, the gradients of its first step

    The norms are computed together on the device and read with one sync, written as one
    event. Only the parameters the module trains are shown (a stage of the stacked pipeline
    shows its own layers, not the frozen ones or copies kept for other stages).
    """

    def __init__(
        self,
        histogram_every_n_epochs: int = 1,
        norm_every_n_steps: int | None = None,
        norm_type: float = 2.0,
        histogram_bins: int = 64,
        log_lr: bool = True,
    ) -> None:
        self.histogram_every_n_epochs = _check_every(
            "histogram_every_n_epochs", histogram_every_n_epochs
        )
        if norm_every_n_steps is not None:
            _check_every("norm_every_n_steps", norm_every_n_steps)
        self.norm_every_n_steps = norm_every_n_steps
        self.norm_type = float(norm_type)
        self.histogram_bins = check_count("histogram_bins", histogram_bins)
        self.log_lr = log_lr
        self._grad_hist_epoch = -1
        self._params: dict[str, torch.nn.Parameter] = {}
        self._norm_every = 0

    def on_train_start(self, trainer, pl_module) -> None:
        # Here, not in `setup`: the module's own setup (after the callbacks') may build the
        # network first (MLPModule's `hidden_sizes` waits for the data's widths).
        self._params = logged_parameters(pl_module)
        n = self.norm_every_n_steps
        # On rank 0 only: the other ranks log nothing, so they compute nothing either.
        self._norm_every = (n if n is not None else trainer.log_every_n_steps) if (
            trainer.is_global_zero and trainer.loggers) else 0
        self._grad_hist_epoch = -1

    def _histograms_due(self, trainer) -> bool:
        n = self.histogram_every_n_epochs
        return n > 0 and trainer.current_epoch % n == 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if not (self.log_lr and trainer.is_global_zero and trainer.loggers):
            return
        groups = [g for opt in trainer.optimizers for g in opt.param_groups]
        if not groups:
            return
        with never_fatal("the learning rate"):
            if len(groups) == 1:
                values = {board.LR_TAG: groups[0]["lr"]}
            else:
                values = {f"{board.LR_TAG}/group{i + 1}": g["lr"] for i, g in enumerate(groups)}
            log_scalars(trainer, values, trainer.global_step)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        n = self._norm_every
        if not n:
            return
        step = trainer.global_step
        if step % n == 0:
            with never_fatal(f"gradient norms at step {step}"):
                self._log_norms(trainer, step)
        if self._grad_hist_epoch != trainer.current_epoch and self._histograms_due(trainer):
            # The first step of a due epoch: one gradient histogram per parameter.
            self._grad_hist_epoch = trainer.current_epoch
            writer = tensorboard_writer(trainer)
            if writer is not None:
                grads = {f"gradients/{name}": p.grad for name, p in self._params.items()
                         if p.grad is not None}
                self._histograms(writer, grads, step)

    def _log_norms(self, trainer, step: int) -> None:
        named = [(name, p.grad) for name, p in self._params.items() if p.grad is not None]
        if not named:
            return
        norms = torch.stack([torch.linalg.vector_norm(g.detach(), self.norm_type)
                             for _, g in named])
        total = torch.linalg.vector_norm(norms, self.norm_type)
        values = torch.cat([norms, total[None]]).tolist()  # one sync
        tags = [board.grad_norm_tag(name) for name, _ in named] + [board.GRAD_NORM_TOTAL]
        log_scalars(trainer, dict(zip(tags, values, strict=True)), step)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        writer = tensorboard_writer(trainer)
        if writer is not None and self._histograms_due(trainer):
            weights = {f"weights/{name}": p for name, p in self._params.items()}
            self._histograms(writer, weights, trainer.global_step)

    def _histograms(self, writer, tensors: dict[str, torch.Tensor], step: int) -> None:
        # Only the finite values: a histogram of NaN/inf fails ("The histogram is empty"),
        # and an overflowing run is the guard's to stop, not a drawing's.
        for tag, t in tensors.items():
            with never_fatal(f"histogram {tag} at step {step}"):
                values = t.detach().float().flatten()
                finite = values[torch.isfinite(values)].cpu()
                if finite.numel() < values.numel():
                    rank_zero_warn(f"{tag} at step {step}: {values.numel() - finite.numel()} "
                                   "NaN/inf value(s) left out of the histogram")
                if finite.numel():
                    writer.add_histogram(tag, finite, step, bins=self.histogram_bins)


# ---- figures --------------------------------------------------------------------------------


@skip_empty_batch_hooks
class _SplitCallback(pl.Callback):
    """Something drawn from one split of the data (`split`) with the model in eval mode,
    into TensorBoard, on rank 0.

    A model it does not apply to (`skip_reason`: it lacks the methods in `requires`, or its
    head or data do not suit the drawing) is skipped, with one line in the log, so one
    callback list serves every model and every stage of a pipeline. A drawing that fails
    logs the error; training goes on."""

    split = "val"
    requires: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._skip: str | None = None
        self._checked = False
        self._announced: str | None = None

    def skip_reason(self, trainer, pl_module) -> str | None:
        """Why this drawing does not apply to `pl_module` on this data, or None if it does."""
        missing = [r for r in self.requires if not hasattr(pl_module, r)]
        if missing:
            return f"the model has no {', '.join(missing)}"
        dm = trainer.datamodule
        if dm is None or not hasattr(dm, "split"):
            return "it needs an ArrayDataModule (lightning_app.data)"
        return None

    def setup(self, trainer, pl_module, stage: str) -> None:
        # Decided at the first drawing, not here: the module's own setup (after the
        # callbacks') may still build the network (MLPModule's `hidden_sizes`).
        self._skip = None
        self._checked = False

    def _check(self, trainer, pl_module) -> None:
        self._checked = True
        self._skip = self.skip_reason(trainer, pl_module)
        if self._skip and self._skip != self._announced:
            self._announced = self._skip  # once in the log, not again for the test after fit
            rank_zero_info(f"{type(self).__name__}: not drawn for {type(pl_module).__name__} "
                           f"({self._skip})")

    def _draw(self, trainer, pl_module) -> None:
        if not self._checked:
            self._check(trainer, pl_module)
        writer = tensorboard_writer(trainer)
        if writer is None or self._skip:
            return
        step = trainer.global_step
        with never_fatal(f"{type(self).__name__} at step {step}"):
            x, y = trainer.datamodule.split(self.split)
            if not x.shape[0]:
                return
            x = x.to(pl_module.device)
            y = y.to(pl_module.device)
            was_training = pl_module.training
            pl_module.eval()
            try:
                with torch.no_grad():
                    self.render(writer, step, pl_module, x, y)
            finally:
                pl_module.train(was_training)

    def render(self, writer, step, pl_module, x, y) -> None:
        raise NotImplementedError


class _FigureCallback(_SplitCallback):
    """A figure of the validation split every `every_n_epochs` validation epochs (0: never)
    and when training ends, unless validation is off (`limit_val_batches` 0)."""

    def __init__(self, every_n_epochs: int = 0) -> None:
        super().__init__()
        self.every_n_epochs = _check_every("every_n_epochs", every_n_epochs)
        self._drawn_at: int | None = None  # global step of the last figure drawn

    def skip_reason(self, trainer, pl_module) -> str | None:
        if trainer.limit_val_batches == 0:
            return "validation is off (limit_val_batches=0)"
        return super().skip_reason(trainer, pl_module)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        n = self.every_n_epochs
        if trainer.sanity_checking or not n or (trainer.current_epoch + 1) % n:
            return
        self._drawn_at = trainer.global_step  # also when it fails: not retried for the step
        self._draw(trainer, pl_module)

    def on_train_start(self, trainer, pl_module) -> None:
        self._drawn_at = None  # steps count from 0 again in a new fit (e.g. the next stage)

    def on_train_end(self, trainer, pl_module) -> None:
        # The last validation epoch may have drawn this very step's figure already (e.g.
        # epoch 40 with every_n_epochs=20): drawing it again costs a forward pass and a
        # matplotlib render for an identical image.
        if self._drawn_at != trainer.global_step:
            self._drawn_at = trainer.global_step
            self._draw(trainer, pl_module)


class ConfusionMatrixFigure(_FigureCallback):
    """Confusion matrix of the validation split (torchmetrics' counts, scikit-learn's
    display). Tag `figures/confusion_matrix`; also the scalar
    `diagnostics/confusion_matrix_accuracy` (its diagonal over its sum)."""

    requires = ("predict_labels", "n_classes")

    def skip_reason(self, trainer, pl_module) -> str | None:
        reason = super().skip_reason(trainer, pl_module)
        if reason is None and pl_module.n_classes is None:
            return "a regression has no classes"
        return reason

    def render(self, writer, step, pl_module, x, y) -> None:
        from torchmetrics.functional import confusion_matrix

        from lightning_app.figures import confusion_matrix_figure

        pred = pl_module.predict_labels(x)
        k = pl_module.n_classes
        task = "binary" if k == 2 and pl_module.head_kind == "binary" else "multiclass"
        cm = confusion_matrix(pred, y.long(), task=task, num_classes=k).cpu()  # (k, k)
        fig = confusion_matrix_figure(cm, f"validation confusion matrix, step {step}")
        writer.add_figure("figures/confusion_matrix", fig, step)
        board.write_scalars(
            writer, {f"{board.DIAGNOSTICS}/confusion_matrix_accuracy":
                     float(cm.diag().sum() / cm.sum())}, step
        )


class DecisionBoundaryFigure(_FigureCallback):
    """Decision regions of a 2-D classifier over the data's range, with the validation points.

    Tag `figures/decision_boundary`. `resolution` grid points per axis.
    """

    requires = ("class_scores",)

    def __init__(self, every_n_epochs: int = 0, resolution: int = 150) -> None:
        super().__init__(every_n_epochs)
        self.resolution = check_count("resolution", resolution, low=2)

    def skip_reason(self, trainer, pl_module) -> str | None:
        reason = super().skip_reason(trainer, pl_module)
        if reason is not None:
            return reason
        if getattr(pl_module, "n_classes", None) is None:
            return "a regression has no decision boundary"
        d = trainer.datamodule.n_features
        return None if d == 2 else f"it needs 2-D inputs, the data has {d} features"

    def render(self, writer, step, pl_module, x, y) -> None:
        from lightning_app.figures import decision_boundary_figure

        lo = x.min(dim=0).values - 0.5
        hi = x.max(dim=0).values + 0.5
        r = self.resolution
        g0 = torch.linspace(float(lo[0]), float(hi[0]), r, dtype=x.dtype, device=x.device)
        g1 = torch.linspace(float(lo[1]), float(hi[1]), r, dtype=x.dtype, device=x.device)
        scores = pl_module.class_scores(torch.cartesian_prod(g0, g1))  # (r*r, k)
        fig = decision_boundary_figure(g0, g1, scores, x, y, f"decision boundary, step {step}")
        writer.add_figure("figures/decision_boundary", fig, step)


class ReconstructionFigure(_FigureCallback):
    """The first `n_images` validation samples against their reconstructions, drawn as
    images of `image_shape` (default: square) or, for vectors, as two blocks of rows. Tag
    `figures/reconstructions`; the same pixels, enlarged, as `images/reconstructions`."""

    requires = ("reconstruction_pair",)

    def __init__(self, every_n_epochs: int = 0, n_images: int = 8, image_shape=None) -> None:
        super().__init__(every_n_epochs)
        self.n_images = check_count("n_images", n_images)
        self.image_shape = image_shape

    def render(self, writer, step, pl_module, x, y) -> None:
        from lightning_app.figures import (
            image_shape,
            reconstruction_figure,
            reconstruction_image,
        )

        # What the module reconstructs: the input, or (a pretraining stage) the codes below.
        x, x_hat = pl_module.reconstruction_pair(x[: self.n_images])
        unit = bool(pl_module.output_in_unit_interval)
        if unit:
            x_hat = x_hat.clamp(0, 1)
        shape = image_shape(x.shape[1], self.image_shape)
        if shape is not None and shape[0] * shape[1] != x.shape[1]:
            shape = None  # a stage reconstructs codes, not the images the shape is for
        fig = reconstruction_figure(x, x_hat, shape,
                                    f"inputs and reconstructions, step {step}", unit)
        writer.add_figure("figures/reconstructions", fig, step)
        writer.add_image("images/reconstructions", reconstruction_image(x, x_hat, shape), step)


class CodeTableFigure(_FigureCallback):
    """The hidden code of every input (the 8-3-8 encoder's table of 003): activations and
    their rounding to 0/1, as a figure (`figures/hidden_codes`) and as 003's text table
    (`torchref.autoencoders.code_table`, tag `text/hidden_codes`); the scalar
    `diagnostics/distinct_codes` counts the distinct rounded codes."""

    requires = ("reconstruction_pair", "encode")

    def render(self, writer, step, pl_module, x, y) -> None:
        from lightning_app.figures import code_table_figure
        from torchref.autoencoders import code_table, rounded_codes

        x_in, x_hat = pl_module.reconstruction_pair(x)
        h = pl_module.encode(x).float().cpu()  # (N, k)
        bits = rounded_codes(h)
        n = h.shape[0]
        distinct = int(torch.unique(bits, dim=0).shape[0])
        board.write_scalars(writer, {f"{board.DIAGNOSTICS}/distinct_codes": distinct}, step)
        table = code_table(x_in.cpu(), h, x_hat.cpu())
        # Indented: a code block in TensorBoard's markdown, so the columns stay aligned.
        writer.add_text("text/hidden_codes", "\n".join("    " + r for r in table.splitlines()),
                        step)
        fig = code_table_figure(h, bits, f"hidden codes: {distinct} distinct of {n}, step {step}")
        writer.add_figure("figures/hidden_codes", fig, step)


class EmbeddingProjector(_SplitCallback):
    """The learned representation of the test split in TensorBoard's projector, written when
    the test split is evaluated (the test after fit, or `test`): the module's `embedding`
    (an MLP's last hidden layer, an autoencoder's code) of at most `max_points` rows, with
    the labels as metadata and, for image data, a sprite of the inputs (`image_shape`,
    default square). One projector entry per run, named after the representation."""

    split = "test"
    requires = ("embedding",)

    def __init__(self, max_points: int = 2000, image_shape=None) -> None:
        super().__init__()
        self.max_points = check_count("max_points", max_points)
        self.image_shape = image_shape

    def on_test_end(self, trainer, pl_module) -> None:
        self._draw(trainer, pl_module)

    def render(self, writer, step, pl_module, x, y) -> None:
        from lightning_app.figures import sprite_images

        x, y = x[: self.max_points], y[: self.max_points]
        codes = pl_module.embedding(x).float().cpu()
        tag = str(getattr(pl_module, "embedding_name", "embedding"))
        labels = y.cpu().tolist() if y.ndim == 1 else None
        # A second evaluation of the same step replaces the first (torch prints a warning
        # and keeps both otherwise).
        shutil.rmtree(Path(writer.get_logdir()) / f"{step:05d}" / tag, ignore_errors=True)
        writer.add_embedding(codes, metadata=labels, label_img=sprite_images(x, self.image_shape),
                             global_step=step, tag=tag)
        writer.flush()


def draw_stage_summary(writer, results: dict[str, dict[str, float]], step: int) -> None:
    """The stacked pipeline at a glance: each stage's final validation loss, and the
    accuracy of the head alone against the fine-tuned network (`figures/stages`), plus the
    same numbers as a markdown table (`text/stages`)."""
    from lightning_app.figures import stage_summary_figure

    val_loss, val_acc = board.loss_tag("val"), board.metric_tag("acc", "val")
    names = list(results)
    losses = [results[n].get(val_loss, float("nan")) for n in names]
    accs = {n: results[n][val_acc] for n in names if val_acc in results[n]}
    writer.add_figure("figures/stages", stage_summary_figure(names, losses, accs), step)
    rows = ["| stage | val loss | val acc |", "|---|---|---|"]
    for n, loss in zip(names, losses, strict=True):
        acc = f"{accs[n]:.4f}" if n in accs else "-"
        rows.append(f"| {n} | {loss:.4f} | {acc} |")
    writer.add_text("text/stages", "\n".join(rows), step)
    writer.flush()

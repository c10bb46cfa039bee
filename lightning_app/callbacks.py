"""Callbacks of the app: a guard against NaN/inf losses, TensorBoard histograms, gradient norms
and figures.

Imports torch, lightning, torchmetrics and matplotlib (lazily, only when a figure is drawn);
never scratch.

Everything here stays off the per-step hot path: histograms and figures are drawn every N
epochs (and once when training ends), gradient norms every N optimizer steps; the only
per-step work is `FiniteLossGuard`'s one comparison (on a CPU scalar: no device sync).

Figures read the held-out data through `ArrayDataModule.split("val")` and the module's own
prediction methods (`predict_labels`, `class_scores`, `encode`, `forward`), so they cost one
forward pass over the validation set when they are drawn.

Every callback serves every model: one that does not apply (a confusion matrix of a
regression, reconstructions of a classifier) says so once in the log and draws nothing. A
figure, histogram or summary that fails logs the error and training goes on (`never_fatal`).
"""

from __future__ import annotations

import contextlib
import math

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import grad_norm, rank_zero_info, rank_zero_warn

from lightning_app.checks import check_count

__all__ = [
    "NonFiniteLossError",
    "FiniteLossGuard",
    "WeightsAndGradients",
    "ConfusionMatrixFigure",
    "DecisionBoundaryFigure",
    "ReconstructionFigure",
    "CodeTableFigure",
    "tensorboard_writer",
    "draw_stage_summary",
    "never_fatal",
]


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


class WeightsAndGradients(pl.Callback):
    """Weight and gradient histograms every `histogram_every_n_epochs` epochs, gradient norms
    (per parameter and total, `grad_norm` of Lightning) every `norm_every_n_steps` steps
    (default: the trainer's `log_every_n_steps`). Tags: `weights/<name>`, `gradients/<name>`,
    `grad_2.0_norm/<name>`, `grad_2.0_norm_total`.
    """

    def __init__(
        self,
        histogram_every_n_epochs: int = 1,
        norm_every_n_steps: int | None = None,
        norm_type: float = 2.0,
    ) -> None:
        self.histogram_every_n_epochs = _check_every(
            "histogram_every_n_epochs", histogram_every_n_epochs
        )
        if norm_every_n_steps is not None:
            _check_every("norm_every_n_steps", norm_every_n_steps)
        self.norm_every_n_steps = norm_every_n_steps
        self.norm_type = norm_type
        self._grad_hist_epoch = -1

    def _histograms_due(self, trainer) -> bool:
        n = self.histogram_every_n_epochs
        return n > 0 and trainer.current_epoch % n == 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        step = trainer.global_step
        n = self.norm_every_n_steps if self.norm_every_n_steps is not None else (
            trainer.log_every_n_steps
        )
        if n and step % n == 0 and trainer.loggers:
            with never_fatal(f"gradient norms at step {step}"):
                norms = {k: float(v) for k, v in grad_norm(pl_module, self.norm_type).items()}
                if norms:
                    for logger in trainer.loggers:
                        logger.log_metrics(norms, step=step)
        if self._grad_hist_epoch == trainer.current_epoch or not self._histograms_due(trainer):
            return
        # The first step of a due epoch: one gradient histogram per parameter.
        self._grad_hist_epoch = trainer.current_epoch
        writer = tensorboard_writer(trainer)
        if writer is not None:
            grads = {f"gradients/{n}": p.grad for n, p in pl_module.named_parameters()
                     if p.grad is not None}
            self._histograms(writer, grads, step)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        writer = tensorboard_writer(trainer)
        if writer is not None and self._histograms_due(trainer):
            weights = {f"weights/{n}": p for n, p in pl_module.named_parameters()}
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
                    writer.add_histogram(tag, finite, step)


# ---- figures --------------------------------------------------------------------------------


class _FigureCallback(pl.Callback):
    """Draws its figure every `every_n_epochs` validation epochs (0: never) and when training
    ends, into TensorBoard (rank 0 only).

    A model the figure does not apply to (`skip_reason`: it lacks the methods in `requires`,
    or its head or data do not suit the figure) is skipped, with one line in the log, so one
    callback list serves every model and every stage of a pipeline. A figure that fails
    logs the error; training goes on."""

    split = "val"
    requires: tuple[str, ...] = ()

    def __init__(self, every_n_epochs: int = 0) -> None:
        self.every_n_epochs = _check_every("every_n_epochs", every_n_epochs)
        self._skip: str | None = None
        self._announced: str | None = None
        self._drawn_at: int | None = None  # global step of the last figure drawn

    def skip_reason(self, trainer, pl_module) -> str | None:
        """Why this figure does not apply to `pl_module` on this data, or None if it does."""
        missing = [r for r in self.requires if not hasattr(pl_module, r)]
        if missing:
            return f"the model has no {', '.join(missing)}"
        dm = trainer.datamodule
        if dm is None or not hasattr(dm, "split"):
            return "it needs an ArrayDataModule (lightning_app.data)"
        return None

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._skip = self.skip_reason(trainer, pl_module)
        if self._skip and self._skip != self._announced:
            self._announced = self._skip  # once in the log, not again for the test after fit
            rank_zero_info(f"{type(self).__name__}: not drawn for {type(pl_module).__name__} "
                           f"({self._skip})")

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        n = self.every_n_epochs
        if trainer.sanity_checking or not n or (trainer.current_epoch + 1) % n:
            return
        self._draw(trainer, pl_module)

    def on_train_start(self, trainer, pl_module) -> None:
        self._drawn_at = None  # steps count from 0 again in a new fit (e.g. the next stage)

    def on_train_end(self, trainer, pl_module) -> None:
        # The last validation epoch may have drawn this very step's figure already (e.g.
        # epoch 40 with every_n_epochs=20): drawing it again costs a forward pass and a
        # matplotlib render (~0.2 s) for an identical image.
        if self._drawn_at != trainer.global_step:
            self._draw(trainer, pl_module)

    def _draw(self, trainer, pl_module) -> None:
        writer = tensorboard_writer(trainer)
        if writer is None or self._skip:
            return
        step = trainer.global_step
        self._drawn_at = step  # also when it fails: not retried for the same step
        with never_fatal(f"{type(self).__name__} at step {step}"):
            x, y = trainer.datamodule.split(self.split)
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


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=100)


class ConfusionMatrixFigure(_FigureCallback):
    """Confusion matrix of the validation set (torchmetrics), counts in each cell.

    Tag `figures/confusion_matrix`; also scalar `val_confusion/accuracy_from_matrix`.
    """

    requires = ("predict_labels", "n_classes")

    def skip_reason(self, trainer, pl_module) -> str | None:
        reason = super().skip_reason(trainer, pl_module)
        if reason is None and pl_module.n_classes is None:
            return "a regression has no classes"
        return reason

    def render(self, writer, step, pl_module, x, y) -> None:
        from torchmetrics.functional import confusion_matrix

        pred = pl_module.predict_labels(x)
        k = pl_module.n_classes
        task = "binary" if k == 2 and pl_module.head_kind == "binary" else "multiclass"
        cm = confusion_matrix(pred, y.long(), task=task, num_classes=k).cpu()  # (k, k)
        fig = _figure(1.2 + 0.45 * k, 1.0 + 0.45 * k)
        ax = fig.add_subplot()
        ax.imshow(cm.numpy(), cmap="Blues")
        # Counts only in the non-zero cells: text layout is most of the drawing time (100
        # cells of a 10-class matrix took ~0.3 s), and an empty cell reads as 0 at a glance.
        top = int(cm.max())
        for i, j in torch.nonzero(cm).tolist():
            v = int(cm[i, j])
            color = "white" if v > top / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color=color)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_title(f"validation confusion matrix (step {step})", fontsize=9)
        fig.tight_layout()
        writer.add_figure("figures/confusion_matrix", fig, step)
        writer.add_scalar(
            "val_confusion/accuracy_from_matrix", float(cm.diag().sum() / cm.sum()), step
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
        lo = x.min(dim=0).values - 0.5
        hi = x.max(dim=0).values + 0.5
        r = self.resolution
        g0 = torch.linspace(float(lo[0]), float(hi[0]), r, dtype=x.dtype, device=x.device)
        g1 = torch.linspace(float(lo[1]), float(hi[1]), r, dtype=x.dtype, device=x.device)
        grid = torch.cartesian_prod(g0, g1)  # (r*r, 2), first coordinate slowest
        scores = pl_module.class_scores(grid)  # (r*r, k)
        k = scores.shape[1]
        fig = _figure(4.2, 3.6)
        ax = fig.add_subplot()
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        pts = x.cpu().numpy()
        if k == 2:
            score = scores[:, 1].reshape(r, r).T.cpu()  # (r, r): rows = y
            im = ax.imshow(score.numpy(), origin="lower", extent=extent, cmap="RdBu_r",
                           vmin=0.0, vmax=1.0, aspect="auto")
            ax.contour(g0.cpu().numpy(), g1.cpu().numpy(), score.numpy(), levels=[0.5],
                       colors="k", linewidths=1.0)
            ax.scatter(pts[:, 0], pts[:, 1], c=y.cpu().numpy(), cmap="RdBu_r", s=8,
                       edgecolors="k", linewidths=0.3)
            fig.colorbar(im, ax=ax, label="P(class 1)")
        else:  # the predicted class of each point: k regions
            pred = scores.argmax(dim=1).reshape(r, r).T.cpu()
            im = ax.imshow(pred.numpy(), origin="lower", extent=extent, cmap="tab10",
                           vmin=-0.5, vmax=9.5, aspect="auto", alpha=0.6)
            ax.scatter(pts[:, 0], pts[:, 1], c=y.cpu().numpy(), cmap="tab10", vmin=-0.5,
                       vmax=9.5, s=8, edgecolors="k", linewidths=0.3)
            fig.colorbar(im, ax=ax, label="predicted class")
        ax.set_title(f"decision boundary (step {step})", fontsize=9)
        fig.tight_layout()
        writer.add_figure("figures/decision_boundary", fig, step)


def _image_shape(d: int, shape) -> tuple[int, int] | None:
    if shape is not None:
        return tuple(shape)
    side = math.isqrt(d)
    return (side, side) if side * side == d else None


class ReconstructionFigure(_FigureCallback):
    """Inputs (top row) and their reconstructions (bottom row) for the first `n_images`
    validation samples, drawn as images of `image_shape` (default: square). Tag
    `figures/reconstructions`; also `images/reconstructions` as a raw image grid."""

    requires = ("reconstruction_pair",)

    def __init__(self, every_n_epochs: int = 0, n_images: int = 8, image_shape=None) -> None:
        super().__init__(every_n_epochs)
        self.n_images = n_images
        self.image_shape = image_shape

    def render(self, writer, step, pl_module, x, y) -> None:
        # What the module reconstructs: the input, or (a pretraining stage) the codes below.
        x, x_hat = pl_module.reconstruction_pair(x[: self.n_images])
        if pl_module.output_in_unit_interval:
            x_hat = x_hat.clamp(0, 1)
        shape = _image_shape(x.shape[1], self.image_shape)
        n = x.shape[0]
        if shape is None:
            # Not an image: draw each vector as a 1-pixel-high strip.
            shape = (1, x.shape[1])
        imgs = torch.cat([x, x_hat]).reshape(2 * n, 1, *shape).float().cpu()  # (2n, 1, H, W)
        fig = _figure(1.0 * n, 2.4 if shape[0] > 1 else 1.2)
        for row, (label, batch) in enumerate((("input", imgs[:n]), ("reconstruction", imgs[n:]))):
            for i in range(n):
                ax = fig.add_subplot(2, n, row * n + i + 1)
                ax.imshow(batch[i, 0].numpy(), cmap="gray", vmin=0.0, vmax=1.0, aspect="auto")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_ylabel(label, fontsize=7)
        fig.suptitle(f"inputs and reconstructions (step {step})", fontsize=9)
        writer.add_figure("figures/reconstructions", fig, step)
        lo, hi = imgs.min(), imgs.max()
        writer.add_images("images/reconstructions", (imgs - lo) / (hi - lo + 1e-12), step)


class CodeTableFigure(_FigureCallback):
    """The hidden code of every input (the 8-3-8 encoder's table of 003): activations and
    their rounding to 0/1, as a figure (`figures/hidden_codes`) and as 003's text table
    (`torchref.autoencoders.code_table`, tag `text/hidden_codes`); scalar
    `codes/distinct_rounded` counts the distinct rounded codes."""

    requires = ("reconstruction_pair", "encode")

    def render(self, writer, step, pl_module, x, y) -> None:
        from torchref.autoencoders import code_table, rounded_codes

        x_in, x_hat = pl_module.reconstruction_pair(x)
        h = pl_module.encode(x).float().cpu()  # (N, k)
        bits = rounded_codes(h)
        n, k = h.shape
        distinct = int(torch.unique(bits, dim=0).shape[0])
        writer.add_scalar("codes/distinct_rounded", float(distinct), step)
        table = code_table(x_in.cpu(), h, x_hat.cpu())
        # Indented: a code block in TensorBoard's markdown, so the columns stay aligned.
        writer.add_text("text/hidden_codes", "\n".join("    " + r for r in table.splitlines()),
                        step)
        fig = _figure(1.4 + 0.7 * k, 0.8 + 0.35 * n)
        ax = fig.add_subplot()
        ax.imshow(h.numpy(), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        for i in range(n):
            for j in range(k):
                ax.text(j, i, f"{h[i, j]:.2f}\n({int(bits[i, j])})", ha="center", va="center",
                        fontsize=6, color="white" if h[i, j] < 0.5 else "black")
        ax.set_xticks(range(k), [f"h{j + 1}" for j in range(k)])
        ax.set_yticks(range(n), [str(i + 1) for i in range(n)])
        ax.set_ylabel("input")
        ax.set_title(f"hidden codes: {distinct} distinct of {n} (step {step})", fontsize=9)
        fig.tight_layout()
        writer.add_figure("figures/hidden_codes", fig, step)


def draw_stage_summary(writer, results: dict[str, dict[str, float]], step: int) -> None:
    """The stacked pipeline at a glance: each stage's final validation loss, and the
    accuracy of the head alone against the fine-tuned network (`figures/stages`), plus the
    same numbers as a markdown table (`text/stages`)."""
    names = list(results)
    losses = [results[n].get("val_loss", float("nan")) for n in names]
    accs = {n: results[n]["val_acc"] for n in names if "val_acc" in results[n]}
    fig = _figure(3.0 + 1.2 * len(names), 3.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.bar(range(len(names)), losses, color="tab:blue")
    ax.set_xticks(range(len(names)), names, rotation=30, fontsize=7)
    ax.set_title("final validation loss per stage", fontsize=9)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.bar(range(len(accs)), list(accs.values()), color="tab:green")
    ax2.set_xticks(range(len(accs)), list(accs), fontsize=7)
    ax2.set_ylim(0, 1)
    ax2.set_title("validation accuracy", fontsize=9)
    fig.tight_layout()
    writer.add_figure("figures/stages", fig, step)
    rows = ["| stage | val loss | val acc |", "|---|---|---|"]
    for n, loss in zip(names, losses, strict=True):
        acc = f"{accs[n]:.4f}" if n in accs else "-"
        rows.append(f"| {n} | {loss:.4f} | {acc} |")
    writer.add_text("text/stages", "\n".join(rows), step)
    writer.flush()

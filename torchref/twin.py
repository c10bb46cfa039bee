"""The NumPy twin of a torch training run: `scratch` trains the same MLP beside torch, step for
step, from the same initial weights on the same batches, and says how far apart they are.

Imports torch (the network it mirrors, and autograd to read the dropout masks torch drew) and
scratch: the layers (`scratch.mlp`, `scratch.normalization`, `scratch.dropout`), the update
rules (`scratch.optim` for the notes' optimizers, `scratch.trace`'s `torch_*_update` for
torch.optim's built-ins) and the schedules (`scratch.schedules`). Every number the twin
computes comes out of one of those functions: this module reads the torch network's layout,
copies its initial weights, and calls the scratch function of each layer, forward in the
network's order and backward in reverse. It is the one place where torchref drives a scratch
training run (docs/design.md, "Rooms"); the Lightning app feeds it each batch
(`lightning_app/twin.py`, `python -m lightning_app fit --twin scratch`).

    twin = ScratchTwin(net, optimizer="adam", lr=3e-3, scheduler="exponential",
                       scheduler_args={"k": 0.05})
    # per training step, after torch's step on the same batch:
    loss = twin.train_step(x, y, masks, epoch=e, step=t)   # masks: read_dropout_mask(...)
    twin.difference(net)       # Difference(abs=..., rel=...): scratch against torch
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from scratch import optim as sopt
from scratch.dropout import (
    classic_dropout_backward,
    classic_dropout_forward,
    inverted_dropout_backward,
    inverted_dropout_forward,
)
from scratch.mlp import (
    HIDDEN_ACTIVATIONS,
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
    head_loss,
    head_loss_grad,
    head_output,
)
from scratch.normalization import RunningStats, batchnorm_backward, batchnorm_forward
from scratch.schedules import SCHEDULES
from scratch.trace import (
    torch_adagrad_update,
    torch_adam_update,
    torch_momentum_update,
    torch_nesterov_update,
    torch_rmsprop_update,
)
from torchref.dropout import ClassicDropout
from torchref.mlp import MLP

__all__ = [
    "TWIN_OPTIMIZERS",
    "TwinError",
    "Difference",
    "ScratchTwin",
    "read_dropout_mask",
]


class TwinError(ValueError):
    """A run the NumPy twin cannot mirror; the message says what and why, in one line."""


# ---- optimizers: torchref.optim.OPTIMIZERS name -> the same rule in scratch -----------------


def _torch_sgd(p, g, s, lr, hp, i):
    if not hp["momentum"]:
        sopt.gd_update(p, g, lr=lr, out=p)
        return
    v = s.setdefault("momentum_buffer", np.zeros_like(p))
    p[...], s["momentum_buffer"] = torch_momentum_update(p, g, v, lr=lr, mu=hp["momentum"])


def _torch_nesterov(p, g, s, lr, hp, i):
    v = s.setdefault("momentum_buffer", np.zeros_like(p))
    p[...], s["momentum_buffer"] = torch_nesterov_update(p, g, v, lr=lr, mu=hp["momentum"])


def _torch_adagrad(p, g, s, lr, hp, i):
    acc = s.setdefault("sum", np.zeros_like(p))
    p[...], s["sum"] = torch_adagrad_update(p, g, acc, lr=lr, eps=hp["eps"])


def _torch_rmsprop(p, g, s, lr, hp, i):
    v = s.setdefault("square_avg", np.zeros_like(p))
    p[...], s["square_avg"] = torch_rmsprop_update(p, g, v, lr=lr, beta=hp["alpha"], eps=hp["eps"])


def _torch_adam(p, g, s, lr, hp, i):
    m = s.setdefault("exp_avg", np.zeros_like(p))
    v = s.setdefault("exp_avg_sq", np.zeros_like(p))
    beta1, beta2 = hp["betas"]
    p[...], s["exp_avg"], s["exp_avg_sq"] = torch_adam_update(
        p, g, m, v, i, lr=lr, beta1=beta1, beta2=beta2, eps=hp["eps"]
    )


@dataclass(frozen=True)
class _TwinOptimizer:
    """How the twin steps like one entry of `torchref.optim.OPTIMIZERS`: the hyper-parameters
    it models (torch's names and defaults; any other `optimizer_args` key is refused), and
    either a torch.optim rule of `scratch.trace` applied per parameter (`rule`) or a class of
    `scratch.optim` (`notes`, built from the hyper-parameters)."""

    defaults: dict
    rule: Callable | None = None
    notes: Callable | None = None


TWIN_OPTIMIZERS: dict[str, _TwinOptimizer] = {
    "sgd": _TwinOptimizer({"momentum": 0.0}, rule=_torch_sgd),
    "momentum": _TwinOptimizer({"momentum": 0.9}, rule=_torch_sgd),
    "nesterov": _TwinOptimizer({"momentum": 0.9}, rule=_torch_nesterov),
    "adagrad": _TwinOptimizer({"eps": 1e-10}, rule=_torch_adagrad),
    "rmsprop": _TwinOptimizer({"alpha": 0.99, "eps": 1e-8}, rule=_torch_rmsprop),
    "adam": _TwinOptimizer({"betas": (0.9, 0.999), "eps": 1e-8}, rule=_torch_adam),
    "notes_sgd": _TwinOptimizer({"momentum": 0.0}, notes=sopt.SGD),
    "notes_momentum": _TwinOptimizer({"momentum": 0.9}, notes=sopt.SGD),
    "notes_adagrad": _TwinOptimizer({"eps0": 1e-10}, notes=sopt.Adagrad),
    "notes_rmsprop": _TwinOptimizer({"beta": 0.99, "eps0": 1e-8}, notes=sopt.RMSprop),
    "notes_adam": _TwinOptimizer({"betas": (0.999, 0.9), "eps0": 1e-8}, notes=sopt.Adam),
}


class _Stepper:
    """One optimizer of `TWIN_OPTIMIZERS` over the twin's parameter list, at a given lr."""

    def __init__(self, name: str, optimizer_args: dict | None) -> None:
        if name not in TWIN_OPTIMIZERS:
            raise TwinError(
                f"the NumPy twin has no optimizer {name!r}; it mirrors "
                f"{', '.join(TWIN_OPTIMIZERS)}"
            )
        spec = TWIN_OPTIMIZERS[name]
        args = dict(optimizer_args or {})
        extra = sorted(set(args) - set(spec.defaults))
        if extra:
            modelled = ", ".join(spec.defaults) or "none"
            raise TwinError(
                f"the NumPy twin does not model optimizer_args {', '.join(extra)} of {name!r} "
                f"(it models: {modelled})"
            )
        self.hparams = {**spec.defaults, **args}
        self.rule = spec.rule
        try:
            self.notes = None if spec.rule else spec.notes(lr=0.0, **self.hparams)
        except (TypeError, ValueError) as exc:
            raise TwinError(f"the NumPy twin's optimizer {name!r}: {exc}") from exc
        self.state: list[dict] = []
        self.steps = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        if self.notes is not None:
            self.notes.lr = lr  # the schedule's lr for this step, as torch's param group has
            self.notes.step(params, grads)
            return
        if not self.state:
            self.state = [{} for _ in params]
        self.steps += 1
        for p, g, s in zip(params, grads, self.state, strict=True):
            self.rule(p, g, s, lr, self.hparams, self.steps)


# ---- the network: torch's layers, each mirrored by its scratch functions --------------------


@dataclass(frozen=True)
class _Layer:
    """One module of the torch network's `nn.Sequential` and what the twin calls for it."""

    kind: str  # "linear", "batch_norm", "activation", "dropout"
    index: int = -1  # first parameter in the twin's list (linear, batch_norm)
    name: str = ""  # activation name, or dropout kind ("inverted" / "classic")
    p: float = 0.0  # dropout probability
    eps: float = 0.0  # batch norm's eps
    stats: int = -1  # which running statistics (batch_norm)


def _plan(net: nn.Module) -> tuple[list[_Layer], list[float | None]]:
    """The twin's layers for a `torchref.mlp.MLP`, and each batch norm's momentum."""
    if not isinstance(net, MLP):
        raise TwinError(f"the NumPy twin mirrors torchref.mlp.MLP, got {type(net).__name__}")
    layers, momenta, k = [], [], 0
    names = iter(net.activations)
    for module in net.net:
        if isinstance(module, nn.Linear):
            layers.append(_Layer("linear", index=k))
            k += 2
        elif isinstance(module, nn.BatchNorm1d):
            if not (module.affine and module.track_running_stats):
                raise TwinError("the NumPy twin mirrors batch norm with affine=True and "
                                "running statistics only")
            layers.append(_Layer("batch_norm", index=k, eps=module.eps, stats=len(momenta)))
            momenta.append(module.momentum)
            k += 2
        elif isinstance(module, nn.Dropout | ClassicDropout):
            kind = "classic" if isinstance(module, ClassicDropout) else "inverted"
            layers.append(_Layer("dropout", name=kind, p=float(module.p)))
        else:
            name = next(names)
            if name not in HIDDEN_ACTIVATIONS.options or any(True for _ in module.parameters()):
                raise TwinError(
                    f"the NumPy twin has no activation {name!r}; it mirrors "
                    f"{', '.join(HIDDEN_ACTIVATIONS.options)}"
                )
            layers.append(_Layer("activation", name=name))
    return layers, momenta


def read_dropout_mask(x: torch.Tensor, out: torch.Tensor) -> np.ndarray:
    """The keep-mask a dropout module drew in `out = dropout(x)` (training, x requiring grad),
    as a 0/1 array of x's dtype.

    Read with autograd: d out / d x is the mask times the layer's scale (1/(1 - p) for
    `nn.Dropout`, 1 for `ClassicDropout`), exact whatever x holds (a unit whose input is 0
    shows no mask in `out`, but its gradient does) and on any device, whichever kernel drew
    the mask. Shapes: x, out (N, n) -> (N, n).
    """
    (factor,) = torch.autograd.grad(out, x, torch.ones_like(out), retain_graph=True)
    factor = factor.detach().cpu().numpy()
    return (factor != 0).astype(factor.dtype)


@dataclass(frozen=True)
class Difference:
    """How far the twin is from torch, each the largest over every entry:

    abs            |torch - scratch| over the parameters the loss depends on
    rel            per layer (a Linear's W and b, a batch norm's gamma and beta), its largest
                   |torch - scratch| over its largest |scratch|: relative to the layer's own
                   scale (an entry-wise ratio explodes at entries near 0)
    bias_before_batch_norm   |torch - scratch| over the biases of Linear layers that a batch
                   norm follows. The loss does not depend on them (batch norm subtracts the
                   batch mean), so their exact gradient is 0 and what each side computes is
                   its own rounding noise; Adam-like optimizers scale that noise up to
                   lr-sized steps, so these biases wander apart (docs/app.md, "--twin")
    running_stats  |torch - scratch| over the batch norms' running means and variances
    """

    abs: float = 0.0
    rel: float = 0.0
    bias_before_batch_norm: float = 0.0
    running_stats: float = 0.0

    def worst(self, other: Difference) -> Difference:
        """Field by field the larger of the two."""
        return Difference(*(max(getattr(self, f.name), getattr(other, f.name))
                            for f in fields(self)))


def _gap(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want), initial=0.0))


def _relative(groups: list[list[tuple[np.ndarray, np.ndarray]]]) -> float:
    """The largest, over the groups (layers), of max |got - want| / max |want|."""
    worst = 0.0
    for pairs in groups:
        gap = max((_gap(g, w) for g, w in pairs), default=0.0)
        scale = max((float(np.max(np.abs(w), initial=0.0)) for _, w in pairs), default=0.0)
        worst = max(worst, gap / scale if scale else (0.0 if gap == 0 else np.inf))
    return worst


class ScratchTwin:
    """The scratch twin of a `torchref.mlp.MLP` and its optimizer and schedule.

    Built from the torch network as it starts training (its current weights are copied), the
    name of its optimizer in `torchref.optim.OPTIMIZERS` with `lr` and `optimizer_args`, and
    its schedule (`scheduler` of `torchref.schedules.SCHEDULERS`, `scheduler_args`, stepped
    per "epoch" or per "step"). Anything it cannot mirror raises `TwinError` here, before
    any step: another network, an activation with parameters (prelu), batch norm without
    running statistics, an optimizer not in `TWIN_OPTIMIZERS`, an optimizer argument it does
    not model. Parameters are kept in `net.parameters()` order and dtype (float32 or
    float64); batch norm's running statistics as `scratch.normalization.RunningStats`.

    Each step is the network's modules in order, each by its scratch function
    (`dense_forward`, `batchnorm_forward` with the batch statistics, `activation_forward`,
    the dropout of its kind with the mask torch drew), the head's loss and gradient
    (`head_loss`, `head_loss_grad`), the backward functions in reverse, and the update rule at
    the lr `scratch.schedules.SCHEDULES[scheduler]` gives for the epoch or step.
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        optimizer: str,
        lr: float,
        optimizer_args: dict | None = None,
        scheduler: str | None = None,
        scheduler_args: dict | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        self.layers, momenta = _plan(net)
        self.head = net.head
        self.stepper = _Stepper(optimizer, optimizer_args)
        if scheduler is not None and scheduler not in SCHEDULES:
            raise TwinError(f"the NumPy twin has no schedule {scheduler!r}; it mirrors "
                            f"{', '.join(SCHEDULES)}")
        if scheduler_interval not in ("epoch", "step"):
            raise TwinError(f"scheduler_interval must be 'epoch' or 'step', got "
                            f"{scheduler_interval!r}")
        self.lr0 = float(lr)
        self.schedule = SCHEDULES[scheduler] if scheduler is not None else None
        self.schedule_args = dict(scheduler_args or {})
        self.per_step = scheduler_interval == "step"
        self.lr_at(0, 0)  # a bad schedule argument is refused now, not at the first step
        self.params = [p.detach().cpu().numpy().copy() for p in net.parameters()]
        self.dtype = self.params[0].dtype
        self.stats = [RunningStats.init(self.params[layer.index].shape[0], momenta[layer.stats],
                                        dtype=self.dtype)
                      for layer in self.layers if layer.kind == "batch_norm"]
        self.n_masks = sum(layer.kind == "dropout" for layer in self.layers)

    @staticmethod
    def dropout_modules(net: nn.Module) -> list[nn.Module]:
        """The dropout modules of `net`, in forward order: the masks `train_step` takes come
        from these, one per module per step (`read_dropout_mask` in a forward hook)."""
        return [m for m in net.net if isinstance(m, nn.Dropout | ClassicDropout)]

    def lr_at(self, epoch: int, step: int) -> float:
        """The learning rate of the step taken at `epoch` / global `step` (both from 0)."""
        if self.schedule is None:
            return self.lr0
        t = step if self.per_step else epoch
        try:
            return float(self.schedule(t, self.lr0, **self.schedule_args))
        except (TypeError, ValueError) as exc:
            raise TwinError(f"the NumPy twin's schedule: {exc}") from exc

    def _forward(self, x: np.ndarray, training: bool, masks: Sequence[np.ndarray]):
        a, caches, masks = x, [], list(masks)
        P = self.params
        for layer in self.layers:
            if layer.kind == "linear":
                a, cache = dense_forward(a, P[layer.index], P[layer.index + 1])
            elif layer.kind == "batch_norm":
                j = layer.stats
                a, cache, self.stats[j] = batchnorm_forward(
                    a, P[layer.index], P[layer.index + 1], self.stats[j], training, layer.eps
                )
            elif layer.kind == "activation":
                a, cache = activation_forward(a, layer.name)
            else:
                forward = (inverted_dropout_forward if layer.name == "inverted"
                           else classic_dropout_forward)
                mask = masks.pop(0) if training else None
                a, cache = forward(a, layer.p, training, mask=mask)
            caches.append(cache)
        return a, caches

    def _backward(self, dlogits: np.ndarray, caches: list) -> list[np.ndarray]:
        grads: list[np.ndarray] = [None] * len(self.params)
        d = dlogits
        for at in range(len(self.layers) - 1, -1, -1):
            layer, cache = self.layers[at], caches[at]
            k = layer.index
            if layer.kind == "linear":
                d, grads[k], grads[k + 1] = dense_backward(d, cache, need_dx=at > 0)
            elif layer.kind == "batch_norm":
                d, grads[k], grads[k + 1] = batchnorm_backward(d, cache)
            elif layer.kind == "activation":
                d = activation_backward(d, cache)
            else:
                backward = (inverted_dropout_backward if layer.name == "inverted"
                            else classic_dropout_backward)
                d = backward(d, cache)
        return grads

    def _targets(self, y: np.ndarray) -> np.ndarray:
        return y if self.head == "multiclass" else y.astype(self.dtype)

    def train_step(self, x, y, masks: Sequence[np.ndarray], *, epoch: int, step: int) -> float:
        """One training step on the batch (x, y) (NumPy, as torch saw it) with the dropout
        masks torch drew (one per dropout module, in forward order); returns the batch's loss
        before the update. Shapes: x (N, d); y as `scratch.mlp.check_targets`."""
        if len(masks) != self.n_masks:
            raise TwinError(f"the twin needs {self.n_masks} dropout mask(s) per step, got "
                            f"{len(masks)}")
        y = self._targets(y)
        logits, caches = self._forward(x, True, masks)
        loss = head_loss(logits, y, self.head)
        grads = self._backward(head_loss_grad(logits, y, self.head), caches)
        self.stepper.step(self.params, grads, self.lr_at(epoch, step))
        return loss

    def evaluate(self, x, y) -> tuple[float, float | None]:
        """(loss, accuracy) on (x, y) in eval mode: batch norm with the running statistics,
        dropout as at test time; accuracy None for the regression head."""
        y = self._targets(y)
        logits, _ = self._forward(x, False, ())
        loss = head_loss(logits, y, self.head)
        if self.head == "regression":
            return loss, None
        if self.head == "binary":
            predicted = (head_output(logits, "binary")[:, 0] > 0.5).astype(y.dtype)
        else:
            predicted = np.argmax(logits, axis=1)
        return loss, float(np.mean(predicted == y.reshape(predicted.shape)))

    def difference(self, net: nn.Module) -> Difference:
        """How far this twin's parameters (and running statistics) are from `net`'s now."""
        torch_params = [p.detach().cpu().numpy() for p in net.parameters()]
        pairs = list(zip(torch_params, self.params, strict=True))
        norms = [m for m in net.net if isinstance(m, nn.BatchNorm1d)]
        groups, noise, stats = [], [], []
        for at, layer in enumerate(self.layers):
            k = layer.index
            if layer.kind == "linear":
                if self._normalized(at):
                    groups.append([pairs[k]])
                    noise.append(pairs[k + 1])
                else:
                    groups.append([pairs[k], pairs[k + 1]])
            elif layer.kind == "batch_norm":
                groups.append([pairs[k], pairs[k + 1]])
                m, s = norms[layer.stats], self.stats[layer.stats]
                stats += [(m.running_mean.detach().cpu().numpy(), s.running_mean),
                          (m.running_var.detach().cpu().numpy(), s.running_var)]
        return Difference(
            abs=max(_gap(g, w) for group in groups for g, w in group),
            rel=_relative(groups),
            bias_before_batch_norm=max((_gap(g, w) for g, w in noise), default=0.0),
            running_stats=max((_gap(g, w) for g, w in stats), default=0.0),
        )

    def _normalized(self, at: int) -> bool:
        """Is layer `at` (a Linear) followed by a batch norm, which cancels its bias?"""
        return at + 1 < len(self.layers) and self.layers[at + 1].kind == "batch_norm"

"""The notes' optimizers in PyTorch (catalog F1-F17): built-ins where the notes' rule is one,
`torch.optim.Optimizer` subclasses where it is not, and a registry for the Lightning app.

Imports torch, `scratch.validation` (every hyper-parameter's range and torch's words for it,
`check_optimizer_hparam`) and `torchref.checks` (the same array checks on tensors).

Where the notes' rule equals a built-in (proved step for step in parity_tests/test_optim.py):
  GD / SGD (F1, F7, F8)          torch.optim.SGD(lr=eps)
  L2 weight decay (F16)          torch.optim.SGD(lr=eps, weight_decay=lambda)
  momentum, constant lr (F9)     torch.optim.SGD(lr=eps, momentum=mu); torch's buffer = -m/eps
  Nesterov, constant lr (F10)    torch.optim.SGD(lr=eps, momentum=mu, nesterov=True) iterates
                                 the look-ahead point w + mu m (a change of variables)
  Adagrad (F12)                  NotesAdagrad = torch.optim.Adagrad(lr=eps, eps=0,
                                 initial_accumulator_value=eps0) (a constructor mapping only)
Where it differs (docs/optimizers.md has the measured gaps):
  NotesSGD       momentum as `m <- mu m - eps g, w <- w + m` (the lr enters the buffer, so an
                 lr schedule acts differently), Nesterov with the gradient taken at w + mu m
                 (needs a closure), L1 (F17)
  NotesRMSprop   eps0 inside the square root (F13)
  NotesAdam      002's Adam: its beta naming, eps0 inside the root (F14)
  AdamThenSGD    the notes' Adam, then the notes' momentum SGD after `switch_step` steps (F15)

Every class takes plain keyword arguments with type hints and defaults, so LightningCLI can
build it from YAML (`class_path: torchref.optim.NotesAdam`, `init_args: {lr: 0.001}`), and
`make_optimizer(name, params, **hparams)` builds any entry of `OPTIMIZERS` by name.
Style after torch/optim/adam.py: the algorithm in the class docstring, a functional update,
constructor validation with torch's words ("Invalid learning rate: -1.0").

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: F1, F2, F5, F6, F7, F8, F9, F10, F16, F18, F19, F20 -> torch.optim:SGD
Catalog: F3, F4 -> torch.autograd:grad
Catalog: F5 -> torch.nn.functional:mse_loss
Catalog: F6 -> torch.nn.functional:binary_cross_entropy_with_logits
Catalog: F7 -> torch:abs, torch.optim.lr_scheduler:LambdaLR
Catalog: F8 -> torch.utils.data:DataLoader
Catalog: F12 -> torch.optim:Adagrad
Catalog: F13 -> torch.optim:RMSprop
Catalog: F14 -> torch.optim:Adam
Catalog: F17 -> torch:abs
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import partial

import torch
from torch import Tensor
from torch.optim import Optimizer

from scratch.validation import (
    COUNT,
    NONNEGATIVE_INT,
    Choice,
    check_interval,
    check_nesterov,
    check_param_lists,
)
from scratch.validation import check_optimizer_hparam as _hp
from torchref.checks import finite_tensor

__all__ = [
    "NotesSGD",
    "NotesAdagrad",
    "NotesRMSprop",
    "NotesAdam",
    "AdamThenSGD",
    "notes_sgd",
    "notes_rmsprop",
    "notes_adam",
    "OPTIMIZERS",
    "make_optimizer",
]


def _check_functional(params, grads, **state) -> None:
    """The checks `scratch.optim`'s `step` makes, in its words: equal lengths, equal shapes,
    finite gradients (one host copy per gradient: these are the public reference functions;
    the optimizer classes call the unchecked `_notes_*` bodies)."""
    check_param_lists(params, grads, **state)
    for i, g in enumerate(grads):
        finite_tensor(f"grads[{i}]", g)


# ---- functional updates (one formula each; the classes gather state and call them) --------


@torch.no_grad()
def notes_sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
) -> None:
    """`w <- w - eps g` (momentum 0) or `m <- mu m - eps g`, `w <- w + m`, in place.

    `grads` already hold any L2/L1 terms and, for Nesterov, were taken at the look-ahead
    point; `momentum_buffers` hold the notes' `m` (None entries are ignored when momentum = 0).
    Arguments are checked as `scratch.optim.SGD` checks them (same messages).
    Catalog: F1, F9.
    """
    _check_functional(params, grads, momentum_buffers=momentum_buffers)
    lr, momentum = _hp("lr", lr), _hp("momentum", momentum)
    if momentum and any(b is None for b in momentum_buffers):
        raise ValueError("momentum_buffers must hold a tensor per parameter when momentum > 0")
    _notes_sgd(params, grads, momentum_buffers, lr, momentum)


def _notes_sgd(params, grads, momentum_buffers, lr, momentum) -> None:
    for p, g, buf in zip(params, grads, momentum_buffers, strict=True):
        if momentum == 0.0:
            p.add_(g, alpha=-lr)
        else:
            buf.mul_(momentum).add_(g, alpha=-lr)
            p.add_(buf)


@torch.no_grad()
def notes_rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    *,
    lr: float,
    beta: float,
    eps0: float,
) -> None:
    """`alpha <- beta alpha + (1 - beta) g^2`, `w <- w - eps g / sqrt(alpha + eps0)`, in place.

    Arguments are checked as `scratch.optim.RMSprop` checks them (same messages).
    Catalog: F13.
    """
    _check_functional(params, grads, square_avgs=square_avgs)
    _notes_rmsprop(params, grads, square_avgs, _hp("lr", lr), _hp("beta", beta), _hp("eps0", eps0))


def _notes_rmsprop(params, grads, square_avgs, lr, beta, eps0) -> None:
    for p, g, sq in zip(params, grads, square_avgs, strict=True):
        sq.mul_(beta).addcmul_(g, g, value=1.0 - beta)
        p.addcdiv_(g, (sq + eps0).sqrt_(), value=-lr)


@torch.no_grad()
def notes_adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    steps: list[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps0: float,
) -> None:
    """002's Adam, in place: beta1 decays `alpha` (exp_avg_sq), beta2 decays `m` (exp_avg).

    `steps` are the step numbers i (from 1) of this update, one per parameter. Arguments are
    checked as `scratch.optim.adam_update` checks them (same messages). A gradient entry
    whose square overflows leaves its parameter entry unmoved, as in torch.optim.Adam (see
    `scratch.optim.adam_update`).
    Catalog: F14.
    """
    _check_functional(params, grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs)
    if len(steps) != len(params):
        raise ValueError(
            f"params and steps must have the same length, got {len(params)} and {len(steps)}"
        )
    steps = [check_interval(f"steps[{k}]", i, COUNT) for k, i in enumerate(steps)]
    beta1, beta2 = _hp("beta1", beta1), _hp("beta2", beta2)
    _notes_adam(params, grads, exp_avgs, exp_avg_sqs, steps, _hp("lr", lr), beta1, beta2,
                _hp("eps0", eps0))


def _notes_adam(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps0) -> None:
    for p, g, m, alpha, i in zip(params, grads, exp_avgs, exp_avg_sqs, steps, strict=True):
        alpha.mul_(beta1).addcmul_(g, g, value=1.0 - beta1)
        m.mul_(beta2).add_(g, alpha=1.0 - beta2)
        denom = (alpha / (1.0 - beta1**i) + eps0).sqrt_()  # sqrt(alpha_hat + eps0)
        p.addcdiv_(m, denom, value=-lr / (1.0 - beta2**i))  # m_hat = m / (1 - beta2^i)


def _regularized(g: Tensor, w: Tensor, weight_decay: float, l1: float) -> Tensor:
    if weight_decay:
        g = g.add(w, alpha=weight_decay)
    if l1:
        g = g.add(torch.sign(w), alpha=l1)
    return g


# ---- optimizers ---------------------------------------------------------------------------


class NotesSGD(Optimizer):
    r"""The notes' GD / SGD with momentum, Nesterov, L2 and L1 (002 §4.3.5, §4.4.2).

    .. math::
       \begin{aligned}
       &\textbf{input}: \epsilon \text{ (lr)}, \mu \text{ (momentum)}, \lambda_2
            \text{ (weight\_decay)}, \lambda_1 \text{ (l1)}, \text{nesterov}; \quad m_0 = 0 \\
       &\textbf{for } i = 0, 1, \dots \\
       &\quad \tilde w \leftarrow w_i + \mu m_i \text{ if nesterov else } w_i
            \quad \text{(the closure is evaluated at } \tilde w) \\
       &\quad g \leftarrow \nabla L(\tilde w) + \lambda_2 \tilde w
            + \lambda_1 \operatorname{sign}(\tilde w) \\
       &\quad \textbf{if } \mu = 0: \; w_{i+1} \leftarrow w_i - \epsilon g \\
       &\quad \textbf{else}: \; m_{i+1} \leftarrow \mu m_i - \epsilon g, \quad
            w_{i+1} \leftarrow w_i + m_{i+1}
       \end{aligned}

    Catalog: F1, F9, F10, F16, F17. Differences from `torch.optim.SGD`:
    - momentum: torch keeps `v <- mu v + g` and steps `-lr v`; with a constant lr `m = -lr v`
      (identical runs), but when a scheduler changes lr, torch rescales all past velocity by
      the new lr while `m` keeps the old one;
    - nesterov: torch's parameter is the look-ahead point `w + mu m` itself (Sutskever's
      reformulation), so its iterates differ from the notes' `w` by `mu m`; here the parameter
      is the notes' `w`, and `step(closure)` moves it to `w + mu m`, calls the closure there,
      and moves it back before updating. A closure is therefore required (Lightning always
      passes one; AMP's precision plugins call the closure before `step` and cannot be used);
    - l1: no torch counterpart (torch's way is `+ l1 * p.abs().sum()` in the loss).
    State: `momentum_buffer` = the notes' `m` (only when momentum > 0).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        lr, momentum, weight_decay, l1 = (
            _hp(k, v) for k, v in
            (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay), ("l1", l1))
        )
        nesterov = check_nesterov(nesterov, momentum)
        defaults = dict(
            lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, l1=l1
        )
        super().__init__(params, defaults)

    def _buffer(self, p: Tensor) -> Tensor:
        state = self.state[p]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state["momentum_buffer"]

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None):
        """One step. `closure` (re-evaluates the loss and calls backward) is required when a
        param group uses nesterov, optional otherwise. Returns the closure's loss."""
        ahead = [g for g in self.param_groups if g["nesterov"] and g["momentum"] > 0]
        saved: dict[Tensor, Tensor] = {}
        if ahead:
            if closure is None:
                raise RuntimeError(
                    "NotesSGD(nesterov=True) needs a closure: the notes take the gradient at "
                    "w + mu m, so step() must re-evaluate the loss there; call "
                    "optimizer.step(closure) (torch.optim.SGD(nesterov=True) is the "
                    "closure-free reformulation)"
                )
            for group in ahead:
                for p in group["params"]:
                    saved[p] = p.clone()
                    p.add_(self._buffer(p), alpha=group["momentum"])
        loss = None
        if closure is not None:
            try:
                with torch.enable_grad():
                    loss = closure()
            except BaseException:
                for p, w in saved.items():
                    p.copy_(w)
                raise
        work = []
        for group in self.param_groups:
            params, grads, bufs = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                # L2/L1 are part of the cost, so they are evaluated where the loss was
                params.append(p)
                grads.append(_regularized(p.grad, p, group["weight_decay"], group["l1"]))
                bufs.append(self._buffer(p) if group["momentum"] else None)
            work.append((group, params, grads, bufs))
        for p, w in saved.items():  # back from the look-ahead point to the notes' w
            p.copy_(w)
        for group, params, grads, bufs in work:
            _notes_sgd(params, grads, bufs, group["lr"], group["momentum"])
        return loss


class NotesAdagrad(torch.optim.Adagrad):
    r"""The notes' Adagrad as the built-in it is: `torch.optim.Adagrad` with eps moved inside.

    .. math::
       w_{i+1} = w_i - \frac{\epsilon}{\sqrt{\alpha_i + \epsilon_0}} g_i, \qquad
       \alpha_i = \sum_{j \le i} g_j^2

    Catalog: F12 (002 §4.3.5). `torch.optim.Adagrad` divides by `sqrt(sum) + eps`; with
    `eps=0` and `initial_accumulator_value=eps0` its `sum` is `eps0 + alpha_i` and it divides
    by `sqrt(alpha_i + eps0)`: the notes' rule, exactly, by the built-in's own update code.
    This class only maps the constructor (lr -> lr, eps0 -> initial_accumulator_value, eps=0,
    lr_decay=0). State (torch's): `sum` = alpha_i + eps0, `step`.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        eps0: float = 1e-10,
        weight_decay: float = 0.0,
    ) -> None:
        lr, eps0, weight_decay = _hp("lr", lr), _hp("eps0", eps0), _hp("weight_decay", weight_decay)
        super().__init__(
            params,
            lr=lr,
            lr_decay=0.0,
            weight_decay=weight_decay,
            initial_accumulator_value=eps0,
            eps=0.0,
        )


class NotesRMSprop(Optimizer):
    r"""RMSprop as 002 writes it, with eps0 inside the square root.

    .. math::
       \alpha_i = \beta \alpha_{i-1} + (1 - \beta) g_i^2, \qquad
       w_{i+1} = w_i - \frac{\epsilon}{\sqrt{\alpha_i + \epsilon_0}} g_i, \qquad \alpha_0 = 0

    Catalog: F13 (002 §4.3.5). `torch.optim.RMSprop(lr, alpha=beta, eps)` divides by
    `sqrt(square_avg) + eps` instead; its accumulator starts at 0 and has no initial value,
    so no constructor mapping moves eps inside. The gap is measured in docs/optimizers.md.
    State: `square_avg` = alpha_i (the same quantity as torch's), `step`.
    `weight_decay` adds `lambda w` to g first, as torch does.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        beta: float = 0.99,
        eps0: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {k: _hp(k, v) for k, v in
                    (("lr", lr), ("beta", beta), ("eps0", eps0), ("weight_decay", weight_decay))}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None):
        """One step; `closure` (optional) re-evaluates the loss. Returns its loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, sqs = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                params.append(p)
                grads.append(_regularized(p.grad, p, group["weight_decay"], 0.0))
                sqs.append(state["square_avg"])
            _notes_rmsprop(params, grads, sqs, group["lr"], group["beta"], group["eps0"])
        return loss


class NotesAdam(Optimizer):
    r"""Adam as 002 writes it: its beta naming, eps0 inside the root, bias correction.

    .. math::
       \begin{aligned}
       &\alpha_i = \beta_1 \alpha_{i-1} + (1 - \beta_1) g_i^2, \qquad
        m_i = \beta_2 m_{i-1} + (1 - \beta_2) g_i \\
       &\hat\alpha_i = \alpha_i / (1 - \beta_1^i), \qquad \hat m_i = m_i / (1 - \beta_2^i) \\
       &w_{i+1} = w_i - \frac{\epsilon}{\sqrt{\hat\alpha_i + \epsilon_0}} \hat m_i
       \end{aligned}

    Catalog: F14 (002 §4.3.5). NOTE the naming: `betas = (beta1, beta2)` in 002's order, where
    beta1 decays the SQUARED gradient and beta2 the gradient, the reverse of
    `torch.optim.Adam(betas=...)` (and of Kingma & Ba). Defaults equal torch's defaults under
    that swap: beta1 = 0.999, beta2 = 0.9. torch divides by `sqrt(v_hat) + eps`; with
    eps0 -> 0 the two coincide (tested). State: `exp_avg` = m_i, `exp_avg_sq` = alpha_i
    (torch's names for the same quantities), `step` (an int).
    `weight_decay` adds `lambda w` to g first (torch's `Adam(weight_decay)`, not AdamW).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.999, 0.9),
        eps0: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {k: _hp(k, v) for k, v in (
            ("lr", lr), ("betas", betas), ("eps0", eps0), ("weight_decay", weight_decay))}
        super().__init__(params, defaults)

    def _adam_group(self, group: dict) -> None:
        params, grads, ms, alphas, steps = [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if "exp_avg" not in state:
                state.setdefault("step", 0)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] += 1
            params.append(p)
            grads.append(_regularized(p.grad, p, group["weight_decay"], 0.0))
            ms.append(state["exp_avg"])
            alphas.append(state["exp_avg_sq"])
            steps.append(state["step"])
        beta1, beta2 = group["betas"]
        _notes_adam(params, grads, ms, alphas, steps, group["lr"], beta1, beta2, group["eps0"])

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None):
        """One step; `closure` (optional) re-evaluates the loss. Returns its loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._adam_group(group)
        return loss


class AdamThenSGD(NotesAdam):
    r"""The notes' Adam for `switch_step` steps, then the notes' momentum SGD (002 §4.3.5).

    .. math::
       \textbf{if } i < \text{switch\_step}: \text{NotesAdam step (lr)} \qquad
       \textbf{else}: m \leftarrow \mu m - \epsilon_{sgd} g, \; w \leftarrow w + m

    Catalog: F15. 002: "start with Adam and switch to SGD when certain criteria hold", to get
    Adam's fast start and SGD-with-momentum's generalization. The criterion built in is a step
    count; `switch_to_sgd()` switches at once for any other criterion (e.g. called from a
    Lightning callback when the validation loss plateaus). At the switch each group's `lr`
    becomes `sgd_lr` and the momentum buffer starts at 0. The phase lives in the param group
    (`phase`, `steps_done`), so `state_dict()` / `load_state_dict()` resume in the right
    phase. With an lr scheduler: recursive schedulers (StepLR, ExponentialLR) continue from
    `sgd_lr`; closed-form ones (LambdaLR) would overwrite it from the Adam lr.
    State: `exp_avg`, `exp_avg_sq`, `step` (Adam phase), `momentum_buffer` (SGD phase).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.999, 0.9),
        eps0: float = 1e-8,
        switch_step: int = 1000,
        sgd_lr: float = 1e-2,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        switch_step = check_interval("switch_step", switch_step, NONNEGATIVE_INT)
        sgd_lr, momentum = _hp("sgd_lr", sgd_lr), _hp("momentum", momentum)
        super().__init__(params, lr=lr, betas=betas, eps0=eps0, weight_decay=weight_decay)
        for group in self.param_groups:
            group.setdefault("switch_step", switch_step)
            group.setdefault("sgd_lr", sgd_lr)
            group.setdefault("momentum", momentum)
            group.setdefault("phase", "adam")
            group.setdefault("steps_done", 0)

    def switch_to_sgd(self) -> None:
        """Make every later step a momentum-SGD step with lr `sgd_lr` (all param groups)."""
        for group in self.param_groups:
            if group["phase"] == "adam":
                group["phase"] = "sgd"
                group["lr"] = group["sgd_lr"]

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None):
        """One step of each group's current phase. Returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group["phase"] == "adam" and group["steps_done"] >= group["switch_step"]:
                group["phase"], group["lr"] = "sgd", group["sgd_lr"]
            if group["phase"] == "adam":
                self._adam_group(group)
            else:
                params, grads, bufs = [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    state["step"] = state.get("step", 0) + 1
                    params.append(p)
                    grads.append(_regularized(p.grad, p, group["weight_decay"], 0.0))
                    bufs.append(state["momentum_buffer"])
                _notes_sgd(params, grads, bufs, group["lr"], group["momentum"])
            group["steps_done"] += 1
        return loss


# ---- registry for the Lightning app -------------------------------------------------------

OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    # built-ins (the notes' rule where the docstring above says so)
    "sgd": torch.optim.SGD,
    "momentum": partial(torch.optim.SGD, momentum=0.9),
    "nesterov": partial(torch.optim.SGD, momentum=0.9, nesterov=True),
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    # the notes' rules
    "notes_sgd": NotesSGD,
    "notes_momentum": partial(NotesSGD, momentum=0.9),
    "notes_nesterov": partial(NotesSGD, momentum=0.9, nesterov=True),
    "notes_l1": partial(NotesSGD, l1=1e-4),
    "notes_adagrad": NotesAdagrad,
    "notes_rmsprop": NotesRMSprop,
    "notes_adam": NotesAdam,
    "adam_then_sgd": AdamThenSGD,
}
_NAMES = Choice(tuple(OPTIMIZERS))


def _signature_of(factory: Callable) -> inspect.Signature:
    target = factory.func if isinstance(factory, partial) else factory
    return inspect.signature(target)


def make_optimizer(name: str, params, **hparams) -> Optimizer:
    """Build `OPTIMIZERS[name](params, **hparams)`; unknown names or hyper-parameters are a
    ValueError that lists the valid ones.

    `make_optimizer("notes_adam", model.parameters(), lr=1e-3)`. Partial entries carry
    defaults ("momentum" is SGD with momentum=0.9) that `hparams` may override.
    """
    _NAMES.check("optimizer", name)
    factory = OPTIMIZERS[name]
    valid = [p for p in _signature_of(factory).parameters if p not in ("self", "params")]
    unknown = sorted(set(hparams) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown hyper-parameter(s) {', '.join(map(repr, unknown))} for optimizer "
            f"{name!r}; valid: {', '.join(valid)}"
        )
    # torch's built-ins check little (SGD takes momentum=1.5 and lr=inf, and lr='a' fails
    # inside a comparison): every known hyper-parameter goes through the shared ranges first.
    hparams = {k: _hp(k, v) for k, v in hparams.items()}
    return factory(params, **hparams)

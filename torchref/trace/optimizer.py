"""`optimizer`: one optimizer's state, step by step, over given gradients or a quadratic.

Input keys:
    optimizer: adam            sgd, momentum, nesterov, adagrad, rmsprop, adam
    variant: notes             notes (002 §4.3.5, scratch.optim) or torch (torch.optim's
                               formulas: momentum buffer v = mu v + g, eps outside the root)
    w: [1.0, -2.0]             the start point
    grads: [[0.5, 1], ...]     one gradient per step (the point does not matter), or
    quadratic: {A: [[1, 0], [0, 10]], b: [0, 0]}   f(w) = 1/2 w^T A w - b^T w (A symmetric,
                               or one number a for a I), the gradient A w - b at every point
    lr: 0.1
    momentum: 0.9              momentum, nesterov (mu in (0, 1))
    beta: 0.99                 rmsprop's decay
    betas: [0.999, 0.9]        adam, in the variant's order: notes (002) beta1 decays g^2 and
                               beta2 g; torch (Kingma & Ba) beta1 decays g and beta2 g^2
    eps: 1e-8                  notes: eps0 inside the root; torch: eps outside it
    steps: 3                   default: one per given gradient, or 1 on a quadratic
Every number comes from `scratch.trace.optimizer_table` and is recomputed by the torch
optimizer (torchref.optim's notes classes, or torch.optim's own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratch import optim
from scratch import trace as st
from scratch.validation import Interval
from torchref.trace.core import Trace, check_finite, fmt, plain, table, wrap
from torchref.trace.inputs import Spec, TraceInputError, as_number, to_array

__all__ = ["KEYS", "run"]

KEYS = ("kind", "optimizer", "variant", "w", "grads", "quadratic", "lr", "momentum", "beta",
        "betas", "eps", "steps")
_DEFAULT_EPS = {"adagrad": 1e-10}
_OPEN01 = Interval(0.0, 1.0, "neither")


@dataclass
class Problem:
    name: str
    variant: str
    w: np.ndarray
    grads: np.ndarray | None  # (steps, d)
    A: np.ndarray | None
    b: np.ndarray | None
    hp: dict

    def grad_at(self, i: int, w: np.ndarray) -> np.ndarray:
        return self.grads[i] if self.grads is not None else self.A @ w - self.b


def _parse(spec: Spec, steps: int | None) -> tuple[Problem, int]:
    name = spec.name_of("optimizer", st.OPTIMIZERS)
    variant = spec.name_of("variant", st.VARIANTS, "notes")
    w = spec.array("w", (0, 1)).reshape(-1)
    d = w.shape[0]
    grads = A = b = None
    if spec.has("grads") == spec.has("quadratic"):
        raise TraceInputError("grads: give either grads (one gradient per step) or quadratic "
                              "(A and b of f(w) = 1/2 w^T A w - b^T w), one of the two")
    if spec.has("grads"):
        g = spec.array("grads", (1, 2))
        grads = g[:, None] if g.ndim == 1 and d == 1 else g
        if grads.ndim != 2 or grads.shape[1] != d:
            raise TraceInputError(
                f"grads: one gradient of {d} entries (like w) per step, got shape {g.shape}")
        n = steps if steps is not None else spec.integer("steps", 1, grads.shape[0])
        if n > grads.shape[0]:
            raise TraceInputError(f"steps: {n} steps need {n} gradients, grads has "
                                  f"{grads.shape[0]}")
    else:
        q = spec.raw("quadratic")
        if not isinstance(q, dict) or "A" not in q or set(q) - {"A", "b"}:
            raise TraceInputError("quadratic: expected {A: ..., b: ...} (b optional) for "
                                  "f(w) = 1/2 w^T A w - b^T w")
        A = to_array("quadratic.A", q["A"], (0, 2))
        A = A * np.eye(d) if A.ndim == 0 else A
        if A.shape != (d, d):
            raise TraceInputError(f"quadratic.A: needs shape ({d}, {d}) like w, got {A.shape}")
        if not np.allclose(A, A.T, rtol=0, atol=1e-12):
            raise TraceInputError("quadratic.A: must be symmetric (the gradient is A w - b)")
        b = to_array("quadratic.b", q.get("b", [0.0] * d), (0, 1)).reshape(-1)
        if b.shape != (d,):
            raise TraceInputError(f"quadratic.b: needs {d} entries like w, got {b.shape[0]}")
        n = steps if steps is not None else spec.integer("steps", 1, 1)
    if n < 1:
        raise TraceInputError("steps: the optimizer table needs at least one step")
    hp = _hparams(spec, name, variant)
    return Problem(name, variant, w, grads, A, b, hp), n


def _hparams(spec: Spec, name: str, variant: str) -> dict:
    allowed = {"sgd": set(), "momentum": {"momentum"}, "nesterov": {"momentum"},
               "adagrad": {"eps"}, "rmsprop": {"beta", "eps"}, "adam": {"betas", "eps"}}[name]
    for key in ("momentum", "beta", "betas", "eps"):
        if spec.has(key) and key not in allowed:
            raise TraceInputError(f"{key}: not a hyper-parameter of {name}")
    hp = {"lr": spec.number("lr", optim.LR)}
    if "momentum" in allowed:
        hp["momentum"] = spec.number("momentum", _OPEN01)
    if "beta" in allowed:
        hp["beta"] = spec.number("beta", optim.BETA, 0.99)
    if "eps" in allowed:
        interval = optim.EPS0 if variant == "notes" else optim.WEIGHT_DECAY  # eps0 > 0 in a root
        hp["eps"] = spec.number("eps", interval, _DEFAULT_EPS.get(name, 1e-8))
    if "betas" in allowed:
        default = [0.999, 0.9] if variant == "notes" else [0.9, 0.999]
        betas = spec.data.get("betas", default)
        if not isinstance(betas, list) or len(betas) != 2:
            raise TraceInputError(f"betas: expected a pair [beta1, beta2], got {betas!r}")
        hp["betas"] = tuple(as_number(f"betas[{i}]", v, optim.BETA)
                            for i, v in enumerate(betas))
    return hp


def _document(rows) -> dict:
    return plain({"steps": [{"w": r.w, "grad": r.grad, "state": r.state, "new_w": r.new_w}
                            for r in rows], "final_w": rows[-1].new_w})


def _torch_rows(p: Problem, n: int) -> list[st.OptimizerStep]:
    import torch

    from torchref import optim as toptim

    w = torch.tensor(p.w.copy(), requires_grad=True)
    hp = p.hp
    if p.variant == "notes":
        opt = {"sgd": lambda: toptim.NotesSGD([w], lr=hp["lr"]),
               "momentum": lambda: toptim.NotesSGD([w], lr=hp["lr"], momentum=hp["momentum"]),
               "nesterov": lambda: toptim.NotesSGD([w], lr=hp["lr"], momentum=hp["momentum"],
                                                   nesterov=True),
               "adagrad": lambda: toptim.NotesAdagrad([w], lr=hp["lr"], eps0=hp["eps"]),
               "rmsprop": lambda: toptim.NotesRMSprop([w], lr=hp["lr"], beta=hp["beta"],
                                                      eps0=hp["eps"]),
               "adam": lambda: toptim.NotesAdam([w], lr=hp["lr"], betas=hp["betas"],
                                                eps0=hp["eps"])}[p.name]()
    else:
        opt = {"sgd": lambda: torch.optim.SGD([w], lr=hp["lr"]),
               "momentum": lambda: torch.optim.SGD([w], lr=hp["lr"], momentum=hp["momentum"]),
               "nesterov": lambda: torch.optim.SGD([w], lr=hp["lr"], momentum=hp["momentum"],
                                                   nesterov=True),
               "adagrad": lambda: torch.optim.Adagrad([w], lr=hp["lr"], eps=hp["eps"]),
               "rmsprop": lambda: torch.optim.RMSprop([w], lr=hp["lr"], alpha=hp["beta"],
                                                      eps=hp["eps"]),
               "adam": lambda: torch.optim.Adam([w], lr=hp["lr"], betas=hp["betas"],
                                                eps=hp["eps"])}[p.name]()
    rows = []
    for i in range(n):
        before = w.detach().numpy().copy()

        def closure(i=i):
            w.grad = None
            if p.grads is not None:
                w.grad = torch.tensor(p.grads[i])
                return torch.zeros(())
            A, b = torch.tensor(p.A), torch.tensor(p.b)
            f = 0.5 * w @ A @ w - b @ w
            f.backward()
            return f

        opt.step(closure)
        state = {}
        for k in st.optimizer_state_keys(p.name):
            v = opt.state[w][k].numpy().copy()
            if p.variant == "notes" and p.name == "adagrad":
                v = v - hp["eps"]  # NotesAdagrad's sum starts at eps0 (torch's accumulator)
            state[k] = v
        rows.append(st.OptimizerStep(before, w.grad.numpy().copy(), state,
                                     w.detach().numpy().copy()))
    return rows


def _render(p: Problem, doc: dict, decimals: int) -> list[str]:
    f = lambda v: fmt(v, decimals)  # noqa: E731
    d = p.w.shape[0]
    hp = ", ".join(f"{k} {v if isinstance(v, tuple) else format(v, 'g')}"
                   for k, v in p.hp.items())
    src = ("given gradients" if p.grads is not None else
           "f(w) = 1/2 w^T A w - b^T w")
    lines = wrap(f"{p.name} ({p.variant} variant), {hp}; {src}") + [""]
    keys = ["w", "grad", *doc["steps"][0]["state"], "new_w"]
    header = ["step", "quantity"] + ([f"[{j + 1}]" for j in range(d)] if d > 1 else ["value"])
    rows = []
    for s, step in enumerate(doc["steps"], 1):
        for k in keys:
            v = step["state"][k] if k in step["state"] else step[k]
            rows.append([str(s) if k == "w" else "", k] + [f(x) for x in v])
    return lines + table(header, rows, keep=2) + [""] + wrap("final w: " + ", ".join(
        f(x) for x in doc["final_w"]))


def _slips(p: Problem, n: int) -> list[tuple[str, dict]]:
    other = "torch" if p.variant == "notes" else "notes"
    hp = dict(p.hp)
    if "betas" in hp:
        hp["betas"] = hp["betas"][::-1]  # the same decays under the other naming
    if "eps" in hp and hp["eps"] == 0:
        return []
    rows = st.optimizer_table(p.name, other, p.w, p.grad_at, n, **hp)
    return [(f"the {other} variant's formula", _document(rows))]


def run(spec: Spec, steps: int | None) -> Trace:
    """Trace an optimizer input file; `steps` (from --steps) overrides the file's."""
    p, n = _parse(spec, steps)
    with np.errstate(all="ignore"):
        rows = st.optimizer_table(p.name, p.variant, p.w, p.grad_at, n, **p.hp)
    doc = _document(rows)
    check_finite(doc)
    return Trace("optimizer", doc, _document(_torch_rows(p, n)),
                 lambda d: _render(p, doc, d), 1, lambda: _slips(p, n))

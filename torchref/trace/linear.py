"""`linear`: 003's GD table for a linear unit y = w . x, row by row (F3, F4).

Input keys:
    w: [2]                 start weights (with bias: true, w[0] is the bias w0)
    bias: false            true: every example gets the input x0 = 1 (003's w0)
    x: [10, 5, 1, 8, 4]    one number per example (one input), or one row per example
    t: [8.5, 3.8, 2, 8, 5] targets
    lr: 0.01               003's lambda
    reduction: mean        mean: loss 1/(2m) sum (y - t)^2, gradient 1/m sum (y - t) x (003's
                           examples); sum: 1/2 sum (y - t)^2 (003's rule over D)
    steps: 1
Per row: y_p, y_p - t_p, (y_p - t_p) x_p; then the gradient, Delta w = -lr gradient, new w.
Every number comes from `scratch.trace.linear_unit_table` and is recomputed with torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratch import trace as st
from scratch.validation import Choice, Interval
from torchref.trace.core import Trace, check_finite, fmt, plain, table, wrap
from torchref.trace.inputs import Spec, TraceInputError

__all__ = ["KEYS", "run"]

KEYS = ("kind", "w", "bias", "x", "t", "lr", "reduction", "steps")
_REDUCTIONS = Choice(("mean", "sum"))


@dataclass
class Unit:
    w: np.ndarray  # (d,), bias first when `bias`
    X: np.ndarray  # (m, d) with the x0 = 1 column when `bias`
    t: np.ndarray  # (m,)
    lr: float
    reduction: str
    bias: bool


def _parse(spec: Spec) -> Unit:
    w = spec.array("w", (0, 1)).reshape(-1)
    bias = spec.flag("bias", False)
    x = spec.array("x", (1, 2))
    X = x[:, None] if x.ndim == 1 else x
    if bias:
        X = np.hstack([np.ones((X.shape[0], 1)), X])
    if X.shape[1] != w.shape[0]:
        extra = " plus the bias w0" if bias else ""
        raise TraceInputError(
            f"w: one weight per input{extra} ({X.shape[1]}), got {w.shape[0]}")
    t = spec.array("t", 1)
    if t.shape[0] != X.shape[0]:
        raise TraceInputError(f"t: one target per example ({X.shape[0]}), got {t.shape[0]}")
    lr = spec.number("lr", Interval(0.0, np.inf, "left"))
    return Unit(w, X, t, lr, spec.name_of("reduction", _REDUCTIONS, "mean"), bias)


def _document(unit: Unit, w, y, error, contribution, loss, grad, new_w) -> dict:
    x_shown = unit.X[:, 1:] if unit.bias else unit.X
    rows = [{"x": xp if xp.size > 1 else xp[0], "t": tp, "y": yp, "error": ep,
             "contribution": cp}
            for xp, tp, yp, ep, cp in zip(x_shown, unit.t, y, error, contribution, strict=True)]
    return plain({"w": w, "rows": rows, "loss": loss, "grad": grad,
                  "change": np.asarray(new_w) - w, "new_w": new_w})


def _scratch_run(unit: Unit, steps: int, reduction: str | None = None,
                 step_sign: float = 1.0, drop_bias: bool = False) -> list[dict]:
    w, docs = unit.w.copy(), []
    for _ in range(steps):
        used = w.copy()
        if drop_bias:
            used[0] = 0.0
        with np.errstate(all="ignore"):
            r = st.linear_unit_table(used, unit.X, unit.t, unit.lr, reduction or unit.reduction)
        new_w = w - step_sign * unit.lr * r.grad
        docs.append(_document(unit, w, r.y, r.error, r.contribution, r.loss, r.grad, new_w))
        w = new_w
    return docs


def _torch_run(unit: Unit, steps: int) -> list[dict]:
    import torch

    X, t = torch.tensor(unit.X), torch.tensor(unit.t)
    w = torch.tensor(unit.w, requires_grad=True)
    docs = []
    for _ in range(steps):
        before = w.detach().numpy().copy()
        y = X @ w
        per_row = 0.5 * (y - t) ** 2
        contribution = torch.stack([torch.autograd.grad(per_row[p], w, retain_graph=True)[0]
                                    for p in range(len(t))])
        loss = per_row.mean() if unit.reduction == "mean" else per_row.sum()
        (grad_t,) = torch.autograd.grad(loss, w)
        grad = grad_t.numpy().copy()
        with torch.no_grad():  # torch.optim.SGD's step, written out (see mlp._torch_run)
            w -= unit.lr * grad_t
        docs.append(_document(unit, before, y.detach().numpy(), (y - t).detach().numpy(),
                              contribution.numpy(), loss.item(), grad,
                              w.detach().numpy().copy()))
    return docs


def _render(unit: Unit, docs: list[dict], decimals: int) -> list[str]:
    f = lambda v: fmt(v, decimals)  # noqa: E731
    d = unit.X.shape[1]
    names = [f"w{j}" for j in range(0 if unit.bias else 1, d + (0 if unit.bias else 1))]
    xs = ["1"] * unit.bias + [f"x{j}" for j in range(1, d + 1 - unit.bias)]
    scale = "1/m sum" if unit.reduction == "mean" else "sum"
    y = " + ".join(f"{n} {x}" if x != "1" else n for n, x in zip(names, xs, strict=True))
    lines = wrap(f"linear unit y = {y}, loss {'1/(2m)' if unit.reduction == 'mean' else '1/2'}"
                 f" sum (y - t)^2, lr {fmt(unit.lr, 6)}, {len(unit.t)} examples")
    for s, doc in enumerate(docs, 1):
        if len(docs) > 1:
            lines += ["", f"== step {s} of {len(docs)}"]
        w = ", ".join(f"{n} = {f(v)}" for n, v in zip(names, doc["w"], strict=True))
        lines += ["", f"weights: {w}"]
        header = ["p"] + [x for x in xs if x != "1"] + ["t_p", "y_p", "y_p - t_p"] + [
            f"(y-t){x}" if x != "1" else "(y-t)1" for x in xs]
        rows = []
        for p, row in enumerate(doc["rows"], 1):
            x = row["x"] if isinstance(row["x"], list) else [row["x"]]
            rows.append([str(p)] + [f(v) for v in x] + [f(row["t"]), f(row["y"]),
                                                         f(row["error"])]
                        + [f(v) for v in row["contribution"]])
        lines += table(header, rows)
        lines += ["", f"loss {f(doc['loss'])}", ""]
        rows = [[n, f(doc["w"][j]), f(doc["grad"][j]), f(doc["change"][j]),
                 f(doc["new_w"][j])] for j, n in enumerate(names)]
        lines += table(["", "w", f"dloss/dw = {scale} (y-t)x", "Delta w = -lr g", "new w"],
                       rows)
    return lines


def _slips(unit: Unit, steps: int) -> list[tuple[str, dict]]:
    other = "sum" if unit.reduction == "mean" else "mean"
    out = [(f"missing factor 1/m (the {other} over the examples instead of the "
            f"{unit.reduction})" if other == "sum" else
            "extra factor 1/m (the mean over the examples instead of the sum)",
            _scratch_run(unit, steps, reduction=other)),
           ("sign (the step went up the gradient: w + lr g)",
            _scratch_run(unit, steps, step_sign=-1.0))]
    if unit.bias:
        out.append(("bias forgotten", _scratch_run(unit, steps, drop_bias=True)))
    return [(label, _wrap(docs)) for label, docs in out]


def _wrap(docs: list[dict]) -> dict:
    return docs[0] if len(docs) == 1 else {"steps": docs}


def run(spec: Spec, steps: int | None) -> Trace:
    """Trace a linear-unit input file; `steps` (from --steps) overrides the file's `steps`."""
    unit = _parse(spec)
    n = steps if steps is not None else spec.integer("steps", 1, 1)
    if n < 1:
        raise TraceInputError("--steps: the linear table needs at least one step")
    docs = _scratch_run(unit, n)
    check_finite(_wrap(docs))
    return Trace("linear", _wrap(docs), _wrap(_torch_run(unit, n)),
                 lambda d: _render(unit, docs, d), len(unit.t), lambda: _slips(unit, n))

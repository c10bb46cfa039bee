"""`perceptron`: 003's table of the perceptron rule, presentation by presentation (E1, E2, E9).

Input keys:
    x: [[1, 1, 0], [1, 0, 1], ...]   one row per example, presented in this order every epoch;
                                     include the constant input x0 = 1 as 003's table does, or
    bias: false                      set bias: true to have it prepended
    t: [0, 0, 0, 1]                  targets, 0 or 1
    w: [-1.2, -0.3, -0.4]            start weights (w0 the bias)
    lr: 0.9                          003's lambda (> 0)
    max_epochs: 100                  stop there if the rule has not converged (E9 says why
                                     it may never converge); the output says which happened
Every row comes from `scratch.classic.perceptron_train` and again from
`torchref.classic.perceptron_train` (SGD on the perceptron criterion, autograd).
"""

from __future__ import annotations

import numpy as np

from scratch import classic
from scratch.validation import Interval
from torchref.trace.core import Trace, fmt, plain, table, wrap
from torchref.trace.inputs import Spec, TraceInputError

__all__ = ["KEYS", "run"]

KEYS = ("kind", "x", "bias", "t", "w", "lr", "max_epochs")


def _document(result, as_array=np.asarray) -> dict:
    """The JSON document of a PerceptronResult (scratch's, or torch's with `as_array`)."""
    rows = [{"epoch": r.epoch, "x": as_array(r.x), "w": as_array(r.w_before), "z": r.z,
             "y": r.y, "t": r.t, "dw": as_array(r.dw)} for r in result.trace]
    return plain({"rows": rows, "converged": bool(result.converged), "epochs": result.epochs,
                  "updates": result.n_updates, "w": as_array(result.w)})


def run(spec: Spec, steps: int | None) -> Trace:
    """Trace a perceptron input file (runs to convergence or `max_epochs`)."""
    if steps is not None:
        raise TraceInputError("--steps: not used by the perceptron kind (it runs until an "
                              "epoch without an update, or max_epochs)")
    X = spec.array("x", 2)
    if spec.flag("bias", False):
        X = classic.add_bias_input(X)
    t = spec.array("t", 1)
    if t.shape[0] != X.shape[0]:
        raise TraceInputError(f"t: one target per row of x ({X.shape[0]}), got {t.shape[0]}")
    if not np.all((t == 0) | (t == 1)):
        raise TraceInputError("t: the perceptron's targets must be 0 or 1")
    w = spec.array("w", 1)
    if w.shape[0] != X.shape[1]:
        raise TraceInputError(
            f"w: one weight per input, x0 included ({X.shape[1]}), got {w.shape[0]}")
    lr = spec.number("lr", Interval(0.0, np.inf, "neither"))
    max_epochs = spec.integer("max_epochs", 1, 100)
    result = classic.perceptron_train(X, t, w, lr=lr, max_epochs=max_epochs)
    doc = _document(result)

    import torch

    from torchref import classic as tclassic

    tres = tclassic.perceptron_train(torch.tensor(X), torch.tensor(t), torch.tensor(w), lr=lr,
                                     max_epochs=max_epochs)
    tdoc = _document(tres, lambda t: t.numpy())
    return Trace("perceptron", doc, tdoc, lambda d: _render(doc, result.message, d), X.shape[0])


def _render(doc: dict, message: str, decimals: int) -> list[str]:
    f = lambda v: fmt(v, decimals)  # noqa: E731
    d = len(doc["rows"][0]["x"])
    header = (["row", "epoch"] + [f"x{j}" for j in range(d)] + [f"w{j}" for j in range(d)]
              + ["z", "y", "t", "update"])
    rows = []
    for i, r in enumerate(doc["rows"], 1):
        if r["y"] != r["t"]:
            verb = "add" if r["t"] > r["y"] else "subtract"
            upd = f"{verb} ({', '.join(f(abs(v)) for v in r['dw'])})"
        else:
            upd = "-"
        rows.append([str(i), str(r["epoch"])] + [f(v) for v in r["x"]] + [f(v) for v in r["w"]]
                    + [f(r["z"]), f(r["y"]), f(r["t"]), upd])
    return [f"perceptron, {len(doc['rows'])} presentations", ""] + table(header, rows) + [
        ""] + wrap(message)

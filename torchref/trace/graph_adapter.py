"""The ONE place where the trace tool calls the derivation checker's graph engines.

`evaluate(expression, at, let)` is all the `graph` kind needs: for every node of the
expression's graph, in topological order, its name (the `let` name where it has one), op,
input names, expression text, value, local gradients d(node)/d(input), adjoint df/d(node), and
whether scratch.graph and torch autograd agree on all three; plus f and df/dvar. Bad input
(syntax, unknown name, missing value, a value outside a function's domain) raises
`GraphInputError` with one line.

Today it is built on `torchref.verify` as it stands (the `let` names are expanded in the text,
a sub-expression written twice is one node whose adjoint is the sum of its copies'), and on
`verify._scratch` for the local gradients that `verify.Report` does not carry. When verify's
new API (`torchref.verify.check(expr, at=..., let=...)`) lands, only this module changes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from scratch import graph as sgraph

__all__ = ["GraphInputError", "GraphNode", "GraphResult", "evaluate", "value_of"]

_RTOL, _ATOL = 1e-10, 1e-12


class GraphInputError(ValueError):
    """Bad expression or values; the message is one line."""


@dataclass(frozen=True)
class GraphNode:
    name: str
    op: str
    inputs: tuple[str, ...]
    expr: str
    value: np.ndarray
    local: tuple[float | None, ...]  # d(node)/d(input) for scalar nodes; None for a constant
    adjoint: np.ndarray | None  # None for constants
    agree: bool


@dataclass(frozen=True)
class GraphResult:
    nodes: list[GraphNode]
    value: np.ndarray
    grad: dict[str, np.ndarray]

    @property
    def agree(self) -> bool:
        return all(n.agree for n in self.nodes)


def _expand(expression: str, let: Mapping[str, str], names: set[str]) -> tuple[str, dict]:
    """Substitute the `let` definitions (in order; later ones may use earlier ones)."""
    from torchref import verify

    texts: dict[str, str] = {}
    for name, text in let.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise GraphInputError(f"let: {name!r} is not a name")
        if name in verify.FUNCTIONS or name in verify.CONSTANTS or name in names:
            raise GraphInputError(f"let: {name!r} is already a function, constant or input")
        if not isinstance(text, str):
            raise GraphInputError(f"let {name}: expected an expression, got {text!r}")
        texts[name] = _substitute(text, texts).strip()
    return _substitute(expression, texts), {v: k for k, v in texts.items()}


def _substitute(text: str, texts: Mapping[str, str]) -> str:
    for name, body in texts.items():
        text = re.sub(rf"(?<![\w.]){re.escape(name)}(?!\w)", f"({body})", text)
    return text


def evaluate(expression: str, at: Mapping[str, object], let: Mapping[str, str] | None = None
             ) -> GraphResult:
    """Every node of `expression` at the values `at`, by scratch.graph and torch autograd."""
    import torch

    from torchref import graph as tgraph
    from torchref import verify

    expanded, let_of = _expand(expression, dict(let or {}), set(at))
    try:
        report = verify.verify(expanded, at)
        tree = verify.parse(expanded)
        used = {n: np.asarray(report.values[n], dtype=np.float64) for n in report.values}
        out, smemo = verify._scratch(tree, used)  # the engine's own nodes, for local grads
    except verify.VerifyError as exc:
        raise GraphInputError(str(exc)) from None
    sgraph.backward(out)
    records = sgraph.trace(out)
    leaves = {n: torch.tensor(v, requires_grad=True) for n, v in used.items()}
    _, tmemo = tgraph.evaluate(tree, leaves)
    torch_of = {id(smemo[k]): tmemo[k] for k in smemo}
    order = sgraph.topological_order(out)
    rows: dict[str, dict] = {}  # by expression text: a sub-expression written twice is one node
    alias: dict[str, str] = {}  # verify's node name -> the row's key
    for rec, node, rep in zip(records, order, report.nodes, strict=True):
        if (rec.name, rec.op) != (rep["name"], rep["op"]):
            raise AssertionError(f"verify and scratch.graph list the nodes differently at "
                                 f"{rec.name}")  # pragma: no cover
        key = rep["expr"] if rec.op != "input" else rec.name
        alias[rec.name] = key
        local, agree = _local(node, torch_of)
        if key in rows:
            row = rows[key]
            if row["adjoint"] is not None:
                row["adjoint"] = row["adjoint"] + rep["adjoint_scratch"]
            row["agree"] = row["agree"] and rep["agree"] and agree
            continue
        rows[key] = {"op": rec.op, "parents": list(rec.parents), "expr": rep["expr"],
                     "value": np.asarray(rep["value_scratch"]),
                     "adjoint": None if rec.op == "const" else np.asarray(rep["adjoint_scratch"]),
                     "local": local, "agree": bool(rep["agree"] and agree)}
    shown = {key: (key if row["op"] == "input" else let_of.get(key, f"v{i}"))
             for i, (key, row) in enumerate(rows.items())}
    nodes = [GraphNode(shown[key], r["op"], tuple(shown[alias[p]] for p in r["parents"]),
                       r["expr"], r["value"], r["local"], r["adjoint"], r["agree"])
             for key, r in rows.items()]
    return GraphResult(nodes, np.asarray(report.value),
                       {n: np.asarray(g) for n, g in report.grad.items()})


def _local(node, torch_of) -> tuple[tuple, bool]:
    """Scalar nodes: d(node)/d(parent) from scratch.graph, checked with torch autograd."""
    import torch

    if node.value.size != 1 or not node.parents:
        return (), True
    t = torch_of[id(node)]
    ours, agree = [], True
    for k, parent in enumerate(node.parents):
        g = node.local_grads[k]
        tp = torch_of[id(parent)]
        if parent.op == "const" or g is None or np.size(g) != 1 or not tp.requires_grad:
            ours.append(None)
            continue
        (theirs,) = torch.autograd.grad(t, tp, retain_graph=True, allow_unused=True)
        g = float(np.reshape(g, ()))
        th = 0.0 if theirs is None else float(theirs.reshape(()))
        agree = agree and math.isclose(g, th, rel_tol=_RTOL, abs_tol=_ATOL)
        ours.append(g)
    return tuple(ours), agree


def value_of(text: str, values: Mapping[str, float]) -> float:
    """The value of a (scalar) expression at `values`, by scratch.graph (constants allowed)."""
    from torchref import verify

    try:
        tree = verify.parse(text)
        needed = {n: np.asarray(v, dtype=np.float64) for n, v in values.items()}
        out, _ = verify._scratch(tree, needed)
    except KeyError as exc:
        raise GraphInputError(f"no value for {exc.args[0]!r} in {text!r}") from None
    except (verify.VerifyError, ValueError) as exc:
        raise GraphInputError(f"{exc}") from None
    return float(np.reshape(out.value, -1)[0])

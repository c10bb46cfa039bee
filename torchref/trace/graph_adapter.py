"""The ONE place where the trace tool calls the derivation checker's graph engines.

`evaluate(expression, at, let)` is all the `graph` kind needs: for every node of the
expression's graph, in topological order, its name (the `let` name where it has one), op,
input names, expression text, value, local gradients d(node)/d(input), adjoint df/d(node), and
whether scratch.graph and torch autograd agree on all three; plus f and df/dvar. Bad input
(syntax, unknown name, missing value, a value outside a function's domain) raises
`GraphInputError` with one line.

Built on verify's API: `parse_program` (the `let` names are shared nodes of one graph, so a
let used twice is one node whose adjoint sums both uses) and `evaluate` (both engines' node
table); the local gradients come from the NumPy engine's nodes of that table, each checked
against torch autograd on a fresh torch graph.
"""

from __future__ import annotations

import math
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


def evaluate(expression: str, at: Mapping[str, object], let: Mapping[str, str] | None = None
             ) -> GraphResult:
    """Every node of `expression` at the values `at`, by scratch.graph and torch autograd."""
    import torch

    from torchref import graph as tgraph
    from torchref import verify
    from torchref.verify.language import as_value

    try:
        program = verify.parse_program(expression, dict(let or {}))
        values = {str(n): as_value(str(n), v, f"at {n}") for n, v in at.items()}
        table = verify.evaluate(program, values)
    except verify.VerifyError as exc:
        raise GraphInputError(str(exc)) from None
    order = sgraph.topological_order(table.output)
    leaves = {n: torch.tensor(values[n], requires_grad=True) for n in table.grad}
    _, tmemo = tgraph.evaluate(program.output, leaves)  # a fresh graph for the local checks
    torch_of = {id(node): tmemo[id(table.scratch.exprs[id(node)])] for node in order}
    nodes = []
    for row, node in zip(table.rows, order, strict=True):
        local, agree = _local(node, torch_of)
        nodes.append(GraphNode(row.name, row.op, tuple(row.inputs), row.expr,
                               np.asarray(row.value_scratch), local,
                               None if row.adjoint_scratch is None
                               else np.asarray(row.adjoint_scratch), row.agree and agree))
    return GraphResult(nodes, np.asarray(table.value),
                       {n: np.asarray(g) for n, g in table.grad.items()})


def _local(node, torch_of) -> tuple[tuple, bool]:
    """Scalar nodes: d(node)/d(parent) from scratch.graph, checked with torch autograd.

    A parent in two slots (q*q) gets one local gradient per slot; autograd gives their sum.
    """
    import torch

    if node.value.size != 1 or not node.parents:
        return (), True
    t = torch_of[id(node)]
    ours, per_parent = [], {}
    for k, parent in enumerate(node.parents):
        g = node.local_grads[k]
        tp = torch_of[id(parent)]
        if not parent.requires_grad or g is None or np.size(g) != 1 or not tp.requires_grad:
            ours.append(None)
            continue
        ours.append(float(np.reshape(g, ())))
        per_parent[id(parent)] = (tp, per_parent.get(id(parent), (tp, 0.0))[1] + ours[-1])
    agree = True
    for tp, g in per_parent.values():
        (theirs,) = torch.autograd.grad(t, tp, retain_graph=True, allow_unused=True)
        th = 0.0 if theirs is None else float(theirs.reshape(()))
        agree = agree and math.isclose(g, th, rel_tol=_RTOL, abs_tol=_ATOL)
    return tuple(ours), agree


def value_of(text: str, values: Mapping[str, float]) -> float:
    """The value of a (scalar) expression at `values`, by scratch.graph (constants allowed)."""
    from torchref import verify
    from torchref.verify.engines import Evaluation, scratch_nodes

    try:
        tree = verify.parse(text)
        ev = Evaluation({n: np.asarray(v, dtype=np.float64) for n, v in values.items()})
        scratch_nodes([tree], ev, repr(text))
    except (verify.VerifyError, ValueError) as exc:
        raise GraphInputError(f"{exc}") from None
    return float(np.reshape(ev.node(tree).value, -1)[0])

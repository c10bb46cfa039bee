"""One parsed program evaluated by both engines: `scratch.graph` (NumPy) and torch autograd.

`evaluate(program, at)` builds the node table: every node the output depends on, in the
topological order of `scratch.graph.trace` (D8's v0..v6 numbering), with its value and
adjoint from each engine and whether they agree. Given more `points`, the NumPy engine
evaluates the graph at `at` and at all of them in one batched pass (a claim's random points:
no second pass for them), and the rows still show `at`. `scratch_nodes` evaluates trees
with the NumPy engine alone, at one point or at a batch. Both walk the DAG with an explicit
stack: any depth. torch is imported on the first call, not at import time.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from scratch import graph
from torchref.verify.language import Expr, Program, VerifyError

__all__ = ["NodeRow", "Table", "Evaluation", "scratch_nodes", "evaluate", "ENGINE_TOL",
           "no_cyclic_gc"]

# The two engines compute the same formula: only rounding may differ.
ENGINE_TOL = {"rtol": 1e-10, "atol": 1e-12}


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a graph is built and walked.

    A graph of 10,000 nodes allocates ~100,000 objects that all stay alive until the check
    ends; the collector would scan them over and over (40% of the time). Restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Evaluation:
    """The NumPy engine's nodes for the trees evaluated at `values`, by tree node.

    `nodes[id(expr)]` is the `scratch.graph.Node` of `expr`; `exprs[id(node)]` goes back.
    `batched`: the last axis of every value indexes points, all evaluated in one pass
    (`scratch.graph`'s batch of points).
    """

    values: dict[str, np.ndarray]
    batched: bool = False
    nodes: dict[int, graph.Node] = field(default_factory=dict)
    exprs: dict[int, Expr] = field(default_factory=dict)

    def node(self, expr: Expr) -> graph.Node:
        return self.nodes[id(expr)]


def scratch_nodes(roots: Sequence[Expr], ev: Evaluation, what: str) -> None:
    """Evaluate `roots` with `scratch.graph` into `ev` (nodes already there are reused).

    Errors become one-line VerifyErrors naming the node (`(in 'ln(x)')`); `what` names the
    whole tree in the message for a variable without a value. The pass runs under one
    floating-point guard (`graph.guarded`): an overflow anywhere is an error, not an inf.
    """
    nodes, exprs = ev.nodes, ev.exprs
    stack: list[tuple[Expr, bool]] = [(r, False) for r in reversed(roots)]
    with graph.guarded():
        while stack:
            expr, ready = stack.pop()
            if id(expr) in nodes:
                continue
            if not ready and expr.args:
                stack.append((expr, True))
                stack.extend([(a, False) for a in reversed(expr.args) if id(a) not in nodes])
                continue
            if expr.op == "input":
                if expr.name not in ev.values:
                    raise VerifyError(f"no value for {expr.name!r} in {what}; give it with "
                                      f"--at {expr.name}=...")
                node = graph.variable(ev.values[expr.name], expr.name, batched=ev.batched)
            elif expr.op == "const":
                node = graph.const(expr.value, dtype=np.float64)
            else:
                op = graph.OPS[expr.op]
                args = [nodes[id(a)] for a in expr.args]
                try:
                    node = op(*args, **dict(expr.kwargs)) if expr.kwargs else op(*args)
                except (ValueError, TypeError) as exc:
                    raise VerifyError(f"{exc} (in {expr.where()})") from None
                except FloatingPointError as exc:  # outside an op's own guard
                    raise VerifyError(f"{expr.op}: {exc} (in {expr.where()})") from None
                if expr.label:
                    node.name = expr.label
            nodes[id(expr)] = node
            exprs[id(node)] = expr


@dataclass
class NodeRow:
    """One row of the node table: a node's value and adjoint from both engines.

    Constants and comparisons have no adjoint (None), as in torch.
    """

    name: str
    op: str
    inputs: list[str]
    expr: str
    shape: tuple[int, ...]
    value_scratch: np.ndarray
    value_torch: np.ndarray
    adjoint_scratch: np.ndarray | None
    adjoint_torch: np.ndarray | None
    agree: bool


@dataclass
class Table:
    """`evaluate`'s result: the rows, torch's value and gradient, and the NumPy evaluation.

    `grad` holds torch autograd's d output / d variable for each variable; `adjoints` the same
    for every named node (variables and lets). `scratch` is reusable (claims); it is a batch
    (`at` first, then the points) when `evaluate` was given points. `order` is the
    topological order of its graph (the rows' order).
    """

    rows: list[NodeRow]
    value: np.ndarray
    grad: dict[str, np.ndarray]
    adjoints: dict[str, np.ndarray]
    scratch: Evaluation
    output: graph.Node
    order: list[graph.Node]


def _output(program: Program, ev: Evaluation) -> tuple[graph.Node, list[graph.Node]]:
    """The output's node, after `backward`, and the topological order of its graph."""
    scratch_nodes([program.output], ev, repr(program.expression))
    out = ev.node(program.output)
    if math.prod(out.shape) != 1:
        raise VerifyError(
            f"the expression must be a scalar to differentiate it, got shape {out.shape}; "
            "reduce it with sum(...), mean(...) or dot(...)"
        )
    if not out.requires_grad:
        if not any(e.op == "input" for e in ev.exprs.values()):
            raise VerifyError(f"{program.expression!r} has no variables: nothing to differentiate")
        raise VerifyError(f"{program.expression!r} does not depend differentiably on any "
                          "variable (comparisons have no derivative)")
    try:
        return out, graph.backward(out)
    except ValueError as exc:
        raise VerifyError(str(exc)) from None


def evaluate(program: Program, at: Mapping[str, np.ndarray],
             points: Sequence[Mapping[str, np.ndarray]] | None = None) -> Table:
    """Evaluate `program` at `at` with both engines; the node table with values and adjoints.

    `at` maps variable names to float64 arrays (scalars 0-d). Given `points` (a list, each
    like `at`; may be empty), the NumPy engine evaluates them in the same pass, as one batch
    with `at` first (`Table.scratch` is that batch); the rows and torch are at `at`. Raises
    VerifyError for bad input (a missing value, a shape mismatch, a domain error, a
    non-scalar output), at `at` or at any of the points.
    """
    if points is None:
        ev = Evaluation(dict(at))
    else:
        ev = Evaluation({n: np.stack([v, *(p[n] for p in points)], axis=-1)
                         for n, v in at.items()}, batched=True)
    out, order = _output(program, ev)
    found = {n.name for n in order if n.op == "input"}
    names = [v for v in program.variables if v in found]

    # torch is imported only once the input is known to be good: bad input fails fast.
    import torch

    from torchref import graph as tgraph

    leaves = {n: torch.tensor(at[n], dtype=torch.float64, requires_grad=True) for n in names}
    try:
        tout, tmemo = tgraph.evaluate(program.output, leaves)
        tout.backward()
    except RuntimeError as exc:  # NumPy accepted it; say where torch did not, in one line
        raise VerifyError(f"torch refused the expression: {str(exc).splitlines()[0]}") from None

    records = graph.trace(out, order)
    if ev.batched:  # the rows show `at`: the batch's first point
        for r, n in zip(records, order, strict=True):
            if n.batched:
                r.value = r.value[..., 0]
                r.adjoint = None if r.adjoint is None else r.adjoint[..., 0]
    tensors = [tmemo[id(ev.exprs[id(node)])] for node in order]
    t_values = [t.detach().numpy() for t in tensors]
    t_adjoints = [_grad(t) if n.requires_grad else None
                  for n, t in zip(order, tensors, strict=True)]
    agree = _agree([r.value for r in records] + [r.adjoint for r in records],
                   t_values + t_adjoints)
    agree = agree[:len(order)] & agree[len(order):]  # the value and the adjoint
    rows = [NodeRow(r.name, r.op, list(r.parents), ev.exprs[id(n)].short(), n.shape, r.value,
                    tv, r.adjoint, ta, bool(ok))
            for r, n, tv, ta, ok in zip(records, order, t_values, t_adjoints, agree, strict=True)]
    adjoints = {n: _grad(leaves[n]) for n in names}
    for name, expr in program.lets.items():
        if id(expr) in tmemo and tmemo[id(expr)].requires_grad:
            adjoints[name] = _grad(tmemo[id(expr)])
    return Table(rows, tout.detach().numpy(), {n: adjoints[n] for n in names}, adjoints, ev, out,
                 order)


def _agree(a: Sequence[np.ndarray | None], b: Sequence[np.ndarray | None]) -> np.ndarray:
    """Per pair: both None, or of one shape and allclose at ENGINE_TOL. One vectorized test
    for all pairs."""
    agree = np.array([x is y is None or (x is not None and y is not None and x.shape == y.shape)
                      for x, y in zip(a, b, strict=True)])
    both = [i for i, x in enumerate(a) if agree[i] and x is not None and x.size]
    if both:
        xs = [a[i].reshape(-1) for i in both]
        close = np.isclose(np.concatenate(xs), np.concatenate([b[i].reshape(-1) for i in both]),
                           **ENGINE_TOL)
        starts = np.cumsum([0] + [x.size for x in xs[:-1]])
        agree[both] &= np.logical_and.reduceat(close, starts)  # all entries of each pair
    return agree


def _grad(t) -> np.ndarray:
    # A tensor autograd never reached (it feeds only comparisons) has adjoint 0.
    g = t.grad
    return np.zeros(tuple(t.shape)) if g is None else g.detach().numpy()

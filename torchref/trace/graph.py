"""`graph`: an expression as the notes' node table: forward values, local gradients, adjoints.

Input keys:
    expression: "q * z"          the language of `python -m torchref.verify`
    at: {x: -2, y: 5, z: -4}     the point (numbers, or lists for vectors)
    let: {q: "x + y"}            named intermediates, in order (later ones may use earlier
                                 ones); the table shows them by name (003 calls x + y "q")
In a check file, `nodes:` is a mapping by node name (`q: {value: 3, adjoint: -4,
local: [1, 1]}`), `grad:` a mapping by input, `value:` f; a cell may hold an expression in
the inputs and the let names (003 writes df/dq = z), evaluated at the point.
The numbers come from `scratch.graph` and torch autograd, through `graph_adapter.evaluate`.
"""

from __future__ import annotations

import re

import numpy as np

from torchref.trace.core import Agreement, Trace, fmt, plain, table, wrap
from torchref.trace.graph_adapter import GraphInputError, evaluate, value_of
from torchref.trace.inputs import Spec, TraceInputError, to_array

__all__ = ["KEYS", "run"]

KEYS = ("kind", "expression", "at", "let")


def _contract(text: str, let: dict[str, str]) -> str:
    """Show a node's text with the let names instead of their bodies."""
    for name, body in reversed(list(let.items())):
        text = text.replace(f"({body})", name)
    return text


def run(spec: Spec, steps: int | None) -> Trace:
    """Trace a graph input file."""
    if steps is not None:
        raise TraceInputError("--steps: not used by the graph kind (one forward and one "
                              "backward pass)")
    expression = spec.raw("expression", "an expression, e.g. \"(x + y) * z\"")
    if not isinstance(expression, str):
        raise TraceInputError(f"expression: expected text, got {expression!r}")
    at_raw = spec.raw("at", "the input values, e.g. {x: -2, y: 5}")
    if not isinstance(at_raw, dict):
        raise TraceInputError(f"at: expected a mapping of input names to values, got {at_raw!r}")
    at = {str(k): to_array(f"at.{k}", v, (0, 1)) for k, v in at_raw.items()}
    let_raw = spec.data.get("let") or {}
    if not isinstance(let_raw, dict):
        raise TraceInputError(f"let: expected a mapping of names to expressions, got {let_raw!r}")
    let = {str(k): v for k, v in let_raw.items()}
    try:
        result = evaluate(expression, at, let)
    except GraphInputError as exc:
        raise TraceInputError(f"expression: {exc}") from None
    expanded_let = {}
    for name, body in let.items():  # the bodies as the adapter substituted them
        text = body
        for prev, prev_body in expanded_let.items():
            text = re.sub(rf"(?<![\w.]){re.escape(prev)}(?!\w)", f"({prev_body})", text)
        expanded_let[name] = text.strip()
    nodes = [{"name": n.name, "op": n.op, "inputs": list(n.inputs),
              "expr": _contract(n.expr, expanded_let), "value": n.value,
              "local": list(n.local), "adjoint": n.adjoint} for n in result.nodes]
    doc = plain({"expression": expression, "nodes": nodes, "value": result.value,
                 "grad": result.grad})
    bad = next((i for i, n in enumerate(result.nodes) if not n.agree), None)
    count = sum(np.size(n.value) + np.size(n.adjoint if n.adjoint is not None else [])
                + sum(g is not None for g in n.local) for n in result.nodes)
    agreement = Agreement(count, None) if bad is None else Agreement(
        count, None, f"nodes.{result.nodes[bad].name}",
        float(np.reshape(result.nodes[bad].value, -1)[0]), float("nan"))
    named = {**{k: v for k, v in at.items()},
             **{n["name"]: n["value"] for n in nodes if n["name"] in let}}

    def cell_value(text: str) -> float:
        try:
            return value_of(text, named)
        except GraphInputError as exc:
            raise TraceInputError(f"check cell {text!r}: {exc}") from None

    trace = Trace("graph", doc, doc, lambda d: _render(doc, at, let, d))
    trace.agreement = agreement
    trace.expression_cell = cell_value
    return trace


def _render(doc: dict, at: dict, let: dict, decimals: int) -> list[str]:
    f = lambda v: fmt(v, decimals) if np.ndim(v) == 0 else "[" + ", ".join(  # noqa: E731
        fmt(x, decimals) for x in np.ravel(v)) + "]"
    point = ", ".join(f"{k} = {f(v)}" for k, v in at.items())
    lines = wrap(f"expression {doc['expression']}   at {point}")
    lines += [f"  {k} = {v}" for k, v in let.items()]
    header = ["node", "op", "inputs", "value", "local d/d inputs", "adjoint df/dnode"]
    rows = []
    for n in doc["nodes"]:
        local = ", ".join("-" if g is None else f(g) for g in n["local"])
        rows.append([n["name"], n["op"], ", ".join(n["inputs"]), f(n["value"]), local,
                     "-" if n["adjoint"] is None else f(n["adjoint"])])
    lines += [""] + table(header, rows, keep=3)
    defs = [f"  {n['name']} = {n['expr']}" for n in doc["nodes"]
            if n["op"] not in ("input", "const")]
    lines += ["", "nodes:"] + [d if len(d) <= 80 else d[:77] + "..." for d in defs]
    grads = ", ".join(f"df/d{k} = {f(v)}" for k, v in doc["grad"].items())
    return lines + [""] + wrap(f"f = {f(doc['value'])};  {grads}")

"""What verify found, and its four renderings: the text table, JSON, HTML (notebooks), DOT.

A `Report` holds the node table (both engines' values and adjoints), torch's gradient and the
claims. `format_report` is the terminal view, `Report.as_dict` the `--json` one (vectors and
matrices as nested lists), `Report._repr_html_` Jupyter's, `to_dot` Graphviz's (`dot -Tsvg`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from torchref.verify.claims import Claim
from torchref.verify.engines import NodeRow

__all__ = ["Report", "format_report", "to_dot", "fmt"]


@dataclass
class Report:
    """Everything verify computed at `values`: the node table, the gradient and the claims.

    `repr(report)` is the text table; in a notebook the report renders as HTML.
    `random_points` counts the random points every claim was also checked at.
    """

    expression: str
    values: dict[str, np.ndarray]
    value: np.ndarray
    grad: dict[str, np.ndarray]
    nodes: list[NodeRow] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    lets: dict[str, str] = field(default_factory=dict)
    random_points: int = 0
    points_wanted: int = 0
    held: list[str] = field(default_factory=list)

    @property
    def engines_agree(self) -> bool:
        return all(n.agree for n in self.nodes)

    @property
    def ok(self) -> bool:
        return self.engines_agree and all(c.ok for c in self.claims)

    def as_dict(self) -> dict:
        """The `--json` document: value, grad, shapes, lets, nodes and claims."""
        return {
            "value": _plain(self.value),
            "grad": {k: _plain(v) for k, v in self.grad.items()},
            "shapes": {k: list(np.shape(v)) for k, v in self.values.items()},
            "lets": dict(self.lets),
            "random_points": self.random_points,
            "held": list(self.held),
            "nodes": [
                {"name": n.name, "op": n.op, "inputs": n.inputs, "expr": n.expr,
                 "shape": list(n.shape), "value_scratch": _plain(n.value_scratch),
                 "value_torch": _plain(n.value_torch), "adjoint_scratch": _plain(n.adjoint_scratch),
                 "adjoint_torch": _plain(n.adjoint_torch), "agree": n.agree}
                for n in self.nodes
            ],
            "claims": [
                {"var": c.var, "expression": c.expression, "shape": list(np.shape(c.autograd)),
                 "claimed": _plain(c.claimed), "autograd": _plain(c.autograd), "ok": c.ok,
                 "points": c.points,
                 "failed_at": None if c.failed_at is None else
                 {k: _plain(v) for k, v in c.failed_at.items()},
                 "worst_entry": c.worst, "worst_claimed": c.worst_claimed,
                 "worst_autograd": c.worst_autograd, "diagnosis": c.diagnosis,
                 "slips": list(c.slips)}
                for c in self.claims
            ],
        }

    def __repr__(self) -> str:
        return format_report(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = ("node", "expression", "op", "shape", "value (scratch)", "value (torch)",
                "adjoint (scratch)", "adjoint (torch)")
        cells = "".join(f"<th>{h}</th>" for h in head)
        rows = [f"<tr>{cells}</tr>"]
        for n in self.nodes:
            style = "" if n.agree else ' style="color:red"'
            vals = (n.name, n.expr, n.op, "x".join(map(str, n.shape)) or "scalar",
                    fmt(n.value_scratch), fmt(n.value_torch), fmt(n.adjoint_scratch),
                    fmt(n.adjoint_torch))
            rows.append(f"<tr{style}>" + "".join(f"<td><code>{esc(v)}</code></td>" for v in vals)
                        + "</tr>")
        parts = [f"<p><b>f = <code>{esc(self.expression)}</code></b> at "
                 f"<code>{esc(_at(self.values))}</code>{esc(_lets(self.lets))}</p>",
                 "<table>" + "".join(rows) + "</table>",
                 f"<p>f = {esc(fmt(self.value))}</p><ul>"
                 + "".join(f"<li>df/d{esc(k)} = <code>{esc(fmt(v))}</code></li>"
                           for k, v in self.grad.items()) + "</ul>"]
        if self.claims:
            items = []
            for c in self.claims:
                color = "green" if c.ok else "red"
                text = "<br>".join(esc(line.strip()) for line in _claim_lines(c)[1:])
                items.append(f'<li style="color:{color}">'
                             f"{esc(_claim_lines(c)[0].strip())}<br>{text}</li>")
            parts.append(f"<p>claims ({esc(_points_words(self))}):</p><ul>{''.join(items)}</ul>")
        return "<div>" + "".join(parts) + "</div>"


def _plain(x):
    if isinstance(x, np.ndarray | np.generic):
        return x.tolist()
    return x


def fmt(x) -> str:
    """A value for a table cell: 10 digits for a scalar, nested brackets of 6-digit numbers
    for arrays (long axes cut to their first and last two entries)."""
    if x is None:
        return "-"
    x = np.asarray(x)
    if x.ndim == 0:
        return f"{float(x):.10g}"

    def row(v: np.ndarray) -> str:
        if v.ndim == 0:
            return f"{float(v):.6g}"
        items = [row(e) for e in v] if len(v) <= 6 else (
            [row(e) for e in v[:2]] + ["..."] + [row(e) for e in v[-2:]])
        return "[" + ", ".join(items) + "]"

    return row(x)


def _at(values) -> str:
    return ", ".join(f"{n}={fmt(v)}" for n, v in values.items())


def _lets(lets) -> str:
    return "" if not lets else "   with " + ", ".join(f"{k} = {v}" for k, v in lets.items())


def _points_words(r: Report) -> str:
    words = f"each checked at --at and at {r.random_points} random point(s) near it"
    if r.held:
        words += f", holding {', '.join(r.held)} at the given value (data)"
    if r.random_points < r.points_wanted:
        words += (f"; only {r.random_points} of {r.points_wanted} drawn points were inside "
                  "every function's domain")
    return words


def _claim_lines(c: Claim) -> list[str]:
    verdict = "ok" if c.ok else "MISMATCH"
    lines = [f"  df/d{c.var}: claimed {c.expression} = {fmt(c.claimed)}, autograd "
             f"{fmt(c.autograd)}: {verdict}"]
    if c.ok:
        return lines
    where = "at --at" if c.failed_at is None else "at that point"
    if c.failed_at is not None:
        lines.append(f"    holds at --at but fails at {_at(c.failed_at)}: an identity must hold "
                     "at every point (data that must keep its value: hold it with --fix NAME)")
    lines.append(f"    worst entry {c.worst}: claimed {c.worst_claimed:.10g}, autograd "
                 f"{c.worst_autograd:.10g} ({where})")
    lines.append(f"    diagnosis: {c.diagnosis}")
    return lines


def format_report(r: Report) -> str:
    """The terminal view: the node table, the gradient, then each claim's verdict."""
    shaped = any(n.shape for n in r.nodes)
    head = ("node", "expression", "op") + (("shape",) if shaped else ()) + (
        "value (scratch)", "value (torch)", "adjoint (scratch)", "adjoint (torch)", "")
    rows = [head] + [
        (n.name, n.expr, n.op) + (("x".join(map(str, n.shape)) or "-",) if shaped else ())
        + (fmt(n.value_scratch), fmt(n.value_torch), fmt(n.adjoint_scratch),
           fmt(n.adjoint_torch), "" if n.agree else "DIFFER")
        for n in r.nodes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [f"f = {r.expression}   at {_at(r.values)}{_lets(r.lets)}", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    lines += ["", f"f = {fmt(r.value)}", "gradient (torch autograd; scratch.graph agrees"
              + ("" if r.engines_agree else " NOT everywhere: see DIFFER") + "):"]
    lines += [f"  df/d{n} = {fmt(g)}" for n, g in r.grad.items()]
    if r.claims:
        lines.append(f"claims ({_points_words(r)}):")
        for c in r.claims:
            lines += _claim_lines(c)
    return "\n".join(lines)


def to_dot(r: Report) -> str:
    """The graph in Graphviz DOT: one box per node with its value and adjoint, edges from
    inputs to the nodes they feed; nodes where the engines differ are red."""
    def quote(*parts: str) -> str:  # DOT string; "\n" is a line break inside a label
        esc = (p.replace("\\", "\\\\").replace('"', '\\"') for p in parts)
        return '"' + "\\n".join(esc) + '"'

    ids = {n.name: f"n{i}" for i, n in enumerate(r.nodes)}
    lines = ["digraph verify {", "  rankdir=LR;",
             '  node [shape=box, fontname="monospace"];',
             f"  label={quote(f'f = {r.expression}')};"]
    for n in r.nodes:
        text = n.name if n.expr in ("", n.name) else f"{n.name} = {n.expr}"
        label = quote(text, n.op, f"value {fmt(n.value_torch)}",
                      f"adjoint {fmt(n.adjoint_torch)}")
        lines.append(f"  {ids[n.name]} [label={label}{'' if n.agree else ', color=red'}];")
    for n in r.nodes:
        lines += [f"  {ids[p]} -> {ids[n.name]};" for p in n.inputs]
    lines.append("}")
    return "\n".join(lines) + "\n"

"""Check a derivative you worked out by hand against torch autograd, node by node.

    python -m torchref.verify "ln(x1) + x1*x2 - sin(x2)" --at x1=2 x2=5 --claim x1="1/x1 + x2"

The expression is parsed with Python's `ast` and a whitelist (never `eval`) into one tree,
which is evaluated twice: by the NumPy engine `scratch.graph` and by torch autograd
(`torchref.graph`), both in float64. The table shows every node's value and adjoint from both,
then the gradient w.r.t. each input; each `--claim VAR=EXPR` (an expression in the same
variables) is compared with autograd's partial derivative. `--json` prints
`{"value", "grad", "nodes", "claims": [{"var", "claimed", "autograd", "ok"}]}` where each node
is `{"name", "op", "inputs", "expr", "value_scratch", "value_torch", "adjoint_scratch",
"adjoint_torch", "agree"}` (constants have no adjoint: null). Vectors are JSON lists.

Exit status: 0 all claims hold, 1 a claim (or the two engines) disagree, 2 bad input (syntax,
unknown name or function, missing value, a value outside a function's domain), with one line
on stderr.

Language: numbers, `pi`, `e`; `+ - * / **`, unary minus, `@` (matrix/vector product);
ln = log, exp, sin, cos, tan, tanh, sigmoid, relu, sqrt, abs, dot(a, b), sum(a), mean(a), and
the activations identity, tanh_half, leaky_relu (alpha 0.01), elu (alpha 1), swish. Kinks take
torch's convention: relu'(0) = 0, d|x|/dx = 0 at 0. Vector inputs: `--at w=1,2,3`.

Imports `scratch.graph` for the side-by-side table, and torch with `torchref.graph` (lazily,
once the input has parsed and evaluated: a typo is reported without the wait for torch).
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch import graph
from scratch.validation import check_choice

__all__ = ["Expr", "VerifyError", "Claim", "Report", "parse", "parse_value", "verify",
           "format_report", "main"]

FUNCTIONS = {
    "ln": "log", "log": "log", "exp": "exp", "sin": "sin", "cos": "cos", "tan": "tan",
    "sqrt": "sqrt", "abs": "abs", "dot": "dot", "sum": "sum", "mean": "mean",
    **{a: a for a in ("identity", "sigmoid", "tanh", "tanh_half", "relu", "leaky_relu", "elu",
                      "swish")},
}
ARITY = {"dot": 2}  # every other function takes one argument
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
           ast.MatMult: "matmul"}
_ACTIVATIONS = {"identity", "sigmoid", "tanh", "tanh_half", "relu", "leaky_relu", "elu", "swish"}
# Claims are hand algebra against autograd: equal up to rounding, so a few ulps of slack.
RTOL, ATOL = 1e-9, 1e-12
# The two engines compute the same formula: only rounding may differ.
_ENGINE_TOL = {"rtol": 1e-10, "atol": 1e-12}


class VerifyError(ValueError):
    """Bad input to verify: the message is the one line printed on stderr."""


@dataclass(frozen=True, eq=False)
class Expr:
    """A node of the parsed expression: op "input" (`name`), "const" (`value`) or a graph op."""

    op: str
    args: tuple[Expr, ...] = ()
    name: str = ""
    value: float = 0.0
    text: str = ""


# ---- parsing -------------------------------------------------------------------------------


def parse(text: str) -> Expr:
    """Parse `text` into an Expr tree; anything outside the whitelist raises VerifyError."""
    try:
        body = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise VerifyError(f"syntax error in {text!r}: {exc.msg} (column {exc.offset})") from None
    except RecursionError:
        raise VerifyError(f"expression nested too deeply: {text[:40]!r}...") from None
    return _convert(body, text.strip())


def _convert(node: ast.AST, src: str) -> Expr:
    seg = ast.get_source_segment(src, node) or ""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            hint = "; use ** for powers" if isinstance(node.op, ast.BitXor) else ""
            raise VerifyError(f"unsupported operator in {seg!r}{hint}")
        args = (_convert(node.left, src), _convert(node.right, src))
        return Expr(_BINOPS[type(node.op)], args, text=seg)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _convert(node.operand, src)
        return Expr("neg", (inner,), text=seg) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise VerifyError(f"only plain function names can be called, got {seg!r}")
        fname = node.func.id
        try:
            check_choice("function", fname, sorted(FUNCTIONS))
        except ValueError as exc:
            raise VerifyError(str(exc)) from None
        want = ARITY.get(FUNCTIONS[fname], 1)
        if node.keywords or len(node.args) != want:
            raise VerifyError(f"{fname} takes {want} argument(s), got {seg!r}")
        args = tuple(_convert(a, src) for a in node.args)
        return Expr(FUNCTIONS[fname], args, text=seg)
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise VerifyError(f"{node.id!r} is a function: call it, as {node.id}(...)")
        if node.id in CONSTANTS:
            return Expr("const", value=CONSTANTS[node.id], text=seg)
        return Expr("input", name=node.id, text=seg)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise VerifyError(f"only real numbers are allowed as constants, got {seg!r}")
        return Expr("const", value=float(node.value), text=seg)
    raise VerifyError(f"unsupported syntax {type(node).__name__} in {seg!r}")


def parse_value(spec: str) -> tuple[str, np.ndarray]:
    """`"x1=2"` -> ("x1", 2.0 as a 0-d array); `"w=1,2,3"` -> ("w", a vector)."""
    name, sep, raw = spec.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise VerifyError(f"--at needs NAME=VALUE (e.g. x1=2 or w=1,2,3), got {spec!r}")
    if name in FUNCTIONS or name in CONSTANTS:
        raise VerifyError(f"--at {name}: {name!r} is a built-in name, not a variable")
    parts = raw.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise VerifyError(
            f"--at {name}: value must be a number or comma-separated numbers, got {raw!r}"
        ) from None
    if not all(math.isfinite(v) for v in numbers):
        raise VerifyError(f"--at {name}: values must be finite, got {raw!r}")
    value = np.array(numbers[0] if len(parts) == 1 else numbers, dtype=np.float64)
    return name, value


# ---- evaluating the tree twice -------------------------------------------------------------


def _variables(tree: Expr) -> list[str]:
    found: dict[str, None] = {}
    stack = [tree]
    while stack:
        e = stack.pop()
        if e.op == "input":
            found[e.name] = None
        stack.extend(reversed(e.args))
    return list(found)  # in order of first appearance, left to right


def _scratch(tree: Expr, values: Mapping[str, np.ndarray]) -> tuple[graph.Node, dict]:
    leaves = {n: graph.variable(v, n) for n, v in values.items()}
    memo: dict[int, graph.Node] = {}

    def visit(e: Expr) -> graph.Node:
        if id(e) not in memo:
            if e.op == "input":
                memo[id(e)] = leaves[e.name]
            elif e.op == "const":
                memo[id(e)] = graph.const(e.value)
            else:
                args = [visit(a) for a in e.args]
                fn = getattr(graph, e.op) if e.op not in _ACTIVATIONS else (
                    lambda x, op=e.op: graph.activation(x, op))
                try:
                    memo[id(e)] = fn(*args)
                except (ValueError, TypeError) as exc:
                    raise VerifyError(f"{exc} (in {e.text!r})") from None
        return memo[id(e)]

    return visit(tree), memo


def _needs_values(tree: Expr, values: Mapping[str, np.ndarray], what: str) -> None:
    for name in _variables(tree):
        if name not in values:
            raise VerifyError(f"no value for {name!r} in {what}; give it with --at {name}=...")


@dataclass(frozen=True)
class Claim:
    """One `--claim VAR=EXPR`: the claimed df/dVAR next to autograd's, and the verdict."""

    var: str
    expression: str
    claimed: np.ndarray
    autograd: np.ndarray
    ok: bool


@dataclass
class Report:
    """Everything verify computed: the node table, the gradient and the claims."""

    expression: str
    values: dict[str, np.ndarray]
    value: np.ndarray
    grad: dict[str, np.ndarray]
    nodes: list[dict] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    @property
    def engines_agree(self) -> bool:
        return all(n["agree"] for n in self.nodes)

    @property
    def ok(self) -> bool:
        return self.engines_agree and all(c.ok for c in self.claims)

    def as_dict(self) -> dict:
        return {
            "value": _plain(self.value),
            "grad": {k: _plain(v) for k, v in self.grad.items()},
            "nodes": [{k: _plain(v) for k, v in n.items()} for n in self.nodes],
            "claims": [
                {"var": c.var, "claimed": _plain(c.claimed), "autograd": _plain(c.autograd),
                 "ok": c.ok}
                for c in self.claims
            ],
        }


def _plain(x):
    if isinstance(x, np.ndarray | np.generic):
        return x.tolist()
    return x


def verify(
    expression: str,
    at: Mapping[str, object],
    claims: Sequence[tuple[str, str]] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Report:
    """Evaluate `expression` at `at` with scratch.graph and torch autograd; check `claims`.

    `at` maps variable names to numbers or vectors; `claims` are (variable, expression) pairs.
    Raises VerifyError (a ValueError) for bad input, domain errors included.
    Catalog: D8, D13.
    """
    tree = parse(expression)
    try:
        values = {n: np.asarray(v, dtype=np.float64) for n, v in at.items()}
    except (TypeError, ValueError):
        raise VerifyError(
            f"values must be numbers or vectors of numbers, got {dict(at)!r}"
        ) from None
    _needs_values(tree, values, repr(expression))
    names = _variables(tree)
    if not names:
        raise VerifyError(f"{expression!r} has no variables: nothing to differentiate")
    if not (rtol >= 0 and atol >= 0):
        raise VerifyError(f"rtol and atol must be >= 0, got rtol={rtol!r}, atol={atol!r}")
    used = {n: values[n] for n in names}
    try:
        out, smemo = _scratch(tree, used)
        if out.value.size != 1:
            raise VerifyError(
                f"the expression must be a scalar to differentiate it, got shape {out.shape}; "
                "reduce it with sum(...), mean(...) or dot(...)"
            )
        order = graph.backward(out)
    except VerifyError:
        raise
    except (ValueError, TypeError) as exc:
        raise VerifyError(str(exc)) from None

    # torch is imported only once the input is known to be good: bad input fails fast.
    import torch

    from torchref import graph as tgraph

    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in used.items()}
    tout, tmemo = tgraph.evaluate(tree, leaves)
    tout.backward()

    # Pair the two engines' nodes through the tree node each came from.
    torch_of = {id(smemo[k]): tmemo[k] for k in smemo}
    text_of = {}
    for e in _walk(tree):
        text_of.setdefault(id(smemo[id(e)]), e.text)
    records = graph.trace(out)
    report = Report(expression, used, tout.detach().numpy(),
                    {n: _grad(leaves[n]) for n in names})
    for rec, node in zip(records, order, strict=True):
        t = torch_of[id(node)]
        is_const = rec.op == "const"
        t_adj = None if is_const else _grad(t)
        s_adj = None if is_const else rec.adjoint
        agree = bool(np.allclose(rec.value, t.detach().numpy(), **_ENGINE_TOL)) and (
            is_const or bool(np.allclose(s_adj, t_adj, **_ENGINE_TOL)))
        report.nodes.append({
            "name": rec.name, "op": rec.op, "inputs": list(rec.parents),
            "expr": text_of.get(id(node), ""),
            "value_scratch": rec.value, "value_torch": t.detach().numpy(),
            "adjoint_scratch": s_adj, "adjoint_torch": t_adj, "agree": agree,
        })

    for var, text in claims:
        if var not in names:
            raise VerifyError(f"--claim {var}: {var!r} does not appear in {expression!r}")
        ctree = parse(text)
        _needs_values(ctree, values, f"the claim for {var}")
        try:
            claimed = _scratch(ctree, {n: values[n] for n in _variables(ctree)})[0].value
        except (ValueError, TypeError) as exc:
            raise VerifyError(f"--claim {var}: {exc}") from None
        auto = report.grad[var]
        try:
            claimed = np.broadcast_to(claimed, auto.shape)
        except ValueError:
            raise VerifyError(
                f"--claim {var}: the claimed derivative has shape {claimed.shape}, "
                f"but {var} has shape {auto.shape}"
            ) from None
        ok = bool(np.allclose(claimed, auto, rtol=rtol, atol=atol))
        report.claims.append(Claim(var, text, np.array(claimed), auto, ok))
    return report


def _walk(tree: Expr):
    stack = [tree]
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.args)


def _grad(t) -> np.ndarray:
    g = t.grad
    return np.zeros(tuple(t.shape)) if g is None else g.detach().numpy()


# ---- output --------------------------------------------------------------------------------


def _fmt(x) -> str:
    if x is None:
        return "-"
    x = np.asarray(x)
    if x.size == 1:
        return f"{float(x.reshape(())):.10g}"
    return "[" + ", ".join(f"{v:.6g}" for v in x.ravel()) + "]"


def format_report(r: Report) -> str:
    at = ", ".join(f"{n}={_fmt(v)}" for n, v in r.values.items())
    head = ("node", "expression", "op", "value (scratch)", "value (torch)",
            "adjoint (scratch)", "adjoint (torch)", "")
    rows = [head] + [
        (n["name"], n["expr"], n["op"], _fmt(n["value_scratch"]), _fmt(n["value_torch"]),
         _fmt(n["adjoint_scratch"]), _fmt(n["adjoint_torch"]), "" if n["agree"] else "DIFFER")
        for n in r.nodes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [f"f = {r.expression}   at {at}", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    lines += ["", f"f = {_fmt(r.value)}", "gradient (torch autograd; scratch.graph agrees"
              + ("" if r.engines_agree else " NOT everywhere: see DIFFER") + "):"]
    lines += [f"  df/d{n} = {_fmt(g)}" for n, g in r.grad.items()]
    if r.claims:
        lines.append("claims:")
        for c in r.claims:
            verdict = "ok" if c.ok else "MISMATCH"
            lines.append(f"  df/d{c.var}: claimed {c.expression} = {_fmt(c.claimed)}, "
                         f"autograd {_fmt(c.autograd)}: {verdict}")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit code 2, not argparse's usage block
        raise VerifyError(message)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m torchref.verify",
        description="Evaluate an expression with scratch.graph and torch autograd side by side "
        "and check hand-derived partial derivatives.",
        epilog='example: python -m torchref.verify "ln(x1) + x1*x2 - sin(x2)" '
        '--at x1=2 x2=5 --claim x1="1/x1 + x2"',
    )
    p.add_argument("expression", help="e.g. 'ln(x1) + x1*x2 - sin(x2)' or 'sigmoid(dot(w, x))'")
    p.add_argument("--at", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="input values: x1=2, or a vector w=1,2,3")
    p.add_argument("--claim", action="append", default=[], metavar="VAR=EXPR",
                   help="a hand-derived df/dVAR to check, e.g. x1='1/x1 + x2' (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--rtol", type=float, default=RTOL, help=f"claim tolerance (default {RTOL})")
    p.add_argument("--atol", type=float, default=ATOL, help=f"claim tolerance (default {ATOL})")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0 ok, 1 mismatch, 2 bad input)."""
    try:
        args = _build_parser().parse_args(argv)
        at = dict(parse_value(s) for s in args.at)
        claims = []
        for spec in args.claim:
            var, sep, text = spec.partition("=")
            if not sep or not var.strip().isidentifier() or not text.strip():
                raise VerifyError(f"--claim needs VAR=EXPR (e.g. x1='1/x1 + x2'), got {spec!r}")
            claims.append((var.strip(), text))
        report = verify(args.expression, at, claims, rtol=args.rtol, atol=args.atol)
    except VerifyError as exc:
        print(f"torchref.verify: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

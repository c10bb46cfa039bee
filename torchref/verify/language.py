"""The expression language of verify: tokens -> one expression DAG (`Expr`), never `eval`.

The grammar is Python's, restricted to arithmetic: numbers, names, `pi`, `e`; `+ - * / @ **`
with Python's precedence (`-x**2` is `-(x**2)`, `2**-1` is `2**(-1)`); one comparison
`< <= > >=` (not chained); calls of the functions of `FUNCTIONS`, with `axis=INT` where the
function takes one; indexing with integers and slices (`w[0]`, `W[1, 0]`, `W[:, 0]`); `A.T`.
The parser is a shunting-yard loop over a token list, with explicit stacks: an expression of
any length or depth parses without recursion (the limit is `MAX_TOKENS`).

`parse_program(expression, let)` parses `--let` bindings first, in order (each may use the
ones before it), then the expression; a let name used anywhere is one shared node carrying
the name as `label`, and every variable is one shared leaf.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from scratch.activations import ACTIVATIONS, THRESHOLD_UNITS

__all__ = ["VerifyError", "Expr", "Function", "FUNCTIONS", "OPERATORS", "CONSTANTS", "MAX_TOKENS",
           "Program", "parse", "parse_program", "parse_value", "pairs"]

MAX_TOKENS = 200_000  # a few MB of text; an expression of 10,000 nodes has ~20,000 tokens
_TEXT_SHOWN = 40  # characters of a node's text shown in tables and messages


class VerifyError(ValueError):
    """Bad input to verify: the message is the one line printed on stderr."""


@dataclass(eq=False, slots=True)
class Expr:
    """A node of the parsed expression: op "input" (`name`), "const" (`value`) or a graph op
    applied to `args` with keyword arguments `kwargs` ((key, value) pairs: `axis`, `key`).

    `src[start:end]` is the node's text; `label` is its `--let` name, if any. Nodes are shared
    (a variable, a let) and keyed by identity: never changed after parsing (a let's labelled
    node is a copy, `dataclasses.replace`). Not frozen: a frozen dataclass is 3x slower to
    build, and an expression of 10,000 nodes builds 10,000 of them.
    """

    op: str
    args: tuple[Expr, ...] = ()
    name: str = ""
    value: float = 0.0
    kwargs: tuple[tuple[str, object], ...] = ()
    src: str = field(default="", repr=False)
    start: int = 0
    end: int = 0
    label: str = ""

    @property
    def text(self) -> str:
        return self.src[self.start:self.end]

    def short(self, limit: int = _TEXT_SHOWN) -> str:
        """The node's text, cut to `limit` characters (tables of huge expressions stay small)."""
        n = self.end - self.start
        return self.text if n <= limit else self.src[self.start:self.start + limit - 3] + "..."

    def where(self) -> str:
        """How a message names this node: `'ln(x)'`, or `z = 'W@x + b'` for a let."""
        return f"{self.label} = {self.short()!r}" if self.label else repr(self.short())


# ---- the functions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A callable name of the language: the graph `op` it becomes, its argument names (for the
    help and the arity check), whether it takes `axis=`, and its group in the help."""

    op: str
    args: tuple[str, ...]
    group: str
    axis: bool = False


def _functions() -> dict[str, Function]:
    def each(group: str, names: Sequence[str], args=("x",), axis=False) -> dict[str, Function]:
        return {n: Function(n, tuple(args), group, axis) for n in names}

    table = {
        **each("element-wise", ["exp", "log", "log2", "log10", "sqrt", "abs", "sin", "cos",
                                "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "erf",
                                "gelu", "softplus"]),
        "ln": Function("log", ("x",), "element-wise"),
        # One list of activations for the whole project: scratch.activations' registry.
        **each("activations (scratch.activations)", [*ACTIVATIONS, *THRESHOLD_UNITS]),
        "prelu": Function("prelu", ("x", "alpha"), "activations (scratch.activations)"),
        **each("element-wise", ["maximum", "minimum"], ("a", "b")),
        "clip": Function("clip", ("x", "lo", "hi"), "piecewise"),
        "where": Function("where", ("cond", "a", "b"), "piecewise"),
        **each("linear algebra", ["dot", "outer"], ("a", "b")),
        **each("linear algebra", ["transpose", "diag"], ("A",)),
        "norm": Function("norm", ("a",), "reductions"),
        **each("reductions", ["sum", "mean", "max", "min"], ("A",), axis=True),
        **each("vector functions (classes on the last axis)",
               ["softmax", "log_softmax", "logsumexp"], ("z",), axis=True),
        "cross_entropy": Function("cross_entropy", ("z", "t"),
                                  "vector functions (classes on the last axis)"),
        "bce": Function("bce", ("p", "t"), "vector functions (classes on the last axis)"),
        "mse": Function("mse", ("a", "y"), "vector functions (classes on the last axis)"),
    }
    return table


FUNCTIONS: dict[str, Function] = _functions()
CONSTANTS = {"pi": math.pi, "e": math.e}
OPERATORS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "**": "pow",
           "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_PREC = {"<": 1, "<=": 1, ">": 1, ">=": 1, "+": 2, "-": 2, "*": 3, "/": 3, "@": 3,
         "neg": 4, "pos": 4, "**": 5}
_COMPARE = {"<", "<=", ">", ">="}
_REFUSED = {"^": "; use ** for powers", "==": "; use <, <=, > or >=", "!=": "; use <, <=, > or >=",
            "//": "", "%": "", "=": " outside a keyword argument"}


# ---- tokens ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|<=|>=|==|!=|//|[-+*/@()\[\],.<>=:^%])
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)


class _Tok(NamedTuple):
    kind: str  # "num", "name", "op", "end"
    text: str
    start: int
    end: int


def _tokens(src: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(src):
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "bad":
            raise VerifyError(f"syntax error in {_cut(src)!r}: unexpected character "
                              f"{m.group()!r} at column {m.start() + 1}")
        out.append(_Tok(kind, m.group(), m.start(), m.end()))
    if len(out) > MAX_TOKENS:
        raise VerifyError(f"expression too long: {len(out)} tokens, more than {MAX_TOKENS} "
                          "(the size limit of verify)")
    out.append(_Tok("end", "", len(src), len(src)))
    return out


def _cut(src: str, limit: int = 60) -> str:
    return src if len(src) <= limit else src[:limit - 3] + "..."


def _number(tok: _Tok, src: str) -> float:
    value = float(tok.text)
    if not math.isfinite(value):
        raise VerifyError(f"number too large: {_cut(tok.text, 20)!r} in {_cut(src)!r} "
                          f"(the largest float is {np.finfo(np.float64).max:.4g})")
    if value == 0 and any(c in "123456789" for c in tok.text.lower().split("e")[0]):
        tiny = np.finfo(np.float64).smallest_subnormal
        raise VerifyError(f"number too small: {_cut(tok.text, 20)!r} in {_cut(src)!r} rounds to "
                          f"0 (the smallest float is {tiny:.4g})")
    return value


# ---- the parser ------------------------------------------------------------------------------


@dataclass
class _Call:
    """An open call `f(` on the operator stack: the arguments parsed so far."""

    name: str
    start: int
    depth: int  # operand-stack height when the call opened
    kwargs: dict = field(default_factory=dict)
    positional_before_kw: int = -1  # arguments before the keyword argument (-1: none yet)


@dataclass
class _Scope:
    """Names a parse may resolve: let bindings and the one shared leaf per variable."""

    lets: dict[str, Expr] = field(default_factory=dict)
    variables: dict[str, Expr] = field(default_factory=dict)


def parse(text: str, scope: _Scope | None = None) -> Expr:
    """Parse `text` into an Expr DAG; anything outside the language raises VerifyError."""
    return _Parser(text, scope or _Scope()).run()


class _Parser:
    def __init__(self, src: str, scope: _Scope) -> None:
        self.src = src
        self.scope = scope
        self.toks = _tokens(src)
        self.i = 0
        # operands: (expr, start, end); start/end include any parentheses around it
        self.operands: list[tuple[Expr, int, int]] = []
        self.ops: list = []  # ("bin", tok) | ("un", tok) | ("(", tok) | _Call

    # -- helpers --
    def error(self, msg: str, tok: _Tok | None = None) -> VerifyError:
        where = "" if tok is None else (
            " at the end" if tok.kind == "end" else f" at column {tok.start + 1}")
        return VerifyError(f"syntax error in {_cut(self.src)!r}: {msg}{where}")

    def make(self, op: str, args: Sequence[tuple[Expr, int, int]], start: int, end: int,
             **kw) -> tuple[Expr, int, int]:
        expr = Expr(op, tuple([a[0] for a in args]), src=self.src, start=start, end=end,
                    kwargs=tuple(kw.items()) if kw else ())
        return expr, start, end

    def leaf(self, tok: _Tok) -> tuple[Expr, int, int]:
        if tok.kind == "num":
            e = Expr("const", value=_number(tok, self.src), src=self.src, start=tok.start,
                     end=tok.end)
            return e, tok.start, tok.end
        name = tok.text
        if keyword.iskeyword(name):
            raise VerifyError(f"syntax error in {_cut(self.src)!r}: {name!r} is a Python keyword, "
                              "not a number, variable or function")
        if name in FUNCTIONS:
            raise VerifyError(f"{name!r} is a function: call it, as {name}(...)")
        if name in CONSTANTS:
            e = Expr("const", value=CONSTANTS[name], src=self.src, start=tok.start, end=tok.end)
        elif name in self.scope.lets:
            e = self.scope.lets[name]
        else:
            e = self.scope.variables.get(name)
            if e is None:
                e = self.scope.variables[name] = Expr("input", name=name, src=name, end=len(name))
        return e, tok.start, tok.end

    def apply(self, entry) -> None:
        kind, tok = entry
        if kind == "un":
            (a,) = self.pop_operands(1)
            if tok.text == "+":
                self.operands.append((a[0], tok.start, a[2]))
            else:
                self.operands.append(self.make("neg", [a], tok.start, a[2]))
        else:
            a, b = self.pop_operands(2)
            self.operands.append(self.make(OPERATORS[tok.text], [a, b], a[1], b[2]))

    def pop_operands(self, n: int) -> list[tuple[Expr, int, int]]:
        taken = self.operands[-n:]
        del self.operands[-n:]
        return taken

    def reduce_while(self, keep_going) -> None:
        while self.ops and isinstance(self.ops[-1], tuple) and self.ops[-1][0] in ("bin", "un") \
                and keep_going(self.ops[-1]):
            self.apply(self.ops.pop())

    def prec(self, entry) -> int:
        kind, tok = entry
        return _PREC["neg" if kind == "un" else tok.text]

    # -- the loop --
    def run(self) -> Expr:
        if self.toks[0].kind == "end":
            raise VerifyError(f"syntax error in {self.src!r}: empty expression")
        expect_operand = True
        while True:
            tok = self.toks[self.i]
            self.i += 1
            if expect_operand:
                expect_operand = self.operand(tok)
            elif tok.kind == "end":
                break
            else:
                expect_operand = self.after_operand(tok)
        self.reduce_while(lambda e: True)
        if self.ops:
            top = self.ops[-1]
            opener = "(" if isinstance(top, _Call) else top[1].text
            raise VerifyError(f"syntax error in {_cut(self.src)!r}: {opener!r} was never closed")
        (root,) = self.operands
        return root[0]

    def operand(self, tok: _Tok) -> bool:
        """Read where an operand must come; True if one is still expected."""
        if tok.kind == "num":
            self.operands.append(self.leaf(tok))
            return False
        if tok.kind == "name":
            nxt = self.toks[self.i]
            if nxt.text == "(" and tok.text in FUNCTIONS:
                self.i += 1
                self.ops.append(_Call(tok.text, tok.start, len(self.operands)))
                return self.call_argument_start()
            if nxt.text == "(":
                raise VerifyError(f"unknown function {tok.text!r}; valid choices: "
                                  f"{', '.join(map(repr, sorted(FUNCTIONS)))}")
            if nxt.text == "=" and self.ops and isinstance(self.ops[-1], _Call):
                return self.keyword(tok)
            self.operands.append(self.leaf(tok))
            return False
        if tok.text in ("-", "+"):
            self.ops.append(("un", tok))
            return True
        if tok.text == "(":
            self.ops.append(("(", tok))
            return True
        if tok.kind == "end":
            raise self.error("expected a number, a name or '('", tok)
        raise self.error(f"expected a number, a name or '(', got {tok.text!r}", tok)

    def after_operand(self, tok: _Tok) -> bool:
        """Read where an operator, a postfix or a closer must come; True if an operand follows."""
        t = tok.text
        if t in OPERATORS:
            right = t == "**"
            p = _PREC[t]
            chained = []

            def higher(entry) -> bool:
                q = self.prec(entry)
                if (q > p or (q == p and not right)) and entry[0] == "bin" \
                        and entry[1].text in _COMPARE:
                    chained.append(entry)
                return q > p or (q == p and not right)

            self.reduce_while(higher)
            if chained and t in _COMPARE:
                raise VerifyError(f"chained comparisons like 'a < b < c' are not supported, "
                                  f"in {_cut(self.src)!r}; nest where(...) instead")
            self.ops.append(("bin", tok))
            return True
        if t == ")":
            return self.close(tok)
        if t == ",":
            return self.comma(tok)
        if t == "[":
            self.subscript(tok)
            return False
        if t == ".":
            nxt = self.toks[self.i]
            if nxt.text != "T":
                raise self.error(f"only the attribute .T (transpose) is supported, got "
                                 f".{nxt.text}", tok)
            self.i += 1
            a = self.operands.pop()
            self.operands.append(self.make("transpose", [a], a[1], nxt.end))
            return False
        if t in _REFUSED:
            raise VerifyError(f"unsupported operator in {_cut(self.src)!r}: {t!r} at column "
                              f"{tok.start + 1}{_REFUSED[t]}")
        if tok.kind in ("num", "name") or t == "(":
            raise self.error(f"missing operator before {t!r}", tok)
        raise self.error(f"unexpected {t!r}", tok)

    # -- calls --
    def call_argument_start(self) -> bool:
        if self.toks[self.i].text == ")":  # f()
            tok = self.toks[self.i]
            self.i += 1
            self.close(tok)
            return False
        return True

    def keyword(self, tok: _Tok) -> bool:
        call = self.ops[-1]
        fn = FUNCTIONS[call.name]
        if tok.text != "axis" or not fn.axis:
            takes = "axis=" if fn.axis else "no keyword arguments"
            raise VerifyError(f"{call.name} takes {takes}, got {tok.text}= in {_cut(self.src)!r}")
        self.i += 1  # '='
        sign = 1
        if self.toks[self.i].text == "-":
            sign, self.i = -1, self.i + 1
        num = self.toks[self.i]
        if num.kind != "num" or not num.text.isdigit():
            raise self.error("axis must be an integer", num)
        self.i += 1
        if "axis" in call.kwargs:
            raise self.error("axis given twice", tok)
        call.kwargs["axis"] = sign * int(num.text)
        call.positional_before_kw = len(self.operands) - call.depth
        nxt = self.toks[self.i]
        if nxt.text not in (",", ")"):
            raise self.error("expected ',' or ')' after the keyword argument", nxt)
        return False

    def comma(self, tok: _Tok) -> bool:
        self.reduce_while(lambda e: True)
        if not self.ops or not isinstance(self.ops[-1], _Call):
            raise self.error("',' outside a function call (tuples are not supported)", tok)
        return True

    def close(self, tok: _Tok) -> bool:
        self.reduce_while(lambda e: True)
        if not self.ops:
            raise self.error("unmatched ')'", tok)
        top = self.ops.pop()
        if isinstance(top, _Call):
            self.finish_call(top, tok)
        else:  # a group: the operand keeps its own text, its span now includes the parentheses
            expr, _, _ = self.operands.pop()
            self.operands.append((expr, top[1].start, tok.end))
        return False

    def finish_call(self, call: _Call, tok: _Tok) -> None:
        n = len(self.operands) - call.depth
        if 0 <= call.positional_before_kw < n:
            raise self.error("positional argument after a keyword argument", tok)
        args = self.pop_operands(n) if n else []
        fn = FUNCTIONS[call.name]
        if len(args) != len(fn.args):
            text = self.src[call.start:tok.end]
            raise VerifyError(f"{call.name} takes {len(fn.args)} argument(s) "
                              f"({', '.join(fn.args)}{', axis=' if fn.axis else ''}), "
                              f"got {_cut(text)!r}")
        self.operands.append(self.make(fn.op, args, call.start, tok.end, **call.kwargs))

    # -- indexing --
    def subscript(self, open_tok: _Tok) -> None:
        key: list[int | slice] = []
        while True:
            key.append(self.index_item())
            tok = self.toks[self.i]
            self.i += 1
            if tok.text == "]":
                break
            if tok.text != ",":
                raise self.error("indices must be integers or slices like 0, -1, 1:3 or :", tok)
        a = self.operands.pop()
        self.operands.append(self.make("index", [a], a[1], tok.end, key=tuple(key)))

    def index_item(self) -> int | slice:
        bounds: list[int | None] = [None]
        while True:
            tok = self.toks[self.i]
            if (tok.text == "-" or tok.kind == "num") and bounds[-1] is None:
                bounds[-1] = self.integer()
            elif tok.text == ":" and len(bounds) < 2:
                self.i += 1
                bounds.append(None)
            else:
                break
        if len(bounds) == 1:
            if bounds[0] is None:
                raise self.error("indices must be integers or slices like 0, -1, 1:3 or :",
                                 self.toks[self.i])
            return bounds[0]
        return slice(bounds[0], bounds[1])

    def integer(self) -> int:
        sign = 1
        if self.toks[self.i].text == "-":
            sign, self.i = -1, self.i + 1
        tok = self.toks[self.i]
        if tok.kind != "num" or not tok.text.isdigit():
            raise self.error("indices must be integers or slices like 0, -1, 1:3 or :", tok)
        self.i += 1
        return sign * int(tok.text)


# ---- a whole program: --let bindings, then the expression -------------------------------------


@dataclass
class Program:
    """The parsed expression with its `--let` bindings.

    `output` is the expression's root; `lets` maps each let name to its node (shared wherever
    the name is used, `label` set); `scope` resolves names for further parses (claims).
    """

    expression: str
    output: Expr
    lets: dict[str, Expr]
    scope: _Scope

    @property
    def variables(self) -> list[str]:
        """Variable names in order of first appearance (lets first, then the expression)."""
        return list(self.scope.variables)

    def parse(self, text: str) -> Expr:
        """Parse another expression (a claim) in this program's names."""
        return parse(text, self.scope)


def pairs(items, what: str) -> list[tuple[str, str]]:
    """`{"a": "x"}` or `[("a", "x")]` -> [("a", "x")]; a name given twice is bad input."""
    seq = list(items.items()) if isinstance(items, Mapping) else list(items or ())
    seen: set[str] = set()
    for name, _ in seq:
        if name in seen:
            raise VerifyError(f"{what} {name}: given twice")
        seen.add(name)
    return seq


def _check_new_name(name: str, what: str, scope: _Scope) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise VerifyError(f"{what} needs NAME=EXPR with a plain name, got {name!r}")
    if name in FUNCTIONS or name in CONSTANTS:
        raise VerifyError(f"{what} {name}: {name!r} is a built-in name")
    if name in scope.lets:
        raise VerifyError(f"{what} {name}: given twice")
    if name in scope.variables:
        raise VerifyError(f"{what} {name}: {name!r} is already used as a variable before it")


def parse_program(expression: str, let: Mapping[str, str] | Sequence[tuple[str, str]] = ()
                  ) -> Program:
    """Parse the `--let` bindings in order, then `expression`, into one shared DAG."""
    scope = _Scope()
    for name, text in pairs(let, "--let"):
        _check_new_name(name, "--let", scope)
        if not isinstance(text, str) or not text.strip():
            raise VerifyError(f"--let {name}: needs an expression, got {text!r}")
        root = parse(text, scope)
        if root.op in ("input", "const") or root.label:
            raise VerifyError(f"--let {name}: {text.strip()!r} is a plain name or number; a let "
                              "names a computation such as 'W@x + b'")
        scope.lets[name] = replace(root, label=name)
    if not isinstance(expression, str):
        raise VerifyError(f"the expression must be a string, got {type(expression).__name__}")
    output = parse(expression, scope)
    return Program(expression, output, dict(scope.lets), scope)


# ---- values ---------------------------------------------------------------------------------


def parse_value(spec: str) -> tuple[str, np.ndarray]:
    """`"x1=2"` -> ("x1", 0-d array); `"w=1,2,3"` -> a vector; `"W=[[1,2],[3,4]]"` -> a matrix."""
    name, sep, raw = spec.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise VerifyError(f"--at needs NAME=VALUE (e.g. x1=2, w=1,2,3 or W=[[1,2],[3,4]]), "
                          f"got {spec!r}")
    if name in FUNCTIONS or name in CONSTANTS:
        raise VerifyError(f"--at {name}: {name!r} is a built-in name, not a variable")
    raw = raw.strip()
    try:
        literal = ast.literal_eval(raw if raw.startswith("[") else f"[{raw}]")
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        raise VerifyError(f"--at {name}: value must be a number, comma-separated numbers or a "
                          f"nested list such as [[1,2],[3,4]], got {_cut(raw)!r}") from None
    if not raw.startswith("[") and len(literal) == 1:
        literal = literal[0]
    return name, as_value(name, literal, f"--at {name}")


def as_value(name: str, value, what: str) -> np.ndarray:
    """A finite float64 scalar, vector or matrix, or VerifyError naming `what`."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise VerifyError(f"{what}: a number is too large for a float (above "
                          f"{np.finfo(np.float64).max:.4g})") from None
    except (TypeError, ValueError):
        raise VerifyError(f"{what}: values must be numbers, vectors or matrices of numbers "
                          f"(rows of one length), got {_cut(repr(value))}") from None
    if isinstance(value, bool) or arr.ndim > 2:
        raise VerifyError(f"{what}: values must be numbers, vectors or matrices, got "
                          f"{'a bool' if isinstance(value, bool) else f'shape {arr.shape}'}")
    if arr.size == 0:
        raise VerifyError(f"{what}: needs at least one number, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise VerifyError(f"{what}: values must be finite, got {_cut(repr(value))}")
    return arr

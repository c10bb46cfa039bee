"""An independent engine for verify's language: SymPy derivatives, mpmath numbers, scalar entries.

Test-only (SymPy is a dev dependency). Every function of the language is written here from
its textbook definition, entry by entry, as SymPy expressions of scalar arguments (sigmoid is
1/(1 + exp(-x)), softmax's entry i is exp(x_i)/sum_j exp(x_j), relu a Piecewise, ...). SymPy
differentiates each definition symbolically (cached, and turned into mpmath functions with
`lambdify`), and the values are mpmath numbers at 30 significant digits. Vectors and matrices
are NumPy object arrays of scalar nodes, so matmul, transpose, broadcasting, indexing and
reductions come from NumPy's semantics of the forward definitions; the gradient is a plain
reverse pass over the scalar nodes (each adds grad * partial into its arguments).

Shares nothing with `scratch.graph` or torch but the parsed tree: no vector-Jacobian rule,
no unbroadcasting, no kink convention is taken from the code under test. (A whole-expression
`sympy.diff` is the same mathematics but ~100x slower: it cannot check thousands of cases.)
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import sympy as sp

__all__ = ["value_and_grad", "Undefined"]

DIGITS = 30
_X = sp.symbols("x0:64", real=True)


class Undefined(ArithmeticError):
    """The derivative does not exist at this point (0/0 of a norm at 0, a complex value)."""


@functools.cache
def _compiled(key: tuple) -> tuple:
    """(value function, partial-derivative functions) of the definition named by `key`."""
    expr, n = _definition(*key)
    args = _X[:n]
    value = sp.lambdify(args, expr, "mpmath")
    partials = tuple(sp.lambdify(args, sp.diff(expr, a), "mpmath") for a in args)
    return value, partials


def _pw(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def _max(a, b):
    return _pw(a >= b, a, b)


def _min(a, b):
    return _pw(a <= b, a, b)


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


_UNARY = {
    "neg": lambda x: -x, "exp": sp.exp, "log": sp.log, "log2": lambda x: sp.log(x) / sp.log(2),
    "log10": lambda x: sp.log(x) / sp.log(10), "sqrt": sp.sqrt, "abs": lambda x: _pw(x > 0, x, -x),
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "erf": sp.erf,
    "gelu": lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "identity": lambda x: x, "sigmoid": _sigmoid, "tanh": sp.tanh,
    "tanh_half": lambda x: sp.tanh(x / 2), "relu": lambda x: _pw(x > 0, x, 0),
    "leaky_relu": lambda x: _pw(x > 0, x, sp.Rational(1, 100) * x),
    "elu": lambda x: _pw(x > 0, x, sp.exp(x) - 1), "swish": lambda x: x * _sigmoid(x),
    "step": lambda x: _pw(x > 0, 1, 0), "sign_unit": lambda x: _pw(x > 0, 1, 0),
    "sign": lambda x: sp.Piecewise((1, x > 0), (-1, x < 0), (0, True)),
}
_BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a**b,
    "maximum": _max, "minimum": _min,
    "prelu": lambda x, alpha: _pw(x > 0, x, alpha * x),
    "lt": lambda a, b: _pw(a < b, 1, 0), "le": lambda a, b: _pw(a <= b, 1, 0),
    "gt": lambda a, b: _pw(a > b, 1, 0), "ge": lambda a, b: _pw(a >= b, 1, 0),
}


def _definition(name: str, n: int, i: int = 0) -> tuple[sp.Expr, int]:
    """The SymPy expression of `name` in the symbols x0..x(n-1) (i: which entry, softmax)."""
    x = _X[:n]
    if name in _UNARY:
        return _UNARY[name](x[0]), 1
    if name in _BINARY:
        return _BINARY[name](x[0], x[1]), 2
    table = {
        "clip": lambda: sp.Piecewise((x[1], x[0] < x[1]), (x[2], x[0] > x[2]), (x[0], True)),
        "where": lambda: _pw(sp.Ne(x[0], 0), x[1], x[2]),
        "sum": lambda: sp.Add(*x),
        "norm": lambda: sp.sqrt(sp.Add(*(v**2 for v in x))),
        "logsumexp": lambda: sp.log(sp.Add(*(sp.exp(v) for v in x))),
        "softmax": lambda: sp.exp(x[i]) / sp.Add(*(sp.exp(v) for v in x)),
        "log_softmax": lambda: x[i] - sp.log(sp.Add(*(sp.exp(v) for v in x))),
    }
    return table[name](), n


class S:
    """A scalar node: its mpmath value and (argument, partial derivative) pairs."""

    __slots__ = ("value", "parents", "grad", "index")
    tape: list[S] | None = None

    def __init__(self, value, parents=()):
        if isinstance(value, mpmath.mpc):
            if value.imag != 0:
                raise Undefined(f"complex value {value}")
            value = value.real
        self.value, self.parents, self.grad = value, parents, 0
        S.tape.append(self)

    # arithmetic between nodes (and with Python numbers) lets NumPy do dot/sum on object arrays
    def __add__(self, o): return call("add", self, o)
    def __radd__(self, o): return call("add", o, self)
    def __sub__(self, o): return call("sub", self, o)
    def __rsub__(self, o): return call("sub", o, self)
    def __mul__(self, o): return call("mul", self, o)
    def __rmul__(self, o): return call("mul", o, self)
    def __truediv__(self, o): return call("div", self, o)
    def __rtruediv__(self, o): return call("div", o, self)
    def __pow__(self, o): return call("pow", self, o)
    def __neg__(self): return call("neg", self)


def _node(v) -> S:
    return v if isinstance(v, S) else S(mpmath.mpf(v))


def call(name: str, *args, i: int = 0) -> S:
    """One scalar function of the definitions applied to nodes: value and partials."""
    args = [_node(a) for a in args]
    value_fn, partial_fns = _compiled((name, len(args), i))
    vals = [a.value for a in args]
    try:
        value = value_fn(*vals)
        partials = [p(*vals) for p in partial_fns]
    except (ZeroDivisionError, ValueError) as exc:
        raise Undefined(str(exc)) from None
    return S(value, tuple(zip(args, partials, strict=True)))


# ---- the language's ops on object arrays of nodes -------------------------------------------


def _each(name: str, *arrays) -> np.ndarray:
    return np.asarray(np.frompyfunc(lambda *a: call(name, *a), len(arrays), 1)(*arrays),
                      dtype=object)


def _reduce(a: np.ndarray, axis, fn) -> np.ndarray:
    if axis is None:
        return np.asarray(fn(list(a.flat)), dtype=object)
    moved = np.moveaxis(a, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(list(moved[idx]))
    return out


def _along(a: np.ndarray, axis: int, name: str) -> np.ndarray:
    """softmax/log_softmax: entry i of each slice along `axis` is its own definition."""
    moved = np.moveaxis(a, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    for idx in np.ndindex(moved.shape[:-1]):
        row = list(moved[idx])
        for i in range(len(row)):
            out[idx + (i,)] = call(name, *row, i=i)
    return np.moveaxis(out, -1, axis)


def _sum(xs):
    return call("sum", *xs)


def _op(name: str, args: list[np.ndarray], kw: dict) -> np.ndarray:
    a = args[0]
    if name in _UNARY or name in _BINARY or name in ("clip", "where"):
        return _each(name, *args)
    if name == "matmul":
        b = args[1]
        return a * b if a.ndim == 0 or b.ndim == 0 else np.asarray(np.dot(a, b), dtype=object)
    if name == "dot":
        return np.asarray(np.dot(a, args[1]), dtype=object)
    simple = {"outer": lambda: np.outer(a, args[1]), "transpose": lambda: a.T,
              "diag": lambda: np.diag(a), "index": lambda: a[kw.get("key")]}
    if name in simple:
        return np.asarray(simple[name](), dtype=object)
    axis = kw.get("axis", -1 if name in ("softmax", "log_softmax", "logsumexp") else None)
    axis = None if axis is None else axis % a.ndim
    if name == "sum":
        return _reduce(a, axis, _sum)
    if name == "mean":
        return _reduce(a, axis, lambda xs: _sum(xs) / len(xs))
    if name in ("max", "min"):  # the largest (smallest) of k entries, two at a time
        pair = "maximum" if name == "max" else "minimum"
        return _reduce(a, axis, lambda xs: functools.reduce(lambda p, q: call(pair, p, q), xs))
    if name == "logsumexp":
        return _reduce(a, axis, lambda xs: call(name, *xs))
    if name == "norm":
        return np.asarray(call("norm", *a.flat), dtype=object)
    if name in ("softmax", "log_softmax"):
        return _along(a, axis, name)
    if name == "cross_entropy":  # -sum_i t_i log softmax(z)_i, averaged over the rows
        t = args[1]
        n = a.shape[0] if a.ndim == 2 else 1
        return np.asarray(-_sum(list((t * _along(a, a.ndim - 1, "log_softmax")).flat)) / n,
                          dtype=object)
    if name == "bce":
        p, t = a, args[1]
        terms = [ti * call("log", pi) + (1 - ti) * call("log", 1 - pi)
                 for pi, ti in zip(p.flat, t.flat, strict=True)]
        return np.asarray(-_sum(terms) / p.size, dtype=object)
    if name == "mse":
        terms = [(x - y) ** 2 for x, y in zip(a.flat, args[1].flat, strict=True)]
        return np.asarray(_sum(terms) / a.size, dtype=object)
    raise KeyError(name)


def value_and_grad(tree, values: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """The value of `tree` (a parsed verify expression) at `values`, and d value / d each.

    Raises Undefined where a derivative does not exist (the point sits on a singularity).
    """
    mpmath.mp.dps = DIGITS
    S.tape = []
    leaves = {n: np.asarray(np.frompyfunc(lambda v: S(mpmath.mpf(float(v))), 1, 1)(v),
                            dtype=object) for n, v in values.items()}
    memo: dict[int, np.ndarray] = {}
    stack = [(tree, False)]
    while stack:
        e, ready = stack.pop()
        if id(e) in memo:
            continue
        if not ready and e.args:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args)
            continue
        if e.op == "input":
            memo[id(e)] = leaves[e.name]
        elif e.op == "const":
            memo[id(e)] = np.asarray(S(mpmath.mpf(e.value)), dtype=object)
        else:
            memo[id(e)] = np.asarray(_op(e.op, [memo[id(a)] for a in e.args], dict(e.kwargs)),
                                     dtype=object)
    out = memo[id(tree)].flat[0]
    out.grad = mpmath.mpf(1)
    for node in reversed(S.tape):  # creation order is a topological order
        if node.grad:
            for parent, partial in node.parents:
                parent.grad += node.grad * partial
    grads = {n: np.vectorize(lambda s: _real(s.grad), otypes=[float])(a) for n, a in leaves.items()}
    return _real(out.value), grads


def _real(v) -> float:
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            raise Undefined(f"complex derivative {v}")
        v = v.real
    out = float(v)
    if not math.isfinite(out):
        raise Undefined(f"non-finite value {v}")
    return out

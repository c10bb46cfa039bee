"""A reverse-mode computational-graph engine (autodiff) for NumPy scalars, vectors and matrices.

In the spirit of micrograd, but every value is a NumPy array (0-d for scalars): each op builds
its output `Node` with its parents, its local gradients d(out)/d(parent) and a closure that maps
the output's adjoint to the parents' shares (summed back to the parent's shape where NumPy
broadcast it). `backward` runs the generic algorithm of 002 §4.2.2 (D13): nodes in topological
order, adjoints accumulated in reverse order. `trace` gives the node-by-node table (name, op,
value, local gradients, adjoint) that `python -m torchref.verify` and the tests read.

Like torch's `requires_grad`, a node knows whether any variable lies beneath it: constants
(numbers, and ops on numbers only, such as `2*pi` or `exp(-1)`) and comparisons carry no
adjoint (`grad` stays None) and a constant exponent is a constant, however it is written.

A batch of points: one graph can be evaluated at many points at once (verify checks a claim
at random points in one pass, not one pass per point). `variable(values, name,
batched=True)` takes the points along the LAST axis of `values`; every node computed from a
batched node is batched, its `value`, `local_grads` and `grad` carrying the same trailing
axis, while `shape` is the shape at one point. Each op computes point by point: axes are
counted from the front (`axis=0`, `w[0]`, the rows of a matrix), so the trailing points axis
is never reduced, and element-wise ops broadcast from the right, the points axis against
itself. Numbers (0-d constants) broadcast over the points; a vector or matrix without the
points axis cannot meet a batched node (ValueError: it would broadcast against the points).

Ops (D13, 002 §4.2.2), each one function below:
  element-wise, broadcasting as NumPy: add, sub, mul, div, neg, pow, exp, log, log2, log10,
    sqrt, abs, sin, cos, tan, sinh, cosh, arcsin, arccos, arctan, erf, gelu, softplus,
    maximum, minimum, prelu, clip, where, lt/le/gt/ge, and every activation and threshold
    unit of `scratch.activations` (`activation(x, name)`);
  linear algebra: matmul (1-D/2-D, NumPy's rules), dot, outer, transpose, diag, index;
  reductions: sum, mean, max, min (all entries or one axis), norm;
  the notes' vector functions: softmax, log_softmax, logsumexp (last axis by default),
    cross_entropy (logits, one-hot or probability targets), bce, mse.
Each op checks its domain (ln of a non-positive number, division by zero, exp overflow, ...)
and raises a ValueError naming the op and the bad value instead of returning inf/NaN. Where a
function has a kink or a jump, the derivative there is torch autograd's choice; each such op
says so in a line starting "Kink:" (and `scratch.activations` for the activations).
How PyTorch differs: torch autograd records the same graph but keeps `.grad` on leaves only
(intermediate adjoints need `retain_grad`), names no nodes and returns NaN/inf on domain errors.

The notes' worked graphs built on this engine (D1, D2, the Wengert list, D8-D10) live in
`scratch.worked_graphs`.

May import: NumPy, `scratch.activations`, `scratch.validation`. Never torch.
"""

from __future__ import annotations

import builtins
import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from scratch import activations as act
from scratch.validation import check_array

__all__ = [
    "Node", "TraceRecord", "variable", "const",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "log2", "log10", "sqrt", "abs",
    "sin", "cos", "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "erf", "gelu",
    "softplus", "tanh", "sigmoid", "relu", "activation", "prelu", "maximum", "minimum", "clip",
    "where", "lt", "le", "gt", "ge",
    "matmul", "dot", "outer", "transpose", "diag", "index",
    "sum", "mean", "max", "min", "norm",
    "softmax", "log_softmax", "logsumexp", "cross_entropy", "bce", "mse",
    "topological_order", "backward", "trace", "guarded", "OPS",
]

Array = np.ndarray
Vjp = Callable[[Array], tuple[Array | None, ...]]


@dataclass(eq=False, slots=True)
class Node:
    """One value of the graph: `value`, the `parents` it was computed from, and how.

    `local_grads[k]` is d(value)/d(parents[k]) as the notes write it next to an edge (element
    by element for element-wise ops; for the other ops see each op). `grad` is the adjoint
    dy/d(value) after `backward(y)`, with the shape of `value`; it stays None on nodes that do
    not depend on a variable (`requires_grad` False, as torch). `batched`: the last axis of
    `value` indexes points (see the module's "A batch of points").
    """

    value: Array
    parents: tuple[Node, ...] = ()
    op: str = "input"
    local_grads: tuple[Array | None, ...] = ()
    name: str | None = None
    requires_grad: bool = True
    batched: bool = False
    grad: Array | None = field(default=None, repr=False)
    _vjp: Vjp | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape at one point (`value.shape` without a batch's trailing points axis)."""
        return self.value.shape[:-1] if self.batched else self.value.shape

    @property
    def T(self) -> Node:
        return transpose(self)

    def backward(self, dout=None) -> list[Node]:
        """Fill every node's `.grad` with d self / d node (see `backward`)."""
        return backward(self, dout)

    def __add__(self, other): return add(self, other)
    def __radd__(self, other): return add(other, self)
    def __sub__(self, other): return sub(self, other)
    def __rsub__(self, other): return sub(other, self)
    def __mul__(self, other): return mul(self, other)
    def __rmul__(self, other): return mul(other, self)
    def __truediv__(self, other): return div(self, other)
    def __rtruediv__(self, other): return div(other, self)
    def __pow__(self, other): return pow(self, other)
    def __rpow__(self, other): return pow(other, self)
    def __matmul__(self, other): return matmul(self, other)
    def __rmatmul__(self, other): return matmul(other, self)
    def __neg__(self): return neg(self)
    def __getitem__(self, key): return index(self, key)


@dataclass(slots=True)
class TraceRecord:
    """One row of the node-by-node table: node `index` in topological order (the notes' v_i)."""

    index: int
    name: str
    op: str
    parents: tuple[str, ...]
    value: Array
    local_grads: tuple[Array | None, ...]
    adjoint: Array | None


# ---- leaves ---------------------------------------------------------------------------------


def variable(value, name: str | None = None, batched: bool = False) -> Node:
    """A leaf the output is differentiated with respect to (an input or a parameter).

    `batched`: the last axis of `value` indexes points, the graph is evaluated at each.
    """
    value = check_array(name or "value", value)
    if batched and value.ndim == 0:
        raise ValueError(f"{name or 'value'}: a batch needs a points axis, got a scalar")
    return Node(value, name=name, batched=batched)


def const(value, dtype=None) -> Node:
    """A leaf constant (a number written in the expression): no adjoint, as in torch."""
    if type(value) is float:  # a number: validated once, shared (read-only) by its uses
        return Node(_number(value, dtype), op="const", requires_grad=False)
    return Node(check_array("constant", value, dtype=dtype), op="const", requires_grad=False)


@functools.lru_cache(maxsize=4096)
def _number(value: float, dtype) -> Array:
    arr = check_array("constant", value, dtype=dtype)
    arr.flags.writeable = False
    return arr


def _node(x, like: Node | None = None) -> Node:
    if isinstance(x, Node):
        return x
    # A bare number takes the other operand's dtype, so float32 graphs stay float32.
    return const(x, dtype=like.value.dtype if like is not None else None)


def _nodes(*xs) -> tuple[Node, ...]:
    if not all([isinstance(x, Node) for x in xs]):
        like = next((x for x in xs if isinstance(x, Node)), None)
        xs = tuple(_node(x, like) for x in xs)
    if any([x.batched for x in xs]) and not all([x.batched or not x.value.ndim for x in xs]):
        # (3,) against points (3, P) would broadcast along the points axis: refuse it.
        shapes = " and ".join(f"{'abc'[i]}{x.value.shape}{' (batched)' * x.batched}"
                              for i, x in enumerate(xs))
        raise ValueError(f"a batch of points meets an array without the points axis, got "
                         f"{shapes}; give every variable the points axis (batched=True)")
    return xs


def _broadcast(op: str, *nodes: Node) -> None:
    if len({n.value.shape for n in nodes} - {()}) <= 1:
        return  # one shape and numbers: the common case, checked without NumPy's general rule
    try:
        np.broadcast_shapes(*(n.shape for n in nodes))
    except ValueError:
        shapes = " and ".join(f"{'abc'[i]}{n.shape}" for i, n in enumerate(nodes))
        raise ValueError(f"{op}: operand shapes do not broadcast, got {shapes}") from None


def _make(op: str, value, parents: Sequence[Node], local: Sequence, vjp: Vjp,
          differentiable: bool = True) -> Node:
    parents = tuple(parents)
    grad = differentiable and any([p.requires_grad for p in parents])
    return Node(np.asarray(value), parents, op, tuple(local), requires_grad=grad,
                batched=any([p.batched for p in parents]), _vjp=vjp)


# ---- numerical safety ----------------------------------------------------------------------


def _show(x: Array) -> str:
    return repr(float(x)) if x.size == 1 else np.array2string(x, precision=6, threshold=8)


class _guard:  # lower case: it reads as a statement, `with _guard(op, a, b):`
    """Overflow or an invalid operation becomes a ValueError naming the op and its inputs,
    instead of a silent inf/NaN that would poison every adjoint downstream.

    Inside `guarded()` NumPy's error state is already set: the guard only names the op.
    """

    __slots__ = ("op", "nodes", "state")
    _RAISE = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}
    held = 0  # how many `guarded()` blocks are open

    def __init__(self, op: str, *nodes: Node) -> None:
        self.op, self.nodes = op, nodes

    def __enter__(self) -> None:
        self.state = None if _guard.held else np.errstate(**self._RAISE)
        if self.state is not None:
            self.state.__enter__()

    def __exit__(self, kind, exc, tb) -> None:
        if self.state is not None:
            self.state.__exit__(kind, exc, tb)
        if kind is FloatingPointError:
            inputs = ", ".join(_show(n.value) for n in self.nodes)
            raise ValueError(f"{self.op}: {exc} for input(s) {inputs}") from None


@contextmanager
def guarded() -> Iterator[None]:
    """Run many ops under one NumPy error state, set once instead of by each op's guard (for
    a pass over a large graph); the errors are the same ValueErrors naming the op. Arithmetic
    outside an op's guard (between ops, or in an op that has none) raises FloatingPointError
    here instead of returning inf or NaN: a caller names the node (as `backward` does)."""
    with np.errstate(**_guard._RAISE):
        _guard.held += 1
        try:
            yield
        finally:
            _guard.held -= 1


def _domain(op: str, x: Array, ok: Array, expected: str) -> None:
    if not ok.all():
        bad = np.asarray(x)[~np.broadcast_to(ok, np.shape(x))].flat[0]
        raise ValueError(f"{op}: input must be {expected}, got {float(bad)!r}")


def _axis(op: str, a: Node, axis: int | None) -> int | None:
    """`axis` of `a` at one point, from the front (so a batch's trailing points axis stays)."""
    if axis is None:
        return None
    ndim = len(a.shape)
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ValueError(f"{op}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for shape {a.shape}")
    return int(axis) % ndim


def _axes(a: Node, axis: int | None) -> int | tuple[int, ...]:
    # What a reduction sums over: `axis`, or every axis of a point (not the points axis).
    return tuple(range(len(a.shape))) if axis is None else axis


def _expand(g: Array, axis: int | None) -> Array:
    # Give a reduced array back its reduced axis, so it broadcasts against the input (all
    # axes reduced: g has the points axis only, and broadcasts from the right as it is).
    return g if axis is None else np.expand_dims(g, axis)


# ---- element-wise ops ----------------------------------------------------------------------


@functools.cache
def _ones_of(shape: tuple[int, ...], dtype: np.dtype) -> Array:
    ones = np.ones(shape, dtype)
    ones.flags.writeable = False  # shared by every node of this shape: local gradients are read
    return ones


def _ones(x: Array) -> Array:
    """Ones of x's shape and dtype: the local gradient 1 of add, sub and sum."""
    return _ones_of(x.shape, x.dtype)


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    # Broadcasting copied the parent along new leading axes and along its size-1 axes; every
    # copy received a share of the gradient, so the parent's gradient is the sum of the shares.
    if g.shape == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _elementwise(op: str, value: Array, parents: Sequence[Node], local: Sequence,
                 differentiable: bool = True) -> Node:
    """An element-wise op: parent k receives unbroadcast(dout * local[k]) (None: nothing)."""
    parents = tuple(parents)
    local = tuple([g if g is None or (type(g) is np.ndarray and g.dtype == value.dtype)
                   else np.asarray(g, dtype=value.dtype) for g in local])

    def vjp(dout: Array) -> tuple[Array | None, ...]:
        return tuple([None if g is None or not p.requires_grad
                      else _unbroadcast(dout * g, p.value.shape)
                      for p, g in zip(parents, local, strict=True)])

    return _make(op, value, parents, local, vjp, differentiable)


def _unary(op: str, a, fn: Callable[[Array], Array], dfn: Callable[[Array, Array], Array]) -> Node:
    a = _node(a)
    with _guard(op, a):
        out = np.asarray(fn(a.value), dtype=a.value.dtype)
        local = dfn(a.value, out)
    return _elementwise(op, out, (a,), (local,))


def add(a, b) -> Node:
    """a + b; local gradients 1 and 1 (003's table: f_c(x) = c + x -> df/dx = 1)."""
    a, b = _nodes(a, b)
    _broadcast("add", a, b)
    with _guard("add", a, b):
        out = a.value + b.value
    return _elementwise("add", out, (a, b), (_ones(a.value), _ones(b.value)))


def sub(a, b) -> Node:
    """a - b; local gradients 1 and -1."""
    a, b = _nodes(a, b)
    _broadcast("sub", a, b)
    with _guard("sub", a, b):
        out = a.value - b.value
    return _elementwise("sub", out, (a, b), (_ones(a.value), -_ones(b.value)))


def mul(a, b) -> Node:
    """a * b; local gradients b and a (003's table: f_a(x) = a x -> df/dx = a)."""
    a, b = _nodes(a, b)
    _broadcast("mul", a, b)
    with _guard("mul", a, b):
        out = a.value * b.value
    return _elementwise("mul", out, (a, b), (b.value, a.value))


def div(a, b) -> Node:
    """a / b; local gradients 1/b and -a/b^2 (003's table: 1/x -> -1/x^2). b must be nonzero."""
    a, b = _nodes(a, b)
    _broadcast("div", a, b)
    _domain("div", b.value, b.value != 0, "a nonzero divisor")
    with _guard("div", a, b):
        out = a.value / b.value
        local = (1 / b.value, -a.value / b.value**2)
    return _elementwise("div", out, (a, b), local)


def neg(a) -> Node:
    """-a; local gradient -1."""
    return _unary("neg", a, np.negative, lambda x, y: -_ones(x))


def pow(a, b) -> Node:  # shadows the builtin on purpose: the op's name, as torch.pow
    """a ** b; local gradients b a^(b-1) and a^b ln a.

    A constant exponent (no variable in it, however written: `x**-1`, `x**(4/2)`) allows
    a < 0 when it is an integer, and a = 0 unless it is negative (or below 1 and not an
    integer: the slope is infinite there). A variable exponent needs a > 0 everywhere, because
    d/db a^b = a^b ln a. Kink: d/da a**0 = 0, also at a = 0 (torch's choice).
    """
    a, b = _nodes(a, b)
    _broadcast("pow", a, b)
    av, bv = a.value, b.value
    if b.requires_grad:
        _domain("pow", av, av > 0, "> 0 when the exponent is a variable (d/db a**b = a**b ln a)")
    ab, bb = np.broadcast_arrays(av, bv)
    _domain("pow", ab, (ab >= 0) | (bb == np.round(bb)), ">= 0 for a non-integer exponent")
    _domain("pow", ab, (ab != 0) | (bb >= 1) | (bb == 0),
            "nonzero for an exponent below 1 (0**b is infinite or infinitely steep there)")
    with _guard("pow", a, b):
        out = av**bv
        # b a^(b-1), with 0 where b = 0: torch's choice, and no 0**-1 at a = 0.
        da = np.where(bv == 0, 0, bv * av ** np.where(bv == 0, 1, bv - 1))
        db = out * np.log(av) if b.requires_grad else None
    return _elementwise("pow", out, (a, b), (da, db))


def exp(a) -> Node:
    """e^a; local gradient e^a (003's table)."""
    a = _node(a)
    limit = np.log(np.finfo(a.value.dtype).max)
    _domain("exp", a.value, a.value <= limit, f"<= {limit:.6g} (larger overflows)")
    return _unary("exp", a, np.exp, lambda x, y: y)


def _log(op: str, a, fn: Callable[[Array], Array], base: float) -> Node:
    a = _node(a)
    _domain(op, a.value, a.value > 0, "> 0")
    return _unary(op, a, fn, lambda x, y: 1 / (x * base))


def log(a) -> Node:
    """ln a (natural log); local gradient 1/a. a must be > 0."""
    return _log("log", a, np.log, 1.0)


def log2(a) -> Node:
    """log_2 a; local gradient 1/(a ln 2). a must be > 0."""
    return _log("log2", a, np.log2, math.log(2))


def log10(a) -> Node:
    """log_10 a; local gradient 1/(a ln 10). a must be > 0."""
    return _log("log10", a, np.log10, math.log(10))


def sqrt(a) -> Node:
    """sqrt(a); local gradient 1/(2 sqrt a). a must be > 0 (the slope is infinite at 0)."""
    a = _node(a)
    _domain("sqrt", a.value, a.value > 0, "> 0 (sqrt has an infinite slope at 0)")
    return _unary("sqrt", a, np.sqrt, lambda x, y: 0.5 / y)


def abs(a) -> Node:  # shadows the builtin on purpose: the op's name, as torch.abs
    """|a|; local gradient sign(a). Kink: d|a|/da = 0 at a = 0 (torch's sign(0) = 0)."""
    return _unary("abs", a, np.abs, lambda x, y: np.sign(x))


def sin(a) -> Node:
    """sin a; local gradient cos a."""
    return _unary("sin", a, np.sin, lambda x, y: np.cos(x))


def cos(a) -> Node:
    """cos a; local gradient -sin a."""
    return _unary("cos", a, np.cos, lambda x, y: -np.sin(x))


def tan(a) -> Node:
    """tan a; local gradient 1 + tan^2 a (= 1/cos^2 a)."""
    return _unary("tan", a, np.tan, lambda x, y: 1 + y**2)


def sinh(a) -> Node:
    """sinh a; local gradient cosh a."""
    return _unary("sinh", a, np.sinh, lambda x, y: np.cosh(x))


def cosh(a) -> Node:
    """cosh a; local gradient sinh a."""
    return _unary("cosh", a, np.cosh, lambda x, y: np.sinh(x))


def arcsin(a) -> Node:
    """arcsin a; local gradient 1/sqrt(1 - a^2). |a| < 1 (the slope is infinite at +-1)."""
    a = _node(a)
    _domain("arcsin", a.value, np.abs(a.value) < 1, "in (-1, 1)")
    return _unary("arcsin", a, np.arcsin, lambda x, y: 1 / np.sqrt(1 - x**2))


def arccos(a) -> Node:
    """arccos a; local gradient -1/sqrt(1 - a^2). |a| < 1 (the slope is infinite at +-1)."""
    a = _node(a)
    _domain("arccos", a.value, np.abs(a.value) < 1, "in (-1, 1)")
    return _unary("arccos", a, np.arccos, lambda x, y: -1 / np.sqrt(1 - x**2))


def arctan(a) -> Node:
    """arctan a; local gradient 1/(1 + a^2)."""
    return _unary("arctan", a, np.arctan, lambda x, y: 1 / (1 + x**2))


# math.erf element by element: NumPy has no erf, and this engine imports nothing but NumPy.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(a) -> Node:
    """erf a = 2/sqrt(pi) int_0^a e^(-t^2) dt; local gradient 2/sqrt(pi) e^(-a^2)."""
    return _unary("erf", a, _erf, lambda x, y: 2 / math.sqrt(math.pi) * np.exp(-(x**2)))


def gelu(a) -> Node:
    """GELU, exact form a Phi(a) with Phi the normal CDF; local gradient Phi(a) + a phi(a).

    PyTorch: `F.gelu(x)` (approximate="none"), not the tanh approximation.
    """
    def phi_cdf(x: Array) -> Array:
        return 0.5 * (1 + _erf(x / math.sqrt(2)))

    def dgelu(x: Array, y: Array) -> Array:
        return phi_cdf(x) + x * np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)

    return _unary("gelu", a, lambda x: x * phi_cdf(x), dgelu)


def softplus(a) -> Node:
    """log(1 + e^a), computed as logaddexp(0, a) (no overflow); local gradient sigmoid(a).

    PyTorch's `F.softplus` switches to the identity past a threshold (20 by default); the
    torch side of verify raises it so both stay exact.
    """
    return _unary("softplus", a, lambda x: np.logaddexp(0, x), lambda x, y: act.sigmoid(x))


def activation(a, name: str) -> Node:
    """phi(a) for an activation or threshold unit of `scratch.activations`; phi' from there.

    Kink: as `scratch.activations` (A11): relu'(0) = 0, leaky_relu'(0) = alpha, elu'(0) =
    alpha, and step, sign, sign_unit have derivative 0 everywhere, torch's choice at the jump.
    """
    a = _node(a)
    fn, grad = act.get_activation(name)
    return _unary(name, a, fn, lambda x, y: grad(x))


def tanh(a) -> Node:
    """tanh a; local gradient 1 - tanh^2 a (`scratch.activations.tanh_grad`)."""
    return activation(a, "tanh")


def sigmoid(a) -> Node:
    """sigma(a) = 1/(1+e^-a); local gradient sigma(1-sigma) (`scratch.activations`)."""
    return activation(a, "sigmoid")


def relu(a) -> Node:
    """max(0, a); local gradient 1{a > 0}. Kink: relu'(0) = 0 (torch's choice)."""
    return activation(a, "relu")


def prelu(a, alpha) -> Node:
    """PReLU: a for a > 0, alpha a otherwise, with one scalar alpha (`nn.PReLU()`'s default).

    Local gradients 1{a > 0} + alpha 1{a <= 0} and min(0, a) (`scratch.activations`).
    Kink: d/da = alpha at a = 0 and d/dalpha = 0 there (torch's `x > 0 ? g : g * weight`).
    """
    a, alpha = _nodes(a, alpha)
    if alpha.shape != ():
        raise ValueError(f"prelu: alpha must be a scalar, got shape {alpha.shape}")
    av, alv = a.value, alpha.value
    fns = (act.prelu, act.prelu_grad, act.prelu_grad_alpha)
    if alpha.batched:  # one alpha per point; scratch.activations takes one alpha at a time
        av = np.broadcast_to(av, av.shape if a.batched else alv.shape)
        out, *local = (np.stack([fn(av[..., i], alv[i]) for i in range(alv.size)], axis=-1)
                       for fn in fns)
    else:
        out, *local = (fn(av, alv) for fn in fns)
    return _elementwise("prelu", out, (a, alpha), local)


def _tie_split(op: str, a, b, first_wins: Callable[[Array, Array], Array]) -> Node:
    a, b = _nodes(a, b)
    _broadcast(op, a, b)
    wins = first_wins(a.value, b.value)
    tie = a.value == b.value
    out = np.where(wins | tie, a.value, b.value)
    da = np.where(tie, 0.5, wins.astype(out.dtype))
    return _elementwise(op, out, (a, b), (da, 1 - da))


def maximum(a, b) -> Node:
    """The larger of a and b, entry by entry; local gradients 1{a > b} and 1{b > a}.

    Kink: at a tie a = b each side gets half the gradient (torch.maximum's choice).
    """
    return _tie_split("maximum", a, b, np.greater)


def minimum(a, b) -> Node:
    """The smaller of a and b, entry by entry; local gradients 1{a < b} and 1{b < a}.

    Kink: at a tie a = b each side gets half the gradient (torch.minimum's choice).
    """
    return _tie_split("minimum", a, b, np.less)


def clip(a, lo, hi) -> Node:
    """a clipped to [lo, hi] entry by entry (torch.clamp); lo <= hi; lo, hi may be variables.

    Local gradients 1{lo <= a <= hi}, 1{a < lo}, 1{a > hi}. Kink: at a = lo or a = hi the
    gradient goes to a, not to the bound (torch.clamp's choice: the boundaries are inside).
    """
    a, lo, hi = _nodes(a, lo, hi)
    _broadcast("clip", a, lo, hi)
    _domain("clip", lo.value - hi.value, lo.value <= hi.value, "lo <= hi (lo - hi <= 0)")
    av, lv, hv = a.value, lo.value, hi.value
    out = np.minimum(np.maximum(av, lv), hv)
    local = ((av >= lv) & (av <= hv), av < lv, av > hv)
    return _elementwise("clip", out, (a, lo, hi), local)


def where(cond, a, b) -> Node:
    """a where cond is nonzero (true), else b; local gradients 1{cond} and 1{not cond}.

    Kink: no gradient flows into the condition, which is piecewise constant (as torch.where).
    """
    cond, a, b = _nodes(cond, a, b)
    _broadcast("where", cond, a, b)
    mask = cond.value != 0
    out = np.where(mask, a.value, b.value)
    return _elementwise("where", out, (cond, a, b), (None, mask, ~mask))


def _compare(op: str, a, b, fn: Callable[[Array, Array], Array]) -> Node:
    a, b = _nodes(a, b)
    _broadcast(op, a, b)
    out = fn(a.value, b.value).astype(np.result_type(a.value, b.value))
    return _elementwise(op, out, (a, b), (None, None), differentiable=False)


def lt(a, b) -> Node:
    """1 where a < b, else 0. Kink: no derivative (a comparison carries no adjoint)."""
    return _compare("lt", a, b, np.less)


def le(a, b) -> Node:
    """1 where a <= b, else 0. Kink: no derivative (a comparison carries no adjoint)."""
    return _compare("le", a, b, np.less_equal)


def gt(a, b) -> Node:
    """1 where a > b, else 0. Kink: no derivative (a comparison carries no adjoint)."""
    return _compare("gt", a, b, np.greater)


def ge(a, b) -> Node:
    """1 where a >= b, else 0. Kink: no derivative (a comparison carries no adjoint)."""
    return _compare("ge", a, b, np.greater_equal)


# ---- linear algebra ------------------------------------------------------------------------


def matmul(a, b) -> Node:
    """a @ b with NumPy's rules: for vectors and matrices as np.matmul (a vector is a row on
    the left and a column on the right; vector @ vector is the dot product), and a scalar on
    either side scales the other, as np.dot does (np.matmul refuses scalars).

    The full Jacobian of a matrix product is a 4-index tensor, so `local_grads` holds the other
    factor, (B, A): the adjoints are dA = dout B^T and dB = A^T dout.
    """
    a, b = _nodes(a, b)
    if a.shape == () or b.shape == ():
        with _guard("matmul", a, b):
            out = a.value * b.value
        return _elementwise("matmul", out, (a, b), (b.value, a.value))
    if len(a.shape) > 2 or len(b.shape) > 2:
        raise ValueError(f"matmul: operands must be scalars, vectors or matrices, "
                         f"got a{a.shape} and b{b.shape}")
    if a.shape[-1] != b.shape[0]:
        raise ValueError(f"matmul: inner dimensions differ, got a{a.shape} and b{b.shape}")
    # Index letters: A is (i, k) or (k,), B is (k, j) or (k,); `...` is a batch's points axis.
    sa, sb = "ik"[2 - len(a.shape):] + "...", "kj"[:len(b.shape)] + "..."
    so = sa[:-3].replace("k", "") + sb[:-3].replace("k", "") + "..."
    with _guard("matmul", a, b):
        out = np.einsum(f"{sa},{sb}->{so}", a.value, b.value)
    return _make("matmul", out, (a, b), (b.value, a.value),
                 lambda dout: (np.einsum(f"{so},{sb}->{sa}", dout, b.value),
                               np.einsum(f"{sa},{so}->{sb}", a.value, dout)))


def dot(a, b) -> Node:
    """a . b = sum_i a_i b_i of two vectors of one length; local gradients b and a."""
    a, b = _nodes(a, b)
    if len(a.shape) != 1 or a.shape != b.shape:
        raise ValueError(f"dot: needs two vectors of one length, got a{a.shape} and b{b.shape}")
    with _guard("dot", a, b):
        out = np.einsum("i...,i...->...", a.value, b.value)
    return _make("dot", out, (a, b), (b.value, a.value),
                 lambda dout: (dout * b.value, dout * a.value))


def outer(a, b) -> Node:
    """The outer product a b^T of two vectors, (n,) and (m,) -> (n, m).

    Adjoints: da = dout b, db = dout^T a (`local_grads` holds b and a).
    """
    a, b = _nodes(a, b)
    if len(a.shape) != 1 or len(b.shape) != 1:
        raise ValueError(f"outer: needs two vectors, got a{a.shape} and b{b.shape}")
    with _guard("outer", a, b):
        out = np.einsum("i...,j...->ij...", a.value, b.value)
    return _make("outer", out, (a, b), (b.value, a.value),
                 lambda dout: (np.einsum("ij...,j...->i...", dout, b.value),
                               np.einsum("ij...,i...->j...", dout, a.value)))


def transpose(a) -> Node:
    """a^T (NumPy's `.T`: a matrix's axes swapped; a scalar or vector is unchanged)."""
    a = _node(a)
    if len(a.shape) > 2:
        raise ValueError(f"transpose: needs a scalar, vector or matrix, got shape {a.shape}")
    if len(a.shape) < 2:
        return _make("transpose", a.value.copy(), (a,), (None,), lambda dout: (dout,))
    return _make("transpose", np.swapaxes(a.value, 0, 1).copy(), (a,), (None,),
                 lambda dout: (np.swapaxes(dout, 0, 1),))


def diag(a) -> Node:
    """Diag(a): a vector -> the square matrix with it on the diagonal (D3's Diag(phi'(u)));
    a matrix -> its main diagonal (as np.diag and torch.diag)."""
    a = _node(a)
    if len(a.shape) not in (1, 2):
        raise ValueError(f"diag: needs a vector or a matrix, got shape {a.shape}")
    i = np.arange(builtins.min(a.shape))  # the diagonal's entries are [i, i]
    if len(a.shape) == 1:
        out = np.zeros(a.shape * 2 + a.value.shape[1:], dtype=a.value.dtype)
        out[i, i] = a.value
        return _make("diag", out, (a,), (None,), lambda dout: (dout[i, i],))

    def vjp(dout: Array) -> tuple[Array]:
        g = np.zeros_like(a.value)
        g[i, i] = dout
        return (g,)

    return _make("diag", a.value[i, i], (a,), (None,), vjp)


Key = tuple[int | slice, ...]


def index(a, key: int | slice | Key) -> Node:
    """a[key] with integers and slices (NumPy's basic indexing: w[0], W[1, 0], W[:, 0]).

    The adjoint is dout placed back at the selected entries, zeros elsewhere.
    """
    a = _node(a)
    key = key if isinstance(key, tuple) else (key,)
    if len(key) > len(a.shape):
        raise ValueError(f"index: too many indices for shape {a.shape}, got {len(key)}")
    for axis, k in enumerate(key):
        n = a.shape[axis]
        if not isinstance(k, slice) and not -n <= k < n:
            raise ValueError(f"index: index {k} is out of bounds for axis {axis} with size {n}")
    out = np.array(a.value[key])

    def vjp(dout: Array) -> tuple[Array]:
        g = np.zeros_like(a.value)
        g[key] = dout
        return (g,)

    return _make("index", out, (a,), (None,), vjp)


# ---- reductions ----------------------------------------------------------------------------


def sum(a, axis: int | None = None) -> Node:  # shadows the builtin on purpose, as torch.sum
    """sum of the entries (over `axis`, or all); local gradient 1 for every entry."""
    a = _node(a)
    axis = _axis("sum", a, axis)
    with _guard("sum", a):
        out = np.sum(a.value, axis=_axes(a, axis))
    ones = _ones(a.value)
    # Every summed entry moved the output one for one: copy dout back along `axis`.
    return _make("sum", out, (a,), (ones,), lambda dout: (_expand(dout, axis) * ones,))


def mean(a, axis: int | None = None) -> Node:
    """mean of the entries (over `axis`, or all); local gradient 1/n for every entry."""
    a = _node(a)
    axis = _axis("mean", a, axis)
    n = math.prod(a.shape) if axis is None else a.shape[axis]
    if n == 0:
        raise ValueError(f"mean: needs at least one entry, got shape {a.shape}")
    with _guard("mean", a):
        out = np.mean(a.value, axis=_axes(a, axis))
    share = np.full_like(a.value, 1 / n)
    return _make("mean", out, (a,), (share,), lambda dout: (_expand(dout, axis) * share,))


def _extreme(op: str, a, axis: int | None, fn: Callable) -> Node:
    a = _node(a)
    axis = _axis(op, a, axis)
    if a.value.size == 0:
        raise ValueError(f"{op}: needs at least one entry, got shape {a.shape}")
    out = fn(a.value, axis=_axes(a, axis))
    hit = a.value == _expand(out, axis)
    share = (hit / hit.sum(axis=_axes(a, axis), keepdims=True)).astype(a.value.dtype)
    return _make(op, out, (a,), (share,), lambda dout: (_expand(dout, axis) * share,))


def max(a, axis: int | None = None) -> Node:  # shadows the builtin on purpose, as torch.max
    """The largest entry (over `axis`, or all); local gradient 1 at the maximum, 0 elsewhere.

    Kink: entries tied for the maximum share the gradient evenly (torch.amax's choice).
    """
    return _extreme("max", a, axis, np.max)


def min(a, axis: int | None = None) -> Node:  # shadows the builtin on purpose, as torch.min
    """The smallest entry (over `axis`, or all); local gradient 1 at the minimum, 0 elsewhere.

    Kink: entries tied for the minimum share the gradient evenly (torch.amin's choice).
    """
    return _extreme("min", a, axis, np.min)


def norm(a) -> Node:
    """The Euclidean norm sqrt(sum a_i^2) of all entries (Frobenius for a matrix); local
    gradient a / |a|. Kink: the gradient is 0 at a = 0 (torch.linalg.vector_norm's choice)."""
    a = _node(a)
    with _guard("norm", a):  # past 1e154 the squares overflow: an error, not a silent inf
        out = np.sqrt(np.sum(a.value * a.value, axis=_axes(a, None)))
    local = np.divide(a.value, out, out=np.zeros_like(a.value), where=out > 0)
    return _make("norm", out, (a,), (local,), lambda dout: (dout * local,))


# ---- the notes' vector functions (last axis = classes, as torch) ----------------------------


def _vector(op: str, a, axis: int) -> tuple[Node, int]:
    a = _node(a)
    if a.shape == ():
        raise ValueError(f"{op}: needs a vector or a matrix, got a scalar")
    return a, _axis(op, a, axis)


def softmax(z, axis: int = -1) -> Node:
    """softmax(z)_i = e^(z_i) / sum_j e^(z_j) along `axis` (A10; `scratch.activations`).

    The adjoint is the vector-Jacobian product s * (dout - <dout, s>) (`softmax_backward`).
    """
    z, axis = _vector("softmax", z, axis)
    s = act.softmax(z.value, axis=axis)
    return _make("softmax", s, (z,), (None,),
                 lambda dout: (act.softmax_backward(dout, z.value, axis=axis),))


def _logsumexp(z: Array, axis: int) -> Array:
    m = z.max(axis=axis, keepdims=True)  # shift by the max: stable for any |z|
    return np.squeeze(m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True)), axis=axis)


def logsumexp(z, axis: int = -1) -> Node:
    """log sum_j e^(z_j) along `axis`, shifted by the max (exact past |z| = 709); local
    gradient softmax(z)."""
    z, axis = _vector("logsumexp", z, axis)
    s = act.softmax(z.value, axis=axis)
    return _make("logsumexp", _logsumexp(z.value, axis), (z,), (s,),
                 lambda dout: (np.expand_dims(dout, axis) * s,))


def log_softmax(z, axis: int = -1) -> Node:
    """z - logsumexp(z) along `axis`; adjoint dout - softmax(z) * sum(dout)."""
    z, axis = _vector("log_softmax", z, axis)
    out = z.value - np.expand_dims(_logsumexp(z.value, axis), axis)
    s = np.exp(out)
    return _make("log_softmax", out, (z,), (None,),
                 lambda dout: (dout - s * dout.sum(axis=axis, keepdims=True),))


def _same_shape(op: str, a: Node, b: Node, ndim: Sequence[int]) -> None:
    if a.shape != b.shape or len(a.shape) not in ndim or math.prod(a.shape) == 0:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{op}: needs two non-empty {want} arrays of one shape, "
                         f"got a{a.shape} and b{b.shape}")


def cross_entropy(z, t) -> Node:
    """Cross-entropy of softmax(z) against targets t: -sum_i t_i log softmax(z)_i (C6).

    z are logits, t one-hot rows or class probabilities, classes along the last axis: (C,) for
    one example, (N, C) for N examples (rows), averaged over the N examples, as
    `F.cross_entropy(z, t)`; the notes' columns-as-examples layout is `cross_entropy(Z.T, T.T)`.
    Adjoints: dz = (softmax(z) sum_i t_i - t)/N (= (softmax(z) - t)/N for targets that sum
    to 1, D6's a - y) and dt = -log softmax(z)/N.
    """
    z, t = _nodes(z, t)
    _same_shape("cross_entropy", z, t, (1, 2))
    n = z.shape[0] if len(z.shape) == 2 else 1
    c = len(z.shape) - 1  # the classes' axis
    ls = z.value - np.expand_dims(_logsumexp(z.value, c), c)
    with _guard("cross_entropy", z, t):
        out = -(t.value * ls).sum(axis=_axes(z, None)) / n
    dz = (np.exp(ls) * t.value.sum(axis=c, keepdims=True) - t.value) / n
    dt = -ls / n
    return _make("cross_entropy", out, (z, t), (dz, dt), lambda dout: (dout * dz, dout * dt))


def bce(p, t) -> Node:
    """Binary cross-entropy -(t ln p + (1 - t) ln(1 - p)), mean over the entries (C2), as
    `F.binary_cross_entropy(p, t)`. p in (0, 1), t in [0, 1] (torch refuses others).

    Adjoints: dp = (p - t)/(p (1 - p))/n and dt = ln((1 - p)/p)/n.
    """
    p, t = _nodes(p, t)
    _same_shape("bce", p, t, (0, 1, 2))
    _domain("bce", p.value, (p.value > 0) & (p.value < 1), "a probability in (0, 1) (p)")
    _domain("bce", t.value, (t.value >= 0) & (t.value <= 1), "a target in [0, 1] (t)")
    n = math.prod(p.shape)
    pv, tv = p.value, t.value
    out = -(tv * np.log(pv) + (1 - tv) * np.log1p(-pv)).sum(axis=_axes(p, None)) / n
    dp = (pv - tv) / (pv * (1 - pv)) / n
    dt = (np.log1p(-pv) - np.log(pv)) / n
    return _make("bce", out, (p, t), (dp, dt), lambda dout: (dout * dp, dout * dt))


def mse(a, y) -> Node:
    """Mean squared error mean((a - y)^2) over the entries, as `F.mse_loss(a, y)` (C1 without
    the notes' 1/2); local gradients 2(a - y)/n and -2(a - y)/n."""
    a, y = _nodes(a, y)
    _same_shape("mse", a, y, (0, 1, 2))
    r = a.value - y.value
    n = math.prod(a.shape)
    with _guard("mse", a, y):
        out = (r**2).sum(axis=_axes(a, None)) / n
    da = 2 * r / n
    return _make("mse", out, (a, y), (da, -da), lambda dout: (dout * da, -dout * da))


# ---- D13: topological order, reverse accumulation, the trace --------------------------------


def topological_order(output: Node) -> list[Node]:
    """Every node `output` depends on, each after all its parents (D13's forward order).

    Nodes are grouped by level (leaves 0, then 1 + the deepest parent), discovery order
    within a level, so 002's graph of D8 comes out as v0 = x1, v1 = x2, v2 = ln v0, ... v6.
    Catalog: D13 (002 §4.2.2).
    """
    seen, depth = set(), {}
    levels: list[list[Node]] = [[], []]  # levels[0]: inputs, levels[1]: constants, then 1, 2, ...
    stack = [(output, False)]
    while stack:  # iterative DFS: deep chains must not hit Python's recursion limit
        node, expanded = stack.pop()
        if expanded:
            d = depth[id(node)] = 1 + builtins.max([depth[id(p)] for p in node.parents],
                                                    default=-1)
            if d + 1 >= len(levels):
                levels.append([])
            # Discovery order within a level, inputs before constants among the leaves.
            levels[d + 1 if d else int(node.op == "const")].append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend([(p, False) for p in reversed(node.parents) if id(p) not in seen])
    return [node for level in levels for node in level]


def backward(output: Node, dout=None, *, cut: Iterable[tuple[Node, int]] = (),
             order: Sequence[Node] | None = None) -> list[Node]:
    """Reverse-mode accumulation: fill `.grad` (the adjoint d output / d node) of every node.

    002 §4.2.2 (D13): forward values are already there (computed in topological order as the
    graph was built); then `grad(output) = 1` and, for nodes in reverse topological order,
    each node adds `grad(node) * local gradient` into its parents. A node used twice gets the
    sum of both shares (D1: the chain rule sums over paths). `dout` seeds a non-scalar output.
    In a batch of points each point is seeded with 1 and its adjoints are its own.
    `cut` lists edges (child, parent slot) whose shares are dropped: the adjoints of the graph
    without those paths (what verify's diagnosis of a missing sum over paths compares with).
    Nodes with `requires_grad` False keep `grad` None. `order` may pass
    `topological_order(output)` when the caller already has it. Returns the nodes in
    topological order. Catalog: D1, D13 (002 §4.2.2).
    """
    if not output.requires_grad:
        raise ValueError("backward: the output does not depend on any variable")
    order = topological_order(output) if order is None else order
    if dout is None:
        if math.prod(output.shape) != 1:
            raise ValueError(
                f"backward: output must be a scalar to seed it with 1, got shape {output.shape}; "
                "pass dout with that shape"
            )
        seed = np.ones_like(output.value)
    else:
        seed = check_array("dout", dout, dtype=output.value.dtype)
        if seed.shape != output.value.shape:
            raise ValueError(
                f"dout must have the output's shape {output.value.shape}, got shape {seed.shape}"
            )
    dropped = {(id(child), k) for child, k in cut}
    for node in order:
        node.grad = None  # None until a share arrives: no array of zeros to add the first to
    output.grad = seed
    node = output
    try:
        with guarded():  # once for the whole pass: it runs per node
            for node in reversed(order):
                if node.grad is None:  # no path from the output reaches it (or all were cut)
                    if node.requires_grad:
                        node.grad = np.zeros_like(node.value)
                    continue
                if not node.parents or not node.requires_grad:
                    continue
                shares = node._vjp(node.grad)
                for k, (parent, share) in enumerate(zip(node.parents, shares, strict=True)):
                    if not parent.requires_grad or share is None or (
                            dropped and (id(node), k) in dropped):
                        continue
                    if share.dtype != parent.value.dtype:  # a float64 share into float32
                        share = share.astype(parent.value.dtype)
                    parent.grad = share if parent.grad is None else parent.grad + share
    except FloatingPointError as exc:
        raise ValueError(f"backward through {node.op}: {exc} for input(s) "
                         f"{_show(node.value)}") from None
    return list(order)


def trace(output: Node, order: Sequence[Node] | None = None) -> list[TraceRecord]:
    """The node-by-node table in topological order; adjoints are None before `backward`.

    `order` may pass `topological_order(output)` when the caller already has it.
    Catalog: D8, D13 (002 §4.2.2).
    """
    order = topological_order(output) if order is None else order
    taken = {n.name for n in order if n.name}
    # Unnamed nodes are v<i>; a user's own name "v3" keeps it, and node 3 becomes "v3_".
    names = {id(n): n.name or (f"v{i}" if f"v{i}" not in taken else f"v{i}_")
             for i, n in enumerate(order)}
    return [
        TraceRecord(i, names[id(n)], n.op, tuple(names[id(p)] for p in n.parents), n.value,
                    n.local_grads, n.grad)
        for i, n in enumerate(order)
    ]


# Every op by the name its nodes carry (`torchref.graph.OPS` mirrors these names): the
# functions above, and each activation and threshold unit of `scratch.activations`.
OPS: dict[str, Callable[..., Node]] = {
    name: globals()[name] for name in __all__
    if name not in ("Node", "TraceRecord", "variable", "const", "activation",
                    "topological_order", "backward", "trace", "guarded", "OPS")
}
for _name in (*act.ACTIVATIONS, *act.THRESHOLD_UNITS):
    OPS.setdefault(_name, functools.partial(activation, name=_name))

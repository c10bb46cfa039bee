"""A reverse-mode computational-graph engine (autodiff) for NumPy scalars and arrays.

In the spirit of micrograd, but every value is a NumPy array (0-d for scalars): each op builds
its output `Node` with its parents, its local gradients d(out)/d(parent) and a closure that maps
the output's adjoint to the parents' shares (summed back to the parent's shape where NumPy
broadcast it). `backward` runs the generic algorithm of 002 §4.2.2 (D13): nodes in topological
order, adjoints accumulated in reverse order. `trace` gives the node-by-node table (name, op,
value, local gradients, adjoint) that `python -m torchref.verify` and the tests read.

Also here: the notes' chain-rule demonstrations on this engine (D1 sum over paths, D2 chain
through units), a literal Wengert-list version of the D13 algorithm (`Step`,
`forward_backward`), and the worked graphs D8 (002), D9 and D10 (003).

Ops (D13, 002 §4.2.2): add, sub, mul, div, neg, pow, exp, log, sin, cos, tan, sqrt,
abs, tanh, sigmoid, relu and every activation of `scratch.activations` (`activation(x, name)`),
matmul (1-D/2-D), dot (vectors), sum and mean (all entries or one axis). Element-wise ops take
any shapes NumPy broadcasts; a bare Python number becomes a constant of the other operand's
dtype, so float32 graphs stay float32. Each op checks its domain (ln of a non-positive number,
division by zero, exp overflow, ...) and raises a ValueError naming the op and the bad value
instead of returning inf/NaN. Kinks take torch's choice: relu'(0) = 0, d|x|/dx = 0 at 0.
How PyTorch differs: torch autograd records the same graph but keeps `.grad` on leaves only
(intermediate adjoints need `retain_grad`), names no nodes and returns NaN/inf on domain errors.

May import: NumPy, `scratch.activations`, `scratch.validation`. Never torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from scratch import activations as act
from scratch.validation import check_array, check_choice

__all__ = [
    "Node", "TraceRecord", "variable", "const",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sin", "cos", "tan", "sqrt", "abs",
    "tanh", "sigmoid", "relu", "activation", "matmul", "dot", "sum", "mean",
    "topological_order", "backward", "trace",
    "paths", "sum_over_paths", "ChainRule", "chain_simple", "chain_branched",
    "Step", "forward_backward", "d8_graph", "d8_tape", "d9_graph", "d10_sigmoid_neuron",
]

Array = np.ndarray
Vjp = Callable[[Array], tuple[Array, ...]]


@dataclass(eq=False)
class Node:
    """One value of the graph: `value`, the `parents` it was computed from, and how.

    `local_grads[k]` is d(value)/d(parents[k]) as the notes write it next to an edge (element
    by element for element-wise ops; for matmul/dot/sum/mean see each op). `grad` is the
    adjoint dy/d(value) after `backward(y)`, with the shape of `value`.
    """

    value: Array
    parents: tuple[Node, ...] = ()
    op: str = "input"
    local_grads: tuple[Array | None, ...] = ()
    name: str | None = None
    grad: Array | None = field(default=None, repr=False)
    _vjp: Vjp | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

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


@dataclass(frozen=True)
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


def variable(value, name: str | None = None) -> Node:
    """A leaf the output is differentiated with respect to (an input or a parameter)."""
    return Node(check_array(name or "value", value), name=name)


def const(value, dtype=None) -> Node:
    """A leaf constant (a number written in the expression); it gets an adjoint like any node."""
    return Node(check_array("constant", value, dtype=dtype), op="const")


def _node(x, like: Node | None = None) -> Node:
    if isinstance(x, Node):
        return x
    # A bare number takes the other operand's dtype, so float32 graphs stay float32.
    return const(x, dtype=like.value.dtype if like is not None else None)


def _pair(a, b, op: str) -> tuple[Node, Node]:
    a = _node(a, b if isinstance(b, Node) else None)
    b = _node(b, a)
    if op not in ("matmul", "dot"):
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(
                f"{op}: operand shapes do not broadcast, got a{a.shape} and b{b.shape}"
            ) from None
    return a, b


# ---- numerical safety ----------------------------------------------------------------------


def _show(x: Array) -> str:
    return repr(float(x)) if x.size == 1 else np.array2string(x, precision=6, threshold=8)


@contextmanager
def _guard(op: str, *nodes: Node) -> Iterator[None]:
    # Overflow or an invalid operation becomes a ValueError naming the op and its inputs,
    # instead of a silent inf/NaN that would poison every adjoint downstream.
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield
    except FloatingPointError as exc:
        inputs = ", ".join(_show(n.value) for n in nodes)
        raise ValueError(f"{op}: {exc} for input(s) {inputs}") from None


def _domain(op: str, x: Array, ok: Array, expected: str) -> None:
    if not np.all(ok):
        bad = np.asarray(x)[~np.broadcast_to(ok, np.shape(x))].flat[0]
        raise ValueError(f"{op}: input must be {expected}, got {float(bad)!r}")


# ---- building nodes ------------------------------------------------------------------------


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    # Broadcasting copied the parent along new leading axes and along its size-1 axes; every
    # copy received a share of the gradient, so the parent's gradient is the sum of the shares.
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _elementwise(op: str, value: Array, parents: Sequence[Node], local: Sequence) -> Node:
    """An element-wise op: parent k receives unbroadcast(dout * local[k])."""
    parents = tuple(parents)
    local = tuple(None if g is None else np.asarray(g, dtype=value.dtype) for g in local)

    def vjp(dout: Array) -> tuple[Array, ...]:
        return tuple(
            np.zeros_like(p.value) if g is None else _unbroadcast(dout * g, p.shape)
            for p, g in zip(parents, local, strict=True)
        )

    return Node(np.asarray(value), parents, op, local, _vjp=vjp)


def _unary(op: str, a, fn: Callable[[Array], Array], dfn: Callable[[Array, Array], Array]) -> Node:
    a = _node(a)
    with _guard(op, a):
        out = fn(a.value)
        local = dfn(a.value, out)
    return _elementwise(op, out, (a,), (local,))


# ---- element-wise ops ----------------------------------------------------------------------


def add(a, b) -> Node:
    """a + b; local gradients 1 and 1 (003's table: f_c(x) = c + x -> df/dx = 1)."""
    a, b = _pair(a, b, "add")
    with _guard("add", a, b):
        out = a.value + b.value
    return _elementwise("add", out, (a, b), (np.ones_like(a.value), np.ones_like(b.value)))


def sub(a, b) -> Node:
    """a - b; local gradients 1 and -1."""
    a, b = _pair(a, b, "sub")
    with _guard("sub", a, b):
        out = a.value - b.value
    return _elementwise("sub", out, (a, b), (np.ones_like(a.value), -np.ones_like(b.value)))


def mul(a, b) -> Node:
    """a * b; local gradients b and a (003's table: f_a(x) = a x -> df/dx = a)."""
    a, b = _pair(a, b, "mul")
    with _guard("mul", a, b):
        out = a.value * b.value
    return _elementwise("mul", out, (a, b), (b.value, a.value))


def div(a, b) -> Node:
    """a / b; local gradients 1/b and -a/b^2 (003's table: 1/x -> -1/x^2). b must be nonzero."""
    a, b = _pair(a, b, "div")
    _domain("div", b.value, b.value != 0, "a nonzero divisor")
    with _guard("div", a, b):
        out = a.value / b.value
        local = (1 / b.value, -a.value / b.value**2)
    return _elementwise("div", out, (a, b), local)


def neg(a) -> Node:
    """-a; local gradient -1."""
    return _unary("neg", a, np.negative, lambda x, y: -np.ones_like(x))


def pow(a, b) -> Node:  # shadows the builtin on purpose: the op's name, as torch.pow
    """a ** b; local gradients b a^(b-1) and a^b ln a.

    With a constant exponent, a < 0 is allowed for integer b and the exponent's local gradient
    is not formed (None: ln a is undefined there and a constant needs no gradient). With a
    variable exponent a must be > 0 everywhere, because d/db a^b = a^b ln a.
    """
    a, b = _pair(a, b, "pow")
    av, bv = a.value, b.value
    integer_b = np.all(bv == np.round(bv))
    if b.op != "const":
        _domain("pow", av, av > 0, "> 0 when the exponent is a variable (d/db a**b = a**b ln a)")
    elif not integer_b:
        _domain("pow", av, av > 0, "> 0 for a non-integer exponent")
    with _guard("pow", a, b):
        out = av**bv
        da = bv * av ** (bv - 1)
        db = out * np.log(av) if np.all(av > 0) else None
    return _elementwise("pow", out, (a, b), (da, db))


def exp(a) -> Node:
    """e^a; local gradient e^a (003's table)."""
    a = _node(a)
    limit = np.log(np.finfo(a.value.dtype).max)
    _domain("exp", a.value, a.value <= limit, f"<= {limit:.6g} (larger overflows)")
    return _unary("exp", a, np.exp, lambda x, y: y)


def log(a) -> Node:
    """ln a (natural log); local gradient 1/a. a must be > 0."""
    a = _node(a)
    _domain("log", a.value, a.value > 0, "> 0")
    return _unary("log", a, np.log, lambda x, y: 1 / x)


def sin(a) -> Node:
    """sin a; local gradient cos a."""
    return _unary("sin", a, np.sin, lambda x, y: np.cos(x))


def cos(a) -> Node:
    """cos a; local gradient -sin a."""
    return _unary("cos", a, np.cos, lambda x, y: -np.sin(x))


def tan(a) -> Node:
    """tan a; local gradient 1 + tan^2 a (= 1/cos^2 a)."""
    return _unary("tan", a, np.tan, lambda x, y: 1 + y**2)


def sqrt(a) -> Node:
    """sqrt(a); local gradient 1/(2 sqrt a). a must be > 0 (the slope is infinite at 0)."""
    a = _node(a)
    _domain("sqrt", a.value, a.value > 0, "> 0 (sqrt has an infinite slope at 0)")
    return _unary("sqrt", a, np.sqrt, lambda x, y: 0.5 / y)


def abs(a) -> Node:  # shadows the builtin on purpose: the op's name, as torch.abs
    """|a|; local gradient sign(a), with the sub-gradient 0 chosen at the kink a = 0 (as torch)."""
    return _unary("abs", a, np.abs, lambda x, y: np.sign(x))


def activation(a, name: str) -> Node:
    """phi(a) for any activation of `scratch.activations`; local gradient phi'(a) from there."""
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
    """max(0, a); local gradient 1{a > 0}, 0 at the kink a = 0 (as torch)."""
    return activation(a, "relu")


# ---- ops that mix elements -----------------------------------------------------------------


def matmul(a, b) -> Node:
    """a @ b for 1-D/2-D operands (as np.matmul).

    The full Jacobian of a matrix product is a 4-index tensor, so `local_grads` holds the other
    factor, (B, A): the adjoints are dA = dout B^T and dB = A^T dout.
    """
    a, b = _pair(a, b, "matmul")
    if a.value.ndim not in (1, 2) or b.value.ndim not in (1, 2):
        raise ValueError(f"matmul: operands must be 1-D or 2-D, got a{a.shape} and b{b.shape}")
    if a.shape[-1] != b.shape[0]:
        raise ValueError(f"matmul: inner dimensions differ, got a{a.shape} and b{b.shape}")
    with _guard("matmul", a, b):
        out = a.value @ b.value
    # Vectors as a row (a) and a column (b), so one 2-D rule serves every case.
    a2 = a.value.reshape(-1, a.shape[-1])  # (n, k)
    b2 = b.value.reshape(b.shape[0], -1)  # (k, m)

    def vjp(dout: Array) -> tuple[Array, Array]:
        g2 = dout.reshape(a2.shape[0], b2.shape[1])  # (n, m)
        return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)

    return Node(out, (a, b), "matmul", (b.value, a.value), _vjp=vjp)


def dot(a, b) -> Node:
    """a . b = sum_i a_i b_i of two vectors of one length; local gradients b and a."""
    a, b = _pair(a, b, "dot")
    if a.value.ndim != 1 or b.value.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: needs two vectors of one length, got a{a.shape} and b{b.shape}")
    with _guard("dot", a, b):
        out = np.dot(a.value, b.value)
    return Node(np.asarray(out), (a, b), "dot", (b.value, a.value),
                _vjp=lambda dout: (dout * b.value, dout * a.value))


def sum(a, axis: int | None = None) -> Node:  # shadows the builtin on purpose, as torch.sum
    """sum of the entries (over `axis`, or all); local gradient 1 for every entry."""
    a = _node(a)
    with _guard("sum", a):
        out = np.sum(a.value, axis=axis)
    ones = np.ones_like(a.value)

    def vjp(dout: Array) -> tuple[Array]:
        # Every summed entry moved the output one for one: copy dout back along `axis`.
        d = dout if axis is None else np.expand_dims(dout, axis)
        return (d * ones,)

    return Node(np.asarray(out), (a,), "sum", (ones,), _vjp=vjp)


def mean(a, axis: int | None = None) -> Node:
    """mean of the entries (over `axis`, or all); local gradient 1/n for every entry."""
    a = _node(a)
    n = a.value.size if axis is None else a.shape[axis]
    if n == 0:
        raise ValueError(f"mean: needs at least one entry, got shape {a.shape}")
    with _guard("mean", a):
        out = np.mean(a.value, axis=axis)
    share = np.full_like(a.value, 1 / n)

    def vjp(dout: Array) -> tuple[Array]:
        d = dout if axis is None else np.expand_dims(dout, axis)
        return (d * share,)

    return Node(np.asarray(out), (a,), "mean", (share,), _vjp=vjp)


# ---- D13: topological order, reverse accumulation, the trace --------------------------------


def topological_order(output: Node) -> list[Node]:
    """Every node `output` depends on, each after all its parents (D13's forward order).

    Nodes are grouped by level (leaves 0, then 1 + the deepest parent), discovery order
    within a level, so 002's graph of D8 comes out as v0 = x1, v1 = x2, v2 = ln v0, ... v6.
    Catalog: D13.
    """
    post, seen, depth = [], set(), {}
    stack = [(output, False)]
    while stack:  # iterative DFS: deep chains must not hit Python's recursion limit
        node, expanded = stack.pop()
        if expanded:
            depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
            post.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents))
    # Stable sort: discovery order within a level, inputs before constants among the leaves.
    return sorted(post, key=lambda n: (depth[id(n)], n.op == "const"))


def backward(output: Node, dout=None) -> list[Node]:
    """Reverse-mode accumulation: fill `.grad` (the adjoint d output / d node) of every node.

    002 §4.2.2 (D13): forward values are already there (computed in topological order as the
    graph was built); then `grad(output) = 1` and, for nodes in reverse topological order,
    each node adds `grad(node) * local gradient` into its parents. A node used twice gets the
    sum of both shares (D1: the chain rule sums over paths). `dout` seeds a non-scalar output.
    Returns the nodes in topological order.
    Catalog: D1, D13.
    """
    order = topological_order(output)
    if dout is None:
        if output.value.size != 1:
            raise ValueError(
                f"backward: output must be a scalar to seed it with 1, got shape {output.shape}; "
                "pass dout with that shape"
            )
        seed = np.ones_like(output.value)
    else:
        seed = check_array("dout", dout, dtype=output.value.dtype)
        if seed.shape != output.shape:
            raise ValueError(
                f"dout must have the output's shape {output.shape}, got shape {seed.shape}"
            )
    for node in order:
        node.grad = np.zeros_like(node.value)
    output.grad = seed
    for node in reversed(order):
        if not node.parents:
            continue
        with _guard(f"backward through {node.op}", node):
            shares = node._vjp(node.grad)
            for parent, share in zip(node.parents, shares, strict=True):
                parent.grad = (parent.grad + share).astype(parent.value.dtype, copy=False)
    return order


def trace(output: Node) -> list[TraceRecord]:
    """The node-by-node table in topological order; adjoints are None before `backward`.

    Catalog: D8.
    """
    order = topological_order(output)
    names = {id(n): n.name or f"v{i}" for i, n in enumerate(order)}
    return [
        TraceRecord(i, names[id(n)], n.op, tuple(names[id(p)] for p in n.parents), n.value,
                    n.local_grads, n.grad)
        for i, n in enumerate(order)
    ]


# ---- D1: the chain rule sums over paths ----------------------------------------------------


def paths(output: Node, wrt: Node) -> list[list[tuple[Node, int]]]:
    """Every directed path from `wrt` to `output` as a list of edges (child, parent slot).

    An edge is a parent slot, not a node pair, so x*x gives two paths from x.
    Catalog: D1.
    """
    if output is wrt:
        return [[]]
    found = []
    for k, parent in enumerate(output.parents):
        for p in paths(parent, wrt):
            found.append([*p, (output, k)])
    return found


def sum_over_paths(output: Node, wrt: Node) -> float:
    """d output / d wrt as the notes' chain rule: sum over paths of the product of local grads.

    000 (chain rule, several variables):
        d/dx f(z1(x), z2(x), z3(x)) = sum_i (df/dz_i) (dz_i/dx)
    unrolled down to single edges. Catalog: D1 (000 "Back-Propagation"). Scalar graphs only
    (every node of shape () or size 1); `backward` gives the same number with one pass instead
    of one product per path.
    """
    total = 0.0
    for path in paths(output, wrt):
        product = 1.0
        for child, k in path:
            g = child.local_grads[k]
            if g is None or np.size(g) != 1 or child.value.size != 1:
                raise ValueError(
                    f"sum_over_paths: needs a scalar graph, got a {child.op} node of shape "
                    f"{child.shape}"
                )
            product *= float(g.reshape(()))
        total += product
    return total


# ---- D2: chain through a path of units (000) -----------------------------------------------


@dataclass(frozen=True)
class ChainRule:
    """The notes' product of factors for one parameter, next to the engine's adjoint.

    `factors` are written by hand from the unit's formula; `values` holds the forward values
    z_i (and y) they were evaluated at.
    """

    factors: dict[str, float]
    product: float
    adjoint: float
    values: dict[str, float]


def _unit(z: Node, theta: Node) -> Node:
    # Every unit of the demonstration is h(z; theta) = tanh(theta z).
    return tanh(theta * z)


def chain_simple(x: float, thetas: Sequence[float]) -> ChainRule:
    """dy/dtheta2 through the chain x -> h1 -> z1 -> h2 -> z2 -> h3 -> z3 -> h4 -> y.

    000 ("a simple example"):
        dy/dtheta2 = dy/dz3 dz3/dz2 dz2/dtheta2
                   = d/dz3 h4(z3; theta4) d/dz2 h3(z2; theta3) d/dtheta2 h2(z1; theta2)
    with every unit h(z; theta) = tanh(theta z) (the slides leave h generic). The factors are
    written by hand, theta (1 - h^2) and z (1 - h^2); `adjoint` is `backward` on the same graph.
    Catalog: D2 (000). `thetas` = (theta1, ..., theta4).
    """
    if len(thetas) != 4:
        raise ValueError(f"thetas must hold theta1..theta4 (4 numbers), got {len(thetas)}")
    th = [variable(float(t), f"theta{i}") for i, t in enumerate(thetas, 1)]
    z1 = _unit(variable(float(x), "x"), th[0])
    z2 = _unit(z1, th[1])
    z3 = _unit(z2, th[2])
    y = _unit(z3, th[3])
    y.backward()
    v = {k: float(n.value) for k, n in {"z1": z1, "z2": z2, "z3": z3, "y": y}.items()}
    t1, t2, t3, t4 = (float(t) for t in thetas)
    factors = {
        "dy/dz3": t4 * (1 - v["y"] ** 2),
        "dz3/dz2": t3 * (1 - v["z3"] ** 2),
        "dz2/dtheta2": v["z1"] * (1 - v["z2"] ** 2),
    }
    return ChainRule(factors, math.prod(factors.values()), float(th[1].grad), v)


def chain_branched(x: float, thetas: Sequence[float]) -> ChainRule:
    """dy1/dtheta3 in 000's branched example ("a slightly more complex example").

    000:
        dy1/dtheta3 = dy1/dz7 dz7/dz6 dz6/dz3 dz3/dtheta3
                    = d/dz7 h8(z7; theta8) d/dz6 h7(z6; theta7) d/dz3 h6(z5; theta6)
                      d/dtheta3 h3(z2; theta3)
    The figure is not in the seed text; the topology is rebuilt from the formula. The slide
    writes h6(z5; theta6) yet differentiates it by z3, so h6 takes both: z6 = h6(z3, z5).
    Units h(z; theta) = tanh(theta z), h6 = tanh(theta6 (z3 + z5)):
        z1 = h1(x), z2 = h2(z1), z3 = h3(z2), z4 = h4(z2), z5 = h5(z4), z6 = h6(z3, z5),
        z7 = h7(z6), y1 = h8(z7), y2 = h9(z6).
    theta3 reaches y1 along one path, so the product is the whole derivative; theta2 reaches it
    along two (via z3 and via z4), where D1's sum over paths is needed. Catalog: D2 (000).
    `thetas` = (theta1, ..., theta9).
    """
    if len(thetas) != 9:
        raise ValueError(f"thetas must hold theta1..theta9 (9 numbers), got {len(thetas)}")
    th = [variable(float(t), f"theta{i}") for i, t in enumerate(thetas, 1)]
    z1 = _unit(variable(float(x), "x"), th[0])
    z2 = _unit(z1, th[1])
    z3 = _unit(z2, th[2])
    z4 = _unit(z2, th[3])
    z5 = _unit(z4, th[4])
    z6 = tanh(th[5] * (z3 + z5))
    z7 = _unit(z6, th[6])
    y1 = _unit(z7, th[7])
    y2 = _unit(z6, th[8])
    y1.backward()
    nodes = {"z1": z1, "z2": z2, "z3": z3, "z4": z4, "z5": z5, "z6": z6, "z7": z7, "y1": y1,
             "y2": y2}
    v = {k: float(n.value) for k, n in nodes.items()}
    t = [float(a) for a in thetas]
    factors = {
        "dy1/dz7": t[7] * (1 - v["y1"] ** 2),
        "dz7/dz6": t[6] * (1 - v["z7"] ** 2),
        "dz6/dz3": t[5] * (1 - v["z6"] ** 2),
        "dz3/dtheta3": v["z2"] * (1 - v["z3"] ** 2),
    }
    return ChainRule(factors, math.prod(factors.values()), float(th[2].grad), v)


# ---- D13 literally: the Wengert list of 002 §4.2.2 ------------------------------------------

# op -> (value, local gradients w.r.t. each argument); scalars, Python floats.
_PRIMITIVES: dict[str, tuple[Callable, tuple[Callable, ...]]] = {
    "add": (lambda a, b: a + b, (lambda a, b: 1.0, lambda a, b: 1.0)),
    "sub": (lambda a, b: a - b, (lambda a, b: 1.0, lambda a, b: -1.0)),
    "mul": (lambda a, b: a * b, (lambda a, b: b, lambda a, b: a)),
    "div": (lambda a, b: a / b, (lambda a, b: 1 / b, lambda a, b: -a / b**2)),
    "neg": (lambda a: -a, (lambda a: -1.0,)),
    "ln": (math.log, (lambda a: 1 / a,)),
    "exp": (math.exp, (math.exp,)),
    "sin": (math.sin, (math.cos,)),
    "cos": (math.cos, (lambda a: -math.sin(a),)),
}


@dataclass(frozen=True)
class Step:
    """One line w_i = op(w_args) of a Wengert list; op "input" reads the next input value."""

    op: str
    args: tuple[int, ...] = ()


def forward_backward(steps: Sequence[Step], inputs: Sequence[float]) -> tuple[list, list]:
    """The generic forward and backward pass over N nodes, as 002 §4.2.2 writes it.

    002 (D13):
        Forward pass:  for i in 1 ... N: compute w_i as a function of w_0 ... w_(i-1)
        Backward pass: bar w_N = 1; for i in N-1 ... 1: dL/dw_i by the chain rule
    The notes' backward line multiplies a single chain dL/dw_N dw_N/dw_(N-1) ... dw_(i+1)/dw_i;
    in a graph where w_i feeds several nodes the adjoint is the sum over them (D1), which is
    what this does: bar w_j += bar w_i dw_i/dw_j for each argument j of each node i, i from N
    down. (The notes also overwrite bar w_i with a gradient step; that is the optimizer's job,
    kept apart here; see docs/errata.md D13.) Steps must be in topological order (each
    argument an earlier index). Returns (values w_0..w_N, adjoints bar w_0..bar w_N).
    Catalog: D13.
    """
    values: list[float] = []
    feed = iter(inputs)
    for i, s in enumerate(steps):
        if s.op == "input":
            values.append(float(next(feed)))
            continue
        fn, _ = _PRIMITIVES[check_choice("op", s.op, ["input", *_PRIMITIVES])]
        if any(j >= i for j in s.args):
            raise ValueError(f"step {i} ({s.op}) reads a later step {s.args}; order them")
        try:
            values.append(float(fn(*(values[j] for j in s.args))))
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise ValueError(f"step {i} ({s.op}): {exc}") from None
    adjoints = [0.0] * len(values)
    adjoints[-1] = 1.0
    for i in range(len(steps) - 1, -1, -1):
        if steps[i].op == "input":
            continue
        args = [values[j] for j in steps[i].args]
        for j, dfn in zip(steps[i].args, _PRIMITIVES[steps[i].op][1], strict=True):
            adjoints[j] += adjoints[i] * dfn(*args)
    return values, adjoints


# ---- the worked graphs of the notes --------------------------------------------------------


def d8_graph(x1, x2) -> Node:
    """y = ln(x1) + x1 x2 - sin(x2) as 002 §4.2.2 draws it (7 nodes).

    002 (D8):  v0 = x1, v1 = x2;  v2 = ln(v0), v3 = v0 v1, v4 = sin(v1);  v5 = v2 + v3;
               y = v6 = v5 - v4.
    `trace(y)` lists the nodes as v0..v6 in this order. After `y.backward()` the adjoints are
    bar v0 = 1/x1 + x2 and bar v1 = x1 - cos x2 (both inputs feed two nodes); the notes'
    printed backward pass is wrong in several signs and factors (docs/errata.md D8).
    Catalog: D8.
    """
    x1, x2 = variable(x1, "x1"), variable(x2, "x2")
    return log(x1) + x1 * x2 - sin(x2)


def d8_tape() -> list[Step]:
    """D8's graph as a Wengert list for `forward_backward` (inputs x1, x2). Catalog: D8."""
    return [Step("input"), Step("input"), Step("ln", (0,)), Step("mul", (0, 1)),
            Step("sin", (1,)), Step("add", (2, 3)), Step("sub", (5, 4))]


def d9_graph(x, y, z) -> Node:
    """f(x, y, z) = (x + y) z of 003 with q = x + y (D9).

    003: dq/dx = 1, dq/dy = 1, df/dq = z, df/dz = q; df/dx = df/dq dq/dx
    ("upstream gradient" times "local gradient"). The slide's point: x=-2, y=5, z=-4.
    Catalog: D9.
    """
    q = add(variable(x, "x"), variable(y, "y"))
    q.name = "q"
    return mul(q, variable(z, "z"))


def d10_sigmoid_neuron(w: Sequence[float], x: Sequence[float]) -> Node:
    """f(w, x) = 1/(1 + e^-(w0 x0 + w1 x1 + w2 x2)) built from 003's primitive gates (D10).

    003 draws the graph with the gates of its local-gradient table:
        e^x -> e^x,   a x -> a,   1/x -> -1/x^2,   c + x -> 1
    i.e. z = sum_i w_i x_i, then *(-1), exp, +1, 1/x. Give 3 weights and 3 inputs for the
    reading printed in the notes, or 3 weights and 2 inputs for the classic reading where w2
    is a bias (z = w0 x0 + w1 x1 + w2). Leaves are named w0.., x0..; the sum is "z".
    Catalog: D10.
    """
    if len(w) != 3 or len(x) not in (2, 3):
        raise ValueError(f"need 3 weights and 2 or 3 inputs, got {len(w)} and {len(x)}")
    ws = [variable(float(v), f"w{i}") for i, v in enumerate(w)]
    xs = [variable(float(v), f"x{i}") for i, v in enumerate(x)]
    terms = [wi * xi for wi, xi in zip(ws, xs, strict=False)]
    z = terms[0] + terms[1] + (terms[2] if len(xs) == 3 else ws[2])
    z.name = "z"
    return div(1.0, add(1.0, exp(mul(-1.0, z))))

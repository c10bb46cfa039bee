"""The notes' worked computational graphs, on the engine of `scratch.graph`.

The chain-rule demonstrations of 000 (D1: the chain rule sums over paths, `paths` and
`sum_over_paths`; D2: the chain through a path of units, `chain_simple` and
`chain_branched`), a literal Wengert-list version of 002's generic forward/backward pass
(D13: `Step`, `forward_backward`, `d8_tape`) and the worked graphs D8 (002), D9 and D10 (003)
(`d8_graph`, `d9_graph`, `d10_sigmoid_neuron`). The engine itself (nodes, ops, `backward`,
`trace`) is `scratch.graph`; these functions only build graphs with it.

May import: NumPy, `scratch.graph`, `scratch.validation`. Never torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scratch.graph import Node, add, div, exp, log, mul, sin, tanh, variable
from scratch.validation import check_choice

__all__ = [
    "paths", "sum_over_paths", "ChainRule", "chain_simple", "chain_branched",
    "Step", "forward_backward", "d8_graph", "d8_tape", "d9_graph", "d10_sigmoid_neuron",
]

# ---- D1: the chain rule sums over paths ----------------------------------------------------


def paths(output: Node, wrt: Node) -> list[list[tuple[Node, int]]]:
    """Every directed path from `wrt` to `output` as a list of edges (child, parent slot).

    An edge is a parent slot, not a node pair, so x*x gives two paths from x.
    Catalog: D1 (000 "Back-Propagation").
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
    Catalog: D13 (002 §4.2.2).
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
    Catalog: D8 (002 §4.2.2).
    """
    x1, x2 = variable(x1, "x1"), variable(x2, "x2")
    return log(x1) + x1 * x2 - sin(x2)


def d8_tape() -> list[Step]:
    """D8's graph as a Wengert list for `forward_backward` (inputs x1, x2).

    Catalog: D8, D13 (002 §4.2.2).
    """
    return [Step("input"), Step("input"), Step("ln", (0,)), Step("mul", (0, 1)),
            Step("sin", (1,)), Step("add", (2, 3)), Step("sub", (5, 4))]


def d9_graph(x, y, z) -> Node:
    """f(x, y, z) = (x + y) z of 003 with q = x + y (D9).

    003: dq/dx = 1, dq/dy = 1, df/dq = z, df/dz = q; df/dx = df/dq dq/dx
    ("upstream gradient" times "local gradient"). The slide's point: x=-2, y=5, z=-4.
    Catalog: D9 (003).
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
    Catalog: D10 (003).
    """
    if len(w) != 3 or len(x) not in (2, 3):
        raise ValueError(f"need 3 weights and 2 or 3 inputs, got {len(w)} and {len(x)}")
    ws = [variable(float(v), f"w{i}") for i, v in enumerate(w)]
    xs = [variable(float(v), f"x{i}") for i, v in enumerate(x)]
    terms = [wi * xi for wi, xi in zip(ws, xs, strict=False)]
    z = terms[0] + terms[1] + (terms[2] if len(xs) == 3 else ws[2])
    z.name = "z"
    return div(1.0, add(1.0, exp(mul(-1.0, z))))

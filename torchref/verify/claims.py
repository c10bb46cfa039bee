"""Claims: a hand-derived derivative checked as an identity, and the diagnosis of a wrong one.

A claim `VAR=EXPR` says df/dVAR = EXPR, where VAR is a variable or a `--let` node (then it is
the adjoint of that node, D6's delta for `--let z=...`). It is compared entry by entry with
autograd at `--at` (torch's adjoints) and at `points` random points near it (each variable
moved by up to 20% of max(|value|, 1), entry by entry, except the `fixed` ones; points where
any function leaves its domain are drawn again), where the NumPy engine, which agreed with
torch node by node at `--at`, gives the adjoints. A claim that holds at `--at` by coincidence
fails at a random point, and the report shows that point.

A failed claim is tested against the slips published derivations make, at every checked
point: a constant factor (2, 1/2, m, 1/m or any constant), the sign, a transpose, a missing or
extra activation-derivative factor g'(z) of a `--let` node a = g(z), a path of the chain rule
left out (one use of a node used several times). `Claim.diagnosis` says which fits, in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from scratch import graph
from torchref.verify.engines import Evaluation, Table, scratch_nodes
from torchref.verify.language import Expr, Program, VerifyError

__all__ = ["Claim", "check_claims", "RTOL", "ATOL", "SPREAD"]

# Claims are hand algebra against autograd: equal up to rounding, so a few ulps of slack.
RTOL, ATOL = 1e-9, 1e-12
SPREAD = 0.2  # random points: each entry moves by up to SPREAD * max(|value|, 1)
_MAX_DRAWS = 20  # draws per wanted point before giving up on a small domain
_MAX_CUTS = 32  # fan-out edges tried for a missing path


@dataclass
class Claim:
    """One claim and its verdict.

    `claimed`/`autograd` are the values at `--at`. `ok` is True when the claim holds at every
    checked point (`points` of them, `--at` included). Otherwise `failed_at` is the first
    point where it does not (None: `--at` itself), `worst` names the entry farthest off
    there (`W[1, 0]`), with both values, and `diagnosis` says which usual slip fits at every
    point, in words (`slips` lists their kinds), or that none does.
    """

    var: str
    expression: str
    claimed: np.ndarray
    autograd: np.ndarray
    ok: bool
    points: int = 1
    failed_at: dict[str, np.ndarray] | None = None
    worst: str | None = None
    worst_claimed: float | None = None
    worst_autograd: float | None = None
    diagnosis: str | None = None
    slips: list[str] = field(default_factory=list)


@dataclass
class _Point:
    """One checked point: the NumPy evaluation, and per claim the claimed and true values."""

    ev: Evaluation
    output: graph.Node
    claimed: dict[str, np.ndarray] = field(default_factory=dict)
    true: dict[str, np.ndarray] = field(default_factory=dict)


# ---- the identity, point by point ------------------------------------------------------------


def _target(program: Program, table: Table, var: str) -> Expr:
    """The node a claim is about: a variable or a let the output depends on."""
    ev = table.scratch
    if var in program.lets:
        expr = program.lets[var]
        node = ev.nodes.get(id(expr))
        if node is None or not any(n is node for n in graph.topological_order(table.output)):
            raise VerifyError(f"--claim {var}: the let {var!r} is not used by the expression")
        if not node.requires_grad:
            raise VerifyError(f"--claim {var}: {var!r} does not depend on any variable")
        return expr
    if var not in table.grad:
        raise VerifyError(f"--claim {var}: {var!r} does not appear in {program.expression!r}")
    return program.scope.variables[var]


def _claimed(tree: Expr, ev: Evaluation, var: str, shape: tuple[int, ...]) -> np.ndarray:
    scratch_nodes([tree], ev, f"the claim for {var}")
    value = ev.node(tree).value
    if value.shape != shape:
        if value.ndim != 0:
            raise VerifyError(f"--claim {var}: the claimed derivative has shape {value.shape}, "
                              f"but {var} has shape {shape}")
        value = np.broadcast_to(value, shape)  # a number claims every entry
    return np.array(value, dtype=np.float64)


def _random_points(program: Program, at: Mapping[str, np.ndarray], names: Sequence[str],
                   trees: Mapping[str, Expr], targets: Mapping[str, Expr], n: int, seed: int,
                   fixed: Sequence[str]) -> list[_Point]:
    rng = np.random.default_rng(seed)
    found: list[_Point] = []
    for _ in range(n * _MAX_DRAWS):
        if len(found) == n:
            break
        values = dict(at)
        for name in names:
            if name not in fixed:
                v = at[name]
                values[name] = v + SPREAD * np.maximum(np.abs(v), 1) * rng.uniform(-1, 1, v.shape)
        ev = Evaluation(values)
        try:  # outside some function's domain: draw again
            scratch_nodes([program.output], ev, repr(program.expression))
            out = ev.node(program.output)
            graph.backward(out)
            point = _Point(ev, out)
            for var, tree in trees.items():
                node = ev.node(targets[var])
                point.claimed[var] = _claimed(tree, ev, var, node.shape)
                point.true[var] = np.array(node.grad)
        except (VerifyError, ValueError):
            continue
        found.append(point)
    return found


# The argument of each loss that holds the targets: data, not a point to move.
_TARGET_SLOT = {"cross_entropy": 1, "bce": 1, "mse": 1}


def targets_of(table: Table) -> list[str]:
    """Variables used directly as the targets of a loss. Random points keep them: they are
    data, and D6's delta softmax(z) - t holds only for targets that sum to 1."""
    found = []
    for node in graph.topological_order(table.output):
        k = _TARGET_SLOT.get(node.op)
        if k is not None and node.parents[k].op == "input":
            found.append(node.parents[k].name)
    return list(dict.fromkeys(found))


def _holds(c: np.ndarray, a: np.ndarray, rtol: float, atol: float) -> bool:
    return bool(np.allclose(c, a, rtol=rtol, atol=atol))


def _entry(var: str, idx: tuple[int, ...]) -> str:
    return var if not idx else f"{var}[{', '.join(map(str, idx))}]"


def check_claims(program: Program, table: Table, at: Mapping[str, np.ndarray],
                 claims: Sequence[tuple[str, str]], points: int = 5, seed: int = 0,
                 fixed: Sequence[str] = (), rtol: float = RTOL, atol: float = ATOL,
                 ) -> tuple[list[Claim], int, list[str]]:
    """Check each (VAR, EXPR) claim at `at` and at `points` random points; diagnose failures.

    Returns the claims, how many random points were inside every function's domain, and the
    variables the random points held at their values (`fixed` and the targets of losses).
    """
    trees, targets = {}, {}
    first = _Point(table.scratch, table.output)
    for var, text in claims:
        targets[var] = _target(program, table, var)
        trees[var] = program.parse(text)
        shape = first.ev.node(targets[var]).shape
        try:
            first.claimed[var] = _claimed(trees[var], first.ev, var, shape)
        except VerifyError as exc:
            msg = str(exc)
            raise VerifyError(msg if msg.startswith("--claim") else f"--claim {var}: {msg}") \
                from None
        first.true[var] = table.adjoints[var]
    if not claims:
        return [], 0, []
    names = list(table.grad)
    unknown = [f for f in fixed if f not in names]
    if unknown:
        raise VerifyError(f"--fix {unknown[0]}: {unknown[0]!r} is not a variable of the "
                          f"expression")
    held = [*fixed, *targets_of(table)]
    pts = [first, *_random_points(program, at, names, trees, targets, points, seed, held)]

    out = []
    for var, text in claims:
        c0, a0 = first.claimed[var], first.true[var]
        bad = [p for p in pts if not _holds(p.claimed[var], p.true[var], rtol, atol)]
        claim = Claim(var, text, c0, a0, not bad, len(pts))
        if bad:
            p = bad[0]
            c, a = p.claimed[var], p.true[var]
            idx = np.unravel_index(np.argmax(np.abs(c - a) / (atol + rtol * np.abs(a))), a.shape)
            claim.worst = _entry(var, tuple(int(i) for i in idx))
            claim.worst_claimed, claim.worst_autograd = float(c[idx]), float(a[idx])
            if p is not first:
                claim.failed_at = {n: p.ev.values[n] for n in names}
            slips = _diagnose(program, var, targets[var], pts, rtol, atol)
            claim.slips = [kind for kind, _ in slips]
            claim.diagnosis = "; or ".join(words for _, words in slips) if slips else (
                "none of the usual slips (a constant factor, the sign, a transpose, an "
                "activation-derivative factor of a --let node, a missing path) fits at every "
                "checked point")
        out.append(claim)
    return out, len(pts) - 1, [h for h in dict.fromkeys(held) if h in names]


# ---- diagnosis -------------------------------------------------------------------------------


def _fits(pts: Sequence[_Point], make, a_of, rtol: float, atol: float) -> bool:
    """True if `make(point)` (a candidate for autograd built from the claim) matches at all."""
    for p in pts:
        cand = make(p)
        if cand is None or not _holds(cand, a_of(p), rtol, atol):
            return False
    return True


def _constant(c: float) -> str:
    """2, 1/4, 2/3 where the factor is one of those; otherwise 4 significant digits."""
    frac = Fraction(c).limit_denominator(12)
    if abs(float(frac) - c) <= 1e-9 * max(1.0, abs(c)) and (
            frac.denominator == 1 or abs(frac.numerator) <= 12):
        return str(frac)
    return f"{c:.4g}"


def _size_hint(k: float, at: Mapping[str, np.ndarray]) -> str:
    """Name a size of an input that the factor k (or 1/k) equals: the m of a 1/m slip."""
    for name, value in at.items():
        shape = np.shape(value)
        for axis, n in enumerate(shape):
            if n > 1 and (np.isclose(k, n, rtol=1e-9) or np.isclose(k, 1 / n, rtol=1e-9)):
                what = ("length" if len(shape) == 1
                        else ("number of rows", "number of columns")[axis])
                square = "the 2 of a square, or " if n == 2 else ""
                return f"; {n} is the {what} of {name}: {square}a stray m or 1/m?"
    return ""


def _factor_along(f: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Ways to lay a factor over a claim's shape: equal shapes, or a vector along one axis."""
    if f.shape == shape or f.ndim == 0:
        return [np.broadcast_to(f, shape)]
    if f.ndim == 1 and len(shape) == 2:
        return [np.broadcast_to(f.reshape((-1, 1) if axis == 0 else (1, -1)), shape)
                for axis in (0, 1) if shape[axis] == f.shape[0]]
    return []


def _diagnose(program: Program, var: str, target: Expr, pts: Sequence[_Point],
              rtol: float, atol: float) -> list[tuple[str, str]]:
    def claimed(p): return p.claimed[var]
    def true(p): return p.true[var]
    everywhere = "at every checked point"
    slips: list[tuple[str, str]] = []

    # A constant factor (the sign is the factor -1), estimated where autograd is largest.
    ref = max(pts, key=lambda p: float(np.sum(true(p) ** 2)))
    norm2 = float(np.sum(true(ref) ** 2))
    if norm2 > 0:
        k = float(np.sum(claimed(ref) * true(ref))) / norm2
        if k != 0 and not np.isclose(k, 1, rtol=rtol) and _fits(
                pts, lambda p: claimed(p) / k, true, rtol, atol):
            if np.isclose(k, -1, rtol=rtol):
                slips.append(("sign", f"your claim is -1 x autograd {everywhere}: the sign is "
                                      "flipped"))
            else:
                hint = _size_hint(k, pts[0].ev.values)
                slips.append(("factor", f"your claim is {k:.4g} x autograd {everywhere} (a "
                                        f"constant factor {_constant(k)}{hint})"))
    # A transpose.
    shape = claimed(pts[0]).shape
    if len(shape) == 2 and shape[0] == shape[1] and _fits(
            pts, lambda p: claimed(p).T, true, rtol, atol):
        slips.append(("transpose", f"your claim is the transpose of autograd {everywhere}"))
    # A missing or extra g'(z) of a let node a = g(z).
    for name, let in program.lets.items():
        node = pts[0].ev.nodes.get(id(let))
        if node is None or not node.parents or not isinstance(node.local_grads[0], np.ndarray) \
                or node.local_grads[0].shape != node.parents[0].shape:
            continue
        for layout in range(len(_factor_along(node.local_grads[0], shape))):
            def factor(p, layout=layout, let=let):
                return _factor_along(p.ev.node(let).local_grads[0], shape)[layout]
            g = f"{node.op}'({let.args[0].label or let.args[0].short()})"
            about = f"the derivative of {name} = {let.short()}"
            if _fits(pts, lambda p, f=factor: claimed(p) * f(p), true, rtol, atol):
                slips.append(("missing_factor", f"your claim times {g} ({about}) equals autograd "
                                                f"{everywhere}: that factor is missing"))
            elif _fits(pts, lambda p, f=factor: claimed(p) / f(p) if np.all(f(p) != 0) else None,
                       true, rtol, atol):
                slips.append(("extra_factor", f"your claim divided by {g} ({about}) equals "
                                              f"autograd {everywhere}: that factor is one too "
                                              "many"))
    # One path of the chain rule left out: cut one use of a node used several times.
    for parent, child, k in _fan_out_edges(pts[0], target):
        def without(p, child=child, k=k):
            graph.backward(p.output, cut=[(p.ev.node(child), k)])
            return np.array(p.ev.node(target).grad)
        if _fits(pts, lambda p, w=without: w(p), claimed, rtol, atol):
            slips.append(("missing_path", f"your claim misses the path through "
                                          f"{child.short()!r}: {_label(parent)} feeds "
                                          f"{_uses(pts[0], parent)} nodes and the chain rule "
                                          "sums over every path (D1)"))
    for p in pts:  # the cuts above overwrote the adjoints: put them back
        graph.backward(p.output)
    return slips


def _label(expr: Expr) -> str:
    return expr.label or expr.name or repr(expr.short())


def _uses(point: _Point, expr: Expr) -> int:
    node = point.ev.node(expr)
    return sum(p is node for n in graph.topological_order(point.output) for p in n.parents)


def _fan_out_edges(point: _Point, target: Expr) -> list[tuple[Expr, Expr, int]]:
    """(parent, child, slot) for every use of a node used several times downstream of target."""
    order = graph.topological_order(point.output)
    uses: dict[int, list[tuple[graph.Node, int]]] = {}
    for child in order:
        if child.requires_grad:
            for k, parent in enumerate(child.parents):
                if parent.requires_grad:
                    uses.setdefault(id(parent), []).append((child, k))
    start = point.ev.node(target)
    below, stack = {id(start)}, [start]
    while stack:  # every node the target feeds, itself included
        for child, _ in uses.get(id(stack.pop()), []):
            if id(child) not in below:
                below.add(id(child))
                stack.append(child)
    edges = []
    for node in order:
        if id(node) in below and len(uses.get(id(node), [])) > 1:
            for child, k in uses[id(node)]:
                edges.append((point.ev.exprs[id(node)], point.ev.exprs[id(child)], k))
    return edges[:_MAX_CUTS]

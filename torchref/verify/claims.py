"""Claims: a hand-derived derivative checked as an identity, and the diagnosis of a wrong one.

A claim `VAR=EXPR` says df/dVAR = EXPR, where VAR is a variable or a `--let` node (then it is
the adjoint of that node, D6's delta for `--let z=...`). It is compared entry by entry with
autograd at `--at` (torch's adjoints) and at `points` random points near it (each variable
moved by up to 20% of max(|value|, 1), entry by entry, except the `fixed` ones; points where
any function leaves its domain are drawn again), where the NumPy engine, which agreed with
torch node by node at `--at`, gives the adjoints: one batched pass over all the points (the
last axis of every array indexes them), not one pass per point. A claim that holds at `--at`
by coincidence fails at a random point, and the report shows that point.

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
from torchref.verify.engines import Evaluation, Table, evaluate, scratch_nodes
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
class _Points:
    """The checked points, `--at` first, evaluated together by the NumPy engine (one batch:
    the last axis of every array here indexes the points). Per claim, `claimed[var]` and
    `true[var]` have the shape (*shape of var, number of points)."""

    ev: Evaluation
    output: graph.Node
    order: list[graph.Node]
    claimed: dict[str, np.ndarray] = field(default_factory=dict)
    true: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.output.value.shape[-1]


# ---- the identity, at every point at once ------------------------------------------------------


def _target(program: Program, table: Table, var: str) -> Expr:
    """The node a claim is about: a variable or a let the output depends on."""
    if var in program.lets:
        expr = program.lets[var]
        node = table.scratch.nodes.get(id(expr))
        if node is None or not any(n is node for n in table.order):
            raise VerifyError(f"--claim {var}: the let {var!r} is not used by the expression")
        if not node.requires_grad:
            raise VerifyError(f"--claim {var}: {var!r} does not depend on any variable")
        return expr
    if var not in table.grad:
        raise VerifyError(f"--claim {var}: {var!r} does not appear in {program.expression!r}")
    return program.scope.variables[var]


def _claimed(tree: Expr, ev: Evaluation, var: str, shape: tuple[int, ...]) -> np.ndarray:
    """The claim's value at the points of `ev` (a number claims every entry)."""
    try:
        scratch_nodes([tree], ev, f"the claim for {var}")
    except VerifyError as exc:
        msg = str(exc)
        raise VerifyError(msg if msg.startswith("--claim") else f"--claim {var}: {msg}") from None
    node = ev.node(tree)
    if node.shape != shape and node.shape != ():
        raise VerifyError(f"--claim {var}: the claimed derivative has shape {node.shape}, "
                          f"but {var} has shape {shape}")
    # A claim without a variable (a number) is one value for every point: broadcast it.
    points = ev.values[next(iter(ev.values))].shape[-1:] if ev.batched else ()
    return np.array(np.broadcast_to(node.value, shape + points), dtype=np.float64)


def _with_claims(ev: Evaluation, output: graph.Node, order: list[graph.Node],
                 trees: Mapping[str, Expr], targets: Mapping[str, Expr]) -> _Points:
    """The points of a batch whose expression has been through `backward`, with the claims
    evaluated at them (in the same batch) and the adjoints they claim."""
    pts = _Points(ev, output, order)
    for var, tree in trees.items():
        node = ev.node(targets[var])
        pts.claimed[var] = _claimed(tree, ev, var, node.shape)
        pts.true[var] = np.array(node.grad)
    return pts


def _evaluate(program: Program, points: Sequence[Mapping[str, np.ndarray]],
              trees: Mapping[str, Expr], targets: Mapping[str, Expr]) -> _Points:
    """The expression, its adjoints and the claims at all `points` in one batched NumPy pass.

    Raises VerifyError or ValueError when a function leaves its domain at any of them.
    """
    ev = Evaluation({name: np.stack([p[name] for p in points], axis=-1) for name in points[0]},
                    batched=True)
    scratch_nodes([program.output], ev, repr(program.expression))
    out = ev.node(program.output)
    return _with_claims(ev, out, graph.backward(out), trees, targets)


def _inside(cands: list, evaluate, known_bad: bool = False) -> list:
    """The candidates at which every function is inside its domain, in order: a batch that
    fails is tried again in halves, down to the single points that fail."""
    if not cands:
        return []
    if not known_bad:
        try:
            evaluate(cands)
            return cands
        except (VerifyError, ValueError):
            pass
    if len(cands) == 1:
        return []
    mid = len(cands) // 2
    return _inside(cands[:mid], evaluate) + _inside(cands[mid:], evaluate)


def _drawer(at: Mapping[str, np.ndarray], names: Sequence[str], fixed: Sequence[str],
            seed: int):
    """Random points near `at`, one per call: each entry of each variable of `names` but the
    `fixed` ones moves by up to SPREAD * max(|value|, 1)."""
    rng = np.random.default_rng(seed)
    moved = [name for name in names if name not in fixed]

    def draw() -> dict[str, np.ndarray]:
        values = dict(at)
        for name in moved:
            v = at[name]
            values[name] = v + SPREAD * np.maximum(np.abs(v), 1) * rng.uniform(-1, 1, v.shape)
        return values

    return draw


def _points_inside(program: Program, at: Mapping[str, np.ndarray], trees: Mapping[str, Expr],
                   targets: Mapping[str, Expr], cands: list, draw, n: int) -> _Points:
    """`--at` and the first `n` draws inside every function's domain (up to `_MAX_DRAWS` draws
    per point), in one batch: the first draws `cands` failed together, so the failing ones
    are found by halving and replaced by new draws."""
    def evaluate(points: Sequence[Mapping[str, np.ndarray]]) -> _Points:
        return _evaluate(program, [at, *points], trees, targets)

    found = _inside(cands, evaluate, known_bad=True)
    drawn = n
    while len(found) < n and drawn < n * _MAX_DRAWS:
        more = [draw() for _ in range(min(n - len(found), n * _MAX_DRAWS - drawn))]
        drawn += len(more)
        found += _inside(more, evaluate)
    return evaluate(found)


# The argument of each loss that holds the targets: data, not a point to move.
_TARGET_SLOT = {"cross_entropy": 1, "bce": 1, "mse": 1}


def _variables(program: Program) -> tuple[list[str], list[str]]:
    """The variables the expression depends on, and those used directly as the targets of a
    loss (in order of appearance). Random points keep the targets: they are data, and D6's
    delta softmax(z) - t holds only for targets that sum to 1."""
    seen, stack, found, targets = set(), [program.output], set(), set()
    while stack:
        expr = stack.pop()
        if id(expr) not in seen:
            seen.add(id(expr))
            found.add(expr.name)
            k = _TARGET_SLOT.get(expr.op)
            if k is not None and expr.args[k].op == "input":
                targets.add(expr.args[k].name)
            stack.extend(expr.args)
    return ([v for v in program.variables if v in found],
            [v for v in program.variables if v in targets])


def _holds(c: np.ndarray, a: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Per point (the last axis): does every entry of c match a?"""
    close = np.isclose(c, a, rtol=rtol, atol=atol)
    return close.reshape(-1, close.shape[-1]).all(axis=0)


def _entry(var: str, idx: tuple[int, ...]) -> str:
    return var if not idx else f"{var}[{', '.join(map(str, idx))}]"


def check_claims(program: Program, at: Mapping[str, np.ndarray],
                 claims: Sequence[tuple[str, str]], points: int = 5, seed: int = 0,
                 fixed: Sequence[str] = (), rtol: float = RTOL, atol: float = ATOL,
                 ) -> tuple[Table, list[Claim], int, list[str]]:
    """Evaluate `program` at `at` with both engines (`engines.evaluate`) and check each
    (VAR, EXPR) claim at `at` and at `points` random points near it; diagnose failures.

    Returns the node table, the claims, how many random points were inside every function's
    domain, and the variables the random points held at their values (`fixed` and the
    targets of losses). However many points, the NumPy engine evaluates the expression and
    the claims once, as one batch with `at` (more passes only where a random point leaves a
    function's domain).
    """
    if not claims:
        return evaluate(program, at), [], 0, []
    trees = {var: program.parse(text) for var, text in claims}
    names, data = _variables(program)
    unknown = [f for f in fixed if f not in names]
    if unknown:
        raise VerifyError(f"--fix {unknown[0]}: {unknown[0]!r} is not a variable of the "
                          f"expression")
    held = list(dict.fromkeys([*fixed, *data]))
    draw = _drawer(at, names, held, seed)
    cands = [draw() for _ in range(points)]
    try:  # the usual case: one NumPy pass at --at and every draw
        table = evaluate(program, at, cands)
        targets = {var: _target(program, table, var) for var in trees}
        pts = _with_claims(table.scratch, table.output, table.order, trees, targets)
    except (VerifyError, ValueError):
        # --at alone first: if it is the culprit, its one-line error is the answer.
        table = evaluate(program, at)
        targets = {var: _target(program, table, var) for var in trees}
        for var, tree in trees.items():
            _claimed(tree, table.scratch, var, table.scratch.node(targets[var]).shape)
        pts = _points_inside(program, at, trees, targets, cands, draw, points)
    for var in trees:  # at --at itself, autograd is torch's
        pts.true[var][..., 0] = table.adjoints[var]

    out = []
    for var, text in claims:
        c, a = pts.claimed[var], pts.true[var]
        ok = _holds(c, a, rtol, atol)
        claim = Claim(var, text, c[..., 0], a[..., 0], bool(ok.all()), pts.n)
        if not claim.ok:
            i = int(np.argmin(ok))  # the first point where the claim fails
            ci, ai = c[..., i], a[..., i]
            idx = np.unravel_index(np.argmax(np.abs(ci - ai) / (atol + rtol * np.abs(ai))),
                                   ai.shape)
            claim.worst = _entry(var, tuple(int(j) for j in idx))
            claim.worst_claimed, claim.worst_autograd = float(ci[idx]), float(ai[idx])
            if i:
                claim.failed_at = {n: pts.ev.values[n][..., i] for n in names}
            slips = _diagnose(program, var, targets[var], pts, at, rtol, atol)
            claim.slips = [kind for kind, _ in slips]
            claim.diagnosis = "; or ".join(words for _, words in slips) if slips else (
                "none of the usual slips (a constant factor, the sign, a transpose, an "
                "activation-derivative factor of a --let node, a missing path) fits at every "
                "checked point")
        out.append(claim)
    return table, out, pts.n - 1, held


# ---- diagnosis -------------------------------------------------------------------------------


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
    """Ways to lay a factor (points on its last axis) over a claim's shape: equal shapes, or a
    vector along one axis of a matrix claim."""
    fshape, n = f.shape[:-1], f.shape[-1:]
    if fshape == shape or fshape == ():
        return [np.broadcast_to(f, shape + n)]
    if len(fshape) == 1 and len(shape) == 2:
        return [np.broadcast_to(f.reshape((-1, 1) + n if axis == 0 else (1, -1) + n), shape + n)
                for axis in (0, 1) if shape[axis] == fshape[0]]
    return []


def _diagnose(program: Program, var: str, target: Expr, pts: _Points,
              at: Mapping[str, np.ndarray], rtol: float, atol: float) -> list[tuple[str, str]]:
    claimed, true = pts.claimed[var], pts.true[var]
    shape = claimed.shape[:-1]

    def fits(candidate: np.ndarray) -> bool:  # a candidate for autograd, from the claim
        return bool(_holds(candidate, true, rtol, atol).all())

    everywhere = "at every checked point"
    slips: list[tuple[str, str]] = []

    # A constant factor (the sign is the factor -1), estimated where autograd is largest.
    norm2 = (true**2).reshape(-1, pts.n).sum(axis=0)
    ref = int(np.argmax(norm2))
    if norm2[ref] > 0:
        k = float(np.sum(claimed[..., ref] * true[..., ref])) / float(norm2[ref])
        if k != 0 and not np.isclose(k, 1, rtol=rtol) and fits(claimed / k):
            if np.isclose(k, -1, rtol=rtol):
                slips.append(("sign", f"your claim is -1 x autograd {everywhere}: the sign is "
                                      "flipped"))
            else:
                hint = _size_hint(k, at)
                slips.append(("factor", f"your claim is {k:.4g} x autograd {everywhere} (a "
                                        f"constant factor {_constant(k)}{hint})"))
    # A transpose.
    if len(shape) == 2 and shape[0] == shape[1] and fits(np.swapaxes(claimed, 0, 1)):
        slips.append(("transpose", f"your claim is the transpose of autograd {everywhere}"))
    # A missing or extra g'(z) of a let node a = g(z).
    for name, let in program.lets.items():
        node = pts.ev.nodes.get(id(let))
        if node is None or not node.parents or not isinstance(node.local_grads[0], np.ndarray) \
                or node.local_grads[0].shape != node.parents[0].value.shape:
            continue
        f = node.local_grads[0] if node.batched else node.local_grads[0][..., None]
        g = f"{node.op}'({let.args[0].label or let.args[0].short()})"
        about = f"the derivative of {name} = {let.short()}"
        for factor in _factor_along(f, shape):
            if fits(claimed * factor):
                slips.append(("missing_factor", f"your claim times {g} ({about}) equals autograd "
                                                f"{everywhere}: that factor is missing"))
            elif np.all(factor != 0) and fits(claimed / factor):
                slips.append(("extra_factor", f"your claim divided by {g} ({about}) equals "
                                              f"autograd {everywhere}: that factor is one too "
                                              "many"))
    # One path of the chain rule left out: cut one use of a node used several times. (The
    # cuts overwrite the batch's adjoints; `true` holds copies.)
    for parent, child, k in _fan_out_edges(pts, target):
        graph.backward(pts.output, cut=[(pts.ev.node(child), k)], order=pts.order)
        if _holds(pts.ev.node(target).grad, claimed, rtol, atol).all():
            slips.append(("missing_path", f"your claim misses the path through "
                                          f"{child.short()!r}: {_label(parent)} feeds "
                                          f"{_uses(pts, parent)} nodes and the chain rule "
                                          "sums over every path (D1)"))
    return slips


def _label(expr: Expr) -> str:
    return expr.label or expr.name or repr(expr.short())


def _uses(pts: _Points, expr: Expr) -> int:
    node = pts.ev.node(expr)
    return sum(p is node for n in pts.order for p in n.parents)


def _fan_out_edges(pts: _Points, target: Expr) -> list[tuple[Expr, Expr, int]]:
    """(parent, child, slot) for every use of a node used several times downstream of target."""
    uses: dict[int, list[tuple[graph.Node, int]]] = {}
    for child in pts.order:
        if child.requires_grad:
            for k, parent in enumerate(child.parents):
                if parent.requires_grad:
                    uses.setdefault(id(parent), []).append((child, k))
    start = pts.ev.node(target)
    below, stack = {id(start)}, [start]
    while stack:  # every node the target feeds, itself included
        for child, _ in uses.get(id(stack.pop()), []):
            if id(child) not in below:
                below.add(id(child))
                stack.append(child)
    edges = []
    for node in pts.order:
        if id(node) in below and len(uses.get(id(node), [])) > 1:
            for child, k in uses[id(node)]:
                edges.append((pts.ev.exprs[id(node)], pts.ev.exprs[id(child)], k))
    return edges[:_MAX_CUTS]

"""verify against an independent engine: 2,000 random expressions over the whole language.

A seeded generator writes random scalar expressions over scalars, vectors and matrices
(every function of `torchref.verify.FUNCTIONS`, every operator, indexing, `.T`, `axis=`,
comparisons, `--let` bindings used several times) and random points; each expression is
checked by `torchref.verify.check` (scratch.graph and torch autograd, which must agree on
every node) and by `parity_tests.sympy_reference` (SymPy derivatives of the textbook
definitions, mpmath numbers at 30 digits), which must agree on the value and on every entry
of the gradient to rtol 1e-9. Domain arguments are guarded by construction (log of a square
plus 0.5, arcsin of 0.9 tanh, ...); an expression verify still refuses (e.g. an overflow) is
drawn again, and so is a point where the derivative does not exist (a norm at 0).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from parity_tests.sympy_reference import Undefined, value_and_grad
from scratch import graph
from torchref.verify import FUNCTIONS, VerifyError, check, parse_program
from torchref.verify.engines import Evaluation, scratch_nodes

CASES = 2000
SEED = 20240613
RTOL, ATOL = 1e-9, 1e-12

# The variables every expression may use, and their shapes.
SHAPES = {"a": (), "b": (), "c": (2,), "u": (3,), "v": (3,), "M": (2, 3), "S": (3, 3)}
_ELEMENTWISE = ["exp", "ln", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs", "softplus",
                "gelu", "erf", "sinh", "cosh", "arctan", "swish", "elu", "leaky_relu",
                "tanh_half", "identity", "step", "sign", "sign_unit"]
_CONSTANTS = ["2", "0.5", "3", "1.5", "pi", "e", "0.25", "(1/3)", "-1"]


class Writer:
    """Random expression text of a given shape; `depth` bounds the nesting."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.lets: dict[str, tuple[int, ...]] = {}

    def pick(self, items):
        return items[self.r.randrange(len(items))]

    def expr(self, shape: tuple[int, ...], depth: int) -> str:
        if depth <= 0 or self.r.random() < 0.2:
            return self.leaf(shape)
        makers = [self.elementwise, self.binary, self.guarded, self.piecewise]
        if shape == ():
            makers += [self.reduce, self.reduce, self.index, self.loss]
        elif len(shape) == 1:
            makers += [self.product, self.vector_function, self.axis_op]
        else:
            makers += [self.product, self.outer]
        for _ in range(10):
            out = self.pick(makers)(shape, depth - 1)
            if out is not None:
                return out
        return self.leaf(shape)

    def leaf(self, shape):
        if shape == () and self.r.random() < 0.3:
            return self.pick(_CONSTANTS)
        if shape == (3, 2):
            return "M.T"
        names = [n for n, s in {**SHAPES, **self.lets}.items() if s == shape]
        return self.pick(names)

    def elementwise(self, shape, d):
        f = self.pick([*_ELEMENTWISE, "neg"])
        x = self.expr(shape, d)
        if f == "neg":
            return f"-({x})"
        return f"{f}(({x})/3)" if f in ("exp", "sinh", "cosh") else (
            f"ln(({x})**2 + 0.5)" if f == "ln" else f"{f}({x})")

    def guarded(self, shape, d):
        x = self.expr(shape, d)
        return self.pick([
            f"log(({x})**2 + 0.5)", f"sqrt(softplus({x}) + 0.1)", f"arcsin(0.9*tanh({x}))",
            f"arccos(0.9*tanh({x}))", f"({x})**{self.pick(['2', '3', '-1', '0', '(4/2)', '-2'])}",
            f"(softplus({x}) + 0.5)**{self.pick(['0.5', '1.5', '(1/3)', 'a', 'b'])}",
            f"log2(exp(({x})/4) + 1)", f"log10(1 + ({x})**2)",
            f"{self.expr(shape, d)} / (2 + sin({x}))", f"2**({x})",
            f"({x}) / {self.pick(['3', '(a**2 + 1)', 'e'])}",
        ])

    def binary(self, shape, d):
        op = self.pick(["+", "-", "*", "maximum", "minimum", "*", "+"])
        a = self.expr(shape, d)
        b = self.expr(shape if shape == () or self.r.random() < 0.7 else (), d)
        return f"{op}({a}, {b})" if op in ("maximum", "minimum") else f"({a}) {op} ({b})"

    def piecewise(self, shape, d):
        x = self.expr(shape, d)
        k = self.r.randrange(4)
        if k == 0:
            cmp = self.pick(["<", "<=", ">", ">="])
            return f"where({x} {cmp} {self.expr(shape, d)}, {self.expr(shape, d)}, {x})"
        if k == 1:
            return f"clip({x}, {self.pick(['-0.5', '-a**2 - 0.1'])}, {self.pick(['0.7', 'b**2'])})"
        if k == 2:
            return f"({x}) * ({self.expr(shape, d)} > {self.pick(['0', 'b'])})"
        return f"prelu({x}, {self.pick(['0.25', 'b'])})"

    def reduce(self, shape, d):
        k = self.r.randrange(5)
        if k == 0:
            x = self.expr(self.pick([(2, 3), (3, 3)]), d)
            return f"{self.pick(['sum', 'mean', 'max', 'min', 'norm'])}({x})"
        x = self.expr((3,), d)
        if k == 1:
            return f"dot({x}, {self.expr((3,), d)})"
        if k == 2:
            return f"({x}) @ ({self.expr((3,), d)})"
        if k == 3:
            return f"{self.pick(['a', '2', 'b'])} @ {self.pick(['a', 'b'])}"
        return f"{self.pick(['sum', 'mean', 'max', 'min', 'norm', 'logsumexp'])}({x})"

    def index(self, shape, d):
        if self.r.random() < 0.5:
            return f"({self.expr((3,), d)})[{self.pick(['0', '1', '-1'])}]"
        return f"({self.expr((2, 3), d)})[{self.pick(['0', '1', '-1'])}, {self.pick(['0', '2'])}]"

    def loss(self, shape, d):
        x, y = self.expr((3,), d), self.expr((3,), d)
        k = self.r.randrange(4)
        if k == 0:
            return f"cross_entropy({x}, softmax({y}))"
        if k == 1:
            return f"bce(sigmoid({x}), sigmoid({y}))"
        if k == 2:
            return f"mse({x}, {y})"
        return f"cross_entropy({self.expr((2, 3), d)}, softmax({self.expr((2, 3), d)}))"

    def product(self, shape, d):
        if shape == (3,):
            return self.pick([f"({self.expr((3, 3), d)}) @ ({self.expr((3,), d)})",
                              f"({self.expr((2,), d)}) @ ({self.expr((2, 3), d)})",
                              f"transpose({self.expr((2, 3), d)}) @ ({self.expr((2,), d)})",
                              f"{self.pick(['a', '2'])} @ ({self.expr((3,), d)})"])
        if shape == (2,):
            return f"({self.expr((2, 3), d)}) @ ({self.expr((3,), d)})"
        if shape == (3, 3):
            return self.pick([f"({self.expr((3, 2), d)}) @ ({self.expr((2, 3), d)})",
                              f"diag({self.expr((3,), d)})", f"({self.expr((3, 3), d)}).T",
                              f"softmax({self.expr((3, 3), d)}, axis=0)"])
        if shape == (2, 3):
            return f"({self.expr((2, 3), d)}) @ ({self.expr((3, 3), d)})"
        if shape == (3, 2):
            return f"transpose({self.expr((2, 3), d)})"
        return None

    def vector_function(self, shape, d):
        return f"{self.pick(['softmax', 'log_softmax'])}({self.expr(shape, d)})"

    def axis_op(self, shape, d):
        if shape == (2,):
            m = self.expr((2, 3), d)
            return f"{self.pick(['sum', 'mean', 'max', 'min', 'logsumexp'])}({m}, axis=1)"
        if shape != (3,):
            return None
        m = self.expr((2, 3), d)
        return self.pick([f"{self.pick(['sum', 'mean', 'max', 'min'])}({m}, axis=0)",
                          f"({m})[{self.pick(['0', '1', '-1'])}]",
                          f"diag({self.expr((3, 3), d)})",
                          f"logsumexp(transpose({m}), axis=-1)",
                          f"({self.expr((3, 3), d)})[:, {self.pick(['0', '2'])}]",
                          f"({self.expr((3, 3), d)})[:, 0:2] @ c"])

    def outer(self, shape, d):
        if shape in ((3, 3), (2, 3)):
            return f"outer({self.expr((shape[0],), d)}, {self.expr((3,), d)})"
        return None

    def case(self) -> tuple[str, dict[str, str]]:
        """An expression and its lets: a vector intermediate used up to three times."""
        self.lets = {}
        lets = {}
        if self.r.random() < 0.3:
            lets["h"] = f"tanh({self.expr((3,), 2)})"  # a let names a computation
            self.lets["h"] = (3,)
        return self.expr((), 3), lets


def _cases():
    r, rng = random.Random(SEED), np.random.default_rng(SEED)
    writer = Writer(r)
    while True:
        text, lets = writer.case()
        values = {n: rng.uniform(-1.5, 1.5, s) for n, s in SHAPES.items()}
        yield text, lets, values


@pytest.mark.catalog("D8", "D13")
def test_random_expressions_agree_with_sympy_and_both_engines_agree_on_every_node():
    checked, seen_ops = 0, set()
    for text, lets, values in _cases():
        if checked == CASES:
            break
        try:
            report = check(text, values, let=lets, points=0)
        except VerifyError:
            continue  # outside a domain the guards do not cover (an overflow): draw again
        used = {n: values[n] for n in report.grad}
        try:
            ref_value, ref_grad = value_and_grad(_tree(text, lets), used)
        except Undefined:
            continue  # no derivative at this point (a norm at 0)
        where = f"case {checked}: {text!r} with lets {lets}"
        assert report.engines_agree, f"{where}: scratch.graph and torch differ"
        np.testing.assert_allclose(report.value, ref_value, rtol=RTOL, atol=ATOL, err_msg=where)
        for name, grad in ref_grad.items():
            np.testing.assert_allclose(report.grad[name], grad, rtol=RTOL, atol=ATOL,
                                       err_msg=f"{where}, d/d{name}")
        seen_ops.update(n.op for n in report.nodes)
        checked += 1
    # The whole language was exercised: every function's op, every operator, indexing.
    wanted = {f.op for f in FUNCTIONS.values()} | {"add", "sub", "mul", "div", "pow", "neg",
                                                   "matmul", "index", "lt", "le", "gt", "ge"}
    assert wanted <= seen_ops, f"never generated: {sorted(wanted - seen_ops)}"


BATCH_CASES, BATCH_POINTS = 400, 3


def _scratch(program, values, batched=False):
    ev = Evaluation(values, batched=batched)
    scratch_nodes([program.output], ev, program.expression)
    graph.backward(ev.node(program.output))
    return ev


@pytest.mark.catalog("D13")
def test_a_batch_of_points_gives_every_node_what_each_point_gives_alone():
    # verify checks a claim at all its random points in one batched pass of scratch.graph (a
    # trailing points axis); each point must come out as if it had been evaluated on its own.
    r = np.random.default_rng(SEED)
    checked, seen_ops = 0, set()
    for text, lets, values in _cases():
        if checked == BATCH_CASES:
            break
        program = parse_program(text, lets)
        points = [values] + [{n: v + r.uniform(-0.3, 0.3, v.shape) for n, v in values.items()}
                             for _ in range(BATCH_POINTS - 1)]
        try:
            alone = [_scratch(program, p) for p in points]
        except (VerifyError, ValueError):
            continue  # outside a domain at some point: draw again
        batch = _scratch(program, {n: np.stack([p[n] for p in points], axis=-1)
                                   for n in values}, batched=True)
        for key, node in alone[0].nodes.items():
            b = batch.nodes[key]
            where = f"case {checked}: {text!r} with lets {lets}, node {node.op}"
            # Only constants (no variable beneath) lack the points axis, and carry no adjoint.
            assert b.shape == node.shape, where
            assert b.value.shape == node.shape + (BATCH_POINTS,) * b.batched, where
            assert b.batched or not node.requires_grad, where
            for i, ev in enumerate(alone):
                np.testing.assert_allclose(b.value if not b.batched else b.value[..., i],
                                           ev.nodes[key].value, rtol=1e-12, atol=1e-14,
                                           err_msg=where)
                assert (b.grad is None) == (ev.nodes[key].grad is None), where
                if b.grad is not None:
                    np.testing.assert_allclose(b.grad[..., i], ev.nodes[key].grad, rtol=1e-12,
                                               atol=1e-14, err_msg=where)
            seen_ops.add(node.op)
        checked += 1
    wanted = {f.op for f in FUNCTIONS.values()} | {"add", "sub", "mul", "div", "pow", "neg",
                                                   "matmul", "index", "lt", "le", "gt", "ge"}
    assert wanted <= seen_ops, f"never generated: {sorted(wanted - seen_ops)}"


def _tree(text: str, lets: dict[str, str]):
    from torchref.verify import parse_program

    return parse_program(text, lets).output

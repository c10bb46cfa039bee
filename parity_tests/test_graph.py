"""scratch.graph (the reverse-mode engine) against torch autograd, and the notes' worked graphs.

Forward values and adjoints are compared separately, op by op (every shape pair NumPy
broadcasts), on random DAGs with reused nodes (hypothesis), and on the notes' examples D8
(002), D9, D10 (003), the chain-rule demonstrations D1/D2 (000) and the literal D13 algorithm.
Where the notes print a wrong number, the test pins the computed one (docs/errata.md, D).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, to_torch
from scratch import graph as g
from scratch import worked_graphs as wg
from scratch.activations import ACTIVATIONS, THRESHOLD_UNITS
from torchref import graph as tgraph


def _sample(rng, shape, domain, dtype):
    lo, hi = {"any": (-2, 2), "pos": (0.5, 3), "small": (-1, 1)}[domain]
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def _act(name):
    return lambda a: g.activation(a, name)


# name: (scratch op, torch op written independently, input domain)
UNARY = {
    "neg": (g.neg, torch.neg, "any"),
    "exp": (g.exp, torch.exp, "any"),
    "log": (g.log, torch.log, "pos"),
    "sin": (g.sin, torch.sin, "any"),
    "cos": (g.cos, torch.cos, "any"),
    "tan": (g.tan, torch.tan, "small"),
    "sqrt": (g.sqrt, torch.sqrt, "pos"),
    "abs": (g.abs, torch.abs, "any"),
    "tanh": (g.tanh, torch.tanh, "any"),
    "sigmoid": (g.sigmoid, torch.sigmoid, "any"),
    "relu": (g.relu, torch.relu, "any"),
    "identity": (_act("identity"), lambda t: t * 1, "any"),
    "tanh_half": (_act("tanh_half"), lambda t: torch.tanh(t / 2), "any"),
    "leaky_relu": (_act("leaky_relu"), lambda t: F.leaky_relu(t, 0.01), "any"),
    "elu": (_act("elu"), lambda t: F.elu(t, 1.0), "any"),
    "swish": (_act("swish"), F.silu, "any"),
}
BINARY = {
    "add": (g.add, torch.add, "any"),
    "sub": (g.sub, torch.sub, "any"),
    "mul": (g.mul, torch.mul, "any"),
    "div": (g.div, torch.div, "pos"),
    "pow": (g.pow, torch.pow, "pos"),
}
BROADCAST_PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


def _check_parity(s_out, s_leaves, t_out, t_leaves, rng, dtype):
    """Forward first, then the adjoints of a random weighting sum(out * c) of the output."""
    assert s_out.value.dtype == dtype
    assert_close(s_out.value, t_out, dtype)
    c = rng.uniform(-1, 1, size=s_out.shape).astype(dtype)
    g.backward(g.sum(s_out * g.const(c)))
    t_grads = torch.autograd.grad((t_out * to_torch(c)).sum(), t_leaves)
    for s_leaf, t_grad in zip(s_leaves, t_grads, strict=True):
        assert s_leaf.grad.shape == s_leaf.shape
        assert_close(s_leaf.grad, t_grad, dtype)
    assert_close(s_out.grad, c, dtype)


@pytest.mark.catalog("D13")
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("name", UNARY)
def test_unary_op_value_and_adjoint_match_torch_autograd(name, shape, dtype, rng):
    _check_unary(*UNARY[name], shape, dtype, rng)


def _check_unary(s_fn, t_fn, domain, shape, dtype, rng):
    x = _sample(rng, shape, domain, dtype)
    sx = g.variable(x, "x")
    tx = to_torch(x, requires_grad=True)
    _check_parity(s_fn(sx), [sx], t_fn(tx), [tx], rng, dtype)


@pytest.mark.catalog("D13")
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_broadcasts_and_sums_adjoints_back_like_torch(name, shapes, dtype, rng):
    s_fn, t_fn, domain = BINARY[name]
    a, b = (_sample(rng, s, domain, dtype) for s in shapes)
    sa, sb = g.variable(a, "a"), g.variable(b, "b")
    ta, tb = to_torch(a, True), to_torch(b, True)
    _check_parity(s_fn(sa, sb), [sa, sb], t_fn(ta, tb), [ta, tb], rng, dtype)


@pytest.mark.catalog("D13")
@pytest.mark.parametrize(
    "shapes", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,))], ids=str
)
def test_matmul_adjoints_are_dout_bt_and_at_dout_like_torch(shapes, dtype, rng):
    a, b = (_sample(rng, s, "any", dtype) for s in shapes)
    sa, sb = g.variable(a), g.variable(b)
    ta, tb = to_torch(a, True), to_torch(b, True)
    _check_parity(sa @ sb, [sa, sb], ta @ tb, [ta, tb], rng, dtype)


@pytest.mark.catalog("D13")
@pytest.mark.parametrize(
    "s_fn, t_fn",
    [
        (lambda a, b: g.dot(a, b), torch.dot),
        (lambda a, b: g.sum(a * b), lambda a, b: (a * b).sum()),
        (lambda a, b: g.mean(a - b), lambda a, b: (a - b).mean()),
    ],
    ids=["dot", "sum", "mean"],
)
def test_reductions_match_torch(s_fn, t_fn, dtype, rng):
    a, b = (_sample(rng, (4,), "any", dtype) for _ in range(2))
    sa, sb = g.variable(a), g.variable(b)
    ta, tb = to_torch(a, True), to_torch(b, True)
    _check_parity(s_fn(sa, sb), [sa, sb], t_fn(ta, tb), [ta, tb], rng, dtype)


@pytest.mark.catalog("D13")
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduction_over_one_axis_matches_torch(op, axis, dtype, rng):
    x = _sample(rng, (2, 3), "any", dtype)
    sx, tx = g.variable(x), to_torch(x, True)
    t_out = getattr(torch, op)(tx, dim=axis)
    _check_parity(getattr(g, op)(sx, axis=axis), [sx], t_out, [tx], rng, dtype)


# ---- random DAGs: nodes used several times (the accumulation of D1/D13) ---------------------

_DAG_OPS = {
    "add": (g.add, torch.add), "sub": (g.sub, torch.sub), "mul": (g.mul, torch.mul),
    "sin": (g.sin, torch.sin), "tanh": (g.tanh, torch.tanh), "sigmoid": (g.sigmoid, torch.sigmoid),
}
_STEP = st.tuples(st.sampled_from(sorted(_DAG_OPS)), st.integers(0, 99), st.integers(0, 99))


@pytest.mark.catalog("D1", "D13")
@settings(max_examples=30)
@given(steps=st.lists(_STEP, min_size=1, max_size=7), seed=st.integers(0, 2**16),
       vector=st.booleans())
def test_random_dag_with_reused_nodes_matches_torch(steps, seed, vector):
    rng = np.random.default_rng(seed)
    shape = (3,) if vector else ()
    x = [rng.uniform(-1.5, 1.5, size=shape) for _ in range(3)]
    s_pool = [g.variable(v, f"x{i}") for i, v in enumerate(x)]
    t_leaves = [to_torch(v, True) for v in x]
    t_pool = list(t_leaves)
    for op, i, j in steps:
        s_fn, t_fn = _DAG_OPS[op]
        i, j = i % len(s_pool), j % len(s_pool)
        binary = op in ("add", "sub", "mul")
        s_pool.append(s_fn(s_pool[i], s_pool[j]) if binary else s_fn(s_pool[i]))
        t_pool.append(t_fn(t_pool[i], t_pool[j]) if binary else t_fn(t_pool[i]))
    s_out, t_out = g.sum(s_pool[-1]), t_pool[-1].sum()
    assert_close(s_out.value, t_out)
    g.backward(s_out)
    t_grads = torch.autograd.grad(t_out, t_leaves, allow_unused=True)
    for leaf, tg in zip(s_pool[:3], t_grads, strict=True):
        # A leaf the output does not depend on is not in its graph: no adjoint on either side.
        assert (leaf.grad is None) == (tg is None)
        if tg is not None:
            assert_close(leaf.grad, tg)


@pytest.mark.catalog("D1")
def test_node_used_twice_gets_both_shares():
    x = g.variable(3.0)
    y = x * x  # two edges from x: d(x^2)/dx = x + x
    y.backward()
    assert float(x.grad) == 6.0
    assert len(wg.paths(y, x)) == 2


@pytest.mark.catalog("D13")
def test_float32_graph_stays_float32_with_python_constants(rng):
    x = g.variable(rng.uniform(size=3).astype(np.float32))
    y = g.sum(2.0 * g.exp(x) - 1 / (x + 1) + x**2)
    y.backward()
    assert y.value.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.catalog("A11", "D13")
@pytest.mark.parametrize(
    "fn, t_fn", [(g.relu, torch.relu), (g.abs, torch.abs)], ids=["relu", "abs"]
)
def test_kink_at_zero_takes_torch_choice_zero(fn, t_fn):
    x = g.variable(np.array([-1.0, 0.0, 2.0]))
    g.backward(g.sum(fn(x)))
    tx = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    (tgrad,) = torch.autograd.grad(t_fn(tx).sum(), tx)
    assert x.grad[1] == 0.0
    assert_close(x.grad, tgrad)


@pytest.mark.catalog("D13")
def test_pow_with_integer_constant_exponent_accepts_negative_base():
    x = g.variable(-2.0)
    y = x**3
    y.backward()
    assert float(y.value) == -8.0 and float(x.grad) == 12.0
    assert y.local_grads[1] is None  # d/db a^b = a^b ln a is undefined for a < 0


@pytest.mark.catalog("D13")
def test_long_chain_does_not_hit_the_recursion_limit():
    x = g.variable(1.0)
    y = x
    for _ in range(3000):
        y = y + 1.0
    y.backward()
    assert float(y.value) == 3001.0 and float(x.grad) == 1.0


@pytest.mark.catalog("D13")
def test_torchref_graph_has_a_torch_op_for_every_scratch_op():
    # verify evaluates one tree with both engines, so the op names must line up.
    scratch_ops = {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sin", "cos", "tan",
                   "sqrt", "abs", "tanh", "sigmoid", "relu", "matmul", "dot", "sum", "mean"}
    assert all(callable(getattr(g, op)) for op in scratch_ops)
    assert scratch_ops <= set(g.OPS) and set(g.OPS) == set(tgraph.OPS)
    # The activations come from one registry, scratch.activations, on both sides.
    assert set(ACTIVATIONS) | set(THRESHOLD_UNITS) <= set(tgraph.OPS)


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: g.log(g.variable(np.array([1.0, -2.0]))), r"log: input must be > 0, got -2\.0"),
        (lambda: g.log(0.0), r"log: input must be > 0, got 0\.0"),
        (lambda: g.div(1.0, g.variable(0.0)), r"div: input must be a nonzero divisor, got 0\.0"),
        (lambda: g.sqrt(g.variable(0.0)), r"sqrt: input must be > 0 .*got 0\.0"),
        (lambda: g.exp(g.variable(1000.0)), r"exp: input must be <= 709\.78.*got 1000\.0"),
        (lambda: g.exp(g.variable(np.float32(100.0))), r"exp: input must be <= 88\.72"),
        (lambda: g.variable(-2.0) ** 0.5, r"pow: input must be >= 0 for a non-integer exponent"),
        (lambda: g.pow(-2.0, g.variable(2.0)), r"pow: input must be > 0 when the exponent is"),
        (lambda: g.variable(1e200) * 1e200, r"mul: overflow encountered"),
        (lambda: g.variable(np.ones(3)) + np.ones(2), r"add: operand shapes do not broadcast"),
        (lambda: g.matmul(np.ones((2, 3)), np.ones(2)), r"matmul: inner dimensions differ"),
        (lambda: g.matmul(np.ones((1, 2, 3)), np.ones(3)), r"matmul: operands must be scalars,"),
        (lambda: g.dot(np.ones(3), np.ones(2)), r"dot: needs two vectors of one length"),
        (lambda: g.variable(np.nan, "x1"), r"x1 must be finite"),
        (lambda: g.backward(g.variable(np.ones(3))), r"backward: output must be a scalar"),
        (lambda: g.backward(g.variable(np.ones(3)), np.ones(2)), r"dout must have the output's"),
        (lambda: g.mean(g.variable(np.ones(0))), r"mean: needs at least one entry"),
        (lambda: g.activation(1.0, "relu6"), r"unknown activation 'relu6'; valid choices"),
    ],
)
def test_bad_input_raises_a_clear_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_trace_has_no_adjoints_before_backward():
    records = g.trace(wg.d8_graph(2.0, 5.0))
    assert all(r.adjoint is None for r in records)


# ---- D13: topological order; the Wengert list of 002 ---------------------------------------


@pytest.mark.catalog("D8")
def test_d8_trace_numbers_the_nodes_v0_to_v6_as_002_does():
    # 002 §4.2.2: v0 = x1, v1 = x2; v2 = ln(v0), v3 = v0 v1, v4 = sin(v1); v5 = v2 + v3;
    # v6 = v5 - v4 (transcribed from the notes).
    records = g.trace(wg.d8_graph(2.0, 5.0))
    assert [r.op for r in records] == ["input", "input", "log", "mul", "sin", "add", "sub"]
    names = ["v0", "v1"] + [r.name for r in records[2:]]
    parents = [tuple(names[["x1", "x2"].index(p)] if p in ("x1", "x2") else p for p in r.parents)
               for r in records]
    assert names == [f"v{i}" for i in range(7)]
    assert parents == [(), (), ("v0",), ("v0", "v1"), ("v1",), ("v2", "v3"), ("v5", "v4")]


@pytest.mark.catalog("D13")
def test_topological_order_puts_every_node_after_its_parents(rng):
    x = g.variable(rng.uniform(size=3))
    h = g.tanh(x)
    y = g.sum(h * x + g.sin(h) - x / 3.0)
    order = g.topological_order(y)
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is y and len(position) == len(order)
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)


@pytest.mark.catalog("D8", "D13")
def test_forward_backward_wengert_list_matches_engine_and_torch_on_d8():
    values, adjoints = wg.forward_backward(wg.d8_tape(), [2.0, 5.0])
    y = wg.d8_graph(2.0, 5.0)
    y.backward()
    records = g.trace(y)
    assert_close(np.array(values), np.array([float(r.value) for r in records]))
    assert_close(np.array(adjoints), np.array([float(r.adjoint) for r in records]))
    x1, x2 = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, 5.0))
    t_y = torch.log(x1) + x1 * x2 - torch.sin(x2)
    assert_close(np.array(adjoints[:2]), np.array(torch.autograd.grad(t_y, (x1, x2))))


@pytest.mark.catalog("D13")
def test_d13_notes_single_chain_product_misses_the_second_path():
    # 002 writes dL/dw_i as ONE chain of factors; v0 = x1 feeds v2 and v3, so one chain
    # (v0 -> v3 -> v5 -> v6: dv3/dv0 = x2 = 5) misses the other (via ln: 1/x1) and gives
    # 5, not 5.5 (docs/errata.md D13).
    values, adjoints = wg.forward_backward(wg.d8_tape(), [2.0, 5.0])
    single_chain = 1.0 * 1.0 * 1.0 * values[1]
    x1 = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (t_grad,) = torch.autograd.grad(torch.log(x1) + x1 * 5.0 - math.sin(5.0), x1)
    assert adjoints[0] == pytest.approx(float(t_grad), rel=1e-12)
    assert single_chain != pytest.approx(adjoints[0])


@pytest.mark.catalog("D13")
def test_d13_gradient_step_needs_the_minus_sign():
    # 002 ends the section with w <- w + eps dL/dw; with L = y of D8 that step raises L.
    eps = 1e-3
    y = wg.d8_graph(2.0, 5.0)
    y.backward()
    x1, x2 = g.topological_order(y)[:2]
    step = {sign: wg.d8_graph(2.0 + sign * eps * float(x1.grad), 5.0 + sign * eps * float(x2.grad))
            for sign in (-1, +1)}
    assert float(step[-1].value) < float(y.value) < float(step[+1].value)


def test_forward_backward_rejects_bad_tapes():
    with pytest.raises(ValueError, match=r"unknown op 'sqrt'; valid choices: 'input', 'add'"):
        wg.forward_backward([wg.Step("input"), wg.Step("sqrt", (0,))], [1.0])
    with pytest.raises(ValueError, match=r"step 1 \(ln\) reads a later step"):
        wg.forward_backward([wg.Step("input"), wg.Step("ln", (1,))], [1.0])
    with pytest.raises(ValueError, match=r"step 1 \(ln\): math domain error"):
        wg.forward_backward([wg.Step("input"), wg.Step("ln", (0,))], [-1.0])


# ---- D1, D2: the chain rule of 000 ---------------------------------------------------------


@pytest.mark.catalog("D1")
def test_d1_scalar_chain_rule_is_one_path_product():
    # (f(g(x)))' = f'(g(x)) g'(x) with f = sin, g = x^2: cos(x^2) 2x, by hand.
    x = g.variable(0.7)
    y = g.sin(x**2)
    assert len(wg.paths(y, x)) == 1
    assert wg.sum_over_paths(y, x) == pytest.approx(math.cos(0.49) * 1.4, rel=1e-14)


@pytest.mark.catalog("D1")
def test_d1_multivariable_chain_rule_sums_over_paths_like_backward_and_torch():
    # 000: d/dx f(z1(x), z2(x), z3(x)) = sum_i df/dz_i dz_i/dx; f = z1 z2 + z3 here.
    x = g.variable(0.8)
    y = g.sin(x) * x**2 + g.exp(x)
    y.backward()
    tx = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    (t_grad,) = torch.autograd.grad(torch.sin(tx) * tx**2 + torch.exp(tx), tx)
    assert len(wg.paths(y, x)) == 3
    assert wg.sum_over_paths(y, x) == pytest.approx(float(t_grad), rel=1e-12)
    assert float(x.grad) == pytest.approx(float(t_grad), rel=1e-12)


@pytest.mark.catalog("D1")
def test_d1_sum_over_paths_on_d8_equals_the_adjoints():
    y = wg.d8_graph(2.0, 5.0)
    x1, x2 = g.topological_order(y)[:2]
    y.backward()
    assert wg.sum_over_paths(y, x1) == pytest.approx(float(x1.grad), rel=1e-14)
    assert wg.sum_over_paths(y, x2) == pytest.approx(float(x2.grad), rel=1e-14)


def test_d1_sum_over_paths_refuses_array_graphs():
    x = g.variable(np.ones(3))
    with pytest.raises(ValueError, match=r"sum_over_paths: needs a scalar graph"):
        wg.sum_over_paths(g.sum(x * 2.0), x)


def _t_unit(z, theta):
    return torch.tanh(theta * z)


@pytest.mark.catalog("D2")
def test_d2_simple_chain_product_equals_backward_and_torch(rng):
    x, thetas = rng.uniform(-1, 1), rng.uniform(-1.5, 1.5, size=4)
    result = wg.chain_simple(x, thetas)
    th = [torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in thetas]
    z = torch.tensor(x, dtype=torch.float64)
    for t in th:
        z = _t_unit(z, t)
    (t_grad,) = torch.autograd.grad(z, th[1])
    assert list(result.factors) == ["dy/dz3", "dz3/dz2", "dz2/dtheta2"]
    assert result.product == pytest.approx(float(t_grad), rel=1e-10)
    assert result.adjoint == pytest.approx(float(t_grad), rel=1e-10)


@pytest.mark.catalog("D2")
def test_d2_branched_example_theta3_has_one_path_theta2_needs_two(rng):
    x, thetas = rng.uniform(-1, 1), rng.uniform(-1.5, 1.5, size=9)
    result = wg.chain_branched(x, thetas)
    th = [torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in thetas]
    z1 = _t_unit(torch.tensor(x, dtype=torch.float64), th[0])
    z2 = _t_unit(z1, th[1])
    z3 = _t_unit(z2, th[2])
    z5 = _t_unit(_t_unit(z2, th[3]), th[4])
    z6 = torch.tanh(th[5] * (z3 + z5))
    y1 = _t_unit(_t_unit(z6, th[6]), th[7])
    d_theta3, d_theta2 = torch.autograd.grad(y1, (th[2], th[1]))
    assert result.product == pytest.approx(float(d_theta3), rel=1e-10)
    assert result.adjoint == pytest.approx(float(d_theta3), rel=1e-10)
    assert result.values["y1"] == pytest.approx(float(y1.detach()), rel=1e-12)
    # theta2 reaches y1 along two paths (via z3 and via z4 -> z5): the product along either
    # one alone is not the derivative, their sum is (D1). Factors by hand, tanh' = 1 - h^2.
    v, t = result.values, thetas
    common = result.factors["dy1/dz7"] * result.factors["dz7/dz6"] * v["z1"] * (1 - v["z2"] ** 2)
    via_z3 = common * result.factors["dz6/dz3"] * t[2] * (1 - v["z3"] ** 2)
    via_z5 = (common * t[5] * (1 - v["z6"] ** 2) * t[4] * (1 - v["z5"] ** 2)
              * t[3] * (1 - v["z4"] ** 2))
    assert via_z3 + via_z5 == pytest.approx(float(d_theta2), rel=1e-10)
    assert via_z3 != pytest.approx(float(d_theta2), rel=1e-6)


def test_d2_wrong_number_of_thetas_is_a_clear_error():
    with pytest.raises(ValueError, match=r"thetas must hold theta1\.\.theta4 \(4 numbers\), got 3"):
        wg.chain_simple(0.5, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"theta1\.\.theta9 \(9 numbers\), got 4"):
        wg.chain_branched(0.5, [1.0] * 4)


# ---- D8, D9, D10: the worked graphs --------------------------------------------------------

# Printed in 002 §4.2.2 (wrong; docs/errata.md D8): the adjoint of v5 ("w6b") as -1, and the
# input nodes' derivatives as 1.
D8_DOC_V5_ADJOINT = -1.0
D8_DOC_INPUT_ADJOINT = 1.0


@pytest.mark.catalog("D8")
def test_d8_values_and_adjoints_match_torch_and_hand_arithmetic():
    # 002 gives no point; (2, 5) is the point of Baydin et al. (2018), where the example is from.
    x1v, x2v = 2.0, 5.0
    y = wg.d8_graph(x1v, x2v)
    y.backward()
    records = g.trace(y)
    x1, x2 = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x1v, x2v))
    v2, v3, v4 = torch.log(x1), x1 * x2, torch.sin(x2)
    v5 = v2 + v3
    v6 = v5 - v4
    t_nodes = [x1, x2, v2, v3, v4, v5, v6]
    t_adj = torch.autograd.grad(v6, t_nodes)
    assert_close(np.array([float(r.value) for r in records]),
                 np.array([float(t.detach()) for t in t_nodes]))
    adjoints = np.array([float(r.adjoint) for r in records])
    assert_close(adjoints, np.array([float(a) for a in t_adj]))
    hand = [1 / x1v + x2v, x1v - math.cos(x2v), 1.0, 1.0, -1.0, 1.0, 1.0]
    assert_close(adjoints, np.array(hand))
    assert round(float(records[6].value), 3) == 11.652
    assert adjoints[5] != D8_DOC_V5_ADJOINT
    assert adjoints[0] != D8_DOC_INPUT_ADJOINT and adjoints[1] != D8_DOC_INPUT_ADJOINT


@pytest.mark.catalog("D9")
def test_d9_upstream_times_local_gradient_matches_torch():
    # 003: f = (x + y) z at x = -2, y = 5, z = -4, with q = x + y.
    f = wg.d9_graph(-2.0, 5.0, -4.0)
    f.backward()
    rec = {r.name: r for r in g.trace(f)}
    x, y, z = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    q = x + y
    t_f = q * z
    t_grads = torch.autograd.grad(t_f, (x, y, z, q))
    assert float(rec["q"].value) == float(q.detach()) and float(f.value) == float(t_f.detach())
    for name, t_grad in zip("xyzq", t_grads, strict=True):
        assert float(rec[name].adjoint) == pytest.approx(float(t_grad), rel=1e-15)
    # "upstream gradient x local gradient": df/dx = df/dq * dq/dx, df/dq = z (local of f).
    fq, fz = g.trace(f)[-1].local_grads
    assert float(fq) == -4.0 and float(fz) == 3.0
    assert float(rec["x"].adjoint) == float(rec["q"].adjoint) * float(rec["q"].local_grads[0])


def _torch_neuron(w, x):
    """sigmoid(w0 x0 + w1 x1 + w2 x2), or w2 as a bias when x has 2 entries, in torch."""
    w = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in w]
    x = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in x]
    z = w[0] * x[0] + w[1] * x[1] + (w[2] * x[2] if len(x) == 3 else w[2])
    out = torch.nn.Sigmoid()(z)
    grads = torch.autograd.grad(out, w + x)
    names = [f"w{i}" for i in range(3)] + [f"x{i}" for i in range(len(x))]
    grad_of = dict(zip(names, (float(t) for t in grads), strict=True))
    return float(z.detach()), float(out.detach()), grad_of


@pytest.mark.catalog("D10")
@pytest.mark.parametrize("x", [[-1.0, -2.0, -2.0], [-1.0, -2.0]], ids=["printed", "bias"])
def test_d10_sigmoid_neuron_from_gates_matches_torch_sigmoid(x):
    w = [2.0, -3.0, -3.0]
    out = wg.d10_sigmoid_neuron(w, x)
    out.backward()
    rec = {r.name: r for r in g.trace(out)}
    t_z, t_out, t_grads = _torch_neuron(w, x)
    assert float(rec["z"].value) == t_z
    assert float(out.value) == pytest.approx(t_out, rel=1e-15)
    for name, t_grad in t_grads.items():
        assert float(rec[name].adjoint) == pytest.approx(t_grad, rel=1e-12, abs=1e-15)


@pytest.mark.catalog("D10")
def test_d10_printed_reading_sums_to_10_but_outputs_0_99995_not_0_98():
    out = wg.d10_sigmoid_neuron([2.0, -3.0, -3.0], [-1.0, -2.0, -2.0])
    out.backward()
    rec = {r.name: r for r in g.trace(out)}
    z = float(rec["z"].value)
    assert z == -2.0 + 6.0 + 6.0 == 10.0  # the notes' sum 10.00 is right
    expected = 1 / (1 + math.exp(-10.0))  # hand arithmetic: 0.9999546
    assert float(out.value) == pytest.approx(expected, rel=1e-15)
    assert round(float(out.value), 2) == 1.0 != 0.98  # the notes print 0.98 (docs/errata.md)
    # Every gradient is sigma'(10) = 4.5e-5 times a weight or input, not the printed -0.20.
    assert abs(float(rec["w0"].adjoint)) < 1e-4


@pytest.mark.catalog("D10")
def test_d10_classic_bias_reading_reproduces_073_and_the_gate_gradients():
    out = wg.d10_sigmoid_neuron([2.0, -3.0, -3.0], [-1.0, -2.0])
    out.backward()
    rec = {r.name: r for r in g.trace(out)}
    s = 1 / (1 + math.exp(-1.0))  # z = -2 + 6 - 3 = 1, by hand
    assert round(float(out.value), 2) == 0.73
    rounded = {k: round(float(rec[k].adjoint), 2) for k in ("w0", "x0", "w1", "x1", "w2")}
    assert rounded == {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    assert float(rec["w2"].adjoint) == pytest.approx(s * (1 - s), rel=1e-14)
    # The classic diagram's gate adjoints, from the output back: 1/x, +1, exp, *(-1), then z.
    gates = [round(float(r.adjoint), 2) for r in g.trace(out)[-4:]]
    assert gates[::-1] == [1.0, -0.53, -0.53, -0.20] and round(float(rec["z"].adjoint), 2) == 0.2


@pytest.mark.catalog("D10")
def test_d10_local_gradient_table_matches_torch_for_each_gate():
    # 003's table: e^x -> e^x, a x -> a, 1/x -> -1/x^2, c + x -> 1, at the gate inputs of the
    # classic reading (z = 1): *(-1) at 1, exp at -1, +1 at e^-1, 1/x at 1 + e^-1.
    out = wg.d10_sigmoid_neuron([2.0, -3.0, -3.0], [-1.0, -2.0])
    gates = {r.op: r for r in g.trace(out)[-4:]}
    by_op = {
        "mul": (lambda t: -1.0 * t, 1.0, 1),  # a x with a = -1: slot 1 is x (slot 0 is a)
        "exp": (torch.exp, -1.0, 0),
        "add": (lambda t: 1.0 + t, math.exp(-1.0), 1),
        "div": (lambda t: 1.0 / t, 1.0 + math.exp(-1.0), 1),
    }
    for op, (t_fn, at, slot) in by_op.items():
        t = torch.tensor(at, dtype=torch.float64, requires_grad=True)
        (t_local,) = torch.autograd.grad(t_fn(t), t)
        assert float(gates[op].local_grads[slot]) == pytest.approx(float(t_local), rel=1e-14)
    assert float(gates["div"].value) == pytest.approx(1 / (1 + math.exp(-1.0)), rel=1e-15)


def test_d10_needs_three_weights_and_two_or_three_inputs():
    with pytest.raises(ValueError, match=r"need 3 weights and 2 or 3 inputs, got 3 and 1"):
        wg.d10_sigmoid_neuron([1.0, 2.0, 3.0], [1.0])



# ---- the ops verify's second edition added --------------------------------------------------

# name: (scratch op, torch op written independently, input domain)
UNARY_2 = {
    "log2": (g.log2, torch.log2, "pos"),
    "log10": (g.log10, torch.log10, "pos"),
    "sinh": (g.sinh, torch.sinh, "any"),
    "cosh": (g.cosh, torch.cosh, "any"),
    "arcsin": (g.arcsin, torch.asin, "small"),
    "arccos": (g.arccos, torch.acos, "small"),
    "arctan": (g.arctan, torch.atan, "any"),
    "erf": (g.erf, torch.erf, "any"),
    "gelu": (g.gelu, F.gelu, "any"),
    "softplus": (g.softplus, lambda t: torch.log1p(torch.exp(t)), "any"),
    "step": (_act("step"), lambda t: (t > 0).to(t.dtype) + 0 * t, "any"),
    "sign": (_act("sign"), torch.sign, "any"),
    "softmax": (g.softmax, lambda t: torch.softmax(t, dim=-1), "any"),
    "log_softmax": (g.log_softmax, lambda t: torch.log_softmax(t, dim=-1), "any"),
    "transpose": (g.transpose, lambda t: t.T if t.ndim == 2 else t * 1, "any"),
}


@pytest.mark.catalog("D13")
@pytest.mark.parametrize("shape", [(3,), (2, 3)])
@pytest.mark.parametrize("name", UNARY_2)
def test_added_unary_op_value_and_adjoint_match_torch_autograd(name, shape, dtype, rng):
    _check_unary(*UNARY_2[name], shape, dtype, rng)


# name: (scratch op, torch op, domains of the operands); every shape pair broadcasts
NARY_2 = {
    "maximum": (g.maximum, torch.maximum, ("any", "any")),
    "minimum": (g.minimum, torch.minimum, ("any", "any")),
    "clip": (g.clip, torch.clamp, ("any", "small", "small")),
    "where": (lambda c, a, b: g.where(g.gt(c, 0.0), a, b),
              lambda c, a, b: torch.where(c > 0, a, b), ("any", "any", "any")),
    "prelu": (g.prelu, lambda x, a: F.prelu(x, a.reshape(1)), ("any", "pos")),
}


@pytest.mark.catalog("D13")
@pytest.mark.parametrize("shapes", [((3,), (3,), (3,)), ((2, 3), (3,), ()), ((), (), ())], ids=str)
@pytest.mark.parametrize("name", NARY_2)
def test_added_nary_op_broadcasts_and_matches_torch(name, shapes, dtype, rng):
    s_fn, t_fn, domains = NARY_2[name]
    shapes = shapes[: len(domains)]
    if name == "prelu":
        shapes = (shapes[0], ())  # one shared alpha, as nn.PReLU()
    values = [_sample(rng, s, d, dtype) for s, d in zip(shapes, domains, strict=True)]
    if name == "clip":
        values[1], values[2] = values[1] - 1, values[2] + 1  # lo <= hi
    s_leaves = [g.variable(v) for v in values]
    t_leaves = [to_torch(v, True) for v in values]
    k = 1 if name == "where" else 0  # no derivative reaches a condition, in either engine
    _check_parity(s_fn(*s_leaves), s_leaves[k:], t_fn(*t_leaves), t_leaves[k:], rng, dtype)
    assert k == 0 or not np.any(s_leaves[0].grad)


LINALG_2 = {
    "outer": (lambda a, b: g.outer(a, b), torch.outer, ((3,), (2,))),
    "diag of a vector": (lambda a: g.diag(a), torch.diag, ((3,),)),
    "diag of a matrix": (lambda a: g.diag(a), torch.diag, ((2, 3),)),
    "index w[1]": (lambda a: a[1], lambda t: t[1], ((3,),)),
    "index W[1, -1]": (lambda a: a[1, -1], lambda t: t[1, -1], ((2, 3),)),
    "index W[:, 0]": (lambda a: a[:, 0], lambda t: t[:, 0], ((2, 3),)),
    "matrix.T @ vector": (lambda a, b: a.T @ b, lambda a, b: a.T @ b, ((2, 3), (2,))),
    "scalar @ matrix": (lambda a, b: a @ b, lambda a, b: a * b, ((), (2, 3))),
    "max over all": (lambda a: g.max(a), torch.amax, ((2, 3),)),
    "min over axis 0": (lambda a: g.min(a, axis=0), lambda t: torch.amin(t, dim=0), ((2, 3),)),
    "max over axis -1": (lambda a: g.max(a, axis=-1), lambda t: torch.amax(t, dim=-1), ((2, 3),)),
    "norm": (g.norm, torch.linalg.vector_norm, ((2, 3),)),
    "logsumexp axis 0": (lambda a: g.logsumexp(a, axis=0), lambda t: torch.logsumexp(t, 0),
                         ((2, 3),)),
    "softmax axis 0": (lambda a: g.softmax(a, axis=0), lambda t: torch.softmax(t, 0), ((2, 3),)),
    "cross_entropy rows": (g.cross_entropy, F.cross_entropy, ((2, 3), (2, 3))),
    "cross_entropy one": (g.cross_entropy, F.cross_entropy, ((3,), (3,))),
    "mse": (g.mse, F.mse_loss, ((2, 3), (2, 3))),
}


@pytest.mark.catalog("D13")
@pytest.mark.parametrize("name", LINALG_2)
def test_added_vector_op_matches_torch(name, dtype, rng):
    s_fn, t_fn, shapes = LINALG_2[name]
    values = [_sample(rng, s, "any", dtype) for s in shapes]
    if name.startswith("cross_entropy"):
        values[1] = np.abs(values[1])  # class probabilities (need not sum to 1)
    s_leaves = [g.variable(v) for v in values]
    t_leaves = [to_torch(v, True) for v in values]
    _check_parity(s_fn(*s_leaves), s_leaves, t_fn(*t_leaves), t_leaves, rng, dtype)


@pytest.mark.catalog("C2")
def test_bce_value_and_both_adjoints_match_torch(dtype, rng):
    p, t = rng.uniform(0.05, 0.95, (2, 3)).astype(dtype), rng.uniform(0, 1, (2, 3)).astype(dtype)
    sp_, st = g.variable(p), g.variable(t)
    tp, tt = to_torch(p, True), to_torch(t, True)
    _check_parity(g.bce(sp_, st), [sp_, st], F.binary_cross_entropy(tp, tt), [tp, tt], rng, dtype)


def test_logsumexp_is_exact_past_the_exp_overflow_point():
    # log(e^1000 + e^1000.5) = 1000.5 + log(1 + e^-0.5), by hand; e^1000 alone overflows.
    z = g.variable(np.array([1000.0, 1000.5]))
    y = g.logsumexp(z)
    y.backward()
    assert float(y.value) == pytest.approx(1000.5 + math.log1p(math.exp(-0.5)), rel=1e-15)
    assert_close(z.grad, np.array([1, math.exp(0.5)]) / (1 + math.exp(0.5)))


# Each kink at the exact point: the scratch engine must return what torch autograd returns.
KINKS = {
    "abs at 0": (lambda a: g.abs(a), torch.abs, [[0.0, -1.0, 2.0]]),
    "relu at 0": (lambda a: g.relu(a), torch.relu, [[0.0, -1.0, 2.0]]),
    "leaky_relu at 0": (_act("leaky_relu"), lambda t: F.leaky_relu(t, 0.01), [[0.0, -1.0]]),
    "elu at 0": (_act("elu"), F.elu, [[0.0, -1.0]]),
    "step at 0": (_act("step"), lambda t: torch.sign(torch.relu(t)), [[0.0, 1.0]]),
    "sign at 0": (_act("sign"), torch.sign, [[0.0, 1.0]]),
    "prelu at 0": (g.prelu, lambda x, a: F.prelu(x, a.reshape(1)), [[0.0, -1.0, 2.0], 0.25]),
    "maximum tie": (g.maximum, torch.maximum, [[1.0, 2.0], [1.0, 3.0]]),
    "minimum tie": (g.minimum, torch.minimum, [[1.0, 2.0], [1.0, 3.0]]),
    "max tie": (lambda a: g.max(a), torch.amax, [[1.0, 3.0, 3.0]]),
    "min tie over an axis": (lambda a: g.min(a, axis=1), lambda t: torch.amin(t, dim=1),
                             [[[1.0, 1.0, 2.0], [0.0, 4.0, 0.0]]]),
    "clip at both bounds": (g.clip, torch.clamp, [[0.0, 2.0, 1.0, -1.0, 3.0],
                                                  [0.0, 0.0, 0.0, 0.0, 0.0],
                                                  [2.0, 2.0, 2.0, 2.0, 2.0]]),
    "norm at 0": (g.norm, torch.linalg.vector_norm, [[0.0, 0.0]]),
    "x**0 at 0": (lambda a: a**0, lambda t: t**0, [[0.0, 2.0]]),
    "where at the boundary": (lambda a: g.where(g.ge(a, 0.0), a * a, -a),
                              lambda t: torch.where(t >= 0, t * t, -t), [[0.0, -1.0]]),
}


@pytest.mark.catalog("A11")
@pytest.mark.parametrize("name", KINKS)
def test_kink_takes_torch_autograds_choice(name):
    s_fn, t_fn, values = KINKS[name]
    arrays = [np.array(v, dtype=np.float64) for v in values]
    s_leaves = [g.variable(a) for a in arrays]
    t_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    s_out, t_out = s_fn(*s_leaves), t_fn(*t_leaves)
    assert_close(s_out.value, t_out)
    g.backward(g.sum(s_out))
    t_grads = torch.autograd.grad(t_out.sum(), t_leaves)
    for leaf, t_grad in zip(s_leaves, t_grads, strict=True):
        np.testing.assert_array_equal(leaf.grad, t_grad.numpy())


def test_constants_and_comparisons_carry_no_adjoint_like_torch():
    x = g.variable(2.0, "x")
    two_pi = g.mul(2.0, g.const(math.pi))  # an op on constants is a constant
    y = g.where(g.gt(x, 0.0), two_pi * x, x)
    y.backward()
    assert not two_pi.requires_grad and two_pi.grad is None
    assert float(x.grad) == pytest.approx(2 * math.pi, rel=1e-15)
    cmp = y.parents[0]
    assert cmp.op == "gt" and not cmp.requires_grad and cmp.grad is None


@pytest.mark.parametrize(
    "make, value, grad",
    [
        (lambda x: x ** g.neg(1.0), -0.5, -0.25),  # x**-1 at -2: the exponent is a constant
        (lambda x: x ** g.div(4.0, 2.0), 4.0, -4.0),  # x**(4/2) at -2
        (lambda x: x ** 3.0, -8.0, 12.0),
    ],
)
def test_constant_exponent_written_as_an_expression_allows_a_negative_base(make, value, grad):
    x = g.variable(-2.0)
    y = make(x)
    y.backward()
    assert float(y.value) == value and float(x.grad) == grad


def test_backward_with_a_cut_edge_drops_exactly_that_path():
    # y = x * sin(x): dy/dx = sin x + x cos x; cutting the mul's slot 0 leaves x cos x.
    x = g.variable(0.7)
    s = g.sin(x)
    y = x * s
    g.backward(y, cut=[(y, 0)])
    assert float(x.grad) == pytest.approx(0.7 * math.cos(0.7), rel=1e-15)
    g.backward(y)
    assert float(x.grad) == pytest.approx(math.sin(0.7) + 0.7 * math.cos(0.7), rel=1e-15)


def test_trace_keeps_a_users_name_v1_apart_from_the_numbered_nodes():
    v1 = g.variable(1.0, "v1")
    y = g.exp(v1) + v1
    names = [r.name for r in g.trace(y)]
    assert names.count("v1") == 1 and len(set(names)) == len(names)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: g.arcsin(g.variable(1.0)), r"arcsin: input must be in \(-1, 1\), got 1\.0"),
        (lambda: g.bce(g.variable(0.0), g.variable(1.0)), r"bce: input must be a probability"),
        (lambda: g.bce(g.variable(0.5), g.variable(1.5)), r"bce: input must be a target in"),
        (lambda: g.clip(g.variable(1.0), 2.0, 1.0), r"clip: input must be lo <= hi"),
        (lambda: g.prelu(g.variable(np.ones(2)), np.ones(2)), r"prelu: alpha must be a scalar"),
        (lambda: g.variable(np.ones(3))[3], r"index: index 3 is out of bounds for axis 0"),
        (lambda: g.sum(g.variable(np.ones(3)), axis=1), r"sum: axis 1 is out of range"),
        (lambda: g.outer(g.variable(np.ones((2, 2))), np.ones(2)), r"outer: needs two vectors"),
        (lambda: g.softmax(g.variable(1.0)), r"softmax: needs a vector or a matrix"),
        (lambda: g.mse(g.variable(np.ones(2)), np.ones(3)), r"mse: needs two non-empty"),
        (lambda: g.variable(0.0) ** -1.0, r"pow: input must be nonzero for an exponent below 1"),
        (lambda: g.sinh(g.variable(1000.0)), r"sinh: overflow encountered"),
        (lambda: g.backward(g.const(1.0)), r"backward: the output does not depend on any"),
        # Squares past 1e154 overflow: an error, not a silent inf with a zero gradient.
        (lambda: g.norm(g.variable(np.array([1e200, 1e200]))), r"norm: overflow encountered"),
        (lambda: g.variable(1.0, "x", batched=True), r"x: a batch needs a points axis"),
        # (3,) would broadcast against the points axis of (3, 2): refused, not misaligned.
        (lambda: g.variable(np.ones((3, 2)), batched=True) + np.ones(3),
         r"a batch of points meets an array without the points axis, got a\(3, 2\) "
         r"\(batched\) and b\(3,\)"),
    ],
)
def test_added_ops_refuse_bad_input_with_a_clear_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()

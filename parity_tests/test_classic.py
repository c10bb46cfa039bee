"""Threshold logic, separability, the perceptron, Hebbian rules, feed-forward vs recurrent and
the inhibitory unit (catalog A1, A9, B8, E1-E10): `scratch.classic` vs `torchref.classic`.

Every truth table is checked against Python's own Boolean operators (an independent oracle),
for the scratch function and the torch module, in float64 and float32. Separability answers
are self-certifying (a hyperplane, or multipliers that prove none exists) and each test checks
the certificate itself. Worked examples of 003/002 are recomputed; where the document's printed
value differs, the test pins the computed one and docs/errata.md (section E) says why.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parity_tests.helpers import TORCH_DTYPE, assert_close, to_numpy, to_torch
from scratch import classic as sc
from torchref import classic as tc
from torchref.mlp import MLP, to_numpy_params

ROOT = Path(__file__).resolve().parents[1]
ROWS2 = [(0, 0), (0, 1), (1, 0), (1, 1)]


def _binary_rows(n: int, dtype) -> np.ndarray:
    return sc.truth_table_inputs(n).astype(dtype)


def _cross(u, v) -> float:
    """z-component of the cross product of two 2-D vectors (twice a triangle's area)."""
    return float(u[0] * v[1] - u[1] * v[0])


def _zeros(n: int) -> torch.Tensor:
    return torch.zeros(n, dtype=torch.float64)


def _trace_rows(lines: list[str]) -> list[str]:
    """The table rows of the CLI's output: first token an integer, 10 or more cells."""
    return [line for line in lines if line.split()[:1] and line.split()[0].isdigit()
            and len(line.split()) >= 10]


# ---- A1 / A9: the threshold unit ---------------------------------------------------------------


@pytest.mark.catalog("A1")
def test_btu_matches_torch_btu_and_the_strict_inequality(rng, dtype):
    x = rng.normal(size=(50, 3)).astype(dtype)
    w = rng.normal(size=3)
    b = float(rng.normal())
    ours = sc.btu(x, w, b)
    theirs = tc.BTU(w.tolist(), b, TORCH_DTYPE[dtype])(to_torch(x))
    oracle = (x.astype(np.float64) @ w + b > 0).astype(dtype)
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours, oracle)
    np.testing.assert_array_equal(to_numpy(theirs), oracle)


@pytest.mark.catalog("A1")
def test_btu_outputs_zero_exactly_on_the_threshold_in_both_rooms(dtype):
    # w.x + b = 0 exactly: the notes' strict inequality 1{. > 0} gives 0, not 1.
    x = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 0.0]], dtype=dtype)
    w, b = [1.0, 1.0], -2.0
    np.testing.assert_array_equal(sc.btu(x, w, b), [0.0, 0.0, 0.0])
    unit = tc.BTU(w, b, TORCH_DTYPE[dtype])
    np.testing.assert_array_equal(to_numpy(unit(to_torch(x))), [0, 0, 0])


@pytest.mark.catalog("A1")
def test_btu_layer_matches_linear_then_step(rng, dtype):
    x = rng.normal(size=(20, 4)).astype(dtype)
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=3)
    lin = torch.nn.Linear(4, 3, dtype=TORCH_DTYPE[dtype])
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(W))
        lin.bias.copy_(torch.tensor(b))
    expected = to_numpy(tc.Step()(lin(to_torch(x))))
    np.testing.assert_array_equal(sc.btu_layer(x, W, b), expected)


def test_btu_rejects_mismatched_shapes_with_a_clear_message():
    with pytest.raises(ValueError, match=r"x and w must agree on the input dimension"):
        sc.btu(np.zeros((2, 3)), np.zeros(2), 0.0)
    with pytest.raises(ValueError, match=r"x \(N, d\), W \(H, d\) and b \(H,\) do not agree"):
        sc.btu_layer(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(TypeError, match=r"b must be a real number"):
        sc.btu(np.zeros((2, 2)), np.zeros(2), "1")


# ---- E4: logic gates -----------------------------------------------------------------------------

GATES = {
    "AND": (sc.AND, lambda a, b: a and b),
    "OR": (sc.OR, lambda a, b: a or b),
    "NAND": (sc.NAND, lambda a, b: not (a and b)),
    "EDIBLE": (sc.EDIBLE, lambda purple, round_: purple and round_),
}


@pytest.mark.catalog("E4")
@pytest.mark.parametrize("name", sorted(GATES))
def test_two_input_gate_truth_tables_in_scratch_and_torch(name, dtype):
    unit, oracle = GATES[name]
    X = _binary_rows(2, dtype)
    expected = np.array([float(oracle(bool(a), bool(b))) for a, b in ROWS2])
    np.testing.assert_array_equal(sc.btu(X, unit.weights, unit.b), expected)
    module = tc.gate(name, TORCH_DTYPE[dtype])
    np.testing.assert_array_equal(to_numpy(module(to_torch(X))), expected)


@pytest.mark.catalog("E4")
def test_not_gate_truth_table_in_scratch_and_torch(dtype):
    X = _binary_rows(1, dtype)
    np.testing.assert_array_equal(sc.btu(X, sc.NOT.weights, sc.NOT.b), [1.0, 0.0])
    np.testing.assert_array_equal(to_numpy(tc.gate("NOT", TORCH_DTYPE[dtype])(to_torch(X))), [1, 0])


@pytest.mark.catalog("E4")
def test_edible_unit_eats_only_purple_round_things():
    # 003: purple and round -> eat; a golf ball (round, not purple) -> no; purple, not round -> no.
    purple = np.array([1.0, 0.0, 1.0, 0.0])
    round_ = np.array([1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(sc.edible(purple, round_), [1.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"purple and round_ must have the same shape"):
        sc.edible(purple, round_[:3])


@pytest.mark.catalog("E4")
@settings(max_examples=30)
@given(
    w=st.lists(st.integers(-3, 3), min_size=1, max_size=3),
    b=st.integers(-4, 4),
)
def test_negating_a_units_weights_and_bias_inverts_it_off_the_threshold(w, b):
    # Integer weights with a half-integer bias: no binary input lands on the threshold.
    unit = sc.Unit(tuple(float(v) for v in w), b + 0.5)
    X = _binary_rows(len(w), np.float64)
    y = sc.btu(X, unit.weights, unit.b)
    inv = sc.invert_unit(unit)
    np.testing.assert_array_equal(sc.btu(X, inv.weights, inv.b), 1 - y)
    torch_inv = tc.BTU(list(unit.w), unit.b).inverted()
    np.testing.assert_array_equal(to_numpy(torch_inv(to_torch(X))), 1 - y)


@pytest.mark.catalog("E4")
def test_inversion_fails_exactly_on_the_threshold():
    # The caveat of invert_unit: at w.x + b = 0 both the unit and its negation output 0.
    unit = sc.Unit((1.0, -1.0), 0.0)
    X = np.array([[1.0, 1.0]])
    inv = sc.invert_unit(unit)
    assert sc.btu(X, unit.weights, unit.b)[0] == 0.0
    assert sc.btu(X, inv.weights, inv.b)[0] == 0.0


@pytest.mark.catalog("E4")
def test_nand_is_the_inverted_and_unit():
    assert sc.invert_unit(sc.AND) == sc.NAND


# ---- E6: XOR with step units (002 §4.1.3) ----------------------------------------------------


@pytest.mark.catalog("A9", "E6")
def test_xor_net_truth_table_and_hidden_units_in_scratch_and_torch(dtype):
    X = _binary_rows(2, dtype)
    y, h = sc.threshold_net_forward(sc.xor_net(), X)
    ty, th = tc.xor_net(TORCH_DTYPE[dtype])(to_torch(X))
    expected_y = [float(bool(a) != bool(b)) for a, b in ROWS2]
    expected_h = [[float(a or b), float(a and b)] for a, b in ROWS2]  # h1 = OR, h2 = AND (002)
    for got_y, got_h in ((y, h), (to_numpy(ty), to_numpy(th))):
        np.testing.assert_array_equal(got_y, expected_y)
        np.testing.assert_array_equal(got_h, expected_h)


# 002 §4.1.3's table, column "h1 - h2 - 0.5", rows 00, 01, 10, 11, as printed.
DOC_XOR_OUTPUT_SUM = [-0.5, 0.5, 0.5, -1.5]


@pytest.mark.catalog("E6")
def test_xor_table_row_11_output_sum_is_minus_half_not_the_documents_minus_1_5():
    X = _binary_rows(2, np.float64)
    _, h = sc.threshold_net_forward(sc.xor_net(), X)
    net = sc.xor_net()
    z = h @ net.W2[0] + net.b2[0]
    # Hand arithmetic for row 11: h1 = h2 = 1, so 1 - 1 - 0.5.
    assert z[3] == 1 - 1 - 0.5 == -0.5
    assert z[3] != DOC_XOR_OUTPUT_SUM[3]  # erratum E6: the document prints -1.5
    np.testing.assert_array_equal(z[:3], DOC_XOR_OUTPUT_SUM[:3])  # the other rows agree
    # Either value gives y = 0, so the printed truth table's y column is right.


# ---- E7: IFF three ways (003) ------------------------------------------------------------------

@pytest.mark.catalog("A9", "E7")
@pytest.mark.parametrize("hidden", [4, 2, 1])
def test_iff_net_truth_table_in_scratch_and_torch(hidden, dtype):
    X = _binary_rows(2, dtype)
    expected = [float(bool(a) == bool(b)) for a, b in ROWS2]
    net = sc.iff_net(hidden)
    y, h = sc.threshold_net_forward(net, X)
    ty, th = tc.iff_net(hidden, TORCH_DTYPE[dtype])(to_torch(X))
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(to_numpy(ty), expected)
    assert h.shape == (4, hidden) and th.shape == (4, hidden)
    np.testing.assert_array_equal(to_numpy(th), h)
    # Only the one-unit construction needs the direct input-output connections.
    assert (net.V is not None) == (hidden == 1)


@pytest.mark.catalog("E7")
def test_iff_with_two_hidden_units_reuses_the_xor_hidden_layer():
    # 003: "the hidden unit need not change its role; to invert, negate the output weights".
    iff, xor = sc.iff_net(2), sc.xor_net()
    np.testing.assert_array_equal(iff.W1, xor.W1)
    np.testing.assert_array_equal(iff.b1, xor.b1)
    np.testing.assert_array_equal(iff.W2, -xor.W2)


@pytest.mark.catalog("E7")
@pytest.mark.parametrize("n", [1, 2, 3])
def test_construction_theorem_net_computes_every_boolean_function(n):
    rows, outputs = sc.boolean_functions(n)
    for out in outputs:
        y, _ = sc.threshold_net_forward(sc.construction_theorem_net(out), rows)
        np.testing.assert_array_equal(y, out)


@pytest.mark.catalog("E7")
def test_torch_construction_theorem_net_matches_scratch_on_all_16_functions():
    rows, outputs = sc.boolean_functions(2)
    for out in outputs:
        table = "".join(str(int(v)) for v in out)
        ty, th = tc.construction_theorem_net(table)(to_torch(rows))
        y, h = sc.threshold_net_forward(sc.construction_theorem_net(table), rows)
        np.testing.assert_array_equal(to_numpy(ty), y)
        np.testing.assert_array_equal(to_numpy(th), h)


def test_threshold_nets_and_gates_reject_bad_weights_and_names():
    with pytest.raises(ValueError, match=r"W1 must have 2 dimension\(s\), got shape \(2,\)"):
        sc.ThresholdNet(np.ones(2), np.ones(1), np.ones((1, 1)), np.ones(1))
    with pytest.raises(ValueError, match=r"expected W1 \(H, d\), b1 \(H,\), W2 \(1, H\)"):
        sc.ThresholdNet(np.ones((2, 2)), np.ones(3), np.ones((1, 2)), np.ones(1))
    with pytest.raises(ValueError, match=r"x must have 2 columns, got x\(4, 3\)"):
        sc.threshold_net_forward(sc.xor_net(), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"unknown gate 'XOR'; valid choices: 'AND', 'OR'"):
        tc.gate("XOR")
    with pytest.raises(ValueError, match=r"W2 must have shape \(1, 2\)"):
        tc.ThresholdNet([[1.0, 1.0], [1.0, 1.0]], [0.0, 0.0], [[1.0, 1.0, 1.0]], [0.0])


def test_construction_theorem_rejects_tables_that_are_not_2_to_the_n_bits():
    with pytest.raises(ValueError, match=r"outputs must hold 2\^n values"):
        sc.construction_theorem_net("101")
    with pytest.raises(ValueError, match=r"outputs must be a string of 0s and 1s"):
        sc.construction_theorem_net("10a1")
    with pytest.raises(ValueError, match=r"outputs must hold 2\^n values"):
        tc.construction_theorem_net("101")
    with pytest.raises(ValueError, match=r"hidden must be one of \(4, 2, 1\)"):
        tc.iff_net(3)
    with pytest.raises(ValueError, match=r"hidden must be one of \(4, 2, 1\)"):
        sc.iff_net(3)


# ---- E5 / E10: linear separability ----------------------------------------------------------


def _check_answer(X, y, res: sc.Separability) -> None:
    """Verify the separability answer from its own certificate, independently of the LP."""
    X = np.asarray(X, dtype=np.float64)
    s = 2 * np.asarray(y, dtype=np.float64) - 1
    if res.separable:
        margins = s * (X @ res.w + res.b)
        assert margins.min() >= 1 - 1e-7
        np.testing.assert_array_equal(sc.btu(X, res.w, res.b), y)
    else:
        lam = res.certificate
        assert lam.min() >= 0 and abs(lam.sum() - 1) < 1e-9
        # sum_i lam_i s_i (x_i, 1) = 0: no (w, b) can make every s_i (w.x_i + b) positive.
        A = s[:, None] * np.hstack([X, np.ones((len(X), 1))])
        np.testing.assert_allclose(lam @ A, 0, atol=1e-9)
        # The common point lies in both classes' convex hulls (weights 1/2 per class).
        assert abs(lam[s > 0].sum() - 0.5) < 1e-9
        np.testing.assert_allclose(res.common_point, 2 * lam[s < 0] @ X[s < 0], atol=1e-9)


@pytest.mark.catalog("E5")
def test_xor_is_not_linearly_separable_and_the_hulls_meet_at_the_centre():
    X = _binary_rows(2, np.float64)
    res = sc.linear_separability(X, [0, 1, 1, 0])
    assert not res.separable
    _check_answer(X, [0, 1, 1, 0], res)
    assert_close(res.common_point, [0.5, 0.5], atol=1e-9)
    assert "not linearly separable" in res.message


@pytest.mark.catalog("E5")
@settings(max_examples=40)
@given(w1=st.floats(-10, 10), w2=st.floats(-10, 10), b=st.floats(-10, 10))
def test_the_four_xor_inequalities_of_003_are_contradictory(w1, w2, b):
    # 003's algebraic proof: no (w1, w2, b) satisfies all four BTU constraints of XOR.
    holds = [0 * w1 + 0 * w2 + b <= 0, w2 + b > 0, w1 + b > 0, w1 + w2 + b <= 0]
    assert not all(holds)


@pytest.mark.catalog("E5")
@pytest.mark.parametrize("labels", [[0, 0, 0, 1], [0, 1, 1, 1]], ids=["AND", "OR"])
def test_and_and_or_are_separable_with_a_btu_hyperplane(labels):
    X = _binary_rows(2, np.float64)
    res = sc.linear_separability(X, labels)
    assert res.separable
    _check_answer(X, labels, res)


@pytest.mark.catalog("E5")
@settings(max_examples=25)
@given(
    pts=st.lists(
        st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=3, max_size=3
    ),
)
def test_every_labeling_of_three_points_in_general_position_is_separable(pts):
    P = np.array(pts)
    area = abs(_cross(P[1] - P[0], P[2] - P[0]))
    assume(area > 1e-2)  # general position: not collinear
    for labels in np.ndindex(2, 2, 2):
        y = np.array(labels, dtype=np.float64)
        res = sc.linear_separability(P, y)
        assert res.separable
        _check_answer(P, y, res)


@pytest.mark.catalog("E5")
@settings(max_examples=25)
@given(pts=st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=4, max_size=4))
def test_four_points_in_general_position_always_have_a_non_separable_labeling(pts):
    # 003: "how many points at least for a training set that is not separable? 4" (Radon).
    P = np.array(pts)
    for i, j, k in [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]:
        assume(abs(_cross(P[j] - P[i], P[k] - P[i])) > 1e-1)
    labels = sc.radon_partition(P)
    res = sc.linear_separability(P, labels)
    assert not res.separable
    _check_answer(P, labels, res)


@pytest.mark.catalog("E5")
@settings(max_examples=30)
@given(
    n=st.integers(2, 12),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**31),
)
def test_separability_answers_carry_a_valid_certificate_on_random_sets(n, d, seed):
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, d)) * 10 ** g.uniform(-2, 2)
    y = g.integers(0, 2, n).astype(np.float64)
    _check_answer(X, y, sc.linear_separability(X, y))


@pytest.mark.catalog("E5")
def test_separability_rejects_bad_labels_and_shapes():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"y must hold labels in \{0, 1\}"):
        sc.linear_separability(X, [0, 2, 1])
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        sc.linear_separability(X, [0, 1])
    with pytest.raises(ValueError, match=r"X must be finite"):
        sc.linear_separability([[0.0, np.nan]], [1])
    with pytest.raises(ValueError, match=r"points must be d \+ 2 = 4 points in R\^2"):
        sc.radon_partition(np.zeros((3, 2)))


@pytest.mark.catalog("E10")
def test_exactly_14_of_the_16_boolean_functions_are_separable_xor_and_xnor_fail():
    table = sc.separable_boolean_functions(2)
    assert len(table) == 16
    failing = sorted(k for k, ok in table.items() if not ok)
    assert failing == ["0110", "1001"]
    assert [sc.BOOLEAN_FUNCTION_NAMES[k] for k in failing] == ["XOR", "XNOR (IFF)"]


@pytest.mark.catalog("E10")
def test_threshold_function_counts_are_4_14_104_like_oeis_a000609():
    # An independent count: the number of linearly separable Boolean functions of n
    # variables is 2, 4, 14, 104, 1882, ... (OEIS A000609; Muroga 1971).
    counts = [sum(sc.separable_boolean_functions(n).values()) for n in (1, 2, 3)]
    assert counts == [4, 14, 104]


@pytest.mark.catalog("E5", "E10")
def test_torch_perceptron_learns_exactly_the_separable_boolean_functions():
    # Cross-check of the LP with the perceptron: a separable function is learned within
    # Novikoff's bound (from the LP's own hyperplane); the two others are never learned.
    rows, outputs = sc.boolean_functions(2)
    Xb = sc.add_bias_input(rows)
    for out in outputs:
        res = sc.linear_separability(rows, out)
        run = tc.perceptron_train(to_torch(Xb), to_torch(out), _zeros(3), 1.0, 15)
        assert run.converged == res.separable
        if res.separable:
            bound = sc.novikoff_bound(Xb, out, np.r_[res.b, res.w])
            assert run.n_updates <= bound


# ---- E1 / E2: the perceptron and 003's AND exercise ----------------------------------------------

# 003's table as printed: x0 x1 x2 | w0 w1 w2 (before) | output | desired, and the row's
# annotation ("adding (0.9,0.9,0.9)" / "subtracting (0.9,0.9,0)"), rows 1-9.
DOC_AND_TABLE = [
    ((1, 1, 0), (-1.2, -0.3, -0.4), 0, 0, None),
    ((1, 0, 1), (-1.2, -0.3, -0.4), 0, 0, None),
    ((1, 0, 0), (-1.2, -0.3, -0.4), 0, 0, None),
    ((1, 1, 1), (-1.2, -0.3, -0.4), 0, 1, "add"),
    ((1, 1, 0), (-0.3, 0.6, 0.5), 1, 0, "subtract"),
    ((1, 0, 1), (-1.2, -0.3, 0.5), 0, 0, None),
    ((1, 0, 0), (-1.2, -0.3, 0.5), 0, 0, "add"),
    ((1, 1, 1), (-1.2, -0.3, 0.5), 0, 1, "subtract"),
    ((1, 1, 0), (-0.3, 0.6, 1.4), 1, 0, None),
]


def _and_trace():
    return sc.perceptron_train(**sc.and_exercise())


@pytest.mark.catalog("E2")
def test_and_exercise_rows_1_to_9_match_the_documents_numbers():
    trace = _and_trace().trace
    for row, (x, w, out, desired, _) in zip(trace, DOC_AND_TABLE, strict=False):
        np.testing.assert_array_equal(row.x, x)
        np.testing.assert_array_equal(np.round(row.w_before, 1), w)  # printed to 1 decimal
        assert (row.y, row.t) == (out, desired)


@pytest.mark.catalog("E2")
def test_and_exercise_update_annotations_sit_on_rows_4_5_8_9_not_the_documents_4_5_7_8():
    trace = _and_trace().trace[:9]
    computed = {
        i: ("add" if r.t > r.y else "subtract") for i, r in enumerate(trace, 1) if r.updated
    }
    printed = {i: a for i, (*_, a) in enumerate(DOC_AND_TABLE, 1) if a}
    assert computed == {4: "add", 5: "subtract", 8: "add", 9: "subtract"}
    assert printed != computed  # erratum E2: rows 7 and 8 carry rows 8 and 9's annotations
    assert {i: printed[i] for i in (4, 5)} == {i: computed[i] for i in (4, 5)}
    # Row 8 adds (0.9, 0.9, 0.9): the x-vector times lambda, since t - y = 1 and x = (1, 1, 1).
    assert_close(trace[7].dw, 0.9 * np.ones(3))
    assert_close(trace[8].dw, -0.9 * np.array([1.0, 1.0, 0.0]))


def _exact_perceptron(X, t, w0, lr, max_epochs):
    """The rule in exact rational arithmetic: an independent oracle for the float traces."""
    w = [Fraction(v) for v in w0]
    updates = 0
    for epoch in range(1, max_epochs + 1):
        changed = 0
        for x, target in zip(X, t, strict=True):
            y = 1 if sum(wi * xi for wi, xi in zip(w, x, strict=True)) > 0 else 0
            if y != target:
                w = [wi + lr * (target - y) * xi for wi, xi in zip(w, x, strict=True)]
                changed += 1
        updates += changed
        if changed == 0:
            return w, epoch, updates
    return w, max_epochs, updates


@pytest.mark.catalog("E2")
def test_and_exercise_runs_to_convergence_like_exact_rational_arithmetic():
    X = [(1, 1, 0), (1, 0, 1), (1, 0, 0), (1, 1, 1)]
    w_exact, epochs, updates = _exact_perceptron(
        X, [0, 0, 0, 1], [Fraction(-12, 10), Fraction(-3, 10), Fraction(-4, 10)],
        Fraction(9, 10), 100,
    )
    res = _and_trace()
    assert res.converged and res.epochs == epochs and res.n_updates == updates
    assert_close(res.w, [float(v) for v in w_exact], atol=1e-12)
    # The final weights compute AND.
    np.testing.assert_array_equal(sc.perceptron_output(sc.and_exercise()["X"], res.w), [0, 0, 0, 1])


@pytest.mark.catalog("E2")
def test_torch_perceptron_reproduces_the_and_exercise_trace_bitwise():
    ours = _and_trace()
    theirs = tc.perceptron_train(**tc.and_exercise())
    assert len(theirs.trace) == len(ours.trace)
    for a, b in zip(ours.trace, theirs.trace, strict=True):
        np.testing.assert_array_equal(to_numpy(b.w_before), a.w_before)
        np.testing.assert_array_equal(to_numpy(b.dw), a.dw)
        assert (b.y, b.t, b.epoch) == (a.y, a.t, a.epoch)
    np.testing.assert_array_equal(to_numpy(theirs.w), ours.w)
    assert theirs.message == ours.message


@pytest.mark.catalog("E1")
def test_perceptron_trace_matches_torch_on_random_separable_data(rng, dtype):
    n, d = 30, 3
    w_true = rng.normal(size=d + 1)
    X = sc.add_bias_input(rng.normal(size=(n, d))).astype(dtype)
    t = (X @ w_true.astype(dtype) > 0).astype(dtype)
    w0 = rng.normal(size=d + 1).astype(dtype)
    ours = sc.perceptron_train(X, t, w0, 0.3, 200)
    theirs = tc.perceptron_train(to_torch(X), to_torch(t), to_torch(w0), 0.3, 200)
    assert ours.converged and theirs.converged
    assert [(r.y, r.t) for r in ours.trace] == [(r.y, r.t) for r in theirs.trace]
    # Same roundings on both sides (one product lr * x, one addition): bit for bit.
    for a, b in zip(ours.trace, theirs.trace, strict=True):
        np.testing.assert_array_equal(to_numpy(b.w_before), a.w_before)
    np.testing.assert_array_equal(to_numpy(theirs.w), ours.w)


@pytest.mark.catalog("E1")
@settings(max_examples=30)
@given(seed=st.integers(0, 2**31), lr=st.floats(0.01, 5.0))
def test_one_perceptron_step_is_one_sgd_step_on_the_perceptron_criterion(seed, lr):
    g = np.random.default_rng(seed)
    w, x = g.normal(size=4), g.normal(size=4)
    t = float(g.integers(0, 2))
    y, dw = sc.perceptron_update(w, x, t, lr)
    model = tc.Perceptron(torch.tensor(w))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    target = torch.tensor([t], dtype=torch.float64)
    tc.perceptron_criterion(model(to_torch(x)[None]), target).backward()
    opt.step()
    assert y == float(x @ w > 0)
    assert_close(to_numpy(model.linear.weight[0]), w + dw)
    assert_close(dw, lr * (t - y) * x)


@pytest.mark.catalog("E1")
def test_perceptron_rejects_bad_arguments():
    ex = sc.and_exercise()
    X, t, w0 = ex["X"], ex["t"], ex["w0"]
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\), got -1.0"):
        sc.perceptron_train(X, t, w0, lr=-1.0)
    with pytest.raises(ValueError, match=r"w0 must have shape \(3,\)"):
        sc.perceptron_train(X, t, w0[:2])
    with pytest.raises(ValueError, match=r"t must hold labels in \{0, 1\}"):
        sc.perceptron_train(X, t * 2, w0)
    with pytest.raises(ValueError, match=r"max_epochs must be an integer >= 1, got 0"):
        sc.perceptron_train(X, t, w0, max_epochs=0)
    with pytest.raises(ValueError, match=r"t must be 0 or 1"):
        sc.perceptron_update(w0, X[0], 0.5, 1.0)
    with pytest.raises(ValueError, match=r"expected X \(N, d\+1\), t \(N,\), w0 \(d\+1,\)"):
        tc.perceptron_train(to_torch(X), to_torch(t), to_torch(w0[:2]))
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\)"):
        tc.perceptron_train(to_torch(X), to_torch(t), to_torch(w0), lr=0.0)


# ---- the command line: python -m torchref.classic perceptron-and -------------------------------


@pytest.mark.catalog("E2")
def test_cli_prints_the_and_trace_row_by_row_then_convergence(capsys):
    assert tc.main(["perceptron-and"]) == 0
    out = capsys.readouterr().out.splitlines()
    res = _and_trace()
    rows = _trace_rows(out)
    assert len(rows) == len(res.trace) == 36
    # Row 5: inputs (1, 1, 0), weights before (-0.3, 0.6, 0.5), output 1, target 0.
    assert rows[4].split()[:10] == ["5", "2", "1", "1", "0", "-0.3", "0.6", "0.5", "1", "0"]
    assert rows[4].endswith("subtract (0.9, 0.9, 0)")
    assert out[-1] == res.message
    assert out[-1].startswith("converged after 9 epochs (36 presentations, 16 updates)")


def test_cli_on_xor_reports_non_convergence(capsys):
    assert tc.main(["perceptron-xor", "--max-epochs", "7", "--rows", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("did NOT converge in 7 epochs")
    assert len(_trace_rows(out)) == 2


def test_cli_rejects_a_bad_epoch_count(capsys):
    with pytest.raises(SystemExit) as exc:
        tc.main(["perceptron-and", "--max-epochs", "0"])
    assert exc.value.code == 2
    assert "--max-epochs must be an integer in [1, 10000], got 0" in capsys.readouterr().err


@pytest.mark.catalog("E2")
@pytest.mark.slow
def test_cli_runs_as_a_module_in_a_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "torchref.classic", "perceptron-and", "--rows", "9"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("converged after 9 epochs")
    assert len(_trace_rows(lines)) == 9


# ---- E9: convergence and non-convergence --------------------------------------------------------


@pytest.mark.catalog("E9")
@settings(max_examples=12)
@given(seed=st.integers(0, 2**31), d=st.integers(1, 4))
def test_perceptron_converges_within_novikoffs_bound_in_both_rooms(seed, d):
    g = np.random.default_rng(seed)
    w_true = g.normal(size=d + 1)
    X = sc.add_bias_input(g.normal(size=(24, d)))
    z = X @ w_true
    keep = np.abs(z) / np.linalg.norm(w_true) > 0.1  # a margin, so the bound is finite
    X, t = X[keep], (z[keep] > 0).astype(np.float64)
    assume(0 < t.sum() < len(t))
    bound = sc.novikoff_bound(X, t, w_true)
    epochs = int(np.ceil(bound)) + 2  # each non-final epoch makes at least one update
    ours = sc.perceptron_train(X, t, np.zeros(d + 1), 1.0, epochs)
    theirs = tc.perceptron_train(to_torch(X), to_torch(t), _zeros(d + 1), 1.0, epochs)
    for res in (ours, theirs):
        assert res.converged
        assert res.n_updates <= bound
    np.testing.assert_array_equal(sc.perceptron_output(X, ours.w), t)


@pytest.mark.catalog("E9")
@pytest.mark.parametrize("max_epochs", [1, 5, 50])
def test_perceptron_on_xor_stops_after_max_epochs_and_says_it_did_not_converge(max_epochs):
    X = sc.add_bias_input(_binary_rows(2, np.float64))
    t = np.array([0.0, 1, 1, 0])
    res = sc.perceptron_train(X, t, np.zeros(3), 1.0, max_epochs)
    assert not res.converged
    assert res.epochs == max_epochs == len(res.updates_per_epoch)
    assert min(res.updates_per_epoch) >= 1  # it never stops changing
    assert "did NOT converge" in res.message
    theirs = tc.perceptron_train(to_torch(X), to_torch(t), _zeros(3), 1.0, max_epochs)
    assert not theirs.converged and theirs.updates_per_epoch == res.updates_per_epoch


@pytest.mark.catalog("E9")
def test_perceptron_weights_on_xor_cycle_and_stay_bounded_they_do_not_diverge():
    # 003 says the weights may even diverge when there is no solution. With finitely many
    # examples they stay bounded (perceptron cycling theorem, Block & Levin 1970): with integer
    # inputs and lambda = 1 the epoch-end weights are integer vectors and repeat exactly.
    X = sc.add_bias_input(_binary_rows(2, np.float64))
    t = np.array([0.0, 1, 1, 0])
    res = sc.perceptron_train(X, t, np.zeros(3), 1.0, 200)
    ends = [r.w_before + r.dw for r in res.trace[3::4]]  # weights after each epoch
    seen = {}
    period = None
    for k, w in enumerate(ends):
        key = tuple(w)
        if key in seen:
            period = k - seen[key]
            break
        seen[key] = k
    assert period is not None and period <= 10
    assert max(np.abs(w).max() for w in ends) <= 3


@pytest.mark.catalog("E9")
def test_novikoff_bound_on_a_hand_example():
    # x = (1, 0) with t = 1 and (0, 3) with t = 0; w* = (1, -1): margins 1 and 3 over
    # ||w*|| = sqrt(2), so gamma = 1/sqrt(2); R = 3; (R/gamma)^2 = 9 * 2 = 18.
    X = np.array([[1.0, 0.0], [0.0, 3.0]])
    assert sc.novikoff_bound(X, [1, 0], np.array([1.0, -1.0])) == pytest.approx(18.0, rel=1e-12)


def test_novikoff_bound_rejects_a_non_separating_vector():
    X = sc.add_bias_input(_binary_rows(2, np.float64))
    with pytest.raises(ValueError, match=r"w_sep must separate the data"):
        sc.novikoff_bound(X, [0, 0, 0, 1], np.array([1.0, 0, 0]))


# ---- E3: Hebbian and anti-Hebbian rules ------------------------------------------------------


@pytest.mark.catalog("E3")
def test_hebbian_update_is_the_outer_product_like_torch(rng, dtype):
    x = rng.normal(size=5).astype(dtype)
    y = rng.normal(size=3).astype(dtype)
    dW = sc.hebbian_update(x, y, 0.1)
    assert dW.shape == (3, 5) and dW.dtype == dtype
    assert_close(dW, 0.1 * torch.outer(to_torch(y), to_torch(x)))
    assert_close(sc.anti_hebbian_update(x, y, 0.1), -0.1 * torch.outer(to_torch(y), to_torch(x)))


@pytest.mark.catalog("E3")
def test_anti_hebbian_synapse_weakens_when_both_neurons_fire_together():
    # 003, basal ganglia: under anti-Hebb, two neurons firing together weaken their synapse;
    # under Hebb they strengthen it; if either is silent nothing changes.
    assert sc.anti_hebbian_update([1.0], [1.0])[0, 0] < 0
    assert sc.hebbian_update([1.0], [1.0])[0, 0] > 0
    assert sc.hebbian_update([0.0], [1.0])[0, 0] == 0 == sc.anti_hebbian_update([1.0], [0.0])[0, 0]


@pytest.mark.catalog("E3")
@settings(max_examples=40)
@given(seed=st.integers(0, 2**31), lr=st.floats(0.01, 3.0))
def test_perceptron_rule_is_hebbian_on_the_target_plus_anti_hebbian_on_the_output(seed, lr):
    g = np.random.default_rng(seed)
    w, x = g.normal(size=3), g.normal(size=3)
    t = float(g.integers(0, 2))
    y, dw = sc.perceptron_update(w, x, t, lr)
    assert_close(sc.perceptron_as_hebbian(x, y, t, lr), dw)


@pytest.mark.catalog("E3")
def test_the_four_cases_of_003_kind_and_direction():
    cases = [sc.perceptron_case(xs * 0.7, y, 1 - y) for xs, y in sc.PERCEPTRON_CASES]
    # 003's labels: Hebbian, anti-Hebbian, anti-Hebbian, Hebbian.
    assert [c.kind for c in cases] == ["hebbian", "anti-hebbian", "anti-hebbian", "hebbian"]
    # 003's words "strengthen, weaken, weaken, strengthen" describe the synapse's effect
    # w_i x_i on z; the weight *value* moves +, +, -, - (erratum E3).
    assert [c.contribution_change for c in cases] == [1, -1, -1, 1]
    assert [c.weight_change for c in cases] == [1, 1, -1, -1]
    # Each case's dw agrees with the rule itself.
    for (xs, y), c in zip(sc.PERCEPTRON_CASES, cases, strict=True):
        _, dw = sc.perceptron_update(np.array([0.0]), np.array([xs * 0.7]), 1 - y, 1.0)
        if y == 1:  # w = 0 gives y = 0; recompute with a weight that makes the unit fire
            _, dw = sc.perceptron_update(np.array([xs * 1.0]), np.array([xs * 0.7]), 0, 1.0)
        assert np.sign(dw[0]) == c.weight_change


def test_perceptron_case_rejects_a_correct_output():
    with pytest.raises(ValueError, match=r"y and t must be 0 and 1 in some order"):
        sc.perceptron_case(1.0, 1, 1)
    with pytest.raises(ValueError, match=r"x_i must be non-zero"):
        sc.perceptron_case(0.0, 0, 1)


# ---- B8: feed-forward vs recurrent ------------------------------------------------------------


@pytest.mark.catalog("B8")
@pytest.mark.parametrize("sizes", [(3, 4, 2), (2, 5, 5, 1)])
def test_an_mlp_is_a_dag_in_both_rooms(sizes):
    model = MLP(list(sizes), activation="relu", head="regression").double()
    params = to_numpy_params(model)
    edges = sc.connection_graph(params[0::2])
    assert sorted(edges) == sorted(tc.connection_graph(model))
    kind = sc.classify_network(edges)
    assert kind.kind == "feed-forward" and tc.is_feed_forward(model)
    pos = {v: i for i, v in enumerate(kind.order)}
    assert all(pos[u] < pos[v] for u, v in edges)  # a topological order
    assert len(edges) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


@pytest.mark.catalog("B8")
def test_two_mutually_connected_neurons_are_recurrent_in_both_rooms():
    # 003: "2 neurons, the first connected to the second and the second to the first": an RNN.
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    kind = sc.classify_network(sc.connection_graph(W, layered=False))
    assert kind.kind == "recurrent" and set(kind.cycle) == {0, 1}
    assert kind.cycle[0] == kind.cycle[-1]
    cell = torch.nn.RNNCell(1, 2, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_hh.copy_(torch.tensor(W))
    assert not tc.is_feed_forward(cell)
    with torch.no_grad():
        cell.weight_hh.zero_()
    assert tc.is_feed_forward(cell)


@pytest.mark.catalog("B8")
def test_a_self_connection_is_a_cycle():
    assert sc.classify_network([("a", "b"), ("b", "b")]).kind == "recurrent"
    assert sc.classify_network([("a", "b"), ("a", "c"), ("b", "c")]).kind == "feed-forward"


@pytest.mark.catalog("B8")
def test_the_recurrent_pair_takes_input_and_keeps_it_circulating():
    # 003: "can such a network take input? yes". A pulse into neuron A keeps bouncing A -> B
    # -> A after the input is gone; without the feedback it dies after one step.
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    U = np.array([[1.0], [0.0]])
    b = np.array([-0.5, -0.5])
    inputs = np.array([[1.0]] + [[0.0]] * 6)
    states = sc.simulate_recurrent_btu(W, U, b, inputs, np.zeros(2))
    theirs = tc.RecurrentBTU(W, U, b)(to_torch(inputs), torch.zeros(2, dtype=torch.float64))
    np.testing.assert_array_equal(to_numpy(theirs), states)
    np.testing.assert_array_equal(states[1:, 0], [1, 0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(states[1:, 1], [0, 1, 0, 1, 0, 1, 0])
    dead = sc.simulate_recurrent_btu(np.zeros((2, 2)), U, b, inputs, np.zeros(2))
    assert dead[2:].sum() == 0


def test_connection_graph_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"weights must be a square \(n, n\) matrix"):
        sc.connection_graph(np.zeros((2, 3)), layered=False)
    with pytest.raises(TypeError, match=r"module must be an nn.Linear"):
        tc.connection_graph(torch.nn.ReLU())
    with pytest.raises(ValueError, match=r"edges must be \(source, target\) pairs"):
        sc.classify_network([(1, 2, 3)])


# ---- E8: the inhibitory unit ------------------------------------------------------------------


@pytest.mark.catalog("E8")
def test_inhibitory_unit_answers_the_questions_of_003_in_both_rooms(dtype):
    b = 2.0
    w = np.array([-0.5, -1.0])  # inhibitory synapses only
    x = np.array(
        [[0.0, 0.0],  # no input: resting rate b
         [1.0, 0.5],  # total current -1 < b in size: still fires, slower
         [2.0, 1.0],  # total current -2 = -b: silent
         [4.0, 3.0]],  # larger than the bias: silent
        dtype=dtype,
    )
    rates = sc.inhibitory_rate(x, w, b)
    theirs = tc.InhibitoryUnit(w.tolist(), b, TORCH_DTYPE[dtype])(to_torch(x))
    assert_close(to_numpy(theirs), rates)
    assert rates[0] == b
    assert 0 < rates[1] < b
    assert rates[2] == 0 and rates[3] == 0


@pytest.mark.catalog("E8")
def test_growing_inhibitory_current_lowers_the_rate_to_silence():
    currents = np.linspace(0.0, 3.0, 31)
    rates = sc.inhibitory_sweep(1.5, currents)
    assert rates[0] == 1.5
    assert np.all(np.diff(rates) <= 0)
    silent = currents[rates == 0]
    assert silent.min() == pytest.approx(1.5)  # silence begins where the current equals b


@pytest.mark.catalog("E8")
def test_artificial_weights_cross_zero_while_biological_synapses_stop_at_zero():
    art = sc.synapse_depression(0.5, 0.2, 6, "artificial")
    bio = sc.synapse_depression(0.5, 0.2, 6, "biological")
    assert_close(to_numpy(tc.synapse_depression(0.5, 0.2, 6, "artificial")), art)
    assert_close(to_numpy(tc.synapse_depression(0.5, 0.2, 6, "biological")), bio)
    assert art[0] > 0 and art[-1] < 0 and np.all(np.diff(art) < 0)  # turns negative
    assert bio.min() == 0 and np.all(bio >= 0)  # weakens to 0, never inhibitory


@pytest.mark.catalog("E8")
def test_inhibitory_unit_rejects_excitatory_weights_and_negative_rates():
    with pytest.raises(ValueError, match=r"w must be inhibitory \(every weight <= 0\), got max 1"):
        sc.inhibitory_rate(np.zeros((1, 2)), [1.0, -1.0], 1.0)
    with pytest.raises(ValueError, match=r"w must be inhibitory"):
        tc.InhibitoryUnit([0.5], 1.0)
    with pytest.raises(ValueError, match=r"x must be firing rates >= 0"):
        sc.inhibitory_rate(-np.ones((1, 1)), [-1.0], 1.0)
    with pytest.raises(ValueError, match=r"b must be in \(0, inf\)"):
        sc.inhibitory_rate(np.zeros((1, 1)), [-1.0], 0.0)
    with pytest.raises(ValueError, match=r"unknown kind 'plastic'; valid choices"):
        sc.synapse_depression(0.5, 0.1, 3, "plastic")

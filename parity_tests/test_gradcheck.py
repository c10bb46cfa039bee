"""The finite-difference gradient checker: central differences against closed forms and torch
autograd, the worst-entry report, and its errors."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import scratch.gradcheck
from parity_tests.helpers import to_numpy, to_torch
from scratch import mlp as smlp
from scratch.gradcheck import GradCheckResult, gradcheck, numerical_gradient, relative_error


def poly_and_trig(p):
    w, v = p
    return float(np.sum(np.sin(w) * w**2) + np.prod(np.cos(v)) + w[0] * v.sum())


def poly_and_trig_grad(p):
    w, v = p
    dw = np.cos(w) * w**2 + 2 * w * np.sin(w)
    dw[0] += v.sum()
    dv = -np.sin(v) * np.prod(np.cos(v)) / np.cos(v) + w[0]
    return [dw, dv]


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_central_difference_matches_the_closed_form_gradient(seed, n):
    rng = np.random.default_rng(seed)
    p = [rng.uniform(-2, 2, n), rng.uniform(-1, 1, (2, n))]
    numeric = numerical_gradient(poly_and_trig, p)
    for num, exact in zip(numeric, poly_and_trig_grad(p), strict=True):
        # Central differences: O(eps^2) truncation + O(1e-16/eps) rounding, ~1e-10 absolute.
        np.testing.assert_allclose(num, exact, rtol=1e-8, atol=1e-9)


def test_central_difference_matches_torch_autograd_on_an_mlp_loss(rng):
    params = smlp.init_mlp([3, 4, 2], rng)
    X = rng.normal(size=(5, 3))
    labels = rng.integers(0, 2, 5)
    numeric = numerical_gradient(
        lambda p: smlp.head_loss(smlp.mlp_forward(p, X, "tanh")[0], labels, "multiclass"), params
    )
    ts = [to_torch(p, requires_grad=True) for p in params]
    h = torch.tanh(to_torch(X) @ ts[0].T + ts[1])
    loss = torch.nn.functional.cross_entropy(h @ ts[2].T + ts[3], torch.from_numpy(labels))
    loss.backward()
    for num, t in zip(numeric, ts, strict=True):
        np.testing.assert_allclose(num, to_numpy(t.grad), rtol=1e-7, atol=1e-10)  # FD-limited


def test_gradcheck_accepts_a_correct_gradient_and_leaves_params_untouched(rng):
    p = [rng.uniform(-2, 2, 3), rng.uniform(-1, 1, (2, 3))]
    before = [q.copy() for q in p]
    report = gradcheck(poly_and_trig, p, poly_and_trig_grad(p))
    assert isinstance(report, GradCheckResult)
    assert report.ok and report.rel_error < 1e-8
    assert len(report.rel_errors) == 2 and len(report.numeric_grads) == 2
    for q, b in zip(p, before, strict=True):
        np.testing.assert_array_equal(q, b)


def test_gradcheck_reports_the_worst_entry_of_a_wrong_gradient(rng):
    p = [rng.uniform(-2, 2, 3), rng.uniform(-1, 1, (2, 3))]
    grads = poly_and_trig_grad(p)
    exact = grads[1][1, 2]
    grads[1][1, 2] += 0.5  # one wrong entry
    report = gradcheck(poly_and_trig, p, grads)
    assert not report.ok
    assert (report.worst_param, report.worst_index) == (1, (1, 2))
    assert report.analytic == exact + 0.5
    np.testing.assert_allclose(report.numeric, exact, rtol=1e-8)
    assert report.rel_errors[0] < 1e-8 < report.rel_errors[1]
    assert "MISMATCH" in str(report) and "params[1][1, 2]" in str(report)


def test_gradcheck_catches_a_sign_error_in_one_layer_of_backprop(rng):
    params = smlp.init_mlp([3, 4, 2], rng)
    X = rng.normal(size=(6, 3))
    y = rng.random((6, 2))

    def loss(p):
        return smlp.loss_and_grads(p, X, y, "sigmoid", "binary")[0]

    _, grads = smlp.loss_and_grads(params, X, y, "sigmoid", "binary")
    assert gradcheck(loss, params, grads).ok
    grads[2] = -grads[2]  # the sign slip of a hand derivation, in W2
    report = gradcheck(loss, params, grads)
    assert not report.ok and report.worst_param == 2


def test_relative_error_is_the_difference_over_the_larger_magnitude():
    err = relative_error([1.0, 0.0, -2.0, 3e-20], [1.1, 0.0, 2.0, 0.0], floor=1e-12)
    np.testing.assert_allclose(err, [0.1 / 1.1, 0.0, 4.0 / 2.0, 3e-20 / 1e-12])


def test_gradcheck_scale_of_f_does_not_change_the_verdict(rng):
    # The floor is relative to the largest derivative, so multiplying f by 1e-8 changes nothing.
    p = [rng.uniform(-2, 2, 3), rng.uniform(-1, 1, (2, 3))]
    grads = poly_and_trig_grad(p)
    small = gradcheck(lambda q: 1e-8 * poly_and_trig(q), p, [1e-8 * g for g in grads])
    assert small.ok
    wrong = [1e-8 * g for g in grads]
    wrong[0] = wrong[0] * 1.01
    assert not gradcheck(lambda q: 1e-8 * poly_and_trig(q), p, wrong).ok


def test_float32_params_are_checked_in_float64(rng):
    p = [rng.uniform(-2, 2, 3).astype(np.float32), rng.uniform(-1, 1, (2, 3)).astype(np.float32)]
    seen = []

    def f(q):
        seen.append(q[0].dtype)
        return poly_and_trig(q)

    report = gradcheck(f, p, poly_and_trig_grad([q.astype(np.float64) for q in p]))
    assert report.ok and set(seen) == {np.dtype(np.float64)}


def test_the_docstring_example_runs():
    failures, tried = doctest.testmod(scratch.gradcheck)
    assert tried >= 5 and failures == 0


def test_gradcheck_rejects_bad_input_with_clear_errors(rng):
    w = rng.normal(size=3)
    with pytest.raises(ValueError, match=r"params\[0\] and grads\[0\] must have the same shape"):
        gradcheck(lambda p: float(p[0].sum()), [w], [np.zeros(2)])
    with pytest.raises(ValueError, match="one array per parameter: expected 1, got 2"):
        gradcheck(lambda p: float(p[0].sum()), [w], [w, w])
    with pytest.raises(ValueError, match=r"f must return a scalar, got an array of shape \(3,\)"):
        gradcheck(lambda p: p[0] * 2, [w], [w])
    with pytest.raises(ValueError, match="f must return a finite number, got nan"):
        numerical_gradient(lambda p: float("nan"), [w])
    with pytest.raises(ValueError, match=r"eps must be in \(0, inf\), got 0.0"):
        numerical_gradient(lambda p: 0.0, [w], eps=0.0)
    with pytest.raises(ValueError, match=r"tol must be in \(0, inf\), got -1.0"):
        gradcheck(lambda p: 0.0, [w], [w], tol=-1.0)
    with pytest.raises(TypeError, match="params must be a list of arrays"):
        numerical_gradient(lambda p: 0.0, "w")

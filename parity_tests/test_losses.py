"""Parity of `scratch.losses` with torch (C1-C8, C10): values, gradients, reductions, stability.

The torch side is `torchref.losses` (the `torch.nn.functional` built-ins with the reduction
made explicit) differentiated by autograd; C10 also uses `torch.distributions`, SciPy's
optimizer and scikit-learn's LogisticRegression as independent judges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from torch import nn

from parity_tests.helpers import assert_close, to_numpy, to_torch
from scratch import activations as A
from scratch import losses as L
from torchref import losses as TL

SCALINGS = ("sum", "half_sum", "mean", "half_mean")


def _autograd(fn, *arrays):
    """Value of fn(tensors...) and the gradient w.r.t. the first argument, by autograd."""
    first = to_torch(arrays[0], requires_grad=True)
    rest = [to_torch(a) if isinstance(a, np.ndarray) else a for a in arrays[1:]]
    out = fn(first, *rest)
    out.backward()
    return to_numpy(out), to_numpy(first.grad)


def _probs(rng, shape, dtype, low=0.02):
    return rng.uniform(low, 1 - low, size=shape).astype(dtype)


def _one_hot(labels: np.ndarray, c: int, dtype) -> np.ndarray:
    t = np.zeros((labels.shape[0], c), dtype=dtype)
    t[np.arange(labels.shape[0]), labels] = 1
    return t


# ---- C1: squared error ---------------------------------------------------------------------


@pytest.mark.catalog("C1")
@pytest.mark.parametrize("shape", [(6,), (5, 3)], ids=str)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_squared_error_value_and_grad_match_mse_loss_with_explicit_reduction(
    scaling, shape, dtype, rng
):
    y_hat = rng.normal(size=shape).astype(dtype)
    y = rng.normal(size=shape).astype(dtype)
    val_t, grad_t = _autograd(lambda a, b: TL.squared_error(a, b, scaling), y_hat, y)
    assert_close(L.squared_error(y_hat, y, scaling), val_t, dtype)
    assert_close(L.squared_error_grad(y_hat, y, scaling), grad_t, dtype)
    assert L.squared_error(y_hat, y, scaling).dtype == dtype


@pytest.mark.catalog("C1")
def test_squared_error_scalings_relate_to_torch_mean_reduction_as_documented(rng):
    y_hat, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    m, k = y_hat.shape
    torch_mean = F.mse_loss(to_torch(y_hat), to_torch(y), reduction="mean").item()
    # torch's "mean" averages over all m*k elements; the notes' mean is over the m examples.
    assert math.isclose(L.squared_error(y_hat, y, "mean"), k * torch_mean, rel_tol=1e-12)
    assert math.isclose(L.squared_error(y_hat, y, "sum"), m * k * torch_mean, rel_tol=1e-12)
    assert math.isclose(L.squared_error(y_hat, y, "half_sum"), m * k * torch_mean / 2,
                        rel_tol=1e-12)
    assert math.isclose(L.squared_error(y_hat, y, "half_mean"), k * torch_mean / 2,
                        rel_tol=1e-12)
    # With one output per example the notes' mean and torch's coincide.
    assert math.isclose(
        L.squared_error(y_hat[:, 0], y[:, 0], "mean"),
        F.mse_loss(to_torch(y_hat[:, 0]), to_torch(y[:, 0])).item(),
        rel_tol=1e-12,
    )


@pytest.mark.catalog("C1")
def test_squared_error_grad_is_two_times_error_and_matches_central_differences(rng):
    y_hat, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    # 002: dL/da = 2(a - y) for the per-example sum.
    assert_close(L.squared_error_grad(y_hat, y, "sum"), 2 * (y_hat - y))
    for scaling in SCALINGS:
        fd = _central_differences(lambda a, s=scaling: L.squared_error(a, y, s), y_hat)
        # Central differences on a quadratic: only rounding error ~eps/h remains.
        np.testing.assert_allclose(L.squared_error_grad(y_hat, y, scaling), fd, atol=1e-8)



@pytest.mark.catalog("C1")
def test_notes_mse_gradient_without_factor_two_is_the_half_mean_scaling(rng):
    # 003 writes dMSE/dw = 1/m sum_p (y_p - t_p) x_p for a linear neuron y = w x: that is the
    # gradient of 1/(2m) sum (y - t)^2 ("half_mean"); the plain mean has a factor 2.
    x, t = rng.normal(size=6), rng.normal(size=6)
    notes_grad = np.mean((2.0 * x - t) * x)  # at w = 2, by the notes' formula
    for scaling, factor in (("half_mean", 1.0), ("mean", 2.0)):
        w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        TL.squared_error(w * to_torch(x), to_torch(t), scaling).backward()
        assert math.isclose(w.grad.item(), factor * notes_grad, rel_tol=1e-12)
        chain = float(L.squared_error_grad(2.0 * x, t, scaling) @ x)  # dJ/dy . dy/dw
        assert math.isclose(chain, factor * notes_grad, rel_tol=1e-12)

def _central_differences(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


# ---- C2: binary cross-entropy --------------------------------------------------------------


@pytest.mark.catalog("C2")
@pytest.mark.parametrize("shape", [(7,), (4, 3)], ids=str)
def test_binary_cross_entropy_matches_torch_value_and_grad(shape, dtype, rng):
    p = _probs(rng, shape, dtype)
    t = rng.integers(0, 2, size=shape).astype(dtype)
    t.flat[0] = 0.3  # soft targets are allowed on both sides
    val_t, grad_t = _autograd(TL.binary_cross_entropy, p, t)
    assert_close(L.binary_cross_entropy(p, t), val_t, dtype)
    assert_close(L.binary_cross_entropy_grad(p, t), grad_t, dtype)


@pytest.mark.catalog("C2")
def test_binary_cross_entropy_grad_matches_central_differences(rng):
    p = _probs(rng, (3, 2), np.float64, low=0.1)
    t = rng.integers(0, 2, size=(3, 2)).astype(np.float64)
    fd = _central_differences(lambda q: L.binary_cross_entropy(q, t), p)
    # Smooth on [0.1, 0.9]: truncation ~h^2 |f'''| and rounding ~eps/h, both < 1e-8.
    np.testing.assert_allclose(L.binary_cross_entropy_grad(p, t), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.catalog("C2")
def test_binary_cross_entropy_at_certain_predictions_is_zero_or_infinite_like_the_maths():
    p = np.array([0.0, 1.0])
    # Right and certain: loss 0 (0 log 0 = 0). torch agrees.
    assert L.binary_cross_entropy(p, np.array([0.0, 1.0])) == 0.0
    assert TL.binary_cross_entropy(to_torch(p), to_torch(np.array([0.0, 1.0]))).item() == 0.0
    # Wrong and certain: the true loss is infinite; torch clamps each log at -100 instead.
    assert L.binary_cross_entropy(p, np.array([1.0, 1.0])) == np.inf
    torch_clamped = TL.binary_cross_entropy(to_torch(p), to_torch(np.array([1.0, 1.0])))
    assert torch_clamped.item() == pytest.approx(50.0)
    g = L.binary_cross_entropy_grad(p, np.array([0.0, 1.0]))
    # At a right and certain prediction the one-sided derivative is finite: d/dp -log(1-p).
    np.testing.assert_array_equal(g, [0.5, -0.5])


@pytest.mark.catalog("C2")
@pytest.mark.parametrize("shape", [(9,), (3, 4)], ids=str)
def test_binary_cross_entropy_with_logits_matches_torch_value_and_grad(shape, dtype, rng):
    z = rng.normal(scale=4, size=shape).astype(dtype)
    t = rng.uniform(size=shape).astype(dtype)
    val_t, grad_t = _autograd(TL.binary_cross_entropy_with_logits, z, t)
    assert_close(L.binary_cross_entropy_with_logits(z, t), val_t, dtype)
    assert_close(L.binary_cross_entropy_with_logits_grad(z, t), grad_t, dtype)


@pytest.mark.catalog("C2")
def test_bce_with_logits_equals_bce_of_sigmoid_where_both_are_accurate(rng):
    z = rng.normal(scale=3, size=20)
    t = rng.integers(0, 2, size=20).astype(np.float64)
    assert_close(
        L.binary_cross_entropy_with_logits(z, t), L.binary_cross_entropy(A.sigmoid(z), t)
    )


@pytest.mark.catalog("C2")
def test_bce_with_logits_is_finite_and_exact_at_saturated_logits(dtype):
    z = np.array([-1e4, -1e3, -50.0, 50.0, 1e3, 1e4], dtype=dtype)
    for t in (np.zeros(6, dtype), np.ones(6, dtype)):
        val = L.binary_cross_entropy_with_logits(z, t)
        grad = L.binary_cross_entropy_with_logits_grad(z, t)
        assert np.isfinite(val) and np.all(np.isfinite(grad))
        val_t, grad_t = _autograd(TL.binary_cross_entropy_with_logits, z, t)
        assert_close(val, val_t, dtype)
        assert_close(grad, grad_t, dtype)
    # Exact value by hand: t = 1 costs softplus(-z): the large negative logits dominate,
    # log(1 + e^1e4) = 1e4 to double precision.
    expected = (1e4 + 1e3 + 50.0 + math.log1p(math.exp(-50.0)) + 0 + 0) / 6
    assert_close(L.binary_cross_entropy_with_logits(z.astype(np.float64), np.ones(6)), expected)


# ---- C5: multi-label cross-entropy ---------------------------------------------------------


@pytest.mark.catalog("C5")
def test_multilabel_cross_entropy_sums_outputs_and_averages_examples_like_torch(dtype, rng):
    p = _probs(rng, (5, 3), dtype)
    t = rng.integers(0, 2, size=(5, 3)).astype(dtype)
    val_t, grad_t = _autograd(TL.multilabel_cross_entropy, p, t)
    assert_close(L.multilabel_cross_entropy(p, t), val_t, dtype)
    assert_close(L.multilabel_cross_entropy_grad(p, t), grad_t, dtype)
    # Sum over K outputs, mean over m examples = K times torch's all-element mean.
    torch_mean = F.binary_cross_entropy(to_torch(p), to_torch(t), reduction="mean").item()
    assert_close(L.multilabel_cross_entropy(p, t), 3 * torch_mean, dtype)


# ---- C6: categorical cross-entropy ---------------------------------------------------------


@pytest.mark.catalog("C6")
def test_categorical_cross_entropy_matches_nll_loss_of_log_probabilities(dtype, rng):
    z = rng.normal(size=(6, 4))
    p = A.softmax(z).astype(dtype)
    t = _one_hot(rng.integers(0, 4, size=6), 4, dtype)
    val_t, grad_t = _autograd(TL.categorical_cross_entropy, p, t)
    assert_close(L.categorical_cross_entropy(p, t), val_t, dtype)
    assert_close(L.categorical_cross_entropy_grad(p, t), grad_t, dtype)


@pytest.mark.catalog("C6")
@settings(max_examples=25)
@given(
    p1=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(0.001, 0.999)),
    data=st.data(),
)
def test_binary_ce_equals_categorical_ce_when_c_is_2(p1, data):
    # 003: "in the binary case CE = CCE": y = (y1, 1 - y1), t = (t1, 1 - t1).
    t1 = data.draw(hnp.arrays(np.float64, p1.shape, elements=st.sampled_from([0.0, 1.0])))
    p = np.stack([p1, 1 - p1], axis=1)  # (N, 2)
    t = np.stack([t1, 1 - t1], axis=1)
    assert math.isclose(
        L.categorical_cross_entropy(p, t), L.binary_cross_entropy(p1, t1), rel_tol=1e-12
    )


@pytest.mark.catalog("C6")
@pytest.mark.parametrize("target", ["indices", "one_hot", "probabilities"])
def test_cross_entropy_with_logits_matches_f_cross_entropy(target, dtype, rng):
    z = rng.normal(scale=3, size=(5, 4)).astype(dtype)
    labels = rng.integers(0, 4, size=5)
    if target == "indices":
        ours, theirs = labels, torch.as_tensor(labels)
    else:
        t = _one_hot(labels, 4, dtype) if target == "one_hot" else A.softmax(
            rng.normal(size=(5, 4))
        ).astype(dtype)
        ours, theirs = t, to_torch(t)
    zt = to_torch(z, requires_grad=True)
    val_t = TL.cross_entropy_with_logits(zt, theirs)
    val_t.backward()
    assert_close(L.cross_entropy_with_logits(z, ours), val_t, dtype)
    assert_close(L.cross_entropy_with_logits_grad(z, ours), zt.grad, dtype)


@pytest.mark.catalog("C6")
def test_cross_entropy_with_logits_is_cce_of_softmax_and_stable_at_saturated_logits(dtype, rng):
    z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    assert_close(
        L.cross_entropy_with_logits(z, labels),
        L.categorical_cross_entropy(A.softmax(z), _one_hot(labels, 3, np.float64)),
    )
    big = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], dtype=dtype)
    lab = np.array([1, 0, 2])
    val = L.cross_entropy_with_logits(big, lab)
    grad = L.cross_entropy_with_logits_grad(big, lab)
    assert np.isfinite(val) and np.all(np.isfinite(grad))
    val_t, _ = _autograd(TL.cross_entropy_with_logits, big, torch.as_tensor(lab))
    assert_close(val, val_t, dtype)
    # By hand, cost = log sum_j e^z_j - z_label per row: row 0: 1e4 - (-1e4) = 2e4;
    # row 1: (1e4 + log 2) - (-1e4); row 2: log 2 - (-1e4).
    assert_close(val, np.array((5e4 + 2 * math.log(2)) / 3, dtype=dtype), dtype)



@pytest.mark.catalog("C2", "C6")
@settings(max_examples=20)
@given(
    z=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st.floats(-200, 200, allow_nan=False, allow_subnormal=False),
    ),
    data=st.data(),
)
def test_logit_losses_match_torch_on_random_shapes_and_values(z, data):
    n, c = z.shape
    t = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(0, 1)))
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    val_t, grad_t = _autograd(TL.binary_cross_entropy_with_logits, z, t)
    assert_close(L.binary_cross_entropy_with_logits(z, t), val_t)
    assert_close(L.binary_cross_entropy_with_logits_grad(z, t), grad_t)
    val_t, grad_t = _autograd(TL.cross_entropy_with_logits, z, torch.as_tensor(labels))
    assert_close(L.cross_entropy_with_logits(z, labels), val_t)
    assert_close(L.cross_entropy_with_logits_grad(z, labels), grad_t)

@pytest.mark.catalog("C6")
def test_log_sum_exp_matches_torch_logsumexp(dtype, rng):
    z = rng.normal(scale=50, size=(3, 5)).astype(dtype)
    z[0, 0] = 1e4
    for axis in (0, 1):
        assert_close(L.log_sum_exp(z, axis=axis), torch.logsumexp(to_torch(z), dim=axis), dtype)


# ---- C7, C8: penalties ---------------------------------------------------------------------


def _weights(rng, dtype):
    ws = [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(2,)).astype(dtype)]
    ws[0][0, 0] = 0.0  # L1's kink
    return ws


@pytest.mark.catalog("C7", "C8")
@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_penalty_value_and_grad_match_torch_over_a_list_of_tensors(penalty, dtype, rng):
    ws = _weights(rng, dtype)
    lam = 0.3
    ours, ours_grad = {
        "l2": (L.l2_penalty, L.l2_penalty_grad),
        "l1": (L.l1_penalty, L.l1_penalty_grad),
    }[penalty]
    theirs = {"l2": TL.l2_penalty, "l1": TL.l1_penalty}[penalty]
    params = [to_torch(w, requires_grad=True) for w in ws]
    val_t = theirs(params, lam)
    val_t.backward()
    assert_close(np.asarray(ours(ws, lam), dtype=dtype), val_t, dtype)
    for g, p in zip(ours_grad(ws, lam), params, strict=True):
        assert g.dtype == dtype
        assert_close(g, p.grad, dtype)


@pytest.mark.catalog("C7")
def test_l2_gradient_is_what_sgd_weight_decay_adds(rng):
    # C7 -> F16: minimizing L + lam/2 ||w||^2 by GD is torch.optim.SGD(weight_decay=lam).
    w = rng.normal(size=(3, 2))
    x = rng.normal(size=(5, 3))
    lam, lr = 0.2, 0.1
    p = to_torch(w, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, weight_decay=lam)
    loss = (to_torch(x) @ p).pow(2).mean()  # any L; its gradient comes from autograd
    loss.backward()
    dL = to_numpy(p.grad).copy()
    opt.step()
    expected = w - lr * (dL + L.l2_penalty_grad([w], lam)[0])
    assert_close(p, expected)


@pytest.mark.catalog("C8")
def test_l1_subgradient_at_zero_is_torch_choice_and_inside_lambda_interval():
    w = np.array([0.0, -2.0, 3.0])
    p = to_torch(w, requires_grad=True)
    TL.l1_penalty([p], 0.5).backward()
    assert_close(L.l1_penalty_grad(w, 0.5)[0], p.grad, rtol=0, atol=0)
    low, high = A.subgradient_abs(w)
    assert np.all(0.5 * low <= L.l1_penalty_grad(w, 0.5)[0])
    assert np.all(L.l1_penalty_grad(w, 0.5)[0] <= 0.5 * high)


# ---- C3: regularized logistic regression ---------------------------------------------------


def _logistic_data(rng, m=12, n=3):
    X = rng.normal(size=(m, n))
    y = (X @ np.array([1.0, -1.0, 0.5]) + rng.normal(scale=1.5, size=m) > 0).astype(float)
    return X, y


def _torch_logistic_cost(theta, X, y, lam):
    linear = nn.Linear(X.shape[1], 1).double()
    with torch.no_grad():
        linear.bias.fill_(float(theta[0]))
        linear.weight.copy_(to_torch(theta[None, 1:]))
    cost = TL.regularized_logistic_cost(linear, to_torch(X), to_torch(y), lam)
    cost.backward()
    grad = np.concatenate([to_numpy(linear.bias.grad), to_numpy(linear.weight.grad[0])])
    return cost.item(), grad


@pytest.mark.catalog("C3")
@pytest.mark.parametrize("lam", [0.0, 0.5, 3.0])
def test_regularized_logistic_cost_and_grad_match_torch_linear_without_bias_penalty(lam, rng):
    X, y = _logistic_data(rng)
    theta = rng.normal(size=4)
    val_t, grad_t = _torch_logistic_cost(theta, X, y, lam)
    assert_close(L.regularized_logistic_cost(theta, X, y, lam), val_t)
    grad = L.regularized_logistic_cost_grad(theta, X, y, lam)
    assert_close(grad, grad_t)
    # The bias is not penalized: its gradient does not depend on lambda.
    assert_close(grad[0], L.regularized_logistic_cost_grad(theta, X, y, 0.0)[0])
    fd = _central_differences(lambda th: L.regularized_logistic_cost(th, X, y, lam), theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)  # FD: ~eps/h rounding


@pytest.mark.catalog("C3")
def test_regularized_logistic_cost_float32_matches_torch(rng):
    X, y = _logistic_data(rng)
    theta = rng.normal(size=4)
    X32, y32, th32 = X.astype(np.float32), y.astype(np.float32), theta.astype(np.float32)
    linear = nn.Linear(3, 1)
    with torch.no_grad():
        linear.bias.fill_(float(th32[0]))
        linear.weight.copy_(torch.from_numpy(th32[None, 1:]))
    val_t = TL.regularized_logistic_cost(linear, torch.from_numpy(X32), torch.from_numpy(y32), 1.0)
    ours = L.regularized_logistic_cost(th32, X32, y32, 1.0)
    assert ours.dtype == np.float32
    assert_close(ours, val_t, np.float32)


# ---- C4: the network cost ------------------------------------------------------------------


@pytest.mark.catalog("C4")
def test_network_cost_matches_torch_network_and_excludes_the_bias_column(dtype, rng):
    x = rng.normal(size=(6, 3)).astype(dtype)
    y = rng.integers(0, 2, size=(6, 2)).astype(dtype)
    lam = 0.7
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Sigmoid())
    net = net.to(to_torch(x).dtype)
    layers = [net[0], net[2]]
    # The notes' Theta^(l) = [b | W]: bias in column 0.
    thetas = [
        np.concatenate([to_numpy(lin.bias)[:, None], to_numpy(lin.weight)], axis=1)
        for lin in layers
    ]
    a = x
    for th in thetas:  # the notes' forward pass with a_0 = 1 prepended
        a = A.sigmoid(np.concatenate([np.ones((a.shape[0], 1), dtype), a], axis=1) @ th.T)
    h_t = net(to_torch(x))
    h_t.retain_grad()
    cost_t = TL.network_cost(h_t, to_torch(y), [lin.weight for lin in layers], lam)
    cost_t.backward()

    assert_close(L.network_cost(a, y, thetas, lam), cost_t, dtype)
    dh, dthetas = L.network_cost_grad(a, y, thetas, lam)
    assert_close(dh, h_t.grad, dtype)
    # The penalty's gradient alone, by autograd on the torch penalty over the weights only.
    weights = [to_torch(th[:, 1:], requires_grad=True) for th in thetas]
    TL.l2_penalty(weights, lam / x.shape[0]).backward()
    for g, w in zip(dthetas, weights, strict=True):
        assert np.all(g[:, 0] == 0)  # the bias column is not penalized
        assert_close(g[:, 1:], w.grad, dtype)


@pytest.mark.catalog("C4")
def test_network_cost_with_zero_lambda_is_multilabel_cross_entropy(rng):
    h = _probs(rng, (4, 3), np.float64)
    y = rng.integers(0, 2, size=(4, 3)).astype(float)
    thetas = [rng.normal(size=(3, 5))]
    assert L.network_cost(h, y, thetas, 0.0) == L.multilabel_cross_entropy(h, y)
    assert L.network_cost(h, y, thetas, 1.0) > L.network_cost(h, y, thetas, 0.0)


# ---- C10: MLE and MAP ----------------------------------------------------------------------


@pytest.mark.catalog("C10")
def test_negative_log_likelihood_equals_cross_entropy_exactly(rng):
    p = _probs(rng, 15, np.float64)
    t = rng.integers(0, 2, size=15).astype(float)
    ll = L.bernoulli_log_likelihood(p, t)
    torch_ll = torch.distributions.Bernoulli(probs=to_torch(p)).log_prob(to_torch(t)).sum()
    assert_close(ll, torch_ll)
    assert_close(-ll / 15, L.binary_cross_entropy(p, t))

    z = rng.normal(size=(8, 4))
    labels = rng.integers(0, 4, size=8)
    cll = L.categorical_log_likelihood(A.softmax(z), labels)
    torch_cll = torch.distributions.Categorical(logits=to_torch(z)).log_prob(
        torch.as_tensor(labels)
    ).sum()
    assert_close(cll, torch_cll)
    assert_close(-cll / 8, L.cross_entropy_with_logits(z, labels))


def _non_separable_data(rng, m=40):
    X = rng.normal(size=(m, 2))
    y = (X @ np.array([1.5, -1.0]) + 0.3 + rng.normal(size=m) > 0).astype(float)
    return X, y


@pytest.mark.catalog("C10")
def test_minimizing_cross_entropy_maximizes_likelihood_same_optimum(rng):
    X, y = _non_separable_data(rng)

    def nll(theta):  # the likelihood written as a product of p or 1 - p, then logged
        return -L.bernoulli_log_likelihood(A.sigmoid(theta[0] + X @ theta[1:]), y)

    def ce(theta):
        return float(L.regularized_logistic_cost(theta, X, y, 0.0))

    x0 = np.zeros(3)
    mle = minimize(nll, x0, method="BFGS", options={"gtol": 1e-10}).x
    erm = minimize(
        ce, x0, jac=lambda th: L.regularized_logistic_cost_grad(th, X, y, 0.0),
        method="BFGS", options={"gtol": 1e-12},
    ).x
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    sk_theta = np.concatenate([sk.intercept_, sk.coef_[0]])
    # Optimizer tolerances, not formulas, limit the agreement here.
    np.testing.assert_allclose(erm, mle, atol=1e-5)
    np.testing.assert_allclose(erm, sk_theta, atol=1e-4)
    assert math.isclose(nll(erm) / X.shape[0], ce(erm), rel_tol=1e-12)


@pytest.mark.catalog("C10")
@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_map_with_gaussian_prior_is_the_l2_cost_with_lambda_one_over_sigma_squared(sigma, rng):
    X, y = _non_separable_data(rng)
    m = X.shape[0]
    lam = L.l2_lambda_for_gaussian_prior(sigma, m)  # the notes' C3 form: lambda/(2m)
    lam7 = L.l2_lambda_for_gaussian_prior(sigma, m, convention="lambda_over_2")
    assert lam == pytest.approx(1 / sigma**2) and lam7 == pytest.approx(1 / (m * sigma**2))

    def neg_log_posterior(theta):  # bias has a flat prior: only theta_1.. are weights
        p = A.sigmoid(theta[0] + X @ theta[1:])
        return -(L.bernoulli_log_likelihood(p, y) + L.gaussian_log_prior(theta[1:], sigma))

    k = 2  # number of penalized weights
    const = k / 2 * math.log(2 * math.pi * sigma**2)  # -log of the prior's normaliser
    for _ in range(3):  # equal objectives up to that constant, at any theta
        theta = rng.normal(size=3)
        c3 = float(L.regularized_logistic_cost(theta, X, y, lam))
        assert math.isclose(neg_log_posterior(theta), m * c3 + const, rel_tol=1e-12)
        c7 = L.binary_cross_entropy_with_logits(theta[0] + X @ theta[1:], y) + L.l2_penalty(
            theta[1:], lam7
        )
        assert math.isclose(c7, c3, rel_tol=1e-12)
    # torch's own densities give the same prior term.
    w = rng.normal(size=2)
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), sigma)
    torch_prior = normal.log_prob(to_torch(w)).sum()
    assert_close(L.gaussian_log_prior(w, sigma), torch_prior)

    theta_map = minimize(neg_log_posterior, np.zeros(3), method="BFGS",
                         options={"gtol": 1e-10}).x
    theta_l2 = minimize(
        lambda th: float(L.regularized_logistic_cost(th, X, y, lam)), np.zeros(3),
        jac=lambda th: L.regularized_logistic_cost_grad(th, X, y, lam),
        method="BFGS", options={"gtol": 1e-12},
    ).x
    # scikit-learn minimizes C sum CE + ||w||^2 / 2 with an unpenalized intercept: C = sigma^2.
    sk = LogisticRegression(C=sigma**2, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(theta_l2, theta_map, atol=1e-5)  # optimizer tolerance
    np.testing.assert_allclose(theta_l2, np.concatenate([sk.intercept_, sk.coef_[0]]), atol=1e-4)


# ---- bad input -----------------------------------------------------------------------------


def test_shape_mismatches_are_rejected_naming_both_arguments():
    with pytest.raises(ValueError, match=r"y_hat and y must have the same shape, got y_hat\(3, 2"):
        L.squared_error(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"p and t must have the same shape"):
        L.binary_cross_entropy(np.full(3, 0.5), np.ones(4))
    with pytest.raises(ValueError, match=r"z and t must have the same shape"):
        L.binary_cross_entropy_with_logits(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"p must have 2 dimension\(s\), got shape \(3,\)"):
        L.multilabel_cross_entropy(np.full(3, 0.5), np.ones(3))
    with pytest.raises(ValueError, match=r"labels must have one entry per row of z"):
        L.cross_entropy_with_logits(np.ones((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"theta must hold the bias theta_0 then one weight"):
        L.regularized_logistic_cost(np.ones(3), np.ones((4, 3)), np.ones(4), 0.1)
    with pytest.raises(ValueError, match=r"y must have one entry per row of X"):
        L.regularized_logistic_cost(np.ones(4), np.ones((4, 3)), np.ones(5), 0.1)
    with pytest.raises(ValueError, match=r"thetas\[0\] must be \(s_next, s_prev \+ 1\)"):
        L.network_cost(np.full((2, 1), 0.5), np.ones((2, 1)), [np.ones((1, 1))], 0.1)


def test_labels_out_of_range_or_not_one_hot_are_rejected():
    with pytest.raises(ValueError, match=r"labels must be class labels in \[0, 2\], got values"):
        L.cross_entropy_with_logits(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"labels must be class labels in \[0, 2\]"):
        L.cross_entropy_with_logits_grad(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"labels must hold integer class labels"):
        L.cross_entropy_with_logits(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"labels given as a \(N, C\) array must have rows"):
        L.cross_entropy_with_logits(np.zeros((2, 3)), np.array([[1.0, 1, 0], [0, 0, 1]]))
    with pytest.raises(ValueError, match=r"t must be one-hot rows"):
        L.categorical_cross_entropy(np.full((2, 2), 0.5), np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"labels must be class labels in \[0, 1\]"):
        L.categorical_log_likelihood(np.full((2, 2), 0.5), np.array([0, 2]))
    with pytest.raises(ValueError, match="t must hold binary labels 0/1"):
        L.bernoulli_log_likelihood(np.full(2, 0.5), np.array([0.0, 0.5]))


def test_probabilities_outside_unit_interval_are_rejected():
    with pytest.raises(ValueError, match=r"p must be probabilities in \[0, 1\], got values in"):
        L.binary_cross_entropy(np.array([0.5, 1.2]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"t must be probabilities in \[0, 1\]"):
        L.binary_cross_entropy_with_logits(np.zeros(2), np.array([0.0, -1.0]))
    with pytest.raises(ValueError, match=r"p must be probabilities in \[0, 1\]"):
        L.categorical_cross_entropy(np.array([[-0.1, 1.1]]), np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"p must be finite"):
        L.multilabel_cross_entropy(np.array([[np.nan, 0.5]]), np.array([[0.0, 1.0]]))


def test_negative_lambda_and_bad_choices_are_rejected_on_both_sides():
    for fn in (L.l2_penalty, L.l1_penalty, L.l2_penalty_grad, L.l1_penalty_grad):
        with pytest.raises(ValueError, match=r"lam must be in \[0, inf\), got -0.1"):
            fn([np.ones(2)], -0.1)
    for fn in (TL.l2_penalty, TL.l1_penalty):
        with pytest.raises(ValueError, match=r"lam must be in \[0, inf\), got -0.1"):
            fn([torch.ones(2)], -0.1)
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\), got -1.0"):
        L.regularized_logistic_cost(np.ones(2), np.ones((3, 1)), np.ones(3), -1.0)
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\), got -1.0"):
        TL.regularized_logistic_cost(nn.Linear(1, 1), torch.ones(3, 1), torch.ones(3), -1.0)
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\), got -1.0"):
        TL.network_cost(torch.full((2, 1), 0.5), torch.ones(2, 1), [torch.ones(1, 1)], -1.0)
    with pytest.raises(TypeError, match=r"lam must be a real number"):
        L.l2_penalty([np.ones(2)], "0.1")
    with pytest.raises(ValueError, match=r"unknown scaling 'avg'; valid choices: 'sum'"):
        L.squared_error(np.ones(2), np.ones(2), scaling="avg")
    with pytest.raises(ValueError, match=r"unknown scaling 'avg'; valid choices: 'sum'"):
        TL.squared_error(torch.ones(2), torch.ones(2), scaling="avg")
    with pytest.raises(ValueError, match=r"sigma must be in \(0, inf\), got 0.0"):
        L.gaussian_log_prior(np.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"unknown convention 'C7'"):
        L.l2_lambda_for_gaussian_prior(1.0, 10, convention="C7")
    with pytest.raises(TypeError, match=r"weights must be an array or a list of arrays"):
        L.l2_penalty({"w": np.ones(2)}, 0.1)

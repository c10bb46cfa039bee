"""Dropout (H3): the notes' classic dropout and torch's inverted dropout, scratch vs torch.

Mask injection: torch's `F.dropout` takes no mask, so the tests read its mask back from its
output (inputs are never 0) and feed that mask to scratch; `ClassicDropout` and
`torchref.dropout.inverted_dropout` take a mask argument; whole networks are compared by
re-seeding torch's RNG (ClassicDropout draws exactly as nn.Dropout does).

Statistical tests: each asserts |sample mean - expected| <= z * sigma / sqrt(n) with sigma the
exact standard deviation of one draw (Bernoulli algebra, below) and z the two-sided normal
quantile for a family-wise false-alarm rate of 1e-6 (Bonferroni over the elements). Seeds are
fixed, so the outcome is deterministic; the bound says how unlikely a red test is by chance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from torch import nn

from parity_tests.helpers import TORCH_DTYPE, assert_close, to_numpy, to_torch
from scratch.dropout import (
    classic_dropout_backward,
    classic_dropout_forward,
    classic_to_inverted_weights,
    dropout_mask,
    inverted_dropout_backward,
    inverted_dropout_forward,
)
from scratch.mlp import activation_forward, dense_forward
from torchref.dropout import (
    ClassicDropout,
    classic_dropout,
    classic_to_inverted_weights_,
    inverted_dropout,
)
from torchref.mlp import MLP, linear_layers, load_numpy_params, to_numpy_params

ALPHA = 1e-6  # family-wise probability that a correct implementation fails a statistical test
PS = [0.1, 0.5, 0.9]


def _nonzero(rng, shape, dtype):
    # |x| in [0.5, 2] with random signs: a dropped unit is the only way to get an exact 0.
    return (rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def _z(k: int) -> float:
    return float(stats.norm.isf(ALPHA / (2 * k)))


def _assert_mean_within_bound(samples: np.ndarray, expected: np.ndarray, sigma: np.ndarray):
    """samples (n, ...) i.i.d. draws; sigma the exact std of one draw, elementwise."""
    n = samples.shape[0]
    bound = _z(expected.size) * sigma / np.sqrt(n)
    err = np.abs(samples.mean(axis=0) - expected)
    assert np.all(err <= bound), f"max error/bound {np.max(err / bound):.2f} (> 1 fails)"
    return bound


# ---- parity given the same mask ---------------------------------------------------------


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", PS)
def test_inverted_dropout_matches_torch_F_dropout_given_its_mask(rng, dtype, p):
    x = _nonzero(rng, (6, 5), dtype)
    dout = rng.normal(size=x.shape).astype(dtype)
    xt = to_torch(x, requires_grad=True)
    t_out = F.dropout(xt, p, training=True)
    t_out.backward(to_torch(dout))
    mask = to_numpy(t_out != 0).astype(dtype)  # torch's own mask, read back
    out, cache = inverted_dropout_forward(x, p, training=True, mask=mask)
    assert_close(out, t_out, dtype)
    assert_close(inverted_dropout_backward(dout, cache), xt.grad, dtype)
    assert_close(inverted_dropout(to_torch(x), p, True, mask=to_torch(mask)), t_out, dtype)


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("p", PS)
def test_classic_dropout_matches_torch_module_given_the_same_mask(rng, dtype, p, training):
    x = _nonzero(rng, (4, 7), dtype)
    dout = rng.normal(size=x.shape).astype(dtype)
    mask = dropout_mask(x.shape, p, rng).astype(dtype)
    out, cache = classic_dropout_forward(x, p, training, mask=mask)
    dx = classic_dropout_backward(dout, cache)
    layer = ClassicDropout(p).train(training)
    xt = to_torch(x, requires_grad=True)
    t_out = layer(xt, mask=to_torch(mask))
    t_out.backward(to_torch(dout))
    assert_close(out, t_out, dtype)
    assert_close(dx, xt.grad, dtype)
    # The notes' rule, written out: zeros where dropped while training, x*(1-p) at test.
    expected = x * mask if training else x * dtype.type(1 - p)
    assert_close(out, expected, dtype)


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", PS)
def test_classic_dropout_draws_the_same_mask_as_nn_dropout_from_the_same_seed(rng, p):
    x = to_torch(_nonzero(rng, (50, 20), np.float64))
    torch.manual_seed(7)
    inverted = nn.Dropout(p).train()(x)
    torch.manual_seed(7)
    classic = ClassicDropout(p).train()(x)
    assert torch.equal(inverted != 0, classic != 0)
    assert_close(classic, inverted * (1 - p))


# ---- expectation, with a bound from the variance ----------------------------------------


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", PS)
def test_inverted_dropout_is_unbiased_and_classic_train_mean_equals_classic_test(rng, p):
    n, x = 4000, _nonzero(rng, (16,), np.float64)
    masks = dropout_mask((n, 16), p, rng)  # (n, 16): n independent draws
    inverted = inverted_dropout_forward(np.broadcast_to(x, (n, 16)), p, True, mask=masks)[0]
    classic = classic_dropout_forward(np.broadcast_to(x, (n, 16)), p, True, mask=masks)[0]
    # One draw: inverted = x m/(1-p), Var = x^2 p/(1-p); classic = x m, Var = x^2 p(1-p).
    bound = _assert_mean_within_bound(inverted, x, np.abs(x) * np.sqrt(p / (1 - p)))
    test_time = classic_dropout_forward(x, p, training=False)[0]
    _assert_mean_within_bound(classic, test_time, np.abs(x) * np.sqrt(p * (1 - p)))
    # Power: scaling at the wrong time (no 1/(1-p) while training) misses by p|x| >> bound.
    assert np.all(np.abs(x * (1 - p) - x) > 3 * bound)


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", PS)
def test_torch_dropouts_are_unbiased_within_the_variance_bound(p):
    n, x = 4000, torch.linspace(0.5, 2.0, 16, dtype=torch.float64)
    batch = x.expand(n, 16)  # n independent draws of the same 16 units
    inverted = to_numpy(nn.Dropout(p).train()(batch))
    classic = to_numpy(ClassicDropout(p).train()(batch))
    xn = to_numpy(x)
    _assert_mean_within_bound(inverted, xn, xn * np.sqrt(p / (1 - p)))
    test_time = to_numpy(ClassicDropout(p).eval()(x))
    _assert_mean_within_bound(classic, test_time, xn * np.sqrt(p * (1 - p)))


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", [0.1, 0.5, 0.999])
def test_dropped_fraction_follows_the_binomial_distribution(rng, p):
    n = 20000
    dropped_np = int(np.sum(dropout_mask((n,), p, rng) == 0))
    dropped_t = int(torch.sum(ClassicDropout(p).train()(torch.ones(n, dtype=torch.float64)) == 0))
    for dropped in (dropped_np, dropped_t):
        assert stats.binomtest(dropped, n, p).pvalue > ALPHA


# ---- whole networks: classic at test time == inverted in eval after rescaling -------------


def _scratch_net(params, X, p, kind, training, masks):
    # Linear -> tanh -> dropout per hidden layer, then the output Linear (layers of scratch.mlp).
    forward = classic_dropout_forward if kind == "classic" else inverted_dropout_forward
    a = X
    for l in range(len(params) // 2 - 1):
        z, _ = dense_forward(a, params[2 * l], params[2 * l + 1])
        a, _ = activation_forward(z, "tanh")
        a, _ = forward(a, p, training, mask=masks[l] if training else None)
    return dense_forward(a, params[-2], params[-1])[0]


def _rescaled(params, p):
    # Every Linear after a dropout layer (all but the first) takes the factor 1 - p.
    return [
        classic_to_inverted_weights(W, p) if i >= 2 and i % 2 == 0 else W
        for i, W in enumerate(params)
    ]


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", PS)
def test_classic_net_equals_inverted_net_after_weight_rescaling_in_scratch(rng, dtype, p):
    shapes = [(8, 5), (8,), (6, 8), (6,), (3, 6), (3,)]  # [W1, b1, W2, b2, W3, b3]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    X = rng.normal(size=(10, 5)).astype(dtype)
    masks = [dropout_mask((10, 8), p, rng), dropout_mask((10, 6), p, rng)]
    inv = _rescaled(params, p)
    for training in (True, False):
        classic = _scratch_net(params, X, p, "classic", training, masks)
        inverted = _scratch_net(inv, X, p, "inverted", training, masks)
        assert_close(classic, inverted, dtype)
    # Without the rescaling the two differ at test time: the factor is not optional.
    assert not np.allclose(
        _scratch_net(params, X, p, "classic", False, masks),
        _scratch_net(params, X, p, "inverted", False, masks),
    )


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("p", PS)
def test_classic_mlp_at_test_time_equals_inverted_mlp_in_eval_after_rescaling(rng, dtype, p):
    sizes = (5, 8, 6, 3)
    torch_dtype = TORCH_DTYPE[dtype]
    classic = MLP(sizes, "tanh", dropout=p, dropout_kind="classic").to(torch_dtype)
    inverted = MLP(sizes, "tanh", dropout=p, dropout_kind="inverted").to(torch_dtype)
    load_numpy_params(inverted, to_numpy_params(classic))
    for layer in linear_layers(inverted)[1:]:
        classic_to_inverted_weights_(layer, p)
    assert_close(
        linear_layers(inverted)[1].weight,
        classic_to_inverted_weights(to_numpy_params(classic)[2], p),
        dtype,
    )
    X = to_torch(rng.normal(size=(10, 5)).astype(dtype))
    assert_close(classic.eval()(X), inverted.eval()(X), dtype)
    # Training mode, same masks (same seed, same draw): same outputs and same input gradients.
    outs = []
    for model in (classic, inverted):
        torch.manual_seed(11)
        Xg = X.clone().requires_grad_(True)
        out = model.train()(Xg)
        out.sum().backward()
        outs.append((out, Xg.grad))
    assert_close(outs[0][0], outs[1][0], dtype)
    assert_close(outs[0][1], outs[1][1], dtype)
    # And the scratch network with the same weights agrees with the classic MLP at test time.
    params = to_numpy_params(classic)
    expected = classic.eval()(X)
    assert_close(_scratch_net(params, to_numpy(X), p, "classic", False, None), expected, dtype)


# ---- edge cases -------------------------------------------------------------------------


@pytest.mark.catalog("H3")
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_p_zero_is_the_identity_everywhere(rng, training):
    x = rng.normal(size=(5, 4))
    for fwd in (classic_dropout_forward, inverted_dropout_forward):
        out, cache = fwd(x, 0.0, training, rng=rng)
        assert np.array_equal(out, x)
        assert np.array_equal(
            (classic_dropout_backward if fwd is classic_dropout_forward
             else inverted_dropout_backward)(x, cache), x
        )
    xt = to_torch(x)
    assert torch.equal(ClassicDropout(0.0).train(training)(xt), xt)
    assert torch.equal(classic_dropout(xt, 0.0, training), xt)
    assert torch.equal(inverted_dropout(xt, 0.0, training), xt)


@pytest.mark.catalog("H3")
def test_p_close_to_one_drops_almost_everything_and_stays_finite(rng):
    p, x = 0.999, np.ones((200, 50))
    masks = dropout_mask(x.shape, p, rng)
    out, _ = inverted_dropout_forward(x, p, True, mask=masks)
    assert np.all(np.isfinite(out))
    assert set(np.unique(out)) <= {0.0, 1.0 / (1 - p)}  # kept units scaled by 1000
    assert_close(classic_dropout_forward(x, p, False)[0], np.full_like(x, 1 - p))
    # The mean is still x in expectation: 10000 draws, sigma = sqrt(p/(1-p)) ~ 31.6 per draw.
    _assert_mean_within_bound(out.reshape(-1, 1), np.ones(1), np.array([np.sqrt(p / (1 - p))]))
    t = ClassicDropout(p).train()(torch.ones(1000, dtype=torch.float64))
    assert float(t.sum()) < 20  # Binomial(1000, 0.001): P(>= 20 kept) < 1e-20


@pytest.mark.catalog("H3")
@settings(max_examples=30)
@given(
    p=st.floats(0.0, 0.99),
    x=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_classic_train_output_is_one_minus_p_times_inverted_with_the_same_mask(p, x, seed):
    x = np.asarray(x)
    mask = dropout_mask(x.shape, p, np.random.default_rng(seed))
    classic = classic_dropout_forward(x, p, True, mask=mask)[0]
    inverted = inverted_dropout_forward(x, p, True, mask=mask)[0]
    np.testing.assert_allclose(classic, (1 - p) * inverted, rtol=1e-12, atol=1e-12)


def test_dropout_bad_input_is_a_clear_error(rng):
    x = rng.normal(size=(3, 4))
    for fwd in (classic_dropout_forward, inverted_dropout_forward):
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
            fwd(x, 1.0, True, rng=rng)
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got -0.1"):
            fwd(x, -0.1, False)
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got nan"):
            fwd(x, float("nan"), False)
        with pytest.raises(TypeError, match="p must be a real number"):
            fwd(x, "0.5", False)
        with pytest.raises(ValueError, match=r"mask and x must have the same shape"):
            fwd(x, 0.5, True, mask=np.ones((3, 3)))
        with pytest.raises(ValueError, match="mask must hold only 0 and 1"):
            fwd(x, 0.5, True, mask=np.full((3, 4), 0.5))
        with pytest.raises(ValueError, match="needs a mask or an rng, got neither"):
            fwd(x, 0.5, True)
    _, cache = classic_dropout_forward(x, 0.5, True, rng=rng)
    with pytest.raises(ValueError, match="dout and x must have the same shape"):
        classic_dropout_backward(np.ones((4, 3)), cache)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        dropout_mask((3,), 0.5, 42)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
        ClassicDropout(1.0)
    with pytest.raises(ValueError, match=r"mask and x must have the same shape"):
        ClassicDropout(0.5)(torch.ones(3, 4), mask=torch.ones(4, 3))
    with pytest.raises(ValueError, match="mask must hold only 0 and 1"):
        inverted_dropout(torch.ones(2), 0.5, True, mask=torch.tensor([0.5, 1.0]))

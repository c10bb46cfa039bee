"""Batch normalization (G4): scratch.normalization vs nn.BatchNorm1d/2d, finite differences,
closed forms, and the notes' last-k test statistics vs their direct definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from parity_tests.helpers import TORCH_DTYPE, assert_close, to_numpy, to_torch, tol
from scratch.normalization import LastKStats, RunningStats, batchnorm_backward, batchnorm_forward
from torchref.normalization import LastKBatchNorm

SHAPES = [(8, 3), (5, 4, 6), (4, 3, 5, 2)]  # (N, C), (N, C, L), (N, C, H, W)
AXES = {2: (0,), 3: (0, 2), 4: (0, 2, 3)}


def _torch_bn(C: int, ndim: int, dtype, momentum=0.1, gamma=None, beta=None) -> nn.Module:
    bn = (nn.BatchNorm2d if ndim == 4 else nn.BatchNorm1d)(C, momentum=momentum)
    bn = bn.to(TORCH_DTYPE[np.dtype(dtype)])
    with torch.no_grad():
        if gamma is not None:
            bn.weight.copy_(to_torch(gamma))
            bn.bias.copy_(to_torch(beta))
    return bn


def _torch_step(bn: nn.Module, x: np.ndarray, dout: np.ndarray):
    xt = to_torch(x, requires_grad=True)
    bn.weight.grad = bn.bias.grad = None
    out = bn(xt)
    out.backward(to_torch(dout))
    return out, xt.grad, bn.weight.grad, bn.bias.grad


def _params(rng, C, dtype):
    gamma = rng.uniform(0.5, 2.0, C).astype(dtype)
    beta = rng.normal(size=C).astype(dtype)
    return gamma, beta


def _batch(rng, shape, dtype):
    # Channels with different offsets and scales, so a wrong axis or a swapped statistic shows.
    C = shape[1]
    loc = np.arange(C).reshape((1, C) + (1,) * (len(shape) - 2))
    return (rng.normal(size=shape) * (1 + loc) + 3 * loc).astype(dtype)


@pytest.mark.catalog("G4")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batchnorm_train_forward_and_all_gradients_match_torch(rng, dtype, shape):
    C = shape[1]
    x, dout = _batch(rng, shape, dtype), rng.normal(size=shape).astype(dtype)
    gamma, beta = _params(rng, C, dtype)
    out, cache, _ = batchnorm_forward(x, gamma, beta, RunningStats.init(C, dtype=dtype), True)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    t_out, t_dx, t_dgamma, t_dbeta = _torch_step(
        _torch_bn(C, len(shape), dtype, gamma=gamma, beta=beta).train(), x, dout
    )
    assert out.dtype == dx.dtype == dtype
    assert_close(out, t_out, dtype)
    # float32: dx is a difference of three sums of m terms (cancellation), so ~10x the default.
    extra = {} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    assert_close(dx, t_dx, dtype, **extra)
    assert_close(dgamma, t_dgamma, dtype, **extra)
    assert_close(dbeta, t_dbeta, dtype, **extra)


@pytest.mark.catalog("G4")
@pytest.mark.parametrize("momentum", [0.1, 0.7, None], ids=lambda m: f"momentum={m}")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batchnorm_running_stats_match_torch_after_every_step(rng, dtype, shape, momentum):
    """30 steps, train and eval interleaved: every output, gradient and buffer agrees each step."""
    C, nd = shape[1], len(shape)
    gamma, beta = _params(rng, C, dtype)
    state = RunningStats.init(C, momentum=momentum, dtype=dtype)
    bn = _torch_bn(C, nd, dtype, momentum=momentum, gamma=gamma, beta=beta)
    extra = {} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}  # as above
    for step in range(30):
        training = step % 3 != 2  # every third step in eval mode: buffers must not move
        x = _batch(rng, shape, dtype) + step * 0.1
        dout = rng.normal(size=shape).astype(dtype)
        out, cache, state = batchnorm_forward(x, gamma, beta, state, training)
        dx, dgamma, dbeta = batchnorm_backward(dout, cache)
        t_out, t_dx, t_dgamma, t_dbeta = _torch_step(bn.train(training), x, dout)
        assert_close(out, t_out, dtype, **extra)
        assert_close(dx, t_dx, dtype, **extra)
        assert_close(dgamma, t_dgamma, dtype, **extra)
        assert_close(dbeta, t_dbeta, dtype, **extra)
        assert_close(state.running_mean, bn.running_mean, dtype)
        assert_close(state.running_var, bn.running_var, dtype)
        assert state.num_batches_tracked == int(bn.num_batches_tracked)


@pytest.mark.catalog("G4")
def test_batchnorm_normalizes_with_biased_variance_like_the_notes(rng):
    # Closed form (NumPy's own np.var, ddof=0): y = (x - mean)/sqrt(var_biased + eps).
    x = _batch(rng, (6, 4), np.float64)
    eps = 1e-3  # large enough that eps's position (inside the root) matters at 1e-12
    ones, zeros = np.ones(4), np.zeros(4)
    out, _, _ = batchnorm_forward(x, ones, zeros, RunningStats.init(4), True, eps=eps)
    expected = (x - x.mean(0)) / np.sqrt(np.var(x, axis=0, ddof=0) + eps)
    assert_close(out, expected)


@pytest.mark.catalog("G4")
def test_batchnorm_running_var_is_unbiased_like_torch(rng):
    # momentum=1 stores the last batch's statistics alone; closed form np.var with ddof=1.
    x = _batch(rng, (5, 3, 4), np.float64)
    _, _, state = batchnorm_forward(
        x, np.ones(3), np.zeros(3), RunningStats.init(3, momentum=1.0), True
    )
    assert_close(state.running_mean, x.mean(axis=(0, 2)))
    assert_close(state.running_var, np.var(x, axis=(0, 2), ddof=1))
    # ... and the two differ by the factor m/(m-1) = 20/19, so a swap cannot pass both tests.
    assert not np.allclose(state.running_var, np.var(x, axis=(0, 2), ddof=0), rtol=1e-3)


@pytest.mark.catalog("G4")
def test_batchnorm_momentum_none_is_the_cumulative_average_of_batch_statistics(rng):
    batches = [_batch(rng, (7, 2), np.float64) * (1 + i) for i in range(6)]
    state = RunningStats.init(2, momentum=None)
    for xb in batches:
        _, _, state = batchnorm_forward(xb, np.ones(2), np.zeros(2), state, True)
    # Closed form: the plain average over every batch seen (the starting 0/1 drop out at n=1).
    assert_close(state.running_mean, np.mean([b.mean(0) for b in batches], axis=0))
    assert_close(state.running_var, np.mean([np.var(b, 0, ddof=1) for b in batches], axis=0))
    assert state.num_batches_tracked == 6


@pytest.mark.catalog("G4")
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batchnorm_backward_matches_central_finite_differences(rng, shape, training):
    C = shape[1]
    x, dout = _batch(rng, shape, np.float64), rng.normal(size=shape)
    gamma, beta = _params(rng, C, np.float64)
    state = RunningStats(rng.normal(size=C), rng.uniform(0.5, 2, C), 3)

    def loss(x_, g_, b_):  # scalar whose gradient w.r.t. out is dout
        return float(np.sum(batchnorm_forward(x_, g_, b_, state, training)[0] * dout))

    _, cache, _ = batchnorm_forward(x, gamma, beta, state, training)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    h = 1e-6
    for arr, grad in ((x, dx), (gamma, dgamma), (beta, dbeta)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            up = loss(x, gamma, beta)
            arr[i] = old - h
            down = loss(x, gamma, beta)
            arr[i] = old
            num[i] = (up - down) / (2 * h)
        # Central differences: truncation O(h^2) and rounding O(1e-16/h) ~ 1e-10 on O(1) values.
        assert_close(grad, num, rtol=1e-6, atol=1e-7)


@pytest.mark.catalog("G4")
@settings(max_examples=25)
@given(
    x=arrays(np.float64, (6, 3), elements=st.floats(-1e3, 1e3, allow_nan=False)),
    eps=st.sampled_from([1e-5, 1e-2, 1.0]),
)
def test_batchnorm_output_has_zero_mean_and_variance_var_over_var_plus_eps(x, eps):
    out, _, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), RunningStats.init(3), True, eps=eps)
    var = np.var(x, axis=0)
    scale = np.sqrt(var + eps)
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-12 * (1 + np.abs(x).max() / scale.min()))
    np.testing.assert_allclose(np.var(out, axis=0), var / (var + eps), rtol=1e-8, atol=1e-12)


def _direct_last_k(batches, k, axes, unbiased):
    # The notes' rule written from its definition: the plain mean over the last k batches.
    recent = batches[-k:]
    m = recent[0].size // recent[0].shape[1]
    ddof = 1 if unbiased else 0
    return (
        np.mean([b.mean(axis=axes) for b in recent], axis=0),
        np.mean([np.var(b, axis=axes, ddof=ddof) for b in recent], axis=0),
        m,
    )


@pytest.mark.catalog("G4")
@pytest.mark.parametrize("unbiased", [False, True], ids=["biased", "unbiased"])
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 3, 3)], ids=str)
def test_last_k_stats_are_the_average_of_the_last_k_batches(rng, shape, k, unbiased):
    C, axes = shape[1], AXES[len(shape)]
    gamma, beta = _params(rng, C, np.float64)
    state = LastKStats(C, k, unbiased=unbiased)
    batches = []
    for step in range(9):
        xb = _batch(rng, shape, np.float64) * (1 + 0.3 * step)
        batches.append(xb)
        _, _, state = batchnorm_forward(xb, gamma, beta, state, True)
        mean, var, _ = _direct_last_k(batches, k, axes, unbiased)
        assert_close(state.running_mean, mean)
        assert_close(state.running_var, var)
        # Eval mode normalizes with exactly those statistics.
        xe = _batch(rng, shape, np.float64)
        out, _, same = batchnorm_forward(xe, gamma, beta, state, False)
        shp = (1, C) + (1,) * (len(shape) - 2)
        expected = gamma.reshape(shp) * (xe - mean.reshape(shp)) / np.sqrt(
            var.reshape(shp) + 1e-5
        ) + beta.reshape(shp)
        assert_close(out, expected)
        assert same is state


@pytest.mark.catalog("G4")
@pytest.mark.parametrize("unbiased", [False, True], ids=["biased", "unbiased"])
@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 3, 3)], ids=str)
def test_last_k_batchnorm_module_matches_scratch_in_train_and_eval(rng, dtype, shape, unbiased):
    C, k = shape[1], 3
    gamma, beta = _params(rng, C, dtype)
    state = LastKStats(C, k, unbiased=unbiased)
    mod = LastKBatchNorm(C, k, unbiased=unbiased).to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        mod.weight.copy_(to_torch(gamma))
        mod.bias.copy_(to_torch(beta))
    extra = {} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}  # float32: see above
    for step in range(7):
        training = step != 5
        x = _batch(rng, shape, dtype) * (1 + step)
        dout = rng.normal(size=shape).astype(dtype)
        out, cache, state = batchnorm_forward(x, gamma, beta, state, training)
        dx, dgamma, _ = batchnorm_backward(dout, cache)
        t_out, t_dx, t_dgamma, _ = _torch_step(mod.train(training), x, dout)
        assert_close(out, t_out, dtype, **extra)
        assert_close(dx, t_dx, dtype, **extra)
        assert_close(dgamma, t_dgamma, dtype, **extra)
        assert_close(state.running_var, to_numpy(mod.running_var), dtype, **extra)
        assert state.num_batches_tracked == int(mod.num_batches_tracked)


@pytest.mark.catalog("G4")
def test_last_k_and_torch_running_stats_give_different_test_time_outputs(rng):
    # The point of the comparison: the notes' rule and torch's are not the same estimator.
    batches = [_batch(rng, (8, 2), np.float64) * (1 + i) for i in range(6)]
    a, b = RunningStats.init(2), LastKStats(2, k=3)
    for xb in batches:
        _, _, a = batchnorm_forward(xb, np.ones(2), np.zeros(2), a, True)
        _, _, b = batchnorm_forward(xb, np.ones(2), np.zeros(2), b, True)
    assert not np.allclose(a.running_var, b.running_var, rtol=1e-2)


@pytest.mark.catalog("G4")
def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval_like_torch(rng):
    x, dout = _batch(rng, (6, 3), np.float64), rng.normal(size=(6, 3))
    out, cache, state = batchnorm_forward(x, np.ones(3), np.zeros(3), None, training=False)
    dx, _, _ = batchnorm_backward(dout, cache)
    bn = nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    t_out, t_dx, _, _ = _torch_step(bn, x, dout)
    assert state is None
    assert_close(out, t_out)
    assert_close(dx, t_dx)


@pytest.mark.catalog("G4")
def test_batchnorm_float32_stays_float32_within_its_tolerance(rng):
    x = _batch(rng, (16, 4), np.float32)
    out, _, state = batchnorm_forward(
        x, np.ones(4, np.float32), np.zeros(4, np.float32), RunningStats.init(4, dtype=np.float32),
        True,
    )
    ref, _, _ = batchnorm_forward(x.astype(np.float64), np.ones(4), np.zeros(4), None, True)
    assert out.dtype == state.running_var.dtype == np.float32
    assert_close(out, ref.astype(np.float32), np.float32, **tol(np.float32))


def test_batchnorm_bad_input_is_a_clear_error(rng):
    x = rng.normal(size=(4, 3))
    ones, zeros = np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"x must have 2 or 3 or 4 dimension\(s\), got shape"):
        batchnorm_forward(x[0], ones, zeros, None, True)
    with pytest.raises(ValueError, match=r"gamma and beta must have the same shape"):
        batchnorm_forward(x, np.ones(2), zeros, None, True)
    with pytest.raises(ValueError, match=r"x must have 2 channel\(s\) on axis 1, got x\(4, 3\)"):
        batchnorm_forward(x, np.ones(2), np.zeros(2), None, True)
    with pytest.raises(ValueError, match=r"eps must be in \(0, inf\), got 0.0"):
        batchnorm_forward(x, ones, zeros, None, True, eps=0.0)
    with pytest.raises(ValueError, match="more than 1 value per channel, got x"):
        batchnorm_forward(x[:1], ones, zeros, RunningStats.init(3), True)
    with pytest.raises(TypeError, match="state must be RunningStats, LastKStats or None, got dict"):
        batchnorm_forward(x, ones, zeros, {}, True)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 1.5"):
        RunningStats.init(3, momentum=1.5)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        LastKStats(3, 0)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        LastKBatchNorm(3, 0)
    with pytest.raises(ValueError, match=r"x must have 3 channel\(s\) on axis 1, got x\(4, 2\)"):
        LastKBatchNorm(3, 2)(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        LastKBatchNorm(3, 2)(torch.zeros(1, 3))
    _, cache, _ = batchnorm_forward(x, ones, zeros, None, True)
    with pytest.raises(ValueError, match=r"dout and x must have the same shape"):
        batchnorm_backward(np.ones((4, 2)), cache)

"""Batch normalization (G4) in NumPy: forward, backward and two rules for the test-time statistics.

NumPy only. Inputs are (N, C) or (N, C, L) (torch's BatchNorm1d) and (N, C, H, W) (BatchNorm2d);
statistics are per channel C, over every other axis, so m = N (or N*L, N*H*W) values each.

The notes (002 §4.3.3) normalize with the biased batch variance and say that at test time the
statistics are "an average of the last few mini-batches" (`LastKStats`). torch keeps an
exponential running average instead, and stores the *unbiased* batch variance in running_var
while normalizing with the biased one (`RunningStats`). Both states are immutable dataclasses:
`batchnorm_forward` returns the updated state instead of changing its argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scratch.validation import (
    EPSILON,
    PROBABILITY,
    check_array,
    check_bool,
    check_channels,
    check_count,
    check_float_dtype,
    check_same_shape,
)

__all__ = [
    "RunningStats",
    "LastKStats",
    "batchnorm_forward",
    "batchnorm_backward",
]

EPS_RANGE = EPSILON  # inside the square root, beside a variance that may be 0
MOMENTUM_RANGE = PROBABILITY  # torch's BatchNorm momentum: the weight of the new batch, [0, 1]


def _reduce_axes(x: np.ndarray) -> tuple[int, ...]:
    # Every axis but the channel axis 1: (0,) for (N, C), (0, 2) for (N, C, L), (0, 2, 3) for NCHW.
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    # (C,) -> (1, C, 1, ...) so it broadcasts against x along the channel axis.
    return v.reshape((1, -1) + (1,) * (ndim - 2))


@dataclass(frozen=True)
class RunningStats:
    """torch's running statistics (`nn.BatchNorm1d/2d` with track_running_stats=True).

    After each training batch (num_batches_tracked += 1 first):
        f = momentum, or 1 / num_batches_tracked when momentum is None (cumulative average)
        running_mean <- (1 - f) running_mean + f mu_B
        running_var  <- (1 - f) running_var  + f sigma_B^2 * m / (m - 1)   (unbiased)
    Starts from running_mean = 0, running_var = 1. Eval mode normalizes with these.

    Catalog: G4 (002 §4.3.3; the notes average recent batches instead, see `LastKStats`).
    Shapes: running_mean, running_var (C,).
    """

    running_mean: np.ndarray
    running_var: np.ndarray
    num_batches_tracked: int = 0
    momentum: float | None = 0.1

    @classmethod
    def init(cls, num_features: int, momentum: float | None = 0.1, dtype=np.float64):
        num_features = check_count("num_features", num_features)
        if momentum is not None:
            momentum = MOMENTUM_RANGE.check("momentum", momentum)
        check_float_dtype("dtype", dtype)
        return cls(
            np.zeros(num_features, dtype=dtype), np.ones(num_features, dtype=dtype), 0, momentum
        )

    def update(self, batch_mean: np.ndarray, batch_var: np.ndarray, m: int) -> RunningStats:
        """New state after one training batch; `batch_var` is the biased sigma_B^2 of m values."""
        n = self.num_batches_tracked + 1
        f = 1.0 / n if self.momentum is None else self.momentum
        unbiased = batch_var * (m / (m - 1))
        return RunningStats(
            (1 - f) * self.running_mean + f * batch_mean,
            (1 - f) * self.running_var + f * unbiased,
            n,
            self.momentum,
        )


@dataclass(frozen=True)
class LastKStats:
    """The notes' test-time statistics: the average of the last k mini-batches' mu_B and sigma_B^2.

    running_mean = 1/k' sum_{j} mu_B(j),  running_var = 1/k' sum_{j} sigma_B^2(j)
    over the k' = min(k, batches seen) most recent training batches. The notes' sigma_B^2 is
    biased (1/m); `unbiased=True` stores sigma_B^2 m/(m-1) as Ioffe & Szegedy's population
    estimate does. Before any batch: mean 0, variance 1 (torch's starting point).

    Catalog: G4 (002 §4.3.3). Shapes: means and variances are tuples of (C,) arrays, oldest first.
    """

    num_features: int
    k: int
    unbiased: bool = False
    means: tuple[np.ndarray, ...] = field(default=())
    variances: tuple[np.ndarray, ...] = field(default=())
    num_batches_tracked: int = 0

    def __post_init__(self) -> None:
        # the checks of torchref.normalization.LastKBatchNorm, in the same order and words
        object.__setattr__(self, "num_features", check_count("num_features", self.num_features))
        object.__setattr__(self, "k", check_count("k", self.k))
        object.__setattr__(self, "unbiased", check_bool("unbiased", self.unbiased))

    @property
    def running_mean(self) -> np.ndarray:
        if not self.means:
            return np.zeros(self.num_features)
        return np.mean(np.stack(self.means), axis=0)  # (k', C) -> (C,)

    @property
    def running_var(self) -> np.ndarray:
        if not self.variances:
            return np.ones(self.num_features)
        return np.mean(np.stack(self.variances), axis=0)  # (k', C) -> (C,)

    def update(self, batch_mean: np.ndarray, batch_var: np.ndarray, m: int) -> LastKStats:
        """New state after one training batch; `batch_var` is the biased sigma_B^2 of m values."""
        var = batch_var * (m / (m - 1)) if self.unbiased else batch_var
        return LastKStats(
            self.num_features,
            self.k,
            self.unbiased,
            (self.means + (batch_mean.copy(),))[-self.k:],
            (self.variances + (var.copy(),))[-self.k:],
            self.num_batches_tracked + 1,
        )


def _batch_stats(x: np.ndarray, axes: tuple[int, ...], eps: float):
    """Per-channel (mean, biased variance, 1/sqrt(variance + eps)) of a batch.

    Where `(x - mu)^2` overflows (|x| above sqrt(float max): 1e154 in float64, 1e19 in
    float32) the variance is inf, and `1/sqrt(inf) = 0` would normalize every value to 0
    (torch's BatchNorm does). Then each channel is divided by its largest |x| first:
    `x_hat = (x - mu)/sqrt(var + eps)` is unchanged by that scale when eps is scaled with it,
    so x_hat stays right (+-1 for a batch of +-1e200); the variance itself stays inf.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = x.mean(axis=axes)  # (C,)
        d = x - _per_channel(mean, x.ndim)
        var = (d * d).mean(axis=axes)  # (C,), biased: 1/m
    if np.isfinite(var).all():
        return mean, var, 1.0 / np.sqrt(var + x.dtype.type(eps))
    s = np.max(np.abs(x), axis=axes)  # (C,), finite and > 0 where var overflowed
    s = np.where(s > 0, s, 1).astype(x.dtype)
    xs = x / _per_channel(s, x.ndim)
    mean_s = xs.mean(axis=axes)
    ds = xs - _per_channel(mean_s, x.ndim)
    var_s = (ds * ds).mean(axis=axes)  # finite: |ds| <= 2
    root_eps_s = x.dtype.type(np.sqrt(eps)) / s  # eps / s^2 without squaring s (underflows to 0)
    inv_std = 1.0 / (s * np.sqrt(var_s + root_eps_s * root_eps_s))
    return mean_s * s, var, inv_std


def batchnorm_forward(
    x,
    gamma,
    beta,
    state: RunningStats | LastKStats | None,
    training: bool,
    eps: float = 1e-5,
) -> tuple[np.ndarray, dict, RunningStats | LastKStats | None]:
    """Batch-normalize x per channel; return (out, cache, new_state).

    mu_B = 1/m sum_i x_i,  sigma_B^2 = 1/m sum_i (x_i - mu_B)^2      (biased, as the notes write)
    x_hat_i = (x_i - mu_B) / sqrt(sigma_B^2 + eps)
    y_i = gamma x_hat_i + beta = BN_{gamma,beta}(x_i)

    training=True normalizes with (mu_B, sigma_B^2) and returns `state.update(...)`;
    training=False normalizes with (state.running_mean, state.running_var) and returns state
    unchanged. state=None means no running statistics (torch's track_running_stats=False):
    batch statistics in both modes.

    Catalog: G4 (002 §4.3.3). PyTorch: `nn.BatchNorm1d/2d`, same normalization; its running_var
    holds the unbiased variance (`RunningStats`); the notes' test statistics are `LastKStats`.
    Shapes: x (N, C), (N, C, L) or (N, C, H, W); gamma, beta (C,); out the shape of x.
    """
    x = check_array("x", x, ndim=(2, 3, 4), allow_empty=False)  # no statistics of nothing
    gamma = check_array("gamma", gamma, ndim=1)
    beta = check_array("beta", beta, ndim=1)
    check_same_shape("gamma", gamma, "beta", beta)
    C = gamma.shape[0]
    check_channels("x", x.shape, C)
    eps = EPS_RANGE.check("eps", eps)
    training = check_bool("training", training)
    if state is not None and not isinstance(state, RunningStats | LastKStats):
        raise TypeError(
            f"state must be RunningStats, LastKStats or None, got {type(state).__name__}"
        )
    axes = _reduce_axes(x)
    m = x.size // C
    use_batch = training or state is None
    if use_batch:
        if training and state is not None and m < 2:
            raise ValueError(
                f"training batch norm needs more than 1 value per channel, got x{x.shape}"
            )
        mean, var, inv_std = _batch_stats(x, axes, eps)
        if training and state is not None and not np.isfinite(var).all():
            raise ValueError(
                f"x's batch variance overflows {x.dtype} (|x| up to "
                f"{np.max(np.abs(x)):.3g}), so the running statistics cannot hold it; "
                f"rescale x"
            )
    else:
        mean = np.asarray(state.running_mean, dtype=x.dtype)
        var = np.asarray(state.running_var, dtype=x.dtype)
        inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))  # (C,)
    x_hat = (x - _per_channel(mean, x.ndim)) * _per_channel(inv_std, x.ndim)
    out = _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)
    new_state = state.update(mean, var, m) if (training and state is not None) else state
    cache = {"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma, "batch_stats": use_batch}
    return out, cache, new_state


def batchnorm_backward(dout, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch norm: (dx, dgamma, dbeta) from the upstream gradient dout.

    dbeta = sum_i dout_i,  dgamma = sum_i dout_i x_hat_i,  dx_hat = gamma dout, and
    with batch statistics (mu_B and sigma_B^2 depend on every x_i):
        dx_i = (m dx_hat_i - sum_j dx_hat_j - x_hat_i sum_j dx_hat_j x_hat_j)
               / (m sqrt(sigma_B^2 + eps))
    with stored statistics (eval): dx_i = dx_hat_i / sqrt(running_var + eps).
    Sums run over the m values of each channel.

    Catalog: G4 (002 §4.3.3; the notes give no backward). Matches autograd of `nn.BatchNorm*d`.
    Shapes: dout the shape of x; returns dx (shape of x), dgamma (C,), dbeta (C,).
    """
    x_hat = cache["x_hat"]
    dout = check_array("dout", dout)
    check_same_shape("dout", dout, "x", x_hat)
    axes = _reduce_axes(x_hat)
    nd = x_hat.ndim
    dbeta = dout.sum(axis=axes)  # (C,)
    dgamma = (dout * x_hat).sum(axis=axes)  # (C,)
    dx_hat = dout * _per_channel(cache["gamma"], nd)
    inv_std = _per_channel(cache["inv_std"], nd)
    if not cache["batch_stats"]:
        return dx_hat * inv_std, dgamma, dbeta
    m = x_hat.size // x_hat.shape[1]
    s1 = _per_channel(dx_hat.sum(axis=axes), nd)  # (1, C, ...)
    s2 = _per_channel((dx_hat * x_hat).sum(axis=axes), nd)  # (1, C, ...)
    dx = inv_std / m * (m * dx_hat - s1 - x_hat * s2)
    return dx, dgamma, dbeta

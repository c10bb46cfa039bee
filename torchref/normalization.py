"""Batch normalization in PyTorch (G4): torch's layers, and the notes' test-time rule as a module.

Imports torch and `scratch.validation` only. The notes' training-time transform is exactly
`nn.BatchNorm1d/2d` in train() (biased batch variance, eps inside the square root). They differ
at test time: torch uses an exponential running average with the unbiased variance, the notes
(002 §4.3.3) "an average of the last few mini-batches". `LastKBatchNorm` implements the latter
with `F.batch_norm`, so autograd provides the backward.

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: G4 -> torch.nn:BatchNorm1d, torch.nn:BatchNorm2d
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratch.validation import (
    EPSILON,
    check_bool,
    check_channels,
    check_count,
    check_ndim,
    check_not_empty,
)

__all__ = ["LastKBatchNorm"]

EPS_RANGE = EPSILON


class LastKBatchNorm(nn.Module):
    """Batch norm whose eval statistics are the mean of the last k training batches' statistics.

    Train: y = gamma (x - mu_B)/sqrt(sigma_B^2 + eps) + beta with batch statistics (as
    nn.BatchNorm); (mu_B, sigma_B^2) are pushed into a ring buffer of k slots (sigma_B^2 biased,
    or times m/(m-1) with `unbiased=True`). Eval: normalize with the buffer's averages (mean 0,
    variance 1 before any training batch). Input (N, C), (N, C, L) or (N, C, H, W).
    Catalog: G4.
    """

    def __init__(
        self, num_features: int, k: int, eps: float = 1e-5, unbiased: bool = False
    ) -> None:
        super().__init__()
        # scratch.normalization.LastKStats's checks, in its order and words
        num_features, k = check_count("num_features", num_features), check_count("k", k)
        self.eps = EPS_RANGE.check("eps", eps)
        self.num_features, self.k = num_features, k
        self.unbiased = check_bool("unbiased", unbiased)
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("recent_means", torch.zeros(k, num_features))  # (k, C) ring buffer
        self.register_buffer("recent_vars", torch.ones(k, num_features))  # (k, C)
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def _stored(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = int(min(self.num_batches_tracked.item(), self.k))
        if n == 0:
            return torch.zeros_like(self.recent_means[0]), torch.ones_like(self.recent_vars[0])
        return self.recent_means[:n].mean(0), self.recent_vars[:n].mean(0)

    @property
    def running_mean(self) -> torch.Tensor:
        return self._stored()[0]

    @property
    def running_var(self) -> torch.Tensor:
        return self._stored()[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = tuple(x.shape)  # scratch.normalization.batchnorm_forward's checks and words
        check_ndim("x", shape, (2, 3, 4))
        check_not_empty("x", shape)
        check_channels("x", shape, self.num_features)
        if not self.training:
            mean, var = self._stored()
            return F.batch_norm(x, mean, var, self.weight, self.bias, False, 0.0, self.eps)
        dims = [0] + list(range(2, x.dim()))
        if x.numel() // x.shape[1] < 2:
            raise ValueError(
                f"training batch norm needs more than 1 value per channel, got x{tuple(x.shape)}"
            )
        with torch.no_grad():
            var = x.var(dim=dims, unbiased=self.unbiased)
            slot = int(self.num_batches_tracked.item()) % self.k
            self.recent_means[slot] = x.mean(dim=dims)
            self.recent_vars[slot] = var
            self.num_batches_tracked += 1
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, k={self.k}, eps={self.eps}, unbiased={self.unbiased}"

"""Data normalization (G1, G2) in PyTorch: fitted transforms as modules with buffers.

Imports torch and `scratch.validation` only. `Standardize().fit(X_train)` and
`PCATransform(mode).fit(X_train)` store the training statistics as buffers (they travel with
`state_dict` and `.to(device)`), and `forward(X)` applies them to any data. Conventions as in
`scratch.preprocessing`: sigma with 1/N (StandardScaler), covariance with 1/(N-1) (sklearn's PCA),
eigenvectors from `torch.linalg.eigh`, each signed so its largest-magnitude entry is positive.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from scratch.validation import Choice, Interval

__all__ = ["Standardize", "PCATransform", "MODES"]

MODES = Choice(("decorrelate", "whiten", "zca"))
EPS_RANGE = Interval(0, math.inf, "left")


def _check_X(X: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    if X.dim() != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty (N, D) tensor, got shape {tuple(X.shape)}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X must have {n_features} features (as the fitted data), got X{tuple(X.shape)}"
        )
    return X


class Standardize(nn.Module):
    """X_i <- (X_i - mu_i)/sigma_i with training mu, sigma (ddof=0; sigma = 0 -> 1). Catalog: G1."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.empty(0))
        self.register_buffer("scale", torch.empty(0))

    @torch.no_grad()
    def fit(self, X: torch.Tensor) -> Standardize:
        X = _check_X(X)
        self.mean = X.mean(0)
        sigma = X.std(0, correction=0)
        self.scale = torch.where(sigma == 0, torch.ones_like(sigma), sigma)
        return self

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.mean.numel() == 0:
            raise RuntimeError("Standardize must be fitted first: call .fit(X_train)")
        return (_check_X(X, self.mean.shape[0]) - self.mean) / self.scale


class PCATransform(nn.Module):
    """PCA of the training covariance, applied as `mode` (G2).

    "decorrelate": (X - mu) U               covariance diag(lambda)
    "whiten":      (X - mu) U diag(lambda + eps)^(-1/2)      covariance I
    "zca":         (X - mu) U diag(lambda + eps)^(-1/2) U^T  covariance I, original axes
    U holds the top `n_components` eigenvectors (all by default) of the covariance (ddof=1).
    Catalog: G2.
    """

    def __init__(self, mode: str = "whiten", n_components: int | None = None, eps: float = 0.0):
        super().__init__()
        self.mode = MODES.check("mode", mode)
        self.n_components = n_components
        self.eps = EPS_RANGE.check("eps", eps)
        self.register_buffer("mean", torch.empty(0))
        self.register_buffer("components", torch.empty(0))  # (k, D)
        self.register_buffer("variances", torch.empty(0))  # (k,)

    @torch.no_grad()
    def fit(self, X: torch.Tensor) -> PCATransform:
        X = _check_X(X)
        N, D = X.shape
        k = D if self.n_components is None else self.n_components
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= D:
            raise ValueError(
                f"n_components must be an integer in [1, {D}], got {self.n_components!r}"
            )
        if N < 2:
            raise ValueError(f"X must have more than 1 row(s) to fit a covariance, got X{(N, D)}")
        self.mean = X.mean(0)
        cov = torch.cov(X.T)  # (D, D), 1/(N - 1)
        lam, U = torch.linalg.eigh(cov)  # ascending
        lam, U = lam.flip(0)[:k], U.flip(1)[:, :k]  # (k,), (D, k), descending
        signs = torch.sign(U.gather(0, U.abs().argmax(0, keepdim=True)))  # (1, k)
        self.components = (U * signs).T.contiguous()
        self.variances = lam.clamp_min(0)
        if self.mode != "decorrelate" and bool(torch.any(self.variances + self.eps <= 0)):
            raise ValueError(
                f"whitening needs positive component variances, got smallest "
                f"{float(self.variances.min()):g}; pass eps > 0 or fewer n_components"
            )
        return self

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.mean.numel() == 0:
            raise RuntimeError("PCATransform must be fitted first: call .fit(X_train)")
        Z = (_check_X(X, self.mean.shape[0]) - self.mean) @ self.components.T  # (N, k)
        if self.mode == "decorrelate":
            return Z
        Z = Z * torch.rsqrt(self.variances + self.eps)
        return Z if self.mode == "whiten" else Z @ self.components  # zca: (N, k) @ (k, D)

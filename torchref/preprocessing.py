"""Data normalization (G1, G2) in PyTorch: fitted transforms as modules with buffers.

Imports torch, `scratch.validation`, `torchref.checks` and `scratch.preprocessing` (its
checks and their words, not its computations). `Standardize().fit(X_train)` and
`PCATransform(mode).fit(X_train)` store the training statistics as buffers (they travel with
`state_dict` and `.to(device)`), and `forward(X)` applies them to any data. Conventions as in
`scratch.preprocessing`: sigma with 1/N (StandardScaler), covariance with 1/(N-1) (sklearn's PCA),
eigenvectors from `torch.linalg.eigh`, each signed so its largest-magnitude entry is positive.
"""

from __future__ import annotations

import torch
from torch import nn

from scratch.preprocessing import (
    EPS_RANGE,
    check_covariance_rows,
    check_fitted_features,
    check_whitenable,
)
from scratch.validation import Choice, check_int
from torchref.checks import real_tensor

__all__ = ["Standardize", "PCATransform", "MODES"]

MODES = Choice(("decorrelate", "whiten", "zca"))


def _check_X(X: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    """scratch.preprocessing's checks of X: a finite, non-empty (N, D) tensor, D as fitted.
    Once per fit and per transform call (a host copy for the finiteness)."""
    X = real_tensor("X", X, ndim=2, allow_empty=False)
    if n_features is not None:
        check_fitted_features("X", tuple(X.shape), n_features)
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
        self.n_components = n_components  # checked by fit, which knows its bound D
        self.eps = EPS_RANGE.check("eps", eps)
        self.register_buffer("mean", torch.empty(0))
        self.register_buffer("components", torch.empty(0))  # (k, D)
        self.register_buffer("variances", torch.empty(0))  # (k,)

    @torch.no_grad()
    def fit(self, X: torch.Tensor) -> PCATransform:
        X = _check_X(X)
        D = X.shape[1]
        k = check_int("n_components", D if self.n_components is None else self.n_components, 1, D)
        check_covariance_rows("X", tuple(X.shape), 1)  # torch.cov divides by N - 1
        self.mean = X.mean(0)
        cov = torch.cov(X.T)  # (D, D), 1/(N - 1)
        lam, U = torch.linalg.eigh(cov)  # ascending
        lam, U = lam.flip(0)[:k], U.flip(1)[:, :k]  # (k,), (D, k), descending
        signs = torch.sign(U.gather(0, U.abs().argmax(0, keepdim=True)))  # (1, k)
        self.components = (U * signs).T.contiguous()
        self.variances = lam.clamp_min(0)
        if self.mode != "decorrelate":
            check_whitenable(float(self.variances.min()),
                             bool(torch.all(self.variances + self.eps > 0)))
        return self

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.mean.numel() == 0:
            raise RuntimeError("PCATransform must be fitted first: call .fit(X_train)")
        Z = (_check_X(X, self.mean.shape[0]) - self.mean) @ self.components.T  # (N, k)
        if self.mode == "decorrelate":
            return Z
        Z = Z * torch.rsqrt(self.variances + self.eps)
        return Z if self.mode == "whiten" else Z @ self.components  # zca: (N, k) @ (k, D)

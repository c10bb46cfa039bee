"""Data normalization (G1, G2) in NumPy: standardization, PCA decorrelation, PCA and ZCA whitening.

NumPy only. Every transform is fitted on training data (`*_fit` returns a frozen dataclass of
statistics) and applied to any data with the same features (`*_transform`), so validation and
test data are mapped with the training statistics, never their own.

The notes (002 §4.3.1): standardize each feature, X_i <- (X_i - mu_i)/sigma_i; or diagonalize the
covariance (decorrelation) or make it the identity (whitening); fig. 4.12. Conventions, stated
because libraries differ: sigma uses 1/N (ddof=0, as scikit-learn's StandardScaler); the
covariance for PCA uses 1/(N-1) (ddof=1, as scikit-learn's PCA, whose whitened output has unit
sample variance with that convention); each eigenvector's sign is fixed so that its entry of
largest magnitude is positive (an eigenvector is only defined up to sign).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratch.validation import NONNEGATIVE, check_array, check_int

__all__ = [
    "Standardizer",
    "PCAFit",
    "standardize_fit",
    "standardize_transform",
    "pca_fit",
    "decorrelate",
    "pca_whiten",
    "zca_whiten",
    "check_fitted_features",
    "check_covariance_rows",
    "check_whitenable",
]

EPS_RANGE = NONNEGATIVE  # added to every variance before the inverse square root


@dataclass(frozen=True)
class Standardizer:
    """Fitted standardization: mean (D,) and scale (D,) = sigma, or 1 where sigma = 0.

    Catalog: G1 (002 §4.3.1). torch: `torchref.preprocessing.Standardize` buffers.
    """

    mean: np.ndarray
    scale: np.ndarray


@dataclass(frozen=True)
class PCAFit:
    """Fitted PCA: mean, components (rows: eigenvectors of the covariance), variances, ddof.

    Rows of components are unit eigenvectors by decreasing eigenvalue; variances are those
    eigenvalues. Catalog: G2 (002 §4.3.1). torch: `torchref.preprocessing.PCATransform`
    buffers. Shapes: mean (D,), components (k, D), variances (k,).
    """

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    ddof: int


# ---- checks shared with torchref.preprocessing (which imports them) ----------------------


def check_fitted_features(name: str, shape: tuple[int, ...], n_features: int) -> None:
    """Raise unless data of `shape` (N, D) has the D features the transform was fitted on."""
    if shape[1:] != (n_features,):
        raise ValueError(
            f"{name} must have {n_features} features (as the fitted data), got {name}{shape}"
        )


def check_covariance_rows(name: str, shape: tuple[int, ...], ddof: int) -> None:
    """Raise unless (N, D) data has more than `ddof` rows (1/(N - ddof) needs N - ddof >= 1)."""
    if shape[0] - ddof < 1:
        raise ValueError(
            f"{name} must have more than {ddof} row(s) to fit a covariance, got {name}{shape}"
        )


def check_whitenable(smallest_variance: float, positive: bool) -> None:
    """Raise unless every component variance + eps is positive (`positive`: the caller's test)."""
    if not positive:
        raise ValueError(
            f"whitening needs positive component variances, got smallest "
            f"{smallest_variance:g}; pass eps > 0 or fewer n_components"
        )


def _check_X(name: str, X, n_features: int | None = None) -> np.ndarray:
    X = check_array(name, X, ndim=2, allow_empty=False)
    if n_features is not None:
        check_fitted_features(name, X.shape, n_features)
    return X


def standardize_fit(X) -> Standardizer:
    """Fit the notes' standardization: mu_i and sigma_i of every feature of the training data.

    sigma_i = sqrt(1/N sum_n (X_ni - mu_i)^2) (ddof=0). A constant feature (sigma_i = 0) gets
    scale 1, so it maps to 0 instead of NaN (scikit-learn does the same).
    Catalog: G1 (002 §4.3.1). scikit-learn: `StandardScaler().fit(X)` (mean_, scale_).
    Shapes: X (N, D); returns Standardizer with mean, scale (D,).
    """
    X = _check_X("X", X)
    mean = X.mean(axis=0)  # (D,)
    sigma = X.std(axis=0)  # (D,), ddof=0
    return Standardizer(mean, np.where(sigma == 0, np.ones_like(sigma), sigma))


def standardize_transform(fit: Standardizer, X) -> np.ndarray:
    """X_i <- (X_i - mu_i) / sigma_i with the training statistics of `fit`.

    Catalog: G1 (002 §4.3.1). Shapes: X (N, D) -> (N, D).
    """
    X = _check_X("X", X, fit.mean.shape[0])
    return (X - fit.mean) / fit.scale  # (N, D) - (D,) broadcasts over rows


def pca_fit(X, n_components: int | None = None, ddof: int = 1) -> PCAFit:
    """Diagonalize the training covariance: C = 1/(N - ddof) Xc^T Xc = U diag(lambda) U^T.

    Keeps the k = n_components eigenvectors of largest eigenvalue (all D by default), signs
    fixed as the module says. Eigen-decomposition of the symmetric C by `np.linalg.eigh`.
    Catalog: G2 (002 §4.3.1, fig. 4.12). scikit-learn: `PCA(n_components)` (components_,
    explained_variance_ with ddof=1; computed by SVD, same subspace, signs may differ).
    Shapes: X (N, D); returns PCAFit with mean (D,), components (k, D), variances (k,).
    """
    X = _check_X("X", X)
    N, D = X.shape
    k = check_int("n_components", D if n_components is None else n_components, 1, D)
    ddof = check_int("ddof", ddof, 0, 1)
    check_covariance_rows("X", X.shape, ddof)
    mean = X.mean(axis=0)  # (D,)
    Xc = X - mean  # (N, D)
    cov = Xc.T @ Xc / (N - ddof)  # (D, D)
    lam, U = np.linalg.eigh(cov)  # ascending eigenvalues, eigenvectors as columns
    order = np.argsort(lam)[::-1][:k]
    lam, U = lam[order], U[:, order]  # (k,), (D, k)
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(k)])  # (k,)
    U = U * signs  # largest-magnitude entry of each eigenvector positive
    # eigh can return -1e-17 for a zero eigenvalue of a PSD matrix; a variance is >= 0.
    lam = np.maximum(lam, 0)
    return PCAFit(mean, U.T.copy(), lam, int(ddof))


def decorrelate(fit: PCAFit, X) -> np.ndarray:
    """Rotate centred data onto the principal axes: Z = (X - mu) U; Cov(Z) = diag(lambda).

    Catalog: G2 (002 §4.3.1, "diagonalize the covariance"). scikit-learn:
    `PCA(whiten=False).transform`. Shapes: X (N, D) -> (N, k).
    """
    X = _check_X("X", X, fit.mean.shape[0])
    return (X - fit.mean) @ fit.components.T  # (N, D) @ (D, k) -> (N, k)


def _inv_sqrt(fit: PCAFit, eps: float) -> np.ndarray:
    eps = EPS_RANGE.check("eps", eps)
    var = fit.variances + eps  # (k,)
    check_whitenable(fit.variances.min(), bool(np.all(var > 0)))
    return 1.0 / np.sqrt(var)


def pca_whiten(fit: PCAFit, X, eps: float = 0.0) -> np.ndarray:
    """PCA whitening: Z = (X - mu) U diag(lambda + eps)^(-1/2); Cov(Z) = I (eps = 0, train data).

    Catalog: G2 (002 §4.3.1, "make the covariance the identity"). scikit-learn:
    `PCA(whiten=True).transform` (ddof=1), up to the sign of each component.
    Shapes: X (N, D) -> (N, k).
    """
    return decorrelate(fit, X) * _inv_sqrt(fit, eps)  # (N, k) * (k,)


def zca_whiten(fit: PCAFit, X, eps: float = 0.0) -> np.ndarray:
    """ZCA whitening: Z = (X - mu) U diag(lambda + eps)^(-1/2) U^T = (X - mu) C^(-1/2).

    Rotates the PCA-whitened data back to the original axes, so Z stays as close to X as a
    whitening can; symmetric, and independent of the eigenvector signs. With all D components
    and eps = 0 it is (X - mu) times the inverse square root of the covariance.
    Catalog: G2 (002 §4.3.1). Shapes: X (N, D) -> (N, D).
    """
    return pca_whiten(fit, X, eps) @ fit.components  # (N, k) @ (k, D) -> (N, D)

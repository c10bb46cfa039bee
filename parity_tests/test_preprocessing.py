"""Data normalization (G1, G2): scratch.preprocessing vs scikit-learn (StandardScaler, PCA),
vs torchref.preprocessing, and vs closed forms (covariance diagonal / identity, C^(-1/2)).

Conventions (stated in scratch.preprocessing): StandardScaler's sigma has ddof=0; PCA's
covariance ddof=1; an eigenvector is defined up to sign, so comparisons with scikit-learn flip
each of its components to match ours first (`_align_signs`), and ZCA needs no alignment at all.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from parity_tests.helpers import TORCH_DTYPE, assert_close, to_torch
from scratch.preprocessing import (
    decorrelate,
    pca_fit,
    pca_whiten,
    standardize_fit,
    standardize_transform,
    zca_whiten,
)
from torchref.preprocessing import PCATransform, Standardize

# float32: covariances of N rows sum N products; eigenvectors of nearby eigenvalues are
# sensitive (1/gap), so float32 comparisons use rtol/atol 1e-3 / 1e-4 on O(1) outputs.
LOOSE32 = {"rtol": 1e-3, "atol": 1e-4}


def _correlated(rng, n, d, dtype=np.float64):
    # Full-rank, strongly correlated, well-separated spectrum, non-zero mean.
    A = rng.normal(size=(d, d)) @ np.diag(np.linspace(3.0, 0.5, d))
    return (rng.normal(size=(n, d)) @ A + rng.normal(size=d) * 5).astype(dtype)


def _cov(Z):
    return np.cov(Z, rowvar=False, ddof=1)


def _align_signs(theirs: np.ndarray, ours: np.ndarray) -> np.ndarray:
    """Flip each column of `theirs` (N, k) to point the same way as the column of `ours`."""
    signs = np.sign(np.sum(theirs * ours, axis=0))  # (k,)
    return theirs * signs


def _tol(dtype):
    return {} if dtype == np.float64 else LOOSE32


# ---- G1: standardization ------------------------------------------------------------------


@pytest.mark.catalog("G1")
def test_standardize_matches_sklearn_standard_scaler_on_train_and_new_data(rng, dtype):
    X, X_new = _correlated(rng, 80, 5, dtype), _correlated(rng, 20, 5, dtype)
    fit = standardize_fit(X)
    sk = StandardScaler().fit(X)
    assert_close(fit.mean, sk.mean_, dtype)
    assert_close(fit.scale, sk.scale_, dtype)
    assert_close(standardize_transform(fit, X), sk.transform(X), dtype)
    assert_close(standardize_transform(fit, X_new), sk.transform(X_new), dtype)


@pytest.mark.catalog("G1")
def test_standardized_train_data_has_zero_mean_and_unit_variance_but_new_data_does_not(rng):
    X, X_new = _correlated(rng, 80, 5), _correlated(rng, 40, 5)
    fit = standardize_fit(X)
    Z = standardize_transform(fit, X)
    assert_close(Z.mean(0), np.zeros(5), atol=1e-12)
    assert_close(Z.std(0), np.ones(5))
    # New data uses the training statistics, not its own: its moments are not exactly 0 / 1.
    Z_new = standardize_transform(fit, X_new)
    assert np.max(np.abs(Z_new.mean(0))) > 1e-3


@pytest.mark.catalog("G1")
def test_standardize_maps_a_constant_feature_to_zero_like_sklearn(rng):
    X = _correlated(rng, 30, 3)
    X[:, 1] = 7.0
    fit = standardize_fit(X)
    Z = standardize_transform(fit, X)
    assert np.all(Z[:, 1] == 0) and fit.scale[1] == 1.0
    assert_close(Z, StandardScaler().fit_transform(X))


@pytest.mark.catalog("G1")
def test_torch_standardize_matches_scratch(rng, dtype):
    X, X_new = _correlated(rng, 50, 4, dtype), _correlated(rng, 10, 4, dtype)
    X[:, 2] = 1.5  # constant feature
    mod = Standardize().fit(to_torch(X))
    fit = standardize_fit(X)
    assert_close(mod(to_torch(X_new)), standardize_transform(fit, X_new), dtype)
    assert mod.mean.dtype == TORCH_DTYPE[dtype]


# ---- G2: PCA decorrelation and whitening ----------------------------------------------------


@pytest.mark.catalog("G2")
def test_decorrelated_train_covariance_is_diagonal_with_the_eigenvalues(rng, dtype):
    X = _correlated(rng, 200, 6, dtype)
    fit = pca_fit(X)
    C = _cov(decorrelate(fit, X).astype(np.float64))
    off = C - np.diag(np.diag(C))
    atol = 1e-10 if dtype == np.float64 else 1e-3  # float32: rounding of 200-term sums
    assert np.max(np.abs(off)) < atol
    assert_close(np.diag(C), fit.variances.astype(np.float64), rtol=1e-9 if dtype == np.float64
                 else 1e-4)
    assert np.all(np.diff(fit.variances) <= 0)  # descending
    assert_close(fit.components @ fit.components.T, np.eye(6), dtype, **_tol(dtype))


@pytest.mark.catalog("G2")
@pytest.mark.parametrize("k", [None, 3])
def test_decorrelate_matches_sklearn_pca_up_to_component_signs(rng, dtype, k):
    X, X_new = _correlated(rng, 150, 6, dtype), _correlated(rng, 30, 6, dtype)
    fit = pca_fit(X, n_components=k)
    sk = PCA(n_components=k, svd_solver="full").fit(X)
    assert_close(fit.variances, sk.explained_variance_, dtype, **_tol(dtype))
    for data in (X, X_new):
        ours = decorrelate(fit, data)
        assert_close(ours, _align_signs(sk.transform(data), ours), dtype, **_tol(dtype))


@pytest.mark.catalog("G2")
def test_pca_whitened_train_covariance_is_the_identity(rng, dtype):
    X = _correlated(rng, 200, 6, dtype)
    Z = pca_whiten(pca_fit(X), X)
    assert_close(_cov(Z.astype(np.float64)), np.eye(6), atol=1e-10 if dtype == np.float64
                 else 1e-4)


@pytest.mark.catalog("G2")
def test_pca_whiten_matches_sklearn_pca_whiten_on_train_and_new_data(rng, dtype):
    X, X_new = _correlated(rng, 150, 6, dtype), _correlated(rng, 30, 6, dtype)
    fit = pca_fit(X)
    sk = PCA(whiten=True, svd_solver="full").fit(X)
    for data in (X, X_new):
        ours = pca_whiten(fit, data)
        assert_close(ours, _align_signs(sk.transform(data), ours), dtype, **_tol(dtype))


@pytest.mark.catalog("G2")
def test_pca_whiten_on_digits_matches_sklearn_with_20_components():
    X = load_digits().data  # (1797, 64), several constant-zero pixels: rank < 64
    X_train, X_test = X[:1200], X[1200:]
    fit = pca_fit(X_train, n_components=20)
    sk = PCA(n_components=20, whiten=True, svd_solver="full").fit(X_train)
    ours = pca_whiten(fit, X_test)
    # Pixel values up to 16 and eigenvalues down to ~1e1: agreement to ~1e-9 relative.
    assert_close(ours, _align_signs(sk.transform(X_test), ours), rtol=1e-8, atol=1e-9)
    assert_close(_cov(pca_whiten(fit, X_train)), np.eye(20), atol=1e-9)


@pytest.mark.catalog("G2")
def test_zca_whitening_is_the_inverse_square_root_of_the_covariance(rng, dtype):
    X, X_new = _correlated(rng, 200, 5, dtype), _correlated(rng, 30, 5, dtype)
    fit = pca_fit(X)
    # Independent closed form: scipy's matrix square root of the inverse covariance.
    C = np.cov(X.astype(np.float64), rowvar=False, ddof=1)
    W = np.real(scipy.linalg.sqrtm(np.linalg.inv(C)))
    for data in (X, X_new):
        expected = (data.astype(np.float64) - X.astype(np.float64).mean(0)) @ W
        assert_close(zca_whiten(fit, data), expected.astype(dtype), dtype, **_tol(dtype))
    assert_close(_cov(zca_whiten(fit, X).astype(np.float64)), np.eye(5),
                 atol=1e-10 if dtype == np.float64 else 1e-4)


@pytest.mark.catalog("G2")
def test_zca_does_not_depend_on_eigenvector_signs_and_stays_closest_to_the_data(rng):
    X = _correlated(rng, 200, 4)
    fit = pca_fit(X)
    flipped = type(fit)(fit.mean, fit.components * np.array([[1], [-1], [1], [-1]]),
                        fit.variances, fit.ddof)
    assert_close(zca_whiten(fit, X), zca_whiten(flipped, X))
    assert not np.allclose(pca_whiten(fit, X), pca_whiten(flipped, X))
    # Among whitenings Z = Xc W Q (Q orthogonal), ZCA keeps Z closest to the centred data.
    Xc = X - X.mean(0)
    assert np.linalg.norm(zca_whiten(fit, X) - Xc) < np.linalg.norm(pca_whiten(fit, X) - Xc)


@pytest.mark.catalog("G2")
@pytest.mark.parametrize("mode", ["decorrelate", "whiten", "zca"])
def test_torch_pca_transform_matches_scratch(rng, dtype, mode):
    X, X_new = _correlated(rng, 120, 5, dtype), _correlated(rng, 25, 5, dtype)
    fit = pca_fit(X, n_components=4)
    scratch_fn = {"decorrelate": decorrelate, "whiten": pca_whiten, "zca": zca_whiten}[mode]
    mod = PCATransform(mode, n_components=4).fit(to_torch(X))
    assert_close(mod.components, fit.components, dtype, **_tol(dtype))
    assert_close(mod(to_torch(X_new)), scratch_fn(fit, X_new), dtype, **_tol(dtype))


@pytest.mark.catalog("G2")
def test_eps_regularizes_whitening_of_rank_deficient_data(rng):
    X = _correlated(rng, 60, 4)
    X = np.hstack([X, X[:, :1] * 2.0])  # (60, 5), rank 4: one zero eigenvalue
    fit = pca_fit(X)
    with pytest.raises(ValueError, match="whitening needs positive component variances"):
        pca_whiten(fit, X)
    Z = pca_whiten(fit, X, eps=1e-2)
    assert np.all(np.isfinite(Z))
    # Each component's variance becomes lambda / (lambda + eps): below 1, 0 for the null one.
    assert_close(np.var(Z, axis=0, ddof=1), fit.variances / (fit.variances + 1e-2), atol=1e-10)


@pytest.mark.catalog("G2")
@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), n=st.integers(12, 60), d=st.integers(1, 6))
def test_whitening_gives_identity_covariance_for_any_full_rank_data(seed, n, d):
    X = _correlated(np.random.default_rng(seed), n, d)
    fit = pca_fit(X)
    for Z in (pca_whiten(fit, X), zca_whiten(fit, X)):
        np.testing.assert_allclose(_cov(Z).reshape(d, d), np.eye(d), atol=1e-8)


def test_preprocessing_bad_input_is_a_clear_error(rng):
    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"X must have 2 dimension\(s\), got shape \(10,\)"):
        standardize_fit(X[:, 0])
    with pytest.raises(ValueError, match=r"X must have 3 features \(as the fitted data\)"):
        standardize_transform(standardize_fit(X), X[:, :2])
    with pytest.raises(ValueError, match=r"n_components must be an integer in \[1, 3\], got 4"):
        pca_fit(X, n_components=4)
    with pytest.raises(ValueError, match=r"ddof must be an integer in \[0, 1\], got 2"):
        pca_fit(X, ddof=2)
    with pytest.raises(ValueError, match="more than 1 row"):
        pca_fit(X[:1])
    with pytest.raises(ValueError, match=r"eps must be in \[0, inf\), got -1.0"):
        pca_whiten(pca_fit(X), X, eps=-1.0)
    with pytest.raises(ValueError, match="X must be finite"):
        standardize_fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="unknown mode 'pca'; valid choices"):
        PCATransform("pca")
    with pytest.raises(RuntimeError, match="must be fitted first"):
        PCATransform()(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"X must have 3 features"):
        Standardize().fit(torch.zeros(4, 3))(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="whitening needs positive component variances"):
        PCATransform("whiten").fit(torch.zeros(5, 2, dtype=torch.float64))

"""scratch.numpy_blas.axpy (`y <- a x + y` through NumPy's own OpenBLAS) and the optimizer
steps that use it: the same values as NumPy's formula up to one rounding, nothing touched
where BLAS cannot, and the classes' in-place steps equal to the pure update rules.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import scratch.numpy_blas as nb
from scratch import optim as so

_WHEEL_OPENBLAS = bool(
    nb._numpy_links_openblas()
    and glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
)


def _rounding_error(result: np.ndarray, a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|result - (a x + y)| with `a x + y` computed exactly enough (float32 inputs in float64;
    float64 inputs in long double, 64-bit mantissa on x86-64), in units of the spacing of the
    larger of |result| and |a x|: one rounding (a fused multiply-add) is at most 1/2 of it,
    two (the product rounded first, then the sum) at most 1."""
    dt = result.dtype
    wide = np.float64 if dt == np.float32 else np.longdouble
    ax = wide(dt.type(a)) * x.astype(wide)
    exact = ax + y.astype(wide)
    scale = np.maximum(np.abs(result), np.abs(ax).astype(dt))
    return np.abs(result.astype(wide) - exact) / np.spacing(scale).astype(wide)


@pytest.mark.skipif(not _WHEEL_OPENBLAS, reason="NumPy here is not a wheel bundling OpenBLAS")
def test_axpy_finds_the_openblas_numpy_wheels_bundle():
    # Without it every call silently falls back to NumPy: the speed-up would be gone unseen.
    for dtype in (np.float32, np.float64):
        assert nb._cblas_axpy(np.dtype(dtype)) is not None


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(0,), (1,), (17,), (33, 65), (512, 784)], ids=str)
def test_axpy_is_a_x_plus_y_rounded_once_in_place(rng, dtype, order, shape):
    x = np.asarray(rng.normal(size=shape), dtype=dtype, order=order)
    y0 = np.asarray(rng.normal(size=shape), dtype=dtype, order=order)
    y = y0.copy(order=order)
    done = nb.axpy(-0.01, x, y)
    assert done == (_WHEEL_OPENBLAS or nb._cblas_axpy(np.dtype(dtype)) is not None)
    if not done:
        np.testing.assert_array_equal(y, y0)
        return
    assert y.dtype == dtype and y.flags.c_contiguous == y0.flags.c_contiguous
    # one rounding (FMA kernels) or two (kernels without FMA, e.g. OPENBLAS_CORETYPE=Sandybridge)
    assert np.all(_rounding_error(y, -0.01, x, y0) <= 1.0)


def _refusals(rng):
    """(x, y) pairs BLAS cannot take as flat vectors: `axpy` must leave y alone."""
    a = rng.normal(size=(6, 8))
    f32 = a.astype(np.float32)
    read_only = a.copy()
    read_only.flags.writeable = False
    shared = a.copy()
    return {
        "dtypes differ": (f32, a.copy()),
        "float16": (a.astype(np.float16), a.astype(np.float16)),
        "integers": (np.ones((6, 8), int), np.ones((6, 8), int)),
        "shapes differ": (a[:, :4].copy(), a[:4].T.copy()),
        "x strided": (np.repeat(a, 2, axis=1)[:, ::2], a.copy()),
        "orders differ": (np.asfortranarray(a), a.copy()),
        "y read-only": (a.copy(), read_only),
        "x is y": (shared, shared),
        "x overlaps y": (shared.ravel()[1:13].reshape(3, 4), shared.ravel()[:12].reshape(3, 4)),
    }


@pytest.mark.parametrize("case", sorted(_refusals(np.random.default_rng(0))))
def test_axpy_refuses_and_leaves_y_alone_where_blas_cannot(rng, case):
    x, y = _refusals(rng)[case]
    before = y.copy()
    assert nb.axpy(0.5, x, y) is False
    np.testing.assert_array_equal(y, before)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_in_place_step_equals_the_pure_rules_within_one_rounding(rng, dtype, momentum,
                                                                     nesterov):
    # The class updates in place through axpy; the public rules return new arrays by NumPy's
    # formula. Three steps, so that the momentum buffer carries the difference forward. (The
    # gradients are given: Nesterov's look-ahead point does not enter the update itself.)
    shapes = [(64, 96), (64,), (10, 64), (10,)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    ref = [p.copy() for p in params]
    bufs = [np.zeros_like(p) for p in params]
    opt = so.SGD(lr=0.05, momentum=momentum, nesterov=nesterov)
    for _ in range(3):
        grads = [rng.normal(size=s).astype(dtype) for s in shapes]
        opt.step(params, grads)
        for i, (w, g) in enumerate(zip(ref, grads, strict=True)):
            if momentum == 0.0:
                ref[i] = so.gd_update(w, g, lr=0.05)
            elif nesterov:
                ref[i], bufs[i] = so.nesterov_update(w, g, bufs[i], lr=0.05, mu=momentum)
            else:
                ref[i], bufs[i] = so.momentum_update(w, g, bufs[i], lr=0.05, mu=momentum)
    for p, r in zip(params, ref, strict=True):
        assert p.dtype == dtype
        eps = np.finfo(dtype).eps  # entries are O(1): a few roundings apart at most
        np.testing.assert_allclose(p, r, rtol=8 * eps, atol=16 * eps)

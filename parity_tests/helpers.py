"""Shared test helpers: default tolerances and dtype plumbing.

Tolerances are the project's defaults (docs/design.md, "Parity-test conventions"). A test
that loosens one says why in a comment next to it.

Which default applies: the *lower* precision of everything involved in the comparison, i.e.
of the two sides compared and of the test's dtype (`tolerance_dtype`). A float32 computation
compared with a Python float (float64) gets the float32 tolerance; a float32 test gets the
float32 tolerance even if both sides happen to come back as float64. float32 roundings differ
between CPUs (AVX-512, AVX2, SSE kernels sum in different orders), so a float32 result held
to the float64 tolerance passes on one machine and fails on another.
"""

from __future__ import annotations

import numpy as np
import torch

from parity_tests import record

# float64: both sides compute the same formula in a different order; only rounding differs.
F64 = {"rtol": 1e-10, "atol": 1e-12}
# float32: ~2**-23 per operation, a few dozen operations deep.
F32 = {"rtol": 1e-5, "atol": 1e-6}

TOLERANCES = {np.dtype(np.float64): F64, np.dtype(np.float32): F32}
DTYPES = (np.float64, np.float32)
TORCH_DTYPE = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
# torch's floating dtypes as the NumPy dtype of the same precision (bfloat16 has none: it is
# listed as float16, the nearest precision NumPy has, only so it ranks below float32).
_NUMPY_OF_TORCH = {
    torch.float64: np.dtype(np.float64),
    torch.float32: np.dtype(np.float32),
    torch.float16: np.dtype(np.float16),
    torch.bfloat16: np.dtype(np.float16),
    torch.complex128: np.dtype(np.float64),
    torch.complex64: np.dtype(np.float32),
}


def tol(dtype) -> dict:
    """Default `rtol`/`atol` for a NumPy or torch dtype."""
    dtype = _as_numpy_dtype(dtype)
    try:
        return TOLERANCES[dtype]
    except KeyError:
        raise KeyError(
            f"no default tolerance for {dtype}; pass rtol and atol explicitly"
        ) from None


def precision_of(value) -> np.dtype | None:
    """The floating precision `value` carries (float64 or float32), or None if it has none.

    Python floats are float64; ints, bools and integer arrays carry no rounding and so do not
    lower the precision of a comparison. Complex values count as their real part.
    """
    if isinstance(value, torch.Tensor):
        return _NUMPY_OF_TORCH.get(value.dtype)
    if isinstance(value, bool | int):
        return None
    if isinstance(value, float | complex):
        return np.dtype(np.float64)
    dtype = value.dtype if isinstance(value, np.ndarray | np.generic) else _dtype_of(value)
    if dtype is None or dtype.kind not in "fc":
        return None
    return np.dtype(f"f{dtype.itemsize // 2}") if dtype.kind == "c" else dtype


def tolerance_dtype(*values, dtype=None) -> np.dtype:
    """The lowest floating precision among `values` and the test's `dtype` (float64 if none).

    This is the dtype whose default tolerance a comparison of `values` uses.
    """
    found = [precision_of(v) for v in values]
    if dtype is not None:
        found.append(_as_numpy_dtype(dtype))
    found = [d for d in found if d is not None]
    if not found:
        return np.dtype(np.float64)
    return min(found, key=lambda d: d.itemsize)  # real float dtypes: fewer bytes, fewer bits


def to_torch(x: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    """A torch tensor with the same dtype and values as `x` (a copy, never shared memory)."""
    t = torch.tensor(np.array(x, copy=True))
    return t.requires_grad_(requires_grad)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def assert_close(actual, expected, dtype=None, **override) -> None:
    """np.testing.assert_allclose with the project's tolerance for the comparison.

    The default tolerance is that of `tolerance_dtype(actual, expected, dtype=dtype)`: the
    lower precision of the two sides and of the test's `dtype`. `rtol`/`atol` in `override`
    replace the default (say why in a comment at the call).
    """
    chosen = tolerance_dtype(actual, expected, dtype=dtype)
    if isinstance(actual, torch.Tensor):
        actual = to_numpy(actual)
    if isinstance(expected, torch.Tensor):
        expected = to_numpy(expected)
    kw = {} if {"rtol", "atol"} <= override.keys() else dict(tol(chosen))
    kw.update(override)
    record.assert_allclose(actual, expected, tolerance_dtype=chosen, **kw)


def _as_numpy_dtype(dtype) -> np.dtype:
    if isinstance(dtype, torch.dtype):
        if dtype not in _NUMPY_OF_TORCH:
            raise KeyError(f"no default tolerance for {dtype}; pass rtol and atol explicitly")
        return _NUMPY_OF_TORCH[dtype]
    return np.dtype(dtype)


def _dtype_of(value) -> np.dtype | None:
    try:
        return np.asarray(value).dtype
    except (TypeError, ValueError, RuntimeError):  # ragged lists, lists of tensors
        return None


def record_passed_comparison(actual, expected, dtype=None, *, rtol: float, atol: float) -> None:
    """Record, for `--parity-record`, a comparison the test checked by other means.

    For hot loops that compare with one vectorized `np.isclose` per step instead of
    `assert_close` (call it after the check passed); does nothing when not recording.
    """
    if record.active():
        record.observe(actual, expected, rtol, atol, tolerance_dtype(actual, expected, dtype=dtype))

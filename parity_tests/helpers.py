"""Shared test helpers: default tolerances and dtype plumbing.

Tolerances are the project's defaults (docs/design.md, "Parity-test conventions"). A test
that loosens one says why in a comment next to it.
"""

from __future__ import annotations

import numpy as np
import torch

# float64: both sides compute the same formula in a different order; only rounding differs.
F64 = {"rtol": 1e-10, "atol": 1e-12}
# float32: ~2**-23 per operation, a few dozen operations deep.
F32 = {"rtol": 1e-5, "atol": 1e-6}

TOLERANCES = {np.dtype(np.float64): F64, np.dtype(np.float32): F32}
DTYPES = (np.float64, np.float32)
TORCH_DTYPE = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}


def tol(dtype) -> dict:
    """Default `rtol`/`atol` for a NumPy or torch dtype."""
    if isinstance(dtype, torch.dtype):
        dtype = {torch.float64: np.float64, torch.float32: np.float32}[dtype]
    return TOLERANCES[np.dtype(dtype)]


def to_torch(x: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    """A torch tensor with the same dtype and values as `x` (a copy, never shared memory)."""
    t = torch.tensor(np.array(x, copy=True))
    return t.requires_grad_(requires_grad)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def assert_close(actual, expected, dtype=None, **override) -> None:
    """np.testing.assert_allclose with the project's tolerance for `dtype`."""
    if isinstance(actual, torch.Tensor):
        actual = to_numpy(actual)
    if isinstance(expected, torch.Tensor):
        expected = to_numpy(expected)
    dtype = dtype if dtype is not None else np.asarray(actual).dtype
    kw = dict(tol(dtype))
    kw.update(override)
    np.testing.assert_allclose(actual, expected, **kw)

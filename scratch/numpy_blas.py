"""`y <- a x + y` in place through NumPy's own BLAS: the one operation of a training step that
NumPy has no function for.

NumPy + ctypes (standard library); no torch. Nothing happens on import: the library is looked
up on the first call of `axpy`.

Why: the SGD update `w <- w - lr dw` (F1) in NumPy is `w -= lr * dw`, two passes over the
parameter and a parameter-sized temporary; BLAS's axpy does it in one pass, in place, with
one rounding (a fused multiply-add, as torch.optim.SGD's `p.add_(g, alpha=-lr)` on CPUs that
have one), and OpenBLAS splits it over its threads. Measured on the 784-512-256-10 update
(docs/performance.md, case 2): 76 us against 109 us in float32, 131 against 225 in float64,
one thread. SciPy exposes axpy (`scipy.linalg.blas.saxpy`), but SciPy's wheels bundle a
second OpenBLAS with a pool of threads of its own, which would spin on the same cores as
NumPy's between the step's matrix products. So this calls the OpenBLAS that NumPy's wheels
bundle and already run the step's matrix products on, through its CBLAS symbol: NumPy 2
wheels ship it as `scipy-openblas64` (`scipy_cblas_saxpy64_`), NumPy 1.26 wheels as
`openblas64_` (`cblas_saxpy64_`); both take 64-bit integers. Where NumPy's build configuration
names another BLAS or no such library is found, `axpy` says so (returns False) and callers use
NumPy.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import cache

import numpy as np

__all__ = ["axpy"]

_DTYPES = {np.dtype(np.float32): ("s", ctypes.c_float),
           np.dtype(np.float64): ("d", ctypes.c_double)}
_SYMBOLS = ("scipy_cblas_{t}axpy64_", "cblas_{t}axpy64_")  # NumPy >= 2.0, NumPy 1.26 wheels


def _numpy_links_openblas() -> bool:
    """Whether NumPy was built against OpenBLAS (its build configuration says so): a wheel
    that links another BLAS (Accelerate on recent macOS) may still carry no OpenBLAS, or one
    NumPy does not call, whose thread pool would then compete with NumPy's."""
    try:
        name = np.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    except (AttributeError, KeyError, TypeError):  # NumPy < 1.26: no CONFIG dict
        return False
    return "openblas" in str(name).lower()


@cache
def _numpy_openblas() -> ctypes.CDLL | None:
    """The OpenBLAS bundled in NumPy's wheel (`numpy.libs/` on Linux and Windows, `.dylibs/`
    on macOS), already loaded by NumPy: dlopen returns that same library and thread pool."""
    if not _numpy_links_openblas():
        return None
    here = os.path.dirname(np.__file__)
    for pattern in (os.path.join(here, os.pardir, "numpy.libs", "*openblas*"),
                    os.path.join(here, ".dylibs", "*openblas*")):
        for path in sorted(glob.glob(pattern)):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


@cache
def _cblas_axpy(dtype: np.dtype):
    lib = _numpy_openblas()
    if lib is None:
        return None
    t, scalar = _DTYPES[dtype]
    for name in _SYMBOLS:
        fn = getattr(lib, name.format(t=t), None)
        if fn is not None:
            fn.restype = None  # void cblas_?axpy(n, alpha, x, incx, y, incy), 64-bit ints
            fn.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64,
                           ctypes.c_void_p, ctypes.c_int64]
            return fn
    return None


def axpy(a: float, x: np.ndarray, y: np.ndarray) -> bool:
    """`y <- a x + y` in place; True if done, False (nothing touched) when BLAS cannot.

    BLAS can when `x` and `y` are float32 or float64 arrays of one dtype and one shape, both
    in C order or both in Fortran order (so that their flat orders match), `y` is writeable
    and does not overlap `x`, and NumPy's bundled OpenBLAS was found. One pass: reads `x`
    and `y` once, writes `y`; `a` is rounded to the arrays' dtype (as NumPy rounds a Python
    float next to a float32 array) and each entry is rounded once.
    Shapes: x and y the same shape (any).
    """
    dtype = y.dtype
    if (
        dtype not in _DTYPES
        or x.dtype != dtype
        or x.shape != y.shape
        or not y.flags.writeable
        or not ((y.flags.c_contiguous and x.flags.c_contiguous)
                or (y.flags.f_contiguous and x.flags.f_contiguous))
        or np.may_share_memory(x, y)
    ):
        return False
    fn = _cblas_axpy(dtype)
    if fn is None:
        return False
    fn(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    return True

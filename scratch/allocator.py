"""Keep freed memory in the process instead of handing it back to the OS after every step.

Plain Python + ctypes; no torch. Why this exists (measured in docs/performance.md): a NumPy
training step allocates its activations and gradients anew every step. With glibc's default
settings, the top of the heap is returned to the OS whenever enough of it is free, so the
next step page-faults the same memory in again: ~3,500 faults and +60% time per step on the
784-512-256-10 float64 MLP, where PyTorch's caching allocator takes none. Asking glibc to keep
a pad at the top of the heap (`M_TOP_PAD`) removes them. It is the same trade torch makes
(memory kept for reuse), bounded here by the pad.

`scratch/__init__.py` applies it on import; set `TORCHREF_KEEP_FREED_MEMORY=0` to opt out.
"""

from __future__ import annotations

import ctypes
import os
import sys

from scratch.validation import check_count

__all__ = ["DEFAULT_PAD_BYTES", "retain_freed_memory"]

DEFAULT_PAD_BYTES = 64 << 20  # 64 MiB: covers the temporaries of one step of the benchmark MLPs
_M_TOP_PAD = -2  # glibc's mallopt parameter number (malloc.h)


def retain_freed_memory(pad_bytes: int = DEFAULT_PAD_BYTES) -> bool:
    """Ask glibc to keep `pad_bytes` of freed heap instead of trimming it; True if applied.

    Does nothing (returns False) off Linux, on a C library without `mallopt`, or when the
    environment variable TORCHREF_KEEP_FREED_MEMORY is "0".
    """
    pad_bytes = check_count("pad_bytes", pad_bytes, 0)
    if os.environ.get("TORCHREF_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith(
        "linux"
    ):
        return False
    try:
        # The process's own symbols already include the C library's: no library search (which
        # runs `ldconfig` in a subprocess) on every import of scratch.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt, nothing to tune
        return False
    return bool(mallopt(_M_TOP_PAD, min(pad_bytes, 2**31 - 1)))

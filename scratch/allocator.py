"""Keep freed memory in the process instead of handing it back to the OS: an explicit opt-in.

Plain Python + ctypes; no torch. Nothing happens on import: a library must not change a
process-wide setting by being imported, so a program that wants this calls
`retain_freed_memory()` itself (`python -m benchmarks` does, in its NumPy-side timing worker).

What it does: glibc returns the top of the heap to the OS whenever enough of it is free,
and serves allocations above its mmap threshold with fresh mappings, unmapped again on
free; either way a program that frees and reallocates large temporaries every step
page-faults the same memory in again (one fault per 4 KiB). By default glibc adapts both
thresholds to the sizes a program frees, which helps until a step frees more than twice
its largest temporary. The call fixes them instead: allocations up to 32 MiB come from the
heap (`M_MMAP_THRESHOLD`, the most glibc accepts), and up to `pad_bytes` of freed heap
stays in the process (`M_TRIM_THRESHOLD`, `M_TOP_PAD`: the heap also grows by that much at
once). It is the trade torch's caching allocator makes: memory kept for reuse, bounded by
the pad. All three are set because setting any one of them stops glibc's adaptation: with
`M_TOP_PAD` alone, every array over 128 KiB was mapped and faulted in anew on each
allocation (a 1.6 MB temporary: 393 faults and 10x the time).

The scratch MLP's training step in a `scratch.mlp.StepWorkspace` allocates nothing in
steady state and does not need this; docs/performance.md measures what it does for the
step without one.
"""

from __future__ import annotations

import ctypes
import sys

from scratch.validation import check_count

__all__ = ["DEFAULT_PAD_BYTES", "retain_freed_memory", "retained_pad"]

DEFAULT_PAD_BYTES = 64 << 20  # 64 MiB: covers the temporaries of one step of the benchmark MLPs
# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_MAX_PAD = 2**31 - 1  # mallopt takes a C int
_MMAP_THRESHOLD = 32 << 20  # the most glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)

_pad_in_force: int | None = None  # set by the last call that took effect


def retain_freed_memory(pad_bytes: int = DEFAULT_PAD_BYTES) -> bool:
    """Keep up to `pad_bytes` of freed heap in the process for reuse; True if in force.

    Sets glibc's M_MMAP_THRESHOLD to 32 MiB and M_TRIM_THRESHOLD and M_TOP_PAD to the pad
    (the module docstring says why all three). Process-wide and lasting (there is no
    undo short of another `mallopt`). Idempotent: calling it again with the same pad changes
    nothing and returns True again; a different pad replaces the first. Returns False off
    Linux or on a C library without `mallopt` (musl and others).
    `retained_pad()` tells what is in force.
    Shapes: none; `pad_bytes` an int >= 0, capped at 2**31 - 1 (mallopt takes a C int).
    """
    global _pad_in_force
    pad = min(check_count("pad_bytes", pad_bytes, 0), _MAX_PAD)
    if _pad_in_force == pad:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols already include the C library's: no library search (which
        # runs `ldconfig` in a subprocess).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    settings = ((_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, pad), (_M_TOP_PAD, pad))
    if not all([mallopt(param, value) for param, value in settings]):
        return False
    _pad_in_force = pad
    return True


def retained_pad() -> int | None:
    """The pad `retain_freed_memory` put in force in this process, or None if it never did."""
    return _pad_in_force

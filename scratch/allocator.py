"""Keep freed memory in the process instead of handing it back to the OS: an explicit opt-in.

Plain Python + ctypes; no torch. Nothing happens on import: a library must not change a
process-wide setting by being imported, so a program that wants this calls
`retain_freed_memory()` itself (`python -m benchmarks` does, in both of its timing workers).

What it does: with glibc's default settings the top of the heap is returned to the OS
whenever enough of it is free, so a program that frees and reallocates large temporaries
every step page-faults the same memory in again. `mallopt(M_TOP_PAD)` asks glibc to keep a
pad of freed heap at the top instead (and to grow the heap by that much at once), the trade
torch's caching allocator makes: memory kept for reuse, bounded here by the pad. The scratch
MLP's training step with a `scratch.mlp.StepWorkspace` allocates nothing in steady state and
does not need it; docs/performance.md measures what it does for the step without one.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["DEFAULT_PAD_BYTES", "retain_freed_memory", "retained_pad"]

DEFAULT_PAD_BYTES = 64 << 20  # 64 MiB: covers the temporaries of one step of the benchmark MLPs
_M_TOP_PAD = -2  # glibc's mallopt parameter number (malloc.h)
_MAX_PAD = 2**31 - 1  # mallopt takes a C int

_pad_in_force: int | None = None  # set by the first call that took effect


def retain_freed_memory(pad_bytes: int = DEFAULT_PAD_BYTES) -> bool:
    """Ask glibc to keep `pad_bytes` of freed heap instead of trimming it; True if in force.

    Process-wide and lasting (there is no undo short of another `mallopt`). Idempotent:
    calling it again with the same pad changes nothing and returns True again; a different
    pad replaces the first. Returns False (and changes nothing) off Linux or on a C library
    without `mallopt` (musl and others). `retained_pad()` tells what is in force.
    Shapes: none; `pad_bytes` an int >= 0, capped at 2**31 - 1 (mallopt takes a C int).
    """
    global _pad_in_force
    if isinstance(pad_bytes, bool) or not isinstance(pad_bytes, int) or pad_bytes < 0:
        raise ValueError(f"pad_bytes must be a non-negative int, got {pad_bytes!r}")
    pad = min(pad_bytes, _MAX_PAD)
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
    if not mallopt(_M_TOP_PAD, pad):
        return False
    _pad_in_force = pad
    return True


def retained_pad() -> int | None:
    """The pad `retain_freed_memory` put in force in this process, or None if it never did."""
    return _pad_in_force

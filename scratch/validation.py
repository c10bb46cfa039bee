"""Argument checks shared by every room of the project.

Pure Python + NumPy (no torch), so `torchref` may import it too and both sides of a parity
pair reject bad input with the same words. Valid ranges are declared as data (`Interval`,
`Choice`), as scikit-learn does, so one declaration serves the error message and the docs.

Every error names the argument, what was expected and what came.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

__all__ = [
    "Interval",
    "Choice",
    "check_interval",
    "check_choice",
    "check_array",
    "check_same_shape",
    "check_probabilities",
    "check_labels",
    "check_layer_sizes",
    "check_autoencoder_sizes",
    "check_init_scheme",
]

_BRACKETS = {
    "both": ("[", "]"),
    "left": ("[", ")"),
    "right": ("(", "]"),
    "neither": ("(", ")"),
}


@dataclass(frozen=True)
class Interval:
    """A real interval; `closed` is one of "both", "left", "right", "neither".

    `str(Interval(0, 1, "left"))` is "[0, 1)", the form used in messages and docs.
    """

    low: float = -math.inf
    high: float = math.inf
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.closed not in _BRACKETS:
            raise ValueError(
                f"closed must be one of {sorted(_BRACKETS)}, got {self.closed!r}"
            )

    def __contains__(self, value: float) -> bool:
        lo_ok = value >= self.low if self.closed in ("both", "left") else value > self.low
        hi_ok = value <= self.high if self.closed in ("both", "right") else value < self.high
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        left, right = _BRACKETS[self.closed]
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def check(self, name: str, value) -> float:
        return check_interval(name, value, self)


@dataclass(frozen=True)
class Choice:
    """A finite set of valid names (case-sensitive)."""

    options: tuple[str, ...]

    def check(self, name: str, value) -> str:
        return check_choice(name, value, self.options)

    def __str__(self) -> str:
        return ", ".join(repr(o) for o in self.options)


def _fmt(x: float) -> str:
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return f"{x:g}"


def check_interval(name: str, value, interval: Interval) -> float:
    """Return `value` as a float if it is a finite real number inside `interval`."""
    if isinstance(value, bool) or not isinstance(value, Real | np.number):
        raise TypeError(f"{name} must be a real number in {interval}, got {value!r}")
    value = float(value)
    if math.isnan(value) or value not in interval:
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """Return `value` if it is one of `choices`; otherwise name the valid ones."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(
            f"unknown {name} {value!r}; valid choices: {', '.join(map(repr, choices))}"
        )
    return value


def check_array(
    name: str,
    x,
    *,
    ndim: int | Sequence[int] | None = None,
    allow_empty: bool = True,
    finite: bool = True,
    dtype=None,
) -> np.ndarray:
    """Convert `x` to a floating NumPy array and check its rank and values.

    Integers and booleans are promoted to float64; float32/float64 are kept as they come,
    so float32 parity tests stay float32.
    """
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers, got {type(x).__name__}") from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(
                f"{name} must have {want} dimension(s), got shape {arr.shape}"
            )
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {bad} NaN/inf value(s)")
    return arr


def check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise unless `a` and `b` have identical shapes (no silent broadcasting)."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {name_a}{np.shape(a)} and {name_b}{np.shape(b)}"
        )


def check_probabilities(name: str, p: np.ndarray) -> np.ndarray:
    """Raise unless every entry of `p` lies in [0, 1]."""
    p = check_array(name, p)
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            f"{name} must be probabilities in [0, 1], got values in "
            f"[{p.min():g}, {p.max():g}]"
        )
    return p


def check_labels(name: str, y, n_classes: int) -> np.ndarray:
    """Return integer class labels in {0, ..., n_classes - 1} as an int64 array."""
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} must be class labels in [0, {n_classes - 1}], "
            f"got values in [{arr.min()}, {arr.max()}]"
        )
    return arr.astype(np.int64)


def check_layer_sizes(name: str, sizes, *, min_len: int = 2, what: str = "widths") -> tuple:
    """Return `sizes` as a tuple of positive ints; at least `min_len` of them.

    Used by every network constructor (MLPs, autoencoders) in scratch and torchref alike.
    """
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < min_len:
        count = {2: "two", 3: "three"}.get(min_len, str(min_len))
        raise ValueError(f"{name} must be a sequence of at least {count} {what}, got {sizes!r}")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"{name} must hold positive integers, got {sizes!r}")
    return tuple(int(n) for n in sizes)


def check_autoencoder_sizes(sizes) -> tuple:
    """Layer widths of an autoencoder: (d, ..., n_code, ..., d), at least three, same ends."""
    sizes = check_layer_sizes(
        "sizes", sizes, min_len=3, what="layer widths (d, ..., n_code, ..., d)"
    )
    if sizes[0] != sizes[-1]:
        raise ValueError(
            f"sizes must end with the input width (an autoencoder reconstructs its input), "
            f"got sizes[0]={sizes[0]} and sizes[-1]={sizes[-1]}"
        )
    return sizes


def check_init_scheme(scheme: str, std, schemes: Choice) -> float | None:
    """Validate an initialization scheme and its `std` (the notes' alpha, used by "normal" only).

    Shared by scratch.init and torchref.init so both reject the same inputs in the same words.
    """
    schemes.check("scheme", scheme)
    if scheme == "normal":
        if std is None:
            raise ValueError("std is required for scheme 'normal' (the notes' alpha), got None")
        return check_interval("std", std, Interval(0, math.inf, "left"))
    if std is not None:
        raise ValueError(f"std is only used by scheme 'normal', got std={std!r} with {scheme!r}")
    return None

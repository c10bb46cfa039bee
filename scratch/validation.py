"""Argument checks shared by every room of the project: the one place where a hyper-parameter's
type and valid range are declared.

Pure Python + NumPy (no torch), so `torchref` and `lightning_app` import it too and both sides
of a parity pair reject bad input with the same words. Valid ranges are data, as in
scikit-learn's parameter validation: an `Interval` carries its number type
(`Interval(Integral, 1, None, closed="left")` is "an integer >= 1"), a `Choice` its names, and
the named ranges below (`LEARNING_RATE`, `MOMENTUM`, `PROBABILITY`, `COUNT`, ...) are declared
once and imported everywhere else. One declaration serves the check, the message and the docs.

Every error is one line that names the argument, what was expected and what came. A value of
the wrong type raises `ParameterTypeError`, which is both a TypeError (Python's convention) and
a ValueError (what every other bad argument raises), so a caller that turns ValueError into
"exit 2" catches both.

The array checks come in two layers: `check_array` & co. take NumPy input; the `*_summary`
helpers (`check_ndim`, `check_not_empty`, `check_finite_count`, `check_values_in`,
`check_label_range`, `check_one_hot_summary`) take only shapes and a few summary numbers, so
`torchref.checks` computes those numbers with torch (one host copy) and raises the very same
message without converting a tensor to NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from numbers import Integral, Real

import numpy as np

__all__ = [
    "ParameterTypeError",
    "Interval",
    "Choice",
    # named ranges
    "FINITE",
    "NONNEGATIVE",
    "POSITIVE",
    "PROBABILITY",
    "OPEN_UNIT",
    "HALF_OPEN_UNIT",
    "DECAY_FACTOR",
    "LEARNING_RATE",
    "MOMENTUM",
    "BETA",
    "EPSILON",
    "WEIGHT_DECAY",
    "PENALTY",
    "DROP_PROBABILITY",
    "COUNT",
    "NONNEGATIVE_INT",
    # scalar checks
    "check_interval",
    "check_count",
    "check_int",
    "check_bool",
    "check_hparam",
    "check_betas",
    "check_nesterov",
    "OPTIMIZER_HPARAMS",
    "OPTIMIZER_FLAGS",
    "check_optimizer_hparam",
    "check_choice",
    "check_rng",
    # array checks
    "shape_of",
    "check_ndim",
    "check_not_empty",
    "check_finite_count",
    "check_values_in",
    "check_label_range",
    "check_one_hot_summary",
    "check_rows_match",
    "check_channels",
    "check_mask_values",
    "check_in_features",
    "check_target_shape",
    "check_row_sums",
    "check_array",
    "check_same_shape",
    "check_param_lists",
    "check_probabilities",
    "check_labels",
    "check_one_hot",
    "check_shape",
    "check_real_dtype",
    "check_float_dtype",
    "scalar_like",
    # architectures
    "check_layer_sizes",
    "check_autoencoder_sizes",
    "check_init_scheme",
]


class ParameterTypeError(TypeError, ValueError):
    """A value of the wrong type (a str where a number goes, 2.5 where an int goes, True ...).

    A TypeError by Python's convention and a ValueError so that "bad argument" handlers
    (`except ValueError` -> exit status 2) need one clause, as scikit-learn's
    `InvalidParameterError` does.
    """


_BRACKETS = {
    "both": ("[", "]"),
    "left": ("[", ")"),
    "right": ("(", "]"),
    "neither": ("(", ")"),
}
_TYPES = {Real: "a real number", Integral: "an integer"}


def _fmt(x: float) -> str:
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return f"{x:g}"


def _show(value) -> str:
    """repr of a value for a message; NumPy scalars print as the Python number they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _is_bool(value) -> bool:
    return isinstance(value, bool | np.bool_)


@dataclass(frozen=True, init=False)
class Interval:
    """An interval of real numbers or of integers.

    `Interval(low, high, closed="both")` is real-valued (as before);
    `Interval(Integral, 1, None, closed="left")` (scikit-learn's form) holds the integers >= 1.
    `None` for a bound means unbounded; `closed` is "both", "left", "right" or "neither".
    `str(Interval(0, 1, "left"))` is "[0, 1)", the form used in messages and docs.

    `check(name, value)` returns `value` as a Python float (Real) or int (Integral), or raises:
    booleans, NaN, strings, floats where an integer goes are never accepted, and infinity
    only where a closed bound is infinite. NumPy scalars count as numbers of their kind.
    """

    type: type
    low: float
    high: float
    closed: str

    def __init__(self, *args, closed: str | None = None) -> None:
        kind, rest = (args[0], args[1:]) if args and isinstance(args[0], type) else (Real, args)
        if kind not in _TYPES:
            raise TypeError(f"Interval type must be numbers.Real or numbers.Integral, got {kind!r}")
        if len(rest) > 3 or (len(rest) == 3 and closed is not None):
            raise TypeError(f"Interval takes (type, low, high, closed), got {args!r}")
        low = rest[0] if len(rest) > 0 else None
        high = rest[1] if len(rest) > 1 else None
        closed = rest[2] if len(rest) > 2 else ("both" if closed is None else closed)
        if closed not in _BRACKETS:
            raise ValueError(f"closed must be one of {sorted(_BRACKETS)}, got {closed!r}")
        low = -math.inf if low is None else low
        high = math.inf if high is None else high
        if not low <= high:
            raise ValueError(f"Interval needs low <= high, got low={low!r}, high={high!r}")
        for name, value in (("type", kind), ("low", low), ("high", high), ("closed", closed)):
            object.__setattr__(self, name, value)

    def __contains__(self, value) -> bool:
        lo_ok = value >= self.low if self.closed in ("both", "left") else value > self.low
        hi_ok = value <= self.high if self.closed in ("both", "right") else value < self.high
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        left, right = _BRACKETS[self.closed]
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def describe(self) -> str:
        """What a value must be, as a message says it: "in [0, inf)", "an integer >= 1"."""
        if self.type is Real:
            return f"in {self}"
        if self.high == math.inf and self.low > -math.inf:
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"an integer {op} {_fmt(self.low)}"
        return f"an integer in {self}"

    def check(self, name: str, value):
        """`value` as a float (Real) or int (Integral) inside the interval; raises otherwise."""
        if self.type is Integral:
            if _is_bool(value) or not isinstance(value, Integral):
                raise ParameterTypeError(f"{name} must be {self.describe()}, got {_show(value)}")
            if int(value) not in self:
                raise ValueError(f"{name} must be {self.describe()}, got {_show(value)}")
            return int(value)
        if _is_bool(value) or not isinstance(value, Real):
            raise ParameterTypeError(f"{name} must be a real number in {self}, got {value!r}")
        try:
            number = float(value)
        except OverflowError:  # an int beyond float64
            raise ValueError(f"{name} must be in {self}, got {_show(value)}") from None
        if math.isnan(number) or number not in self:
            raise ValueError(f"{name} must be in {self}, got {number!r}")
        return number


@dataclass(frozen=True)
class Choice:
    """A finite set of valid names (case-sensitive)."""

    options: tuple[str, ...]

    def check(self, name: str, value) -> str:
        return check_choice(name, value, self.options)

    def __contains__(self, value) -> bool:
        return value in self.options

    def __str__(self) -> str:
        return ", ".join(repr(o) for o in self.options)


# ---- named ranges, declared once ---------------------------------------------------------

FINITE = Interval(Real, None, None, closed="neither")  # any finite real number
NONNEGATIVE = Interval(Real, 0, None, closed="left")  # [0, inf)
POSITIVE = Interval(Real, 0, None, closed="neither")  # (0, inf)
PROBABILITY = Interval(Real, 0, 1, closed="both")  # [0, 1]
OPEN_UNIT = Interval(Real, 0, 1, closed="neither")  # (0, 1): inside a log(p) and a log(1 - p)
HALF_OPEN_UNIT = Interval(Real, 0, 1, closed="left")  # [0, 1)
DECAY_FACTOR = Interval(Real, 0, 1, closed="right")  # (0, 1]: multiplies a learning rate

# The same intervals under the name of what they bound (aliases, not new declarations).
LEARNING_RATE = NONNEGATIVE  # lr = 0 is a valid (frozen) run; inf is refused (torch takes it)
MOMENTUM = HALF_OPEN_UNIT  # 002: "mu typically in [0.9, 0.99]"; mu >= 1 never decays
BETA = HALF_OPEN_UNIT  # decay rates of moving averages (RMSprop, Adam)
EPSILON = POSITIVE  # inside a sqrt or a division that may see 0: must be > 0
WEIGHT_DECAY = NONNEGATIVE
PENALTY = NONNEGATIVE  # lambda of an L1/L2 penalty, beta of a sparsity penalty
# p = 1 would drop every unit and make inverted dropout divide by zero; torch allows it for
# nn.Dropout (returns zeros), but the notes' scaling (1 - p) then erases the layer.
DROP_PROBABILITY = HALF_OPEN_UNIT

COUNT = Interval(Integral, 1, None, closed="left")  # sizes, epochs, steps: an integer >= 1
NONNEGATIVE_INT = Interval(Integral, 0, None, closed="left")  # indices, step counters


# ---- scalar checks -----------------------------------------------------------------------


def check_interval(name: str, value, interval: Interval):
    """`interval.check(name, value)`: a float (or int, for an integer interval) inside it."""
    return interval.check(name, value)


@cache
def _integers(low: int, high: float) -> Interval:
    return Interval(Integral, low, high, closed="left" if high == math.inf else "both")


def check_count(name: str, value, low: int = 1) -> int:
    """`value` as an int >= `low` (an integer, NumPy's included; never a bool or a float)."""
    return _integers(low, math.inf).check(name, value)


def check_int(name: str, value, low: int, high: int) -> int:
    """`value` as an int in [low, high]."""
    return _integers(low, high).check(name, value)


def check_bool(name: str, value) -> bool:
    """`value` as a bool; 0/1, strings and None are refused (a flag is True or False)."""
    if not _is_bool(value):
        raise ParameterTypeError(f"{name} must be True or False, got {_show(value)}")
    return bool(value)


def check_hparam(words: str, name: str, value, interval: Interval) -> float:
    """`value` in `interval`, or raise with torch.optim's words first, then ours.

    `check_hparam("Invalid learning rate", "lr", -1.0, LEARNING_RATE)` raises
    `ValueError("Invalid learning rate: -1.0; lr must be in [0, inf)")`, so a test's
    `match="Invalid learning rate: -1.0"` holds for torch.optim and for our optimizers alike.
    Non-finite values (nan, inf) are refused (torch accepts lr=inf; we do not).
    """
    try:
        return interval.check(name, value)
    except ParameterTypeError:
        raise
    except ValueError:
        raise ValueError(f"{words}: {_show(value)}; {name} must be {interval.describe()}") from None


# torch.optim's words for each optimizer hyper-parameter (and the notes' own: eps0, l1,
# sgd_lr), so scratch.optim, torchref.optim's classes and `make_optimizer` on torch's
# built-ins raise one message: "Invalid momentum value: 1.5; momentum must be in [0, 1)".
OPTIMIZER_HPARAMS: dict[str, tuple[str, Interval]] = {
    "lr": ("Invalid learning rate", LEARNING_RATE),
    "sgd_lr": ("Invalid learning rate", LEARNING_RATE),
    "momentum": ("Invalid momentum value", MOMENTUM),
    "mu": ("Invalid momentum value", MOMENTUM),
    "dampening": ("Invalid dampening value", PROBABILITY),
    "weight_decay": ("Invalid weight_decay value", WEIGHT_DECAY),
    "l1": ("Invalid l1 value", PENALTY),
    "eps0": ("Invalid epsilon value", EPSILON),  # inside the root: must be > 0
    "eps": ("Invalid epsilon value", NONNEGATIVE),  # torch's, outside the root: >= 0 as torch
    "beta": ("Invalid beta value", BETA),
    "beta1": ("Invalid beta parameter at index 0", BETA),  # the functional Adam updates'
    "beta2": ("Invalid beta parameter at index 1", BETA),
    "alpha": ("Invalid alpha value", BETA),  # torch RMSprop's smoothing constant
    "lr_decay": ("Invalid lr_decay value", NONNEGATIVE),
    "initial_accumulator_value": ("Invalid initial_accumulator_value value", NONNEGATIVE),
}
OPTIMIZER_FLAGS = ("nesterov", "amsgrad", "maximize", "centered")


def check_optimizer_hparam(name: str, value):
    """One optimizer hyper-parameter by its name: a range of `OPTIMIZER_HPARAMS`, a flag of
    `OPTIMIZER_FLAGS`, Adam's `betas`; any other name is returned unchecked."""
    if name in OPTIMIZER_HPARAMS:
        words, interval = OPTIMIZER_HPARAMS[name]
        return check_hparam(words, name, value, interval)
    if name in OPTIMIZER_FLAGS:
        return check_bool(name, value)
    if name == "betas":
        return check_betas(value)
    return value


def check_nesterov(nesterov, momentum: float) -> bool:
    """The `nesterov` flag, which needs a momentum (torch's words first)."""
    nesterov = check_bool("nesterov", nesterov)
    if nesterov and momentum <= 0:
        raise ValueError(
            "Nesterov momentum requires a momentum and zero dampening; "
            f"nesterov=True needs momentum in (0, 1), got momentum={momentum}"
        )
    return nesterov


def check_betas(betas, interval: Interval = BETA) -> tuple[float, float]:
    """Adam's `betas` pair, each in `interval`, with torch's words for a bad entry."""
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise ParameterTypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return tuple(
        check_hparam(f"Invalid beta parameter at index {i}", f"betas[{i}]", b, interval)
        for i, b in enumerate(betas)
    )


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """Return `value` if it is one of `choices`; otherwise name the valid ones."""
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable values are not choices
        ok = False
    if not ok:
        raise ValueError(
            f"unknown {name} {value!r}; valid choices: {', '.join(map(repr, choices))}"
        )
    return value


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """`rng` if it is a `numpy.random.Generator` (the project never uses the legacy global RNG)."""
    if not isinstance(rng, np.random.Generator):
        raise ParameterTypeError(
            f"{name} must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    return rng


# ---- array checks on shapes and summaries (shared with torchref.checks) ------------------


def shape_of(x) -> tuple[int, ...]:
    """The shape of an array, a tensor or a nested sequence, as a plain tuple of ints."""
    shape = x.shape if hasattr(x, "shape") else np.shape(x)
    return tuple(int(n) for n in shape)


def check_ndim(name: str, shape: tuple[int, ...], ndim: int | Sequence[int]) -> None:
    """Raise unless `len(shape)` is `ndim` (or one of them)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if len(shape) not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise ValueError(f"{name} must have {want} dimension(s), got shape {shape}")


def check_not_empty(name: str, shape: tuple[int, ...]) -> None:
    """Raise if an array of `shape` holds no value."""
    if math.prod(shape) == 0:
        raise ValueError(f"{name} must not be empty, got shape {shape}")


def check_finite_count(name: str, n_bad: int) -> None:
    """Raise if `n_bad` (the number of NaN/inf entries) is not 0."""
    if n_bad:
        raise ValueError(f"{name} must be finite, got {n_bad} NaN/inf value(s)")


def check_values_in(
    name: str, lo: float, hi: float, interval: Interval, what: str, context: str = ""
) -> None:
    """Raise unless the values, spanning [lo, hi], lie in `interval`: "p must be
    probabilities in [0, 1], got values in [-0.1, 1]" (`context` goes after the interval)."""
    if not (lo in interval and hi in interval):
        raise ValueError(
            f"{name} must be {what} in {interval}{context}, got values in [{lo:g}, {hi:g}]"
        )


def check_label_range(name: str, lo: int, hi: int, n_classes: int) -> None:
    """Raise unless integer labels spanning [lo, hi] lie in [0, n_classes - 1]."""
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"{name} must be class labels in [0, {n_classes - 1}], got values in [{lo}, {hi}]"
        )


def check_one_hot_summary(
    name: str, entries_01: bool, sum_lo: float, sum_hi: float
) -> None:
    """Raise unless every entry is 0/1 and every row sums to exactly 1."""
    if not (entries_01 and sum_lo == 1 and sum_hi == 1):
        raise ValueError(
            f"{name} must be one-hot rows (entries 0/1, exactly one 1 per row), "
            f"got row sums in [{sum_lo:g}, {sum_hi:g}]"
        )


def check_in_features(name: str, shape: tuple[int, ...], w_shape: tuple[int, ...]) -> None:
    """Raise unless the last axis of `name` matches the columns of a weight W (n_out, n_in)."""
    if shape[-1:] != w_shape[1:2]:
        raise ValueError(
            f"{name} must have {w_shape[1]} features (columns of W{w_shape}), got {name}{shape}"
        )


def check_target_shape(name: str, shape: tuple[int, ...], want: tuple[int, ...], head: str):
    """Raise unless the targets of a network head have the shape the head needs."""
    if shape != want:
        if head == "multiclass":
            raise ValueError(f"{name} must be class labels of shape {want}, got {name}{shape}")
        raise ValueError(f"{name} must have shape {want} for the {head} head, got {name}{shape}")


def check_mask_values(name: str, all_01: bool) -> None:
    """Raise unless a dropout keep-mask holds only 0 and 1 (`all_01`: the caller's test)."""
    if not all_01:
        raise ValueError(f"{name} must hold only 0 and 1 (keep = 1), got other values")


def check_channels(name: str, shape: tuple[int, ...], n_channels: int) -> None:
    """Raise unless axis 1 of `name` (N, C, ...) holds `n_channels` channels."""
    if shape[1:2] != (n_channels,):
        raise ValueError(
            f"{name} must have {n_channels} channel(s) on axis 1, got {name}{shape}"
        )


def check_rows_match(name: str, shape: tuple[int, ...], of: str, of_shape: tuple[int, ...]) -> None:
    """Raise unless `name` has one entry per row of `of` (the same first dimension)."""
    if shape[:1] != of_shape[:1]:
        raise ValueError(
            f"{name} must have one entry per row of {of}, got {name}{shape} and {of}{of_shape}"
        )


def check_row_sums(name: str, lo: float, hi: float, atol: float = 1e-6) -> None:
    """Raise unless row sums spanning [lo, hi] are all 1 (within `atol`): one-hot or
    class-probability rows."""
    if not (abs(lo - 1) <= atol and abs(hi - 1) <= atol):
        raise ValueError(
            f"{name} given as a (N, C) array must have rows summing to 1 (one-hot or class "
            f"probabilities), got row sums in [{lo:g}, {hi:g}]"
        )


def _dtype_name(dtype) -> str:
    try:
        return np.dtype(dtype).name
    except TypeError:  # a torch dtype: "torch.int64" -> "int64"
        return str(dtype).removeprefix("torch.")


def check_real_dtype(name: str, dtype, is_real: bool) -> None:
    """Raise unless the values of `name` are real numbers (`is_real`: the caller's test)."""
    if not is_real:
        raise ParameterTypeError(f"{name} must hold real numbers, got dtype {_dtype_name(dtype)}")


def check_float_dtype(name: str, dtype):
    """A `dtype` argument that must be floating: NumPy's float16/32/64 or a torch float dtype."""
    is_float = getattr(dtype, "is_floating_point", None)  # torch.dtype
    if is_float is None:
        try:
            is_float = np.dtype(dtype).kind == "f"
        except TypeError:
            is_float = False
    if not is_float:
        raise ParameterTypeError(
            f"{name} must be a floating-point dtype (e.g. float32, float64), "
            f"got {_dtype_name(dtype)}"
        )
    return dtype


# ---- NumPy array checks -------------------------------------------------------------------


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
        raise ParameterTypeError(
            f"{name} must be array-like of numbers, got {type(x).__name__}"
        ) from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    check_real_dtype(name, arr.dtype, arr.dtype.kind == "f")
    if ndim is not None:
        check_ndim(name, arr.shape, ndim)
    if not allow_empty:
        check_not_empty(name, arr.shape)
    if finite and not np.isfinite(arr).all():
        check_finite_count(name, int(arr.size - np.count_nonzero(np.isfinite(arr))))
    return arr


def check_same_shape(name_a: str, a, name_b: str, b) -> None:
    """Raise unless `a` and `b` (arrays or tensors) have identical shapes (no broadcasting)."""
    sa, sb = shape_of(a), shape_of(b)
    if sa != sb:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a}{sa} and {name_b}{sb}"
        )


def check_shape(name: str, shape, *, ndim: int | None = None) -> tuple[int, ...]:
    """A shape argument: a tuple of integers >= 1 (of length `ndim`, if given)."""
    if isinstance(shape, str) or not isinstance(shape, Sequence) or (
        ndim is not None and len(shape) != ndim
    ):
        want = f"a tuple of {ndim} positive integers" if ndim else "a tuple of positive integers"
        raise ValueError(f"{name} must be {want}, got {shape!r}")
    return tuple(check_count(f"{name}[{i}]", n) for i, n in enumerate(shape))


def check_param_lists(params, grads, **state) -> None:
    """An optimizer's `params` and `grads` (and per-parameter state lists such as
    `momentum_buffers`): lists of equal length whose entries agree in shape, entry by entry
    (no broadcasting). Works on arrays and tensors alike; None state entries are skipped."""
    lists = {"params": params, "grads": grads, **state}
    for name, seq in lists.items():
        if not isinstance(seq, Sequence):
            raise ParameterTypeError(f"{name} must be a list of arrays, got {type(seq).__name__}")
    for name, seq in list(lists.items())[1:]:
        if len(seq) != len(params):
            raise ValueError(
                f"params and {name} must have the same length, got {len(params)} and {len(seq)}"
            )
    for name, seq in list(lists.items())[1:]:
        for i, (p, other) in enumerate(zip(params, seq, strict=True)):
            if other is not None:
                check_same_shape(f"params[{i}]", p, f"{name}[{i}]", other)


def check_probabilities(name: str, p) -> np.ndarray:
    """Raise unless every entry of `p` lies in [0, 1]."""
    p = check_array(name, p)
    if p.size:
        check_values_in(name, float(p.min()), float(p.max()), PROBABILITY, "probabilities")
    return p


def check_one_hot(name: str, t: np.ndarray) -> np.ndarray:
    """Raise unless `t` (N, C) holds one-hot rows: entries 0/1 and one 1 per row."""
    sums = t.sum(axis=1)
    entries_01 = bool(np.all((t == 0) | (t == 1)))
    lo, hi = (float(sums.min()), float(sums.max())) if sums.size else (1.0, 1.0)
    check_one_hot_summary(name, entries_01, lo, hi)
    return t


def check_labels(name: str, y, n_classes: int) -> np.ndarray:
    """Return integer class labels in {0, ..., n_classes - 1} as an int64 array."""
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ParameterTypeError(
            f"{name} must hold integer class labels, got dtype {arr.dtype}"
        )
    if arr.size:
        check_label_range(name, int(arr.min()), int(arr.max()), n_classes)
    return arr.astype(np.int64)


def scalar_like(value, *arrays) -> np.floating:
    """`value` as a NumPy scalar of the arrays' floating result dtype (float64 without one).

    Scratch returns every scalar in the dtype of its input: a float32 loss for float32
    arrays, never a Python float (which is a float64 and would make a float32 comparison
    look like a float64 one).
    """
    dtype = np.result_type(*arrays) if arrays else np.dtype(np.float64)
    return (dtype if dtype.kind == "f" else np.dtype(np.float64)).type(value)


# ---- architectures -------------------------------------------------------------------------


def check_layer_sizes(name: str, sizes, *, min_len: int = 2, what: str = "widths") -> tuple:
    """Return `sizes` as a tuple of positive ints; at least `min_len` of them.

    Used by every network constructor (MLPs, autoencoders) in scratch and torchref alike.
    """
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < min_len:
        count = {2: "two", 3: "three"}.get(min_len, str(min_len))
        raise ValueError(f"{name} must be a sequence of at least {count} {what}, got {sizes!r}")
    for n in sizes:
        if _is_bool(n) or not isinstance(n, Integral) or n < 1:
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
        return check_interval("std", std, NONNEGATIVE)
    if std is not None:
        raise ValueError(f"std is only used by scheme 'normal', got std={std!r} with {scheme!r}")
    return None

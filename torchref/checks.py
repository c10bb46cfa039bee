"""`scratch.validation`'s array checks for tensors: the same rules, the same one-line messages.

Imports torch and `scratch.validation` only. Each check computes the few numbers the shared
message needs (a shape, a count of non-finite entries, a min and a max) with torch, in one
host copy, and hands them to `scratch.validation`, which decides and words the error. So
`torchref.losses.squared_error(torch.ones(3, 1), torch.ones(3))` and
`scratch.losses.squared_error(np.ones((3, 1)), np.ones(3))` fail with one message.

A value check reads the tensor: on a GPU it synchronizes. These checks guard the reference
functions a user calls once (losses, initializers, fitted transforms), never a training step's
inner loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from scratch.validation import (
    PROBABILITY,
    ParameterTypeError,
    check_finite_count,
    check_label_range,
    check_ndim,
    check_not_empty,
    check_one_hot_summary,
    check_real_dtype,
    check_values_in,
)

__all__ = [
    "model_input",
    "real_tensor",
    "finite_tensor",
    "probability_tensor",
    "label_tensor",
    "one_hot_tensor",
]


def real_tensor(
    name: str,
    x,
    *,
    ndim: int | Sequence[int] | None = None,
    allow_empty: bool = True,
    finite: bool = True,
) -> torch.Tensor:
    """`scratch.validation.check_array` for a tensor: integer and bool tensors become float64
    (as `check_array` promotes them), float tensors are kept; rank, emptiness and finiteness
    are checked with the same words."""
    if not isinstance(x, torch.Tensor):
        raise ParameterTypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.float64)
    check_real_dtype(name, x.dtype, x.is_floating_point())
    shape = tuple(x.shape)
    if ndim is not None:
        check_ndim(name, shape, ndim)
    if not allow_empty:
        check_not_empty(name, shape)
    if finite:
        finite_tensor(name, x)
    return x


def model_input(name: str, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Raise unless `x` is a floating tensor of the dtype of the model's `weight`.

    Shapes and dtypes only (no synchronization): this runs on every forward pass. Instead of
    torch's "mat1 and mat2 must have the same dtype" or "not implemented for 'Long'".
    """
    if not isinstance(x, torch.Tensor):
        raise ParameterTypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype != weight.dtype:
        raise ParameterTypeError(
            f"{name} must be a floating-point tensor of the model's dtype "
            f"{str(weight.dtype)[6:]}, got dtype {str(x.dtype)[6:]}"
        )
    return x


def finite_tensor(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise, as `check_array` does, if `x` holds NaN or inf (one host copy)."""
    check_finite_count(name, int((~torch.isfinite(x.detach())).sum()))
    return x


def probability_tensor(name: str, x, **kw) -> torch.Tensor:
    """`real_tensor` whose entries lie in [0, 1] (`scratch.validation.check_probabilities`).
    Keyword arguments go to `real_tensor`; with `checked=True`, x is already a checked
    real tensor and only its range is read."""
    x = x if kw.pop("checked", False) else real_tensor(name, x, **kw)
    if x.numel():
        lo, hi = torch.aminmax(x.detach())
        check_values_in(name, float(lo), float(hi), PROBABILITY, "probabilities")
    return x


def label_tensor(name: str, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class labels in {0, ..., n_classes - 1} as int64 (`scratch.validation.check_labels`).

    torch's own `ignore_index=-100` is a label here like any other: out of range."""
    if y.is_floating_point():
        if not bool(torch.all(torch.isfinite(y) & (y == torch.round(y)))):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
    elif y.dtype == torch.bool or y.is_complex():
        raise ParameterTypeError(
            f"{name} must hold integer class labels, got dtype {str(y.dtype)[6:]}"
        )
    y = y.to(torch.int64)
    if y.numel():  # one host copy for both ends (this runs every training step of the app)
        lo, hi = torch.stack(torch.aminmax(y)).tolist()
        check_label_range(name, lo, hi, n_classes)
    return y


def one_hot_tensor(name: str, t: torch.Tensor) -> torch.Tensor:
    """Raise unless `t` (N, C) holds one-hot rows (`scratch.validation.check_one_hot`)."""
    sums = t.detach().sum(dim=1)
    entries_01 = bool(torch.all((t == 0) | (t == 1)))
    lo, hi = (float(sums.min()), float(sums.max())) if sums.numel() else (1.0, 1.0)
    check_one_hot_summary(name, entries_01, lo, hi)
    return t

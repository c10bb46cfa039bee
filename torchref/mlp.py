"""The MLP of `scratch.mlp` as an idiomatic `nn.Module`, its heads and losses, and the weight
conversions between the two (catalog B1, B2, B4, B9, B10, B11).

Imports torch, `torchref.activations` (and `torchref.dropout` lazily, for classic dropout) and
`scratch.validation` for the shared error wording. NumPy arrays <-> module weights happen in
ONE place: `to_numpy_params` / `load_numpy_params`, in `scratch.mlp`'s order
`[W1, b1, W2, b2, ...]` (the order of the `nn.Linear` layers in `model.modules()`, which is
`state_dict` order). `nn.Linear.weight` is (n_out, n_in), the notes' `W[l]`, so no transpose.

Loss reduction (the same as `scratch.mlp.head_loss`): sum over the outputs of one example,
mean over the N examples. With one output, regression and binary equal torch's default
`reduction="mean"`; with K outputs they are K times it.

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: B1 -> torch.nn:Linear
Catalog: B10 -> torch.nn.functional:binary_cross_entropy_with_logits
Catalog: D3, D4, D5, D6, D7 -> torch.autograd:grad
Catalog: D5 -> torch.nn.functional:mse_loss
Catalog: D6 -> torch.nn.functional:binary_cross_entropy_with_logits
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from scratch.dropout import DROPOUT_KINDS
from scratch.mlp import HEADS
from scratch.validation import (
    DROP_PROBABILITY,
    NONNEGATIVE,
    PROBABILITY,
    check_bool,
    check_in_features,
    check_interval,
    check_layer_sizes,
    check_ndim,
    check_target_shape,
    check_values_in,
)
from torchref.activations import get_activation_module
from torchref.checks import label_tensor, model_input

__all__ = [
    "HEADS",
    "DROPOUT_KINDS",
    "MLP",
    "head_output",
    "head_loss",
    "l2_cost",
    "linear_layers",
    "to_numpy_params",
    "load_numpy_params",
]



def _hidden_names(activation, n_hidden: int) -> list[str]:
    if isinstance(activation, str):
        return [activation] * n_hidden
    if isinstance(activation, Sequence):
        names = list(activation)
        if len(names) != n_hidden:
            raise ValueError(
                f"activations must name one activation per hidden layer ({n_hidden}), "
                f"got {len(names)}: {names!r}"
            )
        return names
    raise TypeError(
        f"activations must be a name or a list of names, got {type(activation).__name__}"
    )


class MLP(nn.Module):
    """Multilayer perceptron: hidden blocks Linear -> [BatchNorm1d] -> activation -> [dropout],
    then an output Linear. `forward` returns logits (N, n_out); `predict` applies the head.

    Catalog: B1 (000 `z_i = phi(W_i z_{i-1} + b_i)`), B2, B4 (heads), B5, B6, B9, B10, B11.
    Scratch twin:
    `scratch.mlp.mlp_forward` / `mlp_backward` / `head_loss`, with the same parameters in the
    same order (`to_numpy_params`). `activation` is one name of
    `torchref.activations.get_activation_module` or one per hidden layer; `head` is
    "regression" (identity), "binary" (sigmoid per output) or "multiclass" (softmax).
    `dropout_kind="classic"` uses `torchref.dropout.ClassicDropout` (the notes' form: scale at
    test time), "inverted" uses `nn.Dropout` (scale while training).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Sequence[str] = "relu",
        head: str = "multiclass",
        batch_norm: bool = False,
        dropout: float = 0.0,
        dropout_kind: str = "inverted",
    ) -> None:
        super().__init__()
        sizes = check_layer_sizes("layer_sizes", layer_sizes, what="widths (input, ..., output)")
        self.head = HEADS.check("head", head)
        if head == "multiclass" and sizes[-1] < 2:
            raise ValueError(f"the multiclass head needs at least 2 outputs, got {sizes[-1]}")
        names = _hidden_names(activation, len(sizes) - 2)
        p = check_interval("dropout", dropout, DROP_PROBABILITY)
        DROPOUT_KINDS.check("dropout_kind", dropout_kind)
        batch_norm = check_bool("batch_norm", batch_norm)
        self.layer_sizes = sizes
        self.activations = tuple(names)
        layers: list[nn.Module] = []
        for n_in, n_out, name in zip(sizes[:-2], sizes[1:-1], names, strict=True):
            layers.append(nn.Linear(n_in, n_out))
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(get_activation_module(name))
            if p > 0:
                layers.append(_dropout_module(p, dropout_kind))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, the output layer's pre-activation: (N, d_in) -> (N, n_out)."""
        # scratch.mlp.mlp_forward's words, not torch's "mat1 and mat2 shapes cannot be
        # multiplied"; shapes only, so no device synchronization.
        weight = self.net[0].weight
        model_input("x", x, weight)
        check_in_features("x", tuple(x.shape), tuple(weight.shape))
        return self.net(x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The head's output: identity, sigmoid or softmax of the logits, (N, n_out).

        Catalog: B4.
        """
        return head_output(self(x), self.head)

    def loss(self, logits: torch.Tensor, y: torch.Tensor, l2: float = 0.0) -> torch.Tensor:
        """`head_loss(logits, y, head) + l2/(2N) sum ||W||^2` over the Linear weights (C4).

        Biases (and batch-norm parameters) are not penalized, as in the notes' cost.
        Catalog: B4, C4, D4, D7.
        """
        out = head_loss(logits, y, self.head)
        l2 = check_interval("l2", l2, NONNEGATIVE)
        if l2:
            out = out + l2_cost(self, l2, logits.shape[0])
        return out


def _dropout_module(p: float, kind: str) -> nn.Module:
    if kind == "inverted":
        return nn.Dropout(p)
    try:
        dropout = importlib.import_module("torchref.dropout")
        return dropout.ClassicDropout(p)
    except (ImportError, AttributeError) as exc:
        raise ImportError(
            "dropout_kind='classic' needs torchref.dropout.ClassicDropout, which is not "
            "available in this installation; use dropout_kind='inverted'"
        ) from exc


def head_output(logits: torch.Tensor, head: str) -> torch.Tensor:
    """Prediction from logits (B4): identity (regression), sigmoid (binary), softmax over
    dim 1 (multiclass). Shapes: (N, K) -> (N, K). Scratch twin: `scratch.mlp.head_output`.
    Catalog: B4."""
    HEADS.check("head", head)
    if head == "regression":
        return logits
    if head == "binary":
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=1)


def _targets(logits: torch.Tensor, y: torch.Tensor, head: str) -> torch.Tensor:
    """`scratch.mlp.check_targets`'s checks and words, with one host copy (a label or target
    range); the finiteness of regression targets is left to the app's NaN guard (a check
    here would add a device synchronization to every training step)."""
    check_ndim("logits", tuple(logits.shape), 2)
    n, k = logits.shape
    if head == "multiclass":
        y = label_tensor("y", y, k)
        check_target_shape("y", tuple(y.shape), (n,), head)
        return y
    check_ndim("y", tuple(y.shape), (1, 2))
    if y.ndim == 1 and k == 1:
        y = y[:, None]  # (N,) -> (N, 1)
    check_target_shape("y", tuple(y.shape), (n, k), head)
    if head == "binary" and y.numel():
        lo, hi = _range(y)
        check_values_in("y", lo, hi, PROBABILITY, "targets", " for the binary head")
    return y.to(logits.dtype)


def _range(y: torch.Tensor) -> tuple:
    """(min, max) of y as Python numbers with one device-to-host copy (one sync on a GPU, not
    four: this check runs every training step). (0, 0) for an empty y."""
    if not y.numel():
        return 0, 0
    return tuple(torch.stack(torch.aminmax(y)).tolist())


def head_loss(logits: torch.Tensor, y: torch.Tensor, head: str) -> torch.Tensor:
    """The head's loss from logits, with torch's stable built-ins (B4; C1, C2, C6).

    regression: `F.mse_loss(logits, y, reduction="sum") / N`;
    binary:     `F.binary_cross_entropy_with_logits(logits, y, reduction="sum") / N`;
    multiclass: `F.cross_entropy(logits, y)` (mean over N).
    Sum over outputs, mean over examples, as `scratch.mlp.head_loss`.
    Shapes: logits (N, K); y (N, K) floats (or (N,) when K = 1), labels (N,) for multiclass.
    Catalog: B4.
    """
    HEADS.check("head", head)
    y = _targets(logits, y, head)
    n = logits.shape[0]
    if head == "regression":
        return F.mse_loss(logits, y, reduction="sum") / n
    if head == "binary":
        return F.binary_cross_entropy_with_logits(logits, y, reduction="sum") / n
    return F.cross_entropy(logits, y)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The `nn.Linear` layers of `model` in `modules()` order (= `state_dict` order)."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def l2_cost(model: nn.Module, lam: float, m: int) -> torch.Tensor:
    """`lam/(2m) sum_l ||W_l||^2` over the Linear weights of `model`, biases excluded (C4).

    Scratch twin: `scratch.mlp.l2_cost`.
    Catalog: C4.
    """
    lam = check_interval("l2", lam, NONNEGATIVE)
    return lam / (2 * m) * sum(layer.weight.pow(2).sum() for layer in linear_layers(model))


def to_numpy_params(model: nn.Module) -> list[np.ndarray]:
    """`[W1, b1, W2, b2, ...]` of the model's Linear layers as NumPy copies (scratch order).

    W_l is `layer.weight` (n_l, n_{l-1}), b_l is `layer.bias` (n_l,); the dtype is kept.
    Catalog: B11.
    """
    layers = linear_layers(model)
    if not layers:
        raise ValueError(f"model has no nn.Linear layers: {type(model).__name__}")
    out = []
    for i, layer in enumerate(layers, start=1):
        if layer.bias is None:
            raise ValueError(f"Linear layer {i} has no bias; scratch MLPs always have one")
        out += [t.detach().cpu().numpy().copy() for t in (layer.weight, layer.bias)]
    return out


def load_numpy_params(model: nn.Module, params) -> nn.Module:
    """Copy `[W1, b1, W2, b2, ...]` (NumPy, scratch order) into the model's Linear layers.

    The model is cast to the arrays' dtype first (float64 arrays make a float64 model), so a
    parity test compares like with like. Validates the count and every shape before copying
    anything (no half-loaded model). Returns the model.
    Catalog: B11.
    """
    layers = linear_layers(model)
    if isinstance(params, np.ndarray) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a list [W1, b1, W2, b2, ...], got {type(params).__name__}"
        )
    if len(params) != 2 * len(layers):
        raise ValueError(
            f"params must hold {2 * len(layers)} arrays (W and b of {len(layers)} Linear "
            f"layers), got {len(params)}"
        )
    arrays = [np.asarray(p) for p in params]
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        raise TypeError(f"params must share one floating dtype, got {sorted(map(str, dtypes))}")
    for i, layer in enumerate(layers):
        for k, (name, target) in enumerate((("W", layer.weight), ("b", layer.bias))):
            arr = arrays[2 * i + k]
            want = None if target is None else tuple(target.shape)
            if arr.shape != want:
                raise ValueError(
                    f"params[{2 * i + k}] ({name}{i + 1}) must have shape {want}, got {arr.shape}"
                )
    model.to(torch.from_numpy(arrays[0][:0]).dtype)
    with torch.no_grad():
        for i, layer in enumerate(layers):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(arrays[2 * i])))
            layer.bias.copy_(torch.from_numpy(np.ascontiguousarray(arrays[2 * i + 1])))
    return model

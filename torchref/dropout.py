"""Dropout in PyTorch: the notes' classic form as a module, beside torch's inverted nn.Dropout (H3).

Imports torch and `scratch.validation` only. torch's own dropout (`nn.Dropout`,
`F.dropout`) is inverted: it divides the kept units by 1 - p while training and is the identity
in eval mode. The notes (002 §4.4.3) drop units while training and multiply by the keep
probability 1 - p at test time; `ClassicDropout` does that. `torchref.mlp.MLP` uses it for
`dropout_kind="classic"`.
Erratum: docs/errata.md#h3

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: H3 -> torch.nn:Dropout, torch.nn.functional:dropout
"""

from __future__ import annotations

import torch
from torch import nn

from scratch.validation import DROP_PROBABILITY as P_RANGE
from scratch.validation import check_bool, check_mask_values, check_same_shape

__all__ = [
    "ClassicDropout",
    "classic_dropout",
    "inverted_dropout",
    "classic_to_inverted_weights_",
]

def _check_mask(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    check_same_shape("mask", mask, "x", x)
    check_mask_values("mask", bool(torch.all((mask == 0) | (mask == 1))))
    return mask.to(x.dtype)


def _draw_mask(x: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    # The very draw torch's own CPU dropout makes (`empty_like(x).bernoulli_(1 - p)`), so with
    # the same seed ClassicDropout and nn.Dropout drop the same units.
    return torch.empty_like(x).bernoulli_(1.0 - p, generator=generator)


def classic_dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Classic dropout: `x * mask` while training, `x * (1 - p)` at test time.

    `mask` (0/1, shape of x) is used as given when passed; otherwise one is drawn. Autograd
    gives dx = dout * mask (training) or dout * (1 - p) (test).
    Catalog: H3.
    """
    p = P_RANGE.check("p", p)
    if not check_bool("training", training):
        return x * (1.0 - p)
    m = _check_mask(mask, x) if mask is not None else _draw_mask(x, p, generator)
    return x * m


def inverted_dropout(
    x: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Inverted dropout with an injectable mask: `x * mask / (1 - p)` while training, `x` at test.

    Without a mask this is `torch.nn.functional.dropout` itself; with one it is the same formula
    applied to the given mask (torch's dropout takes no mask argument).
    Catalog: H3.
    """
    p = P_RANGE.check("p", p)
    if not check_bool("training", training):
        return x
    if mask is None:
        return nn.functional.dropout(x, p, training=True)
    return x * (_check_mask(mask, x) / (1.0 - p))


class ClassicDropout(nn.Module):
    """The notes' dropout as a layer: drop with probability p in train(), scale by 1 - p in eval().

    `forward(x, mask=None)`: pass a 0/1 mask to fix the dropped units (tests do); otherwise the
    mask is drawn from torch's global RNG (or `generator`, if given at construction).
    Catalog: H3.
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = P_RANGE.check("p", p)
        self.generator = generator

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return classic_dropout(x, self.p, self.training, mask=mask, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


@torch.no_grad()
def classic_to_inverted_weights_(linear: nn.Linear, p: float) -> nn.Linear:
    """In place: multiply the weights of the layer after a dropout layer by 1 - p (bias unchanged).

    After it, a network that used `ClassicDropout(p)` before `linear` computes the same function
    with `nn.Dropout(p)` instead, in train() with the same mask and in eval().
    Catalog: H3.
    """
    p = P_RANGE.check("p", p)
    linear.weight.mul_(1.0 - p)
    return linear

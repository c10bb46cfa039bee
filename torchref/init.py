"""Weight initialization (G3) in PyTorch: the notes' schemes mapped onto `torch.nn.init`.

Imports torch and `scratch.validation` only. `initialize(module, scheme, std, generator)`
sets every `nn.Linear` weight by the scheme and its bias to 0 (except "torch_default", which
leaves the layer as constructed). n is the fan-in (`in_features`). The mapping, exactly:

scheme         the notes (002 §4.3.2)          torch.nn.init call
zeros          W = 0                           zeros_(W)
normal         N(0, alpha), alpha = std        normal_(W, 0, std)
xavier         N(0, alpha), alpha = 1/sqrt(n)  kaiming_normal_(W, mode="fan_in",
                                                               nonlinearity="linear")
he             N(0, alpha), alpha = sqrt(2/n)  kaiming_normal_(W, mode="fan_in",
                                                               nonlinearity="relu")
uniform        U[-1/sqrt(n), 1/sqrt(n)]        uniform_(W, -1/sqrt(n), 1/sqrt(n))
torch_default  (not in the notes)              nothing; nn.Linear's own kaiming_uniform_(a=sqrt(5))
                                               draws W from the same U[-1/sqrt(n), 1/sqrt(n)]

The notes' "Xavier" (std 1/sqrt(n_in)) is NOT `xavier_normal_`, whose std is
sqrt(2/(n_in + n_out)) (Glorot & Bengio's fan average); the two agree only when n_in = n_out.
kaiming_normal_ draws N(0, (gain/sqrt(fan_in))^2) with gain 1 for "linear", sqrt(2) for "relu".
Erratum: docs/errata.md#g3-variance

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: G3 -> torch.nn.init:kaiming_normal_, torch.nn.init:normal_, torch.nn.init:uniform_
Catalog: G3 -> torch.nn.init:zeros_
"""

from __future__ import annotations

import math

import torch
from torch import nn

from scratch.validation import Choice, check_init_scheme, check_real_dtype, check_shape

__all__ = ["SCHEMES", "init_weight_", "initialize"]

SCHEMES = Choice(("zeros", "normal", "xavier", "he", "uniform", "torch_default"))


@torch.no_grad()
def init_weight_(
    weight: torch.Tensor,
    scheme: str,
    std: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill a (n_out, n_in) weight in place by `scheme` (see the module's table); returns it.

    Catalog: G3.
    """
    std = check_init_scheme(scheme, std, SCHEMES)
    # scratch.init.init_weight's checks of its `shape` and `dtype`
    _, n_in = check_shape("weight.shape", tuple(weight.shape), ndim=2)
    check_real_dtype("weight", weight.dtype, weight.is_floating_point())
    if scheme == "zeros":
        return nn.init.zeros_(weight)
    if scheme == "normal":
        return nn.init.normal_(weight, 0.0, std, generator=generator)
    if scheme in ("xavier", "he"):
        nonlinearity = "linear" if scheme == "xavier" else "relu"
        return nn.init.kaiming_normal_(
            weight, mode="fan_in", nonlinearity=nonlinearity, generator=generator
        )
    if scheme == "uniform":
        bound = 1.0 / math.sqrt(n_in)
        return nn.init.uniform_(weight, -bound, bound, generator=generator)
    return weight  # torch_default


def initialize(
    module: nn.Module,
    scheme: str,
    std: float | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Initialize every `nn.Linear` of `module`: weight by `scheme`, bias to 0; returns module.

    Layers are visited in `module.modules()` order, so a seeded `generator` reproduces the same
    weights. "torch_default" changes nothing. Unknown schemes raise
    `unknown scheme 'x'; valid choices: 'zeros', 'normal', ...`.
    Catalog: G3.
    """
    std = check_init_scheme(scheme, std, SCHEMES)
    if scheme == "torch_default":
        return module
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            init_weight_(layer.weight, scheme, std, generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module

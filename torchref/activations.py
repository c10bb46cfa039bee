"""PyTorch counterparts of `scratch.activations`: the torch built-in for each activation.

Imports torch and `scratch.validation` (for the shared error wording) only. Where torch has
a module (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SiLU, nn.Softmax,
nn.Identity) it is used as it is; the notes' units torch lacks are small modules here:
`TanhHalf` (tanh(x/2), 000), `Step` (the BTU 1{z > 0}, A1) and `SignUnit` (the notes'
0/1 "sign" unit, A9), `Sign` (the +-1 sign). No custom autograd: `Step` is built from
`torch.sign(torch.relu(z))`, whose autograd derivative is 0 everywhere, the a.e. derivative.

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: A2 -> torch.nn:Linear
Catalog: A3 -> torch.nn:Sigmoid, torch.nn.functional:sigmoid
Catalog: A4 -> torch.nn:Tanh
Catalog: A5 -> torch.nn:ReLU, torch.nn.functional:relu
Catalog: A6 -> torch.nn:PReLU, torch.nn:LeakyReLU
Catalog: A7 -> torch.nn:ELU
Catalog: A8 -> torch.nn:SiLU
Catalog: A10 -> torch.nn:Softmax, torch.nn.functional:softmax, torch.autograd.functional:jacobian
Catalog: A11 -> torch.nn.functional:relu, torch.nn.functional:leaky_relu, torch.nn.functional:prelu
Catalog: A12 -> torch.nn.functional:sigmoid, torch.nn.functional:tanh, torch.nn.functional:relu
Catalog: A13 -> torch.nn:ReLU, torch.nn:Linear
"""

from __future__ import annotations

import torch
from torch import nn

from scratch.validation import Choice

__all__ = [
    "TanhHalf",
    "Step",
    "SignUnit",
    "Sign",
    "Neuron",
    "MODULE_NAMES",
    "get_activation_module",
]


class TanhHalf(nn.Module):
    """The slides' `phi(x) = tanh(x/2)` (000), equal to `2 sigmoid(x) - 1`. Catalog: A4."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z / 2)


class Step(nn.Module):
    """Binary threshold unit `1{z > 0}` (0 at z = 0). Catalog: A1, A9.

    `sign(relu(z))` is exactly 1{z > 0} and autograd differentiates it to 0 everywhere (the
    step's derivative almost everywhere), whereas `torch.heaviside` has no derivative at all.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sign(torch.relu(z))


class SignUnit(Step):
    """The notes' logic "sign" unit: 1 if z > 0 else 0 (002 §4.1.3). Catalog: A9."""


class Sign(nn.Module):
    """The +-1 sign, 0 at 0 (`torch.sign`); the `sign(w)` of the L1 update. Catalog: A11."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sign(z)


_FACTORIES = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "tanh_half": TanhHalf,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),  # the notes' alpha = 0.01 (002 §4.1.2)
    "elu": lambda: nn.ELU(alpha=1.0),
    "swish": nn.SiLU,
    "prelu": nn.PReLU,  # one shared alpha, initialised to 0.25 (torch's default)
    "softmax": lambda: nn.Softmax(dim=-1),
    "step": Step,
    "sign_unit": SignUnit,
    "sign": Sign,
}

MODULE_NAMES = Choice(tuple(_FACTORIES))


def get_activation_module(name: str) -> nn.Module:
    """A fresh activation module for `name` (the names of `scratch.activations` plus
    "prelu" and "softmax"). Unknown names raise the same ValueError as
    `scratch.activations.get_activation`. Catalog: A2."""
    MODULE_NAMES.check("activation", name)
    return _FACTORIES[name]()


class Neuron(nn.Module):
    """Generic neuron `h(x; w, b) = phi(x^T w + b)` (A2): `nn.Linear(d, 1)` then `phi`.

    With `activation="step"` it is the threshold unit of A1. Input (N, d) -> output (N,).
    Catalog: A1, A2.
    """

    def __init__(self, in_features: int, activation: str = "sigmoid") -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, 1)
        self.phi = get_activation_module(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.phi(self.linear(x)).squeeze(-1)  # (N, 1) -> (N,)

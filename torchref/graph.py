"""The ops of `scratch.graph` in torch, and one expression tree evaluated with torch autograd.

`OPS` maps each op name of `scratch.graph` (add, sub, mul, ..., matmul, dot, sum, mean, and the
activations of `scratch.activations`) to the torch function that computes it, so a tree of
those names can be evaluated by both engines node for node; torch autograd then gives every
node's adjoint (`Tensor.retain_grad`). This is verify's second opinion: no custom autograd.

Imports torch and `torchref.activations` only (never scratch).

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: D1, D2, D8, D9, D10, D13 -> torch.autograd:grad
Catalog: D10 -> torch.nn:Sigmoid
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import torch

from torchref.activations import get_activation_module

__all__ = ["OPS", "Tree", "evaluate"]

OPS: dict[str, Callable[..., torch.Tensor]] = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "neg": torch.neg,
    "pow": torch.pow,
    "exp": torch.exp,
    "log": torch.log,
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "sqrt": torch.sqrt,
    "abs": torch.abs,  # autograd's kink choice: d|x|/dx = sign(0) = 0 at 0, as scratch.graph
    "matmul": torch.matmul,
    "dot": torch.dot,
    "sum": torch.sum,
    "mean": torch.mean,
}
# Element-wise activations by their scratch.activations names (nn.Sigmoid, nn.SiLU, ...).
for _name in ("identity", "sigmoid", "tanh", "tanh_half", "relu", "leaky_relu", "elu", "swish"):
    OPS[_name] = get_activation_module(_name)


class Tree(Protocol):
    """A node of an expression tree: `op` is "input" (`name`), "const" (`value`) or an OPS key."""

    op: str
    args: tuple[Tree, ...]
    name: str
    value: float


def evaluate(
    tree: Tree, inputs: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Evaluate `tree` with torch ops; return the output and a tensor for every tree node.

    The dict is keyed by `id(node)`. Leaves named alike share one tensor of `inputs` (pass them
    with `requires_grad=True`); every other tensor keeps its `.grad` after `backward()`
    (`retain_grad`), so each node's adjoint can be read. Constants take the dtype of the
    inputs and need no gradient.
    Catalog: D13.
    """
    dtype = next(iter(inputs.values())).dtype if inputs else torch.float64
    memo: dict[int, torch.Tensor] = {}

    def visit(node: Tree) -> torch.Tensor:
        if id(node) in memo:
            return memo[id(node)]
        if node.op == "input":
            out = inputs[node.name]
        elif node.op == "const":
            out = torch.tensor(node.value, dtype=dtype)
        else:
            args = [visit(a) for a in node.args]
            out = OPS[node.op](*args)
            if any(out is a for a in args):
                out = out.clone()  # nn.Identity returns its input; the node needs its own tensor
            out.retain_grad()
        memo[id(node)] = out
        return out

    return visit(tree), memo

"""The ops of `scratch.graph` in torch, and one expression tree evaluated with torch autograd.

`OPS` maps each op name of `scratch.graph` (add, sub, mul, ..., matmul, outer, sum, softmax,
cross_entropy, and every activation of `scratch.activations`) to the torch function that
computes it, with the same arguments (`axis` where the scratch op has one), so a tree of those
names can be evaluated by both engines node for node; torch autograd then gives every node's
adjoint (`Tensor.retain_grad`). This is verify's second opinion: built-ins only, no custom
autograd. Where a function has a kink, the derivative there is whatever torch's built-in
returns; `scratch.graph` documents and follows the same choice.

Imports torch, `torchref.activations` and the activation names of `scratch.activations` (one
list of names for both engines).

Torch built-ins that are the torch side of catalog IDs (`torchref.catalog` reads these):
Catalog: D1, D2, D8, D9, D10, D13 -> torch.autograd:grad
Catalog: D10 -> torch.nn:Sigmoid
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import torch
import torch.nn.functional as F

from scratch.activations import ACTIVATIONS, THRESHOLD_UNITS
from torchref.activations import get_activation_module

__all__ = ["OPS", "Tree", "evaluate"]


def _reduce(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    # NumPy's axis=None (all entries) is torch's "no dim argument".
    return lambda a, axis=None: fn(a) if axis is None else fn(a, dim=axis)


def _compare(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    # A comparison is a 0/1 number without a gradient, as in scratch.graph.
    return lambda a, b: fn(a, b).to(torch.result_type(a, b))


OPS: dict[str, Callable[..., torch.Tensor]] = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "neg": torch.neg,
    "pow": torch.pow,  # d/da a**0 = 0 at a = 0
    "exp": torch.exp,
    "log": torch.log,
    "log2": torch.log2,
    "log10": torch.log10,
    "sqrt": torch.sqrt,
    "abs": torch.abs,  # d|x|/dx = sign(0) = 0 at 0
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "arcsin": torch.asin,
    "arccos": torch.acos,
    "arctan": torch.atan,
    "erf": torch.erf,
    "gelu": F.gelu,  # the exact erf form (approximate="none")
    # F.softplus returns x itself past `threshold` (20 by default): off from log(1 + e^x) by
    # up to 2e-9. Past 40, e^-x is below float64's resolution, so there the switch is exact.
    "softplus": lambda a: F.softplus(a, threshold=40.0),
    "prelu": F.prelu,
    "maximum": torch.maximum,  # ties: half the gradient to each side
    "minimum": torch.minimum,
    "clip": torch.clamp,  # the boundaries count as inside: the gradient goes to x
    "where": lambda cond, a, b: torch.where(cond != 0, a, b),
    "lt": _compare(torch.lt),
    "le": _compare(torch.le),
    "gt": _compare(torch.gt),
    "ge": _compare(torch.ge),
    # NumPy's @ for vectors and matrices; a scalar scales, as np.dot (torch.matmul refuses).
    "matmul": lambda a, b: a * b if a.ndim == 0 or b.ndim == 0 else torch.matmul(a, b),
    "dot": torch.dot,
    "outer": torch.outer,
    "transpose": torch.t,  # NumPy's .T for up to 2-D: a scalar or vector comes back as it is
    "diag": torch.diag,
    "index": lambda a, key: a[key],
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "max": _reduce(torch.amax),  # ties share the gradient evenly (torch.max(dim) does not)
    "min": _reduce(torch.amin),
    "norm": torch.linalg.vector_norm,  # gradient 0 at the zero vector
    "softmax": lambda z, axis=-1: torch.softmax(z, dim=axis),
    "log_softmax": lambda z, axis=-1: torch.log_softmax(z, dim=axis),
    "logsumexp": lambda z, axis=-1: torch.logsumexp(z, dim=axis),
    "cross_entropy": F.cross_entropy,  # probability targets: the same shape as the logits
    "bce": F.binary_cross_entropy,
    "mse": F.mse_loss,
}
# Every activation and threshold unit of scratch.activations, by its name there.
for _name in (*ACTIVATIONS, *THRESHOLD_UNITS):
    OPS[_name] = get_activation_module(_name)


class Tree(Protocol):
    """A node of an expression tree: `op` is "input" (`name`), "const" (`value`) or an OPS key
    called with `args` and the keyword arguments `kwargs` ((key, value) pairs)."""

    op: str
    args: tuple[Tree, ...]
    name: str
    value: float
    kwargs: tuple[tuple[str, object], ...]


def evaluate(
    tree: Tree, inputs: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Evaluate `tree` with torch ops; return the output and a tensor for every tree node.

    The dict is keyed by `id(node)`. Leaves named alike share one tensor of `inputs` (pass them
    with `requires_grad=True`); every other tensor that depends on one keeps its `.grad` after
    `backward()` (`retain_grad`), so each node's adjoint can be read. Constants take the dtype
    of the inputs and need no gradient. Iterative: any depth. Catalog: D13 (002 §4.2.2).
    """
    dtype = next(iter(inputs.values())).dtype if inputs else torch.float64
    memo: dict[int, torch.Tensor] = {}
    numbers: dict[float, torch.Tensor] = {}  # constants need no gradient: one tensor per number
    stack: list[tuple[Tree, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in memo:
            continue
        if not ready and node.args:
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if id(a) not in memo)
            continue
        if node.op == "input":
            out = inputs[node.name]
        elif node.op == "const":
            out = numbers.get(node.value)
            if out is None:
                out = numbers[node.value] = torch.tensor(node.value, dtype=dtype)
        else:
            args = [memo[id(a)] for a in node.args]
            out = OPS[node.op](*args, **dict(node.kwargs))
            if any(out is a for a in args):
                out = out.clone()  # nn.Identity returns its input; the node needs its own tensor
            if out.requires_grad:
                out.retain_grad()
        memo[id(node)] = out
    return memo[id(tree)], memo

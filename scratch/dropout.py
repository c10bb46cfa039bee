"""Dropout, the notes' classic form and the inverted form PyTorch uses (H3), in NumPy.

NumPy only. Both forms take an explicit keep-mask so a test can feed the same mask to both
sides of a parity pair; without one they draw it from a `np.random.Generator`.

Classic (002 §4.4.3): while training, drop each unit with probability p; at test time keep
every unit and multiply by the keep probability 1 - p ("divide all the weights by half" for
p = 0.5). Inverted (`torch.nn.Dropout`): while training, divide the kept units by 1 - p; at test
time do nothing. A classic network with weights W after a dropout layer is the same function as
an inverted network with weights (1 - p) W, in training and at test time
(`classic_to_inverted_weights`).
Erratum: docs/errata.md#h3
"""

from __future__ import annotations

import numpy as np

from scratch.validation import (
    DROP_PROBABILITY,
    Choice,
    check_array,
    check_bool,
    check_mask_values,
    check_rng,
    check_same_shape,
)

__all__ = [
    "P_RANGE",
    "DROPOUT_KINDS",
    "dropout_mask",
    "classic_dropout_forward",
    "classic_dropout_backward",
    "inverted_dropout_forward",
    "inverted_dropout_backward",
    "classic_to_inverted_weights",
]

P_RANGE = DROP_PROBABILITY  # [0, 1): p = 1 is refused (scratch.validation says why)
# "inverted" (nn.Dropout: scale while training) or "classic" (the notes: scale at test time);
# the choice every network with dropout offers, in scratch and torchref.
DROPOUT_KINDS = Choice(("inverted", "classic"))


def dropout_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator) -> np.ndarray:
    """Draw a keep-mask: 1.0 with probability 1 - p, 0.0 with probability p.

    Catalog: H3 (002 §4.4.3). Shapes: the mask has `shape` (the shape of the layer's input).
    """
    p = P_RANGE.check("p", p)
    check_rng(rng)
    return (rng.random(shape) >= p).astype(np.float64)


def _mask_for(x: np.ndarray, p: float, mask, rng) -> np.ndarray:
    if mask is None:
        if rng is None:
            raise ValueError("training-mode dropout needs a mask or an rng, got neither")
        return dropout_mask(x.shape, p, rng).astype(x.dtype)
    mask = check_array("mask", mask).astype(x.dtype)
    check_same_shape("mask", mask, "x", x)
    check_mask_values("mask", bool(np.all((mask == 0) | (mask == 1))))
    return mask


def classic_dropout_forward(
    x,
    p: float,
    training: bool,
    mask=None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict]:
    """The notes' dropout: drop units while training, scale by the keep probability at test.

    training: out = m * x with m_i ~ Bernoulli(1 - p)
    test:     out = (1 - p) * x      (002: "divide all the weights by half" for p = 0.5)

    Catalog: H3 (002 §4.4.3). PyTorch differs: `nn.Dropout` is inverted dropout (scales by
    1/(1 - p) while training, identity at test); `torchref.dropout.ClassicDropout` is this one.
    Shapes: x any shape; mask (0/1) the shape of x; out the shape of x. `mask` wins over `rng`;
    at test time neither is used. p = 0 is the identity in both modes.
    Erratum: docs/errata.md#h3
    """
    x = check_array("x", x)
    p = P_RANGE.check("p", p)
    if check_bool("training", training):
        m = _mask_for(x, p, mask, rng)
        return x * m, {"scale": m}
    scale = np.asarray(1.0 - p, dtype=x.dtype)
    return x * scale, {"scale": np.broadcast_to(scale, x.shape)}


def classic_dropout_backward(dout, cache: dict) -> np.ndarray:
    """Gradient of classic dropout: dx = dout * m (training) or dout * (1 - p) (test).

    Catalog: H3 (002 §4.4.3). Shapes: dout the shape of x; returns dx of the same shape.
    """
    dout = check_array("dout", dout)
    check_same_shape("dout", dout, "x", cache["scale"])
    return dout * cache["scale"]


def inverted_dropout_forward(
    x,
    p: float,
    training: bool,
    mask=None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict]:
    """Inverted dropout (PyTorch's): scale the kept units by 1/(1 - p) while training.

    training: out = m * x / (1 - p) with m_i ~ Bernoulli(1 - p)
    test:     out = x

    Catalog: H3 (002 §4.4.3; the notes describe the classic form instead). Matches
    `torch.nn.functional.dropout` given the same mask. Shapes: as `classic_dropout_forward`.
    """
    x = check_array("x", x)
    p = P_RANGE.check("p", p)
    if check_bool("training", training):
        m = _mask_for(x, p, mask, rng)
        scale = m / x.dtype.type(1.0 - p)
        return x * scale, {"scale": scale}
    return x.copy(), {"scale": np.ones_like(x)}


def inverted_dropout_backward(dout, cache: dict) -> np.ndarray:
    """Gradient of inverted dropout: dx = dout * m / (1 - p) (training) or dout (test).

    Catalog: H3 (002 §4.4.3). Shapes: dout the shape of x; returns dx of the same shape.
    """
    dout = check_array("dout", dout)
    check_same_shape("dout", dout, "x", cache["scale"])
    return dout * cache["scale"]


def classic_to_inverted_weights(W, p: float) -> np.ndarray:
    """Weights of the layer after a dropout layer, converted from the classic to the inverted form.

    W_inverted = (1 - p) W_classic. With it, classic and inverted networks compute the same
    function with the same mask while training and at test time (classic scales the units by
    1 - p at test, inverted folds that factor into the weights once).

    Catalog: H3 (002 §4.4.3). Shapes: W (n_out, n_in), the layer that reads the dropped units;
    its bias is unchanged.
    """
    W = check_array("W", W)
    p = P_RANGE.check("p", p)
    return W * W.dtype.type(1.0 - p)

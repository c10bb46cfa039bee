"""Weight initialization (G3) in NumPy: the notes' schemes, their variances, signal propagation.

NumPy only; imports `scratch.activations` and `scratch.validation`. Weights are (n_out, n_in)
like `nn.Linear.weight` and `scratch.mlp`; n in the notes' formulas is the fan-in n_in.

The notes (002 §4.3.2) write N(0, alpha) "with a small variance" and then give alpha = 0.01,
0.1, 1, 1/sqrt(n) (Xavier) and sqrt(2/n) (He). Read as variances, Xavier's alpha would make the
standard deviation n^(-1/4); the standard results (Xavier: Var = 1/n, He: Var = 2/n) hold only
if every alpha is a standard deviation, so that is how this module reads them (errata G3).
Erratum: docs/errata.md#g3-variance
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scratch.activations import get_activation
from scratch.validation import (
    Choice,
    check_array,
    check_count,
    check_float_dtype,
    check_init_scheme,
    check_layer_sizes,
    check_rng,
    check_shape,
)

__all__ = [
    "SCHEMES",
    "init_std",
    "init_weight",
    "init_params",
    "activation_variances",
    "signal_propagation",
]

SCHEMES = Choice(("zeros", "normal", "xavier", "he", "uniform"))


def init_std(scheme: str, n_in: int, std: float | None = None) -> float:
    """The standard deviation each scheme intends for one weight of a layer with fan-in n.

    zeros 0;  normal alpha (= `std`);  xavier 1/sqrt(n);  he sqrt(2/n);
    uniform U[-1/sqrt(n), 1/sqrt(n)] has Var = (2/sqrt(n))^2 / 12 = 1/(3n), std 1/sqrt(3n).

    Catalog: G3 (002 §4.3.2). Returns a Python float.
    """
    std = check_init_scheme(scheme, std, SCHEMES)
    n = check_count("n_in", n_in)
    if scheme == "normal":
        return std
    return {
        "zeros": 0.0,
        "xavier": 1.0 / np.sqrt(n),
        "he": np.sqrt(2.0 / n),
        "uniform": 1.0 / np.sqrt(3.0 * n),
    }[scheme]


def init_weight(
    shape: tuple[int, int],
    scheme: str,
    rng: np.random.Generator,
    std: float | None = None,
    dtype=np.float64,
) -> np.ndarray:
    """Draw one weight matrix W (n_out, n_in) by the notes' scheme, n = n_in.

    zeros:   W = 0 (the notes: "outputs and gradients are all 0"; see errata G3: the real
             failure is that hidden units stay identical)
    normal:  W_ij ~ N(0, alpha^2), alpha = `std` (the notes' 0.01, 0.1, 1)
    xavier:  W_ij ~ N(0, 1/n)   (alpha = 1/sqrt(n))
    he:      W_ij ~ N(0, 2/n)   (alpha = sqrt(2/n), for ReLU)
    uniform: W_ij ~ U[-1/sqrt(n), 1/sqrt(n)]

    Catalog: G3 (002 §4.3.2). PyTorch (`torchref.init.initialize`): normal_ ; xavier is
    `kaiming_normal_(nonlinearity="linear")`, NOT `xavier_normal_` (Var 2/(n_in + n_out));
    he is `kaiming_normal_(nonlinearity="relu")`; uniform is `uniform_(-1/sqrt(n), 1/sqrt(n))`,
    the same distribution as torch's default `nn.Linear` weight.
    Shapes: shape = (n_out, n_in); returns an array of that shape and `dtype`.
    Erratum: docs/errata.md#g3
    Erratum: docs/errata.md#g3-variance
    """
    std = check_init_scheme(scheme, std, SCHEMES)
    check_rng(rng)
    n_out, n_in = check_shape("shape", shape, ndim=2)  # (2.7, 3) is refused, not truncated
    check_float_dtype("dtype", dtype)
    if scheme == "zeros":
        W = np.zeros((n_out, n_in))
    elif scheme == "uniform":
        bound = 1.0 / np.sqrt(n_in)
        W = rng.uniform(-bound, bound, size=(n_out, n_in))
    else:
        W = rng.normal(0.0, init_std(scheme, n_in, std), size=(n_out, n_in))
    return W.astype(dtype)


def init_params(
    layer_sizes: Sequence[int],
    scheme: str,
    rng: np.random.Generator,
    std: float | None = None,
    dtype=np.float64,
) -> list[np.ndarray]:
    """MLP parameters `[W1, b1, ..., WL, bL]` (scratch.mlp's order): W by `init_weight`, b = 0.

    Catalog: G3 (002 §4.3.2). PyTorch: `torchref.init.initialize(model, scheme, std)`.
    Shapes: layer_sizes (d_in, n_1, ..., n_L); W_l (n_l, n_{l-1}); b_l (n_l,).
    """
    sizes = check_layer_sizes("layer_sizes", layer_sizes, what="widths (input, ..., output)")
    params: list[np.ndarray] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        params += [init_weight((n_out, n_in), scheme, rng, std, dtype), np.zeros(n_out, dtype)]
    return params


def activation_variances(X, weights: Sequence[np.ndarray], activation: str = "relu") -> np.ndarray:
    """Variance of the activations after each layer of a bias-free deep net: a_l = g(W_l a_{l-1}).

    The quantity the notes' argument is about (002 §4.3.2): with small weights it shrinks
    layer by layer (gradients vanish), with large ones it grows. The variance is over every
    entry of a_l (all examples and units).
    Catalog: G3. Shapes: X (N, n_0); weights[l] (n_{l+1}, n_l); returns (L,) variances.
    """
    a = check_array("X", X, ndim=2)
    g, _ = get_activation(activation)
    out = []
    for W in weights:
        a = g(a @ W.T)  # (N, n_l) -> (N, n_{l+1})
        out.append(np.var(a))
    return np.asarray(out)


def signal_propagation(
    scheme: str,
    rng: np.random.Generator,
    depth: int = 20,
    width: int = 128,
    n_samples: int = 128,
    std: float | None = None,
    activation: str = "relu",
) -> np.ndarray:
    """Activation variance per layer of a `depth`-layer ReLU net initialized by `scheme`.

    Input X ~ N(0, 1) of shape (n_samples, width); every layer width x width, no bias. With
    Var(W) = s^2 the second moment of ReLU activations scales by width * s^2 / 2 per layer:
    1 for He (so the variance stays O(1)), 0.0064 for N(0, 0.01) at width 128 (collapse),
    64 for N(0, 1) (explosion), 1/2 for Xavier 1/sqrt(n) (the notes: "problematic for ReLU").
    Catalog: G3 (002 §4.3.2). Returns (depth,) variances.
    """
    depth, width = check_count("depth", depth), check_count("width", width)
    n_samples = check_count("n_samples", n_samples)
    X = check_rng(rng).normal(size=(n_samples, width))
    weights = [init_weight((width, width), scheme, rng, std) for _ in range(depth)]
    return activation_variances(X, weights, activation)

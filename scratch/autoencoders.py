"""Autoencoders of the notes in NumPy: bottleneck, sparse, dropout, stacked, the 8-3-8 encoder.

NumPy only; imports `scratch.mlp` (the dense/activation layer pairs, heads, init),
`scratch.losses`, `scratch.dropout`, `scratch.optim` (`gd_update`, the learning-rate check)
and `scratch.validation`. Never torch. Catalog IDs I1-I4 and C9 (003, "AutoEncoders using BP" to
"Stacked Auto-Encoders for Deep network initialization").

Layout (as `scratch.mlp`): examples are rows, `X` is (N, d); parameters are one flat list
`[W1, b1, ..., WL, bL]` with `W_l` (n_l, n_{l-1}), the order of the `nn.Linear` layers of
`torchref.autoencoders.Autoencoder` (so `torchref.mlp.to_numpy_params` converts it). An
autoencoder with `sizes = (d, ..., n_code, ..., d)` is the MLP of those widths trained on the
identity, "the input is the desired output" (003): every hidden layer (the code layer
included) uses `activation`, the output layer `output_activation`.

Losses, one batch of m examples, sum over the d features and mean over the examples
(`scratch.mlp.head_loss`'s convention):
  "bce": `-1/m sum_p sum_i [x_pi log x^_pi + (1 - x_pi) log(1 - x^_pi)]` with a sigmoid
         output, computed from the output logits (stable; C5 of 003 with t = x);
  "mse": `1/m sum_p sum_i (x^_pi - x_pi)^2` (C1, per example `sum_j (a_j - y_j)^2`).
  PyTorch: `F.binary_cross_entropy_with_logits(z, x, reduction="sum") / m` and
  `F.mse_loss(x^, x, reduction="sum") / m`.
Sparsity (C9, I2) adds `beta sum_j KL(rho || rho^_j)` or `beta/m sum_p sum_j |h_pj|` on the
code layer; dropout (I3) acts on the code layer between encoder and decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scratch import losses
from scratch.activations import ACTIVATIONS, get_activation
from scratch.dropout import (
    DROPOUT_KINDS,
    P_RANGE,
    classic_dropout_backward,
    classic_dropout_forward,
    inverted_dropout_backward,
    inverted_dropout_forward,
)
from scratch.mlp import (
    HIDDEN_ACTIVATIONS,
    activation_backward,
    activation_forward,
    check_params,
    dense_backward,
    dense_forward,
    head_loss,
    head_loss_grad,
    init_mlp,
    layer_sizes_of,
    loss_and_grads,
    mlp_predict,
)
from scratch.optim import gd_update
from scratch.validation import (
    NONNEGATIVE_INT,
    OPEN_UNIT,
    PENALTY,
    Choice,
    check_array,
    check_autoencoder_sizes,
    check_choice,
    check_count,
    check_int,
    check_interval,
    check_layer_sizes,
    check_optimizer_hparam,
    check_probabilities,
    check_same_shape,
    check_target_shape,
    scalar_like,
)

__all__ = [
    "AE_LOSSES",
    "OUTPUT_ACTIVATIONS",
    "SPARSITY_KINDS",
    "DROPOUT_KINDS",
    "RHO_RANGE",
    "BETA_RANGE",
    "AEConfig",
    "check_input",
    "check_input_shape",
    "check_code_rates",
    "check_schedule",
    "check_steps",
    "check_table_rows",
    "init_autoencoder",
    "encode",
    "autoencoder_forward",
    "autoencoder_backward",
    "reconstruction_loss",
    "reconstruction_loss_grad",
    "kl_divergence_bernoulli",
    "kl_sparsity",
    "kl_sparsity_grad",
    "l1_sparsity",
    "l1_sparsity_grad",
    "sparsity_penalty",
    "sparsity_penalty_grad",
    "autoencoder_loss",
    "autoencoder_loss_and_grads",
    "train_autoencoder",
    "one_hot_inputs",
    "train_838",
    "fit_838",
    "rounded_codes",
    "codes_are_distinct",
    "reconstructs_all",
    "code_table",
    "init_stacked",
    "greedy_pretrain",
    "encode_through",
    "train_softmax_head",
    "stack_encoders",
    "fine_tune",
    "stacked_predict",
]

# ---- valid ranges and choices, declared once (torchref.autoencoders imports them) ----------

AE_LOSSES = Choice(("bce", "mse"))
OUTPUT_ACTIVATIONS = Choice(tuple(ACTIVATIONS))
SPARSITY_KINDS = Choice(("kl", "l1"))
# KL(rho || rho^) needs a target firing rate strictly inside (0, 1): log(rho), log(1 - rho).
RHO_RANGE = OPEN_UNIT
BETA_RANGE = PENALTY

# Defaults of the 8-3-8 encoder (I1): full-batch GD, sigmoid units, BCE. Measured with
# `train_838` over seeds 0..199 (`init_mlp`'s uniform init): all 200 runs reconstruct all 8
# inputs, and 147 (73.5%) also end with 8 distinct rounded codes. The others settle in a
# solution that reconstructs just as well but parks a hidden unit near 0.5 for some inputs, so
# two codes round alike: rounding, not learning, fails. `fit_838` restarts from the next seed.
LR_838 = 3.0
STEPS_838 = 1000


@dataclass(frozen=True)
class AEConfig:
    """Everything but the weights: architecture, loss, sparsity and dropout of an autoencoder.

    The one place an autoencoder's arguments are checked: `torchref.autoencoders.Autoencoder`
    takes this object (or builds it from the same keyword arguments).
    """

    sizes: tuple[int, ...]  # (d, ..., n_code, ..., d); 8-3-8 is (8, 3, 8)
    activation: str = "sigmoid"  # every hidden layer, the code layer included (003: sigmoid)
    output_activation: str = "sigmoid"  # "identity" for real-valued data with loss "mse"
    loss: str = "bce"  # "bce" (needs a sigmoid output and inputs in [0, 1]) or "mse"
    code_layer: int | None = None  # index into sizes; None = the middle, len(sizes) // 2
    sparsity: str | None = None  # None, "kl" (C9's main form) or "l1"
    rho: float = 0.05  # KL target mean activation of each code unit, in (0, 1)
    beta: float = 0.0  # weight of the sparsity penalty, >= 0
    hidden_dropout: float = 0.0  # drop probability on the code layer (I3), in [0, 1)
    dropout_kind: str = "inverted"  # "inverted" (nn.Dropout) or "classic" (the notes' H3)

    def __post_init__(self) -> None:
        sizes = check_autoencoder_sizes(self.sizes)
        code = len(sizes) // 2 if self.code_layer is None else self.code_layer
        code = check_int("code_layer (a hidden-layer index)", code, 1, len(sizes) - 2)
        HIDDEN_ACTIVATIONS.check("activation", self.activation)
        OUTPUT_ACTIVATIONS.check("output_activation", self.output_activation)
        AE_LOSSES.check("loss", self.loss)
        if self.loss == "bce" and self.output_activation != "sigmoid":
            raise ValueError(
                f"loss 'bce' needs output_activation 'sigmoid' (outputs in (0, 1)), "
                f"got {self.output_activation!r}"
            )
        if self.sparsity is not None:
            SPARSITY_KINDS.check("sparsity", self.sparsity)
        if self.sparsity == "kl" and self.activation != "sigmoid":
            raise ValueError(
                f"sparsity 'kl' needs activation 'sigmoid' (mean code activations in (0, 1)), "
                f"got {self.activation!r}; use sparsity 'l1' instead"
            )
        rho = RHO_RANGE.check("rho", self.rho)
        beta = BETA_RANGE.check("beta", self.beta)
        p = P_RANGE.check("hidden_dropout", self.hidden_dropout)
        DROPOUT_KINDS.check("dropout_kind", self.dropout_kind)
        for name, value in (
            ("sizes", sizes), ("code_layer", code), ("rho", rho), ("beta", beta),
            ("hidden_dropout", p),
        ):
            object.__setattr__(self, name, value)


# ---- checks shared with torchref.autoencoders (which imports them) -------------------------


def check_input_shape(name: str, shape: tuple[int, ...], d: int) -> None:
    """Raise unless an autoencoder's input (N, d) has its d = sizes[0] features."""
    if shape[1:] != (d,):
        raise ValueError(
            f"{name} must have {d} features (sizes[0] of the autoencoder), got {name}{shape}"
        )


def check_code_rates(lo: float, hi: float) -> None:
    """Raise unless the mean code activations rho^, spanning [lo, hi], lie in (0, 1)."""
    if not (lo > 0 and hi < 1):
        raise ValueError(
            f"rho_hat must lie in (0, 1) for the KL penalty, got values in [{lo:g}, {hi:g}] "
            f"(a saturated code unit or a code activation that is not a sigmoid)"
        )


def check_steps(steps) -> int:
    """A number of training steps: an integer >= 0."""
    return check_interval("steps", steps, NONNEGATIVE_INT)


def check_schedule(name: str, seq, steps: int):
    """`seq` (per-step batches or masks) with one entry per step, or None."""
    if seq is not None and len(seq) != steps:
        raise ValueError(f"{name} must hold one entry per step ({steps}), got {len(seq)}")
    return seq


def check_table_rows(x_shape, h_shape, x_hat_shape) -> None:
    """Raise unless the code table's inputs, codes and outputs have the same number of rows."""
    if not x_shape[0] == h_shape[0] == x_hat_shape[0]:
        raise ValueError(
            f"X, H and X_hat must have the same number of rows, got X{x_shape}, H{h_shape} "
            f"and X_hat{x_hat_shape}"
        )


def check_input(X, config: AEConfig, name: str = "X") -> np.ndarray:
    """`X` as a finite (N, d) float array with d = sizes[0]; in [0, 1] when the loss is "bce".

    The inputs are also the targets, so BCE needs them to be probabilities.
    Catalog: I1. Shapes: X (N, d) -> the same array, as floats.
    """
    X = check_array(name, X, ndim=2)
    check_input_shape(name, X.shape, config.sizes[0])
    if config.loss == "bce":
        check_probabilities(name, X)
    return X


def init_autoencoder(
    config: AEConfig, rng: np.random.Generator, scheme: str = "uniform", dtype=np.float64
) -> list[np.ndarray]:
    """Random `[W1, b1, ..., WL, bL]` for `config.sizes` (`scratch.mlp.init_mlp`'s schemes).

    "uniform" is `nn.Linear`'s default distribution, U[-1/sqrt(n_in), 1/sqrt(n_in)].
    Catalog: I1. Shapes: W_l (sizes[l], sizes[l-1]), b_l (sizes[l],).
    """
    return init_mlp(config.sizes, rng, scheme, dtype)


def _check_params_for(params, config: AEConfig) -> list[np.ndarray]:
    params = check_params(params)
    got = layer_sizes_of(params)
    if got != config.sizes:
        raise ValueError(f"params have layer sizes {got}, but config.sizes is {config.sizes}")
    return params


# ---- forward and backward -------------------------------------------------------------------


def encode(params, X, config: AEConfig) -> np.ndarray:
    """The code `h = g(W_c ... g(W_1 x + b_1) ... + b_c)` of every row of X (no dropout).

    Catalog: I1 (003: the hidden-layer representation of each input). PyTorch:
    `Autoencoder.encode`. Shapes: X (N, d) -> h (N, n_code).
    """
    params = _check_params_for(params, config)
    a = check_input(X, config)
    for l in range(config.code_layer):
        z, _ = dense_forward(a, params[2 * l], params[2 * l + 1])
        a, _ = activation_forward(z, config.activation)
    return a


def _dropout(h, config: AEConfig, training: bool, mask, rng):
    if config.hidden_dropout == 0.0:
        return h, None
    forward = (
        inverted_dropout_forward if config.dropout_kind == "inverted" else classic_dropout_forward
    )
    return forward(h, config.hidden_dropout, training, mask=mask, rng=rng)


def autoencoder_forward(
    params,
    X,
    config: AEConfig,
    training: bool = False,
    mask=None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict]:
    """Reconstruction `x^ = g_out(W_L ... drop(h) ... + b_L)` of every row of X.

    Layers are `scratch.mlp.dense_forward` then `activation_forward`; after the code layer
    (index `config.code_layer` of `sizes`) comes dropout when `config.hidden_dropout > 0`
    (`training=True`: the keep-`mask` (N, n_code) if given, else one drawn from `rng`;
    `training=False`: inverted dropout is the identity, classic scales by 1 - p).
    Catalog: I1, I3 (003). PyTorch: `Autoencoder.forward(x, mask)`.
    Shapes: X (N, d) -> x^ (N, d). The cache holds the code `h` (N, n_code, before dropout)
    and the output `logits` (N, d) for `autoencoder_backward` and the losses.
    """
    params = _check_params_for(params, config)
    return _forward(params, check_input(X, config), config, training, mask, rng)


def _forward(params, a, config: AEConfig, training, mask, rng):
    # autoencoder_forward after its argument checks (training loops check once, not per step)
    L = len(params) // 2
    layers, h, drop_cache = [], None, None
    for l in range(L):
        z, dense_cache = dense_forward(a, params[2 * l], params[2 * l + 1])
        if l == L - 1:
            layers.append((dense_cache, None))
            break
        a, act_cache = activation_forward(z, config.activation)
        layers.append((dense_cache, act_cache))
        if l == config.code_layer - 1:
            h = a
            a, drop_cache = _dropout(h, config, training, mask, rng)
    g_out, _ = get_activation(config.output_activation)
    cache = {"layers": layers, "h": h, "dropout": drop_cache, "logits": z, "config": config}
    return g_out(z), cache


def autoencoder_backward(dlogits, cache: dict, dh=None) -> list[np.ndarray]:
    """Gradients `[dW1, db1, ..., dWL, dbL]` from dL/dlogits (and an extra dL/dh on the code).

    Backprop (D4, rows): `dz = da * g'(z)`, `dW = dz^T a_prev`, `db = sum dz`, `da_prev = dz W`
    down from the output layer; at the code layer the gradient passes back through dropout
    (times the mask, or its scale) and `dh` (e.g. `sparsity_penalty_grad`) is added before
    the code activation's derivative. Any 1/m belongs in `dlogits` and `dh`.
    Shapes: dlogits (N, d); dh (N, n_code) or None; returns arrays shaped like params.
    Catalog: I1, I2, I3.
    """
    config: AEConfig = cache["config"]
    dz = check_array("dlogits", dlogits, ndim=2)
    grads: list[np.ndarray] = []
    L = len(cache["layers"])
    for l in reversed(range(L)):
        dense_cache, act_cache = cache["layers"][l]
        if act_cache is not None:
            da = dz
            if l == config.code_layer - 1:
                if cache["dropout"] is not None:
                    backward = (
                        inverted_dropout_backward
                        if config.dropout_kind == "inverted"
                        else classic_dropout_backward
                    )
                    da = backward(da, cache["dropout"])
                if dh is not None:
                    da = da + dh
            dz = activation_backward(da, act_cache)
        dz, dW, db = dense_backward(dz, dense_cache)
        grads[:0] = [dW, db]
    return grads


# ---- reconstruction losses ------------------------------------------------------------------


def reconstruction_loss(logits, X, config: AEConfig) -> float:
    """The reconstruction loss of one batch: sum over the d features, mean over the m rows.

    "bce": `-1/m sum_p sum_i [x log s(z) + (1 - x) log(1 - s(z))]` from the output logits z
    (`scratch.mlp.head_loss(z, X, "binary")`, stable at saturated logits);
    "mse": `1/m sum_p sum_i (g_out(z) - x)^2` (`scratch.losses.squared_error(.., "mean")`).
    Catalog: I1 (003). Its losses are those of C1 and C5.
    PyTorch: `torchref.autoencoders.reconstruction_loss`.
    Shapes: logits, X (N, d). Returns a Python float.
    """
    return _reconstruction_loss(logits, check_input(X, config), config)


def _reconstruction_loss(logits, X, config: AEConfig) -> float:
    if config.loss == "bce":
        return head_loss(logits, X, "binary")
    g_out, _ = get_activation(config.output_activation)
    return scalar_like(losses.squared_error(g_out(logits), X, scaling="mean"), X)


def reconstruction_loss_grad(logits, X, config: AEConfig) -> np.ndarray:
    """dL/dlogits of `reconstruction_loss`: `(s(z) - x)/m` (bce), `2(x^ - x) g_out'(z)/m` (mse).

    Shapes: logits, X (N, d) -> (N, d).
    Catalog: I1.
    """
    return _reconstruction_loss_grad(logits, check_input(X, config), config)


def _reconstruction_loss_grad(logits, X, config: AEConfig) -> np.ndarray:
    if config.loss == "bce":
        return head_loss_grad(logits, X, "binary")
    g_out, g_out_grad = get_activation(config.output_activation)
    return losses.squared_error_grad(g_out(logits), X, scaling="mean") * g_out_grad(logits)


# ---- C9: sparsity penalties on the code layer -----------------------------------------------


def kl_divergence_bernoulli(rho: float, rho_hat) -> np.ndarray:
    """`KL(rho || rho^) = rho log(rho / rho^) + (1 - rho) log((1 - rho) / (1 - rho^))`.

    The divergence of a Bernoulli(rho^) firing rate from the target Bernoulli(rho); 0 iff
    rho^ = rho. Catalog: C9 [the standard form; 003 only says "penalties on the activation of
    the hidden layer"]. Shapes: rho a float in (0, 1); rho_hat any shape, in (0, 1).
    """
    rho = RHO_RANGE.check("rho", rho)
    rho_hat = check_array("rho_hat", rho_hat)
    if rho_hat.size:
        check_code_rates(rho_hat.min(), rho_hat.max())
    # log(rho/rho^) as a difference of logs; log1p keeps 1 - rho^ accurate near rho^ = 0.
    return rho * (np.log(rho) - np.log(rho_hat)) + (1 - rho) * (
        np.log1p(-rho) - np.log1p(-rho_hat)
    )


def kl_sparsity(H, rho: float, beta: float) -> float:
    """Sparse-autoencoder penalty `beta sum_j KL(rho || rho^_j)`, `rho^_j = 1/m sum_p h_pj`.

    003 ("Bottle-neck layers in AutoEncoders"): a sparse autoencoder constrains the network
    with penalties on the activations of the hidden layer instead of a narrow code. This is
    the standard KL form [Ng, CS294A notes]: each code unit's mean activation over the batch,
    rho^_j, is pulled towards a small target rate rho. Catalog: C9, I2 (003).
    Reduction: a sum over the n_code units of a batch statistic (the mean over the m rows).
    PyTorch: `torchref.autoencoders.kl_sparsity` (the same formula through autograd).
    Shapes: H (N, n_code), the code activations in (0, 1). Returns a Python float.
    """
    H = check_array("H", H, ndim=2, allow_empty=False)
    beta = BETA_RANGE.check("beta", beta)
    rho_hat = H.mean(axis=0)  # (n_code,)
    return scalar_like(beta * np.sum(kl_divergence_bernoulli(rho, rho_hat)), H)


def kl_sparsity_grad(H, rho: float, beta: float) -> np.ndarray:
    """dPenalty/dH of `kl_sparsity`: `beta/m (-rho/rho^_j + (1 - rho)/(1 - rho^_j))` per row.

    `d KL/d rho^ = -rho/rho^ + (1 - rho)/(1 - rho^)` and `d rho^_j/d h_pj = 1/m`, so every
    row of the batch gets the same vector. Shapes: H (N, n_code) -> (N, n_code).
    Catalog: C9, I2.
    """
    H = check_array("H", H, ndim=2, allow_empty=False)
    rho = RHO_RANGE.check("rho", rho)
    beta = BETA_RANGE.check("beta", beta)
    m = H.shape[0]
    rho_hat = H.mean(axis=0)  # (n_code,)
    kl_divergence_bernoulli(rho, rho_hat)  # the same domain check as the value
    g = beta / m * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))  # (n_code,)
    return np.broadcast_to(g, H.shape).astype(H.dtype)  # (N, n_code), the same for each row


def l1_sparsity(H, beta: float) -> float:
    """L1 activation penalty `beta/m sum_p sum_j |h_pj|` (the other common C9 form).

    Sum over the code units, mean over the m rows (the reconstruction loss's reduction).
    Catalog: C9, I2 (003 "penalties on the activation"). PyTorch:
    `torchref.autoencoders.l1_sparsity` = `beta * h.abs().sum() / m`. Shapes: H (N, n_code).
    """
    H = check_array("H", H, ndim=2, allow_empty=False)
    beta = BETA_RANGE.check("beta", beta)
    return scalar_like(beta / H.shape[0] * np.abs(H).sum(), H)


def l1_sparsity_grad(H, beta: float) -> np.ndarray:
    """dPenalty/dH of `l1_sparsity`: `beta/m sign(h)`, 0 at h = 0 (torch's abs' at 0).

    Shapes: H (N, n_code) -> (N, n_code).
    Catalog: C9, I2.
    """
    H = check_array("H", H, ndim=2, allow_empty=False)
    beta = BETA_RANGE.check("beta", beta)
    return (beta / H.shape[0] * np.sign(H)).astype(H.dtype)


def sparsity_penalty(H, config: AEConfig) -> float:
    """`config.sparsity`'s penalty of the code H (0.0 when sparsity is None).

    Catalog: C9, I2. PyTorch: `torchref.autoencoders.sparsity_penalty`. Shapes: H (N, n_code).
    """
    if config.sparsity is None:
        return scalar_like(0.0, np.asarray(H))
    if config.sparsity == "kl":
        return kl_sparsity(H, config.rho, config.beta)
    return l1_sparsity(H, config.beta)


def sparsity_penalty_grad(H, config: AEConfig) -> np.ndarray | None:
    """dPenalty/dH for `config.sparsity` (None when sparsity is None).

    Catalog: C9, I2. Shapes: H (N, n_code) -> (N, n_code).
    """
    if config.sparsity is None:
        return None
    if config.sparsity == "kl":
        return kl_sparsity_grad(H, config.rho, config.beta)
    return l1_sparsity_grad(H, config.beta)


# ---- loss and gradients of one batch, and full-batch gradient descent ----------------------


def autoencoder_loss(
    params, X, config: AEConfig, training: bool = False, mask=None, rng=None
) -> dict[str, float]:
    """`{"loss", "reconstruction", "sparsity"}` of one batch; loss = reconstruction + sparsity.

    The sparsity penalty is taken on the code before dropout. Catalog: I1-I3, C9.
    PyTorch: `Autoencoder.loss_terms`.
    """
    params = _check_params_for(params, config)
    terms, _ = _loss_terms(params, check_input(X, config), config, training, mask, rng)
    return terms


def _loss_terms(params, X, config, training, mask, rng):
    # params and X already checked
    _, cache = _forward(params, X, config, training, mask, rng)
    rec = _reconstruction_loss(cache["logits"], X, config)
    sp = sparsity_penalty(cache["h"], config)
    return {"loss": rec + sp, "reconstruction": rec, "sparsity": sp}, cache


def autoencoder_loss_and_grads(
    params, X, config: AEConfig, training: bool = True, mask=None, rng=None
) -> tuple[dict[str, float], list[np.ndarray]]:
    """`autoencoder_loss` and its gradients `[dW1, db1, ...]` (training mode by default).

    Catalog: I1-I3, C9. PyTorch: `Autoencoder.loss_terms(x, mask)["loss"].backward()`.
    """
    params = _check_params_for(params, config)
    return _loss_and_grads(params, check_input(X, config), config, training, mask, rng)


def _loss_and_grads(params, X, config, training, mask, rng):
    terms, cache = _loss_terms(params, X, config, training, mask, rng)
    dlogits = _reconstruction_loss_grad(cache["logits"], X, config)
    grads = autoencoder_backward(dlogits, cache, sparsity_penalty_grad(cache["h"], config))
    return terms, grads


def train_autoencoder(
    params,
    X,
    config: AEConfig,
    *,
    lr: float,
    steps: int,
    batches: Sequence[np.ndarray] | None = None,
    masks: Sequence[np.ndarray] | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[list[np.ndarray], list[float]]:
    """Gradient descent on `autoencoder_loss`: `steps` updates `w <- w - lr dJ/dw` (F1).

    Step t uses the rows `batches[t]` of X (full batch when `batches` is None) and, with
    hidden dropout, the keep-mask `masks[t]` (else one drawn from `rng`).
    Catalog: I1-I3 (003 "AutoEncoders using BP"). PyTorch:
    `torchref.autoencoders.train_autoencoder` with `torch.optim.SGD(lr)`.
    Returns `(params, history)`: new arrays, and the loss before each step.
    """
    lr = check_optimizer_hparam("lr", lr)
    steps = check_steps(steps)
    X = check_input(X, config)
    params = [p.copy() for p in _check_params_for(params, config)]
    batches = check_schedule("batches", batches, steps)
    masks = check_schedule("masks", masks, steps)
    history = []
    for t in range(steps):
        Xb = X if batches is None else X[batches[t]]
        mask = None if masks is None else masks[t]
        terms, grads = _loss_and_grads(params, Xb, config, True, mask, rng)
        history.append(terms["loss"])
        params = [gd_update(p, g, lr=lr) for p, g in zip(params, grads, strict=True)]
    return params, history


# ---- I1: the 8-3-8 encoder ------------------------------------------------------------------


def one_hot_inputs(n: int = 8, dtype=np.float64) -> np.ndarray:
    """The n one-hot vectors of 003's encoder, as rows of the identity.

    Catalog: I1 (003, "one-hot input (0,0,...,0,1,0,0)"). Shapes: returns (n, n).
    """
    return np.eye(check_count("n", n, 2), dtype=dtype)


def train_838(
    seed: int = 0,
    *,
    lr: float = LR_838,
    steps: int = STEPS_838,
    params=None,
    n: int = 8,
    n_hidden: int = 3,
) -> tuple[list[np.ndarray], list[float]]:
    """Train 003's n-h-n encoder (8-3-8) on the n one-hot inputs by full-batch GD.

    Sigmoid hidden and output units, BCE, `lr` = 3, 1000 steps; initial weights from
    `init_autoencoder(.., np.random.default_rng(seed))` unless `params` is given (a parity
    test passes torch's). Catalog: I1 (003 "Learned hidden layer representation").
    Not every seed gives 8 distinct rounded codes (about 3 in 4 do; see LR_838);
    `codes_are_distinct` tells, and `fit_838` restarts until they are.
    Returns `(params, history)` as `train_autoencoder`.
    """
    config = AEConfig((n, n_hidden, n))
    if params is None:
        params = init_autoencoder(config, np.random.default_rng(seed))
    return train_autoencoder(params, one_hot_inputs(n), config, lr=lr, steps=steps)


def fit_838(
    seed: int = 0, *, attempts: int = 8, lr: float = LR_838, steps: int = STEPS_838
) -> tuple[list[np.ndarray], list[float], int]:
    """`train_838` from seeds seed, seed + 1, ... until the run reconstructs all 8 inputs
    and its rounded codes are 8 distinct 3-bit codes (003's result).

    With a success rate of about 3 in 4 per seed, 8 attempts all fail with probability
    about 0.27^8 < 1e-4. Catalog: I1 (003). Returns `(params, history, seed_used)`;
    raises RuntimeError naming the seeds tried if none succeeds.
    """
    check_count("attempts", attempts)
    config, X = AEConfig((8, 3, 8)), one_hot_inputs(8)
    for s in range(seed, seed + attempts):
        params, history = train_838(s, lr=lr, steps=steps)
        X_hat, cache = autoencoder_forward(params, X, config)
        if reconstructs_all(X_hat, X) and codes_are_distinct(cache["h"]):
            return params, history, s
    raise RuntimeError(
        f"no 8-3-8 run from seeds {seed}..{seed + attempts - 1} gave 8 distinct rounded "
        f"codes (lr={lr}, steps={steps})"
    )


def rounded_codes(H) -> np.ndarray:
    """Hidden values rounded to 0/1 as 003 asks ("round the hidden units to 0/1"): h >= 0.5.

    Round half up (0.5 -> 1); `np.round` and `torch.round` round half to even (0.5 -> 0).
    Catalog: I1. Shapes: H (N, n_code) -> int64 (N, n_code).
    """
    H = check_array("H", H, ndim=2)
    return (H >= 0.5).astype(np.int64)


def codes_are_distinct(H) -> bool:
    """True iff the rounded codes of the N rows of H are N different bit patterns.

    Catalog: I1 (003's 8-3-8 result). Shapes: H (N, n_code).
    """
    codes = rounded_codes(H)
    return len({tuple(row) for row in codes}) == codes.shape[0]


def reconstructs_all(X_hat, X) -> bool:
    """True iff every row's argmax is the input's and every output rounds to its 0/1 input.

    Catalog: I1. Shapes: X_hat, X (N, d).
    """
    X_hat = check_array("X_hat", X_hat, ndim=2)
    X = check_array("X", X, ndim=2)
    check_same_shape("X_hat", X_hat, "X", X)
    return bool(
        np.all(X_hat.argmax(axis=1) == X.argmax(axis=1))
        and np.all((X_hat >= 0.5) == (X >= 0.5))
    )


def _value(v: float, decimals: int) -> str:
    # 003 prints .89, .04: drop the leading zero of values below 1.
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("0.") else s


def code_table(X, H, X_hat, decimals: int = 2) -> str:
    """003's table `Input | Hidden values | Output`, one row per example.

    Input and output as 0/1 strings (the output rounded at 0.5), hidden values with
    `decimals` digits and no leading zero, as 003 prints them (`10000000 | .89 .04 .08 |
    10000000`). Catalog: I1. PyTorch: `torchref.autoencoders.code_table` (same text).
    Shapes: X (N, d), H (N, n_code), X_hat (N, d).
    """
    X = check_array("X", X, ndim=2)
    H = check_array("H", H, ndim=2)
    X_hat = check_array("X_hat", X_hat, ndim=2)
    check_table_rows(X.shape, H.shape, X_hat.shape)
    rows = [
        (
            "".join(str(int(v >= 0.5)) for v in x),
            " ".join(_value(float(v), decimals) for v in h),
            "".join(str(int(v >= 0.5)) for v in y),
        )
        for x, h, y in zip(X, H, X_hat, strict=True)
    ]
    header = ("Input", "Hidden values", "Output")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [header, *rows]]
    return "\n".join(lines)


# ---- I4: stacked autoencoders (Bengio 2007) -------------------------------------------------


def init_stacked(
    sizes: Sequence[int], n_classes: int, rng: np.random.Generator, dtype=np.float64
) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Initial weights of a stacked-AE pipeline: one d_{i-1}-d_i-d_{i-1} AE per stage, a head.

    `sizes` = (d_0, d_1, ..., d_k): input width, then each stage's code width. Returns
    `(stage_params, head_params)`: stage i's `[W_enc, b_enc, W_dec, b_dec]` and the softmax
    head's `[W, b]` (n_classes, d_k), all from `init_mlp`'s uniform scheme. Catalog: I4.
    """
    sizes = check_layer_sizes("sizes", sizes, what="widths (d_0, d_1, ..., d_k)")
    stages = [
        init_autoencoder(AEConfig((a, b, a)), rng, dtype=dtype)
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    head = init_mlp((sizes[-1], n_classes), rng, "uniform", dtype)
    return stages, head


def encode_through(encoders, X, activation: str = "sigmoid") -> np.ndarray:
    """Apply the kept encoders `[[W1, b1], [W2, b2], ...]` in turn: the top features.

    003: each encoder is chained to the output of the one before. Catalog: I4. PyTorch:
    `torchref.autoencoders.encode_through`. Shapes: X (N, d_0) -> (N, d_k); with no
    encoders, X itself.
    """
    a = check_array("X", X, ndim=2)
    for i, (W, b) in enumerate(encoders):
        if a.shape[1] != np.shape(W)[1]:
            raise ValueError(
                f"encoder {i} expects {np.shape(W)[1]} features, got input of shape {a.shape}"
            )
        z, _ = dense_forward(a, W, b)
        a, _ = activation_forward(z, activation)
    return a


def greedy_pretrain(
    X,
    stage_params: Sequence[Sequence[np.ndarray]],
    *,
    lr: float,
    steps: int,
    activation: str = "sigmoid",
    loss: str = "bce",
    batches: Sequence[np.ndarray] | None = None,
    **config_kwargs,
) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Greedy layer-wise pretraining: AE i learns to reconstruct the codes of encoders < i.

    003 (Stacked Auto-Encoders, Bengio 2007): many one-hidden-layer autoencoders in series;
    "the encoding of network i is the input (and the output) of network i+1"; after AE i is
    trained its decoder is thrown away and its encoder is chained to the output of encoder
    i-1. Each AE is trained by `train_autoencoder` (GD, `lr`, `steps`, the same `batches` for
    every stage; `config_kwargs` such as sparsity, rho, beta go to every stage's AEConfig).
    Catalog: I4 (003). PyTorch: `torchref.autoencoders.greedy_pretrain`.
    Shapes: X (N, d_0); stage_params[i] = [W_enc (d_i, d_{i-1}), b_enc, W_dec, b_dec].
    Returns `(encoders, codes)`: `[[W_enc, b_enc], ...]` and each stage's codes (N, d_i).
    """
    codes_in = check_array("X", X, ndim=2)
    encoders, codes = [], []
    for i, p in enumerate(stage_params):
        p = check_params(p)
        sizes = layer_sizes_of(p)
        if len(sizes) != 3:
            raise ValueError(
                f"stage_params[{i}] must be one autoencoder [W_enc, b_enc, W_dec, b_dec], "
                f"got layer sizes {sizes}"
            )
        config = AEConfig(sizes, activation=activation, loss=loss, **config_kwargs)
        trained, _ = train_autoencoder(
            p, codes_in, config, lr=lr, steps=steps, batches=batches
        )
        encoders.append(trained[:2])  # keep the encoder, discard the decoder
        codes_in = encode_through([trained[:2]], codes_in, activation)
        codes.append(codes_in)
    return encoders, codes


def train_softmax_head(
    head_params,
    H,
    y,
    *,
    lr: float,
    steps: int,
    batches: Sequence[np.ndarray] | None = None,
) -> tuple[list[np.ndarray], list[float]]:
    """Train only a softmax layer on the fixed top features H (the encoders stay frozen).

    003: "after the last feature layer, add a softmax layer and train only its weights,
    supervised". Softmax + cross-entropy (C6, mean over examples) by GD; the gradient is
    `scratch.mlp.loss_and_grads` with no hidden layer. Catalog: I4 (003).
    PyTorch: `torchref.autoencoders.train_head`. Shapes: head [W (C, d_k), b (C,)];
    H (N, d_k); y int labels (N,). Returns `(head_params, history)`.
    """
    return _gd_classifier(head_params, H, y, "identity", lr, steps, batches)


def stack_encoders(encoders, head_params) -> list[np.ndarray]:
    """The deep classifier `[W_1, b_1, ..., W_k, b_k, W_head, b_head]`: encoders, then head.

    003: "join the encoders of every layer into one deep network and put the softmax layer on
    top". The order of `torchref.autoencoders.stack_encoders`'s Linear layers.
    Catalog: I4. Shapes: encoders[i] = [W (d_i, d_{i-1}), b (d_i,)]; head [W (C, d_k), b].
    """
    params = [p for enc in encoders for p in enc] + list(head_params)
    return check_params(params)


def fine_tune(
    params,
    X,
    y,
    *,
    lr: float,
    steps: int,
    activation: str = "sigmoid",
    batches: Sequence[np.ndarray] | None = None,
) -> tuple[list[np.ndarray], list[float]]:
    """Supervised fine-tuning of the whole stacked network (every weight) by GD on CE.

    003: "finally, supervised training of the whole network (fine-tuning of all weights)".
    The network is `scratch.mlp`'s MLP with `activation` hidden units and a softmax head.
    Catalog: I4 (003). PyTorch: `torchref.autoencoders.fine_tune`.
    Shapes: params as `stack_encoders`; X (N, d_0); y int labels (N,).
    """
    return _gd_classifier(params, X, y, activation, lr, steps, batches)


def _gd_classifier(params, X, y, activation, lr, steps, batches):
    lr = check_optimizer_hparam("lr", lr)
    steps = check_steps(steps)
    params = [p.copy() for p in check_params(params)]
    X = check_array("X", X, ndim=2)
    y = np.asarray(y)
    check_target_shape("y", y.shape, (X.shape[0],), "multiclass")
    batches = check_schedule("batches", batches, steps)
    n_hidden = len(params) // 2 - 1
    acts = [check_choice("activation", activation, HIDDEN_ACTIVATIONS.options)] * n_hidden
    history = []
    for t in range(steps):
        idx = slice(None) if batches is None else batches[t]
        loss, grads = loss_and_grads(params, X[idx], y[idx], acts, head="multiclass")
        history.append(loss)
        params = [gd_update(p, g, lr=lr) for p, g in zip(params, grads, strict=True)]
    return params, history


def stacked_predict(params, X, activation: str = "sigmoid") -> np.ndarray:
    """Class probabilities (softmax) of the stacked classifier.

    Catalog: I4. PyTorch: `torch.softmax(model(x), dim=1)`. Shapes: X (N, d_0) -> (N, C).
    """
    n_hidden = len(check_params(params)) // 2 - 1
    return mlp_predict(params, X, [activation] * n_hidden, head="multiclass")


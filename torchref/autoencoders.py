"""Autoencoders in PyTorch: bottleneck, sparse, dropout and stacked AEs, the 8-3-8 encoder.

Imports torch, `torchref.activations`, `torchref.dropout`, `torchref.checks`,
`scratch.validation` and, from `scratch.autoencoders`, the configuration `AEConfig`, the
choices and ranges and the input checks (not its computations). Scratch twin:
`scratch.autoencoders`, with the same names, defaults and conventions; weights convert both
ways with `torchref.mlp.to_numpy_params` / `load_numpy_params`. Catalog IDs I1-I4, C9.

`Autoencoder(config)` takes the `scratch.autoencoders.AEConfig` that the scratch functions
take (`Autoencoder((8, 3, 8), sparsity="kl")` builds that config from its fields). It holds
`encoder` (Linear -> activation blocks up to the code) and `decoder` (Linear -> activation
blocks, then a last Linear that returns logits); its `nn.Linear` layers, in `modules()`
order, are `scratch.autoencoders`' `[W1, b1, ...]`.
  encode(x)        -> h, the code (N, n_code), after the code activation, no dropout
  decode_logits(h) -> z, the output layer's pre-activation (N, d)
  decode(h)        -> x^ = output_activation(z)
  forward(x, mask) -> x^, the reconstruction (with dropout on h in train())
  loss_terms(x, mask) -> {"loss", "reconstruction", "sparsity", "code", "x_hat"}
Losses (as scratch): sum over the d features, mean over the N rows; "bce" from the logits
(`F.binary_cross_entropy_with_logits(.., reduction="sum") / N`), "mse" on x^
(`F.mse_loss(.., reduction="sum") / N`). Sparsity (C9) is taken on h before dropout.

The stacked pipeline (I4) is one call per stage, each taking and returning modules:
  encoders = greedy_pretrain(x, [Autoencoder((d0, d1, d0)), Autoencoder((d1, d2, d1))], ...)
  model = stack_encoders(encoders, nn.Linear(d2, n_classes))   # Sequential: encoders, head
  train_head(model, x, y, ...)     # only model.head learns; the encoders are frozen
  fine_tune(model, x, y, ...)      # every weight learns
Each loop is plain `torch.optim` full-batch (or given-batch) training, the reference a
Lightning run of the same stage must match; `pretrain_inputs`, `freeze_encoders` and
`classifier_loss` are the pieces a LightningModule needs to run a stage itself.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from scratch.autoencoders import (
    AE_LOSSES,
    BETA_RANGE,
    DROPOUT_KINDS,
    LR_838,
    OUTPUT_ACTIVATIONS,
    RHO_RANGE,
    SPARSITY_KINDS,
    STEPS_838,
    AEConfig,
    check_code_rates,
    check_input_shape,
    check_schedule,
    check_steps,
    check_table_rows,
)
from scratch.validation import (
    PROBABILITY,
    check_count,
    check_ndim,
    check_not_empty,
    check_optimizer_hparam,
    check_same_shape,
    check_target_shape,
    check_values_in,
)
from torchref.activations import get_activation_module
from torchref.checks import model_input, real_tensor
from torchref.dropout import classic_dropout, inverted_dropout

__all__ = [
    "AEConfig",
    "AE_LOSSES",
    "SPARSITY_KINDS",
    "DROPOUT_KINDS",
    "RHO_RANGE",
    "BETA_RANGE",
    "Autoencoder",
    "reconstruction_loss",
    "kl_sparsity",
    "l1_sparsity",
    "sparsity_penalty",
    "train_autoencoder",
    "one_hot_inputs",
    "train_838",
    "fit_838",
    "rounded_codes",
    "codes_are_distinct",
    "reconstructs_all",
    "code_table",
    "pretrain_inputs",
    "greedy_pretrain",
    "encode_through",
    "stack_encoders",
    "freeze_encoders",
    "classifier_loss",
    "train_head",
    "fine_tune",
]


def _check_batch(name: str, x: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    # scratch.autoencoders.check_input's checks; once per training call (not per step: on a
    # GPU the finiteness check synchronizes).
    x = real_tensor(name, x, ndim=2)
    if n_features is not None:
        check_input_shape(name, tuple(x.shape), n_features)
    return x


def _check_code(h: torch.Tensor) -> None:
    # scratch's check of H (a code batch): shapes only, so no synchronization per step
    check_ndim("H", tuple(h.shape), 2)
    check_not_empty("H", tuple(h.shape))


class Autoencoder(nn.Module):
    """Autoencoder through a bottleneck (I1), optionally sparse (C9, I2) or with dropout (I3).

    `config` is a `scratch.autoencoders.AEConfig`, the object the scratch functions take:
    `sizes` (d, ..., n_code, ..., d) (8-3-8 is (8, 3, 8)); `activation` for every hidden
    layer (the code included; 003 uses sigmoid); `output_activation` ("sigmoid" or e.g.
    "identity" with loss "mse"); `loss` "bce" (needs a sigmoid output) or "mse"; `code_layer`
    (index into sizes, default the middle); `sparsity` None / "kl" / "l1" with `rho` (target
    rate, in (0, 1)) and `beta` (>= 0); `hidden_dropout` p in [0, 1) on the code,
    `dropout_kind` "inverted" (`F.dropout`, torch's) or "classic" (the notes': scale by 1 - p
    in eval()). `Autoencoder(sizes, **fields)` builds that config first (positional fields
    in AEConfig's order, as before), so both rooms check the same arguments in one place.
    The config's fields are readable as attributes (`ae.sizes`, `ae.code_layer`, ...).
    `forward` returns the reconstruction x^ (probabilities for a sigmoid output), not logits;
    `decode_logits` gives the logits.
    Catalog: I1, I2, I3.
    """

    def __init__(self, config: AEConfig | Sequence[int], *args, **kwargs) -> None:
        super().__init__()
        if isinstance(config, AEConfig):
            if args or kwargs:
                raise TypeError(
                    "Autoencoder takes an AEConfig or the fields of one, not both; got an "
                    f"AEConfig and {len(args) + len(kwargs)} more argument(s)"
                )
        else:
            config = AEConfig(config, *args, **kwargs)
        self.config = config
        for name in AEConfig.__dataclass_fields__:  # ae.sizes, ae.rho, ... (read-only by intent)
            setattr(self, name, getattr(config, name))
        sizes, code, activation = config.sizes, config.code_layer, config.activation

        enc: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:code], sizes[1 : code + 1], strict=True):
            enc += [nn.Linear(n_in, n_out), get_activation_module(activation)]
        dec: list[nn.Module] = []
        for n_in, n_out in zip(sizes[code:-2], sizes[code + 1 : -1], strict=True):
            dec += [nn.Linear(n_in, n_out), get_activation_module(activation)]
        dec.append(nn.Linear(sizes[-2], sizes[-1]))  # logits; output_act applied in decode()
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)
        self.output_act = get_activation_module(config.output_activation)

    def _check_x(self, x: torch.Tensor) -> None:
        # shapes and dtypes only: this runs on every forward pass
        model_input("x", x, self.encoder[0].weight)
        check_ndim("x", tuple(x.shape), 2)
        check_input_shape("x", tuple(x.shape), self.sizes[0])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code h (N, n_code) of x (N, d); no dropout."""
        self._check_x(x)
        return self.encoder(x)

    def drop(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Dropout on the code (identity when hidden_dropout = 0); `mask` fixes the kept units."""
        if self.hidden_dropout == 0.0:
            return h
        if self.dropout_kind == "inverted":
            return inverted_dropout(h, self.hidden_dropout, self.training, mask=mask)
        return classic_dropout(h, self.hidden_dropout, self.training, mask=mask)

    def decode_logits(self, h: torch.Tensor) -> torch.Tensor:
        """The output layer's pre-activation (N, d) for codes h (N, n_code)."""
        return self.decoder(h)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The reconstruction `output_activation(decode_logits(h))`, (N, d)."""
        return self.output_act(self.decoder(h))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The reconstruction x^ (N, d) of x (N, d); dropout on the code in train()."""
        return self.decode(self.drop(self.encode(x), mask))

    def loss_terms(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> dict:
        """One forward pass: loss = reconstruction + sparsity, with the parts to log.

        Returns tensors `loss`, `reconstruction`, `sparsity` (scalars), `code` (h before
        dropout) and `x_hat`. Scratch twin: `scratch.autoencoders.autoencoder_loss`.
        """
        h = self.encode(x)
        logits = self.decode_logits(self.drop(h, mask))
        rec = reconstruction_loss(logits, x, self.loss, self.output_activation)
        if self.sparsity is None:
            sp = torch.zeros((), dtype=rec.dtype, device=rec.device)
        else:
            sp = sparsity_penalty(h, self.sparsity, self.rho, self.beta)
        return {
            "loss": rec + sp,
            "reconstruction": rec,
            "sparsity": sp,
            "code": h,
            "x_hat": self.output_act(logits),
        }


def reconstruction_loss(
    logits: torch.Tensor, x: torch.Tensor, loss: str = "bce", output_activation: str = "sigmoid"
) -> torch.Tensor:
    """Sum over features, mean over the N rows: BCE from the logits, or MSE on x^.

    "bce": `F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / N`;
    "mse": `F.mse_loss(output_activation(logits), x, reduction="sum") / N`.
    Scratch twin: `scratch.autoencoders.reconstruction_loss`. Shapes: logits, x (N, d).
    Catalog: I1.
    """
    AE_LOSSES.check("loss", loss)
    check_same_shape("logits", logits, "x", x)
    n = x.shape[0]
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    OUTPUT_ACTIVATIONS.check("output_activation", output_activation)
    x_hat = get_activation_module(output_activation)(logits)
    return F.mse_loss(x_hat, x, reduction="sum") / n


def kl_sparsity(h: torch.Tensor, rho: float = 0.05, beta: float = 1.0) -> torch.Tensor:
    """`beta sum_j KL(rho || rho^_j)` with `rho^_j = h[:, j].mean()` (C9), through autograd.

    `KL = rho log(rho/rho^) + (1 - rho) log((1 - rho)/(1 - rho^))`; rho^ must lie in (0, 1).
    Scratch twin: `scratch.autoencoders.kl_sparsity` (+ `kl_sparsity_grad`). Shapes: h (N, n).
    Catalog: C9, I2.
    """
    rho = RHO_RANGE.check("rho", rho)
    beta = BETA_RANGE.check("beta", beta)
    _check_code(h)
    rho_hat = h.mean(dim=0)  # (n_code,)
    # torch.log of 0 would silently give inf; the scratch side raises the same error.
    lo, hi = torch.stack(torch.aminmax(rho_hat.detach())).tolist()  # one host copy per step
    check_code_rates(lo, hi)
    kl = rho * (math.log(rho) - torch.log(rho_hat)) + (1 - rho) * (
        math.log1p(-rho) - torch.log1p(-rho_hat)
    )
    return beta * kl.sum()


def l1_sparsity(h: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """`beta/N sum |h|`: L1 penalty on the code activations (C9's other form). Catalog: C9, I2."""
    beta = BETA_RANGE.check("beta", beta)
    _check_code(h)
    return beta * h.abs().sum() / h.shape[0]


def sparsity_penalty(
    h: torch.Tensor, kind: str = "kl", rho: float = 0.05, beta: float = 1.0
) -> torch.Tensor:
    """`kl_sparsity(h, rho, beta)` or `l1_sparsity(h, beta)` by `kind`. Catalog: C9, I2."""
    SPARSITY_KINDS.check("sparsity", kind)
    return kl_sparsity(h, rho, beta) if kind == "kl" else l1_sparsity(h, beta)


# ---- training loops (the reference each Lightning stage must match) -----------------------


def _optimizer(params: Iterable[torch.Tensor], lr, optimizer) -> torch.optim.Optimizer:
    if optimizer is not None:
        return optimizer(params)
    if lr is None:
        raise ValueError("lr is required when no optimizer factory is given")
    return torch.optim.SGD(params, lr=check_optimizer_hparam("lr", lr))


OptimizerFactory = Callable[[Iterable[torch.Tensor]], torch.optim.Optimizer]


def train_autoencoder(
    ae: Autoencoder,
    x: torch.Tensor,
    *,
    steps: int,
    lr: float | None = None,
    optimizer: OptimizerFactory | None = None,
    batches: Sequence | None = None,
    masks: Sequence[torch.Tensor] | None = None,
) -> list[float]:
    """Train `ae` in place on `loss_terms(x)["loss"]`; returns the loss before each step.

    `torch.optim.SGD(lr)` unless `optimizer` (a factory `params -> Optimizer`, e.g.
    `lambda p: torch.optim.Adam(p, 1e-2)`) is given. Step t uses rows `batches[t]` (full
    batch if None) and the code keep-mask `masks[t]` (torch's own dropout if None).
    Scratch twin: `scratch.autoencoders.train_autoencoder` (GD).
    Catalog: I1, I2, I3.
    """
    steps = check_steps(steps)
    x = _check_batch("x", x, ae.sizes[0])
    if ae.loss == "bce" and x.numel():  # the inputs are the targets: BCE needs [0, 1]
        lo, hi = torch.stack(torch.aminmax(x)).tolist()
        check_values_in("x", lo, hi, PROBABILITY, "probabilities")
    batches = check_schedule("batches", batches, steps)
    masks = check_schedule("masks", masks, steps)
    opt = _optimizer(ae.parameters(), lr, optimizer)
    ae.train()
    history = []
    for t in range(steps):
        xb = x if batches is None else x[torch.as_tensor(batches[t])]
        loss = ae.loss_terms(xb, None if masks is None else masks[t])["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


# ---- I1: the 8-3-8 encoder ----------------------------------------------------------------


def one_hot_inputs(n: int = 8, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The n one-hot vectors of 003's encoder as rows, (n, n). Catalog: I1."""
    return torch.eye(check_count("n", n, 2), dtype=dtype)


def train_838(
    seed: int = 0,
    *,
    lr: float = LR_838,
    steps: int = STEPS_838,
    ae: Autoencoder | None = None,
    optimizer: OptimizerFactory | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Autoencoder, list[float]]:
    """Train 003's 8-3-8 encoder on the 8 one-hot inputs (full batch, SGD(lr) by default).

    Initial weights: torch's default `nn.Linear` init drawn under `torch.manual_seed(seed)`
    (in a forked RNG, so the caller's global RNG is untouched), unless `ae` is given.
    Scratch twin: `scratch.autoencoders.train_838`. Returns `(ae, history)`.
    Catalog: I1.
    """
    if ae is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            ae = Autoencoder((8, 3, 8)).to(dtype)
    x = one_hot_inputs(ae.sizes[0], dtype=next(ae.parameters()).dtype)
    history = train_autoencoder(ae, x, steps=steps, lr=lr, optimizer=optimizer)
    return ae, history


def fit_838(
    seed: int = 0,
    *,
    attempts: int = 8,
    lr: float = LR_838,
    steps: int = STEPS_838,
    optimizer: OptimizerFactory | None = None,
) -> tuple[Autoencoder, list[float], int]:
    """`train_838` from seeds seed, seed + 1, ... until all 8 inputs are reconstructed and
    the rounded codes are 8 distinct 3-bit codes. Returns `(ae, history, seed_used)`.
    Catalog: I1."""
    check_count("attempts", attempts)
    for s in range(seed, seed + attempts):
        ae, history = train_838(s, lr=lr, steps=steps, optimizer=optimizer)
        ae.eval()
        x = one_hot_inputs(8)
        with torch.no_grad():
            h, x_hat = ae.encode(x), ae(x)
        if reconstructs_all(x_hat, x) and codes_are_distinct(h):
            return ae, history, s
    raise RuntimeError(
        f"no 8-3-8 run from seeds {seed}..{seed + attempts - 1} gave 8 distinct rounded "
        f"codes (lr={lr}, steps={steps})"
    )


def rounded_codes(h: torch.Tensor) -> torch.Tensor:
    """Hidden values rounded to 0/1 as 003 does (h >= 0.5), int64 (N, n_code). Catalog: I1."""
    return (h.detach() >= 0.5).to(torch.int64)


def codes_are_distinct(h: torch.Tensor) -> bool:
    """True iff the N rounded codes are N different bit patterns. Catalog: I1."""
    codes = rounded_codes(h)
    return torch.unique(codes, dim=0).shape[0] == codes.shape[0]


def reconstructs_all(x_hat: torch.Tensor, x: torch.Tensor) -> bool:
    """True iff every row's argmax is the input's and every output rounds to its 0/1 input.

    Catalog: I1.
    """
    check_same_shape("X_hat", x_hat, "X", x)  # scratch's words (and names)
    x_hat = x_hat.detach()
    return bool(
        torch.equal(x_hat.argmax(dim=1), x.argmax(dim=1))
        and torch.equal(x_hat >= 0.5, x >= 0.5)
    )


def _value(v: float, decimals: int) -> str:
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("0.") else s


def code_table(x: torch.Tensor, h: torch.Tensor, x_hat: torch.Tensor, decimals: int = 2) -> str:
    """003's `Input | Hidden values | Output` table (the text of the scratch twin).

    Inputs and outputs as 0/1 strings (outputs rounded at 0.5), hidden values without the
    leading zero (`.89 .04 .08`). Shapes: x (N, d), h (N, n_code), x_hat (N, d).
    Catalog: I1.
    """
    check_table_rows(tuple(x.shape), tuple(h.shape), tuple(x_hat.shape))
    rows = [
        (
            "".join(str(int(v >= 0.5)) for v in xr),
            " ".join(_value(v, decimals) for v in hr),
            "".join(str(int(v >= 0.5)) for v in yr),
        )
        for xr, hr, yr in zip(
            x.detach().tolist(), h.detach().tolist(), x_hat.detach().tolist(), strict=True
        )
    ]
    header = ("Input", "Hidden values", "Output")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    return "\n".join(
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    )


# ---- I4: stacked autoencoders, one call per stage -----------------------------------------


@torch.no_grad()
def encode_through(encoders: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """The top features: x through each kept encoder in turn (no grad). (N, d_0) -> (N, d_k).

    Catalog: I4.
    """
    for enc in encoders:
        x = enc(x)
    return x


def pretrain_inputs(encoders: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """The data of the next pretraining stage: the codes of the encoders kept so far.

    003: "the encoding of network i is the input (and the output) of network i+1".
    Catalog: I4.
    """
    return encode_through(encoders, x).detach()


def greedy_pretrain(
    x: torch.Tensor,
    autoencoders: Sequence[Autoencoder],
    *,
    steps: int,
    lr: float | None = None,
    optimizer: OptimizerFactory | None = None,
    batches: Sequence | None = None,
) -> list[nn.Sequential]:
    """Greedy layer-wise pretraining (Bengio 2007, 003): AE i trains on encoder i-1's codes.

    Each `autoencoders[i]` (sizes (d_{i-1}, d_i, d_{i-1})) is trained in place by
    `train_autoencoder` on `pretrain_inputs(encoders so far, x)`; its decoder is then dropped
    and a deep copy of its encoder kept. Returns the encoders, each an `nn.Sequential`
    (Linear, activation). Scratch twin: `scratch.autoencoders.greedy_pretrain`.
    Catalog: I4.
    """
    x = _check_batch("x", x)
    encoders: list[nn.Sequential] = []
    for i, ae in enumerate(autoencoders):
        if len(ae.sizes) != 3:
            raise ValueError(
                f"autoencoders[{i}] must have one hidden layer (sizes (d, n, d)), "
                f"got sizes {ae.sizes}"
            )
        inputs = pretrain_inputs(encoders, x)
        train_autoencoder(ae, inputs, steps=steps, lr=lr, optimizer=optimizer, batches=batches)
        encoders.append(copy.deepcopy(ae.encoder))
    return encoders


def stack_encoders(encoders: Sequence[nn.Module], head: nn.Linear | int) -> nn.Sequential:
    """The deep classifier: `Sequential(encoder1=..., ..., encoderk=..., head=Linear)`.

    `head` is an `nn.Linear(d_k, C)` or the number of classes C (a fresh Linear). The model
    returns logits; softmax + CE is `classifier_loss`. Its Linear layers are in scratch's
    `stack_encoders` order (copies of the encoders; the originals are not shared).
    Catalog: I4.
    """
    if not encoders:
        raise ValueError("encoders must hold at least one encoder, got none")
    if isinstance(head, int):
        d_k = [m for m in encoders[-1].modules() if isinstance(m, nn.Linear)][-1].out_features
        head = nn.Linear(d_k, head)
    if not isinstance(head, nn.Linear):
        raise TypeError(f"head must be an nn.Linear or a class count, got {type(head).__name__}")
    parts = [(f"encoder{i + 1}", copy.deepcopy(e)) for i, e in enumerate(encoders)]
    return nn.Sequential(OrderedDict([*parts, ("head", head)]))


def freeze_encoders(model: nn.Sequential, frozen: bool = True) -> nn.Sequential:
    """Set `requires_grad = not frozen` on every parameter but the head's. Returns model.

    Catalog: I4.
    """
    for name, module in model.named_children():
        if name != "head":
            module.requires_grad_(not frozen)
    return model


def classifier_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Softmax + categorical cross-entropy, mean over the N rows (`F.cross_entropy`, C6)."""
    return F.cross_entropy(logits, y)


def _train_classifier(model, params, x, y, steps, lr, optimizer, batches) -> list[float]:
    steps = check_steps(steps)
    x = _check_batch("x", x)
    check_target_shape("y", tuple(y.shape), (x.shape[0],), "multiclass")
    batches = check_schedule("batches", batches, steps)
    opt = _optimizer(params, lr, optimizer)
    model.train()
    history = []
    for t in range(steps):
        idx = slice(None) if batches is None else torch.as_tensor(batches[t])
        loss = classifier_loss(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def train_head(
    model: nn.Sequential,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float | None = None,
    optimizer: OptimizerFactory | None = None,
    batches: Sequence | None = None,
) -> list[float]:
    """Train only `model.head` on the top features, the encoders frozen (003, I4).

    The encoders' `requires_grad` is switched off for the call and restored after it.
    Scratch twin: `scratch.autoencoders.train_softmax_head` on `encode_through`'s features.
    Catalog: I4.
    """
    freeze_encoders(model, True)
    try:
        return _train_classifier(
            model, model.head.parameters(), x, y, steps, lr, optimizer, batches
        )
    finally:
        freeze_encoders(model, False)


def fine_tune(
    model: nn.Sequential,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float | None = None,
    optimizer: OptimizerFactory | None = None,
    batches: Sequence | None = None,
) -> list[float]:
    """Supervised fine-tuning of every weight of the stacked classifier (003, I4).

    Scratch twin: `scratch.autoencoders.fine_tune`.
    Catalog: I4.
    """
    return _train_classifier(model, model.parameters(), x, y, steps, lr, optimizer, batches)

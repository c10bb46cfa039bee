"""Multilayer perceptrons in NumPy (catalog B1, B2, B4, B5, B6, B9, B10, B11).

NumPy only; imports `scratch.activations`, `scratch.losses` and `scratch.validation`.

Parameters are a flat list in torch `state_dict` order, `[W1, b1, W2, b2, ...]`, with `W_l` of
shape (n_l, n_{l-1}) (the notes' `W[l]`, the same as `nn.Linear.weight`) and `b_l` of shape
(n_l,). Examples are rows (`X` is (N, d)); the notes' layout (examples as columns, bias folded
into Theta as column 0) is produced by `to_notes_layout` and undone by `from_notes_layout`, the
one place where the two layouts meet.

Layers compose as `*_forward(x) -> (out, cache)` / `*_backward(dout, cache) -> grads`:
`dense_forward`/`dense_backward` (affine), `activation_forward`/`activation_backward`, and
`mlp_forward`/`mlp_backward` for the whole stack. The output layer is affine only: it returns
logits; a head (`head_output`, `head_loss`, `head_loss_grad`) turns them into predictions and a
loss. `loss_and_grads` does all of it for one batch.

Loss reduction, every head: sum over the outputs of one example, mean over the N examples
(`J = 1/m sum_i L(x^(i))`, 001; C4 sums over the K outputs). With one output this is what
`F.mse_loss` / `F.binary_cross_entropy_with_logits` / `F.cross_entropy` return by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch import losses
from scratch.activations import ACTIVATIONS, get_activation, sigmoid, softmax
from scratch.init import init_weight
from scratch.validation import (
    FINITE,
    NONNEGATIVE,
    PROBABILITY,
    Choice,
    check_array,
    check_in_features,
    check_interval,
    check_labels,
    check_layer_sizes,
    check_target_shape,
    check_values_in,
    scalar_like,
)

__all__ = [
    "HEADS",
    "HIDDEN_ACTIVATIONS",
    "INIT_SCHEMES",
    "NotesLayout",
    "init_mlp",
    "check_params",
    "layer_sizes_of",
    "hidden_activations",
    "dense_forward",
    "dense_backward",
    "activation_forward",
    "activation_backward",
    "mlp_forward",
    "mlp_backward",
    "head_output",
    "mlp_predict",
    "check_targets",
    "head_loss",
    "head_loss_grad",
    "l2_cost",
    "l2_cost_grad",
    "loss_and_grads",
    "StepWorkspace",
    "to_notes_layout",
    "from_notes_layout",
    "add_bias_unit",
    "forward_folded",
    "one_hidden_layer_net",
    "collapse_affine",
]

HEADS = Choice(("regression", "binary", "multiclass"))
# Differentiable element-wise activations only: threshold units have a zero derivative
# almost everywhere, so nothing could be learned through them.
HIDDEN_ACTIVATIONS = Choice(tuple(ACTIVATIONS))
INIT_SCHEMES = Choice(("uniform", "xavier", "he"))


# ---- parameters ---------------------------------------------------------------------------


def init_mlp(
    layer_sizes: Sequence[int],
    rng: np.random.Generator,
    scheme: str = "uniform",
    dtype=np.float64,
) -> list[np.ndarray]:
    """Random parameters `[W1, b1, ..., WL, bL]` for layers of widths `layer_sizes`.

    Schemes (n = fan-in n_{l-1}; 002 §4.3.2 lists them as G3):
      "uniform": W, b ~ U[-1/sqrt(n), 1/sqrt(n)], the distribution `nn.Linear` draws by default;
      "xavier":  W ~ N(0, 1/n) (std 1/sqrt(n)), b = 0;
      "he":      W ~ N(0, 2/n) (std sqrt(2/n)), b = 0.
    Shapes: `layer_sizes` = (d_in, n_1, ..., n_L), at least two positive ints; W_l is
    (n_l, n_{l-1}), b_l is (n_l,). Returns arrays of `dtype`.
    Catalog: B11.
    """
    sizes = check_layer_sizes("layer_sizes", layer_sizes, what="widths (input, ..., output)")
    INIT_SCHEMES.check("scheme", scheme)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        # The weight formulas live in scratch.init (G3); only the bias is decided here.
        W = init_weight((n_out, n_in), scheme, rng, dtype=dtype)
        if scheme == "uniform":  # nn.Linear draws its bias from the weight's interval too
            bound = 1.0 / np.sqrt(n_in)
            b = rng.uniform(-bound, bound, size=n_out)
        else:
            b = np.zeros(n_out)
        params += [W, b.astype(dtype)]
    return params


def check_params(params) -> list[np.ndarray]:
    """Validate `[W1, b1, ..., WL, bL]`: even count, 2-D weights, chained widths, one dtype.

    Returns the list as floating arrays. Raises ValueError naming the first bad entry.
    """
    if isinstance(params, np.ndarray) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a list [W1, b1, W2, b2, ...], got {type(params).__name__}"
        )
    if len(params) == 0 or len(params) % 2:
        raise ValueError(
            f"params must hold pairs [W1, b1, W2, b2, ...], got {len(params)} array(s)"
        )
    out = []
    for l in range(len(params) // 2):
        W = check_array(f"params[{2 * l}] (W{l + 1})", params[2 * l], ndim=2)
        b = check_array(f"params[{2 * l + 1}] (b{l + 1})", params[2 * l + 1], ndim=1)
        if b.shape[0] != W.shape[0]:
            raise ValueError(
                f"b{l + 1} must have shape ({W.shape[0]},) to match W{l + 1}{W.shape}, "
                f"got b{l + 1}{b.shape}"
            )
        if out and W.shape[1] != out[-2].shape[0]:
            raise ValueError(
                f"W{l + 1} must have {out[-2].shape[0]} columns (the width of layer {l}), "
                f"got W{l + 1}{W.shape}"
            )
        out += [W, b]
    dtypes = {p.dtype for p in out}
    if len(dtypes) > 1:
        raise TypeError(f"params must share one dtype, got {sorted(map(str, dtypes))}")
    return out


def layer_sizes_of(params) -> tuple[int, ...]:
    """`(d_in, n_1, ..., n_L)` read off `[W1, b1, ..., WL, bL]`."""
    params = check_params(params)
    return (params[0].shape[1],) + tuple(W.shape[0] for W in params[::2])


def hidden_activations(activations, n_hidden: int) -> list[str]:
    """One activation name per hidden layer: a single name is repeated, a list is checked."""
    if isinstance(activations, str):
        names = [activations] * n_hidden
    elif isinstance(activations, Sequence):
        names = list(activations)
        if len(names) != n_hidden:
            raise ValueError(
                f"activations must name one activation per hidden layer ({n_hidden}), "
                f"got {len(names)}: {names!r}"
            )
    else:
        raise TypeError(
            f"activations must be a name or a list of names, got {type(activations).__name__}"
        )
    for name in names:
        HIDDEN_ACTIVATIONS.check("activation", name)
    return names


# ---- layers -------------------------------------------------------------------------------


def dense_forward(x, W, b) -> tuple[np.ndarray, dict]:
    """Fully connected (affine) layer, batch first: `z = x W^T + b`.

    The notes' `z_i = W_i z_{i-1} + b_i` (000) for every row of `x`; with examples as columns
    it is `Z[l] = W[l] A[l-1] + b[l]` (001), the transpose of this. Catalog: B1 (000, 001).
    PyTorch: `F.linear(x, W, b)` / `nn.Linear` (same weight layout).
    Shapes: x (N, n_in), W (n_out, n_in), b (n_out,) -> z (N, n_out).
    """
    x = check_array("x", x, ndim=2)
    check_in_features("x", x.shape, W.shape)
    return _affine(x, W, b), {"x": x, "W": W}


def _affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`x W^T + b` for checked arrays. The bias is added in place: the same sums, without a
    second (N, n_out) array (large temporaries cost page faults on every step)."""
    z = x @ W.T  # (N, n_out)
    z += b  # b broadcasts over the rows; z's dtype is x's and W's promoted, b's is W's
    return z


def dense_backward(dz, cache: dict, need_dx: bool = True):
    """Gradients of an affine layer given the upstream gradient `dz` = dL/dz.

    dx = dz W, dW = dz^T x, db = sum over rows of dz (the batch sum; any 1/m is already in
    `dz`). Catalog: B1/D4. Shapes: dz (N, n_out) -> dx (N, n_in), dW (n_out, n_in),
    db (n_out,). With `need_dx=False` (the input layer, whose x is data) dx is None and its
    matrix product is skipped, as autograd skips inputs that need no gradient.
    """
    x, W = cache["x"], cache["W"]
    return (dz @ W if need_dx else None), dz.T @ x, dz.sum(axis=0)


def activation_forward(z, name: str) -> tuple[np.ndarray, dict]:
    """Element-wise activation `a = g(z)` by name (see `scratch.activations.ACTIVATIONS`).

    Shapes: z any -> a the same shape.
    """
    fn, _ = get_activation(HIDDEN_ACTIVATIONS.check("activation", name))
    return fn(z), {"z": z, "name": name}


def activation_backward(da, cache: dict) -> np.ndarray:
    """`dz = da * g'(z)`, the upstream gradient times the activation's derivative (D4)."""
    _, grad = get_activation(cache["name"])
    z = cache["z"]
    g = grad(z)
    if (
        isinstance(g, np.ndarray)
        and g.flags.owndata
        and g.flags.writeable
        and g.shape == np.shape(da)
        and g.dtype == np.result_type(da, g)
        and not np.may_share_memory(g, z)
        and not np.may_share_memory(g, da)
    ):
        # g'(z) is a fresh array of its own: multiply into it instead of allocating da * g'.
        return np.multiply(g, da, out=g)
    return da * g


def mlp_forward(params, X, activations="relu") -> tuple[np.ndarray, dict]:
    """Forward pass of an MLP; returns the output layer's pre-activation (the logits).

    Hidden layers: `a_l = g_l(W_l a_{l-1} + b_l)` (B1, 000 `z_i = phi(W_i z_{i-1} + b_i)`);
    the output layer is affine, `z_L = W_L a_{L-1} + b_L`, and a head turns `z_L` into a
    prediction (`head_output`). Catalog: B1, B4. PyTorch: `torchref.mlp.MLP.forward`, which
    also returns logits.
    Shapes: params [W1, b1, ...]; X (N, d_in); activations a name or one per hidden layer;
    returns logits (N, n_L) and the cache for `mlp_backward`.
    """
    params, a, names = _check_forward_inputs(params, X, activations)
    L = len(params) // 2
    layers = []
    for l in range(L):
        # check_params chained the widths and X was checked above; every later input is an
        # activation of a z that activation_forward checked: no re-validation per layer.
        W, b = params[2 * l], params[2 * l + 1]
        z, dense_cache = _affine(a, W, b), {"x": a, "W": W}
        if l == L - 1:
            layers.append((dense_cache, None))
            return z, {"layers": layers}
        a, act_cache = activation_forward(z, names[l])
        layers.append((dense_cache, act_cache))
    raise AssertionError("unreachable: L >= 1")  # pragma: no cover


def _check_forward_inputs(params, X, activations):
    """`check_params(params)`, X as a checked (N, d_in) array, one activation name per hidden
    layer: the checks of a forward pass, shared by `mlp_forward` and the workspace step."""
    params = check_params(params)
    names = hidden_activations(activations, len(params) // 2 - 1)
    X = check_array("X", X, ndim=2)
    check_in_features("x", X.shape, params[0].shape)  # dense_forward's check, done once
    return params, X, names


def mlp_backward(dlogits, cache: dict) -> list[np.ndarray]:
    """Backward pass: gradients `[dW1, db1, ..., dWL, dbL]` given dL/dlogits.

    Repeats `dz = da * g'(z)`, `dW = dz^T a_prev`, `db = sum dz`, `da_prev = dz W` from the
    output layer down (D4 in rows). Any 1/m belongs in `dlogits` (see `head_loss_grad`).
    Shapes: dlogits (N, n_L); returns arrays shaped like params.
    Catalog: D4.
    """
    dz = check_array("dlogits", dlogits, ndim=2)
    grads: list[np.ndarray] = []
    layers = cache["layers"]
    for l in range(len(layers) - 1, -1, -1):
        dense_cache, act_cache = layers[l]
        if act_cache is not None:
            dz = activation_backward(dz, act_cache)
        dz, dW, db = dense_backward(dz, dense_cache, need_dx=l > 0)
        grads[:0] = [dW, db]
    return grads


# ---- heads (B4) ---------------------------------------------------------------------------


def head_output(logits, head: str) -> np.ndarray:
    """Prediction from logits: identity (regression), sigmoid (binary), softmax (multiclass).

    Catalog: B4 (000 "the output of the network"), B10: one linear unit for regression, a sigmoid
    unit for p(y=1|x), a softmax over C outputs for p(y|x). PyTorch: `MLP.predict`.
    Shapes: logits (N, K) -> (N, K).
    """
    HEADS.check("head", head)
    logits = check_array("logits", logits, ndim=2)
    if head == "regression":
        return logits.copy()
    if head == "binary":
        return sigmoid(logits)
    return softmax(logits, axis=1)


def mlp_predict(params, X, activations="relu", head: str = "multiclass") -> np.ndarray:
    """`head_output(mlp_forward(params, X, activations)[0], head)`: shapes (N, d) -> (N, K).

    Catalog: B4.
    """
    logits, _ = mlp_forward(params, X, activations)
    return head_output(logits, head)


def check_targets(y, head: str, n_out: int, n: int) -> np.ndarray:
    """Targets for `head`, as the loss functions want them.

    regression: real (N, K) (or (N,) when K = 1); binary: (N, K) in [0, 1] (or (N,) when
    K = 1); multiclass: integer labels (N,) in [0, K). Returns (N, K) floats or (N,) int64.
    """
    HEADS.check("head", head)
    if head == "multiclass":
        if n_out < 2:
            raise ValueError(
                f"the multiclass head needs at least 2 outputs, got {n_out}"
            )
        labels = check_labels("y", y, n_out)
        check_target_shape("y", labels.shape, (n,), head)
        return labels
    y = check_array("y", y, ndim=(1, 2))
    if y.ndim == 1 and n_out == 1:
        y = y[:, None]  # (N,) -> (N, 1)
    check_target_shape("y", y.shape, (n, n_out), head)
    if head == "binary" and y.size:
        check_values_in("y", y.min(), y.max(), PROBABILITY, "targets", " for the binary head")
    return y


def head_loss(logits, y, head: str) -> float:
    """The head's loss of one batch: sum over outputs, mean over the N examples.

    regression: `1/m sum_i sum_k (z_k - y_k)^2` (C1 per example `sum_j (a_j - y_j)^2`, 002);
    binary:     `-1/m sum_i sum_k [y_k log s(z_k) + (1 - y_k) log(1 - s(z_k))]` (C2/C4/C5),
                computed from the logits (stable);
    multiclass: `-1/m sum_i log softmax(z)_{y_i}` (C6), log-sum-exp on the logits.
    Catalog: B4 (000). Its losses are those of C1, C2 and C6.
    PyTorch: `torchref.mlp.head_loss`, i.e.
    `F.mse_loss(.., reduction="sum") / N`, `F.binary_cross_entropy_with_logits(.., "sum") / N`,
    `F.cross_entropy` (mean); with one output the first two are torch's default mean.
    Shapes: logits (N, K); y as `check_targets` says. Returns a Python float.
    """
    logits = check_array("logits", logits, ndim=2)
    y = check_targets(y, head, logits.shape[1], logits.shape[0])
    return scalar_like(_HEAD_LOSSES[head][0](logits, y), logits)


def head_loss_grad(logits, y, head: str) -> np.ndarray:
    """dJ/dlogits of `head_loss`: `(h - y) / m` for all three heads (regression: `2(z - y)/m`).

    The canonical-link cancellation (D6, D12): sigmoid + CE and softmax + CE both give
    `a - y` per example; identity + squared error gives `2(a - y)`. Shapes: logits (N, K)
    -> (N, K).
    Catalog: B4.
    """
    logits = check_array("logits", logits, ndim=2)
    y = check_targets(y, head, logits.shape[1], logits.shape[0])
    return _HEAD_LOSSES[head][1](logits, y)


def l2_cost(params, lam: float, m: int) -> float:
    """The notes' weight penalty `lambda/(2m) sum_l sum_ij (W_l)_ij^2`, biases excluded (C4).

    Catalog: C4 (004). PyTorch: `MLP.loss(..., l2=lam)`. Shapes: params [W1, b1, ...].
    Erratum: docs/errata.md#c4
    """
    lam = check_interval("l2", lam, NONNEGATIVE)
    params = check_params(params)
    return scalar_like(lam / (2 * m) * sum(np.sum(W * W) for W in params[::2]), *params)


def l2_cost_grad(params, lam: float, m: int) -> list[np.ndarray]:
    """Gradient of `l2_cost`: `(lambda/m) W_l` for each weight, 0 for each bias. Catalog: C4."""
    lam = check_interval("l2", lam, NONNEGATIVE)
    params = check_params(params)
    scale = params[0].dtype.type(lam / m)
    return [scale * p if i % 2 == 0 else np.zeros_like(p) for i, p in enumerate(params)]


def loss_and_grads(
    params,
    X,
    y,
    activations="relu",
    head: str = "multiclass",
    l2: float = 0.0,
    *,
    workspace: StepWorkspace | None = None,
) -> tuple[float, list[np.ndarray]]:
    """Loss and gradients of one batch: `J = head_loss + lambda/(2m) sum ||W_l||^2`.

    The cost is C4's form (004) for every head, with the head's loss of `head_loss` and the
    penalty of `l2_cost` (biases not penalized). Catalog: B4, B10, D4. PyTorch:
    `MLP.loss(MLP(x), y, l2)` then `.backward()`.
    With `workspace` (a `StepWorkspace`), the same step runs in the notes' layout (examples as
    columns) in buffers reused between calls, and the gradients returned ARE the workspace's
    buffers, overwritten by its next call; see `StepWorkspace` for why and what differs.
    Shapes: X (N, d); y as `check_targets`; returns (float, [dW1, db1, ...]).
    """
    HEADS.check("head", head)
    l2 = check_interval("l2", l2, NONNEGATIVE)
    if workspace is not None:
        return _loss_and_grads_into(workspace, params, X, y, activations, head, l2)
    logits, cache = mlp_forward(params, X, activations)
    m = logits.shape[0]
    loss = head_loss(logits, y, head)
    grads = mlp_backward(head_loss_grad(logits, y, head), cache)
    if l2:
        loss += l2_cost(params, l2, m)
        grads = [g + r for g, r in zip(grads, l2_cost_grad(params, l2, m), strict=True)]
    return loss, grads


# ---- one training step in reused buffers, in the notes' layout (B1, D4; 001) ---------------


@dataclass(eq=False)
class StepWorkspace:
    """Buffers that `loss_and_grads(..., workspace=ws)` computes one training step into.

    The step is D4 as 001 writes it, with examples as columns (`Z[l] = W[l] A[l-1] + b[l]`,
    `dW[l] = dZ[l] A[l-1]^T`, ...; `_loss_and_grads_into` lists it), the same maths as
    `mlp_forward` + `mlp_backward` in the batch-first layout. Two things make it faster
    (measured in docs/performance.md, case 1):
    - Nothing is allocated once the buffers exist: every product and element-wise pass
      writes into them (`out=`). A step that allocates its activations and gradients anew
      makes glibc return the freed memory to the OS and fault it back in, every step.
    - In this layout the batch is the columns of the large products (`W[l] A[l-1]`,
      `W[l]^T dZ[l]`), the orientation in which OpenBLAS splits them best over threads:
      with 2 threads, 94-100% of its square-GEMM peak instead of 60-80%.
    Allocation-free for ReLU hidden layers and the multiclass head; other activations and
    heads call their `scratch` functions (new arrays) and copy the result in.

    The gradients it returns are its own buffers: the next step with this workspace
    overwrites them (copy them to keep them). Buffers are made on the first call and again
    when the layer sizes, batch size, dtype or activations change. One workspace per
    training loop (not thread-safe). Results equal the batch-first step's up to rounding
    (the products sum in another order).
    """

    key: tuple | None = None  # (param shapes, N, dtype, activations) the buffers were made for
    z: list[np.ndarray] = field(default_factory=list)  # Z[l] (n_l, N); A[l] for ReLU (in place)
    a: list[np.ndarray] = field(default_factory=list)  # A[l] = g(Z[l]) (n_l, N), hidden layers
    dz: list[np.ndarray] = field(default_factory=list)  # dZ[l] (n_l, N), dA[l] before g'
    mask: list[np.ndarray | None] = field(default_factory=list)  # 1{Z[l] > 0}, ReLU layers
    zeros: list[np.ndarray | None] = field(default_factory=list)  # 0 (n_l, N), ReLU layers
    grads: list[np.ndarray] = field(default_factory=list)  # [dW1, db1, ...] like params
    col: list[np.ndarray] = field(default_factory=list)  # two (N,) rows for the head's sums
    ones: np.ndarray | None = None  # (N,) of 1: a sum over the examples is `dZ @ ones`
    examples: np.ndarray | None = None  # arange(N): the column of each example

    def prepare(self, params: list[np.ndarray], X: np.ndarray, names: list[str]) -> None:
        """(Re)make the buffers unless they already fit these params, batch and activations."""
        n = X.shape[0]
        dtype = np.result_type(params[0], X)  # what `x @ W.T` returns in the batch-first step
        key = (tuple(p.shape for p in params), n, dtype, tuple(names))
        if key == self.key:
            return
        widths = [W.shape[0] for W in params[::2]]  # n_1, ..., n_L
        relu = [name == "relu" for name in names]  # per hidden layer
        self.z = [np.empty((w, n), dtype) for w in widths]
        self.dz = [np.empty((w, n), dtype) for w in widths]
        hidden = list(zip(self.z[:-1], relu, strict=True))
        self.a = [z if r else np.empty_like(z) for z, r in hidden]
        self.mask = [np.empty(z.shape, bool) if r else None for z, r in hidden]
        self.zeros = [np.zeros_like(z) if r else None for z, r in hidden]
        self.grads = [np.empty(p.shape, dtype) for p in params]
        self.col = [np.empty(n, dtype), np.empty(n, dtype)]
        self.ones = np.ones(n, dtype)
        self.examples = np.arange(n)
        self.key = key


def _loss_and_grads_into(ws: StepWorkspace, params, X, y, activations, head: str, l2: float):
    """`loss_and_grads` in `ws`'s buffers: D4 in the notes' layout, examples as columns.

    Forward   Z[l] = W[l] A[l-1] + b[l]       (A[0] = X^T, a view: nothing copied)
              A[l] = g(Z[l])                  (ReLU: over Z[l] in place; g'(Z) = 1{Z > 0})
    Head      J and dZ[L] = dJ/dZ[L] = (softmax(Z[L]) - Y) / m for the multiclass head, in one
              pass over Z[L]'s columns (`_softmax_ce_into`); other heads via `_HEAD_LOSSES`
    Backward  dW[l] = dZ[l] A[l-1]^T,  db[l] = sum over the columns of dZ[l] = dZ[l] 1
              dA[l-1] = W[l]^T dZ[l],  dZ[l-1] = dA[l-1] * g'(Z[l-1])  (in place)
    The 1/m of D4 is in dZ[L] already (as in `mlp_backward`). Shapes: as `loss_and_grads`.
    """
    params, X, names = _check_forward_inputs(params, X, activations)
    L = len(params) // 2
    m = X.shape[0]
    y = check_targets(y, head, params[-2].shape[0], m)
    ws.prepare(params, X, names)
    W, b = params[0::2], params[1::2]
    dW, db = ws.grads[0::2], ws.grads[1::2]

    A = X.T  # A[0] (d, N)
    for l in range(L):
        Z = np.matmul(W[l], A, out=ws.z[l])  # Z[l] = W[l] A[l-1]  (n_l, N)
        Z += b[l][:, None]  # + b[l], a column added to every example
        if l < L - 1:
            A = _activation_into(names[l], Z, ws, l)

    loss = _head_into(head, Z, y, ws)  # fills dZ[L] = ws.dz[L-1]
    for l in range(L - 1, -1, -1):
        dZ = ws.dz[l]
        A_prev = X.T if l == 0 else ws.a[l - 1]
        np.matmul(dZ, A_prev.T, out=dW[l])  # dW[l] = dZ[l] A[l-1]^T  (n_l, n_{l-1})
        np.matmul(dZ, ws.ones, out=db[l])  # db[l] = sum_i dZ[l](i) = dZ[l] 1
        if l > 0:
            dA = np.matmul(W[l].T, dZ, out=ws.dz[l - 1])  # dA[l-1] = W[l]^T dZ[l]
            _times_activation_grad(names[l - 1], dA, ws, l - 1)  # dZ[l-1] = dA * g'(Z[l-1])
    if l2:
        loss += l2_cost(params, l2, m)
        for g, Wl in zip(dW, W, strict=True):
            g += Wl.dtype.type(l2 / m) * Wl  # (lambda/m) W, the gradient of the penalty
    return loss, ws.grads


def _activation_into(name: str, Z: np.ndarray, ws: StepWorkspace, l: int) -> np.ndarray:
    """A[l] = g(Z[l]) into the workspace. ReLU overwrites Z[l] (its derivative needs only
    the sign of Z, kept as a mask) and takes max(Z, 0) against an array of zeros: NumPy's
    `maximum` with a scalar operand runs 2-3x slower than with an array of the same shape."""
    if name == "relu":
        np.greater(Z, 0, out=ws.mask[l])  # 1{Z[l] > 0} = g'(Z[l]), for the backward pass
        return np.maximum(Z, ws.zeros[l], out=Z)  # relu(z) = max(0, z), A5
    fn, _ = get_activation(name)
    np.copyto(ws.a[l], fn(Z))
    return ws.a[l]


def _times_activation_grad(name: str, dA: np.ndarray, ws: StepWorkspace, l: int) -> None:
    """dZ[l] = dA[l] * g'(Z[l]) in place over dA (D4); ReLU's g' is the mask of the forward."""
    if name == "relu":
        np.multiply(dA, ws.mask[l], out=dA)
        return
    _, grad = get_activation(name)
    np.multiply(dA, grad(ws.z[l]), out=dA)


def _head_into(head: str, Z: np.ndarray, y: np.ndarray, ws: StepWorkspace) -> float:
    """The head's loss of logits Z[L] (n_L, N) and dZ[L] = dJ/dZ[L] into `ws.dz[-1]`."""
    if head == "multiclass":
        return _softmax_ce_into(Z, y, ws)
    loss_fn, grad_fn = _HEAD_LOSSES[head]
    logits = Z.T  # (N, n_L), the batch-first view the loss functions take
    np.copyto(ws.dz[-1], grad_fn(logits, y).T)
    return float(loss_fn(logits, y))


def _softmax_ce_into(Z: np.ndarray, labels: np.ndarray, ws: StepWorkspace) -> float:
    """Softmax cross-entropy (C6 with A10) of logits Z (C, N), examples as columns.

    J = 1/m sum_i [log sum_j e^{z_j} - z_{y_i}] with log sum_j e^{z_j} = max z +
    log sum_j e^{z_j - max z} (as `losses.cross_entropy_with_logits`), and
    dJ/dZ = (softmax(Z) - Y) / m (as `losses.cross_entropy_with_logits_grad`), computed in one
    set of passes into `ws.dz[-1]`: e^{Z - max Z} is both the softmax's numerator and the
    log-sum-exp's summand.
    """
    P = ws.dz[-1]  # (C, N): becomes softmax(Z), then (softmax(Z) - Y) / m
    zmax, total = ws.col
    cols = ws.examples
    m = Z.shape[1]
    np.max(Z, axis=0, out=zmax)  # max over the classes of each example
    np.subtract(Z, zmax, out=P)  # Z - max Z <= 0: e^{...} cannot overflow
    np.exp(P, out=P)
    np.sum(P, axis=0, out=total)  # sum_j e^{z_j - max z}
    z_label = Z[labels, cols]  # z_{y_i} (N,)
    loss = (zmax + np.log(total) - z_label).mean()  # mean over the m examples
    P /= total  # softmax(Z), each column divided by its sum
    P[labels, cols] -= 1  # softmax(Z) - Y, Y one-hot in columns
    P /= m
    return float(loss)


# ---- the notes' layout: examples as columns, bias folded into Theta (B5) -----------------


@dataclass
class NotesLayout:
    """Parameters and data as the notes write them.

    thetas[l-1] is Theta^(l) = [b_l | W_l], shape (n_l, n_{l-1} + 1): row i is theta_i^(l),
    with s_(l-1) + 1 entries, theta_i0 the bias (004). X is (d, m) and Y (K, m): examples
    as columns (001, 004). X and Y are None when not given.
    """

    thetas: list[np.ndarray]
    X: np.ndarray | None = None
    Y: np.ndarray | None = None


def to_notes_layout(params, X=None, Y=None) -> NotesLayout:
    """Convert torch-order parameters and batch-first data to the notes' layout.

    The ONE place where the layouts meet (every test uses it): `Theta^(l) = [b_l | W_l]`
    (bias folded in as column 0, B5, 004), `X -> X^T` and `Y -> Y^T` (examples as columns,
    001). Shapes: params [W1 (n1, d), b1 (n1,), ...]; X (N, d) -> (d, N); Y (N, K) -> (K, N),
    Y (N,) -> (1, N) (one output unit).
    Catalog: B5, B11.
    """
    params = check_params(params)
    thetas = [
        np.concatenate([b[:, None], W], axis=1)  # (n_l, 1 + n_{l-1})
        for W, b in zip(params[::2], params[1::2], strict=True)
    ]
    Xc = None if X is None else check_array("X", X, ndim=2).T.copy()
    Yc = None
    if Y is not None:
        Y = check_array("Y", Y, ndim=(1, 2))
        Yc = (Y[None, :] if Y.ndim == 1 else Y.T).copy()
    return NotesLayout(thetas, Xc, Yc)


def from_notes_layout(
    layout: NotesLayout,
) -> tuple[list[np.ndarray], np.ndarray | None, np.ndarray | None]:
    """Inverse of `to_notes_layout`: returns `(params, X, Y)` batch first (Y as (N, K)).

    Catalog: B5, B11.
    """
    params = []
    for l, theta in enumerate(layout.thetas, start=1):
        theta = check_array(f"thetas[{l - 1}] (Theta^({l}))", theta, ndim=2)
        if theta.shape[1] < 2:
            raise ValueError(
                f"Theta^({l}) must have a bias column and at least one weight column, "
                f"got shape {theta.shape}"
            )
        params += [theta[:, 1:].copy(), theta[:, 0].copy()]
    params = check_params(params)
    X = None if layout.X is None else layout.X.T.copy()
    Y = None if layout.Y is None else layout.Y.T.copy()
    return params, X, Y


def add_bias_unit(a) -> np.ndarray:
    """Prepend the bias unit `a_0 = 1` (004 "add a_0"): (s,) -> (s+1,), (s, m) -> (s+1, m).

    Catalog: B5.
    """
    a = check_array("a", a, ndim=(1, 2))
    ones = np.ones((1,) + a.shape[1:], dtype=a.dtype)  # (1,) or (1, m)
    return np.concatenate([ones, a], axis=0)


def forward_folded(
    thetas, x, activations="sigmoid", output: str = "sigmoid"
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Forward propagation with the bias folded in, numbered as the notes number layers.

    004: a^(1) = x (add a_0^(1) = 1); z^(l+1) = Theta^(l) a^(l); a^(l+1) = g(z^(l+1))
    (add a_0^(l+1)); last layer a^(L) = h_Theta(x) = g(z^(L)), no bias unit.
    Each z_i^(l+1) = sum_{j>=0} theta_ij a_j (B5). Catalog: B5, B6, B11 (004, 003).
    `activations`: one name or one per hidden layer; `output`: "sigmoid" (004), "softmax",
    or "identity".
    Shapes: thetas[l-1] = Theta^(l) (s_(l+1), s_l + 1); x (s_1,) one example or (s_1, m)
    examples as columns. Returns (z, a): dicts keyed by layer number, z[l] for l = 2..L,
    a[l] for l = 1..L; a[l] has s_l + 1 rows (bias unit first) for l < L.
    Erratum: docs/errata.md#b11
    """
    L = len(thetas) + 1
    names = hidden_activations(activations, L - 2)
    Choice(("sigmoid", "softmax", "identity")).check("output", output)
    a = {1: add_bias_unit(x)}
    z: dict[int, np.ndarray] = {}
    for l in range(1, L):
        theta = check_array(f"thetas[{l - 1}] (Theta^({l}))", thetas[l - 1], ndim=2)
        if theta.shape[1] != a[l].shape[0]:
            raise ValueError(
                f"Theta^({l}) must have {a[l].shape[0]} columns (s_{l} + 1, bias included), "
                f"got shape {theta.shape}"
            )
        z[l + 1] = theta @ a[l]  # (s_(l+1),) or (s_(l+1), m)
        if l + 1 < L:
            g, _ = get_activation(names[l - 1])
            a[l + 1] = add_bias_unit(g(z[l + 1]))
        elif output == "softmax":
            a[L] = softmax(z[L], axis=0)  # classes along axis 0 (examples are columns)
        else:
            a[L] = get_activation(output)[0](z[L])
    return z, a


# ---- B2, B9 ------------------------------------------------------------------------------


def one_hidden_layer_net(x, w1, b1, w2, b2, f1: str = "sigmoid", f2: str = "sigmoid"):
    """The one-hidden-layer network of 002 §4.1.1: `y = f2(w2 . f1(w1^T x + b1) + b2)`.

    Catalog: B2 (002). Columns of `w1` are the hidden units' weight vectors (as `w1^T x`
    writes it), so `w1` is the transpose of `nn.Linear.weight`.
    Shapes: x (d,) or (N, d); w1 (d, h); b1 (h,); w2 (h,); b2 scalar -> () or (N,).
    """
    x = check_array("x", x, ndim=(1, 2))
    w1 = check_array("w1", w1, ndim=2)
    b1 = check_array("b1", b1, ndim=1)
    w2 = check_array("w2", w2, ndim=1)
    b2 = check_interval("b2", b2, FINITE)
    d, h = w1.shape
    if x.shape[-1] != d or b1.shape != (h,) or w2.shape != (h,):
        raise ValueError(
            f"shapes must be x(..., d), w1(d, h), b1(h,), w2(h,); got x{x.shape}, "
            f"w1{w1.shape}, b1{b1.shape}, w2{w2.shape}"
        )
    g1, _ = get_activation(HIDDEN_ACTIVATIONS.check("activation", f1))
    g2, _ = get_activation(HIDDEN_ACTIVATIONS.check("activation", f2))
    hidden = g1(x @ w1 + b1)  # (h,) or (N, h): w1^T x for every row
    return g2(hidden @ w2 + x.dtype.type(b2))  # () or (N,)


def collapse_affine(params) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map `x -> W x + b` that a network without activations computes.

    B9 (000, 001, 002): `W_L(...(W_2 (W_1 x + b_1) + b_2)...) + b_L = W x + b` with
    `W = W_L ... W_2 W_1` and `b = W_L(...(W_2 b_1 + b_2)...) + b_L`.
    Shapes: params [W1 (n1, d), b1, ...]; returns W (n_L, d), b (n_L,).
    Catalog: B9.
    """
    params = check_params(params)
    W, b = params[0], params[1]
    for W_l, b_l in zip(params[2::2], params[3::2], strict=True):
        W, b = W_l @ W, W_l @ b + b_l
    return W, b


# ---- the three heads' losses, from scratch.losses -----------------------------------------


def _regression_loss(z, y):
    return losses.squared_error(z, y, scaling="mean")  # sum over outputs, mean over m


def _regression_grad(z, y):
    return losses.squared_error_grad(z, y, scaling="mean")  # 2(z - y)/m


def _binary_loss(z, y):
    # binary_cross_entropy_with_logits means over all N*K elements; K times it sums over
    # the outputs and means over the examples (C4/C5).
    return z.shape[1] * losses.binary_cross_entropy_with_logits(z, y)


def _binary_grad(z, y):
    return z.shape[1] * losses.binary_cross_entropy_with_logits_grad(z, y)  # (s(z) - y)/m


_HEAD_LOSSES = {
    "regression": (_regression_loss, _regression_grad),
    "binary": (_binary_loss, _binary_grad),
    "multiclass": (losses.cross_entropy_with_logits, losses.cross_entropy_with_logits_grad),
}

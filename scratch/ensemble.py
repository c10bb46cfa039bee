"""Generalization (H1, H2, H4, H5) in NumPy: early stopping, ensembles, a capacity sweep, L1 vs L2.

NumPy only; imports `scratch.mlp` (the MLP and its loss/gradients), `scratch.init` and
`scratch.validation`. Dropout (H3) lives in `scratch.dropout`.

The notes (002 §4.4): split the data into training and validation and stop when the validation
loss turns up (H1); average the predictions of models trained from different initializations,
on different subsets of the data, or with different architectures (H2); training error falls as
the number of parameters grows while validation error falls and then rises (H4); L1 drives
some weights to 0, L2 shrinks them all (H5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from scratch.init import init_params
from scratch.mlp import head_output, loss_and_grads, mlp_forward
from scratch.validation import (
    NONNEGATIVE,
    PENALTY,
    POSITIVE,
    Choice,
    check_array,
    check_count,
    check_labels,
    check_rng,
    check_rows_match,
)

__all__ = [
    "EarlyStopping",
    "early_stopping_update",
    "train_with_early_stopping",
    "train_mlp_gd",
    "MemberSpec",
    "ensemble_by_init",
    "ensemble_by_subset",
    "ensemble_by_architecture",
    "bootstrap_indices",
    "train_ensemble",
    "ensemble_predict",
    "random_relu_features",
    "capacity_sweep",
    "PENALTIES",
    "soft_threshold",
    "regularized_least_squares",
]

PENALTIES = Choice(("none", "l2", "l1_subgradient", "l1_proximal"))


# ---- H1: early stopping ---------------------------------------------------------------------


@dataclass(frozen=True)
class EarlyStopping:
    """State of the early-stopping rule on a validation loss (lower is better).

    An epoch improves iff val_loss < best - min_delta; then best, best_epoch are updated and
    wait = 0; otherwise wait += 1. should_stop once wait >= patience, or at a non-finite loss.
    This is Lightning's `EarlyStopping(monitor, mode="min", patience, min_delta)` rule.
    Catalog: H1 (002 §4.4.1).
    """

    patience: int = 5
    min_delta: float = 0.0
    best: float = np.inf
    best_epoch: int = -1
    wait: int = 0
    epoch: int = -1
    should_stop: bool = False

    def __post_init__(self) -> None:
        check_count("patience", self.patience)
        NONNEGATIVE.check("min_delta", self.min_delta)


def early_stopping_update(state: EarlyStopping, val_loss: float) -> EarlyStopping:
    """The rule after one more epoch's validation loss: returns the new state.

    Catalog: H1 (002 §4.4.1: "compute the validation loss every epoch and stop when it starts
    to rise"). PyTorch/Lightning: `lightning.pytorch.callbacks.EarlyStopping`.
    """
    loss = float(val_loss)
    epoch = state.epoch + 1
    if not np.isfinite(loss):
        return replace(state, epoch=epoch, should_stop=True)
    if loss < state.best - state.min_delta:
        return replace(state, best=loss, best_epoch=epoch, wait=0, epoch=epoch)
    wait = state.wait + 1
    return replace(state, wait=wait, epoch=epoch, should_stop=wait >= state.patience)


def train_with_early_stopping(
    params: list[np.ndarray],
    train_epoch: Callable[[list[np.ndarray]], list[np.ndarray]],
    val_loss: Callable[[list[np.ndarray]], float],
    max_epochs: int,
    patience: int = 5,
    min_delta: float = 0.0,
) -> tuple[list[np.ndarray], EarlyStopping, np.ndarray]:
    """Train epoch by epoch, keep the parameters of the best validation loss, stop on the rule.

    Each epoch: params <- train_epoch(params); v = val_loss(params); update the rule; remember
    params when v is the new best. Returns (best params, final state, validation losses).
    Catalog: H1 (002 §4.4.1). PyTorch: `torchref.ensemble.fit_with_early_stopping`.
    """
    max_epochs = check_count("max_epochs", max_epochs)
    state = EarlyStopping(patience, min_delta)
    best = [p.copy() for p in params]
    history = []
    for _ in range(max_epochs):
        params = train_epoch(params)
        v = val_loss(params)
        history.append(v)
        state = early_stopping_update(state, v)
        if state.best_epoch == state.epoch:
            best = [p.copy() for p in params]
        if state.should_stop:
            break
    return best, state, np.asarray(history)


def train_mlp_gd(
    params, X, y, activations="relu", head: str = "multiclass", lr: float = 0.5,
    epochs: int = 100, l2: float = 0.0,
) -> list[np.ndarray]:
    """Full-batch gradient descent on `scratch.mlp.loss_and_grads`: W <- W - lr dJ/dW, repeated.

    Catalog: F1. It trains the members of H1 and H2. Shapes: as `scratch.mlp.loss_and_grads`.
    """
    lr = POSITIVE.check("lr", lr)
    for _ in range(check_count("epochs", epochs, 0)):
        _, grads = loss_and_grads(params, X, y, activations, head, l2=l2)
        params = [p - lr * g for p, g in zip(params, grads, strict=True)]
    return params


# ---- H2: ensembles ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberSpec:
    """One ensemble member: its architecture, its initialization seed, its training rows.

    layer_sizes (d_in, ..., n_out); activation (hidden layers); seed for `scratch.init`;
    indices: the rows of the training data it sees (None = all).
    Catalog: H2 (002 §4.4.3).
    """

    layer_sizes: tuple[int, ...]
    activation: str = "relu"
    seed: int = 0
    indices: np.ndarray | None = None


def ensemble_by_init(layer_sizes, n_members: int, activation: str = "relu") -> list[MemberSpec]:
    """Same architecture and data, different initial weights (seeds 0 .. n-1).

    Catalog: H2 (002 §4.4.3, way a). Returns n_members MemberSpec.
    """
    n = check_count("n_members", n_members)
    return [MemberSpec(tuple(layer_sizes), activation, seed) for seed in range(n)]


def bootstrap_indices(n_samples: int, n_members: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Bagging: for each member, n_samples row indices drawn with replacement (a bootstrap).

    Each row is missing from a bootstrap with probability (1 - 1/n)^n -> 1/e, so a member sees
    about 63.2% of the distinct rows. Catalog: H2 (b). Shapes: returns n_members (n_samples,).
    """
    n = check_count("n_samples", n_samples)
    k = check_count("n_members", n_members)
    return [rng.integers(0, n, size=n) for _ in range(k)]


def ensemble_by_subset(
    layer_sizes, n_members: int, n_samples: int, rng: np.random.Generator,
    activation: str = "relu",
) -> list[MemberSpec]:
    """Same architecture and seed, different bootstrap subsets of the data (bagging).

    Catalog: H2 (002 §4.4.3, way b). Returns n_members MemberSpec with (n_samples,) indices.
    """
    return [
        MemberSpec(tuple(layer_sizes), activation, 0, idx)
        for idx in bootstrap_indices(n_samples, n_members, rng)
    ]


def ensemble_by_architecture(
    architectures: Sequence[tuple[Sequence[int], str]],
) -> list[MemberSpec]:
    """Different architectures (widths, depths, activations) on the same data.

    Catalog: H2 (002 §4.4.3, way c). architectures: [(layer_sizes, activation), ...].
    """
    return [MemberSpec(tuple(sizes), act, i) for i, (sizes, act) in enumerate(architectures)]


def train_ensemble(
    specs: Sequence[MemberSpec], X, y, head: str = "multiclass", lr: float = 0.5,
    epochs: int = 100, scheme: str = "he",
) -> list[tuple[list[np.ndarray], str]]:
    """Train every member by full-batch GD from `scratch.init.init_params(scheme, seed)`.

    Returns [(params, activation), ...], the input of `ensemble_predict`.
    Catalog: H2 (002 §4.4.3). Shapes: X (N, d_in); y as the head wants.
    """
    X = check_array("X", X, ndim=2)
    members = []
    for spec in specs:
        params = init_params(spec.layer_sizes, scheme, np.random.default_rng(spec.seed))
        rows = slice(None) if spec.indices is None else spec.indices
        y_rows = np.asarray(y)[rows]
        params = train_mlp_gd(params, X[rows], y_rows, spec.activation, head, lr, epochs)
        members.append((params, spec.activation))
    return members


def ensemble_predict(members: Sequence[tuple[list[np.ndarray], str]], X, head: str = "multiclass"):
    """Average the members' predictions: p(x) = 1/M sum_m h_m(x), h the head's output.

    For a classifier the members' probabilities are averaged (not their logits), so the
    ensemble's cross-entropy is at most the members' average (-log is convex).
    Catalog: H2 (002 §4.4.3: "test new data on every model and take the average").
    PyTorch: `torchref.ensemble.Ensemble`. Shapes: X (N, d_in) -> (N, n_out).
    """
    if len(members) == 0:
        raise ValueError("members must hold at least one (params, activation) pair, got none")
    preds = [head_output(mlp_forward(p, X, act)[0], head) for p, act in members]
    return np.mean(np.stack(preds), axis=0)  # (M, N, K) -> (N, K)


# ---- H4: capacity sweep -----------------------------------------------------------------


def random_relu_features(X, W, b) -> np.ndarray:
    """Hidden layer of a one-hidden-layer net with frozen random weights: relu(X W^T + b).

    Catalog: H4 (the hidden layer of `capacity_sweep`). torch: `torch.relu(F.linear(X, W, b))`.
    Shapes: X (N, d); W (h, d); b (h,) -> (N, h).
    """
    return np.maximum(X @ W.T + b, 0.0)  # (N, h)


def capacity_sweep(
    X_train, y_train, X_val, y_val, widths: Sequence[int], rng: np.random.Generator | None,
    W1=None, b1=None,
) -> dict[str, np.ndarray]:
    """Training and validation error of one-hidden-layer nets of growing width (H4).

    For each width h: hidden units relu(W1[:h] x + b1[:h]) with W1 ~ N(0, 2/d) (He) and
    b1 ~ N(0, 0.1^2) drawn once for the widest net (so the models are nested: each adds units
    to the previous one); the output layer [W2 | b2] is the minimum-norm least-squares fit of
    the one-hot targets (`np.linalg.lstsq`). Training MSE can only fall as h grows; validation
    error falls, then rises as h + 1 approaches the number of training rows, where the fit
    interpolates the training data (002 §4.4.1's over-fitting; beyond that point it can fall
    again, "double descent").
    Catalog: H4 (002 §4.4.1). PyTorch: `torchref.ensemble.capacity_sweep` (torch.linalg.lstsq).
    W1 (h_max, d) and b1 (h_max,) may be given instead of drawn (then rng is unused).
    Shapes: X_* (N, d); y_* integer labels (N,); returns arrays of len(widths): "width",
    "train_error", "val_error" (misclassification rates), "train_mse", "val_mse".
    """
    X_train = check_array("X_train", X_train, ndim=2)
    X_val = check_array("X_val", X_val, ndim=2)
    K = int(max(np.max(y_train), np.max(y_val))) + 1
    y_train, y_val = check_labels("y_train", y_train, K), check_labels("y_val", y_val, K)
    widths = [check_count("width", w) for w in widths]
    d, h_max = X_train.shape[1], max(widths)
    if W1 is None or b1 is None:
        check_rng(rng)
        W1 = rng.normal(0.0, np.sqrt(2.0 / d), size=(h_max, d))
        b1 = rng.normal(0.0, 0.1, size=h_max)
    W1, b1 = check_array("W1", W1, ndim=2), check_array("b1", b1, ndim=1)
    if W1.shape[0] < h_max or W1.shape[1] != d or b1.shape[0] < h_max:
        raise ValueError(
            f"W1 must be at least ({h_max}, {d}) and b1 ({h_max},), "
            f"got W1{W1.shape} and b1{b1.shape}"
        )
    Y = np.eye(K)[y_train]  # (N, K) one-hot
    H_tr = random_relu_features(X_train, W1, b1)
    H_va = random_relu_features(X_val, W1, b1)
    out = {k: [] for k in ("width", "train_error", "val_error", "train_mse", "val_mse")}
    for h in widths:
        A_tr = np.hstack([H_tr[:, :h], np.ones((len(H_tr), 1))])  # (N, h + 1): bias column
        A_va = np.hstack([H_va[:, :h], np.ones((len(H_va), 1))])
        W2, *_ = np.linalg.lstsq(A_tr, Y, rcond=None)  # (h + 1, K), minimum norm
        P_tr, P_va = A_tr @ W2, A_va @ W2
        out["width"].append(h)
        out["train_error"].append(np.mean(P_tr.argmax(1) != y_train))
        out["val_error"].append(np.mean(P_va.argmax(1) != y_val))
        out["train_mse"].append(np.mean((P_tr - Y) ** 2))
        out["val_mse"].append(np.mean((P_va - np.eye(K)[y_val]) ** 2))
    return {k: np.asarray(v) for k, v in out.items()}


# ---- H5: L1 vs L2 -----------------------------------------------------------------------


def soft_threshold(w, t: float) -> np.ndarray:
    """Proximal operator of t |w|: sign(w) max(|w| - t, 0), exact zeros for |w| <= t.

    Catalog: H5. PyTorch: `torch.nn.functional.softshrink(w, t)`. Shapes: any -> same.
    """
    t = NONNEGATIVE.check("t", t)
    w = check_array("w", w)
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def regularized_least_squares(
    X, y, penalty: str, lam: float, lr: float, steps: int, w0=None,
) -> np.ndarray:
    """Full-batch GD on L(w) = 1/(2N) ||X w - y||^2 with the notes' penalties (H5).

    gradient g = X^T (X w - y) / N, and per step
      "l2":             w <- w - lr (g + lam w) = (1 - lr lam) w - lr g      (F16, weight decay)
      "l1_subgradient": w <- w - lr (g + lam sign(w))                        (F17, as the notes)
      "l1_proximal":    w <- soft_threshold(w - lr g, lr lam)                (ISTA)
      "none":           w <- w - lr g
    The sub-gradient step almost never lands on 0: weights the penalty should remove keep
    jumping across 0 with steps of about lr lam. The proximal step sets them to exactly 0 and
    converges to the Lasso solution. Catalog: H5 (002 §4.4.2). PyTorch:
    `torchref.ensemble.regularized_least_squares` (autograd, `F.softshrink`).
    Shapes: X (N, d); y (N,); w0 (d,) (zeros by default); returns w (d,).
    """
    PENALTIES.check("penalty", penalty)
    X = check_array("X", X, ndim=2)
    y = check_array("y", y, ndim=1)
    check_rows_match("y", y.shape, "X", X.shape)
    lam, lr = PENALTY.check("lam", lam), POSITIVE.check("lr", lr)
    w = np.zeros(X.shape[1]) if w0 is None else check_array("w0", w0, ndim=1).copy()
    N = X.shape[0]
    for _ in range(check_count("steps", steps)):
        g = X.T @ (X @ w - y) / N  # (d,)
        if penalty == "l2":
            w = w - lr * (g + lam * w)
        elif penalty == "l1_subgradient":
            w = w - lr * (g + lam * np.sign(w))
        elif penalty == "l1_proximal":
            w = soft_threshold(w - lr * g, lr * lam)
        else:
            w = w - lr * g
    return w

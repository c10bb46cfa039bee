"""Every backpropagation form of the notes, each written the way its document writes it.

NumPy only; imports `scratch.activations`, `scratch.mlp` (the folded forward pass and the
notes' layout) and `scratch.validation`.

  D3 `backprop_slide_form`   000: scalar output of a 2-hidden-layer net, Diag(phi') products.
  D4 `backprop_vectorized`   001: examples as columns, dW = 1/m dZ A^T.
  D5 `backprop_per_neuron`   002 §4.2.3: loops over examples, layers and neurons, MSE + sigma.
  D6 `backprop_delta`        004: delta^(L) = a^(L) - y for sigmoid + CE, one example.
  D7 `backprop_accumulate`   004: Delta := Delta + delta^(l+1) a^(l)T, D = Delta/m + lambda Theta.

They compute the same gradients as `scratch.mlp.mlp_backward` (parity_tests/test_backprop.py
proves it, and proves them against torch autograd and central differences). Where two forms
of the notes disagree (D7's lambda against C4's cost), the docstring says so and
docs/errata.md section D records it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratch.activations import get_activation, sigmoid, softmax
from scratch.mlp import HEADS, HIDDEN_ACTIVATIONS, check_params, forward_folded, hidden_activations
from scratch.validation import FINITE, PENALTY, Choice, check_array, check_interval, scalar_like

__all__ = [
    "output_delta",
    "SlideGradients",
    "backprop_slide_form",
    "forward_vectorized",
    "backprop_vectorized",
    "backprop_per_neuron",
    "DeltaPass",
    "backprop_delta",
    "backprop_accumulate",
]

_CE_OUTPUTS = Choice(("sigmoid", "softmax"))


def output_delta(a_L, y, head: str) -> np.ndarray:
    """Per-example error of the output layer, dL/dz^(L), for the three heads.

    D6 (004): with sigmoid outputs a_k = g(z_k) and the per-example cross-entropy
    L = -sum_k [y_k log a_k + (1 - y_k) log(1 - a_k)], only a_i depends on z_i and
    g'(z_i) = a_i (1 - a_i), so
        delta_i^(L) = dL/dz_i = -y_i (1/a_i) a_i (1 - a_i) + (1 - y_i) (1/(1 - a_i)) a_i (1 - a_i)
                    = -y_i (1 - a_i) + (1 - y_i) a_i = a_i - y_i.
    The same cancellation holds for softmax + CE with one-hot y (sum_k y_k = 1):
    dL/dz_i = sum_k -y_k (delta_ki - a_i) = a_i - y_i. For the identity output and the squared
    error L = sum_k (a_k - y_k)^2 (002) it is 2(a_i - y_i).
    Catalog: D6 (004), D12 (003). Shapes: a_L and y the same shape (K,) or (K, m) -> same.
    Erratum: docs/errata.md#d6
    """
    HEADS.check("head", head)
    a_L = check_array("a_L", a_L)
    y = check_array("y", y)
    if a_L.shape != y.shape:
        raise ValueError(f"a_L and y must have the same shape, got a_L{a_L.shape} and y{y.shape}")
    return 2 * (a_L - y) if head == "regression" else a_L - y


# ---- D3: the slide form of 000 ------------------------------------------------------------


@dataclass(frozen=True)
class SlideGradients:
    """Derivatives of the scalar output y of the 000 network, named as the slides name them."""

    y: float
    dy_dz2: np.ndarray  # (d2,)  = w3
    dy_du2: np.ndarray  # (d2,)  = Diag(phi'(u2)) w3
    dy_dz1: np.ndarray  # (d1,)  = W2^T Diag(phi'(u2)) w3
    dy_du1: np.ndarray  # (d1,)  = Diag(phi'(u1)) dy/dz1
    dy_dW2: np.ndarray  # (d2, d1) = Diag(phi'(u2)) w3 z1^T
    dy_db2: np.ndarray  # (d2,)
    dy_dW1: np.ndarray  # (d1, d_in) = dy/du1 x^T
    dy_db1: np.ndarray  # (d1,)
    dy_dw3: np.ndarray  # (d2,)  = z2
    dy_db3: float       # 1


def backprop_slide_form(x, W1, b1, W2, b2, w3, b3, phi: str = "sigmoid") -> SlideGradients:
    """The gradient of the network output y w.r.t. every parameter, in the slides' form.

    000 "Back-Propagation - MLP". Forward:
        z1 = phi(u1), u1 = W1 x + b1;  z2 = phi(u2), u2 = W2 z1 + b2;  y = w3^T z2 + b3.
    Backward (the slides' equations, then the "..." they leave out, in the same pattern):
        dy/dz2 = w3
        dy/du2 = Diag(phi'(u2)) w3
        dy/dz1 = W2^T Diag(phi'(u2)) w3
        dy/dW2 = Diag(phi'(u2)) w3 z1^T,  dy/db2 = dy/du2
        dy/du1 = Diag(phi'(u1)) dy/dz1,   dy/dW1 = dy/du1 x^T,  dy/db1 = dy/du1
        dy/dw3 = z2,  dy/db3 = 1.
    The Diag matrices are built as written (an O(d^2) product; the element-wise
    `phi'(u2) * w3` is the same number). Catalog: D3 (000). PyTorch: autograd of
    `torchref.mlp.MLP([d_in, d1, d2, 1], phi, head="regression")(x)`, which differentiates
    y itself, not a loss. The slides' phi is sigmoid, tanh(x/2) ("tanh_half") or ReLU.
    Shapes: x (d_in,); W1 (d1, d_in); b1 (d1,); W2 (d2, d1); b2 (d2,); w3 (d2,) (the slides'
    "w3 ~ d2 x 1"); b3 scalar.
    """
    x = check_array("x", x, ndim=1)
    W1 = check_array("W1", W1, ndim=2)
    W2 = check_array("W2", W2, ndim=2)
    w3 = check_array("w3", w3, ndim=1)
    b1 = check_array("b1", b1, ndim=1)
    b2 = check_array("b2", b2, ndim=1)
    b3 = check_interval("b3", b3, FINITE)
    d1, d2 = W1.shape[0], W2.shape[0]
    for name, arr, shape in (
        ("W1", W1, (d1, x.shape[0])), ("b1", b1, (d1,)), ("W2", W2, (d2, d1)),
        ("b2", b2, (d2,)), ("w3", w3, (d2,)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {name}{arr.shape}")
    g, g_prime = get_activation(phi)

    u1 = W1 @ x + b1  # (d1,)
    z1 = g(u1)
    u2 = W2 @ z1 + b2  # (d2,)
    z2 = g(u2)
    y = scalar_like(w3 @ z2 + b3, z2)  # the input's dtype, not a Python float

    dy_dz2 = w3
    dy_du2 = np.diag(g_prime(u2)) @ w3  # Diag(phi'(u2)) w3
    dy_dz1 = W2.T @ np.diag(g_prime(u2)) @ w3  # W2^T Diag(phi'(u2)) w3
    dy_dW2 = np.outer(np.diag(g_prime(u2)) @ w3, z1)  # Diag(phi'(u2)) w3 z1^T, (d2, d1)
    dy_du1 = np.diag(g_prime(u1)) @ dy_dz1
    dy_dW1 = np.outer(dy_du1, x)  # (d1, d_in)
    return SlideGradients(
        y=y, dy_dz2=dy_dz2, dy_du2=dy_du2, dy_dz1=dy_dz1, dy_du1=dy_du1,
        dy_dW2=dy_dW2, dy_db2=dy_du2, dy_dW1=dy_dW1, dy_db1=dy_du1,
        dy_dw3=z2, dy_db3=scalar_like(1.0, z2),
    )


# ---- D4: vectorized, examples as columns (001) --------------------------------------------


def forward_vectorized(W, b, X, activations="sigmoid", head: str = "binary"):
    """`Z[l] = W[l] A[l-1] + b[l]`, `A[l] = g[l](Z[l])` with examples as columns (001, B1).

    The output layer's g is the head's (identity, sigmoid, softmax over each column).
    Shapes: W[l-1] (n_l, n_{l-1}); b[l-1] (n_l,); X = A[0] (n_0, m). Returns lists Z, A with
    A[0] = X, so Z[l] and A[l] belong to layer l (Z[0] is None).
    Catalog: B1.
    """
    HEADS.check("head", head)
    if len(W) != len(b):
        raise ValueError(f"W and b must hold one entry per layer, got {len(W)} and {len(b)}")
    checked = check_params([p for pair in zip(W, b, strict=True) for p in pair])
    W, b = checked[0::2], checked[1::2]
    L = len(W)
    names = hidden_activations(activations, L - 1)
    A = [check_array("X", X, ndim=2)]
    if A[0].shape[0] != W[0].shape[1]:
        raise ValueError(
            f"X must have {W[0].shape[1]} rows (features; examples are columns), got X{A[0].shape}"
        )
    Z: list[np.ndarray | None] = [None]
    for l in range(1, L + 1):
        Z.append(W[l - 1] @ A[l - 1] + b[l - 1][:, None])  # (n_l, m); b[l] a column
        if l < L:
            A.append(get_activation(names[l - 1])[0](Z[l]))
        elif head == "binary":
            A.append(sigmoid(Z[l]))
        elif head == "multiclass":
            A.append(softmax(Z[l], axis=0))  # classes along axis 0
        else:
            A.append(Z[l].copy())
    return Z, A


def backprop_vectorized(W, b, X, Y, activations="sigmoid", head: str = "binary"):
    """Vectorized backprop over m examples held as columns, as 001 writes it.

        dZ[L] = A[L] - Y (sigmoid/softmax + CE; 2(A[L] - Y) for identity + squared error)
        dW[l] = 1/m dZ[l] A[l-1]^T
        db[l] = 1/m sum_i dZ[l](i)
        dA[l-1] = W[l]^T dZ[l]
        dZ[l] = dA[l] * g'[l](Z[l])
    dZ holds per-example derivatives (no 1/m); the 1/m of J = 1/m sum_i L appears only in
    dW and db. Catalog: D4 (001). PyTorch: autograd of `MLP.loss` (mean over examples).
    Shapes: W[l-1] (n_l, n_{l-1}); b[l-1] (n_l,); X (n_0, m); Y (n_L, m) (one-hot columns for
    the multiclass head). Returns (dW, db): lists shaped like W and b.
    Erratum: docs/errata.md#d4
    """
    Y = check_array("Y", Y, ndim=2)
    Z, A = forward_vectorized(W, b, X, activations, head)
    L = len(W)
    names = hidden_activations(activations, L - 1)
    m = A[0].shape[1]
    if Y.shape != A[L].shape:
        raise ValueError(
            f"Y must have shape {A[L].shape} (outputs x examples), got Y{Y.shape}"
        )
    dW: list[np.ndarray] = [np.empty(0)] * L
    db: list[np.ndarray] = [np.empty(0)] * L
    dZ = output_delta(A[L], Y, head)  # (n_L, m)
    for l in range(L, 0, -1):
        dW[l - 1] = dZ @ A[l - 1].T / m  # (n_l, n_{l-1})
        db[l - 1] = dZ.sum(axis=1) / m  # (n_l,)
        if l > 1:
            dA = W[l - 1].T @ dZ  # (n_{l-1}, m)
            dZ = dA * get_activation(names[l - 2])[1](Z[l - 1])
    return dW, db


# ---- D5: per neuron, MSE + sigmoid (002 §4.2.3) --------------------------------------------


def backprop_per_neuron(params, X, Y, activations="sigmoid", output: str = "sigmoid"):
    """002's per-neuron recursion with explicit loops, averaged over the n examples.

    For one example, L_0 = sum_j (a_j^(L) - y_j)^2, z_j^(l) = sum_k w_jk^(l) a_k^(l-1) + b_j^(l),
    a_j^(l) = sigma(z_j^(l)):
        dL_0/dw_jk^(l) = a_k^(l-1) sigma'(z_j^(l)) dL_0/da_j^(l)
        dL_0/db_j^(l)  = sigma'(z_j^(l)) dL_0/da_j^(l)
        dL_0/da_k^(l-1) = sum_j w_jk^(l) sigma'(z_j^(l)) dL_0/da_j^(l)
        dL_0/da_j^(L) = 2(a_j^(L) - y_j)
    then dC/dw_jk^(l) = 1/n sum_{i=0}^{n-1} dL_i/dw_jk^(l) (and the same for b). The document's
    last two lines sum from i = 1 and write the recursion with a_j on the left; see
    docs/errata.md (D5). `activations` / `output` replace sigma' by the derivative of another
    activation (the notes use sigmoid everywhere, the default). Catalog: D5 (002 §4.2.3).
    PyTorch: autograd of `F.mse_loss(sigmoid(MLP(x)), y, reduction="sum") / n`.
    Shapes: params [W1 (n1, n0), b1 (n1,), ...] (w_jk^(l) = W_l[j, k]); X (n, n_0) one example
    a row; Y (n, n_L). Returns grads shaped like params.
    Erratum: docs/errata.md#d5
    Erratum: docs/errata.md#d5-indices
    """
    params = check_params(params)
    L = len(params) // 2
    names = hidden_activations(activations, L - 1) + [HIDDEN_ACTIVATIONS.check("output", output)]
    X = check_array("X", X, ndim=2)
    Y = check_array("Y", Y, ndim=2)
    n = X.shape[0]
    if Y.shape != (n, params[-1].shape[0]):
        raise ValueError(f"Y must have shape {(n, params[-1].shape[0])}, got Y{Y.shape}")
    w = [None] + params[0::2]  # w[l][j, k] = w_jk^(l), layers numbered 1..L
    bias = [None] + params[1::2]
    grads_w = [None] + [np.zeros_like(p) for p in params[0::2]]
    grads_b = [None] + [np.zeros_like(p) for p in params[1::2]]

    for i in range(n):
        a = {0: X[i]}
        z = {}
        for l in range(1, L + 1):  # forward, neuron by neuron
            n_l, n_prev = w[l].shape
            z[l] = np.array(
                [sum(w[l][j, k] * a[l - 1][k] for k in range(n_prev)) + bias[l][j]
                 for j in range(n_l)],
                dtype=X.dtype,
            )
            a[l] = get_activation(names[l - 1])[0](z[l])
        dL_da = {L: 2 * (a[L] - Y[i])}  # dL_0/da_j^(L) = 2(a_j^(L) - y_j)
        for l in range(L, 0, -1):
            sigma_prime = get_activation(names[l - 1])[1](z[l])  # sigma'(z_j^(l)) for all j
            n_l, n_prev = w[l].shape
            for j in range(n_l):
                for k in range(n_prev):
                    grads_w[l][j, k] += a[l - 1][k] * sigma_prime[j] * dL_da[l][j]
                grads_b[l][j] += sigma_prime[j] * dL_da[l][j]
            if l > 1:
                dL_da[l - 1] = np.array(
                    [sum(w[l][j, k] * sigma_prime[j] * dL_da[l][j] for j in range(n_l))
                     for k in range(n_prev)],
                    dtype=X.dtype,
                )
    grads = []
    for l in range(1, L + 1):
        grads += [grads_w[l] / n, grads_b[l] / n]  # average over the n examples
    return grads


# ---- D6 / D7: the delta form of 004 (bias folded into Theta) ------------------------------


@dataclass(frozen=True)
class DeltaPass:
    """One example through 004's algorithm, numbered as the slides number layers.

    z[l] (l = 2..L), a[l] (l = 1..L, bias unit first for l < L), delta[l] (l = 2..L) and
    grads[l] = dJ/dTheta^(l) = delta^(l+1) (a^(l))^T (l = 1..L-1), each a dict by layer.
    """

    z: dict[int, np.ndarray]
    a: dict[int, np.ndarray]
    delta: dict[int, np.ndarray]
    grads: dict[int, np.ndarray]


def backprop_delta(thetas, x, y, activations="sigmoid", output: str = "sigmoid") -> DeltaPass:
    """Backprop for one training example (x, y) in 004's delta form.

        delta^(L) = a^(L) - y                                  (sigmoid + CE; derived in
                                                                 `output_delta`)
        delta^(l) = (Theta^(l))^T delta^(l+1) .* g'(z^(l)),  g'(z^(l)) = a^(l) .* (1 - a^(l))
        dJ/dTheta_ij^(l) = a_j^(l) delta_i^(l+1)               (lambda = 0)
    J is the example's cross-entropy summed over the K outputs (C4 without 1/m and lambda).
    (Theta^(l))^T delta^(l+1) has s_l + 1 entries; the first belongs to the bias unit a_0,
    which no Theta feeds, so it is dropped before the product (the slides leave this out:
    docs/errata.md, D6). `activations` other than sigmoid use g'(z) from
    `scratch.activations`; `output="softmax"` (one-hot y) gives the same delta^(L).
    Catalog: D6 (004). PyTorch: autograd of `F.binary_cross_entropy_with_logits(..,
    reduction="sum")` on one example.
    Shapes: thetas[l-1] = Theta^(l) (s_(l+1), s_l + 1); x (s_1,); y (s_L,).
    Erratum: docs/errata.md#d6
    """
    _CE_OUTPUTS.check("output", output)
    L = len(thetas) + 1
    names = hidden_activations(activations, L - 2)
    x = check_array("x", x, ndim=1)
    y = check_array("y", y, ndim=1)
    z, a = forward_folded(thetas, x, names, output)
    if y.shape != a[L].shape:
        raise ValueError(f"y must have shape {a[L].shape}, got y{y.shape}")
    delta = {L: a[L] - y}
    for l in range(L - 1, 1, -1):
        back = thetas[l - 1].T @ delta[l + 1]  # (s_l + 1,): Theta^(l)^T delta^(l+1)
        if names[l - 2] == "sigmoid":
            g_prime = a[l][1:] * (1 - a[l][1:])  # a^(l)(1 - a^(l)), bias unit left out
        else:
            g_prime = get_activation(names[l - 2])[1](z[l])
        delta[l] = back[1:] * g_prime  # drop the bias unit's entry
    grads = {l: np.outer(delta[l + 1], a[l]) for l in range(1, L)}  # (s_(l+1), s_l + 1)
    return DeltaPass(z=z, a=a, delta=delta, grads=grads)


def backprop_accumulate(
    thetas, X, Y, lam: float = 0.0, activations="sigmoid", output: str = "sigmoid"
) -> list[np.ndarray]:
    """004's training-set algorithm: accumulate Delta over the m examples, then D.

        Delta^(l) = 0
        for i = 1..m: a^(1) = x^(i); forward; delta^(L) = a^(L) - y^(i); delta^(L-1), ...;
                      Delta^(l) := Delta^(l) + delta^(l+1) (a^(l))^T
        D_ij^(l) = Delta_ij^(l) / m + lambda Theta_ij^(l)   (j != 0)
        D_i0^(l) = Delta_i0^(l) / m                           (bias column not regularized)
    Inconsistent with 004's own cost C4, whose penalty lambda/(2m) sum Theta^2 has gradient
    (lambda/m) Theta: D is the gradient of CE/m + lambda/2 sum_{j>=1} Theta_ij^2 (no 1/m), so
    C4's lambda equals m times this one (docs/errata.md, D7; proven in test_backprop.py).
    Catalog: D7 (004). PyTorch: autograd of `MLP.loss(.., l2=m * lam)`.
    Shapes: thetas[l-1] = Theta^(l) (s_(l+1), s_l + 1); X (s_1, m) and Y (s_L, m), examples
    as columns. Returns [D^(1), ..., D^(L-1)] shaped like thetas.
    """
    lam = check_interval("lam", lam, PENALTY)
    X = check_array("X", X, ndim=2)
    Y = check_array("Y", Y, ndim=2)
    m = X.shape[1]
    if Y.shape[1] != m:
        raise ValueError(
            f"X and Y must hold the same number of columns, got X{X.shape} and Y{Y.shape}"
        )
    Delta = [np.zeros_like(check_array(f"thetas[{l}]", t, ndim=2)) for l, t in enumerate(thetas)]
    for i in range(m):
        step = backprop_delta(thetas, X[:, i], Y[:, i], activations, output)
        for l in range(1, len(thetas) + 1):
            Delta[l - 1] += np.outer(step.delta[l + 1], step.a[l])  # delta^(l+1) (a^(l))^T
    D = []
    for theta, Delta_l in zip(thetas, Delta, strict=True):
        D_l = Delta_l / m
        D_l[:, 1:] += lam * theta[:, 1:]  # j != 0 only
        D.append(D_l)
    return D

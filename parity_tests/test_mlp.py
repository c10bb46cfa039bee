"""MLPs: scratch.mlp against torchref.mlp (torch autograd), closed forms and scikit-learn.

Catalog B1, B2, B4, B5, B6, B9, B10, B11. Every test builds the torch side from the same NumPy
parameters through `torchref.mlp.load_numpy_params` and the notes' side through
`scratch.mlp.to_notes_layout`, the one place each layout conversion lives.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from parity_tests.helpers import assert_close, to_numpy, to_torch
from scratch import losses
from scratch import mlp as smlp
from scratch.activations import ACTIVATIONS, sigmoid
from torchref import mlp as tmlp

ACTS = sorted(ACTIVATIONS)
HEADS = ("regression", "binary", "multiclass")


# ---- helpers ------------------------------------------------------------------------------


def random_targets(rng, head: str, n: int, k: int, dtype=np.float64):
    if head == "multiclass":
        return rng.integers(0, k, size=n)
    if head == "binary":
        return rng.random((n, k)).astype(dtype)  # soft targets in [0, 1] are allowed
    return rng.normal(size=(n, k)).astype(dtype)


def torch_target(y: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(y, copy=True))


def torch_model(params, activations, head: str) -> tmlp.MLP:
    sizes = smlp.layer_sizes_of(params)
    model = tmlp.MLP(sizes, activation=activations, head=head)
    return tmlp.load_numpy_params(model, params)


def torch_loss_and_grads(params, X, y, activations, head, l2=0.0):
    model = torch_model(params, activations, head)
    loss = model.loss(model(to_torch(X)), torch_target(y), l2=l2)
    loss.backward()
    grads = [to_numpy(p.grad) for layer in tmlp.linear_layers(model)
             for p in (layer.weight, layer.bias)]
    return float(loss.detach()), grads


@st.composite
def mlp_cases(draw, heads=HEADS):
    """A random small MLP: 1-4 layers, widths 1-5, one activation per hidden layer."""
    head = draw(st.sampled_from(heads))
    depth = draw(st.integers(1, 4))
    widths = draw(st.lists(st.integers(1, 5), min_size=depth + 1, max_size=depth + 1))
    if head == "multiclass":
        widths[-1] = max(widths[-1], 2)
    acts = draw(st.lists(st.sampled_from(ACTS), min_size=depth - 1, max_size=depth - 1))
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    l2 = draw(st.sampled_from([0.0, 0.7]))
    return head, widths, acts, n, seed, l2


def build(case, dtype=np.float64):
    head, widths, acts, n, seed, l2 = case
    rng = np.random.default_rng(seed)
    params = smlp.init_mlp(widths, rng, scheme="xavier", dtype=dtype)
    params = [p + rng.normal(0, 0.1, p.shape).astype(dtype) for p in params]  # nonzero biases
    X = rng.normal(size=(n, widths[0])).astype(dtype)
    y = random_targets(rng, head, n, widths[-1], dtype)
    return params, X, y, acts, head, l2


# ---- B1: the fully connected layer ---------------------------------------------------------


@pytest.mark.catalog("B1")
@pytest.mark.parametrize("shape", [(1, 1, 1), (4, 3, 2), (7, 5, 6)], ids=str)
def test_dense_layer_equals_nn_linear_and_the_notes_column_form(rng, dtype, shape):
    n, n_in, n_out = shape
    W = rng.normal(size=(n_out, n_in)).astype(dtype)
    b = rng.normal(size=n_out).astype(dtype)
    X = rng.normal(size=(n, n_in)).astype(dtype)
    z, cache = smlp.dense_forward(X, W, b)
    Wt, bt, Xt = to_torch(W, True), to_torch(b, True), to_torch(X, True)
    zt = F.linear(Xt, Wt, bt)
    assert_close(z, zt)
    # 001's Z[l] = W[l] A[l-1] + b[l] with examples as columns is the transpose of the rows form
    layout = smlp.to_notes_layout([W, b], X)
    assert layout.X.shape == (n_in, n)
    assert_close(W @ layout.X + b[:, None], to_numpy(zt).T)
    dz = rng.normal(size=(n, n_out)).astype(dtype)
    zt.backward(to_torch(dz))
    dx, dW, db = smlp.dense_backward(dz, cache)
    for mine, theirs in ((dx, Xt.grad), (dW, Wt.grad), (db, bt.grad)):
        assert_close(mine, theirs)


@pytest.mark.catalog("B1")
@settings(max_examples=12)
@given(case=mlp_cases())
def test_mlp_forward_and_predict_equal_torch_mlp_for_random_nets(case):
    params, X, y, acts, head, _ = build(case)
    model = torch_model(params, acts, head)
    logits, _ = smlp.mlp_forward(params, X, acts)
    assert_close(logits, model(to_torch(X)))
    assert_close(smlp.mlp_predict(params, X, acts, head), model.predict(to_torch(X)))


@pytest.mark.catalog("B1")
def test_mlp_forward_matches_torch_in_float32_with_the_default_tolerance(rng):
    params = smlp.init_mlp([6, 5, 4, 3], rng, dtype=np.float32)
    X = rng.normal(size=(8, 6)).astype(np.float32)
    logits, _ = smlp.mlp_forward(params, X, ["tanh", "swish"])
    assert logits.dtype == np.float32
    model = torch_model(params, ["tanh", "swish"], "multiclass")
    assert next(model.parameters()).dtype == torch.float32
    assert_close(logits, model(to_torch(X)), dtype=np.float32)


# ---- B4: heads -----------------------------------------------------------------------------


@pytest.mark.catalog("B4")
@settings(max_examples=15)
@given(case=mlp_cases())
def test_loss_and_grads_equal_torch_autograd_for_every_head_with_and_without_l2(case):
    params, X, y, acts, head, l2 = case_data = build(case)
    loss, grads = smlp.loss_and_grads(*case_data)
    t_loss, t_grads = torch_loss_and_grads(*case_data)
    assert_close(loss, t_loss)
    assert len(grads) == len(params)
    for g, tg, p in zip(grads, t_grads, params, strict=True):
        assert g.shape == p.shape
        assert_close(g, tg)


@pytest.mark.catalog("B4")
@pytest.mark.parametrize("head", HEADS)
def test_loss_and_grads_float32_parity_with_torch(rng, head):
    widths = [4, 6, 3]
    params = smlp.init_mlp(widths, rng, dtype=np.float32)
    X = rng.normal(size=(5, 4)).astype(np.float32)
    y = random_targets(rng, head, 5, 3, np.float32)
    loss, grads = smlp.loss_and_grads(params, X, y, "elu", head, l2=0.5)
    t_loss, t_grads = torch_loss_and_grads(params, X, y, "elu", head, l2=0.5)
    assert grads[0].dtype == np.float32
    assert_close(loss, t_loss, dtype=np.float32)
    for g, tg in zip(grads, t_grads, strict=True):
        assert_close(g, tg, dtype=np.float32)


# ---- the same step in a StepWorkspace (the notes' layout, reused buffers) --------------------

# One workspace for every example: each new shape, dtype or activation list remakes its buffers.
_SHARED_WORKSPACE = smlp.StepWorkspace()


@pytest.mark.catalog("B1", "B4", "D4")
@settings(max_examples=15)
@given(case=mlp_cases())
def test_loss_and_grads_in_a_workspace_equal_torch_autograd_and_the_batch_first_step(case):
    params, X, y, acts, head, l2 = case_data = build(case)
    loss, grads = smlp.loss_and_grads(*case_data, workspace=_SHARED_WORKSPACE)
    t_loss, t_grads = torch_loss_and_grads(*case_data)
    rows_loss, rows_grads = smlp.loss_and_grads(*case_data)
    assert_close(loss, t_loss)
    assert_close(loss, rows_loss)
    for g, tg, rg, p in zip(grads, t_grads, rows_grads, params, strict=True):
        assert g.shape == p.shape and g.dtype == p.dtype
        assert_close(g, tg)
        assert_close(g, rg)


@pytest.mark.catalog("B1", "B4", "D4")
@pytest.mark.parametrize("acts", ["relu", ["tanh", "relu"]], ids=str)
def test_workspace_step_float32_parity_with_torch_at_a_blas_sized_shape(rng, acts):
    # Wide enough that every product goes through OpenBLAS's blocked, threaded kernels.
    params = smlp.init_mlp([96, 80, 64, 10], rng, dtype=np.float32)
    X = rng.normal(size=(48, 96)).astype(np.float32)
    y = rng.integers(0, 10, size=48)
    loss, grads = smlp.loss_and_grads(params, X, y, acts, workspace=smlp.StepWorkspace())
    t_loss, t_grads = torch_loss_and_grads(params, X, y, acts, "multiclass")
    assert grads[0].dtype == np.float32
    assert_close(loss, t_loss, dtype=np.float32)
    for g, tg in zip(grads, t_grads, strict=True):
        assert_close(g, tg, dtype=np.float32)


def test_workspace_returns_its_own_buffers_and_overwrites_them_next_step(rng):
    params = smlp.init_mlp([5, 4, 3], rng)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    ws = smlp.StepWorkspace()
    _, first = smlp.loss_and_grads(params, X, y, workspace=ws)
    kept = [g.copy() for g in first]
    _, second = smlp.loss_and_grads(params, 2 * X, y, workspace=ws)
    assert all(a is b for a, b in zip(first, second, strict=True))  # no new arrays
    _, expected = smlp.loss_and_grads(params, 2 * X, y)
    for g, e, k in zip(second, expected, kept, strict=True):
        assert_close(g, e)
        assert not np.allclose(g, k)  # overwritten with the second batch's gradients


@pytest.mark.parametrize("changes", ["activations", "dtype", "batch"])
def test_one_workspace_follows_a_change_of_activations_dtype_or_batch(rng, changes):
    params = smlp.init_mlp([5, 4, 4, 3], rng)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    ws = smlp.StepWorkspace()
    smlp.loss_and_grads(params, X, y, ["relu", "relu"], workspace=ws)
    acts = ["tanh", "relu"] if changes == "activations" else ["relu", "relu"]
    if changes == "dtype":
        params, X = [p.astype(np.float32) for p in params], X.astype(np.float32)
    if changes == "batch":
        X, y = X[:4], y[:4]
    loss, grads = smlp.loss_and_grads(params, X, y, acts, workspace=ws)
    expected_loss, expected = smlp.loss_and_grads(params, X, y, acts)
    assert_close(loss, expected_loss)
    for g, e in zip(grads, expected, strict=True):
        assert g.dtype == e.dtype
        assert_close(g, e)


def test_workspace_step_rejects_what_the_batch_first_step_rejects_with_the_same_words(rng):
    params = smlp.init_mlp([3, 4, 2], rng)
    X, y = rng.normal(size=(5, 3)), np.zeros(5, int)
    nan_w = [params[0].copy(), *params[1:]]
    nan_w[0][1, 2] = np.nan
    bad_calls = [
        (params, X[:, :2], y, "relu", "multiclass"),  # too few features
        (params, X, np.array([0, 1, 2, 0, 1]), "relu", "multiclass"),  # label out of range
        (params, X, y, "relu6", "multiclass"),  # unknown activation
        (params, X, y, "relu", "softmax"),  # unknown head
        (nan_w, X, y, "relu", "multiclass"),  # a NaN weight
        (params, np.full((5, 3), np.inf), y, "relu", "multiclass"),  # inf data
    ]
    for args in bad_calls:
        with pytest.raises((ValueError, TypeError)) as rows:
            smlp.loss_and_grads(*args)
        with pytest.raises(rows.type, match=f"^{re.escape(str(rows.value))}$"):
            smlp.loss_and_grads(*args, workspace=smlp.StepWorkspace())


@pytest.mark.catalog("B4")
@pytest.mark.parametrize("head", HEADS)
def test_head_output_is_identity_sigmoid_or_softmax_like_torch(rng, dtype, head):
    logits = (rng.normal(size=(6, 3)) * 30).astype(dtype)  # saturating logits too
    out = smlp.head_output(logits, head)
    expected = {"regression": lambda t: t, "binary": torch.sigmoid,
                "multiclass": lambda t: torch.softmax(t, dim=1)}[head](to_torch(logits))
    assert_close(out, expected)
    assert_close(out, tmlp.head_output(to_torch(logits), head))
    if head == "multiclass":
        assert_close(out.sum(axis=1), np.ones(6, dtype))  # a distribution over the C classes
    if head == "binary":
        assert np.all((out >= 0) & (out <= 1))


@pytest.mark.catalog("B4")
@pytest.mark.parametrize("head", ["regression", "binary"])
def test_one_output_head_loss_equals_torch_default_mean_reduction(rng, head):
    logits = rng.normal(size=(7, 1))
    y = random_targets(rng, head, 7, 1)
    torch_default = {"regression": F.mse_loss,
                     "binary": F.binary_cross_entropy_with_logits}[head]
    expected = torch_default(to_torch(logits), to_torch(y))  # reduction="mean"
    assert_close(smlp.head_loss(logits, y[:, 0], head), expected)


@pytest.mark.catalog("B4")
def test_binary_head_with_l2_is_the_notes_network_cost_c4(rng):
    # Same number through scratch.losses.network_cost (C4, written by another hand).
    params = smlp.init_mlp([3, 4, 2], rng)
    X = rng.normal(size=(5, 3))
    y = (rng.random((5, 2)) > 0.5).astype(float)
    loss, _ = smlp.loss_and_grads(params, X, y, "sigmoid", "binary", l2=0.9)
    h = smlp.mlp_predict(params, X, "sigmoid", "binary")
    thetas = smlp.to_notes_layout(params).thetas
    assert_close(loss, losses.network_cost(h, y, thetas, 0.9))


@pytest.mark.catalog("B4")
def test_binary_head_is_stable_at_saturated_logits(rng):
    logits = np.array([[800.0], [-800.0]])
    y = np.array([0.0, 1.0])
    loss = smlp.head_loss(logits, y, "binary")
    assert_close(loss, tmlp.head_loss(to_torch(logits), to_torch(y), "binary"))
    assert math.isfinite(loss)


# ---- B2, B5, B9 ----------------------------------------------------------------------------


@pytest.mark.catalog("B2")
@pytest.mark.parametrize("f1,f2", [("sigmoid", "sigmoid"), ("relu", "identity"), ("tanh", "swish")])
def test_one_hidden_layer_formula_equals_the_mlp_and_torch(rng, dtype, f1, f2):
    d, h = 3, 4
    x = rng.normal(size=(5, d)).astype(dtype)
    w1 = rng.normal(size=(d, h)).astype(dtype)  # columns are hidden units: w1^T x
    b1 = rng.normal(size=h).astype(dtype)
    w2 = rng.normal(size=h).astype(dtype)
    b2 = dtype.type(rng.normal())
    y_hat = smlp.one_hidden_layer_net(x, w1, b1, w2, b2, f1, f2)
    params = [w1.T.copy(), b1, w2[None, :].copy(), np.array([b2], dtype)]
    model = torch_model(params, [f1], "regression")
    expected = ACTIVATIONS[f2][0](to_numpy(model(to_torch(x)))[:, 0])
    torch_f2 = {"sigmoid": torch.sigmoid, "identity": lambda t: t, "swish": F.silu}[f2]
    assert_close(y_hat, torch_f2(model(to_torch(x)))[:, 0])
    assert_close(y_hat, expected)


@pytest.mark.catalog("B5")
@settings(max_examples=10)
@given(case=mlp_cases(heads=("binary", "multiclass")))
def test_bias_folded_into_theta_equals_separate_bias(case):
    params, X, _, acts, head, _ = build(case)
    layout = smlp.to_notes_layout(params, X)
    output = "sigmoid" if head == "binary" else "softmax"
    z, a = smlp.forward_folded(layout.thetas, layout.X, acts, output)
    L = len(params) // 2 + 1
    model = torch_model(params, acts, head)
    assert_close(z[L].T, model(to_torch(X)))  # examples back to rows
    assert_close(a[L].T, model.predict(to_torch(X)))


@pytest.mark.catalog("B5")
def test_notes_layout_round_trip_is_exact(rng):
    params = smlp.init_mlp([4, 3, 2], rng)
    X = rng.normal(size=(6, 4))
    Y = rng.normal(size=(6, 2))
    layout = smlp.to_notes_layout(params, X, Y)
    assert [t.shape for t in layout.thetas] == [(3, 5), (2, 4)]
    assert layout.X.shape == (4, 6) and layout.Y.shape == (2, 6)
    back, X2, Y2 = smlp.from_notes_layout(layout)
    for p, q in zip(params, back, strict=True):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)
    np.testing.assert_array_equal(layout.thetas[0][:, 0], params[1])  # theta_i0 is the bias


@pytest.mark.catalog("B9")
@pytest.mark.parametrize("widths", [[3, 2], [3, 4, 2], [2, 5, 4, 3, 1]], ids=str)
def test_network_without_activations_is_one_affine_map(rng, dtype, widths):
    params = smlp.init_mlp(widths, rng, dtype=dtype)
    X = rng.normal(size=(6, widths[0])).astype(dtype)
    W, b = smlp.collapse_affine(params)
    assert W.shape == (widths[-1], widths[0])
    model = torch_model(params, "identity", "regression")
    assert_close(X @ W.T + b, model(to_torch(X)))
    logits, _ = smlp.mlp_forward(params, X, "identity")
    assert_close(logits, X @ W.T + b)


@pytest.mark.catalog("B9")
def test_a_nonlinear_activation_breaks_the_affine_collapse(rng):
    # The same weights with tanh no longer equal the collapsed map (B9's converse).
    params = smlp.init_mlp([3, 4, 2], rng, scheme="he")
    X = rng.normal(size=(6, 3)) * 3
    W, b = smlp.collapse_affine(params)
    logits, _ = smlp.mlp_forward(params, X, "tanh")
    assert np.max(np.abs(logits - (X @ W.T + b))) > 1e-2


# ---- B10: one sigmoid / softmax unit is logistic regression --------------------------------


@pytest.mark.catalog("B10")
@pytest.mark.parametrize("n_classes", [2, 3])
def test_single_unit_is_logistic_regression_like_sklearn(rng, n_classes):
    m, d, C = 40, 3, 0.5
    X = rng.normal(size=(m, d))
    labels = (X @ rng.normal(size=(d, n_classes))).argmax(axis=1)
    labels[:4] = np.arange(4) % n_classes  # a few contradicting labels: not separable
    clf = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, labels)
    if n_classes == 2:
        params, head, y = [clf.coef_.copy(), clf.intercept_.copy()], "binary", labels[:, None]
    else:
        params, head, y = [clf.coef_.copy(), clf.intercept_.copy()], "multiclass", labels
    proba = smlp.mlp_predict(params, X, [], head)
    expected = clf.predict_proba(X)[:, 1:] if n_classes == 2 else clf.predict_proba(X)
    assert_close(proba, expected)
    # sklearn minimizes C sum_i CE_i + 1/2 ||w||^2 (bias free): m/C times our J with l2 = 1/C.
    _, grads = smlp.loss_and_grads(params, X, y, [], head, l2=1 / C)
    for g in grads:
        # sklearn's own solver tolerance bounds how close to 0 the gradient gets.
        np.testing.assert_allclose(g, 0, atol=1e-7)


@pytest.mark.catalog("B10")
def test_single_sigmoid_unit_cost_and_gradient_equal_c3_closed_form(rng):
    m, d, lam = 9, 4, 0.3
    X = rng.normal(size=(m, d))
    y = (rng.random(m) > 0.5).astype(float)
    theta = rng.normal(size=d + 1)  # theta_0 is the bias
    params = [theta[None, 1:].copy(), theta[:1].copy()]
    loss, grads = smlp.loss_and_grads(params, X, y, [], "binary", l2=lam)
    assert_close(loss, losses.regularized_logistic_cost(theta, X, y, lam))
    closed = np.concatenate([[np.mean(sigmoid(X @ theta[1:] + theta[0]) - y)],
                             X.T @ (sigmoid(X @ theta[1:] + theta[0]) - y) / m
                             + lam / m * theta[1:]])
    assert_close(np.concatenate([grads[1], grads[0][0]]), closed)


# ---- B11: the shapes the notes state -------------------------------------------------------


@pytest.mark.catalog("B11")
def test_shapes_of_the_000_network_w1_w2_w3(rng):
    d_in, d1, d2 = 5, 4, 3
    params = smlp.init_mlp([d_in, d1, d2, 1], rng)
    W1, b1, W2, b2, W3, b3 = params
    assert W1.shape == (d1, d_in)  # "W1 ~ d1 x d_in"
    assert W2.shape == (d2, d1)  # "W2 ~ d2 x d1"
    assert W3.T.shape == (d2, 1)  # "w3 ~ d2 x 1", y = w3^T z2 + b3
    model = tmlp.MLP([d_in, d1, d2, 1], "sigmoid", head="regression")
    torch_shapes = [tuple(v.shape) for v in model.state_dict().values()]
    assert torch_shapes == [p.shape for p in params]


@pytest.mark.catalog("B11")
def test_shapes_of_the_004_four_layer_forward_pass_with_bias_units(rng):
    s = (3, 5, 4, 2)  # s_1 .. s_4
    params = smlp.init_mlp(list(s), rng)
    thetas = smlp.to_notes_layout(params).thetas
    for l, theta in enumerate(thetas, start=1):
        assert theta.shape == (s[l], s[l - 1] + 1)  # each theta_i^(l) has s_(l-1) + 1 entries
    x = rng.normal(size=s[0])
    z, a = smlp.forward_folded(thetas, x, "sigmoid", "sigmoid")
    assert sorted(z) == [2, 3, 4] and sorted(a) == [1, 2, 3, 4]
    for l in (1, 2, 3):
        assert a[l].shape == (s[l - 1] + 1,) and a[l][0] == 1  # "add a_0^(l)"
    for l in (2, 3, 4):
        assert z[l].shape == (s[l - 1],)
    assert a[4].shape == (s[3],)  # h_Theta(x): no bias unit on the output


# ---- B6: the worked example of 003 ----------------------------------------------------------


def b6_network():
    theta1 = np.array([[0.1, -0.2, 0.3], [0.2, 0.1, -0.3]])
    theta2 = np.array([[0.1, 0.2, 0.1]])
    x = np.array([1.0, 0.0])  # 003 prints (1, 1, 0): the leading 1 is the bias unit
    return [theta1, theta2], x


@pytest.mark.catalog("B6")
def test_b6_feed_forward_worked_example_recomputed_with_scratch_and_torch():
    thetas, x = b6_network()
    z, a = smlp.forward_folded(thetas, x, "sigmoid", "sigmoid")
    assert_close(a[1], [1.0, 1.0, 0.0])  # the document's input vector (1, 1, 0)
    params, _, _ = smlp.from_notes_layout(smlp.NotesLayout(thetas))
    model = torch_model(params, "sigmoid", "binary")
    hidden = model.net[:2]
    xt = to_torch(x[None, :])
    assert_close(z[2], model.net[0](xt)[0])
    assert_close(a[2][1:], hidden(xt)[0])
    assert_close(z[3], model(xt)[0])
    assert_close(a[3], model.predict(xt)[0])
    # Hand arithmetic of each printed step, written as code:
    assert_close(z[2], [0.1 - 0.2 * 1 + 0.3 * 0, 0.2 + 0.1 * 1 - 0.3 * 0])  # (-0.1, 0.3)
    assert np.round(a[2][1:], 2).tolist() == [0.48, 0.57]
    assert round(float(z[3][0]), 2) == 0.25
    assert round(float(a[3][0]), 2) == 0.56
    # The document's rounding chain 0.1 + 0.2 * 0.47 + 0.1 * 0.57 = 0.251 -> 0.25 agrees.
    assert round(0.1 + 0.2 * 0.47 + 0.1 * 0.57, 3) == 0.251
    assert round(float(sigmoid(np.array(0.1 + 0.2 * 0.47 + 0.1 * 0.57))), 2) == 0.56


@pytest.mark.catalog("B6")
def test_b6_document_prints_the_hidden_activation_with_the_wrong_sign_and_rounding():
    thetas, x = b6_network()
    _, a = smlp.forward_folded(thetas, x, "sigmoid", "sigmoid")
    y1 = float(a[2][1])
    assert_close(y1, float(torch.sigmoid(torch.tensor(-0.1, dtype=torch.float64))))
    # 003 prints y1^(2) = 1/(1 + e^{-0.1}) = 0.47, but 1/(1 + e^{-0.1}) = sigma(+0.1):
    printed_expression = 1 / (1 + math.exp(-0.1))
    assert round(printed_expression, 2) == 0.52
    assert round(1 / (1 + math.exp(0.1)), 4) == round(y1, 4)  # sigma(-0.1) = 1/(1 + e^{+0.1})
    # 0.47502 rounds to 0.48, not the printed 0.47 (truncated).
    assert round(y1, 2) == 0.48 and 0.475 < y1 < 0.4751


# ---- conversions and module structure ----------------------------------------------------


@pytest.mark.catalog("B11")
def test_numpy_params_and_state_dict_round_trip(rng):
    params = smlp.init_mlp([4, 3, 2], rng)
    model = tmlp.load_numpy_params(tmlp.MLP([4, 3, 2], "relu"), params)
    assert next(model.parameters()).dtype == torch.float64
    state = model.state_dict()
    assert list(state) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]
    for p, v in zip(params, state.values(), strict=True):
        np.testing.assert_array_equal(p, to_numpy(v))
    for p, q in zip(params, tmlp.to_numpy_params(model), strict=True):
        np.testing.assert_array_equal(p, q)


def test_hidden_block_order_is_linear_batchnorm_activation_dropout():
    model = tmlp.MLP([4, 8, 6, 3], ["relu", "tanh"], batch_norm=True, dropout=0.2)
    kinds = [type(m).__name__ for m in model.net]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout",
                     "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    # to_numpy_params skips the batch-norm parameters: Linear weights and biases only.
    assert [p.shape for p in tmlp.to_numpy_params(model)] == [(8, 4), (8,), (6, 8), (6,),
                                                              (3, 6), (3,)]


@pytest.mark.catalog("H3")
def test_classic_dropout_kind_uses_the_notes_dropout_module():
    model = tmlp.MLP([4, 5, 2], "relu", dropout=0.5, dropout_kind="classic")
    assert type(model.net[2]).__name__ == "ClassicDropout"


@pytest.mark.catalog("H3")
def test_dropout_in_eval_mode_leaves_the_scratch_forward_unchanged(rng):
    params = smlp.init_mlp([4, 5, 2], rng)
    X = rng.normal(size=(3, 4))
    model = tmlp.MLP([4, 5, 2], "relu", dropout=0.5)
    tmlp.load_numpy_params(model, params).eval()
    assert_close(model(to_torch(X)), smlp.mlp_forward(params, X, "relu")[0])


# ---- bad input -----------------------------------------------------------------------------


def test_scratch_mlp_rejects_bad_input_with_clear_errors(rng):
    params = smlp.init_mlp([3, 4, 2], rng)
    X = rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"x must have 3 features .*got x\(5, 2\)"):
        smlp.mlp_forward(params, X[:, :2], "relu")
    unknown = "unknown activation 'relu6'; valid choices: 'identity', 'sigmoid'"
    with pytest.raises(ValueError, match=unknown):
        smlp.mlp_forward(params, X, "relu6")
    with pytest.raises(ValueError, match=r"one activation per hidden layer \(1\), got 2"):
        smlp.mlp_forward(params, X, ["relu", "tanh"])
    with pytest.raises(ValueError, match="unknown head 'softmax'; valid choices"):
        smlp.loss_and_grads(params, X, np.zeros(5, int), "relu", "softmax")
    with pytest.raises(ValueError, match=r"class labels in \[0, 1\], got values in \[0, 2\]"):
        smlp.loss_and_grads(params, X, np.array([0, 1, 2, 0, 1]), "relu", "multiclass")
    with pytest.raises(ValueError, match=r"y must have shape \(5, 2\) for the regression head"):
        smlp.loss_and_grads(params, X, np.zeros((5, 3)), "relu", "regression")
    with pytest.raises(ValueError, match=r"targets in \[0, 1\] for the binary head"):
        smlp.loss_and_grads(params, X, np.full((5, 2), 2.0), "relu", "binary")
    with pytest.raises(ValueError, match=r"l2 must be in \[0, inf\), got -1.0"):
        smlp.loss_and_grads(params, X, np.zeros((5, 2)), "relu", "regression", l2=-1.0)
    with pytest.raises(ValueError, match=r"W2 must have 4 columns .*got W2\(2, 3\)"):
        smlp.mlp_forward([params[0], params[1], np.zeros((2, 3)), params[3]], X, "relu")
    with pytest.raises(ValueError, match=r"b1 must have shape \(4,\)"):
        smlp.check_params([params[0], np.zeros(3)])
    with pytest.raises(ValueError, match="pairs"):
        smlp.check_params(params[:3])
    with pytest.raises(ValueError, match="layer_sizes must hold positive integers"):
        smlp.init_mlp([3, 0, 2], rng)
    with pytest.raises(ValueError, match="unknown scheme 'glorot'"):
        smlp.init_mlp([3, 2], rng, scheme="glorot")
    with pytest.raises(ValueError, match=r"shapes must be x\(..., d\), w1\(d, h\), b1\(h,\)"):
        smlp.one_hidden_layer_net(X, np.zeros((3, 4)), np.zeros(3), np.zeros(4), 0.0)
    with pytest.raises(ValueError, match="unknown activation 'step'"):
        smlp.mlp_forward(params, X, "step")  # zero derivative a.e.: not trainable


def test_torch_mlp_and_conversions_reject_bad_input_with_clear_errors(rng):
    with pytest.raises(ValueError, match="unknown head 'softmax'"):
        tmlp.MLP([3, 2], head="softmax")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        tmlp.MLP([3, 4, 2], dropout=1.0)
    with pytest.raises(ValueError, match="unknown dropout_kind 'gaussian'"):
        tmlp.MLP([3, 4, 2], dropout_kind="gaussian")
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        tmlp.MLP([3, 4, 2], activation="relu6")
    with pytest.raises(ValueError, match="at least two widths"):
        tmlp.MLP([3])
    with pytest.raises(ValueError, match="multiclass head needs at least 2 outputs"):
        tmlp.MLP([3, 1], head="multiclass")
    model = tmlp.MLP([3, 4, 2])
    params = smlp.init_mlp([3, 4, 2], rng)
    with pytest.raises(ValueError, match=r"params must hold 4 arrays .*got 3"):
        tmlp.load_numpy_params(model, params[:3])
    bad_shape = r"params\[2\] \(W2\) must have shape \(2, 4\), got \(4, 2\)"
    with pytest.raises(ValueError, match=bad_shape):
        tmlp.load_numpy_params(model, [params[0], params[1], params[2].T, params[3]])
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError):
        tmlp.load_numpy_params(model, [params[0], params[1], params[2], np.zeros(3)])
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    logits = torch.zeros(5, 2)
    with pytest.raises(ValueError, match=r"y must be class labels of shape \(5,\), got y\(5, 2\)"):
        tmlp.head_loss(logits, torch.zeros(5, 2), "multiclass")
    with pytest.raises(ValueError, match=r"class labels in \[0, 1\], got values in \[0, 3\]"):
        tmlp.head_loss(logits, torch.tensor([0, 1, 3, 0, 0]), "multiclass")
    with pytest.raises(ValueError, match=r"y must have shape \(5, 2\) for the binary head"):
        tmlp.head_loss(logits, torch.zeros(5), "binary")


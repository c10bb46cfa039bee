"""Every backprop form of the notes (D3-D7) against torch autograd, central differences,
`scratch.mlp.mlp_backward` and each other; and the places where the notes contradict
themselves (docs/errata.md, section D).

Random MLPs: depth 1-4, widths 1-5, every differentiable activation, the three heads
(squared error, binary CE, categorical CE), with and without L2.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, to_numpy, to_torch
from parity_tests.test_mlp import build, mlp_cases, torch_model
from scratch import backprop as bp
from scratch import losses
from scratch import mlp as smlp
from scratch.activations import ACTIVATIONS, get_activation, sigmoid
from scratch.gradcheck import gradcheck

TORCH_OUT = {"sigmoid": torch.sigmoid, "identity": lambda t: t}


def torch_grads(model) -> list[np.ndarray]:
    return [to_numpy(p.grad) for layer in model.net if isinstance(layer, torch.nn.Linear)
            for p in (layer.weight, layer.bias)]


def one_hot_rows(y, head, k):
    """Targets as the notes hold them: one-hot rows for the multiclass head."""
    return np.eye(k)[y] if head == "multiclass" else y


def interleave(dW, db):
    return [g for pair in zip(dW, db, strict=True) for g in pair]


def thetas_to_params(thetas):
    params, _, _ = smlp.from_notes_layout(smlp.NotesLayout(list(thetas)))
    return params


# ---- D4: vectorized, examples as columns ----------------------------------------------------


@pytest.mark.catalog("D4")
@settings(max_examples=15)
@given(case=mlp_cases())
def test_vectorized_form_d4_equals_mlp_backward_and_torch_autograd(case):
    params, X, y, acts, head, _ = build(case)
    k = params[-1].shape[0]
    layout = smlp.to_notes_layout(params, X, one_hot_rows(y, head, k))
    dW, db = bp.backprop_vectorized(params[0::2], params[1::2], layout.X, layout.Y, acts, head)
    grads = interleave(dW, db)
    _, expected = smlp.loss_and_grads(params, X, y, acts, head)
    model = torch_model(params, acts, head)
    model.loss(model(to_torch(X)), torch.from_numpy(np.array(y))).backward()
    for g, e, t in zip(grads, expected, torch_grads(model), strict=True):
        assert_close(g, t)
        assert_close(g, e)


# ---- D5: per neuron, squared error through sigmoid units -------------------------------------


@pytest.mark.catalog("D5")
@settings(max_examples=8)
@given(case=mlp_cases(heads=("regression",)), output=st.sampled_from(["sigmoid", "identity"]))
def test_per_neuron_form_d5_equals_autograd_of_squared_error_through_the_output(case, output):
    params, X, Y, acts, _, _ = build(case)
    n = X.shape[0]
    grads = bp.backprop_per_neuron(params, X, Y, acts, output)
    model = torch_model(params, acts, "regression")
    out = TORCH_OUT[output](model(to_torch(X)))
    (F.mse_loss(out, to_torch(Y), reduction="sum") / n).backward()
    # mlp_backward fed with dC/dz^(L) = 2(a - y)/n * g'(z), composed from scratch.losses
    logits, cache = smlp.mlp_forward(params, X, acts)
    g, g_prime = get_activation(output)
    dlogits = losses.squared_error_grad(g(logits), Y, "mean") * g_prime(logits)
    for mine, t, e in zip(grads, torch_grads(model), smlp.mlp_backward(dlogits, cache),
                          strict=True):
        assert_close(mine, t)
        assert_close(mine, e)


@pytest.mark.catalog("D5")
def test_d5_with_the_documents_sum_from_i_equals_1_drops_the_first_example(rng):
    # 002 ends with dL/dw = 1/n sum_{i=1}^{n-1} dL_i/dw: example 0 is missing (errata D5).
    params = smlp.init_mlp([2, 3, 1], rng)
    X = rng.normal(size=(4, 2))
    Y = rng.random((4, 1))
    per_example = [bp.backprop_per_neuron(params, X[i:i + 1], Y[i:i + 1]) for i in range(4)]
    full = bp.backprop_per_neuron(params, X, Y)
    model = torch_model(params, "sigmoid", "regression")
    (F.mse_loss(torch.sigmoid(model(to_torch(X))), to_torch(Y), reduction="sum") / 4).backward()
    autograd = torch_grads(model)
    for j in range(len(params)):
        from_zero = sum(g[j] for g in per_example) / 4
        printed = sum(g[j] for g in per_example[1:]) / 4
        assert_close(from_zero, autograd[j])
        assert_close(full[j], autograd[j])
        assert not np.allclose(printed, autograd[j], rtol=1e-6, atol=1e-9)


# ---- D6: the delta form, one example ---------------------------------------------------------


def torch_example_ce(model, x, y, head):
    logits = model(to_torch(x[None, :]))
    logits.retain_grad()
    if head == "binary":  # 004's J for one example: CE summed over the K sigmoid outputs
        loss = F.binary_cross_entropy_with_logits(logits[0], to_torch(y), reduction="sum")
    else:
        loss = F.cross_entropy(logits, torch.tensor([int(np.argmax(y))]), reduction="sum")
    loss.backward()
    return logits


@pytest.mark.catalog("D6")
@settings(max_examples=12)
@given(case=mlp_cases(heads=("binary", "multiclass")))
def test_delta_form_d6_equals_autograd_for_one_example(case):
    params, X, y, acts, head, _ = build(case)
    k = params[-1].shape[0]
    x, y1 = X[0], one_hot_rows(y, head, k)[0]
    output = "sigmoid" if head == "binary" else "softmax"
    thetas = smlp.to_notes_layout(params).thetas
    step = bp.backprop_delta(thetas, x, y1, acts, output)
    L = len(thetas) + 1
    model = torch_model(params, acts, head)
    logits = torch_example_ce(model, x, y1, head)
    assert_close(step.delta[L], logits.grad[0])  # delta^(L) = a^(L) - y = dJ/dz^(L)
    grads = thetas_to_params([step.grads[l] for l in range(1, L)])
    for g, t in zip(grads, torch_grads(model), strict=True):
        assert_close(g, t)


@pytest.mark.catalog("D6")
@pytest.mark.parametrize("k", [1, 3])
def test_output_delta_a_minus_y_is_the_derivative_of_sigmoid_cross_entropy(rng, dtype, k):
    # D6's derivation (004), checked by autograd: d/dz of -sum_k [y log g(z) + (1-y) log(1-g(z))]
    z = to_torch(rng.normal(size=k).astype(dtype) * 3, requires_grad=True)
    y = rng.random(k).astype(dtype)
    a = torch.sigmoid(z)
    nll = -(to_torch(y) * torch.log(a) + (1 - to_torch(y)) * torch.log(1 - a)).sum()
    nll.backward()
    assert_close(bp.output_delta(to_numpy(a), y, "binary"), z.grad)


@pytest.mark.catalog("D6")
def test_d6_summary_slide_without_the_minus_sign_differentiates_to_y_minus_a(rng):
    # 004's last delta slide writes d/dz sum_k (y log h + (1-y) log(1-h)) = a - y, without
    # the (-1) of the slides before it. That expression's derivative is y - a (errata D6).
    z = to_torch(rng.normal(size=4), requires_grad=True)
    y = to_torch(rng.random(4))
    a = torch.sigmoid(z)
    (y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum().backward()
    assert_close(z.grad, y - a.detach())
    assert not np.allclose(to_numpy(z.grad), to_numpy(a.detach() - y))


@pytest.mark.catalog("D6")
def test_d6_theta_transpose_delta_carries_a_bias_entry_that_must_be_dropped(rng):
    # 004 writes delta^(3) = (Theta^(3))^T delta^(4) .* g'(z^(3)), g' = a^(3)(1 - a^(3)).
    params = smlp.init_mlp([3, 4, 5, 2], rng)
    thetas = smlp.to_notes_layout(params).thetas
    x, y = rng.normal(size=3), np.array([1.0, 0.0])
    step = bp.backprop_delta(thetas, x, y)
    back = thetas[2].T @ step.delta[4]
    assert back.shape == (5 + 1,) and step.delta[3].shape == (5,)  # s_3 + 1 vs s_3
    literal = back * step.a[3] * (1 - step.a[3])  # a^(3) with a_0 = 1, as the slides hold it
    assert literal[0] == 0  # the bias unit's entry vanishes only because a_0 (1 - a_0) = 0...
    literal_grad = np.outer(literal, step.a[2])
    assert literal_grad.shape != thetas[1].shape  # ...and Delta^(2) gets an extra row
    assert_close(literal_grad[1:], step.grads[2])


# ---- D7: Delta accumulation with lambda -----------------------------------------------------


@pytest.mark.catalog("D7")
@settings(max_examples=12)
@given(case=mlp_cases(heads=("binary", "multiclass")), lam=st.sampled_from([0.0, 0.25]))
def test_accumulated_form_d7_equals_autograd_of_the_cost_with_lambda_times_m(case, lam):
    params, X, y, acts, head, _ = build(case)
    m, k = X.shape[0], params[-1].shape[0]
    layout = smlp.to_notes_layout(params, X, one_hot_rows(y, head, k))
    output = "sigmoid" if head == "binary" else "softmax"
    D = bp.backprop_accumulate(layout.thetas, layout.X, layout.Y, lam, acts, output)
    grads = thetas_to_params(D)
    model = torch_model(params, acts, head)
    model.loss(model(to_torch(X)), torch.from_numpy(np.array(y)), l2=m * lam).backward()
    _, expected = smlp.loss_and_grads(params, X, y, acts, head, l2=m * lam)
    for g, t, e in zip(grads, torch_grads(model), expected, strict=True):
        assert_close(g, t)
        assert_close(g, e)


@pytest.mark.catalog("D7")
def test_d7_lambda_term_is_not_the_gradient_of_the_c4_cost_with_the_same_lambda(rng):
    # 004: C4 penalizes lambda/(2m) sum Theta^2 (gradient lambda/m Theta), but D7 adds
    # lambda Theta: D7 differentiates CE/m + lambda/2 sum Theta^2 (errata D7).
    m, lam = 5, 0.4
    params = smlp.init_mlp([3, 4, 2], rng)
    X = rng.normal(size=(m, 3))
    Y = (rng.random((m, 2)) > 0.5).astype(float)
    layout = smlp.to_notes_layout(params, X, Y)
    D = bp.backprop_accumulate(layout.thetas, layout.X, layout.Y, lam)

    def c4(lam_c4):
        def cost(thetas):
            _, a = smlp.forward_folded(thetas, layout.X, "sigmoid", "sigmoid")
            return float(losses.network_cost(a[3].T, Y, thetas, lam_c4))
        return cost

    same_lambda = gradcheck(c4(lam), layout.thetas, D)
    assert not same_lambda.ok
    assert same_lambda.worst_index[1] != 0  # the bias column agrees; the weights do not
    assert gradcheck(c4(m * lam), layout.thetas, D).ok  # C4's lambda = m x D7's lambda
    assert gradcheck(c4(lam), layout.thetas,
                     bp.backprop_accumulate(layout.thetas, layout.X, layout.Y, lam / m)).ok


# ---- D3: the slide form ---------------------------------------------------------------------


@pytest.mark.catalog("D3")
@pytest.mark.parametrize("phi", ["sigmoid", "tanh_half", "relu"])
def test_slide_form_d3_equals_autograd_of_the_network_output(rng, dtype, phi):
    d_in, d1, d2 = 4, 3, 5
    params = [p.astype(dtype) for p in smlp.init_mlp([d_in, d1, d2, 1], rng)]
    W1, b1, W2, b2, W3, b3 = params
    x = rng.normal(size=d_in).astype(dtype)
    s = bp.backprop_slide_form(x, W1, b1, W2, b2, W3[0], b3[0], phi)
    model = torch_model(params, phi, "regression")
    u1 = model.net[0](to_torch(x[None, :]))
    z1 = model.net[1](u1)
    u2 = model.net[2](z1)
    z2 = model.net[3](u2)
    for t in (u1, z1, u2, z2):
        t.retain_grad()
    y = model.net[4](z2)
    y.backward()
    assert_close(s.y, y[0, 0])
    for mine, t in ((s.dy_dz2, z2.grad[0]), (s.dy_du2, u2.grad[0]), (s.dy_dz1, z1.grad[0]),
                    (s.dy_du1, u1.grad[0])):
        assert_close(mine, t)
    mine = [s.dy_dW1, s.dy_db1, s.dy_dW2, s.dy_db2, s.dy_dw3[None, :], np.array([s.dy_db3])]
    logits, cache = smlp.mlp_forward(params, x[None, :], phi)
    via_mlp = smlp.mlp_backward(np.ones_like(logits), cache)
    for g, t, e in zip(mine, torch_grads(model), via_mlp, strict=True):
        assert_close(g, t)
        assert_close(g, e)


# ---- central finite differences, every form ------------------------------------------------


@pytest.mark.catalog("D3", "D4", "D5", "D7")
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_every_form_passes_a_central_difference_check(rng, act):
    # Six examples, one net per activation. FD is the limiting factor here (~1e-9 relative).
    params = smlp.init_mlp([3, 4, 3, 2], rng, scheme="xavier")
    params = [p + rng.normal(0, 0.1, p.shape) for p in params]
    X = rng.normal(size=(6, 3))
    Yb = rng.random((6, 2))
    labels = rng.integers(0, 2, 6)
    layout = smlp.to_notes_layout(params, X, Yb)
    thetas = layout.thetas

    def mse_sigmoid(p):  # D5's C
        logits, _ = smlp.mlp_forward(p, X, act)
        return float(losses.squared_error(sigmoid(logits), Yb, "mean"))

    assert gradcheck(mse_sigmoid, params, bp.backprop_per_neuron(params, X, Yb, act)).ok

    def ce(p):  # D4's J for the multiclass head
        logits, _ = smlp.mlp_forward(p, X, act)
        return float(losses.cross_entropy_with_logits(logits, labels))

    dW, db = bp.backprop_vectorized(params[0::2], params[1::2], layout.X,
                                    np.eye(2)[labels].T, act, "multiclass")
    assert gradcheck(ce, params, interleave(dW, db)).ok

    def c4(ths, lam=0.6):  # D6 (m = 1 column) and D7 against 004's own cost C4
        _, a = smlp.forward_folded(ths, layout.X, act, "sigmoid")
        return float(losses.network_cost(a[4].T, Yb, ths, lam))

    D = bp.backprop_accumulate(thetas, layout.X, layout.Y, 0.6 / 6, act)
    assert gradcheck(c4, thetas, D).ok
    step = bp.backprop_delta(thetas, X[0], Yb[0], act)
    single = smlp.to_notes_layout(params, X[:1], Yb[:1])

    def c4_one(ths):
        _, a = smlp.forward_folded(ths, single.X, act, "sigmoid")
        return float(losses.network_cost(a[4].T, Yb[:1], ths, 0.0))

    assert gradcheck(c4_one, thetas, [step.grads[l] for l in (1, 2, 3)]).ok

    w = params
    s = bp.backprop_slide_form(X[0], w[0], w[1], w[2], w[3], w[4][0], w[5][0], act)

    def y_out(p):  # D3 differentiates y itself; a one-output head on the first logit
        return float(smlp.mlp_forward(p, X[:1], act)[0][0, 0])

    slide = [s.dy_dW1, s.dy_db1, s.dy_dW2, s.dy_db2,
             np.vstack([s.dy_dw3, np.zeros_like(s.dy_dw3)]), np.array([1.0, 0.0])]
    assert gradcheck(y_out, params, slide).ok


# ---- all forms together, and in float32 --------------------------------------------------


@pytest.mark.catalog("D4")
def test_all_forms_agree_with_each_other_on_the_notes_sigmoid_network(rng):
    m = 5
    params = smlp.init_mlp([3, 4, 2], rng)
    X = rng.normal(size=(m, 3))
    Y = (rng.random((m, 2)) > 0.5).astype(float)
    layout = smlp.to_notes_layout(params, X, Y)
    d4 = interleave(*bp.backprop_vectorized(params[0::2], params[1::2], layout.X, layout.Y))
    d7 = thetas_to_params(bp.backprop_accumulate(layout.thetas, layout.X, layout.Y))
    steps = [bp.backprop_delta(layout.thetas, X[i], Y[i]) for i in range(m)]
    d6 = thetas_to_params([sum(s.grads[l] for s in steps) / m for l in (1, 2)])
    _, mlp = smlp.loss_and_grads(params, X, Y, "sigmoid", "binary")
    for a, b, c, d in zip(d4, d7, d6, mlp, strict=True):
        assert_close(a, d)
        assert_close(b, d)
        assert_close(c, d)
    # D5 with an identity output is the regression head (squared error summed over outputs).
    d5 = bp.backprop_per_neuron(params, X, Y, "sigmoid", "identity")
    d4r = interleave(*bp.backprop_vectorized(params[0::2], params[1::2], layout.X, layout.Y,
                                             "sigmoid", "regression"))
    _, mlp_r = smlp.loss_and_grads(params, X, Y, "sigmoid", "regression")
    for a, b, c in zip(d5, d4r, mlp_r, strict=True):
        assert_close(a, c)
        assert_close(b, c)


@pytest.mark.catalog("D4")
@pytest.mark.parametrize("form", ["d4", "d5", "d7"])
def test_forms_in_float32_match_torch_float32_with_the_default_tolerance(rng, form):
    params = smlp.init_mlp([3, 4, 2], rng, dtype=np.float32)
    X = rng.normal(size=(4, 3)).astype(np.float32)
    Y = (rng.random((4, 2)) > 0.5).astype(np.float32)
    layout = smlp.to_notes_layout(params, X, Y)
    model = torch_model(params, "tanh", "binary")
    if form == "d5":
        grads = bp.backprop_per_neuron(params, X, Y, "tanh")
        out = torch.sigmoid(model(to_torch(X)))
        (F.mse_loss(out, to_torch(Y), reduction="sum") / 4).backward()
    elif form == "d4":
        grads = interleave(*bp.backprop_vectorized(params[0::2], params[1::2], layout.X,
                                                   layout.Y, "tanh"))
        model.loss(model(to_torch(X)), to_torch(Y)).backward()
    else:
        grads = thetas_to_params(bp.backprop_accumulate(layout.thetas, layout.X, layout.Y,
                                                        0.1, "tanh"))
        model.loss(model(to_torch(X)), to_torch(Y), l2=4 * 0.1).backward()
    for g, t in zip(grads, torch_grads(model), strict=True):
        assert g.dtype == np.float32
        assert_close(g, t, dtype=np.float32)


# ---- bad input -----------------------------------------------------------------------------


def test_backprop_forms_reject_bad_input_with_clear_errors(rng):
    params = smlp.init_mlp([3, 4, 2], rng)
    thetas = smlp.to_notes_layout(params).thetas
    with pytest.raises(ValueError, match=r"a_L and y must have the same shape"):
        bp.output_delta(np.zeros(2), np.zeros(3), "binary")
    with pytest.raises(ValueError, match="unknown output 'identity'; valid choices: 'sigmoid'"):
        bp.backprop_delta(thetas, np.zeros(3), np.zeros(2), output="identity")
    with pytest.raises(ValueError, match=r"y must have shape \(2,\), got y\(3,\)"):
        bp.backprop_delta(thetas, np.zeros(3), np.zeros(3))
    bad_theta = r"Theta\^\(1\) must have 3 columns \(s_1 \+ 1, bias included\), got shape \(4, 4\)"
    with pytest.raises(ValueError, match=bad_theta):
        bp.backprop_delta(thetas, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"lam must be in \[0, inf\), got -0.1"):
        bp.backprop_accumulate(thetas, np.zeros((3, 4)), np.zeros((2, 4)), lam=-0.1)
    with pytest.raises(ValueError, match="same number of columns"):
        bp.backprop_accumulate(thetas, np.zeros((3, 4)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"Y must have shape \(5, 2\), got Y\(5, 3\)"):
        bp.backprop_per_neuron(params, np.zeros((5, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"W2 must have shape \(5, 3\), got W2\(5, 4\)"):
        bp.backprop_slide_form(np.zeros(2), np.zeros((3, 2)), np.zeros(3), np.zeros((5, 4)),
                               np.zeros(5), np.zeros(5), 0.0)
    with pytest.raises(ValueError, match="unknown head 'softmax'"):
        bp.backprop_vectorized(params[0::2], params[1::2], np.zeros((3, 2)), np.zeros((2, 2)),
                               "relu", "softmax")
    with pytest.raises(ValueError, match=r"X must have 3 rows \(features; examples are columns\)"):
        bp.backprop_vectorized(params[0::2], params[1::2], np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Y must have shape \(2, 4\) \(outputs x examples\)"):
        bp.backprop_vectorized(params[0::2], params[1::2], np.zeros((3, 4)), np.zeros((4, 2)))

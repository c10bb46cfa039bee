"""The notes' claims, measured (catalog B3, B7, C11, D11, D12, I5): `scratch.demonstrations`
vs `torchref.demonstrations`.

Each claim is checked in both rooms. Where the two compute the same thing (least-squares fits,
gradients, Hessians, local minima) they are compared to a stated tolerance; where they cannot
agree bit for bit (two L-BFGS implementations train two different networks on two samples)
each is held to the claim on its own, and the linear-separability verdicts come from
`scratch.classic.linear_separability`, whose answers carry their own certificates.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from parity_tests.helpers import assert_close, to_numpy, to_torch
from scratch import classic as sc
from scratch import demonstrations as sd
from scratch.autoencoders import AEConfig, init_autoencoder, train_autoencoder
from scratch.mlp import init_mlp, mlp_forward
from scratch.optim import adam_update
from torchref import classic as tc
from torchref import demonstrations as td
from torchref.activations import Step
from torchref.mlp import MLP, load_numpy_params

# ---- B3: universal approximation -------------------------------------------------------------

WIDTHS = (2, 4, 8, 16, 32, 64)


@pytest.mark.catalog("B3")
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_sup_norm_error_falls_as_the_hidden_layer_widens(activation):
    errors = [r.sup_error for r in sd.universal_approximation(WIDTHS, activation=activation)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))  # strictly falling
    assert errors[0] > 0.1  # two units cannot follow a sine
    assert errors[-1] < 0.005  # eps = 0.005 reached by width 64


@pytest.mark.catalog("B3")
def test_any_continuous_function_not_only_the_default_one():
    def tent(x):
        return 1 - np.abs(2 * x - 1) ** 0.5  # continuous, infinite slope at 1/2

    errors = [r.sup_error for r in sd.universal_approximation((4, 16, 64, 256), tent)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 0.05


@pytest.mark.catalog("B3")
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_scratch_and_torch_fit_the_same_networks(activation):
    ours = sd.universal_approximation(WIDTHS, activation=activation)
    theirs = td.universal_approximation(WIDTHS, activation=activation)
    x = np.linspace(0, 1, 501)[:, None]
    for a, b in zip(ours, theirs, strict=True):
        with torch.no_grad():
            fb = to_numpy(b.model(to_torch(x)))
        fa, _ = mlp_forward(a.params, x, activation)
        # Two least-squares solvers (NumPy's gelsd, torch's gelsd) on the same design
        # matrix agree to its conditioning, not to the last bit.
        assert_close(fb, fa, rtol=1e-8, atol=1e-9)
        assert b.sup_error == pytest.approx(a.sup_error, rel=1e-6, abs=1e-9)


@pytest.mark.catalog("B3")
def test_the_fitted_network_has_the_theorems_form_w2_phi_w1x_b1_plus_b2():
    (res,) = sd.universal_approximation((8,))
    W1, b1, W2, b2 = res.params
    x = np.linspace(0, 1, 11)
    by_hand = np.array([W2[0] @ np.maximum(0, W1[:, 0] * v + b1) + b2[0] for v in x])
    model = load_numpy_params(MLP([1, 8, 1], activation="relu", head="regression"), res.params)
    with torch.no_grad():
        assert_close(to_numpy(model(to_torch(x[:, None])))[:, 0], by_hand)


def test_universal_approximation_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match=r"unknown activation 'tanh'; valid choices: 'relu'"):
        sd.universal_approximation((2,), activation="tanh")
    with pytest.raises(ValueError, match=r"width must be an integer >= 1, got 0"):
        sd.hidden_layer_for_width(0)
    with pytest.raises(ValueError, match=r"unknown activation 'tanh'; valid choices: 'relu'"):
        td.universal_approximation((2,), activation="tanh")


# ---- B7: representation learning on the circle set -------------------------------------------


@pytest.fixture(scope="module")
def one_thread():
    # 2000 x 64 matrices: extra BLAS/torch threads only add synchronization cost on a shared
    # machine (measured: 10-20x slower under load). Restored afterwards.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def scratch_circle(one_thread):
    return sd.circle_demo(seed=0)


@pytest.fixture(scope="module")
def torch_circle(one_thread):
    return td.circle_demo(seed=0)


@pytest.mark.catalog("B7")
def test_circle_labels_follow_the_notes_rule_on_and_off_the_two_circles():
    # r^2 = 0, 2.96, 3.25, 8 (exactly, on the closed outer circle), 8 + a little, 9.
    X = np.array([[0.0, 0.0], [1.0, 1.4], [1.0, 1.5], [2.0, 2.0], [2.0, 2.0000001], [3.0, 0.0]])
    np.testing.assert_array_equal(sd.circle_labels(X), [0, 0, 1, 1, 0, 0])
    with pytest.raises(ValueError, match=r"X must have 2 columns"):
        sd.circle_labels(np.zeros((3, 3)))


@pytest.mark.catalog("B7")
def test_logistic_regression_learns_nothing_on_the_circle_set_scratch(scratch_circle):
    r = scratch_circle
    # No line helps: the best logistic regression predicts the majority class ...
    assert abs(r.logreg_test_accuracy - r.majority_rate) <= 0.01
    # ... and its cross-entropy stays at the label prior's entropy.
    assert r.logreg_train_loss >= r.label_entropy - 0.01
    assert not r.inputs_separable


@pytest.mark.catalog("B7")
def test_one_hidden_layer_exceeds_97_percent_and_its_representation_is_separable_scratch(
    scratch_circle,
):
    r = scratch_circle
    assert r.mlp_train_accuracy == 1.0
    assert r.mlp_test_accuracy > 0.97
    assert r.hidden_separable
    # The separator of the hidden representation, checked independently of the LP's verdict.
    res = sc.linear_separability(r.hidden, r.y_train)
    s = 2 * r.y_train - 1
    assert (s * (r.hidden @ res.w + res.b)).min() >= 1 - 1e-6


@pytest.mark.catalog("B7")
def test_the_same_claims_hold_for_the_torch_networks(torch_circle):
    r = torch_circle
    assert abs(r.logreg_test_accuracy - r.majority_rate) <= 0.01
    assert r.logreg_train_loss >= r.label_entropy - 0.01
    assert r.mlp_train_accuracy == 1.0
    assert r.mlp_test_accuracy > 0.97
    X, y = to_numpy(r.X_train), to_numpy(r.y_train)
    inputs = sc.linear_separability(X, y)
    assert not inputs.separable
    # The certificate: the two classes' convex hulls meet (the ring surrounds the disc).
    A = (2 * y - 1)[:, None] * np.hstack([X, np.ones((len(X), 1))])
    np.testing.assert_allclose(inputs.certificate @ A, 0, atol=1e-8)
    assert sc.linear_separability(to_numpy(r.hidden), y, certificate=False).separable


@pytest.mark.catalog("B7")
def test_torch_data_labels_agree_with_the_scratch_rule(torch_circle):
    X = to_numpy(torch_circle.X_train)
    np.testing.assert_array_equal(to_numpy(torch_circle.y_train), sd.circle_labels(X))


# ---- C11: non-convexity of MSE through a sigmoid ---------------------------------------------


@pytest.mark.catalog("C11")
def test_mse_through_a_sigmoid_has_two_local_minima_ce_has_one_in_both_rooms():
    ours = sd.nonconvexity_demo()
    theirs = td.nonconvexity_demo()
    assert len(ours["mse_minima"]) == 2 and len(ours["ce_minima"]) == 1
    for key in ("mse_minima", "ce_minima"):
        assert len(theirs[key]) == len(ours[key])
        for (wa, la), (wb, lb) in zip(ours[key], theirs[key], strict=True):
            # Brent on values (scratch) vs bisection on autograd's derivative (torch): a
            # minimum's location is known to sqrt(eps) from values, so 1e-5 on w.
            assert wb == pytest.approx(wa, abs=1e-5)
            assert lb == pytest.approx(la, rel=1e-9)
    (w1, l1), (w2, l2) = ours["mse_minima"]
    assert w2 - w1 > 3 and abs(l1 - l2) > 0.1  # two distinct minima, one worse than the other
    wb, lb = ours["barrier"]
    assert w1 < wb < w2 and lb > max(l1, l2)  # a hill between them
    assert ours["mse_min_curvature"] < 0 and theirs["mse_min_curvature"] < 0
    assert ours["ce_min_curvature"] >= 0 and theirs["ce_min_curvature"] >= 0


@pytest.mark.catalog("C11")
def test_gradient_descent_gets_stuck_in_the_worse_mse_minimums_basin():
    # Plain GD (torch.optim.SGD, lr 1, 300 steps) started left of the hill stays left of it,
    # at a loss well above the global minimum's; started at 0 it finds the global minimum.
    # On CE it finds the one minimum from either side.
    def run(loss, w0):
        w = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=1.0)
        for _ in range(300):
            opt.zero_grad()
            loss(w, td.C11_X, td.C11_T).backward()
            opt.step()
        return float(w.detach()[0])

    demo = sd.nonconvexity_demo()
    (_, l_bad), (w_good, l_good) = demo["mse_minima"]
    w_hill, _ = demo["barrier"]
    w_stuck = run(td.mse_sigmoid_loss, -3.0)
    assert w_stuck < w_hill
    assert sd.mse_sigmoid_loss([w_stuck], sd.C11_X, sd.C11_T) > l_good + 0.1
    assert run(td.mse_sigmoid_loss, 0.0) == pytest.approx(w_good, abs=1e-6)
    ((w_ce, _),) = demo["ce_minima"]
    for start in (-3.0, 2.0):
        assert run(td.ce_sigmoid_loss, start) == pytest.approx(w_ce, abs=1e-6)


@pytest.mark.catalog("C11")
@pytest.mark.parametrize("which", ["mse", "ce"])
def test_scratch_hessians_match_autograd(which, rng, dtype):
    m, d = 7, 3
    X = np.hstack([np.ones((m, 1)), rng.normal(size=(m, d - 1))]).astype(dtype)
    t = rng.uniform(0, 1, m).astype(dtype)
    w = rng.normal(size=d).astype(dtype)
    ours = {"mse": sd.mse_sigmoid_hessian, "ce": sd.ce_sigmoid_hessian}[which](w, X, t)
    loss = {"mse": td.mse_sigmoid_loss, "ce": td.ce_sigmoid_loss}[which]
    theirs = td.loss_hessian(loss, to_torch(w), to_torch(X), to_torch(t))
    # float32: second derivatives go through two backward passes of a sigmoid; 1e-5 relative
    # on entries that can be ~1e-3 needs a larger absolute floor.
    atol = 1e-12 if dtype == np.float64 else 1e-5
    assert_close(ours, theirs, atol=atol)


@pytest.mark.catalog("C11")
@settings(max_examples=30)
@given(seed=st.integers(0, 2**31))
def test_ce_hessian_is_positive_semidefinite_at_every_sampled_point(seed):
    g = np.random.default_rng(seed)
    X = np.hstack([np.ones((6, 1)), g.normal(size=(6, 2))])
    t = g.integers(0, 2, 6).astype(np.float64)
    w = g.normal(size=3) * 3
    assert np.linalg.eigvalsh(sd.ce_sigmoid_hessian(w, X, t)).min() >= -1e-12
    theirs = td.loss_hessian(td.ce_sigmoid_loss, to_torch(w), to_torch(X), to_torch(t))
    assert torch.linalg.eigvalsh(theirs).min() >= -1e-12


@pytest.mark.catalog("C11")
def test_mse_hessian_is_indefinite_somewhere_with_0_1_targets(rng):
    # With classification targets (0/1) and a bias, an indefinite MSE Hessian turns up
    # among a few hundred random weights: MSE is not convex even in the usual setting.
    X = np.hstack([np.ones((6, 1)), rng.normal(size=(6, 1))])
    t = np.array([0.0, 1, 0, 1, 1, 0])
    found = None
    for w in rng.normal(size=(300, 2)) * 4:
        if np.linalg.eigvalsh(sd.mse_sigmoid_hessian(w, X, t)).min() < -1e-6:
            found = w
            break
    assert found is not None
    theirs = td.loss_hessian(td.mse_sigmoid_loss, to_torch(found), to_torch(X), to_torch(t))
    assert torch.linalg.eigvalsh(theirs).min() < 0


@pytest.mark.catalog("C11")
@settings(max_examples=30)
@given(a=st.floats(-8, 8), b=st.floats(-8, 8), theta=st.floats(0, 1))
def test_ce_satisfies_the_convexity_inequality_mse_breaks_it(a, b, theta):
    X, t = sd.C11_X, sd.C11_T
    mid = theta * a + (1 - theta) * b
    ce = [sd.ce_sigmoid_loss([v], X, t) for v in (mid, a, b)]
    assert ce[0] <= theta * ce[1] + (1 - theta) * ce[2] + 1e-12


@pytest.mark.catalog("C11")
def test_mse_breaks_the_convexity_inequality_between_its_two_minima():
    (w1, l1), (w2, l2) = sd.nonconvexity_demo()["mse_minima"]
    mid = sd.mse_sigmoid_loss([(w1 + w2) / 2], sd.C11_X, sd.C11_T)
    assert mid > (l1 + l2) / 2


# ---- D11 / D12: vanishing gradients and the update rules -------------------------------------


@pytest.mark.catalog("D11", "D12")
def test_003_gradient_formulas_match_autograd(rng, dtype):
    m = 9
    X = np.hstack([np.ones((m, 1)), rng.normal(size=(m, 2))]).astype(dtype)
    t = rng.integers(0, 2, m).astype(dtype)
    w = rng.normal(size=3).astype(dtype)
    for ours, loss in (
        (sd.mse_sigmoid_grad(w, X, t), td.mse_sigmoid_loss),
        (sd.ce_sigmoid_grad(w, X, t), td.ce_sigmoid_loss),
    ):
        wt = to_torch(w, requires_grad=True)
        loss(wt, to_torch(X), to_torch(t)).backward()
        assert ours.dtype == dtype
        assert_close(ours, wt.grad)


@pytest.mark.catalog("D11")
def test_saturated_sigmoid_mse_gradient_vanishes_while_ce_stays_near_one():
    z = np.array([-20.0, -10.0, -5.0, 0.0])
    ours = sd.saturation_gradients(z, t=1.0)  # the unit is wrong: y ~ 0, t = 1
    theirs = td.saturation_gradients(torch.tensor(z), t=1.0)
    assert_close(ours["mse"], theirs["mse"])
    assert_close(ours["ce"], theirs["ce"])
    assert ours["mse"][1] < 1e-4 and ours["mse"][0] < 1e-8  # vanishes (D11)
    assert ours["ce"][1] > 0.9999 and ours["ce"][0] > 0.9999  # does not (D12)
    # The ratio is exactly the factor y(1 - y) that CE cancels.
    y = 1 / (1 + np.exp(-z))
    assert_close(ours["mse"] / ours["ce"], y * (1 - y))


UNIT_CASES = [(u, l) for u in ("sigmoid", "relu", "tanh") for l in ("mse", "ce")]


@pytest.mark.catalog("D12")
@pytest.mark.parametrize(("unit", "loss"), UNIT_CASES)
def test_unit_update_rules_match_autograd(unit, loss, rng, dtype):
    m = 8
    X = np.hstack([np.ones((m, 1)), rng.uniform(-1, 1, size=(m, 2))]).astype(dtype)
    t = rng.integers(0, 2, m).astype(dtype)
    w = (rng.normal(size=3) * 0.3).astype(dtype)
    if unit == "relu" and loss == "ce":
        w = np.array([0.2, 0.15, -0.1], dtype=dtype)  # keeps 0 < z < 1 where active
    ours = sd.unit_grad(unit, loss, w, X, t)
    theirs = td.unit_grad(unit, loss, to_torch(w), to_torch(X), to_torch(t))
    assert_close(ours, theirs, **({"atol": 1e-5} if dtype == np.float32 else {}))


@pytest.mark.catalog("D12")
def test_relu_cross_entropy_needs_outputs_inside_0_1():
    X = np.ones((1, 1))
    with pytest.raises(ValueError, match=r"cross-entropy of a ReLU unit needs 0 < y < 1"):
        sd.unit_grad("relu", "ce", [2.0], X, [1.0])
    with pytest.raises(ValueError, match=r"unknown unit 'elu'; valid choices"):
        sd.unit_grad("elu", "mse", [1.0], X, [1.0])
    with pytest.raises(ValueError, match=r"unknown unit 'elu'; valid choices"):
        td.unit_grad("elu", "mse", torch.ones(1), torch.ones(1, 1), torch.ones(1))
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; valid choices: 'mse', 'ce'"):
        sd.unit_grad("relu", "hinge", [1.0], X, [1.0])
    with pytest.raises(ValueError, match=r"X \(m, d\), w \(d,\) and t \(m,\) do not agree"):
        sd.unit_grad("relu", "mse", [1.0, 2.0], X, [1.0])


@pytest.mark.catalog("D12")
def test_the_documents_relu_update_rule_is_not_the_relu_units_gradient():
    # 003's ReLU slide derives dC/dw = (y - t)/(y(1 - y)) x for z > 0, then writes the sigmoid
    # + MSE rule `lambda/m sum (t - y) y (1 - y) x`. Neither loss's autograd agrees with it.
    X = np.array([[1.0, 0.5], [1.0, -0.2], [1.0, 0.9]])
    t = np.array([1.0, 0.0, 1.0])
    w = np.array([0.3, 0.4])  # z in (0, 1) on every example
    doc = sd.doc_relu_update(w, X, t, lr=1.0)
    for loss in ("mse", "ce"):
        true = -to_numpy(td.unit_grad("relu", loss, to_torch(w), to_torch(X), to_torch(t)))
        assert np.abs(doc - true).min() > 0.1  # every component
        assert_close(-sd.unit_grad("relu", loss, w, X, t), true)


# ---- I5: one-hot vs compact codes ------------------------------------------------------------


@pytest.mark.catalog("I5")
def test_one_hot_code_is_separable_under_all_256_labelings():
    res = sd.code_separability(sd.one_hot_codes(8))
    assert res["count"] == 256 == len(res["labelings"])
    layer, labelings = td.one_hot_separators(8)
    np.testing.assert_array_equal(to_numpy(labelings), res["labelings"])
    out = Step()(layer(torch.eye(8, dtype=torch.float64)))  # (8, 256): one BTU per labeling
    np.testing.assert_array_equal(to_numpy(out).T, res["labelings"])


@pytest.mark.catalog("I5")
def test_three_bit_code_of_8_objects_separates_only_104_labelings_and_parity_fails():
    codes = sd.binary_codes(8)
    res = sd.code_separability(codes)
    assert res["count"] == 104  # the threshold functions of 3 variables (OEIS A000609)
    parity = codes.sum(axis=1) % 2  # XOR of the 3 bits
    two_bit_xor = (codes[:, 1] != codes[:, 2]).astype(np.float64)
    for labels in (parity, two_bit_xor):
        k = int("".join(str(int(v)) for v in labels), 2)
        assert not res["separable"][k]
        cert = sc.linear_separability(codes, labels)
        assert not cert.separable and cert.certificate.min() >= 0
    # The torch perceptron agrees: it learns the most significant bit, never the parity.
    Xb = to_torch(sc.add_bias_input(codes))
    w0 = torch.zeros(4, dtype=torch.float64)
    assert tc.perceptron_train(Xb, to_torch(codes[:, 0]), w0, 1.0, 30).converged
    assert not tc.perceptron_train(Xb, to_torch(parity), w0, 1.0, 30).converged


@pytest.mark.catalog("I5")
@pytest.mark.parametrize("n", [2, 3, 5, 8, 9, 16])
def test_the_compact_code_needs_only_ceil_log2_n_units(n):
    codes = sd.binary_codes(n)
    assert codes.shape == (n, int(np.ceil(np.log2(n))))
    assert len({tuple(c) for c in codes}) == n  # distinct codes
    assert sd.one_hot_codes(n).shape == (n, n)



# ==== The notes' remaining claims (docs/demonstrations.md, second part) =======================
# Each test holds a measured number to the claim with a bound derived independently (closed
# forms, hand arithmetic, a theorem), and compares the torch run with the scratch run where
# both draw the same randomness.


# ---- B9 / B10: without hidden activations, no more than logistic regression (001) -----------


@pytest.mark.catalog("B9", "B10")
def test_a_network_without_hidden_activations_reaches_exactly_logistic_regressions_optimum():
    r = sd.linear_network_vs_logistic_regression()
    # The same convex optimum, reached through a different (non-convex) parametrization.
    assert r["linear_net_loss"] == pytest.approx(r["logreg_loss"], rel=1e-7)
    (w_lr, b_lr), (w_net, b_net) = r["logreg"], r["collapsed"]
    assert_close(w_net, w_lr, rtol=1e-4, atol=1e-5)
    assert_close(b_net, b_lr, rtol=1e-4, atol=1e-5)
    # Before the output's sigmoid the network is affine: its values are not probabilities.
    lo, hi = r["affine_range"]
    assert lo < 0 and hi > 1


# ---- B12: deep = a path through more than one hidden unit = more than one hidden layer -------


@pytest.mark.catalog("B12")
@pytest.mark.parametrize("sizes", [[2, 1], [2, 3, 1], [2, 3, 3, 1], [4, 2, 5, 3, 2]])
def test_hidden_path_depth_of_a_layered_network_is_its_number_of_hidden_layers(sizes, rng):
    params = init_mlp(sizes, rng)
    inputs = [(0, i) for i in range(sizes[0])]
    outputs = [(len(sizes) - 1, j) for j in range(sizes[-1])]
    depth = sd.hidden_path_depth(sc.connection_graph(params[::2]), inputs, outputs)
    assert depth == len(sizes) - 2
    model = load_numpy_params(MLP(sizes, head="regression").double(), params)
    assert sd.hidden_path_depth(tc.connection_graph(model), inputs, outputs) == depth
    assert td.hidden_layers(model) == depth  # 002's count of layers, read off the module
    # 000 calls it deep iff some path crosses more than one hidden unit; 002 iff more than one
    # hidden layer: the same verdict on every layered network.
    assert (depth > 1) == (len(sizes) - 2 > 1)


@pytest.mark.catalog("B12")
def test_a_skip_connection_does_not_make_a_one_hidden_unit_network_deep():
    # 003's IFF with one hidden unit and direct input -> output connections (E7).
    edges = [("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y"), ("x2", "y")]
    assert sd.hidden_path_depth(edges, ["x1", "x2"], ["y"]) == 1
    # Two hidden units in series, whatever one calls their "layers", are deep by 000's rule.
    assert sd.hidden_path_depth(edges + [("h", "g"), ("g", "y")], ["x1", "x2"], ["y"]) == 2
    with pytest.raises(ValueError, match="must form a DAG"):
        sd.hidden_path_depth([("a", "b"), ("b", "a")], ["a"], ["b"])


# ---- F8: mini-batches (002 §4.3.4) -----------------------------------------------------------


@pytest.mark.catalog("F8")
def test_minibatch_gradient_variance_falls_like_one_over_s_with_the_finite_population_factor():
    X, t = sd.regression_data()
    rows = sd.minibatch_gradient_noise(X, t, np.zeros(5), (1, 4, 16, 64, 256), 3000,
                                       np.random.default_rng(1))
    T = rows[0][2]  # the per-example variance (S = 1)
    for S, measured, predicted in rows:
        assert predicted == pytest.approx(T / S * (256 - S) / 255)
        if S < 256:
            assert measured == pytest.approx(predicted, rel=0.15)  # 3000 draws
        else:
            assert measured < 1e-20  # the whole set is the batch
    assert rows[0][1] > 50 * rows[3][1]  # one example: ~80x the variance of 64


@pytest.mark.catalog("F8")
def test_minibatch_sgd_lands_near_the_batch_solution_and_matches_a_torch_dataloader():
    X, t = sd.regression_data()
    batches = sd.minibatch_schedule(len(t), 16, 2, seed=3)
    ours = sd.minibatch_sgd(X, t, batches, lr=0.05)
    theirs = td.minibatch_sgd(X, t, batches, lr=0.05)
    assert_close(to_numpy(theirs), ours)
    dist = {S: d for S, _, d in sd.minibatch_distance((1, 16, 256), epochs=8, seeds=1)}
    assert dist[16] < 0.05 < dist[1]  # a mini-batch hovers 10x closer than single examples
    assert dist[256] > dist[16]  # 8 epochs are only 8 steps of batch GD


# ---- F14: Adam's two drawbacks (002 §4.3.5) ---------------------------------------------------


@pytest.mark.catalog("F14")
def test_adams_first_step_moves_every_coordinate_by_the_full_rate_whatever_its_gradient():
    g = np.array([1e-6, -3e-3, 0.5, -40.0, 1e3])
    w, _, _ = adam_update(np.zeros(5), g, np.zeros(5), np.zeros(5), 1, lr=1e-3,
                             beta1=0.999, beta2=0.9, eps0=1e-30)
    assert_close(w, -1e-3 * np.sign(g), rtol=1e-9)  # m_hat_1 = g, alpha_hat_1 = g^2
    path = td.adam_steps(torch.tensor(g)[None, :], lr=1e-3, eps=1e-30)
    assert_close(to_numpy(path[1]), w, rtol=1e-9)


@pytest.mark.catalog("F14")
def test_adams_relative_step_on_pure_noise_starts_at_one_and_settles_near_0_18():
    rel = sd.adam_relative_steps(steps=100, runs=4000, seed=0)
    assert rel[0] == pytest.approx(1.0)
    assert np.all(np.diff(rel[:10]) < 0)
    # Steady state: m_hat ~ N(0, (1 - b)/(1 + b)) for b = 0.9, alpha_hat ~ 1, so
    # E|step| / eps ~ sqrt(0.1/1.9) sqrt(2/pi) = 0.183.
    assert rel[-1] == pytest.approx(np.sqrt(0.1 / 1.9) * np.sqrt(2 / np.pi), rel=0.1)
    # torch's Adam, fed the same gradients, takes the same steps.
    noise = np.random.default_rng(0).standard_normal((20, 50))
    path = to_numpy(td.adam_steps(torch.tensor(noise), eps=1e-16))
    w, m, a, ours = np.zeros(50), np.zeros(50), np.zeros(50), [np.zeros(50)]
    for i, gi in enumerate(noise, start=1):
        w, m, a = adam_update(w, gi, m, a, i, lr=1e-3, beta1=0.999, beta2=0.9, eps0=1e-16)
        ours.append(w)
    assert_close(path, np.stack(ours), rtol=1e-9, atol=1e-15)


@pytest.mark.catalog("F14")
def test_adam_fits_the_training_set_like_sgd_with_momentum_but_generalizes_worse():
    rng = np.random.default_rng(0)
    X, y, Xt, yt = sd.adaptive_overfit_data(20, 0.7, rng, n_test=2000)
    r = sd.adaptive_generalization(steps=1000)
    theirs = td.adaptive_generalization(X, y, Xt, yt, steps=1000)
    for res in (r, theirs):
        for name in ("sgd_momentum", "adam"):
            assert res[name]["train_accuracy"] == 1.0 and res[name]["train_mse"] < 1e-6
        assert res["sgd_momentum"]["test_accuracy"] == 1.0
        # Adam predicts +1 for every test point: its accuracy is the share of positives.
        assert res["adam"]["test_accuracy"] == pytest.approx(float(np.mean(yt > 0)))
        assert res["adam"]["test_accuracy"] < 0.75


# ---- H3: dropout converges more slowly (002 §4.4.3) -------------------------------------------


@pytest.mark.catalog("H3")
def test_dropout_needs_several_times_more_steps_to_fit_the_training_set():
    plain, dropped = sd.steps_to_fit(0.0, lr=0.3), sd.steps_to_fit(0.5, lr=0.3)
    assert plain is not None and dropped is not None and dropped > 3 * plain
    X, y = sd.circle_dataset(np.random.default_rng(0), 200)
    params = init_mlp([2, 64, 1], np.random.default_rng(100))
    model = load_numpy_params(MLP([2, 64, 1], head="binary").double(), params)
    assert td.steps_to_fit(model, X, y, lr=0.3) == plain  # no dropout: the same run
    model = MLP([2, 64, 1], head="binary", dropout=0.5).double()
    load_numpy_params(model, params)
    assert td.steps_to_fit(model, X, y, lr=0.3) > 3 * plain  # torch's own masks, same verdict


# ---- A12 / A5: the cost of exp and of ReLU (002 §4.1.2) ---------------------------------------


@pytest.mark.catalog("A12", "A5")
def test_activation_costs_times_every_kernel_and_reports_ratios_to_relu():
    # Speed itself lives in docs/demonstrations.md (a measured ratio), never in an assertion.
    r = sd.activation_costs(n=1000, repeats=3)
    assert set(r["seconds"]) == set(r["vs_relu"]) and len(r["seconds"]) == 8
    assert all(np.isfinite(v) and v > 0 for v in r["seconds"].values())
    assert r["vs_relu"]["np.maximum(z, 0)"] == 1.0


# ---- F22: SGD's jitter and local minima (003) -------------------------------------------------


@pytest.mark.catalog("F22")
def test_sgd_jitter_escapes_a_low_barrier_but_not_a_high_one_while_gd_never_leaves():
    low, high = sd.sgd_escape(h=1.0), sd.sgd_escape(h=3.0)
    for r in (low, high):
        assert r["gd_final"] == pytest.approx(r["local"][0], abs=1e-8)  # GD stays put
        assert r["global"][1] < r["local"][1]  # the left well is the deeper one
    assert low["temperature"] == high["temperature"] == pytest.approx(0.05 * 16 / 2)
    assert low["barrier_height"] < 2 * low["temperature"] < high["barrier_height"] / 3
    assert low["fraction_global"] > 0.6  # most runs cross and stay in the deeper well
    assert high["fraction_global"] == 0.0  # none crosses a barrier ~7 T high
    cold = sd.sgd_escape(h=1.0, sigma=2.0)  # T = 0.1, barrier 7 T: (almost) no escape
    assert cold["fraction_global"] < 0.02
    theirs = td.sgd_escape(low["local"][0], sd.escape_examples(4.0), low["indices"], lr=0.05)
    assert_close(to_numpy(theirs), low["final"], rtol=1e-9, atol=1e-9)


# ---- I4: one hidden layer gets stuck less (003) -----------------------------------------------


@pytest.mark.catalog("I4")
def test_one_hidden_layer_autoencoder_learns_while_the_deep_one_stays_on_the_mean_plateau():
    r = sd.autoencoder_depth_demo(steps=600)
    assert r["linear_shallow"] == pytest.approx(r["pca"], rel=0.01)  # no bad local minima
    assert r["sigmoid_shallow"] < r["plateau"] / 2
    assert r["deep"] == pytest.approx(r["plateau"], rel=1e-4)  # predicts the mean
    assert r["deep_grad_norm"] < 1e-3


@pytest.mark.catalog("I4")
def test_the_linear_autoencoders_pca_optimum_in_scratch_and_torch():
    X = sd.autoencoder_data()
    cfg = AEConfig((6, 2, 6), activation="identity", output_activation="identity", loss="mse")
    params = init_autoencoder(cfg, np.random.default_rng(0))
    _, hist = train_autoencoder(params, X, cfg, lr=0.2, steps=150)
    _, theirs = td.train_autoencoder_gd(params, X, (6, 2, 6), "identity", lr=0.2, steps=150)
    assert_close(to_numpy(theirs), np.asarray(hist), rtol=1e-9)
    # The best rank-2 loss: the 4 smallest eigenvalues of the (biased) covariance.
    ev = np.linalg.eigvalsh(np.cov(X.T, bias=True))  # ascending
    assert sd.pca_loss(X, 2) == pytest.approx(ev[:4].sum())


# ---- E11, E12, E13: 003's biology questions -----------------------------------------------------


@pytest.mark.catalog("E11")
def test_stdp_b_firing_before_a_weakens_synapse_a_and_strengthens_synapse_b():
    dt = np.array([-40.0, -5.0, 0.0, 5.0, 40.0])
    w = sd.stdp_window(dt)
    assert_close(w, [-np.exp(-2), -np.exp(-0.25), 0.0, np.exp(-0.25), np.exp(-2)])
    assert_close(to_numpy(td.stdp_window(to_torch(dt))), w)
    # B fires at 0 ms and drives A, which fires at 5 ms: 003's answer, "A weakens, B strengthens".
    r = sd.stdp_two_neurons(spikes_a=[5.0], spikes_b=[0.0])
    assert r["synapse_a"] == pytest.approx(-np.exp(-0.25)) and r["synapse_b"] == -r["synapse_a"]
    # A silent A pairs with nothing: under the pair rule neither synapse changes.
    assert sd.stdp_two_neurons(spikes_a=[], spikes_b=[0.0]) == {"synapse_a": 0.0, "synapse_b": 0.0}
    # The mirror case: A before B potentiates synapse A.
    assert sd.stdp_two_neurons(spikes_a=[0.0], spikes_b=[5.0])["synapse_a"] > 0


@pytest.mark.catalog("E12")
def test_anti_hebb_weakens_a_synapse_between_neurons_that_fire_together_down_to_zero():
    both = sd.anti_hebbian_synapse(1.0, 1.0, w0=1.0, lr=0.1, steps=20)
    assert np.all(np.diff(both) <= 0) and both[5] == pytest.approx(0.5) and both[-1] == 0.0
    for pre, post in ((1.0, 0.0), (0.0, 1.0), (0.0, 0.0)):  # one silent neuron: no change
        assert np.all(sd.anti_hebbian_synapse(pre, post) == 1.0)
    hebb = sd.anti_hebbian_synapse(1.0, 1.0, rule="hebbian", steps=10)
    assert hebb[-1] == pytest.approx(2.0)  # the Hebbian rule strengthens the same pair
    for rule in ("anti-hebbian", "hebbian"):
        assert_close(to_numpy(td.anti_hebbian_synapse(0.7, 0.9, rule=rule)),
                     sd.anti_hebbian_synapse(0.7, 0.9, rule=rule))


@pytest.mark.catalog("E13")
def test_a_lif_neurons_rate_is_a_threshold_then_rising_then_saturating_function_of_current():
    current = np.array([0.5, 1.0, 1.2, 2.0, 5.0, 1e4])
    rate = sd.lif_rate(current)
    assert np.all(rate[:2] == 0)  # silent up to the threshold current v_th / R = 1
    assert np.all(np.diff(rate[1:]) > 0)
    assert rate[-1] == pytest.approx(1 / 2.0, rel=1e-3)  # ceiling 1 / t_ref
    # ISI = t_ref + tau ln(RI / (RI - v_th)) by hand for I = 2: 2 + 20 ln 2.
    assert rate[3] == pytest.approx(1 / (2 + 20 * np.log(2)))
    for i in (1.2, 2.0, 5.0):  # the simulated neuron fires at the same rate
        sim = sd.lif_simulated_rate(i, dt=0.01, t_max=500.0)
        r = float(sd.lif_rate(np.array([i]))[0])
        assert abs(sim - r) <= 1 / 500 + 2 * r * r * 0.01
    assert_close(to_numpy(td.lif_rate(to_torch(current))), rate)


@pytest.mark.catalog("E13")
def test_firing_probability_of_a_noisy_threshold_is_a_sigmoid_within_0_0095():
    current = np.linspace(-1.0, 3.0, 4001)
    p = sd.firing_probability(current)
    gap = np.abs(p - sd.logistic_firing_probability(current)).max()
    assert 0.009 < gap < 0.0095  # the classical bound of the 1.702 logistic approximation
    assert_close(to_numpy(td.firing_probability(to_torch(current))), p)
    probe = np.array([0.7, 1.0, 1.2])
    mc = sd.noisy_threshold_trials(probe, 1.0, 0.2, 20000, np.random.default_rng(0))
    expected = sd.firing_probability(probe)
    assert np.all(np.abs(mc - expected) < 4 * np.sqrt(expected * (1 - expected) / 20000) + 1e-9)

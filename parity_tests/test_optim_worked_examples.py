"""The notes' worked examples and claims about single update rules, recomputed (F2-F9, F16-F20).

003's worked examples (F3, F4: one GD step of a linear neuron from its table; F5: the LMS
rule; F6: one SGD step of a sigmoid unit), the GD / SGD machinery behind them (F2, F7, F8,
F9's steady state, F16, F17) and 002/003's claims measured (F18 the bowl, F19 the learning
rate's size, F20 "momentum cannot hurt"). Every number the documents print is recomputed by
scratch and by torch autograd / torch.optim; where the document is wrong the test pins the
computed value and docs/errata.md says why. The optimizer classes themselves are compared
step for step in test_optim.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, to_torch
from parity_tests.test_optim import _closure
from scratch import demonstrations as sd
from scratch import optim as so
from torchref import optim as to

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# ---- (item 4) worked examples of 003: F3, F4, F5, F6 -------------------------------------

X_003 = [10.0, 5.0, 1.0, 8.0, 4.0]
T_PRINTED = [8.5, 3.8, 2.0, 2.0, 5.0]  # the t column of 003's table
T_ARITH = [8.5, 3.8, 2.0, 8.0, 5.0]  # the t its own arithmetic uses: (16 - 8) * 8 = 64


def _torch_grad(x, t, w, bias=None, reduction="mean"):
    """dloss/d(w[, bias]) of `1/2 sum or mean (y - t)^2`, y = w x (+ bias), by autograd."""
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    y = wt * torch.tensor(x, dtype=torch.float64)
    params = [wt]
    if bias is not None:
        bt = torch.tensor(bias, dtype=torch.float64, requires_grad=True)
        y = y + bt
        params = [bt, wt]
    r = y - torch.tensor(t, dtype=torch.float64)
    loss = 0.5 * (r * r).mean() if reduction == "mean" else 0.5 * (r * r).sum()
    return [g.item() for g in torch.autograd.grad(loss, params)]


ROWS_PRINTED = [125.0, 31.0, 0.0, 64.0, 12.0]  # 003's (y_p - t_p) x_p column


@pytest.mark.catalog("F3")
def test_f3_printed_46_4_needs_t4_8_and_a_slip_in_row_1():
    # 003's one-variable GD step (w1 = 2, lambda = 0.01, y = w1 x). The code recomputes the
    # table under both readings of t4; neither reproduces 46.4 (docs/errata.md, F3).
    x = np.array(X_003)[:, None]  # (5, 1): no bias
    results = {}
    for name, t in (("t4=8", T_ARITH), ("t4=2", T_PRINTED)):
        t = np.array(t)
        rows = [(2.0 * xp - tp) * xp for xp, tp in zip(X_003, t, strict=True)]  # by hand
        grad = sd.linear_neuron_loss_grad(np.array([2.0]), x, t)[0]
        assert grad == pytest.approx(sum(rows) / 5, rel=1e-15)
        assert grad == pytest.approx(_torch_grad(X_003, t, 2.0)[0], rel=1e-15)
        w_new = so.gd_update(np.array([2.0]), np.array([grad]), lr=0.01)[0]
        wrong_rows = [i + 1 for i, (r, q) in enumerate(zip(rows, ROWS_PRINTED, strict=True))
                      if r != q]
        results[name] = (grad, w_new, wrong_rows)
    # row 1 is (2*10 - 8.5) * 10 = 115 under any reading; 003 prints 125. Row 4 printed 64
    # = (16 - 8) * 8 needs t4 = 8, while the table's t column says 2.
    assert results["t4=8"][2] == [1] and results["t4=2"][2] == [1, 4]
    assert sum(ROWS_PRINTED) / 5 == pytest.approx(46.4)  # 003's mean of its own rows
    grad, w_new, _ = results["t4=8"]
    assert (round(grad, 1), round(w_new, 2)) == (44.4, 1.56)  # not 46.4 and 1.54
    grad, w_new, _ = results["t4=2"]
    assert (round(grad, 1), round(w_new, 2)) == (54.0, 1.46)


@pytest.mark.catalog("F4")
def test_f4_printed_gradients_come_from_t4_8_and_the_mean_loss():
    # 003 prints dloss/dw0 = 4.74, dloss/dw1 = 38.8 for w0 = -1, w1 = 2; which reading of
    # its data reproduces them? t4 in {2 (table), 8 (F3's arithmetic)} x loss {mean, sum}
    X1 = np.column_stack([np.ones(5), X_003])  # (5, 2): bias column first
    hits = []
    for t_name, t in (("t4=2", T_PRINTED), ("t4=8", T_ARITH)):
        for reduction in ("mean", "sum"):
            g = sd.linear_neuron_loss_grad(np.array([-1.0, 2.0]), X1, np.array(t))
            if reduction == "sum":
                g = g * 5  # 003's general rule sums over D; its examples divide by m
            assert_close(g, np.array(_torch_grad(X_003, t, 2.0, -1.0, reduction)))
            if (round(g[0], 2), round(g[1], 1)) == (4.74, 38.8):
                hits.append((t_name, reduction))
                w = so.gd_update(np.array([-1.0, 2.0]), g, lr=0.01)
                assert (round(w[0], 2), round(w[1], 2)) == (-1.05, 1.61)  # 003's new weights
    assert hits == [("t4=8", "mean")]


@pytest.mark.catalog("F5")
def test_f5_lms_online_pass_matches_torch_sgd_one_example_at_a_time(rng):
    X = np.column_stack([np.ones(12), rng.normal(size=(12, 2))])  # bias folded in
    t, w0 = rng.normal(size=12), rng.normal(size=3)
    w = sd.delta_rule_online(w0, X, t, lr=0.05)
    p = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.05)
    for x_p, t_p in zip(to_torch(X), to_torch(t), strict=True):
        opt.zero_grad()
        (0.5 * (x_p @ p - t_p) ** 2).backward()
        opt.step()
    assert_close(w, p)


@pytest.mark.catalog("F5")
def test_f5_minibatch_lms_step_matches_torch_and_has_one_lambda_not_two(rng):
    X, t, w0 = rng.normal(size=(8, 3)), rng.normal(size=8), rng.normal(size=3)
    lam = 0.3
    w = sd.delta_rule_batch(w0, X, t, lr=lam)
    p = torch.tensor(w0, requires_grad=True)
    (0.5 * torch.nn.functional.mse_loss(to_torch(X) @ p, to_torch(t))).backward()
    torch.optim.SGD([p], lr=lam).step()
    assert_close(w, p)
    # 003's CE slide prints lambda/m sum lambda (t - y) x: that step is lam times too long
    twice = w0 + lam / 8 * (X.T @ (lam * (t - X @ w0)))
    assert not np.allclose(twice, w)
    assert_close(twice - w0, lam * (w - w0))


@pytest.mark.catalog("F5")
def test_f5_lms_settles_on_least_squares_where_the_perceptron_never_settles():
    # XOR with a bias input: not linearly separable (003). The perceptron rule (threshold
    # y) keeps changing w every epoch; the LMS rule (linear y) has a meaningful minimum,
    # the least-squares solution, and settles there.
    X = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]], dtype=float)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    w_lms, w_perc = np.zeros(3), np.zeros(3)
    updates_per_epoch = []
    for _ in range(300):
        w_lms = sd.delta_rule_batch(w_lms, X, t, lr=0.5)
        updates = 0
        for p in range(4):  # example by example, counting the updates the errors cause
            new = sd.delta_rule_online(w_perc, X[p : p + 1], t[p : p + 1], lr=0.5, unit="threshold")
            updates += not np.array_equal(new, w_perc)
            w_perc = new
        updates_per_epoch.append(updates)
    assert_close(w_lms, np.linalg.lstsq(X, t, rcond=None)[0], atol=1e-9)
    assert min(updates_per_epoch[-50:]) >= 1  # every epoch still misclassifies: no rest
    # one example, threshold unit: the same Delta w formula with y = 1{w.x > 0}
    x, w = X[3], np.array([-0.2, 0.5, 0.4])
    assert_close(sd.delta_rule_online(w, x[None], t[3:], lr=0.5, unit="threshold"),
                 w + 0.5 * (0.0 - 1.0) * x)


@pytest.mark.catalog("F6")
def test_f6_one_sgd_step_of_a_sigmoid_unit_matches_torch():
    # 003: w1 = -2, w0 = 1, lambda = 1, example (x = 2, t = 1), cross-entropy
    w = sd.delta_rule_online(np.array([1.0, -2.0]), np.array([[1.0, 2.0]]), np.array([1.0]),
                             lr=1.0, unit="sigmoid")
    unit = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        unit.weight.fill_(-2.0)
        unit.bias.fill_(1.0)
    opt = torch.optim.SGD(unit.parameters(), lr=1.0)
    torch.nn.functional.binary_cross_entropy_with_logits(
        unit(torch.tensor([[2.0]], dtype=torch.float64)), torch.ones(1, 1, dtype=torch.float64)
    ).backward()
    opt.step()
    assert_close(w, np.array([unit.bias.item(), unit.weight.item()]))
    y = 1.0 / (1.0 + math.exp(3.0))  # g(-3) = 0.0474
    assert round(y, 2) == 0.05 and round(1 - y, 2) == 0.95 and round(w[0], 2) == 1.95
    # 003 rounds y to 0.05 before multiplying: Delta w1 = 1.9 and w1 = -0.1 come from that
    assert round(2 * (1 - y), 2) == 1.91 and round(w[1], 2) == -0.09
    assert (1 - 0.05) * 2 == pytest.approx(1.9) and -2 + (1 - 0.05) * 2 == pytest.approx(-0.1)


# ---- F2, F7, F8, F9: the GD / SGD machinery -----------------------------------------------


@pytest.mark.catalog("F2")
def test_f2_batch_gd_matches_torch_full_batch_steps_and_stops_when_the_loss_stops(rng):
    # 003's rule: Delta w_i = -lambda sum_p dloss/dy_p dh/dw_i (a sum over D), epoch by epoch
    X, t = rng.normal(size=(10, 2)), rng.normal(size=10)

    def loss_and_grad(w):  # loss_D = 1/2 sum_p (y_p - t_p)^2, its gradient sums over p
        return 10 * sd.linear_neuron_loss(w, X, t), 10 * sd.linear_neuron_loss_grad(w, X, t)

    path, losses = sd.gradient_descent(loss_and_grad, np.zeros(2), lr=0.02, max_epochs=500,
                                       tol=1e-12)
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.02)
    torch_losses = []
    for _ in range(len(path)):
        opt.zero_grad()
        loss = 0.5 * ((to_torch(X) @ p - to_torch(t)) ** 2).sum()
        torch_losses.append(loss.item())
        loss.backward()
        opt.step()
    assert_close(np.array(torch_losses), losses)
    assert 1 < len(path) - 1 < 500  # the stopping rule fired before max_epochs
    assert losses[-2] - losses[-1] <= 1e-12 < losses[-3] - losses[-2]
    assert np.all(np.diff(losses) <= 0)


@pytest.mark.catalog("F7")
def test_f7_subgradient_sgd_matches_torch_autograd_through_abs(rng):
    X = rng.integers(-3, 4, size=(80, 3)).astype(float)
    w_true = np.array([1.0, -1.0, 2.0])
    y = X @ w_true
    # the first two examples sit exactly on the kink (w = 0, y = 0, x != 0): there the
    # sub-gradient is a choice, and both sides take sign(0) = 0 (w does not move)
    X[:2] = [[1.0, 2.0, -1.0], [0.0, 1.0, 3.0]]
    y[:2] = 0.0
    path = sd.subgradient_sgd(np.zeros(3), X, y, lr=lambda t: 0.1 / (1 + t / 10))
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + t / 10))
    for k, (x_t, y_t) in enumerate(zip(to_torch(X), to_torch(y), strict=True)):
        opt.zero_grad()
        torch.abs(x_t @ p - y_t).backward()
        opt.step()
        sched.step()
        assert_close(p, path[k + 1])
    assert np.all(path[2] == 0.0)
    loss = [np.mean([sd.absolute_loss(w, x, yy) for x, yy in zip(X, y, strict=True)])
            for w in path[[0, -1]]]
    assert loss[1] < 0.1 * loss[0]


@pytest.mark.catalog("F7")
@settings(max_examples=20)
@given(u=st.lists(st.integers(-3, 3), min_size=3, max_size=3),
       x=st.lists(st.integers(-3, 3), min_size=3, max_size=3),
       v=st.lists(st.floats(-5, 5), min_size=3, max_size=3))
def test_f7_sign_choice_is_a_subgradient_also_at_the_kink(u, x, v):
    # f(v) >= f(u) + <g, v - u> for every v (002's definition); integer u, x make
    # w.x - y = 0 (the kink) reachable exactly; y is chosen so that half the cases sit on it
    u, x, v = np.array(u, float), np.array(x, float), np.array(v)
    for y in (float(x @ u), float(x @ u) + 1.0):
        g = sd.absolute_loss_subgradient(u, x, y)
        assert sd.absolute_loss(v, x, y) >= sd.absolute_loss(u, x, y) + g @ (v - u) - 1e-12


@pytest.mark.catalog("F8")
@pytest.mark.parametrize("n, size, drop_last", [(64, 16, False), (50, 16, False), (50, 16, True),
                                                (7, 10, False), (1, 1, False)])
def test_f8_an_epoch_has_ceil_n_over_s_batches_like_dataloader(n, size, drop_last, rng):
    batches = sd.minibatches(n, size, rng, drop_last=drop_last)
    loader = torch.utils.data.DataLoader(range(n), batch_size=size, shuffle=True,
                                         drop_last=drop_last)
    assert len(batches) == len(loader) == (n // size if drop_last else math.ceil(n / size))
    seen = np.concatenate(batches)
    assert len(set(seen.tolist())) == len(seen)  # no example twice in an epoch
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(n))
    if n > 10:  # shuffled: a fresh order every epoch
        assert not np.array_equal(seen, np.concatenate(sd.minibatches(n, size, rng)))


@pytest.mark.catalog("F8")
def test_f8_minibatch_sgd_epochs_match_torch_on_the_same_batches(rng):
    X, t = rng.normal(size=(50, 3)), rng.normal(size=50)
    w, sopt = [np.zeros(3)], so.SGD(0.1)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    for _ in range(3):
        for idx in sd.minibatches(50, 16, rng):
            sopt.step(w, [sd.linear_neuron_loss_grad(w[0], X[idx], t[idx])])
            opt.zero_grad()
            (0.5 * torch.nn.functional.mse_loss(to_torch(X[idx]) @ p, to_torch(t[idx]))).backward()
            opt.step()
            assert_close(p, w[0])


@pytest.mark.catalog("F9")
def test_f9_momentum_step_tends_to_eps_over_one_minus_mu():
    lr, mu, steps = 0.1, 0.9, 300
    m = sd.momentum_steady_state(lr, mu, steps)
    k = np.arange(1, steps + 1)
    assert_close(m, -lr * (1 - mu**k) / (1 - mu))  # the geometric series of 002
    assert m[-1] == pytest.approx(-lr / (1 - mu), rel=1e-12)  # the steady-state step
    # torch on L = w (gradient 1): its steps are -lr v_k, the same sequence
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    steps_torch = []
    for _ in range(steps):
        before = p.item()
        opt.zero_grad()
        p.sum().backward()
        opt.step()
        steps_torch.append(p.item() - before)
    assert_close(np.array(steps_torch), m, rtol=1e-9)  # p accumulates 300 rounded additions


@pytest.mark.catalog("F16")
def test_f16_weight_decay_form_is_torch_sgd_weight_decay_and_shrinks_w_without_gradient(rng):
    w, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    lr, lam = 0.1, 0.5
    new = so.l2_update(w, g, lr=lr, lam=lam)  # (1 - eps lambda) w - eps g, 002's form
    p = to_torch(w, requires_grad=True)
    p.grad = to_torch(g)
    torch.optim.SGD([p], lr=lr, weight_decay=lam).step()  # g + lambda w, then the GD step
    assert_close(new, p)
    ws = [w.copy()]
    so.SGD(lr, weight_decay=lam).step(ws, [g])
    assert_close(ws[0], new)
    # 0 < eps lambda < 1: with no gradient at all, every weight shrinks by (1 - eps lambda)
    assert_close(so.l2_update(w, np.zeros_like(w), lr=lr, lam=lam), (1 - lr * lam) * w)


@pytest.mark.catalog("F17")
def test_f17_l1_update_is_autograd_of_the_l1_penalty_with_sign_0_equal_0(rng):
    w, g = rng.normal(size=6), rng.normal(size=6)
    w[[1, 4]] = 0.0  # the kink: sign(0) = 0 in the notes' rule here and in torch's abs
    lr, lam = 0.1, 0.3
    new = so.l1_update(w, g, lr=lr, lam=lam)
    p = to_torch(w, requires_grad=True)
    (to_torch(g) @ p + lam * p.abs().sum()).backward()  # dL/dw = g, plus lambda sign(w)
    torch.optim.SGD([p], lr=lr).step()
    assert_close(new, p)
    assert new[1] == -lr * g[1] and new[4] == -lr * g[4]
    q = to_torch(w, requires_grad=True)
    q.grad = to_torch(g)
    to.NotesSGD([q], lr=lr, l1=lam).step()
    assert_close(q, new)


# ---- the notes' claims measured: F18, F19, F20 --------------------------------------------


def _bowl():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)) @ np.array([[1.0, 0.5], [0.0, 0.8]])  # an elongated bowl
    w_true = np.array([1.0, -2.0])
    return X, X @ w_true + 0.5 * rng.normal(size=20), X @ w_true, w_true


@pytest.mark.catalog("F18")
def test_f18_linear_neuron_bowl_gd_descends_monotonically_while_sgd_keeps_circling():
    X, t, t_exact, w_true = _bowl()
    H = X.T @ X / len(X)  # the Hessian of the squared error: constant, so a quadratic bowl
    assert np.linalg.eigvalsh(H).min() > 0  # positive definite: one minimum
    w_star = np.linalg.lstsq(X, t, rcond=None)[0]
    w0 = np.array([-2.0, 2.0])

    def loss_and_grad(w):
        return sd.linear_neuron_loss(w, X, t), sd.linear_neuron_loss_grad(w, X, t)

    path, losses = sd.gradient_descent(loss_and_grad, w0, lr=0.7, max_epochs=2000)
    assert np.all(np.diff(losses) <= 0)  # batch GD: every epoch goes down the bowl
    assert np.linalg.norm(path[-1] - w_star) < 1e-6
    # online SGD at a constant rate: the loss goes up about as often as down, and over the
    # last 10 epochs w keeps moving around w* without getting closer than a floor
    sgd = sd.sgd_path(w0, X, t, lr=0.1, epochs=100, rng=np.random.default_rng(1))
    sgd_losses = np.array([sd.linear_neuron_loss(w, X, t) for w in sgd])
    assert np.mean(np.diff(sgd_losses) > 0) > 0.3
    dist = np.linalg.norm(sgd[-200:] - w_star, axis=1)
    assert dist.min() > 1e-3 and dist.max() < 0.5
    # the SGD steps are not along -grad L (the zig-zag): median cosine well below 1
    steps = np.diff(sgd[:200], axis=0)
    grads = np.array([sd.linear_neuron_loss_grad(w, X, t) for w in sgd[:199]])
    cos = -np.sum(steps * grads, axis=1) / (np.linalg.norm(steps, axis=1)
                                            * np.linalg.norm(grads, axis=1))
    assert np.median(cos) < 0.9
    # the claim's limits: without noise (every example shares the minimum) SGD at the same
    # constant rate does converge (docs/errata.md, F18)
    exact = sd.sgd_path(w0, X, t_exact, lr=0.1, epochs=100, rng=np.random.default_rng(1))
    assert np.linalg.norm(exact[-1] - w_true) < 1e-9
    # torch walks the same SGD path (one example per step, same order)
    order = np.random.default_rng(1)
    p = to_torch(w0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    k = 0
    for _ in range(5):
        for i in order.permutation(len(X)):
            opt.zero_grad()
            (0.5 * (to_torch(X[i]) @ p - t[i]) ** 2).backward()
            opt.step()
            k += 1
            assert_close(p, sgd[k])


@pytest.mark.catalog("F19")
@settings(max_examples=18)
@given(k=st.integers(-3, 3),
       c=st.sampled_from([0.05, 0.5, 0.99, 1.0, 1.5, 1.9, 2.0, 2.1, 3.0]))
def test_f19_gd_on_a_quadratic_converges_iff_lr_is_below_two_over_a(k, c):
    # a = 2^k keeps eps * a == c exact in floating point, so c = 2 is exactly the boundary
    a = 2.0**k
    lr, w0, steps = c / a, 1.0, 40
    path, diverged = sd.iterate_until_divergence(lambda w: a * w, np.array([w0]), so.SGD(lr),
                                                 steps=steps)
    assert_close(path[:, 0], sd.quadratic_gd_closed_form(w0, a, lr, len(path) - 1))
    mags = np.abs(path[:, 0])
    assert sd.gd_converges_on_quadratic(a, lr) == (c < 2)
    if c < 2:  # |w| shrinks every step (c = 1 lands on the minimum at once)
        assert np.all((np.diff(mags) < 0) | (mags[1:] == 0.0))
    elif c == 2:
        assert np.allclose(mags, w0)  # oscillates between w0 and -w0 forever
    else:
        assert np.all(np.diff(mags) > 0)  # grows every step: diverges
    if 1 < c < 2 or c > 2:  # overshoots: the sign alternates
        assert np.all(np.sign(path[1:, 0]) == -np.sign(path[:-1, 0]))
    # torch's SGD on a w^2 / 2 walks the same path
    p = torch.tensor([w0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    for k in range(1, len(path)):
        opt.step(_closure(opt, [p], lambda k: 0.5 * a * (p * p).sum(), k))
        assert p.item() == pytest.approx(path[k, 0], rel=1e-12)


@pytest.mark.catalog("F19")
def test_f19_a_tiny_learning_rate_stalls():
    a, lr, steps = 1.0, 1e-4, 1000
    path, _ = sd.iterate_until_divergence(lambda w: a * w, np.array([1.0]), so.SGD(lr),
                                          steps=steps)
    assert path[-1, 0] > 0.9  # 1000 steps later w has not moved 10% of the way
    assert path[-1, 0] == pytest.approx((1 - lr * a) ** steps, rel=1e-12)


@pytest.mark.catalog("F20")
def test_f20_momentum_can_hurt_slower_on_a_quadratic_divergent_on_a_quartic():
    # 002: momentum "sometimes accelerates, sometimes has almost no effect, but it cannot
    # hurt". Two counterexamples (docs/errata.md, F20):
    # (1) a w^2 / 2, a = 1, eps = 1: GD lands on the minimum in one step; mu = 0.9 spirals
    #     in at the rate sqrt(0.9) per step and is still 1e-3 away after 100 steps.
    gd, _ = sd.iterate_until_divergence(lambda w: w, np.array([1.0]), so.SGD(1.0), steps=100)
    mom, _ = sd.iterate_until_divergence(lambda w: w, np.array([1.0]), so.SGD(1.0, 0.9),
                                         steps=100)
    assert gd[1, 0] == 0.0 and np.all(gd[1:] == 0.0)
    assert abs(mom[-1, 0]) > 1e-3
    assert sd.heavy_ball_spectral_radius(1.0, 1.0, 0.9) == pytest.approx(math.sqrt(0.9))
    assert sd.heavy_ball_spectral_radius(1.0, 1.0, 0.0) == pytest.approx(0.0, abs=1e-12)
    # (2) w^4 / 4 from w = 1, eps = 1.5: GD converges (|w| falls every step); momentum 0.9
    #     overshoots into the steep walls and diverges within 5 steps.
    gd, gd_div = sd.iterate_until_divergence(sd.quartic_loss_grad, np.array([1.0]),
                                             so.SGD(1.5), steps=200)
    mom, mom_div = sd.iterate_until_divergence(sd.quartic_loss_grad, np.array([1.0]),
                                               so.SGD(1.5, 0.9), steps=200)
    assert not gd_div and np.all(np.diff(np.abs(gd[:, 0])) < 0) and abs(gd[-1, 0]) < 0.05
    assert mom_div and len(mom) - 1 <= 5
    # torch's SGD(momentum=0.9) diverges at the same step
    p = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.5, momentum=0.9)
    for k in range(1, len(mom)):
        opt.step(_closure(opt, [p], lambda k: (p**4).sum() / 4, k))
        assert p.item() == pytest.approx(mom[k, 0], rel=1e-12)
    assert abs(p.item()) > 1e6

"""Generalization (H1, H2, H4, H5): early stopping vs Lightning's rule and vs torch, ensembles vs
torchref.ensemble.Ensemble, the capacity sweep on digits vs torch.linalg.lstsq, and L1 vs L2
against scikit-learn's Lasso and the ridge closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.linear_model import Lasso

from parity_tests.helpers import assert_close, to_numpy
from scratch.ensemble import (
    EarlyStopping,
    bootstrap_indices,
    capacity_sweep,
    early_stopping_update,
    ensemble_by_architecture,
    ensemble_by_init,
    ensemble_by_subset,
    ensemble_predict,
    regularized_least_squares,
    soft_threshold,
    train_ensemble,
    train_mlp_gd,
    train_with_early_stopping,
)
from scratch.init import init_params
from scratch.mlp import head_loss, mlp_forward
from torchref import ensemble as tens
from torchref.mlp import MLP, load_numpy_params, to_numpy_params

ALPHA = 1e-6


def _digits(n_train, n_val, seed=0):
    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(X))
    tr, va = perm[:n_train], perm[n_train:n_train + n_val]
    return X[tr] / 16.0, y[tr], X[va] / 16.0, y[va]


# ---- H1: early stopping -------------------------------------------------------------------


@pytest.mark.catalog("H1")
@settings(max_examples=30)
@given(
    losses=st.lists(st.integers(0, 32).map(lambda k: k / 8), min_size=1, max_size=25),
    patience=st.integers(1, 4),
    min_delta=st.sampled_from([0.0, 0.25]),
)
def test_early_stopping_rule_matches_lightning_early_stopping_callback(losses, patience, min_delta):
    # Multiples of 1/8: exact in Lightning's float32 tensors and in our float64.
    from lightning.pytorch.callbacks import EarlyStopping as LightningEarlyStopping

    ours = EarlyStopping(patience, min_delta)
    theirs = LightningEarlyStopping(monitor="val_loss", mode="min", patience=patience,
                                    min_delta=min_delta)
    for v in losses:
        ours = early_stopping_update(ours, v)
        should_stop, _ = theirs._evaluate_stopping_criteria(torch.tensor(v))
        assert ours.should_stop == should_stop
        assert ours.wait == theirs.wait_count
        assert ours.best == float(theirs.best_score)
        if should_stop:
            break


@pytest.mark.catalog("H1")
def test_early_stopping_stops_on_a_non_finite_loss():
    state = early_stopping_update(EarlyStopping(patience=5), 1.0)
    assert early_stopping_update(state, float("nan")).should_stop


@pytest.mark.catalog("H1")
def test_early_stopping_on_digits_stops_after_the_validation_loss_turns_up_like_torch():
    X, y, Xv, yv = _digits(60, 300)
    sizes, act, lr, patience = (64, 64, 10), "relu", 1.0, 10
    init = init_params(sizes, "he", np.random.default_rng(1))

    best, state, history = train_with_early_stopping(
        init,
        lambda p: train_mlp_gd(p, X, y, act, "multiclass", lr, epochs=1),
        lambda p: head_loss(mlp_forward(p, Xv, act)[0], yv, "multiclass"),
        max_epochs=300, patience=patience,
    )
    # The rule fired: the loss turned up after its minimum and stayed up for `patience` epochs.
    assert state.should_stop and len(history) < 300
    assert state.epoch == state.best_epoch + patience
    assert np.argmin(history) == state.best_epoch and history[-1] > history.min()
    assert head_loss(mlp_forward(best, Xv, act)[0], yv, "multiclass") == history.min()

    model = load_numpy_params(MLP(sizes, act), init)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Xvt, yvt = torch.from_numpy(Xv), torch.from_numpy(yv)

    def epoch():
        model.zero_grad()
        model.loss(model(Xt), yt).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad

    def val():
        with torch.no_grad():
            return float(model.loss(model(Xvt), yvt))

    result = tens.fit_with_early_stopping(model, epoch, val, max_epochs=300, patience=patience)
    assert_close(np.array(result["history"]), history, rtol=1e-9)  # 50+ epochs of rounding
    assert result["stopped_epoch"] == state.epoch and result["best_epoch"] == state.best_epoch
    for a, b in zip(best, to_numpy_params(model), strict=True):
        assert_close(a, b, rtol=1e-9)


# ---- H2: ensembles ----------------------------------------------------------------------


@pytest.mark.catalog("H2")
def test_bootstrap_sees_one_minus_one_over_e_of_the_rows():
    # Distinct rows U of a bootstrap of n: E U = n(1 - (1-1/n)^n),
    # Var U = n(n-1)(1-2/n)^n + n(1-1/n)^n - n^2 (1-1/n)^(2n) (indicator algebra).
    n, m = 100, 400
    idx = bootstrap_indices(n, m, np.random.default_rng(0))
    U = np.array([np.unique(i).size for i in idx])
    mean = n * (1 - (1 - 1 / n) ** n)
    var = n * (n - 1) * (1 - 2 / n) ** n + n * (1 - 1 / n) ** n - n**2 * (1 - 1 / n) ** (2 * n)
    assert abs(U.mean() - mean) <= stats.norm.isf(ALPHA / 2) * math.sqrt(var / m)
    assert mean / n == pytest.approx(1 - 1 / math.e, abs=2e-3)


ENSEMBLES = {
    "init": lambda: ensemble_by_init((64, 16, 10), 4),
    "subset": lambda: ensemble_by_subset((64, 16, 10), 4, 150, np.random.default_rng(3)),
    "architecture": lambda: ensemble_by_architecture(
        [((64, 16, 10), "relu"), ((64, 32, 10), "tanh"), ((64, 16, 16, 10), "relu"),
         ((64, 8, 10), "sigmoid")]
    ),
}


@pytest.mark.catalog("H2")
@pytest.mark.parametrize("kind", ENSEMBLES)
def test_ensemble_average_matches_torch_ensemble_and_beats_the_average_member(kind):
    X, y, Xv, yv = _digits(150, 300)
    specs = ENSEMBLES[kind]()
    members = train_ensemble(specs, X, y, lr=0.5, epochs=60)
    p = ensemble_predict(members, Xv)
    models = [load_numpy_params(MLP(s.layer_sizes, s.activation), params)
              for s, (params, _) in zip(specs, members, strict=True)]
    assert_close(tens.Ensemble(models)(torch.from_numpy(Xv)), p)
    # Hand average of the members' softmax outputs, one by one.
    probs = [to_numpy(torch.softmax(m(torch.from_numpy(Xv)), 1)) for m in models]
    assert_close(p, sum(probs) / len(probs))
    # The members differ, and averaging probabilities can only lower cross-entropy (Jensen).
    assert not np.allclose(probs[0], probs[1], atol=1e-3)
    def ce(q):
        return -np.mean(np.log(q[np.arange(len(yv)), yv]))

    assert ce(p) < np.mean([ce(q) for q in probs])


# ---- H4: capacity sweep -----------------------------------------------------------------

WIDTHS = [5, 10, 20, 40, 60, 80, 90, 95, 100]  # 100 training rows: interpolation at h + 1 = 100


@pytest.mark.catalog("H4")
def test_capacity_sweep_training_error_falls_while_validation_error_turns_up():
    X, y, Xv, yv = _digits(100, 500)
    r = capacity_sweep(X, y, Xv, yv, WIDTHS, np.random.default_rng(0))
    assert np.all(np.diff(r["train_mse"]) <= 1e-12)  # nested least squares: never rises
    assert r["train_error"][0] > 0.3 and r["train_error"][-1] == 0.0
    best = int(np.argmin(r["val_error"]))
    assert 0 < best < len(WIDTHS) - 1  # under-fits on the left, over-fits on the right
    assert r["val_error"][-1] > r["val_error"][best] + 0.1
    assert r["val_mse"][-1] > 2 * r["val_mse"].min()


@pytest.mark.catalog("H4")
def test_capacity_sweep_matches_torch_lstsq():
    X, y, Xv, yv = _digits(100, 500)
    rng = np.random.default_rng(0)
    W1, b1 = rng.normal(0, math.sqrt(2 / 64), (100, 64)), rng.normal(0, 0.1, 100)
    widths = [5, 20, 60, 90]  # away from h + 1 = 100, where the system is ill-conditioned
    ours = capacity_sweep(X, y, Xv, yv, widths, None, W1=W1, b1=b1)
    theirs = tens.capacity_sweep(*(torch.from_numpy(a) for a in (X, y, Xv, yv)), widths,
                                 torch.from_numpy(W1), torch.from_numpy(b1))
    for key in ("train_error", "val_error"):
        assert np.array_equal(ours[key], to_numpy(theirs[key]))
    # Two LAPACK solvers on a matrix of condition ~1e3..1e5: 1e-8 relative.
    for key in ("train_mse", "val_mse"):
        assert_close(ours[key], theirs[key], rtol=1e-8)


# ---- H5: L1 vs L2 -----------------------------------------------------------------------


def _sparse_problem():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 20))
    w_true = np.zeros(20)
    w_true[[1, 4, 9, 15]] = [2.0, -1.5, 1.0, 0.5]
    return X, X @ w_true + 0.1 * rng.normal(size=200), w_true


LAM, LR, STEPS = 0.1, 0.2, 2000


@pytest.mark.catalog("H5")
def test_l1_proximal_sets_weights_to_exactly_zero_and_matches_sklearn_lasso():
    X, y, w_true = _sparse_problem()
    w = regularized_least_squares(X, y, "l1_proximal", LAM, LR, STEPS)
    # Lasso minimizes 1/(2N)||y - Xw||^2 + alpha ||w||_1: the same objective with alpha = lam.
    lasso = Lasso(alpha=LAM, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y)
    assert np.array_equal(w == 0, lasso.coef_ == 0)
    assert_close(w, lasso.coef_, atol=1e-8)
    assert np.sum(w == 0) >= 12 and np.all(w[w_true != 0] != 0)


@pytest.mark.catalog("H5")
def test_l2_shrinks_every_weight_but_zeroes_none_like_the_ridge_closed_form():
    X, y, _ = _sparse_problem()
    w = regularized_least_squares(X, y, "l2", LAM, LR, STEPS)
    N = X.shape[0]
    ridge = np.linalg.solve(X.T @ X / N + LAM * np.eye(20), X.T @ y / N)  # closed form
    assert_close(w, ridge, rtol=1e-9, atol=1e-12)
    w_ls = regularized_least_squares(X, y, "none", 0.0, LR, STEPS)
    assert np.sum(w == 0) == 0
    assert np.linalg.norm(w) < np.linalg.norm(w_ls)


@pytest.mark.catalog("H5")
def test_the_notes_l1_subgradient_update_hovers_near_zero_but_never_reaches_it():
    """Errata H5: the notes' L1 update w - eps (dL/dw + lambda sign(w)) makes no exact zeros."""
    X, y, w_true = _sparse_problem()
    w_sub = regularized_least_squares(X, y, "l1_subgradient", LAM, LR, STEPS)
    w_prox = regularized_least_squares(X, y, "l1_proximal", LAM, LR, STEPS)
    off = w_true == 0
    assert np.sum(w_sub == 0) == 0 and np.sum(w_prox == 0) == np.sum(off) == 16
    # For a weight the Lasso removes, |dL/dw_j| <= lam (its optimality condition), so each
    # sub-gradient step moves it by lr |g_j +- lam| <= 2 lr lam = 0.04: it keeps jumping across
    # 0 inside that band and never settles, while the proximal iterate is a fixed point.
    assert np.max(np.abs(w_sub[off])) <= 2 * LR * LAM
    sub_next = regularized_least_squares(X, y, "l1_subgradient", LAM, LR, 1, w0=w_sub)
    prox_next = regularized_least_squares(X, y, "l1_proximal", LAM, LR, 1, w0=w_prox)
    assert np.max(np.abs(sub_next - w_sub)[off]) > 0.5 * LR * LAM
    assert np.max(np.abs(prox_next - w_prox)) < 1e-12
    # The weights that matter agree to within the same band.
    assert np.max(np.abs(w_sub - w_prox)[~off]) < 2 * LR * LAM


@pytest.mark.catalog("H5")
@pytest.mark.parametrize("penalty", ["none", "l2", "l1_subgradient", "l1_proximal"])
def test_regularized_least_squares_matches_torch_autograd_and_softshrink(penalty):
    X, y, _ = _sparse_problem()
    steps = 300
    ours = regularized_least_squares(X, y, penalty, LAM, LR, steps)
    theirs = tens.regularized_least_squares(torch.from_numpy(X), torch.from_numpy(y), penalty,
                                            LAM, LR, steps)
    assert_close(ours, theirs, rtol=1e-9, atol=1e-12)  # 300 steps of rounding
    if penalty == "l1_proximal":
        assert np.array_equal(ours == 0, to_numpy(theirs) == 0)


@pytest.mark.catalog("H5")
def test_soft_threshold_is_torch_softshrink(rng):
    w = rng.normal(size=50)
    assert_close(soft_threshold(w, 0.3), torch.nn.functional.softshrink(torch.from_numpy(w), 0.3))


@pytest.mark.catalog("H5")
def test_torch_l2_path_is_sgd_weight_decay():
    X, y, _ = _sparse_problem()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(20, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=LR, weight_decay=LAM)
    for _ in range(50):
        opt.zero_grad()
        (0.5 * (Xt @ w - yt).pow(2).mean()).backward()
        opt.step()
    assert_close(tens.regularized_least_squares(Xt, yt, "l2", LAM, LR, 50), w.detach())


# ---- errors -------------------------------------------------------------------------------


def test_generalization_bad_input_is_a_clear_error(rng):
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    with pytest.raises(ValueError, match="unknown penalty 'l3'; valid choices"):
        regularized_least_squares(X, y, "l3", 0.1, 0.1, 10)
    with pytest.raises(ValueError, match="unknown penalty 'l3'; valid choices"):
        tens.regularized_least_squares(torch.zeros(5, 3), torch.zeros(5), "l3", 0.1, 0.1, 10)
    with pytest.raises(ValueError, match=r"y must have one entry per row of X, got y\(4,\)"):
        regularized_least_squares(X, y[:4], "l2", 0.1, 0.1, 10)
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\), got 0.0"):
        regularized_least_squares(X, y, "l2", 0.1, 0.0, 10)
    with pytest.raises(ValueError, match="patience must be an integer >= 1, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match=r"min_delta must be in \[0, inf\), got -1.0"):
        EarlyStopping(min_delta=-1.0)
    with pytest.raises(ValueError, match="members must hold at least one"):
        ensemble_predict([], X)
    with pytest.raises(ValueError, match="members must hold at least one model"):
        tens.Ensemble([])
    with pytest.raises(ValueError, match="n_members must be an integer >= 1, got 0"):
        bootstrap_indices(10, 0, rng)
    with pytest.raises(ValueError, match="unknown head 'ordinal'"):
        tens.Ensemble([MLP((3, 2))], head="ordinal")
    with pytest.raises(ValueError, match=r"t must be in \[0, inf\), got -0.1"):
        soft_threshold(X, -0.1)

"""Library functions refuse bad input clearly, or compute the right number (issue 11).

Each test names an input that passed silently, gave NaN, or gave a wrong number before:
functional updaters that reshaped a parameter or took lr = -1, init shapes that were
truncated, batch norm of an empty batch (NaN) or at +-1e200 (0 with an overflow warning),
a zero-width softmax (NumPy's "zero-size array" error), the perceptron command line that
grew without bound. The scratch/torch pairs of the same checks are in test_error_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratch import autoencoders as sae
from scratch import classic as sc
from scratch import init as sinit
from scratch import normalization as snorm
from scratch import optim as so
from scratch.activations import softmax
from torchref import autoencoders as tae
from torchref import classic as tc
from torchref import mlp as tmlp

W, G, Z = np.ones(3), np.full(3, 0.5), np.zeros(3)

# (rule, keyword arguments that are valid); each test breaks one thing
RULES = {
    "gd_update": (lambda w, g, **kw: so.gd_update(w, g, **kw), {"lr": 0.1}),
    "l2_update": (lambda w, g, **kw: so.l2_update(w, g, **kw), {"lr": 0.1, "lam": 0.01}),
    "l1_update": (lambda w, g, **kw: so.l1_update(w, g, **kw), {"lr": 0.1, "lam": 0.01}),
    "momentum_update": (lambda w, g, **kw: so.momentum_update(w, g, Z, **kw),
                        {"lr": 0.1, "mu": 0.9}),
    "nesterov_update": (lambda w, g, **kw: so.nesterov_update(w, g, Z, **kw),
                        {"lr": 0.1, "mu": 0.9}),
    "adagrad_update": (lambda w, g, **kw: so.adagrad_update(w, g, Z, **kw),
                       {"lr": 0.1, "eps0": 1e-8}),
    "rmsprop_update": (lambda w, g, **kw: so.rmsprop_update(w, g, Z, **kw),
                       {"lr": 0.1, "beta": 0.9, "eps0": 1e-8}),
    "adam_update": (lambda w, g, **kw: so.adam_update(w, g, Z, Z, 1, **kw),
                    {"lr": 0.1, "beta1": 0.999, "beta2": 0.9, "eps0": 1e-8}),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_update_rules_refuse_a_gradient_of_another_shape_instead_of_broadcasting(name):
    rule, kw = RULES[name]
    with pytest.raises(ValueError, match=r"w and dw(_ahead)? must have the same shape, "
                                         r"got w\(3,\) and dw(_ahead)?\(2, 3\)"):
        rule(W, np.ones((2, 3)), **kw)


@pytest.mark.parametrize("name", sorted(RULES))
def test_update_rules_refuse_a_nan_gradient(name):
    rule, kw = RULES[name]
    with pytest.raises(ValueError, match=r"must be finite, got 1 NaN/inf value\(s\)"):
        rule(W, np.array([0.5, np.nan, 0.5]), **kw)


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("lr", [-0.1, np.inf, np.nan])
def test_update_rules_refuse_a_negative_or_non_finite_learning_rate(name, lr):
    rule, kw = RULES[name]
    with pytest.raises(ValueError, match=r"Invalid learning rate: .*; lr must be in \[0, inf\)"):
        rule(W, G, **{**kw, "lr": lr})


@pytest.mark.parametrize("name", ["momentum_update", "nesterov_update"])
def test_momentum_rules_refuse_mu_at_or_above_one(name):
    rule, kw = RULES[name]
    with pytest.raises(ValueError, match=r"Invalid momentum value: 1.5; mu must be in \[0, 1\)"):
        rule(W, G, **{**kw, "mu": 1.5})


@pytest.mark.parametrize("name", sorted(RULES))
def test_update_rules_still_compute_their_formula(name):
    rule, kw = RULES[name]
    out = rule(W, G, **kw)
    w_new = out[0] if isinstance(out, tuple) else out
    assert w_new.shape == W.shape and np.all(w_new < W)  # a descent step along +g


def test_a_gradient_step_written_into_the_parameter_keeps_working():
    w = np.ones(3)
    so.gd_update(w, G, lr=0.1, out=w)  # the in-place form the optimizer classes use
    np.testing.assert_array_equal(w, np.full(3, 0.95))


def test_adam_at_an_overflowing_gradient_leaves_the_entry_unmoved_as_torch_does():
    # Not a fix but the documented behaviour (scratch.optim.adam_update): 1e200^2 = inf in
    # float64, so alpha = inf and the step lr * m_hat / sqrt(alpha_hat) is 0, in
    # torch.optim.Adam as here; moving by lr would need a state torch does not keep.
    g = np.array([1e200, -1e200, 1.0])
    with pytest.warns(RuntimeWarning, match="overflow"):  # NumPy says so; torch is silent
        w, m, alpha = so.adam_update(np.zeros(3), g, Z, Z, 1, lr=0.1, beta1=0.999, beta2=0.9,
                                     eps0=1e-8)
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    p.grad = torch.tensor(g)
    opt.step()
    theirs = p.detach().numpy()
    assert w[0] == w[1] == theirs[0] == theirs[1] == 0.0
    assert w[2] == pytest.approx(-0.1, rel=1e-7) and theirs[2] == pytest.approx(-0.1, rel=1e-7)
    assert np.isinf(alpha[:2]).all() and torch.isinf(opt.state[p]["exp_avg_sq"][:2]).all()


# ---- init -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2.7, 3), (2, 3.0), (0, 3), (2,), "23", (2, 3, 1)])
def test_init_weight_refuses_a_shape_it_would_truncate(shape):
    with pytest.raises(ValueError, match=r"shape"):
        sinit.init_weight(shape, "he", np.random.default_rng(0))


@pytest.mark.parametrize("dtype", [int, np.int32, bool, "U3"])
def test_init_weight_refuses_a_non_floating_dtype(dtype):
    with pytest.raises(TypeError, match=r"dtype must be a floating-point dtype"):
        sinit.init_weight((2, 3), "he", np.random.default_rng(0), dtype=dtype)


def test_init_weight_still_draws_floats_of_the_asked_dtype():
    W = sinit.init_weight((np.int64(2), 3), "he", np.random.default_rng(0), dtype=np.float32)
    assert W.shape == (2, 3) and W.dtype == np.float32


# ---- batch norm -----------------------------------------------------------------------------


def _bn(x, state=None, training=True):
    C = x.shape[1]
    return snorm.batchnorm_forward(x, np.ones(C, x.dtype), np.zeros(C, x.dtype), state, training)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_of_an_empty_batch_is_refused_not_nan(training):
    with pytest.raises(ValueError, match=r"x must not be empty, got shape \(0, 3\)"):
        _bn(np.zeros((0, 3)), snorm.RunningStats.init(3), training)


@pytest.mark.parametrize(("dtype", "big"), [(np.float64, 1e200), (np.float32, 1e20)])
def test_batchnorm_normalizes_values_whose_squares_overflow(dtype, big, rng):
    # The variance of +-1e200 overflows float64; x_hat does not depend on the scale (eps
    # scaled with it), so it must equal the x_hat of the same batch divided by 1e-10 * big.
    base = rng.standard_normal((6, 2)).astype(dtype)
    out, cache, _ = _bn(base * dtype(big))
    reference, _, _ = _bn(base * dtype(1e10))  # var ~ 1e20 >> eps: eps is negligible too
    assert np.all(np.isfinite(out)) and out.dtype == dtype
    np.testing.assert_allclose(out, reference, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert np.all(np.isfinite(cache["inv_std"])) and np.all(cache["inv_std"] > 0)


def test_batchnorm_at_plus_minus_1e200_gives_plus_minus_one():
    out, _, _ = _bn(np.array([[1e200], [-1e200]]))
    np.testing.assert_allclose(out, [[1.0], [-1.0]], rtol=1e-15)


def test_batchnorm_refuses_running_statistics_that_cannot_hold_the_variance():
    with pytest.raises(ValueError, match=r"x's batch variance overflows float64 .*rescale x"):
        _bn(np.array([[1e200], [-1e200]]), snorm.RunningStats.init(1))


def test_batchnorm_backward_through_an_overflowing_batch_is_finite(rng):
    x = rng.standard_normal((5, 2)) * 1e200
    out, cache, _ = _bn(x)
    dx, dgamma, dbeta = snorm.batchnorm_backward(rng.standard_normal((5, 2)), cache)
    assert all(np.all(np.isfinite(a)) for a in (dx, dgamma, dbeta))


# ---- softmax, autoencoder config ------------------------------------------------------------


def test_softmax_of_zero_width_names_the_axis():
    with pytest.raises(ValueError, match=r"z must have at least one entry along axis -1 .*"
                                         r"got shape \(2, 0\)"):
        softmax(np.zeros((2, 0)))
    assert softmax(np.zeros((0, 3))).shape == (0, 3)  # no rows is fine


def test_torch_autoencoder_takes_scratchs_config_object():
    config = sae.AEConfig((6, 3, 6), sparsity="l1", beta=0.1, hidden_dropout=0.2)
    ae = tae.Autoencoder(config)
    assert ae.config is config and (ae.sizes, ae.beta, ae.hidden_dropout) == ((6, 3, 6), 0.1, 0.2)
    assert tae.Autoencoder((6, 3, 6), "sigmoid", "sigmoid", "bce").config == sae.AEConfig((6, 3, 6))
    with pytest.raises(TypeError, match="an AEConfig or the fields of one, not both"):
        tae.Autoencoder(config, sparsity="kl")


@pytest.mark.parametrize("dtype", [torch.int64, torch.float64, torch.bool])
@pytest.mark.parametrize("model", [lambda: tmlp.MLP([3, 4, 2]), lambda: tae.Autoencoder((3, 2, 3))],
                         ids=["MLP", "Autoencoder"])
def test_torch_models_name_an_input_of_another_dtype_than_their_weights(model, dtype):
    # torch says "mat1 and mat2 must have the same dtype" or "not implemented for 'Long'"
    expected = (r"^x must be a floating-point tensor of the model's dtype float32, "
                rf"got dtype {str(dtype)[6:]}$")
    with pytest.raises(TypeError, match=expected):
        model()(torch.zeros(2, 3, dtype=dtype))


# ---- the perceptron command line ------------------------------------------------------------


def test_cli_refuses_max_epochs_above_its_bound_with_exit_status_2(capsys):
    with pytest.raises(SystemExit) as exc:
        tc.main(["perceptron-xor", "--max-epochs", "100000"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("--max-epochs must be an integer in [1, 10000], got 100000")


@pytest.mark.parametrize("train", [sc.perceptron_train, tc.perceptron_train], ids=["np", "torch"])
def test_a_trace_limited_to_its_printed_rows_keeps_every_count(train):
    X = np.array([[1.0, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]])
    t = np.array([0.0, 1, 1, 0])
    args = (X, t, np.zeros(3)) if train is sc.perceptron_train else tuple(
        torch.tensor(a) for a in (X, t, np.zeros(3)))
    full = train(*args, max_epochs=50)
    short = train(*args, max_epochs=50, max_rows=3)
    assert len(full.trace) == 200 and len(short.trace) == 3
    assert (short.epochs, short.n_updates, short.updates_per_epoch, short.message) == (
        full.epochs, full.n_updates, full.updates_per_epoch, full.message)


def test_a_converged_run_counts_its_presentations_even_when_the_trace_is_cut():
    kw = sc.and_exercise()
    full, short = sc.perceptron_train(**kw), sc.perceptron_train(**kw, max_rows=0)
    assert full.converged and short.trace == ()
    assert short.message == full.message and f"({len(full.trace)} presentations" in full.message
